"""theon.nn.optimizers — Keras-style optimizers that produce Theano updates.

An optimizer turns a loss and its parameters (shared variables) into the
``updates`` of a compiled function, so each call of that function is one
training step::

    opt = Adam(learning_rate=1e-3)
    updates = opt.get_updates(loss, params)
    train = theon.function([x, y], loss, updates=updates)
    opt.learning_rate = 1e-4        # takes effect on the next call, no recompiling

The update rules are computed in C++ (theon/nn/optimizers.h, where each
formula is written out): Keras 3's equations and defaults, with the
differences from torch.optim noted there. The state (``iterations``, the
``learning_rate`` scalar and per-parameter slots named
``"<param name>/<slot>"``) is in ``opt.variables``.
"""
import numpy as np

from theon import _core
from theon.nn import schedules as _schedules

_nn = _core.nn

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "get", "serialize",
           "deserialize", "clip_by_norm", "clip_by_global_norm"]

_BOOL_KEYS = ("nesterov", "amsgrad", "centered")


class Optimizer:
    """Base of the optimizers: state, learning rate and update construction.

    Every optimizer also takes ``clipnorm`` (clip each gradient tensor to this
    L2 norm), ``global_clipnorm`` (clip all gradients together to this joint
    norm) and ``clipvalue`` (clip each element to [-clipvalue, clipvalue]).
    """

    _name = None  # the C++ factory's name

    def __init__(self, learning_rate, **kwargs):
        if self._name is None:
            raise TypeError("Optimizer is a base class: use SGD, Adam, AdamW, RMSprop, Adagrad or Adadelta")
        # A schedule (any callable step -> rate) as the learning rate: evaluated
        # at the iteration count by update_learning_rate(), as in Keras.
        self._schedule = learning_rate if callable(learning_rate) else None
        lr = float(learning_rate(0)) if self._schedule is not None else learning_rate
        self._opt = getattr(_nn, self._name)(learning_rate=lr, **kwargs)
        if isinstance(learning_rate, _schedules.LearningRateSchedule):
            # theon's schedules are C++ functions: the C++ optimizer holds it, so
            # a training loop in C++ (Optimizer::update_learning_rate) applies it too.
            self._opt.set_schedule(learning_rate._fn)

    @classmethod
    def _wrap(cls, core_opt):
        self = cls.__new__(cls)
        self._opt = core_opt
        self._schedule = None
        return self

    @property
    def learning_rate_schedule(self):
        """The schedule given as ``learning_rate`` (None for a number)."""
        return self._schedule

    def update_learning_rate(self):
        """With a schedule as learning rate: sets the rate to ``schedule(iterations)``
        (steps taken so far). The training loop calls it before each step."""
        if self._opt.has_schedule():
            self._opt.update_learning_rate()
        elif self._schedule is not None:
            self.learning_rate = float(self._schedule(int(self.iterations.get_value())))

    @property
    def name(self):
        return self._opt.name

    @property
    def learning_rate(self):
        """The current learning rate (a float); assign to change it between calls."""
        return self._opt.get_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._opt.set_learning_rate(float(value))

    @property
    def learning_rate_variable(self):
        """The float64 shared scalar every update reads."""
        return self._opt.learning_rate_variable

    @property
    def iterations(self):
        """The int64 shared scalar counting the steps taken."""
        return self._opt.iterations

    @property
    def variables(self):
        """Every state variable: iterations, learning_rate, then the slots of each parameter."""
        return self._opt.state()

    def get_updates(self, loss, params):
        """The updates of one step on ``loss`` (a scalar) for ``params`` (shared float variables)."""
        return self._opt.get_updates(loss, list(params))

    def apply_gradients(self, grads_and_vars):
        """The updates of one step for given gradients: ``[(grad, param), ...]`` as in Keras."""
        pairs = list(grads_and_vars)
        return self._opt.apply_gradients([v for _, v in pairs], [g for g, _ in pairs])

    def build(self, params):
        """Creates the state slots of ``params`` now (get_updates would), e.g. to restore saved state."""
        self._opt.build(list(params))

    def get_weights(self):
        """The values of ``variables`` as NumPy arrays (copies), for saving."""
        return [v.get_value() for v in self.variables]

    def set_weights(self, weights):
        """Restores values saved by get_weights (same parameters, built in the same order)."""
        variables = self.variables
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(f"{self.name}.set_weights: {len(weights)} arrays for {len(variables)} state variables "
                             "(call build(params) or get_updates first)")
        for v, w in zip(variables, weights):
            if np.shape(w) != v.get_value(borrow=True).shape:
                raise ValueError(f"{self.name}.set_weights: '{v.name}' has shape {v.get_value(borrow=True).shape}, "
                                 f"got {np.shape(w)}")
        for v, w in zip(variables, weights):
            v.set_value(np.asarray(w, dtype=v.get_value(borrow=True).dtype))

    def get_config(self):
        """Hyperparameters by Keras's names, plus ``name``; ``from_config`` rebuilds the optimizer
        (with the current learning rate: a schedule is not part of the config)."""
        c = {k: (bool(v) if k in _BOOL_KEYS else v) for k, v in self._opt.config().items()}
        c["name"] = self.name
        return c

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        name = config.pop("name", cls._name)
        if name is None:
            raise ValueError("from_config: the config has no optimizer 'name'")
        core = _nn.make_optimizer(name, {k: float(v) for k, v in config.items()})
        return _CLASSES[core.name]._wrap(core)

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate:g})"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum and L2 weight decay (theon::nn::sgd)."""
    _name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, clipnorm=None,
                 global_clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay, clipnorm=clipnorm, global_clipnorm=global_clipnorm,
                         clipvalue=clipvalue)


class Adam(Optimizer):
    """Adam, Keras's form and defaults (epsilon 1e-7), optionally AMSGrad (theon::nn::adam)."""
    _name = "adam"

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=0.0,
                 clipnorm=None, global_clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, clipnorm=clipnorm, global_clipnorm=global_clipnorm,
                         clipvalue=clipvalue)


class AdamW(Optimizer):
    """Adam with decoupled weight decay (theon::nn::adamw; weight_decay defaults to PyTorch's 0.01)."""
    _name = "adamw"

    def __init__(self, learning_rate=1e-3, weight_decay=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 clipnorm=None, global_clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, clipnorm=clipnorm, global_clipnorm=global_clipnorm,
                         clipvalue=clipvalue)


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum (theon::nn::rmsprop)."""
    _name = "rmsprop"

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7, momentum=0.0, centered=False, clipnorm=None,
                 global_clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, rho=rho, epsilon=epsilon, momentum=momentum, centered=centered,
                         clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue)


class Adagrad(Optimizer):
    """Adagrad (theon::nn::adagrad; accumulators start at initial_accumulator_value)."""
    _name = "adagrad"

    def __init__(self, learning_rate=0.01, initial_accumulator_value=0.1, epsilon=1e-7, clipnorm=None,
                 global_clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, initial_accumulator_value=initial_accumulator_value,
                         epsilon=epsilon, clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue)


class Adadelta(Optimizer):
    """Adadelta (theon::nn::adadelta; learning_rate defaults to PyTorch's 1.0)."""
    _name = "adadelta"

    def __init__(self, learning_rate=1.0, rho=0.95, epsilon=1e-7, clipnorm=None, global_clipnorm=None,
                 clipvalue=None):
        super().__init__(learning_rate, rho=rho, epsilon=epsilon, clipnorm=clipnorm,
                         global_clipnorm=global_clipnorm, clipvalue=clipvalue)


_CLASSES = {c._name: c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta)}


def get(identifier, **kwargs):
    """An optimizer from a name ("adam", "SGD", ...; keyword arguments go to
    its constructor), a config dict with a "name", or an Optimizer (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return Optimizer.from_config(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer '{identifier}' (expected one of {', '.join(sorted(_CLASSES))})")
        return cls(**kwargs)
    raise TypeError(f"cannot make an optimizer from {type(identifier).__name__}")


def serialize(optimizer):
    """The optimizer's config (with its name), JSON-serializable."""
    return optimizer.get_config()


def deserialize(config):
    return Optimizer.from_config(config)


def clip_by_norm(grad, max_norm):
    """``grad`` rescaled so its L2 norm is at most ``max_norm`` (symbolic)."""
    return _nn.clip_by_norm(grad, float(max_norm))


def clip_by_global_norm(grads, max_norm):
    """All ``grads`` scaled by max_norm / max(global_norm, max_norm) (symbolic)."""
    return _nn.clip_by_global_norm(list(grads), float(max_norm))
