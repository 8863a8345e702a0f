/*
 * opt.c - getopt_long arrays and help text generated from the option
 * tables of opt.h. The parser owns the arrays it builds; rows are only
 * borrowed. Help columns: options in 22, text from column 25.
 */
#include "opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/util.h"

#define HELP_COLUMN 24

static size_t count_rows(const struct cli_command *cmd)
{
	size_t n = 0;
	for (size_t t = 0; cmd->tables[t]; t++)
		for (const struct cli_opt *o = cmd->tables[t]->opts; o->name;
		     o++)
			n++;
	return n;
}

/* getopt_long's view of a command's tables. */
struct parser {
	const struct cli_command *cmd;
	struct option *longopts;
	char *shortopts;
};

/* No more options: optind is the first operand. */
#define DONE (-1)

static void parser_init(struct parser *p, const struct cli_command *cmd)
{
	size_t n = count_rows(cmd);
	p->cmd = cmd;
	p->longopts = pg_calloc(n + 1, sizeof(*p->longopts));
	/* '+', then up to "x:" per row, then NUL. */
	p->shortopts = pg_calloc(2 * n + 2, 1);
	char *s = p->shortopts;
	if (cmd->stop_at_operand)
		*s++ = '+';
	size_t i = 0;
	for (size_t t = 0; cmd->tables[t]; t++) {
		for (const struct cli_opt *o = cmd->tables[t]->opts; o->name;
		     o++, i++) {
			p->longopts[i] = (struct option){
			    o->name, o->arg ? required_argument : no_argument,
			    NULL, o->id};
			if (o->short_name) {
				*s++ = o->short_name;
				if (o->arg)
					*s++ = ':';
			}
		}
	}
	optind = 1;
}

static void parser_release(struct parser *p)
{
	free(p->longopts);
	free(p->shortopts);
	p->longopts = NULL;
	p->shortopts = NULL;
}

/* The row id of short option c, or CLI_OPT_UNKNOWN. */
static int short_id(const struct cli_command *cmd, int c)
{
	for (size_t t = 0; cmd->tables[t]; t++)
		for (const struct cli_opt *o = cmd->tables[t]->opts; o->name;
		     o++)
			if (o->short_name && o->short_name == c)
				return o->id;
	return CLI_OPT_UNKNOWN;
}

/* Is the long option with this id a flag (no argument)? */
static bool takes_no_argument(const struct parser *p, int id)
{
	for (const struct option *o = p->longopts; o->name; o++)
		if (o->val == id)
			return o->has_arg == no_argument;
	return false;
}

/* The next option's row id and argument, DONE or CLI_OPT_UNKNOWN. */
static int parser_next(struct parser *p, int argc, char **argv,
		       const char **arg)
{
	opterr = 0; /* getopt's own messages lack the "perfguard:" prefix */
	int c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
	*arg = optarg;
	if (c == -1)
		return DONE;
	if (c == '?' || c == ':') {
		const char *word =
		    optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		if (optopt && optopt < CLI_OPT_ID_COMMAND &&
		    !strchr(p->shortopts, optopt))
			fprintf(stderr, "perfguard: %s: unknown option '-%c'\n",
				p->cmd->name, optopt);
		else if (optopt && takes_no_argument(p, optopt))
			fprintf(stderr,
				"perfguard: %s: option '%s' takes no "
				"argument\n",
				p->cmd->name, word);
		else if (optopt)
			fprintf(stderr,
				"perfguard: %s: option '%s' needs an "
				"argument\n",
				p->cmd->name, word);
		else
			fprintf(stderr,
				"perfguard: %s: unrecognized option '%s'\n",
				p->cmd->name, word);
		return CLI_OPT_UNKNOWN;
	}
	if (c >= CLI_OPT_ID_COMMAND)
		return c;
	return short_id(p->cmd, c);
}

int cli_opt_parse(const struct cli_command *cmd, int argc, char **argv,
		  int (*on_option)(int id, const char *arg, void *ctx),
		  void *ctx)
{
	struct parser p;
	const char *arg;
	int id, rc = 0;
	parser_init(&p, cmd);
	while (!rc && (id = parser_next(&p, argc, argv, &arg)) != DONE)
		rc = on_option(id, arg, ctx);
	parser_release(&p);
	return rc;
}

static void print_row(const struct cli_opt *o, FILE *f)
{
	char left[64];
	int len;
	if (o->short_name)
		len =
		    snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name,
			     o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		len = snprintf(left, sizeof(left), "--%s%s%s", o->name,
			       o->arg ? " " : "", o->arg ? o->arg : "");
	if (len > HELP_COLUMN - 3)
		fprintf(f, "  %s\n%*s", left, HELP_COLUMN, "");
	else
		fprintf(f, "  %-*s", HELP_COLUMN - 2, left);
	for (const char *h = o->help; *h; h++) {
		fputc(*h, f);
		if (*h == '\n')
			fprintf(f, "%*s", HELP_COLUMN, "");
	}
	fputc('\n', f);
}

static void print_table(const struct cli_opt_table *t, FILE *f)
{
	if (!t->opts[0].name)
		return;
	fprintf(f, "\n%s\n", t->title);
	for (const struct cli_opt *o = t->opts; o->name; o++)
		print_row(o, f);
}

/* Collect cmd's tables and its subcommands', each once, in order. */
static size_t collect_tables(const struct cli_command *cmd,
			     const struct cli_opt_table **out, size_t n,
			     size_t cap)
{
	for (size_t t = 0; cmd->tables[t]; t++) {
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= out[k] == cmd->tables[t];
		if (!seen && n < cap)
			out[n++] = cmd->tables[t];
	}
	for (size_t s = 0; cmd->subs && cmd->subs[s]; s++)
		n = collect_tables(cmd->subs[s], out, n, cap);
	return n;
}

void cli_command_print_help(const struct cli_command *cmd, FILE *f)
{
	fprintf(f, "perfguard %s - %s\n\nusage: ", cmd->name, cmd->summary);
	if (cmd->usage)
		fputs(cmd->usage, f);
	for (size_t s = 0; cmd->subs && cmd->subs[s]; s++)
		fprintf(f, "%s%s", cmd->usage || s ? "       " : "",
			cmd->subs[s]->usage);
	if (cmd->notes)
		fprintf(f, "\n%s", cmd->notes);
	const struct cli_opt_table *tables[16];
	size_t n = collect_tables(cmd, tables, 0, 16);
	/* Tables shared by every command come last. */
	for (size_t k = 0; k < n; k++)
		if (tables[k]->opts[0].id < CLI_OPT_ID_COMMON)
			print_table(tables[k], f);
	for (size_t k = 0; k < n; k++)
		if (tables[k]->opts[0].id >= CLI_OPT_ID_COMMON)
			print_table(tables[k], f);
	fprintf(f, "\nExit codes: 0 no regression, 1 regression, 2 usage or "
		   "configuration\nerror, 3 a benchmark or perfguard itself "
		   "failed, 130 interrupted.\n");
}
