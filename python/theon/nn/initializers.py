"""theon.nn.initializers — initializer specs for layers and a seeded ``initialize`` to draw them.

Layers accept a name ("he_normal") or one of these specs (plain dicts saved in
the model's JSON). Draws are deterministic given the seed.
"""
from theon import _core

_nn = _core.nn

NAMES = ("glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
         "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal", "orthogonal", "zeros", "ones",
         "constant", "uniform", "normal")


def Constant(value=0.0):  # noqa: N802 - Keras' class names
    return {"name": "constant", "value": float(value)}


def Orthogonal(gain=1.0):  # noqa: N802
    return {"name": "orthogonal", "gain": float(gain)}


def RandomUniform(minval=-0.05, maxval=0.05):  # noqa: N802
    return {"name": "uniform", "minval": float(minval), "maxval": float(maxval)}


def RandomNormal(mean=0.0, stddev=0.05):  # noqa: N802
    return {"name": "normal", "mean": float(mean), "stddev": float(stddev)}


def initialize(initializer, shape, dtype="float32", seed=0):
    """Draws an array of ``shape`` with ``initializer`` (a name or a spec) from ``seed``."""
    return _nn.initialize(initializer, list(shape), dtype, seed)


compute_fans = _nn.compute_fans
