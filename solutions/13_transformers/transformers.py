"""13 transformers: normalization, the pre-norm block, and a small GPT that writes tokens.

A transformer block is two residual lines: ``x = x + attn(norm1(x))`` mixes information
between positions (kata 12's attention), ``x = x + ffn(norm2(x))`` transforms each position on
its own (a two-layer MLP). The norms keep every row of features at a fixed scale, so that a
stack of blocks trains: ``LayerNorm`` (zero mean, unit variance, then a learned scale and
shift; GPT-2) and ``RMSNorm`` (unit root mean square, a learned scale only; LLaMA). A ``GPT``
is token embeddings (11), positions (learned, or RoPE inside attention), L blocks, a final
norm and a head that turns each position's vector into V logits, the scores of the next token.
``generate`` samples from those logits one token at a time.

Shapes (one vocabulary): B batch, T positions, C = d_model features, H heads, V vocabulary,
F = d_ff the feed-forward width, L layers; ``...`` any leading dimensions.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from tinytorch.attention import MultiHeadAttention
from tinytorch.autograd import Function, Tensor, no_grad
from tinytorch.embeddings import Embedding, PositionalEmbedding, check_dtype, check_ids, check_size
from tinytorch.layers import Linear, Module, Parameter, Sequential, generator, linear
from tinytorch.tensor import shown, type_name

# --- given: checks ----------------------------------------------------------------------------


def check_features(op: str, x, dim: int, dtype: np.dtype) -> None:
    """Given: raise unless ``x`` is a Tensor of ``dtype`` whose last dimension is ``dim``.

    TypeError ``"LayerNorm: input must be a Tensor, got ndarray"`` and
    ``"LayerNorm: input must have dtype float32, got float64"``; ValueError
    ``"LayerNorm: input must have 8 features in its last dimension, got (2, 4)"`` (a 0-d input too).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type_name(x)}")
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ValueError(f"{op}: input must have {dim} features in its last dimension, got {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"{op}: input must have dtype {dtype}, got {x.dtype}")


def check_eps(op: str, eps) -> float:
    """Given: ``eps`` as a float, finite and > 0.

    Raises ValueError ``"LayerNorm: eps must be a real number > 0, got 0.0"`` (inf, nan, a bool too).
    """
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not 0 < eps < math.inf:
        raise ValueError(f"{op}: eps must be a real number > 0, got {shown(eps)}")
    return float(eps)


def check_choice(op: str, what: str, value, choices: tuple) -> None:
    """Given: raise unless ``value`` is one of ``choices`` (strings).

    ValueError ``"GPTConfig: positions must be one of 'learned', 'rope', got 'sin'"``.
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{op}: {what} must be one of {listed}, got {shown(value)}")


def check_bool(op: str, what: str, value) -> bool:
    """Given: TypeError ``"GPTConfig: tie_weights must be a bool, got int"`` unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be a bool, got {type_name(value)}")
    return bool(value)


def check_sampling(op: str, temperature, top_k) -> None:
    """Given: raise unless temperature is a finite real >= 0 and top_k is None or an integer >= 1.

    ValueError ``"generate: temperature must be a finite real number >= 0, got -1.0"`` (a bool
    or a string too); ``"generate: top_k must be an integer >= 1, got 0"`` (via 11's check_size).
    """
    if (
        isinstance(temperature, (bool, np.bool_))
        or not isinstance(temperature, numbers.Real)
        or not 0 <= temperature < math.inf
    ):
        raise ValueError(f"{op}: temperature must be a finite real number >= 0, got {shown(temperature)}")
    if top_k is not None:
        check_size(op, "top_k", top_k)


def check_sequence(ids, vocab_size: int) -> np.ndarray:
    """Given: ids as an integer ndarray (B, T) with B, T >= 1, each in [0, vocab_size).

    11's ``check_ids`` (op ``"GPT"``), then ValueError
    ``"GPT: ids must have shape (B, T) with B, T >= 1, got (5,)"``.
    """
    ids = check_ids("GPT", ids, vocab_size)
    if ids.ndim != 2 or 0 in ids.shape:
        raise ValueError(f"GPT: ids must have shape (B, T) with B, T >= 1, got {ids.shape}")
    return ids


def check_generate(
    op: str, config: GPTConfig, ids, max_new_tokens, temperature, top_k, seed
) -> tuple[np.ndarray, int, np.random.Generator]:
    """Given: ``generate``'s checks and its generator rule (kata 17's ``generate_cached`` calls it too).

    In this order: ``check_sequence(ids, config.vocab_size)``; ``max_new_tokens`` with 11's
    ``check_size`` (minimum 0): ``"generate: max_new_tokens must be an integer >= 0, got -1"``;
    ``check_sampling(op, temperature, top_k)``; the seed, None or an integer >= 0:
    ``"generate: seed must be an integer >= 0, got -1"`` (the value as 01's given ``shown``
    writes it: an object such as a generator by its type, ``got Generator``); then
    ``"generate: T + max_new_tokens must be at most context_length=8, got 3 + 6 = 9"`` (refused,
    never cropped). The generator: one ``np.random.default_rng(seed)`` made here, once per
    call, before any token; with seed None, 04's ``generator(None)`` (``manual_seed`` sets it).

    Returns:
        ``(ids, max_new_tokens, rng)``: ids as an int ndarray (B, T), max_new_tokens an int, the generator.
    """
    ids = check_sequence(ids, config.vocab_size)
    T = ids.shape[1]
    max_new_tokens = check_size(op, "max_new_tokens", max_new_tokens, minimum=0)
    check_sampling(op, temperature, top_k)
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"{op}: seed must be an integer >= 0, got {shown(seed)}")
    rng = generator(None) if seed is None else np.random.default_rng(int(seed))
    limit = config.context_length
    if T + max_new_tokens > limit:
        raise ValueError(
            f"{op}: T + max_new_tokens must be at most context_length={limit}, "
            f"got {T} + {max_new_tokens} = {T + max_new_tokens}"
        )
    return ids, max_new_tokens, rng


# --- step 1: LayerNorm ------------------------------------------------------------------------


class LayerNormFunction(Function):
    """``LayerNormFunction.apply(x, weight, bias, eps=eps)``: LayerNorm over the last dimension, one node."""

    @staticmethod
    def forward(ctx, x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, eps: float) -> np.ndarray:
        """``y = (x − μ) / √(σ² + eps) · weight + bias``, μ and σ² per row (the last dimension).

        σ² is the biased variance, ``mean((x − μ)²)`` (divides by C, as PyTorch). Saves the
        normalized rows x̂ = (x − μ)·rstd, ``rstd = 1/√(σ² + eps)`` per row, and the weight.

        Args:
            x: (..., C); weight, bias: (C,); one floating dtype. eps: a float > 0.
        Returns:
            (..., C), x's dtype.
        Complexity:
            O(N) time, N = x.size; memory: x̂ and the output (N each), rstd (N/C).
        Example:
            >>> LayerNormFunction.apply(Tensor([[1.0, 3.0]]), Tensor([1.0, 1.0]), Tensor([0.0, 0.0]), eps=0.0).numpy()
            array([[-1.,  1.]])
        """
        # solution: step 1
        mean = x.mean(axis=-1, keepdims=True)  # (..., 1)
        xhat = x - mean  # (..., C): centred, a new array
        var = np.mean(xhat * xhat, axis=-1, keepdims=True)  # (..., 1): the biased variance
        rstd = 1.0 / np.sqrt(var + eps)  # (..., 1)
        xhat *= rstd  # (..., C): normalized, in place (no second buffer)
        out = xhat * weight  # (..., C)
        out += bias
        ctx.save_for_backward(xhat, rstd, weight)
        return out

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """dL/dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·weight; dL/dweight = Σ g·x̂, dL/dbias = Σ g.

        The sums of the weight and bias gradients run over every leading dimension; each
        gradient is computed only when ``ctx.needs_input_grad`` asks for it (None otherwise).

        Args:
            grad: (..., C), dL/dy.
        Returns:
            ``(grad_x, grad_weight, grad_bias)``: (..., C), (C,), (C,), in the inputs' dtype.
        Complexity:
            O(N) time; a few (..., C) temporaries.
        """
        # solution: step 1
        xhat, rstd, weight = ctx.saved
        C = xhat.shape[-1]
        needs = ctx.needs_input_grad
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            ghat = grad * weight  # (..., C): dL/dx̂
            grad_x = ghat - ghat.mean(axis=-1, keepdims=True)  # (..., C)
            grad_x -= xhat * np.mean(ghat * xhat, axis=-1, keepdims=True)
            grad_x *= rstd
        if needs[1]:
            grad_weight = (grad * xhat).reshape(-1, C).sum(axis=0)  # (C,)
        if needs[2]:
            grad_bias = grad.reshape(-1, C).sum(axis=0)  # (C,)
        return grad_x, grad_weight, grad_bias


class LayerNorm(Module):
    """Normalize each row of features to mean 0 and variance 1, then scale and shift (Ba et al., 2016)."""

    def __init__(self, dim: int, eps: float = 1e-5, *, dtype=np.float32) -> None:
        """Create ``weight`` (ones) and ``bias`` (zeros), Parameters (dim,), as PyTorch's nn.LayerNorm.

        Keeps ``dim`` and ``eps``.

        Args:
            dim: C, an integer >= 1.
            eps: added to the variance, a real number > 0.
            dtype: of the parameters, floating-point.
        Raises:
            ValueError: ``"LayerNorm: dim must be an integer >= 1, got 0"``;
                ``"LayerNorm: eps must be a real number > 0, got 0.0"``.
            TypeError: ``"LayerNorm: dtype must be floating-point, got int64"`` (None and what is
                no dtype too: 11's ``check_dtype``).
        Complexity:
            2·C parameters.
        Example:
            >>> LayerNorm(4).weight.shape, LayerNorm(4).bias.numpy().tolist()
            ((4,), [0.0, 0.0, 0.0, 0.0])
        """
        # solution: step 1
        super().__init__()
        self.dim = check_size("LayerNorm", "dim", dim)
        self.eps = check_eps("LayerNorm", eps)
        dtype = check_dtype("LayerNorm", dtype)
        self.weight = Parameter(np.ones(self.dim, dtype=dtype))
        self.bias = Parameter(np.zeros(self.dim, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        """LayerNorm of every row of ``x`` over its last dimension, through ``LayerNormFunction``.

        Args:
            x: Tensor (..., C), the parameters' dtype (at least 1 dimension).
        Returns:
            Tensor (..., C): each row has mean ≈ bias and, before the scale, variance σ²/(σ² + eps).
        Raises:
            The given ``check_features``'s errors: ``"LayerNorm: input must have 8 features in
            its last dimension, got (2, 4)"``, ``"LayerNorm: input must have dtype float32, got float64"``.
        Complexity:
            O(N); memory: the output and the saved x̂ (N each).
        Example:
            >>> LayerNorm(2)(Tensor(np.array([[1.0, 3.0]], dtype=np.float32))).numpy().round(3).tolist()
            [[-1.0, 1.0]]
        """
        # solution: step 1
        check_features("LayerNorm", x, self.dim, self.weight.dtype)
        return LayerNormFunction.apply(x, self.weight, self.bias, eps=self.eps)


# --- step 2: RMSNorm --------------------------------------------------------------------------


class RMSNormFunction(Function):
    """``RMSNormFunction.apply(x, weight, eps=eps)``: RMSNorm over the last dimension, one node."""

    @staticmethod
    def forward(ctx, x: np.ndarray, weight: np.ndarray, *, eps: float) -> np.ndarray:
        """``y = x / √(mean(x²) + eps) · weight``, the mean per row; no centring, no bias.

        Saves x̂ = x·rstd, ``rstd = 1/√(mean(x²) + eps)`` per row, and the weight.

        Args:
            x: (..., C); weight: (C,); one floating dtype. eps: a float > 0.
        Returns:
            (..., C), x's dtype.
        Complexity:
            O(N) time; memory: x̂ and the output (N each), rstd (N/C).
        Example:
            >>> RMSNormFunction.apply(Tensor([[3.0, 4.0]]), Tensor([1.0, 1.0]), eps=0.0).numpy().round(4)
            array([[0.8485, 1.1314]])
        """
        # solution: step 2
        rstd = 1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)  # (..., 1)
        xhat = x * rstd  # (..., C)
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """dL/dx = rstd·(ĝ − x̂·mean(ĝ·x̂)) with ĝ = g·weight; dL/dweight = Σ g·x̂ over the leading dimensions.

        Args:
            grad: (..., C), dL/dy.
        Returns:
            ``(grad_x, grad_weight)``: (..., C), (C,); each only if ``ctx.needs_input_grad`` asks.
        Complexity:
            O(N) time; a few (..., C) temporaries.
        """
        # solution: step 2
        xhat, rstd, weight = ctx.saved
        C = xhat.shape[-1]
        needs = ctx.needs_input_grad
        grad_x = grad_weight = None
        if needs[0]:
            ghat = grad * weight  # (..., C)
            grad_x = ghat - xhat * np.mean(ghat * xhat, axis=-1, keepdims=True)
            grad_x *= rstd
        if needs[1]:
            grad_weight = (grad * xhat).reshape(-1, C).sum(axis=0)  # (C,)
        return grad_x, grad_weight


class RMSNorm(Module):
    """Scale each row of features to unit root mean square, then by a learned weight (Zhang & Sennrich, 2019)."""

    def __init__(self, dim: int, eps: float = 1e-6, *, dtype=np.float32) -> None:
        """Create ``weight`` (ones), a Parameter (dim,); keeps ``dim`` and ``eps``.

        Args:
            dim: C, an integer >= 1. eps: a real number > 0. dtype: floating-point.
        Raises:
            ValueError: ``"RMSNorm: dim must be an integer >= 1, got 0"``;
                ``"RMSNorm: eps must be a real number > 0, got -1.0"``.
            TypeError: ``"RMSNorm: dtype must be floating-point, got int64"`` (None too: 11's ``check_dtype``).
        Complexity:
            C parameters.
        Example:
            >>> [name for name, _ in RMSNorm(4).named_parameters()]
            ['weight']
        """
        # solution: step 2
        super().__init__()
        self.dim = check_size("RMSNorm", "dim", dim)
        self.eps = check_eps("RMSNorm", eps)
        dtype = check_dtype("RMSNorm", dtype)
        self.weight = Parameter(np.ones(self.dim, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        """RMSNorm of every row of ``x`` over its last dimension, through ``RMSNormFunction``.

        Args:
            x: Tensor (..., C), the weight's dtype.
        Returns:
            Tensor (..., C).
        Raises:
            ``check_features``'s errors, naming ``RMSNorm``.
        Complexity:
            O(N); memory: the output and the saved x̂.
        Example:
            >>> RMSNorm(2, eps=1e-12)(Tensor(np.array([[3.0, 4.0]]), dtype=np.float32)).numpy().round(4)
            array([[0.8485, 1.1314]], dtype=float32)
        """
        # solution: step 2
        check_features("RMSNorm", x, self.dim, self.weight.dtype)
        return RMSNormFunction.apply(x, self.weight, eps=self.eps)


NORMS = {"layer": LayerNorm, "rms": RMSNorm}


def make_norm(kind: str, dim: int, dtype) -> Module:
    """Given: ``LayerNorm(dim)`` for ``"layer"``, ``RMSNorm(dim)`` for ``"rms"`` (default eps each).

    Raises ValueError ``"norm: kind must be one of 'layer', 'rms', got 'batch'"``.
    """
    check_choice("norm", "kind", kind, tuple(NORMS))
    return NORMS[kind](dim, dtype=dtype)


# --- step 3: the feed-forward block -----------------------------------------------------------


class FeedForward(Module):
    """The position-wise MLP of a block: ``proj(gelu(fc(x)))``, C -> F -> C."""

    def __init__(
        self, d_model: int, d_ff: int, *, bias: bool = True, rng: np.random.Generator | None = None, dtype=np.float32
    ) -> None:
        """Create ``fc`` = Linear(C, F) and ``proj`` = Linear(F, C) (04's init), in that order from ``rng``.

        Args:
            d_model: C, an integer >= 1. d_ff: F, an integer >= 1 (GPT uses 4·C).
            bias: whether both Linears have a bias. rng: a Generator or None (04's generator).
            dtype: floating-point.
        Raises:
            ValueError: ``"FeedForward: d_ff must be an integer >= 1, got 0"`` (d_model alike).
            TypeError: ``"FeedForward: dtype must be floating-point, got None"`` (11's ``check_dtype``,
                before 04's Linear, which would read None as float64); 04's Linear's errors
                (``"Linear: bias must be a bool, got int"``, rng).
        Complexity:
            2·C·F + F + C parameters with biases (2·C·F without).
        Example:
            >>> FeedForward(4, 16).fc.weight.shape, FeedForward(4, 16).proj.weight.shape
            ((16, 4), (4, 16))
        """
        # solution: step 3
        super().__init__()
        self.d_model = check_size("FeedForward", "d_model", d_model)
        self.d_ff = check_size("FeedForward", "d_ff", d_ff)
        dtype = check_dtype("FeedForward", dtype)
        rng = generator(rng, "FeedForward")
        self.fc = Linear(self.d_model, self.d_ff, bias, rng=rng, dtype=dtype)
        self.proj = Linear(self.d_ff, self.d_model, bias, rng=rng, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        """``proj(gelu(fc(x)))``, GELU being 02's tanh approximation (``Tensor.gelu``).

        Args:
            x: Tensor (..., C), at least 2 dimensions (04's Linear).
        Returns:
            Tensor (..., C).
        Raises:
            04's Linear's errors: ``"Linear: input must have 4 features in its last dimension, got (2, 3)"``.
        Complexity:
            4·R·C·F FLOPs, R the rows; memory: two (..., F) activations and the output.
        Example:
            >>> FeedForward(4, 16)(Tensor(np.ones((2, 3, 4), dtype=np.float32))).shape
            (2, 3, 4)
        """
        # solution: step 3
        return self.proj(self.fc(x).gelu())  # (..., C) -> (..., F) -> (..., C)


# --- step 4: the pre-norm transformer block ---------------------------------------------------


class TransformerBlock(Module):
    """A pre-norm decoder block (GPT-2): causal self-attention, then the MLP, each on a residual line."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        d_ff: int | None = None,
        rope: bool = False,
        *,
        norm: str = "layer",
        bias: bool = True,
        rope_base: float = 10000.0,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        """Create ``norm1``, ``attn``, ``norm2``, ``ffn``, in that order (the order of ``rng``'s draws).

        ``attn`` is kata 12's ``MultiHeadAttention(d_model, n_heads, n_kv_heads, bias=bias,
        rope=rope, rope_base=rope_base, rng=rng, dtype=dtype)``, which validates the head
        counts; ``ffn`` is ``FeedForward(d_model, d_ff, bias=bias, ...)``; the norms are
        ``make_norm(norm, d_model, dtype)``.

        Args:
            d_model: C. n_heads: H, dividing C. n_kv_heads: None (= H) or dividing H.
            d_ff: F, None meaning 4·C. rope: whether attention rotates q and k (11's rope).
            norm: ``"layer"`` or ``"rms"``. bias: for every Linear. rope_base: RoPE's base.
            rng: a Generator or None (04's). dtype: floating-point.
        Raises:
            ValueError: ``"norm: kind must be one of 'layer', 'rms', got 'batch'"``; kata 12's
                and ``FeedForward``'s errors for the sizes.
        Complexity:
            Parameters: 2·C² + 2·C·C_kv (attention, C_kv = n_kv_heads·C/H) + 2·C·F
            + (2·C + 2·C_kv + F + C with biases) + the norms (2·2·C for LayerNorm, 2·C for RMSNorm).
        Example:
            >>> [name for name, _ in TransformerBlock(8, 2).named_children()]
            ['norm1', 'attn', 'norm2', 'ffn']
        """
        # solution: step 4
        super().__init__()
        d_ff = 4 * d_model if d_ff is None else d_ff
        rng = generator(rng, "TransformerBlock")
        self.norm1 = make_norm(norm, d_model, dtype)
        self.attn = MultiHeadAttention(
            d_model, n_heads, n_kv_heads, bias=bias, rope=rope, rope_base=rope_base, rng=rng, dtype=dtype
        )
        self.norm2 = make_norm(norm, d_model, dtype)
        self.ffn = FeedForward(d_model, d_ff, bias=bias, rng=rng, dtype=dtype)

    def forward(self, x: Tensor, offset: int = 0, attention=None) -> Tensor:
        """The two residual lines, with causal attention (query t sees keys 0 .. t).

        ``offset`` is the position of x's first token, passed on to attention (RoPE).
        ``attention``, when given, replaces ``self.attn(h, is_causal=True, offset=offset)`` in the
        first residual line: it is called once, as ``attention(norm1(x))``, and its Tensor
        (B, T, C) is added to x (kata 17 passes its attention over a KV cache, which knows the
        positions itself; the offset is then checked but passed nowhere).

        Args:
            x: Tensor (B, T, C).
            offset: an integer >= 0.
            attention: None (self.attn, causal), or a callable Tensor (B, T, C) -> Tensor (B, T, C).
        Returns:
            Tensor (B, T, C).
        Raises:
            TypeError: ``"TransformerBlock: input must be a Tensor, got ndarray"``;
                ``"TransformerBlock: attention must be callable or None, got int"``.
            ValueError: ``"TransformerBlock: input must have 3 dimensions (B, T, C), got (4, 8)"``;
                ``"TransformerBlock: offset must be an integer >= 0, got -1"`` (11's check_size:
                checked here, because attention ignores offset without RoPE); the norms' and
                attention's errors.
        Complexity:
            O(B·T·C² + B·H·T²·D) time (the Linears, the scores); memory: the saved activations
            of each sub-layer, among them attention's B·H·T² probabilities.
        Example:
            >>> TransformerBlock(8, 2)(Tensor(np.zeros((2, 3, 8), dtype=np.float32))).shape
            (2, 3, 8)
        """
        # solution: step 4
        if not isinstance(x, Tensor):
            raise TypeError(f"TransformerBlock: input must be a Tensor, got {type_name(x)}")
        if x.ndim != 3:
            raise ValueError(f"TransformerBlock: input must have 3 dimensions (B, T, C), got {x.shape}")
        offset = check_size("TransformerBlock", "offset", offset, minimum=0)
        if attention is not None and not callable(attention):
            raise TypeError(f"TransformerBlock: attention must be callable or None, got {type_name(attention)}")
        h = self.norm1(x)  # (B, T, C)
        x = x + (self.attn(h, is_causal=True, offset=offset) if attention is None else attention(h))  # (B, T, C)
        x = x + self.ffn(self.norm2(x))  # (B, T, C)
        return x


# --- step 5: the GPT --------------------------------------------------------------------------


@dataclass(frozen=True)
class GPTConfig:
    """The sizes and choices of a GPT; checked when made, immutable afterwards.

    Fields: ``vocab_size`` V; ``context_length`` the most positions a forward sees; ``d_model`` C;
    ``n_heads`` H; ``n_layers`` L; ``n_kv_heads`` (None: H; after checking, always an int);
    ``d_ff`` F (None: 4·C; after checking, always an int); ``positions``: ``"learned"`` (a
    PositionalEmbedding added to the tokens) or ``"rope"`` (attention rotates q and k);
    ``norm``: ``"layer"`` or ``"rms"``; ``tie_weights``: the head is the token table (logits =
    x @ tok_embᵀ); ``bias``: every Linear has a bias (LayerNorm always has one); ``rope_base``;
    ``dtype`` (stored as a ``np.dtype``).
    """

    vocab_size: int
    context_length: int
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    n_kv_heads: int | None = None
    d_ff: int | None = None
    positions: str = "learned"
    norm: str = "layer"
    tie_weights: bool = True
    bias: bool = True
    rope_base: float = 10000.0
    dtype: object = np.float32

    def __post_init__(self) -> None:
        """Check every field; fill n_kv_heads and d_ff when None, and make dtype a ``np.dtype``.

        Raises:
            ValueError: ``"GPTConfig: vocab_size must be an integer >= 1, got 0"`` (every size,
                n_kv_heads and d_ff when given, alike; a bool or a float too);
                ``"GPTConfig: d_model must be divisible by n_heads, got d_model=10, n_heads=4"``;
                ``"GPTConfig: n_heads must be divisible by n_kv_heads, got n_heads=4, n_kv_heads=3"``;
                ``"GPTConfig: positions must be one of 'learned', 'rope', got 'sin'"`` (norm alike);
                ``"GPTConfig: rope needs an even head dimension d_model // n_heads, got 3"``;
                ``"GPTConfig: rope_base must be a real number > 1, got 1.0"``.
            TypeError: ``"GPTConfig: tie_weights must be a bool, got int"`` (bias alike);
                ``"GPTConfig: dtype must be floating-point, got int64"`` (None and ``'x'`` too:
                11's ``check_dtype``).
        Complexity:
            O(1).
        Example:
            >>> GPTConfig(vocab_size=16, context_length=8, d_model=32).d_ff
            128
        """
        # solution: step 5
        for name in ("vocab_size", "context_length", "d_model", "n_heads", "n_layers"):
            check_size("GPTConfig", name, getattr(self, name))
        n_kv_heads = self.n_heads if self.n_kv_heads is None else check_size("GPTConfig", "n_kv_heads", self.n_kv_heads)
        d_ff = 4 * self.d_model if self.d_ff is None else check_size("GPTConfig", "d_ff", self.d_ff)
        if self.d_model % self.n_heads != 0:
            raise ValueError(
                f"GPTConfig: d_model must be divisible by n_heads, got d_model={self.d_model}, n_heads={self.n_heads}"
            )
        if self.n_heads % n_kv_heads != 0:
            raise ValueError(
                "GPTConfig: n_heads must be divisible by n_kv_heads, "
                f"got n_heads={self.n_heads}, n_kv_heads={n_kv_heads}"
            )
        check_choice("GPTConfig", "positions", self.positions, ("learned", "rope"))
        check_choice("GPTConfig", "norm", self.norm, tuple(NORMS))
        head_dim = self.d_model // self.n_heads
        if self.positions == "rope" and head_dim % 2 != 0:
            raise ValueError(f"GPTConfig: rope needs an even head dimension d_model // n_heads, got {head_dim}")
        check_bool("GPTConfig", "tie_weights", self.tie_weights)
        check_bool("GPTConfig", "bias", self.bias)
        base = self.rope_base
        if isinstance(base, (bool, np.bool_)) or not isinstance(base, numbers.Real) or not 1 < base < math.inf:
            raise ValueError(f"GPTConfig: rope_base must be a real number > 1, got {shown(base)}")
        # NOTE: a frozen dataclass refuses `self.x = ...`; object.__setattr__ is the documented way in.
        object.__setattr__(self, "n_kv_heads", n_kv_heads)
        object.__setattr__(self, "d_ff", d_ff)
        object.__setattr__(self, "dtype", check_dtype("GPTConfig", self.dtype))


class GPT(Module):
    """A decoder-only transformer: token embeddings, positions, L pre-norm blocks, a final norm, a head."""

    def __init__(self, config: GPTConfig, *, rng: np.random.Generator | None = None) -> None:
        """Build the model of ``config``; ``rng`` (or 04's generator) draws every weight.

        ``rng = generator(rng, "GPT")`` (04's) comes first, after the config check, so that a bad
        rng is named ``GPT``, not the Embedding it would reach.
        Attributes, created in this order (the order of the draws): ``tok_emb`` (11's
        Embedding(V, C)), ``pos_emb`` (11's PositionalEmbedding(context_length, C), or None
        with RoPE), ``blocks`` (04's Sequential of L ``TransformerBlock``, named
        ``blocks.0`` ...), ``norm`` (the final norm), ``head`` (Linear(C, V, bias=False), or
        None when ``tie_weights``: the head is then ``tok_emb.weight``). Keeps ``config``.

        Init: 11's N(0, 1) tables are scaled by 0.02 (GPT-2's N(0, 0.02²)), in place, so a
        tied head's first logits are near 0; Linears keep 04's init; norms start as ones
        (and zeros).

        Args:
            config: a GPTConfig.
            rng: a np.random.Generator or None.
        Raises:
            TypeError: ``"GPT: config must be a GPTConfig, got dict"``;
                ``"GPT: rng must be a np.random.Generator or None, got int (...)"``.
        Complexity:
            Parameters: V·C (+ context_length·C learned positions) + L·(block) + the final
            norm (+ C·V untied head); the lesson writes the whole formula.
        Example:
            >>> GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2)).head is None
            True
        """
        # solution: step 5
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT: config must be a GPTConfig, got {type_name(config)}")
        rng = generator(rng, "GPT")
        self.config = config
        c = config
        self.tok_emb = Embedding(c.vocab_size, c.d_model, rng=rng, dtype=c.dtype)
        self.tok_emb.weight.data *= 0.02  # GPT-2's init, N(0, 0.02²)
        self.pos_emb = None
        if c.positions == "learned":
            self.pos_emb = PositionalEmbedding(c.context_length, c.d_model, rng=rng, dtype=c.dtype)
            self.pos_emb.weight.data *= 0.02
        blocks = [
            TransformerBlock(
                c.d_model,
                c.n_heads,
                c.n_kv_heads,
                c.d_ff,
                c.positions == "rope",
                norm=c.norm,
                bias=c.bias,
                rope_base=c.rope_base,
                rng=rng,
                dtype=c.dtype,
            )
            for _ in range(c.n_layers)
        ]
        self.blocks = Sequential(*blocks)
        self.norm = make_norm(c.norm, c.d_model, c.dtype)
        self.head = None if c.tie_weights else Linear(c.d_model, c.vocab_size, bias=False, rng=rng, dtype=c.dtype)

    def embed(self, ids, offset: int = 0) -> Tensor:
        """The blocks' input: ``tok_emb(ids)``, plus ``pos_emb(T, offset)`` with learned positions.

        The first third of ``forward``; kata 17 calls it for each cached step.

        Args:
            ids: an integer ndarray or Tensor (B, T), B, T >= 1, each id in [0, V).
            offset: the position of ids' first token, an integer >= 0, with offset + T <= context_length.
        Returns:
            Tensor (B, T, C), config.dtype.
        Raises:
            The given ``check_sequence``'s errors (``"GPT: ids must have shape (B, T) with B, T >= 1,
            got (5,)"``, 11's ``"GPT: ids must be in [0, 16) ..."``);
            ValueError: ``"GPT: offset must be an integer >= 0, got -1"``;
                ``"GPT: offset + T must be at most context_length=8, got 9"``.
        Complexity:
            O(B·T·C); memory: one or two (B, T, C) arrays.
        Example:
            >>> GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2)).embed(np.array([[1, 2]]), 3).shape
            (1, 2, 8)
        """
        # solution: step 5
        c = self.config
        ids = check_sequence(ids, c.vocab_size)
        T = ids.shape[1]  # (B, T)
        offset = check_size("GPT", "offset", offset, minimum=0)
        if offset + T > c.context_length:
            raise ValueError(f"GPT: offset + T must be at most context_length={c.context_length}, got {offset + T}")
        x = self.tok_emb(ids)  # (B, T, C)
        if self.pos_emb is not None:
            x = x + self.pos_emb(T, offset)  # (B, T, C) + (T, C)
        return x

    def unembed(self, x: Tensor) -> Tensor:
        """The logits from the last block's output: the final norm, then the head.

        The head is ``linear(x, self.tok_emb.weight)`` (04's, x @ Eᵀ in one node) when tied,
        ``self.head(x)`` otherwise. The last third of ``forward``; kata 17 calls it too.

        Args:
            x: Tensor (B, T, C).
        Returns:
            Tensor (B, T, V).
        Raises:
            TypeError: ``"GPT: unembed's input must be a Tensor, got ndarray"``.
            ValueError: ``"GPT: unembed's input must have 3 dimensions (B, T, C), got (2, 8)"``;
                the final norm's errors (``"LayerNorm: input must have 8 features in its last
                dimension, got (1, 2, 4)"``).
        Complexity:
            O(B·T·C·V); memory: the norm's two (B, T, C) arrays and the (B, T, V) logits.
        Example:
            >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2))
            >>> model.unembed(Tensor(np.zeros((1, 2, 8), dtype=np.float32))).shape
            (1, 2, 16)
        """
        # solution: step 5
        if not isinstance(x, Tensor):
            raise TypeError(f"GPT: unembed's input must be a Tensor, got {type_name(x)}")
        if x.ndim != 3:
            raise ValueError(f"GPT: unembed's input must have 3 dimensions (B, T, C), got {x.shape}")
        x = self.norm(x)  # (B, T, C)
        if self.head is None:
            return linear(x, self.tok_emb.weight)  # (B, T, C) @ (C, V) -> (B, T, V)
        return self.head(x)  # (B, T, V)

    def forward(self, ids, offset: int = 0) -> Tensor:
        """The logits of the next token at every position: ids (B, T) -> (B, T, V).

        ``embed(ids, offset)``, then every block with ``offset``, then ``unembed``. Causal: the
        logits at t depend on ids[:, :t + 1] only. ``offset`` is the position of ids' first
        token (0 for a whole sequence; kata 17 passes the cache's length).

        Args:
            ids: an integer ndarray or Tensor (B, T), B, T >= 1, each id in [0, V).
            offset: an integer >= 0, with offset + T <= context_length.
        Returns:
            Tensor (B, T, V), config.dtype, in the graph when grad is enabled.
        Raises:
            ``embed``'s errors.
        Complexity:
            O(L·(B·T·C² + B·H·T²·D) + B·T·C·V) time; memory with grad: every block's saved
            activations (the lesson's formula) and the (B, T, V) logits.
        Example:
            >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2))
            >>> model(np.array([[1, 2, 3]])).shape
            (1, 3, 16)
        """
        # solution: step 5
        x = self.embed(ids, offset)  # (B, T, C)
        for block in self.blocks:
            x = block(x, offset)  # (B, T, C)
        return self.unembed(x)  # (B, T, V)

    # --- step 6: generation ------------------------------------------------------------------

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None, seed=None):
        """Append ``max_new_tokens`` tokens to every row of ``ids``, one at a time, under ``no_grad``.

        For each new position t: the logits of the whole sequence so far, ``self(out[:, :t])``
        (no cache: kata 17 adds one), of which the last position's, ``(B, V)``, go to
        ``sample_next(logits, temperature, top_k, rng)``. The arguments are checked, and the
        generator made, by the given ``check_generate``: one ``np.random.default_rng(seed)`` per
        call, before the first token; with seed None, 04's generator (``manual_seed`` sets it).
        sample_next's rule says how it is consumed.

        Refuses rather than crops: the prompt's T plus max_new_tokens must fit in
        context_length (a crop would shift every position, which a KV cache cannot follow).

        Args:
            ids: an integer ndarray or Tensor (B, T), T >= 1, each id in [0, V): the prompt.
            max_new_tokens: an integer >= 0.
            temperature: a finite real >= 0; 0 is greedy (no draw).
            top_k: None (every token) or an integer >= 1 (k >= V keeps every token).
            seed: None or an integer >= 0.
        Returns:
            ndarray (B, T + max_new_tokens) int64: the prompt, then the new tokens. No Tensor,
            no graph.
        Raises:
            The given ``check_generate``'s, in its order: ``check_sequence``'s for ids; ``check_sampling``'s
            (``"generate: temperature must be a finite real number >= 0, got -1.0"``,
            ``"generate: top_k must be an integer >= 1, got 0"``);
            ValueError: ``"generate: max_new_tokens must be an integer >= 0, got -1"``;
                ``"generate: seed must be an integer >= 0, got -1"`` (written with 01's given
                ``shown``: a generator by its type, ``got Generator``);
                ``"generate: T + max_new_tokens must be at most context_length=8, got 3 + 6 = 9"``.
        Complexity:
            max_new_tokens forwards of up to context_length positions: O(N·forward(T)); memory:
            one forward's temporaries at a time (no graph) and the output.
        Example:
            >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2))
            >>> model.generate(np.array([[1, 2]]), 3, seed=0).shape
            (1, 5)
        """
        # solution: step 6
        ids, max_new_tokens, rng = check_generate(
            "generate", self.config, ids, max_new_tokens, temperature, top_k, seed
        )
        B, T = ids.shape
        out = np.empty((B, T + max_new_tokens), dtype=np.int64)  # (B, T + N)
        out[:, :T] = ids
        with no_grad():
            for t in range(T, T + max_new_tokens):
                logits = self(out[:, :t])  # (B, t, V)
                out[:, t] = sample_next(logits.data[:, -1, :], temperature, top_k, rng)  # (B,)
        return out


def sample_next(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The next token of every row: greedy, or one draw from softmax(logits / temperature) over the top k.

    The rule, which kata 17 reproduces token for token:

    - ``temperature == 0``: greedy, ``np.argmax(logits, axis=-1)`` (the FIRST maximum on a
      tie); ``rng`` is checked (04's ``generator``) but not touched (no draw).
    - otherwise, in float64: ``z = logits / temperature``, refused unless every z is finite (a
      tiny temperature or a huge logit overflows to ±inf, and inf − inf is NaN); with ``top_k``, every z strictly
      below its row's k-th largest becomes −inf (ties with the k-th are kept, so more than k
      tokens may survive, as nanoGPT; k >= V keeps all); ``p = exp(z − max z)``,
      ``cdf = cumsum(p)`` divided by its last entry (so cdf[V−1] is exactly 1); then ONE call
      ``u = rng.random(B)`` (float64 in [0, 1), row i uses u[i]: one draw per row per token);
      the token is the first index whose cdf exceeds u, ``(cdf <= u[:, None]).sum(axis=-1)``.
      A token of probability 0 is never chosen.

    Args:
        logits: ndarray (B, V), floating, finite.
        temperature: a finite real >= 0.
        top_k: None or an integer >= 1.
        rng: a np.random.Generator, or None for 04's generator.
    Returns:
        ndarray (B,) int64.
    Raises:
        TypeError: ``"sample_next: logits must be a floating ndarray (B, V), got
            tinytorch.autograd.Tensor"`` (the type, ``type_name``, of what is not an ndarray);
            ``"sample_next: logits must be a floating ndarray (B, V), got int64"`` (the dtype of
            an ndarray that is not floating); 04's ``generator``'s error, ``"sample_next: rng
            must be a np.random.Generator or None, got int (...)"``, at every temperature, 0
            included.
        ValueError: ``"sample_next: logits must be a floating ndarray (B, V), got (16,)"``;
            ``"sample_next: logits must be finite, got nan"`` (the first non-finite logit in
            row-major order); ``check_sampling``'s errors;
            ``"sample_next: logits / temperature must be finite, got inf (temperature=0.5)"``
            (the first non-finite z in row-major order). The checks run in this order: logits,
            ``check_sampling``, rng, then (temperature > 0) z.
    Complexity:
        O(B·V) time (O(B·V·log V) with top_k: a sort); memory: a few (B, V) float64 arrays.
    Example:
        >>> sample_next(np.array([[0.0, 3.0, 1.0]]), temperature=0.0)
        array([1])
    """
    # solution: step 6
    if not isinstance(logits, np.ndarray) or logits.dtype.kind != "f":
        what = type_name(logits) if not isinstance(logits, np.ndarray) else logits.dtype
        raise TypeError(f"sample_next: logits must be a floating ndarray (B, V), got {what}")
    if logits.ndim != 2 or 0 in logits.shape:
        raise ValueError(f"sample_next: logits must be a floating ndarray (B, V), got {logits.shape}")
    if not np.isfinite(logits).all():
        raise ValueError(f"sample_next: logits must be finite, got {logits[~np.isfinite(logits)][0]}")
    check_sampling("sample_next", temperature, top_k)
    rng = generator(rng, "sample_next")
    if temperature == 0:
        return np.argmax(logits, axis=-1).astype(np.int64)  # (B,)
    B, V = logits.shape
    # NOTE: a tiny temperature or a huge logit overflows to ±inf: expected, and refused just below.
    with np.errstate(over="ignore"):
        z = logits.astype(np.float64) / temperature  # (B, V)
    if not np.isfinite(z).all():
        bad = z[~np.isfinite(z)][0]
        raise ValueError(f"sample_next: logits / temperature must be finite, got {bad} (temperature={temperature!r})")
    if top_k is not None and top_k < V:
        kth = np.sort(z, axis=-1)[:, V - top_k : V - top_k + 1]  # (B, 1): the k-th largest of each row
        z[z < kth] = -np.inf
    # NOTE: subtract the row's max before exp (a softmax's usual guard), then normalize the cdf.
    p = np.exp(z - z.max(axis=-1, keepdims=True))  # (B, V), 0 where z = −inf
    cdf = np.cumsum(p, axis=-1)  # (B, V)
    cdf /= cdf[:, -1:]
    u = rng.random(B)  # (B,): one draw per row
    return (cdf <= u[:, None]).sum(axis=-1).astype(np.int64)  # (B,)
