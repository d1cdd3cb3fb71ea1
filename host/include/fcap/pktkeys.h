/*
 * fcap/pktkeys.h - the index keys of a frame: hosts, ports, protocol, flow.
 *
 * One decoder serves both the index (which keys a record is filed under)
 * and extraction (the exact check of a candidate record), so the two always
 * agree. It reads fields at the offsets libpcap's filter code reads them
 * (IPv4 by ethertype 0x0800 without a version check, ports after 4 x IHL
 * bytes and only in unfragmented or first fragments, IPv6 ports right
 * after the fixed header, ARP/RARP sender and target addresses), field by
 * field as far as the captured bytes go, and it also looks through VLAN
 * tags. So every frame that tcpdump's `host A`, `port P` match carries
 * the key for A or P: the index can narrow such a filter without ever
 * losing a match. Key layout and hash: docs/STORE.md.
 */
#ifndef FCAP_PKTKEYS_H
#define FCAP_PKTKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fcap_key_type {
	FCAP_KEY_HOST4 = 1,   /* IPv4 address (exact) */
	FCAP_KEY_HOST6 = 2,   /* IPv6 address (56-bit hash) */
	FCAP_KEY_PORT = 3,    /* IP protocol << 16 | port (TCP, UDP, SCTP) */
	FCAP_KEY_PROTO = 4,   /* IP protocol number */
	FCAP_KEY_FLOW = 5,    /* 56-bit hash of the canonical 5-tuple, both directions */
};

#define FCAP_KEY_VALUE_MASK 0x00FFFFFFFFFFFFFFull
#define FCAP_KEY(type, v) ((uint64_t)(type) << 56 | ((uint64_t)(v) & FCAP_KEY_VALUE_MASK))
#define FCAP_KEYS_MAX 6

struct fcap_pkt_keys {
	uint64_t key[FCAP_KEYS_MAX];
	unsigned nkeys;
	/* Decoded fields, for exact checks. family 4 or 6 (ARP/RARP: 4). */
	uint8_t family;
	bool has_src, has_dst, has_proto, has_sport, has_dport;
	bool arp;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Decodes an Ethernet frame's keys; never fails (a frame without IP or ARP
 * has no keys). */
void fcap_pkt_keys(const uint8_t *frame, uint32_t caplen, struct fcap_pkt_keys *k);

/* The key of one host address (family 4: 4 bytes, 6: 16 bytes). */
uint64_t fcap_key_host(uint8_t family, const uint8_t *addr);
/* The key of a flow, the same for both directions. Ports 0 for protocols
 * without ports. */
uint64_t fcap_key_flow(uint8_t family, uint8_t proto, const uint8_t *a, uint16_t aport, const uint8_t *b,
		       uint16_t bport);
/* The hash behind host6 and flow keys (docs/STORE.md): 64 bits of n bytes. */
uint64_t fcap_key_hash(const uint8_t *p, size_t n);

#endif
