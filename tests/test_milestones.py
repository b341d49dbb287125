"""Milestones, end to end: each one runs as a learner runs it (``python -m milestones NAME`` from
the repository root, in a clean child process) and meets its targets on the reference; a
missed target, an unknown name and unwritten code each end in a non-zero exit that says why.

The runs are real training runs, so the mlp test also holds the reference to its 5 s training
budget (measured ~1 s on a busy 2-core machine).
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from tinytorch.registry import built, kata_file
from tinytorch.stubs import generate

REFERENCE = {"TINYTORCH_IMPL": "solutions"}
MISSED = 1  # a target missed, or code not written yet
USAGE = 2  # argparse's exit code for a bad command line


def linear_parameters(fan_in: int, fan_out: int) -> int:
    """A Linear layer's weights and biases."""
    return fan_in * fan_out + fan_out


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


@pytest.fixture(scope="module")
def milestone(run_python):
    """``milestone(*args, env=...)``: ``python -m milestones *args`` from the repository root."""

    def run(*args: str, env: dict[str, str] | None = None):
        return run_python("-m", "milestones", *args, env=env)

    return run


def test_without_a_name_every_milestone_is_listed_with_its_year(milestone):
    finished = milestone()
    assert finished.returncode == 0, finished.stdout
    for name, year in (("perceptron", 1958), ("xor", 1969), ("mlp", 1986)):
        assert re.search(rf"^\s+{name}\s+{year}\s", finished.stdout, re.MULTILINE), finished.stdout


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_milestone_meets_its_targets_on_the_reference(milestone, name):
    finished = milestone(name, env=REFERENCE)
    assert finished.returncode == 0, finished.stdout
    assert re.search(rf"^running \d{{4}} {name} on solutions", finished.stdout, re.MULTILINE), finished.stdout
    for pattern in EXPECTED[name]:
        assert re.search(pattern, finished.stdout), f"no line matches {pattern!r} in:\n{finished.stdout}"
    assert finished.stdout.rstrip().endswith("every target met"), finished.stdout


def test_a_missed_target_exits_non_zero_and_names_the_target(milestone):
    finished = milestone("mlp", "--epochs", "0", env=REFERENCE)  # an untrained net: ~10% right
    assert finished.returncode == MISSED, finished.stdout
    assert re.search(r"^MISSED target: test accuracy >= 97% \(measured \d+\.\d\d%\)$", finished.stdout, re.MULTILINE)
    assert "every target met" not in finished.stdout


def test_an_unknown_name_exits_non_zero_and_lists_the_names(milestone):
    finished = milestone("lenet", env=REFERENCE)
    assert finished.returncode == USAGE, finished.stdout
    assert "name must be one of perceptron, xor, mlp, got 'lenet'" in finished.stdout


def test_a_negative_epoch_count_is_refused(milestone):
    finished = milestone("xor", "--epochs", "-1", env=REFERENCE)
    assert finished.returncode == USAGE, finished.stdout
    assert "must be >= 0, got -1" in finished.stdout


def test_unwritten_code_exits_non_zero_naming_the_function_to_write(milestone, tmp_path):
    for kata in built():  # pristine stubs, as a learner's clone starts
        stub = kata_file(kata, "exercises", tmp_path)
        stub.parent.mkdir(parents=True)
        stub.write_text(generate(kata))
    finished = milestone("perceptron", env={"TINYTORCH_IMPL": "exercises", "TINYTORCH_EXERCISES": str(tmp_path)})
    assert finished.returncode == MISSED, finished.stdout
    assert "perceptron needs code you have not written yet: 01 tensor: implement" in finished.stdout
    assert "Traceback" not in finished.stdout


def test_plot_saves_a_file_with_matplotlib_and_says_so_without_it(milestone, tmp_path):
    plot = tmp_path / "xor.png"
    finished = milestone("xor", "--plot", str(plot), env=REFERENCE)
    assert finished.returncode == 0, finished.stdout
    if importlib.util.find_spec("matplotlib") is None:  # the child runs this same interpreter
        assert f"plot: matplotlib is not installed, so {plot} was not written" in finished.stdout
        assert not plot.exists()
    else:
        assert f"plot: saved {plot}" in finished.stdout
        assert plot.read_bytes().startswith(b"\x89PNG")
