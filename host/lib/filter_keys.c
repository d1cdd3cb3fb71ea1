/*
 * filter_keys.c - index terms implied by a tcpdump filter (fcap/extract.h).
 *
 * Only a narrowing: the filter itself, compiled by libpcap, decides every
 * candidate. So a term is taken only where it is certain that every packet
 * the filter matches carries one of the term's keys: a top-level conjunct
 * that is exactly a numeric `host` or `port` primitive (fcap/pktkeys.h
 * reads those fields at libpcap's offsets). Filters that move the offsets
 * of what follows (mpls, pppoes, geneve...) give no term at all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/extract.h"
#include "fcap/pktkeys.h"

#define MAX_TOKENS 64
#define TOKEN_LEN 64

struct tokens {
	char t[MAX_TOKENS][TOKEN_LEN];
	unsigned n;
};

/* Splits on blanks and around parentheses; false when too long. */
static bool tokenize(const char *s, struct tokens *tk)
{
	tk->n = 0;
	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (tk->n == MAX_TOKENS)
			return false;
		char *out = tk->t[tk->n++];
		size_t k = 0;
		if (*s == '(' || *s == ')') {
			out[k++] = *s++;
		} else {
			while (*s && !isspace((unsigned char)*s) && *s != '(' && *s != ')') {
				if (k == TOKEN_LEN - 1)
					return false;
				out[k++] = *s++;
			}
		}
		out[k] = '\0';
	}
	return true;
}

static bool is(const char *tok, const char *word)
{
	return strcmp(tok, word) == 0;
}

static bool moves_offsets(const char *tok)
{
	static const char *const words[] = { "mpls", "pppoes", "pppoed", "geneve", "vxlan", "llc", "atm", "lane" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (is(tok, words[i]))
			return true;
	return false;
}

static bool parse_port(const char *s, uint16_t *port)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
		return false;
	long v = strtol(s, NULL, 10);
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* One conjunct, tokens t[0..n). */
static bool term(char (*t)[TOKEN_LEN], unsigned n, struct fcap_key_term *kt)
{
	unsigned i = 0;
	uint8_t proto = 0;
	bool host_family_given = false;
	if (i < n && (is(t[i], "ip") || is(t[i], "ip6") || is(t[i], "arp") || is(t[i], "rarp")))
		host_family_given = true, i++;
	else if (i < n && (is(t[i], "tcp") || is(t[i], "udp") || is(t[i], "sctp")))
		proto = is(t[i], "tcp") ? 6 : is(t[i], "udp") ? 17 : 132, i++;
	bool dir = false;
	if (i < n && (is(t[i], "src") || is(t[i], "dst")))
		dir = true, i++;
	if (i + 2 == n && is(t[i], "port") && !host_family_given) {
		uint16_t port;
		if (!parse_port(t[i + 1], &port))
			return false;
		kt->nkeys = 0;
		static const uint8_t all[] = { 6, 17, 132 };
		for (unsigned k = 0; k < 3; k++)
			if (!proto || proto == all[k])
				kt->key[kt->nkeys++] = FCAP_KEY(FCAP_KEY_PORT, (uint32_t)all[k] << 16 | port);
		return true;
	}
	if (proto)
		return false;
	if (i < n && is(t[i], "host"))
		i++;
	else if (!dir && !host_family_given && n != 1)
		return false;
	if (i + 1 != n)
		return false;
	uint8_t a[16];
	if (inet_pton(AF_INET, t[i], a) == 1)
		kt->key[0] = fcap_key_host(4, a);
	else if (inet_pton(AF_INET6, t[i], a) == 1)
		kt->key[0] = fcap_key_host(6, a);
	else
		return false;
	kt->nkeys = 1;
	return true;
}

unsigned fcap_filter_terms(const char *filter, struct fcap_key_term *terms, unsigned max)
{
	struct tokens tk;
	if (!filter || !tokenize(filter, &tk))
		return 0;
	int depth = 0;
	for (unsigned i = 0; i < tk.n; i++) {
		if (moves_offsets(tk.t[i]))
			return 0;
		if (is(tk.t[i], "("))
			depth++;
		else if (is(tk.t[i], ")"))
			depth--;
		else if (depth == 0 && (is(tk.t[i], "or") || is(tk.t[i], "||")))
			return 0;   /* and/or share one precedence in pcap: no safe split */
		if (depth < 0)
			return 0;
	}
	unsigned nterms = 0, start = 0;
	depth = 0;
	for (unsigned i = 0; i <= tk.n; i++) {
		bool end = i == tk.n;
		if (!end) {
			if (is(tk.t[i], "("))
				depth++;
			else if (is(tk.t[i], ")"))
				depth--;
		}
		if (end || (depth == 0 && (is(tk.t[i], "and") || is(tk.t[i], "&&")))) {
			if (i > start && nterms < max && term(tk.t + start, i - start, &terms[nterms]))
				nterms++;
			start = i + 1;
		}
	}
	return nterms;
}
