"""Kata 17 kv_cache. Run: pytest exercises/17_kv_cache   (one step: -k "step1" ... "step4")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.attention import AttentionFunction, MultiHeadAttention
from tinytorch.autograd import Tensor
from tinytorch.kv_cache import KVCache, cached_attention, cached_forward, generate_cached
from tinytorch.layers import Linear, LinearFunction, Sequential, manual_seed
from tinytorch.testing import assert_close, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, KiB
from tinytorch.testing.oracles import causal_self_attention, dense, rotate_pairs
from tinytorch.transformers import GPT, GPTConfig

# --- oracles written here, independent of the kata ----------------------------------------------


def keys_and_values(attn, x):
    """Every position's key and value heads (B, H_kv, T, D), rotated at positions 0 .. T − 1 with rope."""
    B, T, _ = x.shape
    H_kv, D = attn.n_kv_heads, attn.head_dim
    k = dense(x, attn.k_proj).reshape(B, T, H_kv, D).transpose(0, 2, 1, 3)
    v = dense(x, attn.v_proj).reshape(B, T, H_kv, D).transpose(0, 2, 1, 3)
    return (rotate_pairs(k, np.arange(T), attn.rope_base) if attn.rope else k), v


def layer_norm(x, norm):
    """13's LayerNorm from its arrays: (x − mean) / √(var + eps) · weight + bias."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.eps) * norm.weight.numpy() + norm.bias.numpy()


def tiny_gpt(seed=0, scale=10.0, **changes):
    """A float64 GPT (V 13, T_max 12, C 8, H 4, L 2, untied head unless changed), its token table times ``scale``.

    GPT-2's init (N(0, 0.02²) tables) makes the logits nearly equal; a larger table makes each next
    token depend clearly on the context, so that a wrong or missing key changes the tokens.
    """
    options = dict(vocab_size=13, context_length=12, d_model=8, n_heads=4, n_layers=2, tie_weights=False)
    model = GPT(GPTConfig(**{**options, "dtype": np.float64, **changes}), rng=np.random.default_rng(seed))
    model.tok_emb.weight.data *= scale
    return model


VARIANTS = [  # changes to tiny_gpt's config: positions x GQA x tied head
    dict(tie_weights=True),
    dict(n_kv_heads=2),
    dict(n_kv_heads=1, tie_weights=True),
    dict(positions="rope", n_heads=2, rope_base=500.0),  # D = 4: with D = 2 the only angle, base⁰ = 1, ignores the base
    dict(positions="rope", n_kv_heads=2, tie_weights=True),
    dict(positions="rope", n_kv_heads=1, norm="rms", bias=False),
]
VARIANT_IDS = [
    "learned-tied",
    "learned-gqa",
    "learned-mqa-tied",
    "rope-base500-d4",
    "rope-gqa-tied",
    "rope-mqa-rms-nobias",
]


# --- step 1: the cache --------------------------------------------------------------------------


def test_step1_the_cache_allocates_two_zero_buffers_per_layer_of_the_stated_shape_and_dtype():
    cache = KVCache(3, 2, 4, 7, 5, dtype=np.float64)
    assert (cache.n_layers, cache.batch_size, cache.n_kv_heads, cache.max_len, cache.head_dim) == (3, 2, 4, 7, 5)
    assert cache.dtype == np.float64 and cache.lengths == [0, 0, 0]
    assert len(cache.key_buffers) == len(cache.value_buffers) == 3
    for buffer in cache.key_buffers + cache.value_buffers:
        assert buffer.shape == (2, 4, 7, 5) and buffer.dtype == np.float64 and not buffer.any()
    every = cache.key_buffers + cache.value_buffers
    assert not any(np.shares_memory(a, b) for i, a in enumerate(every) for b in every[i + 1 :])
    assert KVCache(1, 1, 1, 1, 1).dtype == np.float32  # the default


@settings(max_examples=25)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 9),
    st.integers(1, 6),
    st.sampled_from(["float32", "float64"]),
)
def test_step1_nbytes_is_two_times_layers_batch_kv_heads_max_len_head_dim_itemsize(L, B, H_kv, T_max, D, dtype):
    cache = KVCache(L, B, H_kv, T_max, D, dtype=dtype)
    assert cache.nbytes == 2 * L * B * H_kv * T_max * D * np.dtype(dtype).itemsize
    assert isinstance(cache.nbytes, int)


def test_step1_for_model_reads_the_model_s_sizes_and_gqa_divides_the_bytes_by_h_over_h_kv():
    sizes = dict(vocab_size=16, context_length=10, d_model=16, n_heads=4, n_layers=3)
    full = KVCache.for_model(GPT(GPTConfig(**sizes)), 2)
    grouped = KVCache.for_model(GPT(GPTConfig(**sizes, n_kv_heads=1, dtype=np.float64)), 2, max_len=6)
    assert (full.n_layers, full.batch_size, full.n_kv_heads, full.max_len, full.head_dim) == (3, 2, 4, 10, 4)
    assert full.dtype == np.float32 and full.key_buffers[0].shape == (2, 4, 10, 4)
    assert (grouped.n_kv_heads, grouped.max_len, grouped.dtype) == (1, 6, np.float64)
    same_len = KVCache.for_model(GPT(GPTConfig(**sizes, n_kv_heads=2)), 2)
    assert full.nbytes == 2 * same_len.nbytes  # H / H_kv = 2
    assert full.nbytes == 2 * 3 * 2 * 4 * 10 * 4 * 4


@settings(max_examples=20)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_step1_appends_fill_the_buffer_in_order_and_return_views_of_the_filled_prefix(chunks, seed):
    gen = np.random.default_rng(seed)
    cache = KVCache(2, 2, 3, 12, 4, dtype=np.float64)
    buffers = (cache.key_buffers[1], cache.value_buffers[1])
    written_k, written_v, n = [], [], 0
    for T in chunks:
        k, v = gen.standard_normal((2, 2, 3, T, 4))
        keys, values = cache.append(1, k, v)
        written_k.append(k)
        written_v.append(v)
        n += T
        assert cache.length(1) == cache.lengths[1] == n and cache.length(0) == 0  # layers count apart
        assert_close(keys, np.concatenate(written_k, axis=2), rtol=0, atol=0, what="the cached keys")
        assert_close(values, np.concatenate(written_v, axis=2), rtol=0, atol=0, what="the cached values")
        assert np.shares_memory(keys, buffers[0]) and np.shares_memory(values, buffers[1])
        assert not buffers[0][:, :, n:].any(), "append wrote past the filled prefix"
    assert cache.key_buffers[1] is buffers[0] and cache.value_buffers[1] is buffers[1]  # never reallocated
    k.fill(7.0)  # the cache holds a copy, not the caller's array
    assert not (cache.keys(1) == 7.0).any()


def test_step1_keys_and_values_are_views_that_share_memory_with_the_buffers():
    cache = KVCache(2, 1, 2, 6, 3, dtype=np.float64)
    assert cache.keys(0).shape == (1, 2, 0, 3)  # empty at first
    cache.append(0, np.ones((1, 2, 4, 3)), np.full((1, 2, 4, 3), 2.0))
    keys, values = cache.keys(0), cache.values(0)
    assert keys.shape == values.shape == (1, 2, 4, 3)
    assert np.shares_memory(keys, cache.key_buffers[0]) and np.shares_memory(values, cache.value_buffers[0])
    keys[0, 0, 0, 0] = 5.0  # a view: writing it writes the buffer
    assert cache.key_buffers[0][0, 0, 0, 0] == 5.0
    assert cache.values(1).shape == (1, 2, 0, 3)


def test_step1_append_reads_a_tensor_s_array_and_reset_empties_every_layer_keeping_the_buffers():
    cache = KVCache(2, 1, 1, 4, 2)
    k = Tensor(np.ones((1, 1, 3, 2), dtype=np.float32))
    cache.append(0, k, k)
    cache.append(1, k, k)
    buffers = cache.key_buffers[0]
    cache.reset()
    assert cache.lengths == [0, 0] and cache.key_buffers[0] is buffers
    keys, _ = cache.append(0, np.zeros((1, 1, 4, 2), dtype=np.float32), np.zeros((1, 1, 4, 2), dtype=np.float32))
    assert keys.shape == (1, 1, 4, 2)  # the whole capacity is free again


def test_step1_an_overflow_names_max_len_and_the_length_asked_and_writes_nothing():
    cache = KVCache(1, 1, 1, 5, 2, dtype=np.float64)
    cache.append(0, np.ones((1, 1, 4, 2)), np.ones((1, 1, 4, 2)))
    with pytest.raises(ValueError, match=r"KVCache.append: length \+ T must be at most max_len=5, got 4 \+ 2 = 6"):
        cache.append(0, np.full((1, 1, 2, 2), 9.0), np.full((1, 1, 2, 2), 9.0))
    assert cache.length(0) == 4 and not (cache.key_buffers[0] == 9.0).any()
    cache.append(0, np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2)))  # exactly full is fine
    with pytest.raises(ValueError, match="max_len=5, got 5 \\+ 1 = 6"):
        cache.append(0, np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2)))


@pytest.mark.parametrize(
    ("k_shape", "v_shape", "dtype", "message"),
    [
        (
            (3, 2, 1, 4),
            (3, 2, 1, 4),
            "float64",
            r"k must have shape \(B=2, H_kv=2, T, D=4\) with T >= 1, got \(3, 2, 1, 4\)",
        ),
        ((2, 1, 1, 4), (2, 1, 1, 4), "float64", r"k must have shape \(B=2, H_kv=2, T, D=4\) .*got \(2, 1, 1, 4\)"),
        ((2, 2, 1, 3), (2, 2, 1, 3), "float64", r"got \(2, 2, 1, 3\)"),
        ((2, 2, 0, 4), (2, 2, 0, 4), "float64", r"with T >= 1, got \(2, 2, 0, 4\)"),
        ((2, 2, 4), (2, 2, 4), "float64", r"k must have shape .*got \(2, 2, 4\)"),
        ((2, 2, 1, 4), (2, 2, 1, 5), "float64", r"v must have shape .*got \(2, 2, 1, 5\)"),
        (
            (2, 2, 1, 4),
            (2, 2, 2, 4),
            "float64",
            r"k and v must have the same shape, got k \(2, 2, 1, 4\) vs v \(2, 2, 2, 4\)",
        ),
    ],
)
def test_step1_append_refuses_a_shape_or_batch_that_is_not_the_cache_s(k_shape, v_shape, dtype, message):
    cache = KVCache(2, 2, 2, 8, 4, dtype=np.float64)
    with pytest.raises(ValueError, match=message):
        cache.append(0, np.zeros(k_shape, dtype=dtype), np.zeros(v_shape, dtype=dtype))
    assert cache.lengths == [0, 0]


def test_step1_append_refuses_a_wrong_dtype_a_non_array_and_a_layer_out_of_range():
    cache = KVCache(2, 1, 1, 8, 2)
    good = np.zeros((1, 1, 1, 2), dtype=np.float32)
    with pytest.raises(TypeError, match=r"KVCache.append: k must have dtype float32, got float64"):
        cache.append(0, good.astype(np.float64), good)
    with pytest.raises(TypeError, match=r"KVCache.append: v must be an ndarray or Tensor, got list"):
        cache.append(0, good, [[[[0.0, 0.0]]]])
    for layer in (2, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"KVCache.append: layer must be an integer in \[0, 2\), got"):
            cache.append(layer, good, good)
    with pytest.raises(ValueError, match=r"KVCache.keys: layer must be an integer in \[0, 2\), got 2"):
        cache.keys(2)
    with pytest.raises(ValueError, match=r"KVCache.length: layer must be an integer in \[0, 2\), got 5"):
        cache.length(5)


def test_step1_the_cache_refuses_bad_sizes_and_a_non_float_dtype():
    with pytest.raises(ValueError, match="KVCache: max_len must be an integer >= 1, got 0"):
        KVCache(1, 1, 1, 0, 2)
    with pytest.raises(ValueError, match="KVCache: n_layers must be an integer >= 1, got 0"):
        KVCache(0, 1, 1, 4, 2)
    with pytest.raises(TypeError, match="KVCache: dtype must be floating-point, got int64"):
        KVCache(1, 1, 1, 4, 2, dtype=np.int64)
    with pytest.raises(TypeError, match=r"KVCache.for_model: model must be a GPT, got Sequential"):
        KVCache.for_model(Sequential(Linear(2, 2)), 1)
    model = GPT(GPTConfig(vocab_size=4, context_length=8, d_model=4, n_heads=1))
    with pytest.raises(ValueError, match=r"KVCache\.for_model: max_len must be at most context_length=8, got 9"):
        KVCache.for_model(model, 1, max_len=9)
    with pytest.raises(ValueError, match=r"KVCache\.for_model: max_len must be an integer >= 1, got 0"):
        KVCache.for_model(model, 1, max_len=0)
    assert KVCache.for_model(model, 1, max_len=8).max_len == 8  # exactly the context is fine


# --- step 2: one cached attention step ----------------------------------------------------------


@pytest.mark.parametrize(
    ("n_heads", "n_kv_heads", "rope", "rope_base"),
    [(4, 4, False, 10000.0), (4, 2, False, 10000.0), (4, 1, True, 10000.0), (2, 1, True, 500.0)],
    ids=["mha", "gqa", "mqa-rope", "gqa-rope-base500-d4"],  # D = 8 / H: the base matters only when D >= 4
)
def test_step2_cached_attention_chunk_by_chunk_equals_attention_over_the_whole_sequence(
    n_heads, n_kv_heads, rope, rope_base, rng
):
    attn = MultiHeadAttention(8, n_heads, n_kv_heads, rope=rope, rope_base=rope_base, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 7, 8))
    expected = causal_self_attention(attn, x)  # (B, 7, C)
    cache = KVCache(1, 2, n_kv_heads, 9, 8 // n_heads, dtype=np.float64)
    start = 0
    for T in (3, 1, 2, 1):  # a prompt, then single steps and a pair
        out = cached_attention(attn, Tensor(x[:, start : start + T]), cache, 0)
        assert isinstance(out, Tensor) and out.shape == (2, T, 8)
        assert_close(out, expected[:, start : start + T], rtol=1e-10, atol=1e-12, what=f"positions {start}..")
        start += T
        assert cache.length(0) == start
    keys, values = keys_and_values(attn, x)  # every position, the first included
    assert_close(cache.keys(0), keys, rtol=1e-10, atol=1e-12, what="the cached keys (rotated at their positions)")
    assert_close(cache.values(0), values, rtol=1e-10, atol=1e-12, what="the cached values")


def test_step2_cached_attention_writes_only_its_own_layer(rng):
    attn = MultiHeadAttention(8, 2, rng=rng, dtype=np.float64)
    cache = KVCache(3, 1, 2, 4, 4, dtype=np.float64)
    cached_attention(attn, Tensor(rng.standard_normal((1, 2, 8))), cache, 1)
    assert cache.lengths == [0, 2, 0]


def test_step2_cached_attention_refuses_what_it_cannot_read(rng):
    attn = MultiHeadAttention(8, 4, 2, rng=rng)
    cache = KVCache(1, 2, 2, 4, 2)
    x = Tensor(np.zeros((2, 1, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="cached_attention: attn must be a MultiHeadAttention, got Linear"):
        cached_attention(Linear(8, 8), x, cache, 0)
    with pytest.raises(TypeError, match="cached_attention: input must be a Tensor, got ndarray"):
        cached_attention(attn, x.numpy(), cache, 0)
    with pytest.raises(
        ValueError, match=r"cached_attention: input must have shape \(B, T, d_model=8\) .*got \(2, 1, 5\)"
    ):
        cached_attention(attn, Tensor(np.zeros((2, 1, 5), dtype=np.float32)), cache, 0)
    with pytest.raises(ValueError, match=r"cached_attention: the batch must be the cache's batch_size=2, got 3"):
        cached_attention(attn, Tensor(np.zeros((3, 1, 8), dtype=np.float32)), cache, 0)
    with pytest.raises(
        ValueError, match=r"cached_attention: cache must have \(n_layers, n_kv_heads, head_dim, dtype\)"
    ):
        cached_attention(attn, x, KVCache(1, 2, 4, 4, 2), 0)
    with pytest.raises(TypeError, match="cached_attention: cache must be a KVCache, got dict"):
        cached_attention(attn, x, {}, 0)
    for layer in (5, -1, True):
        with pytest.raises(ValueError, match=r"cached_attention: layer must be an integer in \[0, 1\), got"):
            cached_attention(attn, x, cache, layer)
    assert cache.lengths == [0]


# --- step 3: a cached forward of the GPT --------------------------------------------------------


@pytest.mark.parametrize(("changes", "prompt"), list(zip(VARIANTS, [1, 3, 2, 3, 1, 2], strict=True)), ids=VARIANT_IDS)
def test_step3_cached_logits_equal_the_uncached_logits_at_every_step_in_float64(changes, prompt, rng):
    model = tiny_gpt(**changes)
    ids = rng.integers(0, 13, size=(2, 9))
    expected = model(ids).numpy()  # (B, 9, V): 13's forward, no cache (causal: row t reads ids[:, :t + 1])
    cache = KVCache.for_model(model, 2)
    logits = cached_forward(model, ids[:, :prompt], cache)
    assert isinstance(logits, Tensor) and logits.shape == (2, prompt, 13) and not logits.requires_grad
    assert_close(logits, expected[:, :prompt], rtol=1e-10, atol=1e-10, what="the prompt's logits")
    for t in range(prompt, 9):
        logits = cached_forward(model, ids[:, t : t + 1], cache)
        assert logits.shape == (2, 1, 13)
        assert_close(logits.numpy()[:, 0], expected[:, t], rtol=1e-10, atol=1e-10, what=f"the logits at step {t}")
        assert cache.lengths == [t + 1, t + 1]


def test_step3_the_prompt_s_first_token_enters_every_layer_s_cache(rng):
    model = tiny_gpt()
    ids = rng.integers(0, 13, size=(2, 4))
    cache = KVCache.for_model(model, 2)
    cached_forward(model, ids, cache)
    x = model.tok_emb.weight.numpy()[ids] + model.pos_emb.weight.numpy()[:4]  # layer 0's input, in NumPy
    keys, values = keys_and_values(model.blocks[0].attn, layer_norm(x, model.blocks[0].norm1))
    assert_close(cache.keys(0), keys, rtol=1e-10, atol=1e-12, what="layer 0's keys, position 0 included")
    assert_close(cache.values(0), values, rtol=1e-10, atol=1e-12, what="layer 0's values")
    assert np.abs(cache.keys(1)[:, :, 0]).sum() > 0 and cache.lengths == [4, 4]


def test_step3_cached_forward_refuses_a_mismatched_cache_and_positions_past_the_context(rng):
    model = tiny_gpt()
    ids = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(TypeError, match="cached_forward: model must be a GPT, got Sequential"):
        cached_forward(Sequential(Linear(2, 2)), ids, KVCache.for_model(model, 2))
    with pytest.raises(ValueError, match=r"cached_forward: the batch must be the cache's batch_size=1, got 2"):
        cached_forward(model, ids, KVCache.for_model(model, 1))
    with pytest.raises(ValueError, match=r"cached_forward: cache must have .* = \(2, 4, 2, float64\) as the model"):
        cached_forward(model, ids, KVCache(2, 2, 2, 12, 2, dtype=np.float64))
    with pytest.raises(ValueError, match=r"cached_forward: cache must have .*got \(2, 4, 2, float32\)"):
        cached_forward(model, ids, KVCache(2, 2, 4, 12, 2))
    small = KVCache.for_model(model, 2, max_len=4)
    cached_forward(model, ids, small)
    with pytest.raises(ValueError, match=r"cached_forward: length \+ T must be at most max_len=4, got 3 \+ 2 = 5"):
        cached_forward(model, ids[:, :2], small)
    assert small.lengths == [3, 3]
    full = KVCache(2, 2, 4, 20, 2, dtype=np.float64)  # longer than the context: only KVCache itself allows it
    cached_forward(model, np.zeros((2, 12), dtype=np.int64), full)
    with pytest.raises(ValueError, match="GPT: offset \\+ T must be at most context_length=12, got 13"):
        cached_forward(model, ids[:, :1], full)


def test_step3_cached_forward_refuses_layers_of_different_lengths_or_no_room_and_writes_nothing(rng):
    model = tiny_gpt()
    ids = rng.integers(0, 13, size=(2, 3))

    def filled(lengths, max_len=12):
        cache = KVCache.for_model(model, 2, max_len=max_len)
        for layer, n in enumerate(lengths):
            if n:
                cache.append(layer, *rng.standard_normal((2, 2, 4, n, 2)))
        return cache, [buffer.copy() for buffer in cache.key_buffers + cache.value_buffers]

    for lengths, message in (
        ([0, 2], r"cached_forward: every layer must hold the same number of positions, got \[0, 2\]"),
        ([0, 10], r"every layer must hold the same number of positions, got \[0, 10\]"),
        ([10, 10], r"cached_forward: length \+ T must be at most max_len=12, got 10 \+ 3 = 13"),
    ):
        cache, before = filled(lengths)
        with pytest.raises(ValueError, match=message):
            cached_forward(model, ids, cache)
        assert cache.lengths == lengths, "a refused call moved a layer"
        for buffer, old in zip(cache.key_buffers + cache.value_buffers, before, strict=True):
            np.testing.assert_array_equal(buffer, old, err_msg="a refused call wrote into the cache")
    cache, _ = filled([9, 9])
    assert cached_forward(model, ids, cache).shape == (2, 3, 13) and cache.lengths == [12, 12]  # exactly full


# --- step 4: cached generation ------------------------------------------------------------------


GENERATION_CASES = [  # (changes, temperature, top_k, prompt length): greedy and seeded sampling, with and without GQA
    (dict(), 0.0, None, 1),
    (dict(n_kv_heads=2), 0.0, None, 3),
    (dict(), 1.0, None, 3),
    (dict(n_kv_heads=2), 1.0, None, 1),
    (dict(positions="rope", n_kv_heads=1), 0.8, 4, 1),
    (dict(positions="rope", tie_weights=True), 0.0, None, 2),
]


@pytest.mark.parametrize(
    ("changes", "temperature", "top_k", "prompt"),
    GENERATION_CASES,
    ids=["greedy-mha", "greedy-gqa", "sampled-mha", "sampled-gqa", "top-k-rope-mqa", "greedy-rope-tied"],
)
def test_step4_cached_generation_equals_13_s_generate_token_for_token(changes, temperature, top_k, prompt, rng):
    model = tiny_gpt(**changes)
    ids = rng.integers(0, 13, size=(3, prompt))
    expected = model.generate(ids, 12 - prompt, temperature, top_k, seed=5)
    out = generate_cached(model, ids, 12 - prompt, temperature, top_k, seed=5)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (3, 12)
    np.testing.assert_array_equal(out, expected)


def test_step4_float32_greedy_generation_equals_13_s_generate_and_the_logits_agree_to_float32_rounding(rng):
    model = tiny_gpt(seed=3, dtype=np.float32, n_kv_heads=2, positions="rope")  # no near tie: smallest gap 7e-3
    ids = rng.integers(0, 13, size=(3, 2))
    expected = model.generate(ids, 10, 0.0)
    logits = model(expected[:, :-1]).numpy()  # (B, 11, V): what 13's generate read, position by position
    top2 = np.sort(logits, axis=-1)[:, 1:, -2:]  # the positions that chose a new token
    assert (top2[..., 1] - top2[..., 0]).min() > 1e-3, "a near tie: float32 rounding could pick either token"
    out = generate_cached(model, ids, 10, 0.0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, expected)
    cache = KVCache.for_model(model, 3)
    steps = [cached_forward(model, expected[:, :2], cache)] + [
        cached_forward(model, expected[:, t : t + 1], cache) for t in range(2, 11)
    ]
    cached = np.concatenate([step.numpy() for step in steps], axis=1)
    assert cached.dtype == np.float32
    assert_close(cached, logits, rtol=1e-4, atol=1e-4, what="the float32 cached logits")


def test_step4_a_cache_that_drops_the_first_key_would_change_the_tokens(rng):
    """The test model is sharp enough to notice the bug a well-known course once shipped."""
    model = tiny_gpt(n_kv_heads=2)
    ids = rng.integers(0, 13, size=(3, 2))
    expected = model.generate(ids, 10, 0.0)
    cache = KVCache.for_model(model, 3)
    tokens = [ids]
    logits = cached_forward(model, ids, cache)
    for layer in range(2):  # the bug: the prompt's first position lost (its slot holds the second's)
        cache.key_buffers[layer][:, :, 0] = cache.key_buffers[layer][:, :, 1]
        cache.value_buffers[layer][:, :, 0] = cache.value_buffers[layer][:, :, 1]
    for _ in range(10):
        tokens.append(logits.numpy()[:, -1].argmax(axis=-1)[:, None])
        logits = cached_forward(model, tokens[-1], cache)
    assert (np.concatenate(tokens, axis=1) != expected).any()


def test_step4_with_seed_none_both_read_04_s_generator_alike(rng):
    model = tiny_gpt()
    ids = rng.integers(0, 13, size=(2, 2))
    manual_seed(11)
    expected = model.generate(ids, 6)
    manual_seed(11)
    np.testing.assert_array_equal(generate_cached(model, ids, 6), expected)


def test_step4_zero_new_tokens_return_the_prompt_and_a_given_cache_is_reset_and_reused(rng):
    model = tiny_gpt(positions="rope")
    ids = rng.integers(0, 13, size=(2, 3))
    out = generate_cached(model, ids, 0)
    np.testing.assert_array_equal(out, ids)
    assert out.dtype == np.int64 and out is not ids
    np.testing.assert_array_equal(generate_cached(model, ids[:, :1], 0), ids[:, :1])  # T = 1, N = 0: no position
    cache = KVCache.for_model(model, 2, max_len=7)  # exactly T + N − 1 = 3 + 5 − 1
    buffers = cache.key_buffers + cache.value_buffers
    first = generate_cached(model, ids, 5, seed=1, cache=cache)
    assert cache.lengths == [7, 7] and cache.max_len == 7  # the last token is never fed back: exactly full
    second = generate_cached(model, ids, 5, seed=1, cache=cache)  # reset first, so the same tokens
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, model.generate(ids, 5, seed=1))
    assert all(a is b for a, b in zip(cache.key_buffers + cache.value_buffers, buffers, strict=True))
    np.testing.assert_array_equal(generate_cached(model, ids, 0, cache=cache), ids)
    assert cache.lengths == [0, 0]  # N = 0 with a given cache: still reset (the docstring)


def test_step4_generate_cached_refuses_what_13_s_generate_refuses_and_a_short_cache(rng):
    model = tiny_gpt()
    ids = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(
        ValueError, match=r"generate_cached: T \+ max_new_tokens must be at most context_length=12, got 3 \+ 10 = 13"
    ):
        generate_cached(model, ids, 10)
    with pytest.raises(ValueError, match="generate_cached: max_new_tokens must be an integer >= 0, got -1"):
        generate_cached(model, ids, -1)
    with pytest.raises(ValueError, match="generate_cached: seed must be an integer >= 0, got -1"):
        generate_cached(model, ids, 2, seed=-1)
    with pytest.raises(ValueError, match=r"generate_cached: temperature must be a finite real number >= 0, got -1.0"):
        generate_cached(model, ids, 2, temperature=-1.0)
    with pytest.raises(ValueError, match="generate_cached: top_k must be an integer >= 1, got 0"):
        generate_cached(model, ids, 2, top_k=0)
    with pytest.raises(
        ValueError, match=r"generate_cached: the cache's max_len must be at least T \+ max_new_tokens - 1 = 7, got 6"
    ):
        generate_cached(model, ids, 5, cache=KVCache.for_model(model, 2, max_len=6))
    with pytest.raises(ValueError, match="generate_cached: the batch must be the cache's batch_size=3, got 2"):
        generate_cached(model, ids, 2, cache=KVCache.for_model(model, 3))
    with pytest.raises(TypeError, match="generate_cached: model must be a GPT, got Sequential"):
        generate_cached(Sequential(Linear(2, 2)), ids, 2)
    with pytest.raises(ValueError, match=r"GPT: ids must have shape \(B, T\) with B, T >= 1, got \(5,\)"):
        generate_cached(model, np.zeros(5, dtype=np.int64), 2)


# --- step 4: counted work, O(T) per token against O(T²) -------------------------------------------


@pytest.fixture
def counted(monkeypatch):
    """Count, per call of 12's attention node and 04's linear node, the scores' elements and the FLOPs."""
    tally = {"scores": 0, "linear": 0}
    attention_forward, linear_forward = AttentionFunction.forward, LinearFunction.forward

    def attention(ctx, q, k, v, **options):
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        tally["scores"] += math.prod(lead) * q.shape[-2] * k.shape[-2]  # one score per (query, key) pair
        return attention_forward(ctx, q, k, v, **options)

    def linear(ctx, x, weight, bias=None):
        tally["linear"] += 2 * (x.size // x.shape[-1]) * weight.shape[0] * weight.shape[1]  # a multiply-add is 2
        return linear_forward(ctx, x, weight, bias)

    monkeypatch.setattr(AttentionFunction, "forward", staticmethod(attention))
    monkeypatch.setattr(LinearFunction, "forward", staticmethod(linear))

    def count(work):
        tally.update(scores=0, linear=0)
        work()
        return dict(tally)

    return count


def test_step4_counts_n_scores_per_head_in_a_cached_step_where_recompute_computes_n_squared(counted, rng):
    model = tiny_gpt(n_kv_heads=2, scale=1.0)  # L 2, B 2, H 4
    ids = rng.integers(0, 13, size=(2, 12))
    cache = KVCache.for_model(model, 2)
    counted(lambda: cached_forward(model, ids[:, :1], cache))
    per_token_linear = counted(lambda: model(ids[:, :1]))["linear"]
    for n in range(2, 13):  # the step that makes the cache n positions long
        cached = counted(lambda n=n: cached_forward(model, ids[:, n - 1 : n], cache))
        recompute = counted(lambda n=n: model(ids[:, :n]))
        assert cached["scores"] == 2 * 2 * 4 * n  # L·B·H·n: O(n) per token
        assert recompute["scores"] == 2 * 2 * 4 * n * n  # L·B·H·n²: O(n²) per token
        assert cached["linear"] == per_token_linear  # one row per sequence, whatever n
        assert recompute["linear"] == n * per_token_linear


def test_step4_generating_n_tokens_counts_a_sum_of_n_against_a_sum_of_n_squared(counted, rng):
    model = tiny_gpt(positions="rope", scale=1.0)
    ids = rng.integers(0, 13, size=(1, 2))
    cached = counted(lambda: generate_cached(model, ids, 10, 0.0))
    recompute = counted(lambda: model.generate(ids, 10, 0.0))
    L_B_H = 2 * 1 * 4
    assert cached["scores"] == L_B_H * (2 * 2 + sum(range(3, 12)))  # the prompt (2×2), then n = 3 .. 11
    assert recompute["scores"] == L_B_H * sum(t * t for t in range(2, 12))
    assert recompute["scores"] > 6 * cached["scores"]


# --- step 4: memory: N tokens allocate no new cache ---------------------------------------------

L_MEM, B_MEM, H_MEM, H_KV_MEM, D_MEM, T_MAX_MEM, FILLED_MEM, STEPS_MEM = 2, 2, 4, 2, 8, 8192, 2000, 8
C_MEM, V_MEM = H_MEM * D_MEM, 16
CACHE_BYTES_MEM = 2 * L_MEM * B_MEM * H_KV_MEM * T_MAX_MEM * D_MEM * 8  # 8 MiB in float64
N_MEM = FILLED_MEM + STEPS_MEM  # the most keys a step reads
# One cached step, at most n = N_MEM keys, float64: the scores of one layer B·H·n (turned into
# the weights in place, plus one temporary of their size) and the boolean mask and its negation
# (2·n bytes); the activations of one token (B rows of C, 4·C and V values) are a few KiB, inside
# the slack. The cached keys and values are read where they lie (12's attention multiplies the
# strided views without copying them). Far below the cache's own 8 MiB: a new cache, a copy of
# the filled keys and values (B·H_kv·n·D·8 = 502 KiB each per layer), or keys grown by
# concatenation break it.
STEP_BUDGET = 2 * B_MEM * H_MEM * N_MEM * 8 + 2 * N_MEM


@pytest.fixture
def long_context():
    """A float64 rope GPT and a cache of T_max 8192 already holding 2000 positions (random keys and values)."""
    config = GPTConfig(
        vocab_size=V_MEM,
        context_length=T_MAX_MEM,
        d_model=C_MEM,
        n_heads=H_MEM,
        n_kv_heads=H_KV_MEM,
        n_layers=L_MEM,
        positions="rope",
        dtype=np.float64,
    )
    model = GPT(config, rng=np.random.default_rng(0))
    cache = KVCache.for_model(model, B_MEM)
    gen = np.random.default_rng(1)
    for layer in range(L_MEM):
        filled = gen.standard_normal((2, B_MEM, H_KV_MEM, FILLED_MEM, D_MEM))
        cache.append(layer, filled[0], filled[1])
    tokens = np.zeros((B_MEM, 1), dtype=np.int64)
    cached_forward(model, tokens, cache)  # warm up: the first call's one-time allocations
    return model, cache, tokens


@memory_budget(STEP_BUDGET, slack=DEFAULT_SLACK)
def test_step4_steps_after_a_long_context_allocate_one_step_s_activations_not_a_cache(long_context):
    model, cache, tokens = long_context
    assert STEP_BUDGET + DEFAULT_SLACK < cache.nbytes / 4 and cache.nbytes == CACHE_BYTES_MEM
    assert STEP_BUDGET > 3 * 64 * KiB  # the formula, not the slack, carries the budget
    for _ in range(STEPS_MEM - 1):
        logits = cached_forward(model, tokens, cache)
        tokens = logits.numpy()[:, -1].argmax(axis=-1)[:, None]
    assert cache.lengths == [N_MEM, N_MEM]


@memory_budget(STEP_BUDGET, slack=DEFAULT_SLACK)
def test_step4_generate_cached_with_a_given_cache_allocates_no_cache_buffer(long_context):
    model, cache, _ = long_context
    out = generate_cached(model, np.zeros((B_MEM, 4), dtype=np.int64), 12, 0.0, cache=cache)
    assert out.shape == (B_MEM, 16) and cache.lengths == [15, 15]
