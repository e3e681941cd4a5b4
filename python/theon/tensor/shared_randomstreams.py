"""theano.tensor.shared_randomstreams — random variables with shared state.

``RandomStreams(seed)`` makes symbolic random variables. Each one keeps its
generator state (Philox4x32-10 key and counter) in a shared variable whose
default update is the state after drawing, so every call of a compiled
function draws new numbers, and the same seed with the same order of
creation reproduces the same numbers. All sampling happens in the C++ core.
"""
import os as _os

from theon import _core

__all__ = ["RandomStreams"]


def _seed_value(seed):
    if seed is None:
        return int.from_bytes(_os.urandom(8), "little")
    return int(seed) % (1 << 64)


class RandomStreams:
    """Theano's RandomStreams: a factory of random variables.

    Methods take ``size`` (a tuple of ints and symbolic scalars, or a symbolic
    int vector such as ``x.shape``; ``()`` or ``None`` means the shape of the
    broadcast parameters), the distribution's parameters (numbers, arrays or
    Variables), ``ndim`` (checked against size; needed when size is a vector
    of unknown length) and ``dtype``.
    """

    def __init__(self, seed=None):
        self.default_instance_seed = _seed_value(seed)
        self._streams = _core.RandomStreams(self.default_instance_seed)

    @property
    def state_updates(self):
        """(state shared variable, new state) for each random variable made."""
        return list(self._streams.state_updates)

    def updates(self):
        """The updates that advance every random variable made so far."""
        return self.state_updates

    def seed(self, seed=None):
        """Reseeds every random variable made so far, as if made under ``seed``."""
        self.default_instance_seed = _seed_value(seed)
        self._streams.seed(self.default_instance_seed)

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None):
        """Samples from [low, high); dtype defaults to floatX upcast with the params' dtypes."""
        return self._streams.uniform(size, low, high, ndim, dtype)

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None):
        """Samples from a normal distribution of mean ``avg`` and standard deviation ``std``."""
        return self._streams.normal(size, avg, std, ndim, dtype)

    def binomial(self, size=(), n=1, p=0.5, ndim=None, dtype="int64"):
        """Number of successes in ``n`` trials of probability ``p``."""
        return self._streams.binomial(size, n, p, ndim, dtype)

    def random_integers(self, size=(), low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high], ``high`` included (Theano's convention)."""
        return self._streams.random_integers(size, low, high, ndim, dtype)

    integers = random_integers

    def choice(self, size=(), a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Samples of ``a`` (``range(a)`` when ``a`` is an int), with probabilities ``p``."""
        return self._streams.choice(size, a, bool(replace), p, ndim, dtype)

    def permutation(self, size=(), n=1, ndim=None, dtype="int64"):
        """Permutations of ``range(n)``, one per entry of ``size``: shape ``size + (n,)``."""
        return self._streams.permutation(size, n, ndim, dtype)
