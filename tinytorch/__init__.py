"""tinytorch: the framework you build, one kata at a time.

``tinytorch.tensor``, ``tinytorch.autograd``, ... are not in this folder: each resolves to
``exercises/NN_name/name.py`` (your code) or ``solutions/NN_name/name.py`` (the reference).
The package ``__path__`` lists exactly one folder per kata, so one file backs each module
in a process. Outside pytest, ``TINYTORCH_IMPL=solutions`` picks the reference for every
module (the default is ``exercises``: your code). Inside pytest, ``conftest.py`` calls
:func:`select` with ``--impl`` and ``--deps``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tinytorch.registry import IMPLS, built, kata_file

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
__path__ = [_PACKAGE_DIR]
_selection: dict[str, Path] = {}


class SwitchError(RuntimeError):
    """The switch was asked for something that does not exist."""


def select(impl: str, under_test: set[str] | None = None, deps: str = "solutions") -> dict[str, Path]:
    """Choose the file behind every ``tinytorch.<kata>``; returns ``{name: file}``.

    Katas in ``under_test`` (all when None) come from ``impl``; the others from ``deps``.
    Raises SwitchError for an unknown impl, a missing file, or a kata already imported
    (a second file must never back a module that a process has already loaded).
    """
    for option, value in (("impl", impl), ("deps", deps)):
        if value not in IMPLS:
            raise SwitchError(f"tinytorch: {option} must be one of {', '.join(IMPLS)}, got {value!r}")
    loaded = [kata.name for kata in built() if f"tinytorch.{kata.name}" in sys.modules]
    if loaded:
        raise SwitchError(f"tinytorch: cannot switch after importing {', '.join(loaded)}")
    exercises_dir = Path(os.environ["TINYTORCH_EXERCISES"]) if os.environ.get("TINYTORCH_EXERCISES") else None
    chosen = {}
    for kata in built():
        source = impl if under_test is None or kata.name in under_test else deps
        path = kata_file(kata, source, exercises_dir)
        if not path.is_file():
            raise SwitchError(f"tinytorch: {source} for kata {kata.label} must be at {path}, but there is no such file")
        chosen[kata.name] = path
    __path__[:] = [_PACKAGE_DIR, *(str(path.parent) for path in chosen.values())]
    _selection.clear()
    _selection.update(chosen)
    return dict(chosen)


def selection() -> dict[str, Path]:
    """The file behind each ``tinytorch.<kata>`` in this process."""
    return dict(_selection)


select(os.environ.get("TINYTORCH_IMPL", "exercises"))
