/*
 * fuzz_index.c - per-segment index files (host/lib/seg_index_read.c), as
 * extraction opens them: header and page checksums, sections inside the
 * file, then lookups.
 *
 * Index pages carry CRC32C checksums, so random bytes rarely get past the
 * header; the interesting inputs are mutations of real indexes (the seed
 * corpus) with their checksums still right, which libFuzzer finds through
 * its comparison tracing, and truncations. After a successful open every
 * accessor is called on every element it claims to have (bounded), and
 * each must either answer inside the map or return an error.
 */
#include "fuzz_common.h"

#include "fcap/seg_index.h"

#define MAX_WALK 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	struct fcap_index ix;
	char errbuf[FCAP_ERRBUF_SIZE];

	fuzz_file_open(&f, data, size);
	errbuf[0] = '\0';
	if (fcap_index_open(&ix, f.path, 0, errbuf) < 0) {
		if (errbuf[0] == '\0')
			abort();
		fuzz_file_close(&f);
		return 0;
	}
	uint64_t sum = 0;
	for (uint64_t i = 0; i < ix.nblocks && i < MAX_WALK; i++) {
		struct fcap_index_block b;
		if (fcap_index_block(&ix, i, &b, errbuf) < 0)
			break;
		sum += b.offset;
	}
	for (uint64_t i = 0; i < ix.nrecords && i < MAX_WALK; i++) {
		uint64_t off;
		if (fcap_index_record_offset(&ix, i, &off, errbuf) < 0)
			break;
		sum += off;
	}
	/* Keys: probe a few values taken from the input itself, so present
	 * keys are found as often as absent ones. */
	for (size_t at = 0; at + 8 <= size && at < 64 * 8; at += 8) {
		uint64_t key = 0;
		for (int j = 0; j < 8; j++)
			key |= (uint64_t)data[at + j] << (8 * j);
		const uint32_t *post;
		uint32_t n;
		if (fcap_index_lookup(&ix, key, &post, &n, errbuf) < 0)
			break;
		for (uint32_t j = 0; j < n && j < MAX_WALK; j++)
			sum += post[j];
	}
	(void)fcap_index_verify(&ix, errbuf);
	(void)sum;
	fcap_index_close(&ix);
	fuzz_file_close(&f);
	return 0;
}
