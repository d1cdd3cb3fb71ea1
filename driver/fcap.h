/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcap.h - the fcap driver's state and the functions its files share.
 *
 * One struct fcap_dev per card. Files: fcap_main.c (module, PCI probe and
 * remove, identity and device tree), fcap_ring.c (ring memory, block table,
 * start/stop, consumer index), fcap_irq.c (MSI-X/MSI/INTx or a poll timer,
 * moderation), fcap_cdev.c (/dev/fcapN: open, ioctl, mmap, poll),
 * fcap_sysfs.c (counters), fcap_hw.h (registers), fcap_mbox.c (register
 * transport of the co-simulation), fcap_dt.c and
 * fcap_check.c (checks of untrusted input, also run in user-space tests).
 *
 * Lifetime: the card's binding, every open file and every mapping hold a
 * reference (kref). remove() stops the card and releases the hardware at
 * once; the ring memory goes with the last reference, so a mapping that
 * outlives the card never points at freed memory.
 */
#ifndef FCAP_H
#define FCAP_H

#include <linux/cdev.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "fcap/uapi.h"
#include "fcap_dt.h"
#include "fcap_hw.h"

#define FCAP_DRV_NAME		"fcap"
#define FCAP_MAX_CARDS		64
#define FCAP_POLL_INTERVAL_MS	1

/* A piece of DMA-coherent memory the card writes and user space maps. */
struct fcap_chunk {
	void *cpu;
	dma_addr_t dma;
	size_t len;
};

struct fcap_ring {
	struct fcap_dev *fdev;
	unsigned int index;
	struct fcap_ring_regs regs;
	u32 nblocks;
	u32 block_size;
	u32 chunk_blocks;
	u32 nchunks;
	struct fcap_chunk status;	/* one page; the card writes PROD at 0 */
	struct fcap_chunk *chunks;	/* nchunks chunks of chunk_blocks blocks */
	u64 status_offset;		/* mmap offsets (uapi.h, FCAP_IOC_RING) */
	u64 blocks_offset;
	u32 cons;			/* the consumer index last written to the card */
};

/*
 * How register accesses reach the card: MMIO on the register BAR (hardware),
 * or the co-simulation's mailbox (fcap_mbox.c, docs/COSIM.md). Everything
 * above fcap_rd()/fcap_wr() is the same code for both.
 */
enum fcap_transport {
	FCAP_TRANSPORT_MMIO,
	FCAP_TRANSPORT_MAILBOX,
};

struct fcap_mbox {
	void __iomem *bell;		/* ivshmem BAR0: the doorbell register */
	spinlock_t lock;		/* one request at a time */
	u32 seq;			/* the last request's sequence number */
	bool dead;			/* a request timed out: fail the rest at once */
};

struct fcap_dev {
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *regs;		/* the register BAR, or the mailbox BAR */
	enum fcap_transport transport;
	struct fcap_mbox mbox;
	int minor;
	char name[16];
	struct cdev *cdev;
	struct device *class_dev;
	const struct attribute_group **groups;

	/* Serialises control (start, stop, release, counters, owner) and gone. */
	struct mutex lock;
	bool gone;			/* removed: every operation fails with ENODEV */
	bool running;
	struct file *owner;		/* the open for writing that controls capture */

	u32 id;
	u32 version;
	u8 *dt;
	u32 dt_size;
	struct fcap_dt_info dt_info;
	unsigned int nrings;
	unsigned int nports;
	struct fcap_ring *rings;

	/* Interrupts: armed only while someone waits (fcap_irq_arm). */
	int irq_mode;			/* FCAP_IRQ_MODE_* */
	int irq;
	spinlock_t irq_lock;		/* IRQ_ENABLE and IRQ_STATUS accesses */
	wait_queue_head_t wait;
	struct timer_list poll_timer;
	atomic64_t interrupts;
};

/* IRQ_STATUS / IRQ_ENABLE bits of the card's rings: bit r for ring r. */
static inline u32 fcap_irq_bits(const struct fcap_dev *fdev)
{
	return fdev->nrings >= 32 ? 0xffffffffu : (1u << fdev->nrings) - 1;
}

/* fcap_main.c */
void fcap_dev_get(struct fcap_dev *fdev);
void fcap_dev_put(struct fcap_dev *fdev);
struct fcap_dev *fcap_dev_lookup(unsigned int minor);

/* fcap_ring.c */
int fcap_rings_alloc(struct fcap_dev *fdev, u32 blocks, u32 block_size);
void fcap_rings_free(struct fcap_dev *fdev);
void fcap_rings_program(struct fcap_dev *fdev);
u32 fcap_ring_prod(const struct fcap_ring *ring);
bool fcap_rings_ready(struct fcap_dev *fdev);
void fcap_card_set_clock(struct fcap_dev *fdev);
int fcap_card_start(struct fcap_dev *fdev, const struct fcap_ioc_start *args);
int fcap_card_stop(struct fcap_dev *fdev);
void fcap_card_halt(struct fcap_dev *fdev);
int fcap_ring_release(struct fcap_ring *ring, u32 cons);

/* fcap_irq.c */
int fcap_irq_init(struct fcap_dev *fdev);
void fcap_irq_exit(struct fcap_dev *fdev);
void fcap_irq_arm(struct fcap_dev *fdev);
void fcap_irq_poll_timer(struct timer_list *t);
const char *fcap_irq_mode_name(int mode);

/* fcap_cdev.c */
int fcap_cdev_init(void);
void fcap_cdev_exit(void);
int fcap_cdev_add(struct fcap_dev *fdev);
void fcap_cdev_del(struct fcap_dev *fdev);

/* fcap_sysfs.c */
int fcap_sysfs_build(struct fcap_dev *fdev);
void fcap_sysfs_free(struct fcap_dev *fdev);
int fcap_read_counters(struct fcap_dev *fdev, struct fcap_ioc_counters *c);

/* fcap_mbox.c */
int fcap_mbox_init(struct fcap_dev *fdev, void __iomem *bell);
u32 fcap_mbox_rd(struct fcap_dev *fdev, u32 off);
void fcap_mbox_wr(struct fcap_dev *fdev, u32 off, u32 val);

/* ---- Register accessors: the one place that knows the transport. ---- */

static inline u32 fcap_rd(struct fcap_dev *fdev, u32 off)
{
	if (fdev->transport == FCAP_TRANSPORT_MAILBOX)
		return fcap_mbox_rd(fdev, off);
	return ioread32(fdev->regs + off);
}

static inline void fcap_wr(struct fcap_dev *fdev, u32 off, u32 val)
{
	if (fdev->transport == FCAP_TRANSPORT_MAILBOX)
		fcap_mbox_wr(fdev, off, val);
	else
		iowrite32(val, fdev->regs + off);
}

/* A 64-bit counter snapshot: lo at off, hi at off + 4 (docs/REGISTERS.md). */
static inline u64 fcap_rd64(struct fcap_dev *fdev, u32 off)
{
	u64 lo = fcap_rd(fdev, off);

	return (u64)fcap_rd(fdev, off + 4) << 32 | lo;
}

#endif /* FCAP_H */
