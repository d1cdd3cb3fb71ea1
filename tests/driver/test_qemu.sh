#!/bin/sh
# test_qemu.sh KO FCAP DTB OUTDIR - fcap.ko in a QEMU guest running Debian's kernel.
#
# Assembles a busybox initramfs in OUTDIR holding the module, the guest-side
# test program (drvtest, static), the fcap command and its libraries, then
# boots Debian's linux-image-amd64 (the version the module was built for,
# tools/kver.sh) with -accel tcg under `timeout`. The guest (init.sh) loads
# and unloads the driver, opens a missing device, binds QEMU's edu device
# and pci-testdev (refused cleanly) and stand-in cards (ivshmem memory
# preloaded by mkregs.py, one with an MSI-X vector from ivshmem_server.py),
# and runs drvtest and fcap against them. Judged
# here: every guest check passed, the run finished, the console log has no
# oops, BUG, WARNING or other kernel error report, the capture file reads
# in capinfos/tshark, and the stand-in register files hold what the driver
# had to program (docs/REGISTERS.md).
set -u
ko=$1 fcap=$2 dtb=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/lib.sh"
kver=$("$here/../../tools/kver.sh")
kernel=/boot/vmlinuz-$kver
rm -rf "$out" && mkdir -p "$out/root"
root=$out/root

echo "driver test: Debian kernel $kver, module $ko"
[ -r "$kernel" ] || { echo "FAIL: $kernel is not readable"; exit 1; }
modver=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
eq "module built for the kernel that boots" "$modver" "$kver"

# ---- initramfs ----------------------------------------------------------
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/lib64" \
         "$root/lib/x86_64-linux-gnu"
cp /bin/busybox "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
cp "$ko" "$root/fcap.ko"
cp "$dtb" "$root/fcap.dtb"
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -static -I"$here/../../host/include" \
    -o "$root/drvtest" "$here/drvtest.c" || { echo "FAIL: building drvtest"; exit 1; }
cp "$fcap" "$root/bin/fcap"
# fcap is dynamically linked: bring the loader and every library it needs.
ldd "$fcap" | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | while read -r lib; do
    cp -L "$lib" "$root$lib"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.gz"

# ---- stand-in cards -----------------------------------------------------
for i in 0 1; do
    python3 "$here/mkregs.py" "$dtb" "$out/card$i.regs" || { echo "FAIL: mkregs"; exit 1; }
done
python3 "$here/mkregs.py" "$dtb" "$out/card2.regs" --bad-dt || { echo "FAIL: mkregs"; exit 1; }

# Card 0 is an ivshmem-doorbell device: its memory and an MSI-X vector that
# fires every 50 ms come from ivshmem_server.py. Cards 1 and 2 have no interrupt.
python3 "$here/ivshmem_server.py" "$out/card0.sock" "$out/card0.regs" 300 &
server=$!
for i in $(seq 50); do [ -S "$out/card0.sock" ] && break; sleep 0.1; done

# ---- boot ----------------------------------------------------------------
echo "booting (QEMU, TCG; log in $out/console.log)"
start=$(date +%s)
timeout 300 qemu-system-x86_64 -accel tcg -m 1G -smp 2 -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$out/initrd.gz" \
    -append "console=ttyS0 panic=-1 oops=panic loglevel=7" \
    -device edu -device pci-testdev \
    -chardev socket,path="$out/card0.sock",id=card0 -device ivshmem-doorbell,chardev=card0,vectors=1 \
    -object memory-backend-file,id=card1,size=64K,mem-path="$out/card1.regs",share=on \
    -device ivshmem-plain,memdev=card1 \
    -object memory-backend-file,id=card2,size=64K,mem-path="$out/card2.regs",share=on \
    -device ivshmem-plain,memdev=card2 \
    < /dev/null > "$out/console.log" 2>&1
qrc=$?
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
echo "QEMU exited $qrc after $(( $(date +%s) - start )) s"
log=$out/console.log
tr -d '\r' < "$log" > "$log.txt" && log=$log.txt

# ---- judge the guest ------------------------------------------------------
grep '^FCAPTEST \(ok\|FAIL\|step\)' "$log" | sed 's/^FCAPTEST /  guest /'
eq "QEMU exit status (0: the guest powered off)" "$qrc" 0
check "the guest ran to the end" grep -q '^FCAPTEST done' "$log"
eq "guest checks that failed" "$(grep -c '^FCAPTEST FAIL' "$log")" 0
n_ok=$(grep -c '^FCAPTEST ok' "$log")
check "guest checks that passed: $n_ok (at least 90)" test "$n_ok" -ge 90
bad=$(grep -nE 'Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic|KASAN|kmemleak|UBSAN|refcount_t:|list_(add|del) corruption|double free|segfault|unable to handle' "$log")
check "console log: no oops, BUG, WARNING or error report" test -z "$bad"
[ -z "$bad" ] || printf '%s\n' "$bad" | head -20
check "console log: driver loaded and unloaded" \
    sh -c "grep -q 'fcap: driver loaded' '$log' && grep -q 'fcap: driver unloaded' '$log'"

# ---- the capture file, written in the guest by a user of the device's group
sed -n '/^FCAPTEST file-begin/,/^FCAPTEST file-end/p' "$log" | sed '1d;$d' | base64 -d > "$out/c.pcapng" 2>/dev/null
eq "capinfos reads the guest's capture (0 frames: the stand-in moves none)" "$(packets "$out/c.pcapng")" 0
eq "its interface is the card's port" \
   "$(capinfos "$out/c.pcapng" 2>/dev/null | awk -F= '/Name = / {gsub(/ /, "", $2); print $2; exit}')" p0
check "tshark reads it without complaint" sh -c "! tshark -r '$out/c.pcapng' 2>&1 >/dev/null | grep -v 'Running as user' | grep -q ."

# ---- what the driver programmed into the stand-in register files ---------
python3 - "$out/card0.regs" "$out/card1.regs" <<'PY' || fails=$((fails + 1))
import struct, sys
bad = 0
def say(ok, what):
    global bad
    print("  %s  %s" % ("ok  " if ok else "FAIL", what))
    bad += not ok
for i, path in enumerate(sys.argv[1:]):
    r = open(path, "rb").read()
    u32 = lambda off: struct.unpack_from("<I", r, off)[0]
    u64 = lambda off: struct.unpack_from("<Q", r, off)[0]
    say(u32(0x34) == 4 and u32(0x38) == 0 and u32(0x3C) == 0,
        "card%d: time increment 4 ns for the 250 MHz core clock (got %d + %d/%d)" % (i, u32(0x34), u32(0x38), u32(0x3C)))
    # four rings (hw/dts/fcap_4x10g.dts), registers at 0x400 + 0x40 r, 16 blocks each
    ring = lambda r, off: 0x400 + 0x40 * r + off
    table = [u64(0x2000 + 8 * b) for b in range(512)]
    statuses = []
    for q in range(4):
        say(u32(ring(q, 0x04)) == 1 << 20, "card%d ring %d: block size 1 MiB (got %d)" % (i, q, u32(ring(q, 0x04))))
        status = u64(ring(q, 0x08))
        statuses.append(status)
        say(status != 0 and status % 4096 == 0, "card%d ring %d: status word address set, page aligned" % (i, q))
        say(u32(ring(q, 0x1C)) == 16 * q, "card%d ring %d: block table base %d (got %d)" % (i, q, 16 * q, u32(ring(q, 0x1C))))
        used = table[16 * q:16 * q + 16]
        say(all(a and a % 4096 == 0 for a in used) and len(set(used)) == 16 and status not in used,
            "card%d ring %d: 16 distinct page-aligned block addresses" % (i, q))
        say(all(used[b + 1] - used[b] == 1 << 20 for b in range(16) if b % 4 != 3),
            "card%d ring %d: blocks of one 4 MiB chunk are contiguous" % (i, q))
    say(len(set(statuses)) == 4 and len(set(table[:64])) == 64, "card%d: rings do not share memory" % i)
    say(not any(table[64:]), "card%d: table entries past 64 untouched" % i)
    say(all(u32(0x3000 + 4 * e) == e % 4 for e in range(128)), "card%d: steering table spreads over 4 rings" % i)
    say(all(u32(ring(q, 0)) == 0 for q in range(4)) and u32(0x10) == 0 and u32(0x60) == 0,
        "card%d: after unbind: every ring's BLOCKS 0, CTRL 0, IRQ_ENABLE 0" % i)
    say(u64(0x28) > 1600000000 * 10**9, "card%d: time of day loaded at start" % i)
r = open(sys.argv[2], "rb").read()
timeout = struct.unpack_from("<I", r, 0x400 + 0x18)[0]
say(timeout == 2500000, "card1: fcap capture's 10 ms block timeout as 2500000 clocks (got %d)" % timeout)
sys.exit(1 if bad else 0)
PY
finish
