"""T.nnet activations, softmax, cross-entropies and T.nnet.bn against NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T
from theon.tensor.nnet import bn

SETTINGS = settings(max_examples=25, deadline=None)
TOL = {"float16": 2e-2, "float32": 1e-5, "float64": 1e-12}


def sym(dtype, ndim, name=None):
    return T.tensor(dtype, shape=(None,) * ndim, name=name)


def run(inputs, outputs, *values):
    return theano.function(inputs, outputs)(*values)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis):
    m = x - x.max(axis=axis, keepdims=True)
    return m - np.log(np.exp(m).sum(axis=axis, keepdims=True))


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from(["float16", "float32", "float64"]), seed=st.integers(0, 2**31),
       layout=st.sampled_from(["C", "T", "neg"]))
def test_softmax_log_softmax(shape, dtype, seed, layout):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    if layout == "T":
        a = a.T
    elif layout == "neg":
        a = a[..., ::-1]
    axis = int(rng.integers(-a.ndim, a.ndim))
    x = sym(dtype, a.ndim, "x")
    s, ls = run([x], [T.nnet.softmax(x, axis=axis), T.nnet.log_softmax(x, axis=axis)], a)
    assert s.dtype == dtype and ls.dtype == dtype
    ref = a.astype("float64")
    np.testing.assert_allclose(s, np_softmax(ref, axis), rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(ls, np_log_softmax(ref, axis), rtol=TOL[dtype], atol=TOL[dtype] * 10)


def test_softmax_default_axis_stability_and_aliases():
    x = T.dmatrix("x")
    a = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    s, ls, ls2 = run([x], [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.logsoftmax(x)], a)
    np.testing.assert_allclose(s, np_softmax(a, -1), atol=1e-12)
    np.testing.assert_allclose(ls, np_log_softmax(a, -1), atol=1e-12)
    np.testing.assert_array_equal(ls, ls2)
    assert np.isfinite(ls).all()
    i = T.imatrix("i")
    assert T.nnet.softmax(i).dtype == "float64"
    e = run([x], T.nnet.softmax(x), np.zeros((0, 3)))
    assert e.shape == (0, 3)


def test_softmax_errors():
    with pytest.raises(ValueError, match=r"\[softmax\]"):
        T.nnet.softmax(T.dscalar())
    with pytest.raises(ValueError, match="out of bounds"):
        T.nnet.softmax(T.dmatrix(), axis=2)


def test_categorical_crossentropy_indices_and_dense():
    rng = np.random.default_rng(0)
    p = np_softmax(rng.standard_normal((6, 4)), -1)
    y = rng.integers(0, 4, size=6)
    t = rng.random((6, 4))
    c, yi, td = T.dmatrix("c"), T.lvector("y"), T.dmatrix("t")
    r1, r2 = run([c, yi, td], [T.nnet.categorical_crossentropy(c, yi),
                               T.nnet.categorical_crossentropy(c, td)], p, y, t)
    np.testing.assert_allclose(r1, -np.log(p[np.arange(6), y]), rtol=1e-12)
    np.testing.assert_allclose(r2, -(t * np.log(p)).sum(axis=-1), rtol=1e-12)
    f = theano.function([c, yi], T.nnet.crossentropy_categorical_1hot(c, yi))
    np.testing.assert_allclose(f(p, y), r1)
    with pytest.raises(IndexError, match="out of range for 4 classes"):
        f(p, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match="class indices of shape"):
        f(p, np.array([0, 1]))
    with pytest.raises(ValueError, match="must be integers"):
        T.nnet.categorical_crossentropy(c, T.dvector())
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        T.nnet.categorical_crossentropy(c, T.dtensor3())


def test_binary_crossentropy():
    rng = np.random.default_rng(1)
    o = rng.uniform(0.01, 0.99, size=(3, 5)).astype("float32")
    t = rng.integers(0, 2, size=(3, 5)).astype("float32")
    z = rng.standard_normal((3, 5)).astype("float32")
    ov, tv, zv = T.fmatrix("o"), T.fmatrix("t"), T.fmatrix("z")
    b, sb = run([ov, tv, zv], [T.nnet.binary_crossentropy(ov, tv),
                               T.nnet.sigmoid_binary_crossentropy(zv, tv)], o, t, z)
    assert b.dtype == "float32"
    np.testing.assert_allclose(b, -(t * np.log(o) + (1 - t) * np.log(1 - o)), rtol=1e-5)
    sig = 1 / (1 + np.exp(-z.astype("float64")))
    np.testing.assert_allclose(sb, -(t * np.log(sig) + (1 - t) * np.log(1 - sig)), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations(dtype):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((4, 7)) * 3).astype(dtype)
    x = sym(dtype, 2, "x")
    nn = T.nnet
    outs = run([x], [nn.relu(x), nn.relu(x, 0.1), nn.elu(x), nn.elu(x, 0.5), nn.selu(x), nn.sigmoid(x),
                     nn.ultra_fast_sigmoid(x), nn.hard_sigmoid(x), nn.softplus(x), nn.softsign(x)], a)
    d = a.astype("float64")
    al, sc = 1.6732632423543772, 1.0507009873554805
    sig = 1 / (1 + np.exp(-d))
    refs = [np.maximum(d, 0), np.where(d > 0, d, 0.1 * d), np.where(d > 0, d, np.expm1(d)),
            np.where(d > 0, d, 0.5 * np.expm1(d)), sc * np.where(d > 0, d, al * np.expm1(d)), sig, sig,
            np.clip(0.2 * d + 0.5, 0, 1), np.log1p(np.exp(d)), d / (1 + np.abs(d))]
    for o, r in zip(outs, refs):
        assert o.dtype == dtype
        np.testing.assert_allclose(o, r, rtol=TOL[dtype], atol=TOL[dtype])
    alpha = T.dscalar("alpha")
    f = theano.function([x, alpha], nn.relu(x, alpha))
    np.testing.assert_allclose(f(a, 0.3), np.where(d > 0, d, 0.3 * d), rtol=TOL[dtype])
    g = theano.function([x, alpha], nn.elu(x, alpha))
    np.testing.assert_allclose(g(a, 0.3), np.where(d > 0, d, 0.3 * np.expm1(d)), rtol=TOL[dtype], atol=TOL[dtype])
    with pytest.raises(ValueError, match=r"\[relu\]"):
        nn.relu(T.tensor("bool", shape=(None,)))


def np_bn_train(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = x.var(axis=axes, keepdims=True)
    return m, v, 1 / np.sqrt(v + eps)


@pytest.mark.parametrize("axes,ndim", [("per-activation", 2), ("per-activation", 4), ("spatial", 4),
                                       ((0, 2), 3), ([1], 3)])
@pytest.mark.parametrize("full_rank", [False, True])
def test_batch_normalization_train(axes, ndim, full_rank):
    rng = np.random.default_rng(3)
    shape = (5, 3, 4, 2)[:ndim]
    xa = rng.standard_normal(shape)
    if isinstance(axes, str):
        ax = (0,) if axes == "per-activation" else (0,) + tuple(range(2, ndim))
    else:
        ax = tuple(axes)
    pshape = tuple(1 if i in ax else s for i, s in enumerate(shape)) if full_rank else \
        tuple(s for i, s in enumerate(shape) if i not in ax)
    g, b, rm, rv = (rng.standard_normal(pshape) for _ in range(4))
    rv = np.abs(rv) + 0.5
    x = sym("float64", ndim, "x")
    gv, bv, rmv, rvv = (sym("float64", len(pshape)) for _ in range(4))
    outs = bn.batch_normalization_train(x, gv, bv, axes, 1e-3, 0.2, rmv, rvv)
    assert len(outs) == 5
    out, mean, invstd, nrm, nrv = run([x, gv, bv, rmv, rvv], list(outs), xa, g, b, rm, rv)
    m, v, inv = np_bn_train(xa, ax, 1e-3)
    lift = (lambda p: p) if full_rank else (lambda p: np.expand_dims(p, ax))
    np.testing.assert_allclose(out, (xa - m) * (lift(g) * inv) + lift(b), rtol=1e-10, atol=1e-12)
    shp = pshape
    np.testing.assert_allclose(mean, m.reshape(shp), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(invstd, inv.reshape(shp), rtol=1e-10)
    n = np.prod([shape[a] for a in ax])
    np.testing.assert_allclose(nrm, rm * 0.8 + m.reshape(shp) * 0.2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(nrv, rv * 0.8 + v.reshape(shp) * n / (n - 1) * 0.2, rtol=1e-10)
    out3 = bn.batch_normalization_train(x, gv, bv, axes)
    assert len(out3) == 3


def test_batch_normalization_test_and_plain():
    rng = np.random.default_rng(4)
    xa = rng.standard_normal((4, 3, 2, 2)).astype("float32")
    g, b, m = (rng.standard_normal(3).astype("float32") for _ in range(3))
    v = (rng.random(3) + 0.5).astype("float32")
    x = T.ftensor4("x")
    gv, bv, mv, vv = (T.fvector() for _ in range(4))
    out = bn.batch_normalization_test(x, gv, bv, mv, vv, "spatial", 1e-4)
    r = run([x, gv, bv, mv, vv], out, xa, g, b, m, v)
    e = lambda p: p[None, :, None, None]  # noqa: E731
    np.testing.assert_allclose(r, (xa - e(m)) * (e(g) / np.sqrt(e(v) + 1e-4)) + e(b), rtol=1e-5, atol=1e-6)
    xm = T.fmatrix("xm")
    p = bn.batch_normalization(xm, gv, bv, mv, vv, mode="high_mem")
    a2 = xa.reshape(16, 3)
    np.testing.assert_allclose(run([xm, gv, bv, mv, vv], p, a2, g, b, m, v),
                               (a2 - m) * (g / v) + b, rtol=1e-5, atol=1e-6)


def test_batch_normalization_errors():
    x, g = T.dmatrix(), T.dvector()
    with pytest.raises(ValueError, match="mode must be"):
        bn.batch_normalization(x, g, g, g, g, mode="fast")
    with pytest.raises(ValueError, match="axes should be less than ndim"):
        bn.batch_normalization_train(x, g, g, axes=(2,))
    with pytest.raises(ValueError, match="invalid axes"):
        bn.batch_normalization_train(x, g, g, axes="channel")
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5"):
        bn.batch_normalization_train(x, g, g, epsilon=1e-7)
    with pytest.raises(ValueError, match="both be"):
        bn.batch_normalization_train(x, g, g, running_mean=g)
    with pytest.raises(ValueError, match="gamma and beta dimensionality"):
        bn.batch_normalization_test(x, g, T.dscalar(), g, g)
    with pytest.raises(ValueError, match="mean must have 1 dimension"):
        bn.batch_normalization_test(x, g, g, T.dmatrix(), g)
