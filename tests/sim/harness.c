/* harness.c - the simulated card set up through libfcap, for tests (harness.h). */
#define _GNU_SOURCE
#include "harness.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/card.h"
#include "fcap/cardctl.h"

/* ---- harness ---------------------------------------------------------------- */

/* The register file performs a write one clock after the bus handshake (at
 * edge E+1 for a handshake at E); for TIME_CTRL.SET the time unit loads the
 * value at E+2, so the clock reads the value set at edge E+3. A snapshot
 * (TIME_CTRL.SNAPSHOT) latches the time of edge E+1. */
uint64_t time_set_ps(const struct fcap_sim *sim)
{
	return fcap_sim_last_write_ps(sim) + 3ull * fcap_sim_clock_period_ps(sim);
}

uint64_t snapshot_ps(const struct fcap_sim *sim)
{
	return fcap_sim_last_write_ps(sim) + fcap_sim_clock_period_ps(sim);
}

const char *data_dir;
const char *card_name;

struct frame *frames_add(struct frames *f)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 1024;
		f->v = realloc(f->v, f->cap * sizeof(*f->v));
	}
	struct frame *fr = &f->v[f->n++];
	memset(fr, 0, sizeof(*fr));
	return fr;
}

void frames_free(struct frames *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].data);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static void on_frame(void *ctx, const struct fcap_sim_frame_event *ev)
{
	struct harness *h = ctx;
	struct frame *fr = frames_add(&h->sent);
	fr->port = ev->port;
	fr->data = malloc(ev->len);
	memcpy(fr->data, ev->data, ev->len);
	fr->caplen = fr->origlen = ev->len;
	fr->arrival_ps = ev->arrival_ps;
	fr->first_beat_ps = ev->first_beat_ps;
}

/* Opens the card and sets it up like `fcap capture` does, with the time
 * loaded at a known simulated instant. */
int h_open(struct harness *h, const struct fcap_ring_config *rc)
{
	memset(h, 0, sizeof(*h));
	struct fcap_sim_dev_config dc = { .card = card_name };
	h->dev = fcap_dev_open_sim(&dc, h->err);
	if (!h->dev)
		return -1;
	h->sim = fcap_dev_sim(h->dev);
	fcap_sim_mac_on_frame(h->sim, on_frame, h);
	if (fcap_card_read_info(h->dev, &h->ci, h->err) < 0 ||
	    fcap_card_set_clock(h->dev, h->ci.clock_hz, h->err) < 0 ||
	    fcap_card_set_time(h->dev, T0_NS, h->err) < 0)
		return -1;
	h->time0_ps = time_set_ps(h->sim);
	/* One ring unless the test asks for more (steering then spreads flows). */
	struct fcap_ring_config cfg = *rc;
	h->nrings = cfg.rings == H_ALL_RINGS ? h->ci.rings : cfg.rings ? cfg.rings : 1;
	cfg.rings = h->nrings;
	if (fcap_rings_setup(h->rings, h->nrings, h->dev, &h->ci, &cfg, h->err) < 0)
		return -1;
	uint32_t ctrl = FCAP_CTRL_ENABLE | (cfg.hash ? FCAP_CTRL_HASH_OPTION : 0);
	if (fcap_reg_write(h->dev, FCAP_REG_CTRL, ctrl) < 0)
		return -1;
	h->dev->ops->start_source(h->dev);
	return 0;
}

uint64_t h_outputs_checked, h_outputs_unsettled;

void h_close(struct harness *h)
{
	uint64_t checked = 0;
	h_outputs_unsettled += fcap_sim_outputs_unsettled(h->sim, &checked);
	h_outputs_checked += checked;
	fcap_rings_teardown(h->rings, h->nrings);
	fcap_dev_close(h->dev);
	frames_free(&h->sent);
	frames_free(&h->got);
}

/* Consumes every block a ring has published; all must be valid. */
static int h_drain_ring(struct harness *h, struct fcap_ring *ring)
{
	uint8_t *blk;
	int rc;
	while ((rc = fcap_ring_peek(ring, &blk, h->err)) > 0) {
		struct fcap_block_info bi;
		if (fcap_block_check(blk, ring->block_size, ring->cons, h->ci.nports, &bi, h->err) < 0)
			return -1;
		if (bi.ring != ring->index)
			return fcap_err(h->err, "ring %u: block header says ring %u", ring->index, bi.ring);
		size_t off = 0;
		struct fcap_record r;
		while (fcap_block_next(blk, &bi, h->ci.nports, &off, &r, h->err) > 0) {
			struct frame *fr = frames_add(&h->got);
			fr->port = r.port;
			fr->data = malloc(r.caplen ? r.caplen : 1);
			memcpy(fr->data, r.data, r.caplen);
			fr->caplen = r.caplen;
			fr->origlen = r.origlen;
			fr->ts = r.ts;
			fr->has_flags = r.has_flags;
			fr->flags = r.flags;
			fr->has_dropcount = r.has_dropcount;
			fr->dropcount = r.dropcount;
			fr->has_hash = r.has_hash;
			fr->hash = r.hash;
			fr->ring = ring->index;
		}
		h->blocks++;
		h->block_drops += bi.drops;
		h->last_block = bi;
		if (fcap_ring_release(ring, h->err) < 0)
			return -1;
	}
	return rc;
}

int h_drain(struct harness *h)
{
	for (unsigned r = 0; r < h->nrings; r++)
		if (h_drain_ring(h, &h->rings[r]) < 0)
			return -1;
	return 0;
}

/* Runs until the MAC has sent everything and the card is idle, consuming as
 * blocks arrive, then stops the card (flush) and consumes the rest. A card
 * that never goes idle fails the test after RUN_TO_END_STEPS waits (each to
 * the next interrupt or 0.4 ms: at most 10 s of simulated time) rather than
 * hanging it. */
#define RUN_TO_END_STEPS 25000u

int h_run_to_end(struct harness *h)
{
	for (unsigned step = 0;; step++) {
		if (step == RUN_TO_END_STEPS)
			return fcap_err(h->err, "the card did not go idle in %u steps", step);
		if (h_drain(h) < 0)
			return -1;
		if (fcap_sim_mac_done(h->sim) && fcap_sim_card_idle(h->sim))
			break;
		fcap_reg_write(h->dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
		fcap_sim_run_until(h->sim, 100000, FCAP_SIM_STOP_IRQ | FCAP_SIM_STOP_IDLE);
	}
	if (fcap_card_stop(h->dev, h->err) < 0)
		return -1;
	return h_drain(h);
}

/* The card's timestamp for a frame whose first beat the MAC presented at
 * t_ps: the time of the first core clock edge after it (the clock reads T0
 * at time0_ps and counts floor(elapsed) ns). */
uint64_t first_core_edge_after(const struct harness *h, uint64_t t_ps)
{
	uint64_t period = fcap_sim_clock_period_ps(h->sim);
	return (t_ps / period + 1) * period;
}

uint64_t expected_ts(const struct harness *h, uint64_t t_ps)
{
	return T0_NS + (first_core_edge_after(h, t_ps) - h->time0_ps) / 1000u;
}

/* Frames of one port, in order. */
void frames_of_port(const struct frames *all, unsigned port, struct frames *out)
{
	for (size_t i = 0; i < all->n; i++) {
		if (all->v[i].port != port)
			continue;
		struct frame *fr = frames_add(out);
		*fr = all->v[i];
		fr->data = malloc(fr->caplen ? fr->caplen : 1);
		memcpy(fr->data, all->v[i].data, fr->caplen);
	}
}

bool need_data(void)
{
	if (data_dir)
		return true;
	fprintf(stderr, "SKIP: $FCAP_DATA is not set or not a directory (the bundled captures)\n");
	return false;
}

char *data_path(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", data_dir, name) < 0)
		abort();
	return p;
}

/* Reads a capture file with libpcap, independently of the simulator. */
size_t read_capture(const char *path, struct frames *out)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p)
		return 0;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	size_t n = 0;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		struct frame *fr = frames_add(out);
		fr->data = malloc(hdr->caplen);
		memcpy(fr->data, data, hdr->caplen);
		fr->caplen = hdr->caplen;
		fr->origlen = hdr->len;
		n++;
	}
	pcap_close(p);
	return n;
}

const struct fcap_ring_config default_ring = {
	.blocks = 8, .block_size = 256 * 1024, .timeout_ns = 100000, .snaplen = 0,
};

