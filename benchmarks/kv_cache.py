"""Generation with a KV cache against recompute: the time of 256 new tokens, and the same greedy tokens.

The model is a small GPT (13's ``GPT``: V 256, context 512, C 256, H 8, L 4, learned positions,
tied head, float32, seeded). From a prompt of 16 tokens (batch 1), 13's ``model.generate``
recomputes the whole sequence for each new token; kata 17's ``generate_cached`` runs the prompt
once and then one position per token, reading the cache. Both generate greedily
(temperature 0), so their outputs must be identical, token for token; the script checks it
and says so. Then it times both, taking turns (who goes first alternates), ``--repeats``
times each: the median and the quartiles of the wall clock and of this process's CPU time, and
the ratio recompute / cached per repeat (the median of those ratios).

The issue's target: cached generation at least 5x faster than recompute at 256 new tokens
(``--quick``, 32 tokens, does not judge it: its target column says ``n/a (--quick)``).

Run from the repository root: ``TINYTORCH_IMPL=solutions python -m benchmarks.kv_cache [--quick] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks import timing
from tinytorch.kv_cache import generate_cached
from tinytorch.options import at_least
from tinytorch.transformers import GPT, GPTConfig

CONFIG = dict(vocab_size=256, context_length=512, d_model=256, n_heads=8, n_layers=4)
PROMPT = 16
NEW_TOKENS = 256
TARGET = 5.0  # recompute / cached, at least


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kv_cache", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 new tokens, one repeat: figures too rough to quote")
    parser.add_argument("--repeats", type=at_least(1), default=3, help="timed runs of each (default 3)")
    arguments = parser.parse_args(argv)
    new_tokens, repeats = (32, 1) if arguments.quick else (NEW_TOKENS, arguments.repeats)
    title = "Generation: KV cache against recompute"
    for line in timing.machine_report(title, ("transformers", "kv_cache")):
        print(line)
    timing.flush()
    try:
        measure(new_tokens, repeats, quick=arguments.quick)
    except NotImplementedError as error:  # your kata, or a module it uses, is not written yet
        print(timing.not_written(error))
        return 1
    return 0


def measure(new_tokens: int, repeats: int, quick: bool = False) -> None:
    """Check that both give the same greedy tokens, then time them in turns; print the table and the target.

    The target is judged at 256 new tokens only: with ``quick`` (32 tokens, where the prompt and
    the set-up weigh more) its column says ``n/a (--quick)``, neither met nor missed.
    """
    model = GPT(GPTConfig(**CONFIG), rng=np.random.default_rng(0))
    prompt = np.random.default_rng(1).integers(0, CONFIG["vocab_size"], size=(1, PROMPT))
    sizes = ", ".join(f"{key} {value}" for key, value in CONFIG.items())
    print(f"model        13's GPT ({sizes}), float32, seed 0; prompt {PROMPT} tokens, batch 1")
    print(f"work         {new_tokens} new tokens, greedy (temperature 0); {repeats} timed runs of each, in turns")
    candidates = {
        "recompute": lambda: model.generate(prompt, new_tokens, temperature=0.0),
        "cached": lambda: generate_cached(model, prompt, new_tokens, temperature=0.0),
    }
    outputs = {name: run() for name, run in candidates.items()}  # also the warm-up
    same = bool(np.array_equal(outputs["recompute"], outputs["cached"]))
    differ = int((outputs["recompute"] != outputs["cached"]).sum())
    print(f"check        greedy tokens {'identical' if same else f'DIFFER at {differ} positions'}")
    timing.flush()
    wall = {name: [] for name in candidates}
    cpu = {name: [] for name in candidates}
    names = list(candidates)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:  # who goes first alternates
            start, start_cpu = time.perf_counter(), time.process_time()
            candidates[name]()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    print()
    header = f"{'':<10} {'recompute s':>22} {'cached s':>22} {'recompute / cached':>22}  target"
    for clock, samples in (("wall clock", wall), ("cpu time", cpu)):
        ratio = timing.Spread.of(timing.ratios(samples["recompute"], samples["cached"]))
        met = "n/a (--quick)" if quick else "met" if ratio.median >= TARGET else "missed"
        print(f"{clock} (median [quartiles] of {repeats})\n{header}")
        print(
            f"{'generate':<10} {timing.Spread.of(samples['recompute']).format(digits=3):>22} "
            f"{timing.Spread.of(samples['cached']).format(digits=3):>22} "
            f"{ratio.format(digits=2, unit='x'):>22}  >= {TARGET:.0f}x {met}"
        )
    per_token = statistics.median(cpu["cached"]) / new_tokens
    print(f"cached       {1e3 * per_token:.2f} ms of CPU per token (median run / {new_tokens})")
    print(timing.final_load())


if __name__ == "__main__":
    raise SystemExit(main())
