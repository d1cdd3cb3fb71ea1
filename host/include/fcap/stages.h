/*
 * fcap/stages.h - where frames were lost, stage by stage.
 *
 * One set of figures for a capture, shown by `fcap stats`, written into the
 * capture file's statistics blocks (an opt_comment on the first ISB) and
 * exported as metrics. Every frame the source received is either captured
 * or lost at exactly one of card_fifo, ring_full, host, disk_backlog:
 *   received == captured + card_fifo + ring_full + host + disk_backlog.
 * wire and filter are outside that sum: frames the source never received
 * (MAC errors; an interface's own drops) and frames the capture filter
 * rejected on purpose.
 */
#ifndef FCAP_STAGES_H
#define FCAP_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

struct fcap_capture_stats;
struct fcap_card_counters;

struct fcap_stages {
	uint64_t received;      /* frames the card (or libpcap) received */
	uint64_t captured;      /* frames written */
	uint64_t bytes;         /* captured bytes written */
	uint64_t wire;          /* lost before the device: MAC errors, interface drops */
	uint64_t card_fifo;     /* card FIFO full (pcap: the kernel's capture buffer) */
	uint64_t ring_full;     /* no free ring block, host too slow (not disk) */
	uint64_t host;          /* blocks the host rejected as corrupt */
	uint64_t disk_backlog;  /* ring full because the disk was behind, or the disk refused */
	uint64_t filter;        /* rejected by the capture filter */
};

#define FCAP_STAGES_FIELDS 9

/* The stages of a capture from its statistics (card counters included). */
void fcap_stages_from_capture(const struct fcap_capture_stats *st, struct fcap_stages *sg);
/* The stages while capture runs: card counters now, host figures so far. */
void fcap_stages_live(const struct fcap_capture_stats *st, const struct fcap_card_counters *c,
		      struct fcap_stages *sg);
/* "fcap stages: received=1 captured=1 ..." (the ISB comment and the stats file). */
void fcap_stages_format(const struct fcap_stages *sg, char *out, size_t n);
/* Parses that line; 0, or -1 with errbuf (what is missing or malformed). */
int fcap_stages_parse(const char *line, struct fcap_stages *sg, char *errbuf);
/* Prometheus text exposition (version 0.0.4) of the stages; device labels
 * every sample. Returns the length written (< n), or -1 if n is too small. */
int fcap_stages_prometheus(const struct fcap_stages *sg, const char *device, char *out, size_t n);
/* The table `fcap stats` prints. */
void fcap_stages_print(const struct fcap_stages *sg, void *file);

#endif
