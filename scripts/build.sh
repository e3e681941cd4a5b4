#!/usr/bin/env bash
# Builds the C++ library, its tests and examples, and the Python extension into build/dev.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTHEON_BUILD_PYTHON=ON -DTHEON_BUILD_TESTS=ON \
      -DPython_EXECUTABLE="$(command -v "$PY")" >/dev/null
ninja -C build/dev -j2
