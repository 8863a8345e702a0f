/*
 * main.c - perfguard's entry point and command table.
 *
 * `perfguard CMD [options]` dispatches to cmd_<name>; `perfguard help CMD`
 * and `perfguard CMD --help` print the command's help; `--version` the
 * version. An unknown command is a usage error (exit 2) with a hint. The
 * options every command takes (-q, -v, --color, -s) may also come before
 * the command name, as in git: `perfguard -q check`.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The command table: `perfguard --help` lists them in this order. */
static const struct cli_command *const commands[] = {
    &cli_cmd_profile,	&cli_cmd_run,	   &cli_cmd_check,   &cli_cmd_compare,
    &cli_cmd_report,	&cli_cmd_baseline, &cli_cmd_history, &cli_cmd_merge,
    &cli_cmd_record,	&cli_cmd_ingest,   &cli_cmd_analyze, &cli_cmd_hook_path,
    &cli_cmd_calibrate,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: perfguard <command> [options]\n\n"
		   "perfguard stops Python performance regressions in CI, "
		   "function by function.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "help on a command");
	fprintf(f, "\nRun `perfguard help <command>` for its options.\n");
}

/* Length of the leading global option at argv[i] (1 or 2 words), or 0. */
static int global_option(int argc, char **argv, int i)
{
	const char *a = argv[i];
	if (!strcmp(a, "--quiet") || !strcmp(a, "--verbose") ||
	    !strcmp(a, "--help") || !strcmp(a, "-h") ||
	    !strncmp(a, "--color=", 8) || !strncmp(a, "--suite=", 8))
		return 1;
	if (!strcmp(a, "--color") || !strcmp(a, "--suite"))
		return i + 1 < argc ? 2 : 0;
	if (a[0] != '-' || a[1] == '-' || !a[1])
		return 0;
	/* Short ones, clustered as getopt allows: -q, -vv, -qsFILE, -s F. */
	for (const char *c = a + 1; *c; c++) {
		if (*c == 's')
			return c[1] ? 1 : (i + 1 < argc ? 2 : 0);
		if (*c != 'q' && *c != 'v')
			return 0;
	}
	return 1;
}

/* The rewritten argv (kept reachable for leak checkers). */
static char **moved_argv;

/*
 * Move global options that come before the command name to just after
 * it (after its subcommand, for commands that have them), where the
 * command's own parser reads them. argv is left alone when there are
 * none.
 */
static void move_global_options(int *argc, char ***argv)
{
	int n = *argc, i = 1;
	char **v = *argv;
	while (i < n) {
		int len = global_option(n, v, i);
		if (!len)
			break;
		i += len;
	}
	if (i == 1 || i >= n)
		return;
	const struct cli_command *c = find_command(v[i]);
	int head = i + 1; /* command words end here */
	if (c && c->subs && head < n && v[head][0] != '-')
		head++;
	moved_argv = pg_calloc((size_t)n + 1, sizeof(char *));
	int k = 0;
	moved_argv[k++] = v[0];
	for (int j = i; j < head; j++)
		moved_argv[k++] = v[j];
	for (int j = 1; j < i; j++)
		moved_argv[k++] = v[j];
	for (int j = head; j < n; j++)
		moved_argv[k++] = v[j];
	*argv = moved_argv;
}

/* The command argv names, run; its exit code. */
static int dispatch(int argc, char **argv)
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
		const struct cli_command *c = find_command(argv[2]);
		if (!c)
			return cli_usage_error("no such command '%s'", argv[2]);
		cli_command_print_help(c, stdout);
		return PG_EXIT_OK;
	}
	const struct cli_command *c = find_command(name);
	if (!c) {
		const char *hint = NULL;
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (pg_edit_distance(name, commands[i]->name) <= 2)
				hint = commands[i]->name;
		if (hint)
			return cli_usage_error("'%s' is not a perfguard "
					       "command; did you mean '%s'?",
					       name, hint);
		return cli_usage_error("'%s' is not a perfguard command; see "
				       "`perfguard --help`",
				       name);
	}
	pg_signals_install();
	int code = c->fn(argc - 1, argv + 1);
	if (pg_interrupted && code != PG_EXIT_INTERRUPTED) {
		/* A signal the command finished despite: say so, and never
		 * let it pass as success. */
		fprintf(stderr, "perfguard: interrupted\n");
		code = PG_EXIT_INTERRUPTED;
	}
	/* 128 + the signal, as shells report it: SIGTERM 143, SIGHUP 129
	 * (Ctrl-C stays 130). */
	if (code == PG_EXIT_INTERRUPTED && pg_interrupted > 0 &&
	    pg_interrupted < 64)
		code = 128 + pg_interrupted;
	return code;
}

int main(int argc, char **argv)
{
	move_global_options(&argc, &argv);
	/* Help and --version too: what was printed must have been written. */
	return cli_finish_stdout(dispatch(argc, argv));
}
