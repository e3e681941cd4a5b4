"""debugprint, str() of variables and pydotprint."""
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import theon
import theon as theano
import theon.tensor as T


def graph():
    x = T.dmatrix("x")
    w = theano.shared(np.ones(3), "w")
    y = T.dot(x, w)
    z = T.exp(y) + y
    z.name = "z"
    return x, w, y, z


def test_debugprint_variable_tree():
    x, w, y, z = graph()
    text = theano.printing.debugprint(z, file="str")
    lines = text.splitlines()
    assert re.match(r"Elemwise\{add\} \[id A\] <TensorType\(float64, vector\)> 'z'$", lines[0])
    assert lines[1].startswith(" |Elemwise{exp} [id B]")
    assert lines[2].startswith(" | |dot [id C]")  # Theano's continuation bars
    assert lines[3].startswith(" |   |x [id D] <TensorType(float64, matrix)>")
    assert lines[4].startswith(" |   |w [id E] <TensorType(float64, vector)>")
    assert lines[5] == " |dot [id C] <TensorType(float64, vector)>"  # shared subtree: its id only
    assert len(lines) == 6


def test_debugprint_options():
    x, w, y, z = graph()
    no_types = theano.printing.debugprint(z, file="str", print_type=False)
    assert "TensorType" not in no_types and "[id A]" in no_types
    no_ids = theano.printing.debugprint(z, file="str", ids="")
    assert "[id" not in no_ids
    shallow = theano.printing.debugprint(z, file="str", depth=1)
    assert shallow.splitlines() == ["Elemwise{add} [id A] <TensorType(float64, vector)> 'z'"]
    two = theano.printing.debugprint([z, y], file="str")
    assert two.splitlines()[-1].startswith("dot [id C]")  # ids shared across roots
    buf = io.StringIO()
    theano.printing.debugprint(z, file=buf)
    assert buf.getvalue() == theano.printing.debugprint(z, file="str")


def test_debugprint_stdout(capsys):
    x = T.fvector("x")
    theano.printing.debugprint(x * 2)
    out = capsys.readouterr().out
    assert out.startswith("Elemwise{mul} [id A] <TensorType(float32, vector)>")
    assert " |x [id B]" in out and "TensorConstant{2.0}" in out


def test_debugprint_compiled_function():
    x, w, y, z = graph()
    f = theano.function([x], z, updates=[(w, w * 2)], mode="FAST_COMPILE")
    text = theano.printing.debugprint(f, file="str")
    lines = text.splitlines()
    # nodes show their position in the execution order
    assert re.match(r"Elemwise\{add\} \[id A\] <TensorType\(float64, vector\)> 'z'\s+\d+$", lines[0])
    assert any(re.match(r" \| \|dot \[id C\] .*\s+\d+$", line) for line in lines)
    assert "Updates:" in text and "w <- " in text
    order = f.toposort()
    assert order.index("dot") < order.index("Elemwise{exp}") < order.index("Elemwise{add}")


def test_debugprint_shows_the_optimized_graph():
    x, w, y, z = graph()  # z = exp(dot(x, w)) + dot(x, w)
    f = theano.function([x], z)
    text = theano.printing.debugprint(f, file="str")
    first = text.splitlines()[0]
    # the fused composite, its scalar program on one line
    assert re.match(r"Composite\{exp\(i0\) \+ i0\}(\(inplace 0\))? \[id A\] <TensorType\(float64, vector\)> 'z'", first), text
    assert "Elemwise{exp}" not in text and "dot" in text


def test_debugprint_rejects_other_objects():
    with pytest.raises(TypeError, match="debugprint"):
        theano.printing.debugprint(42)


def test_str_of_variables():
    x = T.dmatrix("x")
    assert str(x) == "x" and repr(x) == "x"
    anon = T.dmatrix()
    assert "TensorType(float64, matrix)" in str(anon)
    assert str(T.constant(3.0)) == "TensorConstant{3.0}"
    s = str(T.exp(x) + 1)
    assert s.startswith("Elemwise{add}(Elemwise{exp}(x)")
    w = theano.shared(np.zeros(2), "w")
    assert str(w) == "w"
    assert "float64" in str(x.type)
    assert theano.printing.pprint(x * 2) == str(x * 2)


def test_deep_graph_prints_without_recursion_limit():
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = y + 1
    text = theano.printing.debugprint(y, file="str", ids="")
    assert text.count("\n") == 3000 * 2 + 1


def test_graph_to_dot():
    x, w, y, z = graph()
    dot = theano.printing.graph_to_dot(z)
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    assert '[label="dot", shape=ellipse]' in dot
    assert "limegreen" in dot and "lightblue" in dot  # an input and a shared variable
    # every edge line is a plain 'a -> b' statement; nodes are declared on their own lines
    for line in dot.splitlines():
        if "->" in line:
            assert re.match(r'\s+[nv]\d+ -> [nv]\d+( \[label="\d+"\])?;$', line), line


def test_graph_to_dot_escapes_names():
    x = T.dvector('a "quoted" \\ name')
    dot = theano.printing.graph_to_dot(x * 2)
    assert 'a \\"quoted\\" \\\\ name' in dot


def test_pydotprint_dot_file(tmp_path, capsys):
    x, w, y, z = graph()
    f = theano.function([x], z, mode="FAST_COMPILE")
    out = theano.printing.pydotprint(f, outfile=str(tmp_path / "g.dot"))
    assert out.endswith("g.dot")
    text = (tmp_path / "g.dot").read_text()
    assert text.startswith("digraph G {") and "Elemwise{exp}" in text
    assert "available at" in capsys.readouterr().out
    # no extension: the format is appended
    out2 = theano.printing.pydotprint(z, outfile=str(tmp_path / "g2"), format="dot")
    assert out2.endswith("g2.dot") and os.path.exists(out2)
    with pytest.raises(ValueError, match="format"):
        theano.printing.pydotprint(z, outfile=str(tmp_path / "g3"), format="gif")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")
def test_pydotprint_svg(tmp_path):
    x, w, y, z = graph()
    f = theano.function([x], z)
    path = tmp_path / "g.svg"
    theano.printing.pydotprint(f, outfile=str(path))
    svg = path.read_text()
    assert "<svg" in svg and "exp" in svg


def test_pydotprint_svg_without_graphviz(tmp_path):
    # run with an empty PATH so 'dot' cannot be found: a clear error, no crash, no file left behind
    code = (
        "import theon, theon.tensor as T\n"
        "x = T.dvector('x')\n"
        "try:\n"
        f"    theon.printing.pydotprint(x * 2, outfile={str(tmp_path / 'g.svg')!r})\n"
        "except RuntimeError as e:\n"
        "    print('ERR', e)\n"
    )
    env = dict(os.environ, PATH=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(theon.__file__)),
                                         os.environ.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "ERR" in r.stdout and "Graphviz" in r.stdout and "'dot'" in r.stdout
    assert not (tmp_path / "g.svg").exists()
