/*
 * history.c - the points of a history series: per commit, the median of
 * a benchmark's total or of one function's self time over the trials of
 * its stored baseline, with a distribution-free interval.
 *
 * The interval of the median is the pair of order statistics
 * (x_(l), x_(n+1-l)) with the largest l such that P(Bin(n, 1/2) < l) <=
 * (1 - conf) / 2; its coverage is at least conf whatever the distribution.
 * With too few trials for conf (n < 6 at 95%) it widens to the range.
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"

int pg_analysis_trial_values(const struct pg_bench_result *b,
			     const char *func_id, double **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	const struct pg_profile *p = &b->profile;
	if (!p->ntrials)
		return pg_error_set(PG_ENOTFOUND, "%s has no trials", b->name);
	uint32_t f = PG_NO_FUNC;
	if (func_id && (f = pg_profile_find(p, func_id)) == PG_NO_FUNC)
		return pg_error_set(PG_ENOTFOUND, "%s: no function %s", b->name,
				    func_id);
	double *v = pg_malloc(p->ntrials * sizeof(*v));
	for (size_t t = 0; t < p->ntrials; t++)
		v[t] = f == PG_NO_FUNC
			   ? (double)p->trials[t].total_ns
			   : (double)p->trials[t].samples[f].self_ns;
	*out = v;
	*n_out = p->ntrials;
	return 0;
}

void pg_history_init(struct pg_history *h)
{
	memset(h, 0, sizeof(*h));
}

void pg_history_release(struct pg_history *h)
{
	for (size_t i = 0; i < h->nseries; i++) {
		free(h->series[i].bench);
		free(h->series[i].function);
		free(h->series[i].points);
		free(h->series[i].cps);
	}
	free(h->series);
	free(h->env);
	memset(h, 0, sizeof(*h));
}

void pg_history_note_env(struct pg_history *h, const char *commit,
			 const char *what)
{
	struct pg_history_env e = {.what = what};
	snprintf(e.commit, sizeof(e.commit), "%s", commit);
	PG_VEC_PUSH(h->env, h->nenv, h->env_cap, e);
}

static struct pg_history_series *
series_for(struct pg_history *h, const char *bench, const char *func_id)
{
	for (size_t i = 0; i < h->nseries; i++) {
		struct pg_history_series *s = &h->series[i];
		if (!strcmp(s->bench, bench) &&
		    (func_id ? s->function && !strcmp(s->function, func_id)
			     : !s->function))
			return s;
	}
	pg_grow((void **)&h->series, &h->series_cap, h->nseries + 1,
		sizeof(*h->series));
	struct pg_history_series *s = &h->series[h->nseries++];
	memset(s, 0, sizeof(*s));
	s->bench = pg_strdup(bench);
	s->function = pg_strdup(func_id);
	return s;
}

void pg_history_add_values(struct pg_history *h, const char *commit,
			   const char *bench, const char *func_id,
			   const double *values, size_t n)
{
	struct pg_history_series *s = series_for(h, bench, func_id);
	pg_grow((void **)&s->points, &s->points_cap, s->npoints + 1,
		sizeof(*s->points));
	struct pg_history_point *pt = &s->points[s->npoints++];
	snprintf(pt->commit, sizeof(pt->commit), "%s", commit ? commit : "");
	pg_stats_median_interval(values, n, 0.95, &pt->value_ns, &pt->low_ns,
				 &pt->high_ns);
}

void pg_history_add(struct pg_history *h, const char *commit,
		    const struct pg_results *r, const char *bench,
		    const char *func_id)
{
	for (size_t i = 0; i < r->nbenches; i++) {
		const struct pg_bench_result *b = &r->benches[i];
		if ((bench && strcmp(b->name, bench) != 0) ||
		    b->status != PG_BENCH_OK)
			continue;
		double *v = NULL;
		size_t n = 0;
		if (pg_analysis_trial_values(b, func_id, &v, &n) != 0) {
			pg_error_clear(); /* not at this commit: no point */
			continue;
		}
		pg_history_add_values(h, commit, b->name, func_id, v, n);
		free(v);
	}
}

int pg_history_finish(struct pg_history *h, const struct pg_cp_options *o)
{
	for (size_t i = 0; i < h->nseries; i++) {
		struct pg_history_series *s = &h->series[i];
		free(s->cps);
		s->cps = NULL;
		s->ncps = 0;
		double *v = pg_malloc((s->npoints + 1) * sizeof(*v));
		for (size_t k = 0; k < s->npoints; k++)
			v[k] = s->points[k].value_ns;
		int rc = pg_analysis_change_points(v, s->npoints, o, &s->cps,
						   &s->ncps);
		free(v);
		if (rc)
			return rc;
	}
	return 0;
}

void pg_history_write_json(const struct pg_history *h, struct pg_jw *w)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "schema");
	pg_jw_int(w, 1);
	pg_jw_key(w, "kind");
	pg_jw_str(w, "perfguard-history");
	pg_jw_key(w, "series");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < h->nseries; i++) {
		const struct pg_history_series *s = &h->series[i];
		pg_jw_obj_begin(w);
		pg_jw_key(w, "bench");
		pg_jw_str(w, s->bench);
		pg_jw_key(w, "function");
		pg_jw_str(w, s->function);
		pg_jw_key(w, "points");
		pg_jw_arr_begin(w);
		for (size_t k = 0; k < s->npoints; k++) {
			const struct pg_history_point *pt = &s->points[k];
			pg_jw_obj_begin(w);
			pg_jw_key(w, "commit");
			pg_jw_str(w, pt->commit);
			pg_jw_key(w, "value_ns");
			pg_jw_double(w, pt->value_ns);
			pg_jw_key(w, "low_ns");
			pg_jw_double(w, pt->low_ns);
			pg_jw_key(w, "high_ns");
			pg_jw_double(w, pt->high_ns);
			pg_jw_obj_end(w);
		}
		pg_jw_arr_end(w);
		pg_jw_key(w, "change_points");
		pg_jw_arr_begin(w);
		for (size_t k = 0; k < s->ncps; k++) {
			const struct pg_change_point *cp = &s->cps[k];
			pg_jw_obj_begin(w);
			pg_jw_key(w, "commit");
			pg_jw_str(w, s->points[cp->index].commit);
			pg_jw_key(w, "change_pct");
			pg_jw_double(w, cp->change_pct);
			pg_jw_key(w, "p");
			pg_jw_double(w, cp->p);
			pg_jw_obj_end(w);
		}
		pg_jw_arr_end(w);
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);
	pg_jw_key(w, "environment_changes");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < h->nenv; i++) {
		pg_jw_obj_begin(w);
		pg_jw_key(w, "commit");
		pg_jw_str(w, h->env[i].commit);
		pg_jw_key(w, "what");
		pg_jw_str(w, h->env[i].what);
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}
