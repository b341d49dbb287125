"""``python -m tinytorch [status] [KATA ...]``: your progress, kata by kata, and the step to do next.

Each kata's tests run as ``pytest exercises/NN_name`` runs them (see :mod:`tinytorch.cli.runner`).
A kata's next step is the first step with a test that does not pass yet.
"""

from __future__ import annotations

import argparse
import os
import time

import tinytorch
from tinytorch.cli.runner import Run, jobs, run_all
from tinytorch.cli.steps import step_command
from tinytorch.registry import IMPLS, KATAS, built, named

DEFAULT_LIMIT = 120.0  # seconds per kata; on the reference the slowest took 42 s on a 2-core machine at load 4.4
BAR = 20  # characters of the progress bar


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
    return f"{passed:>4}/{total:<4} {bar:<{BAR}} {run.seconds:5.1f} s  {next_step(run)}"


def next_step(run: Run) -> str:
    """``next: step N`` (the first step with a test that did not pass), or ``done``."""
    if run.unfinished_steps:
        step = min(run.unfinished_steps)
        return f"next: step {step} ({step_command(run.kata, step)})"
    if run.collected and run.outcomes["passed"] == run.collected:
        return "done"
    return ""


def whose(impl: str, from_environment: bool) -> str:
    """Whose code the view runs, in words."""
    if impl == "solutions":
        why = ", TINYTORCH_IMPL=solutions" if from_environment else ""
        return f"the reference (solutions/{why}) for every kata, not your code"
    folder = tinytorch.exercises_dir()
    return f"your code ({folder if folder else 'exercises/'}) for each kata, the reference for the katas it builds on"


def parser(prog: str = "python -m tinytorch [status]", epilog: str = "") -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog=prog,
        description=(
            "How many of each kata's tests pass, and the step to do next. Each kata runs as "
            "`pytest exercises/NN_name` runs it: that kata is your code, every kata it builds on is the reference."
        ),
        epilog=(
            "Exit codes: 0 every kata's tests ran to the end (passing or not); 1 a kata timed out, "
            "could not be collected or could not start; 2 a bad command line." + (f" {epilog}" if epilog else "")
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter if epilog else argparse.HelpFormatter,
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


def main(argv: list[str] | None = None, prog: str = "python -m tinytorch [status]", epilog: str = "") -> int:
    command_line = parser(prog, epilog)
    arguments = command_line.parse_args(argv)
    try:
        chosen = list(named(" ".join(arguments.katas), "KATA")) if arguments.katas else list(built())
    except ValueError as error:
        command_line.error(str(error))  # exits with 2
    if arguments.limit <= 0:
        command_line.error(f"--limit must be > 0 seconds, got {arguments.limit:g}")
    from_environment = arguments.impl is None and "TINYTORCH_IMPL" in os.environ
    impl = arguments.impl or os.environ.get("TINYTORCH_IMPL", "exercises")
    if impl not in IMPLS:
        command_line.error(f"TINYTORCH_IMPL must be one of {', '.join(IMPLS)}, got {impl!r}")
    at_a_time = jobs()
    print(f"tinytorch progress: {whose(impl, from_environment)}")
    print(f"each kata is stopped after {arguments.limit:g} s (--limit); {at_a_time} at a time")
    if tinytorch.MINE_VARIABLE in os.environ:
        print(f"{tinytorch.MINE_VARIABLE} is not used here: each kata runs as pytest runs it")
    print(f"{'kata':<18}tests passing")
    begun = time.perf_counter()
    lines: dict[str, str] = {}
    order = [kata.name for kata in chosen]
    shown = 0

    def show(run: Run) -> None:
        nonlocal shown
        lines[run.kata.name] = f"{run.kata.label:<18}{status(run, arguments.limit)}".rstrip()
        while shown < len(order) and order[shown] in lines:  # in curriculum order, as soon as known
            print(lines[order[shown]], flush=True)
            shown += 1

    runs = run_all(chosen, impl, arguments.limit, at_a_time, show)
    if not arguments.katas:
        for kata in KATAS:
            if not kata.built:
                print(f"{kata.label:<18}(planned)")
    print(f"{len(runs)} kata{'s' if len(runs) != 1 else ''} in {time.perf_counter() - begun:.1f} s")
    broken = [run for run in runs if run.timed_out or run.collection_error or run.problem]
    return 1 if broken else 0
