"""Which kata a command works on: the one the learner names, or the one they are at.

The kata you are at is the first kata (in curriculum order) whose file still has a function to
write (a stub's ``raise NotImplementedError`` left in it) or is missing. It is read from the
files, not from a test run, so it costs nothing; name a kata to choose another.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tinytorch
from tinytorch.cli.steps import functions_left
from tinytorch.registry import Kata, built, kata_file, named


def learner_file(kata: Kata) -> Path:
    """The learner's file of ``kata`` (``exercises/NN_name/name.py``, or under ``TINYTORCH_EXERCISES``)."""
    return kata_file(kata, "exercises", tinytorch.exercises_dir())


def kata_at() -> Kata | None:
    """The first built kata whose file is missing or still raises a stub's NotImplementedError."""
    for kata in built():
        path = learner_file(kata)
        if not path.is_file() or functions_left(kata, path.read_text(encoding="utf-8", errors="replace")):
            return kata
    return None


def chosen_kata(parser: argparse.ArgumentParser, text: str | None) -> Kata:
    """The kata ``text`` names, else the kata the learner is at; a bad name is a usage error (exit 2)."""
    if text:
        try:
            found = named(text, "KATA")
        except ValueError as error:
            parser.error(str(error))
        if len(found) != 1:
            parser.error(f"KATA: name one kata, got {text!r}")
        return found[0]
    kata = kata_at()
    if kata is None:
        katas = ", ".join(kata.label for kata in built())
        parser.error(f"every kata's functions are written: name the kata to work on ({katas})")
    return kata
