"""Benchmarks: scripts that print speed figures side by side. They measure; they never fail a test.

Run them from the repository root as modules (``python -m benchmarks.mlp_step``), on the
reference with ``TINYTORCH_IMPL=solutions``; see benchmarks/README.md.
"""

from __future__ import annotations

from tinytorch.threads import one_blas_thread

# NOTE: one BLAS thread, so that the framework and the hand-written NumPy get the same single
# core (tinytorch/threads.py measured why). This package asks for it before any benchmark imports
# NumPy; a value you set yourself wins (OPENBLAS_NUM_THREADS=2 measures two threads), and every
# script prints the count BLAS actually uses.
one_blas_thread()
