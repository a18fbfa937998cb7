#!/usr/bin/env bash
# Unpacks the shared PhysioNet data (../shared/data) into ./data, once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${AIECG_SHARED_DIR:-$root/../shared}
if [ -L "$root/data" ] || [ -d "$root/data/mitdb" ] && [ -f "$root/data/.mitdb.stamp" ]; then
  bash "$shared/data/unpack.sh" "$root/data" >/dev/null
  exit 0
fi
[ -x "$shared/data/unpack.sh" ] || [ -f "$shared/data/unpack.sh" ] || { echo "data.sh: no $shared/data/unpack.sh" >&2; exit 1; }
bash "$shared/data/unpack.sh" "$root/data"
