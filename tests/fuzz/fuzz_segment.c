/*
 * fuzz_segment.c - segment files as `fcap extract` and recovery read them
 * (host/lib/seg_scan.c): a file left by a crash, a bad disk or a hand edit.
 *
 * The loop is extract's scan of a segment without a usable index: next
 * block, on damage resynchronise at the next 4 KiB boundary that holds a
 * good block, and read every record of every good block; then the
 * trailer check recovery uses. The scan must end (resync only moves
 * forward) and never read outside the file or a block.
 */
#include "fuzz_common.h"

#include "fcap/seg_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	struct fcap_seg_scan s;
	char errbuf[FCAP_ERRBUF_SIZE];

	fuzz_file_open(&f, data, size);
	errbuf[0] = '\0';
	if (fcap_seg_scan_open(&s, f.path, false, errbuf) < 0) {
		if (errbuf[0] == '\0')
			abort();
		fuzz_file_close(&f);
		return 0;
	}
	uint64_t sum = 0, last_at = 0;
	bool first = true;
	for (;;) {
		const uint8_t *blk;
		struct fcap_block_info bi;
		uint64_t at;
		errbuf[0] = '\0';
		int k = fcap_seg_scan_next(&s, &blk, &bi, &at, errbuf);
		if (k == 0)
			break;
		if (k < 0) {
			if (errbuf[0] == '\0')
				abort();
			if (!fcap_seg_scan_resync(&s))
				break;
			continue;
		}
		if (!first && at <= last_at)
			abort();        /* the scan must move forward */
		first = false;
		last_at = at;
		size_t o = 0;
		struct fcap_record r;
		while (fcap_block_next(blk, &bi, s.nports, &o, &r, errbuf) > 0)
			for (uint32_t i = 0; i < r.caplen; i++)
				sum += r.data[i];
	}
	(void)fcap_seg_scan_trailer_ok(&s, s.off);
	(void)sum;
	fcap_seg_scan_close(&s);
	fuzz_file_close(&f);
	return 0;
}
