#!/bin/busybox sh
# init.sh - /init of the QEMU guest that tests fcap.ko (tests/driver/test_qemu.sh).
#
# Every check prints "FCAPTEST ok NAME" or "FCAPTEST FAIL NAME"; the host
# judges the console log. The guest has QEMU's edu device and pci-testdev
# (not fcap cards: the probe must refuse them without side effects) and three
# ivshmem devices whose memory BAR stands in for an fcap card's registers
# (tests/driver/mkregs.py; the driver binds them with regs_bar=2): two good
# cards, the first with an MSI-X vector that fires every 50 ms
# (ivshmem-doorbell, tests/driver/ivshmem_server.py), the second with no
# interrupt at all, and, last, one whose device tree blob is damaged.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
DRV=/sys/bus/pci/drivers/fcap
fails=0
ok() { echo "FCAPTEST ok $1"; }
bad() { echo "FCAPTEST FAIL $1"; fails=$((fails + 1)); }
t() { # t NAME COMMAND...: the command must succeed
    name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
run() { # run NAME PROGRAM...: a program that prints its own checks must exit 0
    name=$1; shift
    "$@"; rc=$?
    [ "$rc" -eq 0 ] || bad "$name exited $rc"
}
no_nodes() { ! ls /dev/fcap* > /dev/null 2>&1; }
bdfs_of() { # bdfs_of VENDOR DEVICE: the PCI addresses of such devices
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat "$d/vendor") $(cat "$d/device")" = "0x$1 0x$2" ] && basename "$d"
    done
}

echo "FCAPTEST begin kernel $(uname -r)"

echo "FCAPTEST step: load with no card"
t "insmod fcap.ko" insmod /fcap.ko
t "module registered" test -d /sys/module/fcap
t "PCI driver registered" test -d $DRV
t "char device region registered" grep -qw fcap /proc/devices
t "class registered" test -d /sys/class/fcap
t "no card, no device node" no_nodes

echo "FCAPTEST step: open of a missing device"
major=$(awk '$2 == "fcap" {print $1}' /proc/devices)
mknod /dev/fcapX c "$major" 0
run "drvtest missing" /drvtest missing /dev/fcapX
rm -f /dev/fcapX

refuse() { # refuse VENDOR DEVICE WHAT LOG-TEXT: bind through new_id, expect a clean refusal
    bdf=$(bdfs_of "$1" "$2" | head -n 1)
    [ -n "$bdf" ] || { bad "$3: present in the guest"; return; }
    echo "$1 $2" > $DRV/new_id
    t "$3: probe refused, not bound" test ! -e "/sys/bus/pci/devices/$bdf/driver"
    t "$3: device left disabled" test "$(cat "/sys/bus/pci/devices/$bdf/enable")" = 0
    t "$3: no BAR claimed" sh -c '! grep -q fcap /proc/iomem'
    t "$3: no interrupt taken" sh -c '! grep -q fcap /proc/interrupts'
    t "$3: no device node" no_nodes
    t "$3: the kernel log says why" sh -c "dmesg | grep '$bdf' | grep -q '$4'"
    echo "$1 $2" > $DRV/remove_id
}
echo "FCAPTEST step: devices that are not fcap cards"
refuse 1234 11e8 "edu device" "not an fcap card"
refuse 1b36 0005 "pci-testdev" "registers need"

echo "FCAPTEST step: unload"
t "rmmod fcap" rmmod fcap
t "module gone" test ! -e /sys/module/fcap
t "class gone" test ! -e /sys/class/fcap
t "char device region released" sh -c '! grep -qw fcap /proc/devices'

not_bound() { # not_bound BDF: the probe failed and left the device as it found it
    test ! -e "/sys/bus/pci/devices/$1/driver" -a "$(cat "/sys/bus/pci/devices/$1/enable")" = 0
}
set -- $(bdfs_of 1af4 1110)
card0=$1 badcard=$3

echo "FCAPTEST step: the transport parameter"
t "insmod fcap.ko transport=pci refused" sh -c '! insmod /fcap.ko transport=pci 2> /dev/null'
t "the kernel log names the parameter" sh -c 'dmesg | grep -q "transport=pci: must be mmio or mailbox"'
t "insmod fcap.ko transport=mailbox" insmod /fcap.ko transport=mailbox
echo "1af4 1110" > $DRV/new_id
t "no simulator's mailbox behind the stand-ins: none bound" sh -c "! ls /dev/fcap* > /dev/null 2>&1"
t "the stand-in with a doorbell left disabled" not_bound "$card0"
t "the kernel log says why" sh -c "dmesg | grep '$card0' | grep -q 'no register mailbox (magic 0x46434150'"
t "rmmod fcap" rmmod fcap

echo "FCAPTEST step: a ring geometry the card cannot take"
t "insmod fcap.ko regs_bar=2 block_size=32768" insmod /fcap.ko regs_bar=2 block_size=32768
echo "1af4 1110" > $DRV/new_id
t "no card bound" not_bound "$card0"
t "no device node" no_nodes
t "the kernel log names the parameter" sh -c 'dmesg | grep -q "module parameter block_size=32768: this card and driver take 65536..4194304 bytes in multiples of 4096"'
t "rmmod fcap" rmmod fcap

echo "FCAPTEST step: two stand-in cards and a damaged one"
t "insmod fcap.ko regs_bar=2" insmod /fcap.ko regs_bar=2
echo "1af4 1110" > $DRV/new_id
t "both cards bound: /dev/fcap0 and /dev/fcap1" test -c /dev/fcap0 -a -c /dev/fcap1
t "damaged device tree: not bound" not_bound "$badcard"
t "damaged device tree: the kernel log says what and where" sh -c "dmesg | grep '$badcard' | grep -q 'device tree: bad magic (byte offset 0)'"
t "damaged device tree: no third node" test ! -e /dev/fcap2
t "the kernel log describes the cards" sh -c 'dmesg | grep -q "fcap0: card 1.0, 4 port(s), 4 ring(s) of 16 x 1048576 bytes, msi-x" && dmesg | grep -q "fcap1: card 1.0, 4 port(s), 4 ring(s) of 16 x 1048576 bytes, poll"'
t "sysfs: irq_mode of the card with MSI-X" test "$(cat /sys/class/fcap/fcap0/irq_mode)" = msi-x
t "sysfs: irq_mode of the card without interrupt" test "$(cat /sys/class/fcap/fcap1/irq_mode)" = poll
t "sysfs: state" test "$(cat /sys/class/fcap/fcap0/state)" = stopped
t "MSI-X vector registered as fcap0" grep -q 'fcap0' /proc/interrupts
irqs0=$(cat /sys/class/fcap/fcap0/interrupts)
sleep 1
irqs1=$(cat /sys/class/fcap/fcap0/interrupts)
echo "fcap0 interrupts: $irqs0, one second later $irqs1"
t "MSI-X interrupts reach the handler" test "$irqs1" -gt "$irqs0"
run "drvtest card" /drvtest card /dev/fcap0 /fcap.dtb /sys/class/fcap/fcap0 msix

echo "FCAPTEST step: a user in the device's group"
chgrp 1000 /dev/fcap0 /dev/fcap1
run "drvtest owner (uid 1000, group 1000)" /drvtest --as 1000:1000 owner /dev/fcap0
run "drvtest denied (uid 1001, group 1001)" /drvtest --as 1001:1001 denied /dev/fcap0
mkdir -p /tmp/u && chown 1000:1000 /tmp/u
/drvtest --as 1000:1000 exec /bin/fcap info -d /dev/fcap1 > /tmp/u/info.txt 2>&1
echo "fcap info exit $?"
cat /tmp/u/info.txt
t "fcap info -d /dev/fcap1 as uid 1000: the card's model" grep -q "model *fcap 4x10G" /tmp/u/info.txt
timeout -s INT 3 /drvtest --as 1000:1000 exec /bin/fcap capture -d pcie:1 -w /tmp/u/c.pcapng > /tmp/u/cap.txt 2>&1
rc=$?
cat /tmp/u/cap.txt
# The stand-in card's counters claim frames it never delivered, so the capture
# must end with exit 1 and say that the frames do not add up.
t "fcap capture -d pcie:1 as uid 1000, stopped by SIGINT: the stand-in's counters do not add up (exit 1)" test "$rc" = 1
t "fcap capture: says so" grep -q "accounting mismatch" /tmp/u/cap.txt
rx=$(( (0x1001 << 32) | 0xC0DE1000 ))
t "fcap capture: the card's counters in the summary" grep -q "received $rx frames" /tmp/u/cap.txt
# Kernel messages stay off the console meanwhile (still in dmesg): one
# printed amid the base64 lines would corrupt the file.
read -r printk < /proc/sys/kernel/printk
echo 1 > /proc/sys/kernel/printk
echo "FCAPTEST file-begin"
base64 /tmp/u/c.pcapng
echo "FCAPTEST file-end"
echo "$printk" > /proc/sys/kernel/printk

echo "FCAPTEST step: a card unbound under an open, mapped file"
run "drvtest unplug" /drvtest unplug /dev/fcap0 $DRV/unbind "$card0"
t "unplug: MSI-X vector freed" sh -c '! grep -q fcap0 /proc/interrupts'
t "rmmod fcap after the last close" rmmod fcap
t "device nodes gone" no_nodes

echo "FCAPTEST step: reload"
for i in 1 2; do
    t "reload $i: insmod" insmod /fcap.ko regs_bar=2
    echo "1af4 1110" > $DRV/new_id
    t "reload $i: both cards bound" test -c /dev/fcap0 -a -c /dev/fcap1
    t "reload $i: rmmod" rmmod fcap
done
t "module gone" test ! -e /sys/module/fcap

echo "FCAPTEST done fails=$fails"
poweroff -f
