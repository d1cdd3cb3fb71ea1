/*
 * decay.c - the decay factor 2^(-lambda * dt) by table lookup.
 *
 * x = lambda * dt is taken in fixed point with 30 fractional bits; then
 * 2^-x = 2^-int(x) * 2^-(fraction bits 1-10) * 2^-(11-20) * 2^-(21-30):
 * four table entries and three multiplications. The only error is rounding
 * x to 2^-30 (a relative error below ln 2 * 2^-31, 3.3e-10, per factor) and
 * the multiplications' rounding. Built once with exp2() at start-up, never
 * per update.
 */
#include "decay.h"

#include <math.h>
#include <pthread.h>

#include "fcap/features.h"

#define FRAC_BITS 30
#define PART_BITS 10   /* the fraction is looked up in three 10-bit parts */
#define PART_MASK ((1u << PART_BITS) - 1)
#define INT_LIMIT 64   /* 2^-64 is zero for our purposes */

const double fcap_lambdas[FCAP_NLAMBDA] = { 5, 3, 1, 0.1, 0.01 };

static double t_int[INT_LIMIT];
static double t_frac[3][1 << PART_BITS];  /* part p, value i: 2^-(i * 2^-(10 (p+1))) */
static double mult[FCAP_NLAMBDA];     /* lambda * 2^30 / 1e9: dt in ns to x in fixed point */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	for (int i = 0; i < INT_LIMIT; i++)
		t_int[i] = ldexp(1.0, -i);
	for (int p = 0; p < 3; p++)
		for (int i = 0; i < 1 << PART_BITS; i++)
			t_frac[p][i] = exp2(-ldexp(i, -PART_BITS * (p + 1)));
	for (int l = 0; l < FCAP_NLAMBDA; l++)
		mult[l] = fcap_lambdas[l] * (double)(1 << FRAC_BITS) / 1e9;
}

void decay_init(void)
{
	pthread_once(&once, build);
}

size_t decay_table_bytes(void)
{
	return sizeof(t_int) + sizeof(t_frac);
}

double decay_factor(unsigned l, uint64_t dt_ns)
{
	double x = (double)dt_ns * mult[l];
	if (x >= (double)((uint64_t)INT_LIMIT << FRAC_BITS))
		return 0.0;
	uint64_t q = (uint64_t)(x + 0.5);
	uint64_t ip = q >> FRAC_BITS;
	if (ip >= INT_LIMIT)
		return 0.0;
	unsigned a = (unsigned)(q >> (2 * PART_BITS)) & PART_MASK;
	unsigned b = (unsigned)(q >> PART_BITS) & PART_MASK;
	unsigned c = (unsigned)q & PART_MASK;
	return t_int[ip] * t_frac[0][a] * t_frac[1][b] * t_frac[2][c];
}

double fcap_decay(unsigned lambda_i, uint64_t dt_ns)
{
	decay_init();
	return lambda_i < FCAP_NLAMBDA ? decay_factor(lambda_i, dt_ns) : 0.0;
}
