/*
 * noise.c - this runner's noise from an A/A run (the suite's head measured
 * against itself, as `perfguard calibrate` does), and the smallest change
 * a check with given trials and false-discovery rate can detect.
 *
 * Per judged A/A verdict (benchmark totals, wall times and the functions
 * the rules judge) it keeps the raw spread of the per-trial values (robust
 * standard deviation of their logarithms, pooled over the two sides) and
 * the precision the judge itself reached: the half-width of the A/A
 * verdict's 95% interval on the log scale, which already includes the
 * speed normalisation of docs/statistics.md. The detectable change at n
 * trials per side scales that precision as the rank test's does (1/sqrt
 * n), at the one-sided level a lone true change must reach under
 * Benjamini-Hochberg in a family of m judged verdicts (fdr / 2 / m) with
 * 80% power, and is infinite when n trials cannot reach that level at all
 * (pg_stats_smallest_p above it: 1 / C(2n, n), or 1 / 2^n for totals
 * compared round by round). It is an approximation (normal approximation
 * of the rank test), stated as such in docs/statistics.md.
 *
 * It neither runs anything nor prints: the cli measures, this computes.
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"

#define POWER	      0.8
#define Z_95	      1.959963984540054
#define ROBUST_SD     1.4826
#define MAX_REC_TRIAL 50

static double log_spread(const double *x, size_t n)
{
	if (n < 2)
		return NAN;
	double *l = pg_malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		l[i] = log(x[i] > 1 ? x[i] : 1);
	double s = ROBUST_SD * pg_stats_mad(l, n);
	free(l);
	return s;
}

/* Per-trial values of what verdict v judged on one side; *n set. */
static double *side_values(const struct pg_verdict *v,
			   const struct pg_bench_result *b, size_t *n)
{
	const struct pg_profile *p = &b->profile;
	double *x = NULL;
	*n = 0;
	if (v->metric == PG_METRIC_WALL) {
		if (!b->has_wall || !b->wall.ntimes)
			return NULL;
		x = pg_malloc(b->wall.ntimes * sizeof(double));
		for (size_t i = 0; i < b->wall.ntimes; i++)
			x[i] = b->wall.times_s[i] * 1e9;
		*n = b->wall.ntimes;
		return x;
	}
	if (!p->ntrials)
		return NULL;
	uint32_t f = v->func_id ? pg_profile_find(p, v->func_id) : PG_NO_FUNC;
	if (v->func_id && f == PG_NO_FUNC)
		return NULL;
	x = pg_malloc(p->ntrials * sizeof(double));
	for (size_t t = 0; t < p->ntrials; t++) {
		if (!v->func_id)
			x[t] = (double)p->trials[t].total_ns;
		else if (v->metric == PG_METRIC_INCL)
			x[t] = (double)p->trials[t].samples[f].incl_ns;
		else
			x[t] = (double)p->trials[t].samples[f].self_ns;
	}
	*n = p->ntrials;
	return x;
}

double pg_analysis_detectable_pct(const struct pg_noise_row *r, int n,
				  size_t family, double fdr)
{
	if (n < 1 || !family || !(fdr > 0 && fdr < 1))
		return INFINITY;
	double level = fdr / 2 / (double)family;
	if (pg_stats_smallest_p(n, r->paired) > level)
		return INFINITY;
	double sd; /* sd of the log estimate at the A/A run's trials */
	if (isfinite(r->halfwidth_log) && r->halfwidth_log > 0 && r->n > 0)
		sd = r->halfwidth_log / Z_95 * sqrt((double)r->n / n);
	else if (isfinite(r->spread_log))
		sd = r->spread_log * sqrt(2.0 / n) * sqrt(M_PI / 3);
	else
		return INFINITY;
	double z = pg_stats_norm_ppf(1 - level) + pg_stats_norm_ppf(POWER);
	return expm1(z * sd) * 100;
}

void pg_analysis_noise(const struct pg_results *a, const struct pg_results *b,
		       const struct pg_verdicts *aa, struct pg_noise *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < aa->n; k++) {
		const struct pg_verdict *v = &aa->v[k];
		if (!pg_verdict_judged(v) || v->metric == PG_METRIC_CALLS)
			continue;
		const struct pg_bench_result *ra = pg_results_find(a, v->bench);
		const struct pg_bench_result *rb = pg_results_find(b, v->bench);
		if (!ra || !rb)
			continue;
		size_t na, nb;
		double *xa = side_values(v, ra, &na);
		double *xb = side_values(v, rb, &nb);
		struct pg_noise_row r = {
		    .bench = v->bench,
		    .func = v->func_id,
		    .metric = v->metric,
		    .threshold_pct = v->threshold_pct,
		    .resolution_pct = v->resolution_pct,
		    .aa_change_pct = v->change_pct,
		    .aa_kind = v->kind,
		    .n = na < nb ? na : nb,
		    .paired = !v->func_id && pg_bench_results_paired(ra, rb),
		};
		double sa = log_spread(xa, na), sb = log_spread(xb, nb);
		r.spread_log = sqrt((sa * sa + sb * sb) / 2);
		r.spread_pct = expm1(r.spread_log) * 100;
		double lo = v->ci_lo_pct, hi = v->ci_hi_pct;
		r.halfwidth_log = isfinite(lo) && isfinite(hi) && lo > -100
				      ? (log1p(hi / 100) - log1p(lo / 100)) / 2
				      : NAN;
		double *all = pg_malloc((na + nb + 1) * sizeof(double));
		if (na)
			memcpy(all, xa, na * sizeof(double));
		if (nb)
			memcpy(all + na, xb, nb * sizeof(double));
		r.median_ns = pg_stats_median(all, na + nb);
		free(all);
		free(xa);
		free(xb);
		if (v->func_id)
			out->functions++;
		else
			out->totals++;
		if (v->kind == PG_VERDICT_REGRESSED)
			out->false_alarms++;
		PG_VEC_PUSH(out->rows, out->n, out->cap, r);
	}
}

/* The share of function rows detectable within their threshold at n. */
static double share_ok(const struct pg_noise *nz, int n, double fdr)
{
	size_t ok = 0, all = 0;
	for (size_t i = 0; i < nz->n; i++) {
		const struct pg_noise_row *r = &nz->rows[i];
		if (!r->func || !strcmp(r->func, "<gc>"))
			continue; /* collector pauses: not what thresholds tune */
		all++;
		double d = pg_analysis_detectable_pct(r, n, nz->functions, fdr);
		ok += d <= fmax(r->threshold_pct, r->resolution_pct);
	}
	return all ? (double)ok / (double)all : 1;
}

static bool totals_ok(const struct pg_noise *nz, int n, double fdr)
{
	for (size_t i = 0; i < nz->n; i++) {
		const struct pg_noise_row *r = &nz->rows[i];
		if (!r->func && pg_analysis_detectable_pct(
				    r, n, nz->totals, fdr) > r->threshold_pct)
			return false;
	}
	return true;
}

static double ceil_pct(double x)
{
	return isfinite(x) ? ceil(x) : 100;
}

void pg_analysis_recommend(const struct pg_noise *nz, double fdr,
			   double function_pct, double total_pct,
			   struct pg_noise_advice *out)
{
	memset(out, 0, sizeof(*out));
	out->function_pct = function_pct;
	out->total_pct = total_pct;
	int n = 3;
	for (; n <= MAX_REC_TRIAL; n++)
		if (totals_ok(nz, n, fdr) && share_ok(nz, n, fdr) >= 0.9)
			break;
	if (n > MAX_REC_TRIAL) {
		/* Not reachable in a reasonable time: say which thresholds
		 * are, at the largest trial count recommended. */
		n = MAX_REC_TRIAL;
		double worst_total = 0;
		size_t nf = 0;
		double *f = pg_malloc((nz->n + 1) * sizeof(double));
		for (size_t i = 0; i < nz->n; i++) {
			const struct pg_noise_row *r = &nz->rows[i];
			if (r->func && !strcmp(r->func, "<gc>"))
				continue;
			if (r->func)
				f[nf++] = pg_analysis_detectable_pct(
				    r, n, nz->functions, fdr);
			else
				worst_total = fmax(worst_total,
						   pg_analysis_detectable_pct(
						       r, n, nz->totals, fdr));
		}
		if (nf)
			out->function_pct =
			    fmax(function_pct,
				 ceil_pct(pg_stats_quantile(f, nf, 0.9)));
		out->total_pct = fmax(total_pct, ceil_pct(worst_total));
		out->reached = false;
		free(f);
	} else {
		out->reached = true;
	}
	out->trials = n;
	out->max_trials = 2 * n;
}

void pg_noise_release(struct pg_noise *n)
{
	free(n->rows);
	memset(n, 0, sizeof(*n));
}
