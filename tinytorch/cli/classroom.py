"""GitHub Classroom's autograding result: what ``grade --classroom FILE`` appends to FILE.

GitHub Classroom's reporter action (``classroom-resources/autograding-grading-reporter``) reads,
for each runner named in its ``runners`` input, an environment variable ``<RUNNER>_RESULTS``
holding base64 JSON: ``{"version": 1, "status": "pass" | "fail", "max_score": N, "tests":
[{"name", "status", "score", "message", ...}]}``; it adds up the tests' scores against the
runners' ``max_score`` and posts ``Points x/N``. Here each kata step is one such test, worth its
points when every one of its tests passes; a run that changed files besides the kata files
adds one failing test, worth nothing, that says so.
"""

from __future__ import annotations

from tinytorch.cli.integrity import Integrity
from tinytorch.cli.steps import selection


def classroom_result(summaries: list[dict], check: Integrity) -> dict:
    """The autograding reporter's input: one test per kata step (score: its points)."""
    tests = []
    for summary in summaries:
        folder = f"{summary['number']:02d}_{summary['name']}"
        for step in summary["steps"]:
            if step["step"] is None:
                continue
            message = f"{step['passed']}/{step['tests']} tests pass"
            if step["timed_out"]:
                message += f", {step['timed_out']} timed out"
            tests.append(
                {
                    "name": f"{summary['kata']} step {step['step']}",
                    "status": "pass" if step["points"] == step["max_points"] and step["tests"] else "fail",
                    "score": step["points"],
                    "message": message,
                    "test_code": f'pytest exercises/{folder} -k "{selection(step["step"])}"',
                    "filename": "",
                    "line_no": 0,
                    "duration": 0,
                }
            )
    if not check.clean:
        tests.insert(0, {"name": check.describe(), "status": "fail", "score": 0, "message": check.describe()})
    status = "pass" if all(test["status"] == "pass" for test in tests) else "fail"
    maximum = sum(summary["max_points"] for summary in summaries)
    return {"version": 1, "status": status, "max_score": maximum, "tests": tests}
