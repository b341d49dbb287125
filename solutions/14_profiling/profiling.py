"""14 profiling: measure a model before you change it: parameters, FLOPs, latency, memory.

Four questions, four tools. *How big is it?* ``count_parameters`` and ``parameter_bytes``
(kata 04's, re-exported here). *How much work is a forward pass?* ``count_flops``, computed
from shapes alone, layer by layer, without running the model. *How long does it take?*
``measure_latency``: warm-up calls, then timed repeats, summarized by median, p90, p99, mean and
standard deviation; the clock is an argument, so a test can inject a fake one. *How much memory
does it need?* ``peak_memory``, with Python's ``tracemalloc``. And ``profile`` puts them side by
side for each layer of one forward pass.

The FLOP convention (the one kata 01's matmul and 04's Linear docstrings use): a multiply-add
is 2 FLOPs, and only the multiply-adds of matrix products and convolutions are counted:
``2·M·K·N`` for an (M, K) @ (K, N) product. Not counted (0 FLOPs): bias additions,
activations, pooling, normalization, softmax, the attention scale and masks, embedding lookups,
residual additions, reshapes. They are O(elements) work, memory-bound, and small next to the
products in every model of this course. Halve a FLOP count to get MACs (multiply-accumulates),
the unit some papers and tools (fvcore, thop) report.

Shapes (one vocabulary): B batch, C channels or features, OC output channels, H, W, KH, KW, OH,
OW as in kata 09; in attention and transformers (katas 12 and 13) C is d_model, T positions,
H heads, H_kv key/value heads, D the head dimension, F the feed-forward width, V the
vocabulary, L the blocks.
"""

from __future__ import annotations

import math
import numbers
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.attention import MultiHeadAttention
from tinytorch.autograd import Tensor, no_grad
from tinytorch.convolution import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d, conv_output_size
from tinytorch.embeddings import Embedding
from tinytorch.layers import (
    GELU,
    Dropout,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    count_parameters,
    parameter_bytes,
)
from tinytorch.tensor import type_name
from tinytorch.transformers import GPT, FeedForward, LayerNorm, RMSNorm, TransformerBlock

__all__ = [
    "LatencyStats",
    "ProfileRow",
    "attention_flops",
    "block_flops",
    "conv2d_flops",
    "count_flops",
    "count_parameters",
    "format_profile",
    "gpt_flops",
    "linear_flops",
    "measure_latency",
    "module_flops",
    "parameter_bytes",
    "peak_memory",
    "profile",
]

# Given: 04's count_parameters and parameter_bytes are re-exported above, not rewritten: a
# model's size is the first line of every profile (``from tinytorch.profiling import count_parameters``).

# --- given: names and checks -----------------------------------------------------------------


def where(module: Module, name: str) -> str:
    """Given: how errors name a module: ``"Linear '2'"``, or ``"Linear (the model)"`` for the root."""
    return f"{type(module).__name__} '{name}'" if name else f"{type(module).__name__} (the model)"


def join(name: str, child: str) -> str:
    """Given: a child's dotted name, as ``named_modules`` writes it.

    ``join("0", "fc") == "0.fc"``; at the root, ``join("", "fc") == "fc"``.
    """
    return f"{name}.{child}" if name else child


def check_shape(op: str, shape, what: str = "input_shape") -> tuple[int, ...]:
    """Given: ``shape`` (a tuple or list of integers >= 0) as a tuple of ints.

    Raises ValueError ``"count_flops: input_shape must be a tuple of integers >= 0, got (2, -1)"``
    (a bool, a float, a string, a Tensor too); ``what`` names the argument (``"shape"`` in the
    layer rules: ``"linear_flops: shape must be ..."``).
    """
    ok = isinstance(shape, (tuple, list)) and all(
        isinstance(side, numbers.Integral) and not isinstance(side, (bool, np.bool_)) and side >= 0 for side in shape
    )
    if not ok:
        raise ValueError(f"{op}: {what} must be a tuple of integers >= 0, got {shape!r}")
    return tuple(int(side) for side in shape)


def check_module(op: str, what: str, layer, kinds: type | tuple[type, ...]) -> None:
    """Given: TypeError ``"linear_flops: layer must be a Linear, got Conv2d"`` unless ``layer`` is a ``kinds``.

    Every FLOP rule checks its layer first, before its shape: a rule called on the wrong kind of
    module names it instead of failing on a missing attribute. Several kinds are joined with
    ``" or "``: ``"block_flops: block must be a FeedForward or TransformerBlock, got Linear"``.
    """
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(layer, kinds):
        names = " or ".join(kind.__name__ for kind in kinds)
        raise TypeError(f"{op}: {what} must be a {names}, got {type_name(layer)}")


def check_callable(op: str, what: str, value) -> None:
    """Given: raise TypeError ``"measure_latency: fn must be callable, got int"`` unless ``value`` is."""
    if not callable(value):
        raise TypeError(f"{op}: {what} must be callable, got {type_name(value)}")


ELEMENTWISE = (ReLU, Tanh, Sigmoid, GELU, Dropout)  # 0 FLOPs, the output has the input's shape


def free_flops(module: Module, shape: tuple[int, ...], name: str) -> tuple[int, tuple[int, ...]] | None:
    """Given: ``(0, output shape)`` for a layer this course counts as free, None for any other.

    Free: the activations and Dropout (same shape), BatchNorm2d (same shape, C must match),
    MaxPool2d and AvgPool2d (kata 09's output size), Flatten ((B, rest...) -> (B, product)),
    13's LayerNorm and RMSNorm (same shape, the last dimension must be ``dim``), 11's Embedding
    (ids of any shape N -> (*N, D): a lookup).
    Raises ValueError ``"count_flops: the input of MaxPool2d '3' must have 4 dimensions
    (B, C, H, W), got (8, 64)"``, ``"count_flops: the input of BatchNorm2d '1' must have 16
    channels, got (2, 8, 5, 5)"``, and a window that does not fit, as conv2d_flops.
    """
    if isinstance(module, ELEMENTWISE):
        return 0, shape
    if isinstance(module, (LayerNorm, RMSNorm)):
        if len(shape) < 1 or shape[-1] != module.dim:
            raise ValueError(
                f"count_flops: the input of {where(module, name)} must have {module.dim} features "
                f"in its last dimension, got {shape}"
            )
        return 0, shape
    if isinstance(module, Embedding):
        return 0, (*shape, module.embedding_dim)
    if isinstance(module, (MaxPool2d, AvgPool2d, BatchNorm2d)) and len(shape) != 4:
        raise ValueError(
            f"count_flops: the input of {where(module, name)} must have 4 dimensions (B, C, H, W), got {shape}"
        )
    if isinstance(module, BatchNorm2d):
        if shape[1] != module.num_features:
            raise ValueError(
                f"count_flops: the input of {where(module, name)} must have {module.num_features} channels, got {shape}"
            )
        return 0, shape
    if isinstance(module, (MaxPool2d, AvgPool2d)):
        sides = []
        for side, k, s, p in zip(shape[2:], module.kernel_size, module.stride, module.padding, strict=True):
            if k > side + 2 * p:
                raise ValueError(
                    f"count_flops: the input of {where(module, name)} must fit its {module.kernel_size} window, "
                    f"got {shape}"
                )
            sides.append(conv_output_size(side, k, s, p))
        return 0, (*shape[:2], *sides)
    if isinstance(module, Flatten):
        if len(shape) < 1:
            raise ValueError(
                f"count_flops: the input of {where(module, name)} must have a batch dimension, got {shape}"
            )
        return 0, (shape[0], math.prod(shape[1:]))
    return None


# --- step 1: the FLOPs of one layer ----------------------------------------------------------


def linear_flops(layer: Linear, shape: tuple[int, ...], name: str = "") -> tuple[int, tuple[int, ...]]:
    """The FLOPs of ``layer`` on an input of ``shape``, and the output's shape.

    A Linear is one product (R, C_in) @ (C_in, C_out), R the rows: the product of every
    dimension but the last (B, or B·T for a sequence). Each of the R·C_out outputs is a dot
    product of C_in multiply-adds: ``2·R·C_in·C_out`` FLOPs. The bias adds R·C_out: not counted.

    Args:
        layer: a 04 Linear (reads ``in_features`` and ``out_features``).
        shape: the input's shape (B, ..., C_in), a tuple (or list) of integers >= 0, at least 2
            dimensions (as Linear.forward); R may be 0.
        name: the layer's dotted name in its model, for errors ("" for the model itself).
    Returns:
        ``(flops, output_shape)``: a Python int, and (B, ..., C_out).
    Raises:
        TypeError: ``"linear_flops: layer must be a Linear, got Conv2d"`` (the given
            ``check_module``, first; every rule below checks its layer so).
        ValueError: ``"linear_flops: shape must be a tuple of integers >= 0, got (-4, 2)"`` (the
            given ``check_shape``; every rule below checks its shape so);
            ``"count_flops: the input of Linear '2' must have at least 2 dimensions (a
            batch), got (64,)"``; ``"count_flops: the input of Linear '2' must have 64 features in
            its last dimension, got (8, 32)"``.
    Complexity:
        O(len(shape)); no array is made.
    Example:
        >>> linear_flops(Linear(3, 4), (2, 5, 3))
        (240, (2, 5, 4))
    """
    # solution: step 1
    check_module("linear_flops", "layer", layer, Linear)
    shape = check_shape("linear_flops", shape, "shape")
    if len(shape) < 2:
        raise ValueError(
            f"count_flops: the input of {where(layer, name)} must have at least 2 dimensions (a batch), got {shape}"
        )
    if shape[-1] != layer.in_features:
        raise ValueError(
            f"count_flops: the input of {where(layer, name)} must have {layer.in_features} features "
            f"in its last dimension, got {shape}"
        )
    rows = 1
    for side in shape[:-1]:  # Python ints: no overflow, whatever the sizes
        rows *= side
    return 2 * rows * layer.in_features * layer.out_features, (*shape[:-1], layer.out_features)


def conv2d_flops(layer: Conv2d, shape: tuple[int, ...], name: str = "") -> tuple[int, tuple[int, ...]]:
    """The FLOPs of ``layer`` on an input of ``shape``, and the output's shape.

    Each of the B·OC·OH·OW outputs is a dot product over a (C, KH, KW) window: C·KH·KW
    multiply-adds, padded zeros included (they are multiplied too, by im2col's matmul and by
    09's ``conv2d_loops``). So ``2·B·OC·OH·OW·C·KH·KW`` FLOPs. Stride and dilation enter through
    OH and OW (09's ``conv_output_size``): a stride of 2 has 4× fewer windows; a dilation
    spreads a window without adding taps. The bias is not counted.

    Args:
        layer: a 09 Conv2d (reads ``in_channels``, ``out_channels``, and ``kernel_size``,
            ``stride``, ``padding``, ``dilation`` as pairs).
        shape: the input's shape (B, C, H, W), integers >= 0, C = in_channels; B may be 0.
        name: the layer's dotted name in its model, for errors.
    Returns:
        ``(flops, (B, OC, OH, OW))``.
    Raises:
        TypeError: ``"conv2d_flops: layer must be a Conv2d, got Linear"`` (first).
        ValueError: ``"conv2d_flops: shape must be a tuple of integers >= 0, got (1, 1, -3, 3)"``;
            ``"count_flops: the input of Conv2d '0' must have 4 dimensions (B, C, H, W),
            got (8, 256)"``; ``"... must have 3 channels, got (2, 1, 16, 16)"``; ``"count_flops:
            the input of Conv2d '0' must fit the dilated kernel (5, 5) once padded, got
            (1, 1, 3, 3) padded to (3, 3)"``.
    Complexity:
        O(1); no array is made.
    Example:
        >>> conv2d_flops(Conv2d(1, 4, 3, stride=2, padding=1), (2, 1, 8, 8))
        (2304, (2, 4, 4, 4))
    """
    # solution: step 1
    check_module("conv2d_flops", "layer", layer, Conv2d)
    shape = check_shape("conv2d_flops", shape, "shape")
    if len(shape) != 4:
        raise ValueError(
            f"count_flops: the input of {where(layer, name)} must have 4 dimensions (B, C, H, W), got {shape}"
        )
    B, C, H, W = shape
    if C != layer.in_channels:
        raise ValueError(
            f"count_flops: the input of {where(layer, name)} must have {layer.in_channels} channels, got {shape}"
        )
    (KH, KW), (sh, sw), (ph, pw), (dh, dw) = layer.kernel_size, layer.stride, layer.padding, layer.dilation
    span = (dh * (KH - 1) + 1, dw * (KW - 1) + 1)  # the pixels a dilated kernel covers
    padded = (H + 2 * ph, W + 2 * pw)
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"count_flops: the input of {where(layer, name)} must fit the dilated kernel {span} once padded, "
            f"got {shape} padded to {padded}"
        )
    OH, OW = conv_output_size(H, KH, sh, ph, dh), conv_output_size(W, KW, sw, pw, dw)
    OC = layer.out_channels
    return 2 * B * OC * OH * OW * C * KH * KW, (B, OC, OH, OW)


# --- step 2: a whole model, from shapes alone ------------------------------------------------


def module_flops(module: Module, shape: tuple[int, ...], name: str = "") -> tuple[int, tuple[int, ...]]:
    """The FLOPs of ``module`` on an input of ``shape``, and its output's shape, from shapes alone.

    A Sequential: its members in order, each given the previous one's output shape, their
    FLOPs summed (members named ``join(name, "0")``, ``join(name, "1")``..., as
    ``named_modules`` names them). A Linear or Conv2d: ``linear_flops``, ``conv2d_flops``.
    12's MultiHeadAttention: ``attention_flops``; 13's FeedForward and TransformerBlock:
    ``block_flops``; 13's GPT: ``gpt_flops`` (step 6). A free layer: the given ``free_flops``.
    Anything else is refused: a FLOP count that silently skipped a layer would be a wrong
    number that looks right. Types are tested with ``isinstance``, so a subclass of Linear
    counts as a Linear.

    Args:
        module: a 04 Module.
        shape: the input's shape, a tuple (or list) of integers >= 0 (checked: a public entry).
        name: the module's dotted name ("" for the model itself), for errors.
    Returns:
        ``(flops, output_shape)``: a Python int >= 0, a tuple.
    Raises:
        TypeError: ``"count_flops: every module must be one count_flops knows (Linear, Conv2d,
            Sequential, ...), got Softmax2d '3'"`` (its type and where it sits).
        ValueError: ``"module_flops: shape must be a tuple of integers >= 0, got (-4, 2)"``; the
            layer rules' errors, naming the layer and the shape it got.
    Complexity:
        O(modules); no array is made, the model is not run.
    Example:
        >>> module_flops(Sequential(Linear(8, 16), ReLU(), Linear(16, 2)), (4, 8))
        (1280, (4, 2))
    """
    # solution: step 2
    shape = check_shape("module_flops", shape, "shape")
    if isinstance(module, Sequential):
        total = 0
        for child_name, child in module.named_children():
            flops, shape = module_flops(child, shape, join(name, child_name))
            total += flops
        return total, shape
    if isinstance(module, Linear):
        return linear_flops(module, shape, name)
    if isinstance(module, Conv2d):
        return conv2d_flops(module, shape, name)
    if isinstance(module, MultiHeadAttention):
        return attention_flops(module, shape, name)
    if isinstance(module, (FeedForward, TransformerBlock)):
        return block_flops(module, shape, name)
    if isinstance(module, GPT):
        return gpt_flops(module, shape, name)
    free = free_flops(module, shape, name)
    if free is None:
        raise TypeError(
            f"count_flops: every module must be one count_flops knows (Linear, Conv2d, Sequential, ...), "
            f"got {where(module, name)}"
        )
    return free


def count_flops(model: Module, input_shape) -> int:
    """The FLOPs of one forward pass of ``model`` on an input of ``input_shape``.

    The convention (module docstring): a multiply-add is 2 FLOPs; only the products of Linear
    and Conv2d layers and of attention are counted. Computed from shapes
    alone by ``module_flops``: no array of the input's size is made and the model is not run,
    so counting a batch of a million images costs nothing.

    Args:
        model: a 04 Module made of the layers ``module_flops`` knows.
        input_shape: the input's shape, a tuple (or list) of integers >= 0, e.g. (B, C, H, W).
    Returns:
        A Python int (never a NumPy integer: no overflow).
    Raises:
        TypeError: ``"count_flops: model must be a Module, got list"``, and ``module_flops``'s.
        ValueError: ``"count_flops: input_shape must be a tuple of integers >= 0, got (2, -1)"``
            (the given ``check_shape``), and the layer rules' errors.
    Complexity:
        O(modules) time; O(1) memory.
    Example:
        >>> count_flops(Sequential(Linear(64, 512), ReLU(), Linear(512, 10)), (1, 64))
        75776
    """
    # solution: step 2
    if not isinstance(model, Module):
        raise TypeError(f"count_flops: model must be a Module, got {type_name(model)}")
    shape = check_shape("count_flops", input_shape)
    flops, _ = module_flops(model, shape)
    return flops


# --- step 6: attention and the transformer -------------------------------------------------------


def attention_flops(attn: MultiHeadAttention, shape: tuple[int, ...], name: str = "") -> tuple[int, tuple[int, ...]]:
    """The FLOPs of 12's MultiHeadAttention on x of ``shape`` (self-attention), and the output's shape.

    Four projections, each a Linear counted by ``linear_flops`` (named ``join(name, "q_proj")``
    ...): q_proj and out_proj C -> C, k_proj and v_proj C -> H_kv·D (grouped-query attention
    makes those two smaller). Then, in each of the B·H query heads, two products: the scores
    q @ kᵀ, (T, D) @ (D, T), and the weighted sum of the values, (T, T) @ (T, D): 2·T·T·D
    FLOPs each. Every score is counted, masked ones included: a causal mask is applied to
    scores that were all computed. RoPE, the scale, the mask and the softmax: not counted. So

        2·B·T·C·(2·C + 2·H_kv·D) + 4·B·H·T²·D        (C = H·D)

    Args:
        attn: reads ``d_model``, ``n_heads``, ``head_dim`` and the four projections.
        shape: (B, T, C), C = d_model; B or T may be 0.
        name: its dotted name, for errors.
    Returns:
        ``(flops, (B, T, C))``.
    Raises:
        TypeError: ``"attention_flops: attn must be a MultiHeadAttention, got Linear"`` (first).
        ValueError: ``"attention_flops: shape must be a tuple of integers >= 0, got (1, -4, 8)"``;
            ``"count_flops: the input of MultiHeadAttention '0' must have shape
            (B, T, d_model=8), got (2, 3, 5)"``.
    Complexity:
        O(1).
    Example:
        >>> attention_flops(MultiHeadAttention(8, 2), (1, 4, 8))
        (2560, (1, 4, 8))
    """
    # solution: step 6
    check_module("attention_flops", "attn", attn, MultiHeadAttention)
    shape = check_shape("attention_flops", shape, "shape")
    if len(shape) != 3 or shape[-1] != attn.d_model:
        raise ValueError(
            f"count_flops: the input of {where(attn, name)} must have shape (B, T, d_model={attn.d_model}), got {shape}"
        )
    B, T, _ = shape
    flops = 0
    for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):  # each reads a (B, T, C) input
        proj_flops, _ = linear_flops(getattr(attn, proj), shape, join(name, proj))
        flops += proj_flops
    H, D = attn.n_heads, attn.head_dim
    flops += 2 * (2 * B * H * T * T * D)  # scores q @ kᵀ, then probabilities @ v, in every query head
    return flops, shape


def block_flops(
    block: FeedForward | TransformerBlock, shape: tuple[int, ...], name: str = ""
) -> tuple[int, tuple[int, ...]]:
    """The FLOPs of 13's FeedForward or TransformerBlock on x of ``shape``, and the output's shape.

    FeedForward: ``fc`` (C -> F) then ``proj`` (F -> C), through ``module_flops``; GELU is free:
    ``4·R·C·F``. TransformerBlock: ``norm1``, ``attn``, ``norm2``, ``ffn``, each through
    ``module_flops`` on the block's input shape (the residual lines keep (B, T, C); the norms
    and the residual additions are free), named ``join(name, "attn")`` and so on.

    Args:
        block: a FeedForward (reads ``fc``, ``proj``) or a TransformerBlock (reads ``norm1``,
            ``attn``, ``norm2``, ``ffn``).
        shape: FeedForward: (..., C), at least 2 dimensions; TransformerBlock: (B, T, C).
        name: its dotted name, for errors.
    Returns:
        ``(flops, output_shape)``, the output shape equal to the input's.
    Raises:
        TypeError: ``"block_flops: block must be a FeedForward or TransformerBlock, got Linear"``
            (first).
        ValueError: ``"block_flops: shape must be a tuple of integers >= 0, got (1, 4.0, 8)"``;
            ``"count_flops: the input of TransformerBlock '1' must have 3 dimensions
            (B, T, C), got (4, 8)"``; the sub-layers' errors, naming them (``'1.attn'``).
    Complexity:
        O(1).
    Example:
        >>> block_flops(TransformerBlock(8, 2), (1, 4, 8))
        (6656, (1, 4, 8))
    """
    # solution: step 6
    check_module("block_flops", "block", block, (FeedForward, TransformerBlock))
    shape = check_shape("block_flops", shape, "shape")
    if isinstance(block, FeedForward):
        fc_flops, hidden = module_flops(block.fc, shape, join(name, "fc"))  # (..., F)
        proj_flops, out = module_flops(block.proj, hidden, join(name, "proj"))  # (..., C)
        return fc_flops + proj_flops, out
    if len(shape) != 3:
        raise ValueError(
            f"count_flops: the input of {where(block, name)} must have 3 dimensions (B, T, C), got {shape}"
        )
    flops = 0
    for child in ("norm1", "attn", "norm2", "ffn"):
        child_flops, _ = module_flops(getattr(block, child), shape, join(name, child))  # each keeps (B, T, C)
        flops += child_flops
    return flops, shape


def gpt_flops(model: GPT, shape: tuple[int, ...], name: str = "") -> tuple[int, tuple[int, ...]]:
    """The FLOPs of 13's GPT on token ids of ``shape`` (B, T), and the logits' shape (B, T, V).

    The token and position lookups are free and give (B, T, C); then ``blocks`` (a Sequential,
    through ``module_flops``), the final ``norm`` (free), and the head: ``head`` through
    ``module_flops`` when untied, or, tied, the product x @ tok_emb.weightᵀ,
    ``2·B·T·C·V`` FLOPs all the same. So ``L·block + 2·B·T·C·V``.

    Args:
        model: reads ``config`` (vocab_size, context_length, d_model), ``blocks``, ``norm``,
            ``head``.
        shape: (B, T) ids, T <= context_length.
        name: its dotted name, for errors.
    Returns:
        ``(flops, (B, T, V))``.
    Raises:
        TypeError: ``"gpt_flops: model must be a GPT, got Linear"`` (first).
        ValueError: ``"gpt_flops: shape must be a tuple of integers >= 0, got (1, -1)"``;
            ``"count_flops: the input of GPT (the model) must have shape (B, T) of token
            ids, got (2, 3, 8)"``; ``"count_flops: the input of GPT (the model) must have
            T <= context_length=8, got (1, 9)"``.
    Complexity:
        O(L).
    Example:
        >>> from tinytorch.transformers import GPTConfig
        >>> gpt_flops(GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2, n_layers=1)), (1, 4))
        (7680, (1, 4, 16))
    """
    # solution: step 6
    check_module("gpt_flops", "model", model, GPT)
    shape = check_shape("gpt_flops", shape, "shape")
    config = model.config
    if len(shape) != 2:
        raise ValueError(
            f"count_flops: the input of {where(model, name)} must have shape (B, T) of token ids, got {shape}"
        )
    B, T = shape
    if T > config.context_length:
        raise ValueError(
            f"count_flops: the input of {where(model, name)} must have T <= context_length={config.context_length}, "
            f"got {shape}"
        )
    x_shape = (B, T, config.d_model)  # the embeddings: lookups, free
    flops, x_shape = module_flops(model.blocks, x_shape, join(name, "blocks"))
    _, x_shape = module_flops(model.norm, x_shape, join(name, "norm"))
    if model.head is None:
        flops += 2 * B * T * config.d_model * config.vocab_size  # tied: (B·T, C) @ (C, V)
    else:
        head_flops, _ = module_flops(model.head, x_shape, join(name, "head"))
        flops += head_flops
    return flops, (B, T, config.vocab_size)


# --- step 3: latency on an injectable clock --------------------------------------------------


@dataclass(frozen=True)
class LatencyStats:
    """What ``measure_latency`` returns: the timed samples and their statistics, in seconds."""

    samples: tuple[float, ...]  # one duration per timed call, in call order
    median: float  # the 50th percentile
    p90: float
    p99: float
    mean: float
    std: float  # population standard deviation (ddof=0)

    def __str__(self) -> str:
        """Given: ``"median 1.234 ms, p90 1.500 ms, p99 2.000 ms, mean 1.300 ± 0.100 ms (30 runs)"``."""
        ms = 1e3
        return (
            f"median {self.median * ms:.3f} ms, p90 {self.p90 * ms:.3f} ms, p99 {self.p99 * ms:.3f} ms, "
            f"mean {self.mean * ms:.3f} ± {self.std * ms:.3f} ms ({len(self.samples)} runs)"
        )


def exhausted(op: str) -> ValueError:
    """Given: the error for a clock that raised StopIteration (a fake clock's iterator ran out)."""
    return ValueError(
        f"{op}: the clock must return a reading at every call, got StopIteration (an exhausted iterator?)"
    )


def timed_call(op: str, clock: Callable[[], float], since: float, fn: Callable, *args) -> tuple[float, float, object]:
    """``start = clock(); out = fn(*args); stop = clock()``, then both readings checked.

    The one place where ``measure_latency`` and ``profile`` read their clock. Nothing but the
    call sits between the two reads: the readings are checked after the second one. A reading
    must be a real number (not a bool), finite once converted with ``float``, and never below
    the reading before it: ``since <= start <= stop``, ``since`` being the previous call's
    ``stop`` (``-math.inf`` for the first), so a clock may not go backwards within a call nor
    between two calls.

    Args:
        op: the caller's name, for errors (``"measure_latency"``, ``"profile"``).
        clock: called with no arguments, twice.
        since: the clock's previous reading, a float (``-math.inf`` if none).
        fn: called once, as ``fn(*args)``.
        *args: fn's arguments.
    Returns:
        ``(start, stop, out)``: the two readings as Python floats, and what fn returned.
    Raises:
        TypeError: ``"measure_latency: the clock must return a real number, got str"``.
        ValueError: ``"measure_latency: the clock must return a finite number, got nan"`` (inf,
            or an int too large for a float, too); ``"measure_latency: the clock must never go
            backwards, got 2.0 then 1.5"``; ``"measure_latency: the clock must return a reading
            at every call, got StopIteration (an exhausted iterator?)"`` (the given ``exhausted``).
        What fn raises, a StopIteration included.
    Complexity:
        One call of fn, two clock reads.
    Example:
        >>> ticks = iter([1, 3])
        >>> timed_call("measure_latency", lambda: next(ticks), -math.inf, abs, -2)
        (1.0, 3.0, 2)
    """
    # solution: step 3
    # NOTE: a try costs nothing until something is raised (Python 3.11); each wraps one read
    # only, so a StopIteration that fn raises is fn's, and propagates as it is.
    try:
        start = clock()
    except StopIteration as err:
        raise exhausted(op) from err
    out = fn(*args)
    try:
        stop = clock()
    except StopIteration as err:
        raise exhausted(op) from err
    readings = []
    for value in (start, stop):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: the clock must return a real number, got {type_name(value)}")
        try:
            reading = float(value)
        except OverflowError:  # an int (or Fraction) past float64's range
            raise ValueError(
                f"{op}: the clock must return a finite number, got {type_name(value)} too large for a float"
            ) from None
        if not math.isfinite(reading):
            raise ValueError(f"{op}: the clock must return a finite number, got {reading}")
        if reading < since:
            raise ValueError(f"{op}: the clock must never go backwards, got {since} then {reading}")
        readings.append(reading)
        since = reading
    return readings[0], readings[1], out


def measure_latency(
    fn: Callable[[], object], *, warmup: int = 5, repeats: int = 50, clock: Callable[[], float] = time.perf_counter
) -> LatencyStats:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times, each between two clock reads.

    Warm-up absorbs first-call costs (NumPy's buffers, caches, the allocator) that a steady
    stream of requests never pays. Each timed call is exactly ``start = clock(); fn(); stop =
    clock()`` (through ``timed_call``), and its sample is ``stop - start``, the two readings
    converted with ``float`` first: the clock is read 2·repeats times in all, never during
    warm-up, and nothing but the call sits between the two reads of a sample. The readings,
    in the order they were read, must never decrease: within a sample (``stop >= start``) and
    between samples (the next ``start`` >= the last ``stop``), as a monotonic clock's do.

    Statistics, over the samples (as a float64 array):
    ``median, p90, p99 = np.percentile(samples, [50, 90, 99])`` with NumPy's default method,
    ``"linear"`` (interpolating between the two nearest ranks; the median so computed equals
    ``np.median``); ``mean = np.mean(samples)``; ``std = np.std(samples)`` (ddof=0). So
    ``median <= p90 <= p99``. Quote p99 only with enough repeats: with 50, it lies between the
    largest two samples.

    Args:
        fn: called with no arguments; what it returns is ignored.
        warmup: untimed calls first, an integer >= 0.
        repeats: timed calls, an integer >= 1.
        clock: returns the time in seconds as a finite real number, and never goes backwards,
            neither within a sample nor between two (``time.perf_counter``; a test passes a
            fake one).
    Returns:
        A ``LatencyStats``: ``samples`` a tuple of ``repeats`` floats in call order, and the
        statistics as Python floats.
    Raises:
        TypeError: ``"measure_latency: fn must be callable, got int"`` (clock too, the given
            ``check_callable``); ``"measure_latency: the clock must return a real number, got str"``.
        ValueError: ``"measure_latency: repeats must be an integer >= 1, got 0"``;
            ``"measure_latency: warmup must be an integer >= 0, got -1"`` (a bool or a float too);
            ``"measure_latency: the clock must return a finite number, got nan"`` (inf, or an
            int too large for a float, too); ``"measure_latency: the clock must never go
            backwards, got 2.0 then 1.5"`` (within a sample or between two);
            ``"measure_latency: the clock must return a reading at every call, got
            StopIteration (an exhausted iterator?)"``.
        What fn raises, as it is (a StopIteration too: only the clock's is renamed).
    Complexity:
        (warmup + repeats) calls of fn; 2·repeats clock reads; O(repeats) memory.
    Example:
        >>> ticks = iter([0.0, 1.0, 1.0, 3.0, 3.0, 6.0])
        >>> stats = measure_latency(lambda: None, warmup=2, repeats=3, clock=lambda: next(ticks))
        >>> stats.samples, stats.median, stats.mean
        ((1.0, 2.0, 3.0), 2.0, 2.0)
    """
    # solution: step 3
    check_callable("measure_latency", "fn", fn)
    check_callable("measure_latency", "clock", clock)
    for what, value, minimum in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"measure_latency: {what} must be an integer >= {minimum}, got {value!r}")
    for _ in range(warmup):
        fn()
    samples = []
    since = -math.inf  # the clock's previous reading: it may not go backwards between samples either
    for _ in range(repeats):
        start, since, _ = timed_call("measure_latency", clock, since, fn)  # since <- this call's stop
        samples.append(since - start)
    times = np.array(samples, dtype=np.float64)
    median, p90, p99 = np.percentile(times, [50, 90, 99])  # method="linear", NumPy's default
    return LatencyStats(
        samples=tuple(samples),
        median=float(median),
        p90=float(p90),
        p99=float(p99),
        mean=float(np.mean(times)),
        std=float(np.std(times)),
    )


# --- step 4: peak memory -----------------------------------------------------------------------


def peak_memory(fn: Callable[[], object]) -> int:
    """The peak of memory ``fn()`` held at once, in bytes, above what was allocated when it began.

    Measured with Python's ``tracemalloc``: it sees every allocation made through Python's
    allocators, and NumPy reports its array buffers to it too, so NumPy arrays are counted. It
    does not see memory that C libraries allocate on their own (a BLAS's scratch buffers), nor
    memory shared or mapped from files. Tracing slows down code that allocates (each allocation is
    recorded): measure memory and time in separate runs.

    ``fn`` runs once, between ``tracemalloc.start()`` (or ``reset_peak()`` when tracing is
    already on) and the read of the peak. Memory that fn frees before returning still counts at
    its peak: a function that builds two 1 MB temporaries one after the other peaks near 1 MB,
    and one that holds them together near 2 MB. What fn returns is dropped after the reading.
    Tracing is left as it was found (stopped, unless it was on), even when fn raises. fn must
    leave tracing on: a fn that stops it (``tracemalloc.stop()``) has erased the peak, and is
    refused with an error rather than read as 0 bytes.

    Args:
        fn: called with no arguments, once.
    Returns:
        An int >= 0: ``peak - current`` traced bytes, ``current`` read just before the call.
    Raises:
        TypeError: ``"peak_memory: fn must be callable, got ndarray"``; what fn raises.
        ValueError: ``"peak_memory: fn must leave tracemalloc tracing, got tracing stopped by
            the call"``.
    Complexity:
        One call of fn, slowed by tracing; tracemalloc's own bookkeeping is not counted.
    Example:
        >>> peak_memory(lambda: np.ones(1_000_000, dtype=np.uint8)) >= 1_000_000
        True
    """
    # solution: step 4
    check_callable("peak_memory", "fn", fn)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()  # NOTE: the peak so far would include what came before fn
        before, _ = tracemalloc.get_traced_memory()
        fn()
        if not tracemalloc.is_tracing():  # NOTE: stopped, tracemalloc reads (0, 0): the peak is lost
            raise ValueError("peak_memory: fn must leave tracemalloc tracing, got tracing stopped by the call")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - before)


# --- step 5: a per-layer profile of one forward pass ---------------------------------------------


@dataclass(frozen=True)
class ProfileRow:
    """One layer of a ``profile``: what it is, what it costs, how long it took."""

    name: str  # its name in the model: "0", "1", ... for a Sequential's members
    kind: str  # its class name, e.g. "Conv2d"
    parameters: int  # count_parameters(layer)
    flops: int  # module_flops on the shape it received
    seconds: float  # one call, between two clock reads
    output_shape: tuple[int, ...]


def profile(
    model: Sequential, x: Tensor, *, warmup: int = 1, clock: Callable[[], float] = time.perf_counter
) -> list[ProfileRow]:
    """One forward pass of ``model`` on ``x``, layer by layer: parameters, FLOPs and time of each.

    Inference, as it would be served: the model is put in eval mode (Dropout off, BatchNorm2d
    on its running statistics, which are then not updated) and every module's ``training`` flag
    is restored afterwards, even if a layer raises; the passes run under 03's ``no_grad`` (no
    graph is kept). First ``warmup`` untimed passes of the whole model (first calls pay for
    NumPy's and the allocator's set-up). Then the timed pass: for each member of the
    Sequential, in order, its FLOPs from ``module_flops`` on the shape it is about to receive
    (so a shape that does not fit is refused before the layer runs), then exactly ``start =
    clock(); x = layer(x); stop = clock()``: 2 clock reads per layer, none elsewhere, nothing
    but the call between them (``timed_call``). A row's ``seconds`` is a Python float.

    Args:
        model: a 04 Sequential of layers ``module_flops`` knows (a member may be a Sequential:
            it is one row).
        x: the input, an autograd Tensor of the shape the model takes.
        warmup: untimed passes first, an integer >= 0.
        clock: as ``measure_latency``'s, its readings checked by the same ``timed_call`` (a
            finite real number each, converted with ``float``; never backwards, within a layer
            nor between two).
    Returns:
        One ``ProfileRow`` per member, in order; ``sum(row.flops) == count_flops(model, x.shape)``.
    Raises:
        TypeError: ``"profile: model must be a Sequential, got Linear"`` (its members are what
            it times); ``"profile: x must be a Tensor, got ndarray"``; ``"profile: clock must be
            callable, got float"``; ``module_flops``'s errors (before any layer runs).
        ValueError: ``"profile: warmup must be an integer >= 0, got -1"``; ``timed_call``'s
            errors for the clock's readings, named ``profile`` (``"profile: the clock must never
            go backwards, got 2.0 then 1.5"``, and the others, the TypeError too).
    Complexity:
        (warmup + 1) forward passes, plus 2 clock reads per layer.
    Example:
        >>> rows = profile(Sequential(Linear(8, 16), ReLU()), Tensor(np.ones((4, 8), dtype=np.float32)))
        >>> [(row.name, row.kind, row.parameters, row.flops, row.output_shape) for row in rows]
        [('0', 'Linear', 144, 1024, (4, 16)), ('1', 'ReLU', 0, 0, (4, 16))]
    """
    # solution: step 5
    if not isinstance(model, Sequential):
        raise TypeError(f"profile: model must be a Sequential, got {type_name(model)}")
    if not isinstance(x, Tensor):
        raise TypeError(f"profile: x must be a Tensor, got {type_name(x)}")
    check_callable("profile", "clock", clock)
    if isinstance(warmup, (bool, np.bool_)) or not isinstance(warmup, numbers.Integral) or warmup < 0:
        raise ValueError(f"profile: warmup must be an integer >= 0, got {warmup!r}")
    module_flops(model, tuple(x.shape))  # every shape checked before anything runs
    modes = [(module, module.training) for _, module in model.named_modules()]
    rows = []
    try:
        model.eval()
        with no_grad():
            for _ in range(warmup):
                model(x)
            since = -math.inf  # the clock's previous reading
            for name, layer in model.named_children():
                flops, _ = module_flops(layer, tuple(x.shape), name)
                start, since, x = timed_call("profile", clock, since, layer, x)  # x = layer(x) between two reads
                rows.append(
                    ProfileRow(name, type(layer).__name__, count_parameters(layer), flops, since - start, x.shape)
                )
    finally:
        for module, mode in modes:
            module.training = mode
    return rows


def format_profile(rows: list[ProfileRow]) -> str:
    """Given: ``profile``'s rows as a table, one line per layer and a total line.

    Columns: name, type, output shape, parameters, FLOPs (thousands separated), time in ms and
    its share of the total.
    """
    total_time = sum(row.seconds for row in rows)
    header = f"{'name':<6} {'type':<12} {'output':<18} {'params':>10} {'FLOPs':>14} {'time ms':>9} {'share':>6}"
    lines = [header, "-" * len(header)]
    for row in rows:
        share = row.seconds / total_time if total_time > 0 else 0.0
        lines.append(
            f"{row.name:<6} {row.kind:<12} {row.output_shape!s:<18} {row.parameters:>10,} {row.flops:>14,} "
            f"{row.seconds * 1e3:>9.3f} {share:>6.1%}"
        )
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<6} {'':<12} {'':<18} {sum(r.parameters for r in rows):>10,} {sum(r.flops for r in rows):>14,} "
        f"{total_time * 1e3:>9.3f} {1.0 if total_time > 0 else 0.0:>6.1%}"
    )
    return "\n".join(lines)
