/*
 * sim_mac.c - simulated MAC receive port: frames from pcap/pcapng files or
 * from memory, paced at a line rate, presented as AXI-Stream beats of 8 or 64
 * bytes.
 *
 * Wire model per frame: 8 bytes preamble+SFD, max(len, 60) bytes of frame
 * (short frames are padded on the wire but the card receives the source's
 * bytes), 4 bytes FCS, 12 bytes inter-frame gap. Frame n's preamble starts
 * when frame n-1's gap ends, so the port runs at exactly 100% of the line rate
 * while it has frames. Times are computed from the cumulative wire byte count
 * with 128-bit arithmetic, so no rounding error accumulates.
 */
#define _GNU_SOURCE
#include "sim_mac.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREAMBLE_BYTES 8u
#define FCS_BYTES 4u
#define IFG_BYTES 12u
#define MIN_FRAME_NO_FCS 60u
#define MAX_FRAME 65535u

struct mac_source {
	struct mac_source *next;
	pcap_t *pcap;       /* file source, or NULL for one in-memory frame */
	char *path;
	uint8_t *frame;     /* in-memory frame */
	size_t frame_len;
	bool fcs_error;
	uint64_t idle_ns;   /* an idle gap instead of a frame */
};

struct sim_mac {
	unsigned port;
	unsigned beat_bytes;
	uint64_t rate_bps;
	struct mac_source *head, *tail;

	/* frame on the wire */
	bool active;
	uint8_t buf[MAX_FRAME + SIM_MAC_MAX_BEAT];
	uint32_t len;
	bool fcs_error;
	uint32_t next_beat;       /* index of the next beat to present */
	uint64_t first_byte_ps;   /* wire time of byte 0 */

	bool held;                /* send nothing new */
	bool back_to_back;        /* a frame was waiting when the last one ended */
	uint64_t gap_ps;          /* idle time before the next frame's preamble */
	bool started;             /* the wire clock has been anchored */
	uint64_t anchor_ps;       /* wire time of cumulative byte 0 */
	uint64_t wire_bytes;      /* bytes put on the wire since the anchor */

	char error[512];
	fcap_sim_frame_cb cb;
	void *cb_ctx;
	struct fcap_sim_mac_stats stats;
};

struct sim_mac *sim_mac_create(unsigned port, unsigned beat_bytes, uint64_t bits_per_s)
{
	if (beat_bytes == 0 || beat_bytes > SIM_MAC_MAX_BEAT || beat_bytes % 8 || bits_per_s == 0)
		return NULL;
	struct sim_mac *mac = calloc(1, sizeof(*mac));
	if (mac) {
		mac->port = port;
		mac->beat_bytes = beat_bytes;
		mac->rate_bps = bits_per_s;
	}
	return mac;
}

static void source_free(struct mac_source *s)
{
	if (s->pcap)
		pcap_close(s->pcap);
	free(s->path);
	free(s->frame);
	free(s);
}

void sim_mac_destroy(struct sim_mac *mac)
{
	if (!mac)
		return;
	while (mac->head) {
		struct mac_source *s = mac->head;
		mac->head = s->next;
		source_free(s);
	}
	free(mac);
}

void sim_mac_set_rate(struct sim_mac *mac, uint64_t bits_per_s)
{
	if (bits_per_s == 0)
		return;
	/* Re-anchor so that frames already sent keep their times. */
	if (mac->started) {
		mac->anchor_ps += (uint64_t)((unsigned __int128)mac->wire_bytes * 8u * 1000000000000ull /
					     mac->rate_bps);
		mac->wire_bytes = 0;
	}
	mac->rate_bps = bits_per_s;
}

static void enqueue(struct sim_mac *mac, struct mac_source *s)
{
	if (mac->tail)
		mac->tail->next = s;
	else
		mac->head = s;
	mac->tail = s;
}

int sim_mac_add_file(struct sim_mac *mac, const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, errlen, "%s: cannot read as pcap or pcapng: %s", path, perr);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: link type %s is not Ethernet; the card's MAC takes Ethernet frames",
			 path, pcap_datalink_val_to_name(pcap_datalink(p)) ? pcap_datalink_val_to_name(pcap_datalink(p)) : "unknown");
		pcap_close(p);
		return -1;
	}
	struct mac_source *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		pcap_close(p);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	s->pcap = p;
	enqueue(mac, s);
	return 0;
}

int sim_mac_add_idle(struct sim_mac *mac, uint64_t ns)
{
	struct mac_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->idle_ns = ns ? ns : 1;
	enqueue(mac, s);
	return 0;
}

int sim_mac_add_frame(struct sim_mac *mac, const void *data, size_t len, bool fcs_error)
{
	if (len == 0 || len > MAX_FRAME)
		return -1;
	struct mac_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->frame = malloc(len);
	if (!s->frame) {
		free(s);
		return -1;
	}
	memcpy(s->frame, data, len);
	s->frame_len = len;
	s->fcs_error = fcs_error;
	enqueue(mac, s);
	return 0;
}

static void drop_head(struct sim_mac *mac)
{
	struct mac_source *s = mac->head;
	mac->head = s->next;
	if (!mac->head)
		mac->tail = NULL;
	source_free(s);
}

static void stop_with_error(struct sim_mac *mac, const char *path, long offset, const char *what)
{
	snprintf(mac->error, sizeof(mac->error), "%s: record at byte offset %ld: %s", path, offset, what);
	while (mac->head)
		drop_head(mac);
}

/* Loads the next frame from the sources into buf; false when none is left. */
static bool load_next(struct sim_mac *mac)
{
	while (mac->head) {
		struct mac_source *s = mac->head;
		if (s->idle_ns) {
			mac->gap_ps += s->idle_ns * 1000u;
			drop_head(mac);
			continue;
		}
		if (!s->pcap) {
			memcpy(mac->buf, s->frame, s->frame_len);
			mac->len = (uint32_t)s->frame_len;
			mac->fcs_error = s->fcs_error;
			drop_head(mac);
			return true;
		}
		struct pcap_pkthdr *h;
		const u_char *data;
		long offset = ftell(pcap_file(s->pcap));
		int rc = pcap_next_ex(s->pcap, &h, &data);
		if (rc == 1) {
			if (h->caplen == 0 || h->caplen > MAX_FRAME) {
				char what[96];
				snprintf(what, sizeof(what), "captured length %u is outside 1..%u",
					 h->caplen, MAX_FRAME);
				stop_with_error(mac, s->path, offset, what);
				return false;
			}
			memcpy(mac->buf, data, h->caplen);
			mac->len = h->caplen;
			mac->fcs_error = false;
			return true;
		}
		if (rc == PCAP_ERROR_BREAK) { /* end of file */
			drop_head(mac);
			continue;
		}
		stop_with_error(mac, s->path, offset, pcap_geterr(s->pcap));
		return false;
	}
	return false;
}

static uint64_t wire_time_ps(const struct sim_mac *mac, uint64_t byte)
{
	return mac->anchor_ps +
	       (uint64_t)((unsigned __int128)byte * 8u * 1000000000000ull / mac->rate_bps);
}

/* A frame that was waiting when the previous one's last beat went out starts
 * on the wire right after it (its preamble when the gap ends), even if its
 * first beat can only follow on a later clock: a beat carries one frame, so a
 * MAC whose beat is wider than a clock's worth of wire (64 bytes at 322 MHz
 * against 100 Gb/s: 5.12 ns of wire every 3.1 ns) presents a frame that
 * starts soon after the previous one's last beat a little late, by less than
 * two clocks, and catches up within the frame. */
static void start_frame(struct sim_mac *mac, uint64_t now_ps)
{
	uint64_t wire_free = mac->started ? wire_time_ps(mac, mac->wire_bytes) : now_ps;
	/* Back to back only if the wire went free less than two beats ago: a
	 * source that looked non-empty at the last beat may hold no more frames
	 * (a file at its end), and a frame queued later, after a pause, must
	 * start with its own preamble from now. */
	uint64_t two_beats_ps = (uint64_t)((unsigned __int128)2u * mac->beat_bytes * 8u * 1000000000000ull /
					   mac->rate_bps);
	bool continuous = mac->started && mac->back_to_back && now_ps < wire_free + two_beats_ps;
	mac->back_to_back = false;
	if (mac->gap_ps) {
		/* An idle gap: the preamble starts that much after the wire is free. */
		mac->anchor_ps = (continuous || wire_free > now_ps ? wire_free : now_ps) + mac->gap_ps;
		mac->wire_bytes = 0;
		mac->started = true;
		mac->gap_ps = 0;
	} else if (!mac->started || (wire_free < now_ps && !continuous)) {
		/* The wire was idle: the next preamble starts now. */
		mac->anchor_ps = now_ps;
		mac->wire_bytes = 0;
		mac->started = true;
	}
	uint32_t on_wire = mac->len < MIN_FRAME_NO_FCS ? MIN_FRAME_NO_FCS : mac->len;
	mac->first_byte_ps = wire_time_ps(mac, mac->wire_bytes + PREAMBLE_BYTES);
	mac->wire_bytes += PREAMBLE_BYTES + on_wire + FCS_BYTES + IFG_BYTES;
	mac->stats.wire_bytes += PREAMBLE_BYTES + on_wire + FCS_BYTES + IFG_BYTES;
	mac->next_beat = 0;
	mac->active = true;
	memset(mac->buf + mac->len, 0, SIM_MAC_MAX_BEAT);
}

void sim_mac_beat(struct sim_mac *mac, uint64_t now_ps, struct sim_beat *out)
{
	out->valid = out->last = out->user = false;
	out->keep = 0;
	if (!mac->active) {
		if (mac->held || !mac->head || !load_next(mac))
			return;
		start_frame(mac, now_ps);
	}
	uint64_t off = (uint64_t)mac->next_beat * mac->beat_bytes;
	uint64_t beat_ps = mac->first_byte_ps +
			   (uint64_t)((unsigned __int128)off * 8u * 1000000000000ull / mac->rate_bps);
	if (beat_ps > now_ps)
		return;

	uint32_t left = mac->len - (uint32_t)off;
	uint32_t n = left < mac->beat_bytes ? left : mac->beat_bytes;
	memcpy(out->data, mac->buf + off, mac->beat_bytes);
	out->keep = n == 64 ? ~0ull : (1ull << n) - 1u;
	out->valid = true;
	out->last = left <= mac->beat_bytes;
	out->user = out->last && mac->fcs_error;

	if (mac->next_beat == 0) {
		if (mac->cb) {
			struct fcap_sim_frame_event ev = {
				.port = mac->port,
				.seq = mac->stats.frames,
				.arrival_ps = mac->first_byte_ps,
				.first_beat_ps = now_ps,
				.len = mac->len,
				.data = mac->buf,
			};
			mac->cb(mac->cb_ctx, &ev);
		}
		mac->stats.frames++;
		mac->stats.bytes += mac->len;
	}
	mac->next_beat++;
	if (out->last) {
		mac->active = false;
		mac->back_to_back = mac->head && !mac->held;
	}
}

void sim_mac_hold(struct sim_mac *mac, bool hold)
{
	mac->held = hold;
}

bool sim_mac_done(const struct sim_mac *mac)
{
	return !mac->active && !mac->head;
}

const char *sim_mac_error(const struct sim_mac *mac)
{
	return mac->error[0] ? mac->error : NULL;
}

void sim_mac_on_frame(struct sim_mac *mac, fcap_sim_frame_cb cb, void *ctx)
{
	mac->cb = cb;
	mac->cb_ctx = ctx;
}

void sim_mac_stats(const struct sim_mac *mac, struct fcap_sim_mac_stats *st)
{
	*st = mac->stats;
}
