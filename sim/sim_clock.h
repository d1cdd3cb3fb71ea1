/*
 * sim_clock.h - clock edges of several unrelated clocks, in time order.
 *
 * Each clock has a period and a phase (the time of its first rising edge),
 * both in ps. sim_clocks_next() returns the time of the next rising edge
 * and the set of clocks that rise at that time (several when edges
 * coincide: the RTL then sees them as simultaneous, each flop sampling the
 * values from before the edge, which is what Verilog semantics give).
 */
#ifndef FCAP_SIM_CLOCK_H
#define FCAP_SIM_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_MAX_CLOCKS 16

struct sim_clocks {
	unsigned n;
	uint64_t period_ps[SIM_MAX_CLOCKS];
	uint64_t next_ps[SIM_MAX_CLOCKS];
	uint64_t edges[SIM_MAX_CLOCKS];   /* rising edges so far */
};

/* Adds a clock; returns its index, or -1 when full or period is 0. */
int sim_clocks_add(struct sim_clocks *c, uint64_t period_ps, uint64_t phase_ps);
/* Advances to the next edge: returns its time, sets *mask (bit i: clock i rises). */
uint64_t sim_clocks_next(struct sim_clocks *c, uint32_t *mask);

#ifdef __cplusplus
}
#endif

#endif
