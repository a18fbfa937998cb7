#!/usr/bin/env bash
# aiecg info / aiecg convert on MIT-BIH 100: golden JSON (kept below, in this file), exit codes,
# error messages, and a convert -> info round trip. Regenerate the golden text by running
#   AIECG_REGEN_GOLDEN=1 bash tests/test_cli_info.sh
# and pasting its output over the block below (then review the diff).
set -u
CLI=${AIECG_CLI:-build/aiecg}
DATA=${AIECG_DATA_DIR:-data}
if [ ! -f "$DATA/mitdb/100.hea" ]; then
  echo "mitdb not found under $DATA"
  [ "${AIECG_REQUIRE_DATA:-0}" = 1 ] && exit 1 || exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}

"$CLI" info "$DATA/mitdb/100" >"$TMP/out.json" 2>"$TMP/err"
rc=$?
if [ "${AIECG_REGEN_GOLDEN:-0}" = 1 ]; then cat "$TMP/out.json"; exit 0; fi
check "info exits 0" test $rc -eq 0
cat >"$TMP/golden.json" <<'GOLDEN'
{
  "format": "wfdb",
  "record": "100",
  "fs": 360,
  "nsamples": 650000,
  "duration_s": 1805.555556,
  "nleads": 2,
  "has_adc": true,
  "leads": [
    {
      "label": "MLII",
      "lead": "MLII",
      "units": "mV",
      "gain": 200,
      "baseline": 1024,
      "adc_resolution": 11,
      "adc_zero": 1024,
      "initial_value": 995,
      "checksum_state": "ok"
    },
    {
      "label": "V5",
      "lead": "V5",
      "units": "mV",
      "gain": 200,
      "baseline": 1024,
      "adc_resolution": 11,
      "adc_zero": 1024,
      "initial_value": 1011,
      "checksum_state": "ok"
    }
  ],
  "metadata": {
    "patient_id": "",
    "age": 69,
    "sex": "M",
    "start_time": null,
    "device": ""
  },
  "annotations": {
    "total": 2274,
    "beats": 2273,
    "by_code": {
      "N": 2239,
      "V": 1,
      "A": 33,
      "+": 1
    }
  },
  "statements": 0,
  "checksums": "verified"
}
GOLDEN
check "info matches golden" diff -u "$TMP/golden.json" "$TMP/out.json"
check "info .hea path" bash -c "'$CLI' info '$DATA/mitdb/100.hea' | grep -q '\"checksums\": \"verified\"'"
check "info --help exits 0" bash -c "'$CLI' info --help | grep -q usage"
"$CLI" info >/dev/null 2>&1; check "info without args exits 2" test $? -eq 2
"$CLI" info --bogus x >/dev/null 2>&1; check "info unknown option exits 2" test $? -eq 2
"$CLI" info "$TMP/nosuch" >/dev/null 2>"$TMP/err"; rc=$?
check "info missing record exits 1" test $rc -eq 1
check "missing record message names the file" grep -q "nosuch" "$TMP/err"
"$CLI" info --annotator nosuch "$DATA/mitdb/100" >/dev/null 2>"$TMP/err"
check "missing annotator exits 1" test $? -eq 1
check "missing annotator message names the file" grep -q "100.nosuch" "$TMP/err"

# a damaged copy: wrong checksum -> exit 0, "mismatch"; truncated signal file -> exit 1 naming it
sed '2s/-22131/-22132/' "$DATA/mitdb/100.hea" >"$TMP/bad.hea"
sed -i '1s/^100/bad/; s/^100.dat/bad.dat/' "$TMP/bad.hea"
cp "$DATA/mitdb/100.dat" "$TMP/bad.dat"
"$CLI" info "$TMP/bad" >"$TMP/bad.json" 2>&1
check "checksum mismatch still exits 0" test $? -eq 0
check "checksum mismatch reported" grep -q '"checksums": "mismatch"' "$TMP/bad.json"
head -c 100000 "$DATA/mitdb/100.dat" >"$TMP/bad.dat"
"$CLI" info "$TMP/bad" >/dev/null 2>"$TMP/err"
check "truncated signal file exits 1" test $? -eq 1
check "truncated message names file and offset" grep -q "bad.dat' is truncated: 100000 bytes from byte offset 0" "$TMP/err"

# convert: WFDB 212 -> WFDB 16 (and back) keeps every sample and annotation
check "convert --help exits 0" bash -c "'$CLI' convert --help | grep -q usage"
"$CLI" convert "$DATA/mitdb/100" >/dev/null 2>&1; check "convert with one arg exits 2" test $? -eq 2
"$CLI" convert "$DATA/mitdb/100" "$TMP/c16.hea" --wfdb-format 99 >/dev/null 2>&1
check "convert bad --wfdb-format exits 2" test $? -eq 2
check "convert to WFDB 16" "$CLI" convert "$DATA/mitdb/100" "$TMP/c16.hea"
check "convert to WFDB 212" "$CLI" convert "$TMP/c16.hea" "$TMP/c212" --to wfdb --wfdb-format 212
for r in c16 c212; do
  "$CLI" info "$TMP/$r" | grep -v '"record"' >"$TMP/$r.json"
done
grep -v '"record"' "$TMP/out.json" >"$TMP/orig.json"
check "convert 16 keeps info" diff -u "$TMP/orig.json" "$TMP/c16.json"
check "convert 212 keeps info" diff -u "$TMP/orig.json" "$TMP/c212.json"
check "format 16 signal file size" test "$(stat -c %s "$TMP/c16.dat")" -eq 2600000
check "format 212 signal file size" test "$(stat -c %s "$TMP/c212.dat")" -eq 1950000
check "212 signal file identical to the original" cmp -s "$TMP/c212.dat" "$DATA/mitdb/100.dat"
check "annotation file identical to the original" cmp -s "$TMP/c212.atr" "$DATA/mitdb/100.atr"
"$CLI" convert "$DATA/mitdb/100" "$TMP/noext" >/dev/null 2>"$TMP/err"
check "convert without a known extension exits 1" test $? -eq 1
# CSV without a time column needs --fs; with it, info and convert work
printf 'I,II\n0.1,0.2\n0.3,0.4\n0.5,0.6\n' >"$TMP/nofs.csv"
"$CLI" info "$TMP/nofs.csv" >/dev/null 2>"$TMP/err"
check "csv without fs exits 1" test $? -eq 1
check "csv without fs asks for --fs" grep -q -- "--fs" "$TMP/err"
check "info --fs reads the csv" bash -c "'$CLI' info '$TMP/nofs.csv' --fs 250 | grep -q '\"fs\": 250'"
check "convert --fs writes WFDB" "$CLI" convert "$TMP/nofs.csv" "$TMP/nofs.hea" --fs 250
check "converted header states 250 Hz" grep -q '^nofs 2 250 3' "$TMP/nofs.hea"
"$CLI" info "$TMP/nofs.csv" --fs -3 >/dev/null 2>&1
check "negative --fs exits 2" test $? -eq 2
# convert --leads: keeps the chosen leads in the given order, samples byte-identical (format 212 -> 212)
check "convert --leads V5,MLII" "$CLI" convert "$DATA/mitdb/100" "$TMP/sel.hea" --leads V5,MLII --wfdb-format 212
check "selected header lists V5 then MLII" bash -c "sed -n '2p' '$TMP/sel.hea' | grep -q 'V5\$' && sed -n '3p' '$TMP/sel.hea' | grep -q 'MLII\$'"
"$CLI" convert "$TMP/sel" "$TMP/back.hea" --leads MLII,V5 --wfdb-format 212
check "selecting back restores the original signal file" cmp -s "$TMP/back.dat" "$DATA/mitdb/100.dat"
check "selection keeps the annotations" cmp -s "$TMP/back.atr" "$DATA/mitdb/100.atr"
"$CLI" convert "$DATA/mitdb/100" "$TMP/x.hea" --leads MLII,V2 >/dev/null 2>"$TMP/err"
check "unknown lead exits 2" test $? -eq 2
check "unknown lead message names it" grep -q "no lead 'V2' (item 2" "$TMP/err"
"$CLI" convert "$DATA/mitdb/100" "$TMP/x.hea" --leads V5,V5 >/dev/null 2>"$TMP/err"
check "repeated lead exits 1" test $? -eq 1
check "repeated lead message names both items" grep -q "items 1 and 2 both pick lead 1" "$TMP/err"
"$CLI" convert "$DATA/mitdb/100" "$TMP/x.hea" --leads MLII, >/dev/null 2>"$TMP/err"
check "empty list item exits 2" test $? -eq 2
exit $fail
