"""The CUDA graph executor from Python: theano.function(..., device='cuda')
runs on the GPU, or on the host emulator where there is none (theon.cuda.
set_emulation); shared variables live on the device and get_value returns
NumPy; ops without a CUDA kernel fail at compile time or, with
config.allow_cpu_fallback, run on the CPU with a warning. Cases needing a
kernel that is not in the table yet skip, saying which."""
import numpy as np
import pytest

import theon
import theon.cuda
import theon.tensor as T
from theon import nn

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def device():
    was = theon.cuda.emulation()
    if not theon.cuda.is_available():
        theon.cuda.set_emulation(True)
    with theon.config.change_flags(allow_cpu_fallback=False):
        yield
    theon.cuda.set_emulation(was)


def cuda_function(*args, **kwargs):
    try:
        return theon.function(*args, device="cuda", **kwargs)
    except RuntimeError as e:
        if "has no CUDA kernel" in str(e):
            pytest.skip(str(e))
        raise


def test_emulation_switch_and_the_fallback_flag():
    assert theon.cuda.emulation() or theon.cuda.is_available()
    assert theon.config.allow_cpu_fallback is False
    with theon.config.change_flags(allow_cpu_fallback=True):
        assert theon.config.allow_cpu_fallback is True
    assert "allow_cpu_fallback" in repr(theon.config)


def test_elementwise_graph_matches_numpy_and_copies_only_at_the_edges():
    x, y = T.matrix("x", dtype="float32"), T.matrix("y", dtype="float32")
    f = cuda_function([x, y], [T.exp(x) * y + 1, T.tanh(x) - y], mode="FAST_COMPILE")
    assert f.device == "cuda:0"
    a = rng.standard_normal((5, 4)).astype("float32")
    b = rng.standard_normal((5, 4)).astype("float32")
    p, q = f(a, b)
    assert isinstance(p, np.ndarray) and p.dtype == np.float32
    np.testing.assert_allclose(p, np.exp(a) * b + 1, rtol=1e-5)
    np.testing.assert_allclose(q, np.tanh(a) - b, rtol=1e-5, atol=1e-6)
    t = f.transfer_stats()
    assert (t["uploads"], t["downloads"]) == (2, 2)
    assert t["upload_bytes"] == 2 * a.nbytes


def test_shared_variable_lives_on_the_device_and_get_value_returns_numpy():
    x = T.vector("x", dtype="float64")
    w = theon.shared(np.array([1.0, 2.0, 3.0]), name="w")
    f = cuda_function([x], [], updates=[(w, w * 2 + x)])
    g = theon.function([], w.sum(), updates=[(w, w - 1)], device="cpu")  # a CPU function sharing w
    host = np.array([1.0, 2.0, 3.0])
    step = np.array([0.5, -1.0, 0.0])
    for _ in range(3):
        f(step)
        host = host * 2 + step
        np.testing.assert_allclose(g(), host.sum())
        host -= 1
    v = w.get_value()
    assert isinstance(v, np.ndarray)
    np.testing.assert_allclose(v, host)
    w.set_value(np.zeros(3))
    f(step)
    np.testing.assert_allclose(w.get_value(), step)


def row_cumsum_by_scan(x):
    """The running sum of x's rows as a scan: a recurrence, which has no CUDA kernel."""
    out, _ = theon.scan(lambda row, acc: acc + row, sequences=[x], outputs_info=[T.zeros_like(x[0])])
    return out


def test_missing_kernel_is_a_compile_time_error_and_fallback_warns(capfd):
    x = T.matrix("x", dtype="float64")
    with pytest.raises(RuntimeError, match=r"has no CUDA kernel for device 'cuda:0'; set config.allow_cpu_fallback"):
        theon.function([x], row_cumsum_by_scan(x) + 1, device="cuda")
    with theon.config.change_flags(allow_cpu_fallback=True):
        f = theon.function([x], row_cumsum_by_scan(x) + 1, device="cuda")
    assert "has no CUDA kernel" in capfd.readouterr().err
    assert len(f.cpu_fallback_ops()) >= 1
    a = rng.standard_normal((3, 3))
    np.testing.assert_allclose(f(a), np.cumsum(a, axis=0) + 1, rtol=1e-10)


def test_kernel_error_is_raised_with_the_op_and_a_failed_call_changes_nothing():
    a, b = T.vector("a", dtype="int32"), T.vector("b", dtype="int32")
    w = theon.shared(np.array([5], dtype="int32"), name="w")
    f = cuda_function([a, b], a ** b, updates=[(w, w + 1)])
    np.testing.assert_array_equal(f(np.array([2, 3], "int32"), np.array([3, 0], "int32")), [8, 1])
    with pytest.raises(ValueError, match="negative integer powers"):
        f(np.array([2, 3], "int32"), np.array([-1, 0], "int32"))
    np.testing.assert_array_equal(w.get_value(), [6])


def test_device_from_config_and_the_nn_training_loop_matches_the_cpu():
    x = rng.standard_normal((48, 6)).astype("float32")
    y = np.arange(48) % 3
    x[np.arange(48), y] += 2

    def losses(device):
        nn.set_global_seed(3)
        model = nn.Sequential([nn.Dense(12, activation="relu"), nn.Dense(3)])
        model.compile(optimizer=nn.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", from_logits=True)
        with theon.config.change_flags(device=device, allow_cpu_fallback=True):
            hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        return hist.history["loss"]

    cpu = losses("cpu")
    dev = losses("cuda")
    np.testing.assert_allclose(dev, cpu, rtol=1e-4)
    assert cpu[-1] < cpu[0]


def test_scan_runs_on_the_cpu_under_fallback_and_reads_shared_variables_from_the_device():
    w = theon.shared(np.array([2.0, -1.0]), name="w")
    count = theon.shared(np.float64(10.0), name="count")
    x = T.matrix("x", dtype="float64")

    def step(x_t):
        return T.sum(x_t * w) + count, {count: count + 1}

    out, upd = theon.scan(step, sequences=x)
    with pytest.raises(RuntimeError, match="has no CUDA kernel"):
        theon.function([x], out, updates=upd, device="cuda")
    with theon.config.change_flags(allow_cpu_fallback=True):
        f = theon.function([x], out, updates=upd, device="cuda")
        double = cuda_function([], [], updates=[(w, w * 2)])  # w's newest value lives on the device
    assert any("Scan" in op or "scan" in op for op in f.cpu_fallback_ops())
    xv = rng.standard_normal((3, 2))
    np.testing.assert_allclose(f(xv), xv @ np.array([2.0, -1.0]) + [10, 11, 12])
    double()
    np.testing.assert_allclose(f(xv[:1]), xv[:1] @ np.array([4.0, -2.0]) + 13)
    assert count.get_value() == 14
    np.testing.assert_allclose(w.get_value(), [4.0, -2.0])


def test_theon_flags_select_the_device_and_the_fallback():
    import os
    import subprocess
    import sys

    env = dict(os.environ, THEON_FLAGS="device=cuda,allow_cpu_fallback=True")
    if not theon.cuda.is_available():
        env["THEON_CUDA_EMULATOR"] = "1"
    code = ("import numpy as np, theon, theon.tensor as T\n"
            "x = T.matrix('x', dtype='float64')\n"
            "s, _ = theon.scan(lambda r, acc: acc + r, sequences=[x], outputs_info=[T.zeros_like(x[0])])\n"
            "f = theon.function([x], s * 2)\n"
            "print(f.device, theon.config.allow_cpu_fallback, f(np.eye(2) * 4)[1, 1])\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["cuda:0", "True", "8.0"]
    assert "has no CUDA kernel" in out.stderr


def test_a_small_cnn_trains_evaluates_and_predicts_as_on_the_cpu():
    x = rng.standard_normal((32, 1, 8, 8)).astype("float32")
    y = np.arange(32) % 3

    def run(device):
        nn.set_global_seed(5)
        model = nn.Sequential([nn.Conv2D(4, 3, activation="relu"), nn.MaxPooling2D(2), nn.Flatten(), nn.Dense(3)])
        model.compile(optimizer=nn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", from_logits=True,
                      metrics=["accuracy"])
        with theon.config.change_flags(device=device, allow_cpu_fallback=True):
            hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
            return hist.history["loss"], model.evaluate(x, y), model.predict(x[:4])

    (cpu_loss, cpu_eval, cpu_pred), (dev_loss, dev_eval, dev_pred) = run("cpu"), run("cuda")
    np.testing.assert_allclose(dev_loss, cpu_loss, rtol=1e-4)
    np.testing.assert_allclose(dev_eval, cpu_eval, rtol=1e-4)
    np.testing.assert_allclose(dev_pred, cpu_pred, rtol=1e-4, atol=1e-5)


def test_an_index_out_of_bounds_on_the_device_is_an_index_error():
    x, i = T.vector("x", dtype="float64"), T.lvector("i")
    f = cuda_function([x, i], T.exp(x)[i] * 2)
    np.testing.assert_allclose(f(np.zeros(3), np.array([0, -1])), [2.0, 2.0])
    with pytest.raises(IndexError):
        f(np.zeros(3), np.array([0, 3]))
