/* labels.c - packet label files (fcap/labels.h). */
#include "fcap/labels.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rule_kind { R_PACKETS, R_TIME };

struct rule {
	enum rule_kind kind;
	uint64_t lo, hi;          /* packet numbers inclusive, or ns [lo, hi) */
	bool any_host;
	bool mac;                 /* host is a MAC address: match the Ethernet addresses */
	uint8_t host[16];
	unsigned label;
};

struct fcap_labels {
	unsigned deflt;
	struct rule *rules;
	size_t n;
	char *kinds[FCAP_LABELS_MAX_KINDS];
	unsigned nkinds;           /* kinds[0] = "benign" */
};

struct fcap_labels *fcap_labels_all_benign(void)
{
	struct fcap_labels *l = calloc(1, sizeof(*l));
	if (l) {
		l->kinds[0] = strdup("benign");
		l->nkinds = 1;
		if (!l->kinds[0]) {
			free(l);
			return NULL;
		}
	}
	return l;
}

void fcap_labels_free(struct fcap_labels *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < l->nkinds; i++)
		free(l->kinds[i]);
	free(l->rules);
	free(l);
}

/* "benign", "attack", "attack:NAME" -> kind; -1 if malformed. */
static int parse_label(struct fcap_labels *l, const char *s)
{
	if (!strcmp(s, "benign"))
		return 0;
	if (strncmp(s, "attack", 6) != 0 || (s[6] && s[6] != ':'))
		return -1;
	const char *name = s[6] ? s + 7 : "attack";
	if (!*name)
		return -1;
	for (unsigned i = 1; i < l->nkinds; i++)
		if (!strcmp(l->kinds[i], name))
			return (int)i;
	if (l->nkinds >= FCAP_LABELS_MAX_KINDS)
		return -1;
	l->kinds[l->nkinds] = strdup(name);
	return l->kinds[l->nkinds] ? (int)l->nkinds++ : -1;
}

/* Seconds with up to 9 decimals, exactly, to ns. */
static bool parse_time_ns(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long sec = strtoull(s, &end, 10);
	if (errno || sec > 18000000000ull)
		return false;
	uint64_t ns = 0, scale = 100000000;
	if (*end == '.') {
		for (end++; isdigit((unsigned char)*end); end++) {
			ns += (uint64_t)(*end - '0') * scale;
			scale /= 10;
		}
	}
	if (*end)
		return false;
	*out = sec * 1000000000ull + ns;
	return true;
}

static bool parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	*lo = strtoull(s, &end, 10);
	*hi = *lo;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return false;
		*hi = strtoull(end + 1, &end, 10);
	}
	return !*end && *lo >= 1 && *lo <= *hi;
}

static bool parse_host(const char *s, uint8_t *a, bool *mac)
{
	unsigned m[6];
	char tail;
	memset(a, 0, 16);
	*mac = sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) == 6;
	if (*mac) {
		for (int i = 0; i < 6; i++)
			a[i] = (uint8_t)m[i];
		return true;
	}
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static int parse_line(struct fcap_labels *l, char *line, struct rule *r, char *why, size_t n)
{
	char *tok[6];
	int nt = 0;
	for (char *t = strtok(line, " \t\r\n"); t && nt < 6; t = strtok(NULL, " \t\r\n"))
		tok[nt++] = t;
	if (nt == 0 || tok[0][0] == '#')
		return 0;
	int lab = parse_label(l, tok[nt - 1]);
	if (lab < 0)
		return snprintf(why, n, "label '%s' is not benign, attack or attack:NAME", tok[nt - 1]), -1;
	if (!strcmp(tok[0], "default") && nt == 2) {
		l->deflt = (unsigned)lab;
		return 0;
	}
	*r = (struct rule){ .label = (unsigned)lab, .any_host = true };
	if (!strcmp(tok[0], "packets") && nt == 3) {
		r->kind = R_PACKETS;
		if (!parse_range(tok[1], &r->lo, &r->hi))
			return snprintf(why, n, "packet range '%s' is not N or N-M (1-based)", tok[1]), -1;
		return 1;
	}
	if (!strcmp(tok[0], "time") && (nt == 4 || nt == 5)) {
		r->kind = R_TIME;
		if (!parse_time_ns(tok[1], &r->lo) || !parse_time_ns(tok[2], &r->hi) || r->lo >= r->hi)
			return snprintf(why, n, "time range '%s %s' is not START END seconds with START < END", tok[1],
					tok[2]), -1;
		if (nt == 5) {
			r->any_host = false;
			if (!parse_host(tok[3], r->host, &r->mac))
				return snprintf(why, n, "'%s' is not an IPv4, IPv6 or MAC address", tok[3]), -1;
		}
		return 1;
	}
	return snprintf(why, n, "expected 'default LABEL', 'packets N[-M] LABEL' or 'time START END [HOST] LABEL'"), -1;
}

/* Adds the rules of one line; -1 with errbuf set on a bad line. */
static int add_line(struct fcap_labels *l, char *line, const char *name, unsigned lineno, char *errbuf)
{
	struct rule r;
	char why[256];
	int rc = parse_line(l, line, &r, why, sizeof(why));
	if (rc < 0)
		return fcap_err(errbuf, "%s: line %u: %s", name, lineno, why);
	if (rc > 0) {
		struct rule *nr = realloc(l->rules, (l->n + 1) * sizeof(*nr));
		if (!nr)
			return fcap_err(errbuf, "%s: out of memory", name);
		l->rules = nr;
		l->rules[l->n++] = r;
	}
	return 0;
}

struct fcap_labels *fcap_labels_load(const char *path, char *errbuf)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fcap_err(errbuf, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct fcap_labels *l = fcap_labels_all_benign();
	char line[1024];
	unsigned lineno = 0;
	if (!l)
		fcap_err(errbuf, "%s: out of memory", path);
	while (l && fgets(line, sizeof(line), f)) {
		if (add_line(l, line, path, ++lineno, errbuf) < 0) {
			fcap_labels_free(l);
			l = NULL;
		}
	}
	fclose(f);
	return l;
}

struct fcap_labels *fcap_labels_from_text(const char *text, const char *name, char *errbuf)
{
	struct fcap_labels *l = fcap_labels_all_benign();
	char *copy = strdup(text), *save = NULL;
	unsigned lineno = 0;
	if (!l || !copy) {
		fcap_labels_free(l);
		free(copy);
		fcap_err(errbuf, "%s: out of memory", name);
		return NULL;
	}
	for (char *line = strtok_r(copy, "\n", &save); line && l; line = strtok_r(NULL, "\n", &save)) {
		if (add_line(l, line, name, ++lineno, errbuf) < 0) {
			fcap_labels_free(l);
			l = NULL;
		}
	}
	free(copy);
	return l;
}

unsigned fcap_labels_get(const struct fcap_labels *l, uint64_t number, uint64_t ts, const struct fcap_pkt_info *pi)
{
	unsigned lab = l->deflt;
	for (size_t i = 0; i < l->n; i++) {
		const struct rule *r = &l->rules[i];
		bool hit;
		if (r->kind == R_PACKETS)
			hit = number >= r->lo && number <= r->hi;
		else
			hit = ts >= r->lo && ts < r->hi &&
			      (r->any_host ||
			       (r->mac ? !memcmp(pi->src_mac, r->host, 6) || !memcmp(pi->dst_mac, r->host, 6)
				       : !memcmp(pi->src_ip, r->host, 16) || !memcmp(pi->dst_ip, r->host, 16)));
		if (hit)
			lab = r->label;
	}
	return lab;
}

const char *fcap_labels_kind(const struct fcap_labels *l, unsigned k)
{
	return k < l->nkinds ? l->kinds[k] : "?";
}

unsigned fcap_labels_kinds(const struct fcap_labels *l)
{
	return l->nkinds;
}
