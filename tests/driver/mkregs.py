#!/usr/bin/env python3
"""mkregs.py DTB OUT [--bad-dt] - the register file of a stand-in card, for the QEMU test.

QEMU has no fcap card, so the test gives the guest an ivshmem device whose
memory BAR (64 KiB, backed by OUT on the host) is preloaded with what the
card's registers read (docs/REGISTERS.md): the ID and version, the device
tree ROM window and its blob, STATUS idle, IRQ_STATUS.BLOCK pending, and 64-bit counters whose values
follow counter_value() (tests/driver/drvtest.c computes the same). The
driver, loaded with regs_bar=2, binds it like a card; its register writes
land in OUT, where test_qemu.sh reads them back afterwards. --bad-dt damages
the blob's magic: a card the driver must refuse.
"""
import struct
import sys

ID_MAGIC = 0x46434150
VERSION = 0x00010000
DT_ROM = 0x8000
DT_ROM_BYTES = 0x4000
STATUS_IDLE = 0x2
IRQ_STATUS = 0x64
IRQ_BLOCK = 0x1
COUNTERS = [0x88, 0x90] + [0x1000 + 8 * f for f in range(6)]
SIZE = 64 * 1024


def counter_value(off):
    return (off + 1) << 32 | (0xC0DE0000 | off)


def main():
    dtb = open(sys.argv[1], "rb").read()
    if len(dtb) % 4 or len(dtb) > DT_ROM_BYTES:
        sys.exit("mkregs: %s: %d bytes, not a multiple of 4 up to %d" % (sys.argv[1], len(dtb), DT_ROM_BYTES))
    img = bytearray(SIZE)
    struct.pack_into("<IIII", img, 0, ID_MAGIC, VERSION, DT_ROM, len(dtb))
    struct.pack_into("<I", img, 0x14, STATUS_IDLE)
    # Memory does not clear on write-1: every interrupt the stand-in raises
    # (tests/driver/ivshmem_server.py) is the card's.
    struct.pack_into("<I", img, IRQ_STATUS, IRQ_BLOCK)
    for off in COUNTERS:
        struct.pack_into("<Q", img, off, counter_value(off))
    img[DT_ROM:DT_ROM + len(dtb)] = dtb
    if "--bad-dt" in sys.argv[3:]:
        img[DT_ROM] ^= 0xFF
    open(sys.argv[2], "wb").write(img)


if __name__ == "__main__":
    main()
