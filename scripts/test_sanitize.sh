#!/usr/bin/env bash
# C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DTHEON_SANITIZE=ON -DTHEON_BUILD_PYTHON=OFF -DTHEON_BUILD_TESTS=ON >/dev/null
ninja -C build/asan -j2  # the library, the C++ tests and every example CTest runs
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  ctest --test-dir build/asan --output-on-failure -j2
