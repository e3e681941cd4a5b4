"""Compilation modes from Python: Mode objects and names, including/excluding/
requiring by rewrite name and tag, config.optimizer*, DebugMode, NanGuardMode,
rewrites_applied and no_default_updates."""
import numpy as np
import pytest

import theon
import theon.tensor as T
from theon.compile import mode as mode_mod
from theon.compile.mode import FAST_COMPILE, FAST_RUN, DebugMode, Mode, NanGuardMode, get_mode

# The rewrites FAST_COMPILE may run (everything tagged fast_compile).
FAST_COMPILE_REWRITES = {"merge", "constant_folding"}


def rich_graph():
    """A graph where many rewrites have something to do: repeated subexpressions
    (merge), constant subexpressions (constant folding), x*1, x+0, log(1+exp(x)),
    exp(log(x)), -(-x) and a chain of elementwise ops (fusion)."""
    x = T.dvector("x")
    y = T.dvector("y")
    two = T.constant(2.0) + T.constant(3.0)
    a = T.exp(x) + T.exp(x)
    b = T.log(1 + T.exp(y)) * 1 + 0
    c = T.exp(T.log(T.abs(x) + 1)) - (-(-y))
    d = T.sqr(T.sin(x) * two) + T.cos(y) / two
    return [x, y], [a, b, c, d, (a + b + c + d).sum()]


def rich_inputs():
    rng = np.random.default_rng(0)
    return rng.normal(size=5), rng.normal(size=5)


def run(mode, outs_and_ins=None):
    ins, outs = outs_and_ins or rich_graph()
    f = theon.function(ins, outs, mode=mode)
    return f, f(*rich_inputs())


def assert_same_values(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- Mode objects and names


def test_get_mode_by_name_and_object():
    assert get_mode("FAST_RUN") is FAST_RUN
    assert get_mode("FAST_COMPILE") is FAST_COMPILE
    for name in ("None", "DebugMode", "NanGuardMode"):
        assert get_mode(name).name == name
    assert get_mode("DEBUG_MODE").name == "DebugMode"
    m = Mode(name="FAST_COMPILE")
    assert get_mode(m) is m
    assert get_mode(None) == get_mode(theon.config.mode)
    assert isinstance(mode_mod.get_default_mode(), Mode)


def test_including_excluding_requiring_return_new_modes_that_record_the_lists():
    base = get_mode("FAST_RUN")
    m = base.excluding("fusion").including("my_rewrite", "other").requiring("fast_run")
    assert m is not base and isinstance(m, Mode)
    assert m.name == "FAST_RUN"
    assert m.excluded == ["fusion"]
    assert m.included == ["my_rewrite", "other"]
    assert m.required == ["fast_run"]
    # The original is unchanged.
    assert base.included == base.excluded == base.required == []
    assert m.excluding("merge").excluded == ["fusion", "merge"]
    assert m != base and m == base.excluding("fusion").including("my_rewrite", "other").requiring("fast_run")
    assert "excluding=['fusion']" in repr(m)


def test_theano_spelling_of_excluding_compiles():
    # theano.compile.mode.get_mode('FAST_RUN').excluding('fusion'), as Theano code writes it.
    m = theon.compile.mode.get_mode("FAST_RUN").excluding("fusion")
    x = T.dvector()
    f = theon.function([x], T.exp(x) * 2 + 1, mode=m)
    assert "fusion" not in f.rewrites_applied()
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.exp([0.0, 1.0]) * 2 + 1)
    assert f.mode.excluded == ["fusion"]


def test_theano_mode_constructor_optimizer_argument():
    assert Mode(linker="py", optimizer=None).name == "None"
    assert Mode(optimizer="None").name == "None"
    assert Mode().name == "FAST_RUN"
    assert Mode(optimizer="fast_compile").name == "FAST_COMPILE"
    fr = Mode(optimizer="fast_run")
    assert fr.name == "FAST_RUN" and "fast_run" in fr.included
    f, _ = run(Mode(linker="py", optimizer=None))
    assert f.rewrites_applied() == {}
    # optimizer='merge': merge only.
    f, _ = run(Mode(optimizer="merge"))
    assert set(f.rewrites_applied()) == {"merge"}


def test_unknown_names_raise_clearly():
    with pytest.raises(ValueError, match=r"unknown mode 'WARP_SPEED'.*FAST_RUN"):
        get_mode("WARP_SPEED")
    with pytest.raises(ValueError, match=r"unknown mode 'fast_run'"):
        theon.function([T.dvector()], T.dvector().sum(), mode="fast_run", on_unused_input="ignore")
    with pytest.raises(ValueError, match="unknown optimizer 'o9'"):
        Mode(optimizer="o9")
    with pytest.raises(ValueError, match="unknown mode name"):
        Mode(name="Fast")
    with pytest.raises(TypeError, match="non-empty strings"):
        FAST_RUN.including(3)
    with pytest.raises(TypeError, match="non-empty strings"):
        FAST_RUN.excluding("")
    with pytest.raises(ValueError, match="unknown mode"):
        get_mode(42)


# ---------------------------------------------------------------- which rewrites run


def test_mode_none_runs_nothing_and_keeps_the_graph():
    ins, outs = rich_graph()
    f = theon.function(ins, outs, mode="None")
    assert f.rewrites_applied() == {}
    assert f.mode.name == "None"
    # The graph runs as written: both exp(x) nodes are still there.
    assert f._core.nodes().count("Elemwise{exp}") >= 2
    g = theon.function(ins, outs, mode="FAST_RUN")
    assert len(g._core.nodes()) < len(f._core.nodes())
    assert_same_values(g(*rich_inputs()), f(*rich_inputs()))


def test_fast_compile_runs_only_merge_and_constant_folding():
    f, got = run("FAST_COMPILE")
    applied = f.rewrites_applied()
    assert set(applied) <= FAST_COMPILE_REWRITES, applied
    assert applied.get("merge", 0) >= 1 and applied.get("constant_folding", 0) >= 1
    _, want = run("None")
    assert_same_values(got, want)


def test_fast_run_runs_more_than_fast_compile():
    f, got = run("FAST_RUN")
    applied = f.rewrites_applied()
    assert applied.get("merge", 0) >= 1 and applied.get("constant_folding", 0) >= 1
    assert all(isinstance(k, str) and isinstance(v, int) and v >= 1 for k, v in applied.items())
    _, want = run("None")
    assert_same_values(got, want)


def test_excluding_by_name():
    f, got = run(get_mode("FAST_RUN").excluding("merge"))
    assert "merge" not in f.rewrites_applied()
    _, want = run("None")
    assert_same_values(got, want)
    f, _ = run(get_mode("FAST_RUN").excluding("constant_folding"))
    assert "constant_folding" not in f.rewrites_applied()


def test_excluding_by_tag():
    # merge and constant_folding carry the fast_compile tag: excluding it removes both.
    f, got = run(FAST_RUN.excluding("fast_compile"))
    assert not set(f.rewrites_applied()) & FAST_COMPILE_REWRITES, f.rewrites_applied()
    _, want = run("None")
    assert_same_values(got, want)
    # Every default rewrite is tagged fast_run.
    f, _ = run(FAST_RUN.excluding("fast_run"))
    assert f.rewrites_applied() == {}


def test_requiring_selects_only_rewrites_with_that_tag_or_name():
    f, _ = run(FAST_RUN.requiring("merge"))
    assert set(f.rewrites_applied()) == {"merge"}
    f, _ = run(FAST_RUN.requiring("constant_folding"))
    assert set(f.rewrites_applied()) <= {"constant_folding", "merge"}  # merge also runs between phases
    assert f.rewrites_applied().get("constant_folding", 0) >= 1
    f, _ = run(FAST_RUN.requiring("no_such_tag"))
    assert f.rewrites_applied() == {}


def test_including_by_name_adds_a_rewrite():
    with theon.config.change_flags(optimizer="None"):
        f, _ = run("FAST_RUN")
        assert f.rewrites_applied() == {}
        f, got = run(get_mode("FAST_RUN").including("constant_folding"))
        assert set(f.rewrites_applied()) == {"constant_folding"}
    _, want = run("None")
    assert_same_values(got, want)


def test_including_does_not_apply_to_mode_none():
    f, _ = run(get_mode("None").including("merge", "fast_run"))
    assert f.rewrites_applied() == {}


def test_config_optimizer():
    assert theon.config.optimizer == "fast_run"
    with theon.config.change_flags(optimizer="None"):
        assert theon.config.optimizer == "None"
        f, _ = run("FAST_RUN")
        assert f.rewrites_applied() == {}
    with theon.config.change_flags(optimizer="fast_compile"):
        f, _ = run("FAST_RUN")
        assert set(f.rewrites_applied()) <= FAST_COMPILE_REWRITES
    with theon.config.change_flags(optimizer="merge"):
        f, _ = run("FAST_RUN")
        assert set(f.rewrites_applied()) == {"merge"}
    with pytest.raises(ValueError, match="config.optimizer"):
        theon.config.optimizer = "turbo"
    assert theon.config.optimizer == "fast_run"


def test_config_optimizer_excluding_including_requiring():
    with theon.config.change_flags(optimizer_excluding="merge:constant_folding"):
        f, _ = run("FAST_RUN")
        assert not set(f.rewrites_applied()) & FAST_COMPILE_REWRITES
        f, _ = run("FAST_COMPILE")
        assert f.rewrites_applied() == {}
    with theon.config.change_flags(optimizer_requiring="merge"):
        f, _ = run("FAST_RUN")
        assert set(f.rewrites_applied()) == {"merge"}
    with theon.config.change_flags(optimizer="None", optimizer_including="merge"):
        f, _ = run("FAST_RUN")
        assert set(f.rewrites_applied()) == {"merge"}
    assert theon.config.optimizer_including == theon.config.optimizer_excluding == ""
    assert "optimizer_excluding" in repr(theon.config)


def test_config_mode_is_the_default():
    with theon.config.change_flags(mode="FAST_COMPILE"):
        f, _ = run(None)
        assert f.mode.name == "FAST_COMPILE"
        assert set(f.rewrites_applied()) <= FAST_COMPILE_REWRITES
    with theon.config.change_flags(mode="None"):
        f, _ = run(None)
        assert f.rewrites_applied() == {}


# ---------------------------------------------------------------- rewrites_applied counts


def test_rewrites_applied_counts():
    x = T.dvector("x")
    # Three copies of exp(x) and two of sin(x): merge removes two exp nodes and one sin node.
    outs = [T.exp(x), T.exp(x) * 2, T.exp(x) + T.sin(x), T.sin(x)]
    f = theon.function([x], outs, mode=FAST_RUN.requiring("merge"))
    assert f.rewrites_applied() == {"merge": 3}
    assert f._core.nodes().count("Elemwise{exp}") == 1
    assert f._core.nodes().count("Elemwise{sin}") == 1
    # A constant subexpression of two nodes: folded in one or two steps, leaving x + constant.
    c = (T.constant(np.arange(3.0)) * 2 + 1)
    g = theon.function([x], x + c, mode=FAST_RUN.requiring("constant_folding"))
    assert set(g.rewrites_applied()) == {"constant_folding"}
    assert 1 <= g.rewrites_applied()["constant_folding"] <= 2
    assert g._core.nodes() == ["Elemwise{add}"]
    np.testing.assert_allclose(g(np.zeros(3)), [1.0, 3.0, 5.0])
    assert g.rewrite_seconds() >= 0
    assert g.rewrite_warnings() == []


def test_rewrites_applied_is_a_copy():
    f, _ = run("FAST_RUN")
    d = f.rewrites_applied()
    d["nonsense"] = 1
    assert "nonsense" not in f.rewrites_applied()


# ---------------------------------------------------------------- DebugMode and NanGuardMode


@pytest.mark.parametrize("mode", ["DebugMode", DebugMode()])
def test_debug_mode_passes_on_correct_graphs(mode):
    f, got = run(mode)
    assert f.mode.name == "DebugMode"
    assert f.rewrites_applied()  # it optimized, and every replacement is re-checked on each call
    _, want = run("None")
    assert_same_values(got, want)
    # More calls, other inputs.
    ins, outs = rich_graph()
    g = theon.function(ins, outs, mode=mode)
    h = theon.function(ins, outs, mode="None")
    rng = np.random.default_rng(1)
    for _ in range(3):
        a, b = rng.normal(size=4) * 3, rng.normal(size=4) * 3
        assert_same_values(g(a, b), h(a, b))


def test_debug_mode_on_a_training_step():
    rng = np.random.default_rng(2)
    w = theon.shared(rng.normal(size=(4, 3)), "w")
    x, y = T.dmatrix("x"), T.lvector("y")
    p = T.nnet.softmax(T.dot(x, w))
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    step = theon.function([x, y], loss, updates=[(w, w - 0.1 * T.grad(loss, w))], mode="DebugMode")
    xs, ys = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
    w0 = w.get_value().copy()
    got = step(xs, ys)
    z = xs @ w0
    pz = np.exp(z - z.max(1, keepdims=True))
    pz /= pz.sum(1, keepdims=True)
    np.testing.assert_allclose(got, -np.log(pz[np.arange(5), ys]).mean(), rtol=1e-10)
    assert not np.allclose(w.get_value(), w0)


@pytest.mark.parametrize("mode", ["NanGuardMode", NanGuardMode(nan_is_error=True, inf_is_error=True)])
def test_nan_guard_names_the_op(mode):
    x = T.dvector("x")
    f = theon.function([x], T.exp(T.log(x) * 2), mode=mode)
    assert f.mode.name == "NanGuardMode"
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [1.0, 4.0])
    with pytest.raises(RuntimeError, match=r"NanGuardMode.*log.*NaN or Inf"):
        f(np.array([1.0, -1.0]))
    g = theon.function([x], 1.0 / x, mode=mode)
    with pytest.raises(RuntimeError, match="NaN or Inf"):
        g(np.array([0.0]))
    # Without the guard the same call returns the NaN.
    h = theon.function([x], T.exp(T.log(x) * 2), mode="FAST_RUN")
    assert np.isnan(h(np.array([-1.0]))[0])


def test_nan_guard_options():
    with pytest.raises(ValueError, match="nan_is_error=False"):
        NanGuardMode(nan_is_error=False)
    with pytest.warns(UserWarning, match="big_is_error"):
        m = NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
    assert m.name == "NanGuardMode"


# ---------------------------------------------------------------- no_default_updates


def test_no_default_updates():
    s = theon.shared(np.int64(0))
    s.default_update = s + 1
    f = theon.function([], s, no_default_updates=True)
    f()
    f()
    assert s.get_value() == 0
    g = theon.function([], s)
    g()
    assert s.get_value() == 1
    # Explicit updates still apply.
    h = theon.function([], s, updates=[(s, s + 10)], no_default_updates=True)
    h()
    assert s.get_value() == 11
    with pytest.raises(TypeError, match="no_default_updates"):
        theon.function([], s, no_default_updates=[s])


def test_no_default_updates_with_random_streams():
    srng = T.shared_randomstreams.RandomStreams(seed=3)
    u = srng.uniform((3,))
    f = theon.function([], u, no_default_updates=True)
    np.testing.assert_array_equal(f(), f())
    g = theon.function([], u)
    assert not np.array_equal(g(), g())


def test_rewrites_lists_every_rewrite_with_its_phase_and_doc():
    rs = theon.compile.rewrites()
    names = [r["name"] for r in rs]
    assert len(names) == len(set(names))
    for expected in ("merge", "constant_folding", "log1p_from_log", "elemwise_fusion", "elemwise_inplace", "gemm_from_dot"):
        assert expected in names
    phases = {"merge", "canonicalize", "stabilize", "specialize", "fusion", "inplace"}
    for r in rs:
        assert r["phase"] in phases and r["doc"] and r["phase"] in r["tags"], r
    # Every name is usable in excluding(): a function compiles with each one excluded.
    x = T.dvector("x")
    for name in names[:5]:
        f = theon.function([x], T.log(1 + T.exp(x)) * 1, mode=theon.compile.mode.get_mode("FAST_RUN").excluding(name))
        assert name not in f.rewrites_applied()
