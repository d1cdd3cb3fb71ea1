/*
 * seg_scan.c - walking a segment's ring blocks (fcap/seg_scan.h).
 */
#include "fcap/seg_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_ISB 0x00000005u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define MAX_HEADER (1u << 20)

/* Reads n bytes at off; returns the count read (short only at end of file), -1 on error. */
static ssize_t read_at(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int grow(struct fcap_seg_scan *s, size_t n, char *errbuf)
{
	if (n <= s->cap)
		return 0;
	uint8_t *b = realloc(s->buf, n);
	if (!b)
		return fcap_err(errbuf, "%s: out of memory for a %zu-byte block", s->path, n);
	s->buf = b;
	s->cap = n;
	return 0;
}

/* SHB, IDBs, then the padding block that ends the header on a 4 KiB boundary. */
static int parse_header(struct fcap_seg_scan *s, char *errbuf)
{
	uint64_t off = 0;
	bool shb = false;
	for (;;) {
		uint8_t h[12];
		if (off >= MAX_HEADER)
			return fcap_err(errbuf, "%s: no padding block ends the header within %u bytes", s->path,
					MAX_HEADER);
		ssize_t k = read_at(s->fd, h, sizeof(h), off);
		if (k < 0)
			return fcap_err(errbuf, "%s: offset %llu: read error: %s", s->path, (unsigned long long)off,
					strerror(errno));
		if (k < (ssize_t)sizeof(h))
			return fcap_err(errbuf, "%s: offset %llu: the file header is truncated", s->path,
					(unsigned long long)off);
		uint32_t type = ld32(h), len = ld32(h + 4);
		if (len < 12 || len % 4 || len > MAX_HEADER || off + len > s->size)
			return fcap_err(errbuf, "%s: offset %llu: header block type 0x%08x has length %u (file %llu bytes)",
					s->path, (unsigned long long)off, type, len, (unsigned long long)s->size);
		uint8_t t[4];
		if (read_at(s->fd, t, 4, off + len - 4) != 4 || ld32(t) != len)
			return fcap_err(errbuf, "%s: offset %llu: header block trailing length differs from %u", s->path,
					(unsigned long long)off, len);
		if (!shb) {
			if (type != BT_SHB || ld32(h + 8) != BYTE_ORDER_MAGIC)
				return fcap_err(errbuf, "%s: offset 0: not an fcap segment (no little-endian section "
						"header)", s->path);
			shb = true;
		} else if (type == BT_IDB) {
			if (s->nports == FCAP_MAX_PORTS)
				return fcap_err(errbuf, "%s: offset %llu: more than %u interfaces", s->path,
						(unsigned long long)off, FCAP_MAX_PORTS);
			s->nports++;
		} else if (type == FCAP_BT_PADDING) {
			off += len;
			if (off % 4096u)
				return fcap_err(errbuf, "%s: offset %llu: the header ends off a 4 KiB boundary", s->path,
						(unsigned long long)off);
			break;
		} else {
			return fcap_err(errbuf, "%s: offset %llu: block type 0x%08x in the file header", s->path,
					(unsigned long long)off, type);
		}
		off += len;
	}
	if (s->nports == 0)
		return fcap_err(errbuf, "%s: the header describes no interface", s->path);
	s->header_len = off;
	s->off = off;
	return 0;
}

int fcap_seg_scan_open(struct fcap_seg_scan *s, const char *path, bool writable, char *errbuf)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->path = strdup(path);
	if (!s->path)
		return fcap_err(errbuf, "%s: out of memory", path);
	s->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	struct stat sb;
	if (s->fd < 0 || fstat(s->fd, &sb) < 0) {
		fcap_err(errbuf, "%s: %s", path, strerror(errno));
		fcap_seg_scan_close(s);
		return -1;
	}
	s->size = (uint64_t)sb.st_size;
	if (parse_header(s, errbuf) < 0) {
		fcap_seg_scan_close(s);
		return -1;
	}
	return 0;
}

void fcap_seg_scan_close(struct fcap_seg_scan *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Reads and checks the block at off. Returns 1, 0 (not a ring block: end),
 * -1 (damaged or truncated). */
static int block_at(struct fcap_seg_scan *s, uint64_t off, struct fcap_block_info *bi, uint32_t *len, char *errbuf)
{
	if (off >= s->size)
		return 0;
	if (grow(s, FCAP_BLOCK_HEADER_LEN, errbuf) < 0)
		return -1;
	ssize_t k = read_at(s->fd, s->buf, FCAP_BLOCK_HEADER_LEN, off);
	if (k < 0)
		return fcap_err(errbuf, "%s: offset %llu: read error: %s", s->path, (unsigned long long)off,
				strerror(errno));
	if (k >= 4 && ld32(s->buf) == BT_ISB)
		return 0;
	if (k < FCAP_BLOCK_HEADER_LEN)
		return fcap_err(errbuf, "%s: offset %llu: truncated ring block: %zd of %u header bytes", s->path,
				(unsigned long long)off, k, FCAP_BLOCK_HEADER_LEN);
	if (fcap_block_stored_header(s->buf, (size_t)k, bi, len, errbuf) < 0) {
		fcap_err_prefix(errbuf, "%s: offset %llu", s->path, (unsigned long long)off);
		return -1;
	}
	if (*len > FCAP_SEG_MAX_BLOCK)
		return fcap_err(errbuf, "%s: offset %llu: ring block of %u bytes exceeds %u", s->path,
				(unsigned long long)off, *len, FCAP_SEG_MAX_BLOCK);
	if (*len > s->size - off)
		return fcap_err(errbuf, "%s: offset %llu: truncated ring block: %llu of its %u bytes present",
				s->path, (unsigned long long)off, (unsigned long long)(s->size - off), *len);
	if (grow(s, *len, errbuf) < 0)
		return -1;
	k = read_at(s->fd, s->buf, *len, off);
	if (k != (ssize_t)*len)
		return fcap_err(errbuf, "%s: offset %llu: read error: %s", s->path, (unsigned long long)off,
				k < 0 ? strerror(errno) : "short read");
	if (fcap_block_check_stored(s->buf, *len, s->nports, bi, errbuf) < 0) {
		fcap_err_prefix(errbuf, "%s: ring block at offset %llu", s->path, (unsigned long long)off);
		return -1;
	}
	return 1;
}

int fcap_seg_scan_next(struct fcap_seg_scan *s, const uint8_t **blk, struct fcap_block_info *bi,
		       uint64_t *offset, char *errbuf)
{
	uint32_t len;
	int rc = block_at(s, s->off, bi, &len, errbuf);
	if (rc <= 0)
		return rc;
	*blk = s->buf;
	*offset = s->off;
	s->off += len;
	return 1;
}

int fcap_seg_scan_resync(struct fcap_seg_scan *s)
{
	char ignored[FCAP_ERRBUF_SIZE];
	struct fcap_block_info bi;
	uint32_t len;
	for (uint64_t off = (s->off & ~4095ull) + 4096; off < s->size; off += 4096) {
		uint8_t h[4];
		if (read_at(s->fd, h, 4, off) != 4 || ld32(h) != FCAP_BT_BLOCK_HEADER)
			continue;
		if (block_at(s, off, &bi, &len, ignored) == 1) {
			s->off = off;
			return 1;
		}
	}
	return 0;
}

bool fcap_seg_scan_trailer_ok(struct fcap_seg_scan *s, uint64_t from)
{
	uint64_t off = from;
	uint32_t n = 0;
	while (off < s->size) {
		uint8_t h[8];
		if (read_at(s->fd, h, 8, off) != 8 || ld32(h) != BT_ISB)
			return false;
		uint32_t len = ld32(h + 4);
		if (len < 20 || len % 4 || len > s->size - off)
			return false;
		uint8_t t[4];
		if (read_at(s->fd, t, 4, off + len - 4) != 4 || ld32(t) != len)
			return false;
		off += len;
		n++;
	}
	return n == s->nports;
}
