/*
 * fleet_serve.c - a sensor answering the fleet's extract requests from its
 * own store (fcap/fleet_extract.h; the frame: fleet_chunk.h).
 */
#include "fcap/fleet_extract.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcap/alert_file.h"
#include "fcap/extract_evidence.h"

#include "bytes.h"
#include "fleet_chunk.h"
#include "fleet_int.h"

/* ---- the request ---------------------------------------------------------- */

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;
	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

static bool valid_alert_id(const char *v)
{
	size_t n = strlen(v);
	return n >= 1 && n <= FCAP_FLEET_ALERT_MAX &&
	       strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == n;
}

static int request_line(char *line, struct fcap_query *q, char **filter, char *alert, char *errbuf)
{
	char *v = strchr(line, ' ');
	if (!v)
		return fcap_err(errbuf, "request line '%.40s': want KEY VALUE", line);
	*v++ = 0;
	uint64_t n;
	if (!strcmp(line, "from") || !strcmp(line, "to")) {
		if (parse_u64(v, &n) < 0)
			return fcap_err(errbuf, "request: %s '%.40s': want nanoseconds", line, v);
		if (line[0] == 'f')
			q->has_from = true, q->from_ns = n;
		else
			q->has_to = true, q->to_ns = n;
	} else if (!strcmp(line, "host")) {
		if (q->nhosts == FCAP_QUERY_MAX_TERMS)
			return fcap_err(errbuf, "request: at most %d hosts", FCAP_QUERY_MAX_TERMS);
		if (fcap_host_parse(v, &q->hosts[q->nhosts], errbuf) < 0)
			return -1;
		q->nhosts++;
	} else if (!strcmp(line, "port")) {
		if (q->nports == FCAP_QUERY_MAX_TERMS)
			return fcap_err(errbuf, "request: at most %d ports", FCAP_QUERY_MAX_TERMS);
		if (parse_u64(v, &n) < 0 || n > 65535)
			return fcap_err(errbuf, "request: port '%.40s': want 0..65535", v);
		q->ports[q->nports++] = (uint16_t)n;
	} else if (!strcmp(line, "flow")) {
		if (fcap_flow_parse(v, &q->flow, errbuf) < 0)
			return -1;
		q->has_flow = true;
	} else if (!strcmp(line, "count")) {
		if (parse_u64(v, &q->count) < 0 || q->count == 0)
			return fcap_err(errbuf, "request: count '%.40s': want a number above 0", v);
	} else if (!strcmp(line, "alert")) {
		if (*alert)
			return fcap_err(errbuf, "request: more than one alert");
		if (!valid_alert_id(v))
			return fcap_err(errbuf, "request: alert '%.40s': want 1 to %d of A-Z a-z 0-9 _ -", v,
					FCAP_FLEET_ALERT_MAX);
		strcpy(alert, v);
	} else if (!strcmp(line, "filter")) {
		if (*filter)
			return fcap_err(errbuf, "request: more than one filter");
		if (fcap_filter_check(v, errbuf) < 0)
			return -1;
		if (!(*filter = strdup(v)))
			return fcap_err(errbuf, "request: out of memory");
		q->filter = *filter;
	} else {
		return fcap_err(errbuf, "request: unknown key '%.40s'", line);
	}
	return 0;
}

int fcap_fleet_request_parse(const char *text, size_t len, struct fcap_query *q, char **filter, char *errbuf)
{
	char alert[FCAP_FLEET_ALERT_MAX + 1];
	return fcap_fleet_request_parse_alert(text, len, q, filter, alert, errbuf);
}

int fcap_fleet_request_parse_alert(const char *text, size_t len, struct fcap_query *q, char **filter, char *alert,
				   char *errbuf)
{
	memset(q, 0, sizeof(*q));
	alert[0] = 0;
	q->format = FCAP_OUT_PCAPNG;
	*filter = NULL;
	if (len > FCAP_FLEET_REQUEST_MAX)
		return fcap_err(errbuf, "request of %zu bytes: at most %d", len, FCAP_FLEET_REQUEST_MAX);
	if (memchr(text, 0, len))
		return fcap_err(errbuf, "request: a NUL byte in the text");
	char *copy = malloc(len + 1);
	if (!copy)
		return fcap_err(errbuf, "request: out of memory");
	memcpy(copy, text, len);
	copy[len] = 0;
	int rc = 0;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save))
		rc = request_line(l, q, filter, alert, errbuf);
	free(copy);
	if (rc == 0 && q->has_from && q->has_to && q->to_ns <= q->from_ns)
		rc = fcap_err(errbuf, "request: to must be after from (the range is [from, to))");
	if (rc == 0 && *alert &&
	    (q->has_from || q->has_to || q->nhosts || q->nports || q->has_flow || q->count || q->filter))
		rc = fcap_err(errbuf, "request: an alert takes no other condition (its evidence is its packets)");
	if (rc < 0) {
		free(*filter);
		*filter = NULL;
		q->filter = NULL;
		alert[0] = 0;
	}
	return rc;
}

/* ---- answering ------------------------------------------------------------ */

struct server {
	const struct fcap_fleet_serve_config *cfg;
	natsConnection *nc;
	struct fleet_conn_err cerr;
	size_t chunk_max;
	uint8_t *buf;                 /* FLEET_CHUNK_HDR + chunk_max */
	char *store_abs;              /* the store's real path (alert evidence must be in it) */
};

static void logf_(const struct server *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct server *sv, const char *fmt, ...)
{
	if (!sv->cfg->log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sv->cfg->log(sv->cfg->log_ctx, line);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static natsStatus send_frame(struct server *sv, const char *reply, char type, uint32_t seq, const void *p, size_t n)
{
	memcpy(sv->buf, FLEET_CHUNK_MAGIC, 4);
	sv->buf[4] = (uint8_t)type;
	sv->buf[5] = sv->buf[6] = sv->buf[7] = 0;
	st32(sv->buf + 8, seq);
	if (p != sv->buf + FLEET_CHUNK_HDR && n)
		memcpy(sv->buf + FLEET_CHUNK_HDR, p, n);
	return natsConnection_Publish(sv->nc, reply, sv->buf, (int)(FLEET_CHUNK_HDR + n));
}

static void send_error(struct server *sv, const char *reply, uint32_t seq, const char *why)
{
	size_t n = strlen(why);
	if (n > sv->chunk_max)
		n = sv->chunk_max;
	send_frame(sv, reply, FLEET_CHUNK_ERROR, seq, why, n);
	natsConnection_FlushTimeout(sv->nc, 5000);
	logf_(sv, "sensor %s: request refused: %s", sv->cfg->sensor, why);
}

static void log_store(void *ctx, const char *line)
{
	const struct server *sv = ctx;
	logf_(sv, "sensor %s: store %s: %s", sv->cfg->sensor, sv->cfg->store, line);
}

/* Streams the extract in tmp to reply; the end marker carries the counts.
 * A failure half-way is still told to the client (an error frame next in
 * the sequence), when the connection allows. */
static int stream_answer(struct server *sv, const char *reply, FILE *tmp, const struct fcap_extract_stats *st,
			 char *errbuf)
{
	uint32_t seq = 0;
	uint64_t bytes = 0;
	size_t got;
	rewind(tmp);
	while ((got = fread(sv->buf + FLEET_CHUNK_HDR, 1, sv->chunk_max, tmp)) > 0) {
		natsStatus s = send_frame(sv, reply, FLEET_CHUNK_DATA, seq, sv->buf + FLEET_CHUNK_HDR, got);
		if (s != NATS_OK) {
			fcap_err(errbuf, "sending chunk %" PRIu32 ": %s", seq, natsStatus_GetText(s));
			send_error(sv, reply, seq, errbuf);
			return -1;
		}
		seq++;
		bytes += got;
	}
	if (ferror(tmp)) {
		fcap_err(errbuf, "reading the extract back from its temporary file: %s", strerror(errno));
		send_error(sv, reply, seq, errbuf);
		return -1;
	}
	char end[160];
	int n = snprintf(end, sizeof(end), "packets=%" PRIu64 " bytes=%" PRIu64 " chunks=%" PRIu32 " damaged=%u",
			 st->matched, bytes, seq, st->damaged);
	natsStatus s = send_frame(sv, reply, FLEET_CHUNK_END, seq, end, (size_t)n);
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(sv->nc, 10000);
	if (s != NATS_OK)
		return fcap_err(errbuf, "sending the end marker: %s", natsStatus_GetText(s));
	logf_(sv, "sensor %s: answered: %s", sv->cfg->sensor, end);
	return 0;
}

/* The chunk size: the server's maximum payload (as it says now) bounds it. */
static void set_chunk_max(struct server *sv)
{
	int64_t max = natsConnection_GetMaxPayload(sv->nc);
	sv->chunk_max = FLEET_CHUNK_MAX;
	if (max > FLEET_CHUNK_HDR + 256 && max - FLEET_CHUNK_HDR < FLEET_CHUNK_MAX)
		sv->chunk_max = (size_t)(max - FLEET_CHUNK_HDR);
}

/* An alert's evidence (fcap extract --alert): the alert looked up in the
 * sensor's EVE file (read again at each request: the capture appends to
 * it), its packets copied out of the store segment that holds them. The
 * evidence must lie in this sensor's store: a request never reaches any
 * other file. */
static int alert_evidence(struct server *sv, const char *id, FILE *out, struct fcap_extract_stats *st, char *errbuf)
{
	memset(st, 0, sizeof(*st));
	if (!sv->cfg->alerts)
		return fcap_err(errbuf, "this sensor serves no alerts (fcap fleet serve --alerts EVE)");
	struct fcap_alert_file af;
	if (fcap_alert_file_load(&af, sv->cfg->alerts, errbuf) < 0)
		return -1;
	int rc = 0;
	const struct fcap_alert_rec *a = fcap_alert_file_find(&af, id);
	char *path = a ? realpath(a->path, NULL) : NULL;
	size_t sl = sv->store_abs ? strlen(sv->store_abs) : 0;
	if (!a)
		rc = fcap_err(errbuf, "no alert with id %s in %s (%zu alerts)", id, sv->cfg->alerts, af.n);
	else if (!path)
		rc = fcap_err(errbuf, "evidence %s: %s", a->path, strerror(errno));
	else if (!sl || strncmp(path, sv->store_abs, sl) != 0 || path[sl] != '/')
		rc = fcap_err(errbuf, "evidence %s is not in this sensor's store %s", a->path, sv->cfg->store);
	else
		rc = fcap_extract_evidence(path, a->num, a->off, a->nev, out, &st->bytes, errbuf);
	if (rc == 0) {
		st->matched = a->nev;
		logf_(sv, "sensor %s: alert %s: %zu packets from %s%s", sv->cfg->sensor, id, a->nev, path,
		      a->truncated ? " (evidence truncated: the alert counted more)" : "");
	}
	free(path);
	fcap_alert_file_free(&af);
	return rc;
}

static void serve_one(struct server *sv, natsMsg *m)
{
	set_chunk_max(sv);
	const char *reply = natsMsg_GetReply(m);
	if (!reply || !*reply) {
		logf_(sv, "sensor %s: a request without a reply subject: ignored", sv->cfg->sensor);
		return;
	}
	char err[FCAP_ERRBUF_SIZE], why[FCAP_ERRBUF_SIZE + 128];
	struct fcap_query q;
	char *filter = NULL, alert[FCAP_FLEET_ALERT_MAX + 1];
	if (fcap_fleet_request_parse_alert(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &q, &filter, alert,
					   err) < 0) {
		snprintf(why, sizeof(why), "bad request: %s", err);
		send_error(sv, reply, 0, why);
		return;
	}
	int64_t t0 = now_ms();
	FILE *tmp = tmpfile();
	struct fcap_extract_stats st;
	int rc = !tmp ? fcap_err(err, "temporary file: %s", strerror(errno))
		 : *alert ? alert_evidence(sv, alert, tmp, &st, err)
			  : fcap_extract(sv->cfg->store, &q, tmp, log_store, sv, &st, err);
	if (rc == 0 && fflush(tmp) != 0)
		rc = fcap_err(err, "temporary file: %s", strerror(errno));
	if (rc < 0) {
		if (*alert)
			snprintf(why, sizeof(why), "alert %s: %s", alert, err);
		else
			snprintf(why, sizeof(why), "extract from store %s: %s", sv->cfg->store, err);
		send_error(sv, reply, 0, why);
	} else if (stream_answer(sv, reply, tmp, &st, err) < 0) {
		logf_(sv, "sensor %s: answer not sent whole: %s", sv->cfg->sensor, err);
	} else {
		logf_(sv, "sensor %s: %" PRId64 " ms", sv->cfg->sensor, now_ms() - t0);
	}
	if (tmp)
		fclose(tmp);
	free(filter);
}

/* Waits for the first connection, then makes sure the subscription stands
 * (the server refuses it asynchronously when it is not permitted). */
static int subscribe(struct server *sv, const char *subject, natsSubscription **sub, char *errbuf)
{
	natsStatus s = natsConnection_QueueSubscribeSync(sub, sv->nc, subject, FLEET_SERVE_QUEUE);
	if (s != NATS_OK)
		return fcap_err(errbuf, "subscribe %s: %s", subject, natsStatus_GetText(s));
	bool said = false;
	while (!*sv->cfg->stop && natsConnection_Status(sv->nc) != NATS_CONN_STATUS_CONNECTED) {
		if (!said)
			logf_(sv, "sensor %s: waiting for the cluster", sv->cfg->sensor);
		said = true;
		nats_Sleep(100);
	}
	if (*sv->cfg->stop)
		return 0;
	/* The server's -ERR comes before its PONG; the library notes it as
	 * the connection's last error before it posts the callback. */
	s = natsConnection_FlushTimeout(sv->nc, 5000);
	const char *text = NULL;
	if (natsConnection_GetLastError(sv->nc, &text) == NATS_NOT_PERMITTED)
		return fcap_err(errbuf, "subscribe %s: %s", subject, text && *text ? text : "not permitted");
	if (s != NATS_OK)
		return fcap_err(errbuf, "subscribe %s: %s", subject, natsStatus_GetText(s));
	logf_(sv, "sensor %s: serving extracts from %s on %s", sv->cfg->sensor, sv->cfg->store, subject);
	return 0;
}

static long serve_loop(struct server *sv, natsSubscription *sub, char *errbuf)
{
	long served = 0;
	while (!*sv->cfg->stop) {
		natsMsg *m = NULL;
		natsStatus s = natsSubscription_NextMsg(&m, sub, 250);
		if (s == NATS_TIMEOUT)
			continue;
		if (s == NATS_SLOW_CONSUMER) {
			logf_(sv, "sensor %s: requests dropped (slow consumer)", sv->cfg->sensor);
			continue;
		}
		if (s != NATS_OK) {
			char text[200] = "";
			fleet_conn_err_get(&sv->cerr, text, sizeof(text));
			return fcap_err(errbuf, "waiting for requests: %s%s%s", natsStatus_GetText(s), *text ? ": " : "",
					text);
		}
		serve_one(sv, m);
		natsMsg_Destroy(m);
		served++;
	}
	return served;
}

long fcap_fleet_serve(const struct fcap_fleet_serve_config *cfg, char *errbuf)
{
	if (!cfg->sensor || !fleet_valid_sensor(cfg->sensor))
		return fcap_err(errbuf, "sensor id '%s': want 1 to %d of A-Z a-z 0-9 _ -", cfg->sensor ? cfg->sensor : "",
				FCAP_FLEET_SENSOR_MAX);
	struct fcap_segment *segs = NULL;
	size_t nseg = 0;
	if (fcap_store_list(cfg->store, &segs, &nseg, NULL, errbuf) < 0)
		return -1;
	free(segs);
	struct server sv = { .cfg = cfg };
	if (!(sv.store_abs = realpath(cfg->store, NULL)))
		return fcap_err(errbuf, "store %s: %s", cfg->store, strerror(errno));
	fleet_conn_err_init(&sv.cerr);
	if (cfg->alerts) {
		/* Read again at each request: a capture starting beside the
		 * responder may not have made it yet. Said, not fatal. */
		struct fcap_alert_file af;
		char why[FCAP_ERRBUF_SIZE];
		if (fcap_alert_file_load(&af, cfg->alerts, why) < 0)
			logf_(&sv, "sensor %s: alerts: %s (alert requests fail until it can be read)", cfg->sensor, why);
		else
			fcap_alert_file_free(&af);
	}
	long rc = fleet_connect(cfg->servers, cfg->creds, cfg->sensor, true, &sv.cerr, &sv.nc, errbuf);
	natsSubscription *sub = NULL;
	if (rc == 0 && !(sv.buf = malloc(FLEET_CHUNK_HDR + FLEET_CHUNK_MAX)))
		rc = fcap_err(errbuf, "out of memory");
	char subject[96];
	snprintf(subject, sizeof(subject), FLEET_EXTRACT_SUBJECT, cfg->sensor);
	if (rc == 0)
		rc = subscribe(&sv, subject, &sub, errbuf);
	if (rc == 0)
		rc = serve_loop(&sv, sub, errbuf);
	natsSubscription_Destroy(sub);
	fleet_close(sv.nc, &sv.cerr);
	fleet_conn_err_destroy(&sv.cerr);
	free(sv.buf);
	free(sv.store_abs);
	return rc;
}
