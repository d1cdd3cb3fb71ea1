#!/bin/sh
# demo.sh FCAP OUTDIR - the main job on the simulated card with bundled data.
#
# 1. The card: ordinary web browsing followed by an nmap SYN scan replayed
#    through the simulated card at 10 Gb/s, recorded to a pcapng file that
#    capinfos and tshark then describe.
# 2. The analyst's loop on the bundled evaluation day (tests/eval/data): a
#    model trained on benign traffic, the day recorded into an indexed store
#    and scored as it is written, the alerts, the packets behind the largest
#    one taken from the store, a false positive marked, the next capture
#    honouring that verdict, and the HTML report.
set -eu
fcap=$1 out=$2
data=${FCAP_DATA:-../shared/data}
eval_dir=$(dirname "$0")/../eval/data
[ -d "$data" ] || { echo "demo: $data is missing (the bundled captures)" >&2; exit 1; }
rm -rf "$out"
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

echo
echo "== fcap train: an autoencoder ensemble on the benign warm-up of the evaluation set's training day"
warm_end=$(sed -n 's/^# warm-up (benign only) from [0-9.]* to \([0-9.]*\)$/\1/p' "$eval_dir/train.labels")
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    -l "$eval_dir/train.labels" -o "$out/model.fcm"
echo "   $out/model.fcm"
echo
echo "== fcap capture: the evaluation day (189 s: browsing, DNS, a SYN scan, a flood, ...) into a store,"
echo "   scored as it is written. Read through libpcap with its own timestamps: the simulated card"
echo "   replays at line rate, which would squeeze the day into milliseconds and the flow features with it."
"$fcap" capture -r "$eval_dir/test.pcap" --store "$out/store" -m "$out/model.fcm" --eve "$out/alerts.eve" 2>&1 |
    sed 's/^/   /'
echo
echo "== fcap alerts -a $out/alerts.eve"
"$fcap" alerts -a "$out/alerts.eve" 2>/dev/null > "$out/alerts.txt"
sed 's/^/   /' "$out/alerts.txt"
top=$(awk 'NR > 1 { print $9, $1 }' "$out/alerts.txt" | sort -n | tail -1 | cut -d' ' -f2)
echo
echo "== fcap extract --alert $top: the packets the scorer read for the largest alert, from the store"
"$fcap" extract -a "$out/alerts.eve" --alert "$top" -w "$out/alert.pcapng" 2>&1 | sed 's/^/   /'
tshark -r "$out/alert.pcapng" -c 5 2>/dev/null | sed 's/^/   /'
echo
fp=$(awk 'NR > 1 && $8 ~ /^ff02:/ { print $1; exit }' "$out/alerts.txt")
[ -n "$fp" ] || fp=$(awk 'NR > 1 { print $10, $1 }' "$out/alerts.txt" | sort -n | head -1 | cut -d' ' -f2)
echo "== fcap feedback: an analyst marks alert $fp a false positive (routine chatter)"
"$fcap" feedback -a "$out/alerts.eve" "$fp" --false-positive --note "routine IPv6 multicast" 2>&1 | sed 's/^/   /'
echo
echo "== the next capture of the same day honours the verdict (--journal)"
"$fcap" capture -r "$eval_dir/test.pcap" --store "$out/store2" -m "$out/model.fcm" --eve "$out/alerts2.eve" \
    --journal "$out/alerts.eve.verdicts" 2>&1 | grep -E '^  (scored|alerts)' | sed 's/^/   /'
echo
"$fcap" report -a "$out/alerts.eve" -o "$out/report.html"
echo "== fcap report: $out/report.html (one self-contained page: alerts, timeline, verdicts)"
