/* cmd_store.c - `fcap store`: list, repair, pin and unpin a store's segments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fcap/store.h"

static void help(void)
{
	printf("usage: fcap store ls DIR\n"
	       "       fcap store check DIR\n"
	       "       fcap store repair DIR\n"
	       "       fcap store pin|unpin DIR SEGMENT\n"
	       "  ls       segments in time order: ring, first and last packet, packets,\n"
	       "           bytes, index state, frames lost by stage; totals\n"
	       "  check    reads every segment and index completely and reports any\n"
	       "           damage with its file and offset (changes nothing)\n"
	       "  repair   what a recorder does at start: recovers hidden segments, removes\n"
	       "           orphans, rebuilds missing, corrupt or stale indexes\n"
	       "  pin      retention keeps SEGMENT (e.g. one an alert points at); unpin\n"
	       "           lets it go again\n\n"
	       "exit status: 0 success, 1 failure (or, for ls, a damaged index), 2 bad command line\n");
}

static void log_line(void *ctx, const char *line)
{
	fprintf(stderr, "fcap store %s: %s\n", (const char *)ctx, line);
}

static const char *index_word(enum fcap_index_state s)
{
	return s == FCAP_INDEX_OK ? "ok" : s == FCAP_INDEX_MISSING ? "missing" : "BAD";
}

static int ls(const char *dir)
{
	struct fcap_segment *segs;
	size_t n;
	unsigned hidden;
	char err[FCAP_ERRBUF_SIZE];
	if (fcap_store_list(dir, &segs, &n, &hidden, err) < 0) {
		fprintf(stderr, "fcap store ls: %s\n", err);
		return EXIT_RUNTIME;
	}
	printf("%-36s %4s %-30s %-30s %10s %12s %7s %10s %9s %9s %9s %3s\n", "segment", "ring", "first packet",
	       "last packet", "packets", "bytes", "index", "card drop", "backlog", "corrupt", "disk", "pin");
	uint64_t pk = 0, by = 0, cd = 0, bl = 0, co = 0, dk = 0, first = UINT64_MAX, last = 0;
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fcap_segment *s = &segs[i];
		const struct fcap_seg_stats *st = &s->stats;
		char f[40] = "?", l[40] = "?";
		if (s->index == FCAP_INDEX_OK && st->records) {
			fcap_format_time(st->first_ts, f, sizeof(f));
			fcap_format_time(st->last_ts, l, sizeof(l));
			if (st->first_ts < first)
				first = st->first_ts;
			if (st->last_ts > last)
				last = st->last_ts;
		}
		printf("%-36s %4u %-30s %-30s %10llu %12llu %7s %10llu %9llu %9llu %9llu %3s\n", s->name, s->ring, f, l,
		       (unsigned long long)st->records, (unsigned long long)(s->seg_bytes + s->idx_bytes),
		       index_word(s->index), (unsigned long long)st->card_drops, (unsigned long long)st->backlog_drops,
		       (unsigned long long)st->corrupt_lost, (unsigned long long)st->disk_lost, s->pinned ? "yes" : "");
		if (s->index == FCAP_INDEX_BAD) {
			fprintf(stderr, "fcap store ls: %s\n", s->index_error);
			bad++;
		}
		pk += st->records;
		by += s->seg_bytes + s->idx_bytes;
		cd += st->card_drops;
		bl += st->backlog_drops;
		co += st->corrupt_lost;
		dk += st->disk_lost;
	}
	char f[40] = "-", l[40] = "-";
	if (first != UINT64_MAX) {
		fcap_format_time(first, f, sizeof(f));
		fcap_format_time(last, l, sizeof(l));
	}
	printf("total: %zu segments, %s .. %s, %llu packets, %llu bytes; lost: card %llu (disk backlog %llu), "
	       "host corrupt %llu, disk %llu\n", n, f, l, (unsigned long long)pk, (unsigned long long)by,
	       (unsigned long long)cd, (unsigned long long)bl, (unsigned long long)co, (unsigned long long)dk);
	if (hidden)
		printf("hidden: %u segments being written (or left by a crash: fcap store repair)\n", hidden);
	free(segs);
	return bad ? EXIT_RUNTIME : EXIT_OK;
}

static int repair(const char *dir)
{
	char err[FCAP_ERRBUF_SIZE];
	int lock = fcap_store_lock(dir, err);
	if (lock < 0) {
		fprintf(stderr, "fcap store repair: %s\n", err);
		return EXIT_RUNTIME;
	}
	struct fcap_recovery rep;
	int rc = fcap_store_recover(dir, log_line, "repair", &rep, err);
	close(lock);
	if (rc < 0) {
		fprintf(stderr, "fcap store repair: %s\n", err);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "fcap store repair: %u recovered, %u removed, %u indexes rebuilt, %u orphans removed, "
			"%u damaged, %llu bytes of partial blocks cut\n", rep.recovered, rep.removed, rep.rebuilt,
		rep.orphans, rep.damaged, (unsigned long long)rep.cut_bytes);
	return rep.damaged ? EXIT_RUNTIME : EXIT_OK;
}

static int check(const char *dir)
{
	char err[FCAP_ERRBUF_SIZE];
	unsigned problems;
	if (fcap_store_check(dir, log_line, "check", &problems, err) < 0) {
		fprintf(stderr, "fcap store check: %s\n", err);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "fcap store check: %s: %u problem%s\n", dir, problems, problems == 1 ? "" : "s");
	return problems ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_store(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		help();
		return EXIT_OK;
	}
	if (argc == 3 && !strcmp(argv[1], "ls"))
		return ls(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "repair"))
		return repair(argv[2]);
	if (argc == 4 && (!strcmp(argv[1], "pin") || !strcmp(argv[1], "unpin"))) {
		char err[FCAP_ERRBUF_SIZE];
		if (fcap_store_pin(argv[2], argv[3], !strcmp(argv[1], "pin"), err) < 0) {
			fprintf(stderr, "fcap store %s: %s\n", argv[1], err);
			return EXIT_RUNTIME;
		}
		return EXIT_OK;
	}
	return usage_error("store", "expected: ls DIR, check DIR, repair DIR, pin DIR SEGMENT or unpin DIR SEGMENT");
}
