# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""12 attention: scaled dot-product attention, multi-head attention, and attention in blocks.

Attention lets every position read from every other: each query scores every key,
``softmax(q·kᵀ / √D)`` turns a row of scores into weights that sum to 1, and the output is the
weighted sum of the values. A boolean mask says which keys a query may read (a causal mask:
only earlier positions; a padding mask: not the padding). ``MultiHeadAttention`` runs H such
attentions side by side on slices of the model dimension, with grouped-query attention (GQA)
when several query heads share one key/value head. The naive form holds a (T, T) matrix of
scores per head: ``chunked_attention`` computes the same numbers over blocks of keys with an
online softmax, so its memory grows like T·D, not T² (the idea behind FlashAttention).

Shapes (one vocabulary): B batch, H query heads, H_kv key/value heads, G = H / H_kv query heads
per kv head, Tq queries, Tk keys (T when they are the same sequence), D head dimension,
C = d_model = H·D.

Mask convention (PyTorch's): a boolean mask where True means "may attend".
Fully masked rule: a query row whose every key is masked (by the mask, the causal rule, or
because there are no keys) gets an output row of exactly 0 and passes no gradient to q, k or v;
no NaN is ever produced.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch import embeddings
from tinytorch.autograd import Function, Tensor, unbroadcast
from tinytorch.embeddings import check_base, check_dtype, check_size
from tinytorch.layers import Linear, Module, generator
from tinytorch.tensor import type_name

# --- given: checks --------------------------------------------------------------------------


def check_qkv(op: str, q, k, v) -> tuple[int, ...]:
    """Given: check q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv); return the scores' shape (..., Tq, Tk).

    q, k and v are Tensors, or ndarrays for ``chunked_attention`` (the caller checks which: only
    their shape, ndim and dtype are read here), with at least 2 dimensions and one floating
    dtype (checked first, then the dimensions, in the order below); q and k have one head
    dimension D >= 1 (D = 0 would scale by 1/√0); k and v have the same shape but for the last
    dimension; q's and k's leading dimensions broadcast (a k of (B, H_kv, 1, Tk, D) serves every
    query head of a (B, H_kv, G, Tq, D) q, and a q of (B, H_kv, 1, Tq, D) is read by every
    member of a (B, H_kv, G, Tk, D) k: the scores take the broadcast leading dimensions). Raises:

    - TypeError ``"<op>: q, k and v must have one floating dtype, got float32, float64, float32"``;
    - ValueError ``"<op>: q, k and v must have at least 2 dimensions (T, D), got q (3,)"``;
      ``"<op>: q and k must have the same last dimension D, got q (2, 4, 5, 8) vs k (2, 4, 5, 6)"``;
      ``"<op>: q and k must have a last dimension D >= 1, got q (2, 4, 5, 0) vs k (2, 4, 5, 0)"``;
      ``"<op>: k and v must have the same shape up to the last dimension, got k (2, 4, 5, 8) vs v (2, 4, 6, 8)"``;
      ``"<op>: q's and k's leading dimensions must broadcast, got q (2, 4, 5, 8) vs k (3, 4, 5, 8)"``.
    """
    dtypes = (q.dtype, k.dtype, v.dtype)
    if len(set(dtypes)) != 1 or q.dtype.kind != "f":
        raise TypeError(f"{op}: q, k and v must have one floating dtype, got {', '.join(str(d) for d in dtypes)}")
    for name, x in (("q", q), ("k", k), ("v", v)):
        if x.ndim < 2:
            raise ValueError(f"{op}: q, k and v must have at least 2 dimensions (T, D), got {name} {x.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{op}: q and k must have the same last dimension D, got q {q.shape} vs k {k.shape}")
    if q.shape[-1] == 0:
        raise ValueError(f"{op}: q and k must have a last dimension D >= 1, got q {q.shape} vs k {k.shape}")
    if k.shape[:-1] != v.shape[:-1]:
        raise ValueError(
            f"{op}: k and v must have the same shape up to the last dimension, got k {k.shape} vs v {v.shape}"
        )
    try:
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: q's and k's leading dimensions must broadcast, got q {q.shape} vs k {k.shape}"
        ) from None
    return (*lead, q.shape[-2], k.shape[-2])


def check_mask(op: str, mask, scores_shape: tuple[int, ...]) -> np.ndarray | None:
    """Given: ``mask`` as a boolean ndarray that broadcasts to ``scores_shape`` (True = may attend), or None.

    A bool Tensor gives its array. The mask may have fewer or size-1 dimensions (a padding mask
    (B, 1, 1, Tk), a causal (Tq, Tk)), but broadcasting it must not enlarge the scores; a 0-d
    boolean array (``np.array(True)``) is a mask like any other. A scalar (``True``, ``np.True_``)
    is refused: ``attn(x, True)`` meant ``is_causal=True``, not a mask. Raises TypeError
    ``"<op>: mask must be a boolean ndarray or Tensor (True = may attend), got float32"``
    (``got list`` for another type; for a scalar, its type and ``(a scalar: a 0-d mask is
    np.array(True))``, e.g. ``got numpy.bool (a scalar: ...)``, ``got bool (a scalar: ...)``); ValueError
    ``"<op>: mask must broadcast to the scores' shape, got mask (3, 5) vs scores (2, 4, 5, 5)"``.
    """
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        mask = mask.data
    if not isinstance(mask, np.ndarray):
        got = type_name(mask)
        if isinstance(mask, np.generic):
            got = f"numpy.{got}"  # NumPy's bool scalar is named "bool", like Python's
        if isinstance(mask, (np.generic, bool, int, float)):
            got += " (a scalar: a 0-d mask is np.array(True))"
        raise TypeError(f"{op}: mask must be a boolean ndarray or Tensor (True = may attend), got {got}")
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a boolean ndarray or Tensor (True = may attend), got {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{op}: mask must broadcast to the scores' shape, got mask {mask.shape} vs scores {scores_shape}"
        )
    return mask


def check_flag(op: str, what: str, value) -> bool:
    """Given: ``value`` as a bool, or TypeError ``"<op>: is_causal must be a bool, got int"``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be a bool, got {type_name(value)}")
    return bool(value)


# --- step 1: splitting and merging heads ------------------------------------------------------


def split_heads(x: Tensor, n_heads: int) -> Tensor:
    """Cut the last dimension into ``n_heads`` heads and move the heads before time.

    ``(B, T, H·D) -> (B, H, T, D)``: head h gets the features ``h·D .. (h+1)·D − 1`` of every
    position (a reshape to (B, T, H, D), then a transpose), in the graph.

    Args:
        x: Tensor (B, T, C), C divisible by n_heads.
        n_heads: H, an integer >= 1.
    Returns:
        Tensor (B, H, T, C / H), x's dtype.
    Raises:
        TypeError: ``"split_heads: input must be a Tensor, got ndarray"``.
        ValueError: ``"split_heads: input must have 3 dimensions (B, T, C), got (4, 6)"``;
            ``"split_heads: n_heads must be an integer >= 1, got 0"``;
            ``"split_heads: the last dimension must be divisible by n_heads=4, got (2, 3, 6)"``.
    Complexity:
        O(1) for the reshape and transpose (views); nothing is copied.
    Example:
        >>> split_heads(Tensor(np.arange(8.0).reshape(1, 2, 4)), 2).numpy().tolist()
        [[[[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0], [6.0, 7.0]]]]
    """
    raise NotImplementedError("12 attention: implement split_heads — see exercises/12_attention/README.md, step 1")


def merge_heads(x: Tensor) -> Tensor:
    """The inverse of ``split_heads``: ``(B, H, T, D) -> (B, T, H·D)``, heads side by side.

    Args:
        x: Tensor (B, H, T, D).
    Returns:
        Tensor (B, T, H·D), x's dtype, in the graph; ``merge_heads(split_heads(x, H))`` equals x.
    Raises:
        TypeError: ``"merge_heads: input must be a Tensor, got ndarray"``.
        ValueError: ``"merge_heads: input must have 4 dimensions (B, H, T, D), got (2, 3, 4)"``.
    Complexity:
        O(B·T·H·D): the transposed heads are copied once into rows (a reshape of a transpose).
    Example:
        >>> merge_heads(Tensor(np.arange(8.0).reshape(1, 2, 2, 2))).numpy().tolist()
        [[[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]]]
    """
    raise NotImplementedError("12 attention: implement merge_heads — see exercises/12_attention/README.md, step 1")


# --- step 2: which keys a query may read ----------------------------------------------------


def causal_mask(Tq: int, Tk: int) -> np.ndarray:
    """The causal mask aligned to the END: query i may attend key j when ``j <= i + (Tk − Tq)``.

    For Tq = Tk it is the lower triangle (diagonal included). With Tk > Tq the queries are the
    LAST Tq positions of the keys' sequence (one new query and a cache of Tk keys attends to all
    of them). With Tq > Tk the first Tq − Tk rows are fully masked (see the module's rule).

    Args:
        Tq: the number of queries, an integer >= 0.
        Tk: the number of keys, an integer >= 0.
    Returns:
        bool ndarray (Tq, Tk), True = may attend.
    Raises:
        ValueError: ``"causal_mask: Tq must be an integer >= 0, got -1"`` (Tk alike).
    Complexity:
        O(Tq·Tk) time and bytes.
    Example:
        >>> causal_mask(2, 3).tolist()
        [[True, True, False], [True, True, True]]
    """
    raise NotImplementedError("12 attention: implement causal_mask — see exercises/12_attention/README.md, step 2")


def attention_mask(mask: np.ndarray | None, is_causal: bool, Tq: int, Tk: int) -> np.ndarray:
    """The keys each query may read: ``mask`` AND (if ``is_causal``) ``causal_mask(Tq, Tk)``.

    Args:
        mask: bool ndarray broadcastable to (..., Tq, Tk) (already checked), or None (all True).
        is_causal: whether to apply the causal rule too.
        Tq, Tk: the numbers of queries and keys.
    Returns:
        bool ndarray broadcastable to the scores: the mask's shape broadcast with (Tq, Tk).
    Complexity:
        O(size of the result), in bytes one per entry (never the scores' dtype).
    Example:
        >>> attention_mask(np.array([True, False, True]), True, 2, 3).tolist()
        [[True, False, False], [True, False, True]]
    """
    raise NotImplementedError("12 attention: implement attention_mask — see exercises/12_attention/README.md, step 2")


# --- step 3: the attention node -------------------------------------------------------------


class AttentionFunction(Function):
    """``softmax(q·kᵀ·scale, masked)·v`` as one graph node.

    Called as ``AttentionFunction.apply(q, k, v, allowed=allowed, scale=scale)``.

    One node, not six (matmul, multiply, mask, softmax, matmul): its forward keeps ONE array of
    the scores' size, the attention weights P, for the backward.
    """

    @staticmethod
    def forward(ctx, q: np.ndarray, k: np.ndarray, v: np.ndarray, *, allowed: np.ndarray, scale: float) -> np.ndarray:
        """``P = softmax(q·kᵀ·scale)`` over the allowed keys of each row; returns ``P·v``; saves q, k, v, P.

        Args:
            q: (..., Tq, D); k: (..., Tk, D); v: (..., Tk, Dv); leading dims broadcast.
            allowed: bool, broadcastable to the scores (..., Tq, Tk).
            scale: a Python float (1/√D).
        Returns:
            (..., Tq, Dv), q's dtype. A row with no allowed key is exactly 0 (P's row is all 0).
        Complexity:
            O(Tq·Tk·(D + Dv)) per head; memory: the scores (..., Tq, Tk), reused in place for P.
        Example:
            >>> q = k = np.zeros((1, 2, 1)); v = np.array([[[1.0], [3.0]]])
            >>> allowed = np.array([[True, True], [False, False]])
            >>> AttentionFunction.forward(Function(), q, k, v, allowed=allowed, scale=1.0)
            array([[[2.],
                    [0.]]])
        """
        raise NotImplementedError(
            "12 attention: implement AttentionFunction.forward — see exercises/12_attention/README.md, step 3"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """dv = Pᵀ·g; dP = g·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale.

        Each is summed back to its input's shape (``unbroadcast``: a shared kv head receives
        the sum over the query heads it served). Where P is 0 (masked keys, fully masked rows)
        dS is 0: no gradient flows there. Computes only what ``ctx.needs_input_grad`` asks for.
        """
        raise NotImplementedError(
            "12 attention: implement AttentionFunction.backward — see exercises/12_attention/README.md, step 3"
        )


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask=None, is_causal: bool = False) -> Tensor:
    """``softmax(q·kᵀ / √D + masked) · v``: every query reads the values of the keys it may attend.

    Mask convention (PyTorch's): ``mask`` is boolean, True = "may attend". ``is_causal`` adds
    the causal rule aligned to the END (``causal_mask``): query i attends key j when
    ``j <= i + (Tk − Tq)``; for Tq = Tk the lower triangle. Both together: a key must pass both.
    Fully masked rule: a query with no key it may attend gets an output row of exactly 0 and
    passes no gradient; no NaN ever reaches the output.

    Args:
        q: Tensor (B, H, Tq, D), floating (any leading dimensions: (..., Tq, D)).
        k: Tensor (B, H, Tk, D); its leading dimensions broadcast with q's (GQA: a k of
            (B, H_kv, 1, Tk, D) against a q of (B, H_kv, G, Tq, D)).
        v: Tensor (B, H, Tk, Dv), k's shape up to the last dimension.
        mask: None, or a boolean ndarray or Tensor broadcastable to the scores (B, H, Tq, Tk),
            e.g. a padding mask (B, 1, 1, Tk).
        is_causal: a bool.
    Returns:
        Tensor (B, H, Tq, Dv), q's dtype, in the graph (one ``AttentionFunction`` node).
        The scale is ``1 / √D``.
    Raises:
        TypeError: ``"scaled_dot_product_attention: q must be a Tensor, got ndarray"``;
            the given ``check_qkv``'s dtype error; ``check_mask``'s; ``"... is_causal must be a bool, got int"``.
        ValueError: ``check_qkv``'s, naming both shapes (``got q (2, 4, 5, 8) vs k (2, 4, 5, 6)``);
            ``check_mask``'s (``got mask (3, 5) vs scores (2, 4, 5, 5)``).
    Complexity:
        O(B·H·Tq·Tk·(D + Dv)) time; memory: the scores B·H·Tq·Tk (kept as P for the backward),
        plus the boolean mask of the same size at most.
    Example:
        >>> q = Tensor(np.zeros((1, 1, 2, 4))); v = Tensor(np.array([[[[1.0], [3.0]]]]))
        >>> scaled_dot_product_attention(q, q, v, is_causal=True).numpy().ravel().tolist()
        [1.0, 2.0]
    """
    raise NotImplementedError(
        "12 attention: implement scaled_dot_product_attention — see exercises/12_attention/README.md, step 3"
    )


# --- step 4: multi-head (and grouped-query) attention ---------------------------------------


class MultiHeadAttention(Module):
    """Self-attention with H heads (Vaswani et al., 2017), grouped-query when n_kv_heads < n_heads."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        *,
        bias: bool = True,
        rope: bool = False,
        rope_base: float = 10000.0,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        """Create four 04 ``Linear``s: ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj``.

        ``q_proj`` and ``out_proj`` map C -> C; ``k_proj`` and ``v_proj`` map C -> H_kv·D.

        They are created in that order, q, k, v, out, from one generator (04's init): with
        ``rng=np.random.default_rng(s)``, ``q_proj`` holds the weights of
        ``Linear(C, C, bias, rng=g, dtype=dtype)`` made first from ``g = np.random.default_rng(s)``,
        then ``k_proj`` those of the next ``Linear(C, H_kv·D, ...)`` from g, and so on. Keeps ``d_model``,
        ``n_heads``, ``n_kv_heads`` (= n_heads when None), ``head_dim`` (D = d_model / n_heads),
        ``rope`` and ``rope_base``. GQA head mapping: each kv head serves
        G = n_heads / n_kv_heads CONSECUTIVE query heads: query head h reads kv head h // G
        (PyTorch's ``repeat_interleave``). n_kv_heads = 1 is multi-query attention.

        Args:
            d_model: C, an integer >= 1, divisible by n_heads.
            n_heads: H, an integer >= 1.
            n_kv_heads: H_kv, an integer >= 1 dividing n_heads, or None (= n_heads).
            bias: whether the four projections have a bias, a bool.
            rope: whether ``project`` rotates q and k with 11's ``rope`` (then D must be even).
            rope_base: 11's base, a real number > 1 (checked whether rope is on or not).
            rng: a ``np.random.Generator`` or None (04's ``generator``).
            dtype: of the parameters, floating-point.
        Raises:
            ValueError: ``"MultiHeadAttention: n_heads must be an integer >= 1, got 0"`` (d_model,
                n_kv_heads alike); ``"MultiHeadAttention: d_model must be divisible by n_heads, got
                d_model=10, n_heads=4"``; ``"MultiHeadAttention: n_heads must be divisible by
                n_kv_heads, got n_heads=6, n_kv_heads=4"``; ``"MultiHeadAttention: head_dim must be
                even for rope, got head_dim=3"``; ``"MultiHeadAttention: base must be a real number > 1, got 1.0"``.
            TypeError: ``"MultiHeadAttention: rope must be a bool, got int"`` (bias goes to 04's
                Linear, which names itself); the rng and dtype errors of 04 and 11.
        Complexity:
            Parameters: 2·C² + 2·C·H_kv·D weights (+ 2·C + 2·H_kv·D biases).
        Example:
            >>> attn = MultiHeadAttention(8, 4, 2)
            >>> attn.head_dim, attn.k_proj.weight.shape
            (2, (4, 8))
        """
        raise NotImplementedError(
            "12 attention: implement MultiHeadAttention.__init__ — see exercises/12_attention/README.md, step 4"
        )

    def project(self, x: Tensor, offset: int = 0) -> tuple[Tensor, Tensor, Tensor]:
        """The first half of ``forward``: x's queries, keys and values in the heads layout, rotated at ``offset``.

        Project x with ``q_proj``, ``k_proj``, ``v_proj`` and split the heads (``split_heads``:
        q into H heads, k and v into H_kv); with rope, rotate q and k by
        ``embeddings.rope(·, offset, self.rope_base)``, called through the module
        ``tinytorch.embeddings`` (a test replaces that attribute with a spy: the offset cancels in
        q·kᵀ, so only a spy sees it dropped); without rope the offset changes nothing. Kata 17
        calls it for the new tokens only, at the position they hold (the cache's length).

        Args:
            x: Tensor (B, T, d_model), the parameters' dtype.
            offset: the position of x's first token, an integer >= 0 (checked with rope on or off).
        Returns:
            ``(q, k, v)``, Tensors in the graph: q (B, H, T, D), k and v (B, H_kv, T, D).
        Raises:
            TypeError: ``"MultiHeadAttention: input must be a Tensor, got ndarray"``; 04's Linear
                dtype error.
            ValueError: ``"MultiHeadAttention: input must have shape (B, T, d_model=8), got (2, 3, 5)"``;
                ``"MultiHeadAttention: offset must be an integer >= 0, got -1"`` (``got 1.5``,
                ``got True`` alike; 11's ``check_size``; the tests pin it from ``offset must``).
        Complexity:
            2·B·T·C·(C + 2·H_kv·D) FLOPs; memory: the three projections.
        Example:
            >>> q, k, v = MultiHeadAttention(8, 4, 2).project(Tensor(np.ones((2, 3, 8), dtype=np.float32)))
            >>> q.shape, k.shape, v.shape
            ((2, 4, 3, 2), (2, 2, 3, 2), (2, 2, 3, 2))
        """
        raise NotImplementedError(
            "12 attention: implement MultiHeadAttention.project — see exercises/12_attention/README.md, step 4"
        )

    def attend(self, q: Tensor, k: Tensor, v: Tensor, mask=None, is_causal: bool = False) -> Tensor:
        """The second half of ``forward``: Tq queries attend over Tk keys and values, then merge and ``out_proj``.

        GQA without copying k and v: q's heads are grouped as (B, H_kv, G, Tq, D) and k, v
        reshaped to (B, H_kv, 1, Tk, D), so the attention's broadcasting matmul serves the G
        query heads of a group from one kv head (query head h = kv head h // G); a mask is
        regrouped alike, as a view. Then ``scaled_dot_product_attention`` (its causal rule is
        aligned to the end: with Tk > Tq, query i is the key position Tk − Tq + i, which is how
        kata 17 reads a cache of earlier keys), back to (B, H, Tq, D), ``merge_heads``,
        ``out_proj``.

        Args:
            q: Tensor (B, H, Tq, D), as ``project`` returns it.
            k, v: Tensors (B, H_kv, Tk, D) of one shape, q's B and D; Tk may differ from Tq.
            mask: None, or a boolean ndarray or Tensor broadcastable to (B, H, Tq, Tk), True =
                may attend (a padding mask: (B, 1, 1, Tk)).
            is_causal: a bool, as in ``scaled_dot_product_attention``.
        Returns:
            Tensor (B, Tq, d_model), in the graph.
        Raises:
            In this order: q, k, v not Tensors; q's shape; k's, then v's shape; k and v differing;
            the mask; is_causal.
            TypeError: ``"MultiHeadAttention: q must be a Tensor, got ndarray"`` (k, v alike); the
                mask's and is_causal's errors (op ``"MultiHeadAttention"``).
            ValueError: ``"MultiHeadAttention: q must have shape (B, H=4, Tq, D=2), got (2, 2, 3, 2)"``;
                ``"MultiHeadAttention: k must have shape (B=2, H_kv=2, Tk, D=2), got (2, 4, 3, 2)"``
                (v alike); ``"MultiHeadAttention: k and v must have the same shape, got k (2, 2, 3, 2)
                vs v (2, 2, 4, 2)"``; ``"MultiHeadAttention: mask must broadcast to the scores'
                shape, got mask (4,) vs scores (2, 4, 3, 3)"``.
        Complexity:
            Attention 4·B·H·Tq·Tk·D FLOPs, out_proj 2·B·Tq·C² FLOPs; memory: the scores
            B·H·Tq·Tk (kept for the backward); k and v are read where they lie, never copied
            (not once, not per query head: kata 17 passes its whole cache here at every token).
        Example:
            >>> attn = MultiHeadAttention(8, 4, 2)
            >>> q, k, v = attn.project(Tensor(np.ones((2, 3, 8), dtype=np.float32)))
            >>> attn.attend(q[:, :, -1:], k, v, is_causal=True).shape
            (2, 1, 8)
        """
        raise NotImplementedError(
            "12 attention: implement MultiHeadAttention.attend — see exercises/12_attention/README.md, step 4"
        )

    def forward(self, x: Tensor, mask=None, is_causal: bool = False, offset: int = 0) -> Tensor:
        """Given: self-attention of x over itself, ``attend(*project(x, offset), mask, is_causal)``.

        Args:
            x: Tensor (B, T, d_model), the parameters' dtype.
            mask: None, or a boolean ndarray or Tensor broadcastable to (B, H, T, T), True = may
                attend (a padding mask: (B, 1, 1, T)).
            is_causal: a bool, as in ``scaled_dot_product_attention``.
            offset: the position of x's first token, an integer >= 0 (``project``'s rope).
        Returns:
            Tensor (B, T, d_model), in the graph.
        Raises:
            ``project``'s errors (x, offset: checked first), then ``attend``'s (mask, is_causal).
        Complexity:
            Projections 2·B·T·C·(2·C + 2·H_kv·D) FLOPs; attention 4·B·H·T²·D FLOPs; memory: the
            scores B·H·T·T (kept for the backward), the projections B·T·C each.
        Example:
            >>> MultiHeadAttention(8, 4, 2)(Tensor(np.ones((2, 3, 8), dtype=np.float32)), is_causal=True).shape
            (2, 3, 8)
        """
        q, k, v = self.project(x, offset)  # (B, H, T, D), (B, H_kv, T, D) twice
        return self.attend(q, k, v, mask=mask, is_causal=is_causal)  # (B, T, C)


# --- step 5: attention in blocks of keys ----------------------------------------------------


def chunked_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block_size: int, is_causal: bool = False, mask=None
) -> np.ndarray:
    """The same numbers as ``scaled_dot_product_attention``, reading ``block_size`` keys at a time.

    FORWARD ONLY: NumPy arrays in, a NumPy array out, no graph (a FlashAttention-style backward
    is beyond this kata). Online softmax: for each query row keep a running max m, a running sum
    l of exp(score − m) and a running output acc = Σ exp(score − m)·v; a block with a larger max
    m' rescales l and acc by exp(m − m') before adding its own terms; at the end out = acc / l.
    Exact (up to rounding) for every block size, dividing Tk or not (the last block is shorter).
    Same mask convention, causal rule and fully masked rule (row 0, never NaN) as the naive one.

    Args:
        q: ndarray (B, H, Tq, D), floating (any leading dimensions, broadcasting with k's).
        k: ndarray (B, H, Tk, D); v: ndarray (B, H, Tk, Dv); one dtype for the three.
        block_size: keys per block, an integer >= 1 (larger than Tk: one block).
        is_causal: a bool, ``causal_mask``'s rule.
        mask: None, or a boolean ndarray broadcastable to (B, H, Tq, Tk), True = may attend.
    Returns:
        ndarray (B, H, Tq, Dv), q's dtype: in general (..., Tq, Dv) with q's and k's leading
        dimensions broadcast (the scores' shape ``check_qkv`` returns, not q's own: a q of
        (B, H_kv, 1, Tq, D) against a k of (B, H_kv, G, Tk, D) gives (B, H_kv, G, Tq, Dv)).
    Raises:
        TypeError: ``"chunked_attention: q must be an ndarray (forward only: no autograd), got
            tinytorch.autograd.Tensor"``; the given checks' errors (op ``"chunked_attention"``).
        ValueError: ``"chunked_attention: block_size must be an integer >= 1, got 0"``; the given
            checks' errors naming both shapes.
    Complexity:
        O(B·H·Tq·Tk·(D + Dv)) time, as the naive one; extra memory O(B·H·Tq·(Dv + block_size)):
        the running output and a block of scores, never the B·H·Tq·Tk matrix.
    Example:
        >>> q = np.zeros((1, 1, 2, 4)); v = np.array([[[[1.0], [3.0]]]])
        >>> chunked_attention(q, q, v, block_size=1, is_causal=True).ravel().tolist()
        [1.0, 2.0]
    """
    raise NotImplementedError(
        "12 attention: implement chunked_attention — see exercises/12_attention/README.md, step 5"
    )
