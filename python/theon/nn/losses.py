"""theon.nn.losses — losses as graph builders: ``loss(y_true, y_pred)`` -> the scalar batch mean.

Cross-entropies take probabilities, or raw scores with ``from_logits=True``
(the sparse one then uses the fused, stable SoftmaxCrossentropy1Hot).
"""
from theon import _core

_nn = _core.nn

sparse_categorical_crossentropy = _nn.sparse_categorical_crossentropy
categorical_crossentropy = _nn.categorical_crossentropy
binary_crossentropy = _nn.binary_crossentropy
mean_squared_error = mse = _nn.mean_squared_error
mean_absolute_error = mae = _nn.mean_absolute_error
huber = _nn.huber
