/*
 * sim.h - synthetic profiles for testing and measuring the verdict rules.
 *
 * A simulated benchmark has functions with given self times (their shares
 * of the benchmark) and call counts. Each trial multiplies every function
 * by one machine factor (lognormal, the whole-trial effect: frequency,
 * cache, scheduling) and each function by its own lognormal noise. Base
 * and head trials are drawn independently, as interleaved rounds are.
 * Head may scale a function's time or add calls. Deterministic given the
 * seed (splitmix64 + Box-Muller), so tests using it cannot flake.
 *
 * Header-only (static functions) so that tests/unit/stats_test.c and
 * tests/stats/simulate.c share it without a library of their own.
 */
#ifndef PG_STATS_SIM_H
#define PG_STATS_SIM_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perfguard/profile.h"
#include "perfguard/verdict.h"
#include "perfguard/suite.h"

struct sim_rng {
	uint64_t s;
};

static inline uint64_t sim_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double sim_uniform(struct sim_rng *r)
{
	return ((double)(sim_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static inline double sim_normal(struct sim_rng *r)
{
	double u = sim_uniform(r), v = sim_uniform(r);
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

#define SIM_MAX_FUNCS 64

struct sim_func {
	char id[64];
	double self_ns;	     /* typical self time per trial on base */
	double noise;	     /* sd of the function's own log noise */
	uint64_t calls;	     /* per trial on base */
	double factor;	     /* head's time multiplier */
	int64_t extra_calls; /* head's extra calls per trial */
	unsigned flags;
	bool base_only, head_only;
};

struct sim_bench {
	struct sim_func f[SIM_MAX_FUNCS];
	size_t nf;
	double machine_sd; /* sd of the per-trial log machine factor */
	/* sd of a log factor per round that both sides feel alike (the
	 * machine's load over a round), drawn from round_seed */
	double round_sd;
	uint64_t round_seed;
};

/*
 * nf functions with Zipf-like shares (1/(i+1)), total about total_ns,
 * per-function noise drawn uniformly from [noise_lo, noise_hi].
 */
static inline void sim_bench_init(struct sim_bench *sb, size_t nf,
				  double total_ns, double machine_sd,
				  double noise_lo, double noise_hi,
				  struct sim_rng *r)
{
	memset(sb, 0, sizeof(*sb));
	double h = 0;
	for (size_t i = 0; i < nf; i++)
		h += 1.0 / (double)(i + 1);
	for (size_t i = 0; i < nf; i++) {
		struct sim_func *f = &sb->f[i];
		snprintf(f->id, sizeof(f->id), "app/mod%zu.py:func%zu", i % 5,
			 i);
		f->self_ns = total_ns / (double)(i + 1) / h;
		f->noise = noise_lo + (noise_hi - noise_lo) * sim_uniform(r);
		f->calls = 100 + 37 * i;
		f->factor = 1;
	}
	sb->nf = nf;
	sb->machine_sd = machine_sd;
}

/* Fill r->profile with `trials` trials of base (head = false) or head. */
static inline void sim_side(const struct sim_bench *sb, bool head,
			    size_t trials, struct sim_rng *rng,
			    struct pg_bench_result *r)
{
	struct pg_profile *p = &r->profile;
	uint32_t idx[SIM_MAX_FUNCS];
	for (size_t i = 0; i < sb->nf; i++) {
		const struct sim_func *f = &sb->f[i];
		idx[i] = PG_NO_FUNC;
		if ((head && f->base_only) || (!head && f->head_only))
			continue;
		idx[i] = pg_profile_intern(p, f->id, "app/mod.py",
					   (int)(10 + i), f->flags);
	}
	struct sim_rng rounds = {sb->round_seed};
	for (size_t t = 0; t < trials; t++) {
		size_t tr = pg_profile_add_trial(p);
		double machine = exp(sb->machine_sd * sim_normal(rng) +
				     sb->round_sd * sim_normal(&rounds));
		int64_t total = 0;
		for (size_t i = 0; i < sb->nf; i++) {
			const struct sim_func *f = &sb->f[i];
			if (idx[i] == PG_NO_FUNC)
				continue;
			struct pg_sample *s = &p->trials[tr].samples[idx[i]];
			double x = f->self_ns * machine *
				   exp(f->noise * sim_normal(rng));
			if (head)
				x *= f->factor;
			s->self_ns = (int64_t)llround(x);
			s->incl_ns = s->self_ns + 1000;
			s->calls = f->calls;
			if (head)
				s->calls = (uint64_t)((int64_t)s->calls +
						      f->extra_calls);
			s->pcalls = s->calls;
			total += s->self_ns;
		}
		p->trials[tr].total_ns = total;
		p->trials[tr].wall_ns = total;
	}
	r->rounds = (int)trials;
}

/* A benchmark definition with default thresholds and track ["*"]. */
static inline void sim_pg_bench(struct pg_bench *b, const char *name,
				double function_pct)
{
	memset(b, 0, sizeof(*b));
	b->name = (char *)name;
	b->thresholds.function_pct = function_pct;
	b->thresholds.total_pct = 5;
	b->thresholds.min_share_pct = 1;
	b->thresholds.calls_pct = 0;
	b->thresholds.fdr = 0.01;
	pg_strvec_push(&b->track, "*");
}

static inline void sim_pg_bench_release(struct pg_bench *b)
{
	pg_strvec_release(&b->track);
	pg_strvec_release(&b->ignore);
}

/* Base and head results of one simulated check (own the profiles). */
struct sim_check {
	struct pg_bench_result base, head;
};

/*
 * Simulate and judge one benchmark of a check; verdicts are appended to
 * out and borrow ids from c, so release c only after reading them.
 */
static inline void sim_judge(struct sim_check *c, const struct sim_bench *sb,
			     const struct pg_bench *b, size_t trials,
			     struct sim_rng *rng, struct pg_verdicts *out)
{
	memset(c, 0, sizeof(*c));
	pg_profile_init(&c->base.profile);
	pg_profile_init(&c->head.profile);
	sim_side(sb, false, trials, rng, &c->base);
	sim_side(sb, true, trials, rng, &c->head);
	c->base.session = c->head.session = 1; /* as check: same rounds */
	pg_stats_judge(b, &c->base, &c->head, out);
}

/*
 * Judge again using only the first n trials of each side (as if the
 * check had stopped after n rounds).
 */
static inline void sim_judge_prefix(struct sim_check *c,
				    const struct pg_bench *b, size_t n,
				    struct pg_verdicts *out)
{
	size_t nb = c->base.profile.ntrials, nh = c->head.profile.ntrials;
	c->base.profile.ntrials = n < nb ? n : nb;
	c->head.profile.ntrials = n < nh ? n : nh;
	pg_stats_judge(b, &c->base, &c->head, out);
	c->base.profile.ntrials = nb;
	c->head.profile.ntrials = nh;
}

static inline void sim_check_release(struct sim_check *c)
{
	pg_profile_release(&c->base.profile);
	pg_profile_release(&c->head.profile);
}

/* The verdict of function id (or the total when id is NULL), or NULL. */
static inline const struct pg_verdict *
sim_find(const struct pg_verdicts *v, const char *id, enum pg_metric m)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct pg_verdict *x = &v->v[i];
		if (id ? (x->func_id && strcmp(x->func_id, id) == 0)
		       : (!x->func_id && x->metric == m))
			return x;
	}
	return NULL;
}

#endif
