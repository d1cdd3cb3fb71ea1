/*
 * fcap/fleet_extract.h - one extract across the fleet's sensors, over NATS
 * request/reply (docs/FLEET.md, "Extract across sensors").
 *
 * A sensor runs fcap_fleet_serve: subscribed to fcap.SENSOR.extract, it
 * answers each request from its own store with fcap_extract, streaming the
 * pcapng to the request's reply subject in chunks below the server's
 * maximum payload, each with a sequence number, then an end marker with the
 * counts (or an error marker with the reason).
 *
 * The client, fcap_fleet_extract, sends the request to each sensor named,
 * collects and checks every answer, and writes one pcapng: one interface
 * block per (sensor, port) named "SENSOR:PORTNAME", the packets of all
 * sensors in timestamp order with their interface ids remapped.
 */
#ifndef FCAP_FLEET_EXTRACT_H
#define FCAP_FLEET_EXTRACT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/extract.h"
#include "fcap/fleet.h"
#include "fcap/store.h"

#define FCAP_FLEET_MAX_SENSORS 64
#define FCAP_FLEET_REQUEST_MAX 16384
#define FCAP_FLEET_ALERT_MAX 32

/*
 * The request is text, one condition a line, "KEY VALUE":
 *   from NS | to NS          (nanoseconds since the epoch; [from, to))
 *   host ADDR | port N | flow FLOW | count N | filter EXPR
 *   alert ID                 (an alert's evidence; no other condition with it)
 * Parses it into q (format pcapng); *filter is the filter's copy (free it).
 */
int fcap_fleet_request_parse(const char *text, size_t len, struct fcap_query *q, char **filter, char *errbuf);
/* The same, and the alert id into alert (FCAP_FLEET_ALERT_MAX + 1 bytes; ""
 * when the request names none). */
int fcap_fleet_request_parse_alert(const char *text, size_t len, struct fcap_query *q, char **filter, char *alert,
				   char *errbuf);

struct fcap_fleet_serve_config {
	const char *servers;
	const char *creds;
	const char *sensor;
	const char *store;
	const char *alerts;           /* the sensor's EVE file (alert requests), or NULL */
	volatile sig_atomic_t *stop;  /* serve until *stop */
	fcap_log_fn log;              /* one line per request, and problems */
	void *log_ctx;
};

/* Answers extract requests until *stop; returns how many it answered, or -1. */
long fcap_fleet_serve(const struct fcap_fleet_serve_config *cfg, char *errbuf);

struct fcap_fleet_answer {
	char sensor[FCAP_FLEET_SENSOR_MAX + 1];
	bool ok;                      /* a whole, consistent answer */
	uint64_t packets, bytes, chunks;
	int64_t ms;                   /* from the request to its end marker */
	char error[320];              /* why not ok */
};

struct fcap_fleet_extract_stats {
	uint64_t packets;             /* written */
	uint64_t interfaces;          /* interface blocks written */
	int64_t ms;                   /* from the first request to the last answer */
};

/*
 * Sends request to each of sensors, waits at most timeout_ms for their
 * answers, and writes the merge of the whole ones to out (a sensor that
 * failed contributes nothing). answers[i] says how sensors[i] went.
 * Returns how many sensors failed, or -1 (errbuf) when nothing could be done.
 */
int fcap_fleet_extract(const char *servers, const char *creds, const char *request, const char *const *sensors,
		       size_t nsensors, int64_t timeout_ms, FILE *out, struct fcap_fleet_answer *answers,
		       struct fcap_fleet_extract_stats *st, char *errbuf);

#endif
