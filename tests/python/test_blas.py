"""T.dot, T.matmul (@), T.tensordot, T.outer, T.batched_dot against NumPy:
random ranks, shapes, dtypes and memory layouts; build-time shape errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T

SETTINGS = settings(max_examples=30, deadline=None)
DTYPES = ["float64", "float32", "float16", "int64", "int32", "int8", "uint8", "bool"]


def var(dtype, ndim, name=None):
    return T.TensorType(dtype, shape=(None,) * ndim)(name)


def rand(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        lo = 0 if dtype.startswith("uint") else -5
        return rng.integers(lo, 6, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def layout(rng, a):
    """The same values in a random memory layout: C, Fortran or a negatively strided copy."""
    kind = rng.integers(3)
    if a.ndim == 0 or kind == 0:
        return a
    if kind == 1:
        return np.asfortranarray(a)
    big = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)[..., ::-2]
    big[...] = a
    return big


def check(got, want):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if want.dtype.kind == "f":
        tol = {2: 2e-2, 4: 1e-4, 8: 1e-10}[want.dtype.itemsize]
        np.testing.assert_allclose(got.astype("float64"), want.astype("float64"), rtol=tol, atol=tol * 10)
    else:
        np.testing.assert_array_equal(got, want)


def run(out, ins, vals):
    return theano.function(ins, out)(*vals)


@SETTINGS
@given(st.data())
def test_dot_matches_numpy(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    da, db = data.draw(st.sampled_from(DTYPES)), data.draw(st.sampled_from(DTYPES))
    na, nb = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    k = data.draw(st.integers(0, 4))
    sa = [data.draw(st.integers(0, 3)) for _ in range(na)]
    sb = [data.draw(st.integers(0, 3)) for _ in range(nb)]
    if na and nb:
        sa[-1] = k
        sb[0 if nb == 1 else -2] = k
    a, b = rand(rng, da, tuple(sa)), rand(rng, db, tuple(sb))
    x, y = var(da, na), var(db, nb)
    got = run(T.dot(x, y), [x, y], [layout(rng, a), layout(rng, b)])
    check(got, np.asarray(np.dot(a, b)))


@SETTINGS
@given(st.data())
def test_matmul_broadcasts(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    dt = data.draw(st.sampled_from(["float64", "float32", "int32", "int16"]))
    batch = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
    ba = [d if data.draw(st.booleans()) else 1 for d in batch][data.draw(st.integers(0, len(batch))):]
    bb = [d if data.draw(st.booleans()) else 1 for d in batch][data.draw(st.integers(0, len(batch))):]
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    # a 1-d operand has no batch axes (a batch prefix would make it a matrix)
    sa = tuple(ba) + (m, k) if data.draw(st.booleans()) else (k,)
    sb = tuple(bb) + (k, n) if data.draw(st.booleans()) else (k,)
    a, b = rand(rng, dt, sa), rand(rng, dt, sb)
    x, y = var(dt, len(sa)), var(dt, len(sb))
    check(run(x @ y, [x, y], [layout(rng, a), layout(rng, b)]), np.asarray(a @ b))


@SETTINGS
@given(st.data())
def test_tensordot_int_and_lists(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shared = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
    fa = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
    fb = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
    a = rand(rng, "float64", tuple(fa + shared))
    b = rand(rng, "float64", tuple(shared + fb))
    x, y = var("float64", a.ndim), var("float64", b.ndim)
    n = len(shared)
    check(run(T.tensordot(x, y, n), [x, y], [a, b]), np.asarray(np.tensordot(a, b, n)))
    # the same contraction with explicit, permuted axis lists
    perm = rng.permutation(n)
    axes = ([len(fa) + int(i) for i in perm], [int(i) - b.ndim for i in perm])
    check(run(T.tensordot(x, y, axes), [x, y], [a, b]), np.asarray(np.tensordot(a, b, axes)))


def test_outer_batched_dot_and_methods():
    rng = np.random.default_rng(0)
    a, b = rand(rng, "int32", (2, 3)), rand(rng, "float32", (4,))
    x, y = var("int32", 2), var("float32", 1)
    check(run(T.outer(x, y), [x, y], [a, b]), np.outer(a, b))
    A, B = rand(rng, "float64", (5, 2, 3)), rand(rng, "float64", (5, 3, 4))
    p, q = T.dtensor3("p"), T.dtensor3("q")
    check(run(T.batched_dot(p, q), [p, q], [A, B]), np.einsum("bij,bjk->bik", A, B))
    m = T.dmatrix("m")
    check(run(T.batched_dot(p, m), [p, m], [A, B[:, :, 0]]), np.einsum("bij,bj->bi", A, B[:, :, 0]))
    check(run(T.batched_dot(m, m), [m], [A[:, 0]]), np.einsum("bi,bi->b", A[:, 0], A[:, 0]))
    check(run(x.dot(y[:3]), [x, y], [a, b]), a.dot(b[:3]))
    check(run(np.ones((3, 2)) @ x, [x], [a]), np.ones((3, 2)) @ a)


def test_static_shape_errors():
    a = T.TensorType("float64", shape=(3, 4))("a")
    b = T.TensorType("float64", shape=(5, 6))("b")
    with pytest.raises(ValueError, match=r"\[dot\] shapes \(3, 4\) and \(5, 6\) are not aligned: 4 \(dim 1\) != 5"):
        T.dot(a, b)
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(3, 4\) and \(5, 6\) are not aligned"):
        a @ b
    with pytest.raises(ValueError, match=r"\[matmul\] input 0 is 0-d"):
        T.matmul(T.dscalar(), a)
    with pytest.raises(ValueError, match=r"\[tensordot\]"):
        T.tensordot(a, b, 1)
    with pytest.raises(ValueError, match=r"\[batched_dot\] batch sizes differ: 3 != 5"):
        T.batched_dot(T.TensorType("float64", shape=(3, 4, 2))(), T.TensorType("float64", shape=(5, 2, 2))())
    x, y = T.dmatrix(), T.dmatrix()
    f = theano.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError, match=r"\[dot\] shapes \(2, 3\) and \(2, 3\) are not aligned"):
        f(np.ones((2, 3)), np.ones((2, 3)))
    assert T.dot(a, T.TensorType("float64", shape=(4, None))()).static_shape == (3, None)
