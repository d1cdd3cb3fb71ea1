// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_ring.c - ring memory, block tables, start and stop, consumer index.
 *
 * Each ring is a status page (the card writes its producer index there)
 * and nblocks blocks of block_size bytes in DMA-coherent memory. A block
 * must be contiguous on the bus, and the page allocator hands out at most
 * 4 MiB at once, so blocks come in chunks of as many blocks as fit 4 MiB;
 * when memory is fragmented the chunks shrink, down to one block each.
 * The ring protocol itself is docs/FORMAT.md, section 3.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/iopoll.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "fcap.h"
#include "fcap_check.h"

/* A stop gives the card this long to drain and close its blocks. */
#define FCAP_STOP_TIMEOUT_US	1000000
#define FCAP_STOP_POLL_US	10

static void fcap_ring_free_chunks(struct fcap_dev *fdev, struct fcap_ring *ring)
{
	struct device *dev = &fdev->pdev->dev;
	u32 c;

	for (c = 0; ring->chunks && c < ring->nchunks; c++)
		if (ring->chunks[c].cpu)
			dma_free_coherent(dev, ring->chunks[c].len, ring->chunks[c].cpu,
					  ring->chunks[c].dma);
	kfree(ring->chunks);
	ring->chunks = NULL;
	ring->nchunks = 0;
}

static int fcap_ring_try_chunks(struct fcap_dev *fdev, struct fcap_ring *ring, u32 chunk_blocks)
{
	struct device *dev = &fdev->pdev->dev;
	u32 c, n;

	ring->chunk_blocks = chunk_blocks;
	ring->nchunks = DIV_ROUND_UP(ring->nblocks, chunk_blocks);
	ring->chunks = kcalloc(ring->nchunks, sizeof(*ring->chunks), GFP_KERNEL);
	if (!ring->chunks)
		return -ENOMEM;
	for (c = 0; c < ring->nchunks; c++) {
		n = min(chunk_blocks, ring->nblocks - c * chunk_blocks);
		ring->chunks[c].len = (size_t)n * ring->block_size;
		ring->chunks[c].cpu = dma_alloc_coherent(dev, ring->chunks[c].len,
							 &ring->chunks[c].dma,
							 GFP_KERNEL | __GFP_NOWARN);
		if (!ring->chunks[c].cpu) {
			fcap_ring_free_chunks(fdev, ring);
			return -ENOMEM;
		}
	}
	return 0;
}

static int fcap_ring_alloc(struct fcap_dev *fdev, struct fcap_ring *ring, u64 *offset)
{
	struct device *dev = &fdev->pdev->dev;
	u32 chunk_blocks = fcap_chunk_blocks(ring->block_size, ring->nblocks, FCAP_MAX_CHUNK);

	ring->status.len = PAGE_SIZE;
	ring->status.cpu = dma_alloc_coherent(dev, PAGE_SIZE, &ring->status.dma, GFP_KERNEL);
	if (!ring->status.cpu)
		return -ENOMEM;
	while (fcap_ring_try_chunks(fdev, ring, chunk_blocks)) {
		if (chunk_blocks == 1) {
			dev_err(dev, "ring %u: cannot allocate %u blocks of %u bytes of DMA memory\n",
				ring->index, ring->nblocks, ring->block_size);
			return -ENOMEM;
		}
		chunk_blocks /= 2;
	}
	ring->status_offset = *offset;
	ring->blocks_offset = *offset + PAGE_SIZE;
	*offset = ring->blocks_offset + (u64)ring->nblocks * ring->block_size;
	return 0;
}

int fcap_rings_alloc(struct fcap_dev *fdev, u32 blocks, u32 block_size)
{
	char why[FCAP_WHY_LEN];
	u64 offset = 0;
	unsigned int r;
	int rc;

	rc = fcap_check_geometry(&fdev->dt_info, blocks, block_size, PAGE_SIZE, why);
	if (rc) {
		dev_err(&fdev->pdev->dev, "module parameter %s\n", why);
		return rc;
	}
	fdev->rings = kcalloc(fdev->nrings, sizeof(*fdev->rings), GFP_KERNEL);
	if (!fdev->rings)
		return -ENOMEM;
	for (r = 0; r < fdev->nrings; r++) {
		struct fcap_ring *ring = &fdev->rings[r];

		ring->fdev = fdev;
		ring->index = r;
		ring->nblocks = blocks;
		ring->block_size = block_size;
		fcap_ring_regs(r, &ring->regs);
		rc = fcap_ring_alloc(fdev, ring, &offset);
		if (rc)
			return rc;	/* the caller's fcap_dev_put frees what was allocated */
	}
	return 0;
}

void fcap_rings_free(struct fcap_dev *fdev)
{
	unsigned int r;

	for (r = 0; fdev->rings && r < fdev->nrings; r++) {
		struct fcap_ring *ring = &fdev->rings[r];

		fcap_ring_free_chunks(fdev, ring);
		if (ring->status.cpu)
			dma_free_coherent(&fdev->pdev->dev, ring->status.len, ring->status.cpu,
					  ring->status.dma);
	}
	kfree(fdev->rings);
	fdev->rings = NULL;
}

static void fcap_wr_addr(struct fcap_dev *fdev, u32 lo, u32 hi, dma_addr_t addr)
{
	fcap_wr(fdev, lo, lower_32_bits(addr));
	fcap_wr(fdev, hi, upper_32_bits(addr));
}

/* Block count, size, status word address and block table of every ring. */
void fcap_rings_program(struct fcap_dev *fdev)
{
	unsigned int r;
	u32 i;

	for (r = 0; r < fdev->nrings; r++) {
		struct fcap_ring *ring = &fdev->rings[r];
		const struct fcap_ring_regs *rr = &ring->regs;
		u32 base = r * ring->nblocks;	/* rings share the block table */

		fcap_wr(fdev, rr->blocks, ring->nblocks);
		fcap_wr(fdev, rr->block_size, ring->block_size);
		fcap_wr_addr(fdev, rr->status_lo, rr->status_hi, ring->status.dma);
		fcap_wr(fdev, rr->table_base, base);
		fcap_wr(fdev, rr->irq_count, 1);
		fcap_wr(fdev, rr->irq_time, 0);
		for (i = 0; i < ring->nblocks; i++) {
			const struct fcap_chunk *c = &ring->chunks[i / ring->chunk_blocks];
			dma_addr_t a = c->dma +
				       (dma_addr_t)(i % ring->chunk_blocks) * ring->block_size;
			u32 entry = FCAP_REG_RING_TABLE + 8 * (base + i);

			fcap_wr_addr(fdev, entry, entry + 4, a);
		}
	}
	/* Spread the flows over the rings (entry i: frames whose hash ends in i). */
	for (i = 0; i < FCAP_STEER_ENTRIES; i++)
		fcap_wr(fdev, FCAP_REG_STEER + 4 * i, i % fdev->nrings);
}

u32 fcap_ring_prod(const struct fcap_ring *ring)
{
	return le32_to_cpu(READ_ONCE(*(__le32 *)ring->status.cpu));
}

bool fcap_rings_ready(struct fcap_dev *fdev)
{
	unsigned int r;

	for (r = 0; r < fdev->nrings; r++)
		if (fcap_ring_prod(&fdev->rings[r]) != fdev->rings[r].cons)
			return true;
	return false;
}

static u64 gcd64(u64 a, u64 b)
{
	while (b) {
		u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The exact time increment for the core clock: whole ns + num/den (docs/FORMAT.md, 5). */
void fcap_card_set_clock(struct fcap_dev *fdev)
{
	const u64 ns_per_s = 1000000000ull;
	u64 hz = fdev->dt_info.clock_hz;
	u64 whole = ns_per_s / hz, num = ns_per_s % hz, den = hz, g;

	if (whole > 255) {
		dev_warn(&fdev->pdev->dev, "clock of %llu Hz is slower than the card's 255 ns step; time increment left at reset value\n",
			 hz);
		return;
	}
	g = num ? gcd64(num, den) : den;
	num /= g;
	den = num ? den / g : 0;
	fcap_wr(fdev, FCAP_REG_TIME_INC_NS, (u32)whole);
	fcap_wr(fdev, FCAP_REG_TIME_INC_NUM, (u32)num);
	fcap_wr(fdev, FCAP_REG_TIME_INC_DEN, (u32)den);
	fcap_wr(fdev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_APPLY_INC);
}

static int fcap_wait_status(struct fcap_dev *fdev, u32 mask, u32 want, const char *what);

/*
 * Stops capture and interrupts and points the card at no ring memory. The
 * ring reset drains first (the card finishes every DMA write it has ordered,
 * then forgets its open block), so once it is done the card writes nothing
 * more into the ring's memory.
 */
void fcap_card_halt(struct fcap_dev *fdev)
{
	struct fcap_ring_regs rr;
	unsigned int r;

	fcap_wr(fdev, FCAP_REG_CTRL, 0);
	fcap_wr(fdev, FCAP_REG_IRQ_ENABLE, 0);
	fcap_wr(fdev, FCAP_REG_IRQ_STATUS, fcap_irq_bits(fdev));
	fcap_wr(fdev, FCAP_REG_CTRL, FCAP_CTRL_RING_RESET);
	fcap_wait_status(fdev, FCAP_STATUS_RESET_PENDING, 0, "finish its ring reset");
	fcap_wr(fdev, FCAP_REG_CTRL, 0);
	for (r = 0; r < fdev->nrings; r++) {
		fcap_ring_regs(r, &rr);
		fcap_wr(fdev, rr.blocks, 0);
	}
	fdev->running = false;
}

int fcap_card_start(struct fcap_dev *fdev, const struct fcap_ioc_start *args)
{
	u32 clock_hz = fdev->dt_info.clock_hz;
	u32 timeout = fcap_timeout_clocks(args->block_timeout_ns, clock_hz);
	u32 irq_time = 0;
	u32 ctrl = FCAP_CTRL_ENABLE | (args->flags & FCAP_START_HASH ? FCAP_CTRL_HASH_OPTION : 0);
	unsigned int r;
	u64 now;

	if (args->irq_usecs)
		irq_time = fcap_timeout_clocks(args->irq_usecs * 1000ull, clock_hz);

	fcap_wr(fdev, FCAP_REG_CTRL, 0);
	fcap_wr(fdev, FCAP_REG_IRQ_ENABLE, 0);
	fcap_rings_program(fdev);
	for (r = 0; r < fdev->nrings; r++) {
		struct fcap_ring *ring = &fdev->rings[r];

		memset(ring->status.cpu, 0, ring->status.len);
		ring->cons = 0;
		fcap_wr(fdev, ring->regs.timeout, timeout);
		fcap_wr(fdev, ring->regs.irq_count, args->irq_blocks);
		fcap_wr(fdev, ring->regs.irq_time, irq_time);
	}
	fcap_wr(fdev, FCAP_REG_SNAPLEN, args->snaplen);
	fcap_wr(fdev, FCAP_REG_CTRL, FCAP_CTRL_RING_RESET);
	if (fcap_wait_status(fdev, FCAP_STATUS_RESET_PENDING, 0, "finish its ring reset"))
		return -EIO;
	for (r = 0; r < fdev->nrings; r++) {
		const struct fcap_ring_regs *rr = &fdev->rings[r].regs;
		u32 prod = fcap_rd(fdev, rr->prod), cons = fcap_rd(fdev, rr->cons);

		if (prod || cons) {
			dev_err(&fdev->pdev->dev, "ring %u: indices did not reset (PROD %u, CONS %u)\n",
				r, prod, cons);
			return -EIO;
		}
	}
	fcap_card_set_clock(fdev);
	now = ktime_get_real_ns();
	fcap_wr(fdev, FCAP_REG_TIME_SET_LO, lower_32_bits(now));
	fcap_wr(fdev, FCAP_REG_TIME_SET_HI, upper_32_bits(now));
	fcap_wr(fdev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_SET);
	fcap_wr(fdev, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_CLEAR);
	fcap_wr(fdev, FCAP_REG_IRQ_STATUS, FCAP_IRQ_BLOCK);
	fcap_wr(fdev, FCAP_REG_CTRL, ctrl);
	fdev->running = true;
	return 0;
}

static int fcap_wait_status(struct fcap_dev *fdev, u32 mask, u32 want, const char *what)
{
	u32 status;
	int rc;

	rc = read_poll_timeout(fcap_rd, status, (status & mask) == want, FCAP_STOP_POLL_US,
			       FCAP_STOP_TIMEOUT_US, false, fdev, FCAP_REG_STATUS);
	if (rc)
		dev_err(&fdev->pdev->dev, "card did not %s within 1 s (STATUS 0x%08x)\n",
			what, status);
	return rc;
}

/*
 * Stops without losing a frame (docs/FORMAT.md, 3): no new frames, wait
 * until nothing is in flight, then close the open block.
 */
int fcap_card_stop(struct fcap_dev *fdev)
{
	int rc;

	fcap_wr(fdev, FCAP_REG_CTRL, 0);
	fdev->running = false;
	rc = fcap_wait_status(fdev, FCAP_STATUS_IDLE, FCAP_STATUS_IDLE, "drain its frames");
	if (rc)
		return rc;
	fcap_wr(fdev, FCAP_REG_CTRL, FCAP_CTRL_FLUSH);
	return fcap_wait_status(fdev, FCAP_STATUS_FLUSH_PENDING | FCAP_STATUS_IDLE,
				FCAP_STATUS_IDLE, "close its open block");
}

int fcap_ring_release(struct fcap_ring *ring, u32 cons)
{
	u32 prod = fcap_ring_prod(ring);
	int rc = fcap_check_release(ring->cons, prod, ring->nblocks, cons);

	if (rc == -EIO)
		dev_err_ratelimited(&ring->fdev->pdev->dev,
				    "ring %u: producer index %u is more than %u blocks ahead of consumer index %u\n",
				    ring->index, prod, ring->nblocks, ring->cons);
	if (rc)
		return rc;
	fcap_wr(ring->fdev, ring->regs.cons, cons);
	ring->cons = cons;
	return 0;
}
