"""How the milestones that classify digits train: Adam with cosine decay to 0, epoch by epoch.

The optimizer and the loss can be swapped for ones with the same interface (mlperf fine-tunes
with kata 18's ``InPlaceAdam`` and fused ``softmax_cross_entropy``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tinytorch.autograd import Tensor
from tinytorch.dataloader import DataLoader, TensorDataset
from tinytorch.layers import Module
from tinytorch.losses import cross_entropy
from tinytorch.optimizers import Adam, Optimizer
from tinytorch.training import CosineWithWarmup, evaluate, train_epoch


@dataclass
class Fitted:
    """What one training run measured."""

    losses: list[float]  # the training loss of each epoch
    accuracies: list[float]  # the test accuracy after each epoch (for the plot)
    test_loss: float
    accuracy: float
    seconds: float  # training only: the evaluations after each epoch are not counted
    batches: int  # per epoch


def fit(
    model: Module,
    train_set: TensorDataset,
    test_set: TensorDataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    optimizer: Callable[..., Optimizer] = Adam,
    loss: Callable[[Tensor, Tensor], Tensor] = cross_entropy,
) -> Fitted:
    """Train ``model`` with ``loss``, ``optimizer(parameters, lr=lr)`` decayed to 0 along a cosine,
    shuffled batches seeded by ``seed``; the test set is scored with 05's ``cross_entropy``."""
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    test_loader = DataLoader(test_set, batch_size=len(test_set))
    optimizer = optimizer(model.parameters(), lr=lr)
    steps = max(1, epochs * len(train_loader))  # a schedule needs >= 1 step, even for --epochs 0
    scheduler = CosineWithWarmup(optimizer, warmup_steps=0, total_steps=steps)
    losses, accuracies, elapsed = [], [], 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        losses.append(train_epoch(model, train_loader, loss, optimizer, scheduler=scheduler))
        elapsed += time.perf_counter() - start
        accuracies.append(evaluate(model, test_loader, cross_entropy)[1])
    test_loss, accuracy = evaluate(model, test_loader, cross_entropy)
    return Fitted(losses, accuracies, test_loss, accuracy, elapsed, len(train_loader))
