"""1958: Rosenblatt's perceptron finds a line between two classes of points.

No gradients, no loss: the perceptron looks at one point at a time and, only when it gets the
point wrong, moves its weights towards it (``w += lr·y·x``). If some line separates the two
classes with a margin γ, Novikoff (1962) proved it makes at most (R/γ)² mistakes in all, R being
the largest |x|: then it stops making mistakes, and every point is right.

Run: ``python -m milestones perceptron [--seed N] [--epochs N] [--plot FILE]``.
"""

from __future__ import annotations

import time

import numpy as np

from milestones.report import Curve, Result, Target, count, parameters, percent, seconds
from tinytorch.autograd import Tensor

POINTS = 100
MARGIN = 0.1  # no point lies closer than this to the true line
MAX_EPOCHS = 100
LEARNING_RATE = 0.5  # w starts at 0, so the rate only scales w: no prediction depends on it


def make_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``POINTS`` points in [-1, 1]² labelled ±1 by a random line, none within ``MARGIN`` of it.

    Returns features (N, 3) float32, each point with a constant 1 appended (the bias is then
    the third weight), labels (N,) float32 in {-1, +1}, and the true line's weights (3,).
    """
    angle = rng.uniform(0, 2 * np.pi)
    true_w = np.array([np.cos(angle), np.sin(angle), rng.uniform(-0.3, 0.3)])  # unit normal, then the bias
    candidates = rng.uniform(-1, 1, size=(10 * POINTS, 2))
    candidates = np.hstack([candidates, np.ones((len(candidates), 1))])  # (10N, 3)
    distance = candidates @ true_w  # signed distance to the line: its normal has length 1
    points = candidates[np.abs(distance) >= MARGIN][:POINTS]  # (N, 3)
    labels = np.sign(points @ true_w)  # (N,)
    return points.astype(np.float32), labels.astype(np.float32), true_w


def novikoff_bound(points: np.ndarray, labels: np.ndarray, true_w: np.ndarray) -> float:
    """(R/γ)²: R the largest |x|, γ the smallest margin y·(u·x) for u = true_w / |true_w|."""
    radius = np.linalg.norm(points, axis=1).max()
    gamma = (labels * (points @ true_w)).min() / np.linalg.norm(true_w)
    return float((radius / gamma) ** 2)


def run(seed: int = 0, epochs: int | None = None) -> Result:
    """Run Rosenblatt's rule until an epoch has no mistake (at most ``epochs``, default MAX_EPOCHS)."""
    rng = np.random.default_rng(seed)
    points, labels, true_w = make_data(rng)
    x, y = Tensor(points), Tensor(labels)  # (N, 3), (N,)
    w = Tensor(np.zeros(3, dtype=np.float32))  # the perceptron's weights: two slopes and a bias

    max_epochs = MAX_EPOCHS if epochs is None else epochs
    mistakes_per_epoch = []
    start = time.perf_counter()
    for _ in range(max_epochs):
        mistakes = 0
        for i in range(len(labels)):
            score = (w * x[i]).sum()  # w·x, a 0-d Tensor
            if float((score * y[i]).numpy()) <= 0:  # wrong side of the line (or on it)
                w = w + x[i] * y[i] * LEARNING_RATE  # Rosenblatt's rule: move towards the point
                mistakes += 1
        mistakes_per_epoch.append(mistakes)
        if mistakes == 0:  # a whole epoch without a mistake: nothing will ever change again
            break
    elapsed = time.perf_counter() - start

    scores = (x @ w.reshape(3, 1)).numpy()[:, 0]  # (N,)
    accuracy = float(np.mean(np.where(scores > 0, 1.0, -1.0) == labels))
    converged = bool(mistakes_per_epoch) and mistakes_per_epoch[-1] == 0
    bound = novikoff_bound(points, labels, true_w)
    return Result(
        title="1958 perceptron: Rosenblatt's perceptron learns a line",
        figures=[
            ("data", f"{POINTS} points in [-1, 1]², separable with margin {MARGIN} (seed {seed})"),
            ("model", "sign(w1·x1 + w2·x2 + b)"),
            ("parameters", parameters(w.size, w.nbytes)),
            ("epochs", f"{len(mistakes_per_epoch)} (the last one without a mistake)" if converged else "not converged"),
            ("mistakes", f"{count(sum(mistakes_per_epoch))} in all (Novikoff's bound (R/γ)² = {bound:,.0f})"),
            ("accuracy", f"{percent(accuracy)} of the training points"),
            ("training time", seconds(elapsed)),
        ],
        targets=[
            Target("training accuracy = 100%", percent(accuracy), accuracy == 1.0),
            Target(f"converges in <= {max_epochs} epochs", f"{len(mistakes_per_epoch)} epochs", converged),
            Target("mistakes <= Novikoff's bound", count(sum(mistakes_per_epoch)), sum(mistakes_per_epoch) <= bound),
        ],
        curves=[Curve("mistakes per epoch", "epoch", {"perceptron": mistakes_per_epoch})],
    )
