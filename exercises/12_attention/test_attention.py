"""Kata 12 attention. Run: pytest exercises/12_attention   (one step: -k "step1" ... "step5")."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.attention import (
    AttentionFunction,
    MultiHeadAttention,
    attention_mask,
    causal_mask,
    chunked_attention,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)
from tinytorch.autograd import Tensor, no_grad
from tinytorch.layers import Linear, count_parameters
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, numpy_buffer
from tinytorch.testing.oracles import rotate_pairs

# --- oracles written here, independent of the kata ---------------------------------------------


def attention_oracle(q, k, v, allowed=None):
    """Attention row by row, in float64: softmax over the allowed keys only; a row with none is 0.

    q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv) with the same leading dims; allowed a bool
    array broadcastable to (..., Tq, Tk) or None.
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    Tq, Tk = q.shape[-2], k.shape[-2]
    lead = q.shape[:-2]
    allowed = np.broadcast_to(True if allowed is None else allowed, (*lead, Tq, Tk))
    out = np.zeros((*lead, Tq, v.shape[-1]))
    for idx in np.ndindex(*lead, Tq):
        head, i = idx[:-1], idx[-1]
        keys = np.flatnonzero(allowed[idx])  # the keys query i may read
        if keys.size == 0:
            continue  # the stated rule: a fully masked row is 0
        scores = np.array([q[head][i] @ k[head][j] for j in keys]) / np.sqrt(q.shape[-1])
        weights = np.exp(scores - scores.max())
        weights /= weights.sum()
        out[idx] = weights @ v[head][keys]
    return out


def lower_triangle_from_the_end(Tq, Tk):
    """Query i may read key j when j <= i + (Tk - Tq): np.tril with the diagonal moved by Tk - Tq."""
    return np.tril(np.ones((Tq, Tk), dtype=bool), k=Tk - Tq)


def linear_oracle(linear, x):
    """x @ Wᵀ + b in float64, from a 04 Linear's weights."""
    w = linear.weight.numpy().astype(np.float64)
    b = 0.0 if linear.bias is None else linear.bias.numpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64) @ w.T + b


def projections_oracle(attn, x, offset=0, rope_base=10000.0):
    """q (B, H, T, D), k and v (B, H_kv, T, D) in NumPy: heads as column slices, RoPE as complex rotations."""
    x = np.asarray(x, dtype=np.float64)
    T, D = x.shape[1], attn.d_model // attn.n_heads

    def heads(y, n):  # (B, T, n·D) -> (B, n, T, D): head h = columns h·D .. (h+1)·D - 1
        return np.stack([y[:, :, h * D : (h + 1) * D] for h in range(n)], axis=1)

    q = heads(linear_oracle(attn.q_proj, x), attn.n_heads)
    k = heads(linear_oracle(attn.k_proj, x), attn.n_kv_heads)
    v = heads(linear_oracle(attn.v_proj, x), attn.n_kv_heads)
    if attn.rope:
        positions = np.arange(offset, offset + T)
        q, k = rotate_pairs(q, positions, rope_base), rotate_pairs(k, positions, rope_base)
    return q, k, v


def attend_oracle(attn, q, k, v, mask=None, is_causal=False):
    """Heads (B, H, Tq, D) against kv heads (B, H_kv, Tk, D) in NumPy, merged and projected: (B, Tq, C).

    Query head h reads kv head h // G (kv heads repeated); the mask, any shape broadcasting to
    (B, H, Tq, Tk), is read per query head h (never regrouped); the causal rule is aligned to the end.
    """
    B, H, Tq, _ = q.shape
    Tk = k.shape[2]
    k, v = np.repeat(k, H // k.shape[1], axis=1), np.repeat(v, H // v.shape[1], axis=1)
    allowed = np.ones((Tq, Tk), dtype=bool) if mask is None else mask
    if is_causal:
        allowed = allowed & lower_triangle_from_the_end(Tq, Tk)
    out = attention_oracle(q, k, v, np.broadcast_to(allowed, (B, H, Tq, Tk)))  # (B, H, Tq, D)
    merged = np.concatenate([out[:, h] for h in range(H)], axis=-1)  # (B, Tq, C)
    return linear_oracle(attn.out_proj, merged)


def mha_oracle(attn, x, mask=None, is_causal=False, offset=0, rope_base=10000.0):
    """Multi-head attention in NumPy from the module's weights: the two oracles above, one after the other."""
    q, k, v = projections_oracle(attn, x, offset, rope_base)
    return attend_oracle(attn, q, k, v, mask, is_causal)


def sdpa(q, k, v, mask=None, is_causal=False):
    """The kata's attention on float64 arrays, as an array."""
    return scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=mask, is_causal=is_causal).numpy()


seeds = st.integers(0, 2**32 - 1)


@st.composite
def attention_inputs(draw, min_keys=0):
    """(q, k, v, mask): B, H <= 2; Tq, Tk <= 5 (Tk >= min_keys); D, Dv <= 4; a random mask or None."""
    B, H = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    Tq, Tk = draw(st.integers(0, 5)), draw(st.integers(min_keys, 5))
    D, Dv = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    gen = np.random.default_rng(draw(seeds))
    q, k, v = (gen.standard_normal(s) for s in ((B, H, Tq, D), (B, H, Tk, D), (B, H, Tk, Dv)))
    mask = draw(st.sampled_from([None, (B, 1, Tq, Tk), (1, H, 1, Tk), (Tq, Tk)]))
    if mask is not None:
        mask = gen.random(mask) < 0.7
    return q, k, v, mask


# --- step 1: splitting and merging heads -----------------------------------------------------


def test_step1_split_heads_gives_head_h_the_features_h_d_to_h_plus_1_d(rng):
    x = rng.standard_normal((2, 3, 12))  # B=2, T=3, C=12: H=4 heads of D=3
    out = split_heads(Tensor(x), 4)
    assert isinstance(out, Tensor) and out.shape == (2, 4, 3, 3)
    assert np.shares_memory(out.numpy(), x), "split_heads copied x: a reshape and a transpose are views"
    for h in range(4):
        assert_close(out[:, h], x[:, :, 3 * h : 3 * h + 3], rtol=0, atol=0, what=f"head {h}")


@given(st.integers(1, 3), st.integers(0, 4), st.integers(1, 4), st.integers(1, 3), seeds)
def test_step1_merge_heads_undoes_split_heads_and_back(B, T, H, D, seed):
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((B, T, H * D))
    assert_close(merge_heads(split_heads(Tensor(x), H)), x, rtol=0, atol=0, what="merge(split(x))")
    y = gen.standard_normal((B, H, T, D))
    assert_close(split_heads(merge_heads(Tensor(y)), H), y, rtol=0, atol=0, what="split(merge(y))")


def test_step1_split_and_merge_pass_gradients_through(rng):
    gradcheck_tensors("split_heads", lambda x: split_heads(x, 2), [rng.standard_normal((2, 3, 4))])
    gradcheck_tensors("merge_heads", merge_heads, [rng.standard_normal((2, 3, 1, 2))])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: split_heads(np.zeros((2, 3, 6)), 2), TypeError, r"^split_heads: input must be a Tensor, got ndarray$"),
        (
            lambda: split_heads(Tensor(np.zeros((4, 6))), 2),
            ValueError,
            r"^split_heads: input must have 3 dimensions \(B, T, C\), got \(4, 6\)$",
        ),
        (lambda: split_heads(Tensor(np.zeros((2, 3, 6))), 0), ValueError, r"n_heads must be an integer >= 1, got 0$"),
        (
            lambda: split_heads(Tensor(np.zeros((2, 3, 6))), 4),
            ValueError,
            r"^split_heads: the last dimension must be divisible by n_heads=4, got \(2, 3, 6\)$",
        ),
        (lambda: merge_heads(np.zeros((1, 2, 3, 4))), TypeError, r"^merge_heads: input must be a Tensor, got ndarray$"),
        (
            lambda: merge_heads(Tensor(np.zeros((2, 3, 4)))),
            ValueError,
            r"^merge_heads: input must have 4 dimensions \(B, H, T, D\), got \(2, 3, 4\)$",
        ),
    ],
    ids=["split ndarray", "split 2-d", "split 0 heads", "split indivisible", "merge ndarray", "merge 3-d"],
)
def test_step1_split_and_merge_refuse_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- step 2: which keys a query may read -----------------------------------------------------


@given(st.integers(0, 6), st.integers(0, 6))
def test_step2_the_causal_mask_is_aligned_to_the_end(Tq, Tk):
    mask = causal_mask(Tq, Tk)
    assert mask.dtype == np.bool_ and mask.shape == (Tq, Tk)
    assert_close(mask, lower_triangle_from_the_end(Tq, Tk), rtol=0, atol=0, what="causal_mask(Tq, Tk)")


def test_step2_a_square_causal_mask_is_the_lower_triangle_and_one_query_reads_every_cached_key():
    assert causal_mask(3, 3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert causal_mask(1, 4).tolist() == [[True, True, True, True]]
    assert causal_mask(3, 1).tolist() == [[False], [False], [True]]  # more queries than keys: early rows empty


def test_step2_attention_mask_is_the_mask_and_the_causal_rule(rng):
    padding = rng.random((2, 1, 1, 4)) < 0.5  # (B, 1, 1, Tk)
    assert_close(attention_mask(None, False, 3, 4), np.ones((3, 4), dtype=bool), rtol=0, atol=0, what="no mask")
    assert_close(attention_mask(None, True, 3, 4), lower_triangle_from_the_end(3, 4), rtol=0, atol=0, what="causal")
    both = attention_mask(padding, True, 3, 4)
    assert both.shape == (2, 1, 3, 4)
    expected = padding & lower_triangle_from_the_end(3, 4)
    assert_close(both, expected, rtol=0, atol=0, what="padding and causal")
    assert_close(attention_mask(padding, False, 3, 4), np.broadcast_to(padding, (2, 1, 3, 4)), rtol=0, atol=0)


def test_step2_causal_mask_refuses_a_negative_size():
    with pytest.raises(ValueError, match=r"^causal_mask: Tq must be an integer >= 0, got -1$"):
        causal_mask(-1, 3)


# --- step 3: scaled dot-product attention ----------------------------------------------------


@pytest.mark.parametrize(
    ("Tq", "Tk", "mask_shape", "is_causal"),
    [
        (4, 4, None, False),
        (3, 5, None, False),
        (4, 4, None, True),
        (2, 5, None, True),
        (5, 3, None, True),
        (4, 6, (2, 1, 1, 6), False),
        (4, 6, (2, 1, 1, 6), True),
        (4, 6, (4, 6), False),
    ],
    ids=["square", "Tq<Tk", "causal", "causal Tq<Tk", "causal Tq>Tk", "padding", "padding+causal", "(Tq, Tk) mask"],
)
def test_step3_attention_matches_a_row_by_row_numpy_oracle(Tq, Tk, mask_shape, is_causal, rng):
    B, H, D, Dv = 2, 3, 5, 2
    q, k, v = (
        rng.standard_normal((B, H, Tq, D)),
        rng.standard_normal((B, H, Tk, D)),
        rng.standard_normal((B, H, Tk, Dv)),
    )
    mask = None if mask_shape is None else rng.random(mask_shape) < 0.6
    out = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=mask, is_causal=is_causal)
    assert isinstance(out, Tensor) and out.shape == (B, H, Tq, Dv) and out.dtype == np.float64
    allowed = np.ones((Tq, Tk), dtype=bool) if mask is None else mask
    if is_causal:
        allowed = allowed & lower_triangle_from_the_end(Tq, Tk)
    assert_close(out, attention_oracle(q, k, v, allowed), rtol=1e-12, atol=1e-12, what="attention")


@given(attention_inputs(), st.booleans())
def test_step3_attention_equals_the_oracle_for_any_shapes_and_masks(case, is_causal):
    q, k, v, mask = case
    allowed = np.ones((q.shape[-2], k.shape[-2]), dtype=bool) if mask is None else mask
    if is_causal:
        allowed = allowed & lower_triangle_from_the_end(q.shape[-2], k.shape[-2])
    out = sdpa(q, k, v, mask=mask, is_causal=is_causal)
    assert_close(out, attention_oracle(q, k, v, allowed), rtol=1e-12, atol=1e-12, what="attention")


def test_step3_a_bool_tensor_mask_is_read_like_its_array(rng):
    q, k, v = rng.standard_normal((1, 2, 3, 4)), rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((1, 2, 5, 4))
    mask = rng.random((1, 1, 3, 5)) < 0.5
    assert_close(sdpa(q, k, v, mask=Tensor(mask)), sdpa(q, k, v, mask=mask), rtol=0, atol=0, what="Tensor mask")


def test_step3_a_0_d_boolean_array_is_a_mask_like_any_other(rng):
    q, k, v = rng.standard_normal((1, 2, 3, 4)), rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((1, 2, 5, 4))
    assert_close(sdpa(q, k, v, mask=np.array(True)), attention_oracle(q, k, v), rtol=1e-12, atol=1e-12, what="True")
    assert_close(sdpa(q, k, v, mask=np.array(False)), np.zeros((1, 2, 3, 4)), rtol=0, atol=0, what="all masked")


def test_step3_a_fully_masked_row_is_exactly_zero_and_passes_no_gradient(rng):
    q = Tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    k = Tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    v = Tensor(rng.standard_normal((1, 2, 5, 3)), requires_grad=True)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False  # query 1 may read no key
    out = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.isfinite(out.numpy()).all()
    assert_close(out[:, :, 1], np.zeros((1, 2, 3)), rtol=0, atol=0, what="the fully masked row")
    grad = np.zeros((1, 2, 3, 3))
    grad[:, :, 1] = rng.standard_normal((1, 2, 3))  # only the fully masked row has an upstream gradient
    out.backward(grad)
    for name, t in (("q", q), ("k", k), ("v", v)):
        assert_close(t.grad, np.zeros(t.shape), rtol=0, atol=0, what=f"{name}.grad from the fully masked row")


def test_step3_every_row_fully_masked_or_no_keys_gives_zeros_without_nan(rng):
    q, k, v = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((2, 1, 3, 2))
    assert_close(sdpa(q, k, v, mask=np.zeros((3, 3), dtype=bool)), np.zeros((2, 1, 3, 2)), rtol=0, atol=0)
    no_keys = sdpa(q, k[..., :0, :], v[..., :0, :], is_causal=True)  # Tk = 0: every row is fully masked
    assert_close(no_keys, np.zeros((2, 1, 3, 2)), rtol=0, atol=0, what="Tk = 0")
    assert sdpa(q[..., :0, :], k, v).shape == (2, 1, 0, 2)  # Tq = 0: nothing to compute


def test_step3_huge_scores_do_not_overflow(rng):
    q, k, v = (
        rng.standard_normal((1, 1, 3, 2)) * 1e3,
        rng.standard_normal((1, 1, 4, 2)) * 1e3,
        rng.standard_normal((1, 1, 4, 2)),
    )
    out = sdpa(q, k, v)  # scores of ~1e6: exp without subtracting the max would be inf (a RuntimeWarning: an error)
    assert_close(out, attention_oracle(q, k, v), rtol=1e-9, atol=1e-9, what="attention of huge scores")


@given(attention_inputs(min_keys=1), st.integers(0, 4), seeds)
def test_step3_causal_outputs_ignore_later_tokens(case, t, seed):
    q, k, v, _ = case
    T = min(q.shape[-2], k.shape[-2])
    q, k, v = q[..., :T, :], k[..., :T, :], v[..., :T, :]  # one sequence: Tq = Tk = T
    t = min(t, T - 1)
    gen = np.random.default_rng(seed)
    later_q, later_k, later_v = q.copy(), k.copy(), v.copy()
    later_q[..., t + 1 :, :] = gen.standard_normal(later_q[..., t + 1 :, :].shape)  # change every token after t
    later_k[..., t + 1 :, :] = gen.standard_normal(later_k[..., t + 1 :, :].shape)
    later_v[..., t + 1 :, :] = gen.standard_normal(later_v[..., t + 1 :, :].shape)
    before = sdpa(q, k, v, is_causal=True)[..., : t + 1, :]
    after = sdpa(later_q, later_k, later_v, is_causal=True)[..., : t + 1, :]
    assert_close(after, before, rtol=0, atol=0, what=f"outputs 0..{t} after changing the tokens after {t}")


@given(attention_inputs(), seeds)
def test_step3_without_a_mask_permuting_queries_permutes_outputs_and_permuting_keys_changes_nothing(case, seed):
    q, k, v, _ = case
    gen = np.random.default_rng(seed)
    rows, keys = gen.permutation(q.shape[-2]), gen.permutation(k.shape[-2])
    out = sdpa(q, k, v)
    assert_close(sdpa(q[..., rows, :], k, v), out[..., rows, :], rtol=1e-12, atol=1e-12, what="permuted queries")
    assert_close(sdpa(q, k[..., keys, :], v[..., keys, :]), out, rtol=1e-12, atol=1e-12, what="permuted keys")


def test_step3_padded_keys_are_ignored_whatever_they_hold(rng):
    B, H, T, D, lengths = 2, 2, 5, 3, np.array([3, 5])
    padding = (np.arange(T) < lengths[:, None])[:, None, None, :]  # (B, 1, 1, T): key j is real when j < length
    q, k, v = rng.standard_normal((B, H, T, D)), rng.standard_normal((B, H, T, D)), rng.standard_normal((B, H, T, D))
    out = sdpa(q, k, v, mask=padding)
    assert_close(out[:1], sdpa(q[:1], k[:1, :, :3], v[:1, :, :3]), rtol=1e-12, atol=1e-12, what="sequence 0 (3 tokens)")
    assert_close(out[1:], sdpa(q[1:], k[1:], v[1:]), rtol=1e-12, atol=1e-12, what="sequence 1 (no padding)")
    k[0, :, 3:], v[0, :, 3:] = 1e3, -1e3  # rewrite the padding
    assert_close(sdpa(q, k, v, mask=padding), out, rtol=0, atol=0, what="attention after rewriting the padding")


def test_step3_float32_stays_float32_in_the_output_and_gradients(rng):
    q, k, v = (Tensor(rng.standard_normal((1, 2, 3, 4)).astype(np.float32), requires_grad=True) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


def test_step3_attention_is_one_graph_node(rng):
    q, k, v = (Tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v)
    assert isinstance(out.grad_fn, AttentionFunction)
    assert all(parent is t for parent, t in zip(out.grad_fn.parents, (q, k, v), strict=True))


def test_step3_a_shared_kv_head_broadcasts_over_its_query_heads_and_receives_their_summed_gradient(rng):
    q = rng.standard_normal((2, 2, 3, 4, 5))  # (B, H_kv, G, Tq, D)
    k, v = rng.standard_normal((2, 2, 1, 6, 5)), rng.standard_normal((2, 2, 1, 6, 3))  # (B, H_kv, 1, Tk, D)
    repeated = attention_oracle(q, np.repeat(k, 3, axis=2), np.repeat(v, 3, axis=2))
    assert_close(sdpa(q, k, v), repeated, rtol=1e-12, atol=1e-12, what="broadcast k, v against repeated k, v")
    gradcheck_tensors(
        "scaled_dot_product_attention(broadcast kv)",
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        [q[:1, :, :, :3, :2], k[:1, :, :, :3, :2], v[:1, :, :, :3, :2]],
    )


@pytest.mark.parametrize(
    ("Tq", "Tk", "mask_shape", "is_causal"),
    [
        (3, 3, None, False),
        (3, 3, None, True),
        (2, 4, None, True),
        (3, 4, (2, 1, 1, 4), False),
        (3, 4, (2, 1, 3, 4), True),
    ],
    ids=["no mask", "causal", "causal Tq<Tk", "padding", "mask with a fully masked row + causal"],
)
def test_step3_attention_gradients_match_finite_differences(Tq, Tk, mask_shape, is_causal, rng):
    B, H, D = 2, 2, 3
    mask = None
    if mask_shape is not None:
        mask = rng.random(mask_shape) < 0.7
        mask[..., 0, 0] = True
        mask[0, ..., -1, :] = False  # batch 0's last query: a fully masked row
    q, k, v = rng.standard_normal((B, H, Tq, D)), rng.standard_normal((B, H, Tk, D)), rng.standard_normal((B, H, Tk, 2))
    gradcheck_tensors(
        f"scaled_dot_product_attention({Tq}x{Tk}, mask {mask_shape}, is_causal={is_causal})",
        lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal),
        [q, k, v],
    )


def qkv(shapes, dtype=np.float64):
    """Zero Tensors of the given shapes and dtype(s)."""
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,) * 3
    return [Tensor(np.zeros(s, dtype=d)) for s, d in zip(shapes, dtypes, strict=True)]


@pytest.mark.parametrize(
    ("make", "mask", "is_causal", "error", "message"),
    [
        (
            lambda: [np.zeros((1, 1, 2, 3)), *qkv([(1,), (1, 1, 2, 3), (1, 1, 2, 3)])[1:]],
            None,
            False,
            TypeError,
            r"^scaled_dot_product_attention: q must be a Tensor, got ndarray$",
        ),
        (
            lambda: qkv([(1, 1, 2, 3)] * 3, (np.float32, np.float64, np.float32)),
            None,
            False,
            TypeError,
            r"^scaled_dot_product_attention: q, k and v must have one floating dtype, got float32, float64, float32$",
        ),
        (lambda: qkv([(1, 1, 2, 3)] * 3, np.int64), None, False, TypeError, r"must have one floating dtype, got int64"),
        (
            lambda: qkv([(3,), (1, 2, 3), (1, 2, 3)]),
            None,
            False,
            ValueError,
            r"^scaled_dot_product_attention: q, k and v must have at least 2 dimensions \(T, D\), got q \(3,\)$",
        ),
        (
            lambda: qkv([(2, 4, 5, 8), (2, 4, 5, 6), (2, 4, 5, 6)]),
            None,
            False,
            ValueError,
            r"^scaled_dot_product_attention: q and k must have the same last dimension D,"
            r" got q \(2, 4, 5, 8\) vs k \(2, 4, 5, 6\)$",
        ),
        (
            lambda: qkv([(2, 4, 5, 0), (2, 4, 5, 0), (2, 4, 5, 3)]),
            None,
            False,
            ValueError,
            r"^scaled_dot_product_attention: q and k must have a last dimension D >= 1,"
            r" got q \(2, 4, 5, 0\) vs k \(2, 4, 5, 0\)$",
        ),
        (
            lambda: qkv([(2, 4, 5, 8), (2, 4, 5, 8), (2, 4, 6, 8)]),
            None,
            False,
            ValueError,
            r"^scaled_dot_product_attention: k and v must have the same shape up to the last dimension,"
            r" got k \(2, 4, 5, 8\) vs v \(2, 4, 6, 8\)$",
        ),
        (
            lambda: qkv([(2, 4, 5, 8), (3, 4, 5, 8), (3, 4, 5, 8)]),
            None,
            False,
            ValueError,
            r"^scaled_dot_product_attention: q's and k's leading dimensions must broadcast,"
            r" got q \(2, 4, 5, 8\) vs k \(3, 4, 5, 8\)$",
        ),
        (
            lambda: qkv([(2, 4, 5, 8), (2, 4, 5, 8), (2, 4, 5, 8)]),
            np.ones((3, 5), dtype=bool),
            False,
            ValueError,
            r"^scaled_dot_product_attention: mask must broadcast to the scores' shape,"
            r" got mask \(3, 5\) vs scores \(2, 4, 5, 5\)$",
        ),
        (
            lambda: qkv([(1, 1, 2, 3)] * 3),
            np.ones((1, 1, 1, 2, 2), dtype=bool),
            False,
            ValueError,
            r"got mask \(1, 1, 1, 2, 2\) vs scores \(1, 1, 2, 2\)$",
        ),
        (
            lambda: qkv([(1, 1, 2, 3)] * 3),
            np.ones((2, 2), dtype=np.float32),
            False,
            TypeError,
            r"^scaled_dot_product_attention: mask must be a boolean ndarray or Tensor \(True = may attend\),"
            r" got float32$",
        ),
        (lambda: qkv([(1, 1, 2, 3)] * 3), [[True, True]], False, TypeError, r"\(True = may attend\), got list$"),
        (
            lambda: qkv([(1, 1, 2, 3)] * 3),
            np.True_,
            False,
            TypeError,
            r"^scaled_dot_product_attention: mask must be a boolean ndarray or Tensor \(True = may attend\),"
            r" got numpy\.bool_? \(a scalar: a 0-d mask is np\.array\(True\)\)$",
        ),
        (
            lambda: qkv([(1, 1, 2, 3)] * 3),
            None,
            1,
            TypeError,
            r"^scaled_dot_product_attention: is_causal must be a bool, got int$",
        ),
    ],
    ids=[
        "ndarray q",
        "mixed dtypes",
        "int dtype",
        "1-d q",
        "q vs k D",
        "D = 0",
        "k vs v",
        "batch dims",
        "mask vs scores",
        "mask enlarging the scores",
        "float mask",
        "list mask",
        "NumPy bool scalar mask",
        "int is_causal",
    ],
)
def test_step3_attention_refuses_bad_inputs_naming_both_shapes(make, mask, is_causal, error, message):
    q, k, v = make()
    with pytest.raises(error, match=message):
        scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal)


B_NODE, H_NODE, T_NODE, D_NODE = 1, 4, 256, 16
SCORES_NODE = B_NODE * H_NODE * T_NODE * T_NODE * 4  # the float32 scores: 1 MiB


@pytest.fixture
def node_inputs():
    gen = np.random.default_rng(0)
    return [gen.standard_normal((B_NODE, H_NODE, T_NODE, D_NODE), dtype=np.float32) for _ in range(3)]


# The forward of the one attention node: the scores B·H·T·T·itemsize (1 MiB), turned into P in
# place or through ONE temporary of their size (2 MiB), the boolean causal mask and its negation
# (2·T·T bytes), the output B·H·T·D·itemsize (64 KiB), a few row statistics B·H·T·itemsize and a
# NumPy broadcast buffer, with the default slack (OpenBLAS's 512 KiB work area during each product,
# see BLAS_TRANSIENT below, fits in the temporary's room). A graph of separate ops (scores, scaled,
# masked, exp, normalized: five arrays of the scores' size, all kept for the backward) fails.
@memory_budget(
    2 * SCORES_NODE + 2 * T_NODE * T_NODE + B_NODE * H_NODE * T_NODE * (D_NODE + 4) * 4 + numpy_buffer(4),
    slack=DEFAULT_SLACK,
)
def test_step3_the_attention_node_keeps_one_array_of_the_scores_size(node_inputs):
    q, k, v = (Tensor(a, requires_grad=True) for a in node_inputs)
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.shape == (B_NODE, H_NODE, T_NODE, D_NODE) and out.dtype == np.float32


# --- step 4: multi-head (and grouped-query) attention ----------------------------------------


def test_step4_multi_head_attention_holds_four_linears_with_the_stated_shapes(rng):
    attn = MultiHeadAttention(12, 6, 2, rng=rng)
    assert (attn.d_model, attn.n_heads, attn.n_kv_heads, attn.head_dim, attn.rope) == (12, 6, 2, 2, False)
    assert attn.rope_base == 10000.0
    for name, shape in (("q_proj", (12, 12)), ("k_proj", (4, 12)), ("v_proj", (4, 12)), ("out_proj", (12, 12))):
        linear = getattr(attn, name)
        assert isinstance(linear, Linear) and linear.weight.shape == shape and linear.bias.shape == (shape[0],)
        assert linear.weight.dtype == np.float32
    names = [name for name, _ in attn.named_parameters()]
    assert sorted(names) == sorted(
        f"{p}.{w}" for p in ("q_proj", "k_proj", "v_proj", "out_proj") for w in ("weight", "bias")
    )
    C, kv = 12, 2 * 2  # parameters: 2·C² + 2·C·H_kv·D weights, 2·C + 2·H_kv·D biases
    assert count_parameters(attn) == 2 * C * C + 2 * C * kv + 2 * C + 2 * kv
    assert MultiHeadAttention(8, 4).n_kv_heads == 4
    no_bias = MultiHeadAttention(8, 2, bias=False, dtype=np.float64, rng=rng)
    assert no_bias.q_proj.bias is None and no_bias.out_proj.weight.dtype == np.float64


@pytest.mark.parametrize(
    ("d_model", "n_heads", "n_kv_heads", "rope", "rope_base", "mask", "is_causal", "offset"),
    [
        (8, 2, None, False, 10000.0, None, False, 0),
        (12, 3, None, False, 10000.0, None, True, 0),
        (12, 4, 2, False, 10000.0, "padding", False, 0),
        (12, 6, 1, True, 10000.0, None, True, 0),
        (16, 4, 2, True, 10000.0, "padding", True, 7),
        (12, 6, 2, False, 10000.0, "per head", False, 0),
        (16, 4, 2, True, 10000.0, "per head", True, 3),
        (8, 2, 1, True, 100.0, None, True, 0),
    ],
    ids=[
        "MHA",
        "MHA causal",
        "GQA padding",
        "MQA rope causal",
        "GQA rope padding causal offset",
        "GQA per-head mask",
        "GQA rope per-head mask causal offset",
        "MQA rope base 100",
    ],
)
def test_step4_multi_head_attention_matches_a_numpy_oracle(
    d_model, n_heads, n_kv_heads, rope, rope_base, mask, is_causal, offset, rng
):
    attn = MultiHeadAttention(d_model, n_heads, n_kv_heads, rope=rope, rope_base=rope_base, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 5, d_model))
    if mask == "padding":
        mask = (np.arange(5) < np.array([[3], [5]]))[:, None, None, :]  # (B, 1, 1, T)
    elif mask == "per head":
        # (B, H, T, T), different for every query head: read with the heads regrouped the wrong
        # way ((G, H_kv) instead of (H_kv, G)), head h gets another head's mask
        mask = rng.random((2, n_heads, 5, 5)) < 0.6
    out = attn(Tensor(x), mask=mask, is_causal=is_causal, offset=offset)
    assert isinstance(out, Tensor) and out.shape == (2, 5, d_model) and out.dtype == np.float64
    expected = mha_oracle(attn, x, mask=mask, is_causal=is_causal, offset=offset, rope_base=rope_base)
    assert_close(out, expected, rtol=1e-10, atol=1e-10, what="multi-head attention")


def test_step4_projections_are_drawn_in_the_order_q_k_v_out_from_the_generator():
    attn = MultiHeadAttention(8, 4, 2, rng=np.random.default_rng(3), dtype=np.float64)
    g = np.random.default_rng(3)  # the same seed: Linears made in the stated order draw the same numbers
    for name, out_features in (("q_proj", 8), ("k_proj", 4), ("v_proj", 4), ("out_proj", 8)):
        expected = Linear(8, out_features, True, rng=g, dtype=np.float64)
        linear = getattr(attn, name)
        assert_close(linear.weight, expected.weight.numpy(), rtol=0, atol=0, what=f"{name}.weight")
        assert_close(linear.bias, expected.bias.numpy(), rtol=0, atol=0, what=f"{name}.bias")


def test_step4_forward_takes_keywords_and_keeps_float32(rng):
    attn = MultiHeadAttention(8, 4, 2, rng=rng)
    x = Tensor(rng.standard_normal((2, 3, 8)).astype(np.float32))
    out = attn(x, mask=np.ones((2, 1, 1, 3), dtype=bool), is_causal=True, offset=0)
    assert out.shape == (2, 3, 8) and out.dtype == np.float32


def test_step4_gqa_with_as_many_kv_heads_as_heads_is_multi_head_attention(rng):
    x = Tensor(rng.standard_normal((2, 4, 8)))
    mha = MultiHeadAttention(8, 4, rng=np.random.default_rng(5), dtype=np.float64)
    gqa = MultiHeadAttention(8, 4, 4, rng=np.random.default_rng(5), dtype=np.float64)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        assert_close(
            getattr(gqa, name).weight, getattr(mha, name).weight.numpy(), rtol=0, atol=0, what=f"{name}.weight"
        )
    assert_close(
        gqa(x, is_causal=True), mha(x, is_causal=True).numpy(), rtol=0, atol=0, what="n_kv_heads = n_heads against None"
    )


@pytest.mark.parametrize(("n_heads", "n_kv_heads"), [(4, 2), (6, 3), (6, 1)])
def test_step4_gqa_equals_mha_whose_kv_weights_are_repeated_per_query_head(n_heads, n_kv_heads, rng):
    d_model, D, G = 2 * n_heads, 2, n_heads // n_kv_heads
    gqa = MultiHeadAttention(d_model, n_heads, n_kv_heads, rng=rng, dtype=np.float64)
    mha = MultiHeadAttention(d_model, n_heads, rng=rng, dtype=np.float64)
    for name in ("q_proj", "out_proj"):
        getattr(mha, name).weight.data[...] = getattr(gqa, name).weight.data
        getattr(mha, name).bias.data[...] = getattr(gqa, name).bias.data
    for name in ("k_proj", "v_proj"):
        w = getattr(gqa, name).weight.numpy().reshape(n_kv_heads, D, d_model)  # rows of kv head j
        b = getattr(gqa, name).bias.numpy().reshape(n_kv_heads, D)
        # query head h reads kv head h // G: kv head j's rows, repeated for its G consecutive query heads
        getattr(mha, name).weight.data[...] = np.repeat(w, G, axis=0).reshape(d_model, d_model)
        getattr(mha, name).bias.data[...] = np.repeat(b, G, axis=0).reshape(d_model)
    x = Tensor(rng.standard_normal((2, 5, d_model)))
    assert_close(
        gqa(x, is_causal=True),
        mha(x, is_causal=True).numpy(),
        rtol=1e-12,
        atol=1e-12,
        what="GQA against repeated-kv MHA",
    )


@given(st.integers(1, 5), seeds)
def test_step4_without_a_mask_permuting_tokens_permutes_outputs(T, seed):
    gen = np.random.default_rng(seed)
    attn = MultiHeadAttention(6, 3, 1, rng=gen, dtype=np.float64)
    x = gen.standard_normal((2, T, 6))
    order = gen.permutation(T)
    assert_close(attn(Tensor(x[:, order])), attn(Tensor(x)).numpy()[:, order], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rope", [False, True])
def test_step4_causal_outputs_ignore_later_tokens(rope, rng):
    attn = MultiHeadAttention(8, 4, 2, rope=rope, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 6, 8))
    later = x.copy()
    later[:, 3:] = rng.standard_normal((2, 3, 8))
    before, after = attn(Tensor(x), is_causal=True).numpy(), attn(Tensor(later), is_causal=True).numpy()
    assert_close(after[:, :3], before[:, :3], rtol=0, atol=0, what="outputs 0..2 after changing tokens 3..5")
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_step4_rope_makes_attention_depend_on_relative_positions_only(rng):
    attn = MultiHeadAttention(8, 2, rope=True, rng=rng, dtype=np.float64)
    x = Tensor(rng.standard_normal((1, 4, 8)))
    assert_close(
        attn(x, is_causal=True, offset=50),
        attn(x, is_causal=True, offset=0).numpy(),
        rtol=1e-9,
        atol=1e-9,
        what="offset 50 against 0",
    )
    plain = MultiHeadAttention(8, 2, rng=rng, dtype=np.float64)
    assert_close(plain(x, offset=9), plain(x).numpy(), rtol=0, atol=0, what="offset without rope")


def test_step4_the_offset_and_the_base_reach_rope(rng, monkeypatch):
    # RoPE's offset cancels in q·kᵀ (relative positions), so an offset dropped or clamped on its
    # way to rope changes no output: only a spy on 11's rope, called as embeddings.rope, sees it
    import tinytorch.attention
    import tinytorch.embeddings

    real_rope, calls = tinytorch.embeddings.rope, []

    def spy(x, offset=0, base=10000.0):
        calls.append((x.shape, offset, base))
        return real_rope(x, offset, base)

    monkeypatch.setattr(tinytorch.embeddings, "rope", spy)
    if hasattr(tinytorch.attention, "rope"):  # a `from tinytorch.embeddings import rope` is spied on too
        monkeypatch.setattr(tinytorch.attention, "rope", spy)
    attn = MultiHeadAttention(8, 4, 2, rope=True, rope_base=500.0, rng=rng, dtype=np.float64)
    attn(Tensor(rng.standard_normal((2, 3, 8))), is_causal=True, offset=7)
    assert sorted(calls) == [((2, 2, 3, 2), 7, 500.0), ((2, 4, 3, 2), 7, 500.0)], calls  # k's heads, q's heads


@pytest.mark.parametrize("rope", [False, True], ids=["without rope", "with rope"])
@pytest.mark.parametrize(
    ("offset", "shown"), [(-1, "-1"), (1.5, "1.5"), (True, "True")], ids=["negative", "float", "bool"]
)
def test_step4_forward_refuses_a_bad_offset_with_rope_or_without(rope, offset, shown, rng):
    attn = MultiHeadAttention(8, 2, rope=rope, rng=rng)
    # the fragment from "offset": with rope on, 11's "rope: offset ..." raised first is as good
    with pytest.raises(ValueError, match=rf"offset must be an integer >= 0, got {shown}$"):
        attn(Tensor(np.zeros((1, 3, 8), dtype=np.float32)), offset=offset)


def test_step4_padded_tokens_change_no_real_token_s_output(rng):
    attn = MultiHeadAttention(8, 4, 2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 5, 8))
    padding = (np.arange(5) < np.array([[3], [5]]))[:, None, None, :]  # (B, 1, 1, T)
    out = attn(Tensor(x), mask=padding).numpy()
    x[0, 3:] = 100.0
    assert_close(attn(Tensor(x), mask=padding).numpy()[0, :3], out[0, :3], rtol=1e-12, atol=1e-12, what="real tokens")


@pytest.mark.parametrize(
    ("n_kv_heads", "rope", "bias"),
    [(None, False, True), (1, True, True), (2, True, False)],
    ids=["MHA", "MQA rope", "GQA rope no bias"],
)
def test_step4_gradients_match_finite_differences_for_the_input_and_every_weight(n_kv_heads, rope, bias, rng):
    attn = MultiHeadAttention(4, 2, n_kv_heads, bias=bias, rope=rope, rng=rng, dtype=np.float64)
    names = [name for name, _ in attn.named_parameters()]
    assert len(names) == (8 if bias else 4)
    mask = np.array([True, True, False])  # key 2 is padding
    x = rng.standard_normal((2, 3, 4))

    def forward(x, *params):
        for name, p in zip(names, params, strict=True):
            module, attr = name.split(".")
            setattr(getattr(attn, module), attr, p)  # the tensor under test stands in for the Parameter
        return attn(x, mask=mask, is_causal=True, offset=2)

    weights = [p.numpy().copy() for _, p in attn.named_parameters()]
    gradcheck_tensors(f"MultiHeadAttention(n_kv_heads={n_kv_heads}, rope={rope})", forward, [x, *weights])


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        (
            (10, 4),
            {},
            ValueError,
            r"^MultiHeadAttention: d_model must be divisible by n_heads, got d_model=10, n_heads=4$",
        ),
        (
            (12, 6, 4),
            {},
            ValueError,
            r"^MultiHeadAttention: n_heads must be divisible by n_kv_heads, got n_heads=6, n_kv_heads=4$",
        ),
        ((8, 0), {}, ValueError, r"^MultiHeadAttention: n_heads must be an integer >= 1, got 0$"),
        ((8, 2, 0), {}, ValueError, r"^MultiHeadAttention: n_kv_heads must be an integer >= 1, got 0$"),
        ((9, 3), {"rope": True}, ValueError, r"^MultiHeadAttention: head_dim must be even for rope, got head_dim=3$"),
        ((8, 2), {"rope": 1}, TypeError, r"^MultiHeadAttention: rope must be a bool, got int$"),
        ((8, 2), {"rope_base": 1.0}, ValueError, r"^MultiHeadAttention: base must be a real number > 1, got 1\.0$"),
        ((8, 2), {"dtype": np.int32}, TypeError, r"^MultiHeadAttention: dtype must be floating-point, got int32$"),
    ],
    ids=[
        "d_model % n_heads",
        "n_heads % n_kv_heads",
        "0 heads",
        "0 kv heads",
        "odd head_dim with rope",
        "int rope",
        "rope_base",
        "int dtype",
    ],
)
def test_step4_multi_head_attention_refuses_bad_sizes_naming_both_numbers(args, options, error, message):
    with pytest.raises(error, match=message):
        MultiHeadAttention(*args, **options)


@pytest.mark.parametrize(
    ("x", "mask", "error", "message"),
    [
        (
            lambda: np.zeros((2, 3, 8), dtype=np.float32),
            None,
            TypeError,
            r"^MultiHeadAttention: input must be a Tensor, got ndarray$",
        ),
        (
            lambda: Tensor(np.zeros((2, 3, 5), dtype=np.float32)),
            None,
            ValueError,
            r"^MultiHeadAttention: input must have shape \(B, T, d_model=8\), got \(2, 3, 5\)$",
        ),
        (lambda: Tensor(np.zeros((3, 8), dtype=np.float32)), None, ValueError, r"d_model=8\), got \(3, 8\)$"),
        (
            lambda: Tensor(np.zeros((2, 3, 8), dtype=np.float32)),
            np.ones(4, dtype=bool),
            ValueError,
            r"^MultiHeadAttention: mask must broadcast to the scores' shape, got mask \(4,\) vs scores \(2, 4, 3, 3\)$",
        ),
        (
            lambda: Tensor(np.zeros((2, 3, 8), dtype=np.float32)),
            True,  # attn(x, True) meant is_causal=True
            TypeError,
            r"^MultiHeadAttention: mask must be a boolean ndarray or Tensor \(True = may attend\),"
            r" got bool \(a scalar: a 0-d mask is np\.array\(True\)\)$",
        ),
    ],
    ids=["ndarray", "wrong width", "2-d", "mask", "True as the mask"],
)
def test_step4_forward_refuses_bad_inputs(x, mask, error, message, rng):
    with pytest.raises(error, match=message):
        MultiHeadAttention(8, 4, 2, rng=rng)(x(), mask=mask)


@pytest.mark.parametrize(
    ("n_kv_heads", "rope", "offset"),
    [(None, False, 0), (2, True, 0), (1, True, 5), (2, False, 5)],
    ids=["MHA", "GQA rope", "MQA rope offset 5", "GQA offset 5 without rope"],
)
def test_step4_project_gives_q_k_v_in_the_heads_layout_rotated_at_the_offset(n_kv_heads, rope, offset, rng):
    attn = MultiHeadAttention(8, 4, n_kv_heads, rope=rope, rope_base=100.0, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 3, 8))
    q, k, v = attn.project(Tensor(x), offset)
    H_kv = 4 if n_kv_heads is None else n_kv_heads
    assert all(isinstance(t, Tensor) for t in (q, k, v))
    assert q.shape == (2, 4, 3, 2) and k.shape == v.shape == (2, H_kv, 3, 2)
    for name, got, expected in zip("qkv", (q, k, v), projections_oracle(attn, x, offset, 100.0), strict=True):
        assert_close(got, expected, rtol=1e-12, atol=1e-12, what=name)


@pytest.mark.parametrize("n_kv_heads", [None, 2, 1], ids=["MHA", "GQA", "MQA"])
def test_step4_attend_reads_more_keys_than_queries_with_the_causal_rule_aligned_to_the_end(n_kv_heads, rng):
    # kata 17 attends the new tokens' queries over every cached key: attend(q of the last
    # positions, every k, every v) must be forward's last rows
    attn = MultiHeadAttention(8, 4, n_kv_heads, rope=True, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 5, 8))
    q, k, v = attn.project(Tensor(x), 2)
    last = attn.attend(q[:, :, 3:], k, v, is_causal=True)
    assert isinstance(last, Tensor) and last.shape == (2, 2, 8)
    expected = attend_oracle(attn, q.numpy()[:, :, 3:], k.numpy(), v.numpy(), is_causal=True)
    assert_close(last, expected, rtol=1e-10, atol=1e-10, what="attend, Tq = 2 < Tk = 5")
    assert_close(last, attn(Tensor(x), is_causal=True, offset=2).numpy()[:, 3:], rtol=1e-12, atol=1e-12, what="forward")


def test_step4_forward_is_attend_of_project_with_the_mask_and_the_causal_flag(rng):
    attn = MultiHeadAttention(8, 4, 2, rope=True, rng=rng, dtype=np.float64)
    x = Tensor(rng.standard_normal((2, 4, 8)))
    mask = rng.random((2, 4, 4, 4)) < 0.7  # a different mask per query head
    halves = attn.attend(*attn.project(x, 3), mask=mask, is_causal=True)
    assert_close(halves, attn(x, mask=mask, is_causal=True, offset=3).numpy(), rtol=0, atol=0, what="the halves")
    expected = attend_oracle(attn, *projections_oracle(attn, x.numpy(), 3), mask=mask, is_causal=True)
    assert_close(halves, expected, rtol=1e-10, atol=1e-10, what="the oracle")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda q, k, v: (q.numpy(), k, v),
            TypeError,
            r"^MultiHeadAttention: q must be a Tensor, got ndarray$",
        ),
        (
            lambda q, k, v: (q, k, [1.0]),
            TypeError,
            r"^MultiHeadAttention: v must be a Tensor, got list$",
        ),
        (
            lambda q, k, v: (k, k, v),
            ValueError,
            r"^MultiHeadAttention: q must have shape \(B, H=4, Tq, D=2\), got \(2, 2, 3, 2\)$",
        ),
        (
            lambda q, k, v: (q, q, v),
            ValueError,
            r"^MultiHeadAttention: k must have shape \(B=2, H_kv=2, Tk, D=2\), got \(2, 4, 3, 2\)$",
        ),
        (
            lambda q, k, v: (q[:1], k, v),
            ValueError,
            r"^MultiHeadAttention: k must have shape \(B=1, H_kv=2, Tk, D=2\), got \(2, 2, 3, 2\)$",
        ),
        (
            lambda q, k, v: (q, k, v[:, :, :2]),
            ValueError,
            r"^MultiHeadAttention: k and v must have the same shape, got k \(2, 2, 3, 2\) vs v \(2, 2, 2, 2\)$",
        ),
    ],
    ids=["ndarray q", "list v", "q with H_kv heads", "k with H heads", "batches differ", "k and v lengths differ"],
)
def test_step4_attend_refuses_bad_heads_naming_the_expected_shape(make, error, message, rng):
    attn = MultiHeadAttention(8, 4, 2, rng=rng)
    q, k, v = attn.project(Tensor(np.zeros((2, 3, 8), dtype=np.float32)))
    with pytest.raises(error, match=message):
        attn.attend(*make(q, k, v))


B_GQA, H_GQA, H_KV_GQA, TK_GQA, D_GQA = 1, 8, 2, 2048, 16  # G = 4 query heads per kv head
ITEM_GQA = 8  # float64
SCORES_GQA = B_GQA * H_GQA * 1 * TK_GQA * ITEM_GQA  # one query per head over 2048 keys: 128 KiB
KV_COPY_GQA = B_GQA * H_GQA * TK_GQA * D_GQA * ITEM_GQA  # k repeated for every query head: 2 MiB (v too)
# One query (kata 17's cached step) attending over 2048 keys, under no_grad: the scores
# B·H·1·Tk·itemsize, turned into the weights in place or through one temporary of their size
# (step 3's node), the boolean causal mask and its negation (2·Tk bytes), a NumPy broadcast
# buffer; the heads' outputs and out_proj's B·1·C values are a few KiB, inside the slack. The kv
# heads are read where they lie: q grouped as (B, H_kv, G, 1, D) against k and v reshaped to
# (B, H_kv, 1, Tk, D) broadcast. Repeating k and v per query head (np.repeat, an index array,
# G reshapes of copies) allocates KV_COPY_GQA for each, and even one copy of k (512 KiB) fails.
ATTEND_BUDGET = 2 * SCORES_GQA + 2 * TK_GQA + numpy_buffer(ITEM_GQA)


@pytest.fixture
def gqa_heads():
    gen = np.random.default_rng(0)
    attn = MultiHeadAttention(H_GQA * D_GQA, H_GQA, H_KV_GQA, rng=gen, dtype=np.float64)
    q = gen.standard_normal((B_GQA, H_GQA, 1, D_GQA))
    k, v = (gen.standard_normal((B_GQA, H_KV_GQA, TK_GQA, D_GQA)) for _ in range(2))
    return attn, q, k, v


@memory_budget(ATTEND_BUDGET, slack=DEFAULT_SLACK)
def test_step4_attend_serves_a_kv_head_s_query_heads_without_copying_k_and_v(gqa_heads):
    # the arithmetic this budget relies on: one copy of k for every query head is over it 4 times
    assert KV_COPY_GQA > 4 * (ATTEND_BUDGET + DEFAULT_SLACK)
    attn, q, k, v = gqa_heads
    with no_grad():
        out = attn.attend(Tensor(q), Tensor(k), Tensor(v), is_causal=True)
    assert out.shape == (B_GQA, 1, H_GQA * D_GQA) and out.dtype == np.float64


# --- step 5: attention in blocks of keys -----------------------------------------------------


@given(attention_inputs(), st.booleans())
def test_step5_chunked_attention_equals_naive_for_every_block_size(case, is_causal):
    q, k, v, mask = case
    allowed = np.ones((q.shape[-2], k.shape[-2]), dtype=bool) if mask is None else mask
    if is_causal:
        allowed = allowed & lower_triangle_from_the_end(q.shape[-2], k.shape[-2])
    naive = attention_oracle(q, k, v, allowed)  # naive attention, written in this file
    for block_size in range(1, k.shape[-2] + 3):  # dividing Tk or not, and larger than Tk
        out = chunked_attention(q, k, v, block_size, is_causal=is_causal, mask=mask)
        assert isinstance(out, np.ndarray) and out.shape == naive.shape and out.dtype == np.float64
        assert_close(out, naive, rtol=1e-12, atol=1e-12, what=f"chunked (block_size={block_size}) against naive")


def test_step5_chunked_attention_rescales_when_a_later_block_has_a_larger_score(rng):
    # scores grow along the keys, up to 20·24·2/√2 ≈ 679: every block brings a new maximum, and exp of a score
    # never shifted by its row's running max would overflow (a RuntimeWarning is an error here)
    q = np.ones((1, 1, 2, 2), dtype=np.float32) * 20
    k = (np.arange(7, dtype=np.float32)[:, None] * np.ones(2, dtype=np.float32) * 4)[None, None]
    v = rng.standard_normal((1, 1, 7, 3)).astype(np.float32)
    out = chunked_attention(q, k, v, 2)
    assert out.dtype == np.float32
    assert_close(out, attention_oracle(q, k, v), rtol=1e-5, atol=1e-5, what="chunked attention of growing scores")


@pytest.mark.parametrize("is_causal", [False, True])
def test_step5_chunked_attention_broadcasts_q_s_and_k_s_leading_dimensions_both_ways(is_causal, rng):
    # GQA-shaped: a kv head of (B, H_kv, 1, T, D) serves G query heads, and the reverse, one
    # query head against G keys' sets: the output takes the broadcast leading dimensions
    B, H_kv, G, T, D = 2, 2, 3, 5, 4
    grouped, single = rng.standard_normal((B, H_kv, G, T, D)), rng.standard_normal((B, H_kv, 1, T, D))
    values = rng.standard_normal((B, H_kv, 1, T, 2))
    allowed = lower_triangle_from_the_end(T, T) if is_causal else None
    out = chunked_attention(grouped, single, values, 2, is_causal=is_causal)
    expected = attention_oracle(grouped, np.repeat(single, G, axis=2), np.repeat(values, G, axis=2), allowed)
    assert out.shape == (B, H_kv, G, T, 2)
    assert_close(out, expected, rtol=1e-12, atol=1e-12, what="q (B, H_kv, G, T, D) against k (B, H_kv, 1, T, D)")
    values = rng.standard_normal((B, H_kv, G, T, 2))
    out = chunked_attention(single, grouped, values, 2, is_causal=is_causal)
    expected = attention_oracle(np.repeat(single, G, axis=2), grouped, values, allowed)
    assert out.shape == (B, H_kv, G, T, 2)
    assert_close(out, expected, rtol=1e-12, atol=1e-12, what="q (B, H_kv, 1, T, D) against k (B, H_kv, G, T, D)")


def test_step5_chunked_attention_keeps_the_fully_masked_rule(rng):
    q, k, v = rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((1, 2, 2, 3))
    out = chunked_attention(q, k, v, 1, is_causal=True)  # Tq = 4 > Tk = 2: queries 0 and 1 read no key
    assert_close(out[..., :2, :], np.zeros((1, 2, 2, 3)), rtol=0, atol=0, what="the fully masked rows")
    assert_close(out, attention_oracle(q, k, v, lower_triangle_from_the_end(4, 2)), rtol=1e-12, atol=1e-12)
    assert_close(
        chunked_attention(q, k[..., :0, :], v[..., :0, :], 3), np.zeros((1, 2, 4, 3)), rtol=0, atol=0, what="Tk = 0"
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda q: chunked_attention(Tensor(q), q, q, 2),
            TypeError,
            r"^chunked_attention: q must be an ndarray \(forward only: no autograd\), got tinytorch\.autograd\.Tensor$",
        ),
        (
            lambda q: chunked_attention(q, q, q, 0),
            ValueError,
            r"^chunked_attention: block_size must be an integer >= 1, got 0$",
        ),
        (lambda q: chunked_attention(q, q, q, True), ValueError, r"block_size must be an integer >= 1, got True$"),
        (
            lambda q: chunked_attention(q, q, q, 2, is_causal=None),
            TypeError,
            r"^chunked_attention: is_causal must be a bool, got NoneType$",
        ),
        (
            lambda q: chunked_attention(q, q[..., :2], q, 2),
            ValueError,
            r"^chunked_attention: q and k must have the same last dimension D,"
            r" got q \(1, 2, 3, 4\) vs k \(1, 2, 3, 2\)$",
        ),
        (
            lambda q: chunked_attention(q, q, q, 2, mask=np.ones((2, 3), dtype=bool)),
            ValueError,
            r"^chunked_attention: mask must broadcast to the scores' shape, "
            r"got mask \(2, 3\) vs scores \(1, 2, 3, 3\)$",
        ),
        (
            lambda q: chunked_attention(q[..., :0], q[..., :0], q, 2),
            ValueError,
            r"^chunked_attention: q and k must have a last dimension D >= 1, got q \(1, 2, 3, 0\) vs k \(1, 2, 3, 0\)$",
        ),
    ],
    ids=["Tensor", "block 0", "block True", "is_causal None", "q vs k", "mask vs scores", "D = 0"],
)
def test_step5_chunked_attention_refuses_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call(np.zeros((1, 2, 3, 4)))


B_MEM, H_MEM, T_MEM, D_MEM, BLOCK_MEM = 1, 4, 1024, 16, 16
ITEM = 4  # float32
NAIVE_SCORES = B_MEM * H_MEM * T_MEM * T_MEM * ITEM  # 16 MiB: the matrix naive attention holds
# Chunked: the running output and one product of its size (B·H·T·Dv each), two blocks of scores
# (the block and the one before it, still alive while the next is computed: B·H·T·block each),
# eight row statistics (running max and sum, the block's max, the shift, the rescale... B·H·T
# each): O(B·H·T·D + B·H·T·block), 1.1 MiB; plus the block's boolean mask and its negation
# (2·T·block bytes) and a NumPy broadcast buffer. (Measured under memray: the reference peaks at
# 0.88 MiB. The block of 16 keeps each product small enough that OpenBLAS runs it on one thread,
# with no work area of its own: at 64 keys it adds 512 KiB per product, as in 04's test, and
# takes seconds on a loaded machine.)
CHUNKED_BUDGET = (
    B_MEM * H_MEM * T_MEM * (2 * D_MEM + 2 * BLOCK_MEM + 8) * ITEM + 2 * T_MEM * BLOCK_MEM + numpy_buffer(ITEM)
)


@pytest.fixture
def long_sequence():
    gen = np.random.default_rng(0)
    shape = (B_MEM, H_MEM, T_MEM, D_MEM)
    return [gen.standard_normal(shape, dtype=np.float32) for _ in range(3)]


@memory_budget(CHUNKED_BUDGET, slack=DEFAULT_SLACK)
def test_step5_chunked_attention_never_holds_the_t_by_t_scores(long_sequence):
    # the arithmetic this budget relies on: the naive scores alone exceed it, slack included, 10 times over
    assert NAIVE_SCORES > 10 * (CHUNKED_BUDGET + DEFAULT_SLACK)
    q, k, v = long_sequence
    out = chunked_attention(q, k, v, BLOCK_MEM, is_causal=True)
    assert out.shape == (B_MEM, H_MEM, T_MEM, D_MEM) and out.dtype == np.float32
    assert np.isfinite(out).all()


def test_step5_naive_attention_on_the_same_inputs_holds_the_scores_and_would_break_that_budget(long_sequence):
    # the other side of the budget above, measured in this process with tracemalloc (NumPy reports
    # its arrays to it): naive attention keeps P, B·H·T·T·itemsize, for its backward
    q, k, v = (Tensor(a) for a in long_sequence)
    tracemalloc.start()
    try:
        out = scaled_dot_product_attention(q, k, v, is_causal=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (B_MEM, H_MEM, T_MEM, D_MEM)
    assert peak >= NAIVE_SCORES > CHUNKED_BUDGET + DEFAULT_SLACK, f"naive attention peaked at {peak:,} bytes"
