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
 *
 * The pieces: this file, the interface (fcap/fleet.h) and the helpers the
 * others share; fleet_legacy.c, the earlier spool; fleet_segments.c, loading
 * and appending segments; fleet_send.c, the sender; fleet_spool.c, the
 * records' and progress file's format (fcap/fleet_spool.h); what they share,
 * fleet_spool_int.h.
 */
#include "fcap/fleet.h"
#include "fleet_int.h"
#include "fleet_spool_int.h"
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
#define NEXT_AHEAD 65536        /* ids reserved in the "next" file at a time (two fsyncs each) */
#define SEG_MAX (4ull << 20)    /* a segment's size, or a quarter of the bound when smaller */

const char *const fleet_kinds[NKINDS] = { "alert", "flow", "stats" };
static const char *const streams[] = { "FCAP_ALERTS", "FCAP_FLOWS", "FCAP_STATS" };

/* ---- what the pieces share (fleet_spool_int.h) ---------------------------- */

int fleet_kind_index(const char *kind)
{
	for (int i = 0; i < NKINDS; i++)
		if (!strcmp(kind, fleet_kinds[i]))
			return i;
	return -1;
}

void fleet_seg_path(const struct fcap_fleet *f, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", f->dir, name);
}

/* A problem, for the stats: its text into dst (spool_error: what happened
 * to which file; publish_error: why the last attempt failed), and corrupt
 * counting a message or stretch of the spool set aside. */
void fleet_note_problem(struct fcap_fleet *f, char *dst, size_t n, bool corrupt, const char *fmt, ...)
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

bool fleet_write_all(int fd, const void *p, size_t n)
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
int fleet_write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen, bool durable)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	bool ok = fleet_write_all(fd, a, alen) && fleet_write_all(fd, b, blen);
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
void fleet_sleep_ms(struct fcap_fleet *f, int ms)
{
	struct timespec ts = fleet_deadline(ms);
	pthread_mutex_lock(&f->lock);
	while (!f->stop && pthread_cond_timedwait(&f->changed, &f->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&f->lock);
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
	char **names = fleet_list_segs(dir, &n, errbuf);
	if (!names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		uint8_t *b = fleet_read_whole(path, &len);
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
	jo.PublishAsync.AckHandler = fleet_on_ack;   /* every answer, acknowledgement or failure */
	jo.PublishAsync.AckHandlerClosure = f;
	if (fleet_load_spool(f, errbuf) < 0 ||
	    connect_js(cfg->servers, cfg->creds, f->sensor, true, &f->cerr, &jo, &f->nc, &f->js, errbuf) < 0 ||
	    pthread_create(&f->sender, NULL, fleet_sender, f) != 0) {
		if (f->nc) {
			jsCtx_Destroy(f->js);
			fleet_close(f->nc, &f->cerr);
			fcap_err(errbuf, "fleet: cannot start the sender thread");
		}
		fleet_free(f);
		return NULL;
	}
	if (f->write_behind && pthread_create(&f->writer, NULL, fleet_writer, f) != 0)
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
		if (fleet_write_file(next, num, (size_t)nl, NULL, 0, true) < 0) {
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
	if (rc == 0 && !fleet_wbuf_room(f, bytes))
		rc = fcap_err(errbuf, "fleet: out of memory");
	if (rc == 0) {
		fcap_spool_rec_encode(f->wbuf, seq, kind, data, (uint32_t)len);
		if (fleet_append_records(f, f->wbuf, bytes, seq, seq, 1, false) < 0)
			rc = fcap_err(errbuf, "spool %s: message %" PRIu64 " not written: %s", f->dir, seq,
				      strerror(errno));
	}
	pthread_mutex_unlock(&f->wlock);
	return rc;
}

int fcap_fleet_put(struct fcap_fleet *f, const char *kind, const void *data, size_t len, char *errbuf)
{
	int k = fleet_kind_index(kind);
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
	fleet_close_segment(f);
	pthread_mutex_unlock(&f->wlock);
	fleet_save_progress(f, true);
	fleet_drop_segments(f);
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
		snprintf(subject, sizeof(subject), "fcap.*.%s", fleet_kinds[i]);
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
	if (fleet_kind_index(kind) < 0)
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
