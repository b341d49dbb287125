"""Benchmarks, as a maintainer runs them: each script runs (``--quick``, a second or two, in a clean
child process on the reference) and prints its figures. Nothing here asserts a speed: the
figures are printed for a person to read, and a slow run passes.

What is asserted is what makes the figures mean something: the hand-written NumPy step, the
floor the framework is compared with, computes the framework's very update (same loss,
gradients and parameters), and the check that says so catches a twin that does less.
"""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

from benchmarks import mlp_step
from tinytorch.registry import built, kata_file
from tinytorch.stubs import generate

REFERENCE = {"TINYTORCH_IMPL": "solutions"}
FIGURE = r"\d+\.\d+ \[\d+\.\d+-\d+\.\d+\]"  # a median and its quartiles, as Spread.format prints them
RATIO = r"\d+\.\d+x \[\d+\.\d+-\d+\.\d+\]"  # the same for a ratio: "1.77x [1.65-2.01]"


def start_children(start) -> dict:
    """The scripts' runs, started when collection ends (see ``tests/conftest.py``), side by
    side: nothing here reads a speed."""
    folder = start.mktemp("clone")
    for kata in built():  # a pristine clone: every kata is the generated stub
        stub = kata_file(kata, "exercises", folder)
        stub.parent.mkdir(parents=True)
        stub.write_text(generate(kata))
    stubs = {"TINYTORCH_IMPL": "exercises", "TINYTORCH_EXERCISES": str(folder)}
    return {
        "mlp_step": start.python("-m", "benchmarks.mlp_step", "--quick", env=REFERENCE),
        "op_overhead": start.python("-m", "benchmarks.op_overhead", "--quick", env=REFERENCE),
        "on stubs": start.python("-m", "benchmarks.mlp_step", "--quick", env=stubs),
        "compression": start.python("-m", "benchmarks.compression", "--quick", env=REFERENCE),
        "quantization": start.python("-m", "benchmarks.quantization", "--quick", env=REFERENCE),
        "acceleration": start.python("-m", "benchmarks.acceleration", "--quick", env=REFERENCE),
        "kv_cache": start.python("-m", "benchmarks.kv_cache", "--quick", env=REFERENCE),
        "capstone": start.python("-m", "benchmarks.capstone", "--quick", "--sweep", env=REFERENCE),
    }


@pytest.fixture(scope="module")
def children(early, request) -> dict:
    return early(request.module)


def test_mlp_step_prints_the_ratio_on_both_shapes(children):
    finished = children["mlp_step"].result()
    assert finished.returncode == 0, finished.stdout
    assert re.search(r"^load\s+\d+\.\d\d \d+\.\d\d \d+\.\d\d", finished.stdout, re.MULTILINE), finished.stdout
    assert re.search(r"^blas threads \d+ ", finished.stdout, re.MULTILINE), finished.stdout
    assert re.search(r"^wall clock .*\n.*\n(.*\n){2}cpu time ", finished.stdout, re.MULTILINE), finished.stdout
    for name, batch in (("784-256-10", 128), ("64-128-10", 64)):
        assert re.search(rf"^check {name}\s.*\(same update\)$", finished.stdout, re.MULTILINE), finished.stdout
        row = rf"^{name}\s+{batch}\s+{FIGURE}\s+{FIGURE}\s+{RATIO}\s+<= \d\.\dx (met|missed)$"
        rows = re.findall(row, finished.stdout, re.MULTILINE)
        assert len(rows) == 2, f"not one wall-clock and one cpu-time line match {row!r} in:\n{finished.stdout}"


def test_op_overhead_prints_a_ratio_for_every_op_forward_and_backward(children):
    finished = children["op_overhead"].result()
    assert finished.returncode == 0, finished.stdout
    for op in ("add", "mul", "matmul", "relu"):
        for part in ("forward", "forward+backward"):
            row = rf"^{op} {re.escape(part)}\s+{FIGURE}\s+{FIGURE}\s+-?\d+\.\d\s+{RATIO}$"
            rows = re.findall(row, finished.stdout, re.MULTILINE)
            assert len(rows) == 2, f"not one wall-clock and one cpu-time line match {row!r} in:\n{finished.stdout}"


def test_a_benchmark_on_unwritten_code_says_so_instead_of_timing(children):
    finished = children["on stubs"].result()
    assert finished.returncode == 1, finished.stdout
    assert "the framework is not written yet" in finished.stdout
    assert "TINYTORCH_IMPL=solutions runs the reference" in finished.stdout


@pytest.mark.parametrize("shape", mlp_step.SHAPES, ids=lambda shape: shape.name)
def test_the_hand_written_step_computes_the_frameworks_update(shape):
    assert mlp_step.check_same_update(shape) < 1e-10


class TwiceTheGradients(mlp_step.NumpyStep):
    """Every gradient twice too large: Adam's update barely changes (it divides by √v)."""

    def forward_backward(self, x, target):
        loss = super().forward_backward(x, target)
        self.grads = [2 * grad for grad in self.grads]
        return loss


class NoBiasCorrection(mlp_step.NumpyStep):
    """Adam without bias correction: the right gradients, the wrong update."""

    def adam(self):
        beta1, beta2 = mlp_step.BETAS
        for p, g, m, v in zip(self.params, self.grads, self.exp_avg, self.exp_avg_sq, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= mlp_step.LEARNING_RATE * m / (np.sqrt(v) + mlp_step.EPS)


@pytest.mark.parametrize("twin", [TwiceTheGradients, NoBiasCorrection])
def test_the_check_catches_a_twin_that_computes_something_else(twin):
    assert mlp_step.check_same_update(mlp_step.SHAPES[1], twin=twin) > 1e-3


def test_compression_prints_its_target_and_the_csr_bytes_of_what_it_kept(children):
    finished = children["compression"].result()
    assert finished.returncode == 0, finished.stdout
    target = r"^target\s+at 90% sparsity after fine-tuning, drop <= 2 points: [+-]\d+\.\d\d \((met|missed)\)$"
    assert re.search(target, finished.stdout, re.MULTILINE), finished.stdout
    # CSR bytes = nnz·(value + index bytes) + (rows + 1)·index bytes per layer: float32 values and
    # int32 indices, rows 512 and 10 (the printed model), nnz the printed count of kept weights.
    kept = int(re.search(r"^sparsity .* ([\d,]+) kept$", finished.stdout, re.MULTILINE)[1].replace(",", ""))
    assert re.search(r"^model\s+Linear\(64, 512\) -> ReLU -> Linear\(512, 10\), float32", finished.stdout, re.MULTILINE)
    csr = re.search(r"^90% pruned, fine-tuned, as CSR\s+\d+\.\d\d%\s+([\d,]+)", finished.stdout, re.MULTILINE)
    assert csr, finished.stdout
    assert int(csr[1].replace(",", "")) == kept * (4 + 4) + (512 + 1) * 4 + (10 + 1) * 4


def test_quantization_prints_accuracy_before_and_after_and_int8_weights_a_quarter_of_the_bytes(children):
    finished = children["quantization"].result()
    assert finished.returncode == 0, finished.stdout
    row = r"^\s+0\s+\d+\.\d\d%\s+\d+\.\d\d%\s+[+-]\d+\.\d\d points\s+\d+\s+<= 1 point (met|missed)$"
    assert re.search(row, finished.stdout, re.MULTILINE), finished.stdout
    weights = 64 * 512 + 512 * 10  # the printed model's two weight matrices
    line = rf"^weights\s+float32 {4 * weights:,} bytes -> int8 {weights:,} bytes"
    assert re.search(line, finished.stdout, re.MULTILINE), finished.stdout


def test_acceleration_checks_each_fast_version_against_its_twin_and_prints_the_conv_target(children):
    finished = children["acceleration"].result()
    assert finished.returncode == 0, finished.stdout
    checks = re.findall(r"^check\s+(.+): same result \(largest difference [\d.e+-]+\)$", finished.stdout, re.MULTILINE)
    assert len(checks) >= 6, finished.stdout  # conv, matmul at 24 and at three tile sizes, both fused ops
    for clock in ("wall", "cpu"):
        target = rf"^target\s+loop / taps >= 50x \({clock}\): {RATIO} (met|missed)$"
        assert re.search(target, finished.stdout, re.MULTILINE), finished.stdout


def test_kv_cache_generates_identical_greedy_tokens_and_prints_the_speed_ratio(children):
    finished = children["kv_cache"].result()
    assert finished.returncode == 0, finished.stdout
    assert re.search(r"^check\s+greedy tokens identical$", finished.stdout, re.MULTILINE), finished.stdout
    row = rf"^generate\s+{FIGURE}\s+{FIGURE}\s+{RATIO}\s+>= 5x n/a \(--quick\)$"  # --quick judges no target
    assert len(re.findall(row, finished.stdout, re.MULTILINE)) == 2, finished.stdout  # wall clock and cpu time


def int8_mlp_bytes(hidden: int) -> int:
    """64 -> hidden -> 10 as two QuantizedLinears: int8 codes, a float64 scale and a float32 bias per output."""
    return (64 * hidden + hidden * 10) * 1 + (hidden + 10) * 8 + (hidden + 10) * 4


def test_capstone_reports_both_events_with_bytes_by_formula_and_accepts_the_submission(children):
    finished = children["capstone"].result()
    out = finished.stdout
    assert finished.returncode == 0, out
    assert "Olympics: digits-mlp vs digits-mlp-shrunk0.75-int8 (single-stream)" in out, out
    assert "Olympics: gpt-recompute vs gpt-kv-cache (single-stream)" in out, out
    # Bytes: the float32 baseline by its shapes; the optimized model for the hidden size it prints,
    # which 16's count gives: 512 - round(0.75·512) units kept.
    optimized = re.search(r"^optimized\s+sparsity 0\.75: Linear\(64, (\d+)\) -> ReLU -> Linear\(\1, 10\)", out, re.M)
    assert optimized, out
    hidden = int(optimized[1])
    assert hidden == 512 - int(0.75 * 512 + 0.5)
    baseline = (64 * 512 + 512 + 512 * 10 + 10) * 4
    rows = re.findall(r"^bytes\s+\|\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(\S+)$", out, re.M)
    assert rows == [(str(baseline), str(int8_mlp_bytes(hidden)), f"{baseline / int8_mlp_bytes(hidden):.3g}")], out
    assert re.search(r"^submission\s+accepted: meets Budget\(max_bytes=38410, ", out, re.M), out
    assert re.search(r"^\s+not saved \(--save PATH writes it\)$", out, re.M), out  # nothing written by default
    # --sweep: float32, int8 alone, and int8 after 16's count of pruned units, each by formula.
    sweep = dict(
        re.findall(r"^(float32|int8 only|sparsity 0\.\d+, int8)\s+([\d,]+)\s+\d+\.\d\d%\s+\d+\.\d{3}$", out, re.M)
    )
    expected = {"float32": baseline, "int8 only": int8_mlp_bytes(512)}
    for sparsity in (0.5, 0.75, 0.9):
        expected[f"sparsity {sparsity}, int8"] = int8_mlp_bytes(512 - int(sparsity * 512 + 0.5))
    assert {name: int(size.replace(",", "")) for name, size in sweep.items()} == expected, out
    # Generation: the cached tokens are recompute's (both records' accuracy 1), and tokens per
    # second is the printed token count over the printed p50 (both written with 6 digits).
    assert re.search(r"^check\s+greedy tokens identical: accuracy 1 ", out, re.M), out
    generation = out[out.index("Olympics: gpt-recompute") :]
    assert re.search(r"^accuracy\s+\|\s+1\s+\|\s+1\s+\|\s+1$", generation, re.M), out
    tokens = int(re.search(r"^work\s+(\d+) new tokens, greedy", out, re.M)[1])
    p50 = [float(v) for v in re.search(r"^p50\s+\|\s+(\S+)\s+\|\s+(\S+)", generation, re.M).groups()]
    rate = [float(v) for v in re.search(r"^tokens_per_second\s+\|\s+(\S+)\s+\|\s+(\S+)", generation, re.M).groups()]
    assert rate == pytest.approx([tokens / p for p in p50], rel=1e-5), out


@pytest.mark.parametrize(
    "script, argv, message",
    [
        ("kv_cache", ["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
        ("acceleration", ["--repeats", "x"], "--repeats: must be an integer >= 1, got 'x'"),
        ("op_overhead", ["--repeats", "-3"], "--repeats: must be an integer >= 1, got -3"),
        ("mlp_step", ["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
        ("compression", ["--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
        ("quantization", ["--seeds", "0", "-2"], "--seeds: must be an integer >= 0, got -2"),
        ("capstone", ["--save", ""], "--save: must be a file in a folder that exists, got ''"),
        ("capstone", ["--save", "."], "--save: must be a file in a folder that exists, got '.'"),
        ("capstone", ["--save", "no/such/folder/record.json"], "must be a file in a folder that exists"),
    ],
)
def test_a_bad_option_is_a_usage_error_before_anything_runs(capsys, script, argv, message):
    module = importlib.import_module(f"benchmarks.{script}")
    with pytest.raises(SystemExit) as stopped:
        module.main(argv)
    assert stopped.value.code == 2  # argparse's usage error: nothing was trained or timed
    assert message in capsys.readouterr().err
