#!/bin/sh
# fleet.sh BENCH_FLEET FCAP OUTDIR [MESSAGES] - a sensor's publishing to a
# 3-node NATS JetStream cluster (R3 file storage) started here in a network
# namespace, as tests/tools/test_fleet.sh starts it (make bench).
#
# bench_fleet measures, MESSAGES flow records (default 20000) each:
#   spool       fcap_fleet_put writing the spool itself (fcap fleet publish),
#               no cluster: messages spooled per second
#   spool_wb    the same with write behind (fcap capture): until written
#   send        that spool sent by a new publisher: messages acknowledged
#               per second, from the open to the drained spool
#   end_to_end  write behind with the cluster (a capture's flows): all put
#               at once, until every one is acknowledged
# and then a real sensor's load: fcap capture of the whole evaluation test
# run (tests/eval/data/test.pcap: about 13700 flows in 0.5 s of capture)
# with a model (trained as test_fleet.sh does) and --fleet, which waits at
# most 10 s at its end for its spool to drain: its wall time, what it
# spooled, what was acknowledged in that time. With FCAP_OLD=FCAP and
# BENCH_OLD=BENCH_FLEET (an earlier version's, built from its tree), the
# same cases by those too, on the same cluster, for before and after.
# Writes OUTDIR/fleet.txt (the KEY=VALUE lines) and prints a table.
set -eu
bench=$(realpath "$1")
fcap=$(realpath "$2")
out=$(realpath -m "$3")/fleet
n=${4:-20000}
. "$(dirname "$0")/../tests/tools/fleet_cluster.sh"
rm -rf "$out"
mkdir -p "$out"
ns=fcap-bench-fleet-$$
fleet_users=""
cleanup() {
    stop_nodes
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
S=$(urls op)
for i in 1 2 3; do start_node "$i"; done
ok=no
for _ in $(seq 100); do
    if ip netns exec "$ns" "$fcap" fleet init -s "$S" --replicas 3 2>"$out/init.err"; then ok=yes; break; fi
    sleep 0.2
done
[ "$ok" = yes ] || { echo "bench fleet: the cluster did not come up: $(cat "$out/init.err")"; exit 1; }
ip netns exec "$ns" "$bench" "$S" "$out" "$n" >"$out/fleet.txt"
if [ -n "${BENCH_OLD:-}" ]; then
    # its own spools and sensor ids (ids start at 1 in a new spool: the same
    # sensor id would be dropped as duplicates)
    mkdir -p "$out/old"
    BENCH_FLEET_SENSOR=old ip netns exec "$ns" "$(realpath "$BENCH_OLD")" "$S" "$out/old" "$n" |
        sed 's/^/old_/' >>"$out/fleet.txt"
fi
v() { sed -n "s/^$1=//p" "$out/fleet.txt"; }

ev=$(cd "$(dirname "$0")/../tests/eval/data" && pwd)
warm_end=$(sed -n 's/^# warm-up (benign only) from [0-9.]* to \([0-9.]*\)$/\1/p' "$ev/train.labels")
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$ev/train.pcap" -l "$ev/train.labels" \
    -o "$out/u.fcm" 2>"$out/train.err"
capture() { # capture NAME FCAP SENSOR: the evaluation test run published by FCAP
    name=$1
    t0=$(date +%s%N)
    ip netns exec "$ns" "$2" capture -r "$ev/test.pcap" --store "$out/store-$3" -m "$out/u.fcm" \
        --eve "$out/$3.eve" --fleet "$S" --sensor "$3" --spool "$out/spool-$3" 2>"$out/$3.err" ||
        echo "bench fleet: $name: fcap capture exited $?: $(tail -n 3 "$out/$3.err")"
    t1=$(date +%s%N)
    f=$(sed -n 's/.*fleet: sensor [^:]*: spooled \([0-9]*\) alerts, \([0-9]*\) flows, \([0-9]*\) statistics snapshots; \([0-9]*\) acknowledged;.* \([0-9]*\) left in the spool.*/\1 \2 \3 \4 \5/p' \
        "$out/$3.err")
    w=$(sed -n 's/^ *time  *wall \([0-9.]*\) s.*/\1/p' "$out/$3.err")
    set -- $f
    {
        echo "${name}_capture_s=$w"
        echo "${name}_command_s=$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", t / 1e9 }')"
        echo "${name}_spooled=$(($1 + $2 + $3))"
        echo "${name}_acked=$4"
        echo "${name}_left=$5"
    } >>"$out/fleet.txt"
}
capture capture "$fcap" cap1
[ -n "${FCAP_OLD:-}" ] && capture capture_old "$(realpath "$FCAP_OLD")" cap0
echo "bench fleet: $n flow records (about 300 bytes), 3-node cluster, R3 file storage, optimized build"
printf '  %-15s %9s %10s %12s   %s\n' case seconds msgs/s "put msgs/s" notes
row() { # row PREFIX CASE NOTE
    [ -n "$(v "$1$2_s")" ] || return 0
    pp=$(v "$1$2_put_per_s")
    [ "$pp" = 0 ] && pp=-   # send puts nothing
    printf '  %-15s %9s %10s %12s   %s\n' "$1$2" "$(v "$1$2_s")" "$(v "$1$2_per_s")" "$pp" "$3"
}
for p in "" old_; do
    row "$p" spool "no cluster; the put writes"
    row "$p" spool_wb "no cluster; write behind, until written"
    row "$p" send "acked $(v ${p}send_acked), failed attempts $(v ${p}send_failed), left $(v ${p}send_left)"
    row "$p" end_to_end "acked $(v ${p}end_to_end_acked), failed attempts $(v ${p}end_to_end_failed), left $(v ${p}end_to_end_left)"
done
for c in capture capture_old; do
    [ -n "$(v ${c}_spooled)" ] || continue
    printf '  %-15s %9s %10s %12s   %s\n' "$c" "$(v ${c}_command_s)" \
        "$(awk -v a="$(v ${c}_acked)" -v s="$(v ${c}_command_s)" 'BEGIN { printf "%.0f", a / s }')" - \
        "fcap capture of the evaluation test run: capture $(v ${c}_capture_s) s, $(v ${c}_spooled) spooled, $(v ${c}_acked) acked, $(v ${c}_left) left in the spool"
done
