/*
 * cmd_compare.c - `perfguard compare A B`: judge two existing results
 * sets (files, or commits with stored baselines) by exactly the rules and
 * reports of `check`, without running anything. Production profiles (two
 * directories of recorded windows, or two deployed commits ingested with
 * `perfguard ingest`) are judged on each function's time relative to
 * the rest of the samples (cli_production_shares), on the sample counts
 * pooled over each side's windows (verdict.c's compare_counts).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/*
 * Without a suite file, judge with the default thresholds: build a suite
 * naming the head's benchmarks, so defaults live in one place (suite).
 */
static int default_suite(const struct pg_results *head, const char *root,
			 struct pg_suite *out)
{
	struct pg_buf yaml;
	pg_buf_init(&yaml, 0);
	pg_buf_puts(&yaml, "benchmarks:\n");
	for (size_t i = 0; i < head->nbenches; i++)
		pg_buf_printf(&yaml, "  - {name: '%s', script: unused.py}\n",
			      head->benches[i].name);
	int rc =
	    pg_suite_parse("(default suite)", yaml.data, yaml.len, root, out);
	pg_buf_release(&yaml);
	return rc;
}

/* A directory side's windows (cli_windows_load): say what was left out,
 * and that windows of several commits are judged as one side. */
static int load_dir_side(const char *dir, struct pg_results *out)
{
	struct pg_strvec labels = {0};
	struct cli_window_filter f = {.labels = &labels};
	size_t n;
	int rc = cli_windows_load(dir, NULL, &f, out, &n);
	if (!rc && f.nshort)
		fprintf(stderr,
			"perfguard: %zu window%s in %s left "
			"out: " CLI_SHORT_WINDOW_WHY "\n",
			f.nshort, f.nshort == 1 ? "" : "s", dir);
	if (!rc && labels.n > 1)
		fprintf(stderr,
			"perfguard: warning: %s holds windows of %zu commits "
			"(%.12s, %.12s%s), judged as one side; to compare "
			"deploys, `perfguard ingest` it and compare the "
			"commits\n",
			dir, labels.n, labels.v[0], labels.v[1],
			labels.n > 2 ? ", ..." : "");
	pg_strvec_release(&labels);
	return rc;
}

/*
 * One side: a directory of recorded windows, a results file, a commit's
 * stored baseline, or (with production, or when the commit has no
 * baseline) the commit's stored production profile. *source: which of
 * them, as the reports' mode: "files", "stored" or "production".
 */
static int load_side(const char *what, bool production, struct pg_repo *repo,
		     struct pg_store *store, struct pg_store *prod,
		     struct pg_results *out, const char **source)
{
	*source = "production";
	if (pg_path_is_dir(what))
		return load_dir_side(what, out);
	if (production && prod)
		return cli_load_results(what, repo, prod, out);
	*source = pg_path_exists(what) ? "files" : "stored";
	int rc = cli_load_results(what, repo, store, out);
	if (rc == PG_ENOTFOUND && prod && !pg_path_exists(what)) {
		pg_error_clear();
		*source = "production";
		rc = cli_load_results(what, repo, prod, out);
	}
	return rc;
}

enum compare_opt { OPT_PRODUCTION = CLI_OPT_ID_COMMAND };

static const struct cli_opt compare_options[] = {
    {OPT_PRODUCTION, "production", 0, NULL,
     "BASE and HEAD are deployed commits: judge\ntheir ingested production "
     "profiles"},
    {0},
};

static const struct cli_opt_table compare_table = {"Options:", compare_options};

static int cmd_compare(int argc, char **argv);

const struct cli_command cli_cmd_compare = {
    .name = "compare",
    .fn = cmd_compare,
    .summary = "judge two results files (or stored baselines) without "
	       "running",
    .usage = "perfguard compare [options] BASE HEAD\n",
    .notes = "BASE and HEAD are results files or commits with stored "
	     "baselines, or\ndirectories of windows from `perfguard record`. "
	     "A commit without a baseline\nnames its ingested production "
	     "profile (`perfguard ingest`). Production\nprofiles are judged "
	     "on each function's time relative to the rest of\nthe samples "
	     "(share / (1 - share)), its samples pooled over each side's\n"
	     "windows, with a variance the windows' spread gives "
	     "(docs/statistics.md).\n",
    .tables = {&compare_table, &cli_report_table, &cli_common_table},
};

/* What compare's options ask for. */
struct compare_opts {
	struct cli_common common;
	struct cli_report_opts report;
	bool production;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct compare_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)) ||
	    (rc = cli_report_option(id, arg, &o->report)))
		return rc < 0 ? rc : 0;
	if (id == OPT_PRODUCTION) {
		o->production = true;
		return 0;
	}
	return pg_error_set(PG_EUSAGE, "see `perfguard help compare`");
}

/* Where compare's two sides come from. */
struct sources {
	struct pg_repo *repo;	       /* NULL outside git */
	struct pg_store *store, *prod; /* baselines, production; or NULL */
	struct pg_suite suite;
	bool have_suite;
};

/* The suite if there is one, and outside git neither store. */
static int open_sources(struct sources *src, const struct cli_common *common,
			const char *root)
{
	if (pg_git_open(root, &src->repo) != 0) {
		src->repo = NULL;
		pg_error_clear();
	}
	int rc = cli_open_suite_store(common, root, src->repo, &src->suite,
				      &src->have_suite, &src->store);
	if (!rc && src->repo)
		rc = pg_store_open(src->repo, PG_STORE_BACKEND_NOTES,
				   CLI_PRODUCTION_REF, &src->prod);
	return rc;
}

static void sources_release(struct sources *src)
{
	pg_suite_release(&src->suite);
	pg_store_close(src->store);
	pg_store_close(src->prod);
	if (src->repo)
		pg_git_close(src->repo);
}

/* Both sides; production profiles judged on each function's time
 * relative to the rest of the window (loads differ). *mode: where the
 * base came from (load_side). */
static int load_both(struct sources *src, const char *a, const char *b,
		     bool production, struct pg_results *base,
		     struct pg_results *head, const char **mode)
{
	const char *head_source;
	int rc;
	if ((rc = load_side(a, production, src->repo, src->store, src->prod,
			    base, mode)) ||
	    (rc = load_side(b, production, src->repo, src->store, src->prod,
			    head, &head_source)))
		return rc;
	if (cli_is_production(base) || cli_is_production(head)) {
		cli_production_shares(base);
		cli_production_shares(head);
	}
	return 0;
}

static int cmd_compare(int argc, char **argv)
{
	struct compare_opts o = {.report.annotations = -1};
	int rc = cli_opt_parse(&cli_cmd_compare, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_compare, stdout);
		return PG_EXIT_OK;
	}
	if (argc - optind != 2)
		return cli_usage_error("compare takes two results (files or "
				       "commits with stored baselines): "
				       "perfguard compare BASE HEAD");
	const char *a = argv[optind], *b = argv[optind + 1];
	int exit_code = PG_EXIT_OK;
	char *root = cli_project_root();
	struct sources src = {0};
	struct pg_strvec none = {0};
	struct cli_selection sel = {0};
	struct pg_results base, head;
	const char *mode = "files";
	pg_results_init(&base);
	pg_results_init(&head);

	const char *inputs[] = {a, b};
	if ((rc = cli_check_report_paths(&o.report, inputs, 2)) ||
	    (rc = open_sources(&src, &o.common, root)) ||
	    (rc = load_both(&src, a, b, o.production, &base, &head, &mode))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	/* Production windows are named after the service, not the suite's
	 * benchmarks: the suite's list must not filter them. */
	if (src.have_suite &&
	    (cli_is_production(&base) || cli_is_production(&head))) {
		pg_suite_release(&src.suite);
		memset(&src.suite, 0, sizeof(src.suite));
		src.have_suite = false;
	}
	if ((!src.have_suite &&
	     (rc = default_suite(&head, root, &src.suite))) ||
	    (rc = cli_select(&src.suite, &none, &sel))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	cli_print_failures(&base, "base");
	cli_print_failures(&head, "head");
	struct cli_comparison cmp = {
	    .suite = &src.suite,
	    .sel = &sel,
	    .base = &base,
	    .head = &head,
	    .base_label = a,
	    .head_label = b,
	    .mode = mode,
	    .named = true,
	};
	exit_code = cli_judge_and_report(&o.common, &o.report, &cmp);
cleanup:
	cli_selection_release(&sel);
	pg_results_release(&base);
	pg_results_release(&head);
	sources_release(&src);
	free(root);
	return exit_code;
}
