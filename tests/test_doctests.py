"""The ``Example:`` in each contract docstring runs, and holds, on the reference.

The kata is imported as ``tinytorch.<name>`` (the reference imports its dependencies that way,
so loading the file any other way would give a second copy of them); that is the reference
whenever this run's switch says so: ``--impl solutions``, or any run of ``tests/`` alone.
"""

from __future__ import annotations

import doctest
import importlib
import io

import pytest

import tinytorch
from tinytorch.registry import built, kata_file

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("kata", built(), ids=lambda kata: kata.folder)
def test_the_references_docstring_examples_hold(kata):
    reference = kata_file(kata, "solutions")
    if tinytorch.selection()[kata.name] != reference:
        pytest.skip(f"tinytorch.{kata.name} is {tinytorch.selection()[kata.name]} in this run, not the reference")
    module = importlib.import_module(f"tinytorch.{kata.name}")
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=report.write)
    assert runner.tries > 0, f"{reference} has no examples"
    if runner.failures:
        pytest.fail(f"{runner.failures} of {runner.tries} examples fail in {reference}:\n{report.getvalue()}")
