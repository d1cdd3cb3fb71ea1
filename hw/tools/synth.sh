#!/bin/sh
# synth.sh RTL... - synthesize one configuration of the card with Yosys and
# report its size.
#
# TOP names the configuration's top module (fcap_top: 4 x 10G, the default;
# fcap_top_1x100g: 1 x 100G) and HWDIR the directory holding its device tree
# blob and ROM contents ($O/hw, $O/hw/1x100g).
#
# Runs Yosys's generic `synth` flow with one change: memories stay memory
# cells ($mem_v2) instead of being expanded to flip-flops by memory_map, as an
# FPGA flow maps them to block RAM. (Expanding the 256 Kbit packet FIFO to
# flip-flops takes over six minutes and proves nothing more.) Fails on any
# Yosys warning or on `check -assert` problems. The cell report goes to
# $O/synth/$TOP.stat, the per-module table (hw/tools/synth_table.py) to
# $O/synth/$TOP.md.
#
# STAGE=coarse stops after the coarse half of `synth` (elaboration, processes
# to netlists, FSM and memory inference, word-level optimisation), then runs
# the same `hierarchy -check` and `check -assert`: that half is where RTL
# fails to synthesize; the fine half (gate mapping, ABC) maps any coarse
# netlist and takes most of the time (1 x 100G: 52 s of CPU against 417 s).
# `make test` runs this check; `make synth` the whole flow and the tables.
set -eu
O=${O:-build}
TOP=${TOP:-fcap_top}
HWDIR=${HWDIR:-$O/hw}
out=$O/synth
mkdir -p "$out"
dtb=$HWDIR/fcap.dtb
[ -f "$HWDIR/fcap_dt_rom_init.vh" ] || { echo "synth: build $HWDIR/fcap_dt_rom_init.vh first (make synth)" >&2; exit 1; }
STAGE=${STAGE:-full}
# run_yosys NAME: $out/NAME.ys, logged to $out/NAME.log; any warning fails.
run_yosys() {
    yosys -q -l "$out/$1.log" "$out/$1.ys" > /dev/null
    if grep -q -i '^warning' "$out/$1.log"; then
        grep -i '^warning' "$out/$1.log" >&2
        echo "synth: $TOP: yosys warnings (above)" >&2
        exit 1
    fi
}
read_rtl="read_verilog -Ihw/rtl -I$HWDIR -DFCAP_DT_EMBED $*
chparam -set DT_BYTES $(stat -c %s "$dtb") $TOP
synth -top $TOP -run begin:fine"
if [ "$STAGE" = coarse ]; then
    cat > "$out/$TOP.coarse.ys" <<YS
$read_rtl
hierarchy -check
check -assert
tee -o $out/$TOP.coarse.stat stat
YS
    run_yosys "$TOP.coarse"
    cells=$(awk '/=== design hierarchy ===/ {h=1} h && /Number of cells:/ {print $4; exit}' "$out/$TOP.coarse.stat")
    cpu=$(sed -n 's/.*CPU: user \([0-9.]*\)s.*/\1/p' "$out/$TOP.coarse.log" | tail -1)
    echo "synth-check: $TOP synthesizes to word-level cells cleanly: $cells cells, ${cpu:-?} s of CPU (the whole flow: make synth)"
    exit 0
fi
cat > "$out/$TOP.ys" <<YS
$read_rtl
opt -fast -full
opt -full
techmap
opt -fast
abc -fast
opt -fast
hierarchy -check
check -assert
tee -o $out/$TOP.stat stat
tee -q -o $out/$TOP.mem_list.txt select -list t:\$mem_v2
tee -q -o $out/$TOP.mems.il dump t:\$mem_v2
YS
run_yosys "$TOP"
cells=$(awk '/=== design hierarchy ===/ {h=1} h && /Number of cells:/ {print $4; exit}' "$out/$TOP.stat")
mems=$(awk '/=== design hierarchy ===/ {h=1} h && /\$mem_v2/ {print $2; exit}' "$out/$TOP.stat")
cpu=$(sed -n 's/.*CPU: user \([0-9.]*\)s.*/\1/p' "$out/$TOP.log" | tail -1)
hw/tools/synth_table.py "$out" "$TOP" > "$out/$TOP.md"
echo "synth: $TOP synthesized cleanly: $cells cells, ${mems:-0} memories, ${cpu:-?} s of CPU (report: $out/$TOP.stat, table: $out/$TOP.md)"
