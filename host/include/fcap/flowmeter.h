/*
 * fcap/flowmeter.h - unidirectional IP flow records for export (docs/IPFIX.md).
 *
 * Packets are counted per (ingress port, IP version, protocol, source and
 * destination address and port) in a bounded set-associative table (the
 * one the feature state uses, flowtab.h). A flow ends when it has been idle
 * for the idle timeout, when a new flow needs its way of a full set, or when
 * the capture ends; each ended flow is handed to a sink exactly once.
 * Non-IP frames (ARP, bare Ethernet) are counted, not metered.
 */
#ifndef FCAP_FLOWMETER_H
#define FCAP_FLOWMETER_H

#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/packet.h"

struct fcap_flow {
	uint8_t ip_version;       /* 4 or 6 */
	uint8_t proto;            /* IP protocol number */
	uint8_t end_reason;       /* IPFIX flowEndReason: 1 idle, 4 forced (end of capture), 5 lack of room */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;    /* TCP/UDP, else 0 */
	uint32_t ingress;         /* card port (pcapng interface id) */
	uint64_t packets;
	uint64_t octets;          /* IP header and payload, from the IP length fields */
	uint64_t start_ns, end_ns;
};

typedef void (*fcap_flow_sink)(void *ctx, const struct fcap_flow *f);

struct fcap_flowmeter_stats {
	uint64_t packets;         /* packets metered */
	uint64_t not_ip;          /* frames without an IP header, not metered */
	uint64_t flows;           /* flows ended */
	uint64_t ended[6];        /* by end reason */
	uint64_t memory_bytes;
};

#define FCAP_FLOWMETER_DEFAULT_ENTRIES (1u << 16)
#define FCAP_FLOWMETER_DEFAULT_IDLE_NS (15ull * 1000000000ull)

struct fcap_flowmeter;

/* entries and idle_ns: 0 for the defaults. */
struct fcap_flowmeter *fcap_flowmeter_new(uint32_t entries, uint64_t idle_ns, fcap_flow_sink sink, void *ctx,
					  char *errbuf);
/* One packet at ts_ns (times must not run backwards by more than the idle timeout). */
void fcap_flowmeter_packet(struct fcap_flowmeter *m, const struct fcap_pkt_info *pi, uint32_t ingress,
			   uint64_t ts_ns);
/* Ends every flow still open (reason 4, forced end). */
void fcap_flowmeter_finish(struct fcap_flowmeter *m);
void fcap_flowmeter_stats(const struct fcap_flowmeter *m, struct fcap_flowmeter_stats *st);
void fcap_flowmeter_free(struct fcap_flowmeter *m);

#endif
