"""The digits MLP before and after int8 quantization: test accuracy and weight bytes.

The model and its training are milestones/mlp.py's (Linear(64, 512) -> ReLU -> Linear(512, 10),
5 epochs of Adam with cosine decay, on the shipped 8×8 digits and their one-pixel shifts); then
``quantize_model`` (kata 15) swaps both Linears for ``QuantizedLinear``s (int8 weights per output
channel, int8 inputs per tensor, int32 accumulation), and the same 360 test digits are scored
again. The target kata 15 was built to meet: the accuracy drops by at most 1 point.

Run from the repository root: ``TINYTORCH_IMPL=solutions python -m benchmarks.quantization
[--quick] [--seeds 0 1 2]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks import timing
from milestones.fit import fit
from milestones.mlp import BATCH_SIZE, EPOCHS, HIDDEN, LEARNING_RATE, prepare
from tinytorch.autograd import Tensor
from tinytorch.dataloader import DataLoader
from tinytorch.layers import Linear, ReLU, Sequential, parameter_bytes
from tinytorch.losses import cross_entropy
from tinytorch.options import at_least
from tinytorch.quantization import QuantizedLinear, quantize_model
from tinytorch.training import evaluate

TARGET_DROP = 1.0  # percentage points


def quantized_bytes(model) -> tuple[int, int]:
    """The int8 weights' bytes, and the bytes of what stays float (per-channel scales and biases)."""
    layers = [module for _, module in model.named_modules() if isinstance(module, QuantizedLinear)]
    codes = sum(layer.weight_q.nbytes for layer in layers)
    floats = sum(layer.weight_scale.nbytes + (0 if layer.bias is None else layer.bias.nbytes) for layer in layers)
    return codes, floats


def predictions(model, images: np.ndarray) -> np.ndarray:
    """The class each test digit is given: the argmax of the logits, (N,)."""
    return model(Tensor(images)).numpy().argmax(axis=1)


def one_seed(seed: int, epochs: int) -> tuple[float, float, int, int, int, int, int]:
    """Train with ``seed``; accuracy before and after quantizing, how many predictions changed, the bytes."""
    train_set, test_set = prepare()
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(64, HIDDEN, rng=rng), ReLU(), Linear(HIDDEN, 10, rng=rng))
    fitted = fit(model, train_set, test_set, epochs=epochs, lr=LEARNING_RATE, batch_size=BATCH_SIZE, seed=seed)
    weight_bytes = sum(module.weight.nbytes for module in model if isinstance(module, Linear))
    float_bytes = parameter_bytes(model)
    images = test_set.arrays[0]  # (360, 64) float32, standardized
    before = predictions(model, images)
    quantize_model(model)
    changed = int(np.sum(predictions(model, images) != before))
    _, accuracy = evaluate(model, DataLoader(test_set, batch_size=len(test_set)), cross_entropy)
    codes, floats = quantized_bytes(model)
    return fitted.accuracy, accuracy, changed, weight_bytes, float_bytes, codes, floats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quantization", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, seed 0: a few seconds, figures not to quote")
    parser.add_argument("--seeds", type=at_least(0), nargs="+", default=None, help="training seeds (default 0 1 2)")
    arguments = parser.parse_args(argv)
    epochs = 1 if arguments.quick else EPOCHS
    seeds = arguments.seeds or ([0] if arguments.quick else [0, 1, 2])
    title = "Digits MLP: test accuracy in float32, then with int8 weights and inputs"
    for line in timing.machine_report(title, ("layers", "training", "quantization")):
        print(line)
    print(f"model        Linear(64, {HIDDEN}) -> ReLU -> Linear({HIDDEN}, 10), {epochs} epochs (milestones/mlp.py)")
    print(f"{'seed':>4}  {'float32':>8}  {'int8':>8}  {'drop':>12}  {'changed':>7}  target")
    drops = []
    for seed in seeds:
        try:
            before, after, changed, weight_bytes, float_bytes, codes, floats = one_seed(seed, epochs)
        except NotImplementedError as error:
            print(timing.not_written(error))
            return 1
        drop = 100 * (before - after)
        drops.append(drop)
        verdict = f"<= {TARGET_DROP:.0f} point {'met' if drop <= TARGET_DROP else 'missed'}"
        print(f"{seed:>4}  {before:>8.2%}  {after:>8.2%}  {drop:>+6.2f} points  {changed:>7}  {verdict}")
        timing.flush()
    print("changed: test digits whose predicted class differs after quantizing (of 360)")
    print(f"worst drop   {max(drops):+.2f} points over {len(seeds)} seed(s) (of 360 test digits, one is 0.28 points)")
    print(f"weights      float32 {weight_bytes:,} bytes -> int8 {codes:,} bytes ({weight_bytes / codes:.0f}x smaller)")
    print(
        f"whole model  float32 {float_bytes:,} bytes -> {codes + floats:,} bytes (int8 weights; scales, biases float)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
