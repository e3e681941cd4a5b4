"""Indexing against NumPy: basic and advanced x[key], set/inc_subtensor, take."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = ["float64", "float32", "float16", "int8", "uint16", "int64", "bool"]


def sym(a, name="x"):
    return T.tensor(str(a.dtype), shape=(None,) * a.ndim, name=name)


def check(a, key):
    x = sym(a)
    try:
        ref = a[key]
    except IndexError:  # e.g. an Ellipsis moved an int onto an empty axis
        with pytest.raises(IndexError, match="out of bounds"):
            theano.function([x], x[key])(a)
        return
    f = theano.function([x], x[key])
    out = np.asarray(f(a))
    assert out.dtype == ref.dtype
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out, ref)


def arrays(draw, min_dims=0, max_dims=4, min_side=0, max_side=5):
    shape = tuple(draw(st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims)))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    layout = draw(st.sampled_from(["c", "f", "rev"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "rev" and a.ndim:
        a = np.ascontiguousarray(a[::-1])[::-1]  # negative strides
    return a


@st.composite
def basic_case(draw):
    a = arrays(draw)
    key = []
    for n in a.shape[: draw(st.integers(0, a.ndim))]:
        if n > 0 and draw(st.booleans()):
            key.append(draw(st.integers(-n, n - 1)))
        else:
            b = st.none() | st.integers(-n - 2, n + 2)
            key.append(slice(draw(b), draw(b), draw(st.none() | st.sampled_from([-3, -2, -1, 1, 2, 3]))))
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    if draw(st.booleans()):
        i = draw(st.integers(0, len(key)))
        j = draw(st.integers(i, len(key)))
        key[i:j] = [Ellipsis]
    return a, tuple(key)


@SETTINGS
@given(basic_case())
def test_basic_indexing_matches_numpy(case):
    a, key = case
    check(a, key)


@st.composite
def advanced_case(draw):
    a = arrays(draw, min_dims=1, max_dims=3, min_side=1, max_side=4)
    bshape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    key = []
    for n in a.shape[: draw(st.integers(1, a.ndim))]:
        kind = draw(st.sampled_from(["int", "slice", "array", "array"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.none() | st.integers(-n, n)), None, draw(st.sampled_from([None, -1, 2]))))
        else:
            shp = tuple(d if draw(st.booleans()) else 1 for d in bshape[draw(st.integers(0, len(bshape))):])
            key.append(rng.integers(-n, n, size=shp))
    if not any(isinstance(k, np.ndarray) for k in key):
        key[0] = rng.integers(-a.shape[0], a.shape[0], size=bshape)
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return a, tuple(key)


@SETTINGS
@given(advanced_case())
def test_advanced_indexing_matches_numpy(case):
    a, key = case
    check(a, key)


def test_advanced_placement_rule():
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    check(a, (0, slice(None), [1, 2], [0, 4]))  # int and arrays separated by a slice: index dims first
    check(a, (slice(None), [1, 2], [[0], [3]]))  # adjacent: in place
    check(a, ([1, 0], None, [2, 2]))
    check(a, (Ellipsis, [1, -1]))
    check(a, ([[]],))
    check(a, (True,))
    check(a, (slice(None), np.int64(2), np.array(1)))
    check(a, (np.array([True, False]), slice(None), [1, 2]))  # masks combine with int arrays
    check(a, (np.array([[True, False, True], [False, False, True]]), [1, 2, 3]))
    check(a, (slice(None), np.array([True, False, True]), [[1], [2]]))
    check(a, (np.False_,))
    check(np.zeros((0, 3)), ([], slice(None)))


def test_list_of_symbolic_scalars():
    x, i = T.fmatrix("x"), T.lscalar("i")
    a = np.arange(12, dtype="float32").reshape(3, 4)
    np.testing.assert_array_equal(x[[i, 0, -1]].eval({x: a, i: 1}), a[[1, 0, -1]])


@st.composite
def mask_case(draw):
    a = arrays(draw, min_dims=1, max_dims=3, min_side=0, max_side=4)
    k = draw(st.integers(1, a.ndim))
    lead = draw(st.integers(0, a.ndim - k))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    mask = rng.random(a.shape[lead: lead + k]) < 0.5
    return a, lead, mask


@SETTINGS
@given(mask_case())
def test_boolean_mask_matches_numpy(case):
    a, lead, mask = case
    x, m = sym(a), T.tensor("bool", shape=(None,) * mask.ndim, name="m")
    y = x[(slice(None),) * lead + (m,)]
    assert y.ndim == a.ndim - mask.ndim + 1
    out = theano.function([x, m], y)(a, mask)
    ref = a[(slice(None),) * lead + (mask,)]
    assert out.dtype == ref.dtype and out.shape == ref.shape
    np.testing.assert_array_equal(out, ref)
    check(a, (Ellipsis, a > 0) if a.ndim == 1 else (a > 0,))


@SETTINGS
@given(st.integers(0, 8), st.none() | st.integers(-10, 10), st.none() | st.integers(-10, 10),
       st.sampled_from([None, -3, -1, 1, 2]))
def test_symbolic_slice_bounds(n, start, stop, step):
    a = np.arange(n, dtype="int32")
    x = T.ivector("x")
    args, vals = [x], [a]
    parts = []
    for v, var in ((start, T.lscalar("start")), (stop, T.iscalar("stop")), (step, T.bscalar("step"))):
        if v is None:
            parts.append(None)
        else:
            parts.append(var)
            args.append(var)
            vals.append(v)
    y = x[slice(*parts)]
    out, length = theano.function(args, [y, y.shape[0]])(*vals)
    ref = a[start:stop:step]
    np.testing.assert_array_equal(out, ref)
    assert int(length) == len(ref)


def test_views_of_non_contiguous_inputs():
    base = np.arange(60.0).reshape(6, 10)
    for a in (base[::2, 1::3], base.T, base[::-1, ::-2], np.asfortranarray(base)):
        check(a, (slice(1, None), -1))
        check(a, (slice(None, None, -1), [0, 1, 0]))
        check(a, (a[:, 0] > 20,))


def test_shape_of_indexed_is_cheap():
    x = T.dmatrix("x")
    assert "Shape_i" in str(x.shape[0])
    a = np.zeros((5, 7))
    assert x[1:-1, None, ::3].shape.eval({x: a}).tolist() == [3, 1, 3]
    assert x[[0, 0, 1]].shape.eval({x: a}).tolist() == [3, 7]


@st.composite
def scatter_case(draw):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    dtype = draw(st.sampled_from(["float64", "float32", "int32", "int8"]))
    a = (rng.standard_normal((n, m)) * 5).astype(dtype)
    idx = rng.integers(-n, n, size=draw(st.integers(0, 8)))
    col = draw(st.sampled_from([slice(None), slice(None, None, -1), 0]))
    y = (rng.standard_normal(a[idx, col].shape) * 5).astype(dtype)
    return a, idx, col, y


@SETTINGS
@given(scatter_case())
def test_inc_subtensor_accumulates_like_add_at(case):
    a, idx, col, y = case
    x, yv = sym(a), sym(y, "y")
    out = theano.function([x, yv], T.inc_subtensor(x[idx, col], yv))(a, y)
    ref = a.copy()
    np.add.at(ref, (idx, col), y)
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)


@SETTINGS
@given(scatter_case())
def test_set_subtensor_last_write_wins(case):
    a, idx, col, y = case
    x, yv = sym(a), sym(y, "y")
    out = theano.function([x, yv], T.set_subtensor(x[idx, col], yv))(a, y)
    ref = a.copy()
    ref[idx, col] = y
    np.testing.assert_array_equal(out, ref)


def test_set_and_inc_basic_and_masks():
    a = np.arange(12, dtype="float32").reshape(3, 4)
    x = T.fmatrix("x")
    f = theano.function([x], [T.set_subtensor(x[1:, ::2], 0), T.inc_subtensor(x[:, -1], 2.5),
                              T.set_subtensor(x[x > 5], -1), T.inc_subtensor(x[None, 1], [1, 2, 3, 4])])
    r = f(a)
    e = [a.copy() for _ in range(4)]
    e[0][1:, ::2] = 0
    e[1][:, -1] += 2.5
    e[2][a > 5] = -1
    e[3][None, 1] += [1, 2, 3, 4]
    for got, ref in zip(r, e):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(a, np.arange(12, dtype="float32").reshape(3, 4))  # input untouched
    g = theano.function([x], T.inc_subtensor(x[[0, 0, 2]], 1, set_instead_of_inc=True))
    np.testing.assert_array_equal(g(a)[[0, 2]], np.ones((2, 4)))


@SETTINGS
@given(st.integers(1, 3), st.integers(0, 2**16), st.booleans())
def test_take_matches_numpy(ndim, seed, flat):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(tuple(rng.integers(1, 4, size=ndim)))
    axis = None if flat else int(rng.integers(-ndim, ndim))
    n = a.size if axis is None else a.shape[axis]
    ind = rng.integers(-n, n, size=tuple(rng.integers(0, 3, size=rng.integers(0, 3))))
    x = sym(a)
    out = theano.function([x], T.take(x, ind, axis=axis))(a)
    np.testing.assert_array_equal(out, np.take(a, ind, axis=axis))
    np.testing.assert_array_equal(x.take(ind, axis).eval({x: a}), np.take(a, ind, axis=axis))


def test_index_errors():
    x = T.dvector("x")
    a = np.arange(3.0)
    f = theano.function([x], x[[0, 5]])
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        f(a)
    i = T.lscalar("i")
    g = theano.function([x, i], x[i])
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        g(a, -4)
    with pytest.raises(IndexError, match="too many indices for array: array is 1-dimensional, but 2 were indexed"):
        x[0, 1]
    with pytest.raises(IndexError, match="integer .or boolean. type"):
        x[np.array([0.5])]
    with pytest.raises(IndexError, match="valid indices"):
        x["a"]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    c = T.tensor("float64", shape=(3,), name="c")
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        c[3]
    with pytest.raises(IndexError, match="boolean index did not match"):
        c[np.array([True, False])]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(ValueError, match="result of indexing"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(ValueError, match="cannot set a 1-dimensional subtensor"):
        T.set_subtensor(x[1:], T.dmatrix())
    with pytest.raises(ValueError, match="cannot be broadcast to the indexed subtensor"):
        T.inc_subtensor(x[[0, 1]], np.ones(3))
    yv = T.dvector("y")
    h = theano.function([x, yv], T.inc_subtensor(x[[0, 1]], yv))
    with pytest.raises(ValueError, match=r"value array of shape \(3,\) could not be broadcast to indexing result of shape \(2,\)"):
        h(a, np.ones(3))
    m = T.tensor("bool", shape=(None,), name="m")
    k = theano.function([x, m], x[m])
    with pytest.raises(IndexError, match="size of axis is 3 but size of corresponding boolean axis is 2"):
        k(a, np.array([True, False]))
