/*
 * sim_dma.h - the host memory the simulated card writes into.
 *
 * Internal to sim/. The caller maps host buffers at bus addresses (an IOMMU
 * with a fixed table, in effect); the card's 8-byte DMA write beats land
 * there. A write outside every mapping is a fault: counted, dropped, and the
 * first faulting address kept, as an IOMMU would report it.
 */
#ifndef FCAP_SIM_DMA_H
#define FCAP_SIM_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "fcap_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sim_dma;

struct sim_dma *sim_dma_create(void);
void sim_dma_destroy(struct sim_dma *dma);
int sim_dma_map(struct sim_dma *dma, uint64_t bus, void *host, size_t len, char *err, size_t errlen);
/* One write beat: 8 bytes at an 8-byte aligned bus address, strb selects bytes. */
void sim_dma_write(struct sim_dma *dma, uint64_t bus, uint64_t data, uint8_t strb);
void sim_dma_get_stats(const struct sim_dma *dma, struct fcap_sim_dma_stats *st);

#ifdef __cplusplus
}
#endif

#endif
