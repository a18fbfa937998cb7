#!/bin/bash
# One command from the data to a shipped aiecg model: train (or reuse a run), export the ONNX, fit the
# fusion of the network's logits with the C pipeline's measurements on the C engine's own features,
# recompile the .aiem, check the fused figures through the C engine and write the model card.
#
#   training/retrain.sh [--scratch DIR] [--build DIR] MODEL [train.py arguments]
#
#   training/retrain.sh ecg12 --arch xresnet1d_s --epochs 25 --threads 1      # the shipped ecg12 (~1 h CPU)
#   training/retrain.sh lead1 --arch xresnet1d_t --epochs 25 --threads 1
#   training/retrain.sh --scratch /tmp/rt ecg12 --from-run ecg12 --arch xresnet1d_s --epochs 25 --threads 1
#
# Steps (docs/training.md): 1. training/train.py --model MODEL ARGS (train + export models/MODEL.onnx
# + network-only card); 2. compile it and run `aiecg eval ptbxl --folds 0-8 --dump-features` with only
# that model, every record reduced to the model's leads; 3. training/fuse.py --write (fit on folds 1-7 +
# unknown fold, variant/lambda chosen on fold 8, aiecg.fusion + thresholds into the ONNX, weights
# unchanged) --report; 4. recompile models/MODEL.aiem; 5. `aiecg eval ptbxl` fold 8 fused and
# --model-probs, kept in training/out/MODEL_eval_{fused,network}.txt; 6. training/evaluate.py writes
# docs/models/MODEL.md/.json with the Fusion section from 3 and 5 (and fails if the C engine's macro-AUC
# differs from fuse.py's by more than 1.5e-4).
#
# --scratch DIR: run everything in a copy (training/*.py, models/, docs/models/, tests/data/) under DIR,
# with data/ and training/cache linked and the --from-run weights copied, so the repository's shipped
# files are not touched (compare DIR's results with the shipped ones, then copy what is byte-identical).
# --build DIR: the aiecg build to use (default build-retrain, configured and built when missing).
# RETRAIN_THREADS (default 2): threads of the C engine steps. Folds 9 and 10 are never read.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=
BUILD=
while [ $# -gt 0 ]; do
    case "$1" in
    --scratch) SCRATCH=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h | --help) sed -n 2,27p "$0"; exit 0 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: training/retrain.sh [--scratch DIR] [--build DIR] MODEL [train.py args]" >&2; exit 2; }
MODEL=$1
shift
case "$MODEL" in *[!A-Za-z0-9_-]*) echo "retrain.sh: bad model name '$MODEL'" >&2; exit 2 ;; esac
PY=/usr/bin/python3
T=${RETRAIN_THREADS:-2}
FROM=
prev=
for x in "$@"; do
    [ "$prev" = "--from-run" ] && FROM=$x
    case "$x" in --out | --out=* | --data | --data=*) echo "retrain.sh: --out/--data are fixed (ROOT/training/out, ROOT/data)" >&2; exit 2 ;; esac
    prev=$x
done

BUILD=${BUILD:-$REPO/build-retrain}
AIECG=$BUILD/aiecg
if [ ! -x "$AIECG" ]; then
    cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target aiecg >/dev/null
fi

ROOT=$REPO
if [ -n "$SCRATCH" ]; then
    mkdir -p "$SCRATCH"
    ROOT=$(cd "$SCRATCH" && pwd)
    mkdir -p "$ROOT/training/out" "$ROOT/models" "$ROOT/docs/models" "$ROOT/tests/data"
    cp "$REPO"/training/*.py "$REPO"/training/*.md "$ROOT/training/"
    cp "$REPO"/models/*.onnx "$ROOT/models/"
    cp "$REPO"/docs/models/* "$ROOT/docs/models/"
    cp -r "$REPO/tests/data/model" "$REPO"/tests/data/fusion_* "$ROOT/tests/data/"
    ln -sfn "$(readlink -f "$REPO/data")" "$ROOT/data"
    [ -e "$ROOT/training/cache" ] || ln -s "$REPO/training/cache" "$ROOT/training/cache"
    if [ -n "$FROM" ]; then
        cp "$REPO/training/out/$FROM.pt" "$REPO/training/out/${FROM}_run.json" "$ROOT/training/out/"
    fi
fi
OUT=$ROOT/training/out
EXP=$ROOT/tests/data/fusion_expected_$MODEL.csv
[ "$MODEL" = ecg12 ] && EXP=$ROOT/tests/data/fusion_expected.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -f "$OUT/${MODEL}_fusion.json" "$OUT/${MODEL}_eval_fused.txt" "$OUT/${MODEL}_eval_network.txt"

echo "== 1/6 train.py --model $MODEL $* (in $ROOT)"
if [ "$ROOT" != "$REPO" ]; then # the provenance names the repository's commit, not "unknown"
    GIT_DIR="$REPO/.git" "$PY" "$ROOT/training/train.py" --model "$MODEL" "$@"
else
    "$PY" "$ROOT/training/train.py" --model "$MODEL" "$@"
fi

echo "== 2/6 C pipeline features + network logits, folds 0-8 (records reduced to the model's leads)"
"$AIECG" model compile "$ROOT/models/$MODEL.onnx" -o "$TMP/$MODEL.aiem"
"$AIECG" eval ptbxl --db "$ROOT/data" --models "$TMP" --folds 0-8 --threads "$T" \
    --dump-features "$OUT/${MODEL}_features.csv" | tail -n 3

echo "== 3/6 fuse.py: fit on folds 1-7 + unknown, choose on fold 8, write aiecg.fusion"
"$PY" "$ROOT/training/fuse.py" --features "$OUT/${MODEL}_features.csv" --data "$ROOT/data" \
    --model "$ROOT/models/$MODEL.onnx" --write --report "$OUT/${MODEL}_fusion.json" \
    --expected "$EXP" --expected-ids 43,98,337,713,1232 | sed -n '/^shipped/,/^fused/p;/^wrote/p'

echo "== 4/6 compile models/$MODEL.aiem"
"$AIECG" model compile "$ROOT/models/$MODEL.onnx" -o "$ROOT/models/$MODEL.aiem"

echo "== 5/6 fold 8 through the C engine: fused and network alone"
cp "$ROOT/models/$MODEL.aiem" "$TMP/$MODEL.aiem"
"$AIECG" eval ptbxl --db "$ROOT/data" --models "$TMP" --threads "$T" --per-class >"$OUT/${MODEL}_eval_fused.txt"
"$AIECG" eval ptbxl --db "$ROOT/data" --models "$TMP" --threads "$T" --per-class --model-probs \
    >"$OUT/${MODEL}_eval_network.txt"
grep "^macro-AUC" "$OUT/${MODEL}_eval_fused.txt" "$OUT/${MODEL}_eval_network.txt"

echo "== 6/6 model card docs/models/$MODEL.md (Fusion section from the measured figures)"
"$PY" "$ROOT/training/evaluate.py" --model "$MODEL" --data "$ROOT/data" --out "$OUT" --no-sample
echo "retrain.sh: $MODEL done in $ROOT"
