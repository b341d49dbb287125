"""Kata 06 optimizers. Run: pytest exercises/06_optimizers   (one step: -k "step1" ... "step5").

Every update is checked against PyTorch's rule written out below in plain NumPy (`sgd_oracle`,
`adam_oracle`): a slow, obvious twin that builds new arrays at every line. Parameters are
autograd Tensors with requires_grad=True; gradients are set by hand (`p.grad = ...`), as
`backward()` would leave them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch import tensor as base
from tinytorch.autograd import Tensor
from tinytorch.optimizers import SGD, Adam, AdamW, Optimizer
from tinytorch.testing import assert_close, memory_budget, returned
from tinytorch.testing.strategies import arrays, shapes

# Non-square, a vector, a 3-d block and a 0-d scalar: an update treats every element alike,
# but a stray transpose, reshape or scalar conversion shows up on one of these.
SHAPES = [(3, 4), (5,), (2, 3, 2), ()]
STEPS = 4
SMALL_SHAPE = shapes(max_dims=3)


def make_params(rng: np.random.Generator, shape_list=SHAPES, dtype=np.float64) -> list[Tensor]:
    return [Tensor(np.asarray(rng.standard_normal(shape), dtype=dtype), requires_grad=True) for shape in shape_list]


def make_grads(rng: np.random.Generator, params: list[Tensor], steps: int = STEPS) -> list[list[np.ndarray]]:
    """Random gradients for `steps` steps, with scales from 0.01 to 100 (Adam must not care)."""
    return [
        [np.asarray(rng.standard_normal(p.shape) * 10.0 ** rng.uniform(-2, 2), dtype=p.dtype) for p in params]
        for _ in range(steps)
    ]


def run(optimizer: Optimizer, params: list[Tensor], grads_per_step) -> None:
    """Set each parameter's gradient (None: no gradient this step) and call step(), per step."""
    for grads in grads_per_step:
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        optimizer.step()


def values(params: list[Tensor]) -> list[np.ndarray]:
    return [p.numpy().copy() for p in params]


def sgd_oracle(params, grads_per_step, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """PyTorch's torch.optim.SGD, written out one parameter at a time, on new arrays."""
    params = [np.array(p, dtype=np.float64) for p in params]
    buffers = [None] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = g + weight_decay * params[i]
            if momentum != 0:
                buffers[i] = g.copy() if buffers[i] is None else momentum * buffers[i] + g
                g = g + momentum * buffers[i] if nesterov else buffers[i]
            params[i] = params[i] - lr * g
    return params


def adam_oracle(params, grads_per_step, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    """Adam as in the paper, with PyTorch's weight decay: L2 (Adam) or decoupled (AdamW).

    Each parameter counts its own steps t (a step without gradient does not count), and the
    bias-corrected moments are m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t).
    """
    beta1, beta2 = betas
    params = [np.array(p, dtype=np.float64) for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0] * len(params)
    for grads in grads_per_step:
        for i, g in enumerate(grads):
            if g is None:
                continue
            p = params[i]
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            t[i] += 1
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** t[i])
            v_hat = v[i] / (1 - beta2 ** t[i])
            params[i] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


def state_bytes(optimizer: Optimizer) -> int:
    """The bytes of every array the optimizer keeps as per-parameter state."""
    return sum(v.nbytes for entry in optimizer.state.values() for v in entry.values() if isinstance(v, np.ndarray))


# --- step 1: the optimizer holds the parameters --------------------------------------------


def test_step1_the_optimizer_reads_a_generator_once_and_keeps_the_parameters_themselves(rng):
    params = make_params(rng)
    optimizer = Optimizer(p for p in params)
    assert isinstance(optimizer.params, list)
    assert len(optimizer.params) == len(params)
    assert all(kept is given for kept, given in zip(optimizer.params, params, strict=True))
    assert optimizer.state == {}
    assert optimizer.step_count == 0


def test_step1_zero_grad_sets_every_gradient_to_none(rng):
    params = make_params(rng)
    for p in params[:-1]:
        p.grad = np.ones(p.shape)  # the last one has no gradient already
    Optimizer(params).zero_grad()
    assert all(p.grad is None for p in params)


def test_step1_the_optimizer_rejects_what_it_cannot_train():
    trainable = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="params must contain at least one tensor, got an empty list"):
        Optimizer([])
    with pytest.raises(ValueError, match="params must contain at least one tensor"):
        Optimizer(p for p in [])
    with pytest.raises(ValueError, match="parameter 1 must require grad, got requires_grad=False"):
        Optimizer([trainable, Tensor(np.ones(3))])
    with pytest.raises(TypeError, match="parameter 0 must be a Tensor, got ndarray"):
        Optimizer([np.ones(3)])
    with pytest.raises(ValueError, match="parameters must be distinct, got parameter 0 again at position 1"):
        Optimizer([trainable, trainable])
    # A Tensor is iterable (its rows): without a check, Optimizer(w) would keep rows that never get a grad.
    with pytest.raises(TypeError, match="params must be an iterable of Tensors, got a single Tensor"):
        Optimizer(Tensor(np.ones((2, 3)), requires_grad=True))
    with pytest.raises(ValueError, match="parameter 1 must be a leaf tensor, got the output of an operation"):
        Optimizer([trainable, trainable * 2.0])


class Model:
    """A stand-in for a kata 04 model: it has parameters(), and (like a Sequential) is iterable."""

    def __init__(self):
        self.weight = Tensor(np.ones((2, 3)), requires_grad=True)

    def parameters(self):
        yield self.weight

    def __iter__(self):
        return iter([self])


def test_step1_the_optimizer_says_what_to_pass_when_given_a_model_or_something_not_iterable():
    # SGD(model) instead of SGD(model.parameters()): say what to pass, not "'Linear' object is not iterable".
    with pytest.raises(
        TypeError, match=r"^optimizer: params must be an iterable of Tensors such as model\.parameters\(\), got Model$"
    ):
        Optimizer(Model())
    with pytest.raises(
        TypeError, match=r"params must be an iterable of Tensors such as model\.parameters\(\), got int$"
    ):
        Optimizer(3)
    assert Optimizer(Model().parameters()).params[0].shape == (2, 3)


def test_step1_the_optimizer_names_a_kata_01_tensor_as_such():
    with pytest.raises(TypeError, match=r"^optimizer: parameter 0 must be a Tensor, got tinytorch\.tensor\.Tensor$"):
        Optimizer([base.Tensor(np.ones(3))])


# --- step 2: SGD ---------------------------------------------------------------------------

SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.02, momentum=0.5, weight_decay=0.01),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.03, momentum=0.8, weight_decay=0.2, nesterov=True),
]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_step2_sgd_follows_the_update_written_out_over_several_steps(rng, config):
    params = make_params(rng)
    start = values(params)
    grads = make_grads(rng, params)
    run(SGD(params, **config), params, grads)
    for i, (p, expected) in enumerate(zip(params, sgd_oracle(start, grads, **config), strict=True)):
        assert_close(p, expected, rtol=1e-9, atol=1e-12, what=f"parameter {i} of shape {p.shape}")


def test_step2_the_first_momentum_step_is_a_plain_sgd_step_then_momentum_accumulates(rng):
    (p,) = make_params(rng, [(3, 4)])
    p0 = p.numpy().copy()
    g1, g2 = rng.standard_normal((2, 3, 4))
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    run(optimizer, [p], [[g1]])
    assert_close(p, p0 - 0.1 * g1, rtol=1e-12, what="after step 1 (b = g, not (1 - μ)·g nor μ·0 + g·lr)")
    assert_close(optimizer.state[0]["momentum_buffer"], g1, rtol=1e-12, what="momentum buffer after step 1")
    run(optimizer, [p], [[g2]])
    assert_close(p, p0 - 0.1 * g1 - 0.1 * (0.9 * g1 + g2), rtol=1e-12, what="after step 2")


def test_step2_momentum_accumulates_on_a_0d_parameter_whose_gradient_is_a_numpy_scalar():
    # backward() on a 0-d parameter leaves a NumPy scalar (np.float64) in .grad, not a 0-d array:
    # a buffer made by g.copy() would be another immutable scalar that `buffer *= μ` cannot change.
    grads = [[np.float64(2.0)], [np.float64(-1.0)], [np.float64(0.5)]]
    for nesterov in (False, True):
        p = Tensor(np.array(1.0), requires_grad=True)
        optimizer = SGD([p], lr=0.1, momentum=0.9, nesterov=nesterov)
        run(optimizer, [p], grads)
        (expected,) = sgd_oracle([np.array(1.0)], grads, lr=0.1, momentum=0.9, nesterov=nesterov)
        assert_close(p, expected, rtol=1e-12, atol=1e-15, what=f"a 0-d parameter after 3 steps, nesterov={nesterov}")
        buffer = optimizer.state[0]["momentum_buffer"]
        assert isinstance(buffer, np.ndarray), f"the momentum buffer must be an ndarray, got {type(buffer)}"
        assert_close(buffer, 0.81 * 2.0 + 0.9 * -1.0 + 0.5, rtol=1e-12, what="the buffer μ²·g1 + μ·g2 + g3")


def test_step2_nesterov_looks_ahead_along_the_momentum(rng):
    (p,) = make_params(rng, [(2, 5)])
    p0 = p.numpy().copy()
    g1, g2 = rng.standard_normal((2, 2, 5))
    optimizer = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    run(optimizer, [p], [[g1]])
    assert_close(p, p0 - 0.1 * (g1 + 0.9 * g1), rtol=1e-12, what="after step 1: g + μ·b with b = g")
    b2 = 0.9 * g1 + g2
    run(optimizer, [p], [[g2]])
    assert_close(p, p0 - 0.1 * 1.9 * g1 - 0.1 * (g2 + 0.9 * b2), rtol=1e-12, what="after step 2")


def test_step2_step_updates_the_same_array_in_place_and_leaves_the_gradient_alone(rng):
    (p,) = make_params(rng, [(4, 3)])
    start = values([p])
    storage, view = p.data, p.data[1:, ::2]  # a view taken before the steps
    grad = rng.standard_normal((4, 3))
    grad_before = grad.copy()
    config = dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)
    optimizer = SGD([p], **config)
    run(optimizer, [p], [[grad], [grad]])
    assert p.data is storage, "step() must update p.data in place, not bind a new array"
    (expected,) = sgd_oracle(start, [[grad_before], [grad_before]], **config)
    assert_close(view, expected[1:, ::2], rtol=1e-12, atol=1e-12, what="a view taken before the steps")
    assert p.grad is grad
    assert_close(grad, grad_before, rtol=0, atol=0, what="p.grad after step() (weight decay must not write into it)")


def test_step2_parameters_without_a_gradient_are_skipped_and_get_no_state(rng):
    params = make_params(rng, [(3,), (2, 2)])
    untouched = params[1].numpy().copy()
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    run(optimizer, params, [[rng.standard_normal(3), None], [rng.standard_normal(3), None]])
    assert_close(params[1], untouched, rtol=0, atol=0, what="a parameter whose grad is None")
    assert list(optimizer.state) == [0]
    assert optimizer.step_count == 2


def test_step2_step_records_no_graph_and_leaves_gradient_recording_on(rng):
    params = make_params(rng)
    run(SGD(params, lr=0.1, momentum=0.5), params, make_grads(rng, params, steps=1))
    for p in params:
        assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert (params[0] * 2.0).requires_grad


def test_step2_float32_parameters_stay_float32_and_so_does_the_momentum_buffer(rng):
    params = make_params(rng, dtype=np.float32)
    start = values(params)
    grads = make_grads(rng, params)
    optimizer = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01)
    run(optimizer, params, grads)
    expected = sgd_oracle(start, grads, lr=0.1, momentum=0.9, weight_decay=0.01)
    for p, e in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        assert_close(p, e.astype(np.float32), rtol=1e-4, atol=1e-5)
    assert all(entry["momentum_buffer"].dtype == np.float32 for entry in optimizer.state.values())


def test_step2_sgd_state_is_one_buffer_per_parameter_with_momentum_and_none_without(rng):
    params = make_params(rng, [(64, 32), (32,), (5, 3, 2)])
    param_bytes = sum(p.nbytes for p in params)
    plain, heavy = SGD(params, lr=0.1), SGD(params, lr=0.1, momentum=0.9)
    grads = make_grads(rng, params, steps=2)
    run(plain, params, grads)
    run(heavy, params, grads)
    assert state_bytes(plain) == 0
    assert state_bytes(heavy) == param_bytes


@given(
    x=arrays(SMALL_SHAPE),
    data=st.data(),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    weight_decay=st.floats(0.0, 1.0),
)
def test_step2_sgd_with_learning_rate_zero_leaves_parameters_unchanged(x, data, momentum, weight_decay):
    p = Tensor(x.copy(), requires_grad=True)
    optimizer = SGD([p], lr=0.0, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    for _ in range(3):
        p.grad = data.draw(arrays(x.shape))
        optimizer.step()
    assert_close(p, x, rtol=0, atol=0, what="parameter after steps with lr = 0")


@given(
    x=arrays(SMALL_SHAPE),
    lr=st.floats(0.0, 10.0),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    nesterov=st.booleans(),
)
def test_step2_sgd_on_zero_gradients_without_decay_leaves_parameters_unchanged(x, lr, momentum, nesterov):
    p = Tensor(x.copy(), requires_grad=True)
    optimizer = SGD([p], lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0)
    for _ in range(3):
        p.grad = np.zeros(x.shape)
        optimizer.step()
    assert_close(p, x, rtol=0, atol=0, what="parameter after steps on zero gradients")


def test_step2_sgd_rejects_bad_hyperparameters():
    params = [Tensor(np.ones(3), requires_grad=True)]
    with pytest.raises(ValueError, match=r"SGD: lr must be >= 0, got -0.1"):
        SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match=r"SGD: momentum must be >= 0, got -0.5"):
        SGD(params, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="SGD: weight_decay must be >= 0, got -1"):
        SGD(params, lr=0.1, weight_decay=-1)
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got nan"):
        SGD(params, lr=float("nan"))
    with pytest.raises(ValueError, match=r"SGD: momentum must be > 0 for nesterov, got 0.0"):
        SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="params must contain at least one tensor"):
        SGD([], lr=0.1)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(lr="0.1"), TypeError, "SGD: lr must be a real number, got str"),
        (dict(lr=True), TypeError, "SGD: lr must be a real number, got bool"),
        (dict(lr=0.1, momentum=None), TypeError, "SGD: momentum must be a real number, got NoneType"),
        (dict(lr=0.1, momentum=0.9, nesterov="yes"), TypeError, "SGD: nesterov must be a bool, got str"),
        (dict(lr=float("inf")), ValueError, "SGD: lr must be finite, got inf"),
        (dict(lr=0.1, weight_decay=float("-inf")), ValueError, "SGD: weight_decay must be >= 0, got -inf"),
    ],
    ids=["str lr", "bool lr", "None momentum", "str nesterov", "inf lr", "-inf decay"],
)
def test_step2_sgd_rejects_hyperparameters_of_the_wrong_type_or_infinite(options, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        SGD([Tensor(np.ones(3), requires_grad=True)], **options)


def test_step2_step_names_a_gradient_that_is_not_an_array_of_the_parameter_dtype():
    p = Tensor(np.ones(3), requires_grad=True)
    p.grad = [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match=r"^step: gradient of parameter 0 must be an ndarray, got list$"):
        SGD([p], lr=0.1).step()
    p.grad = np.ones(3, dtype=np.float32)  # would be converted silently by the in-place updates
    with pytest.raises(TypeError, match=r"^step: gradient of parameter 0 must have its dtype float64, got float32$"):
        SGD([p], lr=0.1).step()
    assert_close(p, np.ones(3), rtol=0, atol=0, what="a parameter whose gradient was refused")


def test_step2_step_names_a_parameter_whose_gradient_has_the_wrong_shape():
    params = [Tensor(np.ones(2), requires_grad=True), Tensor(np.ones((3, 4)), requires_grad=True)]
    params[1].grad = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"gradient of parameter 1 must have its shape \(3, 4\), got \(4, 3\)"):
        SGD(params, lr=0.1).step()


# --- step 3: Adam --------------------------------------------------------------------------

ADAM_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.1, betas=(0.5, 0.9)),
    dict(lr=0.01, eps=1e-3),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5),
]


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=str)
def test_step3_adam_follows_the_update_written_out_over_several_steps(rng, config):
    params = make_params(rng)
    start = values(params)
    grads = make_grads(rng, params)
    run(Adam(params, **config), params, grads)
    for i, (p, expected) in enumerate(zip(params, adam_oracle(start, grads, **config), strict=True)):
        assert_close(p, expected, rtol=1e-9, atol=1e-12, what=f"parameter {i} of shape {p.shape}")


def test_step3_adam_defaults_are_pytorchs(rng):
    params = make_params(rng)
    optimizer = Adam(params)
    assert (optimizer.lr, optimizer.betas, optimizer.eps, optimizer.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    start, grads = values(params), make_grads(rng, params)
    run(optimizer, params, grads)
    for p, expected in zip(params, adam_oracle(start, grads, lr=1e-3), strict=True):
        assert_close(p, expected, rtol=1e-9, atol=1e-12)


@given(
    shape=SMALL_SHAPE,
    data=st.data(),
    exponent=st.floats(-2.0, 3.0),
    lr=st.sampled_from([1e-3, 0.01, 0.3]),
)
def test_step3_bias_correction_makes_the_first_step_lr_whatever_the_gradient_scale(shape, data, exponent, lr):
    # At t = 1: m̂ = g and √v̂ = |g|, so Δp = -lr·g / (|g| + ε) ≈ -lr·sign(g). Without the
    # correction the first step would be lr·(1 - β1)/√(1 - β2) ≈ 3.2·lr. Here |g| >= 1e-4,
    # so |Δp| falls short of lr by ε/(|g| + ε) < 1e-4, relative; rtol = 2e-4 doubles that for
    # float64 rounding (~1e-12 relative to lr: |x| <= 10 and lr >= 1e-3).
    x = data.draw(arrays(shape))
    g = data.draw(arrays(shape, "away_from_zero")) * 10.0**exponent
    p = Tensor(x.copy(), requires_grad=True)
    p.grad = g
    Adam([p], lr=lr).step()
    step = p.numpy() - x
    assert_close(np.abs(step), np.full(shape, lr), rtol=2e-4, atol=0, what="|first step|")
    assert np.all(np.sign(step) == -np.sign(g))


@given(x=arrays(SMALL_SHAPE), data=st.data(), scale=st.floats(1e-3, 1e3))
def test_step3_adam_without_eps_ignores_the_scale_of_the_gradients(x, data, scale):
    # m scales with c and √v with c: m̂ / √v̂ is the same for g and c·g.
    grads = [data.draw(arrays(x.shape, "away_from_zero")) for _ in range(3)]
    p, q = Tensor(x.copy(), requires_grad=True), Tensor(x.copy(), requires_grad=True)
    run(Adam([p], lr=0.01, eps=0.0), [p], [[g] for g in grads])
    run(Adam([q], lr=0.01, eps=0.0), [q], [[g * scale] for g in grads])
    assert_close(q, p.numpy(), rtol=1e-9, atol=1e-12, what="parameter trained on scaled gradients")


@given(x=arrays(SMALL_SHAPE), lr=st.floats(0.0, 1.0), eps=st.sampled_from([1e-8, 1e-3]))
def test_step3_adam_on_zero_gradients_without_decay_leaves_parameters_unchanged(x, lr, eps):
    p = Tensor(x.copy(), requires_grad=True)
    optimizer = Adam([p], lr=lr, eps=eps)
    for _ in range(3):
        p.grad = np.zeros(x.shape)
        optimizer.step()
    assert_close(p, x, rtol=0, atol=0, what="parameter after steps on zero gradients")


def test_step3_each_parameter_counts_its_own_steps_for_bias_correction(rng):
    # The second parameter has no gradient at step 1: its first update, at step 2, is still a
    # first step (t = 1 for it), of size lr, like PyTorch's per-parameter "step".
    params = make_params(rng, [(3,), (2, 3)])
    late = params[1].numpy().copy()
    g_late = rng.standard_normal((2, 3))
    optimizer = Adam(params, lr=0.01)
    run(optimizer, params, [[rng.standard_normal(3), None], [rng.standard_normal(3), g_late]])
    assert (optimizer.state[0]["step"], optimizer.state[1]["step"], optimizer.step_count) == (2, 1, 2)
    assert_close(params[1], late - 0.01 * g_late / (np.abs(g_late) + 1e-8), rtol=1e-12, what="a late parameter")


def test_step3_adam_on_a_0d_parameter_whose_gradient_is_a_numpy_scalar():
    # backward() on a 0-d parameter leaves a NumPy scalar (np.float64) in .grad: m and v must
    # still be arrays that the steps update, with and without L2 decay.
    grads = [[np.float64(2.0)], [np.float64(-1.0)], [np.float64(0.5)]]
    for weight_decay in (0.0, 0.1):
        p = Tensor(np.array(1.0), requires_grad=True)
        optimizer = Adam([p], lr=0.1, weight_decay=weight_decay)
        run(optimizer, [p], grads)
        (expected,) = adam_oracle([np.array(1.0)], grads, lr=0.1, weight_decay=weight_decay)
        assert_close(p, expected, rtol=1e-12, atol=1e-15, what=f"a 0-d parameter after 3 steps, λ={weight_decay}")
        assert all(isinstance(optimizer.state[0][name], np.ndarray) for name in ("exp_avg", "exp_avg_sq"))


def test_step3_adam_with_l2_decay_and_zero_gradient_moves_every_weight_by_lr_towards_zero():
    # The decay enters as a gradient g = λ·p, and Adam divides it by √v̂ = λ·|p|: the step is
    # lr·sign(p), the same for a weight of 0.02 as for one of 100, and nearly independent of λ.
    x = np.array([0.02, -0.5, 3.0, -100.0])
    steps = {}
    for weight_decay in (0.1, 10.0):
        p = Tensor(x.copy(), requires_grad=True)
        run(Adam([p], lr=0.01, weight_decay=weight_decay), [p], [[np.zeros(4)]])
        expected = adam_oracle([x], [[np.zeros(4)]], lr=0.01, weight_decay=weight_decay)[0]
        assert_close(p, expected, rtol=1e-12, what=f"Adam(weight_decay={weight_decay}) on a zero gradient")
        steps[weight_decay] = p.numpy() - x
    assert_close(steps[0.1], -0.01 * np.sign(x), rtol=1e-5, what="step with λ = 0.1")
    assert_close(steps[10.0], steps[0.1], rtol=1e-5, what="step with λ = 10 against λ = 0.1")


def test_step3_adam_state_is_exactly_twice_the_parameter_bytes(rng):
    params = make_params(rng, [(64, 32), (32,), (5, 3, 2)]) + make_params(rng, [(7, 9)], dtype=np.float32)
    optimizer = Adam(params)
    run(optimizer, params, make_grads(rng, params, steps=2))
    assert state_bytes(optimizer) == 2 * sum(p.nbytes for p in params)
    assert all(optimizer.state[i]["exp_avg"].dtype == p.dtype for i, p in enumerate(params))


def test_step3_adam_updates_in_place_and_records_no_graph(rng):
    params = make_params(rng)
    storages = [p.data for p in params]
    grads = make_grads(rng, params)
    grads_before = [[g.copy() for g in step] for step in grads]
    run(Adam(params, lr=0.01, weight_decay=0.1), params, grads)
    assert all(p.data is s for p, s in zip(params, storages, strict=True))
    assert all(p.grad is g for p, g in zip(params, grads[-1], strict=True))
    for step, (after, before) in enumerate(zip(grads, grads_before, strict=True)):
        for i, (g, g0) in enumerate(zip(after, before, strict=True)):
            assert_close(g, g0, rtol=0, atol=0, what=f"gradient {i} of step {step} (L2 decay must not write into it)")
    assert all(p.is_leaf and p.requires_grad for p in params)


def test_step3_adam_rejects_bad_hyperparameters():
    params = [Tensor(np.ones(3), requires_grad=True)]
    with pytest.raises(ValueError, match="Adam: lr must be >= 0, got -1"):
        Adam(params, lr=-1)
    with pytest.raises(ValueError, match="Adam: eps must be >= 0, got -1e-08"):
        Adam(params, eps=-1e-8)
    with pytest.raises(ValueError, match=r"Adam: weight_decay must be >= 0, got -0.1"):
        Adam(params, weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"Adam: betas must be in \[0, 1\), got \(0.9, 1.0\)"):
        Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"Adam: betas must be in \[0, 1\), got \(-0.1, 0.999\)"):
        Adam(params, betas=(-0.1, 0.999))
    with pytest.raises(ValueError, match="must require grad"):
        Adam([Tensor(np.ones(3))])


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(betas=0.9), TypeError, r"Adam: betas must be a pair of real numbers, got 0\.9"),
        (dict(betas=(0.9,)), TypeError, r"Adam: betas must be a pair of real numbers, got \(0\.9,\)"),
        (dict(betas=("0.9", 0.999)), TypeError, r"Adam: betas must be a pair of real numbers, got \('0\.9', 0\.999\)"),
        (dict(betas=(float("nan"), 0.999)), ValueError, r"Adam: betas must be in \[0, 1\), got \(nan, 0\.999\)"),
        (dict(eps="1e-8"), TypeError, "Adam: eps must be a real number, got str"),
        (dict(lr=float("inf")), ValueError, "Adam: lr must be finite, got inf"),
    ],
    ids=["float betas", "one beta", "str beta", "nan beta", "str eps", "inf lr"],
)
def test_step3_adam_rejects_hyperparameters_of_the_wrong_type_or_value(options, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        Adam([Tensor(np.ones(3), requires_grad=True)], **options)


def test_step3_adam_keeps_betas_given_as_a_list_as_a_tuple():
    assert Adam([Tensor(np.ones(3), requires_grad=True)], betas=[0.8, 0.9]).betas == (0.8, 0.9)


def test_step3_adam_keeps_moving_float32_parameters_whose_gradients_square_beyond_float32():
    # g² overflows float32 above 1.8e19: an infinite v gives m / inf = 0 and the parameter stops.
    # The contract computes ((1 - β2)·g)·g: v = (1 - β2^t)·g² after t steps of the same g, finite
    # while below 3.4e38: at t = 3 (≈ 0.003·g²) for |g| up to 3.4e20.
    # Oracle: the same steps in float64, where nothing overflows; each step is ≈ lr·sign(g).
    start = np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32)
    grads = [[np.array([1e20, -2e19, 2e20, -1e20], dtype=np.float32)] for _ in range(3)]
    p = Tensor(start.copy(), requires_grad=True)
    optimizer = Adam([p], lr=0.01)
    run(optimizer, [p], grads)
    expected = adam_oracle(
        [start.astype(np.float64)], [[g.astype(np.float64) for g in step] for step in grads], lr=0.01
    )
    assert p.dtype == np.float32
    assert_close(
        p, expected[0].astype(np.float32), rtol=1e-6, atol=0, what="float32 parameters after 3 steps on |g| ≥ 2e19"
    )
    assert np.all(np.isfinite(optimizer.state[0]["exp_avg_sq"])), "v must stay finite"


def test_step3_adam_on_float32_parameters_computes_in_float32(rng):
    params = make_params(rng, dtype=np.float32)
    start, grads = values(params), make_grads(rng, params)
    optimizer = Adam(params, lr=0.01, weight_decay=0.1)
    run(optimizer, params, grads)
    expected = adam_oracle(start, grads, lr=0.01, weight_decay=0.1)
    for i, (p, e) in enumerate(zip(params, expected, strict=True)):
        assert p.dtype == np.float32, f"parameter {i} must stay float32, got {p.dtype}"
        assert_close(p, e.astype(np.float32), rtol=1e-5, atol=1e-6, what=f"float32 parameter {i}")
    for i, entry in optimizer.state.items():
        assert entry["exp_avg"].dtype == entry["exp_avg_sq"].dtype == np.float32, f"state of parameter {i}"


# --- step 4: AdamW -------------------------------------------------------------------------

ADAMW_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5),
]


@pytest.mark.parametrize("config", ADAMW_CONFIGS, ids=str)
def test_step4_adamw_follows_the_update_written_out_over_several_steps(rng, config):
    params = make_params(rng)
    start = values(params)
    grads = make_grads(rng, params)
    optimizer = AdamW(params, **config)
    run(optimizer, params, grads)
    expected = adam_oracle(start, grads, decoupled=True, **{"weight_decay": 1e-2, **config})
    for i, (p, e) in enumerate(zip(params, expected, strict=True)):
        assert_close(p, e, rtol=1e-9, atol=1e-12, what=f"parameter {i} of shape {p.shape}")


def test_step4_adamw_weight_decay_defaults_to_one_hundredth(rng):
    assert AdamW(make_params(rng)).weight_decay == 1e-2


def test_step4_adamw_decouples_decay_each_weight_shrinks_by_the_same_factor():
    # Zero gradient: m = v = 0, the Adam update is 0 / (0 + ε) = 0, and only the decay acts:
    # p ← p·(1 - lr·λ) per step, proportional to p. Adam with L2 moves every weight by ≈ lr instead.
    x = np.array([0.02, -0.5, 3.0, -100.0])
    lr, weight_decay = 0.01, 0.1
    p, q = Tensor(x.copy(), requires_grad=True), Tensor(x.copy(), requires_grad=True)
    zero = [[np.zeros(4)]] * 3
    run(AdamW([p], lr=lr, weight_decay=weight_decay), [p], zero)
    run(Adam([q], lr=lr, weight_decay=weight_decay), [q], zero)
    assert_close(p, x * (1 - lr * weight_decay) ** 3, rtol=1e-12, what="AdamW after 3 steps on zero gradients")
    assert_close(q, adam_oracle([x], zero, lr=lr, weight_decay=weight_decay)[0], rtol=1e-9, what="Adam with L2")
    assert_close(x - p.numpy(), x * (1 - (1 - lr * weight_decay) ** 3), rtol=1e-9, what="AdamW: shrink ∝ p")
    # Adam's steps are ≈ lr each (a little less once p, and so λ·p, has shrunk): ≈ 3·lr in all,
    # for the weight of 0.5 as for the weight of 100 (0.02 would overshoot zero: left out).
    assert_close(np.abs(x - q.numpy())[1:], np.full(3, 3 * lr), rtol=1e-3, what="Adam: shrink ≈ 3·lr per weight")


@given(x=arrays(SMALL_SHAPE), data=st.data(), lr=st.sampled_from([1e-3, 0.1]))
def test_step4_adamw_without_decay_is_adam_bit_for_bit(x, data, lr):
    grads = [[data.draw(arrays(x.shape))] for _ in range(3)]
    p, q = Tensor(x.copy(), requires_grad=True), Tensor(x.copy(), requires_grad=True)
    run(AdamW([p], lr=lr, weight_decay=0.0), [p], grads)
    run(Adam([q], lr=lr), [q], grads)
    assert_close(p, q.numpy(), rtol=0, atol=0, what="AdamW(weight_decay=0) against Adam")


def test_step4_adamw_updates_in_place_and_skips_parameters_without_gradient(rng):
    params = make_params(rng, [(3, 2), (4,)])
    storage, frozen = params[0].data, params[1].numpy().copy()
    optimizer = AdamW(params, lr=0.01, weight_decay=0.5)
    run(optimizer, params, [[rng.standard_normal((3, 2)), None]] * 3)
    assert params[0].data is storage
    assert_close(params[1], frozen, rtol=0, atol=0, what="a parameter without gradient is not decayed either")
    assert list(optimizer.state) == [0]


def test_step4_adamw_names_itself_in_its_errors():
    with pytest.raises(ValueError, match=r"AdamW: weight_decay must be >= 0, got -0.01"):
        AdamW([Tensor(np.ones(3), requires_grad=True)], weight_decay=-0.01)
    with pytest.raises(ValueError, match=r"AdamW: betas must be in \[0, 1\)"):
        AdamW([Tensor(np.ones(3), requires_grad=True)], betas=(1.0, 0.999))


# --- step 5: state_dict and load_state_dict ------------------------------------------------

FACTORIES: dict[str, Callable[[list[Tensor]], Optimizer]] = {
    "sgd momentum nesterov decay": lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam with L2": lambda ps: Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
    "adamw": lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
}
# Built with other hyper-parameters on purpose: loading must restore the saved ones.
FRESH: dict[str, Callable[[list[Tensor]], Optimizer]] = {
    "sgd momentum nesterov decay": lambda ps: SGD(ps, lr=9.0),
    "adam with L2": lambda ps: Adam(ps, lr=9.0),
    "adamw": lambda ps: AdamW(ps, lr=9.0, weight_decay=0.0),
}


def is_plain(value) -> bool:
    """Only dicts, tuples, lists, numbers, strings and ndarrays: no Tensor, no optimizer."""
    if isinstance(value, dict):
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return all(is_plain(v) for v in value)
    return isinstance(value, (bool, int, float, str, np.ndarray, np.number))


@pytest.mark.parametrize("kind", FACTORIES)
def test_step5_a_fresh_optimizer_loaded_with_the_state_continues_bit_for_bit(rng, kind):
    params = make_params(rng)
    grads = make_grads(rng, params, steps=6)
    grads[0][1] = None  # parameter 1 skips the first step: its state (and Adam's count) lag
    original = FACTORIES[kind](params)
    run(original, params, grads[:3])
    snapshot = returned(original.state_dict(), "Optimizer.state_dict()")
    twins = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    fresh = FRESH[kind](twins)
    fresh.load_state_dict(snapshot)
    for entry in snapshot["state"].values():  # loading copied the arrays in
        for value in entry.values():
            if isinstance(value, np.ndarray):
                value[...] = 1e6
    run(original, params, grads[3:])
    run(fresh, twins, grads[3:])
    for i, (p, twin) in enumerate(zip(params, twins, strict=True)):
        assert_close(twin, p.numpy(), rtol=0, atol=0, what=f"parameter {i} after loading and 3 more steps")
    assert fresh.step_count == original.step_count == 6
    assert fresh.lr == original.lr


@pytest.mark.parametrize("kind", FACTORIES)
def test_step5_the_state_dict_is_a_snapshot_of_plain_values(rng, kind):
    params = make_params(rng)
    optimizer = FACTORIES[kind](params)
    run(optimizer, params, make_grads(rng, params, steps=2))
    snapshot = returned(optimizer.state_dict(), "Optimizer.state_dict()")
    assert sorted(snapshot) == ["hyperparameters", "state", "step_count"]
    assert is_plain(snapshot), "a state_dict must hold plain values (no Tensor, no optimizer)"
    assert sorted(snapshot["state"]) == list(range(len(params)))
    assert snapshot["step_count"] == 2
    saved = {i: {k: np.copy(v) for k, v in entry.items()} for i, entry in snapshot["state"].items()}
    run(optimizer, params, make_grads(rng, params, steps=1))
    for i, entry in snapshot["state"].items():
        for name, value in entry.items():
            assert_close(value, saved[i][name], rtol=0, atol=0, what=f"{name} of parameter {i} in the snapshot")
            if isinstance(value, np.ndarray):
                assert not np.shares_memory(value, optimizer.state[i][name])


def test_step5_the_state_dict_holds_the_hyperparameters_and_the_per_parameter_state(rng):
    params = make_params(rng, [(2, 3)])
    optimizer = Adam(params, lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    assert optimizer.state_dict() == {
        "hyperparameters": {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1},
        "step_count": 0,
        "state": {},
    }
    run(optimizer, params, make_grads(rng, params, steps=1))
    entry = optimizer.state_dict()["state"][0]
    assert sorted(entry) == ["exp_avg", "exp_avg_sq", "step"]
    assert entry["step"] == 1
    assert entry["exp_avg"].shape == entry["exp_avg_sq"].shape == (2, 3)


def sgd_snapshot(buffer_shape=(3,), index=0) -> dict:
    return {
        "hyperparameters": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False},
        "step_count": 1,
        "state": {index: {"momentum_buffer": np.ones(buffer_shape)}},
    }


def test_step5_load_state_dict_checks_keys_names_indices_and_shapes():
    optimizer = SGD([Tensor(np.ones(3), requires_grad=True), Tensor(np.ones((3, 4)), requires_grad=True)], lr=0.1)
    bad = sgd_snapshot()
    del bad["step_count"]
    with pytest.raises(ValueError, match=r"keys must be \['hyperparameters', 'state', 'step_count'\], got"):
        optimizer.load_state_dict(bad)
    adam_state = Adam([Tensor(np.ones(3), requires_grad=True)]).state_dict()
    with pytest.raises(ValueError, match=r"hyperparameters must be \['lr', 'momentum', 'nesterov', 'weight_decay'\]"):
        optimizer.load_state_dict(adam_state)
    with pytest.raises(ValueError, match=r"state index must be in range\(0, 2\), got 5"):
        optimizer.load_state_dict(sgd_snapshot(index=5))
    bad = sgd_snapshot()
    bad["state"][0] = {"exp_avg": np.ones(3)}
    with pytest.raises(
        ValueError, match=r"state names of parameter 0 must be \['momentum_buffer'\], got \['exp_avg'\]"
    ):
        optimizer.load_state_dict(bad)
    with pytest.raises(ValueError, match=r"momentum_buffer of parameter 1 must have shape \(3, 4\), got \(4, 3\)"):
        optimizer.load_state_dict(sgd_snapshot((4, 3), index=1))


def test_step5_a_rejected_state_dict_leaves_the_optimizer_as_it_was(rng):
    params = make_params(rng, [(3,), (3, 4)])
    optimizer = SGD(params, lr=0.1, momentum=0.5)
    run(optimizer, params, make_grads(rng, params, steps=1))
    before = optimizer.state_dict()
    bad = sgd_snapshot()  # a good entry for parameter 0 ...
    bad["state"][1] = {"momentum_buffer": np.ones((4, 3))}  # ... and a bad one for parameter 1
    with pytest.raises(ValueError, match="must have shape"):
        optimizer.load_state_dict(bad)
    assert (optimizer.lr, optimizer.momentum, optimizer.step_count) == (0.1, 0.5, 1)
    for i in (0, 1):
        assert_close(optimizer.state[i]["momentum_buffer"], before["state"][i]["momentum_buffer"], rtol=0, atol=0)


def adam_snapshot(**changes) -> dict:
    snapshot = {
        "hyperparameters": {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
        "step_count": 2,
        "state": {0: {"step": 2, "exp_avg": np.full(3, 0.1), "exp_avg_sq": np.full(3, 0.01)}},
    }
    for key, value in changes.items():
        if key in snapshot["hyperparameters"]:
            snapshot["hyperparameters"][key] = value
        elif key == "step_count":
            snapshot["step_count"] = value
        else:
            snapshot["state"][0][key] = value
    return snapshot


# What the constructor refuses, loading refuses too, with the constructor's message; counters
# must be integers >= 0 and buffers finite floating-point arrays.
BAD_ADAM_SNAPSHOTS = [
    (adam_snapshot(lr=-1), ValueError, r"^Adam: lr must be >= 0, got -1$"),
    (adam_snapshot(betas=(0.9, 1.5)), ValueError, r"^Adam: betas must be in \[0, 1\), got \(0\.9, 1\.5\)$"),
    (adam_snapshot(betas=0.9), TypeError, r"^Adam: betas must be a pair of real numbers, got 0\.9$"),
    (adam_snapshot(eps="tiny"), TypeError, r"^Adam: eps must be a real number, got str$"),
    (adam_snapshot(step_count=-1), ValueError, r"^load_state_dict: step_count must be an integer >= 0, got -1$"),
    (adam_snapshot(step_count=2.5), ValueError, r"step_count must be an integer >= 0, got 2\.5$"),
    (adam_snapshot(step=-3), ValueError, r"^load_state_dict: step of parameter 0 must be an integer >= 0, got -3$"),
    (adam_snapshot(step=True), ValueError, r"step of parameter 0 must be an integer >= 0, got True$"),
    (
        adam_snapshot(exp_avg=[0.1, 0.1, 0.1]),
        ValueError,
        r"exp_avg of parameter 0 must be a floating-point ndarray, got list$",
    ),
    (
        adam_snapshot(exp_avg=np.ones(3, dtype=np.int64)),
        ValueError,
        r"must be a floating-point ndarray, got dtype int64$",
    ),
    (
        adam_snapshot(exp_avg_sq=np.array([0.01, np.nan, 0.01])),
        ValueError,
        r"^load_state_dict: exp_avg_sq of parameter 0 must be finite, got nan$",
    ),
    (
        adam_snapshot(exp_avg=np.array([0.1, 0.1, np.inf])),
        ValueError,
        r"exp_avg of parameter 0 must be finite, got inf$",
    ),
    (
        adam_snapshot(exp_avg_sq=np.array([0.01, -0.5, 0.01])),
        ValueError,
        r"^load_state_dict: exp_avg_sq of parameter 0 must be >= 0, got -0\.5$",
    ),
    (None, TypeError, r"^load_state_dict: state_dict must be a dict, got NoneType$"),
    (
        {"hyperparameters": [], "step_count": 0, "state": {}},
        TypeError,
        r"^load_state_dict: hyperparameters must be a dict, got list$",
    ),
    (
        {**adam_snapshot(), "state": {0: [1, 2]}},
        TypeError,
        r"^load_state_dict: state of parameter 0 must be a dict, got list$",
    ),
    (
        {**adam_snapshot(), "state": {True: adam_snapshot()["state"][0]}},
        ValueError,
        r"state index must be in range\(0, 1\), got True$",
    ),
]


@pytest.mark.parametrize(
    ("snapshot", "error", "message"),
    BAD_ADAM_SNAPSHOTS,
    ids=[
        "lr -1",
        "beta 1.5",
        "betas 0.9",
        "str eps",
        "step_count -1",
        "step_count 2.5",
        "step -3",
        "step True",
        "list buffer",
        "int buffer",
        "nan buffer",
        "inf buffer",
        "negative v",
        "None",
        "list hyperparameters",
        "list entry",
        "bool index",
    ],
)
def test_step5_load_state_dict_refuses_what_the_constructor_refuses_and_changes_nothing(rng, snapshot, error, message):
    (p,) = make_params(rng, [(3,)])
    optimizer = Adam([p], lr=0.5, betas=(0.5, 0.6))
    run(optimizer, [p], make_grads(rng, [p], steps=1))
    before = optimizer.state_dict()
    with pytest.raises(error, match=message):
        optimizer.load_state_dict(snapshot)
    assert (optimizer.lr, optimizer.betas, optimizer.eps, optimizer.step_count) == (0.5, (0.5, 0.6), 1e-8, 1)
    assert optimizer.state[0]["step"] == 1
    for name in ("exp_avg", "exp_avg_sq"):
        assert_close(
            optimizer.state[0][name], before["state"][0][name], rtol=0, atol=0, what=f"{name} after a refused load"
        )


def test_step5_sgd_load_state_dict_refuses_nesterov_without_momentum():
    optimizer = SGD([Tensor(np.ones(3), requires_grad=True)], lr=0.1, momentum=0.9, nesterov=True)
    bad = sgd_snapshot()
    bad["hyperparameters"].update(momentum=0.0, nesterov=True)
    with pytest.raises(ValueError, match=r"^SGD: momentum must be > 0 for nesterov, got 0\.0$"):
        optimizer.load_state_dict(bad)
    assert (optimizer.momentum, optimizer.nesterov, optimizer.step_count) == (0.9, True, 0)


def test_step5_a_loaded_snapshot_keeps_its_values_as_the_constructor_would():
    optimizer = Adam([Tensor(np.ones(3), requires_grad=True)])
    optimizer.load_state_dict(adam_snapshot(betas=[0.8, 0.9]))  # a list, as a JSON round trip makes it
    assert optimizer.betas == (0.8, 0.9) and isinstance(optimizer.betas, tuple)
    assert optimizer.step_count == 2 and optimizer.state[0]["step"] == 2


def test_step5_loading_converts_buffers_to_the_parameter_dtype(rng):
    params = make_params(rng, [(3,)], dtype=np.float32)
    optimizer = SGD(params, lr=0.1)
    optimizer.load_state_dict(sgd_snapshot())  # float64 buffer
    assert optimizer.state[0]["momentum_buffer"].dtype == np.float32
    params[0].grad = np.ones(3, dtype=np.float32)
    optimizer.step()
    assert params[0].dtype == np.float32


# --- memory: the state, and what a step allocates ------------------------------------------
# Parameters of 1 MiB, 4 MiB and 8 KiB (float64), in that order, gradients set, built in
# fixtures (not counted). The largest comes second, after a 1 MiB one: a step that keeps the
# previous parameter's scratch alive then peaks at 1 + 4 MiB, and a first step peaks when the
# 4 MiB scratch is made, on top of the state of both parameters so far.
BIG_SHAPES = [(256, 512), (512, 1024), (1024,)]
PARAM_BYTES = sum(int(np.prod(s)) * 8 for s in BIG_SHAPES)  # 5.0 MiB (+ 8 KiB)
LARGEST = max(int(np.prod(s)) * 8 for s in BIG_SHAPES)  # 4 MiB

OPTIMIZERS: dict[str, Callable[[list[Tensor]], Optimizer]] = {
    "sgd": lambda ps: SGD(ps, lr=0.01),
    "sgd momentum nesterov decay": lambda ps: SGD(ps, lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=1e-3),
    "adamw": lambda ps: AdamW(ps, lr=1e-3, weight_decay=0.01),
}


@pytest.fixture
def big_params(rng) -> list[Tensor]:
    params = [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in BIG_SHAPES]
    for p in params:
        p.grad = rng.standard_normal(p.shape)
    return params


@pytest.fixture
def stepped(request, big_params) -> Optimizer:
    """The optimizer named by the test's parameter, after its first step (its state exists)."""
    optimizer = OPTIMIZERS[request.param](big_params)
    optimizer.step()
    return optimizer


def three_further_steps(optimizer: Optimizer, params: list[Tensor]) -> None:
    storages = [p.data for p in params]
    for _ in range(3):
        optimizer.step()
    assert all(p.data is s for p, s in zip(params, storages, strict=True))


# After the first step, step() allocates one scratch array the size of the parameter it is
# updating, freed before the next parameter (everything else is in place: `*=`, `+=`, `out=`),
# so the peak is the largest parameter's bytes. 64 KiB of slack covers Python objects. A step
# that copied every parameter, kept the previous scratch alive, or left two temporaries alive
# would need 5 MiB, 5 MiB or 8 MiB.
@memory_budget(LARGEST)
@pytest.mark.parametrize("stepped", ["sgd", "sgd momentum nesterov decay"], indirect=True)
def test_step2_further_steps_of_sgd_allocate_one_scratch_array_of_the_largest_parameter(stepped, big_params):
    three_further_steps(stepped, big_params)


@memory_budget(LARGEST)
@pytest.mark.parametrize("stepped", ["adam"], indirect=True)
def test_step3_further_steps_of_adam_allocate_one_scratch_array_of_the_largest_parameter(stepped, big_params):
    three_further_steps(stepped, big_params)


@memory_budget(LARGEST)
@pytest.mark.parametrize("stepped", ["adamw"], indirect=True)
def test_step4_further_steps_of_adamw_allocate_one_scratch_array_of_the_largest_parameter(stepped, big_params):
    three_further_steps(stepped, big_params)


# The first step also allocates the state: Adam's m and v (2 × all parameter bytes), on top of
# the one scratch array. The peak, when the 4 MiB scratch is made, is the moments of the first
# two parameters plus that scratch: the formula less the last parameter's 2 × 8 KiB.
@memory_budget(2 * PARAM_BYTES + LARGEST)
def test_step3_adams_first_step_allocates_its_two_moments_and_one_scratch_array(big_params):
    optimizer = Adam(big_params)
    optimizer.step()
    assert state_bytes(optimizer) == 2 * PARAM_BYTES


# SGD with momentum: the buffers (1 × all parameter bytes), plus the scratch array. The peak,
# when the 4 MiB buffer is copied from its scratch, is the formula less the last 8 KiB buffer.
@memory_budget(PARAM_BYTES + LARGEST)
def test_step2_sgds_first_step_with_momentum_allocates_its_buffers_and_one_scratch_array(big_params):
    optimizer = SGD(big_params, lr=0.01, momentum=0.9)
    optimizer.step()
    assert state_bytes(optimizer) == PARAM_BYTES


# Float32 parameters, the same shapes (512 KiB, 2 MiB, 4 KiB): a further Adam step allocates one
# float32 scratch array of the largest parameter, 2 MiB. A float64 temporary of it would be 4 MiB;
# a float32 array combined with a float64 NumPy scalar (np.sqrt of a number) is computed through
# float64 conversion buffers of ~130 KB, more than the 64 KiB slack.
LARGEST32 = LARGEST // 2


@pytest.fixture
def big_params32(rng) -> list[Tensor]:
    params = [Tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True) for shape in BIG_SHAPES]
    for p in params:
        p.grad = rng.standard_normal(p.shape, dtype=np.float32)
    return params


@pytest.fixture
def adam32(big_params32) -> Optimizer:
    optimizer = Adam(big_params32, lr=1e-3)
    optimizer.step()
    return optimizer


@memory_budget(LARGEST32)
def test_step3_further_adam_steps_on_float32_parameters_allocate_one_float32_scratch_array(adam32, big_params32):
    three_further_steps(adam32, big_params32)
    assert all(p.dtype == np.float32 for p in big_params32)
