"""Milestones, end to end: each one runs as a learner runs it (``python -m milestones NAME`` from
the repository root, in a clean child process) and meets its targets on the reference; a
missed target, an unknown name and unwritten code each end in a non-zero exit that says why.
The first lines say, per module, whose code runs; ``--mine`` / ``TINYTORCH_MINE`` make only the
named katas the learner's; unwritten code lists every kata the milestone needs that has
functions still to write (read from the files: see ``unwritten``).

The runs are real training runs, so the mlp test also holds the reference to its 5 s training
budget (measured ~1 s on a busy 2-core machine). The cnn milestone's full run (~11 s of training)
is measured from the command line (milestones/README.md); the suite runs it shortened
(``--epochs 2``) and checks its report. So with the transformer milestone (``--epochs 1``), whose
data (the held-out split, the examples, the text's split and windows, the unigram baseline,
the chunked sample) and the equality of its two exact-match counts are also checked in process.
The mlperf milestone's full run (40-50 s: 256 tokens recomputed four times) is measured from
the command line too; the suite runs it shortened (``--epochs 2 --tokens 8 --save DIR``, under
2 s) and checks its report against formulas (the bytes of both digits models from their
layer sizes, the ratios of the figures its records hold), the records it saved (read back with
19's ``load_record``), and ``--epochs 0`` (an untrained baseline) for missed targets; the
pruning fold (removed units' constants in fc2's bias) is checked in process against NumPy.
A milestone that needs a kata not built yet (planned in ``tinytorch.registry``) is listed,
refuses to start, and its tests are skipped.

Every child runs in the background (``start_children``, see ``tests/conftest.py``): started when
collection ends, it runs on the spare core while this process runs other tests, and a test only
reads its finished output.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from milestones import BY_NAME as MILESTONES
from milestones import Milestone
from milestones.__main__ import main, unwritten
from tinytorch.registry import BY_NAME, built, kata_file
from tinytorch.stubs import generate, targets, write_stubs

REFERENCE = {"TINYTORCH_IMPL": "solutions"}
MISSED = 1  # a target missed, or code not written yet
USAGE = 2  # argparse's exit code for a bad command line


def banner(output: str) -> dict[str, tuple[str, str]]:
    """The banner's ``tinytorch.<name> <- <file> (<whose>)`` lines, as {name: (file, whose)}."""
    lines = re.findall(r"^  tinytorch\.(\w+)\s+<- (.+) \((your code|the reference)\)$", output, re.MULTILINE)
    return {name: (file, whose) for name, file, whose in lines}


def reference_banner(name: str) -> dict[str, tuple[str, str]]:
    """The banner of milestone ``name`` on the reference: every kata it needs, from solutions/."""
    return {need: (f"solutions/{BY_NAME[need].folder}/{need}.py", "the reference") for need in MILESTONES[name].needs}


def linear_parameters(fan_in: int, fan_out: int) -> int:
    """A Linear layer's weights and biases."""
    return fan_in * fan_out + fan_out


def conv_parameters(in_channels: int, out_channels: int, kernel: int) -> int:
    """A Conv2d layer's weights (OC, C, K, K) and biases (OC,), plus its BatchNorm2d's weight and bias (OC each)."""
    return out_channels * in_channels * kernel * kernel + out_channels + 2 * out_channels


CNN_PARAMETERS = (
    conv_parameters(1, 16, 3) + conv_parameters(16, 32, 3) + conv_parameters(32, 32, 3) + linear_parameters(32, 10)
)
MLP_PARAMETERS = linear_parameters(256, 170) + linear_parameters(170, 10)


def int8_linear_bytes(fan_in: int, fan_out: int) -> int:
    """15's QuantizedLinear's state: int8 weights (1 byte each), a float64 scale and a float32 bias per output."""
    return fan_in * fan_out + 8 * fan_out + 4 * fan_out


# The digits MLP 64-512-10 in float32, and mlperf's optimized one: 75% of the 512 hidden units
# pruned (16's rule prunes ⌊0.75·512 + ½⌋ = 384), both Linears then int8.
MLPERF_KEPT = 512 - math.floor(0.75 * 512 + 0.5)
MLPERF_BASELINE_BYTES = 4 * (linear_parameters(64, 512) + linear_parameters(512, 10))
MLPERF_OPTIMIZED_BYTES = int8_linear_bytes(64, MLPERF_KEPT) + int8_linear_bytes(MLPERF_KEPT, 10)
MLPERF_TOKENS = 8  # the shortened run's new tokens


def gpt_parameters(vocab: int, context: int, width: int, layers: int, *, tied: bool) -> int:
    """A GPT with learned positions, LayerNorms, biases, one kv head per head and d_ff = 4·width.

    Token and position tables; per block two LayerNorms (weight and bias), the four attention
    projections and the feed-forward's two Linears; the final LayerNorm; a head without bias
    unless it is the token table (tied).
    """
    block = 2 * 2 * width + 4 * linear_parameters(width, width)
    block += linear_parameters(width, 4 * width) + linear_parameters(4 * width, width)
    head = 0 if tied else width * vocab
    return vocab * width + context * width + layers * block + 2 * width + head


def lessons_characters() -> int:
    """How many distinct characters the lessons hold (every exercises/*/README.md, as read now)."""
    root = Path(__file__).resolve().parent.parent
    return len(set("".join(path.read_text(encoding="utf-8") for path in root.glob("exercises/*/README.md")) + "\n"))


def runnable(name: str):
    """``name`` as a pytest parameter, skipped while a kata it needs is planned but not built."""
    unbuilt = MILESTONES[name].unbuilt()
    reason = f"{name} needs kata {', '.join(unbuilt)}, not built yet"
    return pytest.param(name, marks=pytest.mark.skipif(bool(unbuilt), reason=reason))


# name -> (patterns the report must show, each a regex), with parameter counts from the formula
# and float32 bytes (4 per parameter).
EXPECTED = {
    "perceptron": [
        r"parameters\s+3 \(12 bytes\)",  # two slopes and a bias
        r"target\s+training accuracy = 100%\s+100\.00%\s+met",
        r"target\s+converges in <= 100 epochs\s+\d+ epochs\s+met",
        r"target\s+mistakes <= Novikoff's bound\s+\d+\s+met",
    ],
    "xor": [
        rf"parameters\s+{linear_parameters(2, 2)} \({4 * linear_parameters(2, 2)} bytes\)",
        rf"parameters\s+{linear_parameters(2, 8) + linear_parameters(8, 2)} "
        rf"\({4 * (linear_parameters(2, 8) + linear_parameters(8, 2))} bytes\)",
        r"target\s+single layer accuracy <= 75%\s+(25|50|75)\.00%\s+met",
        r"target\s+hidden layer accuracy = 100%\s+100\.00%\s+met",
    ],
    "mlp": [
        rf"parameters\s+{linear_parameters(64, 512) + linear_parameters(512, 10):,} "
        rf"\({4 * (linear_parameters(64, 512) + linear_parameters(512, 10)):,} bytes\)",
        r"test accuracy\s+\d+\.\d\d% \(\d+ of 360\)",
        r"target\s+test accuracy >= 97%\s+\d+\.\d\d%\s+met",
        r"target\s+training time <= 5 s\s+\d+\.\d\d s\s+met",
    ],
}
NAMES = [runnable(name) for name in EXPECTED]  # every milestone with a full run in the suite
ALL_NAMES = [runnable(name) for name in MILESTONES]


def needs_script(name: str) -> str:
    """A script that imports milestone ``name``'s module and prints the tinytorch modules loaded."""
    return (
        f"import sys, importlib; importlib.import_module({MILESTONES[name].module!r}); "
        "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('tinytorch.')))"
    )


def start_children(start) -> dict:
    """Every child of this file, by name, started when collection ends (see ``tests/conftest.py``);
    also the folders their tests read ("only 06 written", "broken stub", "plot"). They start in
    the order of the tests that read them, so a test rarely waits for a child queued behind
    later ones, and this process runs the tests that need no child while the last ones finish.
    A milestone whose katas are not all built starts nothing (its tests are skipped)."""

    def milestone(*args: str, env: dict[str, str] | None = None, timeout: float = 45):
        return start.python("-m", "milestones", *args, env=env, timeout=timeout)

    def can_run(name: str) -> bool:
        return not MILESTONES[name].unbuilt()

    started = {"listing": milestone()}
    for name in EXPECTED:
        if can_run(name):
            started[name] = milestone(name, env=REFERENCE)
    if can_run("cnn"):
        started["cnn"] = milestone("cnn", "--epochs", "2", env=REFERENCE)
    if can_run("transformer"):
        # About 7 s of CPU time, most of it whatever the epochs (1,000 greedy decodings, the
        # sample): 24-27 s at load 9-12 on the 2-core machine, so a longer timeout than 45 s.
        started["transformer"] = milestone("transformer", "--epochs", "1", env=REFERENCE, timeout=120)
    if can_run("mlperf"):
        # 1.6 s of CPU measured: 2 epochs of the digits MLP and 2 of fine-tuning, 8 tokens generated
        # 4 times each way (the full run's 256 tokens: 40-50 s, measured from the command line).
        records = start.mktemp("records")
        started["mlperf records"] = records
        args = ("--epochs", "2", "--tokens", str(MLPERF_TOKENS), "--save", str(records))
        started["mlperf"] = milestone("mlperf", *args, env=REFERENCE, timeout=90)
    started["missed target"] = milestone("mlp", "--epochs", "0", env=REFERENCE)  # an untrained net: ~10% right
    if can_run("mlperf"):
        started["mlperf missed"] = milestone("mlperf", "--epochs", "0", "--tokens", "2", env=REFERENCE)
        started["mlperf past the context"] = milestone("mlperf", "--tokens", "497", env=REFERENCE)
    started["unknown name"] = milestone("lenet", env=REFERENCE)
    started["negative epochs"] = milestone("xor", "--epochs", "-1", env=REFERENCE)

    # Pristine stubs of every built kata: nothing written yet.
    stubs = write_stubs(start.mktemp("stubs"))
    started["unwritten"] = milestone("perceptron", env={"TINYTORCH_EXERCISES": str(stubs)})

    # A learner who finished 06 and nothing else: the reference as their 06, stubs elsewhere.
    only_06 = write_stubs(start.mktemp("exercises"))
    optimizers = BY_NAME["optimizers"]
    shutil.copy(kata_file(optimizers, "solutions"), kata_file(optimizers, "exercises", only_06))
    started["only 06 written"] = only_06
    env = {"TINYTORCH_EXERCISES": str(only_06)}
    started["partial"] = milestone("mlp", env=env)
    started["mine --mine"] = milestone("mlp", "--epochs", "1", "--mine", "06", env=env)
    started["mine TINYTORCH_MINE"] = milestone("mlp", "--epochs", "1", env={**env, "TINYTORCH_MINE": "06"})
    started["unknown in mine"] = milestone("xor", "--mine", "adam")

    # Pristine stubs, the first kata's broken by a missing colon at the end of its file.
    broken = kata_file(BY_NAME["tensor"], "exercises", write_stubs(start.mktemp("broken")))
    line = broken.read_text().count("\n") + 1
    with broken.open("a") as stub:
        stub.write("def forgot_a_colon(x)\n    return x\n")
    started["broken stub"] = (broken, line)
    started["syntax error"] = milestone("perceptron", env={"TINYTORCH_EXERCISES": str(broken.parent.parent)})

    for name in MILESTONES:
        if can_run(name):
            started[f"needs {name}"] = start.python("-c", needs_script(name), env=REFERENCE)

    plot = start.mktemp("plot") / "xor.png"
    started["plot"] = plot
    started["plotted"] = milestone("xor", "--plot", str(plot), env=REFERENCE)
    return started


@pytest.fixture(scope="module")
def children(early, request) -> dict:
    return early(request.module)


def test_without_a_name_every_milestone_is_listed_with_its_year(children):
    finished = children["listing"].result()
    assert finished.returncode == 0, finished.stdout
    years = (("perceptron", 1958), ("xor", 1969), ("mlp", 1986), ("cnn", 1998), ("transformer", 2017), ("mlperf", 2018))
    for name, year in years:
        assert re.search(rf"^\s+{name}\s+{year}\s", finished.stdout, re.MULTILINE), finished.stdout
    assert "options of its own: --tokens N, --save DIR" in finished.stdout  # mlperf's, listed under it


@pytest.mark.parametrize("name", NAMES)
def test_each_milestone_meets_its_targets_on_the_reference(children, name):
    finished = children[name].result()
    assert finished.returncode == 0, finished.stdout
    assert re.search(rf"^running \d{{4}} {name} with:$", finished.stdout, re.MULTILINE), finished.stdout
    assert banner(finished.stdout) == reference_banner(name), finished.stdout
    for pattern in EXPECTED[name]:
        assert re.search(pattern, finished.stdout), f"no line matches {pattern!r} in:\n{finished.stdout}"
    assert finished.stdout.rstrip().endswith("every target met"), finished.stdout


@pytest.mark.parametrize("name", [runnable("cnn")])
def test_the_cnn_shortened_reports_both_models_and_exits_non_zero_exactly_when_it_misses(children, name):
    # The full run (10 epochs) is measured from the command line: milestones/README.md. Two
    # epochs check the report: parameters from the formulas, float32 bytes, both accuracies,
    # every target with its verdict, and an exit status that agrees with them.
    finished = children[name].result()  # python -m milestones cnn --epochs 2, on the reference
    assert banner(finished.stdout) == reference_banner(name), finished.stdout
    for count in (CNN_PARAMETERS, MLP_PARAMETERS):
        assert re.search(rf"^    parameters\s+{count:,} \({4 * count:,} bytes\)", finished.stdout, re.MULTILINE), (
            finished.stdout
        )
    assert len(re.findall(r"^    test accuracy\s+\d+\.\d\d% \(\d+ of 360\)$", finished.stdout, re.MULTILINE)) == 2
    assert len(re.findall(r"^    training time\s+\d+\.\d\d s$", finished.stdout, re.MULTILINE)) == 2
    assert re.search(r"^    training\s+2 epochs, lr", finished.stdout, re.MULTILINE), finished.stdout
    assert re.search(r"^    training\s+8 epochs, lr", finished.stdout, re.MULTILINE), finished.stdout  # the MLP: 4×
    ratio = f"{MLP_PARAMETERS / CNN_PARAMETERS:.2f}×"
    assert re.search(rf"target\s+MLP parameters >= 3× the CNN's\s+{ratio}\s+met", finished.stdout), finished.stdout
    rules = [
        r"CNN test accuracy >= 95%\s+\d+\.\d\d%",
        r"CNN training time <= 60 s\s+\d+\.\d\d s",
        r"MLP accuracy <= CNN's - 10 points\s+-?\d+\.\d\d below",
    ]
    for rule in rules:
        assert re.search(rf"^  target\s+{rule}\s+(met|MISSED)$", finished.stdout, re.MULTILINE), finished.stdout
    missed = re.findall(r"^MISSED target: (.+) \(measured .+\)$", finished.stdout, re.MULTILINE)
    verdicts = re.findall(r"^  target\s+(.+?)\s{2,}\S.*\s(met|MISSED)$", finished.stdout, re.MULTILINE)
    assert missed == [rule for rule, verdict in verdicts if verdict == "MISSED"], finished.stdout
    assert finished.returncode == (MISSED if missed else 0), finished.stdout
    assert finished.stdout.rstrip().endswith("every target met") == (not missed), finished.stdout


@pytest.mark.parametrize("name", [runnable("transformer")])
def test_the_transformer_shortened_reports_both_models_and_exits_non_zero_exactly_when_it_misses(children, name):
    # The full run is measured from the command line: milestones/README.md. One epoch of each
    # model checks the report: parameters from the formula, float32 bytes, the held-out exact
    # match, the validation losses, the sample, and an exit status that agrees with the verdicts.
    # The run (--epochs 1, on the reference, a 120 s timeout) is started in start_children.
    finished = children[name].result()
    out = finished.stdout
    assert banner(out) == reference_banner(name), out
    # reversal: 11 tokens (10 digits, the separator), context 2·12 + 1, tied head
    assert re.search(
        r"^    model\s+GPT 2 layers, d_model 32, 2 heads, context 25, vocabulary 11$", out, re.MULTILINE
    ), out
    reverser = gpt_parameters(11, 25, 32, 2, tied=True)
    assert re.search(rf"^    parameters\s+{reverser:,} \({4 * reverser:,} bytes\)$", out, re.MULTILINE), out
    assert re.search(
        r"^    data\s+1,024 training sequences, 1,000 held out \(none in both; seed 0\)$", out, re.MULTILINE
    )
    assert re.search(
        r"^    exact match\s+\d+\.\d\d% \(\d+ of 1000 held-out sequences, greedy decoding\)$", out, re.MULTILINE
    )
    assert re.search(r"^    training\s+1 epochs × 32 batches of 32$", out, re.MULTILINE), out
    # lessons: one token per distinct character of the lessons, context 32, untied head
    vocab = lessons_characters()
    model = rf"^    model\s+GPT 2 layers, d_model 64, 4 heads, context 32, vocabulary {vocab}$"
    assert re.search(model, out, re.MULTILINE), out
    writer = gpt_parameters(vocab, 32, 64, 2, tied=False)
    assert re.search(rf"^    parameters\s+{writer:,} \({4 * writer:,} bytes\)$", out, re.MULTILINE), out
    assert re.search(r"^    validation\s+\d+\.\d{3} untrained, then \d+\.\d{3}$", out, re.MULTILINE), out
    assert re.search(r"^    sample\s+160 characters after 'The '", out, re.MULTILINE), out
    assert re.search(r"^\s+\|The ", out, re.MULTILINE), out  # the sample starts with its prompt
    assert len(re.findall(r"^    training time\s+\d+\.\d\d s \(\d+\.\d\d s of CPU time\)$", out, re.MULTILINE)) == 2
    rules = [
        r"reversal exact match >= 99%\s+\d+\.\d\d%",
        r"reversal training time <= 60 s\s+\d+\.\d\d s",
        r"validation loss falls\s+\d+\.\d{3} -> \d+\.\d{3}",
        r"validation loss < unigram's\s+\d+\.\d{3} vs \d+\.\d{3}",
    ]
    for rule in rules:
        assert re.search(rf"^  target\s+{rule}\s+(met|MISSED)$", out, re.MULTILINE), out
    missed = re.findall(r"^MISSED target: (.+) \(measured .+\)$", out, re.MULTILINE)
    verdicts = re.findall(r"^  target\s+(.+?)\s{2,}\S.*\s(met|MISSED)$", out, re.MULTILINE)
    assert missed == [rule for rule, verdict in verdicts if verdict == "MISSED"], out
    assert finished.returncode == (MISSED if missed else 0), out
    assert out.rstrip().endswith("every target met") == (not missed), out


MLPERF_FIGURES = ("count", "mean", "std", "min", "p50", "p90", "p99", "max", "p50_low", "p50_high")  # 19's summarize


def report_row(out: str, name: str) -> list[str]:
    """The cells of a side-by-side row of mlperf's report (``    NAME  left  right  ratio``), all rows so named."""
    return re.findall(rf"^    {name}\s+(\S+(?: \S+)?)\s{{2,}}(\S+(?: \S+)?)\s{{2,}}(.+)$", out, re.MULTILINE)


@pytest.mark.parametrize("name", [runnable("mlperf")])
def test_the_mlperf_shortened_reports_figures_that_match_the_formulas_and_its_saved_records(children, name):
    # python -m milestones mlperf --epochs 2 --tokens 8 --save DIR, on the reference (start_children)
    from tinytorch.benchmarking import load_record  # 19's reader: validates every field

    finished = children[name].result()
    out = finished.stdout
    assert banner(out) == reference_banner(name), out
    records = {path.stem: load_record(path) for path in children["mlperf records"].iterdir()}
    assert sorted(records) == ["digits-baseline", "digits-optimized", "generation-cached", "generation-recompute"]
    for path in children["mlperf records"].iterdir():  # what save_record wrote is JSON of the record itself
        assert json.loads(path.read_text(encoding="utf-8")) == records[path.stem]
    baseline, optimized = records["digits-baseline"], records["digits-optimized"]
    recompute, cached = records["generation-recompute"], records["generation-cached"]
    for record in records.values():
        assert record["scenario"] == "single-stream"
    # digits: the bytes from the layer sizes; 200 one-digit queries each; the accuracy gates
    assert set(baseline["figures"]) == set(optimized["figures"]) == {*MLPERF_FIGURES, "bytes"}
    assert baseline["figures"]["bytes"] == MLPERF_BASELINE_BYTES == 153_640
    assert optimized["figures"]["bytes"] == MLPERF_OPTIMIZED_BYTES == 11_128
    assert baseline["figures"]["count"] == optimized["figures"]["count"] == 200
    assert baseline["target"] == 0.97
    assert optimized["target"] == pytest.approx(baseline["accuracy"] - 0.01, abs=1e-12)
    for record in (baseline, optimized):
        assert round(360 * record["accuracy"]) == pytest.approx(360 * record["accuracy"], abs=1e-9)  # of 360 digits
    assert re.search(rf"on fc1's weight: {512 - MLPERF_KEPT} removed, {MLPERF_KEPT} kept", out), out
    shrink = MLPERF_BASELINE_BYTES / MLPERF_OPTIMIZED_BYTES
    assert report_row(out, "bytes") == [(f"{MLPERF_BASELINE_BYTES:,}", f"{MLPERF_OPTIMIZED_BYTES:,}", f"{shrink:.2f}×")]
    drop = 100 * (optimized["accuracy"] - baseline["accuracy"])
    accuracy_row = (f"{100 * baseline['accuracy']:.2f}%", f"{100 * optimized['accuracy']:.2f}%", f"{drop:+.2f} points")
    assert report_row(out, "accuracy") == [accuracy_row]
    # the latency rows: the records' own figures, and their ratios. The digits on the wall clock;
    # generation on the CPU clock (its records' p50, p99), the wall clock alongside (wall_p50, wall_p99).
    for figure in ("p50", "p99"):
        b, o = baseline["figures"][figure], optimized["figures"][figure]
        r, c = recompute["figures"][figure], cached["figures"][figure]
        wall_r, wall_c = recompute["figures"][f"wall_{figure}"], cached["figures"][f"wall_{figure}"]
        assert report_row(out, f"{figure} wall") == [
            (f"{1e3 * b:.3f} ms", f"{1e3 * o:.3f} ms", f"{b / o:.2f}×"),
            (f"{wall_r:.3f} s", f"{wall_c:.3f} s", f"{wall_r / wall_c:.2f}×"),
        ]
        assert report_row(out, f"{figure} cpu") == [(f"{r:.3f} s", f"{c:.3f} s", f"{r / c:.2f}×")]
    # generation: 8 tokens, 3 timed runs each, tokens per second from the p50, all tokens equal
    for record in (recompute, cached):
        assert set(record["figures"]) == {*MLPERF_FIGURES, "tokens_per_second", "wall_p50", "wall_p99"}
        assert record["figures"]["count"] == 3
        assert record["figures"]["tokens_per_second"] == pytest.approx(MLPERF_TOKENS / record["figures"]["p50"])
        assert record["accuracy"] == record["target"] == 1.0
    assert re.search(rf"prompt 16 tokens, {MLPERF_TOKENS} new, greedy", out), out
    rate = (f"{MLPERF_TOKENS / recompute['figures']['p50']:.1f}", f"{MLPERF_TOKENS / cached['figures']['p50']:.1f}")
    assert report_row(out, "tokens/s") == [(*rate, f"tokens equal: {MLPERF_TOKENS} of {MLPERF_TOKENS}")]
    assert re.search(rf"^    speed target\s+not judged at {MLPERF_TOKENS} tokens", out, re.MULTILINE), out
    assert not re.search(r"^  target\s+cached >= 5× faster", out, re.MULTILINE), out  # not judged: no target
    saved = f"4 of 4 made (19's make_record, single-stream); 4 saved to {children['mlperf records']}"
    assert re.search(rf"^  records\s+{re.escape(saved)}", out, re.MULTILINE), out
    targets = [
        r"baseline accuracy >= 97%\s+\d+\.\d\d%",
        rf"optimized bytes >= 4× fewer\s+{shrink:.2f}×",
        rf"optimized accuracy >= baseline - 1 point\s+{re.escape(f'{drop:+.2f}')} points",
        rf"cached tokens = recompute's\s+{MLPERF_TOKENS} of {MLPERF_TOKENS}",
    ]
    for rule in targets:
        assert re.search(rf"^  target\s+{rule}\s+met$", out, re.MULTILINE), out
    assert finished.returncode == 0, out
    assert out.rstrip().endswith("every target met"), out


@pytest.fixture
def mlperf_milestone():
    """``milestones.mlperf``, imported in this process (skipped until every kata it needs is built)."""
    if MILESTONES["mlperf"].unbuilt():
        pytest.skip(f"mlperf needs kata {', '.join(MILESTONES['mlperf'].unbuilt())}, not built yet")
    return importlib.import_module("milestones.mlperf")


def test_removing_pruned_units_folds_their_constant_outputs_into_the_next_bias(mlperf_milestone):
    # A unit whose row of fc1 is pruned outputs relu(b1[j]) whatever the input: the network
    # without it, its constant in fc2's bias, computes what the network with the row zeroed does.
    from tinytorch.autograd import Tensor
    from tinytorch.layers import Linear, ReLU, Sequential

    rng = np.random.default_rng(0)
    model = Sequential(Linear(6, 8, rng=rng), ReLU(), Linear(8, 3, rng=rng))
    b1 = np.array([0.5, -0.4, 0.3, 0.2, -0.1, 0.7, -0.6, 0.25], dtype=np.float32)
    model[0].bias.data[...] = b1
    keep = np.array([True, False, False, True, False, True, True, False])  # removed: b1 0.3 > 0, -0.4, -0.1 < 0
    W1, W2, b2 = (
        array.astype(np.float64) for array in (model[0].weight.data, model[2].weight.data, model[2].bias.data)
    )
    before = {name: array.copy() for name, array in model.state_dict().items()}
    x = rng.standard_normal((5, 6)).astype(np.float32)
    masked = np.maximum(x @ (W1 * keep[:, None]).T + b1, 0.0) @ W2.T + b2  # fc1's pruned rows zeroed, in NumPy
    assert not np.allclose(masked, np.maximum(x @ W1[keep].T + b1[keep], 0.0) @ W2[:, keep].T + b2)  # fold matters
    smaller = mlperf_milestone.remove_units(model, keep)
    assert smaller[0].weight.shape == (4, 6) and smaller[2].weight.shape == (3, 4)
    np.testing.assert_allclose(smaller(Tensor(x)).numpy(), masked, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(smaller[0].weight.numpy(), model[0].weight.numpy()[keep])
    np.testing.assert_array_equal(smaller[2].weight.numpy(), model[2].weight.numpy()[:, keep])
    for name, array in model.state_dict().items():  # the model itself is not changed
        np.testing.assert_array_equal(array, before[name])


def test_a_milestones_own_option_given_to_another_is_a_bad_command_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["xor", "--tokens", "8"])  # before the switch and any import of the milestone
    assert stopped.value.code == USAGE
    assert "--tokens must be given to a milestone that takes it (mlperf), got xor" in capsys.readouterr().err


def test_a_negative_seed_is_a_bad_command_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["xor", "--seed", "-1"])  # argparse refuses it: NumPy's generators take no negative seed
    assert stopped.value.code == USAGE
    assert "--seed: must be an integer >= 0, got -1" in capsys.readouterr().err


def test_generating_no_tokens_is_a_bad_command_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["mlperf", "--tokens", "0"])  # argparse refuses it: nothing runs
    assert stopped.value.code == USAGE
    assert "--tokens: must be an integer >= 1, got 0" in capsys.readouterr().err


@pytest.fixture
def transformer_milestone():
    """``milestones.transformer``, imported in this process (it imports 13: skipped until 13 is built)."""
    if MILESTONES["transformer"].unbuilt():
        pytest.skip(f"transformer needs kata {', '.join(MILESTONES['transformer'].unbuilt())}, not built yet")
    return importlib.import_module("milestones.transformer")


@pytest.mark.parametrize("seed", [0, 1])
def test_the_held_out_sequences_are_never_trained_on(transformer_milestone, seed):
    train, held_out = transformer_milestone.reversal_split(seed)
    assert train.shape == (1024, 12) and held_out.shape == (1000, 12)
    assert train.min() >= 0 and held_out.min() >= 0 and max(train.max(), held_out.max()) <= 9
    train_rows, held_rows = {tuple(row) for row in train}, {tuple(row) for row in held_out}
    assert len(train_rows) == len(train) and len(held_rows) == len(held_out)  # no sequence twice
    assert not train_rows & held_rows


def test_a_reversal_example_reads_digits_and_separator_and_predicts_them_backwards(transformer_milestone):
    digits = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    backwards = digits[::-1]
    inputs, targets = transformer_milestone.reversal_examples(np.array([digits]))
    assert inputs.tolist() == [[*digits, 10, *backwards[:-1]]]  # 10 is the separator
    assert targets.tolist() == [backwards]


def test_every_tenth_block_of_the_text_is_held_out(transformer_milestone):
    text = "".join(chr(ord("a") + i % 26) * 1000 for i in range(25)) + "tail"  # block i is one letter
    train, validation = transformer_milestone.split_text(text)
    assert validation == "j" * 1000 + "t" * 1000  # blocks 9 and 19
    assert sorted(train + validation) == sorted(text)


def test_a_window_predicts_each_next_character(transformer_milestone):
    ids = np.arange(100) * 7
    inputs, targets = transformer_milestone.windows(ids, np.array([0, 5, 67]))
    context = transformer_milestone.CONTEXT
    assert inputs.shape == targets.shape == (3, context)
    assert inputs[1].tolist() == [7 * i for i in range(5, 5 + context)]
    assert (targets[:, :-1] == inputs[:, 1:]).all() and (targets[:, -1] == inputs[:, -1] + 7).all()


def test_the_unigram_baseline_is_the_loss_of_add_one_smoothed_training_frequencies(transformer_milestone):
    train, validation = np.array([0, 0, 0, 1, 2, 2]), np.array([0, 1, 3, 3])
    counts = {0: 4, 1: 2, 2: 3, 3: 1}  # each id's training count + 1, for a vocabulary of 4
    expected = -sum(math.log(counts[i] / 10) for i in validation.tolist()) / 4
    assert transformer_milestone.unigram_loss(train, validation, 4) == pytest.approx(expected, rel=1e-12)


def test_teacher_forced_exact_match_agrees_with_greedy_decoding_sequence_by_sequence(transformer_milestone):
    # A GPT whose forward follows a rule: at each answer position, the right digit, except
    # after a 7, where it says 0. Greedy decoding (13's generate) and teacher forcing must then
    # get exactly the sequences right whose answer has no 7 followed by anything but 0.
    milestone = transformer_milestone

    class Rule(milestone.GPT):
        def forward(self, ids, offset=0):
            B, T = ids.shape
            logits = np.zeros((B, T, 11), dtype=np.float32)
            for t in range(12, T):  # position t predicts answer digit t - 12, which is ids[:, 23 - t]
                guess = np.where(ids[:, t] == 7, 0, ids[:, 23 - t])
                logits[np.arange(B), t, guess] = 1.0
            return milestone.Tensor(logits)

    model = Rule(milestone.GPTConfig(vocab_size=11, context_length=25, d_model=4, n_heads=1, n_layers=1))
    sequences = np.random.default_rng(0).integers(0, 10, size=(300, 12))
    backwards = sequences[:, ::-1]
    expected = ~((backwards[:, :-1] == 7) & (backwards[:, 1:] != 0)).any(axis=1)
    assert 0 < expected.sum() < len(sequences)
    forced = (milestone.answers_forced(model, sequences) == backwards).all(axis=1)
    greedy = (milestone.answers_greedy(model, sequences) == backwards).all(axis=1)
    assert forced.tolist() == expected.tolist()
    assert greedy.tolist() == expected.tolist()
    assert milestone.exact_match(milestone.answers_greedy(model, sequences), sequences)[0] == expected.mean()


def test_a_long_sample_is_written_in_chunks_from_the_prompt_and_reproduced_by_its_seed(transformer_milestone):
    milestone = transformer_milestone
    config = milestone.GPTConfig(vocab_size=5, context_length=milestone.CONTEXT, d_model=8, n_heads=2)
    model = milestone.GPT(config, rng=np.random.default_rng(0))
    length = 2 * milestone.CONTEXT + 3  # longer than the context: three chunks and a bit
    written = milestone.write(model, [1, 2, 3], length, seed=4)
    assert written[:3] == [1, 2, 3] and len(written) == 3 + length
    assert all(0 <= token < 5 for token in written)
    assert milestone.write(model, [1, 2, 3], length, seed=4) == written
    assert milestone.write(model, [1, 2, 3], length, seed=5) != written


def test_a_milestone_that_needs_an_unbuilt_kata_is_refused_before_it_starts(monkeypatch, capsys, planned):
    future = Milestone("future", 2030, "t", "milestones.nowhere", "x", "01-20", ("tensor", planned.name))
    assert future.unbuilt() == [planned.label]
    assert MILESTONES["mlp"].unbuilt() == []
    monkeypatch.setitem(MILESTONES, "future", future)  # main() reads this very dict
    assert main(["future"]) == MISSED  # before the switch, the banner or any import of the module
    error = capsys.readouterr().err
    assert f"future cannot start: it needs kata {planned.label}, planned but not built yet" in error


def test_a_missed_target_exits_non_zero_and_names_the_target(children):
    finished = children["missed target"].result()  # mlp --epochs 0: an untrained net, ~10% right
    assert finished.returncode == MISSED, finished.stdout
    assert re.search(r"^MISSED target: test accuracy >= 97% \(measured \d+\.\d\d%\)$", finished.stdout, re.MULTILINE)
    assert "every target met" not in finished.stdout


@pytest.mark.parametrize("name", [runnable("mlperf")])
def test_mlperf_untrained_misses_its_accuracy_targets_names_them_and_makes_no_record_for_them(children, name):
    finished = children["mlperf missed"].result()  # mlperf --epochs 0 --tokens 2: an untrained MLP, ~10% right
    out = finished.stdout
    assert finished.returncode == MISSED, out
    assert re.search(r"^MISSED target: baseline accuracy >= 97% \(measured \d+\.\d\d%\)$", out, re.MULTILINE), out
    refused = r"^    no record\s+digits-baseline: accuracy_gate: accuracy must be >= the target 0\.97, got 0\.\d+$"
    assert re.search(refused, out, re.MULTILINE), out
    assert re.search(r"^  target\s+optimized bytes >= 4× fewer\s+\d+\.\d\d×\s+met$", out, re.MULTILINE), out
    assert re.search(r"^  target\s+cached tokens = recompute's\s+2 of 2\s+met$", out, re.MULTILINE), out
    assert "every target met" not in out


def test_mlperf_refuses_more_tokens_than_the_context_holds_as_a_bad_command_line(children):
    finished = children["mlperf past the context"].result()  # mlperf --tokens 497: 16 + 497 > 512
    assert finished.returncode == USAGE, finished.stdout
    assert "--tokens must be at most 496 (the context 512 minus the 16-token prompt), got 497" in finished.stdout
    assert "Traceback" not in finished.stdout


def test_mlperf_refuses_a_save_folder_that_is_a_file_before_any_work(tmp_path):
    from milestones.mlperf import check_options
    from milestones.report import BadOption

    check_options(496, str(tmp_path / "new folder"))  # the most tokens, and a folder it will make: accepted
    for empty in ("", " "):  # Path("") is the current folder: the records would land where you stand
        with pytest.raises(BadOption, match=re.escape(f"--save must name a folder (made if missing), got {empty!r}")):
            check_options(8, empty)
    existing = tmp_path / "records.json"
    existing.write_text("{}")
    with pytest.raises(
        BadOption, match=re.escape(f"--save must name a folder (made if missing), got the file {str(existing)!r}")
    ):
        check_options(8, str(existing))
    assert existing.read_text() == "{}"


def test_an_unknown_name_exits_non_zero_and_lists_the_names(children):
    finished = children["unknown name"].result()  # python -m milestones lenet
    assert finished.returncode == USAGE, finished.stdout
    assert "name must be one of perceptron, xor, mlp, cnn, transformer, mlperf, got 'lenet'" in finished.stdout


def test_a_negative_epoch_count_is_refused(children):
    finished = children["negative epochs"].result()  # python -m milestones xor --epochs -1
    assert finished.returncode == USAGE, finished.stdout
    assert "must be an integer >= 0, got -1" in finished.stdout


# --- unwritten code: every kata the milestone needs, and how to run it anyway ----------------


def test_unwritten_code_exits_non_zero_naming_the_function_and_every_kata_to_write(children):
    finished = children["unwritten"].result()  # perceptron on pristine stubs
    assert finished.returncode == MISSED, finished.stdout
    assert "perceptron needs code you have not written yet: 01 tensor: implement" in finished.stdout
    assert "Traceback" not in finished.stdout
    for name in MILESTONES["perceptron"].needs:  # all three katas, not only the first that raised
        kata = BY_NAME[name]
        functions = len(targets(kata_file(kata, "solutions").read_text()))
        line = rf"^  {kata.label}\s+none of its {functions} functions yet$"
        assert re.search(line, finished.stdout, re.MULTILINE), finished.stdout
    assert "to run it on the reference: TINYTORCH_IMPL=solutions python -m milestones perceptron" in finished.stdout


@pytest.fixture(scope="module")
def only_06_written(children) -> Path:
    """A learner who finished 06 and nothing else: the reference as their 06, stubs elsewhere."""
    return children["only 06 written"]


def test_partial_work_lists_every_needed_kata_not_written_and_how_to_run_anyway(children):
    finished = children["partial"].result()  # mlp, with only_06_written as the exercises
    assert finished.returncode == MISSED, finished.stdout
    listed = re.findall(r"^  (\d\d \w+)\s+none of its \d+ functions yet$", finished.stdout, re.MULTILINE)
    assert listed == [BY_NAME[name].label for name in MILESTONES["mlp"].needs if name != "optimizers"]
    assert "to run it with the reference for those: python -m milestones mlp --mine 06" in finished.stdout


@pytest.mark.parametrize("how", ["--mine", "TINYTORCH_MINE"])
def test_mine_runs_your_katas_with_the_reference_for_the_rest_and_the_banner_says_so(children, only_06_written, how):
    # mlp --epochs 1 on only_06_written, with "--mine 06" or TINYTORCH_MINE=06
    finished = children[f"mine {how}"].result()
    expected = reference_banner("mlp")
    expected["optimizers"] = (str(kata_file(BY_NAME["optimizers"], "exercises", only_06_written)), "your code")
    assert banner(finished.stdout) == expected, finished.stdout
    assert "not written yet" not in finished.stdout
    assert re.search(r"^  test accuracy\s+\d+\.\d\d% \(\d+ of 360\)$", finished.stdout, re.MULTILINE), finished.stdout


def test_an_unknown_kata_in_mine_stops_before_running_listing_the_katas(children):
    finished = children["unknown in mine"].result()  # python -m milestones xor --mine adam
    assert finished.returncode == MISSED, finished.stdout
    labels = ", ".join(kata.label for kata in built())
    error = f"xor cannot start: tinytorch: TINYTORCH_MINE: each name must be a built kata ({labels}), got 'adam'"
    assert error in finished.stdout
    assert "running" not in finished.stdout


def test_a_syntax_error_in_a_needed_kata_names_the_file_and_line(children):
    broken, line = children["broken stub"]  # 01's stub, a missing colon on its line `line`
    finished = children["syntax error"].result()  # perceptron on those stubs
    assert finished.returncode == MISSED, finished.stdout
    assert f"perceptron cannot start: {broken}, line {line}: expected ':'" in finished.stdout
    assert "Traceback" not in finished.stdout


@pytest.mark.parametrize("name", ALL_NAMES)
def test_needs_are_the_kata_modules_a_milestone_imports(children, name):
    finished = children[f"needs {name}"].result()  # needs_script(name), on the reference
    assert finished.returncode == 0, finished.stdout
    imported = set(finished.stdout.split()) & {kata.name for kata in built()}
    assert imported == set(MILESTONES[name].needs)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_the_listed_kata_range_is_the_needs(name):
    listed = set()
    for span in MILESTONES[name].uses.split(", "):  # "01-09", or "01-08, 10-13" when one is skipped, or "19"
        first, _, last = span.partition("-")
        listed |= set(range(int(first), int(last or first) + 1))
    assert {kata.number for kata in built() if kata.name in MILESTONES[name].needs} == listed


# --- unwritten(): which functions a learner's file has not written yet ------------------------


@pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.name)
def test_a_pristine_stub_has_every_target_unwritten_and_the_reference_none(kata):
    reference = kata_file(kata, "solutions").read_text()
    assert unwritten(reference, generate(kata)) == [name for name, *_ in targets(reference)]
    assert unwritten(reference, reference) == []


# Two targets (a method and a function) and a given helper that raises in the reference itself.
REFERENCE_SOURCE = textwrap.dedent(
    '''
    class Box:
        def size(self):
            """A target."""
            # solution: step 1
            return 1

    def twice(x):
        """A target."""
        # solution: step 2
        return 2 * x

    def given(x):
        """Given: an abstract method, say."""
        raise NotImplementedError
    '''
)
WRITTEN_BOX = "class Box:\n    def size(self):\n        return 1\n"


@pytest.mark.parametrize(
    ("mine", "expected"),
    [
        pytest.param(WRITTEN_BOX + "def twice(x):\n    return x + x\n", [], id="both written"),
        pytest.param(
            "class Box:\n    def size(self):\n        raise NotImplementedError('Box.size')\n"
            "def twice(x):\n    return x + x\n",
            ["Box.size"],
            id="a method without docstring still raising",
        ),
        pytest.param(
            WRITTEN_BOX + 'def twice(x):\n    """Doc."""\n    raise NotImplementedError\n',
            ["twice"],
            id="a bare raise after the docstring",
        ),
        pytest.param(WRITTEN_BOX, ["twice"], id="a function deleted"),
        pytest.param(
            WRITTEN_BOX + "def twice(x):\n    y = x\n    raise NotImplementedError\n",
            [],
            id="work before the raise counts as written",
        ),
    ],
)
def test_unwritten_lists_the_targets_whose_body_is_only_the_stubs_raise(mine, expected):
    # `given` raises NotImplementedError in the reference too, but it is no target: never listed.
    assert unwritten(REFERENCE_SOURCE, mine) == expected


def test_plot_saves_a_file_with_matplotlib_and_says_so_without_it(children):
    plot = children["plot"]
    finished = children["plotted"].result()  # python -m milestones xor --plot <plot>
    assert finished.returncode == 0, finished.stdout
    if importlib.util.find_spec("matplotlib") is None:  # the child runs this same interpreter
        assert f"plot: matplotlib is not installed, so {plot} was not written" in finished.stdout
        assert not plot.exists()
    else:
        assert f"plot: saved {plot}" in finished.stdout
        assert plot.read_bytes().startswith(b"\x89PNG")
