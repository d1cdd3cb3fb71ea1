/*
 * metrics.c - Prometheus exposition through a textfile and HTTP (fcap/metrics.h).
 */
#define _GNU_SOURCE
#include "fcap/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct fcap_metrics {
	char *dir;
	char path[4096], tmp[4096];
	struct MHD_Daemon *httpd;
	unsigned port;
	pthread_mutex_t lock;
	char *text;     /* what GET /metrics returns */
};

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			     const char *version, const char *upload, size_t *upload_len, void **state)
{
	(void)version, (void)upload, (void)upload_len, (void)state;
	struct fcap_metrics *m = cls;
	const char *body;
	unsigned status;
	char *copy = NULL;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		body = "only GET\n";
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		body = "fcap serves /metrics\n";
		status = MHD_HTTP_NOT_FOUND;
	} else {
		pthread_mutex_lock(&m->lock);
		copy = strdup(m->text ? m->text : "");
		pthread_mutex_unlock(&m->lock);
		if (!copy)
			return MHD_NO;
		body = copy;
		status = MHD_HTTP_OK;
	}
	struct MHD_Response *r = copy ? MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE)
				      : MHD_create_response_from_buffer(strlen(body), (void *)body,
									MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain");
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* "PORT" or "ADDR:PORT". */
static int parse_listen(const char *listen, struct sockaddr_in *sa, char *errbuf)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_ANY);
	const char *colon = strrchr(listen, ':');
	const char *port = colon ? colon + 1 : listen;
	if (colon) {
		char addr[64];
		size_t n = (size_t)(colon - listen);
		if (n == 0 || n >= sizeof(addr))
			return fcap_err(errbuf, "metrics address '%s': expected PORT or ADDR:PORT", listen);
		memcpy(addr, listen, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
			return fcap_err(errbuf, "metrics address '%s': '%s' is not an IPv4 address", listen, addr);
	}
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || p > 65535)
		return fcap_err(errbuf, "metrics address '%s': port '%s' is not 0..65535", listen, port);
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

struct fcap_metrics *fcap_metrics_open(const char *dir, const char *listen, const char *name, char *errbuf)
{
	struct fcap_metrics *m = calloc(1, sizeof(*m));
	if (!m) {
		fcap_err(errbuf, "metrics: out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	if (dir) {
		char safe[128];
		size_t i;
		for (i = 0; name[i] && i + 1 < sizeof(safe); i++) {
			char c = name[i];
			safe[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
		}
		safe[i] = '\0';
		if ((size_t)snprintf(m->path, sizeof(m->path), "%s/fcap_%s.prom", dir, safe) >= sizeof(m->path) ||
		    (size_t)snprintf(m->tmp, sizeof(m->tmp), "%s/.fcap_%s.prom.tmp", dir, safe) >= sizeof(m->tmp)) {
			fcap_err(errbuf, "metrics directory '%s': path too long", dir);
			fcap_metrics_close(m);
			return NULL;
		}
		m->dir = strdup(dir);
	}
	if (listen) {
		struct sockaddr_in sa;
		if (parse_listen(listen, &sa, errbuf) < 0) {
			fcap_metrics_close(m);
			return NULL;
		}
		m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, ntohs(sa.sin_port),
					    NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
					    MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
					    MHD_OPTION_END);
		if (!m->httpd) {
			fcap_err(errbuf, "metrics: cannot listen on %s: %s", listen, strerror(errno));
			fcap_metrics_close(m);
			return NULL;
		}
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_BIND_PORT);
		m->port = info ? info->port : ntohs(sa.sin_port);
	}
	return m;
}

unsigned fcap_metrics_port(const struct fcap_metrics *m)
{
	return m->port;
}

static int write_textfile(struct fcap_metrics *m, const char *text, char *errbuf)
{
	int fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fcap_err(errbuf, "metrics: %s: %s", m->tmp, strerror(errno));
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fcap_err(errbuf, "metrics: writing %s: %s", m->tmp, strerror(errno));
			close(fd);
			unlink(m->tmp);
			return -1;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 || rename(m->tmp, m->path) < 0) {
		fcap_err(errbuf, "metrics: publishing %s: %s", m->path, strerror(errno));
		unlink(m->tmp);
		return -1;
	}
	return 0;
}

int fcap_metrics_publish(struct fcap_metrics *m, const char *text, char *errbuf)
{
	char *copy = strdup(text);
	if (!copy)
		return fcap_err(errbuf, "metrics: out of memory");
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = copy;
	pthread_mutex_unlock(&m->lock);
	return m->dir ? write_textfile(m, text, errbuf) : 0;
}

void fcap_metrics_close(struct fcap_metrics *m)
{
	if (!m)
		return;
	if (m->httpd)
		MHD_stop_daemon(m->httpd);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m->dir);
	free(m);
}
