"""theon.nn.metrics — accuracies as graph builders: ``metric(y_true, y_pred)`` -> the batch mean."""
from theon import _core

_nn = _core.nn

sparse_categorical_accuracy = _nn.sparse_categorical_accuracy
categorical_accuracy = _nn.categorical_accuracy
binary_accuracy = _nn.binary_accuracy
sparse_top_k_categorical_accuracy = _nn.sparse_top_k_categorical_accuracy
