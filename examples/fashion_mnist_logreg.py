"""Multiclass logistic regression on Fashion-MNIST, written the classic Theano way.

Shared datasets, a minibatch index with ``givens``, ``T.grad`` and ``updates``
— only the import lines differ from a Theano tutorial script.
"""
import time

import numpy as np

import theon as theano
import theon.tensor as T
from theon.datasets import fashion_mnist

LEARNING_RATE = 0.13
BATCH_SIZE = 600
EPOCHS = 40

floatX = theano.config.floatX
(train_x, train_y), (test_x, test_y) = fashion_mnist()
# Hold out the last 10,000 training images for validation, as the Theano tutorial does with MNIST.
valid_x, valid_y = train_x[50000:], train_y[50000:]
train_x, train_y = train_x[:50000], train_y[:50000]


def shared_dataset(x, y):
    return theano.shared(np.asarray(x, dtype=floatX), borrow=True), theano.shared(y.astype("int32"), borrow=True)


train_set_x, train_set_y = shared_dataset(train_x, train_y)
valid_set_x, valid_set_y = shared_dataset(valid_x, valid_y)
test_set_x, test_set_y = shared_dataset(test_x, test_y)
n_train_batches = train_x.shape[0] // BATCH_SIZE

index = T.lscalar("index")
x = T.matrix("x")
y = T.ivector("y")

W = theano.shared(np.zeros((784, 10), dtype=floatX), name="W", borrow=True)
b = theano.shared(np.zeros((10,), dtype=floatX), name="b", borrow=True)
p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
y_pred = T.argmax(p_y_given_x, axis=1)
cost = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
errors = T.mean(T.neq(y_pred, y))

g_W, g_b = T.grad(cost=cost, wrt=[W, b])
updates = [(W, W - LEARNING_RATE * g_W), (b, b - LEARNING_RATE * g_b)]

batch = slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)
train_model = theano.function([index], cost, updates=updates,
                              givens={x: train_set_x[batch], y: train_set_y[batch]})
validate_model = theano.function([], errors, givens={x: valid_set_x, y: valid_set_y})
test_model = theano.function([], errors, givens={x: test_set_x, y: test_set_y})

print(f"Training logistic regression on Fashion-MNIST: {train_x.shape[0]} train, {valid_x.shape[0]} validation, "
      f"{test_x.shape[0]} test images, minibatches of {BATCH_SIZE}, floatX={floatX}")
start = time.perf_counter()
best_valid, test_error = float("inf"), None
for epoch in range(1, EPOCHS + 1):
    costs = [train_model(i) for i in range(n_train_batches)]
    valid_error = 100 * float(validate_model())
    line = (f"epoch {epoch:2d}: mean training cost {np.mean(costs):.4f}, validation error {valid_error:.2f}%")
    if valid_error < best_valid:
        # As in the Theano tutorial: the test error is measured at each new best validation error.
        best_valid, test_error = valid_error, 100 * float(test_model())
        line += f", test error of the best model {test_error:.2f}%"
    print(f"{line}  ({time.perf_counter() - start:.1f}s)")
print(f"Final test error: {test_error:.2f}% (best validation error {best_valid:.2f}%) after {EPOCHS} epochs "
      f"in {time.perf_counter() - start:.1f}s")
assert test_error < 18.0, "logistic regression should reach about 15-16% test error"
