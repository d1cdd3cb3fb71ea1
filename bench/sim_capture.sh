#!/bin/sh
# sim_capture.sh FCAP OUTDIR - how fast the simulated card captures.
#
# For each input, `fcap capture` replays it through the Verilated card at
# 10 Gb/s into a pcapng file; the peer, measured in the same run on the same
# packets, is `tcpdump -r IN -w OUT` (libpcap copying the packets to a file
# with no card at all), which bounds what the file-writing part could cost.
# The pcap backend (`fcap capture -r IN -w OUT`: libpcap into software ring
# blocks into pcapng, no card) is measured beside them on the same packets.
# Best of 3 wall-clock runs each. Writes OUTDIR/sim_capture.json too.
set -eu
fcap=$1 out=$2
data=${FCAP_DATA:-../shared/data}
mkdir -p "$out"
now_ns() { date +%s%N; }
best_of_3() { # best_of_3 CMD... -> prints the fastest wall time in ns
    best=""
    for _ in 1 2 3; do
        t0=$(now_ns); "$@" > /dev/null 2>&1; t1=$(now_ns)
        t=$((t1 - t0))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}
printf '%-32s %8s %10s %14s %14s %16s %8s %9s\n' input frames "avg bytes" "fcap sim f/s" "fcap -r f/s" "tcpdump -w f/s" "sim/peer" "-r/peer"
echo "[" > "$out/sim_capture.json"
sep=""
for f in pkt.TCP.synflood.spoofed.pcap amp.UDP.isakmp.pcap http_espn.pcapng mail_sender_attachment.pcapng; do
    in=$data/$f
    n=$(capinfos -c -M "$in" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
    avg=$(capinfos -z -M "$in" 2>/dev/null | awk -F: '/Average packet size/ {gsub(/ bytes| /,"",$2); print $2}')
    t_fcap=$(best_of_3 "$fcap" capture -i sim -q -r "$in" --rate 10G -w "$out/fcap.pcapng")
    t_pcap=$(best_of_3 "$fcap" capture -q -r "$in" -w "$out/fcap_r.pcapng")
    t_peer=$(best_of_3 tcpdump -r "$in" -w "$out/tcpdump.pcap")
    fps_fcap=$(awk -v n="$n" -v t="$t_fcap" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
    fps_peer=$(awk -v n="$n" -v t="$t_peer" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
    fps_pcap=$(awk -v n="$n" -v t="$t_pcap" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
    ratio=$(awk -v a="$fps_fcap" -v b="$fps_peer" 'BEGIN { printf "%.3f", a / b }')
    ratio_r=$(awk -v a="$fps_pcap" -v b="$fps_peer" 'BEGIN { printf "%.3f", a / b }')
    printf '%-32s %8s %10s %14s %14s %16s %8s %9s\n' "$f" "$n" "$avg" "$fps_fcap" "$fps_pcap" "$fps_peer" "$ratio" "$ratio_r"
    printf '%s  {"input": "%s", "frames": %s, "avg_bytes": %s, "fcap_sim_fps": %s, "fcap_pcap_fps": %s, "tcpdump_fps": %s}' \
        "$sep" "$f" "$n" "$avg" "$fps_fcap" "$fps_pcap" "$fps_peer" >> "$out/sim_capture.json"
    sep=",
"
done
printf '\n]\n' >> "$out/sim_capture.json"
echo "(wall clock incl. process start; best of 3; written to $out/sim_capture.json)"
