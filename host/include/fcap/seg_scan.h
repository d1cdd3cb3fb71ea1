/*
 * fcap/seg_scan.h - walking a store segment ring block by ring block.
 *
 * A segment is a pcapng file fcap wrote (docs/STORE.md): a Section Header
 * Block, one Interface Description Block per port, a padding block to a
 * 4 KiB boundary, ring blocks in their stored form (each starts on a 4 KiB
 * boundary), then an Interface Statistics Block per port. Recovery, index
 * rebuilding and checks need those ring blocks whole, with their headers,
 * which a packet reader (fcap/pcap_reader.h) skips; this walker reads
 * them with pread and checks each completely (fcap_block_check_stored)
 * before handing it out. Errors name the file and byte offset.
 */
#ifndef FCAP_SEG_SCAN_H
#define FCAP_SEG_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "fcap/block.h"
#include "fcap/errbuf.h"

/* Largest ring block a segment may hold (the card's maximum block size). */
#define FCAP_SEG_MAX_BLOCK (1u << 30)

struct fcap_seg_scan {
	int fd;
	char *path;
	uint64_t size;        /* file size when opened */
	uint32_t nports;
	uint64_t header_len;  /* where the first ring block starts */
	uint64_t off;         /* next ring block */
	uint8_t *buf;
	size_t cap;
};

/* Opens a segment and checks its header (read-write when writable, for
 * recovery). */
int fcap_seg_scan_open(struct fcap_seg_scan *s, const char *path, bool writable, char *errbuf);
void fcap_seg_scan_close(struct fcap_seg_scan *s);

/*
 * The next ring block: 1 with *blk (valid until the next call), *bi and
 * *offset; 0 when the ring blocks end (end of file, or the statistics
 * blocks begin: s->off is then where they start); -1 when the block at
 * s->off is truncated or damaged (errbuf names the offset; s->off stays
 * there).
 */
int fcap_seg_scan_next(struct fcap_seg_scan *s, const uint8_t **blk, struct fcap_block_info *bi,
		       uint64_t *offset, char *errbuf);

/* After an error: moves s->off to the next 4 KiB boundary that holds a
 * ring block that checks out. Returns 1 when one is found, 0 when none is
 * left before the end of the file. */
int fcap_seg_scan_resync(struct fcap_seg_scan *s);

/* Whether bytes [from, size) are exactly one Interface Statistics Block
 * per port (a properly closed segment). */
bool fcap_seg_scan_trailer_ok(struct fcap_seg_scan *s, uint64_t from);

#endif
