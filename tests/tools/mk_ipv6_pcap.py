# mk_ipv6_pcap.py OUT - a small nanosecond pcap of IPv6 UDP and TCP packets (two flows),
# for the IPFIX test (the bundled captures hold no IPv6).
import struct, sys
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))  # ns pcap, Ethernet
def pkt(t_ns, src, dst, sport, dport, proto, payload):
    l4 = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload if proto == 17 else \
         struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 0x50, 0x02, 1024, 0, 0) + payload
    ip = struct.pack('!IHBB', 0x60000000, len(l4), proto, 64) + src + dst
    fr = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x86\xdd' + ip + l4
    out.write(struct.pack('<IIII', t_ns // 10**9, t_ns % 10**9, len(fr), len(fr)) + fr)
a = bytes.fromhex('20010db8000000000000000000000001')
b = bytes.fromhex('20010db8000000000000000000000002')
t0 = 1700000000 * 10**9 + 123456789
for i in range(5):
    pkt(t0 + i * 1000003, a, b, 5000, 6000, 17, b'x' * (10 + i))
for i in range(3):
    pkt(t0 + 7 * 10**6 + i * 999, b, a, 443, 40000, 6, b'y' * (100 * i))
