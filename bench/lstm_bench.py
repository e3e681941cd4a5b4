"""One LSTM training step (batch 32, 50 steps, 64 inputs, 128 units): theon.nn vs PyTorch and JAX.

The step: y = LSTM(x) (last output), loss = mean(y^2), gradient of the loss
with respect to the kernel, recurrent kernel and bias, and a plain SGD update
of the three (float32). Systems:
  theon  nn.LSTM (a theon scan; its gradient is scan's backward loop), one
         compiled function with the SGD updates
  torch  torch.nn.LSTM (CPU, its fused ATen kernel), loss.backward() and an
         in-place SGD update under no_grad
  jax    jax.lax.scan over the same cell, jax.value_and_grad and the update under jax.jit

All systems run on the CPU with the same thread count (--threads, default:
theon's). The table gives the median time of a step over --runs and each
system's time relative to theon (above 1: slower than theon); a forward-only
row (inference) is reported too.

    THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/lstm_bench.py [--runs 30]
"""
import argparse
import os

import numpy as np

from _timing import median_time




def weights(F, U, seed=0):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((F, 4 * U)) * 0.1).astype(np.float32)
    R = (rng.standard_normal((U, 4 * U)) * 0.1).astype(np.float32)
    b = np.zeros(4 * U, np.float32)
    return W, R, b


def theon_fns(xv, W, R, b, lr):
    import theon
    from theon import nn
    B, T, F = xv.shape
    layer = nn.LSTM(R.shape[0])
    x = nn.Input((T, F))
    y = layer(x)
    for w, v in zip(layer.weights, (W, R, b)):
        w.set_value(v)
    loss = (y * y).mean()
    ws = layer.trainable_weights
    grads = theon.grad(loss, ws)
    train = theon.function([x], loss, updates=[(w, w - lr * g) for w, g in zip(ws, grads)])
    fwd = theon.function([x], y)
    return (lambda: train(xv)), (lambda: fwd(xv))


def torch_fns(xv, W, R, b, lr):
    import torch
    B, T, F = xv.shape
    U = R.shape[0]
    m = torch.nn.LSTM(F, U, batch_first=True)
    with torch.no_grad():  # Keras layout (F, 4U) -> torch (4U, F); same gate order i, f, g, o
        m.weight_ih_l0.copy_(torch.from_numpy(W.T.copy()))
        m.weight_hh_l0.copy_(torch.from_numpy(R.T.copy()))
        m.bias_ih_l0.copy_(torch.from_numpy(b))
        m.bias_hh_l0.zero_()
    xt = torch.from_numpy(xv)

    def train():
        out, _ = m(xt)
        y = out[:, -1]
        loss = (y * y).mean()
        m.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= lr * p.grad
        return loss

    def fwd():
        with torch.no_grad():
            return m(xt)[0][:, -1]

    return train, fwd


def jax_fns(xv, W, R, b, lr):
    import jax
    import jax.numpy as jnp
    U = R.shape[0]

    def run(params, x):
        Wj, Rj, bj = params
        xw = jnp.einsum("btf,fg->tbg", x, Wj) + bj

        def cell(carry, xw_t):
            h, c = carry
            z = xw_t + h @ Rj
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        h0 = jnp.zeros((x.shape[0], U), x.dtype)
        (h, _), _ = jax.lax.scan(cell, (h0, h0), xw)
        return h

    def loss_fn(params, x):
        y = run(params, x)
        return (y * y).mean()

    @jax.jit
    def step(params, x):
        loss, g = jax.value_and_grad(loss_fn)(params, x)
        return loss, tuple(p - lr * gi for p, gi in zip(params, g))

    fwd_j = jax.jit(run)
    state = {"p": tuple(jnp.asarray(a) for a in (W, R, b))}
    xj = jnp.asarray(xv)

    def train():
        loss, state["p"] = step(state["p"], xj)
        loss.block_until_ready()

    return train, (lambda: fwd_j(state["p"], xj).block_until_ready())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--inputs", type=int, default=64)
    ap.add_argument("--units", type=int, default=128)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=0, help="0: theon's default")
    a = ap.parse_args()

    import theon
    if a.threads:
        theon.config.num_threads = a.threads
    threads = theon.config.num_threads or os.cpu_count()
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    rng = np.random.default_rng(1)
    xv = rng.standard_normal((a.batch, a.steps, a.inputs)).astype(np.float32)
    W, R, b = weights(a.inputs, a.units)
    lr = 0.01
    rows = []
    systems = [("theon", theon_fns)]
    try:
        import torch
        torch.set_num_threads(threads)
        systems.append((f"torch {torch.__version__}", torch_fns))
    except ImportError:
        print("torch: not installed")
    try:
        import jax
        systems.append((f"jax {jax.__version__}", jax_fns))
    except ImportError:
        print("jax: not installed")
    for name, make in systems:
        train, fwd = make(xv, W.copy(), R.copy(), b.copy(), lr)
        rows.append((name, median_time(train, a.runs), median_time(fwd, a.runs)))
    print(f"LSTM training step: batch {a.batch}, {a.steps} steps, {a.inputs} inputs, {a.units} units, float32, "
          f"{threads} thread(s), median of {a.runs}")
    print(f"{'system':<22}{'train step ms':>15}{'vs theon':>10}{'forward ms':>13}{'vs theon':>10}")
    t0, f0 = rows[0][1], rows[0][2]
    for name, t, f in rows:
        print(f"{name:<22}{t * 1e3:>15.2f}{t / t0:>10.2f}{f * 1e3:>13.2f}{f / f0:>10.2f}")


if __name__ == "__main__":
    main()
