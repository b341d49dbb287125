"""``python -m milestones [NAME] [--seed N] [--epochs N] [--plot FILE]``: list the milestones, or run one.

Exit codes: 0 every target met (or just listing); 1 a target missed, or your code is not
ready for this milestone yet (a NotImplementedError, a missing kata file); 2 a bad command line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from milestones import BY_NAME, MILESTONES

# NOTE: NumPy's BLAS starts a thread per core for a matrix product. A milestone's matrices are
# small (32 × 512), and when the cores are busy the threads wait for each other: with two other
# busy processes on this 2-core machine the digits MLP trained in 6.2-9.5 s with two threads and
# 0.9-1.3 s with one. BLAS reads these variables once, when NumPy loads, so they are set before
# a milestone imports it; a value you set yourself wins.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def listing() -> str:
    """One line per milestone: name, year, title, target, the katas it needs."""
    lines = ["milestones (run one: python -m milestones NAME [--seed N] [--epochs N] [--plot FILE]):"]
    for milestone in MILESTONES:
        lines.append(f"  {milestone.name:<11} {milestone.year}  {milestone.title}")
        lines.append(f"  {'':<17}target: {milestone.target}; needs katas {milestone.uses}")
    return "\n".join(lines)


def nonnegative(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m milestones",
        description="List the milestones, or run one on your code (TINYTORCH_IMPL=solutions: on the reference).",
        epilog="Exit codes: 0 every target met; 1 a target missed, or code not written yet; 2 a bad command line.",
    )
    result.add_argument("name", nargs="?", help="the milestone to run (none: list them)")
    result.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seeds the data, the initial weights and the shuffling"
    )
    result.add_argument(
        "--epochs",
        type=nonnegative,
        default=None,
        metavar="N",
        help="train for N epochs instead of the milestone's own number (0: no training at all)",
    )
    result.add_argument("--plot", metavar="FILE", help="save the training curves to FILE (needs matplotlib)")
    return result


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.name is None:
        print(listing())
        return 0
    if arguments.name not in BY_NAME:
        parser().error(f"name must be one of {', '.join(BY_NAME)}, got {arguments.name!r}")  # exits with 2
    milestone = BY_NAME[arguments.name]
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    impl = os.environ.get("TINYTORCH_IMPL", "exercises")
    print(f"running {milestone.label} on {impl} ({'the reference' if impl == 'solutions' else 'your code'})")
    try:
        result = importlib.import_module(milestone.module).run(seed=arguments.seed, epochs=arguments.epochs)
    except NotImplementedError as error:
        print(f"milestones: {milestone.name} needs code you have not written yet: {error}", file=sys.stderr)
        return 1
    except RuntimeError as error:  # tinytorch.SwitchError: a kata's file is missing
        if type(error).__name__ != "SwitchError":
            raise
        print(f"milestones: {milestone.name} cannot start: {error}", file=sys.stderr)
        return 1
    print(result.report())
    if arguments.plot:
        print(result.save_plot(arguments.plot))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
