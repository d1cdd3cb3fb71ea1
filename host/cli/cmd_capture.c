/* cmd_capture.c - `fcap capture`: record a card's traffic to a pcapng file
 * or into a store of rotating, indexed segments. */
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <nats/nats.h>
#include <pcap/pcap.h>

#include "cli.h"
#include "fcap/capture.h"
#include "fcap/dev.h"
#include "fcap/fleet.h"
#include "fcap/metrics.h"
#include "fcap/pcap_reader.h"
#include "fcap/flowmeter.h"
#include "fcap/ipfix.h"
#include "fcap/stages.h"
#include "fcap/alert.h"
#include "fcap/verdict.h"
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
	printf("usage: fcap capture -i INTERFACE [-w FILE | --store DIR] [OPTIONS] [FILTER]\n"
	       "       fcap capture -r FILE [-w FILE | --store DIR] [OPTIONS] [FILTER]\n"
	       "       fcap capture -i sim -r [PORT:]FILE... [-w FILE | --store DIR] [OPTIONS]\n"
	       "Captures every frame into a pcapng file with nanosecond timestamps (where\n"
	       "the source has them), or into a store of rotating indexed segments\n"
	       "(docs/STORE.md), and prints what was captured and dropped, by stage.\n\n"
	       "source:\n"
	       "  -i, --interface IF      a network interface (eth0: through libpcap), a\n"
	       "                          card through the fcap driver (/dev/fcapN, pcie:N),\n"
	       "                          or sim: the simulated card (needs -r)\n"
	       "  -d, --device DEV        the same as -i\n"
	       "  -r, --read [PORT:]FILE  read a pcap or pcapng file through libpcap, keeping\n"
	       "                          its timestamps; with -i sim: the simulated card\n"
	       "                          receives it on PORT (default 0) at line rate;\n"
	       "                          repeat to queue several (sim only)\n"
	       "  FILTER                  a capture filter in tcpdump syntax (pcap-filter(7)),\n"
	       "                          after the options (interfaces and files only)\n"
	       "  -c COUNT                stop after COUNT frames (interfaces and files only)\n"
	       "  -s, --snaplen N         bytes kept per frame (default: all, 65535)\n"
	       "  -B, --buffer-size SIZE  kernel capture buffer of an interface (e.g. 64M)\n"
	       "      --card CARD         which simulated card: 4x10g (default: four 10G\n"
	       "                          ports) or 1x100g (one 100G port)\n"
	       "      --rate RATE         line rate of the simulated ports (default: their\n"
	       "                          speed, 10G or 100G)\n"
	       "      --bus LINK          PCIe link of the simulated card: gen3x8 (default),\n"
	       "                          gen3x16, gen4x16, or ideal (no link limits)\n"
	       "      --card-time TIME    start the simulated card's clock at TIME (seconds\n"
	       "                          since the epoch, 1700000000.25, or UTC as\n"
	       "                          2023-11-14T22:13:20Z), not the host's time: the\n"
	       "                          same input then gives the same file, byte for byte\n"
	       "output:\n"
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
	       "      --index-lag N|off   store: when N written blocks wait for the index\n"
	       "                          thread (or the queue is 3/4 full), a segment's\n"
	       "                          keys are indexed after it is published (default:\n"
	       "                          half the queue; 0: always; off: never, the ring\n"
	       "                          waits for indexing)\n"
	       "operation:\n"
	       "  -Z, --user USER         once the source is open, become USER and drop every\n"
	       "                          capability before any file is opened\n"
	       "      --metrics-dir DIR   write Prometheus metrics to DIR/fcap_IF.prom every\n"
	       "                          second (node-exporter textfile collector)\n"
	       "      --metrics-listen [ADDR:]PORT  serve them at http://ADDR:PORT/metrics\n"
	       "  -q, --quiet             no summary and no progress line\n"
	       "  -h, --help              this text\n"
	       "ring and card:\n"
	       "      --blocks N          ring blocks (default 16; a driver's card: its own)\n"
	       "      --block-size SIZE   ring block size, e.g. 256K, 1M (default 1M; a\n"
	       "                          driver's card: its own)\n"
	       "      --block-timeout T   close a block holding frames after T, e.g. 500us,\n"
	       "                          10ms (default 10ms): a quiet link still delivers\n"
	       "  -m, --model MODEL       score every captured frame with a model from\n"
	       "                          'fcap train' (fixed point) and write the score\n"
	       "                          stream (as 'fcap score' does) to --scores\n"
	       "      --scores FILE       where the score stream goes (default: stdout)\n"
	       "      --ipfix HOST:PORT   export flow records over IPFIX (UDP) as flows end\n"
	       "                          (docs/IPFIX.md)\n"
	       "      --flow-idle SECONDS a flow idle this long ends (default 15)\n"
	       "      --fleet URLS        publish to the fleet's NATS cluster, through the spool\n"
	       "                          (docs/FLEET.md): statistics (frames, bytes, drops by\n"
	       "                          stage, rates) as fcap.ID.stats every --fleet-every\n"
	       "                          (default 10s) and at the end; with --eve, each alert\n"
	       "                          line as fcap.ID.alert; one record per ended flow as\n"
	       "                          fcap.ID.flow (the flows --ipfix exports); needs\n"
	       "                          --sensor ID and --spool DIR; --creds FILE: NATS\n"
	       "                          credentials; --spool-max SIZE: the spool's bound\n"
	       "                          (default 64M; beyond it messages are refused and\n"
	       "                          counted)\n"
	       "      --eve FILE          alerts as EVE JSON lines (as 'fcap score --eve'), their\n"
	       "                          evidence in the file or segments written, then a stats\n"
	       "                          event with the capture's counts and drops by stage\n"
	       "      --journal FILE      with --eve: the verdict journal of 'fcap feedback': the\n"
	       "                          active suppression rules of its false positives drop\n"
	       "                          matching alerts (as 'fcap score --journal')\n"
	       "      --rings N           host rings to spread flows over by their hash\n"
	       "                          (default 1); each flow stays in order, but the\n"
	       "                          file interleaves the rings block by block\n"
	       "      --hash              record each frame's flow hash (epb_hash option)\n"
	       "      --irq-blocks N      interrupt once N blocks are published (default 1)\n"
	       "      --irq-delay T       ... or T after the first of them, e.g. 50us\n"
	       "                          (default: never on time alone; at most 1s)\n"
	       "      --poll              no interrupts: look at the rings every 20 us\n"
	       "      --stall AT:T        fault injection: after AT of card time, stop\n"
	       "                          consuming for T (e.g. 1ms:5ms); the card drops\n"
	       "                          and counts what the full ring cannot take\n"
	       "scoring:\n"
	       "  -m, --model MODEL       score every captured frame with a model from\n"
	       "                          'fcap train' (fixed point) and write the score\n"
	       "                          stream (as 'fcap score' does) to --scores\n"
	       "      --scores FILE       where the score stream goes (default: stdout)\n\n"
	       "A progress line is shown while stderr is a terminal. Ctrl-C (SIGINT) or\n"
	       "SIGTERM stops the capture cleanly.\n"
	       "exit status: 0 success, 1 the capture failed (or frames went missing\n"
	       "uncounted), 2 bad command line\n");
}

enum source_kind { SRC_SIM, SRC_PCIE, SRC_PCAP_LIVE, SRC_PCAP_FILE };

struct capture_args {
	const char *device;
	enum source_kind kind;
	char pcie_path[64];     /* set when device is a card behind the driver */
	char filter[4096];      /* the trailing words, joined */
	uint64_t count;
	uint64_t buffer_bytes;
	const char *user;
	const char *metrics_dir;
	const char *metrics_listen;
	bool replay_port_given;
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
	const char *eve;
	const char *journal;
	const char *ipfix;      /* collector, HOST:PORT */
	uint64_t flow_idle_ns;
	const char *fleet, *sensor, *spool, *creds;   /* --fleet: statistics to the cluster */
	uint64_t fleet_every_ns;
	uint64_t spool_max;     /* --spool-max, 0: the default */
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

/* What -i names: a card, the simulated card, or an interface for libpcap. */
static int classify_device(struct capture_args *a)
{
	char err[FCAP_ERRBUF_SIZE];
	if (!a->device) {
		if (a->nreplay == 0)
			return usage_error("capture", "no source: give -i INTERFACE (a network interface, "
					   "/dev/fcapN, sim) or -r FILE");
		if (a->nreplay > 1 || a->replay_port_given)
			return usage_error("capture", "several -r files or PORT:FILE feed the simulated card: "
					   "add -i sim");
		a->kind = SRC_PCAP_FILE;
		return EXIT_OK;
	}
	int pcie = fcap_dev_pcie_path(a->device, a->pcie_path, sizeof(a->pcie_path), err);
	if (pcie < 0)
		return usage_error("capture", "%s", err);
	if (pcie)
		a->kind = SRC_PCIE;
	else if (!strcmp(a->device, "sim"))
		a->kind = SRC_SIM;
	else if (!*a->device || strlen(a->device) > 64 || strchr(a->device, '/'))
		return usage_error("capture", "-i '%s': expected a network interface name, /dev/fcapN, "
				   "pcie:N or sim", a->device);
	else
		a->kind = SRC_PCAP_LIVE;
	if (a->kind == SRC_PCAP_LIVE && a->nreplay)
		return usage_error("capture", "-i %s captures live and -r reads a file: give one of them "
				   "(or -i sim -r FILE to replay through the simulated card)", a->device);
	if (a->kind == SRC_PCIE && (a->nreplay || a->rate_given))
		return usage_error("capture", "-r, --rate, --bus and --card-time drive the simulated card; %s captures "
				   "its own ports", a->device);
	if (a->kind == SRC_SIM && a->nreplay == 0)
		return usage_error("capture", "the simulated card needs traffic: give -r FILE");
	return EXIT_OK;
}

/* tcpdump's habit: the words after the options are one filter expression. */
static int join_filter(struct capture_args *a, int argc, char **argv, int first)
{
	size_t len = 0;
	for (int i = first; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (len + n + 2 > sizeof(a->filter))
			return usage_error("capture", "the capture filter is longer than %zu bytes",
					   sizeof(a->filter) - 1);
		if (len)
			a->filter[len++] = ' ';
		memcpy(a->filter + len, argv[i], n);
		len += n;
	}
	a->filter[len] = '\0';
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, struct capture_args *a)
{
	enum { OPT_RATE = 256, OPT_CARD, OPT_BUS, OPT_RINGS, OPT_HASH, OPT_BLOCKS, OPT_BLOCK_SIZE, OPT_BLOCK_TIMEOUT,
	       OPT_SCORES, OPT_EVE, OPT_IRQ_BLOCKS, OPT_IRQ_DELAY, OPT_POLL, OPT_STALL, OPT_STORE, OPT_MAX_AGE, OPT_MAX_SIZE,
	       OPT_BUFFERED, OPT_METRICS_DIR, OPT_METRICS_LISTEN, OPT_INDEX_LAG, OPT_IPFIX, OPT_FLOW_IDLE, OPT_FLEET,
	       OPT_SENSOR, OPT_SPOOL, OPT_CREDS, OPT_FLEET_EVERY, OPT_SPOOL_MAX, OPT_CARD_TIME, OPT_JOURNAL };
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "device", required_argument, NULL, 'd' },
		{ "read", required_argument, NULL, 'r' },
		{ "replay", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'Z' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "metrics-dir", required_argument, NULL, OPT_METRICS_DIR },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "card", required_argument, NULL, OPT_CARD },
		{ "bus", required_argument, NULL, OPT_BUS },
		{ "card-time", required_argument, NULL, OPT_CARD_TIME },
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
		{ "stall", required_argument, NULL, OPT_STALL },
		{ "model", required_argument, NULL, 'm' },
		{ "scores", required_argument, NULL, OPT_SCORES },
		{ "eve", required_argument, NULL, OPT_EVE },
		{ "journal", required_argument, NULL, OPT_JOURNAL },
		{ "ipfix", required_argument, NULL, OPT_IPFIX },
		{ "flow-idle", required_argument, NULL, OPT_FLOW_IDLE },
		{ "fleet", required_argument, NULL, OPT_FLEET },
		{ "sensor", required_argument, NULL, OPT_SENSOR },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "creds", required_argument, NULL, OPT_CREDS },
		{ "fleet-every", required_argument, NULL, OPT_FLEET_EVERY },
		{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "buffered", no_argument, NULL, OPT_BUFFERED },
		{ "index-lag", required_argument, NULL, OPT_INDEX_LAG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;
	/* '+': options end at the first word, which begins the filter. */
	while ((c = getopt_long(argc, argv, "+i:d:r:w:s:m:qhC:G:W:c:Z:B:", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'd':
			if (a->device && strcmp(a->device, optarg))
				return usage_error("capture", "-%c '%s': the source is already '%s'", c, optarg,
						   a->device);
			a->device = optarg;
			break;
		case 'r':
			if (a->nreplay == MAX_REPLAY)
				return usage_error("capture", "at most %d replay files", MAX_REPLAY);
			if (!parse_replay(optarg, &a->replay[a->nreplay]))
				return usage_error("capture", "-r '%s': expected FILE or PORT:FILE", optarg);
			if (a->replay[a->nreplay].path != optarg)
				a->replay_port_given = true;
			a->nreplay++;
			break;
		case 'c':
			if (!parse_size(optarg, UINT64_MAX, &a->count) || a->count == 0 || strspn(optarg, "0123456789") != strlen(optarg))
				return usage_error("capture", "-c '%s': expected a frame count above 0", optarg);
			break;
		case 'Z':
			if (!*optarg)
				return usage_error("capture", "-Z '': expected a user name");
			a->user = optarg;
			break;
		case 'B':
			if (!parse_size(optarg, 1u << 30, &a->buffer_bytes) || a->buffer_bytes < 65536)
				return usage_error("capture", "-B '%s': expected a buffer size from 64K to 1G", optarg);
			break;
		case OPT_METRICS_DIR:
			a->metrics_dir = optarg;
			break;
		case OPT_METRICS_LISTEN:
			a->metrics_listen = optarg;
			break;
		case OPT_RATE:
			if (!parse_rate(optarg, &a->rate))
				return usage_error("capture", "--rate '%s': expected a rate from 1M to 1000G, e.g. 10G",
						   optarg);
			a->rate_given = true;
			break;
		case OPT_CARD_TIME:
			if (!parse_time_ns(optarg, &v) || v == 0)
				return usage_error("capture", "--card-time '%s': expected seconds since the epoch "
						   "(1700000000.25) or UTC (2023-11-14T22:13:20Z)", optarg);
			a->cfg.ring.start_time_ns = v;
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
		case OPT_STALL: {
			char at[32];
			const char *colon = strchr(optarg, ':');
			if (!colon || (size_t)(colon - optarg) >= sizeof(at))
				return usage_error("capture", "--stall '%s': expected AT:T, e.g. 1ms:5ms", optarg);
			memcpy(at, optarg, (size_t)(colon - optarg));
			at[colon - optarg] = '\0';
			if (!parse_duration_ns(at, &a->cfg.stall_at_ns) || !parse_duration_ns(colon + 1, &a->cfg.stall_ns) ||
			    a->cfg.stall_ns == 0)
				return usage_error("capture", "--stall '%s': expected AT:T with durations, e.g. 1ms:5ms",
						   optarg);
			break;
		}
		case 'm':
			a->model = optarg;
			break;
		case OPT_SCORES:
			a->scores = optarg;
			break;
		case OPT_IPFIX:
			a->ipfix = optarg;
			break;
		case OPT_FLOW_IDLE:
			if (!parse_seconds(optarg, &a->flow_idle_ns) || a->flow_idle_ns == 0)
				return usage_error("capture", "--flow-idle '%s': want a duration above 0", optarg);
			break;
		case OPT_JOURNAL:
			a->journal = optarg;
			break;
		case OPT_EVE:
			a->eve = optarg;
			break;
		case OPT_FLEET:
			a->fleet = optarg;
			break;
		case OPT_SENSOR:
			a->sensor = optarg;
			break;
		case OPT_SPOOL:
			a->spool = optarg;
			break;
		case OPT_CREDS:
			a->creds = optarg;
			break;
		case OPT_SPOOL_MAX:
			if (!parse_size(optarg, 1ull << 40, &a->spool_max) || a->spool_max == 0)
				return usage_error("capture", "--spool-max '%s': want a size such as 64M", optarg);
			break;
		case OPT_FLEET_EVERY:
			if (!parse_seconds(optarg, &a->fleet_every_ns) || a->fleet_every_ns < 1000000000u)
				return usage_error("capture", "--fleet-every '%s': want a duration of 1s or more", optarg);
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
		case OPT_INDEX_LAG:
			if (!strcmp(optarg, "off"))
				a->cfg.index_lag = -2;
			else if (!parse_size(optarg, 1u << 20, &v))
				return usage_error("capture", "--index-lag '%s': expected a number of blocks or off", optarg);
			else
				a->cfg.index_lag = v ? (int32_t)v : -1;
			a->store_opts = true;
			break;
		case 'h':
			help();
			exit(EXIT_OK);
		default:
			return usage_error("capture", "bad option");
		}
	}
	if (join_filter(a, argc, argv, optind) != EXIT_OK)
		return EXIT_USAGE;
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
		return usage_error("capture", "-C, -G, -W, --max-age, --max-size, --buffered and --index-lag need --store DIR");
	if (classify_device(a) != EXIT_OK)
		return EXIT_USAGE;
	bool pcap = a->kind == SRC_PCAP_LIVE || a->kind == SRC_PCAP_FILE;
	if (!pcap && (a->filter[0] || a->count))
		return usage_error("capture", "a capture filter and -c work on interfaces and files; %s has no "
				   "filter stage", a->device);
	if (pcap && a->filter[0]) {
		/* A filter that does not compile is a bad argument, found before any device is opened. */
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
		struct bpf_program prog;
		if (!dead)
			return usage_error("capture", "out of memory checking the filter");
		int bad = pcap_compile(dead, &prog, a->filter, 1, PCAP_NETMASK_UNKNOWN);
		if (bad < 0) {
			usage_error("capture", "filter '%s': %s", a->filter, pcap_geterr(dead));
			pcap_close(dead);
			return EXIT_USAGE;
		}
		pcap_freecode(&prog);
		pcap_close(dead);
	}
	if (a->kind != SRC_SIM && a->rate_given)
		return usage_error("capture", "--card, --rate, --bus and --card-time drive the simulated card (-i sim)");
	if (a->buffer_bytes && a->kind != SRC_PCAP_LIVE)
		return usage_error("capture", "-B sizes the kernel buffer of a network interface");
	if (pcap && (a->cfg.ring.hash || (a->cfg.ring.rings && a->cfg.ring.rings != 1)))
		return usage_error("capture", "--rings and --hash need a card (libpcap gives one ring)");
	if (a->scores && !a->model)
		return usage_error("capture", "--scores needs --model");
	if (a->journal && !a->eve)
		return usage_error("capture", "--journal needs --eve");
	if (a->fleet && (!a->sensor || !a->spool))
		return usage_error("capture", "--fleet needs --sensor ID and --spool DIR");
	if (!a->fleet && (a->sensor || a->spool || a->creds || a->fleet_every_ns || a->spool_max))
		return usage_error("capture", "--sensor, --spool, --spool-max, --creds and --fleet-every go with --fleet");
	if (!a->fleet_every_ns)
		a->fleet_every_ns = 10000000000ull;
	if (a->kind == SRC_PCIE)
		return EXIT_OK;
	if (!a->cfg.ring.rings)
		a->cfg.ring.rings = 1;
	if (!a->cfg.ring.blocks)
		a->cfg.ring.blocks = 16;
	if (!a->cfg.ring.block_size)
		a->cfg.ring.block_size = 1u << 20;
	if (a->eve && !a->model)
		return usage_error("capture", "--eve needs --model");
	return EXIT_OK;
}

/* The card's counters summed over its ports: the summary, the alerts'
 * stats event and the accounting check read the same totals. */
struct card_totals {
	uint64_t rx, bytes, fifo, ring, errors, trunc, wire, filtered;
};

static struct card_totals card_totals(const struct fcap_capture_stats *st)
{
	const struct fcap_card_counters *c = &st->card;
	struct card_totals t = { 0 };
	for (unsigned p = 0; p < c->nports; p++) {
		t.rx += c->port[p].rx_frames;
		t.bytes += c->port[p].rx_bytes;
		t.fifo += c->port[p].drop_fifo;
		t.ring += c->port[p].drop_ring;
		t.errors += c->port[p].rx_errors;
		t.trunc += c->port[p].truncated;
		t.wire += c->port[p].drop_wire;
		t.filtered += c->port[p].filtered;
	}
	return t;
}

static void print_summary(const struct capture_args *a, const struct fcap_capture_stats *st)
{
	struct card_totals t = card_totals(st);
	uint64_t rx = t.rx, bytes = t.bytes, fifo = t.fifo, ring = t.ring, errors = t.errors, trunc = t.trunc;
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
	bool pcap = a->kind == SRC_PCAP_LIVE || a->kind == SRC_PCAP_FILE;
	/* A libpcap source's stages in its own words: its "card FIFO" is the
	 * kernel's capture buffer, its ring is fcap's own (fcap/stages.h). */
	const char *who = pcap ? "source  " : "card    ";
	const char *fifo_name = pcap ? "kernel buffer" : "card fifo";
	const char *ring_name = pcap ? "ring full" : "card ring full";
	if (pcap) {
		uint64_t wire = t.wire, filtered = t.filtered;
		fprintf(stderr, "  %s received %llu frames, %llu bytes (%llu truncated to the snap length); "
				"%llu rejected by the filter, %llu dropped by the interface (not received)\n",
			who, (unsigned long long)rx, (unsigned long long)bytes, (unsigned long long)trunc,
			(unsigned long long)filtered, (unsigned long long)wire);
	} else {
		fprintf(stderr, "  %s received %llu frames, %llu bytes; %llu with MAC errors, %llu truncated\n", who,
			(unsigned long long)rx, (unsigned long long)bytes, (unsigned long long)errors,
			(unsigned long long)trunc);
	}
	if (st->store)
		fprintf(stderr, "  drops    %s %llu, %s %llu (of which disk backlog %llu), host corrupt "
				"blocks %llu (%llu frames), disk %llu blocks (%llu frames): %llu lost in all\n",
			fifo_name, (unsigned long long)fifo, ring_name, (unsigned long long)ring,
			(unsigned long long)rs->backlog_drops,
			(unsigned long long)st->corrupt_blocks, (unsigned long long)st->corrupt_records,
			(unsigned long long)rs->disk_lost_blocks, (unsigned long long)disk, (unsigned long long)lost);
	else
		fprintf(stderr, "  drops    %s %llu, %s %llu, host corrupt blocks %llu "
				"(%llu frames): %llu lost in all\n",
			fifo_name, (unsigned long long)fifo, ring_name, (unsigned long long)ring,
			(unsigned long long)st->corrupt_blocks,
			(unsigned long long)st->corrupt_records, (unsigned long long)lost);
	if (st->store)
	{
		fprintf(stderr, "  store    index %.3f s CPU; retention removed %llu segments; %llu published without "
				"index; at start %u recovered, %u indexes rebuilt\n",
			rs->index_cpu_s, (unsigned long long)rs->deleted, (unsigned long long)rs->index_failures,
			rs->recovery.recovered, rs->recovery.rebuilt);
		fprintf(stderr, "  index    keys deferred (indexing behind the disk) in %llu segments, indexed late %llu "
				"(%.3f s CPU; %.3f s of it at close)\n",
			(unsigned long long)rs->index_deferred, (unsigned long long)rs->index_late, rs->index_late_cpu_s,
			rs->index_close_s);
	}
	fprintf(stderr, "  ring     %llu blocks of %u bytes consumed\n", (unsigned long long)st->blocks,
		st->block_size);
	if (a->kind != SRC_SIM)
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
	struct card_totals t = card_totals(st);
	uint64_t rx = t.rx, lost = t.fifo + t.ring + st->corrupt_records + (st->store ? st->rec.disk_lost_records : 0);
	if (st->records + lost == rx)
		return true;
	fprintf(stderr, "fcap capture: accounting mismatch: %llu captured + %llu lost != %llu received: "
			"frames went missing without being counted\n",
		(unsigned long long)st->records, (unsigned long long)lost, (unsigned long long)rx);
	return false;
}

/* The capture's counts for the alerts' stats event: what was received,
 * kept, and lost at each stage (the summary's figures). */
static void capture_json(const struct fcap_capture_stats *st, char *buf, size_t n)
{
	struct card_totals t = card_totals(st);
	uint64_t rx = t.rx, bytes = t.bytes, fifo = t.fifo, ring = t.ring, errors = t.errors, trunc = t.trunc;
	const struct fcap_recorder_stats *rs = &st->rec;
	uint64_t disk = st->store ? rs->disk_lost_records : 0;
	snprintf(buf, n,
		 "\"capture\":{\"received_frames\":%llu,\"received_bytes\":%llu,\"mac_errors\":%llu,\"truncated\":%llu,"
		 "\"recorded_frames\":%llu,\"drops\":{\"card_fifo\":%llu,\"card_ring_full\":%llu,"
		 "\"disk_backlog\":%llu,\"host_corrupt\":%llu,\"disk\":%llu,\"total\":%llu}}",
		 (unsigned long long)rx, (unsigned long long)bytes, (unsigned long long)errors, (unsigned long long)trunc,
		 (unsigned long long)st->records, (unsigned long long)fifo, (unsigned long long)ring,
		 (unsigned long long)(st->store ? rs->backlog_drops : 0), (unsigned long long)st->corrupt_records,
		 (unsigned long long)disk, (unsigned long long)(fifo + ring + st->corrupt_records + disk));
}

static void alert_packet(void *ctx, const struct fcap_score_ref *ref, const struct fcap_feat_in *in,
			 const struct fcap_scores *sc, const double *feat)
{
	fcap_alerter_packet(ctx, ref->file, ref->offset, ref->number, in, sc, feat);
}

static void store_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fcap capture: store: %s\n", line);
}

/* The per-record callback: the card's records are Ethernet frames. */
struct scoring {
	struct fcap_score_stream stream;
	struct fcap_alerter *alerter;   /* or NULL */
	struct fcap_verdicts verdicts;  /* --journal: the rules the alerter reads */
	uint64_t number;
	uint64_t ts_scale;              /* the records' time unit to ns (record_ts_scale) */
	char file[FCAP_STORE_PATH_MAX]; /* the file of the packets in the stream */
};

/* The capture's file name is only valid during the call (a store's
 * segment name lives in the recorder's reap record), while the stream and
 * the alerts keep it until they are flushed: they get a copy, and a new
 * file flushes them first (evidence never spans files). Returns the
 * record's decoded headers (fcap_score_stream_packet). */
static const struct fcap_pkt_info *score_packet(struct scoring *sc, const char *file, uint64_t offset,
						const struct fcap_record *r)
{
	if (strcmp(file, sc->file)) {
		fcap_score_stream_flush(&sc->stream);
		if (sc->alerter)
			fcap_alerter_close_all(sc->alerter);
		snprintf(sc->file, sizeof(sc->file), "%s", file);
		sc->number = 0;   /* packet numbers count within their file, as tshark's */
	}
	return fcap_score_stream_packet(&sc->stream, sc->file, offset, ++sc->number, FCAP_LINKTYPE_ETHERNET,
				       r->ts * sc->ts_scale, r->data, r->caplen, r->origlen);
}

static void score_record(void *ctx, const char *file, uint64_t offset, const struct fcap_record *r)
{
	score_packet(ctx, file, offset, r);
}

/* What the capture publishes to the fleet, indexing its counters and
 * subject names. */
enum fleet_kind { FLEET_ALERT, FLEET_FLOW, FLEET_STATS, FLEET_KINDS };

/* What runs beside the consume loop: the progress line, metrics, the
 * store's stats file, the service watchdog. */
struct ticker {
	const struct capture_args *a;
	bool progress;                 /* stderr is a terminal */
	bool progress_shown;
	struct fcap_metrics *metrics;
	bool ready_sent;
	uint64_t watchdog_ns, last_watchdog;
	uint64_t last_second;
	char stats_path[4200];
	struct fcap_fleet *fleet;      /* --fleet, or NULL */
	uint64_t last_fleet;           /* when the last snapshot went (mono ns) */
	struct fcap_stages fleet_prev; /* it, for the rates */
	uint64_t fleet_snapshots;
	/* what went into the spool by kind, and what a full spool refused */
	uint64_t fleet_alerts, fleet_flows, fleet_refused[FLEET_KINDS];
	uint64_t fleet_errors;         /* put failures (spool write errors) */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_stats_file(const char *path, const struct fcap_stages *sg)
{
	char line[512], tmp[4300];
	fcap_stages_format(sg, line, sizeof(line));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", line);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void publish_stages(struct ticker *t, const struct fcap_stages *sg)
{
	if (t->metrics) {
		char text[4096], err[FCAP_ERRBUF_SIZE];
		if (fcap_stages_prometheus(sg, t->a->device ? t->a->device : "file", text, sizeof(text)) >= 0 &&
		    fcap_metrics_publish(t->metrics, text, err) < 0)
			fprintf(stderr, "fcap capture: %s\n", err);
	}
	if (t->stats_path[0])
		write_stats_file(t->stats_path, sg);
}

/* One message into the fleet's spool. Never waits for the cluster; a full
 * spool refuses it (counted here and in the spool's overflow); a spool that
 * cannot be written is said once. */
static void fleet_put(struct ticker *t, enum fleet_kind kind, const char *data, size_t len)
{
	static const char *const kinds[FLEET_KINDS] = { "alert", "flow", "stats" };
	char err[FCAP_ERRBUF_SIZE];
	int rc = fcap_fleet_put(t->fleet, kinds[kind], data, len, err);
	if (rc == 0) {
		uint64_t *n[] = { &t->fleet_alerts, &t->fleet_flows, &t->fleet_snapshots };
		(*n[kind])++;
	} else if (rc > 0) {
		t->fleet_refused[kind]++;
	} else if (t->fleet_errors++ == 0) {
		fprintf(stderr, "fcap capture: fleet: %s\n", err);
	}
}

/* An alert's EVE line, as written to the --eve file, to fcap.ID.alert. */
static void fleet_alert(void *ctx, const char *line, size_t len)
{
	fleet_put(ctx, FLEET_ALERT, line, len);
}

/* One statistics snapshot to the fleet's spool: the stages, and the rates
 * since the previous snapshot. A full spool is counted there (overflow). */
static void fleet_snapshot(struct ticker *t, const struct fcap_stages *sg, uint64_t now, bool final)
{
	uint64_t dt = now - t->last_fleet;
	double fps = 0, bps = 0;
	if (t->last_fleet && dt) {
		fps = (double)(sg->captured - t->fleet_prev.captured) * 1e9 / (double)dt;
		bps = (double)(sg->bytes - t->fleet_prev.bytes) * 8e9 / (double)dt;
	}
	char line[1024];
	int n = snprintf(line, sizeof(line),
			 "{\"event_type\":\"stats\",\"sensor\":\"%s\",\"ts_ns\":%llu,\"final\":%s,"
			 "\"received\":%llu,\"captured\":%llu,\"bytes\":%llu,\"filter\":%llu,"
			 "\"drops\":{\"wire\":%llu,\"card_fifo\":%llu,\"ring_full\":%llu,\"host\":%llu,"
			 "\"disk_backlog\":%llu},\"rate\":{\"frames_per_s\":%.1f,\"bits_per_s\":%.0f}}",
			 t->a->sensor, (unsigned long long)now_epoch_ns(), final ? "true" : "false",
			 (unsigned long long)sg->received, (unsigned long long)sg->captured,
			 (unsigned long long)sg->bytes, (unsigned long long)sg->filter, (unsigned long long)sg->wire,
			 (unsigned long long)sg->card_fifo, (unsigned long long)sg->ring_full,
			 (unsigned long long)sg->host, (unsigned long long)sg->disk_backlog, fps, bps);
	if (n < 0 || (size_t)n >= sizeof(line))
		fprintf(stderr, "fcap capture: fleet: statistics snapshot too long: not sent\n");
	else
		fleet_put(t, FLEET_STATS, line, (size_t)n);
	t->last_fleet = now;
	t->fleet_prev = *sg;
}

/* At the end: what the spool could not send in a few seconds stays there
 * for the next run (or `fcap fleet publish` with the same spool). */
static void close_fleet(const struct capture_args *a, struct ticker *t)
{
	bool drained = fcap_fleet_drain(t->fleet, 10000) == 0;
	struct fcap_fleet_stats fs;
	fcap_fleet_stop(t->fleet);   /* the counts are final: what is left is on disk */
	fcap_fleet_stats(t->fleet, &fs);
	fcap_fleet_close(t->fleet);
	t->fleet = NULL;
	if (!a->quiet || !drained || fs.overflow || t->fleet_errors || fs.write_errors)
		fprintf(stderr, "fcap capture: fleet: sensor %s: spooled %llu alerts, %llu flows, %llu statistics "
				"snapshots; %llu acknowledged; refused (spool full) %llu alerts, %llu flows, %llu "
				"snapshots; %llu not written (spool errors); %llu left in the spool %s\n",
			a->sensor, (unsigned long long)t->fleet_alerts, (unsigned long long)t->fleet_flows,
			(unsigned long long)t->fleet_snapshots, (unsigned long long)fs.acked,
			(unsigned long long)t->fleet_refused[FLEET_ALERT], (unsigned long long)t->fleet_refused[FLEET_FLOW],
			(unsigned long long)t->fleet_refused[FLEET_STATS], (unsigned long long)(t->fleet_errors + fs.write_errors),
			(unsigned long long)fs.spooled, a->spool);
	if (fs.server_errors)
		fprintf(stderr, "fcap capture: fleet: the server reported %llu errors, the last: %s\n",
			(unsigned long long)fs.server_errors, fs.last_error);
	if (fs.corrupt)
		fprintf(stderr, "fcap capture: fleet: %llu spool problems set aside, not sent (damaged messages or "
				"files, or messages too large for the server)\n",
			(unsigned long long)fs.corrupt);
	if (fs.spool_error[0])
		fprintf(stderr, "fcap capture: fleet: %s\n", fs.spool_error);
	if (!drained && fs.publish_error[0])
		fprintf(stderr, "fcap capture: fleet: the last failed attempt: %s\n", fs.publish_error);
	nats_CloseAndWait(2000);
}

static void on_tick(void *ctx, struct fcap_dev *dev, const struct fcap_capture_stats *st)
{
	struct ticker *t = ctx;
	uint64_t now = mono_ns();
	if (!t->ready_sent) {
		/* The source is open, the output too, capture has started. */
		service_notify("READY=1\nSTATUS=capturing");
		t->ready_sent = true;
	}
	if (t->watchdog_ns && now - t->last_watchdog >= t->watchdog_ns / 2) {
		service_notify("WATCHDOG=1");
		t->last_watchdog = now;
	}
	if (now - t->last_second < 1000000000u)
		return;
	t->last_second = now;
	struct fcap_card_counters c;
	char err[FCAP_ERRBUF_SIZE];
	if (fcap_card_counters(dev, st->card_info.nports, &c, err) < 0)
		return;
	struct fcap_stages sg;
	fcap_stages_live(st, &c, &sg);
	publish_stages(t, &sg);
	if (t->fleet && now - t->last_fleet >= t->a->fleet_every_ns)
		fleet_snapshot(t, &sg, now, false);
	if (t->progress) {
		fprintf(stderr, "\rfcap: %llu frames, %.1f MB captured; %llu lost, %llu filtered   ",
			(unsigned long long)sg.captured, (double)sg.bytes / 1e6,
			(unsigned long long)(sg.card_fifo + sg.ring_full + sg.host + sg.disk_backlog),
			(unsigned long long)sg.filter);
		t->progress_shown = true;
	}
}

static struct fcap_dev *open_source(const struct capture_args *a, char *err)
{
	switch (a->kind) {
	case SRC_PCIE:
		return fcap_dev_open_pcie(a->pcie_path, true, err);
	case SRC_SIM: {
		struct fcap_sim_dev_config sim_cfg = { .replay = a->replay, .nreplay = a->nreplay,
						       .line_rate_bps = a->rate, .bus = a->bus, .card = a->card };
		return fcap_dev_open_sim(&sim_cfg, err);
	}
	default: {
		struct fcap_pcap_dev_config pc = {
			.interface = a->kind == SRC_PCAP_LIVE ? a->device : NULL,
			.file = a->kind == SRC_PCAP_FILE ? a->replay[0].path : NULL,
			.snaplen = a->cfg.ring.snaplen, .filter = a->filter[0] ? a->filter : NULL,
			.count = a->count, .buffer_bytes = (uint32_t)a->buffer_bytes,
			.ns_units = a->cfg.store_dir != NULL,
		};
		return fcap_dev_open_pcap(&pc, err);
	}
	}
}

/* What a record's timestamp unit is in ns: the card's are ns; a libpcap
 * source's are in its own unit (microseconds, unless a store asked for ns),
 * which the scorer and the flow meter, working in ns, must scale. */
static uint64_t record_ts_scale(const struct capture_args *a, struct fcap_dev *dev)
{
	if (a->kind != SRC_PCAP_FILE && a->kind != SRC_PCAP_LIVE)
		return 1;
	struct fcap_card_info ci;
	char ignored[FCAP_ERRBUF_SIZE];
	if (fcap_card_read_info(dev, &ci, ignored) == 0 && ci.ts_resol == 6)
		return 1000;
	return 1;
}

/* What watches each captured record when flows are metered: the flow meter,
 * and the scorer beside it (which decodes the headers for both). */
struct watchers {
	struct scoring *scoring;
	struct fcap_flowmeter *flows;
	uint64_t ts_scale;   /* to ns: 1000 for a libpcap source in microseconds (-w FILE), else 1 */
};

static void watch_record(void *ctx, const char *file, uint64_t offset, const struct fcap_record *r)
{
	struct watchers *w = ctx;
	struct fcap_pkt_info own;
	const struct fcap_pkt_info *pi = &own;
	if (w->scoring)
		pi = score_packet(w->scoring, file, offset, r);   /* decoded once, for both */
	else
		fcap_packet_decode(FCAP_LINKTYPE_ETHERNET, r->data, r->caplen, &own);
	fcap_flowmeter_packet(w->flows, pi, r->port, r->ts * w->ts_scale);
}

/* Where ended flows go: IPFIX (--ipfix), the fleet (--fleet), or both. */
struct flow_export {
	const struct capture_args *a;
	struct fcap_ipfix *ipfix;      /* or NULL */
	struct ticker *fleet;          /* its fleet, or NULL */
	struct fcap_flowmeter *meter;
};

/* One flow record as JSON for fcap.ID.flow: IPFIX's fields (docs/FLEET.md). */
static int flow_json(const char *sensor, const struct fcap_flow *f, char *buf, size_t n)
{
	static const char *const why[] = { "", "idle", "active", "end", "forced", "no room" };
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = f->ip_version == 6 ? AF_INET6 : AF_INET;
	if (!inet_ntop(af, f->src, s, sizeof(s)) || !inet_ntop(af, f->dst, d, sizeof(d)))
		return -1;
	return snprintf(buf, n,
			"{\"event_type\":\"flow\",\"sensor\":\"%s\",\"ingress\":%u,\"ip_version\":%u,\"proto\":%u,"
			"\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,\"packets\":%llu,"
			"\"bytes\":%llu,\"start_ns\":%llu,\"end_ns\":%llu,\"end_reason\":%u,\"end\":\"%s\"}",
			sensor, f->ingress, f->ip_version, f->proto, s, f->sport, d, f->dport,
			(unsigned long long)f->packets, (unsigned long long)f->octets, (unsigned long long)f->start_ns,
			(unsigned long long)f->end_ns, f->end_reason, f->end_reason < 6 ? why[f->end_reason] : "other");
}

static void flow_sink(void *ctx, const struct fcap_flow *f)
{
	const struct flow_export *x = ctx;
	if (x->ipfix)
		fcap_ipfix_add(x->ipfix, f);
	if (x->fleet) {
		char line[512];
		int n = flow_json(x->a->sensor, f, line, sizeof(line));
		if (n > 0 && (size_t)n < sizeof(line))
			fleet_put(x->fleet, FLEET_FLOW, line, (size_t)n);
	}
}

/* Flow records out as flows end: over IPFIX (--ipfix) and to the fleet
 * (--fleet), from one flow meter. */
static int start_flow_export(const struct capture_args *a, struct flow_export *x, char *err)
{
	if (a->ipfix) {
		struct fcap_ipfix_config xc = { .collector = a->ipfix };
		if (!(x->ipfix = fcap_ipfix_open(&xc, err)))
			return -1;
	}
	if (!(x->meter = fcap_flowmeter_new(0, a->flow_idle_ns, flow_sink, x, err))) {
		if (x->ipfix)
			fcap_ipfix_close(x->ipfix);
		x->ipfix = NULL;
		return -1;
	}
	return 0;
}

static void stop_flow_export(const struct capture_args *a, struct flow_export *x)
{
	fcap_flowmeter_finish(x->meter);
	struct fcap_flowmeter_stats fs;
	fcap_flowmeter_stats(x->meter, &fs);
	char where[256] = "";
	if (x->ipfix) {
		struct fcap_ipfix_stats xs;
		fcap_ipfix_flush(x->ipfix);
		fcap_ipfix_stats(x->ipfix, &xs);
		snprintf(where, sizeof(where), "; IPFIX to %s: %llu messages, %llu records, %llu refused", a->ipfix,
			 (unsigned long long)xs.messages, (unsigned long long)xs.records,
			 (unsigned long long)xs.send_errors);
	}
	if (x->fleet)
		snprintf(where + strlen(where), sizeof(where) - strlen(where), "; fleet fcap.%s.flow: %llu spooled",
			 a->sensor, (unsigned long long)x->fleet->fleet_flows);
	if (!a->quiet)
		fprintf(stderr, "  flows    %llu (%llu idle, %llu end of capture, %llu no room)%s\n",
			(unsigned long long)fs.flows, (unsigned long long)fs.ended[1], (unsigned long long)fs.ended[4],
			(unsigned long long)fs.ended[5], where);
	fcap_flowmeter_free(x->meter);
	x->meter = NULL;
	if (x->ipfix)
		fcap_ipfix_close(x->ipfix);
	x->ipfix = NULL;
}

/* --journal: the false positives' suppression rules, active now, for the
 * alerter (which keeps pointing at vd's rules: vd lives as long as it). */
static void apply_suppression(const struct fcap_verdicts *vd, struct fcap_alerter *alerter)
{
	for (size_t i = 0; i < vd->nwarn; i++)
		fprintf(stderr, "fcap capture: warning: %s\n", vd->warn[i]);
	fcap_alerter_rules(alerter, vd->rules, vd->nrules, now_epoch_ns());
}

/* The model, the score stream and the alerter (--eve): opened after the
 * privilege drop, as the -Z user. */
static int open_scoring(struct capture_args *a, struct fcap_model *model, struct scoring *scoring, FILE **scores,
			FILE **eve, struct fcap_alerter **alerter, char *err)
{
	if (fcap_model_load(model, a->model, err) < 0)
		return -1;
	/* with --eve and no --scores, no per-packet stream is written */
	*scores = a->scores ? fopen(a->scores, "w") : a->eve ? NULL : stdout;
	if ((a->scores && !*scores) || fcap_score_stream_init(&scoring->stream, model, *scores, err) < 0) {
		if (a->scores && !*scores)
			snprintf(err, FCAP_ERRBUF_SIZE, "%s: cannot create", a->scores);
		goto fail;
	}
	if (a->eve) {
		struct fcap_alert_config ac;
		char id[16];
		fcap_alert_defaults(&ac);
		err[0] = '\0';
		/* the journal first: a bad one must not cost the old EVE file */
		if ((a->journal && fcap_verdicts_load(&scoring->verdicts, a->journal, err) < 0) ||
		    model_file_id(a->model, id, err) < 0 || !(*eve = fopen(a->eve, "w")) ||
		    !(*alerter = fcap_alerter_new(&ac, model, id, *eve, err))) {
			if (!*eve && err[0] == '\0')
				snprintf(err, FCAP_ERRBUF_SIZE, "%s: cannot create", a->eve);
			fcap_verdicts_free(&scoring->verdicts);
			fcap_score_stream_free(&scoring->stream);
			goto fail;
		}
		scoring->alerter = *alerter;
		scoring->stream.on_packet = alert_packet;
		scoring->stream.on_packet_ctx = *alerter;
		apply_suppression(&scoring->verdicts, *alerter);
	}
	fcap_score_stream_header(&scoring->stream);
	a->cfg.on_record = score_record;
	a->cfg.on_record_ctx = scoring;
	return 0;
fail:
	if (*scores && *scores != stdout)
		fclose(*scores);
	if (*eve)
		fclose(*eve);
	*scores = *eve = NULL;
	fcap_model_free(model);
	return -1;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_args a = {
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
	/* 1. The source, with the privileges it needs (CAP_NET_RAW, the device node). */
	struct fcap_dev *dev = open_source(&a, err);
	if (!dev) {
		fprintf(stderr, "fcap capture: %s\n", err);
		return EXIT_RUNTIME;
	}
	/* 2. The metrics socket (a low port needs root too). */
	struct ticker t = { .a = &a, .progress = !a.quiet && isatty(STDERR_FILENO),
			    .watchdog_ns = service_watchdog_ns() };
	if (a.metrics_dir || a.metrics_listen) {
		t.metrics = fcap_metrics_open(a.metrics_dir, a.metrics_listen, a.device ? a.device : "file", err);
		if (!t.metrics) {
			fprintf(stderr, "fcap capture: %s\n", err);
			fcap_dev_close(dev);
			return EXIT_RUNTIME;
		}
	}
	/* 3. Nobody: from here on every file is opened as the -Z user. */
	if (a.user && drop_privileges(a.user, err, sizeof(err)) < 0) {
		fprintf(stderr, "fcap capture: %s\n", err);
		fcap_metrics_close(t.metrics);
		fcap_dev_close(dev);
		return EXIT_RUNTIME;
	}
	struct fcap_model model;
	struct scoring scoring = { 0 };
	FILE *scores = NULL, *eve = NULL;
	struct fcap_alerter *alerter = NULL;
	if (a.model && open_scoring(&a, &model, &scoring, &scores, &eve, &alerter, err) < 0) {
		fprintf(stderr, "fcap capture: %s\n", err);
		fcap_metrics_close(t.metrics);
		fcap_dev_close(dev);
		return EXIT_RUNTIME;
	}
	/* Flow records over IPFIX (--ipfix) and to the fleet (--fleet): the
	 * flow meter watches the records beside the scorer. */
	uint64_t ts_scale = record_ts_scale(&a, dev);
	scoring.ts_scale = ts_scale;
	struct watchers watchers = { .scoring = a.model ? &scoring : NULL, .ts_scale = ts_scale };
	struct flow_export flows = { .a = &a };
	if (a.ipfix || a.fleet) {
		if (start_flow_export(&a, &flows, err) < 0) {
			fprintf(stderr, "fcap capture: %s\n", err);
			fcap_metrics_close(t.metrics);
			fcap_dev_close(dev);
			return EXIT_RUNTIME;
		}
		watchers.flows = flows.meter;
		a.cfg.on_record = watch_record;
		a.cfg.on_record_ctx = &watchers;
	}
	if (a.fleet) {
		/* write behind: the consume loop never waits for the spool's disk */
		struct fcap_fleet_config fc = { .servers = a.fleet, .sensor = a.sensor, .creds = a.creds,
						.spool_dir = a.spool, .spool_max_bytes = a.spool_max,
						.write_behind = true };
		t.fleet = fcap_fleet_open(&fc, err);
		if (!t.fleet) {
			fprintf(stderr, "fcap capture: fleet: %s\n", err);
			stop_flow_export(&a, &flows);
			fcap_metrics_close(t.metrics);
			fcap_dev_close(dev);
			return EXIT_RUNTIME;
		}
		/* alerts (as written to --eve) and flow records go out too */
		flows.fleet = &t;
		if (alerter)
			fcap_alerter_on_line(alerter, fleet_alert, &t);
	}
	if (a.cfg.store_dir)
		snprintf(t.stats_path, sizeof(t.stats_path), "%s/fcap-stats", a.cfg.store_dir);
	a.cfg.tick = on_tick;
	a.cfg.tick_ctx = &t;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct fcap_capture_stats st;
	rc = fcap_capture_run(dev, &a.cfg, &st, &stop_requested, err);
	fcap_dev_close(dev);
	service_notify("STOPPING=1");
	if (t.progress_shown)
		fputc('\n', stderr);
	struct fcap_stages sg = { 0 };
	if (st.card_info.nports) {
		fcap_stages_from_capture(&st, &sg);
		publish_stages(&t, &sg);
	}
	fcap_metrics_close(t.metrics);
	if (!a.quiet && st.card_info.nports)
		print_summary(&a, &st);
	if (flows.meter)
		stop_flow_export(&a, &flows);   /* the flows still open end here */
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
		if (alerter) {
			char cap[1024];
			capture_json(&st, cap, sizeof(cap));
			fcap_alerter_finish(alerter, cap);
			struct fcap_alert_counts ct;
			fcap_alerter_counts(alerter, &ct);
			if (!a.quiet)
				fprintf(stderr, "  alerts   %llu written to %s; %llu suppressed by verdicts\n",
					(unsigned long long)ct.alerts, a.eve, (unsigned long long)ct.suppressed);
			fcap_alerter_free(alerter);
			fcap_verdicts_free(&scoring.verdicts);
			if (fclose(eve) != 0 && rc == 0)
				rc = fcap_err(err, "%s: write failed", a.eve);
		}
		if (scores && scores != stdout && fclose(scores) != 0 && rc == 0)
			rc = fcap_err(err, "%s: write failed", a.scores);
		fcap_model_free(&model);
	}
	/* Last, once every alert and flow is in the spool: the final
	 * statistics, and the wait for the spool to drain. */
	if (t.fleet) {
		if (st.card_info.nports)
			fleet_snapshot(&t, &sg, mono_ns(), true);
		close_fleet(&a, &t);
	}
	if (rc < 0) {
		fprintf(stderr, "fcap capture: %s\n", err);
		return EXIT_RUNTIME;
	}
	return st.card_info.nports && !accounting_holds(&st) ? EXIT_RUNTIME : EXIT_OK;
}
