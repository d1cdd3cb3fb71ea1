/*
 * test_scoreboard.c - randomised traffic through the simulated card, checked
 * frame by frame.
 *
 * Every port gets random frames (64 to 9018 bytes, random bytes) with random
 * idle gaps, at its line rate; frames are steered over all the card's rings
 * by their hash; the PCIe link (the Gen3 x8 model for the 4 x 10G card, Gen4
 * x16 for the 1 x 100G card) may be back-pressured at random; the host may
 * stop consuming for a while. The scoreboard then holds the card to its
 * promise, port by port:
 *   - every frame is either delivered byte-exact, in the port's order, with
 *     the timestamp of the first core clock edge after its first beat,
 *   - or it is dropped, and the port's next record says how many
 *     (epb_dropcount), and frames dropped after the port's last record are
 *     at least counted;
 *   - the card's counters equal what was sent, delivered and dropped.
 *
 * usage: test_scoreboard [--card CARD] [FRAMES_PER_PORT [SEED]]
 *   CARD 4x10g (default) or 1x100g; defaults: 300 frames a port, seed 1.
 * `make test` runs a reduced run of each card; `make bench` a longer sweep.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/card.h"
#include "fcap/cardctl.h"
#include "harness.h"

static unsigned frames_per_port = 300;
static bool hundred_g;       /* the 1x100g card: one port at 100 Gb/s, on Gen4 x16 */
static uint64_t seed = 1;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t random_size(void)
{
	switch (rnd() % 4) {
	case 0: return 64;                                   /* the minimum, back to back */
	case 1: return 64 + (uint32_t)(rnd() % 64);          /* small, odd lengths */
	case 2: return 128 + (uint32_t)(rnd() % 1391);       /* up to 1518 */
	default: return 1519 + (uint32_t)(rnd() % 7500);     /* jumbo, up to 9018 */
	}
}

struct scenario {
	const char *name;
	unsigned bus_stall_pct;  /* random link back-pressure */
	unsigned host_stall_pct; /* chance, per pause of the host, to stop consuming */
	bool expect_drops;
};

struct tally {
	size_t sent, delivered, dropped_reported, dropped_after_last;
	size_t corrupt, bad_ts, bad_dropcount;
};

/* Walks one port's records (in time order) against what was sent. */
static void score_port(const struct harness *h, unsigned port, struct tally *t)
{
	struct frames got = { 0 }, sent = { 0 };
	frames_of_port(&h->got, port, &got);
	frames_of_port(&h->sent, port, &sent);
	/* Records of one port arrive through several rings: order them by time
	 * (timestamps of one port never go backwards). */
	for (size_t i = 1; i < got.n; i++) {
		struct frame x = got.v[i];
		size_t j = i;
		while (j > 0 && got.v[j - 1].ts > x.ts) {
			got.v[j] = got.v[j - 1];
			j--;
		}
		got.v[j] = x;
	}
	size_t next = 0;
	for (size_t r = 0; r < got.n; r++) {
		const struct frame *g = &got.v[r];
		size_t j = next;
		while (j < sent.n && (sent.v[j].caplen != g->caplen || memcmp(sent.v[j].data, g->data, g->caplen)))
			j++;
		if (j == sent.n) {
			t->corrupt++;
			continue;
		}
		size_t skipped = j - next;
		if ((skipped == 0 && g->has_dropcount) || (skipped && (!g->has_dropcount || g->dropcount != skipped)))
			t->bad_dropcount++;
		if (g->ts != expected_ts(h, sent.v[j].first_beat_ps))
			t->bad_ts++;
		t->dropped_reported += skipped;
		t->delivered++;
		next = j + 1;
	}
	t->dropped_after_last += sent.n - next;
	t->sent += sent.n;
	frames_free(&got);
	frames_free(&sent);
}

static void run_scenario(const struct scenario *sc)
{
	rng = 0x9E3779B97F4A7C15ull * (seed + 1) ^ sc->bus_stall_pct;
	struct fcap_ring_config rc = { .blocks = 4, .block_size = 65536, .timeout_ns = 20000,
				       .rings = H_ALL_RINGS };
	struct harness h;
	CU_ASSERT_EQUAL_FATAL(h_open(&h, &rc), 0);
	unsigned nports = fcap_sim_ports(h.sim);
	/* idle gaps scale with the line rate: up to 20 us at 10 Gb/s, 2 us at 100 */
	uint64_t max_gap_ns = hundred_g ? 2000 : 20000;
	struct fcap_sim_bus_config bus;
	fcap_sim_bus_preset(hundred_g ? FCAP_SIM_BUS_GEN4_X16 : FCAP_SIM_BUS_GEN3_X8, &bus);
	bus.stall_pct = sc->bus_stall_pct;
	bus.seed = (uint32_t)seed + 7;
	fcap_sim_set_bus(h.sim, &bus);

	static uint8_t frame[9018];
	for (unsigned p = 0; p < nports; p++) {
		for (unsigned i = 0; i < frames_per_port; i++) {
			uint32_t len = random_size();
			for (uint32_t b = 0; b < len; b += 8) {
				uint64_t v = rnd();
				memcpy(frame + b, &v, len - b < 8 ? len - b : 8);
			}
			fcap_sim_mac_add_frame(h.sim, p, frame, len, false);
			if (rnd() % 8 == 0)
				fcap_sim_mac_add_idle(h.sim, p, rnd() % max_gap_ns);
		}
	}

	/* Consume, sometimes pausing: the ring fills and the card must drop. */
	unsigned rounds = 0;
	while (!(fcap_sim_mac_done(h.sim) && fcap_sim_card_idle(h.sim)) && rounds++ < 1000000) {
		if (rnd() % 100 < sc->host_stall_pct) {
			fcap_sim_run(h.sim, 5000 + rnd() % 100000);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(h_drain(&h), 0);
		fcap_reg_write(h.dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
		fcap_sim_run_until(h.sim, 20000, FCAP_SIM_STOP_IRQ | FCAP_SIM_STOP_IDLE);
	}
	CU_ASSERT_TRUE_FATAL(fcap_sim_mac_done(h.sim));
	CU_ASSERT_EQUAL_FATAL(fcap_card_stop(h.dev, h.err), 0);
	CU_ASSERT_EQUAL_FATAL(h_drain(&h), 0);

	struct tally t = { 0 };
	for (unsigned p = 0; p < nports; p++)
		score_port(&h, p, &t);
	struct fcap_card_counters c;
	CU_ASSERT_EQUAL_FATAL(fcap_card_counters(h.dev, nports, &c, h.err), 0);
	uint64_t rx = 0, dropped = 0;
	for (unsigned p = 0; p < nports; p++) {
		rx += c.port[p].rx_frames;
		dropped += c.port[p].drop_fifo + c.port[p].drop_ring;
	}
	struct fcap_sim_dma_stats dma;
	fcap_sim_dma_stats(h.sim, &dma);
	struct fcap_sim_bus_stats bs;
	fcap_sim_bus_stats(h.sim, &bs);

	CU_ASSERT_EQUAL(t.sent, (size_t)nports * frames_per_port);
	CU_ASSERT_EQUAL(t.corrupt, 0);
	CU_ASSERT_EQUAL(t.bad_ts, 0);
	CU_ASSERT_EQUAL(t.bad_dropcount, 0);
	CU_ASSERT_EQUAL(rx, t.sent);
	CU_ASSERT_EQUAL(c.records, t.delivered);
	CU_ASSERT_EQUAL(dropped, t.dropped_reported + t.dropped_after_last);
	CU_ASSERT_EQUAL(t.delivered + dropped, t.sent);
	CU_ASSERT_EQUAL(dma.faults, 0);
	if (sc->expect_drops) {
		CU_ASSERT(dropped > 0);
	} else {
		CU_ASSERT_EQUAL(dropped, 0);
	}
	/* The simulator samples the card's outputs without settling the model
	 * after driving its inputs (the link's ready among them): exact only if
	 * no output depends on an input combinationally. */
	uint64_t edges_checked = 0;
	CU_ASSERT_EQUAL(fcap_sim_outputs_unsettled(h.sim, &edges_checked), 0);
	CU_ASSERT(edges_checked > 0);
	printf("\n    %s %-22s sent %zu, delivered %zu, dropped %llu (fifo+ring; %zu reported in a next record, "
	       "%zu after a port's last); link stalled %llu clocks; outputs settled at %llu core edges ",
	       fcap_sim_card(h.sim), sc->name, t.sent, t.delivered, (unsigned long long)dropped, t.dropped_reported,
	       t.dropped_after_last, (unsigned long long)bs.stall_cycles, (unsigned long long)edges_checked);
	h_close(&h);
}

static void test_line_rate(void)
{
	static const struct scenario sc = { "line rate, no stalls", 0, 0, false };
	run_scenario(&sc);
}

static void test_overload(void)
{
	static const struct scenario sc = { "link and host stalls", 70, 20, true };
	run_scenario(&sc);
}

int main(int argc, char **argv)
{
	int a = 1;
	card_name = "4x10g";
	if (argc > 2 && !strcmp(argv[1], "--card")) {
		card_name = argv[2];
		a = 3;
	}
	hundred_g = !strcmp(card_name, "1x100g");
	if (argc > a)
		frames_per_port = (unsigned)strtoul(argv[a], NULL, 10);
	if (argc > a + 1)
		seed = strtoull(argv[a + 1], NULL, 10);
	if (argc > a + 2 || frames_per_port == 0) {
		fprintf(stderr, "usage: test_scoreboard [--card CARD] [FRAMES_PER_PORT [SEED]]\n");
		return 2;
	}
	setenv("FCAP_SIM_CHECK_OUTPUTS", "1", 1);   /* see run_scenario */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("scoreboard", NULL, NULL);
	CU_add_test(s, "random traffic at line rate: every frame delivered exactly", test_line_rate);
	CU_add_test(s, "random traffic, link and host stalls: every frame delivered or counted", test_overload);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
