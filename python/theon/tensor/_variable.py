"""Methods of Variable that are thin wrappers (x.sum(), x.mean(), x.eval(), ...)."""
import numpy as np

from theon import _core

V = _core.Variable


def _reduction(fn):
    def method(self, axis=None, keepdims=False, **kw):
        return fn(self, axis, keepdims, **kw)

    method.__name__ = fn.__name__
    return method


for _name in ("sum", "prod", "mean", "max", "min", "all", "any", "argmax", "argmin", "var", "std"):
    setattr(V, _name, _reduction(getattr(_core, _name)))


def _eval(self, inputs_to_values=None):
    """Computes this variable's value; ``inputs_to_values`` maps input Variables to values."""
    from theon.compile.function import function

    inputs_to_values = inputs_to_values or {}
    ins = list(inputs_to_values.keys())
    f = function(ins, self, on_unused_input="ignore")
    return f(*[inputs_to_values[k] for k in ins])


V.eval = _eval
V.clip = lambda self, a_min, a_max: _core.clip(self, a_min, a_max)
V.round = lambda self, mode=None: __import__("theon.tensor", fromlist=["round"]).round(self, mode)
V.nonzero_values = None
V.copy = lambda self, name=None: _core.identity(self)
V.__array_priority__ = 1000  # numpy array (op) Variable defers to Variable
V.__array_ufunc__ = None
np  # noqa: B018
