/* alert_file.c - reading EVE alert files (fcap/alert_file.h). */
#include "fcap/alert_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t *len, char *errbuf)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fcap_err(errbuf, "%s: %m", path);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		char *b = realloc(buf, cap * 2 + 1);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	if (!buf)
		fcap_err(errbuf, "%s: out of memory", path);
	else if (ferror(f)) {
		fcap_err(errbuf, "%s: offset %zu: read error", path, n);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = 0;
	*len = n;
	return buf;
}

/* An array of unsigned integers into a malloc'ed u64 array. */
static int u64_array(const struct fcap_json *a, uint64_t **out, size_t *n)
{
	*n = 0;
	*out = NULL;
	if (!a || a->type != FCAP_JSON_ARRAY)
		return -1;
	*out = malloc((a->n + 1) * sizeof(uint64_t));
	if (!*out)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		if (a->kid[i].type != FCAP_JSON_NUMBER || !a->kid[i].is_uint)
			return -1;
		(*out)[i] = a->kid[i].u;
	}
	*n = a->n;
	return 0;
}

/* The fields of one alert event; why names the first missing one. */
static int fill(struct fcap_alert_rec *r, const char **why)
{
	const struct fcap_json *j = r->j, *al = fcap_json_get(j, "alert"), *fc = fcap_json_get(j, "fcap"),
			       *ev = fcap_json_get(fc, "evidence"), *files = fcap_json_get(ev, "files");
	*why = "missing alert, fcap or evidence object";
	if (!al || !fc || !ev || !files || files->type != FCAP_JSON_ARRAY || files->n != 1)
		return -1;
	r->id = fcap_json_get_str(fc, "alert_id", NULL);
	r->src = fcap_json_get_str(j, "src_ip", "");
	r->dst = fcap_json_get_str(j, "dest_ip", "");
	r->proto = fcap_json_get_str(j, "proto", "");
	r->timestamp = fcap_json_get_str(j, "timestamp", "");
	r->key = fcap_json_get_str(fc, "key", "");
	r->flow = fcap_json_get_str(fc, "flow", "");
	r->rule = fcap_json_get_str(fc, "rule", "");
	r->signature = fcap_json_get_str(al, "signature", "");
	r->sid = (unsigned)fcap_json_get_u64(al, "signature_id", 0);
	r->severity = (unsigned)fcap_json_get_u64(al, "severity", 0);
	r->score = fcap_json_get_num(fc, "score", 0);
	r->first_ns = fcap_json_get_u64(ev, "first_ts_ns", 0);
	r->last_ns = fcap_json_get_u64(ev, "last_ts_ns", 0);
	r->count = fcap_json_get_u64(ev, "packet_count", 0);
	const struct fcap_json *tr = fcap_json_get(ev, "truncated");
	r->truncated = tr && tr->type == FCAP_JSON_BOOL && tr->b;
	r->path = fcap_json_get_str(&files->kid[0], "path", NULL);
	*why = "missing alert_id, signature_id or evidence path";
	if (!r->id || !r->sid || !r->path)
		return -1;
	size_t no;
	*why = "evidence packets and offsets are not two equally long arrays of integers";
	if (u64_array(fcap_json_get(&files->kid[0], "packets"), &r->num, &r->nev) < 0 ||
	    u64_array(fcap_json_get(&files->kid[0], "offsets"), &r->off, &no) < 0 || no != r->nev)
		return -1;
	return 0;
}

int fcap_alert_file_load(struct fcap_alert_file *af, const char *path, char *errbuf)
{
	memset(af, 0, sizeof(*af));
	size_t len;
	if (!(af->text = read_all(path, &len, errbuf)))
		return -1;
	size_t cap = 0, line = 0;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(af->text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - af->text) : len;
		line++;
		if (end == pos) {
			pos = end + 1;
			continue;
		}
		char e[FCAP_ERRBUF_SIZE];
		struct fcap_json *j = fcap_json_parse(af->text + pos, end - pos, e);
		if (!j) {
			fcap_err(errbuf, "%s: line %zu (offset %zu): not JSON: %s", path, line, pos, e);
			goto fail;
		}
		const char *type = fcap_json_get_str(j, "event_type", "");
		if (!strcmp(type, "stats")) {
			fcap_json_free(af->stats);
			af->stats = j;
		} else if (!strcmp(type, "alert")) {
			if (af->n == cap) {
				cap = cap ? cap * 2 : 64;
				void *p = realloc(af->a, cap * sizeof(*af->a));
				if (!p) {
					fcap_json_free(j);
					fcap_err(errbuf, "%s: out of memory", path);
					goto fail;
				}
				af->a = p;
			}
			struct fcap_alert_rec *r = &af->a[af->n++];
			memset(r, 0, sizeof(*r));
			r->j = j;
			r->line = line;
			const char *why;
			if (fill(r, &why) < 0) {
				fcap_err(errbuf, "%s: line %zu (offset %zu): not an fcap alert: %s", path, line, pos, why);
				goto fail;
			}
		} else {
			fcap_json_free(j);   /* other event types: not ours to read */
		}
		pos = end + 1;
	}
	return 0;
fail:
	fcap_alert_file_free(af);
	return -1;
}

void fcap_alert_file_free(struct fcap_alert_file *af)
{
	for (size_t i = 0; i < af->n; i++) {
		fcap_json_free(af->a[i].j);
		free(af->a[i].num);
		free(af->a[i].off);
	}
	free(af->a);
	fcap_json_free(af->stats);
	free(af->text);
	memset(af, 0, sizeof(*af));
}

const struct fcap_alert_rec *fcap_alert_file_find(const struct fcap_alert_file *af, const char *id)
{
	for (size_t i = 0; i < af->n; i++)
		if (!strcmp(af->a[i].id, id))
			return &af->a[i];
	return NULL;
}
