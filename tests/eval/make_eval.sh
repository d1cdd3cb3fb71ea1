#!/bin/bash
# make_eval.sh - labelled evaluation traffic, made by real tools in network
# namespaces this script creates and removes (docs/EVAL.md).
#
#   tests/eval/make_eval.sh OUTDIR [RUN] [SEED]
#
# RUN is "train" (scan, SYN flood, login brute force) or "test" (the same,
# plus ARP spoofing and a UDP flood that training never saw). Writes
# OUTDIR/RUN.pcap (headers only: snap length 128) and OUTDIR/RUN.labels.
#
# Topology: four namespaces on one bridge, nothing else reachable.
#   fcev-sw   bridge br0, where tcpdump listens (sees every frame)
#   fcev-srv  10.77.0.1   HTTP (python), DNS (dnsmasq), iperf3, a login form
#   fcev-cli  10.77.0.2   benign: curl, dig, ping, iperf3
#   fcev-att  10.77.0.66  MAC 02:00:00:00:00:66: attacks (nmap, hping3,
#             arpspoof, curl brute force)
# Phases: benign only for WARMUP seconds, then attacks one after another
# with benign traffic continuing. Labels by construction: every frame from
# or to the attacker's MAC address inside an attack's time window is that
# attack; everything else is benign. Every loop is bounded in count and time.
#
# Needs root and: iproute2 tcpdump python3 curl dnsutils dnsmasq-base iperf3
# nmap hping3 dsniff (make eval-deps installs them).
set -euo pipefail

out=${1:?usage: make_eval.sh OUTDIR [train|test] [SEED]}
run=${2:-train}
seed=${3:-1}
WARMUP=${WARMUP:-300}
NET=10.77.0
ATT_MAC=02:00:00:00:00:66
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
ns=(fcev-sw fcev-srv fcev-cli fcev-att)
RANDOM=$seed

cleanup() {
    set +e
    for n in "${ns[@]}"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    sleep 0.5
    for n in "${ns[@]}"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
    rm -rf "$tmp"
}
cleanup 2>/dev/null   # leftovers of an interrupted run
tmp=$(mktemp -d)
trap cleanup EXIT

for n in "${ns[@]}"; do ip netns add "$n"; done
ip -n fcev-sw link add br0 type bridge
ip -n fcev-sw link set br0 up
host() { # host NS IP MAC
    ip link add veth-"$1" type veth peer name eth0 netns "$1"
    ip link set veth-"$1" netns fcev-sw
    ip -n fcev-sw link set veth-"$1" master br0 up
    ip -n "$1" link set eth0 address "$3"
    ip -n "$1" addr add "$2"/24 dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" link set lo up
}
host fcev-srv $NET.1 02:00:00:00:00:01
host fcev-cli $NET.2 02:00:00:00:00:02
host fcev-att $NET.66 $ATT_MAC
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# --- server ---
mkdir -p "$tmp/www"
for i in $(seq 1 20); do head -c $((RANDOM % 60000 + 500)) /dev/urandom | base64 > "$tmp/www/p$i.html"; done
cat > "$tmp/server.py" <<'PY'
import http.server, sys, os
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0) or 0)
        body = self.rfile.read(min(n, 4096))
        ok = self.path == '/login' and b'password=letmein' in body
        self.send_response(200 if ok else 401)
        self.send_header('Content-Length', '13')
        self.end_headers()
        self.wfile.write(b'login failed\n')
http.server.ThreadingHTTPServer(('0.0.0.0', 80), H).serve_forever()
PY
nsx fcev-srv python3 "$tmp/server.py" "$tmp/www" &
nsx fcev-srv dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=$NET.1 --bind-interfaces \
    --address=/www.fcev.test/$NET.1 --address=/mail.fcev.test/$NET.1 --pid-file="$tmp/dnsmasq.pid" 2>/dev/null &
nsx fcev-srv iperf3 -s -D --logfile "$tmp/iperf.log"
sleep 1

# --- capture ---
nsx fcev-sw tcpdump -i br0 -s 128 -w "$tmp/$run.pcap" -U 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
sleep 1

# --- benign client: runs until told to stop, each step bounded ---
benign() {
    local i=0
    while [ ! -e "$tmp/stop" ] && [ $i -lt 5000 ]; do
        i=$((i + 1))
        case $((RANDOM % 10)) in
        0|1|2|3) nsx fcev-cli curl -s -m 3 -o /dev/null "http://$NET.1/p$((RANDOM % 20 + 1)).html" || true ;;
        4|5|6) nsx fcev-cli dig +time=1 +tries=1 @$NET.1 www.fcev.test >/dev/null || true ;;
        7) nsx fcev-cli ping -c 2 -i 0.2 -W 1 $NET.1 >/dev/null || true ;;
        8) [ $((RANDOM % 8)) -eq 0 ] && { nsx fcev-cli iperf3 -c $NET.1 -t 1 -b 4M -l 1200 >/dev/null 2>&1 || true; } ;;
        9) nsx fcev-cli curl -s -m 3 -o /dev/null -d "user=alice&password=secret" "http://$NET.1/login" || true ;;
        esac
        sleep 0.$((RANDOM % 3 + 1))   # about 40-90 packets a second in all
    done
}
benign &
benign_pid=$!

labels="$out/$run.labels"
{
    echo "# $run run, seed $seed: made by tests/eval/make_eval.sh (labels by construction)"
    echo "default benign"
} > "$labels"
now() { date +%s.%N; }
attack() { # attack KIND COMMAND...: runs it, labels its window by the attacker MAC
    local kind=$1; shift
    local t0; t0=$(now)
    "$@" >/dev/null 2>&1 || true
    sleep 0.5   # replies still in flight belong to the attack
    echo "time $t0 $(now) $ATT_MAC attack:$kind" >> "$labels"
    sleep $((RANDOM % 4 + 4))
}

echo "make_eval: $run: benign warm-up ${WARMUP}s" >&2
t_start=$(now)
sleep "$WARMUP"
echo "# warm-up (benign only) from $t_start to $(now)" >> "$labels"
echo "make_eval: $run: attacks" >&2
attack scan timeout 20 ip netns exec fcev-att nmap -sS -Pn -n -p 1-1500 --max-rate 1500 $NET.1
attack synflood timeout 10 ip netns exec fcev-att hping3 -S -p 80 -i u400 -c 4000 --rand-source $NET.1
attack bruteforce timeout 30 ip netns exec fcev-att bash -c \
    "for i in \$(seq 1 250); do curl -s -m 2 -o /dev/null -d \"user=admin&password=guess\$i\" http://$NET.1/login; done"
if [ "$run" = test ]; then
    attack arpspoof timeout 12 ip netns exec fcev-att arpspoof -i eth0 -t $NET.2 $NET.1
    attack udpflood timeout 10 ip netns exec fcev-att hping3 --udp -p 53 -i u500 -c 3000 -d 200 $NET.1
    attack scan timeout 20 ip netns exec fcev-att nmap -sS -Pn -n -p 1500-2500 --max-rate 1000 $NET.1
fi
sleep 5
touch "$tmp/stop"
wait "$benign_pid" || true
sleep 1
kill "$tcpdump_pid"; wait "$tcpdump_pid" || true
cp "$tmp/$run.pcap" "$out/$run.pcap"
echo "make_eval: wrote $out/$run.pcap ($(stat -c %s "$out/$run.pcap") bytes) and $labels" >&2
