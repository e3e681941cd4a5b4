"""DLPack exchange: theon values are NumPy arrays, which speak DLPack both ways."""
import numpy as np

from theon import _core


def from_dlpack(obj):
    """Imports any DLPack-capable array (zero-copy) as a NumPy array theon functions accept."""
    return _core.as_array_roundtrip(obj)


def to_dlpack(array):
    """Exports an array as a DLPack capsule."""
    return np.asarray(array).__dlpack__()
