"""The test run and the milestones ask BLAS for one thread (tinytorch/threads.py), and a value the
user set wins. Checked by counting the threads of a child process after a matrix product: OpenBLAS
starts its workers when NumPy loads, so their number is the thread count BLAS really uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tinytorch.threads import BLAS_THREAD_VARIABLES

from .conftest import ROOT, clean_environment

COUNT_THREADS = (
    "import os, numpy as np; a = np.ones((300, 300)); a @ a; "
    "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))"
)


def threads_after(first: str, **env: str) -> tuple[str, int]:
    """``OPENBLAS_NUM_THREADS`` and the thread count of a child that runs ``first`` first."""
    environment = {k: v for k, v in clean_environment().items() if k not in BLAS_THREAD_VARIABLES}
    finished = subprocess.run(
        [sys.executable, "-c", f"{first}; {COUNT_THREADS}"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    variable, threads = finished.stdout.split()
    return variable, int(threads)


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="counts threads in /proc/self/task")


STARTS = {
    "a test run": "import conftest",
    "a milestone": "import argparse, milestones.__main__ as m; m.prepare(argparse.Namespace(mine=None))",
    "a benchmark": "import benchmarks",
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_tests_milestones_and_benchmarks_load_numpy_with_one_blas_thread(start):
    assert threads_after(start) == ("1", 1)


def test_a_thread_count_the_user_set_wins():
    variable, _ = threads_after("import conftest", OPENBLAS_NUM_THREADS="2")
    assert variable == "2"


def test_once_numpy_is_loaded_the_variables_are_left_alone():
    assert threads_after("import numpy, tinytorch.threads; tinytorch.threads.one_blas_thread()")[0] == "None"
