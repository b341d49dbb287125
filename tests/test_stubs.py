"""Stubs and references: the same public API, a contract on every target, a generator that
does exactly what CONTRIBUTING.md says, and a README module map that matches the registry.

These read files, never the switch, so they hold on a learner's clone too: a learner changes
function bodies, never names, signatures or docstrings.
"""

from __future__ import annotations

import ast
import functools
import textwrap

import pytest

from tinytorch import stubs
from tinytorch.readme import END, START
from tinytorch.registry import KATAS, ROOT, Kata, built, kata_file, module_map

BUILT = pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.folder)


def reference(kata: Kata) -> str:
    return kata_file(kata, "solutions").read_text()


@functools.cache
def reference_targets(kata: Kata) -> list[tuple[str, int, int, int]]:
    """``stubs.targets`` of the kata's reference, parsed once per kata (parsing is most of this file's time)."""
    return stubs.targets(reference(kata))


@functools.cache
def generated(kata: Kata) -> str:
    """``stubs.generate(kata)``, computed once per kata in a run and read by several tests below
    (``test_generating_a_stub_twice_gives_the_same_text`` generates it again to compare)."""
    return stubs.generate(kata)


# --- (a) parity: the committed stub has the reference's public API ------------------------


def public(api: dict[str, tuple]) -> dict[str, tuple]:
    """The entries of ``stubs.api`` a learner must keep: no ``_private`` part (dunders are public)."""
    return {
        name: entry
        for name, entry in api.items()
        if not any(part.startswith("_") and not part.endswith("__") for part in name.split("."))
    }


@BUILT
def test_the_exercise_stub_has_the_references_names_signatures_and_docstrings(kata):
    # Public names only: a learner may add private helpers of their own.
    stub = public(stubs.api(kata_file(kata, "exercises").read_text()))
    ref = public(stubs.api(reference(kata)))
    assert sorted(stub) == sorted(ref), f"{kata.folder}: the public names differ from the reference"
    for name in ref:
        assert stub[name] == ref[name], f"{kata.folder}: {name} differs from the reference"


def test_api_sees_a_changed_signature_and_a_changed_docstring():
    source = 'class A(B):\n    def f(self, x: int = 1) -> int:\n        """Doc."""\n        return x\n'
    assert stubs.api(source) == {"A": ("B", None), "A.f": ("(self, x: int=1) -> int", "Doc.")}
    assert stubs.api(source.replace("x: int = 1", "x: int = 2")) != stubs.api(source)
    assert stubs.api(source.replace("Doc.", "Docs.")) != stubs.api(source)
    assert stubs.api(source.replace("return x", "return 2 * x")) == stubs.api(source)  # bodies are free


# --- (b) every target has a contract, and its stub body is one NotImplementedError ---------


@BUILT
def test_every_target_has_a_contract_docstring_and_a_step(kata):
    source = reference(kata)
    targets = reference_targets(kata)
    assert targets, f"{kata.folder}: no `# solution: step N` marker in the reference"
    nodes = stubs.functions(source)
    for qualname, step, _, _ in targets:
        assert (ast.get_docstring(nodes[qualname]) or "").strip(), f"{qualname} has no contract docstring"
        assert step >= 1, f"{qualname}: steps count from 1"


@BUILT
def test_every_solution_marker_in_a_reference_marks_a_target(kata):
    # A marker the generator does not see (not the first line after the docstring) would leave
    # the solution in the stub.
    lines = reference(kata).splitlines()
    markers = [number for number, line in enumerate(lines, 1) if stubs.MARKER.match(line)]
    assert markers == sorted(start for *_, start, _ in reference_targets(kata))


@BUILT
def test_every_generated_stub_parses(kata):
    ast.parse(generated(kata))


@BUILT
def test_each_target_body_in_the_stub_is_one_raise_naming_kata_function_lesson_and_step(kata):
    functions = stubs.functions(generated(kata))
    for qualname, step, _, _ in reference_targets(kata):
        node = functions[qualname]
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{qualname}: {ast.unparse(node)}"
        call = body[0].exc
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "NotImplementedError"
        [message] = [arg.value for arg in call.args]
        assert message == f"{kata.label}: implement {qualname} — see exercises/{kata.folder}/README.md, step {step}"


def without_target_bodies(source: str, targets: set[str]) -> str:
    """The module's syntax tree, each target's body cut down to its docstring."""
    tree = ast.parse(source)
    for name, node in stubs.functions(tree).items():
        if name in targets:
            node.body = node.body[:1] if ast.get_docstring(node) is not None else []
    return ast.dump(tree)


@BUILT
def test_everything_but_the_target_bodies_is_copied_verbatim(kata):
    # Imports, given helpers, classes and their attributes, signatures, docstrings, decorators.
    source, stub = reference(kata), generated(kata)
    assert stub.startswith(stubs.HEADER)
    targets = {qualname for qualname, *_ in reference_targets(kata)}
    assert without_target_bodies(stub, targets) == without_target_bodies(source, targets)


# --- (c) the generator, on references written here -------------------------------------------


@pytest.fixture
def fake_kata(tmp_path, monkeypatch):
    """A kata whose reference is ``tmp_path/reference.py``: write it, then call ``generate``."""
    kata = Kata(99, "fake", "A kata for the generator's own tests", (), True)
    path = tmp_path / "reference.py"
    monkeypatch.setattr(stubs, "kata_file", lambda kata, impl, exercises_dir=None: path)
    return kata, path


@BUILT
def test_generating_a_stub_twice_gives_the_same_text(kata):
    assert stubs.generate(kata) == generated(kata)  # generated anew, and once before


def test_a_reference_without_markers_becomes_itself_plus_the_header(fake_kata):
    kata, path = fake_kata
    source = textwrap.dedent(
        '''\
        """A module."""

        X = 1


        def given(x):
            """Given: x."""
            # step 1 of a comment, not a marker
            return x
        '''
    )
    path.write_text(source)
    assert stubs.generate(kata) == stubs.HEADER + source


def test_the_generator_replaces_marked_bodies_and_keeps_the_rest(fake_kata):
    kata, path = fake_kata
    path.write_text(
        textwrap.dedent(
            '''\
            def double(x):
                """Return 2x."""
                # solution: step 1
                y = x + x
                return y


            class Box:
                def given(self):
                    """Given: not a target, the marker is not first."""
                    value = 1
                    # solution: step 9
                    return value

                def a_method_whose_message_is_too_long_for_one_line_of_one_hundred_and_twenty_columns(self):
                    """Long."""
                    # solution: step 2
                    return None


            def no_docstring():
                # solution: step 3
                return 3
            '''
        )
    )
    long_name = "Box.a_method_whose_message_is_too_long_for_one_line_of_one_hundred_and_twenty_columns"
    expected = textwrap.dedent(
        f'''\
        def double(x):
            """Return 2x."""
            raise NotImplementedError("99 fake: implement double — see exercises/99_fake/README.md, step 1")


        class Box:
            def given(self):
                """Given: not a target, the marker is not first."""
                value = 1
                # solution: step 9
                return value

            def a_method_whose_message_is_too_long_for_one_line_of_one_hundred_and_twenty_columns(self):
                """Long."""
                raise NotImplementedError(
                    "99 fake: implement {long_name} — see exercises/99_fake/README.md, step 2"
                )


        def no_docstring():
            raise NotImplementedError("99 fake: implement no_docstring — see exercises/99_fake/README.md, step 3")
        '''
    )
    assert stubs.generate(kata) == stubs.HEADER + expected


# --- (d) the README's module map is the registry's -----------------------------------------


def test_the_readmes_module_map_is_the_registrys():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README.md does not exist yet (the lead is writing it)")
    text = readme.read_text()
    assert START in text and END in text, f"README.md must hold the module map between {START} and {END}"
    between = text.split(START, 1)[1].split(END, 1)[0]
    assert between.strip() == module_map(), "the module map is stale: run python -m tinytorch.readme"


def test_the_module_map_has_a_row_per_kata_linking_the_built_ones():
    rows = module_map().splitlines()[2:]
    assert len(rows) == len(KATAS)
    for kata, row in zip(built(), [r for r in rows if "ready" in r], strict=True):
        assert f"[`{kata.folder}`](exercises/{kata.folder}/README.md)" in row
