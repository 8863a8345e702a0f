/*
 * bench.c - the `benchmarks` list of the suite file (SPEC §4): each
 * benchmark's keys (name, script, args, env, wall, thresholds, track,
 * ignore, scope, builtins) checked against their grammars as the YAML
 * streams, with file:line:col messages like the rest of the schema.
 *
 * Invariant: a benchmark handed back has a unique well-formed name and a
 * script path relative to the repository root that stays inside it (and,
 * when the load checks scripts, names a file there, symlinks resolved).
 * What a benchmark set itself is recorded in struct bench_extra; the
 * defaults and suite-wide values are filled in later by suite.c, never
 * here.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum bench_key {
	B_NAME,
	B_SCRIPT,
	B_ARGS,
	B_ENV,
	B_WALL,
	B_THRESHOLDS,
	B_TRACK,
	B_IGNORE,
	B_SCOPE,
	B_BUILTINS,
	B_N
};
static const char *const bench_names[B_N] = {
    "name",	  "script", "args",   "env",   "wall",
    "thresholds", "track",  "ignore", "scope", "builtins",
};

static const struct keyset bench_keys = {bench_names, B_N, "a benchmark"};

static bool valid_bench_name(const char *s, size_t len)
{
	if (len == 0 || len > MAX_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return false;
	}
	return true;
}

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static int parse_env(struct ctx *c, struct pg_bench *b)
{
	char buf[GOT_BYTES];
	int rc = suite_want_mapping(c, "env", "{MYAPP_MODE: bench}");
	if (rc)
		return rc;
	struct pg_map seen;
	size_t cap = 0;
	pg_map_init(&seen);
	for (;;) {
		rc = suite_next(c);
		if (rc)
			break;
		if (c->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (c->ev.type != YAML_SCALAR_EVENT ||
		    !valid_env_name(suite_sval(c), suite_slen(c))) {
			rc = suite_fail(
			    c, c->ev.start_mark,
			    "environment variable names in 'env' must "
			    "match [A-Za-z_][A-Za-z0-9_]*, got %s",
			    suite_got(c, buf));
			break;
		}
		char *name = pg_strndup(suite_sval(c), suite_slen(c));
		size_t first;
		if (pg_map_get(&seen, name, &first)) {
			rc = suite_fail(
			    c, c->ev.start_mark,
			    "duplicate key '%s' in 'env' (first at line "
			    "%zu)",
			    name, first);
			free(name);
			break;
		}
		pg_map_put(&seen, name, c->ev.start_mark.line + 1);
		rc = suite_next(c);
		if (!rc)
			rc = suite_want_scalar(c, name, "a string");
		if (rc) {
			free(name);
			break;
		}
		struct pg_env_var var = {
		    name, suite_is_null(c)
			      ? pg_strdup("")
			      : pg_strndup(suite_sval(c), suite_slen(c))};
		PG_VEC_PUSH(b->env, b->nenv, cap, var);
	}
	pg_map_release(&seen);
	return rc;
}

/* True when the relative path climbs above its start with "..". */
static bool climbs_out(const char *path)
{
	int depth = 0;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

/* True when path, symlinks resolved, lies below root (resolved too). */
static bool inside(const char *root, const char *path)
{
	char *r = pg_realpath(root), *p = pg_realpath(path);
	size_t n = r ? strlen(r) : 0;
	bool yes =
	    !r || !p ||
	    (!strncmp(p, r, n) && (p[n] == '/' || (n == 1 && r[0] == '/')));
	free(r);
	free(p);
	return yes;
}

/* A benchmark's name: well-formed and not taken by an earlier one. */
static int parse_bench_name(struct ctx *c, struct pg_bench *b)
{
	char buf[GOT_BYTES];
	int rc = suite_want_scalar(c, "name", "a name");
	if (rc)
		return rc;
	if (!valid_bench_name(suite_sval(c), suite_slen(c)))
		return suite_fail(c, c->ev.start_mark,
				  "benchmark 'name' must be 1 to %d characters "
				  "of [A-Za-z0-9_.-], got %s",
				  MAX_NAME_LEN, suite_got(c, buf));
	b->name = pg_strndup(suite_sval(c), suite_slen(c));
	size_t line;
	if (pg_map_get(&c->bench_lines, b->name, &line))
		return suite_fail(c, c->ev.start_mark,
				  "duplicate benchmark name '%s' (first "
				  "defined at line %zu)",
				  b->name, line);
	pg_map_put(&c->bench_lines, b->name, c->ev.start_mark.line + 1);
	return 0;
}

/*
 * A benchmark's script: a non-empty path relative to the repository
 * root that stays inside it, naming a file when the load checks scripts.
 */
static int parse_bench_script(struct ctx *c, struct pg_bench *b)
{
	char buf[GOT_BYTES];
	int rc = suite_get_string(c, "script", false, &b->script);
	if (rc)
		return rc;
	if (!b->script[0])
		return suite_fail(c, c->ev.start_mark,
				  "'script' must not be empty");
	if (b->script[0] == '/')
		return suite_fail(c, c->ev.start_mark,
				  "'script' must be relative to the repository "
				  "root, got %s",
				  suite_got(c, buf));
	if (climbs_out(b->script))
		return suite_fail(c, c->ev.start_mark,
				  "script '%s' lies outside the repository: "
				  "scripts must be inside it",
				  b->script);
	if (!c->check_scripts)
		return 0;
	char *p = pg_path_join(c->s->root, b->script);
	bool exists = pg_path_exists(p);
	bool dir = exists && pg_path_is_dir(p);
	if (!exists || dir)
		rc = suite_fail(c, c->ev.start_mark,
				"script '%s' %s (looked for %s; scripts are "
				"relative to the repository root)",
				b->script, dir ? "is a directory" : "not found",
				p);
	if (!rc && !inside(c->s->root, p))
		rc = suite_fail(c, c->ev.start_mark,
				"script '%s' lies outside the repository "
				"(through a symlink): scripts must be inside "
				"it",
				b->script);
	free(p);
	return rc;
}

/* The value of benchmark key idx, into b (and what it set, into x). */
static int parse_bench_value(struct ctx *c, enum bench_key idx,
			     struct pg_bench *b, struct bench_extra *x)
{
	switch (idx) {
	case B_NAME:
		return parse_bench_name(c, b);
	case B_SCRIPT:
		return parse_bench_script(c, b);
	case B_ARGS:
		return suite_get_strlist(c, "args", "a string", "strings",
					 false, &b->args);
	case B_ENV:
		return parse_env(c, b);
	case B_WALL:
		return suite_get_bool(c, "wall", &b->wall);
	case B_THRESHOLDS:
		return suite_parse_thresholds(c, &b->thresholds, &x->thr_set);
	case B_TRACK:
		x->track_set = true;
		return suite_get_strlist(c, "track", "a non-empty glob pattern",
					 "glob patterns", true, &b->track);
	case B_IGNORE:
		return suite_get_strlist(c, "ignore",
					 "a non-empty glob pattern",
					 "glob patterns", true, &b->ignore);
	case B_SCOPE:
		x->scope_set = true;
		return suite_get_strlist(c, "scope", "a non-empty glob pattern",
					 "glob patterns", true, &b->scope);
	case B_BUILTINS:
		x->builtins_set = true;
		return suite_get_bool(c, "builtins", &b->builtins);
	case B_N:
		break;
	}
	return 0;
}

/* One benchmark mapping: its keys, then the two it must have. */
static int parse_bench(struct ctx *c)
{
	struct pg_suite *s = c->s;
	yaml_mark_t mark = c->ev.start_mark;
	struct pg_bench nb = {0};
	struct bench_extra ne = {0};
	nb.line = (int)mark.line + 1;
	size_t nbench = s->nbenches;
	PG_VEC_PUSH(c->extra, nbench, c->extra_cap, ne);
	PG_VEC_PUSH(s->benches, s->nbenches, c->bench_cap, nb);
	struct pg_bench *b = &s->benches[s->nbenches - 1];
	struct bench_extra *x = &c->extra[s->nbenches - 1];

	int first[B_N] = {0};
	for (;;) {
		int idx;
		yaml_mark_t km;
		int rc = suite_read_key(c, &bench_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc ||
		    (rc = parse_bench_value(c, (enum bench_key)idx, b, x)))
			return rc;
	}
	if (!b->name)
		return suite_fail(c, mark,
				  "benchmark is missing 'name' (unique, "
				  "[A-Za-z0-9_.-]+)");
	if (!b->script)
		return suite_fail(
		    c, mark,
		    "benchmark '%s' is missing 'script' (the Python "
		    "file to run, relative to the repository root)",
		    b->name);
	return 0;
}

int suite_parse_benchmarks(struct ctx *c)
{
	char buf[GOT_BYTES];
	yaml_mark_t mark = c->ev.start_mark;
	if (suite_is_null(c))
		return suite_fail(c, mark,
				  "'benchmarks' is empty: list at least one "
				  "benchmark with a name and a script");
	if (c->ev.type != YAML_SEQUENCE_START_EVENT)
		return suite_fail(c, mark,
				  "'benchmarks' must be a list of benchmarks "
				  "(\"- name: ...\"), got %s",
				  suite_got(c, buf));
	for (;;) {
		int rc = suite_next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (c->ev.type != YAML_MAPPING_START_EVENT)
			return suite_fail(
			    c, c->ev.start_mark,
			    "each benchmark must be a mapping with "
			    "'name' and 'script', got %s",
			    suite_is_null(c) ? "null" : suite_got(c, buf));
		rc = parse_bench(c);
		if (rc)
			return rc;
	}
	if (c->s->nbenches == 0)
		return suite_fail(c, mark,
				  "'benchmarks' is empty: list at least one "
				  "benchmark with a name and a script");
	return 0;
}
