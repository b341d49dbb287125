# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
"""01 tensor: an n-dimensional array with a shape, a dtype and a price in bytes.

A ``Tensor`` wraps one NumPy ndarray (its *storage*). This kata writes what sits on top of the
storage: sizes and bytes, broadcasting, elementwise ops, reductions, views and matmul, each
checking its inputs and saying clearly what is wrong. The shape checks are plain functions
(``broadcast_shapes``, ``check_elementwise``, ``matmul_shape``) so that 03 autograd reuses them.
"""

from __future__ import annotations

import decimal
import numbers
from collections.abc import Callable

import numpy as np

Axis = int | tuple[int, ...] | None
Scalar = int | float | bool


def type_name(value: object) -> str:
    """Given: how an error message names the type of ``value``.

    The bare class name, except for a class named ``Tensor``, which kata 01 and kata 03 both
    define: there the module says which one came (``"tinytorch.tensor.Tensor"`` is 01's, without
    autograd; ``"tinytorch.autograd.Tensor"`` is 03's).

    Example:
        >>> type_name([1, 2]), type_name(Tensor([1.0]))
        ('list', 'tinytorch.tensor.Tensor')
    """
    kind = type(value)
    if kind.__name__ == "Tensor":
        return f"{kind.__module__}.{kind.__qualname__}"
    return kind.__name__


def is_int(value: object) -> bool:
    """Given: whether ``value`` is an integer (Python or NumPy) and not a bool.

    ``True`` is an ``int`` to Python (``True + True == 2``), so ``isinstance(True, int)`` holds;
    as an axis or a size it is almost always a mistake (``axis=True`` would mean axis 1), so
    axes and sizes refuse it.

    Example:
        >>> is_int(2), is_int(np.int64(2)), is_int(True), is_int(2.0)
        (True, True, False, False)
    """
    return type(value) is int or isinstance(value, np.integer)  # type(True) is bool, not int


def is_plain(value: object) -> bool:
    """Given: whether ``repr(value)`` shows only plain values (so no object's address).

    Plain: None, a bool, a number, a str, a NumPy scalar, or a ``list``, ``tuple`` or ``dict``
    (those exact types) holding only plain values, at any depth.

    Example:
        >>> is_plain([1.5, ("a", None), {"k": True}]), is_plain([np.random.default_rng(0)])
        (True, False)
    """
    todo, seen = [value], set()
    while todo:  # NOTE: a loop, not recursion: a deeply nested list must not overflow the stack
        item = todo.pop()
        if item is None or isinstance(item, (numbers.Number, str, np.generic)):  # bool is a Number
            continue
        if type(item) not in (list, tuple, dict):
            return False
        if id(item) in seen:  # a container holding itself: its repr writes [...]
            continue
        seen.add(id(item))
        if type(item) is dict:
            todo.extend(item.keys())
            todo.extend(item.values())
        else:
            todo.extend(item)
    return True


def shown(value: object) -> str:
    """Given: how an error message writes a value it was given: its repr, or its type.

    A plain value (``is_plain``: None, a bool, a number, a str, a NumPy scalar, or a list,
    tuple or dict of those) is written as ``repr(value)``, abbreviated when long; anything
    else by its type, ``type_name(value)``, so that no message prints an object's address
    (``shown(np.random.default_rng(0)) == "Generator"``, ``shown(np.ones(3)) == "ndarray"``).
    The abbreviations: an int of more than 80 digits is written in scientific notation with
    its digit count, ``"1.000e+400 (an int of 401 digits)"`` (never in full: Python refuses to
    write an int past 4300 digits at all); any other repr ``text`` longer than 80 characters
    as ``text[:60] + f"... ({len(text)} characters)"``, its first 60 characters and how long
    it was; a repr that fails (a list holding an int past 4300 digits, or nested deeper than
    Python's recursion limit) as ``"a list too large to show"``.

    Example:
        >>> shown(-1), shown("x"), shown([1, 2]), shown(None), shown(np.random.default_rng(0))
        ('-1', "'x'", '[1, 2]', 'None', 'Generator')
        >>> shown(10**400), shown("x" * 100)[-20:]
        ('1.000e+400 (an int of 401 digits)', '... (102 characters)')
    """
    if not is_plain(value):
        return type_name(value)
    if is_int(value) and abs(int(value)) >= 10**80:
        # NOTE: Decimal holds the int exactly (no 4300-digit limit); adjusted() is its exponent.
        exact = decimal.Decimal(int(value))
        return f"{exact:.3e} (an int of {exact.adjusted() + 1} digits)"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int past 4300 digits inside a container; a list nested too deep
        return f"a {type_name(value)} too large to show"
    if len(text) > 80:
        return f"{text[:60]}... ({len(text)} characters)"
    return text


def check_sizes(op: str, *shapes: tuple[int, ...]) -> None:
    """Given: raise ValueError unless every size in ``shapes`` is a non-negative int (``is_int``).

    Example message: ``"add: sizes must be non-negative ints, got (-1,)"`` (the first bad shape).
    """
    for shape in shapes:
        for side in shape:
            if not is_int(side) or side < 0:
                raise ValueError(f"{op}: sizes must be non-negative ints, got {tuple(shape)}")


def broadcast_shapes(*shapes: tuple[int, ...], op: str = "broadcast_shapes") -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, by NumPy's rules, written out by hand.

    Align the shapes on the right; in each position the sizes must be equal, or one of them 1
    (a missing leading dimension counts as 1). The result takes the larger size.

    Args:
        *shapes: tuples of non-negative ints (a bool is not a size).
        op: the operation asking, for the error message.
    Returns:
        The broadcast shape, a tuple of ints (``()`` when no shapes are given).
    Raises:
        ValueError: ``"<op>: shapes must broadcast, got (2, 3) and (4,)"``;
            ``"<op>: sizes must be non-negative ints, got (-1,)"`` for a size below 0 or not an
            int (the given ``check_sizes`` raises it).
    Complexity:
        O(len(shapes) · max ndim) time, O(max ndim) memory. No array is touched.
    Example:
        >>> broadcast_shapes((2, 1, 4), (3, 1))
        (2, 3, 4)
    """
    raise NotImplementedError("01 tensor: implement broadcast_shapes — see exercises/01_tensor/README.md, step 2")


def check_elementwise(op: str, a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    """Check that ``a`` and ``b`` can be combined elementwise; return the output shape.

    Args:
        op: the operation, for error messages (``"add"``, ``"mul"``, ...).
        a, b: arrays of any shapes.
    Returns:
        ``broadcast_shapes(a.shape, b.shape)``.
    Raises:
        TypeError: ``"<op>: dtypes must match, got float32 and float64"`` (no silent upcast:
            mixing would double the bytes of float32 data without anyone asking).
        ValueError: from ``broadcast_shapes`` when the shapes do not broadcast.
    Complexity:
        O(ndim) time and memory.
    Example:
        >>> check_elementwise("add", np.zeros((2, 3)), np.zeros(3))
        (2, 3)
    """
    raise NotImplementedError("01 tensor: implement check_elementwise — see exercises/01_tensor/README.md, step 3")


def normalize_axis(op: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    """Given: ``axis`` as a sorted tuple of non-negative axes (None means every axis).

    Raises ValueError ``"<op>: axis 2 is out of range for a tensor of 2 dimensions"``, or
    ``"<op>: axis must not repeat, got (0, 0)"``; TypeError ``"<op>: axis must be an int, a tuple
    of ints or None, got True"`` (a bool is refused: ``axis=True`` would silently mean axis 1).
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if is_int(axis) else axis
    if not isinstance(axes, (tuple, list)) or not all(is_int(a) for a in axes):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    axes = tuple(int(a) for a in axes)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    normalized = tuple(sorted(a % ndim for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis must not repeat, got {axis}")
    return normalized


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of ``A @ B`` for ``A`` of shape ``(..., m, k)`` and ``B`` of shape ``(..., k, n)``.

    Leading (batch) dimensions broadcast; the result is ``(*batch, m, n)``.

    Raises:
        ValueError: ``"matmul: operands must have at least 2 dimensions, got (3,) @ (3, 4)"``;
            ``"matmul: inner dimensions must match, got (2, 3) @ (4, 5)"``; or, from
            ``broadcast_shapes``, ``"matmul: shapes must broadcast, ..."`` for the batch dims;
            from ``check_sizes``, ``"matmul: sizes must be non-negative ints, got (2, -3)"``.
    Complexity:
        O(ndim).
    Example:
        >>> matmul_shape((5, 2, 3), (3, 4))
        (5, 2, 4)
    """
    raise NotImplementedError("01 tensor: implement matmul_shape — see exercises/01_tensor/README.md, step 6")


def matmul_loops(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """``a @ b`` for 2-D arrays with three Python loops, counting floating-point operations.

    Each inner step does one multiply and one add, so the count must come to ``2·m·n·k``.

    Args:
        a: shape (m, k). b: shape (k, n). Same dtype.
    Returns:
        ``(out, flops)``: out of shape (m, n) and a's dtype; flops an int.
    Raises:
        ValueError: ``"matmul_loops: operands must have 2 dimensions, got (2, 3, 4) @ (4, 5)"``;
            otherwise as ``matmul_shape`` (``"matmul: inner dimensions must match, ..."``).
        TypeError: ``"matmul_loops: dtypes must match, got float32 and float64"``.
    Complexity:
        O(m·n·k) Python-level steps (slow on purpose: compare with ``a @ b``), O(m·n) memory.
    Example:
        >>> out, flops = matmul_loops(np.ones((2, 3)), np.ones((3, 4)))
        >>> out[0, 0], flops
        (np.float64(3.0), 48)
    """
    raise NotImplementedError("01 tensor: implement matmul_loops — see exercises/01_tensor/README.md, step 7")


class Tensor:
    """An n-dimensional array: NumPy storage plus the operations this kata writes."""

    # NOTE: given. Without this, `np.float64(2.0) * t` or `array * t` would let NumPy treat the
    # Tensor as an opaque object and build an object array of Tensors, one per element (46 s
    # and 1.1 GB at 1000x1000). `None` tells NumPy to step aside: Python then calls the Tensor's
    # reflected operator (`t.__rmul__`), which accepts the NumPy scalar as a number and
    # refuses an array with a clear error.
    __array_ufunc__ = None

    def __init__(self, data, dtype=None) -> None:
        """Wrap ``data`` (a Tensor, an ndarray, a nested list or a number) as ``self.data``.

        An ndarray is *shared*, not copied (as ``torch.from_numpy``): creating a Tensor costs
        no bytes. A Tensor is unwrapped to its ndarray. ``dtype`` converts (a copy when it differs).

        Raises:
            TypeError: ``"Tensor: dtype must be boolean, integer or floating, got <U1"``.
        Complexity:
            O(1) for an ndarray of the right dtype; O(N) to convert anything else.
        Example:
            >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).shape
            (2, 2)
        """
        raise NotImplementedError("01 tensor: implement Tensor.__init__ — see exercises/01_tensor/README.md, step 1")

    @property
    def shape(self) -> tuple[int, ...]:
        """Given: the size of each dimension."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """Given: the element type."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Given: the number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements: the product of the shape (1 for a 0-d tensor).

        Example:
            >>> Tensor(np.zeros((2, 3, 4))).size
            24
        """
        raise NotImplementedError("01 tensor: implement Tensor.size — see exercises/01_tensor/README.md, step 1")

    @property
    def nbytes(self) -> int:
        """The bytes the elements take: ``size · itemsize`` (not the storage a view shares).

        Example:
            >>> Tensor(np.zeros((2, 3), dtype=np.float32)).nbytes
            24
        """
        raise NotImplementedError("01 tensor: implement Tensor.nbytes — see exercises/01_tensor/README.md, step 1")

    def numpy(self) -> np.ndarray:
        """Given: the storage, as an ndarray (shared, not copied)."""
        return self.data

    def __repr__(self) -> str:
        """Given. Survives a half-built Tensor (no ``data`` yet), as a traceback may show one."""
        if "data" not in vars(self):
            return "Tensor(<no data: __init__ did not finish>)"
        return f"Tensor({self.data!r})"

    def __len__(self) -> int:
        """Given: the size of the first dimension."""
        return len(self.data)

    # --- elementwise operations (step 3) --------------------------------------------------

    def _elementwise(self, other: Tensor | Scalar, fn: Callable, op: str) -> Tensor:
        """``fn(self.data, other)`` elementwise with broadcasting, after checking shapes and dtypes.

        The promotion rule for a number (PyTorch's, with float64 as the default float dtype,
        the dtype of ``Tensor([1.0])``): a number does not widen a float tensor (float32 stays
        float32, even with a Python float); an int or bool tensor meeting a Python float gives
        float64; an int tensor meeting a Python int stays int (except under ``/``, true division,
        which gives float64). NumPy 2 does exactly this when the number is passed to the ufunc
        as the Python number it is.

        Args:
            other: a Tensor, or a number: a Python int, float or bool, or a NumPy scalar
                (``np.float64(2.0)``), which counts as the Python number it holds
                (``other.item()``), so it does not widen a float32 tensor either.
            fn: a NumPy ufunc such as ``np.add``, called as ``fn(self.data, other)``.
            op: its name for errors.
        Returns:
            A new Tensor of the broadcast shape.
        Raises:
            TypeError: ``"add: operand must be a Tensor or a Python number, got list"`` (also for
                ``None`` or an ndarray; the type is named by ``type_name``).
            TypeError, ValueError: what ``check_elementwise`` raises.
        Complexity:
            O(N) time and one output of N elements, N the broadcast size. No expanded copies
            of the inputs: NumPy broadcasts with zero strides.
        Example:
            >>> (Tensor([1.0, 2.0]) + 1.0).numpy()
            array([2., 3.])
        """
        raise NotImplementedError(
            "01 tensor: implement Tensor._elementwise — see exercises/01_tensor/README.md, step 3"
        )

    def __add__(self, other):
        return self._elementwise(other, np.add, "add")

    def __radd__(self, other):
        return self._elementwise(other, np.add, "add")

    def __sub__(self, other):
        return self._elementwise(other, np.subtract, "sub")

    def __rsub__(self, other):
        return self._elementwise(other, lambda a, b: b - a, "sub")

    def __mul__(self, other):
        return self._elementwise(other, np.multiply, "mul")

    def __rmul__(self, other):
        return self._elementwise(other, np.multiply, "mul")

    def __truediv__(self, other):
        return self._elementwise(other, np.divide, "div")

    def __rtruediv__(self, other):
        return self._elementwise(other, lambda a, b: b / a, "div")

    def __pow__(self, exponent: Scalar):
        return self._elementwise(exponent, np.power, "pow")

    def __neg__(self):
        if self.dtype == np.bool_:  # NumPy would give int -1; PyTorch refuses, and so do we
            raise TypeError("neg: dtype must not be bool, got bool")
        return self._elementwise(-1, np.multiply, "neg")

    # --- reductions (step 4) --------------------------------------------------------------

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all); a float tensor keeps its dtype.

        Raises:
            ValueError: ``"sum: axis 2 is out of range for a tensor of 2 dimensions"``.
        Complexity:
            O(N) time, O(output) memory.
        Example:
            >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).numpy()
            array([4., 6.])
        """
        raise NotImplementedError("01 tensor: implement Tensor.sum — see exercises/01_tensor/README.md, step 4")

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: the sum divided by the number of elements reduced.

        Returns:
            A float tensor keeps its dtype; an int or bool tensor's mean is float64, the
            default float dtype (``Tensor([1, 2]).mean()`` is 1.5, never 1).
        Raises:
            ValueError: as ``sum``, with ``mean:``; ``"mean: must reduce at least one element"``.
        Complexity:
            O(N) time, O(output) memory.
        Example:
            >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).mean(axis=1).numpy()
            array([1.5, 3.5])
        """
        raise NotImplementedError("01 tensor: implement Tensor.mean — see exercises/01_tensor/README.md, step 4")

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The largest element over ``axis``.

        Raises:
            ValueError: as ``sum``, with ``max:``; ``"max: must reduce at least one element"``.
        Complexity:
            O(N) time, O(output) memory.
        Example:
            >>> Tensor([[1.0, 5.0], [3.0, 4.0]]).max(axis=0).numpy()
            array([3., 5.])
        """
        raise NotImplementedError("01 tensor: implement Tensor.max — see exercises/01_tensor/README.md, step 4")

    # --- views (step 5) -------------------------------------------------------------------

    def reshape(self, *shape: int) -> Tensor:
        """The same elements in a new shape; one size may be -1 (inferred). A view if possible.

        ``t.reshape(2, 3)`` and ``t.reshape((2, 3))`` both work.

        Raises:
            ValueError: ``"reshape: cannot reshape a tensor of size 6 into shape (4, 2)"`` (also
                for a negative size other than a single -1).
            TypeError: ``"reshape: sizes must be ints, got (True, 6)"`` (a bool is not a size).
        Complexity:
            O(1) time and memory for a contiguous tensor (a view shares the storage);
            a transposed tensor is copied.
        Example:
            >>> Tensor(np.arange(6.0)).reshape(2, -1).shape
            (2, 3)
        """
        raise NotImplementedError("01 tensor: implement Tensor.reshape — see exercises/01_tensor/README.md, step 5")

    def transpose(self, *axes: int) -> Tensor:
        """Permute the dimensions (reverse them when no axes are given). Always a view.

        Raises:
            ValueError: ``"transpose: axes must be a permutation of 0..1, got (0, 0)"`` (bools
                such as ``(True, False)`` are not axes).
        Complexity:
            O(ndim): only the strides change; no element moves.
        Example:
            >>> Tensor(np.zeros((2, 3, 4))).transpose(2, 0, 1).shape
            (4, 2, 3)
        """
        raise NotImplementedError("01 tensor: implement Tensor.transpose — see exercises/01_tensor/README.md, step 5")

    @property
    def T(self) -> Tensor:
        """Given: the transpose, all dimensions reversed."""
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        """NumPy indexing: ints and slices give a view; integer arrays give a copy.

        An int for every dimension gives a 0-d view (NumPy alone would return a copied scalar).
        A Tensor index, alone or in a tuple (``t[rows, cols]``), counts as its array.

        Raises:
            IndexError: NumPy's own message, which names the axis and its size.
        Complexity:
            O(1) for a view; O(output) for a copy.
        Example:
            >>> Tensor(np.arange(6.0).reshape(2, 3))[:, 1].numpy()
            array([1., 4.])
        """
        raise NotImplementedError("01 tensor: implement Tensor.__getitem__ — see exercises/01_tensor/README.md, step 5")

    # --- matmul (step 6) ------------------------------------------------------------------

    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product ``self @ other`` over the last two dimensions, batch dims broadcast.

        Args:
            other: a Tensor of shape ``(..., k, n)``; self has shape ``(..., m, k)``.
        Returns:
            Shape ``(*batch, m, n)``.
        Raises:
            TypeError: ``"matmul: operand must be a Tensor, got list"`` (the type as ``type_name`` says);
                ``"matmul: dtypes must match, got float32 and float64"``.
            ValueError: from ``matmul_shape``.
        Complexity:
            2·m·n·k FLOPs per batch element; O(output) memory.
        Example:
            >>> (Tensor(np.ones((2, 3))) @ Tensor(np.ones((3, 4)))).shape
            (2, 4)
        """
        raise NotImplementedError("01 tensor: implement Tensor.matmul — see exercises/01_tensor/README.md, step 6")

    def __matmul__(self, other: Tensor) -> Tensor:
        return self.matmul(other)
