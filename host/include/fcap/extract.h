/*
 * fcap/extract.h - taking packets out of a store (docs/STORE.md).
 *
 * A query is a time range and any of: hosts, ports, a flow, a filter in
 * tcpdump syntax. The segments' indexes narrow the candidates (time by
 * ring block, keys by posting list, and the filter's simple `host` and
 * `port` terms when it is a plain conjunction); every candidate is then
 * checked exactly (its decoded fields, then libpcap's pcap_offline_filter
 * with the compiled filter). Matches from every segment of every ring are
 * written in timestamp order as pcapng or nanosecond pcap.
 */
#ifndef FCAP_EXTRACT_H
#define FCAP_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"
#include "fcap/store.h"

#define FCAP_QUERY_MAX_TERMS 8

struct fcap_host {
	uint8_t family;        /* 4 or 6 */
	uint8_t addr[16];
};

struct fcap_flow {
	uint8_t family;
	uint8_t proto;         /* IP protocol */
	uint8_t a[16], b[16];
	uint16_t aport, bport; /* 0 for protocols without ports */
};

/* One narrowing condition: a record matches when it carries any of the keys. */
struct fcap_key_term {
	uint64_t key[3];
	unsigned nkeys;
};

enum fcap_out_format { FCAP_OUT_PCAPNG, FCAP_OUT_PCAP_NS };

struct fcap_query {
	bool has_from, has_to;
	uint64_t from_ns, to_ns;   /* records with from <= ts < to */
	struct fcap_host hosts[FCAP_QUERY_MAX_TERMS];    /* all of them: source or destination */
	unsigned nhosts;
	uint16_t ports[FCAP_QUERY_MAX_TERMS];            /* all of them: TCP, UDP or SCTP, either end */
	unsigned nports;
	bool has_flow;
	struct fcap_flow flow;     /* either direction */
	const char *filter;        /* tcpdump syntax, or NULL */
	bool no_index;             /* read every block in the time range (checks the index) */
	enum fcap_out_format format;
};

struct fcap_extract_stats {
	uint64_t segments;         /* in the store */
	uint64_t segments_read;    /* overlapping the time range */
	uint64_t candidates;       /* records read and checked */
	uint64_t matched;
	uint64_t bytes;            /* written */
	unsigned filter_terms;     /* filter terms the index narrowed by */
	unsigned damaged;          /* unreadable blocks or records (reported) */
	unsigned rebuilt;          /* indexes rebuilt on the way */
	unsigned scanned;          /* segments read without an index */
};

/* "A:p>B:q/tcp", "[v6]:p>[v6]:q/udp", "A>B/icmp", "A>B/ipN". */
int fcap_flow_parse(const char *s, struct fcap_flow *f, char *errbuf);
int fcap_host_parse(const char *s, struct fcap_host *h, char *errbuf);

/*
 * The index terms a tcpdump filter implies: when the filter is a
 * conjunction (`and`/`&&` at the top level, no `or`), each conjunct of the
 * form `[ip|ip6|arp|rarp] [src|dst] [host] ADDR` or `[tcp|udp|sctp]
 * [src|dst] port N` with a numeric ADDR or N gives a term. Anything else
 * gives none (the filter still decides exactly). Returns how many.
 */
unsigned fcap_filter_terms(const char *filter, struct fcap_key_term *terms, unsigned max);

/* Checks that a filter compiles; errbuf says why not. */
int fcap_filter_check(const char *filter, char *errbuf);

/*
 * Runs q over the store in dir, writing to out. Damaged segments, blocks
 * or records are logged with their offsets and skipped; *stats says how
 * many (the caller decides what that means for its exit status). A
 * missing or corrupt index is rebuilt when the store is writable, else
 * its segment is read whole.
 */
int fcap_extract(const char *dir, const struct fcap_query *q, FILE *out, fcap_log_fn log, void *log_ctx,
		 struct fcap_extract_stats *stats, char *errbuf);

#endif
