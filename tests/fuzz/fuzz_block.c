/*
 * fuzz_block.c - ring blocks as the host sees them in DMA memory, written
 * by a card that may be buggy or hostile (host/lib/block.c).
 *
 * The first input byte picks the number of ports the host believes the
 * card has (1..8); the rest is the block. The block is checked both as a
 * live ring block (fcap_block_check, then every record through
 * fcap_block_next) and as a stored block from a segment file
 * (fcap_block_check_stored). A block that passes a check must iterate
 * cleanly: records inside the block, the count the header claims.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/block.h"

static void walk_records(const uint8_t *blk, const struct fcap_block_info *bi, uint32_t nports)
{
	char errbuf[FCAP_ERRBUF_SIZE];
	struct fcap_record r;
	size_t off = 0;
	uint32_t n = 0;
	uint64_t sum = 0;
	int rc;

	while ((rc = fcap_block_next(blk, bi, nports, &off, &r, errbuf)) > 0) {
		if (r.offset + (uint64_t)r.len > bi->used || r.port >= nports)
			abort();
		for (uint32_t i = 0; i < r.caplen; i++)
			sum += r.data[i];
		n++;
	}
	/* The block passed its check, so its records must read back whole. */
	if (rc < 0 || n != bi->records)
		abort();
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[FCAP_ERRBUF_SIZE];
	struct fcap_block_info bi;

	if (size < 1)
		return 0;
	uint32_t nports = 1u + (data[0] & 7u);
	/* A private copy, so that the buffer ends exactly where the block does
	 * and ASan sees any read past it. */
	size_t len = size - 1;
	uint8_t *blk = malloc(len ? len : 1);
	if (blk == NULL)
		abort();
	memcpy(blk, data + 1, len);

	/* Expect the sequence number the block carries, so that seeds taken
	 * from any point of a ring get past that check. */
	uint32_t seq = 0;
	if (fcap_block_header(blk, len, &bi, errbuf) == 0)
		seq = bi.seq;
	errbuf[0] = '\0';
	if (fcap_block_check(blk, len, seq, nports, &bi, errbuf) == 0)
		walk_records(blk, &bi, nports);
	else if (errbuf[0] == '\0')
		abort();

	errbuf[0] = '\0';
	if (fcap_block_check_stored(blk, len, nports, &bi, errbuf) == 0)
		walk_records(blk, &bi, nports);
	else if (errbuf[0] == '\0')
		abort();

	uint32_t stored_len;
	(void)fcap_block_stored_header(blk, len, &bi, &stored_len, errbuf);
	free(blk);
	return 0;
}
