"""The progress view, ``python -m tinytorch [KATA ...]``, run as a learner runs it (a clean child
process from the repository root) on copies of the exercises in a temporary folder
(``TINYTORCH_EXERCISES``), where the learner's mistakes are planted: a syntax error, a missing
file, an infinite loop.

What it must say: how many tests of each kata pass, counted as pytest counts them; whose code it
ran; a collection error as a collection error (not ``0/1``); a kata stopped at ``--limit`` as
timed out. It never times anything in a test: the limit is a setting, not a measurement.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from tinytorch.__main__ import Reporter
from tinytorch.registry import BY_NAME, built, kata_file
from tinytorch.stubs import write_stubs

USAGE = 2  # argparse's exit code for a bad command line
LOOP_LIMIT = 3  # seconds: the --limit of the run with an infinite loop


def kata_line(output: str, name: str) -> str:
    """The line of the view about kata ``name`` (it starts with the kata's label)."""
    lines = [line for line in output.splitlines() if line.startswith(BY_NAME[name].label + " ")]
    assert len(lines) == 1, f"not one line for {name} in:\n{output}"
    return lines[0]


class Children(NamedTuple):
    """Every child process of this file, started together (they run side by side)."""

    help: Future  # python -m tinytorch --help
    unknown: Future  # an unknown kata
    reference: Future  # kata 08 with TINYTORCH_IMPL=solutions
    collected: Future  # pytest --co of kata 08: the oracle for the view's totals
    problems: Future  # 05 with a syntax error, 06's file missing, 08 a pristine stub
    loop: Future  # 08's stub looping forever, --limit LOOP_LIMIT
    folder: Path  # the exercises of the `problems` run
    broken: Path  # its kata 05 stub, with a syntax error ...
    line: int  # ... at this line
    missing: Path  # its kata 06 stub, deleted


def start_children(start) -> Children:
    """This file's children, started when collection ends (see ``tests/conftest.py``)."""

    def progress(*args: str, env: dict[str, str] | None = None) -> Future:
        """``python -m tinytorch *args`` from the repository root."""
        return start.python("-m", "tinytorch", *args, env=env, timeout=120)

    folder = write_stubs(start.mktemp("exercises"))
    broken = kata_file(BY_NAME["losses"], "exercises", folder)
    line = broken.read_text().count("\n") + 1
    with broken.open("a") as stub:
        stub.write("def forgot_a_colon(x)\n    return x\n")
    missing = kata_file(BY_NAME["optimizers"], "exercises", folder)
    missing.unlink()

    looping = write_stubs(start.mktemp("looping"))
    stub = kata_file(BY_NAME["dataloader"], "exercises", looping)
    # Every function to write loops forever before its raise: the first test that calls one hangs.
    loop = r"\1while True:\n\1    pass\n\1raise NotImplementedError("
    stub.write_text(re.sub(r"^( *)raise NotImplementedError\(", loop, stub.read_text(), flags=re.MULTILINE))

    return Children(
        problems=progress("losses", "06", "8", env={"TINYTORCH_EXERCISES": str(folder)}),
        reference=progress("dataloader", env={"TINYTORCH_IMPL": "solutions"}),
        loop=progress("dataloader", "--limit", str(LOOP_LIMIT), env={"TINYTORCH_EXERCISES": str(looping)}),
        collected=start.pytest("exercises/08_dataloader", "--co", "-q", "--impl", "solutions"),
        help=progress("--help"),
        unknown=progress("optimiser"),
        folder=folder,
        broken=broken,
        line=line,
        missing=missing,
    )


@pytest.fixture(scope="module")
def children(early, request) -> Children:
    return early(request.module)


@pytest.fixture(scope="module")
def collected(children) -> int:
    """How many tests pytest collects for kata 08 (the oracle for the view's totals)."""
    result = children.collected.result()
    found = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    assert found, result.stdout
    return int(found.group(1))


@pytest.fixture(scope="module")
def problems(children):
    """One run over three katas: 05 with a syntax error, 06's file missing, 08 a pristine stub."""
    return children.problems.result(), children.folder, children.broken, children.line, children.missing


def test_help_describes_the_options_without_running_anything(children):
    result = children.help.result()
    assert result.returncode == 0, result.stdout
    for option in ("KATA", "--limit SECONDS", "--impl"):
        assert option in result.stdout, result.stdout
    assert "tests passing" not in result.stdout, "--help started a run"


def test_an_unknown_kata_is_a_usage_error_listing_the_katas(children):
    result = children.unknown.result()
    assert result.returncode == USAGE, result.stdout
    labels = ", ".join(kata.label for kata in built())
    assert f"KATA: each name must be a built kata ({labels}), got 'optimiser'" in result.stdout


def test_a_kata_argument_runs_that_kata_only_and_counts_what_pytest_collects(children, collected):
    result = children.reference.result()
    assert result.returncode == 0, result.stdout
    assert re.match(rf"08 dataloader\s+{collected}/{collected}\s+#{{20}}\s", kata_line(result.stdout, "dataloader"))
    others = [kata.label for kata in built() if kata.name != "dataloader"] + ["09 convolution"]
    assert not [label for label in others if label in result.stdout], result.stdout


def test_the_view_says_it_ran_the_reference_when_tinytorch_impl_chose_it(children):
    result = children.reference.result()  # the run of the test above
    assert "the reference (solutions/, TINYTORCH_IMPL=solutions) for every kata, not your code" in result.stdout
    assert "your code" not in result.stdout.replace("not your code", ""), result.stdout


def test_the_view_says_it_ran_your_code_and_where_it_is(problems):
    result, folder, *_ = problems
    assert f"your code ({folder}) for each kata, the reference for the katas it builds on" in result.stdout


def test_a_pristine_stub_passes_none_of_its_tests(problems, collected):
    result, *_ = problems
    assert re.match(rf"08 dataloader\s+0/{collected}\s", kata_line(result.stdout, "dataloader")), result.stdout


def test_a_syntax_error_is_shown_as_a_collection_error_naming_the_file_and_line(problems):
    result, _, broken, line, _ = problems
    shown = kata_line(result.stdout, "losses")
    assert shown.startswith("05 losses         collection error: SyntaxError: expected ':'"), shown
    assert f"({broken}, line {line})" in shown, shown
    assert not re.match(r"05 losses\s+\d+/\d+", shown), shown  # no count: nothing ran


def test_a_missing_kata_file_is_shown_as_the_reason_the_kata_could_not_run(problems):
    result, _, _, _, missing = problems
    shown = kata_line(result.stdout, "optimizers")
    assert "could not run:" in shown and f"must be at {missing}, but there is no such file" in shown, shown


def test_the_katas_are_listed_in_curriculum_order_and_a_broken_one_makes_the_exit_status_1(problems):
    result, *_ = problems
    labels = re.findall(r"^(0\d \w+) ", result.stdout, re.MULTILINE)
    assert labels == ["05 losses", "06 optimizers", "08 dataloader"], result.stdout
    assert result.returncode == 1, result.stdout


def test_an_infinite_loop_is_stopped_at_the_limit_and_reported_as_timed_out(children):
    result = children.loop.result()
    assert result.returncode == 1, result.stdout
    assert f"each kata is stopped after {LOOP_LIMIT} s (--limit)" in result.stdout
    assert kata_line(result.stdout, "dataloader").startswith(f"08 dataloader     timed out after {LOOP_LIMIT} s")


def report(nodeid: str, when: str, outcome: str) -> SimpleNamespace:
    """The fields of a pytest TestReport that the view's reporter reads."""
    return SimpleNamespace(nodeid=nodeid, when=when, failed=outcome == "failed", skipped=outcome == "skipped")


@pytest.mark.parametrize(
    ("phases", "counted"),
    [
        pytest.param(("passed", "passed", "passed"), "passed", id="passed"),
        pytest.param(("passed", "failed", "passed"), "failed", id="a failing call"),
        pytest.param(("failed", None, "passed"), "failed", id="an error at setup"),
        pytest.param(("passed", "passed", "failed"), "failed", id="an error at teardown"),
        pytest.param(("skipped", None, "passed"), "skipped", id="skipped at setup"),
        pytest.param(("passed", "skipped", "passed"), "skipped", id="skipped in the call"),
    ],
)
def test_the_reporter_counts_a_test_once_by_its_worst_phase(phases, counted):
    reader, writer = os.pipe()
    reporter = Reporter(writer)
    for when, outcome in zip(("setup", "call", "teardown"), phases, strict=True):
        if outcome is not None:  # a test that fails or skips at setup has no call phase
            reporter.pytest_runtest_logreport(report("t.py::test", when, outcome))
    os.close(writer)
    with os.fdopen(reader) as pipe:
        assert pipe.read() == f"{counted}\n"
