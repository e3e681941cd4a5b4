"""theon.tensor.nnet — Theano's ``theano.tensor.nnet`` (``T.nnet``).

Activations (sigmoid, softplus, relu, elu, ...), softmax and log-softmax,
cross-entropies and ``conv2d``; batch normalization lives in
``T.nnet.bn``. Everything is computed by the C++ core; this module only maps
Theano's names and signatures onto it.
"""
from theon import _core
from theon.tensor.nnet import bn, conv  # noqa: F401
from theon.tensor.nnet.conv import conv2d

__all__ = [
    "sigmoid", "ultra_fast_sigmoid", "hard_sigmoid", "softplus", "softsign",
    "relu", "elu", "selu", "softmax", "log_softmax", "logsoftmax",
    "categorical_crossentropy", "crossentropy_categorical_1hot",
    "binary_crossentropy", "sigmoid_binary_crossentropy", "conv2d", "bn", "conv",
]


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)), computed without overflow."""
    return _core.sigmoid(x)


def ultra_fast_sigmoid(x):
    """Theano's fast sigmoid approximation; theon computes the exact sigmoid."""
    return _core.sigmoid(x)


def hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1)."""
    return _core.hard_sigmoid(x)


def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    return _core.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return _core.softsign(x)


def relu(x, alpha=0):
    """Rectified linear unit; with ``alpha`` != 0 the leaky variant alpha * x for x <= 0."""
    return _core.relu(x, alpha)


def elu(x, alpha=1):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _core.elu(x, alpha)


def selu(x):
    """Scaled exponential linear unit (Klambauer et al., 2017)."""
    return _core.selu(x)


def softmax(c, axis=-1):
    """Softmax along ``axis`` (the last by default), max-subtracted for stability."""
    return _core.softmax(c, axis)


def log_softmax(c, axis=-1):
    """Log of the softmax along ``axis``, computed stably."""
    return _core.log_softmax(c, axis)


logsoftmax = log_softmax


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true_dist * log(coding_dist), axis=-1), or -log(coding_dist[i, true_dist[i]])
    when ``true_dist`` holds integer class indices (one dimension less)."""
    return _core.categorical_crossentropy(coding_dist, true_dist)


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """-log(coding_dist[i, true_one_of_n[i]]) for integer class indices."""
    return _core.crossentropy_categorical_1hot(coding_dist, true_one_of_n)


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output))."""
    return _core.binary_crossentropy(output, target)


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target), computed stably from the logits."""
    return _core.add(_core.mul(target, _core.softplus(_core.neg(output))),
                     _core.mul(_core.sub(1.0, target), _core.softplus(output)))
