"""``python -m milestones [NAME] [--mine KATAS] [--seed N] [--epochs N] [--plot FILE] [--tokens N] [--save DIR]``.

Without NAME, lists the milestones; with it, runs one.

Whose code runs: every kata the milestone needs is yours, unless ``--mine KATAS`` (or the
variable ``TINYTORCH_MINE``) names the ones that are: then every other kata is the reference,
as in ``pytest exercises/NN_name``. ``TINYTORCH_IMPL=solutions`` runs the reference throughout.
The first lines of a run say, module by module, whose code it runs.

Options of one milestone only (its ``options`` in ``milestones/__init__.py``, passed to its
``run`` as keywords; given to another milestone, they are a bad command line): ``--tokens N``,
how many tokens mlperf generates (instead of 256); ``--save DIR``, the folder where mlperf saves
its result records as JSON (nothing is written without it).

Exit codes: 0 every target met (or just listing); 1 a target missed, or your code is not
ready for this milestone yet (a function not written, a syntax error, a missing kata file, a
kata name that does not exist); 2 a bad command line.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from milestones import BY_NAME, MILESTONES, Milestone
from milestones.report import BadOption
from tinytorch.options import at_least
from tinytorch.threads import one_blas_thread

if TYPE_CHECKING:
    from tinytorch.registry import Kata

SHOWN_FUNCTIONS = 4  # how many unwritten functions a kata's line names


def listing() -> str:
    """One line per milestone: name, year, title, target, the katas it needs."""
    lines = ["milestones (run one: python -m milestones NAME [--mine KATAS] [--seed N] [--epochs N] [--plot FILE]):"]
    for milestone in MILESTONES:
        lines.append(f"  {milestone.name:<11} {milestone.year}  {milestone.title}")
        lines.append(f"  {'':<17}target: {milestone.target}; needs katas {milestone.uses}")
        if milestone.options:
            options = ", ".join(f"--{name} {OPTIONS[name][0]}" for name in milestone.options)
            lines.append(f"  {'':<17}options of its own: {options}")
        if milestone.unbuilt():
            lines.append(f"  {'':<17}(cannot run yet: kata {', '.join(milestone.unbuilt())} is planned, not built)")
    return "\n".join(lines)


# Options only some milestones take (their ``options``): name -> (metavar, type, help).
OPTIONS = {
    "tokens": ("N", at_least(1), "mlperf: generate N tokens instead of 256 (below 256 the speed target is not judged)"),
    "save": ("DIR", str, "mlperf: save the result records as JSON files in DIR (default: nothing is written)"),
}


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m milestones",
        description=(
            "List the milestones, or run one on your code (--mine KATAS: only those katas yours, "
            "the reference for the others; TINYTORCH_IMPL=solutions: all of it the reference)."
        ),
        epilog="Exit codes: 0 every target met; 1 a target missed, or code not ready yet; 2 a bad command line.",
    )
    result.add_argument("name", nargs="?", help="the milestone to run (none: list them)")
    result.add_argument(
        "--mine",
        metavar="KATAS",
        help="the katas that are your code, e.g. 06 or optimizers,training (names or numbers); "
        "every other kata is the reference. Default: TINYTORCH_MINE, else every kata is yours",
    )
    result.add_argument(
        "--seed", type=at_least(0), default=0, metavar="N", help="seeds the data, the initial weights and the shuffling"
    )
    result.add_argument(
        "--epochs",
        type=at_least(0),
        default=None,
        metavar="N",
        help="train for N epochs instead of the milestone's own number (0: no training at all)",
    )
    result.add_argument("--plot", metavar="FILE", help="save the training curves to FILE (needs matplotlib)")
    for name, (metavar, kind, text) in OPTIONS.items():
        result.add_argument(f"--{name}", type=kind, default=None, metavar=metavar, help=text)
    return result


def banner(milestone: Milestone) -> str:
    """``running NAME with:`` and, for each kata the milestone needs, its file and whose code it is."""
    import tinytorch
    from tinytorch.registry import ROOT

    selection, sources = tinytorch.selection(), tinytorch.sources()
    lines = [f"running {milestone.label} with:"]
    for name in milestone.needs:
        path = selection[name]
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        whose = "your code" if sources[name] == "exercises" else "the reference"
        lines.append(f"  tinytorch.{name:<12} <- {shown} ({whose})")
    return "\n".join(lines)


def unwritten(reference: str, mine: str) -> list[str]:
    """The targets of ``reference`` (a kata's reference source) that ``mine`` has not written yet.

    A target is not written while its body in ``mine``, after the docstring, is nothing but
    ``raise NotImplementedError(...)`` (as in the stub), or while ``mine`` lacks it. Reading the
    file is enough: nothing runs, so every kata can be checked, not only the first one that raises.
    """
    from tinytorch.stubs import functions, targets

    written = functions(mine)
    return [name for name, *_ in targets(reference) if name not in written or _still_a_stub(written[name])]


def _still_a_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the body, after the docstring, is one ``raise NotImplementedError`` (with or without a call)."""
    body = function.body[1:] if ast.get_docstring(function) is not None else function.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def not_written(milestone: Milestone) -> list[tuple[Kata, str]]:
    """Every kata the milestone needs that is yours and has functions still to write, with a line on it."""
    import tinytorch
    from tinytorch.registry import BY_NAME as KATAS
    from tinytorch.registry import kata_file

    lines = []
    for name in milestone.needs:
        if tinytorch.sources()[name] != "exercises":
            continue
        kata, path = KATAS[name], tinytorch.selection()[name]
        reference = kata_file(kata, "solutions").read_text()
        try:
            todo = unwritten(reference, path.read_text())
        except SyntaxError as error:
            lines.append((kata, f"  {kata.label:<16} {path} does not parse: line {error.lineno}: {error.msg}"))
            continue
        if todo:
            from tinytorch.stubs import targets

            total = len(targets(reference))
            names = ", ".join(todo[:SHOWN_FUNCTIONS]) + (", ..." if len(todo) > SHOWN_FUNCTIONS else "")
            what = f"none of its {total} functions yet" if len(todo) == total else f"{len(todo)} of {total}: {names}"
            lines.append((kata, f"  {kata.label:<16} {what}"))
    return lines


def advice(milestone: Milestone, missing: list[Kata]) -> str:
    """How to run the milestone anyway: with the reference for the katas not written yet."""
    import tinytorch
    from tinytorch.registry import BY_NAME as KATAS

    yours = [KATAS[name] for name in milestone.needs if tinytorch.sources()[name] == "exercises"]
    ready = [f"{kata.number:02d}" for kata in yours if kata not in missing]
    if not ready:
        return f"to run it on the reference: TINYTORCH_IMPL=solutions python -m milestones {milestone.name}"
    return f"to run it with the reference for those: python -m milestones {milestone.name} --mine {','.join(ready)}"


def prepare(arguments: argparse.Namespace) -> None:
    """Make the selection (``--mine`` or ``TINYTORCH_MINE``) before anything imports a kata."""
    if arguments.mine is not None:
        os.environ["TINYTORCH_MINE"] = arguments.mine
    one_blas_thread()  # before a milestone imports NumPy (tinytorch/threads.py says why)
    import tinytorch  # the import selects from the environment, and raises SwitchError on a bad choice

    tinytorch.select_from_environment(announce=False)  # the banner below says it, per module


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.name is None:
        print(listing())
        return 0
    if arguments.name not in BY_NAME:
        parser().error(f"name must be one of {', '.join(BY_NAME)}, got {arguments.name!r}")  # exits with 2
    milestone = BY_NAME[arguments.name]
    options = {name: getattr(arguments, name) for name in OPTIONS if getattr(arguments, name) is not None}
    for name in options:
        if name not in milestone.options:
            takers = ", ".join(other.name for other in MILESTONES if name in other.options)
            parser().error(f"--{name} must be given to a milestone that takes it ({takers}), got {milestone.name}")
    if milestone.unbuilt():
        planned = ", ".join(milestone.unbuilt())
        print(
            f"milestones: {milestone.name} cannot start: it needs kata {planned}, planned but not built yet",
            file=sys.stderr,
        )
        return 1
    try:
        prepare(arguments)
    except RuntimeError as error:  # tinytorch.SwitchError: a kata's file is missing, a bad kata name
        if type(error).__name__ != "SwitchError":
            raise
        print(f"milestones: {milestone.name} cannot start: {error}", file=sys.stderr)
        return 1
    print(banner(milestone), flush=True)
    try:
        module = importlib.import_module(milestone.module)
        result = module.run(seed=arguments.seed, epochs=arguments.epochs, **options)
    except NotImplementedError as error:
        print(f"milestones: {milestone.name} needs code you have not written yet: {error}", file=sys.stderr)
        todo = not_written(milestone)
        if todo:
            lines = [f"the katas {milestone.name} needs that have functions to write (still the stub's raise):"]
            lines += [line for _, line in todo]
            lines.append(advice(milestone, [kata for kata, _ in todo]))
            print("\n".join(lines), file=sys.stderr)
        return 1
    except BadOption as error:  # a milestone's own option, refused before any work
        parser().error(str(error))  # exits with 2
    except SyntaxError as error:
        where = Path(error.filename or "?")
        print(f"milestones: {milestone.name} cannot start: {where}, line {error.lineno}: {error.msg}", file=sys.stderr)
        return 1
    print(result.report())
    if arguments.plot:
        print(result.save_plot(arguments.plot))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
