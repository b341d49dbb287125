"""NumPy oracles that several katas' tests share, written once, independent of every kata."""

from __future__ import annotations

import numpy as np


def rotate_pairs(x: np.ndarray, positions, base: float = 10000.0) -> np.ndarray:
    """RoPE with complex numbers: pair (x[2i], x[2i+1]) is z = x[2i] + i·x[2i+1], times e^{i·m·θ_i}.

    x: (..., T, D) float64, D even; positions: (T,) the position m of each row;
    θ_i = base^(-2i/D). Kata 11 defines RoPE on adjacent pairs this way; 12, 13 and 17 rotate
    queries and keys with it.
    """
    D = x.shape[-1]
    theta = base ** (-2.0 * np.arange(D // 2) / D)  # (D/2,)
    z = x[..., 0::2] + 1j * x[..., 1::2]  # (..., T, D/2)
    z = z * np.exp(1j * np.asarray(positions, dtype=np.float64)[:, None] * theta)
    out = np.empty(x.shape)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def dense(x: np.ndarray, layer) -> np.ndarray:
    """A 04 Linear's x @ Wᵀ + b, from its arrays (no bias when ``layer.bias`` is None)."""
    out = x @ layer.weight.numpy().T
    return out if layer.bias is None else out + layer.bias.numpy()
