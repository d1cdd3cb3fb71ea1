/*
 * bench_capture.c - the capture benchmark: every port of the simulated card
 * at 100% line rate, for each card configuration (4x10g, 1x100g), frame
 * size and PCIe link preset.
 *
 * For each case the card is set up as `fcap capture` sets it up (all its
 * rings, frames spread over them by flow hash, hash option on), every port
 * gets the same stream of UDP frames of one size (or IMIX) back to back for
 * a fixed stretch of simulated time, and the host consumes blocks as the
 * card publishes them. Reported per case:
 *   offered_mpps  frames per simulated microsecond offered by all ports
 *   captured      records the host read
 *   dropped       the card's drop counters, all causes, all ports
 *   lossless_pct  100 when nothing dropped; else the highest offered load
 *                 (% of line rate, frames at line rate with idle gaps
 *                 between them) found lossless by bisection
 *   bus_util      link busy time / simulated time while traffic flowed
 *   need_gbps     DMA payload the case needs at 100% (bytes per record
 *                 measured, in the run at the lossless load when 100%
 *                 drops, x offered rate), against link_gbps, what the
 *                 preset carries after TLP and DLLP overhead
 *   sim_fps       captured frames per wall-clock second of simulation
 * Every case must account for every frame (captured + dropped = sent) or
 * the benchmark fails.
 *
 * usage: bench_capture [--quick] [--us N] [--config LIST] [--bus LIST] [--sizes LIST] [--hash] OUTDIR
 * Writes OUTDIR/capture.json.
 *
 * --hash: the card's clock starts at a fixed time (1700000000 s) and each
 * case also prints the hash of every DMA beat the card issued at 100% load
 * (fcap_sim_hash_dma): equal hashes before and after a change to the RTL or
 * the simulator show that the change left the card's output as it was.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"
#include "fcap/ring.h"
#include "fcap_sim.h"

#define IMIX 0                    /* frame_size 0 stands for IMIX */
#define WIRE_EXTRA 20u            /* preamble + SFD + inter-frame gap */
#define FCS 4u

struct bench_case {
	const char *config;
	const char *bus;
	unsigned frame_size;          /* with FCS, as on the wire; IMIX = 0 */
};

#define HASH_START_NS 1700000000000000000ull

static bool hash_dma;             /* --hash */

struct result {
	uint64_t dma_hash;            /* with --hash */
	uint64_t sent, captured, dropped;
	uint64_t payload_bytes;       /* DMA payload over the link */
	uint64_t tlps;
	double bus_util;
	double sim_s;                 /* simulated seconds of traffic */
	double wall_s;
};

static unsigned sim_us = 1000;    /* simulated traffic per case */
static uint64_t port_bps[FCAP_MAX_PORTS]; /* line rate of each port of the card being measured */
static char errbuf[FCAP_ERRBUF_SIZE];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* IMIX (the "simple IMIX" of 7:4:1), frame sizes with FCS, interleaved. */
static const unsigned imix_pattern[12] = { 64, 594, 64, 64, 1518, 64, 594, 64, 594, 64, 64, 594 };

static unsigned frame_size_at(unsigned size, uint64_t i)
{
	return size == IMIX ? imix_pattern[i % 12] : size;
}

/* Average bytes on the wire per frame, preamble and gap included. */
static double wire_bytes_per_frame(unsigned size)
{
	if (size != IMIX)
		return size + WIRE_EXTRA;
	double sum = 0;
	for (unsigned i = 0; i < 12; i++)
		sum += imix_pattern[i] + WIRE_EXTRA;
	return sum / 12;
}

/* An Ethernet/IPv4/UDP frame of len bytes (FCS excluded), flow number
 * `flow` in its source port so that the hash spreads flows over rings. */
static void build_frame(uint8_t *f, unsigned len, unsigned port, uint64_t i)
{
	static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
	memset(f, 0, len);
	memcpy(f, eth, sizeof(eth));
	uint8_t *ip = f + 14;
	unsigned iplen = len - 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10, ip[13] = (uint8_t)port, ip[14] = 0, ip[15] = 1;
	ip[16] = 10, ip[17] = 99, ip[18] = 0, ip[19] = 2;
	uint8_t *udp = ip + 20;
	unsigned sport = 1024 + (unsigned)(i % 256);
	udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
	udp[2] = 0x12, udp[3] = 0x34;
	udp[4] = (uint8_t)((iplen - 20) >> 8), udp[5] = (uint8_t)(iplen - 20);
	for (unsigned b = 42; b < len; b++)
		f[b] = (uint8_t)(b + i);
}

/* Queues sim_us of traffic on every port at pct % of its line rate. */
static uint64_t queue_traffic(struct fcap_sim *sim, unsigned nports, unsigned size, double pct)
{
	static uint8_t frame[9018];
	uint64_t sent = 0;
	for (unsigned p = 0; p < nports; p++) {
		double ns_per_byte = 8.0 / ((double)port_bps[p] / 1e9);
		double frame_ns = wire_bytes_per_frame(size) * ns_per_byte;
		uint64_t n = (uint64_t)(sim_us * 1000.0 / (frame_ns * 100.0 / pct));
		if (n == 0)
			n = 1;
		double owed_ns = 0;
		for (uint64_t i = 0; i < n; i++) {
			unsigned fs = frame_size_at(size, i);
			build_frame(frame, fs - FCS, p, i);
			if (fcap_sim_mac_add_frame(sim, p, frame, fs - FCS, false) < 0)
				return 0;
			/* Below line rate: each frame still goes at the line rate, followed
			 * by an idle gap; whole ns carried over so the average is exact. */
			owed_ns += (fs + WIRE_EXTRA) * ns_per_byte * (100.0 / pct - 1.0);
			if (owed_ns >= 1.0) {
				uint64_t gap = (uint64_t)owed_ns;
				fcap_sim_mac_add_idle(sim, p, gap);
				owed_ns -= (double)gap;
			}
			sent++;
		}
	}
	return sent;
}

static int drain(struct fcap_ring *rings, unsigned nrings, const struct fcap_card_info *ci, uint64_t *records)
{
	for (unsigned r = 0; r < nrings; r++) {
		uint8_t *blk;
		int rc;
		while ((rc = fcap_ring_peek(&rings[r], &blk, errbuf)) > 0) {
			struct fcap_block_info bi;
			if (fcap_block_check(blk, rings[r].block_size, rings[r].cons, ci->nports, &bi, errbuf) < 0)
				return -1;
			size_t off = 0;
			struct fcap_record rec;
			while ((rc = fcap_block_next(blk, &bi, ci->nports, &off, &rec, errbuf)) > 0)
				(*records)++;
			if (rc < 0 || fcap_ring_release(&rings[r], errbuf) < 0)
				return -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int run_case(const struct bench_case *bc, double pct, struct result *res)
{
	memset(res, 0, sizeof(*res));
	struct fcap_sim_dev_config dc = { .bus = bc->bus, .card = bc->config };
	struct fcap_dev *dev = fcap_dev_open_sim(&dc, errbuf);
	if (!dev)
		return -1;
	struct fcap_sim *sim = fcap_dev_sim(dev);
	struct fcap_card_info ci;
	struct fcap_ring rings[FCAP_MAX_RINGS];
	struct fcap_ring_config rc = {
		.blocks = 16, .block_size = 1 << 20, .timeout_ns = 100000, .hash = true,
		.start_time_ns = hash_dma ? HASH_START_NS : 0,
	};
	fcap_sim_hash_dma(sim, hash_dma);
	int ret = -1;
	if (fcap_card_read_info(dev, &ci, errbuf) < 0)
		goto out_dev;
	memset(port_bps, 0, sizeof(port_bps));
	for (unsigned p = 0; p < ci.nports; p++)
		port_bps[p] = (uint64_t)ci.ports[p].speed_mbps * 1000000u;
	rc.rings = ci.rings;
	if (fcap_rings_setup(rings, rc.rings, dev, &ci, &rc, errbuf) < 0)
		goto out_dev;
	if (fcap_card_start(dev, &ci, &rc, errbuf) < 0)
		goto out;
	/* The enable reaches the MAC clock domains a few clocks later; a frame
	 * that starts before is not captured (nor counted), as on a real card. */
	fcap_sim_run(sim, 16);
	fcap_sim_mac_hold(sim, true);
	res->sent = queue_traffic(sim, ci.nports, bc->frame_size, pct);
	if (res->sent == 0) {
		snprintf(errbuf, sizeof(errbuf), "cannot queue frames");
		goto out;
	}
	struct fcap_sim_bus_stats bs0, bs1;
	fcap_sim_bus_stats(sim, &bs0);
	uint64_t t0_ps = fcap_sim_time_ps(sim), t1_ps = 0;
	double w0 = now_s();
	fcap_sim_mac_hold(sim, false);
	for (;;) {
		if (drain(rings, rc.rings, &ci, &res->captured) < 0)
			goto out;
		if (fcap_sim_mac_done(sim) && !t1_ps) {
			t1_ps = fcap_sim_time_ps(sim);
			fcap_sim_bus_stats(sim, &bs1);
		}
		if (fcap_sim_mac_done(sim) && fcap_sim_card_idle(sim))
			break;
		fcap_card_irq_ack(dev);
		fcap_sim_run_until(sim, 100000, FCAP_SIM_STOP_IRQ | FCAP_SIM_STOP_IDLE);
	}
	if (fcap_card_stop(dev, errbuf) < 0 || drain(rings, rc.rings, &ci, &res->captured) < 0)
		goto out;
	res->wall_s = now_s() - w0;
	res->dma_hash = fcap_sim_dma_hash(sim);
	struct fcap_card_counters cc;
	if (fcap_card_counters(dev, ci.nports, &cc, errbuf) < 0)
		goto out;
	for (unsigned p = 0; p < ci.nports; p++)
		res->dropped += cc.port[p].drop_fifo + cc.port[p].drop_ring;
	struct fcap_sim_bus_stats bs2;
	fcap_sim_bus_stats(sim, &bs2);
	res->payload_bytes = bs2.payload_bytes - bs0.payload_bytes;
	res->tlps = bs2.tlps - bs0.tlps;
	res->sim_s = (double)(t1_ps - t0_ps) / 1e12;
	res->bus_util = t1_ps > t0_ps ? (double)(bs1.busy_ps - bs0.busy_ps) / (double)(t1_ps - t0_ps) : 0;
	if (res->captured + res->dropped != res->sent) {
		snprintf(errbuf, sizeof(errbuf), "%s %s %u B: sent %llu, captured %llu + dropped %llu",
			 bc->config, bc->bus, bc->frame_size, (unsigned long long)res->sent,
			 (unsigned long long)res->captured, (unsigned long long)res->dropped);
		goto out;
	}
	ret = 0;
out:
	fcap_rings_teardown(rings, rc.rings);
out_dev:
	fcap_dev_close(dev);
	return ret;
}

/* The highest lossless load, % of line rate, to 1%: lossy at hi, assumed
 * lossless at lo. *at_lo gets the run at that load (captured 0 if none was
 * lossless). */
static int bisect(const struct bench_case *bc, double *pct, struct result *at_lo)
{
	double lo = 0, hi = 100;
	memset(at_lo, 0, sizeof(*at_lo));
	while (hi - lo > 1.0) {
		double mid = (lo + hi) / 2;
		struct result r;
		if (run_case(bc, mid, &r) < 0)
			return -1;
		if (r.dropped == 0) {
			lo = mid;
			*at_lo = r;
		} else {
			hi = mid;
		}
	}
	*pct = lo;
	return 0;
}

/* DMA bytes per record, from a run that lost nothing: with drops, the
 * frames captured are not a fair sample of those offered (a full FIFO turns
 * away long frames more often than short ones). */
static double bytes_per_record(const struct result *full, const struct result *lossless)
{
	const struct result *r = full->dropped && lossless->captured ? lossless : full;
	return r->captured ? (double)r->payload_bytes / (double)r->captured : 0;
}

static double link_gbytes(const char *bus)
{
	struct fcap_sim_bus_config bc;
	if (fcap_sim_bus_preset_named(bus, &bc) < 0 || bc.bytes_per_s == 0)
		return 0;
	return (double)bc.bytes_per_s * bc.efficiency_ppm / 1e6 * bc.max_payload /
	       (bc.max_payload + bc.tlp_overhead) / 1e9;
}

static void split(char *list, const char **out, unsigned max, unsigned *n)
{
	*n = 0;
	for (char *s = strtok(list, ","); s && *n < max; s = strtok(NULL, ","))
		out[(*n)++] = s;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "us", required_argument, NULL, 'u' },
		{ "bus", required_argument, NULL, 'b' }, { "sizes", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' }, { "hash", no_argument, NULL, 'h' }, { 0 },
	};
	char config_list[256] = "4x10g,1x100g";
	char bus_list[256] = "gen3x8,gen3x16,gen4x16";
	char size_list[256] = "64,65,128,256,512,1024,1518,9018,imix";
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q': sim_us = 100; strcpy(bus_list, "gen3x8"); strcpy(size_list, "64,1518,imix"); break;
		case 'u': sim_us = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': snprintf(bus_list, sizeof(bus_list), "%s", optarg); break;
		case 's': snprintf(size_list, sizeof(size_list), "%s", optarg); break;
		case 'c': snprintf(config_list, sizeof(config_list), "%s", optarg); break;
		case 'h': hash_dma = true; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || sim_us == 0) {
		fprintf(stderr, "usage: bench_capture [--quick] [--us N] [--config LIST] [--bus LIST] [--sizes LIST] "
			"[--hash] OUTDIR\n");
		return 2;
	}
	const char *configs[8], *buses[8], *sizes[16];
	unsigned nconfig, nbus, nsize;
	split(config_list, configs, 8, &nconfig);
	split(bus_list, buses, 8, &nbus);
	split(size_list, sizes, 16, &nsize);

	char path[4096];
	snprintf(path, sizeof(path), "%s/capture.json", argv[optind]);
	FILE *js = fopen(path, "w");
	if (!js) {
		perror(path);
		return 1;
	}
	printf("capture benchmark: %u us of simulated traffic per case, every port of the card at its line rate\n",
	       sim_us);
	printf("%-6s %-8s %-6s %8s %9s %8s %9s %8s %6s %9s %9s %9s\n", "config", "bus", "frame", "off Mpps",
	       "captured", "dropped", "lossless%", "bus use", "TLP B", "need GB/s", "link GB/s", "sim fps");
	fprintf(js, "[\n");
	int status = 0;
	const char *sep = "";
	for (unsigned k = 0; k < nconfig * nbus; k++) {
		for (unsigned s = 0; s < nsize; s++) {
			unsigned b = k % nbus;
			struct bench_case bc = { .config = configs[k / nbus], .bus = buses[b] };
			bc.frame_size = !strcmp(sizes[s], "imix") ? IMIX : (unsigned)strtoul(sizes[s], NULL, 10);
			if (bc.frame_size != IMIX && (bc.frame_size < 64 || bc.frame_size > 9018)) {
				fprintf(stderr, "bench_capture: frame size %s: not in 64..9018 or imix\n", sizes[s]);
				return 2;
			}
			struct result r;
			if (run_case(&bc, 100.0, &r) < 0) {
				fprintf(stderr, "bench_capture: %s\n", errbuf);
				status = 1;
				continue;
			}
			double lossless = 100.0;
			struct result at_lossless = { 0 };
			if (r.dropped && bisect(&bc, &lossless, &at_lossless) < 0) {
				fprintf(stderr, "bench_capture: %s\n", errbuf);
				status = 1;
				continue;
			}
			double offered = r.sim_s > 0 ? (double)r.sent / r.sim_s / 1e6 : 0;
			double line_bps = 0;
			for (unsigned p = 0; p < FCAP_MAX_PORTS; p++)
				line_bps += (double)port_bps[p];
			double line_mpps = line_bps / 8.0 / wire_bytes_per_frame(bc.frame_size) / 1e6;
			double need = bytes_per_record(&r, &at_lossless) * line_mpps / 1e3;
			double fps = r.wall_s > 0 ? (double)r.captured / r.wall_s : 0;
			double tlp_bytes = r.tlps ? (double)r.payload_bytes / (double)r.tlps : 0;
			printf("%-6s %-8s %-6s %8.2f %9llu %8llu %9.1f %7.1f%% %6.0f %9.2f %9.2f %9.0f\n", bc.config,
			       bc.bus, sizes[s], offered, (unsigned long long)r.captured, (unsigned long long)r.dropped,
			       lossless, 100 * r.bus_util, tlp_bytes, need, link_gbytes(bc.bus), fps);
			if (hash_dma)
				printf("%-6s %-8s %-6s dma hash %016llx\n", bc.config, bc.bus, sizes[s],
				       (unsigned long long)r.dma_hash);
			fflush(stdout);
			fprintf(js, "%s  {\"config\": \"%s\", \"bus\": \"%s\", \"frame_size\": %s%s%s, "
				"\"offered_mpps\": %.3f, \"captured\": %llu, \"dropped\": %llu, "
				"\"lossless_pct\": %.1f, \"bus_util\": %.3f, \"tlp_bytes\": %.1f, \"need_gbytes_s\": %.3f, "
				"\"link_gbytes_s\": %.3f, \"sim_fps\": %.0f}",
				sep, bc.config, bc.bus, bc.frame_size == IMIX ? "\"" : "", sizes[s],
				bc.frame_size == IMIX ? "\"" : "", offered, (unsigned long long)r.captured,
				(unsigned long long)r.dropped, lossless, r.bus_util, tlp_bytes, need, link_gbytes(bc.bus), fps);
			sep = ",\n";
		}
	}
	fprintf(js, "\n]\n");
	fclose(js);
	printf("(lossless%%: highest offered load with no drop, by bisection to 1%%, when 100%% drops;\n"
	       " need: DMA bytes per record measured (in the lossless run when 100%% drops) x line-rate frames/s;\n"
	       " link: preset after TLP/DLLP overhead;\n"
	       " written to %s)\n", path);
	return status;
}
