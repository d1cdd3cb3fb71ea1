/*
 * fcap/features.h - per-packet flow features (docs/FEATURES.md).
 *
 * The Kitsune family: damped incremental statistics at five time scales
 * (lambda = 5, 3, 1, 0.1, 0.01 per second), each a (weight, linear sum, sum
 * of squares) triple decayed by 2^(-lambda * dt) between updates, kept for
 * four kinds of stream keyed by the packet's headers. 100 features, plus
 * optional extras (TCP flag mixes and new-connection rates per host).
 *
 * State lives in bounded, set-associative tables: a key that finds no room
 * evicts the least recently seen entry of its set, and an entry idle for
 * longer than the idle timeout starts afresh. The decay factor comes from a
 * lookup table, never from exp() per update.
 */
#ifndef FCAP_FEATURES_H
#define FCAP_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/packet.h"

#define FCAP_NLAMBDA 5
#define FCAP_FEAT_KITSUNE 100
#define FCAP_FEAT_EXTRA 16
#define FCAP_FEAT_MAX (FCAP_FEAT_KITSUNE + FCAP_FEAT_EXTRA)

extern const double fcap_lambdas[FCAP_NLAMBDA];

struct fcap_feat_config {
	uint32_t table_entries;   /* entries per state table (rounded up to a power of two); 0 = default */
	uint64_t idle_ns;         /* an entry unseen this long starts afresh; 0 = never */
	bool extras;              /* compute the FCAP_FEAT_EXTRA extra features */
};

#define FCAP_FEAT_DEFAULT_ENTRIES (1u << 16)
#define FCAP_FEAT_DEFAULT_IDLE_NS (600ull * 1000000000ull)

struct fcap_feat_stats {
	uint64_t packets;
	uint64_t inserts;         /* new entries */
	uint64_t evict_idle;      /* entries reused because they were idle past the timeout */
	uint64_t evict_lru;       /* live entries pushed out by a full set */
	size_t memory_bytes;      /* state tables and lookup tables */
};

struct fcap_features;

struct fcap_features *fcap_features_new(const struct fcap_feat_config *cfg, char *errbuf);
void fcap_features_free(struct fcap_features *fx);
/* Forgets all state, as a new fcap_features_new would, but keeps the
 * tables' memory: cheaper between files than freeing and mapping again. */
void fcap_features_reset(struct fcap_features *fx);

/* Number of features per packet: 100, or 116 with extras. */
unsigned fcap_features_count(const struct fcap_features *fx);

/* Updates the state with one packet and writes its features to out[count]. */
void fcap_features_update(struct fcap_features *fx, const struct fcap_pkt_info *pi, uint32_t frame_len,
			  uint64_t ts_ns, double *out);

/* One packet of a batch. */
struct fcap_feat_in {
	struct fcap_pkt_info pi;
	uint32_t frame_len;
	uint64_t ts_ns;
};

/* n packets in order, packet i's features to out + i * stride: exactly n
 * calls of fcap_features_update, faster because the state of the packets
 * a little ahead is fetched from memory while one is computed. */
void fcap_features_update_batch(struct fcap_features *fx, const struct fcap_feat_in *in, size_t n, double *out,
				size_t stride);

void fcap_features_stats(const struct fcap_features *fx, struct fcap_feat_stats *st);

/* Name of feature i ("MI_L5_weight", "HpHp_L0.01_pcc", ...). */
const char *fcap_feature_name(unsigned i, char *buf, size_t n);

/* 2^(-lambda_i * dt) from the lookup table (exposed for tests). */
double fcap_decay(unsigned lambda_i, uint64_t dt_ns);

#endif
