/*
 * verdict.h - the verdict rules (SPEC §6, docs/statistics.md): from the
 * base and head results of a benchmark to one verdict per function, its
 * total and its wall time, and the check-wide false-discovery control.
 *
 * Built on the numerics of stats.h; reads the suite's thresholds and
 * patterns and the results sets, never writes them. Verdicts borrow their
 * strings from the suite and the results sets.
 */
#ifndef PERFGUARD_VERDICT_H
#define PERFGUARD_VERDICT_H

#include "perfguard/results.h"
#include "perfguard/stats.h"
#include "perfguard/suite.h"

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

/*
 * Why a verdict regressed, from evidence in the two results sets (computed
 * by the analysis module, pg_analysis_causes; docs/statistics.md "Causes").
 */
enum pg_cause_kind {
	PG_CAUSE_CODE,	  /* its own code changed (code fingerprints differ) */
	PG_CAUSE_CALLS,	  /* called more: mostly from caller `other` */
	PG_CAUSE_CALLEE,  /* a function below got slower: `other` */
	PG_CAUSE_WAITING, /* more time off-CPU (wall grew, CPU did not) */
	PG_CAUSE_INPUT,	  /* same code, same calls, slower per call */
};

/* "code", "calls", "callee", "waiting", "input" (JSON tokens). */
static inline const char *pg_cause_kind_name(enum pg_cause_kind k)
{
	static const char *const names[] = {"code", "calls", "callee",
					    "waiting", "input"};
	return (unsigned)k < 5 ? names[k] : "?";
}

struct pg_cause {
	enum pg_cause_kind kind;
	/* The check's only changed function, and it regressed: named first. */
	bool lead;
	/* Fingerprints missing on a side: whether the code changed is unknown. */
	bool code_unknown;
	/* CALLS: the caller; CALLEE: the (first) slower function; WAITING:
	 * a function's caller in whose calls it waits more, a total's
	 * waiting function */
	const char *other;
	/* CALLS: other's calls per trial; CALLEE: a total's function's self
	 * time per trial, a function's callee's time under it per trial;
	 * WAITING: the function's self time under other, or a total's
	 * function's self time, per trial (ns) */
	double other_base, other_head;
	bool other_changed; /* other's code changed */
	/* WAITING: the waiting function's median self time off and on the
	 * CPU per trial (ns), base and head; NAN for other kinds. */
	double off_base, off_head, cpu_base, cpu_head;
	/* Changed functions above this one on its call paths (nearest
	 * first), or in the benchmark for CALLEE; borrowed ids. */
	const char **changed;
	size_t nchanged;
	/* Where the change is, for annotations; NULL when not known. */
	const char *at_file;
	int at_line;
	char *text; /* one line, e.g. "its code changed" (owned) */
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
	 * the per-call resolution from the calibrated event cost, its
	 * callers' shadow (what a change of their own work around its calls
	 * can do to its time) and, for self time, its callees' shadow
	 * (docs/statistics.md); 0 for totals and wall times. REGRESSED and
	 * IMPROVED need the estimate beyond max(threshold_pct, this).
	 */
	double resolution_pct;
	double share_pct; /* max of the two sides' share of the benchmark */
	uint64_t base_calls, head_calls; /* medians, exact per trial */
	size_t base_n, head_n;		 /* trials used */
	/* Totals and wall times: judged round by round (both sides ran in
	 * the same rounds: pg_bench_results_paired), else as two samples. */
	bool paired;
	/* Why it regressed, or NULL (set by pg_analysis_causes; borrowed). */
	const struct pg_cause *cause;
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
 * when either side has no trials. Production windows (both profiles'
 * mechanism "sampler", values as cli_production_shares leaves them:
 * share / (1 - share) per total_ns, samples in events) are judged on
 * their pooled sample counts (pg_stats_odds_test); their values are the
 * pooled odds. Method: docs/statistics.md.
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
 * UNCLEAR when not regressed, the estimate is above 0, the interval
 * reaches above limit and q <= min(0.5, 50 * fdr) (suggestive: worth more
 * rounds), or, not improved, the estimate is below 0, the interval
 * reaches below -limit and q_faster <= the same bound (an improvement,
 * maybe: the same extra rounds); else UNCHANGED (so a profile compared
 * with itself, estimate 0 and p = 0.5, is unchanged throughout). Idempotent: may be called again after re-judging.
 * Returns the number of regressions (calls regressions included).
 */
size_t pg_stats_finish(struct pg_verdicts *v, double fdr);

/*
 * pg_stats_finish for one part of a check (a shard) that decides its
 * extra rounds before the whole is judged (`perfguard merge`): each BH
 * family is judged as if the whole check held more verdicts, judged
 * elsewhere, all with p-value pad_p: fn_scale times as many function
 * verdicts as vs has (the whole check's benchmarks over the part's; <= 1
 * adds none), and extra_totals more totals and wall times. BH q-values
 * only grow with any p-value, so pad_p 1 gives each verdict the largest
 * q the whole can give it (a verdict REGRESSED then is regressed in the
 * whole; none is settled on a smaller family than the whole check's) and
 * pad_p 0 the smallest (a verdict UNCHANGED then is unchanged in the
 * whole): a part whose two views agree has settled what the merge will
 * find, when the other parts hold about fn_scale times its function
 * verdicts. pg_stats_finish is pg_stats_finish_part(vs, fdr, 1, 0, 1).
 */
size_t pg_stats_finish_part(struct pg_verdicts *vs, double fdr, double fn_scale,
			    size_t extra_totals, double pad_p);

/*
 * Was this verdict judged: did the rules reach a decision (unchanged,
 * regressed, improved or unclear) on evidence? A calls regression is
 * judged (call counts are exact and need no test); a time, total or wall
 * verdict only when its tests gave p-values (not NaN, as when a sample
 * has too few distinct values). NEW, GONE and NOT_JUDGED verdicts are
 * not. Reports count and list verdicts by this one predicate;
 * pg_stats_finish's false-discovery set is the judged verdicts but calls.
 */
bool pg_verdict_judged(const struct pg_verdict *v);

/* True when some verdict of bench `name` is PG_VERDICT_UNCLEAR. */
bool pg_stats_bench_unclear(const struct pg_verdicts *v, const char *name);

/*
 * Of the significance level a total's family has (fdr / 2), the share a
 * total (or wall time) must meet to be called REGRESSED or IMPROVED
 * before the last round a check may add: a check that adds rounds while
 * a verdict is unclear tests again after each, and every test is another
 * chance for identical code to read as changed (4 of 200 simulated A/A
 * checks failed on a total under rounds 10..30, against 0-1 at a fixed
 * count). With the early tests this strict, the last one keeps almost
 * all of the level (a Haybittle-Peto bound: 0.001 early for 0.05).
 */
#define PG_STATS_EARLY_SHARE 0.02

/*
 * Does verdict x (judged at fdr, before the last round the check may
 * add) want more rounds: it is PG_VERDICT_UNCLEAR, or it is a total's
 * REGRESSED or IMPROVED whose q is above fdr / 2 * PG_STATS_EARLY_SHARE?
 */
bool pg_verdict_needs_rounds(const struct pg_verdict *x, double fdr);

/* True when some verdict of bench `name` wants more rounds
 * (pg_verdict_needs_rounds). */
bool pg_stats_bench_needs_rounds(const struct pg_verdicts *v, const char *name,
				 double fdr);

/* True when some verdict of bench `name` is PG_VERDICT_UNCLEAR about a
 * slowdown (its interval reaches above its limit), not only about an
 * improvement. */
bool pg_stats_bench_unclear_slower(const struct pg_verdicts *v,
				   const char *name);

/*
 * The smallest number of trials per side with which a benchmark's total
 * can reach q <= fdr / 2 when `ntotals` totals and wall times are judged
 * in the check: the smallest n with ntotals * pmin(n) <= fdr / 2, BH
 * multiplying a lone significant p-value by its family's size. pmin(n)
 * is the smallest one-sided p-value of the totals' test: 1 / C(2n, n)
 * for the rank test of n against n trials, 1 / 2^n for the signed-rank
 * test of n rounds (`paired`: both sides measured in the same rounds,
 * pg_bench_result.session). Returns 0 when fdr is not in (0, 1] or
 * ntotals is 0.
 */
int pg_stats_min_trials(double fdr, size_t ntotals, bool paired);

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
