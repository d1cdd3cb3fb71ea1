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
 */
#include "fcap/features.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decay.h"
#include "flowtab.h"

#define L FCAP_NLAMBDA
#define EXTRA_L 2
static const unsigned extra_lambda[EXTRA_L] = { 0, 1 };   /* lambda 5 and 3: a host under attack recovers within seconds */

enum { KEY_MI = 1, KEY_IPPAIR, KEY_SOCKET, KEY_HOST_SRC, KEY_HOST_DST };
enum { SRC_SYN, SRC_RST, SRC_NEW, SRC_ICMP, SRC_N };
enum { DST_SYN, DST_NEW, DST_N };

struct s1 {
	double w, ls, ss;
};

struct mi_ent {
	uint64_t t;
	struct s1 s[L];
};

struct stream {
	uint64_t t;
	uint32_t seen;
	struct s1 s[L];
	double r[L];            /* residual of the last value against the mean, for the covariance */
};

struct pair_ent {
	struct stream dir[2];
	uint64_t tc;            /* last update of the covariance */
	double sr[L], wc[L];    /* decayed sum of residual products, and its weight */
	struct s1 jit[2][L];    /* per direction: inter-arrival times (H only; last, so HpHp entries omit it) */
};

struct host_ent {
	uint64_t t;
	double w[EXTRA_L];
	double s[EXTRA_L][SRC_N];
};

struct fcap_features {
	struct flowtab mi, ip, sock, host;
	bool extras;
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

unsigned fcap_features_count(const struct fcap_features *fx)
{
	return fx->extras ? FCAP_FEAT_MAX : FCAP_FEAT_KITSUNE;
}

static void factors(uint64_t last, uint64_t now, double f[L])
{
	uint64_t dt = now > last ? now - last : 0;
	for (unsigned l = 0; l < L; l++)
		f[l] = decay_factor(l, dt);
}

static inline void s1_add(struct s1 *s, double f, double x)
{
	s->w = s->w * f + 1.0;
	s->ls = s->ls * f + x;
	s->ss = s->ss * f + x * x;
}

static inline double s1_mean(const struct s1 *s)
{
	return s->w > 0 ? s->ls / s->w : 0.0;
}

static inline double s1_var(const struct s1 *s)
{
	if (s->w <= 0)
		return 0.0;
	double m = s->ls / s->w;
	double v = s->ss / s->w - m * m;
	return v > 0 ? v : 0.0;
}

static double *out_1d(const struct s1 *s, double *o)
{
	o[0] = s->w;
	o[1] = s1_mean(s);
	o[2] = sqrt(s1_var(s));
	return o + 3;
}

static void do_mi(struct fcap_features *fx, const struct fcap_pkt_info *pi, double x, uint64_t now, double *out)
{
	struct flowkey k = { .kind = KEY_MI };
	memcpy(k.a, pi->src_mac, 6);
	memcpy(k.b, pi->src_ip, 16);
	bool fresh;
	struct mi_ent *e = flowtab_get(&fx->mi, &k, now, &fresh);
	double f[L];
	factors(e->t, now, f);
	e->t = now;
	for (unsigned l = 0; l < L; l++) {
		s1_add(&e->s[l], f[l], x);
		out = out_1d(&e->s[l], out);
	}
}

/* The two-stream statistics of direction d of pair p after adding x at now.
 * jit: also the inter-arrival statistics (H only), written to jout. */
static void do_pair(struct pair_ent *p, int d, double x, uint64_t now, bool jit, double *out, double *jout)
{
	struct stream *a = &p->dir[d], *b = &p->dir[!d];
	double f[L], fc[L];
	double gap_s = a->seen && now > a->t ? (double)(now - a->t) * 1e-9 : 0.0;
	factors(a->t, now, f);
	factors(p->tc, now, fc);
	a->t = now;
	a->seen = 1;
	p->tc = now;
	for (unsigned l = 0; l < L; l++) {
		struct s1 *sa = &a->s[l], *sb = &b->s[l];
		s1_add(sa, f[l], x);
		double ma = s1_mean(sa), mb = s1_mean(sb);
		double va = s1_var(sa), vb = s1_var(sb);
		a->r[l] = x - ma;
		p->sr[l] = p->sr[l] * fc[l] + a->r[l] * b->r[l];
		p->wc[l] = p->wc[l] * fc[l] + 1.0;
		double cov = p->sr[l] / p->wc[l];
		double sd = sqrt(va * vb);
		out[0] = sa->w;
		out[1] = ma;
		out[2] = sqrt(va);
		out[3] = sqrt(ma * ma + mb * mb);
		out[4] = sqrt(va * va + vb * vb);
		out[5] = cov;
		out[6] = sd > 0 ? cov / sd : 0.0;
		out += 7;
		if (jit) {
			s1_add(&p->jit[d][l], f[l], gap_s);
			jout = out_1d(&p->jit[d][l], jout);
		}
	}
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

static void host_update(struct fcap_features *fx, int kind, const uint8_t *ip, uint64_t now, const double *ind,
			int nind, double *out)
{
	struct flowkey k = { .kind = (uint8_t)kind };
	memcpy(k.a, ip, 16);
	bool fresh;
	struct host_ent *e = flowtab_get(&fx->host, &k, now, &fresh);
	uint64_t dt = now > e->t ? now - e->t : 0;
	e->t = now;
	for (int j = 0; j < EXTRA_L; j++) {
		double f = decay_factor(extra_lambda[j], dt);
		e->w[j] = e->w[j] * f + 1.0;
		double *o = out + j * (1 + SRC_N + 1 + DST_N) + (kind == KEY_HOST_SRC ? 0 : 1 + SRC_N);
		o[0] = e->w[j];
		for (int i = 0; i < nind; i++) {
			e->s[j][i] = e->s[j][i] * f + ind[i];
			o[1 + i] = e->s[j][i] / e->w[j];
		}
	}
}

void fcap_features_update(struct fcap_features *fx, const struct fcap_pkt_info *pi, uint32_t frame_len,
			  uint64_t now, double *out)
{
	double x = frame_len;
	bool fresh;
	fx->packets++;
	do_mi(fx, pi, x, now, out);

	struct flowkey k = { .kind = KEY_IPPAIR };
	int d = pair_key(&k, pi->src_ip, 0, pi->dst_ip, 0);
	struct pair_ent *p = flowtab_get(&fx->ip, &k, now, &fresh);
	do_pair(p, d, x, now, true, out + 15, out + 50);

	k = (struct flowkey){ .kind = (uint8_t)(KEY_SOCKET | pi->l4 << 4) };
	bool ports = pi->l4 == FCAP_L4_TCP || pi->l4 == FCAP_L4_UDP;
	uint16_t sp = ports ? pi->sport : (pi->l4 == FCAP_L4_OTHER_IP ? pi->ip_proto : 0);
	uint16_t dp = ports ? pi->dport : sp;
	d = pair_key(&k, pi->src_ip, sp, pi->dst_ip, dp);
	p = flowtab_get(&fx->sock, &k, now, &fresh);
	do_pair(p, d, x, now, false, out + 65, NULL);

	if (fx->extras) {
		bool syn_only = pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & (FCAP_TCP_SYN | FCAP_TCP_ACK)) == FCAP_TCP_SYN;
		double src_ind[SRC_N] = {
			[SRC_SYN] = syn_only, [SRC_RST] = pi->l4 == FCAP_L4_TCP && (pi->tcp_flags & FCAP_TCP_RST),
			[SRC_NEW] = fresh, [SRC_ICMP] = pi->l4 == FCAP_L4_ICMP,
		};
		double dst_ind[DST_N] = { [DST_SYN] = syn_only, [DST_NEW] = fresh };
		host_update(fx, KEY_HOST_SRC, pi->src_ip, now, src_ind, SRC_N, out + 100);
		host_update(fx, KEY_HOST_DST, pi->dst_ip, now, dst_ind, DST_N, out + 100);
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
