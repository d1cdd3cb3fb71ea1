/*
 * fcap/store.h - the disk store: a directory of pcapng segments, each with
 * an index sidecar, written crash-safe, rotated and retained
 * (docs/STORE.md).
 *
 *   DIR/20250102T030405.123456789Z-r0.pcapng    a published segment
 *   DIR/20250102T030405.123456789Z-r0.idx       its index (fcap/seg_index.h)
 *   DIR/20250102T030405.123456789Z-r0.pin       retention must keep it
 *   DIR/.20250102T...-r0.pcapng, .idx           being written (hidden)
 *   DIR/.lock                                   held by the one recorder
 *
 * A segment's name is the timestamp of its first ring block's earliest
 * record (UTC, ns) and the ring it records. It is written under the
 * hidden name, fsync'd, renamed, and the directory fsync'd; its index the
 * same way, after it.
 */
#ifndef FCAP_STORE_H
#define FCAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/seg_index.h"

#define FCAP_SEG_NAME_MAX 64    /* "20250102T030405.123456789Z-r65535-99" and a NUL fit */
#define FCAP_STORE_DIR_MAX 400  /* longest store directory path */
#define FCAP_STORE_PATH_MAX (FCAP_STORE_DIR_MAX + FCAP_SEG_NAME_MAX + 16)

/* Logging: one line (no newline) per event; ctx is the caller's. */
typedef void (*fcap_log_fn)(void *ctx, const char *line);

/* ---- names ---------------------------------------------------------------- */

/* NAME for a segment starting at start_ns on ring; dup > 0 appends "-dup"
 * (two segments of one ring starting in the same ns). */
void fcap_seg_name(uint64_t start_ns, uint32_t ring, unsigned dup, char name[FCAP_SEG_NAME_MAX]);
/* Parses NAME (without extension). */
bool fcap_seg_parse_name(const char *name, uint64_t *start_ns, uint32_t *ring);
/* "2025-01-02T03:04:05.123456789Z" */
void fcap_format_time(uint64_t ns, char *buf, size_t n);

/* ---- the catalog of published segments ------------------------------------- */

enum fcap_index_state {
	FCAP_INDEX_OK,        /* present, header and checksums of the header sound, matches the segment */
	FCAP_INDEX_MISSING,
	FCAP_INDEX_BAD,       /* unreadable, corrupt or stale */
};

struct fcap_segment {
	char name[FCAP_SEG_NAME_MAX];
	uint32_t ring;
	uint64_t start_ns;        /* from the name */
	uint64_t seg_bytes;       /* segment file size */
	uint64_t idx_bytes;       /* index file size, 0 if none */
	bool pinned;
	enum fcap_index_state index;
	char index_error[FCAP_ERRBUF_SIZE];
	struct fcap_seg_stats stats;  /* valid when index == FCAP_INDEX_OK */
};

/* Published segments of DIR in time order (start, then ring, then name);
 * each index's header is checked. *segs is malloc'ed. Hidden files are
 * not listed; *hidden counts them (a recorder is writing, or one crashed). */
int fcap_store_list(const char *dir, struct fcap_segment **segs, size_t *n, unsigned *hidden, char *errbuf);

/* Paths of a segment's files. ext: "pcapng", "idx", "pin". */
void fcap_store_path(char *buf, size_t n, const char *dir, const char *name, const char *ext, bool hidden);

/* Pins or unpins a published segment (retention keeps pinned ones). */
int fcap_store_pin(const char *dir, const char *name, bool pin, char *errbuf);

/* Takes the store's lock (one recorder or repair at a time). Returns the
 * lock's file descriptor, or -1. */
int fcap_store_lock(const char *dir, char *errbuf);

/* ---- recovery ------------------------------------------------------------ */

struct fcap_recovery {
	unsigned recovered;      /* hidden segments cut back, closed and published */
	unsigned removed;        /* hidden segments without a packet, removed */
	unsigned rebuilt;        /* indexes rebuilt (missing, corrupt or stale) */
	unsigned orphans;        /* indexes or pins without a segment, removed */
	unsigned damaged;        /* segments with unreadable parts (reported) */
	uint64_t cut_bytes;      /* bytes of partial blocks cut from hidden segments */
};

/*
 * Brings DIR to a consistent state (the caller holds the lock): every
 * hidden segment is cut back to its last whole ring block, closed with
 * statistics blocks and published with a fresh index; stale hidden
 * indexes, orphan indexes and pins are removed; every published segment
 * without a sound index gets one rebuilt from the segment. A damaged ring
 * block inside a segment is reported with its offset and skipped; the
 * rest of the segment stays usable. Logs one line per action.
 */
int fcap_store_recover(const char *dir, fcap_log_fn log, void *log_ctx, struct fcap_recovery *rep, char *errbuf);

/* Reads every published segment and index of DIR completely: each ring
 * block checked, each index verified page by page and against its
 * segment. Logs every problem with its file and offset; *problems counts
 * them (0: the store is sound). Changes nothing. */
int fcap_store_check(const char *dir, fcap_log_fn log, void *log_ctx, unsigned *problems, char *errbuf);

/* Rebuilds one published segment's index from the segment (hidden file,
 * fsync, rename, directory fsync). Damaged blocks are skipped and logged. */
int fcap_store_rebuild_index(const char *dir, const char *name, fcap_log_fn log, void *log_ctx, char *errbuf);

/* ---- retention ------------------------------------------------------------- */

struct fcap_retention {
	uint64_t max_age_ns;     /* delete segments whose last packet is older; 0 = no limit */
	uint64_t max_bytes;      /* segments and indexes together; 0 = no limit */
	uint32_t max_percent;    /* of the filesystem's size; 0 = no limit */
	uint32_t max_files;      /* segments, counting those being written; 0 = no limit */
};

/* One published segment as retention sees it, in time order (oldest first). */
struct fcap_retention_item {
	uint64_t bytes;      /* segment and index */
	uint64_t last_ts;    /* its last packet, ns */
	bool pinned;
};

/*
 * Which segments retention deletes: the oldest unpinned ones, as few as
 * bring every limit back (age: those whose last packet is older than
 * now - max_age). busy_bytes and busy_files are segments being written or
 * published, which count but cannot be deleted; fs_bytes is the
 * filesystem's size (for max_percent). Fills del[] with item indices,
 * oldest first; returns how many.
 */
size_t fcap_retention_pick(const struct fcap_retention *ret, const struct fcap_retention_item *items, size_t n,
			   uint64_t busy_bytes, uint32_t busy_files, uint64_t fs_bytes, uint64_t now_ns, size_t *del);

/* ---- the recorder ----------------------------------------------------------- */

struct fcap_card_info;

struct fcap_recorder_config {
	const char *dir;
	const struct fcap_card_info *ci;
	const char *userappl;
	uint64_t segment_bytes;       /* rotate before a segment would exceed this; 0: 256 MiB */
	uint64_t segment_ns;          /* rotate when a segment's time is up; 0: never */
	struct fcap_retention retention;
	bool buffered;                /* never O_DIRECT */
	bool index_keys_off;          /* index blocks and records only (benchmarks: the keys' cost) */
	uint32_t queue_blocks;        /* bounded queue between consumer and writer; 0: 16 */
	fcap_log_fn log;
	void *log_ctx;
};

struct fcap_recorder_stats {
	uint64_t segments;            /* published */
	uint64_t blocks, records;     /* stored */
	uint64_t bytes;               /* written to segments */
	uint64_t disk_lost_blocks, disk_lost_records;   /* valid blocks the disk did not take */
	uint64_t corrupt_blocks, corrupt_records;       /* passed on by the consumer */
	uint64_t backlog_drops;       /* card drops while the writer had the ring full */
	uint64_t deleted;             /* segments removed by retention */
	uint64_t index_failures;      /* segments published without an index (rebuilt later) */
	uint64_t queue_full;          /* times the consumer found the queue full */
	double index_cpu_s;           /* time spent building indexes */
	bool direct;                  /* O_DIRECT was used */
	struct fcap_recovery recovery;
};

/* A finished job, handed back in submission order. */
struct fcap_rec_done {
	uint32_t ring;
	const uint8_t *blk;           /* as submitted: the caller may now release it */
	bool corrupt;                 /* a corrupt-block placeholder */
	bool stored;                  /* the block is in file at offset */
	struct fcap_block_info bi;
	uint64_t offset;
	char file[FCAP_STORE_PATH_MAX];  /* the segment's published path */
};

struct fcap_recorder;

/* Locks the store, recovers it, starts the writer and index threads. */
struct fcap_recorder *fcap_recorder_open(const struct fcap_recorder_config *cfg, char *errbuf);
/*
 * Queues a checked ring block of ring (it must stay untouched until it is
 * reaped). backlog_drops: how many of bi->drops the caller attributes to
 * the disk writer (the queue was full before this block). Returns 0, or
 * -1 when the queue is full (reap first).
 */
int fcap_recorder_submit(struct fcap_recorder *r, uint32_t ring, const uint8_t *blk, const struct fcap_block_info *bi,
			 uint32_t backlog_drops);
/* Queues a placeholder for a block that failed validation (records: what
 * its header claimed, if readable), so that releases stay in order. */
int fcap_recorder_submit_corrupt(struct fcap_recorder *r, uint32_t ring, const uint8_t *blk, uint32_t records);
/* The oldest finished job: 1 with *d, 0 when none has finished. */
int fcap_recorder_reap(struct fcap_recorder *r, struct fcap_rec_done *d);
/* Waits up to timeout_ns (wall) for a job to finish. */
void fcap_recorder_wait(struct fcap_recorder *r, uint64_t timeout_ns);
/* Jobs submitted and not reaped. */
unsigned fcap_recorder_inflight(struct fcap_recorder *r);
unsigned fcap_recorder_capacity(const struct fcap_recorder *r);
/* The capture's clock (ns, card time): closes segments whose time is up
 * on a quiet link, ages segments out. */
void fcap_recorder_tick(struct fcap_recorder *r, uint64_t now_ns);
/* Writes everything queued, closes and publishes every segment, stops the
 * threads and frees r. Unreaped jobs are finished. Returns 0, or -1 with
 * the first error that made a segment unpublishable. */
int fcap_recorder_close(struct fcap_recorder *r, struct fcap_recorder_stats *st, char *errbuf);

#endif
