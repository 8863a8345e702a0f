/*
 * analysis.h - what the measurements mean: change points over history,
 * findings from one profile, and runner noise from A/A runs.
 *
 * Pure computations over data the other modules loaded: series of values
 * along first-parent history (change points by E-Divisive means with a
 * permutation test), one multi-trial profile (ranked findings with their
 * evidence), A/A results sets (spread and smallest detectable change).
 * Nothing here reads files, runs git or prints; randomness comes from an
 * explicit seed, so every result is reproducible.
 */
#ifndef PERFGUARD_ANALYSIS_H
#define PERFGUARD_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "perfguard/profile.h"
#include "perfguard/results.h"
#include "perfguard/verdict.h"

/* ---- change points (changepoint.c) ---------------------------------- */

/*
 * E-Divisive means (Matteson & James 2014, alpha = 1), as Apache Otava /
 * Hunter use it: the series is split where the energy distance between
 * the two sides, weighted by mn/(m+n), is largest; the split is kept when
 * a permutation test finds it significant (p <= alpha), and each side is
 * searched again, until no segment has a significant split.
 *
 * Series longer than `window` are searched in windows of that many points
 * every window/2 (as Hunter does, to bound the cost); a change point is
 * kept from the window whose middle half holds it.
 *
 * False-positive rate: in a window without any change, a change point is
 * reported with probability at most alpha (the first test guards the whole
 * window); a series of n > window points has about 2n/window windows. The
 * p-value of a split is (1 + #permutations whose best split is at least
 * as strong) / (1 + permutations), so permutations must be at least
 * 1/alpha - 1 for any split to pass.
 */
struct pg_cp_options {
	double alpha;	       /* significance level, e.g. 0.01 */
	unsigned permutations; /* per tested segment, e.g. 199 */
	size_t min_size; /* fewest points on either side of a split, >= 1 */
	size_t window;	 /* points per window, >= 4 * min_size; 0: all */
	uint64_t seed;	 /* permutation RNG seed: same seed, same result */
};

/* alpha 0.01, 199 permutations, min_size 2, window 64, a fixed seed. */
void pg_cp_options_default(struct pg_cp_options *o);

struct pg_change_point {
	size_t index;	   /* first point after the step (1..n-1) */
	double before;	   /* median of the segment before the step */
	double after;	   /* median of the segment after it */
	double change_pct; /* (after / before - 1) * 100; + = larger */
	double p;	   /* permutation p-value of the split */
};

/*
 * Change points of x[0..n) (in order, oldest first). *out is newly
 * allocated (free()), sorted by index, NULL when none; *n_out their count.
 * Segments are delimited by neighbouring change points, so before/after
 * are the medians between them. Non-finite values are PG_EINVALID, as are
 * alpha outside (0, 1) and min_size 0. Cost: O(n^2) per permutation of
 * each tested segment.
 */
int pg_analysis_change_points(const double *x, size_t n,
			      const struct pg_cp_options *o,
			      struct pg_change_point **out, size_t *n_out);

/* ---- series of one benchmark or function (history.c) --------------- */

/*
 * The per-trial values a history point of benchmark b is made of: the
 * profiled total (func_id NULL) or the self time of function func_id, in
 * ns, one per trial. *out newly allocated (free()) with b's trial count;
 * PG_ENOTFOUND (message set) when func_id is not in b's profile or b has
 * no trials.
 */
int pg_analysis_trial_values(const struct pg_bench_result *b,
			     const char *func_id, double **out, size_t *n_out);

/* ---- findings from one profile (findings.c) ------------------------ */

enum pg_finding_kind {
	PG_FINDING_HOT_PATH,	    /* a call path holding much of the time */
	PG_FINDING_CALL_OVERHEAD,   /* many calls, each not much dearer than
				       the interpreter's cost of a call */
	PG_FINDING_WAITING,	    /* wall time far above CPU time */
	PG_FINDING_REPEATED_WORK,   /* called many times per caller call */
	PG_FINDING_RECURSION,	    /* recursive calls holding much time */
	PG_FINDING_BUILTIN_HOTSPOT, /* a C function, mostly from one caller */
	PG_FINDING_EXCEPTIONS,	    /* many exceptions raised on a hot path */
	PG_FINDING_GC,		    /* garbage collection (a "<gc>" entry) */
	PG_FINDING_IMPORT,	    /* module top-level code */
};

/* "hot-path", "call-overhead", ... as in the JSON. */
const char *pg_finding_kind_name(enum pg_finding_kind k);

#define PG_EVIDENCE_MAX 8

/* One measured fact: a number (text NULL) or a text. */
struct pg_evidence {
	const char *key; /* static: "calls", "per_call_ns", ... */
	double value;
	char *text; /* owned, or NULL for a number */
};

struct pg_finding {
	enum pg_finding_kind kind;
	uint32_t func; /* the function it is about (profile index) */
	double share;  /* of the profile's total time, 0..1: the rank */
	struct pg_evidence evidence[PG_EVIDENCE_MAX];
	size_t nevidence;
	const char *remedy; /* static text */
};

struct pg_findings {
	struct pg_finding *v;
	size_t n, cap;
};

/* What the findings are drawn from. */
struct pg_analysis_input {
	const struct pg_profile *p; /* required, at least one trial */
	/*
	 * The same program profiled with the CPU clock (time the thread did
	 * not run charged to no one), or NULL: waiting needs both clocks.
	 */
	const struct pg_profile *cpu;
	/* The interpreter's cost of one Python call in ns, measured; 0 when
	 * unknown (no call-overhead findings then). */
	double call_cost_ns;
	/* Function id of the profiled script's module code ("app.py:<module>"),
	 * never an import finding; NULL: the module code called from the top
	 * level with the most time. */
	const char *main_module;
	/*
	 * A run that counted exceptions per function (pg_func.raised and
	 * .handled; analyze's PERFGUARD_EXCEPTIONS=1 run), or NULL: then
	 * p's own counts are used (zero unless counted).
	 */
	const struct pg_profile *exceptions;
};

/*
 * Findings from in->p, ranked by share (largest first). Rules and their
 * thresholds: docs/analysis.md. *out is initialised here; release with
 * pg_findings_release. Functions are indexes into in->p.
 */
void pg_analysis_findings(const struct pg_analysis_input *in,
			  struct pg_findings *out);
void pg_findings_release(struct pg_findings *f);

/*
 * The findings as items of SPEC §2's "findings" array, at the writer's
 * position (inside an array): {"kind", "function", "file", "line",
 * "share", "evidence": {...}, "remedy"}, plus "bench" when bench is not
 * NULL. The caller writes {"schema": 1, "findings": [...]} around them.
 */
void pg_findings_write_json(const struct pg_findings *f,
			    const struct pg_profile *p, const char *bench,
			    struct pg_jw *w);

/* One finding as a line of text (without newline), appended to out. */
void pg_finding_format(const struct pg_finding *f, const struct pg_profile *p,
		       struct pg_buf *out);

/*
 * A history: series of one benchmark's total or one function's self time
 * over commits, oldest first, each with its change points. Fill it with
 * pg_history_add per commit (in order), then pg_history_finish.
 */
struct pg_history_point {
	char commit[41];
	double value_ns, low_ns, high_ns; /* median and its 95% interval */
};

struct pg_history_series {
	char *bench;	/* owned */
	char *function; /* owned; NULL for the benchmark's total */
	struct pg_history_point *points;
	size_t npoints, points_cap;
	struct pg_change_point *cps; /* index into points */
	size_t ncps;
};

/* Where the measuring environment changed between two baselines. */
struct pg_history_env {
	char commit[41];  /* the first baseline measured differently */
	const char *what; /* what differs ("clock", "cpu", ...), static */
};

struct pg_history {
	struct pg_history_series *series;
	size_t nseries, series_cap;
	struct pg_history_env *env; /* in the order noted */
	size_t nenv, env_cap;
};

void pg_history_init(struct pg_history *h);
void pg_history_release(struct pg_history *h);

/*
 * Add the points commit `commit` (40 hex) contributes: for every
 * benchmark of r named `bench` (all when NULL) whose status is ok, the
 * total (func_id NULL) or the self time of func_id when its profile has
 * that function; a series is created on first sight, in that order. A
 * benchmark or function missing at this commit leaves no point.
 */
void pg_history_add(struct pg_history *h, const char *commit,
		    const struct pg_results *r, const char *bench,
		    const char *func_id);

/*
 * Add one point to the series (bench, func_id), creating it; for callers
 * that read baselines their own way (values: per-trial ns).
 */
void pg_history_add_values(struct pg_history *h, const char *commit,
			   const char *bench, const char *func_id,
			   const double *values, size_t n);

/* Note that the environment changed at commit (40 hex); what is a
 * string that outlives h (a constant). */
void pg_history_note_env(struct pg_history *h, const char *commit,
			 const char *what);

/* Change points of every series (of its medians). Errors as
 * pg_analysis_change_points. */
int pg_history_finish(struct pg_history *h, const struct pg_cp_options *o);

/*
 * The history as SPEC §2's JSON: {"schema": 1, "series": [{"bench",
 * "function", "points": [{"commit", "value_ns", "low_ns", "high_ns"}],
 * "change_points": [{"commit", "change_pct", "p"}]}],
 * "environment_changes": [{"commit", "what"}]} at the writer's position.
 */
void pg_history_write_json(const struct pg_history *h, struct pg_jw *w);

/* ---- causes of regressions (cause.c) ------------------------------- */

/* The causes of one check's regressions (one slot per verdict). */
struct pg_causes {
	struct pg_cause *c; /* n entries; those of non-regressions unused */
	size_t n;
};

/*
 * Explain every REGRESSED verdict of v (after pg_stats_finish) from the
 * check's two results sets: sets v->v[k].cause to a cause in *out for
 * each regression of a benchmark that ran on both sides (method in
 * docs/statistics.md, "Causes"). Causes borrow ids and paths from base
 * and head, which must outlive them; release with pg_causes_release
 * (after which the verdicts' cause pointers dangle: clear or drop them).
 * Never fails (allocation failure aborts, as pg_malloc does).
 */
void pg_analysis_causes(const struct pg_results *base,
			const struct pg_results *head, struct pg_verdicts *v,
			struct pg_causes *out);
void pg_causes_release(struct pg_causes *c);

/* ---- runner noise from A/A runs (noise.c) ------------------------- */

/* One judged verdict of an A/A run (head against itself). */
struct pg_noise_row {
	const char *bench; /* borrowed from the verdicts */
	const char *func;  /* NULL: the benchmark's total or wall time */
	enum pg_metric metric;
	double median_ns;     /* median per-trial value over both sides */
	double spread_log;    /* robust sd of ln(per-trial value), pooled */
	double spread_pct;    /* the same as a percentage: exp(sd) - 1 */
	double halfwidth_log; /* half the A/A verdict's 95% interval, ln */
	double aa_change_pct; /* the A/A verdict's estimate (ideally 0) */
	enum pg_verdict_kind aa_kind;
	double threshold_pct, resolution_pct; /* of the verdict */
	size_t n; /* trials per side of the A/A run */
	/* compared round by round (a total or wall time of sides measured
	 * in the same rounds: pg_bench_result.session) */
	bool paired;
};

struct pg_noise {
	struct pg_noise_row *rows;
	size_t n, cap;
	size_t functions;    /* function rows: the family of function times */
	size_t totals;	     /* total and wall rows: their family */
	size_t false_alarms; /* A/A verdicts that regressed (should be 0) */
};

/*
 * The rows of every judged time verdict of aa (pg_stats_judge and
 * pg_stats_finish over sides a and b of one A/A run, which must outlive
 * the rows). Never fails.
 */
void pg_analysis_noise(const struct pg_results *a, const struct pg_results *b,
		       const struct pg_verdicts *aa, struct pg_noise *out);
void pg_noise_release(struct pg_noise *n);

/*
 * The smallest slowdown (percent) a check with n trials per side detects
 * with 80% power in row r's function (or total), when `family` verdicts
 * share the false-discovery rate fdr (so a lone change must reach
 * p <= fdr / 2 / family): the A/A verdict's precision scaled by
 * sqrt(r->n / n) (or, without an interval, the raw spread with the rank
 * test's efficiency), normal approximation. INFINITY when n trials
 * cannot reach that level at all (pg_stats_smallest_p above it) or
 * nothing is known. Not the check's threshold or resolution: callers
 * compare.
 */
double pg_analysis_detectable_pct(const struct pg_noise_row *r, int n,
				  size_t family, double fdr);

/* What calibrate recommends. */
struct pg_noise_advice {
	int trials, max_trials;
	double function_pct, total_pct; /* thresholds (raised if needed) */
	bool reached; /* the thresholds given are detectable at trials */
};

/*
 * The smallest trials (3..50) at which every total is detectable within
 * total_pct and 90% of the judged functions (<gc> left out) within their
 * threshold (or
 * resolution), max_trials twice that; when 50 is not enough, 50 with the
 * thresholds raised to what 50 trials detect (the 90th percentile of the
 * functions, the worst total), rounded up to whole percent.
 */
void pg_analysis_recommend(const struct pg_noise *nz, double fdr,
			   double function_pct, double total_pct,
			   struct pg_noise_advice *out);

#endif
