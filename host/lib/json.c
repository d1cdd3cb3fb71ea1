/* json.c - a small JSON writer and reader (fcap/json.h). */
#include "fcap/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	if (c >= 0xf8)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void fcap_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n;
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f), p++;
		} else if (*p == '\t') {
			fputs("\\t", f), p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fprintf(f, "\\u%04x", *p++);   /* not UTF-8: the byte as a code point */
		}
	}
	fputc('"', f);
}

void fcap_json_key(FILE *f, const char *key, bool first)
{
	if (!first)
		fputc(',', f);
	fcap_json_string(f, key);
	fputc(':', f);
}

/* ---- reader ---- */

#define MAX_DEPTH 64

struct parser {
	const char *s;
	size_t len, pos;
	char *errbuf;
};

static int fail(struct parser *p, const char *what)
{
	return fcap_err(p->errbuf, "offset %zu: %s", p->pos, what);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
				   p->s[p->pos] == '\r'))
		p->pos++;
}

static int parse_value(struct parser *p, struct fcap_json *j, int depth);

static int hex4(struct parser *p, unsigned *v)
{
	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			: c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
		if (d == 16)
			return fail(p, "bad \\u escape");
		*v = *v * 16 + d;
	}
	return 0;
}

static void put_utf8(char *out, size_t *o, unsigned cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* A string at p->pos (after its opening quote). Escapes never grow the
 * text, except \uXXXX of code points < 0x80 which shrink it: len bytes
 * suffice. A \u00XX below 0x100 is written as that single byte, so that
 * what the writer escaped as a non-UTF-8 byte reads back as that byte. */
static int parse_string(struct parser *p, char **out)
{
	size_t start = p->pos, o = 0;
	char *buf = malloc(p->len - start + 1);
	if (!buf)
		return fail(p, "out of memory");
	while (p->pos < p->len && p->s[p->pos] != '"') {
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c < 0x20) {
			free(buf);
			p->pos--;
			return fail(p, "control character in a string");
		}
		if (c != '\\') {
			buf[o++] = (char)c;
			continue;
		}
		if (p->pos >= p->len)
			break;
		char e = p->s[p->pos++];
		const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			buf[o++] = to[k - from];
		} else if (e == 'u') {
			unsigned cp;
			if (hex4(p, &cp) < 0) {
				free(buf);
				return -1;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
			    p->s[p->pos + 1] == 'u') {
				unsigned lo;
				p->pos += 2;
				if (hex4(p, &lo) < 0) {
					free(buf);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp < 0x100 && cp >= 0x80)
				buf[o++] = (char)cp;
			else
				put_utf8(buf, &o, cp);
		} else {
			free(buf);
			return fail(p, "bad escape in a string");
		}
	}
	if (p->pos >= p->len) {
		free(buf);
		return fail(p, "unterminated string");
	}
	p->pos++;
	buf[o] = 0;
	char *fit = realloc(buf, o + 1);   /* buf was sized for the rest of the text */
	*out = fit ? fit : buf;
	return 0;
}

static int parse_number(struct parser *p, struct fcap_json *j)
{
	size_t start = p->pos;
	bool integer = true;
	while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]) && p->s[p->pos]) {
		if (strchr(".eE", p->s[p->pos]))
			integer = false;
		p->pos++;
	}
	size_t n = p->pos - start;
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return p->pos = start, fail(p, "bad number");
	memcpy(tmp, p->s + start, n);
	tmp[n] = 0;
	char *end;
	j->type = FCAP_JSON_NUMBER;
	j->num = strtod(tmp, &end);
	if (*end || !isfinite(j->num))
		return p->pos = start, fail(p, "bad number");
	if (integer && tmp[0] != '-') {
		unsigned long long u = strtoull(tmp, &end, 10);
		if (!*end && (u != UINT64_MAX || strcmp(tmp, "18446744073709551615") == 0)) {
			j->is_uint = true;
			j->u = u;
		}
	}
	return 0;
}

static int parse_members(struct parser *p, struct fcap_json *j, bool object, int depth)
{
	size_t cap = 0;
	char close = object ? '}' : ']';
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (j->n == cap) {
			cap = cap ? cap * 2 : 4;
			struct fcap_json *k = realloc(j->kid, cap * sizeof(*k));
			if (!k)
				return fail(p, "out of memory");
			j->kid = k;
			if (object) {
				char **keys = realloc(j->keys, cap * sizeof(*keys));
				if (!keys)
					return fail(p, "out of memory");
				j->keys = keys;
			}
		}
		memset(&j->kid[j->n], 0, sizeof(j->kid[0]));
		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a key");
			p->pos++;
			if (parse_string(p, &j->keys[j->n]) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(j->keys[j->n]);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		j->n++;   /* counted now so that free() sees it */
		if (parse_value(p, &j->kid[j->n - 1], depth + 1) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(struct parser *p, struct fcap_json *j, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(p, "nested too deeply");
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	char c = p->s[p->pos];
	static const struct { const char *word; enum fcap_json_type t; bool b; } words[] = {
		{ "null", FCAP_JSON_NULL, false }, { "true", FCAP_JSON_BOOL, true }, { "false", FCAP_JSON_BOOL, false },
	};
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i].word);
		if (p->len - p->pos >= n && !memcmp(p->s + p->pos, words[i].word, n)) {
			p->pos += n;
			j->type = words[i].t;
			j->b = words[i].b;
			return 0;
		}
	}
	if (c == '"') {
		p->pos++;
		j->type = FCAP_JSON_STRING;
		return parse_string(p, &j->str);
	}
	if (c == '{' || c == '[') {
		p->pos++;
		j->type = c == '{' ? FCAP_JSON_OBJECT : FCAP_JSON_ARRAY;
		return parse_members(p, j, c == '{', depth);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, j);
	return fail(p, "unexpected character");
}

static void free_members(struct fcap_json *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free_members(&j->kid[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->kid);
	free(j->keys);
	free(j->str);
}

struct fcap_json *fcap_json_parse(const char *text, size_t len, char *errbuf)
{
	struct fcap_json *j = calloc(1, sizeof(*j));
	if (!j) {
		fcap_err(errbuf, "out of memory");
		return NULL;
	}
	struct parser p = { text, len, 0, errbuf };
	if (parse_value(&p, j, 0) == 0) {
		skip_ws(&p);
		if (p.pos == len)
			return j;
		fail(&p, "text after the value");
	}
	fcap_json_free(j);
	return NULL;
}

void fcap_json_free(struct fcap_json *j)
{
	if (!j)
		return;
	free_members(j);
	free(j);
}

const struct fcap_json *fcap_json_get(const struct fcap_json *j, const char *key)
{
	if (!j || j->type != FCAP_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return &j->kid[i];
	return NULL;
}

const char *fcap_json_get_str(const struct fcap_json *j, const char *key, const char *fallback)
{
	const struct fcap_json *v = fcap_json_get(j, key);
	return v && v->type == FCAP_JSON_STRING ? v->str : fallback;
}

uint64_t fcap_json_get_u64(const struct fcap_json *j, const char *key, uint64_t fallback)
{
	const struct fcap_json *v = fcap_json_get(j, key);
	return v && v->type == FCAP_JSON_NUMBER && v->is_uint ? v->u : fallback;
}

double fcap_json_get_num(const struct fcap_json *j, const char *key, double fallback)
{
	const struct fcap_json *v = fcap_json_get(j, key);
	return v && v->type == FCAP_JSON_NUMBER ? v->num : fallback;
}
