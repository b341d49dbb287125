"""08 dataloader: every sample once per epoch, seeded shuffles, batch shapes, a memory budget,
seeded crops and flips.

Run: ``pytest exercises/08_dataloader`` (your code) or add ``--impl solutions`` (the reference);
one step: ``-k step3``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import tensor as base
from tinytorch.autograd import Tensor
from tinytorch.dataloader import (
    Compose,
    DataLoader,
    Dataset,
    RandomCrop,
    RandomHorizontalFlip,
    TensorDataset,
    TransformedDataset,
    collate,
    digits,
)
from tinytorch.datasets import load_digits
from tinytorch.testing import memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK


def numbered(n: int) -> TensorDataset:
    """A dataset whose sample i is (features [i, -i] as float32, label i): easy to trace."""
    labels = np.arange(n, dtype=np.int64)
    features = np.stack([labels, -labels], axis=1).astype(np.float32)  # (n, 2)
    return TensorDataset(features, labels)


class Squares(Dataset):
    """A Dataset that is not a TensorDataset: sample i is ([i, i²] as float32, i), made on demand."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __getitem__(self, index: int) -> tuple:
        self.calls += 1
        if not 0 <= index < self.n:
            raise IndexError(f"Squares: index must be in 0..{self.n - 1}, got {index}")
        return np.array([index, index * index], dtype=np.float32), index

    def __len__(self) -> int:
        return self.n


def labels_of_epoch(loader: DataLoader) -> list[int]:
    """The labels (the second field) of one epoch, batch after batch, as one list."""
    return [int(label) for batch in loader for label in batch[1].numpy()]


# --- step 1: TensorDataset --------------------------------------------------------------------


def test_step1_a_sample_is_a_tuple_of_one_row_per_array(rng):
    x = rng.standard_normal((7, 3, 2)).astype(np.float32)
    y = rng.integers(0, 10, size=7)
    sample = TensorDataset(x, y)[4]
    assert isinstance(sample, tuple) and len(sample) == 2
    np.testing.assert_array_equal(sample[0], x[4])
    assert sample[0].dtype == np.float32
    assert sample[1] == y[4]


def test_step1_len_is_the_common_first_dimension(rng):
    dataset = TensorDataset(rng.standard_normal((6, 5)), np.zeros(6), np.ones((6, 2, 3)))
    assert len(dataset) == 6


def test_step1_an_integer_array_index_gathers_a_batch_in_that_order(rng):
    x = rng.standard_normal((7, 3, 2)).astype(np.float32)
    y = rng.integers(0, 10, size=7)
    indices = np.array([5, 0, 5, 2])  # repeats allowed, any order
    batch = TensorDataset(x, y)[indices]
    # The slow obvious twin: one row at a time.
    np.testing.assert_array_equal(batch[0], np.stack([x[i] for i in indices]))
    np.testing.assert_array_equal(batch[1], np.array([y[i] for i in indices]))
    assert batch[0].shape == (4, 3, 2) and batch[0].dtype == np.float32


def test_step1_the_arrays_are_shared_not_copied(rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = np.arange(5)
    dataset = TensorDataset(x, y)
    assert np.shares_memory(dataset.arrays[0], x) and np.shares_memory(dataset.arrays[1], y)
    assert dataset.arrays[0].dtype == np.float32  # no dtype change either
    assert np.shares_memory(dataset[3][0], x)  # one sample is a view


N_BIG = 16 * 1024  # samples of the budget dataset
C_BIG = 64  # float32 features per sample: N_BIG · C_BIG · 4 = 4 MiB, plus 128 KiB of int64 labels
B_BIG = 256  # batch size of the budget tests


@pytest.fixture
def big_arrays() -> tuple[np.ndarray, np.ndarray]:
    # NumPy 2 imports np.random on first use (~1.7 MB of import work): do it here, in the
    # fixture, so that it never counts against a budget when a budget test runs alone.
    np.random.default_rng(0).permutation(2)
    features = np.ones((N_BIG, C_BIG), dtype=np.float32)
    labels = np.arange(N_BIG, dtype=np.int64)
    return features, labels


# Wrapping arrays in a dataset costs no array bytes: formula 0, plus the default slack
# (64 KiB) for the Python objects. A copy of the features would be 4 MiB.
@memory_budget(0, slack=DEFAULT_SLACK)
def test_step1_wrapping_4_mib_of_arrays_allocates_no_array(big_arrays):
    dataset = TensorDataset(*big_arrays)
    assert len(dataset) == N_BIG


def test_step1_arrays_of_different_lengths_are_refused_with_both_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*5.*4"):
        TensorDataset(np.zeros((5, 3)), np.zeros(4))


def test_step1_at_least_one_array_is_needed():
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


def test_step1_a_zero_dimensional_array_has_no_samples_to_index():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        TensorDataset(np.float32(3.0))


def test_step1_an_empty_dataset_has_length_zero():
    assert len(TensorDataset(np.zeros((0, 3)), np.zeros(0))) == 0


@pytest.mark.parametrize("kind", [Tensor, base.Tensor], ids=["autograd Tensor", "01's Tensor"])
def test_step1_a_tensor_is_taken_as_its_array_shared_not_walked_element_by_element(rng, kind):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    dataset = TensorDataset(kind(x), np.arange(5))
    features = dataset.arrays[0]
    assert isinstance(features, np.ndarray) and features.dtype == np.float32 and features.shape == (5, 3)
    assert np.shares_memory(features, x)  # np.asarray(tensor) would build an object array of 0-d Tensors
    np.testing.assert_array_equal(dataset[2][0], x[2])


@pytest.mark.parametrize(
    "make_bad",  # built in the test, not at import: collecting must never run the code under test
    [
        lambda: np.array([{"a": 1}, None], dtype=object),
        lambda: np.array(["cat", "dog"]),
        lambda: [Tensor(np.ones(2)), Tensor(np.ones(2))],
    ],
    ids=["objects", "strings", "a list of Tensors"],
)
def test_step1_arrays_that_hold_no_numbers_are_refused(make_bad):
    bad = make_bad()
    with pytest.raises(TypeError, match="TensorDataset: array 1 must hold booleans, integers or floats, got dtype"):
        TensorDataset(np.zeros(2), bad)


# --- step 2: collate --------------------------------------------------------------------------


def test_step2_collate_stacks_each_field_of_the_samples(rng):
    rows = rng.standard_normal((3, 2, 4)).astype(np.float32)
    samples = [(rows[0], 7), (rows[1], 1), (rows[2], 4)]
    features, labels = collate(samples)
    np.testing.assert_array_equal(features, rows)
    assert features.shape == (3, 2, 4) and features.dtype == np.float32
    np.testing.assert_array_equal(labels, [7, 1, 4])
    assert labels.dtype == np.int64  # Python ints become NumPy's default integer


@given(n=st.integers(1, 12), width=st.integers(1, 4), data=st.data())
def test_step2_collating_rows_one_by_one_equals_one_fancy_index(n, width, data):
    features = np.arange(n * width, dtype=np.float32).reshape(n, width)
    labels = np.arange(n) * 3
    dataset = TensorDataset(features, labels)
    indices = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=10)))
    stacked = collate([dataset[int(i)] for i in indices])
    gathered = dataset[indices]
    for got, expected in zip(stacked, gathered, strict=True):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


def test_step2_samples_with_different_numbers_of_fields_are_refused():
    with pytest.raises(ValueError, match="same number of fields"):
        collate([(np.zeros(2), 1), (np.zeros(2), 1, 5)])


def test_step2_samples_whose_fields_differ_in_shape_are_refused_with_both_shapes():
    with pytest.raises(ValueError, match=r"field 0 must have one shape in every sample, got \(2,\) in sample 0"):
        collate([(np.zeros(2), 1), (np.zeros(2), 2), (np.zeros(3), 3)])
    with pytest.raises(ValueError, match=r"field 1 .* got \(\) in sample 0 and \(1,\) in sample 1"):
        collate([(np.zeros(2), 1), (np.zeros(2), [2])])


def test_step2_an_empty_list_of_samples_is_refused():
    with pytest.raises(ValueError, match="at least one sample"):
        collate([])


def test_step2_a_sample_that_is_not_a_tuple_of_fields_is_refused_not_guessed_at():
    # A dict would have its keys stacked as strings; an ndarray its elements taken for fields.
    with pytest.raises(
        TypeError, match=r"collate: each sample must be a tuple \(or list\) of fields, got dict in sample 0"
    ):
        collate([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 0}])
    with pytest.raises(TypeError, match=r"collate: each sample must be a tuple .* got ndarray in sample 1"):
        collate([(np.zeros(3),), np.zeros(3)])


def test_step2_a_field_that_holds_no_numbers_is_refused():
    with pytest.raises(TypeError, match="collate: field 1 must hold booleans, integers or floats, got dtype <U3"):
        collate([(np.zeros(2), "cat"), (np.zeros(2), "dog")])


def test_step2_tensor_fields_are_stacked_as_their_arrays_and_any_iterable_of_samples_works(rng):
    rows = rng.standard_normal((3, 4)).astype(np.float32)
    features, labels = collate((Tensor(row), Tensor(np.int64(i))) for i, row in enumerate(rows))  # a generator
    np.testing.assert_array_equal(features, rows)
    assert features.dtype == np.float32 and features.shape == (3, 4)
    np.testing.assert_array_equal(labels, [0, 1, 2])
    assert labels.dtype == np.int64


# --- step 3: DataLoader settings and the number of batches ------------------------------------


@given(n=st.integers(0, 50), batch_size=st.integers(1, 60), drop_last=st.booleans())
def test_step3_len_counts_full_batches_and_the_partial_one_unless_dropped(n, batch_size, drop_last):
    loader = DataLoader(numbered(n), batch_size=batch_size, drop_last=drop_last)
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected


def test_step3_the_defaults_are_batches_of_one_in_order():
    loader = DataLoader(numbered(3))
    assert (loader.batch_size, loader.shuffle, loader.drop_last) == (1, False, False)
    assert len(loader) == 3


@pytest.mark.parametrize("batch_size", [0, -3])
def test_step3_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match="DataLoader: batch_size must be an int >= 1"):
        DataLoader(numbered(4), batch_size=batch_size)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"batch_size": 2.5}, "batch_size must be an int, got float"),
        ({"batch_size": True}, "batch_size must be an int, got bool"),
        ({"batch_size": "4"}, "batch_size must be an int, got str"),
        ({"shuffle": "no"}, "shuffle must be a bool, got str"),  # truthy: it would shuffle
        ({"drop_last": 1}, "drop_last must be a bool, got int"),
        ({"seed": 1.5}, "seed must be None, an int or a numpy.random.Generator, got float"),
        ({"seed": "7"}, "seed must be None, an int or a numpy.random.Generator, got str"),
    ],
)
def test_step3_settings_of_the_wrong_type_are_refused_by_name(settings, message):
    with pytest.raises(TypeError, match=f"DataLoader: {message}"):
        DataLoader(numbered(4), **settings)


def test_step3_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="DataLoader: seed must be >= 0, got -1"):
        DataLoader(numbered(4), seed=-1)


@pytest.mark.parametrize(
    "make_dataset",  # built in the test, not at import: collecting must never run the code under test
    [lambda: np.arange(12).reshape(4, 3), lambda: Tensor(np.arange(12).reshape(4, 3)), lambda: 5],
    ids=["ndarray", "Tensor", "int"],
)
def test_step3_a_dataset_must_be_a_dataset_not_an_array(make_dataset):
    dataset = make_dataset()
    # Rows of an ndarray are not samples of fields: each row of 3 would become 3 fields.
    with pytest.raises(TypeError, match=r"DataLoader: dataset must be a Dataset \(len and \[i\]\), got"):
        DataLoader(dataset, batch_size=2)


def test_step3_a_generator_as_seed_is_used_as_it_is_and_a_list_of_pairs_is_a_dataset():
    generator = np.random.default_rng(4)
    loader = DataLoader([(np.float32(i), i) for i in range(6)], batch_size=6, shuffle=True, seed=generator)
    assert loader.rng is generator  # as np.random.default_rng(generator) returns it
    ((features, labels),) = list(loader)
    assert labels.numpy().tolist() == np.random.default_rng(4).permutation(6).tolist()
    np.testing.assert_array_equal(features.numpy(), labels.numpy().astype(np.float32))


# --- step 4: the order of an epoch ------------------------------------------------------------


def test_step4_without_shuffle_the_order_is_0_to_n_minus_1():
    np.testing.assert_array_equal(DataLoader(numbered(6)).epoch_order(), np.arange(6))


def test_step4_a_seed_fixes_the_whole_sequence_of_epochs():
    # The contract: every epoch draws the next rng.permutation(N) from one default_rng(seed).
    rng = np.random.default_rng(123)
    expected = [rng.permutation(20) for _ in range(3)]
    loader = DataLoader(numbered(20), shuffle=True, seed=123)
    for epoch in range(3):
        np.testing.assert_array_equal(loader.epoch_order(), expected[epoch], err_msg=f"epoch {epoch}")


def test_step4_two_loaders_with_the_same_seed_agree_epoch_after_epoch():
    first = DataLoader(numbered(30), shuffle=True, seed=7)
    second = DataLoader(numbered(30), shuffle=True, seed=7)
    for _ in range(3):
        np.testing.assert_array_equal(first.epoch_order(), second.epoch_order())


def test_step4_each_epoch_is_shuffled_anew():
    # For n = 10 a correct shuffle repeats an order with probability 1/10! ≈ 2.8e-7 per pair,
    # so five epochs (10 pairs, plus each against 0..9) are all distinct except with probability
    # < 15 · 2.8e-7 ≈ 4e-6; the seed makes this run deterministic. A loader that re-seeds every
    # epoch, or shuffles once in __init__, repeats its order and fails.
    loader = DataLoader(numbered(10), shuffle=True, seed=0)
    orders = [tuple(loader.epoch_order().tolist()) for _ in range(5)]
    assert len(set(orders)) == 5, f"epochs repeated an order: {orders}"
    assert tuple(range(10)) not in orders


def test_step4_different_seeds_give_different_orders():
    # Two independent permutations of 20 coincide with probability 1/20! ≈ 4e-19.
    first = DataLoader(numbered(20), shuffle=True, seed=1).epoch_order()
    second = DataLoader(numbered(20), shuffle=True, seed=2).epoch_order()
    assert not np.array_equal(first, second)


@given(n=st.integers(0, 40), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_step4_an_epoch_order_holds_every_index_exactly_once(n, shuffle, seed):
    order = DataLoader(numbered(n), shuffle=shuffle, seed=seed).epoch_order()
    assert order.shape == (n,)
    assert np.issubdtype(order.dtype, np.integer)
    np.testing.assert_array_equal(np.sort(order), np.arange(n))


# --- step 5: iterating in batches -------------------------------------------------------------


@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 45),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_step5_an_epoch_visits_every_sample_once_and_drops_only_the_partial_batch(
    n, batch_size, shuffle, drop_last, seed
):
    loader = DataLoader(numbered(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    kept = n // batch_size * batch_size if drop_last else n
    assert len(batches) == len(loader) == math.ceil(kept / batch_size)
    sizes = [len(labels.numpy()) for _, labels in batches]
    assert all(size == batch_size for size in sizes[:-1]), f"batch sizes {sizes}"
    assert sum(sizes) == kept
    for features, labels in batches:  # each sample keeps its own features: (i, -i) with label i
        np.testing.assert_array_equal(features.numpy()[:, 0], labels.numpy())
        np.testing.assert_array_equal(features.numpy()[:, 1], -labels.numpy())
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    visited = [int(label) for _, labels in batches for label in labels.numpy()]
    assert visited == order[:kept].tolist()  # once each, in the epoch's order; dropped: only the tail
    assert len(set(visited)) == kept


def test_step5_batches_are_tensors_with_the_stored_shapes_and_dtypes(rng):
    x = rng.standard_normal((10, 3, 4)).astype(np.float32)
    y = rng.integers(0, 5, size=10).astype(np.int64)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [tuple(t.shape for t in batch) for batch in batches] == [
        ((4, 3, 4), (4,)),
        ((4, 3, 4), (4,)),
        ((2, 3, 4), (2,)),
    ]
    for features, labels in batches:
        assert isinstance(features, Tensor) and isinstance(labels, Tensor)
        assert features.dtype == np.float32 and labels.dtype == np.int64
        assert not features.requires_grad
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)


def test_step5_each_pass_over_the_loader_is_a_new_epoch():
    loader = DataLoader(numbered(12), batch_size=5, shuffle=True, seed=3)
    rng = np.random.default_rng(3)
    for _ in range(3):
        assert labels_of_epoch(loader) == rng.permutation(12).tolist()


def test_step5_the_same_seed_gives_the_same_batches():
    first = DataLoader(numbered(25), batch_size=4, shuffle=True, seed=11)
    second = DataLoader(numbered(25), batch_size=4, shuffle=True, seed=11)
    for _ in range(2):
        assert labels_of_epoch(first) == labels_of_epoch(second)


def test_step5_any_dataset_is_collated_sample_by_sample():
    dataset = Squares(7)
    batches = list(DataLoader(dataset, batch_size=3, shuffle=True, seed=5))
    assert dataset.calls == 7  # one __getitem__ per sample
    assert [b[0].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    for features, labels in batches:
        assert features.dtype == np.float32 and labels.dtype == np.int64
        i = labels.numpy().astype(np.float32)
        np.testing.assert_array_equal(features.numpy(), np.stack([i, i * i], axis=1))
    visited = [int(label) for _, labels in batches for label in labels.numpy()]
    assert visited == np.random.default_rng(5).permutation(7).tolist()


class CountingTensorDataset(TensorDataset):
    """A TensorDataset that counts how often it is indexed."""

    def __init__(self, *arrays: np.ndarray) -> None:
        super().__init__(*arrays)
        self.calls = 0

    def __getitem__(self, index):
        self.calls += 1
        return super().__getitem__(index)


def test_step5_a_tensor_dataset_is_indexed_once_per_batch():
    dataset = CountingTensorDataset(np.zeros((10, 3), dtype=np.float32), np.arange(10))
    loader = DataLoader(dataset, batch_size=4, shuffle=True, seed=0)
    assert len(list(loader)) == 3
    assert dataset.calls == 3  # one fancy index per batch, not one call per sample


def test_step5_an_empty_dataset_gives_no_batches():
    assert list(DataLoader(numbered(0), batch_size=3, shuffle=True, seed=0)) == []


def test_step5_a_batch_larger_than_the_dataset_is_one_batch_or_none():
    assert [len(b[1].numpy()) for b in DataLoader(numbered(5), batch_size=8)] == [5]
    assert list(DataLoader(numbered(5), batch_size=8, drop_last=True)) == []


# One shuffled epoch over N_BIG samples holds at most:
#   the epoch order                      8 · N_BIG                 = 128 KiB (int64 permutation)
#   two batches: the one the loop body   2 · B · (C · 4 + 8)       = 132 KiB (float32 features +
#     still holds, and the next, being                                        int64 labels)
#     gathered before the loop rebinds its names
# plus the default slack (64 KiB) for Tensors, tuples and NumPy's small objects: 324 KiB in all.
# Permuting the data instead of the indices would copy the 4 MiB dataset and fail.
@pytest.mark.parametrize("shuffle", [True, False])
@memory_budget(8 * N_BIG + 2 * B_BIG * (C_BIG * 4 + 8), slack=DEFAULT_SLACK)
def test_step5_an_epoch_holds_one_batch_at_a_time_and_never_copies_the_dataset(big_arrays, shuffle):
    loader = DataLoader(TensorDataset(*big_arrays), batch_size=B_BIG, shuffle=shuffle, seed=0)
    count = 0
    total = 0
    for _features, labels in loader:  # both names keep their batch alive until rebound
        count += 1
        total += int(labels.numpy().sum())
    assert count == N_BIG // B_BIG
    assert total == N_BIG * (N_BIG - 1) // 2  # every label once


# --- step 6: the shipped digits ---------------------------------------------------------------


@pytest.mark.parametrize(("split", "n"), [("train", 1437), ("test", 360)])
def test_step6_digits_are_flat_float32_images_in_0_1_and_int64_labels(split, n):
    images, labels = digits(split).arrays
    assert images.shape == (n, 64) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels).tolist()) == set(range(10))


@pytest.mark.parametrize("split", ["train", "test"])
def test_step6_digits_are_the_stored_pixels_divided_by_16(split):
    x_train, y_train, x_test, y_test = load_digits()
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    images, labels = digits(split).arrays
    np.testing.assert_array_equal(images, x.reshape(len(x), 64) / np.float32(16))
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_array_equal(images[5].reshape(8, 8) * 16, x[5])  # row-major: pixel (r, c) at r·8 + c


def test_step6_a_loader_over_digits_yields_float32_features_and_int64_labels():
    features, labels = next(iter(DataLoader(digits("test"), batch_size=32, shuffle=True, seed=0)))
    assert features.shape == (32, 64) and features.dtype == np.float32
    assert labels.shape == (32,) and labels.dtype == np.int64


def test_step6_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        digits("val")


# --- step 7: transforms -----------------------------------------------------------------------


def numbered_image(*shape: int) -> np.ndarray:
    """An image of the given shape (..., H, W) whose pixels are 1, 2, 3, ... (float32): every
    pixel differs from every other and from the zeros of padding, so a window shows where it was cut."""
    return np.arange(1, math.prod(shape) + 1, dtype=np.float32).reshape(shape)


def windows(padded: np.ndarray, h: int, w: int) -> dict[tuple[int, int], np.ndarray]:
    """Every h × w window of ``padded`` (..., H, W), by its top-left corner: the slow obvious twin."""
    height, width = padded.shape[-2:]
    return {
        (top, left): padded[..., top : top + h, left : left + w]
        for top in range(height - h + 1)
        for left in range(width - w + 1)
    }


def corner_of(crop: np.ndarray, padded: np.ndarray) -> tuple[int, int]:
    """The top-left corner of the window of ``padded`` that ``crop`` is; fails if it is none."""
    found = [corner for corner, window in windows(padded, *crop.shape[-2:]).items() if np.array_equal(window, crop)]
    assert found, f"the crop is no window of the padded image:\n{crop}"
    return found[0]


@given(
    channels=st.integers(1, 3),
    height=st.integers(1, 7),
    width=st.integers(1, 7),
    padding=st.integers(0, 3),
    data=st.data(),
)
def test_step7_a_crop_of_a_padded_image_is_a_window_of_it(channels, height, width, padding, data):
    h = data.draw(st.integers(1, height + 2 * padding), label="h")
    w = data.draw(st.integers(1, width + 2 * padding), label="w")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    image = numbered_image(channels, height, width)
    crop = RandomCrop((h, w), padding=padding)(image, np.random.default_rng(seed))
    assert crop.shape == (channels, h, w) and crop.dtype == np.float32
    padded = np.pad(image, [(0, 0), (padding, padding), (padding, padding)])  # zeros all around
    corner_of(crop, padded)


def test_step7_every_window_of_the_padded_image_can_come_out_and_only_those():
    # 3 × 4 image, padding 1: a 5 × 6 padded image has 3 · 3 = 9 windows of 3 × 4. Each of 900
    # draws misses a given window with probability 8/9: all 9 appear except with probability
    # < 9 · (8/9)^900 ≈ 1e-45 (and the seed makes it deterministic). A range that leaves out its
    # last place (integers(0, H + 2P - h)) never reaches the bottom row or the right column.
    image = numbered_image(3, 4)
    crop = RandomCrop((3, 4), padding=1)
    rng = np.random.default_rng(0)
    padded = np.pad(image, 1)
    corners = {corner_of(crop(image, rng), padded) for _ in range(900)}
    assert corners == set(windows(padded, 3, 4))


def test_step7_an_int_size_is_a_square_window_and_leading_axes_are_kept_whole(rng):
    image = rng.standard_normal((2, 3, 9, 7)).astype(np.float64)
    crop = RandomCrop(4, padding=2)(image, rng)
    assert crop.shape == (2, 3, 4, 4) and crop.dtype == np.float64
    assert RandomCrop(5).size == (5, 5) and RandomCrop(5).padding == 0


def test_step7_a_crop_of_the_whole_unpadded_image_is_the_image_and_dtypes_are_kept():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    crop = RandomCrop((3, 4))(image, np.random.default_rng(0))
    np.testing.assert_array_equal(crop, image)
    assert crop.dtype == np.uint8
    padded_crop = RandomCrop(2, padding=3)(image, np.random.default_rng(1))
    assert padded_crop.dtype == np.uint8 and padded_crop.shape == (2, 2)


def test_step7_an_8x8_digit_cropped_to_16x16_with_padding_8_is_the_whole_digit_somewhere_on_the_canvas():
    digit = numbered_image(8, 8)
    canvas = RandomCrop(16, padding=8)(digit, np.random.default_rng(3))
    assert canvas.shape == (16, 16)
    rows, cols = np.nonzero(canvas)
    top, left = rows.min(), cols.min()
    assert 0 <= top <= 8 and 0 <= left <= 8
    np.testing.assert_array_equal(canvas[top : top + 8, left : left + 8], digit)  # all of it, unchanged
    assert np.count_nonzero(canvas) == 64  # and nothing else


def test_step7_the_same_generator_state_gives_the_same_crop():
    image = numbered_image(1, 6, 5)
    crop = RandomCrop((3, 2), padding=2)
    first, second = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(5):
        np.testing.assert_array_equal(crop(image, first), crop(image, second))


@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_step7_flipping_twice_is_the_identity(shape, seed):
    image = numbered_image(*shape)
    flip = RandomHorizontalFlip(p=1.0)
    rng = np.random.default_rng(seed)
    np.testing.assert_array_equal(flip(flip(image, rng), rng), image)


def test_step7_p_1_always_reverses_the_columns_and_p_0_never_does(rng):
    image = rng.standard_normal((3, 4, 5)).astype(np.float32)
    always, never = RandomHorizontalFlip(p=1.0), RandomHorizontalFlip(p=0.0)
    for _ in range(50):
        flipped = always(image, rng)
        np.testing.assert_array_equal(flipped, image[:, :, ::-1])  # column j is column W-1-j
        assert flipped.shape == image.shape and flipped.dtype == np.float32
        kept = never(image, rng)
        np.testing.assert_array_equal(kept, image)
        assert kept.dtype == np.float32


def test_step7_p_one_half_flips_some_images_and_keeps_others():
    # 200 fair draws all alike: probability 2 · 2^-200; the seed makes it deterministic.
    image = numbered_image(2, 3)
    flip = RandomHorizontalFlip()
    assert flip.p == 0.5
    rng = np.random.default_rng(0)
    outcomes = [flip(image, rng) for _ in range(200)]
    flipped = sum(np.array_equal(out, image[:, ::-1]) for out in outcomes)
    kept = sum(np.array_equal(out, image) for out in outcomes)
    assert flipped + kept == 200 and flipped > 0 and kept > 0


def test_step7_compose_applies_each_transform_in_order_with_the_same_generator():
    calls = []

    def record(name):
        def transform(image, rng):
            calls.append((name, rng))
            return image + 1

        return transform

    rng = np.random.default_rng(0)
    out = Compose([record("first"), record("second")])(np.zeros((2, 2)), rng)
    np.testing.assert_array_equal(out, np.full((2, 2), 2.0))
    assert calls == [("first", rng), ("second", rng)]
    image = numbered_image(2, 3)
    assert Compose([])(image, rng) is image  # no transforms: the identity


def test_step7_compose_of_a_crop_and_a_flip_is_a_window_or_its_mirror():
    image = numbered_image(1, 5, 5)
    padded = np.pad(image, [(0, 0), (2, 2), (2, 2)])
    both = Compose([RandomCrop(4, padding=2), RandomHorizontalFlip()])
    rng = np.random.default_rng(1)
    for _ in range(20):
        out = both(image, rng)
        assert out.shape == (1, 4, 4) and out.dtype == np.float32
        mirrored = out[..., ::-1]
        candidates = windows(padded, 4, 4).values()
        assert any(np.array_equal(out, win) or np.array_equal(mirrored, win) for win in candidates)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: RandomCrop(0), ValueError, "RandomCrop: size must be an int >= 1, got 0"),
        (lambda: RandomCrop((3, -1)), ValueError, "RandomCrop: size must be an int >= 1, got -1"),
        (lambda: RandomCrop(2.5), TypeError, "RandomCrop: size must be an int, got float"),
        (lambda: RandomCrop(True), TypeError, "RandomCrop: size must be an int, got bool"),
        (lambda: RandomCrop((3, 3, 3)), TypeError, r"RandomCrop: size must be an int or a pair \(h, w\) of ints"),
        (lambda: RandomCrop("8"), TypeError, r"RandomCrop: size must be an int or a pair \(h, w\) of ints, got str"),
        (lambda: RandomCrop(3, padding=-1), ValueError, "RandomCrop: padding must be an int >= 0, got -1"),
        (lambda: RandomCrop(3, padding=1.5), TypeError, "RandomCrop: padding must be an int, got float"),
        (lambda: RandomHorizontalFlip(1.5), ValueError, r"RandomHorizontalFlip: p must be in \[0, 1\], got 1.5"),
        (lambda: RandomHorizontalFlip(-0.1), ValueError, r"RandomHorizontalFlip: p must be in \[0, 1\], got -0.1"),
        (lambda: RandomHorizontalFlip(float("nan")), ValueError, r"p must be in \[0, 1\], got nan"),
        (lambda: RandomHorizontalFlip("0.5"), TypeError, "RandomHorizontalFlip: p must be a real number, got str"),
        (lambda: RandomHorizontalFlip(True), TypeError, "RandomHorizontalFlip: p must be a real number, got bool"),
        (lambda: Compose(RandomCrop(2)), TypeError, "Compose: transforms must be a list or tuple of transforms"),
        (lambda: Compose([RandomCrop(2), 3]), TypeError, "Compose: transform 1 must be callable"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_step7_bad_settings_are_refused_by_name(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_step7_a_window_larger_than_the_padded_image_is_refused_with_both_sizes():
    with pytest.raises(
        ValueError, match=r"RandomCrop: size must fit in the padded image, got size \(5, 5\) .* \(4, 4\)"
    ):
        RandomCrop(5, padding=1)(np.zeros((2, 2)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"got size \(2, 7\) and padded image \(3, 6\)"):
        RandomCrop((2, 7))(np.zeros((1, 3, 6)), np.random.default_rng(0))


@pytest.mark.parametrize(
    "make_transform",
    [lambda: RandomCrop(1), lambda: RandomHorizontalFlip(p=1.0)],
    ids=["RandomCrop", "RandomHorizontalFlip"],
)
def test_step7_images_need_two_dimensions_and_numbers_and_rng_must_be_a_generator(make_transform):
    transform = make_transform()
    name = type(transform).__name__
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError, match=rf"{name}: image must have at least 2 dimensions \(\.\.\., H, W\), got shape \(5,\)"
    ):
        transform(np.zeros(5), rng)
    with pytest.raises(TypeError, match=f"{name}: image must hold booleans, integers or floats, got dtype <U1"):
        transform(np.array([["a", "b"]]), rng)
    with pytest.raises(TypeError, match=rf"{name}: rng must be a numpy\.random\.Generator, got int"):
        transform(np.zeros((2, 2)), 0)  # a seed is not a generator: it would give the same draw every call
    with pytest.raises(TypeError, match=r"Compose: rng must be a numpy\.random\.Generator, got NoneType"):
        Compose([transform])(np.zeros((2, 2)), None)


def test_step7_a_tensor_image_is_transformed_as_its_array():
    image = numbered_image(2, 3)
    out = RandomHorizontalFlip(p=1.0)(Tensor(image), np.random.default_rng(0))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, image[:, ::-1])


# --- step 8: TransformedDataset ---------------------------------------------------------------


def images_and_labels(n: int) -> TensorDataset:
    """n numbered 1 × 4 × 5 float32 images (image i holds 20·i + 1 .. 20·i + 20) and labels 0..n-1."""
    return TensorDataset(numbered_image(n, 1, 4, 5), np.arange(n))


def augment() -> Compose:
    """A 3 × 3 crop of the image padded by 1, then a fair flip (built in a test, never at import)."""
    return Compose([RandomCrop(3, padding=1), RandomHorizontalFlip()])


def test_step8_a_sample_is_the_transformed_image_and_its_label_untouched():
    data = images_and_labels(6)
    flipped = TransformedDataset(data, RandomHorizontalFlip(p=1.0), seed=0)
    assert len(flipped) == 6
    image, label = flipped[4]
    np.testing.assert_array_equal(image, data.arrays[0][4][..., ::-1])
    assert image.dtype == np.float32 and label == 4


def by_label(batches: list) -> np.ndarray:
    """An epoch's images ordered by label: what was drawn for each sample, whatever the order of visits."""
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    return images[np.argsort(labels)]


def test_step8_the_same_seed_gives_the_same_batches_epoch_after_epoch():
    def loader(transform_seed: int) -> DataLoader:
        data = TransformedDataset(images_and_labels(10), augment(), seed=transform_seed)
        return DataLoader(data, batch_size=4, shuffle=True, seed=0)  # one order for all three

    first, second, other = loader(5), loader(5), loader(6)
    epochs = []
    for _ in range(2):
        a, b, c = list(first), list(second), list(other)
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        # Another seed, the same order: 18 crops-and-flips per image, all 10 alike with probability 18^-10.
        assert not np.array_equal(by_label(a), by_label(c)), "the transform's seed changed nothing"
        epochs.append(by_label(a))
    assert not np.array_equal(epochs[0], epochs[1])  # each epoch draws new crops and flips


def test_step8_batches_keep_shapes_dtypes_and_each_image_stays_with_its_label():
    data = images_and_labels(7)
    padded = np.pad(data.arrays[0], [(0, 0), (0, 0), (1, 1), (1, 1)])  # (7, 1, 6, 7)
    loader = DataLoader(TransformedDataset(data, augment(), seed=2), batch_size=3, shuffle=True, seed=1)
    seen = []
    for images, labels in loader:
        assert images.shape[1:] == (1, 3, 3) and images.dtype == np.float32 and labels.dtype == np.int64
        for image, label in zip(images.numpy(), labels.numpy(), strict=True):
            candidates = windows(padded[label], 3, 3).values()  # windows of its own image only
            assert any(np.array_equal(image, w) or np.array_equal(image[..., ::-1], w) for w in candidates)
            seen.append(int(label))
    assert sorted(seen) == list(range(7))


def test_step8_a_generator_as_seed_is_used_as_it_is():
    generator = np.random.default_rng(3)
    data = TransformedDataset(images_and_labels(3), RandomCrop(2), seed=generator)
    assert data.rng is generator


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: TransformedDataset(np.zeros((4, 2, 2)), RandomCrop(1)), TypeError, "dataset must be a Dataset"),
        (lambda: TransformedDataset(images_and_labels(2), 3), TypeError, "transform must be callable"),
        (lambda: TransformedDataset(images_and_labels(2), RandomCrop(1), seed=1.5), TypeError, "seed must be None"),
        (lambda: TransformedDataset(images_and_labels(2), RandomCrop(1), seed=-1), ValueError, "seed must be >= 0"),
    ],
    ids=["ndarray dataset", "transform not callable", "float seed", "negative seed"],
)
def test_step8_bad_arguments_are_refused_by_name(make, error, message):
    with pytest.raises(error, match=f"TransformedDataset: {message}"):
        make()


def test_step8_a_sample_that_is_not_a_tuple_of_fields_is_refused():
    bare = [np.zeros((2, 2)), np.ones((2, 2))]  # a list of arrays: each sample is an ndarray
    with pytest.raises(
        TypeError,
        match=r"TransformedDataset: each sample must be a tuple \(or list\) of fields, got ndarray in sample 1",
    ):
        TransformedDataset(bare, RandomCrop(1), seed=0)[1]
