"""theon.tensor — Theano's ``theano.tensor`` (``import theon.tensor as T``).

Symbolic variable constructors (T.matrix, T.fvector, ...), the elementwise
op table, reductions, shape operations and the op families, all computed by
the C++ core.
"""
import importlib as _importlib

from theon import _core
from theon.tensor._types import *  # noqa: F401,F403
from theon.tensor._basic import *  # noqa: F401,F403
from theon.tensor import _variable  # noqa: F401  (methods on Variable)

# Op families, each in its own module; absent ones are skipped while the family is being built.
for _family in ("_creation", "_join", "_subtensor", "_blas", "_sort"):
    try:
        _mod = _importlib.import_module("theon.tensor." + _family)
    except ModuleNotFoundError as _e:
        if _e.name != "theon.tensor." + _family:
            raise
        continue
    for _name in getattr(_mod, "__all__", ()):
        globals()[_name] = getattr(_mod, _name)

for _sub in ("nnet", "nlinalg", "slinalg", "signal", "shared_randomstreams", "random"):
    try:
        globals()[_sub] = _importlib.import_module("theon.tensor." + _sub)
    except ModuleNotFoundError as _e:
        if _e.name != "theon.tensor." + _sub:
            raise

from theon.gradient import grad, Lop, Rop, jacobian, hessian, verify_grad  # noqa: E402,F401

TensorVariable = _core.Variable
TensorConstant = _core.Variable
TensorType = _core.TensorType
