/*
 * fleet.c - a sensor's spool and its sender to NATS JetStream (fcap/fleet.h).
 *
 * The spool is a directory of segment files (format: fcap/fleet_spool.h). A
 * message is appended to the current segment as one record (its length,
 * sequence number, kind and CRC-32C, then the message): one write, no file
 * made per message. A segment is closed at seg_max bytes and the next one
 * begins. The sequence numbers are reserved ahead, NEXT_AHEAD at a time, in
 * the file "next" (made durable, file and directory fsynced, as a power loss
 * must not take it back), so that ids are never reused (a reused id would be
 * dropped by JetStream as a duplicate).
 *
 * One sender thread reads the segments in order and publishes
 * asynchronously, up to WINDOW messages waiting for their acknowledgement.
 * Its progress, the sequence number up to which every message is
 * acknowledged (or set aside), advances over the acknowledged prefix only,
 * and is written in place to the file "acked" as it advances (at once when
 * nothing is in flight, else after WINDOW messages or PROGRESS_EVERY_MS), so
 * that a restarted sender re-sends at most the window and what was
 * acknowledged since: those carry their ids again and JetStream's
 * duplicate window drops them. A segment whose every message is done is
 * removed. A failed publish (cluster away, no quorum, time-out) stops the
 * window: once every message in flight has its answer, the sender pauses,
 * then sends again from the first one not acknowledged, one at a time
 * until one is acknowledged. On one connection JetStream stores a
 * sender's messages in the order sent, so a stream holds them in order
 * unless a publish fails while later ones succeed (docs/FLEET.md).
 *
 * A spool of an earlier fcap (one file per message, %020llu.msg) is read at
 * open and sent first, one synchronous publish at a time, as it was.
 */
#include "fcap/fleet.h"
#include "fleet_int.h"
#include "fcap/fleet_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#define DEFAULT_SPOOL_MAX (64ull << 20)
#define PUBLISH_WAIT_MS 2000
#define RETRY_PAUSE_MS 200
#define QUIESCE_MS (PUBLISH_WAIT_MS + 1000)  /* the longest wait for the answers in flight */
#define NEXT_AHEAD 65536        /* ids reserved in the "next" file at a time (two fsyncs each) */
#define SEQ_LIMIT (1ull << 62)  /* a sequence number read from the spool beyond it is damage */
#define WINDOW 256              /* messages in flight */
#define SEG_MAX (4ull << 20)    /* a segment's size, or a quarter of the bound when smaller */
#define SEG_MIN (64ull << 10)
#define WRITE_BATCH (256u << 10) /* write_behind: bytes written at once at most */
#define PROGRESS_EVERY_MS 10

static const char *const kinds[] = { "alert", "flow", "stats" };
static const char *const streams[] = { "FCAP_ALERTS", "FCAP_FLOWS", "FCAP_STATS" };
#define NKINDS 3

/* An earlier version's spool file, waiting to be sent. */
struct spooled {
	uint64_t seq;
	uint64_t bytes;
};

/* A message put with write_behind, waiting in memory for the writer. */
struct staged {
	struct staged *next;
	uint64_t seq;
	int kind;
	size_t len;
	char data[];
};

/* A segment file. */
struct seg {
	uint64_t id;             /* its place in the list, for ever (names may be odd) */
	char name[32];
	uint64_t size;           /* bytes written whole: the sender reads no further */
	uint64_t last;           /* the largest sequence number in it, 0 when none */
	bool closed;             /* no more appends: an earlier run's, or full */
	bool scanned;            /* read at open: its damage is said already */
	bool damaged;            /* set aside as NAME.bad, not removed, when done */
};

/* A record the sender has read: in flight, or done. */
enum { SENT, FAILED, DONE };
struct inflight {
	uint64_t seq, bytes;
	uint64_t seg;            /* its segment's id and offset, to send it again */
	size_t off;
	int state;
	bool acked, dup;         /* DONE by an acknowledgement (as a duplicate), else set aside */
	int64_t sent_ms;         /* when it was published (monotonic) */
};

struct fcap_fleet {
	char sensor[FCAP_FLEET_SENSOR_MAX + 1];
	char *dir;
	uint64_t spool_max, seg_max;
	uint64_t next_seq;
	uint64_t next_saved;     /* the "next" file says this: ids below it may be in use */
	natsConnection *nc;
	jsCtx *js;
	pthread_t sender;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	struct spooled *q;       /* ring of an earlier version's files, oldest at head */
	size_t q_cap, q_head, q_len;
	/* segments, oldest first (lock); while wfd >= 0 the last one is appended to */
	struct seg *segs;
	size_t nsegs, segs_cap;
	uint64_t seg_ids;
	pthread_mutex_t wlock;   /* held by the appender (taken before lock): appends in order */
	int wfd;
	uint64_t wsize;
	uint8_t *wbuf;
	size_t wcap;
	/* write_behind: messages not yet in a segment, oldest first, and their writer */
	bool write_behind, writer_started, writer_stop, stopped;
	pthread_t writer;
	struct staged *sg_head, *sg_tail;
	uint64_t staged, staged_bytes;
	/* the window (lock): read records, oldest first, until done */
	struct inflight win[WINDOW];
	size_t w_head, w_len;
	int lib_pending;         /* publishes whose answer the library still owes */
	bool failed, probe;
	uint64_t progress;       /* every record up to it is done */
	/* the sender's own */
	bool cur_set;
	uint64_t cur_seg;        /* the next record to read: segment id and offset */
	size_t cur_off;
	uint64_t last_read;      /* the sequence number read last (they only grow) */
	uint64_t open_progress;  /* done by an earlier run */
	uint64_t progress_saved, pversion;
	int pfd;
	int64_t saved_at;        /* when the progress was written (mono_ms) */
	int rfd;                 /* the segment read, whole up to rlen in rbuf */
	uint64_t rseg;
	uint8_t *rbuf;
	size_t rcap, rlen;
	struct fcap_fleet_stats st;
	struct fleet_conn_err cerr;
};

static int kind_index(const char *kind)
{
	for (int i = 0; i < NKINDS; i++)
		if (!strcmp(kind, kinds[i]))
			return i;
	return -1;
}

static void msg_path(const struct fcap_fleet *f, uint64_t seq, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%020" PRIu64 ".msg", f->dir, seq);
}

static void seg_path(const struct fcap_fleet *f, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", f->dir, name);
}

/* A problem, for the stats: its text into dst (spool_error: what happened
 * to which file; publish_error: why the last attempt failed), and corrupt
 * counting a message or stretch of the spool set aside. */
static void note_problem(struct fcap_fleet *f, char *dst, size_t n, bool corrupt, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void note_problem(struct fcap_fleet *f, char *dst, size_t n, bool corrupt, const char *fmt, ...)
{
	char text[sizeof(f->st.spool_error)] = { 0 };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&f->lock);
	memcpy(dst, text, n);
	dst[n - 1] = 0;
	f->st.corrupt += corrupt;
	pthread_mutex_unlock(&f->lock);
}
#define spool_problem(f, corrupt, ...) \
	note_problem(f, (f)->st.spool_error, sizeof((f)->st.spool_error), corrupt, __VA_ARGS__)
#define publish_problem(f, ...) \
	note_problem(f, (f)->st.publish_error, sizeof((f)->st.publish_error), false, __VA_ARGS__)

/* A spool file that is not a whole message of ours: set aside as NAME.bad
 * (kept for a look), never sent, never holding up the messages after it. */
static void set_aside(struct fcap_fleet *f, const char *path, const char *why)
{
	char bad[4200];
	snprintf(bad, sizeof(bad), "%s.bad", path);
	if (rename(path, bad) == 0)
		spool_problem(f, true, "spool file %s: %s: set aside as %s", path, why, bad);
	else
		spool_problem(f, true, "spool file %s: %s; cannot set it aside: %s", path, why, strerror(errno));
}

static bool write_all(int fd, const void *p, size_t n)
{
	for (const char *c = p; n;) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = ENOSPC;
			return false;
		}
		c += k;
		n -= (size_t)k;
	}
	return true;
}

/* fsync of the directory holding path: a rename in it made durable. */
static int sync_dir_of(const char *path)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* Writes a file under a temporary name and renames it in place. durable:
 * the file and the directory entry reach the disk first (fsync), for what
 * a power loss must not take back. -1 with errno. */
static int write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen, bool durable)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	bool ok = write_all(fd, a, alen) && write_all(fd, b, blen);
	int err = errno;
	if (ok && durable && fsync(fd) != 0)
		ok = false, err = errno;
	if (close(fd) != 0 && ok)
		ok = false, err = errno;
	if (ok && rename(tmp, path) != 0)
		ok = false, err = errno;
	if (!ok) {
		unlink(tmp);
		errno = err;
		return -1;
	}
	return durable ? sync_dir_of(path) : 0;
}

/* The pause between attempts: the whole of it (a message put meanwhile
 * wakes the condition, and must not start a retry storm), unless stopped. */
static void sleep_ms(struct fcap_fleet *f, int ms)
{
	struct timespec ts = fleet_deadline(ms);
	pthread_mutex_lock(&f->lock);
	while (!f->stop && pthread_cond_timedwait(&f->changed, &f->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&f->lock);
}

/* ---- an earlier version's spool: one file per message ---------------- */

static int queue_push(struct fcap_fleet *f, uint64_t seq, uint64_t bytes)
{
	if (f->q_len == f->q_cap) {
		size_t cap = f->q_cap ? f->q_cap * 2 : 1024;
		struct spooled *q = malloc(cap * sizeof(*q));
		if (!q)
			return -1;
		for (size_t i = 0; i < f->q_len; i++)
			q[i] = f->q[(f->q_head + i) % f->q_cap];
		free(f->q);
		f->q = q;
		f->q_cap = cap;
		f->q_head = 0;
	}
	f->q[(f->q_head + f->q_len) % f->q_cap] = (struct spooled){ seq, bytes };
	f->q_len++;
	f->st.spooled++;
	f->st.spool_bytes += bytes;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A file a crash cut short (never renamed, never a message): removed. */
static bool remove_if_tmp(struct fcap_fleet *f, const char *nm, const char *path)
{
	size_t l = strlen(nm);
	if (!(l > 8 && !strcmp(nm + l - 8, ".msg.tmp")) && strcmp(nm, "next.tmp") != 0)
		return false;
	if (unlink(path) == 0)
		spool_problem(f, false, "spool file %s: a write cut short by a crash: removed", path);
	else
		spool_problem(f, false, "spool file %s: a write cut short by a crash: %s", path, strerror(errno));
	return true;
}

/* The sequence numbers of the %020llu.msg files in dir, sorted (*n of them). */
static uint64_t *list_msg_files(struct fcap_fleet *f, size_t *n, char *errbuf)
{
	DIR *d = opendir(f->dir);
	if (!d) {
		fcap_err(errbuf, "spool %s: %s", f->dir, strerror(errno));
		return NULL;
	}
	uint64_t *seqs = malloc(sizeof(*seqs));
	size_t cap = 1;
	struct dirent *e;
	*n = 0;
	while (seqs && (e = readdir(d))) {
		const char *nm = e->d_name;
		size_t l = strlen(nm);
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", f->dir, nm);
		if (remove_if_tmp(f, nm, path))
			continue;
		/* ours: %020llu.msg exactly (others are left alone) */
		if (l != 24 || strcmp(nm + 20, ".msg") != 0 || strspn(nm, "0123456789") != 20)
			continue;
		errno = 0;
		unsigned long long seq = strtoull(nm, NULL, 10);
		if (errno || seq >= SEQ_LIMIT) {
			set_aside(f, path, "sequence number out of range");
			continue;
		}
		if (*n == cap) {
			uint64_t *s = realloc(seqs, 2 * cap * sizeof(*s));
			if (!s) {
				free(seqs);
				seqs = NULL;
				break;
			}
			seqs = s;
			cap *= 2;
		}
		seqs[(*n)++] = seq;
	}
	closedir(d);
	if (!seqs)
		fcap_err(errbuf, "spool %s: out of memory", f->dir);
	else
		qsort(seqs, *n, sizeof(*seqs), cmp_u64);
	return seqs;
}

/* Queues the message files an earlier version left, in order. */
static int load_msg_files(struct fcap_fleet *f, char *errbuf)
{
	size_t n;
	uint64_t *seqs = list_msg_files(f, &n, errbuf);
	if (!seqs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;
		msg_path(f, seqs[i], path, sizeof(path));
		if (stat(path, &sb) != 0)
			spool_problem(f, false, "spool file %s: %s: not sent", path, strerror(errno));
		else if (queue_push(f, seqs[i], (uint64_t)sb.st_size) < 0) {
			free(seqs);
			return fcap_err(errbuf, "spool %s: out of memory", f->dir);
		}
		if (seqs[i] >= f->next_seq)
			f->next_seq = seqs[i] + 1;
	}
	free(seqs);
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

/* Reads an earlier version's file whole into *buf (its length *len): 0, or
 * -1 (said) to try again later. */
static int read_msg_file(struct fcap_fleet *f, FILE *fp, const char *path, char **buf, size_t *len)
{
	size_t cap = 0;
	bool short_of_memory = false;
	*buf = NULL;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			char *b = realloc(*buf, cap);
			if (!b) {
				short_of_memory = true;
				break;
			}
			*buf = b;
		}
		size_t got = fread(*buf + *len, 1, cap - *len, fp);
		*len += got;
		if (got == 0)
			break;
	}
	if (short_of_memory || ferror(fp)) {
		/* never a part of it: the whole message, later */
		publish_problem(f, "reading spool file %s: %s", path, short_of_memory ? "out of memory" : strerror(errno));
		free(*buf);
		return -1;
	}
	return 0;
}

/* Publishes one earlier version's file and waits for it: 0 when JetStream
 * acknowledged it, 1 when there is nothing to send (gone, or set aside),
 * -1 to try again later. */
static int publish_msg_file(struct fcap_fleet *f, uint64_t seq)
{
	char path[4096];
	msg_path(f, seq, path, sizeof(path));
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (errno != ENOENT)
			spool_problem(f, false, "spool file %s: %s: not sent (left for the next run)", path,
				      strerror(errno));
		return 1;
	}
	char *buf;
	size_t len;
	int rc = read_msg_file(f, fp, path, &buf, &len);
	fclose(fp);
	if (rc < 0)
		return -1;
	char *nl = buf ? memchr(buf, '\n', len) : NULL;
	if (nl)
		*nl = 0;
	if (!nl || kind_index(buf) < 0) {
		set_aside(f, path, !len ? "empty" : !nl ? "no kind line" : "not a kind of message (alert, flow, stats)");
		free(buf);
		return 1;
	}
	rc = -1;
	char subject[128], id[80];
	snprintf(subject, sizeof(subject), "fcap.%s.%s", f->sensor, buf);
	snprintf(id, sizeof(id), "%s-%" PRIu64, f->sensor, seq);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = PUBLISH_WAIT_MS;
	jsPubAck *ack = NULL;
	jsErrCode jerr = 0;
	size_t off = (size_t)(nl + 1 - buf);
	natsStatus s = js_Publish(&ack, f->js, subject, buf + off, (int)(len - off), &po, &jerr);
	if (s == NATS_OK) {
		pthread_mutex_lock(&f->lock);
		f->st.acked++;
		if (ack && ack->Duplicate)
			f->st.duplicates++;
		pthread_mutex_unlock(&f->lock);
		jsPubAck_Destroy(ack);
		rc = 0;
	} else if (s == NATS_MAX_PAYLOAD) {
		/* never accepted, however often tried: out of the way of the rest */
		char why[160];
		snprintf(why, sizeof(why), "%zu bytes: more than the server takes in one message (%" PRId64 ")",
			 len - off, natsConnection_GetMaxPayload(f->nc));
		set_aside(f, path, why);
		rc = 1;
	} else {
		publish_problem(f, "message %s to %s: %s (JetStream error %d)", id, subject, natsStatus_GetText(s),
				(int)jerr);
	}
	free(buf);
	if (rc == 0 && unlink(path) != 0)
		spool_problem(f, false, "spool file %s: acknowledged, but not removed: %s (sent again next run)", path,
			      strerror(errno));
	return rc;
}

/* Sends an earlier version's files, one at a time: 0 when done, -1 when stopped. */
static int send_msg_files(struct fcap_fleet *f)
{
	for (;;) {
		pthread_mutex_lock(&f->lock);
		bool stop = f->stop, done = f->q_len == 0;
		struct spooled head = done ? (struct spooled){ 0, 0 } : f->q[f->q_head];
		pthread_mutex_unlock(&f->lock);
		if (stop || done)
			return stop ? -1 : 0;
		if (publish_msg_file(f, head.seq) < 0) {
			pthread_mutex_lock(&f->lock);
			f->st.publish_errors++;
			pthread_mutex_unlock(&f->lock);
			sleep_ms(f, RETRY_PAUSE_MS);
			continue;
		}
		pthread_mutex_lock(&f->lock);
		f->q_head = (f->q_head + 1) % f->q_cap;
		f->q_len--;
		f->st.spooled--;
		f->st.spool_bytes -= head.bytes;
		pthread_cond_broadcast(&f->changed);
		pthread_mutex_unlock(&f->lock);
	}
}

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
static char **list_segs(const char *dir, size_t *n, char *errbuf)
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
static uint8_t *read_whole(const char *path, size_t *n)
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
static void seg_damage(struct fcap_fleet *f, const char *name, size_t off, size_t end, const char *why)
{
	char path[4200];
	seg_path(f, name, path, sizeof(path));
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
	seg_damage(d->f, d->name, off, end, why);
}

/* Reads an earlier run's segment: counts the messages not yet done, finds
 * its damage (said here, once), and the largest id. */
static int scan_seg(struct fcap_fleet *f, const char *name, char *errbuf)
{
	char path[4200];
	size_t n = 0;
	seg_path(f, name, path, sizeof(path));
	uint8_t *b = read_whole(path, &n);
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
	else if (rc > 0 && seq < SEQ_LIMIT)
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

static int load_spool(struct fcap_fleet *f, char *errbuf)
{
	if (load_msg_files(f, errbuf) < 0)
		return -1;
	load_next(f);
	load_progress(f);
	size_t n;
	char **names = list_segs(f->dir, &n, errbuf);
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
static void close_segment(struct fcap_fleet *f)
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
	close_segment(f);
	char name[32], path[4200];
	int fd = -1;
	/* named by its first id; taken already (an empty segment a crash left,
	 * with "next" lost), the next number: names only order the segments */
	for (uint64_t k = 0; fd < 0 && k < 16; k++) {
		snprintf(name, sizeof(name), "%020" PRIu64 ".seg", first + k);
		seg_path(f, name, path, sizeof(path));
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
static int append_records(struct fcap_fleet *f, const uint8_t *buf, size_t n, uint64_t first, uint64_t last,
			  uint64_t count, bool from_staged)
{
	int rc = ensure_segment(f, n, first);
	if (rc == 0 && !write_all(f->wfd, buf, n)) {
		rc = -1;
		int err = errno;
		/* a part written would read as damage: cut it off, or leave the segment */
		if (ftruncate(f->wfd, (off_t)f->wsize) != 0)
			close_segment(f);
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

static bool wbuf_room(struct fcap_fleet *f, size_t n)
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
			append_records(f, f->wbuf, blen, first, last, count, true);
			blen = 0;
			count = 0;
		}
		struct staged *next = m->next;
		if (!wbuf_room(f, blen + rec)) {
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
		append_records(f, f->wbuf, blen, first, last, count, true);
	pthread_mutex_unlock(&f->wlock);
}

/* write_behind: the staged messages into the spool, in order, as they
 * come (all that are waiting at once). Stops when asked and nothing is
 * left to write. */
static void *writer(void *arg)
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

/* ---- the sender --------------------------------------------------------- */

/* The window's entry for seq still waiting for its answer (lock held). */
static struct inflight *window_find(struct fcap_fleet *f, uint64_t seq)
{
	for (size_t i = 0; i < f->w_len; i++) {
		struct inflight *e = &f->win[(f->w_head + i) % WINDOW];
		if (e->seq == seq && e->state == SENT)
			return e;
	}
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A record read at off in the cursor's segment, into the window (lock held). */
static void window_push(struct fcap_fleet *f, uint64_t seq, uint64_t bytes, size_t off, int state)
{
	struct inflight *e = &f->win[(f->w_head + f->w_len++) % WINDOW];
	*e = (struct inflight){ .seq = seq, .bytes = bytes, .seg = f->cur_seg, .off = off, .state = state,
				.sent_ms = mono_ms() };
}

/* The library answers every publish within its MaxWait; should an answer
 * never come all the same, the window would stay full for ever: a message
 * unanswered for QUIESCE_MS counts as failed (lock held). */
static void check_unanswered(struct fcap_fleet *f)
{
	for (size_t i = 0; i < f->w_len; i++) {
		const struct inflight *e = &f->win[(f->w_head + i) % WINDOW];
		if (e->state != SENT)
			continue;
		if (mono_ms() - e->sent_ms > QUIESCE_MS) {
			f->failed = true;
			f->st.publish_errors++;
			snprintf(f->st.publish_error, sizeof(f->st.publish_error), "message %s-%" PRIu64 ": no answer "
				 "within %d ms", f->sensor, e->seq, QUIESCE_MS);
		}
		return;   /* the oldest one tells */
	}
}

/* SEQ of a message's id SENSOR-SEQ (the sensor may hold '-'), 0 if none. */
static uint64_t msg_seq(natsMsg *msg)
{
	const char *id = NULL;
	if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK || !id)
		return 0;
	const char *dash = strrchr(id, '-');
	return dash ? strtoull(dash + 1, NULL, 10) : 0;
}

/* The library's answer to one asynchronous publish (its thread). */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	struct fcap_fleet *f = closure;
	uint64_t seq = msg_seq(msg);
	pthread_mutex_lock(&f->lock);
	struct inflight *e = window_find(f, seq);
	if (e && pa) {
		e->state = DONE;
		e->acked = true;
		e->dup = pa->Duplicate;
	} else if (e) {
		e->state = FAILED;
		f->failed = true;
		f->st.publish_errors++;
		snprintf(f->st.publish_error, sizeof(f->st.publish_error), "message %s-%" PRIu64 " to %s: %s (JetStream "
			 "error %d)", f->sensor, seq, natsMsg_GetSubject(msg),
			 pae && pae->ErrText ? pae->ErrText : pae ? natsStatus_GetText(pae->Err) : "no answer",
			 pae ? (int)pae->ErrCode : 0);
	}
	f->lib_pending--;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	natsMsg_Destroy(msg);
}

/* The done messages at the window's head leave the spool (lock held). */
static void collect(struct fcap_fleet *f)
{
	bool moved = false;
	while (f->w_len && f->win[f->w_head].state == DONE) {
		struct inflight *e = &f->win[f->w_head];
		if (e->seq > f->progress)
			f->progress = e->seq;
		f->st.spooled--;
		f->st.spool_bytes -= e->bytes;
		if (e->acked) {
			f->st.acked++;
			f->st.duplicates += e->dup;
			f->probe = false;
		}
		f->w_head = (f->w_head + 1) % WINDOW;
		f->w_len--;
		moved = true;
	}
	if (moved)
		pthread_cond_broadcast(&f->changed);
}

/* Under the lock: the segment the next record is in (copied), false when
 * there is none yet. Moves the cursor over finished segments. */
static bool next_position(struct fcap_fleet *f, struct seg *out)
{
	size_t i = 0;
	if (!f->nsegs)
		return false;
	while (f->cur_set && i < f->nsegs && f->segs[i].id != f->cur_seg)
		i++;
	if (!f->cur_set || i == f->nsegs) {
		i = 0;
		f->cur_set = true;
		f->cur_seg = f->segs[0].id;
		f->cur_off = 0;
	}
	while (f->cur_off >= f->segs[i].size) {
		if (!f->segs[i].closed || i + 1 >= f->nsegs)
			return false;
		i++;
		f->cur_seg = f->segs[i].id;
		f->cur_off = 0;
	}
	*out = f->segs[i];
	return true;
}

/* The segment s read whole up to its size into rbuf; -1 with errno. */
static int reader_load(struct fcap_fleet *f, const struct seg *s)
{
	if (f->rfd < 0 || f->rseg != s->id) {
		char path[4200];
		if (f->rfd >= 0)
			close(f->rfd);
		f->rlen = 0;
		f->rseg = s->id;
		seg_path(f, s->name, path, sizeof(path));
		if ((f->rfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
	}
	if (s->size > f->rcap) {
		size_t cap = f->rcap ? f->rcap : SEG_MIN;
		while (cap < s->size)
			cap *= 2;
		uint8_t *b = realloc(f->rbuf, cap);
		if (!b) {
			errno = ENOMEM;
			return -1;
		}
		f->rbuf = b;
		f->rcap = cap;
	}
	while (f->rlen < s->size) {
		ssize_t k = pread(f->rfd, f->rbuf + f->rlen, s->size - f->rlen, (off_t)f->rlen);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;   /* shorter than written: cut by someone else */
			return -1;
		}
		f->rlen += (size_t)k;
	}
	return 0;
}

/* A message set aside: its kind line and bytes in NAME.msg.bad (the
 * earlier format, for a look), said and counted; the window's entry done. */
static void set_aside_rec(struct fcap_fleet *f, const struct seg *s, size_t off, const struct fcap_spool_rec *r,
			  const char *why)
{
	char path[4200], head[16];
	snprintf(path, sizeof(path), "%s/%020" PRIu64 ".msg.bad", f->dir, r->seq);
	int hl = snprintf(head, sizeof(head), "%s\n", kinds[r->kind]);
	bool kept = write_file(path, head, (size_t)hl, r->data, r->len, false) == 0;
	spool_problem(f, true, "spool message %" PRIu64 " (segment %s/%s at %zu): %s: set aside%s%s", r->seq, f->dir,
		      s->name, off, why, kept ? " as " : " (not kept: cannot write ", kept ? path : strerror(errno));
}

/* Publishes a record; its answer comes to on_ack. */
static void publish_rec(struct fcap_fleet *f, const struct seg *s, size_t off, const struct fcap_spool_rec *r)
{
	char subject[128], id[80];
	snprintf(subject, sizeof(subject), "fcap.%s.%s", f->sensor, kinds[r->kind]);
	snprintf(id, sizeof(id), "%s-%" PRIu64, f->sensor, r->seq);
	pthread_mutex_lock(&f->lock);
	window_push(f, r->seq, FCAP_SPOOL_REC_HDR + r->len, off, SENT);
	f->lib_pending++;
	pthread_mutex_unlock(&f->lock);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = PUBLISH_WAIT_MS;   /* no answer by then: on_ack is told of a time-out */
	natsMsg *m = NULL;
	natsStatus st = natsMsg_Create(&m, subject, NULL, (const char *)r->data, (int)r->len);
	if (st == NATS_OK)
		st = js_PublishMsgAsync(f->js, &m, &po);
	natsMsg_Destroy(m);   /* nothing when the library took it */
	if (st == NATS_OK)
		return;
	if (st == NATS_MAX_PAYLOAD) {
		/* never accepted, however often tried: out of the way of the rest */
		char why[160];
		snprintf(why, sizeof(why), "%u bytes: more than the server takes in one message (%" PRId64 ")", r->len,
			 natsConnection_GetMaxPayload(f->nc));
		set_aside_rec(f, s, off, r, why);
	}
	pthread_mutex_lock(&f->lock);
	f->lib_pending--;
	struct inflight *e = window_find(f, r->seq);
	if (e && st == NATS_MAX_PAYLOAD) {
		e->state = DONE;
	} else if (e) {
		e->state = FAILED;
		f->failed = true;
		f->st.publish_errors++;
		snprintf(f->st.publish_error, sizeof(f->st.publish_error), "message %.48s to %.56s: %s", id, subject,
			 natsStatus_GetText(st));
	}
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* Reads the record at the cursor in s and sends it (or skips damage). */
static void send_next(struct fcap_fleet *f, const struct seg *s)
{
	size_t off = f->cur_off;
	if (reader_load(f, s) < 0) {
		seg_damage(f, s->name, off, s->size, strerror(errno));
		f->cur_off = s->size;
		pthread_mutex_lock(&f->lock);
		for (size_t i = 0; i < f->nsegs; i++)
			f->segs[i].damaged |= f->segs[i].id == s->id;
		pthread_mutex_unlock(&f->lock);
		return;
	}
	struct fcap_spool_rec r;
	const char *why;
	if (!fcap_spool_rec_parse(f->rbuf, s->size, off, NKINDS, &r, &why)) {
		f->cur_off = fcap_spool_resync(f->rbuf, s->size, off, NKINDS);
		if (!s->scanned) {   /* an earlier run's damage was said at open */
			seg_damage(f, s->name, off, f->cur_off, why);
			pthread_mutex_lock(&f->lock);
			for (size_t i = 0; i < f->nsegs; i++)
				f->segs[i].damaged |= f->segs[i].id == s->id;
			pthread_mutex_unlock(&f->lock);
		}
		return;
	}
	f->cur_off = r.next;
	if (r.seq <= f->last_read) {
		if (r.seq <= f->open_progress)
			return;   /* done by an earlier run */
		/* counted as spooled at open: done, not sent */
		pthread_mutex_lock(&f->lock);
		window_push(f, r.seq, FCAP_SPOOL_REC_HDR + r.len, off, DONE);
		pthread_mutex_unlock(&f->lock);
		char why2[96];
		snprintf(why2, sizeof(why2), "after message %" PRIu64 ": out of order", f->last_read);
		set_aside_rec(f, s, off, &r, why2);
		return;
	}
	f->last_read = r.seq;
	publish_rec(f, s, off, &r);
}

/* Every message the library holds taken back: no answer will come for them. */
static void take_back(struct fcap_fleet *f)
{
	natsMsgList l;
	if (js_PublishAsyncGetPendingList(&l, f->js) != NATS_OK)
		return;
	pthread_mutex_lock(&f->lock);
	f->lib_pending -= l.Count;
	pthread_mutex_unlock(&f->lock);
	natsMsgList_Destroy(&l);
}

/* Waits (lock held) up to QUIESCE_MS for the answers in flight; then takes
 * back what has none, so that nothing answers later. */
static void quiesce(struct fcap_fleet *f)
{
	struct timespec until = fleet_deadline(QUIESCE_MS);
	while (f->lib_pending > 0 && pthread_cond_timedwait(&f->changed, &f->lock, &until) != ETIMEDOUT)
		;
	if (f->lib_pending > 0) {
		pthread_mutex_unlock(&f->lock);
		take_back(f);
		pthread_mutex_lock(&f->lock);
	}
}

/* After a failed publish (lock held): every answer in, the window cut at the
 * first message not acknowledged, and the cursor back to it; after a
 * pause, it goes again alone (probe) until one is acknowledged. */
static void recover(struct fcap_fleet *f)
{
	quiesce(f);
	collect(f);
	size_t i = 0;
	while (i < f->w_len && f->win[(f->w_head + i) % WINDOW].state == DONE)
		i++;
	if (i < f->w_len) {
		const struct inflight *e = &f->win[(f->w_head + i) % WINDOW];
		f->cur_set = true;
		f->cur_seg = e->seg;
		f->cur_off = e->off;
		f->last_read = e->seq - 1;
		f->w_len = i;   /* those after it, acknowledged or not, go again */
	}
	f->failed = false;
	f->probe = true;
	pthread_mutex_unlock(&f->lock);
	sleep_ms(f, RETRY_PAUSE_MS);
	pthread_mutex_lock(&f->lock);
}


/* Removes (or sets aside, if damaged) the segments the sender is past and
 * whose messages the saved progress covers. */
static void drop_segments(struct fcap_fleet *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->nsegs && f->cur_set) {
		struct seg s = f->segs[0];
		bool passed = s.id < f->cur_seg || (s.id == f->cur_seg && f->cur_off >= s.size);
		if (!s.closed || !passed || s.last > f->progress_saved)
			break;
		memmove(f->segs, f->segs + 1, (f->nsegs - 1) * sizeof(*f->segs));
		f->nsegs--;
		pthread_mutex_unlock(&f->lock);
		char path[4200], bad[4300];
		seg_path(f, s.name, path, sizeof(path));
		if (f->rfd >= 0 && f->rseg == s.id) {
			close(f->rfd);
			f->rfd = -1;
		}
		snprintf(bad, sizeof(bad), "%s.bad", path);
		if (s.damaged ? rename(path, bad) != 0 : unlink(path) != 0)
			spool_problem(f, false, "spool segment %s: every message sent, but not %s: %s", path,
				      s.damaged ? "set aside" : "removed", strerror(errno));
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
}

/* Writes the progress (when it moved: at once when nothing is in flight,
 * when force, or when it moved a window's worth, else every
 * PROGRESS_EVERY_MS), then drops what it covers. What a restart sends
 * again is bounded so: the window in flight, and what moved since. */
static void save_progress(struct fcap_fleet *f, bool force)
{
	pthread_mutex_lock(&f->lock);
	uint64_t p = f->progress;
	bool idle = f->w_len == 0;
	pthread_mutex_unlock(&f->lock);
	bool due = idle || force || p - f->progress_saved >= WINDOW || mono_ms() - f->saved_at >= PROGRESS_EVERY_MS;
	if (p == f->progress_saved || !due)
		return;
	if (f->pfd < 0 || fcap_spool_progress_write(f->pfd, &f->pversion, p) < 0) {
		if (f->pfd >= 0)
			spool_problem(f, false, "spool file %s/%s: %s: progress not kept (sent again next run)", f->dir,
				      FCAP_SPOOL_PROGRESS, strerror(errno));
		return;
	}
	f->progress_saved = p;
	f->saved_at = mono_ms();
	drop_segments(f);
}

/* The segments' messages, in order, WINDOW in flight at most, until stopped. */
static void send_segments(struct fcap_fleet *f)
{
	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		collect(f);
		if (f->failed) {
			recover(f);
			continue;
		}
		if (f->progress != f->progress_saved) {
			pthread_mutex_unlock(&f->lock);
			save_progress(f, false);
			pthread_mutex_lock(&f->lock);
		}
		struct seg s;
		if (f->w_len < (f->probe ? 1u : WINDOW) && next_position(f, &s)) {
			pthread_mutex_unlock(&f->lock);
			send_next(f, &s);
			pthread_mutex_lock(&f->lock);
			continue;
		}
		pthread_mutex_unlock(&f->lock);
		drop_segments(f);   /* also those that held no message left to send */
		pthread_mutex_lock(&f->lock);
		if (!f->stop && !f->failed) {
			bool dirty = f->progress != f->progress_saved;
			struct timespec ts = fleet_deadline(dirty ? PROGRESS_EVERY_MS : f->w_len ? 500 : 3600000);
			pthread_cond_timedwait(&f->changed, &f->lock, &ts);
			check_unanswered(f);
		}
	}
	/* stopped: no answer may come once the fleet is freed */
	if (f->lib_pending > 0) {
		pthread_mutex_unlock(&f->lock);
		take_back(f);
		pthread_mutex_lock(&f->lock);
	}
	quiesce(f);
	collect(f);
	pthread_mutex_unlock(&f->lock);
}

static void *sender(void *arg)
{
	struct fcap_fleet *f = arg;
	if (send_msg_files(f) == 0)
		send_segments(f);
	return NULL;
}

/* ---- the interface ------------------------------------------------------- */

/* The earlier version's message files in dir, by name (nothing changed). */
static uint64_t count_msg_files(const char *dir)
{
	DIR *d = opendir(dir);
	uint64_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *nm = e->d_name;
		n += strlen(nm) == 24 && !strcmp(nm + 20, ".msg") && strspn(nm, "0123456789") == 20;
	}
	if (d)
		closedir(d);
	return n;
}

int fcap_fleet_spool_info(const char *dir, struct fcap_fleet_spool_info *info, char *errbuf)
{
	memset(info, 0, sizeof(*info));
	char why[128];
	uint64_t version;
	if (fcap_spool_progress_read(dir, &info->progress, &version, why, sizeof(why)) < 0)
		info->progress_damaged = true;
	size_t n;
	char **names = list_segs(dir, &n, errbuf);
	if (!names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		uint8_t *b = read_whole(path, &len);
		free(names[i]);
		if (!b)
			continue;   /* removed meanwhile: sent */
		struct fcap_spool_tally t;
		fcap_spool_tally(b, len, info->progress, NKINDS, &t, NULL, NULL);
		free(b);
		info->segments++;
		info->waiting += t.waiting;
		info->bytes += t.bytes;
		info->damaged += t.damaged;
	}
	free(names);
	info->old_files = count_msg_files(dir);
	return 0;
}

static int connect_js(const char *servers, const char *creds, const char *sensor, bool retry,
		      struct fleet_conn_err *cerr, jsOptions *jo, natsConnection **nc, jsCtx **js, char *errbuf)
{
	if (fleet_connect(servers, creds, sensor, retry, cerr, nc, errbuf) < 0)
		return -1;
	natsStatus s = natsConnection_JetStream(js, *nc, jo);
	if (s != NATS_OK) {
		char where[1024];
		fleet_redact(servers, where, sizeof(where));
		fcap_err(errbuf, "NATS %s: JetStream: %s", where, natsStatus_GetText(s));
		fleet_close(*nc, cerr);
		*nc = NULL;
		return -1;
	}
	return 0;
}

static void fleet_free(struct fcap_fleet *f)
{
	if (f->pfd >= 0)
		close(f->pfd);
	if (f->rfd >= 0)
		close(f->rfd);
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->wlock);
	pthread_cond_destroy(&f->changed);
	fleet_conn_err_destroy(&f->cerr);
	free(f->q);
	free(f->segs);
	free(f->wbuf);
	free(f->rbuf);
	free(f->dir);
	free(f);
}

static struct fcap_fleet *fleet_new(const struct fcap_fleet_config *cfg, char *errbuf)
{
	struct fcap_fleet *f = calloc(1, sizeof(*f));
	if (!f || !(f->dir = strdup(cfg->spool_dir))) {
		free(f);
		fcap_err(errbuf, "fleet: out of memory");
		return NULL;
	}
	strcpy(f->sensor, cfg->sensor);
	f->spool_max = cfg->spool_max_bytes ? cfg->spool_max_bytes : DEFAULT_SPOOL_MAX;
	f->seg_max = f->spool_max / 4 < SEG_MIN ? SEG_MIN : f->spool_max / 4 > SEG_MAX ? SEG_MAX : f->spool_max / 4;
	f->write_behind = cfg->write_behind;
	f->wfd = f->rfd = f->pfd = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->wlock, NULL);
	pthread_cond_init(&f->changed, NULL);
	fleet_conn_err_init(&f->cerr);
	return f;
}

struct fcap_fleet *fcap_fleet_open(const struct fcap_fleet_config *cfg, char *errbuf)
{
	if (!cfg->sensor || !fleet_valid_sensor(cfg->sensor)) {
		fcap_err(errbuf, "sensor id '%s': want 1 to %d of A-Z a-z 0-9 _ -", cfg->sensor ? cfg->sensor : "",
			 FCAP_FLEET_SENSOR_MAX);
		return NULL;
	}
	if (mkdir(cfg->spool_dir, 0700) != 0 && errno != EEXIST) {
		fcap_err(errbuf, "spool %s: %s", cfg->spool_dir, strerror(errno));
		return NULL;
	}
	struct fcap_fleet *f = fleet_new(cfg, errbuf);
	if (!f)
		return NULL;
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;   /* every answer, acknowledgement or failure */
	jo.PublishAsync.AckHandlerClosure = f;
	if (load_spool(f, errbuf) < 0 ||
	    connect_js(cfg->servers, cfg->creds, f->sensor, true, &f->cerr, &jo, &f->nc, &f->js, errbuf) < 0 ||
	    pthread_create(&f->sender, NULL, sender, f) != 0) {
		if (f->nc) {
			jsCtx_Destroy(f->js);
			fleet_close(f->nc, &f->cerr);
			fcap_err(errbuf, "fleet: cannot start the sender thread");
		}
		fleet_free(f);
		return NULL;
	}
	if (f->write_behind && pthread_create(&f->writer, NULL, writer, f) != 0)
		f->write_behind = false;   /* then every put writes its record itself */
	f->writer_started = f->write_behind;
	return f;
}

/* Under the lock: the next id, with "next" written ahead once per
 * NEXT_AHEAD ids, not per message: a restarted publisher starts after every
 * id this run could have used (ids skipped are harmless; a reused one
 * would be a duplicate). Under the lock, so that a larger value is never
 * overwritten by a smaller. 0 (errbuf) when "next" cannot be written. */
static uint64_t take_seq(struct fcap_fleet *f, char *errbuf)
{
	uint64_t seq = f->next_seq;
	if (seq + 1 > f->next_saved) {
		char next[4200], num[32];
		snprintf(next, sizeof(next), "%s/next", f->dir);
		int nl = snprintf(num, sizeof(num), "%" PRIu64 "\n", seq + NEXT_AHEAD);
		if (write_file(next, num, (size_t)nl, NULL, 0, true) < 0) {
			fcap_err(errbuf, "spool file %s: %s", next, strerror(errno));
			return 0;
		}
		f->next_saved = seq + NEXT_AHEAD;
	}
	f->next_seq++;
	return seq;
}

/* write_behind's put: the message queued for the writer (lock held, room checked). */
static void stage(struct fcap_fleet *f, struct staged *m, uint64_t seq, uint64_t bytes)
{
	m->seq = seq;
	if (f->sg_tail)
		f->sg_tail->next = m;
	else
		f->sg_head = m;
	f->sg_tail = m;
	f->staged++;
	f->staged_bytes += bytes;
	f->st.put++;
	pthread_cond_broadcast(&f->changed);
}

static int put_staged(struct fcap_fleet *f, int kind, const void *data, size_t len, char *errbuf)
{
	uint64_t bytes = FCAP_SPOOL_REC_HDR + len;
	struct staged *m = malloc(sizeof(*m) + len);
	if (!m)
		return fcap_err(errbuf, "fleet: out of memory");
	m->next = NULL;
	m->kind = kind;
	m->len = len;
	memcpy(m->data, data, len);
	pthread_mutex_lock(&f->lock);
	if (f->st.spool_bytes + f->staged_bytes + bytes > f->spool_max) {
		f->st.overflow++;
		pthread_mutex_unlock(&f->lock);
		free(m);
		return 1;
	}
	uint64_t seq = take_seq(f, errbuf);
	if (seq)
		stage(f, m, seq, bytes);
	pthread_mutex_unlock(&f->lock);
	if (!seq)
		free(m);
	return seq ? 0 : -1;
}

/* The put writes its record itself (wlock: records in sequence order). */
static int put_direct(struct fcap_fleet *f, int kind, const void *data, size_t len, char *errbuf)
{
	uint64_t bytes = FCAP_SPOOL_REC_HDR + len;
	pthread_mutex_lock(&f->wlock);
	pthread_mutex_lock(&f->lock);
	bool full = f->st.spool_bytes + f->staged_bytes + bytes > f->spool_max;
	f->st.overflow += full;
	uint64_t seq = full ? 0 : take_seq(f, errbuf);
	pthread_mutex_unlock(&f->lock);
	int rc = full ? 1 : !seq ? -1 : 0;
	if (rc == 0 && !wbuf_room(f, bytes))
		rc = fcap_err(errbuf, "fleet: out of memory");
	if (rc == 0) {
		fcap_spool_rec_encode(f->wbuf, seq, kind, data, (uint32_t)len);
		if (append_records(f, f->wbuf, bytes, seq, seq, 1, false) < 0)
			rc = fcap_err(errbuf, "spool %s: message %" PRIu64 " not written: %s", f->dir, seq,
				      strerror(errno));
	}
	pthread_mutex_unlock(&f->wlock);
	return rc;
}

int fcap_fleet_put(struct fcap_fleet *f, const char *kind, const void *data, size_t len, char *errbuf)
{
	int k = kind_index(kind);
	if (k < 0)
		return fcap_err(errbuf, "fleet: unknown message kind '%s'", kind);
	if (len > FCAP_SPOOL_REC_MAX) {
		pthread_mutex_lock(&f->lock);
		f->st.overflow++;   /* never fits a spool: as one too full */
		pthread_mutex_unlock(&f->lock);
		return 1;
	}
	return f->write_behind ? put_staged(f, k, data, len, errbuf) : put_direct(f, k, data, len, errbuf);
}

int fcap_fleet_drain(struct fcap_fleet *f, int64_t timeout_ms)
{
	struct timespec until = fleet_deadline(timeout_ms);
	pthread_mutex_lock(&f->lock);
	while ((f->st.spooled || f->staged) && pthread_cond_timedwait(&f->changed, &f->lock, &until) != ETIMEDOUT)
		;
	int rc = f->st.spooled || f->staged ? -1 : 0;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void fcap_fleet_stats(struct fcap_fleet *f, struct fcap_fleet_stats *st)
{
	pthread_mutex_lock(&f->lock);
	*st = f->st;
	st->spooled += f->staged;
	st->spool_bytes += f->staged_bytes;
	pthread_mutex_unlock(&f->lock);
	st->server_errors = fleet_conn_err_get(&f->cerr, st->last_error, sizeof(st->last_error));
}

void fcap_fleet_stop(struct fcap_fleet *f)
{
	if (f->stopped)
		return;
	f->stopped = true;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	f->writer_stop = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->sender, NULL);
	/* every staged message into the spool: nothing is lost at a normal stop */
	if (f->writer_started)
		pthread_join(f->writer, NULL);
	/* the last segment closed; the progress kept; what it covers removed */
	pthread_mutex_lock(&f->wlock);
	close_segment(f);
	pthread_mutex_unlock(&f->wlock);
	save_progress(f, true);
	drop_segments(f);
}

void fcap_fleet_close(struct fcap_fleet *f)
{
	if (!f)
		return;
	fcap_fleet_stop(f);
	jsCtx_Destroy(f->js);
	fleet_close(f->nc, &f->cerr);
	fleet_free(f);
}

int fcap_fleet_init_streams(const char *servers, const char *creds, int replicas, int64_t max_age_s, char *errbuf)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	if (connect_js(servers, creds, NULL, false, NULL, NULL, &nc, &js, errbuf) < 0)
		return -1;
	char where[1024];
	fleet_redact(servers, where, sizeof(where));   /* no password in a message */
	int rc = 0;
	for (int i = 0; i < NKINDS && rc == 0; i++) {
		char subject[64];
		snprintf(subject, sizeof(subject), "fcap.*.%s", kinds[i]);
		const char *subjects[] = { subject };
		jsStreamConfig sc;
		jsStreamConfig_Init(&sc);
		sc.Name = streams[i];
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = replicas;
		sc.MaxAge = max_age_s * 1000000000LL;
		sc.Duplicates = 120LL * 1000000000LL;   /* JetStream's dedup window: 2 minutes */
		jsStreamInfo *si = NULL;
		jsErrCode jerr = 0;
		natsStatus s = js_AddStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK && jerr == JSStreamNameExistErr)
			s = js_UpdateStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK)
			rc = fcap_err(errbuf, "stream %s on %s: %s (JetStream error %d)", streams[i], where,
				      natsStatus_GetText(s), (int)jerr);
		jsStreamInfo_Destroy(si);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return rc;
}

#define CATCHUP_MS 30000   /* fcap_fleet_read: the longest wait for a message still to come */

/* Messages the consumer has still to deliver (0 when its information
 * cannot be had: then idle time alone ends the read, as it may). */
static uint64_t consumer_pending(natsSubscription *sub)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) != NATS_OK)
		return 0;
	uint64_t n = ci->NumPending;
	jsConsumerInfo_Destroy(ci);
	return n;
}

long fcap_fleet_read(const char *servers, const char *creds, const char *kind, const char *sensor,
		     int64_t idle_ms, fcap_fleet_msg_fn fn, void *ctx, char *errbuf)
{
	if (kind_index(kind) < 0)
		return fcap_err(errbuf, "fleet: unknown message kind '%s'", kind);
	if (sensor && !fleet_valid_sensor(sensor))
		return fcap_err(errbuf, "sensor id '%s': want 1 to %d of A-Z a-z 0-9 _ -", sensor,
				FCAP_FLEET_SENSOR_MAX);
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	if (connect_js(servers, creds, NULL, false, NULL, NULL, &nc, &js, errbuf) < 0)
		return -1;
	char subject[96], where[1024];
	snprintf(subject, sizeof(subject), "fcap.%s.%s", sensor ? sensor : "*", kind);
	fleet_redact(servers, where, sizeof(where));   /* no password in a message */
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Ordered = true;   /* an ephemeral consumer from the first message, redelivery-free */
	so.Config.DeliverPolicy = js_DeliverAll;
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;
	/* Right after a node is lost, or the whole cluster restarted, the
	 * consumer's placement fails in several ways (time-out, no
	 * responders, JetStream not yet available) while the cluster elects
	 * its leaders: try again for up to about 15 s. */
	natsStatus s = NATS_TIMEOUT;
	for (int attempt = 0; attempt < 60; attempt++) {
		jerr = 0;
		s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr);
		if (s == NATS_OK)
			break;
		nats_Sleep(250);
	}
	long n = 0;
	if (s != NATS_OK) {
		n = fcap_err(errbuf, "subscribe %s on %s: %s (JetStream error %d)", subject, where,
			     natsStatus_GetText(s), (int)jerr);
	} else {
		/* Until the stream's messages so far are all read, silence is a
		 * slow cluster, not the end: wait up to CATCHUP_MS for each, and
		 * fail rather than stop short. Caught up, idle_ms of silence ends. */
		uint64_t pending = consumer_pending(sub);
		natsMsg *m = NULL;
		while ((s = natsSubscription_NextMsg(&m, sub, pending ? CATCHUP_MS : idle_ms)) == NATS_OK) {
			jsMsgMetaData *meta = NULL;
			if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
				pending = meta->NumPending;
				jsMsgMetaData_Destroy(meta);
			}
			const char *subj = natsMsg_GetSubject(m);   /* fcap.SENSOR.KIND */
			char who[FCAP_FLEET_SENSOR_MAX + 1] = "";
			const char *a = strchr(subj, '.'), *b = a ? strchr(a + 1, '.') : NULL;
			if (a && b && b - a - 1 <= FCAP_FLEET_SENSOR_MAX)
				memcpy(who, a + 1, (size_t)(b - a - 1));
			fn(ctx, who, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
			natsMsg_Destroy(m);
			n++;
		}
		if (s == NATS_TIMEOUT && pending)
			n = fcap_err(errbuf, "reading %s on %s: no message for %d s with %" PRIu64
				     " still to come after the %ld read", subject, where, CATCHUP_MS / 1000, pending, n);
		else if (s != NATS_TIMEOUT)
			n = fcap_err(errbuf, "reading %s on %s: %s", subject, where, natsStatus_GetText(s));
		natsSubscription_Destroy(sub);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return n;
}
