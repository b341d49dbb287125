"""A kata's steps: which steps it has, and which step a test belongs to.

The steps are the lesson's: each function to write carries ``# solution: step N`` in the
reference (:func:`tinytorch.stubs.targets`), and each test names its step in its name,
``stepN_`` (``test_step3_...``), or at the start of its parameter id, ``stepN-``
(``test_forward[step5-add]``). ``pytest -k "step3_ or step3-"`` selects exactly step 3's tests
(a bare ``-k step1`` would select step 10's too). Nothing here lists katas or steps: both are
read from the files, so a kata built tomorrow has its steps without an edit here.
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


def selection(step: int) -> str:
    """The ``pytest -k`` expression that selects exactly the tests of ``step``.

    >>> selection(1)
    'step1_ or step1-'
    """
    return f"step{step}_ or step{step}-"


def step_command(kata: Kata, step: int) -> str:
    """The command that runs ``step``'s tests of ``kata``, as a learner types it in a shell.

    >>> from tinytorch.registry import BY_NAME
    >>> step_command(BY_NAME["autograd"], 5)
    'pytest exercises/03_autograd -k "step5_ or step5-"'
    """
    return f'pytest exercises/{kata.folder} -k "{selection(step)}"'


def stub_message(kata: Kata) -> str:
    """The start of every ``NotImplementedError`` message in ``kata``'s pristine stub."""
    return f"{kata.label}: implement "


def functions_left(kata: Kata, source: str) -> bool:
    """Whether the learner's ``source`` of ``kata`` still raises a stub's ``NotImplementedError``."""
    return stub_message(kata) in source
