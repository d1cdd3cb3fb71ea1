/*
 * fcap_sim.h - the Verilated capture card as a C library.
 *
 * The simulator owns the card model, a MAC driver per port that feeds frames
 * at a line rate, and the host side of PCIe: register reads and writes (AXI4-
 * Lite), DMA writes into host memory that the caller maps, and the interrupt
 * line. Simulated time advances only inside fcap_sim_* calls.
 *
 * Clocks: the core clock (edge k at k * core period) and one MAC clock per
 * port, each with its own period and phase, unrelated to the core's. Edges
 * are processed in time order; edges at the same instant are simultaneous.
 *
 * Not thread-safe: one thread drives one simulator.
 */
#ifndef FCAP_SIM_H
#define FCAP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fcap_sim;

/* The simulated cards (hw/rtl/, docs/DATAPATH.md), by name:
 *   "4x10g"  four 10G ports: 64-bit MACs at 156.25 MHz (6400 ps), each in its
 *            own clock domain; 250 MHz core (4000 ps). The default.
 *   "1x100g" one 100G port: a 512-bit CMAC at 322.265625 MHz, simulated at
 *            3103 ps (edges fall on whole ps: 0.001% fast, which changes no
 *            frame's timing: the wire is paced in time, not in MAC clocks);
 *            312.5 MHz core (3200 ps). */
#define FCAP_SIM_CARDS "4x10g, 1x100g"
#define FCAP_SIM_MAX_PORTS 4u

struct fcap_sim_config {
	const char *card;                           /* NULL: "4x10g" */
	uint32_t clock_period_ps;                   /* core; 0: the card's */
	uint32_t mac_period_ps[FCAP_SIM_MAX_PORTS]; /* 0: the card's MAC clock */
	uint32_t mac_phase_ps[FCAP_SIM_MAX_PORTS];  /* first rising edge; used when the period is set */
};

/* fcap_sim_run_until() stop conditions */
#define FCAP_SIM_STOP_IRQ  0x1u /* the interrupt line is high */
#define FCAP_SIM_STOP_IDLE 0x2u /* MAC drivers done and the card idle */

/* Fails (err set) for an unknown card name. */
struct fcap_sim *fcap_sim_create(const struct fcap_sim_config *cfg, char *err, size_t errlen);
void fcap_sim_destroy(struct fcap_sim *sim);
/* The card's name ("4x10g", "1x100g") and its number of ports. */
const char *fcap_sim_card(const struct fcap_sim *sim);
unsigned fcap_sim_ports(const struct fcap_sim *sim);
/* The PCIe link the card is meant for, a preset name for
 * fcap_sim_bus_preset_named: "gen3x8" (4x10g), "gen4x16" (1x100g). A new
 * simulator's link is ideal until fcap_sim_set_bus. */
const char *fcap_sim_card_bus(const struct fcap_sim *sim);

/* Registers. A write returns 0, or -1 when the card answered with an error. */
uint32_t fcap_sim_reg_read(struct fcap_sim *sim, uint32_t addr);
int fcap_sim_reg_write(struct fcap_sim *sim, uint32_t addr, uint32_t value);
/* Simulated time (ps) of the clock edge at which the last write took effect. */
uint64_t fcap_sim_last_write_ps(const struct fcap_sim *sim);

/* With FCAP_SIM_CHECK_OUTPUTS=1 in the environment when the simulator is
 * created, every core edge first settles the model once more and compares
 * the outputs the simulator samples: the core edges at which one moved (an
 * output depending combinationally on an input, which the simulator's
 * sampling assumes never happens), and in *checked those examined. */
uint64_t fcap_sim_outputs_unsettled(const struct fcap_sim *sim, uint64_t *checked);

/* With on, every DMA beat the card issues from now on (its simulated time,
 * line address, byte strobes and strobed bytes) goes into a running 64-bit
 * FNV-1a hash, which fcap_sim_dma_hash returns (its offset basis before any
 * beat). Two runs that issue the same beats at the same times give the same
 * hash: with the card's time of day pinned (fcap_ring_config.start_time_ns),
 * a change that must not alter the card's behaviour is checked by it. */
void fcap_sim_hash_dma(struct fcap_sim *sim, bool on);
uint64_t fcap_sim_dma_hash(const struct fcap_sim *sim);

/* The card's PPS input: the level from now on. */
void fcap_sim_set_pps(struct fcap_sim *sim, bool level);

/* Time. Cycles are core clock cycles. */
void fcap_sim_run(struct fcap_sim *sim, uint64_t cycles);
/* Runs until a stop condition in `stop` holds or max_cycles pass; returns the cycles run. */
uint64_t fcap_sim_run_until(struct fcap_sim *sim, uint64_t max_cycles, unsigned stop);
uint64_t fcap_sim_cycles(const struct fcap_sim *sim);
uint64_t fcap_sim_time_ps(const struct fcap_sim *sim);
uint32_t fcap_sim_clock_period_ps(const struct fcap_sim *sim);
uint32_t fcap_sim_mac_period_ps(const struct fcap_sim *sim, unsigned port);
/* The interrupt as the host sees it: raised, and every DMA write issued
 * before it has landed in host memory (an MSI is ordered behind them). */
bool fcap_sim_irq(const struct fcap_sim *sim);
/* The card holds no frame anywhere between its MAC port and the ring. */
bool fcap_sim_card_idle(const struct fcap_sim *sim);

/* The PCIe link's write path (sim/sim_bus.h): TLPs of at most max_payload
 * bytes built from consecutive DMA bytes, sent back to back at bytes_per_s
 * (after line encoding) scaled by efficiency_ppm (time left by DLLPs), each
 * costing tlp_overhead bytes more, landing in host memory latency_ns after
 * their last byte left the card. The card is back-pressured while more than
 * `buffer` bytes wait to be sent. stall_pct adds random back-pressure (tests).
 * bytes_per_s = 0 models an ideal link: writes land at once, always ready. */
struct fcap_sim_bus_config {
	const char *name;
	uint64_t bytes_per_s;
	uint32_t max_payload;
	uint32_t tlp_overhead;
	uint32_t efficiency_ppm;
	uint32_t latency_ns;
	uint32_t buffer;
	uint32_t stall_pct;
	uint32_t seed;
};

enum fcap_sim_bus_preset {
	FCAP_SIM_BUS_IDEAL,
	FCAP_SIM_BUS_GEN3_X8,
	FCAP_SIM_BUS_GEN3_X16,
	FCAP_SIM_BUS_GEN4_X16,
};

/* Fills cfg with a preset; returns -1 for an unknown one. */
int fcap_sim_bus_preset(enum fcap_sim_bus_preset p, struct fcap_sim_bus_config *cfg);
/* By name ("ideal", "gen3x8", "gen3x16", "gen4x16"); -1 if unknown. */
int fcap_sim_bus_preset_named(const char *name, struct fcap_sim_bus_config *cfg);
void fcap_sim_set_bus(struct fcap_sim *sim, const struct fcap_sim_bus_config *cfg);

struct fcap_sim_bus_stats {
	uint64_t tlps;
	uint64_t payload_bytes;
	uint64_t wire_bytes;    /* payload plus TLP overhead */
	uint64_t busy_ps;       /* link time spent sending */
	uint64_t stall_cycles;  /* core clocks with the card back-pressured */
};
void fcap_sim_bus_stats(const struct fcap_sim *sim, struct fcap_sim_bus_stats *st);

/* Host memory: card DMA writes to [bus, bus+len) land at host[0..len). */
int fcap_sim_dma_map(struct fcap_sim *sim, uint64_t bus, void *host, size_t len,
		     char *err, size_t errlen);
struct fcap_sim_dma_stats {
	uint64_t writes;      /* 8-byte words written (with any strobe) */
	uint64_t bytes;       /* bytes written (strobes counted) */
	uint64_t faults;      /* writes to unmapped addresses (dropped) */
	uint64_t first_fault; /* bus address of the first fault */
};
void fcap_sim_dma_stats(const struct fcap_sim *sim, struct fcap_sim_dma_stats *st);

/* MAC drivers, one per port of the card. Each starts at the port's speed
 * (10 or 100 Gb/s). Frames go out back to back at the port's line rate: each
 * occupies 8 bytes of preamble and SFD, max(len, 60) bytes of frame, 4 bytes
 * of FCS and a 12-byte inter-frame gap on the wire. The card receives the
 * frame's bytes (without FCS) as they are in the source. */
int fcap_sim_mac_set_rate(struct fcap_sim *sim, unsigned port, uint64_t bits_per_s);
/* Queues a pcap or pcapng file (read with libpcap); opens it now so that a
 * missing or unreadable file is reported here. */
int fcap_sim_mac_add_file(struct fcap_sim *sim, unsigned port, const char *path,
			  char *err, size_t errlen);
/* Queues one frame (copied). fcs_error drives tuser: the MAC saw a bad FCS. */
int fcap_sim_mac_add_frame(struct fcap_sim *sim, unsigned port, const void *data,
			   size_t len, bool fcs_error);
/* Queues an idle gap: the wire stays quiet for ns more before the next
 * queued frame (on top of the normal inter-frame gap). */
int fcap_sim_mac_add_idle(struct fcap_sim *sim, unsigned port, uint64_t ns);
/* While held, the MACs send nothing (the wire is idle); queued frames wait. */
void fcap_sim_mac_hold(struct fcap_sim *sim, bool hold);
/* All queued frames have been presented to the card (or a replay error stopped them). */
bool fcap_sim_mac_done(const struct fcap_sim *sim);
/* The first replay error ("FILE: record at offset N: ..."), or NULL. */
const char *fcap_sim_mac_error(const struct fcap_sim *sim);

struct fcap_sim_frame_event {
	unsigned port;
	uint64_t seq;          /* frames sent on this port before this one */
	uint64_t arrival_ps;   /* first byte of the frame (after the SFD) on the wire */
	uint64_t first_beat_ps;/* MAC clock edge at which the card saw its first beat */
	uint32_t len;
	const uint8_t *data;   /* valid during the callback only */
};
typedef void (*fcap_sim_frame_cb)(void *ctx, const struct fcap_sim_frame_event *ev);
/* Called once per frame, when its first beat reaches the card. */
void fcap_sim_mac_on_frame(struct fcap_sim *sim, fcap_sim_frame_cb cb, void *ctx);

struct fcap_sim_mac_stats {
	uint64_t frames;     /* frames presented to the card */
	uint64_t bytes;      /* their bytes */
	uint64_t wire_bytes; /* wire occupancy including preamble, FCS and gap */
};
void fcap_sim_mac_stats(const struct fcap_sim *sim, unsigned port, struct fcap_sim_mac_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* FCAP_SIM_H */
