"""2018: MLPerf-style: make two models cheaper, and measure them as MLPerf measures.

MLPerf (first published in 2018) made benchmark figures comparable: a fixed model and task, a
declared *scenario* (single-stream: one query at a time, each one's latency), an *accuracy
target* that a faster model must still reach, and a *result record* that says on what machine a
figure was measured. This milestone does that, with 19's harness, for two models:

- **digits**: milestone 1986's MLP (``Linear(64, 512) -> ReLU -> Linear(512, 10)``, trained as
  ``milestones/mlp.py`` trains it, seeded) is the baseline. Optimized: 16's ``structured_prune``
  removes 75% of the hidden units (the rows of fc1's weight of smallest L2 norm, with the
  matching columns of fc2's), the smaller network is fine-tuned with the same ``fit`` (on
  18's in-place Adam and fused softmax-cross-entropy: 06's update and 05's loss, made cheaper), then
  15's ``quantize_model`` turns both Linears into int8 ``QuantizedLinear``s. Targets: the
  optimized model's bytes (every array of its ``state_dict``) at least 4× fewer than the
  baseline's, its test accuracy within 1 point of the baseline's (and the baseline at 1986's 97%).
- **generation**: 13's ``GPT`` with ``benchmarks/kv_cache.py``'s sizes (seeded, untrained: the
  speed does not depend on the weights) writes 256 tokens greedily after a 16-token prompt, by
  recompute (13's ``model.generate``) and with 17's KV cache (``generate_cached``). Targets: the
  same tokens, and the cached one at least 5× faster (the ratio of the p50 latencies).

Every latency is 19's ``single_stream`` on a real clock: the wall clock for the one-digit
queries, this process's CPU time for the generations (``timed_generation`` says why; their wall
clock is reported alongside). Every entry gets a record from 19's ``make_record``, which refuses
an entry below its accuracy target (``--save DIR`` writes them as JSON with ``save_record``;
nothing is written without it).

Run: ``python -m milestones mlperf [--seed N] [--epochs N] [--tokens N] [--save DIR]``.
``--epochs N`` trains the baseline N epochs and fine-tunes the pruned model N epochs;
``--tokens N`` generates N tokens instead of 256 (below 256 the speed target is not judged:
the prompt and the set-up weigh more in a short run; the tokens must still be identical).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.kv_cache import CONFIG, NEW_TOKENS, PROMPT
from benchmarks.kv_cache import TARGET as SPEEDUP
from milestones import mlp
from milestones.fit import fit
from milestones.report import BadOption, Curve, Result, Target, count, percent
from tinytorch.acceleration import InPlaceAdam, softmax_cross_entropy
from tinytorch.autograd import Tensor, no_grad
from tinytorch.benchmarking import make_record, save_record, single_stream
from tinytorch.compression import structured_prune
from tinytorch.dataloader import TensorDataset
from tinytorch.kv_cache import generate_cached
from tinytorch.layers import Linear, ReLU, Sequential
from tinytorch.quantization import quantize_model
from tinytorch.transformers import GPT, GPTConfig

# --- digits ---------------------------------------------------------------------------------------
SPARSITY = 0.75  # of fc1's hidden units removed: 384 of 512, 128 kept
FINE_TUNE_EPOCHS = 5
FINE_TUNE_LR = 3e-3  # with cosine decay to 0 (see milestones/README.md for the recipes measured)
TARGET_SHRINK = 4.0  # baseline bytes / optimized bytes, at least
TARGET_DROP = 0.01  # the optimized accuracy at least the baseline's minus 1 point
DIGIT_WARMUP = 20
DIGIT_REPEATS = 200  # one-digit queries timed, per model

# --- generation -----------------------------------------------------------------------------------
GENERATION_WARMUP = 1
GENERATION_REPEATS = 3  # timed generations of each: a recompute of 256 tokens takes ~9 s here
MAX_TOKENS = CONFIG["context_length"] - PROMPT  # 13's generate refuses to write past the context


def check_options(tokens: int, save: str | None) -> None:
    """Refuse, before any work, a token count past the context and a save folder that is a file."""
    if tokens > MAX_TOKENS:
        raise BadOption(
            f"--tokens must be at most {MAX_TOKENS} (the context {CONFIG['context_length']} "
            f"minus the {PROMPT}-token prompt), got {tokens}"
        )
    if save is not None and not save.strip():
        raise BadOption(f"--save must name a folder (made if missing), got {save!r}")
    if save is not None and Path(save).exists() and not Path(save).is_dir():
        raise BadOption(f"--save must name a folder (made if missing), got the file {save!r}")


def state_bytes(model) -> int:
    """The bytes of every array the model's ``state_dict`` holds (parameters and buffers)."""
    return sum(array.nbytes for array in model.state_dict().values())


def remove_units(model: Sequential, keep: np.ndarray) -> Sequential:
    """The MLP ``Linear -> ReLU -> Linear`` with only the hidden units ``keep`` says to keep.

    A unit j whose row of fc1's weight is pruned (set to 0) outputs ``relu(b1[j])`` whatever
    the input: a constant, which reaches the output as ``fc2.weight[:, j] · relu(b1[j])``. That
    constant is folded into fc2's bias, so the smaller network computes exactly what the network
    with those rows zeroed computes (to float rounding): removing the units changes nothing
    before fine-tuning.

    Args:
        model: ``Sequential(Linear(C_in, H), ReLU(), Linear(H, C_out))``, float.
        keep: bool (H,), True for a unit kept (``structured_prune(fc1.weight, s)[:, 0]``).
    Returns:
        A new ``Sequential(Linear(C_in, k), ReLU(), Linear(k, C_out))``, k = ``keep.sum()`` >= 1,
        the kept rows of fc1 (weight and bias) and the kept columns of fc2, fc2's bias plus the
        removed units' constants. The model is not changed.
    """
    fc1, fc2 = model[0], model[2]
    kept = int(keep.sum())
    unused = np.random.default_rng(0)  # the init below is overwritten: any generator will do
    first = Linear(fc1.in_features, kept, rng=unused, dtype=fc1.weight.dtype)
    second = Linear(kept, fc2.out_features, rng=unused, dtype=fc2.weight.dtype)
    first.weight.data[...] = fc1.weight.data[keep]  # (k, C_in)
    first.bias.data[...] = fc1.bias.data[keep]  # (k,)
    second.weight.data[...] = fc2.weight.data[:, keep]  # (C_out, k)
    # NOTE: the removed units' constants, summed in float64, then stored in the layer's dtype.
    constants = np.maximum(fc1.bias.data[~keep].astype(np.float64), 0.0)  # (H - k,) relu(b1[j])
    folded = fc2.bias.data.astype(np.float64) + fc2.weight.data[:, ~keep].astype(np.float64) @ constants
    second.bias.data[...] = folded  # (C_out,)
    return Sequential(first, ReLU(), second)


def accuracy(model, test_set: TensorDataset) -> float:
    """Test accuracy with each digit a query of its own, as the single-stream scenario serves it.

    Not one batch of all 360: 15's QuantizedLinear calibrates its input's range per call, so an
    int8 model's answer to a digit could depend on the other digits of its batch.
    """
    images, labels = test_set.arrays
    with no_grad():
        answers = [int(np.argmax(model(Tensor(images[i : i + 1])).numpy())) for i in range(len(images))]
    return float(np.mean(np.array(answers) == labels))


def latency(model, query: Tensor) -> dict[str, float]:
    """19's single-stream figures of ``model(query)`` (one digit), without building a graph."""
    with no_grad():
        return single_stream(lambda: model(query), warmup=DIGIT_WARMUP, repeats=DIGIT_REPEATS)


def timed_generation(generate) -> tuple[dict[str, float], np.ndarray]:
    """19's single-stream figures of ``generate()`` (one whole generation) in CPU time, and what it returned.

    The clock is this process's CPU time (``time.process_time``): with one BLAS thread, the
    work a generation costs, however busy the shared machine is (a burst of load during the
    cached runs alone once gave 2.4× on the wall clock, where the CPU time gives 5.5–7×). The
    wall clock of the same timed calls is added to the figures as ``wall_p50`` and ``wall_p99``.
    """
    written, wall = [], []

    def query() -> None:
        start = time.perf_counter()
        written.append(generate())
        wall.append(time.perf_counter() - start)

    figures = single_stream(query, warmup=GENERATION_WARMUP, repeats=GENERATION_REPEATS, clock=time.process_time)
    timed = wall[GENERATION_WARMUP:]
    figures["wall_p50"], figures["wall_p99"] = (float(value) for value in np.percentile(timed, [50, 99]))
    return figures, written[-1]


@dataclass
class Entry:
    """One model as measured: its figures for the record, and the record (or why there is none)."""

    name: str  # the record's file name, without .json
    model: str  # the record's model field
    figures: dict[str, float]
    accuracy: float
    target: float
    record: dict | None = None
    refused: str = ""  # make_record's error when the accuracy gate refused it

    def make(self) -> None:
        """19's ``make_record`` of this entry, single-stream; or, when its accuracy gate refuses, why."""
        try:
            self.record = make_record(
                self.model, "single-stream", self.figures, accuracy=self.accuracy, target=self.target
            )
        except ValueError as error:
            self.refused = str(error)


def ms(seconds: float) -> str:
    """``0.000123`` -> ``"0.123 ms"``."""
    return f"{1e3 * seconds:.3f} ms"


def row(name: str, left: str, right: str, last: str) -> tuple[str, str]:
    """A line of a side-by-side table: the name, two columns, then the ratio (or a note)."""
    return (f"  {name}", f"{left:>16}  {right:>16}  {last}")


def ratio(left: dict[str, float], right: dict[str, float], figure: str) -> str:
    """``"2.50×"``: left's figure over right's."""
    return f"{left[figure] / right[figure]:.2f}×"


def run(seed: int = 0, epochs: int | None = None, tokens: int | None = None, save: str | None = None) -> Result:
    """Measure both models before and after, make the records (and save them to ``save``), judge."""
    tune_epochs = FINE_TUNE_EPOCHS if epochs is None else epochs
    epochs = mlp.EPOCHS if epochs is None else epochs
    tokens = NEW_TOKENS if tokens is None else tokens
    check_options(tokens, save)

    # --- generation: recompute against the KV cache, greedy. First, in a process that has not
    # trained yet: after the digits' training, the cached generation once measured 1.3 s of CPU
    # against 1.1 s in a fresh process (3 runs each).
    gpt = GPT(GPTConfig(**CONFIG), rng=np.random.default_rng(seed))
    prompt = np.random.default_rng(seed + 1).integers(0, CONFIG["vocab_size"], size=(1, PROMPT))
    recompute, recomputed = timed_generation(lambda: gpt.generate(prompt, tokens, temperature=0.0))
    cached, written = timed_generation(lambda: generate_cached(gpt, prompt, tokens, temperature=0.0))
    equal = int(np.sum(written[:, PROMPT:] == recomputed[:, PROMPT:]))
    agreement = equal / tokens if tokens else 1.0
    speedup = recompute["p50"] / cached["p50"]
    judged = tokens >= NEW_TOKENS

    # --- digits: the baseline, as milestone 1986 trains it
    train_set, test_set = mlp.prepare()
    rng = np.random.default_rng(seed)
    baseline = Sequential(Linear(64, mlp.HIDDEN, rng=rng), ReLU(), Linear(mlp.HIDDEN, 10, rng=rng))
    trained = fit(
        baseline, train_set, test_set, epochs=epochs, lr=mlp.LEARNING_RATE, batch_size=mlp.BATCH_SIZE, seed=seed
    )
    query = Tensor(test_set.arrays[0][:1])  # one digit, (1, 64)
    base_accuracy, base_bytes = accuracy(baseline, test_set), state_bytes(baseline)
    base_latency = latency(baseline, query)

    # --- digits: pruned, fine-tuned, quantized
    keep = structured_prune(baseline[0].weight, SPARSITY)[:, 0]  # (512,) True for a unit kept
    kept = int(keep.sum())
    optimized = remove_units(baseline, keep)
    pruned_accuracy = accuracy(optimized, test_set)
    tuned = fit(  # NOTE: 18's in-place Adam and fused loss: the same update and loss as 06's and 05's
        optimized,
        train_set,
        test_set,
        epochs=tune_epochs,
        lr=FINE_TUNE_LR,
        batch_size=mlp.BATCH_SIZE,
        seed=seed + 1,
        optimizer=InPlaceAdam,
        loss=softmax_cross_entropy,
    )
    quantize_model(optimized)
    opt_accuracy, opt_bytes = accuracy(optimized, test_set), state_bytes(optimized)
    opt_latency = latency(optimized, query)

    # --- the records: 19's make_record, gated by each entry's accuracy target
    entries = [
        Entry(
            "digits-baseline",
            f"digits MLP 64-{mlp.HIDDEN}-10 float32",
            {**base_latency, "bytes": base_bytes},
            base_accuracy,
            mlp.TARGET_ACCURACY,
        ),
        Entry(
            "digits-optimized",
            f"digits MLP 64-{kept}-10 pruned, int8",
            {**opt_latency, "bytes": opt_bytes},
            opt_accuracy,
            max(base_accuracy - TARGET_DROP, 0.0),
        ),
        Entry(
            "generation-recompute",
            "GPT greedy generation, recompute",
            {**recompute, "tokens_per_second": tokens / recompute["p50"]},
            1.0,
            1.0,
        ),
        Entry(
            "generation-cached",
            "GPT greedy generation, KV cache",
            {**cached, "tokens_per_second": tokens / cached["p50"]},
            agreement,
            1.0,
        ),
    ]
    for entry in entries:
        entry.make()
    made = [entry for entry in entries if entry.record is not None]
    if save is not None:
        folder = Path(save)
        folder.mkdir(parents=True, exist_ok=True)
        for entry in made:
            path = folder / f"{entry.name}.json"
            save_record(entry.record, path)
        saved = f"{len(made)} saved to {folder} (19's save_record)"
    else:
        saved = "not saved (--save DIR writes them as JSON)"

    shrink = base_bytes / opt_bytes
    drop = opt_accuracy - base_accuracy
    sizes = ", ".join(f"{key} {value}" for key, value in CONFIG.items())
    figures = [
        ("digits", f"milestone 1986's MLP, Linear(64, {mlp.HIDDEN}) -> ReLU -> Linear({mlp.HIDDEN}, 10),"),
        ("", f"{epochs} epochs (seed {seed}); 360 test digits"),
        ("optimized", f"structured pruning of {SPARSITY:.0%} of the hidden units (16's structured_prune"),
        ("", f"on fc1's weight: {mlp.HIDDEN - kept} removed, {kept} kept; their constant outputs"),
        ("", "folded into fc2's bias), fine-tuned"),
        ("", f"{tune_epochs} epochs (18's InPlaceAdam lr {FINE_TUNE_LR} with cosine decay to 0"),
        ("", "and 18's fused softmax_cross_entropy),"),
        ("", "then int8 (15's quantize_model)"),
        ("", f"test accuracy {percent(pruned_accuracy)} once pruned, {percent(tuned.accuracy)} fine-tuned (float32)"),
        ("", f"{'baseline':>16}  {'optimized':>16}  baseline / optimized"),
        row("bytes", count(base_bytes), count(opt_bytes), f"{shrink:.2f}×"),
        row("accuracy", percent(base_accuracy), percent(opt_accuracy), f"{100 * drop:+.2f} points"),
        row("p50 wall", ms(base_latency["p50"]), ms(opt_latency["p50"]), ratio(base_latency, opt_latency, "p50")),
        row("p99 wall", ms(base_latency["p99"]), ms(opt_latency["p99"]), ratio(base_latency, opt_latency, "p99")),
        ("  latency", f"one digit per query, 19's single_stream on the wall clock: {DIGIT_WARMUP} warm-up,"),
        ("", f"{DIGIT_REPEATS} timed"),
        ("generation", f"13's GPT ({sizes}),"),
        ("", f"float32, seed {seed}; prompt {PROMPT} tokens, {tokens} new, greedy (temperature 0)"),
        ("", f"{'recompute':>16}  {'cached':>16}  recompute / cached"),
        row("p50 cpu", f"{recompute['p50']:.3f} s", f"{cached['p50']:.3f} s", f"{speedup:.2f}×"),
        row("p99 cpu", f"{recompute['p99']:.3f} s", f"{cached['p99']:.3f} s", ratio(recompute, cached, "p99")),
        row(
            "p50 wall",
            f"{recompute['wall_p50']:.3f} s",
            f"{cached['wall_p50']:.3f} s",
            ratio(recompute, cached, "wall_p50"),
        ),
        row(
            "p99 wall",
            f"{recompute['wall_p99']:.3f} s",
            f"{cached['wall_p99']:.3f} s",
            ratio(recompute, cached, "wall_p99"),
        ),
        row(
            "tokens/s",
            f"{tokens / recompute['p50']:.1f}",
            f"{tokens / cached['p50']:.1f}",
            f"tokens equal: {equal} of {tokens}",
        ),
        ("  latency", "a generation per query, 19's single_stream on this process's CPU time"),
        ("", f"(the wall clock alongside): {GENERATION_WARMUP} warm-up, {GENERATION_REPEATS} timed"),
    ]
    if not judged:
        figures.append(
            ("  speed target", f"not judged at {tokens} tokens (cached >= {SPEEDUP:.0f}× at {NEW_TOKENS} tokens)")
        )
    figures.append(("records", f"{len(made)} of {len(entries)} made (19's make_record, single-stream); {saved}"))
    figures += [("  no record", f"{entry.name}: {entry.refused}") for entry in entries if entry.record is None]

    targets = [
        Target(
            f"baseline accuracy >= {mlp.TARGET_ACCURACY:.0%}",
            percent(base_accuracy),
            base_accuracy >= mlp.TARGET_ACCURACY,
        ),
        Target(f"optimized bytes >= {TARGET_SHRINK:.0f}× fewer", f"{shrink:.2f}×", shrink >= TARGET_SHRINK),
        Target(
            "optimized accuracy >= baseline - 1 point",
            f"{100 * drop:+.2f} points",
            opt_accuracy >= base_accuracy - TARGET_DROP,
        ),
        Target("cached tokens = recompute's", f"{equal} of {tokens}", equal == tokens),
    ]
    if judged:
        targets.append(
            Target(
                f"cached >= {SPEEDUP:.0f}× faster (CPU p50) at {NEW_TOKENS} tokens",
                f"{speedup:.2f}×",
                speedup >= SPEEDUP,
            )
        )
    return Result(
        title="2018 mlperf: the digits MLP pruned and quantized, the GPT with a KV cache, measured by 19's harness",
        figures=figures,
        targets=targets,
        curves=[
            Curve("training loss", "epoch", {"baseline": trained.losses, "pruned, fine-tuning": tuned.losses}),
            Curve("test accuracy", "epoch", {"baseline": trained.accuracies, "pruned, fine-tuning": tuned.accuracies}),
        ],
    )
