/*
 * fixed.h - the integer primitives of fixed-point scoring (internal),
 * shared by the per-packet path (quant.c, score.c) and the packet-group
 * path (nn_lanes.c): the tables, the rescale of an accumulator to Q16 and
 * the table sigmoid, square root and log2. docs/MODELS.md defines them.
 *
 * The tables are built once (fcap_nn_tables) before any fixed-point
 * network can exist: quantizing or loading one builds them, so the inline
 * lookups here need no check.
 */
#ifndef FCAP_FIXED_H
#define FCAP_FIXED_H

#include <stdint.h>

#define SIG_RANGE 8                        /* the sigmoid saturates beyond +-8 */
#define SIG_SEGS 8                         /* cubic pieces over [0, 8) */
#define Z_FRAC 16                          /* sigmoid input: 16 fraction bits */
#define SIG_LIM (SIG_RANGE << Z_FRAC)      /* |z| at which the sigmoid saturates */
#define SIG_COEF_FRAC 18                   /* the pieces compute in Q18 */

/* Coefficients of the cubic on [s, s + 1) for s = 0..7, c[k][s] for u^k
 * with u = t / 2^15 in [0, 1), in Q18: fitted to the sigmoid (ends exact,
 * least squares between) by tools/sigmoid_fit.py; constants here, so that
 * the arithmetic is the same on every machine. */
extern const int32_t fcap_sig_coef[4][SIG_SEGS];
extern uint32_t fcap_sqrt_table[1024 - 256 + 1];   /* sqrt(16 k) in Q8 for k = 256..1024 */
/* The same as pairs for one 32-bit load: entry k - 256 in the low half, the
 * step to entry k - 255 in the high half (entries are at most 2^15); 768
 * used, then zeros up to 1024 so that a masked index stays inside. */
extern uint32_t fcap_sqrt_pairs[1024];
extern int32_t fcap_log2_table[257];               /* log2(1 + k/256) in Q16 */

/*
 * Sigmoid of z (16 fraction bits), Q15. a = |z|, saturated just below 8;
 * its whole part picks the piece, its fraction (15 bits, t) goes through
 * the cubic by Horner's rule with a floor shift after each product (every
 * product is below 2^31: tests/unit/test_model.c checks all of them); the
 * Q18 result is rounded to Q15; sigmoid(-a) = 1 - sigmoid(a). No table
 * look-up, so eight lanes compute it at once (nn_lanes.c) as cheaply as
 * one. Error below 6.5e-5 inside +-8, 3.4e-4 beyond (docs/MODELS.md).
 */
static inline int16_t fixed_sigmoid(int32_t z)
{
	uint32_t a = z < 0 ? 0u - (uint32_t)z : (uint32_t)z;
	a = a < SIG_LIM - 1 ? a : SIG_LIM - 1;
	uint32_t s = a >> Z_FRAC;
	int32_t t = (int32_t)((a & 0xffff) >> 1);
	int32_t v = fcap_sig_coef[3][s];
	v = fcap_sig_coef[2][s] + ((t * v) >> 15);
	v = fcap_sig_coef[1][s] + ((t * v) >> 15);
	v = fcap_sig_coef[0][s] + ((t * v) >> 15);
	int32_t y = (v + 4) >> (SIG_COEF_FRAC - 15);
	return (int16_t)(z < 0 ? 32768 - y : y);
}

/* An accumulator at scale 2^(frac + in_frac) to Q16: shifted right with
 * rounding (half up) or left, saturated to int32. sh = frac + in_frac - 16. */
static inline int32_t fixed_to_q16(int32_t acc, int sh)
{
	int64_t z = sh > 0 ? ((int64_t)acc + ((int64_t)1 << (sh - 1))) >> sh : (int64_t)acc * ((int64_t)1 << -sh);
	return (int32_t)(z > INT32_MAX ? INT32_MAX : (z < INT32_MIN ? INT32_MIN : z));
}

/* sqrt(v) by table and interpolation (relative error below 2e-4). */
static inline uint32_t fixed_isqrt64(uint64_t v)
{
	if (v == 0)
		return 0;
	int bits = 64 - __builtin_clzll(v);
	int s = (bits - 13) & ~1;       /* even shift that brings v into [2^12, 2^14) */
	uint64_t m = s >= 0 ? v >> s : v << -s;
	uint32_t k = (uint32_t)(m >> 4), f = (uint32_t)m & 15;
	uint32_t a = fcap_sqrt_table[k - 256], b = fcap_sqrt_table[k - 255];
	uint64_t r = a + (((b - a) * f + 8) >> 4);   /* sqrt(m) in Q8 */
	int sh = s / 2 - 8;
	return (uint32_t)(sh >= 0 ? r << sh : (r + (1ull << (-sh - 1))) >> -sh);
}

/* log2(v) in Q16 for v >= 1, by the leading bit and an interpolated table
 * of log2 over [1, 2) (error below 2^-16). */
static inline int32_t fixed_ilog2_q16(uint64_t v)
{
	if (v == 0)
		return INT32_MIN / 2;
	int e = 63 - __builtin_clzll(v);
	uint64_t m = e >= 16 ? v >> (e - 16) : v << (16 - e);   /* 16 bits below the leading one */
	uint32_t idx = (uint32_t)(m >> 8) & 255, f = (uint32_t)m & 255;
	int32_t a = fcap_log2_table[idx], b = fcap_log2_table[idx + 1];
	return e * 65536 + a + (((b - a) * (int32_t)f + 128) >> 8);
}

#endif
