"""02 activations: forwards against NumPy formulas, properties, gradient checks, a memory budget.

Run: ``pytest exercises/02_activations`` (your code) or add ``--impl solutions`` (the reference).
Every vjp is called as ``f_vjp(x, y, grad_out)`` with ``y = f(x)``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.activations import (
    gelu,
    gelu_vjp,
    leaky_relu,
    leaky_relu_vjp,
    log_softmax,
    log_softmax_vjp,
    relu,
    relu_vjp,
    sigmoid,
    sigmoid_vjp,
    softmax,
    softmax_vjp,
    tanh,
    tanh_vjp,
)
from tinytorch.testing import assert_close, gradcheck, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, numpy_buffer
from tinytorch.testing.strategies import arrays, shapes

FLOATS = (np.float32, np.float64)
# Up to 3 dimensions (at most 125 elements) keep the whole file at a few seconds; the
# functions treat every dimension alike, so a fourth adds time and no coverage.
ANY_SHAPE = shapes(max_dims=3)
SHAPE_WITH_AXES = shapes(min_dims=1, max_dims=3)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |x| in [0.1, 3] and random signs: none near relu's kink at 0."""
    return rng.uniform(0.1, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


def check_vjp(name: str, forward, vjp, x: np.ndarray, **kwargs) -> None:
    """gradcheck ``vjp`` at ``x``: it receives x, y = forward(x) and a one-hot upstream gradient.

    Tolerances are gradcheck's defaults (float64, eps=1e-6, atol=1e-5, rtol=1e-4): the central
    differences are accurate to ~1e-10 here, so a wrong derivative cannot hide in them.
    """

    def vjp_of_inputs(inputs, grad_out):
        (x,) = inputs
        return [vjp(x, forward(x, **kwargs), grad_out, **kwargs)]

    gradcheck(name, lambda x: forward(x, **kwargs), vjp_of_inputs, [x])


@st.composite
def array_and_axis(draw, domain: str = "real", dtype=np.float64) -> tuple[np.ndarray, int]:
    """An array of at least one dimension and an axis of it, negative axes included."""
    x = draw(arrays(SHAPE_WITH_AXES, domain, dtype))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


# --- step 1: relu and leaky_relu -----------------------------------------------------------


def test_step1_relu_matches_the_numpy_formula_on_a_non_square_array(rng):
    x = rng.standard_normal((3, 5))
    assert_close(relu(x), np.where(x > 0, x, 0.0), rtol=0, atol=0)


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_step1_leaky_relu_matches_the_numpy_formula_for_its_slope(rng, slope):
    x = rng.standard_normal((3, 5))
    assert_close(leaky_relu(x, negative_slope=slope), np.where(x > 0, x, slope * x), rtol=1e-15, atol=0)


def test_step1_leaky_relu_uses_a_slope_of_one_hundredth_by_default(rng):
    x = rng.standard_normal((3, 5))
    assert_close(leaky_relu(x), np.where(x > 0, x, 0.01 * x), rtol=1e-15, atol=0)


@given(x=arrays(ANY_SHAPE, "real"))
def test_step1_relu_is_non_negative_and_idempotent(x):
    y = relu(x)
    assert np.all(y >= 0)
    assert_close(relu(y), y, rtol=0, atol=0)


@given(x=arrays(ANY_SHAPE, "real"))
def test_step1_relu_of_x_minus_relu_of_minus_x_is_x(x):
    assert_close(relu(x) - relu(-x), x, rtol=0, atol=0)


@given(x=arrays(ANY_SHAPE, "real"))
def test_step1_leaky_relu_with_slope_zero_is_relu_and_with_slope_one_is_the_identity(x):
    assert_close(leaky_relu(x, negative_slope=0.0), relu(x), rtol=0, atol=0)
    assert_close(leaky_relu(x, negative_slope=1.0), x, rtol=0, atol=0)


@given(x=arrays(ANY_SHAPE, "real"), scale=st.floats(0.1, 10.0))
def test_step1_leaky_relu_commutes_with_positive_scaling(x, scale):
    assert_close(leaky_relu(scale * x), scale * leaky_relu(x), rtol=1e-12, atol=1e-300)


def test_step1_relu_vjp_passes_the_gradient_only_where_the_input_is_positive(rng):
    x, grad_out = away_from_zero(rng, (3, 5)), rng.standard_normal((3, 5))
    assert_close(relu_vjp(x, relu(x), grad_out), np.where(x > 0, grad_out, 0.0), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_step1_relu_vjp_matches_finite_differences(rng, shape):
    check_vjp("relu", relu, relu_vjp, away_from_zero(rng, shape))


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_step1_leaky_relu_vjp_matches_finite_differences(rng, slope):
    check_vjp("leaky_relu", leaky_relu, leaky_relu_vjp, away_from_zero(rng, (3, 5)), negative_slope=slope)


def test_step1_relu_vjp_at_the_kink_is_zero_as_in_pytorch():
    x = np.zeros((2, 3))
    assert_close(relu_vjp(x, relu(x), np.ones((2, 3))), np.zeros((2, 3)), rtol=0, atol=0)


def test_step1_leaky_relu_vjp_uses_the_default_slope_and_the_slope_at_the_kink():
    x, grad_out = np.array([-2.0, 0.0, 3.0]), np.array([10.0, 10.0, 10.0])
    expected = np.array([0.01 * 10.0, 0.01 * 10.0, 10.0])  # x = 0 is not > 0: the negative slope
    assert_close(leaky_relu_vjp(x, leaky_relu(x), grad_out), expected, rtol=1e-12, atol=0)
    assert_close(leaky_relu_vjp(x, leaky_relu(x, 0.5), grad_out, negative_slope=0.5), [5.0, 5.0, 10.0])


# --- step 2: sigmoid and tanh ----------------------------------------------------------------


def test_step2_sigmoid_matches_the_numpy_formula_on_a_non_square_array(rng):
    x = rng.uniform(-5, 5, (3, 5))  # moderate: the textbook formula is exact enough here
    assert_close(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12, atol=0)


def test_step2_tanh_matches_the_numpy_formula_on_a_non_square_array(rng):
    x = rng.uniform(-5, 5, (3, 5))
    e = np.expm1(2 * x)  # e^(2x) − 1 without cancellation near 0
    assert_close(tanh(x), e / (e + 2), rtol=1e-12, atol=1e-15)


@given(x=arrays(ANY_SHAPE, "real"))
def test_step2_sigmoid_of_minus_x_is_one_minus_sigmoid_of_x(x):
    assert_close(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=1e-15)


@given(x=arrays(ANY_SHAPE, "huge"), dtype=st.sampled_from(FLOATS))
def test_step2_sigmoid_stays_in_0_1_without_overflow_at_plus_minus_1e4(x, dtype):
    y = sigmoid(x.astype(dtype))  # an overflow warning is an error in this suite
    assert np.all(np.isfinite(y))
    assert np.all((y >= 0) & (y <= 1))


@given(x=arrays(shapes(min_dims=1, max_dims=1), "huge"))
def test_step2_sigmoid_never_decreases(x):
    assert np.all(np.diff(sigmoid(np.sort(x))) >= 0)


@given(x=arrays(ANY_SHAPE, "huge"), dtype=st.sampled_from(FLOATS))
def test_step2_tanh_is_odd_and_stays_in_minus_1_1(x, dtype):
    x = x.astype(dtype)
    y = tanh(x)
    assert_close(tanh(-x), -y, rtol=0, atol=0)
    assert np.all((y >= -1) & (y <= 1))


@given(x=arrays(ANY_SHAPE, "real"))
def test_step2_tanh_is_twice_sigmoid_of_twice_x_minus_one(x):
    assert_close(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=1e-14)


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_step2_sigmoid_vjp_matches_finite_differences(rng, shape):
    check_vjp("sigmoid", sigmoid, sigmoid_vjp, rng.uniform(-4, 4, shape))


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_step2_tanh_vjp_matches_finite_differences(rng, shape):
    check_vjp("tanh", tanh, tanh_vjp, rng.uniform(-3, 3, shape))


def test_step2_sigmoid_saturates_exactly_at_plus_minus_1e4():
    assert_close(sigmoid(np.array([-1e4, 0.0, 1e4])), np.array([0.0, 0.5, 1.0]), rtol=0, atol=0)


def test_step2_sigmoid_in_float32_is_accurate_beyond_88_where_float32_exp_overflows():
    x = np.array([[-100.0, -89.0, -20.0], [20.0, 89.0, 100.0]], dtype=np.float32)
    expected = 1 / (1 + np.exp(-x.astype(np.float64)))  # float64 does not overflow here
    y = sigmoid(x)
    assert y.dtype == np.float32
    assert_close(y, expected, rtol=1e-6, atol=1e-44)  # atol: float32's smallest subnormal


# --- step 3: gelu --------------------------------------------------------------------------


def test_step3_gelu_matches_the_tanh_approximation_formula_on_a_non_square_array(rng):
    x = rng.uniform(-5, 5, (3, 5))
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    assert_close(gelu(x), expected, rtol=1e-12, atol=1e-15)


def test_step3_gelu_is_within_5e_4_of_the_exact_gelu_defined_with_erf():
    x = np.linspace(-6, 6, 120).reshape(3, 40)
    exact = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))(x)
    assert_close(gelu(x), exact, rtol=0, atol=5e-4)  # the approximation's worst error is 4.7e-4


@given(x=arrays(ANY_SHAPE, "real"))
def test_step3_gelu_of_x_minus_gelu_of_minus_x_is_x(x):
    assert_close(gelu(x) - gelu(-x), x, rtol=0, atol=1e-14)


@given(x=arrays(ANY_SHAPE, "huge"), dtype=st.sampled_from(FLOATS))
def test_step3_gelu_is_finite_bounded_below_and_relu_far_from_zero_at_plus_minus_1e4(x, dtype):
    y = gelu(x.astype(dtype)).astype(np.float64)
    assert np.all(np.isfinite(y))
    assert np.all(y >= -0.1701)  # the minimum of GELU is −0.17004, near x = −0.75
    far = np.abs(x) >= 6
    assert_close(y[far], np.maximum(x[far], 0), rtol=1e-6, atol=1e-6)  # gelu ≈ relu for |x| ≥ 6


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_step3_gelu_vjp_matches_finite_differences(rng, shape):
    check_vjp("gelu", gelu, gelu_vjp, rng.uniform(-4, 4, shape))


# --- step 4: softmax -----------------------------------------------------------------------

AXES = [((3, 5), 0), ((3, 5), 1), ((3, 5), -1), ((2, 3, 4), 1), ((4,), 0)]


@pytest.mark.parametrize(("shape", "axis"), AXES)
def test_step4_softmax_matches_the_numpy_formula_on_each_axis(rng, shape, axis):
    x = rng.standard_normal(shape)
    e = np.exp(x)  # moderate values: the textbook formula does not overflow here
    assert_close(softmax(x, axis=axis), e / e.sum(axis=axis, keepdims=True), rtol=1e-12, atol=0)


def test_step4_softmax_normalizes_the_last_axis_by_default(rng):
    x = rng.standard_normal((3, 5))
    assert_close(softmax(x), softmax(x, axis=1), rtol=0, atol=0)


@given(xa=array_and_axis("huge"))
def test_step4_softmax_slices_are_probabilities_without_overflow_at_plus_minus_1e4(xa):
    x, axis = xa
    y = softmax(x, axis=axis)  # an overflow warning is an error in this suite
    assert np.all((y >= 0) & (y <= 1))
    assert_close(y.sum(axis=axis), np.ones(np.delete(x.shape, axis)), rtol=0, atol=1e-12)


@given(xa=array_and_axis("huge", np.float32))
def test_step4_softmax_in_float32_stays_float32_and_sums_to_one_at_plus_minus_1e4(xa):
    x, axis = xa
    y = softmax(x, axis=axis)
    assert y.dtype == np.float32
    assert_close(y.sum(axis=axis), np.ones(np.delete(x.shape, axis)), rtol=0, atol=1e-5)


@given(xa=array_and_axis("real"), shift=st.floats(-100, 100))
def test_step4_softmax_does_not_change_when_a_constant_is_added(xa, shift):
    x, axis = xa
    assert_close(softmax(x + shift, axis=axis), softmax(x, axis=axis), rtol=1e-9, atol=1e-12)


@given(x=arrays(shapes(min_dims=1, max_dims=1), "real"))
def test_step4_softmax_keeps_the_order_of_its_inputs(x):
    assert np.all(np.diff(softmax(np.sort(x))) >= 0)


@pytest.mark.parametrize(("shape", "axis"), AXES)
def test_step4_softmax_vjp_matches_finite_differences(rng, shape, axis):
    check_vjp("softmax", softmax, softmax_vjp, rng.standard_normal(shape), axis=axis)


# The budget: softmax may hold its output and one value per slice (the max, then the sum):
#   output_bytes + row_sums_bytes = 512·1024·8 + 512·8 (axis -1) or + 1024·8 (axis 0).
# Slack, 128 KiB: NumPy streams a broadcast operand such as the (512, 1) sums through a
# buffer of np.getbufsize() = 8192 elements (64 KiB of float64) whoever writes the code, plus
# the harness's DEFAULT_SLACK (64 KiB) for small objects. The reference peaks at 4 MiB plus
# 69 KiB (axis -1) or 73 KiB (axis 0). A softmax that keeps one more output-sized temporary
# (e = np.exp(x - m); e / e.sum()) allocates 4 MiB more, and fails.
BUDGET_SHAPE = (512, 1024)  # 4 MiB of float64
BUDGET_SLACK = numpy_buffer(8) + DEFAULT_SLACK


def softmax_budget(axis: int) -> pytest.MarkDecorator:
    output_bytes = math.prod(BUDGET_SHAPE) * 8
    row_sums_bytes = output_bytes // BUDGET_SHAPE[axis]  # one float64 per slice
    return memory_budget(output_bytes + row_sums_bytes, slack=BUDGET_SLACK)


@pytest.fixture
def logits(rng) -> np.ndarray:
    return rng.standard_normal(BUDGET_SHAPE)


@pytest.mark.parametrize("axis", [pytest.param(-1, marks=softmax_budget(-1)), pytest.param(0, marks=softmax_budget(0))])
def test_step4_softmax_allocates_only_its_output_and_one_value_per_slice(logits, axis):
    y = softmax(logits, axis=axis)
    assert y.shape == BUDGET_SHAPE


def test_step4_softmax_of_plus_and_minus_1e4_is_one_and_zero():
    assert_close(softmax(np.array([[1e4, -1e4], [1e4, 1e4]])), np.array([[1.0, 0.0], [0.5, 0.5]]), rtol=0, atol=0)


@pytest.mark.parametrize(("shape", "axis"), [((3, 1), -1), ((1, 5), 0), ((1,), 0)])
def test_step4_softmax_over_an_axis_of_size_one_is_one_and_has_zero_gradient(rng, shape, axis):
    x = rng.standard_normal(shape)
    y = softmax(x, axis=axis)
    assert_close(y, np.ones(shape), rtol=0, atol=0)
    assert_close(softmax_vjp(x, y, rng.standard_normal(shape), axis=axis), np.zeros(shape), rtol=0, atol=1e-15)


def test_step4_softmax_of_an_empty_batch_is_empty():
    x = np.zeros((0, 5))
    y = softmax(x)
    assert y.shape == (0, 5)
    assert softmax_vjp(x, y, np.zeros((0, 5))).shape == (0, 5)


# --- step 5: log_softmax -------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "axis"), AXES)
def test_step5_log_softmax_matches_the_numpy_formula_on_each_axis(rng, shape, axis):
    x = rng.standard_normal(shape)
    expected = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))  # moderate values: no overflow
    assert_close(log_softmax(x, axis=axis), expected, rtol=1e-12, atol=1e-15)


@given(xa=array_and_axis("real"))
def test_step5_log_softmax_equals_the_log_of_softmax_on_moderate_inputs(xa):
    x, axis = xa
    assert_close(log_softmax(x, axis=axis), np.log(softmax(x, axis=axis)), rtol=1e-12, atol=1e-12)


@given(xa=array_and_axis("huge"), dtype=st.sampled_from(FLOATS))
def test_step5_log_softmax_is_finite_non_positive_and_normalized_at_plus_minus_1e4(xa, dtype):
    x, axis = xa
    y = log_softmax(x.astype(dtype), axis=axis)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    assert np.all(y <= 0)
    total = np.exp(y.astype(np.float64)).sum(axis=axis)
    assert_close(total, np.ones(np.delete(x.shape, axis)), rtol=0, atol=1e-5 if dtype == np.float32 else 1e-12)


@given(xa=array_and_axis("real"), shift=st.floats(-100, 100))
def test_step5_log_softmax_does_not_change_when_a_constant_is_added(xa, shift):
    x, axis = xa
    assert_close(log_softmax(x + shift, axis=axis), log_softmax(x, axis=axis), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("shape", "axis"), AXES)
def test_step5_log_softmax_vjp_matches_finite_differences(rng, shape, axis):
    check_vjp("log_softmax", log_softmax, log_softmax_vjp, rng.standard_normal(shape), axis=axis)


def test_step5_log_softmax_stays_finite_where_the_log_of_softmax_is_minus_infinity():
    # log_softmax([0, −1e4]) = [−log(1 + e^−1e4), −1e4 − log(1 + e^−1e4)] = [0, −1e4] in float64,
    # while softmax's second probability underflows to 0 and its log is −inf.
    assert_close(log_softmax(np.array([[0.0, -1e4]])), np.array([[0.0, -1e4]]), rtol=0, atol=0)


def test_step5_log_softmax_over_an_axis_of_size_one_is_zero_and_has_zero_gradient(rng):
    x = rng.standard_normal((3, 1))
    y = log_softmax(x)
    assert_close(y, np.zeros((3, 1)), rtol=0, atol=0)
    assert_close(log_softmax_vjp(x, y, rng.standard_normal((3, 1))), np.zeros((3, 1)), rtol=0, atol=1e-15)


def test_step5_log_softmax_of_an_empty_batch_is_empty():
    x = np.zeros((0, 5))
    y = log_softmax(x)
    assert y.shape == (0, 5)
    assert log_softmax_vjp(x, y, np.zeros((0, 5))).shape == (0, 5)


# --- every function: the contract that 03 autograd relies on ---------------------------------

PAIRS = [
    pytest.param(relu, relu_vjp, {}, id="step1-relu"),
    pytest.param(leaky_relu, leaky_relu_vjp, {"negative_slope": 0.2}, id="step1-leaky_relu"),
    pytest.param(sigmoid, sigmoid_vjp, {}, id="step2-sigmoid"),
    pytest.param(tanh, tanh_vjp, {}, id="step2-tanh"),
    pytest.param(gelu, gelu_vjp, {}, id="step3-gelu"),
    pytest.param(softmax, softmax_vjp, {}, id="step4-softmax"),
    pytest.param(log_softmax, log_softmax_vjp, {}, id="step5-log_softmax"),
]
ELEMENTWISE = PAIRS[:5]
NORMALIZERS = PAIRS[5:]  # softmax and log_softmax: they take an axis


def by_step(pairs: list) -> list:
    """``pairs`` as one parameter per step: a list of (name, fn, vjp, kwargs), with an id such as
    ``step1-relu-leaky_relu``. A property test over it draws its inputs once per example for all the
    step's functions (a hypothesis run is most of such a test's time), and still belongs to its step."""
    steps: dict[str, list] = {}
    for pair in pairs:
        step, name = pair.id.split("-", 1)
        steps.setdefault(step, []).append((name, *pair.values))
    return [
        pytest.param(functions, id="-".join([step, *(name for name, *_ in functions)]))
        for step, functions in steps.items()
    ]


PAIRS_BY_STEP = by_step(PAIRS)


def check_each(functions: list, check) -> None:
    """``check(fn, vjp, kwargs)`` for each of a step's functions; an AssertionError names every function
    that failed (any other error, such as a stub's NotImplementedError, stops at once)."""
    failed = []
    for name, fn, vjp, kwargs in functions:
        try:
            check(fn, vjp, kwargs)
        except AssertionError as error:
            failed.append(f"{name}: {error}")
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_function_and_vjp_keeps_the_shape_and_dtype_of_x(rng, fn, vjp, kwargs, dtype):
    x = rng.standard_normal((3, 5)).astype(dtype)
    y = fn(x, **kwargs)
    assert (y.shape, y.dtype) == ((3, 5), dtype)
    grad_x = vjp(x, y, np.ones_like(y), **kwargs)
    assert (grad_x.shape, grad_x.dtype) == ((3, 5), dtype)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_function_and_vjp_leaves_its_arguments_unchanged(rng, fn, vjp, kwargs):
    x = rng.standard_normal((3, 5))
    x_before = x.copy()
    y = fn(x, **kwargs)
    y_before, grad_out = y.copy(), rng.standard_normal((3, 5))
    grad_before = grad_out.copy()
    vjp(x, y, grad_out, **kwargs)
    for name, after, before in (("x", x, x_before), ("y", y, y_before), ("grad_out", grad_out, grad_before)):
        assert_close(after, before, rtol=0, atol=0, what=f"{name} after the call (it must not be written to)")


@pytest.mark.parametrize("functions", PAIRS_BY_STEP)
@given(x=arrays(SHAPE_WITH_AXES, "real"), a=st.floats(-3, 3), seed=st.integers(0, 2**32 - 1))
def test_every_vjp_is_linear_in_grad_out(functions, x, a, seed):
    # Upstream gradients from a generator that hypothesis seeds: reproducible, and much cheaper
    # to draw than two more hypothesis arrays.
    g1, g2 = np.random.default_rng(seed).standard_normal((2, *x.shape))

    def check(fn, vjp, kwargs):
        y = fn(x, **kwargs)
        combined = vjp(x, y, a * g1 + g2, **kwargs)
        assert_close(combined, a * vjp(x, y, g1, **kwargs) + vjp(x, y, g2, **kwargs), rtol=1e-9, atol=1e-9)

    check_each(functions, check)


@pytest.mark.parametrize("functions", PAIRS_BY_STEP)
@given(x=arrays(SHAPE_WITH_AXES, "huge"), dtype=st.sampled_from(FLOATS))
def test_every_function_and_vjp_is_finite_at_plus_minus_1e4(functions, x, dtype):
    x = x.astype(dtype)

    def check(fn, vjp, kwargs):
        y = fn(x, **kwargs)  # an overflow or invalid-value warning is an error in this suite
        grad_x = vjp(x, y, np.ones_like(y), **kwargs)
        assert np.all(np.isfinite(y)), f"the output is not finite: {y}"
        assert np.all(np.isfinite(grad_x)), f"the gradient is not finite: {grad_x}"

    check_each(functions, check)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_function_and_vjp_rejects_an_integer_array(fn, vjp, kwargs):
    x = np.arange(6).reshape(2, 3)
    name = fn.__name__
    with pytest.raises(TypeError, match=f"^{name}: x must be a floating-point array, got int"):
        fn(x, **kwargs)
    with pytest.raises(TypeError, match=f"^{name}_vjp: x must be a floating-point array, got int"):
        vjp(x, np.ones((2, 3)), np.ones((2, 3)), **kwargs)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_function_rejects_a_python_list(fn, vjp, kwargs):
    with pytest.raises(TypeError, match=f"^{fn.__name__}: x must be a floating-point array, got list$"):
        fn([1.0, 2.0], **kwargs)


def tensor_like() -> object:
    """An object with a float dtype that is not an ndarray, named Tensor (as 01's and 03's are)."""
    return type("Tensor", (), {"__module__": "elsewhere", "dtype": np.dtype(np.float64), "shape": (2, 3)})()


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_function_and_vjp_rejects_a_tensor_naming_its_type(fn, vjp, kwargs):
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match=f"^{fn.__name__}: x must be a floating-point array, got elsewhere.Tensor$"):
        fn(tensor_like(), **kwargs)
    message = f"{fn.__name__}_vjp: grad_out must have the output's dtype float64, got elsewhere.Tensor"
    with pytest.raises(TypeError, match=re.escape(message)):
        vjp(x, fn(x, **kwargs), tensor_like(), **kwargs)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_vjp_rejects_a_grad_out_of_another_shape(fn, vjp, kwargs):
    x = np.zeros((2, 3))
    message = f"{fn.__name__}_vjp: grad_out must have the output's shape (2, 3), got (3, 2)"
    with pytest.raises(ValueError, match=re.escape(message)):
        vjp(x, fn(x, **kwargs), np.ones((3, 2)), **kwargs)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), PAIRS)
def test_every_vjp_rejects_a_grad_out_of_another_dtype(fn, vjp, kwargs):
    x = np.zeros((2, 3))
    message = f"{fn.__name__}_vjp: grad_out must have the output's dtype float64, got float32"
    with pytest.raises(TypeError, match=re.escape(message)):
        vjp(x, fn(x, **kwargs), np.ones((2, 3), dtype=np.float32), **kwargs)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), NORMALIZERS)
def test_every_normalizing_function_and_vjp_rejects_an_axis_out_of_range(fn, vjp, kwargs):
    x, name = np.zeros((2, 3)), fn.__name__
    with pytest.raises(ValueError, match=f"^{name}: axis 2 is out of range for an array of 2 dimensions$"):
        fn(x, axis=2)
    with pytest.raises(ValueError, match=f"^{name}: axis -3 is out of range for an array of 2 dimensions$"):
        fn(x, axis=-3)
    with pytest.raises(ValueError, match=f"^{name}_vjp: axis 2 is out of range for an array of 2 dimensions$"):
        vjp(x, fn(x), np.ones((2, 3)), axis=2)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), NORMALIZERS)
def test_every_normalizing_function_rejects_a_zero_dimensional_array_which_has_no_axis(fn, vjp, kwargs):
    with pytest.raises(ValueError, match=f"^{fn.__name__}: axis -1 is out of range for an array of 0 dimensions$"):
        fn(np.array(1.0))


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), NORMALIZERS)
def test_every_normalizing_function_rejects_an_empty_axis(fn, vjp, kwargs):
    with pytest.raises(ValueError, match=re.escape(f"{fn.__name__}: axis -1 must not be empty, got shape (4, 0)")):
        fn(np.zeros((4, 0)))


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), NORMALIZERS)
def test_every_normalizing_function_rejects_an_axis_that_is_not_an_int(fn, vjp, kwargs):
    with pytest.raises(TypeError, match=f"^{fn.__name__}: axis must be an int, got tuple$"):
        fn(np.zeros((2, 3)), axis=(0, 1))


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), NORMALIZERS)
def test_every_normalizing_function_and_vjp_rejects_a_bool_axis(fn, vjp, kwargs):
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match=f"^{fn.__name__}: axis must be an int, got bool$"):
        fn(x, axis=True)  # True == 1 to Python: it would silently normalize axis 1
    with pytest.raises(TypeError, match=f"^{fn.__name__}_vjp: axis must be an int, got bool$"):
        vjp(x, fn(x), np.ones((2, 3)), axis=True)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), ELEMENTWISE)
def test_every_elementwise_function_and_vjp_accepts_a_zero_dimensional_array(fn, vjp, kwargs):
    x = np.array(0.7)
    y = fn(x, **kwargs)
    assert np.shape(y) == ()
    assert_close(y, fn(np.array([0.7]), **kwargs)[0], rtol=0, atol=0)
    grad_x = vjp(x, y, np.ones_like(y), **kwargs)
    assert np.shape(grad_x) == ()
    assert_close(grad_x, vjp(x[None], fn(x[None], **kwargs), np.ones(1), **kwargs)[0], rtol=0, atol=0)


@pytest.mark.parametrize(("fn", "vjp", "kwargs"), ELEMENTWISE)
def test_every_elementwise_function_and_vjp_accepts_an_empty_array(fn, vjp, kwargs):
    x = np.zeros((0, 4), dtype=np.float32)
    y = fn(x, **kwargs)
    assert (y.shape, y.dtype) == ((0, 4), np.float32)
    assert vjp(x, y, np.ones_like(y), **kwargs).shape == (0, 4)
