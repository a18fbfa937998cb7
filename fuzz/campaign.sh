#!/bin/bash
# Runs libFuzzer targets side by side (docs/fuzzing.md has the figures this produced).
#   fuzz/campaign.sh SECONDS [TARGET...]     default: every build-fuzz/fuzz_* target
# Work corpora, logs and artifacts go to $FUZZWORK (default /tmp/fuzzwork), never into the repo.
# Afterwards: fuzz/campaign.sh --stats [TARGET...] prints executions | seconds | last cov/ft/corp | crash lines.
set -u
cd "$(dirname "$0")/.."
W=${FUZZWORK:-/tmp/fuzzwork}
maxlen() {
    case $1 in
    aecg | edf | muse | wfdb_signal) echo 8192 ;;
    scp) echo 16384 ;;
    philips) echo 64000 ;;
    aiem | onnx) echo 100000 ;;
    fusion) echo 65536 ;;
    *) echo 4096 ;;
    esac
}
if [ "${1:-}" = --stats ]; then
    shift
    for t in ${@:-$(ls build-fuzz/ | sed -n 's/^fuzz_//p')}; do
        log=$W/$t.log
        ex=$(grep -o "stat::number_of_executed_units: [0-9]*" "$log" | awk '{print $2}')
        sec=$(grep -o "Done [0-9]* runs in [0-9]* second" "$log" | awk '{print $5}')
        fin=$(grep -E "^#[0-9]+\s+(DONE|NEW|REDUCE|pulse)" "$log" | tail -1 | grep -o "cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9A-Za-z]*")
        echo "$t | $ex | $sec | $fin | $(grep -c 'ERROR: \|runtime error\|deadly signal' "$log")"
    done
    exit 0
fi
T=${1:-620}
shift
mkdir -p "$W"
for t in ${@:-$(ls build-fuzz/ | sed -n 's/^fuzz_//p')}; do
    mkdir -p "$W/$t"
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        build-fuzz/fuzz_$t -max_total_time=$T -rss_limit_mb=1024 -timeout=25 -max_len=$(maxlen $t) \
        -print_final_stats=1 -artifact_prefix="$W/$t-" "$W/$t" fuzz/corpus/$t > "$W/$t.log" 2>&1 &
    echo "$t pid $!"
done
