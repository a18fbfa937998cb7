#!/usr/bin/env bash
# aiecg measure: exit codes, JSON shape and values on LUDB record 1 (a sinus rhythm record:
# every measurement present), "null + reason" on an AF stretch of MIT-BIH 201 and on a flat
# record, usage errors. Values are checked against ranges, not a golden file: the figures
# move when the detector or delineator is retuned (docs/dsp-delineation.md).
set -u
CLI=${AIECG_CLI:-build/aiecg}
DATA=${AIECG_DATA_DIR:-data}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ ! -f "$DATA/ludb/data/1.hea" ] || [ ! -f "$DATA/mitdb/201.hea" ]; then
  echo "ludb or mitdb not found under $DATA"
  [ "${AIECG_REQUIRE_DATA:-0}" = 1 ] && exit 1 || exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}

"$CLI" measure "$DATA/ludb/data/1" >"$TMP/l1.json" 2>"$TMP/err"
check "measure exits 0" test $? -eq 0
check "LUDB 1 values in range" "$PY" - "$TMP/l1.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["measurements"]
keys = ["heart_rate", "atrial_rate", "rr_mean", "rr_sd", "rr_min", "rr_max", "p_duration", "pr_interval",
        "qrs_duration", "qt_interval", "qtc_bazett", "qtc_fridericia", "qtc_framingham", "qtc_hodges",
        "p_axis", "qrs_axis", "t_axis", "sokolow_lyon", "cornell"]
assert list(m.keys()) == keys, list(m.keys())
for k in keys:
    assert m[k]["value"] is not None, (k, m[k])
    assert "reason" not in m[k], k
assert m["heart_rate"]["unit"] == "bpm" and m["qt_interval"]["unit"] == "ms" and m["cornell"]["unit"] == "mV"
assert 40 < m["heart_rate"]["value"] < 55, m["heart_rate"]       # 8 beats in 10 s
assert 120 < m["pr_interval"]["value"] < 180, m["pr_interval"]  # reference 144 ms
assert 70 < m["qrs_duration"]["value"] < 120, m["qrs_duration"]
assert 430 < m["qt_interval"]["value"] < 540, m["qt_interval"]
assert -30 < m["qrs_axis"]["value"] < 90, m["qrs_axis"]
f = d["representative_beat_ms"]
assert f["qrs_on"] == 0 and f["p_on"] < f["p_peak"] < f["p_off"] <= 0 < f["qrs_off"] < f["t_peak"] < f["t_off"], f
assert len(d["leads"]) == 12 and d["leads"][1]["lead"] == "II" and d["leads"][1]["r_mv"] > 0.3, d["leads"][1]
assert d["beats_detected"] >= d["beats_in_representative"] >= 2
PYEOF

# MIT-BIH 201: 2 leads, AF for long stretches: the whole record still gives a rate; axes need lead I
"$CLI" measure --compact "$DATA/mitdb/201" >"$TMP/m201.json" 2>"$TMP/err"
check "measure 201 exits 0" test $? -eq 0
check "201: no axis without lead I, with reason" "$PY" -c "
import json,sys; m=json.load(open('$TMP/m201.json'))['measurements']
assert m['qrs_axis']['value'] is None and m['qrs_axis']['reason'] == 'lead I absent or unusable', m['qrs_axis']
assert m['sokolow_lyon']['value'] is None and 'reason' in m['sokolow_lyon']
assert m['heart_rate']['value'] > 30"

# flat record: everything null with a reason, still exit 0
"$CLI" convert "$DATA/ludb/data/1" "$TMP/flat.csv" >/dev/null 2>&1
if [ -f "$TMP/flat.csv" ]; then
  "$PY" -c "
import sys
lines=open('$TMP/flat.csv').read().splitlines()
out=[lines[0]]
for ln in lines[1:]:
    parts=ln.split(',')
    out.append(','.join([parts[0]]+['0']*(len(parts)-1)))
open('$TMP/flat0.csv','w').write('\n'.join(out)+'\n')"
  "$CLI" measure "$TMP/flat0.csv" >"$TMP/flat.json" 2>"$TMP/err"
  rc=$?
  check "flat record exits 0" test $rc -eq 0
  check "flat record: all null with reasons" "$PY" -c "
import json; m=json.load(open('$TMP/flat.json'))['measurements']
assert all(v['value'] is None and v.get('reason') for v in m.values()), m"
fi

"$CLI" measure >/dev/null 2>&1
check "no record -> usage (2)" test $? -eq 2
"$CLI" measure --bogus x >/dev/null 2>&1
check "unknown option -> usage (2)" test $? -eq 2
"$CLI" measure "$TMP/does-not-exist" >/dev/null 2>"$TMP/err"
check "missing record -> 1" test $? -eq 1
exit $fail
