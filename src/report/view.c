/*
 * view.c - the grouped view every report writer walks, and the shared
 * formatting of values, percentages, intervals and captured output.
 *
 * Invariant: benchmarks appear once each, in head order, then base-only
 * ones, then names only verdicts mention; every verdict is indexed under
 * exactly one benchmark. Regressions and improvements are sorted with a
 * total order (the check's only changed function first when it regressed,
 * then benchmark, change, original position), so every writer
 * prints the same rows in the same order. This file formats no report.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool side_failed(const struct pg_bench_result *b)
{
	return b && b->status != PG_BENCH_OK;
}

bool pg_report_bench_not_compared(const struct pg_report_bench *b)
{
	return pg_results_failed_on_base_only(b->base, b->head);
}

bool pg_report_bench_failed(const struct pg_report_bench *b)
{
	return side_failed(b->head) ||
	       (side_failed(b->base) && !pg_report_bench_not_compared(b));
}

const struct pg_bench_result *
pg_report_bench_failure(const struct pg_report_bench *b, const char **side)
{
	if (side_failed(b->head)) {
		if (side)
			*side = "head";
		return b->head;
	}
	if (side_failed(b->base) && !pg_report_bench_not_compared(b)) {
		if (side)
			*side = "base";
		return b->base;
	}
	return NULL;
}

static size_t bench_slot(struct pg_report_view *view, struct pg_map *index,
			 const char *name)
{
	size_t i;
	if (pg_map_get(index, name, &i))
		return i;
	struct pg_report_bench b = {.name = name};
	PG_VEC_PUSH(view->benches, view->nbenches, view->benches_cap, b);
	pg_map_put(index, name, view->nbenches - 1);
	return view->nbenches - 1;
}

static int cmp_double(double a, double b)
{
	/* NaN sorts last in either direction: it says nothing. */
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

static int cmp_order(const struct pg_report_item *x,
		     const struct pg_report_item *y)
{
	return (x->order > y->order) - (x->order < y->order);
}

static bool lead(const struct pg_verdict *v)
{
	return v->cause && v->cause->lead;
}

static int cmp_regression(const void *a, const void *b)
{
	const struct pg_report_item *x = a, *y = b;
	/* The check's only changed function, when slower, is named first. */
	if (lead(x->v) != lead(y->v))
		return lead(x->v) ? -1 : 1;
	if (x->bench != y->bench)
		return x->bench < y->bench ? -1 : 1;
	int c;
	double cx = pg_report_change(x->v), cy = pg_report_change(y->v);
	if (isnan(cx) || isnan(cy))
		c = cmp_double(cx, cy);
	else
		c = -cmp_double(cx, cy);
	return c ? c : cmp_order(x, y);
}

static int cmp_improvement(const void *a, const void *b)
{
	const struct pg_report_item *x = a, *y = b;
	if (x->bench != y->bench)
		return x->bench < y->bench ? -1 : 1;
	int c = cmp_double(pg_report_change(x->v), pg_report_change(y->v));
	return c ? c : cmp_order(x, y);
}

void pg_report_view_build(struct pg_report_view *view,
			  const struct pg_check_report *r)
{
	memset(view, 0, sizeof(*view));
	view->r = r;
	struct pg_map index;
	pg_map_init(&index);

	if (r->head) {
		for (size_t i = 0; i < r->head->nbenches; i++) {
			const struct pg_bench_result *h = &r->head->benches[i];
			size_t s =
			    bench_slot(view, &index, h->name ? h->name : "");
			view->benches[s].head = h;
		}
	}
	if (r->base) {
		for (size_t i = 0; i < r->base->nbenches; i++) {
			const struct pg_bench_result *b = &r->base->benches[i];
			size_t s =
			    bench_slot(view, &index, b->name ? b->name : "");
			if (!view->benches[s].base)
				view->benches[s].base = b;
		}
	}
	size_t nv = r->verdicts ? r->verdicts->n : 0;
	for (size_t i = 0; i < nv; i++) {
		const struct pg_verdict *v = &r->verdicts->v[i];
		size_t s = bench_slot(view, &index, v->bench ? v->bench : "");
		struct pg_report_bench *b = &view->benches[s];
		PG_VEC_PUSH(b->verdicts, b->nverdicts, b->verdicts_cap, v);
		if (v->metric == PG_METRIC_TOTAL && !b->total)
			b->total = v;
		if (v->metric == PG_METRIC_WALL && !b->wall)
			b->wall = v;
		if (pg_verdict_judged(v)) {
			b->judged++;
			view->judged++;
		}
		struct pg_report_item item = {.v = v, .bench = s, .order = i};
		if (v->kind == PG_VERDICT_REGRESSED) {
			b->regressed++;
			PG_VEC_PUSH(view->regressions, view->nregressions,
				    view->regressions_cap, item);
		} else if (v->kind == PG_VERDICT_IMPROVED) {
			b->improved++;
			PG_VEC_PUSH(view->improvements, view->nimprovements,
				    view->improvements_cap, item);
		} else if (v->kind == PG_VERDICT_UNCLEAR) {
			b->unclear++;
		}
	}
	pg_map_release(&index);

	if (view->nregressions)
		qsort(view->regressions, view->nregressions,
		      sizeof(*view->regressions), cmp_regression);
	if (view->nimprovements)
		qsort(view->improvements, view->nimprovements,
		      sizeof(*view->improvements), cmp_improvement);
	for (size_t i = 0; i < view->nbenches; i++) {
		if (pg_report_bench_failed(&view->benches[i]))
			view->failed_benches++;
		else if (pg_report_bench_not_compared(&view->benches[i]))
			view->not_compared++;
	}
}

void pg_report_view_release(struct pg_report_view *view)
{
	for (size_t i = 0; i < view->nbenches; i++)
		free(view->benches[i].verdicts);
	free(view->benches);
	free(view->regressions);
	free(view->improvements);
	memset(view, 0, sizeof(*view));
}

const char *pg_report_metric_token(enum pg_metric m)
{
	switch (m) {
	case PG_METRIC_SELF:
		return "self";
	case PG_METRIC_INCL:
		return "incl";
	case PG_METRIC_CALLS:
		return "calls";
	case PG_METRIC_TOTAL:
		return "total";
	case PG_METRIC_WALL:
		return "wall";
	}
	return "unknown";
}

const char *pg_report_kind_token(enum pg_verdict_kind k)
{
	/* The stats module's names, as single tokens for machine formats. */
	return k == PG_VERDICT_NOT_JUDGED ? "not_judged"
					  : pg_verdict_kind_name(k);
}

const char *pg_report_status_token(enum pg_bench_status s)
{
	switch (s) {
	case PG_BENCH_OK:
		return "ok";
	case PG_BENCH_FAILED:
		return "failed";
	case PG_BENCH_TIMEOUT:
		return "timeout";
	case PG_BENCH_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

const char *pg_report_fmt_ns(double ns, char *out, size_t n)
{
	static const char *units[] = {"ns", "µs", "ms", "s"};
	if (!isfinite(ns)) {
		snprintf(out, n, "-");
		return out;
	}
	size_t u = 0;
	double x = ns;
	/* Move up before %.3g would round 999.7 to "1e+03". */
	while (u < 3 && fabs(x) >= 999.5) {
		x /= 1000;
		u++;
	}
	snprintf(out, n, "%.3g %s", x, units[u]);
	return out;
}

const char *pg_report_fmt_values(const struct pg_verdict *v, char *out,
				 size_t n)
{
	if (v->metric == PG_METRIC_CALLS) {
		snprintf(out, n, "%llu → %llu calls",
			 (unsigned long long)v->base_calls,
			 (unsigned long long)v->head_calls);
	} else {
		char a[32], b[32];
		snprintf(out, n, "%s → %s",
			 pg_report_fmt_ns(v->base_value, a, sizeof(a)),
			 pg_report_fmt_ns(v->head_value, b, sizeof(b)));
	}
	return out;
}

double pg_report_change(const struct pg_verdict *v)
{
	if (v->metric != PG_METRIC_CALLS)
		return v->change_pct;
	if (!v->base_calls)
		return NAN;
	return ((double)v->head_calls - (double)v->base_calls) /
	       (double)v->base_calls * 100;
}

const char *pg_report_fmt_pct(double pct, char *out, size_t n)
{
	if (!isfinite(pct))
		snprintf(out, n, "n/a");
	else
		snprintf(out, n, "%+.1f%%", pct);
	return out;
}

const char *pg_report_fmt_ci(const struct pg_verdict *v, char *out, size_t n)
{
	if (v->metric == PG_METRIC_CALLS)
		snprintf(out, n, "exact");
	else if (!isfinite(v->ci_lo_pct) || !isfinite(v->ci_hi_pct))
		snprintf(out, n, "%s", "");
	else
		snprintf(out, n, "[%+.1f%%, %+.1f%%]", v->ci_lo_pct,
			 v->ci_hi_pct);
	return out;
}

double pg_report_p(const struct pg_verdict *v)
{
	return v->kind == PG_VERDICT_IMPROVED ? v->p_faster : v->p;
}

double pg_report_q(const struct pg_verdict *v)
{
	return v->kind == PG_VERDICT_IMPROVED ? v->q_faster : v->q;
}

const char *pg_report_fmt_q(const struct pg_verdict *v, double q, char *out,
			    size_t n)
{
	if (!isfinite(q) || (v && v->metric == PG_METRIC_CALLS))
		snprintf(out, n, "-");
	else if (q >= 0.001 || q == 0)
		snprintf(out, n, "%.2g", q);
	else
		snprintf(out, n, "%.0e", q);
	return out;
}

const char *pg_report_tail(const struct pg_bench_result *b, size_t max_bytes,
			   size_t *len_out, size_t *dropped_out)
{
	const char *s = b ? b->output : NULL;
	size_t len = s ? b->output_len : 0;
	size_t start = len > max_bytes ? len - max_bytes : 0;
	/* Skip at most three continuation bytes to start on a character. */
	for (int i = 0; i < 3 && start > 0 && start < len &&
			((unsigned char)s[start] & 0xC0) == 0x80;
	     i++)
		start++;
	*len_out = len - start;
	*dropped_out = start + (s ? (size_t)b->output_dropped : 0);
	return s ? s + start : "";
}

double pg_report_total_cv(const struct pg_bench_result *b)
{
	if (!b || b->profile.ntrials < 2)
		return NAN;
	size_t n = b->profile.ntrials;
	double *x = pg_malloc(n * sizeof(*x));
	for (size_t i = 0; i < n; i++)
		x[i] = (double)b->profile.trials[i].total_ns;
	double mean = pg_stats_mean(x, n);
	double cv = mean > 0 ? pg_stats_stddev(x, n) / mean : NAN;
	free(x);
	return cv;
}

size_t pg_report_lossy_trials(const struct pg_bench_result *b, uint64_t *lost,
			      uint64_t *unmatched)
{
	size_t n = 0;
	*lost = *unmatched = 0;
	for (size_t i = 0; b && i < b->profile.ntrials; i++) {
		const struct pg_trial *t = &b->profile.trials[i];
		if (t->lost || t->unmatched)
			n++;
		*lost += t->lost;
		*unmatched += t->unmatched;
	}
	return n;
}

bool pg_report_overcompensated(const struct pg_trial *t)
{
	return t->comp_scale < PG_REPORT_COMP_SCALE_WARN ||
	       (t->clamped_ns > 0 &&
		(double)t->clamped_ns >
		    PG_REPORT_CLAMPED_WARN *
			(double)(t->total_ns > 0 ? t->total_ns : 1));
}

/* The compensation line of one side, when some trial needed it. */
static void overcompensated_line(struct pg_buf *out, const char *prefix,
				 const char *bench, const char *side,
				 const struct pg_profile *p)
{
	size_t n = 0;
	double scale = 1;
	int64_t clamped = 0;
	for (size_t i = 0; i < p->ntrials; i++) {
		if (!pg_report_overcompensated(&p->trials[i]))
			continue;
		n++;
		scale = fmin(scale, p->trials[i].comp_scale);
		clamped += p->trials[i].clamped_ns;
	}
	if (!n)
		return;
	pg_buf_printf(out,
		      "%s%s: %s: the hook's calibrated cost per event was more "
		      "than the time measured between events in %zu of %zu "
		      "trials (",
		      prefix, bench, side, n, p->ntrials);
	if (scale < 0.995) /* below what prints as 100% */
		pg_buf_printf(out, "compensation scaled down to %.0f%%, ",
			      100 * scale);
	else
		pg_buf_puts(out, "compensation not scaled, ");
	pg_buf_printf(out,
		      "%.3f ms clamped to zero): functions doing little per "
		      "call read low; trials",
		      (double)clamped / 1e6);
	for (size_t i = 0; i < p->ntrials; i++)
		if (pg_report_overcompensated(&p->trials[i]))
			pg_buf_printf(out, " %zu", i + 1);
	pg_buf_puts(out, "\n");
}

/* The line of a side whose production windows were sampled far below
 * the rate asked (pg_trial_undersampled), when some were. */
static void undersampled_line(struct pg_buf *out, const char *prefix,
			      const char *bench, const char *side,
			      const struct pg_profile *p)
{
	size_t n = 0;
	uint64_t due = 0, taken = 0;
	int rate = 0;
	for (size_t i = 0; i < p->ntrials; i++) {
		const struct pg_trial *t = &p->trials[i];
		if (!pg_trial_undersampled(t))
			continue;
		n++;
		due += t->ticks_due;
		taken += t->ticks_taken < t->ticks_due ? t->ticks_taken
						       : t->ticks_due;
		rate = t->rate_hz;
	}
	if (!n)
		return;
	pg_buf_printf(out,
		      "%s%s: %s: sampled far below the rate asked in %zu of "
		      "%zu windows (%.1f Hz of %d Hz over them): fewer "
		      "samples than asked, so wider intervals; windows",
		      prefix, bench, side, n, p->ntrials,
		      rate * (double)taken / (double)due, rate);
	for (size_t i = 0; i < p->ntrials; i++)
		if (pg_trial_undersampled(&p->trials[i]))
			pg_buf_printf(out, " %zu", i + 1);
	pg_buf_puts(out, "\n");
}

void pg_report_lossy_lines(struct pg_buf *out, const char *prefix,
			   const struct pg_report_bench *b)
{
	const struct pg_bench_result *sides[2] = {b->base, b->head};
	static const char *const names[2] = {"base", "head"};
	for (int s = 0; s < 2; s++) {
		uint64_t lost, unmatched;
		if (sides[s]) {
			overcompensated_line(out, prefix, b->name, names[s],
					     &sides[s]->profile);
			undersampled_line(out, prefix, b->name, names[s],
					  &sides[s]->profile);
		}
		size_t n = pg_report_lossy_trials(sides[s], &lost, &unmatched);
		if (!n)
			continue;
		pg_buf_printf(out,
			      "%s%s: %s: the hook lost events in %zu of %zu "
			      "trials (%" PRIu64 " lost, %" PRIu64
			      " unmatched returns): their figures are "
			      "incomplete; trials",
			      prefix, b->name, names[s], n,
			      sides[s]->profile.ntrials, lost, unmatched);
		/* Which trials, numbered from 1 in the order measured. */
		const struct pg_profile *p = &sides[s]->profile;
		for (size_t i = 0; i < p->ntrials; i++)
			if (p->trials[i].lost || p->trials[i].unmatched)
				pg_buf_printf(out, " %zu", i + 1);
		pg_buf_puts(out, "\n");
	}
}
