// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_irq.c - interrupts: MSI-X, else MSI, else INTx, else a poll timer.
 *
 * Moderation: the card interrupts only while someone waits. poll() arms
 * the interrupt (acknowledge IRQ_STATUS, set IRQ_ENABLE) when it finds no
 * block ready; the handler disarms it, acknowledges and wakes the waiters.
 * A consumer that keeps up never takes an interrupt, and one that sleeps
 * takes one per wait, however many blocks the card publishes meanwhile.
 * Arming acknowledges first and the caller looks at the rings after
 * arming, so a block published in between is never missed.
 */
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/pci.h>

#include "fcap.h"

static irqreturn_t fcap_irq_handler(int irq, void *data)
{
	struct fcap_dev *fdev = data;
	u32 status;

	spin_lock(&fdev->irq_lock);
	status = fcap_rd(fdev, FCAP_REG_IRQ_STATUS);
	/* All ones: the card is gone from the bus; not ours either way. */
	if (status == 0xffffffff || !(status & fcap_irq_bits(fdev))) {
		spin_unlock(&fdev->irq_lock);
		return IRQ_NONE;
	}
	fcap_wr(fdev, FCAP_REG_IRQ_ENABLE, 0);
	fcap_wr(fdev, FCAP_REG_IRQ_STATUS, fcap_irq_bits(fdev));
	spin_unlock(&fdev->irq_lock);
	atomic64_inc(&fdev->interrupts);
	wake_up_interruptible_all(&fdev->wait);
	return IRQ_HANDLED;
}

/*
 * Without a usable interrupt: looks at the status words once per tick while
 * someone waits (poll() arms it again on every call that finds nothing).
 */
void fcap_irq_poll_timer(struct timer_list *t)
{
	struct fcap_dev *fdev = from_timer(fdev, t, poll_timer);

	atomic64_inc(&fdev->interrupts);
	if (fcap_rings_ready(fdev))
		wake_up_interruptible_all(&fdev->wait);
	else if (wq_has_sleeper(&fdev->wait))
		fcap_irq_arm(fdev);
}

void fcap_irq_arm(struct fcap_dev *fdev)
{
	unsigned long flags;

	spin_lock_irqsave(&fdev->irq_lock, flags);
	if (!fdev->gone) {
		if (fdev->irq_mode == FCAP_IRQ_MODE_POLL) {
			mod_timer(&fdev->poll_timer,
				  jiffies + msecs_to_jiffies(FCAP_POLL_INTERVAL_MS));
		} else {
			fcap_wr(fdev, FCAP_REG_IRQ_STATUS, fcap_irq_bits(fdev));
			fcap_wr(fdev, FCAP_REG_IRQ_ENABLE, fcap_irq_bits(fdev));
		}
	}
	spin_unlock_irqrestore(&fdev->irq_lock, flags);
}

const char *fcap_irq_mode_name(int mode)
{
	switch (mode) {
	case FCAP_IRQ_MODE_MSIX:
		return "msi-x";
	case FCAP_IRQ_MODE_MSI:
		return "msi";
	case FCAP_IRQ_MODE_INTX:
		return "intx";
	default:
		return "poll";
	}
}

int fcap_irq_init(struct fcap_dev *fdev)
{
	struct pci_dev *pdev = fdev->pdev;
	int nvec, rc;

	/* One vector: the card has one interrupt cause register for all rings. */
	nvec = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX | PCI_IRQ_MSI | PCI_IRQ_LEGACY);
	if (nvec < 0) {
		dev_warn(&pdev->dev, "no usable interrupt (%d): polling every %d ms\n", nvec,
			 FCAP_POLL_INTERVAL_MS);
		fdev->irq_mode = FCAP_IRQ_MODE_POLL;
		return 0;
	}
	fdev->irq_mode = pdev->msix_enabled ? FCAP_IRQ_MODE_MSIX :
			 pdev->msi_enabled ? FCAP_IRQ_MODE_MSI : FCAP_IRQ_MODE_INTX;
	fdev->irq = pci_irq_vector(pdev, 0);
	rc = request_irq(fdev->irq, fcap_irq_handler,
			 fdev->irq_mode == FCAP_IRQ_MODE_INTX ? IRQF_SHARED : 0, fdev->name, fdev);
	if (rc) {
		dev_err(&pdev->dev, "cannot request interrupt %d (%s)\n", fdev->irq,
			fcap_irq_mode_name(fdev->irq_mode));
		pci_free_irq_vectors(pdev);
		fdev->irq_mode = 0;
		return rc;
	}
	return 0;
}

void fcap_irq_exit(struct fcap_dev *fdev)
{
	if (fdev->irq_mode && fdev->irq_mode != FCAP_IRQ_MODE_POLL) {
		fcap_wr(fdev, FCAP_REG_IRQ_ENABLE, 0);
		free_irq(fdev->irq, fdev);
		pci_free_irq_vectors(fdev->pdev);
	}
	del_timer_sync(&fdev->poll_timer);
	fdev->irq_mode = 0;
}
