/*
 * cmd_report.c - `fcap report`: one self-contained HTML page for an EVE
 * alert file: summary, capture statistics with drops by stage, the score
 * timeline with its threshold and the alerts (inline SVG), and a card per
 * alert with its evidence, extraction command, feature contributions and
 * verdict (docs/ALERTS.md). No script, no style sheet or font from
 * anywhere: the page opens offline.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fcap/alert_file.h"
#include "fcap/store.h"
#include "fcap/verdict.h"

#define SVG_W 1000
#define SVG_H 260
#define PLOT_L 50
#define PLOT_R 990
#define PLOT_T 15
#define PLOT_B 225

static void help(void)
{
	printf("usage: fcap report -a ALERTS [-j JOURNAL] -o REPORT.html\n"
	       "Writes one self-contained HTML page (inline SVG, no network resource) for an\n"
	       "EVE alert file of 'fcap score --eve' or 'fcap capture --eve'.\n\n"
	       "  -a, --alerts FILE     the EVE alert file\n"
	       "  -j, --journal FILE    verdict journal (default: ALERTS.verdicts)\n"
	       "  -o, --output FILE     the HTML file to write\n"
	       "  -h, --help            this text\n\n"
	       "exit status: 0 success, 1 unreadable input or unwritable output, 2 bad command line\n");
}

/* Text into HTML (element content and attribute values alike). */
static void html(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *const STYLE =
	"body{font-family:sans-serif;margin:20px;color:#222;background:#fff}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
	"table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;font-size:13px}"
	".card{border:1px solid #999;border-radius:6px;padding:10px 14px;margin:12px 0;background:#f7f7fb}"
	".sev1{border-left:8px solid #c0392b}.sev2{border-left:8px solid #e67e22}.sev3{border-left:8px solid #f1c40f}"
	"code{background:#eee;padding:2px 4px;font-size:12px}.muted{color:#666;font-size:12px}";

static double stat_num(const struct fcap_json *o, const char *k)
{
	return fcap_json_get_num(o, k, 0);
}

static void summary(FILE *f, const struct fcap_alert_file *af, const char *alerts)
{
	const struct fcap_json *fc = fcap_json_get(af->stats, "fcap"), *md = fcap_json_get(fc, "model");
	fputs("<h2>Summary</h2><table>", f);
	fputs("<tr><th>alert file</th><td>", f);
	html(f, alerts);
	fprintf(f, "</td></tr><tr><th>alerts</th><td>%zu</td></tr>", af->n);
	if (fc) {
		fprintf(f, "<tr><th>packets scored</th><td>%.0f</td></tr><tr><th>alerting packets</th><td>%.0f</td></tr>"
			   "<tr><th>alerts suppressed by verdicts</th><td>%.0f</td></tr>",
			stat_num(fc, "packets"), stat_num(fc, "alert_packets"), stat_num(fc, "suppressed"));
		fputs("<tr><th>model</th><td>", f);
		html(f, fcap_json_get_str(md, "kind", "?"));
		fputs(" ", f);
		html(f, fcap_json_get_str(md, "id", "?"));
		fprintf(f, ", version %.0f, %.0f features; anomaly threshold %.4f</td></tr>", stat_num(md, "version"),
			stat_num(md, "features"), stat_num(fc, "anomaly_threshold"));
	}
	fputs("</table>", f);

	fputs("<h2>Capture statistics</h2>", f);
	const struct fcap_json *cap = fcap_json_get(fc, "capture"), *dr = fcap_json_get(cap, "drops");
	if (!cap) {
		fputs("<p>Scored from capture files (<code>fcap score</code>): no capture stage, so no drops to "
		      "count. <code>fcap capture --eve</code> reports them.</p>", f);
		return;
	}
	fprintf(f, "<table><tr><th>received by the card</th><td>%.0f frames, %.0f bytes</td></tr>"
		   "<tr><th>recorded</th><td>%.0f frames</td></tr><tr><th>MAC errors / truncated</th><td>%.0f / %.0f</td></tr>"
		   "</table><table style=\"margin-top:8px\"><tr><th>drops by stage</th><th>frames</th></tr>",
		stat_num(cap, "received_frames"), stat_num(cap, "received_bytes"), stat_num(cap, "recorded_frames"),
		stat_num(cap, "mac_errors"), stat_num(cap, "truncated"));
	static const char *const stages[][2] = { { "card_fifo", "card FIFO" }, { "card_ring_full", "card ring full" },
						 { "disk_backlog", "of which disk backlog" },
						 { "host_corrupt", "host: corrupt blocks" }, { "disk", "disk" },
						 { "total", "lost in all" } };
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		fprintf(f, "<tr><td>%s</td><td>%.0f</td></tr>", stages[i][1], stat_num(dr, stages[i][0]));
	fputs("</table>", f);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The score timeline: max score per bucket, the threshold, the alerts' spans. */
static void timeline(FILE *f, const struct fcap_alert_file *af)
{
	const struct fcap_json *tl = fcap_json_get(fcap_json_get(af->stats, "fcap"), "timeline"),
			       *mx = fcap_json_get(tl, "max_score");
	fputs("<h2>Score timeline</h2>", f);
	if (!tl || !mx || mx->type != FCAP_JSON_ARRAY || mx->n == 0) {
		fputs("<p>No timeline in the alert file.</p>", f);
		return;
	}
	double t0 = (double)fcap_json_get_u64(tl, "start_ns", 0), bns = (double)fcap_json_get_u64(tl, "bucket_ns", 1);
	double span = bns * (double)mx->n, lo = -4, hi = 1;
	for (size_t i = 0; i < mx->n; i++)
		if (mx->kid[i].type == FCAP_JSON_NUMBER)
			hi = fmax(hi, mx->kid[i].num);
	hi = ceil(fmin(hi, 12));
#define X(t) (PLOT_L + (PLOT_R - PLOT_L) * clampd(((t) - t0) / span, 0, 1))
#define Y(v) (PLOT_B - (PLOT_B - PLOT_T) * (clampd(v, lo, hi) - lo) / (hi - lo))
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "role=\"img\" aria-label=\"score timeline\">", SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#888\"/>", PLOT_L, PLOT_T,
		PLOT_R - PLOT_L, PLOT_B - PLOT_T);
	for (size_t i = 0; i < af->n; i++) {
		const struct fcap_alert_rec *a = &af->a[i];
		double x0 = X((double)a->first_ns), x1 = X((double)a->last_ns + bns);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.18\">"
			   "<title>", x0, PLOT_T, fmax(x1 - x0, 1.5), PLOT_B - PLOT_T,
			a->severity == 1 ? "#c0392b" : a->severity == 2 ? "#e67e22" : "#d4ac0d");
		html(f, a->id);
		fputs("</title></rect>", f);
	}
	fputs("<polyline fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"1.2\" points=\"", f);
	for (size_t i = 0; i < mx->n; i++) {
		if (mx->kid[i].type != FCAP_JSON_NUMBER) {
			fputs("\"/><polyline fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"1.2\" points=\"", f);
			continue;
		}
		fprintf(f, "%.1f,%.1f ", X(t0 + bns * ((double)i + 0.5)), Y(mx->kid[i].num));
	}
	fputs("\"/>", f);
	fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>",
		PLOT_L, PLOT_R, Y(0), Y(0));
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#c0392b\">threshold</text>", PLOT_R - 60, Y(0) - 4);
	for (double v = lo; v <= hi; v += (hi - lo) > 8 ? 2 : 1)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%g</text>", PLOT_L - 4, Y(v) + 3, v);
	for (int k = 0; k <= 5; k++)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.0f s</text>",
			PLOT_L + (PLOT_R - PLOT_L) * k / 5.0, PLOT_B + 14, span * k / 5.0 * 1e-9);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">highest score per %.3g s (log2 of score over threshold; "
		   "shaded: alerts)</text></svg>", PLOT_L, SVG_H - 8, bns * 1e-9);
#undef X
#undef Y
}

/* Horizontal bars of an object of shares. */
static void bars(FILE *f, const char *what, const struct fcap_json *o)
{
	if (!o || o->type != FCAP_JSON_OBJECT)
		return;
	fprintf(f, "<div class=\"muted\">%s</div><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"%zu\">",
		what, o->n * 16 + 4);
	for (size_t i = 0; i < o->n; i++) {
		double v = clampd(o->kid[i].num, 0, 1);
		fprintf(f, "<text x=\"0\" y=\"%zu\" font-size=\"11\">", i * 16 + 13);
		html(f, o->keys[i]);
		fprintf(f, "</text><rect x=\"60\" y=\"%zu\" width=\"%.1f\" height=\"11\" fill=\"#1f4e9c\"/>"
			   "<text x=\"%.1f\" y=\"%zu\" font-size=\"11\">%.0f%%</text>",
			i * 16 + 3, 300 * v, 66 + 300 * v, i * 16 + 13, v * 100);
	}
	fputs("</svg>", f);
}

static void card(FILE *f, const struct fcap_alert_rec *a, const struct fcap_verdicts *vs, const char *alerts)
{
	const struct fcap_json *fc = fcap_json_get(a->j, "fcap"), *ex = fcap_json_get(fc, "explanation");
	char first[48], last[48];
	fcap_format_time(a->first_ns, first, sizeof(first));
	fcap_format_time(a->last_ns, last, sizeof(last));
	fprintf(f, "<div class=\"card sev%u\"><b>", a->severity >= 1 && a->severity <= 3 ? a->severity : 3);
	html(f, a->signature);
	fprintf(f, "</b> <span class=\"muted\">sid %u, severity %u, alert ", a->sid, a->severity);
	html(f, a->id);
	fputs("</span><table style=\"margin-top:6px\"><tr><th>traffic</th><td>", f);
	html(f, a->src);
	fputs(" &rarr; ", f);
	html(f, a->dst);
	fputs(" ", f);
	html(f, a->proto);
	fputs(", grouped on ", f);
	html(f, a->key);
	fprintf(f, "</td></tr><tr><th>score</th><td>%.3f over the threshold (rule ", a->score);
	html(f, a->rule);
	fprintf(f, "; anomaly %.4f, threshold %.4f)</td></tr><tr><th>time</th><td>%s .. %s</td></tr>",
		fcap_json_get_num(fc, "anomaly", 0), fcap_json_get_num(fc, "anomaly_threshold", 0), first, last);
	fprintf(f, "<tr><th>evidence</th><td>%llu packets (%zu listed%s) in ", (unsigned long long)a->count, a->nev,
		a->truncated ? ", truncated" : "");
	html(f, a->path);
	if (a->nev)
		fprintf(f, "<br>packets %llu .. %llu, byte offsets %llu .. %llu", (unsigned long long)a->num[0],
			(unsigned long long)a->num[a->nev - 1], (unsigned long long)a->off[0],
			(unsigned long long)a->off[a->nev - 1]);
	fputs("</td></tr><tr><th>extract</th><td><code>fcap extract --alert ", f);
	html(f, a->id);
	fputs(" -a ", f);
	html(f, alerts);
	fputs(" -w ", f);
	html(f, a->id);
	fputs(strstr(a->path, ".pcapng") ? ".pcapng" : ".pcap", f);
	fputs("</code></td></tr>", f);
	const struct fcap_verdict *v = fcap_verdicts_latest(vs, a->id);
	fputs("<tr><th>verdict</th><td>", f);
	if (v) {
		fputs(v->false_positive ? "false positive" : "true positive", f);
		if (v->note[0]) {
			fputs(": ", f);
			html(f, v->note);
		}
	} else {
		fputs("none (open)", f);
	}
	fputs("</td></tr></table>", f);
	if (ex) {
		fprintf(f, "<div style=\"display:flex;gap:30px;margin-top:6px\"><div>");
		bars(f, "feature groups driving the anomaly score", fcap_json_get(ex, "feature_groups"));
		fputs("</div><div>", f);
		bars(f, "time scales", fcap_json_get(ex, "time_scales"));
		fputs("</div></div>", f);
	}
	fputs("</div>", f);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alerts", required_argument, NULL, 'a' }, { "journal", required_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *alerts = NULL, *journal = NULL, *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "a:j:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alerts = optarg; break;
		case 'j': journal = optarg; break;
		case 'o': out = optarg; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("report", "unknown option");
		}
	}
	if (!alerts || !out)
		return usage_error("report", "give -a ALERTS and -o REPORT.html");
	if (optind < argc)
		return usage_error("report", "unexpected argument '%s'", argv[optind]);
	struct fcap_alert_file af;
	struct fcap_verdicts vs;
	char jpath[FCAP_VERDICT_PATH_MAX];
	if (load_alerts_with_verdicts("report", alerts, journal, jpath, &af, &vs) < 0)
		return EXIT_RUNTIME;
	FILE *f = fopen(out, "w");
	int rc = EXIT_OK;
	if (!f) {
		fprintf(stderr, "fcap report: %s: cannot create: %m\n", out);
		rc = EXIT_RUNTIME;
	} else {
		const char *base = strrchr(alerts, '/') ? strrchr(alerts, '/') + 1 : alerts;
		fputs("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fcap alert report: ", f);
		html(f, base);
		fprintf(f, "</title><style>%s</style></head><body><h1>fcap alert report: ", STYLE);
		html(f, base);
		fputs("</h1>", f);
		summary(f, &af, alerts);
		timeline(f, &af);
		fprintf(f, "<h2>Alerts (%zu)</h2>", af.n);
		for (size_t i = 0; i < af.n; i++)
			card(f, &af.a[i], &vs, alerts);
		fputs("<p class=\"muted\">Written by fcap report. Scores are log2 of the anomaly score over its threshold "
		      "(or the classifier's logit margin): above 0 alerts. docs/ALERTS.md explains every field.</p>"
		      "</body></html>\n", f);
		if (fclose(f) != 0) {
			fprintf(stderr, "fcap report: %s: write failed\n", out);
			rc = EXIT_RUNTIME;
		}
	}
	fcap_verdicts_free(&vs);
	fcap_alert_file_free(&af);
	return rc;
}
