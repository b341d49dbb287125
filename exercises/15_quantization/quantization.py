# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""15 quantization: int8 numbers for a float model, and a Linear that computes with them.

A float ``x`` in a calibrated range [low, high] is stored as an 8-bit integer
``q = clamp(round(x / scale) + zero_point, -128, 127)`` and read back as
``(q - zero_point) · scale``. *Symmetric* quantization fixes ``zero_point = 0`` and maps
[-max|x|, max|x|] onto [-127, 127]; *affine* quantization maps [low, high] onto all 256 codes
[-128, 127] with an integer ``zero_point`` (the code of 0.0). One (scale, zero_point) for a whole
tensor is *per-tensor*; one per slice along an axis (a Linear's output channels) is
*per-channel*. ``QuantizedLinear`` keeps its weight as a real ``np.int8`` array (¼ of float32's
bytes), quantizes each input on the fly, multiplies integers, accumulates in int32 and rescales
to float once.

Shapes (one vocabulary): N any shape, C channels (the size along ``axis``), R rows of a batch,
K the inner (reduced) dimension, C_in = K and C_out a Linear's features.
"""

from __future__ import annotations

import numbers

import numpy as np

from tinytorch.autograd import Tensor
from tinytorch.layers import Linear, Module, Sequential
from tinytorch.tensor import type_name

INT8_MIN, INT8_MAX = -128, 127  # the codes an int8 holds; affine quantization uses all 256
SYMMETRIC_MAX = 127  # symmetric: the range maps onto [-127, 127], so that -q is a code whenever q is
# The largest K for which int32 accumulation cannot overflow: an input code minus its zero point
# is in [-255, 255], a symmetric weight code in [-127, 127], so K products sum to at most
# K · 255 · 127 in magnitude, which must stay <= 2**31 - 1: K <= 66,311.
MAX_K = (2**31 - 1) // (255 * SYMMETRIC_MAX)
METHODS = ("minmax", "percentile")
# The smallest scale: np.finfo(np.float64).tiny, the smallest normal float64 (2.2e-308). A
# subnormal scale has fewer significant bits, so x / scale could land codes away from where the
# round-trip bound needs it (x = 1.48e-321 over 255 is the subnormal 5e-324, and x / 5e-324 = 300).
MIN_SCALE = np.finfo(np.float64).tiny
# The widest range: |low| and |high| at most half the largest float64 (8.988e+307). Then high - low
# is finite, and so is every code's value (q - zero_point) · scale; a range up to the largest
# float64 would give an infinite affine scale, or an infinite value for code 127.
MAX_RANGE = np.finfo(np.float64).max / 2

# --- given: checks --------------------------------------------------------------------------


def check_floating(op: str, what: str, x) -> np.ndarray:
    """Given: ``x`` as an ndarray of floating dtype, or TypeError.

    ``"quantize: x must be a floating-point ndarray, got int64"`` (a list or a Tensor: its type).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{op}: {what} must be a floating-point ndarray, got {type_name(x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating-point ndarray, got {x.dtype}")
    return x


def check_finite(op: str, what: str, x: np.ndarray) -> np.ndarray:
    """Given: ``x`` (a floating ndarray) if every element is finite, or ValueError.

    ``"quantize: x must be finite, got nan"`` (the first NaN or ±inf in x).
    """
    finite = np.isfinite(x)  # bool (N): one byte an element
    if not np.all(finite):
        bad = x[~finite].flat[0]
        raise ValueError(f"{op}: {what} must be finite, got {bad}")
    return x


def check_axis(op: str, axis, ndim: int) -> int | None:
    """Given: ``axis`` as a non-negative int below ``ndim`` (a negative one counts from the end), or None.

    ``"quantize: axis must be an int in [-2, 2) for 2 dimensions, got 2"`` (ValueError; a float
    or a bool is a TypeError: ``"... axis must be an int or None, got float"``).
    """
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int or None, got {type_name(axis)}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis must be an int in [{-ndim}, {ndim}) for {ndim} dimensions, got {axis}")
    return int(axis) % ndim


def check_qparams(op: str, scale, zero_point, shape: tuple[int, ...], axis: int | None) -> tuple:
    """Given: ``scale`` and ``zero_point`` as float64 and int64 arrays shaped for ``axis``, or an error.

    Per-tensor (``axis`` None) both are scalars (0-d); per-channel both have shape
    ``(shape[axis],)``. Every scale is positive and finite; every zero point an integer in
    [-128, 127].

    Raises:
        ValueError: ``"quantize: scale must be positive and finite, got 0.0"`` (negative, NaN,
            inf too); ``"quantize: scale must have shape (3,) for axis 0 of (3, 4), got (4,)"``;
            ``"quantize: zero_point must be in [-128, 127], got 200"``.
        TypeError: ``"quantize: zero_point must be an integer, got float64"``.
    """
    scale_array = np.asarray(scale)
    zero_array = np.asarray(zero_point)
    expected = () if axis is None else (shape[axis],)
    where = "per tensor" if axis is None else f"for axis {axis} of {shape}"
    for what, array in (("scale", scale_array), ("zero_point", zero_array)):
        if array.shape != expected:
            raise ValueError(f"{op}: {what} must have shape {expected} {where}, got {array.shape}")
    if scale_array.dtype.kind not in "fiu" or not np.all(np.isfinite(scale_array) & (scale_array > 0)):
        raise ValueError(f"{op}: scale must be positive and finite, got {scale_array}")
    if zero_array.dtype.kind not in "iu":
        raise TypeError(f"{op}: zero_point must be an integer, got {zero_array.dtype}")
    if np.any(zero_array < INT8_MIN) or np.any(zero_array > INT8_MAX):
        raise ValueError(f"{op}: zero_point must be in [{INT8_MIN}, {INT8_MAX}], got {zero_array}")
    return scale_array.astype(np.float64), zero_array.astype(np.int64)


def along(values: np.ndarray, axis: int | None, ndim: int) -> np.ndarray:
    """Given: per-channel ``values`` (C,) reshaped to broadcast along ``axis`` of an ``ndim`` array.

    Per tensor (``axis`` None) the 0-d array itself. E.g. (C,) along axis 0 of 2 dims: (C, 1).
    """
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = values.shape[0]
    return values.reshape(shape)


# --- step 1: calibration --------------------------------------------------------------------


def calibrate(
    x: np.ndarray, *, method: str = "minmax", percentile: float = 99.99, axis: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The range [low, high] to quantize ``x`` into: its min and max, or two percentiles.

    ``"minmax"``: low = min(x), high = max(x). ``"percentile"``: low = the (100 - p)-th and
    high = the p-th percentile of x (``np.percentile``'s default "linear" method): a few
    outliers beyond them are clamped, and every other value gets a finer scale. Per tensor
    (``axis`` None) over all of x; per channel over every axis but ``axis``.

    Args:
        x: shape N, floating-point, finite, not empty; for ``"percentile"``, max - min (over
            all of x, or each channel's) must be finite too: np.percentile interpolates
            between neighbours and their difference must not overflow.
        method: ``"minmax"`` or ``"percentile"``.
        percentile: p, a number in [50, 100] (used by ``"percentile"`` only).
        axis: the channel axis (C = x.shape[axis]), or None for one range.
    Returns:
        ``(low, high)``, float64, shape () per tensor or (C,) per channel, low <= high.
    Raises:
        TypeError: ``"calibrate: x must be a floating-point ndarray, got int64"``;
            ``"calibrate: percentile must be a number, got str"``.
        ValueError: ``"calibrate: x must not be empty, got shape (0, 3)"``;
            ``"calibrate: x must be finite, got nan"`` (checked before anything is computed);
            ``"calibrate: max(x) - min(x) must be finite for method 'percentile', got
            -1.7e+308 and 1.7e+308"``; ``"calibrate: method must be one of
            ('minmax', 'percentile'), got 'max'"``; ``"calibrate: percentile must be in
            [50, 100], got 101"``; the axis errors of ``check_axis``.
    Complexity:
        minmax: O(N) time, O(C) memory. percentile: O(N log N) time (a partition) and a copy of x.
    Example:
        >>> low, high = calibrate(np.array([[-1.0, 2.0], [0.5, 3.0]]), axis=0)
        >>> low.tolist(), high.tolist()
        ([-1.0, 0.5], [2.0, 3.0])
    """
    raise NotImplementedError("15 quantization: implement calibrate — see exercises/15_quantization/README.md, step 1")


# --- step 2: scale and zero point -----------------------------------------------------------


def choose_qparams(low, high, *, symmetric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The scale and zero point that map [low, high] onto int8 codes with nothing clamped.

    First the range is widened to include 0: low = min(low, 0), high = max(high, 0) (so that
    0.0, a ReLU's output and a padding, is a code exactly). Then:

    - symmetric: ``scale = max(-low, high) / 127``, ``zero_point = 0``: the range lands in
      [-127, 127];
    - affine: ``scale = (high - low) / 255``, ``zero_point = -128 - round(low / scale)``: low
      lands on -128, high on 127 (give or take a rounding), and 0.0 on zero_point exactly.

    A range of zeros gets scale 1.0; and every scale is at least ``MIN_SCALE =
    np.finfo(np.float64).tiny`` (2.2e-308, the smallest normal float64): a range so narrow that
    its scale would be subnormal (x = [1e-321]) gets that scale and uses fewer codes.

    Because the scale is computed from the widened range, the zero point is in [-128, 127]
    without clamping, and every x in [low, high] (the ends too) sits within half a code of
    [-128, 127]: x / scale + zero_point is in [-128.5, 127.5] (to float rounding). So its round
    trip is off by at most scale / 2; the clamp can only take back a rounding past the last code
    (the affine range [-1, 1] puts 1.0 at 127.5, which rounds to the even 128, clamped to 127).

    Args:
        low, high: real numbers (Python or NumPy) or integer or float ndarrays, of one shape
            (() or (C,)), finite, low <= high, each at most ``MAX_RANGE`` (half the largest
            float64, 8.988e+307) in magnitude.
        symmetric: which of the two schemes.
    Returns:
        ``(scale, zero_point)``: float64 and int64 arrays of low's shape; scale finite and
        >= MIN_SCALE.
    Raises:
        TypeError: ``"choose_qparams: low and high must be real numbers or ndarrays, got str and str"``.
        ValueError: ``"choose_qparams: low and high must be finite, got nan and 1.0"``;
            ``"choose_qparams: low and high must be at most half the largest float64 in
            magnitude (8.988e+307), got -1.7e+308 and 1.7e+308"`` (a range too wide);
            ``"choose_qparams: low must be <= high, got 2.0 and 1.0"``;
            ``"choose_qparams: low and high must have one shape, got (3,) and (4,)"``.
    Complexity:
        O(C).
    Example:
        >>> scale, zero_point = choose_qparams(2.0, 10.0)  # widened to [0, 10]
        >>> float(scale * 255), int(zero_point)
        (10.0, -128)
    """
    raise NotImplementedError(
        "15 quantization: implement choose_qparams — see exercises/15_quantization/README.md, step 2"
    )


# --- step 3: quantize and dequantize --------------------------------------------------------


def quantize(x: np.ndarray, scale, zero_point, *, axis: int | None = None) -> np.ndarray:
    """Float to int8 codes: ``q = clamp(round(x / scale) + zero_point, -128, 127)``.

    ``round`` is NumPy's (halves to even). Per tensor (``axis`` None) one scale and zero point;
    per channel, element i along ``axis`` uses ``scale[i]`` and ``zero_point[i]``. The clamp
    only bites outside the calibrated range (a percentile's outliers saturate at -128 or 127;
    in symmetric mode a value below -max|x| may reach -128).

    x / scale is computed in float64 whatever x's dtype (a float32 quotient is off by up to
    255 · 6e-8 and moves values near a half: 0.0590551 in float32 over 1/127 is 7.49999974 in
    float64, code 7, but rounds to 7.5 in float32, code 8).

    Args:
        x: shape N, floating-point, finite (a NaN has no code: it is refused, not coded 0).
        scale: a positive finite number (per tensor) or (C,) array (per channel).
        zero_point: an integer in [-128, 127]: a Python int, a NumPy integer or a 0-d integer
            array (as ``choose_qparams`` returns it) per tensor; an (C,) integer array per channel.
        axis: the channel axis, or None.
    Returns:
        Shape N, dtype int8.
    Raises:
        TypeError: ``"quantize: x must be a floating-point ndarray, got int64"``; the zero point's
            type error of ``check_qparams``.
        ValueError: ``"quantize: x must be finite, got nan"`` (inf too); ``"quantize: scale must
            be positive and finite, got 0.0"`` and the shape and range errors of
            ``check_qparams``; the axis errors of ``check_axis``.
    Complexity:
        O(N) time; a bool temporary (the finiteness check) and one float64 temporary of x's
        size, then the int8 result.
    Example:
        >>> quantize(np.array([-1.0, 0.0, 0.26, 1.0]), 1 / 127, 0).tolist()
        [-127, 0, 33, 127]
    """
    raise NotImplementedError("15 quantization: implement quantize — see exercises/15_quantization/README.md, step 3")


def dequantize(q: np.ndarray, scale, zero_point, *, axis: int | None = None, dtype=np.float32) -> np.ndarray:
    """int8 codes back to floats: ``(q - zero_point) · scale``, computed in float64, returned in ``dtype``.

    Args:
        q: shape N, dtype int8.
        scale, zero_point, axis: as ``quantize`` took them.
        dtype: a floating dtype for the result (float32 by default): ``np.float32``,
            ``np.float64``, ``"float16"``, ... (None is refused, not taken as float64).
    Returns:
        Shape N, ``dtype``.
    Raises:
        TypeError: ``"dequantize: q must be an int8 ndarray, got int32"``;
            ``"dequantize: dtype must be floating-point, got int64"`` (None, ``"foo"``:
            ``got None``, ``got 'foo'``).
        ValueError: the scale, zero point and axis errors of ``quantize``, naming dequantize.
    Complexity:
        O(N) time; one float64 temporary of q's size.
    Example:
        >>> dequantize(np.array([-128, 0, 127], dtype=np.int8), 0.5, -128).tolist()
        [0.0, 64.0, 127.5]
    """
    raise NotImplementedError("15 quantization: implement dequantize — see exercises/15_quantization/README.md, step 3")


# --- step 4: integer matrix product ---------------------------------------------------------


def quantized_matmul(q_x: np.ndarray, x_zero_point, q_weight: np.ndarray) -> np.ndarray:
    """``(q_x - x_zero_point) @ q_weightᵀ`` in integers, accumulated in int32.

    Both operands are cast to int32 before the product (int8 arithmetic would wrap at 127).
    The weight's codes must be symmetric ([-127, 127], zero point 0); an input code minus its
    zero point is in [-255, 255], so each product is at most 255 · 127 and a sum of K of them
    stays below 2**31 for K <= MAX_K = 66,311: no overflow, exact.

    Args:
        q_x: (R, K) int8, the input's codes.
        x_zero_point: the input's zero point, an integer in [-128, 127]: a Python int, a NumPy
            integer or a 0-d integer array (as ``choose_qparams`` returns it). The result is int32
            whichever: an int64 zero point must not widen the accumulator.
        q_weight: (C_out, K) int8, the weight's codes, in [-127, 127].
    Returns:
        (R, C_out) int32: the exact integer sums.
    Raises:
        TypeError: ``"quantized_matmul: q_x must be an int8 ndarray, got float32"`` (q_weight too);
            ``"quantized_matmul: x_zero_point must be an integer, got float"``;
            ``"quantized_matmul: x_zero_point must be a single integer (0-d), got shape (1,)"``.
        ValueError: ``"quantized_matmul: q_x and q_weight must be 2-D with one K, got (2, 3) and (4, 5)"``;
            ``"quantized_matmul: K must be <= 66311 (int32 accumulation), got 70000"``;
            ``"quantized_matmul: q_weight must be in [-127, 127], got -128"``;
            ``"quantized_matmul: x_zero_point must be in [-128, 127], got 200"``.
    Complexity:
        2 · R · K · C_out integer operations; int32 copies of both operands and the (R, C_out) result.
    Example:
        >>> q_x = np.array([[1, 2]], dtype=np.int8)
        >>> quantized_matmul(q_x, -1, np.array([[3, 4]], dtype=np.int8)).tolist()  # (1+1)·3 + (2+1)·4
        [[18]]
    """
    raise NotImplementedError(
        "15 quantization: implement quantized_matmul — see exercises/15_quantization/README.md, step 4"
    )


# --- step 5: a quantized Linear -------------------------------------------------------------


class QuantizedLinear(Module):
    """``y ≈ x @ weightᵀ + bias`` with an int8 weight: for inference only.

    Built from a trained ``Linear`` by ``from_float``. It holds plain ndarrays, not Parameters:
    ``parameters()`` is empty, nothing is trained and nothing is recorded for autograd (the
    output does not require grad). Attributes (saved by ``state_dict`` as buffers):
    ``weight_q`` (C_out, C_in) int8, ``weight_scale`` (C_out,) float64 (zero points are 0),
    ``bias`` (C_out,) in the Linear's dtype, or None; ``in_features``, ``out_features``,
    ``dtype`` (the Linear's).
    """

    def __init__(
        self, weight_q: np.ndarray, weight_scale: np.ndarray, bias: np.ndarray | None, dtype=np.float32
    ) -> None:
        """Given: keep the arrays as they are (``from_float`` builds them)."""
        super().__init__()
        self.weight_q, self.weight_scale, self.bias = weight_q, weight_scale, bias
        self.out_features, self.in_features = weight_q.shape
        self.dtype = np.dtype(dtype)
        self.buffer_names = ("weight_q", "weight_scale") + (() if bias is None else ("bias",))

    @classmethod
    def from_float(cls, linear: Linear) -> QuantizedLinear:
        """Quantize a Linear's weight per output channel, symmetric, min/max calibrated.

        Row j of the weight gets ``weight_scale[j] = max|weight[j]| / 127`` (``calibrate`` with
        axis 0, ``choose_qparams(symmetric=True)``, ``quantize``): its codes are in [-127, 127].
        The bias stays in float (the Linear's own array, not a copy): it is C_out numbers.
        The Linear is not changed.

        Args:
            linear: a ``Linear`` with C_in <= MAX_K (66,311).
        Returns:
            A QuantizedLinear.
        Raises:
            TypeError: ``"QuantizedLinear.from_float: linear must be a Linear, got ReLU"``.
            ValueError: ``"QuantizedLinear.from_float: in_features must be <= 66311 (int32
                accumulation), got 70000"``.
        Complexity:
            O(C_out · C_in) time; keeps C_out · C_in bytes of codes and 8 · C_out of scales; a
            float64 temporary of the weight's size while quantizing.
        Example:
            >>> QuantizedLinear.from_float(Linear(3, 4)).weight_q.dtype
            dtype('int8')
        """
        raise NotImplementedError(
            "15 quantization: implement QuantizedLinear.from_float — see exercises/15_quantization/README.md, step 5"
        )

    def forward(self, x: Tensor) -> Tensor:
        """Quantize x (per tensor, affine, min/max of this very input), multiply in int32, rescale once.

        ``q_x, s_x, z_x`` from ``calibrate(x)``, ``choose_qparams(symmetric=False)`` and
        ``quantize``; ``acc = quantized_matmul(q_x, z_x, weight_q)`` (R, C_out) int32 (this
        module's ``quantized_matmul``, called once for the integer product: the tests watch it);
        then
        ``y = acc · (s_x · weight_scale) + bias`` in float64, returned in the layer's dtype.
        So y is exactly (to float rounding) ``dequantize(q_x) @ dequantize(weight_q)ᵀ + bias``.

        Args:
            x: a Tensor (B, ..., C_in) of the layer's dtype, at least 2 dimensions, finite.
        Returns:
            A Tensor (B, ..., C_out) of the layer's dtype, not requiring grad (empty for an
            empty batch).
        Raises:
            TypeError: ``"QuantizedLinear: input must be a Tensor, got ndarray"``;
                ``"QuantizedLinear: input must have dtype float32, got float64"``.
            ValueError: ``"QuantizedLinear: input must have at least 2 dimensions (a batch), got (3,)"``;
                ``"QuantizedLinear: input must have 3 features in its last dimension, got (2, 4)"``;
                calibrate's ``"x must be finite"`` for a NaN or inf input; choose_qparams's
                ``"low and high must be at most half the largest float64"`` for a larger one.
        Complexity:
            2 · R · C_in · C_out integer operations (R the rows); memory: int8 and int32 copies of
            x, the (R, C_out) int32 accumulator and the output.
        Example:
            >>> layer = QuantizedLinear.from_float(Linear(3, 4))
            >>> layer(Tensor(np.ones((2, 3), dtype=np.float32))).shape
            (2, 4)
        """
        raise NotImplementedError(
            "15 quantization: implement QuantizedLinear.forward — see exercises/15_quantization/README.md, step 5"
        )


# --- step 6: a whole model ------------------------------------------------------------------


def quantize_model(model: Module) -> Module:
    """Replace every ``Linear`` in ``model`` (at any depth, in a Sequential too) by its QuantizedLinear.

    In place: the model's attributes (and a Sequential's ``layers``) now hold QuantizedLinear
    modules, and no float copy of a weight is made. The model drops each float Linear as it is
    replaced; the list of modules walked still holds them until ``quantize_model`` returns, when
    they are freed (unless the caller holds them). Other
    modules (ReLU, a Conv2d) are left as they are. A model that is itself a Linear cannot be
    swapped in place: quantize it with ``QuantizedLinear.from_float``.

    Args:
        model: a Module.
    Returns:
        ``model`` itself.
    Raises:
        TypeError: ``"quantize_model: model must be a Module, got list"``;
            ``"quantize_model: model must contain the Linears, not be one: use
            QuantizedLinear.from_float"`` for a bare Linear.
    Complexity:
        O(parameters) time; the int8 codes of every weight, plus while one layer is quantized, a
        float64 temporary of its weight's size.
    Example:
        >>> model = quantize_model(Sequential(Linear(3, 4), Linear(4, 2)))
        >>> type(model[0]).__name__
        'QuantizedLinear'
    """
    raise NotImplementedError(
        "15 quantization: implement quantize_model — see exercises/15_quantization/README.md, step 6"
    )
