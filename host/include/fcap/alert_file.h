/*
 * fcap/alert_file.h - reading an EVE alert file written by `fcap score
 * --eve` (docs/ALERTS.md): its alerts with their evidence, and its stats
 * event. Every line must parse; a bad line is an error naming the file,
 * line and byte offset.
 */
#ifndef FCAP_ALERT_FILE_H
#define FCAP_ALERT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/json.h"

struct fcap_alert_rec {
	struct fcap_json *j;       /* the whole event */
	size_t line;               /* 1-based line in the file */
	const char *id, *src, *dst, *proto, *key, *flow, *signature, *rule, *timestamp;
	unsigned sid, severity;
	double score;
	uint64_t first_ns, last_ns, count;
	/* evidence (one file) */
	const char *path;
	size_t nev;
	uint64_t *num, *off;       /* nev each */
	bool truncated;
};

struct fcap_alert_file {
	char *text;
	struct fcap_alert_rec *a;
	size_t n;
	struct fcap_json *stats;   /* the last stats event, or NULL */
};

int fcap_alert_file_load(struct fcap_alert_file *af, const char *path, char *errbuf);
void fcap_alert_file_free(struct fcap_alert_file *af);
/* By alert id; NULL when absent. */
const struct fcap_alert_rec *fcap_alert_file_find(const struct fcap_alert_file *af, const char *id);

#endif
