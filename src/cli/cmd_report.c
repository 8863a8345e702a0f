/*
 * cmd_report.c - `perfguard report --history N -o FILE`: the stored
 * baselines of the last N commits of first-parent history (from HEAD, or
 * --from REV) as one HTML page of line charts, per benchmark its total
 * and its top functions (src/report/html_history.c draws the page).
 *
 * Commits without a baseline are skipped (the page says how many had
 * one); a baseline that does not load is an error naming its commit, never
 * a silent gap. Change points come from the analysis module (E-Divisive
 * means over each series' medians), the page marks them.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/analysis.h"
#include "perfguard/report.h"

/* Commits walked at most, whatever --history says. */
#define REPORT_MAX_COMMITS 10000

enum report_opt {
	OPT_HISTORY = CLI_OPT_ID_COMMAND,
	OPT_TOP,
	OPT_OUTPUT,
	OPT_FROM,
};

static const struct cli_opt report_options[] = {
    {OPT_HISTORY, "history", 0, "N",
     "the last N commits of first-parent history\n(those with stored "
     "baselines are shown)"},
    {OPT_OUTPUT, "output", 'o', "FILE", "the HTML page ('-' = stdout)"},
    {OPT_TOP, "top", 0, "K", "functions charted per benchmark (default 5)"},
    {OPT_FROM, "from", 0, "REV", "newest commit (default HEAD)"},
    {0},
};

static const struct cli_opt_table report_table = {"Options:", report_options};

static int cmd_report(int argc, char **argv);

const struct cli_command cli_cmd_report = {
    .name = "report",
    .fn = cmd_report,
    .summary = "pages from stored baselines: history charts of recent "
	       "commits",
    .usage = "perfguard report --history N -o FILE [options]\n",
    .tables = {&report_table, &cli_common_table},
};

/* What the options ask for. */
struct report_opts {
	struct cli_common common;
	int history, top;
	const char *output, *from;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct report_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_HISTORY:
		return cli_parse_count("--history", arg, 1, &o->history);
	case OPT_TOP:
		return cli_parse_count("--top", arg, 0, &o->top);
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case OPT_FROM:
		o->from = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help report`");
	}
}

/* Parse argv into o; usage errors carry PG_EUSAGE. */
static int parse_args(int argc, char **argv, struct report_opts *o)
{
	int rc = cli_opt_parse(&cli_cmd_report, argc, argv, parse_option, o);
	if (rc || o->common.help)
		return rc;
	if (optind < argc)
		return pg_error_set(PG_EUSAGE,
				    "report takes no arguments ('%s'); see "
				    "`perfguard help report`",
				    argv[optind]);
	if (!o->history)
		return pg_error_set(PG_EUSAGE, "report needs --history N (the "
					       "number of commits to show)");
	if (!o->output)
		return pg_error_set(
		    PG_EUSAGE, "report needs -o FILE (or -o - for stdout)");
	return 0;
}

/*
 * Change points of every series (E-Divisive means over its medians, the
 * analysis module's detector with its default options, as `perfguard
 * history` uses it), on the commits that measured the series; indexes
 * map back to commits.
 */
static int mark_change_points(struct pg_report_history *h)
{
	struct pg_cp_options o;
	pg_cp_options_default(&o);
	double *x = pg_malloc((h->ncommits + 1) * sizeof(*x));
	size_t *at = pg_malloc((h->ncommits + 1) * sizeof(*at));
	int rc = 0;
	for (size_t i = 0; i < h->nseries && !rc; i++) {
		struct pg_report_series *s = &h->series[i];
		size_t m = 0;
		for (size_t c = 0; c < h->ncommits; c++) {
			if (!isfinite(s->median_ns[c]))
				continue;
			x[m] = s->median_ns[c];
			at[m++] = c;
		}
		struct pg_change_point *cps = NULL;
		size_t ncps = 0;
		if (m < 2 * o.min_size)
			continue;
		rc = pg_analysis_change_points(x, m, &o, &cps, &ncps);
		for (size_t k = 0; !rc && k < ncps; k++)
			pg_report_series_add_change_point(s, at[cps[k].index],
							  cps[k].change_pct);
		free(cps);
	}
	free(x);
	free(at);
	return rc;
}

/* The baselines found walking first-parent history, oldest first. */
struct walk {
	struct pg_results *results; /* n loaded, [n] maybe initialised */
	struct pg_report_commit *commits;
	char **subjects;
	size_t want, n, walked;
};

/* Load oid's baseline as the next commit of the walk. */
static int take_commit(struct walk *w, struct pg_repo *repo,
		       struct pg_store *store, const char *oid)
{
	size_t n = w->n;
	pg_results_init(&w->results[n]);
	int rc = pg_store_load(store, oid, &w->results[n]);
	if (rc)
		return rc;
	int64_t when = 0;
	if (pg_git_commit_info(repo, oid, &w->subjects[n], &when))
		pg_error_clear();
	w->commits[n].commit = w->results[n].commit;
	w->commits[n].subject = w->subjects[n];
	w->commits[n].time = when;
	w->commits[n].results = &w->results[n];
	w->n++;
	return 0;
}

/*
 * Walk at most w->want commits along first parents from `from`, newest
 * first, loading those with a stored baseline; then put them oldest
 * first.
 */
static int walk_history(struct walk *w, struct pg_repo *repo,
			struct pg_store *store, const char *from)
{
	struct pg_store_entry *stored = NULL;
	size_t nstored = 0;
	struct pg_map has;
	pg_map_init(&has);
	char oid[41];
	int rc = pg_store_list(store, &stored, &nstored);
	if (rc || (rc = pg_git_resolve(repo, from, oid)))
		goto cleanup;
	for (size_t i = 0; i < nstored; i++)
		pg_map_put(&has, stored[i].commit, i);
	while (w->walked < w->want) {
		size_t ignored;
		w->walked++;
		if (pg_map_get(&has, oid, &ignored) &&
		    (rc = take_commit(w, repo, store, oid)))
			goto cleanup;
		char parent[41];
		rc = pg_git_parent(repo, oid, 0, parent);
		if (rc == PG_ENOTFOUND) {
			pg_error_clear();
			rc = 0;
			break;
		}
		if (rc)
			goto cleanup;
		memcpy(oid, parent, sizeof(oid));
	}
	for (size_t i = 0; i < w->n / 2; i++) {
		struct pg_report_commit t = w->commits[i];
		w->commits[i] = w->commits[w->n - 1 - i];
		w->commits[w->n - 1 - i] = t;
	}
cleanup:
	free(stored);
	pg_map_release(&has);
	return rc;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		pg_results_release(&w->results[i]);
		free(w->subjects[i]);
	}
	/* A load that failed midway left results[n] initialised. */
	if (w->results && w->n < w->want)
		pg_results_release(&w->results[w->n]);
	free(w->results);
	free(w->commits);
	free(w->subjects);
}

/* Say where the measuring environment changed between the walked
 * baselines: a step there may be the machine's, not the code's. */
static void warn_env_changes(const struct walk *w)
{
	for (size_t i = 1; i < w->n; i++) {
		const char *what = cli_env_change(w->commits[i - 1].results,
						  w->commits[i].results);
		if (what)
			fprintf(stderr,
				"perfguard: warning: the measuring environment "
				"changed at %.10s (%s differs): a step there "
				"may be the machine's, not the code's\n",
				w->commits[i].commit, what);
	}
}

/* The page of the walked commits' series and their change points. */
static int draw_page(const struct walk *w, int top, struct pg_buf *out)
{
	struct pg_report_history h;
	pg_report_history_build(&h, w->commits, w->n, (size_t)top);
	int rc = mark_change_points(&h);
	if (!rc) {
		char *title =
		    pg_asprintf("History of the last %zu commits", w->walked);
		rc = pg_report_history_html(&h, title, out);
		free(title);
	}
	pg_report_history_release(&h);
	return rc;
}

static int cmd_report(int argc, char **argv)
{
	struct report_opts o = {.top = 5, .from = "HEAD"};
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return cli_fail(rc);
	struct cli_common common = o.common;
	if (common.help) {
		cli_command_print_help(&cli_cmd_report, stdout);
		return PG_EXIT_OK;
	}
	char *root = cli_project_root();
	struct pg_suite suite = {0};
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	struct walk w = {0};
	w.want = (size_t)o.history < REPORT_MAX_COMMITS ? (size_t)o.history
							: REPORT_MAX_COMMITS;
	w.results = pg_calloc(w.want, sizeof(*w.results));
	w.commits = pg_calloc(w.want, sizeof(*w.commits));
	w.subjects = pg_calloc(w.want, sizeof(*w.subjects));
	struct pg_buf out;
	pg_buf_init(&out, 0);
	int exit_code = PG_EXIT_OK;

	if ((rc = pg_git_open(root, &repo))) {
		pg_error_wrap("baselines are kept per commit and need a git "
			      "repository");
		goto fail;
	}
	bool have_suite;
	if ((rc = cli_open_suite_store(&common, root, repo, &suite, &have_suite,
				       &store)) ||
	    (rc = walk_history(&w, repo, store, o.from)) ||
	    (rc = draw_page(&w, o.top, &out)) ||
	    (rc = cli_write_output(o.output, out.data, out.len)))
		goto fail;
	warn_env_changes(&w);
	if (w.n == 0)
		cli_note(&common,
			 "none of the last %zu commits has a stored baseline "
			 "(record them with `perfguard baseline update`)",
			 w.walked);
	else if (strcmp(o.output, "-") != 0)
		cli_note(&common,
			 "history of %zu commits (%zu with baselines) written "
			 "to %s",
			 w.walked, w.n, o.output);
	goto cleanup;
fail:
	exit_code = cli_fail(rc);
cleanup:
	walk_release(&w);
	pg_buf_release(&out);
	pg_store_close(store);
	if (repo)
		pg_git_close(repo);
	pg_suite_release(&suite);
	free(root);
	return exit_code;
}
