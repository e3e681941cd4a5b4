"""A small CNN on Fashion-MNIST with theon.nn — the main job.

Two conv+pool blocks, a dense layer, dropout and a softmax output, trained with
Adam on the full 60,000-image training set with a progress bar. Reports the
test accuracy (asserted >= 90%) and the time per epoch, saves the model and
the loss/accuracy curves (curves.png), reloads the saved model and checks that
it gives the same test accuracy.

    python examples/fashion_mnist_cnn.py [--epochs N] [--train-samples N] [--out DIR] [--device cuda]

--device cuda trains on the GPU (theon.config.device: every compiled function
of the model runs there, the weights live in device memory).
"""
import argparse
import os
import sys
import time

import numpy as np

import theon
from theon import nn
from theon.datasets import fashion_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=int(os.environ.get("THEON_CNN_EPOCHS", 6)))
parser.add_argument("--train-samples", type=int, default=60000)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--out", default=".", help="where the model file and curves.png go")
parser.add_argument("--min-accuracy", type=float, default=0.90)
parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: theon.config.device)")
args = parser.parse_args()
if args.device:
    theon.config.device = args.device
print(f"device: {theon.config.device}")

nn.set_global_seed(2024)
(train_x, train_y), (test_x, test_y) = fashion_mnist()
train_x = train_x[: args.train_samples].reshape(-1, 1, 28, 28)  # NCHW, pixels in [0, 1]
train_y = train_y[: args.train_samples]
test_x = test_x.reshape(-1, 1, 28, 28)

model = nn.Sequential([
    nn.Conv2D(32, 3, padding="same", activation="relu"),
    nn.MaxPool2D(2),
    nn.Conv2D(64, 3, padding="same", activation="relu"),
    nn.MaxPool2D(2),
    nn.Flatten(),
    nn.Dense(128, activation="relu"),
    nn.Dropout(0.3),
    nn.Dense(10),  # logits; softmax is fused into the loss, and applied below for probabilities
], name="fashion_mnist_cnn")
model.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", from_logits=True,
              metrics=["accuracy"])
model.build([1, 28, 28])
model.summary()

print(f"Training on {len(train_x)} images, testing on {len(test_x)}, batch size {args.batch_size}, "
      f"{args.epochs} epochs")
start = time.perf_counter()
# Adam at 1e-3, halved for each of the last two epochs: the smaller steps settle the weights.
def schedule(epoch, lr):
    return 1e-3 * 0.5 ** max(0, epoch - (args.epochs - 3))


hist = model.fit(train_x, train_y, batch_size=args.batch_size, epochs=args.epochs,
                 validation_data=(test_x, test_y), callbacks=[nn.LearningRateScheduler(schedule)])
train_time = time.perf_counter() - start
per_epoch = hist.history["epoch_seconds"]
print(f"time per epoch: {np.mean(per_epoch):.1f}s (" + ", ".join(f"{t:.1f}s" for t in per_epoch) + ")")

loss, acc = model.evaluate(test_x, test_y)
probs = nn.activation("softmax", model.output).eval({model.inputs[0]: test_x[:5]})
print(f"test accuracy: {acc:.4f} (loss {loss:.4f}); training took {train_time:.1f}s")
print("first test images: predicted", probs.argmax(axis=1).tolist(), "true", test_y[:5].tolist())

os.makedirs(args.out, exist_ok=True)
model_path = os.path.join(args.out, "fashion_mnist_cnn.theon")
model.save(model_path)
try:
    curves = nn.plot_history(hist, os.path.join(args.out, "curves.png"), title="Fashion-MNIST CNN")
    print(f"saved the model to {model_path} and the curves to {curves}")
except ImportError as e:
    print(f"saved the model to {model_path}; no curves: {e}")

reloaded = nn.load_model(model_path)
loss2, acc2 = reloaded.evaluate(test_x, test_y)
print(f"reloaded model: test accuracy {acc2:.4f}")
if acc2 != acc:
    sys.exit(f"FAILED: the reloaded model's accuracy {acc2:.4f} differs from {acc:.4f}")
if acc < args.min_accuracy:
    sys.exit(f"FAILED: test accuracy {acc:.4f} is below {args.min_accuracy:.2f}")
print(f"OK: test accuracy {acc:.4f} >= {args.min_accuracy:.2f}")
