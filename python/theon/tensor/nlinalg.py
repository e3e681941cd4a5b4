"""theano.tensor.nlinalg: inverse, determinant, eigh, QR, SVD, pseudo-inverse,
diagonals, trace, matrix products and norms (NumPy semantics).

Each decomposition accepts a matrix or a stack of matrices in the last two
axes; float32 stays float32, everything else computes in float64. A singular
matrix raises ValueError (NumPy's LinAlgError is a ValueError).
"""
import math

from theon import _core

__all__ = ["matrix_inverse", "inv", "det", "eigh", "qr", "svd", "pinv", "trace", "diag", "extract_diag",
           "alloc_diag", "matrix_dot", "matrix_power", "norm"]


def matrix_inverse(a):
    """numpy.linalg.inv."""
    return _core.matrix_inverse(a)


inv = matrix_inverse


def det(a):
    """numpy.linalg.det."""
    return _core.det(a)


def eigh(a, UPLO="L"):
    """numpy.linalg.eigh: (w, v), eigenvalues ascending, eigenvectors in columns."""
    return _core.eigh(a, UPLO)


def qr(a, mode="reduced"):
    """numpy.linalg.qr: (Q, R) for mode 'reduced'/'complete', R alone for mode 'r'."""
    return _core.qr(a, mode)


def svd(a, full_matrices=True, compute_uv=True):
    """numpy.linalg.svd: (U, s, Vh), or s alone when compute_uv is False."""
    return _core.svd(a, full_matrices, compute_uv)


def pinv(a, rcond=1e-15):
    """numpy.linalg.pinv."""
    return _core.pinv(a, rcond)


def extract_diag(x, offset=0, axis1=0, axis2=1):
    """numpy.diagonal (a view)."""
    return _core.extract_diag(x, offset, axis1, axis2)


def alloc_diag(v, offset=0):
    """A square matrix with vector v on diagonal ``offset``."""
    return _core.alloc_diag(v, offset)


def diag(x, k=0):
    """numpy.diag: a vector gives a diagonal matrix, a matrix gives its diagonal."""
    x = _core.as_tensor_variable(x)
    if x.ndim == 1:
        return alloc_diag(x, k)
    if x.ndim == 2:
        return extract_diag(x, k)
    raise ValueError(f"[diag] input must be 1- or 2-d, got {x.ndim} dimensions")


def trace(x, offset=0, axis1=0, axis2=1):
    """numpy.trace: the sum along a diagonal."""
    return _core.trace(x, offset, axis1, axis2)


def matrix_dot(*args):
    """dot(args[0], dot(args[1], ...)) from left to right."""
    r = args[0]
    for a in args[1:]:
        r = _core.dot(r, a)
    return r


def matrix_power(M, n):
    """numpy.linalg.matrix_power by repeated squaring; a negative n inverts first."""
    M = _core.as_tensor_variable(M)
    if n < 0:
        M, n = matrix_inverse(M), -n
    if n == 0:
        row = M[(0,) * (M.ndim - 1)]
        return _core.add(alloc_diag(_core.ones_like(row)), _core.zeros_like(M))
    result = None
    base = M
    while n:
        if n & 1:
            result = base if result is None else _core.matmul(result, base)
        n >>= 1
        if n:
            base = _core.matmul(base, base)
    return result


def _float(x):
    return x if x.dtype.startswith(("float", "bfloat")) else _core.cast(x, "float64")


def _finish(r, axes, keepdims):
    return r if keepdims else _core.squeeze(r, list(axes))


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm for vectors (one axis) and matrices (two axes)."""
    x = _float(_core.as_tensor_variable(x))
    nd = x.ndim
    if axis is None:
        if ord is None:
            r = _core.sqrt(_core.sum(_core.sqr(x), None, keepdims))
            return r
        if nd not in (1, 2):
            raise ValueError("[norm] improper number of dimensions to norm")
        axis = tuple(range(nd))
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(a % nd if -nd <= a < nd else _bad_axis(a, nd) for a in axis)
    ax = _core.abs(x)
    if len(axis) == 1:
        a = axis[0]
        if ord is None or ord == 2:
            return _core.sqrt(_core.sum(_core.sqr(x), [a], keepdims))
        if ord == math.inf:
            return _core.max(ax, [a], keepdims)
        if ord == -math.inf:
            return _core.min(ax, [a], keepdims)
        if ord == 0:
            return _core.cast(_core.sum(_core.neq(x, 0), [a], keepdims), x.dtype)
        if ord == 1:
            return _core.sum(ax, [a], keepdims)
        if isinstance(ord, str):
            raise ValueError(f"[norm] invalid norm order '{ord}' for vectors")
        return _core.pow(_core.sum(_core.pow(ax, float(ord)), [a], keepdims), 1.0 / ord)
    if len(axis) != 2 or axis[0] == axis[1]:
        raise ValueError("[norm] axis must be one axis or two distinct axes")
    row, col = axis
    if ord is None or ord == "fro":
        return _core.sqrt(_core.sum(_core.sqr(x), [row, col], keepdims))
    if ord in (1, -1):
        r = _core.sum(ax, [row], True)
        r = (_core.max if ord == 1 else _core.min)(r, [col], True)
        return _finish(r, axis, keepdims)
    if ord in (math.inf, -math.inf):
        r = _core.sum(ax, [col], True)
        r = (_core.max if ord > 0 else _core.min)(r, [row], True)
        return _finish(r, axis, keepdims)
    if ord in (2, -2, "nuc"):
        rest = [i for i in range(nd) if i not in axis]
        s = svd(_core.transpose(x, rest + [row, col]), True, False)
        r = _core.sum(s, [-1]) if ord == "nuc" else (_core.max if ord == 2 else _core.min)(s, [-1])
        if keepdims:
            order = []
            j = 0
            for i in range(nd):
                if i in axis:
                    order.append("x")
                else:
                    order.append(j)
                    j += 1
            r = r.dimshuffle(*order)
        return r
    raise ValueError(f"[norm] invalid norm order {ord!r} for matrices")


def _bad_axis(a, nd):
    raise ValueError(f"[norm] axis {a} is out of bounds for array of dimension {nd}")
