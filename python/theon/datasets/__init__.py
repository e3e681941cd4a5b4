"""theon.datasets — real data for examples and tests (read by the C++ IDX reader)."""
from theon import _core


def read_idx(path):
    """Reads one IDX file (optionally gzip-compressed) into a NumPy array."""
    return _core.read_idx(str(path))


def fashion_mnist(path=None):
    """Fashion-MNIST from Debian's dataset-fashion-mnist package.

    Returns ((train_x, train_y), (test_x, test_y)): images as float32 (n, 784)
    in [0, 1], labels as int64. Raises RuntimeError naming the file when the
    files are missing or malformed.
    """
    return _core.fashion_mnist("" if path is None else str(path))


__all__ = ["read_idx", "fashion_mnist"]
