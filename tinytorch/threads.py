"""One BLAS thread for tests and milestones, set before NumPy loads.

NumPy's BLAS starts a thread per core for a matrix product. The katas' matrices are small, and
when the cores are busy the threads wait for each other: on this 2-core machine, with other
processes running, the digits MLP trained in 6.2-9.5 s with two threads and 0.9-1.3 s with one,
and kata 13's test file took 15.6-16.7 s of wall time against 5.8-8.0 s. BLAS reads these
variables once, when NumPy is imported, so ``one_blas_thread`` must run before that; a value
the user set wins.
"""

from __future__ import annotations

import os
import sys

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Ask BLAS for one thread, unless the environment already says how many.

    Once NumPy is loaded it does nothing: BLAS would not read the variables, and they would
    misreport the thread count to whatever prints them.
    """
    if "numpy" in sys.modules:
        return
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
