"""The switch, the report header, hypothesis profiles and the safety nets for every test run.

``--impl exercises|solutions`` picks the implementation of the katas under test: the ones whose
``exercises/NN_name`` folder the command line names (all of them for a bare ``pytest``). Every
other kata comes from ``--deps`` (the reference by default), so a failure points at the kata
you are working on. ``TINYTORCH_IMPL`` sets the default of ``--impl``.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import numpy as np
import numpy.random
import pytest
from hypothesis import HealthCheck, Phase, settings

# No deadline: pytest-timeout guards against infinite loops instead, and a deadline would
# flake on a busy machine. No `explain` phase: it re-runs a failing test many times to annotate
# the report, which turned a stub's instant NotImplementedError into a minute per test.
# `ci` is deterministic; `dev` explores new examples on every run.
PHASES = [phase for phase in Phase if phase is not Phase.explain]
settings.register_profile("dev", max_examples=40, deadline=None, phases=PHASES)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    phases=PHASES,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# A learner's runaway allocation must end in a MemoryError, not a dead machine.
MAX_ADDRESS_SPACE = int(os.environ.get("TINYTORCH_MAX_MEMORY_GB", "4")) * 2**30


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch")
    group.addoption(
        "--impl",
        choices=("exercises", "solutions"),
        default=os.environ.get("TINYTORCH_IMPL", "exercises"),
        help="test your code (exercises, the default) or the reference (solutions)",
    )
    group.addoption(
        "--deps",
        choices=("exercises", "solutions"),
        default="solutions",
        help="where the katas not under test come from (default: the reference)",
    )


def pytest_configure(config: pytest.Config) -> None:
    impl = config.getoption("impl")
    os.environ["TINYTORCH_IMPL"] = impl  # read when tinytorch is first imported
    try:
        import tinytorch
        from tinytorch.registry import ROOT, built

        under_test = _katas_named(config.args, Path(config.invocation_params.dir), ROOT, built())
        tinytorch.select(impl, under_test, deps=config.getoption("deps"))
    except RuntimeError as error:  # tinytorch.SwitchError: a missing kata file, a bad option
        raise pytest.UsageError(str(error)) from None
    if sys.platform.startswith("linux"):
        resource.setrlimit(resource.RLIMIT_AS, (MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE))
    # OpenBLAS allocates a work buffer (32 MiB here) at the first large matmul of a process;
    # pay for it now, so that no memory-budget test counts it.
    np.ones((1024, 1024)) @ np.ones((1024, 1024))


def _katas_named(args: list[str], cwd: Path, root: Path, katas) -> set[str]:
    """The katas whose exercise folder an argument names, contains or lies inside."""
    paths = [(cwd / arg.split("::")[0]).resolve() for arg in args] or [root]
    named = set()
    for kata in katas:
        folder = root / "exercises" / kata.folder
        if any(path == folder or path in folder.parents or folder in path.parents for path in paths):
            named.add(kata.name)
    return named


def pytest_report_header(config: pytest.Config) -> list[str]:
    import tinytorch
    from tinytorch.registry import ROOT

    lines = [f"tinytorch: --impl {config.getoption('impl')} --deps {config.getoption('deps')}"]
    for name, path in tinytorch.selection().items():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines.append(f"  tinytorch.{name:<13} <- {shown}")
    return lines


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every test draws the same numbers on every run."""
    return np.random.default_rng(20261124)
