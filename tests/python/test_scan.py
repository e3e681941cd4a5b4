"""theano.scan: each feature against an explicit NumPy loop, gradients with
verify_grad, truncated BPTT against a hand-unrolled graph, the scan rewrites
and errors."""
import numpy as np
import pytest

import theon
import theon as theano
import theon.tensor as T
from theon import scan
from theon.gradient import verify_grad
from theon.scan_module import until
from theon.tensor.shared_randomstreams import RandomStreams

F = "float64"


def fn(inputs, outputs, **kw):
    return theano.function(inputs, outputs, **kw)


def rng(seed=0):
    return np.random.default_rng(seed)


def test_simple_recurrence_against_numpy():
    x, h0, w = T.matrix("x", dtype=F), T.vector("h0", dtype=F), T.vector("w", dtype=F)
    h, upd = theano.scan(lambda x_t, h_tm1, w: T.tanh(h_tm1 * w + x_t), sequences=x, outputs_info=h0,
                         non_sequences=w)
    assert len(upd) == 0
    xv, hv, wv = rng().normal(size=(6, 3)), rng(1).normal(size=3), rng(2).normal(size=3)
    got = fn([x, h0, w], h)(xv, hv, wv)
    want, s = [], hv
    for t in range(6):
        s = np.tanh(s * wv + xv[t])
        want.append(s)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12)


def test_sequence_taps_and_output_taps():
    x = T.vector("x", dtype=F)
    y0 = T.vector("y0", dtype=F)
    # y_t = y[t-1] + 0.5 * y[t-3] + x[t-2] * x[t+1]
    out, _ = scan(lambda xm2, xp1, ym3, ym1: ym1 + 0.5 * ym3 + xm2 * xp1,
                  sequences=dict(input=x, taps=[-2, 1]), outputs_info=dict(initial=y0, taps=[-3, -1]))
    xv, yv = rng().normal(size=9), np.array([1.0, 2.0, 3.0])
    got = fn([x, y0], out)(xv, yv)
    buf = list(yv)
    for t in range(9 - 3):
        i = t + 2  # the step's reference row: taps span [-2, 1]
        buf.append(buf[-1] + 0.5 * buf[-3] + xv[i - 2] * xv[i + 1])
    np.testing.assert_allclose(got, buf[3:], rtol=1e-12)


def test_several_outputs_none_and_return_list():
    x = T.vector("x", dtype=F)
    a0 = T.scalar("a0", dtype=F)
    (prod, acc), _ = scan(lambda x_t, a: [x_t * (a + x_t), a + x_t], sequences=[x], outputs_info=[None, a0])
    xv = rng().normal(size=5)
    p, a = fn([x, a0], [prod, acc])(xv, 0.25)
    want_a = 0.25 + np.cumsum(xv)
    np.testing.assert_allclose(a, want_a, rtol=1e-12)
    np.testing.assert_allclose(p, xv * want_a, rtol=1e-12)
    outs, _ = scan(lambda x_t: x_t * 2, sequences=x, return_list=True)
    assert isinstance(outs, list) and len(outs) == 1


def test_until_while_loop():
    x0 = T.scalar("x0", dtype=F)
    vals, _ = scan(lambda v: (v * 2, until(v * 2 > 50)), outputs_info=x0, n_steps=1000)
    got = fn([x0], vals)(1.5)
    want, v = [], 1.5
    while True:
        v *= 2
        want.append(v)
        if v > 50:
            break
    np.testing.assert_allclose(got, want)
    assert theon.scan.until is until and theano.scan_module.until is until


def test_n_steps_without_sequences_and_go_backwards():
    a = T.scalar("a", dtype=F)
    n = T.iscalar("n")
    powers, _ = scan(lambda p, a: p * a, outputs_info=T.ones_like(a), non_sequences=a, n_steps=n)
    np.testing.assert_allclose(fn([a, n], powers)(2.0, 5), [2, 4, 8, 16, 32])
    x = T.vector("x", dtype=F)
    horner, _ = scan(lambda c, s: s * 2 + c, sequences=x, outputs_info=T.constant(0.0, dtype=F), go_backwards=True)
    xv = np.array([1.0, 0.0, 3.0, 2.0])
    want, s = [], 0.0
    for c in xv[::-1]:
        s = s * 2 + c
        want.append(s)
    np.testing.assert_allclose(fn([x], horner)(xv), want)


def test_shared_variables_read_and_updated():
    w = theano.shared(np.array([2.0, -1.0]), name="w")
    count = theano.shared(np.float64(10.0), name="count")
    x = T.matrix("x", dtype=F)

    def step(x_t):
        return T.sum(x_t * w) + count, {count: count + 1}

    out, upd = scan(step, sequences=x)
    assert list(upd.keys())[0] is count or len(upd) == 1
    f = fn([x], out, updates=upd)
    xv = rng().normal(size=(3, 2))
    np.testing.assert_allclose(f(xv), xv @ np.array([2.0, -1.0]) + [10, 11, 12])
    assert count.get_value() == 13
    np.testing.assert_allclose(f(xv[:1]), xv[:1] @ np.array([2.0, -1.0]) + 13)
    assert count.get_value() == 14


def test_random_streams_inside_the_step():
    srng = RandomStreams(seed=42)
    n = T.iscalar("n")
    draws, upd = scan(lambda: srng.uniform((2,), dtype=F), n_steps=n)
    assert len(upd) == 1
    f = fn([n], draws, updates=upd)
    a, b = f(3), f(2)
    assert len({tuple(r) for r in np.vstack([a, b])}) == 5  # fresh values every step and every call
    ref = RandomStreams(seed=42)
    g = fn([], ref.uniform((2,), dtype=F))
    want = np.vstack([g() for _ in range(5)])
    np.testing.assert_array_equal(np.vstack([a, b]), want)


def test_updates_with_until_in_the_same_return():
    count = theano.shared(np.int64(0), name="c")
    x0 = T.scalar("x0", dtype=F)
    out, upd = scan(lambda v: (v + 1, {count: count + 1}, until(v + 1 >= 3)), outputs_info=x0, n_steps=10)
    f = fn([x0], out, updates=upd)
    np.testing.assert_allclose(f(0.0), [1, 2, 3])
    assert count.get_value() == 3


def test_map_reduce_fold():
    x = T.vector("x", dtype=F)
    sq, _ = theano.map(lambda v: v * v, sequences=x)
    total, _ = theano.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0, dtype=F))
    right, _ = theano.foldr(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(0.0, dtype=F))
    xv = np.array([1.0, 2.0, 3.0])
    s, t, r = fn([x], [sq, total, right])(xv)
    np.testing.assert_allclose(s, xv ** 2)
    assert t == 6.0 and r == 321.0  # foldr visits 3, 2, 1


def _rnn(x, h0, w, truncate=-1):
    (h, y), _ = scan(lambda x_t, h, w: [T.tanh(h * w + x_t), T.tanh(h * w + x_t) * x_t], sequences=x,
                     outputs_info=[h0, None], non_sequences=w, truncate_gradient=truncate)
    return h, y


def test_verify_grad_several_outputs_and_taps():
    r = rng(3)

    def f(x, h0, w):
        h, y = _rnn(x, h0, w)
        return T.sum(h ** 2) + T.sum(y)

    verify_grad(f, [r.normal(size=(5, 3)) * 0.5, r.normal(size=3), r.normal(size=3)], rng=np.random.RandomState(0))

    def g(x, y0, w):
        out, _ = scan(lambda xm2, x0, ym3, ym1, w: ym1 * T.tanh(xm2 + w) + 0.3 * ym3 * x0,
                      sequences=dict(input=x, taps=[-2, 0]), outputs_info=dict(initial=y0, taps=[-3, -1]),
                      non_sequences=w)
        return out

    verify_grad(g, [r.normal(size=(7, 2)), r.normal(size=(3, 2)) * 0.5, r.normal(size=2)],
                rng=np.random.RandomState(0))


def test_truncated_bptt_matches_hand_unrolled():
    n, k = 6, 2
    x, h0, w = T.matrix("x", dtype=F), T.vector("h0", dtype=F), T.vector("w", dtype=F)
    h, _ = _rnn(x, h0, w, truncate=k)
    cost = T.sum(h[-1] ** 2)
    hh = h0
    for t in range(n):
        if t == n - k:
            hh = theano.gradient.disconnected_grad(hh)
        hh = T.tanh(hh * w + x[t])
    cost2 = T.sum(hh ** 2)
    g1 = theano.grad(cost, [x, h0, w])
    g2 = theano.grad(cost2, [x, h0, w], disconnected_inputs="ignore")
    r = rng(4)
    args = (r.normal(size=(n, 3)), r.normal(size=3), r.normal(size=3))
    out = fn([x, h0, w], g1 + g2)(*args)
    for a, b in zip(out[:3], out[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_rewrites_fire_and_agree_with_mode_none():
    x, h0, w = T.matrix("x", dtype=F), T.vector("h0", dtype=F), T.vector("w", dtype=F)
    h, _ = scan(lambda x_t, h, w: T.tanh(h * (T.exp(w) * 0.5) + T.log1p(x_t * x_t) * w), sequences=x,
                outputs_info=h0, non_sequences=w)
    last = h[-1]
    r = rng(5)
    args = (r.normal(size=(40, 3)), r.normal(size=3), r.normal(size=3))
    fast = fn([x, h0, w], [last, T.grad(T.sum(last), w)], mode="FAST_RUN")
    slow = fn([x, h0, w], [last, T.grad(T.sum(last), w)], mode="None")
    for a, b in zip(fast(*args), slow(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    names = fn([x, h0, w], last, mode="FAST_RUN").rewrites_applied()
    for name in ("scan_hoist_invariants", "scan_pushout_seq_elemwise", "scan_save_mem"):
        assert name in names, names


def test_errors_name_scan_and_the_output():
    x = T.vector("x", dtype=F)
    h32 = T.scalar("h", dtype="float32")
    with pytest.raises(ValueError, match=r"scan.*output 0"):
        scan(lambda x_t, h: h + x_t, sequences=x, outputs_info=h32)
    with pytest.raises(ValueError, match=r"returned 2 outputs"):
        scan(lambda x_t, h: [h, h], sequences=x, outputs_info=T.scalar(dtype=F))
    with pytest.raises(ValueError, match=r"n_steps"):
        scan(lambda h: h, outputs_info=T.scalar(dtype=F))
    init = T.vector("init", dtype=F)
    out, _ = scan(lambda x_t, ym2: ym2 + x_t, sequences=x, outputs_info=dict(initial=init, taps=[-2]))
    f = fn([x, init], out)
    with pytest.raises(ValueError, match=r"(?i)scan.*initial value of output 0"):
        f(np.ones(3), np.ones(1))
    np.testing.assert_allclose(f(np.ones(3), np.array([1.0, 2.0])), [2, 3, 3])


def test_gradient_reuses_the_random_draws_of_the_forward_loop():
    srng = RandomStreams(seed=3)
    x, w = T.matrix("x", dtype=F), T.vector("w", dtype=F)
    h0 = T.zeros((3,), dtype=F)
    h, upd = scan(lambda x_t, h, w: T.tanh(h * w + x_t) * srng.binomial((3,), p=0.5, dtype=F),
                  sequences=x, outputs_info=h0, non_sequences=w)
    cost = T.sum(h ** 2)
    # No updates: the generator state stays put, so every call draws the same masks.
    fc = fn([x, w], cost, no_default_updates=True)
    fg = fn([x, w], T.grad(cost, w), no_default_updates=True)
    r = rng(6)
    xv, wv = r.normal(size=(5, 3)), r.normal(size=3)
    num = np.zeros(3)
    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-6
        num[i] = (fc(xv, wv + e) - fc(xv, wv - e)) / 2e-6
    np.testing.assert_allclose(fg(xv, wv), num, rtol=1e-5, atol=1e-8)


def test_nested_scan_forward_and_gradient():
    x, w = T.matrix("x", dtype=F), T.scalar("w", dtype=F)

    def outer_step(row, acc, w):
        inner, _ = scan(lambda v, s, w: s * w + v, sequences=row, outputs_info=T.constant(0.0, dtype=F),
                        non_sequences=w)
        return acc + inner[-1]

    total, _ = scan(outer_step, sequences=x, outputs_info=T.constant(0.0, dtype=F), non_sequences=w)
    xv = rng(7).normal(size=(3, 4))
    got = fn([x, w], total)(xv, 0.5)
    want, acc = [], 0.0
    for row in xv:
        s = 0.0
        for v in row:
            s = s * 0.5 + v
        acc += s
        want.append(acc)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    verify_grad(lambda x, w: scan(outer_step, sequences=x, outputs_info=T.constant(0.0, dtype=F),
                                  non_sequences=w)[0], [xv, np.array(0.5)], rng=np.random.RandomState(0))


def test_zero_steps_and_strict():
    n = T.iscalar("n")
    h0 = T.vector("h0", dtype=F)
    out, _ = scan(lambda h: h * 2, outputs_info=h0, n_steps=n)
    assert fn([n, h0], out)(0, np.ones(3)).shape == (0, 3)
    w = T.scalar("w", dtype=F)
    with pytest.raises(ValueError, match="strict"):
        scan(lambda h: h * w, outputs_info=h0, n_steps=3, strict=True)
    ok, _ = scan(lambda h, w: h * w, outputs_info=h0, non_sequences=w, n_steps=3, strict=True)
    np.testing.assert_allclose(fn([h0, w], ok)(np.ones(2), 2.0), [[2, 2], [4, 4], [8, 8]])


def test_rop_through_scan():
    x, h0, w = T.matrix("x", dtype=F), T.vector("h0", dtype=F), T.vector("w", dtype=F)
    v = T.vector("v", dtype=F)
    h, _ = _rnn(x, h0, w)
    jv = theano.gradient.Rop(h, w, v)
    r = rng(8)
    xv, hv, wv, dv = r.normal(size=(4, 2)), r.normal(size=2), r.normal(size=2), r.normal(size=2)
    fh = fn([x, h0, w], h)
    num = (fh(xv, hv, wv + 1e-6 * dv) - fh(xv, hv, wv - 1e-6 * dv)) / 2e-6
    np.testing.assert_allclose(fn([x, h0, w, v], jv)(xv, hv, wv, dv), num, rtol=1e-5, atol=1e-8)


def test_step_returning_only_updates():
    count = theano.shared(np.float64(1.0), name="count")
    outs, upd = scan(lambda: {count: count * 3}, n_steps=4)
    assert outs == [] and len(upd) == 1
    fn([], [], updates=upd)()
    assert count.get_value() == 81.0
    with pytest.raises(ValueError, match="no outputs"):
        scan(lambda: [], n_steps=2)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "DebugMode", "NanGuardMode"])
def test_modes_agree_with_mode_none(mode):
    # DebugMode re-checks every rewrite, the scan ones included, on these inputs.
    x, h0, w = T.matrix("x", dtype=F), T.vector("h0", dtype=F), T.vector("w", dtype=F)
    h, _ = scan(lambda x_t, h, w: T.tanh(h * T.exp(w) + T.log1p(x_t * x_t)), sequences=x, outputs_info=h0,
                non_sequences=w)
    outs = [h[-1], T.grad(T.sum(h[-1]), w)]
    r = rng(9)
    args = (r.normal(size=(5, 3)), r.normal(size=3), r.normal(size=3))
    want = fn([x, h0, w], outs, mode="None")(*args)
    for a, b in zip(fn([x, h0, w], outs, mode=mode)(*args), want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_random_stream_advances_without_explicit_updates():
    srng = RandomStreams(seed=11)
    n = T.iscalar("n")
    draws, _ = scan(lambda: srng.uniform((2,), dtype=F), n_steps=n)
    f = fn([n], draws)  # no updates: the stream's default update is the state after the loop
    got = np.vstack([f(2), f(3)])
    ref = RandomStreams(seed=11)
    g = fn([], ref.uniform((2,), dtype=F))
    np.testing.assert_array_equal(got, np.vstack([g() for _ in range(5)]))
