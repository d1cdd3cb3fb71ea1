/*
 * ae_ensemble.c - the unsupervised model: feature mapping by correlation
 * clustering, then an ensemble of small autoencoders and an output
 * autoencoder over their RMSEs (the Kitsune design, docs/MODELS.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

struct dnode {
	int left, right;   /* children, -1 for a leaf */
	uint32_t size;
};

/* Pearson correlation matrix of the normalised features over the rows. */
static double *correlations(const struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows,
			    size_t nrows)
{
	uint32_t d = m->nfeat;
	double *mean = calloc(d, sizeof(double)), *cov = calloc((size_t)d * d, sizeof(double));
	double *z = calloc(d + 1, sizeof(double));
	if (!mean || !cov || !z) {
		free(mean);
		free(cov);
		free(z);
		return NULL;
	}
	for (size_t r = 0; r < nrows; r++) {
		train_row_z(m, ds, rows[r], z);
		for (uint32_t i = 0; i < d; i++)
			mean[i] += z[i] / (double)nrows;
	}
	for (size_t r = 0; r < nrows; r++) {
		train_row_z(m, ds, rows[r], z);
		for (uint32_t i = 0; i < d; i++)
			z[i] -= mean[i];
		for (uint32_t i = 0; i < d; i++)
			for (uint32_t j = i; j < d; j++)
				cov[(size_t)i * d + j] += z[i] * z[j];
	}
	for (uint32_t i = 0; i < d; i++) {
		for (uint32_t j = i; j < d; j++) {
			double den = sqrt(cov[(size_t)i * d + i] * cov[(size_t)j * d + j]);
			double c = den > 0 ? cov[(size_t)i * d + j] / den : (i == j);
			cov[(size_t)i * d + j] = cov[(size_t)j * d + i] = c;
		}
	}
	for (uint32_t i = 0; i < d; i++)
		cov[(size_t)i * d + i] = 1.0;
	free(mean);
	free(z);
	return cov;
}

/* Collects the leaves under node into out; returns the new count. */
static uint32_t leaves(const struct dnode *t, int node, uint32_t *out, uint32_t k)
{
	if (t[node].left < 0) {
		out[k] = (uint32_t)node;
		return k + 1;
	}
	k = leaves(t, t[node].left, out, k);
	return leaves(t, t[node].right, out, k);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int add_unit(struct fcap_model *m, const uint32_t *idx, uint32_t n)
{
	struct fcap_ae_unit *u = &m->ae[m->nae];
	u->idx = malloc(n * sizeof(uint32_t));
	if (!u->idx)
		return -1;
	memcpy(u->idx, idx, n * sizeof(uint32_t));
	qsort(u->idx, n, sizeof(uint32_t), cmp_u32);
	u->n = n;
	m->nae++;
	return 0;
}

/* Cuts the dendrogram as Kitsune does (a node small enough is a cluster,
 * else both children are cut), then packs neighbouring clusters, in
 * dendrogram order, into one unit while it stays within max_unit: the many
 * one- and two-feature clusters that chaining leaves would otherwise each
 * cost an autoencoder. pend/npend hold the unit being packed. */
static int cut(struct fcap_model *m, const struct dnode *t, int node, uint32_t max_unit, uint32_t *buf,
	       uint32_t *pend, uint32_t *npend)
{
	if (t[node].size > max_unit) {
		if (cut(m, t, t[node].left, max_unit, buf, pend, npend) < 0)
			return -1;
		return cut(m, t, t[node].right, max_unit, buf, pend, npend);
	}
	uint32_t n = leaves(t, node, buf, 0);
	if (*npend + n > max_unit) {
		if (add_unit(m, pend, *npend) < 0)
			return -1;
		*npend = 0;
	}
	memcpy(pend + *npend, buf, n * sizeof(uint32_t));
	*npend += n;
	return 0;
}

int fcap_feature_map(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t nrows,
		     uint32_t max_unit, char *errbuf)
{
	uint32_t d = m->nfeat;
	double *dist = correlations(m, ds, rows, nrows);
	struct dnode *t = calloc(2 * (size_t)d, sizeof(*t));
	int *active = calloc(2 * (size_t)d, sizeof(int));
	uint32_t *buf = calloc(d, sizeof(uint32_t));
	m->ae = calloc(d, sizeof(*m->ae));
	m->nae = 0;
	int rc = -1;
	if (!dist || !t || !active || !buf || !m->ae) {
		fcap_err(errbuf, "feature map: out of memory");
		goto out;
	}
	/* Distance 1 - |correlation|; single linkage, so a cluster's distance to
	 * another is the smallest over their members: keep it in the row of the
	 * cluster's representative leaf. */
	for (size_t i = 0; i < (size_t)d * d; i++)
		dist[i] = 1.0 - fabs(dist[i]);
	int *rep = calloc(2 * (size_t)d, sizeof(int));   /* node -> matrix row */
	if (!rep) {
		fcap_err(errbuf, "feature map: out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < d; i++) {
		t[i] = (struct dnode){ -1, -1, 1 };
		active[i] = 1;
		rep[i] = (int)i;
	}
	uint32_t next = d;
	for (uint32_t step = 0; step + 1 < d; step++) {
		int bi = -1, bj = -1;
		double best = INFINITY;
		for (uint32_t i = 0; i < next; i++) {
			if (!active[i])
				continue;
			for (uint32_t j = i + 1; j < next; j++) {
				if (!active[j])
					continue;
				double v = dist[(size_t)rep[i] * d + rep[j]];
				if (v < best) {
					best = v;
					bi = (int)i;
					bj = (int)j;
				}
			}
		}
		int ri = rep[bi], rj = rep[bj];
		for (uint32_t k = 0; k < d; k++) {
			double v = fmin(dist[(size_t)ri * d + k], dist[(size_t)rj * d + k]);
			dist[(size_t)ri * d + k] = dist[(size_t)k * d + ri] = v;
		}
		t[next] = (struct dnode){ bi, bj, t[bi].size + t[bj].size };
		active[bi] = active[bj] = 0;
		active[next] = 1;
		rep[next] = ri;
		next++;
	}
	uint32_t *pend = calloc(d, sizeof(uint32_t)), npend = 0;
	rc = pend ? cut(m, t, (int)next - 1, max_unit, buf, pend, &npend) : -1;
	if (rc == 0 && npend)
		rc = add_unit(m, pend, npend);
	free(pend);
	if (rc < 0)
		fcap_err(errbuf, "feature map: out of memory");
	free(rep);
out:
	free(dist);
	free(t);
	free(active);
	free(buf);
	return rc;
}

static uint32_t hidden(uint32_t n, double ratio)
{
	uint32_t h = (uint32_t)ceil(n * ratio);
	return h ? h : 1;
}

int fcap_ensemble_train(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t n,
			const struct fcap_train_config *c, uint64_t *rng, char *errbuf)
{
	uint32_t d = m->nfeat, na = m->nae;
	size_t *order = malloc(n * sizeof(size_t));
	double *z = calloc(d + 1, sizeof(double)), *x = calloc(d + 1, sizeof(double)), *y = calloc(d + 1, sizeof(double));
	double *rm = malloc(n * na * sizeof(double)), *scr = NULL;
	int rc = -1;
	if (!order || !z || !x || !y || !rm) {
		fcap_err(errbuf, "ensemble: out of memory");
		goto out;
	}
	size_t scr_n = 0;
	for (uint32_t k = 0; k < na; k++) {
		struct fcap_ae_unit *u = &m->ae[k];
		uint32_t w[3] = { u->n, hidden(u->n, c->hidden_ratio), u->n };
		if (fcap_net_init(&u->net, 2, w, rng, errbuf) < 0)
			goto out;
		size_t s = fcap_net_scratch(&u->net);
		scr_n = s > scr_n ? s : scr_n;
	}
	uint32_t wo[3] = { na, hidden(na, c->hidden_ratio), na };
	if (fcap_net_init(&m->out, 2, wo, rng, errbuf) < 0)
		goto out;
	scr_n = fcap_net_scratch(&m->out) > scr_n ? fcap_net_scratch(&m->out) : scr_n;
	scr = malloc(scr_n * sizeof(double));
	if (!scr) {
		fcap_err(errbuf, "ensemble: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = rows[i];
	for (uint32_t e = 0; e < c->epochs_ae; e++) {
		train_shuffle(order, n, rng);
		double loss = 0;
		for (size_t i = 0; i < n; i++) {
			train_row_z(m, ds, order[i], z);
			for (uint32_t k = 0; k < na; k++) {
				struct fcap_ae_unit *u = &m->ae[k];
				for (uint32_t j = 0; j < u->n; j++)
					x[j] = z[u->idx[j]];
				loss += fcap_net_train_step(&u->net, x, x, false, 1.0, c->lr_ae, scr);
			}
		}
		if (c->log)
			fprintf(c->log, "train: ensemble epoch %u: mean squared error %.6g\n", e + 1,
				loss / (double)(n ? n : 1) / d);
	}
	/* RMSE of every unit on every row, their range, then the output autoencoder. */
	for (uint32_t k = 0; k < na; k++) {
		m->omin[k] = INFINITY;
		m->oinv[k] = -INFINITY;   /* holds the maximum until the end */
	}
	for (size_t i = 0; i < n; i++) {
		train_row_z(m, ds, rows[i], z);
		for (uint32_t k = 0; k < na; k++) {
			struct fcap_ae_unit *u = &m->ae[k];
			double s = 0;
			for (uint32_t j = 0; j < u->n; j++)
				x[j] = z[u->idx[j]];
			fcap_net_forward(&u->net, x, y, scr);
			for (uint32_t j = 0; j < u->n; j++)
				s += (x[j] - y[j]) * (x[j] - y[j]);
			double r = sqrt(s / u->n);
			rm[i * na + k] = r;
			m->omin[k] = fmin(m->omin[k], r);
			m->oinv[k] = fmax(m->oinv[k], r);
		}
	}
	for (uint32_t k = 0; k < na; k++) {
		double range = m->oinv[k] - m->omin[k];
		if (n == 0) {
			m->omin[k] = 0;
			range = 1;
		}
		m->oinv[k] = range > 1e-6 ? 1.0 / range : 1e6;
	}
	for (uint32_t e = 0; e < c->epochs_ae; e++) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		train_shuffle(order, n, rng);
		double loss = 0;
		for (size_t i = 0; i < n; i++) {
			for (uint32_t k = 0; k < na; k++) {
				double v = (rm[order[i] * na + k] - m->omin[k]) * m->oinv[k];
				x[k] = v > FCAP_IN_CLAMP ? FCAP_IN_CLAMP : v;
			}
			loss += fcap_net_train_step(&m->out, x, x, false, 1.0, c->lr_ae, scr);
		}
		if (c->log)
			fprintf(c->log, "train: output autoencoder epoch %u: mean squared error %.6g\n", e + 1,
				loss / (double)(n ? n : 1) / na);
	}
	rc = 0;
out:
	free(order);
	free(z);
	free(x);
	free(y);
	free(rm);
	free(scr);
	return rc;
}
