/*
 * pcap_reader.c - pcap and pcapng reading with exact offsets (fcap/pcap_reader.h).
 *
 * Blocks are read whole into one growing buffer, then parsed with bounds
 * checks against the block's own length. Sizes are capped so that a
 * length field full of garbage cannot make us allocate gigabytes.
 */
#include "fcap/pcap_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCK      (64u << 20)   /* largest pcapng block we accept */
#define MAX_RECORD     (256u << 10)  /* largest classic pcap record (libpcap's limit) */
#define MAX_IFACES     4096

#define PCAP_MAGIC_US  0xa1b2c3d4u
#define PCAP_MAGIC_NS  0xa1b23c4du
#define NG_SHB         0x0a0d0d0au
#define NG_BOM         0x1a2b3c4du
#define NG_IDB         1u
#define NG_PB          2u
#define NG_SPB         3u
#define NG_EPB         6u

struct iface {
	uint32_t linktype;
	uint32_t snaplen;
	bool pow2;          /* if_tsresol: power of two rather than of ten */
	uint8_t exp;        /* units are 10^-exp or 2^-exp seconds */
	int64_t tsoffset_s; /* if_tsoffset */
};

struct fcap_pcap_reader {
	FILE *f;
	char *path;
	bool ng;
	bool swap;          /* file byte order differs from ours */
	uint64_t off;       /* file offset of the next unread byte */
	uint64_t number;
	uint8_t *buf;
	size_t cap;
	/* classic pcap */
	bool ns;
	uint32_t linktype;
	/* pcapng: interfaces of the current section */
	struct iface *ifs;
	uint32_t nifs;
};

static uint32_t rd32(const struct fcap_pcap_reader *r, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct fcap_pcap_reader *r, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int grow(struct fcap_pcap_reader *r, size_t n, char *errbuf)
{
	if (n <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 65536;
	while (cap < n)
		cap *= 2;
	uint8_t *b = realloc(r->buf, cap);
	if (!b)
		return fcap_err(errbuf, "%s: out of memory for a %zu-byte block", r->path, n);
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* Reads exactly n bytes at the current offset into buf+at. Returns 1, 0 at a
 * clean end of file (nothing read and eof_ok), -1 on a short read. */
static int read_exact(struct fcap_pcap_reader *r, size_t at, size_t n, bool eof_ok, uint64_t rec_off,
		      const char *what, char *errbuf)
{
	if (grow(r, at + n, errbuf) < 0)
		return -1;
	size_t got = fread(r->buf + at, 1, n, r->f);
	r->off += got;
	if (got == n)
		return 1;
	if (ferror(r->f))
		return fcap_err(errbuf, "%s: offset %llu: read error: %s", r->path,
				(unsigned long long)r->off, strerror(errno));
	if (got == 0 && eof_ok)
		return 0;
	return fcap_err(errbuf, "%s: offset %llu: truncated %s: %zu of %zu bytes present", r->path,
			(unsigned long long)rec_off, what, got, n);
}

static uint64_t scale_ts(uint64_t ts, bool pow2, uint8_t exp)
{
	if (pow2) {
		unsigned __int128 v = (unsigned __int128)ts * 1000000000u;
		return (uint64_t)(v >> exp);
	}
	if (exp <= 9) {
		uint64_t m = 1;
		for (uint8_t i = exp; i < 9; i++)
			m *= 10;
		return ts * m;
	}
	for (uint8_t i = 9; i < exp && ts; i++)
		ts /= 10;
	return ts;
}

/* ---- classic pcap ---- */

static int pcap_header(struct fcap_pcap_reader *r, uint32_t magic, char *errbuf)
{
	r->swap = (magic == __builtin_bswap32(PCAP_MAGIC_US) || magic == __builtin_bswap32(PCAP_MAGIC_NS));
	uint32_t m = r->swap ? __builtin_bswap32(magic) : magic;
	r->ns = (m == PCAP_MAGIC_NS);
	if (read_exact(r, 4, 20, false, 0, "pcap file header", errbuf) < 0)
		return -1;
	uint16_t major = rd16(r, r->buf + 4);
	if (major != 2)
		return fcap_err(errbuf, "%s: offset 4: pcap version %u, expected 2", r->path, major);
	r->linktype = rd32(r, r->buf + 20) & 0x0fffffffu;
	return 0;
}

static int pcap_next_rec(struct fcap_pcap_reader *r, struct fcap_pkt *p, char *errbuf)
{
	uint64_t at = r->off;
	int rc = read_exact(r, 0, 16, true, at, "pcap record header", errbuf);
	if (rc <= 0)
		return rc;
	uint32_t sec = rd32(r, r->buf), frac = rd32(r, r->buf + 4);
	uint32_t caplen = rd32(r, r->buf + 8), origlen = rd32(r, r->buf + 12);
	if (caplen > MAX_RECORD)
		return fcap_err(errbuf, "%s: offset %llu: record captured length %u exceeds %u", r->path,
				(unsigned long long)at, caplen, MAX_RECORD);
	if (read_exact(r, 16, caplen, false, at, "pcap record", errbuf) < 0)
		return -1;
	if ((r->ns && frac >= 1000000000u) || (!r->ns && frac >= 1000000u))
		return fcap_err(errbuf, "%s: offset %llu: record sub-second field %u out of range", r->path,
				(unsigned long long)at, frac);
	*p = (struct fcap_pkt){
		.number = ++r->number, .offset = at, .ifindex = 0, .linktype = r->linktype,
		.ts_ns = (uint64_t)sec * 1000000000u + (r->ns ? frac : (uint64_t)frac * 1000u),
		.caplen = caplen, .origlen = origlen < caplen ? caplen : origlen, .data = r->buf + 16,
	};
	return 1;
}

/* ---- pcapng ---- */

/* Reads the interface options at b[start..end) that we use (if_tsresol,
 * if_tsoffset). Errors name the block offset. */
static int ng_idb_options(struct fcap_pcap_reader *r, const uint8_t *b, size_t start, size_t end,
			  uint64_t at, struct iface *ifc, char *errbuf)
{
	size_t o = start;
	while (o + 4 <= end) {
		uint16_t code = rd16(r, b + o), len = rd16(r, b + o + 2);
		if (code == 0)
			return 0;
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if (padded > end - o - 4)
			return fcap_err(errbuf, "%s: offset %llu: interface option %u length %u overruns the block",
					r->path, (unsigned long long)at, code, len);
		const uint8_t *v = b + o + 4;
		if (code == 9 && len >= 1) {
			ifc->pow2 = v[0] & 0x80;
			ifc->exp = v[0] & 0x7f;
			if ((ifc->pow2 && ifc->exp > 63) || (!ifc->pow2 && ifc->exp > 19))
				return fcap_err(errbuf, "%s: offset %llu: if_tsresol 0x%02x unsupported", r->path,
						(unsigned long long)at, v[0]);
		} else if (code == 14 && len == 8) {
			uint64_t lo = rd32(r, v), hi = rd32(r, v + 4);
			ifc->tsoffset_s = (int64_t)(r->swap ? (lo << 32 | hi) : (hi << 32 | lo));
		}
		o += 4 + padded;
	}
	return 0;
}

static int ng_shb(struct fcap_pcap_reader *r, uint64_t at, char *errbuf)
{
	/* The byte-order magic decides how to read the length, so read it first. */
	int rc = read_exact(r, 4, 8, false, at, "section header block", errbuf);
	if (rc < 0)
		return -1;
	uint32_t bom;
	memcpy(&bom, r->buf + 8, 4);
	if (bom == NG_BOM)
		r->swap = false;
	else if (bom == __builtin_bswap32(NG_BOM))
		r->swap = true;
	else
		return fcap_err(errbuf, "%s: offset %llu: section header byte-order magic 0x%08x is neither order",
				r->path, (unsigned long long)at, bom);
	uint32_t len = rd32(r, r->buf + 4);
	if (len < 28 || len % 4 || len > MAX_BLOCK)
		return fcap_err(errbuf, "%s: offset %llu: section header length %u invalid", r->path,
				(unsigned long long)at, len);
	if (read_exact(r, 12, len - 12, false, at, "section header block", errbuf) < 0)
		return -1;
	if (rd32(r, r->buf + len - 4) != len)
		return fcap_err(errbuf, "%s: offset %llu: section header trailing length differs", r->path,
				(unsigned long long)at);
	if (rd16(r, r->buf + 12) != 1)
		return fcap_err(errbuf, "%s: offset %llu: pcapng major version %u, expected 1", r->path,
				(unsigned long long)at, rd16(r, r->buf + 12));
	r->nifs = 0;  /* interfaces are per section */
	return 0;
}

static int ng_idb(struct fcap_pcap_reader *r, uint32_t len, uint64_t at, char *errbuf)
{
	if (len < 20)
		return fcap_err(errbuf, "%s: offset %llu: interface description length %u < 20", r->path,
				(unsigned long long)at, len);
	if (r->nifs >= MAX_IFACES)
		return fcap_err(errbuf, "%s: offset %llu: more than %u interfaces", r->path,
				(unsigned long long)at, MAX_IFACES);
	struct iface *ifs = realloc(r->ifs, (r->nifs + 1) * sizeof(*ifs));
	if (!ifs)
		return fcap_err(errbuf, "%s: out of memory", r->path);
	r->ifs = ifs;
	struct iface *ifc = &ifs[r->nifs];
	*ifc = (struct iface){ .linktype = rd16(r, r->buf + 8), .snaplen = rd32(r, r->buf + 12), .exp = 6 };
	if (ng_idb_options(r, r->buf, 16, len - 4, at, ifc, errbuf) < 0)
		return -1;
	r->nifs++;
	return 0;
}

static int ng_packet(struct fcap_pcap_reader *r, uint32_t type, uint32_t len, uint64_t at, struct fcap_pkt *p,
		     char *errbuf)
{
	const uint8_t *b = r->buf;
	uint32_t ifid, caplen, origlen, hdr;
	uint64_t ts = 0;
	if (type == NG_SPB) {
		if (len < 16)
			return fcap_err(errbuf, "%s: offset %llu: simple packet block length %u < 16", r->path,
					(unsigned long long)at, len);
		ifid = 0;
		origlen = rd32(r, b + 8);
		caplen = origlen < len - 16 ? origlen : len - 16;
		if (r->nifs > 0 && r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
			caplen = r->ifs[0].snaplen;
		hdr = 12;
	} else {
		if (len < 32)
			return fcap_err(errbuf, "%s: offset %llu: packet block length %u < 32", r->path,
					(unsigned long long)at, len);
		ifid = type == NG_PB ? rd16(r, b + 8) : rd32(r, b + 8);
		ts = (uint64_t)rd32(r, b + 12) << 32 | rd32(r, b + 16);
		caplen = rd32(r, b + 20);
		origlen = rd32(r, b + 24);
		hdr = 28;
		if (caplen > len - 32)
			return fcap_err(errbuf, "%s: offset %llu: captured length %u overruns the %u-byte block",
					r->path, (unsigned long long)at, caplen, len);
	}
	if (ifid >= r->nifs)
		return fcap_err(errbuf, "%s: offset %llu: packet on interface %u, but the section declares %u",
				r->path, (unsigned long long)at, ifid, r->nifs);
	const struct iface *ifc = &r->ifs[ifid];
	uint64_t ns = scale_ts(ts, ifc->pow2, ifc->exp) + (uint64_t)ifc->tsoffset_s * 1000000000u;
	*p = (struct fcap_pkt){
		.number = ++r->number, .offset = at, .ifindex = ifid, .linktype = ifc->linktype, .ts_ns = ns,
		.caplen = caplen, .origlen = origlen < caplen ? caplen : origlen, .data = b + hdr,
	};
	return 1;
}

static int ng_next(struct fcap_pcap_reader *r, struct fcap_pkt *p, char *errbuf)
{
	for (;;) {
		uint64_t at = r->off;
		int rc = read_exact(r, 0, 4, true, at, "block header", errbuf);
		if (rc <= 0)
			return rc;
		uint32_t type;
		memcpy(&type, r->buf, 4);
		if (type == NG_SHB) {
			if (ng_shb(r, at, errbuf) < 0)
				return -1;
			continue;
		}
		type = rd32(r, r->buf);
		if (read_exact(r, 4, 4, false, at, "block header", errbuf) < 0)
			return -1;
		uint32_t len = rd32(r, r->buf + 4);
		if (len < 12 || len % 4 || len > MAX_BLOCK)
			return fcap_err(errbuf, "%s: offset %llu: block type 0x%08x has invalid length %u", r->path,
					(unsigned long long)at, type, len);
		if (read_exact(r, 8, len - 8, false, at, "block", errbuf) < 0)
			return -1;
		if (rd32(r, r->buf + len - 4) != len)
			return fcap_err(errbuf, "%s: offset %llu: block type 0x%08x trailing length %u differs from %u",
					r->path, (unsigned long long)at, type, rd32(r, r->buf + len - 4), len);
		if (type == NG_IDB) {
			if (ng_idb(r, len, at, errbuf) < 0)
				return -1;
		} else if (type == NG_EPB || type == NG_SPB || type == NG_PB) {
			return ng_packet(r, type, len, at, p, errbuf);
		}
		/* Anything else (statistics, name resolution, local-use ring
		 * headers and padding) carries no packet. */
	}
}

/* ---- public ---- */

struct fcap_pcap_reader *fcap_pcap_open(const char *path, char *errbuf)
{
	struct fcap_pcap_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		fcap_err(errbuf, "%s: out of memory", path);
		return NULL;
	}
	r->f = fopen(path, "rb");
	if (!r->f) {
		fcap_err(errbuf, "%s: %s", path, strerror(errno));
		fcap_pcap_close(r);
		return NULL;
	}
	uint32_t magic;
	int rc = read_exact(r, 0, 4, false, 0, "file header", errbuf);
	if (rc < 0) {
		fcap_pcap_close(r);
		return NULL;
	}
	memcpy(&magic, r->buf, 4);
	if (magic == NG_SHB) {
		r->ng = true;
		rc = ng_shb(r, 0, errbuf);
	} else if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		rc = pcap_header(r, magic, errbuf);
	} else {
		rc = fcap_err(errbuf, "%s: offset 0: not a pcap or pcapng file (magic 0x%08x)", path, magic);
	}
	if (rc < 0) {
		fcap_pcap_close(r);
		return NULL;
	}
	return r;
}

int fcap_pcap_next(struct fcap_pcap_reader *r, struct fcap_pkt *p, char *errbuf)
{
	return r->ng ? ng_next(r, p, errbuf) : pcap_next_rec(r, p, errbuf);
}

const char *fcap_pcap_format(const struct fcap_pcap_reader *r)
{
	return r->ng ? "pcapng" : "pcap";
}

void fcap_pcap_close(struct fcap_pcap_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->path);
	free(r->buf);
	free(r->ifs);
	free(r);
}
