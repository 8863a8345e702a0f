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

struct history_opts {
	const char *bench, *function, *json;
	int limit;
};

static int parse_args(int argc, char **argv, struct cli_common *common,
		      struct history_opts *o)
{
	static const struct option options[] = {
	    {"bench", required_argument, NULL, 'b'},
	    {"function", required_argument, NULL, 'f'},
	    {"limit", required_argument, NULL, 'l'},
	    {"json", required_argument, NULL, 'j'},
	    CLI_COMMON_LONG_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT_OPTIONS, options,
				NULL)) != -1) {
		if ((rc = cli_common_option(c, optarg, common))) {
			if (rc < 0)
				return rc;
			continue;
		}
		switch (c) {
		case 'b':
			o->bench = optarg;
			break;
		case 'f':
			o->function = optarg;
			break;
		case 'l':
			if ((rc = cli_parse_count("--limit", optarg, 1,
						  &o->limit)))
				return rc;
			break;
		case 'j':
			o->json = optarg;
			break;
		default:
			return pg_error_set(PG_EUSAGE,
					    "see `perfguard help history`");
		}
	}
	if (optind < argc)
		return pg_error_set(PG_EUSAGE,
				    "history takes no arguments ('%s'); see "
				    "`perfguard help history`",
				    argv[optind]);
	return 0;
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
		struct pg_store_entry key, *hit;
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

#define CHART_WIDTH 40

/* One series as rows of commit, median, interval and a bar. */
static void print_series(const struct pg_history_series *s,
			 struct pg_repo *repo, bool color)
{
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
		if (next_cp < s->ncps && s->cps[next_cp].index == i) {
			const struct pg_change_point *cp = &s->cps[next_cp++];
			char before[32], after[32];
			format_ns(before, sizeof(before), cp->before);
			format_ns(after, sizeof(after), cp->after);
			printf("  %s-- change point: %+.1f%% (%s -> %s), "
			       "p=%.3g --%s\n",
			       color ? (cp->change_pct > 0 ? "\033[31m"
							   : "\033[32m")
				     : "",
			       cp->change_pct, before, after, cp->p,
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

int cmd_history(int argc, char **argv)
{
	struct cli_common common = {0};
	struct history_opts o = {.limit = 100};
	char *root = NULL;
	struct pg_store_entry *commits = NULL;
	struct pg_suite suite = {0};
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	struct pg_history h;
	pg_history_init(&h);
	int rc = parse_args(argc, argv, &common, &o);
	if (rc)
		goto out;
	if (common.help) {
		cli_print_help("history", stdout);
		goto out;
	}
	root = cli_project_root();
	if ((rc = cli_load_suite(&common, root, &suite)))
		goto out;
	if ((rc = pg_git_open(root, &repo))) {
		pg_error_wrap("history follows commits and needs a git "
			      "repository");
		goto out;
	}
	if ((rc = cli_open_store(&suite, repo, root, &store)))
		goto out;
	size_t n = 0;
	if ((rc = stored_history(repo, store, o.limit, &commits, &n)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pg_results r;
		if ((rc = pg_store_load_partial(store, &commits[i], o.bench,
						o.function, &r)))
			goto out;
		pg_history_add(&h, commits[i].commit, &r, o.bench, o.function);
		pg_results_release(&r);
	}
	struct pg_cp_options cpo;
	pg_cp_options_default(&cpo);
	if ((rc = pg_history_finish(&h, &cpo)))
		goto out;
	if (n == 0)
		cli_note(&common, "no stored baselines on HEAD's first-parent "
				  "history: record some with `perfguard "
				  "baseline update`");
	else if (h.nseries == 0)
		cli_note(&common, "%s%s%s appears in none of the %zu baselines",
			 o.function ? o.function : "", o.function ? " of " : "",
			 o.bench ? o.bench : "no benchmark", n);
	if (o.json) {
		struct pg_buf buf;
		struct pg_jw w;
		pg_buf_init(&buf, 0);
		pg_jw_init(&w, &buf, true);
		pg_history_write_json(&h, &w);
		pg_buf_putc(&buf, '\n');
		rc = cli_write_output(o.json, buf.data, buf.len);
		pg_buf_release(&buf);
		if (rc)
			goto out;
	}
	if (!o.json || strcmp(o.json, "-") != 0) {
		bool color = cli_use_color(&common, stdout);
		for (size_t i = 0; i < h.nseries; i++)
			print_series(&h.series[i], repo, color);
	}
out:
	pg_history_release(&h);
	free(commits);
	pg_store_close(store);
	if (repo)
		pg_git_close(repo);
	pg_suite_release(&suite);
	free(root);
	return rc ? cli_fail(rc) : PG_EXIT_OK;
}
