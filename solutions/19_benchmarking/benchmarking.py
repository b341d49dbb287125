"""19 benchmarking: an MLPerf-style harness: scenarios, statistics you can trust, a record.

A latency quoted without its scenario, its spread and its machine is not a figure. This kata
builds the harness the capstone (kata 20) and the 2018 milestone report with, in the shape of
MLPerf Inference's LoadGen:

- *statistics*: percentiles over the samples, and a seeded bootstrap confidence interval for
  the median, so two runs can be compared (``bootstrap_ci``, ``summarize``);
- *single-stream*: one query at a time, each timed: latency percentiles (``single_stream``);
- *offline*: every sample at once: throughput in samples per second (``offline``);
- *server*: queries arriving at seeded Poisson times into a single FIFO server: the latency
  under load, queueing included (``poisson_arrivals``, ``server_latencies``, ``server``);
- an *accuracy gate*: a fast model that lost its accuracy is not a result (``accuracy_gate``);
- a *result record*: model, scenario, figures and the machine (Python, NumPy, BLAS, cores) as
  JSON, validated when written and when read (``environment``, ``make_record``,
  ``save_record``, ``load_record``);
- the clock's own *resolution*, measured (``timer_resolution``).

Every function that reads a clock takes it as an argument (``time.perf_counter`` by default),
and the server scenario takes its ``sleep`` too: the tests run all of it on a fake clock, and
nothing really waits. Clock readings go through kata 14's ``timed_call`` (its checks: a real,
finite number that never goes backwards), and latencies through 14's ``measure_latency``.

Times are in seconds throughout.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from tinytorch.profiling import check_callable, measure_latency, timed_call
from tinytorch.tensor import shown, type_name

__all__ = [
    "FIELDS",
    "SCENARIOS",
    "accuracy_gate",
    "blas_description",
    "bootstrap_ci",
    "environment",
    "load_record",
    "make_record",
    "offline",
    "poisson_arrivals",
    "save_record",
    "server",
    "server_latencies",
    "single_stream",
    "summarize",
    "timer_resolution",
    "validate_record",
]

SCENARIOS = ("single-stream", "offline", "server")
FIELDS = ("model", "scenario", "figures", "accuracy", "target", "environment")  # a record's fields
ENVIRONMENT_FIELDS = ("python", "numpy", "blas", "cores")
LARGEST_SAMPLE = 1e100  # seconds: the largest magnitude check_samples accepts (no figure overflows)

# --- given: checks --------------------------------------------------------------------------------


def is_int(value) -> bool:
    """Given: an integer that is not a bool (NumPy integers count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_number(value) -> bool:
    """Given: a real number that is not a bool (NumPy floats and integers count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(op: str, what: str, value, minimum: int) -> int:
    """Given: ``value`` as an int, or ValueError ``"summarize: resamples must be an integer >= 1, got 0"``."""
    if not is_int(value) or value < minimum:
        raise ValueError(f"{op}: {what} must be an integer >= {minimum}, got {shown(value)}")
    return int(value)


def check_samples(op: str, samples, what: str = "samples") -> np.ndarray:
    """Given: ``samples`` (a sequence or a 1-D array of real numbers) as a float64 array.

    Every sample must be at most ``LARGEST_SAMPLE`` (1e100) in magnitude, so that no figure
    computed from them overflows: NumPy's mean sums N samples, its std sums N squares of
    differences (each at most (2e100)² = 4e200), and a percentile or a median adds or
    subtracts two samples; all stay below float64's largest 1.8e308 for any N below 4e107.
    (``[1e308, 1e308]`` would give an infinite mean, and samples of 1e154 an infinite std.)

    Raises:
        ValueError: ``"summarize: samples must be a non-empty 1-D sequence of finite numbers,
            got shape (0,)"`` (or ``got nan``, ``got inf``, ``got dtype <U1``);
            ``"summarize: samples must be at most 1e+100 in magnitude (so that no figure
            overflows), got 1e+308"`` (the first such sample).
    """
    rule = f"{op}: {what} must be a non-empty 1-D sequence of finite numbers"
    array = np.asarray(samples)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(f"{rule}, got dtype {array.dtype}")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{rule}, got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{rule}, got {array[~np.isfinite(array)][0]}")
    too_large = np.abs(array) > LARGEST_SAMPLE
    if np.any(too_large):
        raise ValueError(
            f"{op}: {what} must be at most {LARGEST_SAMPLE:.0e} in magnitude (so that no figure overflows), "
            f"got {float(array[too_large][0])!r}"
        )
    return array


def is_finite_number(value) -> bool:
    """Given: a real number (not a bool) that is finite as a float: nan, inf and an int too big
    for a float (``10**400``, which ``math.isfinite`` would answer with OverflowError) are not."""
    if not is_number(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_confidence(op: str, confidence) -> float:
    """Given: ``confidence`` in (0, 1) as a float, else ValueError ``"summarize: confidence must be in (0, 1)"``."""
    if not is_number(confidence) or not 0 < confidence < 1:
        raise ValueError(f"{op}: confidence must be in (0, 1), got {shown(confidence)}")
    return float(confidence)


def make_rng(op: str, seed) -> np.random.Generator:
    """Given: ``np.random.default_rng(seed)``, or ValueError ``"bootstrap_ci: seed must be what
    np.random.default_rng accepts (an integer >= 0), got -1"`` (NumPy's own error names no function)."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"{op}: seed must be what np.random.default_rng accepts (an integer >= 0), got {shown(seed)}"
        ) from None


def nothing() -> None:
    """Given: a call that does nothing: ``timed_call`` around it is one checked pair of clock reads."""


# --- step 1: statistics: percentiles and a bootstrap interval -----------------------------------------


def bootstrap_ci(samples, *, confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """A percentile-bootstrap confidence interval for the median of ``samples``.

    Resample the N samples with replacement ``resamples`` times, take the median of each
    resample, and return the ``(1 - confidence)/2`` and ``(1 + confidence)/2`` percentiles of
    those medians. The generator is consumed in exactly one call:
    ``idx = np.random.default_rng(seed).integers(0, N, size=(resamples, N))``, resample ``r``
    being ``samples[idx[r]]``; its median is ``np.median`` and the two ends are
    ``np.percentile(medians, [50 * (1 - confidence), 50 * (1 + confidence)])`` (NumPy's default,
    "linear"). So one seed gives one interval, and the interval lies within [min, max] of the
    samples.

    Args:
        samples: (N,) real finite numbers, N >= 1 (a list or an array), each at most
            ``LARGEST_SAMPLE`` = 1e100 in magnitude (the given ``check_samples``).
        confidence: the interval's coverage, in (0, 1).
        resamples: how many resamples, an integer >= 1.
        seed: the generator's seed (anything ``np.random.default_rng`` accepts).
    Returns:
        ``(low, high)``, two Python floats, ``low <= high``.
    Raises:
        ValueError: ``"bootstrap_ci: samples must be a non-empty 1-D sequence of finite numbers,
            got shape (0,)"``; ``"bootstrap_ci: confidence must be in (0, 1), got 1.5"``;
            ``"bootstrap_ci: samples must be at most 1e+100 in magnitude (so that no figure
            overflows), got 1e+308"``; ``"bootstrap_ci: resamples must be an integer >= 1, got
            0"``; ``"bootstrap_ci: seed must be what np.random.default_rng accepts (an integer
            >= 0), got -1"`` (the given ``make_rng``).
    Complexity:
        O(resamples · N) time and memory (the index matrix).
    Example:
        >>> bootstrap_ci([3.0, 3.0, 3.0], resamples=10)
        (3.0, 3.0)
    """
    # solution: step 1
    x = check_samples("bootstrap_ci", samples)
    confidence = check_confidence("bootstrap_ci", confidence)
    resamples = check_int("bootstrap_ci", "resamples", resamples, 1)
    n = x.size
    idx = make_rng("bootstrap_ci", seed).integers(0, n, size=(resamples, n))
    medians = np.median(x[idx], axis=1)
    low, high = np.percentile(medians, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(low), float(high)


def summarize(samples, *, confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """The figures a latency is reported with: percentiles, mean, spread, and the median's interval.

    ``p50, p90, p99 = np.percentile(samples, [50, 90, 99])`` (NumPy's default method,
    "linear"; p50 equals ``np.median``), ``mean = np.mean``, ``std = np.std`` (ddof=0),
    ``min``, ``max``, ``count`` (N, as a float like every figure), and
    ``p50_low, p50_high = bootstrap_ci(samples, confidence=..., resamples=..., seed=...)``.

    Args:
        samples: (N,) real finite numbers, N >= 1, each at most ``LARGEST_SAMPLE`` = 1e100 in
            magnitude: so every figure is finite (``[1e308, 1e308]`` would give an infinite
            mean; the given ``check_samples`` refuses it).
        confidence, resamples, seed: passed to ``bootstrap_ci``.
    Returns:
        A dict of Python floats with exactly the keys ``count, mean, std, min, p50, p90, p99,
        max, p50_low, p50_high``.
    Raises:
        ValueError: ``"summarize: samples must be a non-empty 1-D sequence of finite numbers,
            got nan"``; ``"summarize: samples must be at most 1e+100 in magnitude (so that no
            figure overflows), got 1e+308"``; and ``bootstrap_ci``'s errors under the name ``summarize`` (a bad
            seed too: check it with ``make_rng("summarize", seed)``).
    Complexity:
        O(N log N + resamples · N).
    Example:
        >>> figures = summarize([1.0, 2.0, 3.0, 4.0], resamples=10)
        >>> figures["p50"], figures["mean"], figures["max"]
        (2.5, 2.5, 4.0)
    """
    # solution: step 1
    x = check_samples("summarize", samples)
    confidence = check_confidence("summarize", confidence)
    resamples = check_int("summarize", "resamples", resamples, 1)
    make_rng("summarize", seed)  # only to name a bad seed after this function
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    low, high = bootstrap_ci(x, confidence=confidence, resamples=resamples, seed=seed)
    return {
        "count": float(x.size),
        "mean": float(np.mean(x)),
        "std": float(np.std(x)),
        "min": float(np.min(x)),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(np.max(x)),
        "p50_low": low,
        "p50_high": high,
    }


# --- step 2: single-stream and offline ---------------------------------------------------------------


def single_stream(
    fn: Callable[[], object],
    *,
    warmup: int = 5,
    repeats: int = 50,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """The single-stream scenario: one query at a time, each one's latency.

    ``fn()`` answers one query. Its samples are kata 14's ``measure_latency(fn, warmup=warmup,
    repeats=repeats, clock=clock).samples`` (``warmup`` untimed calls, then ``repeats`` calls
    each between two clock reads), and the figures are ``summarize`` of them.

    Args:
        fn: one query, called with no arguments.
        warmup: untimed calls first, an integer >= 0.
        repeats: timed calls, an integer >= 1.
        confidence, resamples, seed: for ``summarize``'s interval.
        clock: as in ``measure_latency`` (a test passes a fake one).
    Returns:
        ``summarize``'s dict, in seconds per query.
    Raises:
        ``measure_latency``'s errors (named ``measure_latency``) and ``summarize``'s.
    Complexity:
        warmup + repeats calls of fn, 2·repeats clock reads.
    Example:
        >>> ticks = iter([0.0, 1.0, 1.0, 3.0, 3.0, 6.0])
        >>> single_stream(lambda: None, warmup=0, repeats=3, clock=lambda: next(ticks))["p50"]
        2.0
    """
    # solution: step 2
    stats = measure_latency(fn, warmup=warmup, repeats=repeats, clock=clock)
    return summarize(stats.samples, confidence=confidence, resamples=resamples, seed=seed)


def offline(
    fn: Callable[[], object],
    samples_per_call: int,
    *,
    warmup: int = 1,
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """The offline scenario: all the samples at once; throughput.

    ``fn()`` processes ``samples_per_call`` samples in one call (a whole batch). It is timed
    as in ``single_stream`` (``measure_latency``), and the throughput is computed from the
    median call: ``samples_per_second = samples_per_call / median``. ``samples_per_call`` is
    checked before ``fn`` is first called.

    Args:
        fn: one batch, called with no arguments.
        samples_per_call: the samples one call processes, an integer >= 1 that a float can
            hold (``10**400`` cannot).
        warmup: untimed calls, an integer >= 0; repeats: timed calls, an integer >= 1.
        clock: as in ``measure_latency``.
    Returns:
        ``{"samples_per_call", "seconds_per_call", "samples_per_second"}``, Python floats
        (``seconds_per_call`` is the median of the timed calls).
    Raises:
        ValueError: ``"offline: samples_per_call must be an integer >= 1, got 0"``;
            ``"offline: samples_per_call must be finite as a float, got 1.000e+400 (an int of
            401 digits)"`` (the given ``is_finite_number`` and 01's ``shown``); ``"offline: the
            median call must take a positive time, got 0.0"`` (a clock too coarse for the call:
            time more samples per call); ``measure_latency``'s errors.
    Complexity:
        warmup + repeats calls of fn.
    Example:
        >>> ticks = iter([0.0, 2.0, 2.0, 4.0])
        >>> offline(lambda: None, 100, warmup=0, repeats=2, clock=lambda: next(ticks))["samples_per_second"]
        50.0
    """
    # solution: step 2
    samples_per_call = check_int("offline", "samples_per_call", samples_per_call, 1)
    if not is_finite_number(samples_per_call):  # float(10**400) raises OverflowError
        raise ValueError(f"offline: samples_per_call must be finite as a float, got {shown(samples_per_call)}")
    stats = measure_latency(fn, warmup=warmup, repeats=repeats, clock=clock)
    if stats.median <= 0:
        raise ValueError(f"offline: the median call must take a positive time, got {stats.median}")
    return {
        "samples_per_call": float(samples_per_call),
        "seconds_per_call": stats.median,
        "samples_per_second": samples_per_call / stats.median,
    }


# --- step 3: the server scenario: Poisson arrivals, a FIFO queue ---------------------------------------


def poisson_arrivals(rate: float, queries: int, seed: int = 0) -> np.ndarray:
    """Seeded Poisson arrival times: when each query arrives, from the run's start.

    The gaps between arrivals are exponential with mean ``1 / rate``, drawn in one call:
    ``gaps = np.random.default_rng(seed).exponential(1 / rate, size=queries)``, and the
    arrivals are their running sum ``np.cumsum(gaps)`` (the first query arrives ``gaps[0]``
    after the start).

    Args:
        rate: queries per second, a finite number > 0.
        queries: how many, an integer >= 1.
        seed: the generator's seed.
    Returns:
        (queries,) float64, nondecreasing, >= 0.
    Raises:
        ValueError: ``"poisson_arrivals: rate must be a finite number > 0, got 0"``;
            ``"poisson_arrivals: queries must be an integer >= 1, got 0"``; ``"poisson_arrivals:
            rate must be large enough for finite arrivals, got 1e-320"`` (``1 / rate``, or the
            running sum of the gaps, overflows to inf: ``1e-307`` with 100 queries; compute the
            sum under ``np.errstate(over="ignore")`` and check it); a bad seed (the given
            ``make_rng``). A value is written with 01's given ``shown``.
    Complexity:
        O(queries).
    Example:
        >>> poisson_arrivals(10.0, 3, seed=1).shape
        (3,)
    """
    # solution: step 3
    if not is_finite_number(rate) or rate <= 0:
        raise ValueError(f"poisson_arrivals: rate must be a finite number > 0, got {shown(rate)}")
    queries = check_int("poisson_arrivals", "queries", queries, 1)
    gaps = make_rng("poisson_arrivals", seed).exponential(1 / rate, size=queries)
    # NOTE: 1 / 1e-320 is inf, and at rate 1e-307 the running sum of 100 gaps passes 1.8e308:
    # arrivals that never come. cumsum's overflow warning is silenced: the check below names it.
    with np.errstate(over="ignore"):
        arrivals = np.cumsum(gaps)
    if not np.all(np.isfinite(arrivals)):
        raise ValueError(f"poisson_arrivals: rate must be large enough for finite arrivals, got {shown(rate)}")
    return arrivals


def server_latencies(
    fn: Callable[[], object],
    arrivals,
    *,
    warmup: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], object] = time.sleep,
) -> np.ndarray:
    """Serve queries arriving at ``arrivals`` one at a time, first come first served; their latencies.

    A single server and a FIFO queue. After ``warmup`` untimed calls of ``fn``, the clock's
    reading ``t0`` is the run's origin, and query ``i`` is *due* at ``t0 + arrivals[i]``.
    For each query in order: while the last reading is before its due time (strictly: a query
    due exactly at the previous finish gets no ``sleep(0)``), ``sleep(due - last)`` (idle until
    it arrives; a sleep may return early, so the clock is read again after each one and the
    server sleeps again for what is left); then ``fn()`` serves it, and its latency is
    ``finish - due``, ``finish`` the reading after the call, so never below the service time.
    A sleep after which the clock has not moved at all is refused (it would loop forever).
    A query that arrives while an earlier one is served waits in the queue, and the wait
    counts in its latency. So on an exact clock, with service times ``s[i]``: ``start[i] =
    max(arrival[i], finish[i-1])``, ``finish[i] = start[i] + s[i]``, latency ``finish[i] -
    arrival[i]``.

    Every reading goes through kata 14's ``timed_call`` (around the given ``nothing`` for the
    origin, around ``sleep`` for an idle wait, around ``fn`` for a query), so the readings are
    checked: real, finite, and never going backwards.

    Args:
        fn: one query, called with no arguments.
        arrivals: (N,) finite numbers >= 0, nondecreasing, seconds after the origin, at most
            1e100 (the given ``check_samples``; ``[-1.0]`` is refused).
        warmup: untimed calls of fn before the origin, an integer >= 0.
        clock: seconds, as in ``measure_latency``; sleep: waits that many seconds (``time.sleep``;
            a test passes one that advances its fake clock).
    Returns:
        (N,) float64 latencies, in query order.
    Raises:
        TypeError: ``"server_latencies: sleep must be callable, got int"`` (fn, clock too).
        ValueError: ``"server_latencies: arrivals must be a non-empty 1-D sequence of finite
            numbers, got shape (0,)"``; ``"server_latencies: arrivals must be nondecreasing
            and >= 0, got [1.0, 0.5]"`` (the arrivals as a list of floats, 01's ``shown``: a long
            list is abbreviated); ``"server_latencies: warmup must be an integer >= 0,
            got -1"``; ``"server_latencies: sleep must advance the clock, got a clock still at
            0.0 after sleep(0.5)"``; the clock's errors from ``timed_call`` (named
            ``server_latencies``).
    Complexity:
        warmup + N calls of fn, one sleep per idle wait (more if a sleep returns early),
        O(N) memory.
    Example:
        >>> now = [0.0]
        >>> def work(): now[0] += 1.0
        >>> def wait(seconds): now[0] += seconds
        >>> server_latencies(work, [0.0, 0.5, 3.0], clock=lambda: now[0], sleep=wait).tolist()
        [1.0, 1.5, 1.0]
    """
    # solution: step 3
    op = "server_latencies"
    for what, value in (("fn", fn), ("clock", clock), ("sleep", sleep)):
        check_callable(op, what, value)
    times = check_samples(op, arrivals, "arrivals")
    if times[0] < 0 or np.any(np.diff(times) < 0):
        raise ValueError(f"{op}: arrivals must be nondecreasing and >= 0, got {shown(times.tolist())}")
    warmup = check_int(op, "warmup", warmup, 0)
    for _ in range(warmup):
        fn()
    _, last, _ = timed_call(op, clock, -math.inf, nothing)  # the origin: one checked reading
    t0 = last
    latencies = np.empty(times.size, dtype=np.float64)
    for i, arrival in enumerate(times):
        due = t0 + arrival
        while last < due:  # the server is idle until the query arrives (a sleep may end early)
            before = last
            _, last, _ = timed_call(op, clock, last, sleep, due - last)
            if last == before:
                raise ValueError(
                    f"{op}: sleep must advance the clock, got a clock still at {last} after sleep({due - before})"
                )
        _, last, _ = timed_call(op, clock, last, fn)  # last <- this query's finish
        latencies[i] = last - due
    return latencies


def server(
    fn: Callable[[], object],
    *,
    rate: float,
    queries: int,
    warmup: int = 5,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], object] = time.sleep,
) -> dict[str, float]:
    """The server scenario: seeded Poisson arrivals at ``rate``, latency under load.

    ``arrivals = poisson_arrivals(rate, queries, seed)``, ``latencies = server_latencies(fn,
    arrivals, warmup=warmup, clock=clock, sleep=sleep)``, and the figures are ``summarize``
    of the latencies (with the same ``seed`` for its interval), plus ``"rate"`` (the offered
    load, queries per second).

    Args:
        fn: one query; rate: queries per second (> 0); queries: how many (>= 1).
        warmup, clock, sleep: as in ``server_latencies``.
        confidence, resamples, seed: the interval's, and seed the arrivals' too.
    Returns:
        ``summarize``'s dict of the latencies, and ``"rate"``: Python floats.
    Raises:
        ValueError: ``"server: seed must be what np.random.default_rng accepts (an integer >=
            0), got -1"`` (checked first, with the given ``make_rng``); the errors of
            ``poisson_arrivals``, ``server_latencies`` and ``summarize``.
    Complexity:
        warmup + queries calls of fn; the run lasts about max(queries / rate, total service).
    Example:
        >>> now = [0.0]
        >>> def work(): now[0] += 0.001
        >>> def wait(seconds): now[0] += seconds
        >>> server(work, rate=10.0, queries=5, clock=lambda: now[0], sleep=wait)["p50"] >= 0.001
        True
    """
    # solution: step 3
    make_rng("server", seed)  # only to name a bad seed after this function
    arrivals = poisson_arrivals(rate, queries, seed)
    latencies = server_latencies(fn, arrivals, warmup=warmup, clock=clock, sleep=sleep)
    figures = summarize(latencies, confidence=confidence, resamples=resamples, seed=seed)
    figures["rate"] = float(rate)
    return figures


# --- step 4: the accuracy gate and the result record -----------------------------------------------------


def blas_description() -> str:
    """Given: NumPy's BLAS, as its build configuration names it (e.g. ``"scipy-openblas 0.3.27"``)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.25 has no mode="dicts"
        return "unknown"
    return f"{blas.get('name', 'unknown')} {blas.get('version', 'unknown')}"


def accuracy_gate(accuracy: float, target: float) -> None:
    """Refuse a model whose accuracy is below its target: a fast wrong model is no result.

    Args:
        accuracy: the model's accuracy, a number in [0, 1].
        target: the least accuracy accepted, a number in [0, 1].
    Returns:
        None when ``accuracy >= target``.
    Raises:
        ValueError: ``"accuracy_gate: accuracy must be >= the target 0.97, got 0.95"`` (both
            figures written with 01's given ``shown``: their repr, abbreviated when long);
            ``"accuracy_gate: accuracy must be a number in
            [0, 1], got 1.5"`` (``target`` too, or nan).
    Complexity:
        O(1).
    Example:
        >>> accuracy_gate(0.98, 0.97)
    """
    # solution: step 4
    for what, value in (("accuracy", accuracy), ("target", target)):
        if not is_number(value) or not 0 <= value <= 1:  # nan fails both comparisons
            raise ValueError(f"accuracy_gate: {what} must be a number in [0, 1], got {shown(value)}")
    if accuracy < target:
        raise ValueError(f"accuracy_gate: accuracy must be >= the target {shown(target)}, got {shown(accuracy)}")


def environment() -> dict[str, object]:
    """The machine a figure was measured on.

    Returns:
        ``{"python": platform.python_version(), "numpy": np.__version__, "blas":
        blas_description(), "cores": os.cpu_count()}`` (``cores`` an int >= 1: 1 when
        ``os.cpu_count()`` cannot tell).
    Complexity:
        O(1).
    Example:
        >>> sorted(environment())
        ['blas', 'cores', 'numpy', 'python']
    """
    # solution: step 4
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "cores": os.cpu_count() or 1,
    }


def field_error(op: str, field: str, rule: str, value) -> ValueError:
    """Given: ``"load_record: field 'scenario' must be one of ..., got 'batch'"`` (01's ``shown``)."""
    return ValueError(f"{op}: field '{field}' must {rule}, got {shown(value)}")


def validate_record(record, op: str = "validate_record") -> None:
    """Check a result record field by field; raise naming the first field that is wrong.

    A record is a dict with exactly the fields ``FIELDS``. The checks run in this order, and
    the first that fails raises: (1) every field of ``FIELDS`` is present (the first missing
    one, in ``FIELDS`` order, is named); (2) no unknown field (the first, in the record's own
    order); (3) each value, in ``FIELDS`` order: ``model`` a non-empty str; ``scenario`` one of
    ``SCENARIOS``; ``figures`` a non-empty dict from non-empty strs to finite numbers, each
    name checked before its value (not bools; an int too big for a float, like ``10**400``,
    is not finite); ``accuracy`` then ``target``
    numbers in [0, 1], then ``accuracy >= target`` (the gate: equal passes); ``environment`` a
    dict checked the same way: its fields ``python``, ``numpy``, ``blas``, ``cores`` all
    present, no other, then ``python``, ``numpy``, ``blas`` non-empty strs and ``cores`` an
    int >= 1 (not a bool). NumPy numbers pass (``save_record`` refuses them: JSON cannot hold
    them). A field inside another is named with a dot: ``figures.p50``, ``environment.cores``.

    Args:
        record: what to check (anything: a record read from a file may be any JSON value).
        op: the caller's name, for errors.
    Returns:
        None.
    Raises:
        ValueError: ``"validate_record: a record must be a dict, got list"``; ``"validate_record:
            field 'model' must be present, got a record without it"``; ``"validate_record:
            field 'extra' must not be there, got 1"`` (an unknown field);
            ``"validate_record: field 'scenario' must be one of 'single-stream', 'offline',
            'server', got 'batch'"``; ``"validate_record: field 'figures' must have non-empty
            str names, got ''"`` (an empty name would read ``figures.``; a non-str name too);
            ``"validate_record: field 'figures.p50' must be a finite number, got 'fast'"`` (nan,
            inf and ``10**400`` too, written ``1.000e+400 (an int of 401 digits)``: every value
            is written with 01's given ``shown``, through the given ``field_error``); ``"validate_record: field
            'accuracy' must be >= the target 0.97, got 0.95"``; ``"validate_record: field
            'environment.blas' must be present, got a record without it"``; ``"validate_record:
            field 'environment.extra' must not be there, got 1"``; ``"validate_record: field
            'environment.cores' must be an integer >= 1, got 0"``. Every message names the field.
    Complexity:
        O(number of figures).
    Example:
        >>> validate_record({"model": "mlp"})
        Traceback (most recent call last):
        ...
        ValueError: validate_record: field 'scenario' must be present, got a record without it
    """
    # solution: step 4
    if not isinstance(record, dict):
        raise ValueError(f"{op}: a record must be a dict, got {type_name(record)}")
    for field in FIELDS:
        if field not in record:
            raise ValueError(f"{op}: field '{field}' must be present, got a record without it")
    for field in record:
        if field not in FIELDS:
            raise field_error(op, str(field), "not be there", record[field])
    model = record["model"]
    if not isinstance(model, str) or not model:
        raise field_error(op, "model", "be a non-empty str", model)
    scenario = record["scenario"]
    if scenario not in SCENARIOS:
        raise field_error(op, "scenario", "be one of " + ", ".join(repr(s) for s in SCENARIOS), scenario)
    figures = record["figures"]
    if not isinstance(figures, dict) or not figures:
        raise field_error(op, "figures", "be a non-empty dict of numbers", figures)
    for name, value in figures.items():
        if not isinstance(name, str) or not name:
            raise field_error(op, "figures", "have non-empty str names", name)
        if not is_finite_number(value):
            raise field_error(op, f"figures.{name}", "be a finite number", value)
    for field in ("accuracy", "target"):
        value = record[field]
        if not is_number(value) or not 0 <= value <= 1:
            raise field_error(op, field, "be a number in [0, 1]", value)
    if record["accuracy"] < record["target"]:
        raise field_error(op, "accuracy", f"be >= the target {shown(record['target'])}", record["accuracy"])
    env = record["environment"]
    if not isinstance(env, dict):
        raise field_error(op, "environment", "be a dict", env)
    for field in ENVIRONMENT_FIELDS:
        if field not in env:
            raise ValueError(f"{op}: field 'environment.{field}' must be present, got a record without it")
    for field in env:
        if field not in ENVIRONMENT_FIELDS:
            raise field_error(op, f"environment.{field}", "not be there", env[field])
    for field in ("python", "numpy", "blas"):
        if not isinstance(env[field], str) or not env[field]:
            raise field_error(op, f"environment.{field}", "be a non-empty str", env[field])
    if not is_int(env["cores"]) or env["cores"] < 1:
        raise field_error(op, "environment.cores", "be an integer >= 1", env["cores"])


def make_record(model: str, scenario: str, figures: dict, *, accuracy: float, target: float) -> dict:
    """A result record: the figures, the model and its accuracy, this machine; gated and checked.

    ``accuracy_gate(accuracy, target)`` first (a model below its target gets no record), then
    the dict ``{"model", "scenario", "figures", "accuracy", "target", "environment":
    environment()}``, checked by ``validate_record`` (named ``make_record``). Figures that are
    finite numbers (the given ``is_finite_number``) become Python floats, and so do accuracy
    and target; any other figure is left as it is, for ``validate_record`` to refuse:
    ``float("0.5")`` or ``float(True)`` would turn a wrong figure into a plausible one.

    Args:
        model: the model's name; scenario: one of ``SCENARIOS``; figures: a dict from str to
            finite numbers (what a scenario returned); accuracy, target: in [0, 1].
    Returns:
        The record, a dict with the fields ``FIELDS``.
    Raises:
        ValueError: ``accuracy_gate``'s errors (``"accuracy_gate: accuracy must be >= the
            target 0.97, got 0.95"``); ``validate_record``'s, named ``make_record``
            (``"make_record: field 'scenario' must be one of ..."``, ``"make_record: field
            'figures.p50' must be a finite number, got '0.5'"``).
    Complexity:
        O(number of figures).
    Example:
        >>> make_record("mlp", "offline", {"samples_per_second": 100.0}, accuracy=0.98, target=0.97)["model"]
        'mlp'
    """
    # solution: step 4
    accuracy_gate(accuracy, target)
    if not isinstance(figures, dict):
        raise field_error("make_record", "figures", "be a non-empty dict of numbers", figures)
    record = {
        "model": model,
        "scenario": scenario,
        "figures": {name: float(value) if is_finite_number(value) else value for name, value in figures.items()},
        "accuracy": float(accuracy),
        "target": float(target),
        "environment": environment(),
    }
    validate_record(record, "make_record")
    return record


def save_record(record: dict, path) -> None:
    """Write a record as JSON (``validate_record`` first, named ``save_record``).

    The text is ``json.dumps(record, indent=2, sort_keys=True, allow_nan=False)`` and a
    newline, written UTF-8; never NaN or infinity (validation refuses them first). The text is
    made *before* the file is opened, so a record that fails (validation, or ``json.dumps``)
    leaves an existing file untouched, byte for byte. ``validate_record`` accepts NumPy
    numbers (``np.float32(0.5)``, ``np.int64(4)``), which ``json.dumps`` cannot write: such a
    record is refused here (``make_record`` converts its figures to Python floats).

    Args:
        record: a valid record; path: a file path (str or ``pathlib.Path``).
    Raises:
        ValueError: ``validate_record``'s errors, named ``save_record``; ``"save_record: the
            record must be JSON-serializable (Python numbers, not NumPy ones), got Object of type
            float32 is not JSON serializable"`` (json's message). Either way nothing is written.
    Complexity:
        O(size of the record).
    """
    # solution: step 4
    validate_record(record, "save_record")
    try:  # serialize first: opening with "w" would empty an existing file before a failure
        text = json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"save_record: the record must be JSON-serializable (Python numbers, not NumPy ones), got {err}"
        ) from None
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def load_record(path) -> dict:
    """Read a record written by ``save_record``, and refuse a malformed one naming the field.

    Args:
        path: a file path.
    Returns:
        The record, a dict equal to the one saved.
    Raises:
        ValueError: ``"load_record: the file must hold JSON, got ..."`` (the parser's
            message: ``json.loads`` raises ``json.JSONDecodeError``, or a plain ValueError for a
            number past Python's 4300-digit limit for ints; catch ValueError, the parent of
            both); ``"load_record: the file 'result.json' must hold UTF-8 text, got ..."``
            (the decoder's message); ``validate_record``'s errors, named ``load_record``
            (``"load_record: field 'environment.cores' must be an integer >= 1, got 0"``).
    Complexity:
        O(size of the file).
    """
    # solution: step 4
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except UnicodeDecodeError as err:
        raise ValueError(f"load_record: the file {str(path)!r} must hold UTF-8 text, got {err}") from None
    try:
        record = json.loads(text)
    except ValueError as err:  # JSONDecodeError, or a number past Python's 4300-digit limit
        raise ValueError(f"load_record: the file must hold JSON, got {err}") from None
    validate_record(record, "load_record")
    return record


# --- step 5: the clock's resolution -------------------------------------------------------------------


def timer_resolution(clock: Callable[[], float] = time.perf_counter, *, pairs: int = 1000) -> float:
    """The smallest step the clock takes: the least positive difference between two readings.

    Reads the clock ``2·pairs`` times, as ``pairs`` calls of kata 14's ``timed_call`` around
    the given ``nothing`` (so every reading is checked, and none goes backwards), and returns
    the smallest positive difference between consecutive readings (within a pair and between
    pairs). That is the smallest step you can *observe*: the clock's own tick, or the cost of
    reading it, whichever is larger (``time.perf_counter`` ticks in nanoseconds, a read costs
    more). A duration shorter than a few resolutions cannot be measured by one call: time a
    block of calls instead.

    Args:
        clock: seconds, as in ``measure_latency``.
        pairs: pairs of readings, an integer >= 1.
    Returns:
        A Python float > 0, seconds.
    Raises:
        ValueError: ``"timer_resolution: the clock must advance within 2000 readings, got 2000
            equal readings"``; ``"timer_resolution: pairs must be an integer >= 1, got 0"``;
            the clock's errors from ``timed_call`` (named ``timer_resolution``).
    Complexity:
        2·pairs clock reads, O(pairs) memory.
    Example:
        >>> ticks = iter([0.0, 0.0, 0.0, 0.5, 0.5, 0.75])
        >>> timer_resolution(lambda: next(ticks), pairs=3)
        0.25
    """
    # solution: step 5
    check_callable("timer_resolution", "clock", clock)
    pairs = check_int("timer_resolution", "pairs", pairs, 1)
    readings = []
    last = -math.inf
    for _ in range(pairs):
        start, last, _ = timed_call("timer_resolution", clock, last, nothing)
        readings += [start, last]
    steps = np.diff(np.array(readings, dtype=np.float64))
    positive = steps[steps > 0]
    if positive.size == 0:
        raise ValueError(
            f"timer_resolution: the clock must advance within {2 * pairs} readings, got {2 * pairs} equal readings"
        )
    return float(positive.min())
