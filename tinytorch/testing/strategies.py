"""Hypothesis strategies for kata tests: shapes and arrays in named value domains.

Shapes stay small (sides 1..5, at most 4 dims) so that a whole suite stays fast.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

MAX_SIDE = 5

# Named value domains: (low, high) for the magnitude, and whether negatives are drawn.
DOMAINS: dict[str, tuple[float, float, bool]] = {
    "real": (0.0, 10.0, True),  # any value in [-10, 10]
    "away_from_zero": (1e-2, 10.0, True),  # |x| in [0.01, 10]: no kinks for relu, abs, max
    "positive": (1e-2, 10.0, False),  # x in [0.01, 10]: safe for log, sqrt, division
    "unit": (0.0, 1.0, True),  # x in [-1, 1]
    "huge": (0.0, 1e4, True),  # x in [-1e4, 1e4]: overflow tests for exp-based functions
}


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes, e.g. ``()``, ``(3,)``, ``(2, 1, 4)``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, max_dims: int = 4) -> st.SearchStrategy:
    """Tuples of ``num_shapes`` shapes that broadcast together (size-1 and missing dims included)."""
    strategy = hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, max_dims=max_dims, max_side=MAX_SIDE)
    return strategy.map(lambda shapes: shapes.input_shapes)


@st.composite
def matmul_shapes(draw: st.DrawFn, max_batch_dims: int = 1) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shapes ``(..., m, k)`` and ``(..., k, n)`` with the same batch dims."""
    m, k, n = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch = draw(shapes(min_dims=0, max_dims=max_batch_dims))
    return (*batch, m, k), (*batch, k, n)


def values(domain: str = "real") -> st.SearchStrategy[float]:
    """Floats from a named domain (see DOMAINS)."""
    low, high, signed = DOMAINS[domain]
    positive = st.floats(low, high, allow_nan=False, allow_infinity=False)
    # A union, not a flatmap choosing the sign: flatmap makes generation about twice as slow.
    return positive | st.floats(-high, -low, allow_nan=False, allow_infinity=False) if signed else positive


def arrays(shape, domain: str = "real", dtype=np.float64) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` (a tuple or a strategy of tuples) with values from ``domain``."""
    return hnp.arrays(dtype, shape, elements=values(domain).map(lambda v: float(np.asarray(v, dtype))))
