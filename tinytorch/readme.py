"""Write the registry's module map into README.md: ``python -m tinytorch.readme [--check]``."""

from __future__ import annotations

import sys

from tinytorch.registry import ROOT, module_map

START, END = "<!-- module-map:start -->", "<!-- module-map:end -->"


def render(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current module map."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{module_map()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    path = ROOT / "README.md"
    current = path.read_text()
    if "--check" in argv:
        if render(current) != current:
            print("README.md: the module map differs from tinytorch/registry.py; run python -m tinytorch.readme")
            return 1
        return 0
    path.write_text(render(current))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
