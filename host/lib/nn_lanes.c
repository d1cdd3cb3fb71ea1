/*
 * nn_lanes.c - the fixed-point forward pass over a group of FCAP_LANES
 * packets at once (fcap/nn.h), and the pieces of scoring around it: the
 * features' conversion to Q11, the autoencoders' squared errors, RMSE and
 * normalisation.
 *
 * One packet per SIMD lane: a neuron's weights, bias and rescale shift are
 * the same in every lane, so a layer is, per neuron, a run of pmaddwd of
 * the packets' input pairs against one broadcast weight pair, one uniform
 * shift, and the sigmoid's few multiplies and permutes in every lane. Per
 * packet this replaces the scalar tail of every neuron (shift, saturation,
 * table) of the one-packet path, which dominated its time.
 *
 * Results are exactly those of the one-packet path (fcap_net_forward_q,
 * fcap_net_logit_q, score.c) lane by lane: the same integer operations,
 * only grouped differently (tests/unit/test_model.c checks it, and against
 * the definition written again in int64). The accumulator bound of
 * fcap_net_check_bounds makes every int32 sum exact in any order. Two
 * implementations: AVX2, chosen at run time when the CPU has it, and
 * portable C, which is the definition written lane by lane.
 */
#include <stdbool.h>
#include <string.h>

#include "fcap/nn.h"
#include "fixed.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_PATH 1
#include <immintrin.h>
#endif

static enum fcap_simd simd_in_use = FCAP_SIMD_SCALAR;
static bool simd_chosen;

enum fcap_simd fcap_simd_best(void)
{
#ifdef HAVE_AVX2_PATH
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return FCAP_SIMD_AVX2;
#endif
	return FCAP_SIMD_SCALAR;
}

int fcap_simd_use(enum fcap_simd s)
{
	if (s != FCAP_SIMD_SCALAR && s != fcap_simd_best())
		return -1;
	simd_in_use = s;
	simd_chosen = true;
	return 0;
}

enum fcap_simd fcap_simd_current(void)
{
	if (!simd_chosen)
		fcap_simd_use(fcap_simd_best());
	return simd_in_use;
}

const char *fcap_simd_name(enum fcap_simd s)
{
	return s == FCAP_SIMD_AVX2 ? "avx2" : "scalar";
}

size_t fcap_net_scratch_lanes(const struct fcap_net *n)
{
	/* portable: every layer's outputs; AVX2: two buffers of input pairs */
	size_t s = 0, pairs = 0;
	for (uint32_t i = 0; i < n->nlayers; i++) {
		s += n->l[i].out;
		pairs = (n->l[i].in + 1) / 2 > pairs ? (n->l[i].in + 1) / 2 : pairs;
	}
	return s > 2 * pairs ? s : 2 * pairs;
}

size_t fcap_ae_scratch_lanes(const struct fcap_net *n)
{
	return 2 * (size_t)n->l[0].in + fcap_net_scratch_lanes(n);
}

static inline int row_shift(const struct fcap_layer *l, uint32_t j)
{
	return (int)l->frac[j] + (int)l->in_frac - Z_FRAC;
}

/* ---------------- portable: the definition, lane by lane ---------------- */

static void layer_scalar(const struct fcap_layer *l, const fcap_lanes *x, fcap_lanes *y, bool logit)
{
	for (uint32_t j = 0; j < l->out; j++) {
		const int16_t *w = l->wq + (size_t)j * l->in;
		for (unsigned p = 0; p < FCAP_LANES; p++) {
			int64_t acc = l->bq[j];
			for (uint32_t k = 0; k < l->in; k++)
				acc += (int64_t)w[k] * x[k][p];
			/* the bound makes acc an int32; the cast keeps the definition's type */
			int32_t z = fixed_to_q16((int32_t)acc, row_shift(l, j));
			y[j][p] = logit ? z : fixed_sigmoid(z);
		}
	}
}

/* ---------------- AVX2 ---------------- */

#ifdef HAVE_AVX2_PATH
#define AVX2 __attribute__((target("avx2")))
#define INLINE __attribute__((always_inline)) static inline

/*
 * Sixteen lanes are two vectors of eight (halves 0 and 1). Every value of a
 * neuron is computed for both halves with the same broadcast weights,
 * shift and coefficients: two independent chains of work per neuron, and
 * its fixed costs (weights, shift, loop) paid once for sixteen packets.
 */

/* Q16 rescale of one neuron's accumulators, exact as fixed_to_q16. A right
 * shift rounds half up as (acc >> sh) + bit sh-1 of acc, which cannot
 * overflow. A left shift (weights so large that frac + in_frac < 16)
 * saturates: for a logit exactly at the int32 limits; before a sigmoid, to
 * where the sigmoid saturates anyway, which is cheaper and gives the same
 * output. */
AVX2 INLINE __m256i to_q16_avx2(__m256i acc, int sh, bool logit)
{
	if (sh > 0) {
		__m256i r = _mm256_and_si256(_mm256_sra_epi32(acc, _mm_cvtsi32_si128(sh - 1)), _mm256_set1_epi32(1));
		return _mm256_add_epi32(_mm256_sra_epi32(acc, _mm_cvtsi32_si128(sh)), r);
	}
	if (sh == 0)
		return acc;
	int k = -sh;
	__m128i kk = _mm_cvtsi32_si128(k);
	if (!logit) {
		int32_t c = (SIG_LIM + (1 << k) - 1) >> k;   /* c << k >= SIG_LIM */
		acc = _mm256_min_epi32(_mm256_max_epi32(acc, _mm256_set1_epi32(-c)), _mm256_set1_epi32(c));
		return _mm256_sll_epi32(acc, kk);
	}
	__m256i hi = _mm256_cmpgt_epi32(acc, _mm256_set1_epi32(INT32_MAX >> k));
	__m256i lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(INT32_MIN >> k), acc);
	__m256i z = _mm256_sll_epi32(acc, kk);
	z = _mm256_blendv_epi8(z, _mm256_set1_epi32(INT32_MAX), hi);
	return _mm256_blendv_epi8(z, _mm256_set1_epi32(INT32_MIN), lo);
}

/* The constants of sigmoid_avx2, loaded once per network: the pieces'
 * coefficients (the rounding constant 4 added to c0 ahead) and masks. */
struct coefs {
	__m256i c0r, c1, c2, c3, lim, low16, half;
};

AVX2 static inline struct coefs coefs_avx2(void)
{
	return (struct coefs){
		_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)fcap_sig_coef[0]), _mm256_set1_epi32(4)),
		_mm256_loadu_si256((const __m256i *)fcap_sig_coef[1]),
		_mm256_loadu_si256((const __m256i *)fcap_sig_coef[2]),
		_mm256_loadu_si256((const __m256i *)fcap_sig_coef[3]),
		_mm256_set1_epi32(SIG_LIM - 1),
		_mm256_set1_epi32(0xffff),
		_mm256_set1_epi32(32768),
	};
}

/* fixed_sigmoid in every lane: the piece's coefficients by one permute
 * each (eight pieces, eight lanes), the same Horner steps and shifts. */
AVX2 INLINE __m256i sigmoid_avx2(__m256i z, const struct coefs *k)
{
	__m256i a = _mm256_min_epu32(_mm256_abs_epi32(z), k->lim);
	__m256i s = _mm256_srli_epi32(a, Z_FRAC);
	__m256i t = _mm256_srli_epi32(_mm256_and_si256(a, k->low16), 1);
	__m256i v = _mm256_permutevar8x32_epi32(k->c3, s);
	v = _mm256_add_epi32(_mm256_permutevar8x32_epi32(k->c2, s), _mm256_srai_epi32(_mm256_mullo_epi32(t, v), 15));
	v = _mm256_add_epi32(_mm256_permutevar8x32_epi32(k->c1, s), _mm256_srai_epi32(_mm256_mullo_epi32(t, v), 15));
	v = _mm256_add_epi32(_mm256_permutevar8x32_epi32(k->c0r, s), _mm256_srai_epi32(_mm256_mullo_epi32(t, v), 15));
	__m256i y = _mm256_srai_epi32(v, SIG_COEF_FRAC - 15);
	/* z < 0: 32768 - y, as (y ^ neg) - neg + 32768 with neg all ones */
	__m256i neg = _mm256_srai_epi32(z, 31);
	y = _mm256_sub_epi32(_mm256_xor_si256(y, neg), neg);
	return _mm256_add_epi32(y, _mm256_and_si256(neg, k->half));
}

static inline const int32_t *lane_row(const fcap_lanes *x, const uint32_t *idx, uint32_t k)
{
	return x[idx ? idx[k] : k];
}

/* Inputs (k, k+1) of each packet as one 32-bit lane of int16 halves, pair q
 * at xp[2q] (lanes 0-7) and xp[2q+1] (lanes 8-15); input k is x[idx[k]],
 * or x[k] without idx. */
AVX2 static void pairs_avx2(const fcap_lanes *x, const uint32_t *idx, uint32_t in, __m256i *xp)
{
	const __m256i low16 = _mm256_set1_epi32(0xffff);
	for (uint32_t q = 0; q < (in + 1) / 2; q++) {
		const int32_t *r0 = lane_row(x, idx, 2 * q);
		__m256i lo0 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)r0), low16);
		__m256i lo1 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(r0 + 8)), low16);
		if (2 * q + 1 < in) {
			const int32_t *r1 = lane_row(x, idx, 2 * q + 1);
			lo0 = _mm256_or_si256(lo0, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)r1), 16));
			lo1 = _mm256_or_si256(lo1, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(r1 + 8)), 16));
		}
		_mm256_storeu_si256(xp + 2 * q, lo0);
		_mm256_storeu_si256(xp + 2 * q + 1, lo1);
	}
}

/* Neuron j (Q16 logit, or Q15 sigmoid) for both halves: y[0], y[1]. */
AVX2 INLINE void neuron_avx2(const struct fcap_layer *l, uint32_t j, const __m256i *xp, bool logit,
			     const struct coefs *k, __m256i *y)
{
	uint32_t pairs = (l->in + 1) / 2;
	const int32_t *w = l->wpair + (size_t)j * pairs;
	__m256i a0 = _mm256_set1_epi32(l->bq[j]), a1 = a0;
	for (uint32_t q = 0; q < pairs; q++) {
		__m256i wq = _mm256_set1_epi32(w[q]);
		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256(xp + 2 * q), wq));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256(xp + 2 * q + 1), wq));
	}
	int sh = (int)l->frac[j] + (int)l->in_frac - Z_FRAC;
	a0 = to_q16_avx2(a0, sh, logit);
	a1 = to_q16_avx2(a1, sh, logit);
	y[0] = logit ? a0 : sigmoid_avx2(a0, k);
	y[1] = logit ? a1 : sigmoid_avx2(a1, k);
}

/* Neurons j and j + 1 together, both halves: four independent chains, and
 * each input pair loaded once. y[0..1]: neuron j, y[2..3]: neuron j + 1. */
AVX2 INLINE void neuron2_avx2(const struct fcap_layer *l, uint32_t j, const __m256i *xp, bool logit,
			      const struct coefs *k, __m256i *y)
{
	uint32_t pairs = (l->in + 1) / 2;
	const int32_t *w0 = l->wpair + (size_t)j * pairs, *w1 = w0 + pairs;
	__m256i a00 = _mm256_set1_epi32(l->bq[j]), a01 = a00;
	__m256i a10 = _mm256_set1_epi32(l->bq[j + 1]), a11 = a10;
	for (uint32_t q = 0; q < pairs; q++) {
		__m256i x0 = _mm256_loadu_si256(xp + 2 * q), x1 = _mm256_loadu_si256(xp + 2 * q + 1);
		__m256i v0 = _mm256_set1_epi32(w0[q]), v1 = _mm256_set1_epi32(w1[q]);
		a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(x0, v0));
		a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(x1, v0));
		a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(x0, v1));
		a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(x1, v1));
	}
	int base = (int)l->in_frac - Z_FRAC, s0 = (int)l->frac[j] + base, s1 = (int)l->frac[j + 1] + base;
	a00 = to_q16_avx2(a00, s0, logit);
	a01 = to_q16_avx2(a01, s0, logit);
	a10 = to_q16_avx2(a10, s1, logit);
	a11 = to_q16_avx2(a11, s1, logit);
	y[0] = logit ? a00 : sigmoid_avx2(a00, k);
	y[1] = logit ? a01 : sigmoid_avx2(a01, k);
	y[2] = logit ? a10 : sigmoid_avx2(a10, k);
	y[3] = logit ? a11 : sigmoid_avx2(a11, k);
}

AVX2 INLINE void store2(fcap_lanes *row, const __m256i *y)
{
	_mm256_storeu_si256((__m256i *)*row, y[0]);
	_mm256_storeu_si256((__m256i *)(*row + 8), y[1]);
}

/* The last layer from its input pairs: outputs to y. */
AVX2 static void out_layer_avx2(const struct fcap_layer *l, const __m256i *xp, fcap_lanes *y, bool logit,
				const struct coefs *k)
{
	uint32_t j = 0;
	__m256i v[4];
	for (; j + 2 <= l->out; j += 2) {
		neuron2_avx2(l, j, xp, logit, k, v);
		store2(&y[j], v);
		store2(&y[j + 1], v + 2);
	}
	if (j < l->out) {
		neuron_avx2(l, j, xp, logit, k, v);
		store2(&y[j], v);
	}
}

/* A hidden layer from input pairs straight to the next layer's pairs:
 * outputs j and j + 1 of a packet in one lane (sigmoid outputs are
 * 0..32767, so no masking). */
AVX2 static void hidden_layer_avx2(const struct fcap_layer *l, const __m256i *xp, __m256i *next,
				   const struct coefs *k)
{
	uint32_t j = 0;
	__m256i v[4];
	for (; j + 2 <= l->out; j += 2) {
		neuron2_avx2(l, j, xp, false, k, v);
		_mm256_storeu_si256(next + j, _mm256_or_si256(v[0], _mm256_slli_epi32(v[2], 16)));
		_mm256_storeu_si256(next + j + 1, _mm256_or_si256(v[1], _mm256_slli_epi32(v[3], 16)));
	}
	if (j < l->out) {
		neuron_avx2(l, j, xp, false, k, v);
		_mm256_storeu_si256(next + j, v[0]);
		_mm256_storeu_si256(next + j + 1, v[1]);
	}
}

/* Every layer but the last; returns the last layer's input pairs. */
AVX2 static const __m256i *hidden_avx2(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx,
				       fcap_lanes *scratch, const struct coefs *k)
{
	uint32_t pairs = 0;
	for (uint32_t i = 0; i < n->nlayers; i++)
		pairs = (n->l[i].in + 1) / 2 > pairs ? (n->l[i].in + 1) / 2 : pairs;
	__m256i *cur = (__m256i *)scratch, *next = cur + 2 * pairs;   /* a lane row is two vectors */
	pairs_avx2(x, idx, n->l[0].in, cur);
	for (uint32_t i = 0; i + 1 < n->nlayers; i++) {
		hidden_layer_avx2(&n->l[i], cur, next, k);
		__m256i *t = cur;
		cur = next;
		next = t;
	}
	return cur;
}

AVX2 static void forward_avx2(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, fcap_lanes *out,
			      bool logit, fcap_lanes *scratch)
{
	struct coefs k = coefs_avx2();
	const __m256i *xp = hidden_avx2(n, x, idx, scratch, &k);
	out_layer_avx2(&n->l[n->nlayers - 1], xp, out, logit, &k);
}

/* Squared errors as int64: s[0] lanes 0, 2, 4, 6; s[1] lanes 1, 3, 5, 7;
 * s[2] and s[3] the same for lanes 8-15. e is below 2^20 in magnitude. */
AVX2 INLINE void sq_add_avx2(__m256i e, __m256i *even, __m256i *odd)
{
	__m256i o = _mm256_srli_epi64(e, 32);
	*even = _mm256_add_epi64(*even, _mm256_mul_epi32(e, e));
	*odd = _mm256_add_epi64(*odd, _mm256_mul_epi32(o, o));
}

/* x << sh - y for both halves of a row, into the sums. */
AVX2 INLINE void err_add_avx2(const int32_t *xr, const __m256i *y, __m128i sh, __m256i *s)
{
	sq_add_avx2(_mm256_sub_epi32(_mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)xr), sh), y[0]), &s[0], &s[1]);
	sq_add_avx2(_mm256_sub_epi32(_mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)(xr + 8)), sh), y[1]), &s[2],
		    &s[3]);
}

AVX2 static void store_sums(const __m256i *s, uint64_t sum[FCAP_LANES])
{
	uint64_t v[4][4];
	for (int i = 0; i < 4; i++)
		_mm256_storeu_si256((__m256i *)v[i], s[i]);
	for (int h = 0; h < 2; h++)
		for (int k = 0; k < 4; k++) {
			sum[8 * h + 2 * k] = v[2 * h][k];
			sum[8 * h + 2 * k + 1] = v[2 * h + 1][k];
		}
}

/* fixed_isqrt64 in four 64-bit lanes (v < 2^63; the RMSE's v = sum << 10
 * is below 2^59): the leading bit by a binary search, the table by a gather
 * of (entry, step) pairs, the same interpolation and final shift. */
AVX2 INLINE __m256i isqrt_avx2(__m256i v)
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i is0 = _mm256_cmpeq_epi64(v, zero);
	v = _mm256_sub_epi64(v, is0);   /* 0 as 1, so that its table index is valid; masked at the end */
	__m256i t = v, e = zero;
	for (int b = 32; b >= 1; b >>= 1) {
		__m256i ge = _mm256_cmpgt_epi64(t, _mm256_set1_epi64x(((int64_t)1 << b) - 1));
		__m256i sh = _mm256_and_si256(ge, _mm256_set1_epi64x(b));
		t = _mm256_srlv_epi64(t, sh);
		e = _mm256_add_epi64(e, sh);
	}
	/* s = (bits - 13) & ~1 with bits = e + 1; m = v >> s, or v << -s */
	__m256i s = _mm256_and_si256(_mm256_sub_epi64(e, _mm256_set1_epi64x(12)), _mm256_set1_epi64x(~(int64_t)1));
	__m256i sneg = _mm256_cmpgt_epi64(zero, s);
	__m256i m = _mm256_sllv_epi64(_mm256_srlv_epi64(v, _mm256_andnot_si256(sneg, s)),
				      _mm256_and_si256(sneg, _mm256_sub_epi64(zero, s)));
	/* index k - 256: 0..767 for every v < 2^63; the mask keeps any other v
	 * inside the table, which has 1024 entries for it */
	__m256i k = _mm256_and_si256(_mm256_sub_epi64(_mm256_srli_epi64(m, 4), _mm256_set1_epi64x(256)),
				     _mm256_set1_epi64x(1023));
	__m256i f = _mm256_and_si256(m, _mm256_set1_epi64x(15));
	__m256i ab = _mm256_cvtepu32_epi64(_mm256_i64gather_epi32((const int *)fcap_sqrt_pairs, k, 4));
	__m256i a = _mm256_and_si256(ab, _mm256_set1_epi64x(0xffff)), d = _mm256_srli_epi64(ab, 16);
	__m256i r = _mm256_add_epi64(a, _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(d, f), _mm256_set1_epi64x(8)), 4));
	/* sh = s / 2 - 8 (s even, >= -12): r << sh, or (r + 2^(-sh-1)) >> -sh */
	__m256i sh = _mm256_sub_epi64(_mm256_srli_epi64(_mm256_add_epi64(s, _mm256_set1_epi64x(12)), 1),
				      _mm256_set1_epi64x(14));
	__m256i shneg = _mm256_cmpgt_epi64(zero, sh);
	__m256i right = _mm256_and_si256(shneg, _mm256_sub_epi64(zero, sh));
	__m256i rnd = _mm256_and_si256(shneg, _mm256_sllv_epi64(_mm256_set1_epi64x(1),
								   _mm256_sub_epi64(right, _mm256_set1_epi64x(1))));
	r = _mm256_srlv_epi64(_mm256_sllv_epi64(_mm256_add_epi64(r, rnd), _mm256_andnot_si256(shneg, sh)), right);
	return _mm256_andnot_si256(is0, r);
}

/* The RMSE in Q20 from four lanes' sums: isqrt(sum << 10) * isqrt_n >> 16. */
AVX2 INLINE __m256i rmse4_avx2(__m256i sum, __m256i isqrt_n)
{
	return _mm256_srli_epi64(_mm256_mul_epu32(isqrt_avx2(_mm256_slli_epi64(sum, 10)), isqrt_n), 16);
}

/* From the sums of ae_sqerr's layout (even lanes, odd lanes, per half) to
 * sixteen 32-bit lanes in order. */
AVX2 static void rmse_avx2(const __m256i *s, uint32_t isqrt_n, fcap_lanes rmse)
{
	__m256i n = _mm256_set1_epi64x(isqrt_n);
	for (int h = 0; h < 2; h++) {
		__m256i even = rmse4_avx2(s[2 * h], n), odd = rmse4_avx2(s[2 * h + 1], n);
		_mm256_storeu_si256((__m256i *)(rmse + 8 * h), _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa));
	}
}

/* fcap_ae_sqerr_lanes: every layer but the last as forward_avx2, the last
 * layer's outputs straight into the errors. */
/* The squared errors of the autoencoder, in store_sums' layout. */
AVX2 static void ae_sums_avx2(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, unsigned xshift,
			      fcap_lanes *scratch, __m256i *s)
{
	struct coefs k = coefs_avx2();
	const __m256i *xp = hidden_avx2(n, x, idx, scratch, &k);
	const struct fcap_layer *l = &n->l[n->nlayers - 1];
	__m128i sh = _mm_cvtsi32_si128((int)xshift);
	s[0] = s[1] = s[2] = s[3] = _mm256_setzero_si256();
	__m256i v[4];
	uint32_t j = 0;
	for (; j + 2 <= l->out; j += 2) {
		neuron2_avx2(l, j, xp, false, &k, v);
		err_add_avx2(lane_row(x, idx, j), v, sh, s);
		err_add_avx2(lane_row(x, idx, j + 1), v + 2, sh, s);
	}
	if (j < l->out) {
		neuron_avx2(l, j, xp, false, &k, v);
		err_add_avx2(lane_row(x, idx, j), v, sh, s);
	}
}

AVX2 static void ae_sqerr_avx2(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, unsigned xshift,
			       uint64_t sum[FCAP_LANES], fcap_lanes *scratch)
{
	__m256i s[4];
	ae_sums_avx2(n, x, idx, xshift, scratch, s);
	store_sums(s, sum);
}

AVX2 static void ae_rmse_avx2(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, uint32_t isqrt_n,
			      fcap_lanes rmse, fcap_lanes *scratch)
{
	__m256i s[4];
	ae_sums_avx2(n, x, idx, FCAP_ACT_FRAC - FCAP_IN_FRAC, scratch, s);
	rmse_avx2(s, isqrt_n, rmse);
}

AVX2 static void rmse_sums_avx2(const uint64_t sum[FCAP_LANES], uint32_t isqrt_n, fcap_lanes rmse)
{
	__m256i s[4];
	for (int h = 0; h < 2; h++) {
		const uint64_t *p = sum + 8 * h;
		s[2 * h] = _mm256_set_epi64x((int64_t)p[6], (int64_t)p[4], (int64_t)p[2], (int64_t)p[0]);
		s[2 * h + 1] = _mm256_set_epi64x((int64_t)p[7], (int64_t)p[5], (int64_t)p[3], (int64_t)p[1]);
	}
	rmse_avx2(s, isqrt_n, rmse);
}

/* fcap_norm_q on four 64-bit lanes: (v - min) * m (|v - min| < 2^31,
 * 0 <= m < 2^31), toward zero by 2^16, saturated to +-32767. */
AVX2 INLINE __m256i norm4_avx2(__m256i v, __m256i min, __m256i m)
{
	__m256i p = _mm256_mul_epi32(_mm256_sub_epi64(v, min), m);
	__m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
	__m256i q = _mm256_srli_epi64(_mm256_sub_epi64(_mm256_xor_si256(p, sign), sign), 16);
	q = _mm256_blendv_epi8(q, _mm256_set1_epi64x(32767), _mm256_cmpgt_epi64(q, _mm256_set1_epi64x(32767)));
	return _mm256_sub_epi64(_mm256_xor_si256(q, sign), sign);
}

AVX2 static void norm_avx2(const fcap_lanes v, int32_t min, int64_t m, fcap_lanes out)
{
	__m256i vmin = _mm256_set1_epi64x(min), vm = _mm256_set1_epi64x(m);
	for (int h = 0; h < 2; h++) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(v + 8 * h));
		__m256i even = norm4_avx2(_mm256_and_si256(x, _mm256_set1_epi64x(0xffffffff)), vmin, vm);
		__m256i odd = norm4_avx2(_mm256_srli_epi64(x, 32), vmin, vm);
		_mm256_storeu_si256((__m256i *)(out + 8 * h), _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa));
	}
}

/* fcap_q11_lanes for four features of one packet: NaN to 0 (only a corrupt
 * feature could be NaN), clamp, then round half away from zero as
 * trunc(v +- 0.5): the same double operations as fcap_q11. */
AVX2 static inline __m128i q11_avx2(__m256d v)
{
	v = _mm256_and_pd(v, _mm256_cmp_pd(v, v, _CMP_ORD_Q));
	v = _mm256_min_pd(_mm256_max_pd(v, _mm256_set1_pd(-32767.0)), _mm256_set1_pd(32767.0));
	__m256d half = _mm256_or_pd(_mm256_and_pd(v, _mm256_set1_pd(-0.0)), _mm256_set1_pd(0.5));
	return _mm256_cvttpd_epi32(_mm256_add_pd(v, half));
}

/* Transposes the 4 x 4 int32 blocks r[0..3] (rows: packets, columns:
 * features) into columns. */
AVX2 static inline void transpose4(__m128i *r)
{
	__m128i a = _mm_unpacklo_epi32(r[0], r[1]), b = _mm_unpackhi_epi32(r[0], r[1]);
	__m128i c = _mm_unpacklo_epi32(r[2], r[3]), d = _mm_unpackhi_epi32(r[2], r[3]);
	r[0] = _mm_unpacklo_epi64(a, c);
	r[1] = _mm_unpackhi_epi64(a, c);
	r[2] = _mm_unpacklo_epi64(b, d);
	r[3] = _mm_unpackhi_epi64(b, d);
}

AVX2 static void q11_lanes_avx2(const double *feat, size_t stride, size_t n, const double *a, const double *b,
				uint32_t nfeat, fcap_lanes *out)
{
	uint32_t i = 0;
	if (n == FCAP_LANES) {
		/* four features of eight packets at a time, then one transpose into lanes */
		for (; i + 4 <= nfeat; i += 4) {
			__m256d va = _mm256_loadu_pd(a + i), vb = _mm256_loadu_pd(b + i);
			for (unsigned p0 = 0; p0 < FCAP_LANES; p0 += 8) {
				__m128i lo[4], hi[4];
				for (unsigned p = 0; p < 4; p++) {
					__m256d v0 = _mm256_mul_pd(_mm256_loadu_pd(feat + (p0 + p) * stride + i), va);
					__m256d v1 = _mm256_mul_pd(_mm256_loadu_pd(feat + (p0 + p + 4) * stride + i), va);
					lo[p] = q11_avx2(_mm256_add_pd(v0, vb));
					hi[p] = q11_avx2(_mm256_add_pd(v1, vb));
				}
				transpose4(lo);
				transpose4(hi);
				for (unsigned k = 0; k < 4; k++)
					_mm256_storeu_si256((__m256i *)(out[i + k] + p0),
							    _mm256_inserti128_si256(_mm256_castsi128_si256(lo[k]), hi[k], 1));
			}
		}
	}
	for (size_t p = 0; p < n; p++) {
		const double *x = feat + p * stride;
		for (uint32_t k = i; k < nfeat; k++)
			out[k][p] = fcap_q11(x[k] * a[k] + b[k]);
	}
}

/* Sums of (x << xshift - y)^2 per lane, in int64: |x << 4 - y| < 2^20. */
AVX2 static void sqerr_avx2(const fcap_lanes *x, const fcap_lanes *y, uint32_t n, unsigned xshift,
			    uint64_t sum[FCAP_LANES])
{
	__m256i s[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256() };
	__m128i sh = _mm_cvtsi32_si128((int)xshift);
	for (uint32_t i = 0; i < n; i++) {
		__m256i yv[2] = { _mm256_loadu_si256((const __m256i *)y[i]), _mm256_loadu_si256((const __m256i *)(y[i] + 8)) };
		err_add_avx2(x[i], yv, sh, s);
	}
	store_sums(s, sum);
}
#endif

void fcap_net_forward_lanes(const struct fcap_net *n, const fcap_lanes *x, fcap_lanes *out, bool logit,
			    fcap_lanes *scratch)
{
	if (!simd_chosen)
		fcap_simd_current();
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		forward_avx2(n, x, NULL, out, logit, scratch);
		return;
	}
#endif
	fcap_lanes *act = scratch;
	const fcap_lanes *in = x;
	for (uint32_t i = 0; i < n->nlayers; i++) {
		bool last = i + 1 == n->nlayers;
		fcap_lanes *y = last ? out : act;
		layer_scalar(&n->l[i], in, y, last && logit);
		in = y;
		act += n->l[i].out;
	}
}

void fcap_ae_sqerr_lanes(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, unsigned xshift,
			 uint64_t sum[FCAP_LANES], fcap_lanes *scratch)
{
	if (!simd_chosen)
		fcap_simd_current();
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		ae_sqerr_avx2(n, x, idx, xshift, sum, scratch);
		return;
	}
#endif
	/* the definition: gather the inputs, forward, squared errors */
	uint32_t in = n->l[0].in;
	fcap_lanes *xin = scratch, *y = scratch + in;
	for (uint32_t k = 0; k < in; k++)
		memcpy(xin[k], x[idx ? idx[k] : k], sizeof(fcap_lanes));
	fcap_net_forward_lanes(n, (const fcap_lanes *)xin, y, false, y + in);
	fcap_sqerr_lanes(xin, y, in, xshift, sum);
}

int16_t fcap_q11(double v)
{
	if (v != v)
		v = 0;   /* NaN: only a corrupt feature could make it; never convert it */
	v = v > 32767.0 ? 32767.0 : (v < -32767.0 ? -32767.0 : v);
	return (int16_t)(v >= 0 ? (int32_t)(v + 0.5) : -(int32_t)(0.5 - v));
}

void fcap_q11_lanes(const double *feat, size_t stride, size_t n, const double *a, const double *b, uint32_t nfeat,
		    fcap_lanes *out)
{
	if (!simd_chosen)
		fcap_simd_current();
	if (n < FCAP_LANES)
		for (uint32_t i = 0; i < nfeat; i++)
			for (size_t p = n; p < FCAP_LANES; p++)
				out[i][p] = 0;
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		q11_lanes_avx2(feat, stride, n, a, b, nfeat, out);
		return;
	}
#endif
	for (size_t p = 0; p < n; p++)
		for (uint32_t i = 0; i < nfeat; i++)
			out[i][p] = fcap_q11(feat[p * stride + i] * a[i] + b[i]);
}

void fcap_sqerr_lanes(const fcap_lanes *x, const fcap_lanes *y, uint32_t n, unsigned xshift, uint64_t sum[FCAP_LANES])
{
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		sqerr_avx2(x, y, n, xshift, sum);
		return;
	}
#endif
	for (unsigned p = 0; p < FCAP_LANES; p++) {
		sum[p] = 0;
		for (uint32_t i = 0; i < n; i++) {
			int64_t e = (int64_t)x[i][p] * ((int64_t)1 << xshift) - y[i][p];
			sum[p] += (uint64_t)(e * e);
		}
	}
}

void fcap_rmse_q20_lanes(const uint64_t sum[FCAP_LANES], uint32_t isqrt_n, fcap_lanes rmse)
{
	if (!simd_chosen)
		fcap_simd_current();
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		rmse_sums_avx2(sum, isqrt_n, rmse);
		return;
	}
#endif
	for (unsigned p = 0; p < FCAP_LANES; p++)
		rmse[p] = (int32_t)(((uint64_t)fixed_isqrt64(sum[p] << 10) * isqrt_n) >> 16);
}

void fcap_ae_rmse_lanes(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, uint32_t isqrt_n,
			fcap_lanes rmse, fcap_lanes *scratch)
{
	if (!simd_chosen)
		fcap_simd_current();
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		ae_rmse_avx2(n, x, idx, isqrt_n, rmse, scratch);
		return;
	}
#endif
	uint64_t sum[FCAP_LANES];
	fcap_ae_sqerr_lanes(n, x, idx, FCAP_ACT_FRAC - FCAP_IN_FRAC, sum, scratch);
	fcap_rmse_q20_lanes(sum, isqrt_n, rmse);
}

int16_t fcap_norm_q(uint32_t v, int32_t min, int64_t m)
{
	int64_t d = (int64_t)v - min;
	/* |d| < 2^33 and 0 <= m <= 2^27 (scales are validated <= 1e6): the product fits in int64 */
	int64_t p = d * m;
	int64_t q = p >= 0 ? p >> 16 : -((-p) >> 16);
	return (int16_t)(q > 32767 ? 32767 : (q < -32767 ? -32767 : q));
}

void fcap_norm_lanes(const fcap_lanes v, int32_t min, int64_t m, fcap_lanes out)
{
	if (!simd_chosen)
		fcap_simd_current();
#ifdef HAVE_AVX2_PATH
	if (simd_in_use == FCAP_SIMD_AVX2) {
		norm_avx2(v, min, m, out);
		return;
	}
#endif
	for (unsigned p = 0; p < FCAP_LANES; p++)
		out[p] = fcap_norm_q((uint32_t)v[p], min, m);
}
