/* cmd_feedback.c - `fcap feedback`: an analyst's verdict on an alert,
 * appended durably to the verdict journal (docs/ALERTS.md). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fcap/alert_file.h"
#include "fcap/store.h"
#include "fcap/verdict.h"

static void help(void)
{
	printf("usage: fcap feedback -a ALERTS ID --false-positive|--true-positive [OPTIONS]\n"
	       "Records a verdict on alert ID of an EVE file ('fcap score --eve') in the verdict\n"
	       "journal; the journal is fsync'd before this command reports success.\n\n"
	       "  -a, --alerts FILE      the EVE alert file holding the alert\n"
	       "  -j, --journal FILE     verdict journal (default: ALERTS.verdicts)\n"
	       "      --false-positive   the alert was wrong: its traffic is benign\n"
	       "      --true-positive    the alert was right\n"
	       "      --scope S          false positive: what its suppression rule matches:\n"
	       "                         host (default: alerts grouped on the alert's host),\n"
	       "                         flow (its first flow), signature (its signature id)\n"
	       "      --expire T         the rule ends after T (\"7d\", \"12h\"; default 30d;\n"
	       "                         0: never)\n"
	       "      --note TEXT        a note kept with the verdict\n"
	       "  -q, --quiet            no summary\n"
	       "  -h, --help             this text\n\n"
	       "A verdict closes the alert: store segments pinned for its evidence are unpinned\n"
	       "when no open alert of the file needs them. The latest verdict on an alert counts.\n"
	       "exit status: 0 committed, 1 not committed (unknown alert, unwritable journal),\n"
	       "2 bad command line\n");
}

/* Unpins the segment holding a's evidence when no open alert of the file uses it. */
static void unpin_if_unused(const struct fcap_alert_file *af, const struct fcap_alert_rec *a,
			    const struct fcap_verdicts *vs, bool quiet)
{
	for (size_t i = 0; i < af->n; i++)
		if (&af->a[i] != a && !strcmp(af->a[i].path, a->path) && !fcap_verdicts_latest(vs, af->a[i].id))
			return;
	const char *slash = strrchr(a->path, '/');
	size_t blen = slash ? strlen(slash + 1) : 0;
	if (!slash || blen < 8 || strcmp(slash + 1 + blen - 7, ".pcapng") || blen - 7 >= FCAP_SEG_NAME_MAX ||
	    (size_t)(slash - a->path) >= FCAP_STORE_DIR_MAX)
		return;
	char name[FCAP_SEG_NAME_MAX], dir[FCAP_STORE_DIR_MAX], pin[FCAP_STORE_PATH_MAX], err[FCAP_ERRBUF_SIZE];
	memcpy(name, slash + 1, blen - 7);
	name[blen - 7] = 0;
	memcpy(dir, a->path, (size_t)(slash - a->path));
	dir[slash - a->path] = 0;
	uint64_t t;
	uint32_t r;
	if (!fcap_seg_parse_name(name, &t, &r))
		return;
	fcap_store_path(pin, sizeof(pin), dir, name, "pin", false);
	FILE *f = fopen(pin, "r");
	if (!f)
		return;
	fclose(f);
	if (fcap_store_pin(dir, name, false, err) < 0)
		fprintf(stderr, "fcap feedback: warning: %s\n", err);
	else if (!quiet)
		fprintf(stderr, "fcap feedback: unpinned segment %s (no open alert needs it)\n", name);
}

int cmd_feedback(int argc, char **argv)
{
	enum { O_FP = 256, O_TP, O_SCOPE, O_EXPIRE, O_NOTE };
	static const struct option opts[] = {
		{ "alerts", required_argument, NULL, 'a' },  { "journal", required_argument, NULL, 'j' },
		{ "false-positive", no_argument, NULL, O_FP }, { "true-positive", no_argument, NULL, O_TP },
		{ "scope", required_argument, NULL, O_SCOPE }, { "expire", required_argument, NULL, O_EXPIRE },
		{ "note", required_argument, NULL, O_NOTE }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *alerts = NULL, *journal = NULL, *note = "";
	int kind = -1;
	bool quiet = false;
	enum fcap_scope scope = FCAP_SCOPE_HOST;
	uint64_t expire_ns = 30ull * 86400 * 1000000000ull;
	int c;
	while ((c = getopt_long(argc, argv, "a:j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alerts = optarg; break;
		case 'j': journal = optarg; break;
		case O_FP:
		case O_TP:
			if (kind >= 0)
				return usage_error("feedback", "give one of --false-positive and --true-positive");
			kind = c == O_FP;
			break;
		case O_SCOPE:
			if (!strcmp(optarg, "host"))
				scope = FCAP_SCOPE_HOST;
			else if (!strcmp(optarg, "flow"))
				scope = FCAP_SCOPE_FLOW;
			else if (!strcmp(optarg, "signature"))
				scope = FCAP_SCOPE_SIGNATURE;
			else
				return usage_error("feedback", "--scope %s: expected host, flow or signature", optarg);
			break;
		case O_EXPIRE:
			if (strcmp(optarg, "0") && !parse_seconds(optarg, &expire_ns))
				return usage_error("feedback", "--expire %s: expected a duration such as 7d", optarg);
			if (!strcmp(optarg, "0"))
				expire_ns = 0;
			break;
		case O_NOTE:
			if (strlen(optarg) >= FCAP_VERDICT_NOTE_MAX)
				return usage_error("feedback", "--note: at most %d bytes", FCAP_VERDICT_NOTE_MAX - 1);
			note = optarg;
			break;
		case 'q': quiet = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("feedback", "unknown option");
		}
	}
	if (!alerts)
		return usage_error("feedback", "no alert file: give -a ALERTS");
	if (optind + 1 != argc)
		return usage_error("feedback", "give one alert id");
	if (kind < 0)
		return usage_error("feedback", "give --false-positive or --true-positive");
	const char *id = argv[optind];
	char jbuf[FCAP_VERDICT_PATH_MAX], err[FCAP_ERRBUF_SIZE], warn[FCAP_ERRBUF_SIZE];
	if (!journal) {
		snprintf(jbuf, sizeof(jbuf), "%s.verdicts", alerts);
		journal = jbuf;
	}
	struct fcap_alert_file af;
	if (fcap_alert_file_load(&af, alerts, err) < 0) {
		fprintf(stderr, "fcap feedback: %s\n", err);
		return EXIT_RUNTIME;
	}
	const struct fcap_alert_rec *a = fcap_alert_file_find(&af, id);
	char *abs = realpath(alerts, NULL);
	if (!a || !abs || strlen(abs) >= FCAP_VERDICT_PATH_MAX) {
		if (!a)
			fprintf(stderr, "fcap feedback: %s: no alert with id %s (%zu alerts in the file); nothing recorded\n",
				alerts, id, af.n);
		else
			fprintf(stderr, "fcap feedback: %s: cannot resolve its path\n", alerts);
		free(abs);
		fcap_alert_file_free(&af);
		return EXIT_RUNTIME;
	}
	struct fcap_verdict v;
	memset(&v, 0, sizeof(v));
	v.time_ns = now_epoch_ns();
	snprintf(v.alert_id, sizeof(v.alert_id), "%s", a->id);
	v.false_positive = kind == 1;
	v.scope = scope;
	if (scope == FCAP_SCOPE_HOST)
		snprintf(v.value, sizeof(v.value), "%s", a->key);
	else if (scope == FCAP_SCOPE_FLOW)
		snprintf(v.value, sizeof(v.value), "%s", a->flow);
	else
		snprintf(v.value, sizeof(v.value), "%u", a->sid);
	v.expires_ns = v.false_positive && expire_ns ? v.time_ns + expire_ns : 0;
	snprintf(v.alerts_file, sizeof(v.alerts_file), "%s", abs);
	snprintf(v.note, sizeof(v.note), "%s", note);
	free(abs);
	int rc = fcap_verdict_append(journal, &v, warn, err);
	if (warn[0])
		fprintf(stderr, "fcap feedback: warning: %s\n", warn);
	if (rc < 0) {
		fprintf(stderr, "fcap feedback: %s; nothing recorded\n", err);
	} else {
		if (!quiet)
			fprintf(stderr, "fcap feedback: alert %s: %s recorded in %s%s%s\n", id,
				v.false_positive ? "false positive" : "true positive", journal,
				v.false_positive ? "; suppression rule: " : "", v.false_positive ? fcap_scope_name(scope) : "");
		struct fcap_verdicts vs;
		if (fcap_verdicts_load(&vs, journal, err) == 0) {
			unpin_if_unused(&af, a, &vs, quiet);
			fcap_verdicts_free(&vs);
		}
	}
	fcap_alert_file_free(&af);
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}
