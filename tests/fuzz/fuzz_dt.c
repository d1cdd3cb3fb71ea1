/*
 * fuzz_dt.c - the card's device tree blob, which the card itself supplies
 * from its ROM: a broken or hostile card must not crash the host. Both
 * readers see every input: libfcap's (host/lib/cardinfo.c, over libfdt)
 * and the kernel driver's own walker (driver/fcap_dt.c, the very file the
 * module builds, compiled here in user space). When both accept a blob
 * they must agree on what it says.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/cardinfo.h"
#include "fcap_dt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[FCAP_ERRBUF_SIZE];
	char why[FCAP_DT_WHY_LEN];
	struct fcap_card_info ci;
	struct fcap_dt_info di;

	/* Copies sized exactly, so ASan sees any read past the blob. */
	uint8_t *a = malloc(size ? size : 1), *b = malloc(size ? size : 1);
	if (a == NULL || b == NULL)
		abort();
	memcpy(a, data, size);
	memcpy(b, data, size);

	errbuf[0] = '\0';
	why[0] = '\0';
	int host = fcap_card_parse_dt(a, size, &ci, errbuf);
	int drv = fcap_dt_parse(b, size, &di, why);
	if ((host < 0 && errbuf[0] == '\0') || (drv < 0 && why[0] == '\0'))
		abort();
	if (host == 0 && drv == 0 &&
	    (ci.format_version != di.format_version || ci.clock_hz != di.clock_hz ||
	     ci.max_snaplen != di.max_snaplen || ci.rings != di.rings || ci.max_blocks != di.max_blocks ||
	     ci.min_block_size != di.min_block_size || ci.max_block_size != di.max_block_size ||
	     ci.block_align != di.block_align || ci.nports != di.nports))
		abort();
	free(a);
	free(b);
	return 0;
}
