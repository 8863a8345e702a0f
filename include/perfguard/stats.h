/*
 * stats.h - the numerics and the verdict rules (SPEC §6).
 *
 * Pure functions over arrays of doubles: summaries, the Mann-Whitney rank
 * test, Hodges-Lehmann shift estimates with distribution-free confidence
 * intervals, Benjamini-Hochberg, and on top of them pg_stats_judge, which
 * turns two multi-trial profiles into verdicts. No I/O, no allocation
 * visible to callers except where stated.
 */
#ifndef PERFGUARD_STATS_H
#define PERFGUARD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "perfguard/profile.h"
#include "perfguard/suite.h"

/* ---- numerics ------------------------------------------------------ */

double pg_stats_mean(const double *x, size_t n);
/* Median of x (x is not modified). n == 0 -> NAN. */
double pg_stats_median(const double *x, size_t n);
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
 * Benjamini-Hochberg adjusted p-values (q-values): q[i] for p[i], n tests.
 * q must have room for n values.
 */
void pg_stats_bh(const double *p, size_t n, double *q);

/* Standard normal CDF and its inverse. */
double pg_stats_norm_cdf(double z);
double pg_stats_norm_ppf(double p);

/* ---- verdicts ----------------------------------------------------- */

enum pg_metric {
	PG_METRIC_SELF,	 /* a function's self time */
	PG_METRIC_INCL,	 /* a function's inclusive time */
	PG_METRIC_CALLS, /* a function's call count (exact) */
	PG_METRIC_TOTAL, /* the benchmark's profiled total */
	PG_METRIC_WALL,	 /* hyperfine wall time of the unprofiled script */
};

enum pg_verdict_kind {
	PG_VERDICT_UNCHANGED,  /* judged, no change beyond the threshold */
	PG_VERDICT_REGRESSED,  /* fails the check */
	PG_VERDICT_IMPROVED,   /* reported, never fails */
	PG_VERDICT_UNCLEAR,    /* judged, not yet conclusive (more rounds) */
	PG_VERDICT_NOT_JUDGED, /* below min_share, untracked or ignored */
	PG_VERDICT_NEW,	       /* only on head */
	PG_VERDICT_GONE,       /* only on base */
};

struct pg_verdict {
	const char *bench;   /* borrowed from the suite/results */
	const char *func_id; /* NULL for PG_METRIC_TOTAL / PG_METRIC_WALL */
	const char *file;    /* for annotations, may be NULL */
	int line;
	enum pg_metric metric;
	enum pg_verdict_kind kind;
	double base_value, head_value; /* medians: ns, or calls */
	double change_pct;	       /* estimated change, + = slower */
	double ci_lo_pct, ci_hi_pct;   /* its confidence interval */
	double p;		       /* one-sided p of "head slower" */
	double q;		       /* BH-adjusted over the whole check */
	double p_faster, q_faster;     /* the same for "head faster" */
	double threshold_pct;
	/*
	 * Smallest change (percent) the hook can attribute to this function:
	 * the per-call resolution from the calibrated event cost
	 * (docs/statistics.md); 0 for totals and wall times. REGRESSED and
	 * IMPROVED need the estimate beyond max(threshold_pct, this).
	 */
	double resolution_pct;
	double share_pct; /* max of the two sides' share of the benchmark */
	uint64_t base_calls, head_calls; /* medians, exact per trial */
	size_t base_n, head_n;		 /* trials used */
};

struct pg_verdicts {
	struct pg_verdict *v;
	size_t n, cap;
};

/*
 * Judge one benchmark: compare base and head profiles of `b` with its
 * thresholds and track/ignore patterns, appending one verdict per
 * function seen on either side (base's functions in order, then those
 * only on head) plus PG_METRIC_TOTAL (and PG_METRIC_WALL when both sides
 * have wall samples), in that order. A function whose call count grew
 * beyond calls_pct gets metric PG_METRIC_CALLS and kind REGRESSED (its
 * time estimate is still filled in). Verdict strings are borrowed from b
 * and the profiles, which must outlive the verdicts. Nothing is appended
 * when either side has no trials. Method: docs/statistics.md.
 * q-values are not set here: call pg_stats_finish once every benchmark
 * of the check has been judged.
 */
void pg_stats_judge(const struct pg_bench *b,
		    const struct pg_bench_result *base,
		    const struct pg_bench_result *head,
		    struct pg_verdicts *out);

/*
 * Apply Benjamini-Hochberg over every judged verdict of the check, in two
 * families, each at fdr / 2 (so the check keeps fdr): function times, and
 * benchmark totals with wall times (so that a gross slowdown of a
 * benchmark can reach significance however many functions are judged;
 * see pg_stats_min_trials). Then set each verdict's final kind, with
 * limit = max(threshold_pct, resolution_pct): REGRESSED when q <= fdr / 2
 * and the estimate exceeds limit; IMPROVED symmetrically (with q_faster);
 * UNCLEAR when not regressed, the interval reaches above limit and
 * q <= min(0.5, 50 * fdr) (suggestive: worth more rounds); else
 * UNCHANGED. Idempotent: may be called again after re-judging.
 * Returns the number of regressions (calls regressions included).
 */
size_t pg_stats_finish(struct pg_verdicts *v, double fdr);

/*
 * Does this verdict take part in the check's statistics (a time, total or
 * wall verdict of a judged function or benchmark)? Calls regressions,
 * NEW, GONE and NOT_JUDGED verdicts do not.
 */
bool pg_verdict_judged(const struct pg_verdict *v);

/*
 * The smallest number of trials per side with which a benchmark's total
 * can reach q <= fdr when `ntotals` totals and wall times are judged in
 * the check: the smallest n with ntotals / C(2n, n) <= fdr / 2 (the smallest
 * one-sided rank-test p-value of n against n trials is 1 / C(2n, n), and
 * BH multiplies a lone significant p-value by its family's size).
 * Returns 0 when fdr is not in (0, 1] or ntotals is 0.
 */
int pg_stats_min_trials(double fdr, size_t ntotals);

/* True when some verdict of bench `name` is PG_VERDICT_UNCLEAR. */
bool pg_stats_bench_unclear(const struct pg_verdicts *v, const char *name);

void pg_verdicts_release(struct pg_verdicts *v);

/* "self time", "inclusive time", "calls", "total", "wall time". */
const char *pg_metric_name(enum pg_metric m);
const char *pg_verdict_kind_name(enum pg_verdict_kind k);

/*
 * The one-line statement of a verdict (SPEC §6), e.g.
 * "Template.render self time +12.4% [+9.8%, +15.1%], p=3e-05 (q=0.01),
 * 3.1 ms -> 3.5 ms, calls 400 -> 400". Appends to out.
 */
void pg_verdict_format(const struct pg_verdict *v, struct pg_buf *out);

#endif
