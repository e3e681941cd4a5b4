"""theon.gradient — symbolic differentiation with Theano's names.

``grad``, ``Lop``, ``Rop``, ``jacobian``, ``hessian``, ``verify_grad`` and the
gradient modifiers; all of the work is done by the C++ core (theon/autodiff).
"""
from collections.abc import Mapping

import numpy as np

from theon import _core


class GradientError(Exception):
    """Raised by verify_grad when the symbolic and numeric gradients disagree."""


class NullTypeGradError(TypeError, ValueError):
    """A requested gradient is undefined (an op on the path has none, e.g. a random draw).

    A TypeError as in Theano, and a ValueError as theon's other graph-building errors."""


class DisconnectedInputError(ValueError):
    """grad() was asked for the gradient of a variable the cost does not depend on."""


def _as_list(x, what):
    if isinstance(x, (list, tuple)):
        return list(x), True
    return [x], False


def _check_vars(xs, what):
    for i, x in enumerate(xs):
        if not isinstance(x, _core.Variable):
            raise TypeError(f"{what}[{i}] must be a theon Variable, got {type(x).__name__}")


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True, known_grads=None,
         return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt`` (a Variable or a list).

    Returns a Variable, or a list when ``wrt`` is a list. The result is a graph,
    so it can be differentiated again.
    """
    ws, is_list = _as_list(wrt, "wrt")
    _check_vars(ws, "wrt")
    if cost is not None and not isinstance(cost, _core.Variable):
        raise TypeError(f"grad: cost must be a theon Variable, got {type(cost).__name__}")
    kg = list(known_grads.items()) if isinstance(known_grads, Mapping) else list(known_grads or [])
    cc = list(consider_constant or [])
    _check_vars(cc, "consider_constant")
    gs = _core.grad(cost, ws, cc, disconnected_inputs, kg, return_disconnected, null_gradients)
    if add_names and cost is not None and cost.name:
        for g, w in zip(gs, ws):
            if g is not None and w.name:
                g.name = f"(d{cost.name}/d{w.name})"
    return gs if is_list else gs[0]


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: eval_points^T * d f / d wrt."""
    fs, _ = _as_list(f, "f")
    ws, is_list = _as_list(wrt, "wrt")
    es, _ = _as_list(eval_points, "eval_points")
    es = [e if isinstance(e, _core.Variable) else _core.as_tensor_variable(e) for e in es]
    r = _core.Lop(fs, ws, es)
    return r if is_list else r[0]


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product: d f / d wrt * eval_points."""
    fs, f_list = _as_list(f, "f")
    ws, _ = _as_list(wrt, "wrt")
    es, _ = _as_list(eval_points, "eval_points")
    es = [e if isinstance(e, _core.Variable) else _core.as_tensor_variable(e) for e in es]
    r = _core.Rop(fs, ws, es)
    return r if f_list else r[0]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Jacobian of a vector (or scalar) expression; a list of Jacobians when wrt is a list."""
    ws, is_list = _as_list(wrt, "wrt")
    _check_vars(ws, "wrt")
    cc = list(consider_constant or [])
    _check_vars(cc, "consider_constant")
    r = [_core.jacobian(expression, w, cc, disconnected_inputs) for w in ws]
    return r if is_list else r[0]


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Hessian of a scalar cost w.r.t. vectors (or scalars)."""
    ws, is_list = _as_list(wrt, "wrt")
    _check_vars(ws, "wrt")
    cc = list(consider_constant or [])
    _check_vars(cc, "consider_constant")
    r = [_core.hessian(cost, w, cc, disconnected_inputs) for w in ws]
    return r if is_list else r[0]


zero_grad = _core.zero_grad
disconnected_grad = _core.disconnected_grad
grad_scale = _core.grad_scale


def grad_clip(x, lower_bound, upper_bound):
    """Identity forward; the gradient through x is clipped to [lower_bound, upper_bound]."""
    return _core.grad_clip(x, float(lower_bound), float(upper_bound))


def consider_constant(x):
    """Identity forward; no gradient flows through x."""
    return _core.disconnected_grad(x)


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None, mode=None,
                cast_to_output_type=False, no_debug_ref=True):
    """Checks the symbolic gradient of ``fun(*inputs)`` at ``pt`` against finite differences.

    The output is projected on a random tensor to get a scalar; the check runs
    in float64 and raises GradientError with both values on a mismatch.
    """
    if not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad: pt must be a list of numpy arrays")
    pt = [np.asarray(p) for p in pt]
    if rng is None:
        seed = 0
    elif isinstance(rng, (int, np.integer)):
        seed = int(rng)
    else:
        seed = int(rng.integers(0, 2**63)) if hasattr(rng, "integers") else int(rng.randint(0, 2**31))
    _core.verify_grad(lambda xs: _core.as_tensor_variable(fun(*xs)), pt, int(n_tests), seed,
                      1e-6 if eps is None else float(eps), 1e-4 if abs_tol is None else float(abs_tol),
                      1e-4 if rel_tol is None else float(rel_tol))


__all__ = ["grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad", "zero_grad", "disconnected_grad",
           "grad_clip", "grad_scale", "consider_constant", "GradientError"]
