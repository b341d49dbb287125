"""``assert_close`` compares a result with an oracle, ``returned`` catches a forgotten ``return``:
each says what is wrong in a learner's words."""

from __future__ import annotations

import numpy as np


def assert_close(actual, expected, *, rtol: float = 1e-6, atol: float = 1e-8, what: str = "result") -> None:
    """Fail unless ``actual`` has ``expected``'s shape and values within ``atol + rtol*|expected|``.

    The message names the shape first (the commonest mistake), then the worst element (for 0-d
    values, which have no index: both values and their difference).
    ``actual`` may be anything with a ``numpy()`` method (a Tensor) or an array-like.
    """
    __tracebackhide__ = True
    if actual is None:
        raise AssertionError(f"{what}: got None; did the function forget to return?")
    if hasattr(actual, "numpy"):
        actual = actual.numpy()
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape must be {expected.shape}, got {actual.shape}")
    if actual.dtype.kind not in "biuf" or expected.dtype.kind not in "biuf":
        raise AssertionError(f"{what}: dtype must be numeric, got {actual.dtype} (expected {expected.dtype})")
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    # np.asarray: on 0-d operands NumPy returns a scalar here, which takes no item assignment.
    error = np.asarray(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
    error[close] = -1.0
    # Python ints and str(), not repr(): NumPy 2 would print np.int64(1) and np.float64(2.0).
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), actual.shape))
    where = f"{int((~close).sum())} of {actual.size} elements differ; worst at index {worst}: " if actual.ndim else ""
    raise AssertionError(
        f"{what}: {where}got {actual[worst]}, expected {expected[worst]}, |difference| = {error[worst]:.3g} "
        f"(allowed atol={atol:g} + rtol={rtol:g}·|expected|)"
    )


def returned(value, call: str):
    """``value``, or a failure that says ``call`` returned None (a forgotten ``return``).

    For a test that hands one of the learner's results to another of their functions
    (``load_state_dict(returned(model.state_dict(), "Module.state_dict()"))``): without it, a
    missing ``return`` shows up as a confusing error inside the second function.
    """
    __tracebackhide__ = True
    if value is None:
        raise AssertionError(f"{call} returned None — did you forget `return`?")
    return value
