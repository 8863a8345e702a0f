/*
 * judge.c - from two results sets to verdicts and reports, shared by
 * `check` and `compare` so both say exactly the same thing.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "perfguard/analysis.h"
#include "perfguard/report.h"
#include "perfguard/verdict.h"

static const struct cli_opt report_options[] = {
    {CLI_OPT_JUNIT, "junit", 0, "FILE", "JUnit XML report"},
    {CLI_OPT_JUNIT_FLAVOR, "junit-flavor", 0, "F",
     "strict | annotated (default strict)"},
    {CLI_OPT_SUMMARY, "summary", 0, "FILE",
     "Markdown summary (e.g. $GITHUB_STEP_SUMMARY)"},
    {CLI_OPT_JSON, "json", 0, "FILE", "JSON report"},
    {CLI_OPT_HTML, "html", 0, "FILE",
     "page with the verdicts, differential flame\ngraphs and per-trial values"},
    {CLI_OPT_ANNOTATIONS, "annotations", 0, NULL,
     "GitHub annotations on stdout (default when\nGITHUB_ACTIONS=true)"},
    {CLI_OPT_NO_ANNOTATIONS, "no-annotations", 0, NULL,
     "never print annotations"},
    {0},
};

const struct cli_opt_table cli_report_table = {
    "Report options:",
    report_options,
};

int cli_report_option(int id, const char *arg, struct cli_report_opts *o)
{
	switch (id) {
	case CLI_OPT_JUNIT:
		o->junit = arg;
		return 1;
	case CLI_OPT_JUNIT_FLAVOR:
		if (!strcmp(arg, "strict"))
			o->junit_flavor = PG_JUNIT_STRICT;
		else if (!strcmp(arg, "annotated"))
			o->junit_flavor = PG_JUNIT_ANNOTATED;
		else
			return pg_error_set(PG_EUSAGE,
					    "--junit-flavor takes strict or "
					    "annotated, not '%s'",
					    arg);
		return 1;
	case CLI_OPT_SUMMARY:
		o->summary = arg;
		return 1;
	case CLI_OPT_JSON:
		o->json = arg;
		return 1;
	case CLI_OPT_ANNOTATIONS:
		o->annotations = 1;
		return 1;
	case CLI_OPT_NO_ANNOTATIONS:
		o->annotations = 0;
		return 1;
	case CLI_OPT_HTML:
		o->html = arg;
		return 1;
	default:
		return 0;
	}
}

/* Judge one benchmark if it ran on both sides; false if it cannot be. */
static bool judge_bench(const struct pg_bench *b, const struct pg_results *base,
			const struct pg_results *head, struct pg_verdicts *v)
{
	const struct pg_bench_result *rb = pg_results_find(base, b->name);
	const struct pg_bench_result *rh = pg_results_find(head, b->name);
	if (!rb || !rh || rb->status != PG_BENCH_OK ||
	    rh->status != PG_BENCH_OK || !rb->profile.ntrials ||
	    !rh->profile.ntrials)
		return false;
	pg_stats_judge(b, rb, rh, v);
	return true;
}

/* Judge the selection's benchmarks that ran on both sides into v, as a
 * part of `whole` (NULL: the whole check) whose other parts' verdicts all
 * have p-value pad_p (pg_stats_finish_part). */
static void
judge_part(const struct pg_suite *suite, const struct cli_selection *sel,
	   const struct cli_whole *whole, const struct pg_results *base,
	   const struct pg_results *head, double pad_p, struct pg_verdicts *v)
{
	for (size_t i = 0; i < sel->n; i++)
		judge_bench(sel->benches[i], base, head, v);
	size_t totals = cli_total_verdicts(sel);
	double scale = whole && sel->n && whole->benches > sel->n
			   ? (double)whole->benches / (double)sel->n
			   : 1.0;
	size_t extra =
	    whole && whole->totals > totals ? whole->totals - totals : 0;
	pg_stats_finish_part(v, suite->thresholds.fdr, scale, extra, pad_p);
}

/* Do the two views of a shard disagree on some verdict of bench `name`
 * (same verdicts, same order: the same judging of the same data)? */
static bool views_differ(const struct pg_verdicts *a,
			 const struct pg_verdicts *b, const char *name)
{
	for (size_t k = 0; k < a->n && k < b->n; k++)
		if (a->v[k].bench && !strcmp(a->v[k].bench, name) &&
		    a->v[k].kind != b->v[k].kind)
			return true;
	return false;
}

size_t cli_unclear_benches(const struct pg_suite *suite,
			   const struct cli_selection *sel,
			   const struct cli_whole *whole,
			   const struct pg_results *base,
			   const struct pg_results *head, bool *unclear,
			   bool *unsettled)
{
	/* A shard cannot see the other shards' p-values: the worst case for
	 * its verdicts (the others show nothing) decides as before; where
	 * the best case (the others are all significant) disagrees with it,
	 * the merge may find unclear what the shard left. */
	struct pg_verdicts worst = {0}, best = {0};
	judge_part(suite, sel, whole, base, head, 1.0, &worst);
	if (whole)
		judge_part(suite, sel, whole, base, head, 0.0, &best);
	size_t n = 0;
	for (size_t i = 0; i < sel->n; i++) {
		const char *name = sel->benches[i]->name;
		unclear[i] = pg_stats_bench_needs_rounds(&worst, name,
							 suite->thresholds.fdr);
		unsettled[i] = whole && (pg_stats_bench_unclear(&best, name) ||
					 views_differ(&worst, &best, name));
		n += unclear[i] || unsettled[i];
	}
	pg_verdicts_release(&worst);
	pg_verdicts_release(&best);
	return n;
}

size_t cli_total_verdicts(const struct cli_selection *sel)
{
	size_t n = 0;
	for (size_t i = 0; i < sel->n; i++)
		n += 1 + sel->benches[i]->wall;
	return n;
}

int cli_min_trials(const struct pg_suite *suite, size_t ntotals, bool paired)
{
	return pg_stats_min_trials(suite->thresholds.fdr, ntotals, paired);
}

/*
 * Reports replace their file atomically, except GitHub's step summary,
 * which other commands of the same step may have written to: append.
 */
static int write_report(const char *what, const char *path,
			const struct pg_buf *b)
{
	const char *step_summary = getenv("GITHUB_STEP_SUMMARY");
	int rc;
	if (step_summary && !strcmp(path, step_summary))
		rc = pg_file_append(path, b->data, b->len);
	else
		rc = cli_write_output(path, b->data, b->len);
	if (rc)
		pg_error_wrap("cannot write the %s report", what);
	return rc;
}

/* The base and head results of the comparison's i-th selected benchmark
 * (r[0], r[1]; NULL where a side lacks it). */
static void bench_sides(const struct cli_comparison *cmp, size_t i,
			const struct pg_bench_result *r[2])
{
	const char *name = cmp->sel->benches[i]->name;
	r[0] = pg_results_find(cmp->base, name);
	r[1] = pg_results_find(cmp->head, name);
}

/* Did every trial of r time nothing but garbage collections? A scope that
 * matches none of the benchmark's functions, or an empty
 * perfguard.measure() block, gives such a profile ("<gc>" is timed whatever
 * the scope), and its totals compared collections with collections: a pass
 * whatever the code did. */
static bool measured_nothing(const struct pg_bench_result *r)
{
	const struct pg_profile *p = &r->profile;
	uint32_t gc = pg_profile_find(p, "<gc>");
	for (size_t t = 0; t < p->ntrials; t++) {
		int64_t gc_ns =
		    gc == PG_NO_FUNC ? 0 : p->trials[t].samples[gc].self_ns;
		if (p->trials[t].total_ns != gc_ns)
			return false;
	}
	return true;
}

/* The exit code when a side of the i-th benchmark holds nothing to judge
 * (saying why on stderr), else 0. */
static int empty_side(const struct cli_comparison *cmp, size_t i)
{
	const char *name = cmp->sel->benches[i]->name;
	const char *label[2] = {cmp->base_label, cmp->head_label};
	const struct pg_bench_result *r[2];
	bench_sides(cmp, i, r);
	for (int k = 0; k < 2; k++) {
		if (!r[k] || r[k]->status != PG_BENCH_OK)
			continue;
		const char *side = label[k] ? label[k] : "?";
		if (!r[k]->profile.ntrials) {
			fprintf(stderr,
				"perfguard: benchmark %s has no trials in %s: "
				"nothing to judge, not a pass\n",
				name, side);
			return cmp->named ? PG_EXIT_USAGE : PG_EXIT_FAULT;
		}
		if (measured_nothing(r[k])) {
			bool windows =
			    cmp->mode && !strcmp(cmp->mode, "production");
			fprintf(stderr,
				"perfguard: benchmark %s measured no time in "
				"%s: %s; nothing to judge, not a pass\n",
				name, side,
				windows ? "its windows hold no sample"
					: "none of its functions is in its "
					  "scope, or its perfguard.measure() "
					  "blocks are empty");
			return PG_EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * Missing data is never a pass: a benchmark that is present but has no
 * trials, or trials that measured nothing, or a comparison in which no
 * benchmark has trials on both sides, is an error (exit 2 for sides the
 * user named or a suite that measures nothing, 3 otherwise). Returns 0
 * when there is something to judge.
 */
static int no_data(const struct cli_comparison *cmp)
{
	int code = cmp->named ? PG_EXIT_USAGE : PG_EXIT_FAULT;
	size_t comparable = 0;
	for (size_t i = 0; i < cmp->sel->n; i++) {
		const struct pg_bench_result *r[2];
		int empty = empty_side(cmp, i);
		if (empty)
			return empty;
		bench_sides(cmp, i, r);
		comparable += r[0] && r[1];
	}
	/* Failed benchmarks are reported (exit 3) by the caller. */
	for (size_t i = 0; i < cmp->sel->n; i++) {
		const struct pg_bench_result *r[2];
		bench_sides(cmp, i, r);
		if ((r[0] && r[0]->status != PG_BENCH_OK) ||
		    (r[1] && r[1]->status != PG_BENCH_OK))
			return 0;
	}
	/* A shard may hold no benchmark at all: nothing selected is no claim;
	 * nor are benchmarks that are all new at head (a PR adding them). */
	size_t fresh = 0;
	for (size_t i = 0; cmp->is_new && i < cmp->sel->n; i++)
		fresh += cmp->is_new[i];
	if (comparable || cmp->sel->n == 0 || fresh == cmp->sel->n)
		return 0;
	struct pg_buf names[3];
	for (int k = 0; k < 3; k++)
		pg_buf_init(&names[k], 0);
	for (size_t i = 0; i < cmp->sel->n; i++)
		pg_buf_printf(&names[0], "%s%s", i ? ", " : "",
			      cmp->sel->benches[i]->name);
	const struct pg_results *side[2] = {cmp->base, cmp->head};
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < side[k]->nbenches; i++)
			pg_buf_printf(&names[k + 1], "%s%s", i ? ", " : "",
				      side[k]->benches[i].name);
	fprintf(stderr,
		"perfguard: no benchmark has trials on both sides: nothing to "
		"judge, not a pass\n  selected (%s): %s\n  base has: %s\n"
		"  head has: %s\n",
		cmp->suite->path ? cmp->suite->path : "the suite",
		names[0].data, names[1].len ? names[1].data : "nothing",
		names[2].len ? names[2].data : "nothing");
	for (int k = 0; k < 3; k++)
		pg_buf_release(&names[k]);
	return code;
}

/*
 * A benchmark with fewer trials per side than can reach significance at
 * the fdr cannot be decided by its times: say so, always; count it as
 * inconclusive when some verdict of it stayed unclear (call counts are
 * still judged). `compare` cannot add rounds as `check` does.
 */
static size_t too_few_trials(const struct cli_common *c,
			     const struct cli_comparison *cmp,
			     const struct pg_verdicts *v,
			     struct pg_strvec *names)
{
	int need =
	    cli_min_trials(cmp->suite, cli_total_verdicts(cmp->sel), false);
	/* production windows: the odds test can decide with fewer; the
	 * least is kept for the dispersion's sake (docs/statistics.md) */
	bool windows = cmp->mode && !strcmp(cmp->mode, "production");
	size_t n = 0;
	for (size_t i = 0; i < cmp->sel->n; i++) {
		const char *name = cmp->sel->benches[i]->name;
		const struct pg_bench_result *r[2];
		bench_sides(cmp, i, r);
		if (!r[0] || !r[1])
			continue;
		size_t nb = r[0]->profile.ntrials, nh = r[1]->profile.ntrials;
		if (!nb || !nh || (nb < nh ? nb : nh) >= (size_t)need)
			continue;
		bool unclear = pg_stats_bench_unclear_slower(v, name);
		n += unclear;
		if (unclear)
			pg_strvec_push(names, name);
		if (windows && (unclear || c->verbosity >= 0))
			fprintf(stderr,
				"perfguard: %s has %zu windows on base and %zu "
				"on head, fewer than the %d per side a deploy "
				"comparison asks for (their spread sets the "
				"variance): %s\n",
				name, nb, nh, need,
				unclear ? "its unclear verdicts are undecided "
					  "(inconclusive); record more windows"
					: "its verdicts rest on the spread of "
					  "few windows; record more to confirm "
					  "them");
		else if (unclear || c->verbosity >= 0)
			fprintf(stderr,
				"perfguard: benchmark %s has %zu trials on "
				"base and %zu on head, fewer than the %d per "
				"side with which a slowdown can be significant "
				"at fdr %g: %s\n",
				name, nb, nh, need, cmp->suite->thresholds.fdr,
				!unclear ? "a slowdown of its times could not "
					   "have been detected"
				: cmp->merged
				    ? "its time verdicts are undecided "
				      "(inconclusive): its shard stopped "
				      "adding rounds before the whole check "
				      "could decide it; run the shards again "
				      "with more trials (e.g. `--trials N` "
				      "with N at least that many)"
				    : "its time verdicts are undecided "
				      "(inconclusive); measure more trials");
	}
	return n;
}

/* A shard's check report carries both sides for `perfguard merge`. */
static void shard_members(struct pg_jw *w, const void *ctx)
{
	const struct cli_comparison *cmp = ctx;
	const struct pg_shard *s = &cmp->head->shard;
	pg_jw_key(w, "shard");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "index");
	pg_jw_int(w, s->index);
	pg_jw_key(w, "count");
	pg_jw_int(w, s->count);
	pg_jw_obj_end(w);
	pg_jw_key(w, "results");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "base");
	pg_results_write_jw(cmp->base, w);
	pg_jw_key(w, "head");
	pg_results_write_jw(cmp->head, w);
	pg_jw_obj_end(w);
}

static bool interrupted(int rc)
{
	return rc == PG_EINTR;
}

/* Say why a report could not be made; keep the first error in *first. */
static void report_failed(int rc, int *first)
{
	if (!rc)
		return;
	fprintf(stderr, "perfguard: %s\n", pg_error_message());
	pg_error_clear();
	if (!*first || *first == rc || rc == PG_EINTR)
		*first = rc;
}

/*
 * Every selected benchmark judged that ran on both sides; a note for each
 * missing on a side. True when some benchmark failed to run on a side.
 */
static bool judge_all(const struct cli_common *c,
		      const struct cli_comparison *cmp, struct pg_verdicts *v)
{
	bool failed = false;
	for (size_t i = 0; i < cmp->sel->n; i++) {
		const struct pg_bench *b = cmp->sel->benches[i];
		const struct pg_bench_result *r[2];
		bench_sides(cmp, i, r);
		if (pg_results_failed_on_base_only(r[0], r[1]))
			fprintf(stderr,
				"perfguard: warning: benchmark %s failed on "
				"base (%s) before any trial and ran cleanly on "
				"head (%zu trials): not compared, nothing "
				"judged (does this change fix it?)\n",
				b->name, r[0]->error ? r[0]->error : "failed",
				r[1]->profile.ntrials);
		else if ((r[0] && r[0]->status != PG_BENCH_OK) ||
			 (r[1] && r[1]->status != PG_BENCH_OK))
			failed = true;
		if (!r[1])
			cli_note(c, "benchmark %s has no results on head",
				 b->name);
		else if (!r[0] && cmp->is_new && cmp->is_new[i])
			cli_note(c,
				 "benchmark %s is new: its script %s does not "
				 "exist at the base commit; head measured (%zu "
				 "trials), nothing to compare",
				 b->name, b->script, r[1]->profile.ntrials);
		else if (!r[0])
			cli_note(c,
				 "benchmark %s has no results on base (a new "
				 "benchmark?): not compared",
				 b->name);
		judge_bench(b, cmp->base, cmp->head, v);
	}
	return failed;
}

/* One report file: render's result, then the file written (kind names it
 * in errors); its failure kept in *wrc. */
static void file_report(const char *kind, const char *path, int render_rc,
			const struct pg_buf *out, int *wrc)
{
	int rc = render_rc ? render_rc : write_report(kind, path, out);
	report_failed(rc, wrc);
}

/* On GitHub (GITHUB_ACTIONS=true) the step summary is written even
 * without --summary. */
static const char *summary_path(const struct cli_report_opts *o, bool on_github)
{
	const char *step_summary = getenv("GITHUB_STEP_SUMMARY");
	if (!o->summary && on_github && step_summary && *step_summary)
		return step_summary;
	return o->summary;
}

/*
 * The terminal report, every report file asked for, then annotations.
 * Every report is written even when another cannot be; stops at an
 * interrupt. The first failure's code, or 0.
 */
static int write_reports(const struct cli_common *c,
			 const struct cli_report_opts *o,
			 const struct pg_check_report *report)
{
	const char *gha = getenv("GITHUB_ACTIONS");
	bool on_github = gha && !strcmp(gha, "true");
	const char *summary = summary_path(o, on_github);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	int wrc = 0;
	if (c->verbosity >= 0 || report->regressions) {
		int rc =
		    pg_report_terminal(report, cli_use_color(c, stdout), &out);
		fputs(out.data, stdout);
		report_failed(rc, &wrc);
	}
	if (!interrupted(wrc) && o->junit) {
		pg_buf_reset(&out);
		file_report("JUnit", o->junit,
			    pg_report_junit(report, o->junit_flavor, &out),
			    &out, &wrc);
	}
	if (!interrupted(wrc) && summary) {
		pg_buf_reset(&out);
		file_report("Markdown", summary,
			    pg_report_markdown(report, &out), &out, &wrc);
	}
	if (!interrupted(wrc) && o->json) {
		pg_buf_reset(&out);
		file_report("JSON", o->json, pg_report_json(report, &out), &out,
			    &wrc);
	}
	if (!interrupted(wrc) && o->html) {
		pg_buf_reset(&out);
		file_report("HTML", o->html, pg_report_check_html(report, &out),
			    &out, &wrc);
	}
	if (!interrupted(wrc) &&
	    (o->annotations == 1 || (o->annotations < 0 && on_github))) {
		pg_buf_reset(&out);
		int rc = pg_report_annotations(report, &out);
		fputs(out.data, stdout);
		report_failed(rc, &wrc);
	}
	fflush(stdout);
	pg_buf_release(&out);
	return wrc;
}

/* The exit code: a report not written or a benchmark that failed, else
 * the verdicts (a shard's cover its part only). */
static int exit_code(const struct cli_common *c,
		     const struct cli_comparison *cmp, int rc,
		     const struct pg_check_report *report)
{
	if (rc)
		return interrupted(rc) ? cli_exit_code(rc) : PG_EXIT_FAULT;
	if (report->failed)
		return PG_EXIT_FAULT;
	/* A shard's verdict covers its part only: `perfguard merge` of every
	 * shard's report judges the whole and carries the exit code. */
	if (cmp->shard && (report->regressions || report->inconclusive))
		cli_note(c,
			 "shard %d/%d: the verdict above covers this shard "
			 "only; the merge of every shard's report decides "
			 "(a shard exits 0 unless something failed to run)",
			 cmp->head->shard.index, cmp->head->shard.count);
	if (cmp->shard)
		return PG_EXIT_OK;
	if (report->regressions)
		return PG_EXIT_REGRESSION;
	return report->inconclusive ? PG_EXIT_USAGE : PG_EXIT_OK;
}

/*
 * Times on different clocks measure different things (a wall-clock base
 * against a CPU-clock head read as a 90% improvement, the other way round
 * as a regression): exit 2 naming both, else 0. A side that does not say
 * its clock is taken as it is.
 */
static int clocks_differ(const struct cli_comparison *cmp)
{
	const char *a = cmp->base->clock, *b = cmp->head->clock;
	if (!a || !b || !strcmp(a, b))
		return 0;
	const char *mode = cmp->mode ? cmp->mode : "";
	fprintf(stderr,
		"perfguard: %s was timed with the %s clock and %s with the %s "
		"clock: their times are not comparable, nothing judged; %s\n",
		cmp->base_label ? cmp->base_label : "base", a,
		cmp->head_label ? cmp->head_label : "head", b,
		!strcmp(mode, "production")
		    ? "record both with the same `record --mode`"
		: !strcmp(mode, "stored")
		    ? "measure both with the same `clock:` (or use "
		      "--baseline rerun)"
		    : "measure both with the same `clock:`");
	return PG_EXIT_USAGE;
}

int cli_judge_and_report(const struct cli_common *c,
			 const struct cli_report_opts *o,
			 const struct cli_comparison *cmp)
{
	int empty = clocks_differ(cmp);
	if (!empty)
		empty = no_data(cmp);
	if (empty)
		return empty;
	struct pg_verdicts v = {0};
	bool failed = judge_all(c, cmp, &v);
	size_t regressions = pg_stats_finish(&v, cmp->suite->thresholds.fdr);
	struct pg_strvec undecided = {0};
	size_t inconclusive = too_few_trials(c, cmp, &v, &undecided);
	struct pg_causes causes; /* why each regression happened */
	pg_analysis_causes(cmp->base, cmp->head, &v, &causes);
	const char *what = NULL;
	bool mismatch =
	    !pg_fingerprint_equal(&cmp->base->fp, &cmp->head->fp, &what);
	struct pg_check_report report = {
	    .base = cmp->base,
	    .head = cmp->head,
	    .verdicts = &v,
	    .base_label = cmp->base_label,
	    .head_label = cmp->head_label,
	    .mode = cmp->mode,
	    .fingerprint_mismatch = mismatch,
	    .mismatch_what = what,
	    .regressions = regressions,
	    .failed = failed,
	    .inconclusive = inconclusive,
	    .inconclusive_benches = &undecided,
	    .json_extra = cmp->shard ? shard_members : NULL,
	    .json_extra_ctx = cmp,
	};
	int rc = write_reports(c, o, &report);
	pg_strvec_release(&undecided);
	pg_verdicts_release(&v);
	pg_causes_release(&causes);
	return exit_code(c, cmp, rc, &report);
}
