/*
 * fcap/ring.h - the host side of the ring protocol (docs/FORMAT.md).
 *
 * The card writes blocks and publishes its producer index to a status word
 * in host memory; the host reads blocks in order and returns each by writing
 * its consumer index to the card. One writer per index: the card never
 * writes CONS, the host never writes PROD.
 *
 * Memory ordering: the status word is read with acquire semantics, so every
 * byte of a block the card published before it is visible to the reads that
 * follow; the consumer index is written only after the host has finished with
 * the block (a release fence orders the host's reads before that write).
 */
#ifndef FCAP_RING_H
#define FCAP_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "fcap/dev.h"

struct fcap_card_info;

struct fcap_ring_config {
	uint32_t blocks;        /* number of blocks */
	uint32_t block_size;    /* bytes, multiple of 4096 */
	uint64_t timeout_ns;    /* close a non-empty block after this long; 0 = never */
	uint32_t snaplen;       /* 0 = card maximum */
	uint32_t rings;         /* rings to use, spread over by flow hash; 0 = all the card has */
	bool hash;              /* the card writes each frame's flow hash (epb_hash) */
	/* Interrupt moderation, per ring: interrupt once irq_blocks blocks are
	 * published (0 or 1: every block), or irq_usecs after the first of them
	 * (0: never on time alone), whichever comes first. */
	uint32_t irq_blocks;
	uint32_t irq_usecs;
	bool poll;              /* no interrupts: the host looks at the rings itself */
	/* The card's time of day at start, ns since the epoch; 0: the host's
	 * clock. Pinned, a simulated card gives the same output every run. */
	uint64_t start_time_ns;
};

struct fcap_ring {
	struct fcap_dev *dev;
	uint32_t index;                /* the card's ring number */
	struct fcap_dma_buf mem;       /* status page followed by the blocks */
	uint8_t *blocks;
	const uint32_t *status;        /* card-written producer index */
	uint32_t nblocks;
	uint32_t block_size;
	uint32_t cons;                 /* blocks returned to the card */
};

/*
 * Sets up rings 0..n-1 of the card (n <= the card's ring count), each with
 * cfg's geometry, in disjoint parts of the block table; resets the card's ring
 * state once; spreads the flow steering table over the n rings (entry i to
 * ring i % n); enables their interrupts. On a driver's card (pcie) the driver
 * owns the rings and this maps them. Returns 0 or -1 with everything undone.
 */
int fcap_rings_setup(struct fcap_ring *rings, unsigned n, struct fcap_dev *dev,
		     const struct fcap_card_info *ci, const struct fcap_ring_config *cfg, char *errbuf);
/* Stops the card writing into the rings (a draining ring reset), then frees them. */
void fcap_rings_teardown(struct fcap_ring *rings, unsigned n);

/* The card's producer index, read with acquire semantics. */
uint32_t fcap_ring_prod(const struct fcap_ring *ring);
/* The next published block in *blk: returns 1, or 0 when the host has
 * consumed them all, or -1 when the producer index is impossible (more
 * blocks published than the ring has: a card that lies). */
int fcap_ring_peek(struct fcap_ring *ring, uint8_t **blk, char *errbuf);
/* The published block `ahead` places after the next one (blocks handed to
 * an asynchronous writer are still the host's until released, in order). */
int fcap_ring_peek_at(struct fcap_ring *ring, uint32_t ahead, uint8_t **blk, char *errbuf);
/* Returns the block from fcap_ring_peek() to the card. */
int fcap_ring_release(struct fcap_ring *ring, char *errbuf);

#endif
