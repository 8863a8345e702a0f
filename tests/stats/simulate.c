/*
 * simulate.c - measure the verdict rules on synthetic checks: false alarms
 * on identical code (A/A) and the power to find a slowdown, for the
 * figures in docs/statistics.md. Not part of the test suite (it prints);
 * build it against the dev build's libraries by hand:
 *
 *   L=build/src; cc -std=gnu11 -O2 -Iinclude tests/stats/simulate.c \
 *      $L/verdict/libpg_verdict.a $L/results/libpg_results.a \
 *      $L/profile/libpg_profile.a \
 *      $L/suite/libpg_suite.a $L/stats/libpg_stats.a \
 *      $L/util/libpg_util.a -lyaml -lm -o /tmp/pg-simulate &&
 *   /tmp/pg-simulate 100
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

struct outcome {
	size_t checks_failed;	 /* checks with any regression */
	size_t func_regressions; /* function verdicts REGRESSED */
	size_t total_regressions;
	size_t unclear_checks; /* checks ending with an unclear verdict */
	size_t target_found;   /* checks naming the target function */
	size_t others_named;   /* checks naming another function */
	size_t judged;	       /* judged function verdicts */
	double rounds;	       /* mean rounds per benchmark */
};

struct scenario {
	size_t nbench, start, max; /* rounds: start, then +5 while unclear */
	double machine_sd, noise_lo, noise_hi;
	int target; /* function of benchmark 0 made slower, or -1 */
	double factor, function_pct;
	double round_sd;  /* load per round, felt by both sides alike */
	double slow_all;  /* every function of benchmark 0 this slower */
	bool two_samples; /* totals as two samples, not round by round */
};

static struct outcome run(const struct scenario *sc, size_t checks,
			  uint64_t seed)
{
	struct outcome o = {0};
	struct sim_rng rng = {seed};
	struct pg_bench b;
	sim_pg_bench(&b, "bench", sc->function_pct);
	struct sim_bench *sb = calloc(sc->nbench, sizeof(*sb));
	struct sim_check *c = calloc(sc->nbench, sizeof(*c));
	size_t *n = calloc(sc->nbench, sizeof(*n));
	for (size_t k = 0; k < checks; k++) {
		struct pg_verdicts v = {0};
		for (size_t j = 0; j < sc->nbench; j++) {
			sim_bench_init(&sb[j], 30, 50e6, sc->machine_sd,
				       sc->noise_lo, sc->noise_hi, &rng);
			if (j == 0 && sc->target >= 0)
				sb[j].f[sc->target].factor = sc->factor;
			for (size_t i = 0;
			     j == 0 && sc->slow_all > 0 && i < sb[j].nf; i++)
				sb[j].f[i].factor = sc->slow_all;
			sb[j].round_sd = sc->round_sd;
			sb[j].round_seed = sim_next(&rng);
			sim_judge(&c[j], &sb[j], &b, sc->max, &rng, &v);
			if (sc->two_samples)
				c[j].base.session = c[j].head.session = 0;
			n[j] = sc->start;
		}
		size_t regs;
		for (;;) {
			pg_verdicts_release(&v);
			for (size_t j = 0; j < sc->nbench; j++)
				sim_judge_prefix(&c[j], &b, n[j], &v);
			regs = pg_stats_finish(&v, b.thresholds.fdr);
			/* The cli adds rounds to unclear benchmarks. */
			bool more = false;
			/* Verdicts are appended bench by bench, each bench
			 * ending with its TOTAL verdict. */
			size_t j = 0;
			bool unclear = false;
			for (size_t i = 0; i < v.n; i++) {
				unclear |= pg_verdict_needs_rounds(
				    &v.v[i], b.thresholds.fdr);
				if (!v.v[i].func_id &&
				    v.v[i].metric == PG_METRIC_TOTAL) {
					if (unclear && n[j] < sc->max) {
						n[j] += 5;
						more = true;
					}
					unclear = false;
					j++;
				}
			}
			if (!more)
				break;
		}
		bool found = false, other = false, unclear = false;
		for (size_t i = 0; i < v.n; i++) {
			const struct pg_verdict *x = &v.v[i];
			o.judged += x->func_id && pg_verdict_judged(x);
			unclear |= x->kind == PG_VERDICT_UNCLEAR;
			if (x->kind != PG_VERDICT_REGRESSED)
				continue;
			if (!x->func_id) {
				o.total_regressions++;
				continue;
			}
			o.func_regressions++;
			/* Bench 0 is judged first: sim_find meets it first. */
			if (sc->target >= 0 &&
			    x == sim_find(&v, sb[0].f[sc->target].id,
					  PG_METRIC_SELF))
				found = true;
			else
				other = true;
		}
		o.checks_failed += regs > 0;
		o.unclear_checks += unclear;
		o.target_found += found;
		o.others_named += other;
		for (size_t j = 0; j < sc->nbench; j++) {
			o.rounds += (double)n[j];
			sim_check_release(&c[j]);
		}
		pg_verdicts_release(&v);
	}
	o.rounds /= (double)(checks * sc->nbench);
	free(sb);
	free(c);
	free(n);
	sim_pg_bench_release(&b);
	return o;
}

static void report(const char *what, struct scenario sc, size_t checks,
		   uint64_t seed)
{
	static const size_t plans[][2] = {
	    {10, 10}, {20, 20}, {30, 30}, {10, 30}};
	printf("%s\n", what);
	for (size_t i = 0; i < 4; i++) {
		sc.start = plans[i][0];
		sc.max = plans[i][1];
		struct outcome o = run(&sc, checks, seed);
		printf("  rounds %2zu..%2zu (mean %4.1f): failed checks %3zu, "
		       "target named %3zu, other functions named in %zu, "
		       "totals regressed %zu, unclear at the end %zu\n",
		       sc.start, sc.max, o.rounds, o.checks_failed,
		       o.target_found, o.others_named, o.total_regressions,
		       o.unclear_checks);
	}
}

int main(int argc, char **argv)
{
	size_t checks = argc > 1 ? (size_t)atol(argv[1]) : 200;
	printf("%zu checks of 4 benchmarks x 30 functions (Zipf shares), "
	       "fdr 0.01, min_share 1%%\n",
	       checks);
	struct scenario aa = {4, 0, 0, 0.15, 0.03, 0.08, -1, 1, 10};
	report("A/A, machine sd 15%, function noise 3-8%, threshold 10%", aa,
	       checks, 1);
	struct scenario aa2 = {4, 0, 0, 0.20, 0.08, 0.08, -1, 1, 5};
	report("A/A, machine sd 20%, function noise 8%, threshold 5%", aa2,
	       checks, 2);
	struct scenario s1 = {4, 0, 0, 0.15, 0.03, 0.08, 4, 1.10, 5};
	report("+10% on a 5%-share function, noise 3-8%, threshold 5%", s1,
	       checks, 3);
	struct scenario s2 = {4, 0, 0, 0.15, 0.08, 0.08, 4, 1.10, 5};
	report("+10% on a 5%-share function, noise 8%, threshold 5%", s2,
	       checks, 4);
	struct scenario s3 = {4, 0, 0, 0.15, 0.03, 0.08, 4, 1.10, 10};
	report("+10% on a 5%-share function, noise 3-8%, threshold 10%", s3,
	       checks, 5);
	struct scenario s4 = {4, 0, 0, 0.15, 0.03, 0.08, 4, 1.20, 10};
	report("+20% on a 5%-share function, noise 3-8%, threshold 10%", s4,
	       checks, 6);
	struct scenario s5 = {4, 0, 0, 0.15, 0.03, 0.08, 0, 1.15, 10};
	report("+15% on the dominant (25%-share) function, threshold 10%", s5,
	       checks, 7);
	struct scenario s6 = {1, 0, 0, 0.15, 0.03, 0.08, 4, 1.10, 5};
	report("one benchmark per check: +10% on a 5%-share function, noise "
	       "3-8%, threshold 5%",
	       s6, checks, 8);
	/* What the totals' round-by-round comparison is for: load that a
	 * round's two trials share (machine sd 5% per trial on top). */
	for (int two = 0; two < 2; two++) {
		const char *how = two ? "two samples" : "round by round";
		char what[160];
		struct scenario r1 = {4,  0, 0,	 0.05, 0.03, 0.08,
				      -1, 1, 10, 0.20, 0,    two};
		snprintf(what, sizeof(what),
			 "A/A, load per round sd 20%%, totals %s", how);
		report(what, r1, checks, 9);
		struct scenario r2 = {4,  0, 0,	 0.05, 0.03, 0.08,
				      -1, 1, 10, 0.20, 1.08, two};
		snprintf(what, sizeof(what),
			 "benchmark 0 +8%% throughout, load per round sd 20%%, "
			 "totals %s",
			 how);
		report(what, r2, checks, 10);
	}
	return 0;
}
