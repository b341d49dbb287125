"""Kata 13 transformers. Run: pytest exercises/13_transformers   (one step: -k "step1" ... "step6")."""

from __future__ import annotations

import dataclasses
import inspect
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinytorch.autograd import Tensor, is_grad_enabled
from tinytorch.layers import Linear, Parameter, count_parameters, manual_seed
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.testing.oracles import causal_self_attention, dense
from tinytorch.transformers import (
    GPT,
    FeedForward,
    GPTConfig,
    LayerNorm,
    LayerNormFunction,
    RMSNorm,
    RMSNormFunction,
    TransformerBlock,
    sample_next,
)

# --- oracles written here, independent of the kata ----------------------------------------------


def layer_norm(x, weight, bias, eps):
    """(x − mean) / √(var + eps) · weight + bias over the last axis; var divides by C."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def rms_norm(x, weight, eps):
    """x / √(mean(x²) + eps) · weight over the last axis."""
    return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps) * weight


def gelu(x):
    """02's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def norm_oracle(norm, x):
    """The block's norm module, recomputed from its arrays (LayerNorm has a bias, RMSNorm none)."""
    if hasattr(norm, "bias"):
        return layer_norm(x, norm.weight.numpy(), norm.bias.numpy(), norm.eps)
    return rms_norm(x, norm.weight.numpy(), norm.eps)


def block_oracle(block, x, offset=0):
    """The pre-norm block: x + attn(norm1(x)), then + ffn(norm2(x))."""
    x = x + causal_self_attention(block.attn, norm_oracle(block.norm1, x), offset)
    return x + dense(gelu(dense(norm_oracle(block.norm2, x), block.ffn.fc)), block.ffn.proj)


def gpt_oracle(model, ids):
    """The GPT's logits (B, T, V) in NumPy from its arrays."""
    T = ids.shape[1]
    x = model.tok_emb.weight.numpy()[ids]
    if model.pos_emb is not None:
        x = x + model.pos_emb.weight.numpy()[:T]
    for block in model.blocks:
        x = block_oracle(block, x)
    x = norm_oracle(model.norm, x)
    return x @ model.tok_emb.weight.numpy().T if model.head is None else dense(x, model.head)


def parameter_formula(V, T_max, C, H, H_kv, L, F, positions, norm, tied, bias):
    """The parameter count the lesson derives, written out term by term."""
    C_kv = H_kv * (C // H)  # the width of k and v
    attention = 2 * C * C + 2 * C * C_kv + (2 * C + 2 * C_kv if bias else 0)  # q, out: C·C; k, v: C·C_kv
    ffn = 2 * C * F + (F + C if bias else 0)
    norm_size = 2 * C if norm == "layer" else C  # LayerNorm: weight and bias; RMSNorm: weight
    block = attention + ffn + 2 * norm_size
    embeddings = V * C + (T_max * C if positions == "learned" else 0)
    head = 0 if tied else C * V  # no bias on the head
    return embeddings + L * block + norm_size + head


def spy_on_forward(module, monkeypatch):
    """Wrap ``module.forward`` on this instance; each call's arguments, bound by name, go to the list returned.

    Binding by the signature finds ``offset`` however it was passed (by position or by keyword).
    """
    calls, original = [], module.forward
    signature = inspect.signature(original)  # a bound method: no self

    def spy(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        calls.append(dict(bound.arguments))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "forward", spy)
    return calls


def f64_config(**changes):
    """A tiny float64 GPT config (V 11, T_max 6, C 8, H 2, L 2)."""
    options = dict(vocab_size=11, context_length=6, d_model=8, n_heads=2, n_layers=2, dtype=np.float64)
    return GPTConfig(**{**options, **changes})


# --- step 1: LayerNorm -------------------------------------------------------------------------


def test_step1_layernorm_matches_the_formula_on_non_square_rows(rng):
    norm = LayerNorm(7, eps=1e-5, dtype=np.float64)
    norm.weight.data[...] = rng.standard_normal(7)
    norm.bias.data[...] = rng.standard_normal(7)
    x = rng.standard_normal((3, 5, 7)) * 4.0 + 2.0
    out = norm(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == (3, 5, 7) and out.dtype == np.float64
    assert_close(out, layer_norm(x, norm.weight.numpy(), norm.bias.numpy(), 1e-5), rtol=1e-12, atol=1e-12)


def test_step1_layernorm_starts_as_weight_ones_and_bias_zeros_with_pytorch_s_names():
    norm = LayerNorm(5)
    assert norm.dim == 5 and norm.eps == 1e-5
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]
    assert isinstance(norm.weight, Parameter) and norm.weight.dtype == np.float32
    assert_close(norm.weight, np.ones(5), rtol=0, atol=0)
    assert_close(norm.bias, np.zeros(5), rtol=0, atol=0)


@given(
    st.integers(1, 4),
    st.integers(2, 9),
    st.integers(0, 2**32 - 1),
    st.floats(1e-2, 1e3),
    st.floats(-100, 100),
)
def test_step1_layernorm_rows_have_mean_zero_and_variance_one(rows, C, seed, scale, shift):
    x = np.random.default_rng(seed).standard_normal((rows, C)) * scale + shift
    var = x.var(axis=-1)  # σ² of each row, dividing by C
    assume(np.all(var > 1e-7))  # not a (nearly) constant row: eps/σ² <= 1e-5
    out = LayerNorm(C, eps=1e-12, dtype=np.float64)(Tensor(x)).numpy()
    assert_close(out.mean(axis=-1), np.zeros(rows), rtol=0, atol=1e-9, what="row means")
    # the variance is σ²/(σ² + eps): 1 but for eps
    assert_close(out.var(axis=-1), var / (var + 1e-12), rtol=0, atol=1e-9, what="row variances (divide by C)")
    assert np.all(np.abs(out.var(axis=-1) - 1) < 1e-4)


def test_step1_a_constant_row_becomes_the_bias_without_nan():
    norm = LayerNorm(4)
    norm.bias.data[...] = [1, 2, 3, 4]
    out = norm(Tensor(np.full((2, 4), 7.0, dtype=np.float32)))
    assert_close(out, [[1, 2, 3, 4], [1, 2, 3, 4]], rtol=0, atol=0, what="(x − mean) = 0: only the bias is left")


@pytest.mark.parametrize("shape", [(2, 5), (2, 3, 4)])
def test_step1_layernorm_gradients_match_finite_differences_for_x_weight_and_bias(shape, rng):
    C = shape[-1]

    def forward(x, weight, bias):
        return LayerNormFunction.apply(x, weight, bias, eps=1e-5)

    inputs = [rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)]
    gradcheck_tensors(f"LayerNormFunction{shape}", forward, inputs)


def test_step1_layernorm_gradients_through_the_module(rng):
    norm = LayerNorm(3, dtype=np.float64)

    def forward(x, weight, bias):
        norm.weight, norm.bias = weight, bias  # the module reads its attributes at each call
        return norm(x)

    gradcheck_tensors(
        "LayerNorm", forward, [rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)]
    )


def test_step1_layernorm_keeps_float32(rng):
    norm = LayerNorm(6)
    x = Tensor(rng.standard_normal((2, 6)).astype(np.float32), requires_grad=True)
    out = norm(x)
    assert out.dtype == np.float32
    out.backward(np.ones((2, 6), dtype=np.float32))
    assert x.grad.dtype == np.float32 and norm.weight.grad.dtype == np.float32 and norm.bias.grad.dtype == np.float32
    assert_close(norm.bias.grad, np.full(6, 2.0), rtol=0, atol=0, what="dL/dbias: the sum over rows")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: LayerNorm(0), ValueError, "LayerNorm: dim must be an integer >= 1, got 0"),
        (lambda: LayerNorm(4, eps=0.0), ValueError, "LayerNorm: eps must be a real number > 0, got 0.0"),
        (lambda: LayerNorm(4, dtype=np.int64), TypeError, "LayerNorm: dtype must be floating-point, got int64"),
        (lambda: LayerNorm(4, dtype=None), TypeError, "LayerNorm: dtype must be floating-point, got None"),
        (lambda: LayerNorm(4)(np.ones((2, 4))), TypeError, "LayerNorm: input must be a Tensor, got ndarray"),
        (
            lambda: LayerNorm(8)(Tensor(np.ones((2, 4), dtype=np.float32))),
            ValueError,
            r"LayerNorm: input must have 8 features in its last dimension, got \(2, 4\)",
        ),
        (
            lambda: LayerNorm(4)(Tensor(np.ones((2, 4)))),
            TypeError,
            "LayerNorm: input must have dtype float32, got float64",
        ),
    ],
    ids=["dim 0", "eps 0", "int dtype", "None dtype", "ndarray", "features", "dtype"],
)
def test_step1_layernorm_refuses_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- step 2: RMSNorm ---------------------------------------------------------------------------


def test_step2_rmsnorm_matches_the_formula_and_has_only_a_weight(rng):
    norm = RMSNorm(6, eps=1e-6, dtype=np.float64)
    assert norm.dim == 6 and norm.eps == 1e-6
    assert [name for name, _ in norm.named_parameters()] == ["weight"]
    assert_close(norm.weight, np.ones(6), rtol=0, atol=0)
    norm.weight.data[...] = rng.standard_normal(6)
    x = rng.standard_normal((2, 3, 6)) * 3.0 + 1.0
    assert_close(norm(Tensor(x)), rms_norm(x, norm.weight.numpy(), 1e-6), rtol=1e-12, atol=1e-12)


@given(st.integers(1, 4), st.integers(1, 9), st.integers(0, 2**32 - 1), st.floats(1e-2, 1e3))
def test_step2_rmsnorm_rows_have_unit_root_mean_square_and_keep_their_direction(rows, C, seed, scale):
    x = np.random.default_rng(seed).standard_normal((rows, C)) * scale
    ms = (x**2).mean(axis=-1)  # mean square of each row
    assume(np.all(ms > 1e-7))  # eps/ms <= 1e-5
    out = RMSNorm(C, eps=1e-12, dtype=np.float64)(Tensor(x)).numpy()
    # the RMS is √(ms/(ms + eps)): 1 but for eps
    assert_close(np.sqrt((out**2).mean(axis=-1)), np.sqrt(ms / (ms + 1e-12)), rtol=0, atol=1e-9, what="row RMS")
    assert np.all(np.abs(np.sqrt((out**2).mean(axis=-1)) - 1) < 1e-4)
    # no centring: each row is x scaled by a positive number
    assert_close(out * np.sqrt(ms[:, None] + 1e-12), x, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("shape", [(2, 5), (2, 3, 4)])
def test_step2_rmsnorm_gradients_match_finite_differences_for_x_and_weight(shape, rng):
    def forward(x, weight):
        return RMSNormFunction.apply(x, weight, eps=1e-6)

    gradcheck_tensors(f"RMSNormFunction{shape}", forward, [rng.standard_normal(shape), rng.standard_normal(shape[-1])])


def test_step2_rmsnorm_keeps_float32(rng):
    norm = RMSNorm(6)
    x = Tensor(rng.standard_normal((2, 6)).astype(np.float32), requires_grad=True)
    out = norm(x)
    assert out.dtype == np.float32
    out.backward(np.ones((2, 6), dtype=np.float32))
    assert x.grad.dtype == np.float32 and norm.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: RMSNorm(0), ValueError, "RMSNorm: dim must be an integer >= 1, got 0"),
        (lambda: RMSNorm(4, eps=-1.0), ValueError, "RMSNorm: eps must be a real number > 0, got -1.0"),
        (lambda: RMSNorm(4, dtype=np.int64), TypeError, "RMSNorm: dtype must be floating-point, got int64"),
        (lambda: RMSNorm(4, dtype="x"), TypeError, "RMSNorm: dtype must be floating-point, got 'x'"),
        (
            lambda: RMSNorm(3)(Tensor(np.ones((2, 4), dtype=np.float32))),
            ValueError,
            r"RMSNorm: input must have 3 features in its last dimension, got \(2, 4\)",
        ),
        (lambda: RMSNorm(4)(Tensor(np.ones((2, 4)))), TypeError, "RMSNorm: input must have dtype float32, got float64"),
    ],
    ids=["dim 0", "eps -1", "int dtype", "not a dtype", "features", "dtype"],
)
def test_step2_rmsnorm_refuses_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- step 3: the feed-forward block ------------------------------------------------------------


def test_step3_feedforward_is_proj_of_gelu_of_fc(rng):
    ffn = FeedForward(4, 10, rng=rng, dtype=np.float64)
    assert ffn.d_model == 4 and ffn.d_ff == 10
    assert isinstance(ffn.fc, Linear) and ffn.fc.weight.shape == (10, 4)
    assert isinstance(ffn.proj, Linear) and ffn.proj.weight.shape == (4, 10)
    assert [name for name, _ in ffn.named_parameters()] == ["fc.weight", "fc.bias", "proj.weight", "proj.bias"]
    x = rng.standard_normal((2, 3, 4))
    assert_close(ffn(Tensor(x)), dense(gelu(dense(x, ffn.fc)), ffn.proj), rtol=1e-12, atol=1e-12)


def test_step3_feedforward_draws_fc_then_proj_from_rng_and_can_drop_biases():
    ffn = FeedForward(3, 5, bias=False, rng=np.random.default_rng(7))
    twin = np.random.default_rng(7)
    fc, proj = Linear(3, 5, False, rng=twin), Linear(5, 3, False, rng=twin)
    assert ffn.fc.bias is None and ffn.proj.bias is None and count_parameters(ffn) == 2 * 3 * 5
    assert_close(ffn.fc.weight, fc.weight.numpy(), rtol=0, atol=0)
    assert_close(ffn.proj.weight, proj.weight.numpy(), rtol=0, atol=0)


def test_step3_feedforward_gradients_match_finite_differences(rng):
    ffn = FeedForward(3, 4, rng=rng, dtype=np.float64)
    gradcheck_tensors("FeedForward", lambda x: ffn(x), [rng.standard_normal((2, 2, 3))])


def test_step3_feedforward_refuses_bad_sizes():
    with pytest.raises(ValueError, match="FeedForward: d_ff must be an integer >= 1, got 0"):
        FeedForward(4, 0)
    with pytest.raises(ValueError, match=r"FeedForward: d_model must be an integer >= 1, got 2\.0"):
        FeedForward(2.0, 4)
    with pytest.raises(TypeError, match="FeedForward: dtype must be floating-point, got None"):
        FeedForward(2, 4, dtype=None)  # 04's Linear would read None as float64


# --- step 4: the pre-norm transformer block ----------------------------------------------------


@pytest.mark.parametrize(
    ("n_kv_heads", "rope", "norm"),
    [(None, False, "layer"), (1, True, "rms"), (2, False, "rms")],
    ids=["mha-layer", "gqa1-rope-rms", "gqa2-rms"],
)
def test_step4_block_is_two_residual_lines_around_causal_attention_and_the_mlp(n_kv_heads, rope, norm, rng):
    block = TransformerBlock(8, 4, n_kv_heads, 12, rope, norm=norm, rng=rng, dtype=np.float64)
    assert [name for name, _ in block.named_children()] == ["norm1", "attn", "norm2", "ffn"]
    assert block.attn.n_kv_heads == (4 if n_kv_heads is None else n_kv_heads) and block.ffn.d_ff == 12
    for param in block.parameters():  # norms away from ones and zeros, so that a swapped norm shows
        param.data[...] = rng.standard_normal(param.shape) * 0.5 + (1.0 if param.ndim == 1 else 0.0)
    x = rng.standard_normal((2, 5, 8))
    assert_close(block(Tensor(x)), block_oracle(block, x), rtol=1e-10, atol=1e-10)
    assert_close(block(Tensor(x[:, 2:]), 3), block_oracle(block, x[:, 2:], 3), rtol=1e-10, atol=1e-10, what="offset 3")


@pytest.mark.parametrize("rope", [False, True], ids=["learned", "rope"])
def test_step4_block_passes_its_offset_on_to_attention(rope, rng, monkeypatch):
    # RoPE's offset cancels in self-attention without a cache (q·k depends on relative
    # positions), so only a spy sees an offset that was dropped; kata 17 relies on it.
    block = TransformerBlock(8, 2, rope=rope, rng=rng, dtype=np.float64)
    calls = spy_on_forward(block.attn, monkeypatch)
    block(Tensor(rng.standard_normal((2, 3, 8))), 3)
    assert len(calls) == 1 and calls[0]["offset"] == 3 and calls[0]["is_causal"] is True


def test_step4_a_given_attention_replaces_the_block_s_own_in_the_first_residual_line(rng, monkeypatch):
    # kata 17 passes its attention over a KV cache this way, keeping the block's two lines
    block = TransformerBlock(8, 2, norm="rms", rng=rng, dtype=np.float64)
    for param in block.parameters():  # norms away from ones, so that norm1 and norm2 swapped show
        param.data[...] = rng.standard_normal(param.shape) * 0.5 + (1.0 if param.ndim == 1 else 0.0)
    own = spy_on_forward(block.attn, monkeypatch)
    x, a = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 3, 8))
    seen = []

    def attention(h):
        seen.append(h.numpy().copy())
        return Tensor(a)

    out = block(Tensor(x), attention=attention)
    assert own == [] and len(seen) == 1, "the given attention, called once, instead of block.attn"
    assert_close(seen[0], norm_oracle(block.norm1, x), rtol=1e-12, atol=1e-12, what="its input, norm1(x)")
    mid = x + a
    expected = mid + dense(gelu(dense(norm_oracle(block.norm2, mid), block.ffn.fc)), block.ffn.proj)
    assert_close(out, expected, rtol=1e-10, atol=1e-10, what="x + attention(norm1(x)), then + ffn(norm2(·))")


def test_step4_block_defaults_are_four_times_wider_mlp_layer_norm_and_no_rope():
    block = TransformerBlock(8, 2)
    assert block.ffn.d_ff == 32 and isinstance(block.norm1, LayerNorm) and isinstance(block.norm2, LayerNorm)
    assert block.attn.rope is False and block.attn.n_kv_heads == 2
    assert block.norm1 is not block.norm2


def test_step4_a_whole_block_passes_a_gradient_check_for_its_input_and_every_parameter(rng):
    block = TransformerBlock(4, 2, 1, 4, True, rng=rng, dtype=np.float64)  # GQA, RoPE, biases
    named = list(block.named_parameters())

    def forward(x, *params):
        for (name, _), param in zip(named, params, strict=True):  # put each leaf in its module's place
            *path, attribute = name.split(".")
            module = block
            for part in path:
                module = getattr(module, part)
            setattr(module, attribute, param)
        return block(x)

    arrays = [param.numpy() + 0.1 * rng.standard_normal(param.shape) for _, param in named]
    gradcheck_tensors("TransformerBlock", forward, [rng.standard_normal((1, 3, 4)), *arrays])


def test_step4_block_refuses_an_input_without_a_time_axis(rng):
    with pytest.raises(ValueError, match=r"TransformerBlock: input must have 3 dimensions \(B, T, C\), got \(4, 8\)"):
        TransformerBlock(8, 2, rng=rng)(Tensor(np.zeros((4, 8), dtype=np.float32)))
    with pytest.raises(ValueError, match="norm: kind must be one of 'layer', 'rms', got 'batch'"):
        TransformerBlock(8, 2, norm="batch")


def test_step4_block_refuses_an_ndarray_a_bad_offset_even_without_rope_and_an_attention_not_callable(rng):
    block = TransformerBlock(8, 2, rng=rng)  # no RoPE: attention would ignore the offset
    with pytest.raises(TypeError, match="TransformerBlock: input must be a Tensor, got ndarray"):
        block(np.zeros((2, 3, 8), dtype=np.float32))
    x = Tensor(np.zeros((2, 3, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="TransformerBlock: offset must be an integer >= 0, got -1"):
        block(x, -1)
    with pytest.raises(ValueError, match="TransformerBlock: offset must be an integer >= 0, got 'a'"):
        block(x, "a")
    with pytest.raises(TypeError, match=r"^TransformerBlock: attention must be callable or None, got int$"):
        block(x, attention=3)


# --- step 5: the GPT ---------------------------------------------------------------------------


def test_step5_config_fills_kv_heads_and_d_ff_and_is_frozen():
    config = GPTConfig(vocab_size=16, context_length=8, d_model=32, n_heads=4)
    assert config.n_kv_heads == 4 and config.d_ff == 128 and config.dtype == np.dtype(np.float32)
    assert (config.positions, config.norm, config.tie_weights, config.bias) == ("learned", "layer", True, True)
    assert GPTConfig(vocab_size=16, context_length=8, n_heads=4, n_kv_heads=2, d_ff=10).d_ff == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.d_model = 64


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"vocab_size": 0}, ValueError, "GPTConfig: vocab_size must be an integer >= 1, got 0"),
        ({"context_length": 2.0}, ValueError, "GPTConfig: context_length must be an integer >= 1, got 2.0"),
        ({"n_layers": True}, ValueError, "GPTConfig: n_layers must be an integer >= 1, got True"),
        ({"n_kv_heads": 0}, ValueError, "GPTConfig: n_kv_heads must be an integer >= 1, got 0"),
        ({"d_ff": -1}, ValueError, "GPTConfig: d_ff must be an integer >= 1, got -1"),
        ({"d_model": 10}, ValueError, "GPTConfig: d_model must be divisible by n_heads, got d_model=10, n_heads=4"),
        (
            {"n_kv_heads": 3},
            ValueError,
            "GPTConfig: n_heads must be divisible by n_kv_heads, got n_heads=4, n_kv_heads=3",
        ),
        ({"positions": "sin"}, ValueError, "GPTConfig: positions must be one of 'learned', 'rope', got 'sin'"),
        ({"norm": "batch"}, ValueError, "GPTConfig: norm must be one of 'layer', 'rms', got 'batch'"),
        (
            {"d_model": 12, "positions": "rope"},
            ValueError,
            "GPTConfig: rope needs an even head dimension d_model // n_heads, got 3",
        ),
        ({"rope_base": 1.0}, ValueError, "GPTConfig: rope_base must be a real number > 1, got 1.0"),
        ({"tie_weights": 1}, TypeError, "GPTConfig: tie_weights must be a bool, got int"),
        ({"bias": "no"}, TypeError, "GPTConfig: bias must be a bool, got str"),
        ({"dtype": np.int64}, TypeError, "GPTConfig: dtype must be floating-point, got int64"),
        ({"dtype": "x"}, TypeError, "GPTConfig: dtype must be floating-point, got 'x'"),
        ({"dtype": None}, TypeError, "GPTConfig: dtype must be floating-point, got None"),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, dict) else "",
)
def test_step5_config_refuses_bad_fields_with_the_rule_and_the_value(changes, error, message):
    options = dict(vocab_size=16, context_length=8, d_model=16, n_heads=4)
    with pytest.raises(error, match=message):
        GPTConfig(**{**options, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"tie_weights": False},
        {"positions": "rope", "norm": "rms", "bias": False},
        {"n_heads": 4, "n_kv_heads": 2, "d_ff": 12, "n_layers": 3},
        {"n_heads": 4, "n_kv_heads": 1, "positions": "rope", "tie_weights": False, "norm": "rms"},
    ],
    ids=["gpt2-tied", "untied", "rope-rms-nobias", "gqa2-dff12-L3", "gqa1-rope-untied"],
)
def test_step5_the_parameter_count_follows_the_formula(changes, rng):
    config = f64_config(**changes)
    model = GPT(config, rng=rng)
    expected = parameter_formula(
        11, 6, 8, config.n_heads, config.n_kv_heads, config.n_layers, config.d_ff,
        config.positions, config.norm, config.tie_weights, config.bias,
    )  # fmt: skip
    assert count_parameters(model) == sum(p.size for p in model.parameters()) == expected


def test_step5_gpt2_small_has_its_published_parameter_count():
    # GPT-2 small's config (not the model: it would take 500 MB), counted by the formula: 124,439,808
    c = GPTConfig(vocab_size=50257, context_length=1024, d_model=768, n_heads=12, n_layers=12)
    count = parameter_formula(
        c.vocab_size, c.context_length, c.d_model, c.n_heads, c.n_kv_heads, c.n_layers, c.d_ff,
        c.positions, c.norm, c.tie_weights, c.bias,
    )  # fmt: skip
    assert count == 124_439_808


def test_step5_gpt_has_the_named_parts_and_a_tied_head_reads_the_token_table(rng):
    model = GPT(f64_config(), rng=rng)
    assert model.config.vocab_size == 11 and model.head is None
    assert model.tok_emb.weight.shape == (11, 8) and model.pos_emb.weight.shape == (6, 8)
    assert len(model.blocks) == 2 and all(isinstance(block, TransformerBlock) for block in model.blocks)
    assert isinstance(model.norm, LayerNorm)
    names = [name for name, _ in model.named_parameters()]
    assert names[:2] == ["tok_emb.weight", "pos_emb.weight"] and "blocks.1.ffn.proj.bias" in names
    rope = GPT(f64_config(positions="rope", tie_weights=False, norm="rms"), rng=rng)
    assert rope.pos_emb is None and rope.head.weight.shape == (11, 8) and rope.head.bias is None
    assert isinstance(rope.norm, RMSNorm) and all(block.attn.rope for block in rope.blocks)


def test_step5_embeddings_start_from_gpt2_s_normal_with_std_0_02():
    model = GPT(GPTConfig(vocab_size=500, context_length=80, d_model=64, n_heads=4, n_layers=1))
    for table in (model.tok_emb.weight.numpy(), model.pos_emb.weight.numpy()):
        n = table.size  # mean 0 (se 0.02/√n), std 0.02 (relative se about 1/√(2n))
        assert abs(table.mean()) <= 5 * 0.02 / math.sqrt(n)
        assert abs(table.std() / 0.02 - 1) <= 5 / math.sqrt(2 * n)


def test_step5_the_same_generator_builds_the_same_model_and_none_uses_04_s_generator():
    first, second = (GPT(f64_config(), rng=np.random.default_rng(3)) for _ in range(2))
    manual_seed(5)
    third = GPT(f64_config())
    manual_seed(5)
    fourth = GPT(f64_config())
    for a, b in ((first, second), (third, fourth)):
        for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
            assert_close(p, q.numpy(), rtol=0, atol=0, what=name)


@pytest.mark.parametrize(
    "changes",
    [{}, {"tie_weights": False}, {"positions": "rope", "norm": "rms", "n_kv_heads": 1}],
    ids=["learned-tied", "untied", "rope-gqa-rms"],
)
def test_step5_gpt_logits_match_a_numpy_forward(changes, rng):
    model = GPT(f64_config(**changes), rng=rng)
    for param in model.parameters():  # away from the init's small values, so that every part shows
        param.data[...] = rng.standard_normal(param.shape) * 0.5 + (1.0 if param.ndim == 1 else 0.0)
    ids = rng.integers(0, 11, (3, 6))
    logits = model(ids)
    assert isinstance(logits, Tensor) and logits.shape == (3, 6, 11) and logits.dtype == np.float64
    assert_close(logits, gpt_oracle(model, ids), rtol=1e-10, atol=1e-10)
    assert_close(model(Tensor(ids)), logits.numpy(), rtol=0, atol=0, what="ids as a Tensor")


@pytest.mark.parametrize(
    "changes", [{}, {"positions": "rope", "tie_weights": False}], ids=["learned-tied", "rope-untied"]
)
def test_step5_forward_is_embed_then_the_blocks_then_unembed(changes, rng):
    model = GPT(f64_config(**changes), rng=rng)
    ids = rng.integers(0, 11, (2, 3))
    x = model.embed(ids, 2)  # positions 2, 3, 4
    expected = model.tok_emb.weight.numpy()[ids]
    if model.pos_emb is not None:
        expected = expected + model.pos_emb.weight.numpy()[2:5]
    assert isinstance(x, Tensor) and x.shape == (2, 3, 8)
    assert_close(x, expected, rtol=0, atol=0, what="embed(ids, offset=2)")
    h = rng.standard_normal((2, 3, 8))
    head = model.tok_emb.weight.numpy() if model.head is None else model.head.weight.numpy()
    assert_close(model.unembed(Tensor(h)), norm_oracle(model.norm, h) @ head.T, rtol=1e-12, atol=1e-12, what="unembed")
    for block in model.blocks:
        x = block(x, 2)
    assert_close(model(ids, 2), model.unembed(x).numpy(), rtol=0, atol=0, what="forward(ids, offset=2)")


def test_step5_forward_passes_its_offset_to_every_block(rng, monkeypatch):
    # with RoPE the offset cancels without a cache, so the logits cannot show a dropped one
    model = GPT(f64_config(positions="rope"), rng=rng)
    calls = [spy_on_forward(block, monkeypatch) for block in model.blocks]
    model(np.array([[1, 2]]), 3)
    assert [[call["offset"] for call in block_calls] for block_calls in calls] == [[3], [3]]


def test_step5_unembed_refuses_what_is_not_a_tensor_b_t_c(rng):
    model = GPT(f64_config(), rng=rng)
    with pytest.raises(ValueError, match=r"GPT: unembed's input must have 3 dimensions \(B, T, C\), got \(2, 8\)"):
        model.unembed(Tensor(np.zeros((2, 8))))
    with pytest.raises(TypeError, match="GPT: unembed's input must be a Tensor, got ndarray"):
        model.unembed(np.zeros((1, 2, 8)))


def test_step5_gpt_names_itself_when_refusing_an_rng():
    with pytest.raises(TypeError, match=r"GPT: rng must be a np\.random\.Generator or None, got int"):
        GPT(f64_config(), rng=0)


@pytest.mark.parametrize("positions", ["learned", "rope"])
def test_step5_logits_at_t_ignore_every_later_token(positions, rng):
    model = GPT(f64_config(positions=positions, context_length=8), rng=rng)
    ids = rng.integers(0, 11, (2, 8))
    logits = model(ids).numpy()
    for t in (0, 3, 6):
        changed = ids.copy()
        changed[:, t + 1 :] = rng.integers(0, 11, (2, 7 - t))
        assert_close(model(changed).numpy()[:, : t + 1], logits[:, : t + 1], rtol=1e-12, atol=1e-12, what=f"t <= {t}")
        assert_close(model(ids[:, : t + 1]), logits[:, : t + 1], rtol=1e-12, atol=1e-12, what=f"a prefix of {t + 1}")


def test_step5_a_tied_table_receives_the_gradient_of_both_its_uses(rng):
    model = GPT(f64_config(n_layers=1, vocab_size=5, context_length=3, d_model=4), rng=rng)
    ids = np.array([[1, 4, 1]])

    def forward(table):
        model.tok_emb.weight = table  # the lookup and the head both read it
        return model(ids)

    gradcheck_tensors("GPT(tied) w.r.t. tok_emb.weight", forward, [rng.standard_normal((5, 4))])


def test_step5_gpt_refuses_ids_it_cannot_read(rng):
    model = GPT(f64_config(), rng=rng)
    with pytest.raises(ValueError, match=r"GPT: offset \+ T must be at most context_length=6, got 7"):
        model(np.zeros((1, 7), dtype=np.int64))
    with pytest.raises(ValueError, match=r"GPT: offset \+ T must be at most context_length=6, got 7"):
        model(np.zeros((1, 4), dtype=np.int64), 3)
    with pytest.raises(ValueError, match=r"GPT: ids must be in \[0, 11\)"):
        model(np.array([[3, 11]]))
    with pytest.raises(ValueError, match=r"GPT: ids must have shape \(B, T\) with B, T >= 1, got \(5,\)"):
        model(np.zeros(5, dtype=np.int64))
    with pytest.raises(TypeError, match="GPT: ids must have an integer dtype, got float64"):
        model(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="GPT: offset must be an integer >= 0, got -1"):
        model(np.zeros((1, 2), dtype=np.int64), -1)
    with pytest.raises(TypeError, match="GPT: config must be a GPTConfig, got dict"):
        GPT({"vocab_size": 11})
    rope = GPT(f64_config(positions="rope"), rng=rng)  # no position table: the check is embed's own
    with pytest.raises(ValueError, match=r"GPT: offset \+ T must be at most context_length=6, got 7"):
        rope(np.zeros((1, 7), dtype=np.int64))
    with pytest.raises(ValueError, match=r"GPT: offset \+ T must be at most context_length=6, got 7"):
        rope(np.zeros((1, 4), dtype=np.int64), 3)


# The budget of one forward with a graph. Sizes: B 8, T 64, C 64, F 256, H 4, V 64, float32
# (4 bytes): B·T·C is 128 KiB, B·T·F and B·H·T² 512 KiB each, L = 2 blocks.
B_MEM, T_MEM, C_MEM, F_MEM, H_MEM, V_MEM, L_MEM = 8, 64, 64, 256, 4, 64, 2


@pytest.fixture
def memory_model():
    config = GPTConfig(vocab_size=V_MEM, context_length=T_MEM, d_model=C_MEM, n_heads=H_MEM, n_layers=L_MEM, d_ff=F_MEM)
    ids = np.random.default_rng(1).integers(0, V_MEM, (B_MEM, T_MEM))
    return GPT(config, rng=np.random.default_rng(0)), ids


BTC, BTF = B_MEM * T_MEM * C_MEM, B_MEM * T_MEM * F_MEM
# What the graph keeps alive until backward, per block (the lesson counts it line by line):
# 13 arrays of (B, T, C) (each norm's x̂ and output: 4; q, k, v, attention's output, the merged
# heads, out_proj's output, the two residual sums, the MLP's output: 9), 2 of (B, T, F) (fc's
# output and GELU's), and attention's weights P (B, H, T, T). Outside the blocks: the token
# embeddings, their sum with the positions, the final norm's x̂ and output (4·B·T·C) and the
# logits (B·T·V). Plus the largest temporary, one (B, T, F) array (inside GELU), and the
# default slack. The reference peaks at 7.3 MiB of this 7.44 MiB; a graph of one op per
# elementary step (LayerNorm written with 03's mean, sub, pow, ...) keeps several more (B, T, C)
# arrays per norm and does not fit.
ACTIVATIONS = L_MEM * (13 * BTC + 2 * BTF + B_MEM * H_MEM * T_MEM * T_MEM) + 4 * BTC + B_MEM * T_MEM * V_MEM


@memory_budget((ACTIVATIONS + BTF) * 4, slack=DEFAULT_SLACK)
def test_step5_one_forward_keeps_the_activations_of_the_formula_and_no_more(memory_model):
    model, ids = memory_model
    logits = model(ids)
    assert logits.shape == (B_MEM, T_MEM, V_MEM) and logits.requires_grad


# --- step 6: sampling and generation -----------------------------------------------------------


def inverse_cdf_twin(logits, temperature, top_k, u):
    """The documented rule, written with loops: keep the top k (ties kept), softmax, first cdf > u."""
    tokens = []
    for row, draw in zip(logits.astype(np.float64) / temperature, u, strict=True):
        kth = sorted(row, reverse=True)[min(top_k or len(row), len(row)) - 1]
        p = np.array([math.exp(z - row.max()) if z >= kth else 0.0 for z in row])
        cdf = np.cumsum(p) / np.cumsum(p)[-1]
        tokens.append(next(i for i, c in enumerate(cdf) if c > draw))
    return np.array(tokens)


def test_step6_temperature_zero_is_argmax_with_the_first_maximum_on_ties_and_draws_nothing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    tokens = sample_next(np.array([[0.0, 3.0, 1.0, 3.0], [5.0, -1.0, 2.0, 0.0]]), temperature=0.0, rng=rng)
    assert tokens.dtype == np.int64 and tokens.tolist() == [1, 0]
    assert rng.bit_generator.state == state, "greedy sampling must not draw from the generator"


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([None, 1, 3, 8, 20]))
def test_step6_sampling_draws_once_per_row_and_follows_the_inverse_cdf_rule(seed, temperature, top_k):
    gen = np.random.default_rng(seed)
    logits = np.round(gen.standard_normal((4, 8)), 1)  # rounded: ties happen
    rng, twin = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    tokens = sample_next(logits, temperature, top_k, rng)
    u = twin.random(4)  # what one call rng.random(B) draws
    assert rng.bit_generator.state == twin.bit_generator.state, "exactly one rng.random(B) per call"
    assert tokens.dtype == np.int64 and tokens.tolist() == inverse_cdf_twin(logits, temperature, top_k, u).tolist()


@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_step6_sampling_never_leaves_the_top_k(seed, k):
    gen = np.random.default_rng(seed)
    logits = np.round(gen.standard_normal((16, 7)) * 3, 0)  # rounded to integers: many ties
    tokens = sample_next(logits, 1.0, k, gen)
    kth = np.sort(logits, axis=-1)[:, -k]  # the k-th largest of each row
    assert np.all(logits[np.arange(16), tokens] >= kth)


def test_step6_top_k_1_is_greedy_at_any_temperature(rng):
    logits = rng.standard_normal((50, 9))
    for temperature in (0.3, 1.0, 5.0):
        assert sample_next(logits, temperature, 1, rng).tolist() == np.argmax(logits, axis=-1).tolist()


@given(st.integers(0, 2**32 - 1))
def test_step6_as_temperature_goes_to_zero_sampling_becomes_greedy(seed):
    gen = np.random.default_rng(seed)
    logits = gen.standard_normal((8, 10))
    top2 = np.sort(logits, axis=-1)[:, -2:]
    assume(np.all(top2[:, 1] - top2[:, 0] > 1e-2))  # a unique maximum, by a margin
    # at temperature 1e-4 the runner-up has probability at most e^(-100)
    assert sample_next(logits, 1e-4, None, gen).tolist() == np.argmax(logits, axis=-1).tolist()


def test_step6_samples_follow_softmax_of_logits_over_temperature_restricted_to_the_top_k():
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    rng = np.random.default_rng(11)
    n = 20000
    for temperature, top_k in ((1.0, None), (2.0, 3)):
        z = logits / temperature
        p = np.exp(z - z.max())
        if top_k is not None:
            p[np.argsort(logits)[: len(logits) - top_k]] = 0.0
        p /= p.sum()
        tokens = sample_next(np.tile(logits, (n, 1)), temperature, top_k, rng)
        freq = np.bincount(tokens, minlength=5) / n
        assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12), (freq, p)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([[1.0, 2.0]], 1.0), TypeError, r"sample_next: logits must be a floating ndarray \(B, V\), got list"),
        ((np.array([1, 2]), 1.0), TypeError, r"sample_next: logits must be a floating ndarray \(B, V\), got int64"),
        ((np.zeros(4), 1.0), ValueError, r"sample_next: logits must be a floating ndarray \(B, V\), got \(4,\)"),
        ((np.array([[0.0, np.nan]]), 1.0), ValueError, "sample_next: logits must be finite, got nan"),
        (
            (np.array([[-1.0, 1.0]]), 1e-320),  # ±1 / 1e-320 overflows to ∓inf; inf − inf is NaN
            ValueError,
            r"sample_next: logits / temperature must be finite, got -inf \(temperature=1e-320\)",
        ),
        ((np.array([[1e308, 0.0]]), 0.5), ValueError, "sample_next: logits / temperature must be finite, got inf"),
        ((np.zeros((1, 3)), -1.0), ValueError, "sample_next: temperature must be a finite real number >= 0, got -1.0"),
        ((np.zeros((1, 3)), 1.0, 0), ValueError, "sample_next: top_k must be an integer >= 1, got 0"),
        ((np.zeros((1, 3)), 1.0, None, 0), TypeError, "sample_next: rng must be a np.random.Generator or None"),
        ((np.zeros((1, 3)), 0.0, None, 0), TypeError, "sample_next: rng must be a np.random.Generator or None"),
    ],
    ids=[
        "list",
        "int",
        "1-d",
        "nan",
        "tiny temperature",
        "huge logit",
        "temperature",
        "top_k",
        "seed as rng",
        "seed as rng, greedy",
    ],
)
def test_step6_sample_next_refuses_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        sample_next(*args)


def test_step6_sample_next_names_a_tensor_by_its_module():
    with pytest.raises(TypeError, match=r"logits must be a floating ndarray \(B, V\), got tinytorch\.autograd\.Tensor"):
        sample_next(Tensor([[1.0, 2.0]]), 1.0)


@pytest.mark.parametrize("positions", ["learned", "rope"])
def test_step6_greedy_generation_appends_the_argmax_of_the_last_logits_one_token_at_a_time(positions, rng):
    model = GPT(f64_config(positions=positions, context_length=8), rng=rng)
    prompt = rng.integers(0, 11, (2, 3))
    out = model.generate(prompt, 5, temperature=0.0)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (2, 8)
    expected = prompt.copy()
    for _ in range(5):
        last = model(expected).numpy()[:, -1]  # (B, V)
        expected = np.concatenate([expected, np.argmax(last, axis=-1)[:, None]], axis=1)
    assert out.tolist() == expected.tolist()
    assert model.generate(prompt, 5, temperature=1.0, top_k=1, seed=3).tolist() == expected.tolist()


def test_step6_a_seed_reproduces_a_sample_and_draws_as_sample_next_does(rng):
    model = GPT(f64_config(context_length=8), rng=rng)
    prompt = rng.integers(0, 11, (3, 2))
    first = model.generate(prompt, 6, temperature=1.5, top_k=5, seed=42)
    assert first.tolist() == model.generate(prompt, 6, temperature=1.5, top_k=5, seed=42).tolist()
    assert first[:, :2].tolist() == prompt.tolist()
    twin, expected = np.random.default_rng(42), prompt.copy()  # one generator for the whole call
    for _ in range(6):
        token = sample_next(model(expected).numpy()[:, -1], 1.5, 5, twin)
        expected = np.concatenate([expected, token[:, None]], axis=1)
    assert first.tolist() == expected.tolist()
    manual_seed(9)
    unseeded = model.generate(prompt, 6)
    manual_seed(9)
    assert unseeded.tolist() == model.generate(prompt, 6).tolist(), "seed None draws from 04's generator"


def test_step6_generation_records_no_graph_and_restores_grad_mode(rng):
    model = GPT(f64_config(), rng=rng)
    out = model.generate(np.array([[1, 2]]), 3, seed=0)
    assert type(out) is np.ndarray and is_grad_enabled()
    assert all(param.grad is None for param in model.parameters())
    with pytest.raises(ValueError):
        model.generate(np.array([[1, 2]]), 10)
    assert is_grad_enabled()


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        (
            ([[1, 2, 3]], 4),
            {},
            ValueError,
            r"generate: T \+ max_new_tokens must be at most context_length=6, got 3 \+ 4 = 7",
        ),
        (([[1, 2]], -1), {}, ValueError, "generate: max_new_tokens must be an integer >= 0, got -1"),
        (([[1, 2]], 1), {"temperature": -0.5}, ValueError, "generate: temperature must be a finite real number >= 0"),
        (([[1, 2]], 1), {"top_k": 0}, ValueError, "generate: top_k must be an integer >= 1, got 0"),
        (([[1, 2]], 1), {"seed": -1}, ValueError, "generate: seed must be an integer >= 0, got -1"),
        (
            ([[1, 2]], 1),
            {"seed": np.random.default_rng(0)},  # named by its type, not by a repr with an address
            ValueError,
            "generate: seed must be an integer >= 0, got Generator$",
        ),
        (([[1, 12]], 1), {}, ValueError, r"GPT: ids must be in \[0, 11\)"),
    ],
    ids=["too long", "negative count", "temperature", "top_k", "seed", "generator as seed", "id"],
)
def test_step6_generate_refuses_bad_arguments(args, options, error, message, rng):
    model = GPT(f64_config(), rng=rng)
    with pytest.raises(error, match=message):
        model.generate(np.array(args[0]), args[1], **options)


def test_step6_generating_zero_tokens_returns_a_copy_of_the_prompt(rng):
    model = GPT(f64_config(), rng=rng)
    prompt = np.array([[3, 4, 5, 6, 7, 8]], dtype=np.int32)
    out = model.generate(prompt, 0)
    assert out.dtype == np.int64 and out.tolist() == prompt.tolist() and out is not prompt


# Generation keeps no graph: with L = 2 blocks, a forward that kept its graph would hold about
# 6.9 MiB (the formula above). Without one, only the operation running and the
# residual stream are alive: at most 4 arrays of (B, T, F) (fc's output and 02's GELU's
# temporaries), 2 of (B, H, T, T) (attention's scores, reused for P, and a reshape), 8 of
# (B, T, C) and 2 of (B, T, V) (the logits and the last position's float64 copy in sample_next
# is smaller), whatever the number of blocks: 4.25 MiB, and the default slack. The reference
# peaks at 2.5 MiB.
@memory_budget((4 * BTF + 2 * B_MEM * H_MEM * T_MEM * T_MEM + 8 * BTC + 2 * B_MEM * T_MEM * V_MEM) * 4)
def test_step6_generation_keeps_no_graph_whatever_the_depth(generation_model):
    model, prompt = generation_model
    out = model.generate(prompt, 2, seed=0)  # two forwards, of 62 and 63 positions
    assert out.shape == (B_MEM, T_MEM)


@pytest.fixture
def generation_model():
    config = GPTConfig(vocab_size=V_MEM, context_length=T_MEM, d_model=C_MEM, n_heads=H_MEM, n_layers=L_MEM, d_ff=F_MEM)
    prompt = np.random.default_rng(1).integers(0, V_MEM, (B_MEM, T_MEM - 2))
    return GPT(config, rng=np.random.default_rng(0)), prompt
