/*
 * mlp.c - the supervised classifier: a sigmoid MLP trained with
 * class-balanced binary cross-entropy by SGD (docs/MODELS.md).
 */
#include <stdlib.h>

#include "train_int.h"

int fcap_mlp_train(struct fcap_net *net, const struct fcap_model *m, const struct fcap_dataset *ds,
		   const size_t *rows, size_t n, const double *extra, const struct fcap_train_config *c,
		   uint64_t *rng, char *errbuf)
{
	uint32_t d = m->nfeat + (extra ? 1 : 0);
	uint32_t w[4] = { d, c->mlp_h1, c->mlp_h2, 1 };
	if (fcap_net_init(net, 3, w, rng, errbuf) < 0)
		return -1;
	size_t *order = malloc((n ? n : 1) * sizeof(size_t));
	double *z = calloc(d + 1, sizeof(double)), *scr = malloc(fcap_net_scratch(net) * sizeof(double));
	if (!order || !z || !scr) {
		free(order);
		free(z);
		free(scr);
		return fcap_err(errbuf, "classifier: out of memory");
	}
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += ds->label[rows[i]] == FCAP_LABEL_ATTACK;
	/* Each class weighs half of the loss, however rare it is. */
	double w_att = pos ? (double)n / (2.0 * pos) : 0, w_ben = n > pos ? (double)n / (2.0 * (n - pos)) : 0;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t e = 0; e < c->epochs_mlp; e++) {
		train_shuffle(order, n, rng);
		double loss = 0;
		for (size_t i = 0; i < n; i++) {
			size_t r = rows[order[i]];
			train_row_z(m, ds, r, z);
			if (extra)
				z[m->nfeat] = extra[order[i]];
			double t = ds->label[r] == FCAP_LABEL_ATTACK;
			loss += fcap_net_train_step(net, z, &t, true, t > 0 ? w_att : w_ben, c->lr_mlp, scr);
		}
		if (c->log)
			fprintf(c->log, "train: %s epoch %u: cross-entropy %.6g\n", extra ? "hybrid classifier" : "classifier",
				e + 1, loss / (double)(n ? n : 1));
	}
	free(order);
	free(z);
	free(scr);
	return 0;
}
