"""Kata 18 acceleration. Run: pytest exercises/18_acceleration   (one step: -k "step1" ... "step5").

Every fast version is checked against a slow, obvious twin written here; the fused ops by
gradient checks; and the point of each technique by bytes: a memray budget the fast version
meets, next to a tracemalloc measurement (NumPy reports its arrays to tracemalloc) showing that
the unfused or unvectorized composition would not. Nothing here is timed: speed is
``python -m benchmarks.acceleration``'s business.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinytorch.acceleration import (
    BiasGELU,
    InPlaceAdam,
    InPlaceSGD,
    SoftmaxCrossEntropy,
    bias_gelu,
    conv2d_taps,
    matmul_blocked,
    softmax_cross_entropy,
)
from tinytorch.autograd import Tensor
from tinytorch.convolution import conv2d
from tinytorch.optimizers import Adam
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, numpy_buffer
from tinytorch.testing.strategies import shapes

GELU_C, GELU_A = math.sqrt(2 / math.pi), 0.044715
seeds = st.integers(0, 2**32 - 1)

# --- oracles written here, independent of the kata ---------------------------------------------


def loop_conv(x, weight, bias, stride, padding, dilation):
    """The convolution by its definition: one dot product per output position (i, j).

    out[b, o, i, j] = bias[o] + Σ_{c,p,q} xp[b, c, i·sh + p·dh, j·sw + q·dw] · w[o, c, p, q].
    """
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    OC, _, KH, KW = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (xp.shape[2] - dh * (KH - 1) - 1) // sh + 1
    OW = (xp.shape[3] - dw * (KW - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], OC, OH, OW))
    for i in range(OH):
        for j in range(OW):
            rows = i * sh + dh * np.arange(KH)  # the KH rows this window reads
            cols = j * sw + dw * np.arange(KW)
            window = xp[:, :, rows[:, None], cols[None, :]]  # (B, C, KH, KW)
            out[:, :, i, j] = np.einsum("bcpq,ocpq->bo", window, weight)
    return out if bias is None else out + bias[None, :, None, None]


def gelu_formula(h):
    """02's tanh GELU: 0.5·h·(1 + tanh(c·(h + a·h³)))."""
    return 0.5 * h * (1 + np.tanh(GELU_C * (h + GELU_A * h**3)))


def mean_cross_entropy(logits, target):
    """mean_b(log Σ_j e^(x_bj) − x_b,t_b), the log-sum-exp shifted by each row's max."""
    m = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=1)) + m[:, 0]
    return np.mean(lse - logits[np.arange(len(target)), target])


def traced_peak(fn):
    """(peak bytes, bytes still held, fn's result) of ``fn()`` under tracemalloc, started here."""
    tracemalloc.start()
    try:
        result = fn()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, held, result


# --- step 1: a convolution by kernel taps -------------------------------------------------------


def test_step1_the_tap_conv_equals_the_loop_conv_with_stride_padding_and_dilation(rng):
    x = rng.standard_normal((2, 3, 9, 7))
    weight, bias = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out = conv2d_taps(x, weight, bias, stride=(2, 1), padding=(1, 2), dilation=(2, 1))
    expected = loop_conv(x, weight, bias, (2, 1), (1, 2), (2, 1))
    assert out.shape == expected.shape == (2, 4, 4, 10)
    assert_close(out, expected, rtol=1e-12, atol=1e-12, what="conv2d_taps")
    assert out.flags.c_contiguous


@st.composite
def conv_cases(draw):
    """(x shape, weight shape, stride, padding, dilation, bias?) whose dilated kernel fits."""
    B, C, OC = draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    assume(dilation[0] * (KH - 1) + 1 <= H + 2 * padding[0] and dilation[1] * (KW - 1) + 1 <= W + 2 * padding[1])
    return (B, C, H, W), (OC, C, KH, KW), stride, padding, dilation, draw(st.booleans())


@given(conv_cases(), seeds)
def test_step1_the_tap_conv_equals_the_loop_conv_on_generated_shapes(case, seed):
    x_shape, w_shape, stride, padding, dilation, with_bias = case
    g = np.random.default_rng(seed)
    x, weight = g.standard_normal(x_shape), g.standard_normal(w_shape)
    bias = g.standard_normal(w_shape[0]) if with_bias else None
    out = conv2d_taps(x, weight, bias, stride, padding, dilation)
    assert_close(out, loop_conv(x, weight, bias, stride, padding, dilation), rtol=1e-12, atol=1e-12)


def test_step1_the_tap_conv_keeps_float32_and_leaves_its_inputs_alone(rng):
    x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    weight = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    x_before, w_before = x.copy(), weight.copy()
    out = conv2d_taps(x, weight, padding=1)
    assert out.dtype == np.float32
    assert_close(
        out,
        loop_conv(x.astype(np.float64), weight.astype(np.float64), None, (1, 1), (1, 1), (1, 1)),
        rtol=1e-5,
        atol=1e-5,
    )
    assert np.array_equal(x, x_before) and np.array_equal(weight, w_before)


@pytest.fixture(scope="module")
def conv_inputs():
    """A float32 batch (8, 16, 32, 32) and a 3×3 kernel 16 -> 16: 2 MiB of input."""
    g = np.random.default_rng(18)
    return g.standard_normal((8, 16, 32, 32)).astype(np.float32), g.standard_normal((16, 16, 3, 3)).astype(np.float32)


def tap_conv_budget(x_shape, w_shape, itemsize):
    """The output, one tap's grid copied for BLAS, and one tap's product: B·(OC + C + OC)·L·itemsize."""
    B, C, H, W = x_shape
    OC, _, KH, KW = w_shape
    L = (H - KH + 1) * (W - KW + 1)  # stride 1, no padding
    return B * (2 * OC + C) * L * itemsize


@memory_budget(tap_conv_budget((8, 16, 32, 32), (16, 16, 3, 3), 4))
def test_step1_the_tap_conv_needs_no_im2col_buffer(conv_inputs):
    x, weight = conv_inputs
    out = conv2d_taps(x, weight)
    assert out.shape == (8, 16, 30, 30)


@pytest.fixture(scope="module")
def wide_conv_inputs():
    """A float32 batch (8, 32, 32, 32) and a 3×3 kernel 32 -> 8: more input channels than outputs, 1 MiB of input."""
    g = np.random.default_rng(19)
    return g.standard_normal((8, 32, 32, 32)).astype(np.float32), g.standard_normal((8, 32, 3, 3)).astype(np.float32)


# C > OC: a tap's grid (B·C·L) is bigger than its product (B·OC·L), so keeping the last tap's grid
# while the next one is copied (two grids) goes over by B·(C − OC)·L·4 = 0.66 MiB
@memory_budget(tap_conv_budget((8, 32, 32, 32), (8, 32, 3, 3), 4))
def test_step1_the_tap_conv_holds_one_grid_at_a_time_with_more_channels_than_outputs(wide_conv_inputs):
    x, weight = wide_conv_inputs
    out = conv2d_taps(x, weight)
    assert out.shape == (8, 8, 30, 30)


def test_step1_the_im2col_conv_exceeds_the_tap_convs_budget_by_its_buffer(conv_inputs):
    x, weight = conv_inputs
    budget = tap_conv_budget(x.shape, weight.shape, x.itemsize) + DEFAULT_SLACK
    taps_peak, _, out = traced_peak(lambda: conv2d_taps(x, weight))
    im2col_peak, _, expected = traced_peak(lambda: conv2d(Tensor(x), Tensor(weight)).numpy())
    assert_close(out, expected, rtol=1e-4, atol=1e-4, what="conv2d_taps against 09's conv2d")
    B, C, KH, KW, L = 8, 16, 3, 3, 30 * 30
    assert taps_peak <= budget, (
        f"conv2d_taps peaked at {taps_peak} bytes ({taps_peak / out.nbytes:.1f} outputs), over its budget of "
        f"{budget}: the output, one tap's grid and one tap's product (3 outputs here) and the 64 KiB slack"
    )
    # 09's conv2d holds the im2col buffer B·C·KH·KW·L (9 times the tap's grid) and the output
    assert im2col_peak >= B * C * KH * KW * L * 4 > budget


def test_step1_the_tap_conv_raises_the_checks_of_09_under_its_own_name():
    with pytest.raises(ValueError, match="conv2d_taps: input channels must match the weight's, got 3 and 4"):
        conv2d_taps(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3)))
    with pytest.raises(TypeError, match="conv2d_taps: weight must have the input's dtype float32, got float64"):
        conv2d_taps(np.ones((1, 3, 5, 5), np.float32), np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="conv2d_taps: the dilated kernel must fit in the padded input"):
        conv2d_taps(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), dilation=2)
    with pytest.raises(ValueError, match="conv2d_taps: stride must be an integer >= 1"):
        conv2d_taps(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0)


# --- step 2: a cache-blocked matmul -------------------------------------------------------------


def tile_bytes(M, K, N, S, itemsize):
    """Each output tile row-block loads its (rows, K) panel of A, each column-block its (K, cols) of B."""
    return (M * K * math.ceil(N / S) + K * N * math.ceil(M / S)) * itemsize


def test_step2_the_blocked_matmul_equals_a_at_b_when_the_block_does_not_divide_the_sizes(rng):
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 9))
    out, loaded = matmul_blocked(a, b, 3)
    assert_close(out, a @ b, rtol=1e-12, atol=1e-12, what="matmul_blocked(a, b, 3)")
    assert loaded == tile_bytes(7, 5, 9, 3, 8) == (7 * 5 * 3 + 5 * 9 * 3) * 8


@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9), st.integers(1, 11), seeds)
def test_step2_the_blocked_matmul_is_exact_on_integers_for_any_block_size(M, K, N, S, seed):
    g = np.random.default_rng(seed)
    a, b = g.integers(-50, 50, (M, K)), g.integers(-50, 50, (K, N))
    out, loaded = matmul_blocked(a, b, S)
    assert out.dtype == a.dtype
    assert np.array_equal(out, a @ b), f"block {S}: {out} != {a @ b}"
    assert loaded == tile_bytes(M, K, N, S, a.itemsize)


def test_step2_block_size_one_loads_what_a_naive_product_loads_and_bigger_blocks_load_less(rng):
    a, b = rng.standard_normal((16, 12)).astype(np.float32), rng.standard_normal((12, 20)).astype(np.float32)
    loads = {S: matmul_blocked(a, b, S)[1] for S in (1, 2, 4, 8, 32)}
    assert loads[1] == 2 * 16 * 20 * 12 * 4  # a row of A and a column of B per output element
    assert loads[1] > loads[2] > loads[4] > loads[8] > loads[32] == (16 * 12 + 12 * 20) * 4
    out, _ = matmul_blocked(a, b, 5)
    assert out.dtype == np.float32
    assert_close(out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)


def test_step2_the_blocked_matmul_refuses_bad_operands_and_block_sizes():
    with pytest.raises(ValueError, match=r"matmul_blocked: inner dimensions must match, got \(2, 3\) @ \(4, 5\)"):
        matmul_blocked(np.ones((2, 3)), np.ones((4, 5)), 2)
    with pytest.raises(ValueError, match="matmul_blocked: a and b must be 2-D"):
        matmul_blocked(np.ones((2, 3, 4)), np.ones((4, 5)), 2)
    with pytest.raises(TypeError, match="matmul_blocked: dtypes must match, got float32 and float64"):
        matmul_blocked(np.ones((2, 3), np.float32), np.ones((3, 5)), 2)
    with pytest.raises(TypeError, match="matmul_blocked: a must be an ndarray, got list"):
        matmul_blocked([[1.0]], np.ones((1, 1)), 1)
    with pytest.raises(TypeError, match="matmul_blocked: a must be numeric, got bool"):
        matmul_blocked(np.ones((2, 3), bool), np.ones((3, 5), bool), 2)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="matmul_blocked: block_size must be an integer >= 1"):
            matmul_blocked(np.ones((2, 3)), np.ones((3, 5)), bad)


def test_step2_the_blocked_matmul_takes_one_dtype_in_either_byte_order(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    out, loaded = matmul_blocked(a.astype(">f8"), b, 2)  # big-endian float64 and native float64
    assert_close(out, a @ b, rtol=1e-12, atol=1e-12, what="matmul_blocked(>f8, float64)")
    assert loaded == tile_bytes(3, 4, 5, 2, 8)
    with pytest.raises(TypeError, match="matmul_blocked: dtypes must match, got >f4 and float64"):
        matmul_blocked(a.astype(">f4"), b, 2)


# --- step 3: fused bias + GELU ------------------------------------------------------------------


def test_step3_bias_gelu_equals_gelu_of_x_plus_bias_in_one_node_that_saves_only_its_inputs(rng):
    x, bias = Tensor(rng.standard_normal((3, 5)) * 3, requires_grad=True), Tensor(rng.standard_normal(5))
    y = bias_gelu(x, bias)
    assert_close(y, gelu_formula(x.numpy() + bias.numpy()), rtol=1e-12, atol=1e-12, what="bias_gelu")
    assert isinstance(y.grad_fn, BiasGELU)
    assert y.grad_fn.parents[0] is x and y.grad_fn.parents[1] is bias  # one node, straight on the inputs
    for array in y.grad_fn.saved:
        assert any(np.shares_memory(array, t.numpy()) for t in (x, bias)), "saved an array that is not an input"


@given(shapes(min_dims=1, max_dims=3, min_side=0, max_side=5), seeds)
def test_step3_bias_gelu_equals_the_formula_on_generated_shapes(shape, seed):
    g = np.random.default_rng(seed)
    x, bias = g.uniform(-8, 8, shape), g.uniform(-8, 8, shape[-1:])
    out = bias_gelu(Tensor(x), Tensor(bias))
    assert_close(out, gelu_formula(x + bias), rtol=1e-12, atol=1e-12)


def test_step3_bias_gelu_gradients_match_finite_differences(rng):
    # tolerance: gradcheck's default (atol 1e-5, rtol 1e-4 at eps 1e-6, float64)
    gradcheck_tensors("bias_gelu", bias_gelu, [rng.standard_normal((3, 4)) * 2, rng.standard_normal(4)])
    gradcheck_tensors("bias_gelu 3-D", bias_gelu, [rng.standard_normal((2, 2, 3)), rng.standard_normal(3)])


def test_step3_bias_gelu_keeps_float32_and_skips_the_gradients_nobody_asked_for(rng, monkeypatch):
    returned = []  # what BiasGELU.backward gives the engine (which drops an unrequested gradient itself)
    backward = BiasGELU.backward

    def spy(ctx, grad):
        returned.append(backward(ctx, grad))
        return returned[-1]

    monkeypatch.setattr(BiasGELU, "backward", staticmethod(spy))
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    bias = Tensor(rng.standard_normal(3).astype(np.float32))
    y = bias_gelu(x, bias)
    assert y.dtype == np.float32
    y.backward(np.ones((4, 3), np.float32))
    assert x.grad.dtype == np.float32 and bias.grad is None
    assert returned[-1][0] is not None and returned[-1][1] is None, "backward computed the bias gradient unasked"
    only_bias = Tensor(rng.standard_normal(3), requires_grad=True)
    bias_gelu(Tensor(rng.standard_normal((2, 3))), only_bias).backward(np.ones((2, 3)))
    assert returned[-1][0] is None and returned[-1][1].shape == (3,), "backward computed the x gradient unasked"


def test_step3_bias_gelu_stays_finite_at_large_float32_inputs():
    # h·c·(1 + 3a·h²) overflows float32 past |h| ≈ 1.4e13 and h·(1 + t) past 1.7e38; there t = ±1,
    # so gelu(h) is h or 0 and gelu'(h) is 1 or 0 (the float64 formulas below overflow nowhere)
    h = np.array([[1.5e13, -1.5e13, 1e20, -1e20, 3e38, 12.0, -12.0, 2.0]])
    x = Tensor(h.astype(np.float32), requires_grad=True)
    bias = Tensor(np.zeros(8, np.float32), requires_grad=True)
    y = bias_gelu(x, bias)
    assert_close(y, gelu_formula(h).astype(np.float32), rtol=1e-6, atol=0, what="gelu(h) in float32")
    y.backward(np.ones((1, 8), np.float32))
    t = np.tanh(GELU_C * (h + GELU_A * h**3))
    slope = 0.5 * (1 + t) + 0.5 * h * (1 - t**2) * GELU_C * (1 + 3 * GELU_A * h**2)
    assert np.isfinite(x.grad).all(), f"bias_gelu's gradient at large float32 inputs: {x.grad}"
    assert_close(x.grad, slope.astype(np.float32), rtol=1e-5, atol=1e-6, what="gelu'(h) in float32")
    assert_close(bias.grad, slope.sum(axis=0).astype(np.float32), rtol=1e-5, atol=1e-6, what="the bias gradient")


@pytest.fixture(scope="module")
def gelu_inputs():
    """float32 x (256, 1024), 1 MiB, a bias (1024,), and an upstream gradient of ones."""
    g = np.random.default_rng(3)
    x = g.standard_normal((256, 1024)).astype(np.float32)
    return x, g.standard_normal(1024).astype(np.float32), np.ones_like(x)


X_BYTES = 256 * 1024 * 4  # N·itemsize of gelu_inputs' x


@memory_budget(2 * X_BYTES)  # the output and one temporary
def test_step3_fused_bias_gelu_forward_stays_within_two_buffers_of_x(gelu_inputs):
    x, bias, _ = gelu_inputs
    bias_gelu(Tensor(x, requires_grad=True), Tensor(bias, requires_grad=True))


@memory_budget(4 * X_BYTES)  # the output, held, and the backward's three buffers (one the gradient)
def test_step3_fused_bias_gelu_forward_and_backward_stay_within_four_buffers_of_x(gelu_inputs):
    x, bias, grad = gelu_inputs
    y = bias_gelu(Tensor(x, requires_grad=True), Tensor(bias, requires_grad=True))
    y.backward(grad)


def test_step3_the_unfused_composition_exceeds_both_budgets_that_the_fused_op_meets(gelu_inputs):
    x, bias, grad = gelu_inputs

    def run(fn):
        xt, bt = Tensor(x, requires_grad=True), Tensor(bias, requires_grad=True)
        forward, _, y = traced_peak(lambda: fn(xt, bt))
        both, _, _ = traced_peak(lambda: y.backward(grad))
        return forward, both + y.nbytes  # the output is held through the backward

    fused = run(bias_gelu)
    unfused = run(lambda xt, bt: (xt + bt).gelu())  # 03's Add, then 03's GELU (02's gelu inside)
    assert fused[0] <= 2 * X_BYTES + DEFAULT_SLACK and fused[1] <= 4 * X_BYTES + DEFAULT_SLACK, fused
    # unfused: GELU keeps h = x + bias for its backward, and 02's gelu makes h³ in temporaries
    assert unfused[0] > 2 * X_BYTES + DEFAULT_SLACK, unfused
    assert unfused[1] > 4 * X_BYTES + DEFAULT_SLACK, unfused


def test_step3_bias_gelu_refuses_bad_inputs():
    x = Tensor(np.ones((2, 4)))
    with pytest.raises(TypeError, match="bias_gelu: x must be a Tensor, got ndarray"):
        bias_gelu(np.ones((2, 4)), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"bias_gelu: bias must have shape \(4,\), got \(3,\)"):
        bias_gelu(x, Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="bias_gelu: bias must have x's dtype float64, got float32"):
        bias_gelu(x, Tensor(np.ones(4, np.float32)))
    with pytest.raises(TypeError, match="bias_gelu: x must be floating-point, got int64"):
        bias_gelu(Tensor(np.ones((2, 4), np.int64)), Tensor(np.ones(4, np.int64)))
    with pytest.raises(ValueError, match=r"bias_gelu: x must have at least 1 dimension, got \(\)"):
        bias_gelu(Tensor(np.float64(1.0)), Tensor(np.ones(())))


# --- step 4: fused softmax cross-entropy ------------------------------------------------------------


def test_step4_softmax_cross_entropy_equals_the_mean_loss_in_one_node_that_keeps_no_softmax(rng):
    logits = Tensor(rng.standard_normal((6, 4)) * 3, requires_grad=True)
    target = np.array([0, 3, 1, 1, 2, 3])
    loss = softmax_cross_entropy(logits, target)
    assert loss.shape == () and loss.dtype == np.float64
    assert_close(loss, mean_cross_entropy(logits.numpy(), target), rtol=1e-12, atol=1e-12)
    assert isinstance(loss.grad_fn, SoftmaxCrossEntropy) and loss.grad_fn.parents[0] is logits
    for array in loss.grad_fn.saved:  # the only (B, C) array it keeps is the logits themselves
        if np.size(array) >= logits.size:
            assert np.shares_memory(array, logits.numpy()), "saved a (B, C) array that is not the logits"


@given(st.integers(1, 5), st.integers(1, 6), seeds)
def test_step4_softmax_cross_entropy_equals_the_formula_on_generated_shapes(B, C, seed):
    g = np.random.default_rng(seed)
    logits, target = g.standard_normal((B, C)) * 5, g.integers(0, C, B)
    assert_close(softmax_cross_entropy(Tensor(logits), target), mean_cross_entropy(logits, target), rtol=1e-12)


def test_step4_softmax_cross_entropy_takes_its_target_as_a_tensor_too(rng):
    logits = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    target = np.array([2, 0, 1, 2])
    loss = softmax_cross_entropy(logits, Tensor(target))
    assert_close(loss, mean_cross_entropy(logits.numpy(), target), rtol=1e-12, atol=1e-12)
    loss.backward()
    e = np.exp(logits.numpy() - logits.numpy().max(axis=1, keepdims=True))
    expected = (e / e.sum(axis=1, keepdims=True) - np.eye(3)[target]) / 4  # (softmax − one_hot)/B
    assert_close(logits.grad, expected, rtol=1e-12, atol=1e-12, what="the gradient with a Tensor target")


def test_step4_softmax_cross_entropy_is_finite_at_extreme_logits_and_zero_with_one_class():
    loss = softmax_cross_entropy(Tensor([[1e4, -1e4], [0.0, 0.0]]), np.array([1, 0]))
    assert_close(loss, (2e4 + math.log(2)) / 2, rtol=1e-12)
    one = Tensor(np.array([[3.0], [-2.0]]), requires_grad=True)
    softmax_cross_entropy(one, np.array([0, 0])).backward()
    assert_close(one.grad, np.zeros((2, 1)), rtol=0, atol=0, what="the gradient with one class")


def test_step4_softmax_cross_entropy_gradient_matches_finite_differences(rng):
    target = np.array([2, 0, 2, 1, 4])
    # tolerance: gradcheck's default (atol 1e-5, rtol 1e-4 at eps 1e-6, float64)
    gradcheck_tensors(
        "softmax_cross_entropy", lambda x: softmax_cross_entropy(x, target), [rng.standard_normal((5, 5)) * 2]
    )
    gradcheck_tensors(
        "softmax_cross_entropy (7, 3)",
        lambda x: softmax_cross_entropy(x, np.array([0, 1, 2] * 2 + [0])),
        [rng.standard_normal((7, 3))],
    )


def test_step4_softmax_cross_entropy_keeps_float32(rng):
    logits = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    loss = softmax_cross_entropy(logits, np.array([0, 1, 2, 0]))
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


@pytest.fixture(scope="module")
def ce_inputs():
    """float32 logits (512, 1000), about 2 MiB, and their classes."""
    g = np.random.default_rng(5)
    return (g.standard_normal((512, 1000)) * 3).astype(np.float32), g.integers(0, 1000, 512)


BC_BYTES = 512 * 1000 * 4  # B·C·itemsize of ce_inputs' logits


# one (B, C) temporary, and NumPy's buffer for the broadcast (B, 1) row max
@memory_budget(BC_BYTES + numpy_buffer(4))
def test_step4_fused_forward_stays_within_one_logits_sized_buffer(ce_inputs):
    logits, target = ce_inputs
    softmax_cross_entropy(Tensor(logits, requires_grad=True), target)


@memory_budget(2 * BC_BYTES + numpy_buffer(4))  # the gradient, and 03's copy of it into the leaf's .grad
def test_step4_fused_forward_and_backward_stay_within_two_logits_sized_buffers(ce_inputs):
    logits, target = ce_inputs
    softmax_cross_entropy(Tensor(logits, requires_grad=True), target).backward()


def test_step4_the_unfused_composition_keeps_a_log_softmax_and_exceeds_both_budgets(ce_inputs):
    logits, target = ce_inputs
    rows = np.arange(len(target))

    def run(fn):
        x = Tensor(logits, requires_grad=True)
        forward, held, loss = traced_peak(lambda: fn(x))
        both, _, _ = traced_peak(loss.backward)
        return forward, held, both

    fused = run(lambda x: softmax_cross_entropy(x, target))
    unfused = run(lambda x: -(x.log_softmax(axis=1)[rows, target]).mean())  # 03's ops, four nodes
    forward_budget = BC_BYTES + numpy_buffer(4) + DEFAULT_SLACK
    assert fused[0] <= forward_budget and fused[2] <= 2 * BC_BYTES + numpy_buffer(4) + DEFAULT_SLACK, fused
    assert fused[1] <= 64 * len(target) + DEFAULT_SLACK, f"the fused node held {fused[1]} bytes after its forward"
    assert unfused[1] >= BC_BYTES, unfused  # the log-softmax, kept for the backward
    assert unfused[0] > forward_budget and unfused[2] > 2 * BC_BYTES + numpy_buffer(4) + DEFAULT_SLACK, unfused


def test_step4_softmax_cross_entropy_refuses_bad_inputs():
    logits = Tensor(np.zeros((4, 10)))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: target must be in \[0, 10\), got 12"):
        softmax_cross_entropy(logits, np.array([0, 12, 1, 2]))
    with pytest.raises(TypeError, match="softmax_cross_entropy: logits must be a Tensor, got ndarray"):
        softmax_cross_entropy(np.zeros((4, 10)), np.zeros(4, np.int64))
    with pytest.raises(TypeError, match="softmax_cross_entropy: target must be an integer array"):
        softmax_cross_entropy(logits, np.zeros(4))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: logits must have at least one row, got \(0, 3\)"):
        softmax_cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, np.int64))


# --- step 5: optimizers that allocate nothing per step ----------------------------------------------


def test_step5_in_place_sgd_follows_the_momentum_rule_in_p_s_own_storage(rng):
    w = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    storage, corner = w.data, w.data[:1, :2]  # the array, and a view of it taken before any step
    p, b = w.numpy().copy(), np.zeros((3, 4))
    opt = InPlaceSGD([w], lr=0.1, momentum=0.9)
    buffer = opt.state[0]["momentum_buffer"]
    for _ in range(3):
        g = rng.standard_normal((3, 4))
        w.grad = g.copy()
        opt.step()
        b = 0.9 * b + g
        p = p - 0.1 * b
    assert_close(w, p, rtol=1e-12, atol=1e-15, what="InPlaceSGD after 3 steps")
    assert w.data is storage and np.shares_memory(corner, w.data) and np.array_equal(corner, p[:1, :2])
    assert opt.state[0]["momentum_buffer"] is buffer
    plain = Tensor(np.ones(2), requires_grad=True)
    plain.grad = np.array([1.0, -2.0])
    InPlaceSGD([plain], lr=0.5).step()
    assert_close(plain, [0.5, 2.0], rtol=0, atol=0, what="InPlaceSGD without momentum")


def test_step5_in_place_adam_follows_adams_rule_in_place(rng):
    w = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    skipped = Tensor(np.ones(2), requires_grad=True)  # never gets a gradient: never moves
    late = Tensor(rng.standard_normal(5), requires_grad=True)  # a gradient from step 2 on: its own t is 1, 2
    storage = w.data
    p, m, v = w.numpy().copy(), np.zeros((4, 3)), np.zeros((4, 3))
    q, m_late, v_late = late.numpy().copy(), np.zeros(5), np.zeros(5)
    opt = InPlaceAdam([w, skipped, late], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    buffers = (opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"])
    for t in range(1, 4):
        g, g_late = rng.standard_normal((4, 3)), rng.standard_normal(5)
        w.grad = g.copy()
        late.grad = g_late.copy() if t >= 2 else None
        opt.step()
        m, v = 0.8 * m + 0.2 * g, 0.99 * v + 0.01 * g * g
        p = p - 0.01 / (1 - 0.8**t) * m / (np.sqrt(v) / math.sqrt(1 - 0.99**t) + 1e-6)
        if t >= 2:
            own = t - 1  # the late parameter's own step count
            m_late, v_late = 0.8 * m_late + 0.2 * g_late, 0.99 * v_late + 0.01 * g_late * g_late
            q = q - 0.01 / (1 - 0.8**own) * m_late / (np.sqrt(v_late) / math.sqrt(1 - 0.99**own) + 1e-6)
    assert_close(w, p, rtol=1e-10, atol=1e-12, what="InPlaceAdam after 3 steps")
    assert_close(late, q, rtol=1e-10, atol=1e-12, what="a parameter with gradients from step 2 on (its t: 1, 2)")
    assert w.data is storage and (opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"]) == buffers
    assert (opt.state[0]["step"], opt.state[1]["step"], opt.state[2]["step"], opt.step_count) == (3, 0, 2, 3)
    assert_close(skipped, np.ones(2), rtol=0, atol=0, what="a parameter without a gradient")


def test_step5_in_place_adam_keeps_float32_parameters_float32(rng):
    w = Tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    w.grad = rng.standard_normal(5).astype(np.float32)
    opt = InPlaceAdam([w], lr=0.1)
    opt.step()
    assert w.dtype == np.float32 and opt.state[0]["exp_avg"].dtype == np.float32


@pytest.fixture
def big_parameter():
    """A float32 parameter of 2^20 elements (4 MiB) with a gradient."""
    g = np.random.default_rng(7)
    w = Tensor(g.standard_normal(2**20).astype(np.float32), requires_grad=True)
    w.grad = g.standard_normal(2**20).astype(np.float32)
    return w


@pytest.fixture
def built_optimizers(big_parameter):
    """The in-place optimizers (SGD with and without momentum, Adam), built before the measured call."""
    return (
        InPlaceSGD([big_parameter], lr=0.1, momentum=0.9),
        InPlaceSGD([big_parameter], lr=0.1),
        InPlaceAdam([big_parameter], lr=1e-3),
    )


@memory_budget(0)  # nothing but the slack: no array at all, let alone one of the parameter's size
def test_step5_steps_allocate_no_array(built_optimizers):
    for opt in built_optimizers:
        for _ in range(3):
            opt.step()


def test_step5_06s_adam_allocates_a_parameter_sized_scratch_per_step_where_in_place_adam_allocates_none(big_parameter):
    ours = InPlaceAdam([big_parameter], lr=1e-3)
    theirs = Adam([big_parameter], lr=1e-3)
    theirs.step()  # its first step makes m and v: measure the second
    ours_peak, _, _ = traced_peak(ours.step)
    theirs_peak, _, _ = traced_peak(theirs.step)
    assert ours_peak <= DEFAULT_SLACK, f"InPlaceAdam.step allocated {ours_peak} bytes"
    assert theirs_peak >= big_parameter.nbytes > DEFAULT_SLACK


def test_step5_the_in_place_optimizers_check_their_hyperparameters():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="InPlaceSGD: lr must be >= 0, got -1"):
        InPlaceSGD([w], lr=-1)
    with pytest.raises(ValueError, match="InPlaceAdam: eps must be >= 0"):
        InPlaceAdam([w], eps=-1.0)
    with pytest.raises(ValueError, match=r"InPlaceAdam: betas must be in \[0, 1\), got \(0.9, 1.0\)"):
        InPlaceAdam([w], betas=(0.9, 1.0))
    for bad in (0.9, (0.9, "0.99"), (True, 0.9), (0.9, 0.99, 0.1)):  # 06's Adam: TypeError for non-numbers
        with pytest.raises(TypeError, match="InPlaceAdam: betas must be a pair of real numbers, got"):
            InPlaceAdam([w], betas=bad)
    with pytest.raises(ValueError, match="optimizer: params must contain at least one tensor"):
        InPlaceAdam([])


def test_step5_a_parameter_rebound_to_another_shape_or_dtype_is_named_at_the_step():
    for make in (lambda ps: InPlaceSGD(ps, lr=0.1), lambda ps: InPlaceSGD(ps, lr=0.1, momentum=0.9), InPlaceAdam):
        w = Tensor(np.ones(3), requires_grad=True)
        opt = make([Tensor(np.ones(2), requires_grad=True), w])
        w.data, w.grad = np.ones(5), np.ones(5)  # its buffers and workspace were made for 3 float64s
        with pytest.raises(ValueError, match=r"step: parameter 1 must keep the shape \(3,\) and dtype float64"):
            opt.step()
        w.data, w.grad = np.ones(3, np.float32), np.ones(3, np.float32)
        with pytest.raises(ValueError, match=r"step: parameter 1 must keep the shape \(3,\) and dtype float64"):
            opt.step()


def test_step5_a_snapshot_must_hold_the_state_of_every_parameter_the_step_uses():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    for opt in (InPlaceSGD([a, b], lr=0.1, momentum=0.9), InPlaceAdam([a, b], lr=0.1)):
        snapshot = opt.state_dict()
        del snapshot["state"][1]
        before = opt.state
        with pytest.raises(ValueError, match="load_state_dict: state must have an entry for every parameter, got none"):
            opt.load_state_dict(snapshot)
        assert opt.state is before  # refused before anything changed
    plain = InPlaceSGD([a, b], lr=0.1)  # no momentum: no state to miss
    plain.load_state_dict(plain.state_dict())
    a.grad, b.grad = np.ones(3), np.ones(2)
    plain.step()
    assert_close(b, np.full(2, 0.9), rtol=1e-12, what="InPlaceSGD without momentum after a round trip")
