/*
 * harness.h - the simulated card set up through libfcap, for the simulation
 * tests: open it, feed its MACs, consume its rings, and compare what came out
 * with what went in (tests/sim/test_card.c, test_scoreboard.c).
 */
#ifndef FCAP_TEST_HARNESS_H
#define FCAP_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/block.h"
#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"
#include "fcap/ring.h"
#include "fcap_sim.h"

#define T0_NS 1700000000123456789ull /* card time loaded at set-up */
#define H_ALL_RINGS 0xFFFFFFFFu       /* fcap_ring_config.rings: every ring the card has */

struct frame {
	unsigned port;
	uint8_t *data;
	uint32_t caplen, origlen;
	uint64_t ts;           /* card timestamp (received) */
	uint64_t arrival_ps;   /* first byte on the wire (sent) */
	uint64_t first_beat_ps;
	bool has_flags, has_dropcount, has_hash;
	uint32_t flags;
	uint64_t dropcount;
	uint32_t hash;
	unsigned ring;         /* the ring it came through */
};

struct frames {
	struct frame *v;
	size_t n, cap;
};

struct harness {
	struct fcap_dev *dev;
	struct fcap_sim *sim;
	struct fcap_card_info ci;
	struct fcap_ring rings[FCAP_MAX_RINGS];
	unsigned nrings;
	struct frames sent, got;
	uint64_t time0_ps;       /* simulated time at which the card's clock read T0_NS */
	uint64_t blocks;
	uint32_t block_drops;    /* sum of the block headers' drops fields */
	struct fcap_block_info last_block;
	char err[FCAP_ERRBUF_SIZE];
};

extern const char *data_dir;             /* $FCAP_DATA, or NULL */
/* Summed over every harness closed: core edges whose sampled outputs were
 * checked, and those at which one moved (fcap_sim_outputs_unsettled). */
extern uint64_t h_outputs_checked, h_outputs_unsettled;
extern const char *card_name;            /* the simulated card the tests open (NULL: "4x10g") */
extern const struct fcap_ring_config default_ring;

uint64_t time_set_ps(const struct fcap_sim *sim);
uint64_t snapshot_ps(const struct fcap_sim *sim);
struct frame *frames_add(struct frames *f);
void frames_free(struct frames *f);
int h_open(struct harness *h, const struct fcap_ring_config *rc);
void h_close(struct harness *h);
int h_drain(struct harness *h);
int h_run_to_end(struct harness *h);
uint64_t first_core_edge_after(const struct harness *h, uint64_t t_ps);
uint64_t expected_ts(const struct harness *h, uint64_t t_ps);
void frames_of_port(const struct frames *all, unsigned port, struct frames *out);
bool need_data(void);
char *data_path(const char *name);
size_t read_capture(const char *path, struct frames *out);

#endif
