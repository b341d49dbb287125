"""NumPy oracles that several katas' tests share, written once, independent of every kata."""

from __future__ import annotations

import math

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


def causal_self_attention(attn, x: np.ndarray, offset: int = 0) -> np.ndarray:
    """Causal multi-head (grouped-query) self-attention with a loop over heads, from the arrays of
    12's ``MultiHeadAttention`` (q/k/v/out_proj, n_heads, n_kv_heads, head_dim, rope, rope_base).

    x: (B, T, C) float64, its first row at position ``offset`` (which only RoPE reads). Query head
    h reads key/value head h // (n_heads // n_kv_heads); query t sees keys <= t.
    """
    B, T, C = x.shape
    H, H_kv, D = attn.n_heads, attn.n_kv_heads, attn.head_dim
    q = dense(x, attn.q_proj).reshape(B, T, H, D).transpose(0, 2, 1, 3)  # (B, H, T, D)
    k = dense(x, attn.k_proj).reshape(B, T, H_kv, D).transpose(0, 2, 1, 3)  # (B, H_kv, T, D)
    v = dense(x, attn.v_proj).reshape(B, T, H_kv, D).transpose(0, 2, 1, 3)
    if attn.rope:
        positions = np.arange(offset, offset + T)
        q, k = rotate_pairs(q, positions, attn.rope_base), rotate_pairs(k, positions, attn.rope_base)
    heads = np.empty((B, H, T, D))
    for h in range(H):
        kv = h // (H // H_kv)  # consecutive query heads share a key/value head
        scores = q[:, h] @ k[:, kv].transpose(0, 2, 1) / math.sqrt(D)  # (B, T, T)
        scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)  # query t sees keys <= t
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        heads[:, h] = (weights / weights.sum(axis=-1, keepdims=True)) @ v[:, kv]
    return dense(heads.transpose(0, 2, 1, 3).reshape(B, T, C), attn.out_proj)
