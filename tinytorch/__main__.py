"""``python -m tinytorch [KATA ...]``: your progress, kata by kata.

Each kata's tests run as ``pytest exercises/NN_name`` runs them: that kata is your code (or the
reference, with ``--impl solutions``) and every kata it builds on is the reference. One file
backs a module in a process, so each kata needs a process of its own; to keep that cheap, this
process imports pytest, hypothesis and NumPy once and forks a child per kata, a few at a time
(one per core). A child that runs longer than ``--limit`` is stopped and reported as timed out.
"""

from __future__ import annotations

import argparse
import os
import re
import selectors
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tinytorch
from tinytorch.registry import IMPLS, KATAS, ROOT, Kata, built, named

DEFAULT_LIMIT = 120.0  # seconds per kata; on the reference the slowest took 42 s on a 2-core machine at load 4.4
BAR = 20  # characters of the progress bar
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

    def pytest_runtest_logreport(self, report) -> None:
        """A test's outcome, sent after its teardown: failed in any phase, else skipped in any, else passed."""
        if report.failed:
            self.failed.add(report.nodeid)
        elif report.skipped:
            self.skipped.add(report.nodeid)
        if report.when == "teardown":
            outcome = (
                "failed" if report.nodeid in self.failed else "skipped" if report.nodeid in self.skipped else "passed"
            )
            self.send(outcome)


def collection_error(text: str) -> str:
    """The gist of a collection error's report: its last ``E`` line, and the file and line it names."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    gist = errors[-1] if errors else (text.strip().splitlines() or ["unknown error"])[-1]
    places = FILE_LINE.findall(text)
    if not places:
        return gist
    path, line = Path(places[-1][0]), places[-1][1]
    return f"{gist} ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}, line {line})"


def start(run: Run, impl: str, logs: Path) -> None:
    """Fork the child that runs ``run.kata``'s tests; it reports on a pipe and logs to a file."""
    reader, writer = os.pipe()
    run.log = logs / f"{run.kata.folder}.log"
    run.started = time.perf_counter()
    sys.stdout.flush()  # else the child would inherit, and write again, what is still buffered
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.close(reader)
            os.setpgid(0, 0)  # its own process group, so that a timeout stops all of it
            log = os.open(run.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir(ROOT)
            import pytest

            arguments = [f"exercises/{run.kata.folder}", "--impl", impl, *PYTEST_ARGS]
            code = int(pytest.main(arguments, plugins=[Reporter(writer)]))
            os.write(writer, f"exit {code}\n".encode())
        except BaseException as error:  # whatever happens, the child must exit here
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(writer)
    run.pid, run.reader = pid, reader


def receive(run: Run, data: bytes) -> None:
    """Read the child's lines: counts, outcomes, a collection error, pytest's exit code."""
    run.buffer += data
    *lines, run.buffer = run.buffer.split(b"\n")
    for line in lines:
        word, _, rest = line.decode().partition(" ")
        if word in run.outcomes:
            run.outcomes[word] += 1
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


def run_all(katas: list[Kata], impl: str, limit: float, jobs: int, show) -> list[Run]:
    """Run every kata's tests in forked children, ``jobs`` at a time; ``show(run)`` as each ends."""
    for module in PRELOAD:
        try:
            __import__(module)
        except ImportError:  # a plugin not installed: the child's pytest says what is missing
            pass
    runs = [Run(kata) for kata in katas]
    waiting, running = list(runs), {}
    selector = selectors.DefaultSelector()
    with tempfile.TemporaryDirectory(prefix="tinytorch-progress-") as logs:
        try:
            while waiting or running:
                while waiting and len(running) < jobs:
                    run = waiting.pop(0)
                    start(run, impl, Path(logs))
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


def status(run: Run, limit: float) -> str:
    """The kata's line after its label."""
    command = f"pytest exercises/{run.kata.folder}"
    if run.timed_out:
        done = f"{run.finished} of {run.collected} tests run" if run.collected is not None else "still collecting"
        return (
            f"timed out after {limit:g} s ({done}, {run.outcomes['passed']} passing): "
            f"is something looping? run {command} -x to see which test"
        )
    if run.collection_error:
        return f"collection error: {run.collection_error}; run {command} to see it"
    if run.problem:
        return f"could not run: {run.problem}; run {command} to see why"
    total, passed = run.collected or 0, run.outcomes["passed"]
    bar = "#" * round(BAR * passed / total) if total else ""
    return f"{passed:>4}/{total:<4} {bar:<{BAR}} {run.seconds:5.1f} s"


def whose(impl: str, from_environment: bool) -> str:
    """Whose code the view runs, in words."""
    if impl == "solutions":
        why = ", TINYTORCH_IMPL=solutions" if from_environment else ""
        return f"the reference (solutions/{why}) for every kata, not your code"
    folder = tinytorch.exercises_dir()
    return f"your code ({folder if folder else 'exercises/'}) for each kata, the reference for the katas it builds on"


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m tinytorch",
        description=(
            "How many of each kata's tests pass. Each kata runs as `pytest exercises/NN_name` runs it: "
            "that kata is your code, every kata it builds on is the reference."
        ),
        epilog=(
            "Exit codes: 0 every kata's tests ran to the end (passing or not); 1 a kata timed out, "
            "could not be collected or could not start; 2 a bad command line."
        ),
    )
    result.add_argument(
        "katas", nargs="*", metavar="KATA", help="katas to run: names, numbers or folders (default: every kata)"
    )
    result.add_argument(
        "--limit",
        type=float,
        default=DEFAULT_LIMIT,
        metavar="SECONDS",
        help=f"stop a kata's tests after this long and report it as timed out (default {DEFAULT_LIMIT:g})",
    )
    result.add_argument(
        "--impl",
        choices=IMPLS,
        help="whose code: exercises (yours, the default) or solutions (the reference); TINYTORCH_IMPL sets the default",
    )
    return result


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        chosen = list(named(" ".join(arguments.katas), "KATA")) if arguments.katas else list(built())
    except ValueError as error:
        parser().error(str(error))  # exits with 2
    if arguments.limit <= 0:
        parser().error(f"--limit must be > 0 seconds, got {arguments.limit:g}")
    from_environment = arguments.impl is None and "TINYTORCH_IMPL" in os.environ
    impl = arguments.impl or os.environ.get("TINYTORCH_IMPL", "exercises")
    if impl not in IMPLS:
        parser().error(f"TINYTORCH_IMPL must be one of {', '.join(IMPLS)}, got {impl!r}")
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"tinytorch progress: {whose(impl, from_environment)}")
    print(f"each kata is stopped after {arguments.limit:g} s (--limit); {jobs} at a time")
    if tinytorch.MINE_VARIABLE in os.environ:
        print(f"{tinytorch.MINE_VARIABLE} is not used here: each kata runs as pytest runs it")
    print(f"{'kata':<18}tests passing")
    begun = time.perf_counter()
    lines: dict[str, str] = {}
    order = [kata.name for kata in chosen]
    shown = 0

    def show(run: Run) -> None:
        nonlocal shown
        lines[run.kata.name] = f"{run.kata.label:<18}{status(run, arguments.limit)}"
        while shown < len(order) and order[shown] in lines:  # in curriculum order, as soon as known
            print(lines[order[shown]], flush=True)
            shown += 1

    runs = run_all(chosen, impl, arguments.limit, jobs, show)
    if not arguments.katas:
        for kata in KATAS:
            if not kata.built:
                print(f"{kata.label:<18}(planned)")
    print(f"{len(runs)} kata{'s' if len(runs) != 1 else ''} in {time.perf_counter() - begun:.1f} s")
    broken = [run for run in runs if run.timed_out or run.collection_error or run.problem]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
