/*
 * block_build.c - ring blocks made in software (fcap/block_build.h).
 */
#include "fcap/block_build.h"

#include <string.h>

#include "bytes.h"
#include "fcap/card.h"

void fcap_bb_start(struct fcap_block_builder *b, uint8_t *blk, uint32_t size, uint16_t ring, uint32_t seq)
{
	*b = (struct fcap_block_builder){ .blk = blk, .size = size, .used = FCAP_BLOCK_HEADER_LEN, .seq = seq,
					  .ring = ring, .first_ts = UINT64_MAX };
}

uint32_t fcap_bb_record_len(uint32_t caplen, uint32_t flags, uint64_t dropcount)
{
	/* 32-bit units: 7 header, the data, 2 epb_flags, 3 epb_dropcount, 1 trailer;
	 * opt_endofopt (1) when the count is odd. */
	uint32_t units = 8 + (caplen + 3) / 4 + (flags ? 2 : 0) + (dropcount ? 3 : 0);
	return 4 * (units + (units & 1));
}

bool fcap_bb_add(struct fcap_block_builder *b, uint32_t port, uint64_t ts, const uint8_t *data, uint32_t caplen,
		 uint32_t origlen, uint32_t flags, uint64_t dropcount)
{
	uint32_t len = fcap_bb_record_len(caplen, flags, dropcount);
	uint32_t room = b->size - b->used;
	if (len > room || (len < room && room - len < FCAP_MIN_PAD_LEN))
		return false;
	uint8_t *p = b->blk + b->used;
	memset(p, 0, len);
	st32(p, FCAP_PCAPNG_EPB);
	st32(p + 4, len);
	st32(p + 8, port);
	st32(p + 12, (uint32_t)(ts >> 32));
	st32(p + 16, (uint32_t)ts);
	st32(p + 20, caplen);
	st32(p + 24, origlen);
	memcpy(p + 28, data, caplen);
	uint32_t o = 28 + ((caplen + 3) & ~3u);
	if (flags) {
		st16(p + o, FCAP_OPT_EPB_FLAGS);
		st16(p + o + 2, 4);
		st32(p + o + 4, flags);
		o += 8;
	}
	if (dropcount) {
		st16(p + o, FCAP_OPT_EPB_DROPCOUNT);
		st16(p + o + 2, 8);
		st64(p + o + 4, dropcount);
	}
	st32(p + len - 4, len);
	b->used += len;
	b->records++;
	if (ts < b->first_ts)
		b->first_ts = ts;
	if (ts > b->last_ts)
		b->last_ts = ts;
	return true;
}

void fcap_bb_finish(struct fcap_block_builder *b, uint32_t close_flags)
{
	uint8_t *h = b->blk;
	if (b->used < b->size) {
		uint32_t pad = b->size - b->used;
		st32(h + b->used, FCAP_BT_PADDING);
		st32(h + b->used + 4, pad);
		st32(h + b->size - 4, pad);
	}
	memset(h, 0, FCAP_BLOCK_HEADER_LEN);
	st32(h, FCAP_BT_BLOCK_HEADER);
	st32(h + 4, FCAP_BLOCK_HEADER_LEN);
	st16(h + 8, FCAP_BLOCK_FORMAT_VERSION);
	st16(h + 10, b->ring);
	st32(h + 12, b->seq);
	st32(h + 16, b->used);
	st32(h + 20, b->records);
	st64(h + 24, b->records ? b->first_ts : 0);
	st64(h + 32, b->last_ts);
	st32(h + 40, b->drops);
	st32(h + 44, close_flags);
	st32(h + 48, b->size);
	st32(h + 60, FCAP_BLOCK_HEADER_LEN);
}
