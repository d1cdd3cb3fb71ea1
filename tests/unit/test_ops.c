/*
 * test_ops.c - the pieces an operator relies on: the drop-stages line
 * (format, parse, damage), its Prometheus exposition, and the pcap
 * backend's ring blocks, checked by the same validator the consumer uses.
 *
 * usage: test_ops PCAP...   (capture files the pcap backend reads; the
 * blocks are 128 KiB in a ring of 4, so a file over 512 KiB makes it wrap
 * and the reader wait for the consumer: nothing may be dropped). Also the
 * fleet's extract request: parsed as sent, every malformed one refused.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>

#include "fcap/block.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"
#include "fcap/crc32c.h"
#include "fcap/dev.h"
#include "fcap/fleet.h"
#include "fcap/fleet_extract.h"
#include "fcap/pcap_reader.h"
#include "fcap/ring.h"
#include "fcap/stages.h"

static const char *pcap_path;
static char **pcap_paths;
static int npcap;

static void test_stages_round_trip(void)
{
	struct fcap_stages in = { .received = 1000, .captured = 990, .bytes = 123456789012ull, .wire = 3,
				  .card_fifo = 4, .ring_full = 2, .host = 1, .disk_backlog = 3, .filter = 77 };
	char line[512], err[FCAP_ERRBUF_SIZE];
	fcap_stages_format(&in, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "fcap stages: received=1000 captured=990 bytes=123456789012 wire=3 card_fifo=4 "
				     "ring_full=2 host=1 disk_backlog=3 filter=77");
	struct fcap_stages out;
	CU_ASSERT_EQUAL(fcap_stages_parse(line, &out, err), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, sizeof(in)), 0);
	/* A newer fcap's extra key is skipped; a trailing newline is fine. */
	strcat(line, " future=5\n");
	CU_ASSERT_EQUAL(fcap_stages_parse(line, &out, err), 0);
	CU_ASSERT_EQUAL(out.filter, 77);
}

static void test_stages_damage(void)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
		{ "", "not an fcap stages line" },
		{ "fcap stage: received=1", "not an fcap stages line" },
		{ "fcap stages: received=1 captured=1 bytes=1 wire=0 card_fifo=0 ring_full=0 host=0 disk_backlog=0",
		  "'filter' is missing" },
		{ "fcap stages: received=x captured=1", "'received': not a count" },
		{ "fcap stages: received=-1", "'received': not a count" },
		{ "fcap stages: received=12ab", "'received': not a count" },
		{ "fcap stages: received", "expected KEY=COUNT" },
		{ "fcap stages:received=1", "unexpected 'received=1'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fcap_stages sg;
		char err[FCAP_ERRBUF_SIZE] = "";
		CU_ASSERT_EQUAL(fcap_stages_parse(cases[i].line, &sg, err), -1);
		if (!strstr(err, cases[i].why))
			fprintf(stderr, "\n  case %zu: '%s': got '%s', want '%s'\n", i, cases[i].line, err, cases[i].why);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].why));
	}
}

static void test_prometheus(void)
{
	struct fcap_stages sg = { .received = 5, .captured = 4, .bytes = 400, .card_fifo = 1, .filter = 9 };
	char text[4096];
	int n = fcap_stages_prometheus(&sg, "eth0", text, sizeof(text));
	CU_ASSERT(n > 0 && (size_t)n == strlen(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "fcap_received_frames_total{device=\"eth0\"} 5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "fcap_dropped_frames_total{device=\"eth0\",stage=\"card_fifo\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "fcap_dropped_frames_total{device=\"eth0\",stage=\"filter\"} 9\n"));
	/* Every length short of the whole text is refused, never cut. */
	for (size_t len = 0; len <= (size_t)n; len += 7)
		CU_ASSERT_EQUAL(fcap_stages_prometheus(&sg, "eth0", text, len), -1);
	CU_ASSERT_EQUAL(fcap_stages_prometheus(&sg, "eth0", text, (size_t)n + 1), n);
}

/* Reads the whole file through the backend with small blocks; every block
 * must pass the consumer's validation and the records must be the file's. */
static void one_file_blocks(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_pcap_dev_config pc = { .file = pcap_path };
	struct fcap_dev *dev = fcap_dev_open_pcap(&pc, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	struct fcap_card_info ci;
	CU_ASSERT_EQUAL_FATAL(fcap_card_read_info(dev, &ci, err), 0);
	CU_ASSERT_EQUAL(ci.nports, 1);
	struct fcap_ring_config cfg = { .blocks = 4, .block_size = 128 * 1024, .timeout_ns = 1000000 };
	struct fcap_ring ring;
	memset(&ring, 0, sizeof(ring));
	CU_ASSERT_EQUAL_FATAL(fcap_rings_setup(&ring, 1, dev, &ci, &cfg, err), 0);
	CU_ASSERT_EQUAL_FATAL(fcap_card_start(dev, &ci, &cfg, err), 0);

	struct fcap_pcap_reader *rd = fcap_pcap_open(pcap_path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	uint64_t records = 0, mismatches = 0, blocks = 0;
	/* Records are in the unit the device declares: ns, or us for a
	 * classic microsecond pcap (if_tsresol 6). */
	uint64_t ts_scale = ci.ts_resol == 6 ? 1000u : 1u;
	CU_ASSERT(ci.ts_resol == 6 || ci.ts_resol == 9);
	bool done = false;
	while (!done) {
		done = dev->ops->source_done(dev);
		if (done)
			CU_ASSERT_EQUAL(fcap_card_stop(dev, err), 0);
		uint8_t *blk;
		while (fcap_ring_peek(&ring, &blk, err) > 0) {
			struct fcap_block_info bi;
			int ok = fcap_block_check(blk, ring.block_size, ring.cons, 1, &bi, err);
			CU_ASSERT_EQUAL(ok, 0);
			if (ok < 0) {
				fprintf(stderr, "\n  block %u: %s\n", ring.cons, err);
				done = true;
				break;
			}
			struct fcap_record r;
			size_t off = 0;
			while (fcap_block_next(blk, &bi, 1, &off, &r, err) > 0) {
				struct fcap_pkt p;
				if (fcap_pcap_next(rd, &p, err) != 1 || p.caplen != r.caplen || p.origlen != r.origlen ||
				    memcmp(p.data, r.data, r.caplen) || p.ts_ns != r.ts * ts_scale)
					mismatches++;
				records++;
			}
			blocks++;
			CU_ASSERT_EQUAL(fcap_ring_release(&ring, err), 0);
		}
		if (!done)
			CU_ASSERT_EQUAL(dev->ops->wait(dev, 1000000, err), 0);
	}
	struct fcap_pkt p;
	CU_ASSERT_EQUAL(fcap_pcap_next(rd, &p, err), 0); /* every packet of the file was in a block */
	CU_ASSERT(records > 0);
	CU_ASSERT(blocks >= 1);
	CU_ASSERT_EQUAL(mismatches, 0);
	struct fcap_card_counters c;
	CU_ASSERT_EQUAL(fcap_card_counters(dev, ci.nports, &c, err), 0);
	CU_ASSERT_EQUAL(c.port[0].rx_frames, records);
	CU_ASSERT_EQUAL(c.records, records);
	printf("(%s: %llu records in %llu blocks) ", strrchr(pcap_path, '/') ? strrchr(pcap_path, '/') + 1 : pcap_path,
	       (unsigned long long)records, (unsigned long long)blocks);
	fcap_pcap_close(rd);
	fcap_rings_teardown(&ring, 1);
	fcap_dev_close(dev);
}

static void test_pcap_backend_blocks(void)
{
	for (int i = 0; i < npcap; i++) {
		pcap_path = pcap_paths[i];
		one_file_blocks();
	}
	pcap_path = pcap_paths[0];
}

static void test_pcap_backend_refuses(void)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_pcap_dev_config none = { 0 };
	CU_ASSERT_PTR_NULL(fcap_dev_open_pcap(&none, err));
	struct fcap_pcap_dev_config missing = { .file = "/nonexistent/x.pcap" };
	CU_ASSERT_PTR_NULL(fcap_dev_open_pcap(&missing, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.pcap"));
	struct fcap_pcap_dev_config bad_filter = { .file = pcap_path, .filter = "tcp port" };
	CU_ASSERT_PTR_NULL(fcap_dev_open_pcap(&bad_filter, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "filter 'tcp port'"));
	/* A block too small for one frame of the snap length is refused at set-up. */
	struct fcap_pcap_dev_config pc = { .file = pcap_path };
	struct fcap_dev *dev = fcap_dev_open_pcap(&pc, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	struct fcap_card_info ci;
	CU_ASSERT_EQUAL(fcap_card_read_info(dev, &ci, err), 0);
	struct fcap_ring_config cfg = { .blocks = 4, .block_size = 65536 };
	struct fcap_ring ring;
	memset(&ring, 0, sizeof(ring));
	CU_ASSERT_EQUAL(fcap_rings_setup(&ring, 1, dev, &ci, &cfg, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "block size 65536"));
	fcap_dev_close(dev);
}

static void test_fleet_request(void)
{
	char err[FCAP_ERRBUF_SIZE], *filter = NULL;
	struct fcap_query q;
	static const char good[] = "from 1700000000000000000\nto 1700000001000000000\nhost 10.0.0.1\nport 443\n"
				   "flow 10.0.0.1:80>10.0.0.2:4242/tcp\ncount 5\nfilter tcp and not port 22\n";
	CU_ASSERT_EQUAL_FATAL(fcap_fleet_request_parse(good, strlen(good), &q, &filter, err), 0);
	CU_ASSERT(q.has_from && q.from_ns == 1700000000000000000ull);
	CU_ASSERT(q.has_to && q.to_ns == 1700000001000000000ull);
	CU_ASSERT_EQUAL(q.nhosts, 1);
	CU_ASSERT(q.nports == 1 && q.ports[0] == 443);
	CU_ASSERT(q.has_flow && q.flow.proto == 6 && q.flow.aport == 80 && q.flow.bport == 4242);
	CU_ASSERT_EQUAL(q.count, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q.filter);
	CU_ASSERT_STRING_EQUAL(q.filter, "tcp and not port 22");
	CU_ASSERT_EQUAL(q.format, FCAP_OUT_PCAPNG);
	free(filter);
	CU_ASSERT_EQUAL(fcap_fleet_request_parse("", 0, &q, &filter, err), 0);   /* everything */
	CU_ASSERT(!q.has_from && !q.has_to && !q.filter);

	static const struct { const char *req, *why; } bad[] = {
		{ "frob 1\n", "unknown key 'frob'" },
		{ "from\n", "want KEY VALUE" },
		{ "from -5\n", "want nanoseconds" },
		{ "from 99999999999999999999999\n", "want nanoseconds" },
		{ "port 65536\n", "want 0..65535" },
		{ "count 0\n", "want a number above 0" },
		{ "from 20\nto 10\n", "to must be after from" },
		{ "host 10.0.0.300\n", "10.0.0.300" },
		{ "filter tcp port\n", "" },
		{ "filter tcp\nfilter udp\n", "more than one filter" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		filter = (char *)1;
		CU_ASSERT_EQUAL(fcap_fleet_request_parse(bad[i].req, strlen(bad[i].req), &q, &filter, err), -1);
		CU_ASSERT_PTR_NULL(filter);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
		if (!strstr(err, bad[i].why))
			printf("\n  request '%s': '%s' lacks '%s'\n", bad[i].req, err, bad[i].why);
	}
	static const char nul[] = "port 1\0port 2\n";
	CU_ASSERT_EQUAL(fcap_fleet_request_parse(nul, sizeof(nul) - 1, &q, &filter, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	char *big = malloc(FCAP_FLEET_REQUEST_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', FCAP_FLEET_REQUEST_MAX + 1);
	CU_ASSERT_EQUAL(fcap_fleet_request_parse(big, FCAP_FLEET_REQUEST_MAX + 1, &q, &filter, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at most"));
	free(big);
}

static void spool_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static bool spool_has(const char *dir, const char *name)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0;
}

/* A spool of an earlier fcap (one file per message) left damaged: each bad
 * file said and set aside, none holding up the good message after it; a
 * crash's partial write removed; a damaged counter or file name never makes
 * ids start over (the new message goes to a segment after every id seen).
 * The cluster is away (nothing listens): the bad files never get that far. */
static void test_fleet_spool_damage(void)
{
	char dir[] = "/tmp/fcap-test-spool-XXXXXX", err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	spool_file(dir, "00000000000000000001.msg", "bogus\n{\"a\":1}");   /* no such kind */
	spool_file(dir, "00000000000000000002.msg", "");                       /* empty */
	spool_file(dir, "00000000000000000003.msg", "alert");                  /* no kind line */
	spool_file(dir, "00000000000000000005.msg", "alert\n{\"good\":1}");
	spool_file(dir, "00000000000000000004.msg.tmp", "alert\n{\"par");    /* a crash's partial write */
	spool_file(dir, "99999999999999999999.msg", "alert\n{}");             /* beyond 64 bits */
	spool_file(dir, "next", "-1\n");
	struct fcap_fleet_config cfg = { .servers = "nats://127.0.0.1:1", .sensor = "t1", .spool_dir = dir };
	struct fcap_fleet *f = fcap_fleet_open(&cfg, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct fcap_fleet_stats st;
	for (int i = 0; i < 200; i++) {   /* 2 s at most */
		fcap_fleet_stats(f, &st);
		if (st.corrupt >= 5)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL(st.corrupt, 5);   /* the three files, the name, the counter */
	CU_ASSERT_EQUAL(st.spooled, 1);   /* the good one, waiting for the cluster */
	CU_ASSERT(strstr(st.spool_error, "spool file") != NULL);
	CU_ASSERT_EQUAL(fcap_fleet_put(f, "alert", "{}", 2, err), 0);
	CU_ASSERT(spool_has(dir, "00000000000000000006.seg"));   /* after every id seen */
	CU_ASSERT(spool_has(dir, "00000000000000000001.msg.bad"));
	CU_ASSERT(spool_has(dir, "00000000000000000002.msg.bad"));
	CU_ASSERT(spool_has(dir, "00000000000000000003.msg.bad"));
	CU_ASSERT(spool_has(dir, "99999999999999999999.msg.bad"));
	CU_ASSERT(spool_has(dir, "00000000000000000005.msg"));
	CU_ASSERT(!spool_has(dir, "00000000000000000004.msg.tmp"));
	fcap_fleet_close(f);
	nats_CloseAndWait(2000);
	static const char *const names[] = { "00000000000000000001.msg.bad", "00000000000000000002.msg.bad",
					     "00000000000000000003.msg.bad", "99999999999999999999.msg.bad",
					     "00000000000000000005.msg", "00000000000000000006.seg", "next", "acked" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One spool record as docs/FLEET.md describes it, made by hand: its bytes. */
static size_t spool_rec(uint8_t *b, uint64_t seq, int kind, const char *msg)
{
	uint32_t len = (uint32_t)strlen(msg);
	memcpy(b, "FSR1", 4);
	put_le(b + 4, len, 4);
	put_le(b + 8, seq, 8);
	memset(b + 16, 0, 4);
	b[16] = (uint8_t)kind;
	memcpy(b + 24, msg, len);
	put_le(b + 20, fcap_crc32c(fcap_crc32c(0, b + 4, 16), msg, len), 4);
	return 24 + len;
}

static void spool_bytes(const char *dir, const char *name, const void *b, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* The progress file: every message up to seq acknowledged (slot 0). */
static void spool_acked(const char *dir, uint64_t seq)
{
	uint8_t s[64] = { 0 };
	memcpy(s, "FCAPACK1", 8);
	put_le(s + 8, 2, 8);
	put_le(s + 16, seq, 8);
	put_le(s + 24, fcap_crc32c(0, s, 24), 4);
	spool_bytes(dir, "acked", s, sizeof(s));
}

static void rm_spool(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Opens dir with nothing listening, and waits for the open's findings. */
static struct fcap_fleet *open_damaged(const char *dir, uint64_t corrupt, struct fcap_fleet_stats *st)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_fleet_config cfg = { .servers = "nats://127.0.0.1:1", .sensor = "t2", .spool_dir = dir };
	struct fcap_fleet *f = fcap_fleet_open(&cfg, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < 200; i++) {   /* 2 s at most */
		fcap_fleet_stats(f, st);
		if (st->corrupt >= corrupt)
			break;
		usleep(10000);
	}
	return f;
}

/* Segments an earlier run left damaged: a record with a bad checksum, one
 * cut short at the end (a crash), a garbage file named as a segment, a
 * damaged progress file: each found at open, named and counted; every
 * whole message after them still waits to be sent (never blocked); the
 * leftovers of writes a crash cut short removed; new ids after every id
 * seen. The cluster is away. */
static void test_fleet_segment_damage(void)
{
	char dir[] = "/tmp/fcap-test-seg-XXXXXX", err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	uint8_t a[1024], garbage[300];
	size_t n = spool_rec(a, 1, 0, "{\"n\":1}");           /* acknowledged already */
	size_t bad = n;
	n += spool_rec(a + n, 2, 1, "{\"n\":2}");
	a[bad + 30] ^= 0x20;                                  /* its checksum no longer matches */
	n += spool_rec(a + n, 3, 0, "{\"n\":3}");             /* whole: waits */
	n += spool_rec(a + n, 4, 2, "{\"n\":4,\"cut\":1}") - 7; /* cut short */
	spool_bytes(dir, "00000000000000000001.seg", a, n);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	spool_bytes(dir, "00000000000000000005.seg", garbage, sizeof(garbage));
	uint8_t c[256];
	size_t m = spool_rec(c, 6, 1, "{\"n\":6}");
	m += spool_rec(c + m, 7, 0, "{\"n\":7}");
	spool_bytes(dir, "00000000000000000006.seg", c, m);
	spool_acked(dir, 1);
	spool_file(dir, "next.tmp", "12");
	spool_file(dir, "00000000000000000009.msg.tmp", "alert\n{");
	spool_file(dir, "00000000000000000011.msg.bad.tmp", "alert\n{");  /* a set-aside cut short */
	struct fcap_fleet_stats st;
	struct fcap_fleet *f = open_damaged(dir, 3, &st);
	CU_ASSERT_EQUAL(st.corrupt, 3);   /* the bad checksum, the cut record, the garbage file */
	CU_ASSERT_EQUAL(st.spooled, 3);   /* 3, 6 and 7 wait for the cluster */
	CU_ASSERT_PTR_NOT_NULL(strstr(st.spool_error, "spool segment"));
	CU_ASSERT(!spool_has(dir, "next.tmp"));
	CU_ASSERT(!spool_has(dir, "00000000000000000009.msg.tmp"));
	CU_ASSERT(!spool_has(dir, "00000000000000000011.msg.bad.tmp"));
	CU_ASSERT_EQUAL(fcap_fleet_put(f, "alert", "{}", 2, err), 0);
	CU_ASSERT(spool_has(dir, "00000000000000000008.seg"));   /* after every id seen */
	fcap_fleet_stats(f, &st);
	CU_ASSERT_EQUAL(st.spooled, 4);
	fcap_fleet_close(f);
	struct fcap_fleet_spool_info in;
	CU_ASSERT_EQUAL_FATAL(fcap_fleet_spool_info(dir, &in, err), 0);
	CU_ASSERT_EQUAL(in.waiting, 4);
	CU_ASSERT_EQUAL(in.segments, 4);
	CU_ASSERT_EQUAL(in.damaged, 3);
	CU_ASSERT_EQUAL(in.progress, 1);
	/* a progress file that cannot be read: said, and everything goes again */
	spool_file(dir, "acked", "garbage");
	f = open_damaged(dir, 4, &st);
	CU_ASSERT_EQUAL(st.corrupt, 4);
	CU_ASSERT_EQUAL(st.spooled, 5);   /* 1 too, this time */
	fcap_fleet_close(f);
	nats_CloseAndWait(2000);
	rm_spool(dir);
}

static void test_fleet_request_alert(void)
{
	char err[FCAP_ERRBUF_SIZE], *filter = NULL, alert[FCAP_FLEET_ALERT_MAX + 1];
	struct fcap_query q;
	static const char good[] = "alert 1874ab89eb8a8787\n";
	CU_ASSERT_EQUAL_FATAL(fcap_fleet_request_parse_alert(good, strlen(good), &q, &filter, alert, err), 0);
	CU_ASSERT_STRING_EQUAL(alert, "1874ab89eb8a8787");
	CU_ASSERT_PTR_NULL(filter);
	CU_ASSERT_EQUAL(fcap_fleet_request_parse_alert("port 1\n", 7, &q, &filter, alert, err), 0);
	CU_ASSERT_STRING_EQUAL(alert, "");   /* no alert named */
	static const struct { const char *req, *why; } bad[] = {
		{ "alert 1874ab89eb8a8787\nport 80\n", "no other condition" },
		{ "filter tcp\nalert abc\n", "no other condition" },
		{ "alert a/b\n", "want 1 to 32" },
		{ "alert 012345678901234567890123456789012\n", "want 1 to 32" },
		{ "alert a\nalert b\n", "more than one alert" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(fcap_fleet_request_parse_alert(bad[i].req, strlen(bad[i].req), &q, &filter, alert, err), -1);
		CU_ASSERT_PTR_NULL(filter);
		CU_ASSERT_STRING_EQUAL(alert, "");
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
		if (!strstr(err, bad[i].why))
			printf("\n  request '%s': '%s' lacks '%s'\n", bad[i].req, err, bad[i].why);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_ops PCAP...\n");
		return 2;
	}
	pcap_paths = argv + 1;
	npcap = argc - 1;
	pcap_path = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("ops", NULL, NULL);
	CU_add_test(s, "stages line: format and parse round trip", test_stages_round_trip);
	CU_add_test(s, "stages line: damaged lines refused with the reason", test_stages_damage);
	CU_add_test(s, "prometheus exposition: content, never cut short", test_prometheus);
	CU_add_test(s, "fleet extract request: parsed as sent, malformed ones refused", test_fleet_request);
	CU_add_test(s, "fleet extract request by alert id: alone, well formed", test_fleet_request_alert);
	CU_add_test(s, "fleet spool: damaged files set aside and said, ids never reused", test_fleet_spool_damage);
	CU_add_test(s, "fleet spool segments: damage found, said, counted, never blocking", test_fleet_segment_damage);
	FILE *f = fopen(pcap_path, "rb");
	if (f) {
		fclose(f);
		CU_add_test(s, "pcap backend: blocks validate and hold the file's packets", test_pcap_backend_blocks);
		CU_add_test(s, "pcap backend: bad sources, filters and geometry refused", test_pcap_backend_refuses);
	} else {
		printf("SKIP: pcap backend cases: %s is missing (the bundled captures)\n", pcap_path);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
