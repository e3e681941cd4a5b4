"""T.sort, T.argsort, T.cumsum, T.cumprod, T.diff against NumPy: random shapes,
axes, dtypes and layouts, NaNs, result dtypes and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = ["float64", "float32", "float16", "int8", "int32", "int64", "uint8", "uint16", "bool"]


def var(dtype, ndim):
    return T.TensorType(dtype, shape=(None,) * ndim)()


def rand(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True).astype(dtype)
    a = (rng.standard_normal(shape) * 10).round(1).astype(dtype)
    if a.size:
        a.flat[rng.integers(a.size)] = np.nan
    return a


def layout(rng, a):
    kind = rng.integers(3)
    if a.ndim == 0 or kind == 0:
        return a
    if kind == 1:
        return np.asfortranarray(a)
    big = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)[::-2]
    big[...] = a
    return big


cases = st.tuples(st.integers(0, 2**32 - 1), st.sampled_from(DTYPES),
                  st.lists(st.integers(0, 4), min_size=0, max_size=3), st.data())


def draw_axis(data, ndim, allow_none=True):
    choices = list(range(-ndim, ndim)) + ([None] if allow_none else [])
    return data.draw(st.sampled_from(choices)) if choices else None


@SETTINGS
@given(cases)
def test_sort_and_argsort(case):
    seed, dt, shape, data = case
    rng = np.random.default_rng(seed)
    a = rand(rng, dt, tuple(shape))
    axis = draw_axis(data, a.ndim)
    x = var(dt, a.ndim)
    s, i = theano.function([x], [T.sort(x, axis), T.argsort(x, axis)])(layout(rng, a))
    want_s, want_i = np.sort(a, axis), np.argsort(a, axis, kind="stable")
    assert s.dtype == want_s.dtype and i.dtype == np.int64
    np.testing.assert_array_equal(s, want_s)
    np.testing.assert_array_equal(i, want_i)


@SETTINGS
@given(cases)
def test_cumsum_cumprod(case):
    seed, dt, shape, data = case
    rng = np.random.default_rng(seed)
    a = rand(rng, dt, tuple(shape))
    if dt.startswith("float"):
        a = np.nan_to_num(a) / 10
    axis = draw_axis(data, a.ndim)
    x = var(dt, a.ndim)
    cs, cp = theano.function([x], [T.cumsum(x, axis), T.cumprod(x, axis)])(layout(rng, a))
    for got, want in ((cs, np.cumsum(a, axis)), (cp, np.cumprod(a, axis))):
        assert got.dtype == want.dtype and got.shape == want.shape
        if dt.startswith("float"):
            np.testing.assert_allclose(got, want, rtol=1e-6 if dt != "float16" else 1e-2)
        else:
            np.testing.assert_array_equal(got, want)


@SETTINGS
@given(cases, st.integers(0, 3))
def test_diff(case, n):
    seed, dt, shape, data = case
    if not shape:
        shape = [3]
    rng = np.random.default_rng(seed)
    a = rand(rng, dt, tuple(shape))
    axis = draw_axis(data, a.ndim, allow_none=False)
    x = var(dt, a.ndim)
    got = theano.function([x], T.diff(x, n, axis))(layout(rng, a))
    want = np.diff(a, n, axis)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_methods_static_shapes_and_errors():
    x = T.TensorType("float32", shape=(3, None))()
    a = np.array([[3, 1, 2], [0, -1, 5], [2, 2, 1]], dtype="float32")
    np.testing.assert_array_equal(x.sort().eval({x: a}), np.sort(a))
    np.testing.assert_array_equal(x.argsort(axis=0).eval({x: a}), np.argsort(a, 0, kind="stable"))
    np.testing.assert_array_equal(x.cumsum(axis=1).eval({x: a}), np.cumsum(a, 1))
    assert T.diff(T.TensorType("float32", shape=(3, 7))(), 2).static_shape == (3, 5)
    assert T.cumsum(x).static_shape == (None,)
    assert T.cumsum(T.bmatrix()).dtype == "int64"
    assert T.cumprod(T.TensorType("uint8", shape=(None,))()).dtype == "uint64"
    with pytest.raises(ValueError, match=r"\[diff\] order must be non-negative but got -1"):
        T.diff(x, -1)
    with pytest.raises(ValueError, match=r"\[diff\] diff requires input that is at least one dimensional"):
        T.diff(T.dscalar())
    with pytest.raises(ValueError, match=r"axis 2 is out of bounds"):
        T.sort(x, 2)
    with pytest.raises(ValueError, match=r"order= is for structured arrays"):
        T.sort(x, order="f")
