"""Kata 03 autograd. Run: pytest exercises/03_autograd   (one step: -k step1 ... -k step8)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import tensor as base
from tinytorch.autograd import Function, Tensor, is_grad_enabled, no_grad, topological_order, unbroadcast
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.strategies import arrays, broadcastable_shapes

# Steps 1 to 4 use these small Functions, written here and known to be right, so that each
# step's tests need only that step and the ones before it, not the operations of steps 5 to 8.


class Scale(Function):
    """a * factor, for a constant Python number ``factor``."""

    @staticmethod
    def forward(ctx, a, factor):
        ctx.factor = factor
        return a * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor


class Product(Function):
    """a * b, for a and b of the same shape."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad * b, grad * a


class Plus(Function):
    """a + b, for a and b of the same shape."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Total(Function):
    """The sum of every element: a 0-d output."""

    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, grad):
        return np.full(ctx.parents[0].shape, grad, dtype=grad.dtype)


# --- step 1: no_grad and detach ------------------------------------------------------------


def test_step1_no_grad_turns_recording_off_and_back_on():
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_step1_no_grad_nests_and_restores_recording_even_after_an_error():
    with pytest.raises(KeyError), no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled(), "closing an inner no_grad must not turn recording back on"
        raise KeyError("boom")
    assert is_grad_enabled()


def test_step1_detach_shares_storage_and_leaves_the_graph():
    x = Tensor(np.arange(4.0), requires_grad=True)
    y = x.detach()
    assert not y.requires_grad and y.grad_fn is None
    assert np.shares_memory(y.numpy(), x.numpy())


def test_step1_repr_shows_requires_grad_and_survives_a_half_built_tensor():
    x = Tensor(np.arange(2.0), requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "requires_grad" not in repr(x.detach())
    half_built = Tensor.__new__(Tensor)  # as a traceback shows a Tensor whose __init__ raised
    assert repr(half_built).startswith("Tensor(")


# --- step 2: Function.apply -----------------------------------------------------------------


def test_step2_apply_records_the_function_and_its_inputs():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.full((2, 3), 2.0))
    y = Product.apply(a, b)
    assert_close(y, np.full((2, 3), 2.0))
    assert y.requires_grad
    assert type(y.grad_fn) is Product
    assert y.grad_fn.parents[0] is a and y.grad_fn.parents[1] is b


def test_step2_apply_records_nothing_when_no_input_requires_grad():
    y = Product.apply(Tensor(np.ones(3)), Tensor(np.ones(3)))
    assert not y.requires_grad and y.grad_fn is None


def test_step2_apply_records_nothing_under_no_grad():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = Scale.apply(x, factor=2.0)
    assert not y.requires_grad and y.grad_fn is None
    assert_close(y, np.full(3, 2.0))


def test_step2_a_python_number_becomes_a_constant_of_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = Product.apply(x, 2.0)
    assert y.dtype == np.float32
    constant = y.grad_fn.parents[1]
    assert isinstance(constant, Tensor) and constant.dtype == np.float32 and not constant.requires_grad


def test_step2_apply_sets_needs_input_grad_one_flag_per_input():
    x, constant = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3))
    assert Product.apply(x, constant).grad_fn.needs_input_grad == (True, False)
    assert Product.apply(constant, x).grad_fn.needs_input_grad == (False, True)
    assert Product.apply(x, 2.0).grad_fn.needs_input_grad == (True, False)
    assert Product.apply(x, x).grad_fn.needs_input_grad == (True, True)


def test_step2_apply_refuses_none_an_ndarray_and_kata_01s_tensor_naming_their_type():
    x = Tensor(np.ones(3), requires_grad=True)
    for operand, shown in (
        (None, "NoneType"),
        (np.ones(3), "ndarray"),
        (base.Tensor(np.ones(3)), "tinytorch.tensor.Tensor"),
    ):
        with pytest.raises(TypeError, match=f"product: operand must be a Tensor or a Python number, got {shown}$"):
            Product.apply(x, operand)


N = 256 * 1024  # elements of a chain's tensor: 2 MiB in float64
K = 16  # ops in the chain


@pytest.fixture
def chain_input() -> Tensor:
    return Tensor(np.ones(N), requires_grad=True)


# Under no_grad, each step's output replaces the previous one: at most two outputs of N float64
# are alive at once (the old one until the name is rebound). Recording would keep all K.
@memory_budget(2 * N * 8, slack=64 * 1024)
def test_step2_a_chain_under_no_grad_keeps_no_graph_in_memory(chain_input):
    x = chain_input
    with no_grad():
        for _ in range(K):
            x = Scale.apply(x, factor=1.0001)
    assert x.grad_fn is None


# --- step 3: unbroadcast --------------------------------------------------------------------


def test_step3_unbroadcast_sums_prepended_and_stretched_dimensions():
    grad = np.arange(24.0).reshape(4, 2, 3)
    assert_close(unbroadcast(grad, (2, 1)), grad.sum(axis=(0, 2)).reshape(2, 1))
    assert_close(unbroadcast(grad, (3,)), grad.sum(axis=(0, 1)))
    assert_close(unbroadcast(grad, (4, 2, 3)), grad)
    assert_close(unbroadcast(grad, ()), grad.sum())


def test_step3_unbroadcast_returns_the_gradient_itself_when_nothing_was_broadcast():
    grad = np.ones((2, 3))
    assert unbroadcast(grad, (2, 3)) is grad, "nothing to sum: no copy"


@given(st.data())
def test_step3_unbroadcast_is_the_adjoint_of_broadcasting(data):
    # <broadcast(x), g> == <x, unbroadcast(g)> for every x and g: the definition of a gradient.
    small, large = data.draw(broadcastable_shapes(num_shapes=2))
    out_shape = np.broadcast_shapes(small, large)
    x = data.draw(arrays(small))
    g = data.draw(arrays(out_shape))
    result = unbroadcast(g, small)
    assert result.shape == small
    assert np.isclose(np.sum(np.broadcast_to(x, out_shape) * g), np.sum(x * result), rtol=1e-9, atol=1e-9)


# --- step 4: the backward pass ---------------------------------------------------------------


def test_step4_backward_of_x_times_x_accumulates_both_uses():
    x = Tensor(np.array([3.0, -2.0]), requires_grad=True)
    Total.apply(Product.apply(x, x)).backward()
    assert_close(x.grad, [6.0, -4.0])


def test_step4_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    Total.apply(Scale.apply(x, factor=3.0)).backward()
    Total.apply(Product.apply(x, x)).backward()
    assert_close(x.grad, [3.0 + 2.0, 3.0 + 4.0])


def test_step4_a_zero_dimensional_tensor_needs_no_explicit_gradient():
    x = Tensor(np.float64(3.0), requires_grad=True)
    Product.apply(Product.apply(x, x), x).backward()
    assert_close(x.grad, 27.0)


def test_step4_backward_multiplies_by_the_upstream_gradient_it_is_given():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    Product.apply(x, x).backward(np.array([1.0, 10.0, 100.0]))
    assert_close(x.grad, [2.0, 40.0, 600.0])


class Spread(Function):
    """Every element of a (3,) input times 1: its backward returns a read-only broadcast view."""

    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad, ctx.parents[0].shape)


def test_step4_each_leaf_gets_a_gradient_array_of_its_own():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    upstream = np.array([1.0, 2.0, 3.0])
    Plus.apply(a, b).backward(upstream)  # Plus hands the very same array to both inputs
    assert not np.shares_memory(a.grad, b.grad), "a.grad and b.grad must not be one array"
    assert not np.shares_memory(a.grad, upstream), "a leaf's grad must not be the caller's array"
    Scale.apply(a, factor=2.0).backward(np.ones(3))  # accumulates into a.grad only
    assert_close(a.grad, [3.0, 4.0, 5.0])
    assert_close(b.grad, [1.0, 2.0, 3.0])


def test_step4_a_read_only_gradient_can_still_be_accumulated_into():
    x = Tensor(np.ones(3), requires_grad=True)
    Spread.apply(x).backward()
    Spread.apply(x).backward()  # the second gradient is added to the first
    assert_close(x.grad, [2.0, 2.0, 2.0])


def test_step4_only_leaves_keep_their_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    constant = Tensor(np.ones(3))
    hidden = Product.apply(x, constant)
    Total.apply(Scale.apply(hidden, factor=2.0)).backward()
    assert hidden.grad is None
    assert constant.grad is None
    assert_close(x.grad, np.full(3, 2.0))


def test_step4_backward_through_10000_ops_does_not_recurse():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = Scale.apply(y, factor=1.0)
    y.backward(np.ones(2))
    assert_close(x.grad, np.ones(2))


def test_step4_backward_frees_the_graph_it_no_longer_needs():
    x = Tensor(np.ones(3), requires_grad=True)
    hidden = Scale.apply(x, factor=2.0)
    watcher = weakref.ref(hidden)
    loss = Total.apply(Product.apply(hidden, hidden))
    del hidden
    loss.backward()
    gc.collect()
    assert watcher() is None, "after backward(), the graph should not keep intermediate tensors alive"
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_step4_retain_graph_allows_a_second_backward():
    x = Tensor(np.array([2.0]), requires_grad=True)
    y = Total.apply(Product.apply(x, x))
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, [8.0])


def test_step4_backward_checks_its_upstream_gradient():
    y = Scale.apply(Tensor(np.ones((2, 3)), requires_grad=True), factor=2.0)
    with pytest.raises(RuntimeError, match=r"grad must be given for an output of shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad must have the output's shape \(2, 3\), got \(3,\)"):
        y.backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()


UPSTREAMS = {  # built inside the test: a Tensor made at import would run kata code at collection
    "float64 array": lambda: np.array([1.0, 2.0, 3.0]),
    "list of ints": lambda: [1, 2, 3],
    "int array": lambda: np.array([1, 2, 3]),
    "Tensor": lambda: Tensor(np.array([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_step4_an_upstream_gradient_of_another_dtype_is_converted_to_the_outputs(upstream):
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    Scale.apply(x, factor=2.0).backward(UPSTREAMS[upstream]())
    assert x.grad.dtype == np.float32, f"a float32 output's gradients must stay float32, got {x.grad.dtype}"
    assert_close(x.grad, np.array([2.0, 4.0, 6.0], dtype=np.float32))


def test_step4_an_upstream_gradient_that_is_not_numbers_is_refused():
    y = Scale.apply(Tensor(np.ones(3), requires_grad=True), factor=2.0)
    with pytest.raises(TypeError, match="backward: grad must hold numbers, got <U1"):
        y.backward(np.array(["a", "b", "c"]))


class Counted(Function):
    """a * b, computing only the gradients ``ctx.needs_input_grad`` asks for, and counting them."""

    computed: ClassVar[list[int]] = []

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        grads = [None, None]
        for i, other in enumerate((b, a)):
            if ctx.needs_input_grad[i]:
                Counted.computed.append(i)
                grads[i] = grad * other
        return tuple(grads)


def test_step4_an_input_with_requires_grad_false_gets_no_gradient_computed():
    x, constant = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 5.0]))
    Counted.computed = []
    Counted.apply(x, constant).backward(np.ones(2))  # the engine must accept None for `constant`
    Counted.apply(constant, x).backward(np.ones(2))
    assert Counted.computed == [0, 1], "only the input that requires grad should get a gradient computed"
    assert_close(x.grad, [6.0, 10.0])
    assert constant.grad is None


class WrongShape(Function):
    """A Function whose backward returns the transpose of the right gradient."""

    @staticmethod
    def forward(ctx, a):
        return a * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad.T * 2.0


class TwoGradients(Function):
    """A Function of one input whose backward returns two gradients."""

    @staticmethod
    def forward(ctx, a):
        return a * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.0, grad


class Float32Gradient(Function):
    """A Function whose backward returns float32 for a float64 input."""

    @staticmethod
    def forward(ctx, a):
        return a * 2.0

    @staticmethod
    def backward(ctx, grad):
        return (grad * 2.0).astype(np.float32)


def test_step4_the_engine_names_a_function_that_returns_the_wrong_number_of_gradients():
    y = TwoGradients.apply(Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(RuntimeError, match=r"TwoGradients.backward: must return 1 gradient\(s\), got 2"):
        y.backward(np.ones(3))


def test_step4_the_engine_names_a_function_whose_gradient_has_the_wrong_dtype():
    y = Float32Gradient.apply(Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(
        RuntimeError, match=r"Float32Gradient\.backward: gradient 0 must have its input's dtype float64"
    ):
        y.backward(np.ones(3))


def test_step4_the_engine_names_a_function_whose_gradient_has_the_wrong_shape():
    y = WrongShape.apply(Tensor(np.ones((2, 3)), requires_grad=True))
    with pytest.raises(RuntimeError, match=r"WrongShape.backward: gradient 0 must have its input's shape \(2, 3\)"):
        y.backward(np.ones((2, 3)))


@st.composite
def graphs(draw):
    """A random graph over two leaves: steps (op, i, j) each combining two earlier nodes."""
    ops = st.sampled_from(["plus", "product", "scale"])
    return draw(st.lists(st.tuples(ops, st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=8))


TRUSTED_OPS = {
    "plus": lambda left, right: Plus.apply(left, right),
    "product": lambda left, right: Product.apply(left, right),
    "scale": lambda left, right: Scale.apply(left, factor=0.5),
}


def build(steps, ops, a, b):
    nodes = [a, b]
    for op, i, j in steps:
        nodes.append(ops[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes[-1]


@given(graphs())
def test_step4_topological_order_puts_every_tensor_before_its_inputs(steps):
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    root = build(steps, TRUSTED_OPS, a, b)
    order = topological_order(root)
    position = {id(t): k for k, t in enumerate(order)}
    assert order[0] is root
    assert len(position) == len(order), "each tensor must appear once"
    for node in order:
        for parent in node.grad_fn.parents if node.grad_fn else ():
            assert position[id(parent)] > position[id(node)]


@given(graphs(), st.data())
def test_step4_random_graphs_get_gradients_that_match_finite_differences(steps, data):
    a, b = data.draw(arrays((2, 3), "unit")), data.draw(arrays((2, 3), "unit"))
    gradcheck_tensors("random graph", lambda x, y: build(steps, TRUSTED_OPS, x, y), [a, b])


# A chain of K Scale ops records K outputs of N float64 (Scale saves nothing). backward() adds
# the upstream gradient we pass in, and at any node: the gradient arriving and the one it
# passes on. Budget: K + 3 buffers of N float64, and 64 KiB for the Function objects.
@memory_budget((K + 3) * N * 8, slack=64 * 1024)
def test_step4_a_chain_of_k_ops_holds_k_buffers_through_backward(chain_input):
    y = chain_input
    for _ in range(K):
        y = Scale.apply(y, factor=1.0001)
    y.backward(np.ones(N))
    assert chain_input.grad is not None


# --- steps 5 to 8: every operation, forward against NumPy and backward against finite differences


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@dataclass(frozen=True)
class Op:
    step: int  # the lesson step that makes it pass; in the test id, so `-k step6` selects it
    name: str
    tensor_fn: Callable  # on Tensors: the code under test
    numpy_fn: Callable  # on ndarrays: the oracle
    shapes: tuple[tuple[int, ...], ...]
    domain: str = "real"

    def __str__(self) -> str:
        return f"step{self.step}-{self.name}"


def sample(op: Op, rng: np.random.Generator) -> list[np.ndarray]:
    """Inputs for ``op``: 'real' in [-2, 2], 'positive' in [0.5, 2], 'away_from_zero' with |x| >= 0.1."""
    out = []
    for shape in op.shapes:
        x = rng.uniform(-2.0, 2.0, size=shape)
        if op.domain == "positive":
            x = np.abs(x) * 0.75 + 0.5
        elif op.domain == "away_from_zero":
            x = np.where(x >= 0, x + 0.1, x - 0.1)
        out.append(x)
    return out


OPS = [
    # step 5: arithmetic, with and without broadcasting
    Op(5, "add", lambda a, b: a + b, np.add, ((3, 4), (3, 4))),
    Op(5, "add broadcast", lambda a, b: a + b, np.add, ((2, 3, 4), (3, 1))),
    Op(5, "add python number", lambda a: 2.0 + a, lambda a: 2.0 + a, ((3, 4),)),
    Op(5, "sub broadcast", lambda a, b: a - b, np.subtract, ((3, 4), (4,))),
    Op(5, "rsub python number", lambda a: 1.0 - a, lambda a: 1.0 - a, ((3, 4),)),
    Op(5, "mul broadcast", lambda a, b: a * b, np.multiply, ((2, 1, 4), (3, 1))),
    Op(5, "div broadcast", lambda a, b: a / b, np.divide, ((3, 4), (1, 4)), "positive"),
    Op(5, "rtruediv python number", lambda a: 1.0 / a, lambda a: 1.0 / a, ((3, 4),), "positive"),
    Op(5, "neg", lambda a: -a, np.negative, ((3, 4),)),
    Op(5, "pow 3", lambda a: a**3, lambda a: a**3, ((3, 4),)),
    Op(5, "pow 0.5", lambda a: a**0.5, np.sqrt, ((3, 4),), "positive"),
    Op(5, "diamond x * x", lambda a: a * a, lambda a: a * a, ((3, 4),)),
    Op(5, "x used three times", lambda a: a * a + a, lambda a: a * a + a, ((3, 4),)),
    # step 6: matmul
    Op(6, "matmul", lambda a, b: a @ b, np.matmul, ((3, 4), (4, 2))),
    Op(6, "matmul batched with broadcast", lambda a, b: a @ b, np.matmul, ((2, 3, 4), (4, 5))),
    Op(6, "matmul batch dim of 1", lambda a, b: a.matmul(b), np.matmul, ((1, 3, 4), (2, 4, 2))),
    # step 7: reductions and views
    Op(7, "sum all", lambda a: a.sum(), np.sum, ((3, 4),)),
    Op(7, "sum axis 0", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), ((3, 4),)),
    Op(
        7,
        "sum axes keepdims",
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        ((2, 3, 4),),
    ),
    Op(7, "mean axis -1", lambda a: a.mean(axis=-1), lambda a: a.mean(axis=-1), ((3, 4),)),
    Op(7, "mean all", lambda a: a.mean(), np.mean, ((2, 3, 4),)),
    Op(7, "max axis 1", lambda a: a.max(axis=1), lambda a: a.max(axis=1), ((3, 4),)),
    Op(7, "max all keepdims", lambda a: a.max(keepdims=True), lambda a: a.max(keepdims=True), ((3, 4),)),
    Op(7, "reshape", lambda a: a.reshape(4, 3) * 1.0, lambda a: a.reshape(4, 3), ((3, 4),)),
    Op(7, "reshape with -1", lambda a: a.reshape((2, -1)), lambda a: a.reshape(2, -1), ((2, 3, 2),)),
    Op(7, "transpose", lambda a: a.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0), ((2, 3, 4),)),
    Op(7, "T", lambda a: a.T, lambda a: a.T, ((3, 4),)),
    Op(7, "slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], ((3, 4),)),
    Op(7, "repeated index", lambda a: a[np.array([0, 2, 0])], lambda a: a[[0, 2, 0]], ((3, 4),)),
    Op(7, "integer Tensor index", lambda a: a[Tensor(np.array([2, 0, 2]))], lambda a: a[[2, 0, 2]], ((3, 4),)),
    Op(
        7,
        "tuple of integer Tensors",
        lambda a: a[Tensor(np.array([2, 0, 2])), Tensor(np.array([1, 3, 1]))],
        lambda a: a[[2, 0, 2], [1, 3, 1]],
        ((3, 4),),
    ),
    # step 8: elementwise functions
    Op(8, "exp", lambda a: a.exp(), np.exp, ((3, 4),)),
    Op(8, "log", lambda a: a.log(), np.log, ((3, 4),), "positive"),
    Op(8, "relu", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), ((3, 4),), "away_from_zero"),
    Op(
        8, "leaky_relu", lambda a: a.leaky_relu(0.1), lambda a: np.where(a > 0, a, 0.1 * a), ((3, 4),), "away_from_zero"
    ),
    Op(8, "sigmoid", lambda a: a.sigmoid(), sigmoid, ((3, 4),)),
    Op(8, "tanh", lambda a: a.tanh(), np.tanh, ((3, 4),)),
    Op(8, "gelu", lambda a: a.gelu(), gelu, ((3, 4),)),
    Op(8, "softmax axis 0", lambda a: a.softmax(axis=0), lambda a: softmax(a, 0), ((3, 4),)),
    Op(8, "log_softmax", lambda a: a.log_softmax(), lambda a: np.log(softmax(a, -1)), ((3, 4),)),
    Op(
        8,
        "a small network",
        lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(axis=0),
        lambda x, w, b: (np.tanh(x @ w + b) ** 2).mean(axis=0),
        ((5, 3), (3, 4), (4,)),
    ),
]


@pytest.mark.parametrize("op", OPS, ids=str)
def test_forward_matches_numpy(op, rng):
    inputs = sample(op, rng)
    assert_close(op.tensor_fn(*(Tensor(x) for x in inputs)), op.numpy_fn(*inputs), what=op.name)


@pytest.mark.parametrize("op", OPS, ids=str)
def test_backward_matches_finite_differences(op, rng):
    gradcheck_tensors(op.name, op.tensor_fn, sample(op, rng))


@pytest.mark.parametrize("op", OPS, ids=str)
def test_float32_in_gives_float32_gradients(op, rng):
    leaves = [Tensor(x.astype(np.float32), requires_grad=True) for x in sample(op, rng)]
    out = op.tensor_fn(*leaves)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32
    assert all(leaf.grad.dtype == np.float32 for leaf in leaves)


@given(st.data())
def test_step5_broadcast_mul_gradients_reduce_to_each_input_shape(data):
    a_shape, b_shape = data.draw(broadcastable_shapes(num_shapes=2, max_dims=3))
    a = Tensor(data.draw(arrays(a_shape)), requires_grad=True)
    b = Tensor(data.draw(arrays(b_shape)), requires_grad=True)
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    (a * b).backward(np.ones(out_shape))
    assert_close(a.grad, unbroadcast_oracle(np.broadcast_to(b.numpy(), out_shape), a_shape))
    assert_close(b.grad, unbroadcast_oracle(np.broadcast_to(a.numpy(), out_shape), b_shape))


def unbroadcast_oracle(grad, shape):
    """Slow and obvious: add each element of grad into the input element it was broadcast from."""
    out = np.zeros(shape)
    padded = (1,) * (grad.ndim - len(shape)) + shape
    for index in np.ndindex(grad.shape):
        source = tuple(0 if side == 1 else i for i, side in zip(index, padded, strict=True))
        out.reshape(padded)[source] += grad[index]
    return out


def test_step7_max_splits_the_gradient_between_tied_maxima():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    assert_close(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


# --- errors: 01's checks still speak through the autograd Tensor ---------------------------


def test_step5_add_names_both_shapes_when_they_do_not_broadcast():
    with pytest.raises(ValueError, match=r"add: shapes must broadcast, got \(2, 3\) and \(4,\)"):
        Tensor(np.ones((2, 3)), requires_grad=True) + Tensor(np.ones(4))


def test_step5_mixing_float32_and_float64_is_an_error():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="mul: dtypes must match, got float32 and float64"):
        x * Tensor(np.ones(2))
    with pytest.raises(TypeError, match="requires_grad needs a floating dtype, got int64"):
        Tensor(np.array([1, 2], dtype=np.int64), requires_grad=True)


# 01's promotion rule holds through autograd: an int or bool tensor meeting a Python float gives
# float64 (the default float dtype); a float tensor keeps its dtype. Oracle: Python arithmetic.
PROMOTIONS = {
    "t * 0.5": (lambda t: t * 0.5, lambda v: v * 0.5),
    "t + 0.5": (lambda t: t + 0.5, lambda v: v + 0.5),
    "0.5 - t": (lambda t: 0.5 - t, lambda v: 0.5 - v),
    "t / 2": (lambda t: t / 2, lambda v: v / 2),
    "2.5 * t": (lambda t: 2.5 * t, lambda v: 2.5 * v),
}


@pytest.mark.parametrize("expression", PROMOTIONS)
@pytest.mark.parametrize("values", [[1, 2, 3], [True, True, False]], ids=["int", "bool"])
def test_step5_an_int_or_bool_tensor_meeting_a_python_float_gives_float64(expression, values):
    on_tensor, on_number = PROMOTIONS[expression]
    out = on_tensor(Tensor(values))
    assert out.dtype == np.float64, f"{expression} on {np.asarray(values).dtype} gave {out.dtype}"
    assert_close(out, np.array([on_number(float(v)) for v in values]), what=expression)


def test_step5_a_python_int_or_float_keeps_a_float32_tensor_float32():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = 3 * x + 1 - x / 2 + 0.5
    assert y.dtype == np.float32
    y.backward(np.ones(2, dtype=np.float32))
    assert x.grad.dtype == np.float32
    assert_close(x.grad, np.full(2, 2.5, dtype=np.float32))


def test_step5_a_numpy_scalar_on_the_left_is_a_number_and_an_ndarray_is_refused():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = np.float64(3.0) * x  # NumPy must defer to Tensor.__rmul__, not build an object array
    assert isinstance(y, Tensor) and y.dtype == np.float32
    y.backward(np.ones(2, dtype=np.float32))
    assert_close(x.grad, np.array([3.0, 3.0], dtype=np.float32))
    with pytest.raises(TypeError, match="mul: operand must be a Tensor or a Python number, got ndarray"):
        np.ones(2, dtype=np.float32) * x


def test_step5_none_kata_01s_tensor_and_bool_negation_are_refused():
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="add: operand must be a Tensor or a Python number, got NoneType"):
        x + None
    with pytest.raises(
        TypeError, match=r"sub: operand must be a Tensor or a Python number, got tinytorch\.tensor\.Tensor"
    ):
        x - base.Tensor(np.ones(2))
    with pytest.raises(TypeError, match="neg: dtype must not be bool, got bool"):
        -Tensor([True, False])


def test_step5_the_gradient_of_a_to_the_power_0_is_0_even_at_a_equals_0():
    a = Tensor(np.array([0.0, 2.0, -1.5]), requires_grad=True)
    (a**0).backward(np.ones(3))
    assert_close(a.grad, np.zeros(3), rtol=0, atol=0)


def test_step5_div_gradients_are_exact_where_b_squared_overflows_or_underflows():
    values = np.array([1e160, 1e-170, 3.0])  # b² is inf, 0 (underflow), and an ordinary 9
    a, b = Tensor(values.copy(), requires_grad=True), Tensor(values.copy(), requires_grad=True)
    (a / b).backward(np.ones(3))
    assert_close(a.grad, 1.0 / values, rtol=1e-12, atol=0)  # d(a/b)/da = 1/b
    assert_close(b.grad, -values / values / values, rtol=1e-12, atol=0)  # -a/b², here -1/b


def test_step6_matmul_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions must match, got \(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3)), requires_grad=True) @ Tensor(np.ones((4, 5)))


def test_step6_matmul_refuses_operands_that_fit_only_after_a_transpose():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions must match, got \(2, 3\) @ \(4, 3\)"):
        Tensor(np.ones((2, 3)), requires_grad=True) @ Tensor(np.ones((4, 3)))


class Flip(Function):
    """a.T as a view, like ``weight.T``; its backward records the layout of the gradient it gets."""

    layouts: ClassVar[list[bool]] = []

    @staticmethod
    def forward(ctx, a):
        return a.T

    @staticmethod
    def backward(ctx, grad):
        Flip.layouts.append(grad.T.flags.c_contiguous)  # laid out like the transposed view?
        return grad.T


def test_step6_the_gradient_of_a_transposed_operand_is_laid_out_like_it(rng):
    x = Tensor(rng.standard_normal((5, 4)))
    weight = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    Flip.layouts = []
    (x @ Flip.apply(weight)).backward(np.ones((5, 3)))  # as Linear's x @ weight.T
    assert Flip.layouts == [True], "MatMul's gradient for a transposed view must come in that view's layout"
    assert_close(weight.grad, (x.numpy().T @ np.ones((5, 3))).T)


# Each two-input op computes only the gradients its inputs need (ctx.needs_input_grad): the
# gradient of an input batch is a whole extra product. Read through the engine's own entry,
# Function.gradients: None in the slot of the input that needs none, the right array in the other.
# (The matmul row computes a @ b.T: MatMul's second input is b.T, whose gradient is aᵀ @ g.)
SKIPS = [
    pytest.param(lambda a, b: a + b, lambda a, b, g: (g, g), id="step5-add"),
    pytest.param(lambda a, b: a - b, lambda a, b, g: (g, -g), id="step5-sub"),
    pytest.param(lambda a, b: a * b, lambda a, b, g: (g * b, g * a), id="step5-mul"),
    pytest.param(lambda a, b: a / b, lambda a, b, g: (g / b, -g * a / b**2), id="step5-div"),
    pytest.param(lambda a, b: a @ b.T, lambda a, b, g: (g @ b, a.T @ g), id="step6-matmul"),
]


@pytest.mark.parametrize(("fn", "oracle"), SKIPS)
@pytest.mark.parametrize("trained", [0, 1])
def test_an_input_that_needs_no_gradient_gets_none_computed(fn, oracle, trained, rng):
    arrays_in = [rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(0.5, 2.0, (3, 4))]
    inputs = [Tensor(x, requires_grad=(i == trained)) for i, x in enumerate(arrays_in)]
    out = fn(*inputs)
    upstream = rng.standard_normal(out.shape)
    grads = out.grad_fn.gradients(upstream)
    assert grads[1 - trained] is None, f"input {1 - trained} does not require grad: its gradient must be None"
    assert_close(grads[trained], oracle(*arrays_in, upstream)[trained])


def test_step7_sum_names_the_axis_out_of_range():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a tensor of 2 dimensions"):
        Tensor(np.ones((2, 3)), requires_grad=True).sum(axis=2)


def test_step7_a_bool_axis_is_refused():
    with pytest.raises(TypeError, match="sum: axis must be an int, a tuple of ints or None, got True"):
        Tensor(np.ones((2, 3)), requires_grad=True).sum(axis=True)


def test_step7_the_mean_of_an_int_or_bool_tensor_is_float64():
    for x in (np.array([[1, 2, 4], [3, 3, 4]]), np.array([[True, False, True], [False, False, False]])):
        out = Tensor(x).mean(axis=1)
        assert out.dtype == np.float64, f"mean of {x.dtype} gave {out.dtype}"
        assert_close(out, x.astype(np.float64).sum(axis=1) / 3)


# --- all together: random expressions over every kind of operation ------------------------

EVERY_KIND = {
    "add": lambda left, right: left + right,
    "mul": lambda left, right: left * right,
    "sub": lambda left, right: left - right,
    "div": lambda left, right: left / (right * right + 1.0),
    "matmul": lambda left, right: left @ right.T,
    "mean": lambda left, right: left.mean(axis=0) + right,
    "tanh": lambda left, right: left.tanh(),
    "exp": lambda left, right: (left * 0.5).exp(),
}
every_kind_steps = st.lists(
    st.tuples(st.sampled_from(sorted(EVERY_KIND)), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=6
)


@given(every_kind_steps, st.data())
def test_step8_random_expressions_of_every_kind_have_correct_gradients(steps, data):
    a, b = data.draw(arrays((3, 3), "unit")), data.draw(arrays((3, 3), "unit"))
    gradcheck_tensors("random expression", lambda x, y: build(steps, EVERY_KIND, x, y), [a, b])
