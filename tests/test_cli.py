"""The learner's command line (``python -m tinytorch watch | hint | reset | grade``) and the class
grading on CI (``.github/workflows/classroom.yml``), run as a learner and an instructor run them:
in clean child processes, on a git clone of a small course.

The course is this working tree's files, committed into a git repository of its own, with
four katas built (``COURSE``, closed under their dependencies, so that a kata being written in
the working tree meanwhile cannot break these tests); a learner's repository is a ``git clone``
of it, where the tests write the learner's code: a kata solved up to a step is its reference
with the functions of later steps put back to ``raise NotImplementedError`` (the code a learner
would have written; no expected value comes from the reference). Expected counts come from
pytest itself (``--collect-only``) and from the lesson's text.

The slow runs (``hint``, ``status``, ``grade`` and the workflow's command) start together in one
module fixture and run side by side. Cost: about 35 s of CPU for the whole file, most of it the
workflow's grade of four katas, two of them solved, and ``watch``.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinytorch.cli import integrity, junit
from tinytorch.cli.classroom import classroom_result
from tinytorch.cli.grade import grade_kata
from tinytorch.cli.lesson import hint
from tinytorch.cli.runner import Run
from tinytorch.cli.steps import kata_steps, step_of
from tinytorch.registry import BY_NAME, KATAS, ROOT, built, kata_file
from tinytorch.stubs import MARKER, targets

USAGE = 2  # argparse's exit code for a bad command line
COURSE = ("tensor", "activations", "autograd", "dataloader")  # the course's built katas
KATA = BY_NAME["dataloader"]  # the kata the learner works on in these tests
WORKFLOW = ROOT / ".github" / "workflows" / "classroom.yml"
STEP_ID = re.compile(r"step(\d+)")  # how a test names its step (the oracle's own reading)


# --- a course, and a learner's clone of it ---------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def build_only(registry: str, names: tuple[str, ...]) -> str:
    """The registry's text with exactly the katas ``names`` built (each ``Kata(...)``'s ``built`` argument)."""
    calls = [
        node
        for node in ast.walk(ast.parse(registry))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Kata"
    ]
    lines = registry.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    text = registry
    flags = [(call.args[4], ast.literal_eval(call.args[1]) in names) for call in calls]  # (number, name, ..., built)
    for flag, built_now in sorted(flags, key=lambda item: (item[0].lineno, item[0].col_offset), reverse=True):
        start = offsets[flag.lineno - 1] + flag.col_offset
        end = offsets[flag.end_lineno - 1] + flag.end_col_offset
        text = text[:start] + str(built_now) + text[end:]
    assert len(calls) >= len(names), "the registry's katas are not Kata(number, name, title, deps, built) calls"
    return text


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course template: this working tree's files in a git repository of its own, COURSE built."""
    root = tmp_path_factory.mktemp("course")
    listed = git(ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    registry = root / "tinytorch" / "registry.py"
    registry.write_text(build_only(registry.read_text(), COURSE))
    script = "from tinytorch.registry import built; print(' '.join(kata.name for kata in built()))"
    built_there = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert built_there.stdout.split() == list(COURSE), built_there.stdout
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the course")
    return root


@pytest.fixture
def clone(course, tmp_path) -> Path:
    """A learner's fresh clone of the course."""
    git(tmp_path, "clone", "-q", str(course), "learner")
    return tmp_path / "learner"


def solved_up_to(kata, step: int | None) -> str:
    """``kata``'s reference with every function of a step after ``step`` a stub again (None: all solved)."""
    source = kata_file(kata, "solutions").read_text()
    lines = source.splitlines(keepends=True)
    for name, target_step, start, end in sorted(targets(source), key=lambda target: -target[2]):
        if step is not None and target_step > step:
            indent = MARKER.match(lines[start - 1]).group(1)
            lines[start - 1 : end] = [f'{indent}raise NotImplementedError("{kata.label}: implement {name}")\n']
    return "".join(lines)


def learner_file(root: Path, kata=KATA) -> Path:
    return root / "exercises" / kata.folder / f"{kata.name}.py"


@pytest.fixture(scope="module")
def tinytorch_in(clean_env):
    """``tinytorch_in(root, *args)``: ``python -m tinytorch *args`` run from ``root``, as a learner runs it."""

    def run(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "tinytorch", *args],
            cwd=root,
            env={**clean_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def collected_per_step(output: str) -> dict[int, int]:
    """How many tests ``pytest --co -q`` listed for each step (the oracle for the counts)."""
    ids = [line for line in output.splitlines() if "::" in line]
    assert ids, output
    counts: dict[int, int] = {}
    for node in ids:
        step = int(STEP_ID.search(node.split("::", 1)[1]).group(1))
        counts[step] = counts.get(step, 0) + 1
    return counts


class Child:
    """A child process started now and read later: ``result()`` waits for it (stderr in stdout)."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.finished: subprocess.CompletedProcess | None = None

    def result(self, timeout: float = 600) -> subprocess.CompletedProcess:
        if self.finished is None:
            try:
                stdout, _ = self.process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
            self.finished = subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout)
        return self.finished


def workflow_grade_command() -> str:
    """The ``run:`` line of the workflow's grading step (the one with ``id: tinytorch``)."""
    text = WORKFLOW.read_text()
    found = re.search(r"^\s+id: tinytorch\n(?:\s+[\w-]+:.*\n)*?\s+run: (python -m tinytorch grade .*)$", text, re.M)
    assert found, "the workflow has no grading step with id: tinytorch and a run: line"
    return found.group(1)


SOLVED = (BY_NAME["autograd"], KATA)  # the two katas the workflow's submission has solved


@pytest.fixture(scope="module")
def runs(course, tmp_path_factory, clean_env) -> dict[str, tuple[Child, Path]]:
    """The slow child runs, all started at once (they run side by side), each in a clone of its own.

    ``hint``, ``status`` and ``grade`` run on a clone with KATA solved up to step 2 (``grade``'s with
    a kata's test file edited too); ``collect`` is pytest's count of KATA's tests there (the oracle);
    ``workflow`` is the workflow's command on a submission with the katas of SOLVED solved.
    """

    def fresh(name: str) -> Path:
        folder = tmp_path_factory.mktemp(name)
        git(folder, "clone", "-q", str(course), "learner")
        return folder / "learner"

    started: dict[str, tuple[Child, Path]] = {}
    tinytorch = [sys.executable, "-m", "tinytorch"]
    for name in ("hint", "status", "grade"):
        root = fresh(name)
        learner_file(root).write_text(solved_up_to(KATA, 2))
        if name == "grade":
            edited = root / "exercises" / "03_autograd" / "test_autograd.py"
            edited.write_text(edited.read_text() + "\n# the learner was here\n")
            arguments = ["grade", KATA.name, "--json", str(root.parent / "grade.json")]
            arguments += ["--junit", str(root.parent / "grade.xml")]
            collect = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"exercises/{KATA.folder}", "--co"]
            started["collect"] = (Child([*collect, "-q", "--impl", "solutions"], root, clean_env), root)
        else:
            arguments = ["hint", KATA.name] if name == "hint" else [KATA.name]
        started[name] = (Child([*tinytorch, *arguments], root, clean_env), root)
    # As on CI: the course (the template) checked out in course/, the learner's push beside it.
    submission = fresh("submission")
    for kata in SOLVED:
        learner_file(submission, kata).write_text(solved_up_to(kata, None))
    git(submission, "commit", "-q", "-am", "two katas solved")
    workspace = submission.parent / "workspace"
    workspace.mkdir()
    git(workspace, "clone", "-q", str(course), "course")
    git(workspace, "clone", "-q", str(submission), "submission")
    command = workflow_grade_command().replace("python ", f"{sys.executable} ", 1)
    env = {**clean_env, "GITHUB_OUTPUT": str(workspace / "github_output")}
    started["workflow"] = (Child(["bash", "-c", command], workspace / "course", env), workspace)
    yield started
    for child, _ in started.values():
        if child.process.poll() is None:
            child.process.kill()
        child.result()


# --- every subcommand: --help, and errors that list the katas ---------------------------------


@pytest.mark.parametrize("command", ["status", "watch", "hint", "reset", "grade"])
def test_each_subcommand_has_a_help_that_runs_nothing(run_python, command):
    result = run_python("-m", "tinytorch", command, "--help")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"usage: python -m tinytorch {command}"), result.stdout
    assert "Exit codes" in result.stdout and "tests passing" not in result.stdout


def test_the_bare_help_lists_the_subcommands(run_python):
    result = run_python("-m", "tinytorch", "--help")
    assert result.returncode == 0, result.stdout
    for command in ("status", "watch", "hint", "reset", "grade"):
        assert re.search(rf"^  {command} +\S", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.parametrize("command", ["watch", "hint", "reset", "grade"])
def test_an_unknown_kata_is_a_usage_error_that_lists_the_katas(run_python, command):
    result = run_python("-m", "tinytorch", command, "optimiser")
    assert result.returncode == USAGE, result.stdout
    labels = ", ".join(kata.label for kata in built())
    assert f"KATA: each name must be a built kata ({labels}), got 'optimiser'" in result.stdout


def test_a_kata_not_built_yet_is_refused_as_planned(run_python):
    planned = next((kata for kata in KATAS if not kata.built), None)
    if planned is None:
        pytest.skip("every kata is built")
    result = run_python("-m", "tinytorch", "hint", planned.name)
    assert result.returncode == USAGE, result.stdout
    assert f"({planned.label} is planned, not built yet)" in result.stdout


# --- reset never loses work -----------------------------------------------------------------


def test_reset_saves_the_learners_exact_bytes_then_restores_the_stub_as_cloned(clone, tinytorch_in):
    file = learner_file(clone)
    pristine = file.read_bytes()  # as cloned: the course's committed stub
    mine = solved_up_to(KATA, 2).encode() + b"# caf\xc3\xa9, a tab\t, CRLF\r\n\xff not even UTF-8\n"
    file.write_bytes(mine)
    result = tinytorch_in(clone, "reset", KATA.name)
    assert result.returncode == 0, result.stdout
    named = re.search(r"your file is saved in (\S+) ", result.stdout)
    assert named, result.stdout
    backup = clone / named.group(1)
    assert backup.read_bytes() == mine
    assert backup.is_relative_to(clone / "backups")
    assert file.read_bytes() == pristine


def test_reset_of_a_kata_never_touched_says_so_and_changes_nothing(clone, tinytorch_in):
    file = learner_file(clone)
    before = (file.read_bytes(), file.stat().st_mtime_ns)
    result = tinytorch_in(clone, "reset", f"{KATA.number:02d}")
    assert result.returncode == 0, result.stdout
    assert "nothing to reset" in result.stdout and "have not changed it" in result.stdout, result.stdout
    assert (file.read_bytes(), file.stat().st_mtime_ns) == before
    assert not (clone / "backups").exists()


def test_reset_refuses_and_changes_nothing_when_the_backup_cannot_be_written(clone, tinytorch_in):
    file = learner_file(clone)
    mine = solved_up_to(KATA, 1).encode()
    file.write_bytes(mine)
    (clone / "backups").write_text("a file where the backup folder would go\n")  # mkdir fails, even for root
    result = tinytorch_in(clone, "reset", KATA.name)
    assert result.returncode == 1, result.stdout
    assert "reset: refused: your file could not be backed up" in result.stdout, result.stdout
    assert file.read_bytes() == mine


# --- hint: the current step's hint, from the lesson --------------------------------------------


def lesson_entry_first_line(kata, step: int) -> str:
    """The first line of the step's entry in the lesson's ``## Hints`` (the test's own reading)."""
    lesson = (ROOT / "exercises" / kata.folder / "README.md").read_text()
    hints = lesson.split("\n## Hints", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"^(?:- )?\**Step {step}\b.*$", hints, re.MULTILINE)
    assert found, f"{kata.folder}'s lesson has no hint entry for step {step}"
    return found.group(0)


def test_hint_prints_the_hint_of_the_first_step_whose_tests_fail(runs):
    result = runs["hint"][0].result()
    assert result.returncode == 0, result.stdout
    assert f"{KATA.label}, step 3 (the first step whose tests do not all pass" in result.stdout, result.stdout
    assert lesson_entry_first_line(KATA, 3) in result.stdout, result.stdout
    assert lesson_entry_first_line(KATA, 2) not in result.stdout


def test_hint_without_a_kata_takes_the_first_kata_with_a_function_to_write(clone, tinytorch_in):
    first = BY_NAME[COURSE[0]]
    result = tinytorch_in(clone, "hint", "--step", "1")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"{first.label}, step 1 (as asked)"), result.stdout


LESSON = """# 99 demo

## The steps

1. **`first`**: the first thing,
   on two lines.
2. **`second`**: the second.

### Step 3: the third

Write `third`.

- Mind the edge.

## Hints

- **Shapes.** A general hint, before any step's.
- **Step 1.** One for step 1.
  Continued.

A paragraph that continues step 1's hint.

- Step 2: for step 2,
- Step 2, backward: more for step 2.
- A general bullet after the steps' hints.

```
- Step 1: inside a code block, not a hint
```

## Run
"""


def test_a_steps_hint_is_its_entries_in_hints_with_their_continuation_paragraphs():
    found = hint(LESSON, 1)
    assert found.title == "Step 1: **`first`**: the first thing, on two lines."
    assert found.text.startswith("- **Step 1.** One for step 1.\n  Continued.")
    assert "A paragraph that continues step 1's hint." in found.text
    assert "step 2" not in found.text and "General" not in found.text
    assert found.line == LESSON.splitlines().index("- **Step 1.** One for step 1.") + 1


def test_every_entry_of_a_step_is_its_hint_and_bullets_without_a_step_are_general():
    found = hint(LESSON, 2)
    assert found.text == "- Step 2: for step 2,\n\n- Step 2, backward: more for step 2."
    assert found.general.splitlines()[0] == "- **Shapes.** A general hint, before any step's."
    assert "- A general bullet after the steps' hints." in found.general
    assert "inside a code block" not in found.text + hint(LESSON, 1).text  # a code block's line is no entry


def test_a_step_without_entries_in_hints_takes_its_step_section():
    found = hint(LESSON, 3)
    assert (found.title, found.where) == ("Step 3: the third", "### Step 3: the third")
    assert found.text == "Write `third`.\n\n- Mind the edge."


def test_a_step_the_lesson_says_nothing_about_has_an_empty_hint():
    found = hint(LESSON, 4)
    assert (found.text, found.line, found.title) == ("", 0, "Step 4")


@pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.name)
def test_every_step_of_every_built_kata_has_a_hint_in_its_lesson(kata):
    lesson = ROOT / "exercises" / kata.folder / "README.md"
    assert lesson.is_file(), f"no lesson {lesson}"
    missing = [step for step in kata_steps(kata) if not hint(lesson.read_text(), step).text]
    assert not missing, f"{kata.folder}'s lesson has no hint for steps {missing} (## Hints entry or ### Step N)"


# --- watch: re-runs the step when the file is saved ----------------------------------------------


def test_watch_reruns_the_step_when_the_file_changes_and_moves_on_when_it_passes(clone, clean_env):
    file = learner_file(clone)
    file.write_text(solved_up_to(KATA, 1))
    env = {**clean_env, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tinytorch", "watch", KATA.name, "--interval", "0.1"]
    child = subprocess.Popen(command, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    seen: list[str] = []

    def wait_for(text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {text!r} in:\n{''.join(seen)}") from None

    try:
        wait_for("step 2: FAILED test_step2_")  # the first unfinished step, its first failure
        wait_for("save exercises/08_dataloader/dataloader.py to run it again")
        file.write_text(solved_up_to(KATA, 2))  # the learner saves step 2
        wait_for("step 2 done — next: step 3")
        wait_for("step 3: FAILED test_step3_")
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 0, "".join(seen)
        wait_for("watch: stopped (Ctrl-C)")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert sum("step 2 done" in line for line in seen) == 1, "".join(seen)


# --- status: the next step -----------------------------------------------------------------------


def test_status_shows_the_next_step_of_a_kata(runs):
    result = runs["status"][0].result()
    assert result.returncode == 0, result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith(KATA.label))
    assert line.endswith(f"next: step 3 (pytest exercises/{KATA.folder} -k step3)"), line


# --- grade: per-step counts, and a changed test file flagged -----------------------------------


def test_grade_counts_each_step_and_flags_an_edited_test_file(runs):
    child, root = runs["grade"]
    result = child.result()
    report, xml = root.parent / "grade.json", root.parent / "grade.xml"
    assert result.returncode == 1, result.stdout  # graded, but not clean
    assert result.stdout.startswith("integrity: CHANGED: 1 file(s) besides your kata files differ from the commit"), (
        result.stdout
    )
    summary = json.loads(report.read_text())
    assert summary["integrity"]["state"] == "changed"
    assert summary["integrity"]["files"] == ["exercises/03_autograd/test_autograd.py"]
    expected = collected_per_step(runs["collect"][0].result().stdout)
    (kata,) = summary["katas"]
    got = {step["step"]: (step["tests"], step["passed"], step["failed"], step["timed_out"]) for step in kata["steps"]}
    assert got == {
        step: (count, count, 0, 0) if step <= 2 else (count, 0, count, 0) for step, count in expected.items()
    }
    assert [step["points"] for step in kata["steps"]] == [1.0 if step <= 2 else 0.0 for step in sorted(expected)]
    suites = {suite.get("name"): suite for suite in ET.parse(xml).getroot().iter("testsuite")}
    assert int(suites[KATA.label].get("tests")) == sum(expected.values())
    assert int(suites[KATA.label].get("failures")) == sum(count for step, count in expected.items() if step > 2)
    assert suites["integrity"].find("testcase/failure") is not None


# --- the workflow's command, on a submission with two katas solved --------------------------------


def test_the_workflow_grades_two_solved_katas_full_marks_and_the_rest_zero(runs):
    child, workspace = runs["workflow"]
    result = child.result()
    assert result.returncode == 0, result.stdout
    summary = json.loads((workspace / "grade.json").read_text())
    assert summary["integrity"]["state"] == "clean", summary["integrity"]
    marks = {kata["name"]: (kata["points"], kata["max_points"]) for kata in summary["katas"]}
    assert set(marks) == set(COURSE)
    for name, (points, maximum) in marks.items():
        assert maximum == len(kata_steps(BY_NAME[name]))
        assert points == (maximum if BY_NAME[name] in SOLVED else 0), (name, marks)
    line = (workspace / "github_output").read_text().strip()
    assert line.startswith("result=")
    result_json = json.loads(base64.b64decode(line[len("result=") :]))
    assert result_json["max_score"] == sum(maximum for _, maximum in marks.values())
    assert sum(test["score"] for test in result_json["tests"]) == sum(points for points, _ in marks.values())
    assert ET.parse(workspace / "grade.xml").getroot().get("name") == "tinytorch grade"


def test_the_workflow_takes_tests_and_harness_from_the_course_not_the_push():
    text = WORKFLOW.read_text()
    assert "repository: ${{ vars.TINYTORCH_COURSE }}" in text
    command = workflow_grade_command()
    assert "--submission ../submission" in command and "working-directory: course" in text


# --- integrity, without pytest: what counts as a change -------------------------------------------


def test_a_fresh_clone_is_clean_and_a_changed_kata_file_backup_markdown_or_report_still_is(clone):
    assert integrity.since_clone(clone).state == "clean"
    learner_file(clone).write_text("# my code\n")
    (clone / "backups").mkdir()
    (clone / "backups" / "saved.py").write_text("# a backup reset wrote\n")
    (clone / "README.md").write_text("[![a badge](https://example.com/badge.svg)]\n")  # as Classroom adds
    (clone / "grade.json").write_text("{}\n")  # a report of an earlier grade
    check = integrity.since_clone(clone)
    assert (check.state, check.files, check.documents) == ("clean", [], ["README.md", "grade.json"])
    (clone / "data" / "notes.json").write_text("{}\n")  # a folder's file may be read: not a report
    assert integrity.since_clone(clone).files == ["data/notes.json"]


def test_a_committed_change_to_the_harness_and_an_untracked_file_are_changes(clone):
    conftest = clone / "conftest.py"
    conftest.write_text(conftest.read_text() + "\n# changed\n")
    git(clone, "commit", "-q", "-am", "a change committed")
    (clone / "exercises" / KATA.folder / "conftest.py").write_text("# a new file\n")
    check = integrity.since_clone(clone)
    assert (check.state, check.files) == ("changed", ["conftest.py", f"exercises/{KATA.folder}/conftest.py"])
    assert check.clean is False


def test_without_git_or_a_clone_record_the_state_is_unknown_never_clean(clone, monkeypatch, tmp_path):
    git(tmp_path, "init", "-q", "not_a_clone")
    no_record = integrity.since_clone(tmp_path / "not_a_clone")
    assert (no_record.state, no_record.clean) == ("unknown", None)
    assert "no record of the clone" in no_record.reason
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    no_git = integrity.since_clone(clone)
    assert (no_git.state, no_git.reason) == ("unknown", "git is not installed")


def test_a_submission_is_compared_with_the_course_file_by_file(course, clone):
    learner_file(clone).write_text("# my code\n")
    assert integrity.submission_against_course(clone, course).state == "clean"
    tests = clone / "exercises" / KATA.folder / f"test_{KATA.name}.py"
    tests.write_text("def test_nothing():\n    pass\n")
    check = integrity.submission_against_course(clone, course)
    assert (check.state, check.files) == ("changed", [f"exercises/{KATA.folder}/test_{KATA.name}.py"])


# --- the reports' pieces ---------------------------------------------------------------------------


def test_junit_outcomes_count_a_timeout_as_timed_out(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="c" name="test_step1_a"/>'
        '<testcase classname="c" name="test_step1_b"><failure message="AssertionError: no"/></testcase>'
        '<testcase classname="c" name="test_x[step2-c]"><failure message="tinytorch.testing.guards.Timeout: '
        'Timeout (&gt;1.0s) from pytest-timeout."/></testcase>'
        '<testcase classname="c" name="test_step2_d"><error message="failed on setup with &quot;'
        "tinytorch.testing.guards.Timeout: grade: the kata's budget of 3 s was spent&quot;\"/></testcase>"
        '<testcase classname="c" name="test_step3_e"><skipped message="no"/></testcase>'
        "</testsuite></testsuites>"
    )
    cases, _ = junit.read_cases(report)
    assert [(case.step, case.outcome) for case in cases] == [
        (1, "passed"),
        (1, "failed"),
        (2, "timed_out"),
        (2, "timed_out"),
        (3, "skipped"),
    ]


def test_a_test_belongs_to_the_step_its_name_or_id_names():
    assert step_of("exercises/03_autograd/test_autograd.py::test_forward_matches_numpy[step5-add]") == 5
    assert step_of("exercises/01_tensor/test_tensor.py::test_step12_x") == 12
    assert step_of("exercises/01_tensor/test_tensor.py::test_no_step") is None


def test_the_classroom_result_gives_a_step_its_points_only_when_every_test_passes():
    def step(number, tests, passed, points):
        return {"step": number, "tests": tests, "passed": passed, "timed_out": 0, "points": points, "max_points": 1.0}

    summary = {"kata": "08 dataloader", "number": 8, "name": "dataloader", "max_points": 2.0}
    summary["steps"] = [step(1, 3, 3, 1.0), step(2, 3, 2, 0.0)]
    clean = integrity.Integrity("clean", "x")
    result = classroom_result([summary], clean)
    assert (result["max_score"], result["status"]) == (2.0, "fail")
    assert [(test["name"], test["status"], test["score"]) for test in result["tests"]] == [
        ("08 dataloader step 1", "pass", 1.0),
        ("08 dataloader step 2", "fail", 0.0),
    ]
    changed = classroom_result([summary], integrity.Integrity("changed", "x", files=["conftest.py"]))
    assert changed["tests"][0]["name"].startswith("integrity: CHANGED") and changed["tests"][0]["score"] == 0


def test_a_kata_killed_past_its_limit_counts_every_test_it_did_not_finish_as_timed_out(tmp_path):
    run = Run(KATA, timed_out=True, seconds=421.0, step_collected={1: 3, 2: 2})
    run.step_outcomes = {1: {"passed": 3, "failed": 0, "skipped": 0}, 2: {"passed": 1, "failed": 0, "skipped": 0}}
    summary, suite = grade_kata(run, tmp_path / "no report.xml", 1.0)
    assert (summary["status"], summary["problem"]) == ("killed", "stopped after 421 s")
    steps = {
        step["step"]: (step["tests"], step["passed"], step["timed_out"], step["points"]) for step in summary["steps"]
    }
    assert steps[1] == (3, 3, 0, 1.0) and steps[2] == (2, 1, 1, 0.0)
    assert all(steps[step] == (0, 0, 0, 0.0) for step in kata_steps(KATA) if step > 2)
    assert summary["max_points"] == len(kata_steps(KATA))
    assert suite.find("testcase/error") is not None


def test_a_kata_that_cannot_be_collected_scores_nothing_and_says_why(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest"><testcase classname="" name="exercises.08_dataloader.test_dataloader">'
        '<error message="collection failure">SyntaxError</error></testcase></testsuite></testsuites>'
    )
    run = Run(KATA, collection_error="SyntaxError: expected ':' (dataloader.py, line 3)", seconds=2.0)
    summary, _ = grade_kata(run, report, 1.0)
    assert (summary["status"], summary["problem"]) == ("collection error", run.collection_error)
    assert (summary["points"], summary["max_points"], summary["failed"]) == (0.0, len(kata_steps(KATA)), 1)
