"""2017: Vaswani et al., "Attention is all you need": a small GPT, built from your katas, learns.

Two decoder-only transformers (13's ``GPT``: 11's embeddings, 12's attention, 13's blocks) are
trained from scratch with 05's ``cross_entropy``, 06's ``Adam``, 07's ``train_epoch`` with a
``CosineWithWarmup`` schedule and gradient clipping, and 08's ``DataLoader``:

- **reversal**: given 12 digits and a separator, write them backwards. The model is trained on
  a fixed set of sequences and checked on 1,000 others it never saw (the two sets are drawn so
  that no sequence is in both), by greedy decoding (13's ``generate`` at temperature 0): a
  sequence counts only when all 12 digits are right. Target: >= 99% exact match, after at most
  60 s of training.
- **lessons**: a character-level model (10's ``CharTokenizer``) reads this repository's own
  lessons, ``exercises/*/README.md`` (read when the milestone runs: nothing is shipped for it),
  every tenth block of 1,000 characters held out for validation. Targets: the validation loss
  falls, and ends below the unigram baseline (what knowing only how often each character occurs
  gives), so the model has learned from context. It then writes a sample, seeded.

Run: ``python -m milestones transformer [--seed N] [--epochs N] [--plot FILE]``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from milestones.report import Curve, Result, Target, count, parameters, percent, seconds
from tinytorch.autograd import Tensor, no_grad
from tinytorch.dataloader import DataLoader, TensorDataset
from tinytorch.layers import count_parameters, parameter_bytes
from tinytorch.losses import cross_entropy
from tinytorch.optimizers import Adam
from tinytorch.tokenization import CharTokenizer
from tinytorch.training import CosineWithWarmup, train_epoch
from tinytorch.transformers import GPT, GPTConfig

ROOT = Path(__file__).resolve().parent.parent

# --- reversal -----------------------------------------------------------------------------------
DIGITS = 10  # tokens 0..9 are the digits
SEPARATOR = DIGITS  # token 10 ends the question: "3 1 4 | 4 1 3"
LENGTH = 12  # digits per sequence: 10**12 possible sequences
TRAIN_SEQUENCES = 1024
HELD_OUT = 1000
REVERSAL_EPOCHS = 6
REVERSAL_CONFIG = dict(d_model=32, n_heads=2, n_layers=2)
REVERSAL_LR = 3e-3
REVERSAL_BATCH_SIZE = 32

# --- lessons ------------------------------------------------------------------------------------
LESSONS = "exercises/*/README.md"
BLOCK = 1000  # characters: the text is cut into blocks, and every tenth is held out
HELD_OUT_EVERY = 10
CONTEXT = 32  # characters the model sees
WINDOWS_PER_EPOCH = 1024  # an epoch: this many windows of CONTEXT + 1 characters at random places
VALIDATION_WINDOWS = 256  # the validation loss is measured on this many windows (or all there are)
TEXT_EPOCHS = 10
TEXT_CONFIG = dict(d_model=64, n_heads=4, n_layers=2, tie_weights=False)
TEXT_LR = 3e-3
TEXT_BATCH_SIZE = 32
VALIDATION_BATCH = 128  # windows per forward when measuring the validation loss (no graph: cheap)
PROMPT = "The "
SAMPLE_TOKENS = 160
TEMPERATURE = 0.8
TOP_K = 10

# --- both ---------------------------------------------------------------------------------------
WARMUP = 0.05  # of the steps: the learning rate rises linearly, then decays along a cosine to 0
MAX_GRAD_NORM = 1.0
TARGET_EXACT = 0.99
TARGET_SECONDS = 60.0


# --- the reversal task --------------------------------------------------------------------------


def distinct_sequences(rng: np.random.Generator, count: int, avoid: set[bytes]) -> np.ndarray:
    """``count`` different sequences of LENGTH digits, none of them in ``avoid`` (their bytes).

    Drawn uniformly (a repeat or an avoided one is drawn again), so the result is a uniform sample
    of the sequences not in ``avoid``, in the order drawn: (count, LENGTH) int64.
    """
    kept: list[np.ndarray] = []
    seen = set(avoid)
    while len(kept) < count:
        for row in rng.integers(0, DIGITS, size=(count - len(kept), LENGTH)):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                kept.append(row)
    return np.stack(kept)


def reversal_split(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and held-out sequences: (TRAIN_SEQUENCES, LENGTH) and (HELD_OUT, LENGTH) digits.

    The held-out sequences are drawn first, and a training draw that is one of them is drawn
    again: no sequence is in both sets, and none is twice in either.
    """
    rng = np.random.default_rng(seed)
    held_out = distinct_sequences(rng, HELD_OUT, avoid=set())
    train = distinct_sequences(rng, TRAIN_SEQUENCES, avoid={row.tobytes() for row in held_out})
    return train, held_out


def reversal_examples(sequences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Teacher forcing: what the model reads, and the answer it must predict at the last LENGTH places.

    A sequence x becomes ``x, SEPARATOR, reversed(x)``, 2·LENGTH + 1 tokens; the model reads the
    first 2·LENGTH and, at positions LENGTH .. 2·LENGTH − 1 (the separator and the answer so far),
    predicts the next token: the reversed digits.

    Returns:
        inputs (N, 2·LENGTH) and targets (N, LENGTH), int64.
    """
    N = len(sequences)
    separator = np.full((N, 1), SEPARATOR)
    tokens = np.concatenate([sequences, separator, sequences[:, ::-1]], axis=1)  # (N, 2L + 1)
    return tokens[:, :-1], tokens[:, LENGTH + 1 :]


def answer_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of the answer positions only: (B, 2L, V) logits, (B, L) targets -> 0-d."""
    B, _, V = logits.shape
    answer = logits[:, LENGTH:, :]  # (B, L, V): where the reversed digits are predicted
    return cross_entropy(answer.reshape(B * LENGTH, V), targets.numpy().reshape(B * LENGTH))


def answers_greedy(model: GPT, sequences: np.ndarray) -> np.ndarray:
    """The model's answers: from ``x, SEPARATOR``, LENGTH tokens by greedy decoding -> (N, LENGTH)."""
    prompts = np.concatenate([sequences, np.full((len(sequences), 1), SEPARATOR)], axis=1)  # (N, L + 1)
    model.eval()
    written = model.generate(prompts, LENGTH, temperature=0.0)  # (N, 2L + 1): temperature 0 is greedy
    model.train()
    return written[:, LENGTH + 1 :]


def answers_forced(model: GPT, sequences: np.ndarray) -> np.ndarray:
    """The model's top choice for each answer digit, given the RIGHT digits before it -> (N, LENGTH).

    One forward pass of (N, 2·LENGTH) tokens (teacher forcing) instead of greedy decoding's
    LENGTH growing ones, so it is cheap enough to watch after every epoch. A sequence is all right
    here exactly when greedy decoding writes it all right: if every digit is the top choice given
    the right digits before it, greedy decoding writes exactly those digits; if greedy decoding
    writes the whole answer right, it read the right digits before each one. (The digits after a
    first mistake differ: greedy decoding then reads its own mistake.)
    """
    inputs, _ = reversal_examples(sequences)
    model.eval()
    with no_grad():
        logits = model(inputs).numpy()  # (N, 2L, V)
    model.train()
    return logits[:, LENGTH:, :].argmax(axis=-1)  # (N, L): the first maximum, as greedy decoding takes


def exact_match(answers: np.ndarray, sequences: np.ndarray) -> tuple[float, float]:
    """(the fraction of sequences whose every digit is right, the fraction of digits right)."""
    right = answers == sequences[:, ::-1]  # (N, L)
    return float(right.all(axis=1).mean()), float(right.mean())


# --- the lessons' text --------------------------------------------------------------------------


def lessons_text() -> tuple[str, int]:
    """Every lesson, in kata order, joined by blank lines; and how many lessons there are."""
    paths = sorted(ROOT.glob(LESSONS))
    return "\n\n".join(path.read_text(encoding="utf-8") for path in paths), len(paths)


def split_text(text: str) -> tuple[str, str]:
    """(training text, validation text): blocks of BLOCK characters, every HELD_OUT_EVERY-th held out."""
    blocks = [text[start : start + BLOCK] for start in range(0, len(text), BLOCK)]
    train = "".join(block for i, block in enumerate(blocks) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1)
    validation = "".join(block for i, block in enumerate(blocks) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1)
    return train, validation


def windows(ids: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``ids[s : s + CONTEXT]`` and next characters ``ids[s + 1 : s + CONTEXT + 1]``: (W, CONTEXT) each."""
    rows = starts[:, None] + np.arange(CONTEXT + 1)  # (W, CONTEXT + 1)
    tokens = ids[rows]
    return tokens[:, :-1], tokens[:, 1:]


def next_char_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of every position: (B, T, V) logits, (B, T) next characters -> 0-d."""
    B, T, V = logits.shape
    return cross_entropy(logits.reshape(B * T, V), targets.numpy().reshape(B * T))


def validation_loss(model: GPT, inputs: np.ndarray, targets: np.ndarray) -> float:
    """The mean next-character loss over the validation windows, in nats, without a graph."""
    model.eval()
    total = 0.0
    with no_grad():
        for start in range(0, len(inputs), VALIDATION_BATCH):
            x, y = inputs[start : start + VALIDATION_BATCH], targets[start : start + VALIDATION_BATCH]
            total += float(next_char_loss(model(x), Tensor(y)).numpy()) * len(x)
    model.train()
    return total / len(inputs)


def unigram_loss(train: np.ndarray, validation: np.ndarray, vocab_size: int) -> float:
    """The loss of predicting every character from the training text's character counts alone.

    ``-mean log p(c)`` over the validation characters, with p the training frequencies plus one
    (add-one smoothing: a character never seen in training still gets a probability).
    """
    counts = np.bincount(train, minlength=vocab_size) + 1.0  # (V,)
    log_p = np.log(counts / counts.sum())
    return float(-log_p[validation].mean())


# --- training -----------------------------------------------------------------------------------


@dataclass
class Trained:
    """What one training run measured: per-epoch figures, and the training time alone."""

    losses: list[float]  # training loss of each epoch
    checks: list[float]  # after each epoch: held-out exact match, or validation loss
    seconds: float  # wall-clock time of the train_epoch calls
    cpu_seconds: float  # this process's CPU time in them: what the code costs, however busy the machine
    batches: int  # per epoch


def optimizer_and_schedule(model: GPT, lr: float, steps: int) -> tuple[Adam, CosineWithWarmup]:
    """Adam at ``lr``, warmed up over WARMUP of the ``steps``, then decayed along a cosine to 0."""
    optimizer = Adam(model.parameters(), lr=lr)
    steps = max(1, steps)  # a schedule needs >= 1 step, even for --epochs 0
    return optimizer, CosineWithWarmup(optimizer, warmup_steps=int(WARMUP * steps), total_steps=steps)


def train_reversal(model: GPT, train: np.ndarray, held_out: np.ndarray, epochs: int, seed: int) -> Trained:
    """``epochs`` passes over the training sequences, shuffled; held-out exact match after each."""
    loader = DataLoader(
        TensorDataset(*reversal_examples(train)), batch_size=REVERSAL_BATCH_SIZE, shuffle=True, seed=seed
    )
    optimizer, schedule = optimizer_and_schedule(model, REVERSAL_LR, epochs * len(loader))
    losses, checks, elapsed, cpu = [], [], 0.0, 0.0
    for _ in range(epochs):
        start, start_cpu = time.perf_counter(), time.process_time()
        losses.append(
            train_epoch(model, loader, answer_loss, optimizer, scheduler=schedule, max_grad_norm=MAX_GRAD_NORM)
        )
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        checks.append(exact_match(answers_forced(model, held_out), held_out)[0])
    return Trained(losses, checks, elapsed, cpu, len(loader))


def train_text(
    model: GPT, train: np.ndarray, validation: tuple[np.ndarray, np.ndarray], epochs: int, seed: int
) -> Trained:
    """``epochs`` × WINDOWS_PER_EPOCH fresh random windows of the training text; validation loss after each."""
    rng = np.random.default_rng(seed)
    batches = math.ceil(WINDOWS_PER_EPOCH / TEXT_BATCH_SIZE)
    optimizer, schedule = optimizer_and_schedule(model, TEXT_LR, epochs * batches)
    losses, checks, elapsed, cpu = [], [], 0.0, 0.0
    for _ in range(epochs):
        starts = rng.integers(0, len(train) - CONTEXT, size=WINDOWS_PER_EPOCH)  # each window fits the text
        loader = DataLoader(TensorDataset(*windows(train, starts)), batch_size=TEXT_BATCH_SIZE)
        start, start_cpu = time.perf_counter(), time.process_time()
        losses.append(
            train_epoch(model, loader, next_char_loss, optimizer, scheduler=schedule, max_grad_norm=MAX_GRAD_NORM)
        )
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        checks.append(validation_loss(model, *validation))
    return Trained(losses, checks, elapsed, cpu, batches)


def write(model: GPT, prompt: list[int], new_tokens: int, seed: int) -> list[int]:
    """``prompt`` and ``new_tokens`` sampled after it, by 13's ``generate``, in chunks of CONTEXT // 2.

    ``generate`` refuses to go past the model's context (it never crops the prompt), so a sample
    longer than the context is written a chunk at a time, each chunk continuing from the last
    CONTEXT // 2 tokens written, sampled with seed ``seed + chunk number``.
    """
    tokens, chunk = list(prompt), CONTEXT // 2
    for number, written in enumerate(range(0, new_tokens, chunk)):
        recent = np.array([tokens[-chunk:]])  # (1, <= CONTEXT // 2)
        size = min(chunk, new_tokens - written)
        out = model.generate(recent, size, temperature=TEMPERATURE, top_k=TOP_K, seed=seed + number)
        tokens += [int(i) for i in out[0, recent.shape[1] :]]
    return tokens


def curve(values: list[float], digits: int = 3) -> str:
    """``[2.1, 0.51, 0.012]`` -> ``"2.100 0.510 0.012"``: a loss curve as figures."""
    return " ".join(f"{value:.{digits}f}" for value in values) if values else "not trained"


def sample_lines(text: str) -> list[tuple[str, str]]:
    """A generated sample as report lines, one per line of text, each shown between ``|``s."""
    return [("", f"|{line}|") for line in text.split("\n")]


def run(seed: int = 0, epochs: int | None = None) -> Result:
    """Train both models (``epochs`` each, default their own), then check the four targets."""
    reversal_epochs = REVERSAL_EPOCHS if epochs is None else epochs
    text_epochs = TEXT_EPOCHS if epochs is None else epochs

    # Reversal: a GPT over 11 tokens (the digits and the separator) and 2·LENGTH positions.
    train, held_out = reversal_split(seed)
    # context 2·LENGTH + 1: generate refuses a prompt (LENGTH + 1) plus new tokens (LENGTH) beyond it
    reversal_config = GPTConfig(vocab_size=DIGITS + 1, context_length=2 * LENGTH + 1, **REVERSAL_CONFIG)
    reverser = GPT(reversal_config, rng=np.random.default_rng(seed))
    reversal = train_reversal(reverser, train, held_out, reversal_epochs, seed)
    exact, digits = exact_match(answers_greedy(reverser, held_out), held_out)

    # The lessons: characters in, the next character out.
    text, lessons = lessons_text()
    tokenizer = CharTokenizer(text)  # every character of the lessons: the validation text's too
    train_chars, validation_chars = split_text(text)
    train_ids = np.array(tokenizer.encode(train_chars))
    validation_ids = np.array(tokenizer.encode(validation_chars))
    starts = np.arange(0, len(validation_ids) - CONTEXT, CONTEXT)[:VALIDATION_WINDOWS]  # non-overlapping
    validation = windows(validation_ids, starts)
    text_config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=CONTEXT, **TEXT_CONFIG)
    writer = GPT(text_config, rng=np.random.default_rng(seed))
    untrained = validation_loss(writer, *validation)
    reading = train_text(writer, train_ids, validation, text_epochs, seed)
    final = reading.checks[-1] if reading.checks else untrained
    unigram = unigram_loss(train_ids, validation_ids, tokenizer.vocab_size)
    sample = tokenizer.decode(write(writer, tokenizer.encode(PROMPT), SAMPLE_TOKENS, seed))

    right = round(exact * HELD_OUT)
    return Result(
        title="2017 transformer: attention is all you need: a small GPT reverses digits and reads the lessons",
        figures=[
            ("reversal", f"{LENGTH} digits, a separator, then the same digits backwards"),
            (
                "  data",
                f"{count(TRAIN_SEQUENCES)} training sequences, {count(HELD_OUT)} held out (none in both; seed {seed})",
            ),
            ("  model", describe(reversal_config)),
            ("  parameters", parameters(count_parameters(reverser), parameter_bytes(reverser))),
            ("  training", f"{reversal_epochs} epochs × {reversal.batches} batches of {REVERSAL_BATCH_SIZE}"),
            ("", f"Adam lr {REVERSAL_LR}, warm-up then cosine decay to 0, seed {seed}"),
            ("  loss curve", curve(reversal.losses, 4)),
            ("  exact by epoch", " ".join(percent(value) for value in reversal.checks) or "not trained"),
            ("", "(held out, teacher-forced: the same figure as greedy decoding, from one forward)"),
            ("  exact match", f"{percent(exact)} ({right} of {HELD_OUT} held-out sequences, greedy decoding)"),
            ("  digits right", percent(digits)),
            ("  training time", f"{seconds(reversal.seconds)} ({seconds(reversal.cpu_seconds)} of CPU time)"),
            (
                "lessons",
                f"{lessons} lessons ({LESSONS}), {count(len(text))} characters, {tokenizer.vocab_size} distinct",
            ),
            (
                "  data",
                f"{count(len(train_ids))} characters to train on, {count(len(validation_ids))} held out "
                f"(every {HELD_OUT_EVERY}th block of {count(BLOCK)})",
            ),
            ("  model", describe(text_config)),
            ("  parameters", parameters(count_parameters(writer), parameter_bytes(writer))),
            ("  training", f"{text_epochs} epochs × {reading.batches} batches of {TEXT_BATCH_SIZE} windows"),
            ("", f"at random places, Adam lr {TEXT_LR}, warm-up then cosine decay to 0, seed {seed}"),
            ("  loss curve", curve(reading.losses)),
            ("  validation", f"{untrained:.3f} untrained, then {curve(reading.checks)}"),
            ("  unigram", f"{unigram:.3f} (character frequencies alone)"),
            ("  training time", f"{seconds(reading.seconds)} ({seconds(reading.cpu_seconds)} of CPU time)"),
            (
                "  sample",
                f"{SAMPLE_TOKENS} characters after {PROMPT!r}, temperature {TEMPERATURE}, top {TOP_K}, seed {seed}:",
            ),
            *sample_lines(sample),
        ],
        targets=[
            Target(f"reversal exact match >= {TARGET_EXACT:.0%}", percent(exact), exact >= TARGET_EXACT),
            Target(
                f"reversal training time <= {TARGET_SECONDS:.0f} s",
                seconds(reversal.seconds),
                reversal.seconds <= TARGET_SECONDS,
            ),
            Target("validation loss falls", f"{untrained:.3f} -> {final:.3f}", final < untrained),
            Target("validation loss < unigram's", f"{final:.3f} vs {unigram:.3f}", final < unigram),
        ],
        curves=[
            Curve("reversal: training loss", "epoch", {"training": reversal.losses}),
            Curve("reversal: held-out exact match", "epoch", {"held out": reversal.checks}),
            Curve("lessons: loss", "epoch", {"training": reading.losses, "validation": reading.checks}),
        ],
    )


def describe(config: GPTConfig) -> str:
    """A GPT's shape in words: ``GPT 2 layers, d_model 32, 2 heads, context 24``."""
    return (
        f"GPT {config.n_layers} layers, d_model {config.d_model}, {config.n_heads} heads, "
        f"context {config.context_length}, vocabulary {config.vocab_size}"
    )
