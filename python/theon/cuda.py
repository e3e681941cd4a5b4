"""theon.cuda: is there a usable NVIDIA GPU, and which.

theon's CUDA backend is optional (built when the CUDA toolkit is found) and
needs a driver and a GPU at run time. A function is compiled for a device
with ``theon.function(..., device='cuda')`` or ``theon.config.device``.
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
