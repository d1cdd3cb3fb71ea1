/* fleet_conn.c - the fleet's connection to the NATS cluster (fleet_int.h). */
#include "fleet_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcap/errbuf.h"
#include "fcap/fleet.h"

void fleet_conn_err_init(struct fleet_conn_err *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->closed_cond, NULL);
}

void fleet_conn_err_destroy(struct fleet_conn_err *e)
{
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->closed_cond);
}

uint64_t fleet_conn_err_get(struct fleet_conn_err *e, char *buf, size_t n)
{
	pthread_mutex_lock(&e->lock);
	snprintf(buf, n, "%s", e->text);
	uint64_t k = e->n;
	pthread_mutex_unlock(&e->lock);
	return k;
}

struct timespec fleet_deadline(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

bool fleet_valid_sensor(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > FCAP_FLEET_SENSOR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

void fleet_redact(const char *servers, char *buf, size_t n)
{
	size_t o = 0;
	if (n == 0)
		return;
	for (const char *p = servers; *p && o + 1 < n;) {
		const char *scheme = strstr(p, "://");
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *at = scheme && scheme < end ? memchr(scheme, '@', (size_t)(end - scheme)) : NULL;
		const char *cut = at ? scheme + 3 : end;
		while (p < cut && o + 1 < n)
			buf[o++] = *p++;
		if (at) {
			for (const char *r = "***"; *r && o + 1 < n; r++)
				buf[o++] = *r;
			p = at;
		}
		while (p < end && o + 1 < n)
			buf[o++] = *p++;
		if (comma && o + 1 < n)
			buf[o++] = *p++;
	}
	buf[o] = 0;
}

/* With a connected callback, a first connection that fails goes on in the
 * background instead of blocking the caller (the library's rule). */
static void on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	(void)sub;
	struct fleet_conn_err *e = closure;
	const char *text = NULL;
	natsConnection_GetLastError(nc, &text);
	pthread_mutex_lock(&e->lock);
	e->n++;
	snprintf(e->text, sizeof(e->text), "%s", text && *text ? text : natsStatus_GetText(err));
	pthread_mutex_unlock(&e->lock);
}

static void on_closed(natsConnection *nc, void *closure)
{
	(void)nc;
	struct fleet_conn_err *e = closure;
	pthread_mutex_lock(&e->lock);
	e->closed = true;
	pthread_cond_broadcast(&e->closed_cond);
	pthread_mutex_unlock(&e->lock);
}

void fleet_close(natsConnection *nc, struct fleet_conn_err *e)
{
	if (!nc)
		return;
	natsConnection_Close(nc);
	if (e) {
		struct timespec until = fleet_deadline(1000);
		pthread_mutex_lock(&e->lock);
		while (!e->closed && pthread_cond_timedwait(&e->closed_cond, &e->lock, &until) == 0)
			;
		pthread_mutex_unlock(&e->lock);
	}
	natsConnection_Destroy(nc);
}

static natsStatus set_options(natsOptions *o, const char *servers, const char *creds, const char *sensor,
			      bool retry, struct fleet_conn_err *cerr)
{
	/* "URL,URL,...": each one a server of the cluster, tried in turn. */
	char list[1024];
	const char *urls[16];
	int nurls = 0;
	snprintf(list, sizeof(list), "%s", servers);
	for (char *save = NULL, *u = strtok_r(list, ",", &save); u && nurls < 16; u = strtok_r(NULL, ",", &save))
		urls[nurls++] = u;
	natsStatus s = nurls ? natsOptions_SetServers(o, urls, nurls) : NATS_INVALID_ARG;
	if (s == NATS_OK && creds)
		s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
	if (s == NATS_OK && sensor) {
		char prefix[16 + FCAP_FLEET_SENSOR_MAX];
		snprintf(prefix, sizeof(prefix), "_INBOX.%s", sensor);
		s = natsOptions_SetCustomInboxPrefix(o, prefix);
	}
	if (s == NATS_OK && cerr)
		s = natsOptions_SetErrorHandler(o, on_error, cerr);
	if (s == NATS_OK && cerr)
		s = natsOptions_SetClosedCB(o, on_closed, cerr);
	if (s == NATS_OK && retry) {
		/* Keep trying for ever, in the library's own thread. */
		s = natsOptions_SetMaxReconnect(o, -1);
		if (s == NATS_OK)
			s = natsOptions_SetReconnectWait(o, 250);
		if (s == NATS_OK)
			s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
	}
	return s;
}

int fleet_connect(const char *servers, const char *creds, const char *sensor, bool retry,
		  struct fleet_conn_err *cerr, natsConnection **nc, char *errbuf)
{
	char where[1024];
	fleet_redact(servers, where, sizeof(where));
	if (strlen(servers) >= 1024 || !strstr(servers, "://"))
		return fcap_err(errbuf, "NATS servers '%s': want nats://[USER:PASSWORD@]HOST:PORT[,...]", where);
	natsOptions *o = NULL;
	natsStatus s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = set_options(o, servers, creds, sensor, retry, cerr);
	if (s == NATS_OK) {
		s = natsConnection_Connect(nc, o);
		if (s == NATS_NOT_YET_CONNECTED)
			s = NATS_OK;
	}
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		const char *detail = nats_GetLastError(NULL);
		fcap_err(errbuf, "NATS %s: %s%s%s", where, natsStatus_GetText(s), detail && *detail ? ": " : "",
			 detail && *detail ? detail : "");
		*nc = NULL;
		return -1;
	}
	return 0;
}
