/*
 * fcap/pcapng.h - writing capture files from ring blocks.
 *
 * A file is a Section Header Block, one Interface Description Block per card
 * port (if_tsresol = 9: timestamps are ns), a padding block up to 4 KiB so
 * that ring blocks stay page aligned, then ring blocks as the card wrote them
 * (trimmed: see fcap_pcapng_write_block), then an Interface Statistics Block
 * per port at close. Readers skip the card's local-use block header and
 * padding blocks, so tshark, capinfos and tcpdump read the file as is.
 */
#ifndef FCAP_PCAPNG_H
#define FCAP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

struct fcap_card_info;
struct fcap_block_info;

#define FCAP_FILE_HEADER_ALIGN 4096u

struct fcap_pcapng_writer {
	int fd;
	char *path;
	uint64_t offset;   /* bytes written */
	uint32_t nports;
	uint64_t blocks;
};

/* An ISB counter we do not know (e.g. after a crash) is left out. */
#define FCAP_ISB_UNKNOWN UINT64_MAX

struct fcap_isb_stats {
	uint64_t start_ts, end_ts;  /* ns */
	uint64_t if_recv;           /* frames the port received (card counter) */
	uint64_t if_drop;           /* frames the card dropped */
	uint64_t os_drop;           /* frames lost on the host (corrupt blocks) */
	uint64_t usr_deliv;         /* records written to this file */
};

/* Largest tail fcap_pcapng_stored_split() composes. */
#define FCAP_STORED_TAIL_MAX 8192u

/* A ring block's stored form (fcap_block_stored_len bytes) as two pieces:
 * head, the block's own memory up to a 4 KiB boundary, written as it is;
 * tail, composed in a buffer: the records' last bytes and the padding
 * block rewritten to end at the cut, its body zeroed. Both lengths are
 * multiples of 4096 unless the block ends exactly at its records. */
struct fcap_stored_block {
	const uint8_t *head;
	uint32_t head_len;
	const uint8_t *tail;
	uint32_t tail_len;
};

/* The file header (SHB, one IDB per port, padding to a 4 KiB multiple) in a
 * malloc'ed buffer. */
int fcap_pcapng_compose_header(const struct fcap_card_info *ci, const char *userappl, uint8_t **out,
			       size_t *len, char *errbuf);
/* One ISB per port (counters equal to FCAP_ISB_UNKNOWN are left out; a
 * comment, if any, goes on port 0's) in a malloc'ed buffer. */
int fcap_pcapng_compose_isbs(uint32_t nports, const struct fcap_isb_stats *stats, const char *comment,
			     uint8_t **out, size_t *len, char *errbuf);
/* Splits a checked ring block into its stored form without modifying it
 * (the ring may be mapped read-only). */
void fcap_pcapng_stored_split(const uint8_t *blk, const struct fcap_block_info *bi,
			      uint8_t tail[FCAP_STORED_TAIL_MAX], struct fcap_stored_block *sb);

int fcap_pcapng_open(struct fcap_pcapng_writer *w, const char *path, const struct fcap_card_info *ci,
		     const char *userappl, char *errbuf);
/*
 * Appends a ring block that passed fcap_block_check(). Only the part that
 * holds records is kept: the block is cut at the first 4 KiB boundary after
 * its records (with at least 16 bytes for a padding block), and the padding
 * block there is rewritten to end at the cut, its body zeroed. The block's
 * header and records are written unchanged; blk itself is not modified.
 */
int fcap_pcapng_write_block(struct fcap_pcapng_writer *w, const uint8_t *blk, const struct fcap_block_info *bi,
			    char *errbuf);
/* Appends one ISB per port (stats[i] for port i), syncs and closes. */
int fcap_pcapng_close(struct fcap_pcapng_writer *w, const struct fcap_isb_stats *stats, char *errbuf);
/* Closes without statistics (error path). */
void fcap_pcapng_abort(struct fcap_pcapng_writer *w);

/* Bytes of blk that fcap_pcapng_write_block keeps (exposed for tests). */
uint32_t fcap_pcapng_trimmed_len(uint32_t used, uint32_t block_size);

#endif
