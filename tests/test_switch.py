"""The switch: ``--impl``, ``--deps`` (in pytest) and ``TINYTORCH_MINE``, ``TINYTORCH_IMPL``
(outside it) pick one file behind each ``tinytorch.<kata>``; the pytest header, or outside pytest
one line at the first kata import, says which; and every wrong setup fails loudly.

A process chooses once, so each claim about another choice runs in a child process (see
``conftest.py`` here), as few of them as the claims allow: a child pytest is about 1.5 s of CPU.
They are all started together (``children``), to run side by side while the tests read them.
Header checks only collect (``--co``): pytest prints the header at start-up.
"""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

import tinytorch
from tinytorch.registry import BY_NAME, KATAS, ROOT, Kata, built, kata_file, named
from tinytorch.stubs import write_stubs

HEADER_LINE = re.compile(r"^\s+tinytorch\.(\w+)\s+<- (.+?)\s*$", re.MULTILINE)
USAGE_ERROR = 4  # pytest's exit code for a bad command line
BY_BUILT = [kata.name for kata in built()]
IGNORE_KATA_TESTS = "--ignore-glob=exercises/*/test_*.py"


def header(output: str) -> dict[str, str]:
    """The ``tinytorch.<name> <- <path>`` lines of a pytest header, as {name: path}."""
    return dict(HEADER_LINE.findall(output))


def shown(path: Path) -> str:
    """A path as the header shows it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def expected(choice: dict[str, str], exercises_dir: Path | None = None) -> dict[str, str]:
    """The header for ``{name: impl}``."""
    return {kata.name: shown(kata_file(kata, choice[kata.name], exercises_dir)) for kata in built()}


@pytest.fixture(scope="module")
def first() -> Kata:
    """The kata these tests put under test: the first one built (01 tensor)."""
    return built()[0]


class BrokenStub(NamedTuple):
    folder: Path  # laid out like exercises/
    file: Path  # the first kata's stub, with a syntax error
    line: int  # where the error is


def start_children(start) -> dict:
    """Every child process of this file, by name, started when collection ends (see
    ``tests/conftest.py``): they run side by side (a child pytest is most of a test's time here).
    Also the folders they read: "broken stub" and "missing" (see the fixtures of those names)."""
    first = built()[0]
    # Pristine stubs of every built kata, the first kata's broken by a missing colon.
    folder = write_stubs(start.mktemp("exercises"))
    file = kata_file(first, "exercises", folder)
    line = file.read_text().count("\n") + 1
    with file.open("a") as stub:
        stub.write("def forgot_a_colon(x)\n    return x\n")
    broken = BrokenStub(folder, file, line)
    # Pristine stubs of every built kata but the first, whose file is missing.
    missing = kata_file(first, "exercises", write_stubs(start.mktemp("missing")))
    missing.unlink()

    other = next(kata for kata in built() if kata is not first)
    empty = start.mktemp("no_exercises")  # no kata file at all
    select = f"import tinytorch; tinytorch.select('solutions'); import tinytorch.{first.name} as m; print(m.__file__)"
    started = {
        # The learner runs their kata's tests with their own code for every kata (--deps exercises).
        "broken": start.pytest(
            f"exercises/{first.folder}",
            "--impl",
            "exercises",
            "--deps",
            "exercises",
            env={"TINYTORCH_EXERCISES": str(broken.folder)},
        ),
        # Every kata is under test, so --deps must not matter; the kata tests themselves are
        # not collected (the header is written at start-up, and tox -e solutions runs them).
        "all solutions": start.pytest(
            "exercises", "--co", "--impl", "solutions", "--deps", "exercises", IGNORE_KATA_TESTS
        ),
        "first under test": start.pytest(f"exercises/{first.folder}", "--co", "--impl", "exercises"),
        "bad impl": start.pytest(f"exercises/{first.folder}", "--co", "--impl", "solution"),
        "pytest with mine": start.pytest(f"exercises/{first.folder}", "--co", env={"TINYTORCH_MINE": other.name}),
        "missing in pytest": start.pytest(
            f"exercises/{first.folder}", "--impl", "exercises", env={"TINYTORCH_EXERCISES": str(missing.parent.parent)}
        ),
        "bad impl in a script": start.python("-c", "import tinytorch.tensor", env={"TINYTORCH_IMPL": "reference"}),
        "explicit select": start.python(
            "-c",
            "import io, sys, tinytorch; sys.stderr = io.StringIO(); tinytorch.select('solutions');"
            "import tinytorch.tensor; print(repr(sys.stderr.getvalue()))",
            env={"TINYTORCH_MINE": "optimizers"},
        ),
        "unknown in mine": start.python(
            "-c",
            "import tinytorch; print('imported', flush=True); import tinytorch.tensor",
            env={"TINYTORCH_MINE": "optimiser"},
        ),
        "missing in a script": start.python(
            "-c", f"import tinytorch.{first.name}", env={"TINYTORCH_EXERCISES": str(empty)}
        ),
        "missing, select": start.python("-c", select, env={"TINYTORCH_EXERCISES": str(empty)}),
        "empty": empty,
        "broken stub": broken,
        "missing": missing,
    }
    for impl, env in PROBE_ENV.items():
        started[f"probe {impl}"] = start.python("-c", PROBE, env=env)
    for env in MINE_ENVS:
        started[f"mine {sorted(env.items())}"] = start.python("-c", MINE_PROBE, env=env)
    return started


@pytest.fixture(scope="module")
def children(early, request) -> dict:
    return early(request.module)


@pytest.fixture(scope="module")
def broken(children) -> BrokenStub:
    """Pristine stubs of every built kata, the first kata's broken by a missing colon."""
    return children["broken stub"]


@pytest.fixture(scope="module")
def missing(children) -> Path:
    """Pristine stubs of every built kata but the first, whose file is missing: that file."""
    return children["missing"]


@pytest.fixture(scope="module")
def broken_run(children):
    """The learner runs their kata's tests with their own code for every kata (--deps exercises)."""
    return children["broken"].result()


# --- the pytest header says which file backs each module ---------------------------------


def test_impl_solutions_backs_every_built_kata_with_its_reference(children):
    result = children["all solutions"].result()
    assert "tinytorch: --impl solutions --deps exercises" in result.stdout, result.stdout
    assert header(result.stdout) == expected(dict.fromkeys(BY_BUILT, "solutions")), result.stdout


def test_a_kata_under_test_comes_from_impl_and_every_other_kata_from_the_reference(children, first):
    result = children["first under test"].result()
    assert "tinytorch: --impl exercises --deps solutions" in result.stdout, result.stdout
    choice = {name: "exercises" if name == first.name else "solutions" for name in BY_BUILT}
    assert header(result.stdout) == expected(choice), result.stdout
    assert result.returncode == 0, result.stdout  # and the kata's tests import under this choice


def test_deps_exercises_makes_every_kata_the_learners(broken_run, broken):
    # The run of the syntax-error test below, which reads the exercises from a copy of the stubs.
    assert header(broken_run.stdout) == expected(dict.fromkeys(BY_BUILT, "exercises"), broken.folder), broken_run.stdout


def test_a_bad_impl_is_a_usage_error_naming_the_choices(children):
    result = children["bad impl"].result()
    assert result.returncode == USAGE_ERROR, result.stdout
    assert re.search(
        r"--impl: invalid choice: '?solution'? \(choose from '?exercises'?, '?solutions'?\)", result.stdout
    )


# --- outside pytest: TINYTORCH_IMPL, and one file per module --------------------------------

# One script answers every question about a process that chose with TINYTORCH_IMPL; it runs
# once with TINYTORCH_IMPL=solutions and once without it (a learner's script or REPL).
PROBE = textwrap.dedent(
    """
    import json, sys
    import tinytorch
    answers = {}
    try:
        tinytorch.select("solutions", deps="mine")
    except tinytorch.SwitchError as error:
        answers["bad_deps"] = str(error)
    import tinytorch.tensor as t
    answers["tensor_file"] = t.__file__
    import tinytorch.activations, tinytorch.autograd
    answers["autograd.base is tensor"] = tinytorch.autograd.base is tinytorch.tensor
    answers["autograd.activations is activations"] = tinytorch.autograd.activations is tinytorch.activations
    answers["autograd.Tensor extends tensor.Tensor"] = issubclass(tinytorch.autograd.Tensor, tinytorch.tensor.Tensor)
    answers["loaded_files"] = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    before = (tinytorch.selection(), list(tinytorch.__path__))
    try:
        tinytorch.select("exercises")
    except tinytorch.SwitchError as error:
        answers["select_after_import"] = str(error)
    answers["unchanged"] = (tinytorch.selection(), list(tinytorch.__path__)) == before
    print(json.dumps(answers))
    """
)
PROBE_ENV = {"solutions": {"TINYTORCH_IMPL": "solutions"}, "exercises": {}}


@pytest.fixture(scope="module")
def probe(children):
    """``probe[impl]``: the PROBE script's answers in a process that chose ``impl``."""
    answers = {}
    for impl in PROBE_ENV:
        result = children[f"probe {impl}"].result()
        assert result.returncode == 0, result.stdout
        answers[impl] = json.loads(result.stdout.strip().splitlines()[-1])
    return answers


def test_tinytorch_impl_solutions_makes_a_script_run_the_reference(probe):
    assert Path(probe["solutions"]["tensor_file"]) == kata_file(BY_NAME["tensor"], "solutions")


def test_without_tinytorch_impl_a_script_runs_the_learners_code(probe):
    assert Path(probe["exercises"]["tensor_file"]) == kata_file(BY_NAME["tensor"], "exercises")


def test_a_bad_tinytorch_impl_is_an_error_naming_the_choices(children):
    result = children["bad impl in a script"].result()
    assert result.returncode != 0
    assert "SwitchError: tinytorch: impl must be one of exercises, solutions, got 'reference'" in result.stdout


def test_select_rejects_a_bad_deps_value(probe):
    assert probe["solutions"]["bad_deps"] == "tinytorch: deps must be one of exercises, solutions, got 'mine'"


def test_select_after_a_kata_was_imported_raises_and_changes_nothing(probe):
    error = "tinytorch: cannot switch after importing tensor, activations, autograd"
    assert probe["solutions"]["select_after_import"] == error
    assert probe["solutions"]["unchanged"]


@pytest.mark.parametrize("impl", PROBE_ENV)
def test_autograd_and_its_dependencies_share_one_module_per_file(probe, impl):
    answers = probe[impl]
    assert answers["autograd.base is tensor"] and answers["autograd.activations is activations"], answers
    assert answers["autograd.Tensor extends tensor.Tensor"], answers
    selected = {str(kata_file(kata, impl)) for kata in built()}
    loaded = [file for file in answers["loaded_files"] if file in selected]
    assert len(loaded) == len(set(loaded)) == 3, loaded  # tensor, activations, autograd: once each


# --- outside pytest: TINYTORCH_MINE names your katas, the reference is the rest -------------

# Imports three katas with stderr captured: what the first import printed, and where each
# module came from. OTHER is a kata that TINYTORCH_MINE does not name in these tests.
MINE_PROBE = textwrap.dedent(
    """
    import io, json, sys
    import tinytorch
    sys.stderr = io.StringIO()
    import tinytorch.optimizers
    said_at_first_import = sys.stderr.getvalue()
    import tinytorch.tensor, tinytorch.training
    print(json.dumps({
        "said": sys.stderr.getvalue(),
        "said_at_first_import": said_at_first_import,
        "files": {name: str(path) for name, path in tinytorch.selection().items()},
        "loaded": {name: sys.modules["tinytorch." + name].__file__ for name in ("optimizers", "tensor", "training")},
    }))
    """
)


# The environments MINE_PROBE runs in, each once (a child per environment, started with the others).
MINE_ENVS = [
    {"TINYTORCH_MINE": "optimizers"},
    {"TINYTORCH_MINE": "06"},
    {"TINYTORCH_MINE": "6, 01_tensor"},
    {},
    {"TINYTORCH_MINE": "optimizers", "TINYTORCH_IMPL": "solutions"},
]


def mine_probe(children, env: dict[str, str]) -> dict:
    """MINE_PROBE's answers in a process with ``env`` (one of MINE_ENVS)."""
    result = children[f"mine {sorted(env.items())}"].result()
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout.strip().splitlines()[-1])


def chosen_files(mine: set[str], impl: str = "exercises") -> dict[str, str]:
    """``{name: file}`` when the katas in ``mine`` come from ``impl`` and the others from the reference."""
    return {kata.name: str(kata_file(kata, impl if kata.name in mine else "solutions")) for kata in built()}


@pytest.mark.parametrize(
    ("value", "mine"),
    [
        pytest.param("optimizers", {"optimizers"}, id="a name"),
        pytest.param("06", {"optimizers"}, id="a number"),
        pytest.param("6, 01_tensor", {"optimizers", "tensor"}, id="a number and a folder"),
    ],
)
def test_tinytorch_mine_makes_those_katas_yours_and_every_other_the_reference(children, value, mine):
    answers = mine_probe(children, {"TINYTORCH_MINE": value})
    assert answers["files"] == chosen_files(mine)
    assert answers["loaded"] == {name: chosen_files(mine)[name] for name in answers["loaded"]}


def test_the_first_kata_import_says_whose_code_each_module_is_once_on_stderr(children):
    answers = mine_probe(children, {"TINYTORCH_MINE": "optimizers"})
    others = ", ".join(kata.name for kata in built() if kata.name != "optimizers")
    line = f"tinytorch: your code for optimizers; the reference for {others}\n"
    assert answers["said_at_first_import"] == line
    assert answers["said"] == line, "said again at a later import"


def test_without_tinytorch_mine_every_kata_is_yours_and_the_first_import_says_so(children):
    answers = mine_probe(children, {})
    assert answers["files"] == chosen_files({kata.name for kata in built()})
    assert answers["said"].startswith("tinytorch: your code for every kata (TINYTORCH_MINE=<katas>: only those")


def test_tinytorch_impl_solutions_makes_the_named_katas_the_reference_too(children):
    answers = mine_probe(children, {"TINYTORCH_MINE": "optimizers", "TINYTORCH_IMPL": "solutions"})
    assert answers["files"] == chosen_files(set())
    assert answers["said"] == "tinytorch: the reference (solutions/) for every kata\n"


def test_an_explicit_select_says_nothing(children):
    result = children["explicit select"].result()
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "''"


def test_an_unknown_kata_in_tinytorch_mine_stops_the_first_kata_import_listing_the_katas(children):
    result = children["unknown in mine"].result()
    assert result.returncode != 0
    assert result.stdout.startswith("imported"), result.stdout  # the package itself still imports
    labels = ", ".join(kata.label for kata in built())
    assert (
        f"SwitchError: tinytorch: TINYTORCH_MINE: each name must be a built kata ({labels}), got 'optimiser'"
        in result.stdout
    )


def test_pytest_does_not_read_tinytorch_mine(children, first):
    # The command line alone chooses in pytest: TINYTORCH_MINE names a kata not under test,
    # which stays the reference.
    other = next(kata for kata in built() if kata is not first)
    result = children["pytest with mine"].result()
    choice = {name: "exercises" if name == first.name else "solutions" for name in BY_BUILT}
    assert header(result.stdout) == expected(choice), result.stdout
    assert f"TINYTORCH_MINE={other.name} is not read by pytest" in result.stdout, result.stdout


@pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.name)
def test_every_lesson_measurement_runs_its_kata_as_yours_and_the_rest_as_the_reference(kata):
    # A lesson's "Measure" snippets must run for a learner who has written only that kata.
    lesson = (ROOT / "exercises" / kata.folder / "README.md").read_text()
    section = re.search(r"^## Measure\n(.*?)(?=^## |\Z)", lesson, re.MULTILINE | re.DOTALL)
    assert section, f"{kata.folder}/README.md has no Measure section"
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```$", section.group(1), re.MULTILINE | re.DOTALL)
    commands = [block.splitlines()[0] for block in blocks if "tinytorch" in block]
    assert commands, "no snippet imports tinytorch"
    assert [command for command in commands if not command.startswith(f"TINYTORCH_MINE={kata.name} ")] == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param("optimizers", ("optimizers",), id="a name"),
        pytest.param("6", ("optimizers",), id="a number"),
        pytest.param("06", ("optimizers",), id="a two-digit number"),
        pytest.param("06_optimizers", ("optimizers",), id="a folder"),
        pytest.param("optimizers,tensor", ("tensor", "optimizers"), id="commas, in curriculum order"),
        pytest.param(" optimizers  tensor 1 ", ("tensor", "optimizers"), id="spaces, repeats once"),
        pytest.param("", (), id="nothing"),
    ],
)
def test_katas_are_named_by_name_number_or_folder(text, names):
    assert tuple(kata.name for kata in named(text, "TINYTORCH_MINE")) == names


def test_a_name_that_is_no_built_kata_is_refused_listing_the_built_katas():
    labels = ", ".join(kata.label for kata in built())
    with pytest.raises(ValueError, match=re.escape(f"--mine: each name must be a built kata ({labels}), got 'adam'")):
        named("optimizers,adam", "--mine")


def test_a_planned_kata_is_refused_as_planned(planned):
    with pytest.raises(
        ValueError, match=re.escape(f"got '{planned.name}' ({planned.label} is planned, not built yet)")
    ):
        named(planned.name, "TINYTORCH_MINE")


# --- a missing or broken kata file fails loudly, naming the file --------------------------


def test_a_missing_kata_file_stops_pytest_at_start_up_naming_the_path(children, missing, first):
    result = children["missing in pytest"].result()
    assert result.returncode == USAGE_ERROR, result.stdout
    assert f"exercises for kata {first.label} must be at {missing}, but there is no such file" in result.stdout
    assert not header(result.stdout), "a header means the run went on with some other file"
    assert not re.search(r"\d+ (passed|failed)", result.stdout), result.stdout


def test_a_missing_kata_file_stops_a_script_naming_the_path(children, first):
    result = children["missing in a script"].result()
    assert result.returncode != 0
    assert f"must be at {kata_file(first, 'exercises', children['empty'])}, but there is no such file" in result.stdout


def test_a_missing_kata_file_still_lets_a_script_choose_the_reference_explicitly(children, first):
    result = children["missing, select"].result()
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == str(kata_file(first, "solutions"))


def test_a_syntax_error_in_the_learners_stub_fails_the_run_naming_their_file(broken_run, broken):
    output = broken_run.stdout
    assert broken_run.returncode not in (0, 5), output  # 5: no tests collected, which would hide it
    assert f'{broken.file}", line {broken.line}' in output or f"{broken.file}:{broken.line}" in output, output
    assert "SyntaxError" in output, output


def test_every_kata_module_in_this_run_is_the_file_the_switch_selected():
    for kata in built():
        module = importlib.import_module(f"tinytorch.{kata.name}")
        assert Path(module.__file__) == tinytorch.selection()[kata.name]


# --- which katas the command line puts under test -----------------------------------------


@pytest.mark.parametrize(
    ("args", "cwd", "named"),
    [
        pytest.param([], ".", "all", id="bare pytest: every kata"),
        pytest.param(["exercises"], ".", "all", id="the exercises folder: every kata"),
        pytest.param(["."], ".", "all", id="the repository: every kata"),
        pytest.param(["exercises/03_autograd"], ".", {"autograd"}, id="one kata folder"),
        pytest.param(["exercises/03_autograd/"], ".", {"autograd"}, id="one kata folder with a slash"),
        pytest.param(["exercises/01_tensor/test_tensor.py::test_x[a-b]"], ".", {"tensor"}, id="a node id"),
        pytest.param(["exercises/01_tensor", "exercises/05_losses"], ".", {"tensor", "losses"}, id="two folders"),
        pytest.param(["test_tensor.py"], "exercises/01_tensor", {"tensor"}, id="relative to the cwd"),
        pytest.param([str(ROOT / "exercises/02_activations")], "tests", {"activations"}, id="an absolute path"),
        pytest.param(["../03_autograd"], "exercises/01_tensor", {"autograd"}, id="a sibling from inside a kata"),
        pytest.param(["tests"], ".", set(), id="the repository's tests: none"),
        pytest.param(["solutions/01_tensor"], ".", set(), id="a reference folder: none"),
        pytest.param(["exercises/01_tensor_old"], ".", set(), id="a folder whose name starts alike: none"),
    ],
)
def test_katas_under_test_are_those_whose_exercise_folder_an_argument_names(repo_conftest, args, cwd, named):
    found = repo_conftest._katas_named(args, ROOT / cwd, ROOT, KATAS)
    assert found == ({kata.name for kata in KATAS} if named == "all" else named)


def test_katas_named_only_considers_the_katas_it_is_given(repo_conftest):
    assert repo_conftest._katas_named(["exercises"], ROOT, ROOT, KATAS[:2]) == {KATAS[0].name, KATAS[1].name}
