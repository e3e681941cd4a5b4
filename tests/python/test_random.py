"""Random streams: fresh draws per call, reproducibility, distributions, dtypes, sizes, errors."""
import math

import numpy as np
import pytest

import theon as theano
import theon.tensor as T
from theon.tensor.shared_randomstreams import RandomStreams


def ks_stat(samples, cdf):
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(x)
    f = cdf(x)
    i = np.arange(n)
    return max(np.max(np.abs(f - i / n)), np.max(np.abs(f - (i + 1) / n)))


def test_each_call_draws_new_numbers():
    rs = RandomStreams(seed=234)
    u = rs.uniform((2, 2))
    n = rs.normal((2, 2))
    f = theano.function([], u)
    g = theano.function([], n)
    a, b = f(), f()
    assert a.shape == (2, 2)
    assert not np.array_equal(a, b)
    assert not np.array_equal(g(), g())


def test_same_seed_same_sequence_and_reseed():
    def make(seed):
        rs = RandomStreams(seed)
        return rs, theano.function([], [rs.uniform((5,)), rs.binomial((5,), n=10, p=0.3), rs.normal((3,))])

    rs1, f1 = make(7)
    _, f2 = make(7)
    _, f3 = make(8)
    s1 = [f1() for _ in range(3)]
    s2 = [f2() for _ in range(3)]
    for a, b in zip(s1, s2):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(s1[0][0], f3()[0])
    rs1.seed(7)
    np.testing.assert_array_equal(f1()[0], s1[0][0])


def test_one_draw_per_call_for_a_variable_used_twice():
    rs = RandomStreams(1)
    u = rs.uniform((4,))
    a, b = theano.function([], [u, u * 2])()
    np.testing.assert_allclose(b, 2 * a)


def test_uniform_moments_and_ks():
    rs = RandomStreams(3)
    v = theano.function([], rs.uniform((200000,), low=-2.0, high=3.0, dtype="float64"))()
    assert v.dtype == np.float64
    assert v.min() >= -2.0 and v.max() < 3.0
    assert abs(v.mean() - 0.5) < 0.02
    assert abs(v.var() - 25 / 12) < 0.03
    assert ks_stat(v, lambda x: (x + 2) / 5) < 0.005


def test_normal_moments_and_ks():
    rs = RandomStreams(4)
    v = theano.function([], rs.normal((200000,), avg=1.5, std=2.0, dtype="float64"))()
    assert abs(v.mean() - 1.5) < 0.02
    assert abs(v.std() - 2.0) < 0.02
    erf = np.vectorize(math.erf)
    assert ks_stat(v, lambda x: 0.5 * (1 + erf((x - 1.5) / (2.0 * math.sqrt(2))))) < 0.005


@pytest.mark.parametrize("n,p", [(1, 0.3), (5, 0.3), (1000, 0.4), (100, 0.9)])
def test_binomial_moments(n, p):
    rs = RandomStreams(5)
    v = theano.function([], rs.binomial((100000,), n=n, p=p))()
    assert v.dtype == np.int64
    m, s2 = n * p, n * p * (1 - p)
    assert abs(v.mean() - m) < 5 * math.sqrt(s2 / 1e5)
    assert abs(v.var() - s2) < 0.03 * s2
    assert v.min() >= 0 and v.max() <= n


def test_random_integers_inclusive():
    rs = RandomStreams(6)
    v = theano.function([], rs.random_integers((70000,), low=-3, high=3))()
    counts = np.bincount(v + 3)
    assert len(counts) == 7
    assert np.all(np.abs(counts - 10000) < 400)
    w = theano.function([], rs.integers((50,), 2, 2))()
    assert np.all(w == 2)


def test_choice_and_permutation():
    rs = RandomStreams(8)
    v = theano.function([], rs.choice((50000,), a=4, p=[0.1, 0.0, 0.6, 0.3]))()
    counts = np.bincount(v, minlength=4)
    assert counts[1] == 0
    assert abs(counts[0] - 5000) < 300 and abs(counts[2] - 30000) < 400
    s = theano.function([], rs.choice((2, 5), a=10, replace=False))()
    assert s.shape == (2, 5) and len(set(s.ravel())) == 10
    a = theano.function([], rs.choice((100,), a=np.array([1.5, 2.5]), dtype="float64"))()
    assert set(a) <= {1.5, 2.5}
    p = theano.function([], rs.permutation((1000,), n=4))()
    assert p.shape == (1000, 4)
    assert np.all(np.sort(p, axis=1) == np.arange(4))
    assert np.all(np.abs(np.bincount(p[:, 0]) - 250) < 60)


def test_dtypes():
    rs = RandomStreams(9)
    assert rs.uniform((2,)).dtype == theano.config.floatX
    assert rs.normal((2,), dtype="float64").dtype == "float64"
    assert rs.uniform((2,), low=T.dscalar()).dtype == "float64"
    mask = rs.binomial((3, 3), p=0.5, dtype=theano.config.floatX)
    out = theano.function([], mask)()
    assert out.dtype == np.dtype(theano.config.floatX)
    assert set(np.unique(out)) <= {0.0, 1.0}
    h = theano.function([], rs.uniform((1000,), dtype="float16"))()
    assert h.dtype == np.float16 and h.max() < 1.0
    assert theano.function([], rs.random_integers((4,), 0, 9, dtype="int8"))().dtype == np.int8


def test_size_from_shape_and_symbolic_scalars():
    rs = RandomStreams(10)
    x = T.matrix("x")
    u = rs.uniform(x.shape)
    f = theano.function([x], x + u)
    assert f(np.zeros((4, 7), dtype=theano.config.floatX)).shape == (4, 7)
    n = T.lscalar("n")
    g = theano.function([n], rs.normal((n, 3)))
    assert g(5).shape == (5, 3)
    sz = T.lvector("sz")
    h = theano.function([sz], rs.uniform(sz, ndim=3))
    assert h([2, 1, 3]).shape == (2, 1, 3)
    # Dropout, the classic way.
    drop = x * rs.binomial(size=x.shape, p=0.8, dtype=theano.config.floatX)
    out = theano.function([x], drop)(np.ones((200, 50), dtype=theano.config.floatX))
    assert abs(out.mean() - 0.8) < 0.02


def test_params_broadcast_and_empty_size():
    rs = RandomStreams(11)
    lo = np.array([0.0, 10.0, 100.0])
    v = theano.function([], rs.uniform((400, 3), low=lo, high=lo + 1))()
    assert np.all((v >= lo) & (v < lo + 1))
    e = theano.function([], rs.normal(avg=np.array([-100.0, 100.0])))()
    assert e.shape == (2,) and e[0] < 0 < e[1]
    assert theano.function([], rs.uniform())().shape == ()


def test_errors():
    rs = RandomStreams(12)
    with pytest.raises(ValueError, match=r"\[random_uniform\] size must be non-negative"):
        rs.uniform((2, -1))
    with pytest.raises(ValueError, match="low must be <= high"):
        rs.uniform((2,), low=1.0, high=0.0)
    with pytest.raises(ValueError, match=r"\[random_integers\] low must be <= high"):
        rs.random_integers((2,), 5, 2)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        rs.binomial((2,), p=1.5)
    with pytest.raises(ValueError, match="std must be non-negative"):
        rs.normal((2,), std=-1.0)
    with pytest.raises(ValueError, match=r"larger sample \(5\) than the population \(3\)"):
        rs.choice((5,), a=3, replace=False)
    with pytest.raises(ValueError, match="n must be non-negative"):
        rs.permutation((2,), n=-1)
    with pytest.raises(ValueError, match="ndim=3"):
        rs.uniform((2, 2), ndim=3)
    with pytest.raises(ValueError, match="pass ndim"):
        rs.uniform(T.lvector())
    # Runtime checks, with the state left as it was.
    lo, hi = T.dscalars("lo", "hi")
    f = theano.function([lo, hi], rs.uniform((3,), lo, hi))
    state = rs.state_updates[-1][0]
    before = state.get_value()
    with pytest.raises(ValueError, match="low must be <= high"):
        f(2.0, 1.0)
    np.testing.assert_array_equal(state.get_value(), before)
    r = f(1.0, 2.0)
    assert np.all((r >= 1) & (r < 2))
    assert not np.array_equal(state.get_value(), before)


def test_aliases():
    from theon.sandbox.rng_mrg import MRG_RandomStreams
    from theon.tensor.random import RandomStreams as RS2

    assert RS2 is RandomStreams
    assert T.shared_randomstreams.RandomStreams is RandomStreams
    m = MRG_RandomStreams(seed=5)
    v = theano.function([], m.uniform(size=(3,), nstreams=10))()
    assert v.shape == (3,)
    m2 = MRG_RandomStreams(seed=5)
    np.testing.assert_array_equal(theano.function([], m2.uniform(size=(3,)))(), v)


def test_gradients_through_a_mask_and_undefined_through_draws():
    rs = RandomStreams(13)
    x = T.matrix("x")
    mask = rs.binomial(x.shape, p=0.5, dtype=x.dtype)
    y = (x * mask).sum()
    f = theano.function([x], [mask, T.grad(y, x)])
    m, g = f(np.ones((4, 5), dtype=x.dtype))
    np.testing.assert_array_equal(m, g)  # one draw serves the output and its gradient
    avg = T.scalar("avg")
    with pytest.raises(ValueError, match="no gradient is defined through random draws"):
        T.grad(rs.normal((3,), avg=avg).sum(), avg)
