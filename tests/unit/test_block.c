/*
 * test_block.c - ring block and record parser (host/lib/block.c), the file
 * writer's trimming rule, and device tree parsing.
 *
 * Blocks are built here byte by byte from docs/FORMAT.md, independently of
 * the RTL, then damaged one field at a time: every damage must be rejected
 * with a message that names the place, and nothing may read out of bounds
 * (the suite runs under AddressSanitizer; each block is allocated to its
 * exact size so any overrun is caught).
 *
 * usage: test_block [DTB]   (DTB: the card's blob, for the device tree cases)
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/pcapng.h"

#define BLOCK_SIZE 65536u

static const char *dtb_path;

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Appends an EPB to blk at *off the way docs/FORMAT.md says the card does. */
static uint32_t add_record(uint8_t *blk, uint32_t *off, uint32_t port, uint64_t ts, const uint8_t *data,
			   uint32_t caplen, uint32_t origlen, int flags, int64_t dropcount)
{
	uint8_t *p = blk + *off;
	uint32_t units = 8 + (caplen + 3) / 4 + (flags >= 0 ? 2 : 0) + (dropcount >= 0 ? 3 : 0);
	bool eoo = units & 1;
	uint32_t len = 4 * (units + eoo);
	memset(p, 0, len);
	put32(p, FCAP_PCAPNG_EPB);
	put32(p + 4, len);
	put32(p + 8, port);
	put32(p + 12, (uint32_t)(ts >> 32));
	put32(p + 16, (uint32_t)ts);
	put32(p + 20, caplen);
	put32(p + 24, origlen);
	memcpy(p + 28, data, caplen);
	uint32_t o = 28 + ((caplen + 3) & ~3u);
	if (flags >= 0) {
		put32(p + o, FCAP_OPT_EPB_FLAGS | 4u << 16);
		put32(p + o + 4, (uint32_t)flags);
		o += 8;
	}
	if (dropcount >= 0) {
		put32(p + o, FCAP_OPT_EPB_DROPCOUNT | 8u << 16);
		put64(p + o + 4, (uint64_t)dropcount);
		o += 12;
	}
	put32(p + len - 4, len);
	*off += len;
	return len;
}

/* A valid block: header, three records (plain, flags, dropcount), padding. */
static uint8_t *make_block(uint32_t seq, uint32_t *used_out)
{
	uint8_t *blk = calloc(1, BLOCK_SIZE);
	uint8_t frame[1514];
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	uint32_t off = FCAP_BLOCK_HEADER_LEN;
	add_record(blk, &off, 0, 1000, frame, 60, 60, -1, -1);
	add_record(blk, &off, 0, 2000, frame, 1514, 1514, FCAP_EPB_FLAG_INBOUND | FCAP_EPB_FLAG_CRC_ERROR, -1);
	add_record(blk, &off, 0, 3000, frame, 64, 1500, -1, 42);
	put32(blk, FCAP_BT_BLOCK_HEADER);
	put32(blk + 4, FCAP_BLOCK_HEADER_LEN);
	put32(blk + 8, FCAP_BLOCK_FORMAT_VERSION);
	put32(blk + 12, seq);
	put32(blk + 16, off);
	put32(blk + 20, 3);
	put64(blk + 24, 1000);
	put64(blk + 32, 3000);
	put32(blk + 40, 42);
	put32(blk + 44, FCAP_BLOCK_CLOSED_TIMEOUT);
	put32(blk + 48, BLOCK_SIZE);
	put32(blk + 60, FCAP_BLOCK_HEADER_LEN);
	put32(blk + off, FCAP_BT_PADDING);
	put32(blk + off + 4, BLOCK_SIZE - off);
	put32(blk + BLOCK_SIZE - 4, BLOCK_SIZE - off);
	*used_out = off;
	return blk;
}

static void test_valid_block(void)
{
	uint32_t used;
	uint8_t *blk = make_block(7, &used);
	struct fcap_block_info bi;
	char err[FCAP_ERRBUF_SIZE] = "";
	CU_ASSERT_EQUAL_FATAL(fcap_block_check(blk, BLOCK_SIZE, 7, 1, &bi, err), 0);
	CU_ASSERT_EQUAL(bi.seq, 7);
	CU_ASSERT_EQUAL(bi.records, 3);
	CU_ASSERT_EQUAL(bi.used, used);
	CU_ASSERT_EQUAL(bi.drops, 42);

	size_t off = 0;
	struct fcap_record r[3];
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(fcap_block_next(blk, &bi, 1, &off, &r[i], err), 1);
	CU_ASSERT_EQUAL(fcap_block_next(blk, &bi, 1, &off, &r[0], err), 0);
	CU_ASSERT_EQUAL(r[0].caplen, 60);
	CU_ASSERT_FALSE(r[0].has_flags || r[0].has_dropcount);
	CU_ASSERT_EQUAL(r[1].caplen, 1514);
	CU_ASSERT_TRUE(r[1].has_flags);
	CU_ASSERT_EQUAL(r[1].flags, FCAP_EPB_FLAG_INBOUND | FCAP_EPB_FLAG_CRC_ERROR);
	CU_ASSERT_EQUAL(r[2].origlen, 1500);
	CU_ASSERT_TRUE(r[2].has_dropcount);
	CU_ASSERT_EQUAL(r[2].dropcount, 42);
	CU_ASSERT_EQUAL(r[2].ts, 3000);
	CU_ASSERT_EQUAL(r[1].data[5], (uint8_t)(5 * 7 + 1));
	free(blk);
}

/* One damage: what to change (offset from the block start or from the
 * named record), the value to write, and words the error must contain. */
enum where { HDR, REC0, REC1, REC2, PAD, BLOCK_END };

struct damage {
	const char *name;
	enum where where;
	int32_t at;        /* byte offset relative to `where` */
	uint32_t value;
	const char *expect1;
	const char *expect2;
};

static const struct damage damages[] = {
	{ "header type", HDR, 0, 0x0A0D0D0A, "block header at byte offset 0", "type 0x0a0d0d0a" },
	{ "header length", HDR, 4, 128, "block header", "length 128/64" },
	{ "header trailer", HDR, 60, 60, "block header", "length 64/60" },
	{ "format version", HDR, 8, 2, "format version 2", NULL },
	{ "sequence number", HDR, 12, 8, "sequence number 8, expected 7", NULL },
	{ "bytes used past end", HDR, 16, BLOCK_SIZE + 8, "bytes used", NULL },
	{ "bytes used unaligned", HDR, 16, 1700, "bytes used 1700", NULL },
	{ "bytes used leaves 8", HDR, 16, BLOCK_SIZE - 8, "too few for a padding block", NULL },
	{ "block size field", HDR, 48, 4096, "block size 4096", NULL },
	{ "record count", HDR, 20, 4, "record count 4", "holds 3" },
	{ "earliest timestamp", HDR, 24, 999, "earliest/latest timestamps", NULL },
	{ "latest timestamp", HDR, 32, 2999, "earliest/latest timestamps", NULL },
	{ "record type", REC1, 0, 3, "record #1", "type 0x00000003" },
	{ "record too short", REC0, 4, 24, "record #0", "below the EPB minimum" },
	{ "record not 8-aligned", REC0, 4, 100, "record #0", "not a multiple of 8" },
	{ "record past used", REC2, 4, 0x10000, "record #2", "runs past the end" },
	{ "record huge length", REC0, 4, 0xFFFFFFF8u, "record #0", "runs past the end" },
	{ "record trailer", REC0, 92, 88, "record #0", "trailing length 88" },
	{ "interface id", REC1, 8, 1, "record #1", "interface id 1" },
	{ "caplen past record", REC0, 20, 61, "record #0", "captured length 61" },
	{ "caplen huge", REC1, 20, 0xFFFFFFFFu, "record #1", "captured length 4294967295" },
	{ "origlen below caplen", REC0, 24, 59, "record #0", "original length 59" },
	{ "option length", REC1, 28 + 1516, 0u << 16 | 2u, "record #1", "epb_flags at +1544: length 0, expected 4" },
	{ "option unknown", REC1, 28 + 1516, 4u << 16 | 9u, "record #1", "option code 9" },
	{ "option runs past", REC2, 28 + 64, 0x100u << 16 | 4u, "record #2", "runs past the record" },
	{ "padding type", PAD, 0, 0x12345678, "padding at byte offset", "type 0x12345678" },
	{ "padding length", PAD, 4, 16, "padding at byte offset", "length 16" },
	{ "padding trailer", BLOCK_END, -4, 20, "padding", "trailer 20" },
};

static void test_damaged_blocks(void)
{
	for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
		const struct damage *d = &damages[i];
		uint32_t used;
		uint8_t *blk = make_block(7, &used);
		uint32_t rec[3], off = FCAP_BLOCK_HEADER_LEN;
		for (int k = 0; k < 3; k++) {
			rec[k] = off;
			off += blk[off + 4] | blk[off + 5] << 8 | blk[off + 6] << 16 | (uint32_t)blk[off + 7] << 24;
		}
		uint32_t base = d->where == HDR ? 0 : d->where == PAD ? used : d->where == BLOCK_END ? BLOCK_SIZE
				: rec[d->where - REC0];
		put32(blk + (int64_t)base + d->at, d->value);

		struct fcap_block_info bi;
		char err[FCAP_ERRBUF_SIZE] = "";
		int rc = fcap_block_check(blk, BLOCK_SIZE, 7, 1, &bi, err);
		if (rc != -1 || !strstr(err, d->expect1) || (d->expect2 && !strstr(err, d->expect2)))
			fprintf(stderr, "\n  case '%s': rc %d, message: %s\n", d->name, rc, err);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, d->expect1));
		if (d->expect2)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, d->expect2));
		free(blk);
	}
}

/* A block buffer shorter than the header, and records cut at every length. */
static void test_truncated_buffers(void)
{
	uint32_t used;
	uint8_t *blk = make_block(0, &used);
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_block_info bi;
	for (size_t n = 0; n < FCAP_BLOCK_HEADER_LEN; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, blk, n);
		CU_ASSERT_EQUAL(fcap_block_header(cut, n, &bi, err), -1);
		free(cut);
	}
	/* The first record (96 bytes) parsed from buffers too short to hold it. */
	for (size_t n = 0; n < 96; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, blk + FCAP_BLOCK_HEADER_LEN, n);
		struct fcap_record r;
		CU_ASSERT_EQUAL(fcap_record_parse(cut, n, 0, 1, &r, err), -1);
		free(cut);
	}
	struct fcap_record r;
	CU_ASSERT_EQUAL(fcap_record_parse(blk, used, used + 8, 1, &r, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "only 0 bytes left"));
	free(blk);
}

static void test_trimmed_len(void)
{
	static const struct { uint32_t used, size, want; } cases[] = {
		{ 64 + 96, 65536, 4096 },     /* one small record: one page */
		{ 4096, 65536, 4096 },        /* records end on a page: no padding needed */
		{ 4088, 65536, 8192 },        /* 8 bytes to the page end: too few for padding */
		{ 4080, 65536, 4096 },        /* exactly 16 bytes: a minimal padding block */
		{ 65536, 65536, 65536 },      /* full block */
		{ 65520, 65536, 65536 },      /* card's own 16-byte padding */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(fcap_pcapng_trimmed_len(cases[i].used, cases[i].size), cases[i].want);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void test_device_tree(void)
{
	size_t len = 0;
	uint8_t *blob = read_file(dtb_path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	struct fcap_card_info ci;
	char err[FCAP_ERRBUF_SIZE] = "";
	CU_ASSERT_EQUAL_FATAL(fcap_card_parse_dt(blob, len, &ci, err), 0);
	/* hw/dts/fcap_4x10g.dts */
	CU_ASSERT_EQUAL(ci.nports, 4);
	CU_ASSERT_EQUAL(ci.clock_hz, 250000000u);
	CU_ASSERT_STRING_EQUAL(ci.ports[0].label, "p0");
	CU_ASSERT_STRING_EQUAL(ci.ports[3].label, "p3");
	CU_ASSERT_EQUAL(ci.ports[3].speed_mbps, 10000);
	CU_ASSERT_EQUAL(ci.ports[3].mac_clock_hz, 156250000u);
	CU_ASSERT_EQUAL(ci.ports[3].fifo_bytes, 16384u);
	CU_ASSERT_EQUAL(ci.format_version, FCAP_BLOCK_FORMAT_VERSION);

	/* Every truncation is refused, with no read past the buffer. */
	for (size_t n = 0; n < len; n += 4) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, blob, n);
		CU_ASSERT_EQUAL(fcap_card_parse_dt(cut, n, &ci, err), -1);
		free(cut);
	}
	/* Flipping any single byte never crashes; most are refused. */
	unsigned refused = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t *bad = malloc(len);
		memcpy(bad, blob, len);
		bad[i] ^= 0xFF;
		refused += fcap_card_parse_dt(bad, len, &ci, err) < 0;
		free(bad);
	}
	CU_ASSERT(refused > len / 2);
	free(blob);
}

int main(int argc, char **argv)
{
	dtb_path = argc > 1 ? argv[1] : "build/hw/fcap.dtb";
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("block", NULL, NULL);
	CU_add_test(s, "valid block and its records", test_valid_block);
	CU_add_test(s, "damaged blocks are rejected with the place named", test_damaged_blocks);
	CU_add_test(s, "truncated buffers", test_truncated_buffers);
	CU_add_test(s, "file writer trims blocks to pages", test_trimmed_len);
	CU_add_test(s, "device tree blob, truncated and corrupted", test_device_tree);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
