/*
 * cmd_hook_path.c - `perfguard hook-path [--python PY]`: print the
 * directory that makes `import perfguard` (perfguard.Profile, measure(),
 * `python -m perfguard`) work in any program PY runs, for PYTHONPATH.
 *
 * The directory is the hook built for PY's ABI (docs/hook-protocol.md,
 * "Where the hook lives"); no hook for PY is the usual exit-2 error that
 * names the build command.
 */
#include "cli.h"

#include <stdio.h>

enum hook_path_opt {
	OPT_PYTHON = CLI_OPT_ID_COMMAND,
};

static const struct cli_opt hook_path_options[] = {
    {OPT_PYTHON, "python", 0, "PATH", "interpreter (default python3)"},
    {0},
};

static const struct cli_opt_table hook_path_table = {"Options:",
						     hook_path_options};

static int cmd_hook_path(int argc, char **argv);

const struct cli_command cli_cmd_hook_path = {
    .name = "hook-path",
    .fn = cmd_hook_path,
    .summary = "print the directory that makes `import perfguard` work",
    .usage = "perfguard hook-path [--python PATH]\n",
    .notes = "PYTHONPATH=$(perfguard hook-path --python PY) PY -m perfguard "
	     "script.py\nprofiles like `PY -m cProfile`; `import perfguard` "
	     "gives perfguard.Profile.\n",
    .tables = {&hook_path_table, &cli_common_table},
};

struct hook_path_opts {
	struct cli_common common;
	const char *python;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct hook_path_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	if (id == OPT_PYTHON) {
		o->python = arg;
		return 0;
	}
	return pg_error_set(PG_EUSAGE, "see `perfguard help hook-path`");
}

static int cmd_hook_path(int argc, char **argv)
{
	struct hook_path_opts o = {.python = "python3"};
	int rc =
	    cli_opt_parse(&cli_cmd_hook_path, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_hook_path, stdout);
		return PG_EXIT_OK;
	}
	if (optind < argc)
		return cli_usage_error("hook-path takes no arguments");
	struct pg_python py;
	if ((rc = pg_python_probe(o.python, &py)))
		return cli_fail(rc);
	printf("%s\n", py.hook_dir);
	pg_python_release(&py);
	return PG_EXIT_OK;
}
