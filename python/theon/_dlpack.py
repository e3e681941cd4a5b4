"""DLPack exchange: theon values are NumPy arrays, which speak DLPack both ways.

theon's Python values live in host memory, so a tensor in CUDA memory (a
PyTorch, CuPy or JAX GPU tensor) is copied to the host by ``from_dlpack``;
functions compiled for ``device='cuda'`` upload it again. Passing a CUDA
tensor straight to a theon function is refused with a message saying so.
Zero-copy import of CUDA tensors as device arrays is a C++ facility
(``theon::from_dlpack`` in theon/runtime/dlpack.h).
"""
import numpy as np

from theon import _core

_CUDA = 2  # DLPack's kDLCUDA


def _dlpack_device(obj):
    f = getattr(obj, "__dlpack_device__", None)
    if f is None or not hasattr(obj, "__dlpack__") or isinstance(obj, np.ndarray):
        return None
    return tuple(f())


def from_dlpack(obj, *, copy=None):
    """Imports any DLPack-capable array as a NumPy array theon functions accept.

    Host memory (and pinned or managed CUDA memory) is shared, not copied.
    A tensor in CUDA memory (``__dlpack_device__()`` is ``(2, N)``) is copied
    to a new host array: theon asks the producer to order its pending work
    before theon's stream of cuda:N, then downloads. ``copy=False`` refuses
    that copy (BufferError), as the array API standard's ``from_dlpack`` does.
    RuntimeError when cuda:N cannot be used here.
    """
    device = _dlpack_device(obj)
    if device is not None and device[0] == _CUDA:
        if copy is False:
            raise BufferError(
                "from_dlpack: the tensor is in CUDA memory (cuda:%d) and theon's Python arrays are host "
                "arrays; copy=False cannot be honoured" % device[1])
        stream = _core.dlpack_cuda_stream(device[1])
        capsule = obj.__dlpack__() if stream is None else obj.__dlpack__(stream=stream)
        return _core.dlpack_to_host(capsule)
    if copy:
        return np.array(_core.as_array_roundtrip(obj), copy=True)
    return _core.as_array_roundtrip(obj)


def to_dlpack(array):
    """Exports an array as a DLPack capsule."""
    return np.asarray(array).__dlpack__()
