"""The safety nets of every test run, as a pytest plugin that ``conftest.py`` registers.

- **A loop ends in a timeout.** pytest-timeout's ``signal`` method fails a test with
  ``pytest.fail``, an ordinary failure: hypothesis catches it like any other, and runs the
  looping example again to shrink it, with no alarm left, for ever. Here the alarm raises
  :class:`Timeout`, a ``BaseException``: hypothesis lets it through (it catches only
  ``Exception``, ``SystemExit``, ``GeneratorExit`` and pytest's ``Failed``), so does a learner's
  ``except Exception``, and pytest reports it as the test's failure and goes on. Its message
  names the function that was running.
- **A runaway allocation ends in a MemoryError, not a dead machine**: the process caps its
  address space at a share of the machine's memory (:func:`address_space_cap`), and the
  failure says how far the process had grown and what the cap is.
- **Your code failing inside a fixture is your failure**: pytest would print "ERROR at setup",
  which reads like a broken test suite; it is reported as a failure naming your function.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import sysconfig
import threading
from pathlib import Path
from types import FrameType

import pytest

from tinytorch.testing.memory import QUIET

GiB = 2**30
# At most this much address space, on any machine: the suite needs well under 1 GiB (its
# peak, all katas on the reference: see the README's "How a kata works").
MAX_CAP = 4 * GiB
# ... and at most this share of the machine's physical memory, so that a learner's runaway
# allocation cannot take the whole machine (a flat 4 GiB is all of a 4 GB laptop).
SHARE_OF_MEMORY = 0.5
CAP_VARIABLE = "TINYTORCH_MAX_MEMORY_GB"

_VM_AT_START = pytest.StashKey[dict]()
_LIBRARIES = tuple(
    str(Path(path).resolve()) + os.sep
    for path in {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


# --- the timeout ------------------------------------------------------------------------


class Timeout(BaseException):
    """A test ran past its time limit (a ``BaseException``: see the module's docstring)."""


def running_function(frame: FrameType | None) -> str:
    """The innermost function of ``frame``'s stack outside Python's and the installed packages' code.

    That is the learner's function (or the test's) that was running when the alarm rang, even
    when it was calling into NumPy at that moment. Returns e.g. ``"SGD.step (optimizers.py:120)"``.
    """
    innermost = frame
    while frame is not None:
        if not str(Path(frame.f_code.co_filename).resolve()).startswith(_LIBRARIES):
            break
        frame = frame.f_back
    frame = frame or innermost
    if frame is None:
        return "an unknown function"
    name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)  # co_qualname: Python 3.11+
    return f"{name} ({_shown(frame.f_code.co_filename)}:{frame.f_lineno})"


def _shown(filename: str) -> str:
    path = Path(filename).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


@pytest.hookimpl(optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings) -> bool | None:
    """pytest-timeout's ``signal`` method, raising :class:`Timeout` (see the module docstring).

    The ``thread`` method (and any run off the main thread) is left to pytest-timeout: it ends
    the whole process, which nothing can catch.
    """
    # The hook is pytest-timeout's API for other timeout strategies (2.1+); settings'
    # disable_debugger_detection is 2.2+, hence the pin in pyproject.toml.
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None
    from pytest_timeout import PYTEST_FAILURE_MESSAGE, is_debugging

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        __tracebackhide__ = True
        if not settings.disable_debugger_detection and is_debugging():
            return  # a learner stepping through their code in pdb is not looping
        raise Timeout(
            f"{PYTEST_FAILURE_MESSAGE % settings.timeout} The test was still running after {settings.timeout:g} s, "
            f"in {running_function(frame)}: an infinite loop? (--timeout=SECONDS changes the limit.)"
        )

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # what pytest-timeout's own pytest_timeout_cancel_timer calls
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True


# --- the memory cap ---------------------------------------------------------------------


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def address_space_cap(physical: int | None, setting: str | None = None) -> int:
    """The address-space cap in bytes: ``setting`` GiB (``TINYTORCH_MAX_MEMORY_GB``) when given,
    else ``SHARE_OF_MEMORY`` of ``physical``, at most ``MAX_CAP`` (``MAX_CAP`` when unknown).

    Raises:
        ValueError: ``"TINYTORCH_MAX_MEMORY_GB must be a number of GiB > 0, got 'lots'"``.
    """
    if setting is not None:
        try:
            gib = float(setting)
        except ValueError:
            gib = float("nan")
        if not gib > 0:
            raise ValueError(f"{CAP_VARIABLE} must be a number of GiB > 0, got {setting!r}")
        return int(gib * GiB)
    if physical is None:
        return MAX_CAP
    return min(int(physical * SHARE_OF_MEMORY), MAX_CAP)


def cap_address_space(cap: int) -> int:
    """Cap this process's address space (Linux only); returns the cap in force.

    A process cannot raise a hard limit that its parent set: the cap is then the parent's.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap


def _vm() -> dict[str, int]:
    """This process's VmPeak and VmSize in bytes (empty where /proc is not there)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split() for line in lines if line.startswith(("VmPeak:", "VmSize:")))
    return {name.rstrip(":"): int(kib) * 1024 for name, kib, *_ in fields}


def _memory_note(item: pytest.Item) -> str:
    """How far this process's address space grew during the test, and the cap."""
    start, now = item.stash.get(_VM_AT_START, {}), _vm()
    cap = resource.getrlimit(resource.RLIMIT_AS)[0] if sys.platform.startswith("linux") else None
    cap_text = "no cap" if cap in (None, resource.RLIM_INFINITY) else f"its cap is {cap / GiB:.2f} GiB"
    if not now or not start:
        return f"The test process ran out of memory; {cap_text} ({CAP_VARIABLE} sets it)."
    # VmPeak only grows: if it grew during this test, that is this test's peak; else the peak
    # came earlier, and what the process holds now (the test's objects are still alive in its
    # traceback) is the best measure.
    reached = now["VmPeak"] if now["VmPeak"] > start["VmPeak"] else now["VmSize"]
    return (
        f"In total the test process had {reached / GiB:.2f} GiB of address space allocated "
        f"({start['VmSize'] / GiB:.2f} GiB before the test began), and {cap_text} "
        f"({CAP_VARIABLE} sets it). The allocation that failed is only the last one: look for "
        "what keeps growing (a list appended to in a loop, arrays far bigger than the lesson's sizes)."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A budget test runs alone: background threads of the harness wait (``memory.QUIET``)."""
    if item.get_closest_marker("limit_memory") is None:
        yield
        return
    with QUIET:
        yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_VM_AT_START] = _vm()


# --- reports: memory errors and failures at setup ---------------------------------------


def learner_frame(excinfo: pytest.ExceptionInfo, learner_files: set[Path]) -> str | None:
    """The innermost function of the traceback defined in one of ``learner_files``, e.g.
    ``"SGD.__init__ (exercises/06_optimizers/optimizers.py:284)"``; None when it never ran there."""
    for entry in reversed(excinfo.traceback):
        if Path(str(entry.path)).resolve() in learner_files:
            code = entry.frame.code.raw
            return f"{getattr(code, 'co_qualname', code.co_name)} ({_shown(str(entry.path))}:{entry.lineno + 1})"
    return None


def _fixture_name(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    """The outermost function of the traceback in the test's own file: the fixture that failed."""
    for entry in excinfo.traceback:
        if Path(str(entry.path)) == Path(item.path):
            return f"`{entry.name}`"
    return "a fixture"


def _learner_files(config: pytest.Config) -> set[Path]:
    """The files of the katas in this run that are the learner's (not the reference's)."""
    import tinytorch
    from tinytorch.registry import ROOT

    solutions = ROOT / "solutions"
    return {path.resolve() for path in tinytorch.selection().values() if not path.is_relative_to(solutions)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or not hasattr(report.longrepr, "addsection"):
        return
    if isinstance(call.excinfo.value, MemoryError):
        report.longrepr.addsection("tinytorch: out of memory", _memory_note(item))
    if call.when == "setup":
        function = learner_frame(call.excinfo, _learner_files(item.config))
        if function is not None:
            report.tinytorch_learner_function = function
            report.longrepr.addsection(
                "tinytorch: your code failed while the test was being set up",
                f"Your {function} raised {call.excinfo.typename} in {_fixture_name(item, call.excinfo)}, "
                "a fixture that builds the test's inputs, so the test itself never ran. "
                "This is a failure of your code, like any other: fix it and the test runs.",
            )


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    """A setup failure in the learner's code counts as a failure (F, FAILED), not an error."""
    if getattr(report, "tinytorch_learner_function", None):
        return "failed", "F", "FAILED"
    return None
