#!/bin/sh
# seeds.sh - builds the seed corpora of the fuzz targets from real files.
#
# usage: seeds.sh FCAP DTB OUTDIR
#   FCAP    the fcap binary (records a store and trains a model for seeds)
#   DTB     the card's device tree blob
#   OUTDIR  gets one directory per target
# Reads the bundled captures from $FCAP_DATA (../shared/data). Seeds are
# kept small (heads of files, short captures) so that mutations stay fast.
set -eu
FCAP=$1 DTB=$2 OUT=$3
DATA=${FCAP_DATA:?FCAP_DATA must name the bundled captures}
tmp=$OUT/.work
rm -rf "$OUT"
mkdir -p "$tmp" "$OUT/pcap_reader" "$OUT/replay" "$OUT/block" "$OUT/segment" "$OUT/index" \
    "$OUT/model" "$OUT/dt" "$OUT/journal" "$OUT/json" "$OUT/spool"

# Capture files: pcapng heads as they are, and pcap in both timestamp
# resolutions (the formats replay and the scorer's reader accept).
for f in icmp_traceroute http_post dns_isp_hijack arppoison synscan; do
    head -c 8192 "$DATA/$f.pcapng" > "$OUT/pcap_reader/$f.pcapng"
    tcpdump -r "$DATA/$f.pcapng" -w "$tmp/$f.pcap" -c 12 2>/dev/null
    editcap -F nsecpcap "$tmp/$f.pcap" "$OUT/pcap_reader/$f.ns.pcap"
    cp "$tmp/$f.pcap" "$OUT/pcap_reader/$f.pcap"
done
head -c 8192 "$DATA/amp.UDP.isakmp.pcap" > "$OUT/pcap_reader/isakmp.pcap"
cp "$OUT/pcap_reader/"* "$OUT/replay/"

# A store recorded through the simulated card: segments and their indexes.
"$FCAP" capture -q -i sim -r "$DATA/icmp_traceroute.pcapng" -r "1:$DATA/http_post.pcapng" \
    -r "2:$DATA/dns_isp_hijack.pcapng" --store "$tmp/st" --block-size 64K --block-timeout 20us \
    2>"$tmp/capture.err" || { cat "$tmp/capture.err"; exit 1; }
n=0
for seg in "$tmp"/st/*.pcapng; do
    n=$((n + 1))
    cp "$seg" "$OUT/segment/seg$n.pcapng"
    cp "${seg%.pcapng}.idx" "$OUT/index/seg$n.idx"
done
[ "$n" -gt 0 ] || { echo "seeds.sh: the capture stored no segment" >&2; exit 1; }

# Ring blocks: each stored block of the segments, prefixed by the port
# count byte the target reads first (4 ports: 3 in the low bits).
python3 - "$OUT/segment" "$OUT/block" <<'PY'
# Each block twice: as stored in the file (cut after its records,
# docs/FORMAT.md section 4) and as it lay in the ring (its padding block
# grown back to the full block size).
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
HDR = 0x8FCA0001
def stored_len(used, size):
    if used >= size:
        return size
    end = (used + 4095) & ~4095
    if end != used and end - used < 16:
        end += 4096
    return min(end, size)
k = 0
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), 'rb').read()
    for o in range(0, len(data) - 64, 4096):
        if struct.unpack_from('<I', data, o)[0] != HDR:
            continue
        used, size = struct.unpack_from('<I', data, o + 16)[0], struct.unpack_from('<I', data, o + 48)[0]
        blk = data[o:o + stored_len(used, size)]
        pad_type = struct.unpack_from('<I', blk, used)[0]
        live = blk[:used] + struct.pack('<II', pad_type, size - used) + bytes(size - used - 12) \
            + struct.pack('<I', size - used)
        k += 1
        open(os.path.join(dst, 'stored%d' % k), 'wb').write(bytes([3]) + blk)
        open(os.path.join(dst, 'live%d' % k), 'wb').write(bytes([3]) + live)
if k == 0:
    sys.exit('seeds.sh: no ring block found in the segments')
PY

"$FCAP" train -q -r "$DATA/http_post.pcapng" -r "$DATA/icmp_traceroute.pcapng" --epochs 1 \
    --table-entries 1024 -o "$OUT/model/small.fcm"
cp "$DTB" "$OUT/dt/card.dtb"

# Alerts of that model on a scan (EVE JSON: each line alone, and the
# file), and a verdict journal of two verdicts on the first alert.
"$FCAP" score -q -m "$OUT/model/small.fcm" --eve "$tmp/alerts.json" "$DATA/synscan.pcapng" > /dev/null
cp "$tmp/alerts.json" "$OUT/json/alerts.json"
split -l 1 -a 3 "$tmp/alerts.json" "$OUT/json/line-"
id=$(sed -n 's/.*"alert_id":"\([0-9a-f]*\)".*/\1/p' "$tmp/alerts.json" | head -1)
[ -n "$id" ] || { echo "seeds.sh: the scan raised no alert" >&2; exit 1; }
"$FCAP" feedback -q -a "$tmp/alerts.json" -j "$OUT/journal/j.verdicts" "$id" --false-positive --note seed \
    2> /dev/null
"$FCAP" feedback -q -a "$tmp/alerts.json" -j "$OUT/journal/j.verdicts" "$id" --true-positive \
    --note 'a "quoted" note' 2> /dev/null
# A fleet spool (no cluster: nothing is sent): the alerts' lines, then the
# first ones as flows (a second run: a second segment); one segment cut
# short, as a crash leaves it.
head -n 8 "$tmp/alerts.json" | "$FCAP" fleet publish -q -s nats://127.0.0.1:1 --sensor seed --spool "$tmp/spool" \
    --drain-timeout 0 2> /dev/null || true
head -n 3 "$tmp/alerts.json" | "$FCAP" fleet publish -q -s nats://127.0.0.1:1 --sensor seed --spool "$tmp/spool" \
    --kind flow --drain-timeout 0 2> /dev/null || true
n=0
for seg in "$tmp"/spool/*.seg; do
    n=$((n + 1))
    cp "$seg" "$OUT/spool/seg$n"
done
[ "$n" -eq 2 ] || { echo "seeds.sh: the spool holds $n segments, not 2" >&2; exit 1; }
head -c $(($(wc -c < "$OUT/spool/seg1") - 40)) "$OUT/spool/seg1" > "$OUT/spool/cut"
rm -rf "$tmp"
for d in "$OUT"/*; do
    echo "seeds: $(basename "$d"): $(ls "$d" | wc -l) files"
done
