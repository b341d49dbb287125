"""The learner's command line (``python -m tinytorch watch | hint | reset | grade``) and the class
grading on CI (``.github/workflows/classroom.yml``), run as a learner and an instructor run them:
in clean child processes, on a git clone of a small course.

The course is this working tree's files, committed into a git repository of its own, with the
three katas of ``COURSE`` built (closed under their dependencies, so that a kata being written in
the working tree meanwhile cannot break these tests). To keep each grade a matter of seconds,
the course's test files keep, of each step, its first ``KEPT_PER_STEP`` tests that are plain
functions (no decorator: one test each, so the course's count of tests per step is known without
pytest); the grader counts tests the same way whatever their number. A learner's repository is a
``git clone`` of the course, where the tests write the learner's code: a kata solved up to a step
is its reference with the functions of later steps put back to ``raise NotImplementedError`` (the
code a learner would have written; no expected value comes from the reference).

The commands that run tests (``hint``, ``grade`` and the workflow's command) start when
collection ends (``start_children``, see ``tests/conftest.py``) and run beside the kata tests;
``watch`` runs in its test, which edits the file it watches. Cost, for the whole file: 16 s of
CPU, children included, at load 8 to 10 on the 2-core development machine
(``/usr/bin/time env -u PYTHONUNBUFFERED CI=true .venv/bin/pytest --impl solutions
tests/test_cli.py -q -p no:cacheprovider``; 55 s before the course was cut); most of it is one
pytest start-up per command that runs tests, and a forked pytest run (about 0.45 s) per kata
graded or step run.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import queue
import re
import runpy
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

import pytest
from _pytest.mark.expression import Expression  # what `pytest -k` compiles its expression with

from tinytorch.cli import integrity, junit, main
from tinytorch.cli.classroom import classroom_result
from tinytorch.cli.grade import grade_kata
from tinytorch.cli.lesson import hint
from tinytorch.cli.runner import Run, receive
from tinytorch.cli.status import status
from tinytorch.cli.steprun import rerun_command
from tinytorch.cli.steps import kata_steps, step_of
from tinytorch.registry import BY_NAME, ROOT, built, kata_file
from tinytorch.stubs import MARKER, targets

USAGE = 2  # argparse's exit code for a bad command line
COURSE = ("tensor", "activations", "autograd")  # the course's built katas (autograd builds on the other two)
KATA = BY_NAME["autograd"]  # the kata the learner works on in these tests (the other two: pristine stubs)
SOLVED = (BY_NAME["tensor"], BY_NAME["activations"])  # the katas the workflow's submission has solved
EDITED = "exercises/02_activations/test_activations.py"  # the test file the learner of `grade` edits
KEPT_PER_STEP = 2  # tests per step in the course's test files
WORKFLOW = ROOT / ".github" / "workflows" / "classroom.yml"
STEP_ID = re.compile(r"step(\d+)")  # how a test names its step (the oracle's own reading)
SLOW = 300  # seconds a child that runs tests may take on a busy machine


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


def keep_plain_tests(path: Path) -> dict[int, int]:
    """Delete from the test file ``path`` every test function but, of each step, its first
    ``KEPT_PER_STEP`` plain ones (``def test_stepN_...`` without a decorator: one test each); a
    step without one keeps its first test that takes no parameters (``@given``: one test too).

    Returns how many tests each step keeps: the course's count, the oracle for the grader's."""
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    tests: dict[int | None, list[ast.FunctionDef]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            raise ValueError(f"{path.name}: a test class ({node.name}) holds tests this course cannot count")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            found = STEP_ID.search(node.name)
            tests.setdefault(int(found.group(1)) if found else None, []).append(node)
    kept: dict[int, int] = {}
    dropped = tests.pop(None, [])
    for step, nodes in tests.items():
        plain = [node for node in nodes if not node.decorator_list][:KEPT_PER_STEP]
        once = [node for node in nodes if "parametrize" not in " ".join(map(ast.unparse, node.decorator_list))]
        chosen = plain or once[:1]
        kept[step] = len(chosen)
        dropped += [node for node in nodes if node not in chosen]
    for node in sorted(dropped, key=lambda node: -node.lineno):
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        lines[first - 1 : node.end_lineno] = []
    path.write_text("".join(lines))
    return {step: count for step, count in sorted(kept.items()) if count}


def make_course(root: Path) -> dict[str, dict[int, int]]:
    """A course template in ``root``: this working tree's files (of the katas, COURSE's only) in a
    git repository of its own, COURSE built, each test file cut to its plain tests. Returns the
    tests per step of each kata."""
    folders = {BY_NAME[name].folder for name in COURSE}
    listed = git(ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        parts = name.split("/")
        if parts[0] in ("exercises", "solutions") and len(parts) > 2 and parts[1] not in folders:
            continue
        source = ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    registry = root / "tinytorch" / "registry.py"
    registry.write_text(build_only(registry.read_text(), COURSE))
    built_there = [kata.name for kata in runpy.run_path(str(registry))["built"]()]
    if built_there != list(COURSE):
        raise ValueError(f"the course's registry builds {built_there}, not {list(COURSE)}")
    kept = {}
    for name in COURSE:
        kata = BY_NAME[name]
        kept[name] = keep_plain_tests(root / "exercises" / kata.folder / f"test_{name}.py")
        if sorted(kept[name]) != kata_steps(kata):
            raise ValueError(f"{name}: a step without a test that takes no parameters: {kept[name]}")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the course")
    return kept


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


def workflow_grade_command() -> str:
    """The ``run:`` line of the workflow's grading step (the one with ``id: tinytorch``)."""
    text = WORKFLOW.read_text()
    found = re.search(r"^\s+id: tinytorch\n(?:\s+[\w-]+:.*\n)*?\s+run: (python -m tinytorch grade .*)$", text, re.M)
    assert found, "the workflow has no grading step with id: tinytorch and a run: line"
    return found.group(1)


class Children(NamedTuple):
    """This file's course, its learners' clones and the child runs on them (futures)."""

    course: Path  # the course template (a git repository), the workflow's course/ checkout
    kept: dict[str, dict[int, int]]  # tests per step of each course kata
    learner: Path  # a clone: KATA solved up to step 1, EDITED edited, the other katas as cloned
    hint: Future  # `hint KATA` there
    grade: Future  # `grade KATA --json ... --junit ...` there
    reports: Path  # the folder of that grade's grade.json and grade.xml
    workflow: Future  # the workflow's command, from course/, on ../submission (SOLVED solved)
    workspace: Path  # course/'s parent: submission/, grade.json, grade.xml, github_output


def start_children(start) -> Children | Exception:
    """The course, two clones of it, and the runs on them (see ``tests/conftest.py``); what went
    wrong making them, if anything (the ``children`` fixture raises it: this file's tests fail,
    not the whole run)."""
    try:
        return started(start)
    except Exception as error:
        return error


def started(start) -> Children:
    workspace = start.mktemp("cli")
    course = workspace / "course"
    kept = make_course(course)
    learner = start.mktemp("learner") / "learner"
    git(learner.parent, "clone", "-q", str(course), learner.name)
    learner_file(learner).write_text(solved_up_to(KATA, 1))
    edited = learner / EDITED
    edited.write_text(edited.read_text() + "\n# the learner was here\n")
    # As on CI: the course (the template) checked out in course/, the learner's push beside it.
    git(workspace, "clone", "-q", str(course), "submission")
    for kata in SOLVED:
        learner_file(workspace / "submission", kata).write_text(solved_up_to(kata, None))
    git(workspace / "submission", "commit", "-q", "-am", "two katas solved")
    words = shlex.split(workflow_grade_command())
    assert words[0] == "python", words
    output = workspace / "github_output"
    arguments = [word.replace("$GITHUB_OUTPUT", str(output)) for word in words[1:]]
    reports = learner.parent
    return Children(
        course=course,
        kept=kept,
        learner=learner,
        hint=start.python("-m", "tinytorch", "hint", KATA.name, cwd=learner, timeout=SLOW),
        grade=start.python(
            *("-m", "tinytorch", "grade", KATA.name, "--json", str(reports / "grade.json")),
            *("--junit", str(reports / "grade.xml")),
            cwd=learner,
            timeout=SLOW,
        ),
        reports=reports,
        workflow=start.python(*arguments, cwd=course, env={"GITHUB_OUTPUT": str(output)}, timeout=SLOW),
        workspace=workspace,
    )


@pytest.fixture(scope="module")
def children(early, request) -> Children:
    found = early(request.module)
    if isinstance(found, Exception):
        raise found
    return found


@pytest.fixture
def course(children) -> Path:
    return children.course


@pytest.fixture
def clone(course, tmp_path) -> Path:
    """A learner's fresh clone of the course."""
    git(tmp_path, "clone", "-q", str(course), "learner")
    return tmp_path / "learner"


@pytest.fixture(scope="module")
def tinytorch_in(clean_env):
    """``tinytorch_in(root, *args)``: ``python -m tinytorch *args`` run from ``root``, as a learner runs it."""

    def run(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = SLOW):
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


def in_process(capsys, *args: str) -> tuple[int, str]:
    """``python -m tinytorch *args`` in this process (for what runs no test): exit status, output."""
    try:
        code = main(list(args))
    except SystemExit as leaving:
        code = leaving.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- every subcommand: --help, and errors that list the katas (in this process: they run no test) ---


@pytest.mark.parametrize("command", ["status", "watch", "hint", "reset", "grade"])
def test_each_subcommand_has_a_help_that_runs_nothing(capsys, command):
    code, output = in_process(capsys, command, "--help")
    assert code == 0, output
    assert output.startswith(f"usage: python -m tinytorch {command}"), output
    assert "Exit codes" in output and "tests passing" not in output


def test_the_bare_help_lists_the_subcommands(capsys):
    code, output = in_process(capsys, "--help")
    assert code == 0, output
    for command in ("status", "watch", "hint", "reset", "grade"):
        assert re.search(rf"^  {command} +\S", output, re.MULTILINE), output


@pytest.mark.parametrize("command", ["watch", "hint", "reset", "grade"])
def test_an_unknown_kata_is_a_usage_error_that_lists_the_katas(capsys, command):
    code, output = in_process(capsys, command, "optimiser")
    assert code == USAGE, output
    labels = ", ".join(kata.label for kata in built())
    assert f"KATA: each name must be a built kata ({labels}), got 'optimiser'" in output


def test_a_kata_not_built_yet_is_refused_as_planned(capsys, planned):
    code, output = in_process(capsys, "hint", planned.name)
    assert code == USAGE, output
    assert f"({planned.label} is planned, not built yet)" in output


def test_a_reader_that_stops_early_ends_the_command_quietly(children, clean_env):
    """``python -m tinytorch grade | head``: once ``head`` has read its lines, the pipe is closed."""
    reader, writer = os.pipe()
    os.close(reader)  # a reader gone before the first line: every write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tinytorch", "grade", KATA.name],
            cwd=children.learner,
            env=clean_env,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=SLOW,
            check=False,
        )
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (1, ""), result.stderr


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


def lesson_hint_start(lesson: str, step: int) -> str:
    """Where the lesson's hint of ``step`` starts (the test's own reading of the two conventions):
    its entry in ``## Hints`` (``**Step N.**``, ``- Step N:``), else its ``### Step N`` heading."""
    hints = lesson.split("\n## Hints", 1)[1].split("\n## ", 1)[0] if "\n## Hints" in lesson else ""
    found = re.search(rf"^(?:- )?\**Step {step}\b.*$", hints, re.MULTILINE)
    found = found or re.search(rf"^### Step {step}\b.*$", lesson, re.MULTILINE)
    assert found, f"the lesson has no hint for step {step}"
    return found.group(0)


def test_hint_prints_the_hint_of_the_first_step_whose_tests_fail(children):
    """KATA's steps 1 written (on the learner's stubs of the katas it builds on: the reference runs
    beneath), step 2 not: the hint is step 2's."""
    result = children.hint.result()
    assert result.returncode == 0, result.stdout
    lesson = (children.course / "exercises" / KATA.folder / "README.md").read_text()
    command = f'pytest exercises/{KATA.folder} -k "step2_ or step2-"'
    assert f"{KATA.label}, step 2 (the first step whose tests do not all pass: {command})" in result.stdout
    assert lesson_hint_start(lesson, 2) in result.stdout, result.stdout
    assert lesson_hint_start(lesson, 1) not in result.stdout


def test_hint_without_a_kata_takes_the_first_kata_with_a_function_to_write(clone, tinytorch_in):
    first = BY_NAME[COURSE[0]]
    learner_file(clone, first).write_text(solved_up_to(first, None))  # every function of the first kata written
    result = tinytorch_in(clone, "hint", "--step", "1")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"{BY_NAME[COURSE[1]].label}, step 1 (as asked)"), result.stdout


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
    file = learner_file(clone)  # the pristine stub, as cloned
    env = {**clean_env, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tinytorch", "watch", KATA.name, "--interval", "0.1"]
    child = subprocess.Popen(command, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    seen: list[str] = []

    def wait_for(text: str, seconds: float = 45) -> None:  # within the test's 60 s limit
        deadline = time.monotonic() + seconds
        while not any(text in line for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {text!r} in:\n{''.join(seen)}") from None

    try:
        wait_for("step 1: FAILED test_step1_")  # the first unfinished step, its first failure
        wait_for(f"save exercises/{KATA.folder}/{KATA.name}.py to run it again")
        file.write_text(solved_up_to(KATA, 1))  # the learner saves step 1
        wait_for("step 1 done — next: step 2")
        wait_for("step 2: FAILED test_step2_")
        wait_for(f'(the whole story: pytest exercises/{KATA.folder} -k "step2_ or step2-" -x)')
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 0, "".join(seen)
        wait_for("watch: stopped (Ctrl-C)")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert sum("step 1 done" in line for line in seen) == 1, "".join(seen)


# --- status: the next step (what the runner's child reports, read as status reads it) ------------


def test_status_shows_the_first_step_with_a_test_that_did_not_pass_and_its_command():
    run = Run(KATA, seconds=1.0)
    lines = ["collected 5", "step-collected 1 2", "step-collected 2 1", "step-collected 10 2"]
    lines += ["passed 1", "passed 1", "passed 10", "failed 10", "skipped 2", "exit 1", ""]
    receive(run, "\n".join(lines).encode())
    line = status(run, 120.0)
    assert line.startswith("   3/5   ") and "#" * 12 + " " * 8 in line, line
    assert line.endswith(f'next: step 2 (pytest exercises/{KATA.folder} -k "step2_ or step2-")'), line


# --- a step's command selects that step's tests, never step 10's --------------------------------------


def selected(command: str, names: list[str]) -> list[str]:
    """The tests of ``names`` that ``command``'s ``-k`` selects, as pytest reads it: each word of the
    expression matches a test whose name holds it, ignoring case."""
    words = shlex.split(command)
    expression = Expression.compile(words[words.index("-k") + 1])
    return [name for name in names if expression.evaluate(lambda word, name=name: word.lower() in name.lower())]


NAMES = ["test_step1_a", "test_step10_b", "test_step11_c", "test_x[step1-relu]", "test_x[step10-relu]", "test_step2_d"]


@pytest.mark.parametrize("step", [1, 10])
def test_every_printed_command_for_a_step_selects_exactly_its_tests(step):
    exact = [name for name in NAMES if step_of(name) == step]
    run = Run(KATA, collected=1, unfinished_steps={step})
    summary = {"kata": KATA.label, "number": KATA.number, "name": KATA.name, "max_points": 1.0}
    summary["steps"] = [{"step": step, "tests": 1, "passed": 0, "timed_out": 0, "points": 0.0, "max_points": 1.0}]
    result = classroom_result([summary], integrity.Integrity("clean", "x"))
    commands = {
        "watch": rerun_command(KATA, step),
        "status": status(run, 1.0).split("(", 1)[1].rstrip(")"),
        "classroom": result["tests"][0]["test_code"],
    }
    for where, command in commands.items():
        assert command.startswith(f"pytest exercises/{KATA.folder} -k "), (where, command)
        assert selected(command, NAMES) == exact, (where, command)


@pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.name)
def test_every_test_function_names_its_step_or_takes_parameters_whose_ids_do(kata):
    """CONTRIBUTING's convention: ``test_stepN_...``, or a parameter id ``stepN-...``."""
    tree = ast.parse((ROOT / "exercises" / kata.folder / f"test_{kata.name}.py").read_text())
    unnamed = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test")
        and not re.search(r"step\d+_", node.name)
        and "parametrize" not in " ".join(ast.unparse(decorator) for decorator in node.decorator_list)
    ]
    assert not unnamed, f"{kata.folder}: tests that name no step: {unnamed}"


# --- grade: per-step counts, and a changed test file flagged -----------------------------------


def test_grade_counts_each_step_and_flags_an_edited_test_file(children):
    result = children.grade.result()
    report, xml = children.reports / "grade.json", children.reports / "grade.xml"
    assert result.returncode == 1, result.stdout  # graded, but not clean
    assert result.stdout.startswith("integrity: CHANGED: 1 file(s) besides your kata files differ from the commit"), (
        result.stdout
    )
    summary = json.loads(report.read_text())
    assert summary["integrity"]["state"] == "changed"
    assert summary["integrity"]["files"] == [EDITED]
    expected = children.kept[KATA.name]  # tests per step in the course; steps up to 1 written
    (kata,) = summary["katas"]
    got = {step["step"]: (step["tests"], step["passed"], step["failed"], step["timed_out"]) for step in kata["steps"]}
    assert got == {
        step: (count, count, 0, 0) if step <= 1 else (count, 0, count, 0) for step, count in expected.items()
    }
    assert [step["points"] for step in kata["steps"]] == [1.0 if step <= 1 else 0.0 for step in sorted(expected)]
    suites = {suite.get("name"): suite for suite in ET.parse(xml).getroot().iter("testsuite")}
    cases = list(suites[KATA.label].iter("testcase"))
    assert len(cases) == sum(expected.values())
    failed = sorted(
        int(STEP_ID.search(case.get("name")).group(1)) for case in cases if case.find("failure") is not None
    )
    assert failed == sorted(step for step, count in expected.items() if step > 1 for _ in range(count))
    assert int(suites[KATA.label].get("failures")) == len(failed)
    assert suites["integrity"].find("testcase/failure") is not None


# --- the workflow's command, on a submission with two katas solved --------------------------------


def test_the_workflow_grades_two_solved_katas_full_marks_and_the_rest_zero(children):
    result = children.workflow.result()
    workspace = children.workspace
    assert result.returncode == 0, result.stdout
    summary = json.loads((workspace / "grade.json").read_text())
    assert summary["integrity"]["state"] == "clean", summary["integrity"]
    marks = {kata["name"]: (kata["points"], kata["max_points"]) for kata in summary["katas"]}
    assert set(marks) == set(COURSE)
    for kata in summary["katas"]:
        solved = BY_NAME[kata["name"]] in SOLVED
        expected = children.kept[kata["name"]]
        got = {step["step"]: (step["tests"], step["passed"]) for step in kata["steps"]}
        assert got == {step: (count, count if solved else 0) for step, count in expected.items()}, kata["name"]
        assert kata["max_points"] == len(kata_steps(BY_NAME[kata["name"]]))
        assert kata["points"] == (kata["max_points"] if solved else 0), (kata["name"], marks)
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
        '<testsuites><testsuite name="pytest"><testcase classname="" name="exercises.03_autograd.test_autograd">'
        '<error message="collection failure">SyntaxError</error></testcase></testsuite></testsuites>'
    )
    run = Run(KATA, collection_error="SyntaxError: expected ':' (autograd.py, line 3)", seconds=2.0)
    summary, _ = grade_kata(run, report, 1.0)
    assert (summary["status"], summary["problem"]) == ("collection error", run.collection_error)
    assert (summary["points"], summary["max_points"], summary["failed"]) == (0.0, len(kata_steps(KATA)), 1)
