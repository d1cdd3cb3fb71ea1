#!/bin/sh
# synth.sh RTL... - synthesize the card with Yosys and report its size.
#
# Runs Yosys's generic `synth` flow with one change: memories stay memory
# cells ($mem_v2) instead of being expanded to flip-flops by memory_map, as an
# FPGA flow maps them to block RAM. (Expanding the 256 Kbit packet FIFO to
# flip-flops takes over six minutes and proves nothing more.) Fails on any
# Yosys warning or on `check -assert` problems. The cell report goes to
# $O/synth/fcap_top.stat, the per-module table (hw/tools/synth_table.py) to
# $O/synth/fcap_top.md.
set -eu
O=${O:-build}
out=$O/synth
mkdir -p "$out"
dtb=$O/hw/fcap.dtb
[ -f "$O/hw/fcap_dt_rom_init.vh" ] || { echo "synth: build $O/hw/fcap_dt_rom_init.vh first (make synth)" >&2; exit 1; }
cat > "$out/synth.ys" <<YS
read_verilog -Ihw/rtl -I$O/hw -DFCAP_DT_EMBED $*
chparam -set DT_BYTES $(stat -c %s "$dtb") fcap_top
synth -top fcap_top -run begin:fine
opt -fast -full
opt -full
techmap
opt -fast
abc -fast
opt -fast
hierarchy -check
check -assert
tee -o $out/fcap_top.stat stat
tee -q -o $out/mem_list.txt select -list t:\$mem_v2
tee -q -o $out/mems.il dump t:\$mem_v2
YS
yosys -q -l "$out/yosys.log" "$out/synth.ys" > /dev/null
if grep -q -i '^warning' "$out/yosys.log"; then
    grep -i '^warning' "$out/yosys.log" >&2
    echo "synth: yosys warnings (above)" >&2
    exit 1
fi
cells=$(awk '/=== design hierarchy ===/ {h=1} h && /Number of cells:/ {print $4; exit}' "$out/fcap_top.stat")
mems=$(awk '/=== design hierarchy ===/ {h=1} h && /\$mem_v2/ {print $2; exit}' "$out/fcap_top.stat")
hw/tools/synth_table.py "$out" > "$out/fcap_top.md"
echo "synth: fcap_top synthesized cleanly: $cells cells, ${mems:-0} memories (report: $out/fcap_top.stat, table: $out/fcap_top.md)"
