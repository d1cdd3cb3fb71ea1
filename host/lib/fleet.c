/*
 * fleet.c - a sensor's spool and its sender to NATS JetStream (fcap/fleet.h).
 *
 * The spool is a directory: one file per message, named by its sequence
 * number (%020llu.msg, so that names sort in order), holding the kind, a
 * newline, and the message. A file is written under a temporary name and
 * renamed, so a crash leaves whole messages or none. The sequence numbers
 * are reserved ahead, NEXT_AHEAD at a time, in the file "next" (made
 * durable, file and directory fsynced, as a power loss must not take it
 * back), so that ids are never reused (a reused id would be dropped by
 * JetStream as a duplicate) without a second file write per message.
 *
 * One sender thread publishes the oldest spooled message, waits for its
 * acknowledgement, removes the file, and goes on: messages reach a stream in
 * the order they were put. A failed publish (cluster away, no quorum,
 * timeout) is retried with the same id after a pause.
 */
#include "fcap/fleet.h"
#include "fleet_int.h"

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
#define NEXT_AHEAD 1024         /* ids reserved in the "next" file at a time */
#define SEQ_LIMIT (1ull << 62)  /* a sequence number read from the spool beyond it is damage */

static const char *const kinds[] = { "alert", "flow", "stats" };
static const char *const streams[] = { "FCAP_ALERTS", "FCAP_FLOWS", "FCAP_STATS" };
#define NKINDS 3

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

struct fcap_fleet {
	char sensor[FCAP_FLEET_SENSOR_MAX + 1];
	char *dir;
	uint64_t spool_max;
	uint64_t next_seq;
	uint64_t next_saved;     /* the "next" file says this: ids below it may be in use */
	natsConnection *nc;
	jsCtx *js;
	pthread_t sender;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	struct spooled *q;       /* ring of spooled messages, oldest at head */
	size_t q_cap, q_head, q_len;
	/* write_behind: messages not yet in a file, oldest first, and their writer */
	bool write_behind, writer_started, writer_stop, stopped;
	pthread_t writer;
	struct staged *sg_head, *sg_tail;
	uint64_t staged, staged_bytes;
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

/* A problem, for the stats: its text into dst (spool_error: what happened
 * to which file; publish_error: why the last attempt failed), and corrupt
 * counting a spool file set aside. */
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

/* Re-queues the messages an earlier run left, in order, and reads "next". */
static int load_spool(struct fcap_fleet *f, char *errbuf)
{
	DIR *d = opendir(f->dir);
	if (!d)
		return fcap_err(errbuf, "spool %s: %s", f->dir, strerror(errno));
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *nm = e->d_name;
		size_t l = strlen(nm);
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", f->dir, nm);
		if ((l > 8 && !strcmp(nm + l - 8, ".msg.tmp")) || !strcmp(nm, "next.tmp")) {
			/* a file write a crash cut short: never renamed, never a message */
			if (unlink(path) == 0)
				spool_problem(f, false, "spool file %s: a write cut short by a crash: removed", path);
			else
				spool_problem(f, false, "spool file %s: a write cut short by a crash: %s", path,
					      strerror(errno));
			continue;
		}
		/* ours: %020llu.msg exactly (others are left alone) */
		if (l != 24 || strcmp(nm + 20, ".msg") != 0 || strspn(nm, "0123456789") != 20)
			continue;
		errno = 0;
		unsigned long long seq = strtoull(nm, NULL, 10);
		if (errno || seq >= SEQ_LIMIT) {
			set_aside(f, path, "sequence number out of range");
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uint64_t *s = realloc(seqs, cap * sizeof(*s));
			if (!s) {
				free(seqs);
				closedir(d);
				return fcap_err(errbuf, "spool %s: out of memory", f->dir);
			}
			seqs = s;
		}
		seqs[n++] = seq;
	}
	closedir(d);
	if (n)
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
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
	char path[4096];
	snprintf(path, sizeof(path), "%s/next", f->dir);
	FILE *fp = fopen(path, "r");
	if (fp) {
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
	} else if (errno != ENOENT) {
		spool_problem(f, false, "spool file %s: %s: ids go on after the spooled messages", path,
			      strerror(errno));
	}
	if (f->next_seq == 0)
		f->next_seq = 1;
	return 0;
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

/* -1 with errno (the first failure's) when the file could not be made. */
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
 * a power loss must not take back. */
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

/* Publishes one spooled message: 0 when JetStream acknowledged it, 1 when
 * there is nothing to send (gone, or set aside), -1 to try again later. */
static int publish_one(struct fcap_fleet *f, uint64_t seq)
{
	char path[4096];
	msg_path(f, seq, path, sizeof(path));
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (errno == ENOENT)
			return 1;   /* gone: nothing to send */
		spool_problem(f, false, "spool file %s: %s: not sent (left for the next run)", path, strerror(errno));
		return 1;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0;
	bool short_of_memory = false;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			char *b = realloc(buf, cap);
			if (!b) {
				short_of_memory = true;
				break;
			}
			buf = b;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	bool read_error = ferror(fp);
	int read_errno = errno;
	fclose(fp);
	if (short_of_memory || read_error) {
		/* never a part of it: the whole message, later */
		publish_problem(f, "reading spool file %s: %s", path,
				short_of_memory ? "out of memory" : strerror(read_errno));
		free(buf);
		return -1;
	}
	char *nl = buf ? memchr(buf, '\n', len) : NULL;
	if (nl)
		*nl = 0;
	if (!nl || kind_index(buf) < 0) {
		set_aside(f, path, !len ? "empty" : !nl ? "no kind line" : "not a kind of message (alert, flow, stats)");
		free(buf);
		return 1;
	}
	int rc = -1;
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

static void *sender(void *arg)
{
	struct fcap_fleet *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		while (!f->stop && f->q_len == 0)
			pthread_cond_wait(&f->changed, &f->lock);
		if (f->stop) {
			pthread_mutex_unlock(&f->lock);
			return NULL;
		}
		struct spooled head = f->q[f->q_head];
		pthread_mutex_unlock(&f->lock);
		if (publish_one(f, head.seq) < 0) {
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

/* write_behind: the staged messages into their files, in order, then to
 * the sender's queue. Stops when asked and nothing is left to write. */
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
		f->sg_head = m->next;
		if (!f->sg_head)
			f->sg_tail = NULL;
		pthread_mutex_unlock(&f->lock);
		char head[16], path[4096];
		int hl = snprintf(head, sizeof(head), "%s\n", kinds[m->kind]);
		uint64_t bytes = (uint64_t)hl + m->len;
		msg_path(f, m->seq, path, sizeof(path));
		int rc = write_file(path, head, (size_t)hl, m->data, m->len, false);
		if (rc < 0)
			spool_problem(f, false, "spool file %s: %s: message lost", path, strerror(errno));
		pthread_mutex_lock(&f->lock);
		f->staged--;
		f->staged_bytes -= bytes;
		bool unqueued = rc == 0 && queue_push(f, m->seq, bytes) < 0;
		if (rc < 0 || unqueued)
			f->st.write_errors++;
		pthread_cond_broadcast(&f->changed);
		free(m);
		if (unqueued) {
			pthread_mutex_unlock(&f->lock);
			spool_problem(f, false, "spool file %s: out of memory: not sent (left for the next run)", path);
			pthread_mutex_lock(&f->lock);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static int connect_js(const char *servers, const char *creds, const char *sensor, bool retry,
		      struct fleet_conn_err *cerr, natsConnection **nc, jsCtx **js, char *errbuf)
{
	if (fleet_connect(servers, creds, sensor, retry, cerr, nc, errbuf) < 0)
		return -1;
	natsStatus s = natsConnection_JetStream(js, *nc, NULL);
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
	struct fcap_fleet *f = calloc(1, sizeof(*f));
	if (!f || !(f->dir = strdup(cfg->spool_dir))) {
		free(f);
		fcap_err(errbuf, "fleet: out of memory");
		return NULL;
	}
	strcpy(f->sensor, cfg->sensor);
	f->spool_max = cfg->spool_max_bytes ? cfg->spool_max_bytes : DEFAULT_SPOOL_MAX;
	f->write_behind = cfg->write_behind;
	pthread_mutex_init(&f->lock, NULL);
	fleet_conn_err_init(&f->cerr);
	pthread_cond_init(&f->changed, NULL);
	if (load_spool(f, errbuf) < 0 ||
	    connect_js(cfg->servers, cfg->creds, f->sensor, true, &f->cerr, &f->nc, &f->js, errbuf) < 0 ||
	    pthread_create(&f->sender, NULL, sender, f) != 0) {
		if (f->nc) {
			jsCtx_Destroy(f->js);
			fleet_close(f->nc, &f->cerr);
			fcap_err(errbuf, "fleet: cannot start the sender thread");
		}
		fleet_conn_err_destroy(&f->cerr);
		free(f->q);
		free(f->dir);
		free(f);
		return NULL;
	}
	if (f->write_behind && pthread_create(&f->writer, NULL, writer, f) != 0)
		f->write_behind = false;   /* then every put writes its file itself */
	f->writer_started = f->write_behind;
	return f;
}

int fcap_fleet_put(struct fcap_fleet *f, const char *kind, const void *data, size_t len, char *errbuf)
{
	if (kind_index(kind) < 0)
		return fcap_err(errbuf, "fleet: unknown message kind '%s'", kind);
	char head[16];
	int hl = snprintf(head, sizeof(head), "%s\n", kind);
	uint64_t bytes = (uint64_t)hl + len;
	struct staged *m = NULL;
	if (f->write_behind) {
		if (!(m = malloc(sizeof(*m) + len)))
			return fcap_err(errbuf, "fleet: out of memory");
		m->next = NULL;
		m->kind = kind_index(kind);
		m->len = len;
		memcpy(m->data, data, len);
	}
	pthread_mutex_lock(&f->lock);
	if (f->st.spool_bytes + f->staged_bytes + bytes > f->spool_max) {
		f->st.overflow++;
		pthread_mutex_unlock(&f->lock);
		free(m);
		return 1;
	}
	uint64_t seq = f->next_seq++;
	/* "next" is written ahead, once per NEXT_AHEAD ids, not per message: a
	 * restarted publisher starts after every id this run could have used
	 * (ids skipped are harmless; a reused one would be a duplicate). */
	if (seq + 1 > f->next_saved) {
		/* under the lock, so that a larger value is never overwritten by a smaller */
		char next[4200], num[32];
		snprintf(next, sizeof(next), "%s/next", f->dir);
		int nl = snprintf(num, sizeof(num), "%" PRIu64 "\n", seq + NEXT_AHEAD);
		if (write_file(next, num, (size_t)nl, NULL, 0, true) < 0) {
			int err = errno;
			f->next_seq--;
			pthread_mutex_unlock(&f->lock);
			free(m);
			return fcap_err(errbuf, "spool file %s: %s", next, strerror(err));
		}
		f->next_saved = seq + NEXT_AHEAD;
	}
	if (m) {
		/* the writer thread makes the file: the caller waits for memory only */
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
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	pthread_mutex_unlock(&f->lock);
	char path[4096];
	msg_path(f, seq, path, sizeof(path));
	if (write_file(path, head, (size_t)hl, data, len, false) < 0)
		return fcap_err(errbuf, "spool file %s: %s", path, strerror(errno));
	pthread_mutex_lock(&f->lock);
	int rc = queue_push(f, seq, bytes);
	f->st.put++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	return rc < 0 ? fcap_err(errbuf, "fleet: out of memory") : 0;
}

int fcap_fleet_drain(struct fcap_fleet *f, int64_t timeout_ms)
{
	struct timespec until = fleet_deadline(timeout_ms);
	pthread_mutex_lock(&f->lock);
	while ((f->q_len || f->staged) && pthread_cond_timedwait(&f->changed, &f->lock, &until) != ETIMEDOUT)
		;
	int rc = f->q_len || f->staged ? -1 : 0;
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
	/* every staged message into its file: nothing is lost at a normal stop */
	if (f->writer_started)
		pthread_join(f->writer, NULL);
}

void fcap_fleet_close(struct fcap_fleet *f)
{
	if (!f)
		return;
	fcap_fleet_stop(f);
	jsCtx_Destroy(f->js);
	fleet_close(f->nc, &f->cerr);
	pthread_mutex_destroy(&f->lock);
	fleet_conn_err_destroy(&f->cerr);
	pthread_cond_destroy(&f->changed);
	free(f->q);
	free(f->dir);
	free(f);
}

int fcap_fleet_init_streams(const char *servers, const char *creds, int replicas, int64_t max_age_s, char *errbuf)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	if (connect_js(servers, creds, NULL, false, NULL, &nc, &js, errbuf) < 0)
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
	if (connect_js(servers, creds, NULL, false, NULL, &nc, &js, errbuf) < 0)
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
