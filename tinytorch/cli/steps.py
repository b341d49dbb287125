"""A kata's steps: which steps it has, and which step a test belongs to.

The steps are the lesson's: each function to write carries ``# solution: step N`` in the
reference (:func:`tinytorch.stubs.targets`), and each test names its step in its name or its
parameter id (``test_step3_...``, ``test_forward[step5-add]``), the name ``pytest -k step3``
selects. Nothing here lists katas or steps: both are read from the files, so a kata built
tomorrow has its steps without an edit here.
"""

from __future__ import annotations

import re

from tinytorch.registry import Kata, kata_file
from tinytorch.stubs import targets

STEP_IN_TEST = re.compile(r"step(\d+)")


def kata_steps(kata: Kata) -> list[int]:
    """The step numbers of ``kata``, in order, from its reference's ``# solution: step N`` markers."""
    return sorted({step for _, step, _, _ in targets(kata_file(kata, "solutions").read_text())})


def step_of(test_id: str) -> int | None:
    """The step a test belongs to: the first ``stepN`` in its node id or name (None when none).

    >>> step_of("exercises/03_autograd/test_autograd.py::test_forward_matches_numpy[step5-add]")
    5
    """
    found = STEP_IN_TEST.search(test_id.split("::", 1)[-1])
    return int(found.group(1)) if found else None


def stub_message(kata: Kata) -> str:
    """The start of every ``NotImplementedError`` message in ``kata``'s pristine stub."""
    return f"{kata.label}: implement "


def functions_left(kata: Kata, source: str) -> bool:
    """Whether the learner's ``source`` of ``kata`` still raises a stub's ``NotImplementedError``."""
    return stub_message(kata) in source
