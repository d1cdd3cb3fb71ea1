/*
 * seg_index_format.h - byte offsets of the index file header (internal).
 * docs/STORE.md describes the same layout; change both together.
 */
#ifndef FCAP_SEG_INDEX_FORMAT_H
#define FCAP_SEG_INDEX_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "fcap/crc32c.h"
#include "fcap/seg_index.h"

#define IX_MAGIC          0   /* 8  "FCAPIDX1" */
#define IX_VERSION        8   /* 4 */
#define IX_HEADER_LEN     12  /* 4  512 */
#define IX_PAGE           16  /* 4  4096 */
#define IX_FLAGS          20  /* 4  IX_FLAG_* */
#define IX_RING           24  /* 4 */
#define IX_NPORTS         28  /* 4 */
#define IX_BLOCKS_END     32  /* 8  segment offset where its ring blocks end */
#define IX_FILE_SIZE      40  /* 8  segment file size the index describes */
#define IX_NBLOCKS        48  /* 8 */
#define IX_NRECORDS       56  /* 8 */
#define IX_NKEYS          64  /* 8 */
#define IX_NPOSTINGS      72  /* 8 */
#define IX_BODY_OFF       80  /* 8  file offset of the body (4 KiB aligned) */
#define IX_BODY_LEN       88  /* 8 */
#define IX_OFF_BLOCKS     96  /* 8  section offsets within the body */
#define IX_OFF_OFFSETS    104 /* 8 */
#define IX_OFF_KEYS       112 /* 8 */
#define IX_OFF_POSTINGS   120 /* 8 */
#define IX_FIRST_TS       128 /* 8 */
#define IX_LAST_TS        136 /* 8 */
#define IX_CARD_DROPS     144 /* 8 */
#define IX_BACKLOG_DROPS  152 /* 8 */
#define IX_CORRUPT_LOST   160 /* 8 */
#define IX_DISK_LOST      168 /* 8 */
#define IX_HEADER_CRC     176 /* 4  CRC-32C of the header (this field zero) and the page CRCs */
#define IX_PORT_RECORDS   256 /* 16 x 8 */
#define IX_PORT_DROPS     384 /* 16 x 8 */

#define IX_FLAG_KEYS 1u

/* The header's CRC: header bytes with the CRC field as zero, then the page
 * CRC array that follows the header. */
static inline uint32_t fcap_index_header_crc(const uint8_t *head, uint64_t npages)
{
	uint8_t h[FCAP_INDEX_HEADER_LEN];
	memcpy(h, head, sizeof(h));
	memset(h + IX_HEADER_CRC, 0, 4);
	uint32_t c = fcap_crc32c(0, h, sizeof(h));
	return fcap_crc32c(c, head + FCAP_INDEX_HEADER_LEN, npages * 4);
}

#endif
