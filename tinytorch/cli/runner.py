"""Each kata's tests in a child process of its own, a few at a time.

Each kata's tests run as ``pytest exercises/NN_name`` runs them: that kata is the learner's code
(or the reference, with ``impl="solutions"``) and every kata it builds on is the reference. One
file backs a module in a process, so each kata needs a process of its own; to keep that cheap,
this process imports pytest, hypothesis and NumPy once and forks a child per kata, a few at a time
(one per core). A child that runs longer than the limit is stopped and reported as timed out.
The progress view (``status``) and the grader (``grade``) both run katas so.
"""

from __future__ import annotations

import gc
import os
import re
import selectors
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch.cli.steps import step_of
from tinytorch.registry import ROOT, Kata
from tinytorch.threads import one_blas_thread

FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')  # how a traceback names a place
# Imported once here, before forking, so that no child pays for them again (~1 s each).
PRELOAD = ("numpy", "pytest", "hypothesis", "_hypothesis_pytestplugin", "pytest_timeout", "pytest_memray")
PYTEST_ARGS = (
    "-q",
    "-p",
    "no:cacheprovider",
    # Only outcomes are counted: no tracebacks to format (they were most of the time), and no
    # assertion rewriting (under PYTHONDONTWRITEBYTECODE it re-compiles modules in every child).
    "--tb=no",
    "--assert=plain",
)


@dataclass
class Run:
    """What is known about one kata's child process so far."""

    kata: Kata
    pid: int = 0
    reader: int = -1  # the pipe the child reports on
    log: Path | None = None  # the child's stdout and stderr
    started: float = 0.0
    seconds: float = 0.0
    collected: int | None = None
    outcomes: dict[str, int] = field(default_factory=lambda: {"passed": 0, "failed": 0, "skipped": 0})
    unfinished_steps: set[int] = field(default_factory=set)  # steps with a test that did not pass
    step_collected: dict[int | None, int] = field(default_factory=dict)  # tests per step
    step_outcomes: dict[int | None, dict[str, int]] = field(default_factory=dict)  # outcomes per step
    collection_error: str = ""
    exit_code: int | None = None  # pytest's, when the child got that far
    problem: str = ""  # why pytest could not start, or stopped
    timed_out: bool = False
    buffer: bytes = b""

    @property
    def finished(self) -> int:
        return sum(self.outcomes.values())


class Reporter:
    """A pytest plugin, in the child: one line on the pipe per collected count, error and test."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.failed: set[str] = set()
        self.skipped: set[str] = set()

    def send(self, *words: str) -> None:
        os.write(self.fd, (" ".join(words).replace("\n", " ") + "\n").encode())

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.send("collection-error", collection_error(report.longreprtext))

    def pytest_collection_finish(self, session) -> None:
        self.send("collected", str(len(session.items)))

    def outcome(self, report) -> str:
        """A test's outcome after its teardown: failed in any phase, else skipped in any, else passed."""
        return "failed" if report.nodeid in self.failed else "skipped" if report.nodeid in self.skipped else "passed"

    def details(self, nodeid: str) -> list[str]:
        """What follows a test's outcome on its line: nothing here."""
        return []

    def pytest_runtest_logreport(self, report) -> None:
        """A test's outcome (and its ``details``), sent after its teardown."""
        if report.failed:
            self.failed.add(report.nodeid)
        elif report.skipped:
            self.skipped.add(report.nodeid)
        if report.when == "teardown":
            self.send(self.outcome(report), *self.details(report.nodeid))


class StepReporter(Reporter):
    """The same lines, each outcome followed by the test's step (``failed 3``), when it has one, and
    the number of tests of each step once collected (``step-collected 3 23``; ``-`` for no step)."""

    def pytest_collection_finish(self, session) -> None:
        super().pytest_collection_finish(session)
        counts: dict[str, int] = {}
        for item in session.items:
            step = step_of(item.nodeid)
            key = "-" if step is None else str(step)
            counts[key] = counts.get(key, 0) + 1
        for key, count in counts.items():
            self.send("step-collected", key, str(count))

    def details(self, nodeid: str) -> list[str]:
        step = step_of(nodeid)
        return [] if step is None else [str(step)]


def collection_error(text: str) -> str:
    """The gist of a collection error's report: its last ``E`` line, and the file and line it names."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    gist = errors[-1] if errors else (text.strip().splitlines() or ["unknown error"])[-1]
    places = FILE_LINE.findall(text)
    if not places:
        return gist
    path, line = Path(places[-1][0]), places[-1][1]
    return f"{gist} ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}, line {line})"


def preload() -> None:
    """Import NumPy (with one BLAS thread, as the harness asks), pytest and its plugins once, in this
    process, so that a forked child does not pay for them again."""
    one_blas_thread()  # before NumPy loads: a forked child cannot change BLAS's thread count
    for module in PRELOAD:
        try:
            __import__(module)
        except ImportError:  # a plugin not installed: the child's pytest says what is missing
            pass
    # What is loaded now lives as long as the process: out of the garbage collector's sight, a
    # child's collections (pytest runs two) skip it, and do not copy its pages (~15% of a child's time).
    gc.freeze()


def fork_child(work: Callable[[], int], log: Path) -> int:
    """Fork a child that runs ``work()`` from the repository root, in a process group of its own
    (so that stopping it stops everything it started), its stdout and stderr in ``log``; it exits
    with ``work()``'s result (3 when ``work`` raised). Returns the child's pid."""
    sys.stdout.flush()  # else the child would inherit, and write again, what is still buffered
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.setpgid(0, 0)
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.chdir(ROOT)
            code = work()
        except BaseException as error:  # whatever happens, the child must exit here
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        os.setpgid(pid, pid)  # also here, so that a stop that comes first finds the group
    except OSError:  # the child did it already (or has exited)
        pass
    return pid


def start(run: Run, impl: str, logs: Path, extra: Callable[[Kata], Sequence[str]] | None = None) -> None:
    """Fork the child that runs ``run.kata``'s tests; it reports on a pipe and logs to a file.

    ``extra(kata)`` gives more pytest arguments for that kata (the grader's ``--junitxml``).
    """
    reader, writer = os.pipe()
    run.log = logs / f"{run.kata.folder}.log"
    run.started = time.perf_counter()

    def work() -> int:
        os.close(reader)
        import pytest

        arguments = [f"exercises/{run.kata.folder}", "--impl", impl, *PYTEST_ARGS]
        arguments += list(extra(run.kata)) if extra else []
        code = int(pytest.main(arguments, plugins=[StepReporter(writer)]))
        os.write(writer, f"exit {code}\n".encode())
        return code

    pid = fork_child(work, run.log)
    os.close(writer)
    run.pid, run.reader = pid, reader


def receive(run: Run, data: bytes) -> None:
    """Read the child's lines: counts, outcomes (with their steps), a collection error, pytest's exit code."""
    run.buffer += data
    *lines, run.buffer = run.buffer.split(b"\n")
    for line in lines:
        word, _, rest = line.decode().partition(" ")
        if word in run.outcomes:
            run.outcomes[word] += 1
            step = int(rest) if rest.strip().isdigit() else None
            per_step = run.step_outcomes.setdefault(step, {"passed": 0, "failed": 0, "skipped": 0})
            per_step[word] += 1
            if word != "passed" and step is not None:
                run.unfinished_steps.add(step)
        elif word == "step-collected":
            key, _, count = rest.partition(" ")
            run.step_collected[None if key == "-" else int(key)] = int(count)
        elif word == "collected":
            run.collected = int(rest)
        elif word == "collection-error" and not run.collection_error:
            run.collection_error = rest
        elif word == "exit":
            run.exit_code = int(rest)


def stop(run: Run) -> None:
    """Kill the child's process group (it ran past the limit, or we are interrupted)."""
    try:
        os.killpg(run.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def jobs() -> int:
    """How many children at a time: one per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_all(
    katas: list[Kata],
    impl: str,
    limit: float,
    jobs: int,
    show: Callable[[Run], None],
    extra: Callable[[Kata], Sequence[str]] | None = None,
) -> list[Run]:
    """Run every kata's tests in forked children, ``jobs`` at a time; ``show(run)`` as each ends."""
    preload()
    runs = [Run(kata) for kata in katas]
    waiting, running = list(runs), {}
    selector = selectors.DefaultSelector()
    with tempfile.TemporaryDirectory(prefix="tinytorch-progress-") as logs:
        try:
            while waiting or running:
                while waiting and len(running) < jobs:
                    run = waiting.pop(0)
                    start(run, impl, Path(logs), extra)
                    running[run.reader] = run
                    selector.register(run.reader, selectors.EVENT_READ)
                now = time.perf_counter()
                for run in running.values():
                    if now - run.started > limit and not run.timed_out:
                        run.timed_out = True
                        stop(run)
                deadline = min(run.started + limit for run in running.values())
                for key, _ in selector.select(timeout=max(0.05, deadline - now)):
                    run = running[key.fd]
                    data = os.read(key.fd, 65536)
                    if data:
                        receive(run, data)
                        continue
                    selector.unregister(key.fd)
                    os.close(key.fd)
                    del running[key.fd]
                    os.waitpid(run.pid, 0)
                    run.seconds = time.perf_counter() - run.started
                    if not run.timed_out and not run.collection_error and run.exit_code not in (0, 1, 5):
                        run.problem = last_line(run.log)  # e.g. a kata's file is missing
                    show(run)
        finally:
            for run in running.values():
                stop(run)
                os.waitpid(run.pid, 0)
    return runs


def last_line(log: Path) -> str:
    """The last non-blank line a child wrote (why it could not start)."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "it stopped without a word"
