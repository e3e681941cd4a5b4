"""The example programs run and check their own results."""
import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_expression_example_runs_and_prints_graph():
    r = subprocess.run([sys.executable, str(EXAMPLES / "expression.py")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Elemwise{log1p}" in r.stdout and "Updates:" in r.stdout
