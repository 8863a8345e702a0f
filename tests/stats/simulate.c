/*
 * simulate.c - measure the verdict rules on synthetic checks: false alarms
 * on identical code (A/A) and the power to find a slowdown, for the
 * figures in docs/statistics.md. Not part of the test suite (it prints);
 * build it against pg_core by hand:
 *
 *   ninja -C build-stats pg_core
 *   cc -std=gnu11 -O2 -Iinclude tests/stats/simulate.c \
 *      build-stats/src/libpg_core.a $(pkg-config --libs libgit2 yaml-0.1 \
 *      libxml-2.0) -lm -o /tmp/pg-simulate && /tmp/pg-simulate
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
			sim_judge(&c[j], &sb[j], &b, sc->max, &rng, &v);
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
				unclear |= v.v[i].kind == PG_VERDICT_UNCLEAR;
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
	return 0;
}
