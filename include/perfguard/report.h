/*
 * report.h - everything a check says: terminal table, JUnit XML,
 * Markdown summary, JSON and GitHub workflow annotations.
 *
 * Each writer takes the same struct pg_check_report and appends to a
 * buffer; the cli decides where it goes. JUnit is written with libxml2's
 * xmlTextWriter and every captured byte is sanitised to valid XML.
 */
#ifndef PERFGUARD_REPORT_H
#define PERFGUARD_REPORT_H

#include "perfguard/results.h"
#include "perfguard/verdict.h"

/* Markdown output is capped below 1 MiB (GitHub's step summary limit). */
#define PG_SUMMARY_MAX_BYTES (1000 * 1000)

struct pg_check_report {
	const struct pg_results *base;
	const struct pg_results *head;
	const struct pg_verdicts *verdicts;
	const char *base_label; /* e.g. "main @ 1a2b3c4" */
	const char *head_label; /* e.g. "HEAD @ 5d6e7f8 (dirty)" */
	const char *mode;	/* "rerun" | "stored" | "files" */
	bool fingerprint_mismatch;
	const char *mismatch_what; /* which field differs, or NULL */
	size_t regressions;
	bool failed; /* some benchmark failed to run (exit 3) */
	/* Benchmarks with too few trials whose time verdicts stayed unclear:
	 * the comparison cannot decide (exit 2 unless regressed/failed). */
	size_t inconclusive;
	/* Their names (inconclusive of them), or NULL: JUnit gives each an
	 * <error type="inconclusive"> so no reader takes the check for green. */
	const struct pg_strvec *inconclusive_benches;
	/*
	 * Optional: called by pg_report_json just before it closes the top
	 * level object, to add members the report module does not know of
	 * (the cli adds a shard's "shard" and "results" this way).
	 */
	void (*json_extra)(struct pg_jw *w, const void *ctx);
	const void *json_extra_ctx;
};

enum pg_junit_flavor { PG_JUNIT_STRICT, PG_JUNIT_ANNOTATED };

int pg_report_terminal(const struct pg_check_report *r, bool color,
		       struct pg_buf *out);
int pg_report_junit(const struct pg_check_report *r,
		    enum pg_junit_flavor flavor, struct pg_buf *out);
int pg_report_markdown(const struct pg_check_report *r, struct pg_buf *out);
int pg_report_json(const struct pg_check_report *r, struct pg_buf *out);
/* GitHub workflow commands: ::error for regressions, ::warning otherwise. */
int pg_report_annotations(const struct pg_check_report *r, struct pg_buf *out);

/* Replace bytes that are not valid XML 1.0 characters/UTF-8 by U+FFFD. */
char *pg_report_xml_sanitise(const char *s, size_t len);

/* ---- pages (html_*.c, svg_flame.c) -------------------------------- */

/*
 * A self-contained HTML page of one profile (no network, no other files):
 * an interactive flame graph of the calling-context tree (zoom, search
 * with the matches' share, hover details, flame/icicle), the function
 * table (sortable; medians and MAD with several trials) and the callers
 * and callees of the selected function. `title` (escaped) names it.
 * Appends to out; PG_ELIMIT if out has a cap and hits it.
 */
int pg_report_profile_html(const struct pg_profile *p, const char *title,
			   struct pg_buf *out);

/*
 * A standalone SVG flame graph in the flamegraph.pl tradition (click to
 * zoom, search, reset; frames narrower than 0.1 px left out), valid XML
 * that also works as an <img>. Appends to out.
 */
int pg_report_profile_svg(const struct pg_profile *p, const char *title,
			  struct pg_buf *out);

/*
 * The check's verdicts as a self-contained HTML page: the verdict table
 * (regressions first), and per benchmark a differential flame graph
 * (head's tree, base-only frames added; red slower, blue faster, strong
 * only for functions the verdicts judged changed; frames on one side
 * only marked) and the per-trial values of every judged verdict on both
 * sides. Appends to out.
 */
int pg_report_check_html(const struct pg_check_report *r, struct pg_buf *out);

/* ---- the history page (html_history.c) ---------------------------- */

/* One commit of first-parent history with its stored baseline. */
struct pg_report_commit {
	const char *commit;  /* 40 hex */
	const char *subject; /* first line of the message, or NULL */
	int64_t time;	     /* commit time, seconds since epoch */
	const struct pg_results *results; /* its baseline (borrowed) */
};

/*
 * One line of a history chart: a benchmark's profiled total (function
 * NULL) or one function's self time, per commit the median over the
 * baseline's trials and its distribution-free 95% interval, in ns (NAN
 * where the commit did not measure it). change_points (indexes of the
 * first commit after a step, with the step in percent) are the caller's
 * to add, e.g. from the analysis module; the page marks them.
 */
struct pg_report_series {
	char *bench, *function;		      /* owned */
	double *median_ns, *low_ns, *high_ns; /* ncommits each, owned */
	size_t *change_points;		      /* owned */
	double *change_pct;		      /* owned */
	size_t nchange_points;
};

struct pg_report_history {
	const struct pg_report_commit *commits; /* oldest first, borrowed */
	size_t ncommits;
	struct pg_report_series *series; /* per benchmark: total, then top */
	size_t nseries, series_cap;
};

/*
 * Build the series of commits[0..n) (oldest first; commits must outlive
 * h): for every benchmark, newest first, its total and its `top`
 * functions by median self time at the newest commit that measured it.
 */
void pg_report_history_build(struct pg_report_history *h,
			     const struct pg_report_commit *commits, size_t n,
			     size_t top);
void pg_report_history_release(struct pg_report_history *h);
/* Mark a change point of s before commit `index` (step in percent). */
void pg_report_series_add_change_point(struct pg_report_series *s, size_t index,
				       double change_pct);
/*
 * The history as one self-contained page: per benchmark a chart of its
 * total and one of its top functions, points with their intervals,
 * commits labelled by short hash and subject, change points marked.
 */
int pg_report_history_html(const struct pg_report_history *h, const char *title,
			   struct pg_buf *out);

#endif
