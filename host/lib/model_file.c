/*
 * model_file.c - model files (docs/MODEL_FORMAT.md): a header with magic,
 * version, length and CRC-32, then typed sections. Loading checks every
 * field against its enclosing length and its allowed range before use, so
 * a corrupt, truncated or mismatched file yields one clear error naming the
 * file and offset, never a crash.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fcap/checksum.h"
#include "fcap/model.h"

#define MAGIC "FCAPMODL"
#define HDR_LEN 32
#define MAX_FILE (256u << 20)
#define MAX_FEATURES 4096

enum { SEC_META = 1, SEC_NORM, SEC_UNIT, SEC_OUTAE, SEC_MLP, SEC_HYB };

/* ---- CRC-32 (IEEE 802.3 polynomial, reflected) ---- */

static uint32_t crc32_update(uint32_t c, const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 255] ^ (c >> 8);
	return c;
}

/* CRC of the whole file with the CRC field (bytes 24..27) read as zero. */
static uint32_t file_crc(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t c = crc32_update(0xffffffffu, buf, 24);
	c = crc32_update(c, zero, 4);
	c = crc32_update(c, buf + 28, len - 28);
	return c ^ 0xffffffffu;
}

/* ---- writing ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
	if (w->err)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->err = 1;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	st32(b, v);
	put(w, b, 4);
}

static void put64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	st64(b, v);
	put(w, b, 8);
}

static void putf(struct wbuf *w, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	put64(w, v);
}

static size_t sec_begin(struct wbuf *w, uint32_t type)
{
	put32(w, type);
	put32(w, 0);
	return w->len;
}

static void sec_end(struct wbuf *w, size_t start)
{
	static const uint8_t zero[8];
	if (w->err)
		return;
	st32(w->p + start - 4, (uint32_t)(w->len - start));
	put(w, zero, (8 - (w->len - start) % 8) % 8);
}

static void put_net(struct wbuf *w, const struct fcap_net *n)
{
	put32(w, n->nlayers);
	for (uint32_t i = 0; i < n->nlayers; i++) {
		const struct fcap_layer *l = &n->l[i];
		size_t nw = (size_t)l->in * l->out;
		put32(w, l->in);
		put32(w, l->out);
		put32(w, l->in_frac);
		for (size_t k = 0; k < nw; k++)
			putf(w, l->w[k]);
		for (uint32_t j = 0; j < l->out; j++)
			putf(w, l->b[j]);
		for (size_t k = 0; k < nw; k++) {
			uint8_t b[2];
			st16(b, (uint16_t)l->wq[k]);
			put(w, b, 2);
		}
		for (uint32_t j = 0; j < l->out; j++)
			put32(w, (uint32_t)l->bq[j]);
		put(w, l->frac, l->out);
	}
}

static void put_meta(struct wbuf *w, const struct fcap_model *m)
{
	size_t s = sec_begin(w, SEC_META);
	put32(w, m->nfeat);
	put32(w, m->extras);
	put32(w, m->table_entries);
	put32(w, m->calib);
	put64(w, m->idle_ns);
	put64(w, m->seed);
	putf(w, m->target_fpr);
	put32(w, m->nae);
	put32(w, m->has_mlp);
	putf(w, m->hmin);
	putf(w, m->hinv);
	put32(w, m->thr_ae_q);
	put32(w, (uint32_t)m->thr_mlp_q);
	put32(w, (uint32_t)m->thr_hyb_q);
	put32(w, 0);
	putf(w, m->thr_ae);
	putf(w, m->thr_mlp);
	putf(w, m->thr_hyb);
	sec_end(w, s);
}

int fcap_model_save(const struct fcap_model *m, const char *path, char *errbuf)
{
	struct wbuf w = { 0 };
	put(&w, MAGIC, 8);
	put32(&w, FCAP_MODEL_VERSION);
	put32(&w, HDR_LEN);
	put64(&w, 0);   /* length, patched below */
	put32(&w, 0);   /* CRC */
	put32(&w, 0);   /* sections */
	uint32_t nsec = 0;
	put_meta(&w, m), nsec++;
	size_t s = sec_begin(&w, SEC_NORM);
	for (uint32_t i = 0; i < m->nfeat; i++) {
		putf(&w, m->fmin[i]);
		putf(&w, m->finv[i]);
	}
	sec_end(&w, s), nsec++;
	for (uint32_t k = 0; k < m->nae; k++) {
		s = sec_begin(&w, SEC_UNIT);
		put32(&w, m->ae[k].n);
		for (uint32_t j = 0; j < m->ae[k].n; j++)
			put32(&w, m->ae[k].idx[j]);
		putf(&w, m->omin[k]);
		putf(&w, m->oinv[k]);
		put_net(&w, &m->ae[k].net);
		sec_end(&w, s), nsec++;
	}
	s = sec_begin(&w, SEC_OUTAE);
	put_net(&w, &m->out);
	sec_end(&w, s), nsec++;
	if (m->has_mlp) {
		s = sec_begin(&w, SEC_MLP);
		put_net(&w, &m->mlp);
		sec_end(&w, s), nsec++;
		s = sec_begin(&w, SEC_HYB);
		put_net(&w, &m->hyb);
		sec_end(&w, s), nsec++;
	}
	if (w.err) {
		free(w.p);
		return fcap_err(errbuf, "%s: out of memory", path);
	}
	st64(w.p + 16, w.len);
	st32(w.p + 28, nsec);
	st32(w.p + 24, file_crc(w.p, w.len));

	/* Write a temporary file and rename it: a crash never leaves half a model. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		free(w.p);
		return fcap_err(errbuf, "%s: %s", tmp, strerror(errno));
	}
	size_t put_n = fwrite(w.p, 1, w.len, f);
	int cerr = fclose(f);
	free(w.p);
	if (put_n != w.len || cerr != 0 || rename(tmp, path) != 0) {
		int e = errno;
		remove(tmp);
		return fcap_err(errbuf, "%s: writing failed: %s", path, strerror(e));
	}
	return 0;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *p;
	size_t end, off;       /* absolute offsets in the file */
	const char *name;
	char *errbuf;
	int err;
};

static int rd_fail(struct rd *r, const char *fmt, const char *what)
{
	if (!r->err)
		fcap_err(r->errbuf, "%s: offset %zu: %s%s", r->name, r->off, fmt, what ? what : "");
	r->err = 1;
	return -1;
}

static const uint8_t *take(struct rd *r, size_t n, const char *what)
{
	if (r->err)
		return NULL;
	if (n > r->end - r->off) {
		rd_fail(r, "truncated: ", what);
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint32_t get32(struct rd *r, const char *what)
{
	const uint8_t *p = take(r, 4, what);
	return p ? ld32(p) : 0;
}

static uint64_t get64(struct rd *r, const char *what)
{
	const uint8_t *p = take(r, 8, what);
	return p ? ld64(p) : 0;
}

static double getf(struct rd *r, const char *what)
{
	uint64_t v = get64(r, what);
	double d;
	memcpy(&d, &v, 8);
	if (!r->err && !isfinite(d)) {
		r->off -= 8;
		rd_fail(r, "not a finite number: ", what);
	}
	return d;
}

/* A failed read before the check fails it too: a field read past its
 * section is 0 or garbage, and must never pass for a checked value. */
static int check(struct rd *r, int ok, const char *what)
{
	if (r->err)
		return -1;
	return ok ? 0 : rd_fail(r, "", what);
}

static int get_net(struct rd *r, struct fcap_net *n, uint32_t in, uint32_t out, uint32_t min_layers,
		   uint32_t max_layers, const char *what)
{
	char eb[FCAP_ERRBUF_SIZE];
	size_t at = r->off;
	uint32_t nl = get32(r, what);
	if (check(r, nl >= min_layers && nl <= max_layers, "network layer count out of range") < 0)
		return -1;
	uint32_t widths[FCAP_NN_MAX_LAYERS + 1];
	size_t pos = r->off;
	/* First pass: widths, to allocate; they are re-read below. */
	widths[0] = in;
	for (uint32_t i = 0; i < nl; i++) {
		uint32_t a = get32(r, what), b = get32(r, what), fr = get32(r, what);
		if (check(r, a == widths[i], "layer input width does not match what feeds it") < 0 ||
		    check(r, b >= 1 && b <= FCAP_NN_MAX_WIDTH, "layer width out of range") < 0 ||
		    check(r, i + 1 < nl || b == out, "network output width does not match") < 0 ||
		    check(r, fr <= FCAP_NN_MAX_FRAC, "layer input fraction bits out of range") < 0)
			return -1;
		widths[i + 1] = b;
		size_t body = (size_t)a * b * (8 + 2) + (size_t)b * (8 + 4 + 1);
		if (!take(r, body, "layer weights"))
			return -1;
	}
	if (fcap_net_init(n, nl, widths, NULL, eb) < 0) {
		r->off = at;
		return rd_fail(r, eb, NULL);
	}
	r->off = pos;
	for (uint32_t i = 0; i < nl; i++) {
		struct fcap_layer *l = &n->l[i];
		size_t nw = (size_t)l->in * l->out;
		get32(r, what);
		get32(r, what);
		l->in_frac = get32(r, what);
		for (size_t k = 0; k < nw; k++)
			l->w[k] = getf(r, "weight");
		for (uint32_t j = 0; j < l->out; j++)
			l->b[j] = getf(r, "bias");
		for (size_t k = 0; k < nw; k++) {
			const uint8_t *p = take(r, 2, "weight");
			l->wq[k] = p ? (int16_t)ld16(p) : 0;
		}
		for (uint32_t j = 0; j < l->out; j++)
			l->bq[j] = (int32_t)get32(r, "bias");
		const uint8_t *fr = take(r, l->out, "fraction bits");
		if (fr)
			memcpy(l->frac, fr, l->out);
	}
	if (r->err)
		return -1;
	n->quantized = true;
	if (fcap_net_check_bounds(n, eb) < 0 || fcap_net_pack(n, eb) < 0) {
		r->off = at;
		return rd_fail(r, eb, NULL);
	}
	return 0;
}

static int get_meta(struct rd *r, struct fcap_model *m)
{
	m->nfeat = get32(r, "feature count");
	uint32_t extras = get32(r, "extras flag");
	m->extras = extras == 1;
	m->table_entries = get32(r, "table entries");
	m->calib = get32(r, "calibration method");
	m->idle_ns = get64(r, "idle timeout");
	m->seed = get64(r, "seed");
	m->target_fpr = getf(r, "target false-positive rate");
	m->nae = get32(r, "autoencoder count");
	uint32_t has_mlp = get32(r, "classifier flag");
	m->hmin = getf(r, "hybrid normalisation");
	m->hinv = getf(r, "hybrid normalisation");
	m->thr_ae_q = get32(r, "threshold");
	m->thr_mlp_q = (int32_t)get32(r, "threshold");
	m->thr_hyb_q = (int32_t)get32(r, "threshold");
	get32(r, "reserved");
	m->thr_ae = getf(r, "threshold");
	m->thr_mlp = getf(r, "threshold");
	m->thr_hyb = getf(r, "threshold");
	m->has_mlp = has_mlp;
	unsigned want = m->extras ? FCAP_FEAT_MAX : FCAP_FEAT_KITSUNE;
	if (check(r, m->nfeat == want, "feature count does not match the feature set (100, or 116 with extras)") < 0 ||
	    check(r, extras <= 1 && has_mlp <= 1, "flag out of range") < 0 ||
	    check(r, m->table_entries >= 8 && m->table_entries <= (1u << 26), "table entries out of range") < 0 ||
	    check(r, m->calib <= FCAP_CALIB_LOGNORMAL, "unknown calibration method") < 0 ||
	    check(r, m->target_fpr > 0 && m->target_fpr < 1, "target false-positive rate out of (0,1)") < 0 ||
	    check(r, m->nae >= 1 && m->nae <= m->nfeat, "autoencoder count out of range") < 0 ||
	    check(r, m->hinv >= 0 && m->hinv <= 1e6 && m->hmin >= 0 && m->hmin <= 1000, "hybrid scale out of range") < 0 ||
	    check(r, m->thr_ae_q >= 1 && m->thr_ae > 0, "threshold out of range") < 0)
		return -1;
	return 0;
}

static int get_unit(struct rd *r, struct fcap_model *m, uint32_t k)
{
	struct fcap_ae_unit *u = &m->ae[k];
	u->n = get32(r, "unit size");
	if (check(r, u->n >= 1 && u->n <= m->nfeat && u->n <= FCAP_NN_MAX_WIDTH, "unit size out of range") < 0)
		return -1;
	u->idx = calloc(u->n, sizeof(uint32_t));
	if (!u->idx)
		return rd_fail(r, "out of memory", NULL);
	for (uint32_t j = 0; j < u->n; j++) {
		u->idx[j] = get32(r, "feature index");
		if (check(r, u->idx[j] < m->nfeat, "feature index beyond the feature count") < 0)
			return -1;
	}
	m->omin[k] = getf(r, "unit normalisation");
	m->oinv[k] = getf(r, "unit normalisation");
	if (check(r, m->oinv[k] >= 0 && m->oinv[k] <= 1e6 && m->omin[k] >= 0 && m->omin[k] <= 1000,
		  "unit scale out of range") < 0)
		return -1;
	return get_net(r, &u->net, u->n, u->n, 2, 2, "autoencoder");
}

static int get_sections(struct rd *r, struct fcap_model *m, uint32_t nsec)
{
	uint32_t units = 0, seen[SEC_HYB + 1] = { 0 };
	for (uint32_t s = 0; s < nsec; s++) {
		size_t at = r->off;
		uint32_t type = get32(r, "section header"), len = get32(r, "section header");
		if (r->err)
			return -1;
		if (len > r->end - r->off || (len + 7) / 8 * 8 > r->end - r->off) {
			r->off = at;
			return rd_fail(r, "section length overruns the file", NULL);
		}
		if (check(r, type >= SEC_META && type <= SEC_HYB, "unknown section type") < 0 ||
		    check(r, s == 0 ? type == SEC_META : type != SEC_META, "the first section, and only it, must be META") < 0 ||
		    check(r, type == SEC_UNIT || !seen[type], "section repeated") < 0)
			return -1;
		seen[type]++;
		struct rd sub = { r->p, r->off + len, r->off, r->name, r->errbuf, 0 };
		int rc = 0;
		switch (type) {
		case SEC_META:
			rc = get_meta(&sub, m);
			if (rc == 0) {
				m->fmin = calloc(m->nfeat, sizeof(double));
				m->finv = calloc(m->nfeat, sizeof(double));
				m->ae = calloc(m->nae, sizeof(*m->ae));
				m->omin = calloc(m->nae, sizeof(double));
				m->oinv = calloc(m->nae, sizeof(double));
				if (!m->fmin || !m->finv || !m->ae || !m->omin || !m->oinv)
					rc = rd_fail(&sub, "out of memory", NULL);
			}
			break;
		case SEC_NORM:
			for (uint32_t i = 0; i < m->nfeat && !sub.err; i++) {
				m->fmin[i] = getf(&sub, "feature minimum");
				m->finv[i] = getf(&sub, "feature scale");
				if (check(&sub, m->finv[i] >= 0 && m->finv[i] <= 1e15 && fabs(m->fmin[i]) <= 1e12,
					  "feature normalisation out of range") < 0)
					break;
			}
			rc = sub.err ? -1 : 0;
			break;
		case SEC_UNIT:
			rc = check(&sub, units < m->nae, "more autoencoder sections than declared");
			if (rc == 0)
				rc = get_unit(&sub, m, units++);
			break;
		case SEC_OUTAE:
			rc = get_net(&sub, &m->out, m->nae, m->nae, 2, 2, "output autoencoder");
			break;
		case SEC_MLP:
			rc = get_net(&sub, &m->mlp, m->nfeat, 1, 1, FCAP_NN_MAX_LAYERS, "classifier");
			break;
		case SEC_HYB:
			rc = get_net(&sub, &m->hyb, m->nfeat + 1, 1, 1, FCAP_NN_MAX_LAYERS, "hybrid classifier");
			break;
		}
		if (rc == 0 && sub.off != sub.end) {
			rc = rd_fail(&sub, "section has bytes past its last field", NULL);
		}
		if (rc < 0)
			return -1;
		r->off += (len + 7) / 8 * 8;
	}
	r->off = HDR_LEN;
	if (check(r, seen[SEC_NORM] && seen[SEC_OUTAE] && units == m->nae, "a required section is missing") < 0 ||
	    check(r, m->has_mlp ? seen[SEC_MLP] && seen[SEC_HYB] : !seen[SEC_MLP] && !seen[SEC_HYB],
		  "classifier sections do not match the classifier flag") < 0)
		return -1;
	return 0;
}

int fcap_model_parse(struct fcap_model *m, const uint8_t *buf, size_t len, const char *name, char *errbuf)
{
	memset(m, 0, sizeof(*m));
	struct rd r = { buf, len, 0, name, errbuf, 0 };
	if (len < HDR_LEN || memcmp(buf, MAGIC, 8) != 0)
		return fcap_err(errbuf, "%s: offset 0: not an fcap model file (no %s magic)", name, MAGIC);
	uint32_t version = ld32(buf + 8), hdr = ld32(buf + 12);
	uint64_t total = ld64(buf + 16);
	if (version != FCAP_MODEL_VERSION)
		return fcap_err(errbuf, "%s: offset 8: model file version %u; this fcap reads version %u", name, version,
				FCAP_MODEL_VERSION);
	if (hdr != HDR_LEN)
		return fcap_err(errbuf, "%s: offset 12: header length %u, expected %u", name, hdr, HDR_LEN);
	if (total != len)
		return fcap_err(errbuf, "%s: offset 16: file says %llu bytes but has %zu (truncated or extended)", name,
				(unsigned long long)total, len);
	uint32_t crc = ld32(buf + 24), got = file_crc(buf, len);
	if (FCAP_CHECKSUM_BAD(crc, got))
		return fcap_err(errbuf, "%s: offset 24: checksum 0x%08x does not match the contents (0x%08x): corrupt",
				name, crc, got);
	r.off = HDR_LEN;
	int rc = get_sections(&r, m, ld32(buf + 28));
	if (rc == 0 && r.off != HDR_LEN)
		rc = -1;
	if (rc == 0)
		rc = fcap_model_prepare(m, errbuf);
	if (rc < 0)
		fcap_model_free(m);
	return rc;
}

int fcap_model_load(struct fcap_model *m, const char *path, char *errbuf)
{
	memset(m, 0, sizeof(*m));
	FILE *f = fopen(path, "rb");
	if (!f)
		return fcap_err(errbuf, "%s: %s", path, strerror(errno));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE) {
				fclose(f);
				free(buf);
				return fcap_err(errbuf, "%s: larger than %u bytes: not a model file", path, MAX_FILE);
			}
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return fcap_err(errbuf, "%s: out of memory", path);
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int ferr = ferror(f);
	fclose(f);
	if (ferr) {
		free(buf);
		return fcap_err(errbuf, "%s: read error", path);
	}
	int rc = fcap_model_parse(m, buf, len, path, errbuf);
	free(buf);
	return rc;
}
