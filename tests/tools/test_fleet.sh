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
#     survives the publisher's exit and drains on the next run;
#   - three sensors with their own stores answer `fcap fleet extract`
#     (`fcap fleet serve`): the merged pcapng is exactly the union of each
#     sensor's local `fcap extract`, one interface per sensor port named
#     SENSOR:PORT; a missing, a silent and a failing sensor are named;
#   - per-sensor NATS users: a sensor cannot publish under another's id nor
#     answer another's extracts (the server's permissions);
#   - a capture with a model publishes its alerts (the EVE file's lines,
#     once each) and one record per flow (those of `fcap flows` on the same
#     packets); `fcap fleet extract --alert ID` returns the sensor's local
#     `fcap extract --alert ID`, packet for packet.
# It prints the alerts per second it measured through the cluster, and the
# extract latency across sensors.
#
# usage: test_fleet.sh FCAP OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet_cluster.sh"
fcap=$(realpath "$1")
out=$(realpath -m "$2")
need_data
d=$FCAP_DATA
rm -rf "$out"
mkdir -p "$out"
ns=fcap-fleet-$$
fleet_users="s1 s2 s3 s4 s6 s8"
S=$(urls op)    # the operator: every subject
cleanup() {
    for p in "$out"/serve-*.pid; do
        [ -f "$p" ] && kill -CONT "$(cat "$p")" 2>/dev/null && kill "$(cat "$p")" 2>/dev/null
    done
    stop_nodes
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || { echo "test_fleet: cannot make a network namespace"; exit 1; }
run() { ip netns exec "$ns" "$@"; }

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
run "$fcap" fleet init -s "$S" --replicas 5 2>"$out/init5.err"
eq "5 replicas on 3 nodes: init exits 1" $? 1
contains "the stream and the servers are named" "$out/init5.err" "stream FCAP_ALERTS on nats://***@127.0.0.1:4222"
check "the message holds no password" sh -c "! grep -q op-pw '$out/init5.err'"

spool_info() { # spool_info DIR FIELD: waiting (messages not yet acknowledged) or acked (up to this id)
    run "$fcap" fleet spool --spool "$1" 2>/dev/null |
        sed -n "s/.*: \([0-9]*\) messages waiting.* acknowledged up to \([0-9]*\).*/\1 \2/p" |
        { read -r w a; if [ "$2" = waiting ]; then echo "${w:-0}"; else echo "${a:-0}"; fi; }
}
wait_acked() { # wait_acked DIR: until some message of the spool is acknowledged (10 s at most)
    for _ in $(seq 200); do
        [ "$(spool_info "$1" acked)" -gt 0 ] && return 0
        sleep 0.05
    done
    return 1
}

echo "test_fleet: three sensors, one node killed mid-run"
n=10000
for s in s1 s2 s3; do alerts $s 1 $n >"$out/$s.a"; done
t0=$(now_ms)
for s in s1 s2 s3; do
    run "$fcap" fleet publish -s "$S" --sensor $s --spool "$out/spool-$s" --drain-timeout 60 "$out/$s.a" \
        2>"$out/$s.err" &
    echo $! >"$out/$s.pid"
done
wait_acked "$out/spool-s1"
left=$(spool_info "$out/spool-s1" waiting)
kill_node 2 KILL
check "node 2 killed while s1 had sent some alerts and still had $left to send" test "$left" -gt 0
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
    spool_info "$out/spool-s1" waiting >"$out/s1b.spooled"
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

echo "test_fleet: a message too large for the server is set aside, not in the way"
{ head -c 1100000 /dev/zero | tr '\0' x; echo; echo '{"after":1}'; } >"$out/s10.a"
run "$fcap" fleet publish -s "$S" --sensor s10 --spool "$out/spool-s10" --drain-timeout 10 "$out/s10.a" \
    2>"$out/s10.err"
eq "publish exits 1 (a message not sent)" $? 1
contains "said, naming the message and its segment" "$out/s10.err" \
    "spool message 1 (segment $out/spool-s10/00000000000000000001.seg at 0): 1100000 bytes: more than the server takes"
check "kept as .bad (kind line and message)" sh -c "[ \$(wc -c <'$out/spool-s10/00000000000000000001.msg.bad') -eq 1100006 ]"
eq "the message after it arrived" "$(run "$fcap" fleet alerts -s "$S" --sensor s10 2>/dev/null | cut -f2)" '{"after":1}'

echo "test_fleet: a spool sent twice (its progress lost): the second time, all duplicates"
alerts s13 1 500 >"$out/s13.a"
run "$fcap" fleet publish -s nats://127.0.0.1:4999 --sensor s13 --spool "$out/spool-s13" --drain-timeout 0 \
    "$out/s13.a" 2>/dev/null
cp -r "$out/spool-s13" "$out/spool-s13-copy"
run "$fcap" fleet publish -s "$S" --sensor s13 --spool "$out/spool-s13" </dev/null 2>"$out/s13a.err"
contains "first: all acknowledged, none a duplicate" "$out/s13a.err" "500 acknowledged (0 as duplicates)"
run "$fcap" fleet publish -s "$S" --sensor s13 --spool "$out/spool-s13-copy" </dev/null 2>"$out/s13b.err"
contains "a copy of the spool as it was: all acknowledged as duplicates" "$out/s13b.err" \
    "500 acknowledged (500 as duplicates)"
eq "stored once" "$(run "$fcap" fleet alerts -s "$S" --sensor s13 2>/dev/null | wc -l)" 500
eq "the spool's segments removed once sent" "$(ls "$out/spool-s13" | grep -c '\.seg')" 0

echo "test_fleet: a publisher killed (SIGKILL) mid-run: its next run sends the rest, every alert once, in order"
alerts s12 1 20000 >"$out/s12.a"
run "$fcap" fleet publish -s nats://127.0.0.1:4999 --sensor s12 --spool "$out/spool-s12" --drain-timeout 0 \
    "$out/s12.a" 2>/dev/null
ip netns exec "$ns" "$fcap" fleet publish -s "$S" --sensor s12 --spool "$out/spool-s12" --drain-timeout 60 \
    </dev/null 2>"$out/s12a.err" &
pub=$!
wait_acked "$out/spool-s12"
kill -KILL $pub
wait $pub
eq "killed" $? 137
left=$(spool_info "$out/spool-s12" waiting)
check "killed with alerts acknowledged and $left still to send" test "$left" -gt 0 -a "$left" -lt 20000
run "$fcap" fleet publish -s "$S" --sensor s12 --spool "$out/spool-s12" </dev/null 2>"$out/s12b.err"
eq "the next run drains the spool" $? 0
dups=$(sed -n 's/.* acknowledged (\([0-9]*\) as duplicates).*/\1/p' "$out/s12b.err")
# at most the window in flight (256) and what was acknowledged since the
# progress was last written (it is written every 256 messages, or 10 ms)
check "it sent again only what the progress had not kept yet (${dups:-?} duplicates, at most 1000)" \
    test "${dups:-9999}" -le 1000
run "$fcap" fleet alerts -s "$S" --sensor s12 2>/dev/null | cut -f2 >"$out/s12.got"
check "the stream holds each alert once, in order" cmp -s "$out/s12.got" "$out/s12.a"
grep -h "fcap fleet: sensor" "$out/s12b.err" | sed 's/^/  /'

echo "test_fleet: a damaged spool: the damage set aside and said, the rest sent in order"
seq 1 1000 | awk '{ printf "{\"event_type\":\"alert\",\"sensor\":\"s14\",\"n\":\"%05d\"}\n", $1 }' >"$out/s14.a"
run "$fcap" fleet publish -s nats://127.0.0.1:4999 --sensor s14 --spool "$out/spool-s14" --drain-timeout 0 \
    "$out/s14.a" 2>/dev/null
seg="$out/spool-s14/00000000000000000001.seg"
rec=$(($(head -n 1 "$out/s14.a" | tr -d '\n' | wc -c) + 24))
eq "one segment of 1000 records" "$(wc -c <"$seg")" $((1000 * rec))
printf 'X' | dd of="$seg" bs=1 seek=$((99 * rec + 30)) conv=notrunc 2>/dev/null   # message 100: bad checksum
truncate -s -10 "$seg"                                                         # message 1000: cut short
head -c 500 /dev/zero | tr '\0' g >"$out/spool-s14/00000000000000000999.seg"     # not a segment at all
run "$fcap" fleet publish -s "$S" --sensor s14 --spool "$out/spool-s14" </dev/null 2>"$out/s14.err"
eq "publish exits 1 (damage set aside)" $? 1
contains "the three problems counted" "$out/s14.err" "3 spool problems set aside"
contains "the last one named" "$out/s14.err" "spool segment $out/spool-s14/00000000000000000999.seg: bytes 0 to 500"
run "$fcap" fleet alerts -s "$S" --sensor s14 2>/dev/null | cut -f2 >"$out/s14.got"
check "the stream holds every whole message once, in order (all but 100 and 1000)" \
    sh -c "sed '100d;1000d' '$out/s14.a' | cmp -s - '$out/s14.got'"
check "the damaged segments kept as .bad, none left to send" \
    test -f "$seg.bad" -a -f "$out/spool-s14/00000000000000000999.seg.bad" -a ! -f "$seg"
grep -h "fcap fleet: sensor" "$out/s14.err" | sed 's/^/  /'

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

echo "test_fleet: one extract across three sensors, each answering from its own store"
i=0
for inputs in "http_espn.pcapng" "dns_isp_hijack.pcapng mail_sender_attachment.pcapng" \
    "synscan.pcapng icmp_traceroute.pcapng"; do
    i=$((i + 1))
    set --
    for f in $inputs; do set -- "$@" -r "$d/$f"; done
    "$fcap" capture -i sim -q "$@" --store "$out/st$i" --block-size 64K -C 1M 2>"$out/cap$i.err"
    eq "s$i: its store recorded" $? 0
done
serve() { # serve SENSOR STORE USER
    # not through run(): $! must be the responder itself, to signal it
    ip netns exec "$ns" "$fcap" fleet serve -s "$(urls "$3")" --sensor "$1" --store "$2" 2>"$out/serve-$1.err" &
    echo $! >"$out/serve-$1.pid"
}
for i in 1 2 3; do serve s$i "$out/st$i" s$i; done
mkdir -p "$out/empty"
serve s4 "$out/empty" s4
for _ in $(seq 50); do
    [ "$(cat "$out"/serve-s?.err | grep -c 'serving extracts')" -eq 4 ] && break
    sleep 0.1
done
# A time range through the middle of all three stores' packets, and a filter.
for i in 1 2 3; do
    "$fcap" extract -q -r "$out/st$i" -w - | tshark -r - -T fields -e frame.time_epoch 2>/dev/null
done |
    sort -n >"$out/all-ts.txt"
nts=$(wc -l <"$out/all-ts.txt")
from=$(sed -n "$((nts / 5))p" "$out/all-ts.txt")
to=$(sed -n "$((nts * 4 / 5))p" "$out/all-ts.txt")
filter="tcp or icmp"
t0=$(now_ms)
run "$fcap" fleet extract -s "$S" --sensor s1,s2 --sensor s3 --from "$from" --to "$to" -w "$out/fleet.pcapng" \
    $filter 2>"$out/fleet.err"
eq "fcap fleet extract exits 0" $? 0
t1=$(now_ms)
pkts() { # pkts FILE: one line per packet, its timestamp (ns) and bytes
    tcpdump -r "$1" -nn -tt --time-stamp-precision=nano -xx 2>/dev/null |
        awk '/^[0-9]/ { if (l != "") print l; l = $1; next }
             { for (j = 2; j <= NF; j++) l = l $j }
             END { if (l != "") print l }'
}
: >"$out/local.txt"
for i in 1 2 3; do
    "$fcap" extract -q -r "$out/st$i" --from "$from" --to "$to" -w "$out/local$i.pcapng" $filter
    pkts "$out/local$i.pcapng" >"$out/local$i.txt"
    n_local=$(wc -l <"$out/local$i.txt")
    n_fleet=$(tshark -r "$out/fleet.pcapng" -T fields -e frame.interface_name 2>/dev/null | grep -c "^s$i:")
    eq "s$i: as many packets on its interfaces (s$i:...) as its local extract" "$n_fleet" "$n_local"
    cat "$out/local$i.txt" >>"$out/local.txt"
done
pkts "$out/fleet.pcapng" >"$out/fleet.txt"
check "several sensors contribute" \
    test "$(grep -v ': 0 packets' "$out/fleet.err" | grep -c ' packets (')" -ge 2
eq "the merge holds exactly the union of the local extracts (packets)" "$(wc -l <"$out/fleet.txt")" \
    "$(wc -l <"$out/local.txt")"
check "the merge holds exactly the union of the local extracts (timestamps and bytes)" \
    sh -c "sort '$out/fleet.txt' | cmp -s - '$(sort "$out/local.txt" >"$out/local.sorted"; echo "$out/local.sorted")'"
check "the merge is in timestamp order" sh -c "cut -c1-20 '$out/fleet.txt' | tr -d . | sort -n -c"
check "capinfos reads the merge" capinfos "$out/fleet.pcapng" >"$out/fleet.capinfos" 2>&1
check "tshark reads the merge without complaint" \
    sh -c "tshark -r '$out/fleet.pcapng' >/dev/null 2>'$out/fleet.tshark' &&
        ! grep -v '^Running as user' '$out/fleet.tshark'"
eq "one interface per sensor port (3 sensors x 4 ports)" \
    "$(grep -c '^Interface #' "$out/fleet.capinfos")" 12
eq "interface names carry the sensor id" "$(grep -c 'Name = s[123]:' "$out/fleet.capinfos")" 12
latency=$(sed -n 's/.* sensors answered: .* in \([0-9]*\) ms$/\1/p' "$out/fleet.err")
npk=$(sed -n 's/^Number of packets: *//p' "$out/fleet.capinfos")
echo "  (extract across 3 sensors: $latency ms in the client, $((t1 - t0)) ms for the whole command; $npk packets)"
sed 's/^/  /' "$out/fleet.err"

echo "test_fleet: a missing, a silent and a failing sensor are named"
run "$fcap" fleet extract -s "$S" --sensor s1,s7 -w "$out/miss.pcapng" 2>"$out/miss.err"
eq "a sensor without a responder: exit 1" $? 1
contains "it is named" "$out/miss.err" "sensor s7: no responder on fcap.s7.extract"
"$fcap" extract -q -r "$out/st1" -w "$out/all1.pcapng"
eq "the others' packets are still written" "$(packets "$out/miss.pcapng")" "$(packets "$out/all1.pcapng")"
kill -STOP "$(cat "$out/serve-s2.pid")"
run "$fcap" fleet extract -s "$S" --sensor s1,s2 --timeout 1 -w "$out/slow.pcapng" 2>"$out/slow.err"
eq "a sensor that does not answer in time: exit 1" $? 1
kill -CONT "$(cat "$out/serve-s2.pid")"
contains "it is named" "$out/slow.err" "sensor s2: no whole answer within the time-out"
run "$fcap" fleet extract -s "$S" --sensor s4 -w "$out/bad.pcapng" 2>"$out/bad.err"
eq "a sensor whose extract fails: exit 1" $? 1
contains "its error, named" "$out/bad.err" "sensor s4: extract from store $out/empty"

echo "test_fleet: a lying sensor's answer is refused, naming it"
liar() { # liar CASE WANT: fleet_liar.py answers for s5 on node 1
    : >"$out/liar-$1.out"
    ip netns exec "$ns" python3 "$(dirname "$0")/fleet_liar.py" 127.0.0.1 4222 op op-pw s5 "$1" \
        >>"$out/liar-$1.out" 2>&1 &
    lp=$!
    for _ in $(seq 50); do grep -q ready "$out/liar-$1.out" && break; sleep 0.1; done
    run "$fcap" fleet extract -s nats://op:op-pw@127.0.0.1:4222 --sensor s1,s5 --timeout 5 -w "$out/liar.pcapng" \
        2>"$out/liar-$1.err"
    eq "$1: exit 1" $? 1
    kill $lp 2>/dev/null
    wait $lp
    contains "$1: said, naming the sensor" "$out/liar-$1.err" "sensor s5: $2"
    eq "$1: the honest sensor's packets are written" "$(packets "$out/liar.pcapng")" "$(packets "$out/all1.pcapng")"
}
liar garbage "malformed answer: block at 0 of bad length"
liar gap "answer frame 2 where 1 was due"
liar count "malformed answer: end marker says 2 packets, the answer holds 1"
liar overrun "malformed answer: packet block at 60: 4000 captured bytes in 92"
liar longname "malformed answer: interface block at 28: a name of 65535 bytes"

echo "test_fleet: per-sensor users: a sensor speaks for itself only"
echo '{"spoof":1}' >"$out/spoof.a"
run "$fcap" fleet publish -s "$(urls s1)" --sensor s2 --spool "$out/spool-spoof" --drain-timeout 2 "$out/spoof.a" \
    2>"$out/spoof.err"
eq "s1 publishing under s2's id: not acknowledged, exit 1" $? 1
contains "the server's refusal is said" "$out/spoof.err" "Permissions Violation for Publish to \"fcap.s2.alert\""
eq "nothing stored under s2 from s1" "$(run "$fcap" fleet alerts -s "$S" --sensor s2 2>/dev/null | grep -c spoof)" 0
run "$fcap" fleet publish -s "$(urls s1)" --sensor s1 --spool "$out/spool-s1" "$out/spoof.a" 2>"$out/own.err"
eq "s1 publishing under its own id with its own user: exit 0" $? 0
run "$fcap" fleet serve -s "$(urls s1)" --sensor s2 --store "$out/st1" 2>"$out/steal.err"
eq "s1 answering s2's extracts: refused, exit 1" $? 1
contains "the server's refusal is said" "$out/steal.err" "Permissions Violation for Subscription to \"fcap.s2.extract\""
# What the server says to s1's user subscribing (the NATS protocol spoken
# directly): to every inbox, to s2's inboxes, and to its own.
cat >"$out/subs.py" <<'PY'
import json, socket, sys
c = socket.create_connection(("127.0.0.1", 4222), timeout=5)
f = c.makefile("rb")
f.readline()  # INFO
c.sendall(b"CONNECT " + json.dumps({"user": "s1", "pass": "s1-pw", "verbose": False}).encode() + b"\r\n")
for i, subject in enumerate(sys.argv[1:]):
    c.sendall(b"SUB %s %d\r\nPING\r\n" % (subject.encode(), i + 1))
    line = f.readline().decode().strip()
    while line == "PING":
        c.sendall(b"PONG\r\n")
        line = f.readline().decode().strip()
    print(subject, "refused" if line.startswith("-ERR") and "Permissions Violation" in line else line)
    while line.startswith("-ERR"):
        line = f.readline().decode().strip()
PY
run python3 "$out/subs.py" "_INBOX.>" "_INBOX.s2.x" "_INBOX.s1.x" >"$out/subs.txt" 2>&1
contains "s1's user may not subscribe to every inbox" "$out/subs.txt" "_INBOX.> refused"
contains "nor to s2's inboxes" "$out/subs.txt" "_INBOX.s2.x refused"
contains "but to its own" "$out/subs.txt" "_INBOX.s1.x PONG"
stopped=0
for s in s1 s2 s3 s4; do
    kill "$(cat "$out/serve-$s.pid")"
    wait "$(cat "$out/serve-$s.pid")" && stopped=$((stopped + 1))
done
eq "the responders stop cleanly on SIGTERM" $stopped 4
rm -f "$out"/serve-*.pid

echo "test_fleet: a capture publishes its statistics to fcap.s1.stats, as s1"
run "$fcap" capture -i sim -q -r "$d/http_espn.pcapng" --store "$out/st1b" --block-size 64K -C 1M \
    --fleet "$(urls s1)" --sensor s1 --spool "$out/spool-s1" 2>"$out/capfleet.err"
eq "capture --fleet exits 0" $? 0
run "$fcap" fleet alerts -s "$S" --kind stats --sensor s1 >"$out/stats.txt" 2>"$out/stats.err"
final=$(grep '"final":true' "$out/stats.txt" | tail -n 1)
eq "its final snapshot: every frame captured" "$(echo "$final" | sed -n 's/.*"captured":\([0-9]*\).*/\1/p')" 956
echo "$final" >"$out/final.txt"
contains "drops by stage in it" "$out/final.txt" \
    '"drops":{"wire":0,"card_fifo":0,"ring_full":0,"host":0,"disk_backlog":0}'

echo "test_fleet: a capture publishes its alerts and flows, as s6"
sec0=$(now_ms)
ev=$(cd "$(dirname "$0")/../eval/data" && pwd)
warm_end=$(sed -n 's/^# warm-up (benign only) from [0-9.]* to \([0-9.]*\)$/\1/p' "$ev/train.labels")
tp0=$(now_ms)
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$ev/train.pcap" -l "$ev/train.labels" \
    -o "$out/u.fcm" 2>"$out/train.err"
eq "a model (fcap train, as test_alerts.sh)" $? 0
# The first 13000 packets of the evaluation test run: a few alerts and about
# 1400 flows; the store and the alerts of the same run (for --alert below).
tp1=$(now_ms)
run "$fcap" capture -r "$ev/test.pcap" -c 13000 --store "$out/st6" -m "$out/u.fcm" --eve "$out/s6.eve" \
    --fleet "$(urls s6)" --sensor s6 --spool "$out/spool-s6" 2>"$out/cap6.err"
eq "capture --model --eve --fleet exits 0" $? 0
tp2=$(now_ms)
contains "it says what it spooled and that the spool drained" "$out/cap6.err" "0 left in the spool"
grep '"event_type":"alert"' "$out/s6.eve" >"$out/s6.want"
nal=$(wc -l <"$out/s6.want")
check "the capture raised alerts ($nal)" test "$nal" -gt 0
run "$fcap" fleet alerts -s "$S" --sensor s6 >"$out/s6.alerts" 2>/dev/null
cut -f2- "$out/s6.alerts" >"$out/s6.got"
check "FCAP_ALERTS holds exactly the EVE file's alert lines, once each, in order" cmp -s "$out/s6.got" "$out/s6.want"
run "$fcap" fleet alerts -s "$S" --sensor s6 --kind flow >"$out/s6.flows" 2>/dev/null
# fcap flows on the packets the capture recorded: the same flow records
"$fcap" extract -q -r "$out/st6" -w "$out/st6.pcapng"
"$fcap" flows -q "$out/st6.pcapng" | sort >"$out/s6.flows.want"
cut -f2- "$out/s6.flows" | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(",".join(str(e[k]) for k in ("proto", "src_ip", "src_port", "dest_ip", "dest_port", "ingress",
                                       "packets", "bytes", "start_ns", "end_ns", "end_reason")))' |
    sort >"$out/s6.flows.got"
nfl=$(wc -l <"$out/s6.flows.got")
eq "FCAP_FLOWS holds as many flow records as fcap flows finds" "$nfl" "$(wc -l <"$out/s6.flows.want")"
tot() { awk -F, '{ p += $7; b += $8 } END { print p, b }' "$1"; }
eq "the same packet and byte totals" "$(tot "$out/s6.flows.got")" "$(tot "$out/s6.flows.want")"
check "the same records, field for field (5-tuple, ingress, counts, times, end reason)" \
    cmp -s "$out/s6.flows.got" "$out/s6.flows.want"
echo "  (training $((tp1 - tp0)) ms; capture of 13000 packets with $nal alerts and $nfl flows published" \
    "and drained: $((tp2 - tp1)) ms, $(((nal + nfl) * 1000 / (tp2 - tp1))) messages per second)"
grep -E "fleet:|time     wall" "$out/cap6.err" | sed 's/^ */  /'

echo "test_fleet: a capture's full spool refuses and counts; what it kept arrives"
# To a file this time (a libpcap source in microseconds: flows still in ns).
run "$fcap" capture -r "$ev/test.pcap" -c 13000 -w "$out/s8.pcapng" -m "$out/u.fcm" --eve "$out/s8.eve" \
    --fleet "$(urls s8)" --sensor s8 --spool "$out/spool-s8" --spool-max 4K 2>"$out/cap8.err"
eq "capture --spool-max 4K exits 0" $? 0
set -- $(sed -n 's/.*sensor s8: spooled \([0-9]*\) alerts, \([0-9]*\) flows, .*refused (spool full) \([0-9]*\) alerts, \([0-9]*\) flows.*/\1 \2 \3 \4/p' \
    "$out/cap8.err")
check "flows refused and counted in the summary (${4:-none})" test "${4:-0}" -gt 0
eq "spooled + refused flows = the flows of fcap flows on the written file" "$((${2:-0} + ${4:-0}))" \
    "$("$fcap" flows -q "$out/s8.pcapng" | wc -l)"
eq "spooled + refused alerts = the EVE file's alerts" "$((${1:-0} + ${3:-0}))" \
    "$(grep -c '"event_type":"alert"' "$out/s8.eve")"
eq "the streams hold exactly what was spooled (flows, alerts)" \
    "$(run "$fcap" fleet alerts -s "$S" --sensor s8 --kind flow 2>/dev/null | wc -l) $(run "$fcap" fleet alerts -s "$S" --sensor s8 2>/dev/null | wc -l)" \
    "${2:-x} ${1:-x}"
grep "fleet:" "$out/cap8.err" | sed 's/^/  /'

echo "test_fleet: fcap fleet extract --alert: the evidence from the sensor that raised it"
ip netns exec "$ns" "$fcap" fleet serve -s "$(urls s6)" --sensor s6 --store "$out/st6" --alerts "$out/s6.eve" \
    2>"$out/serve-s6.err" &
echo $! >"$out/serve-s6.pid"
for _ in $(seq 50); do grep -q 'serving extracts' "$out/serve-s6.err" && break; sleep 0.1; done
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "alert": print(e["fcap"]["alert_id"], e["fcap"]["evidence"]["listed"])' "$out/s6.eve" |
    sort -k2,2n | sed -n '1p;$p' >"$out/s6.ids"
while read -r id listed; do
    "$fcap" extract -q --alert "$id" -a "$out/s6.eve" -w "$out/local-$id.pcapng"
    run "$fcap" fleet extract -s "$S" --sensor s6 --alert "$id" -w "$out/fleet-$id.pcapng" 2>"$out/fleet-$id.err"
    eq "alert $id: fcap fleet extract --alert exits 0" $? 0
    pkts "$out/local-$id.pcapng" >"$out/local-$id.txt"
    pkts "$out/fleet-$id.pcapng" >"$out/fleet-$id.txt"
    eq "alert $id: as many packets as the local extract --alert and the alert lists" \
        "$(wc -l <"$out/fleet-$id.txt") $(wc -l <"$out/local-$id.txt")" "$listed $listed"
    check "alert $id: the same packets (timestamps and bytes), in order" \
        cmp -s "$out/fleet-$id.txt" "$out/local-$id.txt"
    eq "alert $id: on the interface s6:..." \
        "$(tshark -r "$out/fleet-$id.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | cut -d: -f1)" s6
    sed -n 's/^fcap fleet: 1 of 1 sensors answered: /  (alert extract: /p' "$out/fleet-$id.err" | sed 's/$/)/'
done <"$out/s6.ids"
run "$fcap" fleet extract -s "$S" --sensor s6 --alert 0123456789abcdef -w "$out/noalert.pcapng" 2>"$out/noalert.err"
eq "an alert the sensor does not have: exit 1" $? 1
contains "named, in the sensor's words" "$out/noalert.err" "sensor s6: alert 0123456789abcdef: no alert with id"
run "$fcap" fleet extract -s "$S" --sensor s6 --alert 0123456789abcdef --port 80 -w "$out/x.pcapng" 2>"$out/alertport.err"
eq "--alert with another condition: exit 2" $? 2
kill "$(cat "$out/serve-s6.pid")"
wait "$(cat "$out/serve-s6.pid")"
eq "the responder stops cleanly" $? 0
rm -f "$out/serve-s6.pid"
echo "  (alerts, flows and extract by alert: $(($(now_ms) - sec0)) ms in all)"

echo "test_fleet: command line"
"$fcap" fleet publish -s "$S" --sensor 'bad.id' --spool "$out/x" </dev/null 2>"$out/e1"; eq "a sensor id with a dot exits 1" $? 1
contains "the message says why" "$out/e1" "sensor id 'bad.id'"
"$fcap" fleet alerts 2>"$out/e2"; eq "no servers exits 2" $? 2
"$fcap" fleet frob -s "$S" 2>"$out/e3"; eq "unknown subcommand exits 2" $? 2
finish
