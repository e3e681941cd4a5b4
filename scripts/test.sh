#!/usr/bin/env bash
# The whole test suite: set-up, then one build through `pip install .` that
# also builds the C++ tests (build/dev), C++ tests (CTest), the installed
# Python package under pytest + hypothesis, a find_package(theon) consumer,
# and the C++ tests again under ASan + UBSan.
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# Compiled CUDA kernels (NVRTC images, the host emulator's libraries) are
# cached inside the tree, never in the user's ~/.cache.
export THEON_CACHE_DIR=${THEON_CACHE_DIR:-$PWD/build/cache}
bash scripts/setup.sh

echo "== pip install . (builds the library, the extension, C++ tests and examples in build/dev) =="
$PY -m pip install -q --disable-pip-version-check --no-build-isolation \
    -C build-dir=build/dev -C cmake.define.THEON_BUILD_TESTS=ON .

echo "== C++ tests (GoogleTest via CTest) =="
ctest --test-dir build/dev --output-on-failure -j2

echo "== Python tests (pytest + hypothesis, against the installed package) =="
(cd tests/python && $PY -m pytest -q -n 2 -p no:cacheprovider .)

echo "== find_package(theon) from an installed prefix =="
cmake --install build/dev --prefix build/prefix --component dev >/dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/prefix" >/dev/null
cmake --build build/consumer >/dev/null
./build/consumer/consumer

echo "== C++ tests under ASan + UBSan =="
bash scripts/test_sanitize.sh
echo "All tests passed."
