"""Control flow: ifelse (lazy: the other branch's ops never run, as the profile's call counts show), values, gradients; OpFromGraph."""
import numpy as np
import pytest

import theon
import theon.tensor as T
from theon.ifelse import ifelse


def test_only_the_branch_taken_runs():
    c = T.iscalar("c")
    x = T.dvector("x")
    expensive = T.sum(T.exp(T.dot(T.outer(x, x), x)))
    cheap = T.sum(x)
    f = theon.function([c, x], ifelse(c, cheap, expensive), profile=True)
    xv = np.array([0.1, 0.2, 0.3])
    assert f(1, xv) == pytest.approx(0.6)
    assert f(1, xv) == pytest.approx(0.6)
    calls = {op: n for op, n, _ in f._core.profile()}
    # The else branch's ops never ran: their steps have zero calls.
    assert calls["IfElse"] == 2 and calls["dot"] == 0, calls
    assert all(n == 0 for op, n in calls.items() if "exp" in op), calls
    assert sum(n for op, n in calls.items() if op.startswith("Sum")) == 2, calls  # only the cheap branch's sum
    want = np.sum(np.exp(np.outer(xv, xv) @ xv))
    assert f(0, xv) == pytest.approx(want)


def test_lists_shapes_and_gradient():
    c = T.bscalar("c")
    a = T.dvector("a")
    outs = ifelse(c, [a * 2, T.sum(a)], [T.concatenate([a, a]), T.sum(a) + 1])
    f = theon.function([c, a], outs + [outs[0].shape[0]])
    r = f(1, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(r[0], [2, 4])
    assert r[1] == 3 and r[2] == 2
    r = f(0, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(r[0], [1, 2, 1, 2])
    assert r[2] == 4
    x = T.dvector("x")
    g = theon.grad(T.sum(ifelse(c, x * x, 3 * x)), x)
    fg = theon.function([c, x], g)
    np.testing.assert_array_equal(fg(1, np.array([1.0, -2.0])), [2, -4])
    np.testing.assert_array_equal(fg(0, np.array([1.0, -2.0])), [3, 3])


def test_bad_input():
    x = T.dvector("x")
    with pytest.raises((ValueError, TypeError)):
        ifelse(T.bvector("c"), x, x)
    with pytest.raises((ValueError, TypeError)):
        ifelse(T.bscalar("c"), x, T.fvector())
    with pytest.raises(TypeError):
        ifelse(T.bscalar("c"), [x], x)


def test_op_from_graph():
    from theon.compile.builders import OpFromGraph

    x, y = T.dvectors("x", "y")
    op = OpFromGraph([x, y], [x * y + T.exp(x)])
    a, b = T.dvectors("a", "b")
    z = op(a, b)
    av, bv = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = theon.function([a, b], [z, theon.grad(T.sum(z), a)], mode=mode)
        r = f(av, bv)
        np.testing.assert_allclose(r[0], av * bv + np.exp(av))
        np.testing.assert_allclose(r[1], bv + np.exp(av))
    with pytest.raises((ValueError, TypeError)):
        OpFromGraph([x], [x + y])
