/*
 * fcap/cardinfo.h - what a card says about itself.
 *
 * Identity registers plus the device tree blob from the card's ROM, parsed
 * with libfdt. One host build drives any configuration of the card because
 * it learns ports, clock and ring limits here rather than at compile time.
 */
#ifndef FCAP_CARDINFO_H
#define FCAP_CARDINFO_H

#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

#define FCAP_MAX_PORTS 16
#define FCAP_LABEL_MAX 32

struct fcap_dev;

struct fcap_port_info {
	char label[FCAP_LABEL_MAX];
	uint32_t speed_mbps;
	uint32_t mac_clock_hz;       /* the port's MAC clock; 0: not described */
	uint32_t fifo_bytes;         /* its MAC-to-core data FIFO; 0: not described */
};

struct fcap_card_info {
	uint32_t id;
	uint32_t version;
	char model[128];
	uint32_t format_version;
	uint64_t clock_hz;
	uint32_t datapath_width;
	uint32_t max_snaplen;
	uint32_t max_blocks;
	uint32_t min_block_size;
	uint32_t max_block_size;
	uint32_t block_align;
	uint32_t rings;
	uint32_t nports;
	struct fcap_port_info ports[FCAP_MAX_PORTS];
	/* Timestamp unit of the records: 10^-ts_resol s (9: ns, what cards
	 * write; 6: a libpcap source with microseconds only). 0 means 9. */
	uint8_t ts_resol;
	char description[96];   /* if_description of every port; "" for a card */
};

/* Parses a device tree blob of blob_len bytes (pure; no device needed). */
int fcap_card_parse_dt(const void *blob, size_t blob_len, struct fcap_card_info *ci, char *errbuf);
/* Checks identity and version registers, reads the blob, parses it. */
int fcap_card_read_info(struct fcap_dev *dev, struct fcap_card_info *ci, char *errbuf);

#endif
