"""T.signal.pool.pool_2d against Theano's reference algorithm in NumPy:
every mode, strides, padding, ignore_border=False, N-d inputs, layouts, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T
from theon.tensor.signal import pool

SETTINGS = settings(max_examples=60, deadline=None)
MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def np_out_len(r, ws, st, pad, ignore_border):
    r += 2 * pad
    if ignore_border:
        return max((r - ws) // st + 1, 0)
    if st >= ws:
        return (r - 1) // st + 1
    return max(0, (r - 1 - ws + st) // st) + 1


def np_pool_2d(x, ws, ignore_border, stride, pad, mode):
    """Theano's Pool.perform: zero-pad, then reduce each (clipped) window."""
    stride = stride or ws
    h, w = x.shape[-2:]
    oh = np_out_len(h, ws[0], stride[0], pad[0], ignore_border)
    ow = np_out_len(w, ws[1], stride[1], pad[1], ignore_border)
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    y = np.zeros(x.shape[:-2] + (hp, wp), dtype=x.dtype)
    y[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    out = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    inc = mode == "average_inc_pad"
    for i in range(oh):
        r0, r1 = i * stride[0], min(i * stride[0] + ws[0], hp)
        if not inc:
            r0, r1 = max(r0, pad[0]), min(r1, h + pad[0])
        for j in range(ow):
            c0, c1 = j * stride[1], min(j * stride[1] + ws[1], wp)
            if not inc:
                c0, c1 = max(c0, pad[1]), min(c1, w + pad[1])
            win = y[..., r0:r1, c0:c1]
            if mode == "max":
                out[..., i, j] = win.max(axis=(-2, -1))
            elif mode == "sum":
                out[..., i, j] = win.sum(axis=(-2, -1))
            else:
                out[..., i, j] = win.mean(axis=(-2, -1))
    return out


@SETTINGS
@given(lead=st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple),
       h=st.integers(1, 8), w=st.integers(1, 8), ws=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       stride=st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))),
       pad=st.tuples(st.integers(0, 3), st.integers(0, 3)), ignore_border=st.booleans(),
       mode=st.sampled_from(MODES), dtype=st.sampled_from(["float64", "float32"]),
       seed=st.integers(0, 2**31), layout=st.sampled_from(["C", "T", "neg"]))
def test_pool_2d_matches_reference(lead, h, w, ws, stride, pad, ignore_border, mode, dtype, seed, layout):
    pad = (min(pad[0], ws[0] - 1), min(pad[1], ws[1] - 1)) if ignore_border else (0, 0)
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal(lead + (h, w)).astype(dtype)
    if layout == "T":
        xa = np.ascontiguousarray(np.swapaxes(xa, -1, -2)).swapaxes(-1, -2)
    elif layout == "neg":
        xa = xa[..., ::-1, :]
    x = T.tensor(dtype, shape=(None,) * xa.ndim, name="x")
    y = pool.pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    out, shp = theano.function([x], [y, y.shape])(xa)
    ref = np_pool_2d(xa, ws, ignore_border, stride, pad, mode)
    assert out.dtype == dtype
    assert out.shape == ref.shape
    np.testing.assert_array_equal(shp, ref.shape)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_pool_2d_ignore_border_false_partial_windows():
    x = T.dmatrix("x")
    a = np.arange(25.0).reshape(5, 5)
    f = theano.function([x], pool.pool_2d(x, (2, 2), ignore_border=False))
    np.testing.assert_array_equal(f(a), [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    g = theano.function([x], pool.pool_2d(x, (2, 2), ignore_border=True))
    np.testing.assert_array_equal(g(a), [[6, 8], [16, 18]])
    h = theano.function([x], pool.pool_2d(x, ds=(3, 3), st=(1, 1), ignore_border=False, mode="average_exc_pad"))
    np.testing.assert_allclose(h(a), np_pool_2d(a, (3, 3), False, (1, 1), (0, 0), "average_exc_pad"))


def test_pool_2d_static_shapes_ints_and_half():
    assert pool.pool_2d(T.tensor("float32", shape=(2, 3, 7, 6)), (2, 2)).type.shape == (2, 3, 3, 3)
    assert pool.pool_2d(T.tensor("float32", shape=(2, 3, 7, 6)), (2, 2),
                        ignore_border=False).type.shape == (2, 3, 4, 3)
    assert pool.pool_2d(T.tensor("float32", shape=(None, 7, 6)), (3, 3), stride=(1, 2),
                        pad=(1, 1)).type.shape == (None, 7, 3)
    xi = T.imatrix("xi")
    a = np.arange(1, 10, dtype="int32").reshape(3, 3)
    r = theano.function([xi], pool.pool_2d(xi, (2, 2), ignore_border=False, mode="average_exc_pad"))(a)
    assert r.dtype == "int32"
    np.testing.assert_array_equal(r, [[3, 4], [7, 9]])
    xh = T.tensor("float16", shape=(None, None))
    ah = np.random.default_rng(0).standard_normal((6, 6)).astype("float16")
    rh = theano.function([xh], pool.pool_2d(xh, (2, 2), mode="sum"))(ah)
    assert rh.dtype == "float16"
    np.testing.assert_allclose(rh, np_pool_2d(ah.astype("float64"), (2, 2), True, None, (0, 0), "sum"), atol=1e-2)


def test_pool_2d_errors():
    with pytest.raises(ValueError, match=r"\[pool_2d\] input must have at least 2 dimensions"):
        pool.pool_2d(T.dvector(), (2, 2))
    with pytest.raises(ValueError, match="ignore_border=True"):
        pool.pool_2d(T.dmatrix(), (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match="smaller than ws"):
        pool.pool_2d(T.dmatrix(), (2, 2), pad=(2, 0))
    with pytest.raises(ValueError, match="mode must be 'max'"):
        pool.pool_2d(T.dmatrix(), (2, 2), mode="median")
    with pytest.raises(ValueError, match="ws must be positive"):
        pool.pool_2d(T.dmatrix(), (0, 2))
    with pytest.raises(ValueError, match="ws must be a pair"):
        pool.pool_2d(T.dmatrix(), (2, 2, 2))
    with pytest.raises(ValueError, match="ws .* is required"):
        pool.pool_2d(T.dmatrix())
