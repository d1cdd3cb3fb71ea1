/*
 * fleet_segments.c - the spool's segment files (design: fleet.c). Loading:
 * what an earlier run left, read at open (the sender's progress, the ids
 * reserved in "next", each segment tallied and its damage said once).
 * Appending: records written to the current segment, a new one begun when
 * it is full, by the put itself or by write_behind's writer thread. The
 * records' format is fleet_spool.c's (fcap/fleet_spool.h).
 */
#include "fcap/fleet.h"
#include "fleet_spool_int.h"
#include "fcap/fleet_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BATCH (256u << 10) /* write_behind: bytes written at once at most */

/* ---- segments: loading ------------------------------------------------ */

/* Adds a segment at the end of the list (lock held or not yet shared). */
static struct seg *seg_push(struct fcap_fleet *f, const char *name)
{
	if (f->nsegs == f->segs_cap) {
		size_t cap = f->segs_cap ? f->segs_cap * 2 : 16;
		struct seg *s = realloc(f->segs, cap * sizeof(*s));
		if (!s)
			return NULL;
		f->segs = s;
		f->segs_cap = cap;
	}
	struct seg *s = &f->segs[f->nsegs++];
	memset(s, 0, sizeof(*s));
	s->id = f->seg_ids++;
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static bool is_seg_name(const char *nm)
{
	return strlen(nm) == 24 && !strcmp(nm + 20, ".seg") && strspn(nm, "0123456789") == 20;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The segment files' names, sorted (the numbers have 20 digits: as strings). */
char **fleet_list_segs(const char *dir, size_t *n, char *errbuf)
{
	DIR *d = opendir(dir);
	if (!d) {
		fcap_err(errbuf, "spool %s: %s", dir, strerror(errno));
		return NULL;
	}
	size_t cap = 16;
	char **names = malloc(cap * sizeof(*names));
	struct dirent *e;
	bool oom = !names;
	*n = 0;
	while (!oom && (e = readdir(d))) {
		if (!is_seg_name(e->d_name))
			continue;
		if (*n == cap) {
			char **nn = realloc(names, 2 * cap * sizeof(*nn));
			oom = !nn;
			if (nn) {
				names = nn;
				cap *= 2;
			}
		}
		if (!oom && !(names[*n] = strdup(e->d_name)))
			oom = true;
		else if (!oom)
			(*n)++;
	}
	closedir(d);
	if (oom) {
		for (size_t i = 0; i < *n; i++)
			free(names[i]);
		free(names);
		fcap_err(errbuf, "spool %s: out of memory", dir);
		return NULL;
	}
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_name);
	return names;
}

/* Reads a whole file into a new buffer (*n bytes); NULL with errno. */
uint8_t *fleet_read_whole(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return NULL;
	uint8_t *b = NULL;
	if (fstat(fd, &sb) == 0 && (b = malloc((size_t)sb.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)sb.st_size) {
			ssize_t k = pread(fd, b + got, (size_t)sb.st_size - got, (off_t)got);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		*n = got;
	}
	int err = errno;
	close(fd);
	errno = err;
	return b;
}

/* One damaged stretch [off, end) of a segment: said and counted. */
void fleet_seg_damage(struct fcap_fleet *f, const char *name, size_t off, size_t end, const char *why)
{
	char path[4200];
	fleet_seg_path(f, name, path, sizeof(path));
	spool_problem(f, true, "spool segment %s: bytes %zu to %zu: %s: skipped (the segment is set aside as %s.bad "
			       "when the rest is sent)", path, off, end, why, name);
}

struct damage_ctx {
	struct fcap_fleet *f;
	const char *name;
};

static void said_damage(void *ctx, size_t off, size_t end, const char *why)
{
	struct damage_ctx *d = ctx;
	fleet_seg_damage(d->f, d->name, off, end, why);
}

/* Reads an earlier run's segment: counts the messages not yet done, finds
 * its damage (said here, once), and the largest id. */
static int scan_seg(struct fcap_fleet *f, const char *name, char *errbuf)
{
	char path[4200];
	size_t n = 0;
	fleet_seg_path(f, name, path, sizeof(path));
	uint8_t *b = fleet_read_whole(path, &n);
	if (!b) {
		spool_problem(f, false, "spool segment %s: %s: not sent (left for the next run)", path, strerror(errno));
		return 0;
	}
	struct seg *s = seg_push(f, name);
	if (!s) {
		free(b);
		return fcap_err(errbuf, "spool %s: out of memory", f->dir);
	}
	struct fcap_spool_tally t;
	struct damage_ctx d = { f, name };
	fcap_spool_tally(b, n, f->open_progress, NKINDS, &t, said_damage, &d);
	free(b);
	s->size = n;
	s->closed = s->scanned = true;
	s->damaged = t.damaged > 0;
	s->last = t.last;
	f->st.spooled += t.waiting;
	f->st.spool_bytes += t.bytes;
	if (t.last < SEQ_LIMIT && t.last >= f->next_seq)
		f->next_seq = t.last + 1;
	return 0;
}

/* Reads "next": ids go on after it. */
static void load_next(struct fcap_fleet *f)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/next", f->dir);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno != ENOENT)
			spool_problem(f, false, "spool file %s: %s: ids go on after the spooled messages", path,
				      strerror(errno));
		return;
	}
	char text[32];
	size_t tl = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[tl] = 0;
	char *end;
	errno = 0;
	unsigned long long next = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno || (*end && strcmp(end, "\n") != 0) || next >= SEQ_LIMIT) {
		char shown[32];
		size_t k = 0;
		for (; k < tl && k + 1 < sizeof(shown); k++)
			shown[k] = text[k] >= 0x20 && text[k] < 0x7f ? text[k] : '?';
		shown[k] = 0;
		spool_problem(f, true,
			      "spool file %s: '%s' is not a sequence number: ids go on after the spooled "
			      "messages (ones already sent may come again, and be dropped as duplicates)",
			      path, shown);
	} else if (next > f->next_seq) {
		f->next_seq = next;
	}
}

/* The sender's progress an earlier run left. */
static void load_progress(struct fcap_fleet *f)
{
	char why[128];
	uint64_t seq = 0;
	int rc = fcap_spool_progress_read(f->dir, &seq, &f->pversion, why, sizeof(why));
	if (rc < 0)
		spool_problem(f, true, "spool file %s/%s: %s: every message in the spool is sent again (those "
				       "already stored are dropped as duplicates within the stream's window)",
			      f->dir, FCAP_SPOOL_PROGRESS, why);
	else if (rc > 0 && seq >= SEQ_LIMIT)
		spool_problem(f, true, "spool file %s/%s: progress %" PRIu64 " is beyond any id: every message in the "
				       "spool is sent again (those already stored are dropped as duplicates within "
				       "the stream's window)", f->dir, FCAP_SPOOL_PROGRESS, seq);
	else if (rc > 0)
		f->open_progress = seq;
	f->progress = f->progress_saved = f->last_read = f->open_progress;
	if (f->open_progress >= f->next_seq)
		f->next_seq = f->open_progress + 1;
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", f->dir, FCAP_SPOOL_PROGRESS);
	f->pfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->pfd < 0)
		spool_problem(f, false, "spool file %s: %s: progress not kept (sent again next run)", path,
			      strerror(errno));
}

int fleet_load_spool(struct fcap_fleet *f, char *errbuf)
{
	if (fleet_load_msg_files(f, errbuf) < 0)
		return -1;
	load_next(f);
	load_progress(f);
	size_t n;
	char **names = fleet_list_segs(f->dir, &n, errbuf);
	if (!names)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = scan_seg(f, names[i], errbuf);
		free(names[i]);
	}
	free(names);
	if (f->next_seq == 0)
		f->next_seq = 1;
	return rc;
}

/* ---- segments: appending ---------------------------------------------- */

/* No more appends to the current segment (wlock held). */
void fleet_close_segment(struct fcap_fleet *f)
{
	if (f->wfd < 0)
		return;
	close(f->wfd);
	f->wfd = -1;
	pthread_mutex_lock(&f->lock);
	f->segs[f->nsegs - 1].closed = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* A segment to append n bytes to, beginning with message first: the
 * current one while it has room, else a new one (wlock held). -1 with errno. */
static int ensure_segment(struct fcap_fleet *f, size_t n, uint64_t first)
{
	if (f->wfd >= 0 && (f->wsize == 0 || f->wsize + n <= f->seg_max))
		return 0;
	fleet_close_segment(f);
	char name[32], path[4200];
	int fd = -1;
	/* named by its first id; taken already (an empty segment a crash left,
	 * with "next" lost), the next number: names only order the segments */
	for (uint64_t k = 0; fd < 0 && k < 16; k++) {
		snprintf(name, sizeof(name), "%020" PRIu64 ".seg", first + k);
		fleet_seg_path(f, name, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&f->lock);
	struct seg *s = seg_push(f, name);
	pthread_mutex_unlock(&f->lock);
	if (!s) {
		close(fd);
		unlink(path);
		errno = ENOMEM;
		return -1;
	}
	f->wfd = fd;
	f->wsize = 0;
	return 0;
}

/* Appends records [first..last] (count of them, bytes in all, n bytes at
 * buf) to the spool, and makes them the sender's; from_staged: they were
 * write_behind's, counted as staged until now. -1 (said) when lost. */
int fleet_append_records(struct fcap_fleet *f, const uint8_t *buf, size_t n, uint64_t first, uint64_t last,
			  uint64_t count, bool from_staged)
{
	int rc = ensure_segment(f, n, first);
	if (rc == 0 && !fleet_write_all(f->wfd, buf, n)) {
		rc = -1;
		int err = errno;
		/* a part written would read as damage: cut it off, or leave the segment */
		if (ftruncate(f->wfd, (off_t)f->wsize) != 0)
			fleet_close_segment(f);
		errno = err;
	}
	int err = errno;
	pthread_mutex_lock(&f->lock);
	if (from_staged) {
		f->staged -= count;
		f->staged_bytes -= n;
	}
	if (rc == 0) {
		f->wsize += n;
		f->segs[f->nsegs - 1].size = f->wsize;
		f->segs[f->nsegs - 1].last = last;
		f->st.spooled += count;
		f->st.spool_bytes += n;
		f->st.put += from_staged ? 0 : count;   /* write_behind counted it when staged */
	} else if (from_staged) {
		f->st.write_errors += count;
	}
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	if (rc < 0)
		spool_problem(f, false, "spool %s: messages %" PRIu64 " to %" PRIu64 " not written: %s%s", f->dir,
			      first, last, strerror(err), from_staged ? ": lost" : "");
	errno = err;
	return rc;
}

bool fleet_wbuf_room(struct fcap_fleet *f, size_t n)
{
	if (n <= f->wcap)
		return true;
	size_t cap = f->wcap ? f->wcap : WRITE_BATCH;
	while (cap < n)
		cap *= 2;
	uint8_t *b = realloc(f->wbuf, cap);
	if (!b)
		return false;
	f->wbuf = b;
	f->wcap = cap;
	return true;
}

/* write_behind: a list of staged messages into the spool, in batches of at
 * most WRITE_BATCH bytes (one write each), never across a segment's end. */
static void append_staged(struct fcap_fleet *f, struct staged *m)
{
	pthread_mutex_lock(&f->wlock);
	size_t blen = 0;
	uint64_t first = 0, last = 0, count = 0;
	while (m) {
		size_t rec = FCAP_SPOOL_REC_HDR + m->len;
		uint64_t in_seg = f->wfd >= 0 ? f->wsize : 0;
		if (blen && (blen + rec > WRITE_BATCH || in_seg + blen + rec > f->seg_max)) {
			fleet_append_records(f, f->wbuf, blen, first, last, count, true);
			blen = 0;
			count = 0;
		}
		struct staged *next = m->next;
		if (!fleet_wbuf_room(f, blen + rec)) {
			pthread_mutex_lock(&f->lock);
			f->staged--;
			f->staged_bytes -= rec;
			f->st.write_errors++;
			pthread_mutex_unlock(&f->lock);
			spool_problem(f, false, "spool %s: message %" PRIu64 ": out of memory: lost", f->dir, m->seq);
		} else {
			fcap_spool_rec_encode(f->wbuf + blen, m->seq, m->kind, m->data, (uint32_t)m->len);
			first = count ? first : m->seq;
			last = m->seq;
			count++;
			blen += rec;
		}
		free(m);
		m = next;
	}
	if (blen)
		fleet_append_records(f, f->wbuf, blen, first, last, count, true);
	pthread_mutex_unlock(&f->wlock);
}

/* write_behind: the staged messages into the spool, in order, as they
 * come (all that are waiting at once). Stops when asked and nothing is
 * left to write. */
void *fleet_writer(void *arg)
{
	struct fcap_fleet *f = arg;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->sg_head && !f->writer_stop)
			pthread_cond_wait(&f->changed, &f->lock);
		struct staged *m = f->sg_head;
		if (!m)
			break;
		f->sg_head = f->sg_tail = NULL;
		pthread_mutex_unlock(&f->lock);
		append_staged(f, m);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}
