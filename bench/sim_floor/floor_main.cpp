// floor_main.cpp - runs fcap_floor (fcap_floor.v) the way sim/fcap_sim.cpp
// runs the card, so that its speed is the floor under the card's: the same
// clocks (250 MHz core from 0 ps, four 156.25 MHz MACs at phases
// 500 + 1600 * port ps), the same scheduling (MAC edges of one core interval
// in one eval, no eval for falling edges) and sim_clock.c for the edges.
// Each port sends 64-byte frames back to back at 10 Gb/s: 8 beats, then idle
// until the frame's 84 bytes of wire time have passed.
//
// Usage: bench_sim_floor [US]   simulates US microseconds (default 1000)
// and prints frames sent, frames the core saw and frames per wall second.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "Vfcap_floor.h"
#include "verilated.h"
#include "sim_clock.h"
#include "sim_edges.h"

namespace {

const unsigned kPorts = 4;
const unsigned kWireHalfBytes = 2 * 84;   // one 64-byte frame on the wire
const unsigned kBeatHalfBytes = 2 * 8;    // one 64-bit beat

struct floor_sim {
	Vfcap_floor *top = new Vfcap_floor;
	sim_clocks clocks = {};
	int core_clock = -1;
	int mac_clock[kPorts] = {};
	sim_edges<Vfcap_floor> clock_state;
	unsigned beat[kPorts] = {};
	unsigned wire_half_bytes[kPorts] = {};
	uint64_t words = 0, sent = 0;

	floor_sim()
	{
		core_clock = sim_clocks_add(&clocks, 4000, 0);
		for (unsigned p = 0; p < kPorts; p++)
			mac_clock[p] = sim_clocks_add(&clocks, 6400, 500 + 1600 * p);
	}
	~floor_sim() { delete top; }

	// As the card is driven (sim/sim_edges.h).
	void edges(bool core, uint32_t mac_rise) { clock_state.raise(top, core, mac_rise); }

	void drive_mac(unsigned p)
	{
		bool valid = beat[p] < 8;
		bool last = beat[p] == 7;
		top->s_axis_tdata[2 * p] = (uint32_t)(words * 2654435761u);
		top->s_axis_tdata[2 * p + 1] = (uint32_t)words++;
		top->s_axis_tvalid = (top->s_axis_tvalid & ~(1u << p)) | ((uint32_t)valid << p);
		top->s_axis_tlast = (top->s_axis_tlast & ~(1u << p)) | ((uint32_t)last << p);
		sent += last;
		beat[p]++;
		wire_half_bytes[p] += kBeatHalfBytes;
		if (wire_half_bytes[p] >= kWireHalfBytes) {
			wire_half_bytes[p] -= kWireHalfBytes;
			beat[p] = 0;
		}
	}

	// The clock events up to and including the next core edge.
	void cycle()
	{
		uint32_t batch = 0;
		for (;;) {
			uint32_t mask;
			sim_clocks_next(&clocks, &mask);
			bool core = mask & (1u << core_clock);
			uint32_t mac_rise = 0;
			for (unsigned p = 0; p < kPorts; p++)
				if (mask & (1u << mac_clock[p]))
					mac_rise |= 1u << p;
			if (batch && (core || (mac_rise & batch))) {
				edges(false, batch);
				batch = 0;
			}
			for (unsigned p = 0; p < kPorts; p++)
				if (mac_rise & (1u << p))
					drive_mac(p);
			if (!core) {
				batch |= mac_rise;
				continue;
			}
			edges(true, mac_rise);
			return;
		}
	}
};

double seconds(const timespec &a, const timespec &b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char **argv)
{
	double us = argc > 1 ? atof(argv[1]) : 1000;
	if (argc > 2 || !(us > 0 && us <= 1e6)) {
		fprintf(stderr, "usage: bench_sim_floor [US]   (0 < US <= 1000000)\n");
		return 2;
	}
	floor_sim s;
	s.top->rst = 1;
	s.top->mac_rst = (1u << kPorts) - 1;
	for (int i = 0; i < 16; i++)
		s.cycle();
	s.top->rst = 0;
	s.top->mac_rst = 0;
	s.sent = 0;
	for (unsigned p = 0; p < kPorts; p++)
		s.beat[p] = s.wire_half_bytes[p] = 0;

	uint64_t cycles = (uint64_t)(us * 1e6 / 4000);
	timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t c = 0; c < cycles; c++)
		s.cycle();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = seconds(t0, t1);
	uint64_t seen = 0;
	for (unsigned p = 0; p < kPorts; p++)
		seen += s.top->frames[p];
	printf("floor: %.0f us simulated, %llu frames sent, %llu seen by the core, %.3f s wall, "
	       "%.0f frames per wall second\n",
	       us, (unsigned long long)s.sent, (unsigned long long)seen, wall, (double)s.sent / wall);
	// Frames still in the FIFOs at the end are a handful; more is a broken floor.
	return s.sent - seen <= 2 * kPorts ? 0 : 1;
}
