"""Creation ops against NumPy: alloc, fill, zeros/ones(_like), full_like, eye,
identity_like, tri, tril/triu, arange, linspace."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]
SETTINGS = settings(max_examples=40, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


def sym(dtype, ndim, name=None):
    return T.tensor(dtype, shape=(None,) * ndim, name=name)


def rand(rng, shape, dtype):
    a = rng.integers(-5, 6, size=shape) if dtype != "bool" else rng.integers(0, 2, size=shape)
    if dtype.startswith("uint"):
        a = np.abs(a)
    return a.astype(dtype)


def layouts(a):
    """The same values in C order, Fortran order and through a negative-stride view."""
    yield a
    yield a.copy(order="F")
    if a.ndim:
        r = np.flip(a, 0).copy()
        yield np.flip(r, 0)


# ---- alloc / fill / zeros / ones ----
@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), data=st.data())
def test_alloc_matches_broadcast_to(shape, dtype, data):
    rng = np.random.default_rng(0)
    k = data.draw(st.integers(0, len(shape)))
    vshape = tuple(d if data.draw(st.booleans()) else 1 for d in shape[len(shape) - k:])
    value = rand(rng, vshape, dtype)
    v = sym(dtype, len(vshape))
    n = T.lscalar("n")
    sym_shape = [n] + list(shape[1:]) if shape else []
    out = T.alloc(v, *sym_shape)
    assert out.dtype == dtype
    f = theano.function([v, n] if shape else [v], out, on_unused_input="ignore")
    got = f(value, shape[0]) if shape else f(value)
    expected = np.broadcast_to(value, shape)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@SETTINGS
@given(shape=shapes, vdtype=st.sampled_from(DTYPES), mdtype=st.sampled_from(DTYPES), data=st.data())
def test_fill_takes_value_dtype(shape, vdtype, mdtype, data):
    rng = np.random.default_rng(1)
    vshape = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    mshape = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    model, value = rand(rng, mshape, mdtype), rand(rng, vshape, vdtype)
    m, v = sym(mdtype, len(mshape)), sym(vdtype, len(vshape))
    got = theano.function([m, v], T.fill(m, v))(model, value)
    expected = np.broadcast_to(value, np.broadcast_shapes(mshape, vshape))
    assert got.dtype == np.dtype(vdtype)
    np.testing.assert_array_equal(got, expected)
    assert T.second(m, v).dtype == vdtype


def test_fill_with_python_scalar_keeps_model_dtype():
    x = T.fmatrix("x")
    out = T.fill(x, 3)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(out.eval({x: np.zeros((2, 3), "float32")}), np.full((2, 3), 3, "float32"))


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES))
def test_zeros_ones(shape, dtype):
    for fn, ref in ((T.zeros, np.zeros), (T.ones, np.ones)):
        got = fn(shape, dtype=dtype).eval()
        exp = ref(shape, dtype=dtype)
        assert got.dtype == exp.dtype and got.shape == exp.shape
        np.testing.assert_array_equal(got, exp)
    assert T.zeros((2,)).dtype == theano.config.floatX


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), out_dtype=st.sampled_from([None] + DTYPES),
       fill=st.integers(-3, 3))
def test_like_functions(shape, dtype, out_dtype, fill):
    rng = np.random.default_rng(2)
    a = rand(rng, shape, dtype)
    x = sym(dtype, len(shape))
    for arr in layouts(a):
        f = theano.function([x], [T.zeros_like(x, dtype=out_dtype), T.ones_like(x, dtype=out_dtype),
                                  T.full_like(x, fill, dtype=out_dtype)], on_unused_input="ignore")
        got = f(arr)
        exps = [np.zeros_like(arr, dtype=out_dtype), np.ones_like(arr, dtype=out_dtype)]
        with np.errstate(all="ignore"):
            exps.append(np.full_like(arr, np.array(fill).astype(out_dtype or dtype), dtype=out_dtype))
        for g, e in zip(got, exps):
            assert g.dtype == e.dtype and g.shape == e.shape
            np.testing.assert_array_equal(g, e)


# ---- eye / tri / tril / triu ----
@SETTINGS
@given(n=st.integers(0, 5), m=st.one_of(st.none(), st.integers(0, 5)), k=st.integers(-6, 6),
       dtype=st.sampled_from(DTYPES))
def test_eye_and_tri(n, m, k, dtype):
    for fn, ref in ((T.eye, np.eye), (T.tri, np.tri)):
        got = fn(n, m, k, dtype=dtype).eval()
        exp = ref(n, m, k, dtype=dtype)
        assert got.dtype == exp.dtype
        np.testing.assert_array_equal(got, exp)
    ns = T.iscalar("n")
    f = theano.function([ns], T.eye(ns, m, k, dtype=dtype))
    np.testing.assert_array_equal(f(n), np.eye(n, m, k, dtype=dtype))


def test_identity_like():
    x = T.imatrix("x")
    out = T.identity_like(x)
    assert out.dtype == "int32"
    np.testing.assert_array_equal(out.eval({x: np.zeros((2, 4), "int32")}), np.eye(2, 4, dtype="int32"))


@SETTINGS
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple), k=st.integers(-5, 5),
       dtype=st.sampled_from(DTYPES))
def test_tril_triu(shape, k, dtype):
    rng = np.random.default_rng(3)
    a = rand(rng, shape, dtype)
    x = sym(dtype, len(shape))
    f = theano.function([x], [T.tril(x, k), T.triu(x, k)])
    for arr in layouts(a):
        lo, up = f(arr)
        assert lo.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(lo, np.tril(arr, k))
        np.testing.assert_array_equal(up, np.triu(arr, k))


# ---- arange / linspace ----
@SETTINGS
@given(start=st.integers(-20, 20), stop=st.integers(-20, 20), step=st.integers(-7, 7).filter(bool),
       dtype=st.sampled_from([None, "int8", "int32", "uint16", "int64", "float16", "float32", "float64"]))
def test_arange_ints(start, stop, step, dtype):
    try:
        exp = np.arange(start, stop, step, dtype=dtype)
    except OverflowError:
        with pytest.raises(OverflowError, match="out of bounds"):
            T.arange(start, stop, step, dtype=dtype).eval()
        return
    got = T.arange(start, stop, step, dtype=dtype).eval()
    assert got.dtype == exp.dtype
    np.testing.assert_array_equal(got, exp)
    # Symbolic bounds give the same values and dtype.
    a, b, c = T.lscalar(), T.lscalar(), T.lscalar()
    got = theano.function([a, b, c], T.arange(a, b, c, dtype=dtype))(start, stop, step)
    assert got.dtype == exp.dtype
    np.testing.assert_array_equal(got, exp)


@SETTINGS
@given(start=st.floats(-10, 10), length=st.floats(-10, 10), step=st.floats(0.05, 3), neg=st.booleans(),
       dtype=st.sampled_from([None, "float32", "float16", "int32"]))
def test_arange_floats(start, length, step, neg, dtype):
    step = -step if neg else step
    stop = start + length
    exp = np.arange(start, stop, step, dtype=dtype)
    got = T.arange(start, stop, step, dtype=dtype).eval()
    assert got.dtype == exp.dtype and got.shape == exp.shape
    np.testing.assert_array_equal(got, exp)


def test_arange_dtype_rules():
    assert T.arange(5).dtype == "int64"
    assert T.arange(T.iscalar()).dtype == "int64"
    assert T.arange(T.fscalar()).dtype == "float64"
    assert T.arange(0, 5, 0.5).dtype == "float64"
    np.testing.assert_array_equal(T.arange(3.0).eval(), np.arange(3.0))
    np.testing.assert_array_equal(T.arange(2, dtype="bool").eval(), np.arange(2, dtype=bool))
    n = T.lscalar("n")
    f = theano.function([n], T.arange(n).shape[0])
    assert f(6) == 6 and f(-2) == 0


@SETTINGS
@given(start=st.floats(-100, 100), stop=st.floats(-100, 100), num=st.integers(0, 20), endpoint=st.booleans(),
       dtype=st.sampled_from([None, "float32", "float16", "int32", "int64"]))
def test_linspace(start, stop, num, endpoint, dtype):
    exp = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    got = T.linspace(start, stop, num, endpoint=endpoint, dtype=dtype).eval()
    assert got.dtype == exp.dtype
    np.testing.assert_array_equal(got, exp)


def test_linspace_dtype_follows_inputs():
    a, b = T.fscalar("a"), T.fscalar("b")
    out = T.linspace(a, b, 7)
    assert out.dtype == "float32"
    got = theano.function([a, b], out)(np.float32(0.3), np.float32(2.1))
    np.testing.assert_array_equal(got, np.linspace(np.float32(0.3), np.float32(2.1), 7))
    assert T.linspace(0, 1, 3).dtype == "float64"


# ---- errors ----
def test_errors():
    v = T.tensor("float64", shape=(3,))
    with pytest.raises(ValueError, match=r"^\[Alloc\].*\(3,\).*\(2, 4\)"):
        T.alloc(v, 2, 4)
    with pytest.raises(ValueError, match=r"^\[Alloc\] negative"):
        T.zeros((2, -1))
    n = T.lscalar("n")
    with pytest.raises(ValueError, match=r"^\[Alloc\] negative"):
        theano.function([n], T.zeros((n,)))(-1)
    with pytest.raises(ValueError, match=r"^\[Fill\] shapes cannot be broadcast"):
        T.fill(T.tensor("float32", shape=(2, 4)), v)
    with pytest.raises(ValueError, match=r"^\[Eye\{float32\}\] negative"):
        T.eye(-1, dtype="float32")
    with pytest.raises(ValueError, match=r"^\[identity_like\] expected a matrix"):
        T.identity_like(T.vector())
    with pytest.raises(ValueError, match=r"^\[tril\] expected an array of at least 1"):
        T.tril(T.scalar())
    with pytest.raises(ValueError, match=r"step must not be zero"):
        T.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"step must not be zero"):
        theano.function([n], T.arange(0, 5, n))(0)
    with pytest.raises(ValueError, match=r"only supported for booleans"):
        T.arange(3, dtype="bool")
    with pytest.raises(ValueError, match=r"Number of samples, -1, must be non-negative"):
        T.linspace(0, 1, -1)
    with pytest.raises(TypeError):
        T.eye(2.5)


def test_bfloat16_computed_in_float32_and_rounded():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = ml_dtypes.bfloat16
    got = T.arange(0, 3, 0.25, dtype="bfloat16").eval()
    assert got.dtype == bf
    np.testing.assert_array_equal(got.astype("float32"), np.arange(0, 3, 0.25, dtype=bf).astype("float32"))
    got = T.linspace(0, 1, 7, dtype="bfloat16").eval()
    np.testing.assert_array_equal(got.astype("float32"), np.linspace(0, 1, 7).astype(bf).astype("float32"))
    x = T.tensor("bfloat16", shape=(None, None))
    a = np.arange(1, 10, dtype="float32").reshape(3, 3).astype(bf)
    got = T.triu(x, 1).eval({x: a})
    assert got.dtype == bf
    np.testing.assert_array_equal(got.astype("float32"), np.triu(a.astype("float32"), 1))
    assert T.eye(2, dtype="bfloat16").eval().dtype == bf
