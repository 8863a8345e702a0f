/*
 * changepoints.c - how well `perfguard history` finds steps: detection
 * rate, location accuracy and false positives of pg_analysis_change_points
 * on generated histories (tests/analysis/histories.h, the noise model the
 * unit tests use), and its speed on long series.
 *
 *   changepoints [RUNS]     (default 1000 histories per case)
 *
 * Deterministic (seeded); prints one line per case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "perfguard/analysis.h"

#include "../../tests/analysis/histories.h"

enum layout { NONE, ONE_INTERIOR, ONE_ANYWHERE, BUMP };

static void run_case(const char *name, enum layout layout, double commit_noise,
		     size_t runs)
{
	struct history_model m;
	history_model_default(&m);
	m.commit_noise = commit_noise;
	struct sim_rng rng = {2024};
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	double x[64];
	size_t right = 0, none = 0, extra = 0, off_by_one = 0;
	for (size_t r = 0; r < runs; r++) {
		m.nsteps = 0;
		if (layout == ONE_INTERIOR || layout == ONE_ANYWHERE) {
			m.nsteps = 1;
			m.step_at[0] =
			    layout == ONE_INTERIOR
				? 5 + (size_t)(sim_uniform(&rng) * 21)
				: 1 + (size_t)(sim_uniform(&rng) * 29);
			double size = 1.05 + 0.03 * sim_uniform(&rng);
			m.step_factor[0] =
			    sim_uniform(&rng) < 0.5 ? size : 1 / size;
		} else if (layout == BUMP) {
			m.nsteps = 2;
			m.step_at[0] = 9;
			m.step_factor[0] = 1.06;
			m.step_at[1] = 21;
			m.step_factor[1] = 0.95;
		}
		history_generate(&m, &rng, x);
		struct pg_change_point *cp = NULL;
		size_t n = 0;
		if (pg_analysis_change_points(x, m.commits, &o, &cp, &n))
			abort();
		bool ok = n == m.nsteps;
		for (size_t s = 0; ok && s < m.nsteps; s++)
			ok = cp[s].index == m.step_at[s];
		right += ok;
		none += n == 0;
		extra += n > m.nsteps;
		for (size_t i = 0; i < n; i++)
			for (size_t s = 0; s < m.nsteps; s++)
				off_by_one += cp[i].index + 1 == m.step_at[s] ||
					      cp[i].index == m.step_at[s] + 1;
		free(cp);
	}
	printf("%-44s noise %.1f%%/commit: right %5.1f%%  none %5.1f%%  "
	       "too many %4.1f%%  off by one %4.1f%%\n",
	       name, commit_noise * 100, 100.0 * right / runs,
	       100.0 * none / runs, 100.0 * extra / runs,
	       100.0 * off_by_one / runs);
}

static void run_speed(size_t commits)
{
	struct history_model m;
	history_model_default(&m);
	m.commits = commits;
	m.nsteps = 4;
	for (size_t s = 0; s < 4; s++) {
		m.step_at[s] = commits * (s + 1) / 5;
		m.step_factor[s] = 1.05;
	}
	struct sim_rng rng = {7};
	double *x = malloc(commits * sizeof(*x));
	history_generate(&m, &rng, x);
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct pg_change_point *cp = NULL;
	size_t n = 0;
	if (pg_analysis_change_points(x, commits, &o, &cp, &n))
		abort();
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%zu commits, 4 steps of 5%%: %zu found in %.3f s\n", commits, n,
	       (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	free(cp);
	free(x);
}

int main(int argc, char **argv)
{
	size_t runs = argc > 1 ? (size_t)atol(argv[1]) : 1000;
	printf("30 commits, median of 10 trials (3%% trial noise, 5%% "
	       "outlier trials); %zu histories per case\n",
	       runs);
	for (int k = 0; k < 2; k++) {
		double noise = k ? 0.01 : 0.005;
		run_case("no change (identical code)", NONE, noise, runs);
		run_case("one 5-8% step, >= 5 commits each side", ONE_INTERIOR,
			 noise, runs);
		run_case("one 5-8% step anywhere", ONE_ANYWHERE, noise, runs);
		run_case("+6% at 9, -5% at 21", BUMP, noise, runs);
	}
	run_speed(100);
	run_speed(500);
	return 0;
}
