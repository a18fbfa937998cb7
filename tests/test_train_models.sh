#!/bin/bash
# Checks the shipped models (models/*.onnx) against the training side, without the C engine:
# every aiecg.* metadata key of the contract (docs/training.md) is present and consistent, the
# file is < 2 MB, and a numpy re-implementation of the ONNX graph (training/onnx_ref.py) run on
# fold-8 PTB-XL records, preprocessed by training/ptbxl.py, reproduces the PyTorch logits stored in
# tests/data/model/<model>_val_sample.tsv within 1e-4 (and the stored input checksums).
# Skips (exit 77, prints SKIP) where /usr/bin/python3 lacks numpy/scipy/onnx (AIECG_SETUP_TRAINING=1
# bash scripts/setup.sh installs them) or the PTB-XL data is absent.
set -euo pipefail
src=${AIECG_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
data=${AIECG_DATA_DIR:-$src/data}
py=/usr/bin/python3
if ! $py -c "import numpy, scipy, onnx" 2>/dev/null; then echo "SKIP: /usr/bin/python3 lacks numpy/scipy/onnx"; exit 77; fi
if [ ! -d "$data/ptbxl/records100" ]; then echo "SKIP: no PTB-XL data under $data"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
for m in "$src"/models/*.onnx; do
  [ -e "$m" ] || continue
  name=$(basename "$m" .onnx)
  size=$(stat -c %s "$m")
  [ "$size" -lt 2097152 ] || { echo "FAIL: $m is $size bytes (>= 2 MB)"; exit 1; }
  $py - "$m" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1]); p = {x.key: x.value for x in m.metadata_props}
need = ["aiecg.labels", "aiecg.label_groups", "aiecg.thresholds", "aiecg.input.leads", "aiecg.input.fs",
        "aiecg.input.samples", "aiecg.output", "aiecg.model.name", "aiecg.model.version", "aiecg.provenance",
        "aiecg.val.macro_auc.all", "aiecg.val.macro_auc.superdiag", "aiecg.val.macro_auc.rhythm"]
miss = [k for k in need if k not in p]
assert not miss, "missing metadata %s" % miss
labels = p["aiecg.labels"].split(",")
th = [float(t) for t in p["aiecg.thresholds"].split(",")]
gr = [g.split("=")[0] for g in p["aiecg.label_groups"].split(";")]
assert len(th) == len(labels) == len(gr) and gr == labels, "labels/thresholds/groups disagree"
assert all(0 < t < 1.000001 for t in th)
assert p["aiecg.input.fs"] == "100" and p["aiecg.input.samples"] == "1000" and p["aiecg.output"] == "logits"
leads = p["aiecg.input.leads"].split(",")
dims = m.graph.input[0].type.tensor_type.shape.dim
assert dims[1].dim_value == len(leads) and dims[0].dim_param and dims[2].dim_param, "dynamic batch/length axes"
assert m.graph.output[0].type.tensor_type.shape.dim[1].dim_value == len(labels)
print("%s: %d labels, leads %s, metadata ok" % (sys.argv[1], len(labels), ",".join(leads)))
PY
  if [ -f "$src/tests/data/model/${name}_val_sample.tsv" ]; then
    $py "$src/training/onnx_ref.py" "$m" --data "$data" --n 8
    # The C engine (aiecg model compile + run) on the same 32 inputs, where the CLI has it.
    cli=${AIECG_CLI:-}
    if [ -n "$cli" ] && [ -x "$cli" ] && { "$cli" model 2>&1 || true; } | grep -q "model run"; then
      $py "$src/training/onnx_ref.py" "$m" --data "$data" --write-npy "$tmp/in.npy"
      "$cli" model compile "$m" -o "$tmp/m.aiem"
      shipped=""; [ -f "$src/models/$name.aiem" ] && shipped="$src/models/$name.aiem"
      for model_file in "$m" "$tmp/m.aiem" $shipped; do
        "$cli" model run "$model_file" --input "$tmp/in.npy" --output "$tmp/out.npy" --threads 1
        $py "$src/training/onnx_ref.py" "$m" --compare-npy "$tmp/out.npy" --label "C engine $(basename "$model_file")"
      done
    fi
  else
    echo "FAIL: no tests/data/model/${name}_val_sample.tsv for $m"; exit 1
  fi
  n=$((n+1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no models/*.onnx"; exit 1; }
echo "PASS: $n models"
