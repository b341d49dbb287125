"""Kata 18's techniques against their slow twins: tap conv vs loop conv, blocked vs naive matmul, fused vs unfused.

Four comparisons, each pair checked equal before it is timed (the script stops if not):

- **conv**: 09's ``conv2d_loops`` (B·OC·OH·OW Python iterations) against 18's ``conv2d_taps``
  (KH·KW BLAS products over a window view) and 09's im2col ``conv2d`` (one product over a
  copied buffer), forward only, float32, x (8, 16, 16, 16), a 3×3 kernel 16 -> 16, padding 1.
  The issue's target: taps at least 50x faster than the loop conv.
- **matmul**: 01's ``matmul_loops`` (a scalar Python loop) against ``matmul_blocked`` at
  (64, 64) @ (64, 64); then ``matmul_blocked`` at (256, 256) @ (256, 256) for several tile
  sizes S, with the bytes its tiles load, next to NumPy's ``@`` (BLAS, blocked already).
- **bias+GELU**: forward and backward of ``bias_gelu`` against ``(x + bias).gelu()`` (03's ops),
  x (256, 1024) float32, with each one's peak bytes (tracemalloc).
- **softmax cross-entropy**: forward and backward of ``softmax_cross_entropy`` against
  ``-(x.log_softmax(axis=1)[rows, t]).mean()`` (03's ops) and 05's ``cross_entropy``,
  logits (512, 1000) float32, with peak bytes.

Times are medians [quartiles] over ``--repeats`` samples, the candidates of a comparison taking
turns (``benchmarks/timing.py``), by the wall clock and in CPU time; a ratio is taken within
each repeat and its median printed.

Run from the repository root: ``TINYTORCH_IMPL=solutions python -m benchmarks.acceleration [--quick] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable

import numpy as np

from benchmarks import timing
from tinytorch.acceleration import bias_gelu, conv2d_taps, matmul_blocked, softmax_cross_entropy
from tinytorch.autograd import Tensor, no_grad
from tinytorch.convolution import conv2d, conv2d_loops
from tinytorch.losses import cross_entropy
from tinytorch.options import at_least
from tinytorch.tensor import matmul_loops

TARGET = 50.0  # loop conv / tap conv, at least
MODULES = ("tensor", "autograd", "losses", "convolution", "acceleration")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.acceleration", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, one repeat: figures too rough to quote")
    parser.add_argument("--repeats", type=at_least(1), default=7, help="timed samples of each (default 7)")
    arguments = parser.parse_args(argv)
    repeats = 1 if arguments.quick else arguments.repeats
    for line in timing.machine_report("Acceleration: vectorized, blocked, fused", MODULES):
        print(line)
    timing.flush()
    try:
        conv(arguments.quick, repeats)
        matmul(arguments.quick, repeats)
        fused(arguments.quick, repeats)
    except NotImplementedError as error:  # your kata, or a module it uses, is not written yet
        print(timing.not_written(error))
        return 1
    print(timing.final_load())
    return 0


def compare(title: str, candidates: dict[str, Callable[[], object]], repeats: int, extra: dict | None = None) -> dict:
    """Time the candidates in turns; print per-call milliseconds and each one's ratio to the first."""
    block = 0.02 if repeats == 1 else 0.1
    samples = timing.interleaved(candidates, repeats, block_seconds=block, warmup_seconds=block)
    names = list(candidates)
    print(f"\n{title}")
    for clock in ("wall", "cpu"):
        label = "wall clock" if clock == "wall" else "cpu time"
        print(f"{label} (median [quartiles] of {repeats}){'ms per call':>35} {'first row / this':>24}")
        first = getattr(samples[names[0]], clock)
        for name in names:
            mine = getattr(samples[name], clock)
            ratio = timing.Spread.of(timing.ratios(first, mine))
            note = f"  {extra[name]}" if extra and name in extra else ""
            print(
                f"  {name:<34} {timing.Spread.of(mine).format(1e3, digits=3):>26} "
                f"{ratio.format(digits=1, unit='x'):>24}{note}"
            )
    timing.flush()
    return samples


def check(what: str, ours, expected, tolerance: float) -> None:
    """Stop unless the fast version computed what its twin did."""
    ours, expected = np.asarray(ours, np.float64), np.asarray(expected, np.float64)
    worst = float(np.max(np.abs(ours - expected))) if ours.size else 0.0
    if ours.shape != expected.shape or worst > tolerance:
        raise SystemExit(f"check        {what}: DIFFERENT (shapes {ours.shape} {expected.shape}, worst {worst:.3g})")
    print(f"check        {what}: same result (largest difference {worst:.2g})")


def conv(quick: bool, repeats: int) -> None:
    """Loop conv vs tap conv vs im2col conv, and the target."""
    B, C, OC, side = (2, 8, 8, 8) if quick else (8, 16, 16, 16)
    g = np.random.default_rng(0)
    x = g.standard_normal((B, C, side, side)).astype(np.float32)
    weight = g.standard_normal((OC, C, 3, 3)).astype(np.float32)
    bias = g.standard_normal(OC).astype(np.float32)
    loop_out, macs = conv2d_loops(x, weight, bias, padding=1)
    check("conv2d_taps == conv2d_loops", conv2d_taps(x, weight, bias, padding=1), loop_out, 1e-3)
    print(
        f"conv         x ({B}, {C}, {side}, {side}), 3x3 kernel {C} -> {OC}, padding 1, float32: {macs:,} multiply-adds"
    )
    xt, wt, bt = Tensor(x), Tensor(weight), Tensor(bias)

    def im2col_conv():
        with no_grad():
            return conv2d(xt, wt, bt, padding=1)

    samples = compare(
        "conv forward",
        {
            "09 conv2d_loops": lambda: conv2d_loops(x, weight, bias, padding=1),
            "18 conv2d_taps": lambda: conv2d_taps(x, weight, bias, padding=1),
            "09 conv2d (im2col)": im2col_conv,
        },
        repeats,
    )
    for clock in ("wall", "cpu"):
        ratio = timing.Spread.of(
            timing.ratios(getattr(samples["09 conv2d_loops"], clock), getattr(samples["18 conv2d_taps"], clock))
        )
        met = "met" if ratio.median >= TARGET else "missed"
        print(f"target       loop / taps >= {TARGET:.0f}x ({clock}): {ratio.format(digits=1, unit='x')} {met}")


def matmul(quick: bool, repeats: int) -> None:
    """The scalar loop against tiles at one small size; tile sizes against BLAS at a larger one."""
    g = np.random.default_rng(1)
    small = 24 if quick else 64
    a, b = (g.standard_normal((small, small)).astype(np.float32) for _ in range(2))
    check(f"matmul_blocked == matmul_loops at {small}", matmul_blocked(a, b, 16)[0], matmul_loops(a, b)[0], 1e-3)
    compare(
        f"matmul ({small}, {small}) @ ({small}, {small}), float32",
        {"01 matmul_loops": lambda: matmul_loops(a, b), "18 matmul_blocked S=16": lambda: matmul_blocked(a, b, 16)},
        repeats,
    )
    side = 64 if quick else 256
    a, b = (g.standard_normal((side, side)).astype(np.float32) for _ in range(2))
    sizes = (8, 32, side) if quick else (8, 16, 32, 64, 128, 256)
    candidates, loads = {}, {}
    for S in sizes:
        out, loaded = matmul_blocked(a, b, S)
        check(f"matmul_blocked S={S} == a @ b at {side}", out, a @ b, 1e-3)
        name = f"18 matmul_blocked S={S}"
        candidates[name] = lambda S=S: matmul_blocked(a, b, S)
        loads[name] = f"tiles load {loaded / 2**20:.2f} MiB"
    candidates["numpy a @ b (BLAS)"] = lambda: a @ b
    loads["numpy a @ b (BLAS)"] = f"(naive would load {2 * side**3 * 4 / 2**20:.0f} MiB)"
    compare(f"matmul ({side}, {side}) @ ({side}, {side}), float32, by tile size S", candidates, repeats, loads)


def peak_mib(function: Callable[[], object]) -> str:
    """The peak of the bytes ``function`` allocates, by tracemalloc (NumPy reports its arrays to it)."""
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return f"peak {peak / 2**20:.2f} MiB"


def fused(quick: bool, repeats: int) -> None:
    """Fused nodes against the compositions of earlier katas' ops, forward + backward."""
    g = np.random.default_rng(2)
    rows, width = (64, 256) if quick else (256, 1024)
    x = g.standard_normal((rows, width)).astype(np.float32)
    bias = g.standard_normal(width).astype(np.float32)
    grad = np.ones_like(x)

    def gelu_step(fn):
        def run():
            xt, bt = Tensor(x, requires_grad=True), Tensor(bias, requires_grad=True)
            fn(xt, bt).backward(grad)
            return xt.grad, bt.grad

        return run

    gelu_candidates = {
        "(x + bias).gelu()  [03: 2 nodes]": gelu_step(lambda xt, bt: (xt + bt).gelu()),
        "18 bias_gelu  [1 node]": gelu_step(bias_gelu),
    }
    slow, fast = (run() for run in gelu_candidates.values())  # (grad of x, grad of bias) each
    check("bias_gelu's x gradient == (x + bias).gelu()'s", fast[0], slow[0], 1e-4)
    check("bias_gelu's bias gradient == (x + bias).gelu()'s", fast[1], slow[1], 1e-2)
    memory = {name: peak_mib(run) for name, run in gelu_candidates.items()}
    compare(f"bias + GELU, forward + backward, x ({rows}, {width}) float32", gelu_candidates, repeats, memory)

    B, classes = (128, 100) if quick else (512, 1000)
    logits = (g.standard_normal((B, classes)) * 3).astype(np.float32)
    target = g.integers(0, classes, B)
    index = np.arange(B)

    def ce_step(fn):
        def run():
            lt = Tensor(logits, requires_grad=True)
            fn(lt).backward()
            return lt.grad

        return run

    ce_candidates = {
        "-log_softmax[rows, t].mean()  [03: 4 nodes]": ce_step(
            lambda lt: -(lt.log_softmax(axis=1)[index, target]).mean()
        ),
        "05 cross_entropy  [2 nodes]": ce_step(lambda lt: cross_entropy(lt, target)),
        "18 softmax_cross_entropy  [1 node]": ce_step(lambda lt: softmax_cross_entropy(lt, target)),
    }
    grads = [run() for run in ce_candidates.values()]
    check("softmax_cross_entropy gradient == the composition's", grads[2], grads[0], 1e-6)
    memory = {name: peak_mib(run) for name, run in ce_candidates.items()}
    compare(
        f"softmax cross-entropy, forward + backward, logits ({B}, {classes}) float32", ce_candidates, repeats, memory
    )


if __name__ == "__main__":
    raise SystemExit(main())
