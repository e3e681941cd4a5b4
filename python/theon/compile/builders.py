"""Subgraphs packaged as ops (Theano's ``theano.compile.builders.OpFromGraph``).

    x, y = T.dvectors("x", "y")
    op = OpFromGraph([x, y], [x * y + T.exp(x)])
    z = op(a, b)          # one node; FAST_RUN inlines it, so fusion sees through it

The op's gradient is the inner graph's gradient.
"""
from theon import _core

__all__ = ["OpFromGraph"]


class OpFromGraph:
    def __init__(self, inputs, outputs, inline=False, name=None, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("OpFromGraph: inputs must be a list of variables")
        self._single = not isinstance(outputs, (list, tuple))
        outs = [outputs] if self._single else list(outputs)
        self._op = _core.op_from_graph(list(inputs), outs, name or "")
        self.inline = inline
        self.n_outs = len(outs)

    def __call__(self, *inputs):
        outs = self._op(*inputs)
        return outs[0] if self.n_outs == 1 else outs
