/*
 * capture.c - one capture session (fcap/capture.h).
 *
 *   card info (device tree) -> rings -> file header -> clock, time, enable
 *   -> [consume blocks of every ring | wait for the card]* -> stop and flush
 *   -> consume the rest -> statistics blocks -> close
 *
 * One thread consumes every ring in turn and writes blocks to the file in the
 * order it takes them, so records of different rings interleave by block.
 */
#include "fcap/capture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/pcapng.h"

/* How long one wait for the card may last before the loop looks at the stop flag. */
#define WAIT_NS 1000000u
/* Polling mode: the pause between looks at the rings (a 1 MiB block fills
 * in about 100 us at 10 Gb/s: several looks per block). */
#define POLL_NS 20000u

struct session {
	const struct fcap_capture_config *cfg;
	struct fcap_dev *dev;
	struct fcap_ring rings[FCAP_MAX_RINGS];
	unsigned nrings;
	struct fcap_pcapng_writer out;
	struct fcap_capture_stats *st;
	uint32_t nports;
	uint64_t per_port_records[FCAP_MAX_PORTS];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* file_at: where the block starts in the output file. */
static void account_records(struct session *s, const uint8_t *blk, const struct fcap_block_info *bi, uint64_t file_at)
{
	struct fcap_record r;
	size_t off = 0;
	char ignored[FCAP_ERRBUF_SIZE];
	while (fcap_block_next(blk, bi, s->nports, &off, &r, ignored) > 0) {
		s->per_port_records[r.port]++;
		s->st->record_bytes += r.caplen;
		s->st->dropcount_sum += r.dropcount;
		if (s->cfg->on_record)
			s->cfg->on_record(s->cfg->on_record_ctx, s->cfg->out_path, file_at + r.offset, &r);
	}
	if (s->st->records == 0 || bi->first_ts < s->st->first_ts)
		s->st->first_ts = bi->first_ts;
	if (bi->last_ts > s->st->last_ts)
		s->st->last_ts = bi->last_ts;
	s->st->records += bi->records;
}

/* Consumes every block a ring has published. Returns -1 only when the file
 * cannot be written or the ring state is impossible. */
static int drain_ring(struct session *s, struct fcap_ring *ring, char *errbuf)
{
	uint8_t *blk;
	int rc;
	while ((rc = fcap_ring_peek(ring, &blk, errbuf)) > 0) {
		uint32_t seq = ring->cons;
		uint32_t slot = seq % ring->nblocks;
		struct fcap_block_info bi;
		char why[FCAP_ERRBUF_SIZE];
		int ok = fcap_block_check(blk, ring->block_size, seq, s->nports, &bi, why) == 0;
		if (ok && bi.ring != ring->index)
			ok = fcap_err(why, "block header: ring %u, but it is in ring %u", bi.ring, ring->index) + 1;
		if (ok) {
			uint64_t file_at = s->out.offset;
			if (fcap_pcapng_write_block(&s->out, blk, &bi, errbuf) < 0)
				return -1;
			account_records(s, blk, &bi, file_at);
		} else {
			struct fcap_block_info hdr;
			char hdr_err[FCAP_ERRBUF_SIZE];
			s->st->corrupt_blocks++;
			/* The header may still be sound enough to say how many records were lost. */
			if (fcap_block_header(blk, ring->block_size, &hdr, hdr_err) == 0)
				s->st->corrupt_records += hdr.records;
			fprintf(stderr, "fcap: ring %u block %u (slot %u) rejected, not written: %s\n", ring->index,
				seq, slot, why);
		}
		s->st->blocks++;
		if (fcap_ring_release(ring, errbuf) < 0) {
			fcap_err_prefix(errbuf, "returning ring %u block %u", ring->index, seq);
			return -1;
		}
	}
	return rc;
}

static int drain(struct session *s, char *errbuf)
{
	for (unsigned r = 0; r < s->nrings; r++)
		if (drain_ring(s, &s->rings[r], errbuf) < 0)
			return -1;
	return 0;
}

/* 1 when some ring has a block waiting, 0 when none, -1 on an impossible ring state. */
static int any_ready(struct session *s, char *errbuf)
{
	for (unsigned r = 0; r < s->nrings; r++) {
		uint8_t *blk;
		int rc = fcap_ring_peek(&s->rings[r], &blk, errbuf);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int consume_loop(struct session *s, volatile sig_atomic_t *stop, char *errbuf)
{
	for (;;) {
		if (drain(s, errbuf) < 0)
			return -1;
		if ((stop && *stop) || (s->dev->ops->source_done && s->dev->ops->source_done(s->dev)))
			return 0;
		if (s->cfg->ring.poll) {
			s->dev->ops->pause(s->dev, POLL_NS);
			continue;
		}
		/* Acknowledge before the second look, so a block published in
		 * between raises the interrupt again rather than being missed. */
		fcap_card_irq_ack(s->dev);
		int rc = any_ready(s, errbuf);
		if (rc < 0)
			return -1;
		if (rc == 0 && s->dev->ops->wait(s->dev, WAIT_NS, errbuf) < 0)
			return -1;
	}
}

static void fill_isb(const struct session *s, struct fcap_isb_stats *isb)
{
	const struct fcap_capture_stats *st = s->st;
	for (uint32_t p = 0; p < s->nports; p++) {
		const struct fcap_port_counters *c = &st->card.port[p];
		isb[p] = (struct fcap_isb_stats){
			.start_ts = st->first_ts,
			.end_ts = st->last_ts,
			.if_recv = c->rx_frames,
			.if_drop = c->drop_fifo + c->drop_ring,
			.os_drop = p == 0 ? st->corrupt_records : 0,
			.usr_deliv = s->per_port_records[p],
		};
	}
}

static int setup(struct session *s, const struct fcap_capture_config *cfg, char *errbuf)
{
	struct fcap_card_info *ci = &s->st->card_info;
	if (fcap_card_read_info(s->dev, ci, errbuf) < 0)
		return -1;
	s->nports = ci->nports;
	s->nrings = cfg->ring.rings ? cfg->ring.rings : ci->rings;
	if (fcap_rings_setup(s->rings, s->nrings, s->dev, ci, &cfg->ring, errbuf) < 0)
		return -1;
	if (fcap_pcapng_open(&s->out, cfg->out_path, ci, cfg->userappl ? cfg->userappl : "fcap", errbuf) < 0) {
		fcap_rings_teardown(s->rings, s->nrings);
		return -1;
	}
	s->st->block_size = s->rings[0].block_size;
	s->st->rings = s->nrings;
	if (fcap_card_start(s->dev, ci, &cfg->ring, errbuf) < 0) {
		fcap_pcapng_abort(&s->out);
		fcap_rings_teardown(s->rings, s->nrings);
		fcap_err_prefix(errbuf, "starting capture");
		return -1;
	}
	if (s->dev->ops->start_source)
		s->dev->ops->start_source(s->dev);
	return 0;
}

int fcap_capture_run(struct fcap_dev *dev, const struct fcap_capture_config *cfg,
		     struct fcap_capture_stats *st, volatile sig_atomic_t *stop, char *errbuf)
{
	struct session s = { .cfg = cfg, .dev = dev, .st = st };
	memset(st, 0, sizeof(*st));
	double t0 = now_s();
	uint64_t card0 = dev->ops->elapsed_ns ? dev->ops->elapsed_ns(dev) : 0;

	if (setup(&s, cfg, errbuf) < 0)
		return -1;

	int rc = consume_loop(&s, stop, errbuf);
	char stop_err[FCAP_ERRBUF_SIZE];
	if (fcap_card_stop(dev, stop_err) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s", stop_err);
	if (rc == 0)
		rc = drain(&s, errbuf);
	if (rc == 0 && dev->ops->source_error && dev->ops->source_error(dev))
		rc = fcap_err(errbuf, "replay stopped: %s", dev->ops->source_error(dev));

	char cnt_err[FCAP_ERRBUF_SIZE];
	if (fcap_card_counters(dev, s.nports, &st->card, cnt_err) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s", cnt_err);
	st->file_bytes = s.out.offset;
	if (s.out.fd >= 0) {
		struct fcap_isb_stats isb[FCAP_MAX_PORTS];
		char close_err[FCAP_ERRBUF_SIZE];
		fill_isb(&s, isb);
		if (fcap_pcapng_close(&s.out, isb, close_err) < 0 && rc == 0)
			rc = fcap_err(errbuf, "%s", close_err);
		st->file_bytes = s.out.offset;
	}
	fcap_rings_teardown(s.rings, s.nrings);
	st->wall_s = now_s() - t0;
	st->card_elapsed_ns = dev->ops->elapsed_ns ? dev->ops->elapsed_ns(dev) - card0 : 0;
	return rc;
}
