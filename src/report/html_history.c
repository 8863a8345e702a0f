/*
 * html_history.c - `perfguard report --history N`: the stored baselines
 * of the last commits of first-parent history as one page of line charts
 * (src/report/assets/history.js), per benchmark its profiled total and
 * the self time of its top functions, each point a median over the
 * baseline's trials with a distribution-free 95% interval.
 *
 * The series are built here from results sets the cli loaded; change
 * points are not computed here (that is the analysis module's job): the
 * caller may fill each series' change_points before writing, and the
 * page marks them. Nothing here reads git or the store.
 */
#include "page.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/report.h"
#include "perfguard/stats.h"

#define CI_LEVEL 0.95

static struct pg_report_series *
series_add(struct pg_report_history *h, const char *bench, const char *function)
{
	if (h->nseries == h->series_cap)
		pg_grow((void **)&h->series, &h->series_cap, h->nseries + 1,
			sizeof(*h->series));
	struct pg_report_series *s = &h->series[h->nseries++];
	memset(s, 0, sizeof(*s));
	s->bench = pg_strdup(bench);
	s->function = pg_strdup(function);
	size_t n = h->ncommits ? h->ncommits : 1;
	s->median_ns = pg_malloc(n * sizeof(double));
	s->low_ns = pg_malloc(n * sizeof(double));
	s->high_ns = pg_malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		s->median_ns[i] = s->low_ns[i] = s->high_ns[i] = NAN;
	return s;
}

/* Fill series s from benchmark `bench` of every commit. */
static void series_fill(struct pg_report_history *h, struct pg_report_series *s)
{
	for (size_t c = 0; c < h->ncommits; c++) {
		const struct pg_results *r = h->commits[c].results;
		const struct pg_bench_result *b =
		    r ? pg_results_find(r, s->bench) : NULL;
		if (!b || b->status != PG_BENCH_OK || !b->profile.ntrials)
			continue;
		const struct pg_profile *p = &b->profile;
		uint32_t f = PG_NO_FUNC;
		if (s->function &&
		    (f = pg_profile_find(p, s->function)) == PG_NO_FUNC)
			continue;
		double *v = pg_malloc(p->ntrials * sizeof(*v));
		for (size_t t = 0; t < p->ntrials; t++)
			v[t] = f == PG_NO_FUNC
				   ? (double)p->trials[t].total_ns
				   : (double)p->trials[t].samples[f].self_ns;
		pg_stats_median_interval(v, p->ntrials, CI_LEVEL,
					 &s->median_ns[c], &s->low_ns[c],
					 &s->high_ns[c]);
		free(v);
	}
}

/* Has some earlier series this benchmark? */
static bool seen_bench(const struct pg_report_history *h, const char *name)
{
	for (size_t i = 0; i < h->nseries; i++)
		if (!strcmp(h->series[i].bench, name))
			return true;
	return false;
}

void pg_report_history_build(struct pg_report_history *h,
			     const struct pg_report_commit *commits, size_t n,
			     size_t top)
{
	memset(h, 0, sizeof(*h));
	h->commits = commits;
	h->ncommits = n;
	/* Benchmarks newest first: what is measured today leads. */
	for (size_t c = n; c-- > 0;) {
		const struct pg_results *r = commits[c].results;
		for (size_t b = 0; r && b < r->nbenches; b++) {
			const struct pg_bench_result *br = &r->benches[b];
			if (br->status != PG_BENCH_OK || !br->profile.ntrials ||
			    seen_bench(h, br->name))
				continue;
			series_fill(h, series_add(h, br->name, NULL));
			/* The top functions by median self time here, at
			 * the newest commit that measured the benchmark. */
			struct pg_func_summary *sum = NULL;
			pg_profile_summarise(&br->profile, PG_SORT_TOTTIME,
					     &sum);
			for (size_t k = 0; k < top && k < br->profile.nfuncs;
			     k++) {
				if (!(sum[k].self_ns > 0))
					break;
				const char *id =
				    br->profile.funcs[sum[k].func].id;
				series_fill(h, series_add(h, br->name, id));
			}
			free(sum);
		}
	}
}

void pg_report_history_release(struct pg_report_history *h)
{
	for (size_t i = 0; i < h->nseries; i++) {
		struct pg_report_series *s = &h->series[i];
		free(s->bench);
		free(s->function);
		free(s->median_ns);
		free(s->low_ns);
		free(s->high_ns);
		free(s->change_points);
		free(s->change_pct);
	}
	free(h->series);
	memset(h, 0, sizeof(*h));
}

void pg_report_series_add_change_point(struct pg_report_series *s, size_t index,
				       double change_pct)
{
	size_t n = s->nchange_points + 1;
	s->change_points =
	    pg_realloc(s->change_points, n * sizeof(*s->change_points));
	s->change_pct = pg_realloc(s->change_pct, n * sizeof(*s->change_pct));
	s->change_points[n - 1] = index;
	s->change_pct[n - 1] = change_pct;
	s->nchange_points = n;
}

int pg_report_history_html(const struct pg_report_history *h, const char *title,
			   struct pg_buf *out)
{
	char subtitle[128];
	snprintf(subtitle, sizeof(subtitle),
		 "perfguard history · %zu commit%s with stored baselines",
		 h->ncommits, h->ncommits == 1 ? "" : "s");
	pg_report_page_begin(out, "history", title, subtitle);
	struct pg_buf json;
	pg_buf_init(&json, 0);
	struct pg_jw w;
	pg_jw_init(&w, &json, false);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "history");
	pg_jw_key(&w, "commits");
	pg_jw_arr_begin(&w);
	for (size_t c = 0; c < h->ncommits; c++) {
		const struct pg_report_commit *k = &h->commits[c];
		pg_jw_obj_begin(&w);
		pg_jw_key(&w, "commit");
		pg_jw_str(&w, k->commit);
		pg_jw_key(&w, "subject");
		pg_jw_str(&w, k->subject);
		pg_jw_key(&w, "time");
		pg_jw_int(&w, k->time);
		pg_jw_obj_end(&w);
	}
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "series");
	pg_jw_arr_begin(&w);
	for (size_t i = 0; i < h->nseries; i++) {
		const struct pg_report_series *s = &h->series[i];
		pg_jw_obj_begin(&w);
		pg_jw_key(&w, "bench");
		pg_jw_str(&w, s->bench);
		pg_jw_key(&w, "function");
		pg_jw_str(&w, s->function);
		pg_report_page_column(&w, "median", s->median_ns, h->ncommits);
		pg_report_page_column(&w, "low", s->low_ns, h->ncommits);
		pg_report_page_column(&w, "high", s->high_ns, h->ncommits);
		pg_jw_key(&w, "change_points");
		pg_jw_arr_begin(&w);
		for (size_t k = 0; k < s->nchange_points; k++) {
			pg_jw_obj_begin(&w);
			pg_jw_key(&w, "index");
			pg_jw_uint(&w, s->change_points[k]);
			pg_jw_key(&w, "change_pct");
			pg_jw_double(&w, s->change_pct[k]);
			pg_jw_obj_end(&w);
		}
		pg_jw_arr_end(&w);
		pg_jw_obj_end(&w);
	}
	pg_jw_arr_end(&w);
	pg_jw_obj_end(&w);
	int rc = pg_report_page_end(out, &json, pg_asset_history_js);
	pg_buf_release(&json);
	return rc;
}
