#!/bin/busybox sh
# cosim_init.sh - /init of the co-simulation guest (tests/driver/test_cosim.sh).
#
# The guest's one PCI device of interest is an ivshmem-doorbell device served
# by fcap-cosim on the host: the Verilated card behind a register mailbox
# (docs/COSIM.md). The kernel command line gives the frame counts of the two
# replays (cosim_n1, cosim_n2: init's environment). Two captures:
#   1. fcap capture -d pcie:0 while the host replays file 1; stopped by
#      SIGINT once the card has counted every frame of it.
#   2. the module reloaded with a small ring (2 blocks of 64 KiB per ring);
#      the capture is stopped (SIGSTOP) as soon as it has started, so the
#      card fills the ring and drops; continued and stopped once the card
#      has counted every frame of file 2.
#   3. the host stops fcap-cosim under a bound card: register accesses time
#      out once, then read all ones; the module still unloads.
# Every check prints "FCAPTEST ok NAME" or "FCAPTEST FAIL NAME"; the
# captures' summaries and files (base64) go to the console for the host.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
DRV=/sys/bus/pci/drivers/fcap
SYS=/sys/class/fcap/fcap0
fails=0
ok() { echo "FCAPTEST ok $1"; }
bad() { echo "FCAPTEST FAIL $1"; fails=$((fails + 1)); }
t() { # t NAME COMMAND...: the command must succeed
    name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
wait_for() { # wait_for WHAT TRIES COMMAND...: poll every 0.2 s
    what=$1 tries=$2; shift 2
    i=0
    until "$@"; do
        i=$((i + 1))
        [ "$i" -lt "$tries" ] || { bad "$what (gave up after $tries tries)"; return 1; }
        sleep 0.2
    done
    ok "$what"
}
rx_reached() { [ "$(cat $SYS/port0/rx_frames)" -ge "$1" ]; }
running() { [ "$(cat $SYS/state)" = running ]; }
bind_card() { # bind_card MODULE-ARGS...
    t "insmod fcap.ko $*" insmod /fcap.ko "$@"
    echo "1af4 1110" > $DRV/new_id
    t "the co-simulated card bound as /dev/fcap0" test -c /dev/fcap0
}
dump() { # dump NAME FILE: the file to the console, for the host
    # Kernel messages stay off the console meanwhile (still in dmesg): one
    # printed amid the base64 lines corrupted a file once.
    read -r printk < /proc/sys/kernel/printk
    echo 1 > /proc/sys/kernel/printk
    echo "FCAPTEST file-begin $1"
    base64 "$2"
    echo "FCAPTEST file-end $1"
    echo "$printk" > /proc/sys/kernel/printk
}

echo "FCAPTEST begin kernel $(uname -r) n1=$cosim_n1 n2=$cosim_n2"

echo "FCAPTEST step: probe through the mailbox"
bind_card transport=mailbox
t "the kernel log describes the card (MSI-X through ivshmem)" \
    sh -c 'dmesg | grep -q "fcap0: card 1.0, 4 port(s), 4 ring(s) of 16 x 1048576 bytes, msi-x"'
t "sysfs: state stopped" test "$(cat $SYS/state)" = stopped
fcap info -d pcie:0 > /tmp/info.txt 2>&1
t "fcap info -d pcie:0: the card's model from its device tree ROM" grep -q "model *fcap 4x10G" /tmp/info.txt

echo "FCAPTEST step: capture 1 (every frame)"
fcap capture -d pcie:0 -w /tmp/c1.pcapng --block-timeout 200us 2> /tmp/c1.txt &
pid=$!
wait_for "capture 1: the card counted all $cosim_n1 frames" 600 rx_reached "$cosim_n1"
kill -INT $pid
wait $pid
rc=$?
cat /tmp/c1.txt | sed 's/^/FCAPTEST summary1 /'
t "capture 1: fcap capture exit 0 (got $rc)" test "$rc" = 0
t "capture 1: interrupts taken" test "$(cat $SYS/interrupts)" -gt 0
dump c1 /tmp/c1.pcapng

echo "FCAPTEST step: capture 2 (consumer stalled: the card drops)"
t "rmmod fcap" rmmod fcap
bind_card transport=mailbox blocks=2 block_size=65536
fcap capture -d pcie:0 -w /tmp/c2.pcapng --block-timeout 200us 2> /tmp/c2.txt &
pid=$!
wait_for "capture 2: started" 300 running
kill -STOP $pid
wait_for "capture 2: the card counted all $cosim_n2 frames" 600 rx_reached "$cosim_n2"
kill -CONT $pid
kill -INT $pid
wait $pid
rc=$?
cat /tmp/c2.txt | sed 's/^/FCAPTEST summary2 /'
t "capture 2: fcap capture exit 0 (got $rc)" test "$rc" = 0
dump c2 /tmp/c2.pcapng
t "rmmod fcap" rmmod fcap

echo "FCAPTEST step: the simulator goes away"
bind_card transport=mailbox
echo "FCAPTEST sim-stop"    # the host stops fcap-cosim when it sees this line
sleep 3
rx=$(cat $SYS/port0/rx_frames)
t "a counter read with no simulator: all ones, after the mailbox timeout (got $rx)" \
    test "$rx" = 18446744073709551615
t "the kernel log says the mailbox got no answer" sh -c 'dmesg | grep -q "register mailbox: no answer to request"'
t "rmmod fcap with no simulator" rmmod fcap
t "module gone" test ! -e /sys/module/fcap

echo "FCAPTEST done fails=$fails"
poweroff -f
