/*
 * stats.h - the numerics under the verdict rules (SPEC §6).
 *
 * Pure functions over arrays of doubles: summaries, the Mann-Whitney rank
 * test, Wilcoxon's signed-rank test of pairs, Hodges-Lehmann shift
 * estimates (two samples, pairs) with distribution-free confidence
 * intervals, Benjamini-Hochberg, Student's t and the quasi-binomial test
 * of sample counts that judges production windows. No I/O, no allocation visible to callers
 * except where stated, and no perfguard types: the rules that turn
 * profiles into verdicts are verdict.h's.
 */
#ifndef PERFGUARD_STATS_H
#define PERFGUARD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

double pg_stats_mean(const double *x, size_t n);
/* Median of x (x is not modified). n == 0 -> NAN. */
double pg_stats_median(const double *x, size_t n);
/*
 * Median of x[0..n) (x is not modified) and a distribution-free
 * confidence interval for it at level conf: the order statistics
 * (x_(l), x_(n+1-l)) with the largest l such that P(Bin(n, 1/2) < l) <=
 * (1 - conf) / 2, so coverage is at least conf whatever the distribution;
 * with too few values for conf (n < 6 at 95%), the smallest and largest
 * value. All NAN when n == 0.
 */
void pg_stats_median_interval(const double *x, size_t n, double conf,
			      double *median_out, double *low_out,
			      double *high_out);
/* Quantile q in [0,1], linear interpolation (type 7). */
double pg_stats_quantile(const double *x, size_t n, double q);
/* Median absolute deviation (unscaled). */
double pg_stats_mad(const double *x, size_t n);
/* Sample standard deviation (n-1). */
double pg_stats_stddev(const double *x, size_t n);

/*
 * Mann-Whitney U test. U is the U of b: the number of pairs (a_i, b_j)
 * with b_j > a_i, ties counting one half (scipy's U1 of
 * mannwhitneyu(b, a)). PG_MWU_AUTO follows scipy's method='auto': the
 * exact null distribution when either sample has at most 8 values and
 * there are no ties, else the normal approximation with tie and
 * continuity correction. PG_MWU_EXACT ignores ties (as scipy does); it
 * and PG_MWU_PREFER_EXACT fall back to the approximation when
 * na + nb > PG_STATS_EXACT_MAX_N.
 * Returns the p-value in [0, 1] (NAN when a sample is empty); *u_out
 * (may be NULL) gets U of b.
 */
#define PG_STATS_EXACT_MAX_N 60
enum pg_mwu_method {
	PG_MWU_AUTO,	     /* scipy's 'auto' */
	PG_MWU_EXACT,	     /* exact null distribution (ties ignored) */
	PG_MWU_ASYMPTOTIC,   /* normal approximation */
	PG_MWU_PREFER_EXACT, /* exact when feasible and no ties */
};
double pg_stats_mann_whitney(const double *a, size_t na, const double *b,
			     size_t nb, bool two_sided,
			     enum pg_mwu_method method, double *u_out);
/* One-sided, alternative "b tends to be larger than a"; PG_MWU_AUTO. */
double pg_stats_mann_whitney_greater(const double *a, size_t na,
				     const double *b, size_t nb, double *u_out);
/* Two-sided version; PG_MWU_AUTO. */
double pg_stats_mann_whitney_two_sided(const double *a, size_t na,
				       const double *b, size_t nb);
/* Can the exact U distribution be computed for these sizes? */
bool pg_stats_exact_feasible(size_t na, size_t nb);

/*
 * Hodges-Lehmann estimate of the shift b - a (median of all na*nb
 * pairwise differences b_j - a_i) with a distribution-free confidence
 * interval at level `conf` (e.g. 0.95): the k-th smallest and k-th
 * largest difference, k = pg_stats_hl_rank(na, nb, conf). Outputs may be
 * NULL; all NAN when a sample is empty.
 */
void pg_stats_hodges_lehmann(const double *a, size_t na, const double *b,
			     size_t nb, double conf, double *est_out,
			     double *lo_out, double *hi_out);
/*
 * The 1-based order statistic k of the Moses interval: the smallest k
 * with P(U <= k) >= (1 - conf) / 2 under the exact null distribution
 * (R's qwilcox), or floor(mn/2 - z * sqrt(mn(na+nb+1)/12)) when the exact
 * distribution is not feasible; clamped to 1..ceil(mn/2).
 */
size_t pg_stats_hl_rank(size_t na, size_t nb, double conf);

/*
 * Wilcoxon signed-rank test of n paired differences d (head - base of
 * each pair), one-sided, alternative "the differences tend to be
 * positive". Zero differences are left out (Wilcoxon's convention);
 * ranks of tied magnitudes are averaged. The exact null distribution
 * when no magnitudes tie and at most PG_STATS_EXACT_MAX_N differences are
 * nonzero, else the normal approximation with tie and continuity
 * correction. Returns the p-value in [0, 1]: 1 when every difference is
 * zero, NAN when n == 0.
 */
double pg_stats_signed_rank(const double *d, size_t n);
/*
 * Hodges-Lehmann estimate of the centre of n paired differences d (the
 * median of the n(n+1)/2 Walsh averages (d_i + d_j) / 2, i <= j) with
 * its distribution-free interval at level conf: the k-th smallest and
 * k-th largest Walsh average, k = pg_stats_signed_rank_k(n, conf).
 * Outputs may be NULL; all NAN when n == 0. Allocates n(n+1)/2 doubles
 * of scratch.
 */
void pg_stats_hodges_lehmann_paired(const double *d, size_t n, double conf,
				    double *est_out, double *lo_out,
				    double *hi_out);
/*
 * The 1-based order statistic k of that interval: the smallest k with
 * P(W+ <= k) >= (1 - conf) / 2 under the exact null distribution (R's
 * qsignrank), or floor(M/2 - z * sd(W+)) (M = n(n+1)/2) above
 * PG_STATS_EXACT_MAX_N; clamped to 1..ceil(M/2).
 */
size_t pg_stats_signed_rank_k(size_t n, double conf);
/*
 * The smallest one-sided p-value n trials per side can give, ties aside:
 * 1 / C(2n, n) for the rank test of n against n trials, 1 / 2^n for the
 * signed-rank test of n pairs (`paired`). 1 for n < 1; may underflow to
 * 0 for large n.
 */
double pg_stats_smallest_p(int n, bool paired);

/*
 * Benjamini-Hochberg adjusted p-values (q-values): q[i] for p[i], n tests.
 * q must have room for n values.
 */
void pg_stats_bh(const double *p, size_t n, double *q);

/* Standard normal CDF and its inverse. */
double pg_stats_norm_cdf(double z);
double pg_stats_norm_ppf(double p);

/*
 * Student's t distribution with df > 0 degrees of freedom (df may be
 * INFINITY: the normal): the upper tail P(T > t), and the quantile t with
 * P(T <= t) = p. NAN for a NaN argument or df <= 0.
 */
double pg_stats_t_sf(double t, double df);
double pg_stats_t_ppf(double p, double df);

/*
 * Quasi-binomial comparison of one function's sample counts on two sides
 * (counts.c). Side base has wb windows: kb[i] samples of the function
 * out of nb[i] samples in window i (kb may be fractional; windows with
 * nb[i] <= 0 are left out); head likewise. The pooled shares K/N of the
 * sides are compared as log odds: log_odds = logit(head) - logit(base)
 * (the shares with half a sample of continuity). Its variance is the
 * binomial one times the dispersion phi, Pearson's chi-square of the
 * windows about their side's pooled share over wb + wh - 2 degrees of
 * freedom (both sides pooled), taken as at least 1; the statistic is
 * referred to Student's t with those degrees of freedom.
 *  p        one-sided p-value for "head's share is larger";
 *  p_lower  for "head's share is smaller";
 *  lo, hi   the interval of log_odds at level conf (e.g. 0.95);
 *  dispersion  the estimated phi before the floor at 1;
 *  share_*  the pooled shares K/N without continuity.
 * With fewer than 3 windows in all (or none on a side) there is no
 * dispersion estimate: p, p_lower, log_odds, lo, hi and dispersion are
 * NAN and df is 0.
 */
struct pg_odds_test {
	double p, p_lower;
	double log_odds, lo, hi;
	double dispersion, df;
	double share_base, share_head;
};
void pg_stats_odds_test(const double *kb, const double *nb, size_t wb,
			const double *kh, const double *nh, size_t wh,
			double conf, struct pg_odds_test *out);

#endif
