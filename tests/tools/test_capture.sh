#!/bin/sh
# test_capture.sh FCAP OUTDIR - `fcap capture` judged by external tools.
#
# Replays bundled captures through the simulated card with the CLI and checks
# that tshark, capinfos and tcpdump read the file with the input's packet
# count, nanosecond resolution and identical bytes, and that bad input and
# bad arguments fail with the documented exit code and a clear message.
set -u
fcap=$1 out=$2
. "$(dirname "$0")/lib.sh"
need_data
rm -rf "$out" && mkdir -p "$out"
in1=$FCAP_DATA/http_espn.pcapng in2=$FCAP_DATA/synscan.pcapng in3=$FCAP_DATA/pkt.TCP.synflood.spoofed.pcap

echo "capture: two pcapng files at 10 Gb/s"
"$fcap" capture -i sim -r "$in1" -r "$in2" --rate 10G -w "$out/a.pcapng" 2> "$out/a.err"
eq "fcap capture exit status" "$?" 0
want=$(( $(packets "$in1") + $(packets "$in2") ))
eq "capinfos packet count" "$(packets "$out/a.pcapng")" "$want"
eq "capinfos timestamp precision" \
   "$(capinfos -M "$out/a.pcapng" 2>/dev/null | awk -F: '/timestamp precision/ {print $2}' | tr -d ' ')" "nanoseconds(9)"
eq "tshark packet count" "$(tshark -r "$out/a.pcapng" 2>/dev/null | wc -l)" "$want"
check "tshark reads it without complaint" sh -c "! tshark -r '$out/a.pcapng' 2>&1 >/dev/null | grep -v 'Running as user' | grep -q ."
eq "tcpdump packet count" "$(tcpdump -r "$out/a.pcapng" -n 2>/dev/null | wc -l)" "$want"
{ tcpdump -r "$in1" -t -xx -n; tcpdump -r "$in2" -t -xx -n; } 2>/dev/null > "$out/want.hex"
tcpdump -r "$out/a.pcapng" -t -xx -n 2>/dev/null > "$out/got.hex"
check "every frame byte-identical to the input (tcpdump -xx)" cmp -s "$out/want.hex" "$out/got.hex"
eq "interface name from the device tree" \
   "$(tshark -r "$out/a.pcapng" -c 1 -T fields -e frame.interface_name 2>/dev/null)" "p0"
contains "summary reports no loss" "$out/a.err" "0 lost in all"
contains "summary reports the card's frame count" "$out/a.err" "received $want frames"
check "no accounting mismatch" sh -c "! grep -q mismatch '$out/a.err'"

echo "capture: --card-time pins the simulated card's clock: the same file every run"
"$fcap" capture -i sim -q -r "$in1" -r "$in2" --card-time 2023-11-14T22:13:20Z -w "$out/t1.pcapng" 2> "$out/t1.err"
eq "first run: exit status" "$?" 0
"$fcap" capture -i sim -q -r "$in1" -r "$in2" --card-time 1700000000 -w "$out/t2.pcapng" 2> "$out/t2.err"
eq "second run: exit status" "$?" 0
check "two runs with the same card time: identical files" cmp -s "$out/t1.pcapng" "$out/t2.pcapng"
eq "the first frame stamped just after the card time (within 1 ms)" \
   "$(tshark -r "$out/t1.pcapng" -c 1 -T fields -e frame.time_epoch 2>/dev/null | cut -c1-14)" "1700000000.000"
"$fcap" capture -i sim -q -r "$in1" -r "$in2" --card-time 1800000000.5 -w "$out/t3.pcapng" 2> "$out/t3.err"
check "another card time: another file" sh -c "! cmp -s '$out/t1.pcapng' '$out/t3.pcapng'"
tcpdump -r "$out/t1.pcapng" -t -xx -n 2>/dev/null > "$out/t1.hex"
tcpdump -r "$out/t3.pcapng" -t -xx -n 2>/dev/null > "$out/t3.hex"
check "another card time: the same frames" cmp -s "$out/t1.hex" "$out/t3.hex"
"$fcap" capture -i sim -r "$in1" --card-time soon -w "$out/t4.pcapng" 2> "$out/t4.err"
eq "bad --card-time: exit status" "$?" 2
contains "bad --card-time: names it" "$out/t4.err" "--card-time 'soon'"
"$fcap" capture -r "$in1" --card-time 1700000000 -w "$out/t5.pcapng" 2> "$out/t5.err"
eq "--card-time without the simulated card: exit status" "$?" 2

echo "capture: a classic pcap at 10 Gb/s (37841 frames of 60 bytes)"
"$fcap" capture -i sim -r "$in3" -w "$out/b.pcapng" 2> "$out/b.err"
eq "exit status" "$?" 0
eq "capinfos packet count" "$(packets "$out/b.pcapng")" "$(packets "$in3")"
contains "no loss at 10 Gb/s line rate" "$out/b.err" "0 lost in all"

echo "capture: reading files through libpcap (-r without -i: timestamps kept)"
"$fcap" capture -r "$in1" -w "$out/f1.pcapng" 2> "$out/f1.err"
eq "pcapng input: exit status" "$?" 0
tcpdump -r "$in1" -tt --nano -xx -n 2>/dev/null > "$out/f1.want"
tcpdump -r "$out/f1.pcapng" -tt --nano -xx -n 2>/dev/null > "$out/f1.got"
check "pcapng input: every frame and timestamp as in the input" cmp -s "$out/f1.want" "$out/f1.got"
"$fcap" capture -r "$in3" -w "$out/f3.pcapng" 2> "$out/f3.err"
eq "classic (microsecond) pcap input: exit status" "$?" 0
tcpdump -r "$in3" -tt -xx -n 2>/dev/null > "$out/f3.want"
tcpdump -r "$out/f3.pcapng" -tt -xx -n 2>/dev/null > "$out/f3.got"
check "classic pcap input: every frame and timestamp as in the input" cmp -s "$out/f3.want" "$out/f3.got"
check "classic pcap input: the IDB declares microseconds (if_tsresol 6), not finer" \
    sh -c "capinfos -M '$out/f3.pcapng' | grep -q 'Time resolution = 0x06'"
"$fcap" stats "$out/f3.pcapng" > "$out/f3.stats"
eq "fcap stats: exit status" "$?" 0
eq "fcap stats: received" "$(awk '$1 == "received" {print $2}' "$out/f3.stats")" "$(packets "$in3")"
in4=$FCAP_DATA/amp.UDP.isakmp.pcap
"$fcap" capture -q -r "$in4" --store "$out/fst" 2> "$out/fst.err"
eq "microsecond pcap into a store: exit status" "$?" 0
"$fcap" extract -q -r "$out/fst" --from 1623699901.2 --to 1623699901.3 -w "$out/fst.pcapng" 2> "$out/fst.err"
editcap -A 1623699901.2 -B 1623699901.3 "$in4" "$out/fst_want.pcap" 2> /dev/null
eq "microsecond pcap into a store: a time range as editcap cuts it (ns in the store)" \
    "$(packets "$out/fst.pcapng")" "$(packets "$out/fst_want.pcap")"
check "... and the store says ns (if_tsresol 9)" sh -c "capinfos -M '$out/fst.pcapng' | grep -q 'Time resolution = 0x09'"
"$fcap" capture -r "$in1" -c 25 -w "$out/f4.pcapng" tcp and port 80 2> "$out/f4.err"
eq "-c 25 with a filter: exit status" "$?" 0
tcpdump -r "$in1" -c 25 -tt --nano -xx -n tcp and port 80 2>/dev/null > "$out/f4.want"
tcpdump -r "$out/f4.pcapng" -tt --nano -xx -n 2>/dev/null > "$out/f4.got"
check "-c 25 with a filter: tcpdump's first 25 matches" cmp -s "$out/f4.want" "$out/f4.got"
head -c 300000 "$in1" > "$out/cut1.pcapng"
"$fcap" capture -r "$out/cut1.pcapng" -w "$out/f5.pcapng" 2> "$out/f5.err"
eq "a truncated file through libpcap: exit status" "$?" 1
contains "a truncated file: named" "$out/f5.err" "$out/cut1.pcapng"
contains "a truncated file: where" "$out/f5.err" "byte offset"
eq "a truncated file: the frames before the damage are kept" "$(packets "$out/f5.pcapng")" \
    "$(tcpdump -r "$out/cut1.pcapng" -n 2>/dev/null | wc -l)"

echo "capture: four ports at 10 Gb/s line rate over a PCIe Gen3 x8 link"
"$fcap" capture -i sim --bus gen3x8 -r "$in2" -r 1:"$in1" -r 2:"$in2" -r 3:"$in1" -w "$out/p4.pcapng" 2> "$out/p4.err"
eq "exit status (accounting checked)" "$?" 0
want=$(( 2 * $(packets "$in1") + 2 * $(packets "$in2") ))
eq "every frame of four ports in the file" "$(packets "$out/p4.pcapng")" "$want"
contains "no loss" "$out/p4.err" "0 lost in all"
eq "frames per interface (tshark)" \
   "$(tshark -r "$out/p4.pcapng" -T fields -e frame.interface_id 2>/dev/null | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" \
   "0:$(packets "$in2") 1:$(packets "$in1") 2:$(packets "$in2") 3:$(packets "$in1") "

echo "capture: four rings, flows steered by hash, epb_hash on"
"$fcap" capture -i sim --rings 4 --hash -r "$in1" -r 1:"$in2" -w "$out/r4.pcapng" 2> "$out/r4.err"
eq "exit status" "$?" 0
eq "every frame in the file" "$(packets "$out/r4.pcapng")" "$(( $(packets "$in1") + $(packets "$in2") ))"
check "tshark reads epb_hash without complaint" \
    sh -c "! tshark -r '$out/r4.pcapng' 2>&1 >/dev/null | grep -v 'Running as user' | grep -q ."
# Same frames as the inputs, as a multiset: the rings interleave block by block.
tcpdump -r "$in1" -t -xx -n 2>/dev/null | awk '/^[^\t]/ {if (p) print p; p=""; next} {p = p $0} END {print p}' | sort > "$out/want4.txt"
tcpdump -r "$in2" -t -xx -n 2>/dev/null | awk '/^[^\t]/ {if (p) print p; p=""; next} {p = p $0} END {print p}' | sort >> "$out/want4.txt"
sort -o "$out/want4.txt" "$out/want4.txt"
tcpdump -r "$out/r4.pcapng" -t -xx -n 2>/dev/null | awk '/^[^\t]/ {if (p) print p; p=""; next} {p = p $0} END {print p}' | sort > "$out/got4.txt"
check "the same frames, byte for byte (in ring order)" cmp -s "$out/want4.txt" "$out/got4.txt"

echo "capture: polling mode and interrupt moderation give the same file"
"$fcap" capture -i sim --poll -r "$in1" -r "$in2" --rate 10G -w "$out/poll.pcapng" 2> "$out/poll.err"
eq "--poll exit status" "$?" 0
tcpdump -r "$out/poll.pcapng" -t -xx -n 2>/dev/null > "$out/poll.hex"
check "--poll: every frame byte-identical to the input" cmp -s "$out/want.hex" "$out/poll.hex"
"$fcap" capture -i sim --irq-blocks 4 --irq-delay 50us -r "$in1" -r "$in2" --rate 10G -w "$out/mod.pcapng" 2> "$out/mod.err"
eq "--irq-blocks 4 --irq-delay 50us exit status" "$?" 0
tcpdump -r "$out/mod.pcapng" -t -xx -n 2>/dev/null > "$out/mod.hex"
check "moderated: every frame byte-identical to the input" cmp -s "$out/want.hex" "$out/mod.hex"
"$fcap" capture -i sim --irq-delay 2s -r "$in1" -w "$out/bad.pcapng" 2> "$out/bad.err"
eq "--irq-delay above 1 s: usage error" "$?" 2

echo "capture: malformed replay file"
head -c 300000 "$in1" > "$out/cut.pcapng"
"$fcap" capture -i sim -r "$out/cut.pcapng" -w "$out/c.pcapng" 2> "$out/c.err"
eq "exit status for a broken replay" "$?" 1
contains "error names the file" "$out/c.err" "$out/cut.pcapng"
contains "error names the offset" "$out/c.err" "byte offset"
want=$(tshark -r "$out/cut.pcapng" 2>/dev/null | wc -l)
eq "frames before the damage are kept and readable" "$(packets "$out/c.pcapng")" "$want"

echo "capture: the 1 x 100G card (--card 1x100g) at 100 Gb/s over Gen4 x16"
"$fcap" info --card 1x100g > "$out/info100.txt" 2> "$out/info100.err"
eq "fcap info --card 1x100g: exit status" "$?" 0
contains "info: one 100G port" "$out/info100.txt" "p0, 100000 Mb/s"
contains "info: 512-bit datapath" "$out/info100.txt" "512-bit datapath"
"$fcap" capture -i sim --card 1x100g --rings 8 --hash -r "$in1" -r "$in2" -r "$in3" -w "$out/c100.pcapng" \
    2> "$out/c100.err"
eq "exit status (accounting checked)" "$?" 0
want=$(( $(packets "$in1") + $(packets "$in2") + $(packets "$in3") ))
eq "every frame in the file" "$(packets "$out/c100.pcapng")" "$want"
contains "no loss at 100 Gb/s line rate" "$out/c100.err" "0 lost in all"
check "tshark reads it without complaint" \
    sh -c "! tshark -r '$out/c100.pcapng' 2>&1 >/dev/null | grep -v 'Running as user' | grep -q ."
eq "one interface, p0 (tshark)" \
   "$(tshark -r "$out/c100.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | tr '\n' ' ')" "p0 "
for f in "$in1" "$in2" "$in3"; do
    tcpdump -r "$f" -t -xx -n 2>/dev/null | awk '/^[^\t]/ {if (p) print p; p=""; next} {p = p $0} END {print p}'
done | sort > "$out/want100.txt"
tcpdump -r "$out/c100.pcapng" -t -xx -n 2>/dev/null | awk '/^[^\t]/ {if (p) print p; p=""; next} {p = p $0} END {print p}' \
    | sort > "$out/got100.txt"
check "the same frames, byte for byte (in ring order)" cmp -s "$out/want100.txt" "$out/got100.txt"
"$fcap" capture -i sim --card 1x100g --rings 1 -r "$in2" -w "$out/o100.pcapng" 2> "$out/o100.err"
eq "one ring: exit status" "$?" 0
tcpdump -r "$in2" -t -xx -n 2>/dev/null > "$out/want100o.hex"
tcpdump -r "$out/o100.pcapng" -t -xx -n 2>/dev/null > "$out/got100o.hex"
check "one ring: every frame byte-identical and in order" cmp -s "$out/want100o.hex" "$out/got100o.hex"
"$fcap" capture -i sim --card 40x1g -r "$in1" -w "$out/bc.pcapng" 2> "$out/bc.err"
eq "unknown --card: exit status" "$?" 1
contains "unknown --card: names it" "$out/bc.err" "40x1g"
"$fcap" capture -i sim --card 1x100g -r 1:"$in1" -w "$out/bp.pcapng" 2> "$out/bp.err"
eq "replay on a port the card lacks: exit status" "$?" 1
contains "replay on a port the card lacks: says so" "$out/bp.err" "no port 1"

echo "capture: bad input and arguments"
"$fcap" capture -i sim -r /nonexistent.pcap -w "$out/d.pcapng" 2> "$out/d.err"
eq "missing replay file: exit status" "$?" 1
contains "missing replay file: named" "$out/d.err" "/nonexistent.pcap"
"$fcap" capture -i sim -r "$in1" 2> "$out/e.err"
eq "no -w: exit status" "$?" 2
contains "no -w: says so" "$out/e.err" "no output file"
"$fcap" capture -i sim -r "$in1" -w "$out/f.pcapng" --rate fast 2> "$out/f.err"
eq "bad --rate: exit status" "$?" 2
contains "bad --rate: names it" "$out/f.err" "--rate 'fast'"
"$fcap" capture -i sim -r "$in1" -w "$out/g.pcapng" --block-size 5000 2> "$out/g.err"
eq "block size the card refuses: exit status" "$?" 1
contains "block size the card refuses: says why" "$out/g.err" "block size 5000"
"$fcap" capture -i sim -r "$in1" -w /nonexistent-dir/x.pcapng 2> "$out/h.err"
eq "unwritable output: exit status" "$?" 1
contains "unwritable output: named" "$out/h.err" "/nonexistent-dir/x.pcapng"
"$fcap" bogus 2> /dev/null
eq "unknown command: exit status" "$?" 2
"$fcap" capture -i sim --help > "$out/help.txt"
eq "--help: exit status" "$?" 0
contains "--help describes -w" "$out/help.txt" "--write FILE"
contains "--help describes --card" "$out/help.txt" "--card CARD"
finish
