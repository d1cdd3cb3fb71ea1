// sim_edges.h - how a harness raises a Verilated model's clocks (the card in
// sim/fcap_sim.cpp, the simulator-speed floor in bench/sim_floor/), so that
// both are driven the same way.
//
// raise(core, mac_rise): the core clock (if core) and the MAC clocks in the
// mac_rise mask rise in one eval; every other clock falls in that same eval
// (nothing in the RTL uses a falling edge, so a fall needs no eval of its
// own). Only when a clock that must rise is still high is there an eval
// first, to lower it. M is the Verilated top: it has clk and mac_clk.
#ifndef FCAP_SIM_EDGES_H
#define FCAP_SIM_EDGES_H

#include <cstdint>

template <class M> struct sim_edges {
	bool clk_high = true;     // unknown at first: the first edge lowers them all
	uint32_t mac_high = ~0u;

	void raise(M *t, bool core, uint32_t mac_rise)
	{
		if ((core && clk_high) || (mac_rise & mac_high)) {
			t->clk = 0;
			t->mac_clk = 0;
			t->eval();
		}
		t->clk = core;
		t->mac_clk = mac_rise;
		t->eval();
		clk_high = core;
		mac_high = mac_rise;
	}
};

#endif
