/*
 * internal.h - what the report writers share: a grouped view of a check
 * report and small formatting helpers.
 *
 * struct pg_report_view indexes the flat verdict array by benchmark once,
 * so each writer walks benchmarks in a stable order (head's, then
 * base-only ones, then any named only by verdicts) without quadratic
 * scans. The view borrows everything from the report; it owns only its
 * index arrays. Nothing here writes a format of its own.
 */
#ifndef PG_REPORT_INTERNAL_H
#define PG_REPORT_INTERNAL_H

#include "perfguard/report.h"

/* Captured output kept in any report (the tail, which says what failed). */
#define PG_REPORT_OUTPUT_MAX_BYTES (64 * 1024)

/* One benchmark of the check, as the writers see it. */
struct pg_report_bench {
	const char *name;
	const struct pg_bench_result *base; /* NULL when not in base */
	const struct pg_bench_result *head; /* NULL when not in head */
	const struct pg_verdict **verdicts; /* this benchmark's, in order */
	size_t nverdicts, verdicts_cap;
	const struct pg_verdict *total; /* PG_METRIC_TOTAL verdict or NULL */
	const struct pg_verdict *wall;	/* PG_METRIC_WALL verdict or NULL */
	size_t judged, regressed, improved, unclear;
};

/* A verdict together with the index of its benchmark in the view. */
struct pg_report_item {
	const struct pg_verdict *v;
	size_t bench;
	size_t order; /* position in the report's verdicts, for stable sorts */
};

struct pg_report_view {
	const struct pg_check_report *r;
	struct pg_report_bench *benches;
	size_t nbenches, benches_cap;
	/* Regressions: by benchmark, then worst (largest change) first. */
	struct pg_report_item *regressions;
	size_t nregressions, regressions_cap;
	/* Improvements: by benchmark, then best (most negative) first. */
	struct pg_report_item *improvements;
	size_t nimprovements, improvements_cap;
	size_t judged;	       /* judged verdicts over the whole check */
	size_t failed_benches; /* benchmarks that failed (a fault: exit 3) */
	size_t not_compared;   /* failed on base only: head-only, said so */
};

/* Build the view of r (which must outlive it). Never fails. */
void pg_report_view_build(struct pg_report_view *view,
			  const struct pg_check_report *r);
void pg_report_view_release(struct pg_report_view *view);

/* True when the benchmark did not run cleanly on a side (a fault: not
 * one that failed on base only, which is not compared). */
bool pg_report_bench_failed(const struct pg_report_bench *b);

/* True when base failed before measuring and head ran cleanly
 * (pg_results_failed_on_base_only): shown as not compared. */
bool pg_report_bench_not_compared(const struct pg_report_bench *b);

/* The failing side's result (head first), or NULL when both ran or the
 * benchmark is not compared. */
const struct pg_bench_result *
pg_report_bench_failure(const struct pg_report_bench *b, const char **side);

/*
 * Why a regression happened (cause.c): the verdict's cause as a JSON
 * object (null without one; docs/check-format.md), and as one line of
 * text appended to out (nothing without one), which says first when the
 * verdict is the check's only changed function.
 */
void pg_report_cause_json(struct pg_jw *w, const struct pg_cause *c);
void pg_report_cause_text(const struct pg_verdict *v, struct pg_buf *out);

/* Stable short names used in JSON and compact tables. */
const char *pg_report_metric_token(enum pg_metric m);
const char *pg_report_kind_token(enum pg_verdict_kind k);
const char *pg_report_status_token(enum pg_bench_status s);

/* A duration in ns with 3 significant digits: "3.12 ms"; "-" for NaN. */
const char *pg_report_fmt_ns(double ns, char *out, size_t n);
/*
 * "3.1 ms → 3.5 ms", or for a call-count verdict "400 → 800 calls"
 * (stats stores times in base/head_value for every metric).
 */
const char *pg_report_fmt_values(const struct pg_verdict *v, char *out,
				 size_t n);
/*
 * The change a reader ranks by: the time estimate, or for a call-count
 * verdict the growth in calls (NAN when base had none).
 */
double pg_report_change(const struct pg_verdict *v);
/* "+12.4%" (sign always shown; "n/a" for NaN). */
const char *pg_report_fmt_pct(double pct, char *out, size_t n);
/* "[+9.8%, +15.1%]"; "exact" for calls; "" when not finite. */
const char *pg_report_fmt_ci(const struct pg_verdict *v, char *out, size_t n);
/* "0.0012" / "3e-05"; "-" when not finite (and for calls, exact). */
/*
 * The p- and q-value of the test that decided v: "faster" for an
 * improvement, "slower" otherwise (an improvement is never shown with the
 * q of the other direction, which is about 1).
 */
double pg_report_p(const struct pg_verdict *v);
double pg_report_q(const struct pg_verdict *v);
const char *pg_report_fmt_q(const struct pg_verdict *v, double q, char *out,
			    size_t n);

/*
 * The last at most max_bytes bytes of a benchmark's captured output
 * (starting on a UTF-8 boundary when possible; NUL bytes are output like
 * any other, *len_out counts them); *dropped_out gets how many bytes
 * before it are not shown (cut here or not kept by the capture). Returns
 * a pointer into b->output ("" when b or its output is NULL).
 */
const char *pg_report_tail(const struct pg_bench_result *b, size_t max_bytes,
			   size_t *len_out, size_t *dropped_out);

/*
 * Coefficient of variation (stddev / mean) of a side's per-trial profiled
 * totals, as a fraction; NAN with fewer than two trials.
 */
double pg_report_total_cv(const struct pg_bench_result *b);

/*
 * Trials of a side (NULL: none) whose hook lost events or saw returns that
 * matched no call: how many such trials (returned), and the events lost
 * and unmatched returns summed over them (*lost, *unmatched).
 */
size_t pg_report_lossy_trials(const struct pg_bench_result *b, uint64_t *lost,
			      uint64_t *unmatched);

/* A trial whose hook found its calibrated costs more than it measured
 * between events: compensation scaled below PG_REPORT_COMP_SCALE_WARN,
 * or clamped beyond PG_REPORT_CLAMPED_WARN of the trial's total. */
#define PG_REPORT_COMP_SCALE_WARN 0.9
#define PG_REPORT_CLAMPED_WARN	  0.01
bool pg_report_overcompensated(const struct pg_trial *t);

/*
 * Append one line per side of b that lost events ("<prefix>base: lost
 * events in 2 of 8 trials ..."), one per side with overcompensated
 * trials (pg_report_overcompensated), and one per side whose production
 * windows were sampled far below the rate asked (pg_trial_undersampled);
 * nothing when no trial did any of these.
 */
void pg_report_lossy_lines(struct pg_buf *out, const char *prefix,
			   const struct pg_report_bench *b);

/*
 * The fields of one verdict in the check report's JSON (its object's
 * members, without the braces; docs/check-format.md), so that every
 * writer of verdicts as JSON (the report, the HTML page's data) names
 * them alike. scratch is overwritten (the statement is formatted in it).
 */
void pg_report_json_verdict_fields(struct pg_jw *w, const struct pg_verdict *v,
				   struct pg_buf *scratch);

/*
 * The member "output": the last PG_REPORT_OUTPUT_MAX_BYTES of b's
 * captured output (pg_report_tail), or null when it has none. Returns
 * how many bytes before the tail are not shown.
 */
size_t pg_report_json_output(struct pg_jw *w, const struct pg_bench_result *b);

#endif
