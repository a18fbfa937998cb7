#!/usr/bin/env bash
# Unpacks the shared PhysioNet data (../shared/data) into ./data (idempotent: unpack.sh skips unchanged archives).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${AIECG_SHARED_DIR:-$root/../shared}
[ -f "$shared/data/unpack.sh" ] || { echo "data.sh: no $shared/data/unpack.sh (CI puts ../shared beside the clone)" >&2; exit 1; }
bash "$shared/data/unpack.sh" "$root/data"
