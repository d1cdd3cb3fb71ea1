/*
 * fcap/ipfix.h - IPFIX export of flow records over UDP (RFC 7011; docs/IPFIX.md).
 *
 * Two templates, one for IPv4 and one for IPv6 flows, each with IANA
 * information elements only (no enterprise numbers): source and
 * destination address, ports, protocol, packetDeltaCount,
 * octetDeltaCount, flowStartNanoseconds, flowEndNanoseconds (and the
 * same in milliseconds, 152/153, which more collectors read),
 * flowEndReason and ingressInterface. Records are packed into messages
 * of at most mtu bytes; the templates go in the first message and again
 * every template_every messages and every template_interval_s seconds, as
 * UDP export requires (RFC 7011, 8.4). The header's sequence number counts
 * the data records sent before the message, per observation domain.
 *
 * A datagram the kernel refuses (collector not up: ICMP port unreachable)
 * is counted and never retried. The socket blocks only while its own send
 * buffer is full (it drains at link speed), never on the collector.
 */
#ifndef FCAP_IPFIX_H
#define FCAP_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/flowmeter.h"

#define FCAP_IPFIX_TEMPLATE_V4 256
#define FCAP_IPFIX_TEMPLATE_V6 257
#define FCAP_IPFIX_DEFAULT_MTU 1400
#define FCAP_IPFIX_MAX_MTU 65000

struct fcap_ipfix_config {
	const char *collector;        /* "HOST:PORT", "[V6ADDR]:PORT" */
	uint32_t domain;              /* observation domain id */
	unsigned template_every;      /* messages; 0 = 20 */
	unsigned template_interval_s; /* seconds; 0 = 60 */
	size_t mtu;                   /* bytes per message; 0 = FCAP_IPFIX_DEFAULT_MTU */
};

struct fcap_ipfix_stats {
	uint64_t messages, records, templates;
	uint64_t send_errors;         /* messages the kernel refused */
	uint64_t bytes;
};

struct fcap_ipfix;

struct fcap_ipfix *fcap_ipfix_open(const struct fcap_ipfix_config *cfg, char *errbuf);
/* Adds one record; sends the message when the next would not fit. */
void fcap_ipfix_add(struct fcap_ipfix *x, const struct fcap_flow *f);
/* Sends what is buffered. */
void fcap_ipfix_flush(struct fcap_ipfix *x);
void fcap_ipfix_stats(const struct fcap_ipfix *x, struct fcap_ipfix_stats *st);
/* Flushes and closes. */
void fcap_ipfix_close(struct fcap_ipfix *x);

/* The flow sink that exports: ctx is a struct fcap_ipfix. */
void fcap_ipfix_sink(void *ctx, const struct fcap_flow *f);

#endif
