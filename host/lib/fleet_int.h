/*
 * fleet_int.h - what the fleet's files (fleet*.c) share: the connection to
 * the cluster, the sensor id rule, and the errors the server sends back
 * asynchronously (a permissions violation is one).
 */
#ifndef FCAP_FLEET_INT_H
#define FCAP_FLEET_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nats/nats.h>

/* The last error the server or the library reported on a connection. */
struct fleet_conn_err {
	pthread_mutex_t lock;
	pthread_cond_t closed_cond;
	bool closed;              /* the library's closed callback ran */
	uint64_t n;
	char text[200];
};

void fleet_conn_err_init(struct fleet_conn_err *e);
void fleet_conn_err_destroy(struct fleet_conn_err *e);
/* Copies the last error's text (empty when none) and returns how many there were. */
uint64_t fleet_conn_err_get(struct fleet_conn_err *e, char *buf, size_t n);

bool fleet_valid_sensor(const char *s);

/* The CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
struct timespec fleet_deadline(int64_t ms);

/* servers with any user:password@ replaced by ***@, for messages. */
void fleet_redact(const char *servers, char *buf, size_t n);

/*
 * Connects to "URL,URL,..." (a URL may carry user:password@). With retry,
 * a server that is away is retried for ever in the library's thread and
 * the call does not wait for it. cerr (or NULL) collects asynchronous
 * errors. A sensor's connection (sensor not NULL) takes its reply inboxes
 * under _INBOX.SENSOR., so that its user may subscribe to its own inboxes
 * only (docs/FLEET.md, "Users and permissions").
 */
int fleet_connect(const char *servers, const char *creds, const char *sensor, bool retry,
		  struct fleet_conn_err *cerr, natsConnection **nc, char *errbuf);

/*
 * Closes and destroys nc. With cerr, first waits (a second at most) for the
 * library's closed callback: it runs after every error callback already
 * posted, so none can touch cerr once this returns.
 */
void fleet_close(natsConnection *nc, struct fleet_conn_err *cerr);

#endif
