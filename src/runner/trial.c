/*
 * trial.c - one profiled (or plain) run of a Python script.
 *
 * Builds the command line of the hook protocol (docs/hook-protocol.md),
 * gives the child a private file for the hook's output, runs it through
 * pg_spawn and parses what the hook wrote. A trial that fails still
 * returns its captured output for the reports; its profile is parsed
 * whenever the hook managed to write one (a script that raises still has
 * a profile worth printing).
 */
#include "spawn.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The hook's output can be large for big programs, but not unbounded. */
#define WIRE_MAX_BYTES (256u * 1024u * 1024u)

static const char boot_code[] =
    "import sys; sys.path.append(sys.argv.pop(1)); import perfguard._boot";

static char *describe_failure(const struct spawn_result *r, int64_t timeout_ms)
{
	if (r->timed_out)
		return pg_asprintf("timed out after %.3gs and was killed",
				   (double)timeout_ms / 1000.0);
	if (r->exit_code < 0)
		return pg_asprintf("killed by signal %d (%s)", -r->exit_code,
				   strsignal(-r->exit_code));
	return pg_asprintf("exited with status %d", r->exit_code);
}

/*
 * Make source paths below the project root relative to it, as function
 * ids are: base and head run in different directories, and annotations
 * must name files as the repository does.
 */
static void relativise_files(struct pg_profile *prof, const char *root)
{
	char *real = pg_realpath(root);
	const char *bases[2] = {root, real};
	for (size_t i = 0; i < prof->nfuncs; i++) {
		char *file = prof->funcs[i].file;
		for (int k = 0; k < 2 && file; k++) {
			size_t n = bases[k] ? strlen(bases[k]) : 0;
			if (n && !strncmp(file, bases[k], n) &&
			    file[n] == '/') {
				memmove(file, file + n + 1, strlen(file + n));
				break;
			}
		}
	}
	free(real);
}

/* The child's command line and environment, and what they point into. */
struct command {
	const char **argv;
	struct pg_env_var *env;
	size_t argc, nenv;
	char *tmpdir, *wire_path, *scope; /* owned; NULL when not profiled */
	char comp_scale[32];		  /* PERFGUARD_COMP_SCALE's value */
};

/* The hook's part of the command: boot code, wire file, its settings. */
static int add_hook(struct command *c, const struct pg_trial_spec *spec)
{
	int rc = pg_mkdtemp("perfguard-trial", &c->tmpdir);
	if (rc)
		return rc;
	c->wire_path = pg_path_join(c->tmpdir, "profile.wire");
	c->argv[c->argc++] = "-c";
	c->argv[c->argc++] = boot_code;
	c->argv[c->argc++] = spec->py->hook_dir;
	struct pg_env_var *env = c->env;
	env[c->nenv++] =
	    (struct pg_env_var){"PERFGUARD_WIRE_OUT", c->wire_path};
	env[c->nenv++] = (struct pg_env_var){"PERFGUARD_ROOT",
					     (char *)(spec->root  ? spec->root
						      : spec->cwd ? spec->cwd
								  : ".")};
	env[c->nenv++] = (struct pg_env_var){"PERFGUARD_CLOCK",
					     spec->cpu_clock ? "cpu" : "wall"};
	if (spec->costs && *spec->costs)
		env[c->nenv++] =
		    (struct pg_env_var){"PERFGUARD_COSTS", (char *)spec->costs};
	if (spec->comp_scale > 0) {
		snprintf(c->comp_scale, sizeof(c->comp_scale), "%.6f",
			 spec->comp_scale);
		env[c->nenv++] =
		    (struct pg_env_var){"PERFGUARD_COMP_SCALE", c->comp_scale};
	}
	if (spec->scope && spec->scope->n) {
		struct pg_buf b;
		pg_buf_init(&b, 0);
		for (size_t i = 0; i < spec->scope->n; i++)
			pg_buf_printf(&b, "%s%s", i ? "\n" : "",
				      spec->scope->v[i]);
		c->scope = pg_buf_detach(&b, NULL);
		env[c->nenv++] =
		    (struct pg_env_var){"PERFGUARD_SCOPE", c->scope};
	}
	env[c->nenv++] = (struct pg_env_var){"PERFGUARD_BUILTINS",
					     spec->no_builtins ? "0" : "1"};
	return 0;
}

/* python [hook boot] script args..., with the environment of the spec. */
static int build_command(struct command *c, const struct pg_trial_spec *spec)
{
	memset(c, 0, sizeof(*c));
	c->argv = pg_calloc(spec->nargs + 6, sizeof(*c->argv));
	c->env = pg_calloc(spec->nenv + 9, sizeof(*c->env));
	c->argv[c->argc++] = spec->py->exe;
	int rc;
	if (spec->profile && (rc = add_hook(c, spec)))
		return rc;
	c->argv[c->argc++] = spec->script;
	for (size_t i = 0; i < spec->nargs; i++)
		c->argv[c->argc++] = spec->args[i];
	c->env[c->nenv++] = (struct pg_env_var){"PYTHONHASHSEED", "0"};
	if (spec->pycache_prefix)
		c->env[c->nenv++] = (struct pg_env_var){
		    "PYTHONPYCACHEPREFIX", (char *)spec->pycache_prefix};
	for (size_t i = 0; i < spec->nenv; i++)
		c->env[c->nenv++] = spec->env[i];
	return 0;
}

static void command_release(struct command *c)
{
	free(c->scope);
	if (c->tmpdir)
		pg_remove_tree(c->tmpdir);
	free(c->tmpdir);
	free(c->wire_path);
	free(c->argv);
	free(c->env);
}

/* How the child ended, as the outcome's status and error. */
static void judge_exit(struct pg_trial_outcome *outcome,
		       const struct spawn_result *r, int64_t timeout_ms)
{
	outcome->exit_code = r->exit_code;
	outcome->wall_ns = r->wall_ns;
	outcome->cpu_ns = r->cpu_ns;
	if (r->timed_out)
		outcome->status = PG_BENCH_TIMEOUT;
	else if (r->exit_code != 0)
		outcome->status = PG_BENCH_FAILED;
	if (outcome->status != PG_BENCH_OK)
		outcome->error = describe_failure(r, timeout_ms);
}

/*
 * The profile the hook wrote, into prof; a missing or unreadable one
 * fails the trial (outcome), never the call: the script's output is
 * still worth reporting.
 */
static void read_profile(struct pg_trial_outcome *outcome,
			 const struct pg_trial_spec *spec,
			 const char *wire_path, int64_t cpu_ns,
			 struct pg_profile *prof)
{
	char *text = NULL;
	size_t len = 0;
	int read_rc = pg_file_read(wire_path, WIRE_MAX_BYTES, &text, &len);
	if (read_rc == PG_ENOTFOUND) {
		if (outcome->status == PG_BENCH_OK) {
			outcome->status = PG_BENCH_FAILED;
			outcome->error = pg_strdup(
			    "the hook wrote no profile (did the script "
			    "call os._exit or exec another program?)");
		}
	} else if (read_rc) {
		if (!outcome->error)
			outcome->error = pg_strdup(pg_error_message());
		outcome->status = PG_BENCH_FAILED;
	} else if (pg_profile_parse_wire(prof, text, len) != 0) {
		char *why = pg_asprintf("the hook's output is unreadable: %s",
					pg_error_message());
		free(outcome->error);
		outcome->error = why;
		outcome->status = PG_BENCH_FAILED;
	} else {
		if (prof->ntrials > 0)
			prof->trials[prof->ntrials - 1].cpu_ns = cpu_ns;
		relativise_files(prof, spec->root ? spec->root : spec->cwd);
	}
	free(text);
}

int pg_runner_trial(const struct pg_trial_spec *spec,
		    struct pg_trial_outcome *outcome, struct pg_profile *prof)
{
	memset(outcome, 0, sizeof(*outcome));
	struct command c;
	int rc = build_command(&c, spec);
	if (rc)
		goto cleanup;
	struct spawn_spec s = {
	    .argv = c.argv,
	    .cwd = spec->cwd,
	    .env = c.env,
	    .nenv = c.nenv,
	    .timeout_ms = spec->timeout_ms,
	    .passthrough = spec->passthrough,
	    .tail_bytes = PG_OUTPUT_TAIL_BYTES,
	};
	struct spawn_result r;
	rc = pg_spawn(&s, &r);
	outcome->output = r.output;
	outcome->output_len = r.output_len;
	outcome->output_dropped = r.output_dropped;
	if (rc)
		goto cleanup;
	judge_exit(outcome, &r, spec->timeout_ms);
	if (spec->profile && !r.timed_out)
		read_profile(outcome, spec, c.wire_path, r.cpu_ns, prof);
cleanup:
	command_release(&c);
	return rc;
}

int pg_runner_calibrate(const struct pg_python *py, char *out, size_t cap)
{
	char *tmpdir = NULL, *path = NULL, *text = NULL;
	int rc = pg_mkdtemp("perfguard-calibrate", &tmpdir);
	if (rc)
		return rc;
	path = pg_path_join(tmpdir, "costs");
	const char *argv[] = {py->exe, "-c", boot_code, py->hook_dir, NULL};
	struct pg_env_var env[] = {
	    {"PERFGUARD_WIRE_OUT", path},
	    {"PERFGUARD_CALIBRATE_ONLY", "1"},
	};
	struct spawn_spec s = {
	    .argv = argv,
	    .env = env,
	    .nenv = 2,
	    .timeout_ms = 120000,
	    .tail_bytes = 4096,
	};
	struct spawn_result r;
	rc = pg_spawn(&s, &r);
	size_t len = 0;
	if (!rc && (r.timed_out || r.exit_code != 0))
		rc = pg_error_set(PG_ECHILD, "calibrating the hook failed: %s",
				  r.output ? r.output : "");
	if (!rc && !(rc = pg_file_read(path, 4096, &text, &len))) {
		/* One line of comma-separated numbers, nothing else. */
		text[strcspn(text, "\n")] = '\0';
		if (!*text || strspn(text, "0123456789.,-e") != strlen(text) ||
		    strlen(text) >= cap)
			rc = pg_error_set(
			    PG_ECHILD, "the hook's calibration is unreadable");
		else
			memcpy(out, text, strlen(text) + 1);
	}
	free(r.output);
	free(text);
	pg_remove_tree(tmpdir);
	free(tmpdir);
	free(path);
	return rc;
}

void pg_trial_outcome_release(struct pg_trial_outcome *o)
{
	free(o->output);
	free(o->error);
	memset(o, 0, sizeof(*o));
}
