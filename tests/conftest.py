"""Fixtures for the repository's own tests: a clean child process, and the repository's conftest.

The switch is chosen once per process, so every claim about another choice is checked in a
child process: ``sys.executable``, run from the repository root, with every ``TINYTORCH_*``
variable (and ``PYTEST_ADDOPTS``) removed from its environment so that the parent run's own
choice cannot leak into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

# Not `from tinytorch.registry import ROOT`: this file loads before the switch is set (the
# root conftest's pytest_configure), and importing tinytorch runs TINYTORCH_IMPL's selection.
ROOT = Path(__file__).resolve().parent.parent

# A child pytest needs no cache files in the repository and no benchmark plugin, and its
# claims never rest on assertion rewriting: --assert=plain halves its start-up (pytest would
# otherwise rewrite every module of hypothesis, anew in each process under
# PYTHONDONTWRITEBYTECODE, which tox sets).
PYTEST = ("-m", "pytest", "-p", "no:cacheprovider", "-p", "no:benchmark", "--assert=plain")
Run = Callable[..., subprocess.CompletedProcess]


def clean_environment() -> dict[str, str]:
    """This process's environment without the variables that steer tinytorch or pytest."""
    # PYTHONUNBUFFERED too: CI has none, and a child's stdout then reaches the pipe after its stderr.
    dropped = ("TINYTORCH_", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST", "PYTHONUNBUFFERED")
    return {key: value for key, value in os.environ.items() if not key.startswith(dropped)}


def run_child(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 45):
    """``sys.executable *args`` in a clean child, finished; stderr merged into stdout."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**clean_environment(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def planned(monkeypatch):
    """A registry whose last kata is planned, not built (every kata is built now): that kata.

    ``tinytorch.registry``'s ``KATAS`` and ``BY_NAME`` are replaced for the test; everything that
    reads them when called (``named``, ``built``, ``Milestone.unbuilt``) sees the planned kata.
    """
    import dataclasses

    import tinytorch.registry as registry

    last = dataclasses.replace(registry.KATAS[-1], built=False)
    monkeypatch.setattr(registry, "KATAS", (*registry.KATAS[:-1], last))
    monkeypatch.setattr(registry, "BY_NAME", {**registry.BY_NAME, last.name: last})
    return last


@pytest.fixture(scope="session")
def clean_env() -> dict[str, str]:
    """This process's environment without the variables that steer tinytorch or pytest."""
    return clean_environment()


@pytest.fixture(scope="session")
def run_python() -> Run:
    """``run_python(*args, env={...}, cwd=ROOT)``: the finished child, stderr merged into stdout."""
    return run_child


@pytest.fixture(scope="session")
def run_pytest(run_python) -> Run:
    """``run_pytest(*args, env={...}, cwd=ROOT)``: ``python -m pytest`` in a clean child."""

    def run(*args: str, **kwargs):
        return run_python(*PYTEST, *args, **kwargs)

    return run


# --- children started early, in the background -------------------------------------------------
#
# A file whose tests read many children defines ``start_children(starter) -> children``, which
# only starts them (``starter.python``, ``starter.pytest``: futures) and returns what its tests
# read, and a module fixture ``children(early)`` that returns ``early(module)``. The children of
# every such file selected in a run are started as soon as collection ends, in the order of the
# tests, by a pool of workers: in a whole run they run on the spare core while this process runs
# the kata tests, and each file's children run side by side. ``--co`` starts none.


def run_in_background(quiet, *args: str, output, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout=45):
    """``run_child`` for a pool's worker: the child writes to the file ``output``, and the worker
    allocates only while it holds ``quiet`` (``tinytorch.testing.memory.QUIET``), which a budget
    test holds while it runs: memray counts every thread's allocations in a budget test's peak,
    and a worker reading a child's output during 09's im2col budget test pushed it over."""
    with quiet:
        child = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            env={**clean_environment(), **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        returncode = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        raise
    with quiet:
        return subprocess.CompletedProcess(child.args, returncode)


class Started:
    """A child started in the pool: ``result()`` waits for it and returns ``run_python``'s result,
    its output read from the child's file in the thread that asks."""

    def __init__(self, future: Future[subprocess.CompletedProcess], output) -> None:
        self.future, self.output = future, output

    def result(self) -> subprocess.CompletedProcess:
        finished = self.future.result()
        self.output.seek(0)
        finished.stdout = self.output.read()
        return finished


class Starter:
    """What ``start_children`` is given: ``python``/``pytest`` start a child in the pool and return
    a ``Started`` whose ``result()`` is ``run_python``/``run_pytest``'s; ``mktemp(name)`` is a
    fresh folder."""

    def __init__(self, pool: ThreadPoolExecutor, root: Path) -> None:
        from tinytorch.testing.memory import QUIET  # here: importing tinytorch.testing at the top selects too early

        self.pool, self.root, self.quiet = pool, root, QUIET

    def python(self, *args: str, **kwargs) -> Started:
        output = tempfile.TemporaryFile("w+", dir=self.root)  # opened here, before any test runs
        return Started(self.pool.submit(run_in_background, self.quiet, *args, output=output, **kwargs), output)

    def pytest(self, *args: str, **kwargs) -> Started:
        return self.python(*PYTEST, *args, **kwargs)

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


_early: dict[str, object] = {}  # module name -> what its start_children returned
_starter: list[Starter] = []  # the session's one Starter, once made
_temporary: list[tempfile.TemporaryDirectory] = []


def _the_starter(workers: int) -> Starter:
    if not _starter:
        _temporary.append(tempfile.TemporaryDirectory(prefix="tinytorch-children-"))
        _starter.append(Starter(ThreadPoolExecutor(max_workers=workers), Path(_temporary[0].name)))
    return _starter[0]


def _workers(in_process_kata_tests: bool) -> int:
    """One child per core; one core fewer while this process has kata tests of its own to run."""
    cores = os.cpu_count() or 2
    return max(1, cores - 1) if in_process_kata_tests else cores


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    modules = []
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "start_children") and module not in modules:
            modules.append(module)
    if not modules:
        return
    here = Path(__file__).resolve().parent
    kata_tests = any(not Path(item.path).resolve().is_relative_to(here) for item in session.items)
    starter = _the_starter(_workers(kata_tests))
    for module in modules:
        _early[module.__name__] = module.start_children(starter)


def pytest_sessionfinish(session) -> None:
    if _starter:
        _starter[0].pool.shutdown(wait=True, cancel_futures=True)
        _temporary[0].cleanup()


@pytest.fixture(scope="session")
def early() -> Callable[[ModuleType], object]:
    """``early(module)``: what ``module.start_children`` returned when collection ended (started
    now if it was not, e.g. when the module was imported after collection)."""

    def children(module: ModuleType):
        if module.__name__ not in _early:
            _early[module.__name__] = module.start_children(_the_starter(_workers(False)))
        return _early[module.__name__]

    return children


@pytest.fixture(scope="session")
def repo_conftest(pytestconfig) -> ModuleType:
    """The repository's ``conftest.py`` as this run loaded it (importing it again would re-run it)."""
    for plugin in pytestconfig.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).resolve() == ROOT / "conftest.py":
            return plugin
    raise LookupError(f"this run did not load {ROOT / 'conftest.py'}")
