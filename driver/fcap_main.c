// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_main.c - module, PCI probe and remove, identity and device tree.
 *
 * Probe: enable the device, map the register BAR, check that it is an fcap
 * card (ID register, major version, device tree blob), set the DMA mask,
 * allocate the rings and program their block tables, set up interrupts,
 * then create /dev/fcapN. Anything that is not an fcap card is refused
 * before the driver changes anything but the device's enable count, and
 * every step is undone on failure.
 */
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "fcap.h"
#include "fcap_check.h"
#include "fcap/mbox.h"

/*
 * No PCI vendor id of our own: docs/DRIVER.md explains the choice. Cards
 * with another id are bound through /sys/bus/pci/drivers/fcap/new_id; the
 * probe identifies the card by its ID register, never by the PCI id alone.
 */
#define FCAP_PCI_VENDOR		0x1234
#define FCAP_PCI_DEVICE		0xfca0

static unsigned int blocks = 16;
module_param(blocks, uint, 0444);
MODULE_PARM_DESC(blocks, "ring blocks per ring (default 16)");

static unsigned int block_size = 1 << 20;
module_param(block_size, uint, 0444);
MODULE_PARM_DESC(block_size, "bytes per ring block, a multiple of 4096, at most 4 MiB (default 1 MiB)");

static unsigned int regs_bar;
module_param(regs_bar, uint, 0444);
MODULE_PARM_DESC(regs_bar, "BAR holding the card's registers (default 0; some PCIe IP configurations place the user BAR elsewhere)");

static char *transport = "mmio";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "how register accesses reach the card: mmio (default: the register BAR) or mailbox (the QEMU co-simulation, docs/COSIM.md)");

/* ivshmem's layout (QEMU docs/specs/ivshmem-spec): registers in BAR0, shared memory in BAR2. */
#define FCAP_MBOX_BAR		2
#define FCAP_MBOX_BELL_BAR	0

static enum fcap_transport fcap_transport;

static DEFINE_MUTEX(fcap_devs_lock);
static DEFINE_IDR(fcap_devs);

void fcap_dev_get(struct fcap_dev *fdev)
{
	kref_get(&fdev->ref);
}

static void fcap_dev_release(struct kref *ref)
{
	struct fcap_dev *fdev = container_of(ref, struct fcap_dev, ref);

	/* poll() may have armed the timer after remove() stopped it. */
	del_timer_sync(&fdev->poll_timer);
	fcap_rings_free(fdev);
	fcap_sysfs_free(fdev);
	kfree(fdev->dt);
	pci_dev_put(fdev->pdev);
	kfree(fdev);
}

void fcap_dev_put(struct fcap_dev *fdev)
{
	kref_put(&fdev->ref, fcap_dev_release);
}

/* The card behind a minor with a reference taken, or NULL if there is none. */
struct fcap_dev *fcap_dev_lookup(unsigned int minor)
{
	struct fcap_dev *fdev;

	mutex_lock(&fcap_devs_lock);
	fdev = idr_find(&fcap_devs, minor);
	if (fdev)
		fcap_dev_get(fdev);
	mutex_unlock(&fcap_devs_lock);
	return fdev;
}

static int fcap_check_identity(struct fcap_dev *fdev)
{
	struct device *dev = &fdev->pdev->dev;

	fdev->id = fcap_rd(fdev, FCAP_REG_ID);
	if (fdev->id != FCAP_ID_MAGIC) {
		if (fdev->transport == FCAP_TRANSPORT_MAILBOX)
			dev_info(dev, "register ID reads 0x%08x through the mailbox, not an fcap card (0x%08x): not binding\n",
				 fdev->id, FCAP_ID_MAGIC);
		else
			dev_info(dev, "BAR%u register ID reads 0x%08x, not an fcap card (0x%08x): not binding\n",
				 regs_bar, fdev->id, FCAP_ID_MAGIC);
		return -ENODEV;
	}
	fdev->version = fcap_rd(fdev, FCAP_REG_VERSION);
	if (fdev->version >> 16 != FCAP_VERSION >> 16) {
		dev_err(dev, "card version %u.%u, this driver drives version %u.x: not binding\n",
			fdev->version >> 16, fdev->version & 0xffff, FCAP_VERSION >> 16);
		return -ENODEV;
	}
	return 0;
}

static int fcap_read_dt(struct fcap_dev *fdev)
{
	struct device *dev = &fdev->pdev->dev;
	u32 base = fcap_rd(fdev, FCAP_REG_DT_BASE);
	u32 size = fcap_rd(fdev, FCAP_REG_DT_SIZE);
	char why[FCAP_DT_WHY_LEN];
	u32 i, w;
	int rc;

	if (base != FCAP_REG_DT_ROM || size == 0 || size > FCAP_DT_ROM_BYTES || size % 4) {
		dev_err(dev, "device tree ROM at 0x%x, %u bytes: expected 4..%u bytes (a multiple of 4) at 0x%x\n",
			base, size, FCAP_DT_ROM_BYTES, FCAP_REG_DT_ROM);
		return -ENODEV;
	}
	fdev->dt = kmalloc(size, GFP_KERNEL);
	if (!fdev->dt)
		return -ENOMEM;
	for (i = 0; i < size; i += 4) {
		/* ROM word i holds blob bytes 4i..4i+3, byte 4i in bits 7:0. */
		w = fcap_rd(fdev, base + i);
		fdev->dt[i] = w;
		fdev->dt[i + 1] = w >> 8;
		fdev->dt[i + 2] = w >> 16;
		fdev->dt[i + 3] = w >> 24;
	}
	fdev->dt_size = size;
	rc = fcap_dt_parse(fdev->dt, size, &fdev->dt_info, why);
	if (rc) {
		dev_err(dev, "%s\n", why);
		return -ENODEV;
	}
	if (fdev->dt_info.format_version != FCAP_BLOCK_FORMAT_VERSION) {
		dev_err(dev, "card writes ring format %u, this driver knows %u\n",
			fdev->dt_info.format_version, FCAP_BLOCK_FORMAT_VERSION);
		return -ENODEV;
	}
	if (fdev->dt_info.rings > FCAP_HW_RINGS) {
		dev_err(dev, "card describes %u rings; the register map defines %u (docs/REGISTERS.md)\n",
			fdev->dt_info.rings, FCAP_HW_RINGS);
		return -ENODEV;
	}
	if (fdev->dt_info.nports > FCAP_UAPI_MAX_PORTS) {
		dev_err(dev, "card describes %u ports; the driver reports counters for %u\n",
			fdev->dt_info.nports, FCAP_UAPI_MAX_PORTS);
		return -ENODEV;
	}
	fdev->nrings = fdev->dt_info.rings;
	fdev->nports = fdev->dt_info.nports;
	return 0;
}

static int fcap_map_bar(struct fcap_dev *fdev, unsigned int bar, u32 need, void __iomem **va)
{
	struct pci_dev *pdev = fdev->pdev;
	bool mbox = fdev->transport == FCAP_TRANSPORT_MAILBOX;
	resource_size_t len;
	int rc;

	if (bar >= PCI_STD_NUM_BARS || !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		dev_info(&pdev->dev, "BAR%u is not a memory BAR: not an fcap card\n", bar);
		return -ENODEV;
	}
	len = pci_resource_len(pdev, bar);
	if (len < need) {
		dev_info(&pdev->dev, "BAR%u is %llu bytes, the card's %s need %u: not an fcap card\n",
			 bar, (unsigned long long)len,
			 mbox ? "mailbox registers" : "registers", need);
		return -ENODEV;
	}
	rc = pci_request_region(pdev, bar, FCAP_DRV_NAME);
	if (rc) {
		dev_err(&pdev->dev, "BAR%u is in use by another driver\n", bar);
		return rc;
	}
	*va = pci_iomap(pdev, bar, need);
	if (!*va) {
		pci_release_region(pdev, bar);
		dev_err(&pdev->dev, "cannot map BAR%u\n", bar);
		return -ENOMEM;
	}
	return 0;
}

static void fcap_unmap_bar(struct fcap_dev *fdev, unsigned int bar, void __iomem *va)
{
	pci_iounmap(fdev->pdev, va);
	pci_release_region(fdev->pdev, bar);
}

/* The co-simulation: the mailbox in BAR2, ivshmem's doorbell in BAR0. */
static int fcap_map_mailbox(struct fcap_dev *fdev)
{
	void __iomem *bell;
	int rc;

	rc = fcap_map_bar(fdev, FCAP_MBOX_BAR, FCAP_MBOX_BYTES, &fdev->regs);
	if (rc)
		return rc;
	rc = fcap_map_bar(fdev, FCAP_MBOX_BELL_BAR, FCAP_MBOX_IVSHMEM_DOORBELL + 4, &bell);
	if (rc)
		goto err_mbox;
	rc = fcap_mbox_init(fdev, bell);
	if (rc)
		goto err_bell;
	return 0;

err_bell:
	fcap_unmap_bar(fdev, FCAP_MBOX_BELL_BAR, bell);
err_mbox:
	fcap_unmap_bar(fdev, FCAP_MBOX_BAR, fdev->regs);
	fdev->regs = NULL;
	return rc;
}

static int fcap_map_regs(struct fcap_dev *fdev)
{
	fdev->transport = fcap_transport;
	if (fdev->transport == FCAP_TRANSPORT_MAILBOX)
		return fcap_map_mailbox(fdev);
	return fcap_map_bar(fdev, regs_bar, FCAP_REGS_MIN_LEN, &fdev->regs);
}

static void fcap_unmap_regs(struct fcap_dev *fdev)
{
	if (fdev->transport == FCAP_TRANSPORT_MAILBOX) {
		fcap_unmap_bar(fdev, FCAP_MBOX_BELL_BAR, fdev->mbox.bell);
		fcap_unmap_bar(fdev, FCAP_MBOX_BAR, fdev->regs);
	} else {
		fcap_unmap_bar(fdev, regs_bar, fdev->regs);
	}
	fdev->regs = NULL;
}

static int fcap_alloc_minor(struct fcap_dev *fdev)
{
	int minor;

	mutex_lock(&fcap_devs_lock);
	minor = idr_alloc(&fcap_devs, NULL, 0, FCAP_MAX_CARDS, GFP_KERNEL);
	mutex_unlock(&fcap_devs_lock);
	if (minor < 0)
		return minor == -ENOSPC ? -EBUSY : minor;
	fdev->minor = minor;
	snprintf(fdev->name, sizeof(fdev->name), "fcap%d", minor);
	return 0;
}

/* Makes the card visible to fcap_dev_lookup() (NULL until now: opens fail). */
static void fcap_publish_minor(struct fcap_dev *fdev)
{
	mutex_lock(&fcap_devs_lock);
	idr_replace(&fcap_devs, fdev, fdev->minor);
	mutex_unlock(&fcap_devs_lock);
}

static void fcap_free_minor(struct fcap_dev *fdev)
{
	mutex_lock(&fcap_devs_lock);
	idr_remove(&fcap_devs, fdev->minor);
	mutex_unlock(&fcap_devs_lock);
}

static int fcap_setup_card(struct fcap_dev *fdev)
{
	struct pci_dev *pdev = fdev->pdev;
	int rc;

	rc = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (rc) {
		dev_err(&pdev->dev, "no usable 64-bit DMA\n");
		return rc;
	}
	/* Quiet the card before it gets memory: a previous owner may have left it on. */
	fcap_card_halt(fdev);
	fcap_card_set_clock(fdev);
	rc = fcap_rings_alloc(fdev, blocks, block_size);
	if (rc)
		return rc;
	pci_set_master(pdev);
	fcap_rings_program(fdev);
	rc = fcap_irq_init(fdev);
	if (rc)
		goto err_rings;
	rc = fcap_sysfs_build(fdev);
	if (rc)
		goto err_irq;
	return 0;

err_irq:
	fcap_irq_exit(fdev);
err_rings:
	fcap_card_halt(fdev);
	pci_clear_master(pdev);
	return rc;
}

static int fcap_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct fcap_dev *fdev;
	int rc;

	fdev = kzalloc(sizeof(*fdev), GFP_KERNEL);
	if (!fdev)
		return -ENOMEM;
	kref_init(&fdev->ref);
	mutex_init(&fdev->lock);
	spin_lock_init(&fdev->irq_lock);
	init_waitqueue_head(&fdev->wait);
	timer_setup(&fdev->poll_timer, fcap_irq_poll_timer, 0);
	fdev->pdev = pci_dev_get(pdev);
	fdev->minor = -1;

	rc = pci_enable_device_mem(pdev);
	if (rc) {
		dev_err(&pdev->dev, "cannot enable the device\n");
		goto err_put;
	}
	rc = fcap_map_regs(fdev);
	if (rc)
		goto err_disable;
	rc = fcap_check_identity(fdev);
	if (rc)
		goto err_unmap;
	rc = fcap_read_dt(fdev);
	if (rc)
		goto err_unmap;
	rc = fcap_alloc_minor(fdev);
	if (rc)
		goto err_unmap;
	rc = fcap_setup_card(fdev);
	if (rc)
		goto err_minor;
	pci_set_drvdata(pdev, fdev);
	rc = fcap_cdev_add(fdev);
	if (rc)
		goto err_card;
	fcap_publish_minor(fdev);

	dev_info(&pdev->dev, "%s: card %u.%u, %u port(s), %u ring(s) of %u x %u bytes, %s\n",
		 fdev->name, fdev->version >> 16, fdev->version & 0xffff, fdev->nports,
		 fdev->nrings, fdev->rings[0].nblocks, fdev->rings[0].block_size,
		 fcap_irq_mode_name(fdev->irq_mode));
	return 0;

err_card:
	pci_set_drvdata(pdev, NULL);
	fcap_irq_exit(fdev);
	fcap_card_halt(fdev);
	pci_clear_master(pdev);
err_minor:
	fcap_free_minor(fdev);
err_unmap:
	fcap_unmap_regs(fdev);
err_disable:
	pci_disable_device(pdev);
err_put:
	fcap_dev_put(fdev);
	return rc;
}

static void fcap_remove(struct pci_dev *pdev)
{
	struct fcap_dev *fdev = pci_get_drvdata(pdev);

	/* No new opens: neither through the node nor through the minor. */
	fcap_free_minor(fdev);
	fcap_cdev_del(fdev);

	mutex_lock(&fdev->lock);
	/* Under irq_lock too: fcap_irq_arm() touches registers only while !gone. */
	spin_lock_irq(&fdev->irq_lock);
	fdev->gone = true;
	spin_unlock_irq(&fdev->irq_lock);
	fcap_card_halt(fdev);
	mutex_unlock(&fdev->lock);
	fcap_irq_exit(fdev);
	wake_up_interruptible_all(&fdev->wait);	/* pollers see POLLHUP */

	pci_clear_master(pdev);
	fcap_unmap_regs(fdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	dev_info(&pdev->dev, "%s removed\n", fdev->name);
	fcap_dev_put(fdev);
}

static const struct pci_device_id fcap_pci_ids[] = {
	{ PCI_DEVICE(FCAP_PCI_VENDOR, FCAP_PCI_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, fcap_pci_ids);

static struct pci_driver fcap_pci_driver = {
	.name = FCAP_DRV_NAME,
	.id_table = fcap_pci_ids,
	.probe = fcap_probe,
	.remove = fcap_remove,
};

static int __init fcap_init(void)
{
	int rc;

	if (!strcmp(transport, "mmio")) {
		fcap_transport = FCAP_TRANSPORT_MMIO;
	} else if (!strcmp(transport, "mailbox")) {
		fcap_transport = FCAP_TRANSPORT_MAILBOX;
	} else {
		pr_err("fcap: transport=%s: must be mmio or mailbox\n", transport);
		return -EINVAL;
	}
	if (block_size > FCAP_MAX_CHUNK || block_size % PAGE_SIZE) {
		pr_err("fcap: block_size=%u: must be a multiple of %lu, at most %u\n",
		       block_size, PAGE_SIZE, FCAP_MAX_CHUNK);
		return -EINVAL;
	}
	rc = fcap_cdev_init();
	if (rc)
		return rc;
	rc = pci_register_driver(&fcap_pci_driver);
	if (rc) {
		fcap_cdev_exit();
		return rc;
	}
	pr_info("fcap: driver loaded (uapi %u)\n", FCAP_UAPI_VERSION);
	return 0;
}

static void __exit fcap_exit(void)
{
	pci_unregister_driver(&fcap_pci_driver);
	fcap_cdev_exit();
	idr_destroy(&fcap_devs);
	pr_info("fcap: driver unloaded\n");
}

module_init(fcap_init);
module_exit(fcap_exit);

MODULE_DESCRIPTION("fcap FPGA packet capture card");
MODULE_AUTHOR("fcap developers");
MODULE_LICENSE("GPL");
