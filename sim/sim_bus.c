/*
 * sim_bus.c - PCIe write path model (sim_bus.h).
 *
 * Time is in picoseconds. A TLP being assembled ("open") takes bytes while
 * they continue the previous ones; it is sent when full, when a beat does not
 * continue it, or when a core clock passes with no beat (a DMA engine does
 * not hold data back waiting for more). Sent TLPs queue for the link, which
 * carries them back to back; each lands `latency` after its last byte.
 */
#include "sim_bus.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TLPS 1024
#define MAX_PAYLOAD 4096

struct tlp {
	uint64_t addr;
	uint32_t len;
	uint64_t sent_ps;  /* last byte left the card */
	uint64_t land_ps;  /* visible in host memory */
	uint8_t data[MAX_PAYLOAD];
};

struct sim_bus {
	struct sim_dma *mem;
	struct fcap_sim_bus_config cfg;
	bool ideal;               /* no link model: writes land at once */
	double ps_per_byte;       /* link time per wire byte */

	struct tlp *q;            /* ring of TLPs: sent but not landed, then the open one */
	unsigned head, count;     /* oldest TLP, number queued (open one excluded) */
	bool open;                /* q[(head + count) % MAX_TLPS] is being assembled */
	bool fed;                 /* a beat arrived since the last tick */
	uint64_t link_free_ps;    /* when the link finishes what it has */
	uint64_t rng;
	uint64_t landed;          /* TLPs landed so far */
	uint64_t on_wire;         /* TLPs whose last byte has left the card (by sent_ps) so far */
	uint64_t unsent_bytes;    /* payload of the queued TLPs not yet on the wire */
	struct fcap_sim_bus_stats stats;
};

struct sim_bus *sim_bus_create(struct sim_dma *mem)
{
	struct sim_bus *bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	bus->q = calloc(MAX_TLPS, sizeof(struct tlp));
	if (!bus->q) {
		free(bus);
		return NULL;
	}
	bus->mem = mem;
	bus->ideal = true;
	bus->rng = 0x2545F4914F6CDD1Dull;
	return bus;
}

void sim_bus_destroy(struct sim_bus *bus)
{
	if (bus)
		free(bus->q);
	free(bus);
}

void sim_bus_configure(struct sim_bus *bus, const struct fcap_sim_bus_config *cfg)
{
	bus->cfg = *cfg;
	if (bus->cfg.max_payload == 0 || bus->cfg.max_payload > MAX_PAYLOAD)
		bus->cfg.max_payload = 256;
	if (bus->cfg.efficiency_ppm == 0 || bus->cfg.efficiency_ppm > 1000000)
		bus->cfg.efficiency_ppm = 1000000;
	if (bus->cfg.buffer == 0)
		bus->cfg.buffer = 8192;
	bus->ideal = cfg->bytes_per_s == 0;
	bus->ps_per_byte = bus->ideal ? 0.0
		: 1e12 / ((double)cfg->bytes_per_s * (double)bus->cfg.efficiency_ppm / 1e6);
	if (cfg->seed)
		bus->rng = cfg->seed;
}

static uint64_t next_rand(struct sim_bus *bus)
{
	bus->rng ^= bus->rng << 13;
	bus->rng ^= bus->rng >> 7;
	bus->rng ^= bus->rng << 17;
	return bus->rng;
}

/* Writes a TLP's bytes to host memory as aligned 8-byte words with strobes. */
static void land(struct sim_bus *bus, const struct tlp *t)
{
	uint64_t a = t->addr, end = t->addr + t->len;
	const uint8_t *src = t->data;
	while (a < end) {
		uint64_t word = a & ~7ull;
		uint64_t data = 0;
		uint8_t strb = 0;
		if (a == word && end - a >= 8) {   /* a whole word: most of them */
			memcpy(&data, src, 8);
			sim_dma_write(bus->mem, word, le64toh(data), 0xFF);
			a += 8;
			src += 8;
			continue;
		}
		for (unsigned b = (unsigned)(a - word); b < 8 && a < end; b++, a++, src++) {
			data |= (uint64_t)*src << (8 * b);
			strb |= (uint8_t)(1u << b);
		}
		sim_dma_write(bus->mem, word, data, strb);
	}
}

static struct tlp *open_tlp(struct sim_bus *bus)
{
	return &bus->q[(bus->head + bus->count) % MAX_TLPS];
}

/* The open TLP goes onto the link. */
static void send_open(struct sim_bus *bus, uint64_t now_ps)
{
	if (!bus->open)
		return;
	struct tlp *t = open_tlp(bus);
	double wire = (double)(t->len + bus->cfg.tlp_overhead);
	uint64_t start = bus->link_free_ps > now_ps ? bus->link_free_ps : now_ps;
	t->sent_ps = start + (uint64_t)(wire * bus->ps_per_byte);
	t->land_ps = t->sent_ps + (uint64_t)bus->cfg.latency_ns * 1000u;
	bus->link_free_ps = t->sent_ps;
	bus->stats.tlps++;
	bus->stats.payload_bytes += t->len;
	bus->stats.wire_bytes += t->len + bus->cfg.tlp_overhead;
	bus->stats.busy_ps += t->sent_ps - start;
	bus->unsent_bytes += t->len;
	bus->count++;
	bus->open = false;
}

/* Appends bytes [addr, addr+len) to the open TLP, or sends it and opens a new one. */
static void append(struct sim_bus *bus, uint64_t now_ps, uint64_t addr, const uint8_t *bytes, uint32_t len)
{
	while (len) {
		struct tlp *t = open_tlp(bus);
		bool fits = bus->open && t->addr + t->len == addr && t->len < bus->cfg.max_payload &&
			    (t->addr >> 12) == (addr >> 12);
		if (!fits) {
			send_open(bus, now_ps);
			t = open_tlp(bus);
			t->addr = addr;
			t->len = 0;
			bus->open = true;
		}
		uint32_t room = bus->cfg.max_payload - t->len;
		uint32_t page_room = (uint32_t)(4096 - (addr & 4095));
		uint32_t n = len < room ? len : room;
		if (n > page_room)
			n = page_room;
		memcpy(t->data + t->len, bytes, n);
		t->len += n;
		addr += n;
		bytes += n;
		len -= n;
	}
}

/* TLP number n (counting every TLP sent) while it is queued. */
static const struct tlp *queued_tlp(const struct sim_bus *bus, uint64_t n)
{
	return &bus->q[(bus->head + (unsigned)(n - bus->landed)) % MAX_TLPS];
}

/* Counts out of unsent_bytes the TLPs whose last byte has left by now: they
 * leave in the order they were sent, so this moves forward only. */
static void advance_wire(struct sim_bus *bus, uint64_t now_ps)
{
	while (bus->on_wire < bus->stats.tlps && queued_tlp(bus, bus->on_wire)->sent_ps <= now_ps) {
		bus->unsent_bytes -= queued_tlp(bus, bus->on_wire)->len;
		bus->on_wire++;
	}
}

static void land_due(struct sim_bus *bus, uint64_t now_ps)
{
	advance_wire(bus, now_ps);   /* a TLP lands only after it has left */
	while (bus->count && bus->q[bus->head].land_ps <= now_ps) {
		land(bus, &bus->q[bus->head]);
		bus->head = (bus->head + 1) % MAX_TLPS;
		bus->count--;
		bus->landed++;
	}
}

bool sim_bus_ready(struct sim_bus *bus, uint64_t now_ps)
{
	if (!bus->ideal) {
		/* A clock with no beat ends the TLP being assembled. */
		if (!bus->fed)
			send_open(bus, now_ps);
		bus->fed = false;
		land_due(bus, now_ps);
	}
	if (bus->cfg.stall_pct && next_rand(bus) % 100 < bus->cfg.stall_pct) {
		bus->stats.stall_cycles++;
		return false;
	}
	if (bus->ideal)
		return true;
	/* Bytes queued and not yet on the wire. */
	advance_wire(bus, now_ps);
	uint64_t queued = (bus->open ? open_tlp(bus)->len : 0) + bus->unsent_bytes;
	bool ok = queued < bus->cfg.buffer && bus->count < MAX_TLPS - 2;
	if (!ok)
		bus->stats.stall_cycles++;
	return ok;
}

void sim_bus_beat(struct sim_bus *bus, uint64_t now_ps, uint64_t line, const uint8_t *data,
		  const uint64_t *strb, unsigned nbytes)
{
	bus->fed = true;
	if (bus->ideal) {
		for (unsigned w = 0; w < nbytes / 8; w++) {
			uint8_t ws = (uint8_t)(strb[w / 8] >> (8 * (w % 8)));
			uint64_t word;
			memcpy(&word, data + 8 * w, 8);
			if (ws)
				sim_dma_write(bus->mem, line + 8 * w, word, ws);
		}
		return;
	}
	/* Each run of consecutive strobed bytes is a piece of some TLP. */
	unsigned i = 0;
	while (i < nbytes) {
		if (!(strb[i / 64] >> (i % 64) & 1)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < nbytes && (strb[j / 64] >> (j % 64) & 1))
			j++;
		append(bus, now_ps, line + i, data + i, j - i);
		i = j;
	}
}

uint64_t sim_bus_ticket(struct sim_bus *bus, uint64_t now_ps)
{
	if (bus->ideal)
		return 0;
	send_open(bus, now_ps);
	return bus->stats.tlps;
}

bool sim_bus_landed(struct sim_bus *bus, uint64_t ticket, uint64_t now_ps)
{
	if (bus->ideal)
		return true;
	land_due(bus, now_ps);
	return bus->landed >= ticket;
}

bool sim_bus_drain(struct sim_bus *bus, uint64_t now_ps)
{
	if (bus->ideal)
		return true;
	land_due(bus, now_ps);
	return !bus->open && bus->count == 0;
}

void sim_bus_get_stats(const struct sim_bus *bus, struct fcap_sim_bus_stats *st)
{
	*st = bus->stats;
}

/*
 * Presets. Data rates after line encoding (128b/130b): 8 GT/s x 8 lanes =
 * 7.877 GB/s. Per TLP: 4-byte framing token, 16-byte header (64-bit address),
 * 4-byte LCRC = 24 bytes. 5% of link time left to DLLPs (ACKs, flow control
 * updates). 256-byte max payload, the common server setting. 500 ns from the
 * last byte to visibility in memory. 8 KiB of posted-write buffering in the
 * card's PCIe block.
 */
int fcap_sim_bus_preset(enum fcap_sim_bus_preset p, struct fcap_sim_bus_config *cfg)
{
	static const struct fcap_sim_bus_config base = {
		.max_payload = 256, .tlp_overhead = 24, .efficiency_ppm = 950000,
		.latency_ns = 500, .buffer = 8192,
	};
	*cfg = base;
	switch (p) {
	case FCAP_SIM_BUS_IDEAL:
		*cfg = (struct fcap_sim_bus_config){ .name = "ideal" };
		return 0;
	case FCAP_SIM_BUS_GEN3_X8:
		cfg->name = "gen3x8";
		cfg->bytes_per_s = 7876923077ull;
		return 0;
	case FCAP_SIM_BUS_GEN3_X16:
		cfg->name = "gen3x16";
		cfg->bytes_per_s = 15753846154ull;
		return 0;
	case FCAP_SIM_BUS_GEN4_X16:
		cfg->name = "gen4x16";
		cfg->bytes_per_s = 31507692308ull;
		return 0;
	}
	return -1;
}

int fcap_sim_bus_preset_named(const char *name, struct fcap_sim_bus_config *cfg)
{
	static const struct { const char *name; enum fcap_sim_bus_preset p; } presets[] = {
		{ "ideal", FCAP_SIM_BUS_IDEAL }, { "gen3x8", FCAP_SIM_BUS_GEN3_X8 },
		{ "gen3x16", FCAP_SIM_BUS_GEN3_X16 }, { "gen4x16", FCAP_SIM_BUS_GEN4_X16 },
	};
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(name, presets[i].name))
			return fcap_sim_bus_preset(presets[i].p, cfg);
	return -1;
}
