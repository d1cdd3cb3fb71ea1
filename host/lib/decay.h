/* decay.h - decay factors by lookup table (internal; see decay.c). */
#ifndef FCAP_DECAY_H
#define FCAP_DECAY_H

#include <stddef.h>
#include <stdint.h>

void decay_init(void);
/* 2^(-fcap_lambdas[l] * dt_ns / 1e9); decay_init() must have run. */
double decay_factor(unsigned l, uint64_t dt_ns);
size_t decay_table_bytes(void);

#endif
