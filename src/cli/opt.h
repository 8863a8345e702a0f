/*
 * opt.h - one option table per command, from which both getopt parsing
 * and the command's help are generated, so they cannot drift apart.
 *
 * A command (struct cli_command) lists its option tables: its own, then
 * shared ones (cli_measure_table for the commands that measure the
 * suite, cli_report_table for those that judge, cli_common_table for
 * every command). Each row names an option once: its id (an enum value,
 * never a bare number), long name, short letter, argument name and help
 * line. cli_opt_parse turns the tables into getopt_long's arrays and
 * hands each option's row id to the command; cli_command_print_help
 * prints the same rows.
 *
 * Adding an option to a command:
 *   1. add an id to the command's `enum <cmd>_opt` (its first member is
 *      CLI_OPT_ID_COMMAND, so ids never collide with letters or '?');
 *   2. add a row to the command's `static const struct cli_opt` table;
 *   3. handle the id in the command's option callback (parse_option);
 *   4. mention it in README.md (tests/e2e/test_cli.py checks help and
 *      README list every option the tables accept).
 * Adding a command: src/cli/cmd_<name>.c with its enum, table and
 * `const struct cli_command cli_cmd_<name>`, declared in cli.h and listed
 * in main.c's command table; an e2e test; a README section. A command
 * with subcommands (baseline) lists them in `subs`; each subcommand is a
 * struct cli_command of its own with its own tables.
 *
 * This deliberately does not validate option values: commands do, with
 * messages naming the option.
 */
#ifndef PG_CLI_OPT_H
#define PG_CLI_OPT_H

#include <getopt.h> /* optind: the first operand after parsing */
#include <stdbool.h>
#include <stdio.h>

/* First ids of each kind of table (above every char getopt returns). */
enum {
	CLI_OPT_ID_COMMAND = 0x100,
	CLI_OPT_ID_MEASURE = 0x180,
	CLI_OPT_ID_REPORT = 0x200,
	CLI_OPT_ID_COMMON = 0x300,
};

/*
 * The id cli_opt_parse passes for an unknown option or a missing argument
 * (getopt printed why).
 */
enum { CLI_OPT_UNKNOWN = '?' };

/* One option: a row of a table. Tables end with a row whose name is NULL. */
struct cli_opt {
	int id;		  /* what cli_opt_parse passes for it */
	const char *name; /* long name without "--" */
	char short_name;  /* '\0' when the option has no short form */
	const char *arg;  /* argument's name in help ("N"); NULL: a flag */
	const char *help; /* '\n' continues the text on an indented line */
};

/* A titled table of options ("Options every command takes:"). */
struct cli_opt_table {
	const char *title;
	const struct cli_opt *opts;
};

/* Option tables a command may have (check: its own, measuring, reports,
 * common). */
#define CLI_MAX_TABLES 4

/* A command or a subcommand (`baseline update`). */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv); /* NULL for subcommands */
	const char *summary;		  /* one line, for the overview */
	const char *usage;		  /* usage line(s), '\n'-terminated */
	const char *notes;		  /* text after usage, or NULL */
	/* Option tables, NULL-terminated (so at most CLI_MAX_TABLES); own
	 * table first, common last. */
	const struct cli_opt_table *tables[CLI_MAX_TABLES + 1];
	/* Options end at the first operand (profile SCRIPT ARGS...). */
	bool stop_at_operand;
	/* Subcommands, NULL-terminated, or NULL. */
	const struct cli_command *const *subs;
};

/*
 * Parse argv's options with cmd's tables: on_option(id, arg, ctx) for each
 * option (CLI_OPT_UNKNOWN included) until one returns non-zero. Returns
 * that, or 0 when every option was taken; optind is then the first
 * operand.
 */
int cli_opt_parse(const struct cli_command *cmd, int argc, char **argv,
		  int (*on_option)(int id, const char *arg, void *ctx),
		  void *ctx);

/*
 * Print cmd's help to f: summary, usage, notes, then every table of the
 * command and of its subcommands (each table once, common ones last),
 * then the exit codes.
 */
void cli_command_print_help(const struct cli_command *cmd, FILE *f);

#endif
