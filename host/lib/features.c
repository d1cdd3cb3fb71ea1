/*
 * features.c - damped incremental statistics per packet (fcap/features.h).
 *
 * Four kinds of state, each in its own bounded table:
 *   MI     key source MAC + source IP: 1D statistics of frame sizes;
 *   H      key the unordered IP pair: per direction 1D statistics of frame
 *          sizes and of inter-arrival times (jitter), and the covariance of
 *          the two directions;
 *   HpHp   key the unordered socket pair (IP:port, protocol): like H
 *          without jitter;
 *   host   key one IP as sender, or as receiver: the extra features.
 * Exact definitions are in docs/FEATURES.md; tests/unit/test_features.c
 * recomputes them from that text in plain double precision.
 *
 * Speed: a packet's five keys are hashed once; in batches the state of the
 * packets a little ahead is prefetched while one is computed; with AVX2,
 * time scales 0-3 of a stream are one vector, with the same operations as
 * the plain C arithmetic of one time scale (the same bits, tested).
 */
#include "fcap/features.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decay.h"
#include "fcap/nn.h"
#include "flowtab.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define FEAT_AVX2 1
#define AVX2 __attribute__((target("avx2")))
#include <immintrin.h>
#endif

#define L FCAP_NLAMBDA
#define EXTRA_L 2
static const unsigned extra_lambda[EXTRA_L] = { 0, 1 };   /* lambda 5 and 3: a host under attack recovers within seconds */

enum { KEY_MI = 1, KEY_IPPAIR, KEY_SOCKET, KEY_HOST_SRC, KEY_HOST_DST };
enum { SRC_SYN, SRC_RST, SRC_NEW, SRC_ICMP, SRC_N };
enum { DST_SYN, DST_NEW, DST_N };

/* Damped statistics of one stream at every time scale, one array per
 * field so that four time scales load as one vector. */
struct s1 {
	double w[L], ls[L], ss[L];
};

struct mi_ent {
	uint64_t t;
	struct s1 s;
};

struct stream {
	uint64_t t;
	uint32_t seen;
	struct s1 s;
	double r[L];            /* residual of the last value against the mean, for the covariance */
};

struct pair_ent {
	struct stream dir[2];
	uint64_t tc;            /* last update of the covariance */
	double sr[L], wc[L];    /* decayed sum of residual products, and its weight */
	struct s1 jit[2];       /* per direction: inter-arrival times (H only; last, so HpHp entries omit it) */
};

struct host_ent {
	uint64_t t;
	double w[EXTRA_L];
	double s[EXTRA_L][SRC_N];
};

struct fcap_features {
	struct flowtab mi, ip, sock, host;
	bool extras;
	bool avx2;              /* time scales 0-3 as one vector (fcap_simd_current) */
	uint64_t memo_dt;       /* the last gap given to factors() and its factors */
	double memo_f[L];
	uint64_t packets;
};

struct fcap_features *fcap_features_new(const struct fcap_feat_config *cfg, char *errbuf)
{
	decay_init();
	struct fcap_features *fx = calloc(1, sizeof(*fx));
	if (!fx) {
		fcap_err(errbuf, "features: out of memory");
		return NULL;
	}
	uint32_t n = cfg->table_entries ? cfg->table_entries : FCAP_FEAT_DEFAULT_ENTRIES;
	if (n > (1u << 26)) {
		free(fx);
		fcap_err(errbuf, "features: %u table entries is more than the limit of %u", n, 1u << 26);
		return NULL;
	}
	fx->extras = cfg->extras;
	fx->avx2 = fcap_simd_current() == FCAP_SIMD_AVX2;
	fx->memo_dt = 0;
	for (unsigned l = 0; l < L; l++)
		fx->memo_f[l] = decay_factor(l, 0);
	if (flowtab_init(&fx->mi, n, sizeof(struct mi_ent), cfg->idle_ns) < 0 ||
	    flowtab_init(&fx->ip, n, sizeof(struct pair_ent), cfg->idle_ns) < 0 ||
	    flowtab_init(&fx->sock, n, offsetof(struct pair_ent, jit), cfg->idle_ns) < 0 ||
	    (cfg->extras && flowtab_init(&fx->host, 2 * n, sizeof(struct host_ent), cfg->idle_ns) < 0)) {
		fcap_features_free(fx);
		fcap_err(errbuf, "features: out of memory for %u-entry tables", n);
		return NULL;
	}
	return fx;
}

void fcap_features_free(struct fcap_features *fx)
{
	if (!fx)
		return;
	flowtab_free(&fx->mi);
	flowtab_free(&fx->ip);
	flowtab_free(&fx->sock);
	flowtab_free(&fx->host);
	free(fx);
}

void fcap_features_reset(struct fcap_features *fx)
{
	flowtab_clear(&fx->mi);
	flowtab_clear(&fx->ip);
	flowtab_clear(&fx->sock);
	flowtab_clear(&fx->host);
	fx->packets = 0;
}

unsigned fcap_features_count(const struct fcap_features *fx)
{
	return fx->extras ? FCAP_FEAT_MAX : FCAP_FEAT_KITSUNE;
}

/* The decay factors over the gap since last, every time scale. The last
 * gap's factors are kept: a packet's streams often share their gap (a host
 * with one peer, a pair whose last packet went the same way), and the
 * same gap gives the same factors. */
static void factors(struct fcap_features *fx, uint64_t last, uint64_t now, double f[L])
{
	uint64_t dt = now > last ? now - last : 0;
	if (dt != fx->memo_dt) {
		for (unsigned l = 0; l < L; l++)
			fx->memo_f[l] = decay_factor(l, dt);
		fx->memo_dt = dt;
	}
	memcpy(f, fx->memo_f, sizeof(fx->memo_f));
}

/*
 * The arithmetic of one time scale l, in plain C: this is the definition
 * (docs/FEATURES.md). The AVX2 path below does time scales 0-3 at once
 * with the same operations in the same order (IEEE division and square
 * root are exact in either form, and no multiply-add is fused), so its
 * features are the same bits (tests/unit/test_features.c compares them).
 */
static inline void s1_add(struct s1 *s, unsigned l, double f, double x)
{
	s->w[l] = s->w[l] * f + 1.0;
	s->ls[l] = s->ls[l] * f + x;
	s->ss[l] = s->ss[l] * f + x * x;
}

static inline double s1_mean(const struct s1 *s, unsigned l)
{
	return s->w[l] > 0 ? s->ls[l] / s->w[l] : 0.0;
}

static inline double s1_var(const struct s1 *s, unsigned l)
{
	if (s->w[l] <= 0)
		return 0.0;
	double m = s->ls[l] / s->w[l];
	double v = s->ss[l] / s->w[l] - m * m;
	return v > 0 ? v : 0.0;
}

/* weight, mean, std after adding x: three outputs */
static inline void s1_step(struct s1 *s, unsigned l, double f, double x, double *o)
{
	s1_add(s, l, f, x);
	o[0] = s->w[l];
	o[1] = s1_mean(s, l);
	o[2] = sqrt(s1_var(s, l));
}

/* Direction a of a pair after adding x (decay f), against direction b;
 * the pair's covariance decays by fc. Seven outputs. */
static inline void s2_step(struct pair_ent *p, struct stream *a, const struct stream *b, unsigned l, double f,
			   double fc, double x, double *o)
{
	s1_add(&a->s, l, f, x);
	double ma = s1_mean(&a->s, l), va = s1_var(&a->s, l);
	double mb = s1_mean(&b->s, l), vb = s1_var(&b->s, l);
	a->r[l] = x - ma;
	p->sr[l] = p->sr[l] * fc + a->r[l] * b->r[l];
	p->wc[l] = p->wc[l] * fc + 1.0;
	double cov = p->sr[l] / p->wc[l];
	double sd = sqrt(va * vb);
	o[0] = a->s.w[l];
	o[1] = ma;
	o[2] = sqrt(va);
	o[3] = sqrt(ma * ma + mb * mb);
	o[4] = sqrt(va * va + vb * vb);
	o[5] = cov;
	o[6] = sd > 0 ? cov / sd : 0.0;
}

#ifdef FEAT_AVX2
/* Time scales 0-3 of s1_step and s2_step, lane l = time scale l. Outputs
 * go to o[l * stride + field]. */
typedef __m256d v4d;

AVX2 static inline v4d v_ld(const double *p)
{
	return _mm256_loadu_pd(p);
}

AVX2 static inline v4d v_set(double x)
{
	return _mm256_set1_pd(x);
}

/* s1_mean and s1_var, their tests as masks: w > 0 for the mean, not
 * w <= 0 for the variance, v > 0 */
AVX2 static inline void v_mean_var(v4d w, v4d ls, v4d ss, v4d *mean, v4d *var)
{
	v4d zero = _mm256_setzero_pd();
	v4d m = _mm256_div_pd(ls, w);
	v4d v = _mm256_sub_pd(_mm256_div_pd(ss, w), _mm256_mul_pd(m, m));
	*mean = _mm256_and_pd(m, _mm256_cmp_pd(w, zero, _CMP_GT_OQ));
	v = _mm256_and_pd(v, _mm256_cmp_pd(v, zero, _CMP_GT_OQ));
	*var = _mm256_and_pd(v, _mm256_cmp_pd(w, zero, _CMP_NLE_UQ));
}

AVX2 static inline void v_s1_add(struct s1 *s, v4d f, double x, v4d *w, v4d *ls, v4d *ss)
{
	*w = _mm256_add_pd(_mm256_mul_pd(v_ld(s->w), f), v_set(1.0));
	*ls = _mm256_add_pd(_mm256_mul_pd(v_ld(s->ls), f), v_set(x));
	*ss = _mm256_add_pd(_mm256_mul_pd(v_ld(s->ss), f), v_set(x * x));
	_mm256_storeu_pd(s->w, *w);
	_mm256_storeu_pd(s->ls, *ls);
	_mm256_storeu_pd(s->ss, *ss);
}

/* Rows of the 4 x 4 block c[0..3] (c[k] holds field k of four time
 * scales): r[l] holds fields 0-3 of time scale l. */
AVX2 static inline void v_transpose(const v4d *c, v4d *r)
{
	v4d a = _mm256_unpacklo_pd(c[0], c[1]), b = _mm256_unpackhi_pd(c[0], c[1]);
	v4d d = _mm256_unpacklo_pd(c[2], c[3]), e = _mm256_unpackhi_pd(c[2], c[3]);
	r[0] = _mm256_permute2f128_pd(a, d, 0x20);
	r[1] = _mm256_permute2f128_pd(b, e, 0x20);
	r[2] = _mm256_permute2f128_pd(a, d, 0x31);
	r[3] = _mm256_permute2f128_pd(b, e, 0x31);
}

/*
 * Fields 0..nf-1 (nf 3 or 7) of time scales 0-3 to o[l * nf + k], four
 * doubles per store. A store of fields 4-7 (nf 7) or 0-3 (nf 3) spills one
 * double into the next time scale's field 0, which the next store writes
 * again; for time scale 3 that is time scale 4's field 0, which the plain
 * C path for time scale 4 writes afterwards (do_1d, do_pair).
 */
AVX2 static inline void v_scatter(const v4d *field, unsigned nf, double *o)
{
	v4d lo[4], hi[4], c[4];
	v_transpose(field, lo);
	if (nf == 7) {
		c[0] = field[4], c[1] = field[5], c[2] = field[6], c[3] = _mm256_setzero_pd();
		v_transpose(c, hi);
	}
	for (unsigned l = 0; l < 4; l++) {
		_mm256_storeu_pd(o + l * nf, lo[l]);
		if (nf == 7)
			_mm256_storeu_pd(o + l * nf + 4, hi[l]);
	}
}

AVX2 static void s1_step4(struct s1 *s, const double *f, double x, double *o)
{
	v4d r[4], ls, ss;
	v_s1_add(s, v_ld(f), x, &r[0], &ls, &ss);
	v_mean_var(r[0], ls, ss, &r[1], &r[2]);
	r[2] = _mm256_sqrt_pd(r[2]);
	r[3] = _mm256_setzero_pd();
	v_scatter(r, 3, o);
}

AVX2 static void s2_step4(struct pair_ent *p, struct stream *a, const struct stream *b, const double *f,
			  const double *fc, double x, double *o)
{
	v4d r[7], ls, ss, ma, va, mb, vb;
	v_s1_add(&a->s, v_ld(f), x, &r[0], &ls, &ss);
	v_mean_var(r[0], ls, ss, &ma, &va);
	v_mean_var(v_ld(b->s.w), v_ld(b->s.ls), v_ld(b->s.ss), &mb, &vb);
	v4d ra = _mm256_sub_pd(v_set(x), ma);
	_mm256_storeu_pd(a->r, ra);
	v4d vfc = v_ld(fc);
	v4d sr = _mm256_add_pd(_mm256_mul_pd(v_ld(p->sr), vfc), _mm256_mul_pd(ra, v_ld(b->r)));
	v4d wc = _mm256_add_pd(_mm256_mul_pd(v_ld(p->wc), vfc), v_set(1.0));
	_mm256_storeu_pd(p->sr, sr);
	_mm256_storeu_pd(p->wc, wc);
	v4d cov = _mm256_div_pd(sr, wc);
	v4d sd = _mm256_sqrt_pd(_mm256_mul_pd(va, vb));
	r[1] = ma;
	r[2] = _mm256_sqrt_pd(va);
	r[3] = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(ma, ma), _mm256_mul_pd(mb, mb)));
	r[4] = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(va, va), _mm256_mul_pd(vb, vb)));
	r[5] = cov;
	r[6] = _mm256_and_pd(_mm256_div_pd(cov, sd), _mm256_cmp_pd(sd, _mm256_setzero_pd(), _CMP_GT_OQ));
	v_scatter(r, 7, o);
}
#endif

/* Time scales [from, L) in plain C; all of them unless AVX2 did 0-3. */
static inline unsigned first_scalar_lambda(const struct fcap_features *fx)
{
#ifdef FEAT_AVX2
	return fx->avx2 ? 4 : 0;
#else
	(void)fx;
	return 0;
#endif
}

static void do_1d(const struct fcap_features *fx, struct s1 *s, const double *f, double x, double *out)
{
#ifdef FEAT_AVX2
	if (fx->avx2)
		s1_step4(s, f, x, out);
#endif
	for (unsigned l = first_scalar_lambda(fx); l < L; l++)
		s1_step(s, l, f[l], x, out + 3 * l);
}

/* The two-stream statistics of direction d of pair p after adding x at now.
 * jit: also the inter-arrival statistics (H only), written to jout. The
 * other direction is not decayed: its mean and variance are ratios. */
static void do_pair(struct fcap_features *fx, struct pair_ent *p, int d, double x, uint64_t now, bool jit,
		    double *out, double *jout)
{
	struct stream *a = &p->dir[d], *b = &p->dir[!d];
	double f[L], fc[L];
	double gap_s = a->seen && now > a->t ? (double)(now - a->t) * 1e-9 : 0.0;
	factors(fx, a->t, now, f);
	factors(fx, p->tc, now, fc);
	a->t = now;
	a->seen = 1;
	p->tc = now;
#ifdef FEAT_AVX2
	if (fx->avx2)
		s2_step4(p, a, b, f, fc, x, out);
#endif
	for (unsigned l = first_scalar_lambda(fx); l < L; l++)
		s2_step(p, a, b, l, f[l], fc[l], x, out + 7 * l);
	if (jit)
		do_1d(fx, &p->jit[d], f, gap_s, jout);
}

/* Orders the two endpoints; returns the direction of the packet (0: src is first). */
static int pair_key(struct flowkey *k, const uint8_t *sa, uint16_t sp, const uint8_t *da, uint16_t dp)
{
	int c = memcmp(sa, da, 16);
	int d = c > 0 || (c == 0 && sp > dp);
	memcpy(k->a, d ? da : sa, 16);
	memcpy(k->b, d ? sa : da, 16);
	k->pa = d ? dp : sp;
	k->pb = d ? sp : dp;
	return d;
}

/* The keys of one packet's state, hashed once. */
enum { K_MI, K_IP, K_SOCK, K_HSRC, K_HDST, K_N };

struct pkt_keys {
	struct flowkey k[K_N];
	uint64_t h[K_N];
	int dir_ip, dir_sock;   /* the packet's direction in its IP pair and socket pair */
};

static void make_keys(const struct fcap_pkt_info *pi, bool extras, struct pkt_keys *pk)
{
	memset(pk->k, 0, sizeof(pk->k));
	pk->k[K_MI].kind = KEY_MI;
	memcpy(pk->k[K_MI].a, pi->src_mac, 6);
	memcpy(pk->k[K_MI].b, pi->src_ip, 16);
	pk->k[K_IP].kind = KEY_IPPAIR;
	pk->dir_ip = pair_key(&pk->k[K_IP], pi->src_ip, 0, pi->dst_ip, 0);
	pk->k[K_SOCK].kind = (uint8_t)(KEY_SOCKET | pi->l4 << 4);
	bool ports = pi->l4 == FCAP_L4_TCP || pi->l4 == FCAP_L4_UDP;
	uint16_t sp = ports ? pi->sport : (pi->l4 == FCAP_L4_OTHER_IP ? pi->ip_proto : 0);
	uint16_t dp = ports ? pi->dport : sp;
	pk->dir_sock = pair_key(&pk->k[K_SOCK], pi->src_ip, sp, pi->dst_ip, dp);
	int n = K_HSRC;
	if (extras) {
		pk->k[K_HSRC].kind = KEY_HOST_SRC;
		memcpy(pk->k[K_HSRC].a, pi->src_ip, 16);
		pk->k[K_HDST].kind = KEY_HOST_DST;
		memcpy(pk->k[K_HDST].a, pi->dst_ip, 16);
		n = K_N;
	}
	for (int i = 0; i < n; i++)
		pk->h[i] = flowtab_hash(&pk->k[i]);
}

static struct flowtab *table_of(struct fcap_features *fx, int i)
{
	return i == K_MI ? &fx->mi : i == K_IP ? &fx->ip : i == K_SOCK ? &fx->sock : &fx->host;
}

static void prefetch_sets(struct fcap_features *fx, const struct pkt_keys *pk)
{
	for (int i = 0; i < (fx->extras ? K_N : K_HSRC); i++)
		flowtab_prefetch_set(table_of(fx, i), pk->h[i]);
}

static void prefetch_entries(struct fcap_features *fx, const struct pkt_keys *pk)
{
	for (int i = 0; i < (fx->extras ? K_N : K_HSRC); i++)
		flowtab_prefetch_entry(table_of(fx, i), pk->h[i]);
}

static void do_mi(struct fcap_features *fx, const struct pkt_keys *pk, double x, uint64_t now, double *out)
{
	bool fresh;
	struct mi_ent *e = flowtab_get_h(&fx->mi, &pk->k[K_MI], pk->h[K_MI], now, &fresh);
	double f[L];
	factors(fx, e->t, now, f);
	e->t = now;
	do_1d(fx, &e->s, f, x, out);
}

static void host_update(struct fcap_features *fx, const struct pkt_keys *pk, int key, uint64_t now,
			const double *ind, int nind, double *out)
{
	bool fresh;
	struct host_ent *e = flowtab_get_h(&fx->host, &pk->k[key], pk->h[key], now, &fresh);
	uint64_t dt = now > e->t ? now - e->t : 0;
	e->t = now;
	for (int j = 0; j < EXTRA_L; j++) {
		double f = decay_factor(extra_lambda[j], dt);
		e->w[j] = e->w[j] * f + 1.0;
		double *o = out + j * (1 + SRC_N + 1 + DST_N) + (key == K_HSRC ? 0 : 1 + SRC_N);
		o[0] = e->w[j];
#if defined(__SSE2__)
		/* two indicators at a time: the same multiply, add and division */
		_Static_assert(SRC_N % 2 == 0 && DST_N % 2 == 0, "indicators go in pairs");
		__m128d vf = _mm_set1_pd(f), vw = _mm_set1_pd(e->w[j]);
		for (int i = 0; i < nind; i += 2) {
			__m128d v = _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(&e->s[j][i]), vf), _mm_loadu_pd(&ind[i]));
			_mm_storeu_pd(&e->s[j][i], v);
			_mm_storeu_pd(&o[1 + i], _mm_div_pd(v, vw));
		}
#else
		for (int i = 0; i < nind; i++) {
			e->s[j][i] = e->s[j][i] * f + ind[i];
			o[1 + i] = e->s[j][i] / e->w[j];
		}
#endif
	}
}

static void update_keyed(struct fcap_features *fx, const struct fcap_pkt_info *pi, const struct pkt_keys *pk,
			 uint32_t frame_len, uint64_t now, double *out)
{
	double x = frame_len;
	bool fresh;
	fx->packets++;
	do_mi(fx, pk, x, now, out);
	struct pair_ent *p = flowtab_get_h(&fx->ip, &pk->k[K_IP], pk->h[K_IP], now, &fresh);
	do_pair(fx, p, pk->dir_ip, x, now, true, out + 15, out + 50);
	p = flowtab_get_h(&fx->sock, &pk->k[K_SOCK], pk->h[K_SOCK], now, &fresh);
	do_pair(fx, p, pk->dir_sock, x, now, false, out + 65, NULL);

	if (fx->extras) {
		bool syn_only = pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & (FCAP_TCP_SYN | FCAP_TCP_ACK)) == FCAP_TCP_SYN;
		double src_ind[SRC_N] = {
			[SRC_SYN] = syn_only, [SRC_RST] = pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & FCAP_TCP_RST),
			[SRC_NEW] = fresh, [SRC_ICMP] = pi->l4 == FCAP_L4_ICMP,
		};
		double dst_ind[DST_N] = { [DST_SYN] = syn_only, [DST_NEW] = fresh };
		host_update(fx, pk, K_HSRC, now, src_ind, SRC_N, out + 100);
		host_update(fx, pk, K_HDST, now, dst_ind, DST_N, out + 100);
	}
}

void fcap_features_update(struct fcap_features *fx, const struct fcap_pkt_info *pi, uint32_t frame_len,
			  uint64_t now, double *out)
{
	struct pkt_keys pk;
	make_keys(pi, fx->extras, &pk);
	update_keyed(fx, pi, &pk, frame_len, now, out);
}

/*
 * Packets in order, fetching ahead: while packet i is computed, the sets of
 * packet i + SETS_AHEAD and then the entries of packet i + ENTRIES_AHEAD
 * are on their way from memory. A packet's state is a few scattered cache
 * lines in tables of tens of megabytes; fetched one after the other they
 * cost more than all the arithmetic.
 */
#define SETS_AHEAD 4
#define ENTRIES_AHEAD 2
#define KEY_CHUNK 32

void fcap_features_update_batch(struct fcap_features *fx, const struct fcap_feat_in *in, size_t n, double *out,
				size_t stride)
{
	struct pkt_keys pk[KEY_CHUNK];
	for (size_t c = 0; c < n; c += KEY_CHUNK) {
		size_t m = n - c < KEY_CHUNK ? n - c : KEY_CHUNK;
		for (size_t i = 0; i < m; i++)
			make_keys(&in[c + i].pi, fx->extras, &pk[i]);
		for (size_t i = 0; i < m && i < SETS_AHEAD; i++)
			prefetch_sets(fx, &pk[i]);
		for (size_t i = 0; i < m && i < ENTRIES_AHEAD; i++)
			prefetch_entries(fx, &pk[i]);
		for (size_t i = 0; i < m; i++) {
			if (i + SETS_AHEAD < m)
				prefetch_sets(fx, &pk[i + SETS_AHEAD]);
			if (i + ENTRIES_AHEAD < m)
				prefetch_entries(fx, &pk[i + ENTRIES_AHEAD]);
			const struct fcap_feat_in *p = &in[c + i];
			update_keyed(fx, &p->pi, &pk[i], p->frame_len, p->ts_ns, out + (c + i) * stride);
		}
	}
}

void fcap_features_stats(const struct fcap_features *fx, struct fcap_feat_stats *st)
{
	const struct flowtab *t[] = { &fx->mi, &fx->ip, &fx->sock, &fx->host };
	memset(st, 0, sizeof(*st));
	st->packets = fx->packets;
	st->memory_bytes = sizeof(*fx) + decay_table_bytes();
	for (int i = 0; i < 4; i++) {
		if (!t[i]->mem)
			continue;
		st->inserts += t[i]->inserts;
		st->evict_idle += t[i]->evict_idle;
		st->evict_lru += t[i]->evict_lru;
		st->memory_bytes += flowtab_bytes(t[i]);
	}
}

const char *fcap_feature_name(unsigned i, char *buf, size_t n)
{
	static const char *const s1n[] = { "weight", "mean", "std" };
	static const char *const s2n[] = { "weight", "mean", "std", "magnitude", "radius", "covariance", "pcc" };
	static const char *const exn[] = { "src_weight", "src_syn_frac", "src_rst_frac", "src_new_socket_frac",
					   "src_icmp_frac", "dst_weight", "dst_syn_frac", "dst_new_socket_frac" };
	if (i < 15)
		snprintf(buf, n, "MI_L%g_%s", fcap_lambdas[i / 3], s1n[i % 3]);
	else if (i < 50)
		snprintf(buf, n, "H_L%g_%s", fcap_lambdas[(i - 15) / 7], s2n[(i - 15) % 7]);
	else if (i < 65)
		snprintf(buf, n, "Hjit_L%g_%s", fcap_lambdas[(i - 50) / 3], s1n[(i - 50) % 3]);
	else if (i < 100)
		snprintf(buf, n, "HpHp_L%g_%s", fcap_lambdas[(i - 65) / 7], s2n[(i - 65) % 7]);
	else if (i < FCAP_FEAT_MAX)
		snprintf(buf, n, "X_L%g_%s", fcap_lambdas[extra_lambda[(i - 100) / 8]], exn[(i - 100) % 8]);
	else
		snprintf(buf, n, "?");
	return buf;
}
