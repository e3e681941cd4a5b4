"""theon.nn layers, initializers and losses from Python, NumPy as the oracle."""
import numpy as np
import pytest

import theon
from theon import nn


def run(layer, x, training=False):
    """The layer's output on x (a float64 input with x's static shape)."""
    v = nn.Input(x.shape[1:], dtype=x.dtype)
    f = theon.function([v], layer.call(v, training=training))
    return f(x)


def conv_ref(x, w, b, stride, pads):
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    oh = (xp.shape[2] - kh) // stride + 1
    ow = (xp.shape[3] - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


def test_dense_and_conv_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5))
    d = nn.Dense(4, activation="tanh", bias_initializer=nn.initializers.Constant(0.5))
    y = run(d, x)
    k, b = (w.get_value() for w in d.weights)
    np.testing.assert_allclose(y, np.tanh(x @ k + b), rtol=1e-12)
    assert [w.name for w in d.weights] == [d.name + "/kernel", d.name + "/bias"]

    img = rng.standard_normal((2, 3, 7, 6))
    for stride, padding in [(1, "same"), (2, "same"), (1, "valid"), (2, "valid")]:
        conv = nn.Conv2D(4, 3, strides=stride, padding=padding, bias_initializer=nn.initializers.RandomNormal(0, 1))
        y = run(conv, img)
        w, b = (v.get_value() for v in conv.weights)
        if padding == "same":
            pads = []
            for n in img.shape[2:]:
                out = -(-n // stride)
                total = max((out - 1) * stride + 3 - n, 0)
                pads.append((total // 2, total - total // 2))
        else:
            pads = [(0, 0), (0, 0)]
        np.testing.assert_allclose(y, conv_ref(img, w, b, stride, pads), rtol=1e-10, atol=1e-12)


def test_pooling_norms_and_shapes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 6))
    np.testing.assert_allclose(run(nn.MaxPool2D(2), x), x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    np.testing.assert_allclose(run(nn.AvgPool2D(2), x), x.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5)), rtol=1e-12)
    np.testing.assert_allclose(run(nn.GlobalAvgPool2D(), x), x.mean(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_array_equal(run(nn.Flatten(), x), x.reshape(2, -1))
    assert run(nn.Reshape((6, -1)), x).shape == (2, 6, 12)

    bn = nn.BatchNorm(momentum=0.9, epsilon=1e-3)
    y = run(bn, x, training=True)
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y, (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3), rtol=1e-9)
    y = run(bn, x)  # inference: the (initial) moving statistics 0 and 1
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-12)

    z = rng.standard_normal((4, 5)) * 3
    y = run(nn.LayerNorm(epsilon=1e-5), z)
    np.testing.assert_allclose(y, (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + 1e-5), rtol=1e-9)

    emb = nn.Embedding(10, 3)
    idx = np.array([[1, 9], [0, 1]])
    np.testing.assert_array_equal(run(emb, idx), emb.weights[0].get_value()[idx])


def test_dropout_and_activations():
    x = np.ones((100, 100))
    d = nn.Dropout(0.5, seed=3)
    np.testing.assert_array_equal(run(d, x), x)
    y = run(d, x, training=True)
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs((y > 0).mean() - 0.5) < 0.03
    z = np.linspace(-3, 3, 13)[None, :]
    np.testing.assert_allclose(run(nn.Activation("swish"), z), z / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(run(nn.Activation("leaky_relu", alpha=0.1), z), np.where(z > 0, z, 0.1 * z))
    sm = run(nn.Activation("softmax"), z)
    np.testing.assert_allclose(sm, np.exp(z) / np.exp(z).sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Activation("nope")


def test_config_round_trip_and_errors():
    for layer in [nn.Dense(3, activation="relu", kernel_regularizer=nn.regularizers.l2(1e-3)),
                  nn.Conv2D(8, (3, 5), strides=(1, 2), padding="same", groups=2), nn.MaxPool2D(3),
                  nn.Dropout(0.2), nn.BatchNorm(), nn.Embedding(5, 2), nn.Concatenate(axis=1)]:
        cfg = layer.get_config()
        back = nn.layer_from_config(layer.class_name, cfg)
        assert back.get_config() == cfg
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2D(4, 3, groups=3)
    with pytest.raises(ValueError, match="unknown layer class"):
        nn.layer_from_config("Lambda", {})
    with pytest.raises(ValueError, match="static size"):
        nn.Dense(3)(theon.tensor.matrix("m"))


def test_initializers_statistics_and_seeds():
    w = nn.initializers.initialize("glorot_uniform", (300, 200), "float64", seed=1)
    limit = np.sqrt(6 / 500)
    assert np.abs(w).max() <= limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.01 * limit
    h = nn.initializers.initialize("he_normal", (400, 100), "float64", seed=2)
    assert abs(h.std() - np.sqrt(2 / 400)) < 0.02 * np.sqrt(2 / 400)
    q = nn.initializers.initialize(nn.initializers.Orthogonal(), (5, 8), "float64", seed=3)
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-10)
    a = nn.initializers.initialize("lecun_normal", (50,), seed=4)
    np.testing.assert_array_equal(a, nn.initializers.initialize("lecun_normal", (50,), seed=4))
    assert not np.array_equal(a, nn.initializers.initialize("lecun_normal", (50,), seed=5))
    assert nn.initializers.compute_fans([16, 8, 3, 3]) == (72.0, 144.0)


def test_losses_match_numpy():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((6, 4)) * 4
    y = rng.integers(0, 4, 6)
    zt, yt = theon.tensor.matrix("z", dtype="float64"), theon.tensor.lvector("y")
    lse = np.log(np.exp(z).sum(1))
    want = np.mean(lse - z[np.arange(6), y])
    f = theon.function([zt, yt], nn.losses.sparse_categorical_crossentropy(yt, zt, from_logits=True))
    np.testing.assert_allclose(f(z, y), want, rtol=1e-12)
    t = (rng.random((6, 4)) > 0.5).astype(np.float64)
    tt = theon.tensor.matrix("t", dtype="float64")
    p = 1 / (1 + np.exp(-z))
    bce = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
    np.testing.assert_allclose(theon.function([zt, tt], nn.losses.binary_crossentropy(tt, zt, from_logits=True))(z, t),
                               bce, rtol=1e-9)
    d = np.abs(z - t)
    hub = np.mean(np.where(d <= 1, 0.5 * d ** 2, d - 0.5))
    np.testing.assert_allclose(theon.function([zt, tt], nn.losses.huber(tt, zt))(z, t), hub, rtol=1e-12)
    acc = np.mean(z.argmax(1) == y)
    np.testing.assert_allclose(theon.function([zt, yt], nn.metrics.sparse_categorical_accuracy(yt, zt))(z, y), acc)
