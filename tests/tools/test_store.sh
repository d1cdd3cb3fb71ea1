#!/bin/sh
# test_store.sh FCAP OUTDIR - the store, judged by tshark, tcpdump, capinfos
# and editcap.
#
#   1. record bundled captures on four ports into rotating segments
#   2. extraction counts and bytes against tcpdump's and tshark's own
#      filtering of the inputs; time ranges against editcap; exact edges;
#      a spoofed SYN flood indexed live and late (keys deferred) against
#      tcpdump, and its live indexes equal to those rebuilt from segments
#   3. kill -9 at random points while recording; recovery keeps every whole
#      block, and the store holds a gap-free prefix of the input
#   4. a full disk (a tmpfs made here): clean close, loss counted by stage,
#      recording resumes when space returns
#   5. missing, corrupt and stale indexes rebuilt; a corrupt segment
#      reported with its offset while the rest stays usable
#   6. retention (-W, --max-size), pins; rotation by time (-G)
#   7. bad arguments
set -u
fcap=$1 out=$2
. "$(dirname "$0")/lib.sh"
need_data
rm -rf "$out" && mkdir -p "$out"
d=$FCAP_DATA
st=$out/store

count() { capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }
dsize() { capinfos -d -M "$1" 2>/dev/null | awk -F: '/Data size/ {gsub(/ bytes| /, "", $2); print $2}'; }
clean_read() { # tshark and capinfos read FILE without a word of complaint
    tshark -r "$1" > /dev/null 2> "$out/tshark.err" || return 1
    ! grep -v 'Running as user' "$out/tshark.err" | grep -q . || return 1
    capinfos "$1" > /dev/null 2>&1
}
all_clean() { # every published segment of a store reads cleanly
    for s in "$1"/*.pcapng; do
        [ -e "$s" ] || continue
        clean_read "$s" || { echo "    unreadable: $s"; return 1; }
    done
}
hidden() { find "$1" -maxdepth 1 -name '.*.pcapng' | wc -l; }
segments() { find "$1" -maxdepth 1 -name '*.pcapng' ! -name '.*' | wc -l; }
iso() { # ns since the epoch -> editcap's time format
    printf '%s.%09dZ' "$(date -u -d "@$(($1 / 1000000000))" +%Y-%m-%dT%H:%M:%S)" "$(($1 % 1000000000))"
}
epoch() { # ns -> seconds.nanoseconds
    printf '%d.%09d' "$(($1 / 1000000000))" "$(($1 % 1000000000))"
}

# ---------------------------------------------------------------------------
echo "store: four ports into rotating segments"
p0="$d/http_espn.pcapng $d/dns_isp_hijack.pcapng"
p1="$d/synscan.pcapng $d/arppoison.pcapng"
p2="$d/tcp_ports.pcapng $d/icmp_traceroute.pcapng"
p3="$d/amp.UDP.isakmp.pcap $d/mail_sender_attachment.pcapng $d/http_post.pcapng"
inputs="$p0 $p1 $p2 $p3"
args=""
for f in $p0; do args="$args -r 0:$f"; done
for f in $p1; do args="$args -r 1:$f"; done
for f in $p2; do args="$args -r 2:$f"; done
for f in $p3; do args="$args -r 3:$f"; done
# shellcheck disable=SC2086
"$fcap" capture -i sim $args --store "$st" --block-size 64K -C 256K 2> "$out/rec.err"
eq "capture exit status" "$?" 0
want=0
for f in $inputs; do want=$((want + $(count "$f"))); done
contains "summary: no loss" "$out/rec.err" "0 lost in all"
contains "summary: frames recorded" "$out/rec.err" "$want frames recorded in store"
nseg=$(segments "$st")
check "several segments ($nseg)" test "$nseg" -ge 4
eq "no hidden segment left" "$(hidden "$st")" 0
check "every segment reads cleanly in tshark and capinfos" all_clean "$st"
n=0
for s in "$st"/*.pcapng; do n=$((n + $(count "$s"))); done
eq "segments hold every frame" "$n" "$want"
"$fcap" store ls "$st" > "$out/ls.txt"
eq "fcap store ls exit status" "$?" 0
contains "ls totals" "$out/ls.txt" "$nseg segments"
contains "ls totals: packets" "$out/ls.txt" "$want packets"
big=0
for s in "$st"/*.pcapng; do [ "$(stat -c %s "$s")" -le 262144 ] || big=1; done
eq "no segment over -C 256K" "$big" 0

# ---------------------------------------------------------------------------
echo "extract: tcpdump filters, counts and bytes against tcpdump on the inputs"
tcpdump_ref() { # FILTER -> "packets bytes" of tcpdump's filtering of every input
    np=0 nb=0
    for f in $inputs; do
        tcpdump -r "$f" -w "$out/ref.pcap" "$1" 2>/dev/null
        np=$((np + $(count "$out/ref.pcap"))) nb=$((nb + $(dsize "$out/ref.pcap")))
    done
    echo "$np $nb"
}
for flt in 'host 172.16.0.122' 'host 192.168.100.7' 'port 53' 'tcp port 80' 'udp and port 500' \
           'host 172.16.0.122 and port 53' 'arp' 'icmp' 'tcp[tcpflags] & tcp-syn != 0' \
           'src host 172.16.0.8 and dst port 80' 'ip6' 'not tcp and not udp'; do
    "$fcap" extract -q -s "$st" -w "$out/x.pcapng" "$flt" 2> "$out/x.err"
    rc=$?
    got="$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")"
    eq "'$flt': exit status" "$rc" 0
    eq "'$flt': packets and bytes" "$got" "$(tcpdump_ref "$flt")"
done
"$fcap" extract -q -s "$st" --no-index -w "$out/y.pcapng" 'host 172.16.0.122 and port 53'
"$fcap" extract -q -s "$st" -w "$out/x.pcapng" 'host 172.16.0.122 and port 53'
check "the index gives what a full read gives" cmp -s "$out/x.pcapng" "$out/y.pcapng"
"$fcap" extract -s "$st" -w "$out/x.pcapng" 'host 172.16.0.122 and port 53' 2> "$out/x.err"
contains "the filter narrowed through the index" "$out/x.err" "narrowed through the index"

echo "store: four rings (flows steered by hash), a segment per ring"
st4=$out/store4
# shellcheck disable=SC2086
"$fcap" capture -i sim $args --rings 4 --hash --store "$st4" --block-size 64K -C 256K 2> "$out/rec4.err"
eq "capture --rings 4 exit status" "$?" 0
contains "summary: no loss" "$out/rec4.err" "0 lost in all"
contains "summary: every frame recorded" "$out/rec4.err" "$want frames recorded in store"
eq "segments of every ring" "$(ls "$st4" | sed -n 's/.*Z-r\([0-9]*\).*\.pcapng$/\1/p' | sort -u | tr '\n' ' ')" "0 1 2 3 "
check "every segment reads cleanly in tshark and capinfos" all_clean "$st4"
for flt in 'port 53' 'host 172.16.0.122' 'arp'; do
    "$fcap" extract -q -s "$st4" -w "$out/x4.pcapng" "$flt" 2> "$out/x4.err"
    eq "four rings, '$flt': packets and bytes" "$(count "$out/x4.pcapng") $(dsize "$out/x4.pcapng")" \
       "$(tcpdump_ref "$flt")"
done

echo "extract: --host, --port, --flow against tshark and tcpdump"
# shellcheck disable=SC2086
mergecap -a -w "$out/inputs.pcapng" $inputs
tshark_ref() { # DISPLAY-FILTER -> "packets bytes" over every input
    tshark -r "$out/inputs.pcapng" -Y "$1" -T fields -e frame.cap_len 2>/dev/null |
        awk '{n++; b += $1} END {printf "%d %d\n", n, b}'
}
"$fcap" extract -q -s "$st" --host 172.16.0.122 -w "$out/x.pcapng"
eq "--host 172.16.0.122 vs tshark ip.addr" "$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")" \
   "$(tshark_ref 'ip.addr == 172.16.0.122 || arp.src.proto_ipv4 == 172.16.0.122 || arp.dst.proto_ipv4 == 172.16.0.122')"
# ICMP errors quote a UDP/TCP header that tshark's port fields see; the
# store's ports are those of the packet itself, as tcpdump's are.
"$fcap" extract -q -s "$st" --port 80 -w "$out/x.pcapng"
eq "--port 80 vs tshark tcp/udp.port" "$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")" \
   "$(tshark_ref '!icmp && (tcp.port == 80 || udp.port == 80)')"
"$fcap" extract -q -s "$st" --host 172.16.0.122 --port 53 -w "$out/x.pcapng"
eq "--host and --port vs tshark" "$(count "$out/x.pcapng")" \
   "$(tshark_ref '!icmp && ip.addr == 172.16.0.122 && udp.port == 53' | cut -d' ' -f1)"
flow=$(tshark -r "$d/http_espn.pcapng" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' \
       -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | head -1 |
       awk '{printf "%s:%s>%s:%s/tcp", $3, $4, $1, $2}')
set -- $(echo "$flow" | tr ':>/' '   ')
"$fcap" extract -q -s "$st" --flow "$flow" -w "$out/x.pcapng"
eq "--flow $flow (given server first) vs tcpdump" "$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")" \
   "$(tcpdump_ref "tcp and ((src host $1 and src port $2 and dst host $3 and dst port $4) or (src host $3 and src port $4 and dst host $1 and dst port $2))")"
check "--flow found the connection" test "$(count "$out/x.pcapng")" -gt 5
"$fcap" extract -q -s "$st" --flow "$flow" -F pcap -w "$out/x.pcap"
eq "-F pcap: nanosecond pcap" "$(capinfos -t -M "$out/x.pcap" 2>/dev/null | awk -F: '/File type/ {print $2}' | sed 's/^ *//')" \
   "nsecpcap"
eq "-F pcap: same packets" "$(tcpdump -r "$out/x.pcap" -t -xx -n 2>/dev/null | md5sum)" \
   "$(tcpdump -r "$out/x.pcapng" -t -xx -n 2>/dev/null | md5sum)"
eq "piped into tshark -r -" "$("$fcap" extract -q -s "$st" --flow "$flow" -w - | tshark -r - 2>/dev/null | wc -l)" \
   "$(count "$out/x.pcapng")"

echo "extract: time ranges against editcap, exact edges"
mergecap -w "$out/all.pcapng" "$st"/*.pcapng
tshark -r "$out/all.pcapng" -T fields -e frame.time_epoch 2>/dev/null | tr -d . | sed 's/^0*//' | sort -n > "$out/ts.txt"
eq "all timestamps listed" "$(wc -l < "$out/ts.txt")" "$want"
for pair in "100 2000" "1 5000" "3000 3001" "2500 $want"; do
    set -- $pair
    a=$(sed -n "${1}p" "$out/ts.txt") b=$(sed -n "${2}p" "$out/ts.txt")
    "$fcap" extract -q -s "$st" --from "$(epoch "$a")" --to "$(iso "$b")" -w "$out/x.pcapng"
    editcap -A "$(iso "$a")" -B "$(iso "$b")" "$out/all.pcapng" "$out/e.pcapng" 2>/dev/null
    eq "[packet $1, packet $2): as editcap -A/-B" "$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")" \
       "$(count "$out/e.pcapng") $(dsize "$out/e.pcapng")"
done
t=$(sed -n 700p "$out/ts.txt")
at_t=$(grep -c "^$t\$" "$out/ts.txt")
"$fcap" extract -q -s "$st" --from "$(epoch "$t")" --to "$(epoch $((t + 1)))" -w "$out/x.pcapng"
eq "[t, t+1ns) holds exactly the packets at t" "$(count "$out/x.pcapng")" "$at_t"
"$fcap" extract -q -s "$st" --from "$(epoch $((t - 1000)))" --to "$(epoch "$t")" -w "$out/x.pcapng"
# 19-digit timestamps: compared as strings of one length (awk's numbers are doubles).
eq "[t-1us, t) excludes the packets at t" "$(count "$out/x.pcapng")" \
   "$(awk -v a=$((t - 1000)) -v b="$t" '($1 "") >= (a "") && ($1 "") < (b "")' "$out/ts.txt" | wc -l)"
"$fcap" extract -q -s "$st" --to "$(epoch "$t")" -w "$out/x.pcapng"
eq "--to only" "$(count "$out/x.pcapng")" "$(awk -v b="$t" '($1 "") < (b "")' "$out/ts.txt" | wc -l)"
"$fcap" extract -q -s "$st" --from "$(epoch "$t")" -F pcap -w "$out/x.pcap"
eq "--from only" "$(count "$out/x.pcap")" "$(awk -v a="$t" '($1 "") >= (a "")' "$out/ts.txt" | wc -l)"
tshark -r "$out/x.pcap" -T fields -e frame.time_epoch 2>/dev/null | tr -d . > "$out/order.txt"
check "merged in timestamp order across ports and segments" sort -n -c "$out/order.txt"

# ---------------------------------------------------------------------------
echo "flood: a spoofed SYN flood (every packet a new host and flow), indexed live and late"
fin=$d/pkt.TCP.synflood.spoofed.pcap
fl=$out/flood fl0=$out/flood-late
"$fcap" capture -i sim -r "$fin" --store "$fl" --block-size 64K -C 1M --index-lag off 2> "$out/fl.err"
eq "flood capture exit status" "$?" 0
contains "flood: no keys deferred with --index-lag off" "$out/fl.err" "keys deferred (indexing behind the disk) in 0 segments"
"$fcap" capture -i sim -r "$fin" --store "$fl0" --block-size 64K -C 1M --index-lag 0 2> "$out/fl0.err"
eq "flood capture --index-lag 0 exit status" "$?" 0
nfl=$(segments "$fl0")
contains "flood: every segment's keys deferred and indexed late" "$out/fl0.err" \
    "keys deferred (indexing behind the disk) in $nfl segments, indexed late $nfl "
# shellcheck disable=SC2046  # three fields, split on purpose
set -- $(tshark -r "$fin" -T fields -e ip.src -e tcp.srcport -e ip.dst -c 1 2>/dev/null)
fsrc=$1 fsport=$2 fdst=$3
flood_ref() { tcpdump -r "$fin" -w "$out/ref.pcap" "$1" 2>/dev/null; echo "$(count "$out/ref.pcap") $(dsize "$out/ref.pcap")"; }
for flt in "host $fsrc" "host $fsrc and port $fsport" "port $fsport" "dst host $fdst and tcp port 25565" \
           "host 10.10.10.11"; do
    fwant=$(flood_ref "$flt")
    for s in "$fl" "$fl0"; do
        "$fcap" extract -q -s "$s" -w "$out/x.pcapng" "$flt"
        eq "flood ($(basename "$s")), '$flt': packets and bytes" "$(count "$out/x.pcapng") $(dsize "$out/x.pcapng")" "$fwant"
    done
done
"$fcap" extract -q -s "$fl0" --flow "$fsrc:$fsport>$fdst:25565/tcp" -w "$out/x.pcapng"
eq "flood, --flow vs tcpdump" "$(count "$out/x.pcapng")" \
   "$(tcpdump -r "$fin" -n "host $fsrc and host $fdst and tcp port $fsport and tcp port 25565" 2>/dev/null | wc -l)"
# An index built live equals the one repair builds from the segment (what
# late indexing runs).
mkdir -p "$out/flood-idx"
cp "$fl"/*.idx "$out/flood-idx/"
rm -f "$fl"/*.idx
"$fcap" store repair "$fl" 2> /dev/null
same=0
for i in "$out"/flood-idx/*.idx; do cmp -s "$i" "$fl/$(basename "$i")" && same=$((same + 1)); done
eq "flood: every index rebuilt from its segment equals the live one" "$same" "$(segments "$fl")"

# ---------------------------------------------------------------------------
echo "kill -9 while recording, then recovery"
seed=${FCAP_KILL_SEED:-$(date +%s)}
echo "  (kill points from seed $seed; FCAP_KILL_SEED=$seed repeats them)"
in=$d/pkt.TCP.synflood.spoofed.pcap
tcpdump -r "$in" -t -xx -n 2>/dev/null > "$out/want.hex"
iters=${FCAP_KILL_ITERS:-30}   # 100 for a campaign (docs/HARDENING.md)
bad_read=0 bad_prefix=0 bad_cut=0 bad_index=0 killed=0 recovered=0 early=0
i=0
while [ "$i" -lt "$iters" ]; do
    i=$((i + 1))
    k=$out/kill$i
    ms=$(awk -v s="$seed" -v i="$i" 'BEGIN { srand(s + i); printf "%d", 40 + rand() * 1400 }')
    "$fcap" capture -i sim -q -r "$in" --store "$k" --block-size 64K -C 1M 2> /dev/null &
    pid=$!
    sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$pid" 2> /dev/null && killed=$((killed + 1))
    wait "$pid" 2> /dev/null
    if [ ! -d "$k" ]; then
        early=$((early + 1))    # killed before the store existed: nothing to recover
        continue
    fi
    "$fcap" store repair "$k" 2> "$out/repair$i.err"
    [ "$(hidden "$k")" -eq 0 ] || bad_read=$((bad_read + 1))
    all_clean "$k" || bad_read=$((bad_read + 1))
    "$fcap" store ls "$k" > /dev/null 2>&1 || bad_index=$((bad_index + 1))
    # The store holds the input's first packets, in order, without a gap.
    for s in "$k"/*.pcapng; do [ -e "$s" ] && tcpdump -r "$s" -t -xx -n 2>/dev/null; done > "$out/got.hex"
    head -c "$(stat -c %s "$out/got.hex")" "$out/want.hex" | cmp -s - "$out/got.hex" || bad_prefix=$((bad_prefix + 1))
    # Only a partial block may go: every cut is under one 64 KiB block.
    awk '/cut back from/ { for (j = 1; j <= NF; j++) if ($j == "from") { a = $(j+1); b = $(j+3) }
                           if (a - b >= 65536) bad = 1 }
         END { exit bad }' "$out/repair$i.err" || bad_cut=$((bad_cut + 1))
    grep -q "recovered and published" "$out/repair$i.err" && recovered=$((recovered + 1))
done
echo "  ($killed of $iters runs killed while recording; $early before the store existed; $recovered with a segment to recover)"
eq "after every kill: segments read cleanly, none hidden" "$bad_read" 0
eq "after every kill: the store is a gap-free prefix of the input" "$bad_prefix" 0
eq "after every kill: less than one ring block cut" "$bad_cut" 0
eq "after every kill: every index sound" "$bad_index" 0
check "some kills hit a segment being written" test "$recovered" -ge 1

# ---------------------------------------------------------------------------
echo "disk full: a 1.5 MiB tmpfs"
small=$out/small
mkdir -p "$small"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=1536k fcap-test "$small" 2>/dev/null; then
    echo "  SKIP: mounting a tmpfs needs root"
else
    trap 'umount "$small" 2>/dev/null' EXIT
    "$fcap" capture -i sim -r "$in" -r "$in" -r "$in" --store "$small/s" --block-size 64K -C 700K 2> "$out/full.err" &
    pid=$!
    n=0
    while [ "$n" -lt 600 ] && ! grep -q "disk full" "$out/full.err"; do sleep 0.05; n=$((n + 1)); done
    contains "the recorder says the disk is full" "$out/full.err" "disk full"
    sleep 0.3
    mount -o remount,size=64m "$small"
    wait "$pid"
    eq "capture exit status" "$?" 0
    contains "recording resumed when space returned" "$out/full.err" "writing again"
    lost=$(sed -n 's/.*disk \([0-9]*\) blocks (\([0-9]*\) frames).*/\2/p' "$out/full.err")
    rec=$(sed -n 's/^fcap: \([0-9]*\) frames recorded.*/\1/p' "$out/full.err")
    check "frames lost to the full disk are counted ($lost)" test "${lost:-0}" -gt 0
    eq "recorded + lost = received" "$((rec + lost))" "$((3 * $(count "$in")))"
    check "no accounting mismatch" sh -c "! grep -q 'accounting mismatch' '$out/full.err'"
    eq "no hidden segment left" "$(hidden "$small/s")" 0
    check "every segment reads cleanly" all_clean "$small/s"
    n=0
    for s in "$small"/s/*.pcapng; do n=$((n + $(count "$s"))); done
    eq "the segments hold what the summary says" "$n" "$rec"
    "$fcap" store ls "$small/s" > "$out/full.ls"
    contains "the segment the full disk left without an index is indexed once it takes writes" \
        "$out/full.err" "indexed now"
    "$fcap" store check "$small/s" 2> "$out/full.check"
    eq "store check after the full disk" "$?" 0
    eq "the store lists the loss by stage" "$(awk '/^total/ { for (j = 1; j <= NF; j++) if ($j == "disk") print $(j+1) }' "$out/full.ls")" "$lost"
    umount "$small"
    trap - EXIT
fi

# ---------------------------------------------------------------------------
echo "host stall: the consumer stops for 5 ms of card time; every stage adds up"
# isb_sum STORE: received, dropped and delivered summed over the statistics
# blocks of every segment (pcapng ISB options 4, 5 and 8).
isb_sum() {
    python3 - "$@" <<'PY'
import glob, struct, sys
tot = {4: 0, 5: 0, 8: 0}
for f in sorted(glob.glob(sys.argv[1] + '/*.pcapng')):
    b = open(f, 'rb').read()
    off = 0
    while off + 12 <= len(b):
        t, n = struct.unpack_from('<II', b, off)
        if n < 12:
            sys.exit(f + ': bad block length at %d' % off)
        if t == 5:
            o = off + 20
            while o + 4 <= off + n - 4:
                c, l = struct.unpack_from('<HH', b, o)
                if c == 0:
                    break
                if c in tot and l == 8:
                    tot[c] += struct.unpack_from('<Q', b, o + 4)[0]
                o += 4 + (l + 3) // 4 * 4
        off += n
print(tot[4], tot[5], tot[8])
PY
}
"$fcap" capture -i sim -r "$in" --store "$out/stall" --block-size 64K --stall 1ms:5ms 2> "$out/stall.err"
eq "capture exit status" "$?" 0
sent=$(count "$in")
rx=$(sed -n 's/^  card *received \([0-9]*\) frames.*/\1/p' "$out/stall.err")
rec=$(sed -n 's/^fcap: \([0-9]*\) frames recorded.*/\1/p' "$out/stall.err")
lost=$(sed -n 's/.*: \([0-9]*\) lost in all$/\1/p' "$out/stall.err")
ring=$(sed -n 's/.*card ring full \([0-9]*\) .*/\1/p' "$out/stall.err")
eq "the card received every frame sent" "$rx" "$sent"
check "the stall made the card drop ($ring frames, ring full)" test "${ring:-0}" -gt 0
eq "recorded + lost by stage = sent" "$((rec + lost))" "$sent"
n=0
for s in "$out"/stall/*.pcapng; do n=$((n + $(count "$s"))); done
eq "the segments hold what was recorded" "$n" "$rec"
eq "the segments' statistics blocks: received, dropped, delivered" "$(isb_sum "$out/stall")" "$sent $lost $rec"

# ---------------------------------------------------------------------------
echo "damaged indexes and segments"
"$fcap" extract -q -s "$st" 'port 53' -w "$out/ref.pcapng"
ref=$(count "$out/ref.pcapng")
first=$(ls "$st"/*.idx | head -1)
rm "$first"
"$fcap" store ls "$st" > "$out/ls.txt"
contains "ls shows the missing index" "$out/ls.txt" "missing"
"$fcap" extract -s "$st" 'port 53' -w "$out/x.pcapng" 2> "$out/x.err"
eq "missing index: same result" "$(count "$out/x.pcapng")" "$ref"
contains "missing index: said and rebuilt" "$out/x.err" "rebuilding"
check "missing index: back on disk" test -f "$first"
printf 'XXXXXXXXXXXXXXXX' | dd of="$first" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$fcap" extract -s "$st" 'port 53' -w "$out/x.pcapng" 2> "$out/x.err"
eq "corrupt index page: same result" "$(count "$out/x.pcapng")" "$ref"
contains "corrupt index page: detected by its checksum" "$out/x.err" "checksum"
second=$(ls "$st"/*.idx | sed -n 2p)
printf 'X' | dd of="$second" bs=1 seek=30 conv=notrunc 2>/dev/null
"$fcap" store ls "$st" > "$out/ls.txt" 2> "$out/ls.err"
eq "corrupt index header: ls fails" "$?" 1
contains "corrupt index header: named" "$out/ls.err" "$second"
"$fcap" store repair "$st" 2> "$out/repair.err"
eq "repair exit status" "$?" 0
contains "repair rebuilt it" "$out/repair.err" "1 indexes rebuilt"
"$fcap" store ls "$st" > /dev/null 2>&1
eq "ls after repair" "$?" 0
"$fcap" store check "$st" 2> "$out/check.err"
eq "store check finds nothing" "$?" 0
# A segment damaged in its first ring block (after the 4 KiB file header):
# the first record's length.
seg=$(ls "$st"/*.pcapng | sed -n 2p)
segname=$(basename "$seg" .pcapng)
printf '\377\377\377\377' | dd of="$seg" bs=1 seek=$((4096 + 64 + 4)) conv=notrunc 2>/dev/null
"$fcap" extract -s "$st" -w "$out/x.pcapng" 2> "$out/x.err"
eq "corrupt segment: exit status" "$?" 1
contains "corrupt segment: named with its offset" "$out/x.err" "$segname: ring block at offset 4096"
contains "corrupt segment: says the output is incomplete" "$out/x.err" "incomplete"
got=$(count "$out/x.pcapng")
check "corrupt segment: the rest extracted ($got of $want)" test "$got" -gt $((want / 2)) -a "$got" -lt "$want"
check "corrupt segment: the output reads cleanly" clean_read "$out/x.pcapng"
other=$(ls "$st"/*.pcapng | sed -n 3p)
"$fcap" extract -q -s "$st" --from "$(epoch "$(sed -n 1p "$out/ts.txt")")" 'port 53' -w "$out/x.pcapng"
check "corrupt segment: other queries still answer" test "$(count "$out/x.pcapng")" -gt 0
"$fcap" store check "$st" 2> "$out/check.err"
eq "store check: exit status" "$?" 1
contains "store check: reports the damaged block with its offset" "$out/check.err" "$segname.pcapng: ring block at offset 4096"
contains "store check: one problem" "$out/check.err" ": 1 problem"

# ---------------------------------------------------------------------------
echo "retention, pins, rotation by time"
r=$out/ret
"$fcap" capture -i sim -q -r "$in" --store "$r" --block-size 64K -C 200K -W 3 2> "$out/ret.err"
eq "-W 3: three segments left" "$(segments "$r")" 3
for s in "$r"/*.pcapng; do tcpdump -r "$s" -t -xx -n 2>/dev/null; done > "$out/got.hex"
tail -c "$(stat -c %s "$out/got.hex")" "$out/want.hex" | cmp -s - "$out/got.hex"
eq "-W 3: the newest packets kept, without a gap" "$?" 0
oldest=$(ls "$r"/*.pcapng | head -1)
"$fcap" store pin "$r" "$(basename "$oldest" .pcapng)"
eq "pin exit status" "$?" 0
"$fcap" capture -i sim -q -r "$in" --store "$r" --block-size 64K -C 200K -W 3 2> "$out/ret.err"
check "pinned segment survives retention" test -f "$oldest"
eq "-W 3 with a pin: three segments" "$(segments "$r")" 3
"$fcap" store unpin "$r" "$(basename "$oldest" .pcapng)"
"$fcap" capture -i sim -q -r "$in" --store "$r" --block-size 64K -C 200K -W 3 2> "$out/ret.err"
check "unpinned segment goes" test ! -f "$oldest"
m=$out/maxsize
"$fcap" capture -i sim -q -r "$in" --store "$m" --block-size 64K -C 200K --max-size 700K 2> "$out/max.err"
contains "retention says what it removes" "$out/max.err" "retention: removed"
total=$(du -cb "$m"/*.pcapng "$m"/*.idx | tail -1 | cut -f1)
check "--max-size 700K: store within it ($total bytes)" test "$total" -le 716800
check "--max-size 700K: nothing more deleted than needed" test "$total" -gt $((716800 - 2 * 204800 - 300000))
g=$out/time
"$fcap" capture -i sim -q -r "$in" --store "$g" --block-size 64K -G 500us
ng=$(segments "$g")
check "-G 500us over 2.5 ms of card time: several segments ($ng)" test "$ng" -ge 4
"$fcap" store ls "$g" | awk 'NR > 1 && !/^total/ { print $3, $4 }' | while read -r a b; do
    sa=$(date -u -d "$(echo "$a" | sed 's/\.[0-9]*Z$/Z/')" +%s) sb=$(date -u -d "$(echo "$b" | sed 's/\.[0-9]*Z$/Z/')" +%s)
    na=$(echo "$a" | sed 's/.*\.\([0-9]*\)Z$/\1/' | sed 's/^0*//') nb=$(echo "$b" | sed 's/.*\.\([0-9]*\)Z$/\1/' | sed 's/^0*//')
    echo $(( (sb - sa) * 1000000000 + ${nb:-0} - ${na:-0} ))
done > "$out/spans.txt"
check "-G 500us: every segment spans at most 500 us plus one block" \
    awk '$1 > 500000 + 200000 { bad = 1 } END { exit bad }' "$out/spans.txt"

# ---------------------------------------------------------------------------
echo "bad arguments and input"
"$fcap" extract -w "$out/x.pcapng" 2> "$out/e.err"
eq "extract without -s: exit status" "$?" 2
"$fcap" extract -s "$st" -w "$out/x.pcapng" 'host and and' 2> "$out/e.err"
eq "bad filter: exit status" "$?" 2
contains "bad filter: libpcap's reason" "$out/e.err" "syntax error"
"$fcap" extract -s "$st" --from yesterday -w "$out/x.pcapng" 2> "$out/e.err"
eq "bad time: exit status" "$?" 2
"$fcap" extract -s "$st" --from 1.0000000001 -w "$out/x.pcapng" 2> "$out/e.err"
eq "time finer than 1 ns: exit status" "$?" 2
"$fcap" extract -s "$st" --flow '10.0.0.1>10.0.0.2/tcp' -w "$out/x.pcapng" 2> "$out/e.err"
eq "flow without ports: exit status" "$?" 2
"$fcap" extract -s "$out/nonexistent" -w "$out/x.pcapng" 2> "$out/e.err"
eq "missing store: exit status" "$?" 1
contains "missing store: named" "$out/e.err" "$out/nonexistent"
"$fcap" capture -i sim -r "$in" -C 1M -w "$out/f.pcapng" 2> "$out/e.err"
eq "-C without a store: exit status" "$?" 2
"$fcap" capture -i sim -r "$in" --store "$st" -G 0 2> "$out/e.err"
eq "-G 0: exit status" "$?" 2
mkdir -p "$out/locked"
"$fcap" capture -i sim -q -r "$in" --store "$out/locked" --block-size 64K &
pid=$!
sleep 0.3
"$fcap" store repair "$out/locked" 2> "$out/e.err"
eq "a second user of a store being recorded: exit status" "$?" 1
contains "a second user of a store: says why" "$out/e.err" "another fcap"
wait "$pid"
finish
