"""theon.nn — a Keras-style neural-network API on theon's graph (layers, models, training, saving).

Everything computes in C++ (theon/nn.h); this package adds Keras' spellings::

    from theon import nn
    model = nn.Sequential([nn.Conv2D(32, 3, activation="relu", padding="same"), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(10)])
    model.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  from_logits=True, metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=128, epochs=5, validation_data=(xt, yt))
    model.save("model.theon"); model2 = nn.load_model("model.theon")
    nn.plot_history(hist, "curves.png")

Images are NCHW (batch, channels, rows, cols), as in Theano. fit() runs its
loop in C++ with one compiled training function; Python callbacks (subclasses
of nn.Callback) are called from it.
"""
import atexit

from theon import _core

_nn = _core.nn

from theon.nn import callbacks, initializers, losses, metrics, regularizers  # noqa: E402
from theon.nn._models import History, Model, Sequential, load_model, model_from_json  # noqa: E402
from theon.nn._plot import plot_history  # noqa: E402
from theon.nn.callbacks import Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint  # noqa: E402
from theon.nn.recurrent import GRU, LSTM, Bidirectional, SimpleRNN  # noqa: E402, F401
from theon.nn.layers import (  # noqa: E402
    Activation, Add, AvgPool2D, AveragePooling2D, BatchNorm, BatchNormalization, Concatenate, Conv2D, Dense, Dropout,
    Embedding, Flatten, GlobalAveragePooling2D, GlobalAvgPool2D, Input, Layer, LayerNorm, LayerNormalization,
    MaxPool2D, MaxPooling2D, Reshape, layer_from_config,
)

from theon.nn import optimizers, schedules, serialization  # noqa: E402

# The functional API's call records keep layers alive; release them (and the
# Python objects they hold) before the interpreter shuts down.
atexit.register(_nn._clear_call_records)

set_global_seed = _nn.set_global_seed
activation = _nn.activation

__all__ = [
    "Activation", "Add", "AvgPool2D", "AveragePooling2D", "BatchNorm", "BatchNormalization", "CSVLogger", "Callback",
    "Concatenate", "Conv2D", "Dense", "Dropout", "EarlyStopping", "Embedding", "Flatten", "GlobalAveragePooling2D",
    "GlobalAvgPool2D", "History", "Input", "Layer", "LayerNorm", "LayerNormalization", "LearningRateScheduler",
    "MaxPool2D", "MaxPooling2D", "Model", "ModelCheckpoint", "Reshape", "Sequential", "activation", "callbacks",
    "initializers", "layer_from_config", "load_model", "losses", "metrics", "model_from_json", "optimizers",
    "plot_history", "regularizers", "schedules", "serialization", "set_global_seed",
]
