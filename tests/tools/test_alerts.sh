#!/bin/sh
# test_alerts.sh - alerts analysts can verify, judged from outside
# (docs/ALERTS.md):
#   - fcap score --eve: every line is JSON with Suricata's alert fields and
#     fcap's evidence (python3's json, tests/tools/alerts_check.py); a flood
#     is one alert, not thousands;
#   - fcap alerts lists, filters and shows; unknown ids are clear errors;
#   - fcap extract --alert writes the very bytes the scorer read: identical
#     to tshark's extraction of the same frame numbers (pcap), and block for
#     block the stored EPBs of a store segment (pcapng); gone or changed
#     evidence files are clear errors; evidence segments are pinned;
#   - the verdict journal survives kill -9 at random points with every
#     committed verdict; torn and damaged lines are warned about and skipped;
#   - suppression rules from false-positive verdicts, scoped and expiring;
#   - feedback: the false positives of a replay, retrained on, fall by at
#     least half on the replay while every attack phase still alerts;
#   - fcap report renders in headless Chromium (non-blank, expected title).
#
# usage: test_alerts.sh FCAP OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
fcap=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
eval_dir=$here/../eval/data
judge() { python3 "$here/alerts_check.py" "$@"; }
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "test_alerts: a model (trained on the benign warm-up) and the alerts of the test run"
warm_end=$(sed -n 's/^# warm-up (benign only) from [0-9.]* to \([0-9.]*\)$/\1/p' "$eval_dir/train.labels")
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    -l "$eval_dir/train.labels" -o "$out/u.fcm" 2>"$out/train.err"
eq "fcap train exits 0" $? 0
"$fcap" score -m "$out/u.fcm" -l "$eval_dir/test.labels" -o "$out/test.csv" --eve "$out/a.eve" \
    "$eval_dir/test.pcap" 2>"$out/score.err"
eq "fcap score --eve exits 0" $? 0
contains "it says how many alerts" "$out/score.err" "alerts written to"
nalerts=$(judge validate "$out/a.eve" 2>"$out/validate.err")
check "every line is JSON with the EVE alert fields and fcap's evidence ($(cat "$out/validate.err"))" \
    test -n "$nalerts" -a ! -s "$out/validate.err"
check "the first line passes python3 -m json.tool" sh -c "head -1 '$out/a.eve' | python3 -m json.tool >/dev/null"
set -- $(judge flood "$out/a.eve" "$out/test.csv" synflood)
eq "the SYN flood (4000 packets) is one alert" "${1:-}" 1
eq "holding every packet of it" "${2:-}" 4000
check "alerts are few ($nalerts for $(awk -F, 'NR > 1 && $9 != "none"' "$out/test.csv" | wc -l) alerting packets)" \
    test "$nalerts" -le 50
"$fcap" score -q -m "$out/u.fcm" --eve "$out/a2.eve" "$eval_dir/test.pcap"
check "the same input gives the same alert file (stable ids)" cmp -s "$out/a.eve" "$out/a2.eve"
# The capture scores as it writes: a libpcap source written to a file keeps
# microseconds, which the scorer must take as such (it once read them as ns).
"$fcap" capture -q -r "$eval_dir/test.pcap" -w "$out/cap.pcap" -m "$out/u.fcm" --eve "$out/cap.eve" 2>"$out/cap.err"
eq "fcap capture -r FILE -w -m --eve exits 0" $? 0
summary() {
    python3 -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get('event_type') == 'alert':
        f = e['fcap']; v = f['evidence']
        print(f['key'], f['rule'], e['alert']['severity'], v['packet_count'], v['first_ts_ns'], v['last_ts_ns'])" "$1"
}
summary "$out/a.eve" > "$out/a.sum"
summary "$out/cap.eve" > "$out/cap.sum"
check "capture -w scores as fcap score does: the same alerts, packets and times ($(wc -l < "$out/cap.sum") alerts)" \
    cmp -s "$out/a.sum" "$out/cap.sum"

echo "test_alerts: fcap alerts"
"$fcap" alerts -a "$out/a.eve" >"$out/list" 2>"$out/list.err"
eq "list exits 0" $? 0
eq "one line per alert" "$(($(wc -l < "$out/list") - 1))" "$nalerts"
"$fcap" alerts -a "$out/a.eve" --severity 1 >"$out/sev1" 2>/dev/null
check "--severity 1 keeps only severity 1" sh -c "tail -n +2 '$out/sev1' | awk '\$3 != 1 { exit 1 }'"
want=$(python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('alert', {}).get('severity') == 1))" "$out/a.eve")
eq "and all of them" "$(($(wc -l < "$out/sev1") - 1))" "$want"
"$fcap" alerts -a "$out/a.eve" --host 10.77.0.66 >"$out/host" 2>/dev/null
want=$(python3 -c "import json,sys
print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)] if e['event_type'] == 'alert' and
          '10.77.0.66' in (e['src_ip'], e['dest_ip'], e['fcap']['key'])))" "$out/a.eve")
check "--host 10.77.0.66 lists the $want alerts involving it" \
    test "$want" -gt 0 -a "$(($(wc -l < "$out/host") - 1))" -eq "$want"
big=$(python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
a = [e for e in a if e['event_type'] == 'alert']
print(max(a, key=lambda e: e['fcap']['evidence']['packet_count'])['fcap']['alert_id'])" "$out/a.eve")
"$fcap" alerts -a "$out/a.eve" show "$big" >"$out/show" 2>&1
eq "show exits 0" $? 0
contains "show gives the extraction command" "$out/show" "fcap extract --alert $big"
contains "and the drivers" "$out/show" "feature groups:"
"$fcap" alerts -a "$out/a.eve" --json show "$big" >"$out/show.json"
check "show --json is the EVE line" sh -c "python3 -m json.tool '$out/show.json' >/dev/null && grep -qF '$big' '$out/show.json'"
"$fcap" alerts -a "$out/a.eve" show 0123456789abcdef >/dev/null 2>"$out/unknown.err"
eq "an unknown id exits 1" $? 1
contains "saying so" "$out/unknown.err" "no alert with id 0123456789abcdef"
printf '{"event_type":"alert",\n' > "$out/bad.eve"
"$fcap" alerts -a "$out/bad.eve" >/dev/null 2>"$out/bad.err"
eq "a malformed alert file exits 1" $? 1
contains "naming line and offset" "$out/bad.err" "bad.eve: line 1 (offset 0): not JSON"

echo "test_alerts: fcap extract --alert (pcap input)"
for id in "$big" $(tail -n +2 "$out/list" | awk '$8 < 10 { print $1; exit }'); do
    "$fcap" extract -q --alert "$id" -a "$out/a.eve" -w "$out/$id.pcap"
    eq "alert $id: extract exits 0" $? 0
    tshark -r "$eval_dir/test.pcap" -Y "frame.number in {$(judge packets "$out/a.eve" "$id")}" -F pcap \
        -w "$out/$id.tshark.pcap" 2>/dev/null
    check "alert $id: byte-identical to tshark's extraction of its frame numbers" \
        cmp "$out/$id.pcap" "$out/$id.tshark.pcap"
    eq "alert $id: capinfos counts its packets" "$(packets "$out/$id.pcap")" \
        "$(python3 -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['event_type'] == 'alert' and e['fcap']['alert_id'] == sys.argv[2]: print(e['fcap']['evidence']['listed'])" \
        "$out/a.eve" "$id")"
done
"$fcap" extract --alert nosuchalert -a "$out/a.eve" -w "$out/none.pcap" 2>"$out/none.err"
eq "an unknown alert exits 1" $? 1
check "and leaves no output file" test ! -e "$out/none.pcap"
cp "$eval_dir/test.pcap" "$out/gone.pcap"
"$fcap" score -q -m "$out/u.fcm" --eve "$out/gone.eve" "$out/gone.pcap"
gid=$(python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][0]['fcap']['alert_id'])" "$out/gone.eve")
truncate -s 20000 "$out/gone.pcap"
"$fcap" extract -q --alert "$big" -a "$out/a.eve" -w "$out/ok.pcap"; eq "(a good one still works)" $? 0
"$fcap" extract --alert "$(python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
print(max((e for e in a if e['event_type'] == 'alert'), key=lambda e: e['fcap']['evidence']['first_ts_ns'])['fcap']['alert_id'])" \
    "$out/gone.eve")" -a "$out/gone.eve" -w "$out/cut.pcap" 2>"$out/cut.err"
eq "evidence past the end of a cut file exits 1" $? 1
contains "saying where" "$out/cut.err" "runs past the end of the file (20000 bytes)"
cp "$eval_dir/train.pcap" "$out/gone.pcap"
"$fcap" extract --alert "$gid" -a "$out/gone.eve" -w "$out/other.pcap" 2>"$out/other.err"
eq "an evidence file replaced by another capture exits 1" $? 1
contains "saying it changed" "$out/other.err" "changed since it was scored"
rm "$out/gone.pcap"
"$fcap" extract --alert "$gid" -a "$out/gone.eve" -w "$out/gone.out" 2>"$out/gone.err"
eq "a removed evidence file exits 1" $? 1
contains "naming it" "$out/gone.err" "gone.pcap: No such file or directory (removed, perhaps by the store's retention)"

echo "test_alerts: fcap capture --store --eve: evidence in segments (pcapng), pinned"
st=$out/store
"$fcap" capture -q -i sim -r "$eval_dir/test.pcap" --store "$st" --block-size 64K -C 1M -m "$out/u.fcm" \
    --eve "$out/cap.eve" 2>"$out/cap.err"
eq "capture with --eve exits 0" $? 0
check "its alert file is valid" sh -c "python3 '$here/alerts_check.py' validate '$out/cap.eve' >/dev/null"
check "its stats event counts drops by stage" sh -c "tail -1 '$out/cap.eve' | grep -q '\"drops\":{\"card_fifo\":0'"
segs=$(python3 -c "
import json, sys
print(len({json.loads(l)['fcap']['evidence']['files'][0]['path'] for l in open(sys.argv[1]) if json.loads(l)['event_type'] == 'alert'}))" \
    "$out/cap.eve")
eq "every segment holding evidence is pinned" "$(ls "$st"/*.pin 2>/dev/null | wc -l)" "$segs"
cid=$(python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
print(max((e for e in a if e['event_type'] == 'alert'), key=lambda e: e['fcap']['evidence']['packet_count'])['fcap']['alert_id'])" \
    "$out/cap.eve")
cseg=$(python3 -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['event_type'] == 'alert' and e['fcap']['alert_id'] == sys.argv[2]: print(e['fcap']['evidence']['files'][0]['path'])" \
    "$out/cap.eve" "$cid")
"$fcap" extract -q --alert "$cid" -a "$out/cap.eve" -w "$out/c.pcapng"
eq "extract from a segment exits 0" $? 0
r=$(judge blocks "$cseg" "$out/c.pcapng" "$out/cap.eve" "$cid" 2>&1)
check "its packet blocks are the segment's, byte for byte ($r)" test "${r%% *}" = identical
nums=$(judge packets "$out/cap.eve" "$cid")
tshark -r "$cseg" -Y "frame.number in {$nums}" -T fields -e frame.time_epoch -e frame.len -e frame.cap_len \
    -e frame.interface_id > "$out/c.want" 2>/dev/null
tshark -r "$out/c.pcapng" -T fields -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_id \
    > "$out/c.got" 2>/dev/null
check "tshark reads the same frames from it as those frames of the segment ($(wc -l < "$out/c.got"))" \
    sh -c "test -s '$out/c.got' && cmp -s '$out/c.want' '$out/c.got'"
# a verdict on every alert of one segment releases its pin
pseg=$(basename "$cseg" .pcapng)
for id in $(python3 -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['event_type'] == 'alert' and e['fcap']['evidence']['files'][0]['path'] == sys.argv[2]: print(e['fcap']['alert_id'])" \
    "$out/cap.eve" "$cseg"); do
    check "segment $pseg still pinned while alert $id is open" test -e "$st/$pseg.pin"
    "$fcap" feedback -q -a "$out/cap.eve" "$id" --true-positive
done
check "the last verdict unpins it" test ! -e "$st/$pseg.pin"
eq "the other segments stay pinned" "$(ls "$st"/*.pin 2>/dev/null | wc -l)" "$((segs - 1))"

echo "test_alerts: the verdict journal"
j=$out/a.eve.verdicts
"$fcap" feedback -a "$out/a.eve" 0123456789abcdef --false-positive 2>"$out/fb.err"
eq "feedback on an unknown alert exits 1" $? 1
contains "nothing recorded" "$out/fb.err" "nothing recorded"
check "and writes no journal" test ! -e "$j"
"$fcap" feedback -a "$out/a.eve" "$big" --true-positive --note 'seen, "quoted", 100% sure' 2>"$out/fb1.err"
eq "a true-positive verdict exits 0" $? 0
"$fcap" alerts -a "$out/a.eve" --verdict tp >"$out/tp" 2>/dev/null
check "--verdict tp lists it alone" sh -c "test \$(wc -l < '$out/tp') -eq 2 && grep -q '^$big ' '$out/tp'"
"$fcap" alerts -a "$out/a.eve" --open >"$out/open" 2>/dev/null
eq "--open lists the others" "$(($(wc -l < "$out/open") - 1))" "$((nalerts - 1))"
"$fcap" alerts -a "$out/a.eve" show "$big" >"$out/show2"
contains "show gives the verdict and the note intact" "$out/show2" 'true positive (journal '"$j"'): seen, "quoted", 100% sure'
# kill -9 at random points while verdicts are being written: every verdict
# whose command reported success is in the journal afterwards.
k=$out/kill
mkdir -p "$k"
: > "$k/committed"
i=0
for round in 1 2 3 4 5; do
    ( while :; do i=$((i + 1))
        "$fcap" feedback -q -j "$k/journal" -a "$out/a.eve" "$big" --false-positive --note "r$round-$i" 2>/dev/null &&
            echo "r$round-$i" >> "$k/committed"
      done ) &
    loop=$!
    sleep "0.$(od -A n -N 1 -t u1 /dev/urandom | awk '{ printf "%d", 3 + $1 % 7 }')"
    pkill -9 -P "$loop" 2>/dev/null
    kill -9 "$loop" 2>/dev/null
    wait "$loop" 2>/dev/null
    pkill -9 -P "$loop" 2>/dev/null
done
sleep 0.2
ncommitted=$(wc -l < "$k/committed")
missing=0
while read -r note; do grep -q " $note " "$k/journal" || missing=$((missing + 1)); done < "$k/committed"
check "after 5 kill -9: $ncommitted committed verdicts, every one in the journal" \
    test "$ncommitted" -gt 5 -a "$missing" -eq 0
"$fcap" alerts -a "$out/a.eve" -j "$k/journal" >/dev/null 2>"$k/read.err"
eq "the journal reads back" $? 0
# a torn last line (a write cut short), then a damaged line in the middle
printf 'fcap-verdict-1 1796000000000000000 %s fp host 10.0.0.9 0 /x -' "$big" >> "$k/journal"
lines=$(grep -c . "$k/journal")
"$fcap" alerts -a "$out/a.eve" -j "$k/journal" >/dev/null 2>"$k/torn.err"
eq "a torn last line: alerts still exits 0" $? 0
contains "with a warning naming it" "$k/torn.err" "line $lines (offset"
contains "as torn" "$k/torn.err" "torn last line"
"$fcap" feedback -a "$out/a.eve" -j "$k/journal" "$big" --false-positive --note after-torn 2>"$k/cut.err"
eq "the next verdict is committed" $? 0
contains "cutting the torn line" "$k/cut.err" "cut a torn last line"
check "the journal ends with it" sh -c "tail -1 '$k/journal' | grep -q ' after-torn '"
sed -i '2s/ fp / tp /' "$k/journal"
"$fcap" alerts -a "$out/a.eve" -j "$k/journal" show "$big" >"$k/dmg.out" 2>"$k/dmg.err"
eq "a damaged line: show still exits 0" $? 0
contains "with a warning naming line 2" "$k/dmg.err" "line 2 (offset"
contains "and why" "$k/dmg.err" "checksum mismatch"
contains "the latest sound verdict still counts" "$k/dmg.out" "after-torn"

echo "test_alerts: suppression rules"
rm -f "$j"
set -- $(judge judge "$out/a.eve" "$out/test.csv" "$out/fps")
before_alerts=$1 before_fp=$2
echo "  replay 1: $before_alerts alerts, $before_fp false positives ($3 $4 $5 $6 $7)"
check "the replay has false positives to work on" test "$before_fp" -ge 2
fp1=$(head -1 "$out/fps")
host1=$(python3 -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['event_type'] == 'alert' and e['fcap']['alert_id'] == sys.argv[2]: print(e['fcap']['key'])" "$out/a.eve" "$fp1")
"$fcap" feedback -q -j "$out/s.journal" -a "$out/a.eve" "$fp1" --false-positive --scope host
"$fcap" score -m "$out/u.fcm" --eve "$out/s.eve" --journal "$out/s.journal" "$eval_dir/test.pcap" 2>"$out/s.err"
contains "a host-scoped rule suppresses" "$out/s.err" "suppressed by verdicts"
check "the alerts grouped on $host1" sh -c "! grep -q '\"key\":\"$host1\"' '$out/s.eve'"
check "and no other" test "$(judge validate "$out/s.eve")" -eq \
    "$((nalerts - $(grep -c "\"key\":\"$host1\"" "$out/a.eve")))"
"$fcap" capture -r "$eval_dir/test.pcap" -w "$out/sc.pcap" -m "$out/u.fcm" --eve "$out/sc.eve" \
    --journal "$out/s.journal" 2>"$out/sc.err"
eq "fcap capture --journal exits 0" $? 0
summary "$out/s.eve" > "$out/s.sum"
summary "$out/sc.eve" > "$out/sc.sum"
check "capture --journal suppresses as score --journal does ($(wc -l < "$out/sc.sum") alerts left)" \
    cmp -s "$out/s.sum" "$out/sc.sum"
contains "and says how many it suppressed" "$out/sc.err" "suppressed by verdicts"
check "fewer than without the journal" test "$(wc -l < "$out/sc.sum")" -lt "$(wc -l < "$out/cap.sum")"
"$fcap" capture -q -r "$eval_dir/test.pcap" -w "$out/sc.pcap" -m "$out/u.fcm" --journal "$out/s.journal" \
    2>"$out/scj.err"
eq "capture --journal without --eve: exit status" $? 2
"$fcap" feedback -q -j "$out/x.journal" -a "$out/a.eve" "$fp1" --false-positive --expire 1s
sleep 2
"$fcap" score -q -m "$out/u.fcm" --eve "$out/x.eve" --journal "$out/x.journal" "$eval_dir/test.pcap"
check "an expired rule suppresses nothing" cmp -s "$out/x.eve" "$out/a.eve"

echo "test_alerts: feedback, retraining, the replay again"
while read -r id; do
    "$fcap" feedback -q -a "$out/a.eve" "$id" --false-positive --note "benign by the labels"
done < "$out/fps"
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    -l "$eval_dir/train.labels" --feedback "$j" -o "$out/f.fcm" 2>"$out/trainf.err"
eq "fcap train --feedback exits 0" $? 0
"$fcap" score -q -m "$out/f.fcm" -l "$eval_dir/test.labels" -o "$out/test2.csv" --eve "$out/b.eve" \
    "$eval_dir/test.pcap"
set -- $(judge judge "$out/b.eve" "$out/test2.csv")
after_alerts=$1 after_fp=$2
echo "  replay 2: $after_alerts alerts, $after_fp false positives ($3 $4 $5 $6 $7)"
check "false positives at least halved: $before_fp -> $after_fp" test $((after_fp * 2)) -le "$before_fp"
for kind in scan synflood bruteforce udpflood arpspoof; do
    check "attack phase $kind still raises an alert" sh -c "echo '$*' | grep -q ' $kind='"
done
bad=$out/badj
printf 'garbage\n' > "$bad"
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    --feedback "$bad" -o "$out/g.fcm" 2>"$out/trainbad.err"
eq "a journal of garbage trains with a warning" $? 0
contains "naming the line" "$out/trainbad.err" "badj: line 1 (offset 0): no checksum: skipped"

echo "test_alerts: fcap report, rendered by headless Chromium"
"$fcap" report -a "$out/a.eve" -o "$out/report.html" 2>"$out/report.err"
eq "fcap report exits 0" $? 0
check "self-contained: no network resource" sh -c "! grep -qiE '(src|href)=\"(https?:)?//' '$out/report.html'"
export HOME=$out   # chromium keeps a profile there
timeout 120 chromium --headless --no-sandbox --disable-gpu --screenshot="$out/report.png" --window-size=1200,2000 \
    "file://$out/report.html" >"$out/chromium.log" 2>&1
eq "chromium renders it" $? 0
set -- $(judge png "$out/report.png")
check "the screenshot is not blank ($1 of $2 pixels not white)" test "${1:-0}" -gt 20000
timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$out/report.html" \
    >"$out/report.dom" 2>/dev/null
contains "the title as expected" "$out/report.dom" "<title>fcap alert report: a.eve</title>"
check "a card per alert" test "$(grep -o 'class="card sev' "$out/report.dom" | wc -l)" -eq "$nalerts"
check "the timeline drawn" grep -q '<polyline' "$out/report.dom"
finish
