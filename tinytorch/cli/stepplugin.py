"""A pytest plugin for ``watch`` and ``hint``: run a kata's tests step by step, and say how each went.

Loaded with ``-p tinytorch.cli.stepplugin``. ``--tinytorch-steps 2,3`` keeps only those steps' tests;
either way the tests run in step order (a stable sort: the file's order within a step), so
that with ``-x`` the first failure is in the first unfinished step. ``--tinytorch-step-report FILE``
writes one JSON line per test: its node id, step, outcome and, for a failure, its short report.
"""

from __future__ import annotations

import json

import pytest

from tinytorch.cli.steps import step_of


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch steps")
    group.addoption(
        "--tinytorch-steps", default="", help="only the tests of these steps (e.g. 2 or 2,3), in step order"
    )
    group.addoption(
        "--tinytorch-step-report", default="", help="write each test's step and outcome to this file (JSON lines)"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    wanted = {int(step) for step in config.getoption("tinytorch_steps").split(",") if step.strip()}
    kept = [item for item in items if not wanted or step_of(item.nodeid) in wanted]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    kept.sort(key=lambda item: (step_of(item.nodeid) is None, step_of(item.nodeid) or 0))
    items[:] = kept


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("tinytorch_step_report")
    if path:
        config.pluginmanager.register(StepReport(path), "tinytorch-step-report")


class StepReport:
    """Writes one JSON line per test, at its teardown: its worst phase (failed in any, else
    skipped in any, else passed) and, for a failure, the first failing phase's short report."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        seen = self.seen.setdefault(report.nodeid, {"outcome": "passed", "text": "", "crash": ""})
        if report.failed and seen["outcome"] != "failed":
            seen["outcome"] = "failed"
            seen["text"] = report.longreprtext
            crash = getattr(report.longrepr, "reprcrash", None)
            seen["crash"] = f"{crash.path}:{crash.lineno}: {crash.message}" if crash is not None else ""
        elif report.skipped and seen["outcome"] == "passed":
            seen["outcome"] = "skipped"
        if report.when == "teardown":
            line = {"nodeid": report.nodeid, "step": step_of(report.nodeid), **self.seen.pop(report.nodeid)}
            with open(self.path, "a", encoding="utf-8") as file:
                file.write(json.dumps(line) + "\n")

    def pytest_collectreport(self, report) -> None:
        """A file that cannot be collected (a syntax error in the learner's code) is a failure too."""
        if report.failed:
            line = {"nodeid": report.nodeid, "step": None, "outcome": "error", "text": report.longreprtext, "crash": ""}
            with open(self.path, "a", encoding="utf-8") as file:
                file.write(json.dumps(line) + "\n")
