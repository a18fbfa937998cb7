#!/usr/bin/env bash
# aiecg vs ONNX Runtime (CPU, one thread, graph optimisation "all") on the same ONNX models and the same
# deterministic inputs, interleaved in one run so machine drift cancels out in the ratios.
#   bench/run_ort_bench.sh [BUILD_DIR] [ROUNDS] [REPEAT]
# BUILD_DIR must hold bench_nn and aiecg (Release). Benchmark models are generated (not committed) into
# BUILD_DIR/bench-models by bench/models/make_models.py; the shipped model models/*.onnx is added when present.
# onnxruntime-node comes from npm into bench/ort/node_modules (install scripts skipped: they try to download
# a GPU build; the Linux x64 CPU library ships inside the package).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-3}
repeat=${3:-10}
models=$build/bench-models
out=$build/ort-bench.jsonl
[ -x "$build/bench_nn" ] || { echo "no $build/bench_nn: build first" >&2; exit 1; }
[ -f "$models/ribeiro.onnx" ] || /usr/bin/python3 "$root/bench/models/make_models.py" --bench "$models"
if [ ! -d "$root/bench/ort/node_modules/onnxruntime-node" ]; then
  (cd "$root/bench/ort" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
     npm install --no-audit --no-fund --ignore-scripts)
fi
cases=("$models/ribeiro.onnx 4096 12" "$models/xresnet1d50_1000.onnx 1000 12" "$models/xresnet1d50_250.onnx 250 12")
for m in "$root"/models/*.onnx; do
  [ -f "$m" ] || continue
  # leads from the model's input shape, length from its aiecg.input.samples metadata (else 1000)
  lc=$("$build/aiecg" model info "$m" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["metadata"].get("aiecg.input.samples", "1000"), j["input"][1])')
  cases+=("$m $lc")
done
: > "$out"
"$build/bench_nn" --peak-only | tee -a "$out.peak"
for r in $(seq 1 "$rounds"); do
  for c in "${cases[@]}"; do
    set -- $c
    name=$(basename "$1" .onnx)
    "$build/bench_nn" "$1" --json --batch 1,16 --length "$2" --repeat "$repeat" | sed "s/^{/{\"model\": \"$name\", /" >> "$out"
    node "$root/bench/ort/ort_bench.js" "$1" 1,16 "$2" "$repeat" "$3" | sed "s/^{/{\"model\": \"$name\", /" >> "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = sorted({(r["model"], r["batch"]) for r in rows})
print(f"{'model':22s} {'batch':>5s} {'aiecg ms':>9s} {'ort ms':>9s} {'ORT/aiecg':>9s} {'GFLOP/s':>8s} {'% peak':>7s} {'extra RSS MB':>12s} {'out sum diff':>12s}")
for m, b in keys:
    a = [r for r in rows if r["model"] == m and r["batch"] == b and r["engine"] == "aiecg"]
    o = [r for r in rows if r["model"] == m and r["batch"] == b and r["engine"] == "ort"]
    am = statistics.median(r["ms_per_record"] for r in a)
    om = statistics.median(r["ms_per_record"] for r in o)
    gf = statistics.median(r["gflop_per_s"] for r in a)
    pk = statistics.median(r["pct_peak"] for r in a)
    rss = max(r["rss_extra_mb"] for r in a)
    d = abs(a[0]["output_sum"] - o[0]["output_sum"])
    print(f"{m:22s} {b:5d} {am:9.3f} {om:9.3f} {om / am:9.2f} {gf:8.2f} {pk:7.1f} {rss:12.2f} {d:12.3g}")
PY
