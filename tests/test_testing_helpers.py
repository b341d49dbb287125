"""The trusted helpers of ``tinytorch.testing``: each accepts what is right and rejects, with a
message a learner can act on, each typical mistake.

Every rejection is checked on a deliberately wrong backward written here, next to the right one,
so a helper that accepted everything would fail these tests.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from tinytorch.testing import GradcheckError, assert_close, gradcheck, gradcheck_tensors, memory_budget, returned
from tinytorch.testing.memory import DEFAULT_SLACK, QUIET
from tinytorch.testing.strategies import DOMAINS, arrays, broadcastable_shapes, matmul_shapes, shapes

# --- gradcheck: correct vector-Jacobian products pass --------------------------------------


def mul(x, y):
    return x * y


def mul_vjp(inputs, grad_out):
    x, y = inputs
    return grad_out * y, grad_out * x


def matmul(a, b):
    return a @ b


def matmul_vjp(inputs, grad_out):
    a, b = inputs
    return grad_out @ b.T, a.T @ grad_out


def square(x):
    return x**2


def test_gradcheck_accepts_the_vjp_of_an_elementwise_product(rng):
    gradcheck("mul", mul, mul_vjp, [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))])


def test_gradcheck_accepts_the_vjp_of_a_matmul_on_non_square_shapes(rng):
    gradcheck("matmul", matmul, matmul_vjp, [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))])


def test_gradcheck_accepts_a_0d_input_and_output():
    gradcheck("square", square, lambda inputs, g: (2 * inputs[0] * g,), [np.array(1.5)])


def test_gradcheck_leaves_the_callers_inputs_unchanged(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    before = x.copy(), y.copy()
    gradcheck("mul", mul, mul_vjp, [x, y])
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(y, before[1])


# --- gradcheck: each typical mistake is rejected ------------------------------------------


def test_gradcheck_rejects_a_backward_that_ignores_its_upstream_gradient():
    # Right on `.sum()` (an upstream of ones), wrong on every one-hot upstream gradient: the
    # analytic Jacobian is 2x in every row, the true one diagonal. Worst: d out[0] / d x[2].
    def local_derivative_only(inputs, grad_out):
        return (2 * inputs[0],)

    message = r"gradcheck\(square\): d output\[0\] / d input 0\[2\]: analytic 6, numerical 0, difference 6 "
    with pytest.raises(GradcheckError, match=message):
        gradcheck("square", square, local_derivative_only, [np.array([1.0, 2.0, 3.0])])


def test_gradcheck_rejects_an_ignored_upstream_gradient_even_on_a_single_element():
    # With one element the one-hot upstream gradient is all ones; the zero upstream catches it.
    with pytest.raises(GradcheckError, match="a zero upstream gradient gave a non-zero gradient for input 0"):
        gradcheck("square", square, lambda inputs, g: (2 * inputs[0],), [np.array([1.5])])


def test_gradcheck_rejects_a_sign_error_naming_both_values_and_the_difference():
    x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0], [2.0, 0.25]])

    def wrong_sign_for_y(inputs, grad_out):
        x, y = inputs
        return grad_out * y, -grad_out * x

    # d out[i,j] / d y[i,j] = x[i,j]; the backward says -x[i,j], worst where x is largest.
    message = r"gradcheck\(mul\): d output\[1, 1\] / d input 1\[1, 1\]: analytic -4, numerical 4, difference 8 "
    with pytest.raises(GradcheckError, match=message):
        gradcheck("mul", mul, wrong_sign_for_y, [x, y])


def test_gradcheck_rejects_a_transposed_gradient_on_a_square_input(rng):
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def transposed(inputs, grad_out):
        a, b = inputs
        return (grad_out @ b.T).T, a.T @ grad_out

    with pytest.raises(GradcheckError, match=r"gradcheck\(matmul\): d output\[\d, \d\] / d input 0\[\d, \d\]"):
        gradcheck("matmul", matmul, transposed, [a, b])


def test_gradcheck_rejects_a_transposed_gradient_on_a_non_square_input_by_its_shape(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))

    def transposed(inputs, grad_out):
        a, b = inputs
        return (grad_out @ b.T).T, a.T @ grad_out

    message = re.escape("gradcheck(matmul): gradient for input 0 must have the input's shape (2, 3), got (3, 2)")
    with pytest.raises(GradcheckError, match=message):
        gradcheck("matmul", matmul, transposed, [a, b])


@pytest.mark.parametrize(
    ("grads", "got"),
    [
        pytest.param(lambda x, y, g: (g * y,), "1", id="one gradient for two inputs"),
        pytest.param(lambda x, y, g: (g * y, g * x, g), "3", id="three gradients for two inputs"),
        pytest.param(lambda x, y, g: None, "None", id="no return"),
    ],
)
def test_gradcheck_rejects_the_wrong_number_of_gradients(rng, grads, got):
    def vjp(inputs, grad_out):
        return grads(*inputs, grad_out)

    message = re.escape(f"gradcheck(mul): backward must return 2 gradient(s), got {got}")
    with pytest.raises(GradcheckError, match=message):
        gradcheck("mul", mul, vjp, [rng.standard_normal(2), rng.standard_normal(2)])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_gradcheck_rejects_an_input_that_is_not_float64(dtype):
    x = np.ones(3, dtype=dtype)
    with pytest.raises(GradcheckError, match=rf"gradcheck\(mul\): input 1 must be float64, got {np.dtype(dtype)}"):
        gradcheck("mul", mul, mul_vjp, [np.ones(3), x])


def test_gradcheck_sees_a_forward_that_returns_a_view_of_its_input(rng):
    # The numerical Jacobian must copy each output, or a view would read the restored input.
    x = rng.standard_normal((2, 3))
    gradcheck("transpose", lambda a: a.T, lambda inputs, g: (g.T,), [x])
    with pytest.raises(GradcheckError, match=r"gradcheck\(transpose\)"):
        gradcheck("transpose", lambda a: a.T, lambda inputs, g: (np.zeros_like(inputs[0]),), [x])


def test_a_gradcheck_failure_counts_the_jacobian_entries_that_differ(rng):
    with pytest.raises(GradcheckError, match=r"\(3 of 9 Jacobian entries differ; atol=1e-05, rtol=0.0001\)"):
        gradcheck("square", square, lambda inputs, g: (3 * inputs[0] * g,), [rng.uniform(1, 2, 3)])


# --- gradcheck_tensors on tinytorch.autograd ---------------------------------------------


def test_gradcheck_tensors_accepts_autograds_matmul_on_non_square_shapes(rng):
    gradcheck_tensors("matmul", lambda a, b: a @ b, [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))])


def test_gradcheck_tensors_accepts_a_composition_with_broadcasting(rng):
    def fn(a, b):
        return (a * b + a).sum(axis=0)

    gradcheck_tensors("mul-add-sum", fn, [rng.standard_normal((4, 3)), rng.standard_normal(3)])


def test_gradcheck_tensors_rejects_a_function_with_a_wrong_backward(rng):
    from tinytorch.autograd import Function

    class DoubleWrong(Function):
        @staticmethod
        def forward(ctx, a):
            return 2 * a

        @staticmethod
        def backward(ctx, grad_out):
            return 3 * grad_out  # should be 2 * grad_out

    with pytest.raises(GradcheckError, match=r"gradcheck\(double\): .* analytic 3, numerical 2"):
        gradcheck_tensors("double", DoubleWrong.apply, [rng.standard_normal((2, 2))])


def test_gradcheck_tensors_counts_a_gradient_that_never_arrives_as_zero(rng):
    from tinytorch.autograd import Tensor

    def cut_from_b(a, b):
        return a * Tensor(b.numpy())  # b's gradient never arrives: it is not in the graph

    with pytest.raises(GradcheckError, match=r"d input 1\[\d\]: analytic 0, numerical"):
        gradcheck_tensors("cut", cut_from_b, [rng.standard_normal(3), rng.standard_normal(3)])


# --- assert_close ---------------------------------------------------------------------------


def test_assert_close_passes_within_the_tolerance():
    assert_close(np.array([1.0, 2.0]), np.array([1.0 + 1e-9, 2.0 - 1e-7]), rtol=1e-6)


def test_assert_close_reads_a_tensor_through_its_numpy_method():
    class Box:
        def numpy(self):
            return np.array([[1.0, 2.0]])

    assert_close(Box(), [[1.0, 2.0]])


def test_assert_close_fails_just_outside_the_tolerance():
    with pytest.raises(AssertionError, match="1 of 2 elements differ"):
        assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-3]), rtol=1e-6, atol=1e-8)


def test_assert_close_reports_a_shape_mismatch_before_any_value():
    # (3,) against (3, 1) would broadcast and compare equal values: the shape must come first.
    with pytest.raises(AssertionError, match=re.escape("result: shape must be (3, 1), got (3,)")):
        assert_close(np.zeros(3), np.zeros((3, 1)))


def test_assert_close_names_the_worst_index_with_both_values():
    actual = np.zeros((2, 3))
    actual[0, 2], actual[1, 1] = 0.5, 2.0
    message = r"out: 2 of 6 elements differ; worst at index \(1, 1\): got 2\.0, expected 0\.0, \|difference\| = 2 "
    with pytest.raises(AssertionError, match=message):
        assert_close(actual, np.zeros((2, 3)), what="out")


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(np.array(2.0), np.array(0.5)), (np.float64(2.0), 0.5), (2.0, np.float32(0.5))],
    ids=["0-d arrays", "numpy scalar and float", "float and numpy float32"],
)
def test_assert_close_reports_two_different_0d_values_with_both_values(actual, expected):
    message = r"^result: got 2\.0, expected 0\.5, \|difference\| = 1\.5 \(allowed atol=1e-08 \+ rtol=1e-06"
    with pytest.raises(AssertionError, match=message):
        assert_close(actual, expected)


def test_assert_close_passes_two_close_0d_values():
    assert_close(np.float32(1.0), np.array(1.0 + 1e-9))


def test_assert_close_asks_whether_the_function_forgot_to_return():
    with pytest.raises(AssertionError, match=re.escape("result: got None; did the function forget to return?")):
        assert_close(None, np.zeros(2))


def test_assert_close_treats_nan_as_equal_to_nan_but_not_to_a_number():
    assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    with pytest.raises(AssertionError, match="1 of 2 elements differ"):
        assert_close(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))


def test_assert_close_rejects_a_non_numeric_result():
    with pytest.raises(AssertionError, match="dtype must be numeric"):
        assert_close(np.array(["1.0"]), np.array([1.0]))


# --- memory_budget ------------------------------------------------------------------------


def test_memory_budget_is_a_limit_memory_marker_of_the_formula_plus_the_default_slack():
    mark = memory_budget(3 * 1000 * 8)
    assert mark.mark.name == "limit_memory"
    assert mark.mark.args == (f"{24_000 + DEFAULT_SLACK} B",)


def test_memory_budget_adds_the_stated_slack_and_rounds_the_formula_down():
    assert memory_budget(1000.9, slack=24).mark.args == ("1024 B",)
    assert memory_budget(0, slack=0).mark.args == ("0 B",)


@pytest.mark.parametrize(("nbytes", "slack"), [(-1, 0), (0, -1)])
def test_memory_budget_rejects_negative_numbers(nbytes, slack):
    with pytest.raises(ValueError, match="memory_budget: nbytes and slack must be >= 0"):
        memory_budget(nbytes, slack=slack)


def test_memory_budget_strings_parse_as_pytest_memray_limits():
    from pytest_memray.utils import parse_memory_string

    assert parse_memory_string(memory_budget(2**20, slack=0).mark.args[0]) == 2**20


# --- strategies ---------------------------------------------------------------------------


QUICK = settings(max_examples=30, database=None)
FIND = settings(QUICK, phases=[Phase.generate], derandomize=True)  # `find` without shrinking: any example will do


@QUICK
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(st.just(n), broadcastable_shapes(num_shapes=n))))
def test_drawn_broadcastable_shapes_broadcast_together(drawn):
    count, drawn_shapes = drawn
    assert len(drawn_shapes) == count
    np.broadcast_shapes(*drawn_shapes)  # raises ValueError if they do not


def test_broadcastable_shapes_include_a_stretched_size_one_dimension():
    find(broadcastable_shapes(), lambda s: 1 in s[0] and np.broadcast_shapes(*s) != s[0], settings=FIND)


@QUICK
@given(matmul_shapes(max_batch_dims=2))
def test_drawn_matmul_shapes_multiply(drawn):
    a, b = drawn
    assert len(a) == len(b) >= 2 and a[:-2] == b[:-2] and a[-1] == b[-2]
    assert np.matmul(np.ones(a), np.ones(b)).shape == (*a[:-1], b[-1])


def test_matmul_shapes_include_non_square_matrices():
    find(matmul_shapes(), lambda s: len({s[0][-2], s[0][-1], s[1][-1]}) == 3, settings=FIND)


@QUICK
@given(shapes())
def test_drawn_shapes_stay_small(shape):
    assert len(shape) <= 4 and all(1 <= side <= 5 for side in shape)


def test_shapes_include_0d():
    find(shapes(), lambda shape: shape == (), settings=FIND)


@QUICK
@given(st.sampled_from(sorted(DOMAINS)).flatmap(lambda d: st.tuples(st.just(d), arrays(shapes(max_dims=2), d))))
def test_drawn_arrays_stay_inside_their_domain(drawn):
    domain, array = drawn
    low, high, signed = DOMAINS[domain]
    magnitude = np.abs(array)
    assert array.dtype == np.float64
    assert np.all((magnitude >= low) & (magnitude <= high))  # away_from_zero: no kinks
    assert signed or np.all(array > 0)  # positive: safe for log and sqrt


def test_a_signed_domain_draws_negative_values():
    find(arrays((3,), "away_from_zero"), lambda a: np.any(a < 0), settings=FIND)


@settings(QUICK, max_examples=5)
@given(arrays((2, 2), "unit", dtype=np.float32))
def test_arrays_honour_a_float32_dtype(array):
    assert array.dtype == np.float32 and array.shape == (2, 2)
    assert np.all(np.abs(array) <= 1)


def test_returned_passes_a_value_through_and_names_a_forgotten_return():
    state = {"weight": np.zeros(2)}
    assert returned(state, "Module.state_dict()") is state
    assert returned(0, "count()") == 0  # a falsy result is still a result
    with pytest.raises(AssertionError, match=r"^Module\.state_dict\(\) returned None — did you forget `return`\?$"):
        returned(None, "Module.state_dict()")


# A budget test holds tinytorch.testing.memory.QUIET while it runs, and the harness's background
# workers (tests/conftest.py) allocate only while holding it: their work never lands in its peak.
@memory_budget(0)
def test_a_budget_test_runs_holding_the_quiet_lock():
    assert QUIET.locked()


def test_a_test_without_a_budget_leaves_the_quiet_lock_free():
    assert not QUIET.locked()
