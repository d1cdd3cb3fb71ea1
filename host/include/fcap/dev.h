/*
 * fcap/dev.h - one interface to every kind of capture device.
 *
 * A backend provides a way to wait for the card and either of two ways to
 * drive it:
 *  - register level (sim): register access and host memory the card can
 *    write (DMA); cardinfo.c, ring.c and cardctl.c run the register
 *    sequences of docs/REGISTERS.md over them;
 *  - card level (pcie): a kernel driver owns the registers and the ring
 *    memory, so the backend implements the card-level operations below
 *    with the driver's ioctls and mmap, and leaves reg_read, reg_write,
 *    dma_alloc and dma_free NULL.
 * Everything above (card setup, the ring consumer, the recorder) is
 * backend-agnostic. Backends: "sim" (the Verilated card in this process),
 * "pcie" (/dev/fcapN, driver/), "pcap" (a network interface or a capture
 * file through libpcap, blocks built in software: dev_pcap.c).
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
struct fcap_ring;
struct fcap_ring_config;
struct fcap_card_counters;
struct fcap_card_info;

struct fcap_dev_ops {
	const char *name;
	uint32_t (*reg_read)(struct fcap_dev *dev, uint32_t off);
	int (*reg_write)(struct fcap_dev *dev, uint32_t off, uint32_t val);
	int (*dma_alloc)(struct fcap_dev *dev, size_t len, struct fcap_dma_buf *buf, char *errbuf);
	void (*dma_free)(struct fcap_dev *dev, struct fcap_dma_buf *buf);
	/* Returns when the card raised its interrupt, the traffic source is
	 * exhausted, or timeout_ns of card time passed. 0, or -1 on error. */
	int (*wait)(struct fcap_dev *dev, uint64_t timeout_ns, char *errbuf);
	/* Polling mode's pause between looks at the rings: lets about ns of
	 * card time pass without waiting for an interrupt (returns early
	 * when a finite traffic source is done). */
	void (*pause)(struct fcap_dev *dev, uint64_t ns);
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

	/* Card level (NULL for register-level backends). */
	/* Identity registers and a copy of the device tree blob (malloc'ed). */
	int (*read_dt)(struct fcap_dev *dev, uint32_t *id, uint32_t *version, uint8_t **blob, size_t *len,
		       char *errbuf);
	/* Maps the ring read-only into ring (mem, status, blocks, nblocks, block_size);
	 * blocks or block_size 0 in cfg take what the device has. */
	int (*ring_map)(struct fcap_dev *dev, const struct fcap_ring_config *cfg, struct fcap_ring *ring,
			char *errbuf);
	void (*ring_unmap)(struct fcap_dev *dev, struct fcap_ring *ring);
	/* Returns blocks to the card: its consumer index becomes cons. */
	int (*ring_return)(struct fcap_dev *dev, uint32_t ring, uint32_t cons, char *errbuf);
	/* Resets the ring, loads the clock, clears counters, enables capture. */
	int (*start)(struct fcap_dev *dev, const struct fcap_ring_config *cfg, char *errbuf);
	/* fcap_card_stop()'s sequence. */
	int (*stop)(struct fcap_dev *dev, char *errbuf);
	int (*counters)(struct fcap_dev *dev, struct fcap_card_counters *c, char *errbuf);
	/* Software devices (pcap) describe themselves directly rather than
	 * through a device tree (NULL: read_dt or the register window). */
	int (*info)(struct fcap_dev *dev, struct fcap_card_info *ci, char *errbuf);
};

struct fcap_dev {
	const struct fcap_dev_ops *ops;
	void *priv;
};

/* Register access (register-level backends only: see fcap_dev_has_regs). */
static inline uint32_t fcap_reg_read(struct fcap_dev *dev, uint32_t off)
{
	return dev->ops->reg_read(dev, off);
}

static inline int fcap_reg_write(struct fcap_dev *dev, uint32_t off, uint32_t val)
{
	return dev->ops->reg_write(dev, off, val);
}

static inline bool fcap_dev_has_regs(const struct fcap_dev *dev)
{
	return dev->ops->reg_read != NULL;
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
	uint64_t line_rate_bps;      /* 0: the ports' own speed (10 or 100 Gb/s) */
	const char *bus;             /* PCIe link preset (sim/sim_bus.c); NULL: the card's own,
				      * gen3x8 (4x10g) or gen4x16 (1x100g) */
	const char *card;            /* simulated card (sim/fcap_sim.h): "4x10g" (NULL) or "1x100g" */
};

struct fcap_dev *fcap_dev_open_sim(const struct fcap_sim_dev_config *cfg, char *errbuf);
/* The simulator behind a sim device (tests drive it directly), or NULL. */
struct fcap_sim *fcap_dev_sim(struct fcap_dev *dev);

/* ---- pcie backend: /dev/fcapN through the kernel driver (driver/) -------- */

/*
 * Whether name designates a card behind the driver: "/dev/fcapN" or
 * "pcie:N". Returns 1 and the node's path in path (n bytes), 0 when name
 * is something else, -1 (errbuf set) when it is malformed.
 */
int fcap_dev_pcie_path(const char *name, char *path, size_t n, char *errbuf);
/* Opens the card; control: for writing, as the owner that may capture
 * (one at a time), else read-only (identity and counters). */
struct fcap_dev *fcap_dev_open_pcie(const char *path, bool control, char *errbuf);

/* ---- pcap backend: a network interface or a capture file via libpcap ----- */

struct fcap_pcap_dev_config {
	const char *interface;   /* live capture from this interface, or: */
	const char *file;        /* read this pcap or pcapng file */
	uint32_t snaplen;        /* 0: 65535 */
	const char *filter;      /* tcpdump filter expression, or NULL */
	uint64_t count;          /* stop after this many frames (0: no limit) */
	uint32_t buffer_bytes;   /* kernel buffer of a live capture; 0: libpcap's default */
	/* Records in ns even from a microsecond source (values x 1000), as a
	 * store needs (its index and time queries are in ns); the IDB then
	 * says 9 and if_description says the source had microseconds. */
	bool ns_units;
};

/*
 * Opens the interface (needs CAP_NET_RAW, so before dropping privileges)
 * or the file; compiles the filter. Timestamps are nanoseconds where the
 * interface or file offers them, microseconds otherwise, and the device
 * says which (fcap_card_info.ts_resol), so files declare it.
 */
struct fcap_dev *fcap_dev_open_pcap(const struct fcap_pcap_dev_config *cfg, char *errbuf);

#endif
