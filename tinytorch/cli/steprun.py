"""Run a kata's tests step by step in a fresh pytest process (your file is imported anew each
time), and find the first step that does not pass yet. ``watch`` and ``hint`` use it.

The child runs ``pytest exercises/NN_name --impl exercises -x`` with
:mod:`tinytorch.cli.stepplugin`: the tests in step order, stopping at the first failure, so
the first failing test is in the first unfinished step and every step before it passed. It is
forked from this process, which imports pytest, hypothesis and NumPy once
(:func:`tinytorch.cli.runner.preload`) but never a kata: each run after the first starts in a
fraction of a second, and still imports your file anew.
"""

from __future__ import annotations

import json
import os
import re
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch.cli.runner import fork_child, preload
from tinytorch.cli.steps import step_command
from tinytorch.registry import ROOT, Kata

MAX_ERROR_LINES = 8  # of a failure's "E" lines shown in short form


@dataclass
class StepRun:
    """What a child run found: one dict per test that ran (nodeid, step, outcome, text, crash)."""

    kata: Kata
    steps: tuple[int, ...]  # the steps it ran (all when empty)
    results: list[dict] = field(default_factory=list)
    returncode: int = 0
    output: str = ""  # pytest's own output (shown when it could not run the tests)

    @property
    def failure(self) -> dict | None:
        """The first test that failed (or a collection error), if any."""
        return next((result for result in self.results if result["outcome"] in ("failed", "error")), None)

    @property
    def broken(self) -> bool:
        """pytest could not run the tests at all (a usage error, a missing file): see ``output``."""
        return self.failure is None and self.returncode not in (0, 1, 5)

    @property
    def passed(self) -> bool:
        return self.failure is None and self.returncode == 0

    @property
    def first_unfinished(self) -> int | None:
        """The step of the first failure (None when there was none, or it has no step)."""
        failure = self.failure
        return failure["step"] if failure else None


def run_steps(kata: Kata, steps: tuple[int, ...] = (), impl: str = "exercises") -> StepRun:
    """Run ``kata``'s tests of ``steps`` (all when empty), in step order, up to the first failure.

    Ctrl-C stops the child (and everything it started) before the KeyboardInterrupt goes on.
    """
    run = StepRun(kata, tuple(steps))
    preload()
    with tempfile.TemporaryDirectory(prefix="tinytorch-steps-") as folder:
        report, log = Path(folder) / "steps.jsonl", Path(folder) / "pytest.log"
        arguments = [f"exercises/{kata.folder}", "--impl", impl, "-x", "-q", "-p", "no:cacheprovider"]
        arguments += ["-p", "tinytorch.cli.stepplugin", "--tinytorch-step-report", str(report)]
        if steps:
            arguments += ["--tinytorch-steps", ",".join(str(step) for step in steps)]

        def work() -> int:
            import pytest

            return int(pytest.main(arguments))

        pid = fork_child(work, log)
        try:
            _, status = os.waitpid(pid, 0)
        except BaseException:  # Ctrl-C (or anything else): never leave the child running
            stop_group(pid)
            os.waitpid(pid, 0)
            raise
        run.returncode = os.waitstatus_to_exitcode(status)
        run.output = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        if report.is_file():
            run.results = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line]
    return run


def stop_group(pid: int) -> None:
    """Kill the process group of the child ``pid`` (it leads one: :func:`~tinytorch.cli.runner.fork_child`)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def short_failure(result: dict) -> str:
    """A failure in a few lines: the test, where it failed and why (its ``E`` lines)."""
    name = result["nodeid"].split("::", 1)[-1]
    lines = [f"FAILED {name}" if result["outcome"] == "failed" else f"ERROR collecting {result['nodeid']}"]
    if result.get("crash"):
        lines.append(f"  {shown(result['crash'])}")
    errors = [line[1:].strip() for line in result.get("text", "").splitlines() if line.startswith("E ")]
    errors = [line for line in errors if line and line not in result.get("crash", "")]
    lines += [f"  {line}" for line in errors[:MAX_ERROR_LINES]]
    if len(errors) > MAX_ERROR_LINES:
        lines.append(f"  ... ({len(errors) - MAX_ERROR_LINES} more lines: run the test to see them)")
    return "\n".join(lines)


def shown(text: str) -> str:
    """Paths in ``text`` relative to the repository, as the learner types them."""
    return re.sub(re.escape(str(ROOT) + os.sep), "", text)


def rerun_command(kata: Kata, step: int | None) -> str:
    """The pytest command that shows the whole story of a step's failure."""
    return f"{step_command(kata, step) if step is not None else f'pytest exercises/{kata.folder}'} -x"
