"""theon.printing: debugprint and pydotprint (Theano's names)."""
import sys

from theon import _core


def _roots(obj):
    from theon.compile.function import Function

    if isinstance(obj, Function):
        return obj
    if isinstance(obj, _core.Variable):
        return [obj]
    if isinstance(obj, (list, tuple)):
        out = []
        for o in obj:
            r = _roots(o)
            if isinstance(r, Function):
                raise TypeError("debugprint: a list may hold Variables, not functions")
            out += r
        return out
    raise TypeError(f"debugprint: expected a Variable, a list of Variables or a compiled function, got {type(obj).__name__}")


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False, done=None,
               print_storage=False, **kwargs):
    """Prints the graph of ``obj`` as an indented tree (one node per line, with ids and types).

    ``file='str'`` returns the text instead of printing it.
    """
    roots = _roots(obj)
    show_ids = ids not in ("", None, False)
    if isinstance(roots, list):
        text = _core.debugprint(roots, True if print_type is None else bool(print_type) or True, depth, show_ids)
    else:
        text = roots._core.debugprint(True, depth)
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return file


dprint = debugprint


def pprint(var):
    """A one-line description of how ``var`` is computed."""
    return str(var)


def pydotprint(fct, outfile=None, format="png", compact=True, with_ids=False, high_contrast=True, **kwargs):
    """Writes the graph of a compiled function or Variable(s) with Graphviz (dot, svg, png or pdf)."""
    from theon.compile.function import Function

    if isinstance(fct, Function):
        roots = list(fct._core.outputs)
    else:
        roots = _roots(fct)
    if outfile is None:
        outfile = f"theon.pydotprint.{format}"
    _core.write_graph(roots, outfile, "")
    print(f"The output file is available at {outfile}")
    return outfile


def graph_to_dot(obj):
    """The graph in Graphviz's dot language."""
    from theon.compile.function import Function

    roots = list(obj._core.outputs) if isinstance(obj, Function) else _roots(obj)
    return _core.graph_to_dot(roots, "")
