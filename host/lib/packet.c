/*
 * packet.c - header decoding for the scorer (fcap/packet.h).
 *
 * Every field is read only after checking that the frame holds it.
 */
#include "fcap/packet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fcap/pcap_reader.h"

#define ETH_IPV4 0x0800
#define ETH_ARP  0x0806
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_IPV6 0x86dd

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void decode_l4(const uint8_t *p, size_t n, struct fcap_pkt_info *pi)
{
	switch (pi->ip_proto) {
	case 6:
		pi->l4 = FCAP_L4_TCP;
		if (n >= 14) {
			pi->sport = be16(p);
			pi->dport = be16(p + 2);
			pi->tcp_flags = p[13];
		}
		break;
	case 17:
		pi->l4 = FCAP_L4_UDP;
		if (n >= 4) {
			pi->sport = be16(p);
			pi->dport = be16(p + 2);
		}
		break;
	case 1:
	case 58:
		pi->l4 = FCAP_L4_ICMP;
		break;
	default:
		pi->l4 = FCAP_L4_OTHER_IP;
	}
}

static void decode_ipv4(const uint8_t *p, size_t n, struct fcap_pkt_info *pi)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	pi->ip_version = 4;
	pi->ip_len = be16(p + 2);
	pi->ip_proto = p[9];
	memcpy(pi->src_ip, p + 12, 4);
	memcpy(pi->dst_ip, p + 16, 4);
	bool first_fragment = (be16(p + 6) & 0x1fff) == 0;
	if (ihl >= 20 && ihl <= n && first_fragment)
		decode_l4(p + ihl, n - ihl, pi);
	else
		decode_l4(p + n, 0, pi);
}

static void decode_ipv6(const uint8_t *p, size_t n, struct fcap_pkt_info *pi)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return;
	pi->ip_version = 6;
	pi->ip_len = 40u + be16(p + 4);
	pi->ip_proto = p[6];
	memcpy(pi->src_ip, p + 8, 16);
	memcpy(pi->dst_ip, p + 24, 16);
	decode_l4(p + 40, n - 40, pi);  /* extension headers are not followed */
}

static void decode_arp(const uint8_t *p, size_t n, struct fcap_pkt_info *pi)
{
	pi->l4 = FCAP_L4_ARP;
	/* Ethernet/IPv4 ARP: sender protocol address at 14, target at 24. */
	if (n >= 28 && p[4] == 6 && p[5] == 4) {
		memcpy(pi->src_ip, p + 14, 4);
		memcpy(pi->dst_ip, p + 24, 4);
	}
}

static void decode_ethertype(uint16_t type, const uint8_t *p, size_t n, struct fcap_pkt_info *pi)
{
	if (type == ETH_IPV4)
		decode_ipv4(p, n, pi);
	else if (type == ETH_IPV6)
		decode_ipv6(p, n, pi);
	else if (type == ETH_ARP)
		decode_arp(p, n, pi);
}

bool fcap_packet_linktype_decoded(uint32_t linktype)
{
	return linktype == FCAP_LINKTYPE_ETHERNET || linktype == FCAP_LINKTYPE_LINUX_SLL ||
	       linktype == FCAP_LINKTYPE_RAW || linktype == 228 || linktype == 229;
}

void fcap_packet_decode(uint32_t linktype, const uint8_t *d, uint32_t caplen, struct fcap_pkt_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	size_t n = caplen;
	if (linktype == FCAP_LINKTYPE_ETHERNET) {
		if (n < 14)
			return;
		memcpy(pi->dst_mac, d, 6);
		memcpy(pi->src_mac, d + 6, 6);
		size_t off = 12;
		uint16_t type = be16(d + off);
		while ((type == ETH_VLAN || type == ETH_QINQ) && off + 6 <= n) {
			off += 4;
			type = be16(d + off);
		}
		off += 2;
		if (off <= n)
			decode_ethertype(type, d + off, n - off, pi);
	} else if (linktype == FCAP_LINKTYPE_LINUX_SLL) {
		if (n < 16)
			return;
		if (be16(d + 4) == 6)
			memcpy(pi->src_mac, d + 6, 6);
		decode_ethertype(be16(d + 14), d + 16, n - 16, pi);
	} else if (fcap_packet_linktype_decoded(linktype)) {   /* raw IPv4/IPv6 */
		if (n >= 1 && (d[0] >> 4) == 4)
			decode_ipv4(d, n, pi);
		else if (n >= 1 && (d[0] >> 4) == 6)
			decode_ipv6(d, n, pi);
	}
	if (pi->ip_version == 0 && pi->l4 != FCAP_L4_ARP) {
		/* Not IP: the MAC addresses stand for the hosts. */
		pi->l4 = FCAP_L4_NONE;
		memcpy(pi->src_ip, pi->src_mac, 6);
		memcpy(pi->dst_ip, pi->dst_mac, 6);
	}
}

static void addr_str(const struct fcap_pkt_info *pi, const uint8_t *a, char *buf, size_t n)
{
	if (pi->ip_version == 6)
		inet_ntop(AF_INET6, a, buf, (socklen_t)n);
	else if (pi->ip_version == 4 || pi->l4 == FCAP_L4_ARP)
		inet_ntop(AF_INET, a, buf, (socklen_t)n);
	else
		snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
}

void fcap_packet_flow_str(const struct fcap_pkt_info *pi, char *buf, size_t n)
{
	static const char *const names[] = { "eth", "arp", "tcp", "udp", "icmp", "ip" };
	char s[64], d[64];
	addr_str(pi, pi->src_ip, s, sizeof(s));
	addr_str(pi, pi->dst_ip, d, sizeof(d));
	const char *l4 = names[pi->l4];
	if (pi->l4 == FCAP_L4_TCP || pi->l4 == FCAP_L4_UDP) {
		if (pi->ip_version == 6)
			snprintf(buf, n, "[%s]:%u>[%s]:%u/%s", s, pi->sport, d, pi->dport, l4);
		else
			snprintf(buf, n, "%s:%u>%s:%u/%s", s, pi->sport, d, pi->dport, l4);
	} else if (pi->l4 == FCAP_L4_OTHER_IP) {
		snprintf(buf, n, "%s>%s/ip%u", s, d, pi->ip_proto);
	} else {
		snprintf(buf, n, "%s>%s/%s", s, d, l4);
	}
}

void fcap_packet_host_str(const struct fcap_pkt_info *pi, bool dst, char *buf, size_t n)
{
	addr_str(pi, dst ? pi->dst_ip : pi->src_ip, buf, n);
}
