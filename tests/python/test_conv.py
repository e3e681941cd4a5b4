"""T.nnet.conv2d against a NumPy reference: border modes, strides, dilation,
flips, groups, layouts, dtypes, static shape checks and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T
from theon.tensor.nnet import conv as nnet_conv

SETTINGS = settings(max_examples=40, deadline=None)


def np_conv2d(x, w, border_mode="valid", subsample=(1, 1), filter_flip=True, dilation=(1, 1), groups=1):
    n, c, h, wd = x.shape
    oc, cg, kh, kw = w.shape
    dk = [(kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1]
    if border_mode == "valid":
        pad = (0, 0)
    elif border_mode == "full":
        pad = (dk[0] - 1, dk[1] - 1)
    elif border_mode == "half":
        pad = (dk[0] // 2, dk[1] // 2)
    elif isinstance(border_mode, int):
        pad = (border_mode, border_mode)
    else:
        pad = tuple(border_mode)
    xp = np.pad(x.astype("float64"), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    if filter_flip:
        w = w[:, :, ::-1, ::-1]
    w = w.astype("float64")
    oh = (h + 2 * pad[0] - dk[0]) // subsample[0] + 1
    ow = (wd + 2 * pad[1] - dk[1]) // subsample[1] + 1
    out = np.zeros((n, oc, oh, ow))
    ocg = oc // groups
    for o in range(oc):
        gi = o // ocg
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                patch = xp[:, gi * cg:(gi + 1) * cg,
                           r0:r0 + (oh - 1) * subsample[0] + 1:subsample[0],
                           c0:c0 + (ow - 1) * subsample[1] + 1:subsample[1]]
                out[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
    return out


def t4(dtype="float64", name=None):
    return T.tensor(dtype, shape=(None,) * 4, name=name)


@SETTINGS
@given(n=st.integers(0, 2), c=st.integers(1, 3), oc=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 3), kw=st.integers(1, 3),
       mode=st.sampled_from(["valid", "full", "half", 1, (2, 0), (0, 1)]),
       sub=st.tuples(st.integers(1, 3), st.integers(1, 3)), dil=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       flip=st.booleans(), groups=st.sampled_from([1, 2]), seed=st.integers(0, 2**31),
       layout=st.sampled_from(["C", "F", "neg"]))
def test_conv2d_matches_numpy(n, c, oc, h, w, kh, kw, mode, sub, dil, flip, groups, seed, layout):
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal((n, c * groups, h, w))
    wa = rng.standard_normal((oc * groups, c, kh, kw))
    if layout == "F":
        xa = np.asfortranarray(xa)
    elif layout == "neg":
        xa = xa[:, :, ::-1, :]
    try:
        ref = np_conv2d(xa, wa, mode, sub, flip, dil, groups)
    except ValueError:
        ref = None
    if ref is None or min(ref.shape[2:]) <= 0:
        x, f = t4(name="x"), t4(name="f")
        g = theano.function([x, f], T.nnet.conv2d(x, f, border_mode=mode, subsample=sub, filter_flip=flip,
                                                    filter_dilation=dil, num_groups=groups))
        with pytest.raises(ValueError, match="filter spans"):
            g(xa, wa)
        return
    x, f = t4(name="x"), t4(name="f")
    y = T.nnet.conv2d(x, f, border_mode=mode, subsample=sub, filter_flip=flip, filter_dilation=dil,
                      num_groups=groups)
    out, shp = theano.function([x, f], [y, y.shape])(xa, wa)
    assert out.shape == ref.shape
    np.testing.assert_array_equal(shp, ref.shape)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-4), ("float16", 5e-2), ("int32", 1e-10)])
def test_conv2d_dtypes(dtype, tol):
    rng = np.random.default_rng(1)
    xa = (rng.standard_normal((2, 3, 6, 5)) * 2).astype(dtype)
    wa = (rng.standard_normal((4, 3, 3, 2)) * 2).astype(dtype)
    x, f = t4(dtype), t4(dtype)
    y = T.nnet.conv2d(x, f, border_mode="half")
    assert y.dtype == (dtype if dtype.startswith("float") else "float64")
    out = theano.function([x, f], y)(xa, wa)
    np.testing.assert_allclose(out, np_conv2d(xa, wa, "half"), rtol=tol, atol=tol * 4)


def test_conv2d_static_shapes_and_old_module():
    x = T.tensor("float32", shape=(8, 3, 10, 12))
    f = T.tensor("float32", shape=(5, 3, 3, 3))
    assert T.nnet.conv2d(x, f).type.shape == (8, 5, 8, 10)
    assert T.nnet.conv2d(x, f, border_mode="full", subsample=(2, 2)).type.shape == (8, 5, 6, 7)
    y = T.nnet.conv2d(T.ftensor4(), T.ftensor4(), input_shape=(None, 3, 10, 10), filter_shape=(2, 3, 5, 5))
    assert y.type.shape == (None, 2, 6, 6)
    xa = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    wa = np.random.default_rng(3).standard_normal((1, 2, 2, 2))
    xv, fv = t4(), t4()
    out = theano.function([xv, fv], nnet_conv.conv2d(xv, fv, image_shape=(1, 2, 5, 5), border_mode="full"))(xa, wa)
    np.testing.assert_allclose(out, np_conv2d(xa, wa, "full"), rtol=1e-12)


def test_conv2d_errors():
    x = T.tensor("float64", shape=(None, 3, None, None))
    with pytest.raises(ValueError, match=r"\[conv2d\] input has 3 channels but filters expect 4"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(2, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"\[conv2d\] border_mode must be 'valid', 'full', 'half'.*'same'"):
        T.nnet.conv2d(x, T.dtensor4(), border_mode="same")
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, T.dtensor4(), border_mode=1.5)
    with pytest.raises(ValueError, match="non-negative"):
        T.nnet.conv2d(x, T.dtensor4(), border_mode=(-1, 0))
    with pytest.raises(ValueError, match="4-D"):
        T.nnet.conv2d(T.dmatrix(), T.dtensor4())
    with pytest.raises(ValueError, match="subsample must be positive"):
        T.nnet.conv2d(x, T.dtensor4(), subsample=(0, 1))
    with pytest.raises(ValueError, match="input_shape is"):
        T.nnet.conv2d(x, T.dtensor4(), input_shape=(None, 4, None, None))
    with pytest.raises(ValueError, match="filter spans 5 rows"):
        T.nnet.conv2d(T.tensor("float64", shape=(1, 1, 4, 4)), T.tensor("float64", shape=(1, 1, 5, 1)))
    xv, fv = t4(), t4()
    g = theano.function([xv, fv], T.nnet.conv2d(xv, fv))
    with pytest.raises(ValueError, match="input has 2 channels but filters expect 3"):
        g(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 2, 2)))
