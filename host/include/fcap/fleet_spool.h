/*
 * fcap/fleet_spool.h - the fleet spool's on-disk format (host/lib/fleet_spool.c),
 * used by fleet.c and its pieces (fleet_segments.c, fleet_send.c); docs/FLEET.md,
 * "The spool".
 *
 * A segment file (NAME.seg, NAME the sequence number of its first record,
 * %020llu) is a run of records, appended and never rewritten:
 *
 *   0-3    magic "FSR1"
 *   4-7    payload length, u32 little-endian
 *   8-15   sequence number (the message id's SEQ), u64 little-endian
 *   16     kind (0 alert, 1 flow, 2 stats)
 *   17-19  zero
 *   20-23  CRC-32C of bytes 4-19 and the payload, u32 little-endian
 *   24-    the payload (the message)
 *
 * The progress file "acked" holds the sender's progress (every message up
 * to that sequence number is acknowledged or set aside) in two slots of 32
 * bytes written in turn, so that a write cut short leaves the other whole:
 *
 *   0-7    magic "FCAPACK1"
 *   8-15   version, u64 (the slot written last has the larger)
 *   16-23  the sequence number
 *   24-27  CRC-32C of bytes 0-23
 *   28-31  zero
 */
#ifndef FCAP_FLEET_SPOOL_H
#define FCAP_FLEET_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FCAP_SPOOL_REC_HDR 24
#define FCAP_SPOOL_REC_MAX (1u << 30)   /* a longer payload is damage, not a message */
#define FCAP_SPOOL_PROGRESS "acked"

struct fcap_spool_rec {
	uint64_t seq;
	int kind;
	const uint8_t *data;
	uint32_t len;
	size_t next;                /* the offset after it */
};

/* Writes one record (FCAP_SPOOL_REC_HDR + len bytes) at buf. */
void fcap_spool_rec_encode(uint8_t *buf, uint64_t seq, int kind, const void *data, uint32_t len);

/* The record at off in buf[0..n): true with r filled, or false with why
 * (truncated, bad magic, bad checksum...). nkinds bounds the kind. */
bool fcap_spool_rec_parse(const uint8_t *buf, size_t n, size_t off, int nkinds, struct fcap_spool_rec *r, const char **why);

/* The first offset after off where a whole record with a good checksum
 * starts, or n when none does: the end of a damaged stretch. */
size_t fcap_spool_resync(const uint8_t *buf, size_t n, size_t off, int nkinds);

/* What a segment's bytes hold: its messages after progress (count and
 * bytes), the largest id in it, its damaged stretches. */
struct fcap_spool_tally {
	uint64_t waiting, bytes, last, damaged;
};

/* Tallies the records of b[0..n); dmg (if not NULL) is told of each damaged
 * stretch [off, end), in order. */
void fcap_spool_tally(const uint8_t *b, size_t n, uint64_t progress, int nkinds, struct fcap_spool_tally *t,
		      void (*dmg)(void *ctx, size_t off, size_t end, const char *why), void *ctx);

/* Reads the progress file of dir: 1 with *seq (and the version of its
 * slot), 0 when there is none or it is empty (made, never written), -1
 * when it is damaged (why, n bytes). */
int fcap_spool_progress_read(const char *dir, uint64_t *seq, uint64_t *version, char *why, size_t n);

/* Writes seq into the slot after version's (pwrite in place: no new file
 * per write); -1 with errno. */
int fcap_spool_progress_write(int fd, uint64_t *version, uint64_t seq);

#endif
