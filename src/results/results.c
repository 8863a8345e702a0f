/*
 * results.c - results sets (one profile per benchmark plus where it was
 * measured) and the environment fingerprint.
 *
 * Invariant: a results set owns every string and profile it holds;
 * benchmark names are unique when added through pg_results_add_bench by a
 * caller that checks pg_results_find first (the JSON reader does).
 * Serialisation is results_json.c's job, keeping sets the store's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "perfguard/results.h"

void pg_results_init(struct pg_results *r)
{
	memset(r, 0, sizeof(*r));
	r->schema = 1;
}

static void bench_release(struct pg_bench_result *b)
{
	free(b->name);
	free(b->error);
	free(b->output);
	pg_profile_release(&b->profile);
	free(b->wall.times_s);
}

void pg_results_release(struct pg_results *r)
{
	for (size_t i = 0; i < r->nbenches; i++)
		bench_release(&r->benches[i]);
	free(r->benches);
	free(r->commit);
	free(r->created);
	free(r->clock);
	pg_fingerprint_release(&r->fp);
	pg_strvec_release(&r->shard.of);
	pg_strvec_release(&r->windows);
	pg_results_init(r);
}

bool pg_results_move_bench(struct pg_results *dst, struct pg_results *src,
			   const char *name)
{
	const struct pg_bench_result *b = pg_results_find(src, name);
	if (!b)
		return false;
	size_t i = (size_t)(b - src->benches);
	pg_grow((void **)&dst->benches, &dst->benches_cap, dst->nbenches + 1,
		sizeof(*dst->benches));
	dst->benches[dst->nbenches++] = src->benches[i];
	memmove(src->benches + i, src->benches + i + 1,
		(src->nbenches - i - 1) * sizeof(*src->benches));
	src->nbenches--;
	return true;
}

struct pg_bench_result *pg_results_add_bench(struct pg_results *r,
					     const char *name)
{
	pg_grow((void **)&r->benches, &r->benches_cap, r->nbenches + 1,
		sizeof(*r->benches));
	struct pg_bench_result *b = &r->benches[r->nbenches++];
	memset(b, 0, sizeof(*b));
	b->name = pg_strdup(name);
	b->status = PG_BENCH_OK;
	pg_profile_init(&b->profile);
	return b;
}

bool pg_bench_results_paired(const struct pg_bench_result *a,
			     const struct pg_bench_result *b)
{
	return a->session && a->session == b->session;
}

struct pg_bench_result *pg_results_find(const struct pg_results *r,
					const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < r->nbenches; i++)
		if (r->benches[i].name && !strcmp(r->benches[i].name, name))
			return &r->benches[i];
	return NULL;
}

bool pg_results_failed_on_base_only(const struct pg_bench_result *base,
				    const struct pg_bench_result *head)
{
	return base && head &&
	       (base->status == PG_BENCH_FAILED ||
		base->status == PG_BENCH_TIMEOUT) &&
	       base->profile.ntrials == 0 && head->status == PG_BENCH_OK &&
	       head->profile.ntrials > 0;
}

/* Trim leading/trailing whitespace in place; returns the start. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
		     s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* The first "model name" (x86) or "Model"/"Hardware" (arm) value. */
static char *detect_cpu(void)
{
	static const char *const keys[] = {"model name", "Model", "Hardware",
					   "cpu model", "cpu"};
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return pg_strdup("unknown");
	char line[512];
	char *best = NULL;
	size_t best_rank = sizeof(keys) / sizeof(keys[0]);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *key = trim(line);
		char *val = trim(colon + 1);
		for (size_t k = 0; k < best_rank; k++) {
			if (strcmp(key, keys[k]) || !*val)
				continue;
			free(best);
			best = pg_strdup(val);
			best_rank = k;
			break;
		}
		if (best_rank == 0)
			break;
	}
	fclose(f);
	return best ? best : pg_strdup("unknown");
}

void pg_fingerprint_detect(struct pg_fingerprint *fp)
{
	free(fp->cpu);
	fp->cpu = detect_cpu();
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	fp->cores = n > 0 ? (int)n : 1;
	struct utsname u;
	free(fp->os);
	if (uname(&u) == 0)
		fp->os =
		    pg_asprintf("%s %s %s", u.sysname, u.release, u.machine);
	else
		fp->os = pg_strdup("unknown");
	free(fp->perfguard);
	fp->perfguard = pg_strdup(PG_VERSION);
}

void pg_fingerprint_release(struct pg_fingerprint *fp)
{
	free(fp->cpu);
	free(fp->os);
	free(fp->python);
	free(fp->python_build);
	free(fp->perfguard);
	free(fp->hook);
	free(fp->suite_hash);
	memset(fp, 0, sizeof(*fp));
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool pg_fingerprint_equal(const struct pg_fingerprint *a,
			  const struct pg_fingerprint *b, const char **what_out)
{
	const char *what = NULL;
	if (!str_eq(a->cpu, b->cpu))
		what = "cpu";
	else if (a->cores != b->cores)
		what = "cores";
	else if (!str_eq(a->os, b->os))
		what = "os";
	else if (!str_eq(a->python, b->python))
		what = "python";
	else if (!str_eq(a->python_build, b->python_build))
		what = "python_build";
	else if (!str_eq(a->perfguard, b->perfguard))
		what = "perfguard";
	else if (!str_eq(a->hook, b->hook))
		what = "hook";
	else if (!str_eq(a->suite_hash, b->suite_hash))
		what = "suite_hash";
	if (what_out)
		*what_out = what;
	return what == NULL;
}
