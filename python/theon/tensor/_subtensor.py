"""Indexing: ``x[key]`` on Variables, ``T.set_subtensor``, ``T.inc_subtensor``, ``T.take``.

``x[key]`` follows NumPy: integers, slices (bounds may be int scalar
Variables), ``None``, ``...``, integer and boolean arrays (NumPy's advanced
indexing rules). Basic indices give views; array indices copy. All the work
is done by the C++ core (``theon._core.getitem`` and friends).
"""
from theon import _core

__all__ = [
    "set_subtensor",
    "inc_subtensor",
    "take",
    "subtensor",
    "advanced_subtensor",
    "advanced_subtensor1",
    "advanced_set_subtensor1",
    "advanced_inc_subtensor1",
]

_core.Variable.__getitem__ = lambda self, key: _core.getitem(self, key)
_core.Variable.take = lambda self, indices, axis=None, mode="raise": _core.take(self, indices, axis, mode)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """Returns x's indexed variable with ``x[idx] = y``; ``x`` must be ``var[idx]``.

    ``T.set_subtensor(a[1:3], 0)`` is a copy of ``a`` with rows 1 and 2 zeroed.
    With repeated array indices the last value written wins.
    """
    return _core.set_subtensor(x, y, inplace, tolerate_inplace_aliasing)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """Returns x's indexed variable with ``x[idx] += y``; ``x`` must be ``var[idx]``.

    Repeated array indices accumulate, as ``numpy.add.at``.
    """
    if set_instead_of_inc:
        return _core.set_subtensor(x, y, inplace, tolerate_inplace_aliasing)
    return _core.inc_subtensor(x, y, inplace, tolerate_inplace_aliasing)


def take(a, indices, axis=None, mode="raise"):
    """numpy.take: the elements of ``a`` at ``indices`` along ``axis`` (None: flattened)."""
    return _core.take(a, indices, axis, mode)


def subtensor(x, *key):
    """``x[key]`` as a function."""
    return _core.getitem(x, tuple(key))


def advanced_subtensor(x, *args):
    """``x[args]`` where args hold integer or boolean arrays."""
    return _core.getitem(x, tuple(args))


def advanced_subtensor1(x, ilist):
    """``x[ilist]`` for an integer vector ``ilist``."""
    return _core.getitem(x, ilist)


def advanced_set_subtensor1(x, y, ilist):
    """A copy of ``x`` with ``x[ilist] = y``."""
    return _core.set_subtensor(_core.getitem(x, ilist), y)


def advanced_inc_subtensor1(x, y, ilist):
    """A copy of ``x`` with ``x[ilist] += y`` (repeated indices accumulate)."""
    return _core.inc_subtensor(_core.getitem(x, ilist), y)
