/*
 * recorder.c - the disk recorder (fcap/store.h, docs/STORE.md).
 *
 *   consumer --submit--> [bounded queue of ring blocks] --> writer thread
 *                                                          (rotation, writes)
 *                                                      --> index thread
 *                                                          (keys, statistics)
 *                            closed, indexed segments  --> publisher thread
 *                                                          (statistics blocks,
 *                                                           fsync, index file,
 *                                                           rename, retention)
 *   consumer <--reap-- jobs the index thread has passed, in submission order
 *
 * A job holds a pointer to a ring block, not a copy: the writer writes the
 * block from ring memory and the finisher indexes it from there, so the
 * consumer may return the block to the card only once the job is reaped.
 * When the disk falls behind, the queue fills, the consumer stops
 * returning blocks, the ring fills and the card drops and counts.
 *
 * One mutex guards the queue positions, the closing list and the catalog;
 * the threads do their I/O and indexing without it. The writer owns each
 * ring's open segment; when it closes one (rotation, time, a failed write,
 * the end) it puts it on the closing list; once the index thread has
 * indexed the segment's last block it hands it to the publisher, and goes
 * on with the next segment meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fcap/cardinfo.h"
#include "fcap/pcapng.h"
#include "fcap/store.h"
#include "segment_writer.h"

#define MAX_RINGS 64
#define DEFAULT_SEGMENT_BYTES (256ull << 20)
#define DEFAULT_QUEUE 16u
/* After a failed write, how long the writer counts blocks as lost before it
 * tries the disk again. */
#define RETRY_NS 100000000ull
/* Longest the threads sleep before looking at the clock (time rotation, age). */
#define IDLE_NS 20000000ull

enum job_kind { JOB_BLOCK, JOB_CORRUPT };

struct seg {
	struct seg_file f;
	uint32_t ring;
	uint64_t start_ts;
	uint64_t records;            /* by the block headers, for the record cap */
	uint64_t blocks;
	uint64_t last_job;           /* id of its last block */
	bool closed;                 /* the writer is done with it */
	bool failed;                 /* closed by a failed write */
	/* the finisher's */
	struct fcap_index_builder *ib;
	bool index_failed;
	uint64_t backlog_drops, corrupt_lost, disk_lost;
	struct seg *next;            /* closing list */
};

struct job {
	enum job_kind kind;
	uint32_t ring;
	const uint8_t *blk;
	struct fcap_block_info bi;
	uint32_t backlog;
	uint32_t lost_records;
	uint64_t id;
	/* the writer's result */
	struct seg *seg;
	bool stored;
	uint64_t offset;
	char file[FCAP_STORE_PATH_MAX];
};

struct ring_state {
	/* writer */
	struct seg *cur;
	bool failing;
	uint64_t retry_at;
	/* finisher: the segment of its latest stored block, and losses that
	 * wait for a segment to be told in */
	struct seg *fin_seg;
	uint64_t pend_corrupt, pend_disk, pend_backlog;
	struct fcap_index_builder *spare;   /* a published segment's, for the next (under mu) */
};

struct cat_item {
	char name[FCAP_SEG_NAME_MAX];
	uint64_t start_ns, last_ts, bytes;
};

struct fcap_recorder {
	struct fcap_recorder_config cfg;
	char dir[FCAP_STORE_DIR_MAX + 1];
	int dirfd, lockfd;
	uint8_t *header;             /* page aligned */
	size_t header_len;
	uint32_t nports;
	bool direct_ok;
	struct seg_buffers bufs;

	pthread_mutex_t mu;
	pthread_cond_t cv_writer, cv_fin, cv_done;
	struct job *jobs;
	unsigned cap;
	uint64_t head, wpos, fpos, tail;
	bool stopping, writer_done;
	uint64_t now_ns;

	struct ring_state rings[MAX_RINGS];
	struct seg *closing;
	struct seg *to_publish, **to_publish_tail;
	bool finisher_done;
	pthread_cond_t cv_pub;
	unsigned open_segs;          /* open or closing, not yet published */
	uint64_t open_bytes;

	struct cat_item *cat;
	size_t ncat, capcat;
	/* segments published without an index (a full disk): indexed once
	 * the disk takes writes again (publisher only) */
	char (*no_index)[FCAP_SEG_NAME_MAX];
	size_t nno_index;
	uint64_t fs_bytes;

	struct fcap_recorder_stats st;
	char first_error[FCAP_ERRBUF_SIZE];
	pthread_t writer, finisher, publisher;
	bool threads;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void logf_(struct fcap_recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct fcap_recorder *r, const char *fmt, ...)
{
	if (!r->cfg.log)
		return;
	char line[FCAP_ERRBUF_SIZE + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->cfg.log(r->cfg.log_ctx, line);
}

static void note_error(struct fcap_recorder *r, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof(r->first_error), "%s", msg);
	pthread_mutex_unlock(&r->mu);
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + ns;
	ts.tv_sec = (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	pthread_cond_timedwait(cv, mu, &ts);
}

static void fsync_dir(struct fcap_recorder *r)
{
	if (fsync(r->dirfd) < 0)
		logf_(r, "%s: directory fsync failed: %s", r->dir, strerror(errno));
}

/* ---- catalog and retention (publisher thread, under mu) -------------------- */

static int cat_cmp(const void *a, const void *b)
{
	const struct cat_item *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool cat_add(struct fcap_recorder *r, const char *name, uint64_t start, uint64_t last_ts, uint64_t bytes)
{
	if (r->ncat == r->capcat) {
		size_t cap = r->capcat ? r->capcat * 2 : 256;
		struct cat_item *c = realloc(r->cat, cap * sizeof(*c));
		if (!c)
			return false;
		r->cat = c;
		r->capcat = cap;
	}
	struct cat_item *it = &r->cat[r->ncat];
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->start_ns = start;
	it->last_ts = last_ts;
	it->bytes = bytes;
	/* Keep time order; a segment of another ring may start earlier. */
	size_t i = r->ncat++;
	while (i > 0 && cat_cmp(&r->cat[i - 1], it) > 0)
		i--;
	if (i != r->ncat - 1) {
		struct cat_item t = *it;
		memmove(&r->cat[i + 1], &r->cat[i], (r->ncat - 1 - i) * sizeof(*it));
		r->cat[i] = t;
	}
	return true;
}

static bool has_limits(const struct fcap_retention *ret)
{
	return ret->max_age_ns || ret->max_bytes || ret->max_percent || ret->max_files;
}

/* Deletes what retention picks. Called by the publisher without mu held. */
static void retention(struct fcap_recorder *r)
{
	if (!has_limits(&r->cfg.retention))
		return;
	pthread_mutex_lock(&r->mu);
	size_t n = r->ncat;
	struct fcap_retention_item *items = malloc((n ? n : 1) * sizeof(*items));
	size_t *del = malloc((n ? n : 1) * sizeof(*del));
	if (!items || !del) {
		pthread_mutex_unlock(&r->mu);
		free(items);
		free(del);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char pin[FCAP_STORE_PATH_MAX];
		fcap_store_path(pin, sizeof(pin), r->dir, r->cat[i].name, "pin", false);
		items[i] = (struct fcap_retention_item){ r->cat[i].bytes, r->cat[i].last_ts, access(pin, F_OK) == 0 };
	}
	size_t ndel = fcap_retention_pick(&r->cfg.retention, items, n, r->open_bytes, r->open_segs, r->fs_bytes,
					  r->now_ns, del);
	struct cat_item *gone = malloc((ndel ? ndel : 1) * sizeof(*gone));
	if (!gone)
		ndel = 0;
	/* Take them out of the catalog (del[] is ascending). */
	size_t w = 0, k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k < ndel && del[k] == i) {
			gone[k++] = r->cat[i];
			continue;
		}
		r->cat[w++] = r->cat[i];
	}
	r->ncat = w;
	r->st.deleted += ndel;
	pthread_mutex_unlock(&r->mu);

	for (size_t i = 0; i < ndel; i++) {
		char path[FCAP_STORE_PATH_MAX];
		fcap_store_path(path, sizeof(path), r->dir, gone[i].name, "pcapng", false);
		if (unlink(path) < 0 && errno != ENOENT)
			logf_(r, "retention: %s: %s", path, strerror(errno));
		fcap_store_path(path, sizeof(path), r->dir, gone[i].name, "idx", false);
		unlink(path);
		char t[40];
		fcap_format_time(gone[i].last_ts, t, sizeof(t));
		logf_(r, "retention: removed %s (%llu bytes, last packet %s)", gone[i].name,
		      (unsigned long long)gone[i].bytes, t);
	}
	if (ndel)
		fsync_dir(r);
	free(items);
	free(del);
	free(gone);
}

/* ---- writer thread ---------------------------------------------------------- */

static void close_seg(struct fcap_recorder *r, struct ring_state *rs, bool failed)
{
	struct seg *s = rs->cur;
	rs->cur = NULL;
	pthread_mutex_lock(&r->mu);
	s->closed = true;
	s->failed = failed;
	s->next = r->closing;
	r->closing = s;
	pthread_cond_signal(&r->cv_fin);
	pthread_mutex_unlock(&r->mu);
}

static bool needs_rotation(const struct fcap_recorder *r, const struct seg *s, const struct job *j)
{
	uint64_t len = fcap_block_stored_len(j->bi.used, j->bi.block_size);
	/* Room for the statistics blocks at the end: 128 bytes a port is ample. */
	uint64_t reserve = 128u * r->nports;
	if (s->blocks && (s->f.size + len + reserve > r->cfg.segment_bytes || s->f.size + len > FCAP_SEG_MAX_BYTES))
		return true;
	if (r->cfg.segment_ns && j->bi.first_ts >= s->start_ts && j->bi.first_ts - s->start_ts >= r->cfg.segment_ns)
		return true;
	return s->records + j->bi.records > FCAP_SEG_MAX_RECORDS;
}

static struct seg *open_seg(struct fcap_recorder *r, struct ring_state *rs, uint32_t ring, uint64_t start_ts)
{
	struct seg *s = calloc(1, sizeof(*s));
	char err[FCAP_ERRBUF_SIZE];
	bool enospc = false;
	if (!s) {
		snprintf(err, sizeof(err), "out of memory for a segment");
	} else if (seg_file_create(&s->f, r->dir, start_ts, ring, r->header, r->header_len, &r->direct_ok, &enospc,
				   err) == 0) {
		s->ring = ring;
		s->start_ts = start_ts;
		pthread_mutex_lock(&r->mu);
		r->open_segs++;
		r->open_bytes += s->f.size;
		if (s->f.direct)
			r->st.direct = true;
		pthread_mutex_unlock(&r->mu);
		return s;
	}
	free(s);
	if (!rs->failing)
		logf_(r, "%s: %s%s; blocks are counted as lost until the disk takes them again", r->dir, err,
		      enospc ? " (disk full)" : "");
	rs->failing = true;
	rs->retry_at = mono_ns() + RETRY_NS;
	return NULL;
}

static void write_job(struct fcap_recorder *r, struct job *j)
{
	j->stored = false;
	j->seg = NULL;
	if (j->kind != JOB_BLOCK)
		return;
	struct ring_state *rs = &r->rings[j->ring];
	if (rs->cur && needs_rotation(r, rs->cur, j))
		close_seg(r, rs, false);
	if (!rs->cur) {
		if (rs->failing && mono_ns() < rs->retry_at)
			return;
		rs->cur = open_seg(r, rs, j->ring, j->bi.first_ts);
		if (!rs->cur)
			return;
	}
	struct seg *s = rs->cur;
	char err[FCAP_ERRBUF_SIZE];
	bool enospc;
	uint64_t at = s->f.size;
	if (seg_file_write_block(&s->f, &r->bufs, j->blk, &j->bi, &enospc, err) < 0) {
		if (!rs->failing)
			logf_(r, "%s%s: segment %s closed at its last whole block (byte %llu); blocks are counted as "
			      "lost until the disk takes them again", err, enospc ? " (disk full)" : "", s->f.name,
			      (unsigned long long)at);
		rs->failing = true;
		rs->retry_at = mono_ns() + RETRY_NS;
		close_seg(r, rs, true);
		return;
	}
	if (rs->failing)
		logf_(r, "%s: writing again, from segment %s", r->dir, s->f.name);
	rs->failing = false;
	j->stored = true;
	j->seg = s;
	j->offset = at;
	snprintf(j->file, sizeof(j->file), "%s", s->f.path);
	s->blocks++;
	s->records += j->bi.records;
	pthread_mutex_lock(&r->mu);
	s->last_job = j->id;
	r->open_bytes += s->f.size - at;
	pthread_mutex_unlock(&r->mu);
}

/* Closes segments whose time is up, even when no block comes (a quiet link). */
static void close_due(struct fcap_recorder *r, uint64_t now)
{
	if (!r->cfg.segment_ns)
		return;
	for (unsigned i = 0; i < MAX_RINGS; i++) {
		struct ring_state *rs = &r->rings[i];
		if (rs->cur && now >= rs->cur->start_ts && now - rs->cur->start_ts >= r->cfg.segment_ns)
			close_seg(r, rs, false);
	}
}

static void *writer_main(void *arg)
{
	struct fcap_recorder *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->wpos < r->head) {
			struct job *j = &r->jobs[r->wpos % r->cap];
			pthread_mutex_unlock(&r->mu);
			write_job(r, j);
			pthread_mutex_lock(&r->mu);
			r->wpos++;
			pthread_cond_signal(&r->cv_fin);
			continue;
		}
		if (r->stopping)
			break;
		uint64_t now = r->now_ns;
		pthread_mutex_unlock(&r->mu);
		close_due(r, now);
		pthread_mutex_lock(&r->mu);
		if (r->wpos == r->head && !r->stopping)
			timed_wait(&r->cv_writer, &r->mu, IDLE_NS);
	}
	pthread_mutex_unlock(&r->mu);
	for (unsigned i = 0; i < MAX_RINGS; i++)
		if (r->rings[i].cur)
			close_seg(r, &r->rings[i], false);
	pthread_mutex_lock(&r->mu);
	r->writer_done = true;
	pthread_cond_signal(&r->cv_fin);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- finisher thread -------------------------------------------------------- */

static void count_loss(struct fcap_recorder *r, struct ring_state *rs, const struct job *j)
{
	uint64_t lost = j->kind == JOB_CORRUPT ? j->lost_records : j->bi.records;
	pthread_mutex_lock(&r->mu);
	if (j->kind == JOB_CORRUPT) {
		r->st.corrupt_blocks++;
		r->st.corrupt_records += lost;
	} else {
		r->st.disk_lost_blocks++;
		r->st.disk_lost_records += lost;
	}
	r->st.backlog_drops += j->backlog;
	/* Told in the segment that is open on this ring, else in the next one. */
	struct seg *s = rs->fin_seg;
	bool open = s && (!s->closed || j->id < s->last_job);
	pthread_mutex_unlock(&r->mu);
	if (open) {
		if (j->kind == JOB_CORRUPT)
			s->corrupt_lost += lost;
		else
			s->disk_lost += lost;
		s->backlog_drops += j->backlog;
	} else {
		if (j->kind == JOB_CORRUPT)
			rs->pend_corrupt += lost;
		else
			rs->pend_disk += lost;
		rs->pend_backlog += j->backlog;
	}
}

static void index_job(struct fcap_recorder *r, struct job *j)
{
	struct ring_state *rs = &r->rings[j->ring];
	if (!j->stored) {
		count_loss(r, rs, j);
		return;
	}
	struct seg *s = j->seg;
	if (!s->ib && !s->index_failed) {
		pthread_mutex_lock(&r->mu);
		struct fcap_index_builder *spare = rs->spare;
		rs->spare = NULL;
		pthread_mutex_unlock(&r->mu);
		if (spare)
			fcap_ib_reset(spare, s->ring);
		s->ib = spare ? spare : fcap_ib_new(s->ring, r->nports, !r->cfg.index_keys_off);
		if (!s->ib) {
			s->index_failed = true;
			logf_(r, "%s: out of memory for its index; published without one (fcap store repair rebuilds it)",
			      s->f.name);
		}
	}
	if (rs->fin_seg != s) {
		s->corrupt_lost += rs->pend_corrupt;
		s->disk_lost += rs->pend_disk;
		s->backlog_drops += rs->pend_backlog;
		rs->pend_corrupt = rs->pend_disk = rs->pend_backlog = 0;
		rs->fin_seg = s;
	}
	s->backlog_drops += j->backlog;
	if (s->ib) {
		char err[FCAP_ERRBUF_SIZE];
		double t0 = thread_cpu_s();
		if (fcap_ib_add_block(s->ib, j->blk, &j->bi, j->offset, err) < 0) {
			logf_(r, "%s: %s; published without an index (fcap store repair rebuilds it)", s->f.name, err);
			fcap_ib_free(s->ib);
			s->ib = NULL;
			s->index_failed = true;
		}
		double dt = thread_cpu_s() - t0;
		pthread_mutex_lock(&r->mu);
		r->st.index_cpu_s += dt;
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	r->st.blocks++;
	r->st.records += j->bi.records;
	r->st.backlog_drops += j->backlog;
	pthread_mutex_unlock(&r->mu);
}

static void isb_stats(const struct seg *s, const struct fcap_seg_stats *st, uint32_t nports,
		      struct fcap_isb_stats *isb)
{
	for (uint32_t p = 0; p < nports; p++) {
		uint64_t os = p == 0 ? s->corrupt_lost + s->disk_lost : 0;
		isb[p] = (struct fcap_isb_stats){
			.start_ts = st->first_ts,
			.end_ts = st->last_ts,
			.if_recv = st->port_records[p] + st->port_drops[p] + os,
			.if_drop = st->port_drops[p],
			.os_drop = os,
			.usr_deliv = st->port_records[p],
		};
	}
}

static int write_index(struct fcap_recorder *r, struct seg *s, uint64_t blocks_end, char *err)
{
	char hidden[FCAP_STORE_PATH_MAX];
	fcap_store_path(hidden, sizeof(hidden), r->dir, s->f.name, "idx", true);
	int fd = open(hidden, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fcap_err(err, "%s: cannot create: %s", hidden, strerror(errno));
	struct fcap_seg_stats *st = fcap_ib_stats(s->ib);
	st->backlog_drops = s->backlog_drops;
	st->corrupt_lost = s->corrupt_lost;
	st->disk_lost = s->disk_lost;
	int rc = fcap_ib_write(s->ib, fd, hidden, blocks_end, s->f.size, err);
	if (rc == 0 && fsync(fd) < 0)
		rc = fcap_err(err, "%s: fsync failed: %s", hidden, strerror(errno));
	close(fd);
	if (rc < 0)
		unlink(hidden);
	return rc;
}

static void relay_log(void *ctx, const char *line)
{
	logf_(ctx, "%s", line);
}

/* Indexes the segments a full disk left without one, now that it takes writes. */
static void index_left_behind(struct fcap_recorder *r)
{
	size_t keep = 0;
	for (size_t i = 0; i < r->nno_index; i++) {
		char err[FCAP_ERRBUF_SIZE];
		if (fcap_store_rebuild_index(r->dir, r->no_index[i], relay_log, r, err) == 0) {
			logf_(r, "%s: indexed now", r->no_index[i]);
			pthread_mutex_lock(&r->mu);
			r->st.index_failures--;
			pthread_mutex_unlock(&r->mu);
		} else {
			memmove(r->no_index[keep++], r->no_index[i], FCAP_SEG_NAME_MAX);
		}
	}
	r->nno_index = keep;
}

static void remember_no_index(struct fcap_recorder *r, const char *name)
{
	char (*p)[FCAP_SEG_NAME_MAX] = realloc(r->no_index, (r->nno_index + 1) * sizeof(*p));
	if (!p)
		return;
	r->no_index = p;
	snprintf(r->no_index[r->nno_index++], FCAP_SEG_NAME_MAX, "%s", name);
}

/* Statistics, fsync, index, rename, directory fsync: docs/STORE.md. */
static void publish(struct fcap_recorder *r, struct seg *s)
{
	char err[FCAP_ERRBUF_SIZE];
	uint64_t written = s->f.size;
	if (s->blocks == 0) {
		seg_file_discard(&s->f);
		goto done;
	}
	struct fcap_seg_stats none = { 0 }, *st = s->ib ? fcap_ib_stats(s->ib) : &none;
	struct fcap_isb_stats isb[FCAP_MAX_PORTS];
	isb_stats(s, st, r->nports, isb);
	if (!s->ib)
		for (uint32_t p = 0; p < r->nports; p++)
			isb[p].if_recv = isb[p].if_drop = FCAP_ISB_UNKNOWN;
	uint8_t *isbuf = NULL;
	size_t isblen = 0;
	if (fcap_pcapng_compose_isbs(r->nports, isb, NULL, &isbuf, &isblen, err) < 0)
		isbuf = NULL;
	uint64_t blocks_end = s->f.size;
	bool isb_ok;
	int rc = seg_file_finish(&s->f, isbuf, isblen, &isb_ok, err);
	free(isbuf);
	if (rc < 0) {
		/* Not durable: leave it hidden; the next start recovers it. */
		logf_(r, "%s; left as %s for recovery", err, s->f.hidden);
		note_error(r, err);
		goto done;
	}
	if (!isb_ok)
		logf_(r, "%s: no room for its statistics blocks; it ends at its last ring block", s->f.name);
	bool with_index = false;
	if (s->ib) {
		if (write_index(r, s, blocks_end, err) == 0)
			with_index = true;
		else
			logf_(r, "%s; %s published without an index (fcap store repair rebuilds it)", err, s->f.name);
	}
	if (rename(s->f.hidden, s->f.path) < 0) {
		fcap_err(err, "%s: rename to %s failed: %s", s->f.hidden, s->f.name, strerror(errno));
		logf_(r, "%s", err);
		note_error(r, err);
		goto done;
	}
	char ih[FCAP_STORE_PATH_MAX], ip[FCAP_STORE_PATH_MAX];
	fcap_store_path(ih, sizeof(ih), r->dir, s->f.name, "idx", true);
	fcap_store_path(ip, sizeof(ip), r->dir, s->f.name, "idx", false);
	uint64_t idx_bytes = 0;
	if (with_index) {
		struct stat sb;
		if (rename(ih, ip) < 0) {
			logf_(r, "%s: rename failed: %s", ih, strerror(errno));
			unlink(ih);
			with_index = false;
		} else if (stat(ip, &sb) == 0) {
			idx_bytes = (uint64_t)sb.st_size;
		}
	}
	fsync_dir(r);
	pthread_mutex_lock(&r->mu);
	r->st.segments++;
	r->st.bytes += s->f.size;
	if (!with_index)
		r->st.index_failures++;
	cat_add(r, s->f.name, s->start_ts, st->records ? st->last_ts : s->start_ts, s->f.size + idx_bytes);
	pthread_mutex_unlock(&r->mu);
	if (!with_index)
		remember_no_index(r, s->f.name);
	else if (r->nno_index)
		index_left_behind(r);
done:
	pthread_mutex_lock(&r->mu);
	r->open_segs--;
	r->open_bytes -= written < r->open_bytes ? written : r->open_bytes;
	pthread_mutex_unlock(&r->mu);
	struct ring_state *rs = &r->rings[s->ring];
	pthread_mutex_lock(&r->mu);
	if (s->ib && !rs->spare) {
		rs->spare = s->ib;
		s->ib = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	fcap_ib_free(s->ib);
	free(s);
}

/* A closed segment whose last block the finisher has passed (under mu). */
static struct seg *take_finished(struct fcap_recorder *r)
{
	for (struct seg **p = &r->closing; *p; p = &(*p)->next) {
		struct seg *s = *p;
		if (s->blocks == 0 || s->last_job < r->fpos) {
			*p = s->next;
			return s;
		}
	}
	return NULL;
}

/* Hands a segment the index thread is done with to the publisher. */
static void hand_over(struct fcap_recorder *r, struct seg *s)
{
	struct ring_state *rs = &r->rings[s->ring];
	if (rs->fin_seg == s)
		rs->fin_seg = NULL;   /* losses from now on are told in the next segment */
	s->next = NULL;
	*r->to_publish_tail = s;
	r->to_publish_tail = &s->next;
	pthread_cond_signal(&r->cv_pub);
}

static void *finisher_main(void *arg)
{
	struct fcap_recorder *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct seg *s = take_finished(r);
		if (s) {
			hand_over(r, s);
			continue;
		}
		if (r->fpos < r->wpos) {
			struct job *j = &r->jobs[r->fpos % r->cap];
			pthread_mutex_unlock(&r->mu);
			index_job(r, j);
			pthread_mutex_lock(&r->mu);
			r->fpos++;
			pthread_cond_broadcast(&r->cv_done);
			continue;
		}
		if (r->writer_done && r->fpos == r->head && !r->closing)
			break;
		timed_wait(&r->cv_fin, &r->mu, IDLE_NS);
	}
	r->finisher_done = true;
	pthread_cond_signal(&r->cv_pub);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void *publisher_main(void *arg)
{
	struct fcap_recorder *r = arg;
	bool limits_grow = r->cfg.retention.max_bytes || r->cfg.retention.max_percent || r->cfg.retention.max_age_ns;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct seg *s = r->to_publish;
		if (s) {
			r->to_publish = s->next;
			if (!r->to_publish)
				r->to_publish_tail = &r->to_publish;
			pthread_mutex_unlock(&r->mu);
			publish(r, s);
			retention(r);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		if (r->finisher_done)
			break;
		timed_wait(&r->cv_pub, &r->mu, IDLE_NS);
		if (limits_grow) {
			/* The open segments grow and time passes. */
			pthread_mutex_unlock(&r->mu);
			retention(r);
			pthread_mutex_lock(&r->mu);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- the consumer's side ---------------------------------------------------- */

static int submit(struct fcap_recorder *r, const struct job *j)
{
	pthread_mutex_lock(&r->mu);
	if (r->head - r->tail == r->cap) {
		r->st.queue_full++;
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	struct job *q = &r->jobs[r->head % r->cap];
	*q = *j;
	q->id = r->head++;
	pthread_cond_signal(&r->cv_writer);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

int fcap_recorder_submit(struct fcap_recorder *r, uint32_t ring, const uint8_t *blk, const struct fcap_block_info *bi,
			 uint32_t backlog_drops)
{
	if (ring >= MAX_RINGS)
		return -1;
	struct job j = { .kind = JOB_BLOCK, .ring = ring, .blk = blk, .bi = *bi, .backlog = backlog_drops };
	return submit(r, &j);
}

int fcap_recorder_submit_corrupt(struct fcap_recorder *r, uint32_t ring, const uint8_t *blk, uint32_t records)
{
	if (ring >= MAX_RINGS)
		return -1;
	struct job j = { .kind = JOB_CORRUPT, .ring = ring, .blk = blk, .lost_records = records };
	return submit(r, &j);
}

int fcap_recorder_reap(struct fcap_recorder *r, struct fcap_rec_done *d)
{
	pthread_mutex_lock(&r->mu);
	if (r->tail == r->fpos) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	const struct job *j = &r->jobs[r->tail % r->cap];
	d->ring = j->ring;
	d->blk = j->blk;
	d->corrupt = j->kind == JOB_CORRUPT;
	d->stored = j->stored;
	d->bi = j->bi;
	d->offset = j->offset;
	snprintf(d->file, sizeof(d->file), "%s", j->stored ? j->file : "");
	r->tail++;
	pthread_mutex_unlock(&r->mu);
	return 1;
}

void fcap_recorder_wait(struct fcap_recorder *r, uint64_t timeout_ns)
{
	pthread_mutex_lock(&r->mu);
	if (r->tail == r->fpos && r->tail != r->head)
		timed_wait(&r->cv_done, &r->mu, timeout_ns);
	pthread_mutex_unlock(&r->mu);
}

unsigned fcap_recorder_inflight(struct fcap_recorder *r)
{
	pthread_mutex_lock(&r->mu);
	unsigned n = (unsigned)(r->head - r->tail);
	pthread_mutex_unlock(&r->mu);
	return n;
}

unsigned fcap_recorder_capacity(const struct fcap_recorder *r)
{
	return r->cap;
}

void fcap_recorder_tick(struct fcap_recorder *r, uint64_t now_ns)
{
	pthread_mutex_lock(&r->mu);
	if (now_ns > r->now_ns) {
		r->now_ns = now_ns;
		if (r->cfg.segment_ns)
			pthread_cond_signal(&r->cv_writer);
	}
	pthread_mutex_unlock(&r->mu);
}

/* ---- open and close ---------------------------------------------------------- */

static void free_recorder(struct fcap_recorder *r)
{
	if (r->dirfd >= 0)
		close(r->dirfd);
	if (r->lockfd >= 0)
		close(r->lockfd);
	free(r->header);
	free(r->jobs);
	free(r->cat);
	free(r->no_index);
	for (unsigned i = 0; i < MAX_RINGS; i++)
		fcap_ib_free(r->rings[i].spare);
	seg_buffers_free(&r->bufs);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv_writer);
	pthread_cond_destroy(&r->cv_fin);
	pthread_cond_destroy(&r->cv_done);
	pthread_cond_destroy(&r->cv_pub);
	free(r);
}

static int load_catalog(struct fcap_recorder *r, char *errbuf)
{
	struct fcap_segment *segs;
	size_t n;
	if (fcap_store_list(r->dir, &segs, &n, NULL, errbuf) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct fcap_segment *s = &segs[i];
		uint64_t last = s->index == FCAP_INDEX_OK && s->stats.records ? s->stats.last_ts : s->start_ns;
		if (!cat_add(r, s->name, s->start_ns, last, s->seg_bytes + s->idx_bytes)) {
			free(segs);
			return fcap_err(errbuf, "%s: out of memory for the catalog", r->dir);
		}
	}
	free(segs);
	return 0;
}

static int init_condvar(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

static int prepare_dir(const char *dir, char *errbuf)
{
	if (strlen(dir) > FCAP_STORE_DIR_MAX)
		return fcap_err(errbuf, "%s: store directory path longer than %d bytes", dir, FCAP_STORE_DIR_MAX);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fcap_err(errbuf, "%s: cannot create the store directory: %s", dir, strerror(errno));
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return fcap_err(errbuf, "%s: not a directory", dir);
	return 0;
}

static int compose_header(struct fcap_recorder *r, char *errbuf)
{
	uint8_t *hdr;
	size_t len;
	if (fcap_pcapng_compose_header(r->cfg.ci, r->cfg.userappl ? r->cfg.userappl : "fcap", &hdr, &len, errbuf) < 0)
		return -1;
	void *p;
	if (posix_memalign(&p, 4096, len)) {
		free(hdr);
		return fcap_err(errbuf, "out of memory");
	}
	memcpy(p, hdr, len);
	free(hdr);
	r->header = p;
	r->header_len = len;
	return 0;
}

struct fcap_recorder *fcap_recorder_open(const struct fcap_recorder_config *cfg, char *errbuf)
{
	if (prepare_dir(cfg->dir, errbuf) < 0)
		return NULL;
	struct fcap_recorder *r = calloc(1, sizeof(*r));
	if (!r) {
		fcap_err(errbuf, "out of memory");
		return NULL;
	}
	r->dirfd = r->lockfd = -1;
	r->cfg = *cfg;
	snprintf(r->dir, sizeof(r->dir), "%s", cfg->dir);
	r->cfg.dir = r->dir;
	if (!r->cfg.segment_bytes)
		r->cfg.segment_bytes = DEFAULT_SEGMENT_BYTES;
	r->cap = cfg->queue_blocks ? cfg->queue_blocks : DEFAULT_QUEUE;
	r->nports = cfg->ci->nports;
	r->direct_ok = !cfg->buffered;
	pthread_mutex_init(&r->mu, NULL);
	init_condvar(&r->cv_writer);
	init_condvar(&r->cv_fin);
	init_condvar(&r->cv_done);
	init_condvar(&r->cv_pub);
	r->to_publish_tail = &r->to_publish;
	r->jobs = calloc(r->cap, sizeof(*r->jobs));
	if (!r->jobs || seg_buffers_init(&r->bufs, errbuf) < 0) {
		if (!r->jobs)
			fcap_err(errbuf, "out of memory");
		free_recorder(r);
		return NULL;
	}
	if ((r->lockfd = fcap_store_lock(r->dir, errbuf)) < 0 || compose_header(r, errbuf) < 0)
		goto fail;
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		fcap_err(errbuf, "%s: %s", r->dir, strerror(errno));
		goto fail;
	}
	if (fcap_store_recover(r->dir, cfg->log, cfg->log_ctx, &r->st.recovery, errbuf) < 0 ||
	    load_catalog(r, errbuf) < 0)
		goto fail;
	struct statvfs vfs;
	if (statvfs(r->dir, &vfs) == 0)
		r->fs_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	retention(r);
	if (pthread_create(&r->writer, NULL, writer_main, r)) {
		fcap_err(errbuf, "cannot start the writer thread");
		goto fail;
	}
	bool fin = pthread_create(&r->finisher, NULL, finisher_main, r) == 0;
	bool pub = fin && pthread_create(&r->publisher, NULL, publisher_main, r) == 0;
	if (!pub) {
		pthread_mutex_lock(&r->mu);
		r->stopping = true;
		pthread_cond_signal(&r->cv_writer);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->writer, NULL);
		if (fin)
			pthread_join(r->finisher, NULL);
		fcap_err(errbuf, "cannot start the recorder's threads");
		goto fail;
	}
	r->threads = true;
	return r;
fail:
	free_recorder(r);
	return NULL;
}

int fcap_recorder_close(struct fcap_recorder *r, struct fcap_recorder_stats *st, char *errbuf)
{
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->cv_writer);
	pthread_mutex_unlock(&r->mu);
	if (r->threads) {
		pthread_join(r->writer, NULL);
		pthread_join(r->finisher, NULL);
		pthread_join(r->publisher, NULL);
	}
	int rc = 0;
	if (r->first_error[0])
		rc = fcap_err(errbuf, "%s", r->first_error);
	if (st)
		*st = r->st;
	free_recorder(r);
	return rc;
}
