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

#define FRAC_BITS DECAY_FRAC_BITS
#define PART_BITS DECAY_PART_BITS
#define INT_LIMIT DECAY_INT_LIMIT

const double fcap_lambdas[FCAP_NLAMBDA] = { 5, 3, 1, 0.1, 0.01 };

double decay_t_int[INT_LIMIT];
double decay_t_frac[3][1 << PART_BITS];   /* part p, value i: 2^-(i * 2^-(10 (p+1))) */
double decay_mult[FCAP_NLAMBDA];          /* lambda * 2^30 / 1e9: dt in ns to x in fixed point */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	for (int i = 0; i < INT_LIMIT; i++)
		decay_t_int[i] = ldexp(1.0, -i);
	for (int p = 0; p < 3; p++)
		for (int i = 0; i < 1 << PART_BITS; i++)
			decay_t_frac[p][i] = exp2(-ldexp(i, -PART_BITS * (p + 1)));
	for (int l = 0; l < FCAP_NLAMBDA; l++)
		decay_mult[l] = fcap_lambdas[l] * (double)(1 << FRAC_BITS) / 1e9;
}

void decay_init(void)
{
	pthread_once(&once, build);
}

size_t decay_table_bytes(void)
{
	return sizeof(decay_t_int) + sizeof(decay_t_frac);
}

double fcap_decay(unsigned lambda_i, uint64_t dt_ns)
{
	decay_init();
	return lambda_i < FCAP_NLAMBDA ? decay_factor(lambda_i, dt_ns) : 0.0;
}
