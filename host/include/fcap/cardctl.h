/*
 * fcap/cardctl.h - starting, stopping and reading a card.
 */
#ifndef FCAP_CARDCTL_H
#define FCAP_CARDCTL_H

#include <stdint.h>

#include "fcap/dev.h"

struct fcap_port_counters {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t drop_fifo;
	uint64_t drop_ring;
	uint64_t rx_errors;
	uint64_t truncated;
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
/* Loads `ns` into the card's clock. */
int fcap_card_set_time(struct fcap_dev *dev, uint64_t ns, char *errbuf);
/* Latches and reads the card's clock. */
uint64_t fcap_card_time(struct fcap_dev *dev);
/* Snapshots all counters in one clock and reads them. */
int fcap_card_counters(struct fcap_dev *dev, unsigned nports, struct fcap_card_counters *c, char *errbuf);
int fcap_card_enable(struct fcap_dev *dev, char *errbuf);
/*
 * Stops accepting frames, waits until nothing is in flight, and closes the
 * open block so that every frame the card accepted reaches the ring.
 */
int fcap_card_stop(struct fcap_dev *dev, char *errbuf);

#endif
