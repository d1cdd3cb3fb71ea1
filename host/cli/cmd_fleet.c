/* cmd_fleet.c - `fcap fleet`: a sensor's messages to the NATS JetStream cluster, and reading them back. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "cli.h"
#include "fcap/fleet.h"

static void help(void)
{
	printf("usage: fcap fleet init    -s SERVERS [--replicas N] [--max-age T] [--creds FILE]\n"
	       "       fcap fleet publish -s SERVERS --sensor ID --spool DIR [OPTIONS] [FILE|-]\n"
	       "       fcap fleet alerts  -s SERVERS [--sensor ID] [--kind K] [--idle MS] [--creds FILE]\n"
	       "The fleet's streams on NATS JetStream (docs/FLEET.md).\n\n"
	       "  init      create or update the streams FCAP_ALERTS, FCAP_FLOWS, FCAP_STATS\n"
	       "            (subjects fcap.*.alert, .flow, .stats; file storage; 2 min dedup window)\n"
	       "  publish   send each line of FILE (default: standard input) as one message to\n"
	       "            fcap.ID.KIND, through a bounded spool on disk; at the end, wait for\n"
	       "            the spool to drain (exit 1 if it does not: it is kept for next time)\n"
	       "  alerts    print every message of a kind (default alert) as SENSOR<TAB>LINE,\n"
	       "            oldest first, until none comes for --idle ms (default 1000)\n\n"
	       "  -s, --servers URLS      nats://HOST:PORT[,nats://...]\n"
	       "      --creds FILE        NATS user credentials (JWT and nkey seed)\n"
	       "      --sensor ID         this sensor's id (publish) or one sensor (alerts)\n"
	       "      --spool DIR         the spool directory (publish)\n"
	       "      --spool-max SIZE    spool bound, e.g. 64M (default 64M); beyond it lines are\n"
	       "                          dropped and counted as overflow\n"
	       "      --kind K            alert, flow or stats (default alert)\n"
	       "      --drain-timeout T   publish: how long to wait for the spool at the end (default 30)\n"
	       "      --replicas N        init: copies of each stream (default 3)\n"
	       "      --max-age T         init: retention of each stream (default 7d)\n"
	       "  -q, --quiet             no summary\n"
	       "exit status: 0 success, 1 the job failed, 2 bad command line\n");
}

struct fleet_args {
	const char *servers, *creds, *sensor, *spool, *kind;
	uint64_t spool_max, drain_ns, max_age_ns;
	long replicas, idle_ms;
	bool quiet;
};

static int publish(const struct fleet_args *a, const char *path)
{
	char err[FCAP_ERRBUF_SIZE] = "";
	FILE *in = path && strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in) {
		perror(path);
		return EXIT_RUNTIME;
	}
	struct fcap_fleet_config cfg = { .servers = a->servers, .sensor = a->sensor, .creds = a->creds,
					 .spool_dir = a->spool, .spool_max_bytes = a->spool_max };
	struct fcap_fleet *f = fcap_fleet_open(&cfg, err);
	if (!f) {
		fprintf(stderr, "fcap fleet: %s\n", err);
		if (in != stdin)
			fclose(in);
		return EXIT_RUNTIME;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = EXIT_OK;
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		if (fcap_fleet_put(f, a->kind, line, (size_t)n, err) < 0) {
			fprintf(stderr, "fcap fleet: %s\n", err);
			rc = EXIT_RUNTIME;
			break;
		}
	}
	free(line);
	if (in != stdin)
		fclose(in);
	bool drained = fcap_fleet_drain(f, (int64_t)(a->drain_ns / 1000000)) == 0;
	struct fcap_fleet_stats st;
	fcap_fleet_stats(f, &st);
	fcap_fleet_close(f);
	if (!a->quiet)
		fprintf(stderr, "fcap fleet: sensor %s: %" PRIu64 " spooled, %" PRIu64 " overflow, %" PRIu64
				" acknowledged (%" PRIu64 " as duplicates), %" PRIu64 " failed attempts, %" PRIu64
				" left in the spool\n",
			a->sensor, st.put, st.overflow, st.acked, st.duplicates, st.publish_errors, st.spooled);
	if (!drained) {
		fprintf(stderr, "fcap fleet: %" PRIu64 " messages not acknowledged within the drain timeout: kept in %s\n",
			st.spooled, a->spool);
		rc = EXIT_RUNTIME;
	}
	return rc;
}

static void print_msg(void *ctx, const char *sensor, const void *data, size_t len)
{
	(void)ctx;
	printf("%s\t%.*s\n", sensor, (int)len, (const char *)data);
}

int cmd_fleet(int argc, char **argv)
{
	enum { O_CREDS = 256, O_SENSOR, O_SPOOL, O_SPOOL_MAX, O_KIND, O_DRAIN, O_REPLICAS, O_MAX_AGE, O_IDLE };
	static const struct option opts[] = {
		{ "servers", required_argument, NULL, 's' },	{ "creds", required_argument, NULL, O_CREDS },
		{ "sensor", required_argument, NULL, O_SENSOR },	{ "spool", required_argument, NULL, O_SPOOL },
		{ "spool-max", required_argument, NULL, O_SPOOL_MAX }, { "kind", required_argument, NULL, O_KIND },
		{ "drain-timeout", required_argument, NULL, O_DRAIN }, { "replicas", required_argument, NULL, O_REPLICAS },
		{ "max-age", required_argument, NULL, O_MAX_AGE },	{ "idle", required_argument, NULL, O_IDLE },
		{ "quiet", no_argument, NULL, 'q' },		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	struct fleet_args a = { .kind = "alert", .spool_max = 64ull << 20, .drain_ns = 30000000000ull,
				.max_age_ns = 7ull * 86400 * 1000000000ull, .replicas = 3, .idle_ms = 1000 };
	char *end;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': a.servers = optarg; break;
		case O_CREDS: a.creds = optarg; break;
		case O_SENSOR: a.sensor = optarg; break;
		case O_SPOOL: a.spool = optarg; break;
		case O_SPOOL_MAX:
			if (!parse_size(optarg, 1ull << 40, &a.spool_max) || a.spool_max == 0)
				return usage_error("fleet", "--spool-max '%s': want a size such as 64M", optarg);
			break;
		case O_KIND: a.kind = optarg; break;
		case O_DRAIN:
			if (!parse_seconds(optarg, &a.drain_ns))
				return usage_error("fleet", "--drain-timeout '%s': want a duration", optarg);
			break;
		case O_REPLICAS:
			a.replicas = strtol(optarg, &end, 10);
			if (*end || a.replicas < 1 || a.replicas > 5)
				return usage_error("fleet", "--replicas '%s': want 1 to 5", optarg);
			break;
		case O_MAX_AGE:
			if (!parse_seconds(optarg, &a.max_age_ns))
				return usage_error("fleet", "--max-age '%s': want a duration such as 7d", optarg);
			break;
		case O_IDLE:
			a.idle_ms = strtol(optarg, &end, 10);
			if (*end || a.idle_ms < 1 || a.idle_ms > 600000)
				return usage_error("fleet", "--idle '%s': want 1 to 600000 ms", optarg);
			break;
		case 'q': a.quiet = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("fleet", "unknown option");
		}
	}
	if (!a.servers)
		return usage_error("fleet", "no servers: give -s nats://HOST:PORT");
	if (strcmp(a.kind, "alert") && strcmp(a.kind, "flow") && strcmp(a.kind, "stats"))
		return usage_error("fleet", "--kind '%s': want alert, flow or stats", a.kind);
	char err[FCAP_ERRBUF_SIZE] = "";
	int rc;
	if (!strcmp(sub, "init")) {
		rc = fcap_fleet_init_streams(a.servers, a.creds, (int)a.replicas, (int64_t)(a.max_age_ns / 1000000000ull),
					     err) < 0 ? EXIT_RUNTIME : EXIT_OK;
	} else if (!strcmp(sub, "publish")) {
		if (!a.sensor || !a.spool)
			return usage_error("fleet", "publish needs --sensor ID and --spool DIR");
		if (optind + 1 < argc)
			return usage_error("fleet", "publish reads one file");
		rc = publish(&a, optind < argc ? argv[optind] : NULL);
	} else if (!strcmp(sub, "alerts")) {
		long n = fcap_fleet_read(a.servers, a.creds, a.kind, a.sensor, a.idle_ms, print_msg, NULL, err);
		if (n >= 0 && !a.quiet)
			fprintf(stderr, "fcap fleet: %ld messages\n", n);
		rc = n < 0 ? EXIT_RUNTIME : EXIT_OK;
	} else {
		return usage_error("fleet", "unknown subcommand '%s': want init, publish or alerts", sub);
	}
	if (rc != EXIT_OK && err[0])
		fprintf(stderr, "fcap fleet: %s\n", err);
	fflush(stdout);
	nats_CloseAndWait(2000);   /* the library's threads and memory, for the leak checker */
	return rc;
}
