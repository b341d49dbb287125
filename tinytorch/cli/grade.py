"""``python -m tinytorch grade [--json FILE] [--junit FILE]``: every kata graded, step by step.

Each kata runs as ``pytest exercises/NN_name`` runs it (that kata the learner's code, the
katas it builds on the reference; see :mod:`tinytorch.cli.runner`), with pytest writing its own
JUnit XML report, from which every test of every step is counted: passed, failed, timed out
(pytest-timeout's per-test limit, ``--timeout``; or the kata's budget, ``--kata-budget``,
after which its remaining tests time out at once) or skipped. A step scores its points when
every one of its tests passes.

Before any of that, it says whether anything besides the learner's kata files changed
(:mod:`tinytorch.cli.integrity`), so a run on edited tests is never taken for a clean one.

Outputs: the table on stdout; ``--junit FILE`` one JUnit XML test suite per kata (plus one test
for the integrity check) that any CI service displays; ``--json FILE`` a summary a script can
total; ``--classroom FILE`` a line ``result=<base64 JSON>`` appended to FILE (on GitHub Actions,
``$GITHUB_OUTPUT``) in the form GitHub Classroom's autograding reporter reads: one test per kata
step, worth ``--points-per-step``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import tinytorch
from tinytorch.cli import integrity as integrity_check
from tinytorch.cli import junit
from tinytorch.cli.classroom import classroom_result
from tinytorch.cli.runner import Run, jobs, run_all
from tinytorch.cli.steps import kata_steps
from tinytorch.registry import ROOT, Kata, built, named

PROG = "python -m tinytorch grade"
DEFAULT_TIMEOUT = 60.0  # seconds per test: the project's own limit (pyproject.toml)
DEFAULT_BUDGET = 300.0  # seconds per kata, after which its remaining tests time out at once
KILL_MARGIN = 60.0  # a kata still running this long after budget + timeout is killed
OUTCOMES = ("passed", "failed", "timed_out", "skipped")


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Grade every kata on your code, step by step (each kata as `pytest exercises/NN_name` runs it: yours, "
            "on the reference beneath). First it says whether anything besides your kata files changed since the "
            "commit this repository was cloned at. A step scores its points when all its tests pass."
        ),
        epilog=(
            "Exit codes: 0 graded, and nothing besides the kata files changed; 1 graded, but other files changed "
            "(or that could not be checked), or a kata could not be graded; 2 a bad command line."
        ),
    )
    result.add_argument("katas", nargs="*", metavar="KATA", help="katas to grade (default: every built kata)")
    result.add_argument("--json", type=Path, metavar="FILE", help="write the summary as JSON (per kata, per step)")
    result.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML: one test suite per kata")
    result.add_argument(
        "--classroom", type=Path, metavar="FILE", help="append GitHub Classroom's result line to FILE ($GITHUB_OUTPUT)"
    )
    result.add_argument(
        "--submission",
        type=Path,
        metavar="DIR",
        help="grade the kata files of DIR (a checkout of a learner's repository) with this repository's tests and "
        "harness, and compare DIR's files with this repository's instead of with the clone commit",
    )
    result.add_argument("--base", metavar="COMMIT", help="compare with COMMIT instead of the commit cloned at")
    result.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per-test limit; a test past it counts as timed out (default {DEFAULT_TIMEOUT:g})",
    )
    result.add_argument(
        "--kata-budget",
        type=float,
        default=DEFAULT_BUDGET,
        metavar="SECONDS",
        help=f"per-kata budget, after which the kata's remaining tests time out at once (default {DEFAULT_BUDGET:g})",
    )
    result.add_argument(
        "--memory-gb",
        type=float,
        metavar="GIB",
        help="the test processes' address-space cap (default: the harness's, half the machine's memory, at most 4)",
    )
    result.add_argument("--points-per-step", type=float, default=1.0, metavar="POINTS", help="(default 1)")
    return result


def counts() -> dict[str, int]:
    return {"tests": 0, **dict.fromkeys(OUTCOMES, 0)}


def grade_kata(run: Run, report: Path, points: float) -> tuple[dict, object]:
    """The kata's summary (per step) and its JUnit test suite, from pytest's report (or the pipe)."""
    kata = run.kata
    summary = {"kata": kata.label, "number": kata.number, "name": kata.name, "status": "graded", "problem": ""}
    steps: dict[int | None, dict] = {step: counts() for step in kata_steps(kata)}
    if report.is_file() and not run.timed_out:
        cases, suites = junit.read_cases(report)
        for case in cases:
            bucket = steps.setdefault(case.step, counts())
            bucket["tests"] += 1
            bucket[case.outcome] += 1
        elements = [element for suite in suites for element in suite.iter("testcase")]
        if run.collection_error or run.problem:
            summary["status"] = "collection error" if run.collection_error else "could not run"
            summary["problem"] = run.collection_error or run.problem
    else:  # killed, or pytest never wrote its report: what the pipe said
        summary["status"] = "killed" if run.timed_out else "could not run"
        summary["problem"] = (
            f"stopped after {run.seconds:.0f} s"
            if run.timed_out
            else run.problem or run.collection_error or "no report"
        )
        for step, collected in run.step_collected.items():
            bucket = steps.setdefault(step, counts())
            seen = run.step_outcomes.get(step, {})
            bucket["tests"] = collected
            bucket["passed"], bucket["failed"], bucket["skipped"] = (
                seen.get(k, 0) for k in ("passed", "failed", "skipped")
            )
            bucket["timed_out"] = collected - sum(seen.values())
        elements = [
            junit.case(
                f"tinytorch.grade.{kata.folder}", f"{kata.label}: {summary['status']}", summary["problem"], "error"
            )
        ]
    step_list = []
    for step in sorted(steps, key=lambda s: (s is None, s or 0)):
        bucket = steps[step]
        full = step is not None and bucket["tests"] > 0 and bucket["passed"] == bucket["tests"]
        maximum = points if step is not None else 0.0
        step_list.append({"step": step, **bucket, "points": maximum if full else 0.0, "max_points": maximum})
    summary.update(counts())
    for bucket in step_list:
        for key in ("tests", *OUTCOMES):
            summary[key] += bucket[key]
    summary["points"] = sum(bucket["points"] for bucket in step_list)
    summary["max_points"] = sum(bucket["max_points"] for bucket in step_list)
    summary["seconds"] = round(run.seconds, 2)
    summary["steps"] = step_list
    return summary, junit.suite(kata.label, elements, run.seconds)


def whose(submission: Path | None) -> str:
    folder = tinytorch.exercises_dir()
    where = f"{submission}'s exercises/" if submission else folder if folder else "exercises/"
    return f"your code ({where}) for each kata, the reference for the katas it builds on; tests and harness from {ROOT}"


def main(argv: list[str] | None = None) -> int:
    command_line = parser()
    arguments = command_line.parse_args(argv)
    for option in ("timeout", "kata_budget", "points_per_step"):
        if not getattr(arguments, option) > 0:
            command_line.error(f"--{option.replace('_', '-')} must be > 0, got {getattr(arguments, option):g}")
    if arguments.memory_gb is not None and not arguments.memory_gb > 0:
        command_line.error(f"--memory-gb must be > 0, got {arguments.memory_gb:g}")
    try:
        chosen = list(named(" ".join(arguments.katas), "KATA")) if arguments.katas else list(built())
    except ValueError as error:
        command_line.error(str(error))
    if arguments.submission is not None:
        submission = arguments.submission.resolve()
        if not (submission / "exercises").is_dir():
            command_line.error(f"--submission must be a checkout with an exercises/ folder, got {submission}")
        os.environ["TINYTORCH_EXERCISES"] = str(submission / "exercises")  # read by each child's switch
        check = integrity_check.submission_against_course(submission, ROOT)
    else:
        submission = None
        check = integrity_check.since_clone(ROOT, arguments.base)
    if arguments.memory_gb is not None:
        os.environ["TINYTORCH_MAX_MEMORY_GB"] = f"{arguments.memory_gb:g}"
    os.environ.pop("TINYTORCH_IMPL", None)  # the learner's code, always
    print(check.describe())
    print(f"tinytorch grade: {whose(submission)}")
    cap = os.environ.get("TINYTORCH_MAX_MEMORY_GB")
    print(
        f"per-test limit {arguments.timeout:g} s, per-kata budget {arguments.kata_budget:g} s, "
        f"memory cap {cap + ' GiB' if cap else 'the harness default (half the machine, at most 4 GiB)'}",
        flush=True,
    )
    print(f"{'kata':<18}{'tests':>6}{'passed':>8}{'failed':>8}{'timed out':>11}{'points':>10}{'seconds':>9}")
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tinytorch-grade-") as folder:
        reports = Path(folder)

        def extra(kata: Kata) -> list[str]:
            return [
                f"--junitxml={reports / f'{kata.folder}.xml'}",
                f"--timeout={arguments.timeout:g}",
                "-p",
                "tinytorch.cli.budget",
                f"--tinytorch-kata-budget={arguments.kata_budget:g}",
                "-o",
                "junit_family=xunit1",
            ]

        results: dict[str, tuple[dict, object]] = {}
        order = [kata.name for kata in chosen]
        shown = 0

        def show(run: Run) -> None:
            nonlocal shown
            results[run.kata.name] = grade_kata(run, reports / f"{run.kata.folder}.xml", arguments.points_per_step)
            while shown < len(order) and order[shown] in results:
                summary = results[order[shown]][0]
                points = f"{summary['points']:g}/{summary['max_points']:g}"
                line = f"{summary['kata']:<18}{summary['tests']:>6}{summary['passed']:>8}{summary['failed']:>8}"
                line += f"{summary['timed_out']:>11}{points:>10}{summary['seconds']:>9.1f}"
                if summary["problem"]:
                    line += f"  {summary['status']}: {summary['problem']}"
                print(line, flush=True)
                shown += 1

        limit = arguments.kata_budget + arguments.timeout + KILL_MARGIN
        run_all(chosen, "exercises", limit, jobs(), show, extra)
    summaries = [results[name][0] for name in order]
    total = {key: sum(summary[key] for summary in summaries) for key in ("tests", *OUTCOMES, "points", "max_points")}
    seconds = time.perf_counter() - begun
    print(
        f"total: {total['passed']}/{total['tests']} tests pass, {total['timed_out']} timed out; "
        f"{total['points']:g}/{total['max_points']:g} points; {len(summaries)} katas in {seconds:.1f} s"
    )
    summary = {
        "tinytorch_grade": 1,
        "integrity": {
            "state": check.state,
            "clean": check.clean,
            "against": check.against,
            "base": check.base,
            "files": check.files,
            "documents": check.documents,
            "reason": check.reason,
        },
        "code": str(tinytorch.exercises_dir() or ROOT / "exercises"),
        "timeout_seconds": arguments.timeout,
        "kata_budget_seconds": arguments.kata_budget,
        "memory_cap_gib": float(cap) if cap else None,
        "points_per_step": arguments.points_per_step,
        "seconds": round(seconds, 2),
        "totals": total,
        "katas": summaries,
    }
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if arguments.junit:
        first = junit.case("tinytorch.grade", "integrity: nothing besides the kata files changed")
        if not check.clean:
            first = junit.case("tinytorch.grade", "integrity: nothing besides the kata files changed", check.describe())
        suites = [junit.suite("integrity", [first], 0.0)] + [results[name][1] for name in order]
        junit.write(arguments.junit, suites)
    if arguments.classroom:
        encoded = base64.b64encode(json.dumps(classroom_result(summaries, check)).encode()).decode()
        with open(arguments.classroom, "a", encoding="utf-8") as file:
            file.write(f"result={encoded}\n")
    broken = [s for s in summaries if s["status"] != "graded"]
    return 0 if check.clean and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
