/*
 * ring.c - host side of the ring protocol (fcap/ring.h, docs/FORMAT.md).
 *
 * Memory: per ring, one DMA buffer holds a 4 KiB status page (the card writes
 * the producer index at offset 0) followed by the blocks, so that one
 * hugepage allocation serves the whole ring. Ring r's block addresses are
 * block table entries r * blocks .. r * blocks + blocks - 1.
 */
#include "fcap/ring.h"
#include "fcap/uapi.h"

#include <stdio.h>
#include <string.h>

#include "fcap/card.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the card writes little-endian records that the host reads in place");

#define STATUS_PAGE 4096u

static int check_config(const struct fcap_card_info *ci, const struct fcap_ring_config *cfg, char *errbuf)
{
	if (cfg->blocks < 2 || cfg->blocks > ci->max_blocks)
		return fcap_err(errbuf, "ring of %u blocks: the card supports 2..%u", cfg->blocks, ci->max_blocks);
	if (cfg->block_size < ci->min_block_size || cfg->block_size > ci->max_block_size ||
	    cfg->block_size % ci->block_align || cfg->block_size % 4096u)
		return fcap_err(errbuf, "block size %u: the card takes %u..%u bytes in multiples of %u",
				cfg->block_size, ci->min_block_size, ci->max_block_size,
				ci->block_align > 4096u ? ci->block_align : 4096u);
	if ((uint64_t)cfg->blocks * cfg->block_size > (1ull << 40))
		return fcap_err(errbuf, "ring of %u x %u bytes is larger than 1 TiB", cfg->blocks, cfg->block_size);
	if (cfg->snaplen > ci->max_snaplen)
		return fcap_err(errbuf, "snap length %u: the card keeps at most %u bytes", cfg->snaplen,
				ci->max_snaplen);
	/* A record of max_snaplen bytes must fit an empty block. */
	if ((uint64_t)ci->max_snaplen + 64u + FCAP_BLOCK_HEADER_LEN + FCAP_MIN_PAD_LEN > cfg->block_size)
		return fcap_err(errbuf, "block size %u cannot hold a %u-byte frame", cfg->block_size,
				ci->max_snaplen);
	return 0;
}


/* Interrupt moderation a card and driver can carry out. */
static int check_irq(const struct fcap_ring_config *cfg, char *errbuf)
{
	if (cfg->irq_usecs > FCAP_MAX_IRQ_USECS)
		return fcap_err(errbuf, "interrupt delay %u us: at most %u us", cfg->irq_usecs, FCAP_MAX_IRQ_USECS);
	if (cfg->blocks && cfg->irq_blocks > cfg->blocks)
		return fcap_err(errbuf, "interrupt every %u blocks: a ring has only %u", cfg->irq_blocks,
				cfg->blocks);
	return 0;
}

static uint32_t timeout_clocks(uint64_t timeout_ns, uint64_t clock_hz)
{
	unsigned __int128 c = (unsigned __int128)timeout_ns * clock_hz / 1000000000u;
	if (timeout_ns && c == 0)
		c = 1;
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* A driver owns the rings (pcie): it allocated and programmed them; we map them. */
static int map_driver_rings(struct fcap_ring *rings, unsigned n, struct fcap_dev *dev,
			    const struct fcap_card_info *ci, const struct fcap_ring_config *cfg, char *errbuf)
{
	if (cfg->snaplen > ci->max_snaplen)
		return fcap_err(errbuf, "snap length %u: the card keeps at most %u bytes", cfg->snaplen,
				ci->max_snaplen);
	for (unsigned r = 0; r < n; r++) {
		rings[r].index = r;
		if (dev->ops->ring_map(dev, cfg, &rings[r], errbuf) < 0) {
			fcap_err_prefix(errbuf, "ring %u", r);
			fcap_rings_teardown(rings, r);
			return -1;
		}
		rings[r].dev = dev;
		rings[r].cons = 0; /* the driver resets the indices when capture starts */
	}
	return 0;
}

static int write_ring_reg(struct fcap_dev *dev, uint32_t ring, uint32_t off, uint32_t val)
{
	return fcap_reg_write(dev, FCAP_RING_REG(ring, off), val);
}

/* Allocates ring r's memory and programs its registers and table entries. */
static int program_ring(struct fcap_ring *ring, uint32_t r, struct fcap_dev *dev, const struct fcap_card_info *ci,
			const struct fcap_ring_config *cfg, char *errbuf)
{
	size_t len = STATUS_PAGE + (size_t)cfg->blocks * cfg->block_size;
	if (dev->ops->dma_alloc(dev, len, &ring->mem, errbuf) < 0)
		return -1;
	ring->dev = dev;
	ring->index = r;
	ring->nblocks = cfg->blocks;
	ring->block_size = cfg->block_size;
	ring->status = (const uint32_t *)ring->mem.va;
	ring->blocks = (uint8_t *)ring->mem.va + STATUS_PAGE;
	memset(ring->mem.va, 0, STATUS_PAGE);

	uint64_t status_bus = ring->mem.bus;
	uint32_t table_base = r * cfg->blocks;
	int bad = write_ring_reg(dev, r, FCAP_RING_BLOCKS, cfg->blocks);
	bad |= write_ring_reg(dev, r, FCAP_RING_BLOCK_SIZE, cfg->block_size);
	bad |= write_ring_reg(dev, r, FCAP_RING_STATUS_LO, (uint32_t)status_bus);
	bad |= write_ring_reg(dev, r, FCAP_RING_STATUS_HI, (uint32_t)(status_bus >> 32));
	bad |= write_ring_reg(dev, r, FCAP_RING_TABLE_BASE, table_base);
	for (uint32_t i = 0; i < cfg->blocks && !bad; i++) {
		uint64_t bus = ring->mem.bus + STATUS_PAGE + (uint64_t)i * cfg->block_size;
		uint32_t entry = FCAP_REG_RING_TABLE + 8 * (table_base + i);
		bad |= fcap_reg_write(dev, entry, (uint32_t)bus);
		bad |= fcap_reg_write(dev, entry + 4, (uint32_t)(bus >> 32));
	}
	bad |= write_ring_reg(dev, r, FCAP_RING_TIMEOUT, timeout_clocks(cfg->timeout_ns, ci->clock_hz));
	bad |= write_ring_reg(dev, r, FCAP_RING_IRQ_COUNT, cfg->irq_blocks);
	bad |= write_ring_reg(dev, r, FCAP_RING_IRQ_TIME,
			      cfg->irq_usecs ? timeout_clocks(cfg->irq_usecs * 1000ull, ci->clock_hz) : 0);
	if (bad)
		return fcap_err(errbuf, "%s: programming ring %u's registers failed", dev->ops->name, r);
	return 0;
}

int fcap_rings_setup(struct fcap_ring *rings, unsigned n, struct fcap_dev *dev,
		     const struct fcap_card_info *ci, const struct fcap_ring_config *cfg, char *errbuf)
{
	memset(rings, 0, n * sizeof(*rings));
	if (n == 0 || n > ci->rings || n > FCAP_MAX_RINGS)
		return fcap_err(errbuf, "%u rings: the card has %u", n, ci->rings);
	if (check_irq(cfg, errbuf) < 0)
		return -1;
	if (dev->ops->ring_map)
		return map_driver_rings(rings, n, dev, ci, cfg, errbuf);
	/* The rings share the card's block table. */
	struct fcap_card_info per_ring = *ci;
	per_ring.max_blocks = ci->max_blocks / n;
	if (check_config(&per_ring, cfg, errbuf) < 0) {
		if (n > 1)
			fcap_err_prefix(errbuf, "each of %u rings", n);
		return -1;
	}
	if (fcap_reg_write(dev, FCAP_REG_CTRL, 0) < 0)
		return fcap_err(errbuf, "%s: disabling capture failed", dev->ops->name);
	for (unsigned r = 0; r < n; r++) {
		if (program_ring(&rings[r], r, dev, ci, cfg, errbuf) < 0) {
			fcap_rings_teardown(rings, r + 1);
			return -1;
		}
	}
	int bad = fcap_reg_write(dev, FCAP_REG_SNAPLEN, cfg->snaplen);
	for (uint32_t i = 0; i < FCAP_STEER_ENTRIES && !bad; i++)
		bad |= fcap_reg_write(dev, FCAP_REG_STEER + 4 * i, i % n);
	if (bad || fcap_card_ring_reset(dev, errbuf) < 0) {
		fcap_rings_teardown(rings, n);
		return bad ? fcap_err(errbuf, "%s: programming the card failed", dev->ops->name) : -1;
	}
	/* Polling: the interrupt stays masked (IRQ_STATUS still records). */
	uint32_t irq_bits = cfg->poll ? 0 : (uint32_t)((1ull << n) - 1);
	bad |= fcap_reg_write(dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu);
	bad |= fcap_reg_write(dev, FCAP_REG_IRQ_ENABLE, irq_bits);
	for (unsigned r = 0; r < n && !bad; r++)
		bad |= fcap_reg_read(dev, FCAP_RING_REG(r, FCAP_RING_PROD)) != 0 ||
		       fcap_reg_read(dev, FCAP_RING_REG(r, FCAP_RING_CONS)) != 0;
	if (bad) {
		fcap_rings_teardown(rings, n);
		return fcap_err(errbuf, "%s: ring indices did not reset", dev->ops->name);
	}
	return 0;
}

void fcap_rings_teardown(struct fcap_ring *rings, unsigned n)
{
	struct fcap_dev *dev = NULL;
	for (unsigned r = 0; r < n && !dev; r++)
		dev = rings[r].dev;
	if (!dev)
		return;
	if (dev->ops->ring_unmap) {
		for (unsigned r = 0; r < n; r++)
			if (rings[r].mem.va)
				dev->ops->ring_unmap(dev, &rings[r]);
		memset(rings, 0, n * sizeof(*rings));
		return;
	}
	char why[FCAP_ERRBUF_SIZE];
	fcap_reg_write(dev, FCAP_REG_CTRL, 0);
	fcap_reg_write(dev, FCAP_REG_IRQ_ENABLE, 0);
	/* The reset drains: once done, the card writes nothing more into the
	 * rings (no block is open); then point it at no memory. If it never
	 * finishes, the memory is leaked rather than freed under a card that
	 * may still write to it. */
	if (fcap_card_ring_reset(dev, why) < 0) {
		fprintf(stderr, "fcap: %s; ring memory not freed\n", why);
		memset(rings, 0, n * sizeof(*rings));
		return;
	}
	for (unsigned r = 0; r < n; r++) {
		if (!rings[r].mem.va)
			continue;
		write_ring_reg(dev, rings[r].index, FCAP_RING_BLOCKS, 0);
		dev->ops->dma_free(dev, &rings[r].mem);
	}
	memset(rings, 0, n * sizeof(*rings));
}

uint32_t fcap_ring_prod(const struct fcap_ring *ring)
{
	return __atomic_load_n(ring->status, __ATOMIC_ACQUIRE);
}

int fcap_ring_peek_at(struct fcap_ring *ring, uint32_t ahead, uint8_t **blk, char *errbuf)
{
	uint32_t prod = fcap_ring_prod(ring);
	uint32_t ready = prod - ring->cons;
	if (ready > ring->nblocks)
		return fcap_err(errbuf, "ring status: producer index %u is %u blocks ahead of consumer "
				"index %u, but the ring has %u blocks", prod, ready, ring->cons, ring->nblocks);
	if (ready <= ahead)
		return 0;
	*blk = ring->blocks + (size_t)((ring->cons + ahead) % ring->nblocks) * ring->block_size;
	return 1;
}

int fcap_ring_peek(struct fcap_ring *ring, uint8_t **blk, char *errbuf)
{
	return fcap_ring_peek_at(ring, 0, blk, errbuf);
}

int fcap_ring_release(struct fcap_ring *ring, char *errbuf)
{
	/* Finish every read of the block before the card may overwrite it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ring->cons++;
	if (ring->dev->ops->ring_return)
		return ring->dev->ops->ring_return(ring->dev, ring->index, ring->cons, errbuf);
	if (write_ring_reg(ring->dev, ring->index, FCAP_RING_CONS, ring->cons) < 0)
		return fcap_err(errbuf, "%s: writing ring %u's CONS failed", ring->dev->ops->name, ring->index);
	return 0;
}
