#!/usr/bin/env bash
# The whole test suite: set-up, build, C++ tests (CTest), the installed Python
# package (pip install .) under pytest, and a find_package(theon) consumer.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup.sh
bash scripts/build.sh

echo "== C++ tests (GoogleTest via CTest) =="
ctest --test-dir build/dev --output-on-failure -j2

echo "== C++ tests under ASan + UBSan =="
bash scripts/test_sanitize.sh

echo "== pip install . =="
$PY -m pip install -q --disable-pip-version-check --no-build-isolation . 2>&1 | grep -v "Running pip as the 'root' user" || true

echo "== Python tests (pytest + hypothesis, against the installed package) =="
(cd tests/python && $PY -m pytest -q -n 2 -p no:cacheprovider .)

echo "== find_package(theon) from an installed prefix =="
cmake --install build/dev --prefix build/prefix >/dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/prefix" >/dev/null
ninja -C build/consumer >/dev/null
./build/consumer/consumer
echo "All tests passed."
