/* cmd_score.c - `fcap score`: a per-packet score stream for capture files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fcap/labels.h"
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

static int score_file(struct fcap_score_stream *s, const char *path, char *errbuf)
{
	struct fcap_pcap_reader *r = fcap_pcap_open(path, errbuf);
	if (!r)
		return -1;
	struct fcap_pkt p;
	int rc;
	while ((rc = fcap_pcap_next(r, &p, errbuf)) > 0)
		fcap_score_stream_packet(s, path, p.offset, p.number, p.linktype, p.ts_ns, p.data, p.caplen, p.origlen);
	fcap_pcap_close(r);
	return rc;
}

int cmd_score(int argc, char **argv)
{
	enum { O_ALERTS = 256, O_FLOAT };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "output", required_argument, NULL, 'o' },
		{ "labels", required_argument, NULL, 'l' }, { "alerts", no_argument, NULL, O_ALERTS },
		{ "float", no_argument, NULL, O_FLOAT },    { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *out_path = NULL, *labels = NULL;
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
		case 'h': help(); return EXIT_OK;
		default: return usage_error("score", "unknown option");
		}
	}
	if (!model)
		return usage_error("score", "no model: give -m MODEL");
	if (optind >= argc)
		return usage_error("score", "no capture file to score");

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
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		fcap_labels_free(lab);
		fcap_model_free(&m);
		return EXIT_RUNTIME;
	}
	struct fcap_score_stream s;
	int rc = fcap_score_stream_init(&s, &m, out, errbuf);
	if (rc == 0) {
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
		}
		fcap_score_stream_flush(&s);
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
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		perror(out_path);
		rc = -1;
	}
	fcap_labels_free(lab);
	fcap_model_free(&m);
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}
