/*
 * calib.c - alert thresholds from benign scores for a target false-positive
 * rate: the empirical quantile, or the tail of a log-normal fitted to them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/model.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Inverse of the standard normal CDF: Acklam's rational approximation
 * (relative error below 1.2e-9), coefficients from his published note. */
double fcap_probit(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				    6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				    3.754408661907416e+00 };
	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		double q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -fcap_probit(1 - p);
	double q = p - 0.5, r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double fcap_calibrate(const double *benign, size_t n, double fpr, enum fcap_calib how)
{
	if (n == 0)
		return INFINITY;
	if (how == FCAP_CALIB_LOGNORMAL) {
		double s = 0, ss = 0;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (benign[i] > 0) {
				double l = log(benign[i]);
				s += l;
				ss += l * l;
				k++;
			}
		}
		if (k >= 2) {
			double mu = s / k, var = ss / k - mu * mu;
			return exp(mu + sqrt(var > 0 ? var : 0) * fcap_probit(1 - fpr));
		}
	}
	double *v = malloc(n * sizeof(double));
	if (!v)
		return INFINITY;
	memcpy(v, benign, n * sizeof(double));
	qsort(v, n, sizeof(double), cmp_double);
	/* the smallest threshold that at most fpr * n benign scores exceed */
	size_t allowed = (size_t)floor(fpr * (double)n);
	double t = allowed >= n ? v[0] : v[n - 1 - allowed];
	free(v);
	return t;
}
