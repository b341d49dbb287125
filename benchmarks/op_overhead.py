"""The framework's cost per operation on tiny tensors, next to the raw NumPy operation.

On an 8×8 float32 array NumPy's own work takes about a microsecond, so what the framework
adds (``Function.apply``, the Tensor objects, the graph, the walk of ``backward``) is what is
measured. Each operation is timed twice: its forward (inputs require grad, so the graph is
recorded), and its forward plus ``backward`` (the NumPy twin computes the same gradients by
hand). The difference framework − NumPy is the overhead per call.

Run from the repository root: ``TINYTORCH_IMPL=solutions python -m benchmarks.op_overhead [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks import timing
from tinytorch.autograd import Tensor
from tinytorch.options import at_least

SIDE = 8  # every operand is (SIDE, SIDE)
DTYPE = np.float32


@dataclass(frozen=True)
class Op:
    """An operation: with the framework, in NumPy, and its gradients by hand in NumPy."""

    name: str
    framework: Callable[[Tensor, Tensor], Tensor]
    numpy: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradients: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]]  # (a, b, grad_out)


OPS = (
    Op("add", lambda a, b: a + b, lambda a, b: a + b, lambda a, b, g: (g, g)),
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, lambda a, b, g: (g * b, g * a)),
    Op("matmul", lambda a, b: a @ b, lambda a, b: a @ b, lambda a, b, g: (g @ b.T, a.T @ g)),
    Op("relu", lambda a, b: a.relu(), lambda a, b: np.maximum(a, 0), lambda a, b, g: (g * (a > 0),)),
)


def candidates(op: Op, backward: bool) -> dict[str, Callable[[], object]]:
    """The two functions to time for ``op``: the framework's and NumPy's, forward or forward + backward."""
    rng = np.random.default_rng(0)
    a_array, b_array = (rng.standard_normal((SIDE, SIDE)).astype(DTYPE) for _ in range(2))
    grad_out = np.ones((SIDE, SIDE), dtype=DTYPE)
    a, b = Tensor(a_array, requires_grad=True), Tensor(b_array, requires_grad=True)

    def framework_forward():
        return op.framework(a, b)

    def framework_both():
        op.framework(a, b).backward(grad_out)
        a.grad = b.grad = None  # as zero_grad: the next call starts afresh

    def numpy_forward():
        return op.numpy(a_array, b_array)

    def numpy_both():
        op.numpy(a_array, b_array)
        return op.gradients(a_array, b_array, grad_out)

    if backward:
        return {"framework": framework_both, "numpy": numpy_both}
    return {"framework": framework_forward, "numpy": numpy_forward}


def row(label: str, ours: list[float], floor: list[float]) -> str:
    """A table row: both medians with their quartiles, the overhead (difference of medians), the ratio."""
    ours_spread, floor_spread = timing.Spread.of(ours), timing.Spread.of(floor)
    ratio = timing.Spread.of(timing.ratios(ours, floor))
    overhead = (ours_spread.median - floor_spread.median) * 1e6
    return (
        f"{label:<24} {ours_spread.format(1e6):>20}  {floor_spread.format(1e6, digits=2):>20}  {overhead:>8.1f}  "
        f"{ratio.format(digits=1, unit='x'):>20}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.op_overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a second or two in all: figures too rough to quote")
    parser.add_argument(
        "--repeats", type=at_least(1), default=None, help="samples per candidate (default 41; --quick: 5)"
    )
    arguments = parser.parse_args(argv)
    repeats = arguments.repeats or (5 if arguments.quick else 41)
    block_seconds, warmup_seconds = (0.004, 0.01) if arguments.quick else (0.02, 0.2)
    title = f"Per-op overhead on ({SIDE}, {SIDE}) {np.dtype(DTYPE)} tensors"
    for line in timing.machine_report(title, ("autograd",)):
        print(line)
    print(f"timing: median [quartiles] of {repeats} interleaved samples, microseconds per call")
    header = f"{'op':<24} {'framework':>20}  {'numpy':>20}  {'overhead':>8}  {'framework / numpy':>20}"
    print(f"wall clock (time.perf_counter)\n{header}")
    cpu_rows = []
    for op in OPS:
        for backward in (False, True):
            label = f"{op.name} {'forward+backward' if backward else 'forward'}"
            try:
                samples = timing.interleaved(candidates(op, backward), repeats, block_seconds, warmup_seconds)
            except NotImplementedError as error:
                print(timing.not_written(error))
                return 1
            print(row(label, samples["framework"].wall, samples["numpy"].wall))
            cpu_rows.append(row(label, samples["framework"].cpu, samples["numpy"].cpu))
            timing.flush()
    timing.print_cpu_table(header, cpu_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
