# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""05 losses: how wrong a prediction is, as one differentiable number.

Three losses, as PyTorch names them: ``mse_loss`` for regression, ``binary_cross_entropy`` for
yes/no questions and ``cross_entropy`` for choosing one of C classes. The last two take
*logits* (raw scores, any real number), never probabilities: from logits they can be written
so that no exponential overflows and no logarithm sees 0.

Two ways to make a loss differentiable live here. ``mse_loss`` is a composition of autograd
operations, and the engine derives its gradient. The cross-entropies are ``Function``
subclasses with a hand-written backward: the gradient of a fused loss is simpler than the
chain of its parts (``softmax - one_hot``), and it can be computed without ever building the
one-hot matrix, a (B, C) array of zeros that only says "which class".

Every loss computes one loss per element (or per row), then reduces it as ``reduction`` says:
``"mean"`` (the default), ``"sum"`` or ``"none"``.

Values are not checked: a NaN in the inputs gives a NaN loss, as in PyTorch (kata 07's loop
stops on a loss that is not finite). Logits must be finite: +inf gives NaN.
"""

from __future__ import annotations

import numpy as np

from tinytorch import activations
from tinytorch import tensor as base
from tinytorch.autograd import Function, Tensor
from tinytorch.tensor import type_name

REDUCTIONS = ("mean", "sum", "none")


def check_pair(op: str, first_name: str, first, second_name: str, second) -> None:
    """Given: raise unless both are floating-point Tensors of the same shape and dtype.

    Example messages: ``"mse_loss: target must be a Tensor, got ndarray"``,
    ``"mse_loss: prediction must be floating-point, got int64"``,
    ``"mse_loss: prediction and target must have the same shape, got (3, 4) and (4,)"``,
    ``"mse_loss: prediction and target must have the same dtype, got float32 and float64"``.
    """
    for name, x in ((first_name, first), (second_name, second)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type_name(x)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating-point, got {x.dtype}")
    if first.shape != second.shape:
        raise ValueError(
            f"{op}: {first_name} and {second_name} must have the same shape, got {first.shape} and {second.shape}"
        )
    if first.dtype != second.dtype:
        raise TypeError(
            f"{op}: {first_name} and {second_name} must have the same dtype, got {first.dtype} and {second.dtype}"
        )


def check_class_indices(op: str, logits, target) -> np.ndarray:
    """Given: check (B, C) floating-point logits and (B,) integer class indices; return the indices.

    ``target`` may be an integer ndarray or an integer Tensor; the indices come back as an
    ndarray (shared, not copied). Example messages:
    ``"cross_entropy: logits must have shape (B, C) with C >= 1, got (3,)"``,
    ``"cross_entropy: target must be an integer array of class indices, got float64"``,
    ``"cross_entropy: target must have shape (4,), got (4, 1)"``,
    ``"cross_entropy: target must be in [0, 10), got 12"``.
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"{op}: logits must be a Tensor, got {type_name(logits)}")
    if logits.dtype.kind != "f":
        raise TypeError(f"{op}: logits must be floating-point, got {logits.dtype}")
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"{op}: logits must have shape (B, C) with C >= 1, got {logits.shape}")
    batch, classes = logits.shape
    indices = target.data if isinstance(target, base.Tensor) else np.asarray(target)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be an integer array of class indices, got {indices.dtype}")
    if indices.shape != (batch,):
        raise ValueError(f"{op}: target must have shape {(batch,)}, got {indices.shape}")
    outside = indices[(indices < 0) | (indices >= classes)]
    if outside.size:
        raise ValueError(f"{op}: target must be in [0, {classes}), got {outside[0]}")
    return indices


# --- step 1: reductions ----------------------------------------------------------------------


def apply_reduction(op: str, losses: Tensor, reduction: str) -> Tensor:
    """Reduce per-element losses as PyTorch does: their mean, their sum, or all of them.

    Args:
        op: the loss's name, for the error message.
        losses: Tensor of any shape (N elements), one loss per element (or per row).
        reduction: ``"mean"`` (sum / N), ``"sum"``, or ``"none"`` (losses unchanged).
    Returns:
        A 0-d Tensor for "mean" and "sum"; ``losses`` itself for "none". Same dtype.
    Raises:
        TypeError: ``"loss: losses must be a Tensor, got ndarray"`` (an ndarray's own ``mean``
            would return a NumPy number, outside autograd).
        ValueError: ``"mse_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"``;
            ``"cross_entropy: the losses must not be empty for reduction 'mean', got shape (0,)"``
            (an empty batch has no mean; the error names the loss, not 01's ``mean``).
    Complexity:
        O(N) time; O(1) extra memory.
    Example:
        >>> apply_reduction("loss", Tensor([1.0, 2.0, 6.0]), "mean").numpy()
        array(3.)
    """
    raise NotImplementedError("05 losses: implement apply_reduction — see exercises/05_losses/README.md, step 1")


# --- step 2: mean squared error --------------------------------------------------------------


def mse_loss(prediction: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: ``(prediction - target)²`` per element, then reduced.

    A composition of autograd operations: the engine derives
    ``d/d prediction = 2 (prediction - target) / N`` (for "mean") and the opposite for ``target``.

    Args:
        prediction: floating-point Tensor, any shape (N elements).
        target: floating-point Tensor of prediction's shape and dtype.
        reduction: "mean", "sum" or "none".
    Returns:
        A 0-d Tensor ("mean", "sum") or a Tensor of prediction's shape ("none"), prediction's dtype.
    Raises:
        TypeError: ``"mse_loss: target must be a Tensor, got ndarray"``, and for dtypes.
        ValueError: ``"mse_loss: prediction and target must have the same shape, got (3, 4) and (4,)"``;
            an unknown reduction; empty inputs with "mean" (as ``apply_reduction``).
    Complexity:
        O(N) time; O(N) extra memory (the difference and its square; the graph keeps both).
    Example:
        >>> mse_loss(Tensor([1.0, 2.0]), Tensor([0.0, 4.0])).numpy()
        array(2.5)
    """
    raise NotImplementedError("05 losses: implement mse_loss — see exercises/05_losses/README.md, step 2")


# --- step 3: binary cross-entropy from logits ------------------------------------------------


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """``-[t·log σ(x) + (1 - t)·log(1 - σ(x))]`` per element, computed stably; saves both."""
        raise NotImplementedError(
            "05 losses: implement BinaryCrossEntropyWithLogits.forward — see exercises/05_losses/README.md, step 3"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d loss/dx = σ(x) - t; d loss/dt = -x."""
        raise NotImplementedError(
            "05 losses: implement BinaryCrossEntropyWithLogits.backward — see exercises/05_losses/README.md, step 3"
        )


def binary_cross_entropy(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy FROM LOGITS (PyTorch's ``binary_cross_entropy_with_logits``).

    With p = σ(x) the predicted probability of "yes", the loss per element is
    ``-[t·log p + (1 - t)·log(1 - p)] = max(x, 0) - x·t + log(1 + e^(-|x|))``: finite for any
    finite logit (±1e4 included), ≥ 0, and log 2 at x = 0. Pass logits, not probabilities.
    Accurate even where the loss is tiny, for a confident and right logit (t = 1 and x ≈ 20
    to 40, or t = 0 and x ≈ -40 to -20, a loss of about e^(-|x|)): ``log(1 + e^(-|x|))`` must
    be computed with ``np.log1p``.

    Args:
        logits: floating-point Tensor, any shape (N elements), the raw scores x.
        target: floating-point Tensor of logits' shape and dtype, values in [0, 1].
        reduction: "mean", "sum" or "none".
    Returns:
        A 0-d Tensor ("mean", "sum") or a Tensor of logits' shape ("none"), logits' dtype.
    Raises:
        TypeError, ValueError: as ``mse_loss``, naming ``binary_cross_entropy`` (empty inputs with
            "mean" too);
            ValueError ``"binary_cross_entropy: target must be in [0, 1], got 1.5"`` (or ``got nan``).
    Complexity:
        O(N) time; O(N) extra memory (a few temporaries of N elements).
    Example:
        >>> binary_cross_entropy(Tensor([0.0, 1e4]), Tensor([1.0, 1.0]), reduction="none").numpy()
        array([0.69314718, 0.        ])
    """
    raise NotImplementedError("05 losses: implement binary_cross_entropy — see exercises/05_losses/README.md, step 3")


# --- step 4: cross-entropy from logits, without a one-hot matrix -----------------------------


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """``-log softmax(x)[target]`` per row: (B, C) logits, (B,) indices -> (B,) losses.

        Saves the softmax (B, C) and the indices; allocates no other (B, C) array.
        """
        raise NotImplementedError(
            "05 losses: implement CrossEntropy.forward — see exercises/05_losses/README.md, step 4"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """d loss_b/dx_b = softmax(x_b) - one_hot(t_b), each row scaled by its grad_b."""
        raise NotImplementedError(
            "05 losses: implement CrossEntropy.backward — see exercises/05_losses/README.md, step 4"
        )


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Cross-entropy FROM LOGITS: ``-log softmax(logits)[b, target[b]]`` per row, then reduced.

    The loss of choosing one of C classes. Its gradient w.r.t. the logits is
    ``softmax(logits) - one_hot(target)`` (divided by B for "mean"), computed without a
    one-hot matrix. With C = 1 the only class is always right: the loss and its gradient are 0.

    Args:
        logits: floating-point Tensor of shape (B, C), C ≥ 1, the raw scores.
        target: integer ndarray or integer Tensor of shape (B,), class indices in [0, C).
        reduction: "mean", "sum" or "none".
    Returns:
        A 0-d Tensor ("mean", "sum") or a Tensor of shape (B,) ("none"), logits' dtype.
    Raises:
        TypeError: ``"cross_entropy: target must be an integer array of class indices, got float64"``.
        ValueError: ``"cross_entropy: target must be in [0, 10), got 12"``;
            ``"cross_entropy: target must have shape (4,), got (4, 1)"``;
            ``"cross_entropy: logits must have shape (B, C) with C >= 1, got (3,)"``;
            ``"cross_entropy: the losses must not be empty for reduction 'mean', got shape (0,)"``
            (B = 0: "sum" gives 0 and "none" an empty Tensor).
    Complexity:
        O(B·C) time. Memory: one (B, C) buffer (the softmax, kept for backward) plus O(B);
        backward adds one (B, C) buffer, the gradient.
    Example:
        >>> cross_entropy(Tensor([[0.0, 0.0], [1e4, -1e4]]), np.array([1, 1]), reduction="none").numpy()
        array([6.93147181e-01, 2.00000000e+04])
    """
    raise NotImplementedError("05 losses: implement cross_entropy — see exercises/05_losses/README.md, step 4")
