/*
 * pktkeys.c - a frame's index keys (fcap/pktkeys.h).
 */
#include "fcap/pktkeys.h"

#include <string.h>

#define ETH_IPV4 0x0800
#define ETH_ARP  0x0806
#define ETH_RARP 0x8035
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_IPV6 0x86dd

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint64_t fcap_key_hash(const uint8_t *p, size_t n)
{
	/* Multiply-xorshift over little-endian 64-bit words, the tail
	 * zero-padded, the length folded in last. Part of the file format. */
	uint64_t h = 0x243F6A8885A308D3ull;
	while (n) {
		uint64_t w = 0;
		size_t k = n < 8 ? n : 8;
		for (size_t i = 0; i < k; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = (h ^ w) * 0x9E3779B97F4A7C15ull;
		h ^= h >> 32;
		p += k;
		n -= k;
	}
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return h;
}

uint64_t fcap_key_host(uint8_t family, const uint8_t *addr)
{
	if (family == 4)
		return FCAP_KEY(FCAP_KEY_HOST4, (uint64_t)addr[0] << 24 | addr[1] << 16 | addr[2] << 8 | addr[3]);
	return FCAP_KEY(FCAP_KEY_HOST6, fcap_key_hash(addr, 16));
}

uint64_t fcap_key_flow(uint8_t family, uint8_t proto, const uint8_t *a, uint16_t aport, const uint8_t *b,
		       uint16_t bport)
{
	size_t alen = family == 4 ? 4 : 16;
	int c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && aport > bport)) {
		const uint8_t *t = a;
		a = b;
		b = t;
		uint16_t tp = aport;
		aport = bport;
		bport = tp;
	}
	/* family, proto, ports, then the two addresses in canonical order */
	uint8_t buf[40];
	buf[0] = family;
	buf[1] = proto;
	buf[2] = (uint8_t)(aport >> 8);
	buf[3] = (uint8_t)aport;
	buf[4] = (uint8_t)(bport >> 8);
	buf[5] = (uint8_t)bport;
	buf[6] = buf[7] = 0;
	memcpy(buf + 8, a, alen);
	memcpy(buf + 8 + alen, b, alen);
	return FCAP_KEY(FCAP_KEY_FLOW, fcap_key_hash(buf, 8 + 2 * alen));
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

static void add_key(struct fcap_pkt_keys *k, uint64_t key)
{
	for (unsigned i = 0; i < k->nkeys; i++)
		if (k->key[i] == key)
			return;
	k->key[k->nkeys++] = key;
}

/* Ports at p[0..4) of a transport header with n bytes present. */
static void ports(const uint8_t *p, size_t n, struct fcap_pkt_keys *k)
{
	if (!has_ports(k->proto))
		return;
	if (n >= 2) {
		k->has_sport = true;
		k->sport = be16(p);
	}
	if (n >= 4) {
		k->has_dport = true;
		k->dport = be16(p + 2);
	}
}

static void ipv4(const uint8_t *p, size_t n, struct fcap_pkt_keys *k)
{
	k->family = 4;
	if (n >= 10) {
		k->has_proto = true;
		k->proto = p[9];
	}
	if (n >= 16) {
		k->has_src = true;
		memcpy(k->src, p + 12, 4);
	}
	if (n >= 20) {
		k->has_dst = true;
		memcpy(k->dst, p + 16, 4);
	}
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (k->has_proto && n >= 8 && (be16(p + 6) & 0x1fff) == 0 && ihl < n)
		ports(p + ihl, n - ihl, k);
}

static void ipv6(const uint8_t *p, size_t n, struct fcap_pkt_keys *k)
{
	k->family = 6;
	if (n >= 7) {
		k->has_proto = true;
		k->proto = p[6];
	}
	if (n >= 24) {
		k->has_src = true;
		memcpy(k->src, p + 8, 16);
	}
	if (n >= 40) {
		k->has_dst = true;
		memcpy(k->dst, p + 24, 16);
	}
	if (k->has_proto && n > 40)
		ports(p + 40, n - 40, k);
}

static void arp(const uint8_t *p, size_t n, struct fcap_pkt_keys *k)
{
	/* Sender and target protocol addresses where an Ethernet/IPv4 ARP
	 * has them; libpcap's `arp host` reads the same offsets. */
	k->family = 4;
	k->arp = true;
	if (n >= 18) {
		k->has_src = true;
		memcpy(k->src, p + 14, 4);
	}
	if (n >= 28) {
		k->has_dst = true;
		memcpy(k->dst, p + 24, 4);
	}
}

static void make_keys(struct fcap_pkt_keys *k)
{
	if (k->has_src)
		add_key(k, fcap_key_host(k->family, k->src));
	if (k->has_dst)
		add_key(k, fcap_key_host(k->family, k->dst));
	if (k->arp || !k->has_proto)
		return;
	add_key(k, FCAP_KEY(FCAP_KEY_PROTO, k->proto));
	if (k->has_sport)
		add_key(k, FCAP_KEY(FCAP_KEY_PORT, (uint32_t)k->proto << 16 | k->sport));
	if (k->has_dport)
		add_key(k, FCAP_KEY(FCAP_KEY_PORT, (uint32_t)k->proto << 16 | k->dport));
	if (k->has_src && k->has_dst) {
		bool p = has_ports(k->proto);
		if (!p || (k->has_sport && k->has_dport))
			add_key(k, fcap_key_flow(k->family, k->proto, k->src, p ? k->sport : 0, k->dst,
						 p ? k->dport : 0));
	}
}

void fcap_pkt_keys(const uint8_t *d, uint32_t caplen, struct fcap_pkt_keys *k)
{
	k->nkeys = 0;
	k->family = 0;
	k->has_src = k->has_dst = k->has_proto = k->has_sport = k->has_dport = k->arp = false;
	size_t n = caplen;
	if (n < 14)
		return;
	size_t off = 12;
	uint16_t type = be16(d + off);
	while ((type == ETH_VLAN || type == ETH_QINQ) && off + 6 <= n) {
		off += 4;
		type = be16(d + off);
	}
	off += 2;
	if (off >= n)
		return;
	if (type == ETH_IPV4)
		ipv4(d + off, n - off, k);
	else if (type == ETH_IPV6)
		ipv6(d + off, n - off, k);
	else if (type == ETH_ARP || type == ETH_RARP)
		arp(d + off, n - off, k);
	else
		return;
	make_keys(k);
}
