"""theon.printing: debugprint and pydotprint (Theano's names)."""
import os
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


def debugprint(obj, depth=-1, print_type=True, file=None, ids="CHAR", stop_on_name=False, done=None,
               print_storage=False, **kwargs):
    """Prints the graph of ``obj`` (a Variable, a list of them or a compiled function)
    as Theano's indented tree: one node per line with its id (``[id A]``) and,
    unless ``print_type=False``, its type; a compiled function's nodes also show
    their position in the execution order, and its updates follow.

    ``file='str'`` returns the text instead of printing it.
    """
    roots = _roots(obj)
    show_ids = ids not in ("", None, False)
    depth = -1 if depth is None else int(depth)
    if isinstance(roots, list):
        text = _core.debugprint(roots, bool(print_type), depth, show_ids)
    else:
        text = roots._core.debugprint(bool(print_type), depth, show_ids)
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return file


dprint = debugprint


def pprint(var):
    """A one-line description of how ``var`` is computed."""
    return str(var)


def pydotprint(fct, outfile=None, format="png", compact=True, with_ids=False, high_contrast=True, **kwargs):
    """Writes the graph of a compiled function or Variable(s) with Graphviz.

    The format follows ``outfile``'s extension (.dot, .svg, .png or .pdf), else
    ``format``. Formats other than .dot need Graphviz's ``dot`` program; without
    it a RuntimeError says so.
    """
    from theon.compile.function import Function

    if isinstance(fct, Function):
        roots = list(fct._core.outputs)
    else:
        roots = _roots(fct)
    if format not in ("dot", "svg", "png", "pdf"):
        raise ValueError(f"pydotprint: unknown format {format!r} (expected dot, svg, png or pdf)")
    if outfile is None:
        outfile = f"theon.pydotprint.{format}"
    outfile = os.fspath(outfile)
    if not os.path.splitext(outfile)[1]:
        outfile += "." + format
    _core.write_graph(roots, outfile, "")
    print(f"The output file is available at {outfile}")
    return outfile


def graph_to_dot(obj):
    """The graph in Graphviz's dot language."""
    from theon.compile.function import Function

    roots = list(obj._core.outputs) if isinstance(obj, Function) else _roots(obj)
    return _core.graph_to_dot(roots, "")
