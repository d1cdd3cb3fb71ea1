#!/usr/bin/env python3
"""alerts_check.py - outside judge of fcap's alert files (tests/tools/test_alerts.sh).

  validate EVE                 every line is JSON; alert events carry Suricata's
                               fields and fcap's evidence; prints the alert count
  judge EVE SCORES [FPS]       with the label column of `fcap score -l` output:
                               "alerts false_positives kind=alerts..." (an alert
                               is a false positive when none of its evidence
                               packets is labelled an attack); FPS gets their ids
  flood EVE SCORES KIND        "alerts packets" of KIND: how many alerts hold its
                               alerting packets, and how many packets they hold
  packets EVE ID               the alert's packet numbers, comma-separated
  blocks SRC OUT EVE ID        OUT (pcapng) holds exactly the alert's packet blocks,
                               byte for byte as stored in SRC at their offsets
  png FILE                     number of pixels that are not white
"""
import json
import struct
import sys
import zlib


def events(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                yield n, json.loads(line)
            except ValueError as e:
                sys.exit("%s: line %d: not JSON: %s" % (path, n, e))


def alerts(path):
    return [e for _, e in events(path) if e["event_type"] == "alert"]


def need(cond, what):
    if not cond:
        sys.exit("invalid: " + what)


def validate(path):
    n = stats = 0
    for line, e in events(path):
        if e["event_type"] == "stats":
            stats += 1
            continue
        need(e["event_type"] == "alert", "line %d: event_type" % line)
        for k in ("timestamp", "flow_id", "src_ip", "dest_ip", "proto", "alert", "fcap"):
            need(k in e, "line %d: no %s" % (line, k))
        need(isinstance(e["flow_id"], int), "line %d: flow_id not an integer" % line)
        for k in ("action", "gid", "signature_id", "rev", "signature", "category", "severity"):
            need(k in e["alert"], "line %d: no alert.%s" % (line, k))
        need(e["alert"]["severity"] in (1, 2, 3), "line %d: severity" % line)
        f = e["fcap"]
        for k in ("alert_id", "score", "threshold", "model", "explanation", "evidence"):
            need(k in f, "line %d: no fcap.%s" % (line, k))
        need(f["score"] > f["threshold"], "line %d: an alert below its threshold" % line)
        for k in ("feature_groups", "time_scales"):
            s = sum(f["explanation"][k].values())
            need(abs(s - 1) < 0.01, "line %d: %s shares sum to %f" % (line, k, s))
        ev = f["evidence"]
        fl = ev["files"][0]
        need(len(fl["packets"]) == len(fl["offsets"]) == ev["listed"], "line %d: evidence lengths" % line)
        need(ev["packet_count"] >= ev["listed"] > 0, "line %d: packet_count" % line)
        need(fl["packets"] == sorted(fl["packets"]), "line %d: packets out of order" % line)
        need(ev["first_ts_ns"] <= ev["last_ts_ns"], "line %d: first/last" % line)
        n += 1
    need(stats == 1, "%d stats events" % stats)
    print(n)


def labels(path):
    lab = {}
    with open(path) as f:
        next(f)
        for row in f:
            c = row.rstrip("\n").split(",")
            lab[int(c[2])] = c[9]
    return lab


def judge(eve, scores, fps_out=None):
    lab = labels(scores)
    n = fp = 0
    kinds = {}
    fps = []
    for e in alerts(eve):
        n += 1
        att = {lab[p] for p in e["fcap"]["evidence"]["files"][0]["packets"]} - {"benign"}
        if not att:
            fp += 1
            fps.append(e["fcap"]["alert_id"])
        for k in att:
            kinds[k] = kinds.get(k, 0) + 1
    print(n, fp, " ".join("%s=%d" % kv for kv in sorted(kinds.items())))
    if fps_out:
        with open(fps_out, "w") as f:
            f.write("".join(i + "\n" for i in fps))


def flood(eve, scores, kind):
    lab = labels(scores)
    n = pk = 0
    for e in alerts(eve):
        k = sum(1 for p in e["fcap"]["evidence"]["files"][0]["packets"] if lab[p] == kind)
        if k:
            n += 1
            pk += k
    print(n, pk)


def find(eve, ident):
    for e in alerts(eve):
        if e["fcap"]["alert_id"] == ident:
            return e
    sys.exit("no alert " + ident)


def blocks(src, out, eve, ident):
    fl = find(eve, ident)["fcap"]["evidence"]["files"][0]
    data = open(out, "rb").read()
    raw = open(src, "rb").read()
    pos, got = 0, []
    endian = "<"
    while pos < len(data):
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if btype == 0x0A0D0D0A:
            endian = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        elif btype in (2, 3, 6):
            got.append(data[pos:pos + blen])
        need(blen >= 12 and pos + blen <= len(data), "block at %d" % pos)
        pos += blen
    need(len(got) == len(fl["offsets"]), "%d packet blocks, the alert lists %d" % (len(got), len(fl["offsets"])))
    for i, off in enumerate(fl["offsets"]):
        need(raw[off:off + len(got[i])] == got[i], "packet %d differs from %s at offset %d" % (fl["packets"][i], src, off))
    print("identical", len(got))


def png(path):
    d = open(path, "rb").read()
    need(d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat = 8, b""
    while pos < len(d):
        n, t = struct.unpack_from(">I4s", d, pos)
        body = d[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack_from(">IIBB", body)
        elif t == b"IDAT":
            idat += body
        pos += 12 + n
    need(depth == 8 and ctype in (2, 6), "PNG colour type %d depth %d" % (ctype, depth))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    nonwhite = 0
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            if line[x] < 240 or line[x + 1] < 240 or line[x + 2] < 240:
                nonwhite += 1
        prev = line
    print(nonwhite, w * h)


cmd = sys.argv[1]
args = sys.argv[2:]
{"validate": validate, "judge": judge, "flood": flood, "blocks": blocks, "png": png,
 "packets": lambda e, i: print(",".join(map(str, find(e, i)["fcap"]["evidence"]["files"][0]["packets"])))}[cmd](*args)
