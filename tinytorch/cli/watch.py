"""``python -m tinytorch watch [KATA]``: run the step you are on, again each time you save.

It runs the kata's tests in step order up to the first failure (the first unfinished step),
shows that failure in a few lines, then polls your file's modification time and runs that
step's tests again whenever you save. When the step passes it says
``step N done — next: step N+1`` and goes on; when the kata is done, it moves on to the next
kata. Each run is a fresh ``pytest exercises/NN_name`` process (your file imported anew: that
kata is your code, the katas it builds on the reference). Ctrl-C stops it, and the test run
with it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tinytorch.cli.current import chosen_kata, learner_file
from tinytorch.cli.steprun import StepRun, rerun_command, run_steps, short_failure
from tinytorch.cli.steps import kata_steps
from tinytorch.registry import ROOT, Kata, built

PROG = "python -m tinytorch watch"
DEFAULT_INTERVAL = 0.5  # seconds between two looks at the file


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Run the first unfinished step of a kata, then again whenever you save your file; show the first "
            "failure in short form, and move on when a step (then a kata) passes. Without KATA, the kata is "
            "the first one with a function still to write. Ctrl-C stops it."
        ),
        epilog="Exit codes: 0 stopped with Ctrl-C, or every kata from KATA on passes; 2 a bad command line.",
    )
    result.add_argument("kata", nargs="?", metavar="KATA", help="a kata: name, number or folder (default: yours)")
    result.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"how often to look at your file for a change (default {DEFAULT_INTERVAL:g})",
    )
    return result


def stamp(path: Path) -> tuple[int, int] | None:
    """What changes when a file is saved: its modification time and size (None while it is missing)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def wait_for_change(path: Path, since: tuple[int, int] | None, interval: float) -> tuple[int, int] | None:
    """Poll ``path`` every ``interval`` seconds until its stamp differs from ``since``; the new stamp."""
    while True:
        time.sleep(interval)
        now = stamp(path)
        if now != since:
            return now


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def report(run: StepRun) -> None:
    """What a run found, in a few lines: the first failure, or why pytest could not run."""
    if run.broken:
        tail = run.output.strip().splitlines()[-6:]
        print("\n".join(f"  {line}" for line in tail))
        print(f"{run.kata.label}: pytest could not run the tests (above); waiting for a change")
    elif run.failure is not None:
        print(short_failure(run.failure))
        print(f"  (the whole story: {rerun_command(run.kata, run.failure['step'])})")


def watch_kata(kata: Kata, interval: float) -> None:
    """Watch ``kata`` until every one of its tests passes."""
    path = learner_file(kata)
    steps = kata_steps(kata)
    print(f"watching {shown(path)}: {kata.label} is your code, the katas it builds on the reference", flush=True)
    while True:
        since = stamp(path)
        run = run_steps(kata)  # in step order, up to the first failure
        if run.passed:
            print(f"{kata.label} done: every test passes", flush=True)
            return
        step = run.first_unfinished
        print(f"step {step}:" if step is not None else f"{kata.label}:", end=" " if step else "\n")
        report(run)
        print(f"save {shown(path)} to run it again (Ctrl-C stops)", flush=True)
        while True:
            since = wait_for_change(path, since, interval)
            if step is None or run.broken:
                break  # run everything again: the file may import now
            print(f"step {step}: running its tests again ...", flush=True)
            run = run_steps(kata, (step,))
            if run.passed:
                later = [other for other in steps if other > step]
                following = f"step {later[0]}" if later else "the kata's last check"
                print(f"step {step} done — next: {following}", flush=True)
                break
            report(run)
            print(f"save {shown(path)} to run it again (Ctrl-C stops)", flush=True)


def main(argv: list[str] | None = None) -> int:
    command_line = parser()
    arguments = command_line.parse_args(argv)
    if not arguments.interval > 0:
        command_line.error(f"--interval must be > 0 seconds, got {arguments.interval:g}")
    kata = chosen_kata(command_line, arguments.kata)
    order = list(built())
    try:
        for position in range(order.index(kata), len(order)):
            watch_kata(order[position], arguments.interval)
            if position + 1 < len(order):
                print(f"next kata: {order[position + 1].label}", flush=True)
        print("every kata from here on passes: nothing left to watch")
        return 0
    except KeyboardInterrupt:
        print("\nwatch: stopped (Ctrl-C); your file is as you saved it", flush=True)
        return 0
