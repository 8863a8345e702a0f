/*
 * cmd_analyze.c - `perfguard analyze` (and `profile --analyze`): ranked
 * findings - hot paths, call overhead, waiting, repeated work, recursion,
 * dominating builtins, exceptions, GC, import time - with evidence and
 * remedies.
 *
 * A SCRIPT is profiled three times: once with the wall clock (the
 * findings' profile), once with the CPU clock, so that functions waiting
 * rather than computing show as the difference, and once counting the
 * exceptions raised and handled per function (PERFGUARD_EXCEPTIONS=1),
 * whose times are not used. A RESULTS.json file is analysed
 * benchmark by benchmark as measured, a `profile --format json` export
 * as its one profile (one clock: no waiting findings).
 * The interpreter's cost of one Python call is measured on the spot, for
 * the call-overhead rule. The rules live in src/analysis/findings.c.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "perfguard/analysis.h"

enum analyze_opt {
	OPT_JSON = CLI_OPT_ID_COMMAND,
	OPT_PYTHON,
};

static const struct cli_opt analyze_options[] = {
    {OPT_JSON, "json", 0, "FILE", "write the findings as JSON ('-' = stdout)"},
    {OPT_PYTHON, "python", 0, "PATH",
     "interpreter (default python3); also measures the cost\n"
     "of a call for RESULTS.json"},
    {0},
};

static const struct cli_opt_table analyze_table = {"Options:", analyze_options};

static int cmd_analyze(int argc, char **argv);

const struct cli_command cli_cmd_analyze = {
    .name = "analyze",
    .fn = cmd_analyze,
    .summary = "ranked findings: hot paths, call overhead, waiting, ...",
    .usage = "perfguard analyze [options] (SCRIPT [ARGS...] | RESULTS.json)\n",
    .notes =
	"A SCRIPT runs three times under the hook (wall clock, CPU clock:\n"
	"waiting is their difference; then counting exceptions); a\n"
	"results file is analysed per benchmark, a `profile --format\n"
	"json` export as it was measured. Kinds: hot-path,\n"
	"call-overhead, waiting, repeated-work, recursion,\n"
	"builtin-hotspot, exceptions, gc, import (docs/analysis.md has\n"
	"the rules).\n",
    .tables = {&analyze_table, &cli_common_table},
    .stop_at_operand = true,
};

struct analyze_opts {
	struct cli_common common;
	const char *json, *python;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct analyze_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_JSON:
		o->json = arg;
		return 0;
	case OPT_PYTHON:
		o->python = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help analyze`");
	}
}

/* The interpreter's cost of one call of an empty Python function, in ns
 * of CPU time: 9 rounds, each timing 200,000 calls and then the bare loop,
 * and the median of the rounds' differences (CPU time, so that a busy
 * machine does not inflate it; the median, because the smallest
 * difference is the one whose bare loop a preemption slowed: under load
 * it read too low for a 45 ns function to count as call overhead). */
static const char call_cost_code[] =
    "import statistics, time\n"
    "def f(): pass\n"
    "def calls(n):\n"
    "    for _ in range(n): f()\n"
    "def loop(n):\n"
    "    for _ in range(n): pass\n"
    "n, d = 200000, []\n"
    "for _ in range(9):\n"
    "    t = time.process_time_ns(); calls(n); a = time.process_time_ns() - t\n"
    "    t = time.process_time_ns(); loop(n); b = time.process_time_ns() - t\n"
    "    d.append((a - b) / n)\n"
    "print(max(statistics.median(d), 1.0))\n";

int cli_call_cost(const struct pg_python *py, double *out)
{
	*out = 0;
	const char *argv[] = {py->exe, "-c", call_cost_code, NULL};
	char *text = NULL;
	int code = 0;
	int rc = pg_runner_capture(argv, ".", 60000, &text, &code);
	if (!rc && (code != 0 || !text || (*out = strtod(text, NULL)) <= 0))
		rc = pg_error_set(PG_ECHILD,
				  "%s could not time a function call (exit "
				  "%d): %s",
				  py->exe, code, text ? text : "");
	free(text);
	return rc;
}

void cli_print_findings(const struct pg_findings *f, const struct pg_profile *p,
			const char *title)
{
	printf("%s: %zu finding%s\n", title, f->n, f->n == 1 ? "" : "s");
	struct pg_buf line;
	pg_buf_init(&line, 0);
	for (size_t i = 0; i < f->n; i++) {
		pg_buf_reset(&line);
		pg_finding_format(&f->v[i], p, &line);
		printf("%2zu. %s\n", i + 1, line.data);
	}
	pg_buf_release(&line);
}

/* Run SCRIPT once under the hook with the given clock (and environment
 * variable, or NULL) into prof. */
static int profile_env(const struct pg_python *py, const char *costs, int argc,
		       char **argv, bool cpu, bool quiet,
		       const struct pg_env_var *var, struct pg_profile *prof,
		       char **failure)
{
	char *root = cli_project_root(), *cwd = pg_realpath(".");
	struct pg_trial_spec spec = {
	    .py = py,
	    .script = argv[0],
	    .args = (const char *const *)argv + 1,
	    .nargs = (size_t)(argc - 1),
	    .cwd = cwd,
	    .root = root,
	    .env = var,
	    .nenv = var ? 1 : 0,
	    .passthrough = !cpu && !quiet, /* the script's output once */
	    .profile = true,
	    .cpu_clock = cpu,
	    .costs = costs,
	};
	struct pg_trial_outcome o;
	pg_profile_init(prof);
	int rc = pg_runner_trial(&spec, &o, prof);
	if (!rc && o.status != PG_BENCH_OK && !*failure)
		*failure = pg_asprintf("%s%s%s", o.error ? o.error : "failed",
				       o.output && *o.output ? ":\n" : "",
				       o.output ? o.output : "");
	pg_trial_outcome_release(&o);
	free(root);
	free(cwd);
	return rc;
}

/* Run SCRIPT once under the hook with the given clock into prof. */
static int profile_once(const struct pg_python *py, const char *costs, int argc,
			char **argv, bool cpu, bool quiet,
			struct pg_profile *prof, char **failure)
{
	return profile_env(py, costs, argc, argv, cpu, quiet, NULL, prof,
			   failure);
}

int cli_profile_cpu_clock(const struct pg_python *py, int argc, char **argv,
			  struct pg_profile *out)
{
	char *failure = NULL;
	int rc = profile_once(py, NULL, argc, argv, true, true, out, &failure);
	if (!rc && failure)
		rc = pg_error_set(PG_ECHILD, "%s %s", argv[0], failure);
	free(failure);
	return rc;
}

/* Findings of one profile, printed and added to the JSON array. */
static void analyse(const struct pg_profile *p, const struct pg_profile *cpu,
		    const struct pg_profile *exc, double call_cost,
		    const char *title, const char *bench, bool print,
		    struct pg_jw *w)
{
	struct pg_analysis_input in = {p, cpu, call_cost, NULL, exc};
	struct pg_findings f;
	pg_analysis_findings(&in, &f);
	if (print)
		cli_print_findings(&f, p, title);
	pg_findings_write_json(&f, p, bench, w);
	pg_findings_release(&f);
}

/*
 * A `profile --format json` export (kind "perfguard-profile"): analysed
 * as it was measured. *is_profile false (nothing done) for other files.
 */
static int analyse_profile_file(const char *path, double call_cost, bool print,
				struct pg_jw *w, bool *is_profile)
{
	*is_profile = false;
	char *text = NULL;
	size_t len = 0;
	struct pg_json *doc = NULL;
	const char *kind = NULL;
	if (pg_file_read(path, PG_RESULTS_MAX_BYTES, &text, &len) ||
	    pg_json_parse_opts(text, len, PG_JSON_PACK_INTS, &doc) ||
	    pg_json_get_str(doc, "kind", &kind) ||
	    strcmp(kind, "perfguard-profile") != 0) {
		/* Not a profile export: the results reader says what it is. */
		pg_error_clear();
		pg_json_free(doc);
		free(text);
		return 0;
	}
	*is_profile = true;
	struct pg_profile prof;
	pg_profile_init(&prof);
	int rc = pg_profile_read_json(&prof, doc);
	if (rc)
		rc = pg_error_set(PG_EINVALID, "%s: %s", path,
				  pg_error_message());
	else if (!prof.ntrials)
		rc = pg_error_set(PG_EINVALID, "%s: the profile has no trials",
				  path);
	else
		analyse(&prof, NULL, NULL, call_cost, path, NULL, print, w);
	pg_profile_release(&prof);
	pg_json_free(doc);
	free(text);
	return rc;
}

/* Every measured benchmark of a results file, one analysis each (or the
 * profile of a `profile --format json` export). */
static int analyse_results(const char *path, double call_cost, bool print,
			   struct pg_jw *w)
{
	bool is_profile = false;
	int rc = analyse_profile_file(path, call_cost, print, w, &is_profile);
	if (rc || is_profile)
		return rc;
	struct pg_results r;
	pg_results_init(&r);
	rc = cli_results_file(path, &r);
	for (size_t i = 0; !rc && i < r.nbenches; i++) {
		const struct pg_bench_result *b = &r.benches[i];
		if (b->status != PG_BENCH_OK || !b->profile.ntrials)
			continue;
		analyse(&b->profile, NULL, NULL, call_cost, b->name, b->name,
			print, w);
	}
	pg_results_release(&r);
	return rc;
}

/*
 * SCRIPT's three runs (wall clock, CPU clock, counting exceptions) and
 * their one analysis. *failure: how the script failed (first run to fail),
 * or NULL; a wall run that measured nothing is analysed not at all and
 * reported by the caller through *nothing.
 */
static int analyse_script(const struct pg_python *py, int argc, char **argv,
			  double call_cost, bool print, struct pg_jw *w,
			  char **failure, bool *nothing)
{
	/* A third run counts exceptions per function (never timed: the
	 * counting costs a call per exception, or per call before 3.12). */
	static const struct pg_env_var count_exceptions = {
	    "PERFGUARD_EXCEPTIONS", "1"};
	struct pg_profile wall, cpu, exc;
	pg_profile_init(&wall);
	pg_profile_init(&cpu);
	pg_profile_init(&exc);
	char costs[512];
	int rc;
	if (!(rc = pg_runner_calibrate(py, costs, sizeof(costs))) &&
	    !(rc = profile_once(py, costs, argc, argv, false, !print, &wall,
				failure)) &&
	    !(rc = profile_once(py, costs, argc, argv, true, true, &cpu,
				failure)) &&
	    !(rc = profile_env(py, costs, argc, argv, true, true,
			       &count_exceptions, &exc, failure))) {
		*nothing = !wall.ntrials;
		if (!*nothing)
			analyse(&wall, cpu.ntrials ? &cpu : NULL,
				exc.ntrials ? &exc : NULL, call_cost, argv[0],
				NULL, print, w);
	}
	pg_profile_release(&wall);
	pg_profile_release(&cpu);
	pg_profile_release(&exc);
	return rc;
}

static int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = {.python = "python3"};
	int rc = cli_opt_parse(&cli_cmd_analyze, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_analyze, stdout);
		return PG_EXIT_OK;
	}
	if (optind >= argc)
		return cli_usage_error(
		    "analyze needs a SCRIPT or a RESULTS.json "
		    "file; see `perfguard help analyze`");
	const char *what = argv[optind];
	if (!pg_path_exists(what) || pg_path_is_dir(what))
		return cli_usage_error("%s: no such file", what);
	struct pg_python py = {0};
	struct pg_buf json;
	pg_buf_init(&json, 0);
	struct pg_jw w;
	pg_jw_init(&w, &json, true);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "schema");
	pg_jw_int(&w, 1);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "perfguard-analyze");
	pg_jw_key(&w, "findings");
	pg_jw_arr_begin(&w);
	char *failure = NULL;
	double call_cost = 0;
	bool print = !o.json || strcmp(o.json, "-") != 0, nothing = false;
	if (!(rc = pg_python_probe(o.python, &py)) &&
	    !(rc = cli_call_cost(&py, &call_cost)))
		rc = pg_str_ends(what, ".json")
			 ? analyse_results(what, call_cost, print, &w)
			 : analyse_script(&py, argc - optind, argv + optind,
					  call_cost, print, &w, &failure,
					  &nothing);
	pg_jw_arr_end(&w);
	pg_jw_obj_end(&w);
	pg_buf_putc(&json, '\n');
	int exit_code = PG_EXIT_OK;
	if (rc)
		exit_code = cli_fail(rc);
	else if (nothing) {
		fprintf(stderr, "perfguard: %s %s; nothing to analyse\n", what,
			failure ? failure : "failed");
		exit_code = PG_EXIT_FAULT;
	} else if (o.json &&
		   (rc = cli_write_output(o.json, json.data, json.len)))
		exit_code = cli_fail(rc);
	else if (failure) {
		fprintf(stderr, "perfguard: %s %s\n", what, failure);
		exit_code = PG_EXIT_FAULT;
	}
	free(failure);
	pg_buf_release(&json);
	pg_python_release(&py);
	return exit_code;
}
