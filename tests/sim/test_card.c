/*
 * test_card.c - the simulated card end to end, through libfcap.
 *
 * Each test opens the Verilated card, sets up a ring with libfcap, feeds
 * frames through the simulated MAC, consumes the blocks (every one passes
 * fcap_block_check) and compares what came out with what went in:
 * - bytes, lengths and order against the capture file read independently
 *   with libpcap;
 * - timestamps against the simulated arrival time of each frame;
 * - the card's counters against the frames sent.
 *
 * Needs the captures in $FCAP_DATA (../shared/data); tests that need them
 * say SKIP when it is absent.
 *
 * usage: test_card [CARD]   the simulated card: 4x10g (default) or 1x100g.
 * Every test that is about the card's datapath runs on both; the time unit
 * and replay-file tests (the same RTL and C on either card) run on 4x10g.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"
#include "fcap/flowhash.h"
#include "fcap/ring.h"
#include "fcap_sim.h"
#include "harness.h"


/* ---- tests ---------------------------------------------------------------------- */

static void test_card_describes_itself(void)
{
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	bool hundred_g = !strcmp(fcap_sim_card(h.sim), "1x100g");
	CU_ASSERT_EQUAL(h.ci.nports, hundred_g ? 1u : 4u);
	CU_ASSERT_EQUAL(h.ci.nports, fcap_sim_ports(h.sim));
	/* The device tree's clock must be the clock the simulator runs. */
	CU_ASSERT_EQUAL(1000000000000ull / h.ci.clock_hz, fcap_sim_clock_period_ps(h.sim));
	/* ... and its ports' MAC clocks the simulator's (to the whole ps the
	 * simulator rounds them to: 322.265625 MHz is 3103.03 ps). */
	for (unsigned p = 0; p < h.ci.nports; p++) {
		CU_ASSERT_EQUAL(1000000000000ull / h.ci.ports[p].mac_clock_hz, fcap_sim_mac_period_ps(h.sim, p));
		CU_ASSERT_EQUAL(h.ci.ports[p].speed_mbps, hundred_g ? 100000u : 10000u);
	}
	CU_ASSERT_EQUAL(h.ci.datapath_width, hundred_g ? 512u : 64u);
	CU_ASSERT_EQUAL(fcap_reg_read(h.dev, FCAP_REG_SCRATCH), 0);
	fcap_reg_write(h.dev, FCAP_REG_SCRATCH, 0xA5A5F00D);
	CU_ASSERT_EQUAL(fcap_reg_read(h.dev, FCAP_REG_SCRATCH), 0xA5A5F00D);
	h_close(&h);
}

/* Four captures spread over the ports (one per port on 4x10g, all four back
 * to back on the 100G port), every port at line rate: every port's frames
 * come out identical and in order, each stamped within one core clock of its
 * first beat, and the card's counters match what was sent. */
static void test_replay_is_identical(void)
{
	if (!need_data())
		return;
	static const char *const files[] = { "http_espn.pcapng", "synscan.pcapng", "arppoison.pcapng",
					     "mail_sender_attachment.pcapng" };
	struct harness h;
	struct frames want[FCAP_SIM_MAX_PORTS] = { { 0 } };
	uint64_t want_bytes[FCAP_SIM_MAX_PORTS] = { 0 };
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	unsigned nports = fcap_sim_ports(h.sim);
	size_t total = 0;
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unsigned p = i % nports;
		char *path = data_path(files[i]);
		size_t before = want[p].n;
		CU_ASSERT_FATAL(read_capture(path, &want[p]) > 0);
		CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_file(h.sim, p, path, h.err, sizeof(h.err)), 0);
		free(path);
		for (size_t k = before; k < want[p].n; k++)
			want_bytes[p] += want[p].v[k].origlen;
		total += want[p].n - before;
	}

	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_PTR_NULL(fcap_sim_mac_error(h.sim));
	CU_ASSERT_EQUAL_FATAL(h.got.n, total);
	CU_ASSERT_EQUAL_FATAL(h.sent.n, total);

	uint32_t period = fcap_sim_clock_period_ps(h.sim);
	int64_t worst_beat = 0, worst_wire = 0;
	for (unsigned p = 0; p < nports; p++) {
		struct frames got = { 0 }, sent = { 0 };
		frames_of_port(&h.got, p, &got);
		frames_of_port(&h.sent, p, &sent);
		CU_ASSERT_EQUAL_FATAL(got.n, want[p].n);
		CU_ASSERT_EQUAL_FATAL(sent.n, want[p].n);
		size_t mismatched = 0, off_time = 0;
		uint32_t mac_period = fcap_sim_mac_period_ps(h.sim, p);
		uint64_t beat_lag = (h.ci.datapath_width > 64 ? 2u : 1u) * mac_period;
		for (size_t i = 0; i < want[p].n; i++) {
			const struct frame *w = &want[p].v[i], *g = &got.v[i], *s = &sent.v[i];
			if (g->caplen != w->caplen || g->origlen != w->origlen || memcmp(g->data, w->data, w->caplen))
				mismatched++;
			/* The card stamps the first core edge after the first beat, exactly ... */
			if (g->ts != expected_ts(&h, s->first_beat_ps))
				off_time++;
			/* ... which is within one core clock of the first beat, and within one
			 * MAC clock more of the frame's first byte on the wire (two on the
			 * 100G MAC, whose 64-byte beats carry one frame each: sim/sim_mac.h). */
			int64_t card_ps = (int64_t)(g->ts - T0_NS) * 1000 + (int64_t)h.time0_ps;
			int64_t beat_err = card_ps - (int64_t)s->first_beat_ps;
			int64_t wire_err = card_ps - (int64_t)s->arrival_ps;
			if (llabs(beat_err) > llabs(worst_beat))
				worst_beat = beat_err;
			if (llabs(wire_err) > llabs(worst_wire))
				worst_wire = wire_err;
			CU_ASSERT(s->first_beat_ps >= s->arrival_ps && s->first_beat_ps - s->arrival_ps < beat_lag);
		}
		CU_ASSERT_EQUAL(mismatched, 0);
		CU_ASSERT_EQUAL(off_time, 0);
		frames_free(&got);
		frames_free(&sent);
	}
	/* ns flooring can make the card's time up to 1 ns earlier than the edge. */
	CU_ASSERT(worst_beat > -1000 && worst_beat <= (int64_t)period);
	printf("\n    %s: %zu frames on %u port(s) identical and in order; timestamp - first beat: worst %lld ps "
	       "(core clock %u ps); - first byte on the wire: worst %lld ps ", fcap_sim_card(h.sim), total, nports,
	       (long long)worst_beat, period, (long long)worst_wire);

	struct fcap_card_counters c;
	CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, nports, &c, h.err), 0);
	for (unsigned p = 0; p < nports; p++) {
		CU_ASSERT_EQUAL(c.port[p].rx_frames, want[p].n);
		CU_ASSERT_EQUAL(c.port[p].rx_bytes, want_bytes[p]);
		CU_ASSERT_EQUAL(c.port[p].drop_fifo + c.port[p].drop_ring, 0);
		frames_free(&want[p]);
	}
	CU_ASSERT_EQUAL(c.records, total);
	CU_ASSERT_EQUAL(c.blocks, h.blocks);
	h_close(&h);
}

/* The clock runs INC_NS + NUM/DEN per cycle exactly: with a 6.4 ns
 * increment, m cycles advance it by exactly floor(6.4 m) ns. */
static void test_fractional_clock_is_exact(void)
{
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	uint64_t period = fcap_sim_clock_period_ps(h.sim);
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_NS, 6);
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_NUM, 2);
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_DEN, 5);
	fcap_reg_write(h.dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_APPLY_INC);
	CU_ASSERT_EQUAL_FATAL(fcap_card_set_time(h.dev, 0, h.err), 0);
	uint64_t start_ps = time_set_ps(h.sim);
	static const uint64_t runs[] = { 0, 1, 4, 1000, 1000000 };
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		fcap_sim_run(h.sim, runs[i]);
		uint64_t t = fcap_card_time(h.dev);
		uint64_t m = (snapshot_ps(h.sim) - start_ps) / period;
		CU_ASSERT_EQUAL(t, 6 * m + (2 * m) / 5);
	}
	h_close(&h);
}

/* What a PTP servo does: step the time by a signed amount, trim the
 * frequency, and read the time latched by a PPS edge. */
static void test_time_adjust_trim_pps(void)
{
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	uint64_t period = fcap_sim_clock_period_ps(h.sim);   /* 4 ns: 4 + 0/0 per clock */

	/* Steps: the clock moves by exactly the amount, once. */
	uint64_t t0 = fcap_card_time(h.dev);
	uint64_t s0 = snapshot_ps(h.sim);
	CU_ASSERT_EQUAL(fcap_card_adjust_time(h.dev, 1000000, h.err), 0);
	CU_ASSERT_EQUAL(fcap_card_adjust_time(h.dev, -250, h.err), 0);
	uint64_t t1 = fcap_card_time(h.dev);
	uint64_t s1 = snapshot_ps(h.sim);
	CU_ASSERT_EQUAL(t1 - t0, (s1 - s0) / 1000 + 1000000 - 250);

	/* Trim: +250 ppm is 4 + 1/1000 ns per clock, applied in one clock. */
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_NS, 4);
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_NUM, 1);
	fcap_reg_write(h.dev, FCAP_REG_TIME_INC_DEN, 1000);
	uint64_t before = fcap_card_time(h.dev);  /* staged values are not in effect yet */
	uint64_t sb = snapshot_ps(h.sim);
	CU_ASSERT_EQUAL(fcap_reg_write(h.dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_APPLY_INC), 0);
	uint64_t apply_ps = fcap_sim_last_write_ps(h.sim) + period; /* the write's effect, then the new step */
	fcap_sim_run(h.sim, 100000);
	uint64_t after = fcap_card_time(h.dev);
	uint64_t sa = snapshot_ps(h.sim);
	uint64_t old_clocks = (apply_ps + period - sb) / period;  /* clocks at 4 ns */
	uint64_t new_clocks = (sa - apply_ps - period) / period;  /* clocks at 4.001 ns */
	CU_ASSERT_EQUAL(after - before, 4 * old_clocks + 4 * new_clocks + new_clocks / 1000);

	/* PPS: the time of the first core edge after the pulse's rising edge. */
	fcap_sim_run(h.sim, 7);
	uint64_t t = fcap_card_time(h.dev);
	uint64_t snap = snapshot_ps(h.sim);
	uint64_t pulse_ps = fcap_sim_time_ps(h.sim);   /* the pulse rises now */
	uint64_t card_at_pulse = t + (pulse_ps - snap) * 4001 / 4000000;
	fcap_sim_set_pps(h.sim, true);
	fcap_sim_run(h.sim, 10);
	fcap_sim_set_pps(h.sim, false);
	fcap_sim_run(h.sim, 10);
	CU_ASSERT_EQUAL(fcap_reg_read(h.dev, FCAP_REG_PPS_COUNT), 1);
	uint64_t pps = (uint64_t)fcap_reg_read(h.dev, FCAP_REG_PPS_TIME_HI) << 32 |
		       fcap_reg_read(h.dev, FCAP_REG_PPS_TIME_LO);
	/* within one core clock after the pulse (plus the ns rounding) */
	CU_ASSERT(pps >= card_at_pulse && pps <= card_at_pulse + 5);
	printf("\n    step +1000000-250 ns exact; +250 ppm trim exact over 100000 clocks; PPS latched %lld ns "
	       "after the pulse ", (long long)(pps - card_at_pulse));
	h_close(&h);
}

/* With the host not consuming, the card fills the ring, then drops and
 * counts; the drops come out in the next record once the host resumes. */
static void test_ring_full_drops_are_exact(void)
{
	if (!need_data())
		return;
	struct fcap_ring_config rc = { .blocks = 2, .block_size = 65536, .timeout_ns = 0 };
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	char *path = data_path("synscan.pcapng");
	CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_file(h.sim, 0, path, h.err, sizeof(h.err)), 0);
	free(path);
	fcap_sim_run_until(h.sim, 100000000, FCAP_SIM_STOP_IDLE);
	CU_ASSERT_TRUE_FATAL(fcap_sim_mac_done(h.sim));
	size_t sent = h.sent.n;

	/* Both blocks are published and full; count their records without returning them. */
	CU_ASSERT_EQUAL(fcap_ring_prod(&h.rings[0]), 2);
	CU_ASSERT_TRUE(fcap_reg_read(h.dev, FCAP_REG_STATUS) & FCAP_STATUS_RING_FULL);
	uint64_t in_ring = 0;
	for (uint32_t b = 0; b < 2; b++) {
		struct fcap_block_info bi;
		CU_ASSERT_EQUAL_FATAL(fcap_block_check(h.rings[0].blocks + (size_t)b * rc.block_size, rc.block_size, b,
						       1, &bi, h.err), 0);
		in_ring += bi.records;
	}
	struct fcap_card_counters c;
	CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, 1, &c, h.err), 0);
	uint64_t dropped = sent - in_ring;
	CU_ASSERT(dropped > 0);
	CU_ASSERT_EQUAL(c.port[0].rx_frames, sent);
	CU_ASSERT_EQUAL(c.port[0].drop_ring, dropped);
	CU_ASSERT_EQUAL(c.port[0].drop_fifo, 0);
	CU_ASSERT_EQUAL(c.records, in_ring);

	/* Resume: consume the two blocks, send three more frames. */
	CU_ASSERT_EQUAL_FATAL(h_drain(&h), 0);
	uint8_t frame[100];
	for (int i = 0; i < 3; i++) {
		memset(frame, 0x40 + i, sizeof(frame));
		CU_ASSERT_EQUAL(fcap_sim_mac_add_frame(h.sim, 0, frame, sizeof(frame), false), 0);
	}
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, in_ring + 3);
	const struct frame *first = &h.got.v[in_ring];
	CU_ASSERT_TRUE(first->has_dropcount);
	CU_ASSERT_EQUAL(first->dropcount, dropped);
	CU_ASSERT_FALSE(h.got.v[in_ring + 1].has_dropcount);
	CU_ASSERT_FALSE(h.got.v[in_ring + 2].has_dropcount);
	CU_ASSERT_EQUAL(first->data[0], 0x40);
	CU_ASSERT_EQUAL(h.last_block.drops, dropped);
	printf("\n    %zu sent, %llu in the ring, %llu dropped and reported ", sent,
	       (unsigned long long)in_ring, (unsigned long long)dropped);
	h_close(&h);
}

/* A lone frame on a quiet link reaches the host when the block times out. */
static void test_quiet_link_delivers_within_timeout(void)
{
	const uint64_t timeout_ns = 10000;
	struct fcap_ring_config rc = default_ring;
	rc.timeout_ns = timeout_ns;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	uint8_t frame[60];
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, FCAP_IRQ_BLOCK);
	CU_ASSERT_EQUAL(fcap_sim_mac_add_frame(h.sim, 0, frame, sizeof(frame), false), 0);
	fcap_sim_run_until(h.sim, 1000000, FCAP_SIM_STOP_IRQ);
	CU_ASSERT_TRUE_FATAL(fcap_sim_irq(h.sim));
	CU_ASSERT_EQUAL_FATAL(h.sent.n, 1);
	uint64_t delay_ps = fcap_sim_time_ps(h.sim) - h.sent.v[0].arrival_ps;
	/* Closed no earlier than the timeout, and within 1 us of it. */
	CU_ASSERT(delay_ps >= timeout_ns * 1000);
	CU_ASSERT(delay_ps <= (timeout_ns + 1000) * 1000);
	CU_ASSERT_EQUAL(h_drain(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, 1);
	CU_ASSERT_EQUAL(memcmp(h.got.v[0].data, frame, sizeof(frame)), 0);
	CU_ASSERT_TRUE(h.last_block.close_flags & FCAP_BLOCK_CLOSED_TIMEOUT);
	printf("\n    published %.3f us after arrival (timeout %llu us) ", delay_ps / 1e6,
	       (unsigned long long)timeout_ns / 1000);
	h_close(&h);
}

/* One frame, alone in its block: the block times out and is published.
 * Returns the simulated time (ps) at which the host saw the new producer
 * index, or 0 if it did not within 250000 core clocks (0.8 or 1 ms). */
static uint64_t publish_one_block(struct harness *h, uint32_t prod_before)
{
	static const uint8_t frame[60] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xB5 };
	fcap_sim_mac_add_frame(h->sim, 0, frame, sizeof(frame), false);
	/* Looked at every 25 clocks (80 or 100 ns), so that the time seen is
	 * within a tenth of a microsecond of the write landing. */
	for (int i = 0; i < 10000; i++) {
		if (fcap_ring_prod(&h->rings[0]) != prod_before)
			return fcap_sim_time_ps(h->sim);
		fcap_sim_run(h->sim, 25);
	}
	return 0;
}

/* Interrupt moderation: by count (the interrupt waits for the Nth block), by
 * time (a lone block interrupts that long after it was published), and
 * polling (the interrupt line never rises; IRQ_STATUS still records). */
static void test_interrupt_moderation(void)
{
	struct fcap_ring_config rc = default_ring;
	rc.timeout_ns = 2000;
	rc.irq_blocks = 3;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
	unsigned early = 0, on_count = 0;
	for (uint32_t b = 0; b < 6; b++) {
		CU_ASSERT_FATAL(publish_one_block(&h, b) != 0);
		fcap_sim_run(h.sim, 10);
		if ((b + 1) % 3 != 0) {
			early += fcap_sim_irq(h.sim);
		} else {
			on_count += fcap_sim_irq(h.sim);
			fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
		}
	}
	CU_ASSERT_EQUAL(early, 0);
	CU_ASSERT_EQUAL(on_count, 2);
	h_close(&h);

	/* By time: a count that is not reached, and a 20 us delay. */
	const uint64_t delay_ns = 20000;
	rc.irq_blocks = 8;
	rc.irq_usecs = (uint32_t)(delay_ns / 1000);
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
	uint64_t seen_ps = publish_one_block(&h, 0);
	CU_ASSERT_FATAL(seen_ps != 0);
	CU_ASSERT_FALSE(fcap_sim_irq(h.sim));
	fcap_sim_run_until(h.sim, 100000, FCAP_SIM_STOP_IRQ);
	CU_ASSERT_TRUE_FATAL(fcap_sim_irq(h.sim));
	/* The card counts from the status write leaving it; the host sees that
	 * write a link latency (under 1 us) later. */
	int64_t late_ps = (int64_t)(fcap_sim_time_ps(h.sim) - seen_ps) - (int64_t)delay_ns * 1000;
	CU_ASSERT(late_ps > -1000000 && late_ps < 1000000);
	printf("\n    by count: 0 early, %u of 2 on the 3rd block; by time: %.3f us after the block (delay %llu us) ",
	       on_count, (double)(fcap_sim_time_ps(h.sim) - seen_ps) / 1e6, (unsigned long long)delay_ns / 1000);
	h_close(&h);

	/* Polling: blocks are published, the line stays low. */
	rc.irq_blocks = 0;
	rc.irq_usecs = 0;
	rc.poll = true;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
	unsigned raised = 0;
	for (uint32_t b = 0; b < 3; b++) {
		CU_ASSERT_FATAL(publish_one_block(&h, b) != 0);
		fcap_sim_run(h.sim, 10);
		raised += fcap_sim_irq(h.sim);
	}
	CU_ASSERT_EQUAL(raised, 0);
	CU_ASSERT_EQUAL(fcap_reg_read(h.dev, FCAP_REG_IRQ_STATUS) & 1u, 1u);
	CU_ASSERT_EQUAL(h_drain(&h), 0);
	CU_ASSERT_EQUAL(h.got.n, 3);
	h_close(&h);
}

/* MAC errors are recorded and flagged; the snap length cuts and counts (in
 * the middle of a MAC beat on either card). */
/* Register reads while the card's DMA writes are in flight: a read's
 * completion waits behind the writes (PCIe ordering), and the value it
 * carried must survive the wait. The counters read mid-run never go
 * backwards nor past what was sent, and the last read equals the totals. */
static void test_registers_during_traffic(void)
{
	if (!need_data())
		return;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	unsigned nports = fcap_sim_ports(h.sim);
	struct frames want[FCAP_SIM_MAX_PORTS] = { { 0 } };
	char *path = data_path("synscan.pcapng");
	for (unsigned p = 0; p < nports; p++) {
		CU_ASSERT_FATAL(read_capture(path, &want[p]) > 0);
		CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_file(h.sim, p, path, h.err, sizeof(h.err)), 0);
	}
	free(path);
	uint64_t prev[FCAP_SIM_MAX_PORTS] = { 0 };
	unsigned reads = 0, bad_id = 0, bad_counter = 0, mid_run = 0;
	for (unsigned step = 0; step < 100000; step++) {
		CU_ASSERT_EQUAL_FATAL(h_drain(&h), 0);
		if (fcap_sim_mac_done(h.sim) && fcap_sim_card_idle(h.sim))
			break;
		fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
		fcap_sim_run_until(h.sim, 50, FCAP_SIM_STOP_IDLE);
		if (fcap_reg_read(h.dev, FCAP_REG_ID) != FCAP_ID_MAGIC)
			bad_id++;
		struct fcap_card_counters c;
		CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, nports, &c, h.err), 0);
		reads++;
		bool mid = false;
		for (unsigned p = 0; p < nports; p++) {
			uint64_t rx = c.port[p].rx_frames;
			if (rx < prev[p] || rx > want[p].n)
				bad_counter++;
			mid |= rx > 0 && rx < want[p].n;
			prev[p] = rx;
		}
		mid_run += mid;
	}
	CU_ASSERT_EQUAL_FATAL(fcap_card_stop(h.dev, h.err), 0);
	CU_ASSERT_EQUAL(h_drain(&h), 0);
	CU_ASSERT(mid_run >= 2); /* the reads met the traffic */
	CU_ASSERT_EQUAL(bad_id, 0);
	CU_ASSERT_EQUAL(bad_counter, 0);
	struct fcap_card_counters c;
	CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, nports, &c, h.err), 0);
	for (unsigned p = 0; p < nports; p++)
		CU_ASSERT_EQUAL(c.port[p].rx_frames, want[p].n);
	printf("(%u counter snapshots read during the run, %u while frames arrived) ", reads, mid_run);
	for (unsigned p = 0; p < nports; p++)
		frames_free(&want[p]);
	h_close(&h);
}

static void test_fcs_error_and_snaplen(void)
{
	struct fcap_ring_config rc = default_ring;
	rc.snaplen = 100;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	uint8_t big[1000], small[60];
	memset(big, 0xAB, sizeof(big));
	memset(small, 0xCD, sizeof(small));
	CU_ASSERT_EQUAL(fcap_sim_mac_add_frame(h.sim, 0, big, sizeof(big), true), 0);
	CU_ASSERT_EQUAL(fcap_sim_mac_add_frame(h.sim, 0, small, sizeof(small), false), 0);
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, 2);
	CU_ASSERT_EQUAL(h.got.v[0].caplen, 100);
	CU_ASSERT_EQUAL(h.got.v[0].origlen, 1000);
	CU_ASSERT_TRUE(h.got.v[0].has_flags);
	CU_ASSERT_EQUAL(h.got.v[0].flags, FCAP_EPB_FLAG_INBOUND | FCAP_EPB_FLAG_CRC_ERROR);
	CU_ASSERT_EQUAL(memcmp(h.got.v[0].data, big, 100), 0);
	CU_ASSERT_EQUAL(h.got.v[1].caplen, 60);
	CU_ASSERT_FALSE(h.got.v[1].has_flags);
	struct fcap_card_counters c;
	CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, 1, &c, h.err), 0);
	CU_ASSERT_EQUAL(c.port[0].rx_errors, 1);
	CU_ASSERT_EQUAL(c.port[0].truncated, 1);
	CU_ASSERT_EQUAL(c.port[0].rx_bytes, 1060);
	h_close(&h);
}

/* Every frame length from 1 to 80 bytes, and a jumbo frame: the 4-byte
 * shift of the data and the padding rules at every alignment. */
static void test_all_small_lengths(void)
{
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	static uint8_t frame[9018];
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 13 + 5);
	for (uint32_t len = 1; len <= 80; len++)
		fcap_sim_mac_add_frame(h.sim, 0, frame, len, false);
	fcap_sim_mac_add_frame(h.sim, 0, frame, sizeof(frame), false);
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, 81);
	for (uint32_t i = 0; i < 81; i++) {
		uint32_t len = i < 80 ? i + 1 : sizeof(frame);
		CU_ASSERT_EQUAL(h.got.v[i].caplen, len);
		CU_ASSERT_EQUAL(memcmp(h.got.v[i].data, frame, len), 0);
	}
	h_close(&h);
}

/* A replay file cut in the middle of a record: the frames before the cut
 * are captured, then a clear error names the file and the offset. */
static void test_malformed_replay_is_reported(void)
{
	if (!need_data())
		return;
	char *src = data_path("http_espn.pcapng");
	FILE *in = fopen(src, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	free(src);
	char cut[] = "/tmp/fcap-test-cut-XXXXXX";
	int fd = mkstemp(cut);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, buf, n / 2), (ssize_t)(n / 2));
	close(fd);

	struct frames whole = { 0 };
	size_t good = read_capture(cut, &whole);
	frames_free(&whole);
	CU_ASSERT(good > 0);

	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_file(h.sim, 0, cut, h.err, sizeof(h.err)), 0);
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	const char *e = fcap_sim_mac_error(h.sim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, cut));
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "byte offset"));
	CU_ASSERT_EQUAL(h.got.n, good);
	printf("\n    %zu frames before the cut; error: %s ", good, e);
	h_close(&h);

	/* Not a capture at all: refused when queued, naming the file. */
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &default_ring), 0);
	CU_ASSERT_EQUAL(fcap_sim_mac_add_file(h.sim, 0, "/etc/hostname", h.err, sizeof(h.err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(h.err, "/etc/hostname"));
	h_close(&h);
	unlink(cut);
}

/* The hash orders both directions of a flow the same way: the unordered
 * pair of (address, port) endpoints of an IPv4 TCP/UDP frame, as a key. */
static bool flow_key(const uint8_t *f, uint32_t len, uint8_t key[12])
{
	if (len < 38 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
		return false;
	uint32_t ihl = (uint32_t)(f[14] & 15) * 4;
	if ((f[23] != 6 && f[23] != 17) || 14 + ihl + 4 > len)
		return false;
	uint8_t a[6], b[6];
	memcpy(a, f + 26, 4);
	memcpy(a + 4, f + 14 + ihl, 2);
	memcpy(b, f + 30, 4);
	memcpy(b + 4, f + 14 + ihl + 2, 2);
	bool a_first = memcmp(a, b, 6) < 0;
	memcpy(key, a_first ? a : b, 6);
	memcpy(key + 6, a_first ? b : a, 6);
	return true;
}

/* Every ring of the card (four, or eight on the 100G card), epb_hash on:
 * each record carries the hash the host computes from its bytes, comes
 * through the ring the steering table names for it, and both directions of
 * every flow come through the same ring. */
static void test_flow_hash_and_steering(void)
{
	if (!need_data())
		return;
	static const char *const files[] = { "http_espn.pcapng", "tcp_ports.pcapng", "dns_isp_hijack.pcapng",
					     "arppoison.pcapng" };
	struct fcap_ring_config rc = default_ring;
	rc.rings = H_ALL_RINGS;
	rc.hash = true;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	for (unsigned i = 0; i < 4; i++) {
		char *path = data_path(files[i]);
		CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_file(h.sim, i % fcap_sim_ports(h.sim), path, h.err,
							    sizeof(h.err)), 0);
		free(path);
	}
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, h.sent.n);

	size_t wrong_hash = 0, wrong_ring = 0, split_flows = 0, flows = 0;
	size_t per_ring[FCAP_MAX_RINGS] = { 0 };
	struct { uint8_t key[12]; unsigned ring; } *seen = calloc(h.got.n, sizeof(*seen));
	for (size_t i = 0; i < h.got.n; i++) {
		const struct frame *g = &h.got.v[i];
		CU_ASSERT_TRUE_FATAL(g->has_hash);
		if (g->hash != fcap_flow_hash(g->data, g->caplen))
			wrong_hash++;
		if (g->ring != (g->hash & 127) % h.nrings)
			wrong_ring++;
		per_ring[g->ring]++;
		uint8_t key[12];
		if (!flow_key(g->data, g->caplen, key))
			continue;
		size_t k = 0;
		while (k < flows && memcmp(seen[k].key, key, 12))
			k++;
		if (k == flows) {
			memcpy(seen[flows].key, key, 12);
			seen[flows++].ring = g->ring;
		} else if (seen[k].ring != g->ring) {
			split_flows++;
			seen[k].ring = g->ring; /* count each change once */
		}
	}
	free(seen);
	CU_ASSERT_EQUAL(wrong_hash, 0);
	CU_ASSERT_EQUAL(wrong_ring, 0);
	CU_ASSERT_EQUAL(split_flows, 0);
	char spread[160] = "";
	for (unsigned r = 0; r < h.nrings; r++) {
		CU_ASSERT(per_ring[r] > 0);
		snprintf(spread + strlen(spread), sizeof(spread) - strlen(spread), "%s%zu", r ? "/" : "",
			 per_ring[r]);
	}
	printf("\n    %zu records, %zu TCP/UDP flows; per ring %s; hash mismatches %zu, "
	       "misrouted %zu, flows split across rings %zu ", h.got.n, flows, spread, wrong_hash, wrong_ring,
	       split_flows);
	h_close(&h);
}

/* A frame of one header shape for the hash test: Ethernet with 0..3 VLAN
 * tags, then IPv4 (options, fragments, any protocol), IPv6 (any next
 * header), or another EtherType; random addresses and ports; cut at a
 * random length, so that every field the hash reads is sometimes missing. */
static uint32_t shape_rng = 12345;
static uint32_t shape_rand(void)
{
	shape_rng ^= shape_rng << 13;
	shape_rng ^= shape_rng >> 17;
	shape_rng ^= shape_rng << 5;
	return shape_rng;
}

static size_t make_shape(uint8_t *f, size_t cap)
{
	static const uint8_t protos[] = { 6, 17, 132, 1, 50, 58 };
	static const uint16_t tags[] = { 0x8100, 0x88A8 };
	for (size_t i = 0; i < cap; i++)
		f[i] = (uint8_t)shape_rand();
	size_t off = 12;
	unsigned ntags = shape_rand() % 4;          /* the third tag is not skipped */
	for (unsigned t = 0; t < ntags; t++, off += 4) {
		f[off] = (uint8_t)(tags[shape_rand() % 2] >> 8);
		f[off + 1] = (uint8_t)tags[shape_rand() % 2];
	}
	size_t l3 = off + 2;
	size_t full;
	switch (shape_rand() % 4) {
	case 0: case 1: {                            /* IPv4 */
		f[off] = 0x08, f[off + 1] = 0x00;
		unsigned ihl = shape_rand() % 4 ? 5 + shape_rand() % 3 : shape_rand() % 16;
		f[l3] = (uint8_t)((shape_rand() % 8 ? 0x40 : 0x60) | ihl);
		unsigned frag = shape_rand() % 4;            /* 0: none; else MF, offset high, offset low */
		f[l3 + 6] = (uint8_t)((f[l3 + 6] & 0x80) | (frag == 1 ? 0x20 : 0) | (frag == 2 ? 0x01 : 0));
		f[l3 + 7] = frag == 3 ? 0x08 : 0;
		f[l3 + 9] = protos[shape_rand() % sizeof(protos)];
		full = l3 + ihl * 4 + 8;
		break;
	}
	case 2:                                      /* IPv6 */
		f[off] = 0x86, f[off + 1] = 0xDD;
		f[l3] = shape_rand() % 8 ? 0x60 : 0x40;
		f[l3 + 6] = protos[shape_rand() % sizeof(protos)];
		full = l3 + 48;
		break;
	default:                                     /* ARP, or any EtherType */
		if (shape_rand() % 2)
			f[off] = 0x08, f[off + 1] = 0x06;
		full = l3 + 28;
		break;
	}
	size_t len = shape_rand() % 3 ? full + shape_rand() % 40 : 1 + shape_rand() % (full + 8);
	return len < cap ? len : cap;
}

/* The card's flow hash against host/lib/flowhash.c (the reference) over
 * frames of every header shape the hash tells apart, each cut short at
 * random: the bundled captures hold no IPv6, VLAN tags or fragments. */
static void test_flow_hash_header_shapes(void)
{
	struct fcap_ring_config rc = default_ring;
	rc.hash = true;
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	const unsigned n = 3000;
	uint8_t f[128];
	for (unsigned i = 0; i < n; i++) {
		size_t len = make_shape(f, sizeof(f));
		CU_ASSERT_EQUAL_FATAL(fcap_sim_mac_add_frame(h.sim, i % fcap_sim_ports(h.sim), f, len, false), 0);
	}
	CU_ASSERT_EQUAL_FATAL(h_run_to_end(&h), 0);
	CU_ASSERT_EQUAL_FATAL(h.got.n, n);
	size_t wrong = 0, v4_ports = 0, v6_ports = 0;
	for (size_t i = 0; i < h.got.n; i++) {
		const struct frame *g = &h.got.v[i];
		CU_ASSERT_TRUE_FATAL(g->has_hash);
		if (g->hash != fcap_flow_hash(g->data, g->caplen)) {
			if (wrong++ < 5)
				printf("\n    frame %zu (%u bytes): card %08x, reference %08x", i, g->caplen, g->hash,
				       fcap_flow_hash(g->data, g->caplen));
		}
		/* how many frames reached the deepest branches */
		v4_ports += g->caplen >= 38 && g->data[12] == 0x08 && g->data[13] == 0 && g->data[14] == 0x45 &&
			    g->data[23] == 6;
		v6_ports += g->caplen >= 58 && g->data[12] == 0x86 && g->data[13] == 0xDD && g->data[14] == 0x60 &&
			    g->data[20] == 17;
	}
	printf("\n    %zu frames, %zu untagged IPv4 TCP, %zu untagged IPv6 UDP; hash mismatches %zu ", h.got.n,
	       v4_ports, v6_ports, wrong);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(v4_ports > 5);
	CU_ASSERT(v6_ports > 5);
	h_close(&h);
}

/* Runs last: the simulator samples the card's outputs without settling the
 * model after driving its inputs, which is exact only if no output depends
 * on an input combinationally. Every core edge of the tests above was
 * checked (FCAP_SIM_CHECK_OUTPUTS, set in main). */
static void test_outputs_are_registered(void)
{
	printf("(%llu core edges checked) ", (unsigned long long)h_outputs_checked);
	CU_ASSERT(h_outputs_checked > 100000);
	CU_ASSERT_EQUAL(h_outputs_unsettled, 0);
}

int main(int argc, char **argv)
{
	const char *d = getenv("FCAP_DATA");
	if (d && access(d, R_OK | X_OK) == 0)
		data_dir = d;
	if (argc > 2) {
		fprintf(stderr, "usage: test_card [CARD]\n");
		return 2;
	}
	card_name = argc > 1 ? argv[1] : "4x10g";
	setenv("FCAP_SIM_CHECK_OUTPUTS", "1", 1);
	bool reference = !strcmp(card_name, "4x10g");
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	char suite[64];
	snprintf(suite, sizeof(suite), "simulated card %s", card_name);
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);
	CU_add_test(s, "card describes itself; registers", test_card_describes_itself);
	CU_add_test(s, "replayed captures come out identical, timestamped", test_replay_is_identical);
	CU_add_test(s, "fractional clock increment is exact", test_fractional_clock_is_exact);
	if (reference)
		CU_add_test(s, "time: step adjust, frequency trim, PPS latch", test_time_adjust_trim_pps);
	CU_add_test(s, "ring full: exact drops, reported in the next record", test_ring_full_drops_are_exact);
	CU_add_test(s, "quiet link delivers within the block timeout", test_quiet_link_delivers_within_timeout);
	CU_add_test(s, "interrupt moderation by count and time; polling", test_interrupt_moderation);
	CU_add_test(s, "register reads while DMA writes are in flight", test_registers_during_traffic);
	CU_add_test(s, "FCS error flag and snap length", test_fcs_error_and_snaplen);
	CU_add_test(s, "every small frame length", test_all_small_lengths);
	if (reference)
		CU_add_test(s, "malformed replay file is reported", test_malformed_replay_is_reported);
	CU_add_test(s, "flow hash, steering to every ring, flows kept whole", test_flow_hash_and_steering);
	CU_add_test(s, "flow hash of every header shape against the reference", test_flow_hash_header_shapes);
	CU_add_test(s, "the outputs the simulator samples come from flip-flops", test_outputs_are_registered);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
