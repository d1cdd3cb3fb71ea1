/*
 * model.c - model life cycle (fcap/model.h): the derived fixed-point
 * fields, memory, freeing, and the dataset container used in training.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/model.h"

void fcap_model_free(struct fcap_model *m)
{
	free(m->fmin);
	free(m->finv);
	for (uint32_t k = 0; m->ae && k < m->nae; k++) {
		free(m->ae[k].idx);
		fcap_net_free(&m->ae[k].net);
	}
	free(m->ae);
	free(m->omin);
	free(m->oinv);
	fcap_net_free(&m->out);
	fcap_net_free(&m->mlp);
	fcap_net_free(&m->hyb);
	free(m->omin_q);
	free(m->om_q);
	free(m->in_a);
	free(m->in_b);
	free(m->unit_isqrt);
	memset(m, 0, sizeof(*m));
}

size_t fcap_model_bytes(const struct fcap_model *m)
{
	size_t b = m->nfeat * 2 * sizeof(double) + m->nae * (2 * sizeof(int32_t) + sizeof(int64_t));
	for (uint32_t k = 0; k < m->nae; k++)
		b += m->ae[k].n * sizeof(uint32_t) + fcap_net_bytes(&m->ae[k].net);
	b += fcap_net_bytes(&m->out);
	if (m->has_mlp)
		b += fcap_net_bytes(&m->mlp) + fcap_net_bytes(&m->hyb);
	return b;
}

/* RMSE normalisation (v - min) * inv, as the integer pair for a Q20 RMSE
 * and a Q11 result: (v_q20 - min_q) * m_q >> 16. */
static void norm_fixed(double min, double inv, int32_t *min_q, int64_t *m_q)
{
	*min_q = (int32_t)lround(min * 1048576.0);
	*m_q = (int64_t)llround(inv * 128.0);
}

static uint32_t isqrt_recip_q16(uint32_t n)
{
	return (uint32_t)lround(65536.0 / sqrt((double)n));
}

int fcap_model_prepare(struct fcap_model *m, char *errbuf)
{
	fcap_nn_tables();
	free(m->omin_q);
	free(m->om_q);
	free(m->in_a);
	free(m->in_b);
	free(m->unit_isqrt);
	size_t na = m->nae ? m->nae : 1;
	m->omin_q = calloc(na, sizeof(int32_t));
	m->om_q = calloc(na, sizeof(int64_t));
	m->unit_isqrt = calloc(na, sizeof(uint32_t));
	m->in_a = calloc(m->nfeat + 1, sizeof(double));
	m->in_b = calloc(m->nfeat + 1, sizeof(double));
	if (!m->omin_q || !m->om_q || !m->unit_isqrt || !m->in_a || !m->in_b)
		return fcap_err(errbuf, "model: out of memory");
	for (uint32_t i = 0; i < m->nfeat; i++) {
		m->in_a[i] = m->finv[i] * (1 << FCAP_IN_FRAC);
		m->in_b[i] = -m->fmin[i] * m->finv[i] * (1 << FCAP_IN_FRAC);
	}
	m->max_unit = 0;
	for (uint32_t k = 0; k < m->nae; k++) {
		norm_fixed(m->omin[k], m->oinv[k], &m->omin_q[k], &m->om_q[k]);
		m->unit_isqrt[k] = isqrt_recip_q16(m->ae[k].n);
		if (m->ae[k].n > m->max_unit)
			m->max_unit = m->ae[k].n;
	}
	m->out_isqrt = isqrt_recip_q16(m->nae ? m->nae : 1);
	norm_fixed(m->hmin, m->hinv, &m->hmin_q, &m->hm_q);
	m->log2_thr_ae = fcap_ilog2_q16(m->thr_ae_q ? m->thr_ae_q : 1);
	return 0;
}

int fcap_dataset_add(struct fcap_dataset *ds, const double *x, uint8_t kind, uint8_t train)
{
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 4096;
		float *nx = realloc(ds->x, cap * ds->nfeat * sizeof(float));
		if (!nx)
			return -1;
		ds->x = nx;
		uint8_t *nl = realloc(ds->label, cap);
		if (!nl)
			return -1;
		ds->label = nl;
		uint8_t *nk = realloc(ds->kind, cap);
		if (!nk)
			return -1;
		ds->kind = nk;
		uint8_t *nt = realloc(ds->train, cap);
		if (!nt)
			return -1;
		ds->train = nt;
		ds->cap = cap;
	}
	for (uint32_t i = 0; i < ds->nfeat; i++)
		ds->x[ds->n * ds->nfeat + i] = (float)x[i];
	ds->label[ds->n] = kind ? FCAP_LABEL_ATTACK : FCAP_LABEL_BENIGN;
	ds->kind[ds->n] = kind;
	ds->train[ds->n] = train;
	ds->n++;
	return 0;
}

void fcap_dataset_free(struct fcap_dataset *ds)
{
	free(ds->x);
	free(ds->label);
	free(ds->kind);
	free(ds->train);
	memset(ds, 0, sizeof(*ds));
}
