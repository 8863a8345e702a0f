/*
 * main.c - perfguard's entry point and command table.
 *
 * `perfguard CMD [options]` dispatches to cmd_<name>; `perfguard help CMD`
 * and `perfguard CMD --help` print the command's help; `--version` the
 * version. An unknown command is a usage error (exit 2) with a hint.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct command commands[] = {
    {"profile", cmd_profile,
     "profile one Python script and print a cProfile-style table",
     "perfguard profile [options] SCRIPT [ARGS...]\n"
     "\n"
     "  --trials N            run the script N times and aggregate "
     "(median)\n"
     "  --sort KEY            tottime | cumtime | calls | name "
     "(default tottime)\n"
     "  --limit N             print at most N rows (default 30; 0 = "
     "all)\n"
     "  -o, --output FILE     write the profile to FILE ('-' = stdout)\n"
     "  --format FMT          text | json | pstats | collapsed | "
     "speedscope\n"
     "  --python PATH         interpreter (default python3)\n"
     "  --scope PATTERN       time only functions whose id matches "
     "(repeatable;\n"
     "                        the rest is folded into its in-scope "
     "caller)\n"
     "  --no-builtins         do not time C functions separately\n"
     "  --from-wire FILE      export a file the hook wrote instead of "
     "running\n"
     "                        a script (perfguard.Profile.dump uses it)\n"},
    {"hook-path", cmd_hook_path,
     "print the directory that makes `import perfguard` work (PYTHONPATH)",
     "perfguard hook-path [--python PATH]\n"
     "\n"
     "  --python PATH         interpreter (default python3)\n"
     "\n"
     "PYTHONPATH=$(perfguard hook-path --python PY) PY -m perfguard "
     "script.py\n"
     "profiles like `PY -m cProfile`; `import perfguard` gives "
     "perfguard.Profile.\n"},
    {"run", cmd_run, "run the suite on the working tree and save results",
     "perfguard run [options]\n"
     "\n"
     "  -o, --output FILE     results file (default "
     ".perfguard/results/<commit>[-dirty].json)\n"
     "  --bench NAME          only this benchmark (repeatable)\n"
     "  --trials N            override the suite's trials\n"},
    {"check", cmd_check,
     "compare head with its base and fail on regressions (the gate)",
     "perfguard check [options]\n"
     "\n"
     "  --against REF         base branch or commit (default: suite's "
     "against,\n"
     "                        origin/main, main; then the merge-base)\n"
     "  --baseline MODE       rerun | stored | auto (default auto)\n"
     "  --bench NAME          only this benchmark (repeatable)\n"
     "  --trials N            override the suite's trials\n"
     "  --junit FILE          JUnit XML report\n"
     "  --junit-flavor F      strict | annotated (default strict)\n"
     "  --summary FILE        Markdown summary (e.g. $GITHUB_STEP_SUMMARY)\n"
     "  --json FILE           JSON report\n"
     "  --annotations         GitHub annotations on stdout (default when\n"
     "                        GITHUB_ACTIONS=true)\n"
     "  --no-annotations      never print annotations\n"},
    {"compare", cmd_compare,
     "judge two results files (or stored baselines) without running",
     "perfguard compare [options] BASE HEAD\n"
     "\n"
     "BASE and HEAD are results files or commits with stored baselines.\n"
     "Report options as for check: --junit, --junit-flavor, --summary,\n"
     "--json, --annotations.\n"},
    {"baseline", cmd_baseline, "record and manage per-commit baselines",
     "perfguard baseline update [--commit REF] [--from FILE] [--push "
     "REMOTE]\n"
     "                          [--allow-dirty] [--trials N]\n"
     "perfguard baseline show [REF]\n"
     "perfguard baseline list [--limit N]\n"
     "perfguard baseline drop REF\n"
     "perfguard baseline prune --keep N\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const char common_help[] =
    "\nOptions every command takes:\n"
    "  -s, --suite FILE      suite file (default perfguard.yml, then\n"
    "                        perfguard.yaml, in the repository root)\n"
    "  -q, --quiet           only errors and results\n"
    "  -v, --verbose         more detail\n"
    "  --color WHEN          auto | always | never\n"
    "  -h, --help            this help\n"
    "\nExit codes: 0 no regression, 1 regression, 2 usage or "
    "configuration\nerror, 3 a benchmark or perfguard itself failed, 130 "
    "interrupted.\n";

void cli_print_help(const char *command, FILE *f)
{
	const struct command *c = find_command(command);
	if (!c)
		return;
	fprintf(f, "perfguard %s - %s\n\nusage: %s%s", c->name, c->summary,
		c->usage, common_help);
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: perfguard <command> [options]\n\n"
		   "perfguard stops Python performance regressions in CI, "
		   "function by function.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "help on a command");
	fprintf(f, "\nRun `perfguard help <command>` for its options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return PG_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("perfguard %s\n", PG_VERSION);
		return PG_EXIT_OK;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		print_overview(stdout);
		return PG_EXIT_OK;
	}
	if (!strcmp(name, "help")) {
		if (argc < 3) {
			print_overview(stdout);
			return PG_EXIT_OK;
		}
		if (!find_command(argv[2]))
			return cli_usage_error("no such command '%s'", argv[2]);
		cli_print_help(argv[2], stdout);
		return PG_EXIT_OK;
	}
	const struct command *c = find_command(name);
	if (!c) {
		const char *hint = NULL;
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (pg_edit_distance(name, commands[i].name) <= 2)
				hint = commands[i].name;
		if (hint)
			return cli_usage_error("'%s' is not a perfguard "
					       "command; did you mean '%s'?",
					       name, hint);
		return cli_usage_error("'%s' is not a perfguard command; see "
				       "`perfguard --help`",
				       name);
	}
	pg_runner_install_signals();
	return c->fn(argc - 1, argv + 1);
}
