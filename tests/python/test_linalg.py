"""T.nlinalg and T.slinalg against NumPy/SciPy: random sizes, stacks, dtypes,
layouts; singular and non-positive-definite inputs; static shape errors."""
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T
from theon.tensor import nlinalg, slinalg

SETTINGS = settings(max_examples=25, deadline=None)


def var(dtype, ndim):
    return T.TensorType(dtype, shape=(None,) * ndim)()


def tol(dtype):
    return 2e-3 if dtype == "float32" else 1e-8


def out_dtype(dtype):
    return "float32" if dtype == "float32" else "float64"


def well_conditioned(rng, shape, dtype):
    a = rng.standard_normal(shape) + 2 * shape[-1] * np.eye(shape[-1]) * 0.5
    return a.astype(dtype) if dtype != "int32" else np.round(a * 3).astype(dtype) + np.eye(shape[-1], dtype=dtype) * 20


def spd(rng, shape, dtype):
    m = rng.standard_normal(shape)
    return (m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def f(out, *ins):
    return theano.function(list(ins), out)


square = st.tuples(st.integers(0, 2**32 - 1), st.sampled_from(["float64", "float32", "int32"]),
                   st.lists(st.integers(1, 3), max_size=2), st.integers(1, 5), st.booleans())


@SETTINGS
@given(square)
def test_inverse_and_det(case):
    seed, dt, batch, n, fortran = case
    rng = np.random.default_rng(seed)
    a = well_conditioned(rng, tuple(batch) + (n, n), dt)
    if fortran:
        a = np.asfortranarray(a)
    x = var(dt, a.ndim)
    inv, d = f([nlinalg.matrix_inverse(x), nlinalg.det(x)], x)(a)
    assert inv.dtype == out_dtype(dt) and d.dtype == out_dtype(dt)
    np.testing.assert_allclose(inv, np.linalg.inv(a.astype("float64")), rtol=tol(dt), atol=tol(dt))
    np.testing.assert_allclose(d, np.linalg.det(a.astype("float64")), rtol=tol(dt))


@SETTINGS
@given(square, st.booleans())
def test_cholesky_and_solves(case, lower):
    seed, dt, batch, n, _ = case
    if dt == "int32":
        dt = "float64"
    rng = np.random.default_rng(seed)
    a = spd(rng, (n, n), dt)
    b = rng.standard_normal((n, 2)).astype(dt)
    x, y = var(dt, 2), var(dt, 2)
    c = f(slinalg.cholesky(x, lower=lower), x)(a)
    np.testing.assert_allclose(c, scipy.linalg.cholesky(a, lower=lower), rtol=tol(dt), atol=tol(dt))
    for assume_a in ("gen", "sym", "pos"):
        got = f(slinalg.solve(x, y, assume_a=assume_a, lower=lower), x, y)(a, b)
        assert got.dtype == dt
        np.testing.assert_allclose(got, scipy.linalg.solve(a, b, assume_a=assume_a, lower=lower),
                                   rtol=tol(dt) * 10, atol=tol(dt) * 10)
    tri = np.tril(a) if lower else np.triu(a)
    for trans in (0, 1):
        got = f(slinalg.solve_triangular(x, y[:, 0], trans=trans, lower=lower), x, y)(tri, b)
        want = scipy.linalg.solve_triangular(tri, b[:, 0], trans=trans, lower=lower)
        np.testing.assert_allclose(got, want, rtol=tol(dt) * 10, atol=tol(dt) * 10)
    got = f(slinalg.cho_solve((slinalg.cholesky(x, lower), lower), y), x, y)(a, b)
    np.testing.assert_allclose(got, np.linalg.solve(a, b), rtol=tol(dt) * 10, atol=tol(dt) * 10)


def test_solve_stacks_and_vectors():
    rng = np.random.default_rng(1)
    a = well_conditioned(rng, (3, 4, 4), "float64")
    b = rng.standard_normal((2, 1, 4, 5))
    x, y, v = T.dtensor3(), T.dtensor4(), T.dvector()
    np.testing.assert_allclose(f(slinalg.solve(x, y), x, y)(a, b), np.linalg.solve(a, b), rtol=1e-10)
    bv = rng.standard_normal(4)
    np.testing.assert_allclose(f(slinalg.solve(x, v), x, v)(a, bv), np.linalg.solve(a, bv), rtol=1e-10)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from(["float64", "float32"]), st.integers(1, 5), st.integers(1, 5),
       st.sampled_from(["L", "U"]))
def test_decompositions(seed, dt, m, n, uplo):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, n)).astype(dt)
    s = (a[:, :1] @ a[:, :1].T + rng.standard_normal((m, m))).astype(dt)
    x, y = var(dt, 2), var(dt, 2)
    w, v = f(list(nlinalg.eigh(y, uplo)), y)(s)
    w_np, v_np = np.linalg.eigh(s, UPLO=uplo)
    assert w.dtype == dt and v.dtype == dt
    np.testing.assert_allclose(w, w_np, rtol=tol(dt) * 10, atol=tol(dt) * 10)
    sym = np.tril(s) + np.tril(s, -1).T if uplo == "L" else np.triu(s) + np.triu(s, 1).T
    np.testing.assert_allclose(sym @ v, v * w, atol=tol(dt) * 100)
    for mode in ("reduced", "complete"):
        q, r = f(list(nlinalg.qr(x, mode)), x)(a)
        q_np, r_np = np.linalg.qr(a, mode)
        assert q.shape == q_np.shape and r.shape == r_np.shape
        np.testing.assert_allclose(q @ r, a, atol=tol(dt) * 10)
        np.testing.assert_allclose(np.abs(r), np.abs(r_np), atol=tol(dt) * 10)
    np.testing.assert_allclose(np.abs(f(nlinalg.qr(x, "r"), x)(a)), np.abs(np.linalg.qr(a, "r")), atol=tol(dt) * 10)
    for full in (True, False):
        u, sv, vh = f(list(nlinalg.svd(x, full)), x)(a)
        u_np, s_np, vh_np = np.linalg.svd(a, full)
        assert (u.shape, sv.shape, vh.shape) == (u_np.shape, s_np.shape, vh_np.shape)
        np.testing.assert_allclose(sv, s_np, rtol=tol(dt) * 10, atol=tol(dt) * 10)
        k = min(m, n)
        np.testing.assert_allclose((u[:, :k] * sv) @ vh[:k], a, atol=tol(dt) * 10)
    np.testing.assert_allclose(f(nlinalg.svd(x, compute_uv=False), x)(a), np.linalg.svd(a, compute_uv=False),
                               rtol=tol(dt) * 10, atol=tol(dt) * 10)
    np.testing.assert_allclose(f(nlinalg.pinv(x), x)(a), np.linalg.pinv(a), rtol=tol(dt) * 100, atol=tol(dt) * 100)


def test_diag_trace_norm_power():
    rng = np.random.default_rng(2)
    a = rng.integers(-5, 5, (3, 4)).astype("int16")
    x = T.TensorType("int16", shape=(None, None))()
    for k in (-2, 0, 1, 5):
        np.testing.assert_array_equal(f(nlinalg.extract_diag(x, k), x)(a), np.diagonal(a, k))
        got = f(nlinalg.trace(x, k), x)(a)
        assert got.dtype == np.trace(a, k).dtype and got == np.trace(a, k)
    v = T.fvector()
    vv = np.arange(3, dtype="float32")
    np.testing.assert_array_equal(f(nlinalg.diag(v, 1), v)(vv), np.diag(vv, 1))
    m = T.dmatrix()
    mv = rng.standard_normal((4, 4))
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(f(nlinalg.norm(m, ord_), m)(mv), np.linalg.norm(mv, ord_), rtol=1e-10)
    dv = T.dvector()
    for ord_ in (None, 0, 1, 2, 3, np.inf, -np.inf):
        np.testing.assert_allclose(f(nlinalg.norm(dv, ord_), dv)(mv[0]), np.linalg.norm(mv[0], ord_), rtol=1e-10)
    for p in (-2, 0, 1, 3):
        np.testing.assert_allclose(f(nlinalg.matrix_power(m, p), m)(mv), np.linalg.matrix_power(mv, p), rtol=1e-8)


def test_errors():
    x = T.dmatrix()
    with pytest.raises(ValueError, match=r"\[matrix_inverse\] singular matrix"):
        f(nlinalg.matrix_inverse(x), x)(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"\[solve\] singular matrix"):
        f(slinalg.solve(x, x), x)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[cholesky\] matrix is not positive definite"):
        f(slinalg.cholesky(x), x)(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert f(nlinalg.det(x), x)(np.ones((3, 3))) == 0.0
    rect = T.TensorType("float64", shape=(3, 4))()
    with pytest.raises(ValueError, match=r"\[det\] last 2 dimensions of the array must be square, got shape \(3, 4\)"):
        nlinalg.det(rect)
    with pytest.raises(ValueError, match=r"\[solve\] shapes \(3, 4\)|\[solve\] last 2 dimensions"):
        slinalg.solve(rect, T.dvector())
    with pytest.raises(ValueError, match=r"\[eigh\] expected a matrix"):
        nlinalg.eigh(T.dvector())
    with pytest.raises(ValueError, match=r"float16 is unsupported in linalg"):
        nlinalg.matrix_inverse(T.TensorType("float16", shape=(None, None))())
    with pytest.raises(ValueError, match=r"\[qr\] mode must be"):
        nlinalg.qr(x, "raw")
    with pytest.raises(ValueError, match=r"\[solve\] assume_a must be one of"):
        slinalg.solve(x, x, assume_a="banded")
    assert nlinalg.svd(T.TensorType("float32", shape=(5, 3))())[0].static_shape == (5, 5)
    assert nlinalg.qr(T.TensorType("float32", shape=(5, 3))())[0].static_shape == (5, 3)
