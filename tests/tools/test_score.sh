#!/bin/sh
# test_score.sh - fcap train and fcap score, judged from outside:
#   - command-line errors exit 2, runtime errors exit 1 with file and offset;
#   - the score stream has one line per packet (capinfos counts them) and
#     each line's packet number and timestamp match tshark's for that frame;
#   - the same training twice writes the same model file, byte for byte;
#   - detection: trained on the benign warm-up of the evaluation train run,
#     on the separate test run the scan and SYN-flood phases score above the
#     threshold while at least 99% of the held-back benign packets do not
#     (benign packets sent during an attack are reported and bounded apart);
#   - fcap capture --model writes the same stream as fcap score on its file.
#
# usage: test_score.sh FCAP OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
fcap=$1
out=$2
eval_dir=$(dirname "$0")/../eval/data
rm -rf "$out"
mkdir -p "$out"

echo "test_score: command line"
"$fcap" score "$eval_dir/test.pcap" >/dev/null 2>"$out/e1"; eq "score without a model exits 2" $? 2
"$fcap" train -r "$eval_dir/train.pcap" >/dev/null 2>"$out/e2"; eq "train without -o exits 2" $? 2
"$fcap" train -o "$out/x.fcm" -l "$eval_dir/train.labels" >/dev/null 2>"$out/e3"; eq "labels before any -r exits 2" $? 2
contains "the message says why" "$out/e3" "must follow the -r FILE"

echo "test_score: training on the benign warm-up (the evaluation train run)"
warm_end=$(sed -n 's/^# warm-up (benign only) from [0-9.]* to \([0-9.]*\)$/\1/p' "$eval_dir/train.labels")
check "the train labels say where the warm-up ends" test -n "$warm_end"
t0=$(date +%s)
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    -l "$eval_dir/train.labels" -o "$out/u.fcm" 2>"$out/train.err"
eq "fcap train exits 0" $? 0
echo "  (training took $(( $(date +%s) - t0 )) s under the sanitizers)"
"$fcap" train -q --seed 3 --unsupervised --train-until "$warm_end" -r "$eval_dir/train.pcap" \
    -l "$eval_dir/train.labels" -o "$out/u2.fcm" 2>>"$out/train.err"
check "same inputs and seed: identical model files" cmp -s "$out/u.fcm" "$out/u2.fcm"

echo "test_score: scoring the separate test run"
"$fcap" score -m "$out/u.fcm" -l "$eval_dir/test.labels" -o "$out/test.csv" "$eval_dir/test.pcap" 2>"$out/score.err"
eq "fcap score exits 0" $? 0
n=$(packets "$eval_dir/test.pcap")
eq "one line per packet (capinfos' count)" "$(($(wc -l < "$out/test.csv") - 1))" "$n"
contains "header" "$out/test.csv" "file,offset,packet,ts_ns,flow,anomaly,classifier,hybrid,alert,label"
# packet numbers and timestamps against tshark for a sample of lines
for k in 1 2 777 $((n / 2)) "$n"; do
    line=$(awk -F, -v k="$k" '$3 == k' "$out/test.csv")
    ts=$(echo "$line" | cut -d, -f4)
    want=$(tshark -r "$eval_dir/test.pcap" -Y "frame.number == $k" -T fields -e frame.time_epoch 2>/dev/null |
        awk '{ split($1, a, "."); printf "%s%s", a[1], substr(a[2] "000000000", 1, 9) }')
    eq "packet $k: timestamp as tshark reads it" "$ts" "$want"
done
# the offset of packet k is where its pcap record header is: caplen there equals tshark's
k=$((n / 3))
off=$(awk -F, -v k="$k" '$3 == k { print $2 }' "$out/test.csv")
caplen=$(od -A n -t u4 -j $((off + 8)) -N 4 "$eval_dir/test.pcap" | tr -d ' ')
want=$(tshark -r "$eval_dir/test.pcap" -Y "frame.number == $k" -T fields -e frame.cap_len 2>/dev/null)
eq "packet $k: its offset holds its record (captured length)" "$caplen" "$want"

echo "test_score: detection (threshold set for 0.1% false positives on held-out warm-up packets)"
# Benign packets sent while an attack runs (or within 2 s after) share the
# victim's host state with it; they are counted apart ("benign-during").
awk -F, 'NR == FNR { if ($1 == "time") { s[++w] = $2 * 1e9; e[w] = $3 * 1e9 + 2e9 } next }
    FNR > 1 { k = $10
        if (k == "benign") for (i = 1; i <= w; i++) if ($4 >= s[i] && $4 <= e[i]) { k = "benign-during"; break }
        n[k]++; if ($9 != "none") a[k]++ }
    END { for (k in n) printf "%s %d %d\n", k, a[k] + 0, n[k] }' FS=' ' "$eval_dir/test.labels" FS=, "$out/test.csv" |
    sort > "$out/rates"
sed 's/^/  alerted by kind: /' "$out/rates"
rate() { awk -v k="$1" '$1 == k { printf "%d", 1000 * $2 / $3 }' "$out/rates"; }
check "scan phase: at least 90% of its packets over the threshold ($(rate scan)/1000)" test "$(rate scan)" -ge 900
check "SYN flood phase: at least 90% over the threshold ($(rate synflood)/1000)" test "$(rate synflood)" -ge 900
check "held-back benign: at most 1% over the threshold ($(rate benign)/1000)" test "$(rate benign)" -le 10
check "benign during attacks: at most 20% over the threshold ($(rate benign-during)/1000)" \
    test "$(rate benign-during)" -le 200

echo "test_score: bad input"
head -c 100000 "$eval_dir/test.pcap" > "$out/cut.pcap"
"$fcap" score -q -m "$out/u.fcm" -o "$out/cut.csv" "$out/cut.pcap" 2>"$out/cut.err"
eq "a truncated capture exits 1" $? 1
contains "and names the file and offset" "$out/cut.err" "cut.pcap: offset"
check "the packets before the damage are scored" test "$(wc -l < "$out/cut.csv")" -gt 100
cp "$out/u.fcm" "$out/bad.fcm"
printf 'XX' | dd of="$out/bad.fcm" bs=1 seek=500 conv=notrunc 2>/dev/null
"$fcap" score -q -m "$out/bad.fcm" "$eval_dir/test.pcap" >/dev/null 2>"$out/bad.err"
eq "a corrupt model exits 1" $? 1
contains "with the checksum named" "$out/bad.err" "bad.fcm: offset 24: checksum"
head -c 300 "$out/u.fcm" > "$out/short.fcm"
"$fcap" score -q -m "$out/short.fcm" "$eval_dir/test.pcap" >/dev/null 2>"$out/short.err"
eq "a truncated model exits 1" $? 1
contains "saying so" "$out/short.err" "short.fcm: offset 16: file says"

echo "test_score: fcap capture --model"
"$fcap" capture -i sim -q -r "$eval_dir/test.pcap" -w "$out/cap.pcapng" -m "$out/u.fcm" --scores "$out/cap.csv" 2>"$out/cap.err"
eq "capture with a model exits 0" $? 0
"$fcap" score -q -m "$out/u.fcm" -o "$out/rescore.csv" "$out/cap.pcapng"
eq "every captured frame scored" "$(($(wc -l < "$out/cap.csv") - 1))" "$(packets "$out/cap.pcapng")"
check "the capture's stream equals fcap score on the written file" cmp -s "$out/cap.csv" "$out/rescore.csv"
finish
