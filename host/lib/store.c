/*
 * store.c - the store directory: names, listing, pins, the lock and the
 * retention rule (fcap/store.h, docs/STORE.md).
 */
#define _GNU_SOURCE
#include "fcap/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void fcap_format_time(uint64_t ns, char *buf, size_t n)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000u));
}

void fcap_seg_name(uint64_t start_ns, uint32_t ring, unsigned dup, char name[FCAP_SEG_NAME_MAX])
{
	time_t s = (time_t)(start_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	int k = snprintf(name, FCAP_SEG_NAME_MAX, "%04d%02d%02dT%02d%02d%02d.%09uZ-r%u", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(start_ns % 1000000000u), ring);
	if (dup && k > 0 && k < FCAP_SEG_NAME_MAX)
		snprintf(name + k, (size_t)(FCAP_SEG_NAME_MAX - k), "-%u", dup);
}

static bool digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

bool fcap_seg_parse_name(const char *name, uint64_t *start_ns, uint32_t *ring)
{
	/* YYYYmmddTHHMMSS.nnnnnnnnnZ-rN[-D] */
	unsigned y, mo, d, h, mi, se, ns, r = 0;
	if (strlen(name) < 28 || !digits(name, 4, &y) || !digits(name + 4, 2, &mo) || !digits(name + 6, 2, &d) ||
	    name[8] != 'T' || !digits(name + 9, 2, &h) || !digits(name + 11, 2, &mi) || !digits(name + 13, 2, &se) ||
	    name[15] != '.' || !digits(name + 16, 9, &ns) || strncmp(name + 25, "Z-r", 3))
		return false;
	const char *p = name + 28;
	int nd = 0;
	while (p[nd] >= '0' && p[nd] <= '9' && nd < 6)
		nd++;
	if (nd == 0 || !digits(p, nd, &r) || r > 65535)
		return false;
	p += nd;
	if (*p == '-') {
		unsigned dup;
		int k = (int)strlen(p + 1);
		if (k < 1 || k > 6 || !digits(p + 1, k, &dup))
			return false;
	} else if (*p) {
		return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d, .tm_hour = (int)h,
			 .tm_min = (int)mi, .tm_sec = (int)se };
	time_t t = timegm(&tm);
	if (t < 0)
		return false;
	*start_ns = (uint64_t)t * 1000000000u + ns;
	*ring = r;
	return true;
}

void fcap_store_path(char *buf, size_t n, const char *dir, const char *name, const char *ext, bool hidden)
{
	snprintf(buf, n, "%s/%s%s.%s", dir, hidden ? "." : "", name, ext);
}

/* "NAME.ext" with a segment NAME: copies NAME, returns true. */
static bool split_name(const char *file, const char *ext, char name[FCAP_SEG_NAME_MAX])
{
	size_t n = strlen(file), e = strlen(ext);
	if (n <= e + 1 || n - e - 1 >= FCAP_SEG_NAME_MAX || file[n - e - 1] != '.' || strcmp(file + n - e, ext))
		return false;
	memcpy(name, file, n - e - 1);
	name[n - e - 1] = '\0';
	uint64_t t;
	uint32_t r;
	return fcap_seg_parse_name(name, &t, &r);
}

static bool exists(const char *path, uint64_t *size)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return false;
	if (size)
		*size = (uint64_t)sb.st_size;
	return true;
}

static int cmp_segment(const void *a, const void *b)
{
	const struct fcap_segment *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->ring != y->ring)
		return x->ring < y->ring ? -1 : 1;
	return strcmp(x->name, y->name);
}

int fcap_store_list(const char *dir, struct fcap_segment **segs, size_t *n, unsigned *hidden, char *errbuf)
{
	*segs = NULL;
	*n = 0;
	if (hidden)
		*hidden = 0;
	DIR *d = opendir(dir);
	if (!d)
		return fcap_err(errbuf, "%s: %s", dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		char name[FCAP_SEG_NAME_MAX];
		if (e->d_name[0] == '.') {
			if (hidden && (split_name(e->d_name + 1, "pcapng", name)))
				(*hidden)++;
			continue;
		}
		if (!split_name(e->d_name, "pcapng", name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			struct fcap_segment *s = realloc(*segs, cap * sizeof(*s));
			if (!s) {
				rc = fcap_err(errbuf, "%s: out of memory listing segments", dir);
				break;
			}
			*segs = s;
		}
		struct fcap_segment *s = &(*segs)[(*n)++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
		fcap_seg_parse_name(name, &s->start_ns, &s->ring);
		char path[FCAP_STORE_PATH_MAX];
		fcap_store_path(path, sizeof(path), dir, name, "pcapng", false);
		exists(path, &s->seg_bytes);
		fcap_store_path(path, sizeof(path), dir, name, "pin", false);
		s->pinned = exists(path, NULL);
		fcap_store_path(path, sizeof(path), dir, name, "idx", false);
		if (!exists(path, &s->idx_bytes)) {
			s->index = FCAP_INDEX_MISSING;
			continue;
		}
		struct fcap_index ix;
		if (fcap_index_open(&ix, path, s->seg_bytes, s->index_error) < 0) {
			s->index = FCAP_INDEX_BAD;
			continue;
		}
		s->index = FCAP_INDEX_OK;
		s->stats = ix.stats;
		fcap_index_close(&ix);
	}
	closedir(d);
	if (rc == 0 && *n)
		qsort(*segs, *n, sizeof(**segs), cmp_segment);
	if (rc < 0) {
		free(*segs);
		*segs = NULL;
		*n = 0;
	}
	return rc;
}

int fcap_store_pin(const char *dir, const char *name, bool pin, char *errbuf)
{
	char path[FCAP_STORE_PATH_MAX];
	uint64_t t;
	uint32_t r;
	if (!fcap_seg_parse_name(name, &t, &r))
		return fcap_err(errbuf, "'%s' is not a segment name (YYYYmmddTHHMMSS.nnnnnnnnnZ-rN)", name);
	fcap_store_path(path, sizeof(path), dir, name, "pcapng", false);
	if (pin && !exists(path, NULL))
		return fcap_err(errbuf, "%s: no such segment", path);
	fcap_store_path(path, sizeof(path), dir, name, "pin", false);
	if (pin) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return fcap_err(errbuf, "%s: %s", path, strerror(errno));
		fsync(fd);
		close(fd);
	} else if (unlink(path) < 0 && errno != ENOENT) {
		return fcap_err(errbuf, "%s: %s", path, strerror(errno));
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int fcap_store_lock(const char *dir, char *errbuf)
{
	char path[FCAP_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fcap_err(errbuf, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return fcap_err(errbuf, "%s: another fcap is recording into or repairing this store", dir);
		return fcap_err(errbuf, "%s: lock: %s", path, strerror(e));
	}
	return fd;
}

size_t fcap_retention_pick(const struct fcap_retention *ret, const struct fcap_retention_item *items, size_t n,
			   uint64_t busy_bytes, uint32_t busy_files, uint64_t fs_bytes, uint64_t now_ns, size_t *del)
{
	uint64_t max_bytes = ret->max_bytes;
	if (ret->max_percent && fs_bytes) {
		uint64_t pct = (uint64_t)((unsigned __int128)fs_bytes * ret->max_percent / 100u);
		if (!max_bytes || pct < max_bytes)
			max_bytes = pct;
	}
	uint64_t bytes = busy_bytes;
	uint64_t files = busy_files;
	for (size_t i = 0; i < n; i++) {
		bytes += items[i].bytes;
		files++;
	}
	size_t ndel = 0;
	for (size_t i = 0; i < n; i++) {
		bool too_old = ret->max_age_ns && now_ns > ret->max_age_ns && items[i].last_ts < now_ns - ret->max_age_ns;
		bool too_big = max_bytes && bytes > max_bytes;
		bool too_many = ret->max_files && files > ret->max_files;
		if (!too_old && !too_big && !too_many) {
			/* Segments are in time order, but a later one may still be
			 * older by its last packet (rings overlap): keep looking for
			 * age only. */
			if (!ret->max_age_ns)
				break;
			continue;
		}
		if (items[i].pinned)
			continue;
		del[ndel++] = i;
		bytes -= items[i].bytes;
		files--;
	}
	return ndel;
}
