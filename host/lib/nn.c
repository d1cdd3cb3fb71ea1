/*
 * nn.c - double-precision networks: forward pass and SGD training
 * (fcap/nn.h). Fixed point is in quant.c.
 */
#include "fcap/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t fcap_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double fcap_rng_uniform(uint64_t *s)
{
	return (double)(fcap_rng_next(s) >> 11) * 0x1.0p-53;
}

double fcap_sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

int fcap_net_init(struct fcap_net *n, uint32_t nlayers, const uint32_t *widths, uint64_t *rng, char *errbuf)
{
	memset(n, 0, sizeof(*n));
	if (nlayers == 0 || nlayers > FCAP_NN_MAX_LAYERS)
		return fcap_err(errbuf, "network: %u layers (1..%d)", nlayers, FCAP_NN_MAX_LAYERS);
	n->nlayers = nlayers;
	for (uint32_t i = 0; i < nlayers; i++) {
		struct fcap_layer *l = &n->l[i];
		l->in = widths[i];
		l->out = widths[i + 1];
		if (!l->in || !l->out || l->in > FCAP_NN_MAX_WIDTH || l->out > FCAP_NN_MAX_WIDTH) {
			fcap_net_free(n);
			return fcap_err(errbuf, "network: layer %u is %ux%u (1..%d)", i, l->in, l->out, FCAP_NN_MAX_WIDTH);
		}
		l->w = calloc((size_t)l->in * l->out, sizeof(double));
		l->b = calloc(l->out, sizeof(double));
		l->wq = calloc((size_t)l->in * l->out, sizeof(int16_t));
		l->bq = calloc(l->out, sizeof(int32_t));
		l->frac = calloc(l->out, 1);
		if (!l->w || !l->b || !l->wq || !l->bq || !l->frac) {
			fcap_net_free(n);
			return fcap_err(errbuf, "network: out of memory");
		}
		double r = 1.0 / sqrt((double)l->in);
		if (rng)
			for (size_t k = 0; k < (size_t)l->in * l->out; k++)
				l->w[k] = (2.0 * fcap_rng_uniform(rng) - 1.0) * r;
	}
	return 0;
}

void fcap_net_free(struct fcap_net *n)
{
	for (uint32_t i = 0; i < FCAP_NN_MAX_LAYERS; i++) {
		struct fcap_layer *l = &n->l[i];
		free(l->w);
		free(l->b);
		free(l->wq);
		free(l->bq);
		free(l->frac);
		free(l->wp);
		free(l->wpair);
	}
	memset(n, 0, sizeof(*n));
}

size_t fcap_net_bytes(const struct fcap_net *n)
{
	size_t b = 0;
	for (uint32_t i = 0; i < n->nlayers; i++)
		b += (size_t)n->l[i].in * n->l[i].out * sizeof(int16_t) + n->l[i].out * (sizeof(int32_t) + 1);
	return b;
}

uint32_t fcap_net_inputs(const struct fcap_net *n)
{
	return n->l[0].in;
}

uint32_t fcap_net_outputs(const struct fcap_net *n)
{
	return n->l[n->nlayers - 1].out;
}

size_t fcap_net_scratch(const struct fcap_net *n)
{
	size_t s = n->l[0].in;
	for (uint32_t i = 0; i < n->nlayers; i++)
		s += 2 * (size_t)n->l[i].out;   /* activations and deltas */
	return s + n->l[0].in;
}

/* Activations of layer i land at act[i+1]; act[0] is the input. */
static void forward_all(const struct fcap_net *n, const double *x, double **act)
{
	for (uint32_t i = 0; i < n->nlayers; i++) {
		const struct fcap_layer *l = &n->l[i];
		const double *in = i == 0 ? x : act[i];
		for (uint32_t j = 0; j < l->out; j++) {
			const double *w = l->w + (size_t)j * l->in;
			double z = l->b[j];
			for (uint32_t k = 0; k < l->in; k++)
				z += w[k] * in[k];
			act[i + 1][j] = fcap_sigmoid(z);
		}
	}
}

static void layout(const struct fcap_net *n, double *scratch, double **act, double **delta)
{
	double *p = scratch;
	act[0] = NULL;
	for (uint32_t i = 0; i < n->nlayers; i++) {
		act[i + 1] = p;
		p += n->l[i].out;
		delta[i] = p;
		p += n->l[i].out;
	}
	delta[n->nlayers] = p;   /* gradient wrt the input (unused) */
}

void fcap_net_forward(const struct fcap_net *n, const double *x, double *out, double *scratch)
{
	double *act[FCAP_NN_MAX_LAYERS + 1], *delta[FCAP_NN_MAX_LAYERS + 1];
	layout(n, scratch, act, delta);
	forward_all(n, x, act);
	memcpy(out, act[n->nlayers], fcap_net_outputs(n) * sizeof(double));
}

double fcap_net_logit(const struct fcap_net *n, const double *x, double *scratch)
{
	double *act[FCAP_NN_MAX_LAYERS + 1], *delta[FCAP_NN_MAX_LAYERS + 1];
	layout(n, scratch, act, delta);
	struct fcap_net hidden = *n;
	hidden.nlayers = n->nlayers - 1;
	if (hidden.nlayers)
		forward_all(&hidden, x, act);
	const struct fcap_layer *l = &n->l[n->nlayers - 1];
	const double *in = hidden.nlayers ? act[hidden.nlayers] : x;
	double z = l->b[0];
	for (uint32_t k = 0; k < l->in; k++)
		z += l->w[k] * in[k];
	return z;
}

double fcap_net_train_step(struct fcap_net *n, const double *x, const double *t, bool bce, double weight, double lr,
			   double *scratch)
{
	double *act[FCAP_NN_MAX_LAYERS + 1], *delta[FCAP_NN_MAX_LAYERS + 1];
	layout(n, scratch, act, delta);
	forward_all(n, x, act);
	uint32_t L = n->nlayers;
	const struct fcap_layer *last = &n->l[L - 1];
	double loss = 0;
	for (uint32_t j = 0; j < last->out; j++) {
		double y = act[L][j];
		if (bce) {
			/* d(BCE)/dz of a sigmoid output is y - t. */
			double yc = y < 1e-12 ? 1e-12 : (y > 1 - 1e-12 ? 1 - 1e-12 : y);
			loss -= t[j] * log(yc) + (1 - t[j]) * log(1 - yc);
			delta[L - 1][j] = (y - t[j]) * weight;
		} else {
			double e = y - t[j];
			loss += e * e;
			delta[L - 1][j] = e * y * (1 - y) * weight;
		}
	}
	for (uint32_t i = L; i-- > 0;) {
		struct fcap_layer *l = &n->l[i];
		const double *in = i == 0 ? x : act[i];
		if (i > 0) {
			for (uint32_t k = 0; k < l->in; k++) {
				double g = 0;
				for (uint32_t j = 0; j < l->out; j++)
					g += l->w[(size_t)j * l->in + k] * delta[i][j];
				delta[i - 1][k] = g * in[k] * (1 - in[k]);
			}
		}
		for (uint32_t j = 0; j < l->out; j++) {
			double d = lr * delta[i][j];
			double *w = l->w + (size_t)j * l->in;
			for (uint32_t k = 0; k < l->in; k++)
				w[k] -= d * in[k];
			l->b[j] -= d;
		}
	}
	n->quantized = false;
	return loss;
}
