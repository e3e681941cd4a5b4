"""Symbolic variable constructors with Theano's names (T.matrix, T.fvector, T.lscalar, ...)."""
from theon import _core
from theon.configparser import config

_PREFIX = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64"}
_KINDS = {
    "scalar": (),
    "vector": (False,),
    "matrix": (False, False),
    "row": (True, False),
    "col": (False, True),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
    "tensor5": (False,) * 5,
    "tensor6": (False,) * 6,
    "tensor7": (False,) * 7,
}

__all__ = ["tensor", "TensorType"]


def _dtype(dtype):
    return config.floatX if dtype is None else dtype


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic tensor: ``tensor('float32', shape=(None, 3))`` or Theano's broadcastable pattern."""
    if isinstance(dtype, (tuple, list)) and broadcastable is None and shape is None:
        # tensor(shape=...) positional misuse guard: tensor((None, 3))
        raise TypeError("tensor: the first argument is the dtype; pass shape=... or broadcastable=...")
    if broadcastable is None and shape is None:
        raise TypeError("tensor: give broadcastable=(...) or shape=(...)")
    return _core.TensorType(_dtype(dtype), broadcastable, shape)(name)


TensorType = _core.TensorType


def _make(kind, pattern, fixed_dtype):
    def ctor(name=None, dtype=None, shape=None):
        if fixed_dtype is not None and dtype is not None and dtype != fixed_dtype:
            raise TypeError(f"{kind}: dtype is fixed to {fixed_dtype}")
        d = fixed_dtype or _dtype(dtype)
        if shape is not None:
            if len(shape) != len(pattern):
                raise ValueError(f"{kind}: shape must have {len(pattern)} entries, got {shape}")
            return _core.TensorType(d, None, shape)(name)
        return _core.TensorType(d, pattern, None)(name)

    ctor.__name__ = kind
    ctor.__doc__ = f"A symbolic {kind} ({fixed_dtype or 'floatX by default'})."
    return ctor


def _make_plural(single):
    def ctor(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        return [single(n) for n in names] if dtype is None else [single(n, dtype=dtype) for n in names]

    return ctor


for _kind, _pattern in _KINDS.items():
    _single = _make(_kind, _pattern, None)
    globals()[_kind] = _single
    globals()[_kind + "s"] = _make_plural(_single)
    __all__ += [_kind, _kind + "s"]
    for _p, _dt in _PREFIX.items():
        _s = _make(_p + _kind, _pattern, _dt)
        globals()[_p + _kind] = _s
        globals()[_p + _kind + "s"] = _make_plural(_s)
        __all__ += [_p + _kind, _p + _kind + "s"]
