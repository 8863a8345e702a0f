/*
 * reader.c - reading the suite's YAML: libyaml events (aliases, anchors,
 * tags and deep nesting refused as they stream by), the grammars of
 * scalar values (counts, durations, percentages, fdr, booleans, strings,
 * lists of patterns), matching mapping keys with "did you mean", and
 * every message as "file:line:col: what was expected".
 *
 * It knows no suite keys: which keys exist and what they mean is
 * suite.c's (the schema). Errors are PG_EINVALID with the position of the
 * offending node; nothing here allocates what the suite keeps except
 * through the get_* functions' outputs.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int suite_fail_at(const struct ctx *c, size_t line0, size_t col0,
		  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, line0, col0, fmt, ap);
	va_end(ap);
	return rc;
}

int suite_fail(const struct ctx *c, yaml_mark_t m, const char *fmt, ...)
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

/* The current event as a phrase: "'abc'", "a mapping", "a list". */
const char *suite_got(const struct ctx *c, char *out)
{
	switch (c->ev.type) {
	case YAML_SCALAR_EVENT:
		if (suite_is_null(c) && c->ev.data.scalar.length == 0)
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

/* 0-based line and column (in characters) of byte `off` of the text. */
void suite_position_of(const char *text, size_t len, size_t off, size_t *line0,
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

static int syntax_error(struct ctx *c)
{
	const yaml_parser_t *p = &c->yp;
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR)
		return pg_error_set(PG_ENOMEM, "%s: out of memory reading YAML",
				    c->name);
	if (p->error == YAML_READER_ERROR) {
		size_t line0, col0;
		suite_position_of(c->text, c->len, p->problem_offset, &line0,
				  &col0);
		if (p->problem_value >= 0)
			return suite_fail_at(
			    c, line0, col0, "unreadable text: %s (U+%04X)",
			    problem, (unsigned)p->problem_value);
		return suite_fail_at(c, line0, col0, "unreadable text: %s",
				     problem);
	}
	if (p->context)
		return suite_fail(
		    c, p->problem_mark,
		    "invalid YAML: %s (%s at line %zu, column %zu)", problem,
		    p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	return suite_fail(c, p->problem_mark, "invalid YAML: %s", problem);
}

/*
 * Advance to the next event, refusing aliases, anchors and tags, and
 * nesting past PG_SUITE_MAX_DEPTH.
 */
int suite_next(struct ctx *c)
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
		return suite_fail(
		    c, e->start_mark,
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
		return suite_fail(
		    c, e->start_mark,
		    "YAML anchors ('&%s') are not supported: write the "
		    "value out in full where it is needed",
		    excerpt(buf, (const char *)anchor,
			    strlen((const char *)anchor)));
	if (tag)
		return suite_fail(
		    c, e->start_mark,
		    "YAML tags ('%s') are not supported: remove the "
		    "tag; each key has one type",
		    excerpt(buf, (const char *)tag, strlen((const char *)tag)));
	if (c->depth > PG_SUITE_MAX_DEPTH)
		return suite_fail(
		    c, e->start_mark,
		    "nesting deeper than %d levels: a suite is only "
		    "a few levels deep",
		    PG_SUITE_MAX_DEPTH);
	return 0;
}

/* ---- scalars ---------------------------------------------------------- */

const char *suite_sval(const struct ctx *c)
{
	return (const char *)c->ev.data.scalar.value;
}

size_t suite_slen(const struct ctx *c)
{
	return c->ev.data.scalar.length;
}

bool suite_seq(const struct ctx *c, const char *word)
{
	return suite_slen(c) == strlen(word) &&
	       memcmp(suite_sval(c), word, suite_slen(c)) == 0;
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
bool suite_is_null(const struct ctx *c)
{
	if (c->ev.type != YAML_SCALAR_EVENT ||
	    c->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return suite_slen(c) == 0 || suite_seq(c, "~") ||
	       suite_seq(c, "null") || suite_seq(c, "Null") ||
	       suite_seq(c, "NULL");
}

/*
 * The current event must be a scalar without NUL bytes (an escaped "\0"
 * would silently cut the C string). `what` describes what is expected.
 */
int suite_want_scalar(const struct ctx *c, const char *key, const char *what)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_SCALAR_EVENT)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be %s, got %s", key, what,
				  suite_got(c, buf));
	if (memchr(suite_sval(c), '\0', suite_slen(c)))
		return suite_fail(c, c->ev.start_mark,
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
int suite_get_string(struct ctx *c, const char *key, bool nullable, char **out)
{
	int rc = suite_want_scalar(c, key, "a string");
	if (rc)
		return rc;
	if (suite_is_null(c) && !nullable)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' needs a value: expected a string", key);
	free(*out);
	*out =
	    suite_is_null(c) ? NULL : pg_strndup(suite_sval(c), suite_slen(c));
	return 0;
}

/* A whole number in [min, MAX_COUNT]. */
int suite_get_count(struct ctx *c, const char *key, int min, int *out)
{
	char buf[GOT_BYTES];
	const char *what = min > 0 ? "a positive integer (1 or more)"
				   : "a whole number (0 or more)";
	int rc = suite_want_scalar(c, key, what);
	if (rc)
		return rc;
	const char *s = suite_sval(c);
	size_t len = suite_slen(c), i = 0;
	bool negative = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		negative = s[i++] == '-';
	if (i == len)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be %s, got %s", key, what,
				  suite_got(c, buf));
	long long v = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return suite_fail(c, c->ev.start_mark,
					  "'%s' must be %s, got %s", key, what,
					  suite_got(c, buf));
		if (v <= MAX_COUNT)
			v = v * 10 + (s[i] - '0');
	}
	if (negative)
		v = -v;
	if (v < min)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be %s, got %s", key, what,
				  suite_got(c, buf));
	if (v > MAX_COUNT)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be at most %d, got %s", key,
				  MAX_COUNT, suite_got(c, buf));
	*out = (int)v;
	return 0;
}

/* A duration "120s", "1.5s", "500ms", "2m" in whole milliseconds. */
int suite_get_duration(struct ctx *c, const char *key, int64_t *out_ms)
{
	char buf[GOT_BYTES];
	int rc =
	    suite_want_scalar(c, key, "a duration like 120s, 1.5s or 500ms");
	if (rc)
		return rc;
	const char *s = suite_sval(c);
	size_t len = suite_slen(c);
	double v;
	if (len > 0 && s[0] == '-')
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be a positive duration, got %s",
				  key, suite_got(c, buf));
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
		return suite_fail(
		    c, c->ev.start_mark,
		    "'%s' needs a unit: a bare number is ambiguous; "
		    "write e.g. '%.*ss' or '%.*sms' (units: ms, s, m)",
		    key, (int)used, s, (int)used, s);
	else
		goto bad;
	double ms = v * mult;
	if (ms > (double)MAX_TIMEOUT_MS)
		return suite_fail(
		    c, c->ev.start_mark,
		    "'%s' must be at most 24 hours (1440m), got %s", key,
		    suite_got(c, buf));
	int64_t rounded = (int64_t)llround(ms);
	if (rounded < 1)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be at least 1ms, got %s", key,
				  suite_got(c, buf));
	*out_ms = rounded;
	return 0;
bad:
	return suite_fail(
	    c, c->ev.start_mark,
	    "'%s' must be a duration like 120s, 1.5s, 500ms or 2m, "
	    "got %s",
	    key, suite_got(c, buf));
}

/*
 * A percentage "10%" as 10.0, at most max_pct; "off" gives -1 when
 * allow_off.
 */
int suite_get_percent(struct ctx *c, const char *key, bool allow_off,
		      double max_pct, double *out)
{
	char buf[GOT_BYTES];
	const char *like = allow_off ? "a percentage like 10% or off"
				     : "a percentage like 10%";
	int rc = suite_want_scalar(c, key, like);
	if (rc)
		return rc;
	const char *s = suite_sval(c);
	size_t len = suite_slen(c);
	if (allow_off && suite_seq(c, "off")) {
		*out = -1;
		return 0;
	}
	if (len > 0 && s[0] == '-')
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must not be negative, got %s", key,
				  suite_got(c, buf));
	double v;
	size_t used = parse_decimal(s, len, &v);
	if (used == 0)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be %s, got %s", key, like,
				  suite_got(c, buf));
	if (rest_is(s, len, used, ""))
		return suite_fail(
		    c, c->ev.start_mark,
		    "'%s' is a percentage: write '%.*s%%' (a bare "
		    "number is ambiguous)",
		    key, (int)used, s);
	if (!rest_is(s, len, used, "%"))
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be %s, got %s", key, like,
				  suite_got(c, buf));
	if (v > max_pct)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be at most %g%%, got %s", key,
				  max_pct, suite_got(c, buf));
	*out = v;
	return 0;
}

/* A false-discovery rate: 0.01 or 1%, strictly between 0 and 1. */
int suite_get_fdr(struct ctx *c, const char *key, double *out)
{
	char buf[GOT_BYTES];
	const char *what = "a rate between 0 and 1 (exclusive), like 0.01 "
			   "or 1%";
	int rc = suite_want_scalar(c, key, what);
	if (rc)
		return rc;
	const char *s = suite_sval(c);
	size_t len = suite_slen(c);
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
	return suite_fail(c, c->ev.start_mark, "'%s' must be %s, got %s", key,
			  what, suite_got(c, buf));
}

int suite_get_bool(struct ctx *c, const char *key, bool *out)
{
	char buf[GOT_BYTES];
	int rc = suite_want_scalar(c, key, "true or false");
	if (rc)
		return rc;
	if (suite_seq(c, "true") || suite_seq(c, "True") ||
	    suite_seq(c, "TRUE")) {
		*out = true;
		return 0;
	}
	if (suite_seq(c, "false") || suite_seq(c, "False") ||
	    suite_seq(c, "FALSE")) {
		*out = false;
		return 0;
	}
	return suite_fail(c, c->ev.start_mark,
			  "'%s' must be true or false, got %s", key,
			  suite_got(c, buf));
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
int suite_get_strlist(struct ctx *c, const char *key, const char *item,
		      const char *items, bool globs, struct pg_strvec *out)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_SEQUENCE_START_EVENT)
		return suite_fail(
		    c, c->ev.start_mark,
		    "'%s' must be a list of %s, e.g. [\"a\", \"b\"], "
		    "got %s",
		    key, items, suite_got(c, buf));
	for (;;) {
		int rc = suite_next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (c->ev.type != YAML_SCALAR_EVENT || suite_is_null(c))
			return suite_fail(
			    c, c->ev.start_mark,
			    "each item of '%s' must be %s, got %s", key, item,
			    suite_is_null(c) ? "null" : suite_got(c, buf));
		rc = suite_want_scalar(c, key, item);
		if (rc)
			return rc;
		if (globs && suite_slen(c) == 0)
			return suite_fail(
			    c, c->ev.start_mark,
			    "each item of '%s' must be %s, got ''", key, item);
		if (globs && unclosed_class_at(suite_sval(c)) >= 0)
			return suite_fail(
			    c, c->ev.start_mark,
			    "pattern %s in '%s' has an unclosed '[' "
			    "(write [[] for a literal '[')",
			    suite_got(c, buf), key);
		pg_strvec_push(out, suite_sval(c));
	}
}

/* ---- mappings --------------------------------------------------------- */

static int unknown_key(const struct ctx *c, const struct keyset *ks)
{
	char buf[GOT_BYTES], key[MAX_KEY_HINT_LEN + 1];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	if (suite_slen(c) <= MAX_KEY_HINT_LEN &&
	    !memchr(suite_sval(c), '\0', suite_slen(c))) {
		memcpy(key, suite_sval(c), suite_slen(c));
		key[suite_slen(c)] = '\0';
		for (size_t i = 0; i < ks->n; i++) {
			size_t d = pg_edit_distance(key, ks->names[i]);
			if (d < best_d) {
				best_d = d;
				best = ks->names[i];
			}
		}
	}
	if (suite_seq(c, "<<"))
		return suite_fail(
		    c, c->ev.start_mark,
		    "YAML merge keys ('<<') are not supported: write "
		    "the keys out in full");
	if (best && best_d <= 2 && best_d < strlen(best))
		return suite_fail(c, c->ev.start_mark,
				  "unknown key %s in %s; did you mean '%s'?",
				  suite_got(c, buf), ks->where, best);
	char list[256] = "";
	for (size_t i = 0; i < ks->n; i++) {
		strcat(list, i ? ", " : "");
		strcat(list, ks->names[i]);
	}
	return suite_fail(c, c->ev.start_mark,
			  "unknown key %s in %s; expected one of: %s",
			  suite_got(c, buf), ks->where, list);
}

/*
 * Read the next key of a mapping from `ks` and move onto its value.
 * Returns 1 at the end of the mapping, 0 with *idx set, or an error.
 * `first_line` (ks->n entries, zeroed by the caller) catches duplicates.
 */
int suite_read_key(struct ctx *c, const struct keyset *ks, int *first_line,
		   int *idx, yaml_mark_t *key_mark)
{
	char buf[GOT_BYTES];
	int rc = suite_next(c);
	if (rc)
		return rc;
	if (c->ev.type == YAML_MAPPING_END_EVENT)
		return 1;
	if (c->ev.type != YAML_SCALAR_EVENT)
		return suite_fail(c, c->ev.start_mark,
				  "keys in %s must be names, got %s", ks->where,
				  suite_got(c, buf));
	size_t i;
	for (i = 0; i < ks->n; i++)
		if (suite_seq(c, ks->names[i]))
			break;
	if (i == ks->n)
		return unknown_key(c, ks);
	if (first_line[i])
		return suite_fail(c, c->ev.start_mark,
				  "duplicate key '%s' in %s (first at line %d)",
				  ks->names[i], ks->where, first_line[i]);
	first_line[i] = (int)c->ev.start_mark.line + 1;
	*idx = (int)i;
	*key_mark = c->ev.start_mark;
	return suite_next(c);
}

int suite_want_mapping(const struct ctx *c, const char *key,
		       const char *example)
{
	char buf[GOT_BYTES];
	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return suite_fail(c, c->ev.start_mark,
				  "'%s' must be a mapping like %s, got %s", key,
				  example, suite_got(c, buf));
	return 0;
}

/* thresholds: {function, total, min_share, calls, fdr}; sets bits in *set. */
/*
 * First pass: is this acceptable YAML at all? Syntax, aliases, anchors,
 * tags, nesting and the number of documents are checked over the whole
 * stream before the schema is, so these mistakes are named as such
 * rather than as "expected a string" at some deep node.
 */
int suite_check_yaml(struct ctx *c)
{
	int documents = 0;
	for (;;) {
		int rc = suite_next(c);
		if (rc)
			return rc;
		if (c->ev.type == YAML_STREAM_END_EVENT)
			return 0;
		if (c->ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
			return suite_fail(
			    c, c->ev.start_mark,
			    "a second YAML document: the suite file "
			    "holds exactly one (remove this '---' and "
			    "what follows)");
	}
}
