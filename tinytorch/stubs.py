"""Stubs are generated from the reference; ``verify`` proves every kata test fails on them.

In a reference file, a *target* is a function whose body, right after its docstring, starts with
a marker line ``# solution: step N``. The stub keeps everything else verbatim (imports, given
helpers, signatures, docstrings) and replaces the target's body from the marker down with::

    raise NotImplementedError("03 autograd: implement Tensor.backward — see exercises/03_autograd/README.md, step 4")

Commands (``python -m tinytorch.stubs ...``):

    write    regenerate exercises/NN_name/name.py for the named katas, or all (overwrites your work!);
             for a kata whose stub does not exist yet, run it with TINYTORCH_IMPL=solutions
    check    fail if a committed stub differs from the one generated from the reference
    verify   generate pristine stubs in a temporary folder; check that all the katas' tests
             collect on them (a learner's bare `pytest`: no test file may run kata code at
             import), then run each kata's tests on them: every test must fail with
             NotImplementedError (not pass, skip, or break for another reason; a fixture that
             calls a target may fail at setup)
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from tinytorch.registry import ROOT, Kata, built, kata_file

MARKER = re.compile(r"^(\s*)# solution: step (\d+)\s*$")
HEADER = (
    "# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.\n"
    "# Signatures and docstrings are the contract the tests hold you to: keep them.\n"
)
UNUSED_IMPORTS = (
    "# The reference's imports are kept for you; until you use them, the linter is told not to mind\n"
    "# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):\n"
    "# ruff: noqa: F401\n"
)


def functions(source: str | ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Qualified name (``Tensor.backward``) -> function node, for every function and method."""
    tree = ast.parse(source) if isinstance(source, str) else source
    found = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[f"{prefix}{child.name}"] = child

    visit(tree, "")
    return found


def targets(source: str) -> list[tuple[str, int, int, int]]:
    """(qualified name, step, first line, last line) of each target, lines 1-based and inclusive."""
    lines = source.splitlines()
    found = []
    for name, function in functions(source).items():
        has_doc = ast.get_docstring(function) is not None
        # Without a docstring, the marker is the comment line right above the first statement.
        start = function.body[0].end_lineno + 1 if has_doc else function.body[0].lineno - 1
        match = MARKER.match(lines[start - 1]) if start <= len(lines) else None
        if match:
            found.append((name, int(match.group(2)), start, function.end_lineno))
    return found


def generate(kata: Kata) -> str:
    """The pristine stub of ``kata``, from its reference."""
    source = kata_file(kata, "solutions").read_text()
    lines = source.splitlines(keepends=True)
    for qualname, step, start, end in sorted(targets(source), key=lambda t: -t[2]):
        indent = MARKER.match(lines[start - 1]).group(1)
        message = f"{kata.label}: implement {qualname} — see exercises/{kata.folder}/README.md, step {step}"
        lines[start - 1 : end] = [_raise(indent, message)]
    stub = "".join(lines)
    return HEADER + (UNUSED_IMPORTS if _has_unused_imports(stub) else "") + stub


def _has_unused_imports(source: str) -> bool:
    """Whether a name that ``source`` imports is never used in it (``__future__`` aside)."""
    tree = ast.parse(source)
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None) != "__future__"
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return bool(imported - used)


def _raise(indent: str, message: str) -> str:
    """The stub body, laid out as ``ruff format`` would (one line if it fits in 120 columns)."""
    line = f'{indent}raise NotImplementedError("{message}")\n'
    if len(line) <= 121:
        return line
    return f'{indent}raise NotImplementedError(\n{indent}    "{message}"\n{indent})\n'


def api(source: str) -> dict[str, tuple[str, str | None]]:
    """Name -> (signature, docstring) of every function and class, methods and private names included."""
    found: dict[str, tuple[str, str | None]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if isinstance(child, ast.ClassDef):
                    signature = ", ".join(ast.unparse(base) for base in child.bases)
                    visit(child, f"{name}.")
                else:
                    returns = f" -> {ast.unparse(child.returns)}" if child.returns else ""
                    signature = f"({ast.unparse(child.args)}){returns}"
                found[name] = (signature, ast.get_docstring(child))

    visit(ast.parse(source), "")
    return found


def check() -> int:
    """Compare every committed stub with the generated one; 0 when all equal."""
    drifted = [kata for kata in built() if kata_file(kata, "exercises").read_text() != generate(kata)]
    for kata in drifted:
        print(f"{kata_file(kata, 'exercises').relative_to(ROOT)} differs from the stub generated from the reference")
    if drifted:
        print("maintainers: run `python -m tinytorch.stubs write` after changing a reference")
    return 1 if drifted else 0


def write(names: list[str]) -> int:
    for kata in built():
        if not names or kata.name in names:
            path = kata_file(kata, "exercises")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generate(kata))
    return 0


def write_stubs(folder: Path) -> Path:
    """Lay ``folder`` out like ``exercises/``, with the pristine stub of every built kata (a fresh clone)."""
    for kata in built():
        stub = kata_file(kata, "exercises", folder)
        stub.parent.mkdir(parents=True)
        stub.write_text(generate(kata))
    return folder


def verify(names: list[str]) -> int:
    """Run each kata's tests on pristine stubs; 0 when every test fails on NotImplementedError."""
    katas = [kata for kata in built() if not names or kata.name in names]
    problems = 0
    with tempfile.TemporaryDirectory() as tmp:
        write_stubs(Path(tmp))  # every stub: the switch checks that each kata's file exists
        problems += _verify_collection(Path(tmp))
        for kata in katas:
            problems += _verify_kata(kata, Path(tmp))
    print("stub check:", "every kata test fails on its stub" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


def _verify_collection(stubs_dir: Path) -> int:
    """A learner's bare ``pytest`` on a fresh clone: every kata's tests collect on the stubs.

    A test module that calls kata code at import time (a Tensor in a parametrize list) breaks
    collection there, and pytest then runs no test at all. The per-kata runs cannot see it:
    there, every other kata is the reference.
    """
    env = {**os.environ, "TINYTORCH_EXERCISES": str(stubs_dir)}
    command = [sys.executable, "-m", "pytest", "exercises", "--impl", "exercises", "--deps", "exercises"]
    command += ["--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return 0
    print("collection: `pytest exercises` on pristine stubs fails to collect (a test file runs kata code at import?)")
    print(result.stdout[-3000:] + result.stderr[-1000:])
    return 1


def _verify_kata(kata: Kata, stubs_dir: Path) -> int:
    report = stubs_dir / f"{kata.folder}.xml"
    env = {**os.environ, "TINYTORCH_EXERCISES": str(stubs_dir)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        f"exercises/{kata.folder}",
        "--impl",
        "exercises",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile",
        "ci",
        f"--junitxml={report}",
    ]
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
    if not report.is_file():
        print(f"{kata.label}: pytest wrote no report (did collection fail?)")
        return 1
    cases = ET.parse(report).getroot().iter("testcase")
    bad = []
    count = 0
    for case in cases:
        count += 1
        # A failure, or an error in a fixture that called a target, both caused by the stub.
        outcome = case.find("failure") if case.find("failure") is not None else case.find("error")
        text = "" if outcome is None else (outcome.get("message", "") + (outcome.text or ""))
        if "NotImplementedError" not in text:
            outcome = "passes" if not len(case) else f"ends in {case[0].tag}: {case[0].get('message', '')[:100]}"
            bad.append(f"  {case.get('name')} {outcome}")
    if not count:
        print(f"{kata.label}: no tests were collected")
    elif not bad:
        print(f"{kata.label}: {count} tests, all fail on NotImplementedError")
    else:
        print(f"{kata.label}: {len(bad)} of {count} tests do not fail on the stub")
    for line in bad:
        print(line)
    return len(bad) if count else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinytorch.stubs", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("write", "check", "verify"))
    parser.add_argument("katas", nargs="*", help="kata names for write and verify (default: all)")
    args = parser.parse_args(argv)
    if args.command == "verify":
        return verify(args.katas)
    return write(args.katas) if args.command == "write" else check()


if __name__ == "__main__":
    sys.exit(main())
