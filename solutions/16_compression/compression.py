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
    # solution: step 1
    sparsity = check_sparsity("magnitude_prune", sparsity)
    array = check_weight("magnitude_prune", weight)
    k = prune_count(sparsity, array.size)
    # NOTE: kind="stable": equal magnitudes keep their flat-index order, which is the tie rule.
    order = np.argsort(np.abs(array).ravel(), kind="stable")  # (N,) smallest magnitude first
    keep = np.ones(array.size, dtype=bool)  # (N,)
    keep[order[:k]] = False
    return keep.reshape(array.shape)


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
    # solution: step 2
    sparsity = check_sparsity("global_magnitude_prune", sparsity)
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"global_magnitude_prune: weights must be a non-empty list or tuple, got {type_name(weights)}")
    if not weights:
        raise ValueError("global_magnitude_prune: weights must be a non-empty list or tuple, got an empty list")
    arrays = [check_weight("global_magnitude_prune", w, f"weights[{i}]") for i, w in enumerate(weights)]
    magnitudes = np.concatenate([np.abs(a).ravel() for a in arrays])  # (N,) in tensor order
    k = prune_count(sparsity, magnitudes.size)
    order = np.argsort(magnitudes, kind="stable")  # NOTE: stable: ties in concatenation order
    keep = np.ones(magnitudes.size, dtype=bool)  # (N,)
    keep[order[:k]] = False
    ends = np.cumsum([a.size for a in arrays])  # where each tensor's elements end in `keep`
    return [part.reshape(a.shape) for part, a in zip(np.split(keep, ends[:-1]), arrays, strict=True)]


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
    # solution: step 3
    sparsity = check_sparsity("structured_prune", sparsity)
    array = check_weight("structured_prune", weight)
    if array.ndim < 2:
        raise ValueError(f"structured_prune: weight must have at least 2 dimensions (C_out, ...), got {array.shape}")
    # NOTE: the row length spelled out, not -1: NumPy cannot infer -1 for an array of size 0.
    rows = array.reshape(array.shape[0], math.prod(array.shape[1:])).astype(np.float64)  # (C_out, rest)
    norms = np.sqrt(np.sum(rows * rows, axis=1))  # (C_out,)
    k = prune_count(sparsity, array.shape[0])
    order = np.argsort(norms, kind="stable")  # NOTE: stable: equal norms, lower row first
    keep_rows = np.ones(array.shape[0], dtype=bool)  # (C_out,)
    keep_rows[order[:k]] = False
    shape = (array.shape[0],) + (1,) * (array.ndim - 1)  # (C_out, 1, ...) broadcasts over a row
    return np.broadcast_to(keep_rows.reshape(shape), array.shape).copy()


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
        # solution: step 4
        super().__init__()
        check_linear("MaskedLinear", layer)
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            got = mask.dtype if isinstance(mask, np.ndarray) else type_name(mask)
            raise TypeError(f"MaskedLinear: mask must be a bool ndarray, got {got}")
        if mask.shape != layer.weight.shape:
            raise ValueError(f"MaskedLinear: mask must have the weight's shape {layer.weight.shape}, got {mask.shape}")
        self.in_features, self.out_features = layer.in_features, layer.out_features
        self.weight = layer.weight
        self.bias = layer.bias
        self.mask = mask.copy()

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
        # solution: step 4
        check_input("MaskedLinear", x, self.in_features, self.weight.dtype)
        mask = Tensor(self.mask.astype(self.weight.dtype))  # (C_out, C_in), a constant
        return linear(x, self.weight * mask, self.bias)

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
        # solution: step 4
        self.weight.data *= self.mask  # in place: the pruned weights become exactly 0
        layer = Linear.__new__(Linear)
        Module.__init__(layer)
        layer.in_features, layer.out_features = self.in_features, self.out_features
        layer.weight, layer.bias = self.weight, self.bias
        return layer


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
        # solution: step 6
        if x.dtype != values.dtype:
            raise TypeError(f"SparseMatMul: x and values must have the same dtype, got {x.dtype} and {values.dtype}")
        rows = x.reshape(-1, x.shape[-1])  # (R, C_in)
        products = rows[:, col_indices]  # (R, nnz): a gather, a new array
        products *= values  # in place, values broadcast over the rows
        out = np.zeros((rows.shape[0], out_features), dtype=x.dtype)  # (R, C_out): empty rows stay 0
        nonempty = np.diff(row_ptr) > 0  # (C_out,)
        # NOTE: np.add.reduceat(a, starts) sums a[starts[i]:starts[i+1]], but for an empty
        # segment it returns a[starts[i]] instead of 0, and it needs at least one index: so it
        # is given only the starts of the non-empty rows (an empty row's start equals the next
        # row's, so the segments come out right).
        if nonempty.any():
            out[:, nonempty] = np.add.reduceat(products, row_ptr[:-1][nonempty], axis=1)
        ctx.save_for_backward(x, values, col_indices, row_ptr)
        return out.reshape(*x.shape[:-1], out_features)

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """dL/dx[r, c] = Σ_{j : col[j] = c} values[j]·g[r, row(j)]; dL/dvalues[j] = Σ_r g[r, row(j)]·x[r, col[j]].

        Only the gradients ``ctx.needs_input_grad`` asks for; the other is None.
        """
        # solution: step 6
        x, values, col_indices, row_ptr = ctx.saved
        needs = ctx.needs_input_grad
        rows = x.reshape(-1, x.shape[-1])  # (R, C_in)
        g = grad.reshape(rows.shape[0], -1)  # (R, C_out)
        g_of_value = g[:, row_of_each_value(row_ptr)]  # (R, nnz): the upstream gradient of each value's row
        grad_x = grad_values = None
        if needs[0]:
            grad_rows = np.zeros_like(rows)  # (R, C_in)
            # NOTE: np.add.at, not `+=` with fancy indexing: a column used by several rows
            # receives every contribution.
            np.add.at(grad_rows, (slice(None), col_indices), g_of_value * values)
            grad_x = grad_rows.reshape(x.shape)
        if needs[1]:
            grad_values = np.einsum("rj,rj->j", g_of_value, rows[:, col_indices])  # (nnz,)
        return grad_x, grad_values


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
        # solution: step 5
        array = check_weight("SparseLinear.from_dense", weight)
        if array.ndim != 2:
            raise ValueError(f"SparseLinear.from_dense: weight must have 2 dimensions (C_out, C_in), got {array.shape}")
        stored = array != 0  # (C_out, C_in) bool
        _, col_indices = np.nonzero(stored)  # (nnz,) each, row-major: columns increase within a row
        row_ptr = np.concatenate([[0], np.cumsum(stored.sum(axis=1))])  # (C_out + 1,)
        bias = None if bias is None else check_weight("SparseLinear.from_dense", bias, "bias")
        return cls(array[stored], col_indices, row_ptr, array.shape, bias)

    @classmethod
    def from_linear(cls, layer: Linear) -> SparseLinear:
        """``from_dense(layer.weight, layer.bias)``: a pruned Linear, stored sparse.

        Raises:
            TypeError: ``"SparseLinear.from_linear: layer must be a Linear, got ReLU"``.
        Example:
            >>> SparseLinear.from_linear(Linear(3, 2)).shape
            (2, 3)
        """
        # solution: step 5
        check_linear("SparseLinear.from_linear", layer)
        return cls.from_dense(layer.weight.data, None if layer.bias is None else layer.bias.data)

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
        # solution: step 5
        dense = np.zeros(self.shape, dtype=self.values.dtype)  # (C_out, C_in)
        dense[row_of_each_value(self.row_ptr), self.col_indices] = self.values.data
        return dense

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
        # solution: step 5
        return self.values.nbytes + self.col_indices.nbytes + self.row_ptr.nbytes

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
        # solution: step 6
        check_input("SparseLinear", x, self.in_features, self.values.dtype)
        out = SparseMatMul.apply(
            x, self.values, col_indices=self.col_indices, row_ptr=self.row_ptr, out_features=self.out_features
        )
        return out if self.bias is None else out + self.bias


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
    # solution: step 7
    check_linear("low_rank", layer)
    most = min(layer.out_features, layer.in_features)
    if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, numbers.Integral) or not 1 <= rank <= most:
        raise ValueError(f"low_rank: rank must be an integer in [1, {most}], got {rank!r}")
    dtype = layer.weight.dtype
    u, sigma, vt = np.linalg.svd(
        layer.weight.data.astype(np.float64), full_matrices=False
    )  # (C_out, k), (k,), (k, C_in)
    throwaway = np.random.default_rng(0)  # the init is overwritten below
    first = Linear(layer.in_features, rank, bias=False, rng=throwaway, dtype=dtype)
    second = Linear(rank, layer.out_features, bias=layer.bias is not None, rng=throwaway, dtype=dtype)
    first.weight.data[...] = vt[:rank]  # (r, C_in)
    second.weight.data[...] = u[:, :rank] * sigma[:rank]  # (C_out, r): each column scaled by its σ
    if layer.bias is not None:
        second.bias.data[...] = layer.bias.data
    return Sequential(first, second)


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
    # solution: step 8
    check_pair("distillation_loss", "student_logits", student_logits, "teacher_logits", teacher_logits)
    if student_logits.ndim != 2 or student_logits.shape[1] == 0:  # before 05's check, which says "logits"
        raise ValueError(
            f"distillation_loss: student_logits must have shape (B, C) with C >= 1, got {student_logits.shape}"
        )
    indices = check_class_indices("distillation_loss", student_logits, target)
    for name, logits in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        bad = logits.data[~np.isfinite(logits.data)]
        if bad.size:
            raise ValueError(f"distillation_loss: {name} must be finite, got {bad[0]}")
    for name, value in (("temperature", temperature), ("alpha", alpha)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"distillation_loss: {name} must be a real number, got {type_name(value)}")
    if not 0.0 < temperature < math.inf:
        raise ValueError(f"distillation_loss: temperature must be > 0 and finite, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    dtype = student_logits.dtype
    limit = math.sqrt(float(np.finfo(dtype).max)) / 2  # L: T² <= max/4 and 1/T <= L, both finite
    if not 1 / limit <= temperature <= limit:
        raise ValueError(
            f"distillation_loss: temperature must be in [{1 / limit:.3g}, {limit:.3g}] for {dtype} logits"
            f" (T² and 1/T finite), got {temperature}"
        )
    if student_logits.shape[0] == 0:
        raise ValueError(f"distillation_loss: the batch must not be empty, got shape {student_logits.shape}")
    T = float(temperature)
    # NOTE: finite logits can still overflow once divided by T (or in T²·KL): computed quietly,
    # then refused below rather than returned as nan or inf.
    with np.errstate(over="ignore", invalid="ignore"):
        log_p = activations.log_softmax(teacher_logits.data / T, axis=1)  # (B, C) ndarray: a constant
        p = np.exp(log_p)  # (B, C); NOTE: p·log p from log_p is finite even where p underflows to 0
        log_q = (student_logits / T).log_softmax(axis=1)  # (B, C) Tensor, in the graph
        kl = (Tensor(p) * (Tensor(log_p) - log_q)).sum(axis=1).mean()  # 0-d: batchmean
        soft = kl * (T * T)
        hard = cross_entropy(student_logits, indices)  # 0-d, mean over the batch
    if not (np.isfinite(soft.data) and np.isfinite(hard.data)):
        raise ValueError(
            f"distillation_loss: the loss must be finite, got soft term {float(soft.data)}"
            f" and hard term {float(hard.data)} (the logits are too large for temperature {temperature} in {dtype})"
        )
    return soft * float(alpha) + hard * (1.0 - float(alpha))
