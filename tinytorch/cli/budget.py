"""A pytest plugin for ``grade``: a kata's time budget, after which its remaining tests time out.

Loaded with ``-p tinytorch.cli.budget --tinytorch-kata-budget SECONDS``. pytest-timeout bounds
each test (``--timeout``); a kata whose code loops in every test would still take that limit
times its number of tests. Once the kata has run for its budget, every test not begun yet fails
at once with :class:`tinytorch.testing.guards.Timeout` (counted as timed out), so pytest still
finishes and writes its JUnit report, with every test in it.
"""

from __future__ import annotations

import time

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("tinytorch grade").addoption(
        "--tinytorch-kata-budget",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after this long, every test not begun yet times out at once (0: no budget)",
    )


class Budget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if time.monotonic() - self.started > self.seconds:
            from tinytorch.testing.guards import Timeout

            raise Timeout(f"grade: the kata's budget of {self.seconds:g} s was spent before this test began")


def pytest_configure(config: pytest.Config) -> None:
    seconds = config.getoption("tinytorch_kata_budget")
    if seconds > 0:
        config.pluginmanager.register(Budget(seconds), "tinytorch-kata-budget")
