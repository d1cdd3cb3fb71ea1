/*
 * test_store.c - the disk store: checksums, software ring blocks, index
 * keys (against libpcap's filters on the bundled captures), filter
 * narrowing, names, the retention rule, the index file (round trip and
 * every kind of damage), the recorder (rotation by size and by time on a
 * quiet link, O_DIRECT and buffered), extraction with exact time edges,
 * and recovery of segments cut at many points.
 *
 * Traffic here is generated with known addresses, ports and timestamps, so
 * that every expected count comes from the generator, not from the code
 * under test; libpcap (pcap_open_offline) reads every file we write.
 *
 * usage: test_store DIR   (scratch directory; FCAP_DATA names the captures)
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcap/block.h"
#include "fcap/block_build.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/crc32c.h"
#include "fcap/extract.h"
#include "fcap/pcap_reader.h"
#include "fcap/pcapng.h"
#include "fcap/pktkeys.h"
#include "fcap/seg_index.h"
#include "fcap/seg_scan.h"
#include "fcap/store.h"

static const char *dir;

/* ---- helpers ------------------------------------------------------------ */

static void quiet_log(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

static void rm_rf(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "rm -rf %s failed\n", path);
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A generated packet: what the test knows about it. */
struct pkt {
	uint8_t family;        /* 4, 6; 0 = ARP */
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint64_t ts;
	uint32_t port;         /* card port */
	uint32_t len;
	uint8_t frame[256];
};

static void make_frame(struct pkt *p)
{
	uint8_t *f = p->frame;
	memset(f, 0, sizeof(p->frame));
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	size_t off = 14;
	if (p->family == 0) {
		put16be(f + 12, 0x0806);
		put16be(f + off, 1);
		put16be(f + off + 2, 0x0800);
		f[off + 4] = 6;
		f[off + 5] = 4;
		put16be(f + off + 6, 1);
		memcpy(f + off + 14, p->src, 4);
		memcpy(f + off + 24, p->dst, 4);
		p->len = 60;
		return;
	}
	size_t l4;
	if (p->family == 4) {
		put16be(f + 12, 0x0800);
		f[off] = 0x45;
		f[off + 8] = 64;
		f[off + 9] = p->proto;
		memcpy(f + off + 12, p->src, 4);
		memcpy(f + off + 16, p->dst, 4);
		l4 = off + 20;
	} else {
		put16be(f + 12, 0x86dd);
		f[off] = 0x60;
		f[off + 6] = p->proto;
		f[off + 7] = 64;
		memcpy(f + off + 8, p->src, 16);
		memcpy(f + off + 24, p->dst, 16);
		l4 = off + 40;
	}
	if (p->proto == 6 || p->proto == 17) {
		put16be(f + l4, p->sport);
		put16be(f + l4 + 2, p->dport);
	}
	p->len = (uint32_t)(l4 + 20 + (p->ts % 97));
	if (p->len < 60)
		p->len = 60;
}

/* n packets among 6 IPv4 and 2 IPv6 hosts, TCP/UDP/ICMP and ARP, on 2
 * card ports; timestamps rise by 1..3 ns with repeats, from t0. */
static struct pkt *gen_traffic(size_t n, uint64_t t0)
{
	struct pkt *v = calloc(n, sizeof(*v));
	uint64_t ts = t0;
	uint32_t seed = 12345;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8;
		struct pkt *p = &v[i];
		p->port = r & 1;
		if (i % 3)
			ts += 1 + (r >> 3) % 3;   /* every third packet shares the previous timestamp */
		p->ts = ts;
		unsigned kind = (r >> 5) % 10;
		if (kind == 0) {
			p->family = 0;
			p->src[0] = 10, p->src[3] = (uint8_t)(1 + (r >> 9) % 6);
			p->dst[0] = 10, p->dst[3] = (uint8_t)(1 + (r >> 12) % 6);
		} else if (kind == 1) {
			p->family = 6;
			p->proto = 17;
			p->src[0] = 0x20, p->src[1] = 0x01, p->src[15] = (uint8_t)(1 + (r >> 9) % 2);
			p->dst[0] = 0x20, p->dst[1] = 0x01, p->dst[15] = (uint8_t)(3 - p->src[15]);
			p->sport = 53;
			p->dport = (uint16_t)(5000 + (r >> 11) % 4);
		} else {
			p->family = 4;
			p->proto = kind == 2 ? 1 : kind < 6 ? 17 : 6;
			p->src[0] = 10, p->src[3] = (uint8_t)(1 + (r >> 9) % 6);
			p->dst[0] = 10, p->dst[3] = (uint8_t)(1 + (r >> 12) % 6);
			if (p->proto != 1) {
				p->sport = (uint16_t)(1024 + (r >> 15) % 8);
				p->dport = (uint16_t)((r >> 18) % 2 ? 80 : 443);
			}
		}
		make_frame(p);
	}
	return v;
}

/* Packs packets into ring blocks of size bytes. Returns the number of
 * blocks; blocks[i] are page-aligned allocations. */
static size_t pack_blocks(const struct pkt *v, size_t n, uint32_t size, uint8_t ***blocks)
{
	size_t cap = 16, nb = 0;
	*blocks = calloc(cap, sizeof(**blocks));
	struct fcap_block_builder b;
	size_t i = 0;
	while (i < n) {
		void *mem = NULL;
		CU_ASSERT_FATAL(posix_memalign(&mem, 4096, size) == 0);
		fcap_bb_start(&b, mem, size, 0, (uint32_t)nb);
		while (i < n && fcap_bb_add(&b, v[i].port, v[i].ts, v[i].frame, v[i].len, v[i].len, 0, 0))
			i++;
		fcap_bb_finish(&b, FCAP_BLOCK_CLOSED_FULL);
		if (nb == cap) {
			cap *= 2;
			*blocks = realloc(*blocks, cap * sizeof(**blocks));
		}
		(*blocks)[nb++] = mem;
	}
	return nb;
}

static void free_blocks(uint8_t **blocks, size_t nb)
{
	for (size_t i = 0; i < nb; i++)
		free(blocks[i]);
	free(blocks);
}

static struct fcap_card_info card(void)
{
	struct fcap_card_info ci = { .nports = 2, .max_snaplen = 16384 };
	snprintf(ci.model, sizeof(ci.model), "test card");
	for (int p = 0; p < 2; p++) {
		snprintf(ci.ports[p].label, sizeof(ci.ports[p].label), "p%d", p);
		ci.ports[p].speed_mbps = 10000;
	}
	return ci;
}

/* Submits every block, reaping as the queue allows; returns records stored. */
static uint64_t record(struct fcap_recorder *rec, uint8_t **blocks, size_t nb, uint32_t size, uint64_t tick_after)
{
	uint64_t stored = 0;
	size_t next = 0;
	struct fcap_rec_done d;
	while (next < nb || fcap_recorder_inflight(rec)) {
		while (next < nb) {
			struct fcap_block_info bi;
			char err[FCAP_ERRBUF_SIZE];
			CU_ASSERT_EQUAL_FATAL(fcap_block_check(blocks[next], size, (uint32_t)next, 2, &bi, err), 0);
			if (fcap_recorder_submit(rec, 0, blocks[next], &bi, 0) < 0)
				break;
			next++;
		}
		while (fcap_recorder_reap(rec, &d) > 0)
			if (d.stored)
				stored += d.bi.records;
		if (next == nb && tick_after)
			fcap_recorder_tick(rec, tick_after);
		fcap_recorder_wait(rec, 1000000);
	}
	return stored;
}

/* Packets libpcap reads from a file, or -1 when it reports an error. */
static long pcap_count(const char *path, uint64_t *bytes)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		return -1;
	struct pcap_pkthdr *h;
	const u_char *d;
	long n = 0;
	int rc;
	if (bytes)
		*bytes = 0;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		n++;
		if (bytes)
			*bytes += h->caplen;
	}
	pcap_close(p);
	return rc == PCAP_ERROR_BREAK ? n : -1;
}

static unsigned count_files(const char *d, const char *suffix, bool hidden)
{
	DIR *dd = opendir(d);
	unsigned n = 0;
	struct dirent *e;
	while (dd && (e = readdir(dd))) {
		size_t l = strlen(e->d_name), s = strlen(suffix);
		if ((e->d_name[0] == '.') == hidden && l > s && !strcmp(e->d_name + l - s, suffix))
			n++;
	}
	if (dd)
		closedir(dd);
	return n;
}

/* ---- checksums and blocks ---------------------------------------------- */

static void test_crc32c(void)
{
	CU_ASSERT_EQUAL(fcap_crc32c(0, "123456789", 9), 0xE3069283u);
	CU_ASSERT_EQUAL(fcap_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	CU_ASSERT_EQUAL(fcap_crc32c(0, "", 0), 0);
	uint8_t buf[5000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n < sizeof(buf); n += 37) {
		CU_ASSERT_EQUAL(fcap_crc32c(0, buf + 3, n), fcap_crc32c_sw(0, buf + 3, n));
		/* Continuing over two pieces equals one pass. */
		CU_ASSERT_EQUAL(fcap_crc32c(fcap_crc32c(0, buf, n / 2), buf + n / 2, n - n / 2), fcap_crc32c(0, buf, n));
	}
}

static void test_block_builder(void)
{
	struct pkt *v = gen_traffic(2000, 1000);
	uint8_t **blocks;
	size_t nb = pack_blocks(v, 2000, 65536, &blocks);
	CU_ASSERT(nb > 2);
	size_t k = 0;
	for (size_t i = 0; i < nb; i++) {
		struct fcap_block_info bi;
		char err[FCAP_ERRBUF_SIZE] = "";
		CU_ASSERT_EQUAL_FATAL(fcap_block_check(blocks[i], 65536, (uint32_t)i, 2, &bi, err), 0);
		size_t off = 0;
		struct fcap_record r;
		while (fcap_block_next(blocks[i], &bi, 2, &off, &r, err) > 0) {
			CU_ASSERT_EQUAL(r.ts, v[k].ts);
			CU_ASSERT_EQUAL(r.caplen, v[k].len);
			CU_ASSERT(memcmp(r.data, v[k].frame, r.caplen) == 0);
			k++;
		}
		/* The stored form, composed without touching the block, checks out. */
		uint8_t before[64];
		size_t nb4 = 65536 - bi.used < sizeof(before) ? 65536 - bi.used : sizeof(before);
		memcpy(before, blocks[i] + bi.used, nb4);
		static uint8_t tail[FCAP_STORED_TAIL_MAX];
		struct fcap_stored_block sb;
		fcap_pcapng_stored_split(blocks[i], &bi, tail, &sb);
		CU_ASSERT(memcmp(before, blocks[i] + bi.used, nb4) == 0);
		uint32_t len = sb.head_len + sb.tail_len;
		CU_ASSERT_EQUAL(len, fcap_block_stored_len(bi.used, bi.block_size));
		CU_ASSERT_EQUAL(len % 4096, 0);
		uint8_t *stored = malloc(len);
		memcpy(stored, sb.head, sb.head_len);
		memcpy(stored + sb.head_len, sb.tail, sb.tail_len);
		struct fcap_block_info si;
		CU_ASSERT_EQUAL(fcap_block_check_stored(stored, len, 2, &si, err), 0);
		CU_ASSERT_EQUAL(si.records, bi.records);
		/* One byte short, or one record damaged: refused with the place named. */
		CU_ASSERT_EQUAL(fcap_block_check_stored(stored, len - 8, 2, &si, err), -1);
		stored[FCAP_BLOCK_HEADER_LEN + 4] ^= 0x40;
		CU_ASSERT_EQUAL(fcap_block_check_stored(stored, len, 2, &si, err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "record #0"));
		free(stored);
	}
	CU_ASSERT_EQUAL(k, 2000);
	free_blocks(blocks, nb);
	free(v);
}

/* ---- keys ------------------------------------------------------------- */

struct key_case {
	const char *name;
	const char *hex;        /* the frame, as hex */
	unsigned nkeys;
	int family;
	int sport, dport;       /* -1: absent */
};

static const struct key_case key_cases[] = {
	{ "IPv4 TCP", "ffffffffffff0000000000010800" "4500002800000000400600000a0000010a000002" "00500fa0",
	  6, 4, 80, 4000 },
	{ "IPv4 TCP, only the source port captured",
	  "ffffffffffff0000000000010800" "4500002800000000400600000a0000010a000002" "0050", 4, 4, 80, -1 },
	{ "IPv4 cut after the source address", "ffffffffffff0000000000010800" "4500002800000000400600000a000001",
	  2, 4, -1, -1 },
	{ "IPv4 later fragment: no ports", "ffffffffffff0000000000010800" "4500002800000010400600000a0000010a000002"
	  "00500fa0", 3, 4, -1, -1 },
	{ "IPv4 UDP in two VLAN tags", "ffffffffffff00000000000188a8000a8100000b0800"
	  "4500002800000000401100000a0000010a0000020035c000", 6, 4, 53, 49152 },
	{ "IPv4 same host both ways", "ffffffffffff0000000000010800" "4500002800000000400100000a0000010a000001",
	  3, 4, -1, -1 },
	{ "IPv6 UDP", "ffffffffffff00000000000186dd" "6000000000081140" "20010000000000000000000000000001"
	  "20010000000000000000000000000002" "00350035", 5, 6, 53, 53 },
	{ "ARP", "ffffffffffff0000000000010806" "0001080006040001000000000001c0a80001000000000000c0a80002", 2, 4, -1, -1 },
	{ "not IP", "ffffffffffff00000000000188cc" "0000", 0, 0, -1, -1 },
	{ "runt", "ffffffffff", 0, 0, -1, -1 },
};

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2)
		sscanf(s, "%2hhx", &out[n++]);
	return n;
}

static void test_keys_table(void)
{
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];
		uint8_t f[256];
		size_t n = unhex(c->hex, f);
		struct fcap_pkt_keys k;
		fcap_pkt_keys(f, (uint32_t)n, &k);
		if (k.nkeys != c->nkeys || k.family != c->family)
			fprintf(stderr, "\n  case '%s': %u keys, family %u\n", c->name, k.nkeys, k.family);
		CU_ASSERT_EQUAL(k.nkeys, c->nkeys);
		CU_ASSERT_EQUAL(k.family, c->family);
		CU_ASSERT_EQUAL(k.has_sport, c->sport >= 0);
		CU_ASSERT_EQUAL(k.has_dport, c->dport >= 0);
		if (c->sport >= 0)
			CU_ASSERT_EQUAL(k.sport, c->sport);
		if (c->dport >= 0)
			CU_ASSERT_EQUAL(k.dport, c->dport);
	}
	/* A flow's key is the same both ways, and differs from its neighbours. */
	uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	CU_ASSERT_EQUAL(fcap_key_flow(4, 6, a, 80, b, 4000), fcap_key_flow(4, 6, b, 4000, a, 80));
	CU_ASSERT_NOT_EQUAL(fcap_key_flow(4, 6, a, 80, b, 4000), fcap_key_flow(4, 17, a, 80, b, 4000));
	CU_ASSERT_NOT_EQUAL(fcap_key_flow(4, 6, a, 80, b, 4000), fcap_key_flow(4, 6, a, 4000, b, 80));
	CU_ASSERT_EQUAL(fcap_key_host(4, a) >> 56, FCAP_KEY_HOST4);
}

/* On real captures: a packet that libpcap's `host A` or `port P` matches
 * carries A's or P's key (so the index never loses a match), and for these
 * untagged captures the decoder's own check agrees with libpcap exactly. */
static void test_keys_vs_libpcap(void)
{
	const char *data = getenv("FCAP_DATA");
	if (!data) {
		fprintf(stderr, "\n  SKIP: FCAP_DATA unset\n");
		return;
	}
	static const char *const files[] = { "http_espn.pcapng", "dns_isp_hijack.pcapng", "arppoison.pcapng",
					     "icmp_traceroute.pcapng", "tcp_ports.pcapng", "amp.UDP.isakmp.pcap" };
	static const char *const filters[] = { "host 172.16.0.122", "host 4.2.2.1", "host 192.168.100.1",
					       "host 192.168.100.7", "port 53", "port 80", "port 500", "port 443" };
	uint64_t checked = 0, matched = 0;
	for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", data, files[fi]);
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
		struct bpf_program prog[8];
		struct fcap_key_term term[8];
		for (int i = 0; i < 8; i++) {
			CU_ASSERT_EQUAL_FATAL(pcap_compile(dead, &prog[i], filters[i], 1, PCAP_NETMASK_UNKNOWN), 0);
			CU_ASSERT_EQUAL(fcap_filter_terms(filters[i], &term[i], 1), 1);
		}
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(path, err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		struct pcap_pkthdr *h;
		const u_char *d;
		while (pcap_next_ex(p, &h, &d) == 1) {
			struct fcap_pkt_keys k;
			fcap_pkt_keys(d, h->caplen, &k);
			for (int i = 0; i < 8; i++) {
				bool bpf = pcap_offline_filter(&prog[i], h, d);
				bool key = false;
				for (unsigned a = 0; a < k.nkeys; a++)
					for (unsigned b = 0; b < term[i].nkeys; b++)
						key |= k.key[a] == term[i].key[b];
				if (bpf && !key)
					fprintf(stderr, "\n  %s: '%s' matches a packet without its key\n", files[fi],
						filters[i]);
				CU_ASSERT(!bpf || key);
				checked++;
				matched += bpf;
			}
		}
		pcap_close(p);
		for (int i = 0; i < 8; i++)
			pcap_freecode(&prog[i]);
		pcap_close(dead);
	}
	CU_ASSERT(checked > 10000);
	CU_ASSERT(matched > 500);
}

struct filter_case {
	const char *filter;
	unsigned terms;
	unsigned keys0;         /* keys of the first term */
};

static const struct filter_case filter_cases[] = {
	{ "host 10.0.0.1", 1, 1 },
	{ "host 10.0.0.1 and port 80", 2, 1 },
	{ "src host 10.0.0.1 && dst port 80", 2, 1 },
	{ "10.0.0.1", 1, 1 },
	{ "ip6 host 2001:db8::1", 1, 1 },
	{ "tcp port 443", 1, 1 },
	{ "port 443", 1, 3 },
	{ "udp src port 53 and host 10.0.0.2", 2, 1 },
	{ "tcp and host 10.0.0.1", 1, 1 },
	{ "(host 10.0.0.1 or host 10.0.0.2) and port 80", 1, 3 },
	{ "host 10.0.0.1 or host 10.0.0.2", 0, 0 },
	{ "host 10.0.0.1 and port 80 or port 22", 0, 0 },
	{ "not host 10.0.0.1", 0, 0 },
	{ "mpls and host 10.0.0.1", 0, 0 },
	{ "host example.com", 0, 0 },
	{ "net 10.0.0.0/8", 0, 0 },
	{ "ether host 00:11:22:33:44:55", 0, 0 },
	{ "portrange 1-1024", 0, 0 },
	{ "port http", 0, 0 },
	{ "tcp", 0, 0 },
	{ "", 0, 0 },
};

static void test_filter_terms(void)
{
	for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
		const struct filter_case *c = &filter_cases[i];
		struct fcap_key_term t[8];
		unsigned n = fcap_filter_terms(c->filter, t, 8);
		if (n != c->terms)
			fprintf(stderr, "\n  '%s': %u terms, expected %u\n", c->filter, n, c->terms);
		CU_ASSERT_EQUAL(n, c->terms);
		if (n)
			CU_ASSERT_EQUAL(t[0].nkeys, c->keys0);
	}
}

/* ---- names and retention ------------------------------------------------- */

static void test_names(void)
{
	char name[FCAP_SEG_NAME_MAX];
	uint64_t t;
	uint32_t r;
	fcap_seg_name(1700000000123456789ull, 3, 0, name);
	CU_ASSERT_STRING_EQUAL(name, "20231114T221320.123456789Z-r3");
	CU_ASSERT_TRUE(fcap_seg_parse_name(name, &t, &r));
	CU_ASSERT_EQUAL(t, 1700000000123456789ull);
	CU_ASSERT_EQUAL(r, 3);
	fcap_seg_name(1700000000000000000ull, 0, 2, name);
	CU_ASSERT_STRING_EQUAL(name, "20231114T221320.000000000Z-r0-2");
	CU_ASSERT_TRUE(fcap_seg_parse_name(name, &t, &r));
	static const char *const bad[] = { "20231114T221320.123456789Z", "20231114T221320.123456789Z-r",
					   "20231314T221320.123456789Z-r0", "20231114X221320.123456789Z-r0",
					   "20231114T221320.12345678Z-r0", "20231114T221320.123456789Z-r0x",
					   "20231114T221320.123456789Z-r0-", "../20231114T221320.123456789Z-r0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(fcap_seg_parse_name(bad[i], &t, &r));
}

struct retention_case {
	const char *name;
	struct fcap_retention ret;
	uint64_t busy_bytes;
	uint32_t busy_files;
	uint64_t fs_bytes, now;
	size_t want_n;
	size_t want[5];
};

/* Five segments of 100 bytes, last packets at 10, 20, 30, 40, 50; #1 pinned. */
static const struct retention_case retention_cases[] = {
	{ "no limit", { 0 }, 0, 0, 1000, 100, 0, { 0 } },
	{ "files 3", { .max_files = 3 }, 0, 0, 1000, 100, 2, { 0, 2 } },
	{ "files 5 with one being written", { .max_files = 5 }, 100, 1, 1000, 100, 1, { 0 } },
	{ "bytes 300", { .max_bytes = 300 }, 0, 0, 1000, 100, 2, { 0, 2 } },
	{ "bytes 300, 150 being written", { .max_bytes = 300 }, 150, 1, 1000, 100, 4, { 0, 2, 3, 4 } },
	{ "bytes 450: no overshoot", { .max_bytes = 450 }, 0, 0, 1000, 100, 1, { 0 } },
	{ "percent 30 of 1000", { .max_percent = 30 }, 0, 0, 1000, 100, 2, { 0, 2 } },
	{ "age 65 at 100", { .max_age_ns = 65 }, 0, 0, 1000, 100, 2, { 0, 2 } },
	{ "age before the clock", { .max_age_ns = 65 }, 0, 0, 1000, 0, 0, { 0 } },
	{ "smallest wins: files 4, age 75", { .max_files = 4, .max_age_ns = 75 }, 0, 0, 1000, 100, 1, { 0 } },
	{ "smallest wins: bytes 200, files 4", { .max_files = 4, .max_bytes = 200 }, 0, 0, 1000, 100, 3,
	  { 0, 2, 3 } },
	{ "only the pinned one left over the limit", { .max_files = 1 }, 0, 0, 1000, 100, 4, { 0, 2, 3, 4 } },
};

static void test_retention(void)
{
	struct fcap_retention_item items[5];
	for (int i = 0; i < 5; i++)
		items[i] = (struct fcap_retention_item){ 100, 10u * (uint64_t)(i + 1), i == 1 };
	for (size_t i = 0; i < sizeof(retention_cases) / sizeof(retention_cases[0]); i++) {
		const struct retention_case *c = &retention_cases[i];
		size_t del[5];
		size_t n = fcap_retention_pick(&c->ret, items, 5, c->busy_bytes, c->busy_files, c->fs_bytes, c->now, del);
		if (n != c->want_n)
			fprintf(stderr, "\n  case '%s': %zu deleted, expected %zu\n", c->name, n, c->want_n);
		CU_ASSERT_EQUAL(n, c->want_n);
		for (size_t k = 0; k < n && k < c->want_n; k++)
			CU_ASSERT_EQUAL(del[k], c->want[k]);
	}
}

/* ---- the index file ---------------------------------------------------- */

static bool pkt_has_host(const struct pkt *p, uint8_t family, const uint8_t *a)
{
	uint8_t pf = p->family == 0 ? 4 : p->family;
	size_t n = pf == 4 ? 4 : 16;
	return pf == family && (!memcmp(p->src, a, n) || !memcmp(p->dst, a, n));
}

static int write_test_index(const char *path, struct pkt *v, size_t n, uint8_t ***blocks_out, size_t *nb_out)
{
	uint8_t **blocks;
	size_t nb = pack_blocks(v, n, 65536, &blocks);
	struct fcap_index_builder *ib = fcap_ib_new(0, 2, true);
	char err[FCAP_ERRBUF_SIZE];
	uint64_t off = 4096;
	for (size_t i = 0; i < nb; i++) {
		struct fcap_block_info bi;
		CU_ASSERT_EQUAL(fcap_block_check(blocks[i], 65536, (uint32_t)i, 2, &bi, err), 0);
		CU_ASSERT_EQUAL(fcap_ib_add_block(ib, blocks[i], &bi, off, err), 0);
		off += fcap_block_stored_len(bi.used, bi.block_size);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = fcap_ib_write(ib, fd, path, off, off + 200, err);
	close(fd);
	fcap_ib_free(ib);
	*blocks_out = blocks;
	*nb_out = nb;
	return rc;
}

static void test_index_round_trip(void)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/round.idx", dir);
	size_t n = 20000;
	struct pkt *v = gen_traffic(n, 1000);
	uint8_t **blocks;
	size_t nb;
	CU_ASSERT_EQUAL_FATAL(write_test_index(path, v, n, &blocks, &nb), 0);
	struct fcap_index ix;
	char err[FCAP_ERRBUF_SIZE] = "";
	CU_ASSERT_EQUAL_FATAL(fcap_index_open(&ix, path, 0, err), 0);
	CU_ASSERT_EQUAL(ix.nrecords, n);
	CU_ASSERT_EQUAL(ix.nblocks, nb);
	CU_ASSERT_EQUAL(fcap_index_verify(&ix, err), 0);
	CU_ASSERT_EQUAL(ix.stats.first_ts, v[0].ts);
	CU_ASSERT_EQUAL(ix.stats.last_ts, v[n - 1].ts);
	CU_ASSERT_EQUAL(ix.stats.port_records[0] + ix.stats.port_records[1], n);
	/* Every host's posting list is exactly the generator's packets, in order. */
	for (int family = 4; family <= 6; family += 2) {
		for (int h = 1; h <= 6; h++) {
			uint8_t a[16] = { 0 };
			if (family == 4)
				a[0] = 10, a[3] = (uint8_t)h;
			else
				a[0] = 0x20, a[1] = 0x01, a[15] = (uint8_t)h;
			const uint32_t *post;
			uint32_t np;
			CU_ASSERT_EQUAL(fcap_index_lookup(&ix, fcap_key_host((uint8_t)family, a), &post, &np, err), 0);
			uint32_t k = 0;
			bool same = true;
			for (size_t i = 0; i < n; i++) {
				if (!pkt_has_host(&v[i], (uint8_t)family, a))
					continue;
				same &= k < np && post[k] == i;
				k++;
			}
			CU_ASSERT_TRUE(same);
			CU_ASSERT_EQUAL(k, np);
		}
	}
	/* Ports: TCP 80 as libpcap would count it (either end). */
	const uint32_t *post;
	uint32_t np;
	CU_ASSERT_EQUAL(fcap_index_lookup(&ix, FCAP_KEY(FCAP_KEY_PORT, 6u << 16 | 80), &post, &np, err), 0);
	uint32_t want = 0;
	for (size_t i = 0; i < n; i++)
		want += v[i].proto == 6 && (v[i].sport == 80 || v[i].dport == 80);
	CU_ASSERT_EQUAL(np, want);
	CU_ASSERT(want > 100);
	/* Record offsets point at the records. */
	uint64_t off;
	CU_ASSERT_EQUAL(fcap_index_record_offset(&ix, 0, &off, err), 0);
	CU_ASSERT_EQUAL(off, 4096 + FCAP_BLOCK_HEADER_LEN);
	CU_ASSERT_EQUAL(fcap_index_record_offset(&ix, n, &off, err), -1);
	/* An absent key has no postings. */
	uint8_t none[16] = { 192, 0, 2, 99 };
	CU_ASSERT_EQUAL(fcap_index_lookup(&ix, fcap_key_host(4, none), &post, &np, err), 0);
	CU_ASSERT_EQUAL(np, 0);
	fcap_index_close(&ix);
	/* The size of the segment it describes is checked. */
	CU_ASSERT_EQUAL(fcap_index_open(&ix, path, 12345, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stale"));
	free_blocks(blocks, nb);
	free(v);
}

/* Flips one byte at a time: the header, the page checksums and body pages
 * must each be caught (at open, or when the page is first read), never a
 * crash or an out-of-bounds read. Truncations too. */
static void test_index_damage(void)
{
	char path[1024], bad[1024];
	snprintf(path, sizeof(path), "%s/damage.idx", dir);
	snprintf(bad, sizeof(bad), "%s/damaged.idx", dir);
	struct pkt *v = gen_traffic(3000, 5000);
	uint8_t **blocks;
	size_t nb;
	CU_ASSERT_EQUAL_FATAL(write_test_index(path, v, 3000, &blocks, &nb), 0);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	uint8_t *orig = malloc((size_t)len);
	CU_ASSERT_EQUAL_FATAL(fread(orig, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unsigned caught = 0, tried = 0;
	for (long at = 0; at < len; at += (at < 1024 ? 7 : 997)) {
		if (at >= 512 && at < 4096 && at >= 512 + 4 * ((len - 4096) / 4096 + 1))
			continue;   /* the zero filling between the checksums and the body is not read */
		f = fopen(bad, "wb");
		orig[at] ^= 0x5A;
		fwrite(orig, 1, (size_t)len, f);
		orig[at] ^= 0x5A;
		fclose(f);
		struct fcap_index ix;
		char err[FCAP_ERRBUF_SIZE];
		tried++;
		if (fcap_index_open(&ix, bad, 0, err) < 0) {
			caught++;
			continue;
		}
		if (fcap_index_verify(&ix, err) < 0)
			caught++;
		else
			fprintf(stderr, "\n  flip at %ld not caught\n", at);
		fcap_index_close(&ix);
	}
	CU_ASSERT_EQUAL(caught, tried);
	for (long cut = 0; cut < len; cut += len / 13 + 1) {
		f = fopen(bad, "wb");
		fwrite(orig, 1, (size_t)cut, f);
		fclose(f);
		struct fcap_index ix;
		char err[FCAP_ERRBUF_SIZE];
		CU_ASSERT_EQUAL(fcap_index_open(&ix, bad, 0, err), -1);
	}
	free(orig);
	free_blocks(blocks, nb);
	free(v);
}

/* ---- the recorder, extraction, recovery -------------------------------------- */

static void store_dir(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
	rm_rf(buf);
}

/* Records n generated packets into a store. */
static struct fcap_recorder_stats record_store(const char *sd, struct pkt *v, size_t n, uint64_t seg_bytes,
					       uint64_t seg_ns, bool buffered)
{
	struct fcap_card_info ci = card();
	struct fcap_recorder_config cfg = { .dir = sd, .ci = &ci, .userappl = "test_store", .segment_bytes = seg_bytes,
					    .segment_ns = seg_ns, .buffered = buffered, .queue_blocks = 4,
					    .log = quiet_log };
	char err[FCAP_ERRBUF_SIZE] = "";
	struct fcap_recorder_stats st = { 0 };
	struct fcap_recorder *rec = fcap_recorder_open(&cfg, err);
	CU_ASSERT_PTR_NOT_NULL(rec);
	if (!rec) {
		fprintf(stderr, "\n  %s\n", err);
		return st;
	}
	uint8_t **blocks;
	size_t nb = pack_blocks(v, n, 65536, &blocks);
	CU_ASSERT_EQUAL(record(rec, blocks, nb, 65536, 0), n);
	CU_ASSERT_EQUAL(fcap_recorder_close(rec, &st, err), 0);
	free_blocks(blocks, nb);
	return st;
}

/* Counts what the store's segments hold, read by libpcap. */
static long store_packets(const char *sd, unsigned *nseg)
{
	struct fcap_segment *segs;
	size_t n;
	char err[FCAP_ERRBUF_SIZE];
	long total = 0;
	CU_ASSERT_EQUAL_FATAL(fcap_store_list(sd, &segs, &n, NULL, err), 0);
	for (size_t i = 0; i < n; i++) {
		char path[FCAP_STORE_PATH_MAX];
		fcap_store_path(path, sizeof(path), sd, segs[i].name, "pcapng", false);
		long c = pcap_count(path, NULL);
		CU_ASSERT(c > 0);
		CU_ASSERT_EQUAL(segs[i].index, FCAP_INDEX_OK);
		CU_ASSERT_EQUAL((uint64_t)c, segs[i].stats.records);
		total += c;
	}
	*nseg = (unsigned)n;
	free(segs);
	return total;
}

static void test_recorder_rotation(void)
{
	char sd[1024];
	for (int buffered = 0; buffered <= 1; buffered++) {
		store_dir(sd, sizeof(sd), buffered ? "rot-buffered" : "rot-direct");
		size_t n = 30000;
		struct pkt *v = gen_traffic(n, 1700000000000000000ull);
		struct fcap_recorder_stats st = record_store(sd, v, n, 256 * 1024, 0, buffered);
		unsigned nseg;
		CU_ASSERT_EQUAL(store_packets(sd, &nseg), (long)n);
		CU_ASSERT_EQUAL(st.segments, nseg);
		CU_ASSERT(nseg >= 8);
		CU_ASSERT_EQUAL(st.records, n);
		CU_ASSERT_EQUAL(st.disk_lost_records, 0);
		CU_ASSERT_EQUAL(count_files(sd, ".pcapng", true), 0);
		/* Segments stay within -C. */
		struct fcap_segment *segs;
		size_t ns;
		char err[FCAP_ERRBUF_SIZE];
		fcap_store_list(sd, &segs, &ns, NULL, err);
		for (size_t i = 0; i < ns; i++)
			CU_ASSERT(segs[i].seg_bytes <= 256 * 1024);
		free(segs);
		if (!buffered)
			fprintf(stderr, "(O_DIRECT %s here) ", st.direct ? "used" : "refused by the filesystem");
		free(v);
	}
}

/* Time rotation: by the blocks' timestamps, and on a quiet link by the clock. */
static void test_recorder_time(void)
{
	char sd[1024];
	store_dir(sd, sizeof(sd), "time");
	struct fcap_card_info ci = card();
	const uint64_t t0 = 1700000000000000000ull, G = 1000000;   /* 1 ms segments */
	struct fcap_recorder_config cfg = { .dir = sd, .ci = &ci, .segment_ns = G, .queue_blocks = 4, .log = quiet_log };
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_recorder *rec = fcap_recorder_open(&cfg, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* Three single-packet blocks at t0, t0 + 0.4 ms, t0 + 1.2 ms: two segments. */
	struct pkt p[3];
	uint64_t at[3] = { t0, t0 + 400000, t0 + 1200000 };
	uint8_t *blocks[3];
	for (int i = 0; i < 3; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].family = 4;
		p[i].proto = 17;
		p[i].ts = at[i];
		make_frame(&p[i]);
		void *mem = NULL;
		CU_ASSERT_FATAL(posix_memalign(&mem, 4096, 65536) == 0);
		struct fcap_block_builder b;
		fcap_bb_start(&b, mem, 65536, 0, (uint32_t)i);
		fcap_bb_add(&b, 0, p[i].ts, p[i].frame, p[i].len, p[i].len, 0, 0);
		fcap_bb_finish(&b, FCAP_BLOCK_CLOSED_TIMEOUT);
		blocks[i] = mem;
	}
	CU_ASSERT_EQUAL(record(rec, blocks, 3, 65536, 0), 3);
	/* The second segment (t0 + 1.2 ms) is open; nothing comes. Its time is up
	 * at t0 + 2.2 ms: before that it stays hidden, after it is published. */
	fcap_recorder_tick(rec, t0 + 2100000);
	usleep(100000);
	CU_ASSERT_EQUAL(count_files(sd, ".pcapng", true), 1);
	fcap_recorder_tick(rec, t0 + 2200000);
	for (int i = 0; i < 100 && count_files(sd, ".pcapng", false) < 2; i++)
		usleep(10000);
	CU_ASSERT_EQUAL(count_files(sd, ".pcapng", false), 2);
	CU_ASSERT_EQUAL(count_files(sd, ".pcapng", true), 0);
	struct fcap_recorder_stats st;
	CU_ASSERT_EQUAL(fcap_recorder_close(rec, &st, err), 0);
	CU_ASSERT_EQUAL(st.segments, 2);
	char name[FCAP_SEG_NAME_MAX], path[FCAP_STORE_PATH_MAX];
	fcap_seg_name(t0 + 1200000, 0, 0, name);
	fcap_store_path(path, sizeof(path), sd, name, "pcapng", false);
	CU_ASSERT_EQUAL(pcap_count(path, NULL), 1);   /* named after its start */
	for (int i = 0; i < 3; i++)
		free(blocks[i]);
}

/* Extraction through the library, counted by libpcap, against the generator. */
static long extract_count(const char *sd, const struct fcap_query *q, struct fcap_extract_stats *st)
{
	char out[1024], err[FCAP_ERRBUF_SIZE] = "";
	snprintf(out, sizeof(out), "%s/extract.out", dir);
	FILE *f = fopen(out, "wb");
	int rc = fcap_extract(sd, q, f, quiet_log, NULL, st, err);
	fclose(f);
	if (rc < 0)
		fprintf(stderr, "\n  extract: %s\n", err);
	CU_ASSERT_EQUAL(rc, 0);
	return pcap_count(out, NULL);
}

static void test_extract(void)
{
	char sd[1024];
	store_dir(sd, sizeof(sd), "extract");
	size_t n = 30000;
	const uint64_t t0 = 1700000000000000000ull;
	struct pkt *v = gen_traffic(n, t0);
	record_store(sd, v, n, 256 * 1024, 0, false);
	struct fcap_extract_stats st;

	/* Time edges: [from, to) includes packets at from, excludes those at to. */
	for (size_t pick = 1000; pick < n; pick += 4321) {
		uint64_t t = v[pick].ts, t2 = v[pick + 50 < n ? pick + 50 : n - 1].ts;
		long at_t = 0, in_range = 0, before_t = 0;
		for (size_t i = 0; i < n; i++) {
			at_t += v[i].ts == t;
			in_range += v[i].ts >= t && v[i].ts < t2;
			before_t += v[i].ts < t;
		}
		struct fcap_query q = { .has_from = true, .from_ns = t, .has_to = true, .to_ns = t + 1 };
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), at_t);
		CU_ASSERT(at_t >= 1);
		q.to_ns = t2;
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), in_range);
		q = (struct fcap_query){ .has_to = true, .to_ns = t };
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), before_t);
	}
	/* Keys: host, port, flow, against the generator; with and without the index. */
	uint8_t h3[16] = { 10, 0, 0, 3 }, h5[16] = { 10, 0, 0, 5 };
	long want_host = 0, want_port = 0, want_flow = 0, want_both = 0;
	for (size_t i = 0; i < n; i++) {
		bool h = pkt_has_host(&v[i], 4, h3);
		bool p = (v[i].proto == 6 || v[i].proto == 17) && (v[i].sport == 443 || v[i].dport == 443);
		want_host += h;
		want_port += p;
		want_both += h && p;
		/* 10.0.0.3:1025 -> 10.0.0.5:80; the generator never sends from port 80 */
		want_flow += v[i].family == 4 && v[i].proto == 6 && v[i].dport == 80 && v[i].sport == 1025 &&
			     !memcmp(v[i].src, h3, 4) && !memcmp(v[i].dst, h5, 4);
	}
	for (int no_index = 0; no_index <= 1; no_index++) {
		struct fcap_query q = { .nhosts = 1, .no_index = no_index };
		q.hosts[0].family = 4;
		memcpy(q.hosts[0].addr, h3, 4);
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), want_host);
		q.nports = 1;
		q.ports[0] = 443;
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), want_both);
		q = (struct fcap_query){ .nports = 1, .ports = { 443 }, .no_index = no_index };
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), want_port);
		char err[FCAP_ERRBUF_SIZE];
		q = (struct fcap_query){ .has_flow = true, .no_index = no_index };
		CU_ASSERT_EQUAL_FATAL(fcap_flow_parse("10.0.0.5:80>10.0.0.3:1025/tcp", &q.flow, err), 0);
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), want_flow);
		q = (struct fcap_query){ .filter = "host 10.0.0.3 and port 443", .no_index = no_index };
		CU_ASSERT_EQUAL(extract_count(sd, &q, &st), want_both);
		CU_ASSERT_EQUAL(st.filter_terms, no_index ? 0 : 2);
		if (!no_index)
			CU_ASSERT(st.candidates < (uint64_t)want_host);   /* the index narrowed */
	}
	CU_ASSERT(want_flow > 10 && want_both > 100);
	/* Output in timestamp order across the two ports (our reader checks order). */
	struct fcap_query q = { .format = FCAP_OUT_PCAP_NS };
	CU_ASSERT_EQUAL(extract_count(sd, &q, &st), (long)n);
	char out[1024], err[FCAP_ERRBUF_SIZE];
	snprintf(out, sizeof(out), "%s/extract.out", dir);
	struct fcap_pcap_reader *r = fcap_pcap_open(out, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct fcap_pkt p;
	uint64_t prev = 0, k = 0;
	bool ordered = true;
	while (fcap_pcap_next(r, &p, err) > 0) {
		ordered &= p.ts_ns >= prev && p.ts_ns == v[k].ts;
		prev = p.ts_ns;
		k++;
	}
	fcap_pcap_close(r);
	CU_ASSERT_TRUE(ordered);
	CU_ASSERT_EQUAL(k, n);
	free(v);
}

/* The published segment of a store that has exactly one. */
static bool only_segment(const char *sd, char name[FCAP_SEG_NAME_MAX])
{
	struct fcap_segment *segs;
	size_t n;
	char err[FCAP_ERRBUF_SIZE];
	if (fcap_store_list(sd, &segs, &n, NULL, err) < 0 || n != 1)
		return false;
	snprintf(name, FCAP_SEG_NAME_MAX, "%s", segs[0].name);
	free(segs);
	return true;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*len);
	if (fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void spill(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(b, 1, len, f);
	fclose(f);
}

/* A segment as a crash leaves it (hidden, cut anywhere): recovery keeps
 * every whole block, drops the partial one, closes and publishes it. */
static void test_recovery_cuts(void)
{
	char sd[1024], name[FCAP_SEG_NAME_MAX], seg[FCAP_STORE_PATH_MAX], idx[FCAP_STORE_PATH_MAX],
	     hidden[FCAP_STORE_PATH_MAX];
	store_dir(sd, sizeof(sd), "recover");
	size_t n = 6000;
	struct pkt *v = gen_traffic(n, 1700000000000000000ull);
	record_store(sd, v, n, 64ull << 20, 0, false);
	CU_ASSERT_FATAL(only_segment(sd, name));
	fcap_store_path(seg, sizeof(seg), sd, name, "pcapng", false);
	fcap_store_path(idx, sizeof(idx), sd, name, "idx", false);
	fcap_store_path(hidden, sizeof(hidden), sd, name, "pcapng", true);
	size_t len;
	uint8_t *orig = slurp(seg, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	/* The blocks, from the index the recorder wrote. */
	struct fcap_index ix;
	char err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_EQUAL_FATAL(fcap_index_open(&ix, idx, len, err), 0);
	uint64_t nblocks = ix.nblocks, ends[64], recs[64], header = 0;
	CU_ASSERT_FATAL(nblocks < 64);
	uint64_t sum = 0;
	for (uint64_t i = 0; i < nblocks; i++) {
		struct fcap_index_block b;
		fcap_index_block(&ix, i, &b, err);
		if (i == 0)
			header = b.offset;
		sum += b.records;
		ends[i] = b.offset + b.len;
		recs[i] = sum;
	}
	fcap_index_close(&ix);
	unsigned tried = 0;
	for (size_t cut = 0; cut <= len; cut += (cut < header + 8192 ? 811 : 7919)) {
		unlink(seg);
		unlink(idx);
		spill(hidden, orig, cut);
		struct fcap_recovery rep;
		CU_ASSERT_EQUAL(fcap_store_recover(sd, quiet_log, NULL, &rep, err), 0);
		uint64_t want = 0;
		for (uint64_t i = 0; i < nblocks; i++)
			if (ends[i] <= cut)
				want = recs[i];
		CU_ASSERT_EQUAL(access(hidden, F_OK), -1);
		if (want == 0) {
			CU_ASSERT_EQUAL(access(seg, F_OK), -1);
			CU_ASSERT_EQUAL(rep.removed, 1);
			continue;
		}
		tried++;
		CU_ASSERT_EQUAL(rep.recovered, 1);
		CU_ASSERT_EQUAL(pcap_count(seg, NULL), (long)want);
		struct fcap_index ix2;
		CU_ASSERT_EQUAL(fcap_index_open(&ix2, idx, 0, err), 0);
		CU_ASSERT_EQUAL(fcap_index_verify(&ix2, err), 0);
		CU_ASSERT_EQUAL(ix2.nrecords, want);
		fcap_index_close(&ix2);
	}
	CU_ASSERT(tried > 20);

	/* A whole segment left hidden (crash before the rename) is published as is. */
	unlink(seg);
	unlink(idx);
	spill(hidden, orig, len);
	struct fcap_recovery rep;
	CU_ASSERT_EQUAL(fcap_store_recover(sd, quiet_log, NULL, &rep, err), 0);
	size_t len2;
	uint8_t *again = slurp(seg, &len2);
	CU_ASSERT(again && len2 == len && !memcmp(again, orig, len));
	free(again);

	/* A damaged block in the middle: covered with padding, the rest kept. */
	unlink(seg);
	unlink(idx);
	uint8_t *dam = malloc(len);
	memcpy(dam, orig, len);
	size_t mid = (size_t)ends[nblocks / 2];           /* start of a block */
	uint64_t lost = recs[nblocks / 2 + 1] - recs[nblocks / 2];
	dam[mid + FCAP_BLOCK_HEADER_LEN + 4] ^= 0xFF;     /* its first record's length */
	spill(hidden, dam, len);
	CU_ASSERT_EQUAL(fcap_store_recover(sd, quiet_log, NULL, &rep, err), 0);
	CU_ASSERT_EQUAL(rep.damaged, 1);
	CU_ASSERT_EQUAL(pcap_count(seg, NULL), (long)(n - lost));

	/* A published segment whose index is missing, damaged or stale: rebuilt. */
	struct fcap_index ix3;
	for (int how = 0; how < 3; how++) {
		if (how == 0) {
			unlink(idx);
		} else {
			size_t il;
			uint8_t *ib = slurp(idx, &il);
			if (how == 1)
				ib[il / 2] ^= 1;
			else
				ib[40] ^= 8;   /* the segment size it describes */
			spill(idx, ib, il);
			free(ib);
		}
		CU_ASSERT_EQUAL(fcap_store_recover(sd, quiet_log, NULL, &rep, err), 0);
		CU_ASSERT_EQUAL(rep.rebuilt, how == 1 ? 0 : 1);   /* a body page is only seen by a full check */
		CU_ASSERT_EQUAL(fcap_index_open(&ix3, idx, 0, err), 0);
		if (how == 1) {
			CU_ASSERT_EQUAL(fcap_index_verify(&ix3, err), -1);
			fcap_index_close(&ix3);
			CU_ASSERT_EQUAL(fcap_store_rebuild_index(sd, name, quiet_log, NULL, err), 0);
			CU_ASSERT_EQUAL(fcap_index_open(&ix3, idx, 0, err), 0);
		}
		CU_ASSERT_EQUAL(fcap_index_verify(&ix3, err), 0);
		CU_ASSERT_EQUAL(ix3.nrecords, n - lost);
		fcap_index_close(&ix3);
	}
	/* An orphan index goes. */
	unlink(seg);
	CU_ASSERT_EQUAL(fcap_store_recover(sd, quiet_log, NULL, &rep, err), 0);
	CU_ASSERT_EQUAL(rep.orphans, 1);
	CU_ASSERT_EQUAL(access(idx, F_OK), -1);
	free(dam);
	free(orig);
	free(v);
}

static void test_lock(void)
{
	char sd[1024], err[FCAP_ERRBUF_SIZE];
	store_dir(sd, sizeof(sd), "lock");
	mkdir(sd, 0755);
	int a = fcap_store_lock(sd, err);
	CU_ASSERT(a >= 0);
	CU_ASSERT_EQUAL(fcap_store_lock(sd, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "another fcap"));
	close(a);
	int b = fcap_store_lock(sd, err);
	CU_ASSERT(b >= 0);
	close(b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_store DIR\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("store", NULL, NULL);
	CU_add_test(s, "CRC-32C, hardware and table paths", test_crc32c);
	CU_add_test(s, "software ring blocks and their stored form", test_block_builder);
	CU_add_test(s, "index keys of crafted frames", test_keys_table);
	CU_add_test(s, "index keys cover libpcap's host/port matches", test_keys_vs_libpcap);
	CU_add_test(s, "filter terms that may narrow", test_filter_terms);
	CU_add_test(s, "segment names", test_names);
	CU_add_test(s, "retention: oldest first, smallest limit, no overshoot, pins", test_retention);
	CU_add_test(s, "index round trip against the generator", test_index_round_trip);
	CU_add_test(s, "index damage is caught", test_index_damage);
	CU_add_test(s, "recorder rotation by size, O_DIRECT and buffered", test_recorder_rotation);
	CU_add_test(s, "recorder rotation by time, quiet link", test_recorder_time);
	CU_add_test(s, "extraction: time edges, keys, filter, order", test_extract);
	CU_add_test(s, "recovery of segments cut anywhere, damaged, unindexed", test_recovery_cuts);
	CU_add_test(s, "one recorder per store", test_lock);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
