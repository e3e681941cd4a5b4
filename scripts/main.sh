#!/usr/bin/env bash
# The main job: set up, build, then train a small CNN on Fashion-MNIST with
# theon.nn (progress bar, test accuracy >= 90% asserted, time per epoch, the
# saved model reloaded and checked, curves.png). The logistic regression the
# Theano way stays as examples/fashion_mnist_logreg.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup.sh
bash scripts/build.sh
THEON_BUILD_DIR="$PWD/build/dev" PYTHONPATH="$PWD/python" $PY examples/fashion_mnist_cnn.py --out "${THEON_MAIN_OUT:-build/main_output}" "$@"
