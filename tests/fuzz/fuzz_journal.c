/*
 * fuzz_journal.c - the analysts' verdict journal (host/lib/verdict.c): a
 * journal torn by a crash, damaged on disk or edited by hand must load
 * what is sound, skip the rest with a warning, and never crash. Every
 * loaded verdict is looked up again by its alert id, which must find a
 * verdict for that id.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	struct fcap_verdicts vs;
	char errbuf[FCAP_ERRBUF_SIZE];

	fuzz_file_open(&f, data, size);
	memset(&vs, 0, sizeof(vs));
	errbuf[0] = '\0';
	if (fcap_verdicts_load(&vs, f.path, errbuf) == 0) {
		for (size_t i = 0; i < vs.n; i++) {
			const struct fcap_verdict *v = fcap_verdicts_latest(&vs, vs.v[i].alert_id);
			if (v == NULL || strcmp(v->alert_id, vs.v[i].alert_id) != 0)
				abort();
		}
		for (size_t i = 0; i < vs.nwarn; i++)
			if (vs.warn[i][0] == '\0')
				abort();        /* a skipped line must be said */
	} else if (errbuf[0] == '\0') {
		abort();
	}
	fcap_verdicts_free(&vs);
	fuzz_file_close(&f);
	return 0;
}
