#!/bin/sh
# dtb2vh.sh BLOB.dtb WORDS > fcap_dt_rom_init.vh
# Turns a device tree blob into ROM initialisation statements for
# fcap_dt_rom (built with FCAP_DT_EMBED): word i holds blob bytes 4i..4i+3,
# byte 4i in bits 7:0, so a little-endian host reading the words in order gets
# the blob's bytes back in order. Fails when the blob does not fit, so an
# oversized tree breaks the build rather than being cut short in the ROM.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 blob.dtb words" >&2; exit 2; }
blob=$1 words=$2
size=$(wc -c < "$blob")
if [ $((size % 4)) -ne 0 ]; then
    echo "dtb2vh: $blob: size $size is not a multiple of 4 (build it with dtc -a 4)" >&2
    exit 1
fi
if [ $((size / 4)) -gt "$words" ]; then
    echo "dtb2vh: $blob: $size bytes do not fit a ROM of $words words" >&2
    exit 1
fi
echo "// Generated from $(basename "$blob") ($size bytes) by hw/tools/dtb2vh.sh. Do not edit."
od -An -v -tx4 --endian=little -w4 "$blob" | tr -d ' ' |
    awk '{ printf "        rom[%d] = 32%sh%s;\n", NR - 1, "\047", $1 }'
