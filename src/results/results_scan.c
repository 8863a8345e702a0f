/*
 * results_scan.c - read only part of a results set: what a history needs.
 *
 * `perfguard history` reads hundreds of stored baselines, each holding
 * every function's samples in every trial; it needs a benchmark's
 * per-trial totals and at most one function's self times. This reader
 * walks the JSON text without building a tree: it skips every value it
 * does not need (strings and nesting are followed, not checked in
 * detail), reads the few it needs strictly, and builds a results set
 * whose profiles hold the trials' scalars and at most that one function.
 *
 * Invariants: never reads outside [text, text + len); nesting deeper than
 * 256 is refused; any value it uses that has the wrong type or shape is
 * PG_ECORRUPT with its byte offset. Deliberately not done: the full
 * validation of pg_results_read_json (skipped values may be malformed in
 * ways that reader would refuse), and what that reader rejects as
 * out-of-range for a value this one does not use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "perfguard/results.h"

#define SCAN_MAX_DEPTH 256

struct cur {
	const char *start, *p, *end;
	char key[64]; /* an escaped member name, unescaped */
};

static int corrupt(const struct cur *c, const char *what)
{
	return pg_error_set(PG_ECORRUPT, "byte %zu: %s",
			    (size_t)(c->p - c->start), what);
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' ||
				 *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

/*
 * The first byte at or after p that is a quote or a bracket, or, when
 * commas is not NULL, the comma that brings *commas to 0 (counting down
 * the commas met before any such byte); end when there is none. This is
 * the hot loop of a history (hundreds of megabytes of JSON, mostly
 * columns of numbers): with SSE2 it tests 16 bytes at a time.
 */
static const char *scan(const char *p, const char *end, size_t *commas)
{
#ifdef __SSE2__
	const __m128i lower = _mm_set1_epi8(0x20), open = _mm_set1_epi8('{'),
		      close = _mm_set1_epi8('}'), quote = _mm_set1_epi8('"'),
		      comma = _mm_set1_epi8(',');
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* '[' | 0x20 == '{' and ']' | 0x20 == '}' */
		__m128i v20 = _mm_or_si128(v, lower);
		unsigned sm = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v20, open),
					      _mm_cmpeq_epi8(v20, close)),
				 _mm_cmpeq_epi8(v, quote)));
		if (commas) {
			unsigned cm = (unsigned)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, comma));
			if (sm)
				cm &= (sm & (0u - sm)) - 1;
			size_t n = (size_t)__builtin_popcount(cm);
			if (n >= *commas) {
				for (size_t k = 1; k < *commas; k++)
					cm &= cm - 1;
				*commas = 0;
				return p + __builtin_ctz(cm);
			}
			*commas -= n;
		}
		if (sm)
			return p + __builtin_ctz(sm);
		p += 16;
	}
#endif
	for (; p < end; p++) {
		char ch = *p, c20 = (char)(ch | 0x20);
		if (ch == '"' || c20 == '{' || c20 == '}')
			return p;
		if (commas && ch == ',' && --*commas == 0)
			return p;
	}
	return end;
}

/* At '"': move past the closing quote. */
static int skip_string(struct cur *c)
{
	const char *p = c->p + 1, *end = c->end;
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		if (!q)
			break;
		/* escaped when preceded by an odd number of backslashes */
		const char *b = q;
		while (b > p && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0) {
			c->p = q + 1;
			return 0;
		}
		p = q + 1;
	}
	c->p = end;
	return corrupt(c, "unterminated string");
}

/*
 * Move past `items` more items of the container the cursor is inside
 * (depth 1), or past its closing bracket when items is SIZE_MAX (then
 * *closed is set). Strings and nested containers are followed.
 */
static int skip_in(struct cur *c, size_t items, bool *closed)
{
	int depth = 1;
	size_t left = items;
	*closed = false;
	if (items == 0)
		return 0;
	while (c->p < c->end) {
		size_t *count = depth == 1 && items != SIZE_MAX ? &left : NULL;
		const char *p = scan(c->p, c->end, count);
		c->p = p;
		if (p >= c->end)
			break;
		char ch = *p;
		if (ch == ',') { /* the items-th comma at depth 1 */
			c->p++;
			return 0;
		}
		if (ch == '"') {
			if (skip_string(c))
				return PG_ECORRUPT;
			continue;
		}
		if ((ch | 0x20) == '{') {
			if (++depth > SCAN_MAX_DEPTH)
				return corrupt(c, "nested too deep");
		} else if (--depth == 0) {
			c->p++;
			*closed = true;
			return 0;
		}
		c->p++;
	}
	return corrupt(c, "unterminated object or array");
}

static int skip_value(struct cur *c)
{
	ws(c);
	if (c->p >= c->end)
		return corrupt(c, "a value is missing");
	if (*c->p == '"')
		return skip_string(c);
	if (*c->p == '{' || *c->p == '[') {
		bool closed;
		c->p++;
		return skip_in(c, SIZE_MAX, &closed);
	}
	const char *s = c->p;
	while (c->p < c->end &&
	       ((*c->p >= '0' && *c->p <= '9') ||
		(*c->p >= 'a' && *c->p <= 'z') || *c->p == '-' ||
		*c->p == '+' || *c->p == '.' || *c->p == 'E'))
		c->p++;
	return c->p > s ? 0 : corrupt(c, "not a JSON value");
}

static int expect(struct cur *c, char ch, const char *what)
{
	ws(c);
	if (c->p >= c->end || *c->p != ch)
		return corrupt(c, what);
	c->p++;
	return 0;
}

/*
 * Next member of an object whose '{' was consumed: 1 with *key, *klen (raw,
 * between the quotes) and the cursor at the value, 0 at the end ('}'
 * consumed), negative on error. *first starts true.
 */
static int next_member(struct cur *c, bool *first, const char **key,
		       size_t *klen)
{
	ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return 0;
	}
	if (!*first && expect(c, ',', "expected ',' or '}'"))
		return PG_ECORRUPT;
	*first = false;
	ws(c);
	if (c->p >= c->end || *c->p != '"')
		return corrupt(c, "expected a member name");
	const char *k = c->p + 1;
	if (skip_string(c))
		return PG_ECORRUPT;
	*key = k;
	*klen = (size_t)(c->p - 1 - k);
	if (memchr(k, '\\', *klen)) {
		/* rare: unescape it (a name we do not know matches nothing) */
		struct pg_json *j = NULL;
		*klen = 0;
		if (pg_json_parse(k - 1, (size_t)(c->p - k + 1), &j) == 0 &&
		    j->type == PG_JSON_STRING && j->len < sizeof(c->key)) {
			memcpy(c->key, j->string, j->len);
			*klen = j->len;
		}
		pg_error_clear();
		pg_json_free(j);
		*key = c->key;
	}
	if (expect(c, ':', "expected ':'"))
		return PG_ECORRUPT;
	ws(c);
	return 1;
}

/* Next item of an array whose '[' was consumed: 1, 0 at ']', <0. */
static int next_item(struct cur *c, bool *first)
{
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	if (!*first && expect(c, ',', "expected ',' or ']'"))
		return PG_ECORRUPT;
	*first = false;
	ws(c);
	return 1;
}

static bool is_key(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* A string value, unescaped (new string); NULL for null. */
static int read_string(struct cur *c, char **out, bool null_ok)
{
	*out = NULL;
	ws(c);
	if (null_ok && c->end - c->p >= 4 && !memcmp(c->p, "null", 4)) {
		c->p += 4;
		return 0;
	}
	if (c->p >= c->end || *c->p != '"')
		return corrupt(c, "expected a string");
	const char *s = c->p;
	if (skip_string(c))
		return PG_ECORRUPT;
	size_t len = (size_t)(c->p - s);
	if (!memchr(s, '\\', len)) {
		*out = pg_strndup(s + 1, len - 2);
		if (strlen(*out) != len - 2) {
			free(*out);
			*out = NULL;
			return corrupt(c, "a string holds a NUL");
		}
		return 0;
	}
	struct pg_json *j = NULL;
	if (pg_json_parse(s, len, &j) != 0 || j->type != PG_JSON_STRING ||
	    strlen(j->string) != j->len) {
		pg_json_free(j);
		return corrupt(c, "bad string");
	}
	*out = pg_strdup(j->string);
	pg_json_free(j);
	return 0;
}

/* An integer value in [lo, hi]. */
static int read_int(struct cur *c, int64_t lo, int64_t hi, int64_t *out)
{
	ws(c);
	bool neg = c->p < c->end && *c->p == '-';
	if (neg)
		c->p++;
	const char *digits = c->p;
	uint64_t mag = 0;
	bool overflow = false;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		overflow |=
		    __builtin_mul_overflow(mag, 10, &mag) ||
		    __builtin_add_overflow(mag, (uint64_t)(*c->p - '0'), &mag);
		c->p++;
	}
	if (c->p == digits ||
	    (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')))
		return corrupt(c, "expected an integer");
	int64_t v;
	if (overflow || mag > (uint64_t)INT64_MAX + neg)
		return corrupt(c, "integer out of range");
	v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if (v < lo || v > hi)
		return corrupt(c, "integer out of range");
	*out = v;
	return 0;
}

/* Is the string value at the cursor func_id? Moves past it. */
static int id_matches(struct cur *c, const char *func_id, bool *match)
{
	ws(c);
	if (c->p >= c->end || *c->p != '"')
		return corrupt(c, "expected a string");
	const char *s = c->p + 1;
	if (skip_string(c))
		return PG_ECORRUPT;
	size_t len = (size_t)(c->p - 1 - s);
	if (!memchr(s, '\\', len)) { /* the common case: compare in place */
		*match = strlen(func_id) == len && !memcmp(s, func_id, len);
		return 0;
	}
	char *id = NULL;
	c->p = s - 1;
	if (read_string(c, &id, false))
		return PG_ECORRUPT;
	*match = !strcmp(id, func_id);
	free(id);
	return 0;
}

/* Index of the object in array `functions` (at the cursor, which moves
 * past it) whose "id" is func_id. */
static int find_function(struct cur *c, const char *func_id, uint32_t *out)
{
	*out = PG_NO_FUNC;
	if (expect(c, '[', "functions: expected an array"))
		return PG_ECORRUPT;
	bool first = true;
	int more;
	for (uint32_t i = 0; (more = next_item(c, &first)) == 1; i++) {
		if (expect(c, '{', "functions: expected objects"))
			return PG_ECORRUPT;
		bool f2 = true;
		const char *key;
		size_t klen;
		int m;
		while ((m = next_member(c, &f2, &key, &klen)) == 1) {
			if (!is_key(key, klen, "id")) {
				if (skip_value(c))
					return PG_ECORRUPT;
				continue;
			}
			bool match = false;
			if (id_matches(c, func_id, &match))
				return PG_ECORRUPT;
			if (match && *out == PG_NO_FUNC)
				*out = i;
			else if (match)
				return corrupt(c, "a function id appears "
						  "twice");
		}
		if (m < 0)
			return m;
	}
	return more;
}

/*
 * Element `idx` of an integer array (the cursor at '['); *out untouched
 * when the array is shorter.
 */
static int array_element(struct cur *c, uint32_t idx, int64_t *out)
{
	if (expect(c, '[', "expected an array"))
		return PG_ECORRUPT;
	bool closed = false;
	if (idx > 0 && skip_in(c, idx, &closed))
		return PG_ECORRUPT;
	if (closed)
		return 0;
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	if (read_int(c, INT64_MIN, INT64_MAX, out) ||
	    skip_in(c, SIZE_MAX, &closed))
		return PG_ECORRUPT;
	return 0;
}

/* The trials array at the cursor (which moves past it). */
static int read_trials(struct cur *c, uint32_t func, struct pg_profile *p)
{
	if (expect(c, '[', "trials: expected an array"))
		return PG_ECORRUPT;
	bool first = true;
	int more;
	while ((more = next_item(c, &first)) == 1) {
		if (expect(c, '{', "trials: expected objects"))
			return PG_ECORRUPT;
		size_t t = pg_profile_add_trial(p);
		struct pg_trial *tr = &p->trials[t];
		bool f2 = true, have_total = false, have_self = false;
		const char *key;
		size_t klen;
		int m;
		int64_t v;
		while ((m = next_member(c, &f2, &key, &klen)) == 1) {
			int rc = 0;
			if (is_key(key, klen, "total_ns")) {
				rc = read_int(c, INT64_MIN, INT64_MAX,
					      &tr->total_ns);
				have_total = true;
			} else if (func != PG_NO_FUNC &&
				   (is_key(key, klen, "self_ns") ||
				    is_key(key, klen, "incl_ns") ||
				    is_key(key, klen, "calls"))) {
				v = INT64_MIN;
				rc = array_element(c, func, &v);
				if (!rc && v == INT64_MIN)
					return corrupt(c, "a column is "
							  "shorter than the "
							  "function table");
				if (key[0] == 's') {
					tr->samples[0].self_ns = v;
					have_self = true;
				} else if (key[0] == 'i') {
					tr->samples[0].incl_ns = v;
				} else if (v >= 0) {
					tr->samples[0].calls =
					    tr->samples[0].pcalls = (uint64_t)v;
				}
			} else {
				rc = skip_value(c);
			}
			if (rc)
				return PG_ECORRUPT;
		}
		if (m < 0)
			return m;
		if (!have_total || (func != PG_NO_FUNC && !have_self))
			return corrupt(c, "a trial lacks total_ns or self_ns");
	}
	return more;
}

/*
 * The profile object at the cursor (which moves past it): its trials, and
 * function func_id when present. One pass when the functions come before
 * the trials, as perfguard writes them; else the trials are read after.
 */
static int read_profile(struct cur *c, const char *func_id,
			struct pg_profile *p)
{
	if (expect(c, '{', "profile: expected an object"))
		return PG_ECORRUPT;
	struct cur trials = {0};
	bool first = true, have_functions = false, have_trials = false;
	uint32_t func = PG_NO_FUNC;
	const char *key;
	size_t klen;
	int m, rc;
	while ((m = next_member(c, &first, &key, &klen)) == 1) {
		bool is_functions = is_key(key, klen, "functions");
		bool is_trials = is_key(key, klen, "trials");
		if (is_functions && func_id) {
			rc = find_function(c, func_id, &func);
			if (!rc && func != PG_NO_FUNC)
				pg_profile_intern(p, func_id, NULL, 0, 0);
		} else if (is_trials && (have_functions || !func_id)) {
			rc = read_trials(c, func, p);
			have_trials = true;
		} else {
			if (is_trials)
				trials = *c;
			rc = skip_value(c);
		}
		have_functions |= is_functions;
		if (rc)
			return PG_ECORRUPT;
	}
	if (m < 0)
		return m;
	if (!have_functions || (!have_trials && !trials.p))
		return corrupt(c, "profile: functions or trials missing");
	return have_trials ? 0 : read_trials(&trials, func, p);
}

static const char *const status_names[] = {"ok", "failed", "timeout",
					   "skipped"};

static int read_bench(struct cur *c, const char *bench, const char *func_id,
		      struct pg_results *r)
{
	if (expect(c, '{', "benchmarks: expected objects"))
		return PG_ECORRUPT;
	char *name = NULL, *status = NULL;
	struct cur profile = {0};
	struct pg_profile read; /* the profile when read in passing */
	bool have_read = false;
	pg_profile_init(&read);
	int64_t rounds = 0;
	bool first = true;
	const char *key;
	size_t klen;
	int m, rc = 0;
	while ((m = next_member(c, &first, &key, &klen)) == 1) {
		if (is_key(key, klen, "name") && !name)
			rc = read_string(c, &name, false);
		else if (is_key(key, klen, "status") && !status)
			rc = read_string(c, &status, false);
		else if (is_key(key, klen, "rounds"))
			rc = read_int(c, INT64_MIN, INT64_MAX, &rounds);
		else if (is_key(key, klen, "profile")) {
			profile = *c;
			/* its name first (as written): read it in passing */
			if (name && (!bench || !strcmp(name, bench)) &&
			    !have_read) {
				rc = read_profile(c, func_id, &read);
				have_read = true;
			} else {
				rc = skip_value(c);
			}
		} else
			rc = skip_value(c);
		if (rc)
			goto out;
	}
	if ((rc = m) < 0)
		goto out;
	if (!name || !status || !profile.p) {
		rc = corrupt(c, "a benchmark lacks name, status or profile");
		goto out;
	}
	if (bench && strcmp(name, bench) != 0)
		goto out;
	if (pg_results_find(r, name)) {
		rc = corrupt(c, "a benchmark name appears twice");
		goto out;
	}
	struct pg_bench_result *b = pg_results_add_bench(r, name);
	b->status = PG_BENCH_SKIPPED + 1;
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(status, status_names[i]))
			b->status = (enum pg_bench_status)i;
	if (b->status > PG_BENCH_SKIPPED) {
		rc = corrupt(c, "unknown benchmark status");
		goto out;
	}
	b->rounds = rounds >= 0 && rounds <= INT32_MAX ? (int)rounds : 0;
	if (have_read) {
		pg_profile_release(&b->profile);
		b->profile = read;
		pg_profile_init(&read);
	} else {
		rc = read_profile(&profile, func_id, &b->profile);
	}
out:
	pg_profile_release(&read);
	free(name);
	free(status);
	return rc;
}

/* The fingerprint object into f (strings may be null; unknown members
 * skipped): history tells the environments of its baselines apart. */
static int read_fingerprint(struct cur *c, struct pg_fingerprint *f)
{
	struct {
		const char *name;
		char **field;
	} strs[] = {{"cpu", &f->cpu},
		    {"os", &f->os},
		    {"python", &f->python},
		    {"python_build", &f->python_build},
		    {"perfguard", &f->perfguard},
		    {"hook", &f->hook},
		    {"suite_hash", &f->suite_hash}};
	bool first = true;
	const char *key;
	size_t klen;
	int m, rc;
	if ((rc = expect(c, '{', "fingerprint: expected an object")))
		return rc;
	while ((m = next_member(c, &first, &key, &klen)) == 1) {
		char **field = NULL;
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			if (is_key(key, klen, strs[i].name))
				field = strs[i].field;
		int64_t cores = 0;
		if (field) {
			free(*field);
			rc = read_string(c, field, true);
		} else if (is_key(key, klen, "cores")) {
			rc = read_int(c, 0, 1 << 20, &cores);
			f->cores = (int)cores;
		} else {
			rc = skip_value(c);
		}
		if (rc)
			return rc;
	}
	return m;
}

int pg_results_read_json_partial(struct pg_results *r, const char *text,
				 size_t len, const char *bench,
				 const char *func_id)
{
	pg_results_init(r);
	struct cur c = {.start = text, .p = text, .end = text + len};
	bool first = true, have_format = false;
	int64_t schema = 0;
	const char *key;
	size_t klen;
	int m, rc = 0;
	if (expect(&c, '{', "not a perfguard results set"))
		goto fail;
	while ((m = next_member(&c, &first, &key, &klen)) == 1) {
		if (is_key(key, klen, "format")) {
			char *f = NULL;
			if ((rc = read_string(&c, &f, false)))
				goto fail;
			have_format = !strcmp(f, "perfguard-results");
			free(f);
		} else if (is_key(key, klen, "schema")) {
			if ((rc = read_int(&c, INT64_MIN, INT64_MAX, &schema)))
				goto fail;
		} else if (is_key(key, klen, "commit")) {
			free(r->commit);
			if ((rc = read_string(&c, &r->commit, true)))
				goto fail;
		} else if (is_key(key, klen, "clock")) {
			free(r->clock);
			if ((rc = read_string(&c, &r->clock, true)))
				goto fail;
		} else if (is_key(key, klen, "fingerprint")) {
			if ((rc = read_fingerprint(&c, &r->fp)))
				goto fail;
		} else if (is_key(key, klen, "benchmarks")) {
			if ((rc = expect(&c, '[',
					 "benchmarks: expected an "
					 "array")))
				goto fail;
			bool f2 = true;
			int more;
			while ((more = next_item(&c, &f2)) == 1)
				if ((rc = read_bench(&c, bench, func_id, r)))
					goto fail;
			if ((rc = more) < 0)
				goto fail;
		} else if ((rc = skip_value(&c))) {
			goto fail;
		}
	}
	if ((rc = m) < 0)
		goto fail;
	ws(&c);
	if (c.p != c.end) {
		rc = corrupt(&c, "trailing data");
		goto fail;
	}
	if (!have_format || schema != 1) {
		rc = pg_error_set(PG_ECORRUPT, "not a perfguard results set of "
					       "schema 1");
		goto fail;
	}
	return 0;
fail:
	pg_results_release(r);
	pg_results_init(r);
	return rc < 0 ? rc : PG_ECORRUPT;
}
