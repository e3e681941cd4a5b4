"""verify_grad over every differentiable op, from Python.

The elementwise table is covered row by row (``theon._core.elemwise_names()``):
each row is either differentiable (with an input domain away from poles and
kinks, checked by finite differences on broadcasting shapes) or listed as
having no gradient (checked to give a disconnected or zero gradient). A row in
neither list fails the suite. The other op families follow, one test each.
"""
import numpy as np
import pytest

import theon
import theon.tensor as T
from theon import _core
from theon.gradient import verify_grad
from theon.tensor.nnet import bn
from theon.tensor.signal import pool

RNG_SEED = 1234


def rng(k=0):
    return np.random.default_rng(RNG_SEED + k)


def U(lo, hi):
    return lambda r, shape: r.uniform(lo, hi, size=shape)


def signed(lo, hi):
    """|v| in [lo, hi] with a random sign: away from zero."""
    return lambda r, shape: r.uniform(lo, hi, size=shape) * r.choice([-1.0, 1.0], size=shape)


def vg(fun, pt, **kw):
    kw.setdefault("rng", rng(7))
    verify_grad(fun, [np.asarray(p, dtype=np.float64) for p in pt], **kw)


# ---------------------------------------------------------------------------
# The elementwise table
# ---------------------------------------------------------------------------

N = U(-2, 2)

# name -> input domains (one per input). fun(*xs) defaults to the row applied to xs.
DIFFERENTIABLE = {
    "add": [N, N],
    "sub": [N, N],
    "mul": [N, N],
    "true_div": [N, signed(0.5, 2)],
    "pow": [U(0.5, 2), U(-2, 2)],
    "maximum": None,  # special points below (no ties)
    "minimum": None,
    "mod": None,  # x / y away from integers
    "arctan2": [signed(0.5, 2), signed(0.5, 2)],
    "identity": [N],
    "neg": [N],
    "abs": [signed(0.2, 2)],
    "sqr": [N],
    "reciprocal": [signed(0.5, 2)],
    "sqrt": [U(0.5, 3)],
    "cbrt": [signed(0.5, 3)],
    "exp": [N],
    "exp2": [N],
    "expm1": [N],
    "log": [U(0.5, 3)],
    "log2": [U(0.5, 3)],
    "log10": [U(0.5, 3)],
    "log1p": [U(-0.5, 2)],
    "sin": [N],
    "cos": [N],
    "tan": [U(-1.2, 1.2)],
    "arcsin": [U(-0.8, 0.8)],
    "arccos": [U(-0.8, 0.8)],
    "arctan": [N],
    "sinh": [N],
    "cosh": [N],
    "tanh": [N],
    "arcsinh": [N],
    "arccosh": [U(1.2, 3)],
    "arctanh": [U(-0.8, 0.8)],
    "erf": [N],
    "erfc": [N],
    "erfinv": [U(-0.8, 0.8)],
    "erfcinv": [U(0.2, 1.8)],
    "gamma": [U(0.5, 3)],
    "gammaln": [U(0.5, 3)],
    "psi": [U(0.5, 3)],
    "sigmoid": [N],
    "softplus": [N],
    "softsign": [N],
    "hard_sigmoid": [signed(0.2, 2.3)],  # the slope is 0.2 for |x| < 2.5, 0 outside
    "clip": None,
    "switch_": None,
}

# Rows whose gradient is zero almost everywhere or that have no float output.
NO_GRADIENT = {
    "int_div", "eq", "neq", "lt", "le", "gt", "ge", "and_", "or_", "xor_", "left_shift", "right_shift",
    "logical_and", "logical_or", "logical_xor", "invert", "logical_not", "sgn", "floor", "ceil", "trunc",
    "round_half_to_even", "round_half_away_from_zero", "isnan", "isinf", "isfinite",
}
INTEGER_ONLY = {"and_", "or_", "xor_", "left_shift", "right_shift", "invert"}

ROWS = dict(_core.elemwise_names())


def test_every_row_is_classified():
    missing = [n for n in ROWS if n not in DIFFERENTIABLE and n not in NO_GRADIENT]
    both = [n for n in ROWS if n in DIFFERENTIABLE and n in NO_GRADIENT]
    stale = [n for n in list(DIFFERENTIABLE) + list(NO_GRADIENT) if n not in ROWS]
    assert not missing, f"elemwise rows with no gradient test: {missing}"
    assert not both, both
    assert not stale, f"listed rows that are not in the table: {stale}"


# (shape of each input): broadcasting in both directions and a rank difference.
SHAPES = {1: [[(2, 3)], [(4,)]], 2: [[(2, 3), (2, 3)], [(2, 1), (1, 3)], [(3,), (2, 3)]],
          3: [[(2, 3), (2, 1), (3,)]]}


@pytest.mark.parametrize("name", sorted(n for n, d in DIFFERENTIABLE.items() if d is not None))
def test_elemwise_verify_grad(name):
    fn = getattr(_core, name)
    domains = DIFFERENTIABLE[name]
    for k, shapes in enumerate(SHAPES[ROWS[name]]):
        r = rng(k)
        pt = [dom(r, s) for dom, s in zip(domains, shapes)]
        vg(lambda *xs: fn(*xs), pt)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_elemwise_extrema_verify_grad(name):
    r = rng(1)
    x = r.uniform(-2, 2, size=(2, 3))
    y = x + signed(0.2, 1)(r, (2, 3))  # never tied
    vg(getattr(_core, name), [x, y])
    vg(getattr(_core, name), [x, y[:1]])  # broadcast y


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_elemwise_extrema_ties(name):
    # Where x == y the first input gets the whole gradient (Theano's Maximum/Minimum).
    x, y = T.dvector(), T.dvector()
    z = getattr(_core, name)(x, y)
    gx, gy = T.grad(T.sum(z), [x, y])
    f = theon.function([x, y], [gx, gy])
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 5.0])
    ga, gb = f(a, b)
    pick = (a >= b) if name == "maximum" else (a <= b)
    np.testing.assert_array_equal(ga, pick.astype(float))
    np.testing.assert_array_equal(gb, 1.0 - pick)


def test_elemwise_mod_verify_grad():
    r = rng(2)
    y = r.uniform(1.5, 2.5, size=(2, 3))
    x = y * (r.integers(-2, 3, size=(2, 3)) + r.uniform(0.2, 0.8, size=(2, 3)))
    vg(_core.mod, [x, y])


def test_elemwise_clip_verify_grad():
    # x below, inside and above [lo, hi], away from the bounds; gradients w.r.t. the bounds too.
    x = np.array([[-3.0, 0.1, 3.0], [-2.5, -0.2, 2.2]])
    lo = np.array([-1.0, -1.2, -0.8])
    hi = np.array([[1.0], [1.5]])
    vg(_core.clip, [x, lo, hi])


def test_elemwise_switch_verify_grad():
    c = np.array([[1.0, -1.0, 2.0], [0.0, 3.0, -0.5]])  # nonzero = true; 0 is false, changes are zero-gradient
    c[1, 0] = 0.0
    r = rng(3)
    a, b = r.normal(size=(2, 3)), r.normal(size=(3,))
    vg(lambda a, b: _core.switch_(T.constant(c), a, b), [a, b])
    # A float condition is connected with a zero gradient (Theano's Switch).
    cv, av, bv = T.dmatrix(), T.dmatrix(), T.dvector()
    g = T.grad(T.sum(_core.switch_(cv, av, bv)), cv)
    got = theon.function([cv, av, bv], g, on_unused_input="ignore")(c, a, b)
    np.testing.assert_array_equal(got, np.zeros((2, 3)))
    ga, gb = T.grad(T.sum(_core.switch_(cv, av, bv)), [av, bv])
    f = theon.function([cv, av, bv], [ga, gb])
    ga_v, gb_v = f(c, a, b)
    np.testing.assert_array_equal(ga_v, (c != 0).astype(float))
    np.testing.assert_array_equal(gb_v, (c == 0).sum(0).astype(float))


def _no_grad_inputs(name):
    arity = ROWS[name]
    if name in INTEGER_ONLY:
        xs = [T.lmatrix() for _ in range(arity)]
        vals = [np.array([[1, 2], [3, 4]])] * arity
    else:
        xs = [T.dmatrix() for _ in range(arity)]
        vals = [np.array([[0.3, -1.7], [2.5, 4.0]]) * (i + 1) for i in range(arity)]
    return xs, vals


@pytest.mark.parametrize("name", sorted(NO_GRADIENT))
def test_elemwise_no_gradient(name):
    """The gradient through the row is disconnected (grad raises under 'raise') or identically zero."""
    xs, vals = _no_grad_inputs(name)
    out = getattr(_core, name)(*xs)
    cost = T.sum(T.cast(out, "float64"))
    for x in xs:
        try:
            g = T.grad(cost, x)
        except ValueError as e:
            assert "not part of the computational graph" in str(e), str(e)
            g = T.grad(cost, x, disconnected_inputs="ignore")
        got = theon.function(xs, g, on_unused_input="ignore")(*vals)
        assert got.shape == vals[0].shape
        np.testing.assert_array_equal(got, np.zeros(vals[0].shape))


def test_elemwise_psi_gradient_is_trigamma():
    special = pytest.importorskip("scipy.special")
    x = np.array([1e-3, 0.3, 1.0, 2.5, 6.0, 40.0, 1e4, -0.3, -1.5, -7.25])
    v = T.dvector()
    got = theon.function([v], T.grad(T.sum(_core.psi(v)), v))(x)
    np.testing.assert_allclose(got, special.polygamma(1, x), rtol=1e-9)
    f = T.fvector()
    got32 = theon.function([f], T.grad(T.sum(_core.psi(f)), f))(x[:7].astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, special.polygamma(1, x[:7]), rtol=1e-5)


def test_elemwise_psi_second_derivative():
    # psi' is trigamma; its own derivative must also be right.
    x = np.array([0.6, 1.3, 2.7, 7.5, 25.0])
    vg(lambda v: T.grad(T.sum(_core.psi(v)), v), [x])


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------

AXES = [None, 0, 1, (0, 2), (2, 0), -1, (0, 1, 2)]


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "var", "std", "logsumexp"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_verify_grad(op, keepdims):
    fn = getattr(T, op)
    r = rng(4)
    x = r.uniform(0.5, 1.5, size=(2, 3, 2)) * r.choice([-1, 1], size=(2, 3, 2))
    for axis in AXES:
        vg(lambda v: fn(v, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("op", ["var", "std"])
def test_reduction_ddof_verify_grad(op):
    x = rng(5).normal(size=(3, 4))
    vg(lambda v: getattr(T, op)(v, axis=1, ddof=1), [x])


def test_prod_with_zeros():
    x = np.array([[0.0, 2.0, 3.0], [1.5, -2.0, 0.5], [0.0, 0.0, 4.0]])
    vg(lambda v: T.prod(v, axis=1), [x])
    vg(lambda v: T.prod(v, axis=0), [x])
    vg(lambda v: T.prod(v), [x[1:2]])
    # Closed form: one zero -> product of the others at the zero, 0 elsewhere; two zeros -> all 0.
    v = T.dmatrix()
    g = theon.function([v], T.grad(T.sum(T.prod(v, axis=1)), v))(x)
    np.testing.assert_allclose(g, [[6.0, 0, 0], [-1.0, 0.75, -3.0], [0, 0, 0]])


@pytest.mark.parametrize("op", ["max", "min"])
def test_extremum_verify_grad_and_ties(op):
    r = rng(6)
    x = r.permutation(24).reshape(2, 3, 4).astype(float) * 0.3  # distinct values: no ties
    for axis in [None, 1, (0, 2), -1]:
        for keepdims in (False, True):
            vg(lambda v: getattr(T, op)(v, axis=axis, keepdims=keepdims), [x])
    # Ties: every element equal to the extremum gets the gradient (Theano).
    v = T.dmatrix()
    a = np.array([[3.0, 1.0, 3.0], [-2.0, -2.0, 0.0]])
    g = theon.function([v], T.grad(T.sum(getattr(T, op)(v, axis=1) * np.array([2.0, 5.0])), v))(a)
    want = np.zeros_like(a)
    ext = a.max(1) if op == "max" else a.min(1)
    want[a == ext[:, None]] = 1
    np.testing.assert_array_equal(g, want * np.array([[2.0], [5.0]]))


def test_argmax_has_no_gradient():
    v = T.dmatrix()
    with pytest.raises(ValueError, match="not part of the computational graph"):
        T.grad(T.sum(T.cast(T.argmax(v, axis=1), "float64")), v)


# ---------------------------------------------------------------------------
# Shape ops
# ---------------------------------------------------------------------------

X234 = rng(8).normal(size=(2, 3, 4))


@pytest.mark.parametrize("fun", [
    lambda v: T.reshape(v, (4, 6)),
    lambda v: T.reshape(v, (-1, 2)),
    lambda v: T.flatten(v),
    lambda v: T.flatten(v, 2),
    lambda v: v.dimshuffle(2, "x", 0, 1),
    lambda v: T.addbroadcast(v[:, :1, :], 1).dimshuffle(0, 2),
    lambda v: T.transpose(v),
    lambda v: T.transpose(v, (1, 2, 0)),
    lambda v: T.concatenate([v, 2 * v[:, :2]], axis=1),
    lambda v: T.concatenate([v[0], v[1]], axis=-1),
    lambda v: T.stack([v, T.sin(v)], axis=1),
    lambda v: T.stack([v[0, 0], v[1, 2]]),
    lambda v: T.split(v, [1, 3], 2, axis=2)[1] * 3,
    lambda v: T.concatenate(T.split(v, [1, 1], 2, axis=0)[::-1], axis=0) * np.arange(24.0).reshape(2, 3, 4),
    lambda v: T.tile(v, (2, 1, 3)),
    lambda v: T.tile(v[0], (2, 2, 1)),
    lambda v: T.repeat(v, 3, axis=1),
    lambda v: T.repeat(v, [1, 0, 2], axis=1),
    lambda v: T.repeat(v, 2),
    lambda v: T.roll(v, 2, axis=2),
    lambda v: T.roll(v, (1, -1), axis=(0, 2)),
    lambda v: T.roll(v, 5),
    lambda v: T.flip(v, 1),
    lambda v: T.flip(v),
    lambda v: T.broadcast_to(v[:, :1, :], (5, 2, 3, 4)),
    lambda v: T.expand_dims(v, 1),
    lambda v: T.squeeze(v[:, :1]),
])
def test_shape_op_verify_grad(fun):
    vg(fun, [X234])


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------

X45 = rng(9).normal(size=(4, 5))


@pytest.mark.parametrize("fun", [
    lambda v: v[1:3],
    lambda v: v[::-1, 1::2],
    lambda v: v[3:0:-2, ::-3],
    lambda v: v[-1],
    lambda v: v[2, -2],
    lambda v: v[None, ..., 1],
    lambda v: v[[0, 2, 0, 3]],
    lambda v: v[[0, 2, 2], [4, 1, 4]],
    lambda v: v[:, [1, 1, 3]],
    lambda v: v[np.array([[0, 1], [3, 3]])],
    lambda v: v[X45 > 0],
    lambda v: v[np.array([True, False, True, True])],
    lambda v: v[1:, [0, 0, 4]],
    lambda v: T.take(v, [1, 1, 3]),
    lambda v: T.take(v, [4, 0, 4], axis=1),
    lambda v: T.take(v, np.array([[3, 0], [0, 3]]), axis=0),
])
def test_indexing_verify_grad(fun):
    vg(fun, [X45])


def test_symbolic_index():
    i = T.lscalar()
    v = T.dmatrix()
    g = T.grad(T.sum(v[i] ** 2), v)
    got = theon.function([v, i], g)(X45, 2)
    want = np.zeros_like(X45)
    want[2] = 2 * X45[2]
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("case", ["basic", "neg_step", "advanced_rep", "advanced_2d", "mask", "broadcast_y"])
@pytest.mark.parametrize("mode", ["set", "inc"])
def test_set_inc_subtensor_verify_grad(case, mode):
    write = T.set_subtensor if mode == "set" else T.inc_subtensor
    y = {"basic": rng(10).normal(size=(2, 5)), "neg_step": rng(10).normal(size=(2, 3)),
         "advanced_rep": rng(10).normal(size=(4, 5)), "advanced_2d": rng(10).normal(size=(3,)),
         "mask": rng(10).normal(size=(int((X45 > 0).sum()),)), "broadcast_y": rng(10).normal(size=(1, 5))}[case]
    index = {"basic": lambda v: v[1:3], "neg_step": lambda v: v[::-2, 4:1:-1],
             "advanced_rep": lambda v: v[[0, 2, 0, 0]], "advanced_2d": lambda v: v[[1, 1, 3], [0, 0, 2]],
             "mask": lambda v: v[X45 > 0], "broadcast_y": lambda v: v[[3, 1, 3]]}[case]
    vg(lambda v, w: write(index(v), w) * np.arange(1.0, 21.0).reshape(4, 5), [X45, y])


def test_set_subtensor_repeated_indices_last_write_wins():
    v, w = T.dmatrix(), T.dmatrix()
    out = T.set_subtensor(v[[0, 2, 0]], w)
    gv, gw = T.grad(T.sum(out * np.arange(20.0).reshape(4, 5)), [v, w])
    a, b = theon.function([v, w], [gv, gw])(X45, np.ones((3, 5)))
    want_v = np.arange(20.0).reshape(4, 5)
    want_v[[0, 2]] = 0
    np.testing.assert_array_equal(a, want_v)
    want_w = np.zeros((3, 5))
    want_w[1] = np.arange(10.0, 15.0)
    want_w[2] = np.arange(0.0, 5.0)
    np.testing.assert_array_equal(b, want_w)


def test_inc_subtensor_repeated_indices_accumulate():
    v, w = T.dvector(), T.dvector()
    out = T.inc_subtensor(v[[1, 1, 3, 1]], w)
    gv, gw = T.grad(T.sum(out * np.array([1.0, 2, 3, 4, 5])), [v, w])
    a, b = theon.function([v, w], [gv, gw])(np.zeros(5), np.ones(4))
    np.testing.assert_array_equal(a, [1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(b, [2.0, 2, 4, 2])


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------

def _r(k, *shape):
    return rng(20 + k).normal(size=shape)


@pytest.mark.parametrize("fun,shapes", [
    (T.dot, [(3, 4), (4, 2)]),
    (T.dot, [(4,), (4, 2)]),
    (T.dot, [(3, 4), (4,)]),
    (T.dot, [(4,), (4,)]),
    (T.dot, [(2, 3, 4), (4, 2)]),
    (T.dot, [(2, 3), (4, 3, 2)]),
    (T.matmul, [(2, 3, 4), (4, 2)]),
    (T.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    (T.matmul, [(4,), (2, 4, 3)]),
    (T.matmul, [(2, 3, 4), (4,)]),
    (lambda a, b: T.tensordot(a, b, 1), [(2, 3), (3, 4)]),
    (lambda a, b: T.tensordot(a, b, [[0, 2], [2, 0]]), [(2, 3, 4), (4, 2, 2)]),
    (lambda a, b: T.tensordot(a, b, 0), [(2,), (3,)]),
    (T.batched_dot, [(3, 2, 4), (3, 4, 2)]),
    (T.batched_dot, [(3, 4), (3, 4)]),
    (T.batched_dot, [(3, 2, 4), (3, 4)]),
    (T.outer, [(3,), (4,)]),
    (T.outer, [(2, 2), (3,)]),
], ids=lambda v: str(v) if isinstance(v, list) else getattr(v, "__name__", "fn"))
def test_products_verify_grad(fun, shapes):
    vg(fun, [_r(i, *s) for i, s in enumerate(shapes)])


# ---------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------

def _well_conditioned(k, n=3, batch=()):
    a = rng(30 + k).normal(size=batch + (n, n))
    return a + 3 * np.eye(n)


def _sym_pd(v):
    vt = T.transpose(v, tuple(range(v.ndim - 2)) + (v.ndim - 1, v.ndim - 2))
    return T.matmul(v, vt) + 0.5 * np.eye(3)


@pytest.mark.parametrize("fun", [
    lambda a: T.nlinalg.matrix_inverse(a),
    lambda a: T.nlinalg.det(a),
    lambda a: T.log(T.abs(T.nlinalg.det(a))),
    lambda a: T.slinalg.cholesky(_sym_pd(a)),
    lambda a: T.slinalg.cholesky(_sym_pd(a), lower=False),
    lambda a: T.nlinalg.eigh(_sym_pd(a))[0],
    # Eigenvectors are defined up to sign: v diag(w^2) v^T and |v| v^T-free products are sign-free.
    lambda a: T.dot(T.nlinalg.eigh(_sym_pd(a))[1] * T.nlinalg.eigh(_sym_pd(a))[0] ** 2,
                    T.transpose(T.nlinalg.eigh(_sym_pd(a))[1])),
    lambda a: T.nlinalg.eigh(_sym_pd(a))[1] ** 2,
    lambda a: T.nlinalg.trace(a),
    lambda a: T.nlinalg.extract_diag(a, 1),
    lambda a: T.nlinalg.pinv(a),
])
def test_linalg_unary_verify_grad(fun):
    vg(fun, [_well_conditioned(0)])


@pytest.mark.parametrize("fun", [
    lambda a: T.nlinalg.matrix_inverse(a),
    lambda a: T.nlinalg.det(a),
    lambda a: T.slinalg.cholesky(_sym_pd(a)),
])
def test_linalg_batched_verify_grad(fun):
    vg(fun, [_well_conditioned(1, batch=(2,))])


@pytest.mark.parametrize("assume_a", ["gen", "sym", "pos"])
@pytest.mark.parametrize("bshape", [(3,), (3, 2)])
def test_solve_verify_grad(assume_a, bshape):
    a = _well_conditioned(2)
    b = rng(3).normal(size=bshape)
    if assume_a == "gen":
        vg(lambda m, v: T.slinalg.solve(m, v), [a, b])
    else:
        vg(lambda m, v: T.slinalg.solve(_sym_pd(m), v, assume_a=assume_a), [a, b])


@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular_verify_grad(lower):
    a = _well_conditioned(3)
    a = np.tril(a) if lower else np.triu(a)
    b = rng(4).normal(size=(3, 2))
    vg(lambda m, v: T.slinalg.solve_triangular(m, v, lower=lower), [a, b])


def test_alloc_diag_verify_grad():
    vg(lambda v: T.nlinalg.alloc_diag(v, 1) * np.arange(16.0).reshape(4, 4), [rng(5).normal(size=3)])


# ---------------------------------------------------------------------------
# Sorting and scans
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fun", [
    lambda v: T.sort(v),
    lambda v: T.sort(v, axis=0),
    lambda v: T.sort(v, axis=None),
    lambda v: T.cumsum(v),
    lambda v: T.cumsum(v, axis=0),
    lambda v: T.cumsum(v, axis=-1),
    lambda v: T.cumprod(v, axis=1),
    lambda v: T.cumprod(v),
    lambda v: T.diff(v, 2, axis=1),
])
def test_sort_scan_verify_grad(fun):
    vg(fun, [rng(40).permutation(12).reshape(3, 4) * 0.25 + 0.1])


def test_cumprod_with_zeros_verify_grad():
    x = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [2.0, -0.5, 1.5, 0.0]])
    vg(lambda v: T.cumprod(v, axis=1), [x])
    vg(lambda v: T.cumprod(v, axis=0), [x])


# ---------------------------------------------------------------------------
# nnet
# ---------------------------------------------------------------------------

def test_softmax_family_verify_grad():
    x = rng(50).normal(size=(3, 4))
    vg(T.nnet.softmax, [x])
    vg(lambda v: T.nnet.softmax(v, axis=0), [x])
    vg(T.nnet.log_softmax, [x])
    vg(lambda v: T.nnet.log_softmax(v, axis=0), [x])
    vg(T.nnet.sigmoid, [x])
    vg(T.nnet.softplus, [x])
    vg(lambda v: T.nnet.relu(v), [np.where(np.abs(x) < 0.1, 0.5, x)])
    vg(lambda v: T.nnet.relu(v, 0.1), [np.where(np.abs(x) < 0.1, 0.5, x)])
    vg(lambda v: T.nnet.elu(v), [np.where(np.abs(x) < 0.1, 0.5, x)])
    vg(lambda v: T.nnet.selu(v), [np.where(np.abs(x) < 0.1, 0.5, x)])


def test_categorical_crossentropy_both_forms():
    x = rng(51).normal(size=(3, 4))
    onehot_idx = np.array([0, 3, 3])
    dist = rng(52).dirichlet(np.ones(4), size=3)
    vg(lambda v: T.nnet.categorical_crossentropy(T.nnet.softmax(v), onehot_idx), [x])
    vg(lambda v: T.nnet.categorical_crossentropy(T.nnet.softmax(v), dist), [x])
    # The target distribution is differentiable too (the dense form).
    vg(lambda v, t: T.nnet.categorical_crossentropy(T.nnet.softmax(v), t), [x, dist])
    # Direct on coding_dist (no softmax), both forms, and second order through the 1-hot op.
    p = rng(53).uniform(0.2, 0.9, size=(3, 4))
    vg(lambda c: T.nnet.categorical_crossentropy(c, onehot_idx), [p])
    vg(lambda c: T.nnet.categorical_crossentropy(c, dist), [p])
    vg(lambda c: T.grad(T.sum(T.nnet.categorical_crossentropy(c, onehot_idx) ** 2), c), [p])


def test_binary_crossentropy_verify_grad():
    p = rng(54).uniform(0.1, 0.9, size=(3, 4))
    t = rng(55).uniform(0, 1, size=(3, 4))
    vg(T.nnet.binary_crossentropy, [p, t])
    vg(lambda v: T.nnet.binary_crossentropy(T.nnet.sigmoid(v), t), [rng(56).normal(size=(3, 4))])
    vg(T.nnet.sigmoid_binary_crossentropy, [rng(56).normal(size=(3, 4)), t])


CONV_CASES = [
    dict(border_mode="valid"),
    dict(border_mode="full"),
    dict(border_mode="half"),
    dict(border_mode=1),
    dict(border_mode=(2, 0)),
    dict(border_mode="valid", subsample=(2, 2)),
    dict(border_mode="full", subsample=(2, 1)),
    dict(border_mode="half", filter_dilation=(2, 1)),
    dict(border_mode=(1, 2), subsample=(2, 2), filter_dilation=(1, 2)),
    dict(border_mode="valid", filter_flip=False),
]


@pytest.mark.parametrize("kw", CONV_CASES, ids=str)
def test_conv2d_verify_grad(kw):
    x = rng(60).normal(size=(2, 2, 5, 6))
    w = rng(61).normal(size=(3, 2, 3, 2))
    vg(lambda a, b: T.nnet.conv2d(a, b, **kw), [x, w])


def test_conv2d_groups_verify_grad():
    x = rng(62).normal(size=(1, 4, 4, 4))
    w = rng(63).normal(size=(2, 2, 2, 2))
    vg(lambda a, b: T.nnet.conv2d(a, b, num_groups=2), [x, w])


def test_conv2d_second_order():
    x = rng(64).normal(size=(1, 1, 4, 4))
    w = rng(65).normal(size=(2, 1, 2, 2))
    vg(lambda a, b: T.grad(T.sum(T.nnet.conv2d(a, b, border_mode="full") ** 2), a), [x, w])
    vg(lambda a, b: T.grad(T.sum(T.nnet.conv2d(a, b, subsample=(2, 2)) ** 2), b), [x, w])


POOL_CASES = [
    dict(ws=(2, 2)),
    dict(ws=(2, 2), stride=(1, 1)),
    dict(ws=(3, 2), ignore_border=False),
    dict(ws=(2, 2), pad=(1, 1)),
    dict(ws=(3, 3), stride=(2, 1), pad=(1, 0)),
]


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("kw", POOL_CASES, ids=str)
def test_pool_2d_verify_grad(mode, kw):
    x = rng(70).permutation(2 * 5 * 5).reshape(1, 2, 5, 5) * 0.1  # distinct values: no max ties
    vg(lambda a: pool.pool_2d(a, mode=mode, **kw), [x])


def test_pool_2d_max_second_order():
    x = rng(71).permutation(36).reshape(1, 1, 6, 6) * 0.1
    vg(lambda a: T.grad(T.sum(pool.pool_2d(a, (2, 2), mode="max") ** 2), a), [x])
    vg(lambda a: T.grad(T.sum(pool.pool_2d(a, (2, 2), mode="average_exc_pad", pad=(1, 1)) ** 2), a), [x])


def test_batch_normalization_verify_grad():
    r = rng(80)
    x = r.normal(size=(4, 3))
    gamma, beta = r.normal(size=(3,)), r.normal(size=(3,))
    mean, std = r.normal(size=(3,)), r.uniform(0.5, 2, size=(3,))
    vg(lambda a, g, b, m, s: bn.batch_normalization(a, g, b, m, s), [x, gamma, beta, mean, std])
    vg(lambda a, g, b: bn.batch_normalization_train(a, g, b)[0], [x, gamma, beta])
    x4 = r.normal(size=(2, 3, 2, 2))
    g4, b4 = r.normal(size=(1, 3, 1, 1)), r.normal(size=(1, 3, 1, 1))
    vg(lambda a, g, b: bn.batch_normalization_train(a, g, b, axes="spatial")[0], [x4, g4, b4])
    vg(lambda a, g, b, m, v: bn.batch_normalization_test(a, g, b, m, v, axes="spatial"),
       [x4, g4, b4, r.normal(size=(1, 3, 1, 1)), r.uniform(0.5, 2, size=(1, 3, 1, 1))])
