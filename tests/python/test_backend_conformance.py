"""Backend conformance from Python: a list of graphs compiled for every
device, compared with NumPy. The CUDA rows run on a GPU when there is one,
else on the host emulator (theon.cuda.set_emulation). A case with an op that
has no CUDA kernel yet is listed in CUDA_EXPECTED_MISSING (and skipped); a
test checks that the list is exact."""
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
    idx = np.array([3, 0, -1, 7, 7], dtype="int64")
    return {
        "exp_mul_add_float32": (lambda x, y: T.exp(x) * y + 1, [x32, y32],
                                lambda x, y: np.exp(x) * y + 1, 1e-5),
        "sigmoid_float64": (lambda x: T.nnet.sigmoid(x), [x64], lambda x: 1 / (1 + np.exp(-x)), 1e-12),
        "floor_div_mod_int32": (lambda p, q: p // q + p % q, [a, b], lambda p, q: p // q + p % q, 0),
        "dot_float32": (lambda x, y: T.dot(x, y.T), [x32, y32], lambda x, y: x @ y.T, 1e-5),
        "softmax_float64": (lambda x: T.nnet.softmax(x.reshape((5, 8))), [x64],
                            lambda x: np.exp(x.reshape(5, 8)) / np.exp(x.reshape(5, 8)).sum(1, keepdims=True), 1e-12),
        "max_argmax_float32": (lambda x: T.max(x, axis=0) + T.argmax(x, axis=0), [x32],
                               lambda x: x.max(0) + x.argmax(0), 1e-6),
        "take_cumsum_float64": (lambda x, i: T.cumsum(x[i], axis=0), [x64, idx],
                                lambda x, i: np.cumsum(x[i], axis=0), 1e-12),
        "sort_float64": (lambda x: T.sort(x), [x64], np.sort, 0),
        "matrix_inverse_float64": (lambda x: T.nlinalg.matrix_inverse(x.reshape((5, 8))[:, :5] + 4 * np.eye(5)), [x64],
                                   lambda x: np.linalg.inv(x.reshape(5, 8)[:, :5] + 4 * np.eye(5)), 1e-10),
    }


CASES = _cases()

# Cases whose graph has an op without a CUDA kernel yet, with that op as the
# compile error names it. Remove a case when its kernels land.
CUDA_EXPECTED_MISSING = {
}


@pytest.fixture
def cuda_device():
    """cuda:0 on the emulator where no GPU can be used."""
    was = theon.cuda.emulation()
    if not theon.cuda.is_available():
        theon.cuda.set_emulation(True)
    yield
    theon.cuda.set_emulation(was)


def _compile(case, device):
    build, values, _, _ = CASES[case]
    inputs = [_symbolic(v, f"i{k}") for k, v in enumerate(values)]
    return theon.function(inputs, build(*inputs), device=device)


def _symbolic(value, name):
    return T.tensor(dtype=str(value.dtype), shape=(None,) * value.ndim, name=name)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_numpy_on_every_device(case, device, cuda_device):
    _, values, reference, rtol = CASES[case]
    if device != "cpu" and case in CUDA_EXPECTED_MISSING:
        pytest.skip(f"{device}: no CUDA kernel yet for {CUDA_EXPECTED_MISSING[case]}")
    f = _compile(case, device)
    got = f(*values)
    want = reference(*values)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0 if rtol == 0 else rtol)


def test_cuda_expected_missing_list_is_exact(cuda_device):
    assert set(CUDA_EXPECTED_MISSING) <= set(CASES)
    for case in sorted(CASES):
        try:
            _compile(case, "cuda")
            missing = None
        except RuntimeError as e:
            if "has no CUDA kernel" not in str(e):
                raise
            missing = str(e)
        if case in CUDA_EXPECTED_MISSING:
            assert missing is not None, f"{case} compiles for CUDA now: remove it from CUDA_EXPECTED_MISSING"
            assert CUDA_EXPECTED_MISSING[case] in missing, missing
        else:
            assert missing is None, f"{case} is not in CUDA_EXPECTED_MISSING: {missing}"
