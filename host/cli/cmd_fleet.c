/* cmd_fleet.c - `fcap fleet`: a sensor's messages to the NATS JetStream cluster, and reading them back. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cli.h"
#include "fcap/fleet.h"
#include "fcap/fleet_extract.h"

static void help(void)
{
	printf("usage: fcap fleet init    -s SERVERS [--replicas N] [--max-age T] [--creds FILE]\n"
	       "       fcap fleet publish -s SERVERS --sensor ID --spool DIR [OPTIONS] [FILE|-]\n"
	       "       fcap fleet spool   --spool DIR\n"
	       "       fcap fleet alerts  -s SERVERS [--sensor ID] [--kind K] [--idle MS] [--creds FILE]\n"
	       "       fcap fleet serve   -s SERVERS --sensor ID --store DIR [--alerts EVE] [--creds FILE]\n"
	       "       fcap fleet extract -s SERVERS --sensor ID[,ID...] [CONDITIONS] -w FILE|- [FILTER...]\n"
	       "       fcap fleet extract -s SERVERS --sensor ID --alert ALERT_ID -w FILE|-\n"
	       "The fleet's streams on NATS JetStream, and extracts across sensors (docs/FLEET.md).\n\n"
	       "  init      create or update the streams FCAP_ALERTS, FCAP_FLOWS, FCAP_STATS\n"
	       "            (subjects fcap.*.alert, .flow, .stats; file storage; 2 min dedup window)\n"
	       "  publish   send each line of FILE (default: standard input) as one message to\n"
	       "            fcap.ID.KIND, through a bounded spool on disk; at the end, wait for\n"
	       "            the spool to drain (exit 1 if it does not: it is kept for next time)\n"
	       "  spool     say what a spool directory holds (messages waiting, segments,\n"
	       "            damage), without changing it\n"
	       "  alerts    print every message of a kind (default alert) as SENSOR<TAB>LINE,\n"
	       "            oldest first: all the stream holds, then more until none comes\n"
	       "            for --idle ms (default 1000)\n"
	       "  serve     answer extract requests on fcap.ID.extract from the store DIR,\n"
	       "            until SIGINT or SIGTERM; with --alerts, also requests for an\n"
	       "            alert's evidence (the alert looked up in that EVE file)\n"
	       "  extract   ask each --sensor (repeat, or a comma list) for the packets of\n"
	       "            its store that match, and write them merged in timestamp order\n"
	       "            as one pcapng, one interface per sensor port named SENSOR:PORT;\n"
	       "            exit 1 naming each sensor that did not answer whole\n\n"
	       "  -s, --servers URLS      nats://[USER:PASSWORD@]HOST:PORT[,nats://...]\n"
	       "      --creds FILE        NATS user credentials (JWT and nkey seed)\n"
	       "      --sensor ID         this sensor's id (publish) or one sensor (alerts)\n"
	       "      --spool DIR         the spool directory (publish)\n"
	       "      --spool-max SIZE    spool bound, e.g. 64M (default 64M); beyond it lines are\n"
	       "                          dropped and counted as overflow\n"
	       "      --kind K            alert, flow or stats (default alert)\n"
	       "      --drain-timeout T   publish: how long to wait for the spool at the end (default 30)\n"
	       "      --replicas N        init: copies of each stream (default 3)\n"
	       "      --max-age T         init: retention of each stream (default 7d)\n"
	       "      --store DIR         serve: the sensor's store\n"
	       "      --alerts EVE        serve: the sensor's alert file (fcap capture --eve), for\n"
	       "                          extracts by alert id\n"
	       "      --alert ID          extract: the evidence packets of alert ID (as `fcap\n"
	       "                          extract --alert`), from the sensor that raised it; no\n"
	       "                          other condition\n"
	       "      --from TIME, --to TIME, --host ADDR, --port N, --flow FLOW, -c COUNT, FILTER\n"
	       "                          extract: the conditions of `fcap extract` (fcap-extract(1))\n"
	       "  -w, --write FILE        extract: the output, - for standard output\n"
	       "      --timeout T         extract: how long to wait for the answers (default 30)\n"
	       "  -q, --quiet             no summary\n"
	       "exit status: 0 success, 1 the job failed, 2 bad command line\n");
}

struct fleet_args {
	const char *servers, *creds, *sensor, *spool, *kind, *store, *outpath, *alerts;
	uint64_t spool_max, drain_ns, max_age_ns, timeout_ns;
	long replicas, idle_ms;
	bool quiet;
	const char *sensors[FCAP_FLEET_MAX_SENSORS];
	size_t nsensors;
	char request[FCAP_FLEET_REQUEST_MAX];   /* extract: the conditions, one a line */
	size_t reqlen;
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
	if (st.server_errors)
		fprintf(stderr, "fcap fleet: sensor %s: the server reported %" PRIu64 " errors, the last: %s\n", a->sensor,
			st.server_errors, st.last_error);
	if (st.corrupt) {
		fprintf(stderr, "fcap fleet: sensor %s: %" PRIu64 " spool problems set aside, not sent (damaged "
				"messages or files, or messages too large for the server)\n", a->sensor, st.corrupt);
		rc = EXIT_RUNTIME;
	}
	if (st.spool_error[0])
		fprintf(stderr, "fcap fleet: sensor %s: %s\n", a->sensor, st.spool_error);
	if (st.publish_errors && st.publish_error[0])
		fprintf(stderr, "fcap fleet: sensor %s: the last failed attempt: %s\n", a->sensor, st.publish_error);
	if (!drained) {
		fprintf(stderr, "fcap fleet: %" PRIu64 " messages not acknowledged within the drain timeout: kept in %s\n",
			st.spooled, a->spool);
		rc = EXIT_RUNTIME;
	}
	return rc;
}

/* `fcap fleet spool`: what the spool holds, on standard output. */
static int spool_info(const struct fleet_args *a, int argc)
{
	if (!a->spool)
		return usage_error("fleet", "spool needs --spool DIR");
	if (optind < argc)
		return usage_error("fleet", "spool takes no arguments");
	struct fcap_fleet_spool_info in;
	char err[FCAP_ERRBUF_SIZE] = "";
	if (fcap_fleet_spool_info(a->spool, &in, err) < 0) {
		fprintf(stderr, "fcap fleet: %s\n", err);
		return EXIT_RUNTIME;
	}
	printf("spool %s: %" PRIu64 " messages waiting (%" PRIu64 " bytes) in %" PRIu64 " segments, %" PRIu64
	       " damaged stretches; %" PRIu64 " files of the one-file-per-message format; acknowledged up to %" PRIu64
	       "%s\n",
	       a->spool, in.waiting, in.bytes, in.segments, in.damaged, in.old_files, in.progress,
	       in.progress_damaged ? " (its progress file is damaged: everything goes again)" : "");
	return EXIT_OK;
}

static void print_msg(void *ctx, const char *sensor, const void *data, size_t len)
{
	(void)ctx;
	printf("%s\t%.*s\n", sensor, (int)len, (const char *)data);
}

static volatile sig_atomic_t stop_serving;

static void on_stop(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static void serve_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fcap fleet: %s\n", line);
}

static int serve(const struct fleet_args *a)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct fcap_fleet_serve_config cfg = { .servers = a->servers, .creds = a->creds, .sensor = a->sensor,
					       .store = a->store, .alerts = a->alerts, .stop = &stop_serving,
					       .log = serve_log };
	char err[FCAP_ERRBUF_SIZE] = "";
	long n = fcap_fleet_serve(&cfg, err);
	if (n < 0) {
		fprintf(stderr, "fcap fleet: sensor %s: %s\n", a->sensor, err);
		return EXIT_RUNTIME;
	}
	if (!a->quiet)
		fprintf(stderr, "fcap fleet: sensor %s: %ld requests answered\n", a->sensor, n);
	return EXIT_OK;
}

/* One line of the extract request: "KEY VALUE". */
static bool add_condition(struct fleet_args *a, const char *key, const char *value)
{
	if (strchr(value, '\n'))
		return false;
	int n = snprintf(a->request + a->reqlen, sizeof(a->request) - a->reqlen, "%s %s\n", key, value);
	if (n < 0 || (size_t)n >= sizeof(a->request) - a->reqlen)
		return false;
	a->reqlen += (size_t)n;
	return true;
}

static bool add_time(struct fleet_args *a, const char *key, const char *value)
{
	uint64_t ns;
	char num[32];
	if (!parse_time_ns(value, &ns))
		return false;
	snprintf(num, sizeof(num), "%" PRIu64, ns);
	return add_condition(a, key, num);
}

static bool add_sensors(struct fleet_args *a, char *list)
{
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (a->nsensors == FCAP_FLEET_MAX_SENSORS)
			return false;
		a->sensors[a->nsensors++] = t;
	}
	a->sensor = a->nsensors ? a->sensors[0] : NULL;
	return true;
}

static void report_answers(const struct fcap_fleet_answer *ans, size_t n, const struct fcap_fleet_extract_stats *st,
			   bool quiet)
{
	size_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		ok += ans[i].ok;
		if (!ans[i].ok)
			fprintf(stderr, "fcap fleet: sensor %s: %s\n", ans[i].sensor, ans[i].error);
		else if (!quiet)
			fprintf(stderr, "fcap fleet: sensor %s: %" PRIu64 " packets (%" PRIu64 " bytes in %" PRIu64
					" chunks) in %" PRId64 " ms\n",
				ans[i].sensor, ans[i].packets, ans[i].bytes, ans[i].chunks, ans[i].ms);
	}
	if (!quiet || ok < n)
		fprintf(stderr, "fcap fleet: %zu of %zu sensors answered: %" PRIu64 " packets on %" PRIu64
				" interfaces in %" PRId64 " ms\n",
			ok, n, st->packets, st->interfaces, st->ms);
}

static int extract(struct fleet_args *a, int argc, char **argv)
{
	if (!a->nsensors || !a->outpath)
		return usage_error("fleet", "extract needs --sensor ID and -w FILE");
	if (optind < argc) {
		char filter[FCAP_FLEET_REQUEST_MAX] = "";
		size_t len = 0;
		for (int i = optind; i < argc; i++) {
			int k = snprintf(filter + len, sizeof(filter) - len, "%s%s", i > optind ? " " : "", argv[i]);
			if (k < 0 || (size_t)k >= sizeof(filter) - len)
				return usage_error("fleet", "the filter is too long");
			len += (size_t)k;
		}
		if (!add_condition(a, "filter", filter))
			return usage_error("fleet", "the filter is too long or holds a newline");
	}
	char err[FCAP_ERRBUF_SIZE] = "";
	struct fcap_query q;
	char *filter = NULL;
	if (fcap_fleet_request_parse(a->request, a->reqlen, &q, &filter, err) < 0)
		return usage_error("fleet", "%s", err);
	free(filter);
	bool to_stdout = !strcmp(a->outpath, "-");
	if (to_stdout && isatty(STDOUT_FILENO))
		return usage_error("fleet", "standard output is a terminal: pipe it (| tshark -r -) or give -w FILE");
	FILE *out = to_stdout ? stdout : fopen(a->outpath, "wb");
	if (!out) {
		fprintf(stderr, "fcap fleet: %s: cannot create: %m\n", a->outpath);
		return EXIT_RUNTIME;
	}
	struct fcap_fleet_answer ans[FCAP_FLEET_MAX_SENSORS];
	struct fcap_fleet_extract_stats st;
	int failed = fcap_fleet_extract(a->servers, a->creds, a->request, a->sensors, a->nsensors,
					(int64_t)(a->timeout_ns / 1000000), out, ans, &st, err);
	if (!to_stdout && fclose(out) != 0 && failed >= 0)
		failed = fcap_err(err, "%s: write failed", a->outpath);
	if (failed < 0) {
		fprintf(stderr, "fcap fleet: extract: %s\n", err);
		return EXIT_RUNTIME;
	}
	report_answers(ans, a->nsensors, &st, a->quiet);
	return failed ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_fleet(int argc, char **argv)
{
	enum { O_CREDS = 256, O_SENSOR, O_SPOOL, O_SPOOL_MAX, O_KIND, O_DRAIN, O_REPLICAS, O_MAX_AGE, O_IDLE,
	       O_STORE, O_FROM, O_TO, O_HOST, O_PORT, O_FLOW, O_TIMEOUT, O_ALERT, O_ALERTS };
	static const struct option opts[] = {
		{ "servers", required_argument, NULL, 's' },	{ "creds", required_argument, NULL, O_CREDS },
		{ "sensor", required_argument, NULL, O_SENSOR },	{ "spool", required_argument, NULL, O_SPOOL },
		{ "spool-max", required_argument, NULL, O_SPOOL_MAX }, { "kind", required_argument, NULL, O_KIND },
		{ "drain-timeout", required_argument, NULL, O_DRAIN }, { "replicas", required_argument, NULL, O_REPLICAS },
		{ "max-age", required_argument, NULL, O_MAX_AGE },	{ "idle", required_argument, NULL, O_IDLE },
		{ "store", required_argument, NULL, O_STORE },	{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },	{ "flow", required_argument, NULL, O_FLOW },
		{ "timeout", required_argument, NULL, O_TIMEOUT },	{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "alert", required_argument, NULL, O_ALERT },	{ "alerts", required_argument, NULL, O_ALERTS },
		{ "quiet", no_argument, NULL, 'q' },		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	static struct fleet_args a;
	a = (struct fleet_args){ .kind = "alert", .spool_max = 64ull << 20, .drain_ns = 30000000000ull,
				 .max_age_ns = 7ull * 86400 * 1000000000ull, .replicas = 3, .idle_ms = 1000,
				 .timeout_ns = 30000000000ull };
	char *end;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "s:w:c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': a.servers = optarg; break;
		case O_CREDS: a.creds = optarg; break;
		case O_SENSOR:
			if (!add_sensors(&a, optarg))
				return usage_error("fleet", "at most %d sensors", FCAP_FLEET_MAX_SENSORS);
			break;
		case O_STORE: a.store = optarg; break;
		case O_ALERTS: a.alerts = optarg; break;
		case O_ALERT:
			if (!add_condition(&a, "alert", optarg))
				return usage_error("fleet", "the conditions are too long");
			break;
		case 'w': a.outpath = optarg; break;
		case O_FROM:
		case O_TO:
			if (!add_time(&a, c == O_FROM ? "from" : "to", optarg))
				return usage_error("fleet", "--%s '%s': want seconds since the epoch or an RFC 3339 time",
						   c == O_FROM ? "from" : "to", optarg);
			break;
		case O_HOST:
		case O_PORT:
		case O_FLOW:
		case 'c':
			if (!add_condition(&a, c == O_HOST ? "host" : c == O_PORT ? "port" : c == O_FLOW ? "flow" : "count",
					   optarg))
				return usage_error("fleet", "the conditions are too long");
			break;
		case O_TIMEOUT:
			if (!parse_seconds(optarg, &a.timeout_ns) || a.timeout_ns < 1000000)
				return usage_error("fleet", "--timeout '%s': want a duration", optarg);
			break;
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
	if (!strcmp(sub, "spool"))
		return spool_info(&a, argc);
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
	} else if (!strcmp(sub, "serve")) {
		if (!a.sensor || a.nsensors != 1 || !a.store)
			return usage_error("fleet", "serve needs one --sensor ID and --store DIR");
		if (optind < argc)
			return usage_error("fleet", "serve takes no arguments");
		rc = serve(&a);
	} else if (!strcmp(sub, "extract")) {
		rc = extract(&a, argc, argv);
		if (rc == EXIT_USAGE)
			return rc;
	} else {
		return usage_error("fleet", "unknown subcommand '%s': want init, publish, spool, alerts, serve or extract",
				   sub);
	}
	if (rc != EXIT_OK && err[0])
		fprintf(stderr, "fcap fleet: %s\n", err);
	fflush(stdout);
	nats_CloseAndWait(2000);   /* the library's threads and memory, for the leak checker */
	return rc;
}
