/*
 * cmd_history.c - `perfguard history`: a benchmark's total or one
 * function's self time across the stored baselines of first-parent
 * history, as a terminal chart and JSON, with change points.
 *
 * Walks HEAD's first parents, newest first, and keeps the commits that
 * have a baseline until --limit of them are found (or every stored
 * baseline has been met); loads only those, one at a time, keeping only
 * the per-trial values of the series asked for. The change points come
 * from pg_history_finish (E-Divisive means, analysis.h).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/analysis.h"

/* Commits walked at most, whatever the limit: a bound on a huge history
 * with few baselines. */
#define HISTORY_MAX_WALK 1000000

enum history_opt {
	OPT_BENCH = CLI_OPT_ID_COMMAND,
	OPT_FUNCTION,
	OPT_LIMIT,
	OPT_JSON,
};

static const struct cli_opt history_options[] = {
    {OPT_BENCH, "bench", 0, "B", "only benchmark B"},
    {OPT_FUNCTION, "function", 0, "F",
     "function id F's self time instead of the totals"},
    {OPT_LIMIT, "limit", 0, "N", "the newest N baselines (default 100)"},
    {OPT_JSON, "json", 0, "FILE", "write the series as JSON ('-' = stdout)"},
    {0},
};

static const struct cli_opt_table history_table = {"Options:", history_options};

static int cmd_history(int argc, char **argv);

const struct cli_command cli_cmd_history = {
    .name = "history",
    .fn = cmd_history,
    .summary = "a benchmark's or function's time over stored baselines, "
	       "with change points",
    .usage = "perfguard history [--bench B] [--function F] [--limit N] "
	     "[--json FILE]\n",
    .notes =
	"Per commit of HEAD's first-parent history with a stored baseline\n"
	"(oldest first): the median over its trials of each benchmark's\n"
	"total, or of function F's self time, with its 95% interval, as a\n"
	"chart. Change points: E-Divisive means with a permutation test\n"
	"(199 permutations, alpha 0.01: a series without any change shows\n"
	"a false one with probability <= 1% per window of 64 commits).\n",
    .tables = {&history_table, &cli_common_table},
};

/* What history's options ask for. */
struct history_opts {
	struct cli_common common;
	const char *bench, *function, *json;
	int limit;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct history_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_BENCH:
		o->bench = arg;
		return 0;
	case OPT_FUNCTION:
		o->function = arg;
		return 0;
	case OPT_LIMIT:
		return cli_parse_count("--limit", arg, 1, &o->limit);
	case OPT_JSON:
		o->json = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help history`");
	}
}

static int cmp_commit(const void *a, const void *b)
{
	return strcmp(((const struct pg_store_entry *)a)->commit,
		      ((const struct pg_store_entry *)b)->commit);
}

/*
 * The stored baselines of HEAD's first-parent history, oldest first, at
 * most limit of them (the newest). *out newly allocated.
 */
static int stored_history(struct pg_repo *repo, struct pg_store *store,
			  int limit, struct pg_store_entry **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	struct pg_store_entry *entries = NULL;
	size_t nentries = 0;
	int rc = pg_store_list(store, &entries, &nentries);
	if (rc)
		return rc;
	if (nentries)
		qsort(entries, nentries, sizeof(*entries), cmp_commit);
	char oid[41];
	if (nentries == 0 || (rc = pg_git_head(repo, oid))) {
		free(entries);
		return rc;
	}
	size_t want = nentries < (size_t)limit ? nentries : (size_t)limit;
	struct pg_store_entry *found = pg_calloc(want, sizeof(*found));
	size_t n = 0;
	for (size_t walked = 0; n < want && walked < HISTORY_MAX_WALK;
	     walked++) {
		struct pg_store_entry key = {0}, *hit;
		memcpy(key.commit, oid, 41);
		hit = bsearch(&key, entries, nentries, sizeof(*entries),
			      cmp_commit);
		if (hit)
			found[n++] = *hit;
		char parent[41];
		if (pg_git_parent(repo, oid, 0, parent) != 0) {
			pg_error_clear(); /* the root commit */
			break;
		}
		memcpy(oid, parent, 41);
	}
	free(entries);
	/* newest first -> oldest first */
	for (size_t i = 0; i < n / 2; i++) {
		struct pg_store_entry tmp = found[i];
		found[i] = found[n - 1 - i];
		found[n - 1 - i] = tmp;
	}
	*out = found;
	*n_out = n;
	return 0;
}

static void format_ns(char *out, size_t len, double ns)
{
	double a = fabs(ns);
	if (a >= 1e9)
		snprintf(out, len, "%.3f s", ns / 1e9);
	else if (a >= 1e6)
		snprintf(out, len, "%.2f ms", ns / 1e6);
	else if (a >= 1e3)
		snprintf(out, len, "%.1f us", ns / 1e3);
	else
		snprintf(out, len, "%.0f ns", ns);
}

/* What one history works with, from the suite to the series. */
struct history_run {
	char *root;
	struct pg_suite suite;
	struct pg_repo *repo;
	struct pg_store *store;
	struct pg_store_entry *commits; /* with a baseline, oldest first */
	size_t n;
	struct pg_cp_options cpo;
	struct pg_history h;
	/* env[i]: what of the measuring environment differs between the
	 * baselines of commits[i - 1] and commits[i] (cli_env_change), or
	 * NULL. */
	const char **env;
};

/* What changed in the environment at commit (cli_env_change), or NULL. */
static const char *point_env(const struct history_run *r, const char *commit)
{
	for (size_t i = 0; r->env && i < r->n; i++)
		if (!strcmp(r->commits[i].commit, commit))
			return r->env[i];
	return NULL;
}

#define CHART_WIDTH 40

/* One series as rows of commit, median, interval and a bar. */
static void print_series(const struct pg_history_series *s,
			 const struct history_run *r, bool color)
{
	struct pg_repo *repo = r->repo;
	printf("%s: %s (%zu commits, oldest first)\n", s->bench,
	       s->function ? s->function : "total", s->npoints);
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < s->npoints; i++) {
		lo = fmin(lo, s->points[i].low_ns);
		hi = fmax(hi, s->points[i].high_ns);
	}
	/* bars start a little below the smallest value, so steps show */
	double floor_ns = lo - (hi - lo) * 0.25;
	if (floor_ns < 0)
		floor_ns = 0;
	double span = hi > floor_ns ? hi - floor_ns : 1;
	size_t next_cp = 0;
	for (size_t i = 0; i < s->npoints; i++) {
		const struct pg_history_point *pt = &s->points[i];
		const char *env = point_env(r, pt->commit);
		if (env)
			printf(
			    "  -- the environment changed here (%s differs): "
			    "values before and after were measured "
			    "differently --\n",
			    env);
		if (next_cp < s->ncps && s->cps[next_cp].index == i) {
			const struct pg_change_point *cp = &s->cps[next_cp++];
			char before[32], after[32];
			format_ns(before, sizeof(before), cp->before);
			format_ns(after, sizeof(after), cp->after);
			printf("  %s-- change point: %+.1f%% (%s -> %s), "
			       "p=%.3g%s --%s\n",
			       color ? (cp->change_pct > 0 ? "\033[31m"
							   : "\033[32m")
				     : "",
			       cp->change_pct, before, after, cp->p,
			       env ? "; at the environment's change: "
				     "perhaps the machine's, not the code's"
				   : "",
			       color ? "\033[0m" : "");
		}
		char value[32], low[32], high[32];
		format_ns(value, sizeof(value), pt->value_ns);
		format_ns(low, sizeof(low), pt->low_ns);
		format_ns(high, sizeof(high), pt->high_ns);
		char bar[CHART_WIDTH * 3 + 1];
		size_t len = 0;
		int cells =
		    (int)lround((pt->value_ns - floor_ns) / span * CHART_WIDTH);
		for (int k = 0; k < CHART_WIDTH; k++) {
			const char *cell = k < cells ? "\u2588" : " ";
			size_t cl = strlen(cell);
			memcpy(bar + len, cell, cl);
			len += cl;
		}
		bar[len] = '\0';
		char *subject = NULL;
		int64_t when = 0;
		if (pg_git_commit_info(repo, pt->commit, &subject, &when))
			pg_error_clear();
		printf("  %.10s  %10s  [%s, %s]  |%s|  %.40s\n", pt->commit,
		       value, low, high, bar, subject ? subject : "");
		free(subject);
	}
	printf("\n");
}

/*
 * The fewest points with which a change point can be significant at
 * alpha: a permutation test of a split of n points into k and n - k
 * cannot give p below 1 / C(n, k), largest at k = n / 2.
 */
static size_t min_points(double alpha)
{
	for (size_t n = 2; n < 64; n++) {
		double c = 1;
		for (size_t i = 1; i <= n / 2; i++)
			c = c * (double)(n - n / 2 + i) / (double)i;
		if (1 / c <= alpha)
			return n;
	}
	return 64;
}

/* The closest of names to want (a typo's fix), or NULL. */
static void closest(const char *want, const char *name, const char **best,
		    size_t *best_d)
{
	size_t d = pg_edit_distance(want, name);
	if (d < *best_d) {
		*best_d = d;
		*best = name;
	}
}

/*
 * --bench or --function named nothing in any baseline: a usage error,
 * with the closest name of the newest baseline as "did you mean".
 */
static int unknown_name(struct pg_store *store,
			const struct pg_store_entry *commits, size_t n,
			const char *bench, const char *function)
{
	struct pg_results r;
	pg_results_init(&r);
	if (pg_store_load(store, commits[n - 1].commit, &r))
		pg_error_clear();
	bool bench_known = false;
	const char *best = NULL;
	size_t best_d = 4;
	for (size_t i = 0; bench && i < r.nbenches; i++) {
		bench_known |= !strcmp(r.benches[i].name, bench);
		closest(bench, r.benches[i].name, &best, &best_d);
	}
	int rc;
	if (bench && !bench_known) {
		rc = pg_error_set(PG_EUSAGE,
				  "no benchmark '%s' in any of the %zu "
				  "baselines%s%s%s",
				  bench, n, best ? "; did you mean '" : "",
				  best ? best : "", best ? "'?" : "");
	} else if (!function) {
		rc = pg_error_set(PG_EUSAGE,
				  "benchmark '%s' has no trials in any of the "
				  "%zu baselines",
				  bench, n);
	} else {
		best = NULL;
		best_d = 4;
		for (size_t i = 0; i < r.nbenches; i++) {
			const struct pg_bench_result *b = &r.benches[i];
			if (bench && strcmp(b->name, bench))
				continue;
			for (size_t f = 0; f < b->profile.nfuncs; f++)
				closest(function, b->profile.funcs[f].id, &best,
					&best_d);
		}
		rc = pg_error_set(PG_EUSAGE,
				  "no function '%s' in %s%s of the %zu "
				  "baselines%s%s%s (function ids read "
				  "FILE:QUALNAME, e.g. app/core.py:parse)",
				  function, bench ? bench : "any benchmark",
				  bench ? " in any" : "", n,
				  best ? "; did you mean '" : "",
				  best ? best : "", best ? "'?" : "");
	}
	pg_results_release(&r);
	return rc;
}

/* The suite, the repository and the store its baselines are in. */
static int open_history(struct history_run *r, const struct cli_common *c)
{
	int rc;
	r->root = cli_project_root();
	if ((rc = cli_load_suite(c, r->root, &r->suite)))
		return rc;
	if ((rc = pg_git_open(r->root, &r->repo))) {
		pg_error_wrap("history follows commits and needs a git "
			      "repository");
		return rc;
	}
	return cli_open_store(&r->suite, r->repo, r->root, &r->store);
}

/* The series asked for, baseline by baseline, then their change points. */
static int load_series(struct history_run *r, const struct history_opts *o)
{
	int rc =
	    stored_history(r->repo, r->store, o->limit, &r->commits, &r->n);
	struct pg_results prev;
	pg_results_init(&prev);
	r->env = pg_calloc(r->n ? r->n : 1, sizeof(*r->env));
	for (size_t i = 0; !rc && i < r->n; i++) {
		struct pg_results res;
		if ((rc = pg_store_load_partial(r->store, &r->commits[i],
						o->bench, o->function, &res)))
			break;
		pg_history_add(&r->h, r->commits[i].commit, &res, o->bench,
			       o->function);
		r->env[i] = i ? cli_env_change(&prev, &res) : NULL;
		if (r->env[i])
			pg_history_note_env(&r->h, r->commits[i].commit,
					    r->env[i]);
		pg_results_release(&prev);
		prev = res;
	}
	pg_results_release(&prev);
	pg_cp_options_default(&r->cpo);
	return rc ? rc : pg_history_finish(&r->h, &r->cpo);
}

/* Why the series are missing or too short to say anything; an unknown
 * --bench or --function is an error. */
static int explain_gaps(const struct history_run *r,
			const struct history_opts *o)
{
	size_t n = r->n, changes = 0, first = 0;
	for (size_t i = n; i-- > 0;)
		if (r->env && r->env[i]) {
			changes++;
			first = i;
		}
	if (changes)
		fprintf(stderr,
			"perfguard: warning: the measuring environment changed "
			"at %zu of these commits (first at %.10s: %s differs); "
			"a step there may be the machine's, not the code's\n",
			changes, r->commits[first].commit, r->env[first]);
	if (n == 0)
		cli_note(&o->common, "no stored baselines on HEAD's "
				     "first-parent history: record some with "
				     "`perfguard baseline update`");
	else if (r->h.nseries == 0 && (o->bench || o->function))
		return unknown_name(r->store, r->commits, n, o->bench,
				    o->function);
	else if (r->h.nseries == 0)
		cli_note(&o->common,
			 "none of the %zu baselines holds a benchmark "
			 "with trials",
			 n);
	else if (n < min_points(r->cpo.alpha))
		cli_note(&o->common,
			 "%zu baseline%s: too few for change-point detection "
			 "(with fewer than %zu points no change can be "
			 "significant at %g); record more with `perfguard "
			 "baseline update`",
			 n, n == 1 ? "" : "s", min_points(r->cpo.alpha),
			 r->cpo.alpha);
	return 0;
}

/* --json's file, then the charts unless the JSON went to stdout. */
static int emit(const struct history_run *r, const struct history_opts *o)
{
	if (o->json) {
		struct pg_buf buf;
		struct pg_jw w;
		pg_buf_init(&buf, 0);
		pg_jw_init(&w, &buf, true);
		pg_history_write_json(&r->h, &w);
		pg_buf_putc(&buf, '\n');
		int rc = cli_write_output(o->json, buf.data, buf.len);
		pg_buf_release(&buf);
		if (rc)
			return rc;
	}
	if (!o->json || strcmp(o->json, "-") != 0) {
		bool color = cli_use_color(&o->common, stdout);
		for (size_t i = 0; i < r->h.nseries; i++)
			print_series(&r->h.series[i], r, color);
	}
	return 0;
}

static int cmd_history(int argc, char **argv)
{
	struct history_opts o = {.limit = 100};
	struct history_run r = {0};
	pg_history_init(&r.h);
	int rc = cli_opt_parse(&cli_cmd_history, argc, argv, parse_option, &o);
	if (rc)
		goto out;
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_history, stdout);
		goto out;
	}
	if (optind < argc) {
		rc = pg_error_set(PG_EUSAGE,
				  "history takes no arguments ('%s'); see "
				  "`perfguard help history`",
				  argv[optind]);
		goto out;
	}
	if (!(rc = open_history(&r, &o.common)) &&
	    !(rc = load_series(&r, &o)) && !(rc = explain_gaps(&r, &o)))
		rc = emit(&r, &o);
out:
	pg_history_release(&r.h);
	free(r.env);
	free(r.commits);
	pg_store_close(r.store);
	if (r.repo)
		pg_git_close(r.repo);
	pg_suite_release(&r.suite);
	free(r.root);
	return rc ? cli_fail(rc) : PG_EXIT_OK;
}
