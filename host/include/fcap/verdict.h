/*
 * fcap/verdict.h - the analysts' verdict journal (docs/ALERTS.md).
 *
 * An append-only text file, one verdict a line, each line ending with the
 * CRC-32C of the rest. A verdict is appended with one write, then fsync'd
 * (and the directory, when the journal is new) before `fcap feedback`
 * reports success: a committed verdict survives kill -9 and power loss.
 * A last line without its newline is a write that never completed: it is
 * ignored with a warning and cut off by the next append. A damaged line
 * elsewhere is skipped with a warning naming its line and offset; every
 * other verdict is kept.
 *
 * The latest verdict on an alert counts. A false-positive verdict carries
 * a suppression rule (scope, value, expiry) and points at the alert file
 * holding the alert, whose evidence `fcap train --feedback` trains on.
 */
#ifndef FCAP_VERDICT_H
#define FCAP_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/alert.h"
#include "fcap/errbuf.h"

#define FCAP_VERDICT_PATH_MAX 1024
#define FCAP_VERDICT_NOTE_MAX 512

struct fcap_verdict {
	uint64_t time_ns;                 /* when it was given (wall clock) */
	char alert_id[24];
	bool false_positive;
	enum fcap_scope scope;
	char value[160];                  /* what the rule matches */
	uint64_t expires_ns;              /* 0: never */
	char alerts_file[FCAP_VERDICT_PATH_MAX];   /* absolute */
	char note[FCAP_VERDICT_NOTE_MAX];
};

struct fcap_verdicts {
	struct fcap_verdict *v;           /* every sound line, in order */
	size_t n;
	struct fcap_suppress *rules;      /* of the latest verdict per alert, false positives */
	size_t nrules;
	char (*warn)[FCAP_ERRBUF_SIZE];   /* one per skipped line */
	size_t nwarn;
};

/* Reads a journal; a missing file is an empty journal. Fails only on an
 * unreadable file or no memory. */
int fcap_verdicts_load(struct fcap_verdicts *vs, const char *path, char *errbuf);
void fcap_verdicts_free(struct fcap_verdicts *vs);
/* The latest verdict on an alert, or NULL. */
const struct fcap_verdict *fcap_verdicts_latest(const struct fcap_verdicts *vs, const char *alert_id);

/* Appends one verdict durably. warn (FCAP_ERRBUF_SIZE) receives a note
 * about a cut torn line, or is left empty. */
int fcap_verdict_append(const char *path, const struct fcap_verdict *v, char *warn, char *errbuf);

#endif
