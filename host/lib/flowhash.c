/* flowhash.c - the card's symmetric flow hash (fcap/flowhash.h). */
#include "fcap/flowhash.h"

#include <string.h>

#define KEY_BYTES 40

uint32_t fcap_toeplitz_symmetric(const uint8_t *in, size_t len)
{
	/* The key repeats 6D 5A; a 32-bit window at any bit offset is read
	 * from the repeating pattern. */
	uint32_t hash = 0;
	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			if (!(in[i] & (0x80u >> b)))
				continue;
			size_t bit = i * 8 + b; /* MSB first */
			uint32_t window = 0;
			for (unsigned k = 0; k < 32; k++) {
				size_t kb = bit + k;
				uint8_t key_byte = (kb / 8) % 2 ? 0x5A : 0x6D;
				window = window << 1 | ((key_byte >> (7 - kb % 8)) & 1u);
			}
			hash ^= window;
		}
	}
	return hash;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

uint32_t fcap_flow_hash(const uint8_t *frame, size_t caplen)
{
	size_t n = caplen < FCAP_FLOWHASH_WINDOW ? caplen : FCAP_FLOWHASH_WINDOW;
	uint8_t tuple[36];
	size_t t = 0;
	if (n < 14)
		return n >= 12 ? fcap_toeplitz_symmetric(frame, 12) : 0;
	size_t off = 12;
	uint16_t type = be16(frame + off);
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88A8) && off + 6 <= n; tags++) {
		off += 4;
		type = be16(frame + off);
	}
	size_t l3 = off + 2;
	if (type == 0x0800 && l3 + 20 <= n && frame[l3] >> 4 == 4) {
		size_t l4 = l3 + (size_t)(frame[l3] & 15) * 4;
		int frag = (frame[l3 + 6] & 0x3F) || frame[l3 + 7];
		memcpy(tuple, frame + l3 + 12, 8);
		t = 8;
		if (has_ports(frame[l3 + 9]) && !frag && (frame[l3] & 15) >= 5 && l4 + 4 <= n) {
			memcpy(tuple + t, frame + l4, 4);
			t += 4;
		}
		return fcap_toeplitz_symmetric(tuple, t);
	}
	if (type == 0x86DD && l3 + 40 <= n && frame[l3] >> 4 == 6) {
		memcpy(tuple, frame + l3 + 8, 32);
		t = 32;
		if (has_ports(frame[l3 + 6]) && l3 + 44 <= n) {
			memcpy(tuple + t, frame + l3 + 40, 4);
			t += 4;
		}
		return fcap_toeplitz_symmetric(tuple, t);
	}
	return fcap_toeplitz_symmetric(frame, 12); /* destination and source MAC */
}
