/*
 * fcap/flowhash.h - the card's flow hash, computed on the host.
 *
 * Toeplitz (the RSS hash) with a 16-bit periodic key, 6D 5A 6D 5A ..., over
 * the frame's endpoints:
 *   IPv4: source address, destination address, then for TCP, UDP and SCTP
 *         (not fragments) source port, destination port;
 *   IPv6: the same with 16-byte addresses (ports only when the next header
 *         right after the fixed header is TCP, UDP or SCTP);
 *   otherwise (ARP and anything not IP): destination MAC, source MAC.
 * Up to two VLAN tags (0x8100, 0x88A8) are skipped. Every field is a whole
 * number of 16-bit words, and with a key of period 16 a word's contribution
 * does not depend on where it stands, so swapping source and destination
 * gives the same hash: both directions of a flow land on the same ring.
 * The card looks at the first 64 bytes of a frame only; fields beyond them
 * are left out (IPv6 ports behind two VLAN tags).
 *
 * This is the reference the card is tested against (docs/DATAPATH.md). It is
 * written as plain Toeplitz, not the way the card computes it.
 */
#ifndef FCAP_FLOWHASH_H
#define FCAP_FLOWHASH_H

#include <stddef.h>
#include <stdint.h>

#define FCAP_FLOWHASH_WINDOW 64 /* bytes of the frame the card looks at */

/* Toeplitz hash of `len` bytes with the symmetric key. */
uint32_t fcap_toeplitz_symmetric(const uint8_t *in, size_t len);
/* The card's flow hash of a frame (caplen bytes available). */
uint32_t fcap_flow_hash(const uint8_t *frame, size_t caplen);

#endif
