"""Kata 09 convolution. Run: pytest exercises/09_convolution   (one step: -k "step1" ... "step5")."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.autograd import Tensor
from tinytorch.convolution import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    col2im,
    conv2d,
    conv2d_loops,
    conv_output_size,
    flatten,
    im2col,
)
from tinytorch.layers import Linear, Parameter, Sequential, count_parameters
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget, returned
from tinytorch.testing.memory import DEFAULT_SLACK, MiB

# --- oracles written here, independent of the kata ---------------------------------------------


def pad(x, padding, value=0.0):
    """x (B, C, H, W) with padding = (ph, pw) pixels of ``value`` around H and W."""
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def positions(size, kernel, stride, padding, dilation):
    """The window starts along one axis, counted one by one: those where the dilated kernel fits."""
    span = dilation * (kernel - 1) + 1
    return [start for start in range(0, size + 2 * padding, stride) if start + span <= size + 2 * padding]


def conv_by_taps(x, w, b, stride, padding, dilation):
    """A convolution as a sum over the KH·KW kernel taps: each tap is a strided slice times a matrix."""
    (sh, sw), (dh, dw) = stride, dilation
    OC, _, KH, KW = w.shape
    xp = pad(x, padding)
    rows = positions(x.shape[2], KH, sh, padding[0], dh)
    cols = positions(x.shape[3], KW, sw, padding[1], dw)
    out = np.zeros((x.shape[0], OC, len(rows), len(cols)))
    for p in range(KH):
        for q in range(KW):
            # every output (i, j) reads pixel (rows[i] + p·dh, cols[j] + q·dw) of each channel
            tap = xp[:, :, [r + p * dh for r in rows]][:, :, :, [c + q * dw for c in cols]]  # (B, C, OH, OW)
            out += np.einsum("bchw,oc->bohw", tap, w[:, :, p, q])
    return out if b is None else out + b.reshape(1, OC, 1, 1)


def pool_by_windows(x, kernel, stride, padding, reduce, pad_value):
    """A pooling written window by window: reduce(window) for every window of every channel."""
    (KH, KW), (sh, sw) = kernel, stride
    xp = pad(x, padding, pad_value)
    rows = positions(x.shape[2], KH, sh, padding[0], 1)
    cols = positions(x.shape[3], KW, sw, padding[1], 1)
    out = np.zeros((*x.shape[:2], len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            out[:, :, i, j] = reduce(xp[:, :, r : r + KH, c : c + KW], axis=(2, 3))
    return out


@st.composite
def conv_cases(draw):
    """(x shape, weight shape, stride, padding, dilation), non-square everywhere, the kernel fitting."""
    B, C, OC = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    sides = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)  # the dilated kernel must fit the padded side
        sides.append(draw(st.integers(smallest, smallest + 4)))
    return (B, C, *sides), (OC, C, *kernel), stride, padding, dilation


seeds = st.integers(0, 2**32 - 1)


def distinct(rng, shape):
    """Values at least 0.1 apart (no ties: max pooling is differentiable there)."""
    n = math.prod(shape)
    return (rng.permutation(n) * 0.1 + rng.uniform(0.0, 0.01, n)).reshape(shape) - 0.05 * n


# --- step 1: the slow, obviously correct twin --------------------------------------------------


def test_step1_the_loop_conv_of_ones_counts_each_window():
    out, macs = conv2d_loops(np.ones((1, 2, 3, 4)), np.ones((1, 2, 2, 3)), np.array([0.5]))
    # every 2×3 window of 2 channels of ones sums to 12, plus the bias
    assert_close(out, np.full((1, 1, 2, 2), 12.5))
    assert macs == 1 * 1 * 2 * 2 * 2 * 2 * 3


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"),
    [((1, 1), (0, 0), (1, 1)), ((2, 1), (1, 2), (1, 1)), ((1, 2), (2, 0), (2, 1)), ((3, 2), (1, 1), (2, 2))],
    ids=str,
)
def test_step1_the_loop_conv_matches_a_sum_over_kernel_taps(stride, padding, dilation, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    out, _ = conv2d_loops(x, w, b, stride=stride, padding=padding, dilation=dilation)
    assert out.dtype == np.float64
    assert_close(out, conv_by_taps(x, w, b, stride, padding, dilation), what="conv2d_loops")


def test_step1_the_loop_conv_takes_ints_for_stride_padding_and_dilation_and_keeps_float32(rng):
    x = rng.standard_normal((1, 2, 6, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    out, _ = conv2d_loops(x, w, None, stride=2, padding=1, dilation=2)
    assert out.dtype == np.float32
    expected = conv_by_taps(x.astype(np.float64), w.astype(np.float64), None, (2, 2), (1, 1), (2, 2))
    assert_close(out, expected, rtol=1e-5, atol=1e-5)


@given(conv_cases())
def test_step1_the_loop_conv_does_b_oc_oh_ow_c_kh_kw_multiply_adds(case):
    x_shape, w_shape, stride, padding, dilation = case
    B, C, H, W = x_shape
    OC, _, KH, KW = w_shape
    out, macs = conv2d_loops(np.ones(x_shape), np.ones(w_shape), None, stride, padding, dilation)
    OH = len(positions(H, KH, stride[0], padding[0], dilation[0]))
    OW = len(positions(W, KW, stride[1], padding[1], dilation[1]))
    assert out.shape == (B, OC, OH, OW)
    assert macs == B * OC * OH * OW * C * KH * KW


def test_step1_the_loop_conv_refuses_mismatched_channels_naming_both():
    with pytest.raises(ValueError, match=r"^conv2d: input channels must match the weight's, got 3 and 4$"):
        conv2d_loops(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3)))


def test_step1_the_loop_conv_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(
        ValueError, match=r"conv2d: the dilated kernel must fit in the padded input, got kernel \(5, 3\)"
    ):
        conv2d_loops(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), dilation=(2, 1))
    conv2d_loops(np.ones((1, 1, 3, 3)), np.ones((1, 1, 5, 5)), padding=1)  # 5 fits 3 + 2·1


@pytest.mark.parametrize(("what", "value"), [("stride", 0), ("stride", (1, 0)), ("padding", -1), ("dilation", 0)])
def test_step1_the_loop_conv_refuses_a_stride_or_dilation_below_1_and_negative_padding(what, value):
    with pytest.raises(ValueError, match=rf"^conv2d: {what} must be an integer >= [01] or a pair of them, got"):
        conv2d_loops(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), **{what: value})


def test_step1_the_loop_conv_refuses_a_weight_of_another_dtype_and_a_bias_of_another_shape():
    with pytest.raises(TypeError, match=r"^conv2d: weight must have the input's dtype float32, got float64$"):
        conv2d_loops(np.ones((1, 1, 4, 4), dtype=np.float32), np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"^conv2d: bias must have shape \(2,\), got \(3,\)$"):
        conv2d_loops(np.ones((1, 1, 4, 4)), np.ones((2, 1, 2, 2)), np.ones(3))


@given(st.integers(1, 12), st.integers(1, 4), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))
def test_step1_the_output_size_formula_counts_the_window_positions(size, kernel, stride, padding, dilation):
    count = len(positions(size, kernel, stride, padding, dilation))
    if count == 0:
        with pytest.raises(ValueError, match="conv_output_size: the dilated kernel must fit in the padded input"):
            conv_output_size(size, kernel, stride, padding, dilation)
    else:
        assert conv_output_size(size, kernel, stride, padding, dilation) == count


# --- step 2: im2col and col2im -----------------------------------------------------------------


def test_step2_im2col_puts_each_window_in_a_column():
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    cols = im2col(x, (2, 3))
    # windows at (0, 0), (0, 1), (1, 0), (1, 1); rows are the taps (p, q) in row-major order
    assert cols.shape == (1, 6, 4)
    assert_close(cols[0, :, 0], [0, 1, 2, 4, 5, 6])
    assert_close(cols[0, :, 3], [5, 6, 7, 9, 10, 11])
    assert_close(cols[0, 0], [0, 1, 4, 5])


@given(conv_cases(), seeds)
def test_step2_im2col_entries_follow_the_definition(case, seed):
    x_shape, w_shape, stride, padding, dilation = case
    x = np.random.default_rng(seed).standard_normal(x_shape)
    KH, KW = w_shape[2:]
    cols = im2col(x, (KH, KW), stride, padding, dilation)
    rows = positions(x_shape[2], KH, stride[0], padding[0], dilation[0])
    columns = positions(x_shape[3], KW, stride[1], padding[1], dilation[1])
    assert cols.shape == (x_shape[0], x_shape[1] * KH * KW, len(rows) * len(columns))
    assert cols.dtype == x.dtype
    xp = pad(x, padding)
    expected = np.empty((x_shape[0], x_shape[1], KH, KW, len(rows), len(columns)))
    for p in range(KH):
        for q in range(KW):
            for i, r in enumerate(rows):
                for j, c in enumerate(columns):
                    expected[:, :, p, q, i, j] = xp[:, :, r + p * dilation[0], c + q * dilation[1]]
    assert_close(cols, expected.reshape(cols.shape), rtol=0, atol=0, what="im2col")


@given(conv_cases(), seeds)
def test_step2_col2im_is_the_adjoint_of_im2col(case, seed):
    x_shape, w_shape, stride, padding, dilation = case
    gen = np.random.default_rng(seed)
    x = gen.standard_normal(x_shape)
    kernel = w_shape[2:]
    cols_shape = im2col(x, kernel, stride, padding, dilation).shape
    y = gen.standard_normal(cols_shape)
    back = col2im(y, x_shape, kernel, stride, padding, dilation)
    assert back.shape == x_shape and back.dtype == np.float64
    # ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩, in float64
    left = np.sum(im2col(x, kernel, stride, padding, dilation) * y)
    right = np.sum(x * back)
    assert_close(left, right, rtol=1e-10, atol=1e-10, what="⟨im2col(x), y⟩ against ⟨x, col2im(y)⟩")


def test_step2_col2im_adds_up_the_pixels_that_overlapping_windows_share():
    back = col2im(np.ones((1, 4, 6)), (1, 1, 3, 4), 2)
    # the number of 2×2 windows (stride 1) that hold each pixel
    assert_close(back[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_step2_col2im_refuses_columns_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"^col2im: cols must have shape \(2, 12, 9\), got \(2, 12, 8\)$"):
        col2im(np.ones((2, 12, 8)), (2, 3, 4, 4), 2)


def test_step2_im2col_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"im2col: the dilated kernel must fit in the padded input"):
        im2col(np.ones((1, 1, 3, 3)), 4)


B_MEM, C_MEM, H_MEM, W_MEM, K_MEM, OC_MEM = 64, 8, 34, 30, 3, 16  # x: 2.0 MiB float32
OH_MEM, OW_MEM = H_MEM - K_MEM + 1, W_MEM - K_MEM + 1  # stride 1, no padding
BUFFER_BYTES = B_MEM * C_MEM * K_MEM * K_MEM * OH_MEM * OW_MEM * 4  # B·C·K·K·OH·OW·itemsize: 15.75 MiB
OUTPUT_BYTES = B_MEM * OC_MEM * OH_MEM * OW_MEM * 4  # 3.5 MiB
# A multithreaded OpenBLAS mallocs a workspace of about 0.5 MiB at each matmul this large (measured
# here with `--memray`: a bare `w2d @ cols` of these shapes peaks at its output + 0.5 MiB), not kept
# between calls, so no warm-up pays for it: a term of the conv's formula, allowed at 1 MiB.
BLAS_WORKSPACE = 1024 * 1024


@pytest.fixture
def conv_input():
    gen = np.random.default_rng(0)
    x = gen.standard_normal((B_MEM, C_MEM, H_MEM, W_MEM), dtype=np.float32)
    weight = gen.standard_normal((OC_MEM, C_MEM, K_MEM, K_MEM), dtype=np.float32)
    bias = gen.standard_normal(OC_MEM, dtype=np.float32)
    # NOTE: OpenBLAS allocates a work buffer at its first large matmul in a process and keeps it:
    # one matmul of the same shapes here, in the fixture (not counted), pays for it.
    weight.reshape(OC_MEM, -1) @ np.ones((B_MEM, C_MEM * K_MEM * K_MEM, OH_MEM * OW_MEM), dtype=np.float32)
    return x, weight, bias


# im2col allocates its buffer, B·C·K·K·OH·OW·itemsize, and nothing else of that order (no padding:
# no padded copy). A float64 buffer, or a second copy (a transposed or reshaped copy), breaks it.
@memory_budget(BUFFER_BYTES, slack=DEFAULT_SLACK)
def test_step2_im2col_allocates_only_its_buffer(conv_input):
    x, _, _ = conv_input
    cols = im2col(x, K_MEM)
    assert cols.nbytes == BUFFER_BYTES


# --- step 3: a differentiable convolution, and Conv2d ------------------------------------------


@given(conv_cases(), st.booleans(), seeds)
def test_step3_the_im2col_conv_equals_the_loop_conv(case, with_bias, seed):
    x_shape, w_shape, stride, padding, dilation = case
    gen = np.random.default_rng(seed)
    x, w, b = gen.standard_normal(x_shape), gen.standard_normal(w_shape), gen.standard_normal(w_shape[0])
    b = b if with_bias else None
    slow, _ = conv2d_loops(x, w, b, stride, padding, dilation)
    fast = conv2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), stride, padding, dilation)
    assert isinstance(fast, Tensor) and fast.dtype == np.float64
    assert_close(fast, slow, rtol=1e-10, atol=1e-10, what="conv2d (im2col) against conv2d_loops")


def test_step3_conv_matches_a_sum_over_kernel_taps_in_float32(rng):
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32)
    w = rng.standard_normal((5, 3, 2, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    out = conv2d(Tensor(x), Tensor(w), Tensor(b), stride=(2, 1), padding=(0, 1), dilation=(1, 2))
    assert out.dtype == np.float32
    expected = conv_by_taps(*(a.astype(np.float64) for a in (x, w, b)), (2, 1), (0, 1), (1, 2))
    assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"),
    [((2, 1), (1, 2), (1, 1)), ((1, 2), (0, 1), (2, 1)), ((2, 2), (2, 1), (2, 2))],
    ids=str,
)
def test_step3_conv_gradients_match_finite_differences_for_input_weight_and_bias(stride, padding, dilation, rng):
    x = rng.standard_normal((2, 2, 6, 5))
    w = rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)
    gradcheck_tensors(
        f"conv2d(stride={stride}, padding={padding}, dilation={dilation})",
        lambda x, w, b: conv2d(x, w, b, stride, padding, dilation),
        [x, w, b],
    )


def test_step3_conv_gradients_without_a_bias_match_finite_differences(rng):
    x, w = rng.standard_normal((1, 3, 5, 6)), rng.standard_normal((2, 3, 3, 2))
    gradcheck_tensors("conv2d without bias", lambda x, w: conv2d(x, w, None, 2, 1, 1), [x, w])


def test_step3_conv_computes_no_gradient_for_an_input_that_needs_none(rng):
    x = Tensor(rng.standard_normal((2, 1, 5, 5)))  # a batch: requires no grad
    w = Tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    out = conv2d(x, w, b, padding=1)
    grads = out.grad_fn.gradients(np.ones(out.shape))
    assert grads[0] is None, "ctx.needs_input_grad[0] is False: the input's gradient is not computed"
    assert grads[1].shape == (3, 1, 3, 3) and grads[2].shape == (3,)


def test_step3_conv_gradients_are_float32_for_float32_tensors(rng):
    x = Tensor(rng.standard_normal((2, 1, 5, 5)).astype(np.float32), requires_grad=True)
    layer = Conv2d(1, 2, 3, padding=1, rng=rng)
    layer(x).sum().backward()
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    assert_close(layer.bias.grad, np.full(2, 2 * 5 * 5, dtype=np.float32), what="bias gradient: one per output pixel")


def test_step3_conv2d_layer_has_pytorch_shapes_and_float32_parameters(rng):
    layer = Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), rng=rng)
    assert layer.weight.shape == (8, 3, 3, 5) and layer.bias.shape == (8,)
    assert isinstance(layer.weight, Parameter) and layer.weight.dtype == np.float32
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.stride == (2, 2) and layer.padding == (1, 2) and layer.dilation == (1, 1)
    assert Conv2d(3, 8, 3, bias=False, rng=rng).bias is None
    out = layer(Tensor(rng.standard_normal((2, 3, 9, 10)).astype(np.float32)))
    assert out.shape == (2, 8, 5, 5)


def test_step3_conv2d_layer_forward_matches_the_oracle(rng):
    layer = Conv2d(2, 3, (2, 3), stride=(1, 2), padding=1, dilation=(2, 1), rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 6, 7))
    expected = conv_by_taps(x, layer.weight.numpy(), layer.bias.numpy(), (1, 2), (1, 1), (2, 1))
    assert_close(layer(Tensor(x)), expected)


def test_step3_conv2d_layer_init_is_pytorch_s_uniform_over_fan_in(rng):
    fan_in = 4 * 3 * 2
    bound = 1 / math.sqrt(fan_in)
    weights = np.concatenate(
        [Conv2d(4, 50, (3, 2), rng=rng, dtype=np.float64).weight.numpy().ravel() for _ in range(40)]
    )
    biases = np.concatenate([Conv2d(4, 50, (3, 2), rng=rng, dtype=np.float64).bias.numpy() for _ in range(800)])
    for name, values in (("weight", weights), ("bias", biases)):
        n = values.size  # ≥ 40,000: U(-a, a) has variance a²/3, kurtosis 9/5
        assert np.abs(values).max() <= bound and np.abs(values).max() >= 0.99 * bound, name
        variance = bound**2 / 3
        assert abs(values.mean()) <= 5 * math.sqrt(variance / n), f"{name} mean"
        assert abs(np.mean(values**2) - variance) <= 5 * math.sqrt((9 / 5 - 1) * variance**2 / n), f"{name} variance"


def test_step3_conv2d_layer_is_reproducible_and_draws_the_weight_first():
    a = Conv2d(2, 3, 3, rng=np.random.default_rng(7))
    b = Conv2d(2, 3, 3, rng=np.random.default_rng(7))
    c = Conv2d(2, 3, 3, bias=False, rng=np.random.default_rng(7))
    assert_close(a.weight, b.weight.numpy(), rtol=0, atol=0)
    assert_close(a.bias, b.bias.numpy(), rtol=0, atol=0)
    assert_close(
        c.weight, a.weight.numpy(), rtol=0, atol=0, what="the weight is drawn first: same with or without bias"
    )


def test_step3_conv2d_has_far_fewer_parameters_than_a_dense_layer_on_the_same_image():
    C, OC, K, H, W = 1, 8, 3, 16, 16  # the 1998 milestone's first layer: 16×16 canvas, padding 1
    conv = Conv2d(C, OC, K, padding=1)
    assert count_parameters(conv) == OC * C * K * K + OC  # 80, whatever the image size
    dense = Linear(C * H * W, OC * H * W)  # the same input and output sizes, every pixel to every pixel
    assert count_parameters(dense) == (C * H * W) * (OC * H * W) + OC * H * W  # 526,336
    assert count_parameters(dense) // count_parameters(conv) == 6579


def test_step3_conv_refuses_mismatched_channels_naming_both(rng):
    with pytest.raises(ValueError, match=r"^conv2d: input channels must match the weight's, got 3 and 4$"):
        conv2d(Tensor(np.ones((1, 3, 5, 5))), Tensor(np.ones((2, 4, 3, 3))))
    layer = Conv2d(4, 2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"^conv2d: input channels must match the weight's, got 3 and 4$"):
        layer(Tensor(np.ones((1, 3, 5, 5), dtype=np.float32)))


def test_step3_conv_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(
        ValueError, match=r"^conv2d: the dilated kernel must fit in the padded input, got kernel \(3, 3\)"
    ):
        conv2d(Tensor(np.ones((1, 1, 2, 5))), Tensor(np.ones((1, 1, 3, 3))))


def test_step3_conv_and_conv2d_refuse_a_stride_of_0():
    with pytest.raises(ValueError, match=r"^conv2d: stride must be an integer >= 1 or a pair of them, got 0$"):
        conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 2, 2))), stride=0)
    with pytest.raises(ValueError, match=r"^Conv2d: stride must be an integer >= 1 or a pair of them, got \(1, 0\)$"):
        Conv2d(1, 1, 2, stride=(1, 0))


def test_step3_conv_refuses_an_input_that_is_not_a_tensor():
    with pytest.raises(TypeError, match=r"^conv2d: input must be a Tensor, got ndarray$"):
        conv2d(np.ones((1, 1, 4, 4)), Tensor(np.ones((1, 1, 2, 2))))


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        ((0, 2, 3), {}, ValueError, r"^Conv2d: in_channels must be a positive integer, got 0$"),
        ((1, True, 3), {}, ValueError, r"^Conv2d: out_channels must be a positive integer, got True$"),
        ((1, 2, 0), {}, ValueError, r"^Conv2d: kernel_size must be an integer >= 1 or a pair of them, got 0$"),
        ((1, 2, 3), {"rng": 0}, TypeError, r"^Conv2d: rng must be a np\.random\.Generator or None, got int"),
        ((1, 2, 3), {"bias": None}, TypeError, r"^Conv2d: bias must be a bool, got NoneType$"),
        ((1, 2, 3), {"dtype": np.int64}, TypeError, r"^Conv2d: dtype must be floating-point, got int64$"),
    ],
)
def test_step3_conv2d_layer_refuses_bad_arguments(args, options, error, message):
    with pytest.raises(error, match=message):
        Conv2d(*args, **options)


# The forward holds the im2col buffer (kept by the graph for the weight's gradient) and the
# output, B·OC·OH·OW·itemsize (the bias added in place), plus BLAS's workspace: (buffer + output)
# + 1 MiB + the default slack. A padded copy of x (2 MiB: there is no padding here), a float64
# buffer, or the bias added out of place (a second output, 3.5 MiB) breaks it.
@memory_budget(BUFFER_BYTES + OUTPUT_BYTES + BLAS_WORKSPACE, slack=DEFAULT_SLACK)
def test_step3_a_conv_forward_holds_the_im2col_buffer_and_the_output(conv_input):
    x, weight, bias = conv_input
    out = conv2d(Tensor(x), Tensor(weight, requires_grad=True), Tensor(bias, requires_grad=True))
    assert out.shape == (B_MEM, OC_MEM, OH_MEM, OW_MEM)


def test_step3_the_graph_keeps_the_columns_only_when_the_weight_needs_a_gradient(conv_input):
    # The contract: the forward saves the columns only when the weight needs a gradient. With a
    # frozen weight, what stays allocated after the forward is the output (the saved weight is
    # the fixture's own array); kept columns would be 15.75 MiB more. tracemalloc counts what is
    # still allocated (NumPy reports its arrays to it), not the peak.
    x, weight, _ = conv_input
    output_bytes = B_MEM * OC_MEM * OH_MEM * OW_MEM * 4
    tracemalloc.start()
    try:
        out = conv2d(Tensor(x, requires_grad=True), Tensor(weight))
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.requires_grad
    assert kept <= output_bytes + DEFAULT_SLACK, (
        f"after the forward, {kept / MiB:.2f} MiB stay allocated, more than the output's "
        f"{output_bytes / MiB:.2f} MiB + 64 KiB: are the columns saved although the weight needs no gradient?"
    )


# --- step 4: pooling and flatten ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [((2, 2), None, (0, 0)), ((3, 2), (1, 2), (1, 0)), ((2, 3), (2, 1), (1, 1))],
    ids=str,
)
def test_step4_pooling_matches_windows_written_out(kernel, stride, padding, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    window_stride = kernel if stride is None else stride
    out_max = MaxPool2d(kernel, stride, padding)(Tensor(x))
    out_avg = AvgPool2d(kernel, stride, padding)(Tensor(x))
    assert_close(out_max, pool_by_windows(x, kernel, window_stride, padding, np.max, -np.inf), what="MaxPool2d")
    assert_close(out_avg, pool_by_windows(x, kernel, window_stride, padding, np.mean, 0.0), what="AvgPool2d")


def test_step4_max_pool_pads_with_minus_infinity_and_avg_pool_with_zeros():
    x = Tensor(np.full((1, 1, 2, 2), -3.0))
    assert_close(MaxPool2d(2, stride=1, padding=1)(x), np.full((1, 1, 3, 3), -3.0))
    assert_close(
        AvgPool2d(2, stride=1, padding=1)(x), [[[[-0.75, -1.5, -0.75], [-1.5, -3.0, -1.5], [-0.75, -1.5, -0.75]]]]
    )


def test_step4_pooling_strides_by_the_kernel_size_by_default():
    assert MaxPool2d(3).stride == (3, 3) and AvgPool2d((2, 3)).stride == (2, 3)
    assert MaxPool2d(2, stride=1).stride == (1, 1)


@given(conv_cases(), seeds)
def test_step4_max_pool_is_at_least_avg_pool_elementwise(case, seed):
    x_shape, w_shape, stride, _, _ = case
    x = np.random.default_rng(seed).standard_normal(x_shape)
    kernel = (min(w_shape[2], x_shape[2]), min(w_shape[3], x_shape[3]))  # same windows, no padding
    big = MaxPool2d(kernel, stride)(Tensor(x)).numpy()
    mean = AvgPool2d(kernel, stride)(Tensor(x)).numpy()
    assert big.shape == mean.shape
    assert np.all(big >= mean - 1e-12)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [((2, 2), None, (0, 0)), ((3, 2), (1, 2), (1, 1)), ((2, 3), 1, (1, 0))], ids=str
)
def test_step4_max_pool_gradients_match_finite_differences_without_ties(kernel, stride, padding, rng):
    x = distinct(rng, (2, 2, 5, 6))
    gradcheck_tensors(f"MaxPool2d({kernel}, {stride}, {padding})", MaxPool2d(kernel, stride, padding), [x])


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [((2, 2), None, (0, 0)), ((3, 2), (1, 2), (1, 1)), ((2, 3), 1, (1, 0))], ids=str
)
def test_step4_avg_pool_gradients_match_finite_differences(kernel, stride, padding, rng):
    x = rng.standard_normal((2, 2, 5, 6))
    gradcheck_tensors(f"AvgPool2d({kernel}, {stride}, {padding})", AvgPool2d(kernel, stride, padding), [x])


def test_step4_max_pool_gives_a_tied_window_s_gradient_to_its_first_maximum_in_row_major_order():
    # one 3×3 window; the maximum 5 is at (0, 2), (1, 0) and (2, 1): the first in row-major order is (0, 2)
    x = Tensor(np.array([[[[1.0, 2.0, 5.0], [5.0, 0.0, 1.0], [3.0, 5.0, 2.0]]]]), requires_grad=True)
    MaxPool2d(3)(x).backward(np.array([[[[7.0]]]]))
    assert_close(x.grad[0, 0], [[0.0, 0.0, 7.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    flat = Tensor(np.zeros((1, 1, 2, 4)), requires_grad=True)  # all tied: the top-left of each window
    MaxPool2d(2)(flat).backward(np.array([[[[1.0, 2.0]]]]))
    assert_close(flat.grad[0, 0], [[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_step4_overlapping_max_windows_add_their_gradients_at_a_shared_maximum():
    x = Tensor(np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]), requires_grad=True)
    MaxPool2d(2, stride=1)(x).backward(np.array([[[[1.0, 10.0]]]]))  # both windows hold the 9
    assert_close(x.grad[0, 0], [[0.0, 11.0, 0.0], [0.0, 0.0, 0.0]])


def test_step4_flatten_keeps_the_batch_and_joins_the_rest_in_row_major_order(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out = flatten(Tensor(x))
    assert out.shape == (2, 60)
    assert_close(out, x.reshape(2, 60))
    assert flatten(Tensor(np.zeros((0, 3, 2, 2)))).shape == (0, 12)
    assert Flatten()(Tensor(x)).shape == (2, 60)
    gradcheck_tensors("flatten", lambda t: flatten(t) * Tensor(np.arange(60.0)), [x])


@pytest.mark.parametrize("pool", [MaxPool2d, AvgPool2d])
def test_step4_pooling_refuses_padding_over_half_the_kernel_and_a_kernel_larger_than_the_input(pool):
    name = pool.__name__
    with pytest.raises(ValueError, match=rf"^{name}: padding must be at most half the kernel size, got \(2, 2\)"):
        pool(3, padding=2)(Tensor(np.ones((1, 1, 5, 5))))
    with pytest.raises(ValueError, match=rf"^{name}: the dilated kernel must fit in the padded input"):
        pool(4)(Tensor(np.ones((1, 1, 3, 5))))
    with pytest.raises(ValueError, match=rf"^{name}: stride must be an integer >= 1 or a pair of them, got 0$"):
        pool(2, stride=0)


@pytest.mark.parametrize("pool", [MaxPool2d, AvgPool2d, Flatten])
def test_step4_pooling_and_flatten_refuse_an_input_that_is_not_a_tensor(pool):
    layer = pool() if pool is Flatten else pool(2)
    name = "flatten" if pool is Flatten else pool.__name__
    with pytest.raises(TypeError, match=rf"^{name}: input must be a Tensor, got ndarray$"):
        layer(np.ones((1, 1, 4, 4)))


def test_step4_an_empty_batch_goes_through_conv_and_pooling_forward_and_backward():
    x = Tensor(np.zeros((0, 2, 5, 6)), requires_grad=True)
    w = Tensor(np.ones((3, 2, 3, 2)), requires_grad=True)
    out = flatten(MaxPool2d(2)(AvgPool2d(2, stride=1)(conv2d(x, w, None, padding=1))))
    assert out.shape == (0, 3 * 2 * 3)
    out.sum().backward()
    assert x.grad.shape == (0, 2, 5, 6)
    assert_close(w.grad, np.zeros((3, 2, 3, 2)), what="no image, no weight gradient")


# --- step 5: BatchNorm2d ------------------------------------------------------------------------


def normalized(x, mean, var, eps, weight, bias):
    """weight · (x − mean) / √(var + eps) + bias, per channel, written out."""
    shape = (1, -1, 1, 1)
    return weight.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)


@given(
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).filter(
        lambda s: s[0] * s[2] * s[3] >= 2
    ),
    seeds,
)
def test_step5_batchnorm_training_output_has_zero_mean_and_unit_variance_per_channel(shape, seed):
    gen = np.random.default_rng(seed)
    x = gen.standard_normal(shape) * gen.uniform(0.5, 3.0) + gen.uniform(-3.0, 3.0)
    x[0, :, 0, 0] += 1.0  # no channel is constant
    bn = BatchNorm2d(shape[1], dtype=np.float64)
    y = bn(Tensor(x)).numpy()
    var = x.var(axis=(0, 2, 3))  # biased: the batch's own variance
    assert_close(y.mean(axis=(0, 2, 3)), np.zeros(shape[1]), atol=1e-10, what="per-channel mean")
    assert_close(y.var(axis=(0, 2, 3)), var / (var + bn.eps), rtol=1e-9, what="per-channel variance, var/(var + eps)")


def test_step5_batchnorm_training_matches_the_formula_with_its_affine_parameters(rng):
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32)
    bn = BatchNorm2d(3)
    bn.weight.data[...] = [0.5, 2.0, -1.0]
    bn.bias.data[...] = [1.0, 0.0, 3.0]
    out = bn(Tensor(x))
    assert out.dtype == np.float32
    expected = normalized(
        x.astype(np.float64), x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)), 1e-5, bn.weight.numpy(), bn.bias.numpy()
    )
    assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_step5_running_statistics_follow_pytorch_s_momentum_with_the_unbiased_variance(rng):
    bn = BatchNorm2d(2, momentum=0.3, dtype=np.float64)
    held_mean, held_var = bn.running_mean, bn.running_var  # updated in place: these stay current
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.standard_normal((3, 2, 4, 5)) * 2.0 + 1.0
        bn(Tensor(x))
        # running = (1 − momentum) · running + momentum · batch, the variance unbiased (n − 1)
        mean = 0.7 * mean + 0.3 * x.mean(axis=(0, 2, 3))
        var = 0.7 * var + 0.3 * x.var(axis=(0, 2, 3), ddof=1)
        assert_close(bn.running_mean, mean, rtol=1e-12, what="running_mean")
        assert_close(bn.running_var, var, rtol=1e-12, what="running_var")
        assert bn.running_mean is held_mean and bn.running_var is held_var, "update the arrays in place ([...] =)"


def test_step5_batchnorm_in_eval_uses_and_keeps_the_running_statistics(rng):
    bn = BatchNorm2d(3, eps=1e-3, dtype=np.float64)
    bn.running_mean[...] = [1.0, -2.0, 0.5]
    bn.running_var[...] = [4.0, 0.25, 1.0]
    bn.weight.data[...] = [1.0, 2.0, 3.0]
    bn.eval()
    x = rng.standard_normal((2, 3, 4, 3))
    assert_close(
        bn(Tensor(x)), normalized(x, bn.running_mean, bn.running_var, 1e-3, bn.weight.numpy(), bn.bias.numpy())
    )
    assert_close(bn.running_mean, [1.0, -2.0, 0.5], rtol=0, atol=0, what="eval changes no running statistic")
    assert_close(bn.running_var, [4.0, 0.25, 1.0], rtol=0, atol=0, what="eval changes no running statistic")
    # a batch of one pixel is fine in eval
    assert bn(Tensor(np.ones((1, 3, 1, 1)))).shape == (1, 3, 1, 1)


def test_step5_batchnorm_gradients_in_training_match_finite_differences(rng):
    x = rng.standard_normal((3, 2, 3, 2))
    weight, bias = rng.standard_normal(2), rng.standard_normal(2)
    bn = BatchNorm2d(2, dtype=np.float64)

    def forward(x, weight, bias):
        bn.weight, bn.bias = weight, bias  # the tensors under test stand in for the Parameters
        return bn(x)

    gradcheck_tensors("BatchNorm2d (training)", forward, [x, weight, bias])


def test_step5_batchnorm_gradients_in_eval_match_finite_differences(rng):
    x = rng.standard_normal((2, 3, 2, 3))
    bn = BatchNorm2d(3, dtype=np.float64).eval()
    bn.running_mean[...] = [0.5, -1.0, 2.0]
    bn.running_var[...] = [2.0, 0.5, 1.5]
    gradcheck_tensors("BatchNorm2d (eval)", bn, [x])


def test_step5_batchnorm_trains_weight_and_bias_and_saves_the_running_statistics():
    bn = BatchNorm2d(3)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert_close(bn.weight, np.ones(3, dtype=np.float32), what="weight starts at ones")
    assert_close(bn.bias, np.zeros(3, dtype=np.float32), what="bias starts at zeros")
    state = returned(bn.state_dict(), "state_dict()")
    assert list(state) == ["weight", "bias", "running_mean", "running_var"]
    assert_close(state["running_var"], np.ones(3, dtype=np.float32))
    state["running_mean"][...] = 9.0
    assert_close(bn.running_mean, np.zeros(3, dtype=np.float32), what="state_dict holds copies")


def test_step5_a_batchnorm_state_dict_round_trip_gives_the_same_eval_outputs(rng):
    a, b = BatchNorm2d(2), BatchNorm2d(2)
    a.weight.data[...] = [2.0, 0.5]
    for _ in range(2):
        a(Tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32) + 1.0))
    storage = b.running_var
    b.load_state_dict(returned(a.state_dict(), "state_dict()"))
    assert b.running_var is storage, "loaded in place: the same array"
    x = Tensor(rng.standard_normal((2, 2, 3, 3)).astype(np.float32))
    assert_close(b.eval()(x), a.eval()(x).numpy(), rtol=0, atol=0)


def test_step5_a_model_holding_a_batchnorm_saves_and_loads_its_running_statistics(rng):
    # 04's state_dict saves every module's buffer_names: a BatchNorm2d inside a model too.
    a = Sequential(Conv2d(1, 2, 3, rng=np.random.default_rng(1)), BatchNorm2d(2))
    b = Sequential(Conv2d(1, 2, 3, rng=np.random.default_rng(2)), BatchNorm2d(2))
    a(Tensor(rng.standard_normal((4, 1, 5, 5)).astype(np.float32)))
    state = returned(a.state_dict(), "state_dict()")
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"]
    b.load_state_dict(state)
    assert_close(b[1].running_mean, a[1].running_mean, rtol=0, atol=0, what="1.running_mean after loading")
    assert_close(b[1].running_var, a[1].running_var, rtol=0, atol=0, what="1.running_var after loading")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda s: s.pop("running_var"),
            KeyError,
            "load_state_dict: state must hold every parameter and buffer, missing running_var",
        ),
        (
            lambda s: s.pop("bias"),
            KeyError,
            "load_state_dict: state must hold every parameter and buffer, missing bias",
        ),
        (
            lambda s: s.update(running_mean=np.zeros(4, dtype=np.float32)),
            ValueError,
            r"load_state_dict: running_mean must have shape \(3,\), got \(4,\)",
        ),
        (
            lambda s: s.update(running_var=np.ones(3)),
            TypeError,
            "load_state_dict: running_var must have dtype float32, got float64",
        ),
        (
            lambda s: s.update(running_var=np.array([1.0, np.nan, 1.0], dtype=np.float32)),
            ValueError,
            "load_state_dict: running_var must be finite, got nan",
        ),
        (
            lambda s: s.update(running_mean=[0.0, 0.0, 0.0]),
            TypeError,
            "load_state_dict: running_mean must be an ndarray, got list",
        ),
    ],
    ids=["missing buffer", "missing parameter", "shape", "dtype", "nan", "list"],
)
def test_step5_a_rejected_batchnorm_state_leaves_parameters_and_buffers_untouched(change, error, message):
    bn = BatchNorm2d(3)
    state = BatchNorm2d(3).state_dict()
    state["weight"][...] = 5.0
    state["running_mean"][...] = 5.0
    change(state)  # one defect: every other entry would load
    with pytest.raises(error, match=message):
        bn.check_state_dict(state)
    with pytest.raises(error, match=message):
        bn.load_state_dict(state)
    assert_close(bn.weight, np.ones(3, dtype=np.float32), what="weight after a rejected load")
    assert_close(bn.running_mean, np.zeros(3, dtype=np.float32), what="running_mean after a rejected load")


def test_step5_batchnorm_refuses_bad_inputs(rng):
    bn = BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"^BatchNorm2d: input must have shape \(B, 3, H, W\), got \(2, 4, 5, 5\)$"):
        bn(Tensor(np.ones((2, 4, 5, 5), dtype=np.float32)))
    with pytest.raises(TypeError, match=r"^BatchNorm2d: input must be a Tensor, got ndarray$"):
        bn(np.ones((2, 3, 5, 5), dtype=np.float32))
    with pytest.raises(TypeError, match=r"^BatchNorm2d: input must have dtype float32, got float64$"):
        bn(Tensor(np.ones((2, 3, 5, 5))))
    with pytest.raises(ValueError, match=r"training needs more than one value per channel, got \(1, 3, 1, 1\)"):
        bn(Tensor(np.ones((1, 3, 1, 1), dtype=np.float32)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_features": 0}, r"^BatchNorm2d: num_features must be a positive integer, got 0$"),
        ({"num_features": 2, "eps": 0.0}, r"^BatchNorm2d: eps must be a real number > 0, got 0\.0$"),
        ({"num_features": 2, "momentum": 1.5}, r"^BatchNorm2d: momentum must be a real number in \[0, 1\], got 1\.5$"),
    ],
)
def test_step5_batchnorm_refuses_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        BatchNorm2d(**options)


N_BN = (16, 16, 64, 64)  # 4 MiB of float32


@pytest.fixture
def bn_input():
    return Tensor(np.random.default_rng(0).standard_normal(N_BN, dtype=np.float32))


# In eval, BatchNorm2d allocates O(output): x · scale and the output, each the input's size, with
# scale and shift of size C. A float64 temporary, or (x − mean) and a division on top, breaks it.
@memory_budget(2 * math.prod(N_BN) * 4, slack=DEFAULT_SLACK)
def test_step5_batchnorm_in_eval_allocates_o_of_the_output(bn_input):
    bn = BatchNorm2d(N_BN[1]).eval()
    out = bn(bn_input)
    assert out.shape == N_BN
