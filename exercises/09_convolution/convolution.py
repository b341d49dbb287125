# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""09 convolution: convolutions, pooling and batch normalization, in PyTorch's NCHW layout.

A 2-D convolution slides a kernel of shape (C, KH, KW) over an image of shape (C, H, W) and takes
a dot product at every position. Written as loops (``conv2d_loops``) it is obviously right and
slow; written as one matrix product over unrolled windows (``im2col``) it is fast, at the cost of
a buffer KH·KW times the input's size. Its backward puts the window gradients back with the
adjoint, ``col2im``. On top sit the layers a CNN is built from: ``Conv2d``, ``MaxPool2d``,
``AvgPool2d``, ``Flatten`` and ``BatchNorm2d``.

Shapes (one vocabulary): B batch, C input channels, OC output channels, H, W the input's height
and width, KH, KW the kernel's, OH, OW the output's, L = OH·OW window positions.
``stride``, ``padding`` and ``dilation`` are an int or a pair (height, width), as in PyTorch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinytorch.autograd import Function, Tensor
from tinytorch.layers import Module, Parameter, generator
from tinytorch.tensor import type_name

# --- given: arguments and their checks ---------------------------------------------------------


def pair(op: str, what: str, value, minimum: int) -> tuple[int, int]:
    """Given: ``value`` (an int, or a pair of ints, each ``>= minimum``) as a pair (height, width).

    Raises ValueError ``"conv2d: stride must be an integer >= 1 or a pair of them, got 0"`` (a bool,
    a float, a triple too).
    """
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    ok = len(items) == 2 and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= minimum for v in items
    )
    if not ok:
        raise ValueError(f"{op}: {what} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def check_windows(op: str, shape: tuple[int, ...], kernel_size, stride, padding, dilation):
    """Given: check that a (KH, KW) kernel fits an input of ``shape`` (B, C, H, W); return the pairs.

    Returns ``(kernel, stride, padding, dilation)``, each a pair (height, width).
    Raises ValueError ``"im2col: input must have 4 dimensions (B, C, H, W), got (3, 4)"``,
    ``pair``'s errors, and ``"conv2d: the dilated kernel must fit in the padded input, got
    kernel (5, 5) and padded input (4, 4)"`` (the dilated kernel spans ``d·(K - 1) + 1`` pixels).
    """
    if len(shape) != 4:
        raise ValueError(f"{op}: input must have 4 dimensions (B, C, H, W), got {tuple(shape)}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    dilation = pair(op, "dilation", dilation, 1)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    padded = tuple(side + 2 * p for side, p in zip(shape[2:], padding, strict=True))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{op}: the dilated kernel must fit in the padded input, got kernel {span} and padded input {padded}"
        )
    return kernel, stride, padding, dilation


def check_conv2d(op: str, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride, padding, dilation):
    """Given: check the arrays of a convolution; return ``(stride, padding, dilation)`` as pairs.

    Raises TypeError ``"conv2d: weight must be an ndarray, got list"``, ``"conv2d: weight must have
    the input's dtype float32, got float64"`` (floating dtypes only); ValueError ``"conv2d: weight
    must have 4 dimensions (OC, C, KH, KW), got (3, 3)"``, ``"conv2d: input channels must match the
    weight's, got 3 and 4"``, ``"conv2d: bias must have shape (8,), got (4,)"``, and
    ``check_windows``'s errors.
    """
    for what, array in (("input", x), ("weight", weight), ("bias", bias)):
        if what == "bias" and array is None:
            continue
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{op}: {what} must be an ndarray, got {type_name(array)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must have a floating dtype, got {x.dtype}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must have 4 dimensions (OC, C, KH, KW), got {weight.shape}")
    for what, array in (("weight", weight), ("bias", bias)):
        if array is not None and array.dtype != x.dtype:
            raise TypeError(f"{op}: {what} must have the input's dtype {x.dtype}, got {array.dtype}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"{op}: bias must have shape {weight.shape[:1]}, got {bias.shape}")
    if x.ndim == 4 and x.shape[1] != weight.shape[1]:
        raise ValueError(f"{op}: input channels must match the weight's, got {x.shape[1]} and {weight.shape[1]}")
    _, stride, padding, dilation = check_windows(op, x.shape, weight.shape[2:], stride, padding, dilation)
    return stride, padding, dilation


# --- step 1: the slow, obviously correct twin ------------------------------------------------


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The number of window positions along one axis: ``⌊(size + 2p − d·(k − 1) − 1) / s⌋ + 1``.

    The dilated kernel spans ``d·(k − 1) + 1`` pixels; it fits at offsets 0, s, 2s, ... as long
    as it stays inside the padded input of ``size + 2p`` pixels.

    Args:
        size: the input's side (H or W), >= 1; kernel (K), stride, dilation >= 1; padding >= 0.
    Returns:
        An int >= 1.
    Raises:
        ValueError: ``"conv_output_size: the dilated kernel must fit in the padded input, got 5 and 4"``.
    Complexity:
        O(1).
    Example:
        >>> conv_output_size(16, 3, stride=2, padding=1)
        8
    """
    raise NotImplementedError(
        "09 convolution: implement conv_output_size — see exercises/09_convolution/README.md, step 1"
    )


def conv2d_loops(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0, dilation=1
) -> tuple[np.ndarray, int]:
    """A 2-D convolution by loops over every output element; also returns the multiply-adds done.

    ``out[b, o, i, j] = bias[o] + Σ_{c, p, q} xp[b, c, i·sh + p·dh, j·sw + q·dw] · weight[o, c, p, q]``
    where ``xp`` is ``x`` with ``padding`` zeros on each side of H and W. (As in PyTorch, this is
    a cross-correlation: the kernel is not flipped.) Each output element is one dot product of
    C·KH·KW multiply-adds, counted as they are done.

    Args:
        x: (B, C, H, W), floating.
        weight: (OC, C, KH, KW), x's dtype.
        bias: (OC,), x's dtype, or None.
        stride, padding, dilation: an int or a pair (height, width); stride and dilation >= 1,
            padding >= 0.
    Returns:
        ``(out, macs)``: out (B, OC, OH, OW) in x's dtype, with OH = ``conv_output_size(H, KH,
        sh, ph, dh)`` (the same for W); macs the multiply-adds done, B·OC·OH·OW·C·KH·KW, an int.
    Raises:
        ValueError: ``"conv2d: input channels must match the weight's, got 3 and 4"``;
            ``"conv2d: the dilated kernel must fit in the padded input, got ..."``;
            ``"conv2d: stride must be an integer >= 1 or a pair of them, got 0"``.
        TypeError: ``"conv2d: weight must have the input's dtype float32, got float64"``.
        (The given ``check_conv2d``, with op ``"conv2d"``.)
    Complexity:
        B·OC·OH·OW·C·KH·KW multiply-adds, in B·OC·OH·OW Python iterations (slow on purpose);
        memory: the padded input and the output.
    Example:
        >>> out, macs = conv2d_loops(np.ones((1, 2, 3, 3)), np.ones((4, 2, 2, 2)))
        >>> out.shape, macs, float(out[0, 0, 0, 0])
        ((1, 4, 2, 2), 128, 8.0)
    """
    raise NotImplementedError("09 convolution: implement conv2d_loops — see exercises/09_convolution/README.md, step 1")


# --- step 2: unrolling windows ---------------------------------------------------------------


def im2col(x: np.ndarray, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Unroll every (KH, KW) window of ``x`` into a column: a convolution becomes one matmul.

    ``cols[b, (c, p, q), (i, j)] = xp[b, c, i·sh + p·dh, j·sw + q·dw]``, xp the zero-padded input;
    rows in (c, p, q) order and columns in (i, j) order, both row-major (PyTorch's ``unfold``).
    A weight (OC, C, KH, KW) reshaped to (OC, C·KH·KW) then gives the convolution as
    ``weight_2d @ cols``.

    Args:
        x: (B, C, H, W), any dtype.
        kernel_size, stride, padding, dilation: an int or a pair (height, width).
    Returns:
        cols: (B, C·KH·KW, OH·OW), x's dtype, a new C-contiguous array.
    Raises:
        ValueError: the given ``check_windows``'s, with op ``"im2col"``.
    Complexity:
        O(B·C·KH·KW·OH·OW) time, in KH·KW slice copies; memory: the buffer,
        B·C·KH·KW·OH·OW·itemsize, plus a padded copy of x when padding > 0 (none when it is 0).
    Example:
        >>> im2col(np.arange(9.0).reshape(1, 1, 3, 3), 2)[0].tolist()
        [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]
    """
    raise NotImplementedError("09 convolution: implement im2col — see exercises/09_convolution/README.md, step 2")


def col2im(cols: np.ndarray, input_shape: tuple[int, int, int, int], kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of ``im2col``: add every column's entries back to the pixels they came from.

    A pixel that sits in several windows receives the sum of their entries; padding positions
    are dropped. So ``⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩`` for every x and y: this is im2col's
    backward (its vector-Jacobian product), not its inverse.

    Args:
        cols: (B, C·KH·KW, OH·OW), as ``im2col`` returns for an input of ``input_shape``.
        input_shape: (B, C, H, W).
        kernel_size, stride, padding, dilation: as given to ``im2col``.
    Returns:
        (B, C, H, W), cols' dtype, a new array.
    Raises:
        ValueError: ``check_windows``'s (op ``"col2im"``), and
            ``"col2im: cols must have shape (2, 12, 9), got (2, 12, 8)"``.
    Complexity:
        O(B·C·KH·KW·OH·OW) time, in KH·KW slice additions; memory: the padded output
        B·C·(H + 2ph)·(W + 2pw), plus the cropped copy when padding > 0.
    Example:
        >>> col2im(np.ones((1, 4, 4)), (1, 1, 3, 3), 2)[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    raise NotImplementedError("09 convolution: implement col2im — see exercises/09_convolution/README.md, step 2")


# --- step 3: a differentiable convolution, and Conv2d -----------------------------------------


def _axis(options: tuple, axis: int) -> tuple[int, int, int]:
    """Given: the (stride, padding, dilation) of one axis (0: height, 1: width) from pairs."""
    return tuple(option[axis] for option in options)


class Conv2dFunction(Function):
    """The convolution as one autograd node: im2col forward, col2im backward."""

    @staticmethod
    def forward(ctx, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, *, stride, padding, dilation):
        """``weight_2d @ im2col(x) (+ bias)``, reshaped to (B, OC, OH, OW); saves what backward needs.

        Saves the columns (only when the weight needs a gradient) and the weight (only when the
        input does): ``ctx.needs_input_grad`` says which.
        """
        raise NotImplementedError(
            "09 convolution: implement Conv2dFunction.forward — see exercises/09_convolution/README.md, step 3"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray):
        """dL/dx = col2im(W_2dᵀ @ g); dL/dW = Σ_b g @ colsᵀ; dL/dbias = Σ_{b, i, j} g (g: (B, OC, L)).

        Only the gradients ``ctx.needs_input_grad`` asks for are computed (None for the rest).
        """
        raise NotImplementedError(
            "09 convolution: implement Conv2dFunction.backward — see exercises/09_convolution/README.md, step 3"
        )


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1) -> Tensor:
    """A differentiable 2-D convolution (``conv2d_loops``' result, through ``Conv2dFunction``).

    Args:
        x: Tensor (B, C, H, W), floating.
        weight: Tensor (OC, C, KH, KW), x's dtype.
        bias: Tensor (OC,) or None.
        stride, padding, dilation: an int or a pair (height, width).
    Returns:
        Tensor (B, OC, OH, OW), x's dtype; in the graph when an input requires grad.
    Raises:
        TypeError: ``"conv2d: input must be a Tensor, got ndarray"`` (weight and bias too), and
            the given ``check_conv2d``'s errors (op ``"conv2d"``), checked before any work.
    Complexity:
        Forward: 2·B·OC·L·C·KH·KW FLOPs in one batched matmul; memory: the im2col buffer
        B·C·KH·KW·L·itemsize (kept for the weight's gradient) and the output, plus a padded copy
        of x when padding > 0. Backward: the same FLOPs twice, and a buffer of the columns' size.
    Example:
        >>> conv2d(Tensor(np.ones((1, 2, 3, 3))), Tensor(np.ones((4, 2, 2, 2)))).shape
        (1, 4, 2, 2)
    """
    raise NotImplementedError("09 convolution: implement conv2d — see exercises/09_convolution/README.md, step 3")


def check_size(op: str, what: str, value) -> int:
    """Given: ``value`` as an int, or ValueError ``"Conv2d: in_channels must be a positive integer, got 0"``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{op}: {what} must be a positive integer, got {value!r}")
    return int(value)


class Conv2d(Module):
    """A 2-D convolution layer with PyTorch's arguments, shapes and default init."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        """Create ``weight`` (OC, C, KH, KW) and ``bias`` (OC,) or None, and keep the options.

        Init, PyTorch's default: weight and bias both from U(-1/√fan_in, 1/√fan_in), with
        fan_in = C·KH·KW; the weight is drawn first, then the bias, from the same generator
        (as 04's Linear, of which a Conv2d with a 1×1 kernel on a 1×1 image is the same layer).
        Keeps ``in_channels``, ``out_channels``, and ``kernel_size``, ``stride``, ``padding``,
        ``dilation`` as pairs.

        Args:
            in_channels (C), out_channels (OC): positive integers (not a bool).
            kernel_size: an int or a pair (KH, KW); stride, padding, dilation: as ``conv2d``.
            bias: a bool.
            rng: a ``np.random.Generator`` or None (04's ``generator``); an int seed is refused.
            dtype: of the parameters, floating-point.
        Raises:
            ValueError: ``"Conv2d: in_channels must be a positive integer, got 0"``;
                ``"Conv2d: stride must be an integer >= 1 or a pair of them, got 0"``.
            TypeError: ``"Conv2d: bias must be a bool, got Generator"``;
                ``"Conv2d: rng must be a np.random.Generator or None, got int (...)"``;
                ``"Conv2d: dtype must be floating-point, got int64"``.
        Complexity:
            Parameters: OC·C·KH·KW + OC, whatever the image size.
        Example:
            >>> Conv2d(3, 8, (3, 5)).weight.shape
            (8, 3, 3, 5)
        """
        raise NotImplementedError(
            "09 convolution: implement Conv2d.__init__ — see exercises/09_convolution/README.md, step 3"
        )

    def forward(self, x: Tensor) -> Tensor:
        """``conv2d(x, weight, bias, stride, padding, dilation)``.

        Args:
            x: Tensor (B, C, H, W), the parameters' dtype.
        Returns:
            Tensor (B, OC, OH, OW).
        Raises:
            ``conv2d``'s errors.
        Example:
            >>> Conv2d(1, 4, 3, padding=1)(Tensor(np.ones((2, 1, 5, 5), dtype=np.float32))).shape
            (2, 4, 5, 5)
        """
        raise NotImplementedError(
            "09 convolution: implement Conv2d.forward — see exercises/09_convolution/README.md, step 3"
        )


# --- step 4: pooling and flatten --------------------------------------------------------------


class MaxPool2dFunction(Function):
    """The maximum of each window; the gradient goes to the first maximum (row-major window order)."""

    @staticmethod
    def forward(ctx, x: np.ndarray, *, kernel_size, stride, padding) -> np.ndarray:
        """Each channel's windows by ``im2col`` (padded with -inf), their max; saves the argmax."""
        raise NotImplementedError(
            "09 convolution: implement MaxPool2dFunction.forward — see exercises/09_convolution/README.md, step 4"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """dL/dx: each window's gradient to its (first) maximum, summed where windows overlap."""
        raise NotImplementedError(
            "09 convolution: implement MaxPool2dFunction.backward — see exercises/09_convolution/README.md, step 4"
        )


class AvgPool2dFunction(Function):
    """The mean of each window; padding counts as zeros in the mean (PyTorch's default)."""

    @staticmethod
    def forward(ctx, x: np.ndarray, *, kernel_size, stride, padding) -> np.ndarray:
        """Each channel's windows by ``im2col``, their mean over KH·KW (padding included)."""
        raise NotImplementedError(
            "09 convolution: implement AvgPool2dFunction.forward — see exercises/09_convolution/README.md, step 4"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """dL/dx: each window's gradient divided by KH·KW, to every pixel of the window."""
        raise NotImplementedError(
            "09 convolution: implement AvgPool2dFunction.backward — see exercises/09_convolution/README.md, step 4"
        )


def check_pool(op: str, x, kernel_size, stride, padding):
    """Given: check a pooling's input and options; return ``(kernel, stride, padding)`` as pairs.

    ``stride=None`` means the kernel size (non-overlapping windows). Raises TypeError
    ``"MaxPool2d: input must be a Tensor, got ndarray"``; ValueError ``"MaxPool2d: padding must
    be at most half the kernel size, got (2, 2) for kernel (3, 3)"`` (a window would then hold
    padding only), and ``check_windows``'s errors.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type_name(x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must have a floating dtype, got {x.dtype}")
    stride = kernel_size if stride is None else stride
    kernel, stride, padding, _ = check_windows(op, x.shape, kernel_size, stride, padding, 1)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding must be at most half the kernel size, got {padding} for kernel {kernel}")
    return kernel, stride, padding


class MaxPool2d(Module):
    """The maximum of each (KH, KW) window, per channel (no parameters)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        """Keep the options: ``kernel_size``, ``stride`` (None: the kernel size), ``padding``.

        Raises:
            ValueError: ``"MaxPool2d: kernel_size must be an integer >= 1 or a pair of them, got 0"``
                (stride and padding alike; padding >= 0).
        Example:
            >>> MaxPool2d(2).stride
            (2, 2)
        """
        raise NotImplementedError(
            "09 convolution: implement MaxPool2d.__init__ — see exercises/09_convolution/README.md, step 4"
        )

    def forward(self, x: Tensor) -> Tensor:
        """The maximum of each window; padding pads with -inf.

        The gradient of a window goes to its maximum. Tie rule: when a window holds its maximum
        more than once, the whole gradient goes to the FIRST one in row-major window order (the
        smallest row, then the smallest column, as ``np.argmax`` picks it).

        Args:
            x: Tensor (B, C, H, W), floating.
        Returns:
            Tensor (B, C, OH, OW), x's dtype, OH = ``conv_output_size(H, KH, sh, ph)``.
        Raises:
            The given ``check_pool``'s errors (op ``"MaxPool2d"``).
        Complexity:
            O(B·C·KH·KW·OH·OW); memory: the windows B·C·KH·KW·OH·OW·itemsize (freed after the
            forward), the output, and the argmax, B·C·OH·OW int64s, kept for the backward.
        Example:
            >>> MaxPool2d(2)(Tensor(np.arange(16.0).reshape(1, 1, 4, 4))).numpy()[0, 0].tolist()
            [[5.0, 7.0], [13.0, 15.0]]
        """
        raise NotImplementedError(
            "09 convolution: implement MaxPool2d.forward — see exercises/09_convolution/README.md, step 4"
        )


class AvgPool2d(Module):
    """The mean of each (KH, KW) window, per channel (no parameters)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        """Keep the options, as ``MaxPool2d`` does (errors name ``AvgPool2d``).

        Example:
            >>> AvgPool2d((2, 3), stride=1).kernel_size
            (2, 3)
        """
        raise NotImplementedError(
            "09 convolution: implement AvgPool2d.__init__ — see exercises/09_convolution/README.md, step 4"
        )

    def forward(self, x: Tensor) -> Tensor:
        """The mean of each window over all KH·KW taps; padded pixels count as zeros.

        Args:
            x: Tensor (B, C, H, W), floating.
        Returns:
            Tensor (B, C, OH, OW), x's dtype.
        Raises:
            The given ``check_pool``'s errors (op ``"AvgPool2d"``).
        Complexity:
            O(B·C·KH·KW·OH·OW); memory: the windows (freed after the forward) and the output.
        Example:
            >>> AvgPool2d(2)(Tensor(np.arange(16.0).reshape(1, 1, 4, 4))).numpy()[0, 0].tolist()
            [[2.5, 4.5], [10.5, 12.5]]
        """
        raise NotImplementedError(
            "09 convolution: implement AvgPool2d.forward — see exercises/09_convolution/README.md, step 4"
        )


def flatten(x: Tensor) -> Tensor:
    """Every dimension after the first as one: (B, C, H, W) -> (B, C·H·W), row-major (a view).

    Args:
        x: Tensor (B, ...), at least 1 dimension.
    Returns:
        Tensor (B, N), N the product of the other sizes (1 for a 1-D input); an empty batch stays
        empty: (0, C, H, W) -> (0, C·H·W).
    Raises:
        TypeError: ``"flatten: input must be a Tensor, got ndarray"``.
        ValueError: ``"flatten: input must have at least 1 dimension (a batch), got ()"``.
    Complexity:
        O(1): a reshape of a contiguous tensor is a view.
    Example:
        >>> flatten(Tensor(np.zeros((2, 3, 4, 5)))).shape
        (2, 60)
    """
    raise NotImplementedError("09 convolution: implement flatten — see exercises/09_convolution/README.md, step 4")


class Flatten(Module):
    """``flatten`` as a module (no parameters), between a CNN's last pooling and its Linear."""

    def forward(self, x: Tensor) -> Tensor:
        """Given: ``flatten(x)``."""
        return flatten(x)


# --- step 5: BatchNorm2d --------------------------------------------------------------------


class BatchNorm2d(Module):
    """Per-channel normalization: batch statistics in training, running statistics in eval."""

    buffer_names = ("running_mean", "running_var")  # 04's buffers: saved by state_dict, not trained

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *, dtype=np.float32) -> None:
        """Create ``weight`` (ones) and ``bias`` (zeros), Parameters (C,); and the buffers.

        The buffers ``running_mean`` (zeros) and ``running_var`` (ones) are plain ndarrays (C,) of
        ``dtype``: not Parameters (no optimizer trains them), updated in place in training, and
        saved by 04's ``state_dict`` because the class lists them in ``buffer_names``.

        Args:
            num_features: C, a positive integer.
            eps: added to the variance before the square root, a real number > 0.
            momentum: the weight of the new batch in the running statistics, a real number in [0, 1].
            dtype: of the parameters and buffers, floating-point.
        Raises:
            ValueError: ``"BatchNorm2d: num_features must be a positive integer, got 0"``;
                ``"BatchNorm2d: eps must be a real number > 0, got 0.0"``;
                ``"BatchNorm2d: momentum must be a real number in [0, 1], got 1.5"`` (a bool, a
                string or NaN get the same ValueError: none is a real number in range).
            TypeError: ``"BatchNorm2d: dtype must be floating-point, got int64"``.
        Example:
            >>> [name for name, _ in BatchNorm2d(3).named_parameters()]
            ['weight', 'bias']
        """
        raise NotImplementedError(
            "09 convolution: implement BatchNorm2d.__init__ — see exercises/09_convolution/README.md, step 5"
        )

    def forward(self, x: Tensor) -> Tensor:
        """``weight · (x − mean) / √(var + eps) + bias``, per channel c, over (B, H, W).

        Training: mean and var are the batch's, the variance biased (divided by n = B·H·W), and
        the gradient flows through them too. Then, without recording, the running statistics
        move toward the batch's (PyTorch's convention), in place:
        ``running = (1 − momentum) · running + momentum · batch``, with the UNBIASED batch
        variance (divided by n − 1) for ``running_var``.
        Eval: mean and var are ``running_mean`` and ``running_var``; nothing is updated.

        Args:
            x: Tensor (B, C, H, W), the parameters' dtype.
        Returns:
            Tensor (B, C, H, W).
        Raises:
            TypeError: ``"BatchNorm2d: input must be a Tensor, got ndarray"``;
                ``"BatchNorm2d: input must have dtype float32, got float64"``.
            ValueError: ``"BatchNorm2d: input must have shape (B, 3, H, W), got (2, 4, 5, 5)"``;
                in training, ``"BatchNorm2d: training needs more than one value per channel,
                got (1, 3, 1, 1)"`` (the unbiased variance divides by n − 1).
        Complexity:
            O(B·C·H·W). Eval: the output and one temporary of its size (x · scale, then + shift,
            with scale and shift of size C). Training: a few temporaries of the output's size,
            kept by the graph for the backward.
        Example:
            >>> bn = BatchNorm2d(2, dtype=np.float64)
            >>> y = bn(Tensor(np.arange(16.0).reshape(2, 2, 2, 2))).numpy()
            >>> np.round(y.mean(axis=(0, 2, 3)), 6).tolist(), np.round(bn.running_mean, 6).tolist()
            ([0.0, 0.0], [0.55, 0.95])
        """
        raise NotImplementedError(
            "09 convolution: implement BatchNorm2d.forward — see exercises/09_convolution/README.md, step 5"
        )
