/*
 * test_alerts.c - the JSON writer and reader, the verdict journal, and the
 * alerter's grouping (docs/ALERTS.md), table-driven.
 *
 * usage: test_alerts [DIR]   (scratch files go to DIR)
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcap/alert.h"
#include "fcap/extract_evidence.h"
#include "fcap/json.h"
#include "fcap/verdict.h"

static const char *dir = ".";

/* ---- JSON ---- */

static void test_json_round_trip(void)
{
	static const char *const cases[] = {
		"plain", "", "quote \" and backslash \\", "new\nline\ttab\rcr", "\x01\x1f\x7f controls",
		"utf-8: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "not utf-8: \xff\xfe\xc3 end", "/slash/",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		fcap_json_string(f, cases[i]);
		fclose(f);
		for (size_t k = 0; k < len; k++)   /* nothing raw below 0x20 in the output */
			CU_ASSERT((unsigned char)text[k] >= 0x20);
		char err[FCAP_ERRBUF_SIZE];
		struct fcap_json *j = fcap_json_parse(text, len, err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_EQUAL(j->type, FCAP_JSON_STRING);
		CU_ASSERT_STRING_EQUAL(j->str, cases[i]);
		fcap_json_free(j);
		free(text);
	}
}

static void test_json_values(void)
{
	char err[FCAP_ERRBUF_SIZE];
	const char *t = " {\"a\": [1, 18446744073709551615, 18446744073709551616, -2, 0.5e1, true, false, null],"
			" \"b\": {\"c\": \"\\u00e9\\ud83d\\ude00\"}} ";
	struct fcap_json *j = fcap_json_parse(t, strlen(t), err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	const struct fcap_json *a = fcap_json_get(j, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->n, 8);
	CU_ASSERT(a->kid[0].is_uint && a->kid[0].u == 1);
	CU_ASSERT(a->kid[1].is_uint && a->kid[1].u == UINT64_MAX);
	CU_ASSERT(!a->kid[2].is_uint);   /* too big for 64 bits: a double only */
	CU_ASSERT(!a->kid[3].is_uint && a->kid[3].num == -2);
	CU_ASSERT(!a->kid[4].is_uint && a->kid[4].num == 5);
	CU_ASSERT(a->kid[5].type == FCAP_JSON_BOOL && a->kid[5].b);
	CU_ASSERT(a->kid[6].type == FCAP_JSON_BOOL && !a->kid[6].b);
	CU_ASSERT(a->kid[7].type == FCAP_JSON_NULL);
	CU_ASSERT_STRING_EQUAL(fcap_json_get_str(fcap_json_get(j, "b"), "c", ""), "\xe9\xf0\x9f\x98\x80");
	CU_ASSERT_PTR_NULL(fcap_json_get(j, "missing"));
	fcap_json_free(j);
}

static void test_json_malformed(void)
{
	static const struct { const char *text, *error; } cases[] = {
		{ "", "offset 0: expected a value" },
		{ "{\"a\":}", "offset 5: unexpected character" },
		{ "[1,2", "offset 4: expected ',' or ']'" },
		{ "{\"a\" 1}", "offset 5: expected ':'" },
		{ "{1:2}", "offset 1: expected a key" },
		{ "\"abc", "unterminated string" },
		{ "\"a\x01\"", "offset 2: control character in a string" },
		{ "\"\\x\"", "bad escape" },
		{ "\"\\u12g4\"", "bad \\u escape" },
		{ "[1] 2", "offset 4: text after the value" },
		{ "-", "offset 0: bad number" },
		{ "1e999", "bad number" },
		{ "tru", "offset 0: unexpected character" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[FCAP_ERRBUF_SIZE] = "";
		struct fcap_json *j = fcap_json_parse(cases[i].text, strlen(cases[i].text), err);
		CU_ASSERT_PTR_NULL(j);
		if (!strstr(err, cases[i].error))
			printf("\n  case %zu: got '%s', want '%s'\n", i, err, cases[i].error);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].error));
		fcap_json_free(j);
	}
	char deep[200];
	memset(deep, '[', sizeof(deep));
	char err[FCAP_ERRBUF_SIZE];
	CU_ASSERT_PTR_NULL(fcap_json_parse(deep, sizeof(deep), err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nested too deeply"));
}

/* ---- the verdict journal ---- */

static void verdict(struct fcap_verdict *v, const char *id, bool fp, const char *note)
{
	memset(v, 0, sizeof(*v));
	v->time_ns = 1700000000123456789ull;
	snprintf(v->alert_id, sizeof(v->alert_id), "%s", id);
	v->false_positive = fp;
	v->scope = fp ? FCAP_SCOPE_FLOW : FCAP_SCOPE_HOST;
	snprintf(v->value, sizeof(v->value), "10.0.0.1:80>10.0.0.2:4242/tcp");
	v->expires_ns = fp ? 1800000000000000000ull : 0;
	snprintf(v->alerts_file, sizeof(v->alerts_file), "/a dir/with %% and spaces/alerts.eve");
	snprintf(v->note, sizeof(v->note), "%s", note);
}

static void test_journal(void)
{
	char path[512], warn[FCAP_ERRBUF_SIZE], err[FCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	struct fcap_verdicts vs;
	CU_ASSERT_EQUAL(fcap_verdicts_load(&vs, path, err), 0);   /* missing: empty */
	CU_ASSERT_EQUAL(vs.n, 0);
	fcap_verdicts_free(&vs);
	static const char *const notes[] = { "", "-", "a note, with spaces and 100% \"quotes\"\n\xc3\xa9" };
	struct fcap_verdict v;
	for (int i = 0; i < 3; i++) {
		verdict(&v, i == 2 ? "aaaa" : i ? "bbbb" : "aaaa", i != 1, notes[i]);
		CU_ASSERT_EQUAL(fcap_verdict_append(path, &v, warn, err), 0);
		CU_ASSERT_STRING_EQUAL(warn, "");
	}
	CU_ASSERT_EQUAL_FATAL(fcap_verdicts_load(&vs, path, err), 0);
	CU_ASSERT_EQUAL_FATAL(vs.n, 3);
	CU_ASSERT_EQUAL(vs.nwarn, 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(vs.v[i].note, notes[i]);
		CU_ASSERT_STRING_EQUAL(vs.v[i].alerts_file, "/a dir/with % and spaces/alerts.eve");
		CU_ASSERT_STRING_EQUAL(vs.v[i].value, "10.0.0.1:80>10.0.0.2:4242/tcp");
		CU_ASSERT_EQUAL(vs.v[i].time_ns, 1700000000123456789ull);
	}
	CU_ASSERT_PTR_EQUAL(fcap_verdicts_latest(&vs, "aaaa"), &vs.v[2]);
	CU_ASSERT_EQUAL(vs.nrules, 1);   /* aaaa's latest is a false positive; bbbb's a true one */
	CU_ASSERT_EQUAL(vs.rules[0].scope, FCAP_SCOPE_FLOW);
	CU_ASSERT_EQUAL(vs.rules[0].expires_ns, 1800000000000000000ull);
	fcap_verdicts_free(&vs);

	/* a torn last line: ignored with a warning, then cut by the next append */
	FILE *f = fopen(path, "a");
	fputs("fcap-verdict-1 17000000 cccc fp host 1.2", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(fcap_verdicts_load(&vs, path, err), 0);
	CU_ASSERT_EQUAL(vs.n, 3);
	CU_ASSERT_EQUAL_FATAL(vs.nwarn, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs.warn[0], "line 4 (offset"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vs.warn[0], "torn last line"));
	fcap_verdicts_free(&vs);
	verdict(&v, "dddd", true, "after");
	CU_ASSERT_EQUAL(fcap_verdict_append(path, &v, warn, err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(warn, "cut a torn last line"));
	CU_ASSERT_EQUAL_FATAL(fcap_verdicts_load(&vs, path, err), 0);
	CU_ASSERT_EQUAL(vs.n, 4);
	CU_ASSERT_EQUAL(vs.nwarn, 0);
	CU_ASSERT_STRING_EQUAL(vs.v[3].alert_id, "dddd");
	fcap_verdicts_free(&vs);

	/* one damaged byte in line 2: that line is skipped, the others kept */
	f = fopen(path, "r+");
	char line[4096];
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
	long at = ftell(f);
	fseek(f, at + 20, SEEK_SET);
	int ch = fgetc(f);
	fseek(f, at + 20, SEEK_SET);
	fputc(ch == '1' ? '2' : '1', f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(fcap_verdicts_load(&vs, path, err), 0);
	CU_ASSERT_EQUAL(vs.n, 3);
	CU_ASSERT_EQUAL_FATAL(vs.nwarn, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs.warn[0], "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vs.warn[0], "checksum mismatch"));
	CU_ASSERT_PTR_NULL(fcap_verdicts_latest(&vs, "bbbb"));
	fcap_verdicts_free(&vs);
}

/* ---- extraction of evidence ---- */

static size_t put32(uint8_t *b, size_t at, uint32_t v)
{
	memcpy(b + at, &v, 4);
	return at + 4;
}

/* A pcapng file: SHB, IDB, then n EPBs of 4-byte packets; offsets[i] of EPB i. */
static size_t make_pcapng(uint8_t *b, size_t n, uint64_t *offsets)
{
	size_t at = 0;
	at = put32(b, at, 0x0a0d0d0a), at = put32(b, at, 28), at = put32(b, at, 0x1a2b3c4d);
	at = put32(b, at, 1), at = put32(b, at, 0xffffffff), at = put32(b, at, 0xffffffff), at = put32(b, at, 28);
	at = put32(b, at, 1), at = put32(b, at, 20), at = put32(b, at, 1), at = put32(b, at, 65535);
	at = put32(b, at, 20);
	for (size_t i = 0; i < n; i++) {
		offsets[i] = at;
		at = put32(b, at, 6), at = put32(b, at, 36), at = put32(b, at, 0), at = put32(b, at, 0);
		at = put32(b, at, (uint32_t)i), at = put32(b, at, 4), at = put32(b, at, 4);
		at = put32(b, at, 0xa0a0a0a0u + (uint32_t)i), at = put32(b, at, 36);
	}
	return at;
}

static int extract(const char *path, const uint64_t *num, const uint64_t *off, size_t n, uint8_t *out, size_t *len,
		   char *err)
{
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	uint64_t written = 0;
	int rc = fcap_extract_evidence(path, num, off, n, f, &written, err);
	fclose(f);
	CU_ASSERT_EQUAL(written, tl);
	if (tl <= *len)
		memcpy(out, text, tl);
	*len = tl;
	free(text);
	return rc;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void test_extract_evidence(void)
{
	char path[512], err[FCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/ev.pcapng", dir);
	uint8_t file[1024], out[1024];
	uint64_t off[4];
	size_t n = make_pcapng(file, 4, off);
	write_file(path, file, n);

	/* packets 2 and 4: the header blocks, then those EPBs, byte for byte */
	uint64_t num[2] = { 2, 4 }, eoff[2] = { off[1], off[3] };
	size_t len = sizeof(out);
	CU_ASSERT_EQUAL_FATAL(extract(path, num, eoff, 2, out, &len, err), 0);
	CU_ASSERT_EQUAL_FATAL(len, 48 + 2 * 36);
	CU_ASSERT_EQUAL(memcmp(out, file, 48), 0);
	CU_ASSERT_EQUAL(memcmp(out + 48, file + off[1], 36), 0);
	CU_ASSERT_EQUAL(memcmp(out + 84, file + off[3], 36), 0);

	/* every kind of damage or mismatch: refused, naming what and where */
	static const struct {
		const char *what;
		size_t at;          /* byte to overwrite (relative to EPB 1), or SIZE_MAX: none */
		uint32_t value;
		uint64_t num, off;  /* evidence */
		size_t cut;         /* file length, 0: whole */
		const char *error;
	} cases[] = {
		{ "block length not a multiple of 4", 4, 37, 2, 0, 0, "block length 37 is malformed" },
		{ "block length below 12", 4, 8, 2, 0, 0, "block length 8 is malformed" },
		{ "block length past the end", 4, 4000, 2, 0, 0, "runs past the end of the file" },
		{ "trailing length differs", 32, 40, 2, 0, 0, "trailing length differs" },
		{ "offset not the packet's", SIZE_MAX, 0, 2, 12345, 0, "packet 2 is at offset" },
		{ "packet beyond the file", SIZE_MAX, 0, 9, 0, 0, "evidence packet 9" },
		{ "file cut in a block", SIZE_MAX, 0, 4, 0, 150, "runs past the end of the file" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t bad[1024];
		memcpy(bad, file, n);
		if (cases[i].at != SIZE_MAX)
			put32(bad, off[0] + cases[i].at, cases[i].value);
		write_file(path, bad, cases[i].cut ? cases[i].cut : n);
		uint64_t bnum = cases[i].num, boff = cases[i].off ? cases[i].off : cases[i].num <= 4 ? off[cases[i].num - 1] : 0;
		len = sizeof(out);
		err[0] = 0;
		CU_ASSERT_EQUAL(extract(path, &bnum, &boff, 1, out, &len, err), -1);
		if (!strstr(err, cases[i].error) || !strstr(err, "ev.pcapng"))
			printf("\n  %s: got '%s', want '%s'\n", cases[i].what, err, cases[i].error);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].error));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "ev.pcapng"));
	}
	unlink(path);
	uint64_t one = 1, zero = 0;
	len = sizeof(out);
	CU_ASSERT_EQUAL(extract(path, &one, &zero, 1, out, &len, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "removed, perhaps by the store's retention"));

	/* a pcap record whose captured length is not believable */
	snprintf(path, sizeof(path), "%s/ev.pcap", dir);
	uint8_t p[64] = { 0 };
	size_t at = put32(p, 0, 0xa1b2c3d4);
	put32(p, 16, 65535), put32(p, 20, 1);
	at = 24;
	at = put32(p, at, 0), at = put32(p, at, 0), at = put32(p, at, 0x7fffffff), at = put32(p, at, 60);
	write_file(path, p, at + 8);
	len = sizeof(out);
	CU_ASSERT_EQUAL(extract(path, &one, (uint64_t[]){ 24 }, 1, out, &len, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ev.pcap: offset 24: captured length 2147483647 is not believable"));
}

/* ---- the alerter's grouping ---- */

struct pkt {
	double t;             /* seconds */
	const char *src, *dst;
	enum fcap_alert alert;
	double score;
};

static void packet_in(const struct pkt *p, struct fcap_feat_in *in)
{
	memset(in, 0, sizeof(*in));
	in->pi.ip_version = 4;
	in->pi.l4 = FCAP_L4_UDP;
	in->pi.ip_proto = 17;
	inet_pton(AF_INET, p->src, in->pi.src_ip);
	inet_pton(AF_INET, p->dst, in->pi.dst_ip);
	in->pi.sport = 1000;
	in->pi.dport = 53;
	in->ts_ns = (uint64_t)(p->t * 1e9) + 1700000000000000000ull;
}

/* Runs packets through an alerter; returns the alert lines' JSON. */
static size_t run(const struct fcap_alert_config *c, const struct pkt *pk, size_t n, const struct fcap_suppress *rules,
		  size_t nrules, struct fcap_json **out, size_t max, struct fcap_alert_counts *counts)
{
	struct fcap_model m;
	memset(&m, 0, sizeof(m));
	m.extras = true;
	m.thr_ae_q = 1 << 20;
	char *text = NULL, err[FCAP_ERRBUF_SIZE];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct fcap_alerter *a = fcap_alerter_new(c, &m, "0000abcd", f, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	fcap_alerter_rules(a, rules, nrules, 1);
	for (size_t i = 0; i < n; i++) {
		struct fcap_feat_in in;
		packet_in(&pk[i], &in);
		struct fcap_scores sc = { .ae = 1, .hybrid = pk[i].score, .alert = pk[i].alert };
		fcap_alerter_packet(a, "/nonexistent/x.pcap", 24 + 100 * i, i + 1, &in, &sc, NULL);
	}
	fcap_alerter_finish(a, NULL);
	fcap_alerter_counts(a, counts);
	fcap_alerter_free(a);
	fclose(f);
	size_t k = 0;
	for (char *line = text, *nl; line && *line && (nl = strchr(line, '\n')); line = nl + 1) {
		struct fcap_json *j = fcap_json_parse(line, (size_t)(nl - line), err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		if (!strcmp(fcap_json_get_str(j, "event_type", ""), "alert") && k < max)
			out[k++] = j;
		else
			fcap_json_free(j);
	}
	free(text);
	return k;
}

static uint64_t evidence_count(const struct fcap_json *j)
{
	return fcap_json_get_u64(fcap_json_get(fcap_json_get(j, "fcap"), "evidence"), "packet_count", 0);
}

static void test_grouping(void)
{
	/* Two hosts attack 10.0.0.1 at once; a gap longer than the window
	 * ends the first alert; packets that do not alert only keep time. */
	static const struct pkt pk[] = {
		{ 0.0, "10.0.0.9", "10.0.0.1", FCAP_ALERT_ANOMALY, 0.5 },
		{ 0.1, "10.0.0.8", "10.0.0.1", FCAP_ALERT_ANOMALY, 1.5 },
		{ 0.2, "10.0.0.9", "10.0.0.2", FCAP_ALERT_BOTH, 0.2 },
		{ 3.0, "10.0.0.9", "10.0.0.1", FCAP_ALERT_NONE, -1 },
		{ 4.0, "10.0.0.9", "10.0.0.1", FCAP_ALERT_ANOMALY, 3.5 },
		{ 20.0, "10.0.0.7", "10.0.0.3", FCAP_ALERT_NONE, -2 },
		{ 30.0, "10.0.0.9", "10.0.0.1", FCAP_ALERT_ANOMALY, 0.1 },
	};
	static const struct {
		enum fcap_group_by by;
		size_t alerts;
		uint64_t first_count;   /* packets of the first alert written */
	} cases[] = {
		{ FCAP_GROUP_DST, 3, 3 },   /* 10.0.0.1 (0-4 s), 10.0.0.2, 10.0.0.1 again at 30 s */
		{ FCAP_GROUP_SRC, 3, 3 },   /* 10.0.0.9 (0-4 s), 10.0.0.8, 10.0.0.9 again */
		{ FCAP_GROUP_FLOW, 4, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fcap_alert_config c;
		fcap_alert_defaults(&c);
		c.explain = false;
		c.group_by = cases[i].by;
		struct fcap_json *out[8];
		struct fcap_alert_counts ct;
		size_t n = run(&c, pk, sizeof(pk) / sizeof(pk[0]), NULL, 0, out, 8, &ct);
		CU_ASSERT_EQUAL(n, cases[i].alerts);
		CU_ASSERT_EQUAL(ct.alert_packets, 5);
		CU_ASSERT_EQUAL(ct.packets, 7);
		if (n)
			CU_ASSERT_EQUAL(evidence_count(out[0]), cases[i].first_count);
		uint64_t total = 0;
		for (size_t k = 0; k < n; k++) {
			total += evidence_count(out[k]);
			fcap_json_free(out[k]);
		}
		CU_ASSERT_EQUAL(total, 5);   /* every alerting packet in exactly one alert */
	}

	/* severity and rule: 10.0.0.1's first alert peaked at 3.5 (severity 1);
	 * 10.0.0.2's had both models agree (severity 1, rule both); the last
	 * one is an anomaly just over (severity 3) */
	struct fcap_alert_config c;
	fcap_alert_defaults(&c);
	c.explain = false;
	struct fcap_json *out[8];
	struct fcap_alert_counts ct;
	size_t n = run(&c, pk, sizeof(pk) / sizeof(pk[0]), NULL, 0, out, 8, &ct);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	static const struct { const char *key, *rule; unsigned severity, sid; } want[] = {
		{ "10.0.0.1", "anomaly", 1, FCAP_ALERT_SID_BASE + 23 },
		{ "10.0.0.2", "both", 1, FCAP_ALERT_SID_BASE + 21 },
		{ "10.0.0.1", "anomaly", 3, FCAP_ALERT_SID_BASE + 23 },
	};
	for (size_t k = 0; k < n; k++) {
		const struct fcap_json *fc = fcap_json_get(out[k], "fcap"), *al = fcap_json_get(out[k], "alert");
		CU_ASSERT_STRING_EQUAL(fcap_json_get_str(fc, "key", ""), want[k].key);
		CU_ASSERT_STRING_EQUAL(fcap_json_get_str(fc, "rule", ""), want[k].rule);
		CU_ASSERT_EQUAL(fcap_json_get_u64(al, "severity", 0), want[k].severity);
		CU_ASSERT_EQUAL(fcap_json_get_u64(al, "signature_id", 0), want[k].sid);
		fcap_json_free(out[k]);
	}

	/* suppression: by host, by signature; an expired rule does nothing */
	static const struct {
		struct fcap_suppress rule;
		size_t alerts;
	} rules[] = {
		{ { FCAP_SCOPE_HOST, "10.0.0.1", 0, "x" }, 1 },
		{ { FCAP_SCOPE_SIGNATURE, "8100023", 0, "x" }, 1 },
		{ { FCAP_SCOPE_FLOW, "10.0.0.9:1000>10.0.0.2:53/udp", 0, "x" }, 2 },
		{ { FCAP_SCOPE_HOST, "10.0.0.1", 1, "x" }, 3 },   /* expired (the clock is at 1) */
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		n = run(&c, pk, sizeof(pk) / sizeof(pk[0]), &rules[i].rule, 1, out, 8, &ct);
		CU_ASSERT_EQUAL(n, rules[i].alerts);
		CU_ASSERT_EQUAL(ct.suppressed, 3 - rules[i].alerts);
		for (size_t k = 0; k < n; k++)
			fcap_json_free(out[k]);
	}
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : ".";
	mkdir(dir, 0755);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("alerts", NULL, NULL);
	CU_add_test(s, "JSON strings round trip, escaped", test_json_round_trip);
	CU_add_test(s, "JSON values, 64-bit integers exact", test_json_values);
	CU_add_test(s, "JSON errors name the offset", test_json_malformed);
	CU_add_test(s, "verdict journal: fields, torn and damaged lines", test_journal);
	CU_add_test(s, "alerter: grouping, severity, suppression", test_grouping);
	CU_add_test(s, "evidence extraction: exact blocks; damage refused with offsets", test_extract_evidence);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
