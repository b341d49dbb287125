"""Command-line option types the scripts share (milestones, benchmarks): standard library only."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``; anything else is a usage error (exit 2).

    ``--repeats 0`` with ``at_least(1)`` reads ``argument --repeats: must be an integer >= 1, got 0``;
    ``--seed x`` with ``at_least(0)`` reads ``... must be an integer >= 0, got 'x'``.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse
