"""The example programs run and check their own results."""
import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_expression_example_runs_and_prints_graph():
    r = subprocess.run([sys.executable, str(EXAMPLES / "expression.py")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Elemwise{log1p}" in r.stdout and "Updates:" in r.stdout


def test_char_lm_quick_run_lowers_the_loss():
    r = subprocess.run([sys.executable, str(EXAMPLES / "char_lm.py"), "--quick"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    first, last = (float(v) for v in r.stdout.strip().splitlines()[-1].split(":")[1].split("->"))
    assert last < 0.85 * first, r.stdout
    assert "sample: " in r.stdout
