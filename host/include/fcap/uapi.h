/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * fcap/uapi.h - what the fcap kernel driver (driver/) offers user space.
 *
 * Shared, unchanged, by the driver and libfcap's pcie backend
 * (host/lib/dev_pcie.c). /dev/fcapN is one card; docs/DRIVER.md describes
 * the protocol: identity, ring geometry and mmap layout, start/stop, the
 * consumer index, counters, poll().
 *
 * Rules every ioctl follows:
 *  - the command number encodes the argument's size and direction, so a
 *    caller built against another layout gets ENOTTY, never a misread;
 *  - every field named flags or reserved must be zero on input (EINVAL
 *    otherwise) and reads back as zero;
 *  - nothing returned is a kernel address or a bus address.
 * The structures have the same layout on 32- and 64-bit user space
 * (explicit widths, no implicit padding; user pointers travel as __u64).
 */
#ifndef FCAP_UAPI_H
#define FCAP_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FCAP_UAPI_VERSION	1
#define FCAP_IOC_MAGIC		0xFC
#define FCAP_UAPI_MAX_PORTS	16

/* fcap_ioc_info.state */
#define FCAP_STATE_STOPPED	0
#define FCAP_STATE_RUNNING	1

/* fcap_ioc_info.irq_mode: how the driver learns that a block was published. */
#define FCAP_IRQ_MODE_MSIX	1
#define FCAP_IRQ_MODE_MSI	2
#define FCAP_IRQ_MODE_INTX	3
#define FCAP_IRQ_MODE_POLL	4	/* no usable interrupt: a 1 ms timer */

/* FCAP_IOC_INFO (out): identity of the card and of the driver. */
struct fcap_ioc_info {
	__u32 id;		/* the card's ID register (FCAP_ID_MAGIC) */
	__u32 version;		/* its VERSION register, major.minor 16.16 */
	__u32 uapi_version;	/* FCAP_UAPI_VERSION of the driver */
	__u32 dt_size;		/* bytes of device tree blob (FCAP_IOC_GET_DT) */
	__u32 nrings;
	__u32 nports;
	__u32 state;		/* FCAP_STATE_* */
	__u32 irq_mode;		/* FCAP_IRQ_MODE_* */
	__u32 reserved[8];
};

/* FCAP_IOC_GET_DT (in/out): a copy of the card's device tree blob. */
struct fcap_ioc_dt {
	__u64 buf;		/* in: user buffer */
	__u32 len;		/* in: its size in bytes */
	__u32 size;		/* out: the blob's size; ENOSPC when len < size */
	__u32 reserved[4];
};

/*
 * FCAP_IOC_RING (in/out): geometry of one ring and where to mmap it.
 *
 * The status page (the card writes its producer index, a little-endian
 * __u32, at offset 0) is mapped at status_offset, status_len bytes. Block i
 * is at blocks_offset + i * block_size. One mmap() may not cross a chunk:
 * chunk c holds blocks c * chunk_blocks .. (c + 1) * chunk_blocks - 1 (the
 * last chunk may hold fewer). Map the chunks side by side (MAP_FIXED into
 * one reserved range) to see the ring as one array. Mappings are read-only.
 */
struct fcap_ioc_ring {
	__u32 ring;		/* in: ring index, < nrings */
	__u32 flags;		/* in: 0 */
	__u32 nblocks;
	__u32 block_size;	/* bytes, a multiple of the page size */
	__u32 chunk_blocks;	/* blocks per mmap chunk */
	__u32 status_len;
	__u64 status_offset;
	__u64 blocks_offset;
	__u32 prod;		/* the card's producer index now */
	__u32 cons;		/* the consumer index the driver last gave the card */
	__u32 reserved[6];
};

/*
 * FCAP_IOC_START (in): resets the rings (indices to 0), loads the card's
 * clock with the time of day, clears the counters and enables capture.
 * Only the open file that owns the card (the one open for writing) may.
 * Interrupt moderation applies to every ring: a ring interrupts once
 * irq_blocks blocks are published, or irq_usecs after the first of them,
 * whichever comes first. A consumer that never calls poll() leaves the
 * interrupt unarmed (polling mode).
 */
#define FCAP_START_HASH		0x1u	/* each record carries its flow hash (epb_hash) */
#define FCAP_START_FLAGS	FCAP_START_HASH
#define FCAP_MAX_IRQ_USECS	1000000u

struct fcap_ioc_start {
	__u64 block_timeout_ns;	/* close a block holding records after this; 0 = never */
	__u32 snaplen;		/* bytes kept per frame; 0 = the card's maximum */
	__u32 flags;		/* FCAP_START_* */
	__u32 irq_blocks;	/* 0 or 1: interrupt for every block */
	__u32 irq_usecs;	/* 0: never on time alone; at most FCAP_MAX_IRQ_USECS */
	__u32 reserved[2];
};

/*
 * FCAP_IOC_STOP (in): stops accepting frames, waits until the card holds
 * none in flight and closes every open block, so that every frame it took
 * is in a published block. Published blocks stay mapped and can still be
 * consumed and released.
 */
struct fcap_ioc_stop {
	__u32 flags;		/* 0 */
	__u32 reserved[3];
};

/*
 * FCAP_IOC_RELEASE (in): returns blocks to the card: the ring's consumer
 * index becomes cons. It may not go back, nor past the producer index.
 */
struct fcap_ioc_release {
	__u32 ring;
	__u32 cons;
	__u32 reserved[2];
};

struct fcap_ioc_port_counters {
	__u64 rx_frames;	/* frames seen on the wire while capture was enabled */
	__u64 rx_bytes;
	__u64 drop_fifo;	/* dropped: on-card FIFO full */
	__u64 drop_ring;	/* dropped: no free ring block */
	__u64 rx_errors;	/* MAC/FCS errors (recorded, flagged) */
	__u64 truncated;	/* cut to the snap length */
};

/* FCAP_IOC_COUNTERS (in/out): one consistent snapshot of the card's counters. */
struct fcap_ioc_counters {
	__u32 flags;		/* in: 0 */
	__u32 nports;		/* out: entries of port[] filled */
	__u64 records;		/* records written */
	__u64 blocks;		/* blocks published */
	__u64 interrupts;	/* interrupts (or poll timer ticks) the driver took */
	__u64 reserved[4];
	struct fcap_ioc_port_counters port[FCAP_UAPI_MAX_PORTS];
};

#define FCAP_IOC_INFO		_IOR(FCAP_IOC_MAGIC, 0, struct fcap_ioc_info)
#define FCAP_IOC_GET_DT		_IOWR(FCAP_IOC_MAGIC, 1, struct fcap_ioc_dt)
#define FCAP_IOC_RING		_IOWR(FCAP_IOC_MAGIC, 2, struct fcap_ioc_ring)
#define FCAP_IOC_START		_IOW(FCAP_IOC_MAGIC, 3, struct fcap_ioc_start)
#define FCAP_IOC_STOP		_IOW(FCAP_IOC_MAGIC, 4, struct fcap_ioc_stop)
#define FCAP_IOC_RELEASE	_IOW(FCAP_IOC_MAGIC, 5, struct fcap_ioc_release)
#define FCAP_IOC_COUNTERS	_IOWR(FCAP_IOC_MAGIC, 6, struct fcap_ioc_counters)

#endif /* FCAP_UAPI_H */
