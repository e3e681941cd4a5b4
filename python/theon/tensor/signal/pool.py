"""theon.tensor.signal.pool — ``pool_2d`` with Theano's semantics.

Pools the last two dimensions of an N-d input (N >= 2) with windows ``ws``
moving by ``stride`` (default ``ws``) over the input padded by ``pad``.
Modes: 'max', 'sum', 'average_inc_pad', 'average_exc_pad'. With
``ignore_border=False`` partial windows at the end are kept.
"""
from theon import _core

__all__ = ["pool_2d"]


def pool_2d(input, ws=None, ignore_border=True, stride=None, pad=(0, 0), mode="max",
            ds=None, st=None, padding=None):
    """2-D pooling; ``ds``, ``st`` and ``padding`` are Theano's old names of ws, stride and pad."""
    if ds is not None:
        if ws is not None:
            raise ValueError("[pool_2d] give ws or its deprecated alias ds, not both")
        ws = ds
    if st is not None:
        if stride is not None:
            raise ValueError("[pool_2d] give stride or its deprecated alias st, not both")
        stride = st
    if padding is not None:
        pad = padding
    if ws is None:
        raise ValueError("[pool_2d] ws (the window shape) is required")
    if ignore_border is None:
        ignore_border = True
    return _core.pool_2d(input, ws, bool(ignore_border), stride, pad, mode)
