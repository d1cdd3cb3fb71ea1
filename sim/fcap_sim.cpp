// fcap_sim.cpp - the thin C++ layer Verilator requires: it owns the Verilated
// model, drives its pins once per clock edge and exposes the C API of
// fcap_sim.h. MAC pacing (sim_mac.c) and host memory (sim_dma.c) are C.
//
// One clock cycle (step):
//   1. drive inputs for the coming rising edge (MAC beat, AXI-Lite, DMA ready)
//   2. clk = 0, eval: outputs settle against the new inputs
//   3. sample every handshake that the rising edge will complete
//   4. clk = 1, eval: the edge
// so what step 3 sees is exactly what the RTL sees at the edge.

#include "fcap_sim.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "Vfcap_top.h"
#include "verilated.h"
#include "sim_dma.h"
#include "sim_mac.h"

namespace {
constexpr unsigned kResetCycles = 8;
constexpr uint64_t kRegTimeoutCycles = 1000;
}

struct fcap_sim {
	VerilatedContext *ctx = nullptr;
	Vfcap_top *top = nullptr;
	sim_dma *dma = nullptr;
	sim_mac *mac[FCAP_SIM_PORTS] = {};
	uint32_t period_ps = FCAP_SIM_DEFAULT_PERIOD_PS;
	uint64_t cycles = 0;
	uint64_t last_write_ps = 0;

	// handshakes sampled at the last edge
	bool aw_done = false, b_done = false, ar_done = false, r_done = false;
	uint32_t r_data = 0;
	uint32_t b_resp = 0;
};

static void step(fcap_sim *s)
{
	Vfcap_top *t = s->top;
	uint64_t now = s->cycles * s->period_ps;

	sim_beat beat;
	sim_mac_beat(s->mac[0], now, &beat);
	t->s_axis_tdata = beat.data;
	t->s_axis_tkeep = beat.keep;
	t->s_axis_tvalid = beat.valid;
	t->s_axis_tlast = beat.last;
	t->s_axis_tuser = beat.user;
	t->dma_wr_ready = 1;

	t->clk = 0;
	t->eval();

	if (t->dma_wr_valid && t->dma_wr_ready)
		sim_dma_write(s->dma, t->dma_wr_addr, t->dma_wr_data, t->dma_wr_strb);
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

	t->clk = 1;
	t->eval();
	s->cycles++;
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
	s->ctx = new (std::nothrow) VerilatedContext;
	if (s->ctx)
		s->top = new (std::nothrow) Vfcap_top{s->ctx};
	s->dma = sim_dma_create();
	bool ok = s->ctx && s->top && s->dma;
	for (unsigned p = 0; p < FCAP_SIM_PORTS && ok; p++)
		ok = (s->mac[p] = sim_mac_create(p)) != nullptr;
	if (!ok) {
		snprintf(err, errlen, "sim: out of memory");
		fcap_sim_destroy(s);
		return nullptr;
	}
	Vfcap_top *t = s->top;
	t->rst = 1;
	t->s_axil_bready = 1;
	t->s_axil_rready = 1;
	for (unsigned i = 0; i < kResetCycles; i++)
		step(s);
	t->rst = 0;
	step(s);
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
		step(s);
	} while (!s->ar_done && ++n < kRegTimeoutCycles);
	t->s_axil_arvalid = 0;
	while (!s->r_done && ++n < kRegTimeoutCycles)
		step(s);
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
		step(s);
	} while (!s->aw_done && ++n < kRegTimeoutCycles);
	t->s_axil_awvalid = 0;
	t->s_axil_wvalid = 0;
	while (!s->b_done && ++n < kRegTimeoutCycles)
		step(s);
	return (s->b_done && s->b_resp == 0) ? 0 : -1;
}

uint64_t fcap_sim_last_write_ps(const struct fcap_sim *s)
{
	return s->last_write_ps;
}

void fcap_sim_run(struct fcap_sim *s, uint64_t cycles)
{
	for (uint64_t i = 0; i < cycles; i++)
		step(s);
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

bool fcap_sim_card_idle(const struct fcap_sim *s)
{
	return s->top->idle;
}

bool fcap_sim_irq(const struct fcap_sim *s)
{
	return s->top->irq;
}

uint64_t fcap_sim_run_until(struct fcap_sim *s, uint64_t max_cycles, unsigned stop)
{
	uint64_t i = 0;
	while (i < max_cycles) {
		if ((stop & FCAP_SIM_STOP_IRQ) && s->top->irq)
			break;
		if ((stop & FCAP_SIM_STOP_IDLE) && s->top->idle && fcap_sim_mac_done(s))
			break;
		step(s);
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
	return s->cycles * s->period_ps;
}

uint32_t fcap_sim_clock_period_ps(const struct fcap_sim *s)
{
	return s->period_ps;
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
