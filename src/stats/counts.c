/*
 * counts.c - the test that judges production windows: a function's
 * samples pooled over the windows of each side, compared as log odds with
 * a quasi-binomial variance whose dispersion is estimated from the windows
 * themselves; and Student's t distribution it needs.
 *
 * Why not the rank test: sampled shares of one window vary more than
 * binomial sampling explains (the machine's load and the program's own
 * rhythm move them) for some functions, and far less for others (samples
 * fall at regular CPU-time intervals into a periodic workload), so no
 * single variance fits; the rank test of 10 against 10 windows ignores
 * that every window holds hundreds of samples and cannot give a p-value
 * below 1/C(20,10) however clear the change. The quasi-binomial model
 * uses the counts and lets the windows say how much more (never less)
 * than binomial they vary. docs/statistics.md derives and measures it.
 *
 * Pure functions over read-only arrays; nothing allocated, nothing
 * printed.
 */
#include "perfguard/stats.h"

#include <math.h>

/* One step of the modified Lentz algorithm with coefficient num. */
static void lentz_step(double num, double *c, double *d, double *h)
{
	const double tiny = 1e-300;
	*d = 1 + num * *d;
	*c = 1 + num / *c;
	*d = 1 / (fabs(*d) < tiny ? tiny : *d);
	*c = fabs(*c) < tiny ? tiny : *c;
	*h *= *d * *c;
}

/*
 * Continued fraction of the regularised incomplete beta function
 * (modified Lentz), converging for x < (a + 1) / (a + b + 2).
 */
static double beta_cf(double a, double b, double x)
{
	double c = 1, d = 1 - (a + b) * x / (a + 1);
	d = 1 / (fabs(d) < 1e-300 ? 1e-300 : d);
	double h = d;
	for (int m = 1; m <= 500; m++) {
		double m2 = 2.0 * m;
		lentz_step(m * (b - m) * x / ((a - 1 + m2) * (a + m2)), &c, &d,
			   &h);
		lentz_step(-(a + m) * (a + b + m) * x /
			       ((a + m2) * (a + 1 + m2)),
			   &c, &d, &h);
		if (fabs(d * c - 1) < 1e-15)
			break;
	}
	return h;
}

/* Regularised incomplete beta I_x(a, b), a, b > 0, x in [0, 1]. */
static double inc_beta(double a, double b, double x)
{
	if (!(x > 0))
		return 0;
	if (!(x < 1))
		return 1;
	double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
			   b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double pg_stats_t_sf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(df))
		return 0.5 * erfc(t / M_SQRT2);
	if (isinf(t))
		return t > 0 ? 0 : 1;
	/* P(T > |t|) = I_{df/(df+t^2)}(df/2, 1/2) / 2 */
	double tail = 0.5 * inc_beta(df / 2, 0.5, df / (df + t * t));
	return t > 0 ? tail : 1 - tail;
}

double pg_stats_t_ppf(double p, double df)
{
	if (isnan(p) || p < 0 || p > 1 || !(df > 0))
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p < 0.5)
		return -pg_stats_t_ppf(1 - p, df);
	/* Bisection on the upper tail: monotone and exact to the last
	 * digits; the bracket grows until it holds the quantile. */
	double lo = 0, hi = 1, want = 1 - p;
	while (pg_stats_t_sf(hi, df) > want && hi < 1e300)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
		double mid = 0.5 * (lo + hi);
		if (pg_stats_t_sf(mid, df) > want)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* One side's pooled counts and Pearson statistic. */
struct pooled {
	double n, k, p, x2;
	size_t windows;
};

static struct pooled pool(const double *k, const double *n, size_t w)
{
	struct pooled s = {0};
	for (size_t i = 0; i < w; i++) {
		if (!(n[i] > 0))
			continue;
		s.n += n[i];
		s.k += k[i];
		s.windows++;
	}
	/* Half a sample of continuity keeps a zero count finite. */
	s.p = (s.k + 0.5) / (s.n + 1);
	double var = s.p * (1 - s.p);
	for (size_t i = 0; i < w; i++) {
		if (!(n[i] > 0))
			continue;
		double e = k[i] - n[i] * s.p;
		s.x2 += e * e / (n[i] * var);
	}
	return s;
}

void pg_stats_odds_test(const double *kb, const double *nb, size_t wb,
			const double *kh, const double *nh, size_t wh,
			double conf, struct pg_odds_test *out)
{
	struct pooled b = pool(kb, nb, wb), h = pool(kh, nh, wh);
	out->p = out->p_lower = out->dispersion = NAN;
	out->log_odds = out->lo = out->hi = NAN;
	out->df = 0;
	out->share_base = b.n > 0 ? b.k / b.n : NAN;
	out->share_head = h.n > 0 ? h.k / h.n : NAN;
	if (b.windows < 1 || h.windows < 1 || b.windows + h.windows < 3)
		return;
	double df = (double)(b.windows + h.windows - 2);
	double phi = (b.x2 + h.x2) / df;
	out->dispersion = phi;
	if (!(phi >= 1))
		phi = 1; /* never less than binomial sampling */
	double d = log(h.p / (1 - h.p)) - log(b.p / (1 - b.p));
	double se = sqrt(
	    phi * (1 / (b.n * b.p * (1 - b.p)) + 1 / (h.n * h.p * (1 - h.p))));
	double half = pg_stats_t_ppf(0.5 + conf / 2, df) * se;
	out->df = df;
	out->log_odds = d;
	out->lo = d - half;
	out->hi = d + half;
	out->p = pg_stats_t_sf(d / se, df);
	out->p_lower = pg_stats_t_sf(-d / se, df);
}
