/* cmd_extract.c - `fcap extract`: packets out of a store, by time, host,
 * port, flow and tcpdump filter, in timestamp order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fcap/alert_file.h"
#include "fcap/extract.h"
#include "fcap/extract_evidence.h"

static void help(void)
{
	printf("usage: fcap extract -r DIR [OPTIONS] -w FILE|- [FILTER...]\n"
	       "       fcap extract --alert ID -a ALERTS -w FILE|-\n"
	       "Writes the packets of a store that match every given condition, from all\n"
	       "segments, rings and ports, in timestamp order (docs/STORE.md).\n\n"
	       "  -r, --read DIR        the store to read (-s, --store DIR: the same)\n"
	       "      --from TIME       packets at or after TIME (inclusive)\n"
	       "      --to TIME         packets before TIME (exclusive)\n"
	       "                        TIME: 1700000000.123456789 (seconds since the epoch,\n"
	       "                        up to 9 decimals) or 2023-11-14T22:13:20.123456789Z\n"
	       "      --host ADDR       IPv4/IPv6 source or destination (or ARP sender or\n"
	       "                        target) ADDR; repeat: all must match\n"
	       "      --port N          TCP, UDP or SCTP source or destination port N;\n"
	       "                        repeat: all must match\n"
	       "      --flow FLOW       one flow, both directions: 10.0.0.1:80>10.0.0.2:4242/tcp,\n"
	       "                        [2001:db8::1]:53>[2001:db8::2]:5353/udp, 10.0.0.1>10.0.0.2/icmp\n"
	       "  FILTER                a tcpdump filter expression (libpcap syntax), checked\n"
	       "                        on every candidate; its plain host/port terms also\n"
	       "                        narrow through the index\n"
	       "  -c COUNT              write only the first COUNT matches (in time order)\n"
	       "  -F, --format FMT      pcapng (default: records as stored) or pcap\n"
	       "                        (nanosecond pcap)\n"
	       "  -w, --write FILE      output file, or - for standard output\n"
	       "      --no-index        read every block in the time range instead of\n"
	       "                        using the index (slower; checks the index)\n"
	       "      --alert ID        the packets the scorer read for alert ID of the EVE\n"
	       "                        file given with -a, byte for byte as stored in the\n"
	       "                        scored file (pcap or pcapng, as it is); no other\n"
	       "                        condition applies (docs/ALERTS.md)\n"
	       "  -a, --alerts FILE     the EVE alert file (fcap score --eve)\n"
	       "  -q, --quiet           no summary\n"
	       "  -h, --help            this text\n\n"
	       "exit status: 0 success, 1 failure or damaged data (the output holds every\n"
	       "match that could be read; stderr names what was skipped), 2 bad command line\n");
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fcap extract: %s\n", line);
}

/* The progress line, on a terminal only. */
static void show_progress(void *ctx, uint64_t done, const struct fcap_extract_stats *st)
{
	bool *shown = ctx;
	fprintf(stderr, "\rfcap extract: segment %llu of %llu, %llu records checked, %llu matched   ",
		(unsigned long long)done, (unsigned long long)st->segments, (unsigned long long)st->candidates,
		(unsigned long long)st->matched);
	*shown = true;
}

/* The remaining arguments, joined by spaces, as tcpdump takes them. */
static char *join_args(int argc, char **argv)
{
	size_t n = 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = calloc(1, n);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* --alert: the evidence of one alert. The output is removed if it could
 * not be written whole. */
static int extract_alert(const char *alerts, const char *id, const char *outpath, bool quiet)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_alert_file af;
	if (fcap_alert_file_load(&af, alerts, err) < 0) {
		fprintf(stderr, "fcap extract: %s\n", err);
		return EXIT_RUNTIME;
	}
	const struct fcap_alert_rec *a = fcap_alert_file_find(&af, id);
	if (!a) {
		fprintf(stderr, "fcap extract: %s: no alert with id %s (%zu alerts in the file)\n", alerts, id, af.n);
		fcap_alert_file_free(&af);
		return EXIT_RUNTIME;
	}
	bool to_stdout = !strcmp(outpath, "-");
	FILE *out = to_stdout ? stdout : fopen(outpath, "wb");
	if (!out) {
		fprintf(stderr, "fcap extract: %s: cannot create: %m\n", outpath);
		fcap_alert_file_free(&af);
		return EXIT_RUNTIME;
	}
	uint64_t bytes = 0;
	int rc = fcap_extract_evidence(a->path, a->num, a->off, a->nev, out, &bytes, err);
	if (!to_stdout && fclose(out) != 0 && rc == 0)
		rc = fcap_err(err, "%s: write failed", outpath);
	else if (to_stdout && fflush(stdout) != 0 && rc == 0)
		rc = fcap_err(err, "standard output: write failed");
	if (rc < 0) {
		fprintf(stderr, "fcap extract: alert %s: %s\n", id, err);
		if (!to_stdout)
			unlink(outpath);
	} else if (!quiet) {
		fprintf(stderr, "fcap extract: alert %s: %zu packets (%llu bytes) from %s%s\n", id, a->nev,
			(unsigned long long)bytes, a->path,
			a->truncated ? "; the alert counted more packets than it listed (evidence truncated)" : "");
	}
	fcap_alert_file_free(&af);
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_extract(int argc, char **argv)
{
	enum { OPT_FROM = 256, OPT_TO, OPT_HOST, OPT_PORT, OPT_FLOW, OPT_NO_INDEX, OPT_ALERT };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "read", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "flow", required_argument, NULL, OPT_FLOW },
		{ "format", required_argument, NULL, 'F' },
		{ "count", required_argument, NULL, 'c' },
		{ "write", required_argument, NULL, 'w' },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "alert", required_argument, NULL, OPT_ALERT },
		{ "alerts", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fcap_query q = { .format = FCAP_OUT_PCAPNG };
	const char *dir = NULL, *outpath = NULL, *alert = NULL, *alerts = NULL;
	bool quiet = false, query = false;
	char err[FCAP_ERRBUF_SIZE];
	uint64_t v;
	int c;
	/* Options and filter words may mix, as with tcpdump; "--" ends the options. */
	while ((c = getopt_long(argc, argv, "r:s:F:w:c:a:qh", opts, NULL)) != -1) {
		if (c != 'w' && c != 'q' && c != OPT_ALERT && c != 'a' && c != 'h')
			query = true;
		switch (c) {
		case OPT_ALERT:
			alert = optarg;
			break;
		case 'a':
			alerts = optarg;
			break;
		case 'r':
		case 's':
			if (dir && strcmp(dir, optarg))
				return usage_error("extract", "-%c '%s': the store is already '%s'", c, optarg, dir);
			dir = optarg;
			break;
		case OPT_FROM:
		case OPT_TO:
			if (!parse_time_ns(optarg, c == OPT_FROM ? &q.from_ns : &q.to_ns))
				return usage_error("extract", "--%s '%s': expected seconds since the epoch "
						   "(1700000000.123456789) or 2023-11-14T22:13:20.123456789Z",
						   c == OPT_FROM ? "from" : "to", optarg);
			if (c == OPT_FROM)
				q.has_from = true;
			else
				q.has_to = true;
			break;
		case OPT_HOST:
			if (q.nhosts == FCAP_QUERY_MAX_TERMS)
				return usage_error("extract", "at most %d --host", FCAP_QUERY_MAX_TERMS);
			if (fcap_host_parse(optarg, &q.hosts[q.nhosts], err) < 0)
				return usage_error("extract", "--host: %s", err);
			q.nhosts++;
			break;
		case OPT_PORT:
			if (q.nports == FCAP_QUERY_MAX_TERMS)
				return usage_error("extract", "at most %d --port", FCAP_QUERY_MAX_TERMS);
			if (!parse_size(optarg, 65535, &v) || strspn(optarg, "0123456789") != strlen(optarg))
				return usage_error("extract", "--port '%s': expected 0..65535", optarg);
			q.ports[q.nports++] = (uint16_t)v;
			break;
		case OPT_FLOW:
			if (fcap_flow_parse(optarg, &q.flow, err) < 0)
				return usage_error("extract", "--flow: %s", err);
			q.has_flow = true;
			break;
		case 'c':
			if (!parse_size(optarg, UINT64_MAX, &q.count) || q.count == 0 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				return usage_error("extract", "-c '%s': expected a packet count above 0", optarg);
			break;
		case 'F':
			if (!strcmp(optarg, "pcapng"))
				q.format = FCAP_OUT_PCAPNG;
			else if (!strcmp(optarg, "pcap"))
				q.format = FCAP_OUT_PCAP_NS;
			else
				return usage_error("extract", "-F '%s': expected pcapng or pcap", optarg);
			break;
		case 'w':
			outpath = optarg;
			break;
		case OPT_NO_INDEX:
			q.no_index = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("extract", "bad option");
		}
	}
	if (alert || alerts) {
		if (!alert || !alerts)
			return usage_error("extract", "--alert ID and -a ALERTS go together");
		if (query || optind < argc)
			return usage_error("extract", "--alert takes no store, time, host, port, flow or filter");
		if (!outpath)
			return usage_error("extract", "no output: give -w FILE, or -w - for standard output");
		if (!strcmp(outpath, "-") && isatty(STDOUT_FILENO))
			return usage_error("extract", "standard output is a terminal: pipe it (| tshark -r -) or give -w FILE");
		return extract_alert(alerts, alert, outpath, quiet);
	}
	if (!dir)
		return usage_error("extract", "no store: give -r DIR");
	if (!outpath)
		return usage_error("extract", "no output: give -w FILE, or -w - for standard output");
	if (q.has_from && q.has_to && q.to_ns <= q.from_ns)
		return usage_error("extract", "--to must be after --from (the range is [from, to))");
	char *filter = optind < argc ? join_args(argc - optind, argv + optind) : NULL;
	if (filter) {
		if (fcap_filter_check(filter, err) < 0) {
			free(filter);
			return usage_error("extract", "%s", err);
		}
		q.filter = filter;
	}
	bool to_stdout = !strcmp(outpath, "-");
	if (to_stdout && isatty(STDOUT_FILENO)) {
		free(filter);
		return usage_error("extract", "standard output is a terminal: pipe it (| tshark -r -) or give -w FILE");
	}
	FILE *out = to_stdout ? stdout : fopen(outpath, "wb");
	if (!out) {
		fprintf(stderr, "fcap extract: %s: cannot create: %m\n", outpath);
		free(filter);
		return EXIT_RUNTIME;
	}
	static char obuf[1 << 20];
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	struct fcap_extract_stats st;
	bool progress_shown = false;
	if (!quiet && isatty(STDERR_FILENO)) {
		q.progress = show_progress;
		q.progress_ctx = &progress_shown;
	}
	int rc = fcap_extract(dir, &q, out, log_line, NULL, &st, err);
	if (progress_shown)
		fputc('\n', stderr);
	if (!to_stdout && fclose(out) != 0 && rc == 0)
		rc = fcap_err(err, "%s: write failed", outpath);
	else if (to_stdout && fflush(stdout) != 0 && rc == 0)
		rc = fcap_err(err, "standard output: write failed");
	free(filter);
	if (rc < 0) {
		fprintf(stderr, "fcap extract: %s\n", err);
		return EXIT_RUNTIME;
	}
	if (!quiet)
		fprintf(stderr, "fcap extract: %llu packets (%llu bytes) from %llu of %llu segments; %llu records "
				"checked%s%s\n",
			(unsigned long long)st.matched, (unsigned long long)st.bytes,
			(unsigned long long)st.segments_read, (unsigned long long)st.segments,
			(unsigned long long)st.candidates, st.filter_terms ? "; the filter narrowed through the index" : "",
			st.scanned ? "; some segments read without an index" : "");
	if (st.damaged) {
		fprintf(stderr, "fcap extract: incomplete: %u damaged blocks or records skipped (above); the output "
				"holds every match that could be read\n", st.damaged);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
