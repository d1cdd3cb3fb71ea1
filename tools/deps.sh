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
need /usr/bin/base64               coreutils

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
