/*
 * fcap/alert.h - alerts from per-packet scores (docs/ALERTS.md).
 *
 * The alerter takes every scored packet. Packets that alert are grouped by
 * a key (their source host, destination host or flow) into one alert that
 * stays open while more come within a window of its last packet; a flood
 * is one alert with its count, not one per packet. A closed alert is
 * written as one EVE JSON line (Suricata's conventions) with an `fcap`
 * object: scores, thresholds, the model, which feature groups and time
 * scales drove the anomaly score, and the evidence: the capture file, the
 * byte offset and number of every packet, first and last timestamps.
 *
 * Alerts matching an active suppression rule (from false-positive
 * verdicts, fcap/verdict.h) are counted, not written.
 */
#ifndef FCAP_ALERT_H
#define FCAP_ALERT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/features.h"
#include "fcap/model.h"
#include "fcap/packet.h"

enum fcap_group_by { FCAP_GROUP_SRC, FCAP_GROUP_DST, FCAP_GROUP_FLOW };

#define FCAP_ALERT_GID 1
#define FCAP_ALERT_SID_BASE 8100000u   /* sid = base + 10 * model kind + rule (docs/ALERTS.md) */

struct fcap_alert_config {
	enum fcap_group_by group_by;
	uint64_t window_ns;     /* an alert closes after this long without an alerting packet */
	uint64_t max_span_ns;   /* and is cut after this long (a new one continues it) */
	uint32_t max_evidence;  /* packets listed per alert; more are counted only */
	bool explain;           /* feature-group and time-scale shares */
	uint64_t bucket_ns;     /* score timeline bucket (the stats event) */
};
void fcap_alert_defaults(struct fcap_alert_config *c);

/* A suppression rule: scope and value taken from a false-positive alert. */
enum fcap_scope { FCAP_SCOPE_HOST, FCAP_SCOPE_FLOW, FCAP_SCOPE_SIGNATURE };
struct fcap_suppress {
	enum fcap_scope scope;
	char value[160];        /* host address, flow string, or signature id */
	uint64_t expires_ns;    /* wall clock; 0: never */
	char alert_id[24];      /* the verdict's alert */
};
const char *fcap_scope_name(enum fcap_scope s);

struct fcap_alerter;

/* model_id names the model file (its CRC-32C); eve receives the lines. */
struct fcap_alerter *fcap_alerter_new(const struct fcap_alert_config *c, const struct fcap_model *m,
				      const char *model_id, FILE *eve, char *errbuf);
/* Rules checked when an alert closes, against now_ns (wall clock). */
void fcap_alerter_rules(struct fcap_alerter *a, const struct fcap_suppress *rules, size_t n, uint64_t now_ns);
/* One scored packet, in order. feat: its features (for explanations). */
void fcap_alerter_packet(struct fcap_alerter *a, const char *file, uint64_t offset, uint64_t number,
			 const struct fcap_feat_in *in, const struct fcap_scores *sc, const double *feat);
/* Also hands each alert's EVE line, as written to the file but without its
 * newline, to fn (the fleet: fcap capture --fleet). */
typedef void (*fcap_alert_line_fn)(void *ctx, const char *line, size_t len);
void fcap_alerter_on_line(struct fcap_alerter *a, fcap_alert_line_fn fn, void *ctx);
/* Closes every open alert (end of a file: evidence never spans files). */
void fcap_alerter_close_all(struct fcap_alerter *a);
/* Closes all and writes the stats event (counts and the score timeline);
 * extra, if not NULL, is more members of its fcap object ("capture":{...}). */
void fcap_alerter_finish(struct fcap_alerter *a, const char *extra);
struct fcap_alert_counts {
	uint64_t packets, alert_packets, alerts, suppressed;
	uint64_t pinned, pin_errors;   /* store segments pinned for evidence */
};
void fcap_alerter_counts(const struct fcap_alerter *a, struct fcap_alert_counts *c);
void fcap_alerter_free(struct fcap_alerter *a);

/* "both", "classifier", "anomaly" rule of a signature id; model kind names. */
const char *fcap_model_kind(const struct fcap_model *m);

#endif
