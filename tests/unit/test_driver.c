/*
 * test_driver.c - the kernel driver's checks of untrusted input, run in
 * user space under AddressSanitizer: driver/fcap_dt.c (the card's device
 * tree blob) and driver/fcap_check.c (ring geometry, mmap ranges, indices,
 * ioctl arguments). The module compiles the very same files.
 *
 * The device tree reader is judged against libfdt (what libfcap uses): on
 * the card's real blob, on blobs built with libfdt that miss or damage one
 * property at a time, on raw byte damage, and on every truncation and
 * single-bit flip of the real blob (nothing may read out of bounds; where
 * both parsers accept a damaged blob they must agree).
 *
 * Also libfcap's pcie backend where it needs no card: device names, and
 * opening something that is not an fcap device.
 *
 * usage: test_driver DTB
 */
#include <CUnit/Basic.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../../driver/fcap_check.h"
#include "../../driver/fcap_dt.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"
#include "fcap/uapi.h"

static uint8_t *real_dtb;
static size_t real_dtb_len;
static uint8_t *dtb_100g;        /* the 1 x 100G card's blob, when given */
static size_t dtb_100g_len;

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(1 << 16);
	*len = buf ? fread(buf, 1, 1 << 16, f) : 0;
	fclose(f);
	return buf;
}

/* Both parsers on the same bytes; returns which accepted (bit 0 ours, bit 1 libfdt). */
static int parse_both(const uint8_t *blob, size_t len, struct fcap_dt_info *ours, struct fcap_card_info *ref,
		      char *why)
{
	char err[FCAP_ERRBUF_SIZE];
	/* Exact-size copies, so that AddressSanitizer catches any read past the end. */
	uint8_t *a = malloc(len ? len : 1), *b = malloc(len ? len : 1);
	memcpy(a, blob, len);
	memcpy(b, blob, len);
	int ok = 0;
	if (fcap_dt_parse(a, len, ours, why) == 0)
		ok |= 1;
	if (len >= 4 && fcap_card_parse_dt(b, len, ref, err) == 0)
		ok |= 2;
	free(a);
	free(b);
	return ok;
}

static bool same_facts(const struct fcap_dt_info *o, const struct fcap_card_info *r)
{
	return o->format_version == r->format_version && o->clock_hz == r->clock_hz &&
	       o->max_snaplen == r->max_snaplen && o->rings == r->rings && o->max_blocks == r->max_blocks &&
	       o->min_block_size == r->min_block_size && o->max_block_size == r->max_block_size &&
	       o->block_align == r->block_align && o->nports == r->nports;
}

static void test_real_blob(void)
{
	struct fcap_dt_info o;
	struct fcap_card_info r;
	char why[FCAP_DT_WHY_LEN];
	CU_ASSERT_EQUAL_FATAL(parse_both(real_dtb, real_dtb_len, &o, &r, why), 3);
	CU_ASSERT_TRUE(same_facts(&o, &r));
	/* The facts the driver acts on, from hw/dts/fcap_4x10g.dts. */
	CU_ASSERT_EQUAL(o.clock_hz, 250000000u);
	CU_ASSERT_EQUAL(o.nports, 4u);
	CU_ASSERT_EQUAL(o.rings, 4u);
	CU_ASSERT_EQUAL(o.max_blocks, 512u);
}

/* The 1 x 100G card's blob (hw/dts/fcap_1x100g.dts): one port, eight rings,
 * a 312.5 MHz core; the driver reads what libfdt reads. */
static void test_100g_blob(void)
{
	struct fcap_dt_info o;
	struct fcap_card_info r;
	char why[FCAP_DT_WHY_LEN];
	CU_ASSERT_EQUAL_FATAL(parse_both(dtb_100g, dtb_100g_len, &o, &r, why), 3);
	CU_ASSERT_TRUE(same_facts(&o, &r));
	CU_ASSERT_EQUAL(o.clock_hz, 312500000u);
	CU_ASSERT_EQUAL(o.nports, 1u);
	CU_ASSERT_EQUAL(o.rings, 8u);
	CU_ASSERT_EQUAL(r.datapath_width, 512u);
	CU_ASSERT_EQUAL(r.ports[0].speed_mbps, 100000u);
	CU_ASSERT_EQUAL(r.ports[0].mac_clock_hz, 322265625u);
	CU_ASSERT_EQUAL(r.ports[0].fifo_bytes, 65536u);
}

/* ---- blobs built with libfdt, one property changed at a time ---------- */

enum variant {
	V_GOOD, V_NO_COMPAT, V_OTHER_COMPAT, V_NO_MAX_BLOCKS, V_WIDE_MAX_BLOCKS, V_NO_CLOCK, V_ZERO_CLOCK,
	V_MIN_GT_MAX, V_ALIGN_NOT_POW2, V_NO_PORTS, V_EMPTY_PORTS, V_PORTS_OUT_OF_ORDER, V_PORT_NO_REG,
	V_TWO_PORTS_THREE_RINGS, V_TWO_RING_NODES, V_TWO_PORTS_NODES,
};

static size_t build_blob(enum variant v, uint8_t *buf, size_t cap)
{
	CU_ASSERT_EQUAL_FATAL(fdt_create(buf, (int)cap), 0);
	fdt_finish_reservemap(buf);
	fdt_begin_node(buf, "");
	if (v == V_OTHER_COMPAT)
		fdt_property(buf, "compatible", "acme,card\0other", 16);
	else if (v != V_NO_COMPAT)
		fdt_property(buf, "compatible", "acme,first\0fcap,capture-card-v1", 32);
	fdt_property_string(buf, "model", "test");
	fdt_property_u32(buf, "fcap,format-version", 1);
	if (v != V_NO_CLOCK)
		fdt_property_u32(buf, "clock-frequency", v == V_ZERO_CLOCK ? 0 : 250000000);
	fdt_property_u32(buf, "fcap,datapath-width", 64);
	fdt_property_u32(buf, "fcap,max-snaplen", 9000);
	fdt_begin_node(buf, "ring");
	if (v == V_WIDE_MAX_BLOCKS)
		fdt_property_u64(buf, "fcap,max-blocks", 64);
	else if (v != V_NO_MAX_BLOCKS)
		fdt_property_u32(buf, "fcap,max-blocks", 64);
	fdt_property_u32(buf, "fcap,min-block-size", v == V_MIN_GT_MAX ? 1u << 22 : 1u << 16);
	fdt_property_u32(buf, "fcap,max-block-size", 1u << 21);
	fdt_property_u32(buf, "fcap,block-align", v == V_ALIGN_NOT_POW2 ? 3000 : 4096);
	if (v == V_TWO_PORTS_THREE_RINGS)
		fdt_property_u32(buf, "fcap,rings", 3);
	fdt_end_node(buf);
	if (v == V_TWO_RING_NODES) {
		/* A second /ring that says otherwise (found by fuzz_dt: libfdt
		 * read the first, the driver's walker the last). */
		fdt_begin_node(buf, "ring");
		fdt_property_u32(buf, "fcap,rings", 4);
		fdt_end_node(buf);
	}
	if (v == V_TWO_PORTS_NODES) {
		fdt_begin_node(buf, "ports");
		fdt_end_node(buf);
	}
	if (v != V_NO_PORTS) {
		fdt_begin_node(buf, "ports");
		fdt_property_u32(buf, "#address-cells", 1);
		unsigned n = v == V_EMPTY_PORTS ? 0 : v == V_TWO_PORTS_THREE_RINGS ? 2 : 1;
		for (unsigned p = 0; p < n; p++) {
			char name[16];
			snprintf(name, sizeof(name), "port@%u", p);
			fdt_begin_node(buf, name);
			if (v != V_PORT_NO_REG)
				fdt_property_u32(buf, "reg", v == V_PORTS_OUT_OF_ORDER ? 1 : p);
			fdt_property_string(buf, "label", "p");
			fdt_property_u32(buf, "fcap,speed-mbps", 10000);
			fdt_end_node(buf);
		}
		fdt_end_node(buf);
	}
	fdt_end_node(buf);
	CU_ASSERT_EQUAL_FATAL(fdt_finish(buf), 0);
	return fdt_totalsize(buf);
}

static void test_built_blobs(void)
{
	static const struct {
		enum variant v;
		const char *why;   /* NULL: accepted */
	} cases[] = {
		{ V_GOOD, NULL },
		{ V_TWO_PORTS_THREE_RINGS, NULL },
		{ V_NO_COMPAT, "not compatible" },
		{ V_OTHER_COMPAT, "not compatible" },
		{ V_NO_MAX_BLOCKS, "fcap,max-blocks is missing" },
		{ V_WIDE_MAX_BLOCKS, "fcap,max-blocks is 8 bytes" },
		{ V_NO_CLOCK, "clock-frequency is missing" },
		{ V_ZERO_CLOCK, "inconsistent values" },
		{ V_MIN_GT_MAX, "inconsistent values" },
		{ V_ALIGN_NOT_POW2, "inconsistent values" },
		{ V_NO_PORTS, "describes no port" },
		{ V_EMPTY_PORTS, "describes no port" },
		{ V_PORTS_OUT_OF_ORDER, "numbered 0, 1" },
		{ V_PORT_NO_REG, "has no reg" },
		{ V_TWO_RING_NODES, "a second /ring node" },
		{ V_TWO_PORTS_NODES, "a second /ports node" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[4096];
		size_t len = build_blob(cases[i].v, buf, sizeof(buf));
		struct fcap_dt_info o;
		struct fcap_card_info r;
		char why[FCAP_DT_WHY_LEN];
		int ok = parse_both(buf, len, &o, &r, why);
		if (!cases[i].why) {
			CU_ASSERT_EQUAL(ok, 3);
			CU_ASSERT_TRUE(same_facts(&o, &r));
		} else {
			CU_ASSERT_EQUAL(ok & 1, 0);
			CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].why));
			/* Duplicated nodes: libfcap must refuse them too. */
			if (cases[i].v == V_TWO_RING_NODES || cases[i].v == V_TWO_PORTS_NODES)
				CU_ASSERT_EQUAL(ok, 0);
			if (!strstr(why, cases[i].why))
				printf("\n  case %zu: '%s' lacks '%s'", i, why, cases[i].why);
		}
	}
	uint8_t buf[4096];
	struct fcap_dt_info o;
	char why[FCAP_DT_WHY_LEN];
	CU_ASSERT_EQUAL(fcap_dt_parse(buf, build_blob(V_TWO_PORTS_THREE_RINGS, buf, sizeof(buf)), &o, why), 0);
	CU_ASSERT_EQUAL(o.rings, 3u);
	CU_ASSERT_EQUAL(o.nports, 2u);
	CU_ASSERT_EQUAL(o.clock_hz, 250000000u);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Raw damage at known places of a libfdt-built blob: the structure block
 * starts with BEGIN_NODE "" (8 bytes), then the first PROP (compatible). */
static void test_raw_damage(void)
{
	static const struct {
		uint32_t where;    /* 0: header field at hdr_off; 1: structure block offset */
		uint32_t off, val;
		const char *why;
	} cases[] = {
		{ 0, 0, 0xd00dfeef, "bad magic" },
		{ 0, 4, 0x10000, "totalsize" },
		{ 0, 4, 8, "totalsize" },
		{ 0, 8, 0xFFFFFFF0, "structure block lies outside" },
		{ 0, 36, 0x7FFFFFFF, "structure block lies outside" },
		{ 0, 12, 0xFFFFFF00, "strings block lies outside" },
		{ 0, 24, 18, "newer than 17" },
		{ 1, 0, 7, "unknown token" },
		{ 1, 0, 2, "END_NODE without a node" },
		{ 1, 12, 0xFFFFFFF0, "property value runs past" },
		{ 1, 16, 0x00FFFFFF, "property name lies outside" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[4096];
		size_t len = build_blob(V_GOOD, buf, sizeof(buf));
		uint32_t st = fdt_off_dt_struct(buf);
		put_be32(buf + (cases[i].where ? st : 0) + cases[i].off, cases[i].val);
		struct fcap_dt_info o;
		char why[FCAP_DT_WHY_LEN];
		uint8_t *exact = malloc(len);
		memcpy(exact, buf, len);
		CU_ASSERT_EQUAL(fcap_dt_parse(exact, len, &o, why), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].why));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "byte offset"));
		if (!strstr(why, cases[i].why))
			printf("\n  case %zu: '%s' lacks '%s'", i, why, cases[i].why);
		free(exact);
	}
	/* The END token turned into a NOP: the walk must stop at the block's end. */
	uint8_t buf[4096];
	size_t len = build_blob(V_GOOD, buf, sizeof(buf));
	put_be32(buf + fdt_off_dt_struct(buf) + fdt_size_dt_struct(buf) - 4, 4);
	struct fcap_dt_info o;
	char why[FCAP_DT_WHY_LEN];
	CU_ASSERT_EQUAL(fcap_dt_parse(buf, len, &o, why), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no END token"));
}

static void test_truncations_and_flips(void)
{
	struct fcap_dt_info o;
	struct fcap_card_info r;
	char why[FCAP_DT_WHY_LEN];
	for (size_t len = 0; len < real_dtb_len; len++)
		CU_ASSERT_EQUAL(parse_both(real_dtb, len, &o, &r, why) & 1, 0);
	unsigned both = 0, disagree = 0;
	uint8_t *copy = malloc(real_dtb_len);
	for (size_t i = 0; i < real_dtb_len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, real_dtb, real_dtb_len);
			copy[i] ^= (uint8_t)(1u << bit);
			if (parse_both(copy, real_dtb_len, &o, &r, why) == 3) {
				both++;
				disagree += !same_facts(&o, &r);
			}
		}
	}
	free(copy);
	CU_ASSERT_EQUAL(disagree, 0);
	CU_ASSERT_TRUE(both > 0); /* flips in values and unused names are accepted by both */
}

/* ---- fcap_check.c -------------------------------------------------------- */

static void test_geometry(void)
{
	struct fcap_dt_info dt;
	char why[FCAP_DT_WHY_LEN];
	CU_ASSERT_EQUAL_FATAL(fcap_dt_parse(real_dtb, real_dtb_len, &dt, why), 0);
	static const struct {
		uint32_t blocks, size;
		int rc;
	} cases[] = {
		/* four rings share the 512-entry block table: 128 blocks each at most */
		{ 16, 1u << 20, 0 },           { 2, 65536, 0 },         { 128, 4u << 20, 0 },
		{ 1, 1u << 20, -EINVAL },      { 129, 1u << 20, -EINVAL }, { 0, 1u << 20, -EINVAL },
		{ 16, 32768, -EINVAL },        { 16, 65536 + 100, -EINVAL }, { 16, 8u << 20, -EINVAL },
		{ 16, 0, -EINVAL },            { 16, (4u << 20) + 4096, -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		CU_ASSERT_EQUAL(fcap_check_geometry(&dt, cases[i].blocks, cases[i].size, 4096, why), cases[i].rc);
		if (cases[i].rc)
			CU_ASSERT_TRUE(strstr(why, "blocks=") || strstr(why, "block_size="));
	}
	/* A card whose largest frame does not fit the smallest block. */
	dt.max_snaplen = 65536;
	CU_ASSERT_EQUAL(fcap_check_geometry(&dt, 16, 65536, 4096, why), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "cannot hold"));

	static const struct {
		uint32_t size, nblocks, max, want;
	} chunks[] = {
		{ 1u << 20, 16, FCAP_MAX_CHUNK, 4 }, { 4u << 20, 16, FCAP_MAX_CHUNK, 1 },
		{ 65536, 16, FCAP_MAX_CHUNK, 16 },   { 65536, 100, FCAP_MAX_CHUNK, 64 },
		{ 8u << 20, 4, FCAP_MAX_CHUNK, 1 },
	};
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		CU_ASSERT_EQUAL(fcap_chunk_blocks(chunks[i].size, chunks[i].nblocks, chunks[i].max), chunks[i].want);
}

static void test_map_find(void)
{
	/* 10 blocks of 1 MiB in chunks of 4: 4 MiB, 4 MiB, 2 MiB; status page at 0. */
	const struct fcap_map_layout l = {
		.status_offset = 0, .status_len = 4096, .blocks_offset = 4096,
		.nblocks = 10, .block_size = 1u << 20, .chunk_blocks = 4,
	};
	const uint64_t M = 1u << 20, B = 4096;
	static const uint32_t S = FCAP_MAP_STATUS;
	const struct {
		uint64_t off, len;
		int rc;
		uint32_t chunk;
		uint64_t skip;
	} cases[] = {
		{ 0, 4096, 0, S, 0 },
		{ 0, 8192, -EINVAL, 0, 0 },            /* status page and block 0 in one map */
		{ 2048, 4096, -EINVAL, 0, 0 },         /* starts inside the status page, ends past it */
		{ B, 4 * M, 0, 0, 0 },
		{ B + M, M, 0, 0, M },                /* part of a chunk */
		{ B, 4 * M + 4096, -EINVAL, 0, 0 },     /* crosses into chunk 1 */
		{ B + 4 * M, 4 * M, 0, 1, 0 },
		{ B + 8 * M, 2 * M, 0, 2, 0 },
		{ B + 8 * M, 4 * M, -EINVAL, 0, 0 },    /* the last chunk is shorter */
		{ B + 10 * M, 4096, -EINVAL, 0, 0 },    /* past the ring */
		{ 1ull << 50, 4096, -EINVAL, 0, 0 },
		{ UINT64_MAX - 4095, 8192, -EINVAL, 0, 0 }, /* off + len wraps */
		{ B, 0, -EINVAL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t chunk = 12345;
		u64 skip = 12345;
		int rc = fcap_map_find(&l, cases[i].off, cases[i].len, &chunk, &skip);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0) {
			CU_ASSERT_EQUAL(chunk, cases[i].chunk);
			CU_ASSERT_EQUAL(skip, cases[i].skip);
		}
	}
}

static void test_release(void)
{
	static const struct {
		uint32_t cons, prod, nblocks, next;
		int rc;
	} cases[] = {
		{ 0, 0, 16, 0, 0 },             { 0, 0, 16, 1, -EINVAL },   /* nothing published */
		{ 0, 3, 16, 2, 0 },             { 0, 3, 16, 3, 0 },
		{ 0, 3, 16, 4, -EINVAL },       { 10, 10, 16, 9, -EINVAL }, /* back */
		{ 0, 16, 16, 16, 0 },           /* a full ring is legal */
		{ 0xFFFFFFFEu, 1, 16, 0, 0 },   /* across the wrap */
		{ 0xFFFFFFFEu, 1, 16, 2, -EINVAL },
		{ 5, 3, 16, 5, -EIO },          /* producer behind consumer: the card lies */
		{ 0, 17, 16, 1, -EIO },         /* more published than the ring holds */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(fcap_check_release(cases[i].cons, cases[i].prod, cases[i].nblocks, cases[i].next),
				cases[i].rc);
}

static void test_timeout_clocks(void)
{
	static const struct {
		uint64_t ns;
		uint32_t hz, want;
	} cases[] = {
		{ 0, 312500000, 0 },
		{ 1, 312500000, 1 },                   /* rounds down to 0: at least one clock */
		{ 10000000, 312500000, 3125000 },      /* 10 ms */
		{ 1000000000, 312500000, 312500000 },
		{ 1500000000, 156250000, 234375000 },
		{ 20000000000ull, 312500000, 0xFFFFFFFFu }, /* saturates */
		{ UINT64_MAX, 312500000, 0xFFFFFFFFu },
		{ UINT64_MAX, 1, 0xFFFFFFFFu },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(fcap_timeout_clocks(cases[i].ns, cases[i].hz), cases[i].want);
}

static void test_ioctl_args(void)
{
	/* Every word of every reserved field must be zero, flags known. */
	struct fcap_ioc_start s = { 0 };
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), 0);
	s.snaplen = 16384;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), 0);
	s.snaplen = 16385;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), -EINVAL);
	s.snaplen = 0;
	s.flags = FCAP_START_HASH;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), 0);
	for (uint32_t bit = 1; bit; bit <<= 1) {
		s.flags = bit;
		CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), bit & FCAP_START_FLAGS ? 0 : -EINVAL);
	}
	s.flags = 0;
	/* Interrupt moderation: a count up to the ring's blocks, a delay up to 1 s. */
	s.irq_blocks = 64;
	s.irq_usecs = FCAP_MAX_IRQ_USECS;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), 0);
	s.irq_blocks = 65;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), -EINVAL);
	s.irq_blocks = 64;
	s.irq_usecs = FCAP_MAX_IRQ_USECS + 1;
	CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), -EINVAL);
	s.irq_blocks = s.irq_usecs = 0;
	for (size_t i = 0; i < sizeof(s.reserved) / sizeof(s.reserved[0]); i++) {
		s.reserved[i] = 0x80000000u;
		CU_ASSERT_EQUAL(fcap_check_start_args(&s, 16384, 64), -EINVAL);
		s.reserved[i] = 0;
	}
	struct fcap_ioc_stop st = { 0 };
	CU_ASSERT_EQUAL(fcap_check_stop_args(&st), 0);
	st.reserved[2] = 1;
	CU_ASSERT_EQUAL(fcap_check_stop_args(&st), -EINVAL);
	struct fcap_ioc_release rel = { .ring = 0, .cons = 5 };
	CU_ASSERT_EQUAL(fcap_check_release_args(&rel, 1), 0);
	rel.ring = 1;
	CU_ASSERT_EQUAL(fcap_check_release_args(&rel, 1), -EINVAL);
	rel.ring = 0;
	rel.reserved[1] = 1;
	CU_ASSERT_EQUAL(fcap_check_release_args(&rel, 1), -EINVAL);
	struct fcap_ioc_ring ring = { 0 };
	CU_ASSERT_EQUAL(fcap_check_ring_args(&ring, 1), 0);
	ring.ring = 0xFFFFFFFFu;
	CU_ASSERT_EQUAL(fcap_check_ring_args(&ring, 1), -EINVAL);
	ring.ring = 0;
	ring.reserved[5] = 1;
	CU_ASSERT_EQUAL(fcap_check_ring_args(&ring, 1), -EINVAL);
	struct fcap_ioc_dt dt = { .len = 10 };
	CU_ASSERT_EQUAL(fcap_check_dt_args(&dt), 0);
	dt.reserved[3] = 1;
	CU_ASSERT_EQUAL(fcap_check_dt_args(&dt), -EINVAL);
	struct fcap_ioc_counters c = { 0 };
	CU_ASSERT_EQUAL(fcap_check_counters_args(&c), 0);
	c.reserved[3] = 1;
	CU_ASSERT_EQUAL(fcap_check_counters_args(&c), -EINVAL);
}

/* The ioctl ABI: sizes fixed (same on 32- and 64-bit), encoded in the numbers. */
static void test_uapi_layout(void)
{
	static const struct {
		unsigned long cmd;
		size_t size, want;
	} cases[] = {
		{ FCAP_IOC_INFO, sizeof(struct fcap_ioc_info), 64 },
		{ FCAP_IOC_GET_DT, sizeof(struct fcap_ioc_dt), 32 },
		{ FCAP_IOC_RING, sizeof(struct fcap_ioc_ring), 72 },
		{ FCAP_IOC_START, sizeof(struct fcap_ioc_start), 32 },
		{ FCAP_IOC_STOP, sizeof(struct fcap_ioc_stop), 16 },
		{ FCAP_IOC_RELEASE, sizeof(struct fcap_ioc_release), 16 },
		{ FCAP_IOC_COUNTERS, sizeof(struct fcap_ioc_counters), 64 + 16 * 48 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(cases[i].size, cases[i].want);
		CU_ASSERT_EQUAL(_IOC_SIZE(cases[i].cmd), cases[i].size);
		CU_ASSERT_EQUAL(_IOC_TYPE(cases[i].cmd), FCAP_IOC_MAGIC);
		CU_ASSERT_EQUAL(_IOC_NR(cases[i].cmd), i);
	}
}

/* ---- libfcap's pcie backend without a card ------------------------------ */

static void test_pcie_names(void)
{
	static const struct {
		const char *name;
		int rc;
		const char *path;
	} cases[] = {
		{ "/dev/fcap0", 1, "/dev/fcap0" }, { "/dev/fcap12", 1, "/dev/fcap12" }, { "pcie:3", 1, "/dev/fcap3" },
		{ "pcie:007", 1, "/dev/fcap7" },   { "sim", 0, NULL },                   { "/dev/null", 0, NULL },
		{ "pcie:", -1, NULL },             { "pcie:x", -1, NULL },               { "/dev/fcap", -1, NULL },
		{ "pcie:256", -1, NULL },          { "/dev/fcap0x", -1, NULL },          { "pcie:-1", -1, NULL },
		{ "pcie: 1", -1, NULL },           { "pcie:99999999999999999999", -1, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[64] = "", err[FCAP_ERRBUF_SIZE] = "";
		int rc = fcap_dev_pcie_path(cases[i].name, path, sizeof(path), err);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (cases[i].rc == 1)
			CU_ASSERT_STRING_EQUAL(path, cases[i].path);
		if (cases[i].rc < 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].name));
	}
}

static void test_pcie_open_errors(void)
{
	static const struct {
		const char *path;
		bool control;
		const char *why;
	} cases[] = {
		{ "/nonexistent/fcap0", true, "no such device" },
		{ "/dev/null", false, "not an fcap device" },   /* opens, but the ioctl is not ours */
		{ "/dev/zero", true, "not an fcap device" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[FCAP_ERRBUF_SIZE] = "";
		struct fcap_dev *dev = fcap_dev_open_pcie(cases[i].path, cases[i].control, err);
		CU_ASSERT_PTR_NULL(dev);
		if (dev)
			fcap_dev_close(dev);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].path));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].why));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: test_driver DTB [DTB_1X100G]\n");
		return 2;
	}
	real_dtb = read_file(argv[1], &real_dtb_len);
	if (!real_dtb || real_dtb_len == 0) {
		fprintf(stderr, "test_driver: cannot read %s\n", argv[1]);
		return 2;
	}
	if (argc == 3 && (!(dtb_100g = read_file(argv[2], &dtb_100g_len)) || dtb_100g_len == 0)) {
		fprintf(stderr, "test_driver: cannot read %s\n", argv[2]);
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite dt = CU_add_suite("driver device tree reader", NULL, NULL);
	CU_add_test(dt, "the card's blob, same facts as libfdt", test_real_blob);
	if (dtb_100g)
		CU_add_test(dt, "the 1x100G card's blob, same facts as libfdt", test_100g_blob);
	CU_add_test(dt, "blobs missing or damaging one property", test_built_blobs);
	CU_add_test(dt, "raw damage names what and where", test_raw_damage);
	CU_add_test(dt, "every truncation and bit flip of the card's blob", test_truncations_and_flips);
	CU_pSuite ck = CU_add_suite("driver checks", NULL, NULL);
	CU_add_test(ck, "ring geometry from module parameters", test_geometry);
	CU_add_test(ck, "mmap ranges", test_map_find);
	CU_add_test(ck, "consumer index updates", test_release);
	CU_add_test(ck, "block timeout in card clocks", test_timeout_clocks);
	CU_add_test(ck, "ioctl arguments: flags, reserved, ranges", test_ioctl_args);
	CU_add_test(ck, "uapi layout", test_uapi_layout);
	CU_pSuite pc = CU_add_suite("libfcap pcie backend without a card", NULL, NULL);
	CU_add_test(pc, "device names", test_pcie_names);
	CU_add_test(pc, "opening what is not an fcap device", test_pcie_open_errors);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	free(real_dtb);
	free(dtb_100g);
	return failed ? 1 : 0;
}
