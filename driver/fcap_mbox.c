// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_mbox.c - register accesses through the co-simulation's mailbox.
 *
 * With transport=mailbox the "card" is an ivshmem-doorbell device whose
 * BAR2 is shared with the simulator process on the host (docs/COSIM.md);
 * the protocol is host/include/fcap/mbox.h. Every access waits for the
 * simulator's answer, writes included: the simulator performs it on the
 * Verilated card's register port and only then does the driver go on, so
 * register accesses keep program order (a real card's posted writes are
 * ordered the same way by PCIe). Callers may hold spinlocks (the interrupt
 * handler does), so the wait spins; it gives up after two seconds (a loaded
 * host may deschedule the simulator for a while), after which
 * every access fails at once, reading all ones like a card gone from the bus.
 */
#include <linux/iopoll.h>
#include <linux/pci.h>

#include "fcap.h"
#include "fcap/mbox.h"

#define FCAP_MBOX_TIMEOUT_US	2000000

int fcap_mbox_init(struct fcap_dev *fdev, void __iomem *bell)
{
	u32 magic = ioread32(fdev->regs + FCAP_MBOX_MAGIC);
	u32 version = ioread32(fdev->regs + FCAP_MBOX_VERSION);

	if (magic != FCAP_MBOX_MAGIC_VALUE || version != FCAP_MBOX_VERSION_VALUE) {
		dev_info(&fdev->pdev->dev, "no register mailbox (magic 0x%08x, version %u; want 0x%08x, %u): not binding\n",
			 magic, version, FCAP_MBOX_MAGIC_VALUE, FCAP_MBOX_VERSION_VALUE);
		return -ENODEV;
	}
	spin_lock_init(&fdev->mbox.lock);
	fdev->mbox.bell = bell;
	/* Go on from the simulator's last answer: a reload must not reuse a number. */
	fdev->mbox.seq = ioread32(fdev->regs + FCAP_MBOX_RESP_SEQ);
	fdev->mbox.dead = false;
	return 0;
}

/* One request; returns its answer's status and puts the value read in *result. */
static u32 fcap_mbox_call(struct fcap_dev *fdev, u32 op, u32 off, u32 val, u32 *result)
{
	struct fcap_mbox *mb = &fdev->mbox;
	void __iomem *base = fdev->regs;
	unsigned long flags;
	u32 seq, done, status;
	int rc;

	spin_lock_irqsave(&mb->lock, flags);
	if (mb->dead) {
		spin_unlock_irqrestore(&mb->lock, flags);
		*result = 0xffffffff;
		return FCAP_MBOX_STATUS_CARD_ERROR;
	}
	seq = ++mb->seq;
	iowrite32(op, base + FCAP_MBOX_REQ_OP);
	iowrite32(off, base + FCAP_MBOX_REQ_OFFSET);
	iowrite32(val, base + FCAP_MBOX_REQ_VALUE);
	/* The request's fields before its sequence number: the simulator acts on the latter. */
	wmb();
	iowrite32(seq, base + FCAP_MBOX_REQ_SEQ);
	if (mb->bell)
		iowrite32(FCAP_MBOX_DOORBELL, mb->bell + FCAP_MBOX_IVSHMEM_DOORBELL);
	rc = read_poll_timeout_atomic(ioread32, done, done == seq, 0, FCAP_MBOX_TIMEOUT_US,
				      false, base + FCAP_MBOX_RESP_SEQ);
	if (rc) {
		mb->dead = true;
		spin_unlock_irqrestore(&mb->lock, flags);
		dev_err(&fdev->pdev->dev, "register mailbox: no answer to request %u (op %u, offset 0x%x) within %d us: simulator gone? Every further access fails\n",
			seq, op, off, FCAP_MBOX_TIMEOUT_US);
		*result = 0xffffffff;
		return FCAP_MBOX_STATUS_CARD_ERROR;
	}
	/* The answer's fields after its sequence number (written last by the simulator). */
	rmb();
	*result = ioread32(base + FCAP_MBOX_RESP_RESULT);
	status = ioread32(base + FCAP_MBOX_RESP_STATUS);
	spin_unlock_irqrestore(&mb->lock, flags);
	return status;
}

u32 fcap_mbox_rd(struct fcap_dev *fdev, u32 off)
{
	u32 v;

	if (fcap_mbox_call(fdev, FCAP_MBOX_OP_READ, off, 0, &v) != FCAP_MBOX_STATUS_OK)
		return 0xffffffff;
	return v;
}

void fcap_mbox_wr(struct fcap_dev *fdev, u32 off, u32 val)
{
	u32 unused, status = fcap_mbox_call(fdev, FCAP_MBOX_OP_WRITE, off, val, &unused);

	if (status != FCAP_MBOX_STATUS_OK && !fdev->mbox.dead)
		dev_err_ratelimited(&fdev->pdev->dev, "register mailbox: write of 0x%x to 0x%x failed (status %u)\n",
				    val, off, status);
}
