"""Compile latency of theon.function: how long building a callable takes, and the optimizer's share.

Graphs:
  mlp       an MLP training step (784-512-512-10, ReLU, softmax cross-entropy,
            T.grad, SGD updates of the six shared parameters)
  chain2k   an elementwise chain of 2,000 nodes
  chain20k  an elementwise chain of 20,000 nodes

Each graph is built once and compiled `--runs` times (FAST_RUN; a fresh
FunctionGraph each time); the table reports the median compile time, the
median time the rewrites took (Function.rewrite_seconds()) and their share.
When PyTensor is importable (`--install` pip-installs it first), its compile
time of the same MLP graph is measured too, for the ratio.

    THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/compile_latency.py [--runs 7] [--write-docs]

--write-docs replaces the "## Compile latency" section of docs/BENCHMARKS.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import cpu_line  # noqa: E402

import numpy as np  # noqa: E402

import theon  # noqa: E402
import theon.tensor as T  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "BENCHMARKS.md")
TARGETS = {"mlp": 0.020, "chain2k": 0.200}  # seconds, from the optimizer issue


def mlp_graph(tt, shared, softmax, sizes=(784, 512, 512, 10), lr=0.01):
    """The training step of an MLP in Theano's API (theon or PyTensor): inputs, outputs, updates.

    Written with ops both libraries share (relu as maximum(z, 0), cross-entropy
    as -log(p)[arange(n), y]), so the two compile the same graph."""
    rng = np.random.default_rng(0)
    x, y = tt.matrix("x", dtype="float32"), tt.ivector("y")
    params, h = [], x
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = shared(rng.normal(0, 0.05, size=(a, b)).astype("float32"), name=f"w{i}")
        c = shared(np.zeros(b, dtype="float32"), name=f"b{i}")
        params += [w, c]
        z = tt.dot(h, w) + c
        h = tt.maximum(z, 0) if i < len(sizes) - 2 else softmax(z)
    loss = -tt.mean(tt.log(h)[tt.arange(y.shape[0]), y])
    grads = tt.grad(loss, params)
    updates = [(p, p - np.float32(lr) * g) for p, g in zip(params, grads)]
    return [x, y], [loss], updates


def chain_graph(n):
    """An elementwise chain of n nodes over one vector (several ops, constants that rewrites touch)."""
    x = T.dvector("x")
    v = x
    ops = [lambda v: v * 1.0001, lambda v: v + 0.5, T.tanh, lambda v: v - 0.25, T.sin, lambda v: v / 2.0]
    for i in range(n):
        v = ops[i % len(ops)](v)
    return [x], [v], []


def time_theon(graph, runs):
    ins, outs, updates = graph
    total, rewrite, nodes = [], [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        f = theon.function(ins, outs, updates=updates, mode="FAST_RUN")
        total.append(time.perf_counter() - t0)
        rewrite.append(f.rewrite_seconds())
        nodes = len(f._core.nodes())
        assert f.rewrite_warnings() == [], f.rewrite_warnings()
    return statistics.median(total), statistics.median(rewrite), nodes


def time_pytensor(runs):
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None, None
    graph = mlp_graph(pt, pytensor.shared, lambda z: pt.special.softmax(z, axis=-1))
    ins, outs, updates = graph
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        pytensor.function(ins, outs, updates=updates, mode="FAST_RUN")
        times.append(time.perf_counter() - t0)
    return statistics.median(times), pytensor.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--runs-20k", type=int, default=3)
    ap.add_argument("--install", action="store_true", help="pip install pytensor first (for the ratio)")
    ap.add_argument("--write-docs", action="store_true", help="update the section in docs/BENCHMARKS.md")
    args = ap.parse_args()
    if args.install:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pytensor"], check=False)

    graphs = [("mlp", "MLP training step 784-512-512-10 (ReLU, softmax xent, grad, SGD)",
               mlp_graph(T, theon.shared, T.nnet.softmax), args.runs),
              ("chain2k", "elementwise chain, 2,000 nodes", chain_graph(2000), args.runs),
              ("chain20k", "elementwise chain, 20,000 nodes", chain_graph(20000), args.runs_20k)]
    rows = []
    results = {}
    for key, label, graph, runs in graphs:
        total, rewrite, nodes = time_theon(graph, runs)
        results[key] = total
        target = TARGETS.get(key)
        rows.append((label, total, rewrite, nodes, target))
    pt_time, pt_version = time_pytensor(args.runs)

    lines = ["| graph | compile (median) | rewrites | rewrite share | nodes after | target |",
             "|---|---:|---:|---:|---:|---|"]
    for label, total, rewrite, nodes, target in rows:
        tgt = "" if target is None else f"< {target * 1e3:.0f} ms: {'met' if total < target else 'MISSED'}"
        lines.append(f"| {label} | {total * 1e3:.1f} ms | {rewrite * 1e3:.1f} ms | {100 * rewrite / total:.0f}% "
                     f"| {nodes} | {tgt} |")
    ratio = results["chain20k"] / results["chain2k"]
    # The same chains compiled without rewrites: the compiler's own share of the scaling.
    none = {}
    for key, n, runs in (("chain2k", 2000, args.runs), ("chain20k", 20000, args.runs_20k)):
        ins, outs, _ = chain_graph(n)
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            theon.function(ins, outs, mode="None")
            ts.append(time.perf_counter() - t0)
        none[key] = statistics.median(ts)
    notes = [f"Scaling 2,000 -> 20,000 nodes: {ratio:.1f}x the time for 10x the nodes (linear would be 10x); "
             f"with mode None (no rewrites) {none['chain2k'] * 1e3:.1f} ms -> {none['chain20k'] * 1e3:.1f} ms "
             f"({none['chain20k'] / none['chain2k']:.1f}x).",
             "The MLP's T.grad is built before theon.function (as in Theano) and is not counted."]
    if pt_time is not None:
        notes.append(f"PyTensor {pt_version}, same MLP graph, FAST_RUN: {pt_time * 1e3:.1f} ms "
                     f"({pt_time / results['mlp']:.1f}x theon's).")
    else:
        notes.append("PyTensor not installed: no ratio (run with --install to measure it).")
    table = "\n".join(lines)
    print(table)
    print()
    print("\n".join(notes))
    if args.write_docs:
        cmd = "THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/compile_latency.py " + " ".join(
            a for a in sys.argv[1:])
        section = ("## Compile latency\n\n"
                   f"Command: `{cmd.strip()}`  \n"
                   f"Machine: {cpu_line()}  \n"
                   f"Date: {time.strftime('%Y-%m-%d')}; {args.runs} runs per graph ({args.runs_20k} for 20,000 "
                   "nodes), medians; FAST_RUN. \"rewrites\" is the optimizer's own time "
                   "(Function.rewrite_seconds()); the rest is graph cloning, checks and scheduling.\n\n"
                   f"{table}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n")
        write_section(section)
        print(f"\nwrote the section to {DOC}")


def write_section(section):
    """Replaces (or appends) the '## Compile latency' section of docs/BENCHMARKS.md."""
    text = open(DOC).read() if os.path.exists(DOC) else "# Benchmarks\n"
    start = text.find("## Compile latency")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end < 0 else text[end:])
    with open(DOC, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
