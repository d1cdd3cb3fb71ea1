#!/usr/bin/env python3
"""cosim_client.py SOCKET RAM_BYTES - plays QEMU's part against fcap-cosim, without a guest.

Connects to fcap-cosim's ivshmem socket as an ivshmem-doorbell device would
(QEMU docs/specs/ivshmem-spec), maps the mailbox memory it is given and
speaks the mailbox protocol of host/include/fcap/mbox.h directly. Checks the
setup messages, reads and writes through the mailbox, requests the
simulator must refuse, and the doorbell; then points ring 0 of the card
at bus addresses past the guest's RAM and starts a capture, so that the
card's first DMA write falls outside guest RAM: fcap-cosim must stop with
an error naming the address (test_cosim.sh judges its exit and message).
Prints "ok NAME" / "FAIL NAME" per check and "ring-bus ADDR" (the lowest
address it programmed); exits 1 if a check failed.
"""
import mmap
import os
import socket
import struct
import sys
import time

# host/include/fcap/mbox.h
MAGIC, VERSION = 0x000, 0x004
REQ_SEQ, REQ_OP, REQ_OFFSET, REQ_VALUE = 0x040, 0x044, 0x048, 0x04C
RESP_SEQ, RESP_RESULT, RESP_STATUS = 0x080, 0x084, 0x088
OP_READ, OP_WRITE = 1, 2
ST_OK, ST_BAD_OP = 0, 1
# host/include/fcap/card.h
ID_MAGIC = 0x46434150
REG_ID, REG_CTRL, REG_SCRATCH, REG_SNAPLEN = 0x0000, 0x0010, 0x0018, 0x005C
CTRL_ENABLE, CTRL_RING_RESET = 0x1, 0x4
RING_BASE, RING_STRIDE = 0x0400, 0x0040
RING_BLOCKS, RING_BLOCK_SIZE, RING_STATUS_LO, RING_STATUS_HI = 0x00, 0x04, 0x08, 0x0C
RING_TABLE_BASE, REG_RING_TABLE, REG_STEER, STEER_ENTRIES = 0x1C, 0x2000, 0x3000, 128

bad = 0


def say(good, what):
    global bad
    print("%s %s" % ("ok" if good else "FAIL", what))
    bad += not good


def recv_msg(conn):
    data, fds, _, _ = socket.recv_fds(conn, 8, 1)
    if len(data) != 8:
        sys.exit("FAIL setup: short message from fcap-cosim")
    return struct.unpack("<q", data)[0], (fds[0] if fds else None)


class Mailbox:
    def __init__(self, fd, doorbell):
        self.m = mmap.mmap(fd, 4096)
        self.doorbell = doorbell
        self.seq = self.u32(RESP_SEQ)

    def u32(self, off):
        return struct.unpack_from("<I", self.m, off)[0]

    def put(self, off, v):
        struct.pack_into("<I", self.m, off, v)

    def call(self, op, off, val=0):
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        self.put(REQ_OP, op)
        self.put(REQ_OFFSET, off)
        self.put(REQ_VALUE, val)
        self.put(REQ_SEQ, self.seq)   # last (x86 keeps the stores in order)
        os.eventfd_write(self.doorbell, 1)
        end = time.monotonic() + 5
        while self.u32(RESP_SEQ) != self.seq:
            if time.monotonic() > end:
                sys.exit("FAIL mailbox: no answer to request %d within 5 s" % self.seq)
        return self.u32(RESP_STATUS), self.u32(RESP_RESULT)

    def rd(self, off):
        st, v = self.call(OP_READ, off)
        assert st == ST_OK, "read 0x%x: status %d" % (off, st)
        return v

    def wr(self, off, v):
        st, _ = self.call(OP_WRITE, off, v)
        assert st == ST_OK, "write 0x%x: status %d" % (off, st)


def main():
    path, ram = sys.argv[1], int(sys.argv[2])
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    setup = [recv_msg(conn) for _ in range(5)]
    say(setup[0] == (0, None), "setup: protocol version 0")
    say(setup[1] == (1, None), "setup: the guest's peer id 1")
    say(setup[2][0] == -1 and setup[2][1] is not None, "setup: the shared memory")
    say(setup[3][0] == 0 and setup[3][1] is not None, "setup: peer 0 (the simulator) with its doorbell eventfd")
    say(setup[4][0] == 1 and setup[4][1] is not None, "setup: the guest's own vector 0 eventfd")
    mb = Mailbox(setup[2][1], setup[3][1])
    say(mb.u32(MAGIC) == 0x424D4346 and mb.u32(VERSION) == 1, "mailbox: magic FCMB, version 1")
    say(mb.rd(REG_ID) == ID_MAGIC, "mailbox read: the card's ID register")
    mb.wr(REG_SCRATCH, 0x5A5AA5A5)
    say(mb.rd(REG_SCRATCH) == 0x5A5AA5A5, "mailbox write then read: SCRATCH")
    say(mb.call(OP_READ, REG_SCRATCH + 2)[0] == ST_BAD_OP, "mailbox: unaligned offset refused")
    say(mb.call(OP_READ, 0x10000)[0] == ST_BAD_OP, "mailbox: offset past the register window refused")
    say(mb.call(7, REG_SCRATCH)[0] == ST_BAD_OP, "mailbox: unknown op refused")
    say(mb.rd(REG_SCRATCH) == 0x5A5AA5A5, "mailbox: a refused request changed nothing")

    # Ring 0: two 64 KiB blocks and the status word, all past the end of RAM.
    blocks = [ram + 0x100000, ram + 0x110000]
    status = ram + 0x200000
    ring = lambda off: RING_BASE + off
    mb.wr(REG_CTRL, 0)
    mb.wr(ring(RING_BLOCKS), 2)
    mb.wr(ring(RING_BLOCK_SIZE), 65536)
    mb.wr(ring(RING_STATUS_LO), status & 0xFFFFFFFF)
    mb.wr(ring(RING_STATUS_HI), status >> 32)
    mb.wr(ring(RING_TABLE_BASE), 0)
    for i, a in enumerate(blocks):
        mb.wr(REG_RING_TABLE + 8 * i, a & 0xFFFFFFFF)
        mb.wr(REG_RING_TABLE + 8 * i + 4, a >> 32)
    for e in range(STEER_ENTRIES):
        mb.wr(REG_STEER + 4 * e, 0)
    mb.wr(REG_SNAPLEN, 0)
    mb.wr(REG_CTRL, CTRL_RING_RESET)
    mb.wr(REG_CTRL, 0)
    print("ring-bus %d" % min(blocks + [status]))
    sys.stdout.flush()
    mb.wr(REG_CTRL, CTRL_ENABLE)      # the replay starts; fcap-cosim must stop on the first DMA
    conn.settimeout(30)
    try:
        gone = conn.recv(1) == b""
    except ConnectionResetError:
        gone = True
    except socket.timeout:
        gone = False
    say(gone, "fcap-cosim hung up after the card's DMA left guest RAM")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
