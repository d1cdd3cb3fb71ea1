/*
 * pcapng.c - capture files made of ring blocks (fcap/pcapng.h).
 *
 * The card already writes pcapng: every record is an Enhanced Packet Block
 * and the block header and padding are local-use blocks that readers skip.
 * The writer adds what only the host knows: the section header, one
 * interface description per port (if_tsresol = 9), and at close the
 * interface statistics.
 */
#define _GNU_SOURCE
#include "fcap/pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_ISB 0x00000005u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1u

#define SHB_HARDWARE 2u
#define SHB_OS 3u
#define SHB_USERAPPL 4u
#define IF_NAME 2u
#define IF_DESCRIPTION 3u
#define IF_SPEED 8u
#define IF_TSRESOL 9u
#define OPT_COMMENT 1u
#define ISB_STARTTIME 2u
#define ISB_ENDTIME 3u
#define ISB_IFRECV 4u
#define ISB_IFDROP 5u
#define ISB_OSDROP 7u
#define ISB_USRDELIV 8u

/* A growing little-endian byte buffer for the blocks the host composes. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static uint8_t *buf_take(struct buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	memset(at, 0, n);
	b->len += n;
	return at;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t *p = buf_take(b, 4);
	if (p)
		st32(p, v);
}

static void put_opt(struct buf *b, uint16_t code, const void *val, uint16_t len)
{
	uint8_t *p = buf_take(b, 4 + ((len + 3u) & ~3u));
	if (!p)
		return;
	st16(p, code);
	st16(p + 2, len);
	memcpy(p + 4, val, len);
}

static void put_opt_str(struct buf *b, uint16_t code, const char *s)
{
	size_t n = strlen(s);
	put_opt(b, code, s, (uint16_t)(n > 0xFFF0 ? 0xFFF0 : n));
}

static void put_opt_u64(struct buf *b, uint16_t code, uint64_t v)
{
	uint8_t le[8];
	st64(le, v);
	put_opt(b, code, le, 8);
}

/* pcapng timestamps in options are (high, low) 32-bit halves. */
static void put_opt_ts(struct buf *b, uint16_t code, uint64_t ts)
{
	uint8_t v[8];
	st32(v, (uint32_t)(ts >> 32));
	st32(v + 4, (uint32_t)ts);
	put_opt(b, code, v, 8);
}

static size_t block_begin(struct buf *b, uint32_t type)
{
	size_t start = b->len;
	put32(b, type);
	put32(b, 0); /* length, patched by block_end */
	return start;
}

static void block_end(struct buf *b, size_t start, bool with_endofopt)
{
	if (with_endofopt)
		put32(b, 0);
	put32(b, 0);
	if (b->oom)
		return;
	uint32_t len = (uint32_t)(b->len - start);
	st32(b->p + start + 4, len);
	st32(b->p + b->len - 4, len);
}

static void put_padding_block(struct buf *b, size_t len)
{
	size_t start = block_begin(b, FCAP_BT_PADDING);
	buf_take(b, len - 12);
	block_end(b, start, false);
}

static int write_all(struct fcap_pcapng_writer *w, const void *p, size_t n, char *errbuf)
{
	const uint8_t *c = p;
	while (n) {
		ssize_t k = write(w->fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return fcap_err(errbuf, "%s: write of %zu bytes at byte offset %llu failed: %s", w->path,
					n, (unsigned long long)w->offset, k < 0 ? strerror(errno) : "no progress");
		c += k;
		n -= (size_t)k;
		w->offset += (uint64_t)k;
	}
	return 0;
}

static void compose_header(struct buf *b, const struct fcap_card_info *ci, const char *userappl)
{
	struct utsname u;
	char os[200] = "Linux";
	if (uname(&u) == 0)
		snprintf(os, sizeof(os), "%s %s %s", u.sysname, u.release, u.machine);

	size_t shb = block_begin(b, BT_SHB);
	put32(b, BYTE_ORDER_MAGIC);
	put32(b, 1u | 0u << 16);  /* version 1.0 */
	put32(b, 0xFFFFFFFFu);     /* section length: not given */
	put32(b, 0xFFFFFFFFu);
	put_opt_str(b, SHB_HARDWARE, ci->model);
	put_opt_str(b, SHB_OS, os);
	put_opt_str(b, SHB_USERAPPL, userappl);
	block_end(b, shb, true);

	for (uint32_t port = 0; port < ci->nports; port++) {
		const struct fcap_port_info *pi = &ci->ports[port];
		char desc[192];
		uint8_t tsresol = 9;
		snprintf(desc, sizeof(desc), "fcap card port %u (%s), %u Mb/s", port, ci->model, pi->speed_mbps);
		size_t idb = block_begin(b, BT_IDB);
		put32(b, LINKTYPE_ETHERNET); /* link type (16) + reserved (16) */
		put32(b, ci->max_snaplen);
		put_opt_str(b, IF_NAME, pi->label);
		put_opt_str(b, IF_DESCRIPTION, desc);
		put_opt_u64(b, IF_SPEED, (uint64_t)pi->speed_mbps * 1000000u);
		put_opt(b, IF_TSRESOL, &tsresol, 1);
		block_end(b, idb, true);
	}

	/* Pad to a 4 KiB boundary so that ring blocks land page aligned. */
	size_t pad = FCAP_FILE_HEADER_ALIGN - b->len % FCAP_FILE_HEADER_ALIGN;
	if (pad < 12)
		pad += FCAP_FILE_HEADER_ALIGN;
	put_padding_block(b, pad);
}

int fcap_pcapng_compose_header(const struct fcap_card_info *ci, const char *userappl, uint8_t **out,
			       size_t *len, char *errbuf)
{
	struct buf b = { 0 };
	compose_header(&b, ci, userappl);
	if (b.oom) {
		free(b.p);
		return fcap_err(errbuf, "out of memory composing a file header");
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int fcap_pcapng_open(struct fcap_pcapng_writer *w, const char *path, const struct fcap_card_info *ci,
		     const char *userappl, char *errbuf)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->path = strdup(path);
	if (!w->path)
		return fcap_err(errbuf, "%s: out of memory", path);
	w->nports = ci->nports;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		fcap_err(errbuf, "%s: cannot create: %s", path, strerror(errno));
		free(w->path);
		w->path = NULL;
		return -1;
	}
	struct buf b = { 0 };
	compose_header(&b, ci, userappl);
	int rc = b.oom ? fcap_err(errbuf, "%s: out of memory", path) : write_all(w, b.p, b.len, errbuf);
	free(b.p);
	if (rc < 0)
		fcap_pcapng_abort(w);
	return rc;
}

uint32_t fcap_pcapng_trimmed_len(uint32_t used, uint32_t block_size)
{
	return fcap_block_stored_len(used, block_size);
}

void fcap_pcapng_stored_split(const uint8_t *blk, const struct fcap_block_info *bi,
			      uint8_t tail[FCAP_STORED_TAIL_MAX], struct fcap_stored_block *sb)
{
	uint32_t keep = fcap_block_stored_len(bi->used, bi->block_size);
	uint32_t head = keep == bi->used ? keep : bi->used & ~4095u;
	sb->head = blk;
	sb->head_len = head;
	sb->tail = tail;
	sb->tail_len = keep - head;
	if (!sb->tail_len)
		return;
	/* The records' last bytes, then a padding block whose body is zero, so
	 * that no stale byte of an earlier use of the ring block reaches a file. */
	uint32_t rec_bytes = bi->used - head;
	memcpy(tail, blk + head, rec_bytes);
	memset(tail + rec_bytes, 0, sb->tail_len - rec_bytes);
	uint32_t pad = keep - bi->used;
	st32(tail + rec_bytes, FCAP_BT_PADDING);
	st32(tail + rec_bytes + 4, pad);
	st32(tail + sb->tail_len - 4, pad);
}

int fcap_pcapng_write_block(struct fcap_pcapng_writer *w, const uint8_t *blk, const struct fcap_block_info *bi,
			    char *errbuf)
{
	static __thread uint8_t tail[FCAP_STORED_TAIL_MAX];
	struct fcap_stored_block sb;
	fcap_pcapng_stored_split(blk, bi, tail, &sb);
	if (write_all(w, sb.head, sb.head_len, errbuf) < 0 || write_all(w, sb.tail, sb.tail_len, errbuf) < 0)
		return -1;
	w->blocks++;
	return 0;
}

static void compose_isbs(struct buf *b, uint32_t nports, const struct fcap_isb_stats *stats, const char *comment)
{
	for (uint32_t port = 0; port < nports; port++) {
		const struct fcap_isb_stats *s = &stats[port];
		size_t isb = block_begin(b, BT_ISB);
		put32(b, port);
		put32(b, (uint32_t)(s->end_ts >> 32));
		put32(b, (uint32_t)s->end_ts);
		if (comment && port == 0)
			put_opt_str(b, OPT_COMMENT, comment);
		put_opt_ts(b, ISB_STARTTIME, s->start_ts);
		put_opt_ts(b, ISB_ENDTIME, s->end_ts);
		if (s->if_recv != FCAP_ISB_UNKNOWN)
			put_opt_u64(b, ISB_IFRECV, s->if_recv);
		if (s->if_drop != FCAP_ISB_UNKNOWN)
			put_opt_u64(b, ISB_IFDROP, s->if_drop);
		if (s->os_drop != FCAP_ISB_UNKNOWN)
			put_opt_u64(b, ISB_OSDROP, s->os_drop);
		put_opt_u64(b, ISB_USRDELIV, s->usr_deliv);
		block_end(b, isb, true);
	}
}

int fcap_pcapng_compose_isbs(uint32_t nports, const struct fcap_isb_stats *stats, const char *comment,
			     uint8_t **out, size_t *len, char *errbuf)
{
	struct buf b = { 0 };
	compose_isbs(&b, nports, stats, comment);
	if (b.oom) {
		free(b.p);
		return fcap_err(errbuf, "out of memory composing statistics blocks");
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int fcap_pcapng_close(struct fcap_pcapng_writer *w, const struct fcap_isb_stats *stats, char *errbuf)
{
	struct buf b = { 0 };
	compose_isbs(&b, w->nports, stats, NULL);
	int rc = b.oom ? fcap_err(errbuf, "%s: out of memory", w->path) : write_all(w, b.p, b.len, errbuf);
	free(b.p);
	if (rc == 0 && fsync(w->fd) < 0)
		rc = fcap_err(errbuf, "%s: fsync failed: %s", w->path, strerror(errno));
	if (close(w->fd) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s: close failed: %s", w->path, strerror(errno));
	w->fd = -1;
	free(w->path);
	w->path = NULL;
	return rc;
}

void fcap_pcapng_abort(struct fcap_pcapng_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->path);
	w->path = NULL;
}
