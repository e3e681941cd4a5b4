"""theon on a CUDA GPU against PyTorch CUDA: bandwidth of fused elementwise kernels and training steps.

Issue 7's targets, measured in one run on one GPU:

  copy     device-to-device copy bandwidth (PyTorch's y.copy_(x)): the ceiling
  fused    y = tanh(x * a + b) * exp(-x) + 1 on 64M float32 held in shared
           variables (on the device), written back through an update: theon's
           NVRTC-fused kernel vs PyTorch eager (one kernel per op) and
           torch.compile when it works; bandwidth counts one read of x and
           one write of y. Target: theon >= 0.85 of the copy's bandwidth.
  mlp      784-512-512-10 ReLU, Adam, batch 256, one training step
  cnn      the main job's CNN (conv 32 -> pool -> conv 64 -> pool -> dense
           128 -> dense 10), Adam, batch 256, one training step
           Target for mlp and cnn: theon's step <= 1.0 of PyTorch's.

theon's training steps go through theon.nn's train_on_batch with
config.device = 'cuda': the batch is uploaded and the loss read back each
step (PyTorch's step below does the same: batch from NumPy, loss.item()).

Each case is timed as the median of rounds, the peers interleaved. With
--write-docs the "GPU (issue 7)" section of docs/BENCHMARKS.md is replaced.
--emulator runs every case tiny on theon's host emulator of a CUDA device
(a smoke test of the script on machines without a GPU; no timings reported).

    THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/gpu_suite.py [--write-docs]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import replace_section  # noqa: E402
from _timing import median_time  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rounds", type=int, default=20)
parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
parser.add_argument("--write-docs", action="store_true")
parser.add_argument("--emulator", action="store_true", help="tiny sizes on the host emulator (smoke test)")
args = parser.parse_args()

import numpy as np  # noqa: E402

import theon  # noqa: E402
import theon.cuda  # noqa: E402
import theon.tensor as T  # noqa: E402
from theon import nn  # noqa: E402

if args.emulator:
    theon.cuda.set_emulation(True)
if not theon.cuda.is_available() and not args.emulator:
    sys.exit("no CUDA device: " + theon.cuda.unavailable_reason())
try:
    import torch
    HAVE_TORCH = torch.cuda.is_available() and not args.emulator
except ImportError:
    HAVE_TORCH = False

N = 1 << 12 if args.emulator else 1 << 26
B = 8 if args.emulator else 256
STEPS = 2 if args.emulator else args.steps
ROUNDS = 2 if args.emulator else args.rounds
results = {}


def gbps(nbytes, seconds):
    return nbytes / seconds / 1e9


def sync():
    if HAVE_TORCH:
        torch.cuda.synchronize()


# ---- copy and fused elementwise ------------------------------------------------
x0 = np.random.default_rng(0).standard_normal(N).astype(np.float32)
x = theon.shared(x0, name="x")
y = theon.shared(np.zeros_like(x0), name="y")
expr = T.tanh(x * np.float32(1.5) + np.float32(0.25)) * T.exp(-x) + np.float32(1)
# The first element as an output: reading it waits for the kernel, a 4-byte download.
f_fused = theon.function([], expr[0], updates=[(y, expr)], device="cuda")
f_scale = theon.function([], x[0], updates=[(y, x * np.float32(2))], device="cuda")
f_fused()
got = y.get_value()
want = (np.tanh(x0 * np.float32(1.5) + np.float32(0.25)) * np.exp(-x0) + np.float32(1)).astype(np.float32)
assert np.allclose(got, want, rtol=1e-5, atol=1e-6), "fused kernel disagrees with NumPy"
moved = 2 * x0.nbytes
results["theon fused"] = gbps(moved, median_time(f_fused, ROUNDS))
results["theon x*2"] = gbps(moved, median_time(f_scale, ROUNDS))
if HAVE_TORCH:
    tx = torch.from_numpy(x0).cuda()
    ty = torch.empty_like(tx)

    def torch_copy():
        ty.copy_(tx)
        sync()

    def torch_eager():
        torch.mul(tx, 1.5).add_(0.25).tanh_().mul_(torch.exp(-tx)).add_(1)
        sync()

    results["torch copy"] = gbps(moved, median_time(torch_copy, ROUNDS))
    results["torch eager"] = gbps(moved, median_time(torch_eager, ROUNDS))
    try:
        fc = torch.compile(lambda t: torch.tanh(t * 1.5 + 0.25) * torch.exp(-t) + 1)
        fc(tx)

        def torch_compiled():
            fc(tx)
            sync()

        results["torch.compile"] = gbps(moved, median_time(torch_compiled, ROUNDS))
    except Exception as e:  # noqa: BLE001 (inductor needs a compiler; report, not fail)
        print("torch.compile unavailable:", str(e).splitlines()[0])


# ---- training steps ---------------------------------------------------------------
def theon_model(kind):
    if kind == "cnn":
        m = nn.Sequential([nn.Conv2D(32, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
                           nn.Conv2D(64, 3, padding="same", activation="relu"), nn.MaxPool2D(2), nn.Flatten(),
                           nn.Dense(128, activation="relu"), nn.Dense(10)])
        m.build([1, 28, 28])
    else:
        m = nn.Sequential([nn.Dense(512, activation="relu"), nn.Dense(512, activation="relu"), nn.Dense(10)])
        m.build([784])
    m.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", from_logits=True)
    return m


def torch_model(kind):
    tnn = torch.nn
    if kind == "cnn":
        m = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                           tnn.Linear(64 * 7 * 7, 128), tnn.ReLU(), tnn.Linear(128, 10))
    else:
        m = tnn.Sequential(tnn.Linear(784, 512), tnn.ReLU(), tnn.Linear(512, 512), tnn.ReLU(), tnn.Linear(512, 10))
    return m.cuda()


rng = np.random.default_rng(1)
images = rng.random((STEPS * B, 784), dtype=np.float32)
labels = rng.integers(0, 10, STEPS * B).astype(np.int64)
theon.config.device = "cuda"
try:
    for kind in ("mlp", "cnn"):
        shape = (-1, 1, 28, 28) if kind == "cnn" else (-1, 784)
        batches = [(images[i * B:(i + 1) * B].reshape(shape), labels[i * B:(i + 1) * B]) for i in range(STEPS)]
        m = theon_model(kind)

        def theon_steps(m=m, batches=batches):
            for bx, by in batches:
                m.train_on_batch(bx, by)

        results[f"theon {kind} step ms"] = 1e3 * median_time(theon_steps, ROUNDS, warmup=1) / STEPS
        if HAVE_TORCH:
            tm = torch_model(kind)
            opt = torch.optim.Adam(tm.parameters(), 1e-3)
            loss_fn = torch.nn.CrossEntropyLoss()

            def torch_steps(tm=tm, opt=opt, batches=batches):
                for bx, by in batches:
                    opt.zero_grad()
                    loss = loss_fn(tm(torch.from_numpy(bx).cuda()), torch.from_numpy(by).cuda())
                    loss.backward()
                    opt.step()
                    loss.item()

            results[f"torch {kind} step ms"] = 1e3 * median_time(torch_steps, ROUNDS, warmup=1) / STEPS
finally:
    theon.config.device = "cpu"

for k, v in results.items():
    print(f"{k:24s} {v:10.3f}" + ("" if k.endswith("ms") else " GB/s"))
if args.emulator:
    print("emulator smoke test passed (timings are meaningless here)")
    sys.exit(0)


def ratio(a, b):
    return f"{results[a] / results[b]:.2f}" if a in results and b in results else "n/a"


if args.write_docs:
    dev = theon.cuda.device_name(0)
    lines = [
        "## GPU (issue 7)", "",
        f"Measured on {dev} by `python3 bench/gpu_suite.py --write-docs` "
        f"(PyTorch {torch.__version__ if HAVE_TORCH else 'absent'}).", "",
        "| case | theon | PyTorch | ratio |", "| --- | --- | --- | --- |",
        f"| fused elementwise, 64M float32 (GB/s) | {results['theon fused']:.0f} | "
        f"{results.get('torch eager', float('nan')):.0f} eager | {ratio('theon fused', 'torch copy')} of copy |",
        f"| y = x * 2 vs copy_ (GB/s) | {results['theon x*2']:.0f} | {results.get('torch copy', float('nan')):.0f} | "
        f"{ratio('theon x*2', 'torch copy')} |",
    ]
    for kind in ("mlp", "cnn"):
        a, b = f"theon {kind} step ms", f"torch {kind} step ms"
        lines.append(f"| {kind} training step (ms) | {results[a]:.2f} | {results.get(b, float('nan')):.2f} | "
                     f"{ratio(a, b)} |")
    replace_section(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "BENCHMARKS.md"),
                    "## GPU (issue 7)", "\n".join(lines) + "\n")
