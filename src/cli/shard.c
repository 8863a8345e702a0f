/*
 * shard.c - `--shard K/N`: one part of the suite per CI runner.
 *
 * The selected benchmarks are split into N shards balanced by expected
 * duration: each benchmark's mean trial time in an earlier results set
 * (the stored baseline the command has at hand), the mean of the known
 * ones for a benchmark that set lacks, and equal weights without one.
 * Longest first, each goes to the least-loaded shard (ties: the lower
 * shard; equal weights: suite order), so every runner computes the same
 * partition from the same inputs. The shard records what it was split
 * from, so `perfguard merge` can prove that every benchmark was measured
 * exactly once, whatever each runner saw.
 *
 * Deliberately not done: timing runners against each other or moving
 * work between them at run time; the CI system schedules the shards.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_shard(const char *arg, struct pg_shard *out)
{
	char *end = NULL;
	long k = strtol(arg, &end, 10);
	long n = 0;
	if (end != arg && *end == '/') {
		const char *rest = end + 1;
		n = strtol(rest, &end, 10);
		if (end == rest)
			n = 0;
	}
	if (!end || *end || k < 1 || n < 1 || n > PG_SHARD_MAX || k > n)
		return pg_error_set(PG_EUSAGE,
				    "--shard takes K/N with 1 <= K <= N <= %d "
				    "(e.g. 2/3), not '%s'",
				    PG_SHARD_MAX, arg);
	out->index = (int)k;
	out->count = (int)n;
	return 0;
}

/* Mean measured time of one trial of b, or -1 when unknown. */
static double mean_trial_ns(const struct pg_bench_result *b)
{
	const struct pg_profile *p = &b->profile;
	if (b->status != PG_BENCH_OK || p->ntrials == 0)
		return -1;
	double sum = 0;
	for (size_t i = 0; i < p->ntrials; i++)
		sum += (double)p->trials[i].wall_ns;
	return sum / (double)p->ntrials;
}

struct weighted {
	size_t pos; /* index in the selection */
	double weight;
};

static int heavier_first(const void *a, const void *b)
{
	const struct weighted *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

void cli_shard_select(struct cli_selection *sel, struct pg_shard *shard,
		      const struct pg_results *hint)
{
	size_t n = sel->n;
	struct weighted *w = pg_calloc(n ? n : 1, sizeof(*w));
	double known_sum = 0;
	size_t known = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pg_bench_result *b =
		    hint ? pg_results_find(hint, sel->benches[i]->name) : NULL;
		w[i].pos = i;
		w[i].weight = b ? mean_trial_ns(b) : -1;
		if (w[i].weight >= 0) {
			known_sum += w[i].weight;
			known++;
		}
	}
	double fill = known ? known_sum / (double)known : 1.0;
	for (size_t i = 0; i < n; i++)
		if (w[i].weight < 0)
			w[i].weight = fill;
	qsort(w, n, sizeof(*w), heavier_first);

	double *load = pg_calloc((size_t)shard->count, sizeof(*load));
	bool *mine = pg_calloc(n ? n : 1, sizeof(*mine));
	for (size_t i = 0; i < n; i++) {
		int best = 0;
		for (int s = 1; s < shard->count; s++)
			if (load[s] < load[best])
				best = s;
		load[best] += w[i].weight;
		mine[w[i].pos] = best + 1 == shard->index;
	}

	pg_strvec_release(&shard->of);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		pg_strvec_push(&shard->of, sel->benches[i]->name);
		if (mine[i])
			sel->benches[kept++] = sel->benches[i];
	}
	sel->n = kept;
	free(mine);
	free(load);
	free(w);
}

void cli_shard_copy(struct pg_shard *dst, const struct pg_shard *src)
{
	pg_strvec_release(&dst->of);
	dst->index = src->index;
	dst->count = src->count;
	for (size_t i = 0; i < src->of.n; i++)
		pg_strvec_push(&dst->of, src->of.v[i]);
}

/* How far back along first parents a run looks for a stored baseline. */
#define HINT_DEPTH 20

void cli_shard_select_here(const struct cli_common *c,
			   const struct pg_suite *suite, const char *root,
			   struct cli_selection *sel, struct pg_shard *shard)
{
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	struct pg_results hint;
	pg_results_init(&hint);
	bool found = false;
	if (pg_git_open(root, &repo) == 0 &&
	    cli_open_store(suite, repo, root, &store) == 0) {
		for (int i = 0; i < HINT_DEPTH && !found; i++) {
			char rev[32], oid[41];
			snprintf(rev, sizeof(rev), "HEAD~%d", i);
			if (pg_git_resolve(repo, rev, oid) < 0)
				break;
			found = pg_store_load(store, oid, &hint) == 0;
		}
	}
	pg_error_clear();
	size_t all = sel->n;
	cli_shard_select(sel, shard, found ? &hint : NULL);
	cli_note(c, "shard %d/%d: %zu of %zu benchmarks%s", shard->index,
		 shard->count, sel->n, all,
		 found ? "" : " (no stored baseline: split evenly)");
	pg_results_release(&hint);
	pg_store_close(store);
	if (repo)
		pg_git_close(repo);
}
