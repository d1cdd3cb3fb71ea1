/*
 * fuzz_model.c - model files (host/lib/model_file.c): a corrupt,
 * truncated or hostile model must be refused with an error, never crash
 * the scorer. An accepted model is put to work: prepared, and one packet
 * scored by the fixed-point, batch and double paths, so that dimensions
 * the loader accepted are proven consistent with what the scorer indexes.
 * (Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: the file checksum
 * is not enforced, fcap/checksum.h.)
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[FCAP_ERRBUF_SIZE];
	struct fcap_model m;

	memset(&m, 0, sizeof(m));
	errbuf[0] = '\0';
	if (fcap_model_parse(&m, data, size, "fuzz.fcm", errbuf) < 0) {
		if (errbuf[0] == '\0')
			abort();
		fcap_model_free(&m);
		return 0;
	}
	struct fcap_scorer *s = fcap_scorer_new(&m, errbuf);
	if (s != NULL) {
		enum { BATCH = 3 };
		size_t n = m.nfeat ? m.nfeat : 1;
		double *feat = calloc(BATCH * n, sizeof(double));
		struct fcap_scores out[BATCH];
		if (feat == NULL)
			abort();
		for (size_t i = 0; i < BATCH * n; i++)
			feat[i] = (double)(i % 7) - 3.0;
		fcap_score_fixed(s, feat, &out[0]);
		fcap_score_float(s, feat, &out[0]);
		fcap_score_fixed_batch(s, feat, n, BATCH, out);
		free(feat);
		fcap_scorer_free(s);
	} else if (errbuf[0] == '\0') {
		abort();
	}
	fcap_model_free(&m);
	return 0;
}
