/*
 * cmd_run.c - `perfguard run`: measure the suite on the working tree.
 *
 * Warmups, trials, hyperfine wall times; the results set is written
 * atomically (also when some benchmark failed: the others are kept and
 * the failures recorded), and no verdict is given. Exit 3 when a
 * benchmark failed, 130 when interrupted (no file written then).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"
#include "perfguard/store.h"

/* One line per benchmark: rounds, median profiled total, top function. */
static void print_summary(const struct pg_results *r)
{
	for (size_t i = 0; i < r->nbenches; i++) {
		const struct pg_bench_result *b = &r->benches[i];
		if (b->status != PG_BENCH_OK || !b->profile.ntrials)
			continue;
		const struct pg_profile *p = &b->profile;
		double *totals = pg_calloc(p->ntrials, sizeof(double));
		for (size_t t = 0; t < p->ntrials; t++)
			totals[t] = (double)p->trials[t].total_ns / 1e6;
		double med = pg_stats_median(totals, p->ntrials);
		free(totals);
		struct pg_func_summary *sum = NULL;
		pg_profile_summarise(p, PG_SORT_TOTTIME, &sum);
		printf("%-24s %3d rounds  profiled %9.2f ms", b->name,
		       b->rounds, med);
		if (b->has_wall)
			printf("  wall %8.2f ms", b->wall.median_s * 1e3);
		if (p->nfuncs)
			printf("  top %s (%.1f%%)", p->funcs[sum[0].func].id,
			       sum[0].self_share * 100);
		printf("\n");
		free(sum);
	}
}

enum run_opt {
	OPT_OUTPUT = CLI_OPT_ID_COMMAND,
	OPT_BENCH,
	OPT_TRIALS,
	OPT_SHARD,
};

static const struct cli_opt run_options[] = {
    {OPT_OUTPUT, "output", 'o', "FILE",
     "results file (default\n"
     ".perfguard/results/<commit>[-dirty].json)"},
    {OPT_BENCH, "bench", 0, "NAME", "only this benchmark (repeatable)"},
    {OPT_TRIALS, "trials", 0, "N", "override the suite's trials"},
    {OPT_SHARD, "shard", 0, "K/N",
     "only shard K of N of the benchmarks; combine the\nshards with "
     "`perfguard merge -o FILE`"},
    {0},
};

static const struct cli_opt_table run_table = {"Options:", run_options};

static int cmd_run(int argc, char **argv);

const struct cli_command cli_cmd_run = {
    .name = "run",
    .fn = cmd_run,
    .summary = "run the suite on the working tree and save results",
    .usage = "perfguard run [options]\n",
    .tables = {&run_table, &cli_common_table},
};

/* What run's options ask for. */
struct run_opts {
	struct cli_common common;
	struct pg_strvec names;
	const char *output;
	int trials;
	struct pg_shard shard; /* index 0: the whole suite */
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct run_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case OPT_BENCH:
		pg_strvec_push(&o->names, arg);
		return 0;
	case OPT_TRIALS:
		return cli_parse_count("--trials", arg, 1, &o->trials);
	case OPT_SHARD:
		return cli_parse_shard(arg, &o->shard);
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help run`");
	}
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	int rc = cli_opt_parse(&cli_cmd_run, argc, argv, parse_option, &o);
	struct cli_common common = o.common;
	struct pg_strvec names = o.names;
	const char *output = o.output;
	int trials = o.trials;
	if (rc) {
		pg_strvec_release(&names);
		return cli_fail(rc);
	}
	if (common.help) {
		pg_strvec_release(&names);
		cli_command_print_help(&cli_cmd_run, stdout);
		return PG_EXIT_OK;
	}
	if (optind < argc) {
		pg_strvec_release(&names);
		return cli_usage_error("run takes no arguments ('%s'); see "
				       "`perfguard help run`",
				       argv[optind]);
	}

	int exit_code = PG_EXIT_OK;
	char *root = cli_project_root(), *commit = NULL, *path = NULL;
	bool dirty = false;
	struct pg_suite suite = {0};
	struct pg_python py = {0};
	struct pg_results results;
	struct cli_selection sel = {0};
	pg_results_init(&results);
	if ((rc = cli_load_suite(&common, root, &suite)) ||
	    (rc = cli_select(&suite, &names, &sel)) ||
	    (rc = pg_python_probe(suite.python, &py))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	cli_head_state(root, &commit, &dirty);
	if (o.shard.index)
		cli_shard_select_here(&common, &suite, root, &sel, &o.shard);
	pg_runner_begin_results(&results, &suite, &py, commit, dirty);
	if ((rc = pg_runner_prepare(&suite, root))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	struct pg_side side = {
	    .label = "head", .root = root, .results = &results};
	struct pg_session session;
	cli_session_init(&session, &common, &suite, &py, &side, 1);
	rc = cli_measure_all(&session, &sel, trials);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	cli_shard_copy(&results.shard, &o.shard);
	char part[64] = "";
	if (o.shard.index)
		snprintf(part, sizeof(part), "-shard-%d-of-%d", o.shard.index,
			 o.shard.count);
	path = output ? pg_strdup(output)
		      : pg_asprintf("%s/.perfguard/results/%s%s%s.json", root,
				    commit ? commit : "worktree",
				    dirty ? "-dirty" : "", part);
	/* A path the user named may be a device, pipe or symlink: written
	 * like the reports (regular files still replaced atomically). */
	struct pg_buf json;
	pg_buf_init(&json, 0);
	pg_results_write_json(&results, &json);
	rc = cli_write_output(path, json.data, json.len);
	pg_buf_release(&json);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (common.verbosity >= 0)
		print_summary(&results);
	cli_note(&common, "results written to %s", path);
	if (cli_print_failures(&results, "head"))
		exit_code = PG_EXIT_FAULT;
cleanup:
	free(path);
	free(commit);
	free(root);
	cli_selection_release(&sel);
	pg_results_release(&results);
	pg_python_release(&py);
	pg_suite_release(&suite);
	pg_strvec_release(&names);
	pg_strvec_release(&o.shard.of);
	return exit_code;
}
