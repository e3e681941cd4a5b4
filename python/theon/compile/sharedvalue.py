"""Shared variables: state that compiled functions read and update."""
import numpy as np

from theon import _core

SharedVariable = _core.Variable


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """Creates a shared variable holding ``value`` (copied unless ``borrow``).

    Like Theano, the variable's shape may change through set_value; its dtype
    and number of dimensions may not.
    """
    if isinstance(value, _core.Variable):
        raise TypeError("shared: expected a value (array or number), got a symbolic Variable")
    if isinstance(value, (bool, int, float, np.generic)) or getattr(value, "ndim", None) is not None or isinstance(value, (list, tuple)):
        return _core.shared(value, name, borrow)
    raise TypeError(f"shared: no shared variable type for value of type {type(value).__name__}")
