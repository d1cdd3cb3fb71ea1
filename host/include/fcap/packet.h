/*
 * fcap/packet.h - the header fields the scorer looks at, decoded with
 * bounds checks from an Ethernet, Linux cooked (SLL) or raw IP frame.
 *
 * Addresses are kept as 16 bytes (IPv4 in the first 4, rest zero) so that
 * IPv4, IPv6, ARP and MAC-only frames share one key layout. A frame cut
 * short by the snap length decodes as far as its bytes go.
 */
#ifndef FCAP_PACKET_H
#define FCAP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fcap_l4 {
	FCAP_L4_NONE = 0,   /* not IP, not ARP: MAC addresses stand for hosts */
	FCAP_L4_ARP,
	FCAP_L4_TCP,
	FCAP_L4_UDP,
	FCAP_L4_ICMP,       /* ICMP and ICMPv6 */
	FCAP_L4_OTHER_IP,   /* IP with another protocol */
};

#define FCAP_TCP_FIN 0x01
#define FCAP_TCP_SYN 0x02
#define FCAP_TCP_RST 0x04
#define FCAP_TCP_ACK 0x10

struct fcap_pkt_info {
	uint8_t src_mac[6], dst_mac[6];
	uint8_t ip_version;          /* 4, 6, or 0 (ARP and non-IP: see l4) */
	enum fcap_l4 l4;
	uint8_t ip_proto;            /* IP protocol number */
	uint8_t src_ip[16], dst_ip[16];  /* ARP: sender/target protocol address; non-IP: MACs */
	uint16_t sport, dport;       /* TCP/UDP, else 0 */
	uint8_t tcp_flags;
	uint32_t ip_len;             /* IP header + payload from the IP header (IPv6: 40 + payload length), else 0 */
};

/* Decodes what it can; never fails (unknown frames are FCAP_L4_NONE). */
void fcap_packet_decode(uint32_t linktype, const uint8_t *data, uint32_t caplen, struct fcap_pkt_info *pi);
/* Whether fcap_packet_decode() understands the link type (Ethernet, Linux
 * cooked, raw IP); other packets decode to nothing (no hosts, no ports). */
bool fcap_packet_linktype_decoded(uint32_t linktype);

/* "10.0.0.1:80>10.0.0.2:4242/tcp", "10.0.0.1>10.0.0.2/icmp", "00:11:..>ff:ff:../arp". */
void fcap_packet_flow_str(const struct fcap_pkt_info *pi, char *buf, size_t n);
/* The source (or destination) host as in the flow string: an IP address,
 * an ARP sender (target) address, or a MAC address. */
void fcap_packet_host_str(const struct fcap_pkt_info *pi, bool dst, char *buf, size_t n);

#endif
