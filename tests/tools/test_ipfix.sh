#!/bin/sh
# test_ipfix.sh - fcap flows and its IPFIX export, judged by Debian's nfdump:
#   - nfcapd, listening on the loopback of a network namespace made here,
#     collects what fcap exports; nfdump reads back exactly the flows of
#     fcap's own flow table (protocol, addresses, ports, ingress, packets,
#     octets, start and end to the millisecond), IPv4 and IPv6;
#   - nfcapd counts no sequence error, across template resends and a
#     table small enough that flows are pushed out for room; a second
#     exporter restarting the sequence on the same domain is reported by
#     nfcapd (the judge does look at sequence numbers);
#   - the packets in fcap's flows are tshark's IP packets;
#   - fcap capture --ipfix (the simulated card, two ports) exports the flows
#     that fcap flows finds in the file it wrote, ingress = card port;
#   - errors: a bad collector, a truncated file (named with its offset,
#     the flows read before it still reported).
#
# usage: test_ipfix.sh FCAP OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
need_data
fcap=$(realpath "$1")
out=$(realpath -m "$2")
D=$FCAP_DATA
rm -rf "$out"
mkdir -p "$out"
ns=fcap-ipfix-$$
port=4739
nfpid=""
cleanup() {
    [ -n "$nfpid" ] && kill "$nfpid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || { echo "test_ipfix: cannot make a network namespace"; exit 1; }

start_collector() { # start_collector DIR
    mkdir -p "$1"
    ip netns exec "$ns" nfcapd -b 127.0.0.1 -p $port -w "$1" -t 3600 -B 8000000 >"$1.log" 2>&1 &
    nfpid=$!
    for _ in $(seq 50); do
        ip netns exec "$ns" ss -Hlun "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}
stop_collector() { # stop_collector: nfcapd writes its file on SIGTERM
    kill "$nfpid"
    wait "$nfpid" 2>/dev/null
    nfpid=""
}
# The flows as nfdump reads them back, and as fcap printed them, in one form.
nf_flows() {
    TZ=UTC nfdump -R "$1" -q -N -o 'fmt:%pr %sa %sp %da %dp %in %pkt %byt %ts %te' |
        awk '{ print $1, $2, $3, $4, $5 + 0, $6, $7, $8, $9 "T" $10, $11 "T" $12 }' | sort
}
fcap_flows() {
    awk -F, '{ printf "%s %s %s %s %s %s %s %s %s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, ms($9), ms($10) }
        function ms(ns,  n) { n = length(ns)   # as text: doubles would round the nanoseconds
            return strftime("%Y-%m-%dT%H:%M:%S", substr(ns, 1, n - 9) + 0, 1) "." substr(ns, n - 8, 3) }' "$1" | sort
}

python3 "$(dirname "$0")/mk_ipv6_pcap.py" "$out/v6.pcap"

# name | fcap flows options | files
cases="mixed|--template-every 5|$D/http_espn.pcapng $D/dns_isp_hijack.pcapng $D/icmp_traceroute.pcapng $D/tcp_ports.pcapng $D/arppoison.pcapng $D/http_post.pcapng $D/mail_sender_attachment.pcapng $out/v6.pcap
small-table|--entries 8 --idle 1|$D/synscan.pcapng $D/amp.UDP.isakmp.pcap"

echo "$cases" | while IFS='|' read -r case_name opts files; do
    echo "test_ipfix: $case_name"
    dir=$out/$case_name
    check "$case_name: nfcapd listens on 127.0.0.1:$port in $ns" start_collector "$dir/nf"
    # shellcheck disable=SC2086
    ip netns exec "$ns" "$fcap" flows -x 127.0.0.1:$port $opts -o "$dir/fcap.csv" $files 2>"$dir/fcap.err"
    eq "$case_name: fcap flows exits 0" $? 0
    stop_collector
    fcap_flows "$dir/fcap.csv" >"$dir/fcap.txt"
    nf_flows "$dir/nf" >"$dir/nfdump.txt"
    n=$(wc -l <"$dir/fcap.txt")
    check "$case_name: fcap reported flows ($n)" test "$n" -gt 0
    check "$case_name: nfdump reads back the same $n flows, packets, bytes, times" cmp -s "$dir/fcap.txt" "$dir/nfdump.txt"
    eq "$case_name: nfdump's flow count" "$(TZ=UTC nfdump -R "$dir/nf" -I | awk '/^Flows:/ { print $2 }')" "$n"
    eq "$case_name: nfcapd's sequence failures" "$(TZ=UTC nfdump -R "$dir/nf" -I | awk '/^Sequence failures:/ { print $3 }')" 0
    tmpl=$(sed -n 's/.* records, \([0-9]*\) template sets.*/\1/p' "$dir/fcap.err")
    check "$case_name: templates sent more than once ($tmpl)" test "${tmpl:-0}" -gt 1
    # shellcheck disable=SC2086
    ip_pkts=$(for f in $files; do tshark -r "$f" -Y 'ip or ipv6' 2>/dev/null | wc -l; done | awk '{ s += $1 } END { print s }')
    eq "$case_name: packets in flows = tshark's IP packets" "$(awk -F, '{ s += $7 } END { print s }' "$dir/fcap.csv")" "$ip_pkts"
    if [ "$case_name" = small-table ]; then
        check "$case_name: flows ended for room (reason 5)" grep -q ',5$' "$dir/fcap.csv"
        check "$case_name: flows ended idle (reason 1)" grep -q ',1$' "$dir/fcap.csv"
    fi
    [ "$fails" -eq 0 ] || exit 1
done || fails=$((fails + 1))

echo "test_ipfix: a sensor: fcap capture --ipfix exports as it captures"
check "nfcapd listens" start_collector "$out/capture/nf"
ip netns exec "$ns" "$fcap" capture -q -i sim -r "0:$D/http_espn.pcapng" -r "1:$D/dns_isp_hijack.pcapng" \
    -r "1:$D/http_post.pcapng" -w "$out/capture/cap.pcapng" --ipfix 127.0.0.1:$port 2>"$out/capture/err"
eq "fcap capture --ipfix exits 0" $? 0
stop_collector
# The same flow meter over the file the capture wrote: what was exported is
# what the file holds, with each flow's card port as its ingress interface.
"$fcap" flows -q -o "$out/capture/file.csv" "$out/capture/cap.pcapng"
fcap_flows "$out/capture/file.csv" >"$out/capture/fcap.txt"
nf_flows "$out/capture/nf" >"$out/capture/nfdump.txt"
check "nfdump reads back the flows of the captured file ($(wc -l <"$out/capture/fcap.txt"))" \
    cmp -s "$out/capture/fcap.txt" "$out/capture/nfdump.txt"
eq "flows on port 1 (ingressInterface)" "$(awk '$6 == 1' "$out/capture/nfdump.txt" | wc -l)" \
    "$(awk -F, '$6 == 1' "$out/capture/file.csv" | wc -l)"
check "some flows came in on port 1" test "$(awk '$6 == 1' "$out/capture/nfdump.txt" | wc -l)" -gt 0
eq "nfcapd's sequence failures" "$(nfdump -R "$out/capture/nf" -I | awk '/^Sequence failures:/ { print $3 }')" 0

echo "test_ipfix: the judge sees a sequence restarting"
check "nfcapd listens again" start_collector "$out/seq/nf"
ip netns exec "$ns" "$fcap" flows -q -x 127.0.0.1:$port -o /dev/null "$D/http_post.pcapng"
ip netns exec "$ns" "$fcap" flows -q -x 127.0.0.1:$port -o /dev/null "$D/http_post.pcapng"
stop_collector
eq "two exporters on one domain, each from 0: a sequence failure" \
    "$(nfdump -R "$out/seq/nf" -I | awk '/^Sequence failures:/ { print $3 }')" 1

echo "test_ipfix: errors"
"$fcap" flows -x nowhere -o /dev/null "$D/http_post.pcapng" 2>"$out/e1"; eq "collector without a port exits 1" $? 1
contains "the message names it" "$out/e1" "IPFIX collector 'nowhere'"
"$fcap" flows --entries 3 "$D/http_post.pcapng" 2>"$out/e2" >/dev/null; eq "--entries 3 exits 2" $? 2
head -c 300000 "$D/http_espn.pcapng" >"$out/cut.pcapng"
"$fcap" flows -o "$out/cut.csv" "$out/cut.pcapng" 2>"$out/e3"; eq "a truncated file exits 1" $? 1
contains "the error names the file" "$out/e3" "cut.pcapng"
contains "and the offset" "$out/e3" "offset"
check "the flows read before the cut are still reported" test -s "$out/cut.csv"
finish
