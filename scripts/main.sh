#!/usr/bin/env bash
# The main job: set up, build, then train logistic regression on Fashion-MNIST
# the classic Theano way (shared datasets, givens, T.grad, updates).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup.sh
bash scripts/build.sh
THEON_BUILD_DIR="$PWD/build/dev" PYTHONPATH="$PWD/python" $PY examples/fashion_mnist_logreg.py
