/*
 * sim_dma.c - host memory map for the simulated card's DMA writes.
 *
 * Full 8-byte beats are stored with release semantics, so a host thread that
 * reads the ring status word with acquire semantics also sees every earlier
 * write of the block, the same guarantee PCIe's posted-write ordering gives
 * the host on real hardware.
 */
#include "sim_dma.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGIONS 64

struct region {
	uint64_t bus;
	uint8_t *host;
	size_t len;
};

struct sim_dma {
	struct region regions[MAX_REGIONS];
	unsigned count;
	unsigned last_hit;
	struct fcap_sim_dma_stats stats;
};

struct sim_dma *sim_dma_create(void)
{
	return calloc(1, sizeof(struct sim_dma));
}

void sim_dma_destroy(struct sim_dma *dma)
{
	free(dma);
}

static int overlaps(const struct region *r, uint64_t bus, size_t len)
{
	return bus < r->bus + r->len && r->bus < bus + len;
}

int sim_dma_map(struct sim_dma *dma, uint64_t bus, void *host, size_t len, char *err, size_t errlen)
{
	if (len == 0 || bus + len < bus || (bus & 7u) || (len & 7u) || ((uintptr_t)host & 7u)) {
		snprintf(err, errlen, "dma map: bus 0x%llx len %zu: must be non-empty, 8-byte aligned, no wrap",
			 (unsigned long long)bus, len);
		return -1;
	}
	if (dma->count == MAX_REGIONS) {
		snprintf(err, errlen, "dma map: more than %d regions", MAX_REGIONS);
		return -1;
	}
	for (unsigned i = 0; i < dma->count; i++) {
		if (overlaps(&dma->regions[i], bus, len)) {
			snprintf(err, errlen, "dma map: bus 0x%llx len %zu overlaps an existing mapping",
				 (unsigned long long)bus, len);
			return -1;
		}
	}
	dma->regions[dma->count++] = (struct region){ .bus = bus, .host = host, .len = len };
	return 0;
}

static struct region *lookup(struct sim_dma *dma, uint64_t bus)
{
	struct region *r = &dma->regions[dma->last_hit];
	if (dma->count && bus >= r->bus && bus - r->bus + 8 <= r->len)
		return r;
	for (unsigned i = 0; i < dma->count; i++) {
		r = &dma->regions[i];
		if (bus >= r->bus && bus - r->bus + 8 <= r->len) {
			dma->last_hit = i;
			return r;
		}
	}
	return NULL;
}

void sim_dma_write(struct sim_dma *dma, uint64_t bus, uint64_t data, uint8_t strb)
{
	struct region *r = (bus & 7u) ? NULL : lookup(dma, bus);
	if (!r) {
		if (dma->stats.faults++ == 0)
			dma->stats.first_fault = bus;
		return;
	}
	uint8_t *p = r->host + (bus - r->bus);
	dma->stats.writes++;
	if (strb == 0xFF) {
		__atomic_store_n((uint64_t *)(void *)p, data, __ATOMIC_RELEASE);
		dma->stats.bytes += 8;
		return;
	}
	for (unsigned i = 0; i < 8; i++) {
		if (strb & (1u << i)) {
			p[i] = (uint8_t)(data >> (8 * i));
			dma->stats.bytes++;
		}
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void sim_dma_get_stats(const struct sim_dma *dma, struct fcap_sim_dma_stats *st)
{
	*st = dma->stats;
}
