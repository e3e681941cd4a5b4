"""theon.tensor.nnet.bn — Theano's batch normalization functions.

``batch_normalization`` is the test-time form with a given mean and std;
``batch_normalization_train`` normalizes with the batch statistics (and
updates running averages when given); ``batch_normalization_test`` uses a
given mean and variance. ``axes`` is 'per-activation' (0,), 'spatial'
(0, 2, 3, ...) or a tuple of ints.
"""
from theon import _core

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """(inputs - mean) * (gamma / std) + beta."""
    return _core.batch_normalization(inputs, gamma, beta, mean, std, mode)


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """Returns (out, mean, invstd) or, with running averages, also
    (new_running_mean, new_running_var)."""
    return _core.batch_normalization_train(inputs, gamma, beta, axes, epsilon,
                                           running_average_factor, running_mean, running_var)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """(inputs - mean) * (gamma / sqrt(var + epsilon)) + beta."""
    return _core.batch_normalization_test(inputs, gamma, beta, mean, var, axes, epsilon)
