"""Products: T.dot, T.matmul, T.tensordot, T.outer, T.batched_dot (NumPy semantics,
computed by the C++ core with BLAS), and the ``@`` operator on Variables."""
from theon import _core

__all__ = ["dot", "matmul", "tensordot", "outer", "batched_dot"]


def dot(a, b):
    """numpy.dot: the last axis of ``a`` against the second-to-last of ``b``."""
    return _core.dot(a, b)


def matmul(a, b):
    """numpy.matmul (``a @ b``): batch axes broadcast, vectors are promoted."""
    return _core.matmul(a, b)


def tensordot(a, b, axes=2):
    """numpy.tensordot; ``axes`` is an int or a pair of axis lists."""
    return _core.tensordot(a, b, axes)


def outer(x, y):
    """numpy.outer of the flattened operands."""
    return _core.outer(x, y)


def batched_dot(a, b):
    """Theano's batched_dot: ``dot(a[i], b[i])`` for each i of the first axis."""
    return _core.batched_dot(a, b)


_V = _core.Variable
_V.__matmul__ = lambda self, other: _core.matmul(self, other)
_V.__rmatmul__ = lambda self, other: _core.matmul(other, self)
_V.dot = lambda self, other: _core.dot(self, other)
