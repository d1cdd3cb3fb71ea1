/*
 * bench_recorder.c - the disk recorder's speed (make bench; bench/recorder.sh).
 *
 * Traffic: every packet of the bundled captures, repeated until the ring
 * blocks hold the target size, each repetition with its IPv4 addresses
 * changed (bytes 1 and 2 of both addresses xor the repetition number) so
 * that every repetition has flows of its own, timestamps spaced as on a
 * 10 Gb/s wire. Packed into 1 MiB ring blocks in memory, as the card
 * would, before any clock starts.
 *
 *   1. the recorder writes every block into a store (O_DIRECT, index built
 *      on its own thread), from the first block handed over until the
 *      last segment is published (fsync'd, renamed): wall time; once with
 *      the index's keys off to show what they cost
 *   2. the index alone on one core (CPU time): blocks of one segment in,
 *      the file written to memory
 *   3. the same packets as a nanosecond pcap, for the tcpdump peer
 *
 * Prints key=value lines for recorder.sh.
 *
 * usage: bench_recorder OUTDIR DATA MBYTES [CAPTURE...]   (default: every bundled capture)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fcap/block.h"
#include "fcap/block_build.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/pcap_reader.h"
#include "fcap/seg_index.h"
#include "fcap/store.h"

#define BLOCK (1u << 20)
#define SEGMENT (256ull << 20)

struct packet {
	uint32_t len, origlen;
	uint8_t port;
	uint8_t *data;
};

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_recorder: %s\n", what);
	exit(1);
}

static const char *const inputs[] = {
	"http_espn.pcapng", "synscan.pcapng", "arppoison.pcapng", "tcp_ports.pcapng", "dns_isp_hijack.pcapng",
	"http_post.pcapng", "mail_sender_attachment.pcapng", "icmp_traceroute.pcapng",
	"pkt.TCP.synflood.spoofed.pcap", "amp.UDP.isakmp.pcap",
};

static struct packet *load(const char *data, const char *const *names, size_t nnames, size_t *n)
{
	size_t cap = 65536;
	struct packet *v = malloc(cap * sizeof(*v));
	*n = 0;
	char err[FCAP_ERRBUF_SIZE];
	for (size_t f = 0; f < nnames; f++) {
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", data, names[f]);
		struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
		if (!r)
			die(err);
		struct fcap_pkt p;
		int rc;
		while ((rc = fcap_pcap_next(r, &p, err)) > 0) {
			if (p.linktype != FCAP_LINKTYPE_ETHERNET || p.caplen > 16384)
				continue;
			if (*n == cap)
				v = realloc(v, (cap *= 2) * sizeof(*v));
			v[*n] = (struct packet){ p.caplen, p.origlen, (uint8_t)(f % 4), malloc(p.caplen) };
			memcpy(v[*n].data, p.data, p.caplen);
			(*n)++;
		}
		if (rc < 0)
			die(err);
		fcap_pcap_close(r);
	}
	return v;
}

/* The repetition's own addresses: bytes 1-2 of IPv4 source and destination. */
static void shift(uint8_t *f, uint32_t len, uint32_t rep)
{
	if (len < 34 || f[12] != 0x08 || f[13] != 0x00)
		return;
	for (int a = 26; a <= 30; a += 4) {
		f[a + 1] ^= (uint8_t)rep;
		f[a + 2] ^= (uint8_t)(rep >> 8);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("usage: bench_recorder OUTDIR DATA MBYTES [CAPTURE...]");
	const char *out = argv[1], *data = argv[2];
	uint64_t target = strtoull(argv[3], NULL, 10) << 20;
	size_t n;
	struct packet *v = argc > 4 ? load(data, (const char *const *)argv + 4, (size_t)argc - 4, &n)
				    : load(data, inputs, sizeof(inputs) / sizeof(inputs[0]), &n);
	size_t nblocks = (size_t)(target / BLOCK);
	uint8_t *mem = mmap(NULL, nblocks * (size_t)BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("no memory for the blocks");

	/* Blocks, and the same packets as a nanosecond pcap. */
	char path[2048];
	snprintf(path, sizeof(path), "%s/big.pcap", out);
	FILE *pc = fopen(path, "wb");
	if (!pc)
		die(strerror(errno));
	static char pbuf[1 << 20];
	setvbuf(pc, pbuf, _IOFBF, sizeof(pbuf));
	uint32_t gh[6] = { 0xa1b23c4du, 0x00040002u, 0, 0, 65535, 1 };
	fwrite(gh, 1, sizeof(gh), pc);
	uint64_t ts = 1700000000000000000ull, packets = 0, pbytes = 0, used = 0;
	uint32_t rep = 0;
	size_t i = 0, b = 0;
	uint8_t frame[16384];
	struct fcap_block_builder bb;
	fcap_bb_start(&bb, mem, BLOCK, 0, 0);
	while (b < nblocks) {
		const struct packet *p = &v[i];
		memcpy(frame, p->data, p->len);
		shift(frame, p->len, rep);
		if (!fcap_bb_add(&bb, p->port, ts, frame, p->len, p->origlen, 0, 0)) {
			fcap_bb_finish(&bb, FCAP_BLOCK_CLOSED_FULL);
			used += bb.used;
			if (++b == nblocks)
				break;
			fcap_bb_start(&bb, mem + b * (size_t)BLOCK, BLOCK, 0, (uint32_t)b);
			continue;
		}
		uint32_t rh[4] = { (uint32_t)(ts / 1000000000u), (uint32_t)(ts % 1000000000u), p->len, p->origlen };
		fwrite(rh, 1, sizeof(rh), pc);
		fwrite(frame, 1, p->len, pc);
		packets++;
		pbytes += p->len;
		ts += ((uint64_t)p->origlen + 24) * 4 / 5;   /* 0.8 ns a byte on a 10 Gb/s wire */
		if (++i == n) {
			i = 0;
			rep++;
		}
	}
	if (fclose(pc) != 0)
		die("writing big.pcap failed");
	printf("packets=%llu\npacket_bytes=%llu\nblocks=%zu\nblock_bytes_used=%llu\nrepetitions=%u\n",
	       (unsigned long long)packets, (unsigned long long)pbytes, nblocks, (unsigned long long)used, rep + 1);

	struct fcap_card_info ci = { .nports = 4, .max_snaplen = 16384 };
	snprintf(ci.model, sizeof(ci.model), "bench");
	for (int p = 0; p < 4; p++) {
		snprintf(ci.ports[p].label, sizeof(ci.ports[p].label), "p%d", p);
		ci.ports[p].speed_mbps = 10000;
	}
	char err[FCAP_ERRBUF_SIZE];
	for (int keys = 0; keys <= 1; keys++) {
		snprintf(path, sizeof(path), "%s/%s", out, keys ? "store" : "store-nokeys");
		struct fcap_recorder_config cfg = { .dir = path, .ci = &ci, .userappl = "bench", .segment_bytes = SEGMENT,
						    .index_keys_off = !keys, .queue_blocks = 64 };
		double t0 = now(CLOCK_MONOTONIC);
		struct fcap_recorder *rec = fcap_recorder_open(&cfg, err);
		if (!rec)
			die(err);
		size_t next = 0;
		struct fcap_rec_done d;
		uint64_t stored = 0;
		while (next < nblocks || fcap_recorder_inflight(rec)) {
			while (next < nblocks) {
				struct fcap_block_info bi;
				if (fcap_block_header(mem + next * (size_t)BLOCK, BLOCK, &bi, err) < 0)
					die(err);
				if (fcap_recorder_submit(rec, 0, mem + next * (size_t)BLOCK, &bi, 0) < 0)
					break;
				next++;
			}
			while (fcap_recorder_reap(rec, &d) > 0)
				stored += d.stored;
			fcap_recorder_wait(rec, 1000000);
		}
		struct fcap_recorder_stats st;
		if (fcap_recorder_close(rec, &st, err) < 0)
			die(err);
		double dt = now(CLOCK_MONOTONIC) - t0;
		if (stored != nblocks)
			die("the recorder lost blocks");
		const char *k = keys ? "" : "_nokeys";
		printf("rec%s_seconds=%.6f\nrec%s_bytes=%llu\nrec%s_segments=%llu\nrec%s_direct=%d\nrec%s_index_cpu=%.6f\n", k,
		       dt, k, (unsigned long long)st.bytes, k, (unsigned long long)st.segments, k, st.direct, k,
		       st.index_cpu_s);
		fflush(stdout);
	}

	/* The index alone, one core: a segment's worth of blocks per index. */
	double cpu = 0;
	uint64_t idx_bytes = 0, records = 0;
	size_t per_seg = (size_t)(SEGMENT / BLOCK);
	struct fcap_index_builder *ib = fcap_ib_new(0, 4, true);
	for (size_t s = 0; s < nblocks; s += per_seg) {
		int fd = memfd_create("index", 0);
		double c0 = now(CLOCK_THREAD_CPUTIME_ID);
		fcap_ib_reset(ib, 0);
		uint64_t off = 4096;
		for (size_t k = s; k < s + per_seg && k < nblocks; k++) {
			struct fcap_block_info bi;
			fcap_block_header(mem + k * (size_t)BLOCK, BLOCK, &bi, err);
			if (fcap_ib_add_block(ib, mem + k * (size_t)BLOCK, &bi, off, err) < 0)
				die(err);
			off += fcap_block_stored_len(bi.used, bi.block_size);
			records += bi.records;
		}
		if (fcap_ib_write(ib, fd, "memfd", off, off, err) < 0)
			die(err);
		cpu += now(CLOCK_THREAD_CPUTIME_ID) - c0;
		idx_bytes += (uint64_t)lseek(fd, 0, SEEK_END);
		close(fd);
	}
	fcap_ib_free(ib);
	printf("index_cpu_seconds=%.6f\nindex_records=%llu\nindex_file_bytes=%llu\n", cpu, (unsigned long long)records,
	       (unsigned long long)idx_bytes);
	munmap(mem, nblocks * (size_t)BLOCK);
	for (size_t k = 0; k < n; k++)
		free(v[k].data);
	free(v);
	return 0;
}
