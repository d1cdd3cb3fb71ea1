#!/usr/bin/env python3
"""make_inputs.py - writes the malformed captures of cases.txt.

usage: make_inputs.py DATADIR OUTDIR

Every input is made from a real capture of DATADIR (the bundled
../shared/data) by one precise change, so each case tests one thing. The
names are the ones cases.txt uses.
"""
import os
import struct
import sys

data_dir, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def read(name):
    with open(os.path.join(data_dir, name), 'rb') as f:
        return f.read()


def write(name, b):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(b)


def pcapng_blocks(b):
    """(offset, type, length) of every block of a little-endian pcapng."""
    off, res = 0, []
    while off + 12 <= len(b):
        t, n = struct.unpack_from('<II', b, off)
        res.append((off, t, n))
        off += n
    return res


def first(blocks, btype):
    return next(x for x in blocks if x[1] == btype)


ng = read('icmp_traceroute.pcapng')     # SHB, IDB, EPBs; little endian
blocks = pcapng_blocks(ng)
SHB, IDB, EPB = 0x0A0D0D0A, 1, 6
epb_off, _, epb_len = first(blocks, EPB)
idb_off, _, idb_len = first(blocks, IDB)

def tsresol(b, off, n):
    """Digits of the IDB's if_tsresol (a power of ten; 6 when absent)."""
    o = off + 16
    while o + 4 <= off + n - 4:
        code, ln = struct.unpack_from('<HH', b, o)
        if code == 0:
            break
        if code == 9 and ln == 1:
            assert b[o + 4] < 128, 'binary if_tsresol'
            return b[o + 4]
        o += 4 + (ln + 3) // 4 * 4
    return 6


# A classic pcap made from the same packets (little endian).
def to_pcap(b, nsec=False):
    digits = tsresol(b, idb_off, idb_len)
    hdr = struct.pack('<IHHiIII', 0xA1B23C4D if nsec else 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    recs = []
    for off, t, n in pcapng_blocks(b):
        if t != EPB:
            continue
        _, hi, lo, cap, orig = struct.unpack_from('<IIIII', b, off + 8)
        ts = (hi << 32) | lo
        sec, frac = divmod(ts, 10 ** digits)
        frac = frac * 10 ** 9 // 10 ** digits
        if not nsec:
            frac //= 1000
        recs.append(struct.pack('<IIII', sec, frac, cap, orig) + b[off + 28:off + 28 + cap])
    return hdr + b''.join(recs)


pc = to_pcap(ng)
write('good.pcapng', ng)
write('good.pcap', pc)
rec1 = 24                                   # first pcap record
cap1 = struct.unpack_from('<I', pc, rec1 + 8)[0]
rec2 = rec1 + 16 + cap1

# ---- truncated files
write('empty.pcap', b'')
write('short-header.pcap', pc[:10])
write('cut-record-header.pcap', pc[:rec1 + 7])
write('cut-record-data.pcap', pc[:rec2 - 5])
write('cut-block.pcapng', ng[:epb_off + epb_len - 9])
write('cut-shb.pcapng', ng[:20])

# ---- lengths larger than what encloses them
b = bytearray(pc)
struct.pack_into('<I', b, rec1 + 8, 0x7FFFFFF0)        # caplen huge
write('huge-caplen.pcap', b)
b = bytearray(pc)
struct.pack_into('<I', b, rec1 + 8, 0)                 # caplen 0
write('zero-caplen.pcap', b)
b = bytearray(ng)
struct.pack_into('<I', b, epb_off + 20, epb_len)       # EPB caplen > its block
write('caplen-past-block.pcapng', b)
b = bytearray(ng)
struct.pack_into('<I', b, epb_off + 4, 0xFFFFFFF0)     # block length huge
write('huge-block-len.pcapng', b)
b = bytearray(ng)
struct.pack_into('<I', b, epb_off + 4, 0)              # block length 0
write('zero-block-len.pcapng', b)
b = bytearray(ng)
struct.pack_into('<I', b, epb_off + epb_len - 4, epb_len + 4)   # trailer differs
write('trailer-mismatch.pcapng', b)

# ---- wrong magic and byte order
b = bytearray(pc)
struct.pack_into('<I', b, 0, 0xDEADBEEF)
write('bad-magic.pcap', b)
b = bytearray(ng)
struct.pack_into('<I', b, 8, 0xDEADBEEF)               # byte-order magic
write('bad-bom.pcapng', b)
# The same packets as a big-endian pcap: a valid file in the other order.
hdr = struct.pack('>IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
recs, off = [], 24
while off + 16 <= len(pc):
    s, u, cap, orig = struct.unpack_from('<IIII', pc, off)
    recs.append(struct.pack('>IIII', s, u, cap, orig) + pc[off + 16:off + 16 + cap])
    off += 16 + cap
write('big-endian.pcap', hdr + b''.join(recs))
write('nsec.pcap', to_pcap(ng, nsec=True))
b = bytearray(pc)
struct.pack_into('<I', b, 20, 105)                     # 802.11: not Ethernet
write('linktype-wifi.pcap', b)

# ---- unknown block types: a custom block (0x40000BAD) after the IDB; the
# pcapng rules say skip it.
unknown = struct.pack('<II', 0x40000BAD, 20) + b'\0' * 8 + struct.pack('<I', 20)
at = idb_off + idb_len
write('unknown-block.pcapng', ng[:at] + unknown + ng[at:])

# ---- bad option lengths: the IDB rewritten with an if_tsresol option whose
# length (200) runs past the end of the block (4 bytes of value left).
idb = struct.pack('<HHI', 1, 0, 262144) + struct.pack('<HH', 9, 200) + b'\x06\0\0\0'
idb = struct.pack('<II', IDB, 12 + len(idb)) + idb + struct.pack('<I', 12 + len(idb))
write('bad-option-len.pcapng', ng[:idb_off] + idb + ng[idb_off + idb_len:])

# ---- an EPB for an interface that was never described
b = bytearray(ng)
struct.pack_into('<I', b, epb_off + 8, 7)
write('unknown-interface.pcapng', b)

# ---- timestamps going backwards: the second record earlier than the first
b = bytearray(pc)
s1 = struct.unpack_from('<I', pc, rec1)[0]
struct.pack_into('<I', b, rec2, s1 - 100)
write('ts-backwards.pcap', b)
