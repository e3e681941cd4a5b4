"""Shared helpers of the property tests: dtypes, hypothesis strategies for
values and memory layouts, tolerances, and compiling one theon expression."""
import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import theon
import theon.tensor as T

# Examples per property test. The default keeps the suite fast and
# deterministic; THEON_PROPERTY_EXAMPLES=2000 runs a long randomised search.
EXAMPLES = int(os.environ.get("THEON_PROPERTY_EXAMPLES", "0")) or None
DERANDOMIZE = EXAMPLES is None


def examples(default):
    return EXAMPLES or default


# Every dtype theon and NumPy share (bfloat16 has no NumPy oracle).
ALL_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64"]
INT_DTYPES = [d for d in ALL_DTYPES if d.startswith(("int", "uint"))]
FLOAT_DTYPES = ["float16", "float32", "float64"]

dtypes = st.sampled_from(ALL_DTYPES)

# Relative tolerances by result dtype. float16 results are computed in float32
# and rounded once by both NumPy and theon, but a one-ulp float32 difference
# between libm and NumPy's SIMD loops can flip that rounding: allow ~2 ulp.
RTOL = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-12}
# Absolute tolerance: the smallest normal number. Below it precision is
# absolute, and oracles differ on underflow (erfc(4) is 1.5e-8, float16 0 or
# 6e-8 by rounding; SciPy's float32 expit(-100) is 0, theon's 3.7e-44).
ATOL = {"float16": 2.0**-14, "float32": 2.0**-126, "float64": 2.0**-1022}


def elements(dtype):
    """Values of `dtype`: mostly small and 'interesting' (halves, zeros, signs), sometimes the full range.

    Subnormals are left out: whether a SIMD loop flushes them is a property of
    the CPU and the NumPy build, not of the operation.
    """
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        info = np.iinfo(dt)
        small = st.integers(max(info.min, -8), min(info.max, 8))
        edge = st.sampled_from([info.min, info.max, info.min + 1, info.max - 1])
        return st.one_of(small, small, edge, st.integers(info.min, info.max))
    width = dt.itemsize * 8
    special = st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan])
    small = st.floats(-10, 10, width=width, allow_subnormal=False)
    wide = st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=False)
    return st.one_of(special, small, small, wide)


LAYOUTS = ["C", "F", "reversed", "strided"]


def relayout(a, layout):
    """An array equal to `a` with the given memory layout (views, not copies, where the layout says so)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.copy()  # np.ascontiguousarray would make it 1-d
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "reversed":
        # Negative strides on every axis: a reversed copy, viewed reversed again.
        rev = tuple(slice(None, None, -1) for _ in range(a.ndim))
        return np.ascontiguousarray(a[rev])[rev]
    # strided: every other element of a buffer twice as long on each axis
    big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
    view = big[tuple(slice(None, None, 2) for _ in range(a.ndim))]
    view[...] = a
    return view


@st.composite
def laid_out_arrays(draw, dtype, shape, elems=None):
    """A hypothesis array of `dtype` and `shape`, in a drawn memory layout."""
    a = draw(hnp.arrays(np.dtype(dtype), shape, elements=elems if elems is not None else elements(dtype)))
    return relayout(a, draw(st.sampled_from(LAYOUTS)))


def symbolic(dtype, shape, static=False):
    """A theon variable for an input of this dtype and shape: all dims unknown, or the exact static shape."""
    return T.tensor(dtype, shape=tuple(shape) if static else (None,) * len(shape))


def compile_and_run(inputs, arrays, expr):
    """Compiles `expr` of the `inputs` variables and runs it on `arrays`; returns a NumPy array."""
    f = theon.function(list(inputs), expr)
    return np.asarray(f(*arrays))


def assert_close(got, want, dtype, rtol=None, atol=0.0, err_msg=""):
    """Values equal up to the dtype's tolerance; NaN where NumPy has NaN; infinities exact."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape} {err_msg}"
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        np.testing.assert_array_equal(got, want.astype(dt), err_msg=err_msg)
        return
    r = RTOL[dt.name] if rtol is None else rtol
    atol = max(atol, ATOL[dt.name])
    # The oracle rounded to the result dtype (SciPy computes float16 in float64).
    g, w = got.astype(np.float64), want.astype(dt).astype(np.float64)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg="NaN positions differ " + err_msg)
    np.testing.assert_array_equal(np.isinf(g) & (g > 0), np.isinf(w) & (w > 0), err_msg="+inf differs " + err_msg)
    np.testing.assert_array_equal(np.isinf(g) & (g < 0), np.isinf(w) & (w < 0), err_msg="-inf differs " + err_msg)
    fin = np.isfinite(g) & np.isfinite(w)
    np.testing.assert_allclose(g[fin], w[fin], rtol=r, atol=atol, err_msg=err_msg)
