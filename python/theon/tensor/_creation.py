"""Array creation with Theano's names: alloc, fill/second, zeros, ones, the
*_like forms, eye, identity_like, tri, tril, triu, arange and linspace.

All computation happens in the C++ ops of ``theon/ops/creation.h``; this
module only maps Theano's signatures onto them.
"""
from theon import _core

__all__ = [
    "alloc", "fill", "second", "zeros", "ones", "zeros_like", "ones_like", "full_like",
    "eye", "identity_like", "arange", "linspace", "tri", "tril", "triu",
]


def alloc(value, *shape):
    """``value`` broadcast to ``shape`` (ints or int scalar Variables), as a new tensor."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _core.alloc(value, tuple(shape))


def fill(model, value):
    """A tensor of ``model``'s shape (broadcast with ``value``'s) filled with ``value``."""
    return _core.fill(model, value)


second = fill


def zeros(shape, dtype=None):
    """Zeros of ``shape``; ``dtype`` defaults to floatX."""
    return _core.zeros(shape, dtype)


def ones(shape, dtype=None):
    """Ones of ``shape``; ``dtype`` defaults to floatX."""
    return _core.ones(shape, dtype)


def zeros_like(model, dtype=None, opt=False):
    """Zeros of ``model``'s shape and (by default) dtype."""
    return _core.zeros_like(model, dtype)


def ones_like(model, dtype=None, opt=False):
    """Ones of ``model``'s shape and (by default) dtype."""
    return _core.ones_like(model, dtype)


def full_like(a, fill_value, dtype=None):
    """``fill_value`` broadcast to ``a``'s shape, in ``a``'s dtype unless ``dtype`` is given."""
    return _core.full_like(a, fill_value, dtype)


def eye(n, m=None, k=0, dtype=None):
    """An n x m tensor with ones on diagonal k; ``dtype`` defaults to floatX."""
    return _core.eye(n, m, k, dtype)


def identity_like(x):
    """The identity of the matrix ``x``'s shape and dtype."""
    return _core.identity_like(x)


def tri(N, M=None, k=0, dtype=None):
    """An N x M tensor with ones at and below diagonal k; ``dtype`` defaults to floatX."""
    return _core.tri(N, M, k, dtype)


def tril(m, k=0):
    """The lower triangle of the last two axes of ``m`` (elements above diagonal k zeroed)."""
    return _core.tril(m, k)


def triu(m, k=0):
    """The upper triangle of the last two axes of ``m`` (elements below diagonal k zeroed)."""
    return _core.triu(m, k)


def arange(start, stop=None, step=1, dtype=None):
    """NumPy's arange; start/stop/step may be symbolic scalars."""
    if stop is None:
        start, stop = 0, start
    return _core.arange(start, stop, step, dtype)


def linspace(start, end, steps=50, endpoint=True, dtype=None, num=None):
    """NumPy's linspace between scalar end points (``steps`` is NumPy's ``num``)."""
    if num is not None:
        steps = num
    return _core.linspace(start, end, int(steps), endpoint, dtype)
