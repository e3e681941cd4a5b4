"""theon.cuda: is there a usable NVIDIA GPU, and which.

theon's CUDA backend is optional (built when the CUDA toolkit is found) and
needs a driver and a GPU at run time. A function is compiled for a device
with ``theon.function(..., device='cuda')`` or ``theon.config.device``.

Without a GPU, ``set_emulation(True)`` (or the environment variable
THEON_CUDA_EMULATOR=1) runs device cuda:0 on a host emulator: device memory
is host memory and each CUDA kernel is compiled as host code, so the whole
CUDA executor can be tested on any machine (slowly).
"""
from theon import _core


def is_available():
    """True when a CUDA device can be used."""
    return _core.cuda_is_available()


def device_count():
    """Number of usable CUDA devices (0 without CUDA, driver or GPU)."""
    return _core.cuda_device_count()


def device_name(i=0):
    """The name of CUDA device ``i``."""
    return _core.cuda_device_name(i)


def unavailable_reason():
    """Why CUDA cannot be used here ('' when it can)."""
    return _core.cuda_unavailable_reason()


def built_with_cuda():
    """True when theon was built with the CUDA backend."""
    return _core.cuda_built()


def set_emulation(on=True):
    """Runs device cuda:0 on the host emulator instead of a GPU (``on=False``: back to the GPU)."""
    _core.cuda_set_emulation(bool(on))


def emulation():
    """True when cuda:0 runs on the host emulator."""
    return _core.cuda_emulation()
