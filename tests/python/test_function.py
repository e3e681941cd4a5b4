"""Compiled functions: theano.function's signature and semantics, shared variables, In/defaults, eval."""
import gc

import numpy as np
import pytest

import theon as theano
import theon.tensor as T


def f32(*a):
    return np.asarray(a[0] if len(a) == 1 else a, dtype="float32")


# ---------------------------------------------------------------- outputs


def test_single_output_returns_array():
    x = T.fvector("x")
    f = theano.function([x], x * 2)
    r = f(f32([1, 2, 3]))
    assert isinstance(r, np.ndarray)
    np.testing.assert_array_equal(r, [2, 4, 6])
    assert r.dtype == np.float32


def test_list_of_outputs_returns_list():
    x = T.fvector("x")
    f = theano.function([x], [x + 1, x * x])
    r = f(f32([1, 2]))
    assert isinstance(r, list) and len(r) == 2
    np.testing.assert_array_equal(r[0], [2, 3])
    np.testing.assert_array_equal(r[1], [1, 4])
    # a one-element list still gives a list
    g = theano.function([x], [x])
    assert isinstance(g(f32([1])), list)


def test_tuple_outputs_and_no_outputs():
    x = T.fscalar()
    f = theano.function([x], (x, x + 1))
    assert [float(v) for v in f(1.0)] == [1.0, 2.0]
    g = theano.function([x], [], on_unused_input="ignore")
    assert g(1.0) == []


def test_same_output_twice_and_input_as_output():
    x = T.fvector("x")
    f = theano.function([x], [x, x, x * 2])
    a = f32([1, 2])
    r = f(a)
    np.testing.assert_array_equal(r[0], a)
    np.testing.assert_array_equal(r[1], a)
    # outputs never alias the caller's input
    assert not np.shares_memory(r[0], a)
    r[0][0] = 100
    assert a[0] == 1


def test_constant_output():
    f = theano.function([], T.constant(np.arange(3)))
    r = f()
    np.testing.assert_array_equal(r, [0, 1, 2])
    r[0] = 7  # the compiled constant is not changed
    np.testing.assert_array_equal(f(), [0, 1, 2])


def test_function_called_many_times_and_name():
    x = T.dmatrix("x")
    f = theano.function([x], x.sum(), name="total")
    assert f.name == "total"
    for k in range(5):
        assert f(np.full((2, 3), k, dtype="float64")) == 6 * k


# ---------------------------------------------------------------- shared variables and updates


def test_shared_counter_update():
    c = theano.shared(np.int64(0), name="c")
    inc = T.lscalar("inc")
    f = theano.function([inc], c, updates=[(c, c + inc)])
    assert f(2) == 0  # the output is the value before the update
    assert c.get_value() == 2
    assert f(3) == 2
    assert c.get_value() == 5


def test_updates_as_dict_and_ordered():
    a = theano.shared(np.zeros(2, dtype="float64"), "a")
    f = theano.function([], [], updates={a: a + 1})
    f()
    f()
    np.testing.assert_array_equal(a.get_value(), [2, 2])


def test_updates_swap_two_shared():
    a = theano.shared(np.array([1.0, 2.0]), "a")
    b = theano.shared(np.array([3.0, 4.0]), "b")
    f = theano.function([], [a, b], updates=[(a, b), (b, a)])
    ra, rb = f()
    np.testing.assert_array_equal(ra, [1, 2])
    np.testing.assert_array_equal(rb, [3, 4])
    np.testing.assert_array_equal(a.get_value(), [3, 4])
    np.testing.assert_array_equal(b.get_value(), [1, 2])
    f()
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(b.get_value(), [3, 4])


def test_updates_use_values_before_the_call():
    a = theano.shared(np.float64(1.0), "a")
    b = theano.shared(np.float64(10.0), "b")
    # b's update reads a: must see a's old value even though a is updated too
    f = theano.function([], a + b, updates=[(a, a * 2), (b, b + a)])
    assert f() == 11.0
    assert a.get_value() == 2.0 and b.get_value() == 11.0


def test_update_output_does_not_alias_state():
    w = theano.shared(np.ones(3), "w")
    f = theano.function([], w, updates=[(w, w * 3)])
    out = f()
    assert not np.shares_memory(out, w.get_value(borrow=True))
    out[:] = -1
    np.testing.assert_array_equal(w.get_value(), [3, 3, 3])


def test_update_to_an_input_value_is_copied():
    s = theano.shared(np.zeros(3), "s")
    x = T.dvector("x")
    f = theano.function([x], s.T * 1, updates=[(s, x)])
    a = np.ones(3)
    f(a)
    a[:] = 7  # the caller's array is not the shared value
    np.testing.assert_array_equal(s.get_value(), [1, 1, 1])
    with pytest.raises(TypeError, match="update"):
        theano.function([theano.In(x, update=x + 1)], x)


def test_output_view_of_shared_is_detached():
    s = theano.shared(np.arange(6.0).reshape(2, 3), "s")
    f = theano.function([], [s.T, s.dimshuffle(1, 0)])
    for out in f():
        assert not np.shares_memory(out, s.get_value(borrow=True))
        out[...] = -1
    np.testing.assert_array_equal(s.get_value(), np.arange(6.0).reshape(2, 3))


def test_failed_call_leaves_shared_unchanged():
    a = theano.shared(np.array([1.0, 2.0]), "a")
    b = theano.shared(np.array([5.0]), "b")
    x = T.dvector("x")
    # a's update succeeds, then the output (x + a) fails on a shape mismatch
    f = theano.function([x], x + a, updates=[(a, a * 10), (b, b + 1)])
    with pytest.raises(ValueError):
        f(np.ones(3))
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(b.get_value(), [5])
    np.testing.assert_array_equal(f(np.ones(2)), [2, 3])
    np.testing.assert_array_equal(a.get_value(), [10, 20])


def test_failed_argument_validation_leaves_shared_unchanged():
    a = theano.shared(np.float32(1.0), "a")
    x = T.fvector("x")
    f = theano.function([x], x, updates=[(a, a + 1)])
    with pytest.raises(TypeError):
        f(np.ones(2, dtype="float64"))  # unsafe downcast
    with pytest.raises(TypeError):
        f(f32([1]), f32([1]))
    assert a.get_value() == 1.0


def test_update_type_mismatch_is_rejected_at_compile_time():
    a = theano.shared(np.zeros(2, dtype="float32"), "a")
    with pytest.raises((TypeError, ValueError), match="a"):
        theano.function([], [], updates=[(a, T.dmatrix())])


def test_update_python_float_is_cast_to_shared_dtype():
    a = theano.shared(np.float32(1.0), "a")
    f = theano.function([], [], updates=[(a, a * 2.0)])
    f()
    assert a.get_value() == 2.0 and a.get_value().dtype == np.float32


def test_update_target_must_be_shared():
    x = T.fscalar()
    with pytest.raises((TypeError, ValueError), match="shared"):
        theano.function([x], x, updates=[(x, x + 1)])


def test_shared_get_set_value_copy_semantics():
    v = np.arange(4.0)
    s = theano.shared(v, name="s")
    assert s.name == "s"
    assert s.dtype == "float64" and s.ndim == 1
    v[0] = 100  # borrow=False: shared holds a copy
    assert s.get_value()[0] == 0
    got = s.get_value()
    got[1] = -1  # get_value() returns a copy
    assert s.get_value()[1] == 1
    s.set_value(np.arange(6.0))  # shape may change
    np.testing.assert_array_equal(s.get_value(), np.arange(6.0))


def test_shared_borrow_shares_memory():
    v = np.arange(4.0)
    s = theano.shared(v, borrow=True)
    assert np.shares_memory(s.get_value(borrow=True), v)
    w = np.zeros(4)
    s.set_value(w, borrow=True)
    assert np.shares_memory(s.get_value(borrow=True), w)
    s.set_value(w)  # borrow=False: copied
    assert not np.shares_memory(s.get_value(borrow=True), w)
    assert not np.shares_memory(s.get_value(), s.get_value(borrow=True))


def test_shared_value_kept_alive_after_caller_drops_it():
    v = np.arange(1000.0)
    s = theano.shared(v, borrow=True)
    del v
    gc.collect()
    f = theano.function([], s.sum())
    assert f() == np.arange(1000.0).sum()


def test_set_value_checks_dtype_and_rank():
    s = theano.shared(np.zeros((2, 2), dtype="float32"), "s")
    with pytest.raises((TypeError, ValueError), match="s"):
        s.set_value(np.zeros(3, dtype="float32"))  # wrong rank
    with pytest.raises(TypeError):
        s.set_value(np.zeros((2, 2), dtype="complex64"))
    np.testing.assert_array_equal(s.get_value(), np.zeros((2, 2)))


def test_set_value_seen_by_compiled_function():
    s = theano.shared(np.float64(1.0))
    f = theano.function([], s * 2)
    assert f() == 2
    s.set_value(np.float64(5.0))
    assert f() == 10


def test_shared_scalars_lists_and_types():
    assert theano.shared(1.5).dtype == "float64"
    assert theano.shared(np.float32(1.5)).dtype == "float32"
    assert theano.shared(3).dtype == "int64"
    assert theano.shared([1.0, 2.0]).ndim == 1
    assert theano.shared(np.zeros((2, 3), dtype="int8")).type == T.TensorType("int8", (False, False))
    with pytest.raises(TypeError, match="symbolic"):
        theano.shared(T.fscalar())


def test_shared_in_two_functions():
    s = theano.shared(np.int64(0))
    inc = theano.function([], [], updates=[(s, s + 1)])
    get = theano.function([], s)
    inc()
    inc()
    assert get() == 2


def test_default_update():
    s = theano.shared(np.int64(0))
    s.default_update = s + 1
    f = theano.function([], s)
    f()
    f()
    assert s.get_value() == 2
    g = theano.function([], s, updates=[(s, s + 10)])  # explicit update wins
    g()
    assert s.get_value() == 12


# ---------------------------------------------------------------- givens, In, keywords


def test_givens_replace_variable_with_shared():
    x = T.dvector("x")
    data = theano.shared(np.arange(3.0), "data")
    f = theano.function([], (x * 2).sum(), givens={x: data})
    assert f() == 6.0
    g = theano.function([], x * 2, givens=[(x, data)])
    np.testing.assert_array_equal(g(), [0, 2, 4])


def test_givens_with_index():
    data = theano.shared(np.arange(10.0).reshape(5, 2), "data")
    i = T.lscalar("i")
    x = T.dmatrix("x")
    if not hasattr(x, "__getitem__"):
        pytest.skip("indexing not available yet")
    f = theano.function([i], x.sum(), givens={x: data[i * 2:(i + 1) * 2]})
    assert f(0) == 0 + 1 + 2 + 3
    assert f(1) == 4 + 5 + 6 + 7


def test_in_default_values_and_keywords():
    x, y = T.dscalars("x", "y")
    f = theano.function([x, theano.In(y, value=1.0)], x + y)
    assert f(2.0) == 3.0
    assert f(2.0, 5.0) == 7.0
    assert f(2.0, y=10.0) == 12.0
    assert f(x=1.0, y=1.0) == 2.0
    w = T.dscalar("w")
    g = theano.function([x, theano.In(w, value=2.0, name="scale")], x * w)
    assert g(3.0, scale=4.0) == 12.0
    assert g(3.0) == 6.0


def test_keyword_errors():
    x, y = T.dscalars("x", "y")
    f = theano.function([x, y], x - y)
    assert f(y=1.0, x=3.0) == 2.0
    with pytest.raises(TypeError, match="'z'"):
        f(1.0, z=2.0)
    with pytest.raises((TypeError, ValueError), match="'x'"):
        f(1.0, x=2.0)
    with pytest.raises((TypeError, ValueError), match="missing"):
        f(1.0)


def test_eval():
    x = T.dvector("x")
    y = (x * 2).sum()
    assert y.eval({x: np.array([1.0, 2.0])}) == 6.0
    assert T.constant(3.0).eval() == 3.0
    s = theano.shared(np.float64(2.0))
    assert (s * 3).eval() == 6.0


# ---------------------------------------------------------------- validation


def test_arity():
    x, y = T.fscalars("x", "y")
    f = theano.function([x, y], x + y)
    with pytest.raises(TypeError, match="at most 2"):
        f(1.0, 2.0, 3.0)
    with pytest.raises((TypeError, ValueError), match="missing"):
        f(1.0)


def test_safe_casts_accepted():
    x = T.dvector("x")
    f = theano.function([x], x * 2)
    for dt in ("float32", "int8", "int32", "uint16", "bool"):
        r = f(np.ones(2, dtype=dt))
        assert r.dtype == np.float64
    np.testing.assert_array_equal(f([1, 2]), [2, 4])  # a list
    l = T.lvector("l")
    g = theano.function([l], l)
    assert g(np.arange(3, dtype="int8")).dtype == np.int64


def test_unsafe_downcast_rejected_with_clear_message():
    x = T.fvector("x")
    f = theano.function([x], x)
    with pytest.raises(TypeError) as e:
        f(np.ones(2, dtype="float64"))
    msg = str(e.value)
    assert "'x'" in msg and "float32" in msg and "float64" in msg
    i = T.ivector("i")
    g = theano.function([i], i)
    with pytest.raises(TypeError, match="int32"):
        g(np.ones(2, dtype="int64"))
    with pytest.raises(TypeError):
        g(np.ones(2, dtype="float32"))


def test_allow_input_downcast():
    x = T.fvector("x")
    f = theano.function([x], x, allow_input_downcast=True)
    r = f(np.array([1.5, 2.5], dtype="float64"))
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r, [1.5, 2.5])
    # per-input override
    g = theano.function([theano.In(x, allow_downcast=True)], x)
    assert g(np.ones(2)).dtype == np.float32


def test_python_scalars_into_float32_inputs():
    x = T.fscalar("x")
    f = theano.function([x], x * 2)
    assert f(1.5) == 3.0 and f(1.5).dtype == np.float32
    assert f(2) == 4.0
    i = T.iscalar("i")
    g = theano.function([i], i)
    assert g(3) == 3
    with pytest.raises(TypeError, match="allow_input_downcast"):
        g(1.5)


def test_rank_and_static_shape_validation():
    x = T.fmatrix("x")
    f = theano.function([x], x)
    with pytest.raises(TypeError) as e:
        f(np.ones(3, dtype="float32"))
    assert "'x'" in str(e.value) and "expected 2" in str(e.value) and "got 1" in str(e.value)
    y = T.tensor("float32", shape=(None, 3), name="y")
    g = theano.function([y], y * 2)
    g(np.ones((5, 3), dtype="float32"))
    with pytest.raises((TypeError, ValueError)) as e:
        g(np.ones((5, 4), dtype="float32"))
    assert "'y'" in str(e.value) and "3" in str(e.value)
    r = T.frow("r")
    h = theano.function([r], r)
    with pytest.raises((TypeError, ValueError)):
        h(np.ones((2, 3), dtype="float32"))  # broadcastable first dim must be 1
    h(np.ones((1, 3), dtype="float32"))


def test_input_validation_errors_at_compile_time():
    x = T.fvector("x")
    with pytest.raises((TypeError, ValueError), match="more than once"):
        theano.function([x, x], x)
    with pytest.raises((TypeError, ValueError), match="missing input"):
        theano.function([], x * 2)
    with pytest.raises((TypeError, ValueError), match="not used"):
        theano.function([x, T.fvector("u")], x)
    theano.function([x, T.fvector("u")], x, on_unused_input="ignore")
    with pytest.raises((TypeError, ValueError), match="computed by an op"):
        theano.function([x * 2], x)
    with pytest.raises(TypeError):
        theano.function(x, x)  # inputs must be a list
    with pytest.raises(TypeError):
        theano.function([1.0], x)
    with pytest.raises((TypeError, ValueError), match="on_unused_input"):
        theano.function([x], x, on_unused_input="bogus")


def test_modes():
    x = T.fscalar()
    for m in (None, "FAST_RUN", "FAST_COMPILE", theano.compile.mode.get_mode("FAST_RUN")):
        assert theano.function([x], x + 1, mode=m)(1.0) == 2.0
    with pytest.raises(ValueError, match="unknown mode"):
        theano.function([x], x, mode="NO_SUCH_MODE")
    assert theano.compile.mode.get_mode(None).name == theano.config.mode


def test_profile_summary():
    x = T.fvector()
    f = theano.function([x], T.exp(x).sum(), profile=True)
    f(f32([1, 2]))
    s = f.profile_summary()
    assert "exp" in s


def test_profile_stats_like_theano(capsys):
    x = T.fmatrix("x")
    w = theano.shared(np.ones((64, 32), dtype="float32"), name="w")
    f = theano.function([x], T.tanh(T.dot(x, w)).sum(), profile=True)
    for _ in range(3):
        f(np.ones((16, 64), dtype="float32"))
    p = f.profile
    assert p.fct_callcount == 3 and p.fct_call_time > 0
    stats = {op: (n, s, k) for op, n, s, k in p.op_stats}
    assert all(n == 3 for n, _, _ in stats.values())
    kernels = " ".join(k for _, _, k in stats.values())
    assert "openblas" in kernels            # the matrix product went to BLAS
    assert p.peak_memory_bytes >= 16 * 32 * 4  # at least the product's result was live
    p.summary()
    out = capsys.readouterr().out
    assert "Time in 3 calls to Function.__call__" in out and "Memory: peak" in out
    assert theano.function([x], x + 1).profile is None


def test_many_calls_do_not_leak_or_mutate_inputs():
    x = T.dvector("x")
    a = np.arange(5.0)
    a.flags.writeable = False
    f = theano.function([x], [x + 1, T.exp(x)])
    for _ in range(200):
        f(a)
    np.testing.assert_array_equal(a, np.arange(5.0))
