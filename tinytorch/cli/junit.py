"""Reading pytest's JUnit XML reports and writing the grader's: one test suite per kata.

A test's outcome is read from its ``testcase``: no ``failure``, ``error`` or ``skipped``
child is *passed*; a failure or error whose message names :class:`tinytorch.testing.guards.Timeout`
(pytest-timeout's limit, or the kata's budget) is *timed out*; any other failure or error is
*failed*; ``skipped`` is *skipped*.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tinytorch.cli.steps import step_of

TIMEOUT_MARKS = ("guards.Timeout", "Timeout: Timeout (>")  # how a Timeout's report begins


@dataclass
class Case:
    name: str  # the test's name, parameters included
    classname: str
    outcome: str  # passed, failed, timed_out or skipped
    seconds: float
    step: int | None


def outcome(case: ET.Element) -> str:
    problems = [child for child in case if child.tag in ("failure", "error")]
    if problems:
        text = " ".join((child.get("message") or "") + (child.text or "") for child in problems)
        return "timed_out" if any(mark in text for mark in TIMEOUT_MARKS) else "failed"
    return "skipped" if case.find("skipped") is not None else "passed"


def read_cases(report: Path) -> tuple[list[Case], list[ET.Element]]:
    """The test cases of a pytest JUnit report, and its ``testsuite`` elements (to copy)."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = []
    for suite in suites:
        for case in suite.iter("testcase"):
            name = case.get("name", "")
            cases.append(
                Case(name, case.get("classname", ""), outcome(case), float(case.get("time") or 0), step_of(name))
            )
    return cases, suites


def suite(name: str, cases: list[ET.Element], seconds: float) -> ET.Element:
    """A ``testsuite`` element named ``name`` holding ``cases``, with its counts."""
    element = ET.Element("testsuite", name=name)
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        counts["failures"] += case.find("failure") is not None
        counts["errors"] += case.find("error") is not None and case.find("failure") is None
        counts["skipped"] += case.find("skipped") is not None
        element.append(case)
    element.set("tests", str(len(cases)))
    for key, value in counts.items():
        element.set(key, str(value))
    element.set("time", f"{seconds:.3f}")
    return element


def case(classname: str, name: str, problem: str | None = None, kind: str = "failure") -> ET.Element:
    """One ``testcase``, failed with ``problem`` when given."""
    element = ET.Element("testcase", classname=classname, name=name, time="0")
    if problem is not None:
        ET.SubElement(element, kind, message=problem).text = problem
    return element


def write(path: Path, suites: list[ET.Element], name: str = "tinytorch grade") -> None:
    """Write ``suites`` under one ``testsuites`` root, with the totals CI services read."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for element in suites:
        root.append(element)
        for key in totals:
            totals[key] += int(element.get(key, "0"))
        seconds += float(element.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
