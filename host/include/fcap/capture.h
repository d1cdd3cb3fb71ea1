/*
 * fcap/capture.h - a capture session: card and ring set-up, the consume
 * loop that writes ring blocks to a pcapng file, and an orderly stop.
 */
#ifndef FCAP_CAPTURE_H
#define FCAP_CAPTURE_H

#include <signal.h>
#include <stdint.h>

#include "fcap/block.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"
#include "fcap/ring.h"
#include "fcap/store.h"

/* Called for every record of every valid block, in file order, after the
 * block is written: the output file's name and the record's byte offset in
 * that file, so what a consumer derives points at identical bytes. */
typedef void (*fcap_record_fn)(void *ctx, const char *file, uint64_t offset, const struct fcap_record *r);

struct fcap_capture_config {
	const char *out_path;       /* one pcapng file, or: */
	const char *store_dir;      /* a store of rotating segments (fcap/store.h) */
	struct fcap_ring_config ring;
	const char *userappl;  /* shb_userappl of the file */
	fcap_record_fn on_record;   /* optional */
	void *on_record_ctx;
	/* store only */
	uint64_t segment_bytes, segment_ns;
	struct fcap_retention retention;
	bool buffered;
	fcap_log_fn log;            /* the recorder's messages */
	void *log_ctx;
};

struct fcap_capture_stats {
	struct fcap_card_info card_info;
	struct fcap_card_counters card;   /* the card's counters at the end */
	uint32_t rings;                   /* rings consumed */
	uint64_t blocks;                  /* ring blocks consumed */
	uint32_t block_size;              /* bytes per ring block */
	uint64_t records;                 /* records written to the file */
	uint64_t record_bytes;            /* captured bytes in those records */
	uint64_t file_bytes;              /* bytes in the file */
	uint64_t dropcount_sum;           /* sum of epb_dropcount over the records */
	uint64_t corrupt_blocks;          /* blocks that failed validation (not written) */
	uint64_t corrupt_records;         /* records those blocks claimed */
	uint64_t first_ts, last_ts;       /* ns, first and last record */
	uint64_t card_elapsed_ns;         /* simulated time, sim backend only */
	double wall_s;
	bool store;                       /* recorded into a store: */
	struct fcap_recorder_stats rec;
};

/*
 * With store_dir, ring blocks go to the disk recorder: several are in
 * flight at once (up to the ring's size), each returned to the card once
 * written and indexed. Drops the card reports right after the ring was
 * full of blocks waiting for the disk are counted as disk-backlog loss.
 *
 * Runs until the device's traffic source is done or *stop becomes non-zero,
 * then stops the card so that every accepted frame reaches the file. Corrupt
 * blocks are reported on stderr, counted and skipped; they do not stop the
 * capture. Returns 0, or -1 with errbuf set (what was written stays written).
 */
int fcap_capture_run(struct fcap_dev *dev, const struct fcap_capture_config *cfg,
		     struct fcap_capture_stats *st, volatile sig_atomic_t *stop, char *errbuf);

#endif
