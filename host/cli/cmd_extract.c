/* cmd_extract.c - `fcap extract`: packets out of a store, by time, host,
 * port, flow and tcpdump filter, in timestamp order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fcap/extract.h"

static void help(void)
{
	printf("usage: fcap extract -s DIR [OPTIONS] -w FILE|- [FILTER...]\n"
	       "Writes the packets of a store that match every given condition, from all\n"
	       "segments, rings and ports, in timestamp order (docs/STORE.md).\n\n"
	       "  -s, --store DIR       the store\n"
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
	       "  -F, --format FMT      pcapng (default: records as stored) or pcap\n"
	       "                        (nanosecond pcap)\n"
	       "  -w, --write FILE      output file, or - for standard output\n"
	       "      --no-index        read every block in the time range instead of\n"
	       "                        using the index (slower; checks the index)\n"
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

int cmd_extract(int argc, char **argv)
{
	enum { OPT_FROM = 256, OPT_TO, OPT_HOST, OPT_PORT, OPT_FLOW, OPT_NO_INDEX };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "flow", required_argument, NULL, OPT_FLOW },
		{ "format", required_argument, NULL, 'F' },
		{ "write", required_argument, NULL, 'w' },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fcap_query q = { .format = FCAP_OUT_PCAPNG };
	const char *dir = NULL, *outpath = NULL;
	bool quiet = false;
	char err[FCAP_ERRBUF_SIZE];
	uint64_t v;
	int c;
	/* Options and filter words may mix, as with tcpdump; "--" ends the options. */
	while ((c = getopt_long(argc, argv, "s:F:w:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
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
	if (!dir)
		return usage_error("extract", "no store: give -s DIR");
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
	int rc = fcap_extract(dir, &q, out, log_line, NULL, &st, err);
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
