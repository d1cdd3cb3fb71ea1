/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcap_check.h - checks of what user space and the card hand the driver:
 * ioctl arguments, ring geometry, mmap ranges, producer and consumer
 * indices. Pure functions (no kernel API), shared with the user-space test
 * tests/unit/test_driver.c.
 */
#ifndef FCAP_CHECK_H
#define FCAP_CHECK_H

#include "fcap_portable.h"
#include "fcap_dt.h"
#include "fcap/uapi.h"

#define FCAP_WHY_LEN 160
/* Largest DMA-coherent chunk the driver asks for: order-10 pages on x86. */
#define FCAP_MAX_CHUNK (4u << 20)
/* fcap_map_find(): the range is the status page. */
#define FCAP_MAP_STATUS 0xFFFFFFFFu

/* True when n bytes at p are all zero. */
bool fcap_all_zero(const void *p, size_t n);

/*
 * Ring geometry asked for by module parameters against what the card's
 * device tree allows and what the driver can allocate (each block must be
 * bus-contiguous, so at most FCAP_MAX_CHUNK). 0 or -EINVAL with why.
 */
int fcap_check_geometry(const struct fcap_dt_info *dt, u32 blocks, u32 block_size, u32 page_size,
			char *why);
/* Blocks per DMA chunk for this geometry: as many as fit max_chunk, at least 1. */
u32 fcap_chunk_blocks(u32 block_size, u32 nblocks, u32 max_chunk);

/* Where one ring lives in the mmap offset space of /dev/fcapN. */
struct fcap_map_layout {
	u64 status_offset;
	u32 status_len;
	u64 blocks_offset;
	u32 nblocks;
	u32 block_size;
	u32 chunk_blocks;
};

/*
 * Finds the mapping that [off, off + len) asks for: the status page
 * (*chunk = FCAP_MAP_STATUS) or part of one chunk of blocks; *skip is the
 * offset of the range inside it. -EINVAL when the range is empty, is not
 * inside the ring, or crosses a chunk.
 */
int fcap_map_find(const struct fcap_map_layout *l, u64 off, u64 len, u32 *chunk, u64 *skip);

/*
 * May the consumer index go from cons to new_cons when the card says prod?
 * 0; -EIO when prod itself is impossible (more than nblocks ahead of cons:
 * a card that lies); -EINVAL when new_cons goes back or past prod.
 */
int fcap_check_release(u32 cons, u32 prod, u32 nblocks, u32 new_cons);

/* Card clocks for a block timeout of ns, saturated to 32 bits; 0 stays 0. */
u32 fcap_timeout_clocks(u64 ns, u32 clock_hz);

/*
 * ioctl arguments: flags known and reserved zero, values in range (an
 * interrupt count no larger than a ring's nblocks). 0 or -EINVAL.
 */
int fcap_check_start_args(const struct fcap_ioc_start *a, u32 max_snaplen, u32 nblocks);
int fcap_check_stop_args(const struct fcap_ioc_stop *a);
int fcap_check_release_args(const struct fcap_ioc_release *a, u32 nrings);
int fcap_check_ring_args(const struct fcap_ioc_ring *a, u32 nrings);
int fcap_check_dt_args(const struct fcap_ioc_dt *a);
int fcap_check_counters_args(const struct fcap_ioc_counters *a);

#endif /* FCAP_CHECK_H */
