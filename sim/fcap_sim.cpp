// fcap_sim.cpp - the thin C++ layer Verilator requires: it owns the Verilated
// model, drives its pins at every clock edge and exposes the C API of
// fcap_sim.h. Clock scheduling (sim_clock.c), MAC pacing (sim_mac.c) and host
// memory (sim_dma.c) are C.
//
// One event (step), at the time of the next rising edge of one or more clocks:
//   1. drive the inputs of each domain that has an edge now (the MAC beat of
//      each port; AXI-Lite and DMA ready are held by the register calls)
//   2. all clocks = 0, eval: outputs settle against the new inputs
//   3. sample every core handshake the edge will complete (if the core rises)
//   4. rising clocks = 1, eval: the edge
// so what step 3 sees is exactly what the RTL sees at the edge.

#include "fcap_sim.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "Vfcap_top.h"
#include "verilated.h"
#include "sim_bus.h"
#include "sim_clock.h"
#include "sim_dma.h"
#include "sim_mac.h"

namespace {
constexpr unsigned kResetCycles = 8;
constexpr uint64_t kRegTimeoutCycles = 1000;
constexpr unsigned kDmaWords = 8;  // 64-bit words per DMA beat (fcap_top DMA_LANES)
}

struct fcap_sim {
	VerilatedContext *ctx = nullptr;
	Vfcap_top *top = nullptr;
	sim_dma *dma = nullptr;
	sim_bus *bus = nullptr;
	sim_mac *mac[FCAP_SIM_PORTS] = {};
	sim_clocks clocks = {};
	int core_clock = -1;
	int mac_clock[FCAP_SIM_PORTS] = {};
	uint32_t period_ps = FCAP_SIM_DEFAULT_PERIOD_PS;
	uint32_t mac_period_ps[FCAP_SIM_PORTS] = {};
	uint64_t cycles = 0;        // core edges so far
	uint64_t now_ps = 0;        // time of the last event
	uint64_t last_write_ps = 0;

	// handshakes sampled at the last edge
	bool aw_done = false, b_done = false, ar_done = false, r_done = false;
	uint32_t r_data = 0;
	uint32_t b_resp = 0;

	// The interrupt is a message (MSI) behind the card's earlier writes: the
	// host sees it once every write issued before it rose has landed.
	bool msi_pending = false;
	uint64_t msi_ticket = 0;
};

// Drives port p's MAC inputs for its edge at time t.
static void drive_mac(fcap_sim *s, unsigned p, uint64_t t)
{
	Vfcap_top *top = s->top;
	sim_beat beat;
	sim_mac_beat(s->mac[p], t, &beat);
	top->s_axis_tdata[2 * p] = (uint32_t)beat.data;
	top->s_axis_tdata[2 * p + 1] = (uint32_t)(beat.data >> 32);
	top->s_axis_tkeep = (top->s_axis_tkeep & ~(0xFFu << (8 * p))) | (uint32_t)beat.keep << (8 * p);
	uint8_t bit = (uint8_t)(1u << p);
	top->s_axis_tvalid = beat.valid ? (top->s_axis_tvalid | bit) : (top->s_axis_tvalid & ~bit);
	top->s_axis_tlast = beat.last ? (top->s_axis_tlast | bit) : (top->s_axis_tlast & ~bit);
	top->s_axis_tuser = beat.user ? (top->s_axis_tuser | bit) : (top->s_axis_tuser & ~bit);
}

// One DMA beat: a 64-byte line with byte strobes, handed to the link model.
static void dma_beat(fcap_sim *s, uint64_t now)
{
	Vfcap_top *t = s->top;
	uint64_t words[kDmaWords];
	for (unsigned w = 0; w < kDmaWords; w++)
		words[w] = (uint64_t)t->dma_wr_data[2 * w] | (uint64_t)t->dma_wr_data[2 * w + 1] << 32;
	sim_bus_beat(s->bus, now, t->dma_wr_addr, words, t->dma_wr_strb);
}

// Processes the next clock event; returns true if the core clock rose.
static bool step(fcap_sim *s)
{
	Vfcap_top *t = s->top;
	uint32_t mask;
	uint64_t now = sim_clocks_next(&s->clocks, &mask);
	bool core = mask & (1u << s->core_clock);
	uint8_t mac_rise = 0;
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++) {
		if (mask & (1u << s->mac_clock[p])) {
			drive_mac(s, p, now);
			mac_rise |= (uint8_t)(1u << p);
		}
	}
	if (core)
		t->dma_wr_ready = sim_bus_ready(s->bus, now);

	t->clk = 0;
	t->mac_clk = 0;
	t->eval();

	if (core) {
		if (t->dma_wr_valid && t->dma_wr_ready)
			dma_beat(s, now);
		s->aw_done = t->s_axil_awvalid && t->s_axil_awready;
		s->b_done = t->s_axil_bvalid && t->s_axil_bready;
		s->ar_done = t->s_axil_arvalid && t->s_axil_arready;
		s->r_done = t->s_axil_rvalid && t->s_axil_rready;
		if (s->r_done)
			s->r_data = t->s_axil_rdata;
		if (s->b_done)
			s->b_resp = t->s_axil_bresp;
		if (s->aw_done)
			s->last_write_ps = now;
	}

	t->clk = core;
	t->mac_clk = mac_rise;
	t->eval();
	s->now_ps = now;
	if (core) {
		s->cycles++;
		if (!t->irq)
			s->msi_pending = false;
		else if (!s->msi_pending) {
			s->msi_ticket = sim_bus_ticket(s->bus, now);
			s->msi_pending = true;
		}
	}
	return core;
}

// Runs events until the next core edge has been processed.
static void core_cycle(fcap_sim *s)
{
	while (!step(s)) {
	}
}

extern "C" {

struct fcap_sim *fcap_sim_create(const struct fcap_sim_config *cfg, char *err, size_t errlen)
{
	fcap_sim *s = new (std::nothrow) fcap_sim;
	if (!s) {
		snprintf(err, errlen, "sim: out of memory");
		return nullptr;
	}
	if (cfg && cfg->clock_period_ps)
		s->period_ps = cfg->clock_period_ps;
	s->core_clock = sim_clocks_add(&s->clocks, s->period_ps, 0);
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++) {
		bool given = cfg && cfg->mac_period_ps[p];
		s->mac_period_ps[p] = given ? cfg->mac_period_ps[p] : FCAP_SIM_DEFAULT_MAC_PERIOD_PS;
		// Default phases never meet a core edge (see docs/ARCHITECTURE.md).
		uint32_t phase = given ? cfg->mac_phase_ps[p] : 500 + 1600 * p;
		s->mac_clock[p] = sim_clocks_add(&s->clocks, s->mac_period_ps[p], phase);
	}
	s->ctx = new (std::nothrow) VerilatedContext;
	if (s->ctx)
		s->top = new (std::nothrow) Vfcap_top{s->ctx};
	s->dma = sim_dma_create();
	s->bus = s->dma ? sim_bus_create(s->dma) : nullptr;
	bool ok = s->ctx && s->top && s->dma && s->bus;
	for (unsigned p = 0; p < FCAP_SIM_PORTS && ok; p++)
		ok = (s->mac[p] = sim_mac_create(p)) != nullptr;
	if (!ok) {
		snprintf(err, errlen, "sim: out of memory");
		fcap_sim_destroy(s);
		return nullptr;
	}
	Vfcap_top *t = s->top;
	t->rst = 1;
	t->mac_rst = (1u << FCAP_SIM_PORTS) - 1;
	t->s_axil_bready = 1;
	t->s_axil_rready = 1;
	// Long enough for every MAC domain to see several reset edges too.
	for (unsigned i = 0; i < kResetCycles; i++)
		core_cycle(s);
	t->rst = 0;
	t->mac_rst = 0;
	core_cycle(s);
	return s;
}

void fcap_sim_destroy(struct fcap_sim *s)
{
	if (!s)
		return;
	if (s->top)
		s->top->final();
	delete s->top;
	delete s->ctx;
	sim_bus_destroy(s->bus);
	sim_dma_destroy(s->dma);
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++)
		sim_mac_destroy(s->mac[p]);
	delete s;
}

uint32_t fcap_sim_reg_read(struct fcap_sim *s, uint32_t addr)
{
	Vfcap_top *t = s->top;
	t->s_axil_araddr = (uint16_t)addr;
	t->s_axil_arvalid = 1;
	uint64_t n = 0;
	do {
		core_cycle(s);
	} while (!s->ar_done && ++n < kRegTimeoutCycles);
	t->s_axil_arvalid = 0;
	while (!s->r_done && ++n < kRegTimeoutCycles)
		core_cycle(s);
	// The completion travels behind every DMA write the card issued before
	// it (PCIe: read completions do not pass posted writes), so a value read
	// here is never newer than what host memory shows.
	uint64_t ticket = sim_bus_ticket(s->bus, s->now_ps);
	while (!sim_bus_landed(s->bus, ticket, s->now_ps))
		core_cycle(s);
	return s->r_done ? s->r_data : 0xFFFFFFFFu;
}

int fcap_sim_reg_write(struct fcap_sim *s, uint32_t addr, uint32_t value)
{
	Vfcap_top *t = s->top;
	t->s_axil_awaddr = (uint16_t)addr;
	t->s_axil_wdata = value;
	t->s_axil_wstrb = 0xF;
	t->s_axil_awvalid = 1;
	t->s_axil_wvalid = 1;
	uint64_t n = 0;
	do {
		core_cycle(s);
	} while (!s->aw_done && ++n < kRegTimeoutCycles);
	t->s_axil_awvalid = 0;
	t->s_axil_wvalid = 0;
	while (!s->b_done && ++n < kRegTimeoutCycles)
		core_cycle(s);
	return (s->b_done && s->b_resp == 0) ? 0 : -1;
}

uint64_t fcap_sim_last_write_ps(const struct fcap_sim *s)
{
	return s->last_write_ps;
}

void fcap_sim_run(struct fcap_sim *s, uint64_t cycles)
{
	for (uint64_t i = 0; i < cycles; i++)
		core_cycle(s);
}

bool fcap_sim_mac_done(const struct fcap_sim *s)
{
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++)
		if (!sim_mac_done(s->mac[p]))
			return false;
	return true;
}

void fcap_sim_mac_hold(struct fcap_sim *s, bool hold)
{
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++)
		sim_mac_hold(s->mac[p], hold);
}

// Idle: nothing in the card, and nothing it wrote still on its way to memory.
bool fcap_sim_card_idle(const struct fcap_sim *s)
{
	return s->top->idle && sim_bus_drain(s->bus, s->now_ps);
}

bool fcap_sim_irq(const struct fcap_sim *s)
{
	return s->top->irq && s->msi_pending && sim_bus_landed(s->bus, s->msi_ticket, s->now_ps);
}

uint64_t fcap_sim_run_until(struct fcap_sim *s, uint64_t max_cycles, unsigned stop)
{
	uint64_t i = 0;
	while (i < max_cycles) {
		if ((stop & FCAP_SIM_STOP_IRQ) && fcap_sim_irq(s))
			break;
		if ((stop & FCAP_SIM_STOP_IDLE) && fcap_sim_card_idle(s) && fcap_sim_mac_done(s))
			break;
		core_cycle(s);
		i++;
	}
	return i;
}

uint64_t fcap_sim_cycles(const struct fcap_sim *s)
{
	return s->cycles;
}

uint64_t fcap_sim_time_ps(const struct fcap_sim *s)
{
	return s->now_ps;
}

uint32_t fcap_sim_clock_period_ps(const struct fcap_sim *s)
{
	return s->period_ps;
}

uint32_t fcap_sim_mac_period_ps(const struct fcap_sim *s, unsigned port)
{
	return port < FCAP_SIM_PORTS ? s->mac_period_ps[port] : 0;
}

void fcap_sim_set_pps(struct fcap_sim *s, bool level)
{
	s->top->pps = level;
}

void fcap_sim_set_bus(struct fcap_sim *s, const struct fcap_sim_bus_config *cfg)
{
	sim_bus_configure(s->bus, cfg);
}

void fcap_sim_bus_stats(const struct fcap_sim *s, struct fcap_sim_bus_stats *st)
{
	sim_bus_get_stats(s->bus, st);
}

int fcap_sim_dma_map(struct fcap_sim *s, uint64_t bus, void *host, size_t len, char *err, size_t errlen)
{
	return sim_dma_map(s->dma, bus, host, len, err, errlen);
}

void fcap_sim_dma_stats(const struct fcap_sim *s, struct fcap_sim_dma_stats *st)
{
	sim_dma_get_stats(s->dma, st);
}

static sim_mac *port_mac(const struct fcap_sim *s, unsigned port)
{
	return port < FCAP_SIM_PORTS ? s->mac[port] : nullptr;
}

int fcap_sim_mac_set_rate(struct fcap_sim *s, unsigned port, uint64_t bits_per_s)
{
	sim_mac *m = port_mac(s, port);
	if (!m || bits_per_s == 0)
		return -1;
	sim_mac_set_rate(m, bits_per_s);
	return 0;
}

int fcap_sim_mac_add_file(struct fcap_sim *s, unsigned port, const char *path, char *err, size_t errlen)
{
	sim_mac *m = port_mac(s, port);
	if (!m) {
		snprintf(err, errlen, "sim: no port %u (the card has %u)", port, FCAP_SIM_PORTS);
		return -1;
	}
	return sim_mac_add_file(m, path, err, errlen);
}

int fcap_sim_mac_add_frame(struct fcap_sim *s, unsigned port, const void *data, size_t len, bool fcs_error)
{
	sim_mac *m = port_mac(s, port);
	return m ? sim_mac_add_frame(m, data, len, fcs_error) : -1;
}

int fcap_sim_mac_add_idle(struct fcap_sim *s, unsigned port, uint64_t ns)
{
	sim_mac *m = port_mac(s, port);
	return m ? sim_mac_add_idle(m, ns) : -1;
}

const char *fcap_sim_mac_error(const struct fcap_sim *s)
{
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++) {
		const char *e = sim_mac_error(s->mac[p]);
		if (e)
			return e;
	}
	return nullptr;
}

void fcap_sim_mac_on_frame(struct fcap_sim *s, fcap_sim_frame_cb cb, void *ctx)
{
	for (unsigned p = 0; p < FCAP_SIM_PORTS; p++)
		sim_mac_on_frame(s->mac[p], cb, ctx);
}

void fcap_sim_mac_stats(const struct fcap_sim *s, unsigned port, struct fcap_sim_mac_stats *st)
{
	sim_mac *m = port_mac(s, port);
	if (m)
		sim_mac_stats(m, st);
	else
		memset(st, 0, sizeof(*st));
}

} // extern "C"
