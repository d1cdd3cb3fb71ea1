/* cmd_score.c - `fcap score`: a per-packet score stream for capture files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fcap/alert.h"
#include "fcap/crc32c.h"
#include "fcap/labels.h"
#include "fcap/packet.h"
#include "fcap/verdict.h"
#include "fcap/pcap_reader.h"
#include "fcap/score_stream.h"

static void help(void)
{
	printf("usage: fcap score -m MODEL [OPTIONS] FILE...\n"
	       "Scores every packet of pcap/pcapng files with a model from 'fcap train', in\n"
	       "fixed point, and writes one CSV line per packet:\n"
	       "  file,offset,packet,ts_ns,flow,anomaly,classifier,hybrid,alert[,label]\n"
	       "offset is the byte offset of the packet's record in the file and packet its\n"
	       "number (1-based, as tshark counts), so every line points at identical bytes.\n\n"
	       "  -m, --model MODEL       model file (required)\n"
	       "  -o, --output FILE       write the stream to FILE (default: standard output)\n"
	       "  -l, --labels FILE       add a label column from a label file\n"
	       "      --alerts            write only packets that alert\n"
	       "      --float             score with the double-precision reference path\n"
	       "      --eve FILE          write alerts as EVE JSON lines to FILE: alerting\n"
	       "                          packets grouped into alerts with their evidence and\n"
	       "                          explanation, then a stats event (docs/ALERTS.md)\n"
	       "      --group-by KEY      dst (default), src or flow: the host or flow one\n"
	       "                          alert gathers\n"
	       "      --window T          an alert closes after T without an alerting packet\n"
	       "                          of its key (default 10s)\n"
	       "      --journal FILE      verdict journal: its false-positive verdicts' active\n"
	       "                          suppression rules drop matching alerts\n"
	       "      --no-explain        leave the feature-group shares out (faster)\n"
	       "  -q, --quiet             no summary on standard error\n"
	       "  -h, --help              this text\n\n"
	       "Each file starts with fresh flow state.\n"
	       "exit status: 0 success, 1 a file or the model could not be read, 2 bad command line\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The model's identity in alerts: the CRC-32C of its file. */
int model_file_id(const char *path, char id[16], char *errbuf)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fcap_err(errbuf, "%s: %m", path);
	uint8_t buf[65536];
	uint32_t crc = 0;
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crc = fcap_crc32c(crc, buf, n);
	int rc = ferror(f) ? fcap_err(errbuf, "%s: read error", path) : 0;
	fclose(f);
	snprintf(id, 16, "%08x", crc);
	return rc;
}

static void alert_packet(void *ctx, const struct fcap_score_ref *ref, const struct fcap_feat_in *in,
			 const struct fcap_scores *sc, const double *feat)
{
	fcap_alerter_packet(ctx, ref->file, ref->offset, ref->number, in, sc, feat);
}

/* Scores one file. Packets the features cannot use fully are scored all
 * the same, but said: a link type the decoder does not know (no hosts or
 * ports: every such packet looks alike) and time running backwards (the
 * gap to an earlier packet counts as 0 in every decayed statistic). */
static int score_file(struct fcap_score_stream *s, const char *path, char *errbuf)
{
	struct fcap_pcap_reader *r = fcap_pcap_open(path, errbuf);
	if (!r)
		return -1;
	struct fcap_pkt p;
	uint64_t undecoded = 0, backwards = 0, prev_ts = 0, first_back_off = 0;
	uint32_t undecoded_type = 0;
	int rc;
	while ((rc = fcap_pcap_next(r, &p, errbuf)) > 0) {
		if (!fcap_packet_linktype_decoded(p.linktype) && undecoded++ == 0)
			undecoded_type = p.linktype;
		if (p.ts_ns < prev_ts && backwards++ == 0)
			first_back_off = p.offset;
		prev_ts = p.ts_ns;
		fcap_score_stream_packet(s, path, p.offset, p.number, p.linktype, p.ts_ns, p.data, p.caplen, p.origlen);
	}
	fcap_pcap_close(r);
	if (undecoded)
		fprintf(stderr, "fcap score: warning: %s: %llu packets of link type %u (first), which the scorer does "
			"not decode (it reads Ethernet, Linux cooked and raw IP): scored without hosts or ports\n",
			path, (unsigned long long)undecoded, undecoded_type);
	if (backwards)
		fprintf(stderr, "fcap score: warning: %s: %llu packets earlier than the packet before them (first at "
			"offset %llu): their gap counts as 0\n", path, (unsigned long long)backwards,
			(unsigned long long)first_back_off);
	return rc;
}

int cmd_score(int argc, char **argv)
{
	enum { O_ALERTS = 256, O_FLOAT, O_EVE, O_GROUP, O_WINDOW, O_JOURNAL, O_NOEXPLAIN };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "output", required_argument, NULL, 'o' },
		{ "labels", required_argument, NULL, 'l' }, { "alerts", no_argument, NULL, O_ALERTS },
		{ "float", no_argument, NULL, O_FLOAT },    { "quiet", no_argument, NULL, 'q' },
		{ "eve", required_argument, NULL, O_EVE },  { "group-by", required_argument, NULL, O_GROUP },
		{ "window", required_argument, NULL, O_WINDOW }, { "journal", required_argument, NULL, O_JOURNAL },
		{ "no-explain", no_argument, NULL, O_NOEXPLAIN },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *out_path = NULL, *labels = NULL, *eve_path = NULL, *journal = NULL;
	struct fcap_alert_config ac;
	fcap_alert_defaults(&ac);
	bool alerts = false, use_float = false, quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "m:o:l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'o': out_path = optarg; break;
		case 'l': labels = optarg; break;
		case O_ALERTS: alerts = true; break;
		case O_FLOAT: use_float = true; break;
		case 'q': quiet = true; break;
		case O_EVE: eve_path = optarg; break;
		case O_JOURNAL: journal = optarg; break;
		case O_NOEXPLAIN: ac.explain = false; break;
		case O_GROUP:
			if (!strcmp(optarg, "src"))
				ac.group_by = FCAP_GROUP_SRC;
			else if (!strcmp(optarg, "dst"))
				ac.group_by = FCAP_GROUP_DST;
			else if (!strcmp(optarg, "flow"))
				ac.group_by = FCAP_GROUP_FLOW;
			else
				return usage_error("score", "--group-by %s: expected src, dst or flow", optarg);
			break;
		case O_WINDOW:
			if (!parse_seconds(optarg, &ac.window_ns) || !ac.window_ns)
				return usage_error("score", "--window %s: expected a duration such as 60s", optarg);
			break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("score", "unknown option");
		}
	}
	if (!model)
		return usage_error("score", "no model: give -m MODEL");
	if (optind >= argc)
		return usage_error("score", "no capture file to score");
	if (journal && !eve_path)
		return usage_error("score", "--journal needs --eve");

	char errbuf[FCAP_ERRBUF_SIZE] = "";
	struct fcap_model m;
	if (fcap_model_load(&m, model, errbuf) < 0) {
		fprintf(stderr, "fcap score: %s\n", errbuf);
		return EXIT_RUNTIME;
	}
	struct fcap_labels *lab = NULL;
	if (labels && !(lab = fcap_labels_load(labels, errbuf))) {
		fprintf(stderr, "fcap score: %s\n", errbuf);
		fcap_model_free(&m);
		return EXIT_RUNTIME;
	}
	/* With --eve and no -o, the per-packet stream is not written. */
	FILE *out = out_path ? fopen(out_path, "w") : eve_path ? NULL : stdout;
	if (out_path && !out) {
		perror(out_path);
		fcap_labels_free(lab);
		fcap_model_free(&m);
		return EXIT_RUNTIME;
	}
	struct fcap_alerter *alerter = NULL;
	struct fcap_verdicts vd = { 0 };
	FILE *eve = NULL;
	int rc = 0;
	if (eve_path) {
		char id[16];
		rc = model_file_id(model, id, errbuf);
		if (rc == 0 && journal)
			rc = fcap_verdicts_load(&vd, journal, errbuf);
		for (size_t i = 0; rc == 0 && i < vd.nwarn; i++)
			fprintf(stderr, "fcap score: warning: %s\n", vd.warn[i]);
		if (rc == 0 && !(eve = fopen(eve_path, "w")))
			rc = fcap_err(errbuf, "%s: %m", eve_path);
		if (rc == 0 && !(alerter = fcap_alerter_new(&ac, &m, id, eve, errbuf)))
			rc = -1;
		if (rc == 0)
			fcap_alerter_rules(alerter, vd.rules, vd.nrules, now_epoch_ns());
	}
	struct fcap_score_stream s;
	if (rc == 0)
		rc = fcap_score_stream_init(&s, &m, out, errbuf);
	if (rc == 0) {
		if (alerter) {
			s.on_packet = alert_packet;
			s.on_packet_ctx = alerter;
		}
		s.alerts_only = alerts;
		s.use_float = use_float;
		s.labels = lab;
		fcap_score_stream_header(&s);
		double t0 = now_s();
		for (int i = optind; i < argc && rc == 0; i++) {
			if (i > optind)
				rc = fcap_score_stream_reset(&s, errbuf);
			if (rc == 0)
				rc = score_file(&s, argv[i], errbuf);
			fcap_score_stream_flush(&s);
			if (alerter)
				fcap_alerter_close_all(alerter);   /* evidence never spans files */
		}
		fcap_score_stream_flush(&s);
		if (alerter) {
			fcap_alerter_finish(alerter, NULL);
			struct fcap_alert_counts ct;
			fcap_alerter_counts(alerter, &ct);
			if (!quiet)
				fprintf(stderr, "fcap score: %llu alerts written to %s (%llu alerting packets), %llu "
						"suppressed by verdicts\n",
					(unsigned long long)ct.alerts, eve_path, (unsigned long long)ct.alert_packets,
					(unsigned long long)ct.suppressed);
		}
		double dt = now_s() - t0;
		struct fcap_feat_stats fst;
		fcap_features_stats(s.fx, &fst);
		if (!quiet)
			fprintf(stderr, "fcap score: feature state %zu bytes; last file: %llu entries made, %llu evicted "
					"(%llu idle, %llu for room)\n",
				fst.memory_bytes, (unsigned long long)fst.inserts,
				(unsigned long long)(fst.evict_idle + fst.evict_lru), (unsigned long long)fst.evict_idle,
				(unsigned long long)fst.evict_lru);
		if (!quiet)
			fprintf(stderr, "fcap score: %llu packets in %.3f s (%.0f per second), %s path; alerts: %llu "
					"(both %llu, classifier %llu, anomaly %llu)\n",
				(unsigned long long)s.packets, dt, dt > 0 ? s.packets / dt : 0.0,
				use_float ? "double" : "fixed-point",
				(unsigned long long)(s.alerts[1] + s.alerts[2] + s.alerts[3]), (unsigned long long)s.alerts[1],
				(unsigned long long)s.alerts[2], (unsigned long long)s.alerts[3]);
		fcap_score_stream_free(&s);
	}
	if (rc < 0)
		fprintf(stderr, "fcap score: %s\n", errbuf);
	if (out && out != stdout && fclose(out) != 0 && rc == 0) {
		perror(out_path);
		rc = -1;
	}
	if (eve && fclose(eve) != 0 && rc == 0) {
		perror(eve_path);
		rc = -1;
	}
	fcap_alerter_free(alerter);
	fcap_verdicts_free(&vd);
	fcap_labels_free(lab);
	fcap_model_free(&m);
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}
