"""1969: Minsky & Papert show that one layer cannot learn XOR, and a hidden layer can.

XOR is 1 when exactly one of its two inputs is 1. No line separates {(0, 1), (1, 0)} from
{(0, 0), (1, 1)}, so a single layer (a linear classifier) gets at most 3 of the 4 points right,
however long it trains. One hidden layer bends the space: its tanh units make features in
which the two classes can be split, and the network gets all 4.

Both models are trained the same way, with your framework: ``Linear``, ``Sequential`` and
``Tanh`` (04), ``cross_entropy`` (05), ``Adam`` (06), ``train_epoch`` and ``evaluate`` (07).
The whole data set is one batch, so an epoch is one step.

Run: ``python -m milestones xor [--seed N] [--epochs N] [--plot FILE]``.
"""

from __future__ import annotations

import time

import numpy as np

from milestones.report import Curve, Result, Target, parameters, percent, seconds
from tinytorch.autograd import Tensor
from tinytorch.layers import Linear, Module, Sequential, Tanh, count_parameters, parameter_bytes
from tinytorch.losses import cross_entropy
from tinytorch.optimizers import Adam
from tinytorch.training import evaluate, train_epoch

EPOCHS = 300
LEARNING_RATE = 0.05
HIDDEN = 8

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
LABELS = np.array([0, 1, 1, 0])  # (4,) XOR of the two inputs


def fit(model: Module, epochs: int) -> tuple[list[float], float, float, float]:
    """Train on the four points; returns (loss per epoch, final loss, accuracy, seconds)."""
    batches = [(Tensor(INPUTS), Tensor(LABELS))]  # one batch: the whole data set
    optimizer = Adam(model.parameters(), lr=LEARNING_RATE)
    start = time.perf_counter()
    losses = [train_epoch(model, batches, cross_entropy, optimizer) for _ in range(epochs)]
    elapsed = time.perf_counter() - start
    loss, accuracy = evaluate(model, batches, cross_entropy)
    return losses, loss, accuracy, elapsed


def run(seed: int = 0, epochs: int | None = None) -> Result:
    """Train the single layer and the MLP alike for ``epochs`` (default EPOCHS), then check both."""
    epochs = EPOCHS if epochs is None else epochs
    rng = np.random.default_rng(seed)
    single = Linear(2, 2, rng=rng)  # two logits, one per class: still one linear layer
    mlp = Sequential(Linear(2, HIDDEN, rng=rng), Tanh(), Linear(HIDDEN, 2, rng=rng))

    single_losses, single_loss, single_accuracy, single_time = fit(single, epochs)
    mlp_losses, mlp_loss, mlp_accuracy, mlp_time = fit(mlp, epochs)

    return Result(
        title="1969 xor: one layer cannot learn XOR, a hidden layer can",
        figures=[
            ("data", "the 4 points of XOR: (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0"),
            ("training", f"{epochs} full-batch epochs each, Adam lr {LEARNING_RATE}, cross-entropy (seed {seed})"),
            ("single layer", "Linear(2, 2)"),
            ("  parameters", parameters(count_parameters(single), parameter_bytes(single))),
            ("  final loss", f"{single_loss:.3f} (log 2 = 0.693: no better than a coin)"),
            ("  accuracy", f"{percent(single_accuracy)} (no line separates XOR: at most 3 of 4)"),
            ("  training time", seconds(single_time)),
            ("hidden layer", f"Linear(2, {HIDDEN}) -> Tanh -> Linear({HIDDEN}, 2)"),
            ("  parameters", parameters(count_parameters(mlp), parameter_bytes(mlp))),
            ("  final loss", f"{mlp_loss:.3g}"),
            ("  accuracy", percent(mlp_accuracy)),
            ("  training time", seconds(mlp_time)),
        ],
        targets=[
            Target("single layer accuracy <= 75%", percent(single_accuracy), single_accuracy <= 0.75),
            Target("hidden layer accuracy = 100%", percent(mlp_accuracy), mlp_accuracy == 1.0),
        ],
        curves=[Curve("training loss", "epoch", {"single layer": single_losses, "hidden layer": mlp_losses})],
    )
