"""Kata 01 tensor: the tests, grouped by the lesson's steps (see README.md).

Run: ``pytest exercises/01_tensor`` (your code) or add ``--impl solutions`` (the reference);
one step: ``-k step3``.

Each step has, where it means something: forward results against NumPy computed right here on
non-square shapes; hypothesis properties over generated shapes; memory budgets (a formula in
bytes plus a stated slack); the exact errors the docstrings promise; edge cases (0-d tensors,
size-1 and broadcast dimensions, empty tensors).
"""

from __future__ import annotations

import operator
import re

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.tensor import Tensor, broadcast_shapes, check_elementwise, matmul_loops, matmul_shape
from tinytorch.testing import assert_close, memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK, numpy_buffer
from tinytorch.testing.strategies import arrays, broadcastable_shapes, matmul_shapes, shapes

FLOAT_DTYPES = [np.float16, np.float32, np.float64]


def exactly(message: str) -> str:
    """A ``match=`` pattern for a literal message (parentheses and dots are not regex syntax)."""
    return re.escape(message)


def axes(ndim: int) -> st.SearchStrategy:
    """Every kind of ``axis`` argument for a tensor of ``ndim`` dimensions: None, an int, a tuple."""
    kinds = st.none() | hnp.valid_tuple_axes(ndim)
    return kinds | st.integers(-ndim, ndim - 1) if ndim else kinds


@pytest.fixture
def big(rng) -> np.ndarray:
    """An 8 MiB float64 array (1024 × 1024), built outside the measured call."""
    return rng.standard_normal((1024, 1024))


# ============================================================================================
# Step 1: storage — Tensor(), size, nbytes
# ============================================================================================


def test_step1_a_tensor_from_a_nested_list_has_numpys_shape_dtype_and_values():
    data = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    t = Tensor(data)
    expected = np.array(data)
    assert t.shape == (2, 3)
    assert t.dtype == np.float64
    assert_close(t, expected)


def test_step1_a_tensor_shares_the_ndarray_it_wraps_instead_of_copying_it(rng):
    x = rng.standard_normal((3, 5))
    t = Tensor(x)
    assert t.numpy() is x, "Tensor(ndarray) must keep that very array as its storage"


def test_step1_a_tensor_made_from_a_tensor_shares_its_storage(rng):
    x = rng.standard_normal((4, 2))
    assert Tensor(Tensor(x)).numpy() is x


def test_step1_the_dtype_argument_converts_the_data():
    t = Tensor([1, 2, 3], dtype=np.float32)
    assert t.dtype == np.float32
    assert_close(t, np.array([1.0, 2.0, 3.0], dtype=np.float32))


def test_step1_size_is_the_product_of_the_shape():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.size == 2 * 3 * 4


def test_step1_a_float32_tensor_takes_half_the_bytes_of_a_float64_one():
    # 1000 × 1000 elements: 4 bytes each in float32, 8 in float64.
    assert Tensor(np.zeros((1000, 1000), dtype=np.float32)).nbytes == 1000 * 1000 * 4
    assert Tensor(np.zeros((1000, 1000), dtype=np.float64)).nbytes == 1000 * 1000 * 8


@given(
    shape=shapes(min_dims=0, max_dims=4, min_side=0),
    dtype=st.sampled_from([np.bool_, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64]),
)
def test_step1_nbytes_is_size_times_itemsize_for_every_dtype(shape, dtype):
    t = Tensor(np.zeros(shape, dtype=dtype))
    assert t.size == int(np.prod(shape, dtype=np.int64))
    assert t.nbytes == t.size * np.dtype(dtype).itemsize


@memory_budget(0, slack=DEFAULT_SLACK)  # formula: 0 bytes (the storage is shared); slack: 64 KiB
def test_step1_wrapping_an_8mb_ndarray_allocates_nothing(big):
    t = Tensor(big)
    assert t.nbytes == big.size * 8


@pytest.mark.parametrize(
    ("data", "dtype_name"),
    [(["a", "b"], "<U1"), ([1 + 2j], "complex128"), (None, "object")],
    ids=["strings", "complex", "None"],
)
def test_step1_a_non_numeric_dtype_is_rejected_with_its_name(data, dtype_name):
    message = f"Tensor: dtype must be boolean, integer or floating, got {dtype_name}"
    with pytest.raises(TypeError, match=exactly(message)):
        Tensor(data)


def test_step1_a_0d_tensor_has_size_one_and_the_bytes_of_one_element():
    t = Tensor(np.float32(2.5))
    assert t.shape == ()
    assert t.size == 1
    assert t.nbytes == 4


def test_step1_an_empty_tensor_has_size_zero_and_takes_no_bytes():
    t = Tensor(np.zeros((0, 3)))
    assert t.size == 0
    assert t.nbytes == 0


def test_step1_repr_shows_the_values_and_survives_a_half_built_tensor():
    assert "1.5" in repr(Tensor([1.5, 2.0]))
    half_built = Tensor.__new__(Tensor)  # as a traceback shows a Tensor whose __init__ raised
    assert repr(half_built).startswith("Tensor(")


# ============================================================================================
# Step 2: broadcast_shapes
# ============================================================================================

BROADCAST_CASES = [
    ((2, 1, 4), (3, 1)),
    ((5, 3), (3,)),
    ((5, 3), ()),
    ((4, 1), (1, 6)),
    ((1,), (0,)),
    ((3, 1), (1, 4), (2, 1, 1)),
    ((7,),),
]


@pytest.mark.parametrize("shapes_in", BROADCAST_CASES, ids=str)
def test_step2_broadcast_shapes_aligns_on_the_right_and_stretches_size_one(shapes_in):
    assert broadcast_shapes(*shapes_in) == np.broadcast_shapes(*shapes_in)


@given(shapes_in=broadcastable_shapes(num_shapes=2) | broadcastable_shapes(num_shapes=3))
def test_step2_broadcast_shapes_equals_numpy_on_shapes_that_broadcast(shapes_in):
    assert broadcast_shapes(*shapes_in) == np.broadcast_shapes(*shapes_in)


@given(
    a=shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
    b=shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
)
def test_step2_broadcast_shapes_raises_exactly_where_numpy_raises(a, b):
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        with pytest.raises(ValueError, match="shapes must broadcast"):
            broadcast_shapes(a, b)
    else:
        assert broadcast_shapes(a, b) == expected


def test_step2_a_broadcast_failure_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=exactly("add: shapes must broadcast, got (2, 3) and (4,)")):
        broadcast_shapes((2, 3), (4,), op="add")


def test_step2_a_broadcast_failure_without_an_op_names_broadcast_shapes():
    with pytest.raises(ValueError, match=exactly("broadcast_shapes: shapes must broadcast, got (0,) and (3,)")):
        broadcast_shapes((0,), (3,))


def test_step2_broadcast_shapes_of_no_shapes_is_the_0d_shape():
    assert broadcast_shapes() == ()


def test_step2_a_zero_size_dimension_broadcasts_only_against_one():
    assert broadcast_shapes((0, 1), (1, 5)) == (0, 5)
    with pytest.raises(ValueError, match="shapes must broadcast"):
        broadcast_shapes((0,), (2,))


@pytest.mark.parametrize(
    ("shapes_in", "shown"), [(((-1,), (1,)), "(-1,)"), (((2, 3), (True, 3)), "(True, 3)")], ids=str
)
def test_step2_a_negative_or_bool_size_is_refused(shapes_in, shown):
    with pytest.raises(ValueError, match=exactly(f"broadcast_shapes: sizes must be non-negative ints, got {shown}")):
        broadcast_shapes(*shapes_in)
    with pytest.raises(ValueError, match=exactly(f"add: sizes must be non-negative ints, got {shown}")):
        broadcast_shapes(*shapes_in, op="add")


# ============================================================================================
# Step 3: check_elementwise and the elementwise operators
# ============================================================================================

BINARY_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}

# Each expression works on a Tensor and on an ndarray alike: NumPy is the oracle.
SCALAR_OPS = {
    "t + 1.5": lambda t: t + 1.5,
    "2.0 + t": lambda t: 2.0 + t,
    "t - 3": lambda t: t - 3,
    "2.0 - t": lambda t: 2.0 - t,
    "t * 0.5": lambda t: t * 0.5,
    "3 * t": lambda t: 3 * t,
    "t / 4.0": lambda t: t / 4.0,
    "1.0 / t": lambda t: 1.0 / t,
    "-t": lambda t: -t,
    "t ** 2": lambda t: t**2,
}


def test_step3_check_elementwise_returns_the_broadcast_shape():
    assert check_elementwise("add", np.zeros((2, 1, 4)), np.zeros((3, 1))) == (2, 3, 4)


def test_step3_check_elementwise_rejects_mixed_dtypes_naming_both():
    a, b = np.zeros(3, dtype=np.float32), np.zeros(3, dtype=np.float64)
    with pytest.raises(TypeError, match=exactly("mul: dtypes must match, got float32 and float64")):
        check_elementwise("mul", a, b)


def test_step3_check_elementwise_names_the_op_when_shapes_do_not_broadcast():
    with pytest.raises(ValueError, match=exactly("sub: shapes must broadcast, got (2, 3) and (4,)")):
        check_elementwise("sub", np.zeros((2, 3)), np.zeros(4))


@pytest.mark.parametrize("symbol", BINARY_OPS)
@pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1))], ids=str)
def test_step3_binary_operators_match_numpy_with_broadcasting(rng, symbol, shape_a, shape_b):
    x = rng.uniform(0.5, 2.0, shape_a)
    y = rng.uniform(0.5, 2.0, shape_b)
    fn = BINARY_OPS[symbol]
    assert_close(fn(Tensor(x), Tensor(y)), fn(x, y), what=f"Tensor {symbol} Tensor")


@pytest.mark.parametrize("expression", SCALAR_OPS)
def test_step3_operators_with_a_python_number_on_either_side_match_numpy(rng, expression):
    x = rng.uniform(0.5, 2.0, (3, 5))
    fn = SCALAR_OPS[expression]
    assert_close(fn(Tensor(x)), fn(x), what=expression)


@given(data=st.data(), shapes_in=broadcastable_shapes(num_shapes=2), symbol=st.sampled_from(sorted(BINARY_OPS)))
def test_step3_binary_operators_agree_with_numpy_on_broadcastable_shapes(data, shapes_in, symbol):
    x = data.draw(arrays(shapes_in[0], "away_from_zero"), label="x")
    y = data.draw(arrays(shapes_in[1], "away_from_zero"), label="y")
    fn = BINARY_OPS[symbol]
    assert_close(fn(Tensor(x), Tensor(y)), fn(x, y), what=f"Tensor {symbol} Tensor")


@given(
    data=st.data(),
    shape=shapes(),
    dtype=st.sampled_from(FLOAT_DTYPES),
    expression=st.sampled_from(sorted(SCALAR_OPS)),
)
def test_step3_a_python_number_never_changes_the_dtype_of_a_float_tensor(data, shape, dtype, expression):
    x = data.draw(arrays(shape, "away_from_zero", dtype=dtype), label="x")
    out = SCALAR_OPS[expression](Tensor(x))
    assert out.dtype == dtype, f"{expression} on {np.dtype(dtype)} gave {out.dtype}"
    assert_close(out, SCALAR_OPS[expression](x), rtol=1e-3, what=expression)


@given(data=st.data(), dtype=st.sampled_from(FLOAT_DTYPES), symbol=st.sampled_from(sorted(BINARY_OPS)))
def test_step3_two_tensors_of_one_dtype_give_that_dtype(data, dtype, symbol):
    x = data.draw(arrays((2, 3), "away_from_zero", dtype=dtype), label="x")
    y = data.draw(arrays((3,), "away_from_zero", dtype=dtype), label="y")
    assert BINARY_OPS[symbol](Tensor(x), Tensor(y)).dtype == dtype


@pytest.fixture
def two_4mb_float32(rng) -> tuple[np.ndarray, np.ndarray]:
    n = 1024 * 1024  # 4 MiB each in float32
    return rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)


@memory_budget(1024 * 1024 * 4, slack=DEFAULT_SLACK)  # formula: one float32 output of 1024² elements
def test_step3_adding_two_4mb_tensors_allocates_only_the_output(two_4mb_float32):
    a, b = two_4mb_float32
    out = Tensor(a) + Tensor(b)
    assert out.shape == a.shape


@memory_budget(1024 * 1024 * 4, slack=DEFAULT_SLACK)  # formula: one float32 output; a float64 one is twice that
def test_step3_multiplying_by_a_python_number_allocates_one_output_of_the_same_dtype(two_4mb_float32):
    a, _ = two_4mb_float32
    out = 2.0 * Tensor(a)
    assert out.dtype == np.float32


@pytest.fixture
def column_and_row(rng) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((1024, 1), dtype=np.float32), rng.standard_normal((1, 1024), dtype=np.float32)


# formula: the (1024, 1024) float32 output, plus NumPy's ufunc buffers for inputs with a zero stride
# (one numpy_buffer per input: 8192 elements each); an expanded copy of either input would add 4 MiB.
@memory_budget(1024 * 1024 * 4 + 2 * numpy_buffer(4), slack=DEFAULT_SLACK)
def test_step3_a_broadcast_add_allocates_the_output_but_no_expanded_copies(column_and_row):
    column, row = column_and_row
    out = Tensor(column) + Tensor(row)
    assert out.shape == (1024, 1024)


def test_step3_mixing_float32_and_float64_raises_instead_of_upcasting():
    a = Tensor(np.ones(3, dtype=np.float32))
    b = Tensor(np.ones(3, dtype=np.float64))
    with pytest.raises(TypeError, match=exactly("add: dtypes must match, got float32 and float64")):
        a + b


def test_step3_tensors_that_do_not_broadcast_raise_naming_the_op():
    with pytest.raises(ValueError, match=exactly("mul: shapes must broadcast, got (2, 3) and (4,)")):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(4))


def test_step3_a_list_operand_is_rejected_naming_its_type():
    t, operand = Tensor(np.ones(2)), [1.0, 2.0]
    with pytest.raises(TypeError, match=exactly("add: operand must be a Tensor or a Python number, got list")):
        t + operand


# One promotion rule, PyTorch's, with float64 as the default float dtype (that of Tensor([1.0])):
# an int or bool tensor meeting a Python float gives float64; with a Python int an int tensor
# stays int. Oracle: the same arithmetic on Python numbers, element by element.
PROMOTIONS = {
    "t * 0.5": (lambda t: t * 0.5, lambda v: v * 0.5),
    "t + 0.5": (lambda t: t + 0.5, lambda v: v + 0.5),
    "0.5 - t": (lambda t: 0.5 - t, lambda v: 0.5 - v),
    "t / 2": (lambda t: t / 2, lambda v: v / 2),
    "t ** 1.5": (lambda t: t**1.5, lambda v: v**1.5),
}


@pytest.mark.parametrize("expression", PROMOTIONS)
@pytest.mark.parametrize("values", [[1, 2, 3], [True, False, True]], ids=["int", "bool"])
def test_step3_an_int_or_bool_tensor_meeting_a_python_float_gives_float64(expression, values):
    on_tensor, on_number = PROMOTIONS[expression]
    out = on_tensor(Tensor(values))
    assert out.dtype == np.float64, f"{expression} on {np.asarray(values).dtype} gave {out.dtype}"
    assert_close(out, np.array([on_number(float(v)) for v in values]), what=expression)


def test_step3_an_int_tensor_meeting_a_python_int_stays_int():
    out = Tensor([1, 2, 3]) * 3 - 1
    assert out.dtype == np.int64
    assert out.numpy().tolist() == [2, 5, 8]


@pytest.mark.parametrize(
    "expression",
    ["np.float64(2.0) * t", "t * np.float64(2.0)", "np.int64(3) - t", "t + np.float32(0.5)", "np.bool_(True) * t"],
)
def test_step3_a_numpy_scalar_on_either_side_counts_as_a_python_number(expression, rng):
    x = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    out = eval(expression, {"np": np, "t": Tensor(x)})
    assert isinstance(out, Tensor), f"{expression} gave {type(out).__name__}, not a Tensor"
    assert out.dtype == np.float32, f"{expression} gave {out.dtype}: a NumPy scalar must not widen float32"
    assert_close(out, eval(expression, {"np": np, "t": x}), what=expression)


def test_step3_a_numpy_array_on_either_side_is_refused_not_made_an_object_array():
    t, array = Tensor(np.ones((2, 2))), np.ones((2, 2))
    with pytest.raises(TypeError, match=exactly("mul: operand must be a Tensor or a Python number, got ndarray")):
        array * t  # without __array_ufunc__ = None, NumPy would make a 2x2 object array of Tensors
    with pytest.raises(TypeError, match=exactly("add: operand must be a Tensor or a Python number, got ndarray")):
        t + array


def test_step3_none_and_another_kind_of_tensor_are_refused_naming_their_type():
    t = Tensor(np.ones(2))
    with pytest.raises(TypeError, match=exactly("add: operand must be a Tensor or a Python number, got NoneType")):
        t + None
    with pytest.raises(TypeError, match=exactly("mul: operand must be a Tensor or a Python number, got NoneType")):
        None * t
    other_tensor = type("Tensor", (), {"__module__": "elsewhere"})()  # another module's Tensor
    with pytest.raises(
        TypeError, match=exactly("sub: operand must be a Tensor or a Python number, got elsewhere.Tensor")
    ):
        t - other_tensor


def test_step3_negating_a_bool_tensor_is_refused():
    with pytest.raises(TypeError, match=exactly("neg: dtype must not be bool, got bool")):
        -Tensor([True, False])
    assert (-Tensor([1, -2])).numpy().tolist() == [-1, 2]


def test_step3_0d_tensors_combine_with_each_other_and_with_any_shape(rng):
    x = rng.standard_normal((2, 3))
    assert_close(Tensor(np.float64(2.0)) * Tensor(np.float64(3.0)), np.float64(6.0))
    assert_close(Tensor(np.float64(2.0)) - Tensor(x), 2.0 - x)


def test_step3_size_one_dimensions_stretch_on_both_sides(rng):
    column, row = rng.standard_normal((3, 1)), rng.standard_normal((1, 4))
    assert_close(Tensor(column) * Tensor(row), column * row)


def test_step3_an_empty_tensor_broadcasts_to_an_empty_result():
    out = Tensor(np.zeros((0, 3))) + Tensor(np.ones(3))
    assert out.shape == (0, 3)


# ============================================================================================
# Step 4: reductions — sum, mean, max with axis and keepdims
# ============================================================================================

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 2), (-1, 0), ()], ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_step4_reductions_match_numpy_for_every_kind_of_axis(rng, name, axis, keepdims):
    x = rng.standard_normal((2, 3, 4))
    out = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    assert_close(out, REDUCTIONS[name](x, axis=axis, keepdims=keepdims), what=f"{name}(axis={axis})")


@given(data=st.data(), shape=shapes(), name=st.sampled_from(sorted(REDUCTIONS)), keepdims=st.booleans())
def test_step4_reductions_agree_with_numpy_on_generated_shapes_and_axes(data, shape, name, keepdims):
    x = data.draw(arrays(shape), label="x")
    axis = data.draw(axes(len(shape)), label="axis")
    out = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    expected = REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    assert_close(out, expected, rtol=1e-9, atol=1e-9, what=f"{name}(axis={axis}, keepdims={keepdims})")


@given(data=st.data(), shape=shapes(min_dims=1), name=st.sampled_from(sorted(REDUCTIONS)))
def test_step4_reductions_keep_float32(data, shape, name):
    x = data.draw(arrays(shape, dtype=np.float32), label="x")
    assert getattr(Tensor(x), name)(axis=0).dtype == np.float32


@memory_budget(2 * 1024 * 8, slack=DEFAULT_SLACK)  # formula: two float64 rows of 1024 (mean: the sum, then sum / count)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_step4_reducing_an_8mb_tensor_over_an_axis_allocates_about_the_output(big, name):
    out = getattr(Tensor(big), name)(axis=0)
    assert out.shape == (1024,)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 2)], ids=str)
def test_step4_an_axis_out_of_range_is_rejected(name, axis):
    bad = axis if isinstance(axis, int) else 2
    message = f"{name}: axis {bad} is out of range for a tensor of 2 dimensions"
    with pytest.raises(ValueError, match=exactly(message)):
        getattr(Tensor(np.zeros((2, 3))), name)(axis=axis)


def test_step4_a_repeated_axis_is_rejected():
    with pytest.raises(ValueError, match=exactly("sum: axis must not repeat, got (0, 0)")):
        Tensor(np.zeros((2, 3))).sum(axis=(0, 0))


def test_step4_max_of_negative_values_is_negative():
    x = np.array([[-3.0, -1.5, -2.0], [-7.0, -4.0, -0.5]])
    assert_close(Tensor(x).max(axis=1), np.array([-1.5, -0.5]))
    assert_close(Tensor(x).max(), np.float64(-0.5))


@pytest.mark.parametrize("name", REDUCTIONS)
def test_step4_reducing_a_0d_tensor_gives_its_value(name):
    out = getattr(Tensor(np.float64(4.5)), name)()
    assert out.shape == ()
    assert_close(out, np.float64(4.5))


def test_step4_keepdims_leaves_a_size_one_dimension_that_broadcasts_back(rng):
    x = rng.standard_normal((2, 3, 4))
    t = Tensor(x)
    centered = t - t.mean(axis=1, keepdims=True)
    assert t.mean(axis=1, keepdims=True).shape == (2, 1, 4)
    assert_close(centered, x - x.mean(axis=1, keepdims=True))


def test_step4_the_sum_over_an_empty_axis_is_zero():
    assert_close(Tensor(np.zeros((0, 3))).sum(axis=0), np.zeros(3))


def test_step4_the_max_over_a_non_empty_axis_of_an_empty_tensor_is_empty():
    assert Tensor(np.zeros((0, 3))).max(axis=1).shape == (0,)


@pytest.mark.parametrize("axis", [0, None], ids=str)
def test_step4_the_max_of_an_empty_axis_raises(axis):
    with pytest.raises(ValueError, match=exactly("max: must reduce at least one element")):
        Tensor(np.zeros((0, 3))).max(axis=axis)


def test_step4_the_mean_of_an_empty_axis_raises():
    with pytest.raises(ValueError, match=exactly("mean: must reduce at least one element")):
        Tensor(np.zeros((0, 3))).mean(axis=0)


def test_step4_the_mean_of_an_int_or_bool_tensor_is_float64():
    ints = np.array([[1, 2, 4], [3, 3, 4]])
    flags = np.array([[True, False, True], [False, False, False]])
    for x in (ints, flags):
        for axis in (None, 1):
            out = Tensor(x).mean(axis=axis)
            assert out.dtype == np.float64, f"mean of {x.dtype} gave {out.dtype}"
            assert_close(out, x.astype(np.float64).sum(axis=axis) / (x.size if axis is None else x.shape[1]))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [True, (0, False), 1.0, "0"], ids=repr)
def test_step4_an_axis_that_is_a_bool_or_not_an_int_is_refused(name, axis):
    message = f"{name}: axis must be an int, a tuple of ints or None, got {axis!r}"
    with pytest.raises(TypeError, match=exactly(message)):
        getattr(Tensor(np.ones((2, 3))), name)(axis=axis)


def test_step4_a_numpy_integer_axis_works_like_an_int():
    x = np.arange(6.0).reshape(2, 3)
    assert_close(Tensor(x).sum(axis=np.int64(1)), x.sum(axis=1))


# ============================================================================================
# Step 5: views — reshape, transpose, .T, indexing
# ============================================================================================


@pytest.mark.parametrize(
    ("args", "expected_shape"),
    [((4, 6), (4, 6)), ((-1, 4), (6, 4)), (((3, 8),), (3, 8)), ((24,), (24,)), ((2, -1, 3), (2, 4, 3))],
    ids=["4,6", "-1,4", "tuple (3,8)", "24", "2,-1,3"],
)
def test_step5_reshape_matches_numpy_and_infers_minus_one(args, expected_shape):
    x = np.arange(24.0).reshape(2, 3, 4)
    out = Tensor(x).reshape(*args)
    assert_close(out, x.reshape(expected_shape))


def test_step5_transpose_with_axes_permutes_like_numpy(rng):
    x = rng.standard_normal((2, 3, 4))
    assert_close(Tensor(x).transpose(2, 0, 1), np.transpose(x, (2, 0, 1)))


def test_step5_transpose_without_axes_and_T_reverse_the_dimensions(rng):
    x = rng.standard_normal((2, 3, 4))
    assert_close(Tensor(x).transpose(), x.transpose())
    assert_close(Tensor(x).T, x.T)


INDICES = {
    "int": 1,
    "negative int": -1,
    "column": (slice(None), 2),
    "strided slices": (slice(1, None), slice(None, None, 2)),
    "ellipsis": (Ellipsis, 0),
    "one element": (1, 2, 3),
    "integer array": np.array([2, 0]),
}


@pytest.mark.parametrize("name", INDICES)
def test_step5_indexing_matches_numpy(rng, name):
    x = rng.standard_normal((3, 4, 5))
    assert_close(Tensor(x)[INDICES[name]], x[INDICES[name]], what=f"t[{name}]")


def test_step5_indexing_with_an_integer_tensor_matches_numpy(rng):
    x = rng.standard_normal((4, 3))
    assert_close(Tensor(x)[Tensor(np.array([3, 1, 1]))], x[[3, 1, 1]])


def test_step5_indexing_with_a_tuple_of_integer_tensors_matches_numpy(rng):
    x = rng.standard_normal((4, 3))
    rows, cols = np.array([3, 0, 3]), np.array([2, 1, 2])
    assert_close(Tensor(x)[Tensor(rows), Tensor(cols)], x[rows, cols])
    assert_close(Tensor(x)[1:, Tensor(cols)], x[1:, cols])


def test_step5_reshaping_a_transposed_tensor_gives_the_transposed_order(rng):
    x = rng.standard_normal((2, 3))
    assert_close(Tensor(x).T.reshape(-1), x.T.reshape(-1))


VIEWS = {
    "reshape(-1)": lambda t: t.reshape(-1),
    "transpose()": lambda t: t.transpose(),
    "T": lambda t: t.T,
    "t[0]": lambda t: t[0],
    "t[..., :1]": lambda t: t[..., :1],
}


@given(data=st.data(), shape=shapes(min_dims=1), view=st.sampled_from(sorted(VIEWS)))
def test_step5_views_share_memory_with_the_original(data, shape, view):
    x = data.draw(arrays(shape), label="x")
    out = VIEWS[view](Tensor(x))
    assert np.shares_memory(out.numpy(), x), f"{view} copied the data instead of returning a view"


@given(data=st.data(), shape=shapes())
def test_step5_reshape_round_trips_to_the_original(data, shape):
    x = data.draw(arrays(shape), label="x")
    t = Tensor(x)
    assert_close(t.reshape(-1).reshape(shape), x, rtol=0, atol=0)
    assert_close(t.reshape(*reversed(shape)).reshape(*shape), x, rtol=0, atol=0)


@given(data=st.data(), shape=shapes())
def test_step5_transposing_twice_with_the_inverse_permutation_is_the_identity(data, shape):
    x = data.draw(arrays(shape), label="x")
    perm = data.draw(st.permutations(range(len(shape))), label="perm")
    inverse = tuple(int(i) for i in np.argsort(perm))
    once = Tensor(x).transpose(*perm)
    assert_close(once, np.transpose(x, perm), rtol=0, atol=0)
    assert_close(once.transpose(*inverse), x, rtol=0, atol=0)
    assert_close(Tensor(x).T.T, x, rtol=0, atol=0)


def test_step5_a_view_sees_writes_to_the_original():
    x = np.zeros((2, 3))
    view = Tensor(x).T[1:]
    x[1, 2] = 42.0
    assert view.numpy()[1, 1] == 42.0


BIG_VIEWS = {**VIEWS, "reshape(2048, 512)": lambda t: t.reshape(2048, 512), "t[::2, 1:]": lambda t: t[::2, 1:]}


@memory_budget(0, slack=DEFAULT_SLACK)  # formula: 0 bytes (a view shares the storage); slack: 64 KiB
@pytest.mark.parametrize("view", BIG_VIEWS)
def test_step5_a_view_of_an_8mb_tensor_allocates_nothing(big, view):
    out = BIG_VIEWS[view](Tensor(big))
    assert out.size > 0


def test_step5_reshape_to_a_wrong_size_names_both():
    with pytest.raises(ValueError, match=exactly("reshape: cannot reshape a tensor of size 6 into shape (4, 2)")):
        Tensor(np.arange(6.0)).reshape(4, 2)
    with pytest.raises(ValueError, match=exactly("reshape: cannot reshape a tensor of size 6 into shape (4, 2)")):
        Tensor(np.arange(6.0)).reshape((4, 2))


def test_step5_reshape_refuses_bool_sizes_and_negative_sizes_other_than_one_minus_one():
    t = Tensor(np.arange(6.0))
    with pytest.raises(TypeError, match=exactly("reshape: sizes must be ints, got (True, 6)")):
        t.reshape(True, 6)
    with pytest.raises(ValueError, match=exactly("reshape: cannot reshape a tensor of size 6 into shape (-2, -3)")):
        t.reshape(-2, -3)


@pytest.mark.parametrize("axes_in", [(0, 0), (0,), (0, 2)], ids=str)
def test_step5_transpose_rejects_axes_that_are_not_a_permutation(axes_in):
    message = f"transpose: axes must be a permutation of 0..1, got {axes_in}"
    with pytest.raises(ValueError, match=exactly(message)):
        Tensor(np.zeros((2, 3))).transpose(*axes_in)


def test_step5_transpose_refuses_bools_as_axes():
    with pytest.raises(ValueError, match=exactly("transpose: axes must be a permutation of 0..1, got (True, False)")):
        Tensor(np.zeros((2, 3))).transpose(True, False)


def test_step5_an_index_out_of_range_raises_numpys_index_error():
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 2"):
        Tensor(np.zeros((2, 3)))[5]


def test_step5_a_0d_tensor_reshapes_to_ones_and_back():
    t = Tensor(np.float64(7.0))
    assert t.reshape(1, 1).shape == (1, 1)
    assert t.reshape(1, 1).reshape(()).shape == ()
    assert t.T.shape == ()


def test_step5_an_empty_tensor_reshapes_and_transposes():
    t = Tensor(np.zeros((0, 3)))
    assert t.reshape(3, 0).shape == (3, 0)
    assert t.T.shape == (3, 0)


# ============================================================================================
# Step 6: matmul_shape and matmul
# ============================================================================================

MATMUL_CASES = [
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (3, 3, 4)),
    ((3, 1), (1, 4)),
    ((1, 3), (3, 1)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_CASES, ids=str)
def test_step6_matmul_shape_is_the_shape_numpy_gives(shape_a, shape_b):
    assert matmul_shape(shape_a, shape_b) == (np.zeros(shape_a) @ np.zeros(shape_b)).shape


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_CASES, ids=str)
def test_step6_matmul_matches_numpy_including_batch_broadcasting(rng, shape_a, shape_b):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    assert_close(Tensor(a) @ Tensor(b), a @ b, rtol=1e-9, atol=1e-12)
    assert_close(Tensor(a).matmul(Tensor(b)), a @ b, rtol=1e-9, atol=1e-12)


@given(data=st.data(), shapes_in=matmul_shapes(max_batch_dims=2))
def test_step6_matmul_agrees_with_numpy_on_generated_shapes(data, shapes_in):
    a = data.draw(arrays(shapes_in[0]), label="a")
    b = data.draw(arrays(shapes_in[1]), label="b")
    assert matmul_shape(a.shape, b.shape) == (a @ b).shape
    assert_close(Tensor(a) @ Tensor(b), a @ b, rtol=1e-9, atol=1e-9)


@given(batches=broadcastable_shapes(num_shapes=2, max_dims=2), mkn=st.tuples(*[st.integers(1, 5)] * 3))
def test_step6_matmul_shape_broadcasts_batch_dimensions_like_numpy(batches, mkn):
    m, k, n = mkn
    shape_a, shape_b = (*batches[0], m, k), (*batches[1], k, n)
    assert matmul_shape(shape_a, shape_b) == np.matmul(np.zeros(shape_a), np.zeros(shape_b)).shape


@given(data=st.data(), shapes_in=matmul_shapes())
def test_step6_matmul_keeps_float32(data, shapes_in):
    a = data.draw(arrays(shapes_in[0], dtype=np.float32), label="a")
    b = data.draw(arrays(shapes_in[1], dtype=np.float32), label="b")
    assert (Tensor(a) @ Tensor(b)).dtype == np.float32


def test_step6_matmul_shape_rejects_mismatched_inner_dimensions():
    with pytest.raises(ValueError, match=exactly("matmul: inner dimensions must match, got (2, 3) @ (4, 5)")):
        matmul_shape((2, 3), (4, 5))


def test_step6_matmul_rejects_mismatched_inner_dimensions():
    with pytest.raises(ValueError, match=exactly("matmul: inner dimensions must match, got (2, 3) @ (4, 5)")):
        Tensor(np.zeros((2, 3))) @ Tensor(np.zeros((4, 5)))


@pytest.mark.parametrize(("shape_a", "shape_b"), [((2, 3), (4, 3)), ((3, 2), (3, 4)), ((5, 2, 3), (5, 4, 3))], ids=str)
def test_step6_matmul_refuses_operands_that_fit_only_after_a_transpose(shape_a, shape_b):
    message = f"matmul: inner dimensions must match, got {shape_a} @ {shape_b}"
    with pytest.raises(ValueError, match=exactly(message)):
        matmul_shape(shape_a, shape_b)
    with pytest.raises(ValueError, match=exactly(message)):
        Tensor(np.zeros(shape_a)) @ Tensor(np.zeros(shape_b))


def test_step6_matmul_rejects_an_operand_with_fewer_than_2_dimensions():
    message = "matmul: operands must have at least 2 dimensions, got (3,) @ (3, 4)"
    with pytest.raises(ValueError, match=exactly(message)):
        matmul_shape((3,), (3, 4))
    with pytest.raises(ValueError, match=exactly(message)):
        Tensor(np.zeros(3)) @ Tensor(np.zeros((3, 4)))


def test_step6_matmul_shape_refuses_negative_and_bool_sizes():
    with pytest.raises(ValueError, match=exactly("matmul: sizes must be non-negative ints, got (2, -3)")):
        matmul_shape((2, -3), (-3, 4))
    with pytest.raises(ValueError, match=exactly("matmul: sizes must be non-negative ints, got (True, 4)")):
        matmul_shape((2, 1), (True, 4))


def test_step6_matmul_rejects_batch_dimensions_that_do_not_broadcast():
    with pytest.raises(ValueError, match=exactly("matmul: shapes must broadcast, got (2,) and (3,)")):
        matmul_shape((2, 2, 3), (3, 3, 4))


def test_step6_matmul_rejects_mixed_dtypes():
    a = Tensor(np.zeros((2, 3), dtype=np.float32))
    b = Tensor(np.zeros((3, 4), dtype=np.float64))
    with pytest.raises(TypeError, match=exactly("matmul: dtypes must match, got float32 and float64")):
        a @ b


def test_step6_matmul_rejects_a_list_operand():
    with pytest.raises(TypeError, match=exactly("matmul: operand must be a Tensor, got list")):
        Tensor(np.zeros((2, 2))) @ [[1.0, 0.0], [0.0, 1.0]]


def test_step6_matmul_with_an_empty_inner_dimension_gives_zeros():
    out = Tensor(np.ones((2, 0))) @ Tensor(np.ones((0, 3)))
    assert_close(out, np.zeros((2, 3)))


def test_step6_matmul_with_an_empty_batch_gives_an_empty_batch():
    assert (Tensor(np.ones((0, 2, 3))) @ Tensor(np.ones((3, 4)))).shape == (0, 2, 4)


# ============================================================================================
# Step 7: matmul_loops — the product with three loops, counting FLOPs
# ============================================================================================


def test_step7_matmul_loops_matches_numpy_and_counts_two_flops_per_multiply_add(rng):
    m, k, n = 2, 3, 4
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    out, flops = matmul_loops(a, b)
    assert_close(out, a @ b, rtol=1e-9, atol=1e-12)
    assert flops == 2 * m * n * k


@given(data=st.data(), mkn=st.tuples(*[st.integers(1, 5)] * 3), dtype=st.sampled_from([np.float32, np.float64]))
def test_step7_matmul_loops_equals_a_at_b_and_counts_exactly_2mnk_flops(data, mkn, dtype):
    m, k, n = mkn
    a = data.draw(arrays((m, k), dtype=dtype), label="a")
    b = data.draw(arrays((k, n), dtype=dtype), label="b")
    out, flops = matmul_loops(a, b)
    assert out.dtype == dtype
    assert_close(out, a @ b, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-3 if dtype == np.float32 else 1e-9)
    assert flops == 2 * m * n * k, f"({m}, {k}) @ ({k}, {n}): expected 2·m·n·k = {2 * m * n * k} FLOPs"


def test_step7_matmul_loops_rejects_mismatched_inner_dimensions():
    with pytest.raises(ValueError, match=exactly("matmul: inner dimensions must match, got (2, 3) @ (4, 5)")):
        matmul_loops(np.zeros((2, 3)), np.zeros((4, 5)))


def test_step7_matmul_loops_refuses_operands_that_fit_only_after_a_transpose():
    with pytest.raises(ValueError, match=exactly("matmul: inner dimensions must match, got (2, 3) @ (4, 3)")):
        matmul_loops(np.zeros((2, 3)), np.zeros((4, 3)))


def test_step7_matmul_loops_rejects_operands_that_are_not_2d():
    message = "matmul_loops: operands must have 2 dimensions, got (2, 3, 4) @ (4, 5)"
    with pytest.raises(ValueError, match=exactly(message)):
        matmul_loops(np.zeros((2, 3, 4)), np.zeros((4, 5)))


def test_step7_matmul_loops_rejects_mixed_dtypes():
    a, b = np.zeros((2, 3), dtype=np.float32), np.zeros((3, 4))
    with pytest.raises(TypeError, match=exactly("matmul_loops: dtypes must match, got float32 and float64")):
        matmul_loops(a, b)


def test_step7_matmul_loops_with_an_empty_inner_dimension_gives_zeros_and_no_flops():
    out, flops = matmul_loops(np.ones((2, 0)), np.ones((0, 3)))
    assert_close(out, np.zeros((2, 3)))
    assert flops == 0


def test_step7_matmul_loops_of_one_by_one_matrices_is_one_multiply_add():
    out, flops = matmul_loops(np.array([[3.0]]), np.array([[-2.0]]))
    assert_close(out, np.array([[-6.0]]))
    assert flops == 2
