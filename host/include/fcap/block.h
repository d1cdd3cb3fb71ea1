/*
 * fcap/block.h - validating ring blocks and reading the records in them.
 *
 * Pure functions over a byte buffer: no device, no allocation. Every length
 * is checked against the length that encloses it before it is used, so any
 * byte pattern (a buggy card, a corrupt file) yields an error message naming
 * the offset, never an out-of-bounds read. Layouts: docs/FORMAT.md.
 */
#ifndef FCAP_BLOCK_H
#define FCAP_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

struct fcap_block_info {
	uint16_t version;
	uint16_t ring;
	uint32_t seq;         /* block sequence number (producer index) */
	uint32_t used;        /* bytes from the block start to the end of the last record */
	uint32_t records;
	uint64_t first_ts;    /* ns, earliest record (ports interleave, so not always the first) */
	uint64_t last_ts;     /* ns, latest record */
	uint32_t drops;       /* frames the card dropped since the previous block closed */
	uint32_t close_flags; /* FCAP_BLOCK_CLOSED_* */
	uint32_t block_size;
};

struct fcap_record {
	uint32_t offset;      /* of the record within its buffer */
	uint32_t len;         /* block total length */
	uint32_t port;        /* interface id */
	uint64_t ts;          /* ns */
	uint32_t caplen;
	uint32_t origlen;
	const uint8_t *data;  /* caplen bytes */
	bool has_flags;
	uint32_t flags;       /* epb_flags */
	bool has_dropcount;
	uint64_t dropcount;   /* epb_dropcount */
	bool has_hash;
	uint32_t hash;        /* epb_hash: the card's Toeplitz flow hash */
};

/* Parses and checks the block header at blk[0..size). */
int fcap_block_header(const uint8_t *blk, size_t size, struct fcap_block_info *bi, char *errbuf);

/* Parses the EPB at buf[off..avail). On success fills r. nports bounds the
 * interface id. Errors name the offset. */
int fcap_record_parse(const uint8_t *buf, size_t avail, size_t off, uint32_t nports,
		      struct fcap_record *r, char *errbuf);

/*
 * Checks a whole ring block of `size` bytes: header, every record, the
 * record count, the padding block. expected_seq is the sequence number the
 * consumer expects next. On success fills bi.
 */
int fcap_block_check(const uint8_t *blk, size_t size, uint32_t expected_seq, uint32_t nports,
		     struct fcap_block_info *bi, char *errbuf);

/* Iterates the records of a block that passed fcap_block_check:
 *   size_t off = 0; struct fcap_record r;
 *   while (fcap_block_next(blk, bi, nports, &off, &r) > 0) ...
 * Returns 1 with a record, 0 at the end, -1 on a malformed record. */
int fcap_block_next(const uint8_t *blk, const struct fcap_block_info *bi, uint32_t nports,
		    size_t *off, struct fcap_record *r, char *errbuf);

/*
 * A ring block as files store it (docs/FORMAT.md section 4): cut at the first
 * 4 KiB boundary after its records that leaves room for a padding block.
 * fcap_block_stored_len() is that length for a block's header fields.
 */
uint32_t fcap_block_stored_len(uint32_t used, uint32_t block_size);
/* Parses the header at blk[0..avail) against the block size it names and
 * gives the block's stored length (which may exceed avail: the caller reads
 * that much next). */
int fcap_block_stored_header(const uint8_t *blk, size_t avail, struct fcap_block_info *bi, uint32_t *stored_len,
			     char *errbuf);
/* Checks a stored block of len bytes completely: header, len against the
 * stored length, padding block, every record, count and timestamps. No
 * sequence number is expected (a file may skip blocks). */
int fcap_block_check_stored(const uint8_t *blk, size_t len, uint32_t nports, struct fcap_block_info *bi,
			    char *errbuf);

#endif
