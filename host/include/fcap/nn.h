/*
 * fcap/nn.h - small fully connected networks with sigmoid units, in two
 * forms: double precision (training, and the reference path) and fixed
 * point (what runs at scoring time). docs/MODELS.md gives the arithmetic.
 *
 * Fixed point: weights int16 with a power-of-two scale per neuron (row),
 * biases int32 at the accumulator's scale, int32 accumulators whose worst
 * case is proved not to overflow when the layer is quantized (and checked
 * again when a model file is loaded), sigmoid as a piecewise cubic with
 * fixed coefficients. Activations are Q15 (0..32767 for 0..1); network
 * inputs are Q11 (-16..16).
 */
#ifndef FCAP_NN_H
#define FCAP_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcap/errbuf.h"

#define FCAP_IN_FRAC 11                     /* network inputs: Q11 */
#define FCAP_ACT_FRAC 15                    /* activations: Q15 */
#define FCAP_IN_CLAMP (32767.0 / 2048.0)    /* inputs are clamped to +-this in both paths */
#define FCAP_NN_MAX_LAYERS 4
#define FCAP_NN_MAX_WIDTH 1024
#define FCAP_NN_MAX_FRAC 30

struct fcap_layer {
	uint32_t in, out;
	double *w;          /* out x in, row-major */
	double *b;          /* out */
	/* fixed point, valid after fcap_net_quantize */
	uint32_t in_frac;   /* fraction bits of this layer's input */
	int16_t *wq;        /* out x in */
	int32_t *bq;        /* out, at scale 2^(frac[j] + in_frac) */
	uint8_t *frac;      /* out: weight fraction bits of row j */
	int16_t *wp;        /* wq repacked for SIMD (fcap_net_pack): blocks of 4 rows x pairs of inputs */
	int32_t *wpair;     /* wq as pairs for the packet-group pass: row j, inputs (2q, 2q+1) in one int32 */
};

struct fcap_net {
	uint32_t nlayers;
	struct fcap_layer l[FCAP_NN_MAX_LAYERS];
	bool quantized;
};

/* Allocates a net with the given widths (w[0] inputs .. w[n] outputs) and
 * initialises weights uniformly in +-1/sqrt(fan-in) from *rng. */
int fcap_net_init(struct fcap_net *n, uint32_t nlayers, const uint32_t *widths, uint64_t *rng, char *errbuf);
void fcap_net_free(struct fcap_net *n);
size_t fcap_net_bytes(const struct fcap_net *n);   /* fixed-point weights and biases */
uint32_t fcap_net_inputs(const struct fcap_net *n);
uint32_t fcap_net_outputs(const struct fcap_net *n);

/* Double forward pass: act[l] receives each layer's outputs (act[0] = x). */
void fcap_net_forward(const struct fcap_net *n, const double *x, double *out, double *scratch);
/* Scratch doubles needed by forward/train. */
size_t fcap_net_scratch(const struct fcap_net *n);

/* One SGD step on squared error (target t) or on binary cross-entropy with a
 * single sigmoid output (bce). weight scales the gradient. Returns the loss. */
double fcap_net_train_step(struct fcap_net *n, const double *x, const double *t, bool bce, double weight, double lr,
			   double *scratch);

/* Quantizes every layer; input_frac is the first layer's input scale.
 * Errors if a weight cannot be represented. */
int fcap_net_quantize(struct fcap_net *n, uint32_t input_frac, char *errbuf);

/* Lays the quantized weights out for the SIMD forward pass (done by
 * quantize and by model loading). */
int fcap_net_pack(struct fcap_net *n, char *errbuf);

/* Checks that no row of the fixed-point net can overflow its accumulator
 * with inputs of at most 32767 in magnitude. */
int fcap_net_check_bounds(const struct fcap_net *n, char *errbuf);

/* Fixed forward: x in the first layer's input scale (int16), out Q15. */
void fcap_net_forward_q(const struct fcap_net *n, const int16_t *x, int16_t *out, int16_t *scratch);
size_t fcap_net_scratch_q(const struct fcap_net *n);
/* Fixed forward of a one-output net up to its last pre-activation (the
 * logit), Q16: a classifier's score with the full range kept. */
int32_t fcap_net_logit_q(const struct fcap_net *n, const int16_t *x, int16_t *scratch);
/* Double counterpart. */
double fcap_net_logit(const struct fcap_net *n, const double *x, double *scratch);
/*
 * Groups of packets: the same fixed-point forward pass over FCAP_LANES
 * packets at once, one packet per SIMD lane (nn_lanes.c). Values are held
 * in int32 lanes; x[k][p] is input k of packet p. With logit, the last
 * layer gives its pre-activation in Q16 (as fcap_net_logit_q), else every
 * output is Q15 (as fcap_net_forward_q): lane by lane, exactly the
 * one-packet results. scratch: fcap_net_scratch_lanes(n) lanes.
 */
#define FCAP_LANES 16
typedef int32_t fcap_lanes[FCAP_LANES];
void fcap_net_forward_lanes(const struct fcap_net *n, const fcap_lanes *x, fcap_lanes *out, bool logit,
			    fcap_lanes *scratch);
size_t fcap_net_scratch_lanes(const struct fcap_net *n);
/* An autoencoder over a group: input k is x[idx[k]] (x[k] without idx),
 * and per lane the sum over outputs j of (input j * 2^xshift - output j)^2,
 * what its RMSE needs; exactly fcap_net_forward_lanes on the gathered
 * inputs, then fcap_sqerr_lanes. The net has as many outputs as inputs.
 * scratch: fcap_ae_scratch_lanes(n) lanes. */
void fcap_ae_sqerr_lanes(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, unsigned xshift,
			 uint64_t sum[FCAP_LANES], fcap_lanes *scratch);
size_t fcap_ae_scratch_lanes(const struct fcap_net *n);
/* Its RMSE per lane in Q20 (xshift 4: Q11 inputs against Q15 outputs):
 * isqrt(sum * 2^10) * isqrt_n >> 16, as fcap_rmse_q20_lanes computes it
 * from the sums (which are below 2^49 for any autoencoder of width <= 1024). */
void fcap_ae_rmse_lanes(const struct fcap_net *n, const fcap_lanes *x, const uint32_t *idx, uint32_t isqrt_n,
			fcap_lanes rmse, fcap_lanes *scratch);
void fcap_rmse_q20_lanes(const uint64_t sum[FCAP_LANES], uint32_t isqrt_n, fcap_lanes rmse);
/* A Q20 RMSE v normalised into Q11: (v - min) * m / 2^16 rounded toward
 * zero, saturated to +-32767; m is validated to 0..2^27. Per lane. */
int16_t fcap_norm_q(uint32_t v, int32_t min, int64_t m);
void fcap_norm_lanes(const fcap_lanes v, int32_t min, int64_t m, fcap_lanes out);
/* A normalised feature (already times 2^FCAP_IN_FRAC) to an int16 input:
 * NaN to 0, saturated to +-32767, rounded half away from zero. */
int16_t fcap_q11(double v);
/* fcap_q11(feat[p * stride + i] * a[i] + b[i]) into out[i][p] for the n
 * packets of a group; lanes past n get 0. */
void fcap_q11_lanes(const double *feat, size_t stride, size_t n, const double *a, const double *b, uint32_t nfeat,
		    fcap_lanes *out);
/* Per lane, the sum over i < n of (x[i] * 2^xshift - y[i])^2. */
void fcap_sqerr_lanes(const fcap_lanes *x, const fcap_lanes *y, uint32_t n, unsigned xshift, uint64_t sum[FCAP_LANES]);

/* The implementation of the packet-group pass: the best the CPU offers,
 * unless a test picks one (fcap_simd_use returns -1 if the CPU lacks it). */
enum fcap_simd { FCAP_SIMD_SCALAR = 0, FCAP_SIMD_AVX2 = 1 };
enum fcap_simd fcap_simd_best(void);
enum fcap_simd fcap_simd_current(void);
int fcap_simd_use(enum fcap_simd s);
const char *fcap_simd_name(enum fcap_simd s);

/* Builds the square-root and log tables (done by quantize/load). */
void fcap_nn_tables(void);
/* log2(v) in Q16 (v >= 1), by table. */
int32_t fcap_ilog2_q16(uint64_t v);

/* Sigmoid of a value with 16 fraction bits, Q15 result (piecewise cubic). */
int16_t fcap_sigmoid_q16(int32_t z);
double fcap_sigmoid(double z);

/* sqrt(v) by table and interpolation, relative error below 2e-4 (no division, no float). */
uint32_t fcap_isqrt64(uint64_t v);

/* Deterministic PRNG (splitmix64). */
uint64_t fcap_rng_next(uint64_t *s);
double fcap_rng_uniform(uint64_t *s);   /* [0, 1) */

#endif
