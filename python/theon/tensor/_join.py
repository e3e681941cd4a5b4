"""Joining and rearranging with Theano's names: concatenate, join, stack,
split, tile, repeat, roll, broadcast_to, flip.

All computation happens in the C++ ops of ``theon/ops/join.h`` and
``theon/ops/shape_extra.h``; this module only maps Theano's signatures.
"""
from theon import _core

__all__ = ["concatenate", "join", "stack", "split", "tile", "repeat", "roll", "broadcast_to", "flip"]


def concatenate(tensor_list, axis=0):
    """np.concatenate: join tensors along an existing axis (None: flattened)."""
    return _core.concatenate(list(tensor_list), axis)


def join(axis, *tensors_list):
    """Theano's join(axis, *tensors): concatenate along ``axis``."""
    if len(tensors_list) == 1 and isinstance(tensors_list[0], (list, tuple)):
        tensors_list = tensors_list[0]
    return _core.concatenate(list(tensors_list), axis)


def stack(*tensors, axis=0):
    """np.stack: join tensors of one shape along a new axis.

    Accepts ``stack([a, b], axis)`` and Theano's older ``stack(a, b)``."""
    if len(tensors) >= 1 and isinstance(tensors[0], (list, tuple)):
        if len(tensors) == 2:
            axis = tensors[1]
        elif len(tensors) > 2:
            raise TypeError("stack() takes a list of tensors and an optional axis")
        tensors = tensors[0]
    return _core.stack(list(tensors), axis)


def split(x, splits_size, n_splits, axis=0):
    """Theano's split: ``n_splits`` pieces of ``x`` along ``axis`` with sizes ``splits_size``."""
    return list(_core.split(x, splits_size, n_splits, axis))


def tile(x, reps, ndim=None):
    """np.tile; ``reps`` are ints or int scalar Variables. ``ndim`` (Theano) is the result's rank."""
    if isinstance(reps, int):
        reps = (reps,)
    if ndim is not None and isinstance(reps, (list, tuple)):
        reps = tuple(reps)
        if ndim < len(reps):
            raise ValueError("[tile] ndim (%d) must be at least len(reps) (%d)" % (ndim, len(reps)))
        reps = (1,) * (ndim - len(reps)) + reps
    return _core.tile(x, reps)


def repeat(x, repeats, axis=None):
    """np.repeat; ``repeats`` is an int, a list of ints or an int Variable."""
    return _core.repeat(x, repeats, axis)


def roll(x, shift, axis=None):
    """np.roll; ``shift`` and ``axis`` may be tuples."""
    return _core.roll(x, shift, axis)


def broadcast_to(x, shape):
    """np.broadcast_to as a read-only view."""
    return _core.broadcast_to(x, shape)


def flip(x, axis=None):
    """np.flip along ``axis`` (None: every axis), a view."""
    return _core.flip(x, axis)
