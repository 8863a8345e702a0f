/*
 * histories.h - generated performance histories for testing change-point
 * detection: one value per commit, the median of `trials` trials, as
 * `perfguard history` plots them.
 *
 * Noise model (what a shared CI runner shows): every commit's run gets a
 * machine factor (lognormal, sd commit_noise: another runner, another
 * day), every trial its own lognormal noise (sd trial_noise), and a trial
 * is an outlier (x1.2-x1.6: a noisy neighbour) with probability
 * outlier_rate. Steps multiply every commit from their index on.
 * Deterministic given the seed (sim.h's splitmix64 + Box-Muller).
 */
#ifndef PG_ANALYSIS_HISTORIES_H
#define PG_ANALYSIS_HISTORIES_H

#include "../stats/sim.h"

struct history_model {
	size_t commits, trials;
	double base_ns;
	double commit_noise, trial_noise, outlier_rate;
	size_t nsteps;
	size_t step_at[4];     /* index of the first commit after a step */
	double step_factor[4]; /* e.g. 1.05 */
};

/* The realistic noise used by the tests and benches/changepoints. */
static inline void history_model_default(struct history_model *m)
{
	memset(m, 0, sizeof(*m));
	m->commits = 30;
	m->trials = 10;
	m->base_ns = 20e6;
	m->commit_noise = 0.005;
	m->trial_noise = 0.03;
	m->outlier_rate = 0.05;
}

static inline int history_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Fill out[0..m->commits) with one generated history. */
static inline void history_generate(const struct history_model *m,
				    struct sim_rng *rng, double *out)
{
	double trial[64];
	size_t nt = m->trials < 64 ? m->trials : 64;
	for (size_t c = 0; c < m->commits; c++) {
		double level = m->base_ns;
		for (size_t s = 0; s < m->nsteps; s++)
			if (c >= m->step_at[s])
				level *= m->step_factor[s];
		level *= exp(m->commit_noise * sim_normal(rng));
		for (size_t t = 0; t < nt; t++) {
			double v =
			    level * exp(m->trial_noise * sim_normal(rng));
			if (sim_uniform(rng) < m->outlier_rate)
				v *= 1.2 + 0.4 * sim_uniform(rng);
			trial[t] = v;
		}
		qsort(trial, nt, sizeof(double), history_cmp);
		out[c] = nt % 2 ? trial[nt / 2]
				: (trial[nt / 2 - 1] + trial[nt / 2]) / 2;
	}
}

#endif
