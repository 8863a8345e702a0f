/*
 * common.c - helpers every command uses: common options, exit codes,
 * messages, progress display, locating the project and its suite.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static const struct cli_opt common_options[] = {
    {CLI_OPT_SUITE, "suite", 's', "FILE",
     "suite file (default perfguard.yml, then\nperfguard.yaml, in the "
     "repository root)"},
    {CLI_OPT_QUIET, "quiet", 'q', NULL, "only errors and results"},
    {CLI_OPT_VERBOSE, "verbose", 'v', NULL, "more detail"},
    {CLI_OPT_COLOR, "color", 0, "WHEN", "auto | always | never"},
    {CLI_OPT_HELP, "help", 'h', NULL, "this help"},
    {0},
};

const struct cli_opt_table cli_common_table = {
    "Options every command takes:",
    common_options,
};

int cli_common_option(int id, const char *arg, struct cli_common *common)
{
	switch (id) {
	case CLI_OPT_SUITE:
		common->suite_path = arg;
		return 1;
	case CLI_OPT_QUIET:
		common->verbosity = -1;
		return 1;
	case CLI_OPT_VERBOSE:
		common->verbosity++;
		return 1;
	case CLI_OPT_HELP:
		common->help = true;
		return 1;
	case CLI_OPT_COLOR:
		if (!strcmp(arg, "auto"))
			common->color = CLI_COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			common->color = CLI_COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			common->color = CLI_COLOR_NEVER;
		else
			return pg_error_set(PG_EUSAGE,
					    "--color takes auto, always or "
					    "never, not '%s'",
					    arg);
		return 1;
	default:
		return 0;
	}
}

int cli_exit_code(int err)
{
	switch (err) {
	case PG_OK:
		return PG_EXIT_OK;
	case PG_EUSAGE:
	case PG_EINVALID:
	case PG_ENOTFOUND:
		return PG_EXIT_USAGE;
	case PG_EINTR:
		return PG_EXIT_INTERRUPTED;
	default:
		return PG_EXIT_FAULT;
	}
}

int cli_fail(int err)
{
	const char *msg = pg_error_message();
	fprintf(stderr, "perfguard: %s\n", *msg ? msg : "failed");
	return cli_exit_code(err);
}

/* "perfguard: <message>" and a newline on stderr. */
static void say(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
static void say(const char *fmt, va_list ap)
{
	fputs("perfguard: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return PG_EXIT_USAGE;
}

void cli_note(const struct cli_common *c, const char *fmt, ...)
{
	if (c && c->verbosity < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

bool cli_use_color(const struct cli_common *c, FILE *f)
{
	if (c->color == CLI_COLOR_ALWAYS)
		return true;
	if (c->color == CLI_COLOR_NEVER || getenv("NO_COLOR"))
		return false;
	return isatty(fileno(f));
}

/* Set when the current directory is in a bare repository. */
static bool in_bare_repository;

char *cli_project_root(void)
{
	struct pg_repo *repo = NULL;
	char *root = NULL;
	int rc = pg_git_open(".", &repo);
	in_bare_repository = rc == PG_EUSAGE;
	if (rc == 0) {
		root = pg_strdup(pg_git_workdir(repo));
		size_t n = strlen(root);
		if (n > 1 && root[n - 1] == '/')
			root[n - 1] = '\0';
		pg_git_close(repo);
	} else {
		pg_error_clear();
		root = pg_realpath(".");
		if (!root)
			root = pg_strdup(".");
	}
	return root;
}

int cli_load_suite(const struct cli_common *c, const char *root,
		   struct pg_suite *out)
{
	if (in_bare_repository)
		return pg_error_set(PG_EUSAGE, "this is a bare repository: run "
					       "perfguard in a checkout");
	if (c->suite_path) {
		char *abs = pg_realpath(c->suite_path);
		if (!abs)
			return pg_error_set(PG_ENOTFOUND,
					    "%s: no such suite file",
					    c->suite_path);
		free(abs);
		return pg_suite_load(c->suite_path, root, out);
	}
	static const char *const names[] = {"perfguard.yml", "perfguard.yaml"};
	for (size_t i = 0; i < 2; i++) {
		char *path = pg_path_join(root, names[i]);
		if (pg_path_exists(path)) {
			int rc = pg_suite_load(path, root, out);
			free(path);
			return rc;
		}
		free(path);
	}
	return pg_error_set(PG_ENOTFOUND,
			    "no perfguard.yml or perfguard.yaml in %s: create "
			    "one (see configs/perfguard.example.yml) or pass "
			    "--suite FILE",
			    root);
}

static bool progress_live;

static void format_duration(char *out, size_t n, int64_t ns)
{
	int64_t s = ns / 1000000000;
	if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60),
			 (long long)(s % 60));
}

void cli_progress(void *ctx, const struct pg_progress *p)
{
	const struct cli_common *c = ctx;
	if (c->verbosity < 0)
		return;
	char elapsed[32], eta[32] = "?";
	format_duration(elapsed, sizeof(elapsed), p->elapsed_ns);
	if (p->eta_ns >= 0)
		format_duration(eta, sizeof(eta), p->eta_ns);
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r\033[K%s [%s] %s %d/%d  elapsed %s  eta %s",
			p->bench, p->side, p->warmup ? "warmup" : "trial",
			p->trial, p->trials, elapsed, eta);
		fflush(stderr);
		progress_live = true;
		return;
	}
	/* Not a terminal: one line per batch of rounds of a benchmark. */
	static char last_bench[256];
	static int last_trials;
	if (p->warmup || p->trial != 1)
		return;
	if (strcmp(last_bench, p->bench) != 0 || p->trials != last_trials ||
	    c->verbosity > 0) {
		fprintf(stderr, "perfguard: %s: %d round%s (elapsed %s)\n",
			p->bench, p->trials, p->trials == 1 ? "" : "s",
			elapsed);
		snprintf(last_bench, sizeof(last_bench), "%s", p->bench);
		last_trials = p->trials;
	}
}

void cli_progress_done(const struct cli_common *c)
{
	(void)c;
	if (progress_live) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		progress_live = false;
	}
}

int cli_parse_count(const char *opt, const char *arg, int min, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > 1000000)
		return pg_error_set(PG_EUSAGE,
				    "%s takes a whole number from %d to "
				    "1000000, not '%s'",
				    opt, min, arg);
	*out = (int)v;
	return 0;
}

int cli_check_output(const char *path)
{
	struct stat st;
	if (!path || !strcmp(path, "-"))
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return pg_error_set(PG_EUSAGE,
				    "cannot write %s: it is a directory (give "
				    "a file name)",
				    path);
	/* The nearest existing ancestor must be a directory (the rest are
	 * made when writing). */
	char *dir = pg_strdup(path);
	int rc = 0;
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				rc = pg_error_set(PG_EUSAGE,
						  "cannot write %s: %s is not "
						  "a directory",
						  path, dir);
			break;
		}
		if ((errno != ENOENT && errno != ENOTDIR) || slash == dir)
			break;
	}
	free(dir);
	return rc;
}

/* a and b are one existing file (not standard output). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return strcmp(a, "-") && strcmp(b, "-") && stat(a, &sa) == 0 &&
	       stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cli_check_report_paths(const struct cli_report_opts *o,
			   const char *const *inputs, size_t ninputs)
{
	const char *paths[] = {o->junit, o->summary, o->json, o->html};
	static const char *const opts[] = {"--junit", "--summary", "--json",
					   "--html"};
	for (size_t i = 0; i < 4; i++) {
		if (!paths[i])
			continue;
		int rc = cli_check_output(paths[i]);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (paths[j] && strcmp(paths[i], "-") &&
			    (!strcmp(paths[i], paths[j]) ||
			     same_file(paths[i], paths[j])))
				return pg_error_set(
				    PG_EUSAGE,
				    "%s and %s both name %s: one report "
				    "would replace the other",
				    opts[j], opts[i], paths[i]);
		for (size_t k = 0; k < ninputs; k++)
			if (same_file(paths[i], inputs[k]))
				return pg_error_set(
				    PG_EUSAGE,
				    "%s %s is an input of this command: "
				    "writing the report would replace it",
				    opts[i], paths[i]);
	}
	return 0;
}

int cli_write_output(const char *path, const char *data, size_t len)
{
	int rc = pg_interrupt_check();
	if (rc)
		return rc;
	if (!strcmp(path, "-")) {
		errno = 0;
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return pg_error_errno(
			    PG_EIO, "cannot write to standard output");
		return 0;
	}
	return pg_file_write_named(path, data, len);
}

/* A token that no line of the fenced output contains. */
static void stop_token(char out[33], const char *data, size_t len)
{
	uint64_t raw[2];
	for (;;) {
		pg_random_bytes(raw, sizeof(raw));
		snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, raw[0], raw[1]);
		if (!memmem(data, len, out, 32))
			return;
	}
}

void cli_replay(FILE *f, const char *title, const char *data, size_t len)
{
	const char *gha = getenv("GITHUB_ACTIONS");
	bool fence = gha && !strcmp(gha, "true");
	char token[33];
	if (fence) {
		stop_token(token, data, len);
		fprintf(f, "::stop-commands::%s\n", token);
	}
	fprintf(f, "---- %s ----\n", title);
	for (size_t i = 0; i < len; i++) {
		if (data[i])
			fputc(data[i], f);
		else
			fputs("\\0", f);
	}
	if (len && data[len - 1] != '\n')
		fputc('\n', f);
	fputs("----\n", f);
	if (fence)
		fprintf(f, "::%s::\n", token);
}

int cli_finish_stdout(int exit_code)
{
	int err = 0;
	const char *what = NULL;
	if (fflush(stdout) != 0) {
		err = errno;
		what = "write failure on standard output";
	} else if (ferror(stdout)) {
		err = EIO;
		what = "unknown write failure on standard output";
	} else if (fclose(stdout) != 0) {
		err = errno;
		what = "close failed on standard output";
	}
	if (!what)
		return exit_code;
	fprintf(stderr, "perfguard: %s: %s\n", what, strerror(err));
	return exit_code == PG_EXIT_OK ? PG_EXIT_FAULT : exit_code;
}
