/*
 * dev_sim.c - the "sim" backend: the Verilated card in this process.
 *
 * Register accesses and waiting both advance simulated time; nothing moves
 * between calls. Ring memory is host memory mapped into the simulator at
 * made-up bus addresses (from 4 GiB up, so that a card that truncates
 * addresses to 32 bits faults instead of silently working).
 */
#include <stdlib.h>
#include <string.h>

#include "fcap/dev.h"
#include "fcap_sim.h"
#include "hugemem.h"

#define SIM_BUS_BASE 0x100000000ull
#define SIM_BUS_ALIGN (2ull << 20)

struct sim_dev {
	struct fcap_dev dev;
	struct fcap_sim *sim;
	uint64_t next_bus;
	uint64_t start_ps;
};

static struct sim_dev *to_sim(struct fcap_dev *dev)
{
	return (struct sim_dev *)dev->priv;
}

static uint32_t sim_reg_read(struct fcap_dev *dev, uint32_t off)
{
	return fcap_sim_reg_read(to_sim(dev)->sim, off);
}

static int sim_reg_write(struct fcap_dev *dev, uint32_t off, uint32_t val)
{
	return fcap_sim_reg_write(to_sim(dev)->sim, off, val);
}

static int sim_dma_alloc(struct fcap_dev *dev, size_t len, struct fcap_dma_buf *buf, char *errbuf)
{
	struct sim_dev *sd = to_sim(dev);
	size_t mapped;
	bool huge;
	void *va = fcap_huge_alloc(len, &mapped, &huge, errbuf);
	if (!va)
		return -1;
	uint64_t bus = sd->next_bus;
	if (fcap_sim_dma_map(sd->sim, bus, va, mapped, errbuf, FCAP_ERRBUF_SIZE) < 0) {
		fcap_huge_free(va, mapped);
		return -1;
	}
	sd->next_bus += (mapped + SIM_BUS_ALIGN - 1) & ~(SIM_BUS_ALIGN - 1);
	*buf = (struct fcap_dma_buf){ .va = va, .bus = bus, .len = mapped, .huge = huge };
	return 0;
}

static void sim_dma_free(struct fcap_dev *dev, struct fcap_dma_buf *buf)
{
	(void)dev;
	/* The mapping stays in the simulator's table (its address range is
	 * never reused); the card was pointed away from it before this call. */
	fcap_huge_free(buf->va, buf->len);
	memset(buf, 0, sizeof(*buf));
}

static int sim_wait(struct fcap_dev *dev, uint64_t timeout_ns, char *errbuf)
{
	(void)errbuf;
	struct fcap_sim *sim = to_sim(dev)->sim;
	uint64_t period = fcap_sim_clock_period_ps(sim);
	uint64_t cycles = timeout_ns * 1000u / period;
	fcap_sim_run_until(sim, cycles ? cycles : 1, FCAP_SIM_STOP_IRQ | FCAP_SIM_STOP_IDLE);
	return 0;
}

static void sim_pause(struct fcap_dev *dev, uint64_t ns)
{
	struct fcap_sim *sim = to_sim(dev)->sim;
	uint64_t cycles = ns * 1000u / fcap_sim_clock_period_ps(sim);
	fcap_sim_run_until(sim, cycles ? cycles : 1, FCAP_SIM_STOP_IDLE);
}

/* The replay starts once the enable bit has crossed into every MAC clock
 * domain (two synchroniser flops there): a frame that began earlier would
 * rightly be ignored by the card, as on a live link before capture starts,
 * and a replay must deliver every frame of its file. */
#define ENABLE_CROSSING_CYCLES 16

static void sim_start_source(struct fcap_dev *dev)
{
	struct fcap_sim *sim = to_sim(dev)->sim;
	fcap_sim_run(sim, ENABLE_CROSSING_CYCLES);
	fcap_sim_mac_hold(sim, false);
}

static bool sim_source_done(struct fcap_dev *dev)
{
	struct fcap_sim *sim = to_sim(dev)->sim;
	return fcap_sim_mac_done(sim) && fcap_sim_card_idle(sim);
}

static const char *sim_source_error(struct fcap_dev *dev)
{
	return fcap_sim_mac_error(to_sim(dev)->sim);
}

static uint64_t sim_elapsed_ns(struct fcap_dev *dev)
{
	struct sim_dev *sd = to_sim(dev);
	return (fcap_sim_time_ps(sd->sim) - sd->start_ps) / 1000u;
}

static void sim_close(struct fcap_dev *dev)
{
	struct sim_dev *sd = to_sim(dev);
	fcap_sim_destroy(sd->sim);
	free(sd);
}

static const struct fcap_dev_ops sim_ops = {
	.name = "sim",
	.reg_read = sim_reg_read,
	.reg_write = sim_reg_write,
	.dma_alloc = sim_dma_alloc,
	.dma_free = sim_dma_free,
	.wait = sim_wait,
	.pause = sim_pause,
	.start_source = sim_start_source,
	.source_done = sim_source_done,
	.source_error = sim_source_error,
	.elapsed_ns = sim_elapsed_ns,
	.close = sim_close,
};

struct fcap_dev *fcap_dev_open_sim(const struct fcap_sim_dev_config *cfg, char *errbuf)
{
	struct sim_dev *sd = calloc(1, sizeof(*sd));
	if (!sd) {
		fcap_err(errbuf, "sim: out of memory");
		return NULL;
	}
	sd->dev.ops = &sim_ops;
	sd->dev.priv = sd;
	sd->next_bus = SIM_BUS_BASE;
	struct fcap_sim_config sc = { .card = cfg ? cfg->card : NULL };
	sd->sim = fcap_sim_create(&sc, errbuf, FCAP_ERRBUF_SIZE);
	if (!sd->sim) {
		free(sd);
		return NULL;
	}
	/* Ports run at their own speed (10 or 100 Gb/s) unless told otherwise. */
	for (unsigned p = 0; cfg && cfg->line_rate_bps && p < fcap_sim_ports(sd->sim); p++)
		fcap_sim_mac_set_rate(sd->sim, p, cfg->line_rate_bps);
	fcap_sim_mac_hold(sd->sim, true); /* until capture starts */
	struct fcap_sim_bus_config bus;
	const char *preset = cfg && cfg->bus ? cfg->bus : fcap_sim_card_bus(sd->sim);
	if (fcap_sim_bus_preset_named(preset, &bus) < 0) {
		fcap_err(errbuf, "sim: unknown PCIe link '%s' (ideal, gen3x8, gen3x16, gen4x16)", preset);
		sim_close(&sd->dev);
		return NULL;
	}
	fcap_sim_set_bus(sd->sim, &bus);
	for (unsigned i = 0; cfg && i < cfg->nreplay; i++) {
		const struct fcap_replay *r = &cfg->replay[i];
		if (fcap_sim_mac_add_file(sd->sim, r->port, r->path, errbuf, FCAP_ERRBUF_SIZE) < 0) {
			sim_close(&sd->dev);
			return NULL;
		}
	}
	sd->start_ps = fcap_sim_time_ps(sd->sim);
	return &sd->dev;
}

struct fcap_sim *fcap_dev_sim(struct fcap_dev *dev)
{
	return dev && dev->ops == &sim_ops ? to_sim(dev)->sim : NULL;
}
