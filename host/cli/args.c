/* args.c - number parsing for the command line. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
