/*
 * analysis_test.c - unit tests of the analysis module: change points on
 * generated histories (tests/analysis/histories.h, seeded, so the counts
 * asserted here are deterministic), the median's interval, and the values
 * a history point is made of.
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

#include "perfguard/analysis.h"

#include "../analysis/histories.h"

/* ---- change points --------------------------------------------------- */

static void constant_series_has_no_change_point(void **state)
{
	(void)state;
	double x[20];
	for (size_t i = 0; i < 20; i++)
		x[i] = 5;
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	struct pg_change_point *cp = NULL;
	size_t n = 99;
	assert_int_equal(pg_analysis_change_points(x, 20, &o, &cp, &n), 0);
	assert_int_equal(n, 0);
	assert_null(cp);
	assert_int_equal(pg_analysis_change_points(x, 1, &o, &cp, &n), 0);
	assert_int_equal(n, 0);
}

static void clear_step_is_found_with_its_size(void **state)
{
	(void)state;
	double x[16];
	for (size_t i = 0; i < 16; i++)
		x[i] = (i < 9 ? 100 : 110) + (double)(i % 3) * 0.1;
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	struct pg_change_point *cp = NULL;
	size_t n = 0;
	assert_int_equal(pg_analysis_change_points(x, 16, &o, &cp, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cp[0].index, 9);
	assert_true(fabs(cp[0].change_pct - 10) < 0.3);
	assert_true(cp[0].p <= o.alpha);
	assert_true(cp[0].before < cp[0].after);
	free(cp);
}

static void non_finite_values_and_bad_options_are_rejected(void **state)
{
	(void)state;
	double x[4] = {1, 2, NAN, 4};
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	struct pg_change_point *cp = NULL;
	size_t n = 0;
	assert_int_equal(pg_analysis_change_points(x, 4, &o, &cp, &n),
			 PG_EINVALID);
	x[2] = 3;
	o.alpha = 1;
	assert_int_equal(pg_analysis_change_points(x, 4, &o, &cp, &n),
			 PG_EINVALID);
	o.alpha = 0.01;
	o.min_size = 0;
	assert_int_equal(pg_analysis_change_points(x, 4, &o, &cp, &n),
			 PG_EINVALID);
}

/* How many of `runs` generated histories come out right. */
static size_t right_histories(struct history_model *m, uint64_t seed,
			      size_t runs, bool random_steps)
{
	struct sim_rng rng = {seed};
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	double x[64];
	size_t right = 0;
	for (size_t r = 0; r < runs; r++) {
		if (random_steps) {
			/* one step of 5-8%, up or down, with at least five
			 * commits on either side (fewer: see
			 * benches/changepoints for the power near the ends) */
			m->nsteps = 1;
			m->step_at[0] = 5 + (size_t)(sim_uniform(&rng) * 21);
			double size = 1.05 + 0.03 * sim_uniform(&rng);
			m->step_factor[0] =
			    sim_uniform(&rng) < 0.5 ? size : 1 / size;
		}
		history_generate(m, &rng, x);
		struct pg_change_point *cp = NULL;
		size_t n = 0;
		assert_int_equal(
		    pg_analysis_change_points(x, m->commits, &o, &cp, &n), 0);
		bool ok = n == m->nsteps;
		for (size_t s = 0; ok && s < m->nsteps; s++)
			ok = cp[s].index == m->step_at[s];
		right += ok;
		free(cp);
	}
	return right;
}

static void steps_of_5_percent_are_found_at_their_commit(void **state)
{
	(void)state;
	struct history_model m;
	history_model_default(&m);
	size_t right = right_histories(&m, 42, 10, true);
	print_message("right commit in %zu/10 histories\n", right);
	assert_true(right >= 9);
}

static void two_steps_are_both_found(void **state)
{
	(void)state;
	struct history_model m;
	history_model_default(&m);
	m.nsteps = 2;
	m.step_at[0] = 9;
	m.step_factor[0] = 1.06;
	m.step_at[1] = 21;
	m.step_factor[1] = 0.95;
	size_t right = right_histories(&m, 7, 10, false);
	print_message("both commits in %zu/10 histories\n", right);
	assert_true(right >= 9);
}

static void identical_code_has_no_change_points(void **state)
{
	(void)state;
	struct history_model m;
	history_model_default(&m);
	size_t right = right_histories(&m, 1234, 10, false);
	print_message("no change point in %zu/10 histories\n", right);
	assert_true(right >= 9);
}

static void same_seed_same_result(void **state)
{
	(void)state;
	struct history_model m;
	history_model_default(&m);
	m.nsteps = 1;
	m.step_at[0] = 15;
	m.step_factor[0] = 1.03;
	struct sim_rng rng = {99};
	double x[30];
	history_generate(&m, &rng, x);
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	struct pg_change_point *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	assert_int_equal(pg_analysis_change_points(x, 30, &o, &a, &na), 0);
	assert_int_equal(pg_analysis_change_points(x, 30, &o, &b, &nb), 0);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].index, b[i].index);
		assert_true(a[i].p == b[i].p);
	}
	free(a);
	free(b);
}

/* ---- history points -------------------------------------------------- */

static void trial_values_are_totals_or_self_times(void **state)
{
	(void)state;
	struct pg_results r;
	pg_results_init(&r);
	struct pg_bench_result *b = pg_results_add_bench(&r, "b");
	uint32_t f = pg_profile_intern(&b->profile, "a.py:f", "a.py", 3, 0);
	for (int t = 0; t < 3; t++) {
		size_t i = pg_profile_add_trial(&b->profile);
		b->profile.trials[i].total_ns = 100 + t;
		b->profile.trials[i].samples[f].self_ns = 10 + t;
	}
	double *v = NULL;
	size_t n = 0;
	assert_int_equal(pg_analysis_trial_values(b, NULL, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_true(v[0] == 100 && v[2] == 102);
	free(v);
	assert_int_equal(pg_analysis_trial_values(b, "a.py:f", &v, &n), 0);
	assert_true(v[1] == 11);
	free(v);
	assert_int_equal(pg_analysis_trial_values(b, "nope", &v, &n),
			 PG_ENOTFOUND);
	assert_null(v);
	pg_results_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(constant_series_has_no_change_point),
	    cmocka_unit_test(clear_step_is_found_with_its_size),
	    cmocka_unit_test(non_finite_values_and_bad_options_are_rejected),
	    cmocka_unit_test(steps_of_5_percent_are_found_at_their_commit),
	    cmocka_unit_test(two_steps_are_both_found),
	    cmocka_unit_test(identical_code_has_no_change_points),
	    cmocka_unit_test(same_seed_same_result),
	    cmocka_unit_test(trial_values_are_totals_or_self_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
