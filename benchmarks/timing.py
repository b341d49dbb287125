"""What every benchmark shares: a description of the machine, and interleaved timing.

Timing method: ``time.perf_counter`` around a block of calls (a block lasts about
``block_seconds``, so the clock's resolution and the loop's own cost do not count), after a
warm-up; many repeats; the median and the quartiles of the per-call time. The candidates take
turns within every repeat (and the one that goes first alternates), so a burst of load from
another process lands on all of them alike, and a ratio is taken within each repeat.
"""

from __future__ import annotations

import ctypes
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.threads import BLAS_THREAD_VARIABLES


@dataclass
class Spread:
    """The median of some samples and their quartiles (the middle half lies between them)."""

    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        if len(samples) == 1:
            return cls(samples[0], samples[0], samples[0])
        low, median, high = statistics.quantiles(samples, n=4, method="inclusive")
        return cls(median, low, high)

    def format(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """E.g. ``"812.4 [801.0-830.2]"``: median, then the quartiles."""
        m, lo, hi = (f"{value * scale:.{digits}f}" for value in (self.median, self.low, self.high))
        return f"{m}{unit} [{lo}-{hi}]"


def blas_library() -> ctypes.CDLL | None:
    """The OpenBLAS that this process's NumPy loaded (Linux only), to ask it questions; else None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
        return ctypes.CDLL(paths[0]) if paths else None
    except (OSError, IndexError):
        return None


def blas_threads() -> str:
    """How many threads BLAS uses for a product, as the library itself reports it."""
    library = blas_library()
    if library is not None:
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(library, name):
                return str(getattr(library, name)())
    return "unknown (not OpenBLAS on Linux)"


def blas_description() -> str:
    """NumPy's BLAS: name, version and build configuration."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.25 has no mode="dicts"
        return "unknown"
    return blas.get("openblas configuration") or f"{blas.get('name')} {blas.get('version')}"


def machine_report(title: str, modules: tuple[str, ...]) -> list[str]:
    """The lines a benchmark prints first: when, where, under what load, with which code."""
    import tinytorch
    from tinytorch.registry import ROOT

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    one, five, fifteen = os.getloadavg()
    variables = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in BLAS_THREAD_VARIABLES)
    lines = [
        f"{title} ({now})",
        f"machine      {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"load         {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min averages, before the run)",
        f"python       {platform.python_version()}, numpy {np.__version__}",
        f"blas         {blas_description()}",
        f"blas threads {blas_threads()} ({variables})",
    ]
    selection = tinytorch.selection()
    for name in modules:
        path = selection[name]
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines.append(f"tinytorch.{name:<12} <- {shown}")
    return lines


def not_written(error: NotImplementedError) -> str:
    """What a benchmark prints when the code it times is still a stub."""
    return f"benchmarks: the framework is not written yet ({error}); TINYTORCH_IMPL=solutions runs the reference"


def print_cpu_table(header: str, rows: list[str]) -> None:
    """The table again in CPU time, then the load after the run."""
    print(f"cpu time (time.process_time: leaves out the time other processes held the cores)\n{header}")
    print("\n".join(rows))
    print(final_load())


def final_load() -> str:
    """The load average after a run, to print next to the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load after the run: {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def calls_per_block(function: Callable[[], object], block_seconds: float, warmup_seconds: float) -> int:
    """Run ``function`` untimed for ``warmup_seconds``; return how many calls last about ``block_seconds``."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < warmup_seconds:
        function()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    return max(1, round(block_seconds / per_call))


@dataclass
class Samples:
    """Seconds per call, one sample per repeat: by the wall clock, and in this process's CPU time."""

    wall: list[float]  # time.perf_counter: what a user waits
    cpu: list[float]  # time.process_time: this process's CPU time, all threads; not other processes' turns


def interleaved(
    candidates: dict[str, Callable[[], object]], repeats: int, block_seconds: float, warmup_seconds: float
) -> dict[str, Samples]:
    """Time each candidate ``repeats`` times; within every repeat the candidates take turns.

    Args:
        candidates: name -> a function of no arguments, the work to time.
        repeats: samples per candidate.
        block_seconds: about how long one sample's block of calls lasts.
        warmup_seconds: how long each candidate runs, untimed, before the first sample.
    Returns:
        name -> its per-call times in seconds, in the order taken.
    """
    numbers = {name: calls_per_block(function, block_seconds, warmup_seconds) for name, function in candidates.items()}
    names = list(candidates)
    samples = {name: Samples([], []) for name in names}
    for repeat in range(repeats):
        turn = names if repeat % 2 == 0 else names[::-1]  # who goes first alternates
        for name in turn:
            function, number = candidates[name], numbers[name]
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(number):
                function()
            samples[name].wall.append((time.perf_counter() - start) / number)
            samples[name].cpu.append((time.process_time() - start_cpu) / number)
    return samples


def ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Repeat by repeat: each ratio compares two blocks run back to back, under the same load."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def flush() -> None:
    """Print what is buffered now (a long benchmark shows its lines as they come)."""
    sys.stdout.flush()
