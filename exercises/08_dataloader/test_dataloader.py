"""08 dataloader: every sample once per epoch, seeded shuffles, batch shapes, a memory budget.

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
from tinytorch.dataloader import DataLoader, Dataset, TensorDataset, collate, digits
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
