/* cmd_alerts.c - `fcap alerts`: list, filter and show the alerts of an EVE
 * file, with their verdicts (docs/ALERTS.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fcap/alert_file.h"
#include "fcap/store.h"
#include "fcap/verdict.h"

static void help(void)
{
	printf("usage: fcap alerts -a ALERTS [OPTIONS]            list (and filter) alerts\n"
	       "       fcap alerts -a ALERTS [--json] show ID    one alert in full\n"
	       "Reads an EVE file written by 'fcap score --eve' and the verdicts of its journal.\n\n"
	       "  -a, --alerts FILE     the EVE alert file\n"
	       "  -j, --journal FILE    verdict journal (default: ALERTS.verdicts)\n"
	       "      --severity N      severity N or higher (1 is the highest)\n"
	       "      --sid N           signature id N\n"
	       "      --host ADDR       the alert's source, destination or grouping host\n"
	       "      --from TIME       last packet at or after TIME\n"
	       "      --to TIME         first packet before TIME\n"
	       "      --open            only alerts without a verdict\n"
	       "      --verdict V       only alerts whose latest verdict is V: fp or tp\n"
	       "      --json            show: the EVE line as written\n"
	       "  -h, --help            this text\n\n"
	       "exit status: 0 success, 1 unreadable file or unknown alert id, 2 bad command line\n");
}

struct filter {
	unsigned severity, sid;
	const char *host, *verdict;
	bool open, has_from, has_to;
	uint64_t from_ns, to_ns;
};

static const char *verdict_of(const struct fcap_verdicts *vs, const char *id)
{
	const struct fcap_verdict *v = fcap_verdicts_latest(vs, id);
	return !v ? "open" : v->false_positive ? "fp" : "tp";
}

static bool wanted(const struct filter *f, const struct fcap_alert_rec *a, const char *verdict)
{
	if (f->severity && (a->severity == 0 || a->severity > f->severity))
		return false;
	if (f->sid && a->sid != f->sid)
		return false;
	if (f->host && strcmp(f->host, a->src) && strcmp(f->host, a->dst) && strcmp(f->host, a->key))
		return false;
	if (f->has_from && a->last_ns < f->from_ns)
		return false;
	if (f->has_to && a->first_ns >= f->to_ns)
		return false;
	if (f->open && strcmp(verdict, "open"))
		return false;
	return !f->verdict || !strcmp(f->verdict, verdict);
}

static void show_shares(const struct fcap_json *o)
{
	for (size_t i = 0; o && o->type == FCAP_JSON_OBJECT && i < o->n; i++)
		printf(" %s %.0f%%", o->keys[i], o->kid[i].num * 100);
	printf("\n");
}

static void show(const struct fcap_alert_rec *a, const struct fcap_verdicts *vs, const char *alerts,
		 const char *journal)
{
	const struct fcap_json *fc = fcap_json_get(a->j, "fcap"), *ex = fcap_json_get(fc, "explanation"),
			       *md = fcap_json_get(fc, "model");
	char first[48], last[48];
	fcap_format_time(a->first_ns, first, sizeof(first));
	fcap_format_time(a->last_ns, last, sizeof(last));
	printf("alert %s  (%s, line %zu)\n", a->id, alerts, a->line);
	printf("  signature  %u: %s (severity %u)\n", a->sid, a->signature, a->severity);
	printf("  traffic    %s -> %s %s; grouped on %s; first flow %s\n", a->src, a->dst, a->proto, a->key, a->flow);
	printf("  score      %.4f over the threshold 0 (rule %s); anomaly %.4f, its threshold %.4f\n", a->score,
	       a->rule, fcap_json_get_num(fc, "anomaly", 0), fcap_json_get_num(fc, "anomaly_threshold", 0));
	printf("  model      %s %s, version %llu\n", fcap_json_get_str(md, "kind", "?"), fcap_json_get_str(md, "id", "?"),
	       (unsigned long long)fcap_json_get_u64(md, "version", 0));
	printf("  time       %s .. %s\n", first, last);
	printf("  evidence   %llu packets (%zu listed%s) in %s\n", (unsigned long long)a->count, a->nev,
	       a->truncated ? ", truncated" : "", a->path);
	if (a->nev)
		printf("             packets %llu .. %llu, offsets %llu .. %llu\n", (unsigned long long)a->num[0],
		       (unsigned long long)a->num[a->nev - 1], (unsigned long long)a->off[0],
		       (unsigned long long)a->off[a->nev - 1]);
	if (ex) {
		printf("  drivers    feature groups:");
		show_shares(fcap_json_get(ex, "feature_groups"));
		printf("             time scales:");
		show_shares(fcap_json_get(ex, "time_scales"));
	}
	printf("  extract    fcap extract --alert %s -a %s -w %s.pcap%s\n", a->id, alerts, a->id,
	       strstr(a->path, ".pcapng") ? "ng" : "");
	const struct fcap_verdict *v = fcap_verdicts_latest(vs, a->id);
	if (v)
		printf("  verdict    %s (journal %s)%s%s\n", v->false_positive ? "false positive" : "true positive",
		       journal, v->note[0] ? ": " : "", v->note);
	else
		printf("  verdict    none (open)\n");
}

int load_alerts_with_verdicts(const char *cmd, const char *alerts, const char *journal, char *used,
			      struct fcap_alert_file *af, struct fcap_verdicts *vs)
{
	char err[FCAP_ERRBUF_SIZE];
	if (journal)
		snprintf(used, FCAP_VERDICT_PATH_MAX, "%s", journal);
	else
		snprintf(used, FCAP_VERDICT_PATH_MAX, "%s.verdicts", alerts);
	journal = used;
	if (fcap_alert_file_load(af, alerts, err) < 0) {
		fprintf(stderr, "fcap %s: %s\n", cmd, err);
		return -1;
	}
	if (fcap_verdicts_load(vs, journal, err) < 0) {
		fprintf(stderr, "fcap %s: %s\n", cmd, err);
		fcap_alert_file_free(af);
		return -1;
	}
	for (size_t i = 0; i < vs->nwarn; i++)
		fprintf(stderr, "fcap %s: warning: %s\n", cmd, vs->warn[i]);
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	enum { O_SEV = 256, O_SID, O_HOST, O_FROM, O_TO, O_OPEN, O_VERDICT, O_JSON };
	static const struct option opts[] = {
		{ "alerts", required_argument, NULL, 'a' },   { "journal", required_argument, NULL, 'j' },
		{ "severity", required_argument, NULL, O_SEV }, { "sid", required_argument, NULL, O_SID },
		{ "host", required_argument, NULL, O_HOST },  { "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },      { "open", no_argument, NULL, O_OPEN },
		{ "verdict", required_argument, NULL, O_VERDICT }, { "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	const char *alerts = NULL, *journal = NULL;
	struct filter f = { 0 };
	bool json = false;
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "a:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alerts = optarg; break;
		case 'j': journal = optarg; break;
		case O_SEV:
			if (!parse_size(optarg, 3, &v) || !v)
				return usage_error("alerts", "--severity %s: expected 1, 2 or 3", optarg);
			f.severity = (unsigned)v;
			break;
		case O_SID:
			if (!parse_size(optarg, UINT32_MAX, &v) || !v)
				return usage_error("alerts", "--sid %s: expected a signature id", optarg);
			f.sid = (unsigned)v;
			break;
		case O_HOST: f.host = optarg; break;
		case O_FROM:
		case O_TO:
			if (!parse_time_ns(optarg, c == O_FROM ? &f.from_ns : &f.to_ns))
				return usage_error("alerts", "'%s': expected seconds since the epoch or an ISO time", optarg);
			*(c == O_FROM ? &f.has_from : &f.has_to) = true;
			break;
		case O_OPEN: f.open = true; break;
		case O_VERDICT:
			if (strcmp(optarg, "fp") && strcmp(optarg, "tp"))
				return usage_error("alerts", "--verdict %s: expected fp or tp", optarg);
			f.verdict = optarg;
			break;
		case O_JSON: json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("alerts", "unknown option");
		}
	}
	if (!alerts)
		return usage_error("alerts", "no alert file: give -a ALERTS");
	const char *show_id = NULL;
	if (optind < argc) {
		if (strcmp(argv[optind], "show") && strcmp(argv[optind], "list"))
			return usage_error("alerts", "'%s': expected list or show ID", argv[optind]);
		if (!strcmp(argv[optind], "show")) {
			if (optind + 2 != argc)
				return usage_error("alerts", "show takes one alert id");
			show_id = argv[optind + 1];
		} else if (optind + 1 != argc) {
			return usage_error("alerts", "list takes no argument (filters are options)");
		}
	}
	struct fcap_alert_file af;
	struct fcap_verdicts vs;
	char jpath[FCAP_VERDICT_PATH_MAX];
	if (load_alerts_with_verdicts("alerts", alerts, journal, jpath, &af, &vs) < 0)
		return EXIT_RUNTIME;
	journal = jpath;
	int rc = EXIT_OK;
	if (show_id) {
		const struct fcap_alert_rec *a = fcap_alert_file_find(&af, show_id);
		if (!a) {
			fprintf(stderr, "fcap alerts: %s: no alert with id %s (%zu alerts in the file)\n", alerts, show_id,
				af.n);
			rc = EXIT_RUNTIME;
		} else if (json) {
			/* the line as written: the text between this line's start and newline */
			const char *t = af.text;
			for (size_t l = 1; l < a->line; l++)
				t = strchr(t, '\n') + 1;
			const char *e = strchr(t, '\n');
			printf("%.*s\n", (int)(e ? e - t : (ptrdiff_t)strlen(t)), t);
		} else {
			show(a, &vs, alerts, journal);
		}
	} else {
		size_t shown = 0;
		printf("%-16s  %-30s  %3s  %-7s  %-10s  %-39s  %8s  %7s  %s\n", "id", "first packet", "sev", "sid", "rule",
		       "source -> destination", "packets", "score", "verdict");
		for (size_t i = 0; i < af.n; i++) {
			const struct fcap_alert_rec *a = &af.a[i];
			const char *verdict = verdict_of(&vs, a->id);
			if (!wanted(&f, a, verdict))
				continue;
			char t[48], sd[160];
			fcap_format_time(a->first_ns, t, sizeof(t));
			snprintf(sd, sizeof(sd), "%s -> %s", a->src, a->dst);
			printf("%-16s  %-30s  %3u  %-7u  %-10s  %-39s  %8llu  %7.3f  %s\n", a->id, t, a->severity, a->sid,
			       a->rule, sd, (unsigned long long)a->count, a->score, verdict);
			shown++;
		}
		fprintf(stderr, "fcap alerts: %zu of %zu alerts\n", shown, af.n);
	}
	fcap_verdicts_free(&vs);
	fcap_alert_file_free(&af);
	return rc;
}
