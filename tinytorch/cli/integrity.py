"""Did the learner change anything besides their own kata files? The grader asks first.

A learner's own files are ``exercises/NN_name/name.py`` of each built kata (and the backups
``reset`` writes under ``backups/``). Anything else that differs (a test, the harness,
``tinytorch/``, ``conftest.py``, ``pyproject.toml``, the workflow, a data file) makes the run
*changed*, never *clean*. Files no test run reads are listed apart and leave it clean:
Markdown anywhere (lessons, READMEs: GitHub Classroom adds a badge to the README), and reports
at the repository's top level (``grade --json grade.json`` writes one: ``.json``, ``.xml``,
``.txt``, ``.log``, ``.csv``, ``.html``, ``.png``, ``.svg``). Two ways to compare:

- **against the commit the repository was cloned at** (a learner's ``grade`` on their own
  clone): git's reflog records it (``clone: from ...``); ``--base COMMIT`` names another (after
  pulling the course's updates, say). The working tree is compared, committed or not, and
  untracked files count (ignored ones do not).
- **a submission against the course** (on CI): the submission's files against the course
  template's, byte for byte.

When the answer cannot be had (git is not installed, the folder is no git clone, the reflog
has no clone record and no ``--base`` was given), the run is *unknown*, never *clean*.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch.registry import built

ALLOWED_FOLDERS = ("backups/",)
UNREAD_TOP_LEVEL = (".json", ".xml", ".txt", ".log", ".csv", ".html", ".png", ".svg")  # reports, notes


def unread(path: str) -> bool:
    """Whether no test run reads ``path``: Markdown anywhere, or a report at the top level."""
    return path.endswith(".md") or ("/" not in path and path.endswith(UNREAD_TOP_LEVEL))


@dataclass
class Integrity:
    state: str  # "clean", "changed" or "unknown"
    against: str  # what was compared with, in words
    base: str | None = None  # the commit compared with, when there is one
    files: list[str] = field(default_factory=list)  # changed files besides the learner's own
    documents: list[str] = field(default_factory=list)  # changed files no test run reads (see unread)
    reason: str = ""  # why the state is unknown

    @property
    def clean(self) -> bool | None:
        return None if self.state == "unknown" else self.state == "clean"

    def describe(self) -> str:
        """One line, the grader's first."""
        if self.state == "unknown":
            return f"integrity: UNKNOWN, not checked: {self.reason}"
        if self.state == "clean":
            also = f" (and {len(self.documents)} file(s) no test reads: Markdown, reports)" if self.documents else ""
            return f"integrity: clean: nothing but your kata files{also} differs from {self.against}"
        shown = ", ".join(self.files[:10]) + (f" and {len(self.files) - 10} more" if len(self.files) > 10 else "")
        return (
            f"integrity: CHANGED: {len(self.files)} file(s) besides your kata files differ from {self.against}: {shown}"
        )


def learner_paths() -> set[str]:
    """The repository paths of the learner's own kata files."""
    return {f"exercises/{kata.folder}/{kata.name}.py" for kata in built()}


def outside_learner_files(paths: set[str]) -> tuple[list[str], list[str]]:
    """The changed paths besides the learner's own: (files a run may read, files no run reads)."""
    own = learner_paths()
    others = sorted(path for path in paths if path not in own and not path.startswith(ALLOWED_FOLDERS))
    return [path for path in others if not unread(path)], [path for path in others if unread(path)]


def git(root: Path, *args: str) -> str:
    """git's output in ``root``; raises CalledProcessError or FileNotFoundError."""
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"}
    ).stdout


def clone_commit(root: Path) -> str | None:
    """The commit the repository was cloned at, from the reflog's ``clone:`` entry (None if there is none)."""
    try:
        log = git(root, "log", "-g", "--format=%H %gs", "HEAD")
    except subprocess.CalledProcessError:
        return None
    clones = [line.split(" ", 1)[0] for line in log.splitlines() if " clone: " in f" {line.split(' ', 1)[-1]}"]
    return clones[-1] if clones else None  # the oldest: the reflog lists the newest first


def since_clone(root: Path, base: str | None = None) -> Integrity:
    """The learner's clone against the commit it was cloned at (or ``base``)."""
    if shutil.which("git") is None:
        return Integrity("unknown", "the commit this repository was cloned at", reason="git is not installed")
    try:
        git(root, "rev-parse", "--git-dir")
    except (subprocess.CalledProcessError, OSError):
        return Integrity("unknown", "the commit this repository was cloned at", reason=f"{root} is not a git clone")
    against = "the commit this repository was cloned at"
    if base is None:
        base = clone_commit(root)
        if base is None:
            return Integrity(
                "unknown",
                against,
                reason="git's reflog has no record of the clone (pass --base COMMIT, the course commit you began at)",
            )
    else:
        against = f"--base {base}"
    try:
        commit = git(root, "rev-parse", "--verify", f"{base}^{{commit}}").strip()
        changed = git(root, "diff", "--name-only", "-z", "--no-renames", commit).split("\0")
        untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    except subprocess.CalledProcessError as error:
        return Integrity("unknown", against, base=base, reason=f"git failed: {error.stderr.strip() or error}")
    files, documents = outside_learner_files({path for path in changed + untracked if path})
    against = f"{against} ({commit[:12]})"
    return Integrity("changed" if files else "clean", against, base=commit, files=files, documents=documents)


def tracked(root: Path) -> set[str]:
    """The files of a checkout: git's tracked files when it is a git work tree, else every file."""
    if shutil.which("git") is not None:
        try:
            return {path for path in git(root, "ls-files", "-z").split("\0") if path}
        except (subprocess.CalledProcessError, OSError):
            pass
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def submission_against_course(submission: Path, course: Path) -> Integrity:
    """A learner's submission (a checkout of their repository) against the course template's files."""
    mine, theirs = tracked(submission), tracked(course)
    differing = {path for path in mine ^ theirs}
    differing |= {path for path in mine & theirs if (submission / path).read_bytes() != (course / path).read_bytes()}
    files, documents = outside_learner_files(differing)
    against = f"the course's files ({course})"
    return Integrity("changed" if files else "clean", against, files=files, documents=documents)
