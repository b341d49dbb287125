"""Kata 11 embeddings. Run: pytest exercises/11_embeddings   (one step: -k "step1" ... "step5")."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.autograd import Tensor
from tinytorch.embeddings import Embedding, EmbeddingFunction, PositionalEmbedding, rope, sinusoidal_positions
from tinytorch.layers import Parameter, count_parameters, manual_seed, parameter_bytes
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.testing.oracles import rotate_pairs
from tinytorch.testing.strategies import shapes

# --- oracles written here, independent of the kata ---------------------------------------------


def one_hot(ids, V):
    """(*N, V) float64: row n has a 1 in column ids[n] and 0 elsewhere."""
    return (np.asarray(ids)[..., None] == np.arange(V)).astype(np.float64)


seeds = st.integers(0, 2**32 - 1)


@st.composite
def tables_and_ids(draw):
    """(V, D, ids): a table size, a width, and integer ids of any shape (0-d and empty included)."""
    V, D = draw(st.integers(1, 8)), draw(st.integers(1, 5))
    shape = draw(shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    ids = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, V - 1)))
    return V, D, ids


# --- step 1: the gather and its scatter-add ----------------------------------------------------


def test_step1_the_forward_gathers_the_rows_of_the_ids_into_a_new_array():
    weight = np.arange(12.0).reshape(4, 3)
    out = EmbeddingFunction.apply(Tensor(weight), ids=np.array([[3, 0], [3, 1]]))
    assert isinstance(out, Tensor) and out.shape == (2, 2, 3)
    assert_close(out, [[[9, 10, 11], [0, 1, 2]], [[9, 10, 11], [3, 4, 5]]], rtol=0, atol=0)
    out.data[...] = -1.0
    assert_close(weight, np.arange(12.0).reshape(4, 3), rtol=0, atol=0, what="the table after writing the output")
    one = EmbeddingFunction.apply(Tensor(weight), ids=np.array(2))  # 0-d ids: one row (D,), a copy too
    assert one.shape == (3,)
    assert_close(one, [6, 7, 8], rtol=0, atol=0)
    one.data[...] = -1.0
    assert_close(weight, np.arange(12.0).reshape(4, 3), rtol=0, atol=0, what="the table after writing a 0-d output")


@given(tables_and_ids(), seeds)
def test_step1_lookup_equals_one_hot_ids_times_the_table(case, seed):
    V, D, ids = case
    weight = np.random.default_rng(seed).standard_normal((V, D))
    out = EmbeddingFunction.apply(Tensor(weight), ids=ids)
    assert out.dtype == np.float64
    # one_hot(ids) @ W: (*N, V) @ (V, D) -> (*N, D); each row picks exactly one row of W
    assert_close(out, one_hot(ids, V) @ weight, rtol=0, atol=0, what="weight[ids] against one_hot(ids) @ weight")


@given(tables_and_ids(), seeds)
def test_step1_the_gradient_is_one_hot_transposed_times_the_upstream_gradient(case, seed):
    V, D, ids = case
    gen = np.random.default_rng(seed)
    weight = Tensor(gen.standard_normal((V, D)), requires_grad=True)
    grad = gen.standard_normal((*ids.shape, D))
    EmbeddingFunction.apply(weight, ids=ids).backward(grad)
    # d(one_hot @ W)/dW = one_hotᵀ @ g, both flattened to N rows: (V, N) @ (N, D)
    expected = one_hot(ids, V).reshape(ids.size, V).T @ grad.reshape(ids.size, D)
    assert_close(weight.grad, expected, rtol=1e-12, atol=1e-12, what="dL/dweight")


def test_step1_a_repeated_id_accumulates_every_gradient_it_receives():
    weight = Tensor(np.zeros((3, 2)), requires_grad=True)
    out = EmbeddingFunction.apply(weight, ids=np.array([1, 1, 2, 1]))
    out.backward(np.array([[1.0, 10.0], [2.0, 20.0], [5.0, 50.0], [4.0, 40.0]]))
    # row 1 was read three times: it receives 1 + 2 + 4; row 0 was never read
    assert_close(weight.grad, [[0.0, 0.0], [7.0, 70.0], [5.0, 50.0]], rtol=0, atol=0)


@pytest.mark.parametrize(
    "ids",
    [[0, 2, 2, 4, 2], [[1, 1], [3, 1], [1, 0]], [[[4, 4, 4]], [[0, 4, 1]]]],
    ids=["(5,)", "(3, 2)", "(2, 1, 3)"],
)
def test_step1_embedding_gradients_match_finite_differences_with_repeated_ids(ids, rng):
    ids = np.array(ids)
    weight = rng.standard_normal((5, 3))
    gradcheck_tensors(f"EmbeddingFunction(ids={ids.tolist()})", lambda w: EmbeddingFunction.apply(w, ids=ids), [weight])


def test_step1_a_float32_table_gives_float32_outputs_and_gradients(rng):
    weight = Tensor(rng.standard_normal((6, 4)).astype(np.float32), requires_grad=True)
    out = EmbeddingFunction.apply(weight, ids=np.array([[5, 0, 5]]))
    assert out.dtype == np.float32
    out.backward(np.ones((1, 3, 4), dtype=np.float32))
    assert weight.grad.dtype == np.float32
    assert_close(weight.grad[:, 0], [1, 0, 0, 0, 0, 2], rtol=0, atol=0)


def test_step1_empty_ids_give_an_empty_output_and_a_zero_gradient(rng):
    weight = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    out = EmbeddingFunction.apply(weight, ids=np.zeros((2, 0), dtype=np.int64))
    assert out.shape == (2, 0, 3)
    out.backward(np.zeros((2, 0, 3)))
    assert_close(weight.grad, np.zeros((4, 3)), rtol=0, atol=0, what="no id, no gradient")


V_MEM, D_MEM, B_MEM, T_MEM = 32768, 16, 16, 64  # the table: 2 MiB of float32
N_MEM = B_MEM * T_MEM  # 1024 ids: a float32 one-hot (N, V) would be 128 MiB, a bool one 32 MiB
TABLE_BYTES = V_MEM * D_MEM * 4
OUTPUT_BYTES = N_MEM * D_MEM * 4  # 64 KiB


@pytest.fixture
def lookup_input():
    gen = np.random.default_rng(0)
    weight = gen.standard_normal((V_MEM, D_MEM), dtype=np.float32)
    ids = gen.integers(0, V_MEM, (B_MEM, T_MEM))
    ids[0, :8] = 7  # repeated ids
    grad = gen.standard_normal((B_MEM, T_MEM, D_MEM), dtype=np.float32)
    return weight, ids, grad


# The forward allocates its output, N·D·itemsize (64 KiB), and saves the ids (the fixture's own
# array): nothing of the table's size (a copy of the table, 2 MiB) nor a one-hot (N, V).
@memory_budget(OUTPUT_BYTES, slack=DEFAULT_SLACK)
def test_step1_the_forward_allocates_only_its_output(lookup_input):
    weight, ids, _ = lookup_input
    out = EmbeddingFunction.apply(Tensor(weight, requires_grad=True), ids=ids)
    assert out.shape == (B_MEM, T_MEM, D_MEM) and out.dtype == np.float32


# Forward and backward: the output, N·D·itemsize; then the (V, D) gradient, and at the leaf its
# copy in weight.grad (03's backward copies a leaf's first gradient); plus room for one temporary
# of the upstream gradient's size (a flattened copy of a non-contiguous one, or a reordered one):
# 2·V·D·itemsize + 2·N·D·itemsize = 4.125 MiB, O(V·D + N·D), with the default slack (64 KiB).
# The one-hot (N, V) of one_hot(ids)ᵀ @ g is 128 MiB in float32 (32 MiB as bools): far over.
# A float64 accumulator (4 MiB more) fails too.
@memory_budget(2 * TABLE_BYTES + 2 * OUTPUT_BYTES, slack=DEFAULT_SLACK)
def test_step1_the_backward_never_builds_an_n_by_v_one_hot(lookup_input):
    weight, ids, grad = lookup_input
    table = Tensor(weight, requires_grad=True)
    out = EmbeddingFunction.apply(table, ids=ids)
    assert out.shape == (B_MEM, T_MEM, D_MEM)
    out.backward(grad)
    assert table.grad.shape == (V_MEM, D_MEM) and table.grad.dtype == np.float32
    rows_7 = grad.reshape(N_MEM, D_MEM)[ids.reshape(N_MEM) == 7]  # (8 or more, D): every gradient of id 7
    assert_close(table.grad[7], rows_7.sum(axis=0), rtol=1e-5, atol=1e-5, what="the row of a repeated id")


# --- step 2: the Embedding layer ---------------------------------------------------------------


def test_step2_embedding_holds_a_v_by_d_weight_parameter_with_pytorch_s_names(rng):
    emb = Embedding(10, 3, rng=rng)
    assert emb.num_embeddings == 10 and emb.embedding_dim == 3
    assert isinstance(emb.weight, Parameter) and emb.weight.shape == (10, 3) and emb.weight.dtype == np.float32
    assert [name for name, _ in emb.named_parameters()] == ["weight"]


@pytest.mark.parametrize(("dtype", "itemsize"), [(np.float32, 4), (np.float64, 8)])
def test_step2_the_table_takes_v_times_d_times_itemsize_bytes(dtype, itemsize, rng):
    V, D = 50257, 8  # GPT-2's vocabulary; 768 wide in GPT-2 (154 MB in float32), narrow here
    emb = Embedding(V, D, rng=rng, dtype=dtype)
    assert count_parameters(emb) == V * D
    assert emb.weight.nbytes == V * D * itemsize
    assert parameter_bytes(emb) == V * D * itemsize


def test_step2_embedding_init_is_pytorch_s_standard_normal(rng):
    values = Embedding(400, 100, rng=rng, dtype=np.float64).weight.numpy().ravel()
    n = values.size  # 40,000 draws from N(0, 1): mean 0 (se 1/√n), E[x²] = 1 (se √(2/n))
    assert abs(values.mean()) <= 5 / math.sqrt(n)
    assert abs(np.mean(values**2) - 1.0) <= 5 * math.sqrt(2 / n)
    assert abs(np.mean(values**3)) <= 5 * math.sqrt(15 / n), "symmetric: the third moment is 0 (se √(15/n))"
    # normal, not another law of variance 1: E[x⁴] = 3 (se √(96/n)); a uniform one has 1.8
    assert abs(np.mean(values**4) - 3.0) <= 5 * math.sqrt(96 / n), "the fourth moment of N(0, 1) is 3"


def test_step2_embedding_is_reproducible_and_draws_the_same_table_in_any_dtype():
    a = Embedding(7, 5, rng=np.random.default_rng(3))
    b = Embedding(7, 5, rng=np.random.default_rng(3))
    c = Embedding(7, 5, rng=np.random.default_rng(3), dtype=np.float64)
    assert_close(a.weight, b.weight.numpy(), rtol=0, atol=0)
    assert_close(a.weight, c.weight.numpy().astype(np.float32), rtol=0, atol=0, what="float32 table vs float64")
    assert_close(c.weight, np.random.default_rng(3).standard_normal((7, 5)), rtol=0, atol=0, what="the N(0, 1) draw")


def test_step2_rng_none_draws_from_04_s_seeded_generator():
    manual_seed(7)  # 04's given helper: reseeds the shared generator that rng=None uses
    a = Embedding(6, 4, dtype=np.float64)
    manual_seed(7)
    b = Embedding(6, 4, dtype=np.float64)
    assert_close(a.weight, b.weight.numpy(), rtol=0, atol=0, what="two tables after the same manual_seed")
    assert_close(a.weight, np.random.default_rng(7).standard_normal((6, 4)), rtol=0, atol=0, what="the N(0, 1) draw")


def test_step2_embedding_looks_up_a_batch_of_sequences_as_one_hot_times_the_table(rng):
    emb = Embedding(9, 4, rng=rng, dtype=np.float64)
    ids = rng.integers(0, 9, (3, 5))  # (B, T)
    expected = one_hot(ids, 9) @ emb.weight.numpy()  # (B, T, V) @ (V, D)
    assert_close(emb(ids), expected, rtol=0, atol=0, what="Embedding(ids)")
    assert_close(emb(Tensor(ids)), expected, rtol=0, atol=0, what="Embedding(Tensor(ids))")
    small = rng.integers(0, 9, 6).astype(np.int32)  # any integer dtype
    assert_close(emb(small), one_hot(small, 9) @ emb.weight.numpy(), rtol=0, atol=0, what="int32 ids")


def test_step2_embedding_trains_the_rows_it_read(rng):
    emb = Embedding(6, 2, rng=rng, dtype=np.float64)
    ids = np.array([[0, 5, 5], [5, 2, 0]])
    grad = rng.standard_normal((2, 3, 2))
    emb(ids).backward(grad)
    expected = one_hot(ids, 6).reshape(6, 6).T @ grad.reshape(6, 2)
    assert_close(emb.weight.grad, expected, rtol=1e-12, atol=1e-12, what="weight.grad")
    assert_close(emb.weight.grad[[1, 3, 4]], np.zeros((3, 2)), rtol=0, atol=0, what="rows never read")


def test_step2_embedding_gradients_match_finite_differences_through_the_layer(rng):
    emb = Embedding(4, 3, dtype=np.float64)
    ids = np.array([[3, 1, 3], [3, 0, 1]])

    def forward(weight):
        emb.weight = weight  # the tensor under test stands in for the Parameter
        return emb(ids)

    gradcheck_tensors("Embedding", forward, [rng.standard_normal((4, 3))])


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (
            [[1, 2], [12, 10]],
            r"^Embedding: ids must be in \[0, 10\) for a table of num_embeddings=10 rows, got 12 at index \(1, 0\)$",
        ),
        ([3, 10], r"got 10 at index \(1,\)$"),
        ([[0, -1, 4]], r"^Embedding: ids must be in \[0, 10\) .*got -1 at index \(0, 1\)$"),
    ],
    ids=["too large", "V itself", "negative"],
)
def test_step2_embedding_refuses_an_id_out_of_range_naming_it_and_the_table_size(ids, message, rng):
    emb = Embedding(10, 3, rng=rng)
    with pytest.raises(ValueError, match=message):
        emb(np.array(ids))
    with pytest.raises(ValueError, match=message):
        emb(Tensor(np.array(ids)))


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (lambda: np.array([1.0, 2.0]), r"^Embedding: ids must have an integer dtype, got float64$"),
        (lambda: np.array([1, 2], dtype=np.float32), r"^Embedding: ids must have an integer dtype, got float32$"),
        (lambda: np.array([True, False]), r"^Embedding: ids must have an integer dtype, got bool$"),
        (lambda: Tensor(np.array([0.0])), r"^Embedding: ids must have an integer dtype, got float64$"),
        (lambda: [1, 2], r"^Embedding: ids must be an ndarray or a Tensor, got list$"),
    ],
    ids=["float64", "float32", "bool", "float Tensor", "list"],
)
def test_step2_embedding_refuses_ids_that_are_not_integers(ids, message, rng):
    with pytest.raises(TypeError, match=message):
        Embedding(10, 3, rng=rng)(ids())


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        ((0, 3), {}, ValueError, r"^Embedding: num_embeddings must be an integer >= 1, got 0$"),
        ((5, True), {}, ValueError, r"^Embedding: embedding_dim must be an integer >= 1, got True$"),
        ((5, 2.0), {}, ValueError, r"^Embedding: embedding_dim must be an integer >= 1, got 2\.0$"),
        ((5, 3), {"rng": 0}, TypeError, r"^Embedding: rng must be a np\.random\.Generator or None, got int"),
        ((5, 3), {"dtype": np.int64}, TypeError, r"^Embedding: dtype must be floating-point, got int64$"),
        ((5, 3), {"dtype": None}, TypeError, r"^Embedding: dtype must be floating-point, got None$"),
        ((5, 3), {"dtype": "x"}, TypeError, r"^Embedding: dtype must be floating-point, got 'x'$"),
        ((5, object()), {}, ValueError, r"^Embedding: embedding_dim must be an integer >= 1, got object$"),
        ((5, [3]), {}, ValueError, r"^Embedding: embedding_dim must be an integer >= 1, got \[3\]$"),
        (
            (-(10**5000), 3),  # repr itself refuses an int past 4300 digits
            {},
            ValueError,
            r"^Embedding: num_embeddings must be an integer >= 1, got -1\.000e\+5000 \(an int of 5001 digits\)$",
        ),
    ],
)
def test_step2_embedding_refuses_bad_arguments(args, options, error, message):
    with pytest.raises(error, match=message):
        Embedding(*args, **options)


# --- step 3: sinusoidal positional encodings ---------------------------------------------------


@pytest.mark.parametrize(("T", "D"), [(7, 6), (5, 9), (3, 1), (12, 2)])
def test_step3_sinusoidal_positions_match_the_formula_even_columns_sin_odd_columns_cos(T, D):
    pe = sinusoidal_positions(T, D, dtype=np.float64)
    expected = np.empty((T, D))
    for t in range(T):
        for j in range(D):
            omega = 10000.0 ** (-2 * (j // 2) / D)  # one frequency per pair (2i, 2i + 1)
            expected[t, j] = math.sin(t * omega) if j % 2 == 0 else math.cos(t * omega)
    assert isinstance(pe, np.ndarray) and pe.dtype == np.float64
    assert_close(pe, expected, rtol=1e-12, atol=1e-12, what="sinusoidal_positions")


def test_step3_sinusoidal_positions_are_float32_by_default_and_take_another_base():
    pe = sinusoidal_positions(6, 4)
    assert pe.dtype == np.float32 and pe.shape == (6, 4)
    assert_close(pe[0], [0.0, 1.0, 0.0, 1.0], rtol=0, atol=0, what="position 0: sin 0, cos 0")
    t = np.arange(6.0)
    low = sinusoidal_positions(6, 4, base=100.0, dtype=np.float64)
    assert_close(low[:, 2], np.sin(t / 10.0), rtol=1e-12, atol=1e-12, what="column 2 at base 100: ω_1 = 100^(-1/2)")
    assert sinusoidal_positions(0, 4).shape == (0, 4)


def test_step3_float32_positions_are_computed_in_float64_then_converted():
    t, D = 100_000, 8  # ω = 1, 0.1, 0.01, 0.001: the angles at t are 1e5, 1e4, 1e3, 1e2 radians
    pe = sinusoidal_positions(t + 1, D)
    assert pe.dtype == np.float32
    omega = 10000.0 ** (-2 * (np.arange(D) // 2) / D)  # (D,) float64
    angles = t * omega
    expected = np.where(np.arange(D) % 2 == 0, np.sin(angles), np.cos(angles))  # float64 oracle
    # Converting a float64 value in [-1, 1] to float32 moves it by at most half a float32 ulp,
    # 2⁻²⁵ ≈ 3e-8, so 1e-7 holds. Angles in float32 are off by up to half a float32 ulp of 1e4,
    # 2⁻¹¹ ≈ 5e-4 radians (plus 1e5·ω's own rounding): 6.6e-6 in this row's sin and cos.
    # (D = 2 would not see it: ω = 1 and t = 1e5 are exact in float32.)
    assert_close(pe[t], expected, rtol=0, atol=1e-7, what="row 100,000 in float32")


@given(st.integers(1, 200), st.integers(2, 64))
def test_step3_sinusoidal_values_are_bounded_and_distinct_per_position(T, D):
    pe = sinusoidal_positions(T, D, dtype=np.float64)
    assert pe.shape == (T, D)
    assert np.all(np.abs(pe) <= 1.0)
    # every pair of positions differs: the smallest distance between two rows is well above rounding
    distances = np.sqrt(((pe[:, None, :] - pe[None, :, :]) ** 2).sum(axis=-1))  # (T, T)
    distances[np.arange(T), np.arange(T)] = np.inf
    assert distances.min() > 1e-3, f"two positions have encodings {distances.min():.2g} apart"


@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 16))
def test_step3_the_encoding_at_t_plus_k_is_the_encoding_at_t_rotated_by_k_omega(t, k, half):
    D = 2 * half
    pe = sinusoidal_positions(t + k + 1, D, dtype=np.float64)
    omega = 10000.0 ** (-2 * np.arange(half) / D)
    sin_t, cos_t = pe[t, 0::2], pe[t, 1::2]
    # sin(a + b) = sin a cos b + cos a sin b; cos(a + b) = cos a cos b − sin a sin b
    assert_close(pe[t + k, 0::2], sin_t * np.cos(k * omega) + cos_t * np.sin(k * omega), atol=1e-9)
    assert_close(pe[t + k, 1::2], cos_t * np.cos(k * omega) - sin_t * np.sin(k * omega), atol=1e-9)


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        ((-1, 4), {}, ValueError, r"^sinusoidal_positions: T must be an integer >= 0, got -1$"),
        ((3, 0), {}, ValueError, r"^sinusoidal_positions: D must be an integer >= 1, got 0$"),
        ((3.0, 4), {}, ValueError, r"^sinusoidal_positions: T must be an integer >= 0, got 3\.0$"),
        ((3, 4), {"base": 1.0}, ValueError, r"^sinusoidal_positions: base must be a real number > 1, got 1\.0$"),
        ((3, 4), {"dtype": np.int64}, TypeError, r"^sinusoidal_positions: dtype must be floating-point, got int64$"),
    ],
)
def test_step3_sinusoidal_positions_refuse_bad_arguments(args, options, error, message):
    with pytest.raises(error, match=message):
        sinusoidal_positions(*args, **options)


# --- step 4: a learned positional embedding ----------------------------------------------------


def test_step4_positional_embedding_returns_the_rows_of_positions_offset_to_offset_plus_t(rng):
    pe = PositionalEmbedding(16, 4, rng=rng)
    table = pe.weight.numpy()
    assert pe.max_len == 16 and pe.dim == 4 and table.shape == (16, 4) and table.dtype == np.float32
    assert [name for name, _ in pe.named_parameters()] == ["weight"]
    assert_close(pe(5), table[:5], rtol=0, atol=0, what="positions 0..4")
    assert_close(pe(3, 13), table[13:16], rtol=0, atol=0, what="positions 13..15")
    assert_close(pe(16), table, rtol=0, atol=0, what="every position")
    assert pe(0).shape == (0, 4)


def test_step4_positional_embedding_init_is_a_reproducible_standard_normal():
    a = PositionalEmbedding(200, 200, rng=np.random.default_rng(5), dtype=np.float64)
    b = PositionalEmbedding(200, 200, rng=np.random.default_rng(5), dtype=np.float64)
    assert_close(a.weight, b.weight.numpy(), rtol=0, atol=0)
    values = a.weight.numpy().ravel()
    n = values.size  # 40,000 draws: the same moments as step 2's
    assert abs(values.mean()) <= 5 / math.sqrt(n)
    assert abs(np.mean(values**2) - 1.0) <= 5 * math.sqrt(2 / n)
    assert abs(np.mean(values**3)) <= 5 * math.sqrt(15 / n), "symmetric: the third moment is 0 (se √(15/n))"
    # normal, not another law of variance 1: E[x⁴] = 3 (se √(96/n)); √3·uniform(−1, 1) has 1.8
    assert abs(np.mean(values**4) - 3.0) <= 5 * math.sqrt(96 / n), "the fourth moment of N(0, 1) is 3"


def test_step4_rng_none_draws_from_04_s_seeded_generator():
    manual_seed(7)  # as Embedding: rng=None is 04's shared generator
    a = PositionalEmbedding(6, 4, dtype=np.float64)
    manual_seed(7)
    b = PositionalEmbedding(6, 4, dtype=np.float64)
    assert_close(a.weight, b.weight.numpy(), rtol=0, atol=0, what="two tables after the same manual_seed")
    assert_close(a.weight, np.random.default_rng(7).standard_normal((6, 4)), rtol=0, atol=0, what="the N(0, 1) draw")


def test_step4_positional_embedding_draws_the_same_table_in_any_dtype():
    a = PositionalEmbedding(7, 5, rng=np.random.default_rng(3))
    c = PositionalEmbedding(7, 5, rng=np.random.default_rng(3), dtype=np.float64)
    assert_close(a.weight, c.weight.numpy().astype(np.float32), rtol=0, atol=0, what="float32 table vs float64")
    assert_close(c.weight, np.random.default_rng(3).standard_normal((7, 5)), rtol=0, atol=0, what="the N(0, 1) draw")


def test_step4_positional_embedding_gradients_reach_only_the_rows_read(rng):
    pe = PositionalEmbedding(8, 3, dtype=np.float64)

    def forward(weight):
        pe.weight = weight  # the tensor under test stands in for the Parameter
        return pe(4, 2)

    gradcheck_tensors("PositionalEmbedding(4, offset 2)", forward, [rng.standard_normal((8, 3))])


def test_step4_positional_embedding_adds_to_token_embeddings_and_sums_its_gradient_over_the_batch(rng):
    tokens = Embedding(10, 3, rng=rng, dtype=np.float64)
    positions = PositionalEmbedding(6, 3, rng=rng, dtype=np.float64)
    ids = rng.integers(0, 10, (4, 5))  # (B, T)
    x = tokens(ids) + positions(5)  # (B, T, D) + (T, D)
    assert_close(x, tokens.weight.numpy()[ids] + positions.weight.numpy()[:5], rtol=0, atol=0)
    x.backward(np.ones((4, 5, 3)))
    expected = np.zeros((6, 3))
    expected[:5] = 4.0  # each of positions 0..4 is used by the 4 sequences of the batch
    assert_close(positions.weight.grad, expected, rtol=0, atol=0, what="positions.weight.grad")


def test_step4_positional_embedding_refuses_positions_beyond_max_len(rng):
    pe = PositionalEmbedding(16, 4, rng=rng)
    with pytest.raises(ValueError, match=r"^PositionalEmbedding: offset \+ T must be at most max_len=16, got 17$"):
        pe(17)
    with pytest.raises(ValueError, match=r"^PositionalEmbedding: offset \+ T must be at most max_len=16, got 20$"):
        pe(5, 15)
    with pytest.raises(ValueError, match=r"^PositionalEmbedding: T must be an integer >= 0, got -1$"):
        pe(-1)
    with pytest.raises(ValueError, match=r"^PositionalEmbedding: offset must be an integer >= 0, got -2$"):
        pe(3, -2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2.0,), r"^PositionalEmbedding: T must be an integer >= 0, got 2\.0$"),
        ((True,), r"^PositionalEmbedding: T must be an integer >= 0, got True$"),
        ((3, 1.5), r"^PositionalEmbedding: offset must be an integer >= 0, got 1\.5$"),
        ((3, True), r"^PositionalEmbedding: offset must be an integer >= 0, got True$"),
    ],
    ids=["float T", "bool T", "float offset", "bool offset"],
)
def test_step4_positional_embedding_refuses_a_float_or_bool_t_or_offset(args, message, rng):
    with pytest.raises(ValueError, match=message):
        PositionalEmbedding(16, 4, rng=rng)(*args)


@pytest.mark.parametrize(
    ("args", "options", "error", "message"),
    [
        ((0, 4), {}, ValueError, r"^PositionalEmbedding: max_len must be an integer >= 1, got 0$"),
        ((8, False), {}, ValueError, r"^PositionalEmbedding: dim must be an integer >= 1, got False$"),
        ((8, 4), {"rng": 1}, TypeError, r"^PositionalEmbedding: rng must be a np\.random\.Generator or None, got int"),
        ((8, 4), {"dtype": np.int32}, TypeError, r"^PositionalEmbedding: dtype must be floating-point, got int32$"),
    ],
)
def test_step4_positional_embedding_refuses_bad_arguments(args, options, error, message):
    with pytest.raises(error, match=message):
        PositionalEmbedding(*args, **options)


# --- step 5: rotary position embeddings --------------------------------------------------------


@pytest.mark.parametrize(("shape", "offset"), [((2, 3, 5, 4), 0), ((1, 2, 4, 8), 7), ((3, 6), 100)], ids=str)
def test_step5_rope_rotates_adjacent_pairs_as_complex_numbers_times_e_to_the_i_m_theta(shape, offset, rng):
    x = rng.standard_normal(shape)
    out = rope(Tensor(x), offset)
    assert isinstance(out, Tensor) and out.shape == shape and out.dtype == np.float64
    T = shape[-2]
    assert_close(out, rotate_pairs(x, np.arange(offset, offset + T)), rtol=1e-12, atol=1e-12, what="rope")


def test_step5_rope_pairs_dimension_2i_with_2i_plus_1():
    D, base = 4, 10000.0
    x = np.eye(D).reshape(1, 1, D, D)[..., [0, 2], :]  # e_0 and e_2, at positions 0 and 1: (1, 1, 2, 4)
    out = rope(Tensor(np.concatenate([x, x], axis=2)), 1).numpy()[0, 0]  # positions 1, 2, 3, 4
    theta1 = base ** (-2 / D)  # the second pair's frequency; the first pair's is 1
    assert_close(out[0], [math.cos(1), math.sin(1), 0, 0], atol=1e-15, what="e_0 at position 1")
    assert_close(out[1], [0, 0, math.cos(2 * theta1), math.sin(2 * theta1)], atol=1e-15, what="e_2 at position 2")
    assert_close(out[2], [math.cos(3), math.sin(3), 0, 0], atol=1e-15, what="e_0 at position 3")


def test_step5_rope_at_position_0_is_the_identity_and_takes_another_base(rng):
    x = rng.standard_normal((2, 2, 1, 6))
    assert_close(rope(Tensor(x)), x, rtol=0, atol=0, what="position 0: angle 0")
    y = rng.standard_normal((1, 1, 5, 6))
    assert_close(rope(Tensor(y), 2, 500.0), rotate_pairs(y, np.arange(2, 7), base=500.0), rtol=1e-12, atol=1e-12)


@given(shapes(min_dims=2, max_dims=4).map(lambda s: (*s[:-1], 2 * s[-1])), st.integers(0, 10**6), seeds)
def test_step5_rope_keeps_every_vector_s_norm(shape, offset, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    out = rope(Tensor(x), offset).numpy()
    assert_close(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12, what="‖rope(x)‖ per vector")


@given(st.integers(0, 4096), st.integers(0, 4096), st.integers(-2048, 2048), st.integers(1, 8), seeds)
def test_step5_rope_dot_products_depend_only_on_the_relative_position(m, n, shift, half, seed):
    gen = np.random.default_rng(seed)
    q, k = gen.standard_normal((1, 1, 1, 2 * half)), gen.standard_normal((1, 1, 1, 2 * half))
    shift = max(shift, -min(m, n))  # positions stay >= 0

    def score(a, b):
        return float(np.sum(rope(Tensor(q), a).numpy() * rope(Tensor(k), b).numpy()))

    # ⟨R_m q, R_n k⟩ = ⟨q, R_{n−m} k⟩: moving both by the same shift changes nothing
    assert math.isclose(score(m, n), score(m + shift, n + shift), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(score(m, n), float(np.sum(q * rotate_pairs(k[0, 0], [n - m]))), rel_tol=1e-9, abs_tol=1e-9)


def test_step5_rope_with_an_offset_equals_the_same_rows_of_the_whole_sequence(rng):
    x = rng.standard_normal((2, 3, 10, 8))
    whole = rope(Tensor(x)).numpy()
    for start, stop in ((0, 4), (4, 9), (9, 10)):
        part = rope(Tensor(x[:, :, start:stop]), start)
        assert_close(part, whole[:, :, start:stop], rtol=1e-12, atol=1e-12, what=f"rows {start}..{stop - 1}")


@pytest.mark.parametrize(("shape", "offset"), [((2, 3, 4, 6), 0), ((1, 2, 3, 4), 5)], ids=str)
def test_step5_rope_gradients_match_finite_differences(shape, offset, rng):
    gradcheck_tensors(f"rope(offset={offset})", lambda x: rope(x, offset), [rng.standard_normal(shape)])


def test_step5_rope_keeps_float32_and_computes_its_angles_in_float64(rng):
    x = rng.standard_normal((1, 2, 3, 8)).astype(np.float32)
    offset = 100_000  # a float32 angle m·θ would be off by up to m·2⁻²⁴ ≈ 6e-3 radians
    out = rope(Tensor(x), offset)
    assert out.dtype == np.float32
    expected = rotate_pairs(x.astype(np.float64), np.arange(offset, offset + 3))
    assert_close(out, expected, rtol=1e-5, atol=1e-5, what="float32 rope at position 100,000")
    leaf = Tensor(x, requires_grad=True)
    rope(leaf, 3).backward(np.ones(x.shape, dtype=np.float32))
    assert leaf.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("x", "options", "error", "message"),
    [
        (lambda: np.ones((1, 1, 2, 4)), {}, TypeError, r"^rope: input must be a Tensor, got ndarray$"),
        (
            lambda: Tensor(np.ones((1, 2, 4), dtype=np.int64)),
            {},
            TypeError,
            r"^rope: input must have a floating dtype, got int64$",
        ),
        (
            lambda: Tensor(np.ones(4)),
            {},
            ValueError,
            r"^rope: input must have at least 2 dimensions \(T, D\), got \(4,\)$",
        ),
        (
            lambda: Tensor(np.ones((2, 3, 4, 5))),
            {},
            ValueError,
            r"^rope: the last dimension D must be even, got \(2, 3, 4, 5\)$",
        ),
        (
            lambda: Tensor(np.ones((1, 2, 4))),
            {"offset": -1},
            ValueError,
            r"^rope: offset must be an integer >= 0, got -1$",
        ),
        (
            lambda: Tensor(np.ones((1, 2, 4))),
            {"offset": 1.5},
            ValueError,
            r"^rope: offset must be an integer >= 0, got 1\.5$",
        ),
        (
            lambda: Tensor(np.ones((1, 2, 4))),
            {"offset": True},
            ValueError,
            r"^rope: offset must be an integer >= 0, got True$",
        ),
        (
            lambda: Tensor(np.ones((1, 2, 4))),
            {"base": 1.0},
            ValueError,
            r"^rope: base must be a real number > 1, got 1\.0$",
        ),
    ],
    ids=["ndarray", "int", "1-d", "odd D", "negative offset", "float offset", "bool offset", "base 1"],
)
def test_step5_rope_refuses_bad_inputs(x, options, error, message):
    with pytest.raises(error, match=message):
        rope(x(), **options)
