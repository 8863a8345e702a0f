/*
 * suite.c - the suite file of SPEC §4: YAML text in, struct pg_suite out.
 *
 * The text is checked to be UTF-8, then read with libyaml's event API
 * (reader.c: events, scalar grammars, messages) and validated against the
 * schema here (the benchmark list in bench.c) while it streams: every mapping is matched against the keys it
 * may hold, every value against its grammar, and the first mistake stops
 * the load with "file:line:col: what was expected" (1-based, pointing at
 * the offending node). No document tree is built, so memory stays
 * proportional to the result and nesting is bounded before it grows.
 *
 * Invariant: a suite handed back is complete and consistent - every
 * default applied, every benchmark carrying its effective thresholds,
 * track and ignore - and on any error the caller's struct is untouched.
 *
 * Deliberately refused rather than half-supported: YAML aliases, anchors,
 * tags and merge keys (a suite is small; repeating a value is clearer and
 * closes the door to alias bombs), multiple documents, and bare numbers
 * where a unit or a percent sign decides the meaning.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the keys each mapping may hold ----------------------------------- */

enum top_key {
	K_PYTHON,
	K_TRIALS,
	K_MAX_TRIALS,
	K_WARMUP,
	K_TIMEOUT,
	K_CLOCK,
	K_AGAINST,
	K_PREPARE,
	K_THRESHOLDS,
	K_TRACK,
	K_IGNORE,
	K_STORE,
	K_BENCHMARKS,
	K_SCOPE,
	K_BUILTINS,
	K_TOP_N
};
static const char *const top_names[K_TOP_N] = {
    "python", "trials",	 "max_trials", "warmup",     "timeout",
    "clock",  "against", "prepare",    "thresholds", "track",
    "ignore", "store",	 "benchmarks", "scope",	     "builtins",
};

enum thr_key { T_FUNCTION, T_TOTAL, T_MIN_SHARE, T_CALLS, T_FDR, T_N };
static const char *const thr_names[T_N] = {
    "function", "total", "min_share", "calls", "fdr",
};

enum store_key { S_KIND, S_REF, S_PATH, S_N };
static const char *const store_names[S_N] = {"kind", "ref", "path"};

static const struct keyset top_keys = {top_names, K_TOP_N, "the suite"};
static const struct keyset thr_keys = {thr_names, T_N, "'thresholds'"};
static const struct keyset store_keys = {store_names, S_N, "'store'"};

int suite_parse_thresholds(struct ctx *c, struct pg_thresholds *t,
			   unsigned *set)
{
	int rc =
	    suite_want_mapping(c, "thresholds", "{function: 10%, total: 5%}");
	if (rc)
		return rc;
	int first[T_N] = {0};
	for (;;) {
		int idx;
		yaml_mark_t km;
		rc = suite_read_key(c, &thr_keys, first, &idx, &km);
		if (rc == 1)
			return 0;
		if (rc)
			return rc;
		switch ((enum thr_key)idx) {
		case T_FUNCTION:
			rc = suite_get_percent(c, "function", false, HUGE_VAL,
					       &t->function_pct);
			break;
		case T_TOTAL:
			rc = suite_get_percent(c, "total", false, HUGE_VAL,
					       &t->total_pct);
			break;
		case T_MIN_SHARE:
			rc = suite_get_percent(c, "min_share", false, 100,
					       &t->min_share_pct);
			break;
		case T_CALLS:
			rc = suite_get_percent(c, "calls", true, HUGE_VAL,
					       &t->calls_pct);
			break;
		case T_FDR:
			rc = suite_get_fdr(c, "fdr", &t->fdr);
			break;
		case T_N:
			break;
		}
		if (rc)
			return rc;
		*set |= 1u << idx;
	}
}

/* A git ref a notes store can live under: refs/..., no odd characters. */
static bool valid_ref(const char *r)
{
	if (!pg_str_starts(r, "refs/") || strlen(r) <= 5 ||
	    pg_str_ends(r, "/") || pg_str_ends(r, ".lock") || strstr(r, "..") ||
	    strstr(r, "//") || strstr(r, "@{"))
		return false;
	for (const char *p = r; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f ||
		    strchr("~^:?*[\\", *p))
			return false;
	return true;
}

/* Which store keys were given, and where, for the checks across them. */
struct store_seen {
	bool kind, ref, path;
	yaml_mark_t ref_mark, path_mark;
};

/* The value of store key idx (its key at km), into the suite. */
static int parse_store_value(struct ctx *c, enum store_key idx, yaml_mark_t km,
			     struct store_seen *seen)
{
	struct pg_suite *s = c->s;
	char buf[GOT_BYTES];
	int rc;
	switch (idx) {
	case S_KIND:
		if ((rc = suite_want_scalar(c, "kind", "git-notes or dir")))
			return rc;
		if (suite_seq(c, "git-notes"))
			s->store_kind = PG_STORE_GIT_NOTES;
		else if (suite_seq(c, "dir"))
			s->store_kind = PG_STORE_DIR;
		else
			return suite_fail(c, c->ev.start_mark,
					  "'kind' must be git-notes or dir, "
					  "got %s",
					  suite_got(c, buf));
		seen->kind = true;
		return 0;
	case S_REF:
		seen->ref_mark = km;
		seen->ref = true;
		if ((rc = suite_get_string(c, "ref", false, &s->store_ref)))
			return rc;
		if (!valid_ref(s->store_ref))
			return suite_fail(c, c->ev.start_mark,
					  "'ref' must be a git ref name under "
					  "refs/, e.g. refs/notes/perfguard, "
					  "got %s",
					  suite_got(c, buf));
		return 0;
	case S_PATH:
		seen->path_mark = km;
		seen->path = true;
		if ((rc = suite_get_string(c, "path", false, &s->store_path)))
			return rc;
		if (!s->store_path[0])
			return suite_fail(c, c->ev.start_mark,
					  "'path' must not be empty");
		return 0;
	case S_N:
		break;
	}
	return 0;
}

/* store: its keys, then that they fit the kind. */
static int parse_store(struct ctx *c)
{
	struct pg_suite *s = c->s;
	int rc = suite_want_mapping(c, "store",
				    "{kind: git-notes, ref: "
				    "refs/notes/perfguard}");
	if (rc)
		return rc;
	yaml_mark_t store_mark = c->ev.start_mark;
	int first[S_N] = {0};
	struct store_seen seen = {0};
	for (;;) {
		int idx;
		yaml_mark_t km;
		rc = suite_read_key(c, &store_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc ||
		    (rc = parse_store_value(c, (enum store_key)idx, km, &seen)))
			return rc;
	}
	if (!seen.kind)
		return suite_fail(
		    c, store_mark,
		    "'store' needs a 'kind': git-notes (with 'ref') or "
		    "dir (with 'path')");
	if (seen.ref && s->store_kind != PG_STORE_GIT_NOTES)
		return suite_fail(
		    c, seen.ref_mark,
		    "'ref' applies to kind git-notes only; kind dir "
		    "takes 'path'");
	if (seen.path && s->store_kind != PG_STORE_DIR)
		return suite_fail(
		    c, seen.path_mark,
		    "'path' applies to kind dir only; kind git-notes "
		    "takes 'ref'");
	return 0;
}

/* clock: wall or cpu. */
static int parse_clock(struct ctx *c, enum pg_clock_kind *out)
{
	char buf[GOT_BYTES];
	int rc = suite_want_scalar(c, "clock", "wall or cpu");
	if (rc)
		return rc;
	if (suite_seq(c, "wall"))
		*out = PG_CLOCK_WALL;
	else if (suite_seq(c, "cpu"))
		*out = PG_CLOCK_CPU;
	else
		return suite_fail(c, c->ev.start_mark,
				  "'clock' must be wall or cpu, got %s",
				  suite_got(c, buf));
	return 0;
}

/* The value of top-level key idx, into the suite. */
static int parse_top_value(struct ctx *c, enum top_key idx)
{
	struct pg_suite *s = c->s;
	unsigned thr_set = 0;
	int rc;
	switch (idx) {
	case K_PYTHON:
		rc = suite_get_string(c, "python", false, &s->python);
		if (!rc && !s->python[0])
			rc = suite_fail(c, c->ev.start_mark,
					"'python' must not be empty");
		return rc;
	case K_TRIALS:
		return suite_get_count(c, "trials", 1, &s->trials);
	case K_MAX_TRIALS:
		c->max_trials_set = true;
		c->max_trials_mark = c->ev.start_mark;
		return suite_get_count(c, "max_trials", 1, &s->max_trials);
	case K_WARMUP:
		return suite_get_count(c, "warmup", 0, &s->warmup);
	case K_TIMEOUT:
		return suite_get_duration(c, "timeout", &s->timeout_ms);
	case K_CLOCK:
		return parse_clock(c, &s->clock);
	case K_AGAINST:
		return suite_get_string(c, "against", true, &s->against);
	case K_PREPARE:
		return suite_get_string(c, "prepare", true, &s->prepare);
	case K_THRESHOLDS:
		return suite_parse_thresholds(c, &s->thresholds, &thr_set);
	case K_TRACK:
		pg_strvec_release(&s->track);
		c->track_set = true;
		return suite_get_strlist(c, "track", "a non-empty glob pattern",
					 "glob patterns", true, &s->track);
	case K_IGNORE:
		return suite_get_strlist(c, "ignore",
					 "a non-empty glob pattern",
					 "glob patterns", true, &s->ignore);
	case K_STORE:
		return parse_store(c);
	case K_BENCHMARKS:
		return suite_parse_benchmarks(c);
	case K_SCOPE:
		pg_strvec_release(&s->scope);
		return suite_get_strlist(c, "scope", "a non-empty glob pattern",
					 "glob patterns", true, &s->scope);
	case K_BUILTINS:
		return suite_get_bool(c, "builtins", &s->builtins);
	case K_TOP_N:
		break;
	}
	return 0;
}

/* The top-level mapping: its keys, then what must hold across them. */
static int parse_top(struct ctx *c)
{
	struct pg_suite *s = c->s;
	yaml_mark_t top_mark = c->ev.start_mark;
	int first[K_TOP_N] = {0};
	for (;;) {
		int idx;
		yaml_mark_t km;
		int rc = suite_read_key(c, &top_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc || (rc = parse_top_value(c, (enum top_key)idx)))
			return rc;
	}
	if (!first[K_BENCHMARKS])
		return suite_fail(
		    c, top_mark,
		    "the suite has no 'benchmarks': add a list of "
		    "benchmarks, each with a name and a script");
	if (c->max_trials_set && s->max_trials < s->trials)
		return suite_fail(
		    c, c->max_trials_mark,
		    "'max_trials' (%d) must be at least 'trials' (%d)",
		    s->max_trials, s->trials);
	return 0;
}

/* Second pass: exactly one document whose top level is a mapping. */
static int parse_stream(struct ctx *c)
{
	char buf[GOT_BYTES];
	int rc = suite_next(c); /* STREAM-START */
	if (!rc)
		rc = suite_next(c);
	if (rc)
		return rc;
	if (c->ev.type == YAML_STREAM_END_EVENT)
		return suite_fail_at(
		    c, 0, 0,
		    "the suite is empty: expected a mapping with "
		    "at least 'benchmarks'");
	yaml_mark_t doc_mark = c->ev.start_mark;
	rc = suite_next(c); /* the root node */
	if (rc)
		return rc;
	/* an empty root's mark is past the document: point at its start */
	if (suite_is_null(c))
		return suite_fail(
		    c, doc_mark,
		    "the suite is empty: expected a mapping with at "
		    "least 'benchmarks'");
	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return suite_fail(
		    c, c->ev.start_mark,
		    "the top level of the suite must be a mapping of "
		    "settings (python, trials, ..., benchmarks), got "
		    "%s",
		    suite_got(c, buf));
	/* check_yaml saw the rest of the stream: one document, well formed */
	return parse_top(c);
}

/* ---- defaults and the public API -------------------------------------- */

static void set_defaults(struct pg_suite *s)
{
	s->python = pg_strdup("python3");
	s->trials = 10;
	s->max_trials = 30;
	s->warmup = 1;
	s->timeout_ms = 120000;
	s->clock = PG_CLOCK_WALL;
	s->thresholds.function_pct = 10;
	s->thresholds.total_pct = 5;
	s->thresholds.min_share_pct = 1;
	s->thresholds.calls_pct = 0;
	s->thresholds.fdr = 0.01;
	s->store_kind = PG_STORE_GIT_NOTES;
	s->builtins = true;
}

/* Fill what the file left out, and give each benchmark its effective view. */
static void resolve(struct ctx *c)
{
	struct pg_suite *s = c->s;
	if (!c->max_trials_set)
		s->max_trials = s->trials > 30 ? s->trials : 30;
	if (!c->track_set)
		pg_strvec_push(&s->track, "*");
	if (!s->store_ref)
		s->store_ref = pg_strdup("refs/notes/perfguard");
	if (!s->store_path)
		s->store_path = pg_strdup(".perfguard/baselines");
	if (s->prepare && !s->prepare[0]) {
		free(s->prepare);
		s->prepare = NULL;
	}
	if (s->against && !s->against[0]) {
		free(s->against);
		s->against = NULL;
	}
	for (size_t i = 0; i < s->nbenches; i++) {
		struct pg_bench *b = &s->benches[i];
		const struct bench_extra *x = &c->extra[i];
		struct pg_thresholds *t = &b->thresholds;
		const struct pg_thresholds *d = &s->thresholds;
		if (!(x->thr_set & (1u << T_FUNCTION)))
			t->function_pct = d->function_pct;
		if (!(x->thr_set & (1u << T_TOTAL)))
			t->total_pct = d->total_pct;
		if (!(x->thr_set & (1u << T_MIN_SHARE)))
			t->min_share_pct = d->min_share_pct;
		if (!(x->thr_set & (1u << T_CALLS)))
			t->calls_pct = d->calls_pct;
		if (!(x->thr_set & (1u << T_FDR)))
			t->fdr = d->fdr;
		if (!x->track_set)
			for (size_t k = 0; k < s->track.n; k++)
				pg_strvec_push(&b->track, s->track.v[k]);
		if (!x->scope_set)
			for (size_t k = 0; k < s->scope.n; k++)
				pg_strvec_push(&b->scope, s->scope.v[k]);
		if (!x->builtins_set)
			b->builtins = s->builtins;
		struct pg_strvec ignore = {0};
		for (size_t k = 0; k < s->ignore.n; k++)
			pg_strvec_push(&ignore, s->ignore.v[k]);
		for (size_t k = 0; k < b->ignore.n; k++)
			pg_strvec_push(&ignore, b->ignore.v[k]);
		pg_strvec_release(&b->ignore);
		b->ignore = ignore;
	}
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return pg_strdup(".");
	if (slash == path)
		return pg_strdup("/");
	return pg_strndup(path, (size_t)(slash - path));
}

static int parse_impl(const char *name, const char *text, size_t len,
		      const char *root, bool check_scripts,
		      struct pg_suite *out)
{
	struct ctx c = {0};
	struct pg_suite s = {0};
	int rc;
	c.name = name;
	c.text = text;
	c.len = len;
	c.check_scripts = check_scripts;
	c.s = &s;
	if (len > PG_SUITE_MAX_BYTES)
		return suite_fail_at(
		    &c, 0, 0,
		    "the suite file is larger than 1 MiB (%zu "
		    "bytes): a suite lists benchmarks, not data",
		    len);
	size_t bad = pg_utf8_invalid_at(text, len);
	if (bad < len) {
		size_t line0, col0;
		suite_position_of(text, len, bad, &line0, &col0);
		return suite_fail_at(
		    &c, line0, col0,
		    "the file is not valid UTF-8 (byte 0x%02x): "
		    "save the suite as UTF-8",
		    (unsigned char)text[bad]);
	}

	set_defaults(&s);
	s.path = pg_strdup(name);
	s.root = root ? pg_strdup(root) : dir_of(name);
	char hash[17];
	snprintf(hash, sizeof(hash), "%016" PRIx64, pg_hash64(text, len, 0));
	s.hash = pg_strdup(hash);
	pg_map_init(&c.bench_lines);
	if (!yaml_parser_initialize(&c.yp)) {
		rc = pg_error_set(PG_ENOMEM, "%s: cannot start the YAML parser",
				  name);
		goto cleanup;
	}
	yaml_parser_set_input_string(&c.yp, (const unsigned char *)text, len);
	rc = suite_check_yaml(&c);
	if (c.have_ev)
		yaml_event_delete(&c.ev);
	c.have_ev = false;
	yaml_parser_delete(&c.yp);
	if (rc)
		goto cleanup;
	if (!yaml_parser_initialize(&c.yp)) {
		rc = pg_error_set(PG_ENOMEM, "%s: cannot start the YAML parser",
				  name);
		goto cleanup;
	}
	c.depth = 0;
	yaml_parser_set_input_string(&c.yp, (const unsigned char *)text, len);
	rc = parse_stream(&c);
	if (c.have_ev)
		yaml_event_delete(&c.ev);
	yaml_parser_delete(&c.yp);
	if (!rc)
		resolve(&c);
cleanup:
	pg_map_release(&c.bench_lines);
	free(c.extra);
	if (rc) {
		pg_suite_release(&s);
		return rc;
	}
	*out = s;
	return 0;
}

int pg_suite_parse(const char *name, const char *text, size_t len,
		   const char *root, struct pg_suite *out)
{
	return parse_impl(name, text, len, root, false, out);
}

int pg_suite_load(const char *path, const char *root, struct pg_suite *out)
{
	char *text = NULL;
	size_t len = 0;
	int rc = pg_file_read(path, PG_SUITE_MAX_BYTES, &text, &len);
	if (rc == PG_ENOTFOUND)
		return pg_error_set(PG_ENOTFOUND, "%s: no such file", path);
	if (rc == PG_ELIMIT)
		return pg_error_set(PG_EINVALID,
				    "%s:1:1: the suite file is larger than "
				    "1 MiB: a suite lists benchmarks, not data",
				    path);
	if (rc)
		return rc;
	rc = parse_impl(path, text, len, root, true, out);
	free(text);
	return rc;
}

void pg_suite_release(struct pg_suite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nbenches; i++) {
		struct pg_bench *b = &s->benches[i];
		free(b->name);
		free(b->script);
		pg_strvec_release(&b->args);
		for (size_t k = 0; k < b->nenv; k++) {
			free(b->env[k].name);
			free(b->env[k].value);
		}
		free(b->env);
		pg_strvec_release(&b->track);
		pg_strvec_release(&b->scope);
		pg_strvec_release(&b->ignore);
	}
	free(s->benches);
	free(s->path);
	free(s->root);
	free(s->hash);
	free(s->python);
	free(s->against);
	free(s->prepare);
	pg_strvec_release(&s->track);
	pg_strvec_release(&s->scope);
	pg_strvec_release(&s->ignore);
	free(s->store_ref);
	free(s->store_path);
	memset(s, 0, sizeof(*s));
}

const struct pg_bench *pg_suite_find(const struct pg_suite *s, const char *name)
{
	for (size_t i = 0; i < s->nbenches; i++)
		if (strcmp(s->benches[i].name, name) == 0)
			return &s->benches[i];
	return NULL;
}

bool pg_suite_tracks(const struct pg_bench *b, const char *func_id)
{
	bool tracked = false;
	for (size_t i = 0; i < b->track.n && !tracked; i++)
		tracked = pg_glob_match(b->track.v[i], func_id);
	if (!tracked)
		return false;
	for (size_t i = 0; i < b->ignore.n; i++)
		if (pg_glob_match(b->ignore.v[i], func_id))
			return false;
	return true;
}
