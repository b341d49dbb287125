# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
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


def seeded_generator(op: str, seed: int | np.random.Generator | None) -> np.random.Generator:
    """Given: ``np.random.default_rng(seed)``, after checking ``seed`` as 08 takes it everywhere.

    An int >= 0 seeds a new generator (the same seed, the same draws); a Generator is returned
    as it is (shared, not copied); None gives fresh entropy. ``op`` names the caller in errors.

    Raises:
        TypeError: ``"DataLoader: seed must be None, an int or a numpy.random.Generator, got float"``
            (also a bool).
        ValueError: ``"DataLoader: seed must be >= 0, got -1"``.
    Example:
        >>> generator = np.random.default_rng(1)
        >>> seeded_generator("DataLoader", generator) is generator
        True
    """
    integer_seed = isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_))
    if not (seed is None or integer_seed or isinstance(seed, np.random.Generator)):
        raise TypeError(f"{op}: seed must be None, an int or a numpy.random.Generator, got {type_name(seed)}")
    if integer_seed and seed < 0:
        raise ValueError(f"{op}: seed must be >= 0, got {seed}")
    return np.random.default_rng(seed)


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
        raise NotImplementedError(
            "08 dataloader: implement TensorDataset.__init__ — see exercises/08_dataloader/README.md, step 1"
        )

    def __len__(self) -> int:
        """The number of samples N: the arrays' common first dimension.

        Example:
            >>> len(TensorDataset(np.zeros((5, 3)), np.arange(5)))
            5
        """
        raise NotImplementedError(
            "08 dataloader: implement TensorDataset.__len__ — see exercises/08_dataloader/README.md, step 1"
        )

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
        raise NotImplementedError(
            "08 dataloader: implement TensorDataset.__getitem__ — see exercises/08_dataloader/README.md, step 1"
        )


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
    raise NotImplementedError("08 dataloader: implement collate — see exercises/08_dataloader/README.md, step 2")


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
                None gives a different sequence each run. The given ``seeded_generator``
                checks it and makes ``self.rng``.
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
        raise NotImplementedError(
            "08 dataloader: implement DataLoader.__init__ — see exercises/08_dataloader/README.md, step 3"
        )

    def __len__(self) -> int:
        """The number of batches in an epoch: ⌈N / B⌉, or ⌊N / B⌋ with ``drop_last``.

        Example:
            >>> len(DataLoader(TensorDataset(np.arange(10)), batch_size=4))
            3
            >>> len(DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True))
            2
        """
        raise NotImplementedError(
            "08 dataloader: implement DataLoader.__len__ — see exercises/08_dataloader/README.md, step 3"
        )

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
        raise NotImplementedError(
            "08 dataloader: implement DataLoader.epoch_order — see exercises/08_dataloader/README.md, step 4"
        )

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
        raise NotImplementedError(
            "08 dataloader: implement DataLoader.__iter__ — see exercises/08_dataloader/README.md, step 5"
        )


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
    raise NotImplementedError("08 dataloader: implement digits — see exercises/08_dataloader/README.md, step 6")


# --- step 7: transforms: random crops and flips, drawn from a generator --------------------
#
# A transform is a callable ``transform(image, rng) -> image``: it takes one sample's image, of
# shape (..., H, W) (for example (C, H, W), channels first), and draws whatever it needs from
# ``rng``, a ``np.random.Generator`` (never the global ``np.random``), so the same generator
# state gives the same output. Like 04's ``rng=``, ``rng`` must be a Generator: a seed is
# turned into one once, by whoever owns the sequence (``TransformedDataset``, step 8).


def check_image(op: str, image) -> np.ndarray:
    """Given: ``image`` as an ndarray of numbers with at least 2 dimensions (..., H, W).

    Raises:
        TypeError: ``"RandomCrop: image must hold booleans, integers or floats, got dtype <U1"``.
        ValueError: ``"RandomCrop: image must have at least 2 dimensions (..., H, W), got shape (5,)"``.
    """
    array = as_array(image)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{op}: image must hold booleans, integers or floats, got dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(f"{op}: image must have at least 2 dimensions (..., H, W), got shape {array.shape}")
    return array


def check_rng(op: str, rng) -> None:
    """Given: refuse an ``rng`` that is not a ``np.random.Generator`` (an int seed included).

    Raises:
        TypeError: ``"RandomCrop: rng must be a numpy.random.Generator, got int (for a seed, pass
            np.random.default_rng(seed))"``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{op}: rng must be a numpy.random.Generator, got {type_name(rng)}"
            " (for a seed, pass np.random.default_rng(seed))"
        )


def check_count(op: str, name: str, value, minimum: int) -> None:
    """Given: refuse ``value`` unless it is an int (not a bool) >= ``minimum``.

    Raises:
        TypeError: ``"RandomCrop: size must be an int, got float"``.
        ValueError: ``"RandomCrop: size must be an int >= 1, got 0"``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type_name(value)}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum}, got {value}")


class RandomCrop:
    """Pad an image with zeros on every side, then cut out a window at a random place."""

    def __init__(self, size: int | tuple[int, int], padding: int = 0) -> None:
        """Check and keep the window's size ``self.size = (h, w)`` and ``self.padding``.

        Args:
            size: the window, an int s (an s × s window) or a pair (h, w) of ints >= 1.
            padding: P >= 0 rows and columns of zeros added on each side before cropping.
        Raises:
            TypeError: ``"RandomCrop: size must be an int, got float"`` (also an entry of the
                pair, a bool, and padding); ``"RandomCrop: size must be an int or a pair (h, w)
                of ints, got list"`` (a tuple of another length too).
            ValueError: ``"RandomCrop: size must be an int >= 1, got 0"``;
                ``"RandomCrop: padding must be an int >= 0, got -1"``.
        Complexity:
            O(1).
        Example:
            >>> crop = RandomCrop(3, padding=1)
            >>> crop.size, crop.padding
            ((3, 3), 1)
        """
        raise NotImplementedError(
            "08 dataloader: implement RandomCrop.__init__ — see exercises/08_dataloader/README.md, step 7"
        )

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A window of ``self.size`` from ``image`` padded with ``self.padding`` zeros on each side.

        The window's top row is drawn uniformly from 0..H+2P-h and its left column from
        0..W+2P-w (both ends included), so every window of the padded image can come out; the
        window must fit: h <= H + 2P and w <= W + 2P. For example ``RandomCrop(16, padding=8)``
        puts an 8 × 8 digit at a random place of a 16 × 16 canvas (its corner at 0..8 each way).

        Args:
            image: (..., H, W), numbers (a Tensor gives its storage); leading axes, e.g.
                channels, are kept whole.
            rng: a ``np.random.Generator``; the window's place is drawn from it.
        Returns:
            (..., h, w), the image's dtype (zeros of that dtype where the window covers the
            padding). It may share memory with ``image`` (without padding, it is a view).
        Raises:
            TypeError: ``check_image``'s and ``check_rng``'s.
            ValueError: ``check_image``'s; ``"RandomCrop: size must fit in the padded image,
                got size (5, 5) and padded image (4, 4)"``.
        Complexity:
            O(... · (H + 2P) · (W + 2P)) time and memory for the padded copy when P > 0; O(1) when P = 0.
        Example:
            >>> image = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
            >>> RandomCrop(2)(image, np.random.default_rng(0)).tolist()  # the only 2 × 2 window
            [[[0.0, 1.0], [2.0, 3.0]]]
        """
        raise NotImplementedError(
            "08 dataloader: implement RandomCrop.__call__ — see exercises/08_dataloader/README.md, step 7"
        )


class RandomHorizontalFlip:
    """Mirror an image left to right with probability p."""

    def __init__(self, p: float = 0.5) -> None:
        """Check and keep the probability ``self.p``.

        Args:
            p: the probability of a flip, a real number in [0, 1].
        Raises:
            TypeError: ``"RandomHorizontalFlip: p must be a real number, got str"`` (also a bool).
            ValueError: ``"RandomHorizontalFlip: p must be in [0, 1], got 1.5"`` (also nan).
        Complexity:
            O(1).
        Example:
            >>> RandomHorizontalFlip().p
            0.5
        """
        raise NotImplementedError(
            "08 dataloader: implement RandomHorizontalFlip.__init__ — see exercises/08_dataloader/README.md, step 7"
        )

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``image[..., ::-1]`` (its columns in reverse order) with probability p, else ``image``.

        One ``u = rng.random()`` is drawn per call, whatever p is, and the image is flipped
        when ``u < p``: p = 0 never flips and p = 1 always does.

        Args:
            image: (..., H, W), numbers (a Tensor gives its storage).
            rng: a ``np.random.Generator``.
        Returns:
            (..., H, W), the image's dtype: a view of ``image``, flipped or not.
        Raises:
            TypeError, ValueError: ``check_image``'s and ``check_rng``'s.
        Complexity:
            O(1) time and memory: a reversed view, no copy.
        Example:
            >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]]), np.random.default_rng(0))
            array([[3, 2, 1]])
        """
        raise NotImplementedError(
            "08 dataloader: implement RandomHorizontalFlip.__call__ — see exercises/08_dataloader/README.md, step 7"
        )


class Compose:
    """Chain transforms: ``Compose([a, b])(image, rng)`` is ``b(a(image, rng), rng)``."""

    def __init__(self, transforms: list | tuple) -> None:
        """Check and keep the transforms, in order, as the tuple ``self.transforms``.

        Args:
            transforms: a list or tuple of callables ``t(image, rng) -> image``; empty: the identity.
        Raises:
            TypeError: ``"Compose: transforms must be a list or tuple of transforms, got RandomCrop"``;
                ``"Compose: transform 1 must be callable as t(image, rng), got int"``.
        Complexity:
            O(len(transforms)).
        Example:
            >>> len(Compose([RandomCrop(2), RandomHorizontalFlip()]).transforms)
            2
        """
        raise NotImplementedError(
            "08 dataloader: implement Compose.__init__ — see exercises/08_dataloader/README.md, step 7"
        )

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each transform in turn, the output of one the input of the next, all drawing from ``rng``.

        Args:
            image: what the first transform takes, e.g. (..., H, W).
            rng: a ``np.random.Generator``, passed to every transform.
        Returns:
            What the last transform returns (``image`` itself when there are none).
        Raises:
            TypeError: ``check_rng``'s; whatever a transform raises.
        Complexity:
            The sum of the transforms'.
        Example:
            >>> flip = RandomHorizontalFlip(p=1.0)
            >>> Compose([flip, flip])(np.array([[1, 2]]), np.random.default_rng(0))
            array([[1, 2]])
        """
        raise NotImplementedError(
            "08 dataloader: implement Compose.__call__ — see exercises/08_dataloader/README.md, step 7"
        )


# --- step 8: a dataset whose samples are transformed as they are read -------------------------


class TransformedDataset(Dataset):
    """``dataset`` with ``transform`` applied to the first field of every sample it hands out."""

    def __init__(self, dataset: Dataset, transform, seed: int | np.random.Generator | None = None) -> None:
        """Keep the dataset and the transform, and make the generator every sample draws from.

        The generator is made once, here, as in ``DataLoader``: sample after sample draws the
        next values from it, so with the same seed (and the same order of reads, e.g. a
        ``DataLoader`` with its own seed) every epoch's augmentations come out the same, and no
        two epochs are alike.

        Args:
            dataset: any Dataset whose samples are tuples (or lists) of fields, the first an
                image (..., H, W) (a TensorDataset of images (N, C, H, W) and labels, say).
            transform: a callable ``transform(image, rng) -> image`` (step 7's, or a Compose).
            seed: as ``DataLoader``'s: an int >= 0 seeds ``self.rng = np.random.default_rng(seed)``,
                a Generator is used as it is (shared), None gives fresh entropy
                (the given ``seeded_generator`` checks it).
        Raises:
            TypeError: ``"TransformedDataset: dataset must be a Dataset (len and [i]), got ndarray"``;
                ``"TransformedDataset: transform must be callable as t(image, rng), got int"``;
                ``seeded_generator``'s, e.g. ``"TransformedDataset: seed must be None, an int or
                a numpy.random.Generator, got float"``.
            ValueError: ``"TransformedDataset: seed must be >= 0, got -1"``.
        Complexity:
            O(1): nothing is read or copied.
        Example:
            >>> data = TransformedDataset(TensorDataset(np.zeros((5, 1, 4, 4))), RandomCrop(2), seed=0)
            >>> len(data), data[0][0].shape
            (5, (1, 2, 2))
        """
        raise NotImplementedError(
            "08 dataloader: implement TransformedDataset.__init__ — see exercises/08_dataloader/README.md, step 8"
        )

    def __len__(self) -> int:
        """The wrapped dataset's length.

        Example:
            >>> len(TransformedDataset(TensorDataset(np.zeros((5, 2, 2))), RandomCrop(1), seed=0))
            5
        """
        raise NotImplementedError(
            "08 dataloader: implement TransformedDataset.__len__ — see exercises/08_dataloader/README.md, step 8"
        )

    def __getitem__(self, index: int) -> tuple:
        """Sample ``index`` of the dataset, its first field transformed with ``self.rng``.

        Args:
            index: an int (the DataLoader asks a Dataset that is not a TensorDataset one sample
                at a time).
        Returns:
            A tuple: ``(transform(fields[0], self.rng), *fields[1:])``, the other fields (labels)
            as they are.
        Raises:
            TypeError: ``"TransformedDataset: each sample must be a tuple (or list) of fields,
                got ndarray in sample 3"``.
            ValueError: ``"TransformedDataset: a sample must have at least one field, got 0 in sample 3"``.
        Complexity:
            The dataset's read plus the transform's.
        Example:
            >>> flipped = TransformedDataset(TensorDataset(np.array([[[1, 2]]]), np.array([7])),
            ...                              RandomHorizontalFlip(p=1.0), seed=0)
            >>> flipped[0]
            (array([[2, 1]]), np.int64(7))
        """
        raise NotImplementedError(
            "08 dataloader: implement TransformedDataset.__getitem__ — see exercises/08_dataloader/README.md, step 8"
        )
