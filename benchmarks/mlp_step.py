"""One MLP training step: the framework next to the same step written by hand in NumPy.

The step: forward (Linear, ReLU, Linear), mean cross-entropy from logits, backward, one Adam
step, zero_grad. The framework runs it with ``tinytorch.layers``, ``tinytorch.losses`` and
``tinytorch.optimizers``; the hand-written twin does the same arithmetic on raw arrays (the
gradients written out, Adam in place), in the same dtype, with the same BLAS: the floor for a
framework on NumPy. The ratio framework / NumPy is the framework's overhead.

Before timing, the script checks once, in float64, that both compute the same loss, gradients
and parameters over a few steps, so that the floor is honest (the hand-written step is not
cheaper by doing less).

Run from the repository root: ``TINYTORCH_IMPL=solutions python -m benchmarks.mlp_step [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial

import numpy as np

from benchmarks import timing
from tinytorch.autograd import Tensor
from tinytorch.layers import Linear, ReLU, Sequential
from tinytorch.losses import cross_entropy
from tinytorch.optimizers import Adam
from tinytorch.options import at_least

LEARNING_RATE = 1e-3
BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass(frozen=True)
class Shape:
    """An MLP ``inputs -> hidden -> classes`` trained on batches of ``batch`` rows."""

    inputs: int
    hidden: int
    classes: int
    batch: int
    target: float  # the target for framework / NumPy

    @property
    def name(self) -> str:
        return f"{self.inputs}-{self.hidden}-{self.classes}"


SHAPES = (Shape(784, 256, 10, batch=128, target=1.3), Shape(64, 128, 10, batch=64, target=2.5))


def batch(shape: Shape, dtype, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (B, inputs) of ``dtype`` and class indices (B,)."""
    x = rng.standard_normal((shape.batch, shape.inputs)).astype(dtype)
    target = rng.integers(0, shape.classes, size=shape.batch)
    return x, target


class FrameworkStep:
    """The step with the framework: ``model(x)``, ``cross_entropy``, ``backward``, ``Adam.step``, ``zero_grad``."""

    def __init__(self, shape: Shape, dtype, rng: np.random.Generator) -> None:
        self.model = Sequential(
            Linear(shape.inputs, shape.hidden, rng=rng, dtype=dtype),
            ReLU(),
            Linear(shape.hidden, shape.classes, rng=rng, dtype=dtype),
        )
        self.optimizer = Adam(self.model.parameters(), lr=LEARNING_RATE, betas=BETAS, eps=EPS)

    def arrays(self) -> list[np.ndarray]:
        """The parameters' storage: W1 (H, I), b1 (H,), W2 (C, H), b2 (C,)."""
        return [p.data for p in self.model.parameters()]

    def __call__(self, x: Tensor, target: np.ndarray) -> Tensor:
        loss = cross_entropy(self.model(x), target)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss


class NumpyStep:
    """The same step by hand on raw arrays: what a NumPy framework cannot beat.

    Parameters as ``Linear`` keeps them (weight (out, in), ``y = x @ Wᵀ + b``), PyTorch's Adam,
    every gradient a NumPy expression. It is written to be cheap, so that the floor is low: it
    computes nothing the step does not need (no gradient for the input batch), works in place
    wherever NumPy allows, and Adam reuses one scratch array per parameter from step to step.
    """

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.params = [array.copy() for array in arrays]  # W1, b1, W2, b2: its own copy to train
        self.exp_avg = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.steps = 0
        self.grads: list[np.ndarray] = []

    def forward_backward(self, x: np.ndarray, target: np.ndarray) -> float:
        """The loss; sets ``self.grads`` to d loss / d each parameter."""
        w1, b1, w2, b2 = self.params
        rows = np.arange(len(target))
        pre = x @ w1.T  # (B, H)
        pre += b1
        hidden = np.maximum(pre, 0)  # (B, H)
        logits = hidden @ w2.T  # (B, C)
        logits += b2
        logits -= logits.max(axis=1, keepdims=True)  # NOTE: max subtracted, so every exp is <= 1
        probs = np.exp(logits)  # (B, C)
        sums = probs.sum(axis=1, keepdims=True)  # (B, 1)
        loss = float(np.mean(np.log(sums[:, 0]) - logits[rows, target]))
        probs /= sums  # softmax
        probs[rows, target] -= 1
        probs /= len(target)  # d mean loss / d logits: (softmax - one_hot) / B
        grad_w2 = probs.T @ hidden  # (C, H)
        grad_b2 = probs.sum(axis=0)  # (C,)
        grad_hidden = probs @ w2  # (B, H)
        grad_hidden *= pre > 0  # relu's gradient, in place
        grad_w1 = grad_hidden.T @ x  # (H, I)
        grad_b1 = grad_hidden.sum(axis=0)  # (H,)
        self.grads = [grad_w1, grad_b1, grad_w2, grad_b2]
        return loss

    def adam(self) -> None:
        """PyTorch's Adam on every parameter, in place, with bias correction.

        ``lr/(1 - β1^t) · m / (√v/√(1 - β2^t) + ε)`` is computed as
        ``(lr·√(1 - β2^t)/(1 - β1^t)) · m / (√v + ε·√(1 - β2^t))``: the same number, one pass
        fewer over the parameter.
        """
        self.steps += 1
        beta1, beta2 = BETAS
        root_correction = (1 - beta2**self.steps) ** 0.5
        step_size = LEARNING_RATE * root_correction / (1 - beta1**self.steps)
        for p, g, m, v, s in zip(self.params, self.grads, self.exp_avg, self.exp_avg_sq, self.scratch, strict=True):
            m *= beta1
            np.multiply(g, 1 - beta1, out=s)
            m += s  # m = β1·m + (1 - β1)·g
            v *= beta2
            np.multiply(g, 1 - beta2, out=s)
            s *= g
            v += s  # v = β2·v + (1 - β2)·g²
            np.sqrt(v, out=s)
            s += EPS * root_correction
            np.divide(m, s, out=s)
            s *= step_size
            p -= s

    def __call__(self, x: np.ndarray, target: np.ndarray) -> float:
        loss = self.forward_backward(x, target)
        self.adam()
        self.grads = []  # zero_grad: let go of the gradients
        return loss


def check_same_update(shape: Shape, steps: int = 3, twin: type[NumpyStep] = NumpyStep) -> float:
    """Run both steps ``steps`` times in float64 from the same start; the largest relative difference.

    Compared after every step: the loss, every gradient (before the update: Adam's first step
    is nearly lr·sign(g), so parameters alone would hide a wrong gradient magnitude) and every
    parameter. ``twin`` is the hand-written step to check (a test passes a broken one).
    """
    rng = np.random.default_rng(1)
    framework = FrameworkStep(shape, np.float64, rng)
    numpy_step = twin(framework.arrays())
    x, target = batch(shape, np.float64, rng)
    worst = 0.0
    for _ in range(steps):
        loss = cross_entropy(framework.model(Tensor(x)), target)
        loss.backward()
        grads = [p.grad for p in framework.model.parameters()]
        framework.optimizer.step()
        framework.optimizer.zero_grad()
        hand_loss = numpy_step.forward_backward(x, target)
        hand_grads = numpy_step.grads
        numpy_step.adam()
        pairs = [(loss.numpy(), np.asarray(hand_loss))]
        pairs += list(zip(grads, hand_grads, strict=True))
        pairs += list(zip(framework.arrays(), numpy_step.params, strict=True))
        for theirs, ours in pairs:
            scale = max(float(np.max(np.abs(ours))), 1e-300)
            worst = max(worst, float(np.max(np.abs(theirs - ours))) / scale)
    return worst


def compare(shape: Shape, ours: list[float], floor: list[float]) -> tuple[str, float]:
    """A table row: both medians with their quartiles and the ratio; and the ratio's median."""
    ratio = timing.Spread.of(timing.ratios(ours, floor))
    ours_text, floor_text = timing.Spread.of(ours).format(1e6), timing.Spread.of(floor).format(1e6)
    row = (
        f"{shape.name:<11} {shape.batch:>5}  {ours_text:>24}  {floor_text:>24}  {ratio.format(digits=2, unit='x'):>20}"
    )
    return row, ratio.median


def verdict(shape: Shape, ratio: float) -> str:
    """``"<= 1.3x met"`` or ``"<= 1.3x missed"``: the issue's target for this shape."""
    return f"<= {shape.target}x {'met' if ratio <= shape.target else 'missed'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mlp_step", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a second or two in all: figures too rough to quote")
    parser.add_argument(
        "--repeats", type=at_least(1), default=None, help="samples per candidate (default 41; --quick: 5)"
    )
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"), help="default float32")
    arguments = parser.parse_args(argv)
    repeats = arguments.repeats or (5 if arguments.quick else 41)
    block_seconds, warmup_seconds = (0.01, 0.05) if arguments.quick else (0.05, 0.5)
    dtype = np.dtype(arguments.dtype)
    title = f"MLP training step: forward, cross_entropy, backward, Adam, zero_grad ({dtype})"
    for line in timing.machine_report(title, ("autograd", "layers", "losses", "optimizers")):
        print(line)

    try:
        checks = {shape.name: check_same_update(shape) for shape in SHAPES}
    except NotImplementedError as error:
        print(timing.not_written(error))
        return 1
    for name, difference in checks.items():
        agreement = "same update" if difference < 1e-10 else "DIFFERENT: the NumPy floor is not this step"
        print(f"check {name:<11} float64, 3 steps: loss, gradients, parameters agree to {difference:.1e} ({agreement})")
    if max(checks.values()) >= 1e-10:
        return 1

    print(f"timing: median [quartiles] of {repeats} interleaved samples, microseconds per step")
    header = f"{'shape':<11} {'batch':>5}  {'framework':>24}  {'numpy by hand':>24}  {'framework / numpy':>20}"
    print(f"wall clock (time.perf_counter)\n{header}  target")
    cpu_rows = []
    for shape in SHAPES:
        rng = np.random.default_rng(0)
        framework = FrameworkStep(shape, dtype, rng)
        numpy_step = NumpyStep(framework.arrays())
        x, target = batch(shape, dtype, rng)
        samples = timing.interleaved(
            {"framework": partial(framework, Tensor(x), target), "numpy": partial(numpy_step, x, target)},
            repeats,
            block_seconds,
            warmup_seconds,
        )
        row, ratio = compare(shape, samples["framework"].wall, samples["numpy"].wall)
        print(f"{row}  {verdict(shape, ratio)}")
        cpu_row, cpu_ratio = compare(shape, samples["framework"].cpu, samples["numpy"].cpu)
        cpu_rows.append(f"{cpu_row}  {verdict(shape, cpu_ratio)}")
        timing.flush()
    timing.print_cpu_table(f"{header}  target", cpu_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
