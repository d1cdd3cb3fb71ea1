/*
 * sim_mac.h - a simulated Ethernet MAC receive port feeding the card.
 *
 * Internal to sim/: the C++ wrapper asks for the AXI-Stream beat of each
 * clock edge. The MAC paces frames at the line rate with the real framing
 * overhead. Its beat is 8 bytes (a 64-bit 10G MAC) or 64 bytes (a 512-bit
 * 100G CMAC). It is modelled as cut-through with no latency: beat j of a
 * frame (bytes Bj..Bj+B-1 for a beat of B bytes) is presented at the first
 * clock edge at or after the time byte Bj arrives on the wire, and after the
 * previous beat's edge (a beat carries one frame). So a first beat reaches
 * the card less than one clock period after the frame's first byte on a 10G
 * MAC, and less than two on the 100G one, where a frame may start on the
 * wire less than a clock after the previous one's last beat went out; the
 * card's timestamp measures the first beat.
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

#define SIM_MAC_MAX_BEAT 64u

struct sim_beat {
	uint8_t data[SIM_MAC_MAX_BEAT]; /* beat_bytes of them; bytes past the frame are zero */
	uint64_t keep;                  /* bit i: byte i holds frame data */
	bool valid;
	bool last;
	bool user;
};

struct sim_mac;

/* beat_bytes: 8 or 64; rate: the line rate until sim_mac_set_rate. */
struct sim_mac *sim_mac_create(unsigned port, unsigned beat_bytes, uint64_t bits_per_s);
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
