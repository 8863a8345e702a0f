/*
 * internal.h - what suite.c (the schema: which keys, what they mean,
 * defaults), bench.c (the benchmark list) and reader.c (YAML events,
 * scalar grammars, messages with file:line:col) share. Private to src/suite; libyaml stays behind it.
 */
#ifndef PG_SUITE_INTERNAL_H
#define PG_SUITE_INTERNAL_H

#include <stdarg.h>
#include <yaml.h>

#include "perfguard/suite.h"

#define MAX_COUNT	 100000 /* cap for trials, max_trials, warmup */
#define MAX_TIMEOUT_MS	 (24LL * 3600 * 1000)
#define MAX_NAME_LEN	 100 /* benchmark names end up in paths and XML */
#define MAX_KEY_HINT_LEN 64  /* longer unknown keys get no suggestion */
#define EXCERPT_BYTES	 40  /* user text quoted in messages */

/* Size of the buffers handed to suite_got(). */
#define GOT_BYTES (EXCERPT_BYTES + 8)

/* The keys a mapping may hold, for matching and "did you mean". */
struct keyset {
	const char *const *names;
	size_t n;
	const char *where; /* for messages: "in the suite" */
};

/* ---- parse state ------------------------------------------------------ */

/* What a benchmark set itself, so defaults fill only the rest. */
struct bench_extra {
	unsigned thr_set; /* bit per enum thr_key */
	bool track_set, scope_set, builtins_set;
};

/* The state of one load: the libyaml parser, its current event, and the
 * suite being built. */
struct ctx {
	yaml_parser_t yp;
	yaml_event_t ev; /* the current event, valid when have_ev */
	bool have_ev;
	const char *name; /* file name for messages */
	const char *text;
	size_t len;
	bool check_scripts;
	int depth; /* open collections */
	struct pg_suite *s;
	struct bench_extra *extra; /* parallel to s->benches */
	size_t bench_cap, extra_cap;
	struct pg_map bench_lines; /* name -> line of its 'name' node */
	bool track_set, max_trials_set;
	yaml_mark_t max_trials_mark;
};

/* ---- reader.c ---------------------------------------------------------- */

/*
 * Set PG_EINVALID "name:line:col: message" at a 0-based position and
 * return it.
 */
int suite_fail_at(const struct ctx *c, size_t line0, size_t col0,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same at a libyaml mark (0-based line and column). */
int suite_fail(const struct ctx *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The current event as a phrase: "'abc'", "a mapping", "a list". */
const char *suite_got(const struct ctx *c, char *out);

/* 0-based line and column (in characters) of byte `off` of the text. */
void suite_position_of(const char *text, size_t len, size_t off, size_t *line0,
		       size_t *col0);

/*
 * Advance to the next event, refusing aliases, anchors and tags, and
 * nesting past PG_SUITE_MAX_DEPTH.
 */
int suite_next(struct ctx *c);

/* The current scalar's text (NUL-terminated) and its length in bytes. */
const char *suite_sval(const struct ctx *c);
size_t suite_slen(const struct ctx *c);

/* Is the current scalar exactly `word`? */
bool suite_seq(const struct ctx *c, const char *word);

/* A plain empty, "~" or "null" scalar: YAML's null. */
bool suite_is_null(const struct ctx *c);

/*
 * The current event must be a scalar without NUL bytes (an escaped "\0"
 * would silently cut the C string). `what` describes what is expected.
 */
int suite_want_scalar(const struct ctx *c, const char *key, const char *what);

/* A string value; NULL for YAML null when `nullable`. Replaces *out. */
int suite_get_string(struct ctx *c, const char *key, bool nullable, char **out);

/* A whole number in [min, MAX_COUNT]. */
int suite_get_count(struct ctx *c, const char *key, int min, int *out);

/* A duration "120s", "1.5s", "500ms", "2m" in whole milliseconds. */
int suite_get_duration(struct ctx *c, const char *key, int64_t *out_ms);

/*
 * A percentage "10%" as 10.0, at most max_pct; "off" gives -1 when
 * allow_off.
 */
int suite_get_percent(struct ctx *c, const char *key, bool allow_off,
		      double max_pct, double *out);

/* A false-discovery rate: 0.01 or 1%, strictly between 0 and 1. */
int suite_get_fdr(struct ctx *c, const char *key, double *out);

/* true or false (also True/TRUE, False/FALSE). */
int suite_get_bool(struct ctx *c, const char *key, bool *out);

/*
 * A list of strings appended to *out. Numbers and other scalars are kept
 * as written; nulls are refused. With `globs`, items are glob patterns:
 * "" and unclosed '[' classes are refused too.
 * `item` names one element for messages ("a string"), `items` several.
 */
int suite_get_strlist(struct ctx *c, const char *key, const char *item,
		      const char *items, bool globs, struct pg_strvec *out);

/*
 * Read the next key of a mapping from `ks` and move onto its value.
 * Returns 1 at the end of the mapping, 0 with *idx set, or an error.
 * `first_line` (ks->n entries, zeroed by the caller) catches duplicates.
 */
int suite_read_key(struct ctx *c, const struct keyset *ks, int *first_line,
		   int *idx, yaml_mark_t *key_mark);

/* The current event must open a mapping; `example` shows one. */
int suite_want_mapping(const struct ctx *c, const char *key,
		       const char *example);

/*
 * First pass: is this acceptable YAML at all? Syntax, aliases, anchors,
 * tags, nesting and the number of documents are checked over the whole
 * stream before the schema is, so these mistakes are named as such
 * rather than as "expected a string" at some deep node.
 */
int suite_check_yaml(struct ctx *c);

/* ---- suite.c and bench.c ----------------------------------------------- */

/*
 * A `thresholds` mapping into *t; a bit per key given (enum thr_key of
 * suite.c) is set in *set, so defaults fill only the rest.
 */
int suite_parse_thresholds(struct ctx *c, struct pg_thresholds *t,
			   unsigned *set);

/*
 * The value of `benchmarks`, the current event: a non-empty list of
 * benchmark mappings appended to c->s->benches (and c->extra).
 */
int suite_parse_benchmarks(struct ctx *c);

#endif
