"""Lazy conditional (Theano's ``theano.ifelse``).

``ifelse(cond, then, else)`` evaluates only the branch it takes: a compiled
function does not run the nodes that only the other branch needs.
``T.switch`` stays elementwise and evaluates both sides.
"""
from theon import _core

__all__ = ["ifelse", "IfElse"]


def ifelse(condition, then_branch, else_branch, name=None):
    """Returns ``then_branch`` if the scalar ``condition`` is nonzero, else ``else_branch``.

    The branches are variables or lists of variables of matching dtypes and
    ranks; a list in gives a list out.
    """
    as_list = isinstance(then_branch, (list, tuple))
    if as_list != isinstance(else_branch, (list, tuple)):
        raise TypeError("ifelse: then_branch and else_branch must both be variables or both be lists")
    thens = list(then_branch) if as_list else [then_branch]
    elses = list(else_branch) if as_list else [else_branch]
    outs = _core.ifelse(condition, thens, elses)
    if name is not None:
        for o in outs:
            o.name = name
    return outs if as_list else outs[0]


class IfElse:
    """Theano's op class name, kept for ``isinstance``-free imports; use :func:`ifelse`."""

    def __init__(self, n_outs, as_view=False, name=None):
        self.n_outs = n_outs
        self.name = name

    def __call__(self, condition, *branches):
        if len(branches) != 2 * self.n_outs:
            raise TypeError(f"IfElse: expected {2 * self.n_outs} branch variables, got {len(branches)}")
        outs = _core.ifelse(condition, list(branches[: self.n_outs]), list(branches[self.n_outs:]))
        return outs if self.n_outs > 1 else outs[0]
