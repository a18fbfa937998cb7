#!/usr/bin/env bash
# Cross-builds aiecg for aarch64 (Debian gcc-aarch64-linux-gnu; AIECG_SETUP_CROSS=1 bash scripts/setup.sh installs
# it) and runs the nn kernel and model tests under qemu-aarch64, so the NEON kernels are compared with the C
# reference on every odd shape. ONNX import is off in the cross build (no arm64 protobuf-c), so the model test
# uses the compiled .aiem seed in fuzz/corpus/aiem instead of ONNX files.
# Then the whole pipeline: `aiecg analyze` of real records (LUDB 500 Hz 12-lead -> ecg12, PTB-XL 100 Hz -> ecg12,
# LUDB lead I alone -> lead1, LUDB limb leads -> limb6, MIT-BIH 2-lead -> rules only) under qemu on the NEON path
# must equal the native build's result on the AVX2/AVX-512 path and on the generic C path (AIECG_CPU=generic),
# field by field (scripts/compare-results.py: numbers within 1e-4, everything else exact).
#   scripts/cross-neon.sh [BUILD_DIR] [NATIVE_BUILD_DIR (default build)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-aarch64}
native=${2:-$root/build}
rm -f "$build/CMakeCache.txt"
# host pkg-config must not leak x86 libraries (FLAC, protobuf-c) into the cross build
PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig PKG_CONFIG_PATH= \
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64.cmake" \
  -DAIECG_ONNX_PROTO=/nonexistent >/dev/null
cmake --build "$build" -j2 --target test_nn_kernels test_nn_rnn test_core aiecg
export AIECG_SOURCE_DIR="$root" AIECG_DATA_DIR="$root/data"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_core"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_nn_kernels"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_nn_rnn"

# End to end: same records, NEON (qemu) vs native default path vs native generic C path.
data=$root/data
[ -x "$native/aiecg" ] || { echo "cross-neon: no native $native/aiecg (build it first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
recs=()
for i in 1 2 3 4 5 6; do recs+=("$data/ludb/data/$i"); done
for i in 00001 00002 00003 00004 00005 00006; do recs+=("$data/ptbxl/records100/00000/${i}_lr"); done
"$native/aiecg" convert "$data/ludb/data/7" "$tmp/ludb7_I.hea" --leads I
"$native/aiecg" convert "$data/ludb/data/8" "$tmp/ludb8_limb.hea" --leads I,II,III,aVR,aVL,aVF
recs+=("$tmp/ludb7_I" "$tmp/ludb8_limb" "$data/mitdb/100")
opts=(--json --no-timings --beats --fiducials --models "$root/models")
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/aiecg" analyze "${recs[@]}" "${opts[@]}" >"$tmp/neon.jsonl"
"$native/aiecg" analyze "${recs[@]}" "${opts[@]}" >"$tmp/native.jsonl"
AIECG_CPU=generic "$native/aiecg" analyze "${recs[@]}" "${opts[@]}" >"$tmp/generic.jsonl"
for b in neon generic; do
  grep -o '"backend":"[a-z0-9]*"' "$tmp/$b.jsonl" | sort | uniq -c | sed "s/^/cross-neon: $b: /"
done
py=python3
command -v "$py" >/dev/null || py=/usr/bin/python3
echo "cross-neon: NEON (qemu) vs native $(grep -o '"backend":"[a-z0-9]*"' "$tmp/native.jsonl" | sort -u | tr '\n' ' ')"
"$py" "$root/scripts/compare-results.py" "$tmp/neon.jsonl" "$tmp/native.jsonl"
echo "cross-neon: NEON (qemu) vs native generic C"
"$py" "$root/scripts/compare-results.py" "$tmp/neon.jsonl" "$tmp/generic.jsonl"
echo "cross-neon: all passed"
