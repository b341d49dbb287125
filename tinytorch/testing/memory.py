"""Memory budgets: a formula in bytes plus a stated slack, enforced by pytest-memray.

pytest-memray's ``limit_memory`` fails a test whose peak of live allocations during the call
(fixtures excluded) exceeds the limit. Budget tests therefore build their inputs in fixtures,
use inputs of a few megabytes so that the formula dominates the interpreter's own noise, and
avoid ``@given`` (the first hypothesis test of a process allocates ~33 MiB of its own).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

KiB = 1024
MiB = 1024 * KiB

# What a correct kata allocates on top of its formula: small NumPy and Python objects, a few
# shape tuples, the graph's Function objects. The references measure from 0.7 KiB (wrapping
# arrays in a TensorDataset) to 34 KiB (a Linear forward) above their formulas.
DEFAULT_SLACK = 64 * KiB

# NOTE: memray counts every thread's allocations in a budget test's peak. A budget test holds
# this lock while it runs (tinytorch.testing.guards), and harness code working in a background
# thread (tests/conftest.py starts child processes early) takes it around anything that allocates,
# so that such work waits for the budget test instead of landing in its peak.
QUIET = threading.Lock()


def memory_budget(nbytes: float, *, slack: int = DEFAULT_SLACK) -> pytest.MarkDecorator:
    """A ``limit_memory`` marker allowing ``nbytes`` (the formula) plus ``slack`` bytes.

    Example: ``@memory_budget(3 * N * 8)`` — "three float64 buffers of N elements".
    """
    if nbytes < 0 or slack < 0:
        raise ValueError(f"memory_budget: nbytes and slack must be >= 0, got {nbytes} and {slack}")
    return pytest.mark.limit_memory(f"{int(nbytes) + int(slack)} B")


def numpy_buffer(itemsize: int) -> int:
    """The bytes of one NumPy iteration buffer: ``np.getbufsize()`` elements (8192) of ``itemsize``.

    NumPy streams an operand through such a buffer when a ufunc broadcasts a size-1 axis (the
    (B, 1) row sums of a softmax, an (N, 1) + (1, M) add), whoever writes the code: a term of
    a budget's formula, not slack.
    """
    return np.getbufsize() * itemsize
