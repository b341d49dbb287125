"""Benchmarks: scripts that print speed figures side by side. They measure; they never fail a test.

Run them from the repository root as modules (``python -m benchmarks.mlp_step``), on the
reference with ``TINYTORCH_IMPL=solutions``; see benchmarks/README.md.
"""

from __future__ import annotations

import os
import sys

# NOTE: one BLAS thread, so that the framework and the hand-written NumPy get the same single
# core: on a 2-core machine shared with other work, BLAS's second thread waits for a busy core
# and the figures swing by several times (milestones/__main__.py measured it). BLAS reads these
# variables once, when NumPy loads: this package sets them before any benchmark imports NumPy.
# A value you set yourself wins (OPENBLAS_NUM_THREADS=2 measures two threads); every script
# prints the count BLAS actually uses.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if "numpy" not in sys.modules:  # once NumPy is loaded, setting them would change nothing
    for _variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(_variable, "1")
