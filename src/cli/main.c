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

/* The command table: `perfguard --help` lists them in this order. */
static const struct cli_command *const commands[] = {
    &cli_cmd_profile, &cli_cmd_run,	 &cli_cmd_check,
    &cli_cmd_compare, &cli_cmd_baseline, &cli_cmd_hook_path,
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
	pg_runner_install_signals();
	return c->fn(argc - 1, argv + 1);
}
