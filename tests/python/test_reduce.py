"""Property tests of the reductions against NumPy / SciPy.

T.sum/prod/mean/var/std/max/min/argmax/argmin/all/any/logsumexp over every
dtype, shapes with 0-d and empty arrays, axis None / int / negative / tuple
(unsorted, empty), keepdims, and C / Fortran / reversed / strided inputs.

Float16 and float32 inputs are compared with the exact (float64) reduction
rounded to the result dtype: theon accumulates in double and rounds once,
while NumPy accumulates in the input dtype along some layouts and so differs
from itself by layout. Float values are kept to |x| <= 1e4 (plus NaN and
infinities; +-15 for float16 var/std): the order of summation is
unspecified, and with values near the float64 limits an overflow in a
partial sum makes the result order-dependent.
"""
import numpy as np
import pytest
import scipy.special as sps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import theon
import theon.tensor as T

from conftest import ALL_DTYPES, DERANDOMIZE, examples, laid_out_arrays, symbolic

EPS = {"float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52}
REDUCTIONS = ["sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "all", "any", "logsumexp"]


def _elements(dtype, kind):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return None  # the shared strategy: small values, edges and the full range
    width = dt.itemsize * 8
    # var/std square the deviations in the input dtype (NumPy too): in float16
    # they overflow beyond 256, so there the values stay within +-15.
    big = 15 if dt == np.float16 and kind in ("var", "std") else 1e4
    moderate = st.floats(-big, big, width=width, allow_subnormal=False).filter(lambda v: v == 0 or abs(v) >= 1e-3)
    special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, np.nan, np.inf, -np.inf])
    return st.one_of(moderate, moderate, moderate, st.floats(-4, 4, width=width, allow_subnormal=False), special)


@st.composite
def axes_for(draw, ndim, single):
    """None, one (maybe negative) axis, or (unless single) a tuple of distinct axes in any order."""
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
    if not single:
        choices.append(st.permutations(range(ndim)).flatmap(
            lambda p: st.integers(0, ndim).map(lambda k: tuple(a - ndim if a % 2 else a for a in p[:k]))))
    return draw(st.one_of(*choices))


def _result_dtype(kind, dtype):
    """NumPy's result dtype (SciPy's for logsumexp)."""
    one = np.ones(2, dtype=dtype)
    return np.asarray(_NUMPY[kind](one, None, False)).dtype


def _lse(x, axis, keepdims):
    if np.asarray(x).size == 0:
        # SciPy gives -inf over nothing; its axis handling on empty arrays is what NumPy's sum gives.
        s = np.sum(np.zeros(np.shape(x)), axis=axis, keepdims=keepdims)
        return np.full_like(s, -np.inf, dtype=np.result_type(np.asarray(x).dtype, np.float16)
                            if np.asarray(x).dtype.kind == "f" else np.float64)
    # SciPy gives a 0-d input with keepdims shape (1,); NumPy's reductions keep ().
    shape = np.sum(np.zeros(np.shape(x)), axis=axis, keepdims=keepdims).shape
    return np.reshape(sps.logsumexp(x, axis=axis, keepdims=keepdims), shape)


_NUMPY = {
    "sum": lambda x, a, k: np.sum(x, axis=a, keepdims=k),
    "prod": lambda x, a, k: np.prod(x, axis=a, keepdims=k),
    "mean": lambda x, a, k: np.mean(x, axis=a, keepdims=k),
    "var": lambda x, a, k: np.var(x, axis=a, keepdims=k),
    "std": lambda x, a, k: np.std(x, axis=a, keepdims=k),
    "max": lambda x, a, k: np.max(x, axis=a, keepdims=k),
    "min": lambda x, a, k: np.min(x, axis=a, keepdims=k),
    "argmax": lambda x, a, k: np.argmax(x, axis=a, keepdims=k),
    "argmin": lambda x, a, k: np.argmin(x, axis=a, keepdims=k),
    "all": lambda x, a, k: np.all(x, axis=a, keepdims=k),
    "any": lambda x, a, k: np.any(x, axis=a, keepdims=k),
    "logsumexp": _lse,
}


def _theon(kind, x, axis, keepdims, ddof=0):
    fn = getattr(T, kind)
    if kind in ("var", "std"):
        return fn(x, axis=axis, keepdims=keepdims, ddof=ddof)
    return fn(x, axis=axis, keepdims=keepdims)


def _tolerance(kind, x, axis, keepdims, out_dtype):
    """Per-element absolute tolerance for a float result, from the magnitudes reduced."""
    eps = EPS.get(np.dtype(out_dtype).name, 0.0)
    xf = np.abs(np.asarray(x, dtype=np.float64))
    xf = np.where(np.isfinite(xf), xf, 0.0)
    if xf.size == 0:
        return 0.0
    n = max(1, xf.size // max(1, np.sum(np.ones_like(xf), axis=axis, keepdims=keepdims).size))
    if kind == "sum":
        return 4 * eps * np.sum(xf, axis=axis, keepdims=keepdims) + 2.0**-60 * n
    if kind == "mean":
        return 4 * eps * np.mean(xf, axis=axis, keepdims=keepdims)
    m = np.max(xf, axis=axis, keepdims=keepdims) if xf.size else 0.0
    if kind == "var":
        # the centred values carry the rounding of the mean (~eps * max|x|)
        return 16 * eps * m * m
    if kind == "std":
        return 4 * np.sqrt(eps) * m
    if kind == "logsumexp":
        # each float16/32 step rounds: exp(x - max) relative, the sum's log and + max absolute
        return 4 * eps * (m + np.log(n) + 1)
    return 0.0


def _check(kind, got, want, x, axis, keepdims, out_dtype):
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    dt = np.dtype(out_dtype)
    if dt.kind in "biu":
        np.testing.assert_array_equal(got, want)
        return
    g, w = got.astype(np.float64), np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg="NaN positions")
    np.testing.assert_array_equal(np.isposinf(g), np.isposinf(w), err_msg="+inf positions")
    np.testing.assert_array_equal(np.isneginf(g), np.isneginf(w), err_msg="-inf positions")
    fin = np.isfinite(g) & np.isfinite(w)
    eps = EPS[dt.name]
    atol = np.broadcast_to(_tolerance(kind, x, axis, keepdims, out_dtype), g.shape)
    rtol = 8 * eps if kind != "prod" else 4 * eps * max(1, np.asarray(x).size)
    err = np.abs(g - w)
    ok = err <= atol + rtol * np.abs(w)
    assert np.all(ok[fin]), f"{kind}: got {g[fin & ~ok]}, want {w[fin & ~ok]}"


@pytest.mark.parametrize("kind", REDUCTIONS)
@settings(max_examples=examples(80), deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=st.data())
def test_reduction_matches_numpy(kind, data):
    dtype = data.draw(st.sampled_from(ALL_DTYPES), label="dtype")
    if kind == "logsumexp" and dtype == "bool":
        dtype = "uint8"  # SciPy's logsumexp refuses bool (it subtracts)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), label="shape")
    x = data.draw(laid_out_arrays(dtype, shape, _elements(dtype, kind)), label="x")
    axis = data.draw(axes_for(len(shape), single=kind in ("argmax", "argmin")), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    ddof = data.draw(st.sampled_from([0, 1]), label="ddof") if kind in ("var", "std") else 0
    static = data.draw(st.booleans(), label="static")

    want_dtype = _result_dtype(kind, dtype)
    xin = x
    if np.dtype(dtype).kind == "f" and kind in ("sum", "prod", "mean", "var", "std", "logsumexp"):
        xin = x.astype(np.float64)  # the exact reduction, rounded to the result dtype below
    with np.errstate(all="ignore"):
        try:
            if kind in ("var", "std"):
                want = getattr(np, kind)(xin, axis=axis, keepdims=keepdims, ddof=ddof)
            else:
                want = _NUMPY[kind](xin, axis, keepdims)
            want = np.asarray(want).astype(want_dtype)
            err = None
        except ValueError as e:  # max/min/argmax/argmin over nothing
            err = e

    v = symbolic(dtype, shape, static)
    if err is not None:
        with pytest.raises(ValueError, match="zero-size|empty"):
            theon.function([v], _theon(kind, v, axis, keepdims))(x)
        return
    expr = _theon(kind, v, axis, keepdims, ddof)
    assert np.dtype(expr.dtype) == want_dtype, f"{kind}({dtype}): graph dtype {expr.dtype}, NumPy {want_dtype}"
    got = np.asarray(theon.function([v], expr)(x))
    assert got.dtype == want_dtype, f"{kind}({dtype}): {got.dtype}, NumPy {want_dtype}"
    with np.errstate(all="ignore"):
        _check(kind, got, want, x, axis, keepdims, want_dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("kind", REDUCTIONS)
def test_result_dtypes(kind, dtype):
    if kind == "logsumexp" and dtype == "bool":
        pytest.skip("SciPy's logsumexp refuses bool")
    v = T.tensor(dtype, shape=(None, None))
    assert np.dtype(_theon(kind, v, 0, False).dtype) == _result_dtype(kind, dtype)


def test_mean_of_large_integers_does_not_wrap():
    x = np.array([2**62, 2**62, 2**62, 2**62], dtype=np.int64)
    u = np.array([2**63, 2**63], dtype=np.uint64)
    for a in (x, u):
        v = T.tensor(a.dtype.name, shape=(None,))
        got = theon.function([v], T.mean(v))(a)
        np.testing.assert_allclose(got, np.mean(a), rtol=1e-15)


def test_var_with_ddof_not_below_zero_count():
    # NumPy divides by max(n - ddof, 0): nan, never -0.0 or a negative variance.
    v = T.tensor("float64", shape=(None,))
    for a in (np.zeros(0), np.array([3.0])):
        with np.errstate(all="ignore"):
            want = np.var(a, ddof=1)
        got = theon.function([v], T.var(v, ddof=1))(a)
        np.testing.assert_array_equal(got, want)


def test_logsumexp_edge_values():
    v = T.tensor("float64", shape=(None, None))
    a = np.array([[np.inf, 1.0], [-np.inf, -np.inf], [np.nan, 0.0], [1000.0, 1000.0]])
    got = theon.function([v], T.logsumexp(v, axis=1))(a)
    np.testing.assert_allclose(got, sps.logsumexp(a, axis=1))
    e = np.zeros((0, 3))
    got = theon.function([v], T.logsumexp(v, axis=0))(e)
    np.testing.assert_array_equal(got, np.full(3, -np.inf))


def test_argmax_nan_and_ties_take_the_first():
    v = T.tensor("float32", shape=(None,))
    for a in ([1, 3, 3, 0], [1, np.nan, 5, np.nan], [np.nan, 1], [-np.inf, -np.inf]):
        a = np.array(a, dtype=np.float32)
        for kind in ("argmax", "argmin"):
            got = theon.function([v], getattr(T, kind)(v))(a)
            assert int(got) == getattr(np, kind)(a), (kind, a)


def test_max_and_argmax_wrapper():
    v = T.tensor("int16", shape=(None, None))
    a = np.array([[1, 5, 5], [-3, -9, 2]], dtype=np.int16)
    m, i = T.max_and_argmax(v, axis=1)
    gm, gi = theon.function([v], [m, i])(a)
    np.testing.assert_array_equal(gm, a.max(axis=1))
    np.testing.assert_array_equal(gi, a.argmax(axis=1))


def test_bad_axes_raise():
    v = T.tensor("float64", shape=(None, None))
    with pytest.raises((ValueError, IndexError)):
        T.sum(v, axis=2)
    with pytest.raises((ValueError, IndexError)):
        T.sum(v, axis=-3)
    with pytest.raises(ValueError):
        T.sum(v, axis=(0, -2))
    with pytest.raises((ValueError, TypeError)):
        T.argmax(v, axis=(0, 1))
