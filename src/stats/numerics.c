/*
 * numerics.c - summaries, the Mann-Whitney U test, Wilcoxon's signed-rank
 * test of paired differences, Hodges-Lehmann shift estimates (of two
 * samples and of pairs), Benjamini-Hochberg and the standard normal
 * distribution.
 *
 * Every function is pure: inputs are read-only arrays of finite doubles,
 * scratch memory is allocated and freed inside. The Mann-Whitney test
 * follows scipy.stats.mannwhitneyu (U of the first sample, average ranks
 * for ties, normal approximation with tie and continuity correction, the
 * exact null distribution when scipy's method='auto' would use it). The
 * exact distribution is computed in 64-bit integers as the coefficients
 * of the Gaussian binomial [m+n choose m]_q, so it is exact up to
 * m + n = PG_STATS_EXACT_MAX_N; above that the normal approximation is
 * used whatever was asked. NaNs in the input are not supported.
 */
#include "perfguard/stats.h"
#include "perfguard/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = pg_malloc(n * sizeof(*s));
	if (n)
		memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

/* Type 7 quantile of an already sorted array. */
static double quantile_sorted(const double *s, size_t n, double q)
{
	if (n == 0 || isnan(q))
		return NAN;
	if (q <= 0)
		return s[0];
	if (q >= 1)
		return s[n - 1];
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return s[n - 1];
	return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

double pg_stats_mean(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += x[i];
	return sum / (double)n;
}

double pg_stats_median(const double *x, size_t n)
{
	return pg_stats_quantile(x, n, 0.5);
}

void pg_stats_median_interval(const double *x, size_t n, double conf,
			      double *median_out, double *low_out,
			      double *high_out)
{
	if (n == 0) {
		*median_out = *low_out = *high_out = NAN;
		return;
	}
	double *s = pg_malloc(n * sizeof(*s));
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*median_out = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	/* l = 1-based rank of the lower bound: the largest l with
	 * P(B <= l - 1) <= (1 - conf) / 2, B ~ Bin(n, 1/2); l <= n / 2 */
	double tail = (1 - conf) / 2, cdf = 0, term = pow(0.5, (double)n);
	size_t l = 1;
	for (size_t k = 0; k < n / 2; k++) {
		cdf += term; /* P(B <= k) */
		if (cdf > tail)
			break;
		l = k + 1;
		term *= (double)(n - k) / (double)(k + 1);
	}
	*low_out = s[l - 1];
	*high_out = s[n - l];
	free(s);
}

double pg_stats_quantile(const double *x, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double *s = sorted_copy(x, n);
	double r = quantile_sorted(s, n, q);
	free(s);
	return r;
}

double pg_stats_mad(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double med = pg_stats_median(x, n);
	double *d = pg_malloc(n * sizeof(*d));
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(x[i] - med);
	double r = pg_stats_median(d, n);
	free(d);
	return r;
}

double pg_stats_stddev(const double *x, size_t n)
{
	if (n < 2)
		return NAN;
	double m = pg_stats_mean(x, n), ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	return sqrt(ss / (double)(n - 1));
}

/* ---- the normal distribution --------------------------------------- */

double pg_stats_norm_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/* Upper tail, accurate far out where 1 - cdf would cancel. */
static double norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/*
 * Acklam's rational approximation (relative error 1.15e-9), refined by
 * one Halley step on erfc, which brings it to double precision.
 */
double pg_stats_norm_ppf(double p)
{
	static const double a[] = {
	    -3.969683028665376e+01, 2.209460984245205e+02,
	    -2.759285104469687e+02, 1.383577518672690e+02,
	    -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {
	    -5.447609879822406e+01, 1.615858368580409e+02,
	    -1.556989798598866e+02, 6.680131188771972e+01,
	    -1.328068155288572e+01};
	static const double c[] = {
	    -7.784894002430293e-03, -3.223964580411365e-01,
	    -2.400758277161838e+00, -2.549732539343734e+00,
	    4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00,
				   3.754408661907416e+00};
	const double p_low = 0.02425;

	if (isnan(p) || p < 0 || p > 1)
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;

	double x, q, r;
	if (p < p_low) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			 q +
		     c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - p_low) {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) *
			 r +
		     a[5]) *
		    q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) *
			 r +
		     1);
	} else {
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			  q +
		      c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}

	/*
	 * Halley refinement. In the upper half work on the upper tail so
	 * that p close to 1 does not lose its digits to cancellation.
	 */
	double e;
	if (p < 0.5)
		e = pg_stats_norm_cdf(x) - p;
	else
		e = (1 - p) - norm_sf(x);
	double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	x = x - u / (1 + x * u / 2);
	return x;
}

/* ---- Mann-Whitney -------------------------------------------------- */

/*
 * Number of arrangements of m a's and n b's for every U in 0..m*n: the
 * coefficients of prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i). Multiplying
 * first keeps every division exact; intermediate magnitudes stay below
 * 2 * C(m+n, m), which fits int64 for m + n <= PG_STATS_EXACT_MAX_N.
 * *total_out = C(m+n, m). The table of the last sizes asked for is kept
 * per thread (a check asks for the same sizes over and over); the
 * returned array belongs to that cache and is valid until the next call.
 */
static const int64_t *u_counts(size_t m, size_t n, int64_t *total_out)
{
	/* cppcheck 2.10 misses uses through a _Thread_local variable. */
	static _Thread_local struct {
		// cppcheck-suppress unusedStructMember
		size_t m, n;
		// cppcheck-suppress unusedStructMember
		int64_t *c, total;
	} cache;
	if (m > n) {
		size_t t = m;
		m = n;
		n = t;
	}
	if (cache.c && cache.m == m && cache.n == n) {
		*total_out = cache.total;
		return cache.c;
	}
	size_t len = m * n + 1;
	int64_t *c = pg_realloc(cache.c, len * sizeof(*c));
	memset(c, 0, len * sizeof(*c));
	c[0] = 1;
	for (size_t i = 1; i <= m; i++) {
		size_t up = n + i;
		for (size_t k = len; k-- > up;)
			c[k] -= c[k - up];
		for (size_t k = i; k < len; k++)
			c[k] += c[k - i];
	}
	int64_t total = 0;
	for (size_t k = 0; k < len; k++)
		total += c[k];
	cache.m = m;
	cache.n = n;
	cache.c = c;
	cache.total = total;
	*total_out = total;
	return c;
}

bool pg_stats_exact_feasible(size_t na, size_t nb)
{
	return na > 0 && nb > 0 && na + nb <= PG_STATS_EXACT_MAX_N;
}

/* P(U >= u) under the null, exact. u may be any real (ceil is taken). */
static double exact_sf(size_t m, size_t n, double u)
{
	int64_t total;
	const int64_t *c = u_counts(m, n, &total);
	size_t len = m * n + 1;
	double start = ceil(u);
	int64_t tail = 0;
	if (start <= 0) {
		tail = total;
	} else if (start < (double)len) {
		for (size_t k = (size_t)start; k < len; k++)
			tail += c[k];
	}
	return (double)tail / (double)total;
}

/* A value to rank, and whether its rank counts in the statistic. */
struct ranked {
	double v;
	bool counted;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	return (x->v > y->v) - (x->v < y->v);
}

/*
 * Sort r[0..n) by value and return the sum of the 1-based ranks of the
 * counted values, ties getting their average rank; *tie_term gets
 * sum(t^3 - t) over the groups of t tied values.
 */
static double counted_rank_sum(struct ranked *r, size_t n, double *tie_term)
{
	qsort(r, n, sizeof(*r), cmp_ranked);
	double sum = 0, ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double t = (double)(j - i);
		double avg = ((double)i + 1 + (double)j) / 2;
		for (size_t k = i; k < j; k++)
			if (r[k].counted)
				sum += avg;
		ties += t * t * t - t;
		i = j;
	}
	*tie_term = ties;
	return sum;
}

/*
 * U of b (the number of pairs with b > a, ties counting one half) and
 * the tie term sum(t^3 - t) of the pooled sample.
 */
static void u_statistic(const double *a, size_t na, const double *b, size_t nb,
			double *u_b, double *tie_term)
{
	size_t n = na + nb;
	struct ranked *r = pg_malloc(n * sizeof(*r));
	for (size_t i = 0; i < na; i++)
		r[i] = (struct ranked){a[i], false};
	for (size_t j = 0; j < nb; j++)
		r[na + j] = (struct ranked){b[j], true};
	double rank_sum_b = counted_rank_sum(r, n, tie_term);
	free(r);
	*u_b = rank_sum_b - (double)nb * ((double)nb + 1) / 2;
}

double pg_stats_mann_whitney(const double *a, size_t na, const double *b,
			     size_t nb, bool two_sided,
			     enum pg_mwu_method method, double *u_out)
{
	if (u_out)
		*u_out = NAN;
	if (na == 0 || nb == 0)
		return NAN;
	double u, tie_term;
	u_statistic(a, na, b, nb, &u, &tie_term);
	if (u_out)
		*u_out = u;

	double mn = (double)na * (double)nb;
	/* The statistic whose upper tail is the p-value. */
	double stat = two_sided ? fmax(u, mn - u) : u;

	if (method == PG_MWU_AUTO)
		method = ((na > 8 && nb > 8) || tie_term > 0)
			     ? PG_MWU_ASYMPTOTIC
			     : PG_MWU_EXACT;
	if (method == PG_MWU_PREFER_EXACT)
		method = tie_term > 0 ? PG_MWU_ASYMPTOTIC : PG_MWU_EXACT;
	if (method == PG_MWU_EXACT && !pg_stats_exact_feasible(na, nb))
		method = PG_MWU_ASYMPTOTIC;

	double p;
	if (method == PG_MWU_EXACT) {
		p = exact_sf(na, nb, stat);
	} else {
		double n = (double)(na + nb);
		double var = mn / 12 * ((n + 1) - tie_term / (n * (n - 1)));
		double num = stat - mn / 2 - 0.5;
		if (!(var > 0))
			p = num > 0 ? 0 : 1; /* every value tied */
		else
			p = norm_sf(num / sqrt(var));
	}
	if (two_sided)
		p *= 2;
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

double pg_stats_mann_whitney_greater(const double *a, size_t na,
				     const double *b, size_t nb, double *u_out)
{
	return pg_stats_mann_whitney(a, na, b, nb, false, PG_MWU_AUTO, u_out);
}

double pg_stats_mann_whitney_two_sided(const double *a, size_t na,
				       const double *b, size_t nb)
{
	return pg_stats_mann_whitney(a, na, b, nb, true, PG_MWU_AUTO, NULL);
}

/* ---- Hodges-Lehmann ------------------------------------------------- */

/*
 * The 1-based order statistic k of a distribution-free interval, for a
 * statistic taking the values 0..len: the smallest k with P(stat <= k) >=
 * alpha/2 from its null counts c (summing to total), or, without counts
 * (c NULL), floor(len/2 - z(1 - alpha/2) * sd); clamped to
 * 1..ceil(len/2).
 */
static size_t interval_rank(const int64_t *c, double total, size_t len,
			    double alpha, double sd)
{
	size_t k = 0;
	if (c) {
		double target = alpha / 2 * total, cum = 0;
		for (k = 0; k < len; k++) {
			cum += (double)c[k];
			if (cum >= target * (1 - 1e-12))
				break;
		}
	} else {
		double z = pg_stats_norm_ppf(1 - alpha / 2);
		double kk = floor((double)len / 2 - z * sd);
		k = kk > 0 ? (size_t)kk : 0;
	}
	if (k < 1)
		k = 1;
	if (k > (len + 1) / 2)
		k = (len + 1) / 2;
	return k;
}

size_t pg_stats_hl_rank(size_t na, size_t nb, double conf)
{
	size_t mn = na * nb;
	double alpha = 1 - conf;
	if (mn == 0 || !(alpha > 0 && alpha < 1))
		return 1;
	if (!pg_stats_exact_feasible(na, nb))
		return interval_rank(
		    NULL, 0, mn, alpha,
		    sqrt((double)mn * (double)(na + nb + 1) / 12));
	/* R's qwilcox */
	int64_t total;
	const int64_t *c = u_counts(na, nb, &total);
	return interval_rank(c, (double)total, mn, alpha, 0);
}

/*
 * A Hodges-Lehmann estimate from its len candidate values x (pairwise
 * differences or Walsh averages; taken and freed): their median, and the
 * k-th smallest and k-th largest as the interval. All NAN when len == 0.
 * Outputs may be NULL.
 */
static void estimate_of(double *x, size_t len, size_t k, double *est_out,
			double *lo_out, double *hi_out)
{
	double est = NAN, lo = NAN, hi = NAN;
	if (len > 0) {
		qsort(x, len, sizeof(*x), cmp_double);
		est = quantile_sorted(x, len, 0.5);
		lo = x[k - 1];
		hi = x[len - k];
	}
	free(x);
	if (est_out)
		*est_out = est;
	if (lo_out)
		*lo_out = lo;
	if (hi_out)
		*hi_out = hi;
}

void pg_stats_hodges_lehmann(const double *a, size_t na, const double *b,
			     size_t nb, double conf, double *est_out,
			     double *lo_out, double *hi_out)
{
	size_t mn = na * nb;
	double *d = pg_malloc((mn ? mn : 1) * sizeof(*d));
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			d[i * nb + j] = b[j] - a[i];
	estimate_of(d, mn, mn ? pg_stats_hl_rank(na, nb, conf) : 0, est_out,
		    lo_out, hi_out);
}

/* ---- Wilcoxon signed-rank (paired) ------------------------------------ */

/*
 * The null distribution of W+ for n ranks: the number of subsets of
 * {1..n} with each sum 0..n(n+1)/2 (every rank's sign a fair coin).
 * Counts stay below 2^n, which fits int64 for n <= PG_STATS_EXACT_MAX_N.
 * The caller frees the array.
 */
static int64_t *w_counts(size_t n)
{
	size_t len = n * (n + 1) / 2 + 1;
	int64_t *c = pg_calloc(len, sizeof(*c));
	c[0] = 1;
	for (size_t r = 1; r <= n; r++)
		for (size_t w = r * (r + 1) / 2; w >= r; w--)
			c[w] += c[w - r];
	return c;
}

/* The variance of W+ for m ranks with tie term sum(t^3 - t). */
static double w_var(size_t m, double tie_term)
{
	double k = (double)m;
	return k * (k + 1) * (2 * k + 1) / 24 - tie_term / 48;
}

double pg_stats_signed_rank(const double *d, size_t n)
{
	if (n == 0)
		return NAN;
	struct ranked *r = pg_malloc(n * sizeof(*r));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			r[m++] = (struct ranked){fabs(d[i]), d[i] > 0};
	double ties;
	double w = counted_rank_sum(r, m, &ties);
	free(r);
	if (m == 0)
		return 1; /* every difference zero: no evidence */
	double p;
	if (ties == 0 && m <= PG_STATS_EXACT_MAX_N) {
		int64_t *c = w_counts(m);
		size_t len = m * (m + 1) / 2 + 1;
		int64_t tail = 0;
		for (size_t k = (size_t)ceil(w); k < len; k++)
			tail += c[k];
		free(c);
		p = (double)tail / ldexp(1, (int)m);
	} else {
		double var = w_var(m, ties);
		double num = w - (double)m * ((double)m + 1) / 4 - 0.5;
		p = var > 0 ? norm_sf(num / sqrt(var)) : num > 0 ? 0 : 1;
	}
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

size_t pg_stats_signed_rank_k(size_t n, double conf)
{
	size_t len = n * (n + 1) / 2;
	double alpha = 1 - conf;
	if (len == 0 || !(alpha > 0 && alpha < 1))
		return 1;
	if (n > PG_STATS_EXACT_MAX_N)
		return interval_rank(NULL, 0, len, alpha, sqrt(w_var(n, 0)));
	/* R's qsignrank */
	int64_t *c = w_counts(n);
	size_t k = interval_rank(c, ldexp(1, (int)n), len, alpha, 0);
	free(c);
	return k;
}

double pg_stats_smallest_p(int n, bool paired)
{
	/* 1/C(2n, n) by C(2k+2, k+1) = C(2k, k)(2k+1)(2k+2)/(k+1)^2 */
	double p = 1;
	for (int k = 0; k < n && p > 0; k++)
		p = paired ? p / 2
			   : p * (k + 1.0) * (k + 1.0) /
				 ((2.0 * k + 1) * (2.0 * k + 2));
	return p;
}

void pg_stats_hodges_lehmann_paired(const double *d, size_t n, double conf,
				    double *est_out, double *lo_out,
				    double *hi_out)
{
	size_t len = n * (n + 1) / 2, m = 0;
	double *a = pg_malloc((len ? len : 1) * sizeof(*a));
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			a[m++] = (d[i] + d[j]) / 2;
	estimate_of(a, len, len ? pg_stats_signed_rank_k(n, conf) : 0, est_out,
		    lo_out, hi_out);
}

/* ---- Benjamini-Hochberg ---------------------------------------------- */

struct pidx {
	double p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;
	if (x->p != y->p)
		return (x->p > y->p) - (x->p < y->p);
	return (x->i > y->i) - (x->i < y->i);
}

void pg_stats_bh(const double *p, size_t n, double *q)
{
	if (n == 0)
		return;
	struct pidx *s = pg_malloc(n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		s[i] = (struct pidx){p[i], i};
	qsort(s, n, sizeof(*s), cmp_pidx);
	double run = 1;
	for (size_t r = n; r-- > 0;) {
		double v = s[r].p * (double)n / (double)(r + 1);
		if (v < run)
			run = v;
		q[s[r].i] = run;
	}
	free(s);
}
