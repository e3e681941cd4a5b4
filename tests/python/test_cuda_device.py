"""Device selection from Python: theon.config.device, THEON_FLAGS=device=...,
theon.function(..., device=...), and the errors without a usable GPU."""
import os
import subprocess
import sys

import numpy as np
import pytest

import theon
import theon.cuda
import theon.tensor as T


def test_config_device_accepts_cpu_cuda_and_cuda_n():
    with theon.config.change_flags(device="cuda:1"):
        assert theon.config.device == "cuda:1"
    assert theon.config.device == "cpu"
    for bad in ["tpu", "cuda:", "cuda:x", "CUDA"]:
        with pytest.raises(ValueError, match=f"'{bad}'"):
            theon.config.device = bad
    assert theon.config.device == "cpu"


def test_theon_flags_device_reaches_config():
    env = dict(os.environ, THEON_FLAGS="device=cuda")
    out = subprocess.run([sys.executable, "-c", "import theon; print(theon.config.device)"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "cuda"
    env["THEON_FLAGS"] = "device=cuda:zero"
    bad = subprocess.run([sys.executable, "-c", "import theon"], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "cuda:zero" in bad.stderr


@pytest.mark.skipif(theon.cuda.is_available() or theon.cuda.emulation(), reason="a GPU (or the emulator) is available")
def test_function_for_cuda_without_gpu_raises_naming_the_problem():
    x = T.vector("x")
    with pytest.raises(RuntimeError, match="device 'cuda:0' is not usable") as e:
        theon.function([x], T.exp(x), device="cuda")
    assert theon.cuda.unavailable_reason() in str(e.value)
    with theon.config.change_flags(device="cuda"):
        with pytest.raises(RuntimeError, match="cuda:0"):
            theon.function([x], T.exp(x))
        f = theon.function([x], T.exp(x), device="cpu")  # the per-function device wins
    np.testing.assert_allclose(f(np.array([0.0, 1.0], dtype=x.dtype)), [1.0, np.e], rtol=1e-6)


def test_function_with_a_malformed_device_is_a_value_error():
    x = T.vector("x")
    with pytest.raises(ValueError, match="'gpu:0'"):
        theon.function([x], x * 2, device="gpu:0")


def test_availability_queries_are_consistent():
    n = theon.cuda.device_count()
    assert theon.cuda.is_available() == (n > 0)
    assert (theon.cuda.unavailable_reason() == "") == (n > 0)
    if not theon.cuda.built_with_cuda():
        assert "built without CUDA" in theon.cuda.unavailable_reason()
    if n == 0:
        with pytest.raises(RuntimeError):
            theon.cuda.device_name(0)
