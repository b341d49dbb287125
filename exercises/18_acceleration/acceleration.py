# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""18 acceleration: the same maths, less work for the machine.

Four techniques, each next to the slow twin it must equal:

- a convolution by **kernel taps** over a window view (``sliding_window_view``): KH·KW matrix
  products, each over a strided view of the input, accumulated into the output. It needs no
  im2col buffer (09's ``conv2d`` builds one of B·C·KH·KW·L elements), and it is hundreds of
  times faster than 09's loop conv, ``conv2d_loops``;
- a **cache-blocked** matmul: tiles of A and B reused while they sit in fast memory, the bytes
  each tile loads counted;
- **fused** bias+GELU and softmax-cross-entropy: one autograd node each, which saves only its
  inputs (alive anyway) and recomputes the rest in the backward, instead of a chain of nodes
  that each keep an output-sized array;
- **in-place** optimizers: every buffer a step needs is allocated once, at construction, so a
  step allocates nothing at all.

Shapes: B batch, C channels/features, OC output channels, H, W, KH, KW, OH, OW as in 09,
L = OH·OW; M, K, N for a matmul (M, K) @ (K, N).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator

import numpy as np

from tinytorch.activations import GELU_A, GELU_C
from tinytorch.autograd import Function, Tensor
from tinytorch.convolution import check_conv2d, conv_output_size
from tinytorch.losses import check_class_indices
from tinytorch.optimizers import Optimizer, check_nonnegative
from tinytorch.tensor import type_name

# --- step 1: a convolution by kernel taps -----------------------------------------------------


def conv2d_taps(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0, dilation=1):
    """A 2-D convolution as KH·KW matrix products over a window view: 09's ``conv2d_loops``, fast.

    ``sliding_window_view`` gives every window of the padded input as a view, sliced to
    (B, C, OH, OW, KH, KW) by the stride and the dilation: no byte is copied. For one kernel tap
    (p, q), ``windows[..., p, q]`` is the (B, C, OH, OW) grid of the pixels that tap sees, and
    ``weight[:, :, p, q] @ that grid`` is the tap's contribution to every output: one BLAS
    product of (OC, C) by (C, L) per image. The output is the sum over the KH·KW taps. The same
    sum as ``conv2d_loops``, in another order: equal up to rounding.

    Args:
        x: (B, C, H, W), floating.
        weight: (OC, C, KH, KW), x's dtype.
        bias: (OC,), x's dtype, or None.
        stride, padding, dilation: an int or a pair (height, width), as in 09.
    Returns:
        (B, OC, OH, OW), x's dtype, a new C-contiguous array; OH = ``conv_output_size(H, KH, sh,
        ph, dh)``, OW likewise.
    Raises:
        TypeError, ValueError: 09's given ``check_conv2d``'s, with op ``"conv2d_taps"``:
            ``"conv2d_taps: input channels must match the weight's, got 3 and 4"``,
            ``"conv2d_taps: weight must have the input's dtype float32, got float64"``,
            ``"conv2d_taps: the dilated kernel must fit in the padded input, got ..."``.
    Complexity:
        2·B·OC·L·C·KH·KW FLOPs in KH·KW batched products (Python runs KH·KW iterations, not
        09's B·OC·OH·OW). Memory at any time: the output B·OC·L, one tap's grid copied for BLAS
        B·C·L and one tap's product B·OC·L (never two taps' grids or products at once), plus a
        padded copy of x when padding > 0; never the im2col buffer B·C·KH·KW·L.
    Example:
        >>> conv2d_taps(np.ones((1, 2, 3, 3)), np.ones((4, 2, 2, 2))).shape
        (1, 4, 2, 2)
    """
    raise NotImplementedError(
        "18 acceleration: implement conv2d_taps — see exercises/18_acceleration/README.md, step 1"
    )


# --- step 2: a cache-blocked matmul -----------------------------------------------------------


def check_block_size(op: str, block_size) -> int:
    """Given: ``block_size`` as an int, or ValueError
    ``"matmul_blocked: block_size must be an integer >= 1, got 0"`` (a bool or a float too)."""
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(block_size, numbers.Integral) or block_size < 1:
        raise ValueError(f"{op}: block_size must be an integer >= 1, got {block_size!r}")
    return int(block_size)


def matmul_blocked(a: np.ndarray, b: np.ndarray, block_size: int) -> tuple[np.ndarray, int]:
    """``a @ b`` tile by tile: each (S, S) tile of the output accumulates its row of A tiles times
    its column of B tiles; also returns the bytes the tiles loaded.

    A naive product reads a row of A and a column of B for every output element: 2·M·N·K values.
    A tile of the output stays put while it accumulates, and each A tile (S, S) is used for S
    output columns at once: A is read ⌈N/S⌉ times instead of N, B ⌈M/S⌉ times instead of M.
    Loaded bytes, counted tile by tile as ``a_tile.nbytes + b_tile.nbytes``, come to
    ``(M·K·⌈N/S⌉ + K·N·⌈M/S⌉)·itemsize``; S = 1 is the naive 2·M·N·K·itemsize. Edge tiles are
    smaller when S does not divide a size. (NumPy's ``@`` calls BLAS, which is blocked this way
    already, for every level of cache and the registers: this function shows the idea, it does
    not beat ``@``.) The tile loops run in the order i (rows of M), j (columns of N), p (K).

    Args:
        a: (M, K); b: (K, N); one numeric dtype (integer or floating); the byte order aside:
            ``>f8`` (big-endian) and float64 are one dtype (same kind and size), refused only
            when the kinds or sizes differ.
        block_size: S, an integer >= 1 (any: it need not divide M, K or N).
    Returns:
        ``(out, loaded)``: out (M, N) in a's dtype, equal to ``a @ b`` (exactly for integers, up to
        rounding for floats: the sums are added in another order); loaded, an int, the bytes above.
    Raises:
        TypeError: ``"matmul_blocked: a must be an ndarray, got list"`` (b too);
            ``"matmul_blocked: dtypes must match, got float32 and float64"``;
            ``"matmul_blocked: a must be numeric, got bool"``.
        ValueError: ``"matmul_blocked: a and b must be 2-D, got (2, 3, 4) and (4, 5)"``;
            ``"matmul_blocked: inner dimensions must match, got (2, 3) @ (4, 5)"``;
            ``"matmul_blocked: block_size must be an integer >= 1, got 0"``.
    Complexity:
        2·M·N·K FLOPs in ⌈M/S⌉·⌈N/S⌉·⌈K/S⌉ tile products; memory: the output and one (S, S) product.
    Example:
        >>> out, loaded = matmul_blocked(np.ones((4, 6)), np.ones((6, 4)), 2)
        >>> float(out[0, 0]), loaded  # (4·6·2 + 6·4·2) values of 8 bytes
        (6.0, 768)
    """
    raise NotImplementedError(
        "18 acceleration: implement matmul_blocked — see exercises/18_acceleration/README.md, step 2"
    )


# --- step 3: fused bias + GELU ------------------------------------------------------------------


def gelu_tanh_argument(h: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Given: ``tanh(c·(h + a·h³))`` into ``out`` (h's shape and dtype), written as ``c·h·(1 + a·h²)``.

    Five in-place passes and no temporary: GELU's inner tanh, the ``t`` of 02's formulas.
    Silent about overflow: past |h| ≈ 2e12 in float32 the argument is ±inf, and tanh(±inf) = ±1
    is the right t.
    """
    with np.errstate(over="ignore"):  # NOTE: an infinite argument is harmless: t = ±1 exactly
        np.multiply(h, h, out=out)  # h²
        out *= GELU_A
        out += 1.0  # 1 + a·h²
        out *= h
        out *= GELU_C  # c·h·(1 + a·h²) = c·(h + a·h³)
    return np.tanh(out, out=out)


GELU_SATURATED = 10.0  # Given: |h| ≥ this gives tanh(c·(h + a·h³)) = ±1 exactly, in float32 and float64


class BiasGELU(Function):
    """``gelu(x + bias)`` as one node that saves only its inputs and recomputes the rest."""

    @staticmethod
    def forward(ctx, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """``0.5·h·(1 + t)``, h = x + bias, t = tanh(c·(h + a·h³)) (02's tanh GELU), in two buffers;
        finite for every finite h (in float32 too: h·½(1 + t), never h·(1 + t), near 3.4e38).

        Saves ``x`` and ``bias`` (the inputs: the graph holds them anyway), nothing new.
        """
        raise NotImplementedError(
            "18 acceleration: implement BiasGELU.forward — see exercises/18_acceleration/README.md, step 3"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """dL/dh = g·(½(1 + t) + ½·h·(1 − t²)·c·(1 + 3a·h²)); dL/dx = dL/dh; dL/dbias = Σ over rows of dL/dh.

        h and t are recomputed from the saved inputs: three buffers of x's size. Finite for every
        finite h, in float32 too: where t = ±1 the second term is 0 (the product must not overflow
        to inf·0 = NaN first). Returns None for an input whose ``ctx.needs_input_grad`` flag is
        False, and computes nothing for it.
        """
        raise NotImplementedError(
            "18 acceleration: implement BiasGELU.backward — see exercises/18_acceleration/README.md, step 3"
        )


def bias_gelu(x: Tensor, bias: Tensor) -> Tensor:
    """``gelu(x + bias)``, the tanh GELU of 02, as ONE autograd node (``BiasGELU``).

    The composition ``(x + bias).gelu()`` records two nodes, keeps the sum h for GELU's backward
    and allocates several x-sized temporaries inside GELU. The fused node keeps nothing new (x and
    bias are its inputs) and recomputes h and t in the backward: a little more arithmetic for far
    fewer bytes, the trade every fused kernel makes.

    Args:
        x: floating Tensor (..., C), at least 1-D.
        bias: Tensor (C,), x's dtype.
    Returns:
        Tensor (..., C), x's dtype; equal to ``gelu(x + bias)`` up to rounding.
    Raises:
        TypeError: ``"bias_gelu: x must be a Tensor, got ndarray"`` (bias too);
            ``"bias_gelu: x must be floating-point, got int64"``;
            ``"bias_gelu: bias must have x's dtype float32, got float64"``.
        ValueError: ``"bias_gelu: bias must have shape (4,), got (3,)"`` (x's last size);
            ``"bias_gelu: x must have at least 1 dimension, got ()"``.
    Complexity:
        O(N) for N elements of x. Forward memory: the output and one temporary (2·N elements);
        kept for the backward: nothing. Backward: three N-element buffers (one is the gradient).
    Example:
        >>> bias_gelu(Tensor([[0.0, 1e4]]), Tensor([0.0, 0.0])).numpy()
        array([[    0., 10000.]])
    """
    raise NotImplementedError("18 acceleration: implement bias_gelu — see exercises/18_acceleration/README.md, step 3")


# --- step 4: fused softmax cross-entropy ----------------------------------------------------------


class SoftmaxCrossEntropy(Function):
    """The mean cross-entropy from logits as one node that keeps O(B) values, not a (B, C) softmax."""

    @staticmethod
    def forward(ctx, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """``mean_b (lse_b − x[b, t_b])``, lse the log-sum-exp of each row; saves logits, target, lse.

        One (B, C) temporary (the shifted exponentials), freed before returning.
        """
        raise NotImplementedError(
            "18 acceleration: implement SoftmaxCrossEntropy.forward — see exercises/18_acceleration/README.md, step 4"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> np.ndarray:
        """dL/dx = g·(softmax(x) − one_hot(t))/B, the softmax recomputed as e^(x − lse) into the gradient."""
        raise NotImplementedError(
            "18 acceleration: implement SoftmaxCrossEntropy.backward — see exercises/18_acceleration/README.md, step 4"
        )


def softmax_cross_entropy(logits: Tensor, target) -> Tensor:
    """The mean cross-entropy from logits, 05's ``cross_entropy(logits, target)``, as ONE node.

    The composition ``-(logits.log_softmax(axis=1)[rows, target]).mean()`` records four nodes
    (log_softmax, the indexing, mean, the negation) and keeps the (B, C) log-softmax for its
    backward; 05's ``cross_entropy`` records two (its cross-entropy node and the mean), the first
    keeping the (B, C) softmax. The fused node keeps the log-sum-exp of each row, B values, and rebuilds the
    softmax as ``exp(x − lse)`` straight into the gradient's buffer.

    Args:
        logits: floating Tensor (B, C), B ≥ 1, C ≥ 1.
        target: integer ndarray or Tensor (B,), class indices in [0, C).
    Returns:
        A 0-d Tensor, logits' dtype: ``mean_b(−log softmax(logits)[b, target[b]])``.
    Raises:
        05's given ``check_class_indices``'s errors with op ``"softmax_cross_entropy"``:
            TypeError ``"softmax_cross_entropy: logits must be a Tensor, got ndarray"``;
            ValueError ``"softmax_cross_entropy: target must be in [0, 10), got 12"``; and
            ValueError ``"softmax_cross_entropy: logits must have at least one row, got (0, 3)"``.
    Complexity:
        O(B·C). Forward: one (B, C) temporary, freed; kept for the backward: B values (and
        the inputs). Backward: one (B, C) buffer, the gradient itself.
    Example:
        >>> float(softmax_cross_entropy(Tensor([[0.0, 0.0], [1e4, -1e4]]), np.array([1, 0])).numpy())
        0.34657359027997264
    """
    raise NotImplementedError(
        "18 acceleration: implement softmax_cross_entropy — see exercises/18_acceleration/README.md, step 4"
    )


# --- step 5: optimizers that allocate nothing per step -----------------------------------------


def workspaces(params: list[Tensor]) -> dict[np.dtype, np.ndarray]:
    """Given: one flat scratch array per dtype, as large as the largest parameter of that dtype."""
    sizes: dict[np.dtype, int] = {}
    for p in params:
        sizes[p.dtype] = max(sizes.get(p.dtype, 0), p.size)
    return {dtype: np.empty(size, dtype=dtype) for dtype, size in sizes.items()}


def scratch_for(space: dict[np.dtype, np.ndarray], param: np.ndarray) -> np.ndarray:
    """Given: the first ``param.size`` elements of its dtype's workspace, shaped like it (a view)."""
    return space[param.dtype][: param.size].reshape(param.shape)


class InPlaceOptimizer(Optimizer):
    """Given: 06's ``Optimizer`` for optimizers whose buffers are all made at construction.

    ``__init__`` runs 06's checks, remembers each parameter's shape and dtype (``layouts``) and
    makes the workspaces (``workspace``). A buffer made for a shape cannot serve another, so:

    - ``parameters_with_grad()`` is 06's, and also raises ValueError ``"step: parameter 0 must
      keep the shape (3,) and dtype float64 it had when the optimizer was built, got (5,) and
      float64"`` when ``p.data`` was rebound to another shape or dtype since;
    - ``check_state_dict`` is 06's, and also raises ValueError ``"load_state_dict: state must
      have an entry for every parameter, got none for parameter 1"`` where a new optimizer with
      the snapshot's hyper-parameters has one (``step()`` makes no state: it only uses it).
    """

    def __init__(self, params: Iterable[Tensor]) -> None:
        """Given: 06's checks of ``params``; then ``layouts`` and ``workspace``."""
        super().__init__(params)
        self.layouts = [(p.shape, p.dtype) for p in self.params]
        self.workspace = workspaces(self.params)

    def parameters_with_grad(self) -> Iterator[tuple[int, Tensor]]:
        """Given: 06's ``(index, parameter)`` pairs, each parameter checked against its layout."""
        for i, p in super().parameters_with_grad():
            shape, dtype = self.layouts[i]
            if p.shape != shape or p.dtype != dtype:
                raise ValueError(
                    f"step: parameter {i} must keep the shape {shape} and dtype {dtype} it had when the optimizer "
                    f"was built, got {p.shape} and {p.dtype}"
                )
            yield i, p

    def check_state_dict(self, state_dict: dict) -> dict:
        """Given: 06's checks, then an entry for each parameter that ``step()`` will look up."""
        hyperparameters = super().check_state_dict(state_dict)
        # a new optimizer with these hyper-parameters: the entries its step() expects (Complexity:
        # it allocates its buffers once more, as 06's own probe does)
        for index in type(self)(self.params, **hyperparameters).state:
            if index not in state_dict["state"]:
                raise ValueError(
                    f"load_state_dict: state must have an entry for every parameter, got none for parameter {index}"
                )
        return hyperparameters


class InPlaceSGD(InPlaceOptimizer):
    """SGD with momentum whose ``step()`` allocates no array: 06's rule, buffers made once."""

    hyperparameter_names = ("lr", "momentum")
    buffer_names = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        """Check the hyper-parameters; allocate the momentum buffers (zeros, when momentum > 0) now,
        after ``super().__init__(params)`` (the given ``InPlaceOptimizer``: 06's checks, and one
        workspace per dtype), so that ``step()`` never allocates.

        Args:
            params: as for 06's ``Optimizer``.
            lr: >= 0; momentum: μ >= 0.
        Raises:
            TypeError, ValueError: 06's ``check_nonnegative`` with op ``"InPlaceSGD"``
                (``"InPlaceSGD: lr must be >= 0, got -1"``) and 06's ``Optimizer`` errors.
            ``step()`` raises the given ``InPlaceOptimizer.parameters_with_grad``'s errors.
        Complexity:
            Memory: the buffers (the parameters' size, when μ > 0) and the workspaces (the
            largest parameter of each dtype).
        Example:
            >>> InPlaceSGD([Tensor(np.ones(2), requires_grad=True)], lr=0.1, momentum=0.9).state[0]
            {'momentum_buffer': array([0., 0.])}
        """
        raise NotImplementedError(
            "18 acceleration: implement InPlaceSGD.__init__ — see exercises/18_acceleration/README.md, step 5"
        )

    def step(self) -> None:
        """``b = μ·b + g`` (b starts at 0, so the first step gives b = g, as 06); ``p = p − lr·b``,
        every parameter with a gradient, in place (``b = g`` when μ = 0).

        Complexity:
            O(parameters) time; allocates nothing: p.data, the buffers and the workspace are
            written in place.
        Example:
            >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
            >>> w.grad = np.array([0.5, -1.0])
            >>> InPlaceSGD([w], lr=0.1).step()
            >>> w.numpy()
            array([0.95, 2.1 ])
        """
        raise NotImplementedError(
            "18 acceleration: implement InPlaceSGD.step — see exercises/18_acceleration/README.md, step 5"
        )


class InPlaceAdam(InPlaceOptimizer):
    """06's Adam (no weight decay) whose ``step()`` allocates no array: m, v and scratch made once."""

    hyperparameter_names = ("lr", "betas", "eps")
    buffer_names = ("exp_avg", "exp_avg_sq")
    nonnegative_buffer_names = ("exp_avg_sq",)
    counter_names = ("step",)

    def __init__(
        self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        """Check the hyper-parameters; after ``super().__init__(params)`` (the given
        ``InPlaceOptimizer``: 06's checks, and one workspace per dtype), allocate m and v (zeros)
        for every parameter, each with a step count of 0, now.

        Raises:
            TypeError: ``"InPlaceAdam: lr must be a real number, got str"`` (eps too; 06's
                ``check_nonnegative``); ``"InPlaceAdam: betas must be a pair of real numbers, got
                0.9"`` (06's Adam's message: not a tuple or list of two, a bool, a str...); and
                06's ``Optimizer`` errors.
            ValueError: ``"InPlaceAdam: lr must be >= 0, got -1"`` (eps too);
                ``"InPlaceAdam: betas must be in [0, 1), got (0.9, 1.0)"`` (nan too); and 06's
                ``Optimizer`` errors.
        Complexity:
            Memory: m and v (2× the parameters' bytes) and the workspaces.
        Example:
            >>> opt = InPlaceAdam([Tensor(np.ones(2), requires_grad=True)])
            >>> opt.state[0]["step"], opt.state[0]["exp_avg"]
            (0, array([0., 0.]))
        """
        raise NotImplementedError(
            "18 acceleration: implement InPlaceAdam.__init__ — see exercises/18_acceleration/README.md, step 5"
        )

    def step(self) -> None:
        """06's Adam update, each parameter with a gradient, in place, with its own step count t:

            m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
            p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)

        Complexity:
            O(parameters) time; allocates nothing: m, v, p.data and the workspace are written in
            place (every ufunc gets ``out=``).
        Example:
            >>> w = Tensor(np.array([1.0, 1.0]), requires_grad=True)
            >>> w.grad = np.array([3.0, -1e-4])
            >>> InPlaceAdam([w], lr=0.1).step()
            >>> (w.numpy() - 1.0).round(4)  # the first step is lr·sign(g)
            array([-0.1,  0.1])
        """
        raise NotImplementedError(
            "18 acceleration: implement InPlaceAdam.step — see exercises/18_acceleration/README.md, step 5"
        )
