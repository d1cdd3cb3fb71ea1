/* args.c - number parsing for the command line. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Binary multiple of a size suffix ("", "K", "KB", "KiB", ...), or -1. */
static int size_shift(const char *u)
{
	int shift;
	if (!*u)
		return 0;
	switch (toupper((unsigned char)*u)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	default: return -1;
	}
	u++;
	return (!*u || !strcasecmp(u, "B") || !strcasecmp(u, "iB")) ? shift : -1;
}

bool parse_size(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = size_shift(end);
	if (errno || shift < 0 || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_scaled(const char *s, const char *const units[], const double scale[], size_t nunits,
			 double def_scale, double *out)
{
	char *end;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !isfinite(v) || v < 0)
		return false;
	if (!*end) {
		*out = v * def_scale;
		return true;
	}
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i]) == 0) {
			*out = v * scale[i];
			return true;
		}
	}
	return false;
}

bool parse_rate(const char *s, uint64_t *out)
{
	static const char *const units[] = { "K", "M", "G", "Kbps", "Mbps", "Gbps", "Kb/s", "Mb/s", "Gb/s" };
	static const double scale[] = { 1e3, 1e6, 1e9, 1e3, 1e6, 1e9, 1e3, 1e6, 1e9 };
	double v;
	if (!parse_scaled(s, units, scale, sizeof(scale) / sizeof(scale[0]), 1.0, &v) || v < 1e6 || v > 1e12)
		return false;
	*out = (uint64_t)llround(v);
	return true;
}

bool parse_duration_ns(const char *s, uint64_t *out)
{
	static const char *const units[] = { "ns", "us", "ms", "s" };
	static const double scale[] = { 1.0, 1e3, 1e6, 1e9 };
	double v;
	if (!parse_scaled(s, units, scale, 4, 1e3, &v) || v > 1e13)
		return false;
	*out = (uint64_t)llround(v);
	return true;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fcap %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'fcap %s --help'.\n", cmd);
	return EXIT_USAGE;
}

bool parse_segment_size(const char *s, uint64_t *out)
{
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		uint64_t v;
		if (!parse_size(s, UINT64_MAX / 1000000u, &v) || v == 0)
			return false;
		*out = v * 1000000u;
		return true;
	}
	return parse_size(s, 1ull << 50, out) && *out >= 65536;
}

bool parse_seconds(const char *s, uint64_t *ns)
{
	static const char *const units[] = { "ns", "us", "ms", "s", "m", "min", "h", "d" };
	static const double scale[] = { 1.0, 1e3, 1e6, 1e9, 60e9, 60e9, 3600e9, 86400e9 };
	double v;
	if (!parse_scaled(s, units, scale, sizeof(scale) / sizeof(scale[0]), 1e9, &v) || v > 1e18)
		return false;
	*ns = (uint64_t)llround(v);
	return true;
}

bool parse_size_or_percent(const char *s, uint64_t *bytes, uint32_t *percent)
{
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '%') {
		char buf[16];
		if (n - 1 >= sizeof(buf))
			return false;
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		uint64_t v;
		if (!parse_size(buf, 100, &v) || v == 0)
			return false;
		*percent = (uint32_t)v;
		return true;
	}
	return parse_size(s, 1ull << 60, bytes) && *bytes > 0;
}

static bool parse_frac_ns(const char **p, uint64_t *ns)
{
	*ns = 0;
	if (**p != '.')
		return true;
	(*p)++;
	int digits = 0;
	while (isdigit((unsigned char)**p)) {
		if (digits == 9)
			return false;   /* finer than a nanosecond */
		*ns = *ns * 10 + (uint64_t)(**p - '0');
		digits++;
		(*p)++;
	}
	if (digits == 0)
		return false;
	for (; digits < 9; digits++)
		*ns *= 10;
	return true;
}

bool parse_time_ns(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t frac;
	if (strlen(s) >= 20 && s[4] == '-' && s[10] == 'T') {
		struct tm tm = { 0 };
		const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end)
			return false;
		p = end;
		if (!parse_frac_ns(&p, &frac) || strcmp(p, "Z"))
			return false;
		time_t t = timegm(&tm);
		if (t < 0)
			return false;
		*out = (uint64_t)t * 1000000000u + frac;
		return true;
	}
	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	char *end;
	unsigned long long sec = strtoull(p, &end, 10);
	if (errno || sec > 18000000000ull)
		return false;
	p = end;
	if (!parse_frac_ns(&p, &frac) || *p)
		return false;
	*out = (uint64_t)sec * 1000000000u + frac;
	return true;
}

uint64_t now_epoch_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
