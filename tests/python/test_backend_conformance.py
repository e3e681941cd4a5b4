"""Backend conformance from Python: a list of graphs compiled for every
device, compared with NumPy. The CUDA rows skip, with the reason, where no
GPU can be used (and, for now, where compiled graphs do not run on CUDA)."""
import numpy as np
import pytest

import theon
import theon.cuda
import theon.tensor as T

rng = np.random.default_rng(0)


def _cases():
    x32 = rng.standard_normal((7, 5)).astype("float32")
    y32 = rng.standard_normal((7, 5)).astype("float32")
    x64 = rng.standard_normal(40)
    a = rng.integers(-50, 50, 30).astype("int32")
    b = rng.integers(1, 9, 30).astype("int32") * rng.choice([-1, 1], 30).astype("int32")
    return {
        "exp_mul_add_float32": (lambda x, y: T.exp(x) * y + 1, [x32, y32],
                                lambda x, y: np.exp(x) * y + 1, 1e-5),
        "sigmoid_float64": (lambda x: T.nnet.sigmoid(x), [x64], lambda x: 1 / (1 + np.exp(-x)), 1e-12),
        "floor_div_mod_int32": (lambda p, q: p // q + p % q, [a, b], lambda p, q: p // q + p % q, 0),
        "dot_float32": (lambda x, y: T.dot(x, y.T), [x32, y32], lambda x, y: x @ y.T, 1e-5),
        "softmax_float64": (lambda x: T.nnet.softmax(x.reshape((5, 8))), [x64],
                            lambda x: np.exp(x.reshape(5, 8)) / np.exp(x.reshape(5, 8)).sum(1, keepdims=True), 1e-12),
    }


CASES = _cases()


def _symbolic(value, name):
    return T.tensor(dtype=str(value.dtype), shape=(None,) * value.ndim, name=name)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_numpy_on_every_device(case, device):
    build, values, reference, rtol = CASES[case]
    if device != "cpu" and not theon.cuda.is_available():
        pytest.skip(f"{device}: {theon.cuda.unavailable_reason()}")
    inputs = [_symbolic(v, f"i{k}") for k, v in enumerate(values)]
    try:
        f = theon.function(inputs, build(*inputs), device=device)
    except RuntimeError as e:
        if "cannot run compiled graphs on CUDA yet" in str(e):
            pytest.skip(f"{device}: {e}")
        raise
    got = f(*values)
    want = reference(*values)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0 if rtol == 0 else rtol)
