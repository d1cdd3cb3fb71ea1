/*
 * fleet_merge.c - one extract across sensors: send the request, collect
 * and check each sensor's chunked answer (fleet_chunk.h), merge the
 * packets in timestamp order into one pcapng with an interface block per
 * (sensor, port) (fcap/fleet_extract.h).
 *
 * Nothing in an answer is trusted: every frame, every pcapng block and
 * option is bounds-checked, the sequence must have no gap, and the counts
 * in the end marker must match what arrived.
 */
#include "fcap/fleet_extract.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "fleet_chunk.h"
#include "fleet_int.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_EPB 6u
#define BOM 0x1A2B3C4Du
#define OPT_IF_NAME 2u
#define OPT_IF_TSRESOL 9u
/* bytes from one sensor: block offsets are 32-bit, and the option walks
 * (o + 4 <= end, o up to 3 bytes past end) need headroom below 2^32 */
#define MAX_ANSWER (0xFFFFFFFFull - 16)

enum state { WAITING, DONE, FAILED };

struct idb {
	uint32_t off, len;            /* the block, in the answer */
	uint8_t tsresol;
	uint32_t name_off, name_len;  /* if_name's value, or len 0 */
};

struct answer {
	struct fcap_fleet_answer *pub;
	enum state state;
	uint32_t next_seq;
	uint8_t *buf;
	size_t len, cap;
	struct idb *idb;
	uint32_t nidb;
	uint32_t if_base;             /* its first interface id in the output */
	int64_t t0;
};

struct rec {
	uint64_t ts;                  /* ns */
	uint32_t sensor;
	uint32_t off, len;
	uint64_t ord;                 /* position in its answer */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(struct answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct answer *a, const char *fmt, ...)
{
	if (a->state == FAILED)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->pub->error, sizeof(a->pub->error), fmt, ap);
	va_end(ap);
	a->state = FAILED;
	a->pub->ok = false;
}

/* A sensor's own words, shown safely: printable ASCII, bounded. */
static void printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = 0;
}

/* ---- the frames ----------------------------------------------------------- */

static int append(struct answer *a, const uint8_t *p, size_t n)
{
	if (a->len + n > MAX_ANSWER)
		return -1;
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 1u << 20;
		while (cap < a->len + n)
			cap *= 2;
		uint8_t *b = realloc(a->buf, cap);
		if (!b)
			return -1;
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
	return 0;
}

static void take_end(struct answer *a, const uint8_t *p, size_t n, uint32_t seq)
{
	char text[200];
	unsigned long long packets, bytes, chunks;
	unsigned damaged;
	int used = -1;
	printable(p, n, text, sizeof(text));
	if (n >= sizeof(text) ||
	    sscanf(text, "packets=%llu bytes=%llu chunks=%llu damaged=%u%n", &packets, &bytes, &chunks, &damaged,
		   &used) != 4 || used != (int)n) {
		fail(a, "malformed end marker '%s'", text);
		return;
	}
	if (chunks != seq || bytes != a->len) {
		fail(a, "end marker says %llu chunks and %llu bytes, %" PRIu32 " chunks and %zu bytes arrived", chunks,
		     bytes, seq, a->len);
		return;
	}
	if (damaged) {
		fail(a, "its store skipped %u damaged blocks or records: the answer is incomplete", damaged);
		return;
	}
	a->pub->packets = packets;
	a->pub->bytes = bytes;
	a->pub->chunks = chunks;
	a->pub->ms = now_ms() - a->t0;
	a->state = DONE;
}

static void take_frame(struct answer *a, const uint8_t *p, size_t n)
{
	if (a->state != WAITING)
		return;
	if (n < FLEET_CHUNK_HDR || memcmp(p, FLEET_CHUNK_MAGIC, 4) || p[5] || p[6] || p[7]) {
		fail(a, "a reply of %zu bytes that is not an answer frame", n);
		return;
	}
	uint32_t seq = ld32(p + 8);
	if (seq != a->next_seq) {
		fail(a, "answer frame %" PRIu32 " where %" PRIu32 " was due (frames lost or two responders)", seq,
		     a->next_seq);
		return;
	}
	a->next_seq++;
	p += FLEET_CHUNK_HDR;
	n -= FLEET_CHUNK_HDR;
	char text[300];
	switch (p[-FLEET_CHUNK_HDR + 4]) {
	case FLEET_CHUNK_DATA:
		if (append(a, p, n) < 0)
			fail(a, "answer beyond %llu bytes or out of memory", (unsigned long long)MAX_ANSWER);
		break;
	case FLEET_CHUNK_END:
		take_end(a, p, n, seq);
		break;
	case FLEET_CHUNK_ERROR:
		printable(p, n, text, sizeof(text));
		fail(a, "%s", text);
		break;
	default:
		fail(a, "answer frame of unknown type 0x%02x", p[-FLEET_CHUNK_HDR + 4]);
	}
}

/* ---- the pcapng of an answer ----------------------------------------------- */

static int scan_idb(struct answer *a, uint32_t off, uint32_t len, char *why, size_t wn)
{
	if (len < 20) {
		snprintf(why, wn, "interface block of %" PRIu32 " bytes at %" PRIu32, len, off);
		return -1;
	}
	struct idb d = { .off = off, .len = len, .tsresol = 6 };
	uint32_t o = off + 16, end = off + len - 4;
	while (o + 4 <= end) {
		uint16_t code = ld16(a->buf + o), olen = ld16(a->buf + o + 2);
		if (code == 0)
			break;
		if ((uint32_t)olen > end - o - 4) {
			snprintf(why, wn, "interface block at %" PRIu32 ": option %u overruns it", off, code);
			return -1;
		}
		if (code == OPT_IF_TSRESOL && olen == 1)
			d.tsresol = a->buf[o + 4];
		if (code == OPT_IF_NAME && strlen(a->pub->sensor) + 1 + olen > 0xFFFF) {
			/* "SENSOR:NAME" must fit an option of its own */
			snprintf(why, wn, "interface block at %" PRIu32 ": a name of %u bytes", off, olen);
			return -1;
		}
		if (code == OPT_IF_NAME)
			d.name_off = o + 4, d.name_len = olen;
		o += 4 + ((olen + 3u) & ~3u);
	}
	struct idb *v = realloc(a->idb, (a->nidb + 1) * sizeof(*v));
	if (!v) {
		snprintf(why, wn, "out of memory");
		return -1;
	}
	a->idb = v;
	a->idb[a->nidb++] = d;
	return 0;
}

static bool ts_to_ns(uint64_t ts, uint8_t resol, uint64_t *ns)
{
	if (resol & 0x80) {
		unsigned shift = resol & 0x7f;
		if (shift > 63)
			return false;
		unsigned __int128 v = (unsigned __int128)ts * 1000000000u >> shift;
		*ns = (uint64_t)v;
		return v <= UINT64_MAX;
	}
	if (resol > 19)
		return false;
	uint64_t p = 1;
	for (unsigned i = resol < 9 ? resol : 9; i < (resol < 9 ? 9u : resol); i++)
		p *= 10;
	if (resol >= 9) {
		*ns = ts / p;
		return true;
	}
	if (ts > UINT64_MAX / p)
		return false;
	*ns = ts * p;
	return true;
}

static int scan_epb(struct answer *a, uint32_t s, uint32_t off, uint32_t len, struct rec **recs, size_t *nrec,
		    size_t *cap, char *why, size_t wn)
{
	if (len < 32) {
		snprintf(why, wn, "packet block of %" PRIu32 " bytes at %" PRIu32, len, off);
		return -1;
	}
	uint32_t ifid = ld32(a->buf + off + 8), caplen = ld32(a->buf + off + 20);
	uint64_t ts = (uint64_t)ld32(a->buf + off + 12) << 32 | ld32(a->buf + off + 16);
	if (ifid >= a->nidb) {
		snprintf(why, wn, "packet block at %" PRIu32 ": interface %" PRIu32 " of %" PRIu32, off, ifid, a->nidb);
		return -1;
	}
	if (caplen > len - 32) {
		snprintf(why, wn, "packet block at %" PRIu32 ": %" PRIu32 " captured bytes in %" PRIu32, off, caplen,
			 len);
		return -1;
	}
	uint64_t ns;
	if (!ts_to_ns(ts, a->idb[ifid].tsresol, &ns)) {
		snprintf(why, wn, "packet block at %" PRIu32 ": timestamp out of range", off);
		return -1;
	}
	if (*nrec == *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		struct rec *r = realloc(*recs, c * sizeof(*r));
		if (!r) {
			snprintf(why, wn, "out of memory");
			return -1;
		}
		*recs = r;
		*cap = c;
	}
	(*recs)[*nrec] = (struct rec){ ns, s, off, len, *nrec };
	(*nrec)++;
	return 0;
}

/* Checks the answer's pcapng block by block and adds its packets to recs. */
static int scan_answer(struct answer *a, uint32_t s, struct rec **recs, size_t *nrec, size_t *cap, char *why,
		       size_t wn)
{
	uint32_t off = 0, n = (uint32_t)a->len;
	uint64_t packets = 0;
	size_t before = *nrec;
	while (off < n) {
		if (n - off < 12) {
			snprintf(why, wn, "%" PRIu32 " stray bytes at the end", n - off);
			return -1;
		}
		uint32_t type = ld32(a->buf + off), len = ld32(a->buf + off + 4);
		if (len < 12 || len % 4 || len > n - off || ld32(a->buf + off + len - 4) != len) {
			snprintf(why, wn, "block at %" PRIu32 " of bad length %" PRIu32, off, len);
			return -1;
		}
		if (type == BT_SHB && (off != 0 || len < 28 || ld32(a->buf + 8) != BOM)) {
			snprintf(why, wn, "%s", off ? "a second section" : "not a little-endian pcapng section");
			return -1;
		}
		if (off == 0 && type != BT_SHB) {
			snprintf(why, wn, "does not start with a section header");
			return -1;
		}
		int rc = 0;
		if (type == BT_IDB)
			rc = scan_idb(a, off, len, why, wn);
		else if (type == BT_EPB)
			rc = scan_epb(a, s, off, len, recs, nrec, cap, why, wn), packets++;
		if (rc < 0)
			return -1;
		off += len;
	}
	if (a->len == 0) {
		snprintf(why, wn, "an empty answer");
		return -1;
	}
	for (size_t i = before; i < *nrec; i++)
		(*recs)[i].ord = i - before;
	if (packets != a->pub->packets) {
		snprintf(why, wn, "end marker says %" PRIu64 " packets, the answer holds %" PRIu64, a->pub->packets,
			 packets);
		return -1;
	}
	return 0;
}

/* ---- the output ----------------------------------------------------------- */

static int put(FILE *out, const void *p, size_t n, char *errbuf)
{
	if (n && fwrite(p, 1, n, out) != n)
		return fcap_err(errbuf, "writing the output failed");
	return 0;
}

static int write_shb(FILE *out, char *errbuf)
{
	static const char appl[] = "fcap fleet extract";   /* 18 bytes: 20 padded */
	uint8_t b[28 + 4 + 20 + 4];
	st32(b, BT_SHB);
	st32(b + 4, sizeof(b));
	st32(b + 8, BOM);
	st16(b + 12, 1);
	st16(b + 14, 0);
	st32(b + 16, 0xFFFFFFFFu);
	st32(b + 20, 0xFFFFFFFFu);
	st16(b + 24, 4);   /* shb_userappl */
	st16(b + 26, sizeof(appl) - 1);
	memset(b + 28, 0, 20);
	memcpy(b + 28, appl, sizeof(appl) - 1);
	st32(b + 48, 0);   /* opt_endofopt */
	st32(b + 52, sizeof(b));
	return put(out, b, sizeof(b), errbuf);
}

/* One sensor's interface block again, its if_name now "SENSOR:NAME". */
static int write_idb(FILE *out, const struct answer *a, const struct idb *d, uint32_t ifid, char *errbuf)
{
	char port[24];
	const char *orig = (const char *)a->buf + d->name_off;
	size_t ol = d->name_len;
	if (!ol) {
		ol = (size_t)snprintf(port, sizeof(port), "port%" PRIu32, ifid);
		orig = port;
	}
	size_t sl = strlen(a->pub->sensor), nl = sl + 1 + ol;
	if (nl > 0xFFFF)
		return fcap_err(errbuf, "sensor %s: interface %" PRIu32 ": its name with the sensor id exceeds 65535 bytes",
				a->pub->sensor, ifid);
	uint8_t *b = calloc(1, d->len + nl + 16);
	if (!b)
		return fcap_err(errbuf, "out of memory");
	memcpy(b, a->buf + d->off, 16);   /* type, length, link type, snap length */
	size_t o = 16;
	st16(b + o, OPT_IF_NAME);
	st16(b + o + 2, (uint16_t)nl);
	memcpy(b + o + 4, a->pub->sensor, sl);
	b[o + 4 + sl] = ':';
	memcpy(b + o + 5 + sl, orig, ol);
	o += 4 + ((nl + 3) & ~(size_t)3);
	uint32_t p = d->off + 16, end = d->off + d->len - 4;
	while (p + 4 <= end) {   /* bounds checked by scan_idb */
		uint16_t code = ld16(a->buf + p), olen = ld16(a->buf + p + 2);
		size_t whole = 4 + ((olen + 3u) & ~3u);
		if (code == 0)
			break;
		if (code != OPT_IF_NAME) {
			memcpy(b + o, a->buf + p, whole > end - p ? end - p : whole);
			o += whole;
		}
		p += (uint32_t)whole;
	}
	o += 4;   /* opt_endofopt: zeros */
	st32(b + 4, (uint32_t)(o + 4));
	st32(b + o, (uint32_t)(o + 4));
	int rc = put(out, b, o + 4, errbuf);
	free(b);
	return rc;
}

static int cmp_rec(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->sensor != b->sensor)
		return a->sensor < b->sensor ? -1 : 1;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static int write_epb(FILE *out, const struct answer *a, const struct rec *r, char *errbuf)
{
	uint8_t id[4];
	st32(id, a->if_base + ld32(a->buf + r->off + 8));
	if (put(out, a->buf + r->off, 8, errbuf) < 0 || put(out, id, 4, errbuf) < 0)
		return -1;
	return put(out, a->buf + r->off + 12, r->len - 12, errbuf);
}

static int write_merge(FILE *out, struct answer *ans, size_t n, struct rec *recs, size_t nrec,
		       struct fcap_fleet_extract_stats *st, char *errbuf)
{
	if (write_shb(out, errbuf) < 0)
		return -1;
	uint32_t ifid = 0;
	for (size_t s = 0; s < n; s++) {
		if (ans[s].state != DONE)
			continue;
		ans[s].if_base = ifid;
		for (uint32_t i = 0; i < ans[s].nidb; i++, ifid++)
			if (write_idb(out, &ans[s], &ans[s].idb[i], i, errbuf) < 0)
				return -1;
	}
	st->interfaces = ifid;
	if (nrec)
		qsort(recs, nrec, sizeof(*recs), cmp_rec);
	for (size_t i = 0; i < nrec; i++)
		if (write_epb(out, &ans[recs[i].sensor], &recs[i], errbuf) < 0)
			return -1;
	st->packets = nrec;
	if (fflush(out) != 0)
		return fcap_err(errbuf, "writing the output failed");
	return 0;
}

/* ---- the exchange --------------------------------------------------------- */

static int send_requests(natsConnection *nc, const char *inbox, struct answer *ans, size_t n, const char *request,
			 char *errbuf)
{
	for (size_t i = 0; i < n; i++) {
		char subject[96], reply[256];
		snprintf(subject, sizeof(subject), FLEET_EXTRACT_SUBJECT, ans[i].pub->sensor);
		snprintf(reply, sizeof(reply), "%s.%s", inbox, ans[i].pub->sensor);
		ans[i].t0 = now_ms();
		natsStatus s = natsConnection_PublishRequest(nc, subject, reply, request, (int)strlen(request));
		if (s != NATS_OK)
			return fcap_err(errbuf, "request to %s: %s", subject, natsStatus_GetText(s));
	}
	natsStatus s = natsConnection_FlushTimeout(nc, 5000);
	return s == NATS_OK ? 0 : fcap_err(errbuf, "sending the requests: %s", natsStatus_GetText(s));
}

static struct answer *route(struct answer *ans, size_t n, const char *inbox, const char *subject)
{
	size_t il = strlen(inbox);
	if (strncmp(subject, inbox, il) || subject[il] != '.')
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(subject + il + 1, ans[i].pub->sensor))
			return &ans[i];
	return NULL;
}

static size_t waiting(const struct answer *ans, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ans[i].state == WAITING;
	return k;
}

/* What the library's callback thread and the waiting caller share. */
struct gather {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct answer *ans;
	size_t n;
	char inbox[200];              /* the answers come to INBOX.SENSOR */
	bool closed;                  /* the caller is done: drop what comes */
};

static void on_answer(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
	(void)nc;
	(void)sub;
	struct gather *g = closure;
	pthread_mutex_lock(&g->lock);
	struct answer *a = g->closed ? NULL : route(g->ans, g->n, g->inbox, natsMsg_GetSubject(m));
	if (a && natsMsg_IsNoResponders(m))
		fail(a, "no responder on " FLEET_EXTRACT_SUBJECT " (is `fcap fleet serve --sensor %s` running?)",
		     a->pub->sensor, a->pub->sensor);
	else if (a)
		take_frame(a, (const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
	if (a)
		pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	natsMsg_Destroy(m);
}

static void wait_answers(struct gather *g, int64_t timeout_ms)
{
	struct timespec until = fleet_deadline(timeout_ms);
	pthread_mutex_lock(&g->lock);
	while (waiting(g->ans, g->n) && pthread_cond_timedwait(&g->changed, &g->lock, &until) != ETIMEDOUT)
		;
	g->closed = true;
	for (size_t i = 0; i < g->n; i++)
		if (g->ans[i].state == WAITING)
			fail(&g->ans[i], "no whole answer within the time-out (%" PRIu32 " frames, %zu bytes arrived)",
			     g->ans[i].next_seq, g->ans[i].len);
	pthread_mutex_unlock(&g->lock);
}

static int exchange(natsConnection *nc, struct answer *ans, size_t n, const char *request, int64_t timeout_ms,
		    char *errbuf)
{
	natsInbox *inbox = NULL;
	natsSubscription *sub = NULL;
	char wild[256];
	/* On the heap: if the subscription cannot be drained, a callback may
	 * still come after this returns, and then g is left to it (closed, so
	 * it touches nothing else). */
	struct gather *g = calloc(1, sizeof(*g));
	if (!g)
		return fcap_err(errbuf, "out of memory");
	g->ans = ans;
	g->n = n;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	natsStatus s = natsInbox_Create(&inbox);
	if (s == NATS_OK) {
		snprintf(g->inbox, sizeof(g->inbox), "%s", (const char *)inbox);
		snprintf(wild, sizeof(wild), "%s.*", g->inbox);
	}
	if (s == NATS_OK)
		s = natsConnection_Subscribe(&sub, nc, wild, on_answer, g);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(sub, -1, -1);
	int rc = s == NATS_OK ? 0 : fcap_err(errbuf, "subscribing to the answers: %s", natsStatus_GetText(s));
	if (rc == 0)
		rc = send_requests(nc, g->inbox, ans, n, request, errbuf);
	if (rc == 0)
		wait_answers(g, timeout_ms);
	bool drained = true;
	if (sub) {
		/* No callback may run once g is gone: drain and wait for it. */
		pthread_mutex_lock(&g->lock);
		g->closed = true;
		pthread_mutex_unlock(&g->lock);
		drained = natsSubscription_Drain(sub) == NATS_OK &&
			  natsSubscription_WaitForDrainCompletion(sub, 5000) == NATS_OK;
		natsSubscription_Destroy(sub);
	}
	natsInbox_Destroy(inbox);
	if (drained) {
		pthread_cond_destroy(&g->changed);
		pthread_mutex_destroy(&g->lock);
		free(g);
	}
	return rc;
}

static int check_sensors(const char *const *sensors, size_t n, char *errbuf)
{
	if (n == 0 || n > FCAP_FLEET_MAX_SENSORS)
		return fcap_err(errbuf, "%zu sensors: want 1 to %d", n, FCAP_FLEET_MAX_SENSORS);
	for (size_t i = 0; i < n; i++) {
		if (!fleet_valid_sensor(sensors[i]))
			return fcap_err(errbuf, "sensor id '%s': want 1 to %d of A-Z a-z 0-9 _ -", sensors[i],
					FCAP_FLEET_SENSOR_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(sensors[i], sensors[j]))
				return fcap_err(errbuf, "sensor '%s' named twice", sensors[i]);
	}
	return 0;
}

static int merge(FILE *out, struct answer *ans, size_t n, struct fcap_fleet_extract_stats *st, char *errbuf)
{
	struct rec *recs = NULL;
	size_t nrec = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		char why[256];
		size_t before = nrec;
		if (ans[i].state == DONE &&
		    scan_answer(&ans[i], (uint32_t)i, &recs, &nrec, &cap, why, sizeof(why)) < 0) {
			fail(&ans[i], "malformed answer: %s", why);
			nrec = before;
		}
	}
	int rc = write_merge(out, ans, n, recs, nrec, st, errbuf);
	free(recs);
	return rc;
}

int fcap_fleet_extract(const char *servers, const char *creds, const char *request, const char *const *sensors,
		       size_t nsensors, int64_t timeout_ms, FILE *out, struct fcap_fleet_answer *answers,
		       struct fcap_fleet_extract_stats *st, char *errbuf)
{
	memset(st, 0, sizeof(*st));
	struct fcap_query q;
	char *filter = NULL;
	if (check_sensors(sensors, nsensors, errbuf) < 0 ||
	    fcap_fleet_request_parse(request, strlen(request), &q, &filter, errbuf) < 0)
		return -1;
	free(filter);
	struct answer *ans = calloc(nsensors, sizeof(*ans));
	if (!ans)
		return fcap_err(errbuf, "out of memory");
	for (size_t i = 0; i < nsensors; i++) {
		memset(&answers[i], 0, sizeof(answers[i]));
		snprintf(answers[i].sensor, sizeof(answers[i].sensor), "%s", sensors[i]);
		ans[i].pub = &answers[i];
	}
	natsConnection *nc = NULL;
	int64_t t0 = now_ms();
	int rc = fleet_connect(servers, creds, NULL, false, NULL, &nc, errbuf);
	if (rc == 0)
		rc = exchange(nc, ans, nsensors, request, timeout_ms, errbuf);
	st->ms = now_ms() - t0;
	if (rc == 0)
		rc = merge(out, ans, nsensors, st, errbuf);
	int failed = 0;
	for (size_t i = 0; i < nsensors; i++) {
		answers[i].ok = ans[i].state == DONE;
		failed += !answers[i].ok;
		free(ans[i].buf);
		free(ans[i].idb);
	}
	free(ans);
	natsConnection_Destroy(nc);
	return rc < 0 ? -1 : failed;
}
