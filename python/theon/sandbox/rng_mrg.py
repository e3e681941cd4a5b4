"""theano.sandbox.rng_mrg — ``MRG_RandomStreams`` for classic Theano code.

theon has one generator (Philox4x32-10 in the C++ core), so MRG_RandomStreams
is RandomStreams with MRG's default seed and argument names; ``nstreams`` is
accepted and ignored. MRG's ``multinomial`` and truncated ``normal`` are not
available.
"""
from theon.tensor.shared_randomstreams import RandomStreams

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(RandomStreams):
    """Theano's MRG_RandomStreams(seed=12345), backed by theon's generator."""

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        return super().uniform(size, low, high, ndim, dtype)

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False, **kwargs):
        if truncate:
            raise NotImplementedError("MRG_RandomStreams.normal: truncate=True is not supported by theon")
        return super().normal(size, avg, std, ndim, dtype)

    def binomial(self, size=(), n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, **kwargs):
        return super().binomial(size, n, p, ndim, dtype)

    def multinomial(self, *args, **kwargs):
        raise NotImplementedError("MRG_RandomStreams.multinomial is not supported by theon")
