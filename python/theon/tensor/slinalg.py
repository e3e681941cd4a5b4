"""theano.tensor.slinalg: Cholesky factorisation and linear solves (SciPy semantics).

Each function accepts a matrix or a stack of matrices in the last two axes;
float32 stays float32, everything else computes in float64. A singular or
non-positive-definite matrix raises ValueError (NumPy's LinAlgError is a ValueError).
"""
from theon import _core

__all__ = ["cholesky", "solve", "solve_triangular", "solve_lower_triangular", "solve_upper_triangular",
           "solve_symmetric", "cho_solve"]


def cholesky(a, lower=True):
    """Cholesky factor: L with a = L L^T (lower, the default) or U with a = U^T U."""
    return _core.cholesky(a, lower)


def solve(a, b, assume_a="gen", lower=False, check_finite=True):
    """scipy.linalg.solve: x with a x = b; assume_a is 'gen', 'sym', 'her' or 'pos'."""
    return _core.solve(a, b, assume_a, lower)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True):
    """scipy.linalg.solve_triangular."""
    return _core.solve_triangular(a, b, trans, lower, unit_diagonal)


def solve_lower_triangular(a, b):
    return _core.solve_triangular(a, b, 0, True, False)


def solve_upper_triangular(a, b):
    return _core.solve_triangular(a, b, 0, False, False)


def solve_symmetric(a, b, lower=False):
    return _core.solve(a, b, "sym", lower)


def cho_solve(c_and_lower, b, check_finite=True):
    """scipy.linalg.cho_solve((c, lower), b): solves a x = b from the Cholesky factor c of a."""
    c, lower = c_and_lower
    if lower:
        y = _core.solve_triangular(c, b, 0, True, False)
        return _core.solve_triangular(c, y, 1, True, False)
    y = _core.solve_triangular(c, b, 1, False, False)
    return _core.solve_triangular(c, y, 0, False, False)
