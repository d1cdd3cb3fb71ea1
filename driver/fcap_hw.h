/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcap_hw.h - the card's registers as the driver uses them.
 *
 * Offsets and bits come from host/include/fcap/card.h, the one source the
 * RTL, libfcap and this driver share (docs/REGISTERS.md). This file adds the
 * one place that knows where a ring's registers are; the accessors, which
 * go through the card's transport (MMIO or the co-simulation's mailbox),
 * are at the end of fcap.h.
 */
#ifndef FCAP_HW_H
#define FCAP_HW_H

#include <linux/types.h>

#include "fcap/card.h"

/* The register window must reach the end of the device tree ROM. */
#define FCAP_REGS_MIN_LEN	(FCAP_REG_DT_ROM + FCAP_DT_ROM_BYTES)

/*
 * Rings whose registers the map defines. The card has one ring today; the
 * multi-ring layout extends fcap_ring_regs() and this number, and nothing
 * else in the driver needs to know (everything loops over fdev->nrings).
 */
#define FCAP_HW_RINGS		FCAP_MAX_RINGS

struct fcap_ring_regs {
	u32 blocks;
	u32 block_size;
	u32 status_lo;
	u32 status_hi;
	u32 prod;
	u32 cons;
	u32 timeout;
	u32 table_base;		/* the ring's first block table entry */
	u32 irq_count;
	u32 irq_time;
};

/* Ring r's registers (docs/REGISTERS.md: a 0x40-byte block per ring). */
static inline void fcap_ring_regs(unsigned int ring, struct fcap_ring_regs *r)
{
	*r = (struct fcap_ring_regs){
		.blocks = FCAP_RING_REG(ring, FCAP_RING_BLOCKS),
		.block_size = FCAP_RING_REG(ring, FCAP_RING_BLOCK_SIZE),
		.status_lo = FCAP_RING_REG(ring, FCAP_RING_STATUS_LO),
		.status_hi = FCAP_RING_REG(ring, FCAP_RING_STATUS_HI),
		.prod = FCAP_RING_REG(ring, FCAP_RING_PROD),
		.cons = FCAP_RING_REG(ring, FCAP_RING_CONS),
		.timeout = FCAP_RING_REG(ring, FCAP_RING_TIMEOUT),
		.table_base = FCAP_RING_REG(ring, FCAP_RING_TABLE_BASE),
		.irq_count = FCAP_RING_REG(ring, FCAP_RING_IRQ_COUNT),
		.irq_time = FCAP_RING_REG(ring, FCAP_RING_IRQ_TIME),
	};
}

#endif /* FCAP_HW_H */
