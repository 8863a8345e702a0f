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
	OPT_SHARD,
};

static const struct cli_opt run_options[] = {
    {OPT_OUTPUT, "output", 'o', "FILE",
     "results file (default\n"
     ".perfguard/results/<commit>[-dirty].json)"},
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
    .tables = {&run_table, &cli_measure_table, &cli_common_table},
};

/* What run's options ask for. */
struct run_opts {
	struct cli_common common;
	struct cli_measure_opts measure;
	const char *output;
	struct pg_shard shard; /* index 0: the whole suite */
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct run_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)) ||
	    (rc = cli_measure_option(id, arg, &o->measure)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case OPT_SHARD:
		return cli_parse_shard(arg, &o->shard);
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help run`");
	}
}

/* What one run works with, from the suite to its results. */
struct run {
	char *root, *commit; /* commit NULL outside git */
	bool dirty;
	struct pg_suite suite;
	struct pg_python py;
	struct cli_selection sel;
	struct pg_results results;
};

/* Suite, benchmarks (of this shard), interpreter, the tree's commit. */
static int prepare(struct run *r, struct run_opts *o)
{
	int rc;
	if ((rc = cli_load_suite(&o->common, r->root, &r->suite)) ||
	    (rc = cli_select(&r->suite, &o->measure.names, &r->sel)) ||
	    (rc = pg_python_probe(r->suite.python, &r->py)))
		return rc;
	cli_head_state(r->root, &r->commit, &r->dirty);
	if (o->shard.index)
		cli_shard_select_here(&o->common, &r->suite, r->root, &r->sel,
				      &o->shard);
	pg_runner_begin_results(&r->results, &r->suite, &r->py, r->commit,
				r->dirty);
	return pg_runner_prepare(&r->suite, r->root);
}

/* Every selected benchmark, on the working tree alone. */
static int measure(struct run *r, const struct run_opts *o)
{
	struct pg_side side = {
	    .label = "head", .root = r->root, .results = &r->results};
	struct pg_session session;
	cli_session_init(&session, &o->common, &r->suite, &r->py, &side, 1);
	int rc = cli_measure_all(&session, &r->sel, o->measure.trials);
	if (!rc)
		cli_shard_copy(&r->results.shard, &o->shard);
	return rc;
}

/* -o FILE, or .perfguard/results/<commit>[-dirty][-shard-K-of-N].json. */
static char *results_path(const struct run *r, const struct run_opts *o)
{
	if (o->output)
		return pg_strdup(o->output);
	char part[64] = "";
	if (o->shard.index)
		snprintf(part, sizeof(part), "-shard-%d-of-%d", o->shard.index,
			 o->shard.count);
	return pg_asprintf("%s/.perfguard/results/%s%s%s.json", r->root,
			   r->commit ? r->commit : "worktree",
			   r->dirty ? "-dirty" : "", part);
}

/*
 * A path the user named may be a device, pipe or symlink: written like
 * the reports (regular files still replaced atomically).
 */
static int write_results(const struct pg_results *results, const char *path)
{
	struct pg_buf json;
	pg_buf_init(&json, 0);
	pg_results_write_json(results, &json);
	int rc = cli_write_output(path, json.data, json.len);
	pg_buf_release(&json);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	struct run r = {0};
	pg_results_init(&r.results);
	char *path = NULL;
	int exit_code = PG_EXIT_OK;
	int rc = cli_opt_parse(&cli_cmd_run, argc, argv, parse_option, &o);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_run, stdout);
		goto cleanup;
	}
	if (optind < argc) {
		exit_code = cli_usage_error("run takes no arguments ('%s'); "
					    "see `perfguard help run`",
					    argv[optind]);
		goto cleanup;
	}
	r.root = cli_project_root();
	if ((rc = prepare(&r, &o)) || (rc = measure(&r, &o))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	path = results_path(&r, &o);
	if ((rc = write_results(&r.results, path))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (o.common.verbosity >= 0)
		print_summary(&r.results);
	cli_note(&o.common, "results written to %s", path);
	if (cli_print_failures(&r.results, "head"))
		exit_code = PG_EXIT_FAULT;
cleanup:
	free(path);
	free(r.commit);
	free(r.root);
	cli_selection_release(&r.sel);
	pg_results_release(&r.results);
	pg_python_release(&r.py);
	pg_suite_release(&r.suite);
	pg_strvec_release(&o.measure.names);
	pg_strvec_release(&o.shard.of);
	return exit_code;
}
