# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""03 autograd: the chain rule, automated.

Every differentiable operation is a ``Function``: ``forward`` computes on raw ndarrays and saves
what ``backward`` will need; ``backward`` turns the gradient of the output into gradients of the
inputs (a vector-Jacobian product). ``Function.apply`` is the single choke point: it runs the
forward and records the graph. ``Tensor.backward`` walks that graph from the output to the
leaves, in topological order, accumulating gradients where a tensor is used twice.

This ``Tensor`` extends 01's: same storage, shape and checks; every operation is redefined to
go through ``Function.apply``. Gradients (``Tensor.grad``) are plain ndarrays.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from tinytorch import activations
from tinytorch import tensor as base

# --- step 1: when to record ---------------------------------------------------------------


class _GradMode:
    """Given: a switch that ``no_grad`` flips; read it with ``is_grad_enabled()``."""

    enabled = True


def is_grad_enabled() -> bool:
    """Given: whether operations record a graph right now."""
    return _GradMode.enabled


class no_grad:
    """Context manager: operations inside it record no graph (evaluation, optimizer steps).

    Example:
        >>> x = Tensor([1.0], requires_grad=True)
        >>> with no_grad():
        ...     y = x * 2.0
        >>> y.requires_grad, y.grad_fn is None
        (False, True)
    """

    def __enter__(self) -> no_grad:
        """Turn recording off, remembering whether it was on (so that blocks can nest)."""
        raise NotImplementedError(
            "03 autograd: implement no_grad.__enter__ — see exercises/03_autograd/README.md, step 1"
        )

    def __exit__(self, *exc_info) -> None:
        """Restore recording as it was, even if the block raised."""
        raise NotImplementedError(
            "03 autograd: implement no_grad.__exit__ — see exercises/03_autograd/README.md, step 1"
        )


# --- step 2: Function, the node of the graph ---------------------------------------------


def as_tensors(op: str, inputs: tuple) -> list[Tensor]:
    """Given: the inputs of ``Function.apply`` as Tensors, by 01's promotion rule.

    A Tensor stays itself. A number (a Python int, float or bool, or a NumPy scalar, which
    counts as the Python number it holds) becomes a 0-d constant, ``requires_grad=False``, of
    the dtype 01's rule gives when the first Tensor meets the numbers: that Tensor's dtype
    (``2.0 * x`` stays float32), except that an int or bool tensor meeting a float gives
    float64, the default float dtype (``Tensor([1, 2]) * 0.5`` is ``[0.5, 1.0]``). An int or
    bool Tensor input is then converted to that dtype too: it cannot require grad, so it is a
    constant anyway. Float Tensors are never converted: 01's checks refuse float32 with float64.

    Raises TypeError ``"add: operand must be a Tensor or a Python number, got NoneType"`` for
    anything else: None, a list, an ndarray, or kata 01's Tensor (``"got
    tinytorch.tensor.Tensor"``; only this kata's Tensor can be recorded in a graph).

    Example:
        >>> [t.dtype.name for t in as_tensors("mul", (Tensor([1, 2]), 0.5))]
        ['float64', 'float64']
    """
    numbers = [_as_number(op, x) for x in inputs if not isinstance(x, Tensor)]
    if not numbers:
        return list(inputs)  # Tensors only: nothing to convert (the common case, kept cheap)
    first = next(x for x in inputs if isinstance(x, Tensor))
    # 01's rule (NumPy 2's for Python numbers): a float tensor keeps its dtype; an int or bool
    # one takes what NumPy gives it with these numbers (float64 with a float, else an int).
    dtype = first.dtype if first.dtype.kind == "f" else np.result_type(first.dtype, *numbers)
    constants = iter(numbers)
    tensors = []
    for x in inputs:
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(next(constants), dtype=dtype))
        elif x.dtype != dtype and x.dtype.kind in "biu":
            x = Tensor(x.data.astype(dtype))  # an int constant meeting a float number
        tensors.append(x)
    return tensors


def _as_number(op: str, x: object) -> int | float:
    """Given: ``x`` as a Python number (a NumPy scalar gives the number it holds), or TypeError."""
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        x = x.item()
    if not isinstance(x, (int, float)):
        raise TypeError(f"{op}: operand must be a Tensor or a Python number, got {base.type_name(x)}")
    return x


class Function:
    """One recorded operation: its inputs (``parents``) and what ``forward`` saved.

    A subclass writes two static methods on raw ndarrays:
    ``forward(ctx, *arrays, **options) -> ndarray`` and
    ``backward(ctx, grad_out) -> gradient or tuple of gradients, one per input``
    (``None`` for an input that needs none). The instance itself is the context ``ctx``.

    ``ctx.needs_input_grad`` (set by ``apply``, as in PyTorch) is a tuple of bools, one per
    input: whether that input's gradient is wanted (recording is on and the input requires
    grad). A backward may skip the work for an input whose flag is False and return ``None``
    in its place: ``MatMul`` then never computes the gradient of an input batch, a whole
    matrix product per layer per training step.
    """

    def __init__(self, *parents: Tensor) -> None:
        """Given."""
        self.parents = parents
        self.saved: tuple[np.ndarray, ...] | None = ()
        self.needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Given: keep ``arrays`` for ``backward`` (read them back from ``ctx.saved``)."""
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs: Tensor | float, **options) -> Tensor:
        """Run ``cls.forward`` on the inputs' arrays and, if needed, record the graph.

        The given ``as_tensors`` turns the inputs into Tensors (a number becomes a constant,
        by 01's promotion rule). Sets ``ctx.needs_input_grad``: per input, recording is on and
        the input requires grad. The output requires grad, and keeps this Function as its
        ``grad_fn``, only when some input needs a gradient; otherwise nothing is kept, so the
        Function and what it saved are freed at once.

        Args:
            *inputs: Tensors (at least one) or numbers (Python or NumPy scalars).
            **options: passed to ``forward`` (an axis, a shape, an exponent).
        Returns:
            A new Tensor holding the forward's output.
        Raises:
            TypeError: from ``as_tensors``: ``"add: operand must be a Tensor or a Python number,
                got NoneType"``.
        Complexity:
            The forward's, plus O(len(inputs)).
        Example:
            >>> y = Mul.apply(Tensor([2.0], requires_grad=True), 3.0)
            >>> y.numpy(), type(y.grad_fn).__name__, y.grad_fn.needs_input_grad
            (array([6.]), 'Mul', (True, False))
        """
        raise NotImplementedError("03 autograd: implement Function.apply — see exercises/03_autograd/README.md, step 2")

    def gradients(self, grad_out: np.ndarray, retain_graph: bool = False) -> tuple[np.ndarray | None, ...]:
        """Given: run ``backward`` and check what it returns; the engine's only way in.

        Checks that there is one gradient per input, each with its input's shape and dtype,
        and names the Function at fault. Unless ``retain_graph``, frees the saved arrays and
        the links to the inputs: what a backward pass has used, it no longer needs.
        """
        name = type(self).__name__
        if self.saved is None:
            raise RuntimeError(
                f"backward: {name} was already freed by an earlier backward(); "
                "pass retain_graph=True to the first backward() to go through a graph twice"
            )
        grads = type(self).backward(self, grad_out)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(self.parents):
            raise RuntimeError(f"{name}.backward: must return {len(self.parents)} gradient(s), got {len(grads)}")
        for i, (grad, parent) in enumerate(zip(grads, self.parents, strict=True)):
            if grad is None:
                continue
            if grad.shape != parent.shape:
                raise RuntimeError(
                    f"{name}.backward: gradient {i} must have its input's shape {parent.shape}, got {grad.shape}"
                )
            if grad.dtype != parent.dtype:
                raise RuntimeError(
                    f"{name}.backward: gradient {i} must have its input's dtype {parent.dtype}, got {grad.dtype}"
                )
        if not retain_graph:
            self.saved, self.parents = None, ()
        return grads


# --- step 3: undoing broadcasting ----------------------------------------------------------


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of a broadcast is a sum.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape``, each element of ``x`` was
    used once per copy, so its gradient is the sum over the copies: sum away the leading
    dimensions broadcasting added, then (keeping them) the dimensions where ``shape`` has 1.

    Args:
        grad: shape (..., *S') where S' broadcasts from ``shape``.
        shape: the input's shape.
    Returns:
        An array of ``shape`` and grad's dtype.
    Complexity:
        O(grad.size) time, O(prod(shape)) memory; no copy at all when nothing was broadcast.
    Example:
        >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
        [[12.0], [12.0]]
    """
    raise NotImplementedError("03 autograd: implement unbroadcast — see exercises/03_autograd/README.md, step 3")


# --- step 4: the backward pass -------------------------------------------------------------


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on, each listed before the tensors it was made from.

    Iterative depth-first search (a recursive one dies on a graph 10,000 ops deep): a tensor
    is appended once all its parents are, and the list is reversed at the end.

    Returns:
        A list starting with ``root``; each tensor appears once.
    Complexity:
        O(nodes + edges) time and memory.
    Example:
        >>> x = Tensor([1.0], requires_grad=True)
        >>> y = x * 2.0
        >>> [t is y for t in topological_order(y)][0]
        True
    """
    raise NotImplementedError("03 autograd: implement topological_order — see exercises/03_autograd/README.md, step 4")


# --- the Tensor ----------------------------------------------------------------------------


class Tensor(base.Tensor):
    """01's Tensor, plus a gradient and a link to the Function that made it."""

    def __init__(self, data, dtype=None, requires_grad: bool = False) -> None:
        """Given: wrap ``data`` (as 01's Tensor does); ``requires_grad`` marks a leaf to train.

        Raises TypeError ``"Tensor: requires_grad needs a floating dtype, got int64"``.
        """
        super().__init__(data, dtype)
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"Tensor: requires_grad needs a floating dtype, got {self.dtype}")
        self.requires_grad = requires_grad
        self.grad: np.ndarray | None = None
        self.grad_fn: Function | None = None

    def __repr__(self) -> str:
        """Given. Survives a half-built Tensor (a traceback may show one whose __init__ raised)."""
        text = super().__repr__()
        if getattr(self, "requires_grad", False):
            text = f"{text[:-1]}, requires_grad=True)"
        return text

    @property
    def is_leaf(self) -> bool:
        """Given: made by the user (not by an operation), so ``backward`` fills its ``grad``."""
        return self.grad_fn is None

    def detach(self) -> Tensor:
        """The same storage, cut from the graph: no ``grad_fn``, no ``requires_grad``.

        Complexity:
            O(1): shares the storage.
        Example:
            >>> Tensor([1.0], requires_grad=True).detach().requires_grad
            False
        """
        raise NotImplementedError("03 autograd: implement Tensor.detach — see exercises/03_autograd/README.md, step 1")

    def backward(self, grad: np.ndarray | None = None, retain_graph: bool = False) -> None:
        """Accumulate d self / d leaf into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: d loss / d self, of self's shape; may be omitted when self has one element
                (then it is 1). An ndarray, a Tensor (its data is used), a nested list or a
                number, of any numeric dtype: it is *converted* to self's dtype, as PyTorch
                does, so a float32 output given a float64 array, a list or ints back-propagates
                float32 gradients.
            retain_graph: keep the graph, to call ``backward`` through it again.
        Raises:
            RuntimeError: ``"backward: tensor does not require grad"``;
                ``"backward: grad must be given for an output of shape (2, 3)"``.
            TypeError: ``"backward: grad must hold numbers, got <U1"`` (or ``object``).
            ValueError: ``"backward: grad must have the output's shape (2, 3), got (3,)"``.
        Complexity:
            One ``backward`` per Function in the graph; holds at most one gradient per
            tensor whose consumers are not all done; frees each Function once used, and lets
            go of each tensor once its gradient is passed on (unless ``retain_graph``).
        Example:
            >>> x = Tensor([3.0], requires_grad=True)
            >>> (x * x).backward()
            >>> x.grad
            array([6.])
        """
        raise NotImplementedError(
            "03 autograd: implement Tensor.backward — see exercises/03_autograd/README.md, step 4"
        )

    # Every operation goes through Function.apply, one line each.
    def __add__(self, other):
        return Add.apply(self, other)

    def __radd__(self, other):
        return Add.apply(other, self)

    def __sub__(self, other):
        return Sub.apply(self, other)

    def __rsub__(self, other):
        return Sub.apply(other, self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __rmul__(self, other):
        return Mul.apply(other, self)

    def __truediv__(self, other):
        return Div.apply(self, other)

    def __rtruediv__(self, other):
        return Div.apply(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __pow__(self, exponent: float):
        return Pow.apply(self, exponent=exponent)

    def matmul(self, other):
        return MatMul.apply(self, other)

    def __matmul__(self, other):
        return MatMul.apply(self, other)

    def sum(self, axis=None, keepdims=False):
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        return Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        return Transpose.apply(self, axes=axes)

    def __getitem__(self, index):
        return GetItem.apply(self, index=index)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def relu(self):
        return ReLU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return LeakyReLU.apply(self, negative_slope=negative_slope)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def gelu(self):
        return GELU.apply(self)

    def softmax(self, axis=-1):
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis=-1):
        return LogSoftmax.apply(self, axis=axis)


# --- step 5: arithmetic --------------------------------------------------------------------
# Each forward is 01's operation (with its shape and dtype checks) on the raw arrays.


class Add(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a + b, broadcast."""
        raise NotImplementedError("03 autograd: implement Add.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d(a + b)/da = d(a + b)/db = 1: grad to both, summed down to each input's shape."""
        raise NotImplementedError("03 autograd: implement Add.backward — see exercises/03_autograd/README.md, step 5")


class Sub(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a - b, broadcast."""
        raise NotImplementedError("03 autograd: implement Sub.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d(a - b)/da = 1, d(a - b)/db = -1."""
        raise NotImplementedError("03 autograd: implement Sub.backward — see exercises/03_autograd/README.md, step 5")


class Mul(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a * b, broadcast; saves both."""
        raise NotImplementedError("03 autograd: implement Mul.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d(a * b)/da = b, d(a * b)/db = a; only the gradients ``ctx.needs_input_grad`` asks for."""
        raise NotImplementedError("03 autograd: implement Mul.backward — see exercises/03_autograd/README.md, step 5")


class Div(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a / b, broadcast; saves b and the output."""
        raise NotImplementedError("03 autograd: implement Div.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d(a / b)/da = 1 / b, d(a / b)/db = -a / b² = -(1 / b) · (a / b), the output."""
        raise NotImplementedError("03 autograd: implement Div.backward — see exercises/03_autograd/README.md, step 5")


class Neg(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray) -> np.ndarray:
        """-a."""
        raise NotImplementedError("03 autograd: implement Neg.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d(-a)/da = -1."""
        raise NotImplementedError("03 autograd: implement Neg.backward — see exercises/03_autograd/README.md, step 5")


class Pow(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, exponent: float) -> np.ndarray:
        """a ** exponent, for a constant exponent; saves a."""
        raise NotImplementedError("03 autograd: implement Pow.forward — see exercises/03_autograd/README.md, step 5")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d(a ** p)/da = p · a ** (p - 1); for p = 0 it is 0 everywhere (a ** 0 is constant)."""
        raise NotImplementedError("03 autograd: implement Pow.backward — see exercises/03_autograd/README.md, step 5")


# --- step 6: matmul ------------------------------------------------------------------------


def product_like(left: np.ndarray, right: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Given: ``left @ right``, laid out in memory as ``like`` is (C order, or transposed).

    A weight is often used transposed: 04's ``Linear`` computes ``x @ weight.T``, so MatMul's
    ``b`` is a transposed view. Its gradient ``aᵀ @ grad`` comes out of ``@`` in C order, which
    ``Transpose.backward`` turns into a transposed view of ``weight``'s gradient, and the copy
    into ``weight.grad`` then reorders every element: about 10 times the cost of a plain copy
    (540 µs against 37 µs for 784×256 float32). Computing ``(rightᵀ @ leftᵀ)ᵀ``, the same
    numbers, straight into ``like``'s transposed layout makes that copy a plain one (as
    PyTorch's matmul backward does).

    Example:
        >>> w = np.ones((4, 3))
        >>> product_like(np.ones((3, 2)), np.ones((2, 4)), w.T).flags.f_contiguous
        True
    """
    if like.ndim >= 2 and not like.flags.c_contiguous and like.swapaxes(-1, -2).flags.c_contiguous:
        # NOTE: (Bᵀ Aᵀ)ᵀ = A B; the product is C order, so its transpose has like's layout.
        return (right.swapaxes(-1, -2) @ left.swapaxes(-1, -2)).swapaxes(-1, -2)
    return left @ right


class MatMul(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a @ b: (..., m, k) @ (..., k, n) -> (..., m, n); saves both."""
        raise NotImplementedError("03 autograd: implement MatMul.forward — see exercises/03_autograd/README.md, step 6")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """dL/da = grad @ bᵀ (..., m, k); dL/db = aᵀ @ grad (..., k, n); batch dims summed.

        Computes only what ``ctx.needs_input_grad`` asks for (``None`` for the rest: an input
        batch needs no gradient), each laid out in memory like its input (``product_like``).
        """
        raise NotImplementedError(
            "03 autograd: implement MatMul.backward — see exercises/03_autograd/README.md, step 6"
        )


# --- step 7: reductions and views ----------------------------------------------------------


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...]) -> np.ndarray:
    """Given: put back the reduced ``axes`` of ``grad`` and broadcast it to ``shape`` (a view)."""
    if not keepdims:
        # NOTE: a reshape to the shape with 1 at each reduced axis is np.expand_dims(grad, axes)
        # without its Python-level axis checks, which cost more than the reshape itself.
        grad = grad.reshape([1 if axis in axes else side for axis, side in enumerate(shape)])
    return np.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        """a summed over axis."""
        raise NotImplementedError("03 autograd: implement Sum.forward — see exercises/03_autograd/README.md, step 7")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d sum(a)/da = 1: every element receives the gradient of its sum."""
        raise NotImplementedError("03 autograd: implement Sum.backward — see exercises/03_autograd/README.md, step 7")


class Mean(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        """a averaged over axis."""
        raise NotImplementedError("03 autograd: implement Mean.forward — see exercises/03_autograd/README.md, step 7")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d mean(a)/da = 1 / n, n the number of elements averaged."""
        raise NotImplementedError("03 autograd: implement Mean.backward — see exercises/03_autograd/README.md, step 7")


class Max(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        """The largest element over axis; saves a and the maxima."""
        raise NotImplementedError("03 autograd: implement Max.forward — see exercises/03_autograd/README.md, step 7")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d max(a)/da = 1 at the maximum, 0 elsewhere; tied maxima share it equally."""
        raise NotImplementedError("03 autograd: implement Max.backward — see exercises/03_autograd/README.md, step 7")


class Reshape(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, shape: tuple) -> np.ndarray:
        """a in a new shape (a view when possible); ``shape`` is what reshape was given: (2, 3) or ((2, 3),)."""
        raise NotImplementedError(
            "03 autograd: implement Reshape.forward — see exercises/03_autograd/README.md, step 7"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """Reshaping moves no value: the gradient takes the input's shape back."""
        raise NotImplementedError(
            "03 autograd: implement Reshape.backward — see exercises/03_autograd/README.md, step 7"
        )


class Transpose(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        """a with its dimensions permuted (all reversed when axes is empty)."""
        raise NotImplementedError(
            "03 autograd: implement Transpose.forward — see exercises/03_autograd/README.md, step 7"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """The inverse permutation puts every gradient back in its place."""
        raise NotImplementedError(
            "03 autograd: implement Transpose.backward — see exercises/03_autograd/README.md, step 7"
        )


class GetItem(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray, index) -> np.ndarray:
        """a[index]; a Tensor in the index (alone or in a tuple) counts as its array."""
        raise NotImplementedError(
            "03 autograd: implement GetItem.forward — see exercises/03_autograd/README.md, step 7"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """Each selected element receives its gradient; one selected twice receives both."""
        raise NotImplementedError(
            "03 autograd: implement GetItem.backward — see exercises/03_autograd/README.md, step 7"
        )


# --- step 8: elementwise functions ---------------------------------------------------------


class Exp(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray) -> np.ndarray:
        """e ** a; saves the output."""
        raise NotImplementedError("03 autograd: implement Exp.forward — see exercises/03_autograd/README.md, step 8")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d exp(a)/da = exp(a), the saved output."""
        raise NotImplementedError("03 autograd: implement Exp.backward — see exercises/03_autograd/README.md, step 8")


class Log(Function):
    @staticmethod
    def forward(ctx, a: np.ndarray) -> np.ndarray:
        """The natural logarithm; saves a."""
        raise NotImplementedError("03 autograd: implement Log.forward — see exercises/03_autograd/README.md, step 8")

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d log(a)/da = 1 / a."""
        raise NotImplementedError("03 autograd: implement Log.backward — see exercises/03_autograd/README.md, step 8")


class Activation(Function):
    """An activation from 02 as a Function.

    A subclass sets ``function`` (02's forward, ``f(x, **options)``) and ``vjp`` (02's
    ``f_vjp(x, y, grad_out, **options)``); this class does the rest for all of them.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, **options) -> np.ndarray:
        """y = function(x); saves x, y and the options (an axis, a slope) for the vjp."""
        raise NotImplementedError(
            "03 autograd: implement Activation.forward — see exercises/03_autograd/README.md, step 8"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """02's vjp does the work: d f(x)/dx applied to grad."""
        raise NotImplementedError(
            "03 autograd: implement Activation.backward — see exercises/03_autograd/README.md, step 8"
        )


class ReLU(Activation):
    function, vjp = staticmethod(activations.relu), staticmethod(activations.relu_vjp)


class LeakyReLU(Activation):
    function, vjp = staticmethod(activations.leaky_relu), staticmethod(activations.leaky_relu_vjp)


class Sigmoid(Activation):
    function, vjp = staticmethod(activations.sigmoid), staticmethod(activations.sigmoid_vjp)


class Tanh(Activation):
    function, vjp = staticmethod(activations.tanh), staticmethod(activations.tanh_vjp)


class GELU(Activation):
    function, vjp = staticmethod(activations.gelu), staticmethod(activations.gelu_vjp)


class Softmax(Activation):
    function, vjp = staticmethod(activations.softmax), staticmethod(activations.softmax_vjp)


class LogSoftmax(Activation):
    function, vjp = staticmethod(activations.log_softmax), staticmethod(activations.log_softmax_vjp)
