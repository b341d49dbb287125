"""1998: LeCun, Bottou, Bengio & Haffner: a convolutional network reads digits wherever they are.

Every 8×8 digit of the shipped set is placed at a random spot of a blank 16×16 canvas (the
spots seeded, drawn afresh at each run: nothing new is shipped). A digit's strokes then land on
different pixels from one image to the next, so pixels alone say little. A small CNN shares its
3×3 kernels across every position and ends in a global max-pool, so it finds a stroke wherever
it is; an MLP with more than three times its parameters, trained on the very same pixels,
learns each position apart and stays far behind on digits placed where it has seen few.

Built with: ``Conv2d``, ``BatchNorm2d``, ``MaxPool2d`` and ``Flatten`` (09), ``Linear``,
``ReLU`` and ``Sequential`` (04), ``cross_entropy`` (05), ``Adam`` (06), ``train_epoch``,
``evaluate`` and ``CosineWithWarmup`` (07), and from 08 ``digits``, ``TensorDataset``,
``DataLoader`` and ``RandomCrop``: an 8×8 digit padded with 8 blank pixels on each side and cut
to 16×16 at a random place is the digit at a random spot of the canvas.

Run: ``python -m milestones cnn [--seed N] [--epochs N] [--plot FILE]``.
"""

from __future__ import annotations

import numpy as np

from milestones.fit import fit
from milestones.report import Curve, Result, Target, count, parameters, percent, seconds
from tinytorch.convolution import BatchNorm2d, Conv2d, Flatten, MaxPool2d
from tinytorch.dataloader import RandomCrop, TensorDataset, digits
from tinytorch.layers import Linear, ReLU, Sequential, count_parameters, parameter_bytes

DIGIT = 8  # the shipped digits are 8×8
CANVAS = 16  # each is placed on a 16×16 canvas: its corner at 0..8 each way, 81 spots
EPOCHS = 15  # the CNN's; --epochs N changes it
MLP_EPOCHS_PER_CNN_EPOCH = 4  # the MLP's epochs are cheap: it gets 4× as many, so time is not what holds it back
BATCH_SIZE = 32
CNN_LEARNING_RATE = 3e-3
MLP_LEARNING_RATE = 1e-2
MLP_HIDDEN = 170  # 256·170 + 170 + 170·10 + 10 = 45,400 parameters: > 3× the CNN's 14,538
TARGET_ACCURACY = 0.95
TARGET_SECONDS = 60.0
TARGET_RATIO = 3  # the MLP must have at least this many times the CNN's parameters
TARGET_GAP = 0.10  # and stay at least this far (10 points) below the CNN


def canvases(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 64) digits in [0, 1] -> (N, 1, 16, 16) float32 canvases, each digit at a random spot.

    ``RandomCrop(16, padding=8)`` of an 8×8 digit is a 16×16 window of the digit padded with 8
    zeros on each side: the whole digit, at a corner drawn uniformly from 0..8 in each direction.
    """
    place = RandomCrop(CANVAS, padding=CANVAS - DIGIT)
    squares = images.reshape(-1, 1, DIGIT, DIGIT)  # (N, 1, 8, 8), channels first
    return np.stack([place(square, rng) for square in squares])  # (N, 1, 16, 16)


def prepare(seed: int) -> tuple[TensorDataset, TensorDataset]:
    """The training and test digits on their canvases, the spots drawn from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    train_images, train_labels = digits("train").arrays  # (1437, 64) float32 in [0, 1], (1437,)
    test_images, test_labels = digits("test").arrays  # (360, 64), (360,)
    train_set = TensorDataset(canvases(train_images, rng), train_labels)
    test_set = TensorDataset(canvases(test_images, rng), test_labels)
    return train_set, test_set


def flat(dataset: TensorDataset) -> TensorDataset:
    """The same canvases as rows of 256 pixels, for the MLP: the same pixels, no copy (a view)."""
    images, labels = dataset.arrays
    return TensorDataset(images.reshape(len(images), CANVAS * CANVAS), labels)


def small_cnn(rng: np.random.Generator) -> Sequential:
    """Three 3×3 convolutions, each normalized, rectified and max-pooled; the last pool is global."""
    return Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng),  # (B, 16, 16, 16)
        BatchNorm2d(16),
        ReLU(),
        MaxPool2d(2),  # (B, 16, 8, 8)
        Conv2d(16, 32, 3, padding=1, rng=rng),  # (B, 32, 8, 8)
        BatchNorm2d(32),
        ReLU(),
        MaxPool2d(2),  # (B, 32, 4, 4)
        Conv2d(32, 32, 3, padding=1, rng=rng),  # (B, 32, 4, 4)
        BatchNorm2d(32),
        ReLU(),
        MaxPool2d(4),  # (B, 32, 1, 1): the strongest response anywhere, whatever the spot
        Flatten(),  # (B, 32)
        Linear(32, 10, rng=rng),  # (B, 10)
    )


def mlp(rng: np.random.Generator) -> Sequential:
    """One hidden layer on the 256 pixels."""
    return Sequential(Linear(CANVAS * CANVAS, MLP_HIDDEN, rng=rng), ReLU(), Linear(MLP_HIDDEN, 10, rng=rng))


def run(seed: int = 0, epochs: int | None = None) -> Result:
    """Train the CNN for ``epochs`` (default EPOCHS) and the MLP for 4× as many, then check both."""
    epochs = EPOCHS if epochs is None else epochs
    mlp_epochs = MLP_EPOCHS_PER_CNN_EPOCH * epochs
    train_set, test_set = prepare(seed)
    rng = np.random.default_rng(seed)
    cnn_model, mlp_model = small_cnn(rng), mlp(rng)

    cnn_fit = fit(cnn_model, train_set, test_set, epochs=epochs, lr=CNN_LEARNING_RATE, batch_size=BATCH_SIZE, seed=seed)
    mlp_fit = fit(
        mlp_model,
        flat(train_set),
        flat(test_set),
        epochs=mlp_epochs,
        lr=MLP_LEARNING_RATE,
        batch_size=BATCH_SIZE,
        seed=seed,
    )
    cnn_count, mlp_count = count_parameters(cnn_model), count_parameters(mlp_model)
    gap = cnn_fit.accuracy - mlp_fit.accuracy
    right = round(cnn_fit.accuracy * len(test_set)), round(mlp_fit.accuracy * len(test_set))
    return Result(
        title="1998 cnn: a convolutional network reads digits wherever they are",
        figures=[
            ("data", f"{count(len(train_set))} training and {len(test_set)} test digits, each 8×8 digit"),
            ("", f"at a random spot of a 16×16 canvas (81 spots; seed {seed})"),
            ("training", f"batches of {BATCH_SIZE}, Adam with cosine decay to 0, seed {seed}"),
            ("CNN", "3 × [Conv2d 3×3 -> BatchNorm2d -> ReLU -> MaxPool2d], 16-32-32 channels,"),
            ("", "the last pool global (4×4 -> 1×1), Flatten, Linear(32, 10)"),
            ("  parameters", parameters(cnn_count, parameter_bytes(cnn_model))),
            ("  training", f"{epochs} epochs, lr {CNN_LEARNING_RATE}"),
            ("  training loss", f"{cnn_fit.losses[-1]:.4f} (last epoch)" if cnn_fit.losses else "not trained"),
            ("  test accuracy", f"{percent(cnn_fit.accuracy)} ({right[0]} of {len(test_set)})"),
            ("  training time", seconds(cnn_fit.seconds)),
            ("MLP", f"Linear(256, {MLP_HIDDEN}) -> ReLU -> Linear({MLP_HIDDEN}, 10), on the same pixels"),
            (
                "  parameters",
                f"{parameters(mlp_count, parameter_bytes(mlp_model))}: {mlp_count / cnn_count:.2f}× the CNN's",
            ),
            ("  training", f"{mlp_epochs} epochs, lr {MLP_LEARNING_RATE}"),
            ("  training loss", f"{mlp_fit.losses[-1]:.4f} (last epoch)" if mlp_fit.losses else "not trained"),
            ("  test accuracy", f"{percent(mlp_fit.accuracy)} ({right[1]} of {len(test_set)})"),
            ("  training time", seconds(mlp_fit.seconds)),
        ],
        targets=[
            Target(
                f"CNN test accuracy >= {TARGET_ACCURACY:.0%}",
                percent(cnn_fit.accuracy),
                cnn_fit.accuracy >= TARGET_ACCURACY,
            ),
            Target(
                f"CNN training time <= {TARGET_SECONDS:.0f} s",
                seconds(cnn_fit.seconds),
                cnn_fit.seconds <= TARGET_SECONDS,
            ),
            Target(
                f"MLP parameters >= {TARGET_RATIO}× the CNN's",
                f"{mlp_count / cnn_count:.2f}×",
                mlp_count >= TARGET_RATIO * cnn_count,
            ),
            Target(
                f"MLP accuracy <= CNN's - {100 * TARGET_GAP:.0f} points",
                f"{100 * gap:.2f} below",
                gap >= TARGET_GAP - 1e-9,  # accuracies are multiples of 1/360: no rounding at the boundary
            ),
        ],
        curves=[
            Curve("training loss", "epoch", {"CNN": cnn_fit.losses, "MLP": mlp_fit.losses}),
            Curve("test accuracy", "epoch", {"CNN": cnn_fit.accuracies, "MLP": mlp_fit.accuracies}),
        ],
    )
