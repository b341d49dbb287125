# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""17 kv_cache: keep every layer's keys and values, so that each new token costs O(T), not O(T²).

13's ``generate`` recomputes the whole sequence for every new token: at position t it runs the
model on t tokens, although the keys and values of the first t − 1 did not change (the model is
causal: a position never reads a later one). A KV cache keeps them. For each layer, a buffer
(B, H_kv, T_max, D) of keys and one of values is allocated ONCE; a step computes the new
token's query, key and value only, writes the key and value at the next free position, and
attends over the filled prefix, a view of the buffer. The step's linear layers see one row per
sequence instead of t, and its attention scores are (1 × t) per head instead of (t × t).

Nothing here changes 12's or 13's classes: the cached path is a set of functions that take a
``MultiHeadAttention`` or a ``GPT`` and reuse its code: 12's ``project`` and ``attend`` (the
two halves of its ``forward``, with the cache between them), 13's blocks (their
``attention`` argument takes the cached attention), ``embed``/``unembed``, ``check_generate``
and ``sample_next``.

Shapes (one vocabulary): B batch, L layers, H query heads, H_kv key/value heads, G = H / H_kv,
T new positions in a step, T_max the cache's capacity, D head dimension, C = d_model = H·D,
V vocabulary.
"""

from __future__ import annotations

import functools

import numpy as np

from tinytorch.attention import MultiHeadAttention
from tinytorch.autograd import Tensor, no_grad
from tinytorch.embeddings import check_dtype, check_size
from tinytorch.tensor import type_name
from tinytorch.transformers import GPT, check_generate, check_sequence, sample_next

# --- given: checks ----------------------------------------------------------------------------


def check_layer(op: str, layer, n_layers: int) -> int:
    """Given: ``layer`` as an int in [0, n_layers), or ValueError.

    ``"KVCache.append: layer must be an integer in [0, 2), got 2"`` (a bool or a float too).
    """
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise ValueError(f"{op}: layer must be an integer in [0, {n_layers}), got {layer!r}")
    return int(layer)


def check_model(op: str, model) -> None:
    """Given: TypeError ``"generate_cached: model must be a GPT, got Sequential"`` unless ``model`` is 13's GPT."""
    if not isinstance(model, GPT):
        raise TypeError(f"{op}: model must be a GPT, got {type_name(model)}")


def check_cache(
    op: str, cache, n_layers: int | None, n_kv_heads: int, head_dim: int, dtype: np.dtype, batch: int
) -> None:
    """Given: raise unless ``cache`` is a KVCache of these sizes and dtype, for a batch of ``batch``.

    TypeError ``"cached_forward: cache must be a KVCache, got dict"``; ValueError
    ``"cached_forward: cache must have (n_layers, n_kv_heads, head_dim, dtype) = (2, 2, 4, float64)
    as the model, got (1, 2, 4, float64)"``; ``"cached_forward: the batch must be the cache's
    batch_size=2, got 3"``. ``n_layers`` None: any number of layers (``cached_attention``).
    """
    if not isinstance(cache, KVCache):
        raise TypeError(f"{op}: cache must be a KVCache, got {type_name(cache)}")
    n_layers = cache.n_layers if n_layers is None else n_layers
    want = (n_layers, n_kv_heads, head_dim, np.dtype(dtype))
    got = (cache.n_layers, cache.n_kv_heads, cache.head_dim, cache.dtype)
    if want != got:
        shown = ", ".join(str(value) for value in want), ", ".join(str(value) for value in got)
        raise ValueError(
            f"{op}: cache must have (n_layers, n_kv_heads, head_dim, dtype) = ({shown[0]}) as the model, "
            f"got ({shown[1]})"
        )
    if batch != cache.batch_size:
        raise ValueError(f"{op}: the batch must be the cache's batch_size={cache.batch_size}, got {batch}")


# --- step 1: the cache --------------------------------------------------------------------------


class KVCache:
    """Per layer, a preallocated buffer of keys and one of values, (B, H_kv, T_max, D), filled from the front."""

    def __init__(
        self, n_layers: int, batch_size: int, n_kv_heads: int, max_len: int, head_dim: int, *, dtype=np.float32
    ) -> None:
        """Allocate the 2·L buffers now, once: ``key_buffers`` and ``value_buffers``, lists of L ndarrays.

        Each buffer is ``np.zeros((batch_size, n_kv_heads, max_len, head_dim), dtype)``. Keeps
        ``n_layers``, ``batch_size``, ``n_kv_heads``, ``max_len``, ``head_dim``, ``dtype`` (a
        ``np.dtype``) and ``lengths``: a list of L ints, the positions each layer holds (0 at
        first).

        Args:
            n_layers: L, an integer >= 1. batch_size: B, >= 1. n_kv_heads: H_kv, >= 1.
            max_len: T_max, the most positions the cache holds, >= 1. head_dim: D, >= 1.
            dtype: floating-point, the model's.
        Raises:
            ValueError: ``"KVCache: max_len must be an integer >= 1, got 0"`` (every size alike).
            TypeError: ``"KVCache: dtype must be floating-point, got int64"``.
        Complexity:
            ``nbytes`` = 2·L·B·H_kv·T_max·D·itemsize bytes, allocated here and never again.
        Example:
            >>> cache = KVCache(2, 1, 2, 8, 4)
            >>> cache.key_buffers[1].shape, cache.lengths
            ((1, 2, 8, 4), [0, 0])
        """
        raise NotImplementedError(
            "17 kv_cache: implement KVCache.__init__ — see exercises/17_kv_cache/README.md, step 1"
        )

    @classmethod
    def for_model(cls, model: GPT, batch_size: int, max_len: int | None = None) -> KVCache:
        """A cache shaped for 13's ``model``: L = n_layers, H_kv = n_kv_heads, D = d_model // n_heads, its dtype.

        Args:
            model: a GPT. batch_size: B, an integer >= 1.
            max_len: T_max, an integer in [1, context_length], or None for the model's context_length
                (the model reads no position past its context, so a longer cache is refused).
        Returns:
            An empty KVCache.
        Raises:
            TypeError: ``"KVCache.for_model: model must be a GPT, got Sequential"`` (the given check_model).
            ValueError: ``"KVCache.for_model: max_len must be an integer >= 1, got 0"``;
                ``"KVCache.for_model: max_len must be at most context_length=8, got 9"``;
                ``KVCache``'s size errors.
        Complexity:
            As ``KVCache``.
        Example:
            >>> from tinytorch.transformers import GPTConfig
            >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2, n_kv_heads=1))
            >>> KVCache.for_model(model, 3).key_buffers[0].shape
            (3, 1, 8, 4)
        """
        raise NotImplementedError(
            "17 kv_cache: implement KVCache.for_model — see exercises/17_kv_cache/README.md, step 1"
        )

    @property
    def nbytes(self) -> int:
        """The bytes of every buffer: 2·L·B·H_kv·T_max·D·itemsize, whatever is filled.

        Returns:
            A Python int (the buffers' ``nbytes`` summed).
        Complexity:
            O(L).
        Example:
            >>> KVCache(2, 1, 2, 8, 4, dtype=np.float64).nbytes
            2048
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.nbytes — see exercises/17_kv_cache/README.md, step 1")

    def length(self, layer: int = 0) -> int:
        """The number of positions ``layer`` holds (the next free position).

        Raises:
            ValueError: ``"KVCache.length: layer must be an integer in [0, 2), got 2"``.
        Example:
            >>> KVCache(2, 1, 2, 8, 4).length(1)
            0
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.length — see exercises/17_kv_cache/README.md, step 1")

    def keys(self, layer: int) -> np.ndarray:
        """The filled keys of ``layer``: ``key_buffers[layer][:, :, :length]``, a VIEW of the buffer (no copy).

        Returns:
            ndarray (B, H_kv, length, D) sharing memory with the buffer.
        Raises:
            ValueError: ``"KVCache.keys: layer must be an integer in [0, 2), got -1"``.
        Example:
            >>> KVCache(2, 1, 2, 8, 4).keys(0).shape
            (1, 2, 0, 4)
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.keys — see exercises/17_kv_cache/README.md, step 1")

    def values(self, layer: int) -> np.ndarray:
        """The filled values of ``layer``: ``value_buffers[layer][:, :, :length]``, a VIEW, as ``keys``.

        Returns:
            ndarray (B, H_kv, length, D) sharing memory with the buffer.
        Raises:
            ValueError: ``"KVCache.values: layer must be an integer in [0, 2), got 2"``.
        Example:
            >>> KVCache(2, 1, 2, 8, 4).values(1).shape
            (1, 2, 0, 4)
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.values — see exercises/17_kv_cache/README.md, step 1")

    def append(self, layer: int, k, v) -> tuple[np.ndarray, np.ndarray]:
        """Copy ``k`` and ``v`` into ``layer``'s buffers at positions length .. length + T − 1; return the filled views.

        One step's key and value (T = 1), or a prompt's (T positions) at once. Everything is
        checked before anything is written: a refused append changes nothing. No allocation:
        the values are copied into the buffers allocated by ``__init__``.

        Args:
            layer: an integer in [0, L).
            k, v: ndarrays or Tensors (a Tensor's array is read; no graph) of shape
                (B, H_kv, T, D), T >= 1, with the cache's B, H_kv, D and dtype.
        Returns:
            ``(keys(layer), values(layer))``: views (B, H_kv, length + T, D) of the buffers.
        Raises:
            ValueError: ``check_layer``'s; ``"KVCache.append: k must have shape (B=2, H_kv=2, T,
                D=4) with T >= 1, got (3, 2, 1, 4)"`` (v alike); ``"KVCache.append: k and v must
                have the same shape, got k (2, 2, 1, 4) vs v (2, 2, 2, 4)"``; the overflow:
                ``"KVCache.append: length + T must be at most max_len=8, got 7 + 2 = 9"``.
            TypeError: ``"KVCache.append: k must be an ndarray or Tensor, got list"``;
                ``"KVCache.append: k must have dtype float32, got float64"`` (v alike).
        Complexity:
            O(B·H_kv·T·D) time (the copy); no new array.
        Example:
            >>> cache = KVCache(1, 1, 1, 8, 2)
            >>> keys, values = cache.append(0, np.ones((1, 1, 3, 2), np.float32), np.zeros((1, 1, 3, 2), np.float32))
            >>> keys.shape, cache.length(0), np.shares_memory(keys, cache.key_buffers[0])
            ((1, 1, 3, 2), 3, True)
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.append — see exercises/17_kv_cache/README.md, step 1")

    def reset(self) -> None:
        """Empty every layer (lengths back to 0), keeping the buffers: the next generation reuses them.

        Example:
            >>> cache = KVCache(1, 1, 1, 4, 2, dtype=np.float64)
            >>> _ = cache.append(0, np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
            >>> cache.reset(); cache.lengths
            [0]
        """
        raise NotImplementedError("17 kv_cache: implement KVCache.reset — see exercises/17_kv_cache/README.md, step 1")


# --- step 2: one cached attention step ----------------------------------------------------------


def cached_attention(attn: MultiHeadAttention, x: Tensor, cache: KVCache, layer: int) -> Tensor:
    """12's self-attention for x's T new positions, reading the cached keys and values before them.

    With ``n = cache.length(layer)`` positions already cached (x's positions are n .. n + T − 1):
    ``q, k, v = attn.project(x, n)`` (12's first half: the projections, the heads, RoPE at
    the true positions); ``cache.append(layer, k, v)``; then ``attn.attend(q, keys, values,
    is_causal=True)`` (12's second half) over the filled views (B, H_kv, n + T, D), wrapped as
    Tensors, not copied; its causal rule is aligned to the end: new position n + i reads keys
    0 .. n + i. Equals ``attn(x_all, is_causal=True)[:, n:]`` where x_all is every position's
    input so far.

    Inference only: the cache holds arrays, so no gradient reaches earlier positions (run it
    under ``no_grad``, as ``cached_forward`` does).

    Args:
        attn: a 12 MultiHeadAttention.
        x: Tensor (B, T, C), T >= 1, the attention's dtype.
        cache: a KVCache with attn's n_kv_heads and head_dim, x's batch and dtype.
        layer: which of the cache's layers is this attention's, an integer in [0, L).
    Returns:
        Tensor (B, T, C).
    Raises:
        TypeError: ``"cached_attention: attn must be a MultiHeadAttention, got Linear"``;
            ``"cached_attention: input must be a Tensor, got ndarray"``; the given check_cache's.
        ValueError: ``"cached_attention: input must have shape (B, T, d_model=8) with T >= 1, got (2, 3, 5)"``;
            ``"cached_attention: layer must be an integer in [0, 1), got 5"`` (the given check_layer);
            check_cache's (``"cached_attention: cache must have (n_layers, n_kv_heads, head_dim,
            dtype) = ..."``, ``"cached_attention: the batch must be the cache's batch_size=2, got 3"``);
            ``KVCache.append``'s (the overflow ``"... must be at most max_len=8, got 7 + 2 = 9"``).
    Complexity:
        Projections 2·B·T·C·(2·C + 2·H_kv·D) FLOPs; attention 4·B·H·T·(n + T)·D FLOPs: with T = 1,
        O(n) per token. Memory: the scores B·H·T·(n + T), the projections; no copy of the cache.
    Example:
        >>> attn = MultiHeadAttention(8, 4, 2)
        >>> cache = KVCache(1, 2, 2, 16, 2)
        >>> cached_attention(attn, Tensor(np.ones((2, 3, 8), dtype=np.float32)), cache, 0).shape, cache.length(0)
        ((2, 3, 8), 3)
    """
    raise NotImplementedError("17 kv_cache: implement cached_attention — see exercises/17_kv_cache/README.md, step 2")


# --- step 3: a cached forward of the GPT --------------------------------------------------------


def cached_forward(model: GPT, ids, cache: KVCache) -> Tensor:
    """13's ``model(ids, offset)`` for the next T positions, every block's attention through the cache.

    With n = ``cache.length(0)`` positions cached: ``model.embed(ids, n)``; each block i
    called with ``attention`` = ``cached_attention(block.attn, ·, cache, i)`` (13's block: its
    two residual lines, the cached attention in place of its own); then ``model.unembed``.
    Under ``no_grad``. Called on a prompt (T tokens, an empty cache), then on one token at a
    time, its logits equal those of ``model`` on the whole sequence so far, position for
    position.

    Args:
        model: a 13 GPT.
        ids: an integer ndarray or Tensor (B, T), T >= 1, the next T tokens.
        cache: a KVCache of the model's sizes (``KVCache.for_model``) and ids' batch; every
            layer holds the same n positions, with room for T more. Both are checked before
            anything is written: a refused call leaves the cache as it was.
    Returns:
        Tensor (B, T, V), not in a graph: the logits at positions n .. n + T − 1.
    Raises:
        TypeError: ``"cached_forward: model must be a GPT, got Sequential"``; check_cache's.
        ValueError: check_cache's (``"cached_forward: the batch must be the cache's
            batch_size=2, got 3"``); ``"cached_forward: every layer must hold the same number of
            positions, got [0, 2]"``; ``"cached_forward: length + T must be at most max_len=8,
            got 7 + 2 = 9"``; 13's ``embed``'s (``"GPT: offset + T must be at most
            context_length=8, got 9"``, ids' errors).
    Complexity:
        O(L·(B·T·C² + B·H·T·(n + T)·D) + B·T·C·V): with T = 1, O(n) per token; memory: one
        step's activations, never a copy of the cache.
    Example:
        >>> from tinytorch.transformers import GPTConfig
        >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2))
        >>> cache = KVCache.for_model(model, 1)
        >>> cached_forward(model, np.array([[1, 2, 3]]), cache).shape, cache.lengths
        ((1, 3, 16), [3, 3])
    """
    raise NotImplementedError("17 kv_cache: implement cached_forward — see exercises/17_kv_cache/README.md, step 3")


# --- step 4: cached generation ------------------------------------------------------------------


def generate_cached(
    model: GPT,
    ids,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed=None,
    *,
    cache: KVCache | None = None,
) -> np.ndarray:
    """13's ``model.generate``, token for token, with a KV cache: the prompt once, then one token per step.

    The same arguments, checks, generator and sampling as 13's ``generate``: 13's given
    ``check_generate`` (op ``"generate_cached"``) checks the arguments and makes one
    ``np.random.default_rng(seed)`` per call before the first token (04's generator when seed
    is None), and each new token from ``sample_next(logits[:, -1], temperature,
    top_k, rng)`` (13's, called once per new token, in order). The first new token's logits
    come from ``cached_forward`` of the whole prompt (every prompt position, the first
    included, enters the cache); each later token's from ``cached_forward`` of the previous
    new token alone. The last new token is never fed back (nothing would read its logits), so
    the cache needs T + max_new_tokens − 1 positions. With max_new_tokens = 0: the prompt,
    no forward (a given cache is still checked and reset). Under ``no_grad``.

    Args:
        model: a 13 GPT.
        ids: an integer ndarray or Tensor (B, T), T >= 1: the prompt.
        max_new_tokens: an integer >= 0, with T + max_new_tokens <= context_length.
        temperature, top_k, seed: as 13's ``generate``.
        cache: None (a new ``KVCache.for_model(model, B, max(T + max_new_tokens − 1, 1))``), or a
            KVCache of the model's sizes and B, with max_len >= T + max_new_tokens − 1, which
            is ``reset`` and reused: no new cache buffer is allocated.
    Returns:
        ndarray (B, T + max_new_tokens) int64, a new array (never ``ids`` itself, with
        max_new_tokens = 0 too): the prompt, then the new tokens; equal to
        ``model.generate(ids, max_new_tokens, temperature, top_k, seed)``.
    Raises:
        TypeError: ``"generate_cached: model must be a GPT, got Sequential"``; check_cache's.
        ValueError: 13's ``check_generate``'s, naming ``generate_cached``:
            ``"generate_cached: max_new_tokens must be an integer >= 0, got -1"``,
            ``"generate_cached: seed must be an integer >= 0, got -1"``,
            ``"generate_cached: T + max_new_tokens must be at most context_length=8, got 3 + 6 = 9"``,
            check_sampling's and check_sequence's; check_cache's;
            ``"generate_cached: the cache's max_len must be at least T + max_new_tokens - 1 = 9, got 8"``.
    Complexity:
        One forward of T positions, then max_new_tokens − 1 forwards of one position, the n-th
        reading n cached positions: O(N·(L·C² + C·V) + N·L·H·(T + N)·D) for N new tokens,
        against recompute's O(N·(T + N)·(L·C² + C·V) + N·L·H·(T + N)²·D).
    Example:
        >>> from tinytorch.transformers import GPTConfig
        >>> model = GPT(GPTConfig(vocab_size=16, context_length=8, d_model=8, n_heads=2))
        >>> out = generate_cached(model, np.array([[1, 2]]), 3, seed=0)
        >>> out.shape, bool((out == model.generate(np.array([[1, 2]]), 3, seed=0)).all())
        ((1, 5), True)
    """
    raise NotImplementedError("17 kv_cache: implement generate_cached — see exercises/17_kv_cache/README.md, step 4")
