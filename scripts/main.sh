#!/usr/bin/env bash
# The main job: set up, build, then build and run an expression graph from C++
# and from Python (Theano-style), printing each graph with debugprint.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup.sh
bash scripts/build.sh
echo "== C++: examples/expression.cpp =="
./build/dev/examples/expression
echo
echo "== Python: examples/expression.py =="
THEON_BUILD_DIR="$PWD/build/dev" PYTHONPATH="$PWD/python" $PY examples/expression.py
