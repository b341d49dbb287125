"""The twenty katas: one table that the switch, the pytest header and the README map read.

A kata lives in ``exercises/NN_name/`` (lesson, stub, tests) and ``solutions/NN_name/``
(reference). ``built`` says whether its folders exist yet; a built kata whose folder is
missing is an error at start-up, never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPLS = ("exercises", "solutions")


@dataclass(frozen=True)
class Kata:
    number: int
    name: str
    title: str
    deps: tuple[str, ...]
    built: bool

    @property
    def folder(self) -> str:
        """The folder name, e.g. ``03_autograd``."""
        return f"{self.number:02d}_{self.name}"

    @property
    def label(self) -> str:
        """How messages name the kata, e.g. ``03 autograd``."""
        return f"{self.number:02d} {self.name}"


KATAS: tuple[Kata, ...] = (
    Kata(1, "tensor", "Tensors: storage, shape, views, broadcasting", (), True),
    Kata(2, "activations", "Activations and their vector-Jacobian products", (), True),
    Kata(3, "autograd", "Automatic differentiation", ("tensor", "activations"), True),
    Kata(4, "layers", "Modules, parameters and layers", ("autograd",), True),
    Kata(5, "losses", "Loss functions from logits", ("autograd",), True),
    Kata(6, "optimizers", "SGD, Adam, AdamW", ("autograd",), True),
    Kata(7, "training", "Training loops, schedules, checkpoints", ("losses", "optimizers", "dataloader"), True),
    Kata(8, "dataloader", "Datasets and batching", ("autograd",), True),
    Kata(9, "convolution", "Convolutions and pooling", ("layers",), True),
    Kata(10, "tokenization", "Characters and byte-pair encoding", (), True),
    Kata(11, "embeddings", "Embeddings and positional encodings", ("layers",), True),
    Kata(12, "attention", "Scaled dot-product and multi-head attention", ("layers", "embeddings"), True),
    Kata(13, "transformers", "LayerNorm, blocks and a small GPT", ("attention", "embeddings"), True),
    Kata(14, "profiling", "Counting parameters, FLOPs, latency, memory", ("convolution", "transformers"), True),
    Kata(15, "quantization", "int8 quantization", ("layers",), True),
    Kata(16, "compression", "Pruning, low rank, distillation", ("layers", "losses"), True),
    Kata(17, "kv_cache", "A KV cache for generation", ("transformers",), True),
    Kata(18, "acceleration", "Vectorizing, blocking and fusing", ("convolution", "losses", "optimizers"), True),
    Kata(19, "benchmarking", "An MLPerf-style harness", ("profiling",), True),
    Kata(
        20,
        "capstone",
        "Optimize a model under a budget",
        ("quantization", "compression", "kv_cache", "acceleration", "benchmarking"),
        True,
    ),
)

BY_NAME: dict[str, Kata] = {kata.name: kata for kata in KATAS}


def built() -> tuple[Kata, ...]:
    """The katas whose folders exist in this repository."""
    return tuple(kata for kata in KATAS if kata.built)


def named(text: str, what: str) -> tuple[Kata, ...]:
    """The built katas that ``text`` names, in curriculum order.

    A kata is named by its name (``optimizers``), its number (``6`` or ``06``) or its folder
    (``06_optimizers``); names are separated by commas or spaces. ``what`` says where the text
    came from (``TINYTORCH_MINE``, ``--mine``) in the error.

    Raises:
        ValueError: ``"<what>: each name must be a built kata (...), got 'optimiser'"``, listing
            the built katas; a planned kata is named as planned.
    """
    found = set()
    for word in text.replace(",", " ").split():
        kata = next((k for k in KATAS if word in (k.name, k.folder, str(k.number), f"{k.number:02d}")), None)
        if kata is None or not kata.built:
            choices = ", ".join(k.label for k in built())
            planned = f" ({kata.label} is planned, not built yet)" if kata else ""
            raise ValueError(f"{what}: each name must be a built kata ({choices}), got {word!r}{planned}")
        found.add(kata)
    return tuple(kata for kata in KATAS if kata in found)


def kata_file(kata: Kata, impl: str, exercises_dir: Path | None = None) -> Path:
    """The file that backs ``tinytorch.<kata.name>`` for ``impl``."""
    base = exercises_dir if impl == "exercises" and exercises_dir else ROOT / impl
    return base / kata.folder / f"{kata.name}.py"


def module_map() -> str:
    """The README's module map, as a Markdown table."""
    rows = ["| # | module | what you build | builds on | status |", "|---|---|---|---|---|"]
    for kata in KATAS:
        link = f"[`{kata.folder}`](exercises/{kata.folder}/README.md)" if kata.built else f"`{kata.folder}`"
        deps = ", ".join(kata.deps) or "—"
        status = "ready" if kata.built else "planned"
        rows.append(f"| {kata.number:02d} | {link} | {kata.title} | {deps} | {status} |")
    return "\n".join(rows)
