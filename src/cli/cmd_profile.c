/*
 * cmd_profile.c - `perfguard profile`: a better `python -m cProfile`.
 *
 * Runs one script under the hook (once, or --trials N times, merged),
 * with its own argv and cwd and its output passed through, then prints a
 * cProfile-style table or writes an export. The script's failure is
 * reported after its profile (exit 3); a missing script or bad flag is
 * exit 2 before anything runs. --scope / --no-builtins choose what is
 * timed; --from-wire converts a file the hook wrote (perfguard.Profile's
 * dump) instead of running anything.
 *
 * --clock wall|cpu picks the hook's clock; without it $PERFGUARD_CLOCK (the
 * variable the runner sets for every trial), else the suite's `clock:`
 * (--suite, or the project's perfguard.yml when there is one), else wall.
 *
 * Defaults: builtins are timed (as cProfile does: `profile` is for looking
 * at a program, where seeing time inside len() or re matters more than the
 * hook's lower overhead without them).
 */
#include "cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfguard/analysis.h"
#include "perfguard/report.h"

/* The largest wire file --from-wire reads (as the runner's cap). */
#define WIRE_MAX_BYTES (256u * 1024u * 1024u)

enum profile_format {
	FMT_TEXT,
	FMT_JSON,
	FMT_PSTATS,
	FMT_COLLAPSED,
	FMT_SPEEDSCOPE,
	FMT_HTML,
	FMT_SVG
};

static int parse_sort(const char *arg, enum pg_sort_key *out)
{
	static const struct {
		const char *name;
		enum pg_sort_key key;
	} keys[] = {
	    {"tottime", PG_SORT_TOTTIME}, {"cumtime", PG_SORT_CUMTIME},
	    {"calls", PG_SORT_CALLS},	  {"ncalls", PG_SORT_CALLS},
	    {"name", PG_SORT_NAME},	  {"cumulative", PG_SORT_CUMTIME},
	    {"time", PG_SORT_TOTTIME},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strcmp(arg, keys[i].name)) {
			*out = keys[i].key;
			return 0;
		}
	}
	return pg_error_set(PG_EUSAGE,
			    "--sort takes tottime, cumtime, calls or name, "
			    "not '%s'",
			    arg);
}

static int parse_format(const char *arg, enum profile_format *out)
{
	static const char *const names[] = {
	    "text", "json", "pstats", "collapsed", "speedscope", "html", "svg"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*out = (enum profile_format)i;
			return 0;
		}
	}
	return pg_error_set(PG_EUSAGE,
			    "--format takes text, json, pstats, collapsed, "
			    "speedscope, html or svg, not '%s'",
			    arg);
}

static int export_profile(const struct pg_profile *p, enum profile_format f,
			  enum pg_sort_key key, size_t limit, const char *name,
			  struct pg_buf *out)
{
	switch (f) {
	case FMT_JSON:
		return pg_profile_export_json(p, out);
	case FMT_PSTATS:
		return pg_profile_export_pstats(p, out);
	case FMT_COLLAPSED:
		return pg_profile_export_collapsed(p, out);
	case FMT_SPEEDSCOPE:
		return pg_profile_export_speedscope(p, name, out);
	case FMT_HTML:
		return pg_report_profile_html(p, name, out);
	case FMT_SVG:
		return pg_report_profile_svg(p, name, out);
	case FMT_TEXT:
	default:
		return pg_profile_export_table(p, key, limit, out);
	}
}

enum profile_opt {
	OPT_TRIALS = CLI_OPT_ID_COMMAND,
	OPT_SORT,
	OPT_LIMIT,
	OPT_OUTPUT,
	OPT_FORMAT,
	OPT_PYTHON,
	OPT_SCOPE,
	OPT_NO_BUILTINS,
	OPT_FROM_WIRE,
	OPT_ANALYZE,
	OPT_CLOCK,
};

static const struct cli_opt profile_options[] = {
    {OPT_TRIALS, "trials", 0, "N",
     "run the script N times and aggregate (median)"},
    {OPT_SORT, "sort", 0, "KEY",
     "tottime | cumtime | calls | name (default tottime)"},
    {OPT_LIMIT, "limit", 0, "N", "print at most N rows (default 30; 0 = all)"},
    {OPT_OUTPUT, "output", 'o', "FILE",
     "write the profile to FILE ('-' = stdout)"},
    {OPT_FORMAT, "format", 0, "FMT",
     "text | json | pstats | collapsed | speedscope |\nhtml (interactive flame "
     "graph page) | svg"},
    {OPT_PYTHON, "python", 0, "PATH", "interpreter (default python3)"},
    {OPT_SCOPE, "scope", 0, "PATTERN",
     "time only functions whose id matches (repeatable);\nthe rest is "
     "folded into its in-scope caller"},
    {OPT_NO_BUILTINS, "no-builtins", 0, NULL,
     "do not time C functions separately"},
    {OPT_FROM_WIRE, "from-wire", 0, "FILE",
     "export a file the hook wrote instead of running\na script "
     "(perfguard.Profile.dump uses it)"},
    {OPT_CLOCK, "clock", 0, "wall|cpu",
     "time with the wall clock or the thread's CPU clock\n(cpu: time the "
     "thread does not run is charged to\nno one); default $PERFGUARD_CLOCK, "
     "else the\nsuite's clock, else wall"},
    {OPT_ANALYZE, "analyze", 0, NULL,
     "print the findings of `perfguard analyze` after the\ntable (one more "
     "run, with the CPU clock)"},
    {0},
};

static const struct cli_opt_table profile_table = {"Options:", profile_options};

static int cmd_profile(int argc, char **argv);

/* --analyze: the findings of p (with a CPU-clock run for waiting). */
static int print_analysis(const struct pg_python *py,
			  const struct pg_profile *p, int argc, char **argv)
{
	double call_cost = 0;
	struct pg_profile cpu;
	int rc = cli_call_cost(py, &call_cost);
	if (rc || (rc = cli_profile_cpu_clock(py, argc, argv, &cpu)))
		return rc;
	struct pg_analysis_input in = {p, &cpu, call_cost, NULL, NULL};
	struct pg_findings f;
	pg_analysis_findings(&in, &f);
	printf("\n");
	cli_print_findings(&f, p, "analysis");
	pg_findings_release(&f);
	pg_profile_release(&cpu);
	return 0;
}

const struct cli_command cli_cmd_profile = {
    .name = "profile",
    .fn = cmd_profile,
    .summary = "profile one Python script and print a cProfile-style table",
    .usage = "perfguard profile [options] SCRIPT [ARGS...]\n",
    .tables = {&profile_table, &cli_common_table},
    .stop_at_operand = true,
};

/* What the options ask for. */
struct profile_opts {
	struct cli_common common;
	int trials, limit;
	enum pg_sort_key sort;
	enum profile_format format;
	const char *format_name, *output, *python, *from_wire;
	struct pg_strvec scope;
	bool no_builtins;
	bool analyze;
	const char *clock; /* "wall" or "cpu"; NULL: not given */
	bool cpu_clock;	   /* what --clock or $PERFGUARD_CLOCK chose */
};

/* --clock's argument or $PERFGUARD_CLOCK's value into *cpu. */
static int parse_clock(const char *what, const char *arg, bool *cpu)
{
	if (strcmp(arg, "wall") && strcmp(arg, "cpu"))
		return pg_error_set(PG_EUSAGE, "%s takes wall or cpu, not '%s'",
				    what, arg);
	*cpu = !strcmp(arg, "cpu");
	return 0;
}

static int parse_option(int id, const char *arg, void *ctx)
{
	struct profile_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_TRIALS:
		return cli_parse_count("--trials", arg, 1, &o->trials);
	case OPT_SORT:
		return parse_sort(arg, &o->sort);
	case OPT_LIMIT:
		return cli_parse_count("--limit", arg, 0, &o->limit);
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case OPT_FORMAT:
		o->format_name = arg;
		return parse_format(arg, &o->format);
	case OPT_PYTHON:
		o->python = arg;
		return 0;
	case OPT_SCOPE:
		if (!*arg)
			return pg_error_set(PG_EUSAGE,
					    "--scope needs a glob pattern");
		pg_strvec_push(&o->scope, arg);
		return 0;
	case OPT_NO_BUILTINS:
		o->no_builtins = true;
		return 0;
	case OPT_FROM_WIRE:
		o->from_wire = arg;
		return 0;
	case OPT_ANALYZE:
		o->analyze = true;
		return 0;
	case OPT_CLOCK:
		o->clock = arg;
		return parse_clock("--clock", arg, &o->cpu_clock);
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help profile`");
	}
}

/* Write out (to output, or stdout) and say where it went. */
static int emit(const struct pg_buf *out, const char *output,
		const struct cli_common *common, const char *what)
{
	if (!output) {
		fputs(out->data, stdout);
		fflush(stdout);
		return PG_EXIT_OK;
	}
	int rc = cli_write_output(output, out->data, out->len);
	if (rc)
		return cli_fail(rc);
	if (strcmp(output, "-") != 0)
		cli_note(common, "profile of %s written to %s", what, output);
	return PG_EXIT_OK;
}

/* --from-wire FILE: export a wire file the hook wrote. */
static int convert_wire(const struct profile_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	struct pg_profile p;
	struct pg_buf out;
	pg_profile_init(&p);
	pg_buf_init(&out, 0);
	int rc = pg_file_read(o->from_wire, WIRE_MAX_BYTES, &text, &len);
	int exit_code;
	if (rc == PG_ENOTFOUND)
		exit_code = cli_usage_error("%s: no such file", o->from_wire);
	else if (rc)
		exit_code = cli_fail(rc);
	else if (pg_profile_parse_wire(&p, text, len))
		exit_code =
		    cli_usage_error("%s is not a perfguard wire file: %s",
				    o->from_wire, pg_error_message());
	else if ((rc = export_profile(&p, o->format, o->sort, (size_t)o->limit,
				      o->from_wire, &out)))
		exit_code = cli_fail(rc);
	else
		exit_code = emit(&out, o->output, &o->common, o->from_wire);
	free(text);
	pg_buf_release(&out);
	pg_profile_release(&p);
	return exit_code;
}

static int run_profile(struct profile_opts *opts, int argc, char **argv);

static int cmd_profile(int argc, char **argv)
{
	struct profile_opts opts = {
	    .trials = 1,
	    .limit = 30,
	    .sort = PG_SORT_TOTTIME,
	    .format = FMT_TEXT,
	    .python = "python3",
	};
	int rc =
	    cli_opt_parse(&cli_cmd_profile, argc, argv, parse_option, &opts);
	if (!rc)
		rc = run_profile(&opts, argc, argv);
	else
		rc = cli_fail(rc);
	pg_strvec_release(&opts.scope);
	return rc;
}

/* The suite's clock into *cpu; no suite (and no --suite) is no change. */
static int suite_clock(const struct cli_common *c, bool *cpu)
{
	struct pg_suite suite;
	char *root = cli_project_root();
	int rc = cli_load_suite(c, root, &suite);
	free(root);
	if (rc == 0) {
		*cpu = suite.clock == PG_CLOCK_CPU;
		pg_suite_release(&suite);
	} else if (rc == PG_ENOTFOUND && !c->suite_path) {
		pg_error_clear();
		rc = 0;
	}
	return rc;
}

/*
 * The clock when --clock did not choose: $PERFGUARD_CLOCK (what the
 * runner gives the hook; a user who sets it expects it), else the
 * suite's, else wall. 0, or the exit code (2 for a bad value or suite,
 * after the message); --analyze needs the wall clock.
 */
static int choose_clock(struct profile_opts *o)
{
	const char *env = getenv("PERFGUARD_CLOCK");
	int rc = 0;
	if (!o->clock && env && *env)
		rc = parse_clock("PERFGUARD_CLOCK", env, &o->cpu_clock);
	else if (!o->clock)
		rc = suite_clock(&o->common, &o->cpu_clock);
	if (rc)
		return cli_fail(rc);
	if (o->analyze && o->cpu_clock)
		return cli_usage_error(
		    "--analyze compares a wall-clock run with a CPU-clock "
		    "run; run it with --clock wall");
	return 0;
}

/*
 * The usage checks before anything runs: 0, or the exit code (2) after
 * the message. Also the operands of --from-wire, which runs nothing.
 */
static int check_args(const struct profile_opts *o, int argc, char **argv)
{
	if (o->from_wire && optind < argc)
		return cli_usage_error("--from-wire takes no SCRIPT");
	if (!o->from_wire && optind >= argc)
		return cli_usage_error("profile needs a SCRIPT to run; see "
				       "`perfguard help profile`");
	if (o->format_name && o->format != FMT_TEXT && !o->output)
		return cli_usage_error("--format %s needs -o FILE (or -o - "
				       "for stdout)",
				       o->format_name);
	if (cli_check_output(o->output))
		return cli_fail(PG_EUSAGE);
	if (o->from_wire)
		return 0;
	const char *script = argv[optind];
	if (!pg_path_exists(script))
		return cli_usage_error("%s: no such file", script);
	if (pg_path_is_dir(script))
		return cli_usage_error("%s is a directory, not a script",
				       script);
	return 0;
}

/*
 * Run argv[optind] with its arguments o->trials times (stopping at the
 * first that fails), merging each trial's profile into *merged. A failed
 * script is *failure (new string), not an error: its profile still
 * counts. Errors are the runner's.
 */
static int run_trials(const struct profile_opts *o, const struct pg_python *py,
		      int argc, char **argv, struct pg_profile *merged,
		      char **failure)
{
	char *root = cli_project_root();
	char *cwd = pg_realpath(".");
	int rc = 0;
	for (int t = 0; t < o->trials && !*failure && !rc; t++) {
		struct pg_trial_spec spec = {
		    .py = py,
		    .script = argv[optind],
		    .args = (const char *const *)argv + optind + 1,
		    .nargs = (size_t)(argc - optind - 1),
		    .cwd = cwd,
		    .root = root,
		    .passthrough = true,
		    .profile = true,
		    .scope = &o->scope,
		    .no_builtins = o->no_builtins,
		    .cpu_clock = o->cpu_clock,
		};
		struct pg_trial_outcome out;
		struct pg_profile one;
		pg_profile_init(&one);
		rc = pg_runner_trial(&spec, &out, &one);
		if (!rc && one.ntrials)
			pg_profile_merge(merged, &one);
		if (!rc && out.status != PG_BENCH_OK)
			*failure = pg_strdup(out.error ? out.error : "failed");
		pg_profile_release(&one);
		pg_trial_outcome_release(&out);
	}
	free(root);
	free(cwd);
	return rc;
}

/*
 * With `-o -` stdout carries the export, so the script's own output goes to
 * stderr while it runs (it was mixed into the file). Returns perfguard's
 * stdout, saved close-on-exec for restore_stdout, or -1 (nothing moved).
 */
static int stdout_to_stderr(const char *output)
{
	if (!output || strcmp(output, "-") != 0)
		return -1;
	fflush(stdout);
	int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		close(saved);
		return -1;
	}
	return saved;
}

static void restore_stdout(int saved)
{
	if (saved < 0)
		return;
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

static int run_profile(struct profile_opts *opts, int argc, char **argv)
{
	if (opts->common.help) {
		cli_command_print_help(&cli_cmd_profile, stdout);
		return PG_EXIT_OK;
	}
	int exit_code = check_args(opts, argc, argv);
	if (!exit_code && !opts->from_wire)
		exit_code = choose_clock(opts);
	if (exit_code)
		return exit_code;
	if (opts->from_wire)
		return convert_wire(opts);
	const char *script = argv[optind];
	struct pg_python py;
	int rc = pg_python_probe(opts->python, &py);
	if (rc)
		return cli_fail(rc);
	struct pg_profile merged;
	pg_profile_init(&merged);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	char *failure = NULL;

	int saved = stdout_to_stderr(opts->output);
	rc = run_trials(opts, &py, argc, argv, &merged, &failure);
	restore_stdout(saved);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (merged.ntrials == 0) {
		fprintf(stderr, "perfguard: %s %s; no profile was written\n",
			script, failure ? failure : "failed");
		exit_code = PG_EXIT_FAULT;
		goto cleanup;
	}
	if ((rc = export_profile(&merged, opts->format, opts->sort,
				 (size_t)opts->limit, script, &out))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if ((exit_code = emit(&out, opts->output, &opts->common, script)))
		goto cleanup;
	if (opts->analyze && !failure) {
		/* With `-o -` the findings go to stderr, after the export on
		 * stdout (they made a JSON or pstats export unreadable). The
		 * CPU-clock run's own output goes there too. */
		saved = stdout_to_stderr(opts->output);
		rc = print_analysis(&py, &merged, argc - optind, argv + optind);
		restore_stdout(saved);
		if (rc) {
			exit_code = cli_fail(rc);
			goto cleanup;
		}
	}
	if (failure) {
		fprintf(stderr, "perfguard: %s %s\n", script, failure);
		exit_code = PG_EXIT_FAULT;
	}
cleanup:
	free(failure);
	pg_buf_release(&out);
	pg_profile_release(&merged);
	pg_python_release(&py);
	return exit_code;
}
