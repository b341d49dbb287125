# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""11 embeddings: token embeddings and the three ways to tell a model where a token is.

An ``Embedding`` is a table of V rows of D numbers, one row per token id: its forward is a
gather (``weight[ids]``), its backward a scatter-add (each row receives the sum of the gradients
of the positions that read it). Written as ``one_hot(ids) @ weight`` it is the same function,
but the one-hot matrix has N·V entries: for GPT-2's V = 50,257 that is 200 KB per token in
float32. Positions come in three kinds: fixed sinusoidal encodings (Vaswani et al., 2017), a
learned ``PositionalEmbedding`` (GPT-2), and rotary position embeddings (RoPE, Su et al., 2021),
which rotate queries and keys so that their dot product depends only on relative position.

Shapes (one vocabulary): V the vocabulary (rows of the table), D the embedding (or head)
dimension, N any number of ids (the ids' shape, e.g. (B, T)), B batch, H heads, T positions.
"""

from __future__ import annotations

import numbers

import numpy as np

from tinytorch.autograd import Function, Tensor
from tinytorch.layers import Module, Parameter, generator
from tinytorch.tensor import shown, type_name

# --- given: checks --------------------------------------------------------------------------


def check_size(op: str, what: str, value, minimum: int = 1) -> int:
    """Given: ``value`` as an int ``>= minimum``, or ValueError.

    ``"Embedding: num_embeddings must be an integer >= 1, got 0"`` (a bool, a float, a string too;
    the value as 01's given ``shown`` writes it).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{op}: {what} must be an integer >= {minimum}, got {shown(value)}")
    return int(value)


def check_dtype(op: str, dtype) -> np.dtype:
    """Given: ``dtype`` as a floating NumPy dtype.

    Raises TypeError ``"Embedding: dtype must be floating-point, got int64"``; None too (NumPy
    would read it as float64) and what NumPy cannot read as a dtype: ``got None``, ``got 'x'``.
    """
    if dtype is None:
        raise TypeError(f"{op}: dtype must be floating-point, got None")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype must be floating-point, got {shown(dtype)}") from None
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be floating-point, got {dtype}")
    return dtype


def check_base(op: str, base) -> float:
    """Given: ``base`` as a float > 1, or ValueError ``"rope: base must be a real number > 1, got 1.0"``."""
    if isinstance(base, (bool, np.bool_)) or not isinstance(base, numbers.Real) or not base > 1:
        raise ValueError(f"{op}: base must be a real number > 1, got {shown(base)}")
    return float(base)


def check_ids(op: str, ids, num_embeddings: int) -> np.ndarray:
    """Given: the ids as an integer ndarray, each in ``[0, num_embeddings)``; any shape N.

    ``ids`` is an ndarray or a Tensor (its array is used) of an integer dtype. Raises
    TypeError ``"Embedding: ids must be an ndarray or a Tensor, got list"`` and
    ``"Embedding: ids must have an integer dtype, got float32"`` (a float holding whole numbers
    and a bool too); ValueError naming the FIRST bad id in row-major order and the table size:
    ``"Embedding: ids must be in [0, 10) for a table of num_embeddings=10 rows, got 12 at index (1, 0)"``
    (a negative id too: NumPy would silently read row V - 1 for -1).
    """
    if isinstance(ids, Tensor):
        ids = ids.data
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{op}: ids must be an ndarray or a Tensor, got {type_name(ids)}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: ids must have an integer dtype, got {ids.dtype}")
    bad = (ids < 0) | (ids >= num_embeddings)
    if bad.any():
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), ids.shape))
        raise ValueError(
            f"{op}: ids must be in [0, {num_embeddings}) for a table of num_embeddings={num_embeddings} rows, "
            f"got {ids[where]} at index {where}"
        )
    return ids


# --- step 1: the gather and its scatter-add ---------------------------------------------------


class EmbeddingFunction(Function):
    """Rows of a table as one autograd node: ``EmbeddingFunction.apply(weight, ids=ids)``.

    ``weight`` is the Tensor (V, D); ``ids`` an integer ndarray of any shape N, every id in
    ``[0, V)`` (checked by the caller), passed as a keyword option: it is not differentiated.
    The output is ``weight[ids]``, shape (*N, D).
    """

    @staticmethod
    def forward(ctx, weight: np.ndarray, *, ids: np.ndarray) -> np.ndarray:
        """The gather ``out[n] = weight[ids[n]]`` for every index n of ids; saves ids only.

        Args:
            weight: (V, D), floating.
            ids: integer ndarray, shape N (any, 0-d and empty included), each in [0, V).
        Returns:
            (*N, D), weight's dtype, a new array (a copy, not a view of the table).
        Complexity:
            O(N·D) time; memory: the output, N·D·itemsize. The backward needs no weight, so
            only ids are saved.
        Example:
            >>> EmbeddingFunction.forward(Function(), np.arange(6.0).reshape(3, 2), ids=np.array([2, 0, 2]))
            array([[4., 5.],
                   [0., 1.],
                   [4., 5.]])
        """
        raise NotImplementedError(
            "11 embeddings: implement EmbeddingFunction.forward — see exercises/11_embeddings/README.md, step 1"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """dL/dweight[v] = Σ_{n : ids[n] = v} grad[n]: a scatter-add; a repeated id accumulates.

        Args:
            grad: (*N, D), the output's gradient.
        Returns:
            (V, D), in the weight's dtype, no float64 accumulator: zeros in every row no id read.
        Complexity:
            O(V·D + N·D) time; memory: the (V, D) gradient, nothing of size N·V (no one-hot).
        """
        raise NotImplementedError(
            "11 embeddings: implement EmbeddingFunction.backward — see exercises/11_embeddings/README.md, step 1"
        )


# --- step 2: the Embedding layer --------------------------------------------------------------


class Embedding(Module):
    """A lookup table of ``num_embeddings`` rows of ``embedding_dim`` numbers (PyTorch's nn.Embedding)."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, *, rng: np.random.Generator | None = None, dtype=np.float32
    ) -> None:
        """Create ``weight``, a Parameter (V, D) drawn from N(0, 1), PyTorch's init.

        The values are drawn in float64 (``rng.standard_normal((V, D))``) and converted to
        ``dtype``, so the same generator gives the same table, up to rounding, in any dtype.
        Keeps ``num_embeddings`` and ``embedding_dim``.

        Args:
            num_embeddings: V, an integer >= 1 (not a bool).
            embedding_dim: D, an integer >= 1.
            rng: a ``np.random.Generator`` or None (04's ``generator``); an int seed is refused.
            dtype: of the table, floating-point.
        Raises:
            ValueError: ``"Embedding: num_embeddings must be an integer >= 1, got 0"`` (the given
                ``check_size``; embedding_dim alike).
            TypeError: ``"Embedding: rng must be a np.random.Generator or None, got int (...)"``;
                ``"Embedding: dtype must be floating-point, got int64"`` (the given ``check_dtype``).
        Complexity:
            The table is V·D·itemsize bytes: V·D parameters, for GPT-2's V = 50,257 and D = 768,
            38.6 million, 154 MB in float32.
        Example:
            >>> Embedding(10, 3).weight.shape
            (10, 3)
        """
        raise NotImplementedError(
            "11 embeddings: implement Embedding.__init__ — see exercises/11_embeddings/README.md, step 2"
        )

    def forward(self, ids) -> Tensor:
        """The rows ``weight[ids]``, through ``EmbeddingFunction`` (in the graph).

        Args:
            ids: an integer ndarray or Tensor of any shape N, e.g. (B, T), each in [0, V).
        Returns:
            Tensor (*N, D), the table's dtype.
        Raises:
            The given ``check_ids``'s errors (op ``"Embedding"``), before any work:
            ``"Embedding: ids must be in [0, 10) for a table of num_embeddings=10 rows, got 12 at
            index (1, 0)"``; ``"Embedding: ids must have an integer dtype, got float64"``.
        Complexity:
            Forward O(N·D), memory the output. Backward O(V·D + N·D), memory the (V, D)
            gradient: never an (N, V) one-hot.
        Example:
            >>> Embedding(10, 3)(np.array([[1, 2], [3, 1]])).shape
            (2, 2, 3)
        """
        raise NotImplementedError(
            "11 embeddings: implement Embedding.forward — see exercises/11_embeddings/README.md, step 2"
        )


# --- step 3: sinusoidal positional encodings --------------------------------------------------


def sinusoidal_positions(T: int, D: int, *, base: float = 10000.0, dtype=np.float32) -> np.ndarray:
    """The fixed encodings of positions 0 .. T-1 (Vaswani et al., 2017; PyTorch's tutorial).

    ``PE[t, 2i] = sin(t · ω_i)`` and ``PE[t, 2i + 1] = cos(t · ω_i)``, with ``ω_i = base^(−2i/D)``:
    even columns sin, odd columns cos, one frequency per pair of columns, from 1 (columns 0, 1)
    down to about 1/base. An odd D ends with a sin column. Added to token embeddings
    (``x + Tensor(PE)``), they are constants: nothing is learned.

    Args:
        T: the number of positions, an integer >= 0.
        D: the embedding dimension, an integer >= 1.
        base: a real number > 1 (10000 in the paper).
        dtype: of the result, floating-point; computed in float64, then converted.
    Returns:
        ndarray (T, D) of ``dtype``, every value in [−1, 1].
    Raises:
        ValueError: ``"sinusoidal_positions: T must be an integer >= 0, got -1"``;
            ``"sinusoidal_positions: D must be an integer >= 1, got 0"``;
            ``"sinusoidal_positions: base must be a real number > 1, got 1.0"``.
        TypeError: ``"sinusoidal_positions: dtype must be floating-point, got int64"``.
    Complexity:
        O(T·D) time; memory: a (T, D) float64 array of angles and the result.
    Example:
        >>> sinusoidal_positions(2, 4, dtype=np.float64).round(4).tolist()
        [[0.0, 1.0, 0.0, 1.0], [0.8415, 0.5403, 0.01, 1.0]]
    """
    raise NotImplementedError(
        "11 embeddings: implement sinusoidal_positions — see exercises/11_embeddings/README.md, step 3"
    )


# --- step 4: a learned positional embedding ---------------------------------------------------


class PositionalEmbedding(Module):
    """One learned vector per position 0 .. max_len-1 (GPT-2's ``wpe``): an Embedding of positions."""

    def __init__(self, max_len: int, dim: int, *, rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        """Create ``weight``, a Parameter (max_len, dim) from N(0, 1), as ``Embedding`` does.

        Keeps ``max_len`` and ``dim``.

        Args:
            max_len: the number of positions, an integer >= 1.
            dim: D, an integer >= 1.
            rng: a ``np.random.Generator`` or None (04's ``generator``).
            dtype: floating-point.
        Raises:
            ValueError: ``"PositionalEmbedding: max_len must be an integer >= 1, got 0"`` (dim alike).
            TypeError: ``"PositionalEmbedding: rng must be a np.random.Generator or None, got int (...)"``;
                ``"PositionalEmbedding: dtype must be floating-point, got int64"``.
        Complexity:
            max_len·D·itemsize bytes (GPT-2: 1024·768·4 = 3.1 MB, 2% of its token table).
        Example:
            >>> PositionalEmbedding(16, 4).weight.shape
            (16, 4)
        """
        raise NotImplementedError(
            "11 embeddings: implement PositionalEmbedding.__init__ — see exercises/11_embeddings/README.md, step 4"
        )

    def forward(self, T: int, offset: int = 0) -> Tensor:
        """The vectors of positions ``offset .. offset + T − 1``: ``weight[offset : offset + T]``.

        Goes through ``EmbeddingFunction`` with ids ``np.arange(offset, offset + T)``, so the
        rows read receive their gradients. ``offset`` is where a sequence starts: 0 for a whole
        sequence, the number of tokens already cached when generating one token at a time.

        Args:
            T: the number of positions, an integer >= 0 (not a bool, not a float such as 2.0).
            offset: the first position, an integer >= 0 (alike).
        Returns:
            Tensor (T, D), the table's dtype, in the graph; add it to token embeddings
            (B, T, D), over which it broadcasts.
        Raises:
            ValueError: ``"PositionalEmbedding: T must be an integer >= 0, got -1"`` (offset
                alike; ``got 2.0``, ``got True`` for a float or a bool);
                ``"PositionalEmbedding: offset + T must be at most max_len=16, got 20"``.
        Complexity:
            O(T·D); memory: the output.
        Example:
            >>> PositionalEmbedding(16, 4)(5, 3).shape
            (5, 4)
        """
        raise NotImplementedError(
            "11 embeddings: implement PositionalEmbedding.forward — see exercises/11_embeddings/README.md, step 4"
        )


# --- step 5: rotary position embeddings ------------------------------------------------------


def rope_angles(T: int, D: int, offset: int = 0, base: float = 10000.0) -> tuple[np.ndarray, np.ndarray]:
    """Given: ``(cos, sin)`` of the angles ``m · θ_i``, m = offset .. offset + T − 1, θ_i = base^(−2i/D).

    Both (T, D/2) float64, i = 0 .. D/2 − 1. NOTE: float64, even for float32 queries: at
    position m = 10⁵ a float32 angle is off by up to m · 2⁻²⁴ ≈ 6e-3 radians.
    """
    theta = float(base) ** (-2.0 * np.arange(D // 2) / D)  # (D/2,)
    angles = np.arange(offset, offset + T, dtype=np.float64)[:, None] * theta  # (T, 1) · (D/2,) -> (T, D/2)
    return np.cos(angles), np.sin(angles)


class RoPEFunction(Function):
    """Rotate each pair (x[2i], x[2i+1]) of every vector at position m by the angle m·θ_i."""

    @staticmethod
    def forward(ctx, x: np.ndarray, *, offset: int, base: float) -> np.ndarray:
        """``y[2i] = x[2i]·cos − x[2i+1]·sin``, ``y[2i+1] = x[2i]·sin + x[2i+1]·cos`` (angle m·θ_i).

        x is (..., T, D) with D even, position m = offset + t for row t. Saves cos and sin,
        (T, D/2) in x's dtype, for the backward.
        """
        raise NotImplementedError(
            "11 embeddings: implement RoPEFunction.forward — see exercises/11_embeddings/README.md, step 5"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """dL/dx = Rᵀ g: the same pairs rotated by −m·θ_i (a rotation's transpose is its inverse)."""
        raise NotImplementedError(
            "11 embeddings: implement RoPEFunction.backward — see exercises/11_embeddings/README.md, step 5"
        )


def rope(x: Tensor, offset: int = 0, base: float = 10000.0) -> Tensor:
    """Rotary position embeddings for queries or keys (Su et al., 2021): a differentiable rotation.

    Pairing convention: ADJACENT pairs. For each vector x at position m and each i < D/2, the
    pair (x[2i], x[2i+1]) is rotated by the angle m·θ_i, θ_i = base^(−2i/D):

        y[2i]     = x[2i]·cos(m·θ_i) − x[2i+1]·sin(m·θ_i)
        y[2i + 1] = x[2i]·sin(m·θ_i) + x[2i+1]·cos(m·θ_i)

    (the RoFormer paper's and Meta's LLaMA code's convention; GPT-NeoX and Hugging Face's LLaMA
    pair x[i] with x[i + D/2] instead, a permutation of the dimensions). Positions run along
    the second-to-last axis: row t is position ``m = offset + t``. So every vector keeps its
    norm, and ⟨rope(q at m), rope(k at n)⟩ depends on q, k and m − n only.

    Args:
        x: Tensor (B, H, T, D) (any leading dimensions: (..., T, D), at least 2 dimensions),
            floating, D even.
        offset: the position of row 0, an integer >= 0, not a bool nor a float (the number of
            cached tokens, kata 17).
        base: a real number > 1.
    Returns:
        Tensor of x's shape and dtype, in the graph (through ``RoPEFunction``). The angles are
        computed in float64 (the given ``rope_angles``), their cos and sin then converted to x's dtype.
    Raises:
        TypeError: ``"rope: input must be a Tensor, got ndarray"``;
            ``"rope: input must have a floating dtype, got int64"``.
        ValueError: ``"rope: input must have at least 2 dimensions (T, D), got (4,)"``;
            ``"rope: the last dimension D must be even, got (2, 3, 4, 5)"``;
            ``"rope: offset must be an integer >= 0, got -1"`` (``got 1.5``, ``got True`` alike);
            ``"rope: base must be a real number > 1, got 1.0"``.
    Complexity:
        O(B·H·T·D) time; memory: the output, and cos and sin (T, D/2) each, kept for the backward.
    Example:
        >>> rope(Tensor(np.array([[1.0, 0.0], [1.0, 0.0]])), offset=1).numpy().round(4).tolist()
        [[0.5403, 0.8415], [-0.4161, 0.9093]]
    """
    raise NotImplementedError("11 embeddings: implement rope — see exercises/11_embeddings/README.md, step 5")
