/*
 * sim_bus.h - the host side of the card's PCIe link, for writes (internal).
 *
 * The card hands the link DMA beats of one line (64 or 128 bytes: line
 * address, data, byte strobes). The model groups them into memory-write TLPs the way a DMA engine
 * would (consecutive bytes, at most max_payload, never across a 4 KiB
 * boundary), sends TLPs one after another at the link's data rate with a
 * fixed overhead per TLP, and lands each TLP's bytes in host memory a fixed
 * latency after its last byte left the card. Writes land in the order the card
 * issued them (PCIe posted-write ordering). The link back-pressures the card
 * (ready low) while more than `buffer` bytes are queued and not yet sent.
 *
 * Not modelled: flow-control credit updates and ACK/NAK traffic beyond a
 * fixed efficiency factor, replays, read traffic, and anything on the host
 * side of the root complex.
 */
#ifndef FCAP_SIM_BUS_H
#define FCAP_SIM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "fcap_sim.h"
#include "sim_dma.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sim_bus;

struct sim_bus *sim_bus_create(struct sim_dma *mem);
void sim_bus_destroy(struct sim_bus *bus);
void sim_bus_configure(struct sim_bus *bus, const struct fcap_sim_bus_config *cfg);
/* Ready for a beat at time now_ps? (also lands what is due by then) */
bool sim_bus_ready(struct sim_bus *bus, uint64_t now_ps);
/* One beat: nbytes (a multiple of 8, at most 128) at line address `line`;
 * byte i is written when bit i % 64 of strb[i / 64] is set. */
void sim_bus_beat(struct sim_bus *bus, uint64_t now_ps, uint64_t line, const uint8_t *data,
		  const uint64_t *strb, unsigned nbytes);
/* PCIe ordering: a read completion does not pass posted writes. Returns a
 * ticket covering every byte the card has written so far (sending the TLP
 * being assembled); sim_bus_landed() says when all of it is in memory. */
uint64_t sim_bus_ticket(struct sim_bus *bus, uint64_t now_ps);
bool sim_bus_landed(struct sim_bus *bus, uint64_t ticket, uint64_t now_ps);
/* Lands everything due by now_ps; true when nothing is left in flight. */
bool sim_bus_drain(struct sim_bus *bus, uint64_t now_ps);
void sim_bus_get_stats(const struct sim_bus *bus, struct fcap_sim_bus_stats *st);

#ifdef __cplusplus
}
#endif

#endif
