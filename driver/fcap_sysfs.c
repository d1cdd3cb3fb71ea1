// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_sysfs.c - the card's counters, in sysfs and for FCAP_IOC_COUNTERS.
 *
 * /sys/class/fcap/fcapN/{records,blocks,interrupts,irq_mode,state} and
 * /sys/class/fcap/fcapN/portP/{rx_frames,rx_bytes,drop_fifo,drop_ring,
 * rx_errors,truncated}: one value per file. Every read takes a counter
 * snapshot on the card (CNT_CTRL.SNAPSHOT), so the two halves of a 64-bit
 * counter always belong together. The port groups are built at probe from
 * the number of ports the device tree describes.
 */
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "fcap.h"

static const struct {
	const char *name;
	u32 off;
} fcap_port_fields[] = {
	{ "rx_frames", FCAP_PORT_RX_FRAMES },
	{ "rx_bytes", FCAP_PORT_RX_BYTES },
	{ "drop_fifo", FCAP_PORT_DROP_FIFO },
	{ "drop_ring", FCAP_PORT_DROP_RING },
	{ "rx_errors", FCAP_PORT_RX_ERRORS },
	{ "truncated", FCAP_PORT_TRUNCATED },
};

#define FCAP_PORT_FIELDS ARRAY_SIZE(fcap_port_fields)

struct fcap_port_attr {
	struct device_attribute attr;
	u32 reg;		/* the counter's register offset */
};

struct fcap_port_group {
	struct attribute_group group;
	char name[16];
	struct fcap_port_attr attrs[FCAP_PORT_FIELDS];
	struct attribute *ptrs[FCAP_PORT_FIELDS + 1];
};

/* One counter from a fresh snapshot; U64_MAX once the card is gone. */
static u64 fcap_counter(struct fcap_dev *fdev, u32 reg)
{
	u64 v = U64_MAX;

	mutex_lock(&fdev->lock);
	if (!fdev->gone) {
		fcap_wr(fdev, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_SNAPSHOT);
		v = fcap_rd64(fdev, reg);
	}
	mutex_unlock(&fdev->lock);
	return v;
}

/* All counters in one snapshot. The caller holds fdev->lock; the card is there. */
int fcap_read_counters(struct fcap_dev *fdev, struct fcap_ioc_counters *c)
{
	unsigned int p;

	fcap_wr(fdev, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_SNAPSHOT);
	c->nports = fdev->nports;
	c->records = fcap_rd64(fdev, FCAP_REG_CNT_RECORDS);
	c->blocks = fcap_rd64(fdev, FCAP_REG_CNT_BLOCKS);
	c->interrupts = atomic64_read(&fdev->interrupts);
	for (p = 0; p < fdev->nports; p++) {
		u32 base = FCAP_REG_PORT_BASE + p * FCAP_REG_PORT_STRIDE;
		struct fcap_ioc_port_counters *pc = &c->port[p];

		pc->rx_frames = fcap_rd64(fdev, base + FCAP_PORT_RX_FRAMES);
		pc->rx_bytes = fcap_rd64(fdev, base + FCAP_PORT_RX_BYTES);
		pc->drop_fifo = fcap_rd64(fdev, base + FCAP_PORT_DROP_FIFO);
		pc->drop_ring = fcap_rd64(fdev, base + FCAP_PORT_DROP_RING);
		pc->rx_errors = fcap_rd64(fdev, base + FCAP_PORT_RX_ERRORS);
		pc->truncated = fcap_rd64(fdev, base + FCAP_PORT_TRUNCATED);
	}
	return 0;
}

static ssize_t fcap_port_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct fcap_port_attr *pa = container_of(attr, struct fcap_port_attr, attr);

	return sysfs_emit(buf, "%llu\n", fcap_counter(dev_get_drvdata(dev), pa->reg));
}

static ssize_t records_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", fcap_counter(dev_get_drvdata(dev), FCAP_REG_CNT_RECORDS));
}
static DEVICE_ATTR_RO(records);

static ssize_t blocks_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", fcap_counter(dev_get_drvdata(dev), FCAP_REG_CNT_BLOCKS));
}
static DEVICE_ATTR_RO(blocks);

static ssize_t interrupts_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct fcap_dev *fdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&fdev->interrupts));
}
static DEVICE_ATTR_RO(interrupts);

static ssize_t irq_mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct fcap_dev *fdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", fcap_irq_mode_name(fdev->irq_mode));
}
static DEVICE_ATTR_RO(irq_mode);

static ssize_t state_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct fcap_dev *fdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", READ_ONCE(fdev->running) ? "running" : "stopped");
}
static DEVICE_ATTR_RO(state);

static struct attribute *fcap_card_attrs[] = {
	&dev_attr_records.attr,
	&dev_attr_blocks.attr,
	&dev_attr_interrupts.attr,
	&dev_attr_irq_mode.attr,
	&dev_attr_state.attr,
	NULL,
};

static const struct attribute_group fcap_card_group = {
	.attrs = fcap_card_attrs,
};

static void fcap_port_group_init(struct fcap_port_group *g, unsigned int port)
{
	unsigned int f;

	snprintf(g->name, sizeof(g->name), "port%u", port);
	for (f = 0; f < FCAP_PORT_FIELDS; f++) {
		struct fcap_port_attr *pa = &g->attrs[f];

		sysfs_attr_init(&pa->attr.attr);
		pa->attr.attr.name = fcap_port_fields[f].name;
		pa->attr.attr.mode = 0444;
		pa->attr.show = fcap_port_show;
		pa->reg = FCAP_REG_PORT_BASE + port * FCAP_REG_PORT_STRIDE +
			  fcap_port_fields[f].off;
		g->ptrs[f] = &pa->attr.attr;
	}
	g->group.name = g->name;
	g->group.attrs = g->ptrs;
}

/* The attribute groups of the class device: the card's, then one per port. */
int fcap_sysfs_build(struct fcap_dev *fdev)
{
	struct fcap_port_group *ports;
	unsigned int p;

	fdev->groups = kcalloc(fdev->nports + 2, sizeof(*fdev->groups), GFP_KERNEL);
	ports = kcalloc(fdev->nports, sizeof(*ports), GFP_KERNEL);
	if (!fdev->groups || !ports) {
		kfree(fdev->groups);
		kfree(ports);
		fdev->groups = NULL;
		return -ENOMEM;
	}
	fdev->groups[0] = &fcap_card_group;
	for (p = 0; p < fdev->nports; p++) {
		fcap_port_group_init(&ports[p], p);
		fdev->groups[p + 1] = &ports[p].group;
	}
	return 0;
}

void fcap_sysfs_free(struct fcap_dev *fdev)
{
	if (fdev->groups && fdev->nports)
		kfree(container_of(fdev->groups[1], struct fcap_port_group, group));
	kfree(fdev->groups);
	fdev->groups = NULL;
}
