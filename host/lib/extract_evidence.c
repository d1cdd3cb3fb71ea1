/*
 * extract_evidence.c - the packets of an alert's evidence, copied byte for
 * byte out of the capture file the scorer read (fcap/alert_file.h,
 * `fcap extract --alert`, docs/ALERTS.md).
 *
 * The file is walked record by record (pcap) or block by block (pcapng),
 * numbering packets as the reader did, and every length is checked against
 * the file's size before use. A pcap file's header and the evidence
 * records are written as stored; from a pcapng file, every section header
 * and interface description block (so that interface ids and time
 * resolutions mean what they meant) and the evidence's packet blocks. Each
 * evidence packet's number must sit at its recorded offset: a file that
 * changed since it was scored is refused, not silently misread.
 */
#include "fcap/extract_evidence.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB 2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du
#define MAX_RECORD (64u << 20)

struct walk {
	FILE *in, *out;
	const char *path;
	uint64_t size, pos;
	bool swap;
	const uint64_t *num, *off;
	size_t n, next;     /* evidence entries; the next one to find */
	uint64_t packet;    /* number of the current packet */
	uint8_t *buf;
	size_t cap;
	uint64_t written;
	char *errbuf;
};

static uint32_t get32(const struct walk *w, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return w->swap ? __builtin_bswap32(v) : v;
}

/* Reads len bytes at the current position into buf. */
static int take(struct walk *w, uint64_t len)
{
	if (len > w->size - w->pos)
		return fcap_err(w->errbuf, "%s: offset %llu: record of %llu bytes runs past the end of the file (%llu bytes)",
				w->path, (unsigned long long)w->pos, (unsigned long long)len, (unsigned long long)w->size);
	if (len > w->cap) {
		uint8_t *b = realloc(w->buf, (size_t)len);
		if (!b)
			return fcap_err(w->errbuf, "%s: out of memory", w->path);
		w->buf = b;
		w->cap = (size_t)len;
	}
	if (fseeko(w->in, (off_t)w->pos, SEEK_SET) < 0 || fread(w->buf, 1, (size_t)len, w->in) != len)
		return fcap_err(w->errbuf, "%s: offset %llu: read error", w->path, (unsigned long long)w->pos);
	return 0;
}

static int put(struct walk *w, uint64_t len)
{
	if (fwrite(w->buf, 1, (size_t)len, w->out) != len)
		return fcap_err(w->errbuf, "write error: %m");
	w->written += len;
	return 0;
}

/* A packet record at w->pos: is it evidence, and is it where the alert says? */
static int packet(struct walk *w, uint64_t len)
{
	w->packet++;
	if (w->next >= w->n || w->num[w->next] != w->packet)
		return 0;
	if (w->off[w->next] != w->pos)
		return fcap_err(w->errbuf, "%s: packet %llu is at offset %llu, the alert says %llu: the file changed "
				"since it was scored", w->path, (unsigned long long)w->packet, (unsigned long long)w->pos,
				(unsigned long long)w->off[w->next]);
	w->next++;
	return put(w, len);
}

static int walk_pcap(struct walk *w)
{
	if (take(w, 24) < 0 || put(w, 24) < 0)
		return -1;
	for (w->pos = 24; w->pos < w->size && w->next < w->n;) {
		if (take(w, 16) < 0)
			return -1;
		uint64_t caplen = get32(w, w->buf + 8);
		if (caplen > MAX_RECORD)
			return fcap_err(w->errbuf, "%s: offset %llu: captured length %llu is not believable", w->path,
					(unsigned long long)w->pos, (unsigned long long)caplen);
		if (take(w, 16 + caplen) < 0 || packet(w, 16 + caplen) < 0)
			return -1;
		w->pos += 16 + caplen;
	}
	return 0;
}

static int walk_pcapng(struct walk *w)
{
	for (w->pos = 0; w->pos < w->size && w->next < w->n;) {
		if (take(w, 12) < 0)
			return -1;
		uint32_t type;
		memcpy(&type, w->buf, 4);
		if (type == NG_SHB) {
			uint32_t bom;
			memcpy(&bom, w->buf + 8, 4);
			if (bom != NG_BOM && bom != __builtin_bswap32(NG_BOM))
				return fcap_err(w->errbuf, "%s: offset %llu: section header with a bad byte-order magic",
						w->path, (unsigned long long)w->pos);
			w->swap = bom != NG_BOM;
		} else {
			type = get32(w, w->buf);
		}
		uint64_t len = get32(w, w->buf + 4);
		if (len < 12 || len % 4 || len > MAX_RECORD)
			return fcap_err(w->errbuf, "%s: offset %llu: block length %llu is malformed", w->path,
					(unsigned long long)w->pos, (unsigned long long)len);
		if (take(w, len) < 0)
			return -1;
		if (get32(w, w->buf + len - 4) != len)
			return fcap_err(w->errbuf, "%s: offset %llu: block's trailing length differs", w->path,
					(unsigned long long)w->pos);
		int rc = 0;
		if (type == NG_SHB || type == NG_IDB)
			rc = put(w, len);
		else if (type == NG_EPB || type == NG_SPB || type == NG_PB)
			rc = packet(w, len);
		if (rc < 0)
			return -1;
		w->pos += len;
	}
	return 0;
}

int fcap_extract_evidence(const char *path, const uint64_t *num, const uint64_t *off, size_t n, FILE *out,
			  uint64_t *written, char *errbuf)
{
	for (size_t i = 1; i < n; i++)
		if (num[i] <= num[i - 1])
			return fcap_err(errbuf, "%s: evidence packets out of order (%llu after %llu)", path,
					(unsigned long long)num[i], (unsigned long long)num[i - 1]);
	FILE *in = fopen(path, "rb");
	if (!in)
		return fcap_err(errbuf, "evidence file %s: %m%s", path,
				errno == ENOENT ? " (removed, perhaps by the store's retention)" : "");
	struct stat st;
	struct walk w = { .in = in, .out = out, .path = path, .num = num, .off = off, .n = n, .errbuf = errbuf };
	int rc = fstat(fileno(in), &st) < 0 ? fcap_err(errbuf, "%s: %m", path) : 0;
	w.size = (uint64_t)st.st_size;
	if (rc == 0)
		rc = take(&w, 4);
	if (rc == 0) {
		uint32_t magic;
		memcpy(&magic, w.buf, 4);
		if (magic == NG_SHB)
			rc = walk_pcapng(&w);
		else if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == __builtin_bswap32(PCAP_MAGIC_US) ||
			 magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
			w.swap = magic == __builtin_bswap32(PCAP_MAGIC_US) || magic == __builtin_bswap32(PCAP_MAGIC_NS);
			rc = walk_pcap(&w);
		} else
			rc = fcap_err(errbuf, "%s: offset 0: neither pcap nor pcapng", path);
	}
	if (rc == 0 && w.next < n)
		rc = fcap_err(errbuf, "%s: evidence packet %llu (offset %llu) is not in the file (%llu packets): the file "
				"changed since it was scored", path, (unsigned long long)num[w.next],
			      (unsigned long long)off[w.next], (unsigned long long)w.packet);
	free(w.buf);
	fclose(in);
	*written = w.written;
	return rc;
}
