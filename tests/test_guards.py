"""The safety nets: a learner's infinite loop ends in a timeout naming their function, a memory
blow-up ends in a memray failure or a MemoryError, and in both cases the run goes on.

One child pytest runs a small file of misbehaving tests (``LEARNER_TESTS``) under the
repository's configuration: ``-c pyproject.toml`` (timeout, warnings, markers) and the
repository's ``conftest.py`` loaded as a plugin (``-p conftest``; the file lives in a temporary
folder, outside the reach of conftest discovery). Each test below reads one part of that run.
"""

from __future__ import annotations

import resource
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest
from hypothesis import Phase, settings

from tinytorch.registry import ROOT

# The child's address-space cap (TINYTORCH_MAX_MEMORY_GB): below this run's 4 GiB, which the
# child inherits, so a cap of exactly 3 GiB in the child proves its own conftest set it.
CAP_GB = 3

LEARNER_TESTS = textwrap.dedent(
    f"""
    import resource

    import numpy as np
    import pytest

    GiB = 2**30
    CAP = {CAP_GB} * GiB


    def learner_loop():
        total = 0
        while True:
            total += 1


    @pytest.mark.timeout(2)
    def test_an_infinite_loop():
        learner_loop()


    def test_after_the_loop():
        assert True


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
        for case in ET.parse(report).getroot().iter("testcase"):
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


@pytest.fixture(scope="module")
def learner_run(run_pytest, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("learner")
    (folder / "test_learner.py").write_text(LEARNER_TESTS)
    report = folder / "report.xml"
    # --impl solutions: no kata is under test here, and the run must not depend on the learner's files.
    result = run_pytest(
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
    assert report.is_file(), result.stdout
    return Run(result.stdout, report)


def test_the_child_run_uses_the_repository_configuration(learner_run):
    assert "timeout: 60.0s" in learner_run.output and "timeout method: signal" in learner_run.output
    assert "tinytorch: --impl solutions" in learner_run.output  # the repository's conftest is loaded
    ran = len(learner_run.outcomes)
    assert ran == LEARNER_TESTS.count("\ndef test_") == 8, learner_run.output  # the process survived them all


# --- an infinite loop -------------------------------------------------------------------


def test_an_infinite_loop_fails_with_a_timeout_naming_the_learners_function(learner_run):
    assert learner_run.outcome("test_an_infinite_loop") == "failure", learner_run.output
    message = learner_run.message("test_an_infinite_loop")
    assert "Timeout (>2.0s) from pytest-timeout" in message
    assert "learner_loop" in message


def test_the_test_after_an_infinite_loop_still_runs_and_passes(learner_run):
    assert learner_run.outcome("test_after_the_loop") == "passed", learner_run.output


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


@linux_only
@pytest.mark.parametrize("name", ["test_sixty_four_gibibytes", "test_more_than_the_cap_but_less_than_the_machine"])
def test_an_allocation_over_the_cap_is_a_memory_error_not_a_dead_machine(learner_run, name):
    assert learner_run.outcome(name) == "failure", learner_run.output
    assert "MemoryError" in learner_run.message(name), learner_run.message(name)


def test_the_tests_after_the_blow_ups_still_run_and_pass(learner_run):
    assert learner_run.outcome("test_after_the_blow_ups") == "passed", learner_run.output


# --- warnings and hypothesis --------------------------------------------------------------


def test_a_numpy_overflow_warning_is_a_failure(learner_run):
    assert learner_run.outcome("test_an_overflow_warning") == "failure", learner_run.output
    assert "RuntimeWarning: overflow encountered in exp" in learner_run.message("test_an_overflow_warning")


@linux_only
def test_this_run_is_capped_too(repo_conftest):
    cap = repo_conftest.MAX_ADDRESS_SPACE
    assert resource.getrlimit(resource.RLIMIT_AS) == (cap, cap)


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_hypothesis_profiles_have_no_deadline_and_no_explain_phase(profile):
    assert settings.get_profile(profile).deadline is None  # pytest-timeout catches loops instead
    assert Phase.explain not in settings.get_profile(profile).phases  # it re-runs failing tests


def test_the_ci_profile_is_deterministic():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None
