/*
 * fuzz_spool.c - the fleet spool's segment files (host/lib/fleet_spool.c):
 * a segment cut short by a crash, damaged on disk, or not a segment at all
 * must be read record by record, every damaged stretch skipped and told
 * (in order, inside the bytes, never empty), and never crash. Every record
 * found is made again by fcap_spool_rec_encode from what the parse gave,
 * and must be the same bytes (the checksum aside: the fuzz build ignores
 * it); the tally agrees with the walk.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/fleet_spool.h"

#define NKINDS 3

struct walk {
	size_t size, last_end;
	uint64_t stretches;
};

static void stretch(void *ctx, size_t off, size_t end, const char *why)
{
	struct walk *w = ctx;
	if (off < w->last_end || end <= off || end > w->size || !why || !*why)
		abort();
	w->last_end = end;
	w->stretches++;
}

/* The record r parsed at off: encoded again, the same bytes. */
static void same_again(const uint8_t *data, size_t off, const struct fcap_spool_rec *r)
{
	uint8_t *again = malloc(FCAP_SPOOL_REC_HDR + r->len);
	if (!again)
		abort();
	fcap_spool_rec_encode(again, r->seq, r->kind, r->data, r->len);
	if (memcmp(again, data + off, 20) != 0 || memcmp(again + 24, data + off + 24, r->len) != 0)
		abort();
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk w = { .size = size };
	struct fcap_spool_tally t;
	fcap_spool_tally(data, size, 0, NKINDS, &t, stretch, &w);
	if (t.damaged != w.stretches || t.bytes > size || t.waiting * FCAP_SPOOL_REC_HDR > t.bytes)
		abort();
	uint64_t waiting = 0;
	for (size_t off = 0; off < size;) {
		struct fcap_spool_rec r;
		const char *why;
		if (!fcap_spool_rec_parse(data, size, off, NKINDS, &r, &why)) {
			size_t end = fcap_spool_resync(data, size, off, NKINDS);
			if (end <= off || end > size)
				abort();
			off = end;
			continue;
		}
		if (r.next <= off || r.next > size || r.kind >= NKINDS)
			abort();
		same_again(data, off, &r);
		waiting += r.seq > 0;
		off = r.next;
	}
	if (waiting != t.waiting)
		abort();
	return 0;
}
