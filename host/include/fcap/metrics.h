/*
 * fcap/metrics.h - Prometheus exposition of a running capture.
 *
 * Two ways out, either or both: a file in node-exporter's textfile
 * collector directory (written to a temporary name and renamed, so the
 * collector never reads half a file), and an HTTP endpoint serving
 * GET /metrics (libmicrohttpd, its own thread). The text itself is made by
 * the caller (fcap_stages_prometheus); this only publishes it.
 */
#ifndef FCAP_METRICS_H
#define FCAP_METRICS_H

#include "fcap/errbuf.h"

struct fcap_metrics;

/*
 * dir: textfile collector directory, or NULL; the file is dir/fcap_NAME.prom.
 * listen: "PORT" or "ADDR:PORT" (IPv4) for the HTTP endpoint, or NULL.
 * name: what distinguishes this capture's file (the device, made safe).
 * Binds the socket now (so it can be done before dropping privileges).
 */
struct fcap_metrics *fcap_metrics_open(const char *dir, const char *listen, const char *name, char *errbuf);
/* Replaces what is served and rewrites the file. 0, or -1 with errbuf (the
 * endpoint keeps serving). */
int fcap_metrics_publish(struct fcap_metrics *m, const char *text, char *errbuf);
/* The HTTP port actually bound (listen "0" picks a free one), or 0. */
unsigned fcap_metrics_port(const struct fcap_metrics *m);
void fcap_metrics_close(struct fcap_metrics *m);

#endif
