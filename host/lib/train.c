/*
 * train.c - `fcap train` in the library: from a labelled dataset of
 * feature vectors to a calibrated, quantized model (docs/MODELS.md).
 *
 *   benign training rows: 4 of every 5 fit, the 5th calibrates
 *   fit rows -> feature ranges -> feature map -> ensemble -> output AE
 *   labelled rows (if attacks) -> classifier; + anomaly score -> hybrid
 *   quantize every network -> thresholds on the calibration rows, scored
 *   exactly as at run time (fixed point), and in double for the reference
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

#define CALIB_EVERY 5

void fcap_train_defaults(struct fcap_train_config *c)
{
	*c = (struct fcap_train_config){
		.seed = 1, .extras = true, .table_entries = FCAP_FEAT_DEFAULT_ENTRIES, .idle_ns = FCAP_FEAT_DEFAULT_IDLE_NS,
		.fm_rows = 5000, .max_unit = 10, .hidden_ratio = 0.75, .lr_ae = 0.1, .lr_mlp = 0.05,
		.epochs_ae = 3, .epochs_mlp = 4, .mlp_h1 = 16, .mlp_h2 = 8, .supervised = true,
		.target_fpr = 0.001, .calib = FCAP_CALIB_QUANTILE,
	};
}

void train_row_z(const struct fcap_model *m, const struct fcap_dataset *ds, size_t r, double *z)
{
	const float *x = ds->x + r * ds->nfeat;
	for (uint32_t i = 0; i < m->nfeat; i++) {
		double v = ((double)x[i] - m->fmin[i]) * m->finv[i];
		z[i] = v > FCAP_IN_CLAMP ? FCAP_IN_CLAMP : (v < -FCAP_IN_CLAMP ? -FCAP_IN_CLAMP : v);
	}
}

void train_shuffle(size_t *idx, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(fcap_rng_next(rng) % i);
		size_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* Feature ranges over the fit rows. A feature constant in training gets a
 * scale of 1 / (1 + |value|), so a change still shows, but in proportion. */
static void fit_ranges(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t n)
{
	for (uint32_t i = 0; i < m->nfeat; i++) {
		double lo = INFINITY, hi = -INFINITY;
		for (size_t r = 0; r < n; r++) {
			double v = ds->x[rows[r] * ds->nfeat + i];
			lo = fmin(lo, v);
			hi = fmax(hi, v);
		}
		if (n == 0)
			lo = hi = 0;
		m->fmin[i] = lo;
		m->finv[i] = hi - lo > 1e-12 * (1 + fabs(lo)) ? 1.0 / (hi - lo) : 1.0 / (1.0 + fabs(lo));
	}
}

static void row_double(const struct fcap_dataset *ds, size_t r, double *x)
{
	for (uint32_t i = 0; i < ds->nfeat; i++)
		x[i] = ds->x[r * ds->nfeat + i];
}

/* Scores the calibration rows both ways and sets the thresholds. The
 * classifiers' logits are calibrated by quantile (a log-normal needs
 * positive scores); the anomaly score by the configured method. */
static int calibrate(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t n,
		     const struct fcap_train_config *c, char *errbuf)
{
	struct fcap_scorer *s = fcap_scorer_new(m, errbuf);
	double *x = calloc(ds->nfeat + 1, sizeof(double));
	double *v = calloc(6 * (n ? n : 1), sizeof(double));
	if (!s || !x || !v) {
		fcap_scorer_free(s);
		free(x);
		free(v);
		return fcap_err(errbuf, "calibration: out of memory");
	}
	/* Thresholds are only compared against in scoring; what we read here is raw. */
	for (size_t i = 0; i < n; i++) {
		struct fcap_scores q, f;
		row_double(ds, rows[i], x);
		fcap_score_fixed(s, x, &q);
		fcap_score_float(s, x, &f);
		v[i] = q.ae * 1048576.0;
		v[n + i] = q.mlp * 65536.0;
		v[2 * n + i] = q.hyb * 65536.0;
		v[3 * n + i] = f.ae;
		v[4 * n + i] = f.mlp;
		v[5 * n + i] = f.hyb;
	}
	double t[6];
	for (int k = 0; k < 6; k++)
		t[k] = fcap_calibrate(v + k * n, n, c->target_fpr, k % 3 == 0 ? c->calib : FCAP_CALIB_QUANTILE);
	m->thr_ae_q = (uint32_t)fmax(1.0, fmin(floor(t[0]), 4294967295.0));
	m->thr_ae = t[3] > 0 ? t[3] : 1.0 / 1048576;
	if (m->has_mlp) {
		m->thr_mlp_q = (int32_t)fmax(-2147483647.0, fmin(floor(t[1]), 2147483647.0));
		m->thr_hyb_q = (int32_t)fmax(-2147483647.0, fmin(floor(t[2]), 2147483647.0));
		m->thr_mlp = t[4];
		m->thr_hyb = t[5];
	} else {
		m->thr_mlp_q = m->thr_hyb_q = 0;
		m->thr_mlp = m->thr_hyb = 0;
	}
	m->log2_thr_ae = fcap_ilog2_q16(m->thr_ae_q);
	fcap_scorer_free(s);
	free(x);
	free(v);
	return 0;
}

static int train_supervised(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t n,
			    const struct fcap_train_config *c, uint64_t *rng, char *errbuf)
{
	if (fcap_mlp_train(&m->mlp, m, ds, rows, n, NULL, c, rng, errbuf) < 0)
		return -1;
	/* The hybrid classifier sees the anomaly score too, normalised over the rows' benign part. */
	struct fcap_scorer *s = fcap_scorer_new(m, errbuf);
	double *extra = calloc(n ? n : 1, sizeof(double)), *x = calloc(ds->nfeat + 1, sizeof(double));
	if (!s || !extra || !x) {
		fcap_scorer_free(s);
		free(extra);
		free(x);
		return fcap_err(errbuf, "hybrid: out of memory");
	}
	bool saved = m->has_mlp;
	m->has_mlp = false;   /* score with the ensemble alone */
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		struct fcap_scores f;
		row_double(ds, rows[i], x);
		fcap_score_float(s, x, &f);
		extra[i] = f.ae;
		if (ds->label[rows[i]] == FCAP_LABEL_BENIGN) {
			lo = fmin(lo, f.ae);
			hi = fmax(hi, f.ae);
		}
	}
	m->has_mlp = saved;
	if (!(hi > lo))
		lo = 0, hi = 1;
	if (hi - lo < 1e-6)
		hi = lo + 1e-6;   /* scales stay <= 1e6, as files require */
	m->hmin = lo;
	m->hinv = 1.0 / (hi - lo);
	for (size_t i = 0; i < n; i++) {
		double v = (extra[i] - lo) * m->hinv;
		extra[i] = v > FCAP_IN_CLAMP ? FCAP_IN_CLAMP : (v < -FCAP_IN_CLAMP ? -FCAP_IN_CLAMP : v);
	}
	int rc = fcap_mlp_train(&m->hyb, m, ds, rows, n, extra, c, rng, errbuf);
	fcap_scorer_free(s);
	free(extra);
	free(x);
	return rc;
}

int fcap_model_train(struct fcap_model *m, const struct fcap_dataset *ds, const struct fcap_train_config *c,
		     char *errbuf)
{
	memset(m, 0, sizeof(*m));
	m->nfeat = ds->nfeat;
	m->extras = c->extras;
	m->table_entries = c->table_entries;
	m->idle_ns = c->idle_ns;
	m->seed = c->seed;
	m->target_fpr = c->target_fpr;
	m->calib = c->calib;
	uint64_t rng = c->seed;
	size_t n = ds->n ? ds->n : 1;
	size_t *fit = malloc(n * sizeof(size_t)), *cal = malloc(n * sizeof(size_t)), *lab = malloc(n * sizeof(size_t));
	m->fmin = calloc(m->nfeat, sizeof(double));
	m->finv = calloc(m->nfeat, sizeof(double));
	int rc = -1;
	if (!fit || !cal || !lab || !m->fmin || !m->finv) {
		fcap_err(errbuf, "train: out of memory");
		goto out;
	}
	size_t nfit = 0, ncal = 0, nlab = 0, nben = 0, natt = 0;
	for (size_t r = 0; r < ds->n; r++) {
		if (!ds->train[r])
			continue;
		if (ds->label[r] == FCAP_LABEL_BENIGN) {
			if (++nben % CALIB_EVERY == 0) {
				cal[ncal++] = r;
				continue;
			}
			fit[nfit++] = r;
		} else {
			natt++;
		}
		lab[nlab++] = r;
	}
	if (nfit < 10 || ncal < 10) {
		fcap_err(errbuf, "train: %zu benign training packets; at least 50 are needed", nben);
		goto out;
	}
	if (c->log)
		fprintf(c->log, "train: %zu benign packets fit, %zu calibrate; %zu attack packets\n", nfit, ncal, natt);
	fit_ranges(m, ds, fit, nfit);
	if (fcap_feature_map(m, ds, fit, nfit < c->fm_rows ? nfit : c->fm_rows, c->max_unit, errbuf) < 0)
		goto out;
	if (c->log)
		fprintf(c->log, "train: feature map: %u autoencoders over %u features\n", m->nae, m->nfeat);
	m->omin = calloc(m->nae, sizeof(double));
	m->oinv = calloc(m->nae, sizeof(double));
	if (!m->omin || !m->oinv) {
		fcap_err(errbuf, "train: out of memory");
		goto out;
	}
	if (fcap_ensemble_train(m, ds, fit, nfit, c, &rng, errbuf) < 0 || fcap_model_prepare(m, errbuf) < 0)
		goto out;
	if (c->supervised && natt > 0) {
		m->has_mlp = true;
		if (train_supervised(m, ds, lab, nlab, c, &rng, errbuf) < 0)
			goto out;
	}
	for (uint32_t k = 0; k < m->nae; k++)
		if (fcap_net_quantize(&m->ae[k].net, FCAP_IN_FRAC, errbuf) < 0)
			goto out;
	if (fcap_net_quantize(&m->out, FCAP_IN_FRAC, errbuf) < 0 ||
	    (m->has_mlp && (fcap_net_quantize(&m->mlp, FCAP_IN_FRAC, errbuf) < 0 ||
			    fcap_net_quantize(&m->hyb, FCAP_IN_FRAC, errbuf) < 0)))
		goto out;
	if (fcap_model_prepare(m, errbuf) < 0 || calibrate(m, ds, cal, ncal, c, errbuf) < 0)
		goto out;
	if (c->log)
		fprintf(c->log, "train: thresholds for %.3g%% false positives: anomaly %.6g%s\n", c->target_fpr * 100,
			m->thr_ae_q / 1048576.0, m->has_mlp ? "" : " (no attack labels: no classifier)");
	rc = 0;
out:
	free(fit);
	free(cal);
	free(lab);
	if (rc < 0)
		fcap_model_free(m);
	return rc;
}
