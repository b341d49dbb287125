"""The data sets shipped in ``data/``, checked against their SHA-256 before use. Nothing downloads.

A trusted helper, like ``tinytorch.testing``: learners read it, never edit it. How the files
were made, their source and their licence: ``data/README.md``.

Example (8×8 digits, pixels 0..16 as uint8; normalizing is your job)::

    from tinytorch.datasets import load_digits

    x_train, y_train, x_test, y_test = load_digits()  # (1437, 8, 8) (1437,) (360, 8, 8) (360,)
    x = x_train.reshape(len(x_train), 64).astype(np.float32) / 16.0
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from tinytorch.registry import ROOT

DIGITS_PATH = ROOT / "data" / "digits.npz"
DIGITS_SHA256 = "0595d150ec69e9ab9d8897a7441893a4b49dd813a58b9ea86b4dc058f7046a13"


def load_digits(path: str | Path = DIGITS_PATH) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The handwritten digits, as stored: ``(x_train, y_train, x_test, y_test)``.

    Returns: x_train (1437, 8, 8) uint8 in 0..16, y_train (1437,) uint8 in 0..9,
    x_test (360, 8, 8) uint8, y_test (360,) uint8.
    Raises: FileNotFoundError if the file is missing; ValueError ("is corrupt") if its
    SHA-256 is not ``DIGITS_SHA256``.
    """
    path = Path(path)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"digits: {shown} is missing; restore it with git checkout data/digits.npz") from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != DIGITS_SHA256:
        raise ValueError(
            f"digits: {shown} is corrupt: sha256 must be {DIGITS_SHA256}, got {actual}; "
            "restore it with git checkout data/digits.npz"
        )
    with np.load(io.BytesIO(content), allow_pickle=False) as stored:  # the very bytes just checked
        return stored["x_train"], stored["y_train"], stored["x_test"], stored["y_test"]
