"""``python -m tinytorch``: the learner's command line (see :mod:`tinytorch.cli`).

``python -m tinytorch [KATA ...]`` is the progress view; ``watch``, ``hint``, ``reset`` and
``grade`` are subcommands.
"""

from __future__ import annotations

import sys

from tinytorch.cli import main
from tinytorch.cli.runner import Reporter  # the progress view's pytest plugin, as it always was here

__all__ = ["Reporter", "main"]

if __name__ == "__main__":
    sys.exit(main())
