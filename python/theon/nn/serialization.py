"""theon.nn.serialization — safe weight files (no pickle).

``save_model_file`` / ``load_model_file``: theon's own format (layout in
theon/nn/serialization.h) holding UTF-8 metadata text (theon.nn writes JSON
there) and named arrays of every dtype (bfloat16 through ml_dtypes),
bit-exact and checksummed. ``save_npz`` / ``load_npz``: standard NumPy .npz
archives (``numpy.load`` reads what ``save_npz`` writes, and ``load_npz``
reads ``np.savez`` / ``np.savez_compressed`` output without pickle).

Loading checks every size and offset before allocating; a damaged or forged
file raises RuntimeError naming the file, never crashes. Saving replaces the
target atomically.
"""
import collections
import os

from theon import _core

_nn = _core.nn

__all__ = ["ModelFile", "save_model_file", "load_model_file", "save_npz", "load_npz"]

ModelFile = collections.namedtuple("ModelFile", ["metadata", "arrays"])
ModelFile.__doc__ = "A loaded model file: metadata (str) and arrays (dict name -> NumPy array, in file order)."


def _pairs(arrays, what):
    if arrays is None:
        return []
    items = arrays.items() if hasattr(arrays, "items") else arrays
    out = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"{what}: arrays must be a dict or (name, array) pairs") from None
        if not isinstance(name, str):
            raise TypeError(f"{what}: array names must be str, got {type(name).__name__}")
        out.append((name, value))
    return out


def _existing(path, what):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no such file: '{path}'")
    return path


def save_model_file(path, metadata, arrays):
    """Writes ``metadata`` (str) and ``arrays`` (dict name -> array-like, or pairs) to ``path``."""
    if not isinstance(metadata, str):
        raise TypeError(f"save_model_file: metadata must be str, got {type(metadata).__name__}")
    _nn.save_model_file(os.fspath(path), metadata, _pairs(arrays, "save_model_file"))


def load_model_file(path):
    """Reads a model file: ``ModelFile(metadata, arrays)``."""
    path = _existing(path, "load_model_file")
    meta, pairs = _nn.load_model_file(path)
    try:
        meta = meta.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RuntimeError(f"theon model file '{path}': the metadata is not UTF-8 text ({e})") from None
    return ModelFile(meta, dict(pairs))


def save_npz(path, arrays=None, **named):
    """Writes a NumPy .npz (uncompressed) of ``arrays`` (dict or pairs) and keyword arrays."""
    _nn.save_npz(os.fspath(path), _pairs(arrays, "save_npz") + list(named.items()))


def load_npz(path):
    """Reads every array of a .npz into a dict (archive order)."""
    return dict(_nn.load_npz(_existing(path, "load_npz")))
