"""The Theano-shaped Python API: config, variable constructors, operators on variables, a classic program."""
import os
import subprocess
import sys

import numpy as np
import pytest

import theon
import theon as theano
import theon.tensor as T

ENV = dict(os.environ)
ENV["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(theon.__file__)),
                                                 ENV.get("PYTHONPATH", "")] if p)


def run_py(code, **env):
    e = dict(ENV)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=60)


# ---------------------------------------------------------------- config


def test_floatx_default_float32():
    r = run_py("import theon, theon.tensor as T; print(theon.config.floatX, T.matrix().dtype)",
               THEON_FLAGS="")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float32", "float32"]


def test_floatx_from_theon_flags():
    r = run_py("import theon, theon.tensor as T; print(theon.config.floatX, T.matrix().dtype, T.vector().dtype,"
               " T.fmatrix().dtype, theon.shared(1.5).dtype)",
               THEON_FLAGS="floatX=float64")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float64", "float64", "float64", "float32", "float64"]


def test_bad_theon_flags_are_reported():
    r = run_py("import theon", THEON_FLAGS="floatX=float7")
    assert r.returncode != 0
    assert "floatX" in r.stderr and "float7" in r.stderr
    assert "Traceback" in r.stderr  # a Python exception, not a crash


def test_floatx_assignment():
    old = theano.config.floatX
    try:
        theano.config.floatX = "float64"
        assert T.matrix().dtype == "float64"
        assert T.scalar().dtype == "float64"
        assert T.tensor3().dtype == "float64"
        theano.config.floatX = "float32"
        assert T.matrix().dtype == "float32"
        with pytest.raises(ValueError, match="floatX"):
            theano.config.floatX = "int32x"
        assert theano.config.floatX == "float32"
    finally:
        theano.config.floatX = old


def test_change_flags_context():
    old = theano.config.floatX
    with theano.config.change_flags(floatX="float64"):
        assert T.vector().dtype == "float64"
    assert theano.config.floatX == old
    with pytest.raises(AttributeError):
        theano.config.no_such_option  # noqa: B018


def test_floatx_python_float_constants():
    with theano.config.change_flags(floatX="float64"):
        x = T.dscalar()
        assert (x + 1.5).dtype == "float64"
    x = T.fvector()
    assert (x * 1.5).dtype == "float32"  # weak Python scalar keeps the tensor's dtype


def test_get_mode():
    from theon.compile.mode import get_mode, Mode

    assert get_mode("FAST_RUN").name == "FAST_RUN"
    assert isinstance(get_mode(None), Mode)
    m = Mode(name="FAST_COMPILE")
    assert get_mode(m) is m
    assert theano.compile.mode.get_mode("FAST_COMPILE").including("fast_run").name == "FAST_COMPILE"
    with pytest.raises(ValueError, match="unknown mode"):
        get_mode("WARP_SPEED")


# ---------------------------------------------------------------- constructors


@pytest.mark.parametrize("kind,ndim", [("scalar", 0), ("vector", 1), ("matrix", 2), ("row", 2), ("col", 2),
                                       ("tensor3", 3), ("tensor4", 4)])
@pytest.mark.parametrize("prefix,dtype", [("b", "int8"), ("w", "int16"), ("i", "int32"), ("l", "int64"),
                                          ("f", "float32"), ("d", "float64")])
def test_prefixed_constructors(kind, ndim, prefix, dtype):
    v = getattr(T, prefix + kind)("v")
    assert v.dtype == dtype and v.ndim == ndim and v.name == "v"
    vs = getattr(T, prefix + kind + "s")("a", "b", "c")
    assert [x.name for x in vs] == ["a", "b", "c"]
    assert all(x.dtype == dtype and x.ndim == ndim for x in vs)


def test_plain_constructors_and_broadcastable():
    assert T.scalar().broadcastable == ()
    assert T.vector().broadcastable == (False,)
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)
    assert T.matrix("m", dtype="int32").dtype == "int32"
    a, b = T.fvectors("a", "b")
    assert a.name == "a" and b.name == "b" and a is not b
    assert len(T.dmatrices(3)) == 3 if hasattr(T, "dmatrices") else len(T.dmatrixs(3)) == 3
    t = T.tensor("float64", broadcastable=(False, True, False))
    assert t.broadcastable == (False, True, False)
    s = T.tensor("float32", shape=(None, 3))
    assert s.static_shape == (None, 3)
    tt = T.TensorType("float32", (False, False))
    assert tt().type == tt == T.fmatrix().type
    with pytest.raises(TypeError):
        T.fvector(dtype="float64")


def test_variable_names_and_str():
    x = T.fmatrix("x")
    assert str(x) == "x"
    assert "float32" in str(x.type) and "matrix" in str(x.type)
    y = x * 2
    assert y.name is None
    y.name = "y"
    assert y.name == "y"
    s = str(T.exp(T.fmatrix("z")) + 1)
    assert "exp" in s and "z" in s


# ---------------------------------------------------------------- operators


def _f(inputs, out):
    return theano.function(inputs, out)


def test_arithmetic_and_comparisons():
    x, y = T.dvectors("x", "y")
    a, b = np.array([1.0, -2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    cases = [
        (x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (x ** 2, a ** 2), (2 ** x, 2 ** a),
        (abs(x), np.abs(a)), (-x, -a), (x // y, a // b), (x % y, a % b), (1 - x, 1 - a), (3 / x, 3 / a),
        (x < y, a < b), (x <= y, a <= b), (x > y, a > b), (x >= y, a >= b), (T.eq(x, y), a == b),
        (T.neq(x, y), a != b),
    ]
    f = _f([x, y], [c[0] for c in cases])
    for got, (_, want) in zip(f(a, b), cases):
        np.testing.assert_allclose(got, want)
        assert got.dtype == want.dtype


def test_comparison_with_python_scalars_and_bool_ops():
    x = T.ivector("x")
    f = _f([x], [(x > 1) & (x < 4), (x > 1) | (x < 0), ~(x > 1)])
    a = np.array([0, 2, 5, -1], dtype="int32")
    r = f(a)
    np.testing.assert_array_equal(r[0], (a > 1) & (a < 4))
    np.testing.assert_array_equal(r[1], (a > 1) | (a < 0))
    np.testing.assert_array_equal(r[2], ~(a > 1))


def test_variable_methods():
    x = T.dmatrix("x")
    a = np.arange(6.0).reshape(2, 3)
    outs = [x.T, x.dimshuffle(1, 0), x.dimshuffle(0, "x", 1), x.reshape((3, 2)), x.flatten(), x.sum(),
            x.sum(axis=0), x.mean(axis=1), x.max(), x.min(axis=0), x.prod(), x.astype("int32"), x.transpose()]
    want = [a.T, a.T, a[:, None, :], a.reshape(3, 2), a.ravel(), a.sum(), a.sum(0), a.mean(1), a.max(),
            a.min(0), a.prod(), a.astype("int32"), a.T]
    for got, w in zip(_f([x], outs)(a), want):
        np.testing.assert_allclose(got, w)
        assert got.shape == w.shape and got.dtype == w.dtype


def test_dimshuffle_errors():
    x = T.dmatrix("x")
    with pytest.raises((ValueError, IndexError)):
        x.dimshuffle(0, 2)
    with pytest.raises((ValueError, TypeError)):
        x.dimshuffle(0, "y")


def test_shape_inferred_without_computing_x():
    x = T.dmatrix("x")
    y = T.exp(x) + 1
    shape_i = (lambda v, i: v.shape[i]) if hasattr(y.shape, "__getitem__") else T.shape_i
    n = shape_i(y, 0)
    # the shape graph does not contain exp: it reads x's shape only
    f = theano.function([x], [n, y.shape])
    assert "exp" not in f.toposort()
    rn, rs = f(np.zeros((4, 7)))
    assert rn == 4
    np.testing.assert_array_equal(rs, [4, 7])


def test_dot_and_transpose_expression():
    x = T.dmatrix("x")
    w = T.dvector("w")
    f = _f([x, w], T.dot(x, w) + x.T.sum(axis=0))
    a, b = np.arange(6.0).reshape(2, 3), np.array([1.0, 0.5, -1.0])
    np.testing.assert_allclose(f(a, b), a @ b + a.T.sum(0))


def test_variables_are_not_booleans_or_iterable():
    x = T.dvector()
    with pytest.raises(TypeError, match="boolean"):
        bool(x)
    with pytest.raises(TypeError):
        iter(x)
    with pytest.raises(TypeError):
        len(x)


def test_numpy_array_on_the_left():
    x = T.dvector("x")
    a = np.array([1.0, 2.0])
    y = a + x  # numpy defers to Variable
    assert isinstance(y, theano.Variable)
    np.testing.assert_array_equal(_f([x], y)(a), 2 * a)


# ---------------------------------------------------------------- a classic Theano program


def test_logistic_regression_classic():
    rng = np.random.default_rng(0)
    N, feats = 400, 20
    X = rng.standard_normal((N, feats)).astype(theano.config.floatX)
    true_w = rng.standard_normal(feats)
    Y = (X @ true_w > 0).astype(theano.config.floatX)

    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(np.zeros(feats, dtype=theano.config.floatX), name="w")
    b = theano.shared(np.asarray(0.0, dtype=theano.config.floatX), name="b")

    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # probability that target = 1
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    # T.grad is a later issue: the gradient by hand
    n = x.shape[0] if hasattr(x.shape, "__getitem__") else T.shape_i(x, 0)
    err = (p_1 - y) / T.cast(n, theano.config.floatX)  # float32 / int64 would be float64, as in Theano
    gw = T.dot(x.T, err) + 0.02 * w
    gb = err.sum()
    lr = np.asarray(0.5, dtype=theano.config.floatX)

    train = theano.function(inputs=[x, y], outputs=[prediction, cost],
                            updates=((w, w - lr * gw), (b, b - lr * gb)), name="train")
    predict = theano.function(inputs=[x], outputs=prediction)

    costs = [float(train(X, Y)[1]) for _ in range(100)]
    assert costs[0] == pytest.approx(np.log(2), rel=1e-4)
    assert costs[-1] < costs[0] * 0.5
    assert all(c2 <= c1 + 1e-6 for c1, c2 in zip(costs, costs[1:]))
    accuracy = (predict(X) == Y).mean()
    assert accuracy > 0.9
    assert w.get_value().dtype == np.dtype(theano.config.floatX)

    # the hand-written gradient agrees with T.grad where it exists
    if hasattr(T, "grad"):
        auto_gw, auto_gb = T.grad(cost, [w, b])
        check = theano.function([x, y], [gw - auto_gw, gb - auto_gb])
        dw, db = check(X, Y)
        np.testing.assert_allclose(dw, 0, atol=1e-5)
        assert abs(float(db)) < 1e-5

    # the same update by NumPy for one step
    w.set_value(np.zeros(feats, dtype=theano.config.floatX))
    b.set_value(np.asarray(0.0, dtype=theano.config.floatX))
    train(X, Y)
    p = np.full(N, 0.5)
    np.testing.assert_allclose(w.get_value(), -0.5 * (X.T @ ((p - Y) / N)), rtol=1e-4, atol=1e-6)
