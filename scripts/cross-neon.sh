#!/usr/bin/env bash
# Cross-builds aiecg for aarch64 (Debian gcc-aarch64-linux-gnu; AIECG_SETUP_CROSS=1 bash scripts/setup.sh installs
# it) and runs the nn kernel and model tests under qemu-aarch64, so the NEON kernels are compared with the C
# reference on every odd shape. ONNX import is off in the cross build (no arm64 protobuf-c), so the model test
# uses the compiled .aiem seed in fuzz/corpus/aiem instead of ONNX files.
#   scripts/cross-neon.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-aarch64}
rm -f "$build/CMakeCache.txt"
# host pkg-config must not leak x86 libraries (FLAC, protobuf-c) into the cross build
PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig PKG_CONFIG_PATH= \
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64.cmake" \
  -DAIECG_ONNX_PROTO=/nonexistent >/dev/null
cmake --build "$build" -j2 --target test_nn_kernels test_core
export AIECG_SOURCE_DIR="$root" AIECG_DATA_DIR="$root/data"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_core"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_nn_kernels"
