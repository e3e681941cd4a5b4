"""theon.nn against PyTorch (CPU, eager): training throughput of the main job's CNN and an MLP.

Both systems train the same networks on the same Fashion-MNIST batches with the
same thread count, through their high-level APIs (theon.nn Model.train_on_batch
— the compiled training function fit runs — and a torch.nn module with
torch.optim.Adam), interleaved (theon, torch, theon, torch, ...) so that a slow
phase of the machine hits both alike. Reports the median samples/second of
each and the ratio theon / PyTorch:

  cnn  conv3x3 32 same, relu, maxpool 2, conv3x3 64 same, relu, maxpool 2,
       dense 128 relu, dropout 0.3, dense 10 (the main job), batch 128
  mlp  784-512-512-10, ReLU, batch 128

    THEON_BUILD_DIR=$PWD/build PYTHONPATH=$PWD/python python3 bench/nn_vs_pytorch.py [--threads 2] [--steps 20]
"""
import argparse
import os
import statistics
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402

import theon  # noqa: E402
from theon import nn  # noqa: E402
from theon.datasets import fashion_mnist  # noqa: E402

theon.config.num_threads = args.threads
(x, y), _ = fashion_mnist()
B = 128
batches = [(x[i * B:(i + 1) * B], y[i * B:(i + 1) * B]) for i in range(args.steps)]


def theon_model(kind):
    if kind == "cnn":
        m = nn.Sequential([nn.Conv2D(32, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
                           nn.Conv2D(64, 3, padding="same", activation="relu"), nn.MaxPool2D(2), nn.Flatten(),
                           nn.Dense(128, activation="relu"), nn.Dropout(0.3), nn.Dense(10)])
        m.build([1, 28, 28])
    else:
        m = nn.Sequential([nn.Dense(512, activation="relu"), nn.Dense(512, activation="relu"), nn.Dense(10)])
        m.build([784])
    m.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", from_logits=True)
    return m


def run_theon(m, kind):
    shape = (-1, 1, 28, 28) if kind == "cnn" else (-1, 784)
    t = time.perf_counter()
    for bx, by in batches:
        m.train_on_batch(bx.reshape(shape), by)
    return len(batches) * B / (time.perf_counter() - t)


def torch_setup(kind):
    import torch

    torch.set_num_threads(args.threads)
    tnn = torch.nn
    if kind == "cnn":
        net = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(32, 64, 3, padding=1),
                             tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(64 * 49, 128), tnn.ReLU(),
                             tnn.Dropout(0.3), tnn.Linear(128, 10))
    else:
        net = tnn.Sequential(tnn.Linear(784, 512), tnn.ReLU(), tnn.Linear(512, 512), tnn.ReLU(), tnn.Linear(512, 10))
    return torch, net, torch.optim.Adam(net.parameters(), 1e-3)


def run_torch(setup, kind):
    torch, net, opt = setup
    shape = (-1, 1, 28, 28) if kind == "cnn" else (-1, 784)
    data = [(torch.from_numpy(bx.reshape(shape)), torch.from_numpy(by)) for bx, by in batches]
    t = time.perf_counter()
    for bx, by in data:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(bx), by)
        loss.backward()
        opt.step()
    return len(batches) * B / (time.perf_counter() - t)


for kind in ("cnn", "mlp"):
    m = theon_model(kind)
    run_theon(m, kind)  # compile and warm up
    try:
        setup = torch_setup(kind)
        run_torch(setup, kind)
    except ImportError:
        setup = None
    th, to = [], []
    for _ in range(args.rounds):
        th.append(run_theon(m, kind))
        if setup:
            to.append(run_torch(setup, kind))
    line = f"{kind}: theon.nn {statistics.median(th):8.0f} samples/s"
    if to:
        line += f"   PyTorch {statistics.median(to):8.0f} samples/s   theon/PyTorch time ratio {statistics.median(to) / statistics.median(th):.2f}"
    else:
        line += "   PyTorch not available"
    print(line, flush=True)
np  # noqa: B018
