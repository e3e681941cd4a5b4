"""float32 conv2d / pool_2d and their gradients (oneDNN's kernels) in compiled
functions, against NumPy for the forward conv and against the float64 graph
(theon's reference kernels, checked by verify_grad in test_conv.py /
test_pool.py) for everything else."""
import numpy as np
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T
from theon.tensor.signal.pool import pool_2d

from test_conv import np_conv2d

SETTINGS = settings(max_examples=25, deadline=None)


def t4(dtype):
    return T.tensor(dtype, shape=(None,) * 4)


def conv_fn(dtype, **kw):
    x, f, gy = t4(dtype), t4(dtype), t4(dtype)
    y = T.nnet.conv2d(x, f, **kw)
    cost = (y * gy).sum()
    return theano.function([x, f, gy], [y, *T.grad(cost, [x, f])])


@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 4), oc=st.integers(1, 4), h=st.integers(5, 12), w=st.integers(5, 12),
       kh=st.integers(1, 4), kw=st.integers(1, 4), mode=st.sampled_from(["valid", "full", "half", (1, 2)]),
       sub=st.tuples(st.integers(1, 2), st.integers(1, 3)), dil=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       flip=st.booleans(), groups=st.sampled_from([1, 2]), seed=st.integers(0, 2**31))
def test_conv2d_float32_and_gradients(n, c, oc, h, w, kh, kw, mode, sub, dil, flip, groups, seed):
    if (kh - 1) * dil[0] + 1 > h or (kw - 1) * dil[1] + 1 > w:
        return
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal((n, c * groups, h, w))
    wa = rng.standard_normal((oc * groups, c, kh, kw))
    kw_ = dict(border_mode=mode, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    ref = np_conv2d(xa, wa, mode, sub, flip, dil, groups)
    gy = rng.standard_normal(ref.shape)
    y32, gx32, gw32 = conv_fn("float32", **kw_)(*(a.astype("float32") for a in (xa, wa, gy)))
    y64, gx64, gw64 = conv_fn("float64", **kw_)(xa, wa, gy)
    assert y32.dtype == gx32.dtype == gw32.dtype == np.float32
    for got, want in ((y32, ref), (gx32, gx64), (gw32, gw64)):
        scale = max(1.0, np.abs(want).max())
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * scale)


@SETTINGS
@given(shape=st.sampled_from([(2, 3, 9, 8), (4, 5, 6), (3, 7, 7)]), ws=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), ignore_border=st.booleans(),
       mode=st.sampled_from(["max", "average_inc_pad", "average_exc_pad", "sum"]), pad=st.booleans(),
       ties=st.booleans(), seed=st.integers(0, 2**31))
def test_pool_2d_float32_and_gradient(shape, ws, stride, ignore_border, mode, pad, ties, seed):
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal(shape)
    if ties:  # equal maxima: each one gets the gradient on every path
        xa = np.floor(xa * 2)
    padding = (ws[0] - 1, ws[1] - 1) if pad and ignore_border else (0, 0)
    outs = {}
    for dtype in ("float32", "float64"):
        x = T.tensor(dtype, shape=(None,) * len(shape))
        y = pool_2d(x, ws=ws, ignore_border=ignore_border, stride=stride, pad=padding, mode=mode)
        gz = T.tensor(dtype, shape=(None,) * len(shape))
        f = theano.function([x, gz], [y, T.grad((y * gz).sum(), x)], on_unused_input="ignore")
        yv = theano.function([x], y)(xa.astype(dtype))
        gza = np.random.default_rng(seed + 1).standard_normal(yv.shape).astype(dtype)
        outs[dtype] = f(xa.astype(dtype), gza)
    for got, want in zip(outs["float32"], outs["float64"]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * max(1.0, np.abs(want).max()))


def test_cnn_training_step_float32_matches_float64():
    """A LeNet-like step (conv, relu, 2x2 max pool, twice) in float32 and float64 agrees."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((8, 1, 16, 16))
    k1, k2 = rng.normal(0, 0.3, (4, 1, 3, 3)), rng.normal(0, 0.3, (6, 4, 3, 3))
    grads = {}
    for dtype in ("float32", "float64"):
        x, a, b = t4(dtype), t4(dtype), t4(dtype)
        h = pool_2d(T.nnet.relu(T.nnet.conv2d(x, a, filter_flip=False)), ws=(2, 2), ignore_border=True)
        h = pool_2d(T.nnet.relu(T.nnet.conv2d(h, b, filter_flip=False)), ws=(2, 2), ignore_border=True)
        cost = (h ** 2).sum()
        grads[dtype] = theano.function([x, a, b], T.grad(cost, [a, b]))(*(v.astype(dtype) for v in (xa, k1, k2)))
    for got, want in zip(grads["float32"], grads["float64"]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * max(1.0, np.abs(want).max()))
