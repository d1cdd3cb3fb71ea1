/*
 * fcap/dev.h - one interface to every kind of capture device.
 *
 * A backend provides register access, host memory the card can write (DMA),
 * and a way to wait for the card. Everything above it (card setup, the ring
 * consumer, the recorder) is backend-agnostic. Backends: "sim" (the Verilated
 * card in this process). The pcie and pcap backends come later.
 */
#ifndef FCAP_DEV_H
#define FCAP_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

struct fcap_dma_buf {
	void *va;      /* host virtual address */
	uint64_t bus;  /* address the card writes to */
	size_t len;
	bool huge;     /* backed by hugepages */
};

struct fcap_dev;

struct fcap_dev_ops {
	const char *name;
	uint32_t (*reg_read)(struct fcap_dev *dev, uint32_t off);
	int (*reg_write)(struct fcap_dev *dev, uint32_t off, uint32_t val);
	int (*dma_alloc)(struct fcap_dev *dev, size_t len, struct fcap_dma_buf *buf, char *errbuf);
	void (*dma_free)(struct fcap_dev *dev, struct fcap_dma_buf *buf);
	/* Returns when the card raised its interrupt, the traffic source is
	 * exhausted, or timeout_ns of card time passed. 0, or -1 on error. */
	int (*wait)(struct fcap_dev *dev, uint64_t timeout_ns, char *errbuf);
	/* Starts a traffic source the backend owns (the sim's replay); NULL
	 * for live devices, whose traffic never waits for the host. */
	void (*start_source)(struct fcap_dev *dev);
	/* A finite traffic source (a replay) has delivered everything and the
	 * card holds nothing in flight. Live devices never finish. */
	bool (*source_done)(struct fcap_dev *dev);
	/* Why the traffic source stopped early, or NULL. */
	const char *(*source_error)(struct fcap_dev *dev);
	/* Card time elapsed since the device was opened, in ns, if the backend
	 * knows it (simulation); 0 otherwise. */
	uint64_t (*elapsed_ns)(struct fcap_dev *dev);
	void (*close)(struct fcap_dev *dev);
};

struct fcap_dev {
	const struct fcap_dev_ops *ops;
	void *priv;
};

static inline uint32_t fcap_reg_read(struct fcap_dev *dev, uint32_t off)
{
	return dev->ops->reg_read(dev, off);
}

static inline int fcap_reg_write(struct fcap_dev *dev, uint32_t off, uint32_t val)
{
	return dev->ops->reg_write(dev, off, val);
}

void fcap_dev_close(struct fcap_dev *dev);

/* ---- sim backend -------------------------------------------------------- */
struct fcap_sim;

struct fcap_replay {
	unsigned port;
	const char *path;
};

struct fcap_sim_dev_config {
	const struct fcap_replay *replay; /* files queued on their ports, in order */
	unsigned nreplay;
	uint64_t line_rate_bps;      /* 0: 10 Gb/s */
};

struct fcap_dev *fcap_dev_open_sim(const struct fcap_sim_dev_config *cfg, char *errbuf);
/* The simulator behind a sim device (tests drive it directly), or NULL. */
struct fcap_sim *fcap_dev_sim(struct fcap_dev *dev);

#endif
