"""The learner's command line, ``python -m tinytorch``: one subcommand per file.

    status [KATA ...]                       progress per kata, and the step to do next (the default)
    watch [KATA]                            run the step you are on, again each time you save
    hint [KATA]                             the hint of the step you are on, from the lesson
    reset KATA                              your file back to the pristine stub, after a backup
    grade [--json FILE] [--junit FILE]      every kata graded, per step, for a class on CI

``python -m tinytorch KATA ...`` (no subcommand) is ``status KATA ...``.
"""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "status": "progress per kata, and the step to do next (the default)",
    "watch": "run the step you are on, again each time you save your file",
    "hint": "print the hint of the step you are on, from the lesson",
    "reset": "restore a kata's pristine stub, after saving your file to a backup",
    "grade": "grade every kata per step: JUnit XML and a JSON summary, for a class on CI",
}


def commands_epilog() -> str:
    lines = ["\n\nsubcommands (`python -m tinytorch SUBCOMMAND --help` for each):"]
    lines += [f"  {name:<8} {what}" for name, what in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the subcommand ``argv`` names. A reader that stops early (``python -m tinytorch grade | head``)
    ends the command quietly, with exit status 1 and no traceback."""
    try:
        try:
            return run(list(sys.argv[1:] if argv is None else argv))
        finally:
            sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
    except BrokenPipeError:
        # Python's advice: point stdout at devnull, or flushing it again at exit raises once more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def run(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        name, rest = argv[0], argv[1:]
        module = importlib.import_module(f"tinytorch.cli.{name}")
        if name == "status":
            return module.main(rest, prog="python -m tinytorch status")
        return module.main(rest)
    from tinytorch.cli import status

    return status.main(argv, prog="python -m tinytorch [status]", epilog=commands_epilog())
