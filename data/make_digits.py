"""Write data/digits.npz: the 8×8 handwritten digits, split once into train and test.

The images come from scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten
Digits" data (1,797 images, 8×8, integers 0..16, 10 classes); see data/README.md for the source
and licence. scikit-learn is needed only here, to regenerate the file; nothing downloads.

    pip install scikit-learn && python data/make_digits.py

The split is stratified and seeded: 360 test images (20% of 1,797, rounded up) are shared out
among the classes in proportion to their sizes (largest remainder, ties to the smaller digit),
and each class's test images are drawn with numpy's default_rng(SEED). Both parts keep the
original order. Pixels stay the original 0..16 integers, stored as uint8.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SEED = 20261124
N_TEST = 360
OUT = Path(__file__).resolve().parent / "digits.npz"


def held_out_per_class(labels: np.ndarray, n_test: int) -> np.ndarray:
    """Test images per class: n_test shared out in proportion to class sizes, in exact integers."""
    sizes = np.bincount(labels)
    quotas = n_test * sizes  # each class's exact share is quotas / len(labels)
    counts, remainders = np.divmod(quotas, len(labels))
    order = np.argsort(-remainders, kind="stable")  # largest remainder first, ties to the smaller digit
    counts[order[: n_test - counts.sum()]] += 1
    return counts


def split(labels: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the train and test images, each sorted; every class is split on its own."""
    rng = np.random.default_rng(seed)
    test = [
        rng.permutation(np.flatnonzero(labels == digit))[:k]
        for digit, k in enumerate(held_out_per_class(labels, n_test))
    ]
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[np.concatenate(test)] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def main() -> None:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit(
            "make_digits: scikit-learn is needed to regenerate the data: pip install scikit-learn"
        ) from None

    digits = load_digits()
    images, labels = digits.images, digits.target
    if (
        images.shape != (1797, 8, 8)
        or not np.array_equal(images, np.round(images))
        or images.min() != 0
        or images.max() != 16
    ):
        raise SystemExit(f"make_digits: images must be 1797 8×8 integers 0..16, got {images.shape}")
    images, labels = images.astype(np.uint8), labels.astype(np.uint8)

    train, test = split(labels, N_TEST, SEED)
    arrays = {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test]}
    np.savez_compressed(OUT, **arrays)

    with np.load(OUT, allow_pickle=False) as stored:  # read it back: what we wrote is what loads
        if sorted(stored.files) != sorted(arrays) or not all(np.array_equal(stored[k], v) for k, v in arrays.items()):
            raise SystemExit(f"make_digits: {OUT} must read back as written, but it does not")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    print(f"sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")
    print(f"seed {SEED}: {len(train)} train / {len(test)} test")
    print("digit  train  test")
    for digit in range(10):
        print(f"{digit:5d}  {np.sum(labels[train] == digit):5d}  {np.sum(labels[test] == digit):4d}")


if __name__ == "__main__":
    main()
