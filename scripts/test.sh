#!/usr/bin/env bash
# The test command of README.md: sets up, builds (release and ASan+UBSan) and runs ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/data.sh
export AIECG_REQUIRE_DATA=1
jobs=$(nproc)
cmake --preset release -G Ninja >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${AIECG_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan -G Ninja >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow
fi
