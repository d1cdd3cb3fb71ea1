/*
 * test_model.c - networks, quantization, calibration and model files
 * (host/lib/nn.c, quant.c, calib.c, model_file.c, train.c, score.c).
 *
 *  - quantization: every neuron of random layers stays within the error
 *    bound derived from its own scale (docs/MODELS.md), measured vs bound;
 *  - table sigmoid and square root against libm;
 *  - thresholds: quantile and log-normal tail on data with a known answer;
 *  - model files: round trip (identical scores), every byte flipped, every
 *    length cut, version mismatch, and fields made invalid with a valid
 *    checksum (so the structural checks, not the CRC, must catch them),
 *    plus random mutations: a clear error or a valid model, never a crash;
 *  - training is deterministic under a seed, and the seed matters.
 *
 * usage: test_model DIR   (scratch directory)
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fcap/model.h"

static const char *dir;

static char *path_of(const char *name)
{
	static char p[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* ---------------- quantization ---------------- */

static void test_quant_layers(void)
{
	static const uint32_t shapes[][4] = { { 3, 10, 8, 10 }, { 3, 100, 32, 16 }, { 2, 1, 1, 1 }, { 3, 40, 30, 1 } };
	char err[FCAP_ERRBUF_SIZE];
	double worst_ratio = 0;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		uint64_t rng = 1000 + s;
		struct fcap_net n;
		uint32_t w[4] = { shapes[s][1], shapes[s][2], shapes[s][3], 1 };
		CU_ASSERT_EQUAL_FATAL(fcap_net_init(&n, shapes[s][0] - 1, w, &rng, err), 0);
		/* spread the weights: some large, some tiny, so rows get different scales */
		for (uint32_t i = 0; i < n.nlayers; i++)
			for (size_t k = 0; k < (size_t)n.l[i].in * n.l[i].out; k++)
				n.l[i].w[k] *= (k % 7 == 0) ? 6.0 : (k % 5 == 0 ? 0.01 : 1.0);
		for (uint32_t i = 0; i < n.nlayers; i++)
			for (uint32_t j = 0; j < n.l[i].out; j++)
				n.l[i].b[j] = fcap_rng_uniform(&rng) * 4 - 2;
		CU_ASSERT_EQUAL_FATAL(fcap_net_quantize(&n, FCAP_IN_FRAC, err), 0);
		for (uint32_t i = 0; i < n.nlayers; i++) {
			const struct fcap_layer *l = &n.l[i];
			int16_t *xq = calloc(l->in, 2), *yq = calloc(l->out, 2);
			double *x = calloc(l->in, 8);
			for (int trial = 0; trial < 200; trial++) {
				for (uint32_t k = 0; k < l->in; k++) {
					/* first layer: Q11 in +-16; later: Q15 activations in [0, 1) */
					double u = fcap_rng_uniform(&rng);
					xq[k] = i == 0 ? (int16_t)lround((u * 2 - 1) * 32767) : (int16_t)lround(u * 32767);
					x[k] = ldexp(xq[k], -(int)l->in_frac);
				}
				struct fcap_net one = { .nlayers = 1, .l = { *l }, .quantized = true };
				fcap_net_forward_q(&one, xq, yq, NULL);
				for (uint32_t j = 0; j < l->out; j++) {
					const double *wr = l->w + (size_t)j * l->in;
					double z = l->b[j], sum_abs_x = 0;
					for (uint32_t k = 0; k < l->in; k++) {
						z += wr[k] * x[k];
						sum_abs_x += fabs(x[k]);
					}
					double want = fcap_sigmoid(z), got = yq[j] / 32768.0;
					/* Bound: weights and bias rounded to half a unit of their scale,
					 * the shift to Q16 rounds, sigmoid slope <= 1/4, and the fixed
					 * sigmoid's own error, output rounding included (below 6.5e-5:
					 * test_sigmoid_sweep). */
					double wstep = ldexp(1.0, -(int)l->frac[j]);
					double dz = sum_abs_x * wstep / 2 + ldexp(wstep, -(int)l->in_frac) / 2 + ldexp(1, -16);
					double bound = dz / 4 + 6.5e-5 + 1e-6;
					if (fabs(z) + dz > 8)   /* the table saturates at +-8 */
						bound += 1 - fcap_sigmoid(8);
					double e = fabs(got - want);
					if (e / bound > worst_ratio)
						worst_ratio = e / bound;
					if (e > bound) {
						fprintf(stderr, "\nshape %zu layer %u neuron %u: error %.3g > bound %.3g\n", s, i, j, e, bound);
						CU_FAIL("quantization error beyond its bound");
						trial = 1000;
						break;
					}
				}
			}
			free(xq);
			free(yq);
			free(x);
		}
		CU_ASSERT_EQUAL(fcap_net_check_bounds(&n, err), 0);
		fcap_net_free(&n);
	}
	printf("(worst error / bound %.3f) ", worst_ratio);
	CU_ASSERT(worst_ratio > 0);   /* the bound is not vacuous: errors exist */
}

/* The SIMD forward pass gives exactly the integer result of the definition
 * (docs/MODELS.md), computed here one term at a time in int64. */
static void test_forward_exact(void)
{
	char err[FCAP_ERRBUF_SIZE];
	uint64_t rng = 31;
	for (int t = 0; t < 40; t++) {
		uint32_t w[2] = { 1 + (uint32_t)(fcap_rng_next(&rng) % 40), 1 + (uint32_t)(fcap_rng_next(&rng) % 21) };
		struct fcap_net n;
		CU_ASSERT_EQUAL_FATAL(fcap_net_init(&n, 1, w, &rng, err), 0);
		for (uint32_t j = 0; j < w[1]; j++)
			n.l[0].b[j] = fcap_rng_uniform(&rng) * 2 - 1;
		CU_ASSERT_EQUAL_FATAL(fcap_net_quantize(&n, FCAP_IN_FRAC, err), 0);
		const struct fcap_layer *l = &n.l[0];
		int16_t x[64], y[64];
		for (uint32_t k = 0; k < w[0]; k++)
			x[k] = (int16_t)((int64_t)(fcap_rng_next(&rng) % 65535) - 32767);
		fcap_net_forward_q(&n, x, y, NULL);
		for (uint32_t j = 0; j < w[1]; j++) {
			int64_t acc = l->bq[j];
			for (uint32_t k = 0; k < w[0]; k++)
				acc += (int64_t)l->wq[(size_t)j * l->in + k] * x[k];
			int sh = l->frac[j] + FCAP_IN_FRAC - 16;
			int64_t z = sh > 0 ? (acc + ((int64_t)1 << (sh - 1))) >> sh : acc * ((int64_t)1 << -sh);
			z = z > INT32_MAX ? INT32_MAX : (z < INT32_MIN ? INT32_MIN : z);
			CU_ASSERT_EQUAL(y[j], fcap_sigmoid_q16((int32_t)z));
		}
		fcap_net_free(&n);
	}
}

/* ---------------- packet groups (nn_lanes.c) ---------------- */

/* The SIMD implementations this CPU has; the portable one always. */
static int simd_modes(enum fcap_simd *m)
{
	int n = 0;
	m[n++] = FCAP_SIMD_SCALAR;
	if (fcap_simd_best() != FCAP_SIMD_SCALAR)
		m[n++] = fcap_simd_best();
	else
		printf("(no AVX2 here: portable path only) ");
	return n;
}

/* One fixed-point layer for one packet, term by term in int64: the
 * definition of docs/MODELS.md, written again here. */
static void layer_def(const struct fcap_layer *l, const int32_t *x, int32_t *y, bool logit)
{
	for (uint32_t j = 0; j < l->out; j++) {
		int64_t acc = l->bq[j];
		for (uint32_t k = 0; k < l->in; k++)
			acc += (int64_t)l->wq[(size_t)j * l->in + k] * x[k];
		int sh = l->frac[j] + (int)l->in_frac - 16;
		int64_t z = sh > 0 ? (acc + ((int64_t)1 << (sh - 1))) >> sh : acc * ((int64_t)1 << -sh);
		z = z > INT32_MAX ? INT32_MAX : (z < INT32_MIN ? INT32_MIN : z);
		y[j] = logit ? (int32_t)z : fcap_sigmoid_q16((int32_t)z);
	}
}

/* A random net whose rows cover the rescale's cases: right shifts, no
 * shift and left shifts (weights so large that frac + in_frac <= 16), and a
 * first layer read at 30 fraction bits (shifts past 31). */
static void random_net(struct fcap_net *n, uint32_t nl, const uint32_t *w, uint64_t *rng, int variant)
{
	char err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_EQUAL_FATAL(fcap_net_init(n, nl, w, rng, err), 0);
	for (uint32_t i = 0; i < nl; i++) {
		struct fcap_layer *l = &n->l[i];
		for (uint32_t j = 0; j < l->out; j++) {
			double *row = l->w + (size_t)j * l->in;
			l->b[j] = fcap_rng_uniform(rng) * 8 - 4;
			for (uint32_t k = 0; k < l->in; k++)
				row[k] *= variant == 3 ? 1e-3 : 4.0;
			/* variant 1: large weights set the row's scale, frac + in_frac - 16:
			 * in the first layer -1 (two weights: a logit can overflow the
			 * shift), 0 or -2; after it -1 or 0 */
			if (variant == 1) {
				static const double first[3] = { 2000.0, 1000.0, 4000.0 }, later[3] = { 20000.0, 10000.0, 20000.0 };
				row[0] = i == 0 ? first[j % 3] : later[j % 3];
				if (i == 0 && j % 3 == 0 && l->in > 1)
					row[1] = -2000.0;
			}
		}
	}
	CU_ASSERT_EQUAL_FATAL(fcap_net_quantize(n, FCAP_IN_FRAC, err), 0);
	if (variant == 3) {
		n->l[0].in_frac = 30;   /* as a model file may say: with tiny weights, shifts past 31 */
		CU_ASSERT_EQUAL_FATAL(fcap_net_pack(n, err), 0);
	}
}

/* Lanes against the one-packet path and the int64 definition, exactly. */
static void test_lanes_exact(void)
{
	static const uint32_t shapes[][5] = {   /* layers, then the widths */
		{ 2, 10, 8, 10 }, { 2, 9, 7, 9 }, { 2, 1, 1, 1 }, { 2, 2, 2, 2 }, { 3, 117, 16, 8, 1 }, { 3, 5, 3, 2, 1 },
		{ 1, 13, 4 }, { 2, 14, 11, 14 }, { 2, 40, 33, 40 }, { 3, 6, 5, 4, 6 }, { 1, 3, 1 }, { 1, 2, 1 },
	};
	enum fcap_simd modes[2];
	int nm = simd_modes(modes);
	uint64_t rng = 4242;
	size_t lanes_checked = 0, sqerr_checked = 0, shifts[3] = { 0 };   /* rows shifted left, not at all, by >= 32 */
	size_t saturated = 0;   /* logits at the int32 limits */
	for (size_t sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++) {
		for (int variant = 0; variant < 4; variant++) {
			struct fcap_net n;
			uint32_t nl = shapes[sh][0], w[5] = { shapes[sh][1], shapes[sh][2], shapes[sh][3], shapes[sh][4], 0 };
			random_net(&n, nl, w, &rng, variant);
			for (uint32_t i = 0; i < nl; i++)
				for (uint32_t j = 0; j < n.l[i].out; j++) {
					int sh = n.l[i].frac[j] + (int)n.l[i].in_frac - 16;
					shifts[0] += sh < 0;
					shifts[1] += sh == 0;
					shifts[2] += sh >= 32;
				}
			uint32_t in = w[0], out = w[nl];
			fcap_lanes *x = calloc(in, sizeof(fcap_lanes)), *y = calloc(out, sizeof(fcap_lanes));
			fcap_lanes *scr = calloc(fcap_ae_scratch_lanes(&n), sizeof(fcap_lanes));
			int16_t *xq = calloc(in, 2), *yq = calloc(out, 2), *sq = calloc(fcap_net_scratch_q(&n), 2);
			int32_t *a = calloc(FCAP_NN_MAX_WIDTH, 4), *b = calloc(FCAP_NN_MAX_WIDTH, 4);
			for (int trial = 0; trial < 6; trial++) {
				/* inputs: random, extremes, zero */
				for (uint32_t k = 0; k < in; k++)
					for (int p = 0; p < FCAP_LANES; p++) {
						int64_t r = (int64_t)(fcap_rng_next(&rng) % 65535) - 32767;
						x[k][p] = trial == 0 ? ((p + k) % 2 ? 32767 : -32767) : trial == 1 ? 0 : (int32_t)r;
					}
				for (int m = 0; m < nm; m++) {
					CU_ASSERT_EQUAL_FATAL(fcap_simd_use(modes[m]), 0);
					for (int logit = 0; logit < 2; logit++) {
						if (logit && out != 1)
							continue;
						fcap_net_forward_lanes(&n, (const fcap_lanes *)x, y, logit, scr);
						for (int p = 0; p < FCAP_LANES; p++) {
							for (uint32_t k = 0; k < in; k++)
								a[k] = x[k][p], xq[k] = (int16_t)x[k][p];
							for (uint32_t i = 0; i < nl; i++) {
								layer_def(&n.l[i], a, b, logit && i + 1 == nl);
								memcpy(a, b, n.l[i].out * 4);
							}
							int32_t one = logit ? fcap_net_logit_q(&n, xq, sq) : 0;
							if (!logit)
								fcap_net_forward_q(&n, xq, yq, sq);
							for (uint32_t j = 0; j < out; j++) {
								CU_ASSERT_EQUAL(y[j][p], a[j]);
								CU_ASSERT_EQUAL(y[j][p], logit ? one : yq[j]);
								lanes_checked++;
								saturated += logit && (a[j] == INT32_MAX || a[j] == INT32_MIN);
							}
						}
					}
					if (in != out)
						continue;
					/* the autoencoder form: reversed inputs through idx, squared errors */
					uint32_t idx[64];
					fcap_lanes *xr = calloc(in, sizeof(fcap_lanes));
					for (uint32_t k = 0; k < in; k++) {
						idx[k] = in - 1 - k;
						memcpy(xr[k], x[idx[k]], sizeof(fcap_lanes));
					}
					uint64_t sum[FCAP_LANES];
					fcap_ae_sqerr_lanes(&n, (const fcap_lanes *)x, idx, 4, sum, scr);
					fcap_net_forward_lanes(&n, (const fcap_lanes *)xr, y, false, scr);
					for (int p = 0; p < FCAP_LANES; p++) {
						uint64_t want = 0;
						for (uint32_t j = 0; j < in; j++) {
							int64_t e = (int64_t)xr[j][p] * 16 - y[j][p];
							want += (uint64_t)(e * e);
						}
						CU_ASSERT_EQUAL(sum[p], want);
						sqerr_checked++;
					}
					free(xr);
				}
			}
			CU_ASSERT_EQUAL(fcap_simd_use(fcap_simd_best()), 0);
			free(x), free(y), free(scr), free(xq), free(yq), free(sq), free(a), free(b);
			fcap_net_free(&n);
		}
	}
	printf("(%zu outputs, %zu squared-error sums; rows shifted left %zu, not %zu, by >= 32 %zu; %zu logits "
	       "saturated) ", lanes_checked, sqerr_checked, shifts[0], shifts[1], shifts[2], saturated);
	CU_ASSERT(shifts[0] > 0 && shifts[1] > 0 && shifts[2] > 0);
	CU_ASSERT(saturated > 0);
}

/* The sigmoid for every z in [-2^20, 2^20] and at the int32 ends, through
 * a one-weight layer whose accumulator is z (weight 1 at 5 fraction bits,
 * Q11 input: no shift): every implementation gives the scalar definition,
 * and that stays within the documented error. The sweep reaches every
 * piece and every 15-bit fraction of the cubic, so UBSan (the tests' build)
 * would stop on any product of Horner's rule that left int32. */
static void test_sigmoid_sweep(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_net n;
	uint32_t w[2] = { 1, 1 };
	CU_ASSERT_EQUAL_FATAL(fcap_net_init(&n, 1, w, NULL, err), 0);
	n.l[0].w[0] = 1.0 / 32;
	CU_ASSERT_EQUAL_FATAL(fcap_net_quantize(&n, FCAP_IN_FRAC, err), 0);
	n.l[0].wq[0] = 1;
	n.l[0].frac[0] = 5;
	CU_ASSERT_EQUAL_FATAL(fcap_net_pack(&n, err), 0);
	enum fcap_simd modes[2];
	int nm = simd_modes(modes);
	fcap_lanes x, y, scr[4];
	for (int p = 0; p < FCAP_LANES; p++)
		x[p] = p;
	double worst_in = 0, worst_out = 0;
	size_t mismatches = 0, nonmono = 0;
	int16_t prev = 0;
	const int64_t top = INT32_MAX - (FCAP_LANES - 1);   /* the last group: z up to INT32_MAX */
	for (int64_t base = -(1 << 20) - 8; base <= (1 << 20) + 8 || base == top; base += FCAP_LANES) {
		n.l[0].bq[0] = (int32_t)base;
		for (int m = 0; m < nm; m++) {
			fcap_simd_use(modes[m]);
			fcap_net_forward_lanes(&n, (const fcap_lanes *)&x, &y, false, scr);
			for (int p = 0; p < FCAP_LANES; p++) {
				int32_t z = (int32_t)(base + p);
				int16_t want = fcap_sigmoid_q16(z);
				mismatches += y[p] != want;
				if (m)
					continue;
				double e = fabs(want / 32768.0 - fcap_sigmoid(z / 65536.0));
				if (z > -(8 << 16) && z < (8 << 16))
					worst_in = e > worst_in ? e : worst_in;
				else
					worst_out = e > worst_out ? e : worst_out;
				nonmono += want < prev - 1 && base > -(1 << 20);   /* at most 1 LSB back */
				prev = want;
			}
		}
		if (base > (1 << 20) && base < top)
			base = top - FCAP_LANES;   /* then the top end, once */
	}
	/* the bottom end */
	n.l[0].bq[0] = INT32_MIN + 32767;
	for (int p = 0; p < FCAP_LANES; p++)
		x[p] = -32767 + p;
	for (int m = 0; m < nm; m++) {
		fcap_simd_use(modes[m]);
		fcap_net_forward_lanes(&n, (const fcap_lanes *)&x, &y, false, scr);
		for (int p = 0; p < FCAP_LANES; p++)
			mismatches += y[p] != fcap_sigmoid_q16(INT32_MIN + p);
	}
	fcap_simd_use(fcap_simd_best());
	printf("(worst error %.2e inside +-8, %.2e beyond) ", worst_in, worst_out);
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(nonmono, 0);
	CU_ASSERT(worst_in < 6.5e-5);
	CU_ASSERT(worst_out < 3.4e-4);
	CU_ASSERT(worst_in > 0);
	CU_ASSERT_EQUAL(fcap_sigmoid_q16(0), 16384);
	fcap_net_free(&n);
}

/* The RMSE's square root and the normalisation in lanes against the
 * scalar definitions: zero, every power of two and its neighbours below
 * 2^53 (sums of squared errors are below 2^49), random sums; edge
 * normalisations. */
static void test_rmse_norm_lanes(void)
{
	enum fcap_simd modes[2];
	int nm = simd_modes(modes);
	uint64_t sums[53 * 3 + 405];
	size_t ns = 0;
	for (int b = 0; b < 53; b++)
		for (int d = -1; d <= 1; d++)
			sums[ns++] = ((uint64_t)1 << b) + (uint64_t)(int64_t)d;
	sums[0] = 0;
	uint64_t rng = 17;
	while (ns < sizeof(sums) / sizeof(sums[0]))
		sums[ns++] = fcap_rng_next(&rng) >> (11 + fcap_rng_next(&rng) % 53);   /* < 2^53 */
	size_t bad = 0, checked = 0;
	static const uint32_t isq[] = { 65536, 46341, 20724, 2048 };
	for (int m = 0; m < nm; m++) {
		fcap_simd_use(modes[m]);
		for (size_t i = 0; i + FCAP_LANES <= ns; i += FCAP_LANES)
			for (size_t q = 0; q < sizeof(isq) / sizeof(isq[0]); q++) {
				fcap_lanes r;
				fcap_rmse_q20_lanes(sums + i, isq[q], r);
				for (int p = 0; p < FCAP_LANES; p++, checked++)
					bad += (uint32_t)r[p] != (uint32_t)(((uint64_t)fcap_isqrt64(sums[i + p] << 10) * isq[q]) >> 16);
			}
		static const int32_t mins[] = { 0, 1048576, 1000 << 20, 12345 };
		static const int64_t mul[] = { 0, 1, 128, 1 << 20, 1 << 27 };
		for (size_t a = 0; a < 4; a++)
			for (size_t b = 0; b < 5; b++)
				for (int t = 0; t < 40; t++) {
					fcap_lanes v, out;
					for (int p = 0; p < FCAP_LANES; p++)
						v[p] = t == 0 ? (p ? INT32_MAX - p : 0) : (int32_t)(fcap_rng_next(&rng) >> (33 + t % 30));
					fcap_norm_lanes(v, mins[a], mul[b], out);
					for (int p = 0; p < FCAP_LANES; p++, checked++)
						bad += out[p] != fcap_norm_q((uint32_t)v[p], mins[a], mul[b]);
				}
	}
	fcap_simd_use(fcap_simd_best());
	printf("(%zu values) ", checked);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(fcap_norm_q(0, 1 << 20, 1 << 20), -32767);
	CU_ASSERT_EQUAL(fcap_norm_q(3 << 20, 1 << 20, 128), 4096);   /* (3 - 1) * 1, Q20 to Q11 */
	CU_ASSERT_EQUAL(fcap_isqrt64(0), 0);
}

/* Features to Q11 in lanes, special values included, against fcap_q11. */
static void test_q11_lanes(void)
{
	static const double special[] = { NAN, INFINITY, -INFINITY, 1e300, -1e300, -0.0, 0.5, -0.5, 1.5, -2.5,
					  32766.5, -32766.5, 32767.4999, 32767.5, -32768.0, 1e-300 };
	enum { NF = 23 };
	double feat[FCAP_LANES * NF], a[NF], b[NF];
	uint64_t rng = 99;
	for (int i = 0; i < NF; i++) {
		a[i] = i % 5 ? fcap_rng_uniform(&rng) * 4096 : 2048.0;
		b[i] = i % 5 ? fcap_rng_uniform(&rng) * 100 - 50 : 0.0;
	}
	enum fcap_simd modes[2];
	int nm = simd_modes(modes);
	size_t bad = 0;
	for (int trial = 0; trial < 50; trial++) {
		for (int k = 0; k < FCAP_LANES * NF; k++) {
			uint64_t r = fcap_rng_next(&rng);
			feat[k] = r % 4 == 0 ? special[(r >> 8) % (sizeof(special) / sizeof(special[0]))] / 2048.0
								: (fcap_rng_uniform(&rng) * 40 - 20);
		}
		for (int m = 0; m < nm; m++) {
			fcap_simd_use(modes[m]);
			for (size_t n = 1; n <= FCAP_LANES; n += n < 7 ? 3 : 1) {
				fcap_lanes out[NF];
				memset(out, 0x55, sizeof(out));
				fcap_q11_lanes(feat, NF, n, a, b, NF, out);
				for (int i = 0; i < NF; i++)
					for (size_t p = 0; p < FCAP_LANES; p++)
						bad += out[i][p] != (p < n ? fcap_q11(feat[p * NF + i] * a[i] + b[i]) : 0);
			}
		}
	}
	fcap_simd_use(fcap_simd_best());
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(fcap_q11(NAN), 0);
	CU_ASSERT_EQUAL(fcap_q11(1e300), 32767);
	CU_ASSERT_EQUAL(fcap_q11(-INFINITY), -32767);
	CU_ASSERT_EQUAL(fcap_q11(2.5), 3);
	CU_ASSERT_EQUAL(fcap_q11(-2.5), -3);
}

/* Weights too large to keep the accumulator in int32 are refused. */
static void test_quant_refuses(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_net n;
	uint32_t w[2] = { 4, 1 };
	CU_ASSERT_EQUAL_FATAL(fcap_net_init(&n, 1, w, NULL, err), 0);
	n.l[0].w[0] = 70000.0;
	CU_ASSERT_EQUAL(fcap_net_quantize(&n, FCAP_IN_FRAC, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too large"));
	n.l[0].w[0] = 1.0;
	CU_ASSERT_EQUAL(fcap_net_quantize(&n, FCAP_IN_FRAC, err), 0);
	n.l[0].wq[1] = 32767;
	n.l[0].wq[2] = 32767;
	n.l[0].wq[3] = 32767;   /* 4 * 32767 * 32768 > 2^31 */
	CU_ASSERT_EQUAL(fcap_net_check_bounds(&n, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "beyond int32"));
	fcap_net_free(&n);
}

static void test_tables(void)
{
	double worst = 0;
	for (int32_t z = -(9 << 16); z <= (9 << 16); z += 37) {
		double e = fabs(fcap_sigmoid_q16(z) / 32768.0 - fcap_sigmoid(z / 65536.0));
		worst = e > worst ? e : worst;
	}
	printf("(sigmoid worst %.2e) ", worst);
	CU_ASSERT(worst < 4e-4);   /* beyond +-8 the table saturates: 1 - sigmoid(8) = 3.4e-4 */
	worst = 0;
	uint64_t rng = 5;
	for (int i = 0; i < 100000; i++) {
		uint64_t v = fcap_rng_next(&rng) >> (fcap_rng_next(&rng) % 64);
		if (v == 0)
			continue;
		double want = sqrt((double)v), got = fcap_isqrt64(v);
		/* an integer result: half a unit, or the table's relative error */
		double e = (fabs(got - want) - 0.5) / want;
		worst = e > worst ? e : worst;
	}
	printf("(isqrt worst relative %.2e) ", worst);
	CU_ASSERT(worst < 2e-4);
	CU_ASSERT_EQUAL(fcap_isqrt64(0), 0);
}

/* ---------------- calibration ---------------- */

static void test_calibration(void)
{
	CU_ASSERT_DOUBLE_EQUAL(fcap_probit(0.975), 1.959963985, 1e-8);
	CU_ASSERT_DOUBLE_EQUAL(fcap_probit(0.999), 3.090232306, 1e-8);
	CU_ASSERT_DOUBLE_EQUAL(fcap_probit(0.01), -2.326347874, 1e-8);
	double v[1000];
	for (int i = 0; i < 1000; i++)
		v[(i * 7) % 1000] = i + 1;   /* 1..1000, shuffled */
	double t = fcap_calibrate(v, 1000, 0.01, FCAP_CALIB_QUANTILE);
	int over = 0;
	for (int i = 0; i < 1000; i++)
		over += v[i] > t;
	CU_ASSERT_EQUAL(over, 10);
	/* log-normal scores placed exactly on their quantiles: the fit recovers the tail */
	double mu = -3, sigma = 0.5;
	for (int i = 0; i < 1000; i++)
		v[i] = exp(mu + sigma * fcap_probit((i + 0.5) / 1000));
	t = fcap_calibrate(v, 1000, 0.001, FCAP_CALIB_LOGNORMAL);
	double want = exp(mu + sigma * 3.090232306);
	CU_ASSERT(fabs(t - want) / want < 0.02);
}

/* ---------------- a small trained model ---------------- */

/* Benign: four groups of features driven by shared factors plus noise;
 * attacks: group 2 off its usual relation. 100 features (Kitsune set). */
static void synth(struct fcap_dataset *ds, uint64_t seed, size_t n, double attack_frac)
{
	uint64_t rng = seed;
	ds->nfeat = FCAP_FEAT_KITSUNE;
	double x[FCAP_FEAT_KITSUNE];
	for (size_t r = 0; r < n; r++) {
		bool att = fcap_rng_uniform(&rng) < attack_frac;
		double f[4];
		for (int g = 0; g < 4; g++)
			f[g] = fcap_rng_uniform(&rng);
		for (int i = 0; i < FCAP_FEAT_KITSUNE; i++) {
			int g = i % 4;
			double v = f[g] * (1 + i % 5) + 0.05 * fcap_rng_uniform(&rng);
			if (att && g == 2)
				v = (1 - f[g]) * (1 + i % 5) * 3 + 4;   /* out of the benign relation and range */
			x[i] = v * 100;
		}
		fcap_dataset_add(ds, x, att ? 1 : 0, r < n * 3 / 4);
	}
}

static void train_small(struct fcap_model *m, uint64_t seed, bool supervised)
{
	struct fcap_dataset ds = { 0 };
	synth(&ds, 42, 1500, supervised ? 0.2 : 0.0);
	struct fcap_train_config c;
	fcap_train_defaults(&c);
	c.seed = seed;
	c.extras = false;
	c.epochs_ae = 2;
	c.epochs_mlp = 2;
	c.supervised = supervised;
	c.target_fpr = 0.01;
	char err[FCAP_ERRBUF_SIZE];
	int rc = fcap_model_train(m, &ds, &c, err);
	if (rc)
		fprintf(stderr, "train: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	fcap_dataset_free(&ds);
}

static uint8_t *slurp(const char *p, size_t *n)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(*n ? *n : 1);
	if (fread(b, 1, *n, f) != *n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static struct fcap_model trained;
static uint8_t *file_bytes;
static size_t file_len;

static void test_round_trip(void)
{
	char err[FCAP_ERRBUF_SIZE];
	train_small(&trained, 7, true);
	CU_ASSERT(trained.has_mlp);
	const char *p = path_of("m.fcm");
	CU_ASSERT_EQUAL_FATAL(fcap_model_save(&trained, p, err), 0);
	file_bytes = slurp(p, &file_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(file_bytes);
	struct fcap_model back;
	CU_ASSERT_EQUAL_FATAL(fcap_model_load(&back, p, err), 0);
	CU_ASSERT_EQUAL(back.nae, trained.nae);
	CU_ASSERT_EQUAL(back.thr_ae_q, trained.thr_ae_q);
	CU_ASSERT_EQUAL(back.thr_hyb_q, trained.thr_hyb_q);
	CU_ASSERT_EQUAL(back.thr_ae, trained.thr_ae);
	struct fcap_scorer *a = fcap_scorer_new(&trained, err), *b = fcap_scorer_new(&back, err);
	struct fcap_dataset ds = { 0 };
	synth(&ds, 99, 300, 0.3);
	int same = 0;
	double x[FCAP_FEAT_KITSUNE];
	for (size_t r = 0; r < ds.n; r++) {
		for (int i = 0; i < FCAP_FEAT_KITSUNE; i++)
			x[i] = ds.x[r * ds.nfeat + i];
		struct fcap_scores sa, sb, fa, fb;
		fcap_score_fixed(a, x, &sa);
		fcap_score_fixed(b, x, &sb);
		fcap_score_float(a, x, &fa);
		fcap_score_float(b, x, &fb);
		same += sa.ae == sb.ae && sa.mlp == sb.mlp && sa.hybrid == sb.hybrid && sa.alert == sb.alert &&
			fa.ae == fb.ae && fa.hybrid == fb.hybrid;
	}
	CU_ASSERT_EQUAL(same, (int)ds.n);
	fcap_dataset_free(&ds);
	fcap_scorer_free(a);
	fcap_scorer_free(b);
	fcap_model_free(&back);
}

/* Our own CRC-32 (bitwise, IEEE reflected), to re-seal files we damage on purpose. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void reseal(uint8_t *b, size_t n)
{
	memset(b + 24, 0, 4);
	uint32_t c = crc32_bitwise(b, n);
	memcpy(b + 24, &c, 4);
}

static int parse(uint8_t *b, size_t n, char *err)
{
	struct fcap_model m;
	int rc = fcap_model_parse(&m, b, n, "damaged.fcm", err);
	if (rc == 0) {
		/* a file that validates must also score without trouble */
		struct fcap_scorer *s = fcap_scorer_new(&m, err);
		double x[FCAP_FEAT_MAX] = { 0 };
		struct fcap_scores sc;
		if (s) {
			fcap_score_fixed(s, x, &sc);
			fcap_score_float(s, x, &sc);
		}
		fcap_scorer_free(s);
		fcap_model_free(&m);
	}
	return rc;
}

static void test_corruption(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(file_bytes);
	char err[FCAP_ERRBUF_SIZE];
	uint8_t *b = malloc(file_len);
	/* bytes flipped (all of the header, then every 61st): the checksum or the header checks refuse it */
	size_t refused = 0, tried = 0;
	for (size_t i = 0; i < file_len; i += i < 64 ? 1 : 61, tried++) {
		memcpy(b, file_bytes, file_len);
		b[i] ^= 0x5a;
		refused += parse(b, file_len, err) < 0 && strstr(err, "damaged.fcm: offset ");
	}
	CU_ASSERT_EQUAL(refused, tried);
	/* every truncation */
	refused = 0;
	for (size_t n = 0; n < file_len; n += 1 + n / 64) {
		refused += parse(file_bytes, n, err) < 0 && strstr(err, "damaged.fcm: offset ");
	}
	CU_ASSERT(refused > 0);
	for (size_t n = 0; n < file_len; n += 1 + n / 64)
		CU_ASSERT_EQUAL(parse(file_bytes, n, err), -1);
	free(b);
}

struct field_damage {
	const char *what;
	size_t off;      /* from the start of the META section payload (file offset 40) unless absolute */
	bool absolute;
	uint32_t value;
	const char *expect;
};

static void test_invalid_fields(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(file_bytes);
	const size_t meta = 32 + 8;
	const struct field_damage d[] = {
		{ "version", 8, true, 1, "offset 8: model file version 1; this fcap reads version 2" },
		{ "header length", 12, true, 40, "offset 12: header length" },
		{ "feature count", meta + 0, false, 101, "feature count does not match" },
		{ "extras flag", meta + 4, false, 7, "flag out of range" },
		{ "table entries", meta + 8, false, 2, "table entries out of range" },
		{ "calibration", meta + 12, false, 9, "unknown calibration method" },
		{ "unit count", meta + 40, false, 0, "autoencoder count out of range" },
		{ "classifier flag", meta + 44, false, 0, "classifier sections do not match" },
		{ "fpr", meta + 36, false, 0x7ff80000, "not a finite number" },
		{ "section count", 28, true, 2, "a required section is missing" },
		{ "first section type", 32, true, 99, "unknown section type" },
		{ "first section length", 36, true, 0x7fffffff, "section length overruns the file" },
	};
	char err[FCAP_ERRBUF_SIZE];
	uint8_t *b = malloc(file_len);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		memcpy(b, file_bytes, file_len);
		memcpy(b + d[i].off, &d[i].value, 4);
		reseal(b, file_len);
		int rc = parse(b, file_len, err);
		if (rc != -1 || !strstr(err, d[i].expect) || !strstr(err, "damaged.fcm: offset")) {
			fprintf(stderr, "\n%s: rc %d '%s' (want '%s')\n", d[i].what, rc, err, d[i].expect);
			CU_FAIL("invalid field not refused as expected");
		}
	}
	free(b);
}

/* Random mutations with a valid checksum: each load fails cleanly or yields a
 * model that scores; AddressSanitizer and UBSan watch for anything else. */
static void test_mutations(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(file_bytes);
	char err[FCAP_ERRBUF_SIZE];
	uint8_t *b = malloc(file_len);
	uint64_t rng = 77;
	int refused = 0, accepted = 0;
	for (int t = 0; t < 1500; t++) {
		memcpy(b, file_bytes, file_len);
		int k = 1 + (int)(fcap_rng_next(&rng) % 4);
		for (int j = 0; j < k; j++) {
			size_t at = 28 + fcap_rng_next(&rng) % (file_len - 28);
			b[at] = (uint8_t)fcap_rng_next(&rng);
		}
		reseal(b, file_len);
		if (parse(b, file_len, err) < 0) {
			refused++;
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "damaged.fcm"));
		} else {
			accepted++;
		}
	}
	printf("(%d refused, %d valid after mutation) ", refused, accepted);
	CU_ASSERT(refused > 0);
	free(b);
}

static void test_deterministic(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_model a, b, c;
	train_small(&a, 7, true);
	b = trained;   /* trained with seed 7 too, in test_round_trip */
	train_small(&c, 8, true);
	const char *pa = path_of("a.fcm"), *pb = path_of("b.fcm"), *pc = path_of("c.fcm");
	CU_ASSERT_EQUAL(fcap_model_save(&a, pa, err), 0);
	CU_ASSERT_EQUAL(fcap_model_save(&b, pb, err), 0);
	CU_ASSERT_EQUAL(fcap_model_save(&c, pc, err), 0);
	size_t na, nb, nc;
	uint8_t *ba = slurp(pa, &na), *bb = slurp(pb, &nb), *bc = slurp(pc, &nc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bc);
	CU_ASSERT(na == nb && memcmp(ba, bb, na) == 0);
	CU_ASSERT(na != nc || memcmp(ba, bc, na) != 0);
	/* and the run before (test_round_trip, seed 7) wrote the same bytes too */
	CU_ASSERT(na == file_len && memcmp(ba, file_bytes, na) == 0);
	free(ba);
	free(bb);
	free(bc);
	fcap_model_free(&a);
	fcap_model_free(&c);
}

/* fcap_score_fixed_batch gives fcap_score_fixed's scores, bit for bit, for
 * any batch size and both implementations, on features with NaN, infinities
 * and huge values among them; and the plain classifier can be left out. */
static void test_batch_exact(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_scorer *s = fcap_scorer_new(&trained, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct fcap_dataset ds = { 0 };
	synth(&ds, 555, 300, 0.3);
	double *x = calloc(ds.n * FCAP_FEAT_MAX, sizeof(double));
	uint64_t rng = 8;
	static const double odd[] = { NAN, INFINITY, -INFINITY, 1e300, -1e300, 0.0 };
	for (size_t r = 0; r < ds.n; r++)
		for (int i = 0; i < FCAP_FEAT_KITSUNE; i++)
			x[r * FCAP_FEAT_MAX + i] = r % 10 == 3 && i % 7 == 0 ? odd[fcap_rng_next(&rng) % 6] : ds.x[r * ds.nfeat + i];
	struct fcap_scores *one = calloc(ds.n, sizeof(*one)), *batch = calloc(ds.n, sizeof(*batch));
	for (size_t r = 0; r < ds.n; r++)
		fcap_score_fixed(s, x + r * FCAP_FEAT_MAX, &one[r]);
	enum fcap_simd modes[2];
	int nm = simd_modes(modes);
	static const size_t sizes[] = { 1, 7, 8, 9, 64, 300 };
	size_t same = 0, total = 0;
	for (int m = 0; m < nm; m++) {
		fcap_simd_use(modes[m]);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			for (size_t r = 0; r < ds.n; r += sizes[k]) {
				size_t n = ds.n - r < sizes[k] ? ds.n - r : sizes[k];
				fcap_score_fixed_batch(s, x + r * FCAP_FEAT_MAX, FCAP_FEAT_MAX, n, batch + r);
			}
			for (size_t r = 0; r < ds.n; r++, total++)
				same += one[r].ae == batch[r].ae && one[r].mlp == batch[r].mlp && one[r].hyb == batch[r].hyb &&
					one[r].hybrid == batch[r].hybrid && one[r].alert == batch[r].alert;
		}
	}
	CU_ASSERT_EQUAL(same, total);
	/* without the plain classifier: its logit 0, everything else the same */
	fcap_scorer_plain_classifier(s, false);
	fcap_score_fixed_batch(s, x, FCAP_FEAT_MAX, ds.n, batch);
	size_t plain_off = 0, nonzero = 0;
	for (size_t r = 0; r < ds.n; r++) {
		nonzero += one[r].mlp != 0;
		plain_off += batch[r].mlp == 0 && one[r].ae == batch[r].ae && one[r].hyb == batch[r].hyb &&
			     one[r].hybrid == batch[r].hybrid && one[r].alert == batch[r].alert;
	}
	CU_ASSERT_EQUAL(plain_off, ds.n);
	CU_ASSERT(nonzero > ds.n / 2);
	fcap_simd_use(fcap_simd_best());
	free(x);
	free(one);
	free(batch);
	fcap_dataset_free(&ds);
	fcap_scorer_free(s);
}

/* Training separates the synthetic attacks; fixed point agrees with double. */
static void test_detection_and_agreement(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_scorer *s = fcap_scorer_new(&trained, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct fcap_dataset ds = { 0 };
	synth(&ds, 1234, 1000, 0.3);
	double x[FCAP_FEAT_KITSUNE];
	int ben = 0, ben_alert = 0, att = 0, att_alert = 0, agree = 0;
	for (size_t r = 0; r < ds.n; r++) {
		for (int i = 0; i < FCAP_FEAT_KITSUNE; i++)
			x[i] = ds.x[r * ds.nfeat + i];
		struct fcap_scores q, f;
		fcap_score_fixed(s, x, &q);
		fcap_score_float(s, x, &f);
		bool aq = q.alert != FCAP_ALERT_NONE;
		agree += aq == (f.alert != FCAP_ALERT_NONE);
		if (ds.label[r]) {
			att++;
			att_alert += aq;
		} else {
			ben++;
			ben_alert += aq;
		}
	}
	printf("(attacks alerted %d/%d, benign %d/%d, fixed/double agree %zu/%zu) ", att_alert, att, ben_alert, ben,
	       (size_t)agree, ds.n);
	CU_ASSERT(att_alert >= att * 95 / 100);
	CU_ASSERT(ben_alert <= ben * 3 / 100);   /* target 1%, calibrated on 225 rows */
	CU_ASSERT(agree >= (int)ds.n * 98 / 100);
	fcap_dataset_free(&ds);
	fcap_scorer_free(s);
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : ".";
	mkdir(dir, 0755);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("model", NULL, NULL);
	CU_add_test(s, "quantization error within its per-neuron bound", test_quant_layers);
	CU_add_test(s, "SIMD forward pass equals the integer definition", test_forward_exact);
	CU_add_test(s, "packet groups equal the one-packet path and the definition", test_lanes_exact);
	CU_add_test(s, "sigmoid: every z, every implementation, within its error", test_sigmoid_sweep);
	CU_add_test(s, "features to Q11 in lanes, special values included", test_q11_lanes);
	CU_add_test(s, "RMSE square root and normalisation in lanes", test_rmse_norm_lanes);
	CU_add_test(s, "quantization refuses weights that could overflow", test_quant_refuses);
	CU_add_test(s, "sigmoid and square-root tables", test_tables);
	CU_add_test(s, "thresholds: quantile and log-normal tail", test_calibration);
	CU_add_test(s, "model file round trip scores identically", test_round_trip);
	CU_add_test(s, "corrupt and truncated files refused", test_corruption);
	CU_add_test(s, "invalid fields refused with a valid checksum", test_invalid_fields);
	CU_add_test(s, "random mutations: clear error or valid model", test_mutations);
	CU_add_test(s, "training is deterministic under a seed", test_deterministic);
	CU_add_test(s, "scoring in batches equals scoring one packet at a time", test_batch_exact);
	CU_add_test(s, "detection on synthetic data, fixed agrees with double", test_detection_and_agreement);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	fcap_model_free(&trained);
	free(file_bytes);
	return failed ? 1 : 0;
}
