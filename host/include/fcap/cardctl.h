/*
 * fcap/cardctl.h - starting, stopping and reading a card.
 */
#ifndef FCAP_CARDCTL_H
#define FCAP_CARDCTL_H

#include <stdint.h>

#include "fcap/dev.h"

struct fcap_card_info;
struct fcap_ring_config;

struct fcap_port_counters {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t drop_fifo;
	uint64_t drop_ring;
	uint64_t rx_errors;
	uint64_t truncated;
	/* Software devices (pcap) only; 0 on a card. */
	uint64_t drop_wire;     /* the interface dropped before the capture saw them */
	uint64_t filtered;      /* rejected by the capture filter: not in rx_frames */
};

struct fcap_card_counters {
	uint64_t records;
	uint64_t blocks;
	unsigned nports;
	struct fcap_port_counters port[16];
};

/* Programs the time increment for a core clock of clock_hz exactly
 * (whole ns plus a reduced fraction). */
int fcap_card_set_clock(struct fcap_dev *dev, uint64_t clock_hz, char *errbuf);
/* Adds delta_ns to the card's clock in one clock cycle (a step; the
 * fractional phase is kept). */
int fcap_card_adjust_time(struct fcap_dev *dev, int64_t delta_ns, char *errbuf);
/* Loads `ns` into the card's clock. */
int fcap_card_set_time(struct fcap_dev *dev, uint64_t ns, char *errbuf);
/* Latches and reads the card's clock (0 behind a driver). */
uint64_t fcap_card_time(struct fcap_dev *dev);
/* Snapshots all counters in one clock and reads them. */
int fcap_card_counters(struct fcap_dev *dev, unsigned nports, struct fcap_card_counters *c, char *errbuf);
int fcap_card_enable(struct fcap_dev *dev, char *errbuf);
/* RING_RESET: the card finishes every DMA write it has ordered, then forgets
 * its open block and zeroes PROD/CONS. Returns once it is done. */
int fcap_card_ring_reset(struct fcap_dev *dev, char *errbuf);
/*
 * Starts capture after the ring is set up: programs the clock for the
 * card's core clock, loads the time of day, clears the counters, enables.
 * Through the driver (pcie) one ioctl does all of it, plus the ring reset.
 */
int fcap_card_start(struct fcap_dev *dev, const struct fcap_card_info *ci, const struct fcap_ring_config *cfg,
		    char *errbuf);
/* Acknowledges the block interrupt before a last look and a wait (register
 * level only: behind the driver, poll() arms and acknowledges). */
void fcap_card_irq_ack(struct fcap_dev *dev);
/*
 * Stops accepting frames, waits until nothing is in flight, and closes the
 * open block so that every frame the card accepted reaches the ring.
 */
int fcap_card_stop(struct fcap_dev *dev, char *errbuf);

#endif
