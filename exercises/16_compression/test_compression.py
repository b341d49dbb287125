"""Kata 16 compression. Run: pytest exercises/16_compression   (one step: -k "step1" ... "step8")."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.autograd import Tensor
from tinytorch.compression import (
    MaskedLinear,
    SparseLinear,
    SparseMatMul,
    distillation_loss,
    global_magnitude_prune,
    low_rank,
    magnitude_prune,
    structured_prune,
)
from tinytorch.layers import Linear, ReLU, Sequential, count_parameters, generator
from tinytorch.losses import cross_entropy
from tinytorch.optimizers import Adam
from tinytorch.testing import assert_close, gradcheck_tensors, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.testing.strategies import shapes

# --- oracles written here, independent of the kata ---------------------------------------------


def pruned_count(sparsity, n):
    """The contract's count: ⌊sparsity·n + ½⌋ (round half up), computed in this order."""
    return math.floor(sparsity * n + 0.5)


def oracle_keep(magnitudes, k):
    """A bool list: False for the k first elements ranked by (magnitude, position), True for the rest."""
    ranked = sorted(range(len(magnitudes)), key=lambda i: (magnitudes[i], i))
    keep = [True] * len(magnitudes)
    for i in ranked[:k]:
        keep[i] = False
    return keep


def csr_by_loops(dense):
    """(values, col_indices, row_ptr) of a 2-d array, one element at a time."""
    values, cols, row_ptr = [], [], [0]
    for row in dense:
        for c, v in enumerate(row):
            if v != 0:
                values.append(v)
                cols.append(c)
        row_ptr.append(len(values))
    return np.array(values, dtype=dense.dtype), np.array(cols, dtype=np.int64), np.array(row_ptr, dtype=np.int64)


def log_softmax_rows(z):
    """log softmax of each row, float64, with the row max subtracted."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


seeds = st.integers(0, 2**32 - 1)
sparsities = st.one_of(st.sampled_from([0.0, 0.1, 0.29, 0.5, 0.9, 1.0]), st.floats(0.0, 1.0))
# few distinct magnitudes (so ties are common, ±0.0 included), or any value
tie_prone = st.one_of(st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5]), st.floats(-100, 100))


def sparse_matrix(gen, rows, cols, density):
    """(rows, cols) float64, each entry non-zero with probability density."""
    return gen.standard_normal((rows, cols)) * (gen.random((rows, cols)) < density)


# --- step 1: magnitude pruning of one tensor ----------------------------------------------------


def test_step1_magnitude_prune_removes_the_smallest_magnitudes_lower_index_first_on_ties():
    weight = np.array([[1.0, -1.0, 2.0], [0.5, -2.0, 1.0]])
    # k = ⌊0.5·6 + ½⌋ = 3; ranked (|w|, flat index): 0.5@3, 1@0, 1@1 | 1@5, 2@2, 2@4
    mask = magnitude_prune(weight, 0.5)
    assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (2, 3)
    assert mask.tolist() == [[False, False, True], [False, True, True]]
    assert_close(weight, [[1.0, -1.0, 2.0], [0.5, -2.0, 1.0]], rtol=0, atol=0, what="the weight (left unchanged)")


@given(hnp.arrays(np.float64, shapes(min_dims=0, max_dims=3, min_side=0, max_side=5), elements=tie_prone), sparsities)
def test_step1_magnitude_prune_keeps_exactly_the_largest_magnitudes(weight, sparsity):
    mask = magnitude_prune(weight, sparsity)
    k = pruned_count(sparsity, weight.size)
    assert mask.shape == weight.shape and mask.dtype == np.bool_
    assert int(mask.sum()) == weight.size - k, f"exactly {k} of {weight.size} pruned"
    expected = oracle_keep([abs(float(v)) for v in weight.ravel()], k)
    assert mask.ravel().tolist() == expected, "the k smallest |w|, ties lower flat index first"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step1_among_many_equal_magnitudes_the_lower_flat_indices_are_pruned_first(dtype):
    # 100 elements, 50 of magnitude 1: k = 30 of them go, those of the 30 lowest flat indices.
    # NumPy's default (unstable) argsort picks others among the ties past 16 elements.
    weight = np.tile([2.0, -1.0, 1.0, 3.0], 25).reshape(10, 10).astype(dtype)
    mask = magnitude_prune(weight, 0.3)
    ones = [i for i in range(100) if abs(weight.flat[i]) == 1]
    assert sorted(np.flatnonzero(~mask).tolist()) == ones[:30]


@pytest.mark.parametrize(("sparsity", "n", "pruned"), [(0.29, 100, 29), (0.25, 10, 3), (0.9, 7, 6), (0.05, 10, 1)])
def test_step1_the_count_is_sparsity_times_n_rounded_half_up(sparsity, n, pruned, rng):
    # 0.29·100 = 28.999999999999996 in floating point (a floor would say 28); 0.25·10 = 2.5 -> 3
    mask = magnitude_prune(rng.standard_normal(n), sparsity)
    assert int((~mask).sum()) == pruned


def test_step1_magnitude_prune_takes_a_tensor_and_float32_and_the_ends_of_the_range(rng):
    weight = rng.standard_normal((4, 5)).astype(np.float32)
    mask = magnitude_prune(Tensor(weight), 0.25)
    assert mask.shape == (4, 5) and int(mask.sum()) == 15
    assert np.abs(weight[mask]).min() >= np.abs(weight[~mask]).max()
    assert magnitude_prune(weight, 0.0).all() and not magnitude_prune(weight, 1.0).any()
    assert magnitude_prune(np.zeros((0, 3)), 0.5).shape == (0, 3)


@pytest.mark.parametrize(
    ("sparsity", "error", "match"),
    [
        (1.5, ValueError, r"magnitude_prune: sparsity must be in \[0, 1\], got 1.5"),
        (-0.1, ValueError, r"sparsity must be in \[0, 1\], got -0.1"),
        (math.nan, ValueError, r"sparsity must be in \[0, 1\], got nan"),
        ("0.5", TypeError, "magnitude_prune: sparsity must be a real number, got str"),
        (True, TypeError, "sparsity must be a real number, got bool"),
    ],
)
def test_step1_a_sparsity_outside_0_1_is_refused(sparsity, error, match):
    with pytest.raises(error, match=match):
        magnitude_prune(np.ones(4), sparsity)


def test_step1_a_weight_with_nan_or_the_wrong_type_is_refused():
    with pytest.raises(ValueError, match="magnitude_prune: weight must be finite, got nan"):
        magnitude_prune(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(ValueError, match="weight must be finite, got inf"):
        magnitude_prune(np.array([np.inf, 1.0]), 0.5)
    with pytest.raises(TypeError, match="magnitude_prune: weight must be floating-point, got int64"):
        magnitude_prune(np.arange(4), 0.5)
    with pytest.raises(TypeError, match="magnitude_prune: weight must be an ndarray or a Tensor, got list"):
        magnitude_prune([1.0, 2.0], 0.5)


# --- step 2: global magnitude pruning -----------------------------------------------------------


def test_step2_global_pruning_takes_more_from_the_tensor_of_small_weights():
    small = np.array([[0.1, -0.2], [0.3, 0.05]])
    large = np.array([5.0, -4.0, 0.4, 3.0])
    masks = global_magnitude_prune([small, Tensor(large)], 0.5)  # k = 4 of 8: all of small's
    assert [m.shape for m in masks] == [(2, 2), (4,)]
    assert masks[0].tolist() == [[False, False], [False, False]]
    assert masks[1].tolist() == [True, True, True, True]


@given(
    st.lists(
        hnp.arrays(np.float64, shapes(min_dims=1, max_dims=2, min_side=0, max_side=4), elements=tie_prone),
        min_size=1,
        max_size=3,
    ),
    sparsities,
)
def test_step2_global_pruning_keeps_the_largest_magnitudes_of_all_tensors_together(weights, sparsity):
    masks = global_magnitude_prune(weights, sparsity)
    assert isinstance(masks, list) and len(masks) == len(weights)
    assert [m.shape for m in masks] == [w.shape for w in weights]
    total = sum(w.size for w in weights)
    k = pruned_count(sparsity, total)
    # the tie rule: concatenation order, i.e. tensor order then flat index
    expected = oracle_keep([abs(float(v)) for w in weights for v in w.ravel()], k)
    assert [b for m in masks for b in m.ravel().tolist()] == expected
    assert sum(int((~m).sum()) for m in masks) == k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step2_among_many_equal_magnitudes_the_lower_positions_in_the_concatenation_are_pruned_first(dtype):
    # step 1's 100 elements split in two tensors: k = 30 of the 50 of magnitude 1 go, the first
    # 30 in concatenation order. NumPy's default (unstable) argsort picks others among the ties.
    weight = np.tile([2.0, -1.0, 1.0, 3.0], 25).reshape(10, 10).astype(dtype)
    masks = global_magnitude_prune([weight[:5], weight[5:]], 0.3)
    ones = [i for i in range(100) if abs(weight.flat[i]) == 1]
    assert sorted(np.flatnonzero(~np.concatenate([m.ravel() for m in masks])).tolist()) == ones[:30]


def test_step2_global_pruning_refuses_an_empty_list_a_single_array_and_a_nan():
    with pytest.raises(ValueError, match="global_magnitude_prune: weights must be a non-empty list or tuple"):
        global_magnitude_prune([], 0.5)
    with pytest.raises(TypeError, match="weights must be a non-empty list or tuple, got ndarray"):
        global_magnitude_prune(np.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"global_magnitude_prune: weights\[1\] must be finite, got nan"):
        global_magnitude_prune([np.ones(2), np.array([1.0, np.nan])], 0.5)
    with pytest.raises(ValueError, match=r"global_magnitude_prune: sparsity must be in \[0, 1\], got 2"):
        global_magnitude_prune([np.ones(2)], 2)


# --- step 3: structured pruning -----------------------------------------------------------------


def test_step3_structured_pruning_removes_whole_rows_of_smallest_norm():
    weight = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])  # norms 5, 1, √2, 1
    mask = structured_prune(weight, 0.5)  # k = 2: the norms 1 and 1 (rows 1 and 3)
    assert mask.dtype == np.bool_ and mask.shape == (4, 2)
    assert mask.tolist() == [[True, True], [False, False], [True, True], [False, False]]
    mask = structured_prune(weight, 0.25)  # k = 1: rows 1 and 3 tie, the lower index goes
    assert mask[:, 0].tolist() == [True, False, True, True]


def test_step3_the_norm_is_l2_not_l1():
    weight = np.array([[2.0, 0.0], [1.0, 1.0]])  # L2 norms 2 and √2; L1 norms 2 and 2 (a tie)
    mask = structured_prune(weight, 0.5)  # k = 1: the smaller L2 norm, row 1 (L1 would prune row 0)
    assert mask.tolist() == [[True, True], [False, False]]


def test_step3_empty_sizes_give_an_empty_mask_or_rows_of_norm_0():
    assert structured_prune(np.zeros((0, 3)), 0.5).shape == (0, 3)  # C_out = 0: 0 of 0 rows pruned
    assert structured_prune(np.zeros((0, 2, 3, 3), dtype=np.float32), 1.0).shape == (0, 2, 3, 3)
    mask = structured_prune(np.zeros((3, 0)), 0.5)  # rows of no element: norm 0, nothing to mask
    assert mask.shape == (3, 0) and mask.dtype == np.bool_
    assert structured_prune(np.zeros((3, 0, 2)), 1 / 3).shape == (3, 0, 2)


def test_step3_among_many_equal_norms_the_lower_rows_are_pruned_first():
    weight = np.tile([[2.0, 0.0], [0.0, -1.0], [1.0, 0.0], [0.0, 3.0]], (25, 1))  # 100 rows, 50 of norm 1
    mask = structured_prune(weight, 0.3)  # k = 30 rows of norm 1, the lowest indices
    ones = [r for r in range(100) if r % 4 in (1, 2)]
    assert np.flatnonzero(~mask[:, 0]).tolist() == ones[:30]


@given(
    st.tuples(st.integers(1, 6), st.integers(1, 4), st.sampled_from([(), (2, 2)])),
    sparsities,
    seeds,
)
def test_step3_structured_pruning_keeps_the_rows_or_channels_of_largest_l2_norm(dims, sparsity, seed):
    c_out, c_in, kernel = dims
    # small integers: every norm² is exact in any summation order, and ties are frequent
    weight = np.random.default_rng(seed).integers(-2, 3, (c_out, c_in, *kernel)).astype(np.float64)
    mask = structured_prune(weight, sparsity)
    assert mask.shape == weight.shape and mask.dtype == np.bool_
    rows = mask.reshape(c_out, -1)
    assert (rows.all(axis=1) | ~rows.any(axis=1)).all(), "each row is kept or pruned whole"
    norms2 = [int(np.sum(row.astype(np.int64) ** 2)) for row in weight.reshape(c_out, -1)]
    assert rows[:, 0].tolist() == oracle_keep(norms2, pruned_count(sparsity, c_out))


def test_step3_structured_pruning_refuses_a_vector_and_a_nan():
    with pytest.raises(
        ValueError, match=r"structured_prune: weight must have at least 2 dimensions \(C_out, \.\.\.\), got \(4,\)"
    ):
        structured_prune(np.ones(4), 0.5)
    with pytest.raises(ValueError, match="structured_prune: weight must be finite, got nan"):
        structured_prune(np.array([[np.nan, 1.0]]), 0.5)
    with pytest.raises(ValueError, match=r"structured_prune: sparsity must be in \[0, 1\]"):
        structured_prune(np.ones((2, 2)), -1)


# --- step 4: fine-tuning with a mask ------------------------------------------------------------


def test_step4_masked_linear_computes_x_times_the_masked_weight_and_shares_the_parameters(rng):
    layer = Linear(5, 4, rng=rng, dtype=np.float64)
    mask = rng.random((4, 5)) < 0.5
    masked = MaskedLinear(layer, mask)
    assert masked.weight is layer.weight and masked.bias is layer.bias
    assert [name for name, _ in masked.named_parameters()] == ["weight", "bias"]
    assert set(masked.state_dict()) == {"weight", "bias", "mask"}
    mask[...] = True  # the module keeps a copy
    assert not masked.mask.all()
    x = rng.standard_normal((3, 2, 5))
    expected = x @ (layer.weight.numpy() * masked.mask).T + layer.bias.numpy()
    assert_close(masked(Tensor(x)), expected, rtol=1e-12, atol=1e-12, what="MaskedLinear(x)")


def test_step4_pruned_weights_get_a_zero_gradient_and_stay_zero_through_training(rng):
    layer = Linear(6, 3, rng=rng, dtype=np.float64)
    mask = magnitude_prune(layer.weight, 0.5)
    masked = MaskedLinear(layer, mask)
    x, g = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
    masked(Tensor(x)).backward(g)
    assert_close(masked.weight.grad, (g.T @ x) * mask, rtol=1e-12, atol=1e-12, what="dL/dweight = (gᵀx)·mask")
    optimizer = Adam(masked.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        (masked(Tensor(x)) * Tensor(g)).sum().backward()
        optimizer.step()
    plain = masked.to_linear()
    assert isinstance(plain, Linear) and plain.weight is layer.weight
    assert (plain.weight.numpy()[~mask] == 0).all(), "to_linear writes exact zeros where the mask is False"
    assert (plain.weight.numpy()[mask] != 0).all()
    assert_close(plain(Tensor(x)), masked(Tensor(x)).numpy(), rtol=1e-12, atol=1e-12, what="to_linear()(x)")


def test_step4_a_float32_layer_trains_in_float32(rng):
    layer = Linear(5, 4, rng=rng)  # 04's default dtype, float32
    mask = rng.random((4, 5)) < 0.5
    masked = MaskedLinear(layer, mask)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    g = rng.standard_normal((3, 4)).astype(np.float32)
    out = masked(Tensor(x))
    assert out.dtype == np.float32
    weight = layer.weight.numpy().astype(np.float64)
    expected = x.astype(np.float64) @ (weight * mask).T + layer.bias.numpy()
    assert_close(out, expected, rtol=1e-5, atol=1e-5, what="float32 MaskedLinear(x)")
    out.backward(g)
    assert masked.weight.grad.dtype == np.float32 and masked.bias.grad.dtype == np.float32
    expected_grad = (g.astype(np.float64).T @ x.astype(np.float64)) * mask
    assert_close(masked.weight.grad, expected_grad, rtol=1e-5, atol=1e-5, what="float32 dL/dweight")


def test_step4_masked_linear_gradients_match_finite_differences(rng):
    masked = MaskedLinear(Linear(4, 3, rng=rng, dtype=np.float64), rng.random((3, 4)) < 0.6)

    def forward(x, weight):
        masked.weight = weight  # the tensor under test stands in for the Parameter
        return masked(x)

    gradcheck_tensors("MaskedLinear", forward, [rng.standard_normal((2, 4)), rng.standard_normal((3, 4))])


def test_step4_masked_linear_refuses_a_mask_of_another_shape_or_dtype_and_a_non_linear():
    layer = Linear(4, 3)
    with pytest.raises(ValueError, match=r"MaskedLinear: mask must have the weight's shape \(3, 4\), got \(4, 3\)"):
        MaskedLinear(layer, np.ones((4, 3), dtype=bool))
    with pytest.raises(TypeError, match="MaskedLinear: mask must be a bool ndarray, got float64"):
        MaskedLinear(layer, np.ones((3, 4)))
    with pytest.raises(TypeError, match="MaskedLinear: layer must be a Linear, got ReLU"):
        MaskedLinear(ReLU(), np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="MaskedLinear: input must have 4 features in its last dimension"):
        MaskedLinear(layer, np.ones((3, 4), dtype=bool))(Tensor(np.ones((2, 3), dtype=np.float32)))


# --- step 5: CSR storage ------------------------------------------------------------------------


def test_step5_from_dense_stores_the_non_zeros_row_by_row_with_int32_indices():
    weight = np.array([[0.0, 2.0, 0.0, -0.0], [0.0, 0.0, 0.0, 0.0], [1.5, 0.0, 3.0, -4.0]], dtype=np.float32)
    layer = SparseLinear.from_dense(weight)
    assert layer.shape == (3, 4) and layer.nnz == 4
    assert layer.values.dtype == np.float32 and layer.values.numpy().tolist() == [2.0, 1.5, 3.0, -4.0]
    assert layer.col_indices.dtype == np.int32 and layer.col_indices.tolist() == [1, 0, 2, 3]
    assert layer.row_ptr.dtype == np.int32 and layer.row_ptr.tolist() == [0, 1, 1, 4]
    assert layer.bias is None


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=tie_prone))
def test_step5_csr_matches_a_loop_and_round_trips_to_the_dense_weight(weight):
    layer = SparseLinear.from_dense(weight)
    values, cols, row_ptr = csr_by_loops(weight)
    assert_close(layer.values, values, rtol=0, atol=0, what="values")
    assert layer.col_indices.tolist() == cols.tolist() and layer.row_ptr.tolist() == row_ptr.tolist()
    dense = layer.to_dense()
    assert dense.dtype == weight.dtype
    assert_close(dense, weight, rtol=0, atol=0, what="to_dense(from_dense(w))")


@pytest.mark.parametrize(("dtype", "value_bytes"), [(np.float32, 4), (np.float64, 8)])
def test_step5_csr_bytes_are_nnz_times_value_and_index_bytes_plus_the_row_pointers(dtype, value_bytes, rng):
    rows, cols = 64, 48
    weight = sparse_matrix(rng, rows, cols, 0.1).astype(dtype)
    layer = SparseLinear.from_dense(weight)
    nnz = int(np.count_nonzero(weight))
    assert layer.nbytes == nnz * (value_bytes + 4) + (rows + 1) * 4  # int32 indices: 4 bytes
    assert layer.nbytes < weight.nbytes, "at 10% density CSR is smaller than dense"


def test_step5_from_linear_keeps_the_weight_and_the_bias(rng):
    linear = Linear(5, 3, rng=rng)
    linear.weight.data[linear.weight.data < 0] = 0.0
    layer = SparseLinear.from_linear(linear)
    assert_close(layer.to_dense(), linear.weight.numpy(), rtol=0, atol=0, what="to_dense()")
    assert_close(layer.bias, linear.bias.numpy(), rtol=0, atol=0, what="bias")
    assert SparseLinear.from_linear(Linear(5, 3, bias=False)).bias is None


def test_step5_from_dense_refuses_a_vector_a_nan_and_a_non_linear():
    with pytest.raises(
        ValueError, match=r"SparseLinear.from_dense: weight must have 2 dimensions \(C_out, C_in\), got \(4,\)"
    ):
        SparseLinear.from_dense(np.ones(4))
    with pytest.raises(ValueError, match=r"SparseLinear\.from_dense: weight must be finite, got nan"):
        SparseLinear.from_dense(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match=r"SparseLinear\.from_linear: layer must be a Linear, got ReLU"):
        SparseLinear.from_linear(ReLU())


# --- step 6: the sparse forward and its gradients -----------------------------------------------


@given(
    st.integers(1, 7), st.integers(1, 7), st.sampled_from([(3,), (2, 3), (0,)]), st.sampled_from([0.0, 0.3, 1.0]), seeds
)
def test_step6_the_sparse_matmul_equals_the_dense_one(rows, cols, batch, density, seed):
    gen = np.random.default_rng(seed)
    weight = sparse_matrix(gen, rows, cols, density)  # empty rows, an empty matrix, a full one
    bias = gen.standard_normal(rows)
    layer = SparseLinear.from_dense(weight, bias)
    x = gen.standard_normal((*batch, cols))
    out = layer(Tensor(x))
    assert isinstance(out, Tensor) and out.dtype == np.float64
    assert_close(out, x @ weight.T + bias, rtol=1e-10, atol=1e-12, what="SparseLinear(x) vs x @ Wᵀ + b")


def test_step6_float32_in_float32_out(rng):
    layer = SparseLinear.from_dense(sparse_matrix(rng, 5, 4, 0.5).astype(np.float32))
    x = rng.standard_normal((3, 4)).astype(np.float32)
    out = layer(Tensor(x))
    assert out.dtype == np.float32
    assert_close(out, x @ layer.to_dense().T, rtol=1e-5, atol=1e-6)


def test_step6_a_float32_layer_trains_in_float32(rng):
    weight = sparse_matrix(rng, 6, 5, 0.5)
    layer = SparseLinear.from_dense(weight.astype(np.float32), rng.standard_normal(6).astype(np.float32))
    x = Tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((4, 6)).astype(np.float32)
    out = layer(x)
    assert out.dtype == np.float32
    out.backward(g)
    grads = {"x": x.grad, "values": layer.values.grad, "bias": layer.bias.grad}
    assert {name: grad.dtype for name, grad in grads.items()} == dict.fromkeys(grads, np.float32)
    dense = layer.to_dense().astype(np.float64)
    g64 = g.astype(np.float64)
    assert_close(x.grad, g64 @ dense, rtol=1e-5, atol=1e-5, what="float32 dL/dx = g @ W")
    rows = np.repeat(np.arange(6), np.diff(layer.row_ptr))
    x64 = x.numpy().astype(np.float64)
    expected = np.array([g64[:, r] @ x64[:, c] for r, c in zip(rows, layer.col_indices, strict=True)])
    assert_close(layer.values.grad, expected, rtol=1e-5, atol=1e-5, what="float32 dL/dvalues")


def test_step6_sparse_matmul_refuses_x_and_values_of_different_dtypes():
    col, ptr = np.array([0, 1], np.int32), np.array([0, 1, 2], np.int32)
    x = Tensor(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="SparseMatMul: x and values must have the same dtype, got float32 and float64"):
        SparseMatMul.apply(x, Tensor(np.ones(2)), col_indices=col, row_ptr=ptr, out_features=2)


CSR_CASE = {  # a (4, 5) weight: row 1 empty, column 2 used by three rows
    "values": [1.5, -2.0, 0.5, 3.0, -1.0, 2.5],
    "col_indices": [2, 4, 2, 0, 2, 3],
    "row_ptr": [0, 2, 2, 4, 6],
}


def test_step6_sparse_matmul_gradients_match_finite_differences_wrt_input_and_values(rng):
    col, ptr = np.array(CSR_CASE["col_indices"], np.int32), np.array(CSR_CASE["row_ptr"], np.int32)

    def forward(x, values):
        return SparseMatMul.apply(x, values, col_indices=col, row_ptr=ptr, out_features=4)

    gradcheck_tensors("SparseMatMul", forward, [rng.standard_normal((3, 5)), np.array(CSR_CASE["values"])])
    gradcheck_tensors(
        "SparseMatMul (B, T, C_in)", forward, [rng.standard_normal((2, 2, 5)), np.array(CSR_CASE["values"])]
    )


def test_step6_sparse_linear_gradients_match_finite_differences_through_the_layer(rng):
    layer = SparseLinear(
        np.array(CSR_CASE["values"]), CSR_CASE["col_indices"], CSR_CASE["row_ptr"], (4, 5), np.zeros(4)
    )

    def forward(x, values, bias):
        layer.values, layer.bias = values, bias  # the tensors under test stand in for the Parameters
        return layer(x)

    gradcheck_tensors(
        "SparseLinear", forward, [rng.standard_normal((3, 5)), np.array(CSR_CASE["values"]), rng.standard_normal(4)]
    )


def test_step6_the_input_gradient_equals_the_dense_one(rng):
    weight = sparse_matrix(rng, 6, 7, 0.4)
    layer = SparseLinear.from_dense(weight)
    x = Tensor(rng.standard_normal((5, 7)), requires_grad=True)
    g = rng.standard_normal((5, 6))
    layer(x).backward(g)
    assert_close(x.grad, g @ weight, rtol=1e-10, atol=1e-12, what="dL/dx = g @ W")
    rows = np.repeat(np.arange(6), np.diff(layer.row_ptr))
    expected = np.array([g[:, r] @ x.numpy()[:, c] for r, c in zip(rows, layer.col_indices, strict=True)])
    assert_close(layer.values.grad, expected, rtol=1e-10, atol=1e-12, what="dL/dvalues")


C_OUT_MEM, C_IN_MEM, R_MEM, DENSITY_MEM = 2048, 2048, 4, 0.05  # dense float32 weight: 16 MiB


@pytest.fixture
def big_sparse_layer():
    gen = np.random.default_rng(0)
    stored = gen.random((C_OUT_MEM, C_IN_MEM)) < DENSITY_MEM  # ~210,000 non-zeros
    col_indices = np.nonzero(stored)[1].astype(np.int32)
    row_ptr = np.concatenate([[0], np.cumsum(stored.sum(axis=1))]).astype(np.int32)
    values = gen.standard_normal(col_indices.size, dtype=np.float32)
    layer = SparseLinear(values, col_indices, row_ptr, (C_OUT_MEM, C_IN_MEM))  # the given constructor
    x = Tensor(gen.standard_normal((R_MEM, C_IN_MEM), dtype=np.float32))
    return layer, x


NNZ_MEM = round(C_OUT_MEM * C_IN_MEM * DENSITY_MEM)  # within 0.5% of the fixture's nnz (binomial, sd 0.2%)


# The forward's formula: the gathered products (R, nnz), twice (room for `x[:, col] * values` as
# a new array), one index per value (nnz·8, room for the row of each value as int64), and the
# output twice (R·C_out·itemsize; a segment sum and the array it is copied into): 1.02·(2·R·nnz·4
# + nnz·8) + 2·R·C_out·4 ≈ 8.6 MB, about half the dense weight's 16.8 MB (C_out·C_in·4), which a
# densified forward must hold, with the default slack (64 KiB).
@memory_budget(1.02 * (2 * R_MEM * NNZ_MEM * 4 + NNZ_MEM * 8) + 2 * R_MEM * C_OUT_MEM * 4, slack=DEFAULT_SLACK)
def test_step6_the_sparse_forward_never_densifies_the_weight(big_sparse_layer):
    layer, x = big_sparse_layer
    out = layer(x)
    assert out.shape == (R_MEM, C_OUT_MEM) and out.dtype == np.float32


def test_step6_sparse_linear_refuses_a_wrong_input():
    layer = SparseLinear.from_dense(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="SparseLinear: input must have 3 features in its last dimension, got"):
        layer(Tensor(np.ones((2, 4), dtype=np.float32)))
    with pytest.raises(TypeError, match="SparseLinear: input must have dtype float32, got float64"):
        layer(Tensor(np.ones((2, 3))))
    with pytest.raises(TypeError, match="SparseLinear: input must be a Tensor, got ndarray"):
        layer(np.ones((2, 3), dtype=np.float32))


# --- step 7: low rank ---------------------------------------------------------------------------


@given(st.integers(1, 6), st.integers(1, 6), st.data(), seeds)
def test_step7_the_rank_r_error_squared_is_the_sum_of_the_tail_singular_values_squared(c_out, c_in, data, seed):
    rank = data.draw(st.integers(1, min(c_out, c_in)), label="rank")
    layer = Linear(c_in, c_out, rng=np.random.default_rng(seed), dtype=np.float64)
    weight = layer.weight.numpy().copy()
    factored = low_rank(layer, rank)
    first, second = factored[0], factored[1]
    product = second.weight.numpy() @ first.weight.numpy()  # (C_out, r) @ (r, C_in)
    u, sigma, vt = np.linalg.svd(weight)
    error2 = np.sum((weight - product) ** 2)
    tail2 = np.sum(sigma[rank:] ** 2)
    scale = np.sum(sigma**2)
    assert abs(error2 - tail2) <= 1e-12 * scale, f"‖W − W_r‖² = {error2}, Σ tail σ² = {tail2} (Eckart–Young)"
    best = (u[:, :rank] * sigma[:rank]) @ vt[:rank]  # the truncated SVD, unique for distinct σ
    assert_close(product, best, rtol=1e-9, atol=1e-12, what="second.weight @ first.weight vs U_r Σ_r V_rᵀ")
    assert_close(layer.weight, weight, rtol=0, atol=0, what="the layer (left unchanged)")


def test_step7_low_rank_is_two_linears_with_the_bias_on_the_second(rng):
    layer = Linear(8, 6, rng=rng)
    factored = low_rank(layer, 2)
    assert isinstance(factored, Sequential) and len(factored) == 2
    first, second = factored[0], factored[1]
    assert isinstance(first, Linear) and isinstance(second, Linear)
    assert first.weight.shape == (2, 8) and first.bias is None
    assert second.weight.shape == (6, 2) and second.weight.dtype == np.float32
    assert_close(second.bias, layer.bias.numpy(), rtol=0, atol=0, what="the bias")
    assert count_parameters(factored) == 2 * (8 + 6) + 6
    x = rng.standard_normal((3, 8)).astype(np.float32)
    expected = x @ (second.weight.numpy() @ first.weight.numpy()).T + layer.bias.numpy()
    assert_close(factored(Tensor(x)), expected, rtol=1e-5, atol=1e-5, what="low_rank(layer)(x)")
    assert low_rank(Linear(4, 3, bias=False), 1)[1].bias is None


def test_step7_the_first_factor_is_v_r_transposed_and_the_second_carries_sigma():
    # W = U·diag(σ)·Vᵀ built from known orthonormal U, V and well-separated σ: the singular
    # vectors are unique up to a sign per triplet, so first.weight's rows are ±Vᵀ's rows.
    gen = np.random.default_rng(16)
    u = np.linalg.qr(gen.standard_normal((6, 4)))[0]  # (6, 4), orthonormal columns
    v = np.linalg.qr(gen.standard_normal((5, 4)))[0]  # (5, 4)
    sigma = np.array([5.0, 3.0, 2.0, 1.0])
    layer = Linear(5, 6, rng=gen, dtype=np.float64)
    layer.weight.data[...] = (u * sigma) @ v.T
    first, second = low_rank(layer, 2)
    signs = np.sign(np.sum(first.weight.numpy() * v[:, :2].T, axis=1))  # (2,), ±1 per row
    assert_close(first.weight, signs[:, None] * v[:, :2].T, rtol=0, atol=1e-10, what="first.weight = V_rᵀ (up to sign)")
    assert_close(second.weight, u[:, :2] * sigma[:2] * signs, rtol=0, atol=1e-10, what="second.weight = U_r·diag(σ_r)")


def test_step7_low_rank_does_not_draw_from_04s_shared_generator(rng):
    layer = Linear(6, 5, rng=rng)
    state = generator().bit_generator.state  # 04's shared generator, the one rng=None draws from
    low_rank(layer, 2)
    assert generator().bit_generator.state == state, "the two Linears are built with a throwaway generator"


def test_step7_full_rank_reproduces_the_layer(rng):
    layer = Linear(4, 7, rng=rng, dtype=np.float64)
    factored = low_rank(layer, 4)
    x = rng.standard_normal((5, 4))
    assert_close(factored(Tensor(x)), layer(Tensor(x)).numpy(), rtol=1e-10, atol=1e-12, what="rank min(C_out, C_in)")


@pytest.mark.parametrize("rank", [0, 4, 2.0, True, -1])
def test_step7_a_rank_out_of_range_is_refused(rank):
    with pytest.raises(ValueError, match=r"low_rank: rank must be an integer in \[1, 3\], got"):
        low_rank(Linear(5, 3), rank)


def test_step7_low_rank_refuses_a_non_linear():
    with pytest.raises(TypeError, match="low_rank: layer must be a Linear, got ReLU"):
        low_rank(ReLU(), 1)


# --- step 8: knowledge distillation -------------------------------------------------------------


@pytest.mark.parametrize(("temperature", "alpha"), [(1.0, 0.5), (2.0, 0.3), (4.0, 0.9), (0.5, 1.0)])
def test_step8_distillation_loss_is_alpha_t2_kl_plus_one_minus_alpha_cross_entropy(temperature, alpha, rng):
    s, t = rng.standard_normal((5, 4)) * 3, rng.standard_normal((5, 4)) * 3
    target = rng.integers(0, 4, 5)
    loss = distillation_loss(Tensor(s), Tensor(t), target, temperature=temperature, alpha=alpha)
    log_p, log_q = log_softmax_rows(t / temperature), log_softmax_rows(s / temperature)
    kl = np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=1))
    ce = -np.mean(log_softmax_rows(s)[np.arange(5), target])
    assert loss.shape == () and loss.dtype == np.float64
    assert_close(loss, alpha * temperature**2 * kl + (1 - alpha) * ce, rtol=1e-12, atol=1e-12)


def test_step8_at_alpha_0_it_is_the_cross_entropy_and_at_alpha_1_zero_for_a_perfect_student(rng):
    s, t = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    target = rng.integers(0, 3, 6)
    hard = cross_entropy(Tensor(s), target).numpy()
    assert_close(distillation_loss(Tensor(s), Tensor(t), target, temperature=3.0, alpha=0.0), hard, rtol=0, atol=0)
    same = distillation_loss(Tensor(s), Tensor(s.copy()), target, temperature=3.0, alpha=1.0)
    assert_close(same, 0.0, rtol=0, atol=1e-15, what="KL(p ‖ p)")


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=st.floats(-30, 30)),
    st.floats(0.1, 10.0),
    st.floats(0.0, 1.0),
    seeds,
)
def test_step8_distillation_loss_is_never_negative(student, temperature, alpha, seed):
    gen = np.random.default_rng(seed)
    teacher = gen.standard_normal(student.shape) * 5
    target = gen.integers(0, student.shape[1], student.shape[0])
    loss = float(distillation_loss(Tensor(student), Tensor(teacher), target, temperature, alpha).numpy())
    # KL = Σ p·(log p − log q) is a sum of terms of both signs: rounding may leave -1e-16 where it is 0
    assert loss >= -1e-12


def test_step8_float32_logits_give_a_float32_loss_and_gradient(rng):
    s, t = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)
    target = rng.integers(0, 4, 5)
    student = Tensor(s, requires_grad=True)
    loss = distillation_loss(student, Tensor(t), target, temperature=2.0, alpha=0.5)
    assert loss.dtype == np.float32
    log_p, log_q = log_softmax_rows(t.astype(np.float64) / 2.0), log_softmax_rows(s.astype(np.float64) / 2.0)
    kl = np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=1))
    ce = -np.mean(log_softmax_rows(s.astype(np.float64))[np.arange(5), target])
    assert_close(loss, 0.5 * 4.0 * kl + 0.5 * ce, rtol=1e-5, atol=1e-6, what="float32 distillation_loss")
    loss.backward()
    assert student.grad.dtype == np.float32


def test_step8_the_soft_gradient_is_t_times_q_minus_p_over_b(rng):
    s, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    student = Tensor(s, requires_grad=True)
    teacher = Tensor(t, requires_grad=True)
    distillation_loss(student, teacher, rng.integers(0, 3, 4), temperature=2.0, alpha=1.0).backward()
    p, q = np.exp(log_softmax_rows(t / 2.0)), np.exp(log_softmax_rows(s / 2.0))
    # d(T²·KL)/ds = T²·(q − p)/(T·B) = T·(q − p)/B
    assert_close(student.grad, 2.0 * (q - p) / 4, rtol=1e-10, atol=1e-12, what="dL/dstudent")
    assert teacher.grad is None, "the teacher is a constant: no gradient reaches it"


@pytest.mark.parametrize(("temperature", "alpha"), [(1.0, 0.5), (3.0, 0.8), (0.7, 0.0)])
def test_step8_distillation_loss_gradients_match_finite_differences(temperature, alpha, rng):
    teacher = Tensor(rng.standard_normal((3, 4)))
    target = rng.integers(0, 4, 3)
    gradcheck_tensors(
        f"distillation_loss(T={temperature}, alpha={alpha})",
        lambda s: distillation_loss(s, teacher, target, temperature, alpha),
        [rng.standard_normal((3, 4))],
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"temperature": 0}, ValueError, "distillation_loss: temperature must be > 0 and finite, got 0"),
        ({"temperature": math.nan}, ValueError, "temperature must be > 0 and finite, got nan"),
        ({"temperature": math.inf}, ValueError, "temperature must be > 0 and finite, got inf"),
        ({"temperature": "2"}, TypeError, "distillation_loss: temperature must be a real number, got str"),
        ({"alpha": 1.5}, ValueError, r"distillation_loss: alpha must be in \[0, 1\], got 1.5"),
        ({"alpha": math.nan}, ValueError, r"alpha must be in \[0, 1\], got nan"),
    ],
)
def test_step8_a_bad_temperature_or_alpha_is_refused(kwargs, error, match):
    s = Tensor(np.zeros((2, 3)))
    with pytest.raises(error, match=match):
        distillation_loss(s, Tensor(np.zeros((2, 3))), np.array([0, 1]), **kwargs)


def test_step8_a_temperature_whose_square_or_reciprocal_overflows_is_refused():
    s64, t64 = Tensor(np.array([[1.0, 2.0]])), Tensor(np.array([[3.0, 0.0]]))
    for temperature in (1e-320, 1e-160, 1e200):
        with pytest.raises(
            ValueError, match=r"distillation_loss: temperature must be in \[1.49e-154, 6.7e\+153\] for float64 logits"
        ):
            distillation_loss(s64, t64, np.array([0]), temperature=temperature)
    s32, t32 = Tensor(np.array([[1.0, 2.0]], np.float32)), Tensor(np.array([[3.0, 0.0]], np.float32))
    with pytest.raises(ValueError, match=r"temperature must be in \[1.08e-19, 9.22e\+18\] for float32 logits"):
        distillation_loss(s32, t32, np.array([0]), temperature=1e-30)
    assert np.isfinite(distillation_loss(s64, t64, np.array([0]), temperature=1e-150).numpy())  # inside [1/L, L]


@pytest.mark.parametrize(
    ("student", "teacher", "temperature"),
    [
        ([[1e300, -1e300]], [[1e300, -1e300]], 1e-8),  # the scaled logits overflow
        ([[1e300, -1e300]], [[-1e300, 1e300]], 1e100),  # T²·KL overflows
    ],
)
def test_step8_logits_too_large_for_the_temperature_are_refused_not_returned_as_nan(student, teacher, temperature):
    with pytest.raises(ValueError, match="distillation_loss: the loss must be finite, got soft term"):
        distillation_loss(Tensor(np.array(student)), Tensor(np.array(teacher)), np.array([0]), temperature=temperature)


def test_step8_huge_finite_logits_that_do_not_overflow_give_a_finite_loss():
    s, t = Tensor(np.array([[1e300, -1e300]]), requires_grad=True), Tensor(np.array([[-1e300, 1e300]]))
    loss = distillation_loss(s, t, np.array([0]), temperature=1.0, alpha=0.5)
    loss.backward()
    # the teacher's p is (0, 1), the student's log q is (0, −2e300): KL = 2e300, CE = 0
    assert_close(loss, 0.5 * 2e300, rtol=1e-12, atol=0, what="0.5·T²·KL")
    assert np.isfinite(s.grad).all()


def test_step8_non_finite_logits_are_refused_naming_the_argument():
    good = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="distillation_loss: student_logits must be finite, got nan"):
        distillation_loss(Tensor(np.array([[0.0, np.nan, 1.0], [0.0, 0.0, 0.0]])), good, np.array([0, 1]))
    with pytest.raises(ValueError, match="distillation_loss: teacher_logits must be finite, got -inf"):
        distillation_loss(good, Tensor(np.array([[0.0, 0.0, 0.0], [-np.inf, 0.0, 0.0]])), np.array([0, 1]))


def test_step8_logits_that_are_not_a_matrix_are_refused_naming_student_logits():
    with pytest.raises(
        ValueError, match=r"distillation_loss: student_logits must have shape \(B, C\) with C >= 1, got \(3,\)"
    ):
        distillation_loss(Tensor(np.zeros(3)), Tensor(np.zeros(3)), np.array([0]))
    with pytest.raises(ValueError, match=r"student_logits must have shape \(B, C\) with C >= 1, got \(2, 0\)"):
        distillation_loss(Tensor(np.zeros((2, 0))), Tensor(np.zeros((2, 0))), np.array([0, 0]))


def test_step8_mismatched_logits_bad_targets_and_an_empty_batch_are_refused():
    s = Tensor(np.zeros((4, 3)))
    with pytest.raises(
        ValueError,
        match=r"student_logits and teacher_logits must have the same shape, got \(4, 3\) and \(4, 5\)",
    ):
        distillation_loss(s, Tensor(np.zeros((4, 5))), np.zeros(4, dtype=int))
    with pytest.raises(TypeError, match="distillation_loss: teacher_logits must be a Tensor, got ndarray"):
        distillation_loss(s, np.zeros((4, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"distillation_loss: target must be in \[0, 3\), got 7"):
        distillation_loss(s, Tensor(np.zeros((4, 3))), np.array([0, 7, 1, 2]))
    with pytest.raises(ValueError, match=r"distillation_loss: the batch must not be empty, got shape \(0, 3\)"):
        distillation_loss(Tensor(np.zeros((0, 3))), Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))
