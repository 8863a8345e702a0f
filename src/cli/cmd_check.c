/*
 * cmd_check.c - `perfguard check`: the gate.
 *
 * Resolves the base commit (SPEC §5), then either loads its stored
 * baseline or materialises its tree in a temporary directory and runs
 * base and head interleaved in this same job. Benchmarks whose verdict is
 * still unclear get more rounds, up to max_trials. The temporary tree is
 * removed on every path out, Ctrl-C included; the user's worktree and
 * index are never touched.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum baseline_mode { BASELINE_AUTO, BASELINE_RERUN, BASELINE_STORED };

struct check_opts {
	struct cli_common common;
	struct cli_report_opts report;
	const char *against;
	enum baseline_mode baseline;
	struct pg_strvec names;
	int trials;
	struct pg_shard shard; /* index 0: the whole suite */
};

enum check_opt {
	OPT_AGAINST = CLI_OPT_ID_COMMAND,
	OPT_BASELINE,
	OPT_BENCH,
	OPT_TRIALS,
	OPT_SHARD,
};

static const struct cli_opt check_options[] = {
    {OPT_AGAINST, "against", 0, "REF",
     "base branch or commit (default: suite's against,\norigin/main, "
     "main; then the merge-base)"},
    {OPT_BASELINE, "baseline", 0, "MODE",
     "rerun | stored | auto (default auto)"},
    {OPT_BENCH, "bench", 0, "NAME", "only this benchmark (repeatable)"},
    {OPT_TRIALS, "trials", 0, "N", "override the suite's trials"},
    {OPT_SHARD, "shard", 0, "K/N",
     "only shard K of N of the benchmarks (a CI matrix);\ncombine the "
     "shards' --json reports with `perfguard merge`"},
    {0},
};

static const struct cli_opt_table check_table = {"Options:", check_options};

static int cmd_check(int argc, char **argv);

const struct cli_command cli_cmd_check = {
    .name = "check",
    .fn = cmd_check,
    .summary = "compare head with its base and fail on regressions (the "
	       "gate)",
    .usage = "perfguard check [options]\n",
    .tables = {&check_table, &cli_report_table, &cli_common_table},
};

static int parse_baseline_mode(const char *arg, enum baseline_mode *out)
{
	if (!strcmp(arg, "auto"))
		*out = BASELINE_AUTO;
	else if (!strcmp(arg, "rerun"))
		*out = BASELINE_RERUN;
	else if (!strcmp(arg, "stored"))
		*out = BASELINE_STORED;
	else
		return pg_error_set(PG_EUSAGE,
				    "--baseline takes auto, rerun or stored, "
				    "not '%s'",
				    arg);
	return 0;
}

static int parse_option(int id, const char *arg, void *ctx)
{
	struct check_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)) ||
	    (rc = cli_report_option(id, arg, &o->report)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_AGAINST:
		o->against = arg;
		return 0;
	case OPT_BASELINE:
		return parse_baseline_mode(arg, &o->baseline);
	case OPT_BENCH:
		pg_strvec_push(&o->names, arg);
		return 0;
	case OPT_TRIALS:
		return cli_parse_count("--trials", arg, 1, &o->trials);
	case OPT_SHARD:
		return cli_parse_shard(arg, &o->shard);
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help check`");
	}
}

static int parse_args(int argc, char **argv, struct check_opts *o)
{
	int rc = cli_opt_parse(&cli_cmd_check, argc, argv, parse_option, o);
	if (rc)
		return rc;
	if (optind < argc)
		return pg_error_set(PG_EUSAGE,
				    "check takes no arguments ('%s'); did you "
				    "mean --against %s?",
				    argv[optind], argv[optind]);
	return 0;
}

/*
 * Run base and head interleaved, `trials` rounds of every benchmark; then,
 * judging the whole check as the report will, add rounds to every
 * benchmark with an unclear verdict, up to max_trials.
 */
static int measure_both(struct check_opts *o, const struct pg_suite *suite,
			const struct cli_selection *sel,
			const struct pg_python *py, struct pg_side *sides,
			size_t nsides, const struct pg_results *stored_base)
{
	int trials = o->trials ? o->trials : suite->trials;
	int max_trials =
	    suite->max_trials > trials ? suite->max_trials : trials;
	/*
	 * A max_trials with which no total can become significant at this fdr
	 * would let a gross slowdown pass as "unclear": raise it to the
	 * smallest that works, and say so.
	 */
	int need = cli_min_trials(suite, sel);
	if (max_trials < need) {
		cli_note(&o->common,
			 "max_trials %d cannot make a slowdown significant at "
			 "fdr %g with %zu benchmark(s) (the smallest rank-test "
			 "p-value of %d against %d trials is 1/C(%d, %d)): "
			 "adding rounds up to %d where verdicts are unclear",
			 max_trials, suite->thresholds.fdr, sel->n, max_trials,
			 max_trials, 2 * max_trials, max_trials, need);
		max_trials = need;
	}
	int rc = 0;
	struct pg_session session;
	cli_session_init(&session, &o->common, suite, py, sides, nsides);
	const struct pg_results *base =
	    stored_base ? stored_base : sides[0].results;
	const struct pg_results *head = sides[nsides - 1].results;
	int *done = pg_malloc((sel->n ? sel->n : 1) * sizeof(int));
	bool *unclear = pg_malloc((sel->n ? sel->n : 1) * sizeof(bool));
	for (size_t i = 0; i < sel->n && !rc; i++) {
		rc = pg_runner_bench_rounds(&session, sel->benches[i], trials);
		done[i] = trials;
	}
	while (!rc && cli_unclear_benches(suite, sel, base, head, unclear)) {
		bool added = false;
		for (size_t i = 0; i < sel->n && !rc; i++) {
			if (!unclear[i] || done[i] >= max_trials)
				continue;
			int more = trials / 2 > 2 ? trials / 2 : 2;
			if (more > max_trials - done[i])
				more = max_trials - done[i];
			cli_note(&o->common,
				 "%s: verdict unclear after %d rounds, adding "
				 "%d",
				 sel->benches[i]->name, done[i], more);
			rc = pg_runner_bench_rounds(&session, sel->benches[i],
						    more);
			done[i] += more;
			added = true;
		}
		if (!added)
			break;
	}
	free(done);
	free(unclear);
	cli_progress_done(&o->common);
	return rc;
}

/* The first selected benchmark a stored baseline has no good trials of. */
static const char *stored_lacks(const struct pg_results *stored,
				const struct cli_selection *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct pg_bench_result *r =
		    pg_results_find(stored, sel->benches[i]->name);
		if (!r || r->status != PG_BENCH_OK || !r->profile.ntrials)
			return sel->benches[i]->name;
	}
	return NULL;
}

static char *short_label(const char *name, const char *commit, bool dirty)
{
	return pg_asprintf("%s @ %.10s%s", name, commit ? commit : "worktree",
			   dirty ? " (dirty)" : "");
}

static int cmd_check(int argc, char **argv)
{
	struct check_opts o = {.report.annotations = -1};
	int rc = parse_args(argc, argv, &o);
	if (rc) {
		pg_strvec_release(&o.names);
		return cli_fail(rc);
	}
	if (o.common.help) {
		pg_strvec_release(&o.names);
		cli_command_print_help(&cli_cmd_check, stdout);
		return PG_EXIT_OK;
	}
	int exit_code = PG_EXIT_OK;
	char *root = cli_project_root();
	char *how = NULL, *base_dir = NULL, *base_label = NULL,
	     *github_base = NULL, *head_label = NULL;
	const char *mode = "rerun";
	char head_oid[41] = "", base_oid[41] = "";
	bool dirty = false, have_stored = false;
	struct pg_suite suite = {0};
	struct pg_python py = {0};
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	struct cli_selection sel = {0};
	struct pg_results base, head, stored;
	pg_results_init(&base);
	pg_results_init(&head);
	pg_results_init(&stored);

	if ((rc = cli_load_suite(&o.common, root, &suite)) ||
	    (rc = cli_select(&suite, &o.names, &sel)))
		goto fail;
	if ((rc = pg_git_open(root, &repo))) {
		pg_error_wrap("check compares commits and needs a git "
			      "repository");
		goto fail;
	}
	if ((rc = pg_git_head(repo, head_oid)))
		goto fail;
	if ((rc = pg_git_is_dirty(repo, &dirty)))
		goto fail;
	/* --against, the suite's against, GitHub's base branch, defaults. */
	const char *against = o.against ? o.against : suite.against;
	const char *base_ref = getenv("GITHUB_BASE_REF");
	if (!against && base_ref && *base_ref) {
		github_base = pg_asprintf("origin/%s", base_ref);
		char probe[41];
		if (pg_git_resolve(repo, github_base, probe) == 0)
			against = github_base;
		pg_error_clear();
	}
	const char *event = NULL;
	const char *event_name = getenv("GITHUB_EVENT_NAME");
	if (event_name && !strcmp(event_name, "pull_request"))
		event = getenv("GITHUB_EVENT_PATH");
	if ((rc = pg_git_base_for_check(repo, against, event, base_oid, &how)))
		goto fail;
	if ((rc = pg_python_probe(suite.python, &py)))
		goto fail;

	/* Stored baseline of the base commit, when asked or when it fits;
	 * a shard also balances its split by it. */
	bool stored_loaded = false;
	if (o.baseline != BASELINE_RERUN || o.shard.index) {
		if ((rc = cli_open_store(&suite, repo, root, &store)))
			goto fail;
		rc = pg_store_load(store, base_oid, &stored);
		if (rc == 0) {
			stored_loaded = true;
			have_stored = o.baseline != BASELINE_RERUN;
		} else if ((rc == PG_ENOTFOUND &&
			    o.baseline == BASELINE_AUTO) ||
			   o.baseline == BASELINE_RERUN) {
			pg_error_clear();
			rc = 0;
		} else if (rc == PG_ENOTFOUND) {
			pg_error_set(PG_ENOTFOUND,
				     "no stored baseline for the base commit "
				     "%.10s (%s): record one with `perfguard "
				     "baseline update` on that commit, fetch "
				     "them with `git fetch origin "
				     "refs/notes/perfguard:refs/notes/"
				     "perfguard`, or use --baseline rerun",
				     base_oid, how);
			goto fail;
		} else {
			goto fail;
		}
	}
	pg_runner_begin_results(&head, &suite, &py, head_oid, dirty);
	if (have_stored && o.baseline == BASELINE_AUTO) {
		const char *what = NULL;
		if (!pg_fingerprint_equal(&stored.fp, &head.fp, &what)) {
			cli_note(&o.common,
				 "stored baseline of %.10s was measured in "
				 "another environment (%s differs): rerunning "
				 "the base instead",
				 base_oid, what ? what : "fingerprint");
			have_stored = false;
		}
	}
	if (o.shard.index) {
		size_t all = sel.n;
		cli_shard_select(&sel, &o.shard,
				 stored_loaded ? &stored : NULL);
		cli_note(&o.common, "shard %d/%d: %zu of %zu benchmarks",
			 o.shard.index, o.shard.count, sel.n, all);
	}
	/* A stored baseline must hold every selected benchmark (of this
	 * shard), measured. */
	const char *lacking = have_stored ? stored_lacks(&stored, &sel) : NULL;
	if (lacking && o.baseline == BASELINE_AUTO) {
		cli_note(&o.common,
			 "stored baseline of %.10s has no trials of benchmark "
			 "%s: rerunning the base instead",
			 base_oid, lacking);
		have_stored = false;
	} else if (lacking) {
		rc = pg_error_set(PG_ENOTFOUND,
				  "the stored baseline of %.10s has no trials "
				  "of benchmark %s: record it with `perfguard "
				  "baseline update` on that commit, or use "
				  "--baseline auto or rerun",
				  base_oid, lacking);
		goto fail;
	}
	cli_note(&o.common, "base is %.10s (%s); %s", base_oid, how,
		 have_stored ? "using its stored baseline"
			     : "running base and head side by side");

	struct pg_side sides[2];
	size_t nsides = 0;
	if (have_stored) {
		mode = "stored";
	} else {
		if ((rc = pg_git_materialise(repo, base_oid, &base_dir)))
			goto fail;
		pg_runner_begin_results(&base, &suite, &py, base_oid, false);
		if ((rc = pg_runner_prepare(&suite, base_dir)))
			goto fail;
		sides[nsides++] = (struct pg_side){"base", base_dir, &base};
	}
	if ((rc = pg_runner_prepare(&suite, root)))
		goto fail;
	sides[nsides++] = (struct pg_side){"head", root, &head};
	rc = measure_both(&o, &suite, &sel, &py, sides, nsides,
			  have_stored ? &stored : NULL);
	if (rc)
		goto fail;

	base_label = short_label(against ? against : "base", base_oid, false);
	head_label = short_label("HEAD", head_oid, dirty);
	cli_print_failures(have_stored ? &stored : &base, "base");
	cli_print_failures(&head, "head");
	if (o.shard.index) {
		cli_shard_copy(&head.shard, &o.shard);
		cli_shard_copy(have_stored ? &stored.shard : &base.shard,
			       &o.shard);
	}
	struct cli_comparison cmp = {
	    .suite = &suite,
	    .sel = &sel,
	    .base = have_stored ? &stored : &base,
	    .head = &head,
	    .base_label = base_label,
	    .head_label = head_label,
	    .mode = mode,
	    .shard = o.shard.index > 0,
	};
	exit_code = cli_judge_and_report(&o.common, &o.report, &cmp);
	goto cleanup;
fail:
	cli_progress_done(&o.common);
	exit_code = cli_fail(rc);
cleanup:
	if (base_dir)
		pg_remove_tree(base_dir);
	free(base_dir);
	free(base_label);
	free(head_label);
	free(how);
	free(github_base);
	free(root);
	pg_results_release(&base);
	pg_results_release(&head);
	pg_results_release(&stored);
	cli_selection_release(&sel);
	pg_store_close(store);
	if (repo)
		pg_git_close(repo);
	pg_python_release(&py);
	pg_suite_release(&suite);
	pg_strvec_release(&o.names);
	pg_strvec_release(&o.shard.of);
	return exit_code;
}
