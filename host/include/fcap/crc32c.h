/*
 * fcap/crc32c.h - CRC-32C (Castagnoli), the checksum of the store's index
 * files (docs/STORE.md). Uses the CPU's crc32 instruction when it has one.
 */
#ifndef FCAP_CRC32C_H
#define FCAP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c(0, p, n) is the CRC-32C of p[0..n); pass a previous result as crc
 * to continue over more bytes. crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t fcap_crc32c(uint32_t crc, const void *p, size_t n);

/* The portable table-driven path, for tests that compare both. */
uint32_t fcap_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
