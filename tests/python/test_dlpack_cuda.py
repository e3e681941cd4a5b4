"""DLPack tensors in CUDA memory: theon.from_dlpack copies them to the host,
theon functions refuse them with a message saying how to.

The CUDA producer is faked: a NumPy capsule whose DLDevice is rewritten to
(kDLCUDA, N). Its memory is host memory, which is what the CUDA emulator's
cuda:0 is, so the import runs for real in a subprocess with
THEON_CUDA_EMULATOR=1 (the emulator switch is process-wide)."""
import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

import theon
import theon.tensor as T

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def cuda_capsule(a, device_id=0):
    """A DLPack capsule over `a`'s memory that says it is on CUDA device `device_id`."""
    cap = a.__dlpack__()
    p = _get_pointer(cap, b"dltensor")
    device = (ctypes.c_int32 * 2).from_address(p + 8)  # DLTensor: void* data; DLDevice device
    device[0], device[1] = 2, device_id
    return cap


class FakeCudaTensor:
    def __init__(self, a, device_id=0):
        self.a, self.device_id, self.streams = a, device_id, []

    def __dlpack_device__(self):
        return (2, self.device_id)

    def __dlpack__(self, stream=None, **kwargs):
        self.streams.append(stream)
        return cuda_capsule(self.a, self.device_id)


def test_cuda_tensor_as_function_argument_is_refused_with_advice():
    x = T.dvector("x")
    f = theon.function([x], x * 2)
    a = np.arange(3.0)
    with pytest.raises(TypeError, match=r"CUDA memory \(cuda:0\).*theon.from_dlpack"):
        f(FakeCudaTensor(a))
    with pytest.raises(TypeError, match=r"CUDA memory \(cuda:0\)"):
        f(cuda_capsule(a))


def test_copy_false_refuses_the_cross_device_copy():
    t = FakeCudaTensor(np.arange(3.0))
    with pytest.raises(BufferError, match="CUDA memory"):
        theon.from_dlpack(t, copy=False)
    assert t.streams == []  # refused before asking the producer


def test_host_import_copy_flag():
    a = np.arange(4.0)
    assert np.shares_memory(theon.from_dlpack(a), a)
    c = theon.from_dlpack(a, copy=True)
    assert not np.shares_memory(c, a)
    np.testing.assert_array_equal(c, a)


def _emulated_checks():
    # cuda:0 on the emulator: the "device" tensor is read and copied to the host.
    for a in [np.arange(12, dtype="float32").reshape(3, 4), np.arange(5, dtype="int64"),
              np.zeros((0, 3), dtype="float64"), np.array(True)]:
        t = FakeCudaTensor(a)
        h = theon.from_dlpack(t)
        assert t.streams == [None], t.streams  # the emulator has no streams to order against
        assert h.dtype == a.dtype and h.shape == a.shape
        np.testing.assert_array_equal(h, a)
        assert not np.shares_memory(h, a)
    # a raw capsule too, consumed once
    a = np.arange(3.0)
    cap = cuda_capsule(a)
    np.testing.assert_array_equal(theon._dlpack._core.dlpack_to_host(cap), a)
    try:
        theon._dlpack._core.dlpack_to_host(cap)
        raise AssertionError("a used capsule was accepted")
    except TypeError as e:
        assert "consumed only once" in str(e)
    # the emulator has only cuda:0
    try:
        theon.from_dlpack(FakeCudaTensor(np.arange(3.0), device_id=1))
        raise AssertionError("cuda:1 was accepted under the emulator")
    except RuntimeError as e:
        assert "cuda:1" in str(e), e
    print("ok")


def test_cuda_tensor_import_on_the_emulator():
    env = dict(os.environ, THEON_CUDA_EMULATOR="1")
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(theon.__file__))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [here, root, env.get("PYTHONPATH", "")] if p)
    r = subprocess.run([sys.executable, "-c", "import test_dlpack_cuda as t; t._emulated_checks()"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr
