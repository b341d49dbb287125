"""tinytorch.datasets: the shipped digits load as data/README.md documents them, and a damaged
or missing file is refused with a message that says which file and how to restore it."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from tinytorch.datasets import DIGITS_PATH, DIGITS_SHA256, load_digits

# data/README.md, "The split".
TRAIN_PER_DIGIT = [142, 145, 142, 146, 145, 146, 145, 143, 139, 144]
TEST_PER_DIGIT = [36, 37, 35, 37, 36, 36, 36, 36, 35, 36]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_the_shipped_file_matches_the_recorded_digest():
    assert hashlib.sha256(DIGITS_PATH.read_bytes()).hexdigest() == DIGITS_SHA256


def test_the_arrays_have_the_documented_shapes_and_dtypes(digits):
    x_train, y_train, x_test, y_test = digits
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == ((1437, 8, 8), (1437,), (360, 8, 8), (360,))
    assert all(array.dtype == np.uint8 for array in digits)


def test_pixels_are_integers_from_0_to_16_and_labels_digits_0_to_9(digits):
    x_train, y_train, x_test, y_test = digits
    for x in (x_train, x_test):
        assert x.min() == 0 and x.max() == 16
    for y in (y_train, y_test):
        assert set(np.unique(y)) == set(range(10))


def test_each_digit_has_the_documented_count_in_each_part(digits):
    _, y_train, _, y_test = digits
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_PER_DIGIT
    assert np.bincount(y_test, minlength=10).tolist() == TEST_PER_DIGIT


def test_the_parts_add_up_to_the_1797_images_and_share_none(digits):
    x_train, _, x_test, _ = digits
    assert len(x_train) + len(x_test) == 1797
    train_images = {image.tobytes() for image in x_train}
    assert len(train_images) == len(x_train)  # the 1,797 images are all distinct
    assert not any(image.tobytes() in train_images for image in x_test)


def test_a_corrupted_copy_is_refused_with_both_digests(tmp_path):
    content = bytearray(DIGITS_PATH.read_bytes())
    content[len(content) // 2] ^= 0xFF
    copy = tmp_path / "digits.npz"
    copy.write_bytes(bytes(content))
    actual = hashlib.sha256(bytes(content)).hexdigest()
    message = f"digits: {copy} is corrupt: sha256 must be {DIGITS_SHA256}, got {actual}; "
    with pytest.raises(ValueError, match=re.escape(message + "restore it with git checkout data/digits.npz")):
        load_digits(copy)


def test_a_missing_file_is_named_in_the_error(tmp_path):
    missing = tmp_path / "no_such_digits.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_digits(missing)


def test_an_intact_copy_elsewhere_loads_like_the_original(tmp_path, digits):
    copy = tmp_path / "digits.npz"
    copy.write_bytes(DIGITS_PATH.read_bytes())
    for loaded, original in zip(load_digits(copy), digits, strict=True):
        np.testing.assert_array_equal(loaded, original)
