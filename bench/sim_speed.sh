#!/bin/sh
# sim_speed.sh BENCH_CAPTURE BENCH_SIM_FLOOR OUTDIR - the simulator-speed goal
# of the 4 x 10G card (2 million 64-byte frames per wall second, single
# threaded) against its floor.
#
# The card: bench_capture, 4 x 10G on Gen3 x8, 64-byte frames at line rate
# on every port, its sim_fps. The floor (bench/sim_floor): the least a card
# meeting the issue must simulate (four MAC clock domains, four async FIFOs
# into the core clock, nothing else) in the same harness, same clocks, same
# traffic. The two run alternately, 1 ms of simulated traffic each, best of
# 3. Writes OUTDIR/sim_speed.json too.
set -eu
card=$1 floor=$2 out=$3
goal=2000000
us=${FCAP_SIM_SPEED_US:-1000}
mkdir -p "$out/sim_speed"
best_card=0 best_floor=0
for _ in 1 2 3; do
    "$card" --config 4x10g --bus gen3x8 --sizes 64 --us "$us" "$out/sim_speed" > /dev/null
    f=$(sed -n 's/.*"sim_fps": \([0-9]*\).*/\1/p' "$out/sim_speed/capture.json")
    [ -n "$f" ] || { echo "sim_speed: no sim_fps in $out/sim_speed/capture.json" >&2; exit 1; }
    [ "$f" -gt "$best_card" ] && best_card=$f
    f=$("$floor" "$us" | sed -n 's/.* \([0-9]*\) frames per wall second.*/\1/p')
    [ -n "$f" ] || { echo "sim_speed: bench_sim_floor printed no speed" >&2; exit 1; }
    [ "$f" -gt "$best_floor" ] && best_floor=$f
done
row() { awk -v n="$1" -v f="$2" -v g="$goal" -v c="$3" \
    'BEGIN { printf "%-44s %12d %9.1f%% %14s\n", n, f, 100 * f / g, c }'; }
echo "simulator speed, 4 x 10G, 64-byte frames at line rate on every port, $us us simulated, best of 3"
printf '%-44s %12s %10s %14s\n' model "frames/s" "of goal" "card / floor"
row "card (fcap_top, Gen3 x8 link and host model)" "$best_card" \
    "$(awk -v a="$best_card" -v b="$best_floor" 'BEGIN { printf "%.3f", a / b }')"
row "floor (4 MAC domains + 4 async FIFOs only)" "$best_floor" "1.000"
printf '%-44s %12d\n' "goal" "$goal"
printf '{"config": "4x10g", "bus": "gen3x8", "frame_size": 64, "us": %s, "card_sim_fps": %s, "floor_sim_fps": %s, "goal_sim_fps": %s}\n' \
    "$us" "$best_card" "$best_floor" "$goal" > "$out/sim_speed.json"
echo "(written to $out/sim_speed.json; docs/DATAPATH.md \"Simulator speed\" explains the floor)"
