#!/bin/sh
# kver.sh - the Debian kernel version the driver is built and booted against:
# the newest version that has both headers (/lib/modules/V/build, from
# linux-headers-amd64) and an image (/boot/vmlinuz-V, from linux-image-amd64),
# so the module built is the module the QEMU test loads. Prints nothing when
# there is none.
for build in /lib/modules/*/build; do
    v=${build#/lib/modules/}; v=${v%/build}
    [ -e "$build/Makefile" ] && [ -e "/boot/vmlinuz-$v" ] && echo "$v"
done | sort -V | tail -n 1
