/*
 * fcap/json.h - a small JSON writer and reader for fcap's EVE alert files
 * (docs/ALERTS.md).
 *
 * The writer escapes every string (quotes, backslashes, control characters;
 * bytes that are not valid UTF-8 become \u00XX). The reader parses one
 * document held in memory into a tree; integers that fit are kept exactly
 * (byte offsets need 64 bits), every other number as a double. Errors name
 * the byte offset of what could not be read.
 */
#ifndef FCAP_JSON_H
#define FCAP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"

/* ---- writing ---- */

/* A string literal, quotes included. */
void fcap_json_string(FILE *f, const char *s);
/* "key": (with a leading comma unless first) */
void fcap_json_key(FILE *f, const char *key, bool first);

/* ---- reading ---- */

enum fcap_json_type { FCAP_JSON_NULL, FCAP_JSON_BOOL, FCAP_JSON_NUMBER, FCAP_JSON_STRING, FCAP_JSON_ARRAY,
		      FCAP_JSON_OBJECT };

struct fcap_json {
	enum fcap_json_type type;
	bool b;
	double num;
	bool is_uint;          /* a non-negative integer that fits u64 (num is then approximate) */
	uint64_t u;
	char *str;             /* strings: NUL-terminated (a \u0000 inside ends it early) */
	size_t n;              /* arrays and objects: members */
	struct fcap_json *kid; /* n members */
	char **keys;           /* objects: n keys */
};

/* Parses text[0..len) (one value, then only white space). NULL and errbuf
 * ("offset N: what") on failure. */
struct fcap_json *fcap_json_parse(const char *text, size_t len, char *errbuf);
void fcap_json_free(struct fcap_json *j);

/* Member of an object by key, or NULL (also when j is not an object). */
const struct fcap_json *fcap_json_get(const struct fcap_json *j, const char *key);
/* Convenience: member's string / unsigned / double, or the fallback. */
const char *fcap_json_get_str(const struct fcap_json *j, const char *key, const char *fallback);
uint64_t fcap_json_get_u64(const struct fcap_json *j, const char *key, uint64_t fallback);
double fcap_json_get_num(const struct fcap_json *j, const char *key, double fallback);

#endif
