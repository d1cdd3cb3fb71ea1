/*
 * test_async_fifo.c - fcap_async_fifo across unrelated clock ratios.
 *
 * A writer in one clock domain writes frames of 1..8 words, commits most,
 * drops some on purpose, and must drop any frame that met a full FIFO. A
 * reader in the other domain pops at random. The scoreboard: the reader sees
 * exactly the words of the committed frames, in order, none twice, none from
 * a dropped frame. Run for several clock pairs and phases, including the
 * card's real ones (156.25 and 322.27 MHz MACs into a 250 MHz core) and
 * prime-ratio pairs, with phases where the reader stalls so the FIFO fills.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#include "afifo_model.h"
#include "sim_clock.h"

#define QUEUE_CAP (1u << 20)

struct scoreboard {
	uint32_t *expect;
	size_t head, tail;
	uint64_t frames_committed, frames_dropped_full, frames_dropped_choice, words_read;
	uint64_t mismatches;
};

struct writer {
	unsigned left;        /* words left in the frame */
	bool bad;             /* a word met a full FIFO */
	bool drop_on_purpose;
	uint32_t next_word;
	uint32_t frame_words[8];
	unsigned nwords;
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* Chooses the writer's inputs for its coming edge. */
static void writer_step(struct writer *w, struct afifo_model *m, struct scoreboard *sb, bool busy)
{
	struct afifo_wr in = { 0 };
	if (w->left == 0 && busy && rnd() % 2 == 0) {
		w->left = 1 + rnd() % 8;
		w->bad = false;
		w->drop_on_purpose = rnd() % 10 == 0;
		w->nwords = 0;
	}
	if (w->left) {
		in.en = true;
		in.data = w->next_word++;
		if (afifo_wr_full(m))
			w->bad = true;
		else
			w->frame_words[w->nwords++] = in.data;
		if (--w->left == 0) {
			if (w->bad || w->drop_on_purpose) {
				in.drop = true;
				if (w->bad)
					sb->frames_dropped_full++;
				else
					sb->frames_dropped_choice++;
			} else {
				in.commit = true;
				for (unsigned i = 0; i < w->nwords; i++)
					sb->expect[sb->tail++ % QUEUE_CAP] = w->frame_words[i];
				sb->frames_committed++;
			}
		}
	}
	afifo_set_wr(m, &in);
}

/* Chooses the reader's input for its coming edge and checks what it pops. */
static void reader_step(struct afifo_model *m, struct scoreboard *sb, unsigned rd_percent)
{
	bool en = rnd() % 100 < rd_percent;
	if (en && afifo_rd_valid(m)) {
		uint32_t got = afifo_rd_data(m);
		if (sb->head == sb->tail || sb->expect[sb->head % QUEUE_CAP] != got)
			sb->mismatches++;
		else
			sb->head++;
		sb->words_read++;
	}
	afifo_set_rd(m, en);
}

struct ratio {
	const char *name;
	uint64_t wr_ps, rd_ps, rd_phase_ps;
};

static const struct ratio ratios[] = {
	{ "same clock, same phase", 4000, 4000, 0 },
	{ "same frequency, other phase", 4000, 4000, 1234 },
	{ "10G MAC 156.25 MHz -> core 250 MHz", 6400, 4000, 777 },
	{ "100G MAC 322.27 MHz -> core 250 MHz", 3103, 4000, 1500 },
	{ "100G MAC 322.27 MHz -> core 312.5 MHz (the 1x100g card)", 3103, 3200, 1500 },
	{ "core 250 MHz -> 156.25 MHz", 4000, 6400, 333 },
	{ "primes 7919 / 3001 ps", 7919, 3001, 1 },
	{ "fast writer 1000 / 9973 ps", 1000, 9973, 4000 },
	{ "fast reader 9973 / 1000 ps", 9973, 1000, 50 },
};

static void run_ratio(const struct ratio *r)
{
	struct afifo_model *m = afifo_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	struct scoreboard sb = { .expect = malloc(QUEUE_CAP * sizeof(uint32_t)) };
	struct writer w = { .next_word = 1 };
	struct sim_clocks clk = { 0 };
	int wc = sim_clocks_add(&clk, r->wr_ps, 0);
	int rc = sim_clocks_add(&clk, r->rd_ps, r->rd_phase_ps);
	rng_state = 0x9E3779B97F4A7C15ull ^ r->wr_ps * 31 ^ r->rd_ps;

	const unsigned events = 200000;
	for (unsigned e = 0; e < events + 20000; e++) {
		uint32_t mask;
		sim_clocks_next(&clk, &mask);
		bool wr_edge = mask & (1u << wc), rd_edge = mask & (1u << rc);
		/* Phases: normal; the reader mostly stalled (FIFO fills); drain. */
		unsigned phase = e < events ? (e / 20000) % 3 : 3;
		unsigned rd_percent = phase == 1 ? 5 : 70;
		afifo_settle(m);
		if (wr_edge)
			writer_step(&w, m, &sb, phase != 3);
		if (rd_edge)
			reader_step(m, &sb, phase == 3 ? 100 : rd_percent);
		afifo_edge(m, wr_edge, rd_edge);
	}
	CU_ASSERT_EQUAL(sb.mismatches, 0);
	CU_ASSERT_EQUAL(sb.head, sb.tail);      /* every committed word arrived */
	CU_ASSERT(sb.frames_committed > 1000);
	CU_ASSERT(sb.frames_dropped_full > 0);  /* the full path was exercised */
	CU_ASSERT(sb.frames_dropped_choice > 0);
	printf("\n    %-38s %6llu frames committed, %5llu dropped when full, %4llu on purpose, %s",
	       r->name, (unsigned long long)sb.frames_committed, (unsigned long long)sb.frames_dropped_full,
	       (unsigned long long)sb.frames_dropped_choice,
	       sb.mismatches || sb.head != sb.tail ? "MISMATCH" : "in order");
	free(sb.expect);
	afifo_destroy(m);
}

static void test_ratios(void)
{
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
		run_ratio(&ratios[i]);
	printf("\n");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("async fifo", NULL, NULL);
	CU_add_test(s, "frames cross unrelated clocks whole, in order", test_ratios);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
