"""``python -m tinytorch hint [KATA] [--step N]``: the hint of the step you are on, from the lesson.

The step you are on is the first step of the kata whose tests do not all pass (a test run, in
step order, up to the first failure: a few seconds); ``--step`` names one instead. The hint is
read from the kata's lesson (:mod:`tinytorch.cli.lesson`), the one place hints live.
"""

from __future__ import annotations

import argparse

from tinytorch.cli.current import chosen_kata
from tinytorch.cli.lesson import hint
from tinytorch.cli.steprun import run_steps, short_failure
from tinytorch.cli.steps import kata_steps, step_command
from tinytorch.registry import ROOT

PROG = "python -m tinytorch hint"


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Print the hint of the step you are on, from the kata's lesson. The step you are on is the first "
            "step whose tests do not all pass yet (the tests run in step order up to the first failure); "
            "without KATA, the kata is the first one with a function still to write."
        ),
        epilog="Exit codes: 0 a hint was printed (or the kata passes); 1 the tests could not run; 2 a bad command.",
    )
    result.add_argument("kata", nargs="?", metavar="KATA", help="a kata: name, number or folder (default: yours)")
    result.add_argument("--step", type=int, metavar="N", help="the hint of step N, without running the tests")
    return result


def main(argv: list[str] | None = None) -> int:
    command_line = parser()
    arguments = command_line.parse_args(argv)
    kata = chosen_kata(command_line, arguments.kata)
    steps = kata_steps(kata)
    if arguments.step is not None and arguments.step not in steps:
        command_line.error(
            f"--step must be a step of {kata.label} ({', '.join(map(str, steps))}), got {arguments.step}"
        )
    lesson = ROOT / "exercises" / kata.folder / "README.md"
    if not lesson.is_file():
        print(f"{kata.label}: the lesson {lesson.relative_to(ROOT)} is missing, and hints live there")
        return 1
    step = arguments.step
    why = "as asked"
    if step is None:
        print(f"{kata.label}: running its tests in step order, up to the first failure ...", flush=True)
        run = run_steps(kata)
        if run.broken:
            print(run.output.rstrip())
            print(f"{kata.label}: pytest could not run the tests (above)")
            return 1
        if run.passed:
            print(f"{kata.label}: every test passes, nothing to hint. Well done.")
            return 0
        failure = run.failure
        if run.first_unfinished is None:  # a collection error: the file does not import
            print(short_failure(failure))
            print(f"{kata.label}: your file cannot be run yet (above); fix that first")
            return 1
        step = run.first_unfinished
        why = f"the first step whose tests do not all pass: {step_command(kata, step)}"
        print(short_failure(failure))
        print()
    found = hint(lesson.read_text(encoding="utf-8"), step)
    where = lesson.relative_to(ROOT)
    print(f"{kata.label}, step {step} ({why})")
    print(found.title)
    print()
    if found.text:
        print(f"Hint ({where}, line {found.line}, {found.where}):")
        print(found.text)
    else:
        print(f"The lesson has no hint of its own for step {step}: read its steps in {where}.")
    if found.general:
        print()
        print(f"Hints for every step ({where}, line {found.general_line}):")
        print(found.general)
    return 0
