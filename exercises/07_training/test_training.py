"""Kata 07 training. Run: pytest exercises/07_training   (one step: -k "step1" ... "step7").

The loop is checked against gradient descent written out in NumPy (`sgd_on_linear_mse`), the
metrics against NumPy formulas over the whole data set, the schedules against their formulas
written here, and checkpoints by what a file must guarantee: it is an .npz without pickles, a
failed save leaves the old file, a broken file is refused by name, and a resumed run continues
bit for bit.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import re
import signal
import zipfile
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.autograd import Tensor, is_grad_enabled
from tinytorch.dataloader import DataLoader, TensorDataset
from tinytorch.layers import Dropout, Linear, Module, ReLU, Sequential
from tinytorch.losses import cross_entropy, mse_loss
from tinytorch.optimizers import SGD, Adam, AdamW
from tinytorch.testing import assert_close, memory_budget
from tinytorch.testing.memory import KiB, MiB
from tinytorch.testing.strategies import arrays, shapes
from tinytorch.training import (
    CosineWithWarmup,
    StepLR,
    clip_grad_norm_,
    evaluate,
    load_checkpoint,
    pack,
    read_checkpoint,
    save_checkpoint,
    train_epoch,
    unpack,
)

# --- helpers ----------------------------------------------------------------------------------


def batches(x: np.ndarray, y: np.ndarray, size: int) -> list[tuple[Tensor, Tensor]]:
    """The data in order, cut into batches of `size` (the last one shorter): any iterable will do."""
    return [(Tensor(x[i : i + size]), Tensor(y[i : i + size])) for i in range(0, len(x), size)]


class Recorder(Module):
    """Wraps a model and remembers, per forward, the mode it ran in and the output it gave."""

    def __init__(self, inner: Module, fail_at: int | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.fail_at = fail_at
        self.modes: list[bool] = []
        self.outputs: list[Tensor] = []

    def forward(self, x):
        if len(self.modes) == self.fail_at:
            raise Boom("the model failed")
        self.modes.append(self.training)
        out = self.inner(x)
        self.outputs.append(out)
        return out


class Boom(Exception):
    """A model's own error. Not a RuntimeError: a stub's NotImplementedError must not pass for it."""


def numpy_cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[b, y[b]] per row, in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y]


def global_norm(grads) -> float:
    return math.sqrt(sum(float((np.asarray(g, dtype=np.float64) ** 2).sum()) for g in grads))


def assert_same_tree(actual, expected, where: str = "state") -> None:
    """Same types, same keys, arrays with the same dtype, shape and bits, numbers exactly equal."""
    __tracebackhide__ = True
    assert type(actual) is type(expected), (
        f"{where}: type must be {type(expected).__name__}, got {type(actual).__name__}"
    )
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{where}: keys must be {list(expected)}, got {list(actual)}"
        for key in expected:
            assert_same_tree(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{where}: length must be {len(expected)}, got {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_tree(a, e, f"{where}[{i}]")
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{where}: dtype must be {expected.dtype}, got {actual.dtype}"
        assert np.array_equal(actual, expected, equal_nan=True), f"{where}: arrays differ"
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), f"{where}: must be nan, got {actual}"
    else:
        assert actual == expected, f"{where}: must be {expected!r}, got {actual!r}"


def two_blobs(rng: np.random.Generator, n: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs (std 0.5) around (-2, -2) and (2, 2): separable by the line x0 + x1 = 0
    with a margin of 2√2 / 0.5 ≈ 5.7 standard deviations."""
    y = rng.integers(0, 2, n)
    centers = np.array([[-2.0, -2.0], [2.0, 2.0]])
    x = (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, y


# --- step 1: train_epoch ----------------------------------------------------------------------


def sgd_on_linear_mse(weight, bias, x, y, size, lr):
    """Plain gradient descent on mean((x @ W.T + b - y)²), batch by batch, in NumPy.

    Returns the final (W, b) and each batch's loss before its step.
    """
    weight, bias, losses = weight.copy(), bias.copy(), []
    for i in range(0, len(x), size):
        xb, yb = x[i : i + size], y[i : i + size]
        error = xb @ weight.T + bias - yb  # (B, C_out)
        losses.append(float((error**2).mean()))
        grad_out = 2.0 * error / error.size  # d mean(e²) / d prediction
        weight -= lr * grad_out.T @ xb
        bias -= lr * grad_out.sum(axis=0)
    return weight, bias, losses


def test_step1_train_epoch_takes_one_gradient_step_per_batch_as_written_out_in_numpy(rng):
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = Linear(3, 2, rng=rng, dtype=np.float64)
    weight, bias = model.weight.numpy().copy(), model.bias.numpy().copy()
    loss = train_epoch(model, batches(x, y, 4), mse_loss, SGD(model.parameters(), lr=0.1))
    expected_weight, expected_bias, losses = sgd_on_linear_mse(weight, bias, x, y, 4, lr=0.1)
    # Three batches: a loop that forgets zero_grad adds the old gradients in and drifts.
    assert_close(model.weight, expected_weight, rtol=1e-12, what="weight after one epoch")
    assert_close(model.bias, expected_bias, rtol=1e-12, what="bias after one epoch")
    assert isinstance(loss, float)
    assert loss == pytest.approx((4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10, rel=1e-12)


def test_step1_the_epoch_loss_is_the_mean_over_samples_even_with_a_short_last_batch(rng):
    x, y = rng.standard_normal((10, 4)).astype(np.float32), rng.integers(0, 3, 10)
    model = Linear(4, 3, rng=rng)
    loss = train_epoch(model, batches(x, y, 4), cross_entropy, SGD(model.parameters(), lr=0.0))
    per_sample = numpy_cross_entropy(x @ model.weight.numpy().T + model.bias.numpy(), y)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    # The plain mean of the three batch means weighs the last 2 samples like 4: it differs.
    unweighted = np.mean([per_sample[0:4].mean(), per_sample[4:8].mean(), per_sample[8:].mean()])
    assert abs(unweighted - per_sample.mean()) > 1e-4


def test_step1_train_epoch_puts_the_model_in_training_mode(rng):
    model = Recorder(Sequential(Linear(2, 2, rng=rng), Dropout(0.5, rng=rng)))
    model.eval()
    x, y = two_blobs(rng, 8)
    train_epoch(model, batches(x, y, 4), cross_entropy, SGD(model.parameters(), lr=0.1))
    assert model.modes == [True, True]
    assert all(module.training for _, module in model.named_modules())


def test_step1_each_batch_runs_zero_grad_forward_loss_backward_then_step(rng):
    model = Recorder(Linear(2, 2, rng=rng))
    optimizer = SGD(model.parameters(), lr=0.1)
    events = []
    zero_grad, step = optimizer.zero_grad, optimizer.step

    def spy_zero_grad():
        events.append("zero_grad")
        zero_grad()

    def spy_step():
        has_grads = all(p.grad is not None for p in model.parameters())
        events.append("step with grads" if has_grads else "step without grads")
        step()

    def spy_loss(logits, target):
        events.append("loss")
        return cross_entropy(logits, target)

    optimizer.zero_grad, optimizer.step = spy_zero_grad, spy_step
    x, y = two_blobs(rng, 6)
    train_epoch(model, batches(x, y, 3), spy_loss, optimizer)
    assert events == ["zero_grad", "loss", "step with grads"] * 2
    assert len(model.modes) == 2


def test_step1_loss_falls_by_half_on_two_separable_blobs(rng):
    x, y = two_blobs(rng)
    model = Linear(2, 2, rng=rng)
    optimizer = SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    losses = [train_epoch(model, loader, cross_entropy, optimizer) for _ in range(10)]
    # Epoch 1's mean still holds the untrained start (≈ log 2 = 0.69 for small logits); on
    # separable data the loss keeps falling as the weights grow. Over 100 seeds of this exact
    # setup the reference's last/first ratio is at most 0.301 (median 0.04): 0.5 is a wide
    # margin, and a loop that never steps (ratio 1) or steps uphill fails.
    assert losses[-1] < 0.5 * losses[0], f"epoch losses {losses}"
    accuracy = ((x @ model.weight.numpy().T + model.bias.numpy()).argmax(axis=1) == y).mean()
    assert accuracy == 1.0


def test_step1_train_epoch_refuses_an_empty_loader(rng):
    model = Linear(2, 2, rng=rng)
    with pytest.raises(ValueError, match="train_epoch: loader must yield at least one batch, got none"):
        train_epoch(model, [], cross_entropy, SGD(model.parameters(), lr=0.1))


def test_step1_a_loss_that_is_not_finite_stops_the_epoch_before_its_step(rng):
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    x[5, 1] = np.nan  # in the second batch
    model = Linear(3, 2, rng=rng, dtype=np.float64)
    weight, bias = model.weight.numpy().copy(), model.bias.numpy().copy()
    with pytest.raises(ValueError, match="train_epoch: the loss must be finite, got nan at batch 1"):
        train_epoch(model, batches(x, y, 4), mse_loss, SGD(model.parameters(), lr=0.1))
    # The first batch took its step, the second none: the weights are finite, as after one step.
    expected_weight, expected_bias, _ = sgd_on_linear_mse(weight, bias, x[:4], y[:4], 4, lr=0.1)
    assert_close(model.weight, expected_weight, rtol=1e-12, what="weight after the first batch only")
    assert_close(model.bias, expected_bias, rtol=1e-12, what="bias after the first batch only")


def test_step1_train_epoch_refuses_a_batch_that_is_not_a_pair_and_a_loss_that_is_not_0d(rng):
    model = Linear(2, 2, rng=rng)
    optimizer = SGD(model.parameters(), lr=0.1)
    x, y = two_blobs(rng, 4)
    triple = [(Tensor(x), Tensor(y), Tensor(y))]
    with pytest.raises(ValueError, match=r"train_epoch: each batch must be a pair \(x, y\), got a tuple of 3"):
        train_epoch(model, triple, cross_entropy, optimizer)
    with pytest.raises(
        TypeError, match=r"train_epoch: x must be a Tensor with a batch dimension \(B, ...\), got ndarray"
    ):
        train_epoch(model, [(x, Tensor(y))], cross_entropy, optimizer)
    with pytest.raises(TypeError, match="train_epoch: scheduler must be an LRScheduler or None, got SGD"):
        train_epoch(model, batches(x, y, 4), cross_entropy, optimizer, scheduler=optimizer)
    with pytest.raises(ValueError, match=r"train_epoch: loss_fn must return a 0-d Tensor, got shape \(4,\)"):
        train_epoch(
            model, batches(x, y, 4), lambda out, target: cross_entropy(out, target, reduction="none"), optimizer
        )


@pytest.mark.parametrize(("bad", "error"), [(-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)])
def test_step1_train_epoch_refuses_a_bad_max_grad_norm_before_any_batch(rng, bad, error):
    model = Linear(2, 2, rng=rng)
    before = model.state_dict()
    x, y = two_blobs(rng, 4)
    with pytest.raises(error, match="train_epoch: max_grad_norm must be"):
        train_epoch(model, batches(x, y, 4), cross_entropy, SGD(model.parameters(), lr=0.1), max_grad_norm=bad)
    assert_same_tree(model.state_dict(), before, "model after a refused epoch")


# --- step 2: evaluate -------------------------------------------------------------------------


def test_step2_evaluate_gives_the_loss_and_accuracy_over_the_whole_data_set(rng):
    x, y = rng.standard_normal((10, 4)).astype(np.float32), rng.integers(0, 3, 10)
    model = Linear(4, 3, rng=rng)
    loss, accuracy = evaluate(model, batches(x, y, 4), cross_entropy)
    logits = x @ model.weight.numpy().T + model.bias.numpy()
    assert loss == pytest.approx(numpy_cross_entropy(logits, y).mean(), rel=1e-5)
    assert accuracy == pytest.approx((logits.argmax(axis=1) == y).mean())
    assert isinstance(loss, float) and isinstance(accuracy, float)


def test_step2_evaluate_builds_no_graph_and_leaves_recording_on(rng):
    model = Recorder(Sequential(Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng)))
    losses = []

    def spy_loss(logits, target):
        losses.append(cross_entropy(logits, target))
        return losses[-1]

    x, y = rng.standard_normal((6, 3)).astype(np.float32), rng.integers(0, 2, 6)
    evaluate(model, batches(x, y, 4), spy_loss)
    assert len(model.outputs) == 2
    for out in model.outputs + losses:
        assert out.grad_fn is None and not out.requires_grad
    assert all(p.grad is None for p in model.parameters())
    assert is_grad_enabled()


def test_step2_evaluate_runs_in_eval_mode_and_restores_each_modules_mode(rng):
    dropout = Dropout(0.5, rng=rng)
    model = Recorder(Sequential(Linear(3, 2, rng=rng), dropout, Dropout(0.5, rng=rng)))
    model.train()
    dropout.eval()  # one layer frozen in eval on purpose: it must stay so
    x, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 2, 5)
    evaluate(model, batches(x, y, 5), cross_entropy)
    assert model.modes == [False]
    assert [module.training for _, module in model.named_modules()] == [True, True, True, False, True]
    model.eval()
    evaluate(model, batches(x, y, 5), cross_entropy)
    assert not any(module.training for _, module in model.named_modules())


def test_step2_evaluate_in_eval_mode_sees_no_dropout(rng):
    model = Sequential(Linear(3, 2, rng=rng), Dropout(0.9, rng=rng))
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8)
    first = evaluate(model, batches(x, y, 3), cross_entropy)
    assert evaluate(model, batches(x, y, 3), cross_entropy) == first  # no random masks


def test_step2_evaluate_restores_mode_and_recording_when_the_model_fails(rng):
    model = Recorder(Sequential(Linear(3, 2, rng=rng), Dropout(0.5, rng=rng)), fail_at=1)
    x, y = rng.standard_normal((6, 3)).astype(np.float32), rng.integers(0, 2, 6)
    with pytest.raises(Boom):
        evaluate(model, batches(x, y, 3), cross_entropy)
    assert model.modes == [False]
    assert all(module.training for _, module in model.named_modules())
    assert is_grad_enabled()


def test_step2_evaluate_refuses_an_empty_loader(rng):
    with pytest.raises(ValueError, match="evaluate: loader must yield at least one batch, got none"):
        evaluate(Linear(2, 2, rng=rng), [], cross_entropy)


def test_step2_evaluate_refuses_labels_that_do_not_match_the_logits(rng):
    # (B, 1) labels against (B,) argmaxes would broadcast to (B, B) and count a wrong accuracy.
    model = Linear(3, 2, rng=rng)
    x, y = rng.standard_normal((4, 3)).astype(np.float32), rng.integers(0, 2, (4, 1))
    with pytest.raises(ValueError, match=r"evaluate: y must have shape \(B,\) = \(4,\)"):
        evaluate(model, [(Tensor(x), Tensor(y))], lambda logits, target: cross_entropy(logits, Tensor(y[:, 0])))
    with pytest.raises(ValueError, match=r"evaluate: each batch must be a pair \(x, y\)"):
        evaluate(model, [Tensor(x)], cross_entropy)


# --- step 3: clip_grad_norm_ ------------------------------------------------------------------

GRAD_SHAPES = [(3, 5), (7,), (2, 3, 4), ()]


def params_with_grads(rng, scale: float = 1.0, dtype=np.float64) -> list[Tensor]:
    params = [Tensor(np.zeros(shape, dtype=dtype), requires_grad=True) for shape in GRAD_SHAPES]
    for p in params:
        p.grad = np.asarray(scale * rng.standard_normal(p.shape), dtype=dtype)
    return params


def test_step3_clipping_scales_all_gradients_by_one_factor_to_the_bound(rng):
    params = params_with_grads(rng, scale=3.0)
    params.append(Tensor(np.zeros(4), requires_grad=True))  # no gradient: skipped
    before = [p.grad.copy() for p in params[:-1]]
    norm = clip_grad_norm_(params, max_norm=2.0)
    expected = global_norm(before)  # one norm over every gradient, not one per tensor
    assert isinstance(norm, float) and norm == pytest.approx(expected, rel=1e-12)
    for i, (p, g) in enumerate(zip(params, before, strict=False)):
        assert_close(p.grad, g * (2.0 / expected), rtol=1e-12, what=f"gradient {i} after clipping")
    assert params[-1].grad is None
    assert global_norm(p.grad for p in params[:-1]) == pytest.approx(2.0, rel=1e-12)


def test_step3_gradients_within_the_bound_are_left_exactly_as_they_were(rng):
    params = params_with_grads(rng, scale=0.01)
    before = [p.grad.copy() for p in params]
    norm = clip_grad_norm_(params, max_norm=10.0)
    assert norm == pytest.approx(global_norm(before), rel=1e-12)
    for p, g in zip(params, before, strict=True):
        assert np.array_equal(p.grad, g)


@given(
    st.lists(shapes(max_dims=3), min_size=1, max_size=4).flatmap(lambda ss: st.tuples(*(arrays(s) for s in ss))),
    st.floats(0.01, 10.0),
)
def test_step3_after_clipping_the_norm_is_the_smaller_of_norm_and_bound(grads, max_norm):
    params = [Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.copy()
    norm = clip_grad_norm_(params, max_norm)
    assert norm == pytest.approx(global_norm(grads), rel=1e-9, abs=1e-12)
    assert global_norm(p.grad for p in params) == pytest.approx(min(norm, max_norm), rel=1e-9, abs=1e-12)
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    for p, g in zip(params, grads, strict=True):
        assert_close(p.grad, g * factor, rtol=1e-9, atol=1e-12, what="the same factor for every gradient")


def test_step3_clipping_works_in_place_keeps_float32_and_reads_a_generator_once(rng):
    model = Sequential(Linear(3, 4, rng=rng), Linear(4, 2, rng=rng))
    for p in model.parameters():
        p.grad = (100.0 * rng.standard_normal(p.shape)).astype(np.float32)
    arrays_before = [p.grad for p in model.parameters()]
    expected = global_norm(arrays_before)
    norm = clip_grad_norm_(model.parameters(), max_norm=1.0)  # a generator
    assert norm == pytest.approx(expected, rel=1e-5)  # float32 sums
    for p, array in zip(model.parameters(), arrays_before, strict=True):
        assert p.grad is array and p.grad.dtype == np.float32
    assert global_norm(p.grad for p in model.parameters()) == pytest.approx(1.0, rel=1e-5)


def test_step3_no_gradients_at_all_has_norm_zero():
    assert clip_grad_norm_([Tensor(np.ones(3), requires_grad=True)], max_norm=1.0) == 0.0
    assert clip_grad_norm_([], max_norm=1.0) == 0.0


def test_step3_a_bound_of_zero_zeroes_every_gradient(rng):
    params = params_with_grads(rng)
    clip_grad_norm_(params, max_norm=0.0)
    assert all(not p.grad.any() for p in params)


def test_step3_a_single_tensor_is_clipped_like_a_list_of_one(rng):
    # PyTorch accepts one tensor; iterating it would give its rows, which have no gradient.
    w = Tensor(np.zeros((3, 4)), requires_grad=True)
    w.grad = 5.0 * rng.standard_normal((3, 4))
    before = w.grad.copy()
    norm = clip_grad_norm_(w, max_norm=1.0)
    assert norm == pytest.approx(global_norm([before]), rel=1e-12)
    assert_close(w.grad, before / norm, rtol=1e-12, what="the single tensor's gradient after clipping")


def test_step3_all_zero_gradients_with_a_zero_bound_stay_zero_without_a_division_by_zero(rng):
    params = params_with_grads(rng, scale=0.0)
    with np.errstate(all="raise"):  # 0 / 0 would raise here instead of making nan
        assert clip_grad_norm_(params, max_norm=0.0) == 0.0
    assert all(np.array_equal(p.grad, np.zeros(p.shape)) for p in params)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (-1.0, ValueError, "max_norm must be >= 0, got -1.0"),
        (float("nan"), ValueError, "max_norm must be >= 0, got nan"),
        ("1", TypeError, "max_norm must be a real number, got str"),
        (None, TypeError, "max_norm must be a real number, got NoneType"),
        (True, TypeError, "max_norm must be a real number, got bool"),
    ],
)
def test_step3_clipping_refuses_a_bad_bound_and_changes_nothing(rng, bad, error, message):
    params = params_with_grads(rng, scale=3.0)
    before = [p.grad.copy() for p in params]
    with pytest.raises(error, match=f"clip_grad_norm_: {re.escape(message)}"):
        clip_grad_norm_(params, max_norm=bad)
    for p, g in zip(params, before, strict=True):
        assert np.array_equal(p.grad, g)


def test_step3_clipping_refuses_what_is_not_a_tensor_or_a_floating_point_gradient(rng):
    params = params_with_grads(rng, scale=3.0)
    before = [p.grad.copy() for p in params]
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 1 must be a Tensor, got ndarray"):
        clip_grad_norm_([params[0], np.ones(3)], max_norm=1.0)
    counts = Tensor(np.zeros(3), requires_grad=True)
    counts.grad = np.array([3, 4, 0])
    with pytest.raises(TypeError, match="clip_grad_norm_: the gradient of parameter 4 must be a floating-point"):
        clip_grad_norm_([*params, counts], max_norm=1.0)
    for p, g in zip(params, before, strict=True):  # checked before any gradient changed
        assert np.array_equal(p.grad, g)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_step3_a_non_finite_gradient_is_refused_and_nothing_changes(rng, bad):
    params = params_with_grads(rng)
    params[0].grad[1, 2] = bad
    before = [p.grad.copy() for p in params]
    with pytest.raises(ValueError, match="clip_grad_norm_: the gradients' norm must be finite, got"):
        clip_grad_norm_(params, max_norm=1.0)
    for p, g in zip(params, before, strict=True):
        assert np.array_equal(p.grad, g, equal_nan=True)


def test_step3_train_epoch_clips_before_every_step(rng):
    model = Linear(2, 2, rng=np.random.default_rng(0))
    optimizer = SGD(model.parameters(), lr=0.01)
    norms = []
    step = optimizer.step

    def spy_step():
        norms.append(global_norm(p.grad for p in model.parameters()))
        step()

    optimizer.step = spy_step
    x, y = two_blobs(rng, 12)
    train_epoch(model, batches(100.0 * x, y, 4), cross_entropy, optimizer, max_grad_norm=0.5)
    assert len(norms) == 3 and max(norms) <= 0.5 * (1 + 1e-5)
    # Without clipping, the same model (same seed) on the same first batch (inputs ×100) has a
    # gradient far above 0.5: the bound was active.
    fresh = Linear(2, 2, rng=np.random.default_rng(0))
    cross_entropy(fresh(Tensor(100.0 * x[:4])), y[:4]).backward()
    assert global_norm(p.grad for p in fresh.parameters()) > 5.0


@pytest.fixture
def big_grads(rng) -> list[Tensor]:
    """float32 gradients of 4 MiB (C order), 2 MiB (Fortran order) and 8 KiB."""
    grads = [
        rng.standard_normal((1024, 1024), dtype=np.float32),
        np.asfortranarray(rng.standard_normal((512, 1024), dtype=np.float32)),
        rng.standard_normal(2048, dtype=np.float32),
    ]
    params = [Tensor(np.zeros(g.shape, dtype=np.float32), requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    return params


# Formula: 0 bytes. The sum of squares of a contiguous array (C or Fortran order) needs no
# temporary (`np.dot` of a flat view with itself), and the scaling is in place (`*=`). The
# default slack (64 KiB) covers Python floats and small objects. The obvious `(g ** 2).sum()`
# allocates a 4 MiB temporary and fails; so does `g.reshape(-1)` on the Fortran-order gradient
# (a 2 MiB copy) and `g = g * scale` (a new array).
@memory_budget(0)
def test_step3_clipping_allocates_nothing_beyond_the_gradients(big_grads):
    norm = clip_grad_norm_(big_grads, max_norm=1.0)
    assert norm > 1000.0  # √(1.5 M) ≈ 1254: every gradient was scaled


# --- step 4: schedules ------------------------------------------------------------------------


def sgd_with_lr(lr: float) -> SGD:
    return SGD([Tensor(np.zeros(2), requires_grad=True)], lr=lr)


def cosine_formula(t: int, base: float, warmup: int, total: int, min_lr: float) -> float:
    if t < warmup:
        return base * (t + 1) / warmup
    if t >= total:
        return min_lr
    return min_lr + (base - min_lr) * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2


@given(st.integers(1, 6), st.floats(0.05, 0.95), st.floats(1e-3, 1.0))
def test_step4_step_lr_follows_its_formula_step_after_step(step_size, gamma, base):
    optimizer = sgd_with_lr(base)
    scheduler = StepLR(optimizer, step_size=step_size, gamma=gamma)
    for t in range(20):
        expected = base * gamma ** (t // step_size)
        assert scheduler.lr == pytest.approx(expected, rel=1e-12) and optimizer.lr == scheduler.lr
        scheduler.step()
    assert scheduler.step_count == 20


@given(st.integers(0, 5), st.integers(1, 12), st.floats(1e-3, 1.0), st.floats(0.0, 1.0))
def test_step4_cosine_with_warmup_follows_its_formula_step_after_step(warmup, decay, base, min_fraction):
    total, min_lr = warmup + decay, base * min_fraction
    optimizer = sgd_with_lr(base)
    scheduler = CosineWithWarmup(optimizer, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
    for t in range(total + 4):
        expected = cosine_formula(t, base, warmup, total, min_lr)
        assert scheduler.lr == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert optimizer.lr == scheduler.lr
        scheduler.step()


def test_step4_cosine_warms_up_peaks_at_the_base_lr_then_falls_to_the_floor():
    optimizer = sgd_with_lr(0.4)
    scheduler = CosineWithWarmup(optimizer, warmup_steps=5, total_steps=25, min_lr=0.01)
    lrs = []
    for _ in range(30):
        lrs.append(optimizer.lr)
        scheduler.step()
    assert lrs[0] == pytest.approx(0.4 / 5) and lrs[0] > 0  # the first step is not wasted
    assert all(a < b for a, b in itertools.pairwise(lrs[:5]))
    assert lrs[4] == lrs[5] == pytest.approx(0.4) and max(lrs) == pytest.approx(0.4)
    assert all(a >= b for a, b in itertools.pairwise(lrs[5:]))
    assert lrs[25:] == [pytest.approx(0.01)] * 5


def test_step4_train_epoch_steps_the_schedule_after_every_batch(rng):
    model = Linear(2, 2, rng=rng)
    optimizer = SGD(model.parameters(), lr=0.8)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    used = []
    step = optimizer.step

    def spy_step():
        used.append(optimizer.lr)
        step()

    optimizer.step = spy_step
    x, y = two_blobs(rng, 10)
    train_epoch(model, batches(x, y, 4), cross_entropy, optimizer, scheduler=scheduler)
    assert used == [0.8, 0.4, 0.2]  # the first step uses the base lr
    assert scheduler.step_count == 3 and optimizer.lr == 0.1


@pytest.mark.parametrize(
    ("make", "make_other"),
    [
        (lambda opt: StepLR(opt, step_size=3, gamma=0.3), lambda opt: StepLR(opt, step_size=1, gamma=0.9)),
        (lambda opt: CosineWithWarmup(opt, 4, 20, min_lr=0.01), lambda opt: CosineWithWarmup(opt, 1, 50)),
    ],
    ids=["step", "cosine"],
)
def test_step4_a_fresh_schedule_loaded_with_the_state_continues_the_same(make, make_other):
    original = make(sgd_with_lr(0.5))
    for _ in range(7):
        original.step()
    state = original.state_dict()
    json.dumps(state)  # plain values only
    # Built with another base lr and other hyper-parameters on purpose: loading must restore them.
    fresh_optimizer = sgd_with_lr(2.0)
    fresh = make_other(fresh_optimizer)
    fresh.load_state_dict(state)
    assert fresh.lr == original.lr and fresh_optimizer.lr == original.lr
    for _ in range(10):
        original.step()
        fresh.step()
        assert fresh.lr == original.lr
    assert fresh.state_dict() == original.state_dict()


def test_step4_the_state_dict_names_the_schedule_and_its_hyperparameters():
    state = StepLR(sgd_with_lr(0.5), step_size=3, gamma=0.3).state_dict()
    assert state == {"name": "StepLR", "base_lr": 0.5, "step_count": 0, "step_size": 3, "gamma": 0.3}


def schedule_and_lr(scheduler) -> tuple[dict, float]:
    return scheduler.state_dict(), scheduler.optimizer.lr


def test_step4_loading_another_schedules_state_is_refused_and_changes_nothing():
    cosine = CosineWithWarmup(sgd_with_lr(0.5), 2, 10)
    step = StepLR(sgd_with_lr(0.5), step_size=3)
    step.step()
    before = schedule_and_lr(step)
    with pytest.raises(ValueError, match=r"load_state_dict: keys must be \['base_lr', 'gamma', 'name'"):
        step.load_state_dict(cosine.state_dict())
    # Refused for its name alone, while every other value differs: none of them may be taken.
    other = {"name": "Other", "base_lr": 2.0, "step_count": 9, "step_size": 5, "gamma": 0.7}
    with pytest.raises(ValueError, match="load_state_dict: name must be 'StepLR', got 'Other'"):
        step.load_state_dict(other)
    assert schedule_and_lr(step) == before


STEP_STATE = {"name": "StepLR", "base_lr": 0.5, "step_count": 4, "step_size": 3, "gamma": 0.3}
COSINE_STATE = {
    "name": "CosineWithWarmup",
    "base_lr": 0.5,
    "step_count": 4,
    "warmup_steps": 2,
    "total_steps": 10,
    "min_lr": 0.01,
}
BAD_SCHEDULE_STATES = {
    "gamma -2": ({**STEP_STATE, "gamma": -2}, ValueError, "StepLR: gamma must be > 0 and finite, got -2"),
    "gamma 0": ({**STEP_STATE, "gamma": 0.0}, ValueError, "StepLR: gamma must be > 0 and finite, got 0.0"),
    "gamma as text": ({**STEP_STATE, "gamma": "0.3"}, TypeError, "StepLR: gamma must be a real number, got str"),
    "step_size 0": ({**STEP_STATE, "step_size": 0}, ValueError, "StepLR: step_size must be a positive integer, got 0"),
    "step_size 2.5": ({**STEP_STATE, "step_size": 2.5}, TypeError, "StepLR: step_size must be an integer, got float"),
    "step_count -1": ({**STEP_STATE, "step_count": -1}, ValueError, "load_state_dict: step_count must be >= 0, got -1"),
    "step_count 1.5": ({**STEP_STATE, "step_count": 1.5}, TypeError, "step_count must be an integer, got float"),
    "base_lr nan": ({**STEP_STATE, "base_lr": float("nan")}, ValueError, "base_lr must be >= 0 and finite, got nan"),
    "base_lr -1": ({**STEP_STATE, "base_lr": -1.0}, ValueError, "base_lr must be >= 0 and finite, got -1.0"),
    "base_lr None": ({**STEP_STATE, "base_lr": None}, TypeError, "base_lr must be a real number, got NoneType"),
    "a list": ([1, 2], TypeError, "load_state_dict: state must be a dict, got list"),
    "min_lr above base_lr": (
        {**COSINE_STATE, "min_lr": 0.6},
        ValueError,
        "CosineWithWarmup: min_lr must be in [0, lr = 0.5], got 0.6",
    ),
    "total_steps = warmup_steps": (
        {**COSINE_STATE, "total_steps": 2},
        ValueError,
        "CosineWithWarmup: total_steps must be an integer > warmup_steps = 2, got 2",
    ),
}


@pytest.mark.parametrize("case", BAD_SCHEDULE_STATES, ids=list(BAD_SCHEDULE_STATES))
def test_step4_a_state_the_constructor_would_refuse_is_refused_by_load_and_changes_nothing(case):
    state, error, message = BAD_SCHEDULE_STATES[case]
    if isinstance(state, dict) and state["name"] == "CosineWithWarmup":
        scheduler = CosineWithWarmup(sgd_with_lr(0.4), warmup_steps=1, total_steps=6)
    else:
        scheduler = StepLR(sgd_with_lr(0.4), step_size=2, gamma=0.5)
    scheduler.step()
    before = schedule_and_lr(scheduler)
    with pytest.raises(error, match=re.escape(message)):
        scheduler.load_state_dict(state)
    assert schedule_and_lr(scheduler) == before


def test_step4_schedules_refuse_bad_hyperparameters():
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        StepLR(sgd_with_lr(0.1), step_size=0)
    with pytest.raises(ValueError, match=r"StepLR: gamma must be > 0 and finite, got -0\.5"):
        StepLR(sgd_with_lr(0.1), step_size=2, gamma=-0.5)
    for gamma in (0, 0.0, float("inf"), float("nan")):  # gamma 0 would stop training after step_size steps
        with pytest.raises(ValueError, match="StepLR: gamma must be > 0 and finite, got"):
            StepLR(sgd_with_lr(0.1), step_size=2, gamma=gamma)
    with pytest.raises(TypeError, match="StepLR: gamma must be a real number, got str"):
        StepLR(sgd_with_lr(0.1), step_size=2, gamma="0.5")
    with pytest.raises(TypeError, match="StepLR: step_size must be an integer, got bool"):
        StepLR(sgd_with_lr(0.1), step_size=True)
    with pytest.raises(ValueError, match="CosineWithWarmup: warmup_steps must be an integer >= 0, got -1"):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=-1, total_steps=10)
    with pytest.raises(TypeError, match="CosineWithWarmup: total_steps must be an integer, got float"):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=1, total_steps=10.0)
    with pytest.raises(
        ValueError, match="CosineWithWarmup: total_steps must be an integer > warmup_steps = 10, got 10"
    ):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match=r"CosineWithWarmup: min_lr must be in \[0, lr = 0.1\], got 0.5"):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=1, total_steps=10, min_lr=0.5)
    with pytest.raises(ValueError, match=r"CosineWithWarmup: min_lr must be in \[0, lr = 0.1\], got nan"):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=1, total_steps=10, min_lr=float("nan"))
    with pytest.raises(TypeError, match="CosineWithWarmup: min_lr must be a real number, got str"):
        CosineWithWarmup(sgd_with_lr(0.1), warmup_steps=1, total_steps=10, min_lr="0")


# --- step 5: pack and unpack ------------------------------------------------------------------

SMALL_SHAPES = shapes(min_dims=0, max_dims=3, min_side=0)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**130), 2**130),  # a PCG64 state holds 128-bit integers
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.sampled_from([np.float32, np.float64]).flatmap(lambda dtype: arrays(SMALL_SHAPES, dtype=dtype)),
    st.sampled_from([np.int64, np.uint8, np.bool_]).flatmap(lambda dtype: hnp.arrays(dtype, SMALL_SHAPES)),
)
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.integers(-5, 5), st.text(max_size=4)), children, max_size=3),
    ),
    max_leaves=12,
)


def through_json(tree):
    """pack, then a real JSON round trip of the description, then unpack."""
    arrays = {}
    text = json.dumps(pack(tree, arrays))
    return unpack(json.loads(text), arrays)


@given(TREES)
def test_step5_any_tree_of_plain_values_survives_pack_json_unpack_exactly(tree):
    assert_same_tree(through_json(tree), tree, "tree")


def test_step5_real_states_survive_int_keys_tuples_and_128_bit_integers(rng):
    w = Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    optimizer = Adam([w], lr=0.1)
    w.grad = np.ones((3, 2), dtype=np.float32)
    optimizer.step()
    state = optimizer.state_dict()  # {"state": {0: {...}}, "hyperparameters": {"betas": (0.9, 0.999)}, ...}
    assert_same_tree(through_json(state), state, "Adam state")
    generator = np.random.default_rng(123)
    generator.random(5)
    copy = np.random.default_rng(0)
    copy.bit_generator.state = through_json(generator.bit_generator.state)
    assert np.array_equal(copy.random(5), generator.random(5))


def test_step5_pack_moves_arrays_out_by_reference_and_numbers_into_json(rng):
    first, second = rng.standard_normal(3), np.arange(4)
    arrays = {}
    packed = pack({"a": first, "b": [second, np.float32(0.5), np.int64(7)]}, arrays)
    assert list(arrays) == ["array_0", "array_1"]
    assert arrays["array_0"] is first and arrays["array_1"] is second  # no copies
    text = json.dumps(packed)
    assert "array_0" in text and "0.5" in text and "7" in text


def test_step5_pack_refuses_what_json_and_npz_cannot_hold_safely():
    with pytest.raises(
        TypeError, match="pack: values must be arrays, numbers, strings, lists, tuples or dicts, got set"
    ):
        pack({"a": {1, 2}}, {})
    with pytest.raises(TypeError, match="got Tensor"):
        pack([Tensor(np.ones(2))], {})
    with pytest.raises(TypeError, match="pack: arrays must not hold Python objects, got dtype object"):
        pack(np.array([None, 1], dtype=object), {})


def test_step5_unpack_refuses_an_unknown_tag():
    with pytest.raises(ValueError, match="unpack: a tagged value must be"):
        unpack({"set": [1, 2]}, {})


# --- step 6: save_checkpoint ------------------------------------------------------------------


def small_run(seed: int):
    """A model, its AdamW and a cosine schedule, one step taken (so every state is filled)."""
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng))
    optimizer = AdamW(model.parameters(), lr=0.01)
    scheduler = CosineWithWarmup(optimizer, warmup_steps=2, total_steps=10)
    x, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 2, 5)
    train_epoch(model, batches(x, y, 5), cross_entropy, optimizer, scheduler=scheduler)
    return model, optimizer, scheduler


def read_meta(path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
        return meta, {name: archive[name] for name in archive.files if name != "meta"}


def test_step6_a_checkpoint_is_an_npz_of_arrays_and_a_json_meta_without_pickles(tmp_path):
    model, optimizer, scheduler = small_run(0)
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=3)
    assert os.listdir(tmp_path) == ["run.ckpt"]  # the name as given: no ".npz" added
    meta, stored = read_meta(path)
    assert (meta["format"], meta["version"], meta["epoch"]) == ("tinytorch-checkpoint", 1, 3)
    for name, p in model.named_parameters():
        assert any(a.dtype == p.dtype and np.array_equal(a, p.numpy()) for a in stored.values()), name
    # 4 parameters, each with Adam's two moments.
    assert len(stored) == 4 + 2 * 4


def test_step6_saving_fsyncs_a_temporary_file_in_the_same_folder_renames_it_then_fsyncs_the_folder(
    tmp_path, monkeypatch
):
    model, optimizer, _ = small_run(0)
    events = []
    fsync, replace = os.fsync, os.replace

    def spy_fsync(descriptor):
        events.append(("fsync", os.fstat(descriptor).st_ino))  # which file (or folder) it was
        fsync(descriptor)

    def spy_replace(source, target):
        events.append(("replace", os.path.dirname(os.path.abspath(source)), os.path.abspath(target)))
        events.append(("renamed", os.stat(source).st_ino))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    save_checkpoint(tmp_path / "a.npz", model=model, optimizer=optimizer, epoch=0)
    replaces = [event for event in events if event[0] == "replace"]
    assert replaces == [("replace", str(tmp_path), str(tmp_path / "a.npz"))]
    (renamed,) = [event for event in events if event[0] == "renamed"]
    fsynced_first = events[: events.index(replaces[0])]
    # The temporary file itself is on disk before it becomes the checkpoint (not only its folder).
    assert ("fsync", renamed[1]) in fsynced_first, "the temporary file must be fsynced before os.replace"
    # Then the folder, so that the rename survives a power cut too (POSIX: Windows cannot open a folder).
    if hasattr(os, "O_DIRECTORY"):
        fsynced_after = events[events.index(replaces[0]) :]
        assert ("fsync", os.stat(tmp_path).st_ino) in fsynced_after, "the folder must be fsynced after os.replace"


@pytest.mark.parametrize(
    "crash", [OSError("No space left on device"), KeyboardInterrupt()], ids=["disk-full", "ctrl-c"]
)
def test_step6_a_crash_mid_save_leaves_the_old_checkpoint_intact_and_no_temporary_file(tmp_path, monkeypatch, crash):
    model, optimizer, scheduler = small_run(0)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=1)
    old_bytes = path.read_bytes()
    real_savez = np.savez

    def savez_that_dies_halfway(file, *args, **kwds):
        buffer = io.BytesIO()
        real_savez(buffer, *args, **kwds)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise crash

    monkeypatch.setattr(np, "savez", savez_that_dies_halfway)
    monkeypatch.setattr(np, "savez_compressed", savez_that_dies_halfway)
    model[0].weight.data[...] = 0.0
    with pytest.raises(type(crash)):
        save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=2)
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == old_bytes
    assert read_meta(path)[0]["epoch"] == 1


def test_step6_saving_again_replaces_the_checkpoint(tmp_path):
    model, optimizer, _ = small_run(0)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=2)
    assert os.listdir(tmp_path) == ["ckpt.npz"] and read_meta(path)[0]["epoch"] == 2


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (-1, ValueError, "an integer >= 0, got -1"),
        (1.5, TypeError, "an integer, got float"),
        (True, TypeError, "an integer, got bool"),
    ],
)
def test_step6_save_refuses_a_bad_epoch(tmp_path, bad, error, message):
    model, optimizer, _ = small_run(0)
    with pytest.raises(error, match=f"save_checkpoint: epoch must be {message}"):
        save_checkpoint(tmp_path / "c.npz", model=model, optimizer=optimizer, epoch=bad)
    assert os.listdir(tmp_path) == []


def test_step6_save_refuses_a_seed_or_a_missing_generator_and_objects_of_the_wrong_kind(tmp_path):
    model, optimizer, scheduler = small_run(0)
    path = tmp_path / "c.npz"
    # An int seed has no state to save or restore: refused, not taken for a generator.
    with pytest.raises(
        TypeError, match=r"save_checkpoint: rngs must map names .* to numpy\.random\.Generator, got 'loader': int"
    ):
        save_checkpoint(path, model=model, optimizer=optimizer, epoch=0, rngs={"loader": 0})
    with pytest.raises(TypeError, match="save_checkpoint: model must be a Module, got list"):
        save_checkpoint(path, model=[model], optimizer=optimizer, epoch=0)
    with pytest.raises(TypeError, match="save_checkpoint: optimizer must be an Optimizer, got"):
        save_checkpoint(path, model=model, optimizer=scheduler, epoch=0)
    other = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="save_checkpoint: scheduler must drive this optimizer"):
        save_checkpoint(path, model=model, optimizer=other, scheduler=scheduler, epoch=0)
    # A Dropout whose generator is not saved: the resumed run would draw other masks, silently.
    dropout = Dropout(0.5, rng=np.random.default_rng(1))
    with_dropout = Sequential(Linear(3, 4, rng=np.random.default_rng(0)), ReLU(), dropout)
    adam = Adam(with_dropout.parameters())
    loader_rng = np.random.default_rng(2)
    with pytest.raises(
        ValueError,
        match=r"save_checkpoint: rngs must hold the generator of every module that draws, got none for 2 \(Dropout\)",
    ):
        save_checkpoint(path, model=with_dropout, optimizer=adam, epoch=0, rngs={"loader": loader_rng})
    assert os.listdir(tmp_path) == []
    save_checkpoint(path, model=with_dropout, optimizer=adam, epoch=0, rngs={"loader": loader_rng, "d": dropout.rng})
    assert os.listdir(tmp_path) == ["c.npz"]


def save_killed_halfway(path, **state) -> None:
    """In a forked child: save, but die by SIGKILL halfway through writing (no clean-up can run)."""
    real_savez = np.savez
    pid = os.fork()
    if pid == 0:  # the child; it must never return into pytest
        try:

            def savez_then_killed(file, *args, **kwds):
                buffer = io.BytesIO()
                real_savez(buffer, *args, **kwds)
                file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
                file.flush()
                os.kill(os.getpid(), signal.SIGKILL)

            np.savez = np.savez_compressed = savez_then_killed
            save_checkpoint(path, **state)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the child must die mid-save"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked child: POSIX only")
def test_step6_the_next_save_removes_what_killed_saves_of_its_checkpoint_left_and_nothing_else(tmp_path):
    model, optimizer, scheduler = small_run(0)
    path, sibling = tmp_path / "run.ckpt", tmp_path / "run.ckpt.old"
    state = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    save_checkpoint(path, **state, epoch=1)
    save_checkpoint(sibling, **state, epoch=1)
    old_bytes = path.read_bytes()
    for epoch in (2, 3, 4):
        save_killed_halfway(path, **state, epoch=epoch)
    assert path.read_bytes() == old_bytes  # each kill left the checkpoint whole
    before_sibling_kill = set(os.listdir(tmp_path))
    save_killed_halfway(sibling, **state, epoch=2)
    siblings_litter = set(os.listdir(tmp_path)) - before_sibling_kill
    # Loading removes nothing: another process may be saving at that very moment.
    litter = set(os.listdir(tmp_path))
    load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler)
    assert set(os.listdir(tmp_path)) == litter
    save_checkpoint(path, **state, epoch=5)
    # Gone: whatever the killed saves of run.ckpt left. Kept: what belongs to run.ckpt.old.
    assert set(os.listdir(tmp_path)) == {"run.ckpt", "run.ckpt.old"} | siblings_litter
    assert read_meta(path)[0]["epoch"] == 5


# --- step 7: load_checkpoint, and resuming ----------------------------------------------------


def test_step7_loading_restores_model_optimizer_schedule_and_generators(tmp_path):
    model, optimizer, scheduler = small_run(0)
    generator = np.random.default_rng(5)
    generator.random(3)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=4, rngs={"g": generator})
    fresh_model, fresh_optimizer, fresh_scheduler = small_run(1)  # other weights, other state
    fresh_generator = np.random.default_rng(6)
    epoch = load_checkpoint(
        path, model=fresh_model, optimizer=fresh_optimizer, scheduler=fresh_scheduler, rngs={"g": fresh_generator}
    )
    assert epoch == 4
    assert_same_tree(fresh_model.state_dict(), model.state_dict(), "model")
    assert_same_tree(fresh_optimizer.state_dict(), optimizer.state_dict(), "optimizer")
    assert_same_tree(fresh_scheduler.state_dict(), scheduler.state_dict(), "scheduler")
    assert fresh_optimizer.lr == optimizer.lr
    assert np.array_equal(fresh_generator.random(4), generator.random(4))


def make_run(seed: int, x: np.ndarray, y: np.ndarray):
    """Everything random in a run comes from `seed`: init, dropout masks, shuffle order."""
    rng = np.random.default_rng(seed)
    dropout = Dropout(0.2, rng=np.random.default_rng(seed + 100))
    model = Sequential(Linear(4, 16, rng=rng), ReLU(), dropout, Linear(16, 3, rng=rng))
    optimizer = AdamW(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=seed + 200)
    scheduler = CosineWithWarmup(optimizer, warmup_steps=5, total_steps=6 * len(loader), min_lr=1e-4)
    rngs = {"loader": loader.rng, "dropout": dropout.rng}
    return model, optimizer, scheduler, loader, rngs


def train(run, epochs: int) -> list[float]:
    model, optimizer, scheduler, loader, _ = run
    return [
        train_epoch(model, loader, cross_entropy, optimizer, scheduler=scheduler, max_grad_norm=1.0)
        for _ in range(epochs)
    ]


def test_step7_a_resumed_run_continues_bit_for_bit_as_if_never_stopped(rng, tmp_path):
    x, y = rng.standard_normal((60, 4)).astype(np.float32), rng.integers(0, 3, 60)
    path = tmp_path / "ckpt.npz"
    # Run A: 2 epochs, checkpoint, 3 more.
    run_a = make_run(1, x, y)
    train(run_a, 2)
    model_a, optimizer_a, scheduler_a, _, rngs_a = run_a
    save_checkpoint(path, model=model_a, optimizer=optimizer_a, scheduler=scheduler_a, epoch=2, rngs=rngs_a)
    losses_a = train(run_a, 3)
    # Run B: built from scratch with other seeds, restored from the checkpoint, 3 epochs.
    run_b = make_run(2, x, y)
    model_b, optimizer_b, scheduler_b, _, rngs_b = run_b
    assert load_checkpoint(path, model=model_b, optimizer=optimizer_b, scheduler=scheduler_b, rngs=rngs_b) == 2
    losses_b = train(run_b, 3)
    assert losses_b == losses_a  # exactly, epoch by epoch
    for (name, a), (_, b) in zip(model_a.named_parameters(), model_b.named_parameters(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), f"{name} differs after resuming"
    assert_same_tree(optimizer_b.state_dict(), optimizer_a.state_dict(), "optimizer")
    assert optimizer_b.lr == optimizer_a.lr and scheduler_b.lr == scheduler_a.lr
    # The generators matter: the same restore with the shuffle generator left as built diverges.
    run_c = make_run(2, x, y)
    model_c, optimizer_c, scheduler_c, loader_c, rngs_c = run_c
    load_checkpoint(path, model=model_c, optimizer=optimizer_c, scheduler=scheduler_c, rngs=rngs_c)
    loader_c.rng.bit_generator.state = np.random.default_rng(202).bit_generator.state
    assert train(run_c, 3) != losses_a


def write_npz(path, **arrays) -> None:
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def meta_bytes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def break_by_truncating(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def break_by_flipping_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_meta(path, edit: Callable[[dict], None]) -> None:
    """Rewrite a checkpoint with its meta JSON changed by `edit` (in place), the arrays kept."""
    meta, arrays = read_meta(path)
    edit(meta)
    write_npz(path, meta=meta_bytes(json.dumps(meta)), **arrays)


def packed(node: dict, key):
    """The value under `key` in a packed dict `{"dict": [[key, value], ...]}` (the documented pack format)."""
    (value,) = [value for k, value in node["dict"] if k == key]
    return value


def put_packed(node: dict, key, value) -> None:
    """Set the value under `key` in a packed dict."""
    (pair,) = [pair for pair in node["dict"] if pair[0] == key]
    pair[1] = value


def npy_bytes(header: dict, data: bytes) -> bytes:
    """An .npy file: the header NumPy writes for `header`, then `data` (which need not fit it)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


BREAKERS = {
    "random bytes": lambda path: path.write_bytes(np.random.default_rng(0).bytes(500)),
    "truncated": break_by_truncating,
    "a flipped byte": break_by_flipping_a_byte,
    "no meta": lambda path: write_npz(path, array_0=np.ones(3)),
    "meta not JSON": lambda path: write_npz(path, meta=meta_bytes("{not json")),
    "another format": lambda path: write_npz(path, meta=meta_bytes('{"format": "other", "version": 9}')),
    "a pickled array": lambda path: write_npz(path, meta=np.array([{"epoch": 1}], dtype=object)),
    "meta a JSON list": lambda path: write_npz(path, meta=meta_bytes("[1, 2]")),
    "meta as float64": lambda path: write_npz(path, meta=np.frombuffer(b'{"a": 1}', np.uint8).astype(np.float64)),
    "a negative epoch": lambda path: edit_meta(path, lambda meta: meta.update(epoch=-1)),
    "an epoch as text": lambda path: edit_meta(path, lambda meta: meta.update(epoch="1")),
    "a model that is a list": lambda path: edit_meta(path, lambda meta: meta.update(model=[1])),
    "a missing array": lambda path: edit_meta(path, lambda meta: meta.update(rngs={"array": "array_99"})),
    "JSON nested too deep": lambda path: write_npz(path, meta=meta_bytes("[" * 100_000 + "]" * 100_000)),
}


@pytest.mark.parametrize("breaker", BREAKERS, ids=list(BREAKERS))
def test_step7_a_broken_file_is_refused_with_its_name(tmp_path, breaker):
    model, optimizer, scheduler = small_run(0)
    path = tmp_path / "broken.ckpt"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=1)
    BREAKERS[breaker](path)
    fresh_model, fresh_optimizer, fresh_scheduler = small_run(1)
    before = fresh_model.state_dict()
    with pytest.raises(ValueError, match=re.escape(f"load_checkpoint: {path} is not a valid checkpoint: ")):
        load_checkpoint(path, model=fresh_model, optimizer=fresh_optimizer, scheduler=fresh_scheduler)
    assert_same_tree(fresh_model.state_dict(), before, "model after a refused load")


def handmade_checkpoint(path, arrays: dict[str, bytes], rngs=None) -> None:
    """A checkpoint written entry by entry: a valid meta whose model is {"w": array_0}, and the
    given .npy entries (stored uncompressed), so that a test can plant what save never writes."""
    meta = {
        "format": "tinytorch-checkpoint",
        "version": 1,
        "epoch": 0,
        "model": {"dict": [["w", {"array": "array_0"}]]},
        "optimizer": {"dict": []},
        "scheduler": None,
        "rngs": {"dict": []} if rngs is None else rngs,
    }
    text = json.dumps(meta).encode("utf-8")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.npy", npy_bytes({"descr": "|u1", "fortran_order": False, "shape": (len(text),)}, text))
        for name, data in arrays.items():
            archive.writestr(f"{name}.npy", data)


def add_deflated_zeros(path, name: str, nbytes: int) -> None:
    """Append an entry `name` of `nbytes` zeros (a valid float64 .npy) deflated ~1000x, written 1 MiB at a time."""
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open(name, "w", force_zip64=True) as entry:
            entry.write(npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (nbytes // 8,)}, b""))
            for _ in range(nbytes // MiB):
                entry.write(bytes(MiB))


W = np.arange(32 * 32, dtype=np.float64).reshape(32, 32)  # 8 KiB: the one array the meta names
ZEROS = 16 * MiB  # deflated to ~16 KiB


@pytest.fixture
def unnamed_bomb(tmp_path):
    """A 25 KiB checkpoint that also holds an entry `junk` of 16 MiB of deflated zeros, which its meta never names."""
    path = tmp_path / "bomb.ckpt"
    handmade_checkpoint(path, {"array_0": npy_bytes(np.lib.format.header_data_from_array_1_0(W), W.tobytes())})
    add_deflated_zeros(path, "junk.npy", ZEROS)
    return path


@pytest.fixture
def named_bomb(tmp_path):
    """A 16 KiB checkpoint whose array_0, named by its meta, is 16 MiB of deflated zeros."""
    path = tmp_path / "bomb.ckpt"
    handmade_checkpoint(path, {})
    add_deflated_zeros(path, "array_0.npy", ZEROS)
    return path


# Reading allocates the arrays the meta names (W, 8 KiB, and the meta's few hundred bytes), each
# read through a buffer of its size: formula 2 · (8 KiB + 1 KiB), plus the default slack (64 KiB)
# for the zip's and the JSON's small objects. Reading the unnamed entry would cost 16 MiB.
@memory_budget(2 * (W.nbytes + KiB))
def test_step7_an_entry_the_meta_does_not_name_is_never_read(unnamed_bomb):
    saved = read_checkpoint(unnamed_bomb)
    assert np.array_equal(saved["model"]["w"], W) and saved["model"]["w"].dtype == W.dtype


# Formula: the meta read through a buffer of its size, 2 · 1 KiB, plus the default slack. The
# entry declares 16 MiB in a 16 KiB file: it must be refused before a byte of it is inflated.
@memory_budget(2 * KiB)
def test_step7_an_entry_declaring_more_bytes_than_the_file_holds_is_refused_unread(named_bomb):
    assert os.path.getsize(named_bomb) < ZEROS // 100
    with pytest.raises(ValueError, match=re.escape(f"load_checkpoint: {named_bomb} is not a valid checkpoint: ")):
        read_checkpoint(named_bomb)


@pytest.fixture(params=[2**25, 2**62], ids=["256 MiB", "2^65 bytes"])
def huge_shape(tmp_path, request):
    """A checkpoint whose array_0 declares `param` float64 elements over 8 bytes of data."""
    path = tmp_path / "huge.ckpt"
    header = {"descr": "<f8", "fortran_order": False, "shape": (request.param,)}
    handmade_checkpoint(path, {"array_0": npy_bytes(header, bytes(8))})
    return path


# Formula: the meta, 2 · 1 KiB, plus the default slack: the declared 256 MiB (which the process
# could allocate) must be refused before it is, and 2^65 bytes (which it could not) must not
# surface as a bare MemoryError.
@memory_budget(2 * KiB)
def test_step7_a_declared_shape_the_entry_does_not_hold_is_refused_before_allocating(huge_shape):
    with pytest.raises(ValueError, match=re.escape(f"load_checkpoint: {huge_shape} is not a valid checkpoint: ")):
        read_checkpoint(huge_shape)


def test_step7_a_handmade_checkpoint_reads_back(tmp_path):
    # The control for the three tests above: the same hand-made format, without the plant, loads.
    path = tmp_path / "plain.ckpt"
    handmade_checkpoint(path, {"array_0": npy_bytes(np.lib.format.header_data_from_array_1_0(W), W.tobytes())})
    saved = read_checkpoint(path)
    assert saved["epoch"] == 0 and saved["scheduler"] is None and saved["rngs"] == {}
    assert np.array_equal(saved["model"]["w"], W)


def test_step7_loading_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):  # unpickling this calls os.mkdir(marker)
            return (os.mkdir, (str(marker),))

    path = tmp_path / "evil.ckpt"
    write_npz(path, meta=np.array([Payload()], dtype=object))
    model, optimizer, _ = small_run(0)
    with pytest.raises(ValueError, match="is not a valid checkpoint"):
        load_checkpoint(path, model=model, optimizer=optimizer)
    assert not marker.exists()


def test_step7_a_missing_file_is_a_file_not_found_error(tmp_path):
    model, optimizer, _ = small_run(0)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nothing.npz", model=model, optimizer=optimizer)


def test_step7_a_checkpoint_of_another_model_gives_the_layers_errors_and_changes_nothing(rng, tmp_path):
    model, optimizer, _ = small_run(0)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    wider = Sequential(Linear(3, 5, rng=rng), ReLU(), Linear(5, 2, rng=rng))
    before = wider.state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict: 0.weight must have shape \(5, 3\), got \(4, 3\)"):
        load_checkpoint(path, model=wider, optimizer=AdamW(wider.parameters()))
    assert_same_tree(wider.state_dict(), before, "model after a refused load")
    shallower = Sequential(Linear(3, 2, rng=rng))
    with pytest.raises(KeyError, match="load_state_dict: state must hold only the model's parameters"):
        load_checkpoint(path, model=shallower, optimizer=AdamW(shallower.parameters()))


def test_step7_a_checkpoint_of_another_optimizer_is_refused_before_the_model_changes(tmp_path):
    model, optimizer, _ = small_run(0)  # AdamW
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    fresh_model = small_run(1)[0]
    before = fresh_model.state_dict()
    sgd = SGD(fresh_model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"hyperparameters must be \['lr', 'momentum', 'nesterov', 'weight_decay'\]"):
        load_checkpoint(path, model=fresh_model, optimizer=sgd)
    assert_same_tree(fresh_model.state_dict(), before, "model after a refused load")  # all or nothing
    assert (sgd.lr, sgd.state, sgd.step_count) == (0.1, {}, 0)


def test_step7_the_generators_and_the_schedule_must_match_the_checkpoint(tmp_path):
    model, optimizer, scheduler = small_run(0)
    path = tmp_path / "ckpt.npz"
    rngs = {"loader": np.random.default_rng(0), "dropout": np.random.default_rng(1)}
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=1, rngs=rngs)
    fresh = small_run(1)
    with pytest.raises(
        ValueError, match=r"load_checkpoint: rngs must have the saved names \['dropout', 'loader'\], got \['loader'\]"
    ):
        load_checkpoint(path, model=fresh[0], optimizer=fresh[1], scheduler=fresh[2], rngs={"loader": rngs["loader"]})
    with pytest.raises(
        ValueError, match=r"load_checkpoint: scheduler must match the checkpoint's \(CosineWithWarmup\), got None"
    ):
        load_checkpoint(path, model=fresh[0], optimizer=fresh[1], rngs=rngs)
    with pytest.raises(ValueError, match=r"scheduler must match the checkpoint's \(CosineWithWarmup\), got StepLR"):
        load_checkpoint(path, model=fresh[0], optimizer=fresh[1], scheduler=StepLR(fresh[1], 2), rngs=rngs)


# --- step 7: a refused load changes nothing ---------------------------------------------------


def run_state(model, optimizer, scheduler, rngs) -> tuple:
    """Everything a load may change, as plain values: weights, optimizer, lr, schedule, generators."""
    generators = {name: rng.bit_generator.state for name, rng in rngs.items()}
    return model.state_dict(), optimizer.state_dict(), optimizer.lr, scheduler.state_dict(), generators


def fail_once(method, error: BaseException):
    """`method`, except that its first call raises `error` (later calls, e.g. to put a part back, work)."""
    calls = []

    def wrapper(*args, **kwds):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return method(*args, **kwds)

    return wrapper


def with_mt19937_loader(path, run):
    loader, rngs = run[3], run[4]
    loader.rng = np.random.Generator(np.random.MT19937(3))  # another kind of bit generator
    return {**rngs, "loader": loader.rng}


def editing(edit):
    def case(path, run):
        edit_meta(path, edit)
        return run[4]

    return case


def patching(attribute: str, error: BaseException):
    def case(path, run):
        owner = run[1] if attribute == "optimizer" else run[2]
        owner.load_state_dict = fail_once(owner.load_state_dict, error)
        return run[4]

    return case


REFUSED_LOADS = {
    "a generator of another kind": (with_mt19937_loader, ValueError, "rngs['loader'] must hold a state of its MT19937"),
    "a malformed generator state": (
        editing(lambda meta: put_packed(packed(meta["rngs"], "loader"), "state", "nonsense")),
        ValueError,
        "rngs['loader'] must hold a state of its PCG64",
    ),
    "a schedule state its constructor refuses": (
        editing(lambda meta: put_packed(meta["scheduler"], "min_lr", -1.0)),
        ValueError,
        "CosineWithWarmup: min_lr must be in",
    ),
    "a schedule step count below zero": (
        editing(lambda meta: put_packed(meta["scheduler"], "step_count", -3)),
        ValueError,
        "step_count must be >= 0, got -3",
    ),
    "an optimizer state that is not a dict": (
        editing(lambda meta: put_packed(packed(meta["optimizer"], "state"), 0, 5)),
        TypeError,
        "load_state_dict: state of parameter 0 must be a dict",
    ),
    "a weight of another parameter's shape": (
        editing(lambda meta: put_packed(meta["model"], "0.weight", packed(meta["model"], "0.bias"))),
        ValueError,
        r"load_state_dict: 0.weight must have shape (16, 4), got (16,)",
    ),
    "the model's generator not among rngs": (
        lambda path, run: {**run[4], "dropout": np.random.default_rng(9)},
        ValueError,
        "rngs must hold the generator of every module that draws, got none for 2 (Dropout)",
    ),
    "an optimizer load failing with a TypeError": (
        patching("optimizer", TypeError("disk gone")),
        TypeError,
        "disk gone",
    ),
    "a schedule load interrupted by Ctrl-C": (patching("scheduler", KeyboardInterrupt()), KeyboardInterrupt, ""),
}


@pytest.mark.parametrize("case", REFUSED_LOADS, ids=list(REFUSED_LOADS))
def test_step7_a_refused_load_leaves_model_optimizer_schedule_and_generators_unchanged(rng, tmp_path, case):
    make_case, error, message = REFUSED_LOADS[case]
    x, y = rng.standard_normal((24, 4)).astype(np.float32), rng.integers(0, 3, 24)
    saved_run = make_run(1, x, y)
    train(saved_run, 1)
    path = tmp_path / "ckpt.npz"
    model, optimizer, scheduler, _, rngs = saved_run
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=1, rngs=rngs)
    target = make_run(2, x, y)  # other seeds: every part differs from the file's
    train(target, 1)
    rngs = make_case(path, target)
    model, optimizer, scheduler = target[:3]
    before = run_state(model, optimizer, scheduler, rngs)
    with pytest.raises(error, match=re.escape(message) if message else None):
        load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, rngs=rngs)
    assert_same_tree(run_state(model, optimizer, scheduler, rngs), before, "the run after a refused load")
    # Control: the file itself was fine where the case did not touch it; the same target loads it.
    if case.startswith(("an optimizer load", "a schedule load")):
        assert load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, rngs=rngs) == 1
        assert_same_tree(model.state_dict(), saved_run[0].state_dict(), "model after the load that worked")
