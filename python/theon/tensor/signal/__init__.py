"""theon.tensor.signal — Theano's ``theano.tensor.signal`` (pooling)."""
from theon.tensor.signal import pool  # noqa: F401

__all__ = ["pool"]
