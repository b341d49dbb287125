"""``gradcheck``: analytic vector-Jacobian products against central finite differences.

Built like PyTorch's: inputs in float64; the numerical Jacobian column by column from central
differences; the analytical Jacobian row by row, from one-hot upstream gradients (so a backward
that ignores its upstream gradient cannot pass, as it would when every check starts from
``.sum()``); then a zero upstream gradient must give zero gradients. A failure names the op,
the output and input element, both values and their difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Forward = Callable[..., np.ndarray]
VJP = Callable[[Sequence[np.ndarray], np.ndarray], Sequence[np.ndarray]]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def gradcheck(
    name: str,
    forward: Forward,
    vjp: VJP,
    inputs: Sequence[np.ndarray],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Check ``vjp`` against finite differences of ``forward`` at ``inputs``.

    Args:
        name: the op, for the failure message.
        forward: ``forward(*inputs) -> ndarray``; must not modify its inputs.
        vjp: ``vjp(inputs, grad_out) -> gradients``, one per input, each of its input's shape.
        inputs: float64 arrays.
        eps, atol, rtol: step and tolerances. With eps=1e-6 in float64 the central difference
            has truncation error ~eps² and rounding error ~1e-16/eps = 1e-10 relative, so
            atol=1e-5 and rtol=1e-4 leave a margin of five orders of magnitude.
    Raises:
        GradcheckError: on a non-float64 input, a gradient of the wrong shape or count, a
            mismatch, or a non-zero gradient from a zero upstream gradient.
    """
    __tracebackhide__ = True
    inputs = [np.array(x, copy=True) for x in inputs]
    for j, x in enumerate(inputs):
        if x.dtype != np.float64:
            raise GradcheckError(f"gradcheck({name}): input {j} must be float64, got {x.dtype}")
    output = np.array(forward(*inputs), copy=True)
    numerical = [_numerical_jacobian(forward, inputs, j, output.shape, eps) for j in range(len(inputs))]
    analytical = [np.zeros_like(jac) for jac in numerical]
    for i in range(output.size):
        grad_out = np.zeros(output.shape)
        grad_out.flat[i] = 1.0
        for j, grad in enumerate(_call_vjp(name, vjp, inputs, grad_out)):
            analytical[j][i] = grad.ravel()
    for j in range(len(inputs)):
        _compare(name, j, analytical[j], numerical[j], output.shape, inputs[j].shape, atol, rtol)
    for j, grad in enumerate(_call_vjp(name, vjp, inputs, np.zeros(output.shape))):
        if np.any(grad != 0):
            raise GradcheckError(
                f"gradcheck({name}): a zero upstream gradient gave a non-zero gradient for input {j}; "
                "is the backward multiplied by grad_out?"
            )


def _numerical_jacobian(forward: Forward, inputs: list[np.ndarray], j: int, out_shape, eps: float) -> np.ndarray:
    """Column k is d output / d inputs[j].flat[k], by central differences: shape (out.size, x.size)."""
    x = inputs[j]
    jacobian = np.zeros((int(np.prod(out_shape, dtype=int)), x.size))
    for k in range(x.size):
        original = x.flat[k]
        # NOTE: copy each output: a forward that returns a view of x (a slice, a transpose)
        # would otherwise see x restored below, and every difference would come out zero.
        x.flat[k] = original + eps
        plus = np.array(forward(*inputs), dtype=np.float64, copy=True)
        x.flat[k] = original - eps
        minus = np.array(forward(*inputs), dtype=np.float64, copy=True)
        x.flat[k] = original
        jacobian[:, k] = ((plus - minus) / (2 * eps)).ravel()
    return jacobian


def _call_vjp(name: str, vjp: VJP, inputs: list[np.ndarray], grad_out: np.ndarray) -> list[np.ndarray]:
    """Run ``vjp`` and check that it returns one gradient of the right shape per input."""
    __tracebackhide__ = True
    grads = vjp([x.copy() for x in inputs], grad_out)
    if grads is None or len(grads) != len(inputs):
        count = "None" if grads is None else len(grads)
        raise GradcheckError(f"gradcheck({name}): backward must return {len(inputs)} gradient(s), got {count}")
    grads = [np.asarray(g) for g in grads]
    for j, (g, x) in enumerate(zip(grads, inputs, strict=True)):
        if g.shape != x.shape:
            raise GradcheckError(
                f"gradcheck({name}): gradient for input {j} must have the input's shape {x.shape}, got {g.shape}"
            )
    return grads


def _compare(name, j, analytical, numerical, out_shape, in_shape, atol, rtol) -> None:
    __tracebackhide__ = True
    close = np.isclose(analytical, numerical, atol=atol, rtol=rtol)
    if close.all():
        return
    error = np.where(close, -1.0, np.abs(analytical - numerical))
    row, col = np.unravel_index(int(np.argmax(error)), error.shape)
    out_index = [int(i) for i in np.unravel_index(row, out_shape)] if out_shape else []
    in_index = [int(i) for i in np.unravel_index(col, in_shape)] if in_shape else []
    raise GradcheckError(
        f"gradcheck({name}): d output{out_index} / d input {j}{in_index}: "
        f"analytic {analytical[row, col]:.6g}, numerical {numerical[row, col]:.6g}, "
        f"difference {abs(analytical[row, col] - numerical[row, col]):.3g} "
        f"({int((~close).sum())} of {close.size} Jacobian entries differ; atol={atol:g}, rtol={rtol:g})"
    )


def gradcheck_tensors(name: str, fn: Callable, inputs: Sequence[np.ndarray], **tolerances: float) -> None:
    """``gradcheck`` for ``fn(*tensors) -> Tensor`` built from ``tinytorch.autograd``.

    The vjp makes each input a leaf that requires grad, runs ``fn`` and
    ``backward(grad_out)``, and reads the leaves' ``.grad`` (a leaf that got none counts as
    zero, so a gradient that never arrives shows up as a mismatch).
    """
    __tracebackhide__ = True
    from tinytorch.autograd import Tensor

    def forward(*arrays: np.ndarray) -> np.ndarray:
        return fn(*(Tensor(a) for a in arrays)).numpy()

    def vjp(arrays: Sequence[np.ndarray], grad_out: np.ndarray) -> list[np.ndarray]:
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        fn(*leaves).backward(grad_out)
        return [np.zeros_like(leaf.numpy()) if leaf.grad is None else leaf.grad for leaf in leaves]

    gradcheck(name, forward, vjp, inputs, **tolerances)
