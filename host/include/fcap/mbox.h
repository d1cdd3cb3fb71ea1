/*
 * fcap/mbox.h - the register mailbox of the driver co-simulation.
 *
 * In the co-simulation (docs/COSIM.md) the card is the Verilated model in a
 * host process (build/bin/fcap-cosim) and the driver runs in a QEMU guest.
 * The guest sees an ivshmem-doorbell PCI device: BAR2 is memory shared with
 * the simulator, BAR0 holds ivshmem's doorbell register. The driver's
 * register accessors (driver/fcap_mbox.c) turn every register read or write
 * into one request in this mailbox; the simulator performs it on the card's
 * AXI-Lite port and answers. One request is outstanding at a time.
 *
 * Protocol, all fields 32-bit little-endian at these byte offsets in BAR2:
 *   1. The simulator writes MAGIC and VERSION before the guest boots.
 *   2. Driver: OP, OFFSET, VALUE; write barrier; REQ_SEQ = previous + 1;
 *      then rings the doorbell (BAR0 DOORBELL = FCAP_MBOX_DOORBELL) so that
 *      a simulator asleep in poll() wakes up.
 *   3. Simulator: sees REQ_SEQ differ from the last one it answered (read
 *      with acquire), reads OP, OFFSET, VALUE, performs the access, writes
 *      RESULT and STATUS, then RESP_SEQ = REQ_SEQ with release.
 *   4. Driver: polls RESP_SEQ until it equals its REQ_SEQ; read barrier;
 *      reads RESULT and STATUS.
 * Requests and answers sit in separate 64-byte lines: each side writes only
 * its own line.
 *
 * Only #define lines here: the kernel driver and the simulator include it.
 */
#ifndef FCAP_MBOX_H
#define FCAP_MBOX_H

#define FCAP_MBOX_MAGIC_VALUE        0x424d4346u /* "FCMB" */
#define FCAP_MBOX_VERSION_VALUE      1u

#define FCAP_MBOX_MAGIC              0x0000u /* simulator: FCAP_MBOX_MAGIC_VALUE when serving */
#define FCAP_MBOX_VERSION            0x0004u /* simulator: FCAP_MBOX_VERSION_VALUE */
#define FCAP_MBOX_REQ_SEQ            0x0040u /* driver: written last */
#define FCAP_MBOX_REQ_OP             0x0044u /* driver: FCAP_MBOX_OP_* */
#define FCAP_MBOX_REQ_OFFSET         0x0048u /* driver: register byte offset */
#define FCAP_MBOX_REQ_VALUE          0x004Cu /* driver: value to write */
#define FCAP_MBOX_RESP_SEQ           0x0080u /* simulator: written last */
#define FCAP_MBOX_RESP_RESULT        0x0084u /* simulator: value read */
#define FCAP_MBOX_RESP_STATUS        0x0088u /* simulator: FCAP_MBOX_STATUS_* */
#define FCAP_MBOX_BYTES              0x1000u /* the BAR must be at least this long */

#define FCAP_MBOX_OP_READ            1u
#define FCAP_MBOX_OP_WRITE           2u

#define FCAP_MBOX_STATUS_OK          0u
#define FCAP_MBOX_STATUS_BAD_OP      1u /* unknown op or unaligned offset */
#define FCAP_MBOX_STATUS_CARD_ERROR  2u /* the card answered the write with an error */

/* ivshmem (QEMU docs/specs/ivshmem-spec): BAR0 register and peer ids. */
#define FCAP_MBOX_IVSHMEM_DOORBELL   0x000Cu /* BAR0: write (peer << 16 | vector) */
#define FCAP_MBOX_SIM_PEER           0u      /* the simulator's ivshmem peer id */
#define FCAP_MBOX_GUEST_PEER         1u      /* the id the simulator gives the guest */
#define FCAP_MBOX_DOORBELL           (FCAP_MBOX_SIM_PEER << 16) /* vector 0 */

#endif /* FCAP_MBOX_H */
