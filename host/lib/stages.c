/*
 * stages.c - drop accounting by stage (fcap/stages.h).
 */
#include "fcap/stages.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/capture.h"

static const struct field {
	const char *key;
	size_t off;
	const char *help;
} fields[FCAP_STAGES_FIELDS] = {
	{ "received", offsetof(struct fcap_stages, received), "frames the capture device received" },
	{ "captured", offsetof(struct fcap_stages, captured), "frames written to the file or store" },
	{ "bytes", offsetof(struct fcap_stages, bytes), "captured bytes written" },
	{ "wire", offsetof(struct fcap_stages, wire), "lost before the device: MAC errors, interface drops" },
	{ "card_fifo", offsetof(struct fcap_stages, card_fifo), "card FIFO full (pcap: kernel buffer full)" },
	{ "ring_full", offsetof(struct fcap_stages, ring_full), "no free ring block: the host was behind" },
	{ "host", offsetof(struct fcap_stages, host), "in blocks the host rejected as corrupt" },
	{ "disk_backlog", offsetof(struct fcap_stages, disk_backlog), "lost because the disk was behind or failed" },
	{ "filter", offsetof(struct fcap_stages, filter), "rejected by the capture filter" },
};

static uint64_t *field_ptr(struct fcap_stages *sg, size_t i)
{
	return (uint64_t *)((char *)sg + fields[i].off);
}

static uint64_t field_val(const struct fcap_stages *sg, size_t i)
{
	return *(const uint64_t *)((const char *)sg + fields[i].off);
}

void fcap_stages_live(const struct fcap_capture_stats *st, const struct fcap_card_counters *c,
		      struct fcap_stages *sg)
{
	memset(sg, 0, sizeof(*sg));
	uint64_t ring = 0;
	for (unsigned p = 0; p < c->nports; p++) {
		const struct fcap_port_counters *pc = &c->port[p];
		sg->received += pc->rx_frames;
		sg->wire += pc->rx_errors + pc->drop_wire;
		sg->card_fifo += pc->drop_fifo;
		ring += pc->drop_ring;
		sg->filter += pc->filtered;
	}
	uint64_t backlog = st->store ? st->rec.backlog_drops : 0;
	sg->ring_full = ring > backlog ? ring - backlog : 0;
	sg->disk_backlog = (ring < backlog ? ring : backlog) + (st->store ? st->rec.disk_lost_records : 0);
	sg->host = st->corrupt_records;
	sg->captured = st->records;
	sg->bytes = st->record_bytes;
}

void fcap_stages_from_capture(const struct fcap_capture_stats *st, struct fcap_stages *sg)
{
	fcap_stages_live(st, &st->card, sg);
}

void fcap_stages_format(const struct fcap_stages *sg, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "fcap stages:");
	for (size_t i = 0; i < FCAP_STAGES_FIELDS && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, " %s=%" PRIu64, fields[i].key, field_val(sg, i));
}

int fcap_stages_parse(const char *line, struct fcap_stages *sg, char *errbuf)
{
	static const char prefix[] = "fcap stages:";
	if (strncmp(line, prefix, sizeof(prefix) - 1))
		return fcap_err(errbuf, "not an fcap stages line (expected '%s')", prefix);
	memset(sg, 0, sizeof(*sg));
	bool seen[FCAP_STAGES_FIELDS] = { false };
	const char *p = line + sizeof(prefix) - 1;
	while (*p == ' ') {
		p++;
		const char *eq = strchr(p, '=');
		if (!eq)
			return fcap_err(errbuf, "stages: '%.20s': expected KEY=COUNT", p);
		size_t k = (size_t)(eq - p);
		size_t i;
		for (i = 0; i < FCAP_STAGES_FIELDS; i++)
			if (strlen(fields[i].key) == k && !strncmp(fields[i].key, p, k))
				break;
		char *end;
		if (eq[1] < '0' || eq[1] > '9')
			return fcap_err(errbuf, "stages: '%.*s': not a count", (int)k, p);
		unsigned long long v = strtoull(eq + 1, &end, 10);
		if (*end != ' ' && *end != '\0' && *end != '\n')
			return fcap_err(errbuf, "stages: '%.*s': not a count", (int)k, p);
		if (i < FCAP_STAGES_FIELDS) { /* unknown keys: from a newer fcap, skipped */
			*field_ptr(sg, i) = v;
			seen[i] = true;
		}
		p = end;
	}
	if (*p != '\0' && *p != '\n')
		return fcap_err(errbuf, "stages: unexpected '%.20s'", p);
	for (size_t i = 0; i < FCAP_STAGES_FIELDS; i++)
		if (!seen[i])
			return fcap_err(errbuf, "stages: '%s' is missing", fields[i].key);
	return 0;
}

int fcap_stages_prometheus(const struct fcap_stages *sg, const char *device, char *out, size_t n)
{
	size_t len = 0;
#define EMIT(...)                                                              \
	do {                                                                   \
		int w_ = snprintf(out + len, n - len, __VA_ARGS__);            \
		if (w_ < 0 || (size_t)w_ >= n - len)                           \
			return -1;                                             \
		len += (size_t)w_;                                             \
	} while (0)
	EMIT("# HELP fcap_received_frames_total Frames the capture device received.\n"
	     "# TYPE fcap_received_frames_total counter\n"
	     "fcap_received_frames_total{device=\"%s\"} %" PRIu64 "\n", device, sg->received);
	EMIT("# HELP fcap_captured_frames_total Frames written to the file or store.\n"
	     "# TYPE fcap_captured_frames_total counter\n"
	     "fcap_captured_frames_total{device=\"%s\"} %" PRIu64 "\n", device, sg->captured);
	EMIT("# HELP fcap_captured_bytes_total Captured bytes written.\n"
	     "# TYPE fcap_captured_bytes_total counter\n"
	     "fcap_captured_bytes_total{device=\"%s\"} %" PRIu64 "\n", device, sg->bytes);
	EMIT("# HELP fcap_dropped_frames_total Frames lost or rejected, by stage (docs/CLI.md).\n"
	     "# TYPE fcap_dropped_frames_total counter\n");
	for (size_t i = 3; i < FCAP_STAGES_FIELDS; i++)
		EMIT("fcap_dropped_frames_total{device=\"%s\",stage=\"%s\"} %" PRIu64 "\n", device, fields[i].key,
		     field_val(sg, i));
#undef EMIT
	return (int)len;
}

void fcap_stages_print(const struct fcap_stages *sg, void *file)
{
	FILE *f = file;
	fprintf(f, "%-14s %20s  %s\n", "stage", "frames", "meaning");
	for (size_t i = 0; i < FCAP_STAGES_FIELDS; i++)
		fprintf(f, "%-14s %20" PRIu64 "  %s\n", fields[i].key, field_val(sg, i), fields[i].help);
	uint64_t lost = sg->card_fifo + sg->ring_full + sg->host + sg->disk_backlog;
	fprintf(f, "%-14s %20" PRIu64 "  card_fifo + ring_full + host + disk_backlog\n", "lost", lost);
	fprintf(f, "accounting     %s\n", sg->captured + lost == sg->received
						 ? "holds: received = captured + lost"
						 : "DOES NOT HOLD: received != captured + lost");
}
