// fcap_sim.cpp - the thin C++ layer Verilator requires: it owns a Verilated
// card model, drives its pins at every clock edge and exposes the C API of
// fcap_sim.h. Clock scheduling (sim_clock.c), MAC pacing (sim_mac.c), the
// PCIe link (sim_bus.c) and host memory (sim_dma.c) are C.
//
// Two card models are linked in (Makefile): Vfcap_top (4 x 10G) and
// Vfcap_top_1x100g (1 x 100G). Their pins differ only in width, so one
// template (card_model) drives either; the C API talks to it through the few
// virtual functions of struct fcap_sim.
//
// One core cycle (cycle): the clock events up to and including the next core
// edge, in time order.
//   1. MAC edges before the core edge: drive each such port's beat, raise
//      those MAC clocks together and eval (one eval for all of them).
//   2. at the core edge: drive the beats of MAC clocks rising with it, the
//      DMA ready; sample every core handshake the edge will complete
//   3. raise the core clock (and those MAC clocks) and eval: the edge
// Grouping the MAC edges of one core interval into one eval is exact: the
// ports' MAC domains share no logic, the core domain does not change between
// its edges, and a port with two edges in the interval (the 100G MAC clock
// is faster than the core's) gets two evals. A clock falls in the next eval
// that raises another (nothing in the RTL uses a falling edge), so no eval
// is spent on falling edges. What step 2 samples is exactly what the RTL
// sees at the edge because every output of the card is a flop's (Verilator
// computes none of them from an input, in its ico region); the tests check
// it (FCAP_SIM_CHECK_OUTPUTS, check_settled).

#include "fcap_sim.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "Vfcap_top.h"
#include "Vfcap_top_1x100g.h"
#include "verilated.h"
#include "sim_bus.h"
#include "sim_clock.h"
#include "sim_dma.h"
#include "sim_edges.h"
#include "sim_mac.h"

namespace {
constexpr unsigned kResetCycles = 8;
constexpr uint64_t kRegTimeoutCycles = 1000;
constexpr unsigned kMaxLineBytes = 128;  // the widest DMA beat (fcap_top_1x100g: 16 words)
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;  // FNV-1a, 64-bit
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// What distinguishes the simulated cards (hw/rtl/fcap_top*.v, hw/dts/).
struct card_desc {
	const char *name;
	unsigned ports;
	uint32_t core_period_ps;
	uint32_t mac_period_ps;
	unsigned beat_bytes;     // MAC beat
	unsigned line_bytes;     // DMA beat
	uint64_t port_bps;       // line rate of each port
	const char *bus;         // the PCIe link it is meant for (a sim_bus preset)
	fcap_sim *(*make)(const card_desc *);
};
} // namespace

struct fcap_sim {
	const card_desc *card = nullptr;
	sim_dma *dma = nullptr;
	sim_bus *bus = nullptr;
	sim_mac *mac[FCAP_SIM_MAX_PORTS] = {};
	sim_clocks clocks = {};
	int core_clock = -1;
	int mac_clock[FCAP_SIM_MAX_PORTS] = {};
	uint32_t period_ps = 0;
	uint32_t mac_period_ps[FCAP_SIM_MAX_PORTS] = {};
	uint64_t cycles = 0;        // core edges so far
	uint64_t now_ps = 0;        // time of the last event
	uint64_t last_write_ps = 0;

	// FCAP_SIM_CHECK_OUTPUTS=1: before each core edge's sampling, settle the
	// model once more and count the edges at which an output changed (it
	// would depend on an input combinationally: see cycle()).
	bool check_outputs = false;
	uint64_t outputs_checked = 0, outputs_unsettled = 0;
	// fcap_sim_hash_dma: a running FNV-1a hash of every DMA beat (time,
	// address, strobes, the strobed bytes), to show that a change to the RTL
	// or the harness leaves the card's output exactly as it was.
	bool hash_dma = false;
	uint64_t dma_hash = kFnvOffset;

	void hash_bytes(const void *p, size_t n)
	{
		const uint8_t *b = static_cast<const uint8_t *>(p);
		for (size_t i = 0; i < n; i++)
			dma_hash = (dma_hash ^ b[i]) * kFnvPrime;
	}
	void hash_beat(uint64_t now, uint64_t addr, const uint8_t *data, const uint64_t *strb, unsigned n)
	{
		hash_bytes(&now, sizeof(now));
		hash_bytes(&addr, sizeof(addr));
		hash_bytes(strb, (n + 63) / 64 * sizeof(*strb));
		for (unsigned i = 0; i < n; i++)
			if (strb[i / 64] >> (i % 64) & 1)
				hash_bytes(&data[i], 1);
	}

	// handshakes sampled at the last edge
	bool aw_done = false, b_done = false, ar_done = false, r_done = false;
	uint32_t r_data = 0;
	uint32_t b_resp = 0;

	// The interrupt is a message (MSI) behind the card's earlier writes: the
	// host sees it once every write issued before it rose has landed.
	bool msi_pending = false;
	uint64_t msi_ticket = 0;

	virtual ~fcap_sim() = default;
	virtual bool ok() const = 0;
	// Processes clock events up to and including the next core edge.
	virtual void cycle() = 0;
	virtual void set_reset(bool on) = 0;
	virtual void set_read(uint16_t addr, bool valid) = 0;
	virtual void set_write(uint16_t addr, uint32_t data, bool valid) = 0;
	virtual void set_pps(bool level) = 0;
	virtual bool irq_line() const = 0;
	virtual bool idle_line() const = 0;
};

namespace {

// Bytes into and out of Verilated signals, whatever C++ type Verilator gave
// them (CData/SData/IData/QData up to 64 bits, VlWide<N> above): bit 8i of
// the signal is byte i's bit 0.
template <std::size_t N> void put_bytes(VlWide<N> &w, unsigned off, const uint8_t *b, unsigned n)
{
	if (off % 4 == 0 && n % 4 == 0) {   // whole words: the MAC beats always are
		for (unsigned i = 0; i < n; i += 4)
			w[(off + i) / 4] = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8 | (uint32_t)b[i + 2] << 16 |
					   (uint32_t)b[i + 3] << 24;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned bit = (off + i) * 8;
		uint32_t &word = w[bit / 32];
		word = (word & ~(0xFFu << (bit % 32))) | (uint32_t)b[i] << (bit % 32);
	}
}

template <class T> void put_bits(T &v, unsigned lsb, unsigned width, uint64_t x)
{
	uint64_t mask = (width >= 64 ? ~0ull : (1ull << width) - 1) << lsb;
	v = (T)(((uint64_t)v & ~mask) | ((x << lsb) & mask));
}

template <std::size_t N> void put_bits(VlWide<N> &w, unsigned lsb, unsigned width, uint64_t x)
{
	for (unsigned i = 0; i < width; i++) {
		unsigned bit = lsb + i;
		uint32_t m = 1u << (bit % 32);
		w[bit / 32] = (x >> i & 1) ? (w[bit / 32] | m) : (w[bit / 32] & ~m);
	}
}

template <class T> void get_bytes(const T &v, uint8_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

template <std::size_t N> void get_bytes(const VlWide<N> &w, uint8_t *out, unsigned n)
{
	unsigned i = 0;
	for (; i + 4 <= n; i += 4) {   // whole words: the DMA lines always are
		uint32_t x = w[i / 4];
		out[i] = (uint8_t)x;
		out[i + 1] = (uint8_t)(x >> 8);
		out[i + 2] = (uint8_t)(x >> 16);
		out[i + 3] = (uint8_t)(x >> 24);
	}
	for (; i < n; i++)
		out[i] = (uint8_t)(w[i / 4] >> (8 * (i % 4)));
}

// The strobes (one bit a byte) as 64-bit words.
template <class T> void get_strobes(const T &v, uint64_t *out, unsigned nbits)
{
	(void)nbits;
	out[0] = (uint64_t)v;
}

template <std::size_t N> void get_strobes(const VlWide<N> &w, uint64_t *out, unsigned nbits)
{
	for (unsigned i = 0; i < nbits / 64; i++)
		out[i] = (uint64_t)w[2 * i] | (uint64_t)w[2 * i + 1] << 32;
}

template <class M> struct card_model final : fcap_sim {
	VerilatedContext *ctx = nullptr;
	M *top = nullptr;

	explicit card_model(const card_desc *c)
	{
		card = c;
		ctx = new (std::nothrow) VerilatedContext;
		if (ctx)
			top = new (std::nothrow) M{ctx};
	}
	~card_model() override
	{
		if (top)
			top->final();
		delete top;
		delete ctx;
	}
	bool ok() const override { return top != nullptr; }

	// Drives port p's MAC inputs for its edge at time t.
	void drive_mac(unsigned p, uint64_t t)
	{
		sim_beat beat;
		unsigned bb = card->beat_bytes;
		sim_mac_beat(mac[p], t, &beat);
		if (beat.valid) {
			put_bytes(top->s_axis_tdata, p * bb, beat.data, bb);
			put_bits(top->s_axis_tkeep, p * bb, bb, beat.keep);
		}
		put_bits(top->s_axis_tvalid, p, 1, beat.valid);
		put_bits(top->s_axis_tlast, p, 1, beat.last);
		put_bits(top->s_axis_tuser, p, 1, beat.user);
	}

	// One DMA beat: a line with byte strobes, handed to the link model.
	void dma_beat(uint64_t now)
	{
		uint8_t data[kMaxLineBytes];
		uint64_t strb[kMaxLineBytes / 64];
		unsigned n = card->line_bytes;
		get_bytes(top->dma_wr_data, data, n);
		get_strobes(top->dma_wr_strb, strb, n);
		if (hash_dma)
			hash_beat(now, top->dma_wr_addr, data, strb, n);
		sim_bus_beat(bus, now, top->dma_wr_addr, data, strb, n);
	}

	// The clocks as the model last evaluated them (sim_edges.h).
	sim_edges<M> clock_state;
	void edges(bool core, uint32_t mac_rise) { clock_state.raise(top, core, mac_rise); }

	// The outputs cycle() samples, as one comparable snapshot.
	struct sampled {
		bool dma_valid, awready, bvalid, arready, rvalid, irq, idle;
		uint32_t rdata, bresp;
		uint64_t dma_addr;
		bool operator!=(const sampled &o) const
		{
			return dma_valid != o.dma_valid || awready != o.awready || bvalid != o.bvalid ||
			       arready != o.arready || rvalid != o.rvalid || irq != o.irq || idle != o.idle ||
			       rdata != o.rdata || bresp != o.bresp || dma_addr != o.dma_addr;
		}
	};
	sampled sample() const
	{
		const M *t = top;
		return { (bool)t->dma_wr_valid, (bool)t->s_axil_awready, (bool)t->s_axil_bvalid,
			 (bool)t->s_axil_arready, (bool)t->s_axil_rvalid, (bool)t->irq, (bool)t->idle,
			 (uint32_t)t->s_axil_rdata, (uint32_t)t->s_axil_bresp, (uint64_t)t->dma_wr_addr };
	}
	// An eval with no clock edge recomputes only what depends on inputs
	// combinationally: if an output moves, sampling without it was wrong.
	// Not at the first core edge: until the model's first eval its outputs
	// are the constructor's, not the logic's.
	void check_settled()
	{
		if (cycles == 0)
			return;
		sampled before = sample();
		top->eval();
		outputs_checked++;
		if (sample() != before)
			outputs_unsettled++;
	}

	void cycle() override
	{
		M *t = top;
		uint32_t batch = 0;   // MAC clocks whose edge is driven, not yet evaluated
		for (;;) {
			uint32_t mask;
			uint64_t now = sim_clocks_next(&clocks, &mask);
			bool core = mask & (1u << core_clock);
			uint32_t mac_rise = 0;
			for (unsigned p = 0; p < card->ports; p++)
				if (mask & (1u << mac_clock[p]))
					mac_rise |= 1u << p;
			// Earlier MAC edges go before this event: all of them when the
			// core rises now, or when a port of the batch has its next edge.
			if (batch && (core || (mac_rise & batch))) {
				edges(false, batch);
				batch = 0;
			}
			for (unsigned p = 0; p < card->ports; p++)
				if (mac_rise & (1u << p))
					drive_mac(p, now);
			now_ps = now;
			if (!core) {
				batch |= mac_rise;
				continue;
			}
			t->dma_wr_ready = sim_bus_ready(bus, now);
			if (check_outputs)
				check_settled();
			if (t->dma_wr_valid && t->dma_wr_ready)
				dma_beat(now);
			aw_done = t->s_axil_awvalid && t->s_axil_awready;
			b_done = t->s_axil_bvalid && t->s_axil_bready;
			ar_done = t->s_axil_arvalid && t->s_axil_arready;
			r_done = t->s_axil_rvalid && t->s_axil_rready;
			if (r_done)
				r_data = t->s_axil_rdata;
			if (b_done)
				b_resp = t->s_axil_bresp;
			if (aw_done)
				last_write_ps = now;

			edges(true, mac_rise);
			cycles++;
			if (!t->irq)
				msi_pending = false;
			else if (!msi_pending) {
				msi_ticket = sim_bus_ticket(bus, now);
				msi_pending = true;
			}
			return;
		}
	}

	void set_reset(bool on) override
	{
		top->rst = on;
		top->mac_rst = on ? (1u << card->ports) - 1 : 0;
		top->s_axil_bready = 1;
		top->s_axil_rready = 1;
	}
	void set_read(uint16_t addr, bool valid) override
	{
		top->s_axil_araddr = addr;
		top->s_axil_arvalid = valid;
	}
	void set_write(uint16_t addr, uint32_t data, bool valid) override
	{
		top->s_axil_awaddr = addr;
		top->s_axil_wdata = data;
		top->s_axil_wstrb = 0xF;
		top->s_axil_awvalid = valid;
		top->s_axil_wvalid = valid;
	}
	void set_pps(bool level) override { top->pps = level; }
	bool irq_line() const override { return top->irq != 0; }
	bool idle_line() const override { return top->idle; }
};

template <class M> fcap_sim *make_card(const card_desc *c)
{
	return new (std::nothrow) card_model<M>(c);
}

const card_desc cards[] = {
	{ "4x10g", 4, 4000, 6400, 8, 64, 10000000000ull, "gen3x8", make_card<Vfcap_top> },
	{ "1x100g", 1, 3200, 3103, 64, 128, 100000000000ull, "gen4x16", make_card<Vfcap_top_1x100g> },
};

void core_cycle(fcap_sim *s)
{
	s->cycle();
}

} // namespace

extern "C" {

struct fcap_sim *fcap_sim_create(const struct fcap_sim_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg && cfg->card ? cfg->card : "4x10g";
	const card_desc *c = nullptr;
	for (const card_desc &d : cards)
		if (!strcmp(d.name, name))
			c = &d;
	if (!c) {
		snprintf(err, errlen, "sim: no card '%s' (the simulated cards: %s)", name, FCAP_SIM_CARDS);
		return nullptr;
	}
	fcap_sim *s = c->make(c);
	if (!s || !s->ok()) {
		snprintf(err, errlen, "sim: out of memory");
		delete s;
		return nullptr;
	}
	const char *check = getenv("FCAP_SIM_CHECK_OUTPUTS");
	s->check_outputs = check && !strcmp(check, "1");
	s->period_ps = cfg && cfg->clock_period_ps ? cfg->clock_period_ps : c->core_period_ps;
	s->core_clock = sim_clocks_add(&s->clocks, s->period_ps, 0);
	for (unsigned p = 0; p < c->ports; p++) {
		bool given = cfg && cfg->mac_period_ps[p];
		s->mac_period_ps[p] = given ? cfg->mac_period_ps[p] : c->mac_period_ps;
		// Default phases never meet a core edge on the 4x10G card (see
		// docs/ARCHITECTURE.md); the 100G MAC clock drifts across the core's.
		uint32_t phase = given ? cfg->mac_phase_ps[p] : 500 + 1600 * p;
		s->mac_clock[p] = sim_clocks_add(&s->clocks, s->mac_period_ps[p], phase);
	}
	s->dma = sim_dma_create();
	s->bus = s->dma ? sim_bus_create(s->dma) : nullptr;
	bool ok = s->bus != nullptr;
	for (unsigned p = 0; p < c->ports && ok; p++)
		ok = (s->mac[p] = sim_mac_create(p, c->beat_bytes, c->port_bps)) != nullptr;
	if (!ok) {
		snprintf(err, errlen, "sim: out of memory");
		fcap_sim_destroy(s);
		return nullptr;
	}
	s->set_reset(true);
	// Long enough for every MAC domain to see several reset edges too.
	for (unsigned i = 0; i < kResetCycles; i++)
		core_cycle(s);
	s->set_reset(false);
	core_cycle(s);
	return s;
}

void fcap_sim_destroy(struct fcap_sim *s)
{
	if (!s)
		return;
	sim_bus_destroy(s->bus);
	sim_dma_destroy(s->dma);
	for (unsigned p = 0; p < FCAP_SIM_MAX_PORTS; p++)
		sim_mac_destroy(s->mac[p]);
	delete s;
}

const char *fcap_sim_card(const struct fcap_sim *s)
{
	return s->card->name;
}

unsigned fcap_sim_ports(const struct fcap_sim *s)
{
	return s->card->ports;
}

const char *fcap_sim_card_bus(const struct fcap_sim *s)
{
	return s->card->bus;
}

uint32_t fcap_sim_reg_read(struct fcap_sim *s, uint32_t addr)
{
	s->set_read((uint16_t)addr, true);
	uint64_t n = 0;
	do {
		core_cycle(s);
	} while (!s->ar_done && ++n < kRegTimeoutCycles);
	s->set_read((uint16_t)addr, false);
	while (!s->r_done && ++n < kRegTimeoutCycles)
		core_cycle(s);
	// r_done and r_data describe the last core edge only: keep them before
	// the clock runs on.
	uint32_t value = s->r_done ? s->r_data : 0xFFFFFFFFu;
	// The completion travels behind every DMA write the card issued before
	// it (PCIe: read completions do not pass posted writes), so a value read
	// here is never newer than what host memory shows.
	uint64_t ticket = sim_bus_ticket(s->bus, s->now_ps);
	while (!sim_bus_landed(s->bus, ticket, s->now_ps))
		core_cycle(s);
	return value;
}

int fcap_sim_reg_write(struct fcap_sim *s, uint32_t addr, uint32_t value)
{
	s->set_write((uint16_t)addr, value, true);
	uint64_t n = 0;
	do {
		core_cycle(s);
	} while (!s->aw_done && ++n < kRegTimeoutCycles);
	s->set_write((uint16_t)addr, value, false);
	while (!s->b_done && ++n < kRegTimeoutCycles)
		core_cycle(s);
	return (s->b_done && s->b_resp == 0) ? 0 : -1;
}

uint64_t fcap_sim_outputs_unsettled(const struct fcap_sim *s, uint64_t *checked)
{
	if (checked)
		*checked = s->outputs_checked;
	return s->outputs_unsettled;
}

void fcap_sim_hash_dma(struct fcap_sim *s, bool on)
{
	s->hash_dma = on;
}

uint64_t fcap_sim_dma_hash(const struct fcap_sim *s)
{
	return s->dma_hash;
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
	for (unsigned p = 0; p < s->card->ports; p++)
		if (!sim_mac_done(s->mac[p]))
			return false;
	return true;
}

void fcap_sim_mac_hold(struct fcap_sim *s, bool hold)
{
	for (unsigned p = 0; p < s->card->ports; p++)
		sim_mac_hold(s->mac[p], hold);
}

// Idle: nothing in the card, and nothing it wrote still on its way to memory.
bool fcap_sim_card_idle(const struct fcap_sim *s)
{
	return s->idle_line() && sim_bus_drain(s->bus, s->now_ps);
}

bool fcap_sim_irq(const struct fcap_sim *s)
{
	return s->irq_line() && s->msi_pending && sim_bus_landed(s->bus, s->msi_ticket, s->now_ps);
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
	return port < s->card->ports ? s->mac_period_ps[port] : 0;
}

void fcap_sim_set_pps(struct fcap_sim *s, bool level)
{
	s->set_pps(level);
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
	return port < s->card->ports ? s->mac[port] : nullptr;
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
		snprintf(err, errlen, "sim: %s: no port %u (the %s card has %u)", path, port, s->card->name,
			 s->card->ports);
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
	for (unsigned p = 0; p < s->card->ports; p++) {
		const char *e = sim_mac_error(s->mac[p]);
		if (e)
			return e;
	}
	return nullptr;
}

void fcap_sim_mac_on_frame(struct fcap_sim *s, fcap_sim_frame_cb cb, void *ctx)
{
	for (unsigned p = 0; p < s->card->ports; p++)
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
