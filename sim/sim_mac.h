/*
 * sim_mac.h - a simulated Ethernet MAC receive port feeding the card.
 *
 * Internal to sim/: the C++ wrapper asks for the AXI-Stream beat of each
 * clock edge. The MAC paces frames at the line rate with the real framing
 * overhead. It is modelled as cut-through with no latency: beat j of a frame
 * (bytes 8j..8j+7) is presented at the first clock edge at or after the time
 * byte 8j arrives on the wire. So the first beat reaches the card less than
 * one clock period after the frame's first byte, which is what the card's
 * timestamp promises to measure.
 */
#ifndef FCAP_SIM_MAC_H
#define FCAP_SIM_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sim_beat {
	uint64_t data;
	uint8_t keep;
	bool valid;
	bool last;
	bool user;
};

struct sim_mac;

struct sim_mac *sim_mac_create(unsigned port);
void sim_mac_destroy(struct sim_mac *mac);
void sim_mac_set_rate(struct sim_mac *mac, uint64_t bits_per_s);
int sim_mac_add_file(struct sim_mac *mac, const char *path, char *err, size_t errlen);
int sim_mac_add_frame(struct sim_mac *mac, const void *data, size_t len, bool fcs_error);
int sim_mac_add_idle(struct sim_mac *mac, uint64_t ns);
/* The beat the MAC drives at the clock edge at time now_ps. */
void sim_mac_beat(struct sim_mac *mac, uint64_t now_ps, struct sim_beat *out);
void sim_mac_hold(struct sim_mac *mac, bool hold);
bool sim_mac_done(const struct sim_mac *mac);
const char *sim_mac_error(const struct sim_mac *mac);
void sim_mac_on_frame(struct sim_mac *mac, fcap_sim_frame_cb cb, void *ctx);
void sim_mac_stats(const struct sim_mac *mac, struct fcap_sim_mac_stats *st);

#ifdef __cplusplus
}
#endif

#endif
