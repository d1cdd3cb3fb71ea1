/*
 * score.c - scoring packets' features with a model (fcap/model.h): one
 * packet in fixed point (the definition) or in double precision (the
 * reference), and batches in fixed point, FCAP_LANES packets at once
 * through nn_lanes.c with the same results.
 *
 * Fixed-point path: each feature becomes a Q11 integer with one
 * multiply-add, clamped to +-16; from there on every step is integer:
 * autoencoders, RMSE (integer sum of squares, table square root, Q20), the
 * normalisation of the RMSEs (integer multiply and shift), the output
 * autoencoder, the classifiers' logits (Q16), the table log2 of the alert
 * margin, and the threshold comparisons.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/model.h"
#include "fixed.h"

struct fcap_scorer {
	const struct fcap_model *m;
	bool plain;               /* run the plain classifier (scores.mlp) */
	int16_t *zq, *uin, *uout, *ozq, *oout, *scr;
	double *z, *uf, *uof, *oz, *oof, *fscr;
	/* packet groups (fcap_score_fixed_batch): one lane per packet */
	fcap_lanes *lz, *loz, *lscr, *lmz, *lhz;
};

static fcap_lanes *lanes_alloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(fcap_lanes)) != 0)
		return NULL;
	return memset(p, 0, (n ? n : 1) * sizeof(fcap_lanes));
}

static size_t lscr_max(size_t s, const struct fcap_net *n)
{
	size_t t = fcap_ae_scratch_lanes(n);   /* covers fcap_net_scratch_lanes too */
	return t > s ? t : s;
}

static size_t scr_max(size_t s, const struct fcap_net *n)
{
	size_t t = fcap_net_scratch(n);
	return t > s ? t : s;
}

struct fcap_scorer *fcap_scorer_new(const struct fcap_model *m, char *errbuf)
{
	struct fcap_scorer *s = calloc(1, sizeof(*s));
	size_t nf = m->nfeat + 1, mu = m->max_unit + 1, na = m->nae + 1;
	size_t scr = fcap_net_scratch(&m->out);
	for (uint32_t k = 0; k < m->nae; k++)
		scr = scr_max(scr, &m->ae[k].net);
	if (m->has_mlp)
		scr = scr_max(scr_max(scr, &m->mlp), &m->hyb);
	size_t lscr = lscr_max(0, &m->out);
	for (uint32_t k = 0; k < m->nae; k++)
		lscr = lscr_max(lscr, &m->ae[k].net);
	if (m->has_mlp)
		lscr = lscr_max(lscr_max(lscr, &m->mlp), &m->hyb);
	if (s) {
		s->m = m;
		s->plain = true;
		s->lz = lanes_alloc(nf);
		s->loz = lanes_alloc(na);
		s->lscr = lanes_alloc(lscr);
		s->lmz = lanes_alloc(1);
		s->lhz = lanes_alloc(1);
		s->zq = calloc(nf, 2);
		s->uin = calloc(mu, 2);
		s->uout = calloc(mu, 2);
		s->ozq = calloc(na, 2);
		s->oout = calloc(na, 2);
		s->scr = calloc(scr, 2);   /* fixed nets need less than the double ones */
		s->z = calloc(nf, 8);
		s->uf = calloc(mu, 8);
		s->uof = calloc(mu, 8);
		s->oz = calloc(na, 8);
		s->oof = calloc(na, 8);
		s->fscr = calloc(scr, 8);
	}
	if (!s || !s->zq || !s->uin || !s->uout || !s->ozq || !s->oout || !s->scr || !s->z || !s->uf || !s->uof ||
	    !s->oz || !s->oof || !s->fscr || !s->lz || !s->loz || !s->lscr ||
	    !s->lmz || !s->lhz) {
		fcap_scorer_free(s);
		fcap_err(errbuf, "scorer: out of memory");
		return NULL;
	}
	return s;
}

void fcap_scorer_plain_classifier(struct fcap_scorer *s, bool run)
{
	s->plain = run;
}

void fcap_scorer_free(struct fcap_scorer *s)
{
	if (!s)
		return;
	free(s->zq);
	free(s->uin);
	free(s->uout);
	free(s->ozq);
	free(s->oout);
	free(s->scr);
	free(s->z);
	free(s->uf);
	free(s->uof);
	free(s->oz);
	free(s->oof);
	free(s->fscr);
	free(s->lz);
	free(s->loz);
	free(s->lscr);
	free(s->lmz);
	free(s->lhz);
	free(s);
}

/* RMSE between inputs x (Q11) and reconstructions y (Q15), in Q20:
 * sqrt(sum of squares (Q30) * 2^10) / sqrt(n), with 2^16/sqrt(n) given. */
static uint32_t rmse_q20(const int16_t *x, const int16_t *y, uint32_t n, uint32_t isqrt_n)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		int64_t e = (int64_t)x[i] * (1 << (FCAP_ACT_FRAC - FCAP_IN_FRAC)) - y[i];
		sum += (uint64_t)(e * e);
	}
	return (uint32_t)(((uint64_t)fixed_isqrt64(sum << 10) * isqrt_n) >> 16);
}

static enum fcap_alert priority(bool cls, bool anom)
{
	return cls && anom ? FCAP_ALERT_BOTH : cls ? FCAP_ALERT_CLASSIFIER : anom ? FCAP_ALERT_ANOMALY : FCAP_ALERT_NONE;
}

/* From the anomaly RMSE (Q20) and the logits (Q16): thresholds, the alert
 * margin by table log2, the priority. */
static void finish(const struct fcap_model *m, uint32_t ae, int32_t mz, int32_t hz, struct fcap_scores *out)
{
	bool anom = ae > m->thr_ae_q;
	int32_t margin = fixed_ilog2_q16(ae ? ae : 1) - m->log2_thr_ae;
	bool cls = false;
	if (m->has_mlp) {
		cls = hz > m->thr_hyb_q;
		int64_t mc = (int64_t)hz - m->thr_hyb_q;
		mc = mc > INT32_MAX ? INT32_MAX : (mc < INT32_MIN ? INT32_MIN : mc);
		margin = (int32_t)mc > margin ? (int32_t)mc : margin;
	}
	out->ae = ae / 1048576.0;
	out->mlp = mz / 65536.0;
	out->hyb = hz / 65536.0;
	out->hybrid = margin / 65536.0;
	out->alert = priority(cls, anom);
}

void fcap_score_fixed(struct fcap_scorer *s, const double *feat, struct fcap_scores *out)
{
	const struct fcap_model *m = s->m;
	for (uint32_t i = 0; i < m->nfeat; i++)
		s->zq[i] = fcap_q11(feat[i] * m->in_a[i] + m->in_b[i]);
	for (uint32_t k = 0; k < m->nae; k++) {
		const struct fcap_ae_unit *u = &m->ae[k];
		for (uint32_t j = 0; j < u->n; j++)
			s->uin[j] = s->zq[u->idx[j]];
		fcap_net_forward_q(&u->net, s->uin, s->uout, s->scr);
		s->ozq[k] = fcap_norm_q(rmse_q20(s->uin, s->uout, u->n, m->unit_isqrt[k]), m->omin_q[k], m->om_q[k]);
	}
	fcap_net_forward_q(&m->out, s->ozq, s->oout, s->scr);
	uint32_t ae = rmse_q20(s->ozq, s->oout, m->nae, m->out_isqrt);
	int32_t mz = 0, hz = 0;
	if (m->has_mlp) {
		if (s->plain)
			mz = fcap_net_logit_q(&m->mlp, s->zq, s->scr);
		s->zq[m->nfeat] = fcap_norm_q(ae, m->hmin_q, m->hm_q);
		hz = fcap_net_logit_q(&m->hyb, s->zq, s->scr);
	}
	finish(m, ae, mz, hz, out);
}

/*
 * The same computation over a group of up to FCAP_LANES packets, one per
 * lane (fcap_net_forward_lanes); lanes past n run on zero features and are
 * not reported. Every step is the one of fcap_score_fixed, so the results
 * are identical.
 */
static void score_group(struct fcap_scorer *s, const double *feat, size_t stride, size_t n, struct fcap_scores *out)
{
	const struct fcap_model *m = s->m;
	fcap_q11_lanes(feat, stride, n, m->in_a, m->in_b, m->nfeat, s->lz);
	fcap_lanes r, ae;
	for (uint32_t k = 0; k < m->nae; k++) {
		const struct fcap_ae_unit *u = &m->ae[k];
		fcap_ae_rmse_lanes(&u->net, (const fcap_lanes *)s->lz, u->idx, m->unit_isqrt[k], r, s->lscr);
		fcap_norm_lanes(r, m->omin_q[k], m->om_q[k], s->loz[k]);
	}
	fcap_ae_rmse_lanes(&m->out, (const fcap_lanes *)s->loz, NULL, m->out_isqrt, ae, s->lscr);
	if (m->has_mlp) {
		if (s->plain)
			fcap_net_forward_lanes(&m->mlp, (const fcap_lanes *)s->lz, s->lmz, true, s->lscr);
		fcap_norm_lanes(ae, m->hmin_q, m->hm_q, s->lz[m->nfeat]);
		fcap_net_forward_lanes(&m->hyb, (const fcap_lanes *)s->lz, s->lhz, true, s->lscr);
	}
	for (size_t p = 0; p < n; p++) {
		int32_t mz = m->has_mlp && s->plain ? s->lmz[0][p] : 0, hz = m->has_mlp ? s->lhz[0][p] : 0;
		finish(m, (uint32_t)ae[p], mz, hz, &out[p]);
	}
}

void fcap_score_fixed_batch(struct fcap_scorer *s, const double *feat, size_t stride, size_t n,
			    struct fcap_scores *out)
{
	/* Without AVX2 the lanes are plain C, slower than the one-packet path
	 * (SSE2 across a neuron's inputs): use that, it gives the same scores. */
	if (fcap_simd_current() == FCAP_SIMD_SCALAR) {
		for (size_t i = 0; i < n; i++)
			fcap_score_fixed(s, feat + i * stride, &out[i]);
		return;
	}
	for (size_t g = 0; g < n; g += FCAP_LANES)
		score_group(s, feat + g * stride, stride, n - g < FCAP_LANES ? n - g : FCAP_LANES, out + g);
}

static double clampz(double v)
{
	return v > FCAP_IN_CLAMP ? FCAP_IN_CLAMP : (v < -FCAP_IN_CLAMP ? -FCAP_IN_CLAMP : v);
}

static double rmse_f(const double *x, const double *y, uint32_t n)
{
	double sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += (x[i] - y[i]) * (x[i] - y[i]);
	return sqrt(sum / n);
}

void fcap_score_float(struct fcap_scorer *s, const double *feat, struct fcap_scores *out)
{
	const struct fcap_model *m = s->m;
	for (uint32_t i = 0; i < m->nfeat; i++)
		s->z[i] = clampz((feat[i] - m->fmin[i]) * m->finv[i]);
	for (uint32_t k = 0; k < m->nae; k++) {
		const struct fcap_ae_unit *u = &m->ae[k];
		for (uint32_t j = 0; j < u->n; j++)
			s->uf[j] = s->z[u->idx[j]];
		fcap_net_forward(&u->net, s->uf, s->uof, s->fscr);
		s->oz[k] = clampz((rmse_f(s->uf, s->uof, u->n) - m->omin[k]) * m->oinv[k]);
	}
	fcap_net_forward(&m->out, s->oz, s->oof, s->fscr);
	double ae = rmse_f(s->oz, s->oof, m->nae);
	bool anom = ae > m->thr_ae;
	double margin = log2((ae > 1e-300 ? ae : 1e-300) / m->thr_ae), mz = 0, hz = 0;
	bool cls = false;
	if (m->has_mlp) {
		if (s->plain)
			mz = fcap_net_logit(&m->mlp, s->z, s->fscr);
		s->z[m->nfeat] = clampz((ae - m->hmin) * m->hinv);
		hz = fcap_net_logit(&m->hyb, s->z, s->fscr);
		cls = hz > m->thr_hyb;
		margin = fmax(margin, hz - m->thr_hyb);
	}
	out->ae = ae;
	out->mlp = mz;
	out->hyb = hz;
	out->hybrid = margin;
	out->alert = priority(cls, anom);
}
