"""The safety nets: a learner's infinite loop ends in a timeout naming their function (under
hypothesis too), a memory blow-up ends in a memray failure or a MemoryError that says how much
was allocated, and in every case the run goes on. A run refuses to start without the plugins
that enforce this, or with a built kata's tests missing; a run on the reference says so at the
end; failures are short, and the learner's code failing in a fixture is reported as theirs.

One child pytest runs a small file of misbehaving tests (``LEARNER_TESTS``) under the
repository's configuration: ``-c pyproject.toml`` (timeout, warnings, markers) and the
repository's ``conftest.py`` loaded as a plugin (``-p conftest``; the file lives in a temporary
folder, outside the reach of conftest discovery). Each test below reads one part of that run.
Every child pytest of this file is started at once (``children``), to run side by side.
"""

from __future__ import annotations

import re
import resource
import shutil
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from tinytorch.registry import ROOT, built, kata_file
from tinytorch.stubs import api, generate
from tinytorch.testing import guards

GiB = 2**30
USAGE_ERROR = 4  # pytest's exit code for a bad command line or configuration

# The child's address-space cap (TINYTORCH_MAX_MEMORY_GB): below this run's cap (4 GiB here),
# which the child inherits, so a cap of exactly 3 GiB in the child proves its own conftest set it.
CAP_GB = 3
# The time limit of the looping tests, short so that this file stays fast.
LIMIT = 1

LEARNER_TESTS = textwrap.dedent(
    f"""
    import resource

    import numpy as np
    import pytest
    from hypothesis import given, strategies as st

    GiB = 2**30
    CAP = {CAP_GB} * GiB


    def learner_loop():
        total = 0
        while True:
            total += 1


    @pytest.mark.timeout({LIMIT})
    def test_an_infinite_loop():
        learner_loop()


    def test_after_the_loop():
        assert True


    def learner_step(n):
        while n != -1:
            n = abs(n) + 1
        return n


    @pytest.mark.timeout({LIMIT})
    @given(st.integers())
    def test_an_infinite_loop_in_a_property_test(n):
        assert learner_step(n) == -1


    @given(st.integers())
    def test_a_property_test_after_the_loop(n):
        assert abs(n) >= 0


    @pytest.mark.limit_memory("1 MB")
    def test_twenty_megabytes_under_a_one_megabyte_limit():
        buffers = np.ones(20 * 2**20 // 8)
        assert buffers.sum() > 0


    def test_the_address_space_cap():
        assert resource.getrlimit(resource.RLIMIT_AS) == (CAP, CAP)


    def test_sixty_four_gibibytes():
        if resource.getrlimit(resource.RLIMIT_AS)[0] != CAP:
            pytest.fail("no address-space cap: not allocating 64 GiB")
        np.ones(64 * GiB // 8)


    def test_more_than_the_cap_but_less_than_the_machine():
        if resource.getrlimit(resource.RLIMIT_AS)[0] != CAP:
            pytest.fail("no address-space cap")
        np.empty(CAP + GiB, dtype=np.uint8)  # never touched: without the cap, this succeeds


    def test_a_runaway_list():
        chunks = []
        while True:
            chunks.append(np.empty(64 * 2**20, dtype=np.uint8))  # never touched: address space, not RAM


    def test_after_the_blow_ups():
        assert np.ones(1000).sum() == 1000


    def test_an_overflow_warning():
        np.exp(np.float64(1000.0))
    """
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the address-space cap is Linux-only")


class Run:
    """The child's output and, per test, its outcome and failure message (from --junitxml)."""

    def __init__(self, output: str, report) -> None:
        self.output = output
        self.outcomes: dict[str, tuple[str, str]] = {}
        self.times: dict[str, float] = {}
        for case in ET.parse(report).getroot().iter("testcase"):
            self.times[case.get("name")] = float(case.get("time"))
            problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
            if not problems:
                self.outcomes[case.get("name")] = ("passed", "")
            else:
                problem = problems[0]
                self.outcomes[case.get("name")] = (problem.tag, problem.get("message", "") + (problem.text or ""))

    def outcome(self, name: str) -> str:
        return self.outcomes[name][0]

    def message(self, name: str) -> str:
        return self.outcomes[name][1]

    def seconds(self, name: str) -> float:
        return self.times[name]


def start_children(start) -> dict:
    """Every child pytest of this file, by name, started when collection ends (see
    ``tests/conftest.py``): they run side by side (the children are most of this file's time). A
    child's JUnit report, where it writes one, is under ``name + " report"``."""
    started = {}
    # A folder laid out like ``exercises/``, with the pristine stub of every built kata.
    stubs = start.mktemp("stubs")
    for kata in built():
        stub = kata_file(kata, "exercises", stubs)
        stub.parent.mkdir(parents=True)
        stub.write_text(generate(kata))
    # The learner's misbehaving tests, under the repository's configuration.
    folder = start.mktemp("learner")
    (folder / "test_learner.py").write_text(LEARNER_TESTS)
    report = folder / "report.xml"
    # --impl solutions: no kata is under test here, and the run must not depend on the learner's files.
    started["learner report"] = report
    started["learner"] = start.pytest(
        "test_learner.py",
        "-p",
        "conftest",
        f"--rootdir={ROOT}",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--impl",
        "solutions",
        f"--junitxml={report}",
        cwd=folder,
        env={"PYTHONPATH": str(ROOT), "TINYTORCH_MAX_MEMORY_GB": str(CAP_GB)},
    )

    # STUB_TESTS on pristine stubs, every kata the learner's, with short and with long tracebacks.
    folder = start.mktemp("stub_tests")
    (folder / "test_on_stubs.py").write_text(STUB_TESTS)
    for number, extra in enumerate(STUB_RUNS):
        report = folder / f"report{number}.xml"
        started[f"stubs {extra} report"] = report
        started[f"stubs {extra}"] = start.pytest(
            "test_on_stubs.py",
            "-p",
            "conftest",
            f"--rootdir={ROOT}",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--impl",
            "exercises",
            "--deps",
            "exercises",
            f"--junitxml={report}",
            *extra,
            cwd=folder,
            # COLUMNS: the short summary's lines in full, not cut at 80 columns.
            env={"PYTHONPATH": str(ROOT), "TINYTORCH_EXERCISES": str(stubs), "COLUMNS": "300"},
        )

    for plugin in GUARD_PLUGINS:
        started[f"no {plugin}"] = start.pytest("exercises", "--co", "--impl", "solutions", "-p", f"no:{plugin}")

    # A copy of the repository without the last built kata's exercise folder.
    copy = start.mktemp("copy") / "repository"
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.egg-info")
    for name in ("tinytorch", "exercises", "solutions"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    first, missing = built()[0], built()[-1]
    shutil.rmtree(copy / "exercises" / missing.folder)
    started["missing kata"] = missing
    for args in (("--impl", "solutions"), (f"exercises/{first.folder}", "--impl", "solutions")):
        started[f"copy {args}"] = start.pytest("--co", "-q", *args, cwd=copy, env={"PYTHONPATH": str(copy)})

    started["exported impl"] = start.pytest(
        f"exercises/{first.folder}", "-q", "-x", "-k", "step1", env={"TINYTORCH_IMPL": "solutions"}
    )
    started["impl solutions"] = start.pytest(
        "exercises", "--co", "-q", "--impl", "solutions", "--ignore-glob=exercises/*/test_*.py"
    )
    started["learners code"] = start.pytest(
        f"exercises/{first.folder}", "--co", "-q", env={"TINYTORCH_EXERCISES": str(stubs)}
    )
    return started


@pytest.fixture(scope="module")
def children(early, request) -> dict:
    return early(request.module)


@pytest.fixture(scope="module")
def learner_run(children) -> Run:
    result = children["learner"].result()
    assert children["learner report"].is_file(), result.stdout
    return Run(result.stdout, children["learner report"])


def test_the_child_run_uses_the_repository_configuration(learner_run):
    assert "timeout: 60.0s" in learner_run.output and "timeout method: signal" in learner_run.output
    assert "tinytorch: --impl solutions" in learner_run.output  # the repository's conftest is loaded
    ran = len(learner_run.outcomes)
    assert ran == LEARNER_TESTS.count("\ndef test_") == 11, learner_run.output  # the process survived them all


# --- an infinite loop -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "function", "line"),
    [
        ("test_an_infinite_loop", "learner_loop", "while True:"),
        ("test_an_infinite_loop_in_a_property_test", "learner_step", "n = abs(n) + 1"),
    ],
)
def test_an_infinite_loop_fails_with_a_timeout_naming_the_learners_function(learner_run, test, function, line):
    assert learner_run.outcome(test) == "failure", learner_run.output
    message = learner_run.message(test)
    assert f"Timeout (>{LIMIT:.1f}s) from pytest-timeout" in message, message
    # The function, its file and the line it was on, in the first line of the message.
    number = next(i for i, text in enumerate(LEARNER_TESTS.splitlines(), 1) if text.strip() == line)
    in_function = f"in {function} (test_learner.py:{number})" if function == "learner_loop" else f"in {function} ("
    assert in_function in message.splitlines()[0], message


def test_a_loop_under_hypothesis_ends_within_the_time_limit_instead_of_being_retried(learner_run):
    # Hypothesis retries a failing example to shrink it; a timeout must not be retried, or
    # the retry loops with no alarm left, for ever.
    assert learner_run.seconds("test_an_infinite_loop_in_a_property_test") < LIMIT + 10, learner_run.output


@pytest.mark.parametrize("test", ["test_after_the_loop", "test_a_property_test_after_the_loop"])
def test_the_tests_after_an_infinite_loop_still_run_and_pass(learner_run, test):
    assert learner_run.outcome(test) == "passed", learner_run.output


# --- a memory blow-up -------------------------------------------------------------------


def test_an_allocation_over_its_memray_limit_fails_naming_the_limit(learner_run):
    name = "test_twenty_megabytes_under_a_one_megabyte_limit"
    assert learner_run.outcome(name) == "failure", learner_run.output
    assert "Test was limited to 1.0MiB but allocated 20.0MiB" in learner_run.message(name)


@linux_only
def test_the_conftest_caps_the_address_space_of_the_run(learner_run):
    assert learner_run.outcome("test_the_address_space_cap") == "passed", learner_run.message(
        "test_the_address_space_cap"
    )


ALLOCATED = re.compile(r"In total the test process had (\d+\.\d\d) GiB of address space allocated")
BLOW_UPS = ["test_sixty_four_gibibytes", "test_more_than_the_cap_but_less_than_the_machine", "test_a_runaway_list"]


@linux_only
@pytest.mark.parametrize("name", BLOW_UPS)
def test_an_allocation_over_the_cap_is_a_memory_error_naming_the_total_and_the_cap(learner_run, name):
    assert learner_run.outcome(name) == "failure", learner_run.output
    message = learner_run.message(name)
    assert "MemoryError" in message, message
    assert f"its cap is {CAP_GB:.2f} GiB (TINYTORCH_MAX_MEMORY_GB sets it)" in message, message
    assert ALLOCATED.search(message), message


@linux_only
def test_a_runaway_list_reports_what_it_allocated_in_total_not_only_its_last_chunk(learner_run):
    # It holds ~3 GiB in 64 MiB chunks when the next chunk fails: the total is near the cap.
    message = learner_run.message("test_a_runaway_list")
    total = float(ALLOCATED.search(message).group(1))
    assert CAP_GB - 0.25 <= total <= CAP_GB, message


def test_the_tests_after_the_blow_ups_still_run_and_pass(learner_run):
    assert learner_run.outcome("test_after_the_blow_ups") == "passed", learner_run.output


# --- warnings and hypothesis --------------------------------------------------------------


def test_a_numpy_overflow_warning_is_a_failure(learner_run):
    assert learner_run.outcome("test_an_overflow_warning") == "failure", learner_run.output
    assert "RuntimeWarning: overflow encountered in exp" in learner_run.message("test_an_overflow_warning")


# --- the cap is a share of the machine's memory --------------------------------------------


def memtotal() -> int:
    """The machine's memory in bytes, as the kernel states it in /proc/meminfo."""
    line = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
    return int(line.split()[1]) * 1024


@pytest.mark.parametrize(
    ("physical", "cap"), [(4 * GiB, 2 * GiB), (1 * GiB, GiB // 2), (6 * GiB, 3 * GiB), (64 * GiB, 4 * GiB)]
)
def test_the_cap_is_half_the_machines_memory_and_at_most_4_gib(physical, cap):
    assert guards.address_space_cap(physical) == cap


def test_the_cap_is_4_gib_where_the_machines_memory_is_unknown():
    assert guards.address_space_cap(None) == 4 * GiB


@pytest.mark.parametrize(("setting", "cap"), [("3", 3 * GiB), ("1.5", 3 * GiB // 2), ("16", 16 * GiB)])
def test_tinytorch_max_memory_gb_sets_the_cap_whatever_the_machine(setting, cap):
    assert guards.address_space_cap(4 * GiB, setting) == cap


@pytest.mark.parametrize("setting", ["lots", "0", "-2", "nan", ""])
def test_a_bad_tinytorch_max_memory_gb_is_refused(setting):
    with pytest.raises(
        ValueError, match=re.escape(f"TINYTORCH_MAX_MEMORY_GB must be a number of GiB > 0, got {setting!r}")
    ):
        guards.address_space_cap(4 * GiB, setting)


@linux_only
def test_the_physical_memory_is_the_machines():
    assert guards.physical_memory() == memtotal()


@linux_only
def test_this_run_is_capped_at_its_share_of_the_machine():
    cap = guards.address_space_cap(memtotal(), guards.os.environ.get(guards.CAP_VARIABLE))
    assert resource.getrlimit(resource.RLIMIT_AS) == (cap, cap)


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_hypothesis_profiles_have_no_deadline_and_no_explain_phase(profile):
    assert settings.get_profile(profile).deadline is None  # pytest-timeout catches loops instead
    assert Phase.explain not in settings.get_profile(profile).phases  # it re-runs failing tests


def test_the_ci_profile_is_deterministic():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None


# --- the plugins the guards rest on ---------------------------------------------------------


GUARD_PLUGINS = {"memray": "pytest-memray", "timeout": "pytest-timeout"}


@pytest.mark.parametrize(("plugin", "package"), GUARD_PLUGINS.items())
def test_a_pytest_without_a_guards_plugin_refuses_to_start_and_says_how_to_install_it(children, plugin, package):
    result = children[f"no {plugin}"].result()
    assert result.returncode == USAGE_ERROR, result.stdout
    assert f"got no {package}: without them, memory budgets and timeouts would switch off" in result.stdout
    assert f"`{sys.executable} -m pip install -e '.[test]'`" in result.stdout, result.stdout


# --- a built kata's tests must be there -----------------------------------------------------


def test_a_built_katas_missing_exercise_folder_stops_every_run(children):
    # A copy of the repository without the last built kata's exercise folder: any run, even
    # one of another kata on the reference, must refuse rather than run fewer tests.
    first, missing = built()[0], children["missing kata"]
    for args in (("--impl", "solutions"), (f"exercises/{first.folder}", "--impl", "solutions")):
        result = children[f"copy {args}"].result()
        assert result.returncode == USAGE_ERROR, result.stdout
        wanted = (
            f"the tests of every built kata must be present, got no exercises/{missing.folder}/test_{missing.name}.py"
        )
        assert wanted in result.stdout, result.stdout


# --- a run on the reference says so at its end ----------------------------------------------

REFERENCE_LINE = re.compile(r"^tinytorch: the reference \(solutions/\), not your code, was under test for (.+)$", re.M)


def test_an_exported_tinytorch_impl_solutions_is_named_at_the_end_of_a_quiet_run(children):
    first = built()[0]
    result = children["exported impl"].result()
    assert " passed" in result.stdout, result.stdout
    last_lines = "\n".join(result.stdout.splitlines()[-2:])
    found = REFERENCE_LINE.search(last_lines)
    assert found, result.stdout
    assert found.group(1) == f"{first.label} (TINYTORCH_IMPL=solutions is set in your environment)"


def test_impl_solutions_is_named_at_the_end_of_the_run(children):
    # No kata test collected (the line must not depend on them): every kata is under test.
    result = children["impl solutions"].result()
    assert REFERENCE_LINE.findall(result.stdout) == ["every kata (--impl solutions)"], result.stdout


def test_a_run_of_the_learners_code_says_nothing_of_the_reference(children):
    result = children["learners code"].result()
    assert result.returncode == 0, result.stdout
    assert "tinytorch: the reference" not in result.stdout, result.stdout


# --- failures a learner can read ------------------------------------------------------------

STUB_TESTS = textwrap.dedent(
    """
    import pytest
    from tinytorch.tensor import Tensor


    @pytest.fixture
    def ones():
        return Tensor([1.0, 1.0])


    def test_a_fixture_calls_the_learners_code(ones):
        assert ones is not None


    @pytest.fixture
    def broken():
        raise RuntimeError("a fixture broken by itself")


    def test_a_fixture_is_broken_by_itself(broken):
        assert broken is not None


    def test_the_learners_code_fails_in_the_test():
        assert Tensor([1.0, 1.0]) is not None
    """
)


STUB_RUNS = ((), ("--tb=long",))  # the extra arguments of each run of STUB_TESTS


@pytest.fixture(scope="module")
def stub_run(children):
    """``STUB_TESTS`` on pristine stubs, every kata the learner's: ``run(*extra_args)`` -> (output, report)."""

    def run(*extra: str):
        result = children[f"stubs {extra}"].result()
        report = children[f"stubs {extra} report"]
        assert report.is_file(), result.stdout
        return result.stdout, Run(result.stdout, report)

    return run


def failure_section(output: str, test: str) -> list[str]:
    """The lines of ``test``'s report in the FAILURES (or ERRORS) section, its title line excluded."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^_+ (ERROR at setup of )?{test} _+$", line))
    ends = r"^(_{3,} \S.* _{3,}|={3,} .* ={3,}|-+ generated xml file: .*)$"
    end = next(i for i in range(start + 1, len(lines)) if re.match(ends, lines[i]))
    return lines[start + 1 : end]


def test_the_learners_code_failing_in_a_fixture_is_reported_as_their_failure_naming_their_function(stub_run):
    output, _ = stub_run()
    name = "test_a_fixture_calls_the_learners_code"
    failed = rf"^FAILED \S*::{name} - NotImplementedError: 01 tensor: implement Tensor.__init__"
    assert re.search(failed, output, re.M), output
    assert f"ERROR at setup of {name}" not in output, output
    assert not re.search(rf"^ERROR \S*::{name}", output, re.M), output
    section = "\n".join(failure_section(output, name))
    assert "tinytorch: your code failed while the test was being set up" in section, section
    assert "Your Tensor.__init__ (" in section and "raised NotImplementedError in `ones`" in section, section


def test_a_fixture_broken_by_itself_is_still_an_error_at_setup(stub_run):
    output, _ = stub_run()
    assert "ERROR at setup of test_a_fixture_is_broken_by_itself" in output, output
    assert re.search(r"^ERROR \S*::test_a_fixture_is_broken_by_itself - RuntimeError", output, re.M), output
    assert output.rstrip().splitlines()[-1].startswith("=") and " 2 failed, 1 error in " in output, output


def test_the_stub_check_still_sees_a_setup_failure_as_an_error_with_not_implemented_error(stub_run):
    # `python -m tinytorch.stubs verify` reads the JUnit report: error or failure, NotImplementedError.
    _, run = stub_run()
    assert run.outcome("test_a_fixture_calls_the_learners_code") == "error"
    assert "NotImplementedError" in run.message("test_a_fixture_calls_the_learners_code")


def docstring_summary(qualname: str) -> str:
    """The first line of a target's docstring in the first kata's stub."""
    return api(generate(built()[0]))[qualname][1].splitlines()[0]


def test_a_failure_is_short_by_default_one_line_per_frame_and_no_docstring(stub_run):
    output, _ = stub_run()
    section = failure_section(output, "test_the_learners_code_fails_in_the_test")
    # Two frames (the test, the stub), each its location and one line of code (with its
    # column markers), then the error: not the stub's whole function and docstring.
    assert len(section) <= 8, "\n".join(section)
    assert section[-1].startswith("E   NotImplementedError: 01 tensor: implement Tensor.__init__"), section
    assert docstring_summary("Tensor.__init__") not in output


def test_the_full_traceback_is_one_flag_away(stub_run):
    output, _ = stub_run("--tb=long")
    section = failure_section(output, "test_the_learners_code_fails_in_the_test")
    assert docstring_summary("Tensor.__init__") in "\n".join(section), "\n".join(section)
