"""Kata 14 profiling. Run: pytest exercises/14_profiling   (one step: -k "step1" ... "step6")."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinytorch.attention import MultiHeadAttention
from tinytorch.autograd import Tensor, is_grad_enabled
from tinytorch.convolution import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d, conv2d_loops
from tinytorch.layers import Dropout, Linear, Module, ReLU, Sequential, Tanh
from tinytorch.profiling import (
    attention_flops,
    block_flops,
    conv2d_flops,
    count_flops,
    count_parameters,
    format_profile,
    gpt_flops,
    linear_flops,
    measure_latency,
    module_flops,
    parameter_bytes,
    peak_memory,
    profile,
)
from tinytorch.testing import memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.transformers import GPT, FeedForward, GPTConfig, TransformerBlock

# --- oracles and fakes written here, independent of the kata -------------------------------------


def loop_matmul(a, b):
    """(M, K) @ (K, N) by three loops; returns the product and the multiply-adds it did, counted."""
    M, K = a.shape
    N = b.shape[1]
    out = np.zeros((M, N))
    macs = 0
    for i in range(M):
        for j in range(N):
            for k in range(K):
                out[i, j] += a[i, k] * b[k, j]
                macs += 1
    return out, macs


class FakeClock:
    """A clock that returns the given times in order, and logs each read in a shared event list."""

    def __init__(self, times, log=None):
        self.times = iter(times)
        self.reads = 0
        self.log = log if log is not None else []

    def __call__(self):
        self.reads += 1
        self.log.append("clock")
        return next(self.times)


class Ticker:
    """A clock that advances by exactly one tick (1 µs) at every read: time is the count of reads."""

    TICK = 1e-6

    def __init__(self):
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.reads * self.TICK


class CountingReLU(ReLU):
    """A ReLU (so every counter knows it) that logs each call, the mode it ran in, and reads a clock k times."""

    def __init__(self, clock=None, reads=0):
        super().__init__()
        self.clock, self.reads, self.calls = clock, reads, []

    def forward(self, x):
        self.calls.append((self.training, is_grad_enabled()))
        for _ in range(self.reads):
            self.clock()
        return super().forward(x)


class Mystery(Module):
    """A layer no FLOP counter knows."""

    def forward(self, x):
        return x


def tensor(shape, rng):
    return Tensor(rng.standard_normal(shape).astype(np.float32))


# --- step 1: the FLOPs of one layer ---------------------------------------------------------------


def test_step1_worked_examples_count_two_flops_per_multiply_add():
    # Linear(3, 4) on (2, 5, 3): 10 rows, each 4 dot products of 3 multiply-adds: 120 MACs
    assert linear_flops(Linear(3, 4), (2, 5, 3)) == (240, (2, 5, 4))
    # Conv2d(1, 4, 3, stride 2, padding 1) on (2, 1, 8, 8): OH = OW = (8 + 2 - 3) // 2 + 1 = 4;
    # 2·4·4·4 = 128 outputs, each 1·3·3 = 9 taps: 1152 MACs
    assert conv2d_flops(Conv2d(1, 4, 3, stride=2, padding=1), (2, 1, 8, 8)) == (2304, (2, 4, 4, 4))


@given(
    lead=st.lists(st.integers(0, 3), min_size=1, max_size=2),
    c_in=st.integers(1, 5),
    c_out=st.integers(1, 5),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_step1_linear_flops_are_twice_the_multiply_adds_a_loop_matmul_counts(lead, c_in, c_out, bias, seed):
    gen = np.random.default_rng(seed)
    layer = Linear(c_in, c_out, bias=bias, rng=gen)
    shape = (*lead, c_in)
    x = gen.standard_normal(shape).astype(np.float32)
    rows = int(np.prod(lead))
    _, macs = loop_matmul(x.reshape(rows, c_in), layer.weight.numpy().T)  # (R, C_in) @ (C_in, C_out)
    flops, out_shape = linear_flops(layer, shape)
    assert flops == 2 * macs
    assert type(flops) is int
    assert out_shape == layer(Tensor(x)).shape  # the shape the forward really gives


@st.composite
def conv_cases(draw):
    """(input shape, Conv2d arguments) for a dilated kernel that fits the padded input."""
    B, C, OC = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    for side, k, p, d in zip((H, W), kernel, padding, dilation, strict=True):
        assume(d * (k - 1) + 1 <= side + 2 * p)
    return (B, C, H, W), dict(
        in_channels=C, out_channels=OC, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation
    )


@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_step1_conv2d_flops_are_twice_the_multiply_adds_of_the_loop_conv(case, seed):
    shape, options = case
    gen = np.random.default_rng(seed)
    layer = Conv2d(**options, rng=gen, dtype=np.float64)
    x = gen.standard_normal(shape)
    # 09's conv2d_loops counts one multiply-add per (window tap) it multiplies, padded zeros included
    out, macs = conv2d_loops(
        x, layer.weight.numpy(), layer.bias.numpy(), options["stride"], options["padding"], options["dilation"]
    )
    assert conv2d_flops(layer, shape) == (2 * macs, out.shape)


def test_step1_a_stride_of_two_does_a_quarter_of_the_work_and_dilation_adds_no_taps():
    shape = (1, 3, 16, 16)
    dense, _ = conv2d_flops(Conv2d(3, 8, 3, padding=1), shape)  # 16×16 windows
    strided, strided_shape = conv2d_flops(Conv2d(3, 8, 3, stride=2, padding=1), shape)  # 8×8 windows
    dilated, dilated_shape = conv2d_flops(Conv2d(3, 8, 3, padding=2, dilation=2), shape)  # a 5×5 span, 9 taps
    assert dense == 2 * 8 * 16 * 16 * 3 * 9
    assert (strided, strided_shape) == (dense // 4, (1, 8, 8, 8))
    assert (dilated, dilated_shape) == (dense, (1, 8, 16, 16))


def test_step1_the_bias_is_not_counted():
    assert linear_flops(Linear(5, 7, bias=False), (3, 5)) == linear_flops(Linear(5, 7), (3, 5))
    assert conv2d_flops(Conv2d(2, 4, 3, bias=False), (1, 2, 5, 5)) == conv2d_flops(Conv2d(2, 4, 3), (1, 2, 5, 5))


def test_step1_an_empty_batch_costs_nothing_and_keeps_its_shape():
    assert linear_flops(Linear(3, 4), (0, 3)) == (0, (0, 4))
    assert conv2d_flops(Conv2d(2, 4, 3, padding=1), (0, 2, 6, 5)) == (0, (0, 4, 6, 5))


def test_step1_a_rule_called_on_another_kind_of_layer_names_it_first():
    # public entries: a Conv2d given to linear_flops has no in_features; it is named, not an AttributeError
    with pytest.raises(TypeError, match="linear_flops: layer must be a Linear, got Conv2d"):
        linear_flops(Conv2d(1, 2, 3), (1, 1, 4, 4))
    with pytest.raises(TypeError, match="linear_flops: layer must be a Linear, got str"):
        linear_flops("Linear(3, 4)", (-1,))  # the layer before the shape
    with pytest.raises(TypeError, match="conv2d_flops: layer must be a Conv2d, got Linear"):
        conv2d_flops(Linear(3, 4), (1, 3, 8, 8))


def test_step1_a_layer_refuses_an_input_shape_it_cannot_take():
    with pytest.raises(
        ValueError, match=r"the input of Linear \(the model\) must have 3 features in its last dimension, got \(2, 4\)"
    ):
        linear_flops(Linear(3, 4), (2, 4))
    with pytest.raises(ValueError, match="Linear '2' must have at least 2 dimensions"):
        linear_flops(Linear(3, 4), (3,), "2")
    with pytest.raises(ValueError, match=r"Conv2d '0' must have 4 dimensions \(B, C, H, W\), got \(8, 256\)"):
        conv2d_flops(Conv2d(1, 4, 3), (8, 256), "0")
    with pytest.raises(ValueError, match=r"must have 3 channels, got \(2, 1, 16, 16\)"):
        conv2d_flops(Conv2d(3, 4, 3), (2, 1, 16, 16))
    with pytest.raises(ValueError, match=r"must fit the dilated kernel \(5, 5\) once padded"):
        conv2d_flops(Conv2d(1, 1, 3, dilation=2), (1, 1, 3, 3))
    # public entries: a negative size would give a negative count, against the contract (>= 0)
    with pytest.raises(ValueError, match=r"linear_flops: shape must be a tuple of integers >= 0, got \(-4, 3\)"):
        linear_flops(Linear(3, 4), (-4, 3))
    with pytest.raises(ValueError, match=r"conv2d_flops: shape must be a tuple of integers >= 0, got \(1, 1, -3, 3\)"):
        conv2d_flops(Conv2d(1, 1, 1), (1, 1, -3, 3))
    with pytest.raises(ValueError, match="linear_flops: shape must be a tuple of integers >= 0"):
        linear_flops(Linear(3, 4), (2.0, 3))


# --- step 2: a whole model, from shapes alone -----------------------------------------------------


@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=5), batch=st.integers(0, 4))
def test_step2_an_mlp_costs_twice_the_sum_of_its_weight_sizes_per_example(widths, batch):
    layers = []
    for c_in, c_out in itertools.pairwise(widths):
        layers += [Linear(c_in, c_out), Tanh()]
    model = Sequential(*layers)
    # each example meets every weight entry once, in one multiply-add
    expected = 2 * batch * sum(a * b for a, b in itertools.pairwise(widths))
    assert module_flops(model, (batch, widths[0])) == (expected, (batch, widths[-1]))
    assert count_flops(model, (batch, widths[0])) == expected


def small_cnn():
    """The 1998 milestone's CNN (milestones/cnn.py): 1×16×16 -> 10 classes."""
    rng = np.random.default_rng(0)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng),
        BatchNorm2d(16),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, rng=rng),
        BatchNorm2d(32),
        ReLU(),
        MaxPool2d(2),
        Conv2d(32, 32, 3, padding=1, rng=rng),
        BatchNorm2d(32),
        ReLU(),
        MaxPool2d(4),
        Flatten(),
        Linear(32, 10, rng=rng),
    )


def test_step2_the_1998_cnn_costs_its_three_convolutions_and_its_classifier():
    # per image: conv1 16·16·16 outputs × 1·9 taps, conv2 32·8·8 × 16·9, conv3 32·4·4 × 32·9, Linear 32·10
    per_image = 2 * (16 * 16 * 16 * 9 + 32 * 8 * 8 * 16 * 9 + 32 * 4 * 4 * 32 * 9 + 32 * 10)
    assert per_image == 959_104
    assert count_flops(small_cnn(), (32, 1, 16, 16)) == 32 * per_image
    assert count_flops(small_cnn(), [1, 1, 16, 16]) == per_image  # a list is a shape too


@given(
    channels=st.integers(1, 3),
    side=st.integers(4, 9),
    kernel=st.integers(1, 3),
    pool=st.sampled_from(["max", "avg"]),
    stride=st.integers(1, 2),
)
def test_step2_the_shapes_a_model_propagates_are_those_its_forward_gives(channels, side, kernel, pool, stride):
    rng = np.random.default_rng(1)
    pooling = MaxPool2d(2, stride=stride, padding=1) if pool == "max" else AvgPool2d(3, stride=stride, padding=1)
    body = Sequential(Conv2d(channels, 4, kernel, rng=rng), BatchNorm2d(4), ReLU(), pooling, Flatten())
    shape = (2, channels, side, side + 1)
    features = body(tensor(shape, rng)).shape  # the forward itself
    _, out_shape = module_flops(body, shape)
    assert out_shape == features
    model = Sequential(body, Dropout(0.5), Linear(features[1], 3, rng=rng))  # a Sequential inside a Sequential
    flops, out_shape = module_flops(model, shape)
    assert out_shape == (2, 3)
    assert flops == module_flops(body[0], shape)[0] + 2 * 2 * features[1] * 3


def test_step2_count_flops_returns_an_exact_python_int_for_huge_shapes():
    # R = 10**20 rows: past int64 (2**63 ≈ 9.2e18) in the rows themselves, so np.prod(shape[:-1]) wraps
    flops = count_flops(Linear(64, 64), (10**10, 10**10, 64))  # 8.192e23 FLOPs
    assert type(flops) is int
    assert flops == 2 * 10**20 * 64 * 64
    assert count_flops(Conv2d(1, 2, 1), (10**20, 1, 1, 1)) == 2 * 10**20 * 2  # B past int64 too


def test_step2_an_unknown_layer_is_refused_by_its_type_and_its_place():
    with pytest.raises(TypeError, match=r"must be one count_flops knows .*, got Mystery '1'"):
        count_flops(Sequential(Linear(2, 3), Mystery()), (1, 2))
    with pytest.raises(TypeError, match=r"got Mystery '0\.1'"):
        count_flops(Sequential(Sequential(ReLU(), Mystery())), (1, 2))
    with pytest.raises(TypeError, match=r"got Mystery \(the model\)"):
        count_flops(Mystery(), (1, 2))


def test_step2_a_shape_that_does_not_fit_names_the_layer_that_refused_it():
    model = Sequential(Linear(8, 16), ReLU(), Linear(32, 2))
    with pytest.raises(
        ValueError, match=r"the input of Linear '2' must have 32 features in its last dimension, got \(4, 16\)"
    ):
        count_flops(model, (4, 8))
    with pytest.raises(ValueError, match=r"the input of Conv2d '0' must have 1 channels, got \(2, 3, 16, 16\)"):
        count_flops(small_cnn(), (2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"the input of MaxPool2d '3' must fit its \(2, 2\) window"):
        count_flops(small_cnn(), (1, 1, 1, 1))


def test_step2_count_flops_refuses_what_is_not_a_model_or_a_shape():
    with pytest.raises(TypeError, match="count_flops: model must be a Module, got list"):
        count_flops([Linear(2, 2)], (1, 2))
    for bad in [(2, -1), (2.0, 2), (True, 2), "2, 2", 4]:
        with pytest.raises(ValueError, match="count_flops: input_shape must be a tuple of integers >= 0"):
            count_flops(Linear(2, 2), bad)


def test_step2_module_flops_refuses_a_shape_that_is_not_one():
    # module_flops is public: it checks its shape as count_flops does (a list is a shape too)
    with pytest.raises(ValueError, match=r"module_flops: shape must be a tuple of integers >= 0, got \(-4, 2\)"):
        module_flops(Linear(2, 3), (-4, 2))
    for bad in [(True, 2), "4, 2", (4, np.float64(2))]:
        with pytest.raises(ValueError, match="module_flops: shape must be a tuple of integers >= 0"):
            module_flops(Sequential(Linear(2, 3)), bad)
    assert module_flops(Linear(2, 3), [4, 2]) == (2 * 4 * 2 * 3, (4, 3))


@pytest.fixture
def cnn():
    return small_cnn()


# Counting a batch of 100,000 images must not build one: the input would be 100 MB of float32.
# The budget is the slack alone: shapes and Python ints, nothing of the input's size.
@memory_budget(0, slack=DEFAULT_SLACK)
def test_step2_count_flops_never_runs_the_model(cnn):
    assert count_flops(cnn, (100_000, 1, 16, 16)) == 100_000 * 959_104


# --- step 3: latency on an injectable clock --------------------------------------------------------

# (duration of a call, gap before the next one): the fake clock's times are built from them
calls = st.lists(st.tuples(st.floats(0.0, 1e-2), st.floats(0.0, 1.0)), min_size=1, max_size=30)


@given(calls, st.integers(0, 3))
def test_step3_statistics_equal_numpys_on_a_fake_clock(spans_and_gaps, warmup):
    spans = [span for span, _ in spans_and_gaps]
    times = []
    now = 100.0
    for span, gap in spans_and_gaps:
        times += [now, now + span]
        now = now + span + gap
    clock = FakeClock(times)
    stats = measure_latency(lambda: None, warmup=warmup, repeats=len(spans), clock=clock)
    samples = np.array([times[2 * i + 1] - times[2 * i] for i in range(len(spans))])  # stop - start
    assert stats.samples == tuple(samples.tolist())
    # the contract: np.percentile with NumPy's default method ("linear"), np.mean, np.std (ddof=0)
    assert stats.median == np.percentile(samples, 50)
    assert stats.p90 == np.percentile(samples, 90)
    assert stats.p99 == np.percentile(samples, 99)
    assert stats.mean == np.mean(samples)
    assert stats.std == np.std(samples)
    assert samples.min() <= stats.median <= stats.p90 <= stats.p99 <= samples.max()
    assert all(type(v) is float for v in (stats.median, stats.p90, stats.p99, stats.mean, stats.std))


def test_step3_a_worked_example_interpolates_between_ranks():
    # samples 1, 2, ..., 10 ms: p90 sits at rank 0.9·9 = 8.1, between 9 and 10 ms
    times = []
    for i in range(10):
        times += [float(i), i + (i + 1) * 1e-3]
    stats = measure_latency(lambda: None, warmup=0, repeats=10, clock=FakeClock(times))
    assert stats.median == pytest.approx(5.5e-3, abs=1e-12)
    assert stats.p90 == pytest.approx(9.1e-3, abs=1e-12)
    assert stats.p99 == pytest.approx(9.91e-3, abs=1e-12)
    assert stats.mean == pytest.approx(5.5e-3, abs=1e-12)
    assert stats.std == pytest.approx(np.sqrt(8.25) * 1e-3, abs=1e-12)  # population variance (n² − 1)/12


@pytest.mark.parametrize("warmup, repeats", [(0, 1), (3, 4), (5, 2)])
def test_step3_warmup_calls_come_first_and_are_never_timed(warmup, repeats):
    log = []
    clock = FakeClock([float(i) for i in range(2 * repeats)], log)
    measure_latency(lambda: log.append("call"), warmup=warmup, repeats=repeats, clock=clock)
    assert log == ["call"] * warmup + ["clock", "call", "clock"] * repeats


def test_step3_the_harness_adds_nothing_between_its_clock_reads_on_a_no_op():
    # A clock that ticks once per read: a no-op timed with nothing else between the two reads
    # measures exactly one tick (the harness's overhead is the clock read itself, and no more).
    clock = Ticker()
    stats = measure_latency(lambda: None, warmup=7, repeats=25, clock=clock)
    assert clock.reads == 2 * 25
    assert stats.samples == pytest.approx([Ticker.TICK] * 25, rel=1e-9)
    assert stats.p99 == pytest.approx(Ticker.TICK, rel=1e-9)


def test_step3_one_repeat_gives_that_sample_for_every_percentile_and_no_spread():
    stats = measure_latency(lambda: None, warmup=0, repeats=1, clock=FakeClock([2.0, 2.5]))
    assert (stats.samples, stats.median, stats.p90, stats.p99, stats.mean, stats.std) == ((0.5,), 0.5, 0.5, 0.5, 0.5, 0)


def test_step3_the_real_clock_is_the_default_and_gives_sane_samples():
    # not a speed test: only that perf_counter is used and samples are non-negative floats
    stats = measure_latency(lambda: None, warmup=1, repeats=5)
    assert len(stats.samples) == 5 and min(stats.samples) >= 0.0


def test_step3_bad_arguments_are_refused_before_anything_runs():
    calls = []
    fn = lambda: calls.append(1)  # noqa: E731
    with pytest.raises(ValueError, match="measure_latency: repeats must be an integer >= 1, got 0"):
        measure_latency(fn, repeats=0)
    with pytest.raises(ValueError, match="measure_latency: warmup must be an integer >= 0, got -1"):
        measure_latency(fn, warmup=-1)
    for bad in (True, 2.0):
        with pytest.raises(ValueError, match="measure_latency: repeats must be an integer >= 1"):
            measure_latency(fn, repeats=bad)
    with pytest.raises(TypeError, match="measure_latency: fn must be callable, got int"):
        measure_latency(3)
    with pytest.raises(TypeError, match="measure_latency: clock must be callable, got float"):
        measure_latency(fn, clock=1.0)
    assert calls == []


def test_step3_a_clock_that_goes_backwards_or_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match=r"measure_latency: the clock must never go backwards, got 2\.0 then 1\.5"):
        measure_latency(lambda: None, warmup=0, repeats=2, clock=FakeClock([0.0, 1.0, 2.0, 1.5]))
    with pytest.raises(TypeError, match="measure_latency: the clock must return a real number, got str"):
        measure_latency(lambda: None, warmup=0, repeats=1, clock=FakeClock(["0", "1"]))


def test_step3_a_clock_that_goes_backwards_between_samples_is_refused():
    # a monotonic clock never goes backwards, between samples either: each reading >= the one before
    with pytest.raises(ValueError, match=r"measure_latency: the clock must never go backwards, got 6\.0 then 1\.0"):
        measure_latency(lambda: None, warmup=0, repeats=2, clock=FakeClock([5.0, 6.0, 1.0, 2.0]))
    # a reading equal to the one before is not backwards
    stats = measure_latency(lambda: None, warmup=0, repeats=2, clock=FakeClock([5.0, 6.0, 6.0, 6.0]))
    assert stats.samples == (1.0, 0.0)


def test_step3_a_clock_reading_that_is_not_a_finite_float_is_refused():
    for bad in (float("nan"), float("inf"), -float("inf"), np.float64("nan"), 10**400):
        with pytest.raises(ValueError, match="measure_latency: the clock must return a finite number"):
            measure_latency(lambda: None, warmup=0, repeats=1, clock=FakeClock([0.0, bad]))
        with pytest.raises(ValueError, match="measure_latency: the clock must return a finite number"):
            measure_latency(lambda: None, warmup=0, repeats=1, clock=FakeClock([bad, 1.0]))
    stats = measure_latency(lambda: None, warmup=0, repeats=2, clock=FakeClock([1, 3, 3, 6]))  # ints
    assert stats.samples == (2.0, 3.0)
    assert all(type(sample) is float for sample in stats.samples)


def test_step3_an_exhausted_clock_is_named_not_a_bare_stop_iteration():
    for times in ([0.0, 1.0, 2.0], [0.0, 1.0]):  # runs out on a stop, then on a start
        with pytest.raises(ValueError, match="measure_latency: the clock must return a reading at every call"):
            measure_latency(lambda: None, warmup=0, repeats=2, clock=FakeClock(times))

    def fn_stops():
        raise StopIteration

    with pytest.raises(StopIteration):  # fn's own StopIteration is fn's, not the clock's
        measure_latency(fn_stops, warmup=0, repeats=1, clock=FakeClock([0.0, 1.0]))


# --- step 4: peak memory ------------------------------------------------------------------------

# What tracemalloc sees beyond the n bytes of the array: NumPy's array object and the call's own
# small Python objects (the reference measures about 300 bytes). The stated slack: 4 KiB.
PEAK_SLACK = 4 * 1024


@given(st.integers(0, 1 << 20))
def test_step4_allocating_n_bytes_peaks_at_n_bytes_within_the_slack(n):
    peak = peak_memory(lambda: np.ones(n, dtype=np.uint8))
    assert type(peak) is int
    assert n <= peak <= n + PEAK_SLACK


def test_step4_temporaries_freed_in_turn_peak_once_and_held_together_peak_twice():
    n = 1 << 20

    def one_after_the_other():
        for _ in range(3):
            np.ones(n, dtype=np.uint8)  # dropped at once

    def together():
        held = [np.ones(n, dtype=np.uint8) for _ in range(3)]
        return len(held)

    assert n <= peak_memory(one_after_the_other) <= n + PEAK_SLACK
    assert 3 * n <= peak_memory(together) <= 3 * n + PEAK_SLACK


def test_step4_memory_held_before_the_call_is_not_counted():
    n = 1 << 20
    tracemalloc.start()
    try:
        before = np.ones(4 * n, dtype=np.uint8)  # traced, and alive during the call
        assert n <= peak_memory(lambda: np.ones(n, dtype=np.uint8)) <= n + PEAK_SLACK
        assert tracemalloc.is_tracing()  # tracing was on: it stays on
        del before
    finally:
        tracemalloc.stop()


def test_step4_an_earlier_peak_is_not_counted_when_tracing_is_already_on():
    n = 1 << 20
    tracemalloc.start()
    try:
        earlier = np.ones(8 * n, dtype=np.uint8)  # traced: the peak so far is 8 MiB ...
        del earlier  # ... and freed before the call
        assert n <= peak_memory(lambda: np.ones(n, dtype=np.uint8)) <= n + PEAK_SLACK
    finally:
        tracemalloc.stop()


def test_step4_a_function_that_stops_tracing_is_refused_not_read_as_zero():
    n = 1 << 20

    def stops_tracing():
        held = np.ones(n, dtype=np.uint8)
        tracemalloc.stop()
        return held

    with pytest.raises(ValueError, match="peak_memory: fn must leave tracemalloc tracing"):
        peak_memory(stops_tracing)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()  # tracing already on: the same
    try:
        with pytest.raises(ValueError, match="peak_memory: fn must leave tracemalloc tracing"):
            peak_memory(stops_tracing)
    finally:
        tracemalloc.stop()


def test_step4_tracing_is_left_off_even_when_the_function_raises():
    assert not tracemalloc.is_tracing()
    peak_memory(lambda: None)
    assert not tracemalloc.is_tracing()

    def boom():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        peak_memory(boom)
    assert not tracemalloc.is_tracing()


def test_step4_peak_memory_refuses_what_it_cannot_call():
    with pytest.raises(TypeError, match="peak_memory: fn must be callable, got ndarray"):
        peak_memory(np.ones(3))


# --- step 5: a per-layer profile of one forward pass ----------------------------------------------


def test_step5_each_row_names_its_layer_and_gives_its_parameters_flops_and_output_shape(rng):
    model = Sequential(Linear(64, 32, rng=rng), ReLU(), Linear(32, 10, rng=rng))
    x = tensor((8, 64), rng)
    rows = profile(model, x, clock=Ticker())
    assert [(r.name, r.kind) for r in rows] == [("0", "Linear"), ("1", "ReLU"), ("2", "Linear")]
    assert [r.parameters for r in rows] == [64 * 32 + 32, 0, 32 * 10 + 10]
    assert [r.flops for r in rows] == [2 * 8 * 64 * 32, 0, 2 * 8 * 32 * 10]
    assert [r.output_shape for r in rows] == [(8, 32), (8, 32), (8, 10)]
    assert sum(r.parameters for r in rows) == count_parameters(model)
    assert parameter_bytes(model) == 4 * count_parameters(model)  # 04's helpers, re-exported


def test_step5_each_row_times_its_layer_alone_between_two_clock_reads(rng):
    clock = Ticker()
    # layers that read the same clock 0, 3 and 5 times while they run
    layers = [CountingReLU(clock, 0), CountingReLU(clock, 3), CountingReLU(clock, 5)]
    rows = profile(Sequential(*layers), tensor((2, 3), rng), warmup=0, clock=clock)
    assert clock.reads == 2 * 3 + (0 + 3 + 5)  # two reads per layer, and none elsewhere
    assert [r.seconds for r in rows] == pytest.approx([1e-6, 4e-6, 6e-6], rel=1e-9)  # each: its reads + 1 tick


def test_step5_the_profile_is_one_inference_pass_after_the_warmup(rng):
    relu = CountingReLU()
    norm = BatchNorm2d(3)
    model = Sequential(Conv2d(2, 3, 3, rng=rng), norm, relu, Flatten())
    model.train()
    clock = Ticker()
    rows = profile(model, tensor((2, 2, 5, 5), rng), warmup=2, clock=clock)
    assert clock.reads == 2 * 4  # the warm-up passes are not timed
    assert relu.calls == [(False, False)] * 3  # 2 warm-up passes + 1 timed: eval mode, no graph
    assert all(module.training for _, module in model.named_modules())  # the modes restored
    assert np.array_equal(norm.running_mean, np.zeros(3))  # eval: the running statistics untouched
    assert sum(r.flops for r in rows) == 2 * 2 * 3 * 3 * 3 * 2 * 9


def test_step5_the_1998_cnn_profile_adds_up_to_count_flops_and_prints_as_a_table(rng, cnn):
    rows = profile(cnn, tensor((2, 1, 16, 16), rng), clock=Ticker())
    assert len(rows) == 14
    assert sum(r.flops for r in rows) == 2 * 959_104
    assert rows[-1].output_shape == (2, 10)
    table = format_profile(rows).splitlines()
    assert len(table) == 14 + 4  # header, rule, 14 layers, rule, total
    assert table[2].split()[:2] == ["0", "Conv2d"]
    assert table[-1].startswith("total") and f"{2 * 959_104:,}" in table[-1]


def test_step5_a_shape_that_does_not_fit_is_refused_before_any_layer_runs(rng):
    first = CountingReLU()
    model = Sequential(first, Linear(8, 4, rng=rng), Linear(5, 2, rng=rng))
    model.train()
    with pytest.raises(ValueError, match="the input of Linear '2' must have 5 features"):
        profile(model, tensor((3, 8), rng), clock=Ticker())
    assert first.calls == []
    assert model.training


def test_step5_modes_are_restored_when_a_layer_raises(rng):
    class BrokenLayerError(Exception):
        pass

    class Broken(ReLU):
        def forward(self, x):
            raise BrokenLayerError("broken layer")

    model = Sequential(Dropout(0.5), Broken())
    model.train()
    with pytest.raises(BrokenLayerError, match="broken layer"):
        profile(model, tensor((2, 3), rng), clock=Ticker())
    assert all(module.training for _, module in model.named_modules())
    assert is_grad_enabled()


def test_step5_the_clock_readings_are_checked_as_measure_latency_checks_them(rng):
    x = tensor((2, 3), rng)

    def run(times):
        model = Sequential(ReLU(), Tanh())
        model.train()
        try:
            return profile(model, x, warmup=0, clock=FakeClock(times))
        finally:
            assert model.training  # restored, whatever the clock did

    with pytest.raises(ValueError, match=r"profile: the clock must never go backwards, got 2\.0 then 1\.5"):
        run([0.0, 1.0, 2.0, 1.5])  # within a layer
    with pytest.raises(ValueError, match=r"profile: the clock must never go backwards, got 6\.0 then 1\.0"):
        run([5.0, 6.0, 1.0, 2.0])  # between two layers
    with pytest.raises(TypeError, match="profile: the clock must return a real number, got str"):
        run(["0", "1", "2", "3"])
    with pytest.raises(ValueError, match="profile: the clock must return a finite number"):
        run([0.0, float("nan"), 2.0, 3.0])
    with pytest.raises(ValueError, match="profile: the clock must return a reading at every call"):
        run([0.0, 1.0, 2.0])
    rows = run([1, 3, 3, 6])  # ints: the seconds are floats
    assert [row.seconds for row in rows] == [2.0, 3.0]
    assert all(type(row.seconds) is float for row in rows)


def test_step5_profile_refuses_what_it_cannot_profile(rng):
    x = tensor((2, 3), rng)
    with pytest.raises(TypeError, match="profile: model must be a Sequential, got Linear"):
        profile(Linear(3, 2), x)
    with pytest.raises(TypeError, match="profile: x must be a Tensor, got ndarray"):
        profile(Sequential(ReLU()), x.numpy())
    with pytest.raises(TypeError, match="profile: clock must be callable, got float"):
        profile(Sequential(ReLU()), x, clock=0.0)
    with pytest.raises(ValueError, match="profile: warmup must be an integer >= 0, got -1"):
        profile(Sequential(ReLU()), x, warmup=-1)
    with pytest.raises(TypeError, match="got Mystery '0'"):
        profile(Sequential(Mystery()), x)


# --- step 6: attention and the transformer ---------------------------------------------------------


def attention_by_loops(attn, x):
    """12's self-attention (no mask) by loop matmuls: returns the output and the multiply-adds counted.

    x: (B, T, C) float64. Query head h reads kv head h // (H / H_kv), as 12's contract says.
    """
    B, T, C = x.shape
    H, H_kv, D = attn.n_heads, attn.n_kv_heads, attn.head_dim
    macs = 0

    def project(layer, rows):  # rows (T, C) @ weightᵀ + bias
        nonlocal macs
        out, counted = loop_matmul(rows, layer.weight.numpy().T)
        macs += counted
        return out if layer.bias is None else out + layer.bias.numpy()

    out = np.zeros((B, T, C))
    for b in range(B):
        q, k, v = (project(getattr(attn, name), x[b]) for name in ("q_proj", "k_proj", "v_proj"))
        heads = []
        for h in range(H):
            g = h // (H // H_kv)
            qh, kh, vh = q[:, h * D : (h + 1) * D], k[:, g * D : (g + 1) * D], v[:, g * D : (g + 1) * D]
            scores, counted = loop_matmul(qh, kh.T)  # (T, D) @ (D, T)
            macs += counted
            p = np.exp(scores / np.sqrt(D) - (scores / np.sqrt(D)).max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            head, counted = loop_matmul(p, vh)  # (T, T) @ (T, D)
            macs += counted
            heads.append(head)
        out[b] = project(attn.out_proj, np.concatenate(heads, axis=1))  # (T, H·D) -> (T, C)
    return out, macs


@st.composite
def attention_cases(draw):
    """(B, T, D, H, H_kv, bias): H_kv divides H."""
    H = draw(st.sampled_from([1, 2, 4]))
    H_kv = draw(st.sampled_from([n for n in (1, 2, 4) if H % n == 0]))
    return draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), H, H_kv, draw(st.booleans())


@given(attention_cases(), st.integers(0, 2**32 - 1))
def test_step6_attention_flops_are_twice_the_multiply_adds_of_a_loop_attention(case, seed):
    B, T, D, H, H_kv, bias = case
    gen = np.random.default_rng(seed)
    attn = MultiHeadAttention(H * D, H, H_kv, bias=bias, rng=gen, dtype=np.float64)
    x = gen.standard_normal((B, T, H * D))
    expected, macs = attention_by_loops(attn, x)
    actual = attn(Tensor(x)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)  # the twin does what attention does
    assert attention_flops(attn, (B, T, H * D)) == (2 * macs, (B, T, H * D))


def test_step6_a_worked_example_and_what_grouped_query_attention_saves():
    # C = 8, H = 2, D = 4, one sequence of 4: projections 4·2·4·8·8 = 2048, attention 4·2·16·4 = 512
    assert attention_flops(MultiHeadAttention(8, 2), (1, 4, 8)) == (2560, (1, 4, 8))
    # H_kv = 1: k_proj and v_proj map 8 -> 4, saving 2·(2·4·8·4) = 512; the scores are as many
    assert attention_flops(MultiHeadAttention(8, 2, 1), (1, 4, 8))[0] == 2560 - 512


def test_step6_causal_attention_counts_every_score_it_computes():
    # a causal mask is applied to scores that were all computed: the count does not halve
    attn = MultiHeadAttention(8, 2)
    assert module_flops(attn, (2, 5, 8)) == attention_flops(attn, (2, 5, 8))
    assert module_flops(Sequential(attn), (2, 5, 8))[0] == attention_flops(attn, (2, 5, 8))[0]


def block_formula(B, T, C, H, H_kv, F):
    """12's and 13's contract formulas: projections, scores and values, the feed-forward."""
    D = C // H
    return 2 * B * T * C * (2 * C + 2 * H_kv * D) + 4 * B * H * T * T * D + 4 * B * T * C * F


@pytest.mark.parametrize(
    ("C", "H", "H_kv", "F", "norm"), [(8, 2, 2, 32, "layer"), (12, 4, 2, 20, "rms"), (6, 3, 1, 5, "layer")]
)
def test_step6_a_block_costs_its_attention_and_its_feed_forward(C, H, H_kv, F, norm):
    block = TransformerBlock(C, H, H_kv, F, norm=norm, rng=np.random.default_rng(0))
    B, T = 2, 5
    assert block_flops(block, (B, T, C)) == (block_formula(B, T, C, H, H_kv, F), (B, T, C))
    assert block_flops(FeedForward(C, F), (B, T, C)) == (4 * B * T * C * F, (B, T, C))
    out = block(Tensor(np.zeros((B, T, C), dtype=np.float32)))
    assert module_flops(block, (B, T, C))[1] == out.shape


@pytest.mark.parametrize(
    "options",
    [
        dict(tie_weights=True, positions="learned"),
        dict(tie_weights=False, positions="rope", norm="rms", n_kv_heads=1),
    ],
    ids=["tied-learned", "untied-rope-gqa"],
)
def test_step6_a_gpt_costs_its_blocks_and_its_head(options):
    config = GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2, n_layers=3, d_ff=24, **options)
    model = GPT(config, rng=np.random.default_rng(0))
    B, T = 2, 6
    H_kv = options.get("n_kv_heads", 2)
    expected = 3 * block_formula(B, T, 8, 2, H_kv, 24) + 2 * B * T * 8 * 16  # L blocks, then (B·T, C) @ (C, V)
    assert count_flops(model, (B, T)) == expected
    logits = model(np.zeros((B, T), dtype=np.int64))
    assert gpt_flops(model, (B, T)) == (expected, logits.shape)


def test_step6_a_rule_called_on_another_kind_of_module_names_it_first():
    with pytest.raises(TypeError, match="attention_flops: attn must be a MultiHeadAttention, got Linear"):
        attention_flops(Linear(8, 8), (1, 4, 8))
    with pytest.raises(TypeError, match="block_flops: block must be a FeedForward or TransformerBlock, got Linear"):
        block_flops(Linear(8, 8), (1, 4, -8))  # the block before the shape
    with pytest.raises(TypeError, match="gpt_flops: model must be a GPT, got TransformerBlock"):
        gpt_flops(TransformerBlock(8, 2), (1, 4))


def test_step6_shapes_that_do_not_fit_attention_or_a_gpt_are_refused():
    with pytest.raises(
        ValueError, match=r"MultiHeadAttention '0' must have shape \(B, T, d_model=8\), got \(2, 3, 5\)"
    ):
        count_flops(Sequential(MultiHeadAttention(8, 2)), (2, 3, 5))
    with pytest.raises(
        ValueError, match=r"TransformerBlock \(the model\) must have 3 dimensions \(B, T, C\), got \(4, 8\)"
    ):
        count_flops(TransformerBlock(8, 2), (4, 8))
    model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2, n_layers=2))
    with pytest.raises(ValueError, match=r"GPT \(the model\) must have T <= context_length=8, got \(1, 9\)"):
        count_flops(model, (1, 9))
    with pytest.raises(ValueError, match=r"GPT \(the model\) must have shape \(B, T\) of token ids, got \(1, 4, 8\)"):
        count_flops(model, (1, 4, 8))
    with pytest.raises(ValueError, match=r"the input of LayerNorm '1\.norm1' must have 8 features"):
        block_flops(TransformerBlock(8, 2), (1, 4, 6), "1")
    with pytest.raises(ValueError, match=r"attention_flops: shape must be a tuple of integers >= 0, got \(1, -4, 8\)"):
        attention_flops(MultiHeadAttention(8, 2), (1, -4, 8))
    with pytest.raises(ValueError, match="block_flops: shape must be a tuple of integers >= 0"):
        block_flops(FeedForward(8, 32), (-1, 4, 8))
    with pytest.raises(ValueError, match=r"gpt_flops: shape must be a tuple of integers >= 0, got \(1, -1\)"):
        gpt_flops(model, (1, -1))


def test_step6_a_gpt_takes_exactly_context_length_tokens():
    config = GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2, n_layers=2, d_ff=32)
    model = GPT(config, rng=np.random.default_rng(0))
    expected = 2 * block_formula(1, 8, 8, 2, 2, 32) + 2 * 1 * 8 * 8 * 16  # T = context_length = 8
    assert count_flops(model, (1, 8)) == expected
    assert model(np.zeros((1, 8), dtype=np.int64)).shape == (1, 8, 16)  # the forward takes it too
