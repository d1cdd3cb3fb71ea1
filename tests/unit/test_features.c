/*
 * test_features.c - the per-packet features (host/lib/features.c) against a
 * plain double-precision reference written here from docs/FEATURES.md:
 * exp2() for every decay, string-keyed streams, one struct per stream and
 * time scale. Traffic: a table of crafted frames (TCP, UDP, ICMP, ARP, IPv6,
 * non-IP, a truncated frame) with irregular gaps, then, when the bundled
 * captures are present, real web browsing and an nmap scan.
 *
 * Also: the decay lookup table against exp2(), bounded tables (memory does
 * not grow, evictions are counted), the idle timeout, and feature names.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/features.h"
#include "fcap/nn.h"
#include "fcap/packet.h"
#include "fcap/pcap_reader.h"

/* ---------------- reference ---------------- */

#define REF_SLOTS (1u << 16)
#define L FCAP_NLAMBDA

struct ref_stat {
	double w, ls, ss;
	uint64_t t;
	double resid;        /* last x - mean, for the 2D statistics */
};

struct ref_entry {
	char *key;
	struct ref_stat s[L];
	uint64_t seen;       /* packets seen on this key */
	double ind[2][4];    /* host keys: decayed indicator sums */
};

static struct ref_entry *ref_tab;

static struct ref_entry *ref_get(const char *key)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (uint32_t i = 0;; i++) {
		struct ref_entry *e = &ref_tab[(h + i) & (REF_SLOTS - 1)];
		if (!e->key) {
			e->key = strdup(key);
			return e;
		}
		if (!strcmp(e->key, key))
			return e;
	}
}

static void ref_reset(void)
{
	for (uint32_t i = 0; i < REF_SLOTS; i++)
		free(ref_tab[i].key);
	memset(ref_tab, 0, REF_SLOTS * sizeof(*ref_tab));
}

static double ref_decay(double lambda, uint64_t last, uint64_t now)
{
	double dt = now > last ? (double)(now - last) / 1e9 : 0.0;
	return exp2(-lambda * dt);
}

static void ref_add(struct ref_stat *s, double lambda, uint64_t now, double x)
{
	double f = ref_decay(lambda, s->t, now);
	s->w = s->w * f + 1;
	s->ls = s->ls * f + x;
	s->ss = s->ss * f + x * x;
	s->t = now;
}

static double ref_mean(const struct ref_stat *s)
{
	return s->w > 0 ? s->ls / s->w : 0;
}

static double ref_var(const struct ref_stat *s)
{
	if (s->w <= 0)
		return 0;
	double v = s->ss / s->w - ref_mean(s) * ref_mean(s);
	return v > 0 ? v : 0;
}

static void hex(char *out, const uint8_t *a, int n)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", a[i]);
}

/* One 2D group: the packet's stream "pfx|src|dst", its reverse, the
 * unordered pair's covariance "pfx~lo~hi". Writes 7 values per lambda. */
static bool ref_2d(const char *pfx, const char *src, const char *dst, double x, uint64_t now, double *out,
		   double *jit_out)
{
	char ka[256], kb[256], kc[256], kj[256];
	snprintf(ka, sizeof(ka), "%s|%s|%s", pfx, src, dst);
	snprintf(kb, sizeof(kb), "%s|%s|%s", pfx, dst, src);
	int c = strcmp(src, dst);
	snprintf(kc, sizeof(kc), "%s~%s~%s", pfx, c <= 0 ? src : dst, c <= 0 ? dst : src);
	snprintf(kj, sizeof(kj), "J%s|%s|%s", pfx, src, dst);
	struct ref_entry *a = ref_get(ka), *b = ref_get(kb), *cv = ref_get(kc);
	bool fresh = cv->seen == 0;
	double gap = a->seen && now > a->s[0].t ? (double)(now - a->s[0].t) / 1e9 : 0.0;
	for (int l = 0; l < L; l++) {
		double lam = fcap_lambdas[l];
		ref_add(&a->s[l], lam, now, x);
		double ma = ref_mean(&a->s[l]), mb = ref_mean(&b->s[l]);
		double va = ref_var(&a->s[l]), vb = ref_var(&b->s[l]);
		a->s[l].resid = x - ma;
		/* covariance: its own weight and sum of residual products */
		struct ref_stat *cs = &cv->s[l];
		double f = ref_decay(lam, cs->t, now);
		cs->ls = cs->ls * f + a->s[l].resid * b->s[l].resid;
		cs->w = cs->w * f + 1;
		cs->t = now;
		double cov = cs->ls / cs->w;
		double *o = out + 7 * l;
		o[0] = a->s[l].w;
		o[1] = ma;
		o[2] = sqrt(va);
		o[3] = sqrt(ma * ma + mb * mb);
		o[4] = sqrt(va * va + vb * vb);
		o[5] = cov;
		o[6] = va * vb > 0 ? cov / sqrt(va * vb) : 0;
		if (jit_out) {
			struct ref_stat *js = &ref_get(kj)->s[l];
			ref_add(js, lam, now, gap);
			jit_out[3 * l] = js->w;
			jit_out[3 * l + 1] = ref_mean(js);
			jit_out[3 * l + 2] = sqrt(ref_var(js));
		}
	}
	a->seen++;
	cv->seen++;
	return fresh;
}

static void ref_host(const char *key, uint64_t now, const double *ind, int nind, double *out)
{
	static const int scales[2] = { 0, 1 };   /* lambda 5 and 3 */
	struct ref_entry *e = ref_get(key);
	for (int j = 0; j < 2; j++) {
		double f = ref_decay(fcap_lambdas[scales[j]], e->s[j].t, now);
		e->s[j].w = e->s[j].w * f + 1;
		e->s[j].t = now;
		out[8 * j] = e->s[j].w;
		for (int i = 0; i < nind; i++) {
			e->ind[j][i] = e->ind[j][i] * f + ind[i];
			out[8 * j + 1 + i] = e->ind[j][i] / e->s[j].w;
		}
	}
}

static void ref_features(const struct fcap_pkt_info *pi, double x, uint64_t now, double *out)
{
	char smac[16], sip[40], dip[40], k[256], se[64], de[64];
	hex(smac, pi->src_mac, 6);
	hex(sip, pi->src_ip, 16);
	hex(dip, pi->dst_ip, 16);
	/* MI: source MAC and IP */
	snprintf(k, sizeof(k), "MI|%s|%s", smac, sip);
	struct ref_entry *mi = ref_get(k);
	for (int l = 0; l < L; l++) {
		ref_add(&mi->s[l], fcap_lambdas[l], now, x);
		out[3 * l] = mi->s[l].w;
		out[3 * l + 1] = ref_mean(&mi->s[l]);
		out[3 * l + 2] = sqrt(ref_var(&mi->s[l]));
	}
	ref_2d("H", sip, dip, x, now, out + 15, out + 50);
	/* sockets: TCP/UDP ports; other IP protocols their number; else 0 */
	unsigned sp = 0, dp = 0;
	if (pi->l4 == FCAP_L4_TCP || pi->l4 == FCAP_L4_UDP)
		sp = pi->sport, dp = pi->dport;
	else if (pi->l4 == FCAP_L4_OTHER_IP)
		sp = dp = pi->ip_proto;
	snprintf(se, sizeof(se), "%s:%05u", sip, sp);
	snprintf(de, sizeof(de), "%s:%05u", dip, dp);
	char pfx[8];
	snprintf(pfx, sizeof(pfx), "S%d", (int)pi->l4);
	bool fresh = ref_2d(pfx, se, de, x, now, out + 65, NULL);
	bool syn = pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & 0x12) == 0x02;
	double src_ind[4] = { syn, pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & 0x04), fresh, pi->l4 == FCAP_L4_ICMP };
	double dst_ind[2] = { syn, fresh };
	snprintf(k, sizeof(k), "XS|%s", sip);
	ref_host(k, now, src_ind, 4, out + 100);
	snprintf(k, sizeof(k), "XD|%s", dip);
	ref_host(k, now, dst_ind, 2, out + 105);
}

/* ---------------- comparison ---------------- */

static double worst_rel;

/* Bounded relative error, with a floor from the feature's natural scale so
 * that values which are differences of large sums (std, covariance) are
 * judged against the size of those sums. */
static void compare(const double *got, const double *want, unsigned n, uint64_t pkt)
{
	for (unsigned i = 0; i < n; i++) {
		double scale = fabs(want[i]);
		if (i >= 15 && i < 100 && !(i >= 50 && i < 65)) {
			unsigned base = i < 50 ? 15 + (i - 15) / 7 * 7 : 65 + (i - 65) / 7 * 7;
			double mag = want[base + 3];
			unsigned k = (i - base);
			if (k == 2)
				scale += mag;             /* std vs magnitude of the means */
			else if (k == 4 || k == 5)
				scale += mag * mag;       /* variances and covariance */
			else if (k == 6)
				scale += 1;               /* correlation */
		} else if (i < 65 && (i % 3 == (i < 15 ? 2u : 1u))) {
			scale += fabs(want[i - 1]);       /* std vs mean */
		} else if (i >= 100 && (i - 100) % 8 != 0 && (i - 100) % 8 != 5) {
			scale += 1;                       /* fractions in [0, 1] */
		}
		double err = fabs(got[i] - want[i]) / (scale > 0 ? scale : 1);
		if (err > worst_rel)
			worst_rel = err;
		if (err > 1e-6) {
			char name[64];
			fprintf(stderr, "packet %llu feature %u (%s): got %.12g want %.12g\n", (unsigned long long)pkt, i,
				fcap_feature_name(i, name, sizeof(name)), got[i], want[i]);
			CU_FAIL("feature differs from the reference");
			return;
		}
	}
}

/* ---------------- crafted traffic ---------------- */

struct frame {
	const char *what;
	uint8_t src_mac_last, dst_mac_last;
	uint16_t ethertype;
	int l4;              /* IP protocol, or -1 for ARP/other */
	uint8_t src, dst;    /* last octet of 10.0.0.x */
	uint16_t sport, dport;
	uint8_t flags;
	uint16_t len;        /* frame length */
	uint32_t gap_us;     /* before this frame */
};

static const struct frame frames[] = {
	{ "syn", 1, 2, 0x0800, 6, 1, 2, 40000, 80, 0x02, 74, 0 },
	{ "syn-ack", 2, 1, 0x0800, 6, 2, 1, 80, 40000, 0x12, 74, 120 },
	{ "ack", 1, 2, 0x0800, 6, 1, 2, 40000, 80, 0x10, 66, 80 },
	{ "data", 1, 2, 0x0800, 6, 1, 2, 40000, 80, 0x18, 600, 900 },
	{ "data back", 2, 1, 0x0800, 6, 2, 1, 80, 40000, 0x18, 1514, 30000 },
	{ "dns", 1, 3, 0x0800, 17, 1, 3, 5353, 53, 0, 80, 250000 },
	{ "dns reply", 3, 1, 0x0800, 17, 3, 1, 53, 5353, 0, 140, 700 },
	{ "ping", 1, 3, 0x0800, 1, 1, 3, 0, 0, 0, 98, 1000000 },
	{ "pong", 3, 1, 0x0800, 1, 3, 1, 0, 0, 0, 98, 400 },
	{ "arp", 1, 0xff, 0x0806, -1, 1, 2, 0, 0, 0, 60, 3000000 },
	{ "gre", 1, 2, 0x0800, 47, 1, 2, 0, 0, 0, 200, 10 },
	{ "lldp", 4, 5, 0x88cc, -1, 0, 0, 0, 0, 0, 60, 20000000 },
	{ "ipv6 udp", 1, 2, 0x86dd, 17, 1, 2, 1000, 2000, 0, 120, 5 },
	{ "rst", 2, 1, 0x0800, 6, 2, 1, 80, 40000, 0x04, 60, 0 },
	{ "scan", 6, 2, 0x0800, 6, 6, 2, 50000, 22, 0x02, 60, 50 },
	{ "scan", 6, 2, 0x0800, 6, 6, 2, 50000, 23, 0x02, 60, 50 },
	{ "scan", 6, 2, 0x0800, 6, 6, 2, 50000, 25, 0x02, 60, 50 },
	{ "truncated", 1, 2, 0x0800, 6, 1, 2, 40000, 80, 0x10, 20, 100 },
};

static uint32_t build(const struct frame *f, uint8_t *b)
{
	memset(b, 0, 1600);
	uint8_t src_mac[6] = { 2, 0, 0, 0, 0, f->src_mac_last }, dst_mac[6] = { 2, 0, 0, 0, 0, f->dst_mac_last };
	memcpy(b, dst_mac, 6);
	memcpy(b + 6, src_mac, 6);
	b[12] = (uint8_t)(f->ethertype >> 8);
	b[13] = (uint8_t)f->ethertype;
	uint8_t *p = b + 14, *l4;
	if (f->ethertype == 0x0800) {
		p[0] = 0x45;
		p[6] = 0x40;   /* don't fragment, offset 0 */
		p[9] = (uint8_t)f->l4;
		uint8_t s[4] = { 10, 0, 0, f->src }, d[4] = { 10, 0, 0, f->dst };
		memcpy(p + 12, s, 4);
		memcpy(p + 16, d, 4);
		l4 = p + 20;
	} else if (f->ethertype == 0x86dd) {
		p[0] = 0x60;
		p[6] = (uint8_t)f->l4;
		p[8] = 0xfd;
		p[23] = f->src;
		p[24] = 0xfd;
		p[39] = f->dst;
		l4 = p + 40;
	} else if (f->ethertype == 0x0806) {
		p[1] = 1, p[2] = 8, p[4] = 6, p[5] = 4, p[7] = 1;
		memcpy(p + 8, src_mac, 6);
		uint8_t s[4] = { 10, 0, 0, f->src }, d[4] = { 10, 0, 0, f->dst };
		memcpy(p + 14, s, 4);
		memcpy(p + 24, d, 4);
		return f->len;
	} else {
		return f->len;
	}
	l4[0] = (uint8_t)(f->sport >> 8), l4[1] = (uint8_t)f->sport;
	l4[2] = (uint8_t)(f->dport >> 8), l4[3] = (uint8_t)f->dport;
	l4[13] = f->flags;
	return f->len;
}

static struct fcap_features *new_fx(uint32_t entries, uint64_t idle)
{
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_feat_config c = { entries, idle, true };
	struct fcap_features *fx = fcap_features_new(&c, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
	return fx;
}

static void test_crafted(void)
{
	ref_reset();
	struct fcap_features *fx = new_fx(1 << 12, 0);
	uint8_t buf[1600];
	double got[FCAP_FEAT_MAX], want[FCAP_FEAT_MAX];
	uint64_t t = 1700000000ull * 1000000000ull, pkt = 0;
	/* Replay the table 40 times with gaps stretched by the round, so that
	 * every time scale sees both short and long gaps. */
	for (int round = 0; round < 40; round++) {
		for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
			const struct frame *f = &frames[i];
			uint32_t len = build(f, buf);
			uint32_t caplen = f->len < 54 ? f->len : (len < 1600 ? len : 1600);
			t += (uint64_t)f->gap_us * 1000 * (1 + round % 7) + 17;
			struct fcap_pkt_info pi;
			fcap_packet_decode(FCAP_LINKTYPE_ETHERNET, buf, caplen, &pi);
			fcap_features_update(fx, &pi, f->len, t, got);
			ref_features(&pi, f->len, t, want);
			compare(got, want, FCAP_FEAT_MAX, ++pkt);
		}
	}
	fcap_features_free(fx);
}

static void test_real(const char *name)
{
	const char *dir = getenv("FCAP_DATA");
	char path[1024], err[FCAP_ERRBUF_SIZE];
	if (!dir) {
		printf("(FCAP_DATA unset: %s skipped) ", name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	ref_reset();
	struct fcap_features *fx = new_fx(1 << 16, 0);
	double got[FCAP_FEAT_MAX], want[FCAP_FEAT_MAX];
	struct fcap_pkt p;
	int rc;
	uint64_t n = 0;
	while ((rc = fcap_pcap_next(r, &p, err)) > 0) {
		struct fcap_pkt_info pi;
		fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
		fcap_features_update(fx, &pi, p.origlen, p.ts_ns, got);
		ref_features(&pi, p.origlen, p.ts_ns, want);
		compare(got, want, FCAP_FEAT_MAX, p.number);
		n++;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(n > 900);   /* both files hold more: the comparison really ran */
	fcap_features_free(fx);
	fcap_pcap_close(r);
}

static void test_real_web(void)
{
	test_real("http_espn.pcapng");
}

static void test_real_scan(void)
{
	test_real("synscan.pcapng");
}

/*
 * The four ways of computing the features give the same bits: one packet
 * at a time or in batches (fcap_features_update_batch, which fetches state
 * ahead), each with the portable arithmetic or with AVX2 across the time
 * scales (when the CPU has it). Real captures, including a spoofed SYN
 * flood (a new flow nearly every packet), with roomy tables and with
 * 64-entry tables that evict all the time.
 */
static size_t features_of(const char *path, enum fcap_simd simd, size_t batch, uint32_t entries, size_t max_pkts,
			  double **out)
{
	char err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_EQUAL_FATAL(fcap_simd_use(simd), 0);
	struct fcap_features *fx = new_fx(entries, 0);
	struct fcap_pcap_reader *r = fcap_pcap_open(path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	*out = malloc(max_pkts * FCAP_FEAT_MAX * sizeof(double));
	struct fcap_feat_in in[40];
	uint64_t rng = 5;
	size_t n = 0, k = 0, want = batch;
	struct fcap_pkt p;
	int rc = 1;
	while (n + k < max_pkts && (rc = fcap_pcap_next(r, &p, err)) > 0) {
		fcap_packet_decode(p.linktype, p.data, p.caplen, &in[k].pi);
		in[k].frame_len = p.origlen;
		in[k].ts_ns = p.ts_ns;
		if (batch == 0) {
			fcap_features_update(fx, &in[k].pi, p.origlen, p.ts_ns, *out + n * FCAP_FEAT_MAX);
			n++;
		} else if (++k == want) {
			fcap_features_update_batch(fx, in, k, *out + n * FCAP_FEAT_MAX, FCAP_FEAT_MAX);
			n += k;
			k = 0;
			want = 1 + (size_t)(fcap_rng_next(&rng) % 40);   /* batches of every size */
		}
	}
	if (k)
		fcap_features_update_batch(fx, in, k, *out + n * FCAP_FEAT_MAX, FCAP_FEAT_MAX);
	n += k;
	CU_ASSERT(rc >= 0);
	fcap_pcap_close(r);
	fcap_features_free(fx);
	return n;
}

static void test_paths_identical(void)
{
	const char *dir = getenv("FCAP_DATA");
	static const char *const files[] = { "synscan.pcapng", "http_espn.pcapng", "pkt.TCP.synflood.spoofed.pcap",
					     "amp.UDP.isakmp.pcap" };
	enum fcap_simd best = fcap_simd_best();
	if (best == FCAP_SIMD_SCALAR)
		printf("(no AVX2 here: the portable arithmetic only) ");
	size_t compared = 0;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[1024];
		if (!dir) {
			printf("(FCAP_DATA unset: skipped) ");
			return;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		for (int small = 0; small < 2; small++) {
			uint32_t entries = small ? 64 : 1 << 16;
			double *ref, *other;
			size_t n = features_of(path, FCAP_SIMD_SCALAR, 0, entries, 3000, &ref);
			CU_ASSERT(n > 900);
			struct { enum fcap_simd simd; size_t batch; } way[] = { { FCAP_SIMD_SCALAR, 1 }, { best, 0 }, { best, 1 } };
			for (size_t w = 0; w < 3; w++) {
				size_t m = features_of(path, way[w].simd, way[w].batch, entries, 3000, &other);
				CU_ASSERT_EQUAL(m, n);
				if (m == n && memcmp(ref, other, n * FCAP_FEAT_MAX * sizeof(double)) != 0) {
					fprintf(stderr, "\n%s (%u entries): way %zu differs\n", files[f], entries, w);
					CU_FAIL("features differ between ways of computing them");
				}
				compared += m;
				free(other);
			}
			free(ref);
		}
	}
	CU_ASSERT_EQUAL(fcap_simd_use(best), 0);
	printf("(%zu packets' features compared bit for bit) ", compared);
}

/* After fcap_features_reset, a capture's features are those of fresh
 * state, bit for bit, however full the tables were. */
static void test_reset(void)
{
	const char *dir = getenv("FCAP_DATA");
	if (!dir) {
		printf("(FCAP_DATA unset: skipped) ");
		return;
	}
	char a[1024], b[1024], err[FCAP_ERRBUF_SIZE];
	snprintf(a, sizeof(a), "%s/http_espn.pcapng", dir);
	snprintf(b, sizeof(b), "%s/synscan.pcapng", dir);
	double *fresh, *after;
	size_t n = features_of(b, fcap_simd_best(), 0, 64, 3000, &fresh);
	struct fcap_features *fx = new_fx(64, 0);
	after = malloc(n * FCAP_FEAT_MAX * sizeof(double));
	const char *files[2] = { a, b };
	size_t m = 0;
	for (int f = 0; f < 2; f++) {
		if (f)
			fcap_features_reset(fx);
		struct fcap_pcap_reader *r = fcap_pcap_open(files[f], err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		struct fcap_pkt p;
		while (fcap_pcap_next(r, &p, err) > 0 && (!f || m < n)) {
			struct fcap_pkt_info pi;
			double x[FCAP_FEAT_MAX];
			fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
			fcap_features_update(fx, &pi, p.origlen, p.ts_ns, f ? after + m++ * FCAP_FEAT_MAX : x);
		}
		fcap_pcap_close(r);
	}
	struct fcap_feat_stats st;
	fcap_features_stats(fx, &st);
	CU_ASSERT_EQUAL(m, n);
	CU_ASSERT_EQUAL(st.packets, n);   /* counters start again too */
	CU_ASSERT(memcmp(fresh, after, n * FCAP_FEAT_MAX * sizeof(double)) == 0);
	fcap_features_free(fx);
	free(fresh);
	free(after);
}

static void test_decay_table(void)
{
	double worst = 0;
	for (unsigned l = 0; l < FCAP_NLAMBDA; l++) {
		for (uint64_t dt = 0; dt < 5000000000000ull; dt = dt * 3 + 7919) {
			double want = exp2(-fcap_lambdas[l] * (double)dt / 1e9);
			double got = fcap_decay(l, dt);
			if (want < 0x1p-63) {   /* documented: factors below 2^-64 are 0 */
				CU_ASSERT(got <= 0x1p-63);
				continue;
			}
			double e = fabs(got - want) / want;
			if (e > worst)
				worst = e;
		}
	}
	printf("(worst relative decay error %.2e) ", worst);
	CU_ASSERT(worst < 2e-9);
	CU_ASSERT_EQUAL(fcap_decay(0, 0), 1.0);
}

/* A table of 64 entries facing 5000 hosts: memory stays put, evictions counted. */
static void test_bounded_tables(void)
{
	struct fcap_features *fx = new_fx(64, 0);
	struct fcap_feat_stats st0, st;
	fcap_features_stats(fx, &st0);
	uint8_t buf[1600];
	double out[FCAP_FEAT_MAX];
	struct frame f = frames[14];
	for (int i = 0; i < 5000; i++) {
		f.src = (uint8_t)(i % 251);
		f.sport = (uint16_t)(1000 + i);
		f.src_mac_last = (uint8_t)(i / 251);
		uint32_t len = build(&f, buf);
		struct fcap_pkt_info pi;
		fcap_packet_decode(FCAP_LINKTYPE_ETHERNET, buf, len, &pi);
		fcap_features_update(fx, &pi, len, 1000000000ull + (uint64_t)i * 1000, out);
	}
	fcap_features_stats(fx, &st);
	CU_ASSERT_EQUAL(st.memory_bytes, st0.memory_bytes);
	CU_ASSERT_EQUAL(st.packets, 5000);
	CU_ASSERT(st.evict_lru > 5000);   /* socket pairs alone are 5000 distinct keys */
	CU_ASSERT_EQUAL(st.evict_idle, 0);
	fcap_features_free(fx);
}

/* An entry idle past the timeout starts afresh: weight back to 1. */
static void test_idle_timeout(void)
{
	struct fcap_features *fx = new_fx(1024, 5000000000ull);
	uint8_t buf[1600];
	double out[FCAP_FEAT_MAX];
	uint32_t len = build(&frames[0], buf);
	struct fcap_pkt_info pi;
	fcap_packet_decode(FCAP_LINKTYPE_ETHERNET, buf, len, &pi);
	fcap_features_update(fx, &pi, len, 1000000000ull, out);
	fcap_features_update(fx, &pi, len, 2000000000ull, out);
	CU_ASSERT(out[12] > 1.9);   /* MI, lambda 0.01: about 2 */
	fcap_features_update(fx, &pi, len, 9000000000ull, out);   /* 7 s later: idle past 5 s */
	CU_ASSERT_DOUBLE_EQUAL(out[12], 1.0, 1e-12);
	struct fcap_feat_stats st;
	fcap_features_stats(fx, &st);
	CU_ASSERT(st.evict_idle >= 3);
	fcap_features_free(fx);
}

static void test_names(void)
{
	char a[64];
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(0, a, sizeof(a)), "MI_L5_weight");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(14, a, sizeof(a)), "MI_L0.01_std");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(21, a, sizeof(a)), "H_L5_pcc");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(50, a, sizeof(a)), "Hjit_L5_weight");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(99, a, sizeof(a)), "HpHp_L0.01_pcc");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(100, a, sizeof(a)), "X_L5_src_weight");
	CU_ASSERT_STRING_EQUAL(fcap_feature_name(115, a, sizeof(a)), "X_L3_dst_new_socket_frac");
}

int main(void)
{
	ref_tab = calloc(REF_SLOTS, sizeof(*ref_tab));
	if (!ref_tab || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("features", NULL, NULL);
	CU_add_test(s, "decay lookup table against exp2", test_decay_table);
	CU_add_test(s, "crafted traffic against the double reference", test_crafted);
	CU_add_test(s, "real web browsing against the double reference", test_real_web);
	CU_add_test(s, "real nmap scan against the double reference", test_real_scan);
	CU_add_test(s, "one at a time or in batches, portable or AVX2: the same bits", test_paths_identical);
	CU_add_test(s, "reset state equals fresh state", test_reset);
	CU_add_test(s, "bounded tables: fixed memory, evictions counted", test_bounded_tables);
	CU_add_test(s, "idle timeout restarts an entry", test_idle_timeout);
	CU_add_test(s, "feature names", test_names);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	printf("worst scaled feature error against the reference: %.2e\n", worst_rel);
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	ref_reset();
	free(ref_tab);
	return failed ? 1 : 0;
}
