/*
 * fleet_send.c - the sender thread (design: fleet.c). It reads the segments
 * in order and publishes asynchronously, WINDOW messages at most waiting
 * for their answer; advances the progress over the acknowledged prefix,
 * writes it to "acked" and removes the segments it covers; after a failed
 * publish, goes again from the first message not acknowledged. A file of
 * its own: it is the part that runs on its own thread, beside the puts.
 */
#include "fcap/fleet.h"
#include "fleet_spool_int.h"
#include "fcap/fleet_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#define QUIESCE_MS (PUBLISH_WAIT_MS + 1000)  /* the longest wait for the answers in flight */
#define PROGRESS_EVERY_MS 10

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
void fleet_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
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
		fleet_seg_path(f, s->name, path, sizeof(path));
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
	int hl = snprintf(head, sizeof(head), "%s\n", fleet_kinds[r->kind]);
	bool kept = fleet_write_file(path, head, (size_t)hl, r->data, r->len, false) == 0;
	spool_problem(f, true, "spool message %" PRIu64 " (segment %s/%s at %zu): %s: set aside%s%s", r->seq, f->dir,
		      s->name, off, why, kept ? " as " : " (not kept: cannot write ", kept ? path : strerror(errno));
}

/* Publishes a record; its answer comes to fleet_on_ack. */
static void publish_rec(struct fcap_fleet *f, const struct seg *s, size_t off, const struct fcap_spool_rec *r)
{
	char subject[128], id[80];
	snprintf(subject, sizeof(subject), "fcap.%s.%s", f->sensor, fleet_kinds[r->kind]);
	snprintf(id, sizeof(id), "%s-%" PRIu64, f->sensor, r->seq);
	pthread_mutex_lock(&f->lock);
	window_push(f, r->seq, FCAP_SPOOL_REC_HDR + r->len, off, SENT);
	f->lib_pending++;
	pthread_mutex_unlock(&f->lock);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = PUBLISH_WAIT_MS;   /* no answer by then: fleet_on_ack is told of a time-out */
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
		fleet_seg_damage(f, s->name, off, s->size, strerror(errno));
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
			fleet_seg_damage(f, s->name, off, f->cur_off, why);
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
	fleet_sleep_ms(f, RETRY_PAUSE_MS);
	pthread_mutex_lock(&f->lock);
}

/* Removes (or sets aside, if damaged) the segments the sender is past and
 * whose messages the saved progress covers. */
void fleet_drop_segments(struct fcap_fleet *f)
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
		fleet_seg_path(f, s.name, path, sizeof(path));
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
void fleet_save_progress(struct fcap_fleet *f, bool force)
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
	fleet_drop_segments(f);
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
			fleet_save_progress(f, false);
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
		fleet_drop_segments(f);   /* also those that held no message left to send */
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

void *fleet_sender(void *arg)
{
	struct fcap_fleet *f = arg;
	if (fleet_send_msg_files(f) == 0)
		send_segments(f);
	return NULL;
}
