"""theano.grad / T.grad and the operators built on it, from Python.

Second derivatives, jacobian / hessian / Rop / Lop against closed forms,
verify_grad catching wrong gradients, the errors of bad calls, integer and
half-precision wrt, the gradient modifiers, and a logistic-regression cost
compiled with theano.function against NumPy. The per-op verify_grad table is
in test_gradient_ops.py.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import theon as theano
import theon.tensor as T
from theon import gradient
from theon.gradient import GradientError, verify_grad


def rng(k=0):
    return np.random.default_rng(4321 + k)


def fn(inputs, outputs, **kw):
    # Derivatives often drop inputs (the Hessian of a quadratic form does not depend on x).
    kw.setdefault("on_unused_input", "ignore")
    return theano.function(inputs, outputs, **kw)


# ---------------------------------------------------------------------------
# Broadcasting shapes drawn at random
# ---------------------------------------------------------------------------

BINARY = {
    "add": (T.add, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "mul": (T.mul, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "true_div": (T.true_div, lambda r, s: r.normal(size=s), lambda r, s: r.uniform(0.5, 2, size=s)),
    "pow": (T.pow, lambda r, s: r.uniform(0.5, 2, size=s), lambda r, s: r.normal(size=s)),
    "arctan2": (T.arctan2, lambda r, s: r.uniform(0.5, 2, size=s), lambda r, s: r.normal(size=s)),
}


@settings(max_examples=12, deadline=None, derandomize=True)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)))
def test_binary_broadcasting_random_shapes(shapes, op):
    f, da, db = BINARY[op]
    r = rng(1)
    a, b = da(r, shapes.input_shapes[0]), db(r, shapes.input_shapes[1])
    verify_grad(lambda x, y: f(x, y), [a, b], rng=np.random.default_rng(0))


@settings(max_examples=10, deadline=None, derandomize=True)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_reduction_random_axes(shape, data):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1))
    keepdims = data.draw(st.booleans())
    x = rng(2).uniform(0.5, 1.5, size=shape)
    for red in (T.sum, T.prod, T.mean, T.logsumexp, T.var):
        verify_grad(lambda v: red(v, axis=tuple(axes), keepdims=keepdims), [x], rng=np.random.default_rng(0))


# ---------------------------------------------------------------------------
# Second derivatives
# ---------------------------------------------------------------------------

def test_hessian_of_quadratic_form():
    x, A = T.dvector("x"), T.dmatrix("A")
    cost = T.dot(x, T.dot(A, x))
    H = T.hessian(cost, x)
    a = rng(3).normal(size=(4, 4))
    got = fn([x, A], H)(rng(4).normal(size=4), a)
    np.testing.assert_allclose(got, a + a.T, rtol=1e-12, atol=1e-12)
    # As the jacobian of the gradient, and via grad of grad row by row.
    g = T.grad(cost, x)
    rows = [T.grad(g[i], x) for i in range(4)]
    got_rows = fn([x, A], rows)(rng(4).normal(size=4), a)
    np.testing.assert_allclose(np.stack(got_rows), a + a.T, rtol=1e-12, atol=1e-12)


def _fd_hessian(grad_f, x0, eps=1e-5):
    n = x0.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = eps
        H[:, i] = (grad_f(x0 + e) - grad_f(x0 - e)) / (2 * eps)
    return H


@pytest.mark.parametrize("cost", [
    lambda x: T.sum(T.tanh(x) * T.exp(x[::-1])),
    lambda x: T.logsumexp(T.outer(x, x)),
    lambda x: T.sum(T.nnet.softmax(x[None, :] * x[:, None]) ** 2),
    lambda x: T.prod(T.sin(x) + 2.0) / T.sum(x ** 2),
    lambda x: T.sum(T.sqrt(T.cumsum(T.sqr(x)) + 1.0)),
    lambda x: T.nlinalg.det(T.outer(x, x) + T.eye(x.shape[0])),
], ids=["tanh_exp", "logsumexp_outer", "softmax", "prod_over_norm", "cumsum_sqrt", "det"])
def test_hessian_against_finite_differences(cost):
    x = T.dvector("x")
    c = cost(x)
    g = T.grad(c, x)
    H = T.hessian(c, x)
    f_g, f_H = fn([x], g), fn([x], H)
    x0 = rng(5).uniform(0.2, 1.0, size=4)
    want = _fd_hessian(lambda v: np.asarray(f_g(v)), x0)
    got = f_H(x0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, got.T, rtol=1e-10, atol=1e-12)


def test_third_derivative():
    x = T.dscalar()
    y = x ** 4 + T.sin(x)
    d3 = T.grad(T.grad(T.grad(y, x), x), x)
    np.testing.assert_allclose(fn([x], d3)(0.7), 24 * 0.7 - np.cos(0.7), rtol=1e-12)


# ---------------------------------------------------------------------------
# jacobian, hessian, Rop, Lop
# ---------------------------------------------------------------------------

def test_jacobian_closed_forms():
    x, A = T.dvector(), T.dmatrix()
    a = rng(6).normal(size=(3, 4))
    v = rng(7).normal(size=4)
    np.testing.assert_allclose(fn([x], T.jacobian(T.exp(x), x))(v), np.diag(np.exp(v)), rtol=1e-12)
    np.testing.assert_allclose(fn([x, A], T.jacobian(T.dot(A, x), x))(v, a), a, rtol=1e-12)
    # Jacobian w.r.t. a matrix: shape expression.shape + wrt.shape.
    JA = fn([x, A], T.jacobian(T.dot(A, x), A))(v, a)
    want = np.zeros((3, 3, 4))
    for i in range(3):
        want[i, i] = v
    np.testing.assert_allclose(JA, want, rtol=1e-12)
    # A list of wrt gives a list; a scalar expression gives the gradient.
    Jx, JA2 = T.jacobian(T.dot(A, x), [x, A])
    np.testing.assert_allclose(fn([x, A], JA2)(v, a), want, rtol=1e-12)
    np.testing.assert_allclose(fn([x], T.jacobian(T.sum(x ** 2), x))(v), 2 * v, rtol=1e-12)


def test_hessian_closed_form_and_list():
    x, y = T.dvector(), T.dvector()
    cost = T.sum(x ** 3) + T.dot(x, y) ** 2
    Hx, Hy = T.hessian(cost, [x, y])
    v, w = rng(8).normal(size=3), rng(9).normal(size=3)
    got_x, got_y = fn([x, y], [Hx, Hy])(v, w)
    np.testing.assert_allclose(got_x, np.diag(6 * v) + 2 * np.outer(w, w), rtol=1e-12)
    np.testing.assert_allclose(got_y, 2 * np.outer(v, v), rtol=1e-12)


def test_rop_closed_forms():
    x, A, ev = T.dvector(), T.dmatrix(), T.dvector()
    a, v, e = rng(10).normal(size=(3, 4)), rng(11).normal(size=4), rng(12).normal(size=4)
    np.testing.assert_allclose(fn([x, A, ev], T.Rop(T.dot(A, x), x, ev))(v, a, e), a @ e, rtol=1e-12)
    np.testing.assert_allclose(fn([x, ev], T.Rop(T.exp(x), x, ev))(v, e), np.exp(v) * e, rtol=1e-12)
    # Two wrt at once: d(A x) = dA x + A dx.
    dA = T.dmatrix()
    da = rng(13).normal(size=(3, 4))
    got = fn([x, A, ev, dA], T.Rop(T.dot(A, x), [x, A], [ev, dA]))(v, a, e, da)
    np.testing.assert_allclose(got, a @ e + da @ v, rtol=1e-12)
    # A matrix output and a list of outputs.
    M = T.dmatrix()
    m, dm = rng(14).normal(size=(3, 3)), rng(15).normal(size=(3, 3))
    got = fn([M, dA], T.Rop([T.dot(M, M), T.sum(M)], M, dA))(m, dm)
    np.testing.assert_allclose(got[0], dm @ m + m @ dm, rtol=1e-12)
    np.testing.assert_allclose(got[1], dm.sum(), rtol=1e-12)


def test_lop_closed_forms():
    x, A, u = T.dvector(), T.dmatrix(), T.dvector()
    a, v, w = rng(16).normal(size=(3, 4)), rng(17).normal(size=4), rng(18).normal(size=3)
    np.testing.assert_allclose(fn([x, A, u], T.Lop(T.dot(A, x), x, u))(v, a, w), w @ a, rtol=1e-12)
    gx, gA = T.Lop(T.dot(A, x), [x, A], u)
    got_x, got_A = fn([x, A, u], [gx, gA])(v, a, w)
    np.testing.assert_allclose(got_x, w @ a, rtol=1e-12)
    np.testing.assert_allclose(got_A, np.outer(w, v), rtol=1e-12)
    # Lop and Rop are transposes: <u, J e> == <J^T u, e>.
    e = T.dvector()
    ev = rng(19).normal(size=4)
    f = T.tanh(T.dot(A, T.sin(x)))
    lhs = fn([x, A, u, e], T.dot(u, T.Rop(f, x, e)))(v, a, w, ev)
    rhs = fn([x, A, u, e], T.dot(T.Lop(f, x, u), e))(v, a, w, ev)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# ---------------------------------------------------------------------------
# verify_grad itself
# ---------------------------------------------------------------------------

def test_verify_grad_accepts_a_right_gradient():
    verify_grad(lambda x, y: T.sum(x * T.exp(y)), [rng(20).normal(size=(2, 3)), rng(21).normal(size=3)],
                rng=np.random.default_rng(1))


def test_verify_grad_catches_zero_grad_on_a_real_dependency():
    x0 = rng(22).normal(size=(2, 3))
    with pytest.raises(GradientError, match="gradient mismatch"):
        verify_grad(lambda x: T.exp(gradient.zero_grad(x)) * 2.0, [x0], rng=np.random.default_rng(1))
    with pytest.raises(GradientError):
        verify_grad(lambda x: x * gradient.disconnected_grad(x), [x0], rng=np.random.default_rng(1))
    with pytest.raises(GradientError):
        verify_grad(lambda x: T.sin(gradient.grad_scale(x, 1.5)), [x0], rng=np.random.default_rng(1))
    # GradientError is theon.gradient's class, not a ValueError in disguise.
    assert issubclass(GradientError, Exception) and not issubclass(GradientError, ValueError)


def test_verify_grad_bad_arguments():
    with pytest.raises(TypeError):
        verify_grad(lambda x: x, np.ones(3))


# ---------------------------------------------------------------------------
# Bad calls and disconnected inputs
# ---------------------------------------------------------------------------

def test_grad_of_non_scalar():
    x = T.dvector()
    with pytest.raises(ValueError, match="cost must be a scalar"):
        T.grad(x * 2, x)


@pytest.mark.parametrize("wrt", [3.0, 2, np.ones(3), [np.ones(3)]])
def test_grad_wrt_a_non_variable(wrt):
    x = T.dvector()
    with pytest.raises(TypeError, match="must be a theon Variable"):
        T.grad(T.sum(x), wrt)


def test_grad_cost_not_a_variable():
    x = T.dvector()
    with pytest.raises(TypeError):
        T.grad(3.0, x)


def test_disconnected_inputs_modes():
    x, y = T.dvector("x"), T.dvector("y")
    cost = T.sum(x ** 2)
    with pytest.raises(gradient.DisconnectedInputError, match="'y'.*not part of the computational graph"):
        T.grad(cost, y)
    with pytest.raises(ValueError):
        T.grad(cost, [x, y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = T.grad(cost, y, disconnected_inputs="ignore")
    np.testing.assert_array_equal(fn([y], g)(np.arange(3.0)), np.zeros(3))
    with pytest.warns(UserWarning, match="'y'.*not part of the computational graph"):
        g = T.grad(cost, y, disconnected_inputs="warn")
    np.testing.assert_array_equal(fn([y], g)(np.arange(3.0)), np.zeros(3))
    gx, gy = T.grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="none")
    assert gy is None and gx is not None
    np.testing.assert_allclose(fn([x], gx)(np.arange(3.0)), 2 * np.arange(3.0))
    assert T.grad(cost, y, disconnected_inputs="ignore", return_disconnected="disconnected") is None
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(cost, x, disconnected_inputs="sometimes")
    with pytest.raises(ValueError, match="return_disconnected"):
        T.grad(cost, x, return_disconnected="zeros")


def test_argmax_gives_disconnected():
    x = T.dmatrix()
    cost = T.sum(T.cast(T.argmax(x, axis=0), "float64"))
    with pytest.raises(gradient.DisconnectedInputError):
        T.grad(cost, x)
    # max_and_argmax: the max part still has a gradient.
    mx, am = T.max_and_argmax(x, axis=1)
    g = T.grad(T.sum(mx) + T.sum(T.cast(am, "float64")), x)
    a = np.array([[1.0, 3.0, 2.0], [0.0, -1.0, 4.0]])
    np.testing.assert_array_equal(fn([x], g)(a), [[0, 1, 0], [0, 0, 1]])


def test_random_draws_have_no_gradient():
    from theon.tensor.shared_randomstreams import RandomStreams

    srng = RandomStreams(seed=3)
    mu = T.dscalar("mu")
    cost = T.sum(srng.normal((3,), avg=mu)) + mu
    with pytest.raises(gradient.NullTypeGradError, match="random_normal"):
        T.grad(cost, mu)
    # Theano's error is a TypeError; theon's graph errors are ValueErrors: it is both.
    assert issubclass(gradient.NullTypeGradError, TypeError)
    g = T.grad(cost, mu, null_gradients="return")
    assert g is None
    with pytest.raises(ValueError, match="null_gradients"):
        T.grad(cost, mu, null_gradients="skip")


def test_undefined_gradient_of_an_unrelated_input_does_not_raise():
    from theon.tensor.shared_randomstreams import RandomStreams

    srng = RandomStreams(seed=3)
    mu, w = T.dscalar("mu"), T.dscalar("w")
    cost = T.sum(srng.normal((3,), avg=mu)) * w
    g = T.grad(cost, w)
    assert np.isfinite(fn([mu, w], g)(0.0, 2.0))


# ---------------------------------------------------------------------------
# Integer, boolean and half-precision wrt
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_and_boolean_wrt_give_zero(dtype):
    i = T.vector("i", dtype=dtype)
    x = T.dvector("x")
    cost = T.sum(x * i) + T.sum(T.cast(i, "float64") ** 2)
    g = T.grad(cost, i)
    assert g.dtype == theano.config.floatX
    vals = np.array([1, 0, 1], dtype=dtype)
    got = fn([x, i], g, on_unused_input="ignore")(np.ones(3), vals)
    np.testing.assert_array_equal(got, np.zeros(3))
    # The float input is unaffected.
    np.testing.assert_array_equal(fn([x, i], T.grad(cost, x))(np.ones(3), vals), vals.astype(float))


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_low_precision_gradients_keep_their_dtype(dtype):
    x = T.vector("x", dtype=dtype)
    cost = T.sum(T.exp(x) * x)
    g = T.grad(cost, x)
    assert g.dtype == dtype
    v = np.array([0.5, -1.25, 2.0], dtype=dtype)
    got = fn([x], g)(v)
    assert got.dtype == np.dtype(dtype)
    v64 = v.astype(np.float64)
    want = (np.exp(v64) * (1 + v64)).astype(dtype)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=2e-3 if dtype == "float16" else 1e-6)


def test_float16_gradient_accumulates_in_float32():
    # 4096 contributions of 1: float16 sums stall at 2048, a float32 accumulator does not.
    x = T.vector("x", dtype="float16")
    cost = T.sum(x[np.zeros(4096, dtype=np.int64)])
    got = fn([x], T.grad(cost, x))(np.zeros(2, dtype=np.float16))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.array([4096.0, 0.0], dtype=np.float16))


# ---------------------------------------------------------------------------
# Gradient modifiers, consider_constant, known_grads
# ---------------------------------------------------------------------------

def test_modifiers_are_identity_forward():
    x = T.dvector()
    v = np.array([1.0, -2.0, 3.0])
    for mod in (gradient.zero_grad, gradient.disconnected_grad, gradient.consider_constant,
                lambda t: gradient.grad_clip(t, -1, 1), lambda t: gradient.grad_scale(t, 3.0)):
        np.testing.assert_array_equal(fn([x], mod(x) * 2)(v), 2 * v)


def test_zero_grad():
    x = T.dvector()
    cost = T.sum(x * gradient.zero_grad(x) ** 2)
    v = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(fn([x], T.grad(cost, x))(v), v ** 2)
    # The only path is zeroed: connected, zero.
    np.testing.assert_array_equal(fn([x], T.grad(T.sum(gradient.zero_grad(x)), x))(v), np.zeros(3))


def test_disconnected_grad_and_consider_constant():
    x, y = T.dvector(), T.dvector()
    v, w = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, 2.0])
    for mod in (gradient.disconnected_grad, gradient.consider_constant):
        cost = T.sum(x * mod(x * y))
        gx, gy = T.grad(cost, [x, y], disconnected_inputs="ignore")
        got_x, got_y = fn([x, y], [gx, gy])(v, w)
        np.testing.assert_allclose(got_x, v * w)
        np.testing.assert_array_equal(got_y, np.zeros(3))
        with pytest.raises(gradient.DisconnectedInputError):
            T.grad(cost, y)


def test_consider_constant_argument():
    x = T.dvector()
    h = T.exp(x)
    cost = T.sum(h * x)
    v = np.array([0.1, 0.2, -0.3])
    got = fn([x], T.grad(cost, x, consider_constant=[h]))(v)
    np.testing.assert_allclose(got, np.exp(v), rtol=1e-12)
    with pytest.raises(TypeError):
        T.grad(cost, x, consider_constant=[np.ones(3)])


def test_grad_clip():
    x = T.dvector()
    v = np.array([-3.0, 0.2, 0.7, 5.0])
    g = T.grad(T.sum(gradient.grad_clip(x, -1.0, 0.5) ** 2), x)
    np.testing.assert_allclose(fn([x], g)(v), np.clip(2 * v, -1.0, 0.5))
    # Only the gradient through the clipped use is clipped.
    g2 = T.grad(T.sum(gradient.grad_clip(x, -1, 1) * 10 + x * 10), x)
    np.testing.assert_allclose(fn([x], g2)(v), np.full(4, 11.0))
    with pytest.raises(ValueError, match="grad_clip"):
        gradient.grad_clip(x, 1.0, -1.0)


def test_grad_scale():
    x = T.dvector()
    v = np.array([1.0, 2.0])
    g = T.grad(T.sum(gradient.grad_scale(x ** 3, -0.5)), x)
    np.testing.assert_allclose(fn([x], g)(v), -0.5 * 3 * v ** 2)
    gg = T.grad(T.sum(g), x)  # second order goes through the scale too
    np.testing.assert_allclose(fn([x], gg)(v), -0.5 * 6 * v)


def test_known_grads():
    x = T.dvector()
    h = T.tanh(x)
    v = np.array([0.3, -0.4])
    gh = np.array([2.0, -1.0])
    # Known gradient of h, with no cost: chain rule from there.
    g = T.grad(None, x, known_grads={h: T.constant(gh)})
    np.testing.assert_allclose(fn([x], g)(v), gh * (1 - np.tanh(v) ** 2), rtol=1e-12)
    # With a cost as well, the contributions add.
    g2 = T.grad(T.sum(x), x, known_grads={h: gh})
    np.testing.assert_allclose(fn([x], g2)(v), 1 + gh * (1 - np.tanh(v) ** 2), rtol=1e-12)
    with pytest.raises(ValueError, match="rank"):
        T.grad(None, x, known_grads={h: T.constant(np.ones((2, 2)))})
    with pytest.raises(ValueError):
        T.grad(None, x)


def test_grad_names_and_theano_grad_alias():
    x = T.dvector("x")
    cost = T.sum(x ** 2)
    cost.name = "c"
    g = theano.grad(cost, x)
    assert g.name == "(dc/dx)"
    assert T.grad is theano.grad or T.grad is gradient.grad


# ---------------------------------------------------------------------------
# A logistic regression, compiled
# ---------------------------------------------------------------------------

def test_logistic_regression_gradient_matches_numpy():
    r = rng(30)
    n, d = 20, 5
    X = r.normal(size=(n, d))
    y = (r.uniform(size=n) > 0.5).astype(np.float64)
    w0, b0 = r.normal(size=d) * 0.1, 0.05

    x_s, y_s = T.dmatrix("x"), T.dvector("y")
    w = theano.shared(w0.copy(), name="w")
    b = theano.shared(b0, name="b")
    p = T.nnet.sigmoid(T.dot(x_s, w) + b)
    lam = 0.01
    cost = T.mean(T.nnet.binary_crossentropy(p, y_s)) + lam * T.sum(w ** 2)
    gw, gb = T.grad(cost, [w, b])
    f = theano.function([x_s, y_s], [cost, gw, gb])
    c_got, gw_got, gb_got = f(X, y)

    pn = 1 / (1 + np.exp(-(X @ w0 + b0)))
    c_want = np.mean(-(y * np.log(pn) + (1 - y) * np.log(1 - pn))) + lam * np.sum(w0 ** 2)
    np.testing.assert_allclose(c_got, c_want, rtol=1e-12)
    np.testing.assert_allclose(gw_got, X.T @ (pn - y) / n + 2 * lam * w0, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb_got, np.mean(pn - y), rtol=1e-10, atol=1e-14)

    # A few steps of gradient descent through updates lower the cost.
    train = theano.function([x_s, y_s], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    costs = [float(train(X, y)) for _ in range(20)]
    assert costs[-1] < costs[0]
    assert all(c1 <= c0 + 1e-12 for c0, c1 in zip(costs, costs[1:]))


def test_softmax_regression_gradient_matches_numpy():
    r = rng(31)
    X = r.normal(size=(6, 4))
    labels = np.array([0, 2, 1, 2, 0, 1])
    W0 = r.normal(size=(4, 3))
    x_s, y_s, W = T.dmatrix(), T.lvector(), T.dmatrix()
    p = T.nnet.softmax(T.dot(x_s, W))
    cost = T.mean(T.nnet.categorical_crossentropy(p, y_s))
    g = fn([x_s, y_s, W], T.grad(cost, W))(X, labels, W0)
    logits = X @ W0
    pn = np.exp(logits - logits.max(1, keepdims=True))
    pn /= pn.sum(1, keepdims=True)
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose(g, X.T @ (pn - onehot) / 6, rtol=1e-10, atol=1e-14)


def test_jacobian_hessian_options():
    x, y = T.dvector("x"), T.dvector("y")
    v = np.array([0.5, -1.0, 2.0])
    with pytest.raises(gradient.DisconnectedInputError, match="'y'"):
        T.jacobian(T.exp(x), y)
    with pytest.raises(gradient.DisconnectedInputError, match="'y'"):
        T.hessian(T.sum(x ** 3), y)
    J = T.jacobian(T.exp(x), y, disconnected_inputs="ignore")
    np.testing.assert_array_equal(fn([x, y], J)(v, v), np.zeros((3, 3)))
    # consider_constant: h = x ** 2 is held constant in h * x.
    h = x ** 2
    J = T.jacobian(h * x, x, consider_constant=[h])
    np.testing.assert_allclose(fn([x], J)(v), np.diag(v ** 2), rtol=1e-12)
    H = T.hessian(T.sum(h * x), x, consider_constant=[h])
    np.testing.assert_array_equal(fn([x], H)(v), np.zeros((3, 3)))
    # A cost linear in x has a zero Hessian (not a disconnected error).
    np.testing.assert_array_equal(fn([x], T.hessian(T.sum(x * 2.0), x))(v), np.zeros((3, 3)))


def test_gradient_wrt_an_intermediate_variable():
    x = T.dvector()
    y = T.exp(x)
    cost = T.sum(y ** 2 + x)
    gy, gx = T.grad(cost, [y, x])
    v = np.array([0.1, -0.2])
    got_y, got_x = fn([x], [gy, gx])(v)
    np.testing.assert_allclose(got_y, 2 * np.exp(v), rtol=1e-12)
    np.testing.assert_allclose(got_x, 2 * np.exp(2 * v) + 1, rtol=1e-12)
    s = T.dscalar()
    np.testing.assert_equal(fn([s], T.grad(s, s))(3.0), 1.0)


def test_mixed_precision_gradients_take_the_wrt_dtype():
    a, b = T.fvector(), T.dvector()
    cost = T.sum(T.exp(a) * b)
    ga, gb = T.grad(cost, [a, b])
    assert ga.dtype == "float32" and gb.dtype == "float64"
    va, vb = np.array([0.5, 1.5], dtype=np.float32), np.array([2.0, -1.0])
    got_a, got_b = fn([a, b], [ga, gb])(va, vb)
    np.testing.assert_allclose(got_a, np.exp(va.astype(np.float64)) * vb, rtol=1e-6)
    np.testing.assert_allclose(got_b, np.exp(va.astype(np.float64)), rtol=1e-6)
