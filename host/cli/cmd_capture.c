/* cmd_capture.c - `fcap capture`: record a card's traffic to a pcapng file
 * or into a store of rotating, indexed segments. */
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fcap/capture.h"
#include "fcap/dev.h"
#include "fcap/pcap_reader.h"
#include "fcap/score_stream.h"

#define MAX_REPLAY 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void help(void)
{
	printf("usage: fcap capture [-d DEVICE] [--card CARD] [-r FILE]... [--rate RATE] -w FILE [OPTIONS]\n"
	       "       fcap capture [-d DEVICE] [--card CARD] [-r FILE]... --store DIR [-C SIZE] [-G TIME] [-W N] [OPTIONS]\n"
	       "Captures every frame the card receives into a pcapng file with nanosecond\n"
	       "timestamps, or into a store of rotating indexed segments (docs/STORE.md),\n"
	       "and prints what was captured and dropped, by stage.\n\n"
	       "  -d, --device DEV        sim: the simulated card (default); /dev/fcapN or\n"
	       "                          pcie:N: a card through the fcap kernel driver\n"
	       "  -r, --replay [PORT:]FILE  pcap or pcapng file the simulated card receives\n"
	       "                          on PORT (default 0); repeat to queue several on\n"
	       "                          a port (played in order) or to feed several ports\n"
	       "      --card CARD         which simulated card: 4x10g (default: four 10G\n"
	       "                          ports) or 1x100g (one 100G port)\n"
	       "      --rate RATE         line rate of the simulated ports (default: their\n"
	       "                          speed, 10G or 100G)\n"
	       "      --bus LINK          PCIe link of the simulated card: gen3x8 (default),\n"
	       "                          gen3x16, gen4x16, or ideal (no link limits)\n"
	       "  -w, --write FILE        write the capture to FILE (an existing directory:\n"
	       "                          the same as --store FILE)\n"
	       "      --store DIR         record into the store DIR (created if missing):\n"
	       "                          segments, indexes, crash recovery, retention\n"
	       "  -C SIZE                 store: rotate before a segment exceeds SIZE bytes\n"
	       "                          (a bare number is millions of bytes, as in\n"
	       "                          tcpdump; or 64M, 1G; default 256M)\n"
	       "  -G TIME                 store: rotate when a segment's time is up, even on\n"
	       "                          a quiet link (a bare number is seconds; or 500ms)\n"
	       "  -W N                    store: keep at most N segments (oldest go first)\n"
	       "      --max-age TIME      store: remove segments whose last packet is older\n"
	       "                          (30s, 90m, 12h, 7d; a bare number is seconds)\n"
	       "      --max-size SIZE|N%%  store: keep segments and indexes within SIZE\n"
	       "                          bytes (100G) or N%% of the filesystem\n"
	       "      --buffered          store: write through the page cache, not O_DIRECT\n"
	       "  -s, --snaplen N         bytes kept per frame (default: the card's maximum)\n"
	       "      --blocks N          ring blocks (default 16; a driver's card: its own)\n"
	       "      --block-size SIZE   ring block size, e.g. 256K, 1M (default 1M; a\n"
	       "                          driver's card: its own)\n"
	       "      --block-timeout T   close a block holding frames after T, e.g. 500us,\n"
	       "                          10ms (default 10ms): a quiet link still delivers\n"
	       "  -m, --model MODEL       score every captured frame with a model from\n"
	       "                          'fcap train' (fixed point) and write the score\n"
	       "                          stream (as 'fcap score' does) to --scores\n"
	       "      --scores FILE       where the score stream goes (default: stdout)\n"
	       "      --rings N           host rings to spread flows over by their hash\n"
	       "                          (default 1); each flow stays in order, but the\n"
	       "                          file interleaves the rings block by block\n"
	       "      --hash              record each frame's flow hash (epb_hash option)\n"
	       "      --irq-blocks N      interrupt once N blocks are published (default 1)\n"
	       "      --irq-delay T       ... or T after the first of them, e.g. 50us\n"
	       "                          (default: never on time alone; at most 1s)\n"
	       "      --poll              no interrupts: look at the rings every 20 us\n"
	       "  -q, --quiet             no summary\n"
	       "  -h, --help              this text\n\n"
	       "exit status: 0 success, 1 the capture failed, 2 bad command line\n");
}

struct capture_args {
	const char *device;
	char pcie_path[64];     /* set when device is a card behind the driver */
	bool rate_given;
	const char *bus;
	const char *card;
	struct fcap_replay replay[MAX_REPLAY];
	unsigned nreplay;
	uint64_t rate;
	struct fcap_capture_config cfg;
	bool quiet;
	const char *model;
	const char *scores;
	bool store_opts;        /* -C, -G, -W, --max-*, --buffered given */
};

/* "FILE" (port 0) or "PORT:FILE" with PORT a small decimal number. */
static bool parse_replay(const char *arg, struct fcap_replay *r)
{
	const char *colon = strchr(arg, ':');
	r->port = 0;
	r->path = arg;
	if (!colon || colon == arg || colon - arg > 2 || strspn(arg, "0123456789") != (size_t)(colon - arg))
		return *arg != '\0';
	r->port = (unsigned)atoi(arg);
	r->path = colon + 1;
	return *r->path != '\0';
}

static int parse_args(int argc, char **argv, struct capture_args *a)
{
	enum { OPT_RATE = 256, OPT_CARD, OPT_BUS, OPT_RINGS, OPT_HASH, OPT_BLOCKS, OPT_BLOCK_SIZE, OPT_BLOCK_TIMEOUT,
	       OPT_SCORES, OPT_IRQ_BLOCKS, OPT_IRQ_DELAY, OPT_POLL, OPT_STORE, OPT_MAX_AGE, OPT_MAX_SIZE, OPT_BUFFERED };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "replay", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "card", required_argument, NULL, OPT_CARD },
		{ "bus", required_argument, NULL, OPT_BUS },
		{ "rings", required_argument, NULL, OPT_RINGS },
		{ "hash", no_argument, NULL, OPT_HASH },
		{ "write", required_argument, NULL, 'w' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "blocks", required_argument, NULL, OPT_BLOCKS },
		{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
		{ "block-timeout", required_argument, NULL, OPT_BLOCK_TIMEOUT },
		{ "irq-blocks", required_argument, NULL, OPT_IRQ_BLOCKS },
		{ "irq-delay", required_argument, NULL, OPT_IRQ_DELAY },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "model", required_argument, NULL, 'm' },
		{ "scores", required_argument, NULL, OPT_SCORES },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "buffered", no_argument, NULL, OPT_BUFFERED },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "d:r:w:s:m:qhC:G:W:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->device = optarg;
			break;
		case 'r':
			if (a->nreplay == MAX_REPLAY)
				return usage_error("capture", "at most %d replay files", MAX_REPLAY);
			if (!parse_replay(optarg, &a->replay[a->nreplay]))
				return usage_error("capture", "-r '%s': expected FILE or PORT:FILE", optarg);
			a->nreplay++;
			break;
		case OPT_RATE:
			if (!parse_rate(optarg, &a->rate))
				return usage_error("capture", "--rate '%s': expected a rate from 1M to 1000G, e.g. 10G",
						   optarg);
			a->rate_given = true;
			break;
		case OPT_RINGS:
			if (!parse_size(optarg, 16, &v) || v == 0)
				return usage_error("capture", "--rings '%s': expected 1 to 16", optarg);
			a->cfg.ring.rings = (uint32_t)v;
			break;
		case OPT_HASH:
			a->cfg.ring.hash = true;
			break;
		case OPT_BUS:
			a->bus = optarg;
			a->rate_given = true; /* a simulated card's option too */
			break;
		case OPT_CARD:
			a->card = optarg;
			a->rate_given = true; /* likewise */
			break;
		case 'w':
			a->cfg.out_path = optarg;
			break;
		case 's':
			if (!parse_size(optarg, 65535, &v))
				return usage_error("capture", "-s '%s': expected a byte count up to 65535", optarg);
			a->cfg.ring.snaplen = (uint32_t)v;
			break;
		case OPT_BLOCKS:
			if (!parse_size(optarg, 1u << 20, &v))
				return usage_error("capture", "--blocks '%s': expected a count", optarg);
			a->cfg.ring.blocks = (uint32_t)v;
			break;
		case OPT_BLOCK_SIZE:
			if (!parse_size(optarg, 1u << 30, &v))
				return usage_error("capture", "--block-size '%s': expected a size up to 1G, e.g. 1M",
						   optarg);
			a->cfg.ring.block_size = (uint32_t)v;
			break;
		case OPT_BLOCK_TIMEOUT:
			if (!parse_duration_ns(optarg, &a->cfg.ring.timeout_ns))
				return usage_error("capture", "--block-timeout '%s': expected a duration, e.g. 10ms",
						   optarg);
			break;
		case OPT_IRQ_BLOCKS:
			if (!parse_size(optarg, 1u << 20, &v))
				return usage_error("capture", "--irq-blocks '%s': expected a count", optarg);
			a->cfg.ring.irq_blocks = (uint32_t)v;
			break;
		case OPT_IRQ_DELAY:
			if (!parse_duration_ns(optarg, &v) || v > 1000000000u)
				return usage_error("capture", "--irq-delay '%s': expected a duration up to 1s, e.g. 50us",
						   optarg);
			a->cfg.ring.irq_usecs = (uint32_t)((v + 999u) / 1000u);
			break;
		case OPT_POLL:
			a->cfg.ring.poll = true;
			break;
		case 'm':
			a->model = optarg;
			break;
		case OPT_SCORES:
			a->scores = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_STORE:
			a->cfg.store_dir = optarg;
			break;
		case 'C':
			if (!parse_segment_size(optarg, &a->cfg.segment_bytes))
				return usage_error("capture", "-C '%s': expected a size: millions of bytes, or 64M, 1G", optarg);
			a->store_opts = true;
			break;
		case 'G':
			if (!parse_seconds(optarg, &a->cfg.segment_ns) || !a->cfg.segment_ns)
				return usage_error("capture", "-G '%s': expected a duration: seconds, or 500ms, 10s", optarg);
			a->store_opts = true;
			break;
		case 'W':
			if (!parse_size(optarg, UINT32_MAX, &v) || v == 0)
				return usage_error("capture", "-W '%s': expected a segment count", optarg);
			a->cfg.retention.max_files = (uint32_t)v;
			a->store_opts = true;
			break;
		case OPT_MAX_AGE:
			if (!parse_seconds(optarg, &a->cfg.retention.max_age_ns) || !a->cfg.retention.max_age_ns)
				return usage_error("capture", "--max-age '%s': expected a duration, e.g. 7d, 12h, 90m",
						   optarg);
			a->store_opts = true;
			break;
		case OPT_MAX_SIZE:
			if (!parse_size_or_percent(optarg, &a->cfg.retention.max_bytes, &a->cfg.retention.max_percent))
				return usage_error("capture", "--max-size '%s': expected a size (100G) or a percentage "
						   "of the filesystem (80%%)", optarg);
			a->store_opts = true;
			break;
		case OPT_BUFFERED:
			a->cfg.buffered = true;
			a->store_opts = true;
			break;
		case 'h':
			help();
			exit(EXIT_OK);
		default:
			return usage_error("capture", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("capture", "unexpected argument '%s' (capture filters come later)", argv[optind]);
	struct stat sb;
	if (a->cfg.out_path && !a->cfg.store_dir && stat(a->cfg.out_path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		a->cfg.store_dir = a->cfg.out_path;   /* -w DIR: a store */
		a->cfg.out_path = NULL;
	}
	if (a->cfg.out_path && a->cfg.store_dir)
		return usage_error("capture", "give either -w FILE or --store DIR");
	if (!a->cfg.out_path && !a->cfg.store_dir)
		return usage_error("capture", "no output file: give -w FILE or --store DIR");
	if (a->store_opts && !a->cfg.store_dir)
		return usage_error("capture", "-C, -G, -W, --max-age, --max-size and --buffered need --store DIR");
	char err[FCAP_ERRBUF_SIZE];
	int pcie = fcap_dev_pcie_path(a->device, a->pcie_path, sizeof(a->pcie_path), err);
	if (pcie < 0)
		return usage_error("capture", "%s", err);
	if (pcie) {
		if (a->nreplay || a->rate_given)
			return usage_error("capture", "-r, --card, --rate and --bus drive the simulated card; %s "
					   "captures its own ports", a->device);
		return EXIT_OK;
	}
	if (strcmp(a->device, "sim"))
		return usage_error("capture", "unknown device '%s' (sim, /dev/fcapN or pcie:N)", a->device);
	if (a->nreplay == 0)
		return usage_error("capture", "the simulated card needs traffic: give -r FILE");
	if (!a->cfg.ring.rings)
		a->cfg.ring.rings = 1;
	if (!a->cfg.ring.blocks)
		a->cfg.ring.blocks = 16;
	if (!a->cfg.ring.block_size)
		a->cfg.ring.block_size = 1u << 20;
	if (a->scores && !a->model)
		return usage_error("capture", "--scores needs --model");
	return EXIT_OK;
}

static void print_summary(const struct capture_args *a, const struct fcap_capture_stats *st)
{
	const struct fcap_card_counters *c = &st->card;
	uint64_t rx = 0, bytes = 0, fifo = 0, ring = 0, errors = 0, trunc = 0;
	for (unsigned p = 0; p < c->nports; p++) {
		rx += c->port[p].rx_frames;
		bytes += c->port[p].rx_bytes;
		fifo += c->port[p].drop_fifo;
		ring += c->port[p].drop_ring;
		errors += c->port[p].rx_errors;
		trunc += c->port[p].truncated;
	}
	const struct fcap_recorder_stats *rs = &st->rec;
	uint64_t disk = st->store ? rs->disk_lost_records : 0;
	uint64_t lost = fifo + ring + st->corrupt_records + disk;
	if (st->store)
		fprintf(stderr, "fcap: %llu frames recorded in store %s: %llu segments, %llu bytes (%s writes)\n",
			(unsigned long long)st->records, a->cfg.store_dir, (unsigned long long)rs->segments,
			(unsigned long long)st->file_bytes, rs->direct ? "O_DIRECT" : "buffered");
	else
		fprintf(stderr, "fcap: %llu frames captured to %s (%llu bytes)\n", (unsigned long long)st->records,
			a->cfg.out_path, (unsigned long long)st->file_bytes);
	fprintf(stderr, "  card     received %llu frames, %llu bytes; %llu with MAC errors, %llu truncated\n",
		(unsigned long long)rx, (unsigned long long)bytes, (unsigned long long)errors,
		(unsigned long long)trunc);
	if (st->store)
		fprintf(stderr, "  drops    card fifo %llu, card ring full %llu (of which disk backlog %llu), host corrupt "
				"blocks %llu (%llu frames), disk %llu blocks (%llu frames): %llu lost in all\n",
			(unsigned long long)fifo, (unsigned long long)ring, (unsigned long long)rs->backlog_drops,
			(unsigned long long)st->corrupt_blocks, (unsigned long long)st->corrupt_records,
			(unsigned long long)rs->disk_lost_blocks, (unsigned long long)disk, (unsigned long long)lost);
	else
		fprintf(stderr, "  drops    card fifo %llu, card ring full %llu, host corrupt blocks %llu "
				"(%llu frames): %llu lost in all\n",
			(unsigned long long)fifo, (unsigned long long)ring, (unsigned long long)st->corrupt_blocks,
			(unsigned long long)st->corrupt_records, (unsigned long long)lost);
	if (st->store)
		fprintf(stderr, "  store    index %.3f s CPU; retention removed %llu segments; %llu published without "
				"index; at start %u recovered, %u indexes rebuilt\n",
			rs->index_cpu_s, (unsigned long long)rs->deleted, (unsigned long long)rs->index_failures,
			rs->recovery.recovered, rs->recovery.rebuilt);
	fprintf(stderr, "  ring     %llu blocks of %u bytes consumed\n", (unsigned long long)st->blocks,
		st->block_size);
	if (a->pcie_path[0])
		fprintf(stderr, "  time     wall %.3f s; %.0f frames per wall second\n", st->wall_s,
			st->wall_s > 0 ? (double)st->records / st->wall_s : 0.0);
	else
		fprintf(stderr, "  time     wall %.3f s, simulated %.6f s; %.0f frames per wall second\n",
			st->wall_s, (double)st->card_elapsed_ns * 1e-9,
			st->wall_s > 0 ? (double)st->records / st->wall_s : 0.0);
}

/* Every frame the card received is either in the file or counted as lost at
 * some stage. Anything else is loss nobody counted: the one thing a capture
 * appliance must never do quietly. */
static bool accounting_holds(const struct fcap_capture_stats *st)
{
	const struct fcap_card_counters *c = &st->card;
	uint64_t rx = 0, lost = st->corrupt_records + (st->store ? st->rec.disk_lost_records : 0);
	for (unsigned p = 0; p < c->nports; p++) {
		rx += c->port[p].rx_frames;
		lost += c->port[p].drop_fifo + c->port[p].drop_ring;
	}
	if (st->records + lost == rx)
		return true;
	fprintf(stderr, "fcap capture: accounting mismatch: %llu captured + %llu lost != %llu received: "
			"frames went missing without being counted\n",
		(unsigned long long)st->records, (unsigned long long)lost, (unsigned long long)rx);
	return false;
}

static void store_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fcap capture: store: %s\n", line);
}

/* The per-record callback: the card's records are Ethernet frames. */
struct scoring {
	struct fcap_score_stream stream;
	uint64_t number;
};

static void score_record(void *ctx, const char *file, uint64_t offset, const struct fcap_record *r)
{
	struct scoring *sc = ctx;
	fcap_score_stream_packet(&sc->stream, file, offset, ++sc->number, FCAP_LINKTYPE_ETHERNET, r->ts, r->data,
				 r->caplen, r->origlen);
}

int cmd_capture(int argc, char **argv)
{
	struct capture_args a = {
		.device = "sim",
		.cfg = {
			.ring = { .timeout_ns = 10000000u }, /* blocks and block size: per device */
			.userappl = "fcap capture",
			.log = store_log,
		},
	};
	int rc = parse_args(argc, argv, &a);
	if (rc != EXIT_OK)
		return rc;

	char err[FCAP_ERRBUF_SIZE];
	struct fcap_model model;
	struct scoring scoring = { 0 };
	FILE *scores = NULL;
	if (a.model) {
		if (fcap_model_load(&model, a.model, err) < 0) {
			fprintf(stderr, "fcap capture: %s\n", err);
			return EXIT_RUNTIME;
		}
		scores = a.scores ? fopen(a.scores, "w") : stdout;
		if (!scores || fcap_score_stream_init(&scoring.stream, &model, scores, err) < 0) {
			fprintf(stderr, "fcap capture: %s\n", scores ? err : a.scores);
			if (scores && scores != stdout)
				fclose(scores);
			fcap_model_free(&model);
			return EXIT_RUNTIME;
		}
		fcap_score_stream_header(&scoring.stream);
		a.cfg.on_record = score_record;
		a.cfg.on_record_ctx = &scoring;
	}
	struct fcap_sim_dev_config sim_cfg = { .replay = a.replay, .nreplay = a.nreplay, .line_rate_bps = a.rate,
					       .bus = a.bus, .card = a.card };
	struct fcap_dev *dev = a.pcie_path[0] ? fcap_dev_open_pcie(a.pcie_path, true, err)
					      : fcap_dev_open_sim(&sim_cfg, err);
	if (!dev) {
		fprintf(stderr, "fcap capture: %s\n", err);
		return EXIT_RUNTIME;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct fcap_capture_stats st;
	rc = fcap_capture_run(dev, &a.cfg, &st, &stop_requested, err);
	fcap_dev_close(dev);
	if (!a.quiet && st.card_info.nports)
		print_summary(&a, &st);
	if (a.model) {
		fcap_score_stream_flush(&scoring.stream);
		if (!a.quiet)
			fprintf(stderr, "  scored   %llu frames; alerts %llu (both %llu, classifier %llu, anomaly %llu)\n",
				(unsigned long long)scoring.stream.packets,
				(unsigned long long)(scoring.stream.alerts[1] + scoring.stream.alerts[2] +
						     scoring.stream.alerts[3]),
				(unsigned long long)scoring.stream.alerts[1], (unsigned long long)scoring.stream.alerts[2],
				(unsigned long long)scoring.stream.alerts[3]);
		fcap_score_stream_free(&scoring.stream);
		if (scores != stdout && fclose(scores) != 0 && rc == 0)
			rc = fcap_err(err, "%s: write failed", a.scores);
		fcap_model_free(&model);
	}
	if (rc < 0) {
		fprintf(stderr, "fcap capture: %s\n", err);
		return EXIT_RUNTIME;
	}
	return st.card_info.nports && !accounting_holds(&st) ? EXIT_RUNTIME : EXIT_OK;
}
