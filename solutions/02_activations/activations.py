"""02 activations: nonlinearities and their vector-Jacobian products, written by hand.

Every function here works on raw NumPy arrays. A forward ``f(x)`` returns ``y``; its
``f_vjp(x, y, grad_out)`` returns ``dL/dx`` given ``grad_out = dL/dy`` (the upstream gradient).
03 autograd wraps each pair in a ``Function``, so the contract is strict: a vjp returns an
array of x's shape and dtype, and nothing here modifies its arguments.

Two systems lessons live in this file. ``exp`` overflows (above 709 in float64, above 88 in
float32), so sigmoid, softmax and log_softmax are written in forms that never exponentiate a
large positive number. And temporaries cost memory: softmax holds one output-sized buffer,
where ``e = np.exp(x - m); e / e.sum()`` allocates three and holds two at once.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.tensor import type_name

# The tanh approximation of GELU (Hendrycks & Gimpel 2016), as GPT-2 uses it.
GELU_C = math.sqrt(2.0 / math.pi)  # a Python float: it keeps float32 arrays float32
GELU_A = 0.044715


def check_floating(op: str, x) -> None:
    """Given: raise TypeError unless ``x`` is a floating-point ndarray (a NumPy float scalar counts).

    Example messages: ``"relu: x must be a floating-point array, got int64"``; for anything
    that is not an ndarray, its type as 01's ``type_name`` says (``"got list"``, ``"got
    tinytorch.autograd.Tensor"``: these functions take raw arrays, ``x.data``).
    """
    if not isinstance(x, (np.ndarray, np.generic)):
        raise TypeError(f"{op}: x must be a floating-point array, got {type_name(x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: x must be a floating-point array, got {x.dtype}")


def check_axis(op: str, x: np.ndarray, axis: int) -> None:
    """Given: raise unless ``axis`` names a dimension of ``x`` that has at least one element.

    Example messages: ``"softmax: axis 2 is out of range for an array of 2 dimensions"``,
    ``"softmax: axis -1 must not be empty, got shape (4, 0)"``, ``"softmax: axis must be an
    int, got tuple"`` (a bool is refused too: ``axis=True`` would mean axis 1).
    """
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{op}: axis must be an int, got {type_name(axis)}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an array of {x.ndim} dimensions")
    if x.shape[axis] == 0:
        raise ValueError(f"{op}: axis {axis} must not be empty, got shape {x.shape}")


def check_grad_out(op: str, y: np.ndarray, grad_out: np.ndarray) -> None:
    """Given: raise unless ``grad_out`` has the output's shape (ValueError) and dtype (TypeError).

    Example message: ``"relu_vjp: grad_out must have the output's shape (2, 3), got (3, 2)"``.
    """
    if np.shape(grad_out) != np.shape(y):
        raise ValueError(f"{op}: grad_out must have the output's shape {np.shape(y)}, got {np.shape(grad_out)}")
    dtype = grad_out.dtype if isinstance(grad_out, (np.ndarray, np.generic)) else None
    if dtype is None or dtype != y.dtype:  # NOTE: `is None` first: np.dtype(None) is float64, so None == float64
        got = type_name(grad_out) if dtype is None else dtype
        raise TypeError(f"{op}: grad_out must have the output's dtype {y.dtype}, got {got}")


# --- step 1: relu and leaky_relu -----------------------------------------------------------


def relu(x: np.ndarray) -> np.ndarray:
    """The rectified linear unit: ``relu(x) = max(x, 0)``, elementwise.

    Args:
        x: floating-point array, any shape (N elements).
    Returns:
        A new array of x's shape and dtype.
    Raises:
        TypeError: ``"relu: x must be a floating-point array, got int64"``.
    Complexity:
        O(N) time; O(N) extra memory (the output).
    Example:
        >>> relu(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 3.])
    """
    # solution: step 1
    check_floating("relu", x)
    return np.maximum(x, 0.0)


def relu_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """The gradient of ``relu``: ``dL/dx = grad_out · [x > 0]`` (0 at the kink x = 0, as PyTorch).

    Args:
        x: relu's input. y: its output (unused). grad_out: dL/dy, y's shape and dtype.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError: ``"relu_vjp: x must be a floating-point array, got int64"``, or
            ``"relu_vjp: grad_out must have the output's dtype float32, got float64"``.
        ValueError: ``"relu_vjp: grad_out must have the output's shape (2, 3), got (3, 2)"``.
    Complexity:
        O(N) time; O(N) extra memory: a one-byte-per-element mask and the output. Every
        training step of a relu network runs this, so it is a single multiply by the mask.
    Example:
        >>> relu_vjp(np.array([-2.0, 3.0]), np.array([0.0, 3.0]), np.array([10.0, 10.0]))
        array([ 0., 10.])
    """
    # solution: step 1
    check_floating("relu_vjp", x)
    check_grad_out("relu_vjp", y, grad_out)
    # NOTE: grad_out * mask (a bool array counts as 0 and 1, and keeps grad_out's dtype) is 5 to
    # 10 times faster than np.where(x > 0, grad_out, 0.0) on a (128, 256) float32 batch (see the
    # lesson's hint): np.where is a general select, the multiply one of NumPy's fastest loops.
    # The price: an inf or NaN in grad_out where x <= 0 gives NaN, not 0 (finite ones are exact).
    return grad_out * (x > 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky relu: ``x`` where ``x > 0``, else ``negative_slope · x``, elementwise.

    Args:
        x: floating-point array, any shape (N elements).
        negative_slope: a Python float, the slope for negative inputs.
    Returns:
        A new array of x's shape and dtype.
    Raises:
        TypeError: ``"leaky_relu: x must be a floating-point array, got int64"``.
    Complexity:
        O(N) time; O(N) extra memory.
    Example:
        >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.5)
        array([-1.,  3.])
    """
    # solution: step 1
    check_floating("leaky_relu", x)
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """The gradient of ``leaky_relu``: ``dL/dx = grad_out`` where ``x > 0``, else ``negative_slope · grad_out``.

    At the kink x = 0 the slope is ``negative_slope`` (``x > 0`` is false there), as in PyTorch.

    Args:
        x: leaky_relu's input. y: its output (unused). grad_out: dL/dy, y's shape and dtype.
        negative_slope: the forward's slope; 0.01 by default, the forward's default.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp``, naming ``leaky_relu_vjp``.
    Complexity:
        O(N) time; O(N) extra memory.
    Example:
        >>> leaky_relu_vjp(np.array([-2.0, 3.0]), np.array([-1.0, 3.0]), np.ones(2), negative_slope=0.5)
        array([0.5, 1. ])
    """
    # solution: step 1
    check_floating("leaky_relu_vjp", x)
    check_grad_out("leaky_relu_vjp", y, grad_out)
    return np.where(x > 0, grad_out, negative_slope * grad_out)


# --- step 2: sigmoid and tanh ----------------------------------------------------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``σ(x) = 1 / (1 + e^(−x))``, elementwise, without overflow.

    Args:
        x: floating-point array, any shape (N elements), any finite values (±1e4 included).
    Returns:
        A new array of x's shape and dtype, values in [0, 1].
    Raises:
        TypeError: ``"sigmoid: x must be a floating-point array, got int64"``.
    Complexity:
        O(N) time; a few N-element temporaries.
    Example:
        >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
        array([0. , 0.5, 1. ])
    """
    # solution: step 2
    check_floating("sigmoid", x)
    # NOTE: e^(−x) overflows for x < −709 (float64). Both branches below exponentiate only
    # z = e^(−|x|) ≤ 1: for x ≥ 0, σ = 1 / (1 + e^(−x)); for x < 0, σ = e^x / (1 + e^x).
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """The gradient of ``sigmoid``: ``σ'(x) = σ(x)(1 − σ(x))``, so ``dL/dx = grad_out · y(1 − y)``.

    Args:
        x: sigmoid's input. y: its output. grad_out: dL/dy, y's shape and dtype.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp``, naming ``sigmoid_vjp``.
    Complexity:
        O(N) time; O(N) extra memory. Uses y, so no exponential is recomputed.
    Example:
        >>> sigmoid_vjp(np.array([0.0]), np.array([0.5]), np.array([1.0]))
        array([0.25])
    """
    # solution: step 2
    check_floating("sigmoid_vjp", x)
    check_grad_out("sigmoid_vjp", y, grad_out)
    return grad_out * y * (1 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent ``tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))``, elementwise.

    Args:
        x: floating-point array, any shape (N elements).
    Returns:
        A new array of x's shape and dtype, values in [−1, 1].
    Raises:
        TypeError: ``"tanh: x must be a floating-point array, got int64"``.
    Complexity:
        O(N) time; O(N) extra memory.
    Example:
        >>> tanh(np.array([-1e4, 0.0, 1e4]))
        array([-1.,  0.,  1.])
    """
    # solution: step 2
    check_floating("tanh", x)
    return np.tanh(x)  # NumPy's tanh is stable; the formula above overflows for |x| > 709


def tanh_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """The gradient of ``tanh``: ``tanh'(x) = 1 − tanh(x)²``, so ``dL/dx = grad_out · (1 − y²)``.

    Args:
        x: tanh's input. y: its output. grad_out: dL/dy, y's shape and dtype.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp``, naming ``tanh_vjp``.
    Complexity:
        O(N) time; O(N) extra memory.
    Example:
        >>> tanh_vjp(np.array([0.0]), np.array([0.0]), np.array([3.0]))
        array([3.])
    """
    # solution: step 2
    check_floating("tanh_vjp", x)
    check_grad_out("tanh_vjp", y, grad_out)
    return grad_out * (1 - y * y)


# --- step 3: gelu --------------------------------------------------------------------------


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (as GPT-2): ``0.5·x·(1 + tanh(c·(x + a·x³)))``, c = √(2/π), a = 0.044715.

    The exact GELU is ``x·Φ(x)`` with Φ the normal CDF, which needs erf; NumPy has no erf, and
    the approximation is within 5e-4 of it everywhere.

    Args:
        x: floating-point array, any shape (N elements).
    Returns:
        A new array of x's shape and dtype.
    Raises:
        TypeError: ``"gelu: x must be a floating-point array, got int64"``.
    Complexity:
        O(N) time; a few N-element temporaries.
    Example:
        >>> gelu(np.array([0.0, 1e4]))
        array([    0., 10000.])
    """
    # solution: step 3
    check_floating("gelu", x)
    t = np.tanh(GELU_C * (x + GELU_A * x * x * x))
    return 0.5 * x * (1 + t)


def gelu_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """The gradient of ``gelu``: with ``t = tanh(c·(x + a·x³))``, ``gelu'(x) = ½(1 + t) + ½·x·(1 − t²)·c·(1 + 3a·x²)``.

    Args:
        x: gelu's input. y: its output (unused: t is recomputed from x). grad_out: dL/dy.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp``, naming ``gelu_vjp``.
    Complexity:
        O(N) time; a few N-element temporaries.
    Example:
        >>> gelu_vjp(np.array([0.0]), np.array([0.0]), np.array([1.0]))
        array([0.5])
    """
    # solution: step 3
    check_floating("gelu_vjp", x)
    check_grad_out("gelu_vjp", y, grad_out)
    t = np.tanh(GELU_C * (x + GELU_A * x * x * x))
    dt_dx = (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x)
    return grad_out * (0.5 * (1 + t) + 0.5 * x * dt_dx)


# --- step 4: softmax -----------------------------------------------------------------------


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``softmax(x)_i = e^(x_i) / Σ_j e^(x_j)`` along ``axis``: each slice becomes probabilities.

    Args:
        x: floating-point array of shape (..., C, ...), C (the size of ``axis``) ≥ 1.
        axis: the dimension to normalize over.
    Returns:
        A new array of x's shape and dtype; along ``axis``, values in [0, 1] summing to 1.
    Raises:
        TypeError: ``"softmax: x must be a floating-point array, got int64"``, or an axis
            that is not an int.
        ValueError: ``"softmax: axis 2 is out of range for an array of 2 dimensions"``, or
            ``"softmax: axis -1 must not be empty, got shape (4, 0)"``.
    Complexity:
        O(N) time. Extra memory: the output plus one value per slice (N/C), no other
        N-element temporary.
    Example:
        >>> softmax(np.array([[0.0, 0.0], [1e4, 1e4]]))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    # solution: step 4
    check_floating("softmax", x)
    check_axis("softmax", x, axis)
    # NOTE: e^x overflows for x > 709 (float64). Subtracting each slice's max changes nothing
    # (the factor e^(−max) cancels in the ratio) and makes every exponent ≤ 0.
    out = x - np.max(x, axis=axis, keepdims=True)  # the one output-sized buffer
    np.exp(out, out=out)  # in place: no second buffer
    out /= np.sum(out, axis=axis, keepdims=True)  # (..., 1, ...): one sum per slice
    return out


def softmax_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray, axis: int = -1) -> np.ndarray:
    """The gradient of ``softmax``: ``dL/dx = y ⊙ (grad_out − Σ_axis grad_out ⊙ y)``.

    (The Jacobian is ``diag(y) − y·yᵀ`` per slice; this product never builds it.)

    Args:
        x: softmax's input. y: its output. grad_out: dL/dy, y's shape and dtype. axis: as forward.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp`` and ``softmax``, naming ``softmax_vjp``.
    Complexity:
        O(N) time; O(N) extra memory (never the C×C Jacobian).
    Example:
        >>> softmax_vjp(np.zeros(2), np.array([0.5, 0.5]), np.array([1.0, 0.0]))
        array([ 0.25, -0.25])
    """
    # solution: step 4
    check_floating("softmax_vjp", x)
    check_axis("softmax_vjp", x, axis)
    check_grad_out("softmax_vjp", y, grad_out)
    dot = np.sum(grad_out * y, axis=axis, keepdims=True)  # (..., 1, ...)
    return y * (grad_out - dot)


# --- step 5: log_softmax -------------------------------------------------------------------


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log_softmax(x)_i = x_i − log Σ_j e^(x_j)`` along ``axis``, finite for any finite x.

    Args:
        x: floating-point array of shape (..., C, ...), C (the size of ``axis``) ≥ 1.
        axis: the dimension to normalize over.
    Returns:
        A new array of x's shape and dtype; values ≤ 0 whose exponentials sum to 1 along axis,
        within 1e-5 in float32 even at |x| = 1e4. That asks for one order of operations:
        ``(x − m) − log Σ e^(x − m)``, the max m subtracted first. ``x − m`` is computed exactly
        near the max, and the one rounding left is at the scale of ``log Σ`` (≤ log C).
        ``x − (m + log Σ)`` rounds ``m + log Σ`` at m's scale: a float32 near 1e4 has a spacing
        of 1e-3, and the sum of the exponentials is then off by up to 5e-4.
    Raises:
        TypeError: ``"log_softmax: x must be a floating-point array, got int64"``, or an axis
            that is not an int.
        ValueError: ``"log_softmax: axis 2 is out of range for an array of 2 dimensions"``, or
            ``"log_softmax: axis -1 must not be empty, got shape (4, 0)"``.
    Complexity:
        O(N) time; O(N) extra memory (the output and one temporary for the exponentials).
    Example:
        >>> log_softmax(np.array([0.0, -1e4]))
        array([     0., -10000.])
    """
    # solution: step 5
    check_floating("log_softmax", x)
    check_axis("log_softmax", x, axis)
    # NOTE: log(softmax(x)) gives log(0) = −inf once a probability underflows. The
    # log-sum-exp trick keeps everything in the log domain: with m the max,
    # log Σ e^(x_j) = m + log Σ e^(x_j − m), and the sum is ≥ 1 (its largest term is e^0).
    # Subtract m first, then log Σ (see Returns: adding m + log Σ first rounds at m's scale).
    shifted = x - np.max(x, axis=axis, keepdims=True)
    shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # (..., 1, ...)
    return shifted


def log_softmax_vjp(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray, axis: int = -1) -> np.ndarray:
    """The gradient of ``log_softmax``: ``dL/dx = grad_out − softmax(x) · Σ_axis grad_out``, softmax(x) = e^y.

    Args:
        x: log_softmax's input. y: its output. grad_out: dL/dy, y's shape and dtype. axis: as forward.
    Returns:
        dL/dx, a new array of x's shape and dtype.
    Raises:
        TypeError, ValueError: as ``relu_vjp`` and ``softmax``, naming ``log_softmax_vjp``.
    Complexity:
        O(N) time; O(N) extra memory.
    Example:
        >>> log_softmax_vjp(np.zeros(2), np.log([0.5, 0.5]), np.array([1.0, 0.0]))
        array([ 0.5, -0.5])
    """
    # solution: step 5
    check_floating("log_softmax_vjp", x)
    check_axis("log_softmax_vjp", x, axis)
    check_grad_out("log_softmax_vjp", y, grad_out)
    total = np.sum(grad_out, axis=axis, keepdims=True)  # (..., 1, ...)
    return grad_out - np.exp(y) * total
