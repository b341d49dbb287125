"""The switch, the report header, hypothesis profiles and the safety nets for every test run.

``--impl exercises|solutions`` picks the implementation of the katas under test: the ones whose
``exercises/NN_name`` folder the command line names (all of them for a bare ``pytest``). Every
other kata comes from ``--deps`` (the reference by default), so a failure points at the kata
you are working on. ``TINYTORCH_IMPL`` sets the default of ``--impl``. ``TINYTORCH_MINE``, the
choice outside pytest, is not read here (the header says so when it is set). When a kata under test
is the reference, the run's last lines say so.

A run refuses to start without pytest-memray and pytest-timeout (budgets and timeouts would
switch off silently) or with a built kata's tests missing (it would run fewer tests silently).
The safety nets themselves (timeouts that hypothesis cannot swallow, the memory cap, readable
setup failures) are ``tinytorch.testing.guards``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tinytorch.threads import one_blas_thread

one_blas_thread()  # before NumPy loads: BLAS reads its thread count once, at import

import numpy as np  # noqa: E402
import numpy.random  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

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

# Read before pytest_configure overwrites it: to say where a choice of the reference came from.
IMPL_FROM_ENVIRONMENT = os.environ.get("TINYTORCH_IMPL")
# The plugins the guards rest on: without them, memory budgets and timeouts switch off silently.
# (pytest's `required_plugins` setting would refuse to start too, but its message cannot say
# how to install them.) Names as in pyproject.toml's `test` extra.
REQUIRED_PLUGINS = {"memray": "pytest-memray", "timeout": "pytest-timeout"}
REFERENCE_UNDER_TEST = pytest.StashKey[list]()


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
    _require_plugins(config)
    impl = config.getoption("impl")
    os.environ["TINYTORCH_IMPL"] = impl  # read when tinytorch is first imported
    try:
        import tinytorch
        from tinytorch.registry import ROOT, built

        _require_kata_tests(ROOT, built())
        under_test = _katas_named(config.args, Path(config.invocation_params.dir), ROOT, built())
        chosen = tinytorch.select(impl, under_test, deps=config.getoption("deps"))
    except RuntimeError as error:  # tinytorch.SwitchError: a missing kata file, a bad option
        raise pytest.UsageError(str(error)) from None
    solutions = ROOT / "solutions"
    config.stash[REFERENCE_UNDER_TEST] = [
        kata for kata in built() if kata.name in under_test and chosen[kata.name].is_relative_to(solutions)
    ]
    from tinytorch.testing import guards

    config.pluginmanager.register(guards, "tinytorch-guards")
    if sys.platform.startswith("linux"):
        try:
            cap = guards.address_space_cap(guards.physical_memory(), os.environ.get(guards.CAP_VARIABLE))
        except ValueError as error:
            raise pytest.UsageError(f"tinytorch: {error}") from None
        guards.cap_address_space(cap)
    # OpenBLAS allocates a work buffer (32 MiB here) at the first large matmul of a process;
    # pay for it now, so that no memory-budget test counts it.
    np.ones((1024, 1024)) @ np.ones((1024, 1024))


def _require_plugins(config: pytest.Config) -> None:
    """Refuse to run without the plugins that enforce memory budgets and timeouts."""
    missing = [package for name, package in REQUIRED_PLUGINS.items() if not config.pluginmanager.hasplugin(name)]
    if missing:
        raise pytest.UsageError(
            f"tinytorch: pytest must have the plugins {' and '.join(REQUIRED_PLUGINS.values())}, "
            f"got no {' and no '.join(missing)}: without them, memory budgets and timeouts would switch off "
            "silently. Install them into the Python that runs this pytest, from the repository's folder: "
            f"`{sys.executable} -m pip install -e '.[test]'`; or run the pytest of the virtual environment "
            "that has them: `.venv/bin/pytest`."
        )


def _require_kata_tests(root: Path, katas) -> None:
    """Refuse to run when a built kata's tests are missing: the run would have fewer tests, silently."""
    for kata in katas:
        tests = root / "exercises" / kata.folder / f"test_{kata.name}.py"
        if not tests.is_file():
            raise pytest.UsageError(
                f"tinytorch: the tests of every built kata must be present, got no {tests.relative_to(root)} "
                f"(restore the folder: `git checkout -- exercises/{kata.folder}`)"
            )


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
    mine = os.environ.get("TINYTORCH_MINE", "").strip()
    if mine:  # the choice outside pytest: say that it is not this run's
        lines.append(f"  TINYTORCH_MINE={mine} is not read by pytest: the command line chooses (see the README)")
    for name, path in tinytorch.selection().items():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines.append(f"  tinytorch.{name:<13} <- {shown}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line, even under -q, when a kata under test was the reference and not the learner's code."""
    reference = config.stash.get(REFERENCE_UNDER_TEST, [])
    if not reference:
        return
    from tinytorch.registry import built

    katas = "every kata" if len(reference) == len(built()) else ", ".join(kata.label for kata in reference)
    on_command_line = any(arg.startswith("--impl") for arg in config.invocation_params.args)
    source = (
        "TINYTORCH_IMPL=solutions is set in your environment"
        if IMPL_FROM_ENVIRONMENT == "solutions" and not on_command_line
        else "--impl solutions"
    )
    terminalreporter.write_line(
        f"tinytorch: the reference (solutions/), not your code, was under test for {katas} ({source})",
        yellow=True,
        bold=True,
    )


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every test draws the same numbers on every run."""
    return np.random.default_rng(20261124)
