/*
 * history_fixture.c - a repository with many stored baselines, for
 * timing `perfguard history` (benches/history/run.sh).
 *
 *   history_fixture DIR [COMMITS [BENCHES [FUNCS [TRIALS]]]]
 *
 * Makes a git repository in DIR (which must not exist) with COMMITS
 * commits on main (git fast-import) and a perfguard.yml, then stores one
 * synthetic baseline per commit in refs/notes/perfguard: BENCHES
 * benchmarks of FUNCS/BENCHES functions each (ids like
 * "pkg/mod_3.py:f_17"), TRIALS trials, a calling-context tree and edges
 * per benchmark. Function "pkg/mod_0.py:f_0" of bench_0 gets 8% slower at
 * commit COMMITS/2, and every total with it. Defaults: 500 commits, 4
 * benchmarks, 2,000 functions, 10 trials. Deterministic (splitmix64).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfguard/store.h"

static uint64_t rng_state = 12345;

static double rnd01(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
	return sqrt(-2 * log(rnd01())) * cos(2 * M_PI * rnd01());
}

static void make_repo(const char *dir, size_t commits)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "git init -q -b main '%s' && cd '%s' && git fast-import "
		 "--quiet",
		 dir, dir);
	FILE *f = popen(cmd, "w");
	if (!f)
		exit(3);
	const char *suite = "benchmarks:\n  - {name: bench_0, script: b.py}\n";
	for (size_t i = 0; i < commits; i++) {
		fprintf(f, "commit refs/heads/main\n");
		fprintf(f, "committer t <t@t> %zu +0000\n",
			1700000000 + i * 60);
		fprintf(f, "data <<EOF\ncommit %zu\nEOF\n", i);
		if (i == 0) {
			fprintf(f, "M 644 inline perfguard.yml\ndata %zu\n%s\n",
				strlen(suite), suite);
			fprintf(f, "M 644 inline b.py\ndata 5\npass\n\n");
		}
		fprintf(f, "M 644 inline n.txt\ndata <<EOF\n%zu\nEOF\n\n", i);
	}
	if (pclose(f) != 0)
		exit(3);
	snprintf(cmd, sizeof(cmd), "cd '%s' && git checkout -q main", dir);
	if (system(cmd) != 0)
		exit(3);
}

static void make_results(struct pg_results *r, const char *commit, size_t idx,
			 size_t commits, size_t nbenches, size_t nfuncs,
			 size_t ntrials)
{
	pg_results_init(r);
	r->commit = pg_strdup(commit);
	r->created = pg_strdup("2026-01-01T00:00:00Z");
	r->clock = pg_strdup("cpu");
	double slow = idx >= commits / 2 ? 1.08 : 1.0;
	for (size_t b = 0; b < nbenches; b++) {
		char name[32];
		snprintf(name, sizeof(name), "bench_%zu", b);
		struct pg_bench_result *br = pg_results_add_bench(r, name);
		br->rounds = (int)ntrials;
		struct pg_profile *p = &br->profile;
		size_t per = nfuncs / nbenches;
		for (size_t f = 0; f < per; f++) {
			char id[64], file[32];
			snprintf(file, sizeof(file), "pkg/mod_%zu.py", f / 20);
			snprintf(id, sizeof(id), "%s:f_%zu", file, f);
			pg_profile_intern(p, id, file, (int)(f % 200) + 1, 0);
		}
		uint32_t root = pg_profile_root(p);
		for (size_t f = 0; f < per; f++) {
			uint32_t parent =
			    f ? (uint32_t)(1 + (size_t)(rnd01() * f)) : root;
			uint32_t node =
			    pg_profile_child(p, parent, (uint32_t)f);
			p->nodes[node].calls = 10 + f;
			p->nodes[node].self_ns = 1000 * (int64_t)(per - f);
			p->nodes[node].incl_ns = 2000 * (int64_t)(per - f);
			if (f) {
				struct pg_edge e = {(uint32_t)(f / 2),
						    (uint32_t)f,
						    10 + f,
						    10 + f,
						    1000 * (int64_t)(per - f),
						    2000 * (int64_t)(per - f)};
				pg_profile_add_edge(p, &e);
			}
		}
		for (size_t t = 0; t < ntrials; t++) {
			size_t ti = pg_profile_add_trial(p);
			struct pg_trial *tr = &p->trials[ti];
			double machine = exp(0.01 * normal());
			int64_t total = 0;
			for (size_t f = 0; f < per; f++) {
				double base = 2e6 / (double)(f + 1);
				if (b == 0 && f == 0)
					base *= slow;
				int64_t ns = (int64_t)(base * machine *
						       exp(0.03 * normal()));
				tr->samples[f].calls = 10 + f;
				tr->samples[f].pcalls = 10 + f;
				tr->samples[f].self_ns = ns;
				tr->samples[f].incl_ns = 2 * ns;
				total += ns;
			}
			tr->total_ns = total;
			tr->wall_ns = total + total / 10;
			tr->cpu_ns = total;
			tr->threads = 1;
			tr->events = 2 * per;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: history_fixture DIR [COMMITS [BENCHES "
				"[FUNCS [TRIALS]]]]\n");
		return 2;
	}
	const char *dir = argv[1];
	size_t commits = argc > 2 ? (size_t)atol(argv[2]) : 500;
	size_t nbenches = argc > 3 ? (size_t)atol(argv[3]) : 4;
	size_t nfuncs = argc > 4 ? (size_t)atol(argv[4]) : 2000;
	size_t ntrials = argc > 5 ? (size_t)atol(argv[5]) : 10;
	make_repo(dir, commits);
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	if (pg_git_open(dir, &repo) ||
	    pg_store_open(repo, PG_STORE_BACKEND_NOTES, "refs/notes/perfguard",
			  &store)) {
		fprintf(stderr, "%s\n", pg_error_message());
		return 3;
	}
	char oid[41];
	if (pg_git_head(repo, oid))
		return 3;
	/* newest first along first parents; index counts from the oldest */
	for (size_t k = 0; k < commits; k++) {
		struct pg_results r;
		make_results(&r, oid, commits - 1 - k, commits, nbenches,
			     nfuncs, ntrials);
		if (pg_store_save(store, oid, &r)) {
			fprintf(stderr, "%s\n", pg_error_message());
			return 3;
		}
		pg_results_release(&r);
		if (k + 1 == commits)
			break;
		char parent[41];
		if (pg_git_parent(repo, oid, 0, parent))
			return 3;
		memcpy(oid, parent, 41);
	}
	pg_store_close(store);
	pg_git_close(repo);
	printf("%s: %zu commits with baselines of %zu benchmarks x %zu "
	       "functions x %zu trials\n",
	       dir, commits, nbenches, nfuncs, ntrials);
	return 0;
}
