/* fleet_spool.c - the spool's records and progress file (fleet_spool.h). */
#include "fcap/fleet_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/checksum.h"
#include "fcap/crc32c.h"

static const uint8_t rec_magic[4] = { 'F', 'S', 'R', '1' };
static const uint8_t progress_magic[8] = { 'F', 'C', 'A', 'P', 'A', 'C', 'K', '1' };
#define SLOT 32

static uint32_t rec_crc(const uint8_t *hdr, const void *data, uint32_t len)
{
	return fcap_crc32c(fcap_crc32c(0, hdr + 4, 16), data, len);
}

void fcap_spool_rec_encode(uint8_t *buf, uint64_t seq, int kind, const void *data, uint32_t len)
{
	memcpy(buf, rec_magic, 4);
	st32(buf + 4, len);
	st64(buf + 8, seq);
	buf[16] = (uint8_t)kind;
	buf[17] = buf[18] = buf[19] = 0;
	memcpy(buf + FCAP_SPOOL_REC_HDR, data, len);
	st32(buf + 20, rec_crc(buf, data, len));
}

bool fcap_spool_rec_parse(const uint8_t *buf, size_t n, size_t off, int nkinds, struct fcap_spool_rec *r, const char **why)
{
	if (n - off < FCAP_SPOOL_REC_HDR) {
		*why = "a record cut short (its header)";
		return false;
	}
	const uint8_t *h = buf + off;
	if (memcmp(h, rec_magic, 4) != 0) {
		*why = "not a record (no FSR1 magic)";
		return false;
	}
	uint32_t len = ld32(h + 4);
	if (len > FCAP_SPOOL_REC_MAX) {
		*why = "a record length out of range";
		return false;
	}
	if (n - off - FCAP_SPOOL_REC_HDR < len) {
		*why = "a record cut short (its message)";
		return false;
	}
	if (FCAP_CHECKSUM_BAD(ld32(h + 20), rec_crc(h, h + FCAP_SPOOL_REC_HDR, len))) {
		*why = "a record whose checksum does not match";
		return false;
	}
	if (h[16] >= nkinds || h[17] || h[18] || h[19]) {
		*why = "a record of no known kind";
		return false;
	}
	r->len = len;
	r->seq = ld64(h + 8);
	r->kind = h[16];
	r->data = h + FCAP_SPOOL_REC_HDR;
	r->next = off + FCAP_SPOOL_REC_HDR + len;
	return true;
}

size_t fcap_spool_resync(const uint8_t *buf, size_t n, size_t off, int nkinds)
{
	for (size_t p = off + 1; p + FCAP_SPOOL_REC_HDR <= n; p++) {
		const uint8_t *m = memchr(buf + p, rec_magic[0], n - p);
		if (!m)
			break;
		p = (size_t)(m - buf);
		struct fcap_spool_rec r;
		const char *why;
		if (fcap_spool_rec_parse(buf, n, p, nkinds, &r, &why))
			return p;
	}
	return n;
}

void fcap_spool_tally(const uint8_t *b, size_t n, uint64_t progress, int nkinds, struct fcap_spool_tally *t,
		      void (*dmg)(void *ctx, size_t off, size_t end, const char *why), void *ctx)
{
	memset(t, 0, sizeof(*t));
	for (size_t off = 0; off < n;) {
		struct fcap_spool_rec r;
		const char *why;
		if (!fcap_spool_rec_parse(b, n, off, nkinds, &r, &why)) {
			size_t end = fcap_spool_resync(b, n, off, nkinds);
			t->damaged++;
			if (dmg)
				dmg(ctx, off, end, why);
			off = end;
			continue;
		}
		if (r.seq > progress) {
			t->waiting++;
			t->bytes += FCAP_SPOOL_REC_HDR + r.len;
		}
		if (r.seq > t->last)
			t->last = r.seq;
		off = r.next;
	}
}

/* A slot's sequence number when whole. */
static bool slot_valid(const uint8_t *s, uint64_t *version, uint64_t *seq)
{
	if (memcmp(s, progress_magic, 8) != 0 || FCAP_CHECKSUM_BAD(ld32(s + 24), fcap_crc32c(0, s, 24)))
		return false;
	*version = ld64(s + 8);
	*seq = ld64(s + 16);
	return true;
}

int fcap_spool_progress_read(const char *dir, uint64_t *seq, uint64_t *version, char *why, size_t n)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, FCAP_SPOOL_PROGRESS);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, n, "%s", strerror(errno));
		return -1;
	}
	uint8_t b[2 * SLOT] = { 0 };
	ssize_t k = pread(fd, b, sizeof(b), 0);
	int err = errno;
	close(fd);
	if (k < 0) {
		snprintf(why, n, "%s", strerror(err));
		return -1;
	}
	if (k == 0)
		return 0;   /* made, never written: no progress yet */
	uint64_t v[2] = { 0, 0 }, s[2] = { 0, 0 };
	bool ok0 = k >= SLOT && slot_valid(b, &v[0], &s[0]);
	bool ok1 = k >= 2 * SLOT && slot_valid(b + SLOT, &v[1], &s[1]);
	if (!ok0 && !ok1) {
		snprintf(why, n, "%zd bytes, no whole slot", k);
		return -1;
	}
	int i = ok0 && ok1 ? v[1] > v[0] : ok1;
	*seq = s[i];
	*version = v[i];
	return 1;
}

int fcap_spool_progress_write(int fd, uint64_t *version, uint64_t seq)
{
	uint8_t s[SLOT] = { 0 };
	uint64_t v = *version + 1;
	memcpy(s, progress_magic, 8);
	st64(s + 8, v);
	st64(s + 16, seq);
	st32(s + 24, fcap_crc32c(0, s, 24));
	ssize_t k = pwrite(fd, s, SLOT, (off_t)(v % 2) * SLOT);
	if (k != SLOT) {
		if (k >= 0)
			errno = ENOSPC;
		return -1;
	}
	*version = v;
	return 0;
}
