/*
 * fcap/seg_index.h - the index of one store segment (docs/STORE.md).
 *
 * Per ring block: file offset, stored length, earliest and latest record
 * timestamp, record count. Per record: its file offset. Per key (host,
 * port, protocol, flow: fcap/pktkeys.h): the sorted list of the records
 * that carry it. Written next to the segment as NAME.idx, checked with
 * CRC-32C per 4 KiB page, so that a lookup reads and verifies only the
 * pages it touches.
 */
#ifndef FCAP_SEG_INDEX_H
#define FCAP_SEG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/block.h"
#include "fcap/cardinfo.h"
#include "fcap/errbuf.h"

#define FCAP_INDEX_MAGIC "FCAPIDX1"
#define FCAP_INDEX_VERSION 1u
#define FCAP_INDEX_HEADER_LEN 512u
#define FCAP_INDEX_PAGE 4096u
/* Records per segment: ordinals and posting positions are 32-bit. The
 * recorder rotates before a segment would hold more. */
#define FCAP_SEG_MAX_RECORDS 500000000u
/* Bytes per segment: record offsets are kept as offset / 8 in 32 bits. */
#define FCAP_SEG_MAX_BYTES (32ull << 30)

/* What a segment holds and what was lost while it was open, by stage. */
struct fcap_seg_stats {
	uint64_t records;
	uint64_t first_ts, last_ts;        /* ns; 0/0 without records */
	uint64_t card_drops;               /* sum of epb_dropcount: frames the card dropped */
	uint64_t backlog_drops;            /* of those, while the disk writer was behind */
	uint64_t corrupt_lost;             /* frames in ring blocks that failed validation */
	uint64_t disk_lost;                /* frames in valid blocks that could not be written */
	uint64_t port_records[FCAP_MAX_PORTS];
	uint64_t port_drops[FCAP_MAX_PORTS];
};

struct fcap_index_block {
	uint64_t offset;       /* of the ring block header in the segment */
	uint64_t first_ts, last_ts;
	uint32_t len;          /* stored length */
	uint32_t records;
	uint32_t first_record; /* ordinal of its first record in the segment */
	uint32_t seq;          /* the ring's sequence number */
};

struct fcap_index_key {
	uint64_t key;
	uint32_t start;        /* first posting; with count 1, the record's ordinal itself */
	uint32_t count;
};

/* ---- building ---------------------------------------------------------- */

struct fcap_index_builder;

/* keys: file records under keys (false: blocks and offsets only, to measure
 * what the keys cost). NULL when out of memory. */
struct fcap_index_builder *fcap_ib_new(uint32_t ring, uint32_t nports, bool keys);
void fcap_ib_free(struct fcap_index_builder *ib);
/* Empties a builder for the next segment, keeping its memory (a flood's
 * tables are hundreds of megabytes: touching fresh pages each segment
 * would cost more than the indexing). */
void fcap_ib_reset(struct fcap_index_builder *ib, uint32_t ring);
/* Adds a ring block that passed fcap_block_check (or _stored) and now
 * sits at file_offset in the segment. */
int fcap_ib_add_block(struct fcap_index_builder *ib, const uint8_t *blk, const struct fcap_block_info *bi,
		      uint64_t file_offset, char *errbuf);
/* The statistics so far (records, drops per port...); the caller adds the
 * loss counters it knows. */
struct fcap_seg_stats *fcap_ib_stats(struct fcap_index_builder *ib);
uint64_t fcap_ib_blocks(const struct fcap_index_builder *ib);
/*
 * Writes the index for a segment whose ring blocks end at blocks_end and
 * whose file is file_size bytes, to fd (at offset 0; the caller fsyncs).
 * path is for messages. Afterwards the builder may only be reset or freed.
 */
int fcap_ib_write(struct fcap_index_builder *ib, int fd, const char *path, uint64_t blocks_end, uint64_t file_size,
		  char *errbuf);

/* ---- reading ----------------------------------------------------------- */

struct fcap_index {
	char *path;
	const uint8_t *map;
	size_t len;
	uint8_t *verified;        /* one bit per body page */
	uint64_t body_off, body_len;
	uint32_t ring, nports;
	bool has_keys;
	uint64_t blocks_end, file_size;
	uint64_t nblocks, nrecords, nkeys, npostings;
	uint64_t off_blocks, off_offsets, off_keys, off_postings;  /* in the body */
	struct fcap_seg_stats stats;
};

/*
 * Opens and checks an index: header and page checksums, every section
 * inside the file, and that it describes a segment of seg_size bytes (pass
 * 0 to skip that check). Pages are verified as they are first read.
 */
int fcap_index_open(struct fcap_index *ix, const char *path, uint64_t seg_size, char *errbuf);
void fcap_index_close(struct fcap_index *ix);
/* Verifies every page and the consistency of every section (block table
 * against record offsets, postings against records, keys sorted). */
int fcap_index_verify(struct fcap_index *ix, char *errbuf);
int fcap_index_block(struct fcap_index *ix, uint64_t i, struct fcap_index_block *b, char *errbuf);
int fcap_index_record_offset(struct fcap_index *ix, uint64_t ordinal, uint64_t *offset, char *errbuf);
/* The key's postings: *n = 0 when absent. *postings points into the map
 * (verified pages). */
int fcap_index_lookup(struct fcap_index *ix, uint64_t key, const uint32_t **postings, uint32_t *n,
		      char *errbuf);

#endif
