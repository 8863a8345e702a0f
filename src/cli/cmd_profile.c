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
 * Defaults: builtins are timed (as cProfile does: `profile` is for looking
 * at a program, where seeing time inside len() or re matters more than the
 * hook's lower overhead without them).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The largest wire file --from-wire reads (as the runner's cap). */
#define WIRE_MAX_BYTES (256u * 1024u * 1024u)

enum profile_format {
	FMT_TEXT,
	FMT_JSON,
	FMT_PSTATS,
	FMT_COLLAPSED,
	FMT_SPEEDSCOPE
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
	static const char *const names[] = {"text", "json", "pstats",
					    "collapsed", "speedscope"};
	for (size_t i = 0; i < 5; i++) {
		if (!strcmp(arg, names[i])) {
			*out = (enum profile_format)i;
			return 0;
		}
	}
	return pg_error_set(PG_EUSAGE,
			    "--format takes text, json, pstats, collapsed or "
			    "speedscope, not '%s'",
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
	case FMT_TEXT:
	default:
		return pg_profile_export_table(p, key, limit, out);
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
static int convert_wire(const char *path, enum profile_format format,
			enum pg_sort_key sort, size_t limit, const char *output,
			const struct cli_common *common)
{
	char *text = NULL;
	size_t len = 0;
	struct pg_profile p;
	struct pg_buf out;
	pg_profile_init(&p);
	pg_buf_init(&out, 0);
	int rc = pg_file_read(path, WIRE_MAX_BYTES, &text, &len);
	int exit_code;
	if (rc == PG_ENOTFOUND)
		exit_code = cli_usage_error("%s: no such file", path);
	else if (rc)
		exit_code = cli_fail(rc);
	else if ((rc = pg_profile_parse_wire(&p, text, len)))
		exit_code =
		    cli_usage_error("%s is not a perfguard wire file: %s", path,
				    pg_error_message());
	else if ((rc = export_profile(&p, format, sort, limit, path, &out)))
		exit_code = cli_fail(rc);
	else
		exit_code = emit(&out, output, common, path);
	free(text);
	pg_buf_release(&out);
	pg_profile_release(&p);
	return exit_code;
}

int cmd_profile(int argc, char **argv)
{
	static const struct option options[] = {
	    {"trials", required_argument, NULL, 't'},
	    {"sort", required_argument, NULL, 'S'},
	    {"limit", required_argument, NULL, 'l'},
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, 'f'},
	    {"python", required_argument, NULL, 'p'},
	    {"scope", required_argument, NULL, 1001},
	    {"no-builtins", no_argument, NULL, 1002},
	    {"from-wire", required_argument, NULL, 1003},
	    CLI_COMMON_LONG_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common common = {0};
	int trials = 1, limit = 30;
	enum pg_sort_key sort = PG_SORT_TOTTIME;
	enum profile_format format = FMT_TEXT;
	const char *format_name = NULL;
	const char *output = NULL, *python = "python3", *from_wire = NULL;
	struct pg_strvec scope = {0};
	bool no_builtins = false;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:" CLI_COMMON_SHORT_OPTIONS,
				options, NULL)) != -1) {
		if ((rc = cli_common_option(c, optarg, &common)) < 0)
			return cli_fail(rc);
		if (rc)
			continue;
		switch (c) {
		case 't':
			rc = cli_parse_count("--trials", optarg, 1, &trials);
			break;
		case 'S':
			rc = parse_sort(optarg, &sort);
			break;
		case 'l':
			rc = cli_parse_count("--limit", optarg, 0, &limit);
			break;
		case 'o':
			output = optarg;
			break;
		case 'f':
			rc = parse_format(optarg, &format);
			format_name = optarg;
			break;
		case 'p':
			python = optarg;
			break;
		case 1001:
			if (!*optarg) {
				pg_strvec_release(&scope);
				return cli_usage_error(
				    "--scope needs a glob pattern");
			}
			pg_strvec_push(&scope, optarg);
			break;
		case 1002:
			no_builtins = true;
			break;
		case 1003:
			from_wire = optarg;
			break;
		default:
			pg_strvec_release(&scope);
			return cli_usage_error("see `perfguard help profile`");
		}
		if (rc) {
			pg_strvec_release(&scope);
			return cli_fail(rc);
		}
	}
	if (common.help) {
		pg_strvec_release(&scope);
		cli_print_help("profile", stdout);
		return PG_EXIT_OK;
	}
	if (from_wire) {
		pg_strvec_release(&scope);
		if (optind < argc)
			return cli_usage_error("--from-wire takes no SCRIPT");
		if (format_name && format != FMT_TEXT && !output)
			return cli_usage_error("--format %s needs -o FILE (or "
					       "-o - for stdout)",
					       format_name);
		return convert_wire(from_wire, format, sort, (size_t)limit,
				    output, &common);
	}
	if (optind >= argc) {
		pg_strvec_release(&scope);
		return cli_usage_error("profile needs a SCRIPT to run; see "
				       "`perfguard help profile`");
	}
	const char *script = argv[optind];
	const char *bad = NULL;
	if (format_name && format != FMT_TEXT && !output)
		bad = "needs -o";
	else if (!pg_path_exists(script))
		bad = "no such file";
	else if (pg_path_is_dir(script))
		bad = "is a directory, not a script";
	if (bad) {
		pg_strvec_release(&scope);
		if (!strcmp(bad, "needs -o"))
			return cli_usage_error("--format %s needs -o FILE (or "
					       "-o - for stdout)",
					       format_name);
		return cli_usage_error("%s: %s", script, bad);
	}

	struct pg_python py;
	if ((rc = pg_python_probe(python, &py))) {
		pg_strvec_release(&scope);
		return cli_fail(rc);
	}
	char *root = cli_project_root();
	char *cwd = pg_realpath(".");
	struct pg_profile merged;
	pg_profile_init(&merged);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	int exit_code = PG_EXIT_OK;
	char *failure = NULL;

	for (int t = 0; t < trials && !failure; t++) {
		struct pg_trial_spec spec = {
		    .py = &py,
		    .script = script,
		    .args = (const char *const *)argv + optind + 1,
		    .nargs = (size_t)(argc - optind - 1),
		    .cwd = cwd,
		    .root = root,
		    .passthrough = true,
		    .profile = true,
		    .scope = &scope,
		    .no_builtins = no_builtins,
		};
		struct pg_trial_outcome o;
		struct pg_profile one;
		pg_profile_init(&one);
		rc = pg_runner_trial(&spec, &o, &one);
		if (rc) {
			pg_profile_release(&one);
			pg_trial_outcome_release(&o);
			exit_code = cli_fail(rc);
			goto cleanup;
		}
		if (one.ntrials)
			pg_profile_merge(&merged, &one);
		if (o.status != PG_BENCH_OK)
			failure = pg_strdup(o.error ? o.error : "failed");
		pg_profile_release(&one);
		pg_trial_outcome_release(&o);
	}
	if (merged.ntrials == 0) {
		fprintf(stderr, "perfguard: %s %s; no profile was written\n",
			script, failure ? failure : "failed");
		exit_code = PG_EXIT_FAULT;
		goto cleanup;
	}
	rc = export_profile(&merged, format, sort, (size_t)limit, script, &out);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (output) {
		if ((rc = cli_write_output(output, out.data, out.len))) {
			exit_code = cli_fail(rc);
			goto cleanup;
		}
		if (strcmp(output, "-") != 0)
			cli_note(&common, "profile of %s written to %s", script,
				 output);
	} else {
		fputs(out.data, stdout);
		fflush(stdout);
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
	free(root);
	free(cwd);
	pg_strvec_release(&scope);
	return exit_code;
}

/*
 * `perfguard hook-path [--python PY]`: the directory that makes `import
 * perfguard` (perfguard.Profile, measure, python -m perfguard) work in any
 * program PY runs, printed for PYTHONPATH.
 */
int cmd_hook_path(int argc, char **argv)
{
	static const struct option options[] = {
	    {"python", required_argument, NULL, 'p'},
	    CLI_COMMON_LONG_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common common = {0};
	const char *python = "python3";
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT_OPTIONS, options,
				NULL)) != -1) {
		if ((rc = cli_common_option(c, optarg, &common)) < 0)
			return cli_fail(rc);
		if (rc)
			continue;
		if (c != 'p')
			return cli_usage_error(
			    "see `perfguard help hook-path`");
		python = optarg;
	}
	if (common.help) {
		cli_print_help("hook-path", stdout);
		return PG_EXIT_OK;
	}
	if (optind < argc)
		return cli_usage_error("hook-path takes no arguments");
	struct pg_python py;
	if ((rc = pg_python_probe(python, &py)))
		return cli_fail(rc);
	printf("%s\n", py.hook_dir);
	pg_python_release(&py);
	return PG_EXIT_OK;
}
