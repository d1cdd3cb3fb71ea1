/*
 * capture.c - one capture session (fcap/capture.h).
 *
 *   card info (device tree) -> rings -> file header -> clock, time, enable
 *   -> [consume blocks of every ring | wait for the card]* -> stop and flush
 *   -> consume the rest -> statistics blocks -> close
 *
 * One thread consumes every ring in turn. Two sinks: one pcapng file,
 * written block by block on this thread in the order it takes them (records
 * of different rings interleave by block); or the store's recorder
 * (fcap/store.h), which writes and indexes on its own threads (a segment per
 * ring) while this one hands it blocks and returns the finished ones to the
 * card, in order for each ring.
 */
#include "fcap/capture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/dev.h"
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
	bool out_open;
	struct fcap_recorder *rec;
	uint32_t inflight[FCAP_MAX_RINGS];   /* blocks of each ring the recorder holds */
	bool ring_was_full[FCAP_MAX_RINGS];  /* every block of the ring waited for the disk */
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

/* file, file_at: the file the block went to and where it starts there. */
static void account_records(struct session *s, const uint8_t *blk, const struct fcap_block_info *bi, const char *file,
			    uint64_t file_at)
{
	struct fcap_record r;
	size_t off = 0;
	char ignored[FCAP_ERRBUF_SIZE];
	while (fcap_block_next(blk, bi, s->nports, &off, &r, ignored) > 0) {
		s->per_port_records[r.port]++;
		s->st->record_bytes += r.caplen;
		s->st->dropcount_sum += r.dropcount;
		if (s->cfg->on_record)
			s->cfg->on_record(s->cfg->on_record_ctx, file, file_at + r.offset, &r);
	}
	if (s->st->records == 0 || bi->first_ts < s->st->first_ts)
		s->st->first_ts = bi->first_ts;
	if (bi->last_ts > s->st->last_ts)
		s->st->last_ts = bi->last_ts;
	s->st->records += bi->records;
}

/* A block that failed validation: reported, its records counted as lost.
 * Returns how many records its header claims, if it is sound enough to say. */
static uint32_t reject_block(struct session *s, const struct fcap_ring *ring, const uint8_t *blk, uint32_t seq,
			     const char *why)
{
	struct fcap_block_info hdr;
	char hdr_err[FCAP_ERRBUF_SIZE];
	uint32_t records = 0;
	s->st->corrupt_blocks++;
	if (fcap_block_header(blk, ring->block_size, &hdr, hdr_err) == 0)
		records = hdr.records;
	s->st->corrupt_records += records;
	fprintf(stderr, "fcap: ring %u block %u (slot %u) rejected, not written: %s\n", ring->index, seq,
		seq % ring->nblocks, why);
	return records;
}

/* Checks a published block: 0 with bi, or -1 with why. */
static int check_block(const struct session *s, const struct fcap_ring *ring, const uint8_t *blk, uint32_t seq,
		       struct fcap_block_info *bi, char *why)
{
	if (fcap_block_check(blk, ring->block_size, seq, s->nports, bi, why) < 0)
		return -1;
	if (bi->ring != ring->index)
		return fcap_err(why, "block header: ring %u, but it is in ring %u", bi->ring, ring->index);
	return 0;
}

/* Consumes every block a ring has published. Returns -1 only when the file
 * cannot be written or the ring state is impossible. */
static int drain_ring(struct session *s, struct fcap_ring *ring, char *errbuf)
{
	uint8_t *blk;
	int rc;
	while ((rc = fcap_ring_peek(ring, &blk, errbuf)) > 0) {
		uint32_t seq = ring->cons;
		struct fcap_block_info bi;
		char why[FCAP_ERRBUF_SIZE];
		if (check_block(s, ring, blk, seq, &bi, why) == 0) {
			uint64_t file_at = s->out.offset;
			if (fcap_pcapng_write_block(&s->out, blk, &bi, errbuf) < 0)
				return -1;
			account_records(s, blk, &bi, s->cfg->out_path, file_at);
		} else {
			reject_block(s, ring, blk, seq, why);
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

/* ---- the store sink ------------------------------------------------------ */

static unsigned total_inflight(const struct session *s)
{
	unsigned n = 0;
	for (unsigned r = 0; r < s->nrings; r++)
		n += s->inflight[r];
	return n;
}

/* Returns to the card every block the recorder has finished (the recorder
 * hands them back in submission order, so each ring's stay in order). */
static int store_reap(struct session *s, char *errbuf)
{
	struct fcap_rec_done d;
	while (fcap_recorder_reap(s->rec, &d) > 0) {
		struct fcap_ring *ring = &s->rings[d.ring];
		uint32_t seq = ring->cons;
		if (d.stored)
			account_records(s, d.blk, &d.bi, d.file, d.offset);
		s->st->blocks++;
		s->inflight[d.ring]--;
		if (fcap_ring_release(ring, errbuf) < 0) {
			fcap_err_prefix(errbuf, "returning ring %u block %u", ring->index, seq);
			return -1;
		}
	}
	return 0;
}

/* Hands every block of ring r that is published and not yet in flight to
 * the recorder. Returns 1 when the recorder's queue is full, 0, or -1. */
static int store_submit_ring(struct session *s, unsigned r, char *errbuf)
{
	struct fcap_ring *ring = &s->rings[r];
	for (;;) {
		if (total_inflight(s) >= fcap_recorder_capacity(s->rec))
			return 1;
		if (s->inflight[r] >= ring->nblocks) {
			s->ring_was_full[r] = true; /* the card has no block left: the disk is behind */
			return 0;
		}
		uint8_t *blk;
		int rc = fcap_ring_peek_at(ring, s->inflight[r], &blk, errbuf);
		if (rc <= 0)
			return rc;
		uint32_t seq = ring->cons + s->inflight[r];
		struct fcap_block_info bi;
		char why[FCAP_ERRBUF_SIZE];
		if (check_block(s, ring, blk, seq, &bi, why) == 0) {
			uint32_t backlog = s->ring_was_full[r] ? bi.drops : 0;
			s->ring_was_full[r] = false;
			rc = fcap_recorder_submit(s->rec, r, blk, &bi, backlog);
		} else {
			uint32_t lost = reject_block(s, ring, blk, seq, why);
			rc = fcap_recorder_submit_corrupt(s->rec, r, blk, lost);
		}
		if (rc < 0)
			return fcap_err(errbuf, "recorder queue refused ring %u block %u", r, seq);
		s->inflight[r]++;
	}
}

/* Hands the recorder every new block of every ring, then returns the
 * finished ones to the card. */
static int store_drain(struct session *s, char *errbuf)
{
	for (unsigned r = 0; r < s->nrings; r++) {
		int rc = store_submit_ring(s, r, errbuf);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
	}
	return store_reap(s, errbuf);
}

/* The capture's clock for the recorder: the card's time where it can be
 * read (the simulated card's advances only as the simulation runs), the
 * system's otherwise (a card behind the driver runs on the time of day). */
static uint64_t capture_now(struct session *s)
{
	uint64_t t = fcap_dev_has_regs(s->dev) ? fcap_card_time(s->dev) : 0;
	if (t)
		return t;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool needs_clock(const struct fcap_capture_config *cfg)
{
	return cfg->segment_ns || cfg->retention.max_age_ns;
}

/* 1 when some ring has a block not yet handed to the recorder, 0 when none, -1. */
static int store_any_ready(struct session *s, char *errbuf)
{
	for (unsigned r = 0; r < s->nrings; r++) {
		uint8_t *blk;
		int rc = fcap_ring_peek_at(&s->rings[r], s->inflight[r], &blk, errbuf);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int store_loop(struct session *s, volatile sig_atomic_t *stop, char *errbuf)
{
	for (;;) {
		if (store_drain(s, errbuf) < 0)
			return -1;
		if ((stop && *stop) || (s->dev->ops->source_done && s->dev->ops->source_done(s->dev)))
			return 0;
		if (needs_clock(s->cfg))
			fcap_recorder_tick(s->rec, capture_now(s));
		/* While blocks are in flight, wait for the recorder (the simulated
		 * card stands still meanwhile; a real one fills more blocks). */
		if (total_inflight(s)) {
			fcap_recorder_wait(s->rec, WAIT_NS);
			continue;
		}
		if (s->cfg->ring.poll) {
			s->dev->ops->pause(s->dev, POLL_NS);
			continue;
		}
		fcap_card_irq_ack(s->dev);
		int rc = store_any_ready(s, errbuf);
		if (rc < 0)
			return -1;
		if (rc == 0 && s->dev->ops->wait(s->dev, WAIT_NS, errbuf) < 0)
			return -1;
	}
}

/* After the card stopped: hands over the last blocks and waits for all. */
static int store_finish(struct session *s, char *errbuf)
{
	do {
		if (store_drain(s, errbuf) < 0)
			return -1;
		if (total_inflight(s))
			fcap_recorder_wait(s->rec, WAIT_NS);
	} while (total_inflight(s));
	return 0;
}

/* ---- the session ------------------------------------------------------------ */

static int consume_loop(struct session *s, volatile sig_atomic_t *stop, char *errbuf)
{
	if (s->rec)
		return store_loop(s, stop, errbuf);
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

/* Closes the file (with statistics when errbuf is given) or the recorder. */
static int close_sink(struct session *s, char *errbuf)
{
	int rc = 0;
	char err[FCAP_ERRBUF_SIZE];
	if (s->rec) {
		rc = fcap_recorder_close(s->rec, &s->st->rec, err);
		s->rec = NULL;
		s->st->file_bytes = s->st->rec.bytes;
	} else if (s->out_open && errbuf) {
		struct fcap_isb_stats isb[FCAP_MAX_PORTS];
		s->st->file_bytes = s->out.offset;
		fill_isb(s, isb);
		rc = fcap_pcapng_close(&s->out, isb, err);
		s->st->file_bytes = s->out.offset;
	} else if (s->out_open) {
		fcap_pcapng_abort(&s->out);
	}
	s->out_open = false;
	if (rc < 0 && errbuf)
		fcap_err(errbuf, "%s", err);
	return rc;
}

static int open_sink(struct session *s, const struct fcap_capture_config *cfg, char *errbuf)
{
	const struct fcap_card_info *ci = &s->st->card_info;
	const char *userappl = cfg->userappl ? cfg->userappl : "fcap";
	if (cfg->store_dir) {
		uint32_t queue = 0;
		for (unsigned r = 0; r < s->nrings; r++)
			queue += s->rings[r].nblocks;
		struct fcap_recorder_config rc = {
			.dir = cfg->store_dir, .ci = ci, .userappl = userappl,
			.segment_bytes = cfg->segment_bytes, .segment_ns = cfg->segment_ns,
			.retention = cfg->retention, .buffered = cfg->buffered, .queue_blocks = queue,
			.log = cfg->log, .log_ctx = cfg->log_ctx,
		};
		s->rec = fcap_recorder_open(&rc, errbuf);
		s->st->store = true;
		return s->rec ? 0 : -1;
	}
	if (fcap_pcapng_open(&s->out, cfg->out_path, ci, userappl, errbuf) < 0)
		return -1;
	s->out_open = true;
	return 0;
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
	if (open_sink(s, cfg, errbuf) < 0) {
		fcap_rings_teardown(s->rings, s->nrings);
		return -1;
	}
	s->st->block_size = s->rings[0].block_size;
	s->st->rings = s->nrings;
	if (fcap_card_start(s->dev, ci, &cfg->ring, errbuf) < 0) {
		close_sink(s, NULL);
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
		rc = s.rec ? store_finish(&s, errbuf) : drain(&s, errbuf);
	if (rc == 0 && dev->ops->source_error && dev->ops->source_error(dev))
		rc = fcap_err(errbuf, "replay stopped: %s", dev->ops->source_error(dev));

	char cnt_err[FCAP_ERRBUF_SIZE];
	if (fcap_card_counters(dev, s.nports, &st->card, cnt_err) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s", cnt_err);
	if (s.rec && rc < 0) {
		/* Blocks still in flight must be finished before the rings go. */
		char ignored[FCAP_ERRBUF_SIZE];
		store_finish(&s, ignored);
	}
	char close_err[FCAP_ERRBUF_SIZE];
	if (close_sink(&s, close_err) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s", close_err);
	fcap_rings_teardown(s.rings, s.nrings);
	st->wall_s = now_s() - t0;
	st->card_elapsed_ns = dev->ops->elapsed_ns ? dev->ops->elapsed_ns(dev) - card0 : 0;
	return rc;
}
