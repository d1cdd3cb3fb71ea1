/* decay.h - decay factors by lookup table (internal; see decay.c). */
#ifndef FCAP_DECAY_H
#define FCAP_DECAY_H

#include <stddef.h>
#include <stdint.h>

#define DECAY_FRAC_BITS 30
#define DECAY_PART_BITS 10   /* the fraction is looked up in three 10-bit parts */
#define DECAY_PART_MASK ((1u << DECAY_PART_BITS) - 1)
#define DECAY_INT_LIMIT 64   /* 2^-64 is zero for our purposes */

extern double decay_t_int[DECAY_INT_LIMIT];
extern double decay_t_frac[3][1 << DECAY_PART_BITS];
extern double decay_mult[];

void decay_init(void);
size_t decay_table_bytes(void);

/* 2^(-fcap_lambdas[l] * dt_ns / 1e9); decay_init() must have run. Inline:
 * it runs some thirty times per packet. */
static inline double decay_factor(unsigned l, uint64_t dt_ns)
{
	/* the conversions go through int64, one instruction each on x86: the
	 * same values, as here dt < 2^63 and x + 0.5 < 2^36 */
	if (dt_ns >> 63)
		return 0.0;
	double x = (double)(int64_t)dt_ns * decay_mult[l];
	if (x >= (double)((uint64_t)DECAY_INT_LIMIT << DECAY_FRAC_BITS))
		return 0.0;
	uint64_t q = (uint64_t)(int64_t)(x + 0.5);
	uint64_t ip = q >> DECAY_FRAC_BITS;
	if (ip >= DECAY_INT_LIMIT)
		return 0.0;
	unsigned a = (unsigned)(q >> (2 * DECAY_PART_BITS)) & DECAY_PART_MASK;
	unsigned b = (unsigned)(q >> DECAY_PART_BITS) & DECAY_PART_MASK;
	unsigned c = (unsigned)q & DECAY_PART_MASK;
	return decay_t_int[ip] * decay_t_frac[0][a] * decay_t_frac[1][b] * decay_t_frac[2][c];
}

#endif
