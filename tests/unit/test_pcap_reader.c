/*
 * test_pcap_reader.c - the pcap/pcapng reader (host/lib/pcap_reader.c).
 *
 * Files are written here byte by byte from the formats' specifications:
 * classic pcap in both byte orders and both resolutions; pcapng with two
 * sections of opposite byte order, if_tsresol and if_tsoffset, EPB, SPB,
 * the obsolete Packet Block and blocks to skip. Then every kind of damage,
 * one at a time: each must fail with the file name and the right offset.
 * Last, the bundled real captures against libpcap, the external judge.
 *
 * usage: test_pcap_reader DIR   (scratch directory for the files)
 */
#include <CUnit/Basic.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fcap/features.h"
#include "fcap/packet.h"
#include "fcap/pcap_reader.h"

static const char *dir;

struct buf {
	uint8_t b[8192];
	size_t n;
	bool be;   /* write big-endian */
};

static void u8(struct buf *w, uint8_t v)
{
	w->b[w->n++] = v;
}

static void u16(struct buf *w, uint16_t v)
{
	if (w->be)
		u8(w, (uint8_t)(v >> 8)), u8(w, (uint8_t)v);
	else
		u8(w, (uint8_t)v), u8(w, (uint8_t)(v >> 8));
}

static void u32(struct buf *w, uint32_t v)
{
	if (w->be)
		u16(w, (uint16_t)(v >> 16)), u16(w, (uint16_t)v);
	else
		u16(w, (uint16_t)v), u16(w, (uint16_t)(v >> 16));
}

static void bytes(struct buf *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void pad4(struct buf *w)
{
	while (w->n % 4)
		u8(w, 0);
}

static const char *write_file(const char *name, const struct buf *w)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(w->b, 1, w->n, f);
	fclose(f);
	return path;
}

static const uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, [20] = 42 };

/* ---------------- classic pcap ---------------- */

static void mk_pcap(struct buf *w, bool be, bool ns, uint32_t linktype)
{
	w->n = 0;
	w->be = be;
	u32(w, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	u16(w, 2), u16(w, 4), u32(w, 0), u32(w, 0), u32(w, 65535), u32(w, linktype);
}

static void pcap_rec(struct buf *w, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t origlen)
{
	u32(w, sec), u32(w, frac), u32(w, caplen), u32(w, origlen);
	bytes(w, frame, caplen);
}

static void test_pcap_variants(void)
{
	struct { bool be, ns; } v[] = { { false, false }, { false, true }, { true, false }, { true, true } };
	for (size_t i = 0; i < 4; i++) {
		struct buf w;
		mk_pcap(&w, v[i].be, v[i].ns, 1);
		pcap_rec(&w, 1000, v[i].ns ? 123456789 : 123456, 60, 60);
		pcap_rec(&w, 1001, 5, 42, 1500);
		const char *path = write_file("v.pcap", &w);
		char err[FCAP_ERRBUF_SIZE];
		struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_STRING_EQUAL(fcap_pcap_format(r), "pcap");
		struct fcap_pkt p;
		CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 1);
		CU_ASSERT_EQUAL(p.number, 1);
		CU_ASSERT_EQUAL(p.offset, 24);
		CU_ASSERT_EQUAL(p.ts_ns, 1000ull * 1000000000 + (v[i].ns ? 123456789 : 123456000));
		CU_ASSERT_EQUAL(p.caplen, 60);
		CU_ASSERT_EQUAL(p.linktype, 1);
		CU_ASSERT(memcmp(p.data, frame, 60) == 0);
		CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 1);
		CU_ASSERT_EQUAL(p.number, 2);
		CU_ASSERT_EQUAL(p.offset, 24 + 16 + 60);
		CU_ASSERT_EQUAL(p.ts_ns, 1001ull * 1000000000 + (v[i].ns ? 5 : 5000));
		CU_ASSERT_EQUAL(p.caplen, 42);
		CU_ASSERT_EQUAL(p.origlen, 1500);
		CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 0);
		fcap_pcap_close(r);
	}
}

/* ---------------- pcapng ---------------- */

static size_t blk_begin(struct buf *w, uint32_t type)
{
	size_t at = w->n;
	u32(w, type);
	u32(w, 0);
	return at;
}

static void blk_end(struct buf *w, size_t at)
{
	pad4(w);
	uint32_t len = (uint32_t)(w->n - at + 4);
	u32(w, len);
	size_t save = w->n;
	w->n = at + 4;
	u32(w, len);
	w->n = save;
}

static void shb(struct buf *w)
{
	size_t at = blk_begin(w, 0x0a0d0d0a);
	u32(w, 0x1a2b3c4d), u16(w, 1), u16(w, 0), u32(w, 0xffffffff), u32(w, 0xffffffff);
	blk_end(w, at);
}

static void idb(struct buf *w, int tsresol, int64_t tsoffset)
{
	size_t at = blk_begin(w, 1);
	u16(w, 1), u16(w, 0), u32(w, 0);
	if (tsresol >= 0)
		u16(w, 9), u16(w, 1), u8(w, (uint8_t)tsresol), pad4(w);
	if (tsoffset)
		u16(w, 14), u16(w, 8), u32(w, (uint32_t)((uint64_t)tsoffset >> 32)), u32(w, (uint32_t)tsoffset);
	u16(w, 0), u16(w, 0);
	blk_end(w, at);
}

static size_t epb(struct buf *w, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t origlen)
{
	size_t at = blk_begin(w, 6);
	u32(w, ifid), u32(w, (uint32_t)(ts >> 32)), u32(w, (uint32_t)ts), u32(w, caplen), u32(w, origlen);
	bytes(w, frame, caplen);
	blk_end(w, at);
	return at;
}

static void other(struct buf *w, uint32_t type, size_t body)
{
	size_t at = blk_begin(w, type);
	for (size_t i = 0; i < body; i++)
		u8(w, 0xee);
	blk_end(w, at);
}

/* Section 1 little-endian, ns resolution, two interfaces; section 2 big-endian, default us with an offset. */
static size_t build_ng(struct buf *w, size_t offs[5])
{
	w->n = 0;
	w->be = false;
	shb(w);
	idb(w, 9, 0);
	idb(w, 0x80 | 10, 0);   /* 2^-10 s */
	other(w, 0x8FCA0001, 56);
	offs[0] = epb(w, 0, 1700000000123456789ull, 60, 60);
	offs[1] = epb(w, 1, 3ull * 1024 + 512, 33, 99);
	size_t at = blk_begin(w, 3);    /* simple packet block */
	u32(w, 64);
	bytes(w, frame, 64);
	blk_end(w, at);
	offs[2] = at;
	other(w, 5, 40);               /* interface statistics */
	w->be = true;
	shb(w);
	idb(w, -1, 1000);
	offs[3] = epb(w, 0, 2500000, 60, 60);
	at = blk_begin(w, 2);          /* obsolete packet block */
	u16(w, 0), u16(w, 0), u32(w, 0), u32(w, 7), u32(w, 20), u32(w, 20);
	bytes(w, frame, 20);
	blk_end(w, at);
	offs[4] = at;
	return w->n;
}

static void test_pcapng(void)
{
	struct buf w;
	size_t offs[5];
	build_ng(&w, offs);
	const char *path = write_file("v.pcapng", &w);
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct { uint32_t ifid, caplen, origlen; uint64_t ts; } want[5] = {
		{ 0, 60, 60, 1700000000123456789ull },
		{ 1, 33, 99, 3500000000ull },            /* 3.5 s in units of 2^-10 s */
		{ 0, 64, 64, 0 },                         /* SPB: no timestamp */
		{ 0, 60, 60, 1000ull * 1000000000 + 2500000000ull },
		{ 0, 20, 20, 1000ull * 1000000000 + 7 },  /* (0 << 32 | 7) us... */
	};
	want[4].ts = 1000ull * 1000000000 + 7000;
	struct fcap_pkt p;
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL_FATAL(fcap_pcap_next(r, &p, err), 1);
		CU_ASSERT_EQUAL(p.number, (uint64_t)i + 1);
		CU_ASSERT_EQUAL(p.offset, offs[i]);
		CU_ASSERT_EQUAL(p.ifindex, want[i].ifid);
		CU_ASSERT_EQUAL(p.caplen, want[i].caplen);
		CU_ASSERT_EQUAL(p.origlen, want[i].origlen);
		CU_ASSERT_EQUAL(p.ts_ns, want[i].ts);
		CU_ASSERT(memcmp(p.data, frame, p.caplen) == 0);
	}
	CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 0);
	fcap_pcap_close(r);
}

/* ---------------- damage ---------------- */

struct damage {
	const char *what;
	size_t at;          /* byte to change (or the length to cut at, with cut) */
	bool cut;
	uint8_t value;
	const char *expect; /* in the message */
	int packets_before; /* good packets before the error */
};

static void check_damage(const char *name, const struct buf *good, const struct damage *d)
{
	struct buf w = *good;
	if (d->cut)
		w.n = d->at;
	else
		w.b[d->at] = d->value;
	const char *path = write_file(name, &w);
	char err[FCAP_ERRBUF_SIZE] = "";
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	int good_pkts = 0, rc = -1;
	if (r) {
		struct fcap_pkt p;
		while ((rc = fcap_pcap_next(r, &p, err)) > 0)
			good_pkts++;
		fcap_pcap_close(r);
	}
	if (rc != -1 || !strstr(err, path) || !strstr(err, d->expect) || good_pkts != d->packets_before) {
		fprintf(stderr, "\n%s: rc %d after %d packets, message '%s' (want '%s' after %d)\n", d->what, rc, good_pkts,
			err, d->expect, d->packets_before);
		CU_FAIL("damage not reported as expected");
	}
}

static void test_damaged_pcap(void)
{
	struct buf w;
	mk_pcap(&w, false, false, 1);
	pcap_rec(&w, 1, 2, 60, 60);
	pcap_rec(&w, 1, 3, 60, 60);
	const struct damage d[] = {
		{ "bad magic", 0, false, 0x00, "offset 0: not a pcap or pcapng file", 0 },
		{ "short header", 10, true, 0, "offset 0: truncated pcap file header", 0 },
		{ "bad version", 4, false, 9, "offset 4: pcap version 9", 0 },
		{ "huge caplen", 24 + 8 + 3, false, 0x7f, "offset 24: record captured length", 0 },
		{ "cut record header", 24 + 76 + 5, true, 0, "offset 100: truncated pcap record header", 1 },
		{ "cut record data", 24 + 76 + 16 + 10, true, 0, "offset 100: truncated pcap record: 10 of 60", 1 },
		{ "microseconds out of range", 24 + 76 + 7, false, 0x40, "offset 100: record sub-second field", 1 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		check_damage("bad.pcap", &w, &d[i]);
}

static void test_damaged_pcapng(void)
{
	struct buf w;
	size_t o[5];
	build_ng(&w, o);
	/* the IDB after the SHB (28 bytes): its options start at 28 + 16 */
	const struct damage d[] = {
		{ "bad byte-order magic", 8, false, 0x00, "offset 0: section header byte-order magic", 0 },
		{ "section length not /4", 4, false, 29, "offset 0: section header length 29 invalid", 0 },
		{ "idb option overrun", 28 + 18, false, 200, "offset 28: interface option 9 length 200 overruns", 0 },
		{ "bad tsresol", 28 + 20, false, 40, "offset 28: if_tsresol 0x28 unsupported", 0 },
		{ "epb caplen overrun", o[0] + 20, false, 200, "captured length 200 overruns", 0 },
		{ "epb interface unknown", o[0] + 8, false, 5, "packet on interface 5, but the section declares 2", 0 },
		{ "trailing length differs", o[1] - 4, false, 0x55, "trailing length", 0 },
		{ "block length huge", o[1] + 7, false, 0x7f, "has invalid length", 1 },
		{ "block length < 12", o[1] + 4, false, 8, "has invalid length", 1 },
		{ "truncated block", o[1] + 30, true, 0, "truncated block", 1 },
		{ "truncated block header", o[1] + 2, true, 0, "truncated block header", 1 },
		{ "spb length changed", o[2] + 4, false, 12, "trailing length 64 differs from 12", 2 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		check_damage("bad.pcapng", &w, &d[i]);
	char err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_PTR_NULL(fcap_pcap_open("/nonexistent/x.pcap", err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.pcap"));
}

/* Every offset-bearing message of a damaged EPB names that EPB's offset. */
static void test_offsets_in_messages(void)
{
	struct buf w;
	size_t o[5];
	build_ng(&w, o);
	w.b[o[1] + 20] = 250;  /* caplen of the second packet */
	const char *path = write_file("off.pcapng", &w);
	char err[FCAP_ERRBUF_SIZE], want[64];
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct fcap_pkt p;
	CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 1);
	CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), -1);
	snprintf(want, sizeof(want), "offset %zu:", o[1]);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	fcap_pcap_close(r);
}

/* Random damage, many times: every read ends in a packet, the end, or an
 * error naming the file; each packet's bytes lie inside what was read (the
 * sanitizers watch), and decoding and features accept whatever comes. */
static void test_random_damage(void)
{
	struct buf good;
	size_t o[5];
	build_ng(&good, o);
	uint64_t seed = 12345;
	int errors = 0, clean = 0;
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_feat_config fc = { 64, 0, true };
	struct fcap_features *fx = fcap_features_new(&fc, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
	double feat[FCAP_FEAT_MAX];
	for (int t = 0; t < 1500; t++) {
		struct buf w = good;
		for (int k = 0; k < 1 + t % 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			w.b[(seed >> 33) % w.n] = (uint8_t)(seed >> 17);
		}
		if (t % 5 == 0)
			w.n = (seed >> 40) % w.n;
		const char *path = write_file("rnd.pcapng", &w);
		struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
		int rc = -1;
		if (r) {
			struct fcap_pkt p;
			while ((rc = fcap_pcap_next(r, &p, err)) > 0) {
				struct fcap_pkt_info pi;
				fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
				fcap_features_update(fx, &pi, p.origlen, p.ts_ns, feat);
			}
			fcap_pcap_close(r);
		}
		if (rc < 0) {
			errors++;
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "rnd.pcapng"));
		} else {
			clean++;
		}
	}
	fcap_features_free(fx);
	printf("(%d errors, %d read to the end) ", errors, clean);
	CU_ASSERT(errors > 0);
}

/* ---------------- real files against libpcap ---------------- */

static void against_libpcap(const char *name)
{
	const char *data = getenv("FCAP_DATA");
	if (!data) {
		printf("(FCAP_DATA unset: skipped) ");
		return;
	}
	char path[1024], err[FCAP_ERRBUF_SIZE], perr[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/%s", data, name);
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	FILE *raw = fopen(path, "rb");
	struct pcap_pkthdr *h;
	const u_char *d;
	struct fcap_pkt p;
	uint64_t n = 0, bad = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (fcap_pcap_next(r, &p, err) != 1) {
			bad++;
			break;
		}
		n++;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		bad += p.ts_ns != ts || p.caplen != h->caplen || p.origlen != h->len || memcmp(p.data, d, p.caplen) != 0;
		/* the offset points at the packet's record: for pcapng an EPB, else a record header with caplen */
		uint8_t hdr[16];
		fseek(raw, (long)p.offset, SEEK_SET);
		if (fread(hdr, 1, 16, raw) != 16)
			bad++;
		else if (!strcmp(fcap_pcap_format(r), "pcapng"))
			bad += !(hdr[0] == 6 && hdr[1] == 0 && hdr[2] == 0 && hdr[3] == 0);
		else
			bad += memcmp(hdr + 8, &p.caplen, 4) != 0;
	}
	CU_ASSERT_EQUAL(fcap_pcap_next(r, &p, err), 0);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(bad, 0);
	printf("(%llu packets agree) ", (unsigned long long)n);
	fclose(raw);
	pcap_close(pc);
	fcap_pcap_close(r);
}

static void test_real_pcapng(void)
{
	against_libpcap("synscan.pcapng");
}

static void test_real_pcap(void)
{
	against_libpcap("amp.UDP.isakmp.pcap");
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : ".";
	mkdir(dir, 0755);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("pcap_reader", NULL, NULL);
	CU_add_test(s, "classic pcap: both byte orders, us and ns", test_pcap_variants);
	CU_add_test(s, "pcapng: sections, resolutions, offsets, EPB/SPB/PB", test_pcapng);
	CU_add_test(s, "damaged pcap: file and offset named", test_damaged_pcap);
	CU_add_test(s, "damaged pcapng: file and offset named", test_damaged_pcapng);
	CU_add_test(s, "messages carry the damaged block's offset", test_offsets_in_messages);
	CU_add_test(s, "random damage: an error or the end, never a bad read", test_random_damage);
	CU_add_test(s, "real pcapng against libpcap", test_real_pcapng);
	CU_add_test(s, "real pcap against libpcap", test_real_pcap);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
