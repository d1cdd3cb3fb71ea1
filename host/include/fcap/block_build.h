/*
 * fcap/block_build.h - ring blocks made in software, record for record as
 * the card makes them (docs/FORMAT.md sections 1 and 2).
 *
 * For tests and benchmarks that feed the recorder without the simulator,
 * and for the software backend that is to come.
 */
#ifndef FCAP_BLOCK_BUILD_H
#define FCAP_BLOCK_BUILD_H

#include <stdbool.h>
#include <stdint.h>

struct fcap_block_builder {
	uint8_t *blk;
	uint32_t size;
	uint32_t used;
	uint32_t records;
	uint32_t seq;
	uint16_t ring;
	uint32_t drops;      /* frames dropped before this block: goes in the header */
	uint64_t first_ts, last_ts;
};

/* Starts a block in blk[0..size) (size a multiple of 4096). */
void fcap_bb_start(struct fcap_block_builder *b, uint8_t *blk, uint32_t size, uint16_t ring, uint32_t seq);
/* Record length the card writes for a frame: caplen bytes, with epb_flags
 * when flags is non-zero, with epb_dropcount when dropcount is non-zero. */
uint32_t fcap_bb_record_len(uint32_t caplen, uint32_t flags, uint64_t dropcount);
/* Appends a record; false when the block cannot take it (placement rule:
 * the block must keep no room or room for a padding block). */
bool fcap_bb_add(struct fcap_block_builder *b, uint32_t port, uint64_t ts, const uint8_t *data, uint32_t caplen,
		 uint32_t origlen, uint32_t flags, uint64_t dropcount);
/* Writes the padding block and the header (last, as the card does). */
void fcap_bb_finish(struct fcap_block_builder *b, uint32_t close_flags);

#endif
