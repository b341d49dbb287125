"""07 training: the loop that trains a model, the schedules that steer it, the checkpoints that save it.

``train_epoch`` is PyTorch's five-line loop (zero_grad, forward, loss, backward, step) made
into a function; ``evaluate`` runs the model without building a graph; ``clip_grad_norm_``
bounds a step when one batch produces a huge gradient; ``StepLR`` and ``CosineWithWarmup``
change the optimizer's ``lr`` as training goes on. Checkpoints are one ``.npz`` file: the
arrays, plus one JSON text that describes everything else. Loading one never runs code (no
pickle), and saving one is atomic: a crash mid-save leaves the previous checkpoint intact. A
run resumed from a checkpoint continues bit for bit, because everything that decides the next
step is saved: the weights, the optimizer's state, the schedule's step and the random
generators (the loader's shuffle, the dropout masks).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable

import numpy as np

from tinytorch.autograd import Tensor, no_grad
from tinytorch.layers import Module
from tinytorch.optimizers import Optimizer

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

    Args:
        model: a Module, put in training mode first (Dropout active).
        loader: an iterable of ``(x, y)``: x a Tensor of shape (B, ...), y its targets.
        loss_fn: ``loss_fn(output, y)`` -> 0-d Tensor, the batch's mean loss (05's losses).
        optimizer: over the model's parameters (06).
        scheduler: stepped after every optimizer step: per batch, not per epoch.
        max_grad_norm: clip the gradients' global norm to this before each step.
    Returns:
        The mean loss, a Python float (each batch's loss before its step).
    Raises:
        ValueError: ``"train_epoch: loader must yield at least one batch, got none"``.
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
    # solution: step 1
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()  # else backward adds this batch's gradient to the last one's
        loss = loss_fn(model(x), y)  # 0-d
        loss.backward()  # fills every p.grad and frees the batch's graph
        if max_grad_norm is not None:
            clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # NOTE: a float, never `total += loss`: adding Tensors would chain every batch's graph.
        total += float(loss.numpy()) * len(x)
        count += len(x)
    if count == 0:
        raise ValueError("train_epoch: loader must yield at least one batch, got none")
    return total / count


# --- step 2: evaluation -------------------------------------------------------------------


def evaluate(model: Module, loader: Iterable, loss_fn: Callable) -> tuple[float, float]:
    """Mean loss and accuracy over ``loader``, in eval mode and without building a graph.

    Accuracy is the fraction of samples whose largest logit is at their label:
    ``mean(argmax(logits, axis=1) == y)``. Every module's mode is restored afterwards, even
    when the model raises, so ``evaluate`` can be called in the middle of training.

    Args:
        model: a classifier: ``model(x)`` gives logits of shape (B, C).
        loader: an iterable of ``(x, y)``: x a Tensor (B, ...), y an integer Tensor (B,).
        loss_fn: ``loss_fn(logits, y)`` -> 0-d Tensor, the batch's mean loss.
    Returns:
        ``(mean loss, accuracy)``, Python floats, both weighted by batch size.
    Raises:
        ValueError: ``"evaluate: loader must yield at least one batch, got none"``.
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
    # solution: step 2
    modes = [(module, module.training) for _, module in model.named_modules()]
    model.eval()
    total, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for x, y in loader:
                logits = model(x)  # (B, C)
                total += float(loss_fn(logits, y).numpy()) * len(x)
                correct += int((logits.numpy().argmax(axis=1) == y.numpy()).sum())
                count += len(x)
    finally:
        for module, mode in modes:  # each module's own mode: a frozen Dropout stays frozen
            module.training = mode
    if count == 0:
        raise ValueError("evaluate: loader must yield at least one batch, got none")
    return total / count, correct / count


# --- step 3: gradient clipping ------------------------------------------------------------


def clip_grad_norm_(parameters: Iterable[Tensor], max_norm: float) -> float:
    """Scale every gradient, in place, so that their global L2 norm is at most ``max_norm``.

    ``norm = √(Σ_p Σ_i p.grad_i²)`` over all the gradients together (None is skipped). When
    ``norm > max_norm`` every gradient is multiplied by ``max_norm / norm``: the direction of
    the step is kept, only its length is bounded.

    Args:
        parameters: an iterable of Tensors (read once: a generator is fine).
        max_norm: the bound, >= 0.
    Returns:
        The global norm before clipping, a Python float.
    Raises:
        ValueError: ``"clip_grad_norm_: max_norm must be >= 0, got -1.0"``;
            ``"clip_grad_norm_: the gradients' norm must be finite, got inf"`` (nothing is changed).
    Complexity:
        O(N) time over the N gradient elements. Extra memory: none for gradients that are
        contiguous in C or Fortran order (backward makes C order); a strided view is copied.
    Example:
        >>> w = Tensor(np.zeros(2), requires_grad=True)
        >>> w.grad = np.array([3.0, 4.0])
        >>> clip_grad_norm_([w], max_norm=1.0), w.grad
        (5.0, array([0.6, 0.8]))
    """
    # solution: step 3
    if not max_norm >= 0:  # `not >=` also rejects nan
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = 0.0
    for grad in grads:
        flat = grad.ravel(order="K")  # a view for any contiguous array: no copy
        squares += float(np.dot(flat, flat))  # Σ g² without a g² temporary
    norm = math.sqrt(squares)
    if not math.isfinite(norm):
        raise ValueError(f"clip_grad_norm_: the gradients' norm must be finite, got {norm}")
    if norm > max_norm:
        scale = max_norm / norm  # NOTE: only when norm > max_norm >= 0, so never a division by 0
        for grad in grads:
            grad *= scale  # in place: a Python float keeps float32 float32
    return norm


# --- step 4: learning-rate schedules ------------------------------------------------------


class LRScheduler:
    """Given: the base of the schedules. ``lr_at(t)`` is the lr after t optimizer steps.

    On creation the optimizer's ``lr`` becomes ``base_lr``, remembered, and is replaced by
    ``lr_at(0)``; each ``step()`` moves to the next value. A subclass lists the attributes
    that ``state_dict`` saves in ``hyperparameter_names``.
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
        # solution: step 4
        self.step_count += 1
        self.optimizer.lr = self.lr

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
        # solution: step 4
        hyperparameters = {name: getattr(self, name) for name in self.hyperparameter_names}
        return {"name": type(self).__name__, "base_lr": self.base_lr, "step_count": self.step_count, **hyperparameters}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``; the optimizer's lr becomes the restored schedule's ``lr``.

        Checked before anything changes: the keys of ``state_dict()`` and the class name.

        Raises:
            ValueError: ``"load_state_dict: keys must be ['base_lr', 'gamma', 'name', 'step_count',
                'step_size'], got [...]"``; ``"load_state_dict: name must be 'StepLR', got 'Other'"``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
            >>> scheduler.load_state_dict({"name": "StepLR", "base_lr": 1.0, "step_count": 4,
            ...                            "step_size": 2, "gamma": 0.5})
            >>> optimizer.lr
            0.25
        """
        # solution: step 4
        expected = self.state_dict()
        if sorted(state) != sorted(expected):
            raise ValueError(f"load_state_dict: keys must be {sorted(expected)}, got {sorted(state)}")
        if state["name"] != expected["name"]:
            raise ValueError(f"load_state_dict: name must be {expected['name']!r}, got {state['name']!r}")
        for key, value in state.items():
            if key != "name":
                setattr(self, key, value)
        self.optimizer.lr = self.lr


class StepLR(LRScheduler):
    """``lr_t = base_lr · gamma^⌊t / step_size⌋``: divide the lr by 1/gamma every step_size steps."""

    hyperparameter_names = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        """Check and keep the hyper-parameters, then start (``LRScheduler.__init__``).

        Raises:
            ValueError: ``"StepLR: step_size must be a positive integer, got 0"``;
                ``"StepLR: gamma must be > 0, got -0.5"``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), step_size=5).gamma
            0.1
        """
        # solution: step 4
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        if not gamma > 0:
            raise ValueError(f"StepLR: gamma must be > 0, got {gamma}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)  # last: it calls lr_at, which needs the hyper-parameters

    def lr_at(self, t: int) -> float:
        """``base_lr · gamma ** (t // step_size)``.

        Example:
            >>> from tinytorch.optimizers import SGD
            >>> scheduler = StepLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0), 2, gamma=0.5)
            >>> [scheduler.lr_at(t) for t in range(5)]
            [1.0, 1.0, 0.5, 0.5, 0.25]
        """
        # solution: step 4
        return self.base_lr * self.gamma ** (t // self.step_size)


class CosineWithWarmup(LRScheduler):
    """Linear warm-up to ``base_lr`` over W steps, then a half cosine down to ``min_lr`` at T."""

    hyperparameter_names = ("warmup_steps", "total_steps", "min_lr")

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> None:
        """Check and keep the hyper-parameters, then start (``LRScheduler.__init__``).

        Raises:
            ValueError: ``"CosineWithWarmup: warmup_steps must be an integer >= 0, got -1"``;
                ``"CosineWithWarmup: total_steps must be an integer > warmup_steps = 10, got 10"``;
                ``"CosineWithWarmup: min_lr must be in [0, lr = 0.1], got 0.5"``.
        Example:
            >>> from tinytorch.optimizers import SGD
            >>> optimizer = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
            >>> scheduler = CosineWithWarmup(optimizer, warmup_steps=4, total_steps=10)
            >>> optimizer.lr  # the first step already warms up
            0.25
        """
        # solution: step 4
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"CosineWithWarmup: warmup_steps must be an integer >= 0, got {warmup_steps!r}")
        if not isinstance(total_steps, int) or total_steps <= warmup_steps:
            raise ValueError(
                f"CosineWithWarmup: total_steps must be an integer > warmup_steps = {warmup_steps}, got {total_steps!r}"
            )
        if not 0 <= min_lr <= optimizer.lr:
            raise ValueError(f"CosineWithWarmup: min_lr must be in [0, lr = {optimizer.lr}], got {min_lr}")
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        super().__init__(optimizer)

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
        # solution: step 4
        if t < self.warmup_steps:
            return self.base_lr * (t + 1) / self.warmup_steps  # NOTE: t + 1: the first step is not wasted at lr 0
        progress = min(1.0, (t - self.warmup_steps) / (self.total_steps - self.warmup_steps))  # 0 → 1
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


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
    # solution: step 5
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:  # np.savez would pickle it, and loading refuses pickles
            raise TypeError(f"pack: arrays must not hold Python objects, got dtype {value.dtype}")
        name = f"array_{len(arrays)}"
        arrays[name] = value
        return {"array": name}
    if isinstance(value, dict):
        return {"dict": [[pack(key, arrays), pack(item, arrays)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [pack(item, arrays) for item in value]}
    if isinstance(value, list):
        return [pack(item, arrays) for item in value]
    if isinstance(value, np.generic):
        return value.item()  # np.float32(0.5) -> 0.5: JSON knows Python numbers only
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"pack: values must be arrays, numbers, strings, lists, tuples or dicts, got {type(value).__name__}"
    )


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
    # solution: step 5
    if isinstance(value, list):
        return [unpack(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value  # None, bool, int, float, str
    if len(value) != 1 or next(iter(value)) not in ("array", "dict", "tuple"):
        raise ValueError(f"unpack: a tagged value must be {{'array'|'dict'|'tuple': ...}}, got {value}")
    if "array" in value:
        return arrays[value["array"]]
    if "dict" in value:
        return {unpack(key, arrays): unpack(item, arrays) for key, item in value["dict"]}
    return tuple(unpack(item, arrays) for item in value["tuple"])


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


def write_atomically(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` file at ``path``: all of it, or nothing at all.

    Written to a temporary file in the same directory, flushed to disk (``flush``, then
    ``os.fsync``), then renamed over ``path`` with ``os.replace``, which is atomic on one file
    system: a reader, or a run restarted after a crash, sees the old file or the new one, never
    half of one. On any error the temporary file is removed and the old file is untouched.

    Args:
        path: the file to write (any name: ``np.savez`` adds no ``.npz`` to an open file).
        arrays: name -> ndarray, as for ``np.savez``.
    Raises:
        Whatever writing raises (a full disk: OSError), after cleaning up.
    Complexity:
        O(total bytes) time; on disk, the old and the new file for a moment.
    Example:
        >>> import os, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> write_atomically(os.path.join(folder.name, "a.npz"), {"x": np.arange(3)})
        >>> os.listdir(folder.name)
        ['a.npz']
        >>> folder.cleanup()
    """
    # solution: step 6
    directory = os.path.dirname(os.path.abspath(path))  # same directory: os.replace cannot cross disks
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays)
            file.flush()  # Python's buffer -> the operating system
            os.fsync(file.fileno())  # the operating system's cache -> the disk
        os.replace(temporary, path)  # the atomic moment
    except BaseException:  # also KeyboardInterrupt: never leave a half-written file behind
        os.unlink(temporary)
        raise
    fsync_directory(directory)


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
        epoch: the number of epochs done, an int >= 0.
        rngs: name -> np.random.Generator whose state decides what comes next (the loader's
            ``rng``, a Dropout's ``rng``).
    Raises:
        ValueError: ``"save_checkpoint: epoch must be an integer >= 0, got -1"``.
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
    # solution: step 6
    if not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"save_checkpoint: epoch must be an integer >= 0, got {epoch!r}")
    arrays: dict[str, np.ndarray] = {}
    meta = {
        **FORMAT,
        "epoch": epoch,
        "model": pack(model.state_dict(), arrays),
        "optimizer": pack(optimizer.state_dict(), arrays),
        "scheduler": pack(None if scheduler is None else scheduler.state_dict(), arrays),
        "rngs": pack({name: rng.bit_generator.state for name, rng in (rngs or {}).items()}, arrays),
    }
    # NOTE: json writes a float as its shortest exact repr, so every float reads back bit for bit.
    arrays[META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    write_atomically(path, arrays)


# --- step 7: loading ----------------------------------------------------------------------


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint file into a dict of plain values, or say clearly why it is not one.

    Opens with ``allow_pickle=False``: a file can hold only numbers and text, so reading an
    untrusted checkpoint never runs code.

    Returns:
        ``{"format", "version", "epoch", "model", "optimizer", "scheduler", "rngs"}``, unpacked.
    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"load_checkpoint: run.ckpt is not a valid checkpoint: <the reason>"``, for
            a file that is not an .npz, is truncated, holds pickles, has no valid "meta", or
            another format or version.
    Complexity:
        O(file size) time and memory: every array is read.
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
    # solution: step 7
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive[META]).decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != META}
        if sorted(meta) != KEYS or {key: meta[key] for key in FORMAT} != FORMAT:
            raise ValueError(f"meta must hold {FORMAT} and the keys {KEYS}, got {sorted(meta)}")
        return {key: unpack(value, arrays) for key, value in meta.items()}
    except FileNotFoundError:
        raise
    # NOTE: each way a file can be broken raises its own type: a bad zip, a short read, bad JSON...
    except (OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"load_checkpoint: {path} is not a valid checkpoint: {error}") from error


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model: Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None = None,
    rngs: dict[str, np.random.Generator] | None = None,
) -> int:
    """Restore a run saved by ``save_checkpoint``; returns the epoch it was saved at.

    The model's parameters are overwritten in place (04's ``load_state_dict``), then the
    optimizer's state (06), the schedule and each generator's bit-generator state. The
    objects must be built as the saved ones were (same layers, same optimizer class, same
    schedule class, generators under the same names). A checkpoint that does not fit the
    generator names, the schedule's class, the model or the optimizer changes nothing: the
    model's old weights are put back when the optimizer refuses its state.

    Raises:
        ValueError: from ``read_checkpoint``;
            ``"load_checkpoint: rngs must have the saved names ['dropout', 'loader'], got ['loader']"``;
            ``"load_checkpoint: scheduler must match the checkpoint's (StepLR), got None"``;
            06's ``load_state_dict`` errors (``"load_state_dict: hyperparameters must be [...]"``
            for another optimizer class), and the schedule's.
        KeyError, ValueError, TypeError: 04's ``load_state_dict`` errors when the parameters'
            names, shapes or dtypes differ.
    Complexity:
        O(file size) time and memory, plus one copy of the model's parameters (kept until the
        optimizer has accepted its state).
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
    # solution: step 7
    saved = read_checkpoint(path)
    rngs = rngs or {}
    if sorted(rngs) != sorted(saved["rngs"]):
        raise ValueError(f"load_checkpoint: rngs must have the saved names {sorted(saved['rngs'])}, got {sorted(rngs)}")
    saved_schedule = None if saved["scheduler"] is None else saved["scheduler"]["name"]
    given_schedule = None if scheduler is None else type(scheduler).__name__
    if given_schedule != saved_schedule:
        raise ValueError(
            f"load_checkpoint: scheduler must match the checkpoint's ({saved_schedule}), got {given_schedule}"
        )
    previous = model.state_dict()  # copies, put back if the optimizer refuses its state
    model.load_state_dict(saved["model"])  # checks every name, shape and dtype before writing
    try:
        optimizer.load_state_dict(saved["optimizer"])  # checks everything before changing anything
    except ValueError:
        model.load_state_dict(previous)  # all or nothing: another optimizer leaves the model as it was
        raise
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    for name, rng in rngs.items():
        rng.bit_generator.state = saved["rngs"][name]  # the next draw is the one the saved run made
    return saved["epoch"]
