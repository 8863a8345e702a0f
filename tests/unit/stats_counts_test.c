/*
 * stats_counts_test.c - unit tests of how production windows are judged:
 * Student's t against closed forms and table values, the quasi-binomial
 * test of sample counts (src/stats/counts.c) on hand-computed cases, and
 * the verdicts on simulated deploys (seeded, so deterministic): a
 * function made 20% slower is named alone, and identical deploys name
 * nothing, with windows that vary more than binomial sampling explains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perfguard/stats.h"
#include "perfguard/verdict.h"

#include "../stats/sim.h"

static void assert_near(double got, double want, double rel, const char *what)
{
	if (!(fabs(got - want) <= rel * fabs(want))) {
		print_error("%s: got %.17g, want %.17g\n", what, got, want);
		fail();
	}
}

static void t_distribution_matches_closed_forms_and_tables(void **state)
{
	(void)state;
	/* df 1 (Cauchy): 1/2 - atan(t)/pi; df 2: 1/2 - t / (2 sqrt(2+t^2)) */
	for (double t = -4; t <= 4; t += 0.75) {
		assert_near(pg_stats_t_sf(t, 1), 0.5 - atan(t) / M_PI, 1e-12,
			    "df 1");
		assert_near(pg_stats_t_sf(t, 2),
			    0.5 - t / (2 * sqrt(2 + t * t)), 1e-12, "df 2");
	}
	/* two-sided 5% and 1% points of the usual tables */
	assert_near(pg_stats_t_ppf(0.975, 10), 2.228138851986274, 1e-10,
		    "t.975,10");
	assert_near(pg_stats_t_ppf(0.975, 18), 2.100922040241037, 1e-10,
		    "t.975,18");
	assert_near(pg_stats_t_ppf(0.995, 5), 4.032142983555215, 1e-10,
		    "t.995,5");
	assert_near(pg_stats_t_ppf(0.95, 1), 6.313751514675043, 1e-10,
		    "t.95,1");
	assert_near(pg_stats_t_ppf(0.025, 2), -4.302652729749464, 1e-10,
		    "t.025,2");
	/* the normal as df grows, and far tails without cancellation */
	assert_near(pg_stats_t_sf(2, INFINITY), pg_stats_norm_cdf(-2), 1e-12,
		    "df inf");
	assert_near(pg_stats_t_sf(2, 1e7), pg_stats_norm_cdf(-2), 1e-5,
		    "df 1e7");
	double far = pg_stats_t_sf(10, 18);
	assert_true(far > 4e-9 && far < 5e-9);
	assert_true(isnan(pg_stats_t_sf(1, 0)));
	assert_true(isnan(pg_stats_t_ppf(1.5, 3)));
}

/* n windows of `size` samples, `k[i]` of them the function's. */
static void fill(double *k, double *n, size_t w, const double *counts,
		 double size)
{
	for (size_t i = 0; i < w; i++) {
		k[i] = counts[i % 2];
		n[i] = size;
	}
}

static void odds_test_pools_counts_and_floors_dispersion(void **state)
{
	(void)state;
	double kb[10], nb[10], kh[10], nh[10];
	struct pg_odds_test r;
	const double c100[] = {100, 100}, c120[] = {120, 120},
		     c80_120[] = {80, 120};
	fill(kb, nb, 10, c100, 1000);
	fill(kh, nh, 10, c120, 1000);
	/*
	 * Windows exactly at their pooled share: dispersion ~0, taken as 1
	 * (binomial). Shares (K + 1/2) / (N + 1), log odds ratio 0.2047,
	 * se 0.04536, t = 4.513 on 18 degrees of freedom (computed by hand
	 * from the formulas in docs/statistics.md).
	 */
	pg_stats_odds_test(kb, nb, 10, kh, nh, 10, 0.95, &r);
	assert_true(r.dispersion < 0.001);
	assert_true(r.df == 18);
	assert_near(r.log_odds, 0.20470985493425475, 1e-12, "log odds");
	assert_near(r.p, 0.0001345511958796468, 1e-6, "p");
	assert_true(r.p_lower > 0.999);
	assert_near(r.share_base, 0.1, 1e-12, "share");
	assert_near(r.share_head, 0.12, 1e-12, "share");
	/* Base's windows alternate 80/120: Pearson over 18 df = 2.468. */
	fill(kb, nb, 10, c80_120, 1000);
	pg_stats_odds_test(kb, nb, 10, kh, nh, 10, 0.95, &r);
	assert_near(r.dispersion, 2.4682757953947636, 1e-9, "dispersion");
	assert_near(r.p, 0.00506302622917273, 1e-6, "p with dispersion");
	assert_near(r.lo, 0.05499358288756573, 1e-6, "interval");
	assert_true(r.lo < r.log_odds && r.log_odds < r.hi);
	/* The same counts both ways: no change either way. */
	pg_stats_odds_test(kb, nb, 10, kb, nb, 10, 0.95, &r);
	assert_true(r.log_odds == 0 && r.p == 0.5 && r.p_lower == 0.5);
	/* A function never sampled on one side stays finite. */
	double zero[10] = {0};
	pg_stats_odds_test(zero, nb, 10, kh, nh, 10, 0.95, &r);
	assert_true(isfinite(r.log_odds) && r.p < 1e-3);
	/* Too few windows: no dispersion estimate, no test. */
	pg_stats_odds_test(kb, nb, 1, kh, nh, 1, 0.95, &r);
	assert_true(isnan(r.p) && isnan(r.log_odds) && r.df == 0);
	/* Empty windows are left out. */
	nb[3] = 0;
	pg_stats_odds_test(kb, nb, 10, kh, nh, 10, 0.95, &r);
	assert_true(r.df == 17);
}

/* ---- simulated deploys ------------------------------------------------ */

/* Shares of the demo service's functions (benches/production, measured):
 * price_items first. */
static const double deploy_shares[] = {0.31,  0.29,  0.153, 0.049, 0.037,
				       0.026, 0.02,  0.019, 0.014, 0.013,
				       0.013, 0.011, 0.045};
#define NSHARES (sizeof(deploy_shares) / sizeof(deploy_shares[0]))

/*
 * One side of a deploy: `windows` windows of `samples` samples, each
 * function's weight jittered per window by exp(tau * N(0,1)) (the extra
 * variance between windows), function 0's time times factor. Stored as
 * cli_production_shares leaves windows: odds in ns per second of the
 * rest, the window's samples as events.
 */
static void deploy_side(double factor, size_t windows, int samples, double tau,
			struct sim_rng *rng, struct pg_bench_result *r)
{
	struct pg_profile *p = &r->profile;
	uint32_t idx[NSHARES];
	for (size_t i = 0; i < NSHARES; i++) {
		char id[32];
		snprintf(id, sizeof(id), "shop.py:f%zu", i);
		idx[i] = pg_profile_intern(p, id, "shop.py", (int)i + 1, 0);
	}
	snprintf(p->mechanism, sizeof(p->mechanism), "sampler");
	for (size_t t = 0; t < windows; t++) {
		double w[NSHARES], cum = 0, k[NSHARES] = {0};
		for (size_t i = 0; i < NSHARES; i++) {
			w[i] = deploy_shares[i] * exp(tau * sim_normal(rng)) *
			       (i == 0 ? factor : 1);
			cum += w[i];
		}
		for (int s = 0; s < samples; s++) {
			double u = sim_uniform(rng) * cum;
			size_t i = 0;
			while (i + 1 < NSHARES && u >= w[i])
				u -= w[i++];
			k[i]++;
		}
		size_t tr = pg_profile_add_trial(p);
		p->trials[tr].events = (uint64_t)samples;
		p->trials[tr].total_ns = 1000000000;
		for (size_t i = 0; i < NSHARES; i++) {
			struct pg_sample *x = &p->trials[tr].samples[idx[i]];
			x->self_ns = (int64_t)(1e9 * k[i] / (samples - k[i]));
			x->incl_ns = x->self_ns;
		}
	}
	r->rounds = (int)windows;
}

/* Compare two simulated deploys; how many functions are named regressed,
 * and whether function 0 is one of them. */
static size_t judge_deploys(double factor, uint64_t seed, int samples,
			    double tau, bool *first_named)
{
	struct sim_rng rng = {seed};
	struct pg_bench_result base, head;
	memset(&base, 0, sizeof(base));
	memset(&head, 0, sizeof(head));
	pg_profile_init(&base.profile);
	pg_profile_init(&head.profile);
	deploy_side(1.0, 10, samples, tau, &rng, &base);
	deploy_side(factor, 10, samples, tau, &rng, &head);
	struct pg_bench b;
	sim_pg_bench(&b, "shop", 10);
	struct pg_verdicts v = {0};
	pg_stats_judge(&b, &base, &head, &v);
	size_t named = pg_stats_finish(&v, b.thresholds.fdr);
	*first_named = false;
	for (size_t i = 0; i < v.n; i++)
		if (v.v[i].kind == PG_VERDICT_REGRESSED && v.v[i].func_id &&
		    !strcmp(v.v[i].func_id, "shop.py:f0"))
			*first_named = true;
	pg_verdicts_release(&v);
	sim_pg_bench_release(&b);
	pg_profile_release(&base.profile);
	pg_profile_release(&head.profile);
	return named;
}

/*
 * tau 0.035 at 2,000 samples per window makes price_items' windows vary
 * 1.5x as much as sampling (dispersion 1 + n s (1-s) tau^2), as the
 * second session measured under load.
 */
static void deploy_a_fifth_slower_is_named_alone(void **state)
{
	(void)state;
	size_t alone = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		bool hit;
		size_t named = judge_deploys(1.2, seed, 2000, 0.035, &hit);
		alone += hit && named == 1;
	}
	assert_true(alone >= 19);
}

static void identical_deploys_name_nothing(void **state)
{
	(void)state;
	for (uint64_t seed = 100; seed < 140; seed++) {
		bool hit;
		assert_int_equal(judge_deploys(1.0, seed, 2000, 0.035, &hit),
				 0);
		/* and windows four times as uneven */
		assert_int_equal(judge_deploys(1.0, seed, 2000, 0.07, &hit), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_distribution_matches_closed_forms_and_tables),
	    cmocka_unit_test(odds_test_pools_counts_and_floors_dispersion),
	    cmocka_unit_test(deploy_a_fifth_slower_is_named_alone),
	    cmocka_unit_test(identical_deploys_name_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
