/*
 * fcap/fleet.h - a sensor's messages to the fleet's NATS JetStream cluster
 * (docs/FLEET.md).
 *
 * A message (an alert's EVE line, a flow record, a statistics snapshot) goes
 * to subject fcap.SENSOR.KIND and carries the message id SENSOR-SEQ, SEQ
 * counting the sensor's messages for ever (kept in the spool). Every message
 * is first appended to a bounded spool directory on local disk (segment
 * files of records); a sender thread publishes the spool in order, up to
 * 256 messages waiting for JetStream's acknowledgement at once, and keeps
 * its progress there, removing a segment once every message in it is
 * acknowledged. While the cluster is away, messages wait in the spool;
 * when the spool is full, new messages are refused and counted (overflow).
 * A message published twice (acknowledged, but the acknowledgement lost)
 * keeps its id, and JetStream's duplicate window drops the second copy.
 *
 * fcap_fleet_put never waits for the cluster: only for a local write (one
 * append to a file, or with write_behind a copy in memory).
 */
#ifndef FCAP_FLEET_H
#define FCAP_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

#define FCAP_FLEET_SENSOR_MAX 32

struct fcap_fleet_config {
	const char *servers;      /* "nats://[USER:PASSWORD@]127.0.0.1:4222,nats://..." */
	const char *sensor;       /* [A-Za-z0-9_-]{1,32} */
	const char *creds;        /* NATS user credentials file (JWT + nkey seed), or NULL */
	const char *spool_dir;
	uint64_t spool_max_bytes; /* 0 = 64 MiB */
	/* fcap_fleet_put only queues the message in memory (within the same
	 * bound) and a writer thread makes its file: the caller never waits for
	 * the disk either (the capture); what is still in memory at a crash is
	 * lost. fcap_fleet_close writes it all first. */
	bool write_behind;
};

struct fcap_fleet_stats {
	uint64_t put;             /* messages taken into the spool */
	uint64_t overflow;        /* messages refused: spool full */
	uint64_t acked;           /* acknowledged by JetStream */
	uint64_t duplicates;      /* acknowledged as duplicates (already stored) */
	uint64_t publish_errors;  /* attempts that failed (retried later) */
	uint64_t write_errors;    /* write_behind: messages that could not be written (lost) */
	uint64_t spooled;         /* messages in the spool now */
	uint64_t spool_bytes;
	uint64_t server_errors;   /* errors the server reported (e.g. a permissions violation) */
	char last_error[200];     /* the last of them, or "" */
	uint64_t corrupt;         /* spool problems set aside, not sent: damaged stretches of a segment
	                           * (kept as NAME.seg.bad once the rest is sent), damaged files,
	                           * messages out of order,
	                           * or larger than the server takes */
	char spool_error[512];    /* the last spool problem (a file not written, read or removed, a
	                           * corrupt one), naming the file, or "" */
	char publish_error[200];  /* why the last failed attempt failed, or "" */
};

struct fcap_fleet;

/* Opens the spool (re-queueing what an earlier run left there) and starts the
 * sender, which connects and reconnects on its own. */
struct fcap_fleet *fcap_fleet_open(const struct fcap_fleet_config *cfg, char *errbuf);
/* Spools one message of kind "alert", "flow" or "stats": 0; 1 when the
 * spool is full (the message is dropped and counted as overflow); -1 on a
 * write error or an unknown kind (errbuf). */
int fcap_fleet_put(struct fcap_fleet *f, const char *kind, const void *data, size_t len, char *errbuf);
/* Waits up to timeout_ms for the spool to empty; 0 when it did. */
int fcap_fleet_drain(struct fcap_fleet *f, int64_t timeout_ms);
void fcap_fleet_stats(struct fcap_fleet *f, struct fcap_fleet_stats *st);
/* Stops the sender (and writes what write_behind still holds): from then on
 * fcap_fleet_stats is final. What is unacknowledged stays in the spool for
 * next time. */
void fcap_fleet_stop(struct fcap_fleet *f);
/* Stops (if not yet) and frees. */
void fcap_fleet_close(struct fcap_fleet *f);

/* What a spool directory holds, read without changing it (a publisher may
 * be at work on it: a record it is writing may count as damaged). */
struct fcap_fleet_spool_info {
	uint64_t waiting;         /* messages in its segments not yet acknowledged */
	uint64_t bytes;           /* their records' bytes */
	uint64_t segments;        /* segment files */
	uint64_t damaged;         /* damaged stretches in them */
	uint64_t progress;        /* every message up to this id is done */
	bool progress_damaged;    /* its progress file cannot be read: everything goes again */
	uint64_t old_files;       /* one-file-per-message files of an earlier fcap, waiting */
};
int fcap_fleet_spool_info(const char *dir, struct fcap_fleet_spool_info *info, char *errbuf);

/* Creates (or updates) the streams FCAP_ALERTS, FCAP_FLOWS, FCAP_STATS. */
int fcap_fleet_init_streams(const char *servers, const char *creds, int replicas, int64_t max_age_s, char *errbuf);

/* Calls fn for every message of kind on the streams (sensor NULL = all),
 * oldest first: every message stored when it starts (a message still to
 * come that does not within 30 s is an error, not the end), then any more
 * until none arrives for idle_ms. Returns the count or -1. */
typedef void (*fcap_fleet_msg_fn)(void *ctx, const char *sensor, const void *data, size_t len);
long fcap_fleet_read(const char *servers, const char *creds, const char *kind, const char *sensor,
		     int64_t idle_ms, fcap_fleet_msg_fn fn, void *ctx, char *errbuf);

#endif
