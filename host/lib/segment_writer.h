/*
 * segment_writer.h - one segment file being written (internal).
 *
 * Created exclusively under its hidden name; ring blocks are appended in
 * their stored form straight from ring memory, with O_DIRECT where the
 * filesystem takes it (every write is 4 KiB aligned in memory, offset and
 * length), buffered otherwise. A failed write is cut back so that the file
 * always ends at a whole ring block.
 */
#ifndef FCAP_SEGMENT_WRITER_H
#define FCAP_SEGMENT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/block.h"
#include "fcap/store.h"

struct seg_file {
	int fd;
	bool direct;
	char name[FCAP_SEG_NAME_MAX];
	char hidden[FCAP_STORE_PATH_MAX];   /* where it is written */
	char path[FCAP_STORE_PATH_MAX];     /* its published name */
	uint64_t size;                      /* bytes of whole blocks written */
};

/* Buffers a writer needs: an 8 KiB aligned tail and an aligned bounce
 * buffer for blocks that are not page aligned in memory. */
struct seg_buffers {
	uint8_t *tail;
	uint8_t *bounce;
	size_t bounce_len;
};

int seg_buffers_init(struct seg_buffers *b, char *errbuf);
void seg_buffers_free(struct seg_buffers *b);

/*
 * Creates DIR/.NAME.pcapng for a segment of ring starting at start_ns (a
 * free NAME: "-1", "-2"... are appended while one exists) and writes the
 * file header hdr (hdr_len a multiple of 4096, hdr page aligned).
 * *direct_ok: try O_DIRECT; cleared when the filesystem refuses it.
 * *enospc is set when the failure is a full disk.
 */
int seg_file_create(struct seg_file *f, const char *dir, uint64_t start_ns, uint32_t ring, const uint8_t *hdr,
		    size_t hdr_len, bool *direct_ok, bool *enospc, char *errbuf);
/* Appends a checked ring block. On failure the file is cut back to its
 * last whole block; *enospc as above. */
int seg_file_write_block(struct seg_file *f, struct seg_buffers *b, const uint8_t *blk,
			 const struct fcap_block_info *bi, bool *enospc, char *errbuf);
/*
 * Appends the statistics blocks (when they fit: a full disk leaves them
 * out and the file ends at its last block), fsyncs and closes. Returns -1
 * only when the data may not be durable (fsync failed).
 */
int seg_file_finish(struct seg_file *f, const uint8_t *isb, size_t isb_len, bool *isb_written, char *errbuf);
/* Closes and removes the hidden file (a segment that holds no block). */
void seg_file_discard(struct seg_file *f);

#endif
