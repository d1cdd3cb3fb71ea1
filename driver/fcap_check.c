// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_check.c - checks of untrusted input (fcap_check.h).
 *
 * Nothing here trusts a number it is given: every sum is checked for
 * overflow before it is compared, and indices are compared as distances
 * (free-running 32-bit counters wrap).
 */
#include "fcap_check.h"
#include "fcap/card.h"

#define NSEC_PER_SECOND 1000000000ull

bool fcap_all_zero(const void *p, size_t n)
{
	const u8 *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int fcap_check_geometry(const struct fcap_dt_info *dt, u32 blocks, u32 block_size, u32 page_size,
			char *why)
{
	u32 align = dt->block_align > page_size ? dt->block_align : page_size;
	/* The rings share the card's block table. */
	u32 table = dt->max_blocks < FCAP_RING_TABLE_ENTRIES ? dt->max_blocks :
				FCAP_RING_TABLE_ENTRIES;
	u32 max_blocks = dt->rings ? table / dt->rings : table;
	u32 max_size = dt->max_block_size < FCAP_MAX_CHUNK ? dt->max_block_size : FCAP_MAX_CHUNK;

	if (align < 4096)
		align = 4096;
	if (blocks < 2 || blocks > max_blocks) {
		snprintf(why, FCAP_WHY_LEN, "blocks=%u: the card takes 2..%u per ring (%u rings)",
			 blocks, max_blocks, dt->rings);
		return -EINVAL;
	}
	if (block_size < dt->min_block_size || block_size > max_size || block_size % align) {
		snprintf(why, FCAP_WHY_LEN,
			 "block_size=%u: this card and driver take %u..%u bytes in multiples of %u",
			 block_size, dt->min_block_size, max_size, align);
		return -EINVAL;
	}
	/* A record of the largest snap length must fit an empty block. */
	if ((u64)dt->max_snaplen + 64 + FCAP_BLOCK_HEADER_LEN + FCAP_MIN_PAD_LEN > block_size) {
		snprintf(why, FCAP_WHY_LEN, "block_size=%u cannot hold a %u-byte frame", block_size,
			 dt->max_snaplen);
		return -EINVAL;
	}
	return 0;
}

u32 fcap_chunk_blocks(u32 block_size, u32 nblocks, u32 max_chunk)
{
	u32 n = block_size ? max_chunk / block_size : 1;

	if (n < 1)
		n = 1;
	return n < nblocks ? n : nblocks;
}

int fcap_map_find(const struct fcap_map_layout *l, u64 off, u64 len, u32 *chunk, u64 *skip)
{
	u64 chunk_len = (u64)l->chunk_blocks * l->block_size;
	u64 ring_len = (u64)l->nblocks * l->block_size;
	u64 rel, first, nchunks, this_len;

	if (len == 0 || off + len < off || chunk_len == 0)
		return -EINVAL;
	if (off >= l->status_offset && off - l->status_offset < l->status_len) {
		rel = off - l->status_offset;
		if (len > l->status_len - rel)
			return -EINVAL;
		*chunk = FCAP_MAP_STATUS;
		*skip = rel;
		return 0;
	}
	if (off < l->blocks_offset || off - l->blocks_offset >= ring_len)
		return -EINVAL;
	rel = off - l->blocks_offset;
	first = rel / chunk_len;
	nchunks = (l->nblocks + l->chunk_blocks - 1) / l->chunk_blocks;
	this_len = first + 1 < nchunks ? chunk_len : ring_len - first * chunk_len;
	if (len > this_len - (rel - first * chunk_len))
		return -EINVAL;
	*chunk = (u32)first;
	*skip = rel - first * chunk_len;
	return 0;
}

int fcap_check_release(u32 cons, u32 prod, u32 nblocks, u32 new_cons)
{
	u32 ready = prod - cons;

	if (ready > nblocks)
		return -EIO;
	if (new_cons - cons > ready)
		return -EINVAL;
	return 0;
}

u32 fcap_timeout_clocks(u64 ns, u32 clock_hz)
{
	u64 whole_s = ns / NSEC_PER_SECOND;
	u64 clocks;

	if (ns == 0)
		return 0;
	if (whole_s >= 0xFFFFFFFFull)
		return 0xFFFFFFFFu;
	/* whole_s and clock_hz are both below 2^32: the product fits. */
	clocks = whole_s * clock_hz + (ns % NSEC_PER_SECOND) * clock_hz / NSEC_PER_SECOND;
	if (clocks == 0)
		return 1;
	return clocks > 0xFFFFFFFFull ? 0xFFFFFFFFu : (u32)clocks;
}

int fcap_check_start_args(const struct fcap_ioc_start *a, u32 max_snaplen, u32 nblocks)
{
	if ((a->flags & ~FCAP_START_FLAGS) || !fcap_all_zero(a->reserved, sizeof(a->reserved)))
		return -EINVAL;
	if (a->snaplen > max_snaplen)
		return -EINVAL;
	if (a->irq_usecs > FCAP_MAX_IRQ_USECS || a->irq_blocks > nblocks)
		return -EINVAL;
	return 0;
}

int fcap_check_stop_args(const struct fcap_ioc_stop *a)
{
	if (a->flags || !fcap_all_zero(a->reserved, sizeof(a->reserved)))
		return -EINVAL;
	return 0;
}

int fcap_check_release_args(const struct fcap_ioc_release *a, u32 nrings)
{
	if (!fcap_all_zero(a->reserved, sizeof(a->reserved)) || a->ring >= nrings)
		return -EINVAL;
	return 0;
}

int fcap_check_ring_args(const struct fcap_ioc_ring *a, u32 nrings)
{
	if (a->flags || !fcap_all_zero(a->reserved, sizeof(a->reserved)) || a->ring >= nrings)
		return -EINVAL;
	return 0;
}

int fcap_check_dt_args(const struct fcap_ioc_dt *a)
{
	if (!fcap_all_zero(a->reserved, sizeof(a->reserved)))
		return -EINVAL;
	return 0;
}

int fcap_check_counters_args(const struct fcap_ioc_counters *a)
{
	if (a->flags || !fcap_all_zero(a->reserved, sizeof(a->reserved)))
		return -EINVAL;
	return 0;
}
