#!/bin/sh
# demo.sh FCAP OUTDIR - the main job on the simulated card with bundled data.
#
# Replays ordinary web browsing followed by an nmap SYN scan through the
# simulated card at 10 Gb/s, records them to a pcapng file, and lets capinfos
# and tshark say what is in it.
set -eu
fcap=$1 out=$2
data=${FCAP_DATA:-../shared/data}
[ -d "$data" ] || { echo "demo: $data is missing (the bundled captures)" >&2; exit 1; }
mkdir -p "$out"
file=$out/demo.pcapng
echo "== fcap capture: web browsing + SYN scan through the simulated card at 10 Gb/s"
echo "   $fcap capture -i sim -r http_espn.pcapng -r synscan.pcapng --rate 10G -w $file"
"$fcap" capture -i sim -r "$data/http_espn.pcapng" -r "$data/synscan.pcapng" --rate 10G -w "$file"
echo
echo "== capinfos $file"
capinfos -t -E -c -d -u -a -e -y -i -z -x -M "$file" | sed 's/^/   /'
echo
echo "== tshark: first packets and the protocol mix"
tshark -r "$file" -c 5 2>/dev/null | sed 's/^/   /'
tshark -r "$file" -q -z io,phs 2>/dev/null | sed -n '/eth/,/====/p' | head -12 | sed 's/^/   /'
