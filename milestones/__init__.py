"""Milestones: moments in the history of neural networks, recreated on your own framework.

``python -m milestones`` lists them; ``python -m milestones NAME`` runs one on your code;
``--mine 06`` (or ``TINYTORCH_MINE=06``) makes only kata 06 yours and the others the reference,
and ``TINYTORCH_IMPL=solutions`` runs it all on the reference. Each milestone is one short file
with ``run(seed, epochs) -> Result``: it trains, measures, and says whether it met its targets.
A milestone with options of its own (``--tokens``, ``--save``) lists them in ``options`` and
takes them as keywords of ``run``.

This file is the registry, and imports nothing heavy: listing the milestones never imports
tinytorch or NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Milestone:
    name: str  # what you type: python -m milestones NAME
    year: int
    title: str
    module: str  # the file that runs it, as an import path
    target: str  # what it must reach, in words (the run checks the numbers)
    uses: str  # the katas it needs, as the listing shows them: "01-03"
    needs: tuple[str, ...]  # the same katas by name: the modules it imports, and what they import
    options: tuple[str, ...] = ()  # the options of its own it takes, e.g. ("tokens", "save"): keywords of run

    @property
    def label(self) -> str:
        """How the listing and the report name it, e.g. ``1969 xor``."""
        return f"{self.year} {self.name}"

    def unbuilt(self) -> list[str]:
        """The katas it needs that this repository does not have yet (planned in the registry), e.g.
        ``["09 convolution"]``: until there are none, the milestone is listed but cannot run.
        Imports ``tinytorch.registry`` (a table: no NumPy, no kata) when called, never at import."""
        from tinytorch.registry import BY_NAME as KATAS

        return [KATAS[name].label for name in self.needs if not KATAS[name].built]


MILESTONES: tuple[Milestone, ...] = (
    Milestone(
        "perceptron",
        1958,
        "Rosenblatt's perceptron learns a line",
        "milestones.perceptron",
        "100% training accuracy on a linearly separable set, in at most 100 epochs",
        "01-03",
        ("tensor", "activations", "autograd"),
    ),
    Milestone(
        "xor",
        1969,
        "Minsky & Papert: one layer cannot learn XOR, a hidden layer can",
        "milestones.xor",
        "a single layer stays <= 75% on XOR; a one-hidden-layer MLP reaches 100%",
        "01-07",
        ("tensor", "activations", "autograd", "layers", "losses", "optimizers", "training"),
    ),
    Milestone(
        "mlp",
        1986,
        "Rumelhart, Hinton & Williams: backpropagation trains an MLP on digits",
        "milestones.mlp",
        ">= 97% test accuracy on the 8x8 digits, trained in <= 5 s",
        "01-08",
        ("tensor", "activations", "autograd", "layers", "losses", "optimizers", "training", "dataloader"),
    ),
    Milestone(
        "cnn",
        1998,
        "LeCun et al.: a convolutional network reads digits wherever they are",
        "milestones.cnn",
        ">= 95% test accuracy on digits at random spots of a 16x16 canvas, trained in <= 60 s; "
        "an MLP with >= 3x its parameters stays >= 10 points below",
        "01-09",
        (
            "tensor",
            "activations",
            "autograd",
            "layers",
            "losses",
            "optimizers",
            "training",
            "dataloader",
            "convolution",
        ),
    ),
    Milestone(
        "transformer",
        2017,
        "Vaswani et al.: attention is all you need; a small GPT reverses digits and reads the lessons",
        "milestones.transformer",
        ">= 99% exact match reversing held-out digit sequences, trained in <= 60 s; "
        "a character-level GPT's validation loss on the lessons falls below the unigram baseline",
        "01-08, 10-13",
        (
            "tensor",
            "activations",
            "autograd",
            "layers",
            "losses",
            "optimizers",
            "training",
            "dataloader",
            "tokenization",
            "embeddings",
            "attention",
            "transformers",
        ),
    ),
    Milestone(
        "mlperf",
        2018,
        "MLPerf-style: the digits MLP pruned and quantized, the GPT with a KV cache, measured by a harness",
        "milestones.mlperf",
        "the digits MLP >= 4x fewer bytes with test accuracy within 1 point; "
        "greedy generation of 256 tokens >= 5x faster with a KV cache, the same tokens; records from 19",
        "01-09, 11-19",
        (
            "tensor",
            "activations",
            "autograd",
            "layers",
            "losses",
            "optimizers",
            "training",
            "dataloader",
            "convolution",
            "embeddings",
            "attention",
            "transformers",
            "profiling",
            "quantization",
            "compression",
            "kv_cache",
            "acceleration",
            "benchmarking",
        ),
        ("tokens", "save"),
    ),
)

BY_NAME: dict[str, Milestone] = {milestone.name: milestone for milestone in MILESTONES}
