"""Model and Sequential: the C++ classes with Keras' keyword arguments for compile/fit/evaluate/predict."""
import json
import sys

import numpy as np

from theon import _core

_nn = _core.nn

Model = _nn.Model
Sequential = _nn.Sequential


class History:
    """What fit returns: ``history`` maps each logged name to its per-epoch values; ``epoch`` lists the epochs."""

    def __init__(self, history, epoch, model=None):
        self.history = dict(history)
        self.epoch = list(epoch)
        self.model = model

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _optimizer(identifier):
    if isinstance(identifier, str):
        from theon.nn import optimizers

        return optimizers.get(identifier)
    return identifier


def compile(self, optimizer="rmsprop", loss=None, metrics=None, from_logits=False, huber_delta=1.0):
    """Sets the optimizer (an nn.optimizers instance or name), the loss (a name) and metric names."""
    if loss is None:
        raise ValueError("compile: a loss is required, e.g. loss='sparse_categorical_crossentropy'")
    if not isinstance(loss, str):
        raise TypeError(f"compile: loss must be a name such as 'sparse_categorical_crossentropy', got {loss!r}")
    opt = _optimizer(optimizer)
    core = getattr(opt, "_opt", opt)
    self._compile(core, loss, [str(m) for m in (metrics or [])], bool(from_logits), float(huber_delta))
    self._py_optimizer = opt


def _optimizer_prop(self):
    opt = getattr(self, "_py_optimizer", None)
    if opt is None and self._core_optimizer is not None:
        from theon.nn import optimizers

        opt = optimizers.Optimizer._wrap(self._core_optimizer)
        self._py_optimizer = opt
    return opt


def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_data=None, validation_split=0.0,
        shuffle=True, seed=0, initial_epoch=0):
    """Trains for ``epochs`` epochs over minibatches (the loop runs in C++); returns a History."""
    sys.stdout.flush()
    if validation_data is not None:
        if len(validation_data) != 2:
            raise ValueError("fit: validation_data must be (x_val, y_val)")
        validation_data = tuple(validation_data)
    else:
        validation_data = ()
    hist, epochs_done = self._fit(x, y, int(batch_size), int(epochs), int(verbose), list(callbacks or []),
                                  validation_data, float(validation_split), bool(shuffle), int(seed),
                                  int(initial_epoch))
    sys.stdout.flush()
    self.history = History(hist, epochs_done, self)
    return self.history


def evaluate(self, x, y, batch_size=128, verbose=0, return_dict=False):
    """Loss and metrics over (x, y): a list [loss, metric, ...] (or the dict with return_dict=True)."""
    sys.stdout.flush()
    logs = self._evaluate(x, y, int(batch_size), int(verbose))
    if return_dict:
        return logs
    return [logs[k] for k in _log_keys(self, logs)]


def _log_keys(self, logs):
    """loss, then the metrics in compile order."""
    return [k for k in self.metrics_names if k in logs]


def predict(self, x, batch_size=128, verbose=0):
    """The model's outputs on x, in batches, as a NumPy array."""
    return self._predict(x, int(batch_size))


def train_on_batch(self, x, y, return_dict=False):
    logs = self._train_on_batch(x, y)
    return logs if return_dict else [logs[k] for k in _log_keys(self, logs)]


def summary(self, print_fn=print):
    print_fn(self.summary_text().rstrip("\n"))


def get_config(self):
    return json.loads(self.to_json())


def load_model(path):
    """Loads a model saved by Model.save (C++ or Python): architecture, weights, optimizer state."""
    return _nn.load_model(str(path))


def model_from_json(text):
    """Rebuilds a model (fresh weights) from Model.to_json()."""
    return _nn.model_from_json(text if isinstance(text, str) else json.dumps(text))


def _save(self, path, include_optimizer=True):
    self._save_core(str(path), include_optimizer)


Model._save_core = Model.save
Model.save = _save
Model.compile = compile
Model.optimizer = property(_optimizer_prop)
Model.fit = fit
Model.evaluate = evaluate
Model.predict = predict
Model.train_on_batch = train_on_batch
Model.summary = summary
Model.get_config = get_config
np  # noqa: B018
