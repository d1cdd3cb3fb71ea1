/* verdict.c - the verdict journal (fcap/verdict.h, docs/ALERTS.md). */
#include "fcap/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcap/checksum.h"
#include "fcap/crc32c.h"

#define MAGIC "fcap-verdict-1"
#define LINE_MAX_BYTES (4 * (FCAP_VERDICT_PATH_MAX + FCAP_VERDICT_NOTE_MAX + 160) + 256)

/* Free text as one field: bytes that are not printable ASCII, '%' and
 * space as %XX; empty as "-" (and '-' alone as %2D). */
static void encode(const char *s, char *out, size_t n)
{
	size_t o = 0;
	if (!*s) {
		snprintf(out, n, "-");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < n; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '%' || (*p == '-' && p == (const unsigned char *)s && !p[1]))
			o += (size_t)snprintf(out + o, n - o, "%%%02X", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool decode(const char *s, char *out, size_t n)
{
	size_t o = 0;
	if (!strcmp(s, "-")) {
		out[0] = 0;
		return true;
	}
	for (; *s; s++) {
		if (o + 1 >= n)
			return false;
		if (*s == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
			if (l < 0)
				return false;
			out[o++] = (char)(h * 16 + l);
			s += 2;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = 0;
	return true;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && errno == 0;
}

/* One line without its newline: fields, checksum. */
static bool parse_line(char *line, struct fcap_verdict *v, const char **why)
{
	char *sp = strrchr(line, ' ');
	if (!sp || strlen(sp + 1) != 8) {
		*why = "no checksum";
		return false;
	}
	unsigned long crc = strtoul(sp + 1, NULL, 16);
	if (FCAP_CHECKSUM_BAD((uint32_t)crc, fcap_crc32c(0, line, (size_t)(sp - line)))) {
		*why = "checksum mismatch";
		return false;
	}
	*sp = 0;
	char *f[10];
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 10; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	*why = "malformed fields";
	if (n != 9 || strcmp(f[0], MAGIC) || !parse_u64(f[1], &v->time_ns) || strlen(f[2]) >= sizeof(v->alert_id))
		return false;
	snprintf(v->alert_id, sizeof(v->alert_id), "%s", f[2]);
	if (strcmp(f[3], "fp") && strcmp(f[3], "tp"))
		return false;
	v->false_positive = !strcmp(f[3], "fp");
	if (!strcmp(f[4], "host"))
		v->scope = FCAP_SCOPE_HOST;
	else if (!strcmp(f[4], "flow"))
		v->scope = FCAP_SCOPE_FLOW;
	else if (!strcmp(f[4], "signature"))
		v->scope = FCAP_SCOPE_SIGNATURE;
	else
		return false;
	return decode(f[5], v->value, sizeof(v->value)) && parse_u64(f[6], &v->expires_ns) &&
	       decode(f[7], v->alerts_file, sizeof(v->alerts_file)) && decode(f[8], v->note, sizeof(v->note));
}

static int add_warning(struct fcap_verdicts *vs, const char *fmt, const char *path, size_t line, size_t off,
		       const char *why)
{
	void *w = realloc(vs->warn, (vs->nwarn + 1) * sizeof(*vs->warn));
	if (!w)
		return -1;
	vs->warn = w;
	snprintf(vs->warn[vs->nwarn++], FCAP_ERRBUF_SIZE, fmt, path, line, off, why);
	return 0;
}

static int build_rules(struct fcap_verdicts *vs)
{
	vs->rules = calloc(vs->n + 1, sizeof(*vs->rules));
	if (!vs->rules)
		return -1;
	for (size_t i = 0; i < vs->n; i++) {
		const struct fcap_verdict *v = &vs->v[i];
		if (!v->false_positive || fcap_verdicts_latest(vs, v->alert_id) != v)
			continue;
		struct fcap_suppress *r = &vs->rules[vs->nrules++];
		r->scope = v->scope;
		snprintf(r->value, sizeof(r->value), "%s", v->value);
		r->expires_ns = v->expires_ns;
		snprintf(r->alert_id, sizeof(r->alert_id), "%s", v->alert_id);
	}
	return 0;
}

int fcap_verdicts_load(struct fcap_verdicts *vs, const char *path, char *errbuf)
{
	memset(vs, 0, sizeof(*vs));
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? (build_rules(vs) < 0 ? fcap_err(errbuf, "out of memory") : 0)
				       : fcap_err(errbuf, "%s: %m", path);
	char *line = NULL;
	size_t cap = 0, lineno = 0, off = 0, capv = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		size_t at = off;
		off += (size_t)len;
		if (line[len - 1] != '\n') {
			if (add_warning(vs, "%s: line %zu (offset %zu): %s: ignored", path, lineno, at,
					"torn last line (a write that never completed)") < 0)
				rc = -1;
			break;
		}
		line[len - 1] = 0;
		struct fcap_verdict v;
		memset(&v, 0, sizeof(v));
		const char *why = NULL;
		if ((size_t)len > LINE_MAX_BYTES || memchr(line, 0, (size_t)len - 1) || !parse_line(line, &v, &why)) {
			if (add_warning(vs, "%s: line %zu (offset %zu): %s: skipped", path, lineno, at,
					why ? why : "too long or NUL bytes") < 0)
				rc = -1;
			continue;
		}
		if (vs->n == capv) {
			capv = capv ? capv * 2 : 16;
			void *p = realloc(vs->v, capv * sizeof(*vs->v));
			if (!p) {
				rc = -1;
				break;
			}
			vs->v = p;
		}
		vs->v[vs->n++] = v;
	}
	if (ferror(f))
		rc = fcap_err(errbuf, "%s: offset %zu: read error", path, off);
	else if (rc < 0)
		fcap_err(errbuf, "%s: out of memory", path);
	free(line);
	fclose(f);
	if (rc == 0 && build_rules(vs) < 0)
		rc = fcap_err(errbuf, "%s: out of memory", path);
	if (rc < 0)
		fcap_verdicts_free(vs);
	return rc;
}

void fcap_verdicts_free(struct fcap_verdicts *vs)
{
	free(vs->v);
	free(vs->rules);
	free(vs->warn);
	memset(vs, 0, sizeof(*vs));
}

const struct fcap_verdict *fcap_verdicts_latest(const struct fcap_verdicts *vs, const char *alert_id)
{
	for (size_t i = vs->n; i-- > 0;)
		if (!strcmp(vs->v[i].alert_id, alert_id))
			return &vs->v[i];
	return NULL;
}

/* Where the journal's sound part ends: after its last newline. */
static int sound_end(int fd, off_t size, off_t *end)
{
	char buf[4096];
	off_t pos = size;
	while (pos > 0) {
		size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
		if (pread(fd, buf, n, pos - (off_t)n) != (ssize_t)n)
			return -1;
		for (size_t i = n; i-- > 0;)
			if (buf[i] == '\n') {
				*end = pos - (off_t)n + (off_t)i + 1;
				return 0;
			}
		pos -= (off_t)n;
	}
	*end = 0;
	return 0;
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int fcap_verdict_append(const char *path, const struct fcap_verdict *v, char *warn, char *errbuf)
{
	static char line[LINE_MAX_BYTES];
	char value[4 * 160], file[4 * FCAP_VERDICT_PATH_MAX], note[4 * FCAP_VERDICT_NOTE_MAX];
	warn[0] = 0;
	encode(v->value, value, sizeof(value));
	encode(v->alerts_file, file, sizeof(file));
	encode(v->note, note, sizeof(note));
	int n = snprintf(line, sizeof(line), "%s %llu %s %s %s %s %llu %s %s", MAGIC, (unsigned long long)v->time_ns,
			 v->alert_id, v->false_positive ? "fp" : "tp", fcap_scope_name(v->scope), value,
			 (unsigned long long)v->expires_ns, file, note);
	if (n < 0 || (size_t)n + 11 > sizeof(line))
		return fcap_err(errbuf, "%s: verdict line too long", path);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %08x\n", fcap_crc32c(0, line, (size_t)n));

	struct stat st;
	bool created = stat(path, &st) < 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fcap_err(errbuf, "%s: %m", path);
	off_t end;
	int rc = 0;
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0 || sound_end(fd, st.st_size, &end) < 0)
		rc = fcap_err(errbuf, "%s: %m", path);
	if (rc == 0 && end < st.st_size) {
		snprintf(warn, FCAP_ERRBUF_SIZE, "%s: offset %lld: cut a torn last line of %lld bytes (never committed)",
			 path, (long long)end, (long long)(st.st_size - end));
		if (ftruncate(fd, end) < 0)
			rc = fcap_err(errbuf, "%s: truncating the torn line: %m", path);
	}
	if (rc == 0 && pwrite(fd, line, (size_t)n, end) != n)
		rc = fcap_err(errbuf, "%s: offset %lld: write failed: %m", path, (long long)end);
	if (rc == 0 && fsync(fd) < 0)
		rc = fcap_err(errbuf, "%s: fsync: %m", path);
	if (rc == 0 && created && fsync_dir(path) < 0)
		rc = fcap_err(errbuf, "%s: fsync of its directory: %m", path);
	close(fd);
	return rc;
}
