# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""16 compression: make a trained model smaller by pruning, sparse storage, low rank and distillation.

Four ways to spend fewer bytes on a model. *Pruning* sets most weights to zero: by magnitude,
one tensor at a time or across the whole model at once (global), or whole rows (output
features) by their norm (structured). A *mask* (a boolean array, True where a weight is kept)
records what was pruned, and ``MaskedLinear`` keeps the pruned weights at zero while the model
is fine-tuned to win back its accuracy. Zeros only save memory when they are not stored:
``SparseLinear`` keeps the non-zeros in CSR form (values, column indices, row pointers) and
multiplies without ever building the dense matrix. ``low_rank`` replaces a Linear by two thin
ones from its truncated SVD, the best approximation of its rank (Eckart–Young). And
``distillation_loss`` trains a small *student* to match a large *teacher*'s softened outputs.

Shapes: C_in and C_out a Linear's input and output features (its weight is (C_out, C_in)),
R the rows of an input (the batch B, times any other leading sizes), N any number of elements,
nnz the number of stored (non-zero) weights, r a rank, B batch, C classes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinytorch import activations
from tinytorch.autograd import Function, Tensor
from tinytorch.layers import Linear, Module, Parameter, Sequential, linear
from tinytorch.losses import check_class_indices, check_pair, cross_entropy
from tinytorch.tensor import type_name

INDEX_DTYPE = np.dtype(np.int32)  # CSR column indices and row pointers: 4 bytes each

# --- given: checks -------------------------------------------------------------------------


def check_sparsity(op: str, sparsity) -> float:
    """Given: ``sparsity`` as a float in [0, 1], or an error.

    Raises TypeError ``"magnitude_prune: sparsity must be a real number, got str"`` (a bool
    too) and ValueError ``"magnitude_prune: sparsity must be in [0, 1], got 1.5"`` (nan too).
    """
    if isinstance(sparsity, (bool, np.bool_)) or not isinstance(sparsity, numbers.Real):
        raise TypeError(f"{op}: sparsity must be a real number, got {type_name(sparsity)}")
    if not 0.0 <= sparsity <= 1.0:  # `not` also refuses nan
        raise ValueError(f"{op}: sparsity must be in [0, 1], got {sparsity}")
    return float(sparsity)


def check_weight(op: str, weight, name: str = "weight") -> np.ndarray:
    """Given: the array of ``weight`` (an ndarray, or a Tensor/Parameter: its ``.data``, shared).

    It must be floating-point and finite (a nan has no magnitude to rank). Raises TypeError
    ``"magnitude_prune: weight must be an ndarray or a Tensor, got list"``,
    ``"magnitude_prune: weight must be floating-point, got int64"``; ValueError
    ``"magnitude_prune: weight must be finite, got nan"``.
    """
    array = weight.data if isinstance(weight, Tensor) else weight
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: {name} must be an ndarray or a Tensor, got {type_name(weight)}")
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating-point, got {array.dtype}")
    bad = array[~np.isfinite(array)]
    if bad.size:
        raise ValueError(f"{op}: {name} must be finite, got {bad[0]}")
    return array


def prune_count(sparsity: float, n: int) -> int:
    """Given: how many of ``n`` elements a pruning at ``sparsity`` removes: ⌊sparsity·n + ½⌋.

    Round half up, computed exactly so: ``math.floor(sparsity * n + 0.5)``. Not ⌊sparsity·n⌋:
    0.29 · 100 is 28.999999999999996 in floating point, and the floor would prune 28, not 29.
    """
    return math.floor(sparsity * n + 0.5)


def check_input(op: str, x, in_features: int, dtype: np.dtype) -> None:
    """Given: the checks of 04's ``Linear.forward`` for a layer with ``in_features`` of ``dtype``.

    Raises TypeError ``"SparseLinear: input must be a Tensor, got ndarray"``,
    ``"SparseLinear: input must have dtype float32, got float64"``; ValueError
    ``"SparseLinear: input must have at least 2 dimensions (a batch), got (3,)"``,
    ``"SparseLinear: input must have 3 features in its last dimension, got (2, 4)"``.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type_name(x)}")
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (a batch), got {x.shape}")
    if x.shape[-1] != in_features:
        raise ValueError(f"{op}: input must have {in_features} features in its last dimension, got {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"{op}: input must have dtype {dtype}, got {x.dtype}")


def check_linear(op: str, layer) -> None:
    """Given: raise ``TypeError("low_rank: layer must be a Linear, got ReLU")`` unless it is one."""
    if not isinstance(layer, Linear):
        raise TypeError(f"{op}: layer must be a Linear, got {type_name(layer)}")


# --- step 1: magnitude pruning of one tensor ------------------------------------------------


def magnitude_prune(weight, sparsity: float) -> np.ndarray:
    """The mask that prunes the ``k = ⌊sparsity·N + ½⌋`` smallest magnitudes of ``weight``.

    Exactly k elements are pruned (the given ``prune_count``), whatever the values. Tie rule:
    elements are ranked by ``|w|`` and, among equal magnitudes, by flat index (row-major), the
    lower first; the first k of that order are pruned. So of two equal magnitudes the one with
    the lower flat index is pruned first (a stable sort of the magnitudes gives this order).
    ``weight`` is not changed: multiply it by the mask to prune it.

    Args:
        weight: ndarray or Tensor of any shape (N elements), floating-point, finite.
        sparsity: the fraction to prune, a real number in [0, 1].
    Returns:
        A bool ndarray of weight's shape: True where a weight is kept, False where pruned;
        ``N - k`` Trues.
    Raises:
        The given ``check_sparsity``'s and ``check_weight``'s errors, e.g.
        ``"magnitude_prune: sparsity must be in [0, 1], got 1.5"``,
        ``"magnitude_prune: weight must be finite, got nan"``.
    Complexity:
        O(N log N) time (a sort); memory: the magnitudes and the order (N floats and N int64).
    Example:
        >>> magnitude_prune(np.array([[0.5, -3.0], [1.0, -0.5]]), 0.5)
        array([[False,  True],
               [ True, False]])
    """
    raise NotImplementedError(
        "16 compression: implement magnitude_prune — see exercises/16_compression/README.md, step 1"
    )


# --- step 2: global magnitude pruning ------------------------------------------------------


def global_magnitude_prune(weights, sparsity: float) -> list[np.ndarray]:
    """One mask per tensor, pruning the ``k = ⌊sparsity·N + ½⌋`` smallest magnitudes of them all.

    N is the total number of elements. The tensors compete: a layer of small weights loses more
    of them than a layer of large ones, and the total is exactly k. Tie rule: rank every
    element by ``|w|``, equal magnitudes by their position in the concatenation of the flattened
    tensors (tensor order, then flat index), the lower first; the first k are pruned.

    Args:
        weights: a non-empty list or tuple of ndarrays or Tensors, any shapes, each
            floating-point and finite.
        sparsity: the fraction of all elements to prune, in [0, 1].
    Returns:
        A list of bool masks, one per tensor, each of its tensor's shape (True: kept).
    Raises:
        TypeError: ``"global_magnitude_prune: weights must be a non-empty list or tuple, got
            ndarray"``; ``check_weight``'s, naming the tensor: ``"global_magnitude_prune:
            weights[1] must be finite, got nan"``.
        ValueError: ``"global_magnitude_prune: weights must be a non-empty list or tuple, got
            an empty list"``; the given ``check_sparsity``'s.
    Complexity:
        O(N log N) time; memory: the concatenated magnitudes and the order, O(N).
    Example:
        >>> [m.tolist() for m in global_magnitude_prune([np.array([1.0, 2.0]), np.array([9.0, 0.5])], 0.5)]
        [[False, True], [True, False]]
    """
    raise NotImplementedError(
        "16 compression: implement global_magnitude_prune — see exercises/16_compression/README.md, step 2"
    )


# --- step 3: structured pruning ------------------------------------------------------------


def structured_prune(weight, sparsity: float) -> np.ndarray:
    """The mask that prunes the ``k = ⌊sparsity·C_out + ½⌋`` rows of smallest L2 norm.

    A row is an output feature of a Linear (C_out, C_in) or an output channel of a Conv2d
    (C_out, C_in, K, K): everything along the axes after the first. Its norm is the L2 norm
    ``√(Σ w²)`` over that row (not the L1 norm ``Σ |w|``), computed in float64. Tie rule:
    equal norms are pruned lower row index first (a stable sort of the norms). A pruned row is
    a whole output that can be removed from the layer (and from the next layer's inputs):
    unlike scattered zeros, it makes the dense matrices smaller. Empty sizes are fine: C_out = 0
    gives an empty mask (0 of 0 rows pruned), and rows of no element (C_in = 0) have norm 0.

    Args:
        weight: ndarray or Tensor (C_out, ...) with at least 2 dimensions, floating-point, finite;
            any size may be 0.
        sparsity: the fraction of rows to prune, in [0, 1].
    Returns:
        A bool ndarray of weight's shape, each row all True (kept) or all False (pruned).
        ``mask.reshape(C_out, -1)[:, 0]`` says which rows are kept.
    Raises:
        ValueError: ``"structured_prune: weight must have at least 2 dimensions (C_out, ...), got (4,)"``;
            ``check_sparsity``'s and ``check_weight``'s errors.
    Complexity:
        O(N + C_out log C_out) time; memory: the float64 norms (C_out,), and the mask.
    Example:
        >>> structured_prune(np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 1.0]]), 1 / 3)
        array([[ True,  True],
               [False, False],
               [ True,  True]])
    """
    raise NotImplementedError(
        "16 compression: implement structured_prune — see exercises/16_compression/README.md, step 3"
    )


# --- step 4: fine-tuning with a mask -------------------------------------------------------


class MaskedLinear(Module):
    """A Linear whose pruned weights stay zero while it trains: ``y = x @ (weight · mask)ᵀ + bias``.

    PyTorch's ``torch.nn.utils.prune`` does the same: the mask multiplies the weight in every
    forward, so a pruned weight gets a zero gradient and contributes nothing, whatever the
    optimizer does to it. 07's ``train_epoch`` and the milestones' ``fit`` train it unchanged.
    """

    buffer_names = ("mask",)

    def __init__(self, layer: Linear, mask) -> None:
        """Wrap ``layer`` (shared, not copied) with ``mask``.

        Keeps ``weight`` and ``bias`` (the layer's own Parameters, the same objects: training
        this module trains the layer), ``mask`` (a copy: a buffer, saved by ``state_dict``),
        ``in_features`` and ``out_features``. ``named_parameters`` lists ``weight``, ``bias``.

        Args:
            layer: a 04 ``Linear``.
            mask: a bool ndarray of the weight's shape (C_out, C_in); True keeps a weight.
        Raises:
            TypeError: ``"MaskedLinear: layer must be a Linear, got ReLU"``;
                ``"MaskedLinear: mask must be a bool ndarray, got float64"``.
            ValueError: ``"MaskedLinear: mask must have the weight's shape (3, 4), got (4, 3)"``.
        Complexity:
            O(C_out·C_in): the mask's copy.
        Example:
            >>> MaskedLinear(Linear(2, 3), np.ones((3, 2), dtype=bool)).mask.shape
            (3, 2)
        """
        raise NotImplementedError(
            "16 compression: implement MaskedLinear.__init__ — see exercises/16_compression/README.md, step 4"
        )

    def forward(self, x: Tensor) -> Tensor:
        """``x @ (weight · mask)ᵀ + bias``, in the graph: dL/dweight is zero where the mask is False.

        Args:
            x: Tensor (B, ..., C_in) of the weight's dtype.
        Returns:
            Tensor (B, ..., C_out).
        Raises:
            The given ``check_input``'s errors, naming ``MaskedLinear``.
        Complexity:
            04's Linear, plus the masked weight (C_out·C_in elements) and the mask in the
            weight's dtype, each forward.
        Example:
            >>> layer = MaskedLinear(Linear(2, 1, bias=False), np.array([[True, False]]))
            >>> layer.weight.data[...] = [[2.0, 5.0]]
            >>> layer(Tensor(np.ones((1, 2), dtype=np.float32))).numpy()
            array([[2.]], dtype=float32)
        """
        raise NotImplementedError(
            "16 compression: implement MaskedLinear.forward — see exercises/16_compression/README.md, step 4"
        )

    def to_linear(self) -> Linear:
        """Make the pruning permanent: a Linear whose weight is ``weight · mask``.

        Writes the zeros into the weight (in place: ``weight.data *= mask``) and returns a 04
        Linear holding the same Parameters (no copy; ``Linear.__new__`` then the attributes,
        so no random draw is spent on an init that would be overwritten). A pruned negative
        weight becomes −0.0 (``-5.0 * False``): it equals 0, and ``SparseLinear.from_dense``
        leaves it out like any zero.

        Returns:
            A ``Linear`` whose ``weight`` and ``bias`` are this module's (the same objects).
        Complexity:
            O(C_out·C_in), in place.
        Example:
            >>> m = MaskedLinear(Linear(2, 1, bias=False), np.array([[True, False]]))
            >>> m.weight.data[...] = [[2.0, 5.0]]
            >>> m.to_linear().weight.numpy()
            array([[2., 0.]], dtype=float32)
        """
        raise NotImplementedError(
            "16 compression: implement MaskedLinear.to_linear — see exercises/16_compression/README.md, step 4"
        )


# --- steps 5 and 6: a Linear stored in CSR form ---------------------------------------------


def row_of_each_value(row_ptr: np.ndarray) -> np.ndarray:
    """Given: the row of every stored value, (nnz,) int32: row i repeated row_ptr[i+1] - row_ptr[i] times."""
    return np.repeat(np.arange(len(row_ptr) - 1, dtype=INDEX_DTYPE), np.diff(row_ptr))


class SparseMatMul(Function):
    """``x @ Wᵀ`` for a weight W (C_out, C_in) given in CSR form, never densified.

    ``SparseMatMul.apply(x, values, col_indices=..., row_ptr=..., out_features=C_out)``: the
    inputs are x (..., C_in) and the stored values (nnz,); the indices are keyword options.
    """

    @staticmethod
    def forward(ctx, x, values, *, col_indices, row_ptr, out_features: int) -> np.ndarray:
        """``out[r, i] = Σ_{j = row_ptr[i]}^{row_ptr[i+1] − 1} values[j] · x[r, col_indices[j]]``.

        Gathers ``x[:, col_indices]`` (R, nnz), multiplies by the values, and sums each row's
        segment (``np.add.reduceat``); a row with no stored value gives 0. Saves x, values and
        the indices for the backward.

        Args:
            x: (..., C_in); values: (nnz,) of x's dtype; col_indices: (nnz,) int32;
            row_ptr: (C_out + 1,) int32; out_features: C_out.
        Returns:
            (..., C_out), x's dtype.
        Raises:
            TypeError: ``"SparseMatMul: x and values must have the same dtype, got float32 and
                float64"`` (NumPy would silently compute in the wider one).
        Complexity:
            O(R·nnz) time; memory: the (R, nnz) products, R·nnz·itemsize bytes, and the output
            (R, C_out), never the (C_out, C_in) dense weight. The gathered products exceed the
            dense weight's C_out·C_in·itemsize once R > 1 / density: CSR saves storage here, not
            peak memory (processing the rows in chunks would bound it).
        Example:
            >>> SparseMatMul.forward(Function(), np.array([[1.0, 2.0, 3.0]]), np.array([5.0, 7.0]),
            ...     col_indices=np.array([2, 0], np.int32), row_ptr=np.array([0, 0, 2], np.int32), out_features=2)
            array([[ 0., 22.]])
        """
        raise NotImplementedError(
            "16 compression: implement SparseMatMul.forward — see exercises/16_compression/README.md, step 6"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """dL/dx[r, c] = Σ_{j : col[j] = c} values[j]·g[r, row(j)]; dL/dvalues[j] = Σ_r g[r, row(j)]·x[r, col[j]].

        Only the gradients ``ctx.needs_input_grad`` asks for; the other is None.
        """
        raise NotImplementedError(
            "16 compression: implement SparseMatMul.backward — see exercises/16_compression/README.md, step 6"
        )


class SparseLinear(Module):
    """A Linear whose weight is stored in CSR (compressed sparse row) form: zeros cost nothing.

    CSR of a (C_out, C_in) weight W: ``values`` (nnz,) the non-zeros in row-major order,
    ``col_indices`` (nnz,) the column of each, ``row_ptr`` (C_out + 1,) where each row starts:
    row i's non-zeros are ``values[row_ptr[i] : row_ptr[i+1]]``. Within a row, columns increase.
    ``values`` is a Parameter (it trains, the zeros stay zeros); the indices are int32 buffers.
    """

    buffer_names = ("col_indices", "row_ptr")

    def __init__(self, values, col_indices, row_ptr, shape: tuple[int, int], bias=None) -> None:
        """Given: a layer from CSR arrays, checked; ``from_dense`` and ``from_linear`` build them for you.

        ``values`` becomes a Parameter (an ndarray of its dtype is shared); ``col_indices`` and
        ``row_ptr`` are converted to int32; ``bias`` (an ndarray, or None) becomes a Parameter of
        the values' dtype. Keeps ``in_features``, ``out_features`` (from ``shape = (C_out,
        C_in)``) and ``nnz``. Raises ValueError for inconsistent arrays, e.g.
        ``"SparseLinear: row_ptr must have C_out + 1 = 4 entries, got 3"``,
        ``"SparseLinear: row_ptr must start at 0, never decrease and end at nnz = 5, got [0, 3, 2, 5]"``,
        ``"SparseLinear: col_indices must be in [0, 6), got 7"``; TypeError for dtypes.
        """
        super().__init__()
        if not (isinstance(shape, tuple) and len(shape) == 2 and all(isinstance(n, numbers.Integral) for n in shape)):
            raise TypeError(f"SparseLinear: shape must be a tuple (C_out, C_in) of integers, got {shape!r}")
        out_features, in_features = (int(n) for n in shape)
        if out_features < 1 or in_features < 1:
            raise ValueError(f"SparseLinear: shape must be positive, got {shape}")
        values = check_weight("SparseLinear", values, "values")
        col_indices, row_ptr = np.asarray(col_indices), np.asarray(row_ptr)
        for name, array in (("col_indices", col_indices), ("row_ptr", row_ptr)):
            if array.dtype.kind not in "iu" or array.ndim != 1:
                raise TypeError(f"SparseLinear: {name} must be a 1-d integer array, got {array.dtype} {array.shape}")
        if values.ndim != 1 or col_indices.shape != values.shape:
            raise ValueError(
                "SparseLinear: values and col_indices must be 1-d of one length nnz, "
                f"got {values.shape} and {col_indices.shape}"
            )
        if row_ptr.shape != (out_features + 1,):
            raise ValueError(
                f"SparseLinear: row_ptr must have C_out + 1 = {out_features + 1} entries, got {row_ptr.size}"
            )
        if row_ptr[0] != 0 or np.any(np.diff(row_ptr) < 0) or row_ptr[-1] != values.size:
            raise ValueError(
                "SparseLinear: row_ptr must start at 0, never decrease and end at "
                f"nnz = {values.size}, got {row_ptr.tolist()}"
            )
        outside = col_indices[(col_indices < 0) | (col_indices >= in_features)]
        if outside.size:
            raise ValueError(f"SparseLinear: col_indices must be in [0, {in_features}), got {outside[0]}")
        self.out_features, self.in_features, self.nnz = out_features, in_features, int(values.size)
        self.values = Parameter(values)
        self.col_indices = col_indices.astype(INDEX_DTYPE)
        self.row_ptr = row_ptr.astype(INDEX_DTYPE)
        self.bias = None
        if bias is not None:
            bias = check_weight("SparseLinear", bias, "bias")
            if bias.shape != (out_features,):
                raise ValueError(f"SparseLinear: bias must have shape ({out_features},), got {bias.shape}")
            self.bias = Parameter(bias, dtype=values.dtype)

    @property
    def shape(self) -> tuple[int, int]:
        """Given: the dense weight's shape, (C_out, C_in)."""
        return (self.out_features, self.in_features)

    @classmethod
    def from_dense(cls, weight, bias=None) -> SparseLinear:
        """The CSR form of ``weight``: every non-zero stored, every zero (−0.0 too) left out.

        Args:
            weight: ndarray or Tensor (C_out, C_in), floating-point, finite.
            bias: ndarray or Tensor (C_out,) or None.
        Returns:
            A ``SparseLinear`` (built with the given constructor) whose ``values`` are
            ``weight[weight != 0]`` in row-major order (a copy, weight's dtype), ``col_indices``
            their columns, ``row_ptr[i]`` the number of non-zeros in rows 0 .. i − 1.
        Raises:
            ValueError: ``"SparseLinear.from_dense: weight must have 2 dimensions (C_out, C_in),
                got (4,)"``; the given ``check_weight``'s errors (nan, dtype), naming
                ``SparseLinear.from_dense``.
        Complexity:
            O(C_out·C_in) time; memory: a bool mask of the weight's size and the CSR arrays.
        Example:
            >>> s = SparseLinear.from_dense(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]))
            >>> s.values.numpy(), s.col_indices, s.row_ptr
            (array([2., 1., 3.]), array([1, 0, 2], dtype=int32), array([0, 1, 3], dtype=int32))
        """
        raise NotImplementedError(
            "16 compression: implement SparseLinear.from_dense — see exercises/16_compression/README.md, step 5"
        )

    @classmethod
    def from_linear(cls, layer: Linear) -> SparseLinear:
        """``from_dense(layer.weight, layer.bias)``: a pruned Linear, stored sparse.

        Raises:
            TypeError: ``"SparseLinear.from_linear: layer must be a Linear, got ReLU"``.
        Example:
            >>> SparseLinear.from_linear(Linear(3, 2)).shape
            (2, 3)
        """
        raise NotImplementedError(
            "16 compression: implement SparseLinear.from_linear — see exercises/16_compression/README.md, step 5"
        )

    def to_dense(self) -> np.ndarray:
        """The dense weight (C_out, C_in), values' dtype: zeros where nothing is stored.

        ``SparseLinear.from_dense(w).to_dense()`` equals ``w`` (a −0.0 comes back as 0.0).

        Complexity:
            O(C_out·C_in) time and memory: for inspection and tests, never for the forward.
        Example:
            >>> SparseLinear.from_dense(np.array([[0.0, 2.0], [1.0, 0.0]])).to_dense()
            array([[0., 2.],
                   [1., 0.]])
        """
        raise NotImplementedError(
            "16 compression: implement SparseLinear.to_dense — see exercises/16_compression/README.md, step 5"
        )

    @property
    def nbytes(self) -> int:
        """The bytes of the stored weight: ``nnz·(value + index bytes) + (C_out + 1)·index bytes``.

        That is ``values.nbytes + col_indices.nbytes + row_ptr.nbytes``, the bias not included
        (compare with a dense weight's ``C_out·C_in·itemsize``). With float32 values and int32
        indices, CSR is smaller than dense below a density of about 1/2.

        Example:
            >>> SparseLinear.from_dense(np.eye(3, dtype=np.float32)).nbytes  # 3·(4 + 4) + 4·4
            40
        """
        raise NotImplementedError(
            "16 compression: implement SparseLinear.nbytes — see exercises/16_compression/README.md, step 5"
        )

    def forward(self, x: Tensor) -> Tensor:
        """``x @ Wᵀ + bias`` through ``SparseMatMul``, W never densified.

        Args:
            x: Tensor (B, ..., C_in), the values' dtype.
        Returns:
            Tensor (B, ..., C_out); gradients flow to x, ``values`` and ``bias``.
        Raises:
            The given ``check_input``'s errors, naming ``SparseLinear``.
        Complexity:
            O(R·nnz) time, dense's O(R·C_out·C_in) times the density; memory: the (R, nnz)
            products and the output (more than the dense weight once R > 1 / density).
        Example:
            >>> s = SparseLinear.from_dense(np.array([[0.0, 2.0], [1.0, 0.0]]), np.array([0.5, 0.0]))
            >>> s(Tensor(np.array([[3.0, 4.0]]))).numpy()
            array([[8.5, 3. ]])
        """
        raise NotImplementedError(
            "16 compression: implement SparseLinear.forward — see exercises/16_compression/README.md, step 6"
        )


# --- step 7: low rank ----------------------------------------------------------------------


def low_rank(layer: Linear, rank: int) -> Sequential:
    """Two Linears whose product is the best rank-``rank`` approximation of ``layer``'s weight.

    With the SVD ``W = U·diag(σ)·Vᵀ`` (σ decreasing), keep the first r singular triplets:
    ``W_r = (U_r·diag(σ_r)) · V_rᵀ``. The first Linear (C_in → r, no bias) has weight ``V_rᵀ``
    (r, C_in); the second (r → C_out) has weight ``U_r·diag(σ_r)`` (C_out, r) and the layer's
    bias. Eckart–Young: no rank-r matrix is closer to W in Frobenius norm, and
    ``‖W − W_r‖_F² = Σ_{i > r} σ_i²``. Parameters: ``r·(C_in + C_out)`` instead of
    ``C_in·C_out`` (plus the bias): fewer when ``r < C_in·C_out / (C_in + C_out)``.

    Args:
        layer: a 04 Linear (not changed).
        rank: r, an integer in [1, min(C_out, C_in)].
    Returns:
        ``Sequential(Linear(C_in, r, bias=False), Linear(r, C_out, bias=...))`` in the layer's
        dtype (the SVD is computed in float64). The two Linears are built with a throwaway
        generator, so 04's shared one is not consumed.
    Raises:
        TypeError: ``"low_rank: layer must be a Linear, got ReLU"``.
        ValueError: ``"low_rank: rank must be an integer in [1, 3], got 4"`` (a bool or a
            float too).
    Complexity:
        O(C_out·C_in·min(C_out, C_in)) time for the SVD; memory: U, σ, Vᵀ in float64.
    Example:
        >>> [tuple(p.shape) for p in low_rank(Linear(5, 4), 2).parameters()]
        [(2, 5), (4, 2), (4,)]
    """
    raise NotImplementedError("16 compression: implement low_rank — see exercises/16_compression/README.md, step 7")


# --- step 8: knowledge distillation --------------------------------------------------------


def distillation_loss(
    student_logits: Tensor, teacher_logits: Tensor, target, temperature: float = 2.0, alpha: float = 0.5
) -> Tensor:
    """Hinton's distillation loss: ``alpha · T² · KL(p_T ‖ q_T) + (1 − alpha) · CE(student, target)``.

    ``p_T = softmax(teacher / T)``, ``q_T = softmax(student / T)`` row by row (T the
    temperature: above 1 it softens both, so the student learns how the teacher ranks the wrong
    classes too). ``KL(p ‖ q) = Σ_c p_c·(log p_c − log q_c)``, summed over classes and averaged
    over the batch (PyTorch's ``kl_div(..., reduction="batchmean")``); ``log q_T`` is the
    student's ``(student / T).log_softmax(axis=1)`` (autograd), ``log p_T`` 02's
    ``log_softmax`` of the teacher's array (a constant). ``CE`` is 05's ``cross_entropy``
    (mean). The T² keeps the soft term's gradient, which scales as 1/T², comparable across
    temperatures. Both terms are always computed, then ``soft · alpha + hard · (1 − alpha)``:
    alpha = 0 gives exactly the cross-entropy, alpha = 1 exactly ``T²·KL``.

    Overflow is refused, never returned as nan: the logits must be finite; T must lie in
    ``[1/L, L]`` with ``L = √max / 2`` (max the logits' dtype's largest finite value,
    ``np.finfo(dtype).max``), so that T² and 1/T are finite ([1.49e-154, 6.7e+153] in
    float64, [1.08e-19, 9.22e+18] in float32); and both terms are computed under
    ``np.errstate(over="ignore", invalid="ignore")`` then checked: a soft or hard term that is
    not finite (logits too large for this temperature, e.g. ±1e300 at T = 1e-8) is an error.

    Args:
        student_logits: Tensor (B, C), floating-point, finite, B >= 1: gradients flow here.
        teacher_logits: Tensor (B, C) of the student's dtype, finite: a constant (no gradient
            reaches it).
        target: (B,) integer class indices in [0, C), ndarray or Tensor.
        temperature: T, a real number in [1/L, L] (above).
        alpha: the soft term's weight, a real number in [0, 1].
    Returns:
        A 0-d Tensor, the logits' dtype, >= 0 (up to rounding in the KL's sum).
    Raises:
        TypeError: ``"distillation_loss: teacher_logits must be a Tensor, got ndarray"``, and the
            dtypes (05's given ``check_pair`` and ``check_class_indices``);
            ``"distillation_loss: temperature must be a real number, got str"`` (alpha alike).
        ValueError: ``"distillation_loss: student_logits and teacher_logits must have the same
            shape, got (4, 3) and (4, 5)"``; ``"distillation_loss: student_logits must have shape
            (B, C) with C >= 1, got (3,)"``; ``"distillation_loss: target must be in [0, 3), got 7"``;
            ``"distillation_loss: teacher_logits must be finite, got nan"``;
            ``"distillation_loss: temperature must be > 0 and finite, got 0"``;
            ``"distillation_loss: temperature must be in [1.49e-154, 6.7e+153] for float64 logits
            (T² and 1/T finite), got 1e-320"``;
            ``"distillation_loss: the loss must be finite, got soft term nan and hard term 0.0
            (the logits are too large for temperature 1e-08 in float64)"``;
            ``"distillation_loss: alpha must be in [0, 1], got 1.5"``;
            ``"distillation_loss: the batch must not be empty, got shape (0, 3)"``.
    Complexity:
        O(B·C) time; memory: a few (B, C) arrays (both log-softmaxes, p, the graph's temporaries).
    Example:
        >>> s, t = Tensor([[2.0, 0.0]]), Tensor([[2.0, 0.0]])
        >>> float(distillation_loss(s, t, np.array([0]), alpha=1.0).numpy())  # the same logits: KL = 0
        0.0
    """
    raise NotImplementedError(
        "16 compression: implement distillation_loss — see exercises/16_compression/README.md, step 8"
    )
