"""A character-level language model with theon.nn's LSTM, trained on the GNU GPL version 3.

The text is /usr/share/common-licenses/GPL-3, which Debian's essential
`base-files` package installs on every Debian/Ubuntu system (nothing is
downloaded). The model reads a window of characters and predicts each next one:

    Embedding(vocab, 32) -> LSTM(128, return_sequences=True) -> Dense(vocab)

trained with Adam on the mean cross-entropy over every position of the window
(a Theano-style loop: one compiled training function with the optimizer's
updates). After each epoch it prints the loss and a sample generated with
temperature sampling: a second compiled function advances the same LSTM one
character at a time from its (h, c) state (initial_state / return_state), so
generation costs one step per character.

    python examples/char_lm.py [--epochs N] [--quick] [--temperature T] [--text PATH]

--quick trains a smaller model for a few seconds (what the tests run). The
last line is "loss: FIRST -> LAST": the mean of the first 5 batches' losses and
of the last quarter of the last epoch's. examples/char_lm.cpp is the same job
in C++ alone. The full run takes about two minutes on 2 cores.
"""
import argparse
import sys
import time

import numpy as np

import theon
from theon import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--seq-len", type=int, default=64)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--stride", type=int, default=4, help="offset between training windows")
parser.add_argument("--temperature", type=float, default=0.6)
parser.add_argument("--sample-len", type=int, default=300)
parser.add_argument("--quick", action="store_true", help="a small model for a few seconds (tests)")
args = parser.parse_args()
sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped too
if args.quick:
    args.epochs, args.seq_len, args.units, args.stride, args.sample_len = 2, 32, 64, 16, 80

try:
    text = open(args.text, encoding="utf-8").read()
except OSError as e:
    sys.exit(f"char_lm: cannot read {args.text} ({e}); it comes with Debian's base-files package, "
             "or give another text with --text")
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = np.array([index[c] for c in text], dtype=np.int64)
V = len(chars)
print(f"{len(text)} characters, vocabulary {V}, windows of {args.seq_len}, LSTM({args.units})")

# ---- the model: layers called on symbolic tensors ----
nn.set_global_seed(1234)
embed = nn.Embedding(V, 32)
lstm = nn.LSTM(args.units, return_sequences=True, return_state=True)
dense = nn.Dense(V)

x = nn.Input((args.seq_len,), dtype="int64", name="x")
y = nn.Input((args.seq_len,), dtype="int64", name="y")
seq, _, _ = lstm(embed(x), training=True)
logits = dense(seq)  # (batch, time, vocab)
loss = nn.losses.sparse_categorical_crossentropy(y.flatten(), logits.reshape((-1, V)), from_logits=True)
params = embed.trainable_weights + lstm.trainable_weights + dense.trainable_weights
opt = nn.optimizers.Adam(5e-3, clipnorm=5.0)
train = theon.function([x, y], loss, updates=opt.get_updates(loss, params))

# One step of generation: a character and the state in, the next logits and state out.
c_in = nn.Input((1,), dtype="int64", name="c")
h_in, s_in = nn.Input((args.units,), name="h"), nn.Input((args.units,), name="s")
out1, h1, s1 = lstm(embed(c_in), initial_state=[h_in, s_in])
step = theon.function([c_in, h_in, s_in], [dense(out1)[:, 0], h1, s1])


def sample(seed_text, n, temperature, rng):
    h = np.zeros((1, args.units), np.float32)
    s = np.zeros((1, args.units), np.float32)
    out = list(seed_text)
    logit = None
    for ch in seed_text:
        logit, h, s = step(np.array([[index[ch]]]), h, s)
    for _ in range(n):
        z = logit[0].astype(np.float64) / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        k = rng.choice(V, p=p)
        out.append(chars[k])
        logit, h, s = step(np.array([[k]]), h, s)
    return "".join(out)


starts = np.arange(0, len(data) - args.seq_len - 1, args.stride)
rng = np.random.default_rng(0)
first = last = None
t0 = time.time()
for epoch in range(1, args.epochs + 1):
    rng.shuffle(starts)
    losses = []
    te = time.time()
    for b in range(0, len(starts) - args.batch_size + 1, args.batch_size):
        idx = starts[b:b + args.batch_size, None] + np.arange(args.seq_len)
        losses.append(float(train(data[idx], data[idx + 1])))
        if first is None and len(losses) == 5:
            first = float(np.mean(losses))
    last = float(np.mean(losses[-max(1, len(losses) // 4):]))
    print(f"epoch {epoch}/{args.epochs}: loss {np.mean(losses):.3f} (last quarter {last:.3f}), "
          f"{len(losses)} batches in {time.time() - te:.1f} s")
    print("  sample: " + repr(sample("The ", args.sample_len, args.temperature, rng)))
print(f"trained in {time.time() - t0:.1f} s")
print(f"loss: {first:.4f} -> {last:.4f}")
