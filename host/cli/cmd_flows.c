/* cmd_flows.c - `fcap flows`: flow records of capture files, printed and exported over IPFIX. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "cli.h"
#include "fcap/flowmeter.h"
#include "fcap/ipfix.h"
#include "fcap/pcap_reader.h"

static void help(void)
{
	printf("usage: fcap flows [OPTIONS] FILE...\n"
	       "Meters unidirectional IP flows in pcap/pcapng files (in order, as one capture)\n"
	       "and writes one CSV line per flow as it ends:\n"
	       "  proto,src,sport,dst,dport,ingress,packets,octets,start_ns,end_ns,end_reason\n"
	       "octets count IP headers and payload; ingress is the pcapng interface (the card\n"
	       "port in fcap's files); end_reason is IPFIX's: 1 idle, 4 end of capture, 5 no room.\n\n"
	       "  -x, --ipfix HOST:PORT   also export the flows over IPFIX (UDP) to a collector\n"
	       "      --domain ID         IPFIX observation domain (default 0)\n"
	       "      --template-every N  resend the templates every N messages (default 20)\n"
	       "      --pace US           wait US microseconds after each IPFIX message (default 0)\n"
	       "  -i, --idle SECONDS      a flow idle this long ends (default 15)\n"
	       "  -e, --entries N         flow table entries (default 65536); a full set ends its\n"
	       "                          least recently seen flow\n"
	       "  -o, --output FILE       write the CSV to FILE ('-' standard output, the default)\n"
	       "  -q, --quiet             no summary on standard error\n"
	       "  -h, --help              this text\n\n"
	       "exit status: 0 success, 1 a file could not be read or the collector is unusable,\n"
	       "2 bad command line\n");
}

struct flows_out {
	FILE *csv;
	struct fcap_ipfix *ipfix;
	uint64_t pace_us;
};

static void addr_str(const struct fcap_flow *f, const uint8_t *a, char *buf, size_t n)
{
	inet_ntop(f->ip_version == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n);
}

static void flow_out(void *ctx, const struct fcap_flow *f)
{
	struct flows_out *o = ctx;
	if (o->csv) {
		char s[64], d[64];
		addr_str(f, f->src, s, sizeof(s));
		addr_str(f, f->dst, d, sizeof(d));
		fprintf(o->csv, "%u,%s,%u,%s,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u\n", f->proto, s,
			f->sport, d, f->dport, f->ingress, f->packets, f->octets, f->start_ns, f->end_ns, f->end_reason);
	}
	if (o->ipfix) {
		struct fcap_ipfix_stats before, after;
		fcap_ipfix_stats(o->ipfix, &before);
		fcap_ipfix_add(o->ipfix, f);
		fcap_ipfix_stats(o->ipfix, &after);
		if (o->pace_us && after.messages != before.messages) {
			struct timespec ts = { (time_t)(o->pace_us / 1000000), (long)(o->pace_us % 1000000) * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

static int meter_file(struct fcap_flowmeter *m, const char *path, char *errbuf)
{
	struct fcap_pcap_reader *r = fcap_pcap_open(path, errbuf);
	if (!r)
		return -1;
	struct fcap_pkt p;
	int rc;
	while ((rc = fcap_pcap_next(r, &p, errbuf)) > 0) {
		struct fcap_pkt_info pi;
		fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
		fcap_flowmeter_packet(m, &pi, p.ifindex, p.ts_ns);
	}
	fcap_pcap_close(r);
	return rc;
}

int cmd_flows(int argc, char **argv)
{
	enum { O_DOMAIN = 256, O_TEMPLATE_EVERY, O_PACE };
	static const struct option opts[] = {
		{ "ipfix", required_argument, NULL, 'x' },
		{ "domain", required_argument, NULL, O_DOMAIN },
		{ "template-every", required_argument, NULL, O_TEMPLATE_EVERY },
		{ "pace", required_argument, NULL, O_PACE },
		{ "idle", required_argument, NULL, 'i' },
		{ "entries", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fcap_ipfix_config xc = { 0 };
	const char *out_path = "-";
	uint64_t idle_ns = 0, entries = 0, v;
	struct flows_out o = { 0 };
	bool quiet = false;
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "x:i:e:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'x': xc.collector = optarg; break;
		case O_DOMAIN:
			v = strtoull(optarg, &end, 10);
			if (*end || !*optarg || v > UINT32_MAX)
				return usage_error("flows", "--domain '%s': want 0 to 4294967295", optarg);
			xc.domain = (uint32_t)v;
			break;
		case O_TEMPLATE_EVERY:
			v = strtoull(optarg, &end, 10);
			if (*end || v < 1 || v > 1000000)
				return usage_error("flows", "--template-every '%s': want 1 to 1000000", optarg);
			xc.template_every = (unsigned)v;
			break;
		case O_PACE:
			o.pace_us = strtoull(optarg, &end, 10);
			if (*end || !*optarg || o.pace_us > 1000000)
				return usage_error("flows", "--pace '%s': want 0 to 1000000 microseconds", optarg);
			break;
		case 'i':
			if (!parse_seconds(optarg, &idle_ns) || idle_ns == 0)
				return usage_error("flows", "--idle '%s': want a duration above 0", optarg);
			break;
		case 'e':
			entries = strtoull(optarg, &end, 10);
			if (*end || entries < 8 || entries > (1u << 30))
				return usage_error("flows", "--entries '%s': want 8 to 2^30", optarg);
			break;
		case 'o': out_path = optarg; break;
		case 'q': quiet = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("flows", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("flows", "no capture file");

	char errbuf[FCAP_ERRBUF_SIZE] = "";
	if (xc.collector && !(o.ipfix = fcap_ipfix_open(&xc, errbuf))) {
		fprintf(stderr, "fcap flows: %s\n", errbuf);
		return EXIT_RUNTIME;
	}
	o.csv = strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
	if (!o.csv) {
		perror(out_path);
		fcap_ipfix_close(o.ipfix);
		return EXIT_RUNTIME;
	}
	struct fcap_flowmeter *m = fcap_flowmeter_new((uint32_t)entries, idle_ns, flow_out, &o, errbuf);
	int rc = m ? 0 : -1;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = meter_file(m, argv[i], errbuf);
	if (m) {
		/* Flows metered before a bad record are still reported. */
		fcap_flowmeter_finish(m);
		struct fcap_flowmeter_stats st;
		fcap_flowmeter_stats(m, &st);
		if (!quiet)
			fprintf(stderr, "fcap flows: %" PRIu64 " IP packets, %" PRIu64 " not IP; %" PRIu64
					" flows (%" PRIu64 " idle, %" PRIu64 " end of capture, %" PRIu64 " no room)\n",
				st.packets, st.not_ip, st.flows, st.ended[1], st.ended[4], st.ended[5]);
		fcap_flowmeter_free(m);
	}
	if (rc < 0)
		fprintf(stderr, "fcap flows: %s\n", errbuf);
	if (o.ipfix) {
		fcap_ipfix_flush(o.ipfix);
		struct fcap_ipfix_stats xs;
		fcap_ipfix_stats(o.ipfix, &xs);
		if (!quiet)
			fprintf(stderr, "fcap flows: IPFIX to %s: %" PRIu64 " messages, %" PRIu64 " records, %" PRIu64
					" template sets, %" PRIu64 " bytes, %" PRIu64 " refused\n",
				xc.collector, xs.messages, xs.records, xs.templates, xs.bytes, xs.send_errors);
		fcap_ipfix_close(o.ipfix);
	}
	if (o.csv != stdout && fclose(o.csv) != 0 && rc == 0) {
		perror(out_path);
		rc = -1;
	}
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}
