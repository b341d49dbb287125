"""Kata 05 losses. Run: pytest exercises/05_losses   (one step: -k "step1" ... "step4").

Oracles are NumPy formulas written here, in float64, in their naive textbook form (fine on
moderate values); the stable forms under test must agree with them there, and stay finite
where the naive forms overflow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import tensor as base
from tinytorch.autograd import Tensor, no_grad
from tinytorch.losses import apply_reduction, binary_cross_entropy, cross_entropy, mse_loss
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, numpy_buffer
from tinytorch.testing.strategies import arrays, shapes, values

REDUCTIONS = ("mean", "sum", "none")


def reduce_oracle(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def softmax_oracle(x: np.ndarray) -> np.ndarray:
    e = np.exp(x)  # naive: only for moderate logits
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy_oracle(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """-log softmax(x)[b, t_b], naively, row by row."""
    return np.array([-np.log(softmax_oracle(x)[b, t]) for b, t in enumerate(target)])


def one_hot(target: np.ndarray, classes: int) -> np.ndarray:
    out = np.zeros((len(target), classes))
    out[np.arange(len(target)), target] = 1.0
    return out


def sigmoid_oracle(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))  # naive: only for moderate logits


# float32 losses against their float64 oracles. Each element takes a handful of float32 roundings,
# u = 2⁻²⁴ ≈ 6e-8 relative each (about 8 for BCE, whose x - x·t may cancel but whose terms stay
# within |x| ≤ 4), and a mean of N ≤ 20 adds at most N - 1 more: at most ~50·u ≈ 3e-6 on a mean
# loss of order 1. rtol = 1e-5 leaves a margin of 3; the worst measured over 2,000 seeds is 2e-7.
FLOAT32_RTOL = 1e-5


def bce_oracle(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """-[t log p + (1 - t) log(1 - p)] with p = σ(x), naively."""
    p = sigmoid_oracle(x)
    return -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))


# --- step 1: reductions ------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step1_reductions_match_numpy(rng, reduction):
    losses = rng.uniform(0.0, 3.0, (3, 5))
    out = apply_reduction("loss", Tensor(losses), reduction)
    assert_close(out, reduce_oracle(losses, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step1_reductions_pass_gradients_through(rng, reduction):
    gradcheck_tensors(
        f"apply_reduction {reduction}", lambda x: apply_reduction("loss", x, reduction), [rng.uniform(0.0, 3.0, (3, 5))]
    )


def test_step1_reduction_none_returns_the_losses_themselves_without_a_copy():
    losses = Tensor(np.ones(3))
    assert apply_reduction("loss", losses, "none") is losses


BAD_REDUCTIONS = ["avg", "Mean", None]


def reduction_error(op: str, reduction) -> str:
    return f"^{op}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}$"


def test_step1_the_mean_of_no_losses_is_refused_naming_the_loss():
    # 01's mean refuses an empty input too, but its error would name `mean`, not the loss.
    empty = Tensor(np.zeros((0,)))
    with pytest.raises(
        ValueError, match=r"^my_loss: the losses must not be empty for reduction 'mean', got shape \(0,\)$"
    ):
        apply_reduction("my_loss", empty, "mean")
    assert apply_reduction("my_loss", empty, "sum").numpy() == 0.0
    assert apply_reduction("my_loss", empty, "none") is empty


def test_step1_reductions_refuse_losses_that_are_not_a_tensor():
    with pytest.raises(TypeError, match=r"^my_loss: losses must be a Tensor, got ndarray$"):
        apply_reduction("my_loss", np.ones(3), "mean")


@pytest.mark.parametrize("reduction", BAD_REDUCTIONS)
def test_step1_an_unknown_reduction_names_the_allowed_values(reduction):
    with pytest.raises(ValueError, match=reduction_error("loss", reduction)):
        apply_reduction("loss", Tensor(np.ones(3)), reduction)


# --- step 2: mse_loss --------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step2_mse_matches_numpy(rng, reduction):
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    out = mse_loss(Tensor(x), Tensor(y), reduction=reduction)
    assert_close(out, reduce_oracle((x - y) ** 2, reduction), rtol=1e-12)


@given(st.data())
def test_step2_mse_is_zero_on_equal_inputs_nonnegative_and_symmetric(data):
    shape = data.draw(shapes(max_dims=3))
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    assert mse_loss(Tensor(x), Tensor(x.copy())).numpy() == 0.0
    assert mse_loss(Tensor(x), Tensor(y)).numpy() >= 0.0
    assert_close(mse_loss(Tensor(x), Tensor(y)), mse_loss(Tensor(y), Tensor(x)).numpy(), rtol=0, atol=0)


@given(st.data())
def test_step2_mse_sum_is_mean_times_count_and_none_keeps_the_shape(data):
    shape = data.draw(shapes(max_dims=3))
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    mean = mse_loss(Tensor(x), Tensor(y), reduction="mean").numpy()
    total = mse_loss(Tensor(x), Tensor(y), reduction="sum").numpy()
    each = mse_loss(Tensor(x), Tensor(y), reduction="none")
    assert each.shape == shape
    assert math.isclose(total, mean * x.size, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step2_mse_gradients_match_finite_differences(rng, reduction):
    # Gradients w.r.t. both prediction and target: a target can be a computed Tensor too.
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    gradcheck_tensors(f"mse_loss {reduction}", lambda x, y: mse_loss(x, y, reduction=reduction), inputs)


def test_step2_mse_gradient_is_twice_the_difference_over_n(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    prediction, target = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    mse_loss(prediction, target).backward()
    assert_close(prediction.grad, 2.0 * (x - y) / x.size, rtol=1e-12)
    assert_close(target.grad, -2.0 * (x - y) / x.size, rtol=1e-12)


def test_step2_mse_rejects_mismatched_shapes_dtypes_and_non_tensors():
    with pytest.raises(
        ValueError, match=r"^mse_loss: prediction and target must have the same shape, got \(3, 4\) and \(4,\)$"
    ):
        mse_loss(Tensor(np.ones((3, 4))), Tensor(np.ones(4)))
    with pytest.raises(
        TypeError, match=r"^mse_loss: prediction and target must have the same dtype, got float32 and float64$"
    ):
        mse_loss(Tensor(np.ones(3, dtype=np.float32)), Tensor(np.ones(3)))
    with pytest.raises(TypeError, match=r"^mse_loss: target must be a Tensor, got ndarray$"):
        mse_loss(Tensor(np.ones(3)), np.ones(3))
    with pytest.raises(TypeError, match=r"^mse_loss: prediction must be floating-point, got int64$"):
        mse_loss(Tensor(np.ones(3, dtype=np.int64)), Tensor(np.ones(3)))


@pytest.mark.parametrize("reduction", BAD_REDUCTIONS)
def test_step2_mse_rejects_an_unknown_reduction(reduction):
    with pytest.raises(ValueError, match=reduction_error("mse_loss", reduction)):
        mse_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3))), reduction=reduction)


def test_step2_mse_of_zero_dimensional_tensors_is_the_squared_difference():
    for reduction in REDUCTIONS:
        out = mse_loss(Tensor(np.float64(3.0)), Tensor(np.float64(1.0)), reduction=reduction)
        assert out.shape == ()
        assert out.numpy() == 4.0


def test_step2_mse_of_an_empty_input_has_a_sum_but_no_mean():
    x = Tensor(np.zeros((0, 3)))
    assert mse_loss(x, Tensor(np.zeros((0, 3))), reduction="sum").numpy() == 0.0
    with pytest.raises(
        ValueError, match=r"^mse_loss: the losses must not be empty for reduction 'mean', got shape \(0, 3\)$"
    ):
        mse_loss(x, Tensor(np.zeros((0, 3))))


def test_step2_mse_names_a_kata_01_tensor_as_such():
    with pytest.raises(TypeError, match=r"^mse_loss: target must be a Tensor, got tinytorch\.tensor\.Tensor$"):
        mse_loss(Tensor(np.ones(3)), base.Tensor(np.ones(3)))


def test_step2_mse_in_float32_stays_float32(rng):
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    loss = mse_loss(x, y)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert_close(loss, np.mean((x.numpy().astype(np.float64) - y.numpy()) ** 2), rtol=FLOAT32_RTOL)


# --- step 3: binary_cross_entropy (from logits) ------------------------------------------------


def unit_interval(shape):
    """Targets in [0, 1]."""
    return arrays(shape, "unit").map(np.abs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step3_bce_matches_the_naive_formula_on_moderate_logits(rng, reduction):
    x, t = rng.uniform(-6.0, 6.0, (4, 3)), rng.uniform(0.0, 1.0, (4, 3))
    out = binary_cross_entropy(Tensor(x), Tensor(t), reduction=reduction)
    assert_close(out, reduce_oracle(bce_oracle(x, t), reduction), rtol=1e-10)


@given(st.data())
def test_step3_bce_is_nonnegative_and_finite_for_any_logits(data):
    # 'huge' reaches ±1e4, where e^(-x) overflows: a RuntimeWarning fails the test.
    shape = data.draw(shapes(min_dims=1, max_dims=2))
    x = data.draw(arrays(shape, "huge"))
    t = data.draw(unit_interval(shape))
    losses = binary_cross_entropy(Tensor(x), Tensor(t), reduction="none").numpy()
    assert np.all(np.isfinite(losses)) and np.all(losses >= 0.0)


@given(st.data())
def test_step3_bce_flipping_the_logit_and_the_label_changes_nothing(data):
    # Calling "yes" with score x is calling "no" with score -x: BCE(x, t) = BCE(-x, 1 - t).
    shape = data.draw(shapes(min_dims=1, max_dims=2))
    x, t = data.draw(arrays(shape, "real")), data.draw(unit_interval(shape))
    left = binary_cross_entropy(Tensor(x), Tensor(t), reduction="none")
    right = binary_cross_entropy(Tensor(-x), Tensor(1.0 - t), reduction="none")
    assert_close(left, right.numpy(), rtol=1e-9, atol=1e-12)


def test_step3_bce_at_logit_zero_is_log_two_whatever_the_target():
    out = binary_cross_entropy(Tensor(np.zeros(3)), Tensor(np.array([0.0, 0.3, 1.0])), reduction="none")
    assert_close(out, np.full(3, math.log(2.0)), rtol=1e-15)


def test_step3_bce_at_logits_plus_minus_1e4_is_exact_and_warning_free():
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4]), requires_grad=True)
    t = Tensor(np.array([1.0, 0.0, 0.0, 1.0]))
    out = binary_cross_entropy(x, t, reduction="none")
    assert_close(out, [0.0, 0.0, 1e4, 1e4], rtol=0, atol=0)  # confident and right: 0; wrong: |x|
    out.backward(np.ones(4))
    assert_close(x.grad, [0.0, 0.0, 1.0, -1.0], rtol=0, atol=0)  # σ(x) - t


def bce_of_confident_right_logits_oracle(x: np.ndarray) -> np.ndarray:
    """The exact loss of a right answer given with confidence |x| >= 20: log(1 + u), u = e^(-|x|).

    The series u - u²/2 + u³/3, in float64: u <= 2.1e-9, so the first omitted term, u⁴/4, is
    below 1e-35 relative to u. No log1p here: the series is the independent oracle.
    """
    u = np.exp(-np.abs(x))
    return u - u**2 / 2.0 + u**3 / 3.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step3_bce_of_confident_right_logits_is_accurate_where_only_log1p_keeps_it(dtype):
    # A right answer with |x| = 20 to 40 has a loss of e^(-|x|) = 2e-9 to 4e-18: 1 + e^(-|x|) rounds
    # to 1 (or near it), and log(1 + ...) without log1p is off by up to 100%. With log1p every
    # operation is exact or within a few ulps: rtol 1e-12 (float64) and 1e-5 (float32, u = 6e-8).
    x = np.array([20.0, 25.0, 30.0, 36.0, 40.0, -20.0, -30.0, -40.0])
    t = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # each logit agrees with its target
    logits = x.astype(dtype)
    out = binary_cross_entropy(Tensor(logits), Tensor(t.astype(dtype)), reduction="none")
    assert out.dtype == dtype
    expected = bce_of_confident_right_logits_oracle(logits.astype(np.float64))
    assert_close(out, expected, rtol=1e-12 if dtype == np.float64 else 1e-5, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step3_bce_gradients_match_finite_differences(rng, reduction):
    # Targets stay in [0.1, 0.9], so the ±1e-6 nudges of gradcheck never leave [0, 1].
    inputs = [rng.uniform(-4.0, 4.0, (3, 4)), rng.uniform(0.1, 0.9, (3, 4))]
    gradcheck_tensors(f"bce {reduction}", lambda x, t: binary_cross_entropy(x, t, reduction=reduction), inputs)


def test_step3_bce_gradient_is_sigmoid_minus_target_over_n(rng):
    x, t = rng.uniform(-4.0, 4.0, (3, 4)), rng.uniform(0.0, 1.0, (3, 4))
    logits = Tensor(x, requires_grad=True)
    binary_cross_entropy(logits, Tensor(t)).backward()
    assert_close(logits.grad, (sigmoid_oracle(x) - t) / x.size, rtol=1e-10)


def test_step3_bce_rejects_targets_outside_zero_one_and_mismatched_shapes():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must be in \[0, 1\], got 1.5$"):
        binary_cross_entropy(Tensor(np.zeros(3)), Tensor(np.array([0.0, 1.5, 1.0])))
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must be in \[0, 1\], got -0.5$"):
        binary_cross_entropy(Tensor(np.zeros(2)), Tensor(np.array([-0.5, 1.0])))
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must be in \[0, 1\], got nan$"):
        binary_cross_entropy(Tensor(np.zeros(2)), Tensor(np.array([1.0, np.nan])))
    with pytest.raises(ValueError, match=r"logits and target must have the same shape, got \(2, 3\) and \(3, 2\)"):
        binary_cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 2))))
    with pytest.raises(TypeError, match=r"^binary_cross_entropy: target must be a Tensor, got list$"):
        binary_cross_entropy(Tensor(np.zeros(2)), [0.0, 1.0])


@pytest.mark.parametrize("reduction", BAD_REDUCTIONS)
def test_step3_bce_rejects_an_unknown_reduction(reduction):
    with pytest.raises(ValueError, match=reduction_error("binary_cross_entropy", reduction)):
        binary_cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3))), reduction=reduction)


def test_step3_bce_in_float32_stays_float32(rng):
    x = Tensor(rng.uniform(-4.0, 4.0, (3, 4)).astype(np.float32), requires_grad=True)
    t = Tensor(rng.uniform(0.0, 1.0, (3, 4)).astype(np.float32))
    loss = binary_cross_entropy(x, t)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert_close(loss, np.mean(bce_oracle(x.numpy().astype(np.float64), t.numpy())), rtol=FLOAT32_RTOL)


# --- step 4: cross_entropy (from logits, no one-hot) -------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step4_cross_entropy_matches_the_naive_formula_on_moderate_logits(rng, reduction):
    x, t = rng.uniform(-5.0, 5.0, (5, 7)), np.array([0, 6, 3, 3, 1])
    out = cross_entropy(Tensor(x), t, reduction=reduction)
    assert_close(out, reduce_oracle(cross_entropy_oracle(x, t), reduction), rtol=1e-10)


@st.composite
def logits_and_targets(draw, domain="real"):
    batch, classes = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(arrays((batch, classes), domain))
    t = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))
    return x, t


@given(logits_and_targets())
def test_step4_cross_entropy_matches_the_naive_formula_on_any_shape(case):
    x, t = case
    assert_close(cross_entropy(Tensor(x), t, reduction="none"), cross_entropy_oracle(x, t), rtol=1e-9, atol=1e-12)


@given(logits_and_targets("huge"))
def test_step4_cross_entropy_is_nonnegative_and_finite_at_logits_up_to_1e4(case):
    # e^(1e4) overflows: a RuntimeWarning (overflow, log of 0) fails the test.
    x, t = case
    losses = cross_entropy(Tensor(x), t, reduction="none").numpy()
    assert np.all(np.isfinite(losses)) and np.all(losses >= 0.0)


@given(st.integers(1, 5), st.integers(1, 6), values("huge"))
def test_step4_cross_entropy_on_uniform_logits_is_log_c(batch, classes, value):
    x = np.full((batch, classes), value)
    t = np.arange(batch) % classes
    assert_close(cross_entropy(Tensor(x), t, reduction="none"), np.full(batch, math.log(classes)), rtol=1e-12)


@given(logits_and_targets(), values("real"))
def test_step4_cross_entropy_ignores_a_constant_added_to_every_logit(case, shift):
    x, t = case
    moved = cross_entropy(Tensor(x + shift), t, reduction="none")
    assert_close(moved, cross_entropy(Tensor(x), t, reduction="none").numpy(), rtol=1e-9, atol=1e-9)


@given(logits_and_targets())
def test_step4_cross_entropy_sum_is_mean_times_batch_and_none_has_shape_b(case):
    x, t = case
    each = cross_entropy(Tensor(x), t, reduction="none")
    assert each.shape == (len(t),)
    mean = cross_entropy(Tensor(x), t, reduction="mean").numpy()
    total = cross_entropy(Tensor(x), t, reduction="sum").numpy()
    assert math.isclose(total, mean * len(t), rel_tol=1e-12, abs_tol=1e-12)


def test_step4_cross_entropy_at_logits_plus_minus_1e4_is_exact_and_warning_free():
    x = Tensor(np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]]), requires_grad=True)
    out = cross_entropy(x, np.array([0, 1]), reduction="none")
    assert_close(out, [0.0, 2e4], rtol=0, atol=0)
    out.backward(np.ones(2))
    assert_close(x.grad, [[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]], rtol=0, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_step4_cross_entropy_gradients_match_finite_differences(rng, reduction):
    target = np.array([2, 0, 4, 2])  # fixed in the closure: class indices have no gradient

    def loss(x):
        return cross_entropy(x, target, reduction=reduction)

    gradcheck_tensors(f"cross_entropy {reduction}", loss, [rng.uniform(-3.0, 3.0, (4, 5))])


def test_step4_cross_entropy_gradient_is_softmax_minus_one_hot_over_b(rng):
    x, t = rng.uniform(-3.0, 3.0, (4, 6)), np.array([5, 0, 0, 2])
    logits = Tensor(x, requires_grad=True)
    cross_entropy(logits, t).backward()
    assert_close(logits.grad, (softmax_oracle(x) - one_hot(t, 6)) / 4, rtol=1e-10, atol=1e-15)


def test_step4_cross_entropy_backward_leaves_the_saved_softmax_intact(rng):
    # A backward that writes into the saved softmax gives a wrong gradient the second time.
    x, t = rng.uniform(-3.0, 3.0, (4, 6)), np.array([5, 0, 0, 2])
    logits = Tensor(x, requires_grad=True)
    loss = cross_entropy(logits, t, reduction="none")
    grad_out = rng.uniform(0.5, 2.0, 4)
    loss.backward(grad_out, retain_graph=True)
    logits.grad = None
    loss.backward(grad_out)
    expected = (softmax_oracle(x) - one_hot(t, 6)) * grad_out[:, None]
    assert_close(logits.grad, expected, rtol=1e-10, atol=1e-15, what="the gradient of a second backward")


# The memory budget. B·C float64 logits (4 MiB) are built in fixtures, which are not counted.
# Forward and backward may hold two (B, C) buffers at once: the softmax (saved by the forward
# for the backward) and the gradient (then, at the leaf, the gradient and its copy in .grad,
# after the softmax was freed); plus 8 vectors of B 8-byte values: in the forward the row
# indices, row maxima, picked logits, row sums, their logs and the losses; in the backward the
# upstream gradient and the row indices again.
# Slack: NumPy streams a broadcast operand such as the (B, 1) row sums through a buffer of
# np.getbufsize() elements (64 KiB of float64), plus the harness's DEFAULT_SLACK (64 KiB).
# A one-hot matrix is a third (B, C) buffer (4 MiB more): it fails, as does log_softmax
# followed by indexing (whose backward scatters into a zeros (B, C) array, then exponentiates).
B, C = 512, 1024
MATRIX = B * C * 8
VECTORS = 8 * B * 8
SLACK = numpy_buffer(8) + DEFAULT_SLACK


@pytest.fixture
def big_logits(rng) -> Tensor:
    return Tensor(rng.standard_normal((B, C)), requires_grad=True)


@pytest.fixture
def big_target(rng) -> np.ndarray:
    return rng.integers(0, C, size=B)


@memory_budget(2 * MATRIX + VECTORS, slack=SLACK)
def test_step4_cross_entropy_forward_and_backward_hold_two_b_by_c_buffers_and_no_one_hot(big_logits, big_target):
    cross_entropy(big_logits, big_target).backward()
    assert big_logits.grad.shape == (B, C)


@memory_budget(MATRIX + VECTORS, slack=SLACK)
def test_step4_cross_entropy_forward_under_no_grad_holds_one_b_by_c_buffer(big_logits, big_target):
    with no_grad():
        loss = cross_entropy(big_logits, big_target, reduction="sum")
    assert loss.shape == ()


@pytest.mark.parametrize(
    ("make_target", "error", "message"),
    [  # built in the test, not at import: collecting must never run the code under test
        (lambda: np.array([1, 12, 3, 0]), ValueError, r"^cross_entropy: target must be in \[0, 10\), got 12$"),
        (lambda: np.array([1, -1, 3, 0]), ValueError, r"^cross_entropy: target must be in \[0, 10\), got -1$"),
        (
            lambda: np.array([[1], [2], [3], [0]]),
            ValueError,
            r"^cross_entropy: target must have shape \(4,\), got \(4, 1\)$",
        ),
        (lambda: np.array([1, 2]), ValueError, r"^cross_entropy: target must have shape \(4,\), got \(2,\)$"),
        (
            lambda: np.array([1.0, 2.0, 3.0, 0.0]),
            TypeError,
            "^cross_entropy: target must be an integer array.*got float64$",
        ),
        (lambda: Tensor(np.array([1.0, 2.0, 3.0, 0.0])), TypeError, "integer array of class indices, got float64$"),
    ],
    ids=["too large", "negative", "column", "too short", "float ndarray", "float Tensor"],
)
def test_step4_cross_entropy_rejects_bad_targets(make_target, error, message):
    target = make_target()
    with pytest.raises(error, match=message):
        cross_entropy(Tensor(np.zeros((4, 10))), target)


def test_step4_cross_entropy_rejects_logits_that_are_not_b_by_c():
    with pytest.raises(ValueError, match=r"^cross_entropy: logits must have shape \(B, C\) with C >= 1, got \(3,\)$"):
        cross_entropy(Tensor(np.zeros(3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits must have shape \(B, C\) with C >= 1, got \(4, 0\)$"):
        cross_entropy(Tensor(np.zeros((4, 0))), np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError, match=r"^cross_entropy: logits must be a Tensor, got ndarray$"):
        cross_entropy(np.zeros((4, 3)), np.zeros(4, dtype=np.int64))


@pytest.mark.parametrize("reduction", BAD_REDUCTIONS)
def test_step4_cross_entropy_rejects_an_unknown_reduction(reduction):
    with pytest.raises(ValueError, match=reduction_error("cross_entropy", reduction)):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 2]), reduction=reduction)


def test_step4_cross_entropy_of_a_batch_of_one_is_its_only_row(rng):
    x = rng.uniform(-3.0, 3.0, (1, 4))
    for reduction in REDUCTIONS:
        out = cross_entropy(Tensor(x), np.array([2]), reduction=reduction)
        assert_close(out, reduce_oracle(cross_entropy_oracle(x, [2]), reduction), rtol=1e-10)


def test_step4_cross_entropy_with_one_class_is_zero_with_zero_gradient(rng):
    # One class is always the right one: softmax is 1, the loss is log 1 = 0, nothing to learn.
    x = Tensor(rng.uniform(-3.0, 3.0, (3, 1)), requires_grad=True)
    loss = cross_entropy(x, np.zeros(3, dtype=np.int64), reduction="none")
    assert_close(loss, np.zeros(3), rtol=0, atol=0)
    loss.backward(np.ones(3))
    assert_close(x.grad, np.zeros((3, 1)), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_step4_cross_entropy_accepts_integer_arrays_and_integer_tensors(rng, dtype):
    x, t = rng.uniform(-3.0, 3.0, (3, 4)), np.array([3, 0, 1], dtype=dtype)
    expected = cross_entropy_oracle(x, t)
    assert_close(cross_entropy(Tensor(x), t, reduction="none"), expected, rtol=1e-10)
    assert_close(cross_entropy(Tensor(x), Tensor(t), reduction="none"), expected, rtol=1e-10)


def test_step4_cross_entropy_in_float32_stays_float32(rng):
    x = rng.uniform(-3.0, 3.0, (4, 5))
    logits = Tensor(x.astype(np.float32), requires_grad=True)
    loss = cross_entropy(logits, np.array([1, 4, 0, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32
    expected = np.mean(cross_entropy_oracle(x.astype(np.float32).astype(np.float64), [1, 4, 0, 1]))
    assert_close(loss, expected, rtol=FLOAT32_RTOL)


def test_step4_cross_entropy_of_an_empty_batch_sums_to_zero_and_refuses_a_mean_naming_itself():
    # An empty batch has no mean: the error names the loss, not 01's mean. Its sum is 0 and
    # "none" is empty.
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    with pytest.raises(
        ValueError, match=r"^cross_entropy: the losses must not be empty for reduction 'mean', got shape \(0,\)$"
    ):
        cross_entropy(x, np.zeros(0, dtype=np.int64))
    assert cross_entropy(x, np.zeros(0, dtype=np.int64), reduction="none").shape == (0,)
    total = cross_entropy(x, np.zeros(0, dtype=np.int64), reduction="sum")
    assert total.numpy() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3)
