/*
 * stats_test.c - unit tests of the stats module: the numerics against
 * reference values computed with scipy (tests/stats/make_reference.py ->
 * tests/stats/reference.h), and the verdict rules on synthetic profiles
 * (tests/stats/sim.h: seeded, so deterministic).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/verdict.h"

#include "../stats/reference.h"
#include "../stats/sim.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* |got - want| within rel * |want| + abs_tol; NaN only equals NaN. */
static void assert_close(double got, double want, double rel, double abs_tol,
			 const char *what, size_t i)
{
	if (isnan(want) && isnan(got))
		return;
	double tol = rel * fabs(want) + abs_tol;
	if (!(fabs(got - want) <= tol)) {
		print_error("%s[%zu]: got %.17g, want %.17g\n", what, i, got,
			    want);
		fail();
	}
}

/* ---- numerics -------------------------------------------------------- */

static void summaries_match_numpy(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(ref_summaries); i++) {
		const struct ref_summary *r = &ref_summaries[i];
		assert_close(pg_stats_mean(r->x, r->n), r->mean, 1e-12, 0,
			     "mean", i);
		assert_close(pg_stats_median(r->x, r->n), r->median, 1e-12, 0,
			     "median", i);
		assert_close(pg_stats_quantile(r->x, r->n, 0.1), r->q10, 1e-12,
			     0, "q10", i);
		assert_close(pg_stats_quantile(r->x, r->n, 0.25), r->q25, 1e-12,
			     0, "q25", i);
		assert_close(pg_stats_quantile(r->x, r->n, 0.9), r->q90, 1e-12,
			     0, "q90", i);
		assert_close(pg_stats_mad(r->x, r->n), r->mad, 1e-12, 1e-12,
			     "mad", i);
		assert_close(pg_stats_stddev(r->x, r->n), r->stddev, 1e-10,
			     1e-12, "stddev", i);
	}
}

static void summaries_of_nothing_are_nan(void **state)
{
	(void)state;
	double x = 1;
	assert_true(isnan(pg_stats_mean(&x, 0)));
	assert_true(isnan(pg_stats_median(&x, 0)));
	assert_true(isnan(pg_stats_mad(&x, 0)));
	assert_true(isnan(pg_stats_stddev(&x, 1)));
}

static void median_interval_uses_binomial_ranks(void **state)
{
	(void)state;
	double x[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
	double med, lo, hi;
	pg_stats_median_interval(x, 10, 0.95, &med, &lo, &hi);
	assert_true(med == 5.5);
	assert_true(lo == 2 && hi == 9);      /* ranks 2 and 9 of 10 */
	assert_true(x[0] == 10 && x[9] == 5); /* x is not sorted */
	pg_stats_median_interval(x, 3, 0.95, &med, &lo, &hi);
	assert_true(med == 9 && lo == 1 && hi == 10); /* too few: range */
	double many[100];
	for (int i = 0; i < 100; i++)
		many[i] = 99 - i;
	pg_stats_median_interval(many, 100, 0.95, &med, &lo, &hi);
	/* ranks 40 and 61 of 100 (R's binom-based interval) */
	assert_true(med == 49.5 && lo == 39 && hi == 60);
	pg_stats_median_interval(x, 0, 0.95, &med, &lo, &hi);
	assert_true(isnan(med) && isnan(lo) && isnan(hi));
}

static void mann_whitney_matches_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(ref_mwus); i++) {
		const struct ref_mwu *r = &ref_mwus[i];
		double u;
		double pg = pg_stats_mann_whitney(r->a, r->na, r->b, r->nb,
						  false, r->method, &u);
		double p2 = pg_stats_mann_whitney(r->a, r->na, r->b, r->nb,
						  true, r->method, NULL);
		assert_close(u, r->u, 0, 1e-9, "u", i);
		assert_close(pg, r->p_greater, 1e-9, 1e-15, "p_greater", i);
		assert_close(p2, r->p_two_sided, 1e-9, 1e-15, "p_two_sided", i);
		if (r->method == PG_MWU_AUTO) {
			assert_close(pg_stats_mann_whitney_greater(
					 r->a, r->na, r->b, r->nb, NULL),
				     r->p_greater, 1e-9, 1e-15, "greater", i);
			assert_close(pg_stats_mann_whitney_two_sided(
					 r->a, r->na, r->b, r->nb),
				     r->p_two_sided, 1e-9, 1e-15, "two", i);
		}
	}
}

static void exact_mann_whitney_counts_arrangements(void **state)
{
	(void)state;
	/* b above a in 1 of the C(4,2) = 6 arrangements. */
	double a[] = {1, 2}, b[] = {3, 4};
	double u;
	double p = pg_stats_mann_whitney(a, 2, b, 2, false, PG_MWU_EXACT, &u);
	assert_close(u, 4, 0, 0, "u", 0);
	assert_close(p, 1.0 / 6, 1e-15, 0, "p", 0);
	/* The smallest p of 10 vs 10: 1 / C(20,10). */
	double x[10], y[10];
	for (int i = 0; i < 10; i++)
		x[i] = i, y[i] = 100 + i;
	p = pg_stats_mann_whitney(x, 10, y, 10, false, PG_MWU_PREFER_EXACT,
				  NULL);
	assert_close(p, 1.0 / 184756, 1e-12, 0, "p", 1);
}

static void mann_whitney_of_empty_sample_is_nan(void **state)
{
	(void)state;
	double a[] = {1, 2};
	assert_true(isnan(pg_stats_mann_whitney_greater(a, 2, a, 0, NULL)));
	assert_true(isnan(pg_stats_mann_whitney_two_sided(a, 0, a, 2)));
}

static void hodges_lehmann_matches_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(ref_hls); i++) {
		const struct ref_hl *r = &ref_hls[i];
		double est, lo, hi;
		assert_int_equal(pg_stats_hl_rank(r->na, r->nb, r->conf), r->k);
		pg_stats_hodges_lehmann(r->a, r->na, r->b, r->nb, r->conf, &est,
					&lo, &hi);
		assert_close(est, r->est, 1e-12, 1e-15, "est", i);
		assert_close(lo, r->lo, 1e-12, 1e-15, "lo", i);
		assert_close(hi, r->hi, 1e-12, 1e-15, "hi", i);
		assert_true(lo <= est && est <= hi);
	}
}

/* W+ of d with the signs of mask (bit i set: d[i] negated); distinct
 * magnitudes, so rank i is the 1-based position of |d[i]|. */
static double w_plus(const double *d, size_t n, unsigned mask)
{
	double w = 0;
	for (size_t i = 0; i < n; i++) {
		double v = mask >> i & 1 ? -d[i] : d[i];
		size_t rank = 1;
		for (size_t j = 0; j < n; j++)
			rank += fabs(d[j]) < fabs(d[i]);
		w += v > 0 ? (double)rank : 0;
	}
	return w;
}

/* The exact p-value and interval rank against all 2^n sign patterns. */
static void signed_rank_matches_enumeration(void **state)
{
	(void)state;
	uint64_t seed = 7;
	for (size_t n = 1; n <= 12; n++) {
		double d[12];
		for (size_t i = 0; i < n; i++) {
			seed =
			    seed * 6364136223846793005u + 1442695040888963407u;
			double u = (double)(seed >> 11) / 9007199254740992.0;
			d[i] = (u - 0.35) * (double)(i + 1); /* distinct */
		}
		unsigned all = 1u << n;
		double w0 = w_plus(d, n, 0);
		size_t ge = 0;
		for (unsigned m = 0; m < all; m++)
			ge += w_plus(d, n, m) >= w0;
		assert_close(pg_stats_signed_rank(d, n), (double)ge / all,
			     1e-12, 0, "p", n);
		/* k: the smallest with P(W+ <= k) >= 2.5% */
		size_t len = n * (n + 1) / 2, k = 0, cum = 0,
		       *at = calloc(len + 1, sizeof(*at));
		for (unsigned m = 0; m < all; m++)
			at[(size_t)w_plus(d, n, m)]++;
		while (k < len && (cum += at[k]) < 0.025 * all)
			k++;
		free(at);
		k = k < 1 ? 1 : k > (len + 1) / 2 ? (len + 1) / 2 : k;
		assert_int_equal(pg_stats_signed_rank_k(n, 0.95), k);
	}
	/* R: qsignrank(0.025, 10) = 9 */
	assert_int_equal(pg_stats_signed_rank_k(10, 0.95), 9);
}

static void signed_rank_edges_and_ties(void **state)
{
	(void)state;
	double d[] = {0, 0, 0};
	assert_true(isnan(pg_stats_signed_rank(d, 0)));
	assert_close(pg_stats_signed_rank(d, 3), 1, 0, 0, "zeros", 0);
	/* ties: the normal approximation. The zero is left out; ranks 1.5
	 * 1.5 3 4.5 4.5, W+ = 12, mean 7.5, variance 13.75 - (6 + 6) / 48 */
	double t[] = {1, 1, -2, 3, 3, 0};
	double want = 0.5 * erfc((12 - 7.5 - 0.5) / sqrt(13.5) / sqrt(2));
	assert_close(pg_stats_signed_rank(t, 6), want, 1e-12, 0, "ties", 0);
	/* a one-sided test: all positive is the smallest p, 2^-n */
	double up[8] = {1, 2, 3, 4, 5, 6, 7, 8}, down[8];
	for (int i = 0; i < 8; i++)
		down[i] = -up[i];
	assert_close(pg_stats_signed_rank(up, 8), 1.0 / 256, 1e-15, 0, "up", 0);
	assert_close(pg_stats_signed_rank(down, 8), 1, 0, 0, "down", 0);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The paired estimate is the median of the Walsh averages, its interval
 * their k-th smallest and largest. */
static void paired_hodges_lehmann_uses_walsh_averages(void **state)
{
	(void)state;
	double d[] = {0.3, -0.1, 0.8, 0.25, 0.05, 1.1, 0.4, -0.2, 0.6, 0.15};
	size_t n = N_OF(d), len = n * (n + 1) / 2, m = 0;
	double walsh[55];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			walsh[m++] = (d[i] + d[j]) / 2;
	qsort(walsh, len, sizeof(double), cmp_dbl);
	double est, lo, hi;
	pg_stats_hodges_lehmann_paired(d, n, 0.95, &est, &lo, &hi);
	assert_close(est, (walsh[26] + walsh[27]) / 2, 1e-15, 0, "est", 0);
	assert_close(lo, walsh[8], 0, 0, "lo", 0);  /* k = 9 */
	assert_close(hi, walsh[46], 0, 0, "hi", 0); /* 55 - 9 */
	pg_stats_hodges_lehmann_paired(d, 0, 0.95, &est, &lo, &hi);
	assert_true(isnan(est) && isnan(lo) && isnan(hi));
}

static void bh_matches_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(ref_bhs); i++) {
		const struct ref_bh *r = &ref_bhs[i];
		double q[64];
		assert_true(r->n <= N_OF(q));
		pg_stats_bh(r->p, r->n, q);
		for (size_t j = 0; j < r->n; j++)
			assert_close(q[j], r->q[j], 1e-12, 1e-300, "q", j);
	}
}

static void normal_distribution_matches_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(ref_cdfs); i++)
		assert_close(pg_stats_norm_cdf(ref_cdfs[i].z), ref_cdfs[i].cdf,
			     1e-13, 1e-300, "cdf", i);
	for (size_t i = 0; i < N_OF(ref_ppfs); i++)
		assert_close(pg_stats_norm_ppf(ref_ppfs[i].p), ref_ppfs[i].z,
			     1e-7 * (ref_ppfs[i].p > 0.999) + 1e-13, 1e-14,
			     "ppf", i);
	assert_true(isinf(pg_stats_norm_ppf(0)) && pg_stats_norm_ppf(0) < 0);
	assert_true(isinf(pg_stats_norm_ppf(1)) && pg_stats_norm_ppf(1) > 0);
	assert_true(isnan(pg_stats_norm_ppf(1.5)));
}

/* ---- verdicts -------------------------------------------------------- */

/* One benchmark, judged and finished; returns the number of regressions. */
struct one {
	struct sim_bench sb;
	struct pg_bench b;
	struct sim_check c;
	struct pg_verdicts v;
	size_t regressions;
};

static void one_init(struct one *o, uint64_t seed, double function_pct)
{
	memset(o, 0, sizeof(*o));
	struct sim_rng rng = {seed};
	sim_bench_init(&o->sb, 30, 50e6, 0.15, 0.03, 0.08, &rng);
	sim_pg_bench(&o->b, "bench", function_pct);
}

static void one_run(struct one *o, size_t trials, uint64_t seed)
{
	struct sim_rng rng = {seed};
	sim_judge(&o->c, &o->sb, &o->b, trials, &rng, &o->v);
	o->regressions = pg_stats_finish(&o->v, o->b.thresholds.fdr);
}

static void one_release(struct one *o)
{
	pg_verdicts_release(&o->v);
	sim_check_release(&o->c);
	sim_pg_bench_release(&o->b);
}

static size_t count_kind(const struct pg_verdicts *v, enum pg_verdict_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->v[i].kind == k;
	return n;
}

static void identical_code_rarely_fails(void **state)
{
	(void)state;
	/* 200 A/A checks, 30 functions, machine sd 15%, noise 3-8%. */
	size_t failed = 0, judged = 0;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct one o;
		one_init(&o, seed, 10);
		one_run(&o, 10, seed * 7919);
		failed += o.regressions > 0;
		for (size_t i = 0; i < o.v.n; i++) {
			judged += pg_verdict_judged(&o.v.v[i]);
		}
		one_release(&o);
	}
	/* About 25 judged functions per benchmark plus the total. */
	assert_true(judged > 200 * 20);
	/*
	 * fdr 0.01 under the complete null: about 2 of 200 expected (the
	 * totals, judged as their own family at fdr / 2, carry the 15%
	 * machine noise unnormalised); 4 bounds it with margin.
	 */
	assert_true(failed <= 4);
}

static void threefold_slowdown_is_named_alone(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 42, 10);
	o.sb.f[7].factor = 3;
	one_run(&o, 10, 43);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[7].id, 0);
	assert_non_null(v);
	assert_int_equal(v->kind, PG_VERDICT_REGRESSED);
	assert_int_equal(v->metric, PG_METRIC_SELF);
	assert_true(v->change_pct > 150 && v->change_pct < 250);
	assert_true(v->ci_lo_pct < v->change_pct &&
		    v->change_pct < v->ci_hi_pct);
	assert_true(v->q <= 0.01);
	/* Only that function fails (the total may too: it grew ~6%). */
	for (size_t i = 0; i < o.v.n; i++)
		if (o.v.v[i].func_id && &o.v.v[i] != v)
			assert_int_not_equal(o.v.v[i].kind,
					     PG_VERDICT_REGRESSED);
	one_release(&o);
}

static void
function_faster_per_call_than_an_event_is_judged_on_calls(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 42, 10);
	/* ~1.5 ns per call: below what the hook's compensation resolves. */
	o.sb.f[7].calls = 1000000;
	o.sb.f[7].factor = 1.5;
	one_run(&o, 10, 43);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[7].id, 0);
	assert_non_null(v);
	assert_int_equal(v->kind, PG_VERDICT_NOT_JUDGED);
	one_release(&o);

	one_init(&o, 42, 10);
	o.sb.f[7].calls = 1000000;
	o.sb.f[7].extra_calls = 1000;
	one_run(&o, 10, 43);
	v = sim_find(&o.v, o.sb.f[7].id, 0);
	assert_non_null(v);
	assert_int_equal(v->kind, PG_VERDICT_REGRESSED);
	assert_int_equal(v->metric, PG_METRIC_CALLS);
	one_release(&o);
}

static void dominant_function_slowdown_is_not_diluted(void **state)
{
	(void)state;
	/* Function 0 holds 25% of the benchmark; +15% on head. */
	size_t found = 0;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct one o;
		one_init(&o, seed, 10);
		o.sb.f[0].factor = 1.15;
		one_run(&o, 20, seed + 100);
		const struct pg_verdict *v = sim_find(&o.v, o.sb.f[0].id, 0);
		found += v->kind == PG_VERDICT_REGRESSED;
		assert_true(v->change_pct > 8 && v->change_pct < 22);
		for (size_t i = 0; i < o.v.n; i++)
			if (o.v.v[i].func_id && &o.v.v[i] != v)
				assert_int_not_equal(o.v.v[i].kind,
						     PG_VERDICT_REGRESSED);
		one_release(&o);
	}
	assert_true(found >= 9);
}

static void one_extra_call_is_a_regression_without_statistics(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 5, 10);
	o.sb.f[10].extra_calls = 1;
	one_run(&o, 10, 6);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[10].id, 0);
	assert_int_equal(v->metric, PG_METRIC_CALLS);
	assert_int_equal(v->kind, PG_VERDICT_REGRESSED);
	assert_true(v->head_calls == v->base_calls + 1);
	assert_true(v->q == 0);
	assert_true(o.regressions >= 1);
	one_release(&o);
}

static void calls_off_ignores_call_growth(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 5, 10);
	o.b.thresholds.calls_pct = -1;
	o.sb.f[10].extra_calls = 50;
	one_run(&o, 10, 6);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[10].id, 0);
	assert_int_equal(v->metric, PG_METRIC_SELF);
	assert_int_not_equal(v->kind, PG_VERDICT_REGRESSED);
	one_release(&o);
}

static void improvement_is_reported_and_never_fails(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 9, 10);
	o.sb.f[1].factor = 0.5;
	one_run(&o, 10, 10);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[1].id, 0);
	assert_int_equal(v->kind, PG_VERDICT_IMPROVED);
	assert_true(v->change_pct < -40 && v->change_pct > -60);
	assert_int_equal(count_kind(&o.v, PG_VERDICT_REGRESSED), 0);
	assert_int_equal(o.regressions, 0);
	one_release(&o);
}

static void function_below_min_share_is_not_judged(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 11, 10);
	o.b.thresholds.min_share_pct = 5;
	o.sb.f[12].factor = 1.5; /* ~1.9% of the benchmark -> ~2.8% */
	one_run(&o, 10, 12);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[12].id, 0);
	assert_int_equal(v->kind, PG_VERDICT_NOT_JUDGED);
	assert_false(pg_verdict_judged(v));
	assert_true(v->share_pct > 1 && v->share_pct < 5);
	/* Still measured for the report. */
	assert_true(v->change_pct > 30);
	assert_true(isnan(v->q));
	assert_int_equal(o.regressions, 0);
	one_release(&o);
}

static void ignored_function_is_not_judged(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 13, 10);
	pg_strvec_push(&o.b.ignore, "app/mod2.py:*");
	o.sb.f[2].factor = 3; /* app/mod2.py:func2 */
	one_run(&o, 10, 14);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[2].id, 0);
	assert_int_equal(v->kind, PG_VERDICT_NOT_JUDGED);
	one_release(&o);
}

static void new_and_gone_functions_are_reported_not_failed(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 15, 10);
	o.sb.f[3].head_only = true;
	o.sb.f[4].base_only = true;
	one_run(&o, 10, 16);
	assert_int_equal(sim_find(&o.v, o.sb.f[3].id, 0)->kind, PG_VERDICT_NEW);
	assert_int_equal(sim_find(&o.v, o.sb.f[4].id, 0)->kind,
			 PG_VERDICT_GONE);
	for (size_t i = 0; i < o.v.n; i++)
		if (o.v.v[i].func_id)
			assert_int_not_equal(o.v.v[i].kind,
					     PG_VERDICT_REGRESSED);
	one_release(&o);
}

static void tiny_function_is_judged_on_inclusive_time(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 17, 10);
	o.sb.f[5].flags = PG_FUNC_TINY;
	one_run(&o, 10, 18);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[5].id, 0);
	assert_int_equal(v->metric, PG_METRIC_INCL);
	assert_true(pg_verdict_judged(v));
	one_release(&o);
}

/*
 * A tiny function that calls others is not judged on inclusive time: its
 * callee's slowdown would be blamed on it (issue 8: a caller whose self
 * time compensation had zeroed was named for its slowed callee).
 */
static void tiny_caller_is_not_blamed_for_its_callee(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 17, 10);
	o.sb.f[5].flags = PG_FUNC_TINY;
	o.sb.f[5].factor = 1.5;
	memset(&o.c, 0, sizeof(o.c));
	struct sim_rng rng = {18};
	struct pg_bench_result *sides[2] = {&o.c.base, &o.c.head};
	for (int k = 0; k < 2; k++) {
		pg_profile_init(&sides[k]->profile);
		sim_side(&o.sb, k == 1, 10, &rng, sides[k]);
		struct pg_profile *p = &sides[k]->profile;
		struct pg_edge e = {.caller = pg_profile_find(p, o.sb.f[5].id),
				    .callee = pg_profile_find(p, o.sb.f[6].id),
				    .calls = 10,
				    .pcalls = 10};
		pg_profile_add_edge(p, &e);
	}
	pg_stats_judge(&o.b, &o.c.base, &o.c.head, &o.v);
	o.regressions = pg_stats_finish(&o.v, 0.01);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[5].id, 0);
	assert_int_equal(v->kind, PG_VERDICT_NOT_JUDGED);
	one_release(&o);
}

/* Fresh profiles of trials trials on both sides of o, not judged. */
static void both_sides(struct one *o, size_t trials, struct sim_rng *rng)
{
	memset(&o->c, 0, sizeof(o->c));
	pg_profile_init(&o->c.base.profile);
	pg_profile_init(&o->c.head.profile);
	sim_side(&o->sb, false, trials, rng, &o->c.base);
	sim_side(&o->sb, true, trials, rng, &o->c.head);
}

static void total_and_wall_time_are_judged(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 19, 10);
	for (size_t i = 0; i < o.sb.nf; i++)
		o.sb.f[i].factor =
		    1.3; /* everything slower: only totals see it */
	struct sim_rng rng = {20};
	both_sides(&o, 10, &rng);
	double wb[10], wh[10];
	for (int i = 0; i < 10; i++) {
		wb[i] = 1.0 + 0.01 * i;
		wh[i] = 1.5 + 0.01 * i;
	}
	o.c.base.has_wall = o.c.head.has_wall = true;
	o.c.base.wall.times_s = wb;
	o.c.base.wall.ntimes = 10;
	o.c.head.wall.times_s = wh;
	o.c.head.wall.ntimes = 10;
	pg_stats_judge(&o.b, &o.c.base, &o.c.head, &o.v);
	o.regressions = pg_stats_finish(&o.v, 0.01);
	const struct pg_verdict *t = sim_find(&o.v, NULL, PG_METRIC_TOTAL);
	const struct pg_verdict *w = sim_find(&o.v, NULL, PG_METRIC_WALL);
	assert_non_null(t);
	assert_non_null(w);
	assert_int_equal(t->kind, PG_VERDICT_REGRESSED);
	assert_int_equal(w->kind, PG_VERDICT_REGRESSED);
	assert_true(w->change_pct > 45 && w->change_pct < 55);
	assert_true(fabs(w->base_value - 1.045e9) < 1e3);
	/* A uniform change this small, agreed on by many reference
	 * functions, is what a slower machine looks like: totals see it. */
	for (size_t i = 0; i < o.v.n; i++)
		if (o.v.v[i].func_id)
			assert_int_not_equal(o.v.v[i].kind,
					     PG_VERDICT_REGRESSED);
	o.c.base.wall.times_s = o.c.head.wall.times_s = NULL;
	one_release(&o);
}

/*
 * Wall times of 12 rounds whose machine speed wanders by +-30%, felt by
 * both sides of a round alike, head `factor` times base: the kind of
 * the wall verdict when the sides ran in the same rounds (session tags
 * equal, paired) and when they did not.
 */
static enum pg_verdict_kind wall_kind(double factor, bool paired,
				      double *change)
{
	struct one o;
	one_init(&o, 23, 10);
	struct sim_rng rng = {24};
	both_sides(&o, 12, &rng);
	double wb[12], wh[12];
	for (int i = 0; i < 12; i++) {
		double round = exp(0.3 * sim_normal(&rng));
		wb[i] = round * exp(0.01 * sim_normal(&rng));
		wh[i] = round * factor * exp(0.01 * sim_normal(&rng));
	}
	o.c.base.has_wall = o.c.head.has_wall = true;
	o.c.base.wall.times_s = wb;
	o.c.head.wall.times_s = wh;
	o.c.base.wall.ntimes = o.c.head.wall.ntimes = 12;
	o.c.base.session = 7;
	o.c.head.session = paired ? 7 : 0;
	pg_stats_judge(&o.b, &o.c.base, &o.c.head, &o.v);
	pg_stats_finish(&o.v, 0.01);
	const struct pg_verdict *w = sim_find(&o.v, NULL, PG_METRIC_WALL);
	assert_non_null(w);
	enum pg_verdict_kind k = w->kind;
	*change = w->change_pct;
	o.c.base.wall.times_s = o.c.head.wall.times_s = NULL;
	one_release(&o);
	return k;
}

/* What a round did to both sides leaves a comparison of the same rounds:
 * an 8% slowdown in a 30% wander is named, identical sides are not; as
 * two independent samples the slowdown drowns. */
static void sides_of_the_same_rounds_are_compared_round_by_round(void **state)
{
	(void)state;
	double change;
	assert_int_equal(wall_kind(1.08, true, &change), PG_VERDICT_REGRESSED);
	assert_true(change > 6 && change < 10);
	assert_int_equal(wall_kind(1.0, true, &change), PG_VERDICT_UNCHANGED);
	assert_true(fabs(change) < 2);
	assert_int_not_equal(wall_kind(1.08, false, &change),
			     PG_VERDICT_REGRESSED);
}

/* Judge a hand-made benchmark of nf functions (Zipf shares), 10 trials. */
static void few_run(struct one *o, size_t nf, double machine_sd, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	struct sim_rng rng = {seed};
	sim_bench_init(&o->sb, nf, 50e6, machine_sd, 0.02, 0.04, &rng);
	sim_pg_bench(&o->b, "bench", 10);
}

static void uniform_change_beyond_a_machine_shift_is_named(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 19, 10);
	for (size_t i = 0; i < o.sb.nf; i++)
		o.sb.f[i].factor = 1.6;
	one_run(&o, 10, 20);
	size_t named = 0;
	for (size_t i = 0; i < o.v.n; i++)
		named +=
		    o.v.v[i].func_id && o.v.v[i].kind == PG_VERDICT_REGRESSED;
	/* Never divided away as "the machine": most functions named. */
	assert_true(named > 10);
	one_release(&o);
}

/*
 * Issue 8, case 1: one function dominating a benchmark of one or two
 * functions doubles. Its change is estimated at full size and the
 * unchanged function beside it is not "improved".
 */
static void dominant_function_of_few_keeps_its_full_change(void **state)
{
	(void)state;
	for (size_t nf = 1; nf <= 3; nf++) {
		for (uint64_t seed = 1; seed <= 5; seed++) {
			struct one o;
			few_run(&o, nf, 0.05, seed);
			o.sb.f[0].factor = 2.0;
			one_run(&o, 10, seed * 31);
			const struct pg_verdict *v =
			    sim_find(&o.v, o.sb.f[0].id, 0);
			assert_int_equal(v->kind, PG_VERDICT_REGRESSED);
			assert_true(v->change_pct > 80 && v->change_pct < 120);
			for (size_t i = 1; i < nf; i++) {
				const struct pg_verdict *w =
				    sim_find(&o.v, o.sb.f[i].id, 0);
				/* At most unclear (the sides' machine noise
				 * is in raw times), never a verdict. */
				assert_true(w->kind == PG_VERDICT_UNCHANGED ||
					    w->kind == PG_VERDICT_UNCLEAR);
				assert_true(fabs(w->change_pct) < 15);
			}
			one_release(&o);
		}
	}
}

/*
 * Issue 8, case 2: a change of a few ns per call is below the hook's
 * resolution (half the calibrated event cost per event of a call) and is
 * never attributed, however significant; the same relative change of a
 * slow function is.
 */
static void change_below_the_per_call_resolution_is_not_named(void **state)
{
	(void)state;
	struct one o;
	few_run(&o, 3, 0.02, 7);
	/* func1: ~8 ms in 200k calls = 40 ns per call, +12% = 5 ns. */
	o.sb.f[1].calls = 200000;
	o.sb.f[1].factor = 1.12;
	o.sb.f[2].factor = 1.3; /* ~5.5 ms in 174 calls: µs per call */
	one_run(&o, 10, 8);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[1].id, 0);
	assert_true(v->resolution_pct > 12);
	assert_int_not_equal(v->kind, PG_VERDICT_REGRESSED);
	const struct pg_verdict *w = sim_find(&o.v, o.sb.f[2].id, 0);
	assert_true(w->resolution_pct < 1);
	assert_int_equal(w->kind, PG_VERDICT_REGRESSED);
	one_release(&o);
}

/*
 * Simulate o's benchmark (10 trials a side, seed) with function `caller`
 * calling functions first..last: each trial's callee time is added to the
 * caller's inclusive time and to an edge, as the hook reports them; then
 * judge and finish.
 */
static void judge_with_callees(struct one *o, uint64_t seed, size_t caller,
			       size_t first, size_t last)
{
	struct sim_rng rng = {seed};
	memset(&o->c, 0, sizeof(o->c));
	struct pg_bench_result *side[2] = {&o->c.base, &o->c.head};
	for (int h = 0; h < 2; h++) {
		struct pg_profile *p = &side[h]->profile;
		pg_profile_init(p);
		sim_side(&o->sb, h, 10, &rng, side[h]);
		uint32_t f = pg_profile_find(p, o->sb.f[caller].id);
		for (size_t t = 0; t < p->ntrials; t++)
			for (size_t i = first; i <= last; i++) {
				uint32_t g = pg_profile_find(p, o->sb.f[i].id);
				struct pg_sample *x = &p->trials[t].samples[g];
				p->trials[t].samples[f].incl_ns += x->incl_ns;
				pg_profile_add_edge(
				    p,
				    &(struct pg_edge){.caller = f,
						      .callee = g,
						      .calls = x->calls,
						      .pcalls = x->calls,
						      .self_ns = x->self_ns,
						      .incl_ns = x->incl_ns});
			}
	}
	pg_stats_judge(&o->b, &o->c.base, &o->c.head, &o->v);
	pg_stats_finish(&o->v, o->b.thresholds.fdr);
}

/*
 * Issue 8: a caller's self time picks up part of its callee's change (a
 * longer callee leaves it colder). func1 (~13.6 ms) calls func0 (~27 ms
 * in 2,000 calls per trial); func0 gets 3x slower (+54 ms, 27 us per
 * call). func1 reading 2.7 ms slower (+20%, 1.35 us per call of func0) is
 * within the callee's shadow (10% of its change, 5.4 ms, at most 10 us
 * per call) and not attributed to it; its own +13.6 ms (+100%) is.
 */
static bool caller_named(double caller_factor)
{
	struct one o;
	few_run(&o, 3, 0.02, 11);
	o.sb.f[0].factor = 3;
	o.sb.f[0].calls = 2000;
	o.sb.f[1].factor = caller_factor;
	judge_with_callees(&o, 12, 1, 0, 0);
	const struct pg_verdict *callee = sim_find(&o.v, o.sb.f[0].id, 0);
	const struct pg_verdict *caller = sim_find(&o.v, o.sb.f[1].id, 0);
	assert_int_equal(callee->kind, PG_VERDICT_REGRESSED);
	bool named = caller->kind == PG_VERDICT_REGRESSED;
	one_release(&o);
	return named;
}

static void caller_change_within_its_callees_shadow_is_not_named(void **state)
{
	(void)state;
	assert_false(caller_named(1.2));
	assert_true(caller_named(2.0));
}

/*
 * A dispatcher (func0, 2 ms of its own) calls ten callees (~33 ms under
 * it) whose times moved both ways between the sides (+20%, -17%, ...,
 * as run-to-run noise does). Their shadows are signed and mostly cancel,
 * so the dispatcher's own +25% is named; summed as sizes they came to a
 * third of its time and hid it.
 */
static void callees_moving_both_ways_cast_opposite_shadows(void **state)
{
	(void)state;
	struct one o;
	few_run(&o, 11, 0.02, 31);
	o.sb.f[0].self_ns = 2e6;
	o.sb.f[0].factor = 1.25;
	for (size_t i = 1; i <= 10; i++)
		o.sb.f[i].factor = i % 2 ? 1.2 : 1 / 1.2;
	judge_with_callees(&o, 32, 0, 1, 10);
	const struct pg_verdict *v = sim_find(&o.v, o.sb.f[0].id, 0);
	assert_true(v->resolution_pct < 15);
	assert_int_equal(v->kind, PG_VERDICT_REGRESSED);
	one_release(&o);
}

static void min_trials_follow_fdr_and_the_number_of_totals(void **state)
{
	(void)state;
	/* 1/C(8,4) = 1/70 > 0.005; 1/C(10,5) = 1/252 <= 0.005. */
	assert_int_equal(pg_stats_min_trials(0.01, 1, false), 5);
	/* 4 totals: 4/252 > 0.005, 4/924 <= 0.005. */
	assert_int_equal(pg_stats_min_trials(0.01, 4, false), 6);
	assert_int_equal(pg_stats_min_trials(0.05, 1, false), 4);
	assert_int_equal(pg_stats_min_trials(0, 1, false), 0);
	/* rounds: 1/128 > 0.005, 1/256 <= 0.005; 4/512 > 0.005, 4/1024 */
	assert_int_equal(pg_stats_min_trials(0.01, 1, true), 8);
	assert_int_equal(pg_stats_min_trials(0.01, 4, true), 10);
	assert_int_equal(pg_stats_min_trials(0.05, 1, true), 6);
	assert_close(pg_stats_smallest_p(4, false), 1.0 / 70, 1e-12, 0, "p", 0);
	assert_close(pg_stats_smallest_p(8, true), 1.0 / 256, 1e-15, 0, "p", 1);
	assert_close(pg_stats_smallest_p(0, true), 1, 0, 0, "p", 2);
}

static void empty_side_appends_nothing(void **state)
{
	(void)state;
	struct one o;
	one_init(&o, 21, 10);
	memset(&o.c, 0, sizeof(o.c));
	pg_profile_init(&o.c.base.profile);
	pg_profile_init(&o.c.head.profile);
	struct sim_rng rng = {22};
	sim_side(&o.sb, false, 5, &rng, &o.c.base);
	pg_stats_judge(&o.b, &o.c.base, &o.c.head, &o.v);
	assert_int_equal(o.v.n, 0);
	one_release(&o);
}

static struct pg_verdict fake(const char *bench, const char *id, double p,
			      double change)
{
	struct pg_verdict v;
	memset(&v, 0, sizeof(v));
	v.bench = bench;
	v.func_id = id;
	v.metric = PG_METRIC_SELF;
	v.kind = PG_VERDICT_UNCHANGED;
	v.p = p;
	v.p_faster = 1 - p;
	v.change_pct = change;
	v.ci_lo_pct = change - 5;
	v.ci_hi_pct = change + 5;
	v.threshold_pct = 10;
	return v;
}

static void fdr_is_controlled_across_benchmarks(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	struct pg_verdict v = fake("a", "m.py:f", 0.004, 20);
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	/* Alone, p = 0.004 passes fdr 0.01. */
	assert_int_equal(pg_stats_finish(&vs, 0.01), 1);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_REGRESSED);
	/* With 9 unremarkable functions of another benchmark it does not:
	 * q = 0.04, still suggestive, so unclear. */
	for (int i = 0; i < 9; i++) {
		v = fake("b", "m.py:g", 0.5, 0);
		PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	}
	assert_int_equal(pg_stats_finish(&vs, 0.01), 0);
	assert_close(vs.v[0].q, 0.04, 1e-12, 0, "q", 0);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	assert_true(pg_stats_bench_unclear(&vs, "a"));
	assert_false(pg_stats_bench_unclear(&vs, "b"));
	/* Calls regressions and unjudged verdicts are not in the family. */
	v = fake("b", "m.py:h", 0, 0);
	v.metric = PG_METRIC_CALLS;
	v.kind = PG_VERDICT_REGRESSED;
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	v = fake("b", "m.py:i", 1e-9, 50);
	v.kind = PG_VERDICT_NOT_JUDGED;
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	assert_int_equal(pg_stats_finish(&vs, 0.01), 1);
	assert_close(vs.v[0].q, 0.04, 1e-12, 0, "q", 0);
	assert_int_equal(vs.v[11].kind, PG_VERDICT_NOT_JUDGED);
	/* Finishing again gives the same answer. */
	assert_int_equal(pg_stats_finish(&vs, 0.01), 1);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	pg_verdicts_release(&vs);
}

static void an_unclear_improvement_gets_extra_rounds_too(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	/* Faster with p = 0.004: q_faster 0.04 among ten, suggestive. */
	struct pg_verdict v = fake("a", "m.py:f", 0.996, -20);
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	for (int i = 0; i < 9; i++) {
		v = fake("b", "m.py:g", 0.5, 0);
		PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	}
	assert_int_equal(pg_stats_finish(&vs, 0.01), 0);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	assert_true(pg_stats_bench_unclear(&vs, "a"));
	assert_false(pg_stats_bench_unclear_slower(&vs, "a"));
	/* Alone it is significant: improved. */
	vs.n = 1;
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_IMPROVED);
	pg_verdicts_release(&vs);
}

static void an_early_total_decision_needs_a_stricter_q(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	/* A total slower at p = 0.001: regressed at fdr 0.01 (its family's
	 * level 0.005), but not below the early bound 0.005 * 0.02. */
	struct pg_verdict v = fake("a", NULL, 0.001, 20);
	v.metric = PG_METRIC_TOTAL;
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	assert_int_equal(pg_stats_finish(&vs, 0.01), 1);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_REGRESSED);
	assert_false(pg_stats_bench_unclear(&vs, "a"));
	assert_true(pg_stats_bench_needs_rounds(&vs, "a", 0.01));
	/* ... nor faster at the same p: improved, and more rounds too. */
	vs.v[0].p = 0.999;
	vs.v[0].p_faster = 0.001;
	vs.v[0].change_pct = -20;
	vs.v[0].ci_lo_pct = -25;
	vs.v[0].ci_hi_pct = -15;
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_IMPROVED);
	assert_true(pg_stats_bench_needs_rounds(&vs, "a", 0.01));
	/* At p = 1e-5 the total is decided at once. */
	vs.v[0].p = 1e-5;
	vs.v[0].p_faster = 1 - 1e-5;
	vs.v[0].change_pct = 20;
	vs.v[0].ci_lo_pct = 15;
	vs.v[0].ci_hi_pct = 25;
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_REGRESSED);
	assert_false(pg_stats_bench_needs_rounds(&vs, "a", 0.01));
	/* A function's regression is not held to it (no inflation seen). */
	v = fake("b", "m.py:f", 0.001, 20);
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[1].kind, PG_VERDICT_REGRESSED);
	assert_false(pg_stats_bench_needs_rounds(&vs, "b", 0.01));
	pg_verdicts_release(&vs);
}

static void data_that_lean_neither_way_are_unchanged(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	/* A profile compared with itself: estimate 0, p = p_faster = 0.5,
	 * an interval wider than the threshold both ways (few samples). */
	for (int i = 0; i < 5; i++) {
		struct pg_verdict v = fake("a", "m.py:f", 0.5, 0);
		v.ci_lo_pct = -17;
		v.ci_hi_pct = 21;
		PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	}
	assert_int_equal(pg_stats_finish(&vs, 0.05), 0);
	for (size_t i = 0; i < vs.n; i++)
		assert_int_equal(vs.v[i].kind, PG_VERDICT_UNCHANGED);
	assert_false(pg_stats_bench_unclear(&vs, "a"));
	/* Leaning towards slower (p 0.3, +4%): suggestive, unclear. */
	vs.v[0].p = 0.3;
	vs.v[0].p_faster = 0.7;
	vs.v[0].change_pct = 4;
	pg_stats_finish(&vs, 0.05);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	/* q 0.5 with an estimate below 0 suggests no slowdown, and with
	 * q_faster 0.7 no improvement either. */
	vs.v[0].change_pct = -1;
	pg_stats_finish(&vs, 0.05);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCHANGED);
	pg_verdicts_release(&vs);
}

static void an_estimate_above_the_threshold_is_never_unchanged(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	/* +6.6% [-28%, +34%] against a 5% threshold among fourteen judged
	 * functions: q far above any bound, but nothing says "unchanged". */
	struct pg_verdict v = fake("a", "m.py:f", 0.25, 6.6);
	v.ci_lo_pct = -28;
	v.ci_hi_pct = 34;
	v.threshold_pct = 5;
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	for (int i = 0; i < 13; i++) {
		v = fake("a", "m.py:g", 0.6, -1);
		PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	}
	assert_int_equal(pg_stats_finish(&vs, 0.01), 0);
	assert_true(vs.v[0].q > 0.5);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	assert_true(pg_stats_bench_unclear_slower(&vs, "a"));
	/* The same estimate below the threshold, q as high: unchanged. */
	vs.v[0].change_pct = 4;
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCHANGED);
	pg_verdicts_release(&vs);
}

static void significant_change_below_threshold_is_not_a_regression(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	struct pg_verdict v = fake("a", "m.py:f", 1e-6, 3);
	v.ci_lo_pct = 2;
	v.ci_hi_pct = 4;
	PG_VEC_PUSH(vs.v, vs.n, vs.cap, v);
	assert_int_equal(pg_stats_finish(&vs, 0.01), 0);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCHANGED);
	/* Its interval reaching above the threshold: unclear. */
	vs.v[0].ci_hi_pct = 12;
	pg_stats_finish(&vs, 0.01);
	assert_int_equal(vs.v[0].kind, PG_VERDICT_UNCLEAR);
	pg_verdicts_release(&vs);
}

static void verdict_line_reads_like_the_spec(void **state)
{
	(void)state;
	struct pg_verdict v =
	    fake("render", "myapp/render.py:Template.render", 3e-5, 12.4);
	v.ci_lo_pct = 9.8;
	v.ci_hi_pct = 15.1;
	v.q = 0.01;
	v.base_value = 3.1e6;
	v.head_value = 3.5e6;
	v.base_calls = v.head_calls = 400;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_verdict_format(&v, &b);
	assert_string_equal(
	    b.data, "Template.render self time +12.4% [+9.8%, +15.1%], "
		    "p=3e-05 (q=0.01), 3.1 ms → 3.5 ms, calls 400 → 400");

	pg_buf_reset(&b);
	v.func_id = NULL;
	v.metric = PG_METRIC_TOTAL;
	v.change_pct = -2;
	v.ci_lo_pct = -3.25;
	v.ci_hi_pct = 0.5;
	v.p = 0.9;
	v.q = NAN;
	v.base_value = 999.7;
	v.head_value = 1.5e9;
	pg_verdict_format(&v, &b);
	assert_string_equal(b.data, "render total -2.0% [-3.2%, +0.5%], p=0.9, "
				    "1 µs → 1.5 s");

	pg_buf_reset(&b);
	v = fake("render", "<builtin>:len", 0, 1);
	v.metric = PG_METRIC_CALLS;
	v.base_calls = 400;
	v.head_calls = 500;
	v.base_value = 12;
	v.head_value = 15.5e3;
	pg_verdict_format(&v, &b);
	assert_string_equal(b.data,
			    "len calls 400 → 500 (+25.0%), self time +1.0% "
			    "[-4.0%, +6.0%], 12 ns → 15.5 µs");
	pg_buf_release(&b);
}

/*
 * One predicate says which verdicts were judged, for the statistics and
 * for every report: a calls regression is judged (exact counts) but
 * stays out of the false-discovery set; a time verdict without p-values
 * is not judged.
 */
static void judged_means_decided_on_evidence(void **state)
{
	(void)state;
	struct pg_verdicts vs = {0};
	struct pg_verdict base = {
	    .bench = "b",
	    .func_id = "m.py:f",
	    .metric = PG_METRIC_SELF,
	    .kind = PG_VERDICT_UNCHANGED,
	    .p = 0.004,
	    .p_faster = 0.99,
	    .q = NAN,
	    .q_faster = NAN,
	    .change_pct = 30,
	    .ci_lo_pct = 20,
	    .ci_hi_pct = 40,
	    .threshold_pct = 10,
	};
	struct pg_verdict calls = base, untested = base;
	calls.metric = PG_METRIC_CALLS;
	calls.kind = PG_VERDICT_REGRESSED;
	calls.p = calls.q = 0;
	calls.p_faster = NAN;
	untested.func_id = "m.py:g";
	untested.p = untested.p_faster = NAN;
	struct pg_verdict all[] = {base, calls, untested};
	vs.v = all;
	vs.n = vs.cap = 3;

	assert_true(pg_verdict_judged(&all[0]));
	assert_true(pg_verdict_judged(&all[1]));
	assert_false(pg_verdict_judged(&all[2]));
	size_t regressions = pg_stats_finish(&vs, 0.01);
	/* Only the time verdict was tested: BH over one p-value is p. */
	assert_true(fabs(all[0].q - 0.004) < 1e-12);
	assert_int_equal(all[0].kind, PG_VERDICT_REGRESSED);
	assert_int_equal(all[1].kind, PG_VERDICT_REGRESSED);
	assert_true(all[1].q == 0);
	assert_true(isnan(all[2].q));
	assert_int_equal(regressions, 2);
	assert_true(pg_verdict_judged(&all[1]));
}

static void names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(pg_metric_name(PG_METRIC_SELF), "self time");
	assert_string_equal(pg_metric_name(PG_METRIC_INCL), "inclusive time");
	assert_string_equal(pg_metric_name(PG_METRIC_CALLS), "calls");
	assert_string_equal(pg_metric_name(PG_METRIC_TOTAL), "total");
	assert_string_equal(pg_metric_name(PG_METRIC_WALL), "wall time");
	assert_string_equal(pg_verdict_kind_name(PG_VERDICT_REGRESSED),
			    "regressed");
	assert_string_equal(pg_verdict_kind_name(PG_VERDICT_NOT_JUDGED),
			    "not judged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(summaries_match_numpy),
	    cmocka_unit_test(summaries_of_nothing_are_nan),
	    cmocka_unit_test(median_interval_uses_binomial_ranks),
	    cmocka_unit_test(mann_whitney_matches_scipy),
	    cmocka_unit_test(exact_mann_whitney_counts_arrangements),
	    cmocka_unit_test(mann_whitney_of_empty_sample_is_nan),
	    cmocka_unit_test(hodges_lehmann_matches_reference),
	    cmocka_unit_test(signed_rank_matches_enumeration),
	    cmocka_unit_test(signed_rank_edges_and_ties),
	    cmocka_unit_test(paired_hodges_lehmann_uses_walsh_averages),
	    cmocka_unit_test(bh_matches_reference),
	    cmocka_unit_test(normal_distribution_matches_scipy),
	    cmocka_unit_test(identical_code_rarely_fails),
	    cmocka_unit_test(threefold_slowdown_is_named_alone),
	    cmocka_unit_test(
		function_faster_per_call_than_an_event_is_judged_on_calls),
	    cmocka_unit_test(dominant_function_slowdown_is_not_diluted),
	    cmocka_unit_test(one_extra_call_is_a_regression_without_statistics),
	    cmocka_unit_test(calls_off_ignores_call_growth),
	    cmocka_unit_test(improvement_is_reported_and_never_fails),
	    cmocka_unit_test(function_below_min_share_is_not_judged),
	    cmocka_unit_test(ignored_function_is_not_judged),
	    cmocka_unit_test(new_and_gone_functions_are_reported_not_failed),
	    cmocka_unit_test(tiny_function_is_judged_on_inclusive_time),
	    cmocka_unit_test(tiny_caller_is_not_blamed_for_its_callee),
	    cmocka_unit_test(total_and_wall_time_are_judged),
	    cmocka_unit_test(
		sides_of_the_same_rounds_are_compared_round_by_round),
	    cmocka_unit_test(uniform_change_beyond_a_machine_shift_is_named),
	    cmocka_unit_test(dominant_function_of_few_keeps_its_full_change),
	    cmocka_unit_test(change_below_the_per_call_resolution_is_not_named),
	    cmocka_unit_test(
		caller_change_within_its_callees_shadow_is_not_named),
	    cmocka_unit_test(callees_moving_both_ways_cast_opposite_shadows),
	    cmocka_unit_test(min_trials_follow_fdr_and_the_number_of_totals),
	    cmocka_unit_test(empty_side_appends_nothing),
	    cmocka_unit_test(fdr_is_controlled_across_benchmarks),
	    cmocka_unit_test(an_unclear_improvement_gets_extra_rounds_too),
	    cmocka_unit_test(an_early_total_decision_needs_a_stricter_q),
	    cmocka_unit_test(data_that_lean_neither_way_are_unchanged),
	    cmocka_unit_test(
		an_estimate_above_the_threshold_is_never_unchanged),
	    cmocka_unit_test(
		significant_change_below_threshold_is_not_a_regression),
	    cmocka_unit_test(verdict_line_reads_like_the_spec),
	    cmocka_unit_test(judged_means_decided_on_evidence),
	    cmocka_unit_test(names_are_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
