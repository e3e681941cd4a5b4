"""Property tests of the elementwise table against NumPy / SciPy.

Every row of ``theon._core.elemwise_names()`` has an oracle below; a row
without one fails ``test_every_row_has_an_oracle``. Hypothesis draws the
dtypes of the operands (all twelve NumPy dtypes), broadcasting shapes
(0-d and empty included), values (edges, NaN, infinities) and memory layouts
(C, Fortran, negative strides, strided views); theon must give NumPy's values
and NumPy's result dtype.

Documented differences from the oracle (asserted explicitly, not skipped):
- SciPy's special functions compute float16 in float64 and return float64;
  theon keeps float16 (rows erf ... psi, sigmoid and the other DIV rows).
- softplus, softsign and hard_sigmoid have no NumPy ufunc; they follow the
  DIV rule (float dtypes kept, integers and bool to float64).
- round_half_to_even on bool keeps bool (as np.floor/ceil/trunc do); np.round
  gives float16 there.
"""
import math

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import theon
import theon.tensor as T
from theon import _core

from conftest import (ALL_DTYPES, DERANDOMIZE, assert_close, compile_and_run, dtypes, examples, laid_out_arrays,
                      symbolic)

ROWS = dict(_core.elemwise_names())


def _round_half_away(x):
    x = np.asarray(x)
    if x.dtype.kind not in "f":
        return x.copy()
    t = np.trunc(x)
    frac = x - t  # exact in the same dtype
    return t + np.where(np.abs(frac) >= 0.5, np.sign(x), 0).astype(x.dtype)


def _f64(fn):
    """An oracle computed in float64 (for rows that are no NumPy ufunc)."""
    return lambda *a: fn(*[np.asarray(v, dtype=np.float64) for v in a])


def _np_int_reciprocal(x):
    # NumPy computes integer reciprocal as (int)(1.0 / x): for x == 0 that is a
    # cast of inf, undefined in C and different per integer width (0 for int8,
    # INT_MIN for int32). Those elements are compared only for floats.
    return np.reciprocal(x)


class Oracle:
    """fn: the reference; family: 'np' (NumPy ufunc: its dtype is the reference),
    'scipy' (SciPy ufunc: float16 stays float16 in theon) or 'f64' (computed in
    float64, result dtype by the DIV rule)."""

    def __init__(self, fn, family="np", rtol=None, atol=0.0, avoid_zero_int=False):
        self.fn, self.family, self.rtol, self.atol, self.avoid_zero_int = fn, family, rtol, atol, avoid_zero_int

    def expected_dtype(self, in_dtypes, np_dtype):
        if self.family == "np":
            return np.dtype(np_dtype)
        floats = [np.dtype(d) for d in in_dtypes if np.dtype(d).kind == "f"]
        if not floats:
            return np.dtype("float64")
        return np.result_type(*floats)


ORACLE = {
    "add": Oracle(np.add),
    "sub": Oracle(np.subtract),
    "mul": Oracle(np.multiply),
    "true_div": Oracle(np.true_divide),
    "int_div": Oracle(np.floor_divide),
    "mod": Oracle(np.remainder),
    "pow": Oracle(np.power),
    "maximum": Oracle(np.maximum),
    "minimum": Oracle(np.minimum),
    "arctan2": Oracle(np.arctan2),
    "eq": Oracle(np.equal),
    "neq": Oracle(np.not_equal),
    "lt": Oracle(np.less),
    "le": Oracle(np.less_equal),
    "gt": Oracle(np.greater),
    "ge": Oracle(np.greater_equal),
    "and_": Oracle(np.bitwise_and),
    "or_": Oracle(np.bitwise_or),
    "xor_": Oracle(np.bitwise_xor),
    "left_shift": Oracle(np.left_shift),
    "right_shift": Oracle(np.right_shift),
    "logical_and": Oracle(np.logical_and),
    "logical_or": Oracle(np.logical_or),
    "logical_xor": Oracle(np.logical_xor),
    "invert": Oracle(np.invert),
    "logical_not": Oracle(np.logical_not),
    "identity": Oracle(lambda x: np.array(x, copy=True)),
    "neg": Oracle(np.negative),
    "abs": Oracle(np.abs),
    "sgn": Oracle(np.sign),
    "floor": Oracle(np.floor),
    "ceil": Oracle(np.ceil),
    "trunc": Oracle(np.trunc),
    # np.round is half-to-even and keeps integer dtypes (np.rint would give floats);
    # on bool it gives float16, theon keeps bool (see the module docstring).
    "round_half_to_even": Oracle(lambda x: np.round(x) if np.asarray(x).dtype != bool else np.array(x, copy=True)),
    "round_half_away_from_zero": Oracle(_round_half_away),
    "sqr": Oracle(np.square),
    "reciprocal": Oracle(_np_int_reciprocal, avoid_zero_int=True),
    "sqrt": Oracle(np.sqrt),
    "cbrt": Oracle(np.cbrt),
    "exp": Oracle(np.exp),
    "exp2": Oracle(np.exp2),
    "expm1": Oracle(np.expm1),
    "log": Oracle(np.log),
    "log2": Oracle(np.log2),
    "log10": Oracle(np.log10),
    "log1p": Oracle(np.log1p),
    "sin": Oracle(np.sin),
    "cos": Oracle(np.cos),
    "tan": Oracle(np.tan),
    "arcsin": Oracle(np.arcsin),
    "arccos": Oracle(np.arccos),
    "arctan": Oracle(np.arctan),
    "sinh": Oracle(np.sinh),
    "cosh": Oracle(np.cosh),
    "tanh": Oracle(np.tanh),
    "arcsinh": Oracle(np.arcsinh),
    "arccosh": Oracle(np.arccosh),
    "arctanh": Oracle(np.arctanh),
    "erf": Oracle(sps.erf, "scipy"),
    "erfc": Oracle(sps.erfc, "scipy"),
    "erfinv": Oracle(sps.erfinv, "scipy", rtol=1e-10),
    "erfcinv": Oracle(sps.erfcinv, "scipy", rtol=1e-10),
    "gamma": Oracle(sps.gamma, "scipy", rtol=1e-10),
    "gammaln": Oracle(sps.gammaln, "scipy", rtol=1e-10),
    "psi": Oracle(sps.psi, "scipy", rtol=1e-10),
    "sigmoid": Oracle(sps.expit, "scipy"),
    "softplus": Oracle(_f64(lambda x: np.logaddexp(0.0, x)), "f64"),
    "softsign": Oracle(_f64(lambda x: x / (1.0 + np.abs(x))), "f64"),
    "hard_sigmoid": Oracle(_f64(lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0)), "f64"),
    "isnan": Oracle(np.isnan),
    "isinf": Oracle(np.isinf),
    "isfinite": Oracle(np.isfinite),
    "clip": Oracle(np.clip),
    "switch_": Oracle(np.where),
}

NAMES = sorted(ROWS)


def test_every_row_has_an_oracle():
    assert set(ROWS) - set(ORACLE) == set(), "rows of elemwise.def without a NumPy/SciPy oracle"
    assert set(ORACLE) - set(ROWS) == set(), "oracles for rows that no longer exist"
    for name, arity in ROWS.items():
        assert callable(getattr(_core, name)), name
        assert arity in (1, 2, 3)


def _theon_expr(name, variables):
    return getattr(_core, name)(*variables)


def _oracle_dtype(name, in_dtypes):
    """(expected dtype, None) or (None, the exception NumPy raises) for these input dtypes."""
    o = ORACLE[name]
    ones = [np.ones(1, dtype=d) for d in in_dtypes]
    try:
        with np.errstate(all="ignore"):
            r = np.asarray(o.fn(*ones))
    except (TypeError, ValueError) as e:
        return None, e
    return o.expected_dtype(in_dtypes, r.dtype), None


def _dtype_combos(arity):
    if arity == 1:
        return [(d,) for d in ALL_DTYPES]
    if arity == 2:
        return [(a, b) for a in ALL_DTYPES for b in ALL_DTYPES]
    # three operands: every pair for the two value operands, and a few third dtypes
    return [(a, b, c) for a in ALL_DTYPES for b in ALL_DTYPES for c in ("bool", "int8", "uint64", "float32")]


@pytest.mark.parametrize("name", NAMES)
def test_result_dtype_every_combination(name):
    """The table's type rule equals NumPy's for every combination of input dtypes."""
    bad = []
    for combo in _dtype_combos(ROWS[name]):
        want, err = _oracle_dtype(name, combo)
        variables = [T.tensor(d, shape=(None,)) for d in combo]
        try:
            got = np.dtype(_theon_expr(name, variables).dtype)
        except (TypeError, ValueError) as e:
            if err is None:
                bad.append(f"{combo}: theon raised {e!r}, NumPy gives {want}")
            continue
        if err is not None:
            bad.append(f"{combo}: theon gives {got}, NumPy raises {err!r}")
        elif got != want:
            bad.append(f"{combo}: theon gives {got}, expected {want}")
    assert not bad, f"{name}:\n" + "\n".join(bad)


def _draw_case(data, name):
    arity = ROWS[name]
    dts = [data.draw(dtypes, label=f"dtype{i}") for i in range(arity)]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=arity, min_dims=0, max_dims=3,
                                                         min_side=0, max_side=4), label="shapes").input_shapes
    arrays = [data.draw(laid_out_arrays(d, s), label=f"x{i}") for i, (d, s) in enumerate(zip(dts, shapes))]
    if ORACLE[name].avoid_zero_int:
        arrays = [np.where(a == 0, np.ones((), a.dtype), a) if a.dtype.kind in "biu" else a for a in arrays]
    static = data.draw(st.booleans(), label="static shapes")
    return dts, arrays, static


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(40), deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=st.data())
def test_values_match_oracle(name, data):
    dts, arrays, static = _draw_case(data, name)
    o = ORACLE[name]
    with np.errstate(all="ignore"):
        try:
            want = np.asarray(o.fn(*arrays))
            np_err = None
        except (TypeError, ValueError) as e:
            np_err = e
    variables = [symbolic(d, a.shape, static) for d, a in zip(dts, arrays)]
    if np_err is not None:
        # NumPy refuses the dtypes (bool subtract, float bitwise) or the values
        # (integer to a negative power): theon must refuse too.
        with pytest.raises((TypeError, ValueError)):
            compile_and_run(variables, arrays, _theon_expr(name, variables))
        return
    expr = _theon_expr(name, variables)
    got = compile_and_run(variables, arrays, expr)
    want_dtype = o.expected_dtype(dts, want.dtype)
    assert got.dtype == want_dtype, f"{name}{tuple(dts)}: dtype {got.dtype}, expected {want_dtype}"
    assert got.shape == want.shape
    assert_close(got, want, want_dtype, rtol=o.rtol if o.rtol and want_dtype == np.float64 else None,
                 atol=o.atol, err_msg=f"{name}{tuple(dts)} inputs={arrays!r}")


# ---------------------------------------------------------------- every row on a grid of edge values


def _grid(dtype):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.array([False, True])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        vals = [info.min, info.min + 1, -3, -2, -1, 0, 1, 2, 3, 7, info.max - 1, info.max]
        return np.array(sorted({v for v in vals if info.min <= v <= info.max}), dtype=dt)
    fi = np.finfo(dt)
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 3.0, 1e-3,
                     0.99951171875, 100.0, -100.0, fi.tiny, fi.max, -fi.max], dtype=dt)


GRID_COMBOS = {
    1: [(d,) for d in ALL_DTYPES],
    2: [(d, d) for d in ALL_DTYPES] + [("int8", "uint8"), ("int64", "uint64"), ("uint64", "int64"),
                                      ("float16", "int16"), ("float32", "int32"), ("bool", "float16"),
                                      ("uint64", "float64"), ("int16", "uint16")],
    3: [(d, d, d) for d in ALL_DTYPES] + [("int8", "uint16", "float32"), ("bool", "int8", "float16")],
}


@pytest.mark.parametrize("name", NAMES)
def test_edge_value_grid(name):
    """Every row on every combination of edge values (NaN, infinities, signed
    zeros, halves, integer limits) of each dtype, broadcast against each other."""
    arity, o = ROWS[name], ORACLE[name]
    for combo in GRID_COMBOS[arity]:
        grids = [_grid(d) for d in combo]
        if o.avoid_zero_int:
            grids = [np.where(g == 0, np.ones((), g.dtype), g) if g.dtype.kind in "biu" else g for g in grids]
        if name == "pow" and grids[1].dtype.kind == "i":
            grids[1] = np.where(grids[1] < 0, np.ones((), grids[1].dtype), grids[1])
        # one axis per operand: the full cartesian product, through broadcasting
        arrays = [g.reshape((-1,) + (1,) * (arity - 1 - i)) for i, g in enumerate(grids)]
        with np.errstate(all="ignore"):
            try:
                want, err = np.asarray(o.fn(*arrays)), None
            except (TypeError, ValueError) as e:
                want, err = None, e
        variables = [symbolic(d, a.shape) for d, a in zip(combo, arrays)]
        if err is not None:
            with pytest.raises((TypeError, ValueError)):
                compile_and_run(variables, arrays, _theon_expr(name, variables))
            continue
        got = compile_and_run(variables, arrays, _theon_expr(name, variables))
        want_dtype = o.expected_dtype(combo, want.dtype)
        assert got.dtype == want_dtype, f"{name}{combo}: {got.dtype} != {want_dtype}"
        rtol = o.rtol if o.rtol and want_dtype == np.float64 else None
        bad = []
        g = got
        w = np.broadcast_to(want, g.shape)
        try:
            assert_close(g, w, want_dtype, rtol=rtol, atol=o.atol)
        except AssertionError:
            # name the failing inputs, not just the positions
            for idx in np.ndindex(g.shape):
                try:
                    assert_close(g[idx], w[idx], want_dtype, rtol=rtol, atol=o.atol)
                except AssertionError:
                    ins = [a[tuple(min(i, s - 1) for i, s in zip(idx, a.shape))] for a in arrays]
                    bad.append(f"{name}{tuple(ins)} -> {g[idx]!r}, expected {w[idx]!r}")
        assert not bad, f"{name}{combo}:\n" + "\n".join(bad[:20])


# ---------------------------------------------------------------- targeted properties


def _run(name, *arrays):
    variables = [symbolic(a.dtype.name, a.shape) for a in arrays]
    return compile_and_run(variables, arrays, _theon_expr(name, variables))


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d.startswith(("int", "uint"))])
def test_integer_division_and_modulo_by_zero_give_zero(dtype):
    a = np.array([0, 1, 5, np.iinfo(dtype).max, np.iinfo(dtype).min], dtype=dtype)
    z = np.zeros_like(a)
    np.testing.assert_array_equal(_run("int_div", a, z), np.zeros_like(a))
    np.testing.assert_array_equal(_run("mod", a, z), np.zeros_like(a))


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
def test_integer_power_with_negative_exponent_raises(dtype):
    a = np.array([2, 3], dtype=dtype)
    b = np.array([1, -1], dtype=dtype)
    with pytest.raises(ValueError), np.errstate(all="ignore"):
        np.power(a, b)
    with pytest.raises(ValueError, match="negative integer powers"):
        _run("pow", a, b)


def test_signed_unsigned_64bit_comparisons_are_exact():
    # NumPy compares int64 with uint64 exactly, not through float64.
    a = np.array([2**63 - 1, -1, 0, 2**53 + 1], dtype=np.int64)
    b = np.array([2**63, 2**64 - 1, 0, 2**53], dtype=np.uint64)
    for name, fn in [("eq", np.equal), ("neq", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                     ("gt", np.greater), ("ge", np.greater_equal)]:
        np.testing.assert_array_equal(_run(name, a, b), fn(a, b), err_msg=name)
        np.testing.assert_array_equal(_run(name, b, a), fn(b, a), err_msg=name)


@pytest.mark.parametrize("mode,oracle", [("half_to_even", np.round), (None, _round_half_away),
                                         ("half_away_from_zero", _round_half_away)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_round_modes(mode, oracle, dtype):
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7, -3.7, np.nan, np.inf], dtype=dtype)
    x = T.tensor(dtype, shape=(None,))
    got = compile_and_run([x], [a], T.round(x, mode=mode) if mode else T.round(x))
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, oracle(a))
    with pytest.raises(ValueError):
        T.round(x, mode="banker")


def test_round_half_away_examples():
    a = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994], dtype=np.float64)
    np.testing.assert_array_equal(_run("round_half_away_from_zero", a), [1, 2, 3, -1, -3, 0])


@settings(max_examples=examples(40), deadline=None, derandomize=DERANDOMIZE, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_isclose_allclose(data):
    dt = data.draw(st.sampled_from(["float16", "float32", "float64", "int32"]))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    a = data.draw(laid_out_arrays(dt, shape))
    noise = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1e-9, 1e-6, 1e-3, 1.0])))
    b = (a.astype(np.float64) * (1 + noise)).astype(dt) if dt != "int32" else a + (noise > 0.5).astype(dt)
    b = np.where(data.draw(hnp.arrays(bool, shape)), a, b)
    equal_nan = data.draw(st.booleans())
    x, y = T.tensor(dt, shape=(None,) * len(shape)), T.tensor(dt, shape=(None,) * len(shape))
    got = compile_and_run([x, y], [a, b], T.isclose(x, y, equal_nan=equal_nan))
    np.testing.assert_array_equal(got, np.isclose(a, b, equal_nan=equal_nan))
    got_all = compile_and_run([x, y], [a, b], T.allclose(x, y, equal_nan=equal_nan))
    assert bool(got_all) == np.allclose(a, b, equal_nan=equal_nan)


def test_switch_where_and_clip_wrappers():
    c = np.array([[True, False], [False, True]])
    a = np.arange(4, dtype=np.int16).reshape(2, 2)
    b = np.float32(-1.5)
    vc, va, vb = T.tensor("bool", shape=(None, None)), T.tensor("int16", shape=(None, None)), T.tensor("float32", shape=())
    for fn in (T.switch, T.where):
        got = compile_and_run([vc, va, vb], [c, a, b], fn(vc, va, vb))
        want = np.where(c, a, b)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    got = compile_and_run([va], [a], T.clip(va, 1, 2))
    np.testing.assert_array_equal(got, np.clip(a, 1, 2))
    assert got.dtype == np.int16


def test_broadcast_shape_with_empty_and_unit_dims():
    # x.shape of a broadcast result must be NumPy's broadcast shape, also when
    # a length-1 dim (not known statically) meets a length-0 dim.
    x, y = T.tensor("float64", shape=(None, None)), T.tensor("float64", shape=(None, None))
    f = theon.function([x, y], (x + y).shape)
    for sa, sb in [((1, 0), (3, 1)), ((0, 1), (1, 5)), ((2, 3), (1, 3)), ((1, 1), (0, 0))]:
        got = tuple(int(v) for v in f(np.zeros(sa), np.zeros(sb)))
        assert got == np.broadcast_shapes(sa, sb), (sa, sb)


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError):
        _run("add", np.zeros((2, 3)), np.zeros((3, 2)))


# ---------------------------------------------------------------- NEP 50: Python scalars are weak


@pytest.mark.parametrize("dtype,scalar", [
    ("int8", 2), ("int8", -128), ("uint8", 255), ("int16", 2), ("uint64", 2**64 - 1), ("int64", -2**63),
    ("float16", 2.0), ("float32", 2.0), ("float32", 1e300), ("float64", 2.5), ("int8", 2.0), ("uint32", 1.5),
    ("bool", 1), ("bool", 1.0), ("bool", True), ("int8", True), ("float16", 3),
])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum", "true_div", "lt"])
def test_python_scalars_follow_nep50(dtype, scalar, op):
    a = np.array([1, 0, 1], dtype=dtype)
    np_fn = ORACLE[op].fn
    with np.errstate(all="ignore"):
        try:
            want = np.asarray(np_fn(a, scalar))
            err = None
        except (TypeError, OverflowError, ValueError) as e:
            err = type(e)
    x = T.tensor(dtype, shape=(None,))
    if err is not None:
        with pytest.raises((TypeError, OverflowError, ValueError)):
            compile_and_run([x], [a], getattr(_core, op)(x, scalar))
        return
    for expr in (getattr(_core, op)(x, scalar),):
        got = compile_and_run([x], [a], expr)
        assert got.dtype == want.dtype, f"{dtype} {op} {scalar!r}: {got.dtype} != {want.dtype}"
        assert_close(got, want, want.dtype)


@pytest.mark.parametrize("dtype,scalar", [("int8", 1000), ("int8", -129), ("uint8", -1), ("uint8", 256),
                                          ("int16", 2**15), ("uint64", -1), ("int64", 2**63)])
def test_out_of_range_python_int_raises_overflow(dtype, scalar):
    a = np.array([1], dtype=dtype)
    with pytest.raises(OverflowError):
        np.add(a, scalar)
    x = T.tensor(dtype, shape=(None,))
    with pytest.raises(OverflowError):
        _core.add(x, scalar)
    with pytest.raises(OverflowError):
        x + scalar  # noqa: B018
    with pytest.raises(OverflowError):
        scalar * x  # noqa: B018


def test_operators_keep_weak_scalars():
    x8 = T.tensor("int8", shape=(None,))
    xf = T.tensor("float32", shape=(None,))
    assert (x8 + 2).dtype == "int8"
    assert (2 + x8).dtype == "int8"
    assert (x8 * 2.0).dtype == "float64"
    assert (xf * 2.0).dtype == "float32"
    assert (2.0 * xf).dtype == "float32"
    assert (xf / 2).dtype == "float32"
    assert (x8 / 2).dtype == "float64"
    assert (x8 // 3).dtype == "int8"
    assert (x8 % 3).dtype == "int8"
    assert (x8 ** 2).dtype == "int8"
    a = np.array([100, -100, 7], dtype=np.int8)
    np.testing.assert_array_equal(compile_and_run([x8], [a], x8 + 100), a + 100)
    np.testing.assert_array_equal(compile_and_run([x8], [a], 3 - x8), 3 - a)
    np.testing.assert_array_equal(compile_and_run([x8], [a], x8 // -3), a // -3)
    np.testing.assert_array_equal(compile_and_run([x8], [a], -7 % x8), -7 % a)


def test_float16_edge_values_round_once():
    # float16 results are computed in float32 and rounded once (NumPy's loops).
    a = np.array([65504, 65519, 65520, 6e-8, 1e-4, -0.0], dtype=np.float32)
    x = T.tensor("float32", shape=(None,))
    got = compile_and_run([x], [a], T.cast(x, "float16"))
    np.testing.assert_array_equal(got, a.astype(np.float16))
    assert math.isinf(float(got[2]))


def test_float64_to_float16_rounds_once():
    # NumPy rounds float64 straight to float16; going through float32 first
    # rounds twice and turns values just above a float16 tie into the tie.
    a = np.array([1 + 2**-11 + 2**-40, 2049 + 2**-30, -(1 + 2**-11 + 2**-40)], dtype=np.float64)
    x = T.tensor("float64", shape=(None,))
    np.testing.assert_array_equal(compile_and_run([x], [a], T.cast(x, "float16")), a.astype(np.float16))
