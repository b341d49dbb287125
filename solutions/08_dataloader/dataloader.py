"""08 dataloader: datasets, batches and shuffling, without copying the data.

A ``Dataset`` answers two questions: how many samples (``len``) and which sample is number
``i`` (``dataset[i]``). A ``DataLoader`` walks a dataset in batches: it decides the order of an
epoch (``0..N-1``, or a fresh permutation when shuffling), cuts that order into batches of
indices, and gathers each batch into Tensors. The one systems rule: shuffle the *indices*, never
the data. An epoch then costs one permutation (8 bytes per sample) and one batch at a time,
however large the dataset.

Errors follow one rule, as in 06 and 07: a value of the wrong type (an ndarray where a Dataset
is expected, a dict where a sample tuple is, ``batch_size=2.5``) is a TypeError; a value of the
right type that breaks the rule (``batch_size=0``) is a ValueError. The data themselves are
passed through as they are: NaN and inf included, for the model and the loss to deal with.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator

import numpy as np

from tinytorch import tensor as base
from tinytorch.autograd import Tensor
from tinytorch.datasets import load_digits
from tinytorch.tensor import type_name

# --- given: turning values into arrays ----------------------------------------------------

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats: what a Tensor can hold


def as_array(value) -> np.ndarray:
    """Given: ``value`` as an ndarray; a Tensor (01's or 03's) gives its storage, shared.

    ``np.asarray`` of a Tensor would not: it would walk the Tensor element by element (it has
    ``len`` and ``[i]``) and build an object array of 0-d Tensors, slowly.

    Example:
        >>> as_array(Tensor(np.arange(3))).dtype, as_array([1.5, 2.5]).dtype
        (dtype('int64'), dtype('float64'))
    """
    if isinstance(value, (base.Tensor, Tensor)):
        return value.numpy()
    return np.asarray(value)


# --- the interface ------------------------------------------------------------------------


class Dataset:
    """Given: the interface every dataset offers. Subclasses write ``__getitem__`` and ``__len__``.

    ``dataset[i]`` returns one sample as a tuple (for example ``(features, label)``) and
    ``len(dataset)`` the number of samples. A ``DataLoader`` needs nothing else.
    """

    def __getitem__(self, index: int) -> tuple:
        """Given: the sample number ``index``; a subclass must override it."""
        raise NotImplementedError(f"{type(self).__name__}: a Dataset subclass must implement __getitem__")

    def __len__(self) -> int:
        """Given: the number of samples; a subclass must override it."""
        raise NotImplementedError(f"{type(self).__name__}: a Dataset subclass must implement __len__")


# --- step 1: TensorDataset ----------------------------------------------------------------


class TensorDataset(Dataset):
    """Samples held in ndarrays of equal length: sample ``i`` is ``(a[i] for a in arrays)``."""

    def __init__(self, *arrays: np.ndarray) -> None:
        """Keep ``arrays`` as they are (no copy, no dtype change) in ``self.arrays``.

        Args:
            *arrays: one or more ndarrays (or Tensors, whose storage is taken, shared; or
                nested lists) of shapes (N, ...), all with the same first dimension N (e.g.
                features (N, C) and labels (N,)), holding booleans, integers or floats.
        Raises:
            ValueError: ``"TensorDataset: at least one array must be given, got 0"``;
                ``"TensorDataset: arrays must have at least 1 dimension, got shape ()"``;
                ``"TensorDataset: arrays must have the same first dimension, got lengths (5, 4)"``.
            TypeError: ``"TensorDataset: array 1 must hold booleans, integers or floats, got dtype object"``.
        Complexity:
            O(len(arrays)) time; no extra memory: the arrays are shared, not copied.
        Example:
            >>> data = TensorDataset(np.zeros((5, 3)), np.arange(5))
            >>> len(data.arrays), data.arrays[1].dtype
            (2, dtype('int64'))
        """
        # solution: step 1
        if len(arrays) == 0:
            raise ValueError("TensorDataset: at least one array must be given, got 0")
        kept = tuple(as_array(array) for array in arrays)  # an ndarray is kept, not copied
        for i, array in enumerate(kept):
            if array.dtype.kind not in NUMERIC_KINDS:  # strings, objects: no Tensor can hold them
                raise TypeError(
                    f"TensorDataset: array {i} must hold booleans, integers or floats, got dtype {array.dtype}"
                )
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: arrays must have at least 1 dimension, got shape {array.shape}")
        lengths = tuple(len(array) for array in kept)
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same first dimension, got lengths {lengths}")
        self.arrays = kept

    def __len__(self) -> int:
        """The number of samples N: the arrays' common first dimension.

        Example:
            >>> len(TensorDataset(np.zeros((5, 3)), np.arange(5)))
            5
        """
        # solution: step 1
        return len(self.arrays[0])

    def __getitem__(self, index: int | slice | np.ndarray) -> tuple[np.ndarray, ...]:
        """One sample, or a batch: ``tuple(array[index] for array in self.arrays)``.

        Args:
            index: an int (one sample: views of shape (...)), a slice (views of shape
                (B, ...)) or an integer array of B indices (copies of shape (B, ...)).
        Returns:
            A tuple with one entry per array, dtypes unchanged.
        Raises:
            IndexError: from NumPy, for an index out of range.
        Complexity:
            O(1) for an int or a slice (views); O(B · item size) time and memory for an
            integer array: NumPy's fancy indexing copies exactly the B rows asked for.
        Example:
            >>> data = TensorDataset(np.arange(10).reshape(5, 2), np.arange(5))
            >>> data[np.array([4, 0])]
            (array([[8, 9],
                   [0, 1]]), array([4, 0]))
        """
        # solution: step 1
        return tuple(array[index] for array in self.arrays)


# --- step 2: gathering a batch of samples from any Dataset --------------------------------


def collate(samples: Iterable[tuple]) -> tuple[np.ndarray, ...]:
    """Stack B samples, field by field: ``(stack of first fields, stack of second fields, ...)``.

    A sample is a tuple (or a list) of fields. Anything else is refused rather than guessed
    at: a dict would stack its keys, and an ndarray would have its elements taken for fields.
    (PyTorch's ``default_collate`` turns dict samples into a dict of batches; here a batch is a
    tuple, so a dataset of dicts must return tuples instead.)

    Args:
        samples: B >= 1 tuples of equal length F (any iterable of them: it is read once);
            field f of every sample has one shape S_f (a number counts as shape ()) and holds
            booleans, integers or floats (a Tensor gives its storage).
    Returns:
        F ndarrays, the f-th of shape (B, *S_f), with NumPy's dtype for the stacked values
        (float32 stays float32; Python ints become int64).
    Raises:
        ValueError: ``"collate: at least one sample must be given, got 0"``;
            ``"collate: samples must have the same number of fields, got 2 and 3"``;
            ``"collate: field 0 must have one shape in every sample, got (2,) in sample 0 and
            (3,) in sample 1"``.
        TypeError: ``"collate: each sample must be a tuple (or list) of fields, got dict in sample 0"``;
            ``"collate: field 1 must hold booleans, integers or floats, got dtype <U3"``.
    Complexity:
        O(B · sample size) time; one copy of the batch in memory.
    Example:
        >>> collate([(np.zeros(2, np.float32), 3), (np.ones(2, np.float32), 7)])
        (array([[0., 0.],
               [1., 1.]], dtype=float32), array([3, 7]))
    """
    # solution: step 2
    samples = list(samples)
    if len(samples) == 0:
        raise ValueError("collate: at least one sample must be given, got 0")
    for i, sample in enumerate(samples):
        if not isinstance(sample, (tuple, list)):
            raise TypeError(
                f"collate: each sample must be a tuple (or list) of fields, got {type_name(sample)} in sample {i}"
            )
    counts = sorted({len(sample) for sample in samples})
    if len(counts) != 1:
        raise ValueError(f"collate: samples must have the same number of fields, got {counts[0]} and {counts[-1]}")
    batch = []
    for f, field in enumerate(zip(*samples, strict=True)):  # field f of every sample: (x0, x1, ...)
        values = [as_array(value) for value in field]
        for i, value in enumerate(values):
            if value.shape != values[0].shape:  # np.stack would only say "the same shape"
                raise ValueError(
                    f"collate: field {f} must have one shape in every sample, "
                    f"got {values[0].shape} in sample 0 and {value.shape} in sample {i}"
                )
        stacked = np.stack(values)  # (B, *S_f)
        if stacked.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"collate: field {f} must hold booleans, integers or floats, got dtype {stacked.dtype}")
        batch.append(stacked)
    return tuple(batch)


# --- steps 3 to 5: DataLoader -------------------------------------------------------------


class DataLoader:
    """Iterate over a dataset in batches of Tensors, in order or shuffled with a seed."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        """Remember the settings and make the generator that every epoch's shuffle draws from.

        Args:
            dataset: any Dataset (``len`` and ``dataset[i]``, a sample being a tuple of
                fields; a list of ``(x, y)`` tuples works too); a TensorDataset is gathered
                faster (see ``__iter__``). An ndarray or a Tensor is refused: its rows are not
                samples of fields. Wrap arrays as ``TensorDataset(x, y)``.
            batch_size: B, the samples per batch, an int >= 1.
            shuffle: visit the samples in a fresh random order every epoch (a bool).
            drop_last: skip the final batch when it has fewer than B samples (a bool).
            seed: what ``np.random.default_rng`` accepts, as it does: an int >= 0 seeds
                ``self.rng = np.random.default_rng(seed)``, made once here (the same seed
                gives the same sequence of epochs); a Generator is used as it is (shared);
                None gives a different sequence each run.
        Raises:
            TypeError: ``"DataLoader: dataset must be a Dataset (len and [i]), got ndarray; wrap
                arrays as TensorDataset(x, y)"``; ``"DataLoader: batch_size must be an int, got float"``
                (also True); ``"DataLoader: shuffle must be a bool, got str"`` (also drop_last);
                ``"DataLoader: seed must be None, an int or a numpy.random.Generator, got float"``.
            ValueError: ``"DataLoader: batch_size must be an int >= 1, got 0"``;
                ``"DataLoader: seed must be >= 0, got -1"``.
        Complexity:
            O(1): nothing is read from the dataset.
        Example:
            >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2, seed=0)
            >>> loader.batch_size, loader.shuffle, loader.drop_last
            (2, False, False)
        """
        # solution: step 3
        sized = hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")
        if isinstance(dataset, (np.ndarray, base.Tensor, Tensor)) or not sized:
            raise TypeError(
                f"DataLoader: dataset must be a Dataset (len and [i]), got {type_name(dataset)}; "
                "wrap arrays as TensorDataset(x, y)"
            )
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"DataLoader: batch_size must be an int, got {type_name(batch_size)}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be an int >= 1, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):  # "no" would be truthy, and shuffle
                raise TypeError(f"DataLoader: {name} must be a bool, got {type_name(flag)}")
        integer_seed = isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_))
        if not (seed is None or integer_seed or isinstance(seed, np.random.Generator)):
            raise TypeError(f"DataLoader: seed must be None, an int or a numpy.random.Generator, got {type_name(seed)}")
        if integer_seed and seed < 0:
            raise ValueError(f"DataLoader: seed must be >= 0, got {seed}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches in an epoch: ⌈N / B⌉, or ⌊N / B⌋ with ``drop_last``.

        Example:
            >>> len(DataLoader(TensorDataset(np.arange(10)), batch_size=4))
            3
            >>> len(DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True))
            2
        """
        # solution: step 3
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size  # ⌈n / B⌉ in integers: no float rounding

    def epoch_order(self) -> np.ndarray:
        """The order one epoch visits the samples in: ``0..N-1``, or a new permutation.

        With ``shuffle``, each call draws ``self.rng.permutation(N)``: a fresh order every
        epoch from the one generator, so a seed fixes the whole sequence of epochs.

        Returns:
            An int64 array of shape (N,) holding each of 0..N-1 exactly once.
        Complexity:
            O(N) time; 8·N bytes, the only memory that grows with the dataset.
        Example:
            >>> DataLoader(TensorDataset(np.arange(4))).epoch_order()
            array([0, 1, 2, 3])
        """
        # solution: step 4
        n = len(self.dataset)
        if self.shuffle:
            return self.rng.permutation(n)  # permute the indices, never the data
        return np.arange(n)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        """Yield one epoch's batches, each a tuple of Tensors (one per field of a sample).

        Batch k holds the samples ``order[k·B : (k+1)·B]`` of ``order = self.epoch_order()``.
        A TensorDataset gathers a batch with one fancy index per array (``dataset[indices]``);
        any other Dataset is asked sample by sample and the samples are ``collate``-d.
        Dtypes are kept: float features stay float32, integer labels stay integer.

        Yields:
            Tuples of Tensors of shapes (B, ...), the last one (B', ...) with B' = N mod B
            unless ``drop_last`` drops it; ``len(self)`` batches in all.
        Complexity:
            O(N · sample size) time per epoch; extra memory: the order (8·N bytes) and the
            batch being built (one copy of B samples). The dataset is never copied.
        Example:
            >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2)
            >>> [batch[0].numpy().tolist() for batch in loader]
            [[0, 1], [2, 3], [4]]
        """
        # solution: step 5
        order = self.epoch_order()  # (N,)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start : start + self.batch_size]  # (B,) a view of the order
            if isinstance(self.dataset, TensorDataset):
                arrays = self.dataset[indices]  # one fancy index per array: one copy of the batch
            else:
                arrays = collate([self.dataset[int(i)] for i in indices])
            yield tuple(Tensor(array) for array in arrays)  # Tensor shares the array: no copy


# --- step 6: the shipped digits ------------------------------------------------------------


def digits(split: str = "train") -> TensorDataset:
    """The 8×8 handwritten digits as a TensorDataset ``(images, labels)``.

    Images are flattened to 64 pixels and scaled from 0..16 to [0, 1] (divided by 16).

    Args:
        split: ``"train"`` (N = 1437) or ``"test"`` (N = 360).
    Returns:
        A TensorDataset of images (N, 64) float32 in [0, 1] and labels (N,) int64 in 0..9.
    Raises:
        ValueError: ``"digits: split must be 'train' or 'test', got 'val'"``.
    Complexity:
        O(N · 64) time; the float32 images (N · 64 · 4 bytes) and int64 labels (N · 8 bytes).
    Example:
        >>> images, labels = digits("test").arrays
        >>> images.shape, images.dtype, labels.dtype
        ((360, 64), dtype('float32'), dtype('int64'))
    """
    # solution: step 6
    if split not in ("train", "test"):
        raise ValueError(f"digits: split must be 'train' or 'test', got {split!r}")
    x_train, y_train, x_test, y_test = load_digits()
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)  # (N, 8, 8) uint8, (N,) uint8
    images = x.reshape(len(x), 64).astype(np.float32)  # (N, 64)
    images /= 16.0  # in place: no second float32 copy
    return TensorDataset(images, y.astype(np.int64))
