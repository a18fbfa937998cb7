#!/usr/bin/env bash
# The test command of README.md: sets up, builds (release and ASan+UBSan) and runs ctest, then cross-builds for
# aarch64 and runs the NEON kernel tests and the end-to-end analysis under qemu against the native results
# (scripts/cross-neon.sh). AIECG_SKIP_ASAN=1 / AIECG_SKIP_NEON=1 leave those parts out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
neon=1; [ "${AIECG_SKIP_NEON:-0}" = 1 ] && neon=0
AIECG_SETUP_CROSS=${AIECG_SETUP_CROSS:-$neon} bash scripts/setup.sh
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
if [ "$neon" = 1 ]; then
  bash scripts/cross-neon.sh "$root/build-aarch64" "$root/build"
fi
