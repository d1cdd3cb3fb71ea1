#!/usr/bin/env python3
"""fleet_liar.py - a responder that lies, for test_fleet.sh.

Speaks the NATS client protocol itself (no client library): subscribes to
fcap.SENSOR.extract and answers each request with the frames of one case,
so that the client's checks of an answer are exercised:
  garbage   a data frame that is not pcapng, then a consistent end marker
  gap       frame 0, then frame 2 (one missing)
  count     a valid pcapng of one packet, an end marker claiming two
  overrun   a packet block whose captured length runs past the block
  longname  an interface name too long to take the sensor id in front
usage: fleet_liar.py HOST PORT USER PASSWORD SENSOR CASE
It answers one request and exits.
"""
import json
import socket
import struct
import sys


def frame(kind, seq, payload):
    return b"FCX1" + kind + b"\0\0\0" + struct.pack("<I", seq) + payload


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(caplen_lie=False, name_len=0):
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    name = b""
    if name_len:
        name = struct.pack("<HH", 2, name_len) + b"n" * name_len + b"\0" * (-name_len % 4)
    idb = block(1, struct.pack("<HHI", 1, 0, 65535) + name + struct.pack("<HH", 9, 1) + b"\x09\0\0\0" + b"\0\0\0\0")
    pkt = b"\xff" * 60
    caplen = 4000 if caplen_lie else len(pkt)
    epb = block(6, struct.pack("<IIIII", 0, 0, 1, caplen, len(pkt)) + pkt)
    return shb + idb + epb


def frames(case):
    if case == "garbage":
        data = b"this is not a pcapng file"
        return [frame(b"D", 0, data), frame(b"E", 1, b"packets=1 bytes=%d chunks=1 damaged=0" % len(data))]
    if case == "gap":
        return [frame(b"D", 0, pcapng()), frame(b"D", 2, b"x")]
    data = pcapng(case == "overrun", 65535 if case == "longname" else 0)
    packets = 2 if case == "count" else 1
    return [frame(b"D", 0, data), frame(b"E", 1, b"packets=%d bytes=%d chunks=1 damaged=0" % (packets, len(data)))]


def main():
    host, port, user, password, sensor, case = sys.argv[1:7]
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    f.readline()  # INFO
    connect = {"verbose": False, "pedantic": False, "user": user, "pass": password, "headers": True}
    s.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
    s.sendall(b"SUB fcap.%s.extract 1\r\nPING\r\n" % sensor.encode())
    ready = False
    while True:
        line = f.readline()
        if not line:
            sys.exit("fleet_liar: the server closed the connection")
        if line.startswith(b"PONG") and not ready:
            ready = True
            print("ready", flush=True)
        elif line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"-ERR"):
            sys.exit("fleet_liar: " + line.decode().strip())
        elif line.startswith(b"MSG"):
            words = line.split()
            f.read(int(words[-1]) + 2)
            reply = words[3]
            for fr in frames(case):
                s.sendall(b"PUB %s %d\r\n" % (reply, len(fr)) + fr + b"\r\n")
            s.sendall(b"PING\r\n")
            while True:
                line = f.readline()
                if not line or line.startswith(b"PONG"):
                    return


main()
