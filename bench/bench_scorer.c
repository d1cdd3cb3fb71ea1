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
#include "fcap/score_stream.h"

#define MAX_PKTS (1u << 21)

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
	double auc, tpr1, tpr01, auc_f, tpr1_f, tpr01_f, spearman;
	double ceiling;     /* Spearman of the double score against itself rounded to the fixed output step */
	double in_ceiling;  /* Spearman of the double score against the double score of Q11-rounded inputs */
	double agree;       /* share of packets on which fixed and double alert alike, each at its own threshold */
	double kind_auc[FCAP_LABELS_MAX_KINDS];
	double kind_alert[FCAP_LABELS_MAX_KINDS];   /* fraction of packets over the model's threshold */
	size_t kind_n[FCAP_LABELS_MAX_KINDS];
	size_t bytes;
};

enum which { W_AE, W_MLP, W_HYB };

/* The double score rounded to the fixed path's output step: what a
 * fixed-point score with that resolution and no other error would be. */
static double round_to(double v, double step)
{
	return floor(v / step + 0.5) * step;
}

/* The double score of a packet whose features were first rounded to the
 * fixed path's Q11 inputs: every other step exact. (The feature is rebuilt
 * from its Q11 value; that costs a relative 1e-16, far below a Q11 step.) */
static double double_on_q11(struct fcap_scorer *s, const struct fcap_model *m, const double *x, enum which w)
{
	double xq[FCAP_FEAT_MAX];
	for (uint32_t i = 0; i < m->nfeat; i++)
		xq[i] = fcap_q11(x[i] * m->in_a[i] + m->in_b[i]) / 2048.0 / m->finv[i] + m->fmin[i];
	struct fcap_scores c;
	fcap_score_float(s, xq, &c);
	return w == W_AE ? c.ae : w == W_MLP ? c.mlp : c.hybrid;
}

static void evaluate(const struct fcap_model *m, const struct fcap_dataset *test, enum which w, const struct scenario *sc,
		     struct result *res)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_scorer *s = fcap_scorer_new(m, err);
	if (!s)
		die("scorer", err);
	size_t n = test->n;
	double *q = calloc(n + 1, sizeof(double)), *f = calloc(n + 1, sizeof(double)), *fr = calloc(n + 1, sizeof(double));
	double *fq = calloc(n + 1, sizeof(double));
	uint8_t *pos = calloc(n + 1, 1), *alert = calloc(n + 1, 1);
	enum { CHUNK = 256 };
	double *x = malloc(CHUNK * FCAP_FEAT_MAX * sizeof(double));
	struct fcap_scores a[CHUNK];
	/* the fixed path's output step: Q20 anomaly score, Q16 logits and margins */
	double step = w == W_AE ? 0x1p-20 : 0x1p-16;
	size_t agree = 0;
	for (size_t r0 = 0; r0 < n; r0 += CHUNK) {
		size_t k = n - r0 < CHUNK ? n - r0 : CHUNK;
		for (size_t j = 0; j < k; j++)
			for (uint32_t i = 0; i < test->nfeat; i++)
				x[j * FCAP_FEAT_MAX + i] = test->x[(r0 + j) * test->nfeat + i];
		fcap_score_fixed_batch(s, x, FCAP_FEAT_MAX, k, a);
		for (size_t j = 0; j < k; j++) {
			size_t r = r0 + j;
			struct fcap_scores b;
			fcap_score_float(s, x + j * FCAP_FEAT_MAX, &b);
			q[r] = w == W_AE ? a[j].ae : w == W_MLP ? a[j].mlp : a[j].hybrid;
			f[r] = w == W_AE ? b.ae : w == W_MLP ? b.mlp : b.hybrid;
			fr[r] = round_to(f[r], step);
			fq[r] = double_on_q11(s, m, x + j * FCAP_FEAT_MAX, w);
			pos[r] = test->kind[r] != 0;
			alert[r] = w == W_AE ? a[j].ae * 1048576 > m->thr_ae_q
				 : w == W_MLP ? a[j].mlp * 65536 > m->thr_mlp_q : a[j].alert != FCAP_ALERT_NONE;
			bool alert_f = w == W_AE ? b.ae > m->thr_ae : w == W_MLP ? b.mlp > m->thr_mlp : b.alert != FCAP_ALERT_NONE;
			agree += alert[r] == alert_f;
		}
	}
	roc(q, pos, n, &res->auc, &res->tpr1, &res->tpr01);
	roc(f, pos, n, &res->auc_f, &res->tpr1_f, &res->tpr01_f);
	res->spearman = spearman(q, f, n);
	res->ceiling = spearman(fr, f, n);
	res->in_ceiling = spearman(fq, f, n);
	res->agree = n ? (double)agree / n : NAN;
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
	free(fr);
	free(fq);
	free(x);
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

enum mode { M_FEATURES, M_FIXED, M_FIXED_ALL, M_FLOAT, M_NMODES };

/*
 * One speed measurement: decode + features [+ scoring] exactly as `fcap
 * score` runs them (the score stream: batches of FCAP_SCORE_BATCH, the
 * plain classifier off, no CSV), over the capture again and again with the
 * timestamps shifted so that time moves on. Time is the thread's CPU time:
 * packets per second per core. A runner keeps its state between rounds;
 * its first pass is not timed (it maps the state tables' pages).
 */
struct runner {
	enum mode mode;
	enum fcap_simd simd;    /* the implementation this runner measures */
	const struct fcap_model *m;
	struct fcap_score_stream st;
	struct fcap_feat_in *in;
	double *feat;
	uint64_t shift;
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sink;

static void one_pass(struct runner *r, const struct pkts *p)
{
	if (r->mode == M_FEATURES) {
		/* what the stream does before scoring: decode, then features in batches */
		for (size_t i = 0; i < p->n; i += FCAP_SCORE_BATCH) {
			size_t k = p->n - i < FCAP_SCORE_BATCH ? p->n - i : FCAP_SCORE_BATCH;
			for (size_t j = 0; j < k; j++) {
				fcap_packet_decode(p->linktype, p->data + p->off[i + j], p->caplen[i + j], &r->in[j].pi);
				r->in[j].frame_len = p->origlen[i + j];
				r->in[j].ts_ns = p->ts[i + j] + r->shift;
			}
			fcap_features_update_batch(r->st.fx, r->in, k, r->feat, FCAP_FEAT_MAX);
			sink += r->feat[0];
		}
	} else {
		for (size_t i = 0; i < p->n; i++)
			fcap_score_stream_packet(&r->st, "bench", p->off[i], i + 1, p->linktype, p->ts[i] + r->shift,
						 p->data + p->off[i], p->caplen[i], p->origlen[i]);
		fcap_score_stream_flush(&r->st);
	}
	r->shift += p->ts[p->n - 1] - p->ts[0] + 1000000;
}

static void runner_init(struct runner *r, const struct fcap_model *m, enum mode mode, enum fcap_simd simd,
			const struct pkts *p)
{
	char err[FCAP_ERRBUF_SIZE];
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->simd = simd;
	fcap_simd_use(simd);   /* the features choose their arithmetic when made */
	r->m = m;
	r->in = malloc(FCAP_SCORE_BATCH * sizeof(*r->in));
	r->feat = malloc(FCAP_SCORE_BATCH * FCAP_FEAT_MAX * sizeof(double));
	if (!r->in || !r->feat || fcap_score_stream_init(&r->st, m, NULL, err) < 0)
		die("speed", err);
	r->st.use_float = mode == M_FLOAT;
	if (mode == M_FIXED_ALL)
		fcap_scorer_plain_classifier(r->st.sc, true);
	one_pass(r, p);
	fcap_simd_use(fcap_simd_best());
}

static void runner_free(struct runner *r)
{
	fcap_score_stream_free(&r->st);
	free(r->in);
	free(r->feat);
}

/* Packets per CPU second for at least min_s seconds. */
static double runner_speed(struct runner *r, const struct pkts *p, double min_s)
{
	size_t done = 0;
	fcap_simd_use(r->simd);
	double t0 = cpu_s(), t;
	do {
		one_pass(r, p);
		done += p->n;
		t = cpu_s() - t0;
	} while (t < min_s);
	fcap_simd_use(fcap_simd_best());
	return done / t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define SPEED_ROUNDS 5

struct speed {
	double median, lo, hi;
};

/* Every runner once per round, rounds interleaved, so that whatever else
 * runs on the machine weighs on all of them alike; the median of the rounds. */
static void measure(struct runner *r, int nr, const struct pkts *p, double min_s, struct speed *out)
{
	double v[16][SPEED_ROUNDS];
	if (nr > 16)
		die("speed", "too many runners");
	for (int round = 0; round < SPEED_ROUNDS; round++)
		for (int i = 0; i < nr; i++)
			v[i][round] = runner_speed(&r[i], p, min_s);
	for (int i = 0; i < nr; i++) {
		qsort(v[i], SPEED_ROUNDS, sizeof(double), cmp_double);
		out[i] = (struct speed){ v[i][SPEED_ROUNDS / 2], v[i][0], v[i][SPEED_ROUNDS - 1] };
	}
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
	enum { R_FEAT, R_FIXED, R_FIXED_ALL, R_FIXED_PORTABLE, R_FLOAT, R_KFIXED, R_KFLOAT, R_N };
	struct runner run[R_N];
	enum fcap_simd best = fcap_simd_best();
	runner_init(&run[R_FEAT], &m, M_FEATURES, best, &p);
	runner_init(&run[R_FIXED], &m, M_FIXED, best, &p);
	runner_init(&run[R_FIXED_ALL], &m, M_FIXED_ALL, best, &p);
	runner_init(&run[R_FIXED_PORTABLE], &m, M_FIXED, FCAP_SIMD_SCALAR, &p);
	runner_init(&run[R_FLOAT], &m, M_FLOAT, best, &p);
	runner_init(&run[R_KFIXED], &mk, M_FIXED, best, &p);
	runner_init(&run[R_KFLOAT], &mk, M_FLOAT, best, &p);
	struct speed sp[R_N];
	measure(run, R_N, &p, 0.4, sp);
	struct fcap_feat_stats fst;
	fcap_features_stats(run[R_FEAT].st.fx, &fst);
	size_t feat_mem = fst.memory_bytes;
	for (int i = 0; i < R_N; i++)
		runner_free(&run[i]);
	static const char *const what[R_N] = {
		"features alone (116)",
		"features + fixed-point hybrid (as fcap score)",
		"  the same + the plain classifier",
		"  the same without AVX2 (portable C, SSE2)",
		"features + double hybrid (as fcap score --float)",
		"Kitsune set + fixed-point ensemble",
		"Kitsune set + double ensemble",
	};

	printf("\nScorer benchmark (one core; fixed point unless marked double)\n\n");
	printf("Speed on %s (%zu packets; packets per CPU second, median of %d rounds of >= 0.4 s;\n"
	       "packet-group inference: %s):\n", path, p.n, SPEED_ROUNDS, fcap_simd_name(best));
	printf("  %-50s %12s %23s\n", "path", "packets/s", "(rounds: min .. max)");
	if (best == FCAP_SIMD_SCALAR)
		printf("  (this CPU has no AVX2: every path runs the portable code)\n");
	for (int i = 0; i < R_N; i++)
		printf("  %-50s %12.0f   (%9.0f .. %9.0f)\n", what[i], sp[i].median, sp[i].lo, sp[i].hi);
	printf("  goal: >= 1000000 packets/s for features + fixed-point inference: %s\n\n",
	       sp[R_FIXED].median >= 1e6 ? "met" : "NOT met");
	printf("Memory: hybrid model %zu bytes of fixed-point weights and tables (Kitsune-set ensemble %zu);\n"
	       "        feature state %zu bytes (%u entries per table)\n\n",
	       fcap_model_bytes(&m), fcap_model_bytes(&mk), feat_mem, m.table_entries);

	FILE *js = NULL;
	snprintf(path, sizeof(path), "%s/scorer.json", out);
	js = fopen(path, "w");
	if (!js)
		die(path, "cannot write");
	fprintf(js, "{\n  \"speed_pps\": {\"features\": %.0f, \"features_fixed\": %.0f, \"features_fixed_with_plain_classifier\": %.0f, "
		    "\"features_fixed_portable\": %.0f, \"features_double\": %.0f, \"kitsune_fixed\": %.0f, "
		    "\"kitsune_double\": %.0f, \"simd\": \"%s\", \"rounds\": %d},\n",
		sp[R_FEAT].median, sp[R_FIXED].median, sp[R_FIXED_ALL].median, sp[R_FIXED_PORTABLE].median,
		sp[R_FLOAT].median, sp[R_KFIXED].median, sp[R_KFLOAT].median, fcap_simd_name(best), SPEED_ROUNDS);
	fprintf(js, "  \"memory_bytes\": {\"hybrid_model\": %zu, \"kitsune_model\": %zu, \"feature_state\": %zu},\n",
		fcap_model_bytes(&m), fcap_model_bytes(&mk), feat_mem);
	fprintf(js, "  \"scenarios\": {\n");
	bool auc_ok = true, spear_ok = true;
	for (int i = 0; i < nsc; i++) {
		printf("Detection, scenario %s (%zu test packets):\n", sc[i].name, sc[i].test116.n);
		printf("  %-13s %7s %8s %9s | %8s %8s %9s %8s | %8s %8s %8s %7s\n", "model", "AUC", "TPR@1%", "TPR@0.1%",
		       "AUC dbl", "|dAUC|", "TPR@1%dbl", "TPR@.1%d", "Spearman", "ceil.out", "ceil.in", "agree");
		fprintf(js, "    \"%s\": {\n", sc[i].name);
		for (int k = 0; k < 4; k++) {
			struct result *r = &res[i][k];
			double d = fabs(r->auc - r->auc_f);
			auc_ok = auc_ok && d <= 0.005;
			spear_ok = spear_ok && r->spearman >= 0.99;
			printf("  %-13s %7.4f %8.4f %9.4f | %8.4f %8.4f %9.4f %8.4f | %8.4f %8.4f %8.4f %7.4f\n", r->model,
			       r->auc, r->tpr1, r->tpr01, r->auc_f, d, r->tpr1_f, r->tpr01_f, r->spearman, r->ceiling,
			       r->in_ceiling, r->agree);
			fprintf(js, "      \"%s\": {\"auc\": %.5f, \"tpr_at_1pct_fpr\": %.5f, \"tpr_at_0.1pct_fpr\": %.5f, "
				    "\"auc_double\": %.5f, \"tpr_at_1pct_fpr_double\": %.5f, \"tpr_at_0.1pct_fpr_double\": %.5f, "
				    "\"spearman_fixed_double\": %.5f, \"spearman_ceiling_output_step\": %.5f, "
				    "\"spearman_ceiling_q11_inputs\": %.5f, \"alert_agreement\": %.5f, "
				    "\"model_bytes\": %zu, \"per_kind\": {",
				r->model, r->auc, r->tpr1, r->tpr01, r->auc_f, r->tpr1_f, r->tpr01_f, r->spearman, r->ceiling,
				r->in_ceiling, r->agree, r->bytes);
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
	printf("goal: fixed-point AUC within 0.005 of double, every model and scenario: %s\n", auc_ok ? "met" : "NOT met");
	printf("goal: Spearman (fixed, double) >= 0.99, every model and scenario: %s\n", spear_ok ? "met" : "NOT met");
	printf("  ceil.out: Spearman of the double score against itself rounded to the fixed output step (2^-20\n"
	       "  anomaly, 2^-16 logits and margins): what any score of that resolution could reach at best;\n"
	       "  ceil.in: Spearman of the double score against the double score of Q11-rounded inputs;\n"
	       "  agree: share of packets alerted alike by fixed point and double, each at its own threshold\n"
	       "  (docs/MODELS.md, \"Fidelity of fixed point\")\n");
	printf("goal: hybrid beats the straight Kitsune-style ensemble (AUC), every scenario: %s\n",
	       beats ? "met" : "NOT met");
	printf("written: %s\n", path);
	if (sink == 12345.678)
		printf(" ");
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
