"""Numerical stability from the optimizer: the naive expressions users write
(log(1 + exp(x)), log(softmax(z)), cross-entropy of a softmax, ...) compiled
with FAST_RUN give finite, accurate values at extreme inputs where the same
graph compiled with mode 'None' (no rewrites) overflows. References are
computed in NumPy float64 with stable formulas."""
import numpy as np
import pytest

import theon
import theon.tensor as T

sig = T.nnet.sigmoid


def np_softplus(x):
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def np_log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def np_logsumexp(x, axis=None):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis=axis)


def compiled(inputs, output):
    """(FAST_RUN function, None function) of the same graph."""
    return (theon.function(inputs, output, mode="FAST_RUN"), theon.function(inputs, output, mode="None"))


def assert_stable(fast, naive, args, want, rtol=1e-12, atol=0.0):
    """FAST_RUN is finite and equals `want`; the naive graph is not finite (the test shows the rewrite mattered)."""
    got = np.asarray(fast(*args))
    assert np.all(np.isfinite(got)), f"FAST_RUN result not finite: {got}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    unopt = np.asarray(naive(*args))
    assert not np.all(np.isfinite(unopt)) or not np.allclose(unopt, want, rtol=rtol, atol=atol), \
        f"the naive graph was already accurate ({unopt}); the test proves nothing"
    assert fast.rewrite_warnings() == []


X = np.array([-1000.0, -50.0, -1.0, 0.0, 1e-10, 1.0, 50.0, 1000.0])


def test_softplus_from_log_one_plus_exp():
    x = T.dvector("x")
    for expr in (T.log(1 + T.exp(x)), T.log(T.exp(x) + 1), T.log1p(T.exp(x))):
        fast, naive = compiled([x], expr)
        assert_stable(fast, naive, [X], np_softplus(X))


def test_log_sigmoid():
    x = T.dvector("x")
    fast, naive = compiled([x], T.log(sig(x)))
    assert_stable(fast, naive, [X], -np_softplus(-X))


def test_log_one_minus_sigmoid():
    x = T.dvector("x")
    fast, naive = compiled([x], T.log(1 - sig(x)))
    assert_stable(fast, naive, [X], -np_softplus(X))


def test_log_softmax():
    z = T.dmatrix("z")
    logits = np.array([[2000.0, 0.0, -2000.0], [-2000.0, -2000.0, 1.0], [1.0, 2.0, 3.0]])
    fast, naive = compiled([z], T.log(T.nnet.softmax(z)))
    assert_stable(fast, naive, [logits], np_log_softmax(logits))


def test_log_softmax_float32():
    z = T.fmatrix("z")
    logits = np.array([[2000.0, 0.0, -2000.0], [-200.0, 3.0, 1.0]], dtype=np.float32)
    fast, naive = compiled([z], T.log(T.nnet.softmax(z)))
    got = fast(logits)
    assert got.dtype == np.float32
    assert_stable(fast, naive, [logits], np_log_softmax(logits), rtol=1e-6, atol=1e-5)


def test_logsumexp():
    x = T.dvector("x")
    v = np.array([1000.0, 999.0, -5.0])
    fast, naive = compiled([x], T.log(T.sum(T.exp(x))))
    assert_stable(fast, naive, [v], np_logsumexp(v))
    m = T.dmatrix("m")
    mv = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [0.0, 1.0]])
    fast, naive = compiled([m], T.log(T.sum(T.exp(m), axis=1)))
    assert_stable(fast, naive, [mv], np_logsumexp(mv, axis=1))


def _categorical_xent_reference(logits, y):
    return -np_log_softmax(logits)[np.arange(len(y)), y]


LOGITS = np.array([[2000.0, 0.0, -2000.0], [-2000.0, 0.0, 2000.0], [0.5, -0.5, 1.0], [1500.0, -1500.0, 0.0]])
LABELS = np.array([2, 0, 1, 1])


def test_categorical_crossentropy_of_softmax_integer_labels():
    z, y = T.dmatrix("z"), T.lvector("y")
    fast, naive = compiled([z, y], T.nnet.categorical_crossentropy(T.nnet.softmax(z), y))
    assert_stable(fast, naive, [LOGITS, LABELS], _categorical_xent_reference(LOGITS, LABELS))


def test_categorical_crossentropy_of_softmax_indexing():
    z, y = T.dmatrix("z"), T.lvector("y")
    cost = -T.log(T.nnet.softmax(z))[T.arange(y.shape[0]), y]
    fast, naive = compiled([z, y], cost)
    assert_stable(fast, naive, [LOGITS, LABELS], _categorical_xent_reference(LOGITS, LABELS))


def test_categorical_crossentropy_of_softmax_one_hot():
    z, t = T.dmatrix("z"), T.dmatrix("t")
    onehot = np.eye(3)[LABELS]
    fast, naive = compiled([z, t], T.nnet.categorical_crossentropy(T.nnet.softmax(z), t))
    assert_stable(fast, naive, [LOGITS, onehot], _categorical_xent_reference(LOGITS, LABELS))


def test_categorical_crossentropy_gradient():
    z, y = T.dmatrix("z"), T.lvector("y")
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(z), y).sum()
    gz = T.grad(loss, z)
    fast, naive = compiled([z, y], gz)
    # d/dz sum(-log softmax(z)[y]) = softmax(z) - onehot(y)
    p = np.exp(np_log_softmax(LOGITS))
    want = p - np.eye(3)[LABELS]
    got = fast(LOGITS, LABELS)
    assert np.all(np.isfinite(got)), got
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert not np.all(np.isfinite(naive(LOGITS, LABELS)))
    # The loss itself in the same training-step function.
    f = theon.function([z, y], [loss, gz], mode="FAST_RUN")
    lv, gv = f(LOGITS, LABELS)
    np.testing.assert_allclose(lv, _categorical_xent_reference(LOGITS, LABELS).sum(), rtol=1e-12)
    np.testing.assert_allclose(gv, want, rtol=1e-12, atol=1e-12)


def test_binary_crossentropy_of_sigmoid():
    z, t = T.dvector("z"), T.dvector("t")
    zs = np.array([-1000.0, -1000.0, 1000.0, 1000.0, 0.5, -3.0])
    ts = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.25])
    # -(t log s + (1 - t) log(1 - s)) = t softplus(-z) + (1 - t) softplus(z)
    want = ts * np_softplus(-zs) + (1 - ts) * np_softplus(zs)
    # The builder makes the sigmoid form stable before any rewrite: both modes are accurate.
    fast, naive = compiled([z, t], T.nnet.binary_crossentropy(sig(z), t))
    np.testing.assert_allclose(fast(zs, ts), want, rtol=1e-12)
    np.testing.assert_allclose(naive(zs, ts), want, rtol=1e-12)
    written = -(t * T.log(sig(z)) + (1 - t) * T.log(1 - sig(z)))
    fast, naive = compiled([z, t], written)
    assert_stable(fast, naive, [zs, ts], want)


def test_binary_crossentropy_gradient():
    # binary_crossentropy of a sigmoid is built from the logits, so its gradient
    # is sigmoid(z) - t whatever the mode.
    z, t = T.dvector("z"), T.dvector("t")
    zs = np.array([-1000.0, 1000.0, 0.5, -3.0])
    ts = np.array([1.0, 0.0, 1.0, 0.25])
    loss = T.nnet.binary_crossentropy(sig(z), t).sum()
    fast, _ = compiled([z, t], T.grad(loss, z))
    s = 0.5 * (1 + np.tanh(zs / 2))  # sigmoid, stable
    got = fast(zs, ts)
    assert np.all(np.isfinite(got)), got
    np.testing.assert_allclose(got, s - ts, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x", [1e-10, -1e-10, 3e-9, 1e-15])
def test_log1p_and_expm1_near_zero(x):
    v = T.dscalar("v")
    # log(1 + x) -> log1p(x): the naive form loses digits near 0.
    fast, naive = compiled([v], T.log(1 + v))
    np.testing.assert_allclose(fast(x), np.log1p(x), rtol=1e-15)
    assert abs(naive(x) - np.log1p(x)) > 1e-15 * abs(x)
    # exp(x) - 1 -> expm1(x).
    fast, naive = compiled([v], T.exp(v) - 1)
    np.testing.assert_allclose(fast(x), np.expm1(x), rtol=1e-15)
    assert abs(naive(x) - np.expm1(x)) > 1e-15 * abs(x)
    # Both in one float32 graph: stays float32 and accurate.
    f32 = T.fscalar("f")
    f = theon.function([f32], [T.log(1 + f32), T.exp(f32) - 1], mode="FAST_RUN")
    a, b = f(np.float32(x))
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose([a, b], [np.log1p(np.float32(x)), np.expm1(np.float32(x))], rtol=1e-6)


def test_stabilized_graphs_keep_nan_and_inf_inputs():
    """A stabilization must not hide NaN inputs, and keeps infinite inputs' limits."""
    x = T.dvector("x")
    f = theon.function([x], T.log(1 + T.exp(x)), mode="FAST_RUN")
    got = f(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == 0.0
    g = theon.function([x], T.log(sig(x)), mode="FAST_RUN")
    got = g(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(got[0]) and got[1] == 0.0 and got[2] == -np.inf
