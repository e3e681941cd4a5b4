"""theon.tensor.random — PyTensor-style home of the random streams.

``from theon.tensor.random import RandomStreams`` (also ``RandomStream``).
"""
from theon.tensor.shared_randomstreams import RandomStreams

RandomStream = RandomStreams

__all__ = ["RandomStreams", "RandomStream"]
