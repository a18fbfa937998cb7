#!/usr/bin/env bash
# The main job of README.md: sets up, builds, and analyses the bundled real ECG, printing the interpretation.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cmake --preset release -G Ninja >/dev/null
cmake --build build -j"$(nproc)" --target aiecg >/dev/null
rec=${1:-examples/ludb-1/1}
./build/aiecg analyze "$rec" --text
