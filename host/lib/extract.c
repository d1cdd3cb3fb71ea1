/*
 * extract.c - packets out of a store (fcap/extract.h, docs/STORE.md).
 *
 *   segments whose time span meets the range
 *     -> per segment: candidates from the index (posting lists of the
 *        query's keys, intersected; or every record of the ring blocks in
 *        the range), each read at its offset and checked exactly
 *     -> (timestamp, segment, offset) of every match, sorted
 *     -> records copied in that order into pcapng (as stored) or ns pcap
 */
#define _GNU_SOURCE
#include "fcap/extract.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/pktkeys.h"
#include "fcap/seg_index.h"
#include "fcap/seg_scan.h"

#define SNAPLEN_OUT 262144u
#define MAX_RECORD (FCAP_EPB_FIXED_LEN + 65536u + 64u)

struct match {
	uint64_t ts;
	uint32_t seg;
	uint32_t len;
	uint64_t offset;
};

struct run {
	const char *dir;
	const struct fcap_query *q;
	fcap_log_fn log;
	void *log_ctx;
	struct fcap_extract_stats *st;
	struct fcap_key_term terms[2 * FCAP_QUERY_MAX_TERMS + 1];
	unsigned nterms;
	bool bpf_ok;
	struct bpf_program bpf;
	struct match *m;
	size_t nm, capm;
	uint8_t rec[MAX_RECORD];
	uint32_t nports;          /* of the first segment read */
};

static void say(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *x, const char *fmt, ...)
{
	if (!x->log)
		return;
	char line[FCAP_ERRBUF_SIZE + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	x->log(x->log_ctx, line);
}

/* ---- parsing ----------------------------------------------------------- */

int fcap_host_parse(const char *s, struct fcap_host *h, char *errbuf)
{
	memset(h, 0, sizeof(*h));
	if (inet_pton(AF_INET, s, h->addr) == 1)
		h->family = 4;
	else if (inet_pton(AF_INET6, s, h->addr) == 1)
		h->family = 6;
	else
		return fcap_err(errbuf, "'%s' is not a numeric IPv4 or IPv6 address", s);
	return 0;
}

/* "ADDR" or "ADDR:PORT" (IPv4) or "[ADDR]:PORT" / "ADDR" (IPv6). */
static int endpoint(const char *s, size_t n, bool with_port, uint8_t *family, uint8_t *addr, uint16_t *port,
		    char *errbuf)
{
	char buf[80];
	if (n == 0 || n >= sizeof(buf))
		return fcap_err(errbuf, "flow endpoint '%.*s' is malformed", (int)n, s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *a = buf, *p = NULL;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close)
			return fcap_err(errbuf, "flow endpoint '%s': no closing ]", buf);
		*close = '\0';
		a = buf + 1;
		if (close[1] == ':')
			p = close + 2;
		else if (close[1])
			return fcap_err(errbuf, "flow endpoint '%s' is malformed", s);
	} else if (with_port) {
		p = strrchr(buf, ':');
		if (p && strchr(buf, ':') != p)
			p = NULL;   /* bare IPv6 */
		if (p)
			*p++ = '\0';
	}
	struct fcap_host h;
	if (fcap_host_parse(a, &h, errbuf) < 0)
		return -1;
	*family = h.family;
	memcpy(addr, h.addr, 16);
	*port = 0;
	if (with_port) {
		char *end;
		long v = p ? strtol(p, &end, 10) : -1;
		if (!p || !*p || *end || v < 0 || v > 65535)
			return fcap_err(errbuf, "flow endpoint '%.*s' needs a port (ADDR:PORT, [IPv6]:PORT)", (int)n, s);
		*port = (uint16_t)v;
	} else if (p) {
		return fcap_err(errbuf, "flow endpoint '%.*s': this protocol has no ports", (int)n, s);
	}
	return 0;
}

int fcap_flow_parse(const char *s, struct fcap_flow *f, char *errbuf)
{
	memset(f, 0, sizeof(*f));
	const char *gt = strchr(s, '>'), *slash = strrchr(s, '/');
	if (!gt || !slash || slash < gt)
		return fcap_err(errbuf, "flow '%s': expected SRC>DST/PROTO, e.g. 10.0.0.1:80>10.0.0.2:4242/tcp", s);
	const char *proto = slash + 1;
	bool ports = true;
	if (!strcmp(proto, "tcp"))
		f->proto = 6;
	else if (!strcmp(proto, "udp"))
		f->proto = 17;
	else if (!strcmp(proto, "sctp"))
		f->proto = 132;
	else if (!strcmp(proto, "icmp"))
		f->proto = 1, ports = false;
	else if (!strncmp(proto, "ip", 2) && proto[2] && strspn(proto + 2, "0123456789") == strlen(proto + 2) &&
		 atoi(proto + 2) <= 255)
		f->proto = (uint8_t)atoi(proto + 2), ports = false;
	else
		return fcap_err(errbuf, "flow '%s': protocol '%s' is not tcp, udp, sctp, icmp or ipN", s, proto);
	uint8_t fa, fb;
	if (endpoint(s, (size_t)(gt - s), ports, &fa, f->a, &f->aport, errbuf) < 0 ||
	    endpoint(gt + 1, (size_t)(slash - gt - 1), ports, &fb, f->b, &f->bport, errbuf) < 0)
		return -1;
	if (fa != fb)
		return fcap_err(errbuf, "flow '%s': one IPv4 and one IPv6 endpoint", s);
	f->family = fa;
	if (f->proto == 1 && fa == 6)
		f->proto = 58;
	return 0;
}

int fcap_filter_check(const char *filter, char *errbuf)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, SNAPLEN_OUT);
	if (!p)
		return fcap_err(errbuf, "out of memory");
	struct bpf_program prog;
	int rc = 0;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		rc = fcap_err(errbuf, "filter '%s': %s", filter, pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

/* ---- the exact check of one record ---------------------------------------- */

static bool same_addr(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, family == 4 ? 4 : 16) == 0;
}

static bool host_matches(const struct fcap_pkt_keys *k, const struct fcap_host *h)
{
	return k->family == h->family && ((k->has_src && same_addr(h->family, k->src, h->addr)) ||
					  (k->has_dst && same_addr(h->family, k->dst, h->addr)));
}

static bool port_matches(const struct fcap_pkt_keys *k, uint16_t port)
{
	return (k->has_sport && k->sport == port) || (k->has_dport && k->dport == port);
}

static bool flow_matches(const struct fcap_pkt_keys *k, const struct fcap_flow *f)
{
	if (k->arp || k->family != f->family || !k->has_proto || k->proto != f->proto || !k->has_src || !k->has_dst)
		return false;
	bool ports = f->proto == 6 || f->proto == 17 || f->proto == 132;
	if (ports && !(k->has_sport && k->has_dport))
		return false;
	uint16_t sp = ports ? k->sport : 0, dp = ports ? k->dport : 0;
	return (same_addr(f->family, k->src, f->a) && same_addr(f->family, k->dst, f->b) && sp == f->aport &&
		dp == f->bport) ||
	       (same_addr(f->family, k->src, f->b) && same_addr(f->family, k->dst, f->a) && sp == f->bport &&
		dp == f->aport);
}

static bool in_range(const struct fcap_query *q, uint64_t ts)
{
	return (!q->has_from || ts >= q->from_ns) && (!q->has_to || ts < q->to_ns);
}

static bool record_matches(struct run *x, const struct fcap_record *r)
{
	const struct fcap_query *q = x->q;
	if (!in_range(q, r->ts))
		return false;
	if (q->nhosts || q->nports || q->has_flow) {
		struct fcap_pkt_keys k;
		fcap_pkt_keys(r->data, r->caplen, &k);
		for (unsigned i = 0; i < q->nhosts; i++)
			if (!host_matches(&k, &q->hosts[i]))
				return false;
		for (unsigned i = 0; i < q->nports; i++)
			if (!port_matches(&k, q->ports[i]))
				return false;
		if (q->has_flow && !flow_matches(&k, &q->flow))
			return false;
	}
	if (x->bpf_ok) {
		struct pcap_pkthdr h = { .caplen = r->caplen, .len = r->origlen };
		if (!pcap_offline_filter(&x->bpf, &h, r->data))
			return false;
	}
	return true;
}

static int add_match(struct run *x, uint32_t seg, const struct fcap_record *r, uint64_t offset, char *errbuf)
{
	if (x->nm == x->capm) {
		size_t cap = x->capm ? x->capm * 2 : 4096;
		struct match *m = realloc(x->m, cap * sizeof(*m));
		if (!m)
			return fcap_err(errbuf, "out of memory for %zu matches", cap);
		x->m = m;
		x->capm = cap;
	}
	x->m[x->nm++] = (struct match){ r->ts, seg, r->len, offset };
	return 0;
}

/* ---- reading a segment ---------------------------------------------------- */

static ssize_t read_at(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -1 : (ssize_t)got;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* The record at offset in a segment: read, bounds-checked, parsed. */
static int read_record(struct run *x, int fd, const char *name, uint32_t nports, uint64_t offset,
		       struct fcap_record *r)
{
	char err[FCAP_ERRBUF_SIZE];
	ssize_t k = read_at(fd, x->rec, 8, offset);
	uint32_t len = k == 8 ? ld32(x->rec + 4) : 0;
	if (k != 8 || len < FCAP_EPB_FIXED_LEN || len > sizeof(x->rec)) {
		say(x, "%s: offset %llu: no readable record there (%s); skipped", name, (unsigned long long)offset,
		    k != 8 ? "end of file" : "bad length");
		x->st->damaged++;
		return -1;
	}
	if (read_at(fd, x->rec + 8, len - 8, offset + 8) != (ssize_t)(len - 8) ||
	    fcap_record_parse(x->rec, len, 0, nports, r, err) < 0) {
		say(x, "%s: offset %llu: %s; skipped", name, (unsigned long long)offset, err);
		x->st->damaged++;
		return -1;
	}
	return 0;
}

/* Checks every record of a stored block read whole. */
static int scan_block(struct run *x, uint32_t seg, int fd, const char *name, uint32_t nports, uint64_t off,
		      uint32_t len, uint8_t **buf, size_t *cap, char *errbuf)
{
	if (len > *cap) {
		uint8_t *b = realloc(*buf, len);
		if (!b)
			return fcap_err(errbuf, "out of memory for a %u-byte block", len);
		*buf = b;
		*cap = len;
	}
	struct fcap_block_info bi;
	char why[FCAP_ERRBUF_SIZE];
	ssize_t k = read_at(fd, *buf, len, off);
	if (k != (ssize_t)len)
		snprintf(why, sizeof(why), "%s", k < 0 ? strerror(errno) : "the segment ends inside it");
	if (k != (ssize_t)len || fcap_block_check_stored(*buf, len, nports, &bi, why) < 0) {
		say(x, "%s: ring block at offset %llu: %s; skipped", name, (unsigned long long)off, why);
		x->st->damaged++;
		return 0;
	}
	size_t o = 0;
	struct fcap_record r;
	while (fcap_block_next(*buf, &bi, nports, &o, &r, why) > 0) {
		x->st->candidates++;
		if (record_matches(x, &r) && add_match(x, seg, &r, off + r.offset, errbuf) < 0)
			return -1;
	}
	return 0;
}

/* A segment without a usable index: walk it block by block. */
static int scan_segment(struct run *x, uint32_t seg, const char *path, const char *name, char *errbuf)
{
	struct fcap_seg_scan s;
	char why[FCAP_ERRBUF_SIZE];
	if (fcap_seg_scan_open(&s, path, false, why) < 0) {
		say(x, "%s; skipped", why);
		x->st->damaged++;
		return 0;
	}
	x->st->scanned++;
	int rc = 0;
	for (;;) {
		const uint8_t *blk;
		struct fcap_block_info bi;
		uint64_t at;
		int k = fcap_seg_scan_next(&s, &blk, &bi, &at, why);
		if (k == 0)
			break;
		if (k < 0) {
			say(x, "%s; skipped", why);
			x->st->damaged++;
			if (!fcap_seg_scan_resync(&s))
				break;
			continue;
		}
		if ((x->q->has_from && bi.last_ts < x->q->from_ns) || (x->q->has_to && bi.first_ts >= x->q->to_ns))
			continue;
		size_t o = 0;
		struct fcap_record r;
		while (fcap_block_next(blk, &bi, s.nports, &o, &r, why) > 0) {
			x->st->candidates++;
			if (record_matches(x, &r) && (rc = add_match(x, seg, &r, at + r.offset, errbuf)) < 0)
				goto out;
		}
	}
	(void)name;
out:
	fcap_seg_scan_close(&s);
	return rc;
}

static bool block_in_range(const struct fcap_query *q, const struct fcap_index_block *b)
{
	return !((q->has_from && b->last_ts < q->from_ns) || (q->has_to && b->first_ts >= q->to_ns));
}

/* Sorted union of up to three sorted posting lists. */
static uint32_t *union_lists(const uint32_t *const *l, const uint32_t *n, unsigned k, size_t *out_n)
{
	size_t total = 0;
	for (unsigned i = 0; i < k; i++)
		total += n[i];
	uint32_t *u = malloc((total ? total : 1) * sizeof(*u));
	if (!u)
		return NULL;
	size_t pos[3] = { 0 }, m = 0;
	for (;;) {
		uint64_t best = UINT64_MAX;
		for (unsigned i = 0; i < k; i++)
			if (pos[i] < n[i] && l[i][pos[i]] < best)
				best = l[i][pos[i]];
		if (best == UINT64_MAX)
			break;
		for (unsigned i = 0; i < k; i++)
			if (pos[i] < n[i] && l[i][pos[i]] == best)
				pos[i]++;
		u[m++] = (uint32_t)best;
	}
	*out_n = m;
	return u;
}

/* a := a ∩ b, both sorted. */
static size_t intersect(uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0, j = 0, m = 0;
	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			a[m++] = a[i];
			i++;
			j++;
		}
	}
	return m;
}

/* The records every term admits, or NULL with *all set when no term narrows. */
static int candidates(struct run *x, struct fcap_index *ix, uint32_t **out, size_t *n, char *errbuf)
{
	*out = NULL;
	*n = 0;
	uint32_t *acc = NULL;
	size_t nacc = 0;
	for (unsigned t = 0; t < x->nterms; t++) {
		const uint32_t *lists[3];
		uint32_t lens[3];
		for (unsigned k = 0; k < x->terms[t].nkeys; k++)
			if (fcap_index_lookup(ix, x->terms[t].key[k], &lists[k], &lens[k], errbuf) < 0) {
				free(acc);
				return -1;
			}
		size_t nu;
		uint32_t *u = union_lists(lists, lens, x->terms[t].nkeys, &nu);
		if (!u) {
			free(acc);
			return fcap_err(errbuf, "out of memory");
		}
		if (!acc) {
			acc = u;
			nacc = nu;
		} else {
			nacc = intersect(acc, nacc, u, nu);
			free(u);
		}
		if (nacc == 0)
			break;
	}
	*out = acc;
	*n = nacc;
	return 0;
}

/* The block holding record ordinal (blocks sorted by first_record). */
static int block_of(struct fcap_index *ix, uint32_t ordinal, uint64_t *hint, struct fcap_index_block *b,
		    char *errbuf)
{
	if (*hint < ix->nblocks) {
		if (fcap_index_block(ix, *hint, b, errbuf) < 0)
			return -1;
		if (ordinal >= b->first_record && ordinal - b->first_record < b->records)
			return 0;
	}
	uint64_t lo = 0, hi = ix->nblocks;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (fcap_index_block(ix, mid, b, errbuf) < 0)
			return -1;
		if (b->first_record <= ordinal)
			lo = mid;
		else
			hi = mid;
	}
	*hint = lo;
	return fcap_index_block(ix, lo, b, errbuf);
}

/* Candidates of one segment through its index. Returns 0, -1 on a fatal
 * error (errbuf), or 1 when the index turned out damaged (why). */
static int indexed_segment(struct run *x, uint32_t seg, struct fcap_index *ix, const char *path, const char *name,
			   char *why, char *errbuf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say(x, "%s: %s; skipped", path, strerror(errno));
		x->st->damaged++;
		return 0;
	}
	int rc = 0;
	if (x->nterms == 0) {
		/* Time only (and the filter): every block in the range. */
		uint8_t *buf = NULL;
		size_t cap = 0;
		for (uint64_t i = 0; i < ix->nblocks && rc == 0; i++) {
			struct fcap_index_block b;
			if (fcap_index_block(ix, i, &b, why) < 0)
				rc = 1;
			else if (block_in_range(x->q, &b))
				rc = scan_block(x, seg, fd, name, ix->nports, b.offset, b.len, &buf, &cap, errbuf);
		}
		free(buf);
		close(fd);
		return rc;
	}
	uint32_t *cand;
	size_t n;
	if (candidates(x, ix, &cand, &n, why) < 0) {
		close(fd);
		return 1;
	}
	uint64_t hint = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct fcap_index_block b;
		uint64_t off;
		struct fcap_record r;
		if (block_of(ix, cand[i], &hint, &b, why) < 0 || fcap_index_record_offset(ix, cand[i], &off, why) < 0) {
			rc = 1;
			break;
		}
		if (!block_in_range(x->q, &b))
			continue;
		x->st->candidates++;
		if (read_record(x, fd, name, ix->nports, off, &r) == 0 && record_matches(x, &r))
			rc = add_match(x, seg, &r, off, errbuf);
	}
	free(cand);
	close(fd);
	return rc;
}

static bool seg_in_range(const struct fcap_query *q, const struct fcap_segment *s)
{
	if (s->index != FCAP_INDEX_OK)
		return true;     /* span unknown until it is read */
	if (s->stats.records == 0)
		return false;
	return !((q->has_from && s->stats.last_ts < q->from_ns) || (q->has_to && s->stats.first_ts >= q->to_ns));
}

static void relay_log(void *ctx, const char *line)
{
	struct run *x = ctx;
	say(x, "%s", line);
}

/* Opens a segment's index, rebuilding it when it is missing or damaged
 * (the store heals as it is read). Returns 0, or -1 when no sound index
 * can be had (the segment is then read whole). */
static int open_index(struct run *x, struct fcap_segment *s, struct fcap_index *ix, const char *problem)
{
	char ipath[FCAP_STORE_PATH_MAX], why[FCAP_ERRBUF_SIZE];
	fcap_store_path(ipath, sizeof(ipath), x->dir, s->name, "idx", false);
	if (!problem && fcap_index_open(ix, ipath, s->seg_bytes, why) == 0)
		return 0;
	say(x, "%s: index %s: rebuilding it", s->name, problem ? problem : why);
	if (fcap_store_rebuild_index(x->dir, s->name, relay_log, x, why) == 0 &&
	    fcap_index_open(ix, ipath, s->seg_bytes, why) == 0) {
		x->st->rebuilt++;
		s->stats = ix->stats;
		return 0;
	}
	say(x, "%s: %s; reading the segment without an index", s->name, why);
	return -1;
}

static int one_segment(struct run *x, uint32_t seg, struct fcap_segment *s, char *errbuf)
{
	char path[FCAP_STORE_PATH_MAX], why[FCAP_ERRBUF_SIZE];
	fcap_store_path(path, sizeof(path), x->dir, s->name, "pcapng", false);
	if (x->q->no_index)
		return scan_segment(x, seg, path, s->name, errbuf);
	const char *problem = s->index == FCAP_INDEX_MISSING ? "missing" : s->index == FCAP_INDEX_BAD ? s->index_error
				: NULL;
	struct fcap_index ix;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (open_index(x, s, &ix, problem) < 0)
			break;
		if (!seg_in_range(x->q, s)) {
			fcap_index_close(&ix);
			return 0;
		}
		size_t before = x->nm;
		int rc = indexed_segment(x, seg, &ix, path, s->name, why, errbuf);
		fcap_index_close(&ix);
		if (rc <= 0)
			return rc;
		/* The index is damaged past its header: forget what it gave, rebuild, redo. */
		x->nm = before;
		problem = why;
	}
	return scan_segment(x, seg, path, s->name, errbuf);
}

/* ---- output --------------------------------------------------------------- */

static int cmp_match(const void *a, const void *b)
{
	const struct match *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int put(FILE *out, const void *p, size_t n, struct run *x, char *errbuf)
{
	if (n && fwrite(p, 1, n, out) != n)
		return fcap_err(errbuf, "writing the output failed: %s", strerror(errno));
	x->st->bytes += n;
	return 0;
}

/* SHB and IDBs of a segment (its file header without the padding block). */
static int pcapng_header(struct run *x, const char *path, FILE *out, char *errbuf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fcap_err(errbuf, "%s: %s", path, strerror(errno));
	uint8_t *hdr = malloc(1u << 20);
	ssize_t k = hdr ? read_at(fd, hdr, 1u << 20, 0) : -1;
	close(fd);
	int rc = fcap_err(errbuf, "%s: unreadable file header", path);
	uint64_t off = 0;
	while (k > 0 && off + 12 <= (uint64_t)k) {
		uint32_t type = ld32(hdr + off), len = ld32(hdr + off + 4);
		if (len < 12 || len > (uint64_t)k - off)
			break;
		if (type == FCAP_BT_PADDING) {
			rc = put(out, hdr, off, x, errbuf);
			break;
		}
		off += len;
	}
	free(hdr);
	return rc;
}

static int pcap_header(struct run *x, FILE *out, char *errbuf)
{
	uint8_t h[24];
	st32(h, 0xa1b23c4du);
	st16(h + 4, 2);
	st16(h + 6, 4);
	st32(h + 8, 0);
	st32(h + 12, 0);
	st32(h + 16, SNAPLEN_OUT);
	st32(h + 20, 1);   /* Ethernet */
	return put(out, h, sizeof(h), x, errbuf);
}

static int write_matches(struct run *x, struct fcap_segment *segs, FILE *out, char *errbuf)
{
	const struct fcap_query *q = x->q;
	char path[FCAP_STORE_PATH_MAX];
	int rc;
	/* The header: a segment's interfaces (every segment of a store has the card's). */
	if (q->format == FCAP_OUT_PCAPNG) {
		uint32_t first = x->nm ? x->m[0].seg : 0;
		fcap_store_path(path, sizeof(path), x->dir, segs[first].name, "pcapng", false);
		if ((rc = pcapng_header(x, path, out, errbuf)) < 0)
			return -1;
	} else if (pcap_header(x, out, errbuf) < 0) {
		return -1;
	}
	int fd = -1;
	uint32_t open_seg = UINT32_MAX;
	for (size_t i = 0; i < x->nm; i++) {
		const struct match *m = &x->m[i];
		if (m->seg != open_seg) {
			if (fd >= 0)
				close(fd);
			fcap_store_path(path, sizeof(path), x->dir, segs[m->seg].name, "pcapng", false);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			open_seg = m->seg;
			if (fd < 0)
				return fcap_err(errbuf, "%s: %s", path, strerror(errno));
		}
		if (m->len > sizeof(x->rec) || read_at(fd, x->rec, m->len, m->offset) != (ssize_t)m->len) {
			close(fd);
			return fcap_err(errbuf, "%s: offset %llu: record no longer readable", path,
					(unsigned long long)m->offset);
		}
		if (q->format == FCAP_OUT_PCAPNG) {
			rc = put(out, x->rec, m->len, x, errbuf);
		} else {
			uint8_t h[16];
			uint32_t caplen = ld32(x->rec + 20), origlen = ld32(x->rec + 24);
			if (caplen > m->len - FCAP_EPB_FIXED_LEN) {
				close(fd);
				return fcap_err(errbuf, "%s: offset %llu: record changed", path, (unsigned long long)m->offset);
			}
			st32(h, (uint32_t)(m->ts / 1000000000u));
			st32(h + 4, (uint32_t)(m->ts % 1000000000u));
			st32(h + 8, caplen);
			st32(h + 12, origlen);
			rc = put(out, h, 16, x, errbuf);
			if (rc == 0)
				rc = put(out, x->rec + 28, caplen, x, errbuf);
		}
		if (rc < 0) {
			close(fd);
			return -1;
		}
	}
	if (fd >= 0)
		close(fd);
	if (fflush(out) != 0)
		return fcap_err(errbuf, "writing the output failed: %s", strerror(errno));
	return 0;
}

/* ---- the query ------------------------------------------------------------ */

static void build_terms(struct run *x)
{
	const struct fcap_query *q = x->q;
	for (unsigned i = 0; i < q->nhosts; i++)
		x->terms[x->nterms++] = (struct fcap_key_term){ { fcap_key_host(q->hosts[i].family, q->hosts[i].addr) },
								1 };
	for (unsigned i = 0; i < q->nports; i++) {
		struct fcap_key_term t = { .nkeys = 3 };
		static const uint8_t protos[] = { 6, 17, 132 };
		for (unsigned k = 0; k < 3; k++)
			t.key[k] = FCAP_KEY(FCAP_KEY_PORT, (uint32_t)protos[k] << 16 | q->ports[i]);
		x->terms[x->nterms++] = t;
	}
	if (q->has_flow) {
		const struct fcap_flow *f = &q->flow;
		x->terms[x->nterms++] = (struct fcap_key_term){
			{ fcap_key_flow(f->family, f->proto, f->a, f->aport, f->b, f->bport) }, 1 };
	}
	if (q->filter && !q->no_index) {
		unsigned room = (unsigned)(sizeof(x->terms) / sizeof(x->terms[0])) - x->nterms;
		unsigned k = fcap_filter_terms(q->filter, x->terms + x->nterms, room);
		x->nterms += k;
		x->st->filter_terms = k;
	}
}

int fcap_extract(const char *dir, const struct fcap_query *q, FILE *out, fcap_log_fn log, void *log_ctx,
		 struct fcap_extract_stats *stats, char *errbuf)
{
	memset(stats, 0, sizeof(*stats));
	struct run *x = calloc(1, sizeof(*x));
	if (!x)
		return fcap_err(errbuf, "out of memory");
	*x = (struct run){ .dir = dir, .q = q, .log = log, .log_ctx = log_ctx, .st = stats };
	if (q->nhosts > FCAP_QUERY_MAX_TERMS || q->nports > FCAP_QUERY_MAX_TERMS) {
		free(x);
		return fcap_err(errbuf, "at most %d hosts and %d ports", FCAP_QUERY_MAX_TERMS, FCAP_QUERY_MAX_TERMS);
	}
	pcap_t *dead = NULL;
	if (q->filter) {
		dead = pcap_open_dead(DLT_EN10MB, SNAPLEN_OUT);
		if (!dead || pcap_compile(dead, &x->bpf, q->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fcap_err(errbuf, "filter '%s': %s", q->filter, dead ? pcap_geterr(dead) : "out of memory");
			if (dead)
				pcap_close(dead);
			free(x);
			return -1;
		}
		x->bpf_ok = true;
	}
	build_terms(x);
	struct fcap_segment *segs = NULL;
	size_t n = 0;
	int rc = fcap_store_list(dir, &segs, &n, NULL, errbuf);
	stats->segments = n;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!seg_in_range(q, &segs[i]))
			continue;
		stats->segments_read++;
		rc = one_segment(x, (uint32_t)i, &segs[i], errbuf);
	}
	if (rc == 0) {
		if (n == 0) {
			rc = fcap_err(errbuf, "%s: the store holds no segment", dir);
		} else {
			if (x->nm)
				qsort(x->m, x->nm, sizeof(*x->m), cmp_match);
			stats->matched = x->nm;
			rc = write_matches(x, segs, out, errbuf);
		}
	}
	if (x->bpf_ok)
		pcap_freecode(&x->bpf);
	if (dead)
		pcap_close(dead);
	free(segs);
	free(x->m);
	free(x);
	return rc;
}
