/*
 * fcap/card.h - the contract between the capture card and the host.
 *
 * This header is the single source of truth for register offsets, control
 * bits and the on-ring record and block layout. hw/rtl/fcap_defs.vh is
 * generated from it (hw/tools/gen_defs.sh); `make test` fails when the two
 * disagree. docs/REGISTERS.md and docs/FORMAT.md describe the same things
 * in prose: change all three together.
 *
 * Only `#define NAME 0x...u` (or decimal `...u`) lines whose name starts with FCAP_ are carried
 * into Verilog, so keep every shared constant in that form.
 */
#ifndef FCAP_CARD_H
#define FCAP_CARD_H

/* ---- Identity ---------------------------------------------------------- */
#define FCAP_ID_MAGIC                0x46434150u /* "FCAP" */
#define FCAP_VERSION                 0x00010000u /* major.minor (16.16) */

/* ---- Register map (byte offsets in BAR0, 32-bit registers) ------------- */
#define FCAP_REG_ID                  0x0000u /* RO  FCAP_ID_MAGIC */
#define FCAP_REG_VERSION             0x0004u /* RO  FCAP_VERSION */
#define FCAP_REG_DT_BASE             0x0008u /* RO  offset of the device tree ROM window */
#define FCAP_REG_DT_SIZE             0x000Cu /* RO  size of the blob in bytes */
#define FCAP_REG_CTRL                0x0010u /* RW  FCAP_CTRL_* */
#define FCAP_REG_STATUS              0x0014u /* RO  FCAP_STATUS_* */
#define FCAP_REG_SCRATCH             0x0018u /* RW  no effect; for bus tests */

#define FCAP_REG_TIME_LO             0x0020u /* RO  time latched by TIME_CTRL.SNAPSHOT, ns */
#define FCAP_REG_TIME_HI             0x0024u /* RO */
#define FCAP_REG_TIME_SET_LO         0x0028u /* RW  value loaded by TIME_CTRL.SET, ns */
#define FCAP_REG_TIME_SET_HI         0x002Cu /* RW */
#define FCAP_REG_TIME_CTRL           0x0030u /* WO  FCAP_TIME_CTRL_* (self-clearing) */
#define FCAP_REG_TIME_INC_NS         0x0034u /* RW  whole ns added per core clock (staged) */
#define FCAP_REG_TIME_INC_NUM        0x0038u /* RW  fractional ns per clock = NUM/DEN (staged) */
#define FCAP_REG_TIME_INC_DEN        0x003Cu /* RW  0 = no fractional part (staged) */

#define FCAP_REG_RINGS               0x0040u /* RO  number of host rings */
#define FCAP_REG_SNAPLEN             0x005Cu /* RW  bytes kept per frame, 0 = maximum */

#define FCAP_REG_IRQ_ENABLE          0x0060u /* RW  bit r: ring r's interrupt */
#define FCAP_REG_IRQ_STATUS          0x0064u /* RW1C bit r: ring r published blocks */

#define FCAP_REG_TIME_ADJ_LO         0x0068u /* RW  signed ns added by TIME_CTRL.ADJUST */
#define FCAP_REG_TIME_ADJ_HI         0x006Cu /* RW */
#define FCAP_REG_PPS_TIME_LO         0x0070u /* RO  time of the last PPS rising edge, ns */
#define FCAP_REG_PPS_TIME_HI         0x0074u /* RO */
#define FCAP_REG_PPS_COUNT           0x0078u /* RO  PPS rising edges seen */

#define FCAP_REG_CNT_CTRL            0x0080u /* WO  FCAP_CNT_CTRL_* (self-clearing) */
#define FCAP_REG_CNT_RECORDS         0x0088u /* RO  64-bit snapshot: records written */
#define FCAP_REG_CNT_BLOCKS          0x0090u /* RO  64-bit snapshot: blocks published */

/* Per-port counters: 64-bit snapshots, LO at +0, HI at +4. */
#define FCAP_REG_PORT_BASE           0x1000u
#define FCAP_REG_PORT_STRIDE         0x0040u
#define FCAP_PORT_RX_FRAMES          0x0000u /* frames seen on the wire */
#define FCAP_PORT_RX_BYTES           0x0008u /* bytes seen on the wire (original lengths) */
#define FCAP_PORT_DROP_FIFO          0x0010u /* dropped: on-card FIFO overflow */
#define FCAP_PORT_DROP_RING          0x0018u /* dropped: no free ring block */
#define FCAP_PORT_RX_ERRORS          0x0020u /* frames with a MAC/FCS error (still recorded) */
#define FCAP_PORT_TRUNCATED          0x0028u /* frames cut to the snap length */

/* Per-ring registers: ring r's at FCAP_REG_RING_BASE + r * FCAP_REG_RING_STRIDE. */
#define FCAP_REG_RING_BASE           0x0400u
#define FCAP_REG_RING_STRIDE         0x0040u
#define FCAP_RING_BLOCKS             0x0000u /* RW  number of ring blocks (1..max) */
#define FCAP_RING_BLOCK_SIZE         0x0004u /* RW  bytes per block, multiple of 4096 */
#define FCAP_RING_STATUS_LO          0x0008u /* RW  bus address of the status word */
#define FCAP_RING_STATUS_HI          0x000Cu /* RW */
#define FCAP_RING_PROD               0x0010u /* RO  blocks closed (free-running) */
#define FCAP_RING_CONS               0x0014u /* RW  blocks returned by the host */
#define FCAP_RING_TIMEOUT            0x0018u /* RW  close a non-empty block after N clocks, 0 = never */
#define FCAP_RING_TABLE_BASE         0x001Cu /* RW  the ring's first block table entry */
#define FCAP_RING_IRQ_COUNT          0x0020u /* RW  interrupt after this many blocks (0, 1: each) */
#define FCAP_RING_IRQ_TIME           0x0024u /* RW  ... or N clocks after the first unsignalled one */
#define FCAP_MAX_RINGS               16u
#define FCAP_RING_REG(r, off)        (FCAP_REG_RING_BASE + (r) * FCAP_REG_RING_STRIDE + (off))

/* Flow steering: entry i (4 bytes apart) names the ring of frames whose flow
 * hash has i in its low 7 bits. */
#define FCAP_REG_STEER               0x3000u
#define FCAP_STEER_ENTRIES           128u

/* Block address table: entry i is a 64-bit bus address, LO at +8i, HI at +8i+4.
 * Rings use disjoint ranges of it (FCAP_RING_TABLE_BASE). */
#define FCAP_REG_RING_TABLE          0x2000u
#define FCAP_RING_TABLE_ENTRIES      512u

/* Device tree ROM window (32-bit reads, bytes in little-endian order). */
#define FCAP_REG_DT_ROM              0x8000u
#define FCAP_DT_ROM_BYTES            0x4000u

/* ---- Register bits ------------------------------------------------------ */
#define FCAP_CTRL_ENABLE             0x00000001u /* accept new frames */
#define FCAP_CTRL_FLUSH              0x00000002u /* close the open block if it holds records */
#define FCAP_CTRL_RING_RESET         0x00000004u /* drain the DMA path, then zero PROD/CONS */
#define FCAP_CTRL_HASH_OPTION        0x00000008u /* write epb_hash in every record */

#define FCAP_STATUS_ENABLED          0x00000001u
#define FCAP_STATUS_IDLE             0x00000002u /* no frame anywhere between MAC and ring */
#define FCAP_STATUS_BLOCK_OPEN       0x00000004u
#define FCAP_STATUS_RING_FULL        0x00000008u /* waiting for the host to return a block */
#define FCAP_STATUS_FLUSH_PENDING    0x00000010u
#define FCAP_STATUS_RESET_PENDING    0x00000020u /* RING_RESET waits for the DMA path to drain */

#define FCAP_TIME_CTRL_SET           0x00000001u /* load TIME_SET */
#define FCAP_TIME_CTRL_SNAPSHOT      0x00000002u /* latch the time into TIME_LO/HI */
#define FCAP_TIME_CTRL_ADJUST        0x00000004u /* add TIME_ADJ once (a step) */
#define FCAP_TIME_CTRL_APPLY_INC     0x00000008u /* make the staged TIME_INC_* the increment */

#define FCAP_IRQ_BLOCK               0x00000001u /* ring 0 published a block (bit r: ring r) */

#define FCAP_CNT_CTRL_SNAPSHOT       0x00000001u /* copy live counters to the readable copies */
#define FCAP_CNT_CTRL_CLEAR          0x00000002u /* zero live counters */

/* ---- Ring block and record layout (docs/FORMAT.md) ---------------------- */
#define FCAP_PCAPNG_EPB              0x00000006u /* Enhanced Packet Block */
#define FCAP_BT_BLOCK_HEADER         0x8FCA0001u /* local-use block: ring block header */
#define FCAP_BT_PADDING              0x8FCA0002u /* local-use block: padding */
#define FCAP_BLOCK_HEADER_LEN        64u
#define FCAP_BLOCK_FORMAT_VERSION    1u
#define FCAP_MIN_PAD_LEN             16u /* smallest padding block the card writes */

#define FCAP_EPB_FIXED_LEN           32u /* EPB without data and options */
#define FCAP_OPT_ENDOFOPT            0x0000u
#define FCAP_OPT_EPB_FLAGS           0x0002u
#define FCAP_OPT_EPB_HASH            0x0003u
#define FCAP_EPB_HASH_TOEPLITZ       5u      /* epb_hash algorithm: Toeplitz */
#define FCAP_OPT_EPB_DROPCOUNT       0x0004u

#define FCAP_EPB_FLAG_INBOUND        0x00000001u
#define FCAP_EPB_FLAG_CRC_ERROR      0x01000000u

#define FCAP_BLOCK_CLOSED_FULL       0x00000001u
#define FCAP_BLOCK_CLOSED_TIMEOUT    0x00000002u
#define FCAP_BLOCK_CLOSED_FLUSH      0x00000004u

#endif /* FCAP_CARD_H */
