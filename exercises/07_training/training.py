# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""07 training: the loop that trains a model, the schedules that steer it, the checkpoints that save it.

``train_epoch`` is PyTorch's five-line loop (zero_grad, forward, loss, backward, step) made
into a function; ``evaluate`` runs the model without building a graph; ``clip_grad_norm_``
bounds a step when one batch produces a huge gradient; ``StepLR`` and ``CosineWithWarmup``
change the optimizer's ``lr`` as training goes on. Checkpoints are one ``.npz`` file: the
arrays, plus one JSON text that describes everything else. Loading one never runs code (no
pickle), never allocates more than the file's own size in arrays, and changes nothing unless
every part fits; saving one is atomic: a crash mid-save leaves the previous checkpoint intact,
and the next save removes what a killed one left behind. A run resumed from a checkpoint
continues bit for bit, because everything that decides the next step is saved: the weights,
the optimizer's state, the schedule's step and the random generators (the loader's shuffle,
the dropout masks).

Errors follow one rule, as in 06: a value of the wrong type (a model that is not a Module, a
seed where a ``numpy.random.Generator`` is expected, ``max_norm="1"``) is a TypeError; a value
of the right type that breaks the rule (``max_norm=-1``, ``gamma=-2``) is a ValueError.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable

import numpy as np

from tinytorch.autograd import Tensor, no_grad
from tinytorch.layers import Module
from tinytorch.optimizers import Optimizer
from tinytorch.tensor import type_name

# --- given: checks shared by every step ---------------------------------------------------


def check_number(op: str, name: str, value, *, integer: bool = False) -> None:
    """Given: raise unless ``value`` is a real number (Python or NumPy), or an integer if ``integer``.

    A bool is neither (``True`` would pass for 1), nor is a str, None, an array or a float
    such as 2.0 where an integer is asked for.

    Raises:
        TypeError: ``"<op>: <name> must be a real number, got str"``;
            ``"<op>: <name> must be an integer, got float"``.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{op}: {name} must be {what}, got {type_name(value)}")


def split_batch(op: str, batch) -> tuple[Tensor, Tensor]:
    """Given: a loader's batch as ``(x, y)``, or a clear error naming ``op``.

    Raises:
        ValueError: ``"<op>: each batch must be a pair (x, y), got a tuple of 3"``.
        TypeError: ``"<op>: x must be a Tensor with a batch dimension (B, ...), got ndarray"``;
            ``"<op>: y must be a Tensor, got list"``.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        got = f"a {type_name(batch)} of {len(batch)}" if isinstance(batch, (tuple, list)) else type_name(batch)
        raise ValueError(f"{op}: each batch must be a pair (x, y), got {got}")
    x, y = batch
    if not isinstance(x, Tensor) or x.ndim == 0:
        got = f"shape {x.shape}" if isinstance(x, Tensor) else type_name(x)
        raise TypeError(f"{op}: x must be a Tensor with a batch dimension (B, ...), got {got}")
    if not isinstance(y, Tensor):
        raise TypeError(f"{op}: y must be a Tensor, got {type_name(y)}")
    return x, y


def loss_value(op: str, loss) -> float:
    """Given: the Python float of a 0-d loss Tensor, or a clear error naming ``op``.

    Raises:
        ValueError: ``"<op>: loss_fn must return a 0-d Tensor, got shape (4,)"`` (or the type it returned).
    """
    if not isinstance(loss, Tensor) or loss.ndim != 0:
        got = f"shape {loss.shape}" if isinstance(loss, Tensor) else type_name(loss)
        raise ValueError(f"{op}: loss_fn must return a 0-d Tensor, got {got}")
    return float(loss.numpy())


# --- step 1: one epoch of training --------------------------------------------------------


def train_epoch(
    model: Module,
    loader: Iterable,
    loss_fn: Callable,
    optimizer: Optimizer,
    *,
    scheduler: LRScheduler | None = None,
    max_grad_norm: float | None = None,
) -> float:
    """One pass over ``loader``, one optimizer step per batch; returns the epoch's mean loss.

    Per batch (x, y): ``zero_grad`` → ``loss = loss_fn(model(x), y)`` → ``backward`` →
    ``clip_grad_norm_`` (if ``max_grad_norm``) → ``optimizer.step()`` → ``scheduler.step()``.
    The epoch's loss is weighted by batch size, ``Σ_b B_b·loss_b / Σ_b B_b``: with a loss that
    averages over its batch, that is the mean over the samples, uneven last batch included.
    A loss that is not finite stops the epoch before its backward: that batch takes no step
    (the batches before it keep theirs), so one bad batch cannot turn every weight into nan.

    Args:
        model: a Module, put in training mode first (Dropout active).
        loader: an iterable of pairs ``(x, y)``: x a Tensor of shape (B, ...), y a Tensor of
            its targets.
        loss_fn: ``loss_fn(output, y)`` -> 0-d Tensor, the batch's mean loss (05's losses).
        optimizer: over the model's parameters (06).
        scheduler: stepped after every optimizer step: per batch, not per epoch.
        max_grad_norm: clip the gradients' global norm to this before each step (a real number >= 0).
    Returns:
        The mean loss, a Python float (each batch's loss before its step).
    Raises:
        ValueError: ``"train_epoch: loader must yield at least one batch, got none"``;
            ``"train_epoch: max_grad_norm must be >= 0, got -1"`` (before any batch);
            ``"train_epoch: the loss must be finite, got nan at batch 3"``;
            ``split_batch``'s and ``loss_value``'s errors (a batch that is not a pair, a loss
            that is not 0-d).
        TypeError: ``"train_epoch: max_grad_norm must be a real number, got str"``;
            ``"train_epoch: scheduler must be an LRScheduler or None, got SGD"``; ``split_batch``'s.
    Complexity:
        One forward and backward per batch; memory: one batch's graph at a time.
    Example:
        >>> from tinytorch.layers import Linear
        >>> from tinytorch.losses import mse_loss
        >>> from tinytorch.optimizers import SGD
        >>> model = Linear(1, 1, bias=False)
        >>> model.weight.data[...] = 1.0
        >>> batches = [(Tensor(np.ones((4, 1), np.float32)), Tensor(np.zeros((4, 1), np.float32)))]
        >>> train_epoch(model, batches, mse_loss, SGD(model.parameters(), lr=0.25))
        1.0
        >>> model.weight.numpy()  # w - lr · 2(w·1 - 0)·1 = 1 - 0.5
        array([[0.5]], dtype=float32)
    """
    raise NotImplementedError("07 training: implement train_epoch — see exercises/07_training/README.md, step 1")


# --- step 2: evaluation -------------------------------------------------------------------


def evaluate(model: Module, loader: Iterable, loss_fn: Callable) -> tuple[float, float]:
    """Mean loss and accuracy over ``loader``, in eval mode and without building a graph.

    Accuracy is the fraction of samples whose largest logit is at their label:
    ``mean(argmax(logits, axis=1) == y)``. Every module's mode is restored afterwards, even
    when the model raises, so ``evaluate`` can be called in the middle of training. A loss that
    is not finite is reported as it is (nan): evaluating changes nothing, so it refuses nothing.

    Args:
        model: a classifier: ``model(x)`` gives logits of shape (B, C).
        loader: an iterable of pairs ``(x, y)``: x a Tensor (B, ...), y an integer Tensor (B,).
        loss_fn: ``loss_fn(logits, y)`` -> 0-d Tensor, the batch's mean loss.
    Returns:
        ``(mean loss, accuracy)``, Python floats, both weighted by batch size.
    Raises:
        ValueError: ``"evaluate: loader must yield at least one batch, got none"``;
            ``"evaluate: y must have shape (B,) = (4,) to match logits of shape (B, C), got y (4, 1)
            and logits (4, 3)"`` (also logits that are not (B, C)); ``split_batch``'s and
            ``loss_value``'s errors.
    Complexity:
        One forward per batch; no graph, so a batch's activations are freed as soon as the
        next layer has used them.
    Example:
        >>> from tinytorch.layers import Linear
        >>> from tinytorch.losses import cross_entropy
        >>> model = Linear(2, 2, bias=False)
        >>> model.weight.data[...] = np.eye(2)  # logits = x
        >>> x = Tensor(np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0]], np.float32))
        >>> y = Tensor(np.array([0, 1, 1]))
        >>> loss, accuracy = evaluate(model, [(x, y)], cross_entropy)
        >>> round(accuracy, 4)
        0.6667
    """
    raise NotImplementedError("07 training: implement evaluate — see exercises/07_training/README.md, step 2")


# --- step 3: gradient clipping ------------------------------------------------------------


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float) -> float:
    """Scale every gradient, in place, so that their global L2 norm is at most ``max_norm``.

    ``norm = √(Σ_p Σ_i p.grad_i²)`` over all the gradients together (None is skipped). When
    ``norm > max_norm`` every gradient is multiplied by ``max_norm / norm``: the direction of
    the step is kept, only its length is bounded. Everything is checked before any gradient
    changes.

    Args:
        parameters: one Tensor, or an iterable of Tensors (read once: a generator is fine).
        max_norm: the bound, a real number >= 0 (``inf``: never clip).
    Returns:
        The global norm before clipping, a Python float (0.0 when no gradient is set).
    Raises:
        ValueError: ``"clip_grad_norm_: max_norm must be >= 0, got -1.0"`` (also nan);
            ``"clip_grad_norm_: the gradients' norm must be finite, got inf"`` (nothing is changed).
        TypeError: ``"clip_grad_norm_: max_norm must be a real number, got str"``;
            ``"clip_grad_norm_: parameter 2 must be a Tensor, got ndarray"``;
            ``"clip_grad_norm_: the gradient of parameter 0 must be a floating-point ndarray, got int64"``.
    Complexity:
        O(N) time over the N gradient elements. Extra memory: none for gradients that are
        contiguous in C or Fortran order (backward makes C order); a strided view is copied.
    Example:
        >>> w = Tensor(np.zeros(2), requires_grad=True)
        >>> w.grad = np.array([3.0, 4.0])
        >>> clip_grad_norm_(w, max_norm=1.0), w.grad
        (5.0, array([0.6, 0.8]))
    """
    raise NotImplementedError("07 training: implement clip_grad_norm_ — see exercises/07_training/README.md, step 3")


# --- step 4: learning-rate schedules ------------------------------------------------------


class LRScheduler:
    """Given: the base of the schedules. ``lr_at(t)`` is the lr after t optimizer steps.

    On creation the optimizer's ``lr`` becomes ``base_lr``, remembered, and is replaced by
    ``lr_at(0)``; each ``step()`` moves to the next value. A subclass lists the attributes
    that ``state_dict`` saves in ``hyperparameter_names``, and checks their values in
    ``check_hyperparams``, which its constructor and ``load_state_dict`` both call.
    """

    hyperparameter_names: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        """Given: remember the optimizer and its lr, and set the lr of the first step."""
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.step_count = 0
        optimizer.lr = self.lr

    @property
    def lr(self) -> float:
        """Given: the current learning rate, ``lr_at(step_count)``."""
        return self.lr_at(self.step_count)

    def lr_at(self, t: int) -> float:
        """Given: the learning rate after ``t`` steps; every schedule writes its own."""
        raise NotImplementedError(f"{type(self).__name__}: a schedule must define lr_at")

    def check_hyperparams(self, base_lr: float, **hyperparameters) -> None:
        """Given: raise unless the hyper-parameters are valid for ``base_lr``; every schedule writes its own."""
        raise NotImplementedError(f"{type(self).__name__}: a schedule must define check_hyperparams")

    def step(self) -> None:
        """Count one optimizer step and set the optimizer's lr to the next value.

        Computed from the formula at the new count, never by multiplying the previous lr: the
        value after t steps does not depend on the path taken to t (a resumed run included).

        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
            >>> scheduler.step()
            >>> scheduler.step_count, optimizer.lr
            (1, 0.5)
        """
        raise NotImplementedError(
            "07 training: implement LRScheduler.step — see exercises/07_training/README.md, step 4"
        )

    def state_dict(self) -> dict:
        """Everything that decides the next lr, as plain values.

        Returns:
            ``{"name": class name, "base_lr": float, "step_count": int, **hyper-parameters}``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> StepLR(optimizer, step_size=3).state_dict()
            {'name': 'StepLR', 'base_lr': 1.0, 'step_count': 0, 'step_size': 3, 'gamma': 0.1}
        """
        raise NotImplementedError(
            "07 training: implement LRScheduler.state_dict — see exercises/07_training/README.md, step 4"
        )

    def check_state_dict(self, state: dict) -> None:
        """Raise a clear error unless ``state`` is one this schedule can continue from; change nothing.

        In order: a dict with the keys of ``state_dict()``; this class's name; ``step_count`` an
        integer >= 0; ``base_lr`` a finite number >= 0; then the hyper-parameters through
        ``check_hyperparams``, the very check the constructor runs, so a state holds only
        values the constructor would accept.

        Raises:
            TypeError: ``"load_state_dict: state must be a dict, got list"``;
                ``"load_state_dict: step_count must be an integer, got float"``;
                ``"load_state_dict: base_lr must be a real number, got str"``; the constructor's.
            ValueError: ``"load_state_dict: keys must be ['base_lr', 'gamma', 'name', 'step_count',
                'step_size'], got [...]"``; ``"load_state_dict: name must be 'StepLR', got 'Other'"``;
                ``"load_state_dict: step_count must be >= 0, got -1"``;
                ``"load_state_dict: base_lr must be >= 0 and finite, got nan"``;
                the constructor's errors (``"StepLR: gamma must be > 0 and finite, got -2"``).
        Complexity:
            O(1).
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> scheduler = StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), step_size=2)
            >>> scheduler.check_state_dict({**scheduler.state_dict(), "gamma": -2})
            Traceback (most recent call last):
            ValueError: StepLR: gamma must be > 0 and finite, got -2
        """
        raise NotImplementedError(
            "07 training: implement LRScheduler.check_state_dict — see exercises/07_training/README.md, step 4"
        )

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``; the optimizer's lr becomes the restored schedule's ``lr``.

        All or nothing: ``check_state_dict`` runs first, so a refused state changes nothing.

        Raises:
            TypeError, ValueError: as ``check_state_dict``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
            >>> scheduler.load_state_dict({"name": "StepLR", "base_lr": 1.0, "step_count": 4,
            ...                            "step_size": 2, "gamma": 0.5})
            >>> optimizer.lr
            0.25
        """
        raise NotImplementedError(
            "07 training: implement LRScheduler.load_state_dict — see exercises/07_training/README.md, step 4"
        )


class StepLR(LRScheduler):
    """``lr_t = base_lr · gamma^⌊t / step_size⌋``: divide the lr by 1/gamma every step_size steps."""

    hyperparameter_names = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        """Check the hyper-parameters (``check_hyperparams``), keep them, then start (``LRScheduler.__init__``).

        Raises:
            TypeError, ValueError: as ``check_hyperparams``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), step_size=5).gamma
            0.1
        """
        raise NotImplementedError(
            "07 training: implement StepLR.__init__ — see exercises/07_training/README.md, step 4"
        )

    def check_hyperparams(self, base_lr: float, *, step_size: int, gamma: float) -> None:
        """Raise unless ``step_size`` is an integer >= 1 and ``gamma`` a finite real number > 0.

        ``base_lr`` is not used by this schedule (every schedule takes it: see CosineWithWarmup).

        Raises:
            TypeError: ``"StepLR: step_size must be an integer, got float"`` (also True);
                ``"StepLR: gamma must be a real number, got str"``.
            ValueError: ``"StepLR: step_size must be a positive integer, got 0"``;
                ``"StepLR: gamma must be > 0 and finite, got -0.5"`` (also 0, nan, inf).
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> scheduler = StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), step_size=5)
            >>> scheduler.check_hyperparams(1.0, step_size=2, gamma=0.0)
            Traceback (most recent call last):
            ValueError: StepLR: gamma must be > 0 and finite, got 0.0
        """
        raise NotImplementedError(
            "07 training: implement StepLR.check_hyperparams — see exercises/07_training/README.md, step 4"
        )

    def lr_at(self, t: int) -> float:
        """``base_lr · gamma ** (t // step_size)``.

        Example:
            >>> from tinytorch.optimizers import SGD
            >>> scheduler = StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), 2, gamma=0.5)
            >>> [scheduler.lr_at(t) for t in range(5)]
            [1.0, 1.0, 0.5, 0.5, 0.25]
        """
        raise NotImplementedError("07 training: implement StepLR.lr_at — see exercises/07_training/README.md, step 4")


class CosineWithWarmup(LRScheduler):
    """Linear warm-up to ``base_lr`` over W steps, then a half cosine down to ``min_lr`` at T."""

    hyperparameter_names = ("warmup_steps", "total_steps", "min_lr")

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> None:
        """Check the hyper-parameters (``check_hyperparams``), keep them, then start (``LRScheduler.__init__``).

        Raises:
            TypeError, ValueError: as ``check_hyperparams``, with ``base_lr = optimizer.lr``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = CosineWithWarmup(optimizer, warmup_steps=4, total_steps=10)
            >>> optimizer.lr  # the first step already warms up
            0.25
        """
        raise NotImplementedError(
            "07 training: implement CosineWithWarmup.__init__ — see exercises/07_training/README.md, step 4"
        )

    def check_hyperparams(self, base_lr: float, *, warmup_steps: int, total_steps: int, min_lr: float) -> None:
        """Raise unless 0 <= warmup_steps < total_steps (integers) and 0 <= min_lr <= base_lr.

        Raises:
            TypeError: ``"CosineWithWarmup: warmup_steps must be an integer, got float"`` (also
                total_steps); ``"CosineWithWarmup: min_lr must be a real number, got str"``.
            ValueError: ``"CosineWithWarmup: warmup_steps must be an integer >= 0, got -1"``;
                ``"CosineWithWarmup: total_steps must be an integer > warmup_steps = 10, got 10"``;
                ``"CosineWithWarmup: min_lr must be in [0, lr = 0.1], got 0.5"`` (also nan).
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> scheduler = CosineWithWarmup(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), 0, 10)
            >>> scheduler.check_hyperparams(1.0, warmup_steps=0, total_steps=10, min_lr=2.0)
            Traceback (most recent call last):
            ValueError: CosineWithWarmup: min_lr must be in [0, lr = 1.0], got 2.0
        """
        raise NotImplementedError(
            "07 training: implement CosineWithWarmup.check_hyperparams — see exercises/07_training/README.md, step 4"
        )

    def lr_at(self, t: int) -> float:
        """The lr after t steps (W = warmup_steps, T = total_steps, p = (t - W) / (T - W)):

            t < W:       base_lr · (t + 1) / W                 (base/W, 2·base/W, ..., base)
            W ≤ t ≤ T:   min_lr + (base_lr - min_lr) · (1 + cos(π·p)) / 2
            t > T:       min_lr

        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = CosineWithWarmup(optimizer, warmup_steps=2, total_steps=4)
            >>> [round(scheduler.lr_at(t), 6) for t in range(6)]
            [0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
        """
        raise NotImplementedError(
            "07 training: implement CosineWithWarmup.lr_at — see exercises/07_training/README.md, step 4"
        )


# --- step 5: any state as JSON plus arrays ------------------------------------------------


def pack(value, arrays: dict[str, np.ndarray]):
    """Turn a tree of plain values into JSON-ready values, moving its ndarrays into ``arrays``.

    Rules: an ndarray becomes ``{"array": name}`` with ``arrays[name] = value`` (names
    ``"array_0"``, ``"array_1"``, ... in order); a dict becomes ``{"dict": [[key, value], ...]}``
    (so int keys stay ints: JSON object keys are strings); a tuple ``{"tuple": [...]}``; a list a
    list; a NumPy scalar its Python number; None, bool, int, float and str stay as they are.

    Args:
        value: the tree (a state dict, a generator's state, ...).
        arrays: filled with the arrays found, in place.
    Returns:
        A value that ``json.dumps`` accepts.
    Raises:
        TypeError: ``"pack: values must be arrays, numbers, strings, lists, tuples or dicts, got set"``;
            ``"pack: arrays must not hold Python objects, got dtype object"``.
    Complexity:
        O(nodes); the arrays are referenced, not copied.
    Example:
        >>> arrays = {}
        >>> pack({0: (np.ones(2), 1.5)}, arrays), list(arrays)
        ({'dict': [[0, {'tuple': [{'array': 'array_0'}, 1.5]}]]}, ['array_0'])
    """
    raise NotImplementedError("07 training: implement pack — see exercises/07_training/README.md, step 5")


def unpack(value, arrays: dict[str, np.ndarray]):
    """The inverse of ``pack``: rebuild the tree from JSON values and the arrays they name.

    Raises:
        ValueError: ``"unpack: a tagged value must be {'array'|'dict'|'tuple': ...}, got {'set': []}"``.
        KeyError: an array name missing from ``arrays``.
    Complexity:
        O(nodes); the arrays are referenced, not copied.
    Example:
        >>> unpack({"dict": [[0, {"tuple": [{"array": "array_0"}, 1.5]}]]}, {"array_0": np.ones(2)})
        {0: (array([1., 1.]), 1.5)}
    """
    raise NotImplementedError("07 training: implement unpack — see exercises/07_training/README.md, step 5")


# --- step 6: saving, atomically -----------------------------------------------------------

META = "meta"  # the .npz entry that holds the JSON text, as uint8 bytes
FORMAT = {"format": "tinytorch-checkpoint", "version": 1}
KEYS = ["epoch", "format", "model", "optimizer", "rngs", "scheduler", "version"]


def fsync_directory(directory: str) -> None:
    """Given: flush a directory's entries to disk, so that a rename in it survives a power cut.

    POSIX only: elsewhere (Windows) a directory cannot be opened, and this does nothing.
    """
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def is_temporary_of(entry: str, name: str) -> bool:
    """Given: whether the folder entry ``entry`` is a temporary file of the checkpoint named ``name``.

    ``write_atomically`` names its temporary file ``.<name>.<random>.tmp`` (``tempfile.mkstemp``
    with ``prefix=f".{name}."`` and ``suffix=".tmp"``; the random part has no dot). Matching the
    dot-free middle exactly means that the temporaries of ``run.ckpt.old`` are never taken for
    those of ``run.ckpt``.

    Example:
        >>> is_temporary_of(".run.ckpt.k3j_x9a2.tmp", "run.ckpt")
        True
        >>> is_temporary_of(".run.ckpt.old.k3j_x9a2.tmp", "run.ckpt")  # a temporary of run.ckpt.old
        False
    """
    return re.fullmatch(re.escape(f".{name}.") + r"[^.]+\.tmp", entry) is not None


def check_run(
    op: str,
    model: Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None,
    rngs: dict[str, np.random.Generator] | None,
) -> dict[str, np.random.Generator]:
    """Given: check the objects a checkpoint is saved from or loaded into; returns ``rngs`` (``{}`` for None).

    Besides the kinds of the objects, one rule keeps a resume exact: every generator the model
    draws from (the attribute ``rng`` of a module, as 04's Dropout has) must be one of ``rngs``,
    the very object. Otherwise the resumed run draws other dropout masks and silently becomes
    another run. The loader's generator is not reachable from the model: passing it is yours.

    Raises:
        TypeError: ``"<op>: model must be a Module, got list"`` (also optimizer, scheduler);
            ``"<op>: rngs must map names (str) to numpy.random.Generator, got 'loader': int"``.
        ValueError: ``"<op>: scheduler must drive this optimizer, got one that drives another"``;
            ``"<op>: rngs must hold the generator of every module that draws, got none for 2 (Dropout)"``.
    """
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be a Module, got {type_name(model)}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{op}: optimizer must be an Optimizer, got {type_name(optimizer)}")
    if scheduler is not None and not isinstance(scheduler, LRScheduler):
        raise TypeError(f"{op}: scheduler must be an LRScheduler or None, got {type_name(scheduler)}")
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError(f"{op}: scheduler must drive this optimizer, got one that drives another")
    rngs = {} if rngs is None else rngs
    if not isinstance(rngs, dict):
        raise TypeError(f"{op}: rngs must be a dict of name -> numpy.random.Generator, got {type_name(rngs)}")
    for name, rng in rngs.items():
        if not isinstance(name, str) or not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"{op}: rngs must map names (str) to numpy.random.Generator, got {name!r}: {type_name(rng)}"
            )
    for module_name, module in model.named_modules():
        rng = getattr(module, "rng", None)
        if isinstance(rng, np.random.Generator) and not any(rng is given for given in rngs.values()):
            raise ValueError(
                f"{op}: rngs must hold the generator of every module that draws, "
                f"got none for {module_name or 'the model'} ({type(module).__name__})"
            )
    return rngs


def write_atomically(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` file at ``path``: all of it, or nothing at all.

    First the temporary files that earlier saves of this same checkpoint left behind (a process
    killed mid-save runs no clean-up) are removed: those for which ``is_temporary_of(entry,
    name)``. Then the arrays are written to a new temporary file ``.<name>.<random>.tmp`` in the
    same directory, flushed to disk (``flush``, then ``os.fsync``), and renamed over ``path``
    with ``os.replace``, which is atomic on one file system: a reader, or a run restarted after
    a crash, sees the old file or the new one, never half of one. Last, the directory itself is
    fsynced (``fsync_directory``), so that the rename survives a power cut too. On any error the
    temporary file is removed and the old file is untouched.

    Two saves of the same checkpoint at the same moment are not supported: each may remove the
    other's temporary file, and that save then fails (the checkpoint stays whole).

    Args:
        path: the file to write (any name: ``np.savez`` adds no ``.npz`` to an open file).
        arrays: name -> ndarray, as for ``np.savez`` (stored uncompressed).
    Raises:
        Whatever writing raises (a full disk: OSError), after cleaning up.
    Complexity:
        O(total bytes) time, plus one look at each entry of the folder (the stale temporaries);
        on disk, the old and the new file for a moment.
    Example:
        >>> import os, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> write_atomically(os.path.join(folder.name, "a.npz"), {"x": np.arange(3)})
        >>> os.listdir(folder.name)
        ['a.npz']
        >>> folder.cleanup()
    """
    raise NotImplementedError("07 training: implement write_atomically — see exercises/07_training/README.md, step 6")


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None = None,
    epoch: int,
    rngs: dict[str, np.random.Generator] | None = None,
) -> None:
    """Save everything a run needs to continue exactly, as one ``.npz`` file, atomically.

    The file holds the arrays (``"array_0"``, ...) and one entry ``"meta"``: the UTF-8 bytes
    (uint8) of a JSON object ``{"format": "tinytorch-checkpoint", "version": 1, "epoch",
    "model", "optimizer", "scheduler", "rngs"}``, the last four ``pack``-ed from
    ``model.state_dict()``, ``optimizer.state_dict()``, ``scheduler.state_dict()`` (or None)
    and ``{name: rng.bit_generator.state}``.

    Args:
        path: the checkpoint file; replaced atomically if it exists.
        model, optimizer, scheduler: what to save (scheduler optional).
        epoch: the number of epochs done, an integer >= 0.
        rngs: name -> np.random.Generator whose state decides what comes next (the loader's
            ``rng``, a Dropout's ``rng``). Every generator the model holds must be among them
            (``check_run``); an int seed is refused: it has no state to save.
    Raises:
        ValueError: ``"save_checkpoint: epoch must be an integer >= 0, got -1"``; ``check_run``'s
            errors. Nothing is written when a check fails.
        TypeError: ``"save_checkpoint: epoch must be an integer, got float"``; ``check_run``'s errors.
    Complexity:
        O(parameters + optimizer state) time; memory: the copies that ``state_dict`` makes.
    Example:
        >>> import os, tempfile
        >>> from tinytorch.layers import Linear
        >>> from tinytorch.optimizers import SGD
        >>> model = Linear(2, 1)
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "run.ckpt")
        >>> save_checkpoint(path, model=model, optimizer=SGD(model.parameters(), lr=0.1), epoch=3)
        >>> with np.load(path, allow_pickle=False) as archive:
        ...     sorted(archive.files)
        ['array_0', 'array_1', 'meta']
        >>> folder.cleanup()
    """
    raise NotImplementedError("07 training: implement save_checkpoint — see exercises/07_training/README.md, step 6")


# --- step 7: loading ----------------------------------------------------------------------


def array_names(value) -> set[str]:
    """Given: the names of the arrays a ``pack``-ed tree refers to (every ``{"array": name}`` in it).

    Example:
        >>> sorted(array_names({"dict": [[0, {"tuple": [{"array": "array_1"}, 1.5]}], ["w", {"array": "array_0"}]]}))
        ['array_0', 'array_1']
    """
    if isinstance(value, list):
        return set().union(*(array_names(item) for item in value))
    if isinstance(value, dict):
        if list(value) == ["array"]:
            return {value["array"]}
        return set().union(*(array_names(item) for item in value.values()))
    return set()


def read_array(archive: zipfile.ZipFile, name: str, limit: int) -> np.ndarray:
    """Read the array ``name`` (the entry ``name + ".npy"``) of an open ``.npz``, never past ``limit`` bytes.

    A file can declare any size: a 2 MiB zip may hold a deflated entry of 2 GiB of zeros, and an
    ``.npy`` header may declare a shape of 2⁴⁰ elements over 8 bytes of data. So the sizes are
    checked *before* anything is allocated: the zip's declared size of the entry must be at most
    ``limit``, and the ``.npy`` header (read alone with ``np.lib.format.read_magic`` and
    ``read_array_header_1_0`` or ``_2_0``) must declare exactly the data bytes the entry holds,
    ``prod(shape) · itemsize``. Only then is the array read, with ``allow_pickle=False``.

    Args:
        archive: the open zip file.
        name: the array's name, without ``.npy``.
        limit: the most bytes the entry may declare.
    Returns:
        The array, of the shape and dtype its header declares.
    Raises:
        KeyError: no such entry (from ``zipfile``).
        ValueError: ``"entry array_0 must declare at most 2048 bytes, got 2147483648"``;
            ``"entry array_0 must be .npy version 1.0 or 2.0, got (3, 0)"``;
            ``"entry array_0 must hold the 8796093022208 bytes its header declares, got 8"``;
            NumPy's errors for a bad header or an object array.
    Complexity:
        O(the entry's size) time; memory: the array, plus NumPy's read buffer (256 KiB at most).
    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> np.savez(buffer, x=np.arange(3))
        >>> with zipfile.ZipFile(buffer) as archive:
        ...     read_array(archive, "x", limit=1000)
        array([0, 1, 2])
    """
    raise NotImplementedError("07 training: implement read_array — see exercises/07_training/README.md, step 7")


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint file into a dict of plain values, or say clearly why it is not one.

    Bounded: ``meta`` is read first, then only the arrays it names (``array_names``); the
    entries read must declare at most the file's own size in all (``save_checkpoint`` stores
    them uncompressed, so its files always fit), and each goes through ``read_array``. An
    entry the format does not name is never read, so a 2 MiB file never costs more than about
    2 MiB of arrays. Safe: no pickle is ever loaded, so reading an untrusted file never runs
    code. Every way a file can be broken, including the sizes, ends in one ValueError that
    names the file.

    Returns:
        ``{"format", "version", "epoch", "model", "optimizer", "scheduler", "rngs"}``, unpacked:
        epoch an int >= 0; model, optimizer and rngs dicts; scheduler a dict or None.
    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"load_checkpoint: run.ckpt is not a valid checkpoint: <the reason>"``, for
            a file that is not a zip, is truncated, declares more bytes than it holds, holds
            pickles, has no valid "meta", another format or version, or parts of the wrong type.
    Complexity:
        O(file size) time; memory: the arrays read (at most the file's size), plus the JSON's
        Python objects.
    Example:
        >>> import os, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "junk.ckpt")
        >>> with open(path, "wb") as file:
        ...     _ = file.write(b"not a zip")
        >>> read_checkpoint(path)
        Traceback (most recent call last):
        ValueError: load_checkpoint: ...junk.ckpt is not a valid checkpoint: ...
        >>> folder.cleanup()
    """
    raise NotImplementedError("07 training: implement read_checkpoint — see exercises/07_training/README.md, step 7")


def check_generator_state(op: str, name: str, rng: np.random.Generator, state) -> None:
    """Given: raise unless ``state`` fits ``rng``'s bit generator; ``rng`` itself is not touched.

    The state is tried on a fresh bit generator of the same class, which refuses another kind
    (a PCG64 state for an MT19937) and a malformed state as it would for ``rng``.

    Raises:
        ValueError: ``"<op>: rngs['loader'] must hold a state of its MT19937, got one it refuses: ..."``.
    """
    kind = type(rng.bit_generator)
    try:
        kind().state = state
    except Exception as error:
        raise ValueError(
            f"{op}: rngs[{name!r}] must hold a state of its {kind.__name__}, got one it refuses: {error}"
        ) from error


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model: Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None = None,
    rngs: dict[str, np.random.Generator] | None = None,
) -> int:
    """Restore a run saved by ``save_checkpoint``; returns the epoch it was saved at.

    All or nothing: either every part is restored (the model's parameters in place, the
    optimizer's state, the schedule, each generator's bit-generator state) or nothing changes.
    First every part is checked against its target without changing anything: the generator
    names and the schedule's class, then ``model.check_state_dict`` (04),
    ``optimizer.check_state_dict`` (06), ``scheduler.check_state_dict`` and
    ``check_generator_state``. Then the parts are applied, with ``model.load_state_dict``,
    ``optimizer.load_state_dict``, ``scheduler.load_state_dict`` and each
    ``rng.bit_generator.state``. Should any of them still raise while applying (a check that
    missed something; any exception, Ctrl-C included), every part is put back as it was
    before the call, and the exception is raised again. Loading removes no file: another
    process may be saving this checkpoint at that very moment (see ``write_atomically``).

    The objects must be built as the saved ones were (same layers, same optimizer class, same
    schedule class, generators under the same names), and every generator the model holds
    must be among ``rngs`` (``check_run``).

    Raises:
        ValueError: from ``read_checkpoint`` and ``check_run``;
            ``"load_checkpoint: rngs must have the saved names ['dropout', 'loader'], got ['loader']"``;
            ``"load_checkpoint: scheduler must match the checkpoint's (StepLR), got None"``;
            ``check_generator_state``'s; 06's ``check_state_dict`` errors (``"load_state_dict:
            hyperparameters must be [...]"`` for another optimizer class); the schedule's
            ``check_state_dict`` errors.
        KeyError, ValueError, TypeError: ``model.check_state_dict``'s errors (04's) when the
            parameters' names, shapes or dtypes differ; ``check_run``'s and 06's TypeErrors.
    Complexity:
        O(file size) time; memory: the arrays read (at most the file's size), plus one copy of
        the model's parameters and of the optimizer's state, kept until every part is applied.
    Example:
        >>> import os, tempfile
        >>> from tinytorch.layers import Linear
        >>> from tinytorch.optimizers import SGD
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "run.ckpt")
        >>> model = Linear(2, 1)
        >>> save_checkpoint(path, model=model, optimizer=SGD(model.parameters(), lr=0.1), epoch=3)
        >>> fresh = Linear(2, 1)
        >>> load_checkpoint(path, model=fresh, optimizer=SGD(fresh.parameters(), lr=0.1))
        3
        >>> bool((fresh.weight.numpy() == model.weight.numpy()).all())
        True
        >>> folder.cleanup()
    """
    raise NotImplementedError("07 training: implement load_checkpoint — see exercises/07_training/README.md, step 7")
