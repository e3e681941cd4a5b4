"""Zero-copy exchange with NumPy and DLPack: layouts in, arrays out, lifetimes, bfloat16."""
import gc
import weakref

import numpy as np
import pytest

import theon
import theon as theano
import theon.tensor as T

roundtrip = theon._core.as_array_roundtrip


def layouts():
    base = np.arange(60.0).reshape(3, 4, 5)
    ro = base.copy()
    ro.flags.writeable = False
    return {
        "c": base,
        "fortran": np.asfortranarray(base),
        "transposed": base.transpose(2, 0, 1),
        "negative": base[::-1, :, ::-2],
        "step": base[:, ::2, 1::2],
        "readonly": ro,
        "broadcast": np.broadcast_to(np.arange(5.0), (3, 4, 5)),
        "empty": np.empty((3, 0, 5)),
        "offset_view": base.ravel()[1:59].reshape(2, 29)[:, 3:8][None],
    }


@pytest.mark.parametrize("name", list(layouts()))
def test_numpy_in_zero_copy(name):
    a = layouts()[name]
    r = roundtrip(a)
    np.testing.assert_array_equal(r, a)
    assert r.shape == a.shape and r.dtype == a.dtype
    if a.size:
        assert np.shares_memory(r, a)
        assert r.strides == a.strides


@pytest.mark.parametrize("name", list(layouts()))
def test_function_on_any_layout(name):
    a = layouts()[name]
    x = T.tensor3("x", dtype="float64")
    f = theano.function([x], [x * 2 + 1, x.sum(axis=1), x.dimshuffle(2, 0, 1)])
    r = f(a)
    np.testing.assert_array_equal(r[0], a * 2 + 1)
    np.testing.assert_array_equal(r[1], a.sum(axis=1))
    np.testing.assert_array_equal(r[2], a.transpose(2, 0, 1))


def test_inputs_are_never_written():
    a = np.arange(6.0).reshape(2, 3)
    a.flags.writeable = False
    s = theano.shared(np.zeros((2, 3)))
    x = T.dmatrix("x")
    f = theano.function([x], x + 1, updates=[(s, s + x)])
    f(a)
    f(a)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(s.get_value(), 2 * a)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                   "uint64", "float16", "float32", "float64"])
def test_dtypes_roundtrip(dtype):
    a = (np.arange(6) % 2 if dtype == "bool" else np.arange(6)).astype(dtype).reshape(2, 3)
    r = roundtrip(a)
    assert r.dtype == a.dtype and np.shares_memory(r, a)
    x = T.matrix("x", dtype=dtype)
    np.testing.assert_array_equal(theano.function([x], x.T)(a), a.T)


def test_byte_swapped_input_is_converted():
    a = np.arange(4, dtype=">f8")
    x = T.dvector("x")
    r = theano.function([x], x * 1)(a)
    assert r.dtype == np.float64
    np.testing.assert_array_equal(r, [0, 1, 2, 3])


def test_output_is_a_plain_owning_numpy_array():
    x = T.dmatrix("x")
    f = theano.function([x], T.exp(x))
    r = f(np.zeros((2, 2)))
    assert type(r) is np.ndarray
    assert r.flags.writeable
    r[0, 0] = 5  # writable, and the function is unaffected
    np.testing.assert_array_equal(f(np.zeros((2, 2))), np.ones((2, 2)))
    del f
    gc.collect()
    assert r[0, 0] == 5 and r[1, 1] == 1  # the output outlives the function


def test_output_keeps_its_buffer_alive():
    x = T.dvector("x")
    outs = [theano.function([x], x + i)(np.zeros(1000)) for i in range(20)]
    gc.collect()
    for i, o in enumerate(outs):
        assert o[999] == i


def test_numpy_array_kept_alive_by_shared_variable():
    a = np.arange(100.0)
    ref = weakref.ref(a) if hasattr(a, "__weakref__") else None
    s = theano.shared(a, borrow=True)
    del a
    gc.collect()
    f = theano.function([], s * 2)
    np.testing.assert_array_equal(f(), np.arange(100.0) * 2)
    # the array is released once the shared variable lets go of it
    s.set_value(np.zeros(3))
    del f
    gc.collect()
    if ref is not None:
        assert ref() is None


def test_numpy_array_kept_alive_as_input_default():
    x = T.dvector("x")
    d = np.arange(3.0)
    f = theano.function([theano.In(x, value=d)], x.sum())
    del d
    gc.collect()
    assert f() == 3.0


def test_numpy_array_kept_alive_as_constant():
    a = np.arange(4.0)
    c = T.constant(a)
    del a
    gc.collect()
    assert theano.function([], c.sum())() == 6.0


def test_borrowed_shared_sees_caller_writes():
    a = np.zeros(3)
    s = theano.shared(a, borrow=True)
    f = theano.function([], s.sum())
    a[:] = 1  # aliasing is the contract of borrow=True
    assert f() == 3.0


def test_get_value_borrow_and_views():
    s = theano.shared(np.arange(6.0).reshape(2, 3))
    v1, v2 = s.get_value(borrow=True), s.get_value(borrow=True)
    assert np.shares_memory(v1, v2)
    c = s.get_value()
    assert not np.shares_memory(c, v1)


def test_dlpack_roundtrip_numpy():
    a = np.arange(12.0, dtype="float32").reshape(3, 4)[:, ::2]
    cap = theano.to_dlpack(a)
    b = theano.from_dlpack(cap)
    np.testing.assert_array_equal(b, a)
    assert np.shares_memory(b, a)
    # an object speaking the DLPack protocol
    c = theano.from_dlpack(a)
    assert np.shares_memory(c, a)
    # a consumed capsule cannot be used twice
    with pytest.raises(TypeError, match="DLPack"):
        theano.from_dlpack(cap)


def test_dlpack_protocol_object_as_function_argument():
    class Producer:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kwargs):
            return self.a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    a = np.arange(5.0)
    v = T.dvector("v")
    f = theano.function([v], v.sum())
    assert f(Producer(a)) == 10.0
    assert f(a.__dlpack__()) == 10.0
    r = theano.from_dlpack(Producer(a))
    assert np.shares_memory(r, a)


def test_dlpack_export_of_function_output():
    x = T.dvector("x")
    out = theano.function([x], x * 3)(np.arange(3.0))
    back = np.from_dlpack(out)
    assert np.shares_memory(back, out)
    b2 = theano.from_dlpack(theano.to_dlpack(out))
    assert np.shares_memory(b2, out)


def test_bfloat16_via_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = np.arange(8, dtype=ml_dtypes.bfloat16).reshape(2, 4)
    r = roundtrip(bf)
    assert r.dtype == ml_dtypes.bfloat16 and np.shares_memory(r, bf)
    x = T.matrix("x", dtype="bfloat16")
    f = theano.function([x], [x * 2, x.sum(), x.astype("float32")])
    a, s, c = f(bf)
    assert a.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(a.astype("float32"), bf.astype("float32") * 2)
    assert float(s) == 28.0
    assert c.dtype == np.float32
    sh = theano.shared(bf)
    assert sh.dtype == "bfloat16"
    np.testing.assert_array_equal(sh.get_value().astype("float32"), bf.astype("float32"))
    # float32 into a bfloat16 input is a downcast
    with pytest.raises(TypeError, match="bfloat16"):
        f(np.zeros((2, 4), dtype="float32"))
