#!/bin/sh
# run.sh - runs every fuzz target for a while and prints what it did.
#
# usage: run.sh BINDIR SEEDDIR WORKDIR SECONDS [TARGET...]
#   BINDIR   holds fuzz_<target> (built by `make fuzz-build`)
#   SEEDDIR  seed corpora, one directory per target (seeds.sh)
#   WORKDIR  the growing corpora (WORKDIR/corpus/<target>) and crash
#            inputs (WORKDIR/crashes/); kept between runs
#   SECONDS  per target
# First each target replays its regression inputs (tests/fuzz/regress/
# <target>/: inputs that once crashed it), then it fuzzes. The table gives
# per target: executions, executions per second, coverage (edges "cov" and
# libFuzzer's features "ft") and crashes (any sanitizer report, a timeout
# of 10 s or an out-of-memory of 2 GB counts). Exit status 1 if any target
# crashed; the crashing inputs are named below the table.
set -u
BIN=$1 SEEDS=$2 WORK=$3 SECS=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-pcap_reader replay block segment index model dt journal json spool}
mkdir -p "$WORK/crashes" "$WORK/logs"
failed=0
table="$WORK/table.txt"
printf '%-12s %12s %10s %7s %8s %8s\n' target executions "exec/s" cov ft crashes > "$table"
for t in $targets; do
    exe="$BIN/fuzz_$t"
    log="$WORK/logs/$t.log"
    crashes=0
    if [ -d "$here/regress/$t" ]; then
        if ! "$exe" -rss_limit_mb=2048 -timeout=10 "$here/regress/$t"/* > "$log.regress" 2>&1; then
            echo "fuzz: $t: a regression input crashes it again (log: $log.regress)"
            crashes=$((crashes + 1))
        fi
    fi
    mkdir -p "$WORK/corpus/$t"
    "$exe" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$WORK/crashes/$t-" "$WORK/corpus/$t" "$SEEDS/$t" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    if [ "$rc" -ne 0 ] || grep -q 'Test unit written to' "$log"; then
        crashes=$((crashes + 1))
        echo "fuzz: $t crashed: $(grep -m1 -E 'ERROR|SUMMARY|timeout|out-of-memory' "$log")"
        grep 'Test unit written to' "$log" | sed 's/^/  /'
    fi
    [ "$crashes" -eq 0 ] || failed=1
    printf '%-12s %12s %10s %7s %8s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes" >> "$table"
done
cat "$table"
exit $failed
