#!/bin/sh
# test_cosim.sh KO FCAP COSIM OUTDIR - fcap.ko in a QEMU guest moves real
# packets from the Verilated card running on the host (docs/COSIM.md).
#
# fcap-cosim (COSIM) creates the guest's RAM file and serves the card's
# registers through an ivshmem-doorbell mailbox; QEMU (TCG) boots Debian's
# kernel with the module, the fcap command and tests/driver/cosim_init.sh.
# Capture 1: the guest records a real capture the card receives at 1 Gb/s;
# judged here by tcpdump, reordercap and tshark: every frame byte-identical
# to the input and, ordered by the card's timestamps, in the input's order,
# the timestamps spaced as the line rate puts the frames on the wire, no
# drop. Capture 2: a stalled consumer; the card drops, and the counts the
# guest reports equal the card's own counters as fcap-cosim read them.
set -u
ko=$1 fcap=$2 cosim=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/lib.sh"
need_data
kver=$("$here/../../tools/kver.sh")
kernel=/boot/vmlinuz-$kver
in1=$FCAP_DATA/synscan.pcapng in2=$FCAP_DATA/amp.UDP.isakmp.pcap
rate=1000000000
rm -rf "$out" && mkdir -p "$out/root"
root=$out/root
test_start=$(date +%s)

echo "co-simulation test: Debian kernel $kver, module $ko"
[ -r "$kernel" ] || { echo "FAIL: $kernel is not readable"; exit 1; }
n1=$(packets "$in1") n2=$(packets "$in2")

# ---- the bridge alone: tests/driver/cosim_client.py plays QEMU --------------
echo "fcap-cosim without a guest: setup messages, mailbox, a DMA outside guest RAM"
"$cosim" --socket "$out/bridge.sock" --ram "$out/bridge.ram" --ram-size 16M --replay "$in1" \
    2> "$out/bridge.log" &
sim=$!
for i in $(seq 100); do [ -S "$out/bridge.sock" ] && break; sleep 0.1; done
python3 "$here/cosim_client.py" "$out/bridge.sock" $((16 << 20)) > "$out/bridge.out" 2>&1
crc=$?
wait "$sim"
src=$?
rm -f "$out/bridge.ram"
sed -n 's/^\(ok\|FAIL\) /  client: \1 /p' "$out/bridge.out"
eq "cosim_client.py exit status" "$crc" 0
eq "fcap-cosim exit status after the bad DMA" "$src" 1
ringbus=$(awk '/^ring-bus / {print $2}' "$out/bridge.out")
msg=$(grep 'outside guest RAM' "$out/bridge.log")
echo "  fcap-cosim said: $msg"
addr=$(printf '%s\n' "$msg" | sed -n 's/.*bus address \(0x[0-9a-f]*\) outside guest RAM \[0, 0x1000000).*/\1/p')
check "the error names the address, one the card was given (>= $ringbus)" \
    sh -c "[ -n '$addr' ] && [ \$(($addr)) -ge ${ringbus:-0} ] && [ \$(($addr)) -lt $((${ringbus:-0} + (2 << 20))) ]"

# ---- initramfs -----------------------------------------------------------
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/lib64" \
         "$root/lib/x86_64-linux-gnu"
cp /bin/busybox "$root/bin/busybox"
cp "$here/cosim_init.sh" "$root/init"
cp "$ko" "$root/fcap.ko"
cp "$fcap" "$root/bin/fcap"
ldd "$fcap" | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | while read -r lib; do
    cp -L "$lib" "$root$lib"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.gz"

# ---- the card, then the guest --------------------------------------------
"$cosim" --socket "$out/cosim.sock" --ram "$out/guest.ram" --ram-size 512M \
    --replay "$in1" --replay "$in2" --rate "$rate" --stats "$out/cosim.stats" 2> "$out/cosim.log" &
sim=$!
for i in $(seq 100); do [ -S "$out/cosim.sock" ] && break; sleep 0.1; done
echo "booting (QEMU, TCG; log in $out/console.log)"
: > "$out/console.log"
# The guest's last step asks for the simulator to go away: stop it then.
(
    while kill -0 "$sim" 2>/dev/null; do
        if grep -q '^FCAPTEST sim-stop' "$out/console.log"; then kill -TERM "$sim"; exit 0; fi
        sleep 0.1
    done
) &
watcher=$!
start=$(date +%s)
timeout 600 qemu-system-x86_64 -accel tcg -smp 1 -nographic -no-reboot -nic none \
    -object memory-backend-file,id=ram,size=512M,mem-path="$out/guest.ram",share=on \
    -machine pc,memory-backend=ram -m 512M \
    -kernel "$kernel" -initrd "$out/initrd.gz" \
    -append "console=ttyS0 panic=-1 oops=panic loglevel=7 cosim_n1=$n1 cosim_n2=$n2" \
    -chardev socket,path="$out/cosim.sock",id=cosim -device ivshmem-doorbell,chardev=cosim,vectors=1 \
    < /dev/null > "$out/console.log" 2>&1
qrc=$?
echo "QEMU exited $qrc after $(( $(date +%s) - start )) s"
wait "$sim"
src=$?
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
sed 's/^/  cosim: /' "$out/cosim.log"
rm -f "$out/guest.ram"
log=$out/console.log
tr -d '\r' < "$log" > "$log.txt" && log=$log.txt

# ---- the guest and the bridge ---------------------------------------------
grep '^FCAPTEST \(ok\|FAIL\|step\|summary\)' "$log" | sed 's/^FCAPTEST /  guest /'
eq "QEMU exit status (0: the guest powered off)" "$qrc" 0
eq "fcap-cosim exit status" "$src" 0
check "the guest ran to the end" grep -q '^FCAPTEST done' "$log"
eq "guest checks that failed" "$(grep -c '^FCAPTEST FAIL' "$log")" 0
bad=$(grep -nE 'Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic|refcount_t:|list_(add|del) corruption|segfault|unable to handle' "$log")
check "console log: no oops, BUG, WARNING" test -z "$bad"
[ -z "$bad" ] || printf '%s\n' "$bad" | head -20
check "console log: no mailbox error while the simulator ran" \
    sh -c "sed '/^FCAPTEST sim-stop/q' '$log' | grep -q 'FCAPTEST sim-stop' && ! sed '/^FCAPTEST sim-stop/q' '$log' | grep -q 'register mailbox'"
check "fcap-cosim stopped on request" grep -q 'stopped by a signal' "$out/cosim.log"
stat_of() { # stat_of SESSION FIELD: a number from fcap-cosim's stats
    awk -v s="$1" -v f="$2" '$1 == "session" && $2 == s { for (i = 3; i < NF; i++) if ($i == f) print $(i + 1) }' \
        "$out/cosim.stats"
}
summary_of() { # summary_of N: the guest's fcap capture summary N
    sed -n "s/^FCAPTEST summary$1 //p" "$log"
}
extract() { # extract NAME FILE: a file the guest printed in base64
    sed -n "/^FCAPTEST file-begin $1\$/,/^FCAPTEST file-end $1\$/p" "$log" | sed '1d;$d' | base64 -d > "$2" 2>/dev/null
}
check "fcap-cosim: no card DMA outside guest RAM" grep -q 'dma_faults 0 ' "$out/cosim.stats"
irqs=$(awk '$1 == "total" { for (i = 2; i < NF; i++) if ($i == "interrupts") print $(i + 1) }' "$out/cosim.stats")
check "fcap-cosim: the card's interrupts went to the guest as MSI-X (${irqs:-0})" test "${irqs:-0}" -gt 0

# ---- capture 1: every frame, byte-identical, in order, at the line rate ----
echo "capture 1: $in1 ($n1 frames) at 1 Gb/s"
extract c1 "$out/c1.pcapng"
eq "fcap-cosim: frames replayed" "$(stat_of 1 sent)" "$n1"
eq "card: frames received" "$(stat_of 1 rx_frames)" "$n1"
eq "capinfos: frames in the guest's file" "$(packets "$out/c1.pcapng")" "$n1"
check "tshark reads it without complaint" sh -c "! tshark -r '$out/c1.pcapng' 2>&1 >/dev/null | grep -v 'Running as user' | grep -q ."
summary_of 1 > "$out/c1.summary"
contains "guest summary: the card's count" "$out/c1.summary" "received $n1 frames"
contains "guest summary: nothing lost" "$out/c1.summary" " 0 lost in all"
reordercap -n "$out/c1.pcapng" "$out/c1.sorted.pcapng" > /dev/null 2>&1
tcpdump -r "$in1" -t -xx -n 2>/dev/null > "$out/want1.hex"
tcpdump -r "$out/c1.sorted.pcapng" -t -xx -n 2>/dev/null > "$out/got1.hex"
check "every frame byte-identical, in the input's order by card timestamp (tcpdump -xx)" \
    cmp -s "$out/want1.hex" "$out/got1.hex"
# Back to back at the line rate, frame i+1 starts (8 preamble + max(len, 60)
# + 4 FCS + 12 gap) bytes of wire time after frame i (sim/sim_mac.c).
tshark -r "$in1" -T fields -e frame.len 2>/dev/null > "$out/len1.txt"
tshark -r "$out/c1.sorted.pcapng" -T fields -e frame.time_epoch 2>/dev/null > "$out/ts1.txt"
python3 - "$out/len1.txt" "$out/ts1.txt" "$rate" > "$out/ts1.check" <<'PY'
import sys
lens = [int(x) for x in open(sys.argv[1])]
def ns(s):
    sec, _, frac = s.strip().partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])
ts = [ns(x) for x in open(sys.argv[2])]
rate = int(sys.argv[3])
worst = 0
for i in range(min(len(lens), len(ts)) - 1):
    want = (8 + max(lens[i], 60) + 4 + 12) * 8 * 10**9 // rate
    worst = max(worst, abs((ts[i + 1] - ts[i]) - want))
print(len(ts), worst)
PY
read -r nts worst < "$out/ts1.check"
eq "timestamps read" "$nts" "$n1"
check "timestamp spacing = wire time at 1 Gb/s within 16 ns (worst error ${worst} ns)" test "$nts" = "$n1" -a "${worst:-999}" -le 16

# ---- capture 2: a stalled consumer; the card drops -----------------------
echo "capture 2: $in2 ($n2 frames) at 1 Gb/s into 4 rings of 2 x 64 KiB, consumer stopped"
extract c2 "$out/c2.pcapng"
rx=$(stat_of 2 rx_frames) fifo=$(stat_of 2 drop_fifo) ring=$(stat_of 2 drop_ring)
eq "fcap-cosim: frames replayed" "$(stat_of 2 sent)" "$n2"
eq "card: frames received" "$rx" "$n2"
check "card: frames dropped for a full ring (${ring:-?})" test "${ring:-0}" -gt 0
summary_of 2 > "$out/c2.summary"
contains "guest summary: received = the card's counter" "$out/c2.summary" "received $rx frames"
contains "guest summary: drops = the card's counters" "$out/c2.summary" "card fifo $fifo, card ring full $ring,"
kept=$((rx - fifo - ring))
eq "capinfos: frames in the guest's file = received - dropped" "$(packets "$out/c2.pcapng")" "$kept"
eq "card: records written = frames in the guest's file" "$(stat_of 2 records)" "$kept"
reordercap -n "$out/c2.pcapng" "$out/c2.sorted.pcapng" > /dev/null 2>&1
tcpdump -r "$in2" -t -xx -n 2>/dev/null > "$out/want2.hex"
tcpdump -r "$out/c2.sorted.pcapng" -t -xx -n 2>/dev/null > "$out/got2.hex"
python3 - "$out/want2.hex" "$out/got2.hex" > "$out/sub2.check" <<'PY'
import sys
def frames(path):
    out, cur = [], []
    for line in open(path):
        if line.startswith("\t"):
            cur.append(line)
        else:
            if cur:
                out.append("".join(cur))
            cur = [line]
    if cur:
        out.append("".join(cur))
    return out
want, got = frames(sys.argv[1]), frames(sys.argv[2])
i = 0
for g in got:
    while i < len(want) and want[i] != g:
        i += 1
    if i == len(want):
        print("no")
        sys.exit(0)
    i += 1
print("yes", len(got))
PY
check "the $kept frames kept are input frames, byte-identical, in order (tcpdump -xx)" sh -c "[ $kept -gt 0 ] && grep -q \"^yes $kept\$\" '$out/sub2.check'"

echo "co-simulation: $(( $(packets "$out/c1.pcapng") + $(packets "$out/c2.pcapng") )) frames moved into the guest's files; test wall time $(( $(date +%s) - test_start )) s"
finish
