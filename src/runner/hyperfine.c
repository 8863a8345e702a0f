/*
 * hyperfine.c - unprofiled wall time of a script, measured by hyperfine.
 *
 * hyperfine runs as an external program (`-N`, no shell, so no shell
 * start-up cost in the figures) with the benchmark's cwd and environment,
 * and its JSON export is read back strictly: a missing or malformed
 * field is an error, never a zero.
 */
#include "spawn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HYPERFINE_JSON_MAX (64u * 1024u * 1024u)

/* Quote s for hyperfine's shell-words splitting of -N commands. */
static void quote_word(struct pg_buf *b, const char *s)
{
	pg_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			pg_buf_puts(b, "'\\''");
		else
			pg_buf_putc(b, *s);
	}
	pg_buf_putc(b, '\'');
}

static int read_number(const struct pg_json *res, const char *key, double *out)
{
	const struct pg_json *v = pg_json_get(res, key);
	if (!v || v->type != PG_JSON_NUMBER || !isfinite(v->number) ||
	    v->number < 0)
		return pg_error_set(PG_EINVALID,
				    "hyperfine's JSON has no valid '%s'", key);
	*out = v->number;
	return 0;
}

int pg_hyperfine_parse(const char *text, size_t len, struct pg_wall *out)
{
	memset(out, 0, sizeof(*out));
	struct pg_json *root = NULL;
	int rc = pg_json_parse(text, len, &root);
	if (rc)
		return pg_error_wrap("hyperfine's JSON");
	const struct pg_json *results = pg_json_get_array(root, "results");
	if (!results || results->len < 1 ||
	    results->items[0]->type != PG_JSON_OBJECT) {
		rc = pg_error_set(PG_EINVALID,
				  "hyperfine's JSON has no results");
		goto cleanup;
	}
	const struct pg_json *res = results->items[0];
	if ((rc = read_number(res, "mean", &out->mean_s)) ||
	    (rc = read_number(res, "median", &out->median_s)) ||
	    (rc = read_number(res, "user", &out->user_s)) ||
	    (rc = read_number(res, "system", &out->system_s)))
		goto cleanup;
	const struct pg_json *sd = pg_json_get(res, "stddev");
	out->stddev_s = sd && sd->type == PG_JSON_NUMBER ? sd->number : 0.0;
	const struct pg_json *times = pg_json_get_array(res, "times");
	if (!times || times->len == 0) {
		rc = pg_error_set(PG_EINVALID,
				  "hyperfine's JSON has no run times");
		goto cleanup;
	}
	const struct pg_json *codes = pg_json_get(res, "exit_codes");
	if (codes && codes->type == PG_JSON_ARRAY) {
		for (size_t i = 0; i < codes->len; i++) {
			const struct pg_json *c = codes->items[i];
			if (c->type == PG_JSON_NUMBER && c->number != 0) {
				rc = pg_error_set(PG_EINVALID,
						  "the script exited with "
						  "status %g under hyperfine",
						  c->number);
				goto cleanup;
			}
		}
	}
	out->times_s = pg_calloc(times->len, sizeof(double));
	for (size_t i = 0; i < times->len; i++) {
		const struct pg_json *t = times->items[i];
		if (t->type != PG_JSON_NUMBER || !isfinite(t->number) ||
		    t->number < 0) {
			rc = pg_error_set(PG_EINVALID,
					  "hyperfine's JSON has a bad run "
					  "time at index %zu",
					  i);
			goto cleanup;
		}
		out->times_s[i] = t->number;
	}
	out->ntimes = times->len;
cleanup:
	if (rc)
		pg_wall_release(out);
	pg_json_free(root);
	return rc;
}

#define HYPERFINE_MISSING                                                      \
	"hyperfine is not installed, and the suite asks for wall times "       \
	"(wall: true): install it (apt-get install hyperfine) or set wall: "   \
	"false"

int pg_runner_hyperfine_check(void)
{
	const char *argv[] = {"hyperfine", "--version", NULL};
	char *out = NULL;
	int code = 0;
	int rc = pg_runner_capture(argv, NULL, 60000, &out, &code);
	free(out);
	if (rc)
		return rc;
	if (code == 127 || code == 126)
		return pg_error_set(PG_EUSAGE, HYPERFINE_MISSING);
	if (code != 0)
		return pg_error_set(PG_EUSAGE,
				    "`hyperfine --version` failed (exit %d), "
				    "and the suite asks for wall times "
				    "(wall: true)",
				    code);
	return 0;
}

/*
 * The PYTHONPATH of an unprofiled run: the benchmark's (else the inherited
 * one) with the hook's directory appended, as a trial appends it to
 * sys.path, so that `import perfguard` and `perfguard.measure()` (a no-op
 * outside a trial) work unprofiled too. Returns a string to free.
 */
static char *unprofiled_pythonpath(const struct pg_trial_spec *spec)
{
	const char *base = getenv("PYTHONPATH");
	for (size_t i = 0; i < spec->nenv; i++)
		if (!strcmp(spec->env[i].name, "PYTHONPATH"))
			base = spec->env[i].value;
	const char *hook = spec->py->hook_dir ? spec->py->hook_dir : "";
	struct pg_buf b;
	pg_buf_init(&b, 0);
	if (base && *base)
		pg_buf_printf(&b, "%s%s", base, *hook ? ":" : "");
	pg_buf_puts(&b, hook);
	char *path = pg_buf_detach(&b, NULL);
	return path ? path : pg_strdup("");
}

int pg_runner_hyperfine(const struct pg_trial_spec *spec, int warmup, int runs,
			struct pg_wall *out)
{
	memset(out, 0, sizeof(*out));
	char *tmpdir = NULL, *json_path = NULL, *text = NULL;
	char warm[16], nruns[16];
	struct pg_buf cmd;
	pg_buf_init(&cmd, 0);
	int rc = pg_mkdtemp("perfguard-hyperfine", &tmpdir);
	if (rc)
		goto cleanup;
	json_path = pg_path_join(tmpdir, "wall.json");
	quote_word(&cmd, spec->py->exe);
	pg_buf_putc(&cmd, ' ');
	quote_word(&cmd, spec->script);
	for (size_t i = 0; i < spec->nargs; i++) {
		pg_buf_putc(&cmd, ' ');
		quote_word(&cmd, spec->args[i]);
	}
	snprintf(warm, sizeof(warm), "%d", warmup);
	snprintf(nruns, sizeof(nruns), "%d", runs < 1 ? 1 : runs);
	const char *argv[] = {"hyperfine",     "-N",	  "--style", "none",
			      "--warmup",      warm,	  "--runs",  nruns,
			      "--export-json", json_path, cmd.data,  NULL};
	char *pythonpath = unprofiled_pythonpath(spec);
	struct pg_env_var *env = pg_calloc(spec->nenv + 2, sizeof(*env));
	env[0] = (struct pg_env_var){"PYTHONHASHSEED", "0"};
	for (size_t i = 0; i < spec->nenv; i++)
		env[i + 1] = spec->env[i];
	env[spec->nenv + 1] = (struct pg_env_var){"PYTHONPATH", pythonpath};
	struct spawn_spec s = {
	    .argv = argv,
	    .cwd = spec->cwd,
	    .env = env,
	    .nenv = spec->nenv + 2,
	    .timeout_ms = spec->timeout_ms > 0
			      ? spec->timeout_ms * (runs + warmup + 1)
			      : 0,
	    .tail_bytes = PG_OUTPUT_TAIL_BYTES,
	};
	struct spawn_result r;
	rc = pg_spawn(&s, &r);
	free(env);
	free(pythonpath);
	if (rc) {
		free(r.output);
		goto cleanup;
	}
	if (r.exit_code == 127) {
		rc = pg_error_set(PG_EUSAGE, HYPERFINE_MISSING);
	} else if (r.timed_out || r.exit_code != 0) {
		rc = pg_error_set(PG_ECHILD, "hyperfine failed (%s): %.2000s",
				  r.timed_out ? "timed out" : "non-zero exit",
				  r.output ? r.output : "");
	}
	free(r.output);
	if (rc)
		goto cleanup;
	size_t len = 0;
	if ((rc = pg_file_read(json_path, HYPERFINE_JSON_MAX, &text, &len)))
		goto cleanup;
	rc = pg_hyperfine_parse(text, len, out);
cleanup:
	free(text);
	if (tmpdir)
		pg_remove_tree(tmpdir);
	free(tmpdir);
	free(json_path);
	pg_buf_release(&cmd);
	return rc;
}

void pg_wall_release(struct pg_wall *w)
{
	free(w->times_s);
	memset(w, 0, sizeof(*w));
}
