#!/bin/sh
# test_fleet.sh - the fleet's streams on a 3-node NATS JetStream cluster,
# started here on the loopback of a network namespace:
#   - three sensors publish alerts at once; one node is killed (SIGKILL)
#     mid-run: the replicated streams stay writable and every alert of every
#     sensor is in the stream exactly once;
#   - the whole cluster goes away while a sensor publishes (its link is cut):
#     the messages wait in its spool, the publisher retries, and when the
#     cluster is back the spool drains: every message once, none lost;
#   - a message sent again with the same id (its acknowledgement lost) is
#     acknowledged as a duplicate and stored once (JetStream's dedup window);
#   - a full spool refuses lines and counts them (overflow); what it holds
#     survives the publisher's exit and drains on the next run.
# It prints the alerts per second it measured through the cluster.
#
# usage: test_fleet.sh FCAP OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
fcap=$(realpath "$1")
out=$(realpath -m "$2")
rm -rf "$out"
mkdir -p "$out"
ns=fcap-fleet-$$
S=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
cleanup() {
    for i in 1 2 3; do
        [ -f "$out/n$i.pid" ] && kill "$(cat "$out/n$i.pid")" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || { echo "test_fleet: cannot make a network namespace"; exit 1; }
run() { ip netns exec "$ns" "$@"; }

start_node() { # start_node I
    cat >"$out/n$1.conf" <<EOF
server_name: n$1
listen: 127.0.0.1:$((4221 + $1))
jetstream { store_dir: "$out/n$1" }
cluster {
  name: fcap
  listen: 127.0.0.1:$((6221 + $1))
  routes: [ nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223, nats-route://127.0.0.1:6224 ]
}
EOF
    ip netns exec "$ns" nats-server -c "$out/n$1.conf" >>"$out/n$1.log" 2>&1 &
    echo $! >"$out/n$1.pid"
}
kill_node() { # kill_node I [SIGNAL]
    kill "-${2:-TERM}" "$(cat "$out/n$1.pid")"
    while kill -0 "$(cat "$out/n$1.pid")" 2>/dev/null; do sleep 0.1; done
    rm -f "$out/n$1.pid"
}
alerts() { # alerts SENSOR FIRST LAST: EVE-like lines with unique ids
    seq "$2" "$3" | awk -v s="$1" '{ printf "{\"event_type\":\"alert\",\"sensor\":\"%s\",\"n\":%d}\n", s, $1 }'
}
now_ms() { date +%s%3N; }

echo "test_fleet: a 3-node JetStream cluster"
for i in 1 2 3; do start_node $i; done
ok=no
for _ in $(seq 100); do
    if run "$fcap" fleet init -s "$S" --replicas 3 2>"$out/init.err"; then ok=yes; break; fi
    sleep 0.2
done
eq "the streams are created with 3 replicas" "$ok" yes

echo "test_fleet: three sensors, one node killed mid-run"
n=3000
for s in s1 s2 s3; do alerts $s 1 $n >"$out/$s.a"; done
t0=$(now_ms)
for s in s1 s2 s3; do
    run "$fcap" fleet publish -s "$S" --sensor $s --spool "$out/spool-$s" --drain-timeout 60 "$out/$s.a" \
        2>"$out/$s.err" &
    echo $! >"$out/$s.pid"
done
sleep 1
left=$(ls "$out"/spool-s? | grep -c '\.msg$')
kill_node 2 KILL
check "node 2 killed while the sensors still had $left alerts to send" test "$left" -gt 0
for s in s1 s2 s3; do
    wait "$(cat "$out/$s.pid")"
    eq "$s: publish exits 0 (spool drained)" $? 0
done
t1=$(now_ms)
run "$fcap" fleet alerts -s "$S" >"$out/all.txt" 2>"$out/all.err"
eq "fcap fleet alerts exits 0" $? 0
for s in s1 s2 s3; do
    eq "$s: its $n alerts, each once" "$(grep -c "^$s	" "$out/all.txt")" $n
    check "$s: exactly the lines it published" \
        sh -c "grep '^$s	' '$out/all.txt' | cut -f2 | sort | cmp -s - '$(sort "$out/$s.a" >"$out/$s.sorted"; echo "$out/$s.sorted")'"
done
eq "no other message" "$(wc -l <"$out/all.txt")" $((3 * n))
echo "  (3 sensors x $n alerts with a node killed: $((t1 - t0)) ms, $((3 * n * 1000 / (t1 - t0))) alerts per second)"
grep -h "fcap fleet: sensor" "$out"/s?.err | sed 's/^/  /'

echo "test_fleet: the cluster goes away while s1 publishes, and comes back"
alerts s1 $((n + 1)) $((2 * n)) >"$out/s1b.a"
start_node 2
sleep 1
# The lines come through a pipe: half, then the cluster goes away, the other
# half while it is away (spooled, never waiting for it), then it comes back.
{
    sed -n "1,$((n / 2))p" "$out/s1b.a"
    sleep 1
    for i in 1 2 3; do kill_node $i; done
    sed -n "$((n / 2 + 1)),\$p" "$out/s1b.a"
    sleep 2
    ls "$out/spool-s1" | grep -c '\.msg$' >"$out/s1b.spooled"
    for i in 1 2 3; do start_node $i; done
} | run "$fcap" fleet publish -s "$S" --sensor s1 --spool "$out/spool-s1" --drain-timeout 90 2>"$out/s1b.err"
eq "publish across the outage exits 0 (spool drained)" $? 0
check "during the outage the spool held messages ($(cat "$out/s1b.spooled"))" test "$(cat "$out/s1b.spooled")" -gt 0
fails_seen=$(sed -n 's/.* \([0-9]*\) failed attempts.*/\1/p' "$out/s1b.err")
check "the publisher did meet the outage (failed attempts: $fails_seen)" test "${fails_seen:-0}" -gt 0
run "$fcap" fleet alerts -s "$S" --sensor s1 >"$out/s1.txt" 2>/dev/null
eq "s1: all $((2 * n)) alerts, each once" "$(cut -f2 "$out/s1.txt" | sort -u | wc -l) $(wc -l <"$out/s1.txt")" \
    "$((2 * n)) $((2 * n))"
check "s1: exactly the lines it published" \
    sh -c "cut -f2 '$out/s1.txt' | sort | cmp -s - '$(cat "$out/s1.a" "$out/s1b.a" | sort >"$out/s1all.sorted"; echo "$out/s1all.sorted")'"
grep -h "fcap fleet: sensor" "$out/s1b.err" | sed 's/^/  /'

echo "test_fleet: a message sent again with its id is stored once"
mkdir -p "$out/spool-s9"
printf 'alert\n{"dup":1}' >"$out/spool-s9/00000000000000000001.msg"
echo 2 >"$out/spool-s9/next"
run "$fcap" fleet publish -s "$S" --sensor s9 --spool "$out/spool-s9" </dev/null 2>"$out/s9a.err"
contains "first copy: acknowledged, not a duplicate" "$out/s9a.err" "1 acknowledged (0 as duplicates)"
printf 'alert\n{"dup":1}' >"$out/spool-s9/00000000000000000001.msg"
run "$fcap" fleet publish -s "$S" --sensor s9 --spool "$out/spool-s9" </dev/null 2>"$out/s9b.err"
contains "second copy, same id: acknowledged as a duplicate" "$out/s9b.err" "1 acknowledged (1 as duplicates)"
eq "stored once" "$(run "$fcap" fleet alerts -s "$S" --sensor s9 2>/dev/null | wc -l)" 1

echo "test_fleet: a full spool counts what it refuses, keeps what it holds"
alerts s4 1 100 >"$out/s4.a"
run "$fcap" fleet publish -s nats://127.0.0.1:4999 --sensor s4 --spool "$out/spool-s4" --spool-max 2K \
    --drain-timeout 1 "$out/s4.a" 2>"$out/s4a.err"
eq "no cluster: publish exits 1" $? 1
kept=$(sed -n 's/.*sensor s4: \([0-9]*\) spooled, \([0-9]*\) overflow.*/\1/p' "$out/s4a.err")
over=$(sed -n 's/.*sensor s4: \([0-9]*\) spooled, \([0-9]*\) overflow.*/\2/p' "$out/s4a.err")
check "some lines spooled ($kept), some refused ($over)" test "${kept:-0}" -gt 0 -a "${over:-0}" -gt 0
eq "spooled + overflow = lines" "$((kept + over))" 100
contains "the refusal is said" "$out/s4a.err" "kept in $out/spool-s4"
run "$fcap" fleet publish -s "$S" --sensor s4 --spool "$out/spool-s4" </dev/null 2>"$out/s4b.err"
eq "next run on the cluster: the spool drains" $? 0
eq "what the spool held arrived" "$(run "$fcap" fleet alerts -s "$S" --sensor s4 2>/dev/null | cut -f2 | cmp -s - \
    "$(head -n "$kept" "$out/s4.a" >"$out/s4.kept"; echo "$out/s4.kept")" && echo same)" same

echo "test_fleet: command line"
"$fcap" fleet publish -s "$S" --sensor 'bad.id' --spool "$out/x" </dev/null 2>"$out/e1"; eq "a sensor id with a dot exits 1" $? 1
contains "the message says why" "$out/e1" "sensor id 'bad.id'"
"$fcap" fleet alerts 2>"$out/e2"; eq "no servers exits 2" $? 2
"$fcap" fleet frob -s "$S" 2>"$out/e3"; eq "unknown subcommand exits 2" $? 2
finish
