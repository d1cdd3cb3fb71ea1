/*
 * alert.c - alerts from per-packet scores: grouping, evidence,
 * explanations, EVE JSON lines (fcap/alert.h, docs/ALERTS.md).
 */
#include "fcap/alert.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fcap/json.h"
#include "fcap/store.h"

#define NGROUP 5
#define EXPLAIN_MAX 256          /* packets of one alert explained (the first ones) */
#define SWEEP_NS 1000000000ull   /* open alerts are checked for closing once per second of traffic */
#define TIMELINE_MAX 100000      /* buckets; more: the buckets double */

static const char *const group_names[NGROUP] = { "MI", "H", "Hjit", "HpHp", "X" };
static const char *const rule_names[4] = { "none", "both", "classifier", "anomaly" };

struct open_alert {
	char key[160];
	const char *file;
	struct fcap_pkt_info first;
	uint64_t first_ts, last_ts, first_offset, count, rules[4];
	double max_score, max_ae, max_hyb;
	uint64_t *num, *off;
	uint32_t nev, cap;
	bool truncated;
	double group[NGROUP], scale[FCAP_NLAMBDA];
	uint32_t nexpl;
	bool done;
};

struct fcap_alerter {
	struct fcap_alert_config c;
	const struct fcap_model *m;
	struct fcap_scorer *sc;
	char model_id[16];
	FILE *eve;
	fcap_alert_line_fn on_line;  /* each alert line, also (or NULL) */
	void *on_line_ctx;
	uint8_t feat_group[FCAP_FEAT_MAX], feat_scale[FCAP_FEAT_MAX];
	double *share;
	struct open_alert *open;
	size_t nopen, capopen;
	uint32_t *slot;          /* index + 1 into open, linear probing by key */
	size_t nslot;
	uint64_t next_sweep;
	const struct fcap_suppress *rules;
	size_t nrules;
	uint64_t now_ns;
	struct fcap_alert_counts counts;
	/* timeline */
	char **pending;          /* evidence files to pin */
	size_t npending;
	uint64_t t0, bucket_ns;
	size_t nbucket;
	double *tl_max;
	uint64_t *tl_pk, *tl_al;
	bool oom;
};

void fcap_alert_defaults(struct fcap_alert_config *c)
{
	c->group_by = FCAP_GROUP_DST;
	c->window_ns = 10ull * 1000000000ull;
	c->max_span_ns = 3600ull * 1000000000ull;
	c->max_evidence = 1000000;
	c->explain = true;
	c->bucket_ns = 1000000000ull;
}

const char *fcap_scope_name(enum fcap_scope s)
{
	return s == FCAP_SCOPE_HOST ? "host" : s == FCAP_SCOPE_FLOW ? "flow" : "signature";
}

static unsigned model_kind_no(const struct fcap_model *m)
{
	return m->has_mlp ? 3 : m->extras ? 2 : 1;
}

const char *fcap_model_kind(const struct fcap_model *m)
{
	static const char *const k[] = { "", "kitsune", "unsupervised", "hybrid" };
	return k[model_kind_no(m)];
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* Feature i's group and time scale, from its name ("HpHp_L0.1_pcc"). */
static void classify_features(struct fcap_alerter *a)
{
	for (unsigned i = 0; i < a->m->nfeat && i < FCAP_FEAT_MAX; i++) {
		char name[64];
		fcap_feature_name(i, name, sizeof(name));
		char *l = strstr(name, "_L");
		a->feat_group[i] = 0;
		a->feat_scale[i] = 0;
		if (!l)
			continue;
		*l = 0;
		for (unsigned g = 0; g < NGROUP; g++)
			if (!strcmp(name, group_names[g]))
				a->feat_group[i] = (uint8_t)g;
		double lam = strtod(l + 2, NULL);
		for (unsigned k = 0; k < FCAP_NLAMBDA; k++)
			if (fabs(fcap_lambdas[k] - lam) < 1e-9 * (1 + lam))
				a->feat_scale[i] = (uint8_t)k;
	}
}

struct fcap_alerter *fcap_alerter_new(const struct fcap_alert_config *c, const struct fcap_model *m,
				      const char *model_id, FILE *eve, char *errbuf)
{
	struct fcap_alerter *a = calloc(1, sizeof(*a));
	if (!a) {
		fcap_err(errbuf, "alerts: out of memory");
		return NULL;
	}
	a->c = *c;
	a->m = m;
	a->eve = eve;
	snprintf(a->model_id, sizeof(a->model_id), "%s", model_id);
	a->bucket_ns = c->bucket_ns ? c->bucket_ns : 1000000000ull;
	a->share = calloc(m->nfeat + 1, sizeof(double));
	/* the double-precision scorer explains alerts; only when asked for */
	a->sc = c->explain ? fcap_scorer_new(m, errbuf) : NULL;
	if (!a->share || (c->explain && !a->sc)) {
		if (!a->share)
			fcap_err(errbuf, "alerts: out of memory");
		fcap_alerter_free(a);
		return NULL;
	}
	classify_features(a);
	return a;
}

void fcap_alerter_rules(struct fcap_alerter *a, const struct fcap_suppress *rules, size_t n, uint64_t now_ns)
{
	a->rules = rules;
	a->nrules = n;
	a->now_ns = now_ns;
}

/* ---- the score timeline ---- */

static void timeline_add(struct fcap_alerter *a, uint64_t ts, double score, bool alerted)
{
	if (a->oom)
		return;
	if (!a->nbucket && !a->tl_max)
		a->t0 = ts;
	if (ts < a->t0)
		ts = a->t0;   /* out-of-order packets before the first: into the first bucket */
	uint64_t b = (ts - a->t0) / a->bucket_ns;
	while (b >= TIMELINE_MAX) {   /* coarser buckets: merge pairs */
		for (size_t i = 0; i < a->nbucket; i++) {
			size_t j = i / 2;
			double v = a->tl_max[i];
			if (i % 2 == 0) {
				a->tl_max[j] = v;
				a->tl_pk[j] = a->tl_pk[i];
				a->tl_al[j] = a->tl_al[i];
			} else {
				if (isnan(a->tl_max[j]) || v > a->tl_max[j])
					a->tl_max[j] = v;
				a->tl_pk[j] += a->tl_pk[i];
				a->tl_al[j] += a->tl_al[i];
			}
		}
		a->nbucket = (a->nbucket + 1) / 2;
		a->bucket_ns *= 2;
		b = (ts - a->t0) / a->bucket_ns;
	}
	if (b >= a->nbucket) {
		size_t n = (size_t)b + 1;
		double *mx = realloc(a->tl_max, n * sizeof(double));
		if (mx)
			a->tl_max = mx;
		uint64_t *pk = mx ? realloc(a->tl_pk, n * sizeof(uint64_t)) : NULL;
		if (pk)
			a->tl_pk = pk;
		uint64_t *al = pk ? realloc(a->tl_al, n * sizeof(uint64_t)) : NULL;
		if (!al) {
			a->oom = true;   /* the timeline is left out of the stats event */
			return;
		}
		a->tl_al = al;
		for (size_t i = a->nbucket; i < n; i++) {
			a->tl_max[i] = NAN;
			a->tl_pk[i] = a->tl_al[i] = 0;
		}
		a->nbucket = n;
	}
	if (isnan(a->tl_max[b]) || score > a->tl_max[b])
		a->tl_max[b] = score;
	a->tl_pk[b]++;
	a->tl_al[b] += alerted;
}

/* ---- open alerts by key ---- */

static uint32_t key_hash(const char *k)
{
	return (uint32_t)fnv1a(0xcbf29ce484222325ull, k);
}

static int rebuild_slots(struct fcap_alerter *a)
{
	size_t n = 64;
	while (n < a->nopen * 2 + 2)
		n *= 2;
	uint32_t *s = calloc(n, sizeof(uint32_t));
	if (!s)
		return -1;
	for (size_t i = 0; i < a->nopen; i++) {
		size_t j = key_hash(a->open[i].key) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)(i + 1);
	}
	free(a->slot);
	a->slot = s;
	a->nslot = n;
	return 0;
}

static struct open_alert *find_or_open(struct fcap_alerter *a, const char *key, bool *created)
{
	*created = false;
	if (!a->slot && rebuild_slots(a) < 0)
		return NULL;
	size_t j = key_hash(key) & (a->nslot - 1);
	for (; a->slot[j]; j = (j + 1) & (a->nslot - 1))
		if (!strcmp(a->open[a->slot[j] - 1].key, key))
			return &a->open[a->slot[j] - 1];
	if (a->nopen == a->capopen) {
		size_t cap = a->capopen ? a->capopen * 2 : 64;
		struct open_alert *o = realloc(a->open, cap * sizeof(*o));
		if (!o)
			return NULL;
		a->open = o;
		a->capopen = cap;
	}
	if (a->nopen >= UINT32_MAX - 1)
		return NULL;
	struct open_alert *o = &a->open[a->nopen++];
	memset(o, 0, sizeof(*o));
	snprintf(o->key, sizeof(o->key), "%s", key);
	a->slot[j] = (uint32_t)a->nopen;
	if (a->nopen * 2 + 2 > a->nslot && rebuild_slots(a) < 0) {
		a->nopen--;
		return NULL;
	}
	*created = true;
	return o;
}

static void add_evidence(struct fcap_alerter *a, struct open_alert *o, uint64_t number, uint64_t offset)
{
	if (o->nev >= a->c.max_evidence) {
		o->truncated = true;
		return;
	}
	if (o->nev == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 16;
		uint64_t *n = realloc(o->num, cap * sizeof(uint64_t));
		if (n)
			o->num = n;
		uint64_t *f = n ? realloc(o->off, cap * sizeof(uint64_t)) : NULL;
		if (!f) {
			o->truncated = true;   /* out of memory: counted, not listed (the line says so) */
			return;
		}
		o->off = f;
		o->cap = cap;
	}
	o->num[o->nev] = number;
	o->off[o->nev++] = offset;
}

/* ---- writing ---- */

static void suricata_time(uint64_t ns, char *buf, size_t n)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	char d[32];
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%06llu+0000", d, (unsigned long long)(ns % 1000000000ull / 1000));
}

static const char *proto_name(const struct fcap_pkt_info *pi, char *buf, size_t n)
{
	static const char *const names[] = { "ETH", "ARP", "TCP", "UDP", "ICMP", "IP" };
	if (pi->l4 == FCAP_L4_ICMP && pi->ip_version == 6)
		return "IPv6-ICMP";
	if (pi->l4 == FCAP_L4_OTHER_IP) {
		snprintf(buf, n, "%u", pi->ip_proto);
		return buf;
	}
	return names[pi->l4];
}

static unsigned best_rule(const struct open_alert *o)
{
	for (unsigned r = 1; r < 4; r++)
		if (o->rules[r])
			return r;
	return 3;
}

/* 1 (high): both models agree, or the score is 8 times its threshold;
 * 2: a single model, at least twice its threshold; 3: just over. */
static unsigned severity(const struct open_alert *o)
{
	if (o->rules[FCAP_ALERT_BOTH] || o->max_score >= 3)
		return 1;
	return o->max_score >= 1 ? 2 : 3;
}

/* host: the host the alert is grouped on; flow: its first packet's flow. */
static bool suppressed(const struct fcap_alerter *a, const struct open_alert *o, const char *flow, unsigned sid)
{
	char sids[16];
	snprintf(sids, sizeof(sids), "%u", sid);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct fcap_suppress *r = &a->rules[i];
		if (r->expires_ns && r->expires_ns <= a->now_ns)
			continue;
		if ((r->scope == FCAP_SCOPE_HOST && !strcmp(r->value, o->key)) ||
		    (r->scope == FCAP_SCOPE_FLOW && !strcmp(r->value, flow)) ||
		    (r->scope == FCAP_SCOPE_SIGNATURE && !strcmp(r->value, sids)))
			return true;
	}
	return false;
}

static void write_explanation(struct fcap_alerter *a, const struct open_alert *o)
{
	FILE *f = a->eve;
	fputs(",\"explanation\":{\"explains\":\"anomaly score\"", f);
	fprintf(f, ",\"packets\":%u,\"feature_groups\":{", o->nexpl);
	for (unsigned g = 0; g < NGROUP; g++) {
		fcap_json_key(f, group_names[g], g == 0);
		fprintf(f, "%.4f", o->nexpl ? o->group[g] / o->nexpl : 0.0);
	}
	fputs("},\"time_scales\":{", f);
	for (unsigned k = 0; k < FCAP_NLAMBDA; k++) {
		char name[16];
		snprintf(name, sizeof(name), "L%g", fcap_lambdas[k]);
		fcap_json_key(f, name, k == 0);
		fprintf(f, "%.4f", o->nexpl ? o->scale[k] / o->nexpl : 0.0);
	}
	fputs("}}", f);
}

static void write_model(struct fcap_alerter *a)
{
	fprintf(a->eve, "\"model\":{\"id\":\"%s\",\"version\":%u,\"kind\":\"%s\",\"features\":%u}", a->model_id,
		FCAP_MODEL_VERSION, fcap_model_kind(a->m), a->m->nfeat);
}

/* A store segment holding evidence is pinned against retention until
 * the alert gets a verdict (fcap feedback unpins it, docs/ALERTS.md).
 * During a capture the segment may not be published yet: it waits in a
 * list, tried again whenever alerts are written and at the end. Returns
 * 1 pinned, 0 not a segment, -1 not (yet) possible. */
static int pin_segment(const char *path, char *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	if (!slash || blen < 8 || strcmp(base + blen - 7, ".pcapng") || blen - 7 >= FCAP_SEG_NAME_MAX ||
	    (size_t)(slash - path) >= FCAP_STORE_DIR_MAX)
		return 0;
	char name[FCAP_SEG_NAME_MAX], dir[FCAP_STORE_DIR_MAX];
	memcpy(name, base, blen - 7);
	name[blen - 7] = 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	uint64_t start;
	uint32_t ring;
	if (!fcap_seg_parse_name(name, &start, &ring))
		return 0;
	return fcap_store_pin(dir, name, true, err) < 0 ? -1 : 1;
}

static void try_pins(struct fcap_alerter *a, bool last)
{
	size_t w = 0;
	for (size_t i = 0; i < a->npending; i++) {
		char err[FCAP_ERRBUF_SIZE];
		int rc = pin_segment(a->pending[i], err);
		if (rc < 0 && !last) {
			a->pending[w++] = a->pending[i];
			continue;
		}
		if (rc > 0)
			a->counts.pinned++;
		else if (rc < 0)
			a->counts.pin_errors++;
		free(a->pending[i]);
	}
	a->npending = w;
}

static void pin_later(struct fcap_alerter *a, const char *path)
{
	for (size_t i = 0; i < a->npending; i++)
		if (!strcmp(a->pending[i], path))
			return;
	char **p = realloc(a->pending, (a->npending + 1) * sizeof(char *));
	if (!p || !(p[a->npending] = strdup(path))) {
		if (p)
			a->pending = p;
		a->counts.pin_errors++;
		return;
	}
	a->pending = p;
	a->npending++;
}

/* The evidence file's absolute path, whether or not it exists yet. */
static char *absolute(const char *path)
{
	char *abs = realpath(path, NULL);
	if (abs || path[0] == '/')
		return abs ? abs : strdup(path);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return strdup(path);
	size_t n = strlen(cwd) + strlen(path) + 2;
	abs = malloc(n);
	if (abs)
		snprintf(abs, n, "%s/%s", cwd, path);
	return abs;
}

static void write_alert_line(struct fcap_alerter *a, struct open_alert *o)
{
	const struct fcap_model *m = a->m;
	char flow[160], src[64], dst[64], ts[48], first[48], last[48], pbuf[8], id[24], sids[16];
	fcap_packet_flow_str(&o->first, flow, sizeof(flow));
	fcap_packet_host_str(&o->first, false, src, sizeof(src));
	fcap_packet_host_str(&o->first, true, dst, sizeof(dst));
	unsigned rule = best_rule(o);
	unsigned sid = FCAP_ALERT_SID_BASE + 10 * model_kind_no(m) + rule;
	if (suppressed(a, o, flow, sid)) {
		a->counts.suppressed++;
		return;
	}
	a->counts.alerts++;
	snprintf(sids, sizeof(sids), "%u", sid);
	uint64_t h = fnv1a(0xcbf29ce484222325ull, a->model_id);
	char *abs = absolute(o->file);   /* the id must not depend on how the path was spelled */
	h = fnv1a(fnv1a(fnv1a(h, sids), o->key), abs ? abs : o->file);
	char offs[24];
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)o->first_offset);
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)fnv1a(h, offs));
	suricata_time(o->first_ts, ts, sizeof(ts));
	fcap_format_time(o->first_ts, first, sizeof(first));
	fcap_format_time(o->last_ts, last, sizeof(last));
	FILE *f = a->eve;
	static const char *const group_by[] = { "src", "dst", "flow" };
	static const char *const what[] = { "", "anomaly and classifier agree", "classifier", "anomaly" };

	fputs("{\"timestamp\":", f);
	fcap_json_string(f, ts);
	fprintf(f, ",\"flow_id\":%llu,\"event_type\":\"alert\",\"src_ip\":",
		(unsigned long long)(fnv1a(0xcbf29ce484222325ull, flow) & ((1ull << 51) - 1)));
	fcap_json_string(f, src);
	if (o->first.l4 == FCAP_L4_TCP || o->first.l4 == FCAP_L4_UDP)
		fprintf(f, ",\"src_port\":%u", o->first.sport);
	fputs(",\"dest_ip\":", f);
	fcap_json_string(f, dst);
	if (o->first.l4 == FCAP_L4_TCP || o->first.l4 == FCAP_L4_UDP)
		fprintf(f, ",\"dest_port\":%u", o->first.dport);
	fputs(",\"proto\":", f);
	fcap_json_string(f, proto_name(&o->first, pbuf, sizeof(pbuf)));
	fprintf(f, ",\"alert\":{\"action\":\"allowed\",\"gid\":%u,\"signature_id\":%u,\"rev\":1,\"signature\":",
		FCAP_ALERT_GID, sid);
	char sig[128];
	snprintf(sig, sizeof(sig), "FCAP ML %s model: %s", fcap_model_kind(m), what[rule]);
	fcap_json_string(f, sig);
	fprintf(f, ",\"category\":\"Anomalous traffic (machine-learning score)\",\"severity\":%u}", severity(o));

	fputs(",\"fcap\":{\"alert_id\":", f);
	fcap_json_string(f, id);
	fprintf(f, ",\"group_by\":\"%s\",\"key\":", group_by[a->c.group_by]);
	fcap_json_string(f, o->key);
	fputs(",\"flow\":", f);
	fcap_json_string(f, flow);
	fprintf(f, ",\"rule\":\"%s\",\"score\":%.6f,\"threshold\":0,\"anomaly\":%.6f,\"anomaly_threshold\":%.6f",
		rule_names[rule], o->max_score, o->max_ae, m->thr_ae_q / 1048576.0);
	if (m->has_mlp)
		fprintf(f, ",\"classifier\":%.6f,\"classifier_threshold\":%.6f", o->max_hyb, m->thr_hyb_q / 65536.0);
	fprintf(f, ",\"rules\":{\"both\":%llu,\"classifier\":%llu,\"anomaly\":%llu},",
		(unsigned long long)o->rules[1], (unsigned long long)o->rules[2], (unsigned long long)o->rules[3]);
	write_model(a);
	if (a->c.explain)
		write_explanation(a, o);
	fputs(",\"evidence\":{\"files\":[{\"path\":", f);
	fcap_json_string(f, abs ? abs : o->file);
	if (abs)
		pin_later(a, abs);
	free(abs);
	fputs(",\"packets\":[", f);
	for (uint32_t i = 0; i < o->nev; i++)
		fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)o->num[i]);
	fputs("],\"offsets\":[", f);
	for (uint32_t i = 0; i < o->nev; i++)
		fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)o->off[i]);
	fputs("]}],\"first_ts\":", f);
	fcap_json_string(f, first);
	fputs(",\"last_ts\":", f);
	fcap_json_string(f, last);
	fprintf(f, ",\"first_ts_ns\":%llu,\"last_ts_ns\":%llu,\"packet_count\":%llu,\"listed\":%u,\"truncated\":%s}}}\n",
		(unsigned long long)o->first_ts, (unsigned long long)o->last_ts, (unsigned long long)o->count, o->nev,
		o->truncated ? "true" : "false");
}

/* With a line hook, the line is made in memory first: the file and the
 * hook get the same bytes (the hook without the newline). */
static void write_alert(struct fcap_alerter *a, struct open_alert *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = a->on_line ? open_memstream(&buf, &len) : NULL;
	if (!mem) {
		write_alert_line(a, o);
		return;
	}
	FILE *eve = a->eve;
	a->eve = mem;
	write_alert_line(a, o);
	a->eve = eve;
	if (fclose(mem) == 0 && len) {
		fwrite(buf, 1, len, eve);
		a->on_line(a->on_line_ctx, buf, buf[len - 1] == '\n' ? len - 1 : len);
	}
	free(buf);
}

void fcap_alerter_on_line(struct fcap_alerter *a, fcap_alert_line_fn fn, void *ctx)
{
	a->on_line = fn;
	a->on_line_ctx = ctx;
}

/* Writes (in the order they opened) and forgets the alerts marked done. */
static void emit_done(struct fcap_alerter *a)
{
	size_t w = 0;
	bool any = false;
	for (size_t i = 0; i < a->nopen; i++) {
		struct open_alert *o = &a->open[i];
		if (o->done) {
			any = true;
			if (a->eve)
				write_alert(a, o);
			else
				a->counts.alerts++;
			free(o->num);
			free(o->off);
		} else {
			a->open[w++] = *o;
		}
	}
	a->nopen = w;
	if (any)
		try_pins(a, false);
	if (any && rebuild_slots(a) < 0) {
		free(a->slot);
		a->slot = NULL;   /* rebuilt on the next lookup */
	}
}

static void sweep(struct fcap_alerter *a, uint64_t now)
{
	for (size_t i = 0; i < a->nopen; i++) {
		struct open_alert *o = &a->open[i];
		if (now > o->last_ts + a->c.window_ns)
			o->done = true;
	}
	emit_done(a);
}

void fcap_alerter_packet(struct fcap_alerter *a, const char *file, uint64_t offset, uint64_t number,
			 const struct fcap_feat_in *in, const struct fcap_scores *sc, const double *feat)
{
	uint64_t ts = in->ts_ns;
	a->counts.packets++;
	timeline_add(a, ts, sc->hybrid, sc->alert != FCAP_ALERT_NONE);
	if (ts >= a->next_sweep) {
		sweep(a, ts);
		a->next_sweep = ts + SWEEP_NS;
	}
	if (sc->alert == FCAP_ALERT_NONE)
		return;
	a->counts.alert_packets++;
	char key[160];
	if (a->c.group_by == FCAP_GROUP_FLOW)
		fcap_packet_flow_str(&in->pi, key, sizeof(key));
	else
		fcap_packet_host_str(&in->pi, a->c.group_by == FCAP_GROUP_DST, key, sizeof(key));
	bool created;
	struct open_alert *o = find_or_open(a, key, &created);
	if (o && !created && (o->file != file || ts > o->first_ts + a->c.max_span_ns)) {
		/* another file, or too long: close this one, open its continuation */
		o->done = true;
		emit_done(a);
		o = find_or_open(a, key, &created);
	}
	if (!o) {
		a->oom = true;
		return;
	}
	if (created) {
		o->file = file;
		o->first = in->pi;
		o->first_ts = ts;
		o->first_offset = offset;
		o->max_score = -INFINITY;
	}
	o->last_ts = ts > o->last_ts ? ts : o->last_ts;
	o->count++;
	o->rules[sc->alert]++;
	o->max_score = fmax(o->max_score, sc->hybrid);
	o->max_ae = fmax(o->max_ae, sc->ae);
	o->max_hyb = o->count == 1 ? sc->hyb : fmax(o->max_hyb, sc->hyb);
	add_evidence(a, o, number, offset);
	if (a->c.explain && feat && o->nexpl < EXPLAIN_MAX) {
		fcap_score_explain(a->sc, feat, a->share);
		for (uint32_t i = 0; i < a->m->nfeat; i++) {
			o->group[a->feat_group[i]] += a->share[i];
			o->scale[a->feat_scale[i]] += a->share[i];
		}
		o->nexpl++;
	}
}

void fcap_alerter_close_all(struct fcap_alerter *a)
{
	for (size_t i = 0; i < a->nopen; i++)
		a->open[i].done = true;
	emit_done(a);
}

void fcap_alerter_finish(struct fcap_alerter *a, const char *extra)
{
	fcap_alerter_close_all(a);
	try_pins(a, true);
	if (!a->eve)
		return;
	FILE *f = a->eve;
	char ts[48];
	suricata_time(a->t0, ts, sizeof(ts));
	fputs("{\"timestamp\":", f);
	fcap_json_string(f, ts);
	fprintf(f, ",\"event_type\":\"stats\",\"fcap\":{\"packets\":%llu,\"alert_packets\":%llu,\"alerts\":%llu,"
		   "\"suppressed\":%llu,\"threshold\":0,\"anomaly_threshold\":%.6f,",
		(unsigned long long)a->counts.packets, (unsigned long long)a->counts.alert_packets,
		(unsigned long long)a->counts.alerts, (unsigned long long)a->counts.suppressed,
		a->m->thr_ae_q / 1048576.0);
	write_model(a);
	if (!a->oom && a->nbucket) {
		fprintf(f, ",\"timeline\":{\"start_ns\":%llu,\"bucket_ns\":%llu,\"max_score\":[",
			(unsigned long long)a->t0, (unsigned long long)a->bucket_ns);
		for (size_t i = 0; i < a->nbucket; i++) {
			if (i)
				fputc(',', f);
			if (isnan(a->tl_max[i]))
				fputs("null", f);
			else
				fprintf(f, "%.4f", a->tl_max[i]);
		}
		fputs("],\"packets\":[", f);
		for (size_t i = 0; i < a->nbucket; i++)
			fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)a->tl_pk[i]);
		fputs("],\"alert_packets\":[", f);
		for (size_t i = 0; i < a->nbucket; i++)
			fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)a->tl_al[i]);
		fputs("]}", f);
	}
	if (extra)
		fprintf(f, ",%s", extra);
	fputs("}}\n", f);
}

void fcap_alerter_counts(const struct fcap_alerter *a, struct fcap_alert_counts *c)
{
	*c = a->counts;
}

void fcap_alerter_free(struct fcap_alerter *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nopen; i++) {
		free(a->open[i].num);
		free(a->open[i].off);
	}
	for (size_t i = 0; i < a->npending; i++)
		free(a->pending[i]);
	free(a->pending);
	free(a->open);
	free(a->slot);
	free(a->share);
	free(a->tl_max);
	free(a->tl_pk);
	free(a->tl_al);
	fcap_scorer_free(a->sc);
	free(a);
}
