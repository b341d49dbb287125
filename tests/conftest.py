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
from collections.abc import Callable, Iterator
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
Start = Callable[..., "Future[subprocess.CompletedProcess]"]


@pytest.fixture(scope="session")
def clean_env() -> dict[str, str]:
    """This process's environment without the variables that steer tinytorch or pytest."""
    # PYTHONUNBUFFERED too: CI has none, and a child's stdout then reaches the pipe after its stderr.
    dropped = ("TINYTORCH_", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST", "PYTHONUNBUFFERED")
    return {key: value for key, value in os.environ.items() if not key.startswith(dropped)}


@pytest.fixture(scope="session")
def run_python(clean_env) -> Run:
    """``run_python(*args, env={...}, cwd=ROOT)``: the finished child, stderr merged into stdout."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 45):
        return subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env={**clean_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def run_pytest(run_python) -> Run:
    """``run_pytest(*args, env={...}, cwd=ROOT)``: ``python -m pytest`` in a clean child."""

    def run(*args: str, **kwargs):
        return run_python(*PYTEST, *args, **kwargs)

    return run


@pytest.fixture(scope="session")
def background() -> Iterator[ThreadPoolExecutor]:
    """Runs children in the background, one per core at a time (this process mostly waits on them)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        yield pool


@pytest.fixture(scope="session")
def start_python(run_python, background) -> Start:
    """``start_python(*args, env=..., cwd=..., timeout=...)``: ``run_python``'s child, started in the
    background; its ``.result()`` is what ``run_python`` returns. A file's independent children are
    started together in one fixture, so that they run side by side while the tests read them."""

    def start(*args: str, **kwargs):
        return background.submit(run_python, *args, **kwargs)

    return start


@pytest.fixture(scope="session")
def start_pytest(start_python) -> Start:
    """``start_pytest(*args, ...)``: ``run_pytest``'s child, started in the background (see ``start_python``)."""

    def start(*args: str, **kwargs):
        return start_python(*PYTEST, *args, **kwargs)

    return start


@pytest.fixture(scope="session")
def repo_conftest(pytestconfig) -> ModuleType:
    """The repository's ``conftest.py`` as this run loaded it (importing it again would re-run it)."""
    for plugin in pytestconfig.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).resolve() == ROOT / "conftest.py":
            return plugin
    raise LookupError(f"this run did not load {ROOT / 'conftest.py'}")
