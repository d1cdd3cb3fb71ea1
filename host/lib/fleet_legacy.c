/*
 * fleet_legacy.c - the spool of an earlier fcap: one file per message
 * (%020llu.msg, its kind on the first line). Such files are queued at open
 * and sent first, one synchronous publish at a time, as that version did;
 * then the sender (fleet_send.c) turns to the segments. Kept apart from
 * the segments' code: nothing writes this format any more, it is only read.
 */
#include "fcap/fleet.h"
#include "fleet_spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>

/* ---- an earlier version's spool: one file per message ---------------- */

static void msg_path(const struct fcap_fleet *f, uint64_t seq, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%020" PRIu64 ".msg", f->dir, seq);
}

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

/* A file a crash cut short (never renamed, never a message): removed.
 * Every *.tmp here is ours (fleet_write_file: next, NNN.msg, NNN.msg.bad). */
static bool remove_if_tmp(struct fcap_fleet *f, const char *nm, const char *path)
{
	size_t l = strlen(nm);
	if (!(l > 4 && !strcmp(nm + l - 4, ".tmp")))
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
int fleet_load_msg_files(struct fcap_fleet *f, char *errbuf)
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
	if (!nl || fleet_kind_index(buf) < 0) {
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
int fleet_send_msg_files(struct fcap_fleet *f)
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
			fleet_sleep_ms(f, RETRY_PAUSE_MS);
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
