/*
 * ipfix.c - IPFIX messages over UDP (fcap/ipfix.h, RFC 7011).
 *
 * A message is built in place: header, then the template set when one is
 * due, then data sets. A data set holds records of one template; a record
 * of the other IP version closes it and opens another. All integers are
 * in network byte order.
 */
#include "fcap/ipfix.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IPFIX_VERSION 10
#define HEADER_LEN 16
#define SET_HEADER_LEN 4
#define TEMPLATE_SET_ID 2

/* IANA information elements (RFC 7012 / the IANA IPFIX registry). */
enum {
	IE_OCTET_DELTA_COUNT = 1,
	IE_PACKET_DELTA_COUNT = 2,
	IE_PROTOCOL_IDENTIFIER = 4,
	IE_SOURCE_TRANSPORT_PORT = 7,
	IE_SOURCE_IPV4_ADDRESS = 8,
	IE_INGRESS_INTERFACE = 10,
	IE_DESTINATION_TRANSPORT_PORT = 11,
	IE_DESTINATION_IPV4_ADDRESS = 12,
	IE_SOURCE_IPV6_ADDRESS = 27,
	IE_DESTINATION_IPV6_ADDRESS = 28,
	IE_FLOW_END_REASON = 136,
	IE_FLOW_START_MILLISECONDS = 152,
	IE_FLOW_END_MILLISECONDS = 153,
	IE_FLOW_START_NANOSECONDS = 156,
	IE_FLOW_END_NANOSECONDS = 157,
};

struct field {
	uint16_t ie, len;
};

/* One table per template; a record is written in this order. The address
 * length (4 or 16) is what differs. The times go twice: in nanoseconds,
 * and in milliseconds (dateTimeMilliseconds, Unix epoch) for collectors
 * that read no finer, such as nfcapd 1.7 (Debian 12), which ignores 156/157. */
#define FIELDS(SRC, DST, ALEN)                                                                           \
	{ { SRC, ALEN }, { DST, ALEN }, { IE_SOURCE_TRANSPORT_PORT, 2 }, { IE_DESTINATION_TRANSPORT_PORT, 2 }, \
	  { IE_PROTOCOL_IDENTIFIER, 1 }, { IE_PACKET_DELTA_COUNT, 8 }, { IE_OCTET_DELTA_COUNT, 8 },            \
	  { IE_FLOW_START_NANOSECONDS, 8 }, { IE_FLOW_END_NANOSECONDS, 8 }, { IE_FLOW_START_MILLISECONDS, 8 },   \
	  { IE_FLOW_END_MILLISECONDS, 8 }, { IE_FLOW_END_REASON, 1 }, { IE_INGRESS_INTERFACE, 4 } }
#define NFIELDS 13

static const struct field fields_v4[NFIELDS] = FIELDS(IE_SOURCE_IPV4_ADDRESS, IE_DESTINATION_IPV4_ADDRESS, 4);
static const struct field fields_v6[NFIELDS] = FIELDS(IE_SOURCE_IPV6_ADDRESS, IE_DESTINATION_IPV6_ADDRESS, 16);

#define RECORD_V4 (4 + 4 + 2 + 2 + 1 + 8 + 8 + 8 + 8 + 8 + 8 + 1 + 4)
#define RECORD_V6 (RECORD_V4 + 24)
#define TEMPLATE_SET_LEN (SET_HEADER_LEN + 2 * (4 + NFIELDS * 4))

/* Seconds from the NTP era (1900) to the Unix epoch. */
#define NTP_UNIX_OFFSET 2208988800ull

struct fcap_ipfix {
	int fd;
	uint32_t domain;
	unsigned template_every, template_interval_s;
	size_t mtu;
	uint8_t *msg;
	size_t len;              /* bytes of msg in use; 0 = no message open */
	size_t set_off;          /* offset of the open data set's header, 0 = none */
	uint16_t set_id;
	uint32_t msg_records;
	uint32_t sequence;       /* data records sent before the open message */
	uint64_t msgs_since_template;
	time_t last_template;
	struct fcap_ipfix_stats st;
};

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, (uint16_t)(v >> 16));
	return put16(p, (uint16_t)v);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

/* dateTimeNanoseconds: the NTP timestamp format (RFC 7011, 6.1.10):
 * seconds since 1900, then the fraction of a second in units of 2^-32. */
static uint64_t ntp_time(uint64_t unix_ns)
{
	uint64_t sec = unix_ns / 1000000000ull + NTP_UNIX_OFFSET;
	uint64_t frac = ((unix_ns % 1000000000ull) << 32) / 1000000000ull;
	return sec << 32 | frac;
}

static int split_host_port(const char *s, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hn || strlen(colon + 1) == 0 || strlen(colon + 1) >= pn)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	return 0;
}

struct fcap_ipfix *fcap_ipfix_open(const struct fcap_ipfix_config *cfg, char *errbuf)
{
	char host[256], port[32];
	if (!cfg->collector || split_host_port(cfg->collector, host, sizeof(host), port, sizeof(port)) < 0) {
		fcap_err(errbuf, "IPFIX collector '%s': want HOST:PORT or [IPV6]:PORT",
			 cfg->collector ? cfg->collector : "");
		return NULL;
	}
	size_t mtu = cfg->mtu ? cfg->mtu : FCAP_IPFIX_DEFAULT_MTU;
	if (mtu < HEADER_LEN + TEMPLATE_SET_LEN + SET_HEADER_LEN + RECORD_V6 || mtu > FCAP_IPFIX_MAX_MTU) {
		fcap_err(errbuf, "IPFIX message size %zu: want %d to %d bytes", mtu,
			 HEADER_LEN + TEMPLATE_SET_LEN + SET_HEADER_LEN + RECORD_V6, FCAP_IPFIX_MAX_MTU);
		return NULL;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		fcap_err(errbuf, "IPFIX collector '%s': %s", cfg->collector, gai_strerror(gai));
		return NULL;
	}
	int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fcap_err(errbuf, "IPFIX collector '%s': %s", cfg->collector, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return NULL;
	}
	freeaddrinfo(res);
	struct fcap_ipfix *x = calloc(1, sizeof(*x));
	uint8_t *msg = malloc(mtu);
	if (!x || !msg) {
		free(x);
		free(msg);
		close(fd);
		fcap_err(errbuf, "IPFIX: out of memory");
		return NULL;
	}
	x->fd = fd;
	x->msg = msg;
	x->mtu = mtu;
	x->domain = cfg->domain;
	x->template_every = cfg->template_every ? cfg->template_every : 20;
	x->template_interval_s = cfg->template_interval_s ? cfg->template_interval_s : 60;
	x->msgs_since_template = x->template_every;   /* the first message carries them */
	return x;
}

static void put_template(uint8_t *p, uint16_t id, const struct field *f)
{
	p = put16(p, id);
	p = put16(p, NFIELDS);
	for (int i = 0; i < NFIELDS; i++) {
		p = put16(p, f[i].ie);
		p = put16(p, f[i].len);
	}
}

static void close_set(struct fcap_ipfix *x)
{
	if (x->set_off)
		put16(x->msg + x->set_off + 2, (uint16_t)(x->len - x->set_off));
	x->set_off = 0;
}

static void send_message(struct fcap_ipfix *x)
{
	if (!x->len)
		return;
	close_set(x);
	uint8_t *p = x->msg;
	p = put16(p, IPFIX_VERSION);
	p = put16(p, (uint16_t)x->len);
	p = put32(p, (uint32_t)time(NULL));
	p = put32(p, x->sequence);
	put32(p, x->domain);
	if (send(x->fd, x->msg, x->len, 0) != (ssize_t)x->len)
		x->st.send_errors++;
	x->st.messages++;
	x->st.bytes += x->len;
	x->st.records += x->msg_records;
	x->sequence += x->msg_records;   /* modulo 2^32, as RFC 7011 counts */
	x->msgs_since_template++;
	x->len = 0;
	x->msg_records = 0;
}

static void open_message(struct fcap_ipfix *x)
{
	x->len = HEADER_LEN;
	time_t now = time(NULL);
	if (x->msgs_since_template >= x->template_every || now - x->last_template >= (time_t)x->template_interval_s) {
		uint8_t *p = x->msg + x->len;
		put16(p, TEMPLATE_SET_ID);
		put16(p + 2, TEMPLATE_SET_LEN);
		put_template(p + 4, FCAP_IPFIX_TEMPLATE_V4, fields_v4);
		put_template(p + 4 + 4 + NFIELDS * 4, FCAP_IPFIX_TEMPLATE_V6, fields_v6);
		x->len += TEMPLATE_SET_LEN;
		x->msgs_since_template = 0;
		x->last_template = now;
		x->st.templates++;
	}
}

void fcap_ipfix_add(struct fcap_ipfix *x, const struct fcap_flow *f)
{
	bool v6 = f->ip_version == 6;
	uint16_t set_id = v6 ? FCAP_IPFIX_TEMPLATE_V6 : FCAP_IPFIX_TEMPLATE_V4;
	size_t rec = v6 ? RECORD_V6 : RECORD_V4;
	size_t need = rec + (x->set_off && x->set_id == set_id ? 0 : SET_HEADER_LEN);
	if (x->len && x->len + need > x->mtu)
		send_message(x);
	if (!x->len)
		open_message(x);
	if (!x->set_off || x->set_id != set_id) {
		close_set(x);
		x->set_off = x->len;
		x->set_id = set_id;
		put16(x->msg + x->len, set_id);
		x->len += SET_HEADER_LEN;
	}
	uint8_t *p = x->msg + x->len;
	size_t alen = v6 ? 16 : 4;
	memcpy(p, f->src, alen);
	memcpy(p + alen, f->dst, alen);
	p += 2 * alen;
	p = put16(p, f->sport);
	p = put16(p, f->dport);
	*p++ = f->proto;
	p = put64(p, f->packets);
	p = put64(p, f->octets);
	p = put64(p, ntp_time(f->start_ns));
	p = put64(p, ntp_time(f->end_ns));
	p = put64(p, f->start_ns / 1000000);
	p = put64(p, f->end_ns / 1000000);
	*p++ = f->end_reason;
	put32(p, f->ingress);
	x->len += rec;
	x->msg_records++;
}

void fcap_ipfix_flush(struct fcap_ipfix *x)
{
	send_message(x);
}

void fcap_ipfix_stats(const struct fcap_ipfix *x, struct fcap_ipfix_stats *st)
{
	*st = x->st;
}

void fcap_ipfix_close(struct fcap_ipfix *x)
{
	if (!x)
		return;
	fcap_ipfix_flush(x);
	close(x->fd);
	free(x->msg);
	free(x);
}

void fcap_ipfix_sink(void *ctx, const struct fcap_flow *f)
{
	fcap_ipfix_add(ctx, f);
}
