/*
 * recover.c - bringing a store back to a consistent state after a crash
 * (fcap/store.h, docs/STORE.md "Recovery").
 *
 * The commit protocol leaves only these states behind a crash:
 *   .NAME.pcapng          being written: cut back to its last whole ring
 *                         block, closed with statistics, indexed, published
 *   .NAME.idx             an index not yet renamed: removed (rebuilt below)
 *   NAME.pcapng alone     published, index not yet renamed: index rebuilt
 *   NAME.idx alone        segment removed by retention, index not yet: removed
 * and a published index that is corrupt or stale is rebuilt too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/card.h"
#include "fcap/pcapng.h"
#include "fcap/seg_scan.h"
#include "fcap/store.h"

struct ctx {
	const char *dir;
	fcap_log_fn log;
	void *log_ctx;
	struct fcap_recovery *rep;
};

static void say(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct ctx *c, const char *fmt, ...)
{
	if (!c->log)
		return;
	char line[FCAP_ERRBUF_SIZE + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(c->log_ctx, line);
}

static void fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Covers the unreadable bytes [from, to) of a segment being recovered with
 * one padding block (readers skip it), so the blocks after them stay
 * readable. Only the padding block's head and tail are written. */
static int cover_with_padding(struct fcap_seg_scan *s, uint64_t from, uint64_t to)
{
	uint8_t head[8], tail[4];
	uint32_t len = (uint32_t)(to - from);
	st32(head, FCAP_BT_PADDING);
	st32(head + 4, len);
	st32(tail, len);
	if (pwrite(s->fd, head, 8, (off_t)from) != 8 || pwrite(s->fd, tail, 4, (off_t)(to - 4)) != 4)
		return -1;
	return 0;
}

/*
 * Indexes every readable ring block of an open segment. repair: cover
 * damaged stretches followed by good blocks with padding (a segment being
 * recovered) rather than only skipping them. Stops at the end of the ring
 * blocks (s->off) or at damage nothing good follows (*cut_at, else 0).
 */
static int index_segment(const struct ctx *c, struct fcap_seg_scan *s, const char *name,
			 struct fcap_index_builder *ib, bool repair, uint64_t *cut_at, char *errbuf)
{
	*cut_at = 0;
	for (;;) {
		const uint8_t *blk;
		struct fcap_block_info bi;
		uint64_t at;
		char why[FCAP_ERRBUF_SIZE];
		int rc = fcap_seg_scan_next(s, &blk, &bi, &at, why);
		if (rc == 0)
			return 0;
		if (rc > 0) {
			if (fcap_ib_add_block(ib, blk, &bi, at, errbuf) < 0)
				return -1;
			continue;
		}
		uint64_t bad = s->off;
		if (!fcap_seg_scan_resync(s)) {
			*cut_at = bad;
			if (!repair) {
				say(c, "%s: %s; nothing readable follows", name, why);
				c->rep->damaged++;
			}
			return 0;
		}
		c->rep->damaged++;
		if (repair) {
			if (cover_with_padding(s, bad, s->off) < 0)
				return fcap_err(errbuf, "%s: covering bytes %llu..%llu failed: %s", s->path,
						(unsigned long long)bad, (unsigned long long)s->off, strerror(errno));
			say(c, "%s: %s; bytes %llu..%llu covered with a padding block, the blocks after them kept",
			    name, why, (unsigned long long)bad, (unsigned long long)s->off);
		} else {
			say(c, "%s: %s; bytes %llu..%llu skipped, the blocks after them indexed", name, why,
			    (unsigned long long)bad, (unsigned long long)s->off);
		}
	}
}

/* Writes ib as DIR/.NAME.idx, fsyncs it and renames it to NAME.idx. */
static int write_index(const struct ctx *c, const char *name, struct fcap_index_builder *ib, uint64_t blocks_end,
		       uint64_t file_size, char *errbuf)
{
	char hidden[FCAP_STORE_PATH_MAX], path[FCAP_STORE_PATH_MAX];
	fcap_store_path(hidden, sizeof(hidden), c->dir, name, "idx", true);
	fcap_store_path(path, sizeof(path), c->dir, name, "idx", false);
	int fd = open(hidden, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fcap_err(errbuf, "%s: cannot create: %s", hidden, strerror(errno));
	int rc = fcap_ib_write(ib, fd, hidden, blocks_end, file_size, errbuf);
	if (rc == 0 && fsync(fd) < 0)
		rc = fcap_err(errbuf, "%s: fsync failed: %s", hidden, strerror(errno));
	close(fd);
	if (rc == 0 && rename(hidden, path) < 0)
		rc = fcap_err(errbuf, "%s: rename failed: %s", hidden, strerror(errno));
	if (rc < 0)
		unlink(hidden);
	return rc;
}

static int rebuild_index(const struct ctx *c, const char *name, char *errbuf)
{
	char path[FCAP_STORE_PATH_MAX];
	fcap_store_path(path, sizeof(path), c->dir, name, "pcapng", false);
	uint64_t start;
	uint32_t ring;
	fcap_seg_parse_name(name, &start, &ring);
	struct fcap_seg_scan s;
	if (fcap_seg_scan_open(&s, path, false, errbuf) < 0) {
		c->rep->damaged++;
		say(c, "%s: unreadable, not indexed: %s", name, errbuf);
		return 0;   /* reported; the rest of the store stays usable */
	}
	struct fcap_index_builder *ib = fcap_ib_new(ring, s.nports, true);
	uint64_t cut;
	int rc = ib ? index_segment(c, &s, name, ib, false, &cut, errbuf) : fcap_err(errbuf, "out of memory");
	uint64_t end = cut ? cut : s.off;
	if (rc == 0)
		rc = write_index(c, name, ib, end, s.size, errbuf);
	fcap_ib_free(ib);
	fcap_seg_scan_close(&s);
	if (rc == 0)
		c->rep->rebuilt++;
	return rc;
}

static int write_recovery_isbs(struct fcap_seg_scan *s, struct fcap_index_builder *ib, uint64_t at, char *errbuf)
{
	const struct fcap_seg_stats *st = fcap_ib_stats(ib);
	struct fcap_isb_stats isb[FCAP_MAX_PORTS];
	for (uint32_t p = 0; p < s->nports; p++)
		isb[p] = (struct fcap_isb_stats){ .start_ts = st->first_ts, .end_ts = st->last_ts,
						  .if_recv = FCAP_ISB_UNKNOWN, .if_drop = st->port_drops[p],
						  .os_drop = FCAP_ISB_UNKNOWN, .usr_deliv = st->port_records[p] };
	uint8_t *buf;
	size_t len;
	if (fcap_pcapng_compose_isbs(s->nports, isb,
				     "closed by fcap recovery after an unclean stop; host counters unknown", &buf, &len,
				     errbuf) < 0)
		return -1;
	ssize_t k = pwrite(s->fd, buf, len, (off_t)at);
	free(buf);
	if (k != (ssize_t)len)
		return fcap_err(errbuf, "%s: writing statistics at %llu failed: %s", s->path, (unsigned long long)at,
				k < 0 ? strerror(errno) : "short write");
	s->size = at + len;
	return 0;
}

/* A free published name for a hidden segment (normally its own). */
static void free_name(const char *dir, const char *name, char out[FCAP_SEG_NAME_MAX])
{
	uint64_t start;
	uint32_t ring;
	snprintf(out, FCAP_SEG_NAME_MAX, "%s", name);
	if (!fcap_seg_parse_name(name, &start, &ring))
		return;
	for (unsigned dup = 1; dup < 1000; dup++) {
		char path[FCAP_STORE_PATH_MAX];
		fcap_store_path(path, sizeof(path), dir, out, "pcapng", false);
		if (access(path, F_OK) != 0)
			return;
		fcap_seg_name(start, ring, dup, out);
	}
}

static int recover_hidden(const struct ctx *c, const char *name, char *errbuf)
{
	char hidden[FCAP_STORE_PATH_MAX];
	fcap_store_path(hidden, sizeof(hidden), c->dir, name, "pcapng", true);
	uint64_t start;
	uint32_t ring;
	fcap_seg_parse_name(name, &start, &ring);
	struct fcap_seg_scan s;
	char why[FCAP_ERRBUF_SIZE];
	if (fcap_seg_scan_open(&s, hidden, true, why) < 0) {
		say(c, "%s: removed: no complete file header, so no packet (%s)", hidden, why);
		unlink(hidden);
		c->rep->removed++;
		return 0;
	}
	struct fcap_index_builder *ib = fcap_ib_new(ring, s.nports, true);
	uint64_t cut;
	int rc = ib ? index_segment(c, &s, name, ib, true, &cut, errbuf) : fcap_err(errbuf, "out of memory");
	if (rc < 0)
		goto out;
	if (fcap_ib_blocks(ib) == 0) {
		say(c, "%s: removed: no whole ring block, so no packet", hidden);
		unlink(hidden);
		c->rep->removed++;
		goto out;
	}
	uint64_t end = cut ? cut : s.off;
	if (cut || !fcap_seg_scan_trailer_ok(&s, end)) {
		uint64_t size = s.size;
		if (ftruncate(s.fd, (off_t)end) < 0) {
			rc = fcap_err(errbuf, "%s: cutting at %llu failed: %s", hidden, (unsigned long long)end,
				      strerror(errno));
			goto out;
		}
		c->rep->cut_bytes += size - end;
		if (write_recovery_isbs(&s, ib, end, errbuf) < 0) {
			rc = -1;
			goto out;
		}
		say(c, "%s: cut back from %llu to %llu bytes (its last whole ring block) and closed with statistics",
		    hidden, (unsigned long long)size, (unsigned long long)end);
	}
	if (fsync(s.fd) < 0) {
		rc = fcap_err(errbuf, "%s: fsync failed: %s", hidden, strerror(errno));
		goto out;
	}
	char pub_name[FCAP_SEG_NAME_MAX], path[FCAP_STORE_PATH_MAX];
	free_name(c->dir, name, pub_name);
	fcap_store_path(path, sizeof(path), c->dir, pub_name, "pcapng", false);
	/* The segment first, then its index: a crash in between leaves a
	 * published segment without index, which the next pass rebuilds. */
	if (rename(hidden, path) < 0) {
		rc = fcap_err(errbuf, "%s: rename to %s failed: %s", hidden, path, strerror(errno));
		goto out;
	}
	fsync_path(c->dir);
	if (write_index(c, pub_name, ib, end, s.size, errbuf) < 0) {
		say(c, "%s: published without an index: %s", pub_name, errbuf);
	}
	fsync_path(c->dir);
	c->rep->recovered++;
	say(c, "%s: recovered and published (%llu records)", pub_name,
	    (unsigned long long)fcap_ib_stats(ib)->records);
out:
	fcap_ib_free(ib);
	fcap_seg_scan_close(&s);
	return rc;
}

/* Every entry of dir, for the passes below. */
static int list_dir(const char *dir, char ***names, size_t *n, char *errbuf)
{
	DIR *d = opendir(dir);
	if (!d)
		return fcap_err(errbuf, "%s: %s", dir, strerror(errno));
	size_t cap = 0;
	*names = NULL;
	*n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			char **p = realloc(*names, cap * sizeof(*p));
			if (!p)
				break;
			*names = p;
		}
		if (!((*names)[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	return 0;
}

static void free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* NAME if file is "[.]NAME.ext" for a segment NAME. */
static bool seg_file(const char *file, bool hidden, const char *ext, char name[FCAP_SEG_NAME_MAX])
{
	if ((file[0] == '.') != hidden)
		return false;
	file += hidden;
	size_t n = strlen(file), e = strlen(ext);
	if (n <= e + 1 || n - e - 1 >= FCAP_SEG_NAME_MAX || file[n - e - 1] != '.' || strcmp(file + n - e, ext))
		return false;
	memcpy(name, file, n - e - 1);
	name[n - e - 1] = '\0';
	uint64_t t;
	uint32_t r;
	return fcap_seg_parse_name(name, &t, &r);
}

static bool file_exists(const char *dir, const char *name, const char *ext)
{
	char path[FCAP_STORE_PATH_MAX];
	fcap_store_path(path, sizeof(path), dir, name, ext, false);
	return access(path, F_OK) == 0;
}

int fcap_store_rebuild_index(const char *dir, const char *name, fcap_log_fn log, void *log_ctx, char *errbuf)
{
	struct fcap_recovery rep = { 0 };
	struct ctx c = { dir, log, log_ctx, &rep };
	int rc = rebuild_index(&c, name, errbuf);
	if (rc == 0)
		fsync_path(dir);
	return rc;
}

int fcap_store_recover(const char *dir, fcap_log_fn log, void *log_ctx, struct fcap_recovery *rep, char *errbuf)
{
	memset(rep, 0, sizeof(*rep));
	struct ctx c = { dir, log, log_ctx, rep };
	char **names;
	size_t n;
	char name[FCAP_SEG_NAME_MAX], path[FCAP_STORE_PATH_MAX];
	if (list_dir(dir, &names, &n, errbuf) < 0)
		return -1;
	int rc = 0;
	/* 1. Hidden indexes: a publication was interrupted; rebuilt below. */
	for (size_t i = 0; i < n; i++) {
		if (seg_file(names[i], true, "idx", name)) {
			fcap_store_path(path, sizeof(path), dir, name, "idx", true);
			unlink(path);
		}
	}
	/* 2. Hidden segments. */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (seg_file(names[i], true, "pcapng", name))
			rc = recover_hidden(&c, name, errbuf);
	free_list(names, n);
	if (rc < 0 || list_dir(dir, &names, &n, errbuf) < 0)
		return -1;
	/* 3. Orphans, then every published segment's index. */
	for (size_t i = 0; i < n; i++) {
		const char *exts[] = { "idx", "pin" };
		for (int k = 0; k < 2; k++) {
			if (seg_file(names[i], false, exts[k], name) && !file_exists(dir, name, "pcapng")) {
				fcap_store_path(path, sizeof(path), dir, name, exts[k], false);
				unlink(path);
				rep->orphans++;
				say(&c, "%s: removed: its segment is gone", path);
			}
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!seg_file(names[i], false, "pcapng", name))
			continue;
		fcap_store_path(path, sizeof(path), dir, name, "pcapng", false);
		struct stat sb;
		if (stat(path, &sb) < 0)
			continue;
		char ipath[FCAP_STORE_PATH_MAX], why[FCAP_ERRBUF_SIZE];
		fcap_store_path(ipath, sizeof(ipath), dir, name, "idx", false);
		struct fcap_index ix;
		if (access(ipath, F_OK) == 0 && fcap_index_open(&ix, ipath, (uint64_t)sb.st_size, why) == 0) {
			fcap_index_close(&ix);
			continue;
		}
		if (access(ipath, F_OK) == 0)
			say(&c, "%s: rebuilding: %s", ipath, why);
		else
			say(&c, "%s: no index: rebuilding it", name);
		rc = rebuild_index(&c, name, errbuf);
	}
	free_list(names, n);
	fsync_path(dir);
	return rc;
}

/* One segment against its index. */
static unsigned check_segment(const struct ctx *c, const struct fcap_segment *seg)
{
	char path[FCAP_STORE_PATH_MAX], ipath[FCAP_STORE_PATH_MAX], why[FCAP_ERRBUF_SIZE];
	fcap_store_path(path, sizeof(path), c->dir, seg->name, "pcapng", false);
	fcap_store_path(ipath, sizeof(ipath), c->dir, seg->name, "idx", false);
	unsigned bad = 0;
	struct fcap_seg_scan s;
	if (fcap_seg_scan_open(&s, path, false, why) < 0) {
		say(c, "%s", why);
		return 1;
	}
	uint64_t blocks = 0, records = 0;
	for (;;) {
		const uint8_t *blk;
		struct fcap_block_info bi;
		uint64_t at;
		int rc = fcap_seg_scan_next(&s, &blk, &bi, &at, why);
		if (rc == 0)
			break;
		if (rc > 0) {
			blocks++;
			records += bi.records;
			continue;
		}
		say(c, "%s", why);
		bad++;
		if (!fcap_seg_scan_resync(&s))
			break;
	}
	if (!bad && !fcap_seg_scan_trailer_ok(&s, s.off)) {
		say(c, "%s: offset %llu: no statistics blocks at the end", path, (unsigned long long)s.off);
		bad++;
	}
	struct fcap_index ix;
	if (fcap_index_open(&ix, ipath, s.size, why) < 0) {
		say(c, "%s", why);
		bad++;
	} else {
		if (fcap_index_verify(&ix, why) < 0) {
			say(c, "%s", why);
			bad++;
		} else if (!bad && (ix.nblocks != blocks || ix.nrecords != records)) {
			say(c, "%s: %llu blocks and %llu records, but the segment holds %llu and %llu", ipath,
			    (unsigned long long)ix.nblocks, (unsigned long long)ix.nrecords, (unsigned long long)blocks,
			    (unsigned long long)records);
			bad++;
		}
		fcap_index_close(&ix);
	}
	fcap_seg_scan_close(&s);
	return bad;
}

int fcap_store_check(const char *dir, fcap_log_fn log, void *log_ctx, unsigned *problems, char *errbuf)
{
	struct fcap_recovery rep = { 0 };
	struct ctx c = { dir, log, log_ctx, &rep };
	struct fcap_segment *segs;
	size_t n;
	unsigned hidden;
	*problems = 0;
	if (fcap_store_list(dir, &segs, &n, &hidden, errbuf) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		*problems += check_segment(&c, &segs[i]);
	if (hidden) {
		say(&c, "%s: %u hidden segments (being written, or left by a crash: fcap store repair)", dir, hidden);
		(*problems)++;
	}
	free(segs);
	return 0;
}
