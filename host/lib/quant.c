/*
 * quant.c - fixed-point networks (fcap/nn.h): quantization with a proved
 * accumulator bound, the one-packet integer forward pass, the sigmoid's
 * coefficients and the square-root and log tables (fixed.h).
 */
#include "fcap/nn.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fixed.h"

#define ACC_LIMIT 2147483647.0
#define IN_MAX 32768.0                     /* largest |input| of any layer */

const int32_t fcap_sig_coef[4][SIG_SEGS] = {
	{ 131072, 191643, 230896, 249712, 257429, 260390, 261496, 261905 },
	{ 65737, 51730, 27512, 11802, 4608, 1733, 643, 237 },
	{ -1057, -13074, -10443, -5121, -2097, -802, -300, -111 },
	{ -4110, 597, 1747, 1036, 449, 175, 66, 24 },
};
uint32_t fcap_sqrt_table[1024 - 256 + 1];
uint32_t fcap_sqrt_pairs[1024];
int32_t fcap_log2_table[257];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	for (int k = 256; k <= 1024; k++)
		fcap_sqrt_table[k - 256] = (uint32_t)lround(sqrt(16.0 * k) * 256.0);
	for (int k = 0; k < 1024 - 256; k++)
		fcap_sqrt_pairs[k] = fcap_sqrt_table[k] | (fcap_sqrt_table[k + 1] - fcap_sqrt_table[k]) << 16;
	for (int k = 0; k <= 256; k++)
		fcap_log2_table[k] = (int32_t)lround(log2(1.0 + k / 256.0) * 65536.0);
}

void fcap_nn_tables(void)
{
	pthread_once(&once, build);
}

int16_t fcap_sigmoid_q16(int32_t z)
{
	fcap_nn_tables();
	return fixed_sigmoid(z);
}

int32_t fcap_ilog2_q16(uint64_t v)
{
	fcap_nn_tables();
	return fixed_ilog2_q16(v);
}

uint32_t fcap_isqrt64(uint64_t v)
{
	fcap_nn_tables();
	return fixed_isqrt64(v);
}

/* Fraction bits for row j: as many as keep every weight in int16 and the
 * worst-case accumulator inside int32. -1 if even 0 bits do not fit. */
static int row_frac(const struct fcap_layer *l, uint32_t j, uint32_t in_frac)
{
	const double *w = l->w + (size_t)j * l->in;
	double maxw = 0, sumw = 0;
	for (uint32_t k = 0; k < l->in; k++) {
		double a = fabs(w[k]);
		maxw = a > maxw ? a : maxw;
		sumw += a;
	}
	for (int f = FCAP_NN_MAX_FRAC; f >= 0; f--) {
		double s = ldexp(1.0, f);
		/* rounding adds at most 0.5 to each quantized weight and the bias */
		double bound = (sumw * s + 0.5 * l->in) * IN_MAX + fabs(l->b[j]) * ldexp(s, (int)in_frac) + 0.5;
		if (maxw * s <= 32767.0 && bound <= ACC_LIMIT * 0.99)
			return f;
	}
	return -1;
}

int fcap_net_quantize(struct fcap_net *n, uint32_t input_frac, char *errbuf)
{
	fcap_nn_tables();
	for (uint32_t i = 0; i < n->nlayers; i++) {
		struct fcap_layer *l = &n->l[i];
		l->in_frac = i == 0 ? input_frac : FCAP_ACT_FRAC;
		for (uint32_t j = 0; j < l->out; j++) {
			int f = row_frac(l, j, l->in_frac);
			if (f < 0)
				return fcap_err(errbuf, "quantize: layer %u neuron %u: weights too large for int16", i, j);
			l->frac[j] = (uint8_t)f;
			for (uint32_t k = 0; k < l->in; k++)
				l->wq[(size_t)j * l->in + k] = (int16_t)lround(ldexp(l->w[(size_t)j * l->in + k], f));
			l->bq[j] = (int32_t)lround(ldexp(l->b[j], f + (int)l->in_frac));
		}
	}
	n->quantized = true;
	if (fcap_net_check_bounds(n, errbuf) < 0)
		return -1;
	return fcap_net_pack(n, errbuf);
}

/*
 * Packed layout: for each block of 4 output rows and each pair of inputs
 * (k, k+1), 8 int16: w[j][k], w[j][k+1] for j = 4b .. 4b+3 (zero past the
 * last row or input). One pmaddwd of such a vector with (x[k], x[k+1])
 * repeated gives the 4 rows' partial sums for that pair.
 */
static size_t packed_len(const struct fcap_layer *l)
{
	return (size_t)((l->out + 3) / 4) * ((l->in + 1) / 2) * 8;
}

int fcap_net_pack(struct fcap_net *n, char *errbuf)
{
	for (uint32_t i = 0; i < n->nlayers; i++) {
		struct fcap_layer *l = &n->l[i];
		free(l->wp);
		l->wp = NULL;
		size_t len = packed_len(l);
		void *p = NULL;
		if (posix_memalign(&p, 16, len * sizeof(int16_t)) != 0)
			return fcap_err(errbuf, "network: out of memory");
		l->wp = p;
		uint32_t pairs = (l->in + 1) / 2;
		free(l->wpair);
		l->wpair = malloc((size_t)l->out * pairs * sizeof(int32_t));
		if (!l->wpair)
			return fcap_err(errbuf, "network: out of memory");
		for (uint32_t j = 0; j < l->out; j++)
			for (uint32_t q = 0; q < pairs; q++) {
				const int16_t *w = l->wq + (size_t)j * l->in + 2 * q;
				uint16_t hi = 2 * q + 1 < l->in ? (uint16_t)w[1] : 0;
				l->wpair[(size_t)j * pairs + q] = (int32_t)((uint32_t)(uint16_t)w[0] | (uint32_t)hi << 16);
			}
		for (uint32_t b = 0; b < (l->out + 3) / 4; b++)
			for (uint32_t q = 0; q < pairs; q++)
				for (uint32_t r = 0; r < 4; r++)
					for (uint32_t h = 0; h < 2; h++) {
						uint32_t j = 4 * b + r, k = 2 * q + h;
						l->wp[((size_t)b * pairs + q) * 8 + r * 2 + h] =
							j < l->out && k < l->in ? l->wq[(size_t)j * l->in + k] : 0;
					}
	}
	return 0;
}

int fcap_net_check_bounds(const struct fcap_net *n, char *errbuf)
{
	fcap_nn_tables();
	for (uint32_t i = 0; i < n->nlayers; i++) {
		const struct fcap_layer *l = &n->l[i];
		if (l->in_frac > FCAP_NN_MAX_FRAC)
			return fcap_err(errbuf, "layer %u: input fraction bits %u > %d", i, l->in_frac, FCAP_NN_MAX_FRAC);
		if (i > 0 && l->in_frac != FCAP_ACT_FRAC)
			return fcap_err(errbuf, "layer %u: input fraction bits %u, expected %d", i, l->in_frac,
					FCAP_ACT_FRAC);
		for (uint32_t j = 0; j < l->out; j++) {
			if (l->frac[j] > FCAP_NN_MAX_FRAC)
				return fcap_err(errbuf, "layer %u neuron %u: %u fraction bits > %d", i, j, l->frac[j],
						FCAP_NN_MAX_FRAC);
			int64_t sum = 0;
			for (uint32_t k = 0; k < l->in; k++)
				sum += abs(l->wq[(size_t)j * l->in + k]);
			int64_t bound = sum * 32768 + (l->bq[j] < 0 ? -(int64_t)l->bq[j] : l->bq[j]);
			if (bound > INT32_MAX)
				return fcap_err(errbuf, "layer %u neuron %u: accumulator could reach %lld, beyond int32", i,
						j, (long long)bound);
		}
	}
	return 0;
}

size_t fcap_net_scratch_q(const struct fcap_net *n)
{
	size_t s = 0;
	for (uint32_t i = 0; i < n->nlayers; i++)
		s += n->l[i].out;
	return s;
}

/*
 * Integer dot product. fcap_net_check_bounds proved that the sum of the
 * absolute values of all terms and the bias is below 2^31, so no partial
 * sum, in any order, can overflow: the SIMD lanes (pmaddwd adds pairs of
 * products into 32-bit lanes) give exactly the scalar result.
 */
static int32_t dot_q(const int16_t *w, const int16_t *x, uint32_t n, int32_t acc)
{
	uint32_t k = 0;
#if defined(__SSE2__)
	__m128i sum = _mm_setzero_si128();
	for (; k + 8 <= n; k += 8) {
		__m128i a = _mm_loadu_si128((const __m128i *)(w + k));
		__m128i b = _mm_loadu_si128((const __m128i *)(x + k));
		sum = _mm_add_epi32(sum, _mm_madd_epi16(a, b));
	}
	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
	acc += _mm_cvtsi128_si32(sum);
#endif
	for (; k < n; k++)
		acc += (int32_t)w[k] * x[k];
	return acc;
}

/* Pre-activation of row j in Q16, saturated to int32. */
static inline int32_t preact_q16(const struct fcap_layer *l, uint32_t j, const int16_t *x)
{
	int32_t acc = dot_q(l->wq + (size_t)j * l->in, x, l->in, l->bq[j]);
	return fixed_to_q16(acc, (int)l->frac[j] + (int)l->in_frac - Z_FRAC);
}

static void layer_q(const struct fcap_layer *l, const int16_t *x, int16_t *y)
{
#if defined(__SSE2__)
	/* Four rows at a time from the packed weights; partial sums are subsets
	 * of the terms that fcap_net_check_bounds bounded, so none overflows. */
	uint32_t pairs = (l->in + 1) / 2;
	int32_t xp[FCAP_NN_MAX_WIDTH / 2];
	for (uint32_t q = 0; q < pairs; q++) {
		uint16_t lo = (uint16_t)x[2 * q], hi = 2 * q + 1 < l->in ? (uint16_t)x[2 * q + 1] : 0;
		xp[q] = (int32_t)((uint32_t)lo | (uint32_t)hi << 16);
	}
	const __m128i *w = (const __m128i *)l->wp;
	for (uint32_t b = 0; b < (l->out + 3) / 4; b++) {
		__m128i acc = _mm_setzero_si128();
		for (uint32_t q = 0; q < pairs; q++)
			acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_load_si128(w++), _mm_set1_epi32(xp[q])));
		int32_t s[4];
		_mm_storeu_si128((__m128i *)s, acc);
		for (uint32_t r = 0; r < 4 && 4 * b + r < l->out; r++) {
			uint32_t j = 4 * b + r;
			y[j] = fixed_sigmoid(fixed_to_q16(s[r] + l->bq[j], (int)l->frac[j] + (int)l->in_frac - Z_FRAC));
		}
	}
#else
	for (uint32_t j = 0; j < l->out; j++)
		y[j] = fixed_sigmoid(preact_q16(l, j, x));
#endif
}

void fcap_net_forward_q(const struct fcap_net *n, const int16_t *x, int16_t *out, int16_t *scratch)
{
	const int16_t *in = x;
	for (uint32_t i = 0; i < n->nlayers; i++) {
		int16_t *y = i + 1 == n->nlayers ? out : scratch;
		layer_q(&n->l[i], in, y);
		in = y;
		scratch += n->l[i].out;
	}
}

int32_t fcap_net_logit_q(const struct fcap_net *n, const int16_t *x, int16_t *scratch)
{
	const int16_t *in = x;
	for (uint32_t i = 0; i + 1 < n->nlayers; i++) {
		layer_q(&n->l[i], in, scratch);
		in = scratch;
		scratch += n->l[i].out;
	}
	return preact_q16(&n->l[n->nlayers - 1], 0, in);
}
