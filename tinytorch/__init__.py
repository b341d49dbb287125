"""tinytorch: the framework you build, one kata at a time.

``tinytorch.tensor``, ``tinytorch.autograd``, ... are not in this folder: each resolves to
``exercises/NN_name/name.py`` (your code) or ``solutions/NN_name/name.py`` (the reference).
The package ``__path__`` lists exactly one folder per kata, so one file backs each module
in a process.

Outside pytest (a script, a REPL, a lesson's snippet, a milestone), the environment chooses
when tinytorch is first imported:

- ``TINYTORCH_MINE=optimizers`` (kata names, numbers or folders, separated by commas or
  spaces): those katas are your code and every other kata is the reference, the choice that
  ``pytest exercises/06_optimizers`` makes;
- without it, every kata is your code;
- ``TINYTORCH_IMPL=solutions`` makes the reference back the katas that would be yours, so
  every kata is the reference.

The first import of a kata module then prints one line on stderr saying whose code backs each
module. If that choice cannot be made (a bad value, a missing file), importing a kata module
raises the SwitchError; ``import tinytorch`` itself and an explicit :func:`select` still work.

Inside pytest, ``conftest.py`` calls :func:`select` with the command line's choice (``--impl``,
``--deps``; ``TINYTORCH_MINE`` is not used there). An explicit :func:`select` prints nothing:
the tool that calls it says whose code it ran.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from pathlib import Path

from tinytorch.registry import IMPLS, built, kata_file, named

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
__path__ = [_PACKAGE_DIR]
_selection: dict[str, Path] = {}
_sources: dict[str, str] = {}  # kata name -> "exercises" or "solutions"
MINE_VARIABLE = "TINYTORCH_MINE"


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
    chosen, sources = {}, {}
    for kata in built():
        source = impl if under_test is None or kata.name in under_test else deps
        path = kata_file(kata, source, exercises_dir())
        if not path.is_file():
            raise SwitchError(f"tinytorch: {source} for kata {kata.label} must be at {path}, but there is no such file")
        chosen[kata.name], sources[kata.name] = path, source
    __path__[:] = [_PACKAGE_DIR, *(str(path.parent) for path in chosen.values())]
    _selection.clear()
    _selection.update(chosen)
    _sources.clear()
    _sources.update(sources)
    _ANNOUNCER.withdraw()  # an explicit choice: its caller says whose code it runs
    return dict(chosen)


def selection() -> dict[str, Path]:
    """The file behind each ``tinytorch.<kata>`` in this process."""
    return dict(_selection)


def sources() -> dict[str, str]:
    """Where each ``tinytorch.<kata>`` comes from in this process: ``exercises`` or ``solutions``."""
    return dict(_sources)


def exercises_dir() -> Path | None:
    """The folder laid out like ``exercises/`` that ``TINYTORCH_EXERCISES`` names, if set."""
    folder = os.environ.get("TINYTORCH_EXERCISES")
    return Path(folder) if folder else None


def mine_from_environment() -> set[str] | None:
    """The katas ``TINYTORCH_MINE`` names (None when it is unset or blank).

    Raises SwitchError naming the built katas when a name is not one of them.
    """
    text = os.environ.get(MINE_VARIABLE, "")
    if not text.strip():
        return None
    try:
        return {kata.name for kata in named(text, MINE_VARIABLE)}
    except ValueError as error:
        raise SwitchError(f"tinytorch: {error}") from None


def select_from_environment(announce: bool = True) -> dict[str, Path]:
    """The choice a script gets: ``TINYTORCH_MINE`` yours (all when unset), the rest the reference.

    ``TINYTORCH_IMPL`` (default ``exercises``) backs the katas that would be yours. With
    ``announce``, the first import of a kata module prints :func:`describe` on stderr.
    """
    chosen = select(os.environ.get("TINYTORCH_IMPL", "exercises"), mine_from_environment())
    if announce:
        _ANNOUNCER.install()
    return chosen


def describe() -> str:
    """One line: whose code backs the katas in this process, e.g.

    ``tinytorch: your code for optimizers; the reference for tensor, activations, ...``
    """
    yours = [name for name, source in _sources.items() if source == "exercises"]
    reference = [name for name, source in _sources.items() if source == "solutions"]
    folder = exercises_dir()
    where = f" (from {folder})" if folder else ""
    if not reference:
        hint = f"{MINE_VARIABLE}=<katas>: only those, the reference for the rest"
        return f"tinytorch: your code{where} for every kata ({hint})"
    if not yours:
        return "tinytorch: the reference (solutions/) for every kata"
    return f"tinytorch: your code{where} for {', '.join(yours)}; the reference for {', '.join(reference)}"


class _Announcer(importlib.abc.MetaPathFinder):
    """Prints :func:`describe` on stderr once, when a kata module is first imported; or raises the
    error that kept the environment's choice from being made.

    It finds nothing itself: it only looks at the names imported, then the import goes on as
    if it were not there.
    """

    def __init__(self) -> None:
        self.error: SwitchError | None = None

    def install(self, error: SwitchError | None = None) -> None:
        self.error = error
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def withdraw(self) -> None:
        self.error = None
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path, target=None):  # the import system calls it so
        package, _, name = fullname.partition(".")
        if package != "tinytorch" or name not in {kata.name for kata in built()}:
            return None
        if self.error is not None:
            raise self.error
        self.withdraw()
        print(describe(), file=sys.stderr, flush=True)
        return None


_ANNOUNCER = _Announcer()
try:
    select_from_environment()
except SwitchError as error:  # raised again by the first import of a kata module
    _ANNOUNCER.install(error)
