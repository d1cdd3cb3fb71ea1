#!/bin/sh
# deps.sh - install the Debian packages fcap needs, only if something is missing.
#
# Each line below pairs a file that must exist (a tool or a header) with the
# package that provides it. When all files exist this does nothing, so it is
# cheap to run before every build; when one is missing it runs apt-get (as
# root, or through sudo) for the missing packages only.
set -eu

need() { # need FILE PACKAGE
    [ -e "$1" ] || missing="$missing $2"
}
missing=""
need /usr/bin/gcc                  gcc
need /usr/bin/g++                  g++
need /usr/bin/make                 make
need /usr/bin/verilator            verilator
need /usr/bin/yosys                yosys
need /usr/bin/dtc                  device-tree-compiler
need /usr/include/pcap/pcap.h      libpcap-dev
need /usr/include/libfdt.h         libfdt-dev
need /usr/include/CUnit/CUnit.h    libcunit1-dev
need /usr/bin/tshark               tshark
need /usr/bin/capinfos             wireshark-common
need /usr/bin/tcpdump              tcpdump
# The store's tests: time ranges judged by editcap, inputs merged by mergecap,
# a full disk made with a tmpfs mount.
need /usr/bin/editcap              wireshark-common
need /usr/bin/mergecap             wireshark-common
# The co-simulation test orders the guest's file by timestamp with reordercap.
need /usr/bin/reordercap           wireshark-common
need /bin/mount                    mount
need /usr/bin/md5sum               coreutils
need /usr/bin/python3              python3
need /usr/bin/od                   coreutils
need /usr/bin/awk                  gawk
# The kernel driver: built against Debian's kernel headers, booted in QEMU with
# Debian's kernel image of the same version (tools/kver.sh), checked by sparse.
[ -n "$("$(dirname "$0")/kver.sh" 2>/dev/null || true)" ] || missing="$missing linux-headers-amd64 linux-image-amd64"
need /usr/bin/sparse               sparse
need /usr/bin/qemu-system-x86_64   qemu-system-x86
# The initramfs needs the statically linked busybox (package busybox is dynamic).
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing="$missing busybox-static"
need /usr/bin/cpio                 cpio
# Operating it (issue 9): the netns capture test (ip, ping, tcpdump above),
# metrics (libmicrohttpd; promtool judges the exposition), the service unit
# (systemd-analyze verify), the man pages (man --warnings).
need /usr/bin/ip                   iproute2
need /usr/bin/ping                 iputils-ping
need /usr/include/microhttpd.h     libmicrohttpd-dev
need /usr/bin/promtool             prometheus
need /usr/bin/systemd-analyze      systemd
need /usr/bin/man                  man-db
need /usr/bin/groff                groff-base
need /usr/sbin/useradd             passwd
need /usr/bin/script               bsdutils
need /usr/bin/base64               coreutils
# Alerts: fcap report's HTML rendered by headless Chromium (tests/tools/test_alerts.sh).
need /usr/bin/chromium             chromium

# Fuzzing (make fuzz, and its smoke run in make test): clang's libFuzzer with
# ASan and UBSan; the unit tests under valgrind (make test-valgrind).
need /usr/bin/clang                clang
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing="$missing libclang-rt-14-dev"
need /usr/bin/valgrind             valgrind
# IPFIX export: nfcapd collects in a network namespace (ip, ss), nfdump reads back.
need /usr/bin/nfcapd               nfdump
need /usr/bin/nfdump               nfdump
need /usr/sbin/ip                  iproute2
need /usr/bin/ss                   iproute2
# The fleet: the NATS C client to build, a 3-node nats-server cluster to test.
need /usr/include/nats/nats.h      libnats-dev
need /usr/sbin/nats-server         nats-server

if [ -z "$missing" ]; then
    exit 0
fi
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default (no) is right.
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
