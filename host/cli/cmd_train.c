/* cmd_train.c - `fcap train`: a scoring model from labelled captures. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fcap/alert_file.h"
#include "fcap/labels.h"
#include "fcap/verdict.h"
#include "fcap/model.h"

#define MAX_INPUTS 64

static void help(void)
{
	printf("usage: fcap train -o MODEL [-r FILE [-l LABELS]]... [OPTIONS]\n"
	       "Computes every packet's features, trains the autoencoder ensemble on the\n"
	       "benign training packets and, when attacks are labelled, the classifier and\n"
	       "the hybrid; quantizes them; sets thresholds for a false-positive rate on\n"
	       "held-out benign packets; writes the model file.\n\n"
	       "  -r, --read FILE         pcap or pcapng capture (fcap's own files too); repeat\n"
	       "  -l, --labels FILE       labels for the preceding -r (docs/MODELS.md); without\n"
	       "                          one, that file's packets are all benign\n"
	       "  -o, --output MODEL      the model file to write\n"
	       "      --train-until T     train only on packets before T (seconds since the\n"
	       "                          epoch); later packets are ignored\n"
	       "      --train-packets N   train only on the first N packets of each file\n"
	       "      --seed N            training seed (default 1): same inputs and seed give\n"
	       "                          the same model file, byte for byte\n"
	       "      --fpr P             target false-positive rate (default 0.001)\n"
	       "      --calib METHOD      quantile (default) or lognormal\n"
	       "      --epochs N          autoencoder epochs (default 3)\n"
	       "      --mlp-epochs N      classifier epochs (default 4)\n"
	       "      --max-unit N        largest autoencoder of the ensemble (default 10)\n"
	       "      --kitsune           the 100 Kitsune features only (no extras)\n"
	       "      --unsupervised      no classifier even if attacks are labelled\n"
	       "      --table-entries N   feature state entries per table (default 65536)\n"
	       "      --idle T            feature state idle timeout (default 600s)\n"
	       "      --feedback JOURNAL  also train on the packets of the alerts the journal's\n"
	       "                          analysts called false positives, as benign (their\n"
	       "                          evidence files are read whole for the features'\n"
	       "                          state); thresholds are set with them (docs/ALERTS.md)\n"
	       "  -q, --quiet             no progress (shown on a terminal only) and no\n"
	       "                          result line\n"
	       "  -h, --help              this text\n\n"
	       "exit status: 0 success, 1 training failed, 2 bad command line\n");
}

struct train_args {
	const char *in[MAX_INPUTS];
	const char *labels[MAX_INPUTS];
	unsigned nin;
	const char *out;
	const char *feedback;
	struct fcap_split split;
	struct fcap_train_config cfg;
};

static bool parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	unsigned long long x = strtoull(s, &end, 10);
	*v = x;
	return !*end && x <= max;
}

static int parse_args(int argc, char **argv, struct train_args *a)
{
	enum { O_UNTIL = 256, O_PACKETS, O_SEED, O_FPR, O_CALIB, O_EPOCHS, O_MLP_EPOCHS, O_MAX_UNIT, O_KITSUNE,
	       O_UNSUP, O_ENTRIES, O_IDLE, O_FEEDBACK };
	static const struct option opts[] = {
		{ "read", required_argument, NULL, 'r' },       { "labels", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },     { "train-until", required_argument, NULL, O_UNTIL },
		{ "train-packets", required_argument, NULL, O_PACKETS }, { "seed", required_argument, NULL, O_SEED },
		{ "fpr", required_argument, NULL, O_FPR },      { "calib", required_argument, NULL, O_CALIB },
		{ "epochs", required_argument, NULL, O_EPOCHS }, { "mlp-epochs", required_argument, NULL, O_MLP_EPOCHS },
		{ "max-unit", required_argument, NULL, O_MAX_UNIT }, { "kitsune", no_argument, NULL, O_KITSUNE },
		{ "unsupervised", no_argument, NULL, O_UNSUP }, { "table-entries", required_argument, NULL, O_ENTRIES },
		{ "idle", required_argument, NULL, O_IDLE },    { "quiet", no_argument, NULL, 'q' },
		{ "feedback", required_argument, NULL, O_FEEDBACK },
		{ "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 },
	};
	uint64_t v;
	double d;
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "r:l:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (a->nin == MAX_INPUTS)
				return usage_error("train", "at most %d input files", MAX_INPUTS);
			a->in[a->nin++] = optarg;
			break;
		case 'l':
			if (a->nin == 0 || a->labels[a->nin - 1])
				return usage_error("train", "-l %s must follow the -r FILE it labels", optarg);
			a->labels[a->nin - 1] = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case O_UNTIL:
			d = strtod(optarg, &end);
			if (*end || !(d > 0) || d > 1.8e10)
				return usage_error("train", "--train-until %s: expected seconds since the epoch", optarg);
			a->split.until_ns = (uint64_t)llround(d * 1e9);
			break;
		case O_PACKETS:
			if (!parse_u64(optarg, UINT64_MAX, &a->split.packets) || !a->split.packets)
				return usage_error("train", "--train-packets %s: expected a positive count", optarg);
			break;
		case O_SEED:
			if (!parse_u64(optarg, UINT64_MAX, &a->cfg.seed))
				return usage_error("train", "--seed %s: expected a number", optarg);
			break;
		case O_FPR:
			d = strtod(optarg, &end);
			if (*end || !(d > 0 && d < 0.5))
				return usage_error("train", "--fpr %s: expected a rate in (0, 0.5)", optarg);
			a->cfg.target_fpr = d;
			break;
		case O_CALIB:
			if (!strcmp(optarg, "quantile"))
				a->cfg.calib = FCAP_CALIB_QUANTILE;
			else if (!strcmp(optarg, "lognormal"))
				a->cfg.calib = FCAP_CALIB_LOGNORMAL;
			else
				return usage_error("train", "--calib %s: expected quantile or lognormal", optarg);
			break;
		case O_EPOCHS:
		case O_MLP_EPOCHS:
			if (!parse_u64(optarg, 1000, &v) || !v)
				return usage_error("train", "epochs %s: expected 1..1000", optarg);
			*(c == O_EPOCHS ? &a->cfg.epochs_ae : &a->cfg.epochs_mlp) = (uint32_t)v;
			break;
		case O_MAX_UNIT:
			if (!parse_u64(optarg, 64, &v) || v < 2)
				return usage_error("train", "--max-unit %s: expected 2..64", optarg);
			a->cfg.max_unit = (uint32_t)v;
			break;
		case O_KITSUNE:
			a->cfg.extras = false;
			break;
		case O_UNSUP:
			a->cfg.supervised = false;
			break;
		case O_ENTRIES:
			if (!parse_u64(optarg, 1u << 26, &v) || v < 8)
				return usage_error("train", "--table-entries %s: expected 8..%u", optarg, 1u << 26);
			a->cfg.table_entries = (uint32_t)v;
			break;
		case O_IDLE:
			if (!parse_duration_ns(optarg, &a->cfg.idle_ns))
				return usage_error("train", "--idle %s: expected a duration such as 600s", optarg);
			break;
		case O_FEEDBACK:
			a->feedback = optarg;
			break;
		case 'q':
			a->cfg.log = NULL;
			break;
		case 'h':
			help();
			exit(EXIT_OK);
		default:
			return usage_error("train", "unknown option");
		}
	}
	for (; optind < argc && a->nin < MAX_INPUTS; optind++)
		a->in[a->nin++] = argv[optind];
	if (optind < argc)
		return usage_error("train", "at most %d input files", MAX_INPUTS);
	if (!a->nin)
		return usage_error("train", "no input: give -r FILE");
	if (!a->out)
		return usage_error("train", "no model file: give -o MODEL");
	return -1;
}

struct fb_file {
	const char *path;
	uint64_t *num;
	size_t n, cap;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The false-positive verdicts' evidence, by file: packet numbers. */
static int feedback_packets(const struct fcap_verdicts *vs, struct fb_file *files, size_t *nfiles, size_t *nalerts,
			    char *errbuf)
{
	*nfiles = *nalerts = 0;
	for (size_t i = 0; i < vs->n; i++) {
		const struct fcap_verdict *v = &vs->v[i];
		if (!v->false_positive || fcap_verdicts_latest(vs, v->alert_id) != v)
			continue;
		struct fcap_alert_file one;
		if (fcap_alert_file_load(&one, v->alerts_file, errbuf) < 0) {
			fcap_err_prefix(errbuf, "feedback: alert %s", v->alert_id);
			return -1;
		}
		const struct fcap_alert_rec *a = fcap_alert_file_find(&one, v->alert_id);
		if (!a) {
			fcap_alert_file_free(&one);
			return fcap_err(errbuf, "feedback: alert %s is not in %s", v->alert_id, v->alerts_file);
		}
		size_t f = 0;
		while (f < *nfiles && strcmp(files[f].path, a->path))
			f++;
		if (f == *nfiles) {
			if (f == MAX_INPUTS) {
				fcap_alert_file_free(&one);
				return fcap_err(errbuf, "feedback: evidence in more than %d files", MAX_INPUTS);
			}
			files[f] = (struct fb_file){ strdup(a->path), NULL, 0, 0 };
			(*nfiles)++;
			if (!files[f].path) {
				fcap_alert_file_free(&one);
				return fcap_err(errbuf, "out of memory");
			}
		}
		struct fb_file *ff = &files[f];
		if (ff->n + a->nev > ff->cap) {
			size_t cap = (ff->n + a->nev) * 2;
			uint64_t *p = realloc(ff->num, cap * sizeof(uint64_t));
			if (!p) {
				fcap_alert_file_free(&one);
				return fcap_err(errbuf, "out of memory");
			}
			ff->num = p;
			ff->cap = cap;
		}
		memcpy(ff->num + ff->n, a->num, a->nev * sizeof(uint64_t));
		ff->n += a->nev;
		(*nalerts)++;
		fcap_alert_file_free(&one);
	}
	for (size_t f = 0; f < *nfiles; f++) {
		struct fb_file *ff = &files[f];
		qsort(ff->num, ff->n, sizeof(uint64_t), cmp_u64);
		size_t w = 0;
		for (size_t i = 0; i < ff->n; i++)
			if (!w || ff->num[i] != ff->num[w - 1])
				ff->num[w++] = ff->num[i];
		ff->n = w;
	}
	return 0;
}

/* Adds the false positives' packets of the journal to the dataset. */
static int read_feedback(struct fcap_dataset *ds, const char *journal, const struct fcap_feat_config *fc, FILE *log,
			 char *errbuf)
{
	struct fcap_verdicts vs;
	if (fcap_verdicts_load(&vs, journal, errbuf) < 0)
		return -1;
	for (size_t i = 0; i < vs.nwarn; i++)
		fprintf(stderr, "fcap train: warning: %s\n", vs.warn[i]);
	struct fb_file files[MAX_INPUTS];
	size_t nfiles = 0, nalerts = 0;
	int rc = feedback_packets(&vs, files, &nfiles, &nalerts, errbuf);
	for (size_t f = 0; rc == 0 && f < nfiles; f++) {
		size_t before = ds->n;
		rc = fcap_dataset_read_packets(ds, files[f].path, files[f].num, files[f].n, fc, errbuf);
		if (rc == 0 && log)
			fprintf(log, "train: feedback: %zu packets of false-positive alerts from %s\n", ds->n - before,
				files[f].path);
	}
	if (rc == 0 && log)
		fprintf(log, "train: feedback: %zu false-positive alerts in %s\n", nalerts, journal);
	for (size_t f = 0; f < nfiles; f++) {
		free((char *)files[f].path);
		free(files[f].num);
	}
	fcap_verdicts_free(&vs);
	return rc;
}

int cmd_train(int argc, char **argv)
{
	struct train_args a = { 0 };
	fcap_train_defaults(&a.cfg);
	a.cfg.log = stderr;
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	/* Progress lines on a terminal; piped, only the result line. */
	bool quiet = a.cfg.log == NULL;
	if (!isatty(STDERR_FILENO))
		a.cfg.log = NULL;
	char errbuf[FCAP_ERRBUF_SIZE] = "";
	struct fcap_feat_config fc = { a.cfg.table_entries, a.cfg.idle_ns, a.cfg.extras };
	struct fcap_dataset ds = { 0 };
	for (unsigned i = 0; i < a.nin; i++) {
		struct fcap_labels *lab = a.labels[i] ? fcap_labels_load(a.labels[i], errbuf) : fcap_labels_all_benign();
		if (!lab || fcap_dataset_read(&ds, a.in[i], lab, &a.split, &fc, errbuf) < 0) {
			fcap_labels_free(lab);
			fcap_dataset_free(&ds);
			fprintf(stderr, "fcap train: %s\n", errbuf[0] ? errbuf : "out of memory");
			return EXIT_RUNTIME;
		}
		fcap_labels_free(lab);
		if (a.cfg.log)
			fprintf(a.cfg.log, "train: %s: %zu packets so far\n", a.in[i], ds.n);
	}
	if (a.feedback && read_feedback(&ds, a.feedback, &fc, a.cfg.log, errbuf) < 0) {
		fcap_dataset_free(&ds);
		fprintf(stderr, "fcap train: %s\n", errbuf);
		return EXIT_RUNTIME;
	}
	struct fcap_model m;
	if (fcap_model_train(&m, &ds, &a.cfg, errbuf) < 0) {
		fcap_dataset_free(&ds);
		fprintf(stderr, "fcap train: %s\n", errbuf);
		return EXIT_RUNTIME;
	}
	fcap_dataset_free(&ds);
	rc = fcap_model_save(&m, a.out, errbuf);
	if (rc == 0 && !quiet)
		fprintf(stderr, "train: wrote %s: %u features, %u autoencoders%s, %zu bytes of fixed-point model\n",
			a.out, m.nfeat, m.nae, m.has_mlp ? " + classifier + hybrid" : "", fcap_model_bytes(&m));
	fcap_model_free(&m);
	if (rc < 0) {
		fprintf(stderr, "fcap train: %s\n", errbuf);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
