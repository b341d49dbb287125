"""Kata 15 quantization. Run: pytest exercises/15_quantization   (one step: -k "step1" ... "step6")."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinytorch.quantization as quantization_module
from tinytorch.autograd import Tensor
from tinytorch.layers import Linear, Module, ReLU, Sequential
from tinytorch.quantization import (
    QuantizedLinear,
    calibrate,
    choose_qparams,
    dequantize,
    quantize,
    quantize_model,
    quantized_matmul,
)
from tinytorch.testing import assert_close, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.testing.strategies import shapes

# --- oracles written here, independent of the kata ---------------------------------------------

# The int32 bound, from the contract: an input code minus its zero point is in [-255, 255], a
# symmetric weight code in [-127, 127]; K products must sum to at most 2**31 - 1.
K_BOUND = (2**31 - 1) // (255 * 127)  # 66,311


def codes(x, scale, zero_point):
    """The contract's formula: clamp(round(x / scale) + zero_point, -128, 127), in int64."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point, -128, 127).astype(np.int64)


def affine_params(low, high):
    """Affine scale and zero point of the contract, on the range widened to include 0."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255 if high > low else 1.0
    return scale, int(-128 - np.round(low / scale))


def round_trip(x, symmetric, axis=None):
    """calibrate (min/max) -> choose_qparams -> quantize -> dequantize (float64); and the scale."""
    low, high = calibrate(x, axis=axis)
    scale, zero_point = choose_qparams(low, high, symmetric=symmetric)
    q = quantize(x, scale, zero_point, axis=axis)
    return dequantize(q, scale, zero_point, axis=axis, dtype=np.float64), np.asarray(scale)


def half_step(scale):
    """scale / 2, and a rounding allowance of 1e-9 scale: |x| / scale <= 255, float64 is good to 1e-16."""
    return np.asarray(scale) * (0.5 + 1e-9)


seeds = st.integers(0, 2**32 - 1)
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
TINY = np.finfo(np.float64).tiny  # the contract's smallest scale: the smallest normal float64
WIDEST = np.finfo(np.float64).max / 2  # the contract's widest range: |low|, |high| <= half the largest float64


@st.composite
def tensors(draw, min_dims=1, max_dims=3):
    """A float64 array (shape from 1 to 5 per side) of values in [-1000, 1000] plus an offset,
    so that its range often excludes 0 (all positive, or all negative)."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5))
    x = draw(hnp.arrays(np.float64, shape, elements=finite))
    return x + draw(st.sampled_from([0.0, 2000.0, -2000.0, 0.5]))


def any_finite_tensors():
    """A small float64 array of any finite values: subnormal (1e-321), huge (1.7e308), all between."""
    shape = shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)
    return hnp.arrays(np.float64, shape, elements=st.floats(allow_nan=False, allow_infinity=False))


# --- step 1: calibration -----------------------------------------------------------------------


def test_step1_minmax_gives_the_min_and_max_of_the_tensor_and_of_each_channel(rng):
    x = rng.standard_normal((3, 4, 5))
    low, high = calibrate(x)
    assert low.shape == () and high.shape == () and low.dtype == np.float64
    assert low == x.min() and high == x.max()
    for axis in (0, 1, 2, -1):
        low, high = calibrate(x, axis=axis)
        moved = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)  # (C, rest)
        assert_close(low, moved.min(axis=1), rtol=0, atol=0, what=f"low along axis {axis}")
        assert_close(high, moved.max(axis=1), rtol=0, atol=0, what=f"high along axis {axis}")


def percentile_by_hand(values, p):
    """NumPy's "linear" percentile: sort, position (n - 1)·p/100, interpolate between neighbours."""
    v = np.sort(np.ravel(values))
    position = (len(v) - 1) * p / 100
    below = int(np.floor(position))
    above = min(below + 1, len(v) - 1)
    return v[below] + (position - below) * (v[above] - v[below])


@pytest.mark.parametrize("p", [50, 90, 99.5, 100])
def test_step1_percentile_calibration_interpolates_linearly_between_sorted_values(p, rng):
    x = rng.standard_normal((6, 7))
    low, high = calibrate(x, method="percentile", percentile=p)
    assert_close(low, percentile_by_hand(x, 100 - p), rtol=1e-12, atol=1e-12, what="low")
    assert_close(high, percentile_by_hand(x, p), rtol=1e-12, atol=1e-12, what="high")
    low, high = calibrate(x, method="percentile", percentile=p, axis=1)  # per column
    assert_close(high, [percentile_by_hand(x[:, c], p) for c in range(7)], rtol=1e-12, atol=1e-12, what="high")


@pytest.mark.parametrize("method", ["minmax", "percentile"])
@pytest.mark.parametrize("axis", [None, 1])
def test_step1_a_float32_tensor_is_calibrated_into_float64(method, axis, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    low, high = calibrate(x, method=method, percentile=90, axis=axis)
    assert low.dtype == np.float64 and high.dtype == np.float64, f"{low.dtype} and {high.dtype}"
    assert np.all(low <= high)


def test_step1_percentile_calibration_leaves_an_outlier_out_of_the_range(rng):
    x = rng.uniform(-1, 1, size=1000)
    x[17] = 500.0
    assert calibrate(x)[1] == 500.0
    low, high = calibrate(x, method="percentile", percentile=99.0)
    assert -1 <= low < high <= 1
    # what is it for: the 999 ordinary values round-trip 400x finer than with the outlier's range
    scale_minmax = choose_qparams(*calibrate(x))[0]
    scale_percentile = choose_qparams(low, high)[0]
    assert scale_percentile < scale_minmax / 200


@pytest.mark.parametrize(
    ("x", "options", "error", "message"),
    [
        (np.arange(6).reshape(2, 3), {}, TypeError, "calibrate: x must be a floating-point ndarray, got int64"),
        ([1.0, 2.0], {}, TypeError, "calibrate: x must be a floating-point ndarray, got list"),
        (np.zeros((0, 3)), {}, ValueError, r"calibrate: x must not be empty, got shape \(0, 3\)"),
        (np.array([1.0, np.nan]), {}, ValueError, "calibrate: x must be finite, got nan"),
        (np.array([1.0, np.inf]), {}, ValueError, "calibrate: x must be finite, got inf"),
        # percentile: x is checked before np.percentile warns on the NaN or inf
        (np.array([1.0, np.nan]), {"method": "percentile"}, ValueError, "calibrate: x must be finite, got nan"),
        (np.array([-np.inf, 1.0, 2.0]), {"method": "percentile", "percentile": 75}, ValueError, "finite, got -inf"),
        # huge finite values: np.percentile's interpolation would overflow between them
        (
            np.array([-1.7e308, 1.7e308, 0.0, 1.0]),
            {"method": "percentile", "percentile": 75},
            ValueError,
            r"calibrate: max\(x\) - min\(x\) must be finite for method 'percentile'",
        ),
        (np.ones(3), {"method": "max"}, ValueError, "calibrate: method must be one of"),
        (np.ones(3), {"method": "percentile", "percentile": 101}, ValueError, r"percentile must be in \[50, 100\]"),
        (np.ones(3), {"method": "percentile", "percentile": 10}, ValueError, r"percentile must be in \[50, 100\]"),
        (np.ones((2, 3)), {"axis": 2}, ValueError, "calibrate: axis must be an int in"),
        (np.ones((2, 3)), {"axis": 1.0}, TypeError, "calibrate: axis must be an int or None, got float"),
    ],
)
def test_step1_calibrate_refuses_bad_inputs(x, options, error, message):
    with pytest.raises(error, match=message):
        calibrate(x, **options)


# --- step 2: scale and zero point, and the round trip ------------------------------------------


@given(st.one_of(tensors(), any_finite_tensors()), st.booleans())
@example(np.array([1.48e-321]), False)  # a subnormal range: scale floored at TINY, not a subnormal 5e-324
@example(np.array([1.48e-321]), True)
@example(np.array([-1.0, 1.0]), False)  # 1.0 at 127.5 codes: rounds to 128, clamped to 127, off by scale/2
@example(np.array([-1.7e308, 1.7e308]), False)  # high - low would overflow: refused
@example(np.array([-WIDEST, WIDEST]), False)  # the widest range allowed
@example(np.array([np.finfo(np.float64).max]), True)  # past half the largest float64: refused
def test_step2_every_element_round_trips_within_half_a_scale_the_range_ends_included(x, symmetric):
    ends = np.array([x.min(), x.max()])  # the calibrated range's ends, checked on their own too
    if np.abs(x).max() > WIDEST:  # the contract refuses a range wider than float64 can code
        with pytest.raises(ValueError, match="choose_qparams: low and high must be at most half the largest float64"):
            round_trip(x, symmetric)
        return
    back, scale = round_trip(x, symmetric)
    assert np.isfinite(scale) and scale >= TINY
    assert np.all(np.abs(back - x) <= half_step(scale)), f"worst error {np.max(np.abs(back - x))}, scale {scale}"
    low, high = calibrate(x)
    zero_point = choose_qparams(low, high, symmetric=symmetric)[1]
    back_ends = dequantize(quantize(ends, scale, zero_point), scale, zero_point, dtype=np.float64)
    assert np.all(np.abs(back_ends - ends) <= half_step(scale)), f"the ends {ends} came back as {back_ends}"


@pytest.mark.parametrize(("low", "high"), [(2.0, 10.0), (-10.0, -2.0), (1000.0, 1000.5)])
def test_step2_a_range_that_excludes_zero_is_widened_so_that_nothing_is_clamped(low, high):
    # The known bug: scale from [low, high] and then a zero point clamped into [-128, 127]
    # shifts the whole grid, and high (or low) comes back several scales off.
    x = np.linspace(low, high, 101)  # the ends included
    scale, zero_point = choose_qparams(low, high)
    assert scale == pytest.approx((max(high, 0.0) - min(low, 0.0)) / 255, rel=1e-12)
    assert -128 <= zero_point <= 127
    back = dequantize(quantize(x, scale, zero_point), scale, zero_point, dtype=np.float64)
    assert np.all(np.abs(back - x) <= half_step(scale)), f"worst error {np.max(np.abs(back - x))}, scale {scale}"


@given(st.tuples(finite, finite).map(sorted))
def test_step2_zero_is_exactly_representable_in_affine_mode(bounds):
    low, high = bounds
    scale, zero_point = choose_qparams(low, high)
    q = quantize(np.zeros(3), scale, zero_point)
    assert np.all(q == zero_point)
    assert np.all(dequantize(q, scale, zero_point, dtype=np.float64) == 0.0)


def test_step2_the_scales_and_zero_points_follow_the_contract_s_formulas():
    scale, zero_point = choose_qparams(-3.0, 5.0, symmetric=True)
    assert scale == pytest.approx(5.0 / 127, rel=1e-15) and zero_point == 0
    scale, zero_point = choose_qparams(-3.0, 5.0)
    expected_scale, expected_zero = affine_params(-3.0, 5.0)
    assert scale == pytest.approx(expected_scale, rel=1e-15) and zero_point == expected_zero
    assert np.asarray(scale).dtype == np.float64 and np.asarray(zero_point).dtype.kind == "i"
    # low lands on -128 and, symmetric, ±max|x| on ±127
    assert quantize(np.array([-3.0]), scale, zero_point)[0] == -128
    s = choose_qparams(-3.0, 5.0, symmetric=True)[0]
    assert quantize(np.array([-5.0, 5.0]), s, 0).tolist() == [-127, 127]


def test_step2_per_channel_parameters_come_one_per_channel():
    low, high = np.array([-1.0, 0.5, -4.0]), np.array([1.0, 2.0, -2.0])
    scale, zero_point = choose_qparams(low, high)
    assert scale.shape == (3,) and zero_point.shape == (3,)
    for c in range(3):
        expected_scale, expected_zero = affine_params(low[c], high[c])
        assert scale[c] == pytest.approx(expected_scale, rel=1e-15) and zero_point[c] == expected_zero


@pytest.mark.parametrize("symmetric", [False, True])
def test_step2_a_tensor_of_zeros_gets_a_positive_scale_and_comes_back_as_zeros(symmetric):
    x = np.zeros((2, 3))
    back, scale = round_trip(x, symmetric)
    assert scale > 0 and np.isfinite(scale)
    assert np.all(back == 0.0)


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (2.0, 1.0, "choose_qparams: low must be <= high, got 2.0 and 1.0"),
        (np.nan, 1.0, "choose_qparams: low and high must be finite"),
        (0.0, np.inf, "choose_qparams: low and high must be finite"),
        (np.zeros(3), np.ones(4), r"choose_qparams: low and high must have one shape, got \(3,\) and \(4,\)"),
    ],
)
def test_step2_choose_qparams_refuses_a_bad_range(low, high, message):
    with pytest.raises(ValueError, match=message):
        choose_qparams(low, high)


@pytest.mark.parametrize("symmetric", [False, True])
def test_step2_a_range_wider_than_float64_can_code_is_refused_not_given_an_infinite_scale(symmetric):
    message = r"choose_qparams: low and high must be at most half the largest float64 in magnitude"
    with pytest.raises(ValueError, match=message):
        choose_qparams(-1.7e308, 1.7e308, symmetric=symmetric)  # affine: high - low would be inf
    with pytest.raises(ValueError, match=message):  # one channel of two
        choose_qparams(np.array([-1.0, -1.0]), np.array([1.0, 1.7e308]), symmetric=symmetric)
    scale, zero_point = choose_qparams(-WIDEST, WIDEST, symmetric=symmetric)  # the widest range allowed
    assert np.isfinite(scale)
    codes_back = dequantize(np.array([-128, 127], dtype=np.int8), scale, zero_point, dtype=np.float64)
    assert np.all(np.isfinite(codes_back))


@pytest.mark.parametrize(("low", "high", "got"), [("a", "b", "str and str"), (None, 1.0, "NoneType and float")])
def test_step2_choose_qparams_refuses_what_is_not_a_number(low, high, got):
    with pytest.raises(TypeError, match=f"choose_qparams: low and high must be real numbers or ndarrays, got {got}"):
        choose_qparams(low, high)


@pytest.mark.parametrize("symmetric", [False, True])
def test_step2_a_subnormal_range_gets_the_smallest_normal_scale_and_round_trips(symmetric):
    x = np.array([0.0, 1e-321, 1.48e-321])  # (high - low) / 255 would be a subnormal scale
    scale, zero_point = choose_qparams(*calibrate(x), symmetric=symmetric)
    assert scale == TINY
    back = dequantize(quantize(x, scale, zero_point), scale, zero_point, dtype=np.float64)
    assert np.all(np.abs(back - x) <= half_step(scale))


# --- step 3: quantize and dequantize -----------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_step3_quantize_and_dequantize_follow_the_formulas_per_tensor_and_per_channel(axis, rng):
    x = rng.standard_normal((4, 6)) * 3
    if axis is None:
        scale, zero_point = np.float64(0.02), np.int64(5)
        s, z = scale, zero_point
    else:
        C = x.shape[axis]
        scale, zero_point = rng.uniform(0.01, 0.05, size=C), rng.integers(-20, 20, size=C)
        shape = [1, 1]
        shape[axis] = C
        s, z = scale.reshape(shape), zero_point.reshape(shape)  # each channel's along its axis
    q = quantize(x, scale, zero_point, axis=axis)
    assert q.dtype == np.int8 and q.shape == x.shape
    assert np.array_equal(q, codes(x, s, z))  # values beyond the range saturate at -128 and 127
    assert q.min() == -128 and q.max() == 127
    back = dequantize(q, scale, zero_point, axis=axis)
    assert back.dtype == np.float32
    assert_close(back, ((q.astype(np.float64) - z) * s).astype(np.float32), rtol=0, atol=0, what="dequantize")
    assert dequantize(q, scale, zero_point, axis=axis, dtype=np.float64).dtype == np.float64


def test_step3_a_float32_tensor_is_divided_by_the_scale_in_float64():
    # in float64, 0.0590551... / (1/127) is 7.49999974: code 7; divided in float32 it is 7.5: code 8
    x = np.array([0.05905511602759361], dtype=np.float32)
    assert np.round(x.astype(np.float64) / (1 / 127)) == 7  # the oracle: the division in float64
    assert quantize(x, 1 / 127, 0).tolist() == [7]
    assert quantize(x.reshape(1, 1), np.array([1 / 127]), np.zeros(1, dtype=np.int64), axis=0).tolist() == [[7]]


def test_step3_quantize_rounds_halves_to_even_as_numpy_does():
    assert quantize(np.array([0.5, 1.5, 2.5, -0.5]), 1.0, 0).tolist() == [0, 2, 2, 0]


def test_step3_a_float32_tensor_quantizes_and_a_0d_one_too():
    x = np.array([-1.0, 0.25, 1.0], dtype=np.float32)
    assert quantize(x, 1 / 127, 0).tolist() == [-127, 32, 127]
    q = quantize(np.array(0.5), 0.25, 3)
    assert q.shape == () and q.dtype == np.int8 and int(q) == 5


@given(st.integers(1, 5), st.integers(1, 6), seeds, st.booleans())
def test_step3_per_channel_error_is_within_the_per_tensor_bound(C, K, seed, symmetric):
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((C, K)) * 10.0 ** gen.uniform(-3, 3, size=(C, 1))  # channels of all sizes
    tensor_back, tensor_scale = round_trip(x, symmetric)
    channel_back, channel_scales = round_trip(x, symmetric, axis=0)
    # each channel's range lies inside the tensor's, so its scale is no larger ...
    assert np.all(channel_scales <= tensor_scale * (1 + 1e-12))
    # ... and its worst error is within its own half step, so within the tensor's
    channel_error = np.abs(channel_back - x).max(axis=1)  # (C,)
    assert np.all(channel_error <= half_step(channel_scales))
    assert channel_error.max() <= half_step(tensor_scale)
    assert np.abs(tensor_back - x).max() <= half_step(tensor_scale)


def test_step3_per_channel_scales_keep_a_small_channel_that_one_scale_rounds_to_zero(rng):
    x = np.stack([rng.uniform(-1, 1, 50), rng.uniform(-1e-3, 1e-3, 50)])  # (2, 50): a big and a small row
    tensor_back, _ = round_trip(x, True)
    channel_back, _ = round_trip(x, True, axis=0)
    assert np.all(tensor_back[1] == 0)  # one scale of 1/127: every value of the small row rounds to 0
    small_row_error = np.abs(channel_back[1] - x[1]).max()
    assert small_row_error <= 1e-3 / 254 * (1 + 1e-9)  # its own scale: max|row| / 127, half of it


@pytest.mark.parametrize("scale", [0.0, -0.1, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("function", ["quantize", "dequantize"])
def test_step3_a_scale_that_is_zero_negative_nan_or_infinite_is_refused(function, scale):
    with pytest.raises(ValueError, match=f"{function}: scale must be positive and finite"):
        if function == "quantize":
            quantize(np.ones(3), scale, 0)
        else:
            dequantize(np.ones(3, dtype=np.int8), scale, 0)
    with pytest.raises(ValueError, match=f"{function}: scale must be positive and finite"):  # one bad channel
        if function == "quantize":
            quantize(np.ones((2, 3)), np.array([0.1, scale]), np.zeros(2, dtype=np.int64), axis=0)
        else:
            dequantize(np.ones((2, 3), dtype=np.int8), np.array([0.1, scale]), np.zeros(2, dtype=np.int64), axis=0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: quantize(np.arange(3), 0.1, 0), TypeError, "quantize: x must be a floating-point ndarray, got int64"),
        (lambda: quantize(np.array([np.nan, 1.0]), 0.1, 0), ValueError, "quantize: x must be finite, got nan"),
        (lambda: quantize(np.array([[1.0, -np.inf]]), 0.1, 0), ValueError, "quantize: x must be finite, got -inf"),
        (lambda: quantize(np.ones(3), 0.1, 0.5), TypeError, "quantize: zero_point must be an integer, got float64"),
        (lambda: quantize(np.ones(3), 0.1, 200), ValueError, r"quantize: zero_point must be in \[-128, 127\], got 200"),
        (lambda: quantize(np.ones((3, 4)), np.ones(4), np.zeros(4, dtype=int), axis=0), ValueError, r"shape \(3,\)"),
        (lambda: quantize(np.ones((3, 4)), np.ones(3), 0, axis=0), ValueError, "zero_point must have shape"),
        (lambda: quantize(np.ones((3, 4)), np.ones(3), np.zeros(3, dtype=int)), ValueError, r"scale must have shape"),
        (lambda: quantize(np.ones(3), 0.1, 0, axis=1), ValueError, "quantize: axis must be an int in"),
        (lambda: dequantize(np.ones(3, dtype=np.int32), 0.1, 0), TypeError, "dequantize: q must be an int8 ndarray"),
        (lambda: dequantize(np.ones(3), 0.1, 0), TypeError, "dequantize: q must be an int8 ndarray, got float64"),
        (lambda: dequantize(np.ones(3, dtype=np.int8), 0.1, 0, dtype=np.int64), TypeError, "dtype must be floating"),
        (
            lambda: dequantize(np.ones(3, np.int8), 0.1, 0, dtype=None),
            TypeError,
            "dtype must be floating-point, got None",
        ),
        (
            lambda: dequantize(np.ones(3, np.int8), 0.1, 0, dtype="foo"),
            TypeError,
            "dtype must be floating-point, got 'foo'",
        ),
        (lambda: dequantize(np.ones(3, dtype=np.int8), 0.1, -129), ValueError, "zero_point must be in"),
    ],
)
def test_step3_quantize_and_dequantize_refuse_bad_dtypes_shapes_and_zero_points(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- step 4: the integer matrix product --------------------------------------------------------


# the zero point as the contract allows it: a Python int, a NumPy integer, a 0-d array (choose_qparams's)
ZERO_POINT_FORMS = [int, np.int64, np.int32, lambda z: np.asarray(z, dtype=np.int64)]


@given(
    st.integers(1, 4),
    st.integers(1, 6),
    st.integers(1, 5),
    st.integers(-128, 127),
    seeds,
    st.sampled_from(ZERO_POINT_FORMS),
)
def test_step4_quantized_matmul_is_the_exact_integer_product_in_int32(R, K, C_out, zero_point, seed, form):
    gen = np.random.default_rng(seed)
    q_x = gen.integers(-128, 128, size=(R, K)).astype(np.int8)
    q_w = gen.integers(-127, 128, size=(C_out, K)).astype(np.int8)
    out = quantized_matmul(q_x, form(zero_point), q_w)
    assert out.dtype == np.int32 and out.shape == (R, C_out), f"{out.dtype} for a zero point {type(form(zero_point))}"
    expected = (q_x.astype(np.int64) - zero_point) @ q_w.astype(np.int64).T  # int64: no overflow possible
    assert np.array_equal(out, expected)


@pytest.mark.parametrize(("x_code", "zero_point", "w_code"), [(127, -128, 127), (-128, 127, 127), (127, -128, -127)])
def test_step4_int32_accumulation_is_exact_at_the_stated_bound_on_k(x_code, zero_point, w_code):
    q_x = np.full((1, K_BOUND), x_code, dtype=np.int8)  # every product at its largest: ±255·127
    q_w = np.full((2, K_BOUND), w_code, dtype=np.int8)
    out = quantized_matmul(q_x, zero_point, q_w)
    expected = K_BOUND * (x_code - zero_point) * w_code  # Python ints: exact
    assert abs(expected) <= 2**31 - 1
    assert out.dtype == np.int32 and out.tolist() == [[expected, expected]]


def test_step4_a_k_past_the_bound_is_refused_instead_of_overflowing():
    q_x = np.full((1, K_BOUND + 1), 127, dtype=np.int8)
    with pytest.raises(ValueError, match=f"quantized_matmul: K must be <= {K_BOUND}"):
        quantized_matmul(q_x, -128, np.full((1, K_BOUND + 1), 127, dtype=np.int8))


@pytest.mark.parametrize(
    ("q_x", "zero_point", "q_w", "error", "message"),
    [
        (
            np.ones((2, 3), np.float32),
            0,
            np.ones((4, 3), np.int8),
            TypeError,
            "q_x must be an int8 ndarray, got float32",
        ),
        (np.ones((2, 3), np.int8), 0, np.ones((4, 3), np.int32), TypeError, "q_weight must be an int8 ndarray"),
        (np.ones((2, 3), np.int8), 0, np.ones((4, 5), np.int8), ValueError, "must be 2-D with one K"),
        (np.ones(3, np.int8), 0, np.ones((4, 3), np.int8), ValueError, "must be 2-D with one K"),
        (np.ones((2, 3), np.int8), 0, np.full((4, 3), -128, np.int8), ValueError, r"q_weight must be in \[-127, 127\]"),
        (np.ones((2, 3), np.int8), 0.5, np.ones((4, 3), np.int8), TypeError, "x_zero_point must be an integer"),
        (
            np.ones((2, 3), np.int8),
            np.array([5]),
            np.ones((4, 3), np.int8),
            TypeError,
            r"x_zero_point must be a single integer \(0-d\), got shape \(1,\)",
        ),
        (np.ones((2, 3), np.int8), 200, np.ones((4, 3), np.int8), ValueError, r"x_zero_point must be in \[-128, 127\]"),
    ],
)
def test_step4_quantized_matmul_refuses_bad_operands(q_x, zero_point, q_w, error, message):
    with pytest.raises(error, match=message):
        quantized_matmul(q_x, zero_point, q_w)


# --- step 5: QuantizedLinear -------------------------------------------------------------------


def test_step5_from_float_stores_an_int8_weight_a_quarter_of_the_float32_bytes(rng):
    linear = Linear(12, 5, rng=rng)
    weight = linear.weight.data.copy()
    layer = QuantizedLinear.from_float(linear)
    assert isinstance(layer.weight_q, np.ndarray) and layer.weight_q.dtype == np.int8
    assert layer.weight_q.shape == (5, 12)
    assert layer.weight_q.nbytes * 4 == linear.weight.nbytes
    scales = np.abs(weight.astype(np.float64)).max(axis=1) / 127  # symmetric, per output channel
    assert_close(layer.weight_scale, scales, rtol=1e-12, atol=0, what="weight_scale")
    assert np.array_equal(layer.weight_q, codes(weight, scales[:, None], 0))
    assert layer.bias is linear.bias.data  # the bias stays float, not copied
    assert list(layer.parameters()) == []  # inference only: nothing to train
    assert np.array_equal(linear.weight.data, weight)  # the Linear is left as it was


def test_step5_from_float_divides_a_float32_weight_by_its_scale_in_float64():
    linear = Linear(2, 1, bias=False)  # float32
    linear.weight.data[...] = [[1.0, 0.05905511602759361]]  # scale 1/127; 7.49999974 codes in float64
    assert np.round(np.float64(linear.weight.data[0, 1]) * 127) == 7  # the oracle, in float64
    assert QuantizedLinear.from_float(linear).weight_q.tolist() == [[127, 7]]


def quantize_input_by_hand(x):
    """The forward's input quantization, by the contract: affine, per tensor, min/max of x."""
    scale, zero_point = affine_params(float(x.min()), float(x.max()))
    return codes(x, scale, zero_point), scale, zero_point


def test_step5_the_forward_is_the_product_of_the_dequantized_input_and_weight(rng):
    linear = Linear(7, 3, rng=rng)
    layer = QuantizedLinear.from_float(linear)
    x = rng.standard_normal((4, 7)).astype(np.float32)
    out = layer(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == (4, 3) and out.dtype == np.float32
    assert not out.requires_grad
    q_x, scale, zero_point = quantize_input_by_hand(x)
    weight_back = layer.weight_q.astype(np.float64) * np.asarray(layer.weight_scale)[:, None]  # (C_out, C_in)
    expected = ((q_x - zero_point) * scale) @ weight_back.T + linear.bias.data
    assert_close(out, expected, rtol=1e-5, atol=1e-6, what="QuantizedLinear(x)")


@given(st.integers(1, 4), st.integers(1, 8), st.integers(1, 4), seeds)
def test_step5_the_quantized_output_is_within_the_bound_the_scales_give(R, K, C_out, seed):
    gen = np.random.default_rng(seed)
    linear = Linear(K, C_out, rng=gen, dtype=np.float64)
    x = gen.standard_normal((R, K)) * gen.uniform(0.1, 10)
    out = QuantizedLinear.from_float(linear)(Tensor(x)).numpy()
    w = linear.weight.data
    exact = x @ w.T + linear.bias.data
    # x̂·ŵ - x·w = (x̂ - x)·w + x̂·(ŵ - w), with |x̂ - x| <= s_x/2, |ŵ - w| <= s_w/2, |x̂| <= |x| + s_x/2
    s_x = (max(x.max(), 0.0) - min(x.min(), 0.0)) / 255
    s_w = np.abs(w).max(axis=1) / 127  # (C_out,)
    bound = s_x / 2 * np.abs(w).sum(axis=1) + s_w / 2 * (np.abs(x) + s_x / 2).sum(axis=1, keepdims=True)
    bound += 1e-9 * (np.abs(x) @ np.abs(w).T + 1)  # float64 rounding
    assert np.all(np.abs(out - exact) <= bound), f"worst excess {np.max(np.abs(out - exact) - bound)}"


def test_step5_the_forward_multiplies_integers_with_quantized_matmul_in_int32(rng, monkeypatch):
    linear = Linear(5, 3, rng=rng, dtype=np.float64)
    layer = QuantizedLinear.from_float(linear)
    x = rng.standard_normal((4, 5))
    plain = layer(Tensor(x)).numpy()
    real = quantization_module.quantized_matmul
    calls = []

    def spy(q_x, x_zero_point, q_weight):  # the real product, plus one in every sum
        acc = real(q_x, x_zero_point, q_weight)
        calls.append((q_x, q_weight, acc.dtype))
        return acc + np.int32(1)

    monkeypatch.setattr(quantization_module, "quantized_matmul", spy)
    nudged = layer(Tensor(x)).numpy()
    assert len(calls) == 1, f"forward called quantized_matmul {len(calls)} times"
    q_x, q_weight, acc_dtype = calls[0]
    assert q_x.dtype == np.int8 and q_x.shape == (4, 5) and q_weight is layer.weight_q
    assert acc_dtype == np.int32, f"the accumulator is {acc_dtype}"  # the zero point forward passes must not widen it
    assert np.array_equal(q_x, quantize_input_by_hand(x)[0])
    # the output is rescaled from the accumulator: one more in a sum is s_x · s_w[j] more in the output
    x_scale = quantize_input_by_hand(x)[1]
    expected = np.broadcast_to(x_scale * np.asarray(layer.weight_scale), (4, 3))
    assert_close(nudged - plain, expected, rtol=1e-6, atol=0, what="the output's change per unit of the accumulator")


def test_step5_a_batch_of_sequences_is_quantized_as_one_tensor(rng):
    layer = QuantizedLinear.from_float(Linear(5, 3, rng=rng))
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    out = layer(Tensor(x))
    assert out.shape == (2, 4, 3)
    assert_close(out, layer(Tensor(x.reshape(8, 5))).numpy().reshape(2, 4, 3), rtol=0, atol=0, what="(B, T, C)")


def test_step5_an_empty_batch_gives_an_empty_output(rng):
    layer = QuantizedLinear.from_float(Linear(3, 2, rng=rng))
    out = layer(Tensor(np.zeros((0, 3), dtype=np.float32)))
    assert out.shape == (0, 2) and out.dtype == np.float32
    assert layer(Tensor(np.zeros((2, 0, 3), dtype=np.float32))).shape == (2, 0, 2)


def test_step5_no_bias_and_float64_layers_work_too(rng):
    linear = Linear(4, 2, bias=False, rng=rng, dtype=np.float64)
    layer = QuantizedLinear.from_float(linear)
    assert layer.bias is None
    x = rng.standard_normal((3, 4))
    out = layer(Tensor(x))
    assert out.dtype == np.float64
    assert_close(out, x @ linear.weight.data.T, rtol=0.05, atol=0.05, what="a no-bias layer, to within 8 bits")


def test_step5_the_layer_is_exact_enough_at_the_bound_on_k():
    linear = Linear(K_BOUND, 1, bias=False)
    linear.weight.data[...] = 0.5  # codes 127 with scale 0.5/127
    layer = QuantizedLinear.from_float(linear)
    out = layer(Tensor(np.ones((1, K_BOUND), dtype=np.float32)))  # range [0, 1]: codes 127, zero point -128
    # the int32 sum is K·255·127 = 2,147,481,735, just under 2**31: an overflow would wrap negative
    assert_close(out, [[0.5 * K_BOUND]], rtol=1e-6, atol=0, what="the output at K = 66,311")


def test_step5_from_float_refuses_a_layer_wider_than_the_bound():
    with pytest.raises(ValueError, match=rf"QuantizedLinear\.from_float: in_features must be <= {K_BOUND}"):
        QuantizedLinear.from_float(Linear(K_BOUND + 1, 1))


@pytest.mark.parametrize("module", [ReLU, lambda: Sequential(Linear(2, 2))], ids=["ReLU", "Sequential"])
def test_step5_from_float_refuses_what_is_not_a_linear(module):
    with pytest.raises(TypeError, match=r"QuantizedLinear\.from_float: linear must be a Linear, got"):
        QuantizedLinear.from_float(module())


@pytest.mark.parametrize(
    ("kind", "x", "error", "message"),
    [
        ("ndarray", np.ones((2, 3), np.float32), TypeError, "QuantizedLinear: input must be a Tensor, got ndarray"),
        ("float64", np.ones((2, 3)), TypeError, "QuantizedLinear: input must have dtype float32, got float64"),
        ("1-D", np.ones(3, np.float32), ValueError, "must have at least 2 dimensions"),
        ("features", np.ones((2, 4), np.float32), ValueError, "must have 3 features in its last dimension"),
        ("nan", np.array([[1.0, np.nan, 0.0]], np.float32), ValueError, "x must be finite"),
    ],
)
def test_step5_the_forward_refuses_bad_inputs(kind, x, error, message):
    layer = QuantizedLinear.from_float(Linear(3, 2))
    with pytest.raises(error, match=message):
        layer(x if kind == "ndarray" else Tensor(x))  # the Tensors built here, never at import


# --- step 6: a whole model ---------------------------------------------------------------------


class Block(Module):
    """A model with a Linear as an attribute and a Sequential of Linears inside."""

    def __init__(self, rng):
        super().__init__()
        self.first = Linear(6, 8, rng=rng)
        self.act = ReLU()
        self.inner = Sequential(Linear(8, 8, rng=rng), ReLU(), Sequential(Linear(8, 4, rng=rng)))

    def forward(self, x):
        return self.inner(self.act(self.first(x)))


def test_step6_quantize_model_swaps_every_linear_at_every_depth_and_returns_the_model(rng):
    model = Block(rng)
    weights = {name: m.weight.data.copy() for name, m in model.named_modules() if isinstance(m, Linear)}
    assert sorted(weights) == ["first", "inner.0", "inner.2.0"]
    activation = model.act
    assert quantize_model(model) is model
    modules = dict(model.named_modules())
    assert not any(isinstance(m, Linear) for m in modules.values())
    assert modules["act"] is activation and isinstance(modules["inner.1"], ReLU)
    for name, weight in weights.items():
        layer = modules[name]
        assert isinstance(layer, QuantizedLinear), f"{name} is a {type(layer).__name__}"
        scales = np.abs(weight.astype(np.float64)).max(axis=1, keepdims=True) / 127
        assert np.array_equal(layer.weight_q, codes(weight, scales, 0)), f"{name}'s codes"
    out = model(Tensor(rng.standard_normal((3, 6)).astype(np.float32)))
    assert out.shape == (3, 4) and out.dtype == np.float32


def test_step6_the_quantized_model_s_weights_take_a_quarter_of_the_float32_bytes(rng):
    model = Sequential(Linear(64, 32, rng=rng), ReLU(), Linear(32, 10, rng=rng))
    float_bytes = sum(m.weight.nbytes for m in model if isinstance(m, Linear))
    quantize_model(model)
    assert sum(m.weight_q.nbytes for m in model if isinstance(m, QuantizedLinear)) * 4 == float_bytes


LAYERS, WIDTH = 12, 256
LAYER_ELEMENTS = WIDTH * WIDTH  # 65,536 weights per layer
FLOAT_BYTES = LAYERS * LAYER_ELEMENTS * 4  # 3 MiB of float32 weights


@pytest.fixture
def deep_model():
    gen = np.random.default_rng(0)
    return Sequential(*[Linear(WIDTH, WIDTH, rng=gen) for _ in range(LAYERS)])


# Quantizing keeps the int8 codes, L·n bytes (768 KiB), and the scales, L·C_out·8 (24 KiB); while
# one layer is quantized, up to three float64 temporaries of its size, 3·n·8 (1.5 MiB); and the
# default slack (64 KiB): 2.3 MiB, below the 3 MiB of float32 weights. Keeping a float copy of
# each weight (3 MiB more), or codes in int16 or wider, does not fit.
@memory_budget(LAYERS * LAYER_ELEMENTS + LAYERS * WIDTH * 8 + 3 * LAYER_ELEMENTS * 8, slack=DEFAULT_SLACK)
def test_step6_quantizing_a_model_keeps_no_float_copy_of_its_weights(deep_model):
    assert LAYERS * LAYER_ELEMENTS + LAYERS * WIDTH * 8 + 3 * LAYER_ELEMENTS * 8 + DEFAULT_SLACK < FLOAT_BYTES
    model = quantize_model(deep_model)
    assert all(isinstance(layer, QuantizedLinear) for layer in model)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (lambda: [Linear(2, 2)], "quantize_model: model must be a Module, got list"),
        (lambda: Linear(2, 2), "quantize_model: model must contain the Linears, not be one"),
    ],
    ids=["list", "Linear"],
)
def test_step6_quantize_model_refuses_what_it_cannot_swap_in_place(model, message):
    with pytest.raises(TypeError, match=message):
        quantize_model(model())
