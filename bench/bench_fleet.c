/*
 * bench_fleet.c - a sensor's publishing to the fleet (host/lib/fleet.c),
 * through the public interface only (fcap/fleet.h), so that the same
 * program measures any version of the spool and the sender.
 *
 * Every message is a flow record as the capture makes it (about 300 bytes,
 * each one different). Four cases, each with its own spool and sensor id:
 *   spool        fcap_fleet_put as `fcap fleet publish` calls it (the put
 *                writes the message itself), no cluster (nothing listens):
 *                messages spooled per second
 *   spool_wb     the same with write_behind (as `fcap capture` opens it):
 *                the puts, then fcap_fleet_stop, which returns when the
 *                writer has written every message
 *   send         the spool of the first case sent to the cluster by a new
 *                publisher: from the open to the drained spool, messages
 *                acknowledged per second
 *   end_to_end   write_behind with the cluster from the start (as a
 *                capture): every message put at once, then until drained
 * Prints KEY=VALUE lines (bench/fleet.sh makes the table). The sensor ids
 * are PREFIX1..3, PREFIX from $BENCH_FLEET_SENSOR (default "bench"): two
 * runs on one cluster need two (ids start at 1 in a new spool, and the
 * stream would drop the second run's messages as duplicates).
 *
 * usage: bench_fleet SERVERS OUTDIR [MESSAGES]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "fcap/fleet.h"

#define NOWHERE "nats://127.0.0.1:1"   /* nothing listens: the spool alone */
#define DRAIN_MS 600000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One flow record, like the capture's (docs/FLEET.md), numbered i. */
static int flow_record(char *buf, size_t n, long i)
{
	return snprintf(buf, n,
			"{\"event_type\":\"flow\",\"sensor\":\"bench\",\"ingress\":0,\"ip_version\":4,\"proto\":6,"
			"\"src_ip\":\"10.%ld.%ld.%ld\",\"src_port\":%ld,\"dest_ip\":\"10.77.0.2\",\"dest_port\":443,"
			"\"packets\":%ld,\"bytes\":%ld,\"start_ns\":1796008676658120000,\"end_ns\":1796008676%09ld,"
			"\"end_reason\":1,\"end\":\"idle\"}",
			(i >> 16) & 255, (i >> 8) & 255, i & 255, 1024 + i % 60000, 1 + i % 97, 60 + i % 1400,
			i % 1000000000);
}

static struct fcap_fleet *open_spool(const char *servers, const char *out, const char *sensor, bool wb)
{
	char dir[4096], err[FCAP_ERRBUF_SIZE] = "";
	snprintf(dir, sizeof(dir), "%s/spool-%s", out, sensor);
	struct fcap_fleet_config cfg = { .servers = servers, .sensor = sensor, .spool_dir = dir,
					 .spool_max_bytes = 1ull << 30, .write_behind = wb };
	struct fcap_fleet *f = fcap_fleet_open(&cfg, err);
	if (!f) {
		fprintf(stderr, "bench_fleet: %s\n", err);
		exit(1);
	}
	return f;
}

/* Puts n records; the seconds it took. */
static double put_all(struct fcap_fleet *f, long n)
{
	char rec[512], err[FCAP_ERRBUF_SIZE];
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		int len = flow_record(rec, sizeof(rec), i);
		if (fcap_fleet_put(f, "flow", rec, (size_t)len, err) != 0) {
			fprintf(stderr, "bench_fleet: put %ld: %s\n", i, err[0] ? err : "spool full");
			exit(1);
		}
	}
	return now_s() - t0;
}

static void report(const char *name, long n, double put_s, double all_s, struct fcap_fleet_stats *st)
{
	printf("%s_messages=%ld\n%s_put_s=%.3f\n%s_put_per_s=%.0f\n%s_s=%.3f\n%s_per_s=%.0f\n", name, n, name, put_s,
	       name, put_s > 0 ? (double)n / put_s : 0, name, all_s, name, all_s > 0 ? (double)n / all_s : 0);
	if (st)
		printf("%s_acked=%" PRIu64 "\n%s_duplicates=%" PRIu64 "\n%s_failed=%" PRIu64 "\n%s_left=%" PRIu64
		       "\n%s_corrupt=%" PRIu64 "\n",
		       name, st->acked, name, st->duplicates, name, st->publish_errors, name, st->spooled, name,
		       st->corrupt);
	fflush(stdout);
}

/* Puts n with no cluster, then stops (the writer done): spooled per second. */
static void bench_spool(const char *out, const char *name, const char *sensor, bool wb, long n)
{
	struct fcap_fleet *f = open_spool(NOWHERE, out, sensor, wb);
	double t0 = now_s();
	double put_s = put_all(f, n);
	fcap_fleet_stop(f);
	double all_s = now_s() - t0;
	fcap_fleet_close(f);
	report(name, n, put_s, all_s, NULL);
}

/* Drains f (timed from t0), closes it and reports the case. */
static int drain_and_report(struct fcap_fleet *f, const char *name, long n, double t0, double put_s)
{
	int rc = fcap_fleet_drain(f, DRAIN_MS);
	double all_s = now_s() - t0;
	struct fcap_fleet_stats st;
	fcap_fleet_stop(f);
	fcap_fleet_stats(f, &st);
	fcap_fleet_close(f);
	report(name, n, put_s, all_s, &st);
	return rc;
}

/* A new publisher on the spool sensor's earlier run left: until drained. */
static int bench_send(const char *servers, const char *out, const char *sensor, long n)
{
	double t0 = now_s();
	struct fcap_fleet *f = open_spool(servers, out, sensor, false);
	return drain_and_report(f, "send", n, t0, 0);
}

static int bench_end_to_end(const char *servers, const char *out, const char *sensor, long n)
{
	struct fcap_fleet *f = open_spool(servers, out, sensor, true);
	double t0 = now_s();
	double put_s = put_all(f, n);
	return drain_and_report(f, "end_to_end", n, t0, put_s);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: bench_fleet SERVERS OUTDIR [MESSAGES]\n");
		return 2;
	}
	const char *servers = argv[1], *out = argv[2];
	long n = argc > 3 ? atol(argv[3]) : 20000;
	if (n <= 0) {
		fprintf(stderr, "bench_fleet: MESSAGES '%s': want a positive count\n", argv[3]);
		return 2;
	}
	const char *prefix = getenv("BENCH_FLEET_SENSOR") ? getenv("BENCH_FLEET_SENSOR") : "bench";
	char s1[FCAP_FLEET_SENSOR_MAX + 1], s2[FCAP_FLEET_SENSOR_MAX + 1], s3[FCAP_FLEET_SENSOR_MAX + 1];
	snprintf(s1, sizeof(s1), "%.30s1", prefix);
	snprintf(s2, sizeof(s2), "%.30s2", prefix);
	snprintf(s3, sizeof(s3), "%.30s3", prefix);
	bench_spool(out, "spool", s1, false, n);
	bench_spool(out, "spool_wb", s2, true, n);
	int rc = bench_send(servers, out, s1, n);
	rc |= bench_end_to_end(servers, out, s3, n);
	nats_CloseAndWait(2000);
	if (rc)
		fprintf(stderr, "bench_fleet: a spool did not drain within %d s\n", DRAIN_MS / 1000);
	return rc ? 1 : 0;
}
