"""theon.nn optimizers and schedules: the first steps of every update rule
against NumPy references written here from the published formulas, five steps
against torch.optim (when torch is installed), a least-squares fit, clipping,
state and config handling, and schedule values."""
import math

import numpy as np
import pytest

import theon
import theon.tensor as T
from theon.nn import optimizers as O
from theon.nn import schedules as S

P0 = np.array([1.0, -2.0, 0.5, 3.0])
GRADS = [np.array([0.5, -1.0, 2.0, 0.0]), np.array([-0.25, 0.75, 1.5, -3.0]), np.array([1.0, 0.1, -2.0, 0.5])]


def run_given_gradients(opt, grads, dtype="float64"):
    """Parameter values after each step, gradients fed through an input."""
    p = theon.shared(P0.astype(dtype), name="w")
    g = T.vector("g", dtype=dtype)
    f = theon.function([g], [], updates=opt.apply_gradients([(g, p)]))
    out = []
    for gv in grads:
        f(gv.astype(dtype))
        out.append(p.get_value().astype(np.float64))
    return out


# ---- NumPy references: (state init, step(p, g, t, state) -> p) ----

def ref_sgd(lr, momentum=0.0, nesterov=False, wd=0.0):
    def step(p, g, t, s):
        g = g + wd * p
        if momentum == 0:
            return p - lr * g
        s["v"] = momentum * s.get("v", 0) - lr * g
        return p + momentum * s["v"] - lr * g if nesterov else p + s["v"]
    return step


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, decoupled_wd=0.0):
    def step(p, g, t, s):
        p = p - lr * decoupled_wd * p
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        s["vhat"] = np.maximum(s.get("vhat", 0), s["v"])
        v = s["vhat"] if amsgrad else s["v"]
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return p - alpha * s["m"] / (np.sqrt(v) + eps)
    return step


def ref_rmsprop(lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False):
    def step(p, g, t, s):
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
        s["a"] = rho * s.get("a", 0) + (1 - rho) * g
        d = s["v"] - s["a"] ** 2 if centered else s["v"]
        inc = lr * g / np.sqrt(d + eps)
        if momentum == 0:
            return p - inc
        s["b"] = momentum * s.get("b", 0) + inc
        return p - s["b"]
    return step


def ref_adagrad(lr, init=0.1, eps=1e-7):
    def step(p, g, t, s):
        s["a"] = s.get("a", init) + g * g
        return p - lr * g / np.sqrt(s["a"] + eps)
    return step


def ref_adadelta(lr=1.0, rho=0.95, eps=1e-7):
    def step(p, g, t, s):
        s["a"] = rho * s.get("a", 0) + (1 - rho) * g * g
        d = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["a"] + eps) * g
        s["u"] = rho * s.get("u", 0) + (1 - rho) * d * d
        return p - lr * d
    return step


CASES = [
    ("sgd", lambda: O.SGD(learning_rate=0.1), ref_sgd(0.1)),
    ("momentum", lambda: O.SGD(0.1, momentum=0.9, weight_decay=0.01), ref_sgd(0.1, 0.9, wd=0.01)),
    ("nesterov", lambda: O.SGD(0.1, momentum=0.9, nesterov=True), ref_sgd(0.1, 0.9, True)),
    ("adam", lambda: O.Adam(0.01), ref_adam(0.01)),
    ("amsgrad", lambda: O.Adam(0.01, beta_1=0.8, amsgrad=True), ref_adam(0.01, b1=0.8, amsgrad=True)),
    ("adamw", lambda: O.AdamW(0.01, weight_decay=0.1), ref_adam(0.01, decoupled_wd=0.1)),
    ("rmsprop", lambda: O.RMSprop(0.01), ref_rmsprop(0.01)),
    ("rmsprop_centered_momentum", lambda: O.RMSprop(0.01, momentum=0.5, centered=True),
     ref_rmsprop(0.01, momentum=0.5, centered=True)),
    ("adagrad", lambda: O.Adagrad(0.1), ref_adagrad(0.1)),
    ("adadelta", lambda: O.Adadelta(1.0, epsilon=1e-6), ref_adadelta(1.0, eps=1e-6)),
]


@pytest.mark.parametrize("name,make,ref", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_first_three_steps_match_numpy(name, make, ref, dtype):
    got = run_given_gradients(make(), GRADS, dtype)
    p, state = P0.copy(), {}
    for t, g in enumerate(GRADS, start=1):
        p = ref(p, g, t, state)
        rtol = 1e-12 if dtype == "float64" else 2e-6
        np.testing.assert_allclose(got[t - 1], p, rtol=rtol, atol=rtol, err_msg=f"{name} step {t}")


# ---- torch.optim over 5 steps on a quadratic (gradients depend on the parameter) ----

A = np.array([[1.0, 0.5, -0.3], [0.2, -1.5, 0.7], [0.4, 0.1, 2.0], [-1.0, 0.3, 0.6]])
B = np.array([0.5, -1.0, 2.0, 0.3])
W0 = np.array([0.3, -0.7, 1.1])

TORCH_CASES = [
    ("sgd_momentum", lambda: O.SGD(0.05, momentum=0.9, weight_decay=0.01),
     lambda torch, ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("sgd_nesterov", lambda: O.SGD(0.05, momentum=0.8, nesterov=True),
     lambda torch, ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    ("adam", lambda: O.Adam(0.05, epsilon=1e-12),
     lambda torch, ps: torch.optim.Adam(ps, lr=0.05, eps=1e-12)),
    ("adam_amsgrad", lambda: O.Adam(0.05, beta_2=0.9, epsilon=1e-12, amsgrad=True),
     lambda torch, ps: torch.optim.Adam(ps, lr=0.05, betas=(0.9, 0.9), eps=1e-12, amsgrad=True)),
    ("adamw", lambda: O.AdamW(0.05, weight_decay=0.1, epsilon=1e-12),
     lambda torch, ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1, eps=1e-12)),
    ("rmsprop", lambda: O.RMSprop(0.01, rho=0.9, epsilon=1e-10),
     lambda torch, ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-10)),
    ("rmsprop_centered_momentum", lambda: O.RMSprop(0.01, rho=0.9, epsilon=1e-10, momentum=0.5, centered=True),
     lambda torch, ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-10, momentum=0.5, centered=True)),
    ("adagrad", lambda: O.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=1e-10),
     lambda torch, ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=1e-10)),
    ("adadelta", lambda: O.Adadelta(1.0, rho=0.9, epsilon=1e-6),
     lambda torch, ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.9, eps=1e-6)),
]


@pytest.mark.parametrize("name,make,make_torch", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_five_steps_match_torch(name, make, make_torch):
    torch = pytest.importorskip("torch")
    w = theon.shared(W0.copy(), name="w")
    loss = T.sum((T.dot(theon.shared(A), w) - B) ** 2)
    step = theon.function([], loss, updates=make().get_updates(loss, [w]))
    tw = torch.tensor(W0.copy(), dtype=torch.float64, requires_grad=True)
    topt = make_torch(torch, [tw])
    ta, tb = torch.tensor(A), torch.tensor(B)
    for k in range(5):
        step()
        topt.zero_grad()
        ((ta @ tw - tb) ** 2).sum().backward()
        topt.step()
        # Epsilon sits in slightly different places (see optimizers.h): agree to ~1e-9.
        np.testing.assert_allclose(w.get_value(), tw.detach().numpy(), rtol=1e-8, atol=1e-9,
                                   err_msg=f"{name} step {k + 1}")


@pytest.mark.parametrize("make", [lambda: O.SGD(0.02), lambda: O.SGD(0.01, momentum=0.9), lambda: O.Adam(0.1),
                                  lambda: O.AdamW(0.1), lambda: O.RMSprop(0.02), lambda: O.Adagrad(0.5),
                                  lambda: O.Adadelta(1.0, epsilon=1e-2)])
def test_least_squares_loss_decreases(make):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], dtype="float32")
    w = theon.shared(np.zeros(3, dtype="float32"), name="w")
    x_, y_ = T.matrix("x"), T.vector("y")
    loss = T.mean((T.dot(x_, w) - y_) ** 2)
    f = theon.function([x_, y_], loss, updates=make().get_updates(loss, [w]))
    losses = [float(f(X, y)) for _ in range(40)]
    assert w.get_value().dtype == np.float32
    assert losses[-1] < 0.5 * losses[0], losses


def test_state_learning_rate_and_iterations():
    w = theon.shared(np.zeros((2, 3)), name="dense/kernel")
    b = theon.shared(np.zeros(3), name="dense/bias")
    opt = O.Adam(learning_rate=0.1)
    x = T.matrix("x", dtype="float64")
    loss = T.sum((T.dot(x, w) + b - 1.0) ** 2)
    f = theon.function([x], loss, updates=opt.get_updates(loss, [w, b]))
    names = [v.name for v in opt.variables]
    assert names == ["iterations", "learning_rate", "dense/kernel/m", "dense/kernel/v", "dense/bias/m", "dense/bias/v"]
    assert opt.variables[2].get_value().shape == (2, 3)
    xv = np.full((4, 2), 0.5)
    f(xv)
    f(xv)
    assert int(opt.iterations.get_value()) == 2
    assert opt.learning_rate == 0.1
    opt.learning_rate = 0.0  # read at call time: the parameters freeze
    before = w.get_value()
    f(xv)
    np.testing.assert_array_equal(w.get_value(), before)
    assert opt.learning_rate_variable.get_value() == 0.0


def test_config_round_trip_and_get():
    opt = O.RMSprop(learning_rate=0.25, momentum=0.5, centered=True, clipnorm=2.0)
    c = opt.get_config()
    assert c["name"] == "rmsprop" and c["centered"] is True and c["clipnorm"] == 2.0
    again = O.Optimizer.from_config(c)
    assert isinstance(again, O.RMSprop) and again.get_config() == c
    assert isinstance(O.get("Adam", learning_rate=0.5), O.Adam) and O.get("adam", learning_rate=0.5).learning_rate == 0.5
    assert O.get(opt) is opt
    assert O.deserialize(O.serialize(opt)).get_config() == c
    with pytest.raises(ValueError, match="unknown optimizer"):
        O.get("lbfgs")
    with pytest.raises(ValueError):
        O.Adam(learning_rate=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        O.SGD(nesterov=True)
    with pytest.raises(ValueError, match="not a shared variable"):
        v = T.vector("v")
        O.SGD().get_updates(T.sum(v), [v])


def test_clipping_matches_numpy():
    g1, g2 = np.array([3.0, 4.0]), np.array([0.0, 12.0])
    out = [theon.function([], c)() for c in O.clip_by_global_norm([theon.shared(g1), theon.shared(g2)], 2.0)]
    scale = 2.0 / np.sqrt((g1 ** 2).sum() + (g2 ** 2).sum())
    np.testing.assert_allclose(out[0], g1 * scale, rtol=1e-15)
    np.testing.assert_allclose(out[1], g2 * scale, rtol=1e-15)
    np.testing.assert_allclose(theon.function([], O.clip_by_norm(theon.shared(g1), 1.0))(), g1 / 5, rtol=1e-15)
    # An optimizer's clipnorm: one SGD step of lr 1 moves by the clipped gradient.
    got = run_given_gradients(O.SGD(1.0, clipnorm=1.0), [GRADS[1]])
    np.testing.assert_allclose(got[0], P0 - GRADS[1] / np.linalg.norm(GRADS[1]), rtol=1e-14)
    got = run_given_gradients(O.SGD(1.0, clipvalue=0.5), [GRADS[1]])
    np.testing.assert_allclose(got[0], P0 - np.clip(GRADS[1], -0.5, 0.5), rtol=1e-15)


def test_schedules():
    sd = S.StepDecay(0.1, 0.5, 10)
    assert [sd(s) for s in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025], rel=1e-15)
    ed = S.ExponentialDecay(1.0, 100, 0.5)
    assert ed(50) == pytest.approx(0.5 ** 0.5, rel=1e-15)
    assert S.ExponentialDecay(1.0, 100, 0.5, staircase=True)(150) == 0.5
    cd = S.CosineDecay(2.0, 100, alpha=0.1)
    for s in (0, 30, 100, 500):
        want = 2.0 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 100) / 100)) + 0.1)
        assert cd(s) == pytest.approx(want, rel=1e-14)
    wu = S.Warmup(S.CosineDecay(1.0, 10), 4)
    assert [wu(s) for s in range(5)] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert wu(9) == pytest.approx(0.5)
    wp = S.Warmup(lambda s: 1.0 / (1 + s), 2, start=0.5)  # any Python callable
    assert [wp(0), wp(1), wp(2), wp(3)] == pytest.approx([0.5, 0.75, 1.0, 0.5])
    assert S.Warmup(0.3, 3)(1) == pytest.approx(0.1)
    pc = S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pc(s) for s in (10, 11, 20, 21)] == [1.0, 0.5, 0.5, 0.1]
    assert pc(np.int64(5)) == 1.0
    assert sd.get_config() == {"initial_learning_rate": 0.1, "drop": 0.5, "every_n": 10}
    with pytest.raises(ValueError):
        S.PiecewiseConstantDecay([10], [1.0])
    with pytest.raises(ValueError):
        sd(-1)
    with pytest.raises(TypeError):
        sd(1.5)


def test_schedule_drives_learning_rate():
    opt = O.SGD(learning_rate=1.0)
    sched = S.StepDecay(1.0, 0.1, 2)
    w = theon.shared(np.array([1.0]), name="w")
    f = theon.function([], [], updates=opt.get_updates(T.sum(w), [w]))
    for epoch in range(4):
        opt.learning_rate = sched(epoch)
        f()
    np.testing.assert_allclose(w.get_value(), [1.0 - 1.0 - 1.0 - 0.1 - 0.1], rtol=1e-14)


def test_state_save_and_restore_continues_identically():
    """Restoring get_weights() into a fresh optimizer (built before the
    function exists) continues exactly as the original would."""
    def make():
        w = theon.shared(W0.copy(), name="w")
        loss = T.sum((T.dot(theon.shared(A), w) - B) ** 2)
        return w, loss

    w1, loss1 = make()
    opt1 = O.Adam(0.05, amsgrad=True)
    f1 = theon.function([], loss1, updates=opt1.get_updates(loss1, [w1]))
    for _ in range(3):
        f1()
    saved_w, saved_state = w1.get_value(), opt1.get_weights()
    w2, loss2 = make()
    w2.set_value(saved_w)
    opt2 = O.Adam(0.05, amsgrad=True)
    with pytest.raises(ValueError, match="build"):
        opt2.set_weights(saved_state)
    opt2.build([w2])
    opt2.set_weights(saved_state)
    f2 = theon.function([], loss2, updates=opt2.get_updates(loss2, [w2]))
    for _ in range(2):
        f1()
        f2()
    np.testing.assert_array_equal(w2.get_value(), w1.get_value())
    assert int(opt2.iterations.get_value()) == 5
    with pytest.raises(ValueError, match="shape"):
        opt2.set_weights([np.zeros(7)] * len(saved_state))


def test_schedule_as_learning_rate_counts_iterations():
    # Keras-style: the schedule is evaluated at the number of steps taken.
    for sched in (S.StepDecay(1.0, 0.5, 2), lambda step: 0.5 ** (step // 2)):
        opt = O.SGD(learning_rate=sched)
        assert opt.learning_rate == 1.0 and opt.learning_rate_schedule is sched
        w = theon.shared(np.array([0.0]), name="w")
        f = theon.function([], [], updates=opt.get_updates(T.sum(w), [w]))
        for _ in range(5):
            opt.update_learning_rate()
            f()
        np.testing.assert_array_equal(w.get_value(), [-(1 + 1 + 0.5 + 0.5 + 0.25)])
    plain = O.Adam(0.01)
    plain.update_learning_rate()
    assert plain.learning_rate == 0.01 and plain.learning_rate_schedule is None
    with pytest.raises(TypeError, match="base class"):
        O.Optimizer(0.1)
