/*
 * bench_scorer.c - `make bench` for the scorer: speed per core, detection,
 * fixed point against double precision, memory. Prints a table and writes
 * OUTDIR/scorer.json.
 *
 *   bench_scorer OUTDIR [EVAL_DIR]
 *
 * Detection scenarios:
 *   eval   tests/eval/data: models trained on train.pcap (unsupervised: its
 *          benign warm-up; supervised: all of it, labelled), scored on
 *          test.pcap, a separate run with two attacks training never saw;
 *   real   $FCAP_DATA captures, labelled by file of origin (benign: web,
 *          mail, POST, traceroute; attacks: SYN scan, port connections, ARP
 *          poisoning, spoofed SYN flood, UDP amplification): each file's
 *          first half trains, its second half is scored.
 * Models: "kitsune" (the 100 Kitsune features, autoencoder ensemble: the
 * straight Kitsune-style baseline), "unsupervised" (with the extra
 * features), "supervised" (the MLP), "hybrid". Every figure comes from the
 * fixed-point path unless it says double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcap/labels.h"
#include "fcap/model.h"
#include "fcap/pcap_reader.h"

#define MAX_PKTS (1u << 21)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "bench_scorer: %s: %s\n", what, err);
	exit(1);
}

/* ---------------- statistics ---------------- */

struct scored {
	double s;
	int pos;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
	return x < y ? -1 : x > y;
}

/* AUC by ranks (ties averaged); TPR at the largest threshold keeping FPR <= f. */
static void roc(const double *score, const uint8_t *pos, size_t n, double *auc, double *tpr1, double *tpr01)
{
	struct scored *v = malloc(n * sizeof(*v));
	size_t np = 0, nn = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct scored){ score[i], pos[i] };
		np += pos[i];
	}
	nn = n - np;
	qsort(v, n, sizeof(*v), cmp_scored);
	double rank_sum = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j].s == v[i].s)
			j++;
		double r = (i + 1 + j) / 2.0;
		for (size_t k = i; k < j; k++)
			if (v[k].pos)
				rank_sum += r;
		i = j;
	}
	*auc = np && nn ? (rank_sum - np * (np + 1) / 2.0) / ((double)np * nn) : NAN;
	double fprs[2] = { 0.01, 0.001 }, *out[2] = { tpr1, tpr01 };
	for (int k = 0; k < 2; k++) {
		/* walk down from the top: alerts are scores strictly above the threshold */
		size_t fp = 0, tp = 0, allowed = (size_t)floor(fprs[k] * nn);
		double best = 0;
		for (size_t i = n; i > 0;) {
			size_t j = i;
			size_t dtp = 0, dfp = 0;
			while (j > 0 && v[j - 1].s == v[i - 1].s) {
				j--;
				dtp += v[j].pos;
				dfp += !v[j].pos;
			}
			if (fp + dfp > allowed)
				break;
			fp += dfp;
			tp += dtp;
			best = np ? (double)tp / np : NAN;
			i = j;
		}
		*out[k] = best;
	}
	free(v);
}

static void ranks(const double *x, size_t n, double *r)
{
	struct scored *v = malloc(n * sizeof(*v));
	size_t *idx = malloc(n * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct scored){ x[i], (int)i };
	qsort(v, n, sizeof(*v), cmp_scored);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j].s == v[i].s)
			j++;
		for (size_t k = i; k < j; k++)
			r[v[k].pos] = (i + 1 + j) / 2.0;
		i = j;
	}
	free(v);
	free(idx);
}

static double spearman(const double *a, const double *b, size_t n)
{
	double *ra = malloc(n * sizeof(double)), *rb = malloc(n * sizeof(double));
	ranks(a, n, ra);
	ranks(b, n, rb);
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	for (size_t i = 0; i < n; i++)
		ma += ra[i] / n, mb += rb[i] / n;
	for (size_t i = 0; i < n; i++) {
		sab += (ra[i] - ma) * (rb[i] - mb);
		saa += (ra[i] - ma) * (ra[i] - ma);
		sbb += (rb[i] - mb) * (rb[i] - mb);
	}
	free(ra);
	free(rb);
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 1.0;
}

/* ---------------- scenarios ---------------- */

struct scenario {
	const char *name;
	struct fcap_dataset train116, train100, test116, test100;
	char kinds[FCAP_LABELS_MAX_KINDS][32];
	unsigned nkinds;
};

static void read_into(struct scenario *sc, const char *path, const char *labels, const char *label_all,
		      const struct fcap_split *split, bool test_part, struct fcap_dataset *d116, struct fcap_dataset *d100)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_labels *l = NULL;
	if (labels) {
		l = fcap_labels_load(labels, err);
		if (!l)
			die(labels, err);
	} else {
		char rule[128];
		snprintf(rule, sizeof(rule), "default %s\n", label_all);
		l = fcap_labels_from_text(rule, path, err);
		if (!l)
			die(path, err);
	}
	/* map the file's kinds onto the scenario's by name */
	struct fcap_feat_config c116 = { FCAP_FEAT_DEFAULT_ENTRIES, FCAP_FEAT_DEFAULT_IDLE_NS, true };
	struct fcap_feat_config c100 = { FCAP_FEAT_DEFAULT_ENTRIES, FCAP_FEAT_DEFAULT_IDLE_NS, false };
	size_t s116 = d116->n, s100 = d100->n;
	if (fcap_dataset_read(d116, path, l, split, &c116, err) < 0 || fcap_dataset_read(d100, path, l, split, &c100, err) < 0)
		die(path, err);
	for (size_t r = s116; r < d116->n; r++) {
		const char *name = fcap_labels_kind(l, d116->kind[r]);
		unsigned k;
		for (k = 0; k < sc->nkinds && strcmp(sc->kinds[k], name); k++)
			;
		if (k == sc->nkinds)
			snprintf(sc->kinds[sc->nkinds++], 32, "%s", name);
		d116->kind[r] = d100->kind[s100 + (r - s116)] = (uint8_t)k;
		/* test_part: keep the rows outside the training split as they are marked */
		(void)test_part;
	}
	fcap_labels_free(l);
}

/* Keeps rows with train == want, into a fresh dataset. */
static void select_rows(const struct fcap_dataset *in, int want, struct fcap_dataset *out)
{
	out->nfeat = in->nfeat;
	double x[FCAP_FEAT_MAX];
	for (size_t r = 0; r < in->n; r++) {
		if (in->train[r] != want)
			continue;
		for (uint32_t i = 0; i < in->nfeat; i++)
			x[i] = in->x[r * in->nfeat + i];
		fcap_dataset_add(out, x, in->kind[r], 1);
	}
}

/* ---------------- models and results ---------------- */

struct result {
	const char *model;
	double auc, tpr1, tpr01, auc_f, spearman;
	double kind_auc[FCAP_LABELS_MAX_KINDS];
	double kind_alert[FCAP_LABELS_MAX_KINDS];   /* fraction of packets over the model's threshold */
	size_t kind_n[FCAP_LABELS_MAX_KINDS];
	size_t bytes;
};

enum which { W_AE, W_MLP, W_HYB };

static void evaluate(const struct fcap_model *m, const struct fcap_dataset *test, enum which w, const struct scenario *sc,
		     struct result *res)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_scorer *s = fcap_scorer_new(m, err);
	if (!s)
		die("scorer", err);
	size_t n = test->n;
	double *q = calloc(n + 1, sizeof(double)), *f = calloc(n + 1, sizeof(double));
	uint8_t *pos = calloc(n + 1, 1), *alert = calloc(n + 1, 1);
	double x[FCAP_FEAT_MAX];
	for (size_t r = 0; r < n; r++) {
		for (uint32_t i = 0; i < test->nfeat; i++)
			x[i] = test->x[r * test->nfeat + i];
		struct fcap_scores a, b;
		fcap_score_fixed(s, x, &a);
		fcap_score_float(s, x, &b);
		q[r] = w == W_AE ? a.ae : w == W_MLP ? a.mlp : a.hybrid;
		f[r] = w == W_AE ? b.ae : w == W_MLP ? b.mlp : b.hybrid;
		pos[r] = test->kind[r] != 0;
		alert[r] = w == W_AE ? a.ae * 1048576 > m->thr_ae_q
			 : w == W_MLP ? a.mlp * 65536 > m->thr_mlp_q : a.alert != FCAP_ALERT_NONE;
	}
	roc(q, pos, n, &res->auc, &res->tpr1, &res->tpr01);
	double t1, t2;
	roc(f, pos, n, &res->auc_f, &t1, &t2);
	res->spearman = spearman(q, f, n);
	res->bytes = fcap_model_bytes(m);
	/* per kind: that kind against all benign rows */
	double *qs = malloc(n * sizeof(double));
	uint8_t *ps = malloc(n);
	for (unsigned k = 0; k < sc->nkinds; k++) {
		size_t m2 = 0, na = 0, nk = 0;
		for (size_t r = 0; r < n; r++) {
			if (test->kind[r] == k) {
				nk++;
				na += alert[r];
			}
			if (test->kind[r] == k || test->kind[r] == 0) {
				qs[m2] = q[r];
				ps[m2++] = test->kind[r] != 0;
			}
		}
		res->kind_n[k] = nk;
		res->kind_alert[k] = nk ? (double)na / nk : NAN;
		double a1, a2;
		if (k)
			roc(qs, ps, m2, &res->kind_auc[k], &a1, &a2);
		else
			res->kind_auc[k] = NAN;
	}
	free(qs);
	free(ps);
	free(q);
	free(f);
	free(pos);
	free(alert);
	fcap_scorer_free(s);
}

static void train_model(struct fcap_model *m, const struct fcap_dataset *ds, bool extras, bool supervised)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_train_config c;
	fcap_train_defaults(&c);
	c.extras = extras;
	c.supervised = supervised;
	c.target_fpr = 0.01;
	if (fcap_model_train(m, ds, &c, err) < 0)
		die("train", err);
}

/* Unsupervised models see only the benign rows of the training split. */
static void benign_only(const struct fcap_dataset *in, struct fcap_dataset *out)
{
	out->nfeat = in->nfeat;
	double x[FCAP_FEAT_MAX];
	for (size_t r = 0; r < in->n; r++) {
		if (in->kind[r] != 0 || !in->train[r])
			continue;
		for (uint32_t i = 0; i < in->nfeat; i++)
			x[i] = in->x[r * in->nfeat + i];
		fcap_dataset_add(out, x, 0, 1);
	}
}

static int run_scenario(struct scenario *sc, struct result res[4], FILE *log)
{
	struct fcap_dataset ben100 = { 0 }, ben116 = { 0 };
	struct fcap_model mk, mu, ms;
	benign_only(&sc->train100, &ben100);
	benign_only(&sc->train116, &ben116);
	fprintf(log, "bench: %s: %zu training packets (%zu benign), %zu test packets\n", sc->name, sc->train116.n,
		ben116.n, sc->test116.n);
	train_model(&mk, &ben100, false, false);
	train_model(&mu, &ben116, true, false);
	train_model(&ms, &sc->train116, true, true);
	if (!ms.has_mlp)
		die(sc->name, "no attacks in the training split: no classifier");
	res[0].model = "kitsune";
	evaluate(&mk, &sc->test100, W_AE, sc, &res[0]);
	res[1].model = "unsupervised";
	evaluate(&mu, &sc->test116, W_AE, sc, &res[1]);
	res[2].model = "supervised";
	evaluate(&ms, &sc->test116, W_MLP, sc, &res[2]);
	res[3].model = "hybrid";
	evaluate(&ms, &sc->test116, W_HYB, sc, &res[3]);
	fcap_model_free(&mk);
	fcap_model_free(&mu);
	fcap_model_free(&ms);
	fcap_dataset_free(&ben100);
	fcap_dataset_free(&ben116);
	return 0;
}

/* ---------------- speed ---------------- */

struct pkts {
	size_t n;
	uint8_t *data;          /* caplen bytes each, back to back */
	uint32_t *caplen, *origlen, *off;
	uint64_t *ts;
	uint32_t linktype;
};

static void load_pkts(const char *path, struct pkts *p)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	if (!r)
		die(path, err);
	size_t cap = 1 << 16, bytes = 0, bcap = 1 << 24;
	memset(p, 0, sizeof(*p));
	p->data = malloc(bcap);
	p->caplen = malloc(cap * 4), p->origlen = malloc(cap * 4), p->off = malloc(cap * 4), p->ts = malloc(cap * 8);
	struct fcap_pkt k;
	int rc;
	while ((rc = fcap_pcap_next(r, &k, err)) > 0 && p->n < MAX_PKTS) {
		if (p->n == cap) {
			cap *= 2;
			p->caplen = realloc(p->caplen, cap * 4), p->origlen = realloc(p->origlen, cap * 4);
			p->off = realloc(p->off, cap * 4), p->ts = realloc(p->ts, cap * 8);
		}
		while (bytes + k.caplen > bcap)
			p->data = realloc(p->data, bcap *= 2);
		memcpy(p->data + bytes, k.data, k.caplen);
		p->off[p->n] = (uint32_t)bytes;
		p->caplen[p->n] = k.caplen;
		p->origlen[p->n] = k.origlen;
		p->ts[p->n] = k.ts_ns;
		p->linktype = k.linktype;
		bytes += k.caplen;
		p->n++;
	}
	if (rc < 0)
		die(path, err);
	fcap_pcap_close(r);
}

enum mode { M_FEATURES, M_FIXED, M_FLOAT };

/* Packets per second on one core: decode + features [+ inference], over
 * the packets again and again (timestamps shifted so time moves on) for at
 * least min_s seconds. */
static double speed(const struct pkts *p, const struct fcap_model *m, enum mode mode, double min_s, size_t *feat_mem)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_feat_config fc = { m->table_entries, m->idle_ns, m->extras };
	struct fcap_features *fx = fcap_features_new(&fc, err);
	struct fcap_scorer *s = fcap_scorer_new(m, err);
	if (!fx || !s)
		die("speed", err);
	double x[FCAP_FEAT_MAX], sink = 0;
	size_t done = 0;
	uint64_t shift = 0, span = p->ts[p->n - 1] - p->ts[0] + 1000000;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < p->n; i++) {
			struct fcap_pkt_info pi;
			struct fcap_scores sc;
			fcap_packet_decode(p->linktype, p->data + p->off[i], p->caplen[i], &pi);
			fcap_features_update(fx, &pi, p->origlen[i], p->ts[i] + shift, x);
			if (mode == M_FIXED)
				fcap_score_fixed(s, x, &sc), sink += sc.ae;
			else if (mode == M_FLOAT)
				fcap_score_float(s, x, &sc), sink += sc.ae;
			else
				sink += x[0];
		}
		done += p->n;
		shift += span;
		t = now_s() - t0;
	} while (t < min_s);
	struct fcap_feat_stats st;
	fcap_features_stats(fx, &st);
	if (feat_mem)
		*feat_mem = st.memory_bytes;
	fcap_features_free(fx);
	fcap_scorer_free(s);
	if (sink == 12345.678)
		printf(" ");
	return done / t;
}

/* ---------------- main ---------------- */

static void label_split_eval(struct scenario *sc, const char *dir)
{
	char tp[1024], tl[1024], sp[1024], sl[1024];
	snprintf(tp, sizeof(tp), "%s/train.pcap", dir);
	snprintf(tl, sizeof(tl), "%s/train.labels", dir);
	snprintf(sp, sizeof(sp), "%s/test.pcap", dir);
	snprintf(sl, sizeof(sl), "%s/test.labels", dir);
	struct fcap_split all = { 0, 0 };
	snprintf(sc->kinds[sc->nkinds++], 32, "benign");
	read_into(sc, tp, tl, NULL, &all, false, &sc->train116, &sc->train100);
	read_into(sc, sp, sl, NULL, &all, true, &sc->test116, &sc->test100);
}

static void label_split_real(struct scenario *sc, const char *data)
{
	static const struct { const char *file, *label; } files[] = {
		{ "http_espn.pcapng", "benign" },
		{ "mail_sender_attachment.pcapng", "benign" },
		{ "http_post.pcapng", "benign" },
		{ "icmp_traceroute.pcapng", "benign" },
		{ "dns_isp_hijack.pcapng", "benign" },
		{ "synscan.pcapng", "attack:synscan" },
		{ "tcp_ports.pcapng", "attack:tcp_ports" },
		{ "arppoison.pcapng", "attack:arppoison" },
		{ "pkt.TCP.synflood.spoofed.pcap", "attack:synflood" },
		{ "amp.UDP.isakmp.pcap", "attack:udp_amplification" },
	};
	snprintf(sc->kinds[sc->nkinds++], 32, "benign");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[1024], err[FCAP_ERRBUF_SIZE];
		snprintf(p, sizeof(p), "%s/%s", data, files[i].file);
		/* first half of each file trains, the second half is scored */
		struct fcap_pcap_reader *r = fcap_pcap_open(p, err);
		if (!r)
			die(p, err);
		struct fcap_pkt k;
		uint64_t n = 0;
		while (fcap_pcap_next(r, &k, err) > 0)
			n++;
		fcap_pcap_close(r);
		struct fcap_split half = { 0, n / 2 };
		struct fcap_dataset a116 = { 0 }, a100 = { 0 };
		read_into(sc, p, NULL, files[i].label, &half, false, &a116, &a100);
		select_rows(&a116, 1, &sc->train116);
		select_rows(&a100, 1, &sc->train100);
		select_rows(&a116, 0, &sc->test116);
		select_rows(&a100, 0, &sc->test100);
		fcap_dataset_free(&a116);
		fcap_dataset_free(&a100);
	}
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "build/bench";
	const char *eval = argc > 2 ? argv[2] : "tests/eval/data";
	const char *data = getenv("FCAP_DATA");
	char path[1024];
	snprintf(path, sizeof(path), "mkdir -p '%s'", out);
	if (system(path) != 0)
		die(out, "cannot create");

	struct scenario sc[2] = { { .name = "eval" }, { .name = "real" } };
	int nsc = 1;
	label_split_eval(&sc[0], eval);
	if (data) {
		label_split_real(&sc[1], data);
		nsc = 2;
	}
	struct result res[2][4];
	memset(res, 0, sizeof(res));
	for (int i = 0; i < nsc; i++)
		run_scenario(&sc[i], res[i], stderr);

	/* speed: the eval test capture, with the eval hybrid model (all networks run) */
	struct fcap_model m;
	struct fcap_dataset ben = { 0 };
	train_model(&m, &sc[0].train116, true, true);
	struct fcap_model mk;
	benign_only(&sc[0].train100, &ben);
	train_model(&mk, &ben, false, false);
	snprintf(path, sizeof(path), "%s/test.pcap", eval);
	struct pkts p;
	load_pkts(path, &p);
	size_t feat_mem = 0;
	double pps_feat = speed(&p, &m, M_FEATURES, 1.0, &feat_mem);
	double pps_fixed = speed(&p, &m, M_FIXED, 1.0, NULL);
	double pps_float = speed(&p, &m, M_FLOAT, 1.0, NULL);
	double pps_kfixed = speed(&p, &mk, M_FIXED, 1.0, NULL);
	double pps_kfloat = speed(&p, &mk, M_FLOAT, 1.0, NULL);

	printf("\nScorer benchmark (one core; fixed point unless marked double)\n\n");
	printf("Speed on %s (%zu packets, replayed for >= 1 s each):\n", path, p.n);
	printf("  %-46s %12s\n", "path", "packets/s");
	printf("  %-46s %12.0f\n", "features alone (116)", pps_feat);
	printf("  %-46s %12.0f\n", "features + fixed-point inference (hybrid model)", pps_fixed);
	printf("  %-46s %12.0f\n", "features + double inference (hybrid model)", pps_float);
	printf("  %-46s %12.0f\n", "Kitsune set + fixed-point ensemble", pps_kfixed);
	printf("  %-46s %12.0f\n", "Kitsune set + double ensemble", pps_kfloat);
	printf("  goal: >= 1000000 packets/s for features + fixed-point inference: %s\n\n",
	       pps_fixed >= 1e6 ? "met" : "NOT met");
	printf("Memory: hybrid model %zu bytes of fixed-point weights and tables (Kitsune-set ensemble %zu);\n"
	       "        feature state %zu bytes (%u entries per table)\n\n",
	       fcap_model_bytes(&m), fcap_model_bytes(&mk), feat_mem, m.table_entries);

	FILE *js = NULL;
	snprintf(path, sizeof(path), "%s/scorer.json", out);
	js = fopen(path, "w");
	if (!js)
		die(path, "cannot write");
	fprintf(js, "{\n  \"speed_pps\": {\"features\": %.0f, \"features_fixed\": %.0f, \"features_double\": %.0f, "
		    "\"kitsune_fixed\": %.0f, \"kitsune_double\": %.0f},\n",
		pps_feat, pps_fixed, pps_float, pps_kfixed, pps_kfloat);
	fprintf(js, "  \"memory_bytes\": {\"hybrid_model\": %zu, \"kitsune_model\": %zu, \"feature_state\": %zu},\n",
		fcap_model_bytes(&m), fcap_model_bytes(&mk), feat_mem);
	fprintf(js, "  \"scenarios\": {\n");
	bool fixed_ok = true;
	for (int i = 0; i < nsc; i++) {
		printf("Detection, scenario %s (%zu test packets):\n", sc[i].name, sc[i].test116.n);
		printf("  %-13s %7s %9s %10s %9s %8s %9s\n", "model", "AUC", "TPR@1%", "TPR@0.1%", "AUC dbl", "|dAUC|",
		       "Spearman");
		fprintf(js, "    \"%s\": {\n", sc[i].name);
		for (int k = 0; k < 4; k++) {
			struct result *r = &res[i][k];
			double d = fabs(r->auc - r->auc_f);
			fixed_ok = fixed_ok && d <= 0.005 && r->spearman >= 0.99;
			printf("  %-13s %7.4f %9.4f %10.4f %9.4f %8.4f %9.4f\n", r->model, r->auc, r->tpr1, r->tpr01, r->auc_f,
			       d, r->spearman);
			fprintf(js, "      \"%s\": {\"auc\": %.5f, \"tpr_at_1pct_fpr\": %.5f, \"tpr_at_0.1pct_fpr\": %.5f, "
				    "\"auc_double\": %.5f, \"spearman_fixed_double\": %.5f, \"model_bytes\": %zu, \"per_kind\": {",
				r->model, r->auc, r->tpr1, r->tpr01, r->auc_f, r->spearman, r->bytes);
			for (unsigned kk = 0; kk < sc[i].nkinds; kk++)
				fprintf(js, "%s\"%s\": {\"packets\": %zu, \"auc\": %.5f, \"alerted\": %.5f}", kk ? ", " : "",
					sc[i].kinds[kk], r->kind_n[kk], isnan(r->kind_auc[kk]) ? -1.0 : r->kind_auc[kk],
					r->kind_alert[kk]);
			fprintf(js, "}}%s\n", k < 3 ? "," : "");
		}
		fprintf(js, "    }%s\n", i + 1 < nsc ? "," : "");
		printf("  per kind (AUC against all benign test packets / share of packets alerted at the model's threshold):\n");
		printf("  %-20s %8s", "kind", "packets");
		for (int k = 0; k < 4; k++)
			printf(" %19s", res[i][k].model);
		printf("\n");
		for (unsigned kk = 0; kk < sc[i].nkinds; kk++) {
			printf("  %-20s %8zu", sc[i].kinds[kk], res[i][0].kind_n[kk]);
			for (int k = 0; k < 4; k++) {
				if (kk == 0)
					printf("        -- / %6.4f", res[i][k].kind_alert[kk]);
				else
					printf("    %6.4f / %6.4f", res[i][k].kind_auc[kk], res[i][k].kind_alert[kk]);
			}
			printf("\n");
		}
		printf("\n");
	}
	fprintf(js, "  }\n}\n");
	fclose(js);
	bool beats = true;
	for (int i = 0; i < nsc; i++)
		beats = beats && res[i][3].auc > res[i][0].auc;
	printf("goal: fixed-point AUC within 0.005 of double, Spearman >= 0.99, every model and scenario: %s\n",
	       fixed_ok ? "met" : "NOT met");
	printf("goal: hybrid beats the straight Kitsune-style ensemble (AUC), every scenario: %s\n",
	       beats ? "met" : "NOT met");
	printf("written: %s\n", path);
	fcap_model_free(&m);
	fcap_model_free(&mk);
	fcap_dataset_free(&ben);
	for (int i = 0; i < nsc; i++) {
		fcap_dataset_free(&sc[i].train116);
		fcap_dataset_free(&sc[i].train100);
		fcap_dataset_free(&sc[i].test116);
		fcap_dataset_free(&sc[i].test100);
	}
	free(p.data), free(p.caplen), free(p.origlen), free(p.off), free(p.ts);
	return 0;
}
