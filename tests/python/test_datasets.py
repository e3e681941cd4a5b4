"""The IDX reader and Fashion-MNIST loader: real data, and clear errors on bad files."""
import gzip
import os
import struct

import numpy as np
import pytest

from theon import datasets

FASHION = "/usr/share/datasets/fashion-mnist"


def write_idx(path, array, code=0x08, compress=True, truncate=0, magic=None):
    header = magic if magic is not None else bytes([0, 0, code, array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if truncate:
        payload = payload[:-truncate]
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(payload)
    return path


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_loads_real_data():
    (tx, ty), (vx, vy) = datasets.fashion_mnist()
    assert tx.shape == (60000, 784) and tx.dtype == np.float32
    assert vx.shape == (10000, 784) and vy.shape == (10000,)
    assert ty.dtype == np.int64 and set(np.unique(ty)) == set(range(10))
    assert 0.0 <= tx.min() and tx.max() <= 1.0
    # Each class is equally represented in Fashion-MNIST.
    assert np.all(np.bincount(ty) == 6000)


@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
                                        (np.float64, 0x0E)])
@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, dtype, code, compress):
    a = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    r = datasets.read_idx(write_idx(tmp_path / "a.idx", a, code, compress))
    assert r.dtype == a.dtype and np.array_equal(r, a)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(RuntimeError, match="nope.gz.*not found"):
        datasets.read_idx(tmp_path / "nope.gz")
    with pytest.raises(RuntimeError, match="not found"):
        datasets.fashion_mnist(tmp_path)


def test_truncated_and_malformed_files(tmp_path):
    a = np.zeros((4, 5), np.uint8)
    with pytest.raises(RuntimeError, match="truncated"):
        datasets.read_idx(write_idx(tmp_path / "t.gz", a, truncate=3))
    with pytest.raises(RuntimeError, match="bad magic"):
        datasets.read_idx(write_idx(tmp_path / "m.gz", a, magic=b"\x01\x02\x08\x02"))
    with pytest.raises(RuntimeError, match="element type"):
        datasets.read_idx(write_idx(tmp_path / "e.gz", a, code=0x07))
    # A hostile header declaring a huge array is refused before allocating.
    with gzip.open(tmp_path / "h.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 100000, 100000, 100000))
    with pytest.raises(RuntimeError, match="implausible"):
        datasets.read_idx(tmp_path / "h.gz")
    with open(tmp_path / "g.gz", "wb") as f:
        f.write(b"\x1f\x8b\x08\x00garbage-not-a-gzip-stream")
    with pytest.raises(RuntimeError):
        datasets.read_idx(tmp_path / "g.gz")
