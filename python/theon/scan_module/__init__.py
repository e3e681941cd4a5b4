"""Symbolic loops (Theano's ``theano.scan`` and ``theano.scan_module``).

``scan(fn, sequences, outputs_info, non_sequences, n_steps, ...)`` calls
``fn`` once on symbolic variables to build the step; the loop itself runs in
the C++ core (one compiled inner graph, replayed per step). It returns
``(outputs, updates)``: ``outputs`` one variable (or a list) of stacked
steps, ``updates`` an ordered dict of shared variables to their values after
the loop, to pass to ``theano.function(updates=...)``.
"""
from collections import OrderedDict
from collections.abc import Mapping

from theon import _core
from theon.tensor._basic import as_tensor_variable

__all__ = ["scan", "until", "map", "reduce", "foldl", "foldr", "OrderedUpdates"]


class OrderedUpdates(OrderedDict):
    """The updates scan returns (Theano's ``theano.updates.OrderedUpdates``)."""


class until:
    """Stops a scan after the step where ``condition`` is true: return ``(outputs, until(cond))``."""

    def __init__(self, condition):
        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got ndim={self.condition.ndim}")


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _is_update_pairs(x):
    if isinstance(x, Mapping):
        return True
    if not isinstance(x, (list, tuple)) or not x:
        return False
    return all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], _core.Variable)
               and p[0].is_shared() for p in x)


def _parse_step_return(ret):
    """Theano's conventions: outputs, (outputs, updates), (outputs, until), (outputs, updates, until), ..."""
    if isinstance(ret, until):
        return [], [], ret.condition
    if isinstance(ret, Mapping):
        return [], list(ret.items()), None
    if not isinstance(ret, (list, tuple)):
        return [ret], [], None
    parts = list(ret)
    cond = None
    if parts and isinstance(parts[-1], until):
        cond = parts.pop().condition
    updates = []
    if parts and isinstance(parts[-1], Mapping):
        updates = list(parts.pop().items())
    elif len(parts) == 2 and _is_update_pairs(parts[1]) and not isinstance(parts[0], Mapping):
        updates = [tuple(p) for p in parts.pop()]
    if len(parts) == 1 and isinstance(parts[0], (list, tuple)):
        parts = list(parts[0])
    for p in parts:
        if isinstance(p, until) or isinstance(p, Mapping):
            raise ValueError("scan: the step must return (outputs, updates, until) in this order")
    return [as_tensor_variable(o) for o in parts], updates, cond


def _taps(taps, what):
    if isinstance(taps, int):
        return [taps]
    if taps is None:
        return []
    try:
        return [int(t) for t in taps]
    except TypeError:
        raise TypeError(f"scan: {what} taps must be a list of ints, got {taps!r}") from None


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """Theano's scan. ``fn`` receives, in order, the slices of every sequence
    (one per tap), the previous values of every recurrent output (one per
    tap), and the non-sequences.

    sequences: variables or ``dict(input=x, taps=[-2, 0])`` (default taps ``[0]``).
    outputs_info: per output, ``None`` (no recurrence), an initial value (taps
    ``[-1]``), or ``dict(initial=h0, taps=[-1, -3])`` where ``h0`` holds the
    past values along its first axis.
    n_steps: the number of steps (required without sequences).
    ``mode``, ``profile`` and ``allow_gc`` are accepted for compatibility.
    """
    seqs = []
    for i, s in enumerate(_as_list(sequences)):
        if isinstance(s, Mapping):
            if "input" not in s:
                raise ValueError(f"scan: sequences[{i}] is a dict without 'input'")
            taps = _taps(s.get("taps", [0]), f"sequences[{i}]")
            seqs.append((as_tensor_variable(s["input"]), taps))
        else:
            seqs.append((as_tensor_variable(s), [0]))
    info = []
    single_info = outputs_info is not None and not isinstance(outputs_info, (list, tuple))
    for i, o in enumerate(_as_list(outputs_info) if outputs_info is not None else []):
        if o is None:
            info.append((None, []))
        elif isinstance(o, Mapping):
            init = o.get("initial")
            if init is None:
                if o.get("taps"):
                    raise ValueError(f"scan: outputs_info[{i}] has taps but no initial value")
                info.append((None, []))
            else:
                taps = o.get("taps", [-1])
                taps = _taps(taps, f"outputs_info[{i}]")
                if taps == [-1]:
                    info.append((as_tensor_variable(init), []))
                else:
                    info.append((as_tensor_variable(init), taps))
        else:
            info.append((as_tensor_variable(o), []))
    del single_info
    ns = [as_tensor_variable(v) if not isinstance(v, _core.Variable) else v for v in _as_list(non_sequences)]
    if n_steps is not None:
        n_steps = as_tensor_variable(n_steps)

    def step(args):
        return _parse_step_return(fn(*args))

    outs, updates = _core.scan(step, seqs, info, ns, n_steps, int(truncate_gradient), bool(go_backwards),
                               name or "", bool(strict))
    upd = OrderedUpdates(updates)
    if len(outs) == 1 and not return_list:
        return outs[0], upd
    return list(outs), upd


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None):
    """fn applied to each step of the sequences (scan without recurrence)."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def _fold(fn, sequences, outputs_info, non_sequences, go_backwards, mode, name):
    outs, upd = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                     go_backwards=go_backwards, mode=mode, name=name, return_list=True)
    last = [o[-1] for o in outs]
    return (last[0] if len(last) == 1 else last), upd


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """The last value of a scan (only that step is stored, through the save-memory rewrite)."""
    return _fold(fn, sequences, outputs_info, non_sequences, go_backwards, mode, name)


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first step to the last."""
    return _fold(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last step to the first."""
    return _fold(fn, sequences, outputs_info, non_sequences, True, mode, name)


# theon.scan.until, as well as theon.scan_module.until.
scan.until = until
