/*
 * fcap/score_stream.h - the per-packet score stream: features and the
 * fixed-point model over packets in order, one CSV line per packet with a
 * reference to its record (file, byte offset, packet number) and its flow.
 * Used by `fcap score` over files and by `fcap capture --model` over the
 * records it writes.
 */
#ifndef FCAP_SCORE_STREAM_H
#define FCAP_SCORE_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/model.h"

struct fcap_score_stream {
	const struct fcap_model *m;
	struct fcap_features *fx;
	struct fcap_scorer *sc;
	FILE *out;             /* CSV lines, or NULL for counting only */
	bool use_float;        /* the double-precision reference instead of fixed point */
	bool alerts_only;      /* write only packets that alert */
	const struct fcap_labels *labels;   /* optional: adds a label column */
	uint64_t packets;
	uint64_t alerts[4];    /* by enum fcap_alert */
};

int fcap_score_stream_init(struct fcap_score_stream *s, const struct fcap_model *m, FILE *out, char *errbuf);
void fcap_score_stream_header(struct fcap_score_stream *s);
/* Scores one packet and writes its line. Returns its alert. */
enum fcap_alert fcap_score_stream_packet(struct fcap_score_stream *s, const char *file, uint64_t offset,
					 uint64_t number, uint32_t linktype, uint64_t ts_ns, const uint8_t *data,
					 uint32_t caplen, uint32_t origlen);
/* Forgets the flow state (between unrelated files). */
int fcap_score_stream_reset(struct fcap_score_stream *s, char *errbuf);
void fcap_score_stream_free(struct fcap_score_stream *s);

const char *fcap_alert_name(enum fcap_alert a);

#endif
