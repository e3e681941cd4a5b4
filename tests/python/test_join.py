"""Join and rearranging ops against NumPy: concatenate/join, stack, split,
tile, repeat, roll, broadcast_to, flip."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import theon as theano
import theon.tensor as T

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]
SETTINGS = settings(max_examples=40, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nd_shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple)


def sym(dtype, ndim, name=None):
    return T.tensor(dtype, shape=(None,) * ndim, name=name)


def rand(rng, shape, dtype):
    a = rng.integers(-50, 50, size=shape) if dtype != "bool" else rng.integers(0, 2, size=shape)
    if dtype.startswith("uint"):
        a = np.abs(a)
    return a.astype(dtype)


def odd_layout(a, how):
    """Same values, different memory layout: C, Fortran or through negative strides."""
    if how == "F":
        return a.copy(order="F")
    if how == "neg" and a.ndim:
        return np.flip(np.flip(a, -1).copy(), -1)
    return a


layouts = st.sampled_from(["C", "F", "neg"])


def check(got, exp):
    assert got.dtype == exp.dtype, (got.dtype, exp.dtype)
    assert got.shape == exp.shape, (got.shape, exp.shape)
    np.testing.assert_array_equal(got, exp)


@SETTINGS
@given(shape=nd_shapes, dtypes=st.lists(st.sampled_from(DTYPES), min_size=1, max_size=4), data=st.data())
def test_concatenate(shape, dtypes, data):
    rng = np.random.default_rng(0)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for d in dtypes:
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        arrays.append(odd_layout(rand(rng, tuple(s), d), data.draw(layouts)))
    xs = [sym(d, len(shape)) for d in dtypes]
    f = theano.function(xs, [T.concatenate(xs, axis=axis), T.join(axis, *xs)])
    got = f(*arrays)
    exp = np.concatenate(arrays, axis=axis)
    check(got[0], exp)
    check(got[1], exp)
    # The joined length is inferred without computing the join.
    g = theano.function(xs, T.concatenate(xs, axis=axis).shape[axis], on_unused_input="ignore")
    assert g(*arrays) == exp.shape[axis]


@SETTINGS
@given(shapes=st.lists(shapes, min_size=1, max_size=3), dtype=st.sampled_from(DTYPES))
def test_concatenate_axis_none(shapes, dtype):
    rng = np.random.default_rng(1)
    arrays = [rand(rng, s, dtype) for s in shapes]
    xs = [sym(dtype, len(s)) for s in shapes]
    check(theano.function(xs, T.concatenate(xs, axis=None))(*arrays), np.concatenate(arrays, axis=None))


@SETTINGS
@given(shape=shapes, dtypes=st.lists(st.sampled_from(DTYPES), min_size=1, max_size=3), data=st.data())
def test_stack(shape, dtypes, data):
    rng = np.random.default_rng(2)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [odd_layout(rand(rng, shape, d), data.draw(layouts)) for d in dtypes]
    xs = [sym(d, len(shape)) for d in dtypes]
    check(theano.function(xs, T.stack(xs, axis=axis))(*arrays), np.stack(arrays, axis=axis))


def test_stack_legacy_signature():
    a, b = T.dscalars("a", "b")
    np.testing.assert_array_equal(theano.function([a, b], T.stack(a, b))(1.0, 2.0), [1.0, 2.0])


@SETTINGS
@given(shape=nd_shapes, dtype=st.sampled_from(DTYPES), data=st.data(), layout=layouts)
def test_split(shape, dtype, data, layout):
    rng = np.random.default_rng(3)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=0, max_size=3)))
    sizes = list(np.diff([0] + cuts + [n]))
    a = odd_layout(rand(rng, shape, dtype), layout)
    x = sym(dtype, len(shape))
    outs = T.split(x, sizes, len(sizes), axis=axis)
    assert len(outs) == len(sizes)
    got = theano.function([x], outs)(a)
    for g, e in zip(got, np.split(a, cuts, axis=axis)):
        check(g, e)
    # Symbolic split sizes.
    s = T.lvector("s")
    got = theano.function([x, s], T.split(x, s, len(sizes), axis=axis))(a, np.array(sizes, "int64"))
    for g, e in zip(got, np.split(a, cuts, axis=axis)):
        check(g, e)


@SETTINGS
@given(shape=shapes, reps=st.lists(st.integers(0, 3), min_size=0, max_size=3), dtype=st.sampled_from(DTYPES),
       layout=layouts)
def test_tile(shape, reps, dtype, layout):
    rng = np.random.default_rng(4)
    a = odd_layout(rand(rng, shape, dtype), layout)
    x = sym(dtype, len(shape))
    check(theano.function([x], T.tile(x, reps), on_unused_input="ignore")(a), np.tile(a, reps))


def test_tile_symbolic_reps_and_ndim():
    x = T.dvector("x")
    r = T.lscalar("r")
    a = np.arange(3.0)
    check(theano.function([x, r], T.tile(x, (r, 2)))(a, 2), np.tile(a, (2, 2)))
    assert T.tile(x, (2,), ndim=3).ndim == 3
    check(T.tile(x, (2,), ndim=3).eval({x: a}), np.tile(a, (1, 1, 2)))


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), data=st.data(), layout=layouts)
def test_repeat(shape, dtype, data, layout):
    rng = np.random.default_rng(5)
    a = odd_layout(rand(rng, shape, dtype), layout)
    x = sym(dtype, len(shape))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)) if shape else st.none())
    n = a.size if axis is None else shape[axis]
    repeats = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n),
                                  st.lists(st.integers(0, 3), min_size=1, max_size=1)))
    check(theano.function([x], T.repeat(x, repeats, axis=axis))(a), np.repeat(a, repeats, axis=axis))
    r = T.lvector("r")
    rv = np.atleast_1d(np.array(repeats, "int64"))
    check(theano.function([x, r], T.repeat(x, r, axis=axis))(a, rv), np.repeat(a, rv, axis=axis))


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), data=st.data(), layout=layouts)
def test_roll(shape, dtype, data, layout):
    rng = np.random.default_rng(6)
    a = odd_layout(rand(rng, shape, dtype), layout)
    x = sym(dtype, len(shape))
    axis_st = st.integers(-len(shape), len(shape) - 1)
    axis = data.draw(st.one_of(st.none(), axis_st, st.lists(axis_st, min_size=1, max_size=3).map(tuple))
                     if shape else st.none())
    if isinstance(axis, tuple):
        shift = data.draw(st.one_of(st.integers(-7, 7),
                                    st.lists(st.integers(-7, 7), min_size=len(axis), max_size=len(axis)).map(tuple)))
    else:
        shift = data.draw(st.integers(-7, 7))
    check(theano.function([x], T.roll(x, shift, axis=axis), on_unused_input="ignore")(a), np.roll(a, shift, axis=axis))
    s = T.iscalar("s")
    if not isinstance(axis, tuple):
        check(theano.function([x, s], T.roll(x, s, axis=axis), on_unused_input="ignore")(a, shift),
              np.roll(a, shift, axis=axis))


@SETTINGS
@given(shape=shapes, extra=st.lists(st.integers(0, 3), min_size=0, max_size=2), dtype=st.sampled_from(DTYPES),
       data=st.data())
def test_broadcast_to(shape, extra, dtype, data):
    rng = np.random.default_rng(7)
    xshape = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    a = rand(rng, xshape, dtype)
    x = sym(dtype, len(xshape))
    target = tuple(extra) + shape
    check(theano.function([x], T.broadcast_to(x, target))(a), np.broadcast_to(a, target))
    n = T.lscalar("n")
    if target:
        sym_target = (n,) + target[1:]
        got = theano.function([x, n], T.broadcast_to(x, sym_target), on_unused_input="ignore")(a, target[0])
        check(got, np.broadcast_to(a, target))


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), data=st.data(), layout=layouts)
def test_flip(shape, dtype, data, layout):
    rng = np.random.default_rng(8)
    a = odd_layout(rand(rng, shape, dtype), layout)
    x = sym(dtype, len(shape))
    axis_st = st.integers(-len(shape), len(shape) - 1)
    axis = data.draw(st.one_of(st.none(), axis_st, st.lists(axis_st, max_size=3, unique_by=lambda v: v % len(shape))
                               .map(tuple)) if shape else st.none())
    check(theano.function([x], T.flip(x, axis=axis))(a), np.flip(a, axis=axis))


def test_errors():
    a = T.tensor("float32", shape=(2, None))
    b = T.tensor("float32", shape=(3, 4))
    with pytest.raises(ValueError, match=r"^\[Join\{axis=1\}\].*dimension 0.*\(2, \?\) and \(3, 4\)"):
        T.concatenate([a, b], axis=1)
    with pytest.raises(ValueError, match=r"same number of dimensions"):
        T.concatenate([a, T.fvector()])
    with pytest.raises(ValueError, match=r"zero-dimensional arrays cannot be concatenated"):
        T.concatenate([T.fscalar()])
    with pytest.raises(ValueError, match=r"out of bounds"):
        T.concatenate([a, b], axis=2)
    x, y = T.fmatrix("x"), T.fmatrix("y")
    f = theano.function([x, y], T.concatenate([x, y], axis=1))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 3\)"):
        f(np.zeros((2, 3), "float32"), np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match=r"^\[stack\] all input arrays must have the same shape"):
        T.stack([T.tensor("float32", shape=(2,)), T.tensor("float32", shape=(3,))])
    with pytest.raises(ValueError, match=r"sum to 3"):
        T.split(T.tensor("float32", shape=(4,)), [1, 2], 2)
    with pytest.raises(ValueError, match=r"sum to 3"):
        theano.function([x], T.split(x, [1, 2], 2))(np.zeros((4, 1), "float32"))
    with pytest.raises(ValueError, match=r"^\[tile\] negative"):
        T.tile(x, (-1, 1))
    with pytest.raises(ValueError, match=r"^\[Repeat\{axis=0\}\] operands could not be broadcast"):
        T.repeat(T.tensor("float32", shape=(3,)), [1, 2], axis=0)
    with pytest.raises(ValueError, match=r"repeats must be an integer"):
        T.repeat(x, 1.5, axis=0)
    with pytest.raises(ValueError, match=r"negative"):
        theano.function([x], T.repeat(x, T.constant(np.array([-1])), axis=0))(np.zeros((1, 1), "float32"))
    with pytest.raises(ValueError, match=r"out of bounds"):
        T.roll(x, 1, axis=2)
    with pytest.raises(ValueError, match=r"^\[BroadcastTo\].*\(3,\).*\(2, 4\)"):
        T.broadcast_to(T.tensor("float32", shape=(3,)), (2, 4))
    with pytest.raises(ValueError, match=r"^\[BroadcastTo\]"):
        theano.function([x], T.broadcast_to(x, (5, 5)))(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"duplicate value in 'axis'"):
        T.flip(x, (0, 0))
