"""theon.nn recurrent layers from Python: NumPy loops written from the equations
as the oracle, PyTorch's nn.RNN/LSTM/GRU with copied weights when torch is
importable, masks, Bidirectional, gradients (verify_grad), save/load, training."""
import numpy as np
import pytest

import theon
from theon import nn


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def ref(kind, x, W, R, b, mask=None, backwards=False, zero_out=False, reset_after=True):
    """Outputs (B, T, U) in processing order and the final h (and c)."""
    B, T, _ = x.shape
    U = R.shape[0]
    h, c = np.zeros((B, U)), np.zeros((B, U))
    bi = b if b is None or b.ndim == 1 else b[0]
    br = None if b is None or b.ndim == 1 else b[1]
    outs = []
    for s in range(T):
        t = T - 1 - s if backwards else s
        xw = x[:, t] @ W + (0 if bi is None else bi)
        if kind == "SimpleRNN":
            nh, nc = np.tanh(xw + h @ R), c
        elif kind == "LSTM":
            z = xw + h @ R
            i, f, g, o = (z[:, k * U:(k + 1) * U] for k in range(4))
            nc = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            nh = sigmoid(o) * np.tanh(nc)
        else:
            hr = h @ R + (0 if br is None else br)
            zg = sigmoid(xw[:, :U] + hr[:, :U])
            rg = sigmoid(xw[:, U:2 * U] + hr[:, U:2 * U])
            if reset_after:
                hh = np.tanh(xw[:, 2 * U:] + rg * hr[:, 2 * U:])
            else:
                hh = np.tanh(xw[:, 2 * U:] + (rg * h) @ R[:, 2 * U:])
            nh, nc = zg * h + (1 - zg) * hh, c
        keep = np.ones((B, 1)) if mask is None else (mask[:, t:t + 1] != 0).astype(float)
        h = keep * nh + (1 - keep) * h
        c = keep * nc + (1 - keep) * c
        outs.append(h * keep if zero_out else h)
    return np.stack(outs, 1), h, c


GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def weights(kind, F, U, seed=0, reset_after=True):
    rng = np.random.default_rng(seed)
    g = GATES[kind]
    W = rng.standard_normal((F, g * U)) * 0.5
    R = rng.standard_normal((U, g * U)) * 0.5
    b = rng.standard_normal((2, g * U) if kind == "GRU" and reset_after else (g * U,)) * 0.3
    return W, R, b


def run_layer(layer, x, W, R, b, mask=None):
    """[output, *states] of the layer with the given weights on x."""
    xv = nn.Input(x.shape[1:], dtype=x.dtype)
    args, ins = [x], [xv]
    mv = None
    if mask is not None:
        mv = nn.Input(mask.shape[1:], dtype=mask.dtype)
        ins.append(mv)
        args.append(mask)
    out = layer.forward_with(xv, theon.shared(W), theon.shared(R), theon.shared(b), mask=mv)
    return theon.function(ins, out)(*args)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("seqs,back", [(False, False), (True, False), (True, True)])
def test_forward_matches_numpy(kind, seqs, back):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 4))
    W, R, b = weights(kind, 4, 5)
    layer = getattr(nn, kind)(5, return_sequences=seqs, go_backwards=back)
    got = run_layer(layer, x, W, R, b)
    seq, h, c = ref(kind, x, W, R, b, backwards=back)
    np.testing.assert_allclose(got[0], seq if seqs else h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], h, rtol=1e-10, atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(got[2], c, rtol=1e-10, atol=1e-12)


def test_gru_reset_before():
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    W, R, b = weights("GRU", 3, 4, reset_after=False)
    got = run_layer(nn.GRU(4, return_sequences=True, reset_after=False), x, W, R, b)
    np.testing.assert_allclose(got[0], ref("GRU", x, W, R, b, reset_after=False)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("zero", [False, True])
def test_masks_carry_state(kind, zero):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 2))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 1, 1, 0, 1]], dtype=np.float64)
    W, R, b = weights(kind, 2, 3)
    for back in (False, True):
        layer = getattr(nn, kind)(3, return_sequences=True, go_backwards=back, zero_output_for_mask=zero)
        got = run_layer(layer, x, W, R, b, mask=mask)
        seq, h, _ = ref(kind, x, W, R, b, mask=mask, backwards=back, zero_out=zero)
        np.testing.assert_allclose(got[0], seq, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1], h, rtol=1e-10, atol=1e-12)
    # A sequence padded at the end ends in the state of the unpadded one.
    short = run_layer(getattr(nn, kind)(3), x[1:2, :2], W, R, b)[0]
    np.testing.assert_allclose(run_layer(getattr(nn, kind)(3), x, W, R, b, mask=mask)[0][1:2], short, rtol=1e-12)


def test_layer_call_with_mask_return_state_and_initial_state():
    nn.set_global_seed(1)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=np.float32)
    xv, mv = nn.Input((4, 3)), nn.Input((4,))
    lstm = nn.LSTM(5, return_sequences=True, return_state=True)
    y, h, c = lstm(xv, mask=mv)
    W, R, b = (w.get_value().astype(np.float64) for w in lstm.weights)
    assert W.shape == (3, 20) and R.shape == (5, 20) and b.shape == (20,)
    np.testing.assert_array_equal(b[5:10], 1.0)  # unit_forget_bias
    got = theon.function([xv, mv], [y, h, c])(x, mask)
    seq, hr, cr = ref("LSTM", x.astype(np.float64), W, R, b, mask=mask)
    for g, w in zip(got, [seq, hr, cr]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    # An initial state continues a sequence: two halves give the whole.
    lstm2 = nn.LSTM(5, return_state=True)
    x1, x2 = nn.Input((2, 3)), nn.Input((2, 3))
    _, h1, c1 = lstm2(x1)
    o2, _, _ = lstm2(x2, initial_state=[h1, c1])
    _, hw, _ = lstm2(xv)
    f = theon.function([x1, x2, xv], [o2, hw])
    a, bb = f(x[:, :2], x[:, 2:], x)
    np.testing.assert_allclose(a, bb, rtol=1e-5, atol=1e-6)
    # A functional model with the mask as second input.
    model = nn.Model([xv, mv], nn.GRU(3)(xv, mask=mv))
    assert model.predict([x, mask]).shape == (2, 3)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(4, dropout=0.2)
    with pytest.raises(ValueError, match="units"):
        nn.GRU(0)
    with pytest.raises(ValueError, match="batch, time, features"):
        nn.LSTM(4)(theon.tensor.matrix("m"))
    with pytest.raises(ValueError, match="merge_mode"):
        nn.Bidirectional(nn.LSTM(2), merge_mode="max")


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional(mode):
    nn.set_global_seed(2)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 3))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=np.float64)
    for seqs in (True, False):
        bi = nn.Bidirectional(nn.LSTM(4, return_sequences=seqs), merge_mode=mode)
        xv, mv = nn.Input((5, 3), dtype="float64"), nn.Input((5,), dtype="float64")
        y = bi(xv, mask=mv)
        ws = [w.get_value() for w in bi.weights]
        assert [w.name.split("/")[-1] for w in bi.weights] == [
            "forward_kernel", "forward_recurrent_kernel", "forward_bias",
            "backward_kernel", "backward_recurrent_kernel", "backward_bias"]
        got = theon.function([xv, mv], y)(x, mask)
        fs, fh, _ = ref("LSTM", x, *ws[:3], mask=mask, zero_out=True)
        bs, bh, _ = ref("LSTM", x, *ws[3:], mask=mask, backwards=True, zero_out=True)
        f, b = (fs, bs[:, ::-1]) if seqs else (fh, bh)
        want = {"concat": np.concatenate([f, b], -1), "sum": f + b, "mul": f * b, "ave": (f + b) / 2}[mode]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_gradients_verify_grad(kind):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 2))
    W, R, b = weights(kind, 2, 2, seed=7)
    mask = np.array([[1, 1, 0], [1, 1, 1]], dtype=np.float64)
    layer = getattr(nn, kind)(2, return_sequences=True)

    def fun(x, W, R, b):
        out = layer.forward_with(x, W, R, b, mask=theon.tensor.constant(mask))
        return out[0].sum(axis=1) + out[1]

    theon.gradient.verify_grad(fun, [x, W, R, b], rng=np.random.default_rng(0))


try:
    import torch
except ImportError:  # pragma: no cover - PyTorch is optional
    torch = None


@pytest.mark.skipif(torch is None, reason="PyTorch is not importable")
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_matches_pytorch(kind):
    """PyTorch keeps (g*U, F) weights in gate order i, f, g, o (LSTM) / r, z, n (GRU) with two biases."""
    torch.manual_seed(0)
    F, U = 3, 4
    mod = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](F, U, batch_first=True)
    mod = mod.double()
    w_ih, w_hh = mod.weight_ih_l0.detach().numpy(), mod.weight_hh_l0.detach().numpy()
    b_ih, b_hh = mod.bias_ih_l0.detach().numpy(), mod.bias_hh_l0.detach().numpy()
    if kind == "GRU":  # torch r, z, n -> Keras z, r, h
        perm = np.concatenate([np.arange(U, 2 * U), np.arange(0, U), np.arange(2 * U, 3 * U)])
        W, R, b = w_ih[perm].T, w_hh[perm].T, np.stack([b_ih[perm], b_hh[perm]])
    else:
        W, R, b = w_ih.T, w_hh.T, b_ih + b_hh
    x = np.random.default_rng(8).standard_normal((2, 7, F))
    want, _ = mod(torch.from_numpy(x))
    got = run_layer(getattr(nn, kind)(U, return_sequences=True), x, W.copy(), R.copy(), b.copy())
    np.testing.assert_allclose(got[0], want.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_input_projection_is_one_product_outside_the_loop():
    """x . W of every step is one product on the whole (batch, time, features) input, computed before the Scan."""
    xv = nn.Input((6, 3))
    layer = nn.LSTM(4, return_sequences=True)
    f = theon.function([xv], layer(xv))
    lines = theon.printing.debugprint(f, file="str").splitlines()
    dots = [ln for ln in lines if ln.strip(" |").startswith("dot ") and "(6, ?, 16)" in ln]
    assert dots, "\n".join(lines)
    scan = [ln for ln in lines if "Scan{LSTM}" in ln]
    assert scan and int(dots[0].split()[-1]) < int(scan[0].split()[-1])  # execution order: the product first


def test_save_load_round_trip(tmp_path):
    nn.set_global_seed(3)
    model = nn.Sequential([nn.Embedding(12, 5), nn.Bidirectional(nn.GRU(4, return_sequences=True)),
                           nn.LSTM(6), nn.Dense(3)])
    x = np.random.default_rng(9).integers(0, 12, (4, 7))
    model.compile(optimizer=nn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", from_logits=True)
    model.fit(x, np.array([0, 1, 2, 1]), epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "rnn.theon")
    model.save(path)
    loaded = nn.load_model(path)
    assert isinstance(loaded.layers[2], nn.LSTM)
    assert loaded.layers[1].get_config()["layer"]["class_name"] == "GRU"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_training_lowers_the_loss():
    """The parity of a bit sequence's count of ones is beyond a memoryless model; an LSTM learns the count."""
    nn.set_global_seed(4)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((96, 6, 1)).astype(np.float32)
    y = (x[..., 0] > 0).mean(axis=1, keepdims=True).astype(np.float32)
    model = nn.Sequential([nn.LSTM(8), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.Adam(2e-2), loss="mse")
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_functional_model_with_mask_input_saves_and_ignores_padding(tmp_path):
    """A model with the mask as a second input: the padded steps' content does not matter, and it reloads."""
    nn.set_global_seed(5)
    ids, m = nn.Input((6,), dtype="int64"), nn.Input((6,))
    y = nn.Dense(2)(nn.Bidirectional(nn.LSTM(3))(nn.Embedding(10, 4)(ids), mask=m))
    model = nn.Model([ids, m], y)
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]])
    mask = (x != 0).astype(np.float32)
    x_other_pad = x.copy()
    x_other_pad[0, 3:] = 5
    np.testing.assert_allclose(model.predict([x_other_pad, mask]), model.predict([x, mask]), rtol=1e-6)
    assert not np.allclose(model.predict([x_other_pad, np.ones_like(mask)]), model.predict([x, mask]))
    path = str(tmp_path / "masked.theon")
    model.save(path)
    np.testing.assert_array_equal(nn.load_model(path).predict([x, mask]), model.predict([x, mask]))
