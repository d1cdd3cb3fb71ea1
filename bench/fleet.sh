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
v() { sed -n "s/^$1=//p" "$out/fleet.txt"; }
echo "bench fleet: $n flow records (about 300 bytes), 3-node cluster, R3 file storage, optimized build"
printf '  %-11s %10s %10s %12s   %s\n' case seconds msgs/s "put msgs/s" notes
printf '  %-11s %10s %10s %12s   %s\n' spool "$(v spool_s)" "$(v spool_per_s)" "$(v spool_put_per_s)" \
    "no cluster; the put writes"
printf '  %-11s %10s %10s %12s   %s\n' spool_wb "$(v spool_wb_s)" "$(v spool_wb_per_s)" "$(v spool_wb_put_per_s)" \
    "no cluster; write behind, until written"
printf '  %-11s %10s %10s %12s   %s\n' send "$(v send_s)" "$(v send_per_s)" - \
    "acked $(v send_acked), failed attempts $(v send_failed), left $(v send_left)"
printf '  %-11s %10s %10s %12s   %s\n' end_to_end "$(v end_to_end_s)" "$(v end_to_end_per_s)" \
    "$(v end_to_end_put_per_s)" \
    "acked $(v end_to_end_acked), failed attempts $(v end_to_end_failed), left $(v end_to_end_left)"
