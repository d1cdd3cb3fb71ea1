/* sim_clock.c - edge scheduling for several clocks (sim_clock.h). */
#include "sim_clock.h"

int sim_clocks_add(struct sim_clocks *c, uint64_t period_ps, uint64_t phase_ps)
{
	if (c->n == SIM_MAX_CLOCKS || period_ps == 0)
		return -1;
	c->period_ps[c->n] = period_ps;
	c->next_ps[c->n] = phase_ps;
	c->edges[c->n] = 0;
	return (int)c->n++;
}

uint64_t sim_clocks_next(struct sim_clocks *c, uint32_t *mask)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < c->n; i++)
		if (c->next_ps[i] < t)
			t = c->next_ps[i];
	*mask = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->next_ps[i] == t) {
			*mask |= 1u << i;
			c->edges[i]++;
			c->next_ps[i] += c->period_ps[i];
		}
	}
	return t;
}
