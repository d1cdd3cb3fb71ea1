/*
 * fcap/model.h - the scorer's model: feature normalisation, the
 * unsupervised autoencoder ensemble (Kitsune-style), the supervised MLP,
 * the hybrid MLP, and calibrated thresholds. docs/MODELS.md describes them,
 * docs/MODEL_FORMAT.md the file.
 *
 * Scoring has two paths over the same model: fixed point (what fcap runs)
 * and double precision (the reference the benchmark compares against).
 */
#ifndef FCAP_MODEL_H
#define FCAP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/features.h"
#include "fcap/nn.h"

/* 2: the piecewise-cubic sigmoid; a version 1 file's thresholds were set
 * with the table sigmoid, so it is refused (retrain). */
#define FCAP_MODEL_VERSION 2

enum fcap_calib { FCAP_CALIB_QUANTILE = 0, FCAP_CALIB_LOGNORMAL = 1 };

/* Alert priorities of the hybrid rule. */
enum fcap_alert {
	FCAP_ALERT_NONE = 0,
	FCAP_ALERT_BOTH = 1,      /* classifier and anomaly score over threshold: highest */
	FCAP_ALERT_CLASSIFIER = 2,
	FCAP_ALERT_ANOMALY = 3,   /* anomaly only: possibly something new */
};

struct fcap_ae_unit {
	uint32_t n;          /* features it sees */
	uint32_t *idx;       /* their indices */
	struct fcap_net net; /* n -> hidden -> n */
};

struct fcap_model {
	/* how features are made */
	uint32_t nfeat;
	bool extras;
	uint32_t table_entries;
	uint64_t idle_ns;
	uint64_t seed;
	/* input normalisation: z = clamp((x - fmin) * finv) */
	double *fmin, *finv;
	/* unsupervised */
	uint32_t nae;
	struct fcap_ae_unit *ae;
	double *omin, *oinv;      /* normalisation of each unit's RMSE */
	struct fcap_net out;      /* output autoencoder: nae -> hidden -> nae */
	/* supervised and hybrid (optional) */
	bool has_mlp;
	struct fcap_net mlp;      /* nfeat -> h1 -> h2 -> 1 */
	struct fcap_net hyb;      /* nfeat + 1 (normalised anomaly score) -> h1 -> h2 -> 1 */
	double hmin, hinv;        /* normalisation of the anomaly score for hyb */
	/* thresholds: anomaly RMSE in Q20, classifier logits in Q16; and in double */
	double target_fpr;
	uint32_t calib;
	uint32_t thr_ae_q;
	int32_t thr_mlp_q, thr_hyb_q;
	double thr_ae, thr_mlp, thr_hyb;
	/* derived when loaded or trained (not stored) */
	double *in_a, *in_b;      /* feature to Q11: x * a + b */
	uint32_t *unit_isqrt;     /* per unit: 2^16 / sqrt(inputs) */
	uint32_t out_isqrt;
	int32_t *omin_q;          /* unit RMSE normalisation: (rmse_q20 - omin_q) * om_q >> 16 -> Q11 */
	int64_t *om_q;
	int32_t hmin_q;
	int64_t hm_q;
	int32_t log2_thr_ae;      /* log2(thr_ae_q) in Q16 */
	uint32_t max_unit;
};

/*
 * Scores of one packet (docs/MODELS.md):
 *   ae      reconstruction RMSE of the output autoencoder
 *   mlp     the classifier's logit (log-odds of attack); 0 without one
 *   hyb     the hybrid classifier's logit; 0 without one
 *   hybrid  the alert margin: max(hyb - its threshold, log2(ae / its
 *           threshold)); the packet alerts when it is above 0
 */
struct fcap_scores {
	double ae;
	double mlp;
	double hyb;
	double hybrid;
	enum fcap_alert alert;
};

/* Scoring workspace for one thread. */
struct fcap_scorer;
struct fcap_scorer *fcap_scorer_new(const struct fcap_model *m, char *errbuf);
void fcap_scorer_free(struct fcap_scorer *s);
/* Whether to run the plain (supervised-only) classifier, whose logit is
 * scores.mlp (default yes). The hybrid rule and fcap's score stream do not
 * use it: they turn it off and save its cost; scores.mlp is then 0. */
void fcap_scorer_plain_classifier(struct fcap_scorer *s, bool run);
/* Fixed point: everything after the conversion of the features to Q11 is integer. */
void fcap_score_fixed(struct fcap_scorer *s, const double *feat, struct fcap_scores *out);
/* The same for n packets, feature vector i at feat + i * stride: groups of
 * FCAP_LANES packets at once (nn_lanes.c), identical results, several
 * times faster. What fcap score and fcap capture --model run. */
void fcap_score_fixed_batch(struct fcap_scorer *s, const double *feat, size_t stride, size_t n,
			    struct fcap_scores *out);
/* Double-precision reference over the same model. */
void fcap_score_float(struct fcap_scorer *s, const double *feat, struct fcap_scores *out);

void fcap_model_free(struct fcap_model *m);
/* Fixed-point weights and tables the scorer reads, in bytes. */
size_t fcap_model_bytes(const struct fcap_model *m);
/* Computes the derived fixed-point fields; validates them. */
int fcap_model_prepare(struct fcap_model *m, char *errbuf);

/* Model files (docs/MODEL_FORMAT.md). Loading checks every field. */
int fcap_model_save(const struct fcap_model *m, const char *path, char *errbuf);
int fcap_model_load(struct fcap_model *m, const char *path, char *errbuf);
/* Same over a memory buffer (what load uses after reading the file). */
int fcap_model_parse(struct fcap_model *m, const uint8_t *buf, size_t len, const char *name, char *errbuf);

/* ---- training ---- */

/* Packet labels. */
#define FCAP_LABEL_BENIGN 0
#define FCAP_LABEL_ATTACK 1

struct fcap_dataset {
	uint32_t nfeat;
	size_t n, cap;
	float *x;            /* n x nfeat */
	uint8_t *label;      /* FCAP_LABEL_BENIGN or FCAP_LABEL_ATTACK */
	uint8_t *kind;       /* 0 benign, else the label file's attack kind */
	uint8_t *train;      /* 1: in the training split */
};

struct fcap_train_config {
	uint64_t seed;
	bool extras;
	uint32_t table_entries;
	uint64_t idle_ns;
	uint32_t fm_rows;        /* rows for feature mapping (correlation clustering) */
	uint32_t max_unit;       /* largest autoencoder of the ensemble */
	double hidden_ratio;     /* hidden units per input */
	double lr_ae, lr_mlp;
	uint32_t epochs_ae, epochs_mlp;
	uint32_t mlp_h1, mlp_h2;
	bool supervised;         /* train the MLP and hybrid when attacks are labelled */
	double target_fpr;
	enum fcap_calib calib;
	FILE *log;               /* progress, or NULL */
};

void fcap_train_defaults(struct fcap_train_config *c);
int fcap_model_train(struct fcap_model *m, const struct fcap_dataset *ds, const struct fcap_train_config *c,
		     char *errbuf);

/* Threshold over benign scores for a false-positive rate (calib.c). */
double fcap_calibrate(const double *benign, size_t n, double fpr, enum fcap_calib how);
double fcap_probit(double p);

int fcap_dataset_add(struct fcap_dataset *ds, const double *x, uint8_t kind, uint8_t train);
void fcap_dataset_free(struct fcap_dataset *ds);

/* Which packets of a file train (the rest are left for scoring). */
struct fcap_split {
	uint64_t until_ns;     /* packets before this time; 0: no time limit */
	uint64_t packets;      /* the first N packets; 0: no count limit */
};

struct fcap_labels;
/* Reads a capture, computes every packet's features (fresh state per file,
 * table settings from fc) and appends them with their labels. */
int fcap_dataset_read(struct fcap_dataset *ds, const char *path, const struct fcap_labels *labels,
		      const struct fcap_split *split, const struct fcap_feat_config *fc, char *errbuf);

#endif
