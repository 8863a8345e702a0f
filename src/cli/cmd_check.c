/*
 * cmd_check.c - `perfguard check`: the gate.
 *
 * Resolves the base commit (SPEC §5), then either loads its stored
 * baseline or materialises its tree, and runs base and head interleaved
 * in this same job. Head is a copy of the working tree (uncommitted
 * changes and untracked files included) beside base in one stage
 * directory, and each side is renamed to the same live path for its
 * trials, so identical code is measured under identical conditions.
 * Benchmarks whose verdict is still unclear get more rounds, up to
 * max_trials. The stage is removed on every path out, Ctrl-C included;
 * the user's worktree and index are never touched.
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
	struct cli_measure_opts measure; /* --bench, --trials */
	struct pg_shard shard;		 /* index 0: the whole suite */
};

enum check_opt {
	OPT_AGAINST = CLI_OPT_ID_COMMAND,
	OPT_BASELINE,
	OPT_SHARD,
};

static const struct cli_opt check_options[] = {
    {OPT_AGAINST, "against", 0, "REF",
     "base branch or commit (default: suite's against,\norigin/main, "
     "main; then the merge-base)"},
    {OPT_BASELINE, "baseline", 0, "MODE",
     "rerun | stored | auto (default auto)"},
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
    .tables = {&check_table, &cli_measure_table, &cli_report_table,
	       &cli_common_table},
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
	    (rc = cli_report_option(id, arg, &o->report)) ||
	    (rc = cli_measure_option(id, arg, &o->measure)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_AGAINST:
		o->against = arg;
		return 0;
	case OPT_BASELINE:
		return parse_baseline_mode(arg, &o->baseline);
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
 * A max_trials with which no total can become significant at this fdr
 * would let a gross slowdown pass as "unclear": the smallest that works
 * when max_trials is below it (and a note saying so), else max_trials.
 * paired: the totals are compared round by round (both sides measured).
 */
static int enough_trials(struct check_opts *o, const struct pg_suite *suite,
			 const struct cli_whole *whole, bool paired,
			 int max_trials)
{
	int need = cli_min_trials(suite, whole->totals, paired);
	if (max_trials >= need)
		return max_trials;
	char what[64];
	if (paired)
		snprintf(what, sizeof(what), "%d rounds is 1/2^%d", max_trials,
			 max_trials);
	else
		snprintf(what, sizeof(what),
			 "%d against %d trials is 1/C(%d, %d)", max_trials,
			 max_trials, 2 * max_trials, max_trials);
	cli_note(&o->common,
		 "max_trials %d cannot make a slowdown significant at fdr %g "
		 "with %zu benchmark(s) (the smallest p-value of %s): adding "
		 "rounds up to %d where verdicts are unclear",
		 max_trials, suite->thresholds.fdr, whole->benches, what, need);
	return need;
}

/*
 * Run base and head interleaved, `trials` rounds of every benchmark; then,
 * judging the whole check as the report will, add rounds to every
 * benchmark with an unclear verdict, up to max_trials. A shard judges
 * with the whole check's family sizes (whole), as `merge` will.
 */
static int measure_both(struct check_opts *o, const struct pg_suite *suite,
			const struct cli_selection *sel,
			const struct cli_whole *whole,
			const struct pg_python *py, struct pg_side *sides,
			size_t nsides, const struct pg_results *stored_base,
			const bool *is_new)
{
	int trials = o->measure.trials ? o->measure.trials : suite->trials;
	int max_trials =
	    suite->max_trials > trials ? suite->max_trials : trials;
	max_trials = enough_trials(o, suite, whole, !stored_base, max_trials);
	/* what a merge of shards needs to decide a total: round by round
	 * when both sides are measured here (the shards keep their session
	 * tags), else two samples */
	int need = cli_min_trials(suite, whole->totals, !stored_base);
	int rc = 0;
	struct pg_session session;
	cli_session_init(&session, &o->common, suite, py, sides, nsides);
	const struct pg_results *base =
	    stored_base ? stored_base : sides[0].results;
	const struct pg_results *head = sides[nsides - 1].results;
	int *done = pg_malloc((sel->n ? sel->n : 1) * sizeof(int));
	bool *unclear = pg_malloc((sel->n ? sel->n : 1) * sizeof(bool));
	bool *unsettled = pg_malloc((sel->n ? sel->n : 1) * sizeof(bool));
	/* A new benchmark (no script at base) runs on head alone. */
	struct pg_session head_only = session;
	head_only.sides = &sides[nsides - 1];
	head_only.nsides = 1;
	for (size_t i = 0; i < sel->n && !rc; i++) {
		rc = pg_runner_bench_rounds(is_new[i] ? &head_only : &session,
					    sel->benches[i], trials);
		done[i] = trials;
	}
	if (!session.costs[0])
		memcpy(session.costs, head_only.costs, sizeof(session.costs));
	pg_session_release(&head_only);
	while (!rc &&
	       cli_unclear_benches(suite, sel, o->shard.index ? whole : NULL,
				   base, head, unclear, unsettled)) {
		bool added = false;
		for (size_t i = 0; i < sel->n && !rc; i++) {
			/* What a shard cannot know is settled for the merge
			 * gets rounds up to the fewest that can decide it
			 * there (below them the merge is inconclusive). */
			bool more_needed =
			    unclear[i] || (unsettled[i] && done[i] < need);
			if (!more_needed || is_new[i] || done[i] >= max_trials)
				continue;
			int cap = unclear[i] ? max_trials : need;
			int more = trials / 2 > 2 ? trials / 2 : 2;
			if (more > cap - done[i])
				more = cap - done[i];
			cli_note(&o->common,
				 "%s: verdict %s after %d rounds, adding %d",
				 sel->benches[i]->name,
				 unclear[i] ? "not decided"
					    : "not settled for the merge",
				 done[i], more);
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
	free(unsettled);
	cli_progress_done(&o->common);
	pg_session_release(&session);
	return rc;
}

/* The first selected benchmark (not new) a stored baseline has no good
 * trials of. */
static const char *stored_lacks(const struct pg_results *stored,
				const struct cli_selection *sel,
				const bool *is_new)
{
	for (size_t i = 0; i < sel->n; i++) {
		if (is_new[i])
			continue;
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

/* Everything one check holds, released by check_release. */
struct check_run {
	struct check_opts o;
	char *root, *how, *github_base;
	struct pg_stage stage; /* base and head trees, measured alike */
	const char *against;   /* the base ref asked for, or NULL */
	char head_oid[41], base_oid[41];
	bool dirty, have_stored, stored_loaded;
	struct pg_suite suite;
	struct pg_python py;
	struct pg_repo *repo;
	struct pg_store *store;
	struct cli_selection sel;
	bool *is_new; /* per sel entry: its script is absent at the base */
	struct cli_whole whole; /* the check before sharding */
	struct pg_results base, head, stored;
};

/* The suite, its selected benchmarks, the repository and HEAD. */
static int open_project(struct check_run *c)
{
	int rc;
	if ((rc = cli_load_suite(&c->o.common, c->root, &c->suite)) ||
	    (rc = cli_select(&c->suite, &c->o.measure.names, &c->sel)))
		return rc;
	if ((rc = pg_git_open(c->root, &c->repo))) {
		pg_error_wrap("check compares commits and needs a git "
			      "repository");
		return rc;
	}
	if ((rc = pg_git_head(c->repo, c->head_oid)) ||
	    (rc = pg_git_is_dirty(c->repo, &c->dirty)))
		return rc;
	return 0;
}

/* --against, the suite's against, GitHub's base branch, defaults. */
static int resolve_base(struct check_run *c)
{
	c->against = c->o.against ? c->o.against : c->suite.against;
	const char *base_ref = getenv("GITHUB_BASE_REF");
	if (!c->against && base_ref && *base_ref) {
		c->github_base = pg_asprintf("origin/%s", base_ref);
		char probe[41];
		if (pg_git_resolve(c->repo, c->github_base, probe) == 0)
			c->against = c->github_base;
		pg_error_clear();
	}
	const char *event = NULL;
	const char *event_name = getenv("GITHUB_EVENT_NAME");
	if (event_name && !strcmp(event_name, "pull_request"))
		event = getenv("GITHUB_EVENT_PATH");
	return pg_git_base_for_check(c->repo, c->against, event, c->base_oid,
				     &c->how);
}

/*
 * The stored baseline of the base commit, when asked or when it fits; a
 * shard also balances its split by it.
 */
static int load_stored(struct check_run *c)
{
	enum baseline_mode mode = c->o.baseline;
	if (mode == BASELINE_RERUN && !c->o.shard.index)
		return 0;
	int rc = cli_open_store(&c->suite, c->repo, c->root, &c->store);
	if (rc)
		return rc;
	rc = pg_store_load(c->store, c->base_oid, &c->stored);
	if (rc == 0) {
		c->stored_loaded = true;
		c->have_stored = mode != BASELINE_RERUN;
		return 0;
	}
	if ((rc == PG_ENOTFOUND && mode == BASELINE_AUTO) ||
	    mode == BASELINE_RERUN) {
		pg_error_clear();
		return 0;
	}
	if (rc == PG_ENOTFOUND)
		pg_error_set(PG_ENOTFOUND,
			     "no stored baseline for the base commit %.10s "
			     "(%s): record one with `perfguard baseline "
			     "update` on that commit, fetch them with `git "
			     "fetch origin refs/notes/perfguard:refs/notes/"
			     "perfguard`, or use --baseline rerun",
			     c->base_oid, c->how);
	return rc;
}

/* With --baseline auto, a baseline from another environment is rerun. */
static void check_stored_fits(struct check_run *c)
{
	const char *what = NULL;
	if (!c->have_stored || c->o.baseline != BASELINE_AUTO ||
	    pg_fingerprint_equal(&c->stored.fp, &c->head.fp, &what))
		return;
	cli_note(&c->o.common,
		 "stored baseline of %.10s was measured in another "
		 "environment (%s differs): rerunning the base instead",
		 c->base_oid, what ? what : "fingerprint");
	c->have_stored = false;
}

/*
 * The sides to run, both from the stage: base (unless stored) at its
 * commit, head as the working tree is, including uncommitted changes.
 */
static int prepare_sides(struct check_run *c, struct pg_side *sides,
			 size_t *nsides)
{
	int rc;
	*nsides = 0;
	if ((rc = pg_stage_open(&c->stage)))
		return rc;
	if (!c->have_stored) {
		pg_runner_begin_results(&c->base, &c->suite, &c->py,
					c->base_oid, false);
		sides[*nsides] =
		    (struct pg_side){.label = "base", .results = &c->base};
		if ((rc = cli_stage_side(&c->stage, c->repo, &c->suite,
					 &sides[(*nsides)++], c->base_oid)))
			return rc;
	}
	sides[*nsides] = (struct pg_side){.label = "head", .results = &c->head};
	return cli_stage_side(&c->stage, c->repo, &c->suite,
			      &sides[(*nsides)++], NULL);
}

/* Judge what was measured, print and write the reports: the exit code. */
static int report(struct check_run *c)
{
	struct pg_results *base = c->have_stored ? &c->stored : &c->base;
	/* Without a ref asked for, say how the base was found ("base
	 * 1a2b3c4d5e (merge-base of HEAD and main)"), not "base base". */
	char *base_label = c->against
			       ? short_label(c->against, c->base_oid, false)
			       : pg_asprintf("%.10s (%s)", c->base_oid,
					     c->how ? c->how : "default base");
	char *head_label = short_label("HEAD", c->head_oid, c->dirty);
	cli_print_failures(base, "base");
	cli_print_failures(&c->head, "head");
	if (c->o.shard.index) {
		cli_shard_copy(&c->head.shard, &c->o.shard);
		cli_shard_copy(&base->shard, &c->o.shard);
	}
	struct cli_comparison cmp = {
	    .suite = &c->suite,
	    .sel = &c->sel,
	    .base = base,
	    .head = &c->head,
	    .base_label = base_label,
	    .head_label = head_label,
	    .mode = c->have_stored ? "stored" : "rerun",
	    .shard = c->o.shard.index > 0,
	    .is_new = c->is_new,
	};
	int exit_code = cli_judge_and_report(&c->o.common, &c->o.report, &cmp);
	free(base_label);
	free(head_label);
	return exit_code;
}

/*
 * A benchmark whose script does not exist at the base commit is new (a PR
 * that adds it, or that introduces the suite): it is measured on head only
 * and reported as new, whether the base is rerun or stored.
 */
static void find_new(struct check_run *c)
{
	c->is_new = pg_calloc(c->sel.n ? c->sel.n : 1, sizeof(*c->is_new));
	for (size_t i = 0; i < c->sel.n; i++) {
		bool exists = true;
		if (pg_git_path_exists(c->repo, c->base_oid,
				       c->sel.benches[i]->script, &exists))
			exists = true; /* unknown: measured as before */
		pg_error_clear();
		c->is_new[i] = !exists;
	}
}

/*
 * The gate: open the project, resolve the base, take its stored baseline
 * or run it, measure, judge and report.
 */
static int run_check(struct check_run *c)
{
	int rc;
	if ((rc = cli_check_report_paths(&c->o.report, NULL, 0)) ||
	    (rc = open_project(c)) || (rc = resolve_base(c)) ||
	    (rc = pg_python_probe(c->suite.python, &c->py)) ||
	    (rc = load_stored(c)))
		return rc;
	pg_runner_begin_results(&c->head, &c->suite, &c->py, c->head_oid,
				c->dirty);
	check_stored_fits(c);
	c->whole = (struct cli_whole){c->sel.n, cli_total_verdicts(&c->sel)};
	if (c->o.shard.index) {
		size_t all = c->sel.n;
		cli_shard_select(&c->sel, &c->o.shard,
				 c->stored_loaded ? &c->stored : NULL);
		cli_note(&c->o.common, "shard %d/%d: %zu of %zu benchmarks",
			 c->o.shard.index, c->o.shard.count, c->sel.n, all);
	}
	find_new(c);
	/* A stored baseline must hold every selected benchmark (of this
	 * shard) that exists at the base, measured. */
	const char *lacking = c->have_stored
				  ? stored_lacks(&c->stored, &c->sel, c->is_new)
				  : NULL;
	if (lacking && c->o.baseline == BASELINE_AUTO) {
		cli_note(&c->o.common,
			 "stored baseline of %.10s has no trials of benchmark "
			 "%s: rerunning the base instead",
			 c->base_oid, lacking);
		c->have_stored = false;
	} else if (lacking) {
		return pg_error_set(PG_ENOTFOUND,
				    "the stored baseline of %.10s has no "
				    "trials of benchmark %s: record it with "
				    "`perfguard baseline update` on that "
				    "commit, or use --baseline auto or rerun",
				    c->base_oid, lacking);
	}
	cli_note(&c->o.common, "base is %.10s (%s); %s", c->base_oid, c->how,
		 c->have_stored ? "using its stored baseline"
				: "running base and head side by side");
	struct pg_side sides[2];
	size_t nsides;
	if ((rc = prepare_sides(c, sides, &nsides)) ||
	    (rc = measure_both(&c->o, &c->suite, &c->sel, &c->whole, &c->py,
			       sides, nsides,
			       c->have_stored ? &c->stored : NULL, c->is_new)))
		return rc;
	return 0;
}

static void check_release(struct check_run *c)
{
	pg_stage_close(&c->stage);
	free(c->how);
	free(c->github_base);
	free(c->root);
	pg_results_release(&c->base);
	pg_results_release(&c->head);
	pg_results_release(&c->stored);
	cli_selection_release(&c->sel);
	free(c->is_new);
	pg_store_close(c->store);
	if (c->repo)
		pg_git_close(c->repo);
	pg_python_release(&c->py);
	pg_suite_release(&c->suite);
	pg_strvec_release(&c->o.measure.names);
	pg_strvec_release(&c->o.shard.of);
}

static int cmd_check(int argc, char **argv)
{
	struct check_run c = {.o.report.annotations = -1};
	pg_results_init(&c.base);
	pg_results_init(&c.head);
	pg_results_init(&c.stored);
	int rc = parse_args(argc, argv, &c.o), exit_code;
	if (rc) {
		exit_code = cli_fail(rc);
	} else if (c.o.common.help) {
		cli_command_print_help(&cli_cmd_check, stdout);
		exit_code = PG_EXIT_OK;
	} else {
		c.root = cli_project_root();
		rc = run_check(&c);
		if (rc) {
			cli_progress_done(&c.o.common);
			exit_code = cli_fail(rc);
		} else {
			exit_code = report(&c);
		}
	}
	check_release(&c);
	return exit_code;
}
