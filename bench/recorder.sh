#!/bin/sh
# recorder.sh BENCH_RECORDER FCAP OUTDIR [MBYTES] - the disk recorder against
# its peers, measured in one run on this disk (make bench).
#
#   recorder  ring blocks -> store (bench_recorder: O_DIRECT, index thread)
#   dd        dd if=/dev/zero of=F bs=1M count=SAME oflag=direct conv=fsync
#   tcpdump   tcpdump -r big.pcap -w out.pcap, the same packets
#   index     one core building the index of the same blocks
#   extract   one flow out of the store: fcap extract 'host A and port P'
#             versus tcpdump -r SEGMENT 'host A and port P' over every segment
#
# Goals (issue 6): recorder >= 0.9 x dd; index >= 10 Gb/s per core;
# extraction >= 50 x faster than the scan. Writes OUTDIR/recorder.json.
set -eu
bench=$1 fcap=$2 out=$3 mb=${4:-2200}
data=${FCAP_DATA:-../shared/data}
mkdir -p "$out"
rm -rf "$out/store" "$out/store-nokeys" "$out/big.pcap" "$out/out.pcap" "$out/dd.bin"
now_ns() { date +%s%N; }

"$bench" "$out" "$data" "$mb" > "$out/recorder.txt"
v() { sed -n "s/^$1=//p" "$out/recorder.txt"; }
rm -rf "$out/store-nokeys"
bytes=$(v rec_bytes)
rec_s=$(v rec_seconds)

# The bundled captures are mostly two DDoS floods of small packets; the
# same without them shows ordinary traffic (second recorder and index run).
benign="http_espn.pcapng synscan.pcapng arppoison.pcapng tcp_ports.pcapng dns_isp_hijack.pcapng http_post.pcapng \
mail_sender_attachment.pcapng icmp_traceroute.pcapng"
mkdir -p "$out/benign"
rm -rf "$out/benign/store" "$out/benign/store-nokeys"
# shellcheck disable=SC2086
"$bench" "$out/benign" "$data" $((mb / 2)) $benign > "$out/recorder-benign.txt"
rm -rf "$out/benign"
w() { sed -n "s/^$1=//p" "$out/recorder-benign.txt"; }

# dd: the same number of bytes, O_DIRECT, 1 MiB writes, fsync'd at the end.
count=$(( (bytes + 1048575) / 1048576 ))
sync
t0=$(now_ns)
dd if=/dev/zero of="$out/dd.bin" bs=1M count="$count" oflag=direct conv=fsync 2> /dev/null
t1=$(now_ns)
rm -f "$out/dd.bin"
dd_s=$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.6f", t / 1e9 }')

# tcpdump: the same packets from a pcap file to a pcap file (it does not fsync).
sync
t0=$(now_ns)
tcpdump -r "$out/big.pcap" -w "$out/out.pcap" 2> /dev/null
t1=$(now_ns)
td_s=$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.6f", t / 1e9 }')
rm -f "$out/out.pcap"

# One flow out of the store: repetition R/2 of http_espn's first connection.
reps=$(v repetitions)
r=$((reps / 2))
set -- $(tshark -r "$data/http_espn.pcapng" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' \
         -T fields -e ip.src -e tcp.srcport 2>/dev/null | head -1)
o1=${1%%.*} rest=${1#*.}
o2=${rest%%.*} rest=${rest#*.}
o3=${rest%%.*} o4=${rest#*.}
host="$o1.$((o2 ^ (r % 256))).$((o3 ^ (r / 256))).$o4"
port=$2
filter="host $host and port $port"
best=""
for _ in 1 2 3; do
    t0=$(now_ns)
    "$fcap" extract -q -s "$out/store" -w "$out/flow.pcapng" "$filter"
    t1=$(now_ns)
    t=$((t1 - t0))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
ex_s=$(awk -v t="$best" 'BEGIN { printf "%.6f", t / 1e9 }')
ex_n=$(capinfos -c -M "$out/flow.pcapng" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
t0=$(now_ns)
sc_n=0
for s in "$out"/store/*.pcapng; do
    k=$(tcpdump -r "$s" -n "$filter" 2> /dev/null | wc -l)
    sc_n=$((sc_n + k))
done
t1=$(now_ns)
sc_s=$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.6f", t / 1e9 }')
store_bytes=$(du -cb "$out"/store/*.pcapng | tail -1 | cut -f1)
idx_bytes=$(du -cb "$out"/store/*.idx | tail -1 | cut -f1)

awk -v bytes="$bytes" -v rec_s="$rec_s" -v dd_s="$dd_s" -v td_s="$td_s" -v pb="$(v packet_bytes)" \
    -v pk="$(v packets)" -v used="$(v block_bytes_used)" -v nk_s="$(v rec_nokeys_seconds)" \
    -v ic="$(v index_cpu_seconds)" -v ir="$(v index_records)" -v ifb="$(v index_file_bytes)" \
    -v ex_s="$ex_s" -v sc_s="$sc_s" -v ex_n="$ex_n" -v sc_n="$sc_n" -v sb="$store_bytes" -v ib="$idx_bytes" \
    -v segs="$(v rec_segments)" -v direct="$(v rec_direct)" -v ricpu="$(v rec_index_cpu)" -v filter="$filter" \
    -v reps="$reps" -v json="$out/recorder.json" \
    -v b_bytes="$(w rec_bytes)" -v b_s="$(w rec_seconds)" -v b_nk_s="$(w rec_nokeys_seconds)" -v b_used="$(w block_bytes_used)" \
    -v b_ic="$(w index_cpu_seconds)" -v b_ir="$(w index_records)" -v b_ifb="$(w index_file_bytes)" \
    -v b_pk="$(w packets)" -v b_pb="$(w packet_bytes)" '
# mawk: %d stops at 2^31 - 1, so counts are printed with %.0f.
function gbps(b, s) { return b * 8 / s / 1e9 }
BEGIN {
    rec = gbps(bytes, rec_s); ddr = gbps(bytes, dd_s); nk = gbps(bytes, nk_s)
    recp = gbps(pb, rec_s); tdp = gbps(pb, td_s)
    idx = gbps(used, ic)
    printf "recorder benchmark: %.2f GB of ring blocks (%d packets of the bundled captures x %d, %.0f bytes average), %d segments, %s writes\n", \
        bytes / 1e9, pk, reps, pb / pk, segs, direct ? "O_DIRECT" : "buffered"
    printf "ordinary traffic: the captures without the two DDoS floods, %.2f GB, %.0f bytes average\n", b_bytes / 1e9, b_pb / b_pk
    printf "%-44s %-28s %-38s %9s  %s\n", "measure", "fcap", "peer (same run)", "ratio", "goal"
    printf "%-44s %-28s %-38s %8.2fx  %s\n", "recorder to disk, index on (file bytes)", sprintf("%.2f Gb/s (%.2f s)", rec, rec_s), \
        sprintf("dd oflag=direct: %.2f Gb/s (%.2f s)", ddr, dd_s), rec / ddr, (rec / ddr >= 0.9 ? ">= 0.9x: met" : ">= 0.9x: NOT MET")
    printf "%-44s %-28s %-38s %8.2fx  %s\n", "recorder vs tcpdump -r -w (packet bytes)", sprintf("%.2f Gb/s", recp), \
        sprintf("tcpdump: %.2f Gb/s (%.2f s)", tdp, td_s), recp / tdp, "-"
    printf "%-44s %-28s %-38s %8.2fx  %s\n", "recorder, index keys off (their cost)", sprintf("%.2f Gb/s (%.2f s)", nk, nk_s), \
        sprintf("index on: %.2f Gb/s", rec), rec / nk, "-"
    printf "%-44s %-28s %-38s %9s  %s\n", "index building, one core (block bytes)", sprintf("%.2f Gb/s", idx), \
        sprintf("%.0f ns a record, %.1f B a record", ic / ir * 1e9, ifb / ir), "-", (idx >= 10 ? ">= 10 Gb/s: met" : ">= 10 Gb/s: NOT MET")
    brec = gbps(b_bytes, b_s); bnk = gbps(b_bytes, b_nk_s); bidx = gbps(b_used, b_ic)
    printf "%-44s %-28s %-38s %8.2fx  %s\n", "  ordinary traffic (no DDoS captures), index on", sprintf("%.2f Gb/s (%.2f s)", brec, b_s), \
        sprintf("dd oflag=direct: %.2f Gb/s", ddr), brec / ddr, (brec / ddr >= 0.9 ? ">= 0.9x: met" : ">= 0.9x: NOT MET")
    printf "%-44s %-28s %-38s %8.2fx  %s\n", "  ordinary traffic, index keys off", sprintf("%.2f Gb/s (%.2f s)", bnk, b_nk_s), \
        sprintf("dd oflag=direct: %.2f Gb/s", ddr), bnk / ddr, "-"
    printf "%-44s %-28s %-38s %9s  %s\n", "  ordinary traffic, index building, one core", sprintf("%.2f Gb/s", bidx), \
        sprintf("%.0f ns a record, %.1f B a record", b_ic / b_ir * 1e9, b_ifb / b_ir), "-", (bidx >= 10 ? ">= 10 Gb/s: met" : ">= 10 Gb/s: NOT MET")
    printf "%-44s %-28s %-38s %8.0fx  %s\n", sprintf("extract one flow of %.2f GB (%d packets)", sb / 1e9, ex_n), sprintf("%.3f s", ex_s), \
        sprintf("tcpdump -r each segment: %.2f s", sc_s), sc_s / ex_s, (sc_s / ex_s >= 50 ? ">= 50x: met" : ">= 50x: NOT MET")
    printf "(filter '\''%s'\''; tcpdump found %d packets; indexes %.1f%% of the segments; index thread CPU while recording %.2f s;\n", \
        filter, sc_n, 100 * ib / sb, ricpu
    printf " extraction best of 3 wall, incl. process start; page cache warm for both; tcpdump -w does not fsync)\n"
    printf "{\n  \"bytes\": %.0f, \"packets\": %.0f, \"packet_bytes\": %.0f, \"segments\": %.0f, \"direct\": %.0f,\n", bytes, pk, pb, segs, direct > json
    printf "  \"recorder_s\": %.6f, \"recorder_gbps\": %.3f, \"dd_s\": %.6f, \"dd_gbps\": %.3f, \"recorder_vs_dd\": %.3f,\n", rec_s, rec, dd_s, ddr, rec / ddr > json
    printf "  \"tcpdump_s\": %.6f, \"recorder_packet_gbps\": %.3f, \"tcpdump_packet_gbps\": %.3f, \"recorder_vs_tcpdump\": %.3f,\n", td_s, recp, tdp, recp / tdp > json
    printf "  \"recorder_nokeys_s\": %.6f, \"recorder_nokeys_gbps\": %.3f,\n", nk_s, nk > json
    printf "  \"index_cpu_s\": %.6f, \"index_gbps_per_core\": %.3f, \"index_records\": %.0f, \"index_bytes\": %.0f,\n", ic, idx, ir, ifb > json
    printf "  \"extract_s\": %.6f, \"extract_packets\": %.0f, \"scan_s\": %.6f, \"scan_packets\": %.0f, \"extract_speedup\": %.1f,\n", ex_s, ex_n, sc_s, sc_n, sc_s / ex_s > json
    printf "  \"store_segment_bytes\": %.0f, \"store_index_bytes\": %.0f, \"filter\": \"%s\",\n", sb, ib, filter > json
    printf "  \"ordinary\": {\"bytes\": %.0f, \"packets\": %.0f, \"packet_bytes\": %.0f, \"recorder_s\": %.6f, \"recorder_gbps\": %.3f, \"recorder_vs_dd\": %.3f,\n", b_bytes, b_pk, b_pb, b_s, brec, brec / ddr > json
    printf "    \"recorder_nokeys_s\": %.6f, \"recorder_nokeys_gbps\": %.3f, \"index_cpu_s\": %.6f, \"index_gbps_per_core\": %.3f, \"index_bytes\": %.0f}\n}\n", b_nk_s, bnk, b_ic, bidx, b_ifb > json
    if (ex_n != sc_n) { printf "MISMATCH: fcap extract found %d packets, tcpdump %d\n", ex_n, sc_n; exit 1 }
}'
echo "(written to $out/recorder.json)"
rm -f "$out/big.pcap"
