/*
 * wire.c - the parser of the hook's per-trial output (docs/hook-protocol.md,
 * version 1) into a one-trial profile.
 *
 * The input comes from a child process and is treated as hostile: every
 * line is capped (PG_WIRE_MAX_LINE), so are the counts of functions, edges
 * and nodes; F indexes must be dense (0, 1, 2, ...) with unique ids; S, E
 * and N records may only name existing functions and nodes; each function
 * has exactly one S record; N nodes are numbered from 1 with every parent
 * before its children; the `end` record must repeat the function count and
 * be the last line. Any violation is PG_EINVALID with "line N: ...".
 *
 * Deliberately not here: reading the file (the runner does, with a cap),
 * or merging trials (pg_profile_merge).
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

#define MAX_FIELDS 9

enum header_bit {
	H_MECHANISM = 1 << 0,
	H_TIMER = 1 << 1,
	H_PYTHON = 1 << 2,
	H_EVENT_COST = 1 << 3,
	H_WALL = 1 << 4,
	H_THREADS = 1 << 5,
	H_EVENTS = 1 << 6,
	H_UNMATCHED = 1 << 7,
	H_ALL = (1 << 8) - 1,  /* the required headers */
	H_LOST = 1 << 8,       /* optional: 0 when absent */
	H_COMP_SCALE = 1 << 9, /* optional: 1 when absent */
	H_CLAMPED = 1 << 10,   /* optional: 0 when absent */
	H_FALLBACK = 1 << 11,  /* optional: why not the mechanism asked for */
};

struct wire {
	struct pg_profile *p;
	int lineno;
	char *fields[MAX_FIELDS];
	int nfields;
	unsigned headers;
	unsigned char *has_sample; /* per function */
	size_t has_sample_cap;
	bool seen_record; /* an F/S/E/N record: headers are over */
	bool seen_non_f;  /* an S/E/N record: F records are over */
};

static int bad(const struct wire *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(const struct wire *w, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pg_error_set(PG_EINVALID, "line %d: %s", w->lineno, msg);
}

/* Strict decimal: optional '-' (when allowed), digits only, no overflow. */
static int parse_i64(const struct wire *w, const char *s, bool allow_neg,
		     int64_t max, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' && allow_neg) {
		neg = true;
		p++;
	}
	if (!*p)
		return bad(w, "number expected, got '%.40s'", s);
	uint64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(w, "number expected, got '%.40s'", s);
		uint64_t d = (uint64_t)(*p - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return bad(w, "number out of range: '%.40s'", s);
		v = v * 10 + d;
	}
	int64_t r = neg ? -(int64_t)v : (int64_t)v;
	if (r > max)
		return bad(w, "number out of range: '%.40s'", s);
	*out = r;
	return 0;
}

static int parse_u64(const struct wire *w, const char *s, uint64_t *out)
{
	int64_t v;
	int rc = parse_i64(w, s, false, INT64_MAX, &v);
	if (!rc)
		*out = (uint64_t)v;
	return rc;
}

/*
 * A time in ns: |v| <= PG_MAX_NS so that sums over functions and trials
 * cannot overflow (negative values can come out of overhead compensation).
 */
static int parse_ns(const struct wire *w, const char *s, int64_t *out)
{
	int rc = parse_i64(w, s, true, PG_MAX_NS, out);
	if (!rc && *out < -PG_MAX_NS)
		return bad(w, "number out of range: '%.40s'", s);
	return rc;
}

/* An index below `limit` (a function or node count). */
static int parse_index(const struct wire *w, const char *s, size_t limit,
		       const char *what, uint32_t *out)
{
	int64_t v;
	int rc = parse_i64(w, s, false, INT64_MAX, &v);
	if (rc)
		return rc;
	if ((uint64_t)v >= limit)
		return bad(w, "%s index %s does not exist", what, s);
	*out = (uint32_t)v;
	return 0;
}

static int expect_fields(const struct wire *w, int n)
{
	if (w->nfields != n)
		return bad(w, "'%s' record needs %d fields, has %d",
			   w->fields[0], n - 1, w->nfields - 1);
	return 0;
}

static int header_once(struct wire *w, unsigned bit)
{
	if (w->seen_record)
		return bad(w, "header '%s' after the records", w->fields[0]);
	if (w->headers & bit)
		return bad(w, "duplicate header '%s'", w->fields[0]);
	w->headers |= bit;
	return expect_fields(w, 2);
}

static int copy_word(const struct wire *w, char *dst, size_t cap,
		     const char *const *allowed)
{
	const char *v = w->fields[1];
	if (allowed) {
		bool ok = false;
		for (; *allowed; allowed++)
			ok = ok || !strcmp(v, *allowed);
		if (!ok)
			return bad(w, "unknown %s '%.40s'", w->fields[0], v);
	}
	/* Versions and names: a conservative alphabet, nothing to escape. */
	if (!*v || strlen(v) >= cap ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._+-") != strlen(v))
		return bad(w, "bad %s '%.40s'", w->fields[0], v);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A finite number in [0, max] (C locale) into *out. */
static int parse_double(const struct wire *w, const char *val, double max,
			double *out)
{
	char *end = NULL;
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	errno = 0;
	double d = c ? strtod_l(val, &end, c) : strtod(val, &end);
	if (c)
		freelocale(c);
	if (!*val || *end || !isfinite(d) || d < 0 || d > max)
		return bad(w, "bad %s '%.40s'", w->fields[0], val);
	*out = d;
	return 0;
}

static int parse_header(struct wire *w, unsigned bit)
{
	static const char *const mechanisms[] = {"monitoring", "setprofile",
						 "evalframe", NULL};
	static const char *const timers[] = {"tsc", "clock_gettime", "tsc+cpu",
					     "clock_gettime+cpu", NULL};
	struct pg_profile *p = w->p;
	struct pg_trial *t = &p->trials[0];
	int64_t v;
	int rc = header_once(w, bit);
	if (rc)
		return rc;
	const char *val = w->fields[1];
	switch (bit) {
	case H_MECHANISM:
		return copy_word(w, p->mechanism, sizeof(p->mechanism),
				 mechanisms);
	case H_TIMER:
		return copy_word(w, p->timer, sizeof(p->timer), timers);
	case H_PYTHON:
		return copy_word(w, p->python, sizeof(p->python), NULL);
	case H_EVENT_COST:
		return parse_double(w, val, 1e9, &p->event_cost_ns);
	case H_COMP_SCALE:
		return parse_double(w, val, 1, &t->comp_scale);
	case H_CLAMPED:
		rc = parse_i64(w, val, false, PG_MAX_NS, &v);
		t->clamped_ns = v;
		return rc;
	case H_WALL:
		rc = parse_i64(w, val, false, PG_MAX_NS, &v);
		t->wall_ns = v;
		return rc;
	case H_THREADS:
		rc = parse_i64(w, val, false, UINT32_MAX, &v);
		t->threads = (uint32_t)v;
		return rc;
	case H_EVENTS:
		return parse_u64(w, val, &t->events);
	case H_UNMATCHED:
		return parse_u64(w, val, &t->unmatched);
	case H_LOST:
		return parse_u64(w, val, &t->lost);
	case H_FALLBACK: /* free text, for people: checked, not kept */
		return *val ? 0 : bad(w, "empty fallback");
	}
	return 0;
}

static int parse_func(struct wire *w)
{
	struct pg_profile *p = w->p;
	int64_t idx, flags, line;
	/* The 7th field (code fingerprint) is optional: older hooks omit it;
	 * the 8th and 9th (exceptions raised, handled) come only with it. */
	int rc =
	    expect_fields(w, w->nfields >= 7 ? (w->nfields == 7 ? 7 : 9) : 6);
	if (rc)
		return rc;
	if (p->nfuncs >= PG_WIRE_MAX_FUNCS)
		return bad(w, "more than %d functions", PG_WIRE_MAX_FUNCS);
	if ((rc = parse_i64(w, w->fields[1], false, INT64_MAX, &idx)))
		return rc;
	if ((uint64_t)idx != p->nfuncs)
		return bad(w, "F index %s out of order (expected %zu)",
			   w->fields[1], p->nfuncs);
	if ((rc = parse_i64(w, w->fields[2], false, PG_FUNC_ALL_FLAGS, &flags)))
		return rc;
	if ((rc = parse_i64(w, w->fields[3], false, INT_MAX, &line)))
		return rc;
	const char *id = w->fields[4], *file = w->fields[5];
	if (!*id)
		return bad(w, "empty function id");
	if (pg_profile_find(p, id) != PG_NO_FUNC)
		return bad(w, "duplicate function id '%.200s'", id);
	const char *code = w->nfields >= 7 ? w->fields[6] : "";
	uint64_t raised = 0, handled = 0;
	if (w->nfields == 9 && ((rc = parse_u64(w, w->fields[7], &raised)) ||
				(rc = parse_u64(w, w->fields[8], &handled))))
		return rc;
	if (*code && !pg_code_valid(code))
		return bad(w, "bad code fingerprint '%.40s'", code);
	uint32_t f = pg_profile_intern(p, id, *file ? file : NULL, (int)line,
				       (unsigned)flags);
	pg_profile_set_code(p, f, code);
	p->funcs[f].raised = raised;
	p->funcs[f].handled = handled;
	pg_grow((void **)&w->has_sample, &w->has_sample_cap, p->nfuncs,
		sizeof(*w->has_sample));
	w->has_sample[idx] = 0;
	return 0;
}

static int parse_sample(struct wire *w)
{
	struct pg_profile *p = w->p;
	uint32_t f = 0;
	int rc = expect_fields(w, w->nfields == 8 ? 8 : 7);
	if (rc ||
	    (rc = parse_index(w, w->fields[1], p->nfuncs, "function", &f)))
		return rc;
	if (w->has_sample[f])
		return bad(w, "second S record for function %u", f);
	w->has_sample[f] = 1;
	struct pg_sample *s = &p->trials[0].samples[f];
	if ((rc = parse_u64(w, w->fields[2], &s->calls)) ||
	    (rc = parse_u64(w, w->fields[3], &s->pcalls)) ||
	    (rc = parse_u64(w, w->fields[4], &s->resumes)) ||
	    (rc = parse_ns(w, w->fields[5], &s->self_ns)) ||
	    (rc = parse_ns(w, w->fields[6], &s->incl_ns)))
		return rc;
	if (w->nfields == 8 && (rc = parse_ns(w, w->fields[7], &s->off_ns)))
		return rc;
	if (s->off_ns < 0)
		return bad(w, "negative off-CPU time");
	return 0;
}

static int parse_edge(struct wire *w)
{
	struct pg_profile *p = w->p;
	struct pg_edge e = {0};
	int rc = expect_fields(w, 7);
	if (rc)
		return rc;
	if (p->nedges >= PG_WIRE_MAX_EDGES)
		return bad(w, "more than %d edges", PG_WIRE_MAX_EDGES);
	if ((rc = parse_index(w, w->fields[1], p->nfuncs, "caller",
			      &e.caller)) ||
	    (rc = parse_index(w, w->fields[2], p->nfuncs, "callee",
			      &e.callee)) ||
	    (rc = parse_u64(w, w->fields[3], &e.calls)) ||
	    (rc = parse_u64(w, w->fields[4], &e.pcalls)) ||
	    (rc = parse_ns(w, w->fields[5], &e.self_ns)) ||
	    (rc = parse_ns(w, w->fields[6], &e.incl_ns)))
		return rc;
	size_t before = p->nedges;
	pg_profile_add_edge(p, &e);
	if (p->nedges == before)
		return bad(w, "duplicate edge %u -> %u", e.caller, e.callee);
	return 0;
}

static int parse_node(struct wire *w)
{
	struct pg_profile *p = w->p;
	uint32_t parent = 0, func = 0;
	int64_t node, self_ns, incl_ns;
	uint64_t calls;
	int rc = expect_fields(w, 7);
	if (rc)
		return rc;
	/* The root (node 0) is implicit; N records number from 1. */
	size_t next = p->nnodes ? p->nnodes : 1;
	if (next > PG_WIRE_MAX_NODES)
		return bad(w, "more than %d tree nodes", PG_WIRE_MAX_NODES);
	if ((rc = parse_i64(w, w->fields[1], false, INT64_MAX, &node)))
		return rc;
	if ((uint64_t)node != next)
		return bad(w, "N index %s out of order (expected %zu)",
			   w->fields[1], next);
	if ((rc = parse_index(w, w->fields[2], next, "parent node", &parent)) ||
	    (rc = parse_index(w, w->fields[3], p->nfuncs, "function", &func)) ||
	    (rc = parse_u64(w, w->fields[4], &calls)) ||
	    (rc = parse_ns(w, w->fields[5], &self_ns)) ||
	    (rc = parse_ns(w, w->fields[6], &incl_ns)))
		return rc;
	uint32_t got = pg_profile_child(p, parent, func);
	if ((int64_t)got != node)
		return bad(w, "duplicate node for function %u under node %u",
			   func, parent);
	p->nodes[node].calls = calls;
	p->nodes[node].self_ns = self_ns;
	p->nodes[node].incl_ns = incl_ns;
	return 0;
}

/* Split line (NUL-terminated, in scratch) at TABs. */
static int split(struct wire *w, char *line)
{
	w->nfields = 0;
	char *s = line;
	for (;;) {
		if (w->nfields == MAX_FIELDS)
			return bad(w, "too many fields");
		w->fields[w->nfields++] = s;
		char *tab = strchr(s, '\t');
		if (!tab)
			return 0;
		*tab = '\0';
		s = tab + 1;
	}
}

static int parse_record(struct wire *w, bool *ended)
{
	static const struct {
		const char *name;
		unsigned bit;
	} headers[] = {
	    {"mechanism", H_MECHANISM}, {"timer", H_TIMER},
	    {"python", H_PYTHON},	{"event_cost_ns", H_EVENT_COST},
	    {"wall_ns", H_WALL},	{"threads", H_THREADS},
	    {"events", H_EVENTS},	{"unmatched", H_UNMATCHED},
	    {"lost", H_LOST},		{"comp_scale", H_COMP_SCALE},
	    {"clamped_ns", H_CLAMPED},	{"fallback", H_FALLBACK},
	};
	const char *tag = w->fields[0];
	if (tag[0] && !tag[1] && strchr("FSEN", tag[0])) {
		if ((w->headers & H_ALL) != H_ALL)
			return bad(w, "record before all headers were given");
		if (tag[0] != 'F' && !w->seen_record)
			return bad(w, "'%s' record before any F record", tag);
		w->seen_record = true;
		w->seen_non_f = w->seen_non_f || tag[0] != 'F';
		switch (tag[0]) {
		case 'F':
			if (w->seen_non_f)
				return bad(w, "F record after S/E/N records");
			return parse_func(w);
		case 'S':
			return parse_sample(w);
		case 'E':
			return parse_edge(w);
		default:
			return parse_node(w);
		}
	}
	if (!strcmp(tag, "end")) {
		int64_t n;
		int rc = expect_fields(w, 2);
		if (rc ||
		    (rc = parse_i64(w, w->fields[1], false, INT64_MAX, &n)))
			return rc;
		if ((w->headers & H_ALL) != H_ALL)
			return bad(w, "'end' before all headers were given");
		if ((uint64_t)n != w->p->nfuncs)
			return bad(w, "'end' says %s functions, %zu were given",
				   w->fields[1], w->p->nfuncs);
		*ended = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (!strcmp(tag, headers[i].name))
			return parse_header(w, headers[i].bit);
	return bad(w, "unknown record '%.40s'", tag);
}

int pg_profile_parse_wire(struct pg_profile *p, const char *text, size_t len)
{
	struct wire w = {.p = p};
	char *scratch = pg_malloc(PG_WIRE_MAX_LINE + 1);
	bool ended = false;
	int rc = 0;
	size_t pos = 0;

	if (p->nfuncs || p->ntrials) {
		rc = pg_error_set(PG_EINVALID, "wire: profile is not empty");
		goto cleanup;
	}
	pg_profile_add_trial(p);
	while (pos < len) {
		w.lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > PG_WIRE_MAX_LINE) {
			rc = bad(&w, "line longer than %d bytes",
				 PG_WIRE_MAX_LINE);
			goto cleanup;
		}
		if (ended) {
			rc = bad(&w, "data after the 'end' record");
			goto cleanup;
		}
		memcpy(scratch, text + pos, n);
		scratch[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(scratch, '\0', n)) {
			rc = bad(&w, "NUL byte in line");
			goto cleanup;
		}
		if (w.lineno == 1) {
			if (strcmp(scratch, "perfguard-wire\t1")) {
				rc = pg_str_starts(scratch, "perfguard-wire\t")
					 ? bad(&w,
					       "unsupported wire version "
					       "'%.20s' (this perfguard "
					       "reads version 1)",
					       scratch + 15)
					 : bad(&w, "not perfguard hook output");
				goto cleanup;
			}
			continue;
		}
		if ((rc = split(&w, scratch)) ||
		    (rc = parse_record(&w, &ended)))
			goto cleanup;
	}
	if (!ended) {
		rc = pg_error_set(PG_EINVALID,
				  "line %d: truncated hook output (no 'end' "
				  "record)",
				  w.lineno);
		goto cleanup;
	}
	for (size_t f = 0; f < p->nfuncs; f++) {
		if (!w.has_sample[f]) {
			rc = pg_error_set(PG_EINVALID,
					  "line %d: function %zu has no S "
					  "record",
					  w.lineno, f);
			goto cleanup;
		}
	}
	struct pg_trial *t = &p->trials[0];
	t->total_ns = 0;
	for (size_t f = 0; f < p->nfuncs; f++)
		t->total_ns = pg_sat_add_ns(t->total_ns, t->samples[f].self_ns);
cleanup:
	free(scratch);
	free(w.has_sample);
	return rc;
}
