/*
 * fcap/score_stream.h - the per-packet score stream: features and the
 * fixed-point model over packets in order, one CSV line per packet with a
 * reference to its record (file, byte offset, packet number) and its flow.
 * Used by `fcap score` over files and by `fcap capture --model` over the
 * records it writes.
 *
 * Packets are scored in batches (FCAP_SCORE_BATCH): the features of the
 * whole batch, then the model over groups of packets at once (docs/MODELS.md,
 * "Scoring paths"). A packet's line and counts therefore appear when its
 * batch is full or flushed; the scores are those of one packet at a time.
 */
#ifndef FCAP_SCORE_STREAM_H
#define FCAP_SCORE_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/features.h"
#include "fcap/model.h"

#define FCAP_SCORE_BATCH 64

/* A packet waiting in the batch: what its line refers to. */
struct fcap_score_ref {
	const char *file;
	uint64_t offset, number;
};

struct fcap_score_stream {
	const struct fcap_model *m;
	struct fcap_features *fx;
	struct fcap_scorer *sc;
	FILE *out;             /* CSV lines, or NULL for counting only */
	bool use_float;        /* the double-precision reference instead of fixed point */
	bool alerts_only;      /* write only packets that alert */
	const struct fcap_labels *labels;   /* optional: adds a label column */
	/* optional: called for every scored packet, in order, with its
	 * features (fcap/alert.h builds alerts from it) */
	void (*on_packet)(void *ctx, const struct fcap_score_ref *ref, const struct fcap_feat_in *in,
			  const struct fcap_scores *sc, const double *feat);
	void *on_packet_ctx;
	uint64_t packets;      /* scored so far (flushed) */
	uint64_t alerts[4];    /* by enum fcap_alert */
	/* the batch */
	size_t n;
	struct fcap_feat_in in[FCAP_SCORE_BATCH];
	struct fcap_score_ref ref[FCAP_SCORE_BATCH];
	struct fcap_scores scores[FCAP_SCORE_BATCH];
	double *feat;          /* FCAP_SCORE_BATCH x FCAP_FEAT_MAX */
};

int fcap_score_stream_init(struct fcap_score_stream *s, const struct fcap_model *m, FILE *out, char *errbuf);
void fcap_score_stream_header(struct fcap_score_stream *s);
/* Adds one packet; scores the batch when it is full. file must stay valid
 * until the packet is flushed (a different file pointer flushes first).
 * Returns the packet's decoded headers, valid until the next call, so that
 * a caller metering flows too does not decode them again. */
const struct fcap_pkt_info *fcap_score_stream_packet(struct fcap_score_stream *s, const char *file, uint64_t offset, uint64_t number,
			      uint32_t linktype, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
			      uint32_t origlen);
/* Scores and writes the packets waiting in the batch. */
void fcap_score_stream_flush(struct fcap_score_stream *s);
/* Flushes, then forgets the flow state (between unrelated files). */
int fcap_score_stream_reset(struct fcap_score_stream *s, char *errbuf);
/* Flushes and frees. */
void fcap_score_stream_free(struct fcap_score_stream *s);

const char *fcap_alert_name(enum fcap_alert a);

#endif
