"""A 1,000-step scan of a small step function: theon.scan vs PyTorch and JAX.

The step is h_t = tanh(h_{t-1} * w + x_t) on vectors of 10 (float32), and
its gradient (BPTT: d sum(h) / d (x, h0, w)). Systems:
  theon   theano.scan compiled once with theon.function (FAST_RUN)
  torch   a Python for loop over torch tensors (eager; autograd for the gradient)
  jax     jax.lax.scan under jax.jit (jax.grad for the gradient)

The table reports median wall times over --runs calls and each system's time
relative to theon (above 1: slower than theon). The last line gives theon's
cost per step ((n-step call - 1-step call) / (n - 1)). The loop's own
overhead beyond its inner ops is measured from C++ by bench/scan_overhead.cpp.

    THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/scan_bench.py [--steps 1000] [--runs 50]
"""
import argparse

import numpy as np

from _timing import median_time

import theon as theano
import theon.tensor as T




def theon_fns(steps, d):
    x, h0, w = T.matrix("x"), T.vector("h0"), T.vector("w")
    h, _ = theano.scan(lambda x_t, h, w: T.tanh(h * w + x_t), sequences=x, outputs_info=h0, non_sequences=w)
    fwd = theano.function([x, h0, w], h)
    bwd = theano.function([x, h0, w], theano.grad(T.sum(h), [x, h0, w]))
    return fwd, bwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    n, d = a.steps, a.dim
    rng = np.random.default_rng(0)
    xv = (rng.normal(size=(n, d)) * 0.1).astype("float32")
    hv = np.zeros(d, "float32")
    wv = (rng.normal(size=d) * 0.5).astype("float32")
    rows = []

    fwd, bwd = theon_fns(n, d)
    t_fwd = median_time(lambda: fwd(xv, hv, wv), a.runs)
    t_bwd = median_time(lambda: bwd(xv, hv, wv), a.runs)
    # Fixed cost of one call (argument checks, one step): a 1-step scan.
    t_one = median_time(lambda: fwd(xv[:1], hv, wv), a.runs * 4)
    # Inner work per step: the tanh(h * w + x) kernel alone, as theon runs it (one fused elementwise op).
    hh, ww, xx = T.vector("hh"), T.vector("ww"), T.vector("xx")
    kern = theano.function([hh, ww, xx], T.tanh(hh * ww + xx))
    t_kern_call = median_time(lambda: kern(hv, wv, xv[0]), a.runs * 20)
    rows.append(("theon", t_fwd, t_bwd))

    try:
        import torch
        torch.set_num_threads(1)
        xt, ht, wt = torch.tensor(xv), torch.tensor(hv), torch.tensor(wv)

        def torch_fwd():
            h = ht
            out = []
            for t in range(n):
                h = torch.tanh(h * wt + xt[t])
                out.append(h)
            return torch.stack(out)

        def torch_bwd():
            x_, h_, w_ = (v.clone().requires_grad_(True) for v in (xt, ht, wt))
            h = h_
            out = []
            for t in range(n):
                h = torch.tanh(h * w_ + x_[t])
                out.append(h)
            torch.stack(out).sum().backward()
            return x_.grad, h_.grad, w_.grad

        with torch.no_grad():
            tf = median_time(torch_fwd, max(5, a.runs // 5))
        rows.append(("torch (Python loop)", tf, median_time(torch_bwd, max(5, a.runs // 5))))
        with torch.no_grad():
            np.testing.assert_allclose(torch_fwd().numpy(), fwd(xv, hv, wv), rtol=1e-4, atol=1e-5)
    except ImportError:
        pass

    try:
        import jax
        import jax.numpy as jnp

        def jfwd(x, h0, w):
            def step(h, x_t):
                h = jnp.tanh(h * w + x_t)
                return h, h
            return jax.lax.scan(step, h0, x)[1]

        jf = jax.jit(jfwd)
        jg = jax.jit(jax.grad(lambda x, h0, w: jfwd(x, h0, w).sum(), argnums=(0, 1, 2)))
        xj, hj, wj = jnp.asarray(xv), jnp.asarray(hv), jnp.asarray(wv)
        rows.append(("jax lax.scan (jit)", median_time(lambda: jf(xj, hj, wj).block_until_ready(), a.runs),
                     median_time(lambda: jax.block_until_ready(jg(xj, hj, wj)), a.runs)))
        np.testing.assert_allclose(np.asarray(jf(xj, hj, wj)), fwd(xv, hv, wv), rtol=1e-4, atol=1e-5)
    except ImportError:
        pass

    print(f"scan of {n} steps, h = tanh(h * w + x_t), vectors of {d} (float32); median of {a.runs} calls")
    print(f"{'system':24s} {'forward':>12s} {'fwd+grad':>12s} {'fwd vs theon':>13s} {'grad vs theon':>14s}")
    for name, f, b in rows:
        print(f"{name:24s} {f * 1e3:10.3f}ms {b * 1e3:10.3f}ms {f / t_fwd:12.2f}x {b / t_bwd:13.2f}x")
    per_step = (t_fwd - t_one) / (n - 1)
    print(f"\ntheon: one-step call {t_one * 1e6:.1f} us; per step {per_step * 1e9:.0f} ns "
          f"(the kernel alone through a theon.function call: {t_kern_call * 1e6:.2f} us)")


if __name__ == "__main__":
    main()
