/*
 * ring.c - host side of the ring protocol (fcap/ring.h, docs/FORMAT.md).
 *
 * Memory: one DMA buffer holds a 4 KiB status page (the card writes the
 * producer index at offset 0) followed by the blocks, so that one hugepage
 * allocation serves the whole ring.
 */
#include "fcap/ring.h"

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

static uint32_t timeout_clocks(uint64_t timeout_ns, uint64_t clock_hz)
{
	unsigned __int128 c = (unsigned __int128)timeout_ns * clock_hz / 1000000000u;
	if (timeout_ns && c == 0)
		c = 1;
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* A driver owns the ring (pcie): it allocated and programmed it; we map it. */
static int map_driver_ring(struct fcap_ring *ring, struct fcap_dev *dev, const struct fcap_card_info *ci,
			   const struct fcap_ring_config *cfg, char *errbuf)
{
	if (cfg->snaplen > ci->max_snaplen)
		return fcap_err(errbuf, "snap length %u: the card keeps at most %u bytes", cfg->snaplen,
				ci->max_snaplen);
	if (dev->ops->ring_map(dev, cfg, ring, errbuf) < 0)
		return -1;
	ring->dev = dev;
	ring->cons = 0; /* the driver resets the indices when capture starts */
	return 0;
}

int fcap_ring_setup(struct fcap_ring *ring, struct fcap_dev *dev, const struct fcap_card_info *ci,
		    const struct fcap_ring_config *cfg, char *errbuf)
{
	memset(ring, 0, sizeof(*ring));
	if (dev->ops->ring_map)
		return map_driver_ring(ring, dev, ci, cfg, errbuf);
	if (check_config(ci, cfg, errbuf) < 0)
		return -1;
	size_t len = STATUS_PAGE + (size_t)cfg->blocks * cfg->block_size;
	if (dev->ops->dma_alloc(dev, len, &ring->mem, errbuf) < 0)
		return -1;
	ring->dev = dev;
	ring->nblocks = cfg->blocks;
	ring->block_size = cfg->block_size;
	ring->status = (const uint32_t *)ring->mem.va;
	ring->blocks = (uint8_t *)ring->mem.va + STATUS_PAGE;
	memset(ring->mem.va, 0, STATUS_PAGE);

	uint64_t status_bus = ring->mem.bus;
	int bad = fcap_reg_write(dev, FCAP_REG_CTRL, 0);
	bad |= fcap_reg_write(dev, FCAP_REG_RING_BLOCKS, cfg->blocks);
	bad |= fcap_reg_write(dev, FCAP_REG_RING_BLOCK_SIZE, cfg->block_size);
	bad |= fcap_reg_write(dev, FCAP_REG_RING_STATUS_LO, (uint32_t)status_bus);
	bad |= fcap_reg_write(dev, FCAP_REG_RING_STATUS_HI, (uint32_t)(status_bus >> 32));
	for (uint32_t i = 0; i < cfg->blocks && !bad; i++) {
		uint64_t bus = ring->mem.bus + STATUS_PAGE + (uint64_t)i * cfg->block_size;
		bad |= fcap_reg_write(dev, FCAP_REG_RING_TABLE + 8 * i, (uint32_t)bus);
		bad |= fcap_reg_write(dev, FCAP_REG_RING_TABLE + 8 * i + 4, (uint32_t)(bus >> 32));
	}
	bad |= fcap_reg_write(dev, FCAP_REG_RING_TIMEOUT, timeout_clocks(cfg->timeout_ns, ci->clock_hz));
	bad |= fcap_reg_write(dev, FCAP_REG_SNAPLEN, cfg->snaplen);
	if (!bad && fcap_card_ring_reset(dev, errbuf) < 0) {
		fcap_ring_teardown(ring);
		return -1;
	}
	bad |= fcap_reg_write(dev, FCAP_REG_IRQ_STATUS, FCAP_IRQ_BLOCK);
	bad |= fcap_reg_write(dev, FCAP_REG_IRQ_ENABLE, FCAP_IRQ_BLOCK);
	if (bad) {
		fcap_ring_teardown(ring);
		return fcap_err(errbuf, "%s: programming the ring registers failed", dev->ops->name);
	}
	if (fcap_reg_read(dev, FCAP_REG_RING_PROD) != 0 || fcap_reg_read(dev, FCAP_REG_RING_CONS) != 0) {
		fcap_ring_teardown(ring);
		return fcap_err(errbuf, "%s: ring indices did not reset", dev->ops->name);
	}
	return 0;
}

void fcap_ring_teardown(struct fcap_ring *ring)
{
	if (ring->dev && ring->mem.va && ring->dev->ops->ring_unmap) {
		ring->dev->ops->ring_unmap(ring->dev, ring);
	} else if (ring->dev && ring->mem.va) {
		char ignored[FCAP_ERRBUF_SIZE];
		fcap_reg_write(ring->dev, FCAP_REG_CTRL, 0);
		fcap_reg_write(ring->dev, FCAP_REG_IRQ_ENABLE, 0);
		/* The reset drains: once done, the card writes nothing more into the
		 * ring (it has no open block); then point it at no memory. If it
		 * never finishes, the memory is leaked rather than freed under a
		 * card that may still write to it. */
		if (fcap_card_ring_reset(ring->dev, ignored) < 0) {
			fprintf(stderr, "fcap: %s; ring memory not freed\n", ignored);
			memset(ring, 0, sizeof(*ring));
			return;
		}
		fcap_reg_write(ring->dev, FCAP_REG_RING_BLOCKS, 0);
		ring->dev->ops->dma_free(ring->dev, &ring->mem);
	}
	memset(ring, 0, sizeof(*ring));
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
		return ring->dev->ops->ring_return(ring->dev, ring->cons, errbuf);
	if (fcap_reg_write(ring->dev, FCAP_REG_RING_CONS, ring->cons) < 0)
		return fcap_err(errbuf, "%s: writing RING_CONS failed", ring->dev->ops->name);
	return 0;
}
