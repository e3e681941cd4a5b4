"""theon.nn weight files: bit-exact round trips of every dtype, NumPy reading
save_npz output and theon reading np.savez / np.savez_compressed output, and
forged or damaged files failing cleanly (no pickle, no huge allocation)."""
import io
import os
import struct
import zipfile

import numpy as np
import pytest

from theon.nn import serialization as ser

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
          "float64"]
SHAPES = [(), (0,), (5,), (2, 3), (3, 0, 2), (2, 1, 3, 2)]


def random_array(dtype, shape, rng):
    """Arbitrary bit patterns (NaN payloads, -0, subnormals) for floats; 0/1 for bool."""
    dt = np.dtype(dtype)
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dt.itemsize, dtype=np.uint8)
    if dt == np.bool_:
        raw &= 1
    return raw.view(dt).reshape(shape)


def samples(with_bfloat16=False):
    rng = np.random.default_rng(1)
    out = {}
    dtypes = DTYPES + (["bfloat16"] if with_bfloat16 else [])
    for d in dtypes:
        dt = np.dtype(__import__("ml_dtypes").bfloat16) if d == "bfloat16" else d
        for k, s in enumerate(SHAPES):
            out[f"{d}/{k}"] = random_array(dt, s, rng)
    out["fortran"] = np.asfortranarray(random_array("float32", (3, 4), rng))
    out["strided"] = random_array("int32", (6, 4), rng)[::2, 1:]
    return out


def assert_bit_exact(got, want):
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        assert got[k].shape == want[k].shape, k
        assert np.ascontiguousarray(got[k]).tobytes() == np.ascontiguousarray(want[k]).tobytes(), k


def test_model_file_round_trip_all_dtypes(tmp_path):
    pytest.importorskip("ml_dtypes")
    arrays = samples(with_bfloat16=True)
    meta = '{"class_name": "Sequential", "note": "ünïcødé ✓"}'
    path = tmp_path / "model.theon"
    ser.save_model_file(path, meta, arrays)
    f = ser.load_model_file(str(path))
    assert f.metadata == meta
    assert_bit_exact(f.arrays, arrays)
    metadata, loaded = f  # a named tuple
    assert metadata == meta and loaded is f.arrays
    # Pairs work as well as a dict; the previous file is replaced.
    ser.save_model_file(path, "", [("a", np.arange(3)), ("b", 2.5)])
    f = ser.load_model_file(path)
    assert f.metadata == "" and list(f.arrays) == ["a", "b"] and f.arrays["b"].shape == ()
    assert os.listdir(tmp_path) == ["model.theon"]


def test_npz_round_trip_and_numpy_reads_it(tmp_path):
    arrays = samples()
    path = tmp_path / "w.npz"
    ser.save_npz(path, arrays)
    assert_bit_exact(ser.load_npz(path), arrays)
    with np.load(path, allow_pickle=False) as z:
        assert_bit_exact({k: z[k] for k in z.files}, arrays)
    ser.save_npz(tmp_path / "kw.npz", w=np.ones(2), b=np.zeros(1, dtype="int8"))
    with np.load(tmp_path / "kw.npz") as z:
        assert z.files == ["w", "b"]
        np.testing.assert_array_equal(z["w"], np.ones(2))


@pytest.mark.parametrize("compressed", [False, True])
def test_theon_reads_numpy_savez(tmp_path, compressed):
    rng = np.random.default_rng(2)
    arrays = {d: random_array(d, (3, 2), rng) for d in DTYPES}
    arrays["scalar"] = np.float64(3.25)
    arrays["empty"] = np.zeros((0, 4), dtype="float32")
    arrays["fortran"] = np.asfortranarray(rng.standard_normal((3, 5)))
    arrays["bigendian"] = rng.standard_normal((4,)).astype(">f8")
    arrays["bigendian_int"] = np.arange(6, dtype=">i4").reshape(2, 3)
    path = tmp_path / "np.npz"
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    got = ser.load_npz(path)
    assert list(got) == list(arrays)
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype.newbyteorder("=") and got[k].shape == np.shape(v), k
        np.testing.assert_array_equal(got[k], v, err_msg=k)
    assert got["fortran"].flags.c_contiguous
    # Positional arrays get NumPy's names.
    np.savez(tmp_path / "pos.npz", np.arange(3), np.ones(2))
    assert list(ser.load_npz(tmp_path / "pos.npz")) == ["arr_0", "arr_1"]


def npy_bytes(header_dict, data=b""):
    h = repr(header_dict).encode()
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


def zip_with(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, payload in members:
            z.writestr(name, payload)


def test_forged_npz_is_refused_without_allocating(tmp_path):
    # A valid zip (correct CRC) whose .npy header claims 2**60 float64: refused by size, not by memory.
    bad = tmp_path / "huge.npz"
    zip_with(bad, [("w.npy", npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2 ** 60,)}, b"\0" * 8))])
    with pytest.raises(RuntimeError, match="more bytes than the file holds"):
        ser.load_npz(bad)
    zip_with(bad, [("w.npy", npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2 ** 40, 2 ** 40)}))])
    with pytest.raises(RuntimeError, match="npz file"):
        ser.load_npz(bad)
    # Object arrays would need pickle: refused.
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    zip_with(bad, [("o.npy", buf.getvalue())])
    with pytest.raises(RuntimeError, match="pickle"):
        ser.load_npz(bad)
    # Structured dtypes and junk headers.
    zip_with(bad, [("s.npy", npy_bytes({"descr": [("x", "<f4")], "fortran_order": False, "shape": (1,)}, b"\0" * 4))])
    with pytest.raises(RuntimeError, match="structured"):
        ser.load_npz(bad)
    zip_with(bad, [("j.npy", b"\x93NUMPY\x01\x00\x05\x00{'a'")])
    with pytest.raises(RuntimeError):
        ser.load_npz(bad)
    # A bool array holding 2.
    zip_with(bad, [("b.npy", npy_bytes({"descr": "|b1", "fortran_order": False, "shape": (2,)}, b"\x01\x02"))])
    with pytest.raises(RuntimeError, match="bool"):
        ser.load_npz(bad)
    # A zip bomb: a deflated member whose real data is shorter than the npy header claims.
    zip_with(bad, [("z.npy", npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10 ** 6,)}))],
             zipfile.ZIP_DEFLATED)
    with pytest.raises(RuntimeError):
        ser.load_npz(bad)


def test_truncated_and_damaged_files(tmp_path):
    path = tmp_path / "m.theon"
    ser.save_model_file(path, "{}", {"w": np.arange(6.0).reshape(2, 3)})
    good = path.read_bytes()
    bad = tmp_path / "bad.theon"
    for n in range(0, len(good), 7):
        bad.write_bytes(good[:n])
        with pytest.raises(RuntimeError, match="theon model file"):
            ser.load_model_file(bad)
    rng = np.random.default_rng(0)
    for _ in range(100):
        b = bytearray(good)
        b[rng.integers(len(b))] ^= int(rng.integers(1, 256))
        bad.write_bytes(bytes(b))
        with pytest.raises(RuntimeError, match="theon model file"):
            ser.load_model_file(bad)
    npz = tmp_path / "w.npz"
    ser.save_npz(npz, {"w": np.arange(6.0)})
    data = npz.read_bytes()
    for n in range(0, len(data), 5):
        bad.write_bytes(data[:n])
        with pytest.raises(RuntimeError, match="npz file"):
            ser.load_npz(bad)
    with pytest.raises(FileNotFoundError):
        ser.load_model_file(tmp_path / "missing")
    with pytest.raises(RuntimeError, match="magic"):
        ser.load_model_file(npz)


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="bfloat16"):
        ml = pytest.importorskip("ml_dtypes")
        ser.save_npz(tmp_path / "b.npz", {"b": np.zeros(2, dtype=ml.bfloat16)})
    with pytest.raises(TypeError):
        ser.save_model_file(tmp_path / "m", b"bytes", {})
    with pytest.raises(TypeError):
        ser.save_model_file(tmp_path / "m", "", {1: np.zeros(1)})
    with pytest.raises(RuntimeError):
        ser.save_model_file(tmp_path / "no" / "dir" / "m", "", {"a": np.zeros(1)})
    with pytest.raises(TypeError):
        ser.save_npz(tmp_path / "o.npz", {"o": np.array([object()])})
    assert sorted(os.listdir(tmp_path)) == []
