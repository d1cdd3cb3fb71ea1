#!/bin/sh
# gen_defs.sh CARD_H > fcap_defs.vh
# Carries every `#define FCAP_x 0x...u` (or decimal `123u`) of host/include/fcap/card.h into a
# Verilog include as a 32-bit `define, so that the RTL and the C host share one
# register map and one record layout. hw/rtl/fcap_defs.vh is committed (lint
# needs it without a build); `make check-defs` fails when it is stale.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 card.h" >&2; exit 2; }
echo "// Generated from host/include/fcap/card.h by hw/tools/gen_defs.sh. Do not edit."
echo "\`ifndef FCAP_DEFS_VH"
echo "\`define FCAP_DEFS_VH"
awk '$1 == "#define" && $2 ~ /^FCAP_/ && $3 ~ /^0x[0-9A-Fa-f]+u$/ {
        printf "`define %s 32%sh%s\n", $2, "\047", substr($3, 3, length($3) - 3)
     }
     $1 == "#define" && $2 ~ /^FCAP_/ && $3 ~ /^[0-9]+u$/ {
        printf "`define %s 32%sd%s\n", $2, "\047", substr($3, 1, length($3) - 1)
     }' "$1"
echo "\`endif"
