/* train_int.h - pieces of training shared between train.c, ae_ensemble.c and mlp.c (internal). */
#ifndef FCAP_TRAIN_INT_H
#define FCAP_TRAIN_INT_H

#include "fcap/model.h"

/* Normalised, clamped features of dataset row r into z[nfeat]. */
void train_row_z(const struct fcap_model *m, const struct fcap_dataset *ds, size_t r, double *z);

/* Fisher-Yates shuffle of idx[n] from *rng. */
void train_shuffle(size_t *idx, size_t n, uint64_t *rng);

/* Correlation clustering of the features over rows[nrows]: fills m->nae
 * and each unit's idx/n (units of at most max_unit features). */
int fcap_feature_map(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t nrows,
		     uint32_t max_unit, char *errbuf);

/* Trains the ensemble units and the output autoencoder on rows[n]; sets omin/oinv. */
int fcap_ensemble_train(struct fcap_model *m, const struct fcap_dataset *ds, const size_t *rows, size_t n,
			const struct fcap_train_config *c, uint64_t *rng, char *errbuf);

/* Trains a sigmoid MLP classifier (BCE, class-balanced) on rows[n] of
 * inputs from get_x; labels from the dataset. */
int fcap_mlp_train(struct fcap_net *net, const struct fcap_model *m, const struct fcap_dataset *ds,
		   const size_t *rows, size_t n, const double *extra, const struct fcap_train_config *c,
		   uint64_t *rng, char *errbuf);

#endif
