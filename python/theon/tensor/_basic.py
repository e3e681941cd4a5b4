"""Elementwise functions (generated from the C++ table), reductions and shape
functions, under Theano's names."""
import numpy as _np

from theon import _core

__all__ = []

# Every row of the C++ elementwise table, under its table name.
for _name, _arity in _core.elemwise_names():
    _public = _name.rstrip("_") if _name in ("and_", "or_", "xor_") else _name
    globals()[_name] = getattr(_core, _name)
    __all__.append(_name)

# Theano's spellings of some rows.
xor = _core.xor_
switch = _core.switch_
where = _core.switch_
abs_ = _core.abs
abs = _core.abs  # noqa: A001
inv = _core.reciprocal
bitwise_and = _core.and_
bitwise_or = _core.or_
bitwise_xor = _core.xor_
bitwise_not = _core.invert
floor_div = _core.int_div
floor_divide = _core.int_div
true_divide = _core.true_div
divide = _core.true_div
power = _core.pow
sign = _core.sgn
square = _core.sqr
absolute = _core.abs
exp2 = _core.exp2
__all__ += ["xor", "switch", "where", "abs_", "abs", "inv", "bitwise_and", "bitwise_or", "bitwise_xor",
            "bitwise_not", "floor_div", "floor_divide", "true_divide", "divide", "power", "sign", "square",
            "absolute"]


def round(a, mode=None):  # noqa: A001
    """Rounds to the nearest integer; mode 'half_away_from_zero' (Theano's default) or 'half_to_even'."""
    if mode is None or mode == "half_away_from_zero":
        return _core.round_half_away_from_zero(a)
    if mode == "half_to_even":
        return _core.round_half_to_even(a)
    raise ValueError(f"round: mode must be 'half_away_from_zero' or 'half_to_even', got {mode!r}")


def clip(x, min, max):  # noqa: A002
    """Clips x to [min, max] (NumPy's clip)."""
    return _core.clip(x, min, max)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol * |b| with NumPy's handling of infinities and NaN."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    dt = _core.promote_types(a.dtype, b.dtype)
    if dt.startswith(("int", "uint", "bool")):
        dt = "float64"
    af, bf = _core.cast(a, dt), _core.cast(b, dt)
    finite = _core.logical_and(_core.isfinite(af), _core.isfinite(bf))
    close = _core.le(_core.abs(af - bf), atol + rtol * _core.abs(bf))
    result = _core.switch_(finite, close, _core.eq(af, bf))
    if equal_nan:
        result = _core.logical_or(result, _core.logical_and(_core.isnan(af), _core.isnan(bf)))
    return result


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere."""
    return _core.all(isclose(a, b, rtol, atol, equal_nan))


def as_tensor_variable(x, name=None, ndim=None):
    """A Variable for x (Variables are returned as they are; values become constants)."""
    return _core.as_tensor_variable(x, name, ndim)


def as_tensor(x, name=None, ndim=None):
    return _core.as_tensor_variable(x, name, ndim)


def constant(x, name=None, ndim=None, dtype=None):
    """A constant Variable holding x."""
    c = _core.constant(x, name, dtype)
    if ndim is not None and c.ndim != ndim:
        raise ValueError(f"constant: expected {ndim} dimensions, got {c.ndim}")
    return c


cast = _core.cast
sum = _core.sum  # noqa: A001
prod = _core.prod
mean = _core.mean
var = _core.var
std = _core.std
max = _core.max  # noqa: A001
min = _core.min  # noqa: A001
argmax = _core.argmax
argmin = _core.argmin
all = _core.all  # noqa: A001
any = _core.any  # noqa: A001
logsumexp = _core.logsumexp
shape = _core.shape
shape_i = _core.shape_i
reshape = _core.reshape
flatten = _core.flatten
transpose = _core.transpose
expand_dims = _core.expand_dims
squeeze = _core.squeeze


def max_and_argmax(a, axis=None, keepdims=False):
    """(max, argmax) along one axis, as Theano's max_and_argmax."""
    return _core.max(a, axis, keepdims), _core.argmax(a, axis, keepdims)


def dimshuffle(x, *pattern):
    return _core.dimshuffle(x, *pattern)


def sqr_sum(x, axis=None):
    return _core.sum(_core.sqr(x), axis)


def addbroadcast(x, *axes):
    """Marks axes as broadcastable (length 1); the length is checked when run."""
    x = as_tensor_variable(x)
    shp = [1 if i in axes else x.shape[i] for i in range(x.ndim)] if x.ndim else []
    return _core.reshape(x, tuple(shp)) if axes else x


def unbroadcast(x, *axes):
    return x


def patternbroadcast(x, broadcastable):
    return addbroadcast(x, *[i for i, b in enumerate(broadcastable) if b])


__all__ += ["round", "clip", "isclose", "allclose", "as_tensor_variable", "as_tensor", "constant", "cast", "sum",
            "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "all", "any", "logsumexp", "shape",
            "shape_i", "reshape", "flatten", "transpose", "expand_dims", "squeeze", "max_and_argmax", "dimshuffle",
            "sqr_sum", "addbroadcast", "unbroadcast", "patternbroadcast"]
_np  # noqa: B018
