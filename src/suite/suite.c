/*
 * suite.c - the suite file of SPEC §4: YAML text in, struct pg_suite out.
 *
 * The text is checked to be UTF-8, then read with libyaml's event API and
 * validated while it streams: every mapping is matched against the keys it
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
#include "perfguard/suite.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_COUNT	 100000 /* cap for trials, max_trials, warmup */
#define MAX_TIMEOUT_MS	 (24LL * 3600 * 1000)
#define MAX_NAME_LEN	 100 /* benchmark names end up in paths and XML */
#define MAX_KEY_HINT_LEN 64  /* longer unknown keys get no suggestion */
#define EXCERPT_BYTES	 40  /* user text quoted in messages */

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

struct keyset {
	const char *const *names;
	size_t n;
	const char *where; /* for messages: "in the suite" */
};

static const struct keyset top_keys = {top_names, K_TOP_N, "the suite"};
static const struct keyset thr_keys = {thr_names, T_N, "'thresholds'"};
static const struct keyset store_keys = {store_names, S_N, "'store'"};
static const struct keyset bench_keys = {bench_names, B_N, "a benchmark"};

/* ---- parse state ------------------------------------------------------ */

/* What a benchmark set itself, so defaults fill only the rest. */
struct bench_extra {
	unsigned thr_set; /* bit per enum thr_key */
	bool track_set, scope_set, builtins_set;
};

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

/* ---- messages --------------------------------------------------------- */

static int vfail_at(const struct ctx *c, size_t line0, size_t col0,
		    const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int vfail_at(const struct ctx *c, size_t line0, size_t col0,
		    const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return pg_error_set(PG_EINVALID, "%s:%zu:%zu: %s", c->name, line0 + 1,
			    col0 + 1, msg);
}

static int fail_at(const struct ctx *c, size_t line0, size_t col0,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(const struct ctx *c, size_t line0, size_t col0,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, line0, col0, fmt, ap);
	va_end(ap);
	return rc;
}

/* Report at a libyaml mark (0-based line and column). */
static int fail(const struct ctx *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, m.line, m.column, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * A printable excerpt of user text for messages: at most EXCERPT_BYTES
 * (cut on a character boundary, "..." appended), control characters
 * shown as '?'. `out` must hold EXCERPT_BYTES + 4 bytes.
 */
static const char *excerpt(char *out, const char *s, size_t len)
{
	size_t n = len;
	bool cut = false;
	if (n > EXCERPT_BYTES) {
		n = EXCERPT_BYTES;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	strcpy(out + n, cut ? "..." : "");
	return out;
}

static bool is_null(const struct ctx *c);

/* The current event as a phrase: "'abc'", "a mapping", "a list". */
static const char *got(const struct ctx *c, char *out)
{
	switch (c->ev.type) {
	case YAML_SCALAR_EVENT:
		if (is_null(c) && c->ev.data.scalar.length == 0)
			return "nothing";
		out[0] = '\'';
		excerpt(out + 1, (const char *)c->ev.data.scalar.value,
			c->ev.data.scalar.length);
		strcat(out, "'");
		return out;
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	default:
		return "nothing";
	}
}

/* Size of the buffers handed to got(). */
#define GOT_BYTES (EXCERPT_BYTES + 8)

/* 0-based line and column (in characters) of byte `off` of the text. */
static void position_of(const char *text, size_t len, size_t off, size_t *line0,
			size_t *col0)
{
	size_t line = 0, col = 0;
	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n') {
			line++;
			col = 0;
		} else if ((ch & 0xC0) != 0x80) {
			col++;
		}
	}
	*line0 = line;
	*col0 = col;
}

/* ---- reading events --------------------------------------------------- */

/*
 * Offset of the first byte that is not well-formed UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included), or len if all is well.
 */
static size_t utf8_invalid_at(const unsigned char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char b = p[i];
		size_t n;
		uint32_t cp, min;
		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xE0) == 0xC0) {
			n = 2, cp = b & 0x1F, min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			n = 3, cp = b & 0x0F, min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			n = 4, cp = b & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n;
	}
	return len;
}

static int syntax_error(struct ctx *c)
{
	const yaml_parser_t *p = &c->yp;
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR)
		return pg_error_set(PG_ENOMEM, "%s: out of memory reading YAML",
				    c->name);
	if (p->error == YAML_READER_ERROR) {
		size_t line0, col0;
		position_of(c->text, c->len, p->problem_offset, &line0, &col0);
		if (p->problem_value >= 0)
			return fail_at(c, line0, col0,
				       "unreadable text: %s (U+%04X)", problem,
				       (unsigned)p->problem_value);
		return fail_at(c, line0, col0, "unreadable text: %s", problem);
	}
	if (p->context)
		return fail(c, p->problem_mark,
			    "invalid YAML: %s (%s at line %zu, column %zu)",
			    problem, p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
	return fail(c, p->problem_mark, "invalid YAML: %s", problem);
}

/*
 * Advance to the next event, refusing aliases, anchors and tags, and
 * nesting past PG_SUITE_MAX_DEPTH.
 */
static int next(struct ctx *c)
{
	char buf[GOT_BYTES];
	if (c->have_ev) {
		yaml_event_delete(&c->ev);
		c->have_ev = false;
	}
	if (!yaml_parser_parse(&c->yp, &c->ev))
		return syntax_error(c);
	c->have_ev = true;

	const yaml_event_t *e = &c->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	switch (e->type) {
	case YAML_ALIAS_EVENT:
		anchor = e->data.alias.anchor;
		return fail(c, e->start_mark,
			    "YAML aliases ('*%s') are not supported: write the "
			    "value out in full",
			    excerpt(buf, (const char *)anchor,
				    strlen((const char *)anchor)));
	case YAML_SCALAR_EVENT:
		anchor = e->data.scalar.anchor;
		tag = e->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = e->data.sequence_start.anchor;
		tag = e->data.sequence_start.tag;
		c->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = e->data.mapping_start.anchor;
		tag = e->data.mapping_start.tag;
		c->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		c->depth--;
		break;
	default:
		break;
	}
	if (anchor)
		return fail(c, e->start_mark,
			    "YAML anchors ('&%s') are not supported: write the "
			    "value out in full where it is needed",
			    excerpt(buf, (const char *)anchor,
				    strlen((const char *)anchor)));
	if (tag)
		return fail(
		    c, e->start_mark,
		    "YAML tags ('%s') are not supported: remove the "
		    "tag; each key has one type",
		    excerpt(buf, (const char *)tag, strlen((const char *)tag)));
	if (c->depth > PG_SUITE_MAX_DEPTH)
		return fail(c, e->start_mark,
			    "nesting deeper than %d levels: a suite is only "
			    "a few levels deep",
			    PG_SUITE_MAX_DEPTH);
	return 0;
}

/* ---- scalars ---------------------------------------------------------- */

static const char *sval(const struct ctx *c)
{
	return (const char *)c->ev.data.scalar.value;
}

static size_t slen(const struct ctx *c)
{
	return c->ev.data.scalar.length;
}

static bool seq(const struct ctx *c, const char *word)
{
	return slen(c) == strlen(word) && memcmp(sval(c), word, slen(c)) == 0;
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static bool is_null(const struct ctx *c)
{
	if (c->ev.type != YAML_SCALAR_EVENT ||
	    c->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return slen(c) == 0 || seq(c, "~") || seq(c, "null") ||
	       seq(c, "Null") || seq(c, "NULL");
}

/*
 * The current event must be a scalar without NUL bytes (an escaped "\0"
 * would silently cut the C string). `what` describes what is expected.
 */
static int want_scalar(const struct ctx *c, const char *key, const char *what)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_SCALAR_EVENT)
		return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			    what, got(c, buf));
	if (memchr(sval(c), '\0', slen(c)))
		return fail(c, c->ev.start_mark,
			    "'%s' contains a NUL character", key);
	return 0;
}

/* A non-negative decimal "12", "1.5", ".5": value and bytes used (0 if none). */
static size_t parse_decimal(const char *s, size_t len, double *out)
{
	char tmp[64];
	size_t i = 0, digits = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (digits == 0 || i >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, i);
	tmp[i] = '\0';
	*out = strtod(tmp, NULL);
	return isfinite(*out) ? i : 0;
}

/* Skip spaces from position i; the rest must equal `word`. */
static bool rest_is(const char *s, size_t len, size_t i, const char *word)
{
	while (i < len && s[i] == ' ')
		i++;
	return len - i == strlen(word) && memcmp(s + i, word, len - i) == 0;
}

/* A string value; NULL for YAML null when `nullable`. Replaces *out. */
static int get_string(struct ctx *c, const char *key, bool nullable, char **out)
{
	int rc = want_scalar(c, key, "a string");
	if (rc)
		return rc;
	if (is_null(c) && !nullable)
		return fail(c, c->ev.start_mark,
			    "'%s' needs a value: expected a string", key);
	free(*out);
	*out = is_null(c) ? NULL : pg_strndup(sval(c), slen(c));
	return 0;
}

/* A whole number in [min, MAX_COUNT]. */
static int get_count(struct ctx *c, const char *key, int min, int *out)
{
	char buf[GOT_BYTES];
	const char *what = min > 0 ? "a positive integer (1 or more)"
				   : "a whole number (0 or more)";
	int rc = want_scalar(c, key, what);
	if (rc)
		return rc;
	const char *s = sval(c);
	size_t len = slen(c), i = 0;
	bool negative = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		negative = s[i++] == '-';
	if (i == len)
		return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			    what, got(c, buf));
	long long v = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(c, c->ev.start_mark,
				    "'%s' must be %s, got %s", key, what,
				    got(c, buf));
		if (v <= MAX_COUNT)
			v = v * 10 + (s[i] - '0');
	}
	if (negative)
		v = -v;
	if (v < min)
		return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			    what, got(c, buf));
	if (v > MAX_COUNT)
		return fail(c, c->ev.start_mark,
			    "'%s' must be at most %d, got %s", key, MAX_COUNT,
			    got(c, buf));
	*out = (int)v;
	return 0;
}

/* A duration "120s", "1.5s", "500ms", "2m" in whole milliseconds. */
static int get_duration(struct ctx *c, const char *key, int64_t *out_ms)
{
	char buf[GOT_BYTES];
	int rc = want_scalar(c, key, "a duration like 120s, 1.5s or 500ms");
	if (rc)
		return rc;
	const char *s = sval(c);
	size_t len = slen(c);
	double v;
	if (len > 0 && s[0] == '-')
		return fail(c, c->ev.start_mark,
			    "'%s' must be a positive duration, got %s", key,
			    got(c, buf));
	size_t used = parse_decimal(s, len, &v);
	if (used == 0)
		goto bad;
	double mult;
	if (rest_is(s, len, used, "ms"))
		mult = 1;
	else if (rest_is(s, len, used, "s"))
		mult = 1000;
	else if (rest_is(s, len, used, "m"))
		mult = 60000;
	else if (rest_is(s, len, used, ""))
		return fail(c, c->ev.start_mark,
			    "'%s' needs a unit: a bare number is ambiguous; "
			    "write e.g. '%.*ss' or '%.*sms' (units: ms, s, m)",
			    key, (int)used, s, (int)used, s);
	else
		goto bad;
	double ms = v * mult;
	if (ms > (double)MAX_TIMEOUT_MS)
		return fail(c, c->ev.start_mark,
			    "'%s' must be at most 24 hours (1440m), got %s",
			    key, got(c, buf));
	int64_t rounded = (int64_t)llround(ms);
	if (rounded < 1)
		return fail(c, c->ev.start_mark,
			    "'%s' must be at least 1ms, got %s", key,
			    got(c, buf));
	*out_ms = rounded;
	return 0;
bad:
	return fail(c, c->ev.start_mark,
		    "'%s' must be a duration like 120s, 1.5s, 500ms or 2m, "
		    "got %s",
		    key, got(c, buf));
}

/*
 * A percentage "10%" as 10.0, at most max_pct; "off" gives -1 when
 * allow_off.
 */
static int get_percent(struct ctx *c, const char *key, bool allow_off,
		       double max_pct, double *out)
{
	char buf[GOT_BYTES];
	const char *like = allow_off ? "a percentage like 10% or off"
				     : "a percentage like 10%";
	int rc = want_scalar(c, key, like);
	if (rc)
		return rc;
	const char *s = sval(c);
	size_t len = slen(c);
	if (allow_off && seq(c, "off")) {
		*out = -1;
		return 0;
	}
	if (len > 0 && s[0] == '-')
		return fail(c, c->ev.start_mark,
			    "'%s' must not be negative, got %s", key,
			    got(c, buf));
	double v;
	size_t used = parse_decimal(s, len, &v);
	if (used == 0)
		return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			    like, got(c, buf));
	if (rest_is(s, len, used, ""))
		return fail(c, c->ev.start_mark,
			    "'%s' is a percentage: write '%.*s%%' (a bare "
			    "number is ambiguous)",
			    key, (int)used, s);
	if (!rest_is(s, len, used, "%"))
		return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			    like, got(c, buf));
	if (v > max_pct)
		return fail(c, c->ev.start_mark,
			    "'%s' must be at most %g%%, got %s", key, max_pct,
			    got(c, buf));
	*out = v;
	return 0;
}

/* A false-discovery rate: 0.01 or 1%, strictly between 0 and 1. */
static int get_fdr(struct ctx *c, const char *key, double *out)
{
	char buf[GOT_BYTES];
	const char *what = "a rate between 0 and 1 (exclusive), like 0.01 "
			   "or 1%";
	int rc = want_scalar(c, key, what);
	if (rc)
		return rc;
	const char *s = sval(c);
	size_t len = slen(c);
	double v;
	size_t used = parse_decimal(s, len, &v);
	if (used == 0)
		goto bad;
	if (rest_is(s, len, used, "%"))
		v /= 100;
	else if (!rest_is(s, len, used, ""))
		goto bad;
	if (!(v > 0 && v < 1))
		goto bad;
	*out = v;
	return 0;
bad:
	return fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key, what,
		    got(c, buf));
}

static int get_bool(struct ctx *c, const char *key, bool *out)
{
	char buf[GOT_BYTES];
	int rc = want_scalar(c, key, "true or false");
	if (rc)
		return rc;
	if (seq(c, "true") || seq(c, "True") || seq(c, "TRUE")) {
		*out = true;
		return 0;
	}
	if (seq(c, "false") || seq(c, "False") || seq(c, "FALSE")) {
		*out = false;
		return 0;
	}
	return fail(c, c->ev.start_mark, "'%s' must be true or false, got %s",
		    key, got(c, buf));
}

/*
 * Offset of a '[' that opens no class in glob pattern p (pg_glob_match
 * would silently take it literally), or -1 when every class is closed.
 */
static long unclosed_class_at(const char *p)
{
	for (const char *q = p; *q; q++) {
		if (*q != '[')
			continue;
		const char *r = q + 1;
		if (*r == '!' || *r == '^')
			r++;
		if (*r == ']')
			r++; /* a leading ']' is a member */
		while (*r && *r != ']')
			r++;
		if (!*r)
			return q - p;
		q = r;
	}
	return -1;
}

/*
 * A list of strings appended to *out. Numbers and other scalars are kept
 * as written; nulls are refused. With `globs`, items are glob patterns:
 * "" and unclosed '[' classes are refused too.
 * `item` names one element for messages ("a string"), `items` several.
 */
static int get_strlist(struct ctx *c, const char *key, const char *item,
		       const char *items, bool globs, struct pg_strvec *out)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(c, c->ev.start_mark,
			    "'%s' must be a list of %s, e.g. [\"a\", \"b\"], "
			    "got %s",
			    key, items, got(c, buf));
	for (;;) {
		int rc = next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (c->ev.type != YAML_SCALAR_EVENT || is_null(c))
			return fail(c, c->ev.start_mark,
				    "each item of '%s' must be %s, got %s", key,
				    item, is_null(c) ? "null" : got(c, buf));
		rc = want_scalar(c, key, item);
		if (rc)
			return rc;
		if (globs && slen(c) == 0)
			return fail(c, c->ev.start_mark,
				    "each item of '%s' must be %s, got ''", key,
				    item);
		if (globs && unclosed_class_at(sval(c)) >= 0)
			return fail(c, c->ev.start_mark,
				    "pattern %s in '%s' has an unclosed '[' "
				    "(write [[] for a literal '[')",
				    got(c, buf), key);
		pg_strvec_push(out, sval(c));
	}
}

/* ---- mappings --------------------------------------------------------- */

static int unknown_key(const struct ctx *c, const struct keyset *ks)
{
	char buf[GOT_BYTES], key[MAX_KEY_HINT_LEN + 1];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	if (slen(c) <= MAX_KEY_HINT_LEN && !memchr(sval(c), '\0', slen(c))) {
		memcpy(key, sval(c), slen(c));
		key[slen(c)] = '\0';
		for (size_t i = 0; i < ks->n; i++) {
			size_t d = pg_edit_distance(key, ks->names[i]);
			if (d < best_d) {
				best_d = d;
				best = ks->names[i];
			}
		}
	}
	if (seq(c, "<<"))
		return fail(c, c->ev.start_mark,
			    "YAML merge keys ('<<') are not supported: write "
			    "the keys out in full");
	if (best && best_d <= 2 && best_d < strlen(best))
		return fail(c, c->ev.start_mark,
			    "unknown key %s in %s; did you mean '%s'?",
			    got(c, buf), ks->where, best);
	char list[256] = "";
	for (size_t i = 0; i < ks->n; i++) {
		strcat(list, i ? ", " : "");
		strcat(list, ks->names[i]);
	}
	return fail(c, c->ev.start_mark,
		    "unknown key %s in %s; expected one of: %s", got(c, buf),
		    ks->where, list);
}

/*
 * Read the next key of a mapping from `ks` and move onto its value.
 * Returns 1 at the end of the mapping, 0 with *idx set, or an error.
 * `first_line` (ks->n entries, zeroed by the caller) catches duplicates.
 */
static int read_key(struct ctx *c, const struct keyset *ks, int *first_line,
		    int *idx, yaml_mark_t *key_mark)
{
	char buf[GOT_BYTES];
	int rc = next(c);
	if (rc)
		return rc;
	if (c->ev.type == YAML_MAPPING_END_EVENT)
		return 1;
	if (c->ev.type != YAML_SCALAR_EVENT)
		return fail(c, c->ev.start_mark,
			    "keys in %s must be names, got %s", ks->where,
			    got(c, buf));
	size_t i;
	for (i = 0; i < ks->n; i++)
		if (seq(c, ks->names[i]))
			break;
	if (i == ks->n)
		return unknown_key(c, ks);
	if (first_line[i])
		return fail(c, c->ev.start_mark,
			    "duplicate key '%s' in %s (first at line %d)",
			    ks->names[i], ks->where, first_line[i]);
	first_line[i] = (int)c->ev.start_mark.line + 1;
	*idx = (int)i;
	*key_mark = c->ev.start_mark;
	return next(c);
}

static int want_mapping(const struct ctx *c, const char *key,
			const char *example)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return fail(c, c->ev.start_mark,
			    "'%s' must be a mapping like %s, got %s", key,
			    example, got(c, buf));
	return 0;
}

/* thresholds: {function, total, min_share, calls, fdr}; sets bits in *set. */
static int parse_thresholds(struct ctx *c, struct pg_thresholds *t,
			    unsigned *set)
{
	int rc = want_mapping(c, "thresholds", "{function: 10%, total: 5%}");
	if (rc)
		return rc;
	int first[T_N] = {0};
	for (;;) {
		int idx;
		yaml_mark_t km;
		rc = read_key(c, &thr_keys, first, &idx, &km);
		if (rc == 1)
			return 0;
		if (rc)
			return rc;
		switch ((enum thr_key)idx) {
		case T_FUNCTION:
			rc = get_percent(c, "function", false, HUGE_VAL,
					 &t->function_pct);
			break;
		case T_TOTAL:
			rc = get_percent(c, "total", false, HUGE_VAL,
					 &t->total_pct);
			break;
		case T_MIN_SHARE:
			rc = get_percent(c, "min_share", false, 100,
					 &t->min_share_pct);
			break;
		case T_CALLS:
			rc = get_percent(c, "calls", true, HUGE_VAL,
					 &t->calls_pct);
			break;
		case T_FDR:
			rc = get_fdr(c, "fdr", &t->fdr);
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

static int parse_store(struct ctx *c)
{
	struct pg_suite *s = c->s;
	int rc = want_mapping(c, "store",
			      "{kind: git-notes, ref: "
			      "refs/notes/perfguard}");
	if (rc)
		return rc;
	yaml_mark_t store_mark = c->ev.start_mark, ref_mark, path_mark;
	int first[S_N] = {0};
	bool have_kind = false, have_ref = false, have_path = false;
	char buf[GOT_BYTES];
	for (;;) {
		int idx;
		yaml_mark_t km;
		rc = read_key(c, &store_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc)
			return rc;
		switch ((enum store_key)idx) {
		case S_KIND:
			rc = want_scalar(c, "kind", "git-notes or dir");
			if (rc)
				return rc;
			if (seq(c, "git-notes"))
				s->store_kind = PG_STORE_GIT_NOTES;
			else if (seq(c, "dir"))
				s->store_kind = PG_STORE_DIR;
			else
				return fail(c, c->ev.start_mark,
					    "'kind' must be git-notes or dir, "
					    "got %s",
					    got(c, buf));
			have_kind = true;
			break;
		case S_REF:
			ref_mark = km;
			have_ref = true;
			rc = get_string(c, "ref", false, &s->store_ref);
			if (rc)
				return rc;
			if (!valid_ref(s->store_ref))
				return fail(
				    c, c->ev.start_mark,
				    "'ref' must be a git ref name under "
				    "refs/, e.g. refs/notes/perfguard, "
				    "got %s",
				    got(c, buf));
			break;
		case S_PATH:
			path_mark = km;
			have_path = true;
			rc = get_string(c, "path", false, &s->store_path);
			if (rc)
				return rc;
			if (!s->store_path[0])
				return fail(c, c->ev.start_mark,
					    "'path' must not be empty");
			break;
		case S_N:
			break;
		}
	}
	if (!have_kind)
		return fail(c, store_mark,
			    "'store' needs a 'kind': git-notes (with 'ref') or "
			    "dir (with 'path')");
	if (have_ref && s->store_kind != PG_STORE_GIT_NOTES)
		return fail(c, ref_mark,
			    "'ref' applies to kind git-notes only; kind dir "
			    "takes 'path'");
	if (have_path && s->store_kind != PG_STORE_DIR)
		return fail(c, path_mark,
			    "'path' applies to kind dir only; kind git-notes "
			    "takes 'ref'");
	return 0;
}

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
	int rc = want_mapping(c, "env", "{MYAPP_MODE: bench}");
	if (rc)
		return rc;
	struct pg_map seen;
	size_t cap = 0;
	pg_map_init(&seen);
	for (;;) {
		rc = next(c);
		if (rc)
			break;
		if (c->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (c->ev.type != YAML_SCALAR_EVENT ||
		    !valid_env_name(sval(c), slen(c))) {
			rc = fail(c, c->ev.start_mark,
				  "environment variable names in 'env' must "
				  "match [A-Za-z_][A-Za-z0-9_]*, got %s",
				  got(c, buf));
			break;
		}
		char *name = pg_strndup(sval(c), slen(c));
		size_t first;
		if (pg_map_get(&seen, name, &first)) {
			rc = fail(c, c->ev.start_mark,
				  "duplicate key '%s' in 'env' (first at line "
				  "%zu)",
				  name, first);
			free(name);
			break;
		}
		pg_map_put(&seen, name, c->ev.start_mark.line + 1);
		rc = next(c);
		if (!rc)
			rc = want_scalar(c, name, "a string");
		if (rc) {
			free(name);
			break;
		}
		struct pg_env_var var = {
		    name,
		    is_null(c) ? pg_strdup("") : pg_strndup(sval(c), slen(c))};
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

static int parse_bench(struct ctx *c)
{
	struct pg_suite *s = c->s;
	char buf[GOT_BYTES];
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
		int idx, rc;
		yaml_mark_t km;
		rc = read_key(c, &bench_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc)
			return rc;
		switch ((enum bench_key)idx) {
		case B_NAME: {
			rc = want_scalar(c, "name", "a name");
			if (rc)
				return rc;
			if (!valid_bench_name(sval(c), slen(c)))
				return fail(c, c->ev.start_mark,
					    "benchmark 'name' must be 1 to %d "
					    "characters of [A-Za-z0-9_.-], "
					    "got %s",
					    MAX_NAME_LEN, got(c, buf));
			b->name = pg_strndup(sval(c), slen(c));
			size_t line;
			if (pg_map_get(&c->bench_lines, b->name, &line))
				return fail(c, c->ev.start_mark,
					    "duplicate benchmark name '%s' "
					    "(first defined at line %zu)",
					    b->name, line);
			pg_map_put(&c->bench_lines, b->name,
				   c->ev.start_mark.line + 1);
			break;
		}
		case B_SCRIPT:
			rc = get_string(c, "script", false, &b->script);
			if (rc)
				return rc;
			if (!b->script[0])
				return fail(c, c->ev.start_mark,
					    "'script' must not be empty");
			if (b->script[0] == '/')
				return fail(c, c->ev.start_mark,
					    "'script' must be relative to the "
					    "repository root, got %s",
					    got(c, buf));
			if (climbs_out(b->script))
				return fail(c, c->ev.start_mark,
					    "script '%s' lies outside the "
					    "repository: scripts must be "
					    "inside it",
					    b->script);
			if (c->check_scripts) {
				char *p = pg_path_join(s->root, b->script);
				bool exists = pg_path_exists(p);
				bool dir = exists && pg_path_is_dir(p);
				if (!exists || dir)
					rc = fail(c, c->ev.start_mark,
						  "script '%s' %s (looked for "
						  "%s; scripts are relative "
						  "to the repository root)",
						  b->script,
						  dir ? "is a directory"
						      : "not found",
						  p);
				if (!rc && !inside(s->root, p))
					rc = fail(c, c->ev.start_mark,
						  "script '%s' lies outside "
						  "the repository (through a "
						  "symlink): scripts must be "
						  "inside it",
						  b->script);
				free(p);
				if (rc)
					return rc;
			}
			break;
		case B_ARGS:
			rc = get_strlist(c, "args", "a string", "strings",
					 false, &b->args);
			break;
		case B_ENV:
			rc = parse_env(c, b);
			break;
		case B_WALL:
			rc = get_bool(c, "wall", &b->wall);
			break;
		case B_THRESHOLDS:
			rc = parse_thresholds(c, &b->thresholds, &x->thr_set);
			break;
		case B_TRACK:
			rc = get_strlist(c, "track", "a non-empty glob pattern",
					 "glob patterns", true, &b->track);
			x->track_set = true;
			break;
		case B_IGNORE:
			rc =
			    get_strlist(c, "ignore", "a non-empty glob pattern",
					"glob patterns", true, &b->ignore);
			break;
		case B_SCOPE:
			rc = get_strlist(c, "scope", "a non-empty glob pattern",
					 "glob patterns", true, &b->scope);
			x->scope_set = true;
			break;
		case B_BUILTINS:
			rc = get_bool(c, "builtins", &b->builtins);
			x->builtins_set = true;
			break;
		case B_N:
			break;
		}
		if (rc)
			return rc;
	}
	if (!b->name)
		return fail(c, mark,
			    "benchmark is missing 'name' (unique, "
			    "[A-Za-z0-9_.-]+)");
	if (!b->script)
		return fail(c, mark,
			    "benchmark '%s' is missing 'script' (the Python "
			    "file to run, relative to the repository root)",
			    b->name);
	return 0;
}

static int parse_benchmarks(struct ctx *c)
{
	char buf[GOT_BYTES];
	yaml_mark_t mark = c->ev.start_mark;
	if (is_null(c))
		return fail(c, mark,
			    "'benchmarks' is empty: list at least one "
			    "benchmark with a name and a script");
	if (c->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(c, mark,
			    "'benchmarks' must be a list of benchmarks "
			    "(\"- name: ...\"), got %s",
			    got(c, buf));
	for (;;) {
		int rc = next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (c->ev.type != YAML_MAPPING_START_EVENT)
			return fail(c, c->ev.start_mark,
				    "each benchmark must be a mapping with "
				    "'name' and 'script', got %s",
				    is_null(c) ? "null" : got(c, buf));
		rc = parse_bench(c);
		if (rc)
			return rc;
	}
	if (c->s->nbenches == 0)
		return fail(c, mark,
			    "'benchmarks' is empty: list at least one "
			    "benchmark with a name and a script");
	return 0;
}

static int parse_top(struct ctx *c)
{
	struct pg_suite *s = c->s;
	yaml_mark_t top_mark = c->ev.start_mark;
	int first[K_TOP_N] = {0};
	for (;;) {
		int idx, rc;
		yaml_mark_t km;
		rc = read_key(c, &top_keys, first, &idx, &km);
		if (rc == 1)
			break;
		if (rc)
			return rc;
		switch ((enum top_key)idx) {
		case K_PYTHON:
			rc = get_string(c, "python", false, &s->python);
			if (!rc && !s->python[0])
				rc = fail(c, c->ev.start_mark,
					  "'python' must not be empty");
			break;
		case K_TRIALS:
			rc = get_count(c, "trials", 1, &s->trials);
			break;
		case K_MAX_TRIALS:
			rc = get_count(c, "max_trials", 1, &s->max_trials);
			c->max_trials_set = true;
			c->max_trials_mark = c->ev.start_mark;
			break;
		case K_WARMUP:
			rc = get_count(c, "warmup", 0, &s->warmup);
			break;
		case K_TIMEOUT:
			rc = get_duration(c, "timeout", &s->timeout_ms);
			break;
		case K_CLOCK: {
			char buf[GOT_BYTES];
			rc = want_scalar(c, "clock", "wall or cpu");
			if (rc)
				break;
			if (seq(c, "wall"))
				s->clock = PG_CLOCK_WALL;
			else if (seq(c, "cpu"))
				s->clock = PG_CLOCK_CPU;
			else
				rc = fail(c, c->ev.start_mark,
					  "'clock' must be wall or cpu, got %s",
					  got(c, buf));
			break;
		}
		case K_AGAINST:
			rc = get_string(c, "against", true, &s->against);
			break;
		case K_PREPARE:
			rc = get_string(c, "prepare", true, &s->prepare);
			break;
		case K_THRESHOLDS: {
			unsigned set = 0;
			rc = parse_thresholds(c, &s->thresholds, &set);
			break;
		}
		case K_TRACK:
			pg_strvec_release(&s->track);
			rc = get_strlist(c, "track", "a non-empty glob pattern",
					 "glob patterns", true, &s->track);
			c->track_set = true;
			break;
		case K_IGNORE:
			rc =
			    get_strlist(c, "ignore", "a non-empty glob pattern",
					"glob patterns", true, &s->ignore);
			break;
		case K_SCOPE:
			pg_strvec_release(&s->scope);
			rc = get_strlist(c, "scope", "a non-empty glob pattern",
					 "glob patterns", true, &s->scope);
			break;
		case K_BUILTINS:
			rc = get_bool(c, "builtins", &s->builtins);
			break;
		case K_STORE:
			rc = parse_store(c);
			break;
		case K_BENCHMARKS:
			rc = parse_benchmarks(c);
			break;
		case K_TOP_N:
			break;
		}
		if (rc)
			return rc;
	}
	if (!first[K_BENCHMARKS])
		return fail(c, top_mark,
			    "the suite has no 'benchmarks': add a list of "
			    "benchmarks, each with a name and a script");
	if (c->max_trials_set && s->max_trials < s->trials)
		return fail(c, c->max_trials_mark,
			    "'max_trials' (%d) must be at least 'trials' (%d)",
			    s->max_trials, s->trials);
	return 0;
}

/*
 * First pass: is this acceptable YAML at all? Syntax, aliases, anchors,
 * tags, nesting and the number of documents are checked over the whole
 * stream before the schema is, so these mistakes are named as such
 * rather than as "expected a string" at some deep node.
 */
static int check_yaml(struct ctx *c)
{
	int documents = 0;
	for (;;) {
		int rc = next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_STREAM_END_EVENT)
			return 0;
		if (c->ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
			return fail(c, c->ev.start_mark,
				    "a second YAML document: the suite file "
				    "holds exactly one (remove this '---' and "
				    "what follows)");
	}
}

/* Second pass: exactly one document whose top level is a mapping. */
static int parse_stream(struct ctx *c)
{
	char buf[GOT_BYTES];
	int rc = next(c); /* STREAM-START */
	if (!rc)
		rc = next(c);
	if (rc)
		return rc;
	if (c->ev.type == YAML_STREAM_END_EVENT)
		return fail_at(c, 0, 0,
			       "the suite is empty: expected a mapping with "
			       "at least 'benchmarks'");
	yaml_mark_t doc_mark = c->ev.start_mark;
	rc = next(c); /* the root node */
	if (rc)
		return rc;
	/* an empty root's mark is past the document: point at its start */
	if (is_null(c))
		return fail(c, doc_mark,
			    "the suite is empty: expected a mapping with at "
			    "least 'benchmarks'");
	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return fail(c, c->ev.start_mark,
			    "the top level of the suite must be a mapping of "
			    "settings (python, trials, ..., benchmarks), got "
			    "%s",
			    got(c, buf));
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
		return fail_at(&c, 0, 0,
			       "the suite file is larger than 1 MiB (%zu "
			       "bytes): a suite lists benchmarks, not data",
			       len);
	size_t bad = utf8_invalid_at((const unsigned char *)text, len);
	if (bad < len) {
		size_t line0, col0;
		position_of(text, len, bad, &line0, &col0);
		return fail_at(&c, line0, col0,
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
	rc = check_yaml(&c);
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
