"""theon.nn.layers — the built-in layers (C++ classes of theon/nn/layers.h) with Keras' aliases."""
import json

from theon import _core

_nn = _core.nn

Layer = _nn.Layer
Dense = _nn.Dense
Conv2D = _nn.Conv2D
MaxPool2D = MaxPooling2D = _nn.MaxPool2D
AvgPool2D = AveragePooling2D = _nn.AvgPool2D
GlobalAvgPool2D = GlobalAveragePooling2D = _nn.GlobalAvgPool2D
Flatten = _nn.Flatten
Reshape = _nn.Reshape
Dropout = _nn.Dropout
BatchNorm = BatchNormalization = _nn.BatchNorm
LayerNorm = LayerNormalization = _nn.LayerNorm
Embedding = _nn.Embedding
Activation = _nn.Activation
Add = _nn.Add
Concatenate = _nn.Concatenate


def Input(shape, dtype=None, name=""):  # noqa: N802 - Keras' name
    """A symbolic batch of samples of ``shape`` (the batch dimension is added)."""
    return _nn.Input(list(shape), dtype, name)


def layer_from_config(class_name, config):
    """Rebuilds a layer from its class name and get_config() dict."""
    return _nn.layer_from_config(class_name, config)


def _get_config(self):
    """The layer's constructor arguments as a dict (layer_from_config inverts it)."""
    return json.loads(self._config_json())


Layer.get_config = _get_config
