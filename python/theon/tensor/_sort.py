"""Sorting and scans: T.sort, T.argsort, T.cumsum, T.cumprod, T.diff (NumPy
semantics: NaNs sort last, argsort is stable, NumPy's accumulation dtypes)."""
from theon import _core

__all__ = ["sort", "argsort", "cumsum", "cumprod", "diff"]


def _check_order(who, order):
    if order is not None:
        raise ValueError(f"[{who}] order= is for structured arrays and is not supported")


def sort(a, axis=-1, kind=None, order=None):
    """numpy.sort along ``axis`` (None sorts the flattened input); ``kind`` is accepted and ignored."""
    _check_order("sort", order)
    return _core.sort(a, axis)


def argsort(a, axis=-1, kind=None, order=None):
    """numpy.argsort (always stable, as kind='stable'); int64 indices."""
    _check_order("argsort", order)
    return _core.argsort(a, axis)


def cumsum(x, axis=None):
    """numpy.cumsum; axis None scans the flattened input."""
    return _core.cumsum(x, axis)


def cumprod(x, axis=None):
    """numpy.cumprod; axis None scans the flattened input."""
    return _core.cumprod(x, axis)


def diff(x, n=1, axis=-1):
    """numpy.diff: the n-th discrete difference along ``axis``."""
    return _core.diff(x, n, axis)


_V = _core.Variable
_V.sort = lambda self, axis=-1, kind=None, order=None: sort(self, axis, kind, order)
_V.argsort = lambda self, axis=-1, kind=None, order=None: argsort(self, axis, kind, order)
_V.cumsum = lambda self, axis=None: cumsum(self, axis)
_V.cumprod = lambda self, axis=None: cumprod(self, axis)
