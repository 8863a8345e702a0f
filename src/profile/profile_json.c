/*
 * profile_json.c - a profile as JSON (the "profile" member of each
 * benchmark in a results set, and `profile --format json`).
 *
 * The shape is documented in docs/results-format.md. It is columnar: each
 * trial holds one array per measure, indexed like "functions", because a
 * results set holds tens of benchmarks x tens of trials x thousands of
 * functions. "pcalls" is omitted when equal to "calls" and "resumes" when
 * all zero. Reading validates everything (types, integer ranges, array
 * lengths, indexes, unique ids/edges/nodes, tree order, caps) before it
 * allocates per-trial rows, and reports PG_ECORRUPT; write then read is
 * exact.
 *
 * `profile --format json` writes the same object with "schema" and
 * "kind": "perfguard-profile" first, as every JSON output of perfguard
 * says what it is; inside a results set the set's "schema" covers it.
 *
 * Deliberately not here: the results-set envelope (results_json.c).
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

/* ---- writing --------------------------------------------------------- */

/* The standalone file's "schema": this shape, that of results schema 1. */
#define PROFILE_SCHEMA 1

enum column {
	COL_CALLS,
	COL_PCALLS,
	COL_RESUMES,
	COL_SELF,
	COL_INCL,
	COL_OFF,
};

static void write_column(struct pg_jw *w, const struct pg_trial *t,
			 size_t nfuncs, enum column c)
{
	static const char *const names[] = {"calls",   "pcalls",  "resumes",
					    "self_ns", "incl_ns", "off_ns"};
	pg_jw_key(w, names[c]);
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < nfuncs; i++) {
		const struct pg_sample *s = &t->samples[i];
		switch (c) {
		case COL_CALLS:
			pg_jw_uint(w, s->calls);
			break;
		case COL_PCALLS:
			pg_jw_uint(w, s->pcalls);
			break;
		case COL_RESUMES:
			pg_jw_uint(w, s->resumes);
			break;
		case COL_SELF:
			pg_jw_int(w, s->self_ns);
			break;
		case COL_INCL:
			pg_jw_int(w, s->incl_ns);
			break;
		case COL_OFF:
			pg_jw_int(w, s->off_ns);
			break;
		}
	}
	pg_jw_arr_end(w);
}

static void write_trial(struct pg_jw *w, const struct pg_trial *t,
			size_t nfuncs)
{
	bool pcalls_differ = false, any_resumes = false, any_off = false;
	for (size_t i = 0; i < nfuncs; i++) {
		pcalls_differ |= t->samples[i].pcalls != t->samples[i].calls;
		any_resumes |= t->samples[i].resumes != 0;
		any_off |= t->samples[i].off_ns != 0;
	}
	pg_jw_obj_begin(w);
	pg_jw_key(w, "wall_ns");
	pg_jw_int(w, t->wall_ns);
	pg_jw_key(w, "cpu_ns");
	pg_jw_int(w, t->cpu_ns);
	pg_jw_key(w, "total_ns");
	pg_jw_int(w, t->total_ns);
	pg_jw_key(w, "events");
	pg_jw_uint(w, t->events);
	pg_jw_key(w, "unmatched");
	pg_jw_uint(w, t->unmatched);
	if (t->lost) {
		pg_jw_key(w, "lost");
		pg_jw_uint(w, t->lost);
	}
	if (t->comp_scale < 1) {
		pg_jw_key(w, "comp_scale");
		pg_jw_double(w, t->comp_scale);
	}
	if (t->clamped_ns) {
		pg_jw_key(w, "clamped_ns");
		pg_jw_int(w, t->clamped_ns);
	}
	pg_jw_key(w, "threads");
	pg_jw_uint(w, t->threads);
	if (t->rate_hz > 0) {
		pg_jw_key(w, "rate_hz");
		pg_jw_int(w, t->rate_hz);
		pg_jw_key(w, "ticks_due");
		pg_jw_uint(w, t->ticks_due);
		pg_jw_key(w, "ticks_taken");
		pg_jw_uint(w, t->ticks_taken);
	}
	write_column(w, t, nfuncs, COL_CALLS);
	if (pcalls_differ)
		write_column(w, t, nfuncs, COL_PCALLS);
	if (any_resumes)
		write_column(w, t, nfuncs, COL_RESUMES);
	write_column(w, t, nfuncs, COL_SELF);
	write_column(w, t, nfuncs, COL_INCL);
	if (any_off)
		write_column(w, t, nfuncs, COL_OFF);
	pg_jw_obj_end(w);
}

#define WRITE_FIELD_ARRAY(w, key, arr, n, field, writer)                       \
	do {                                                                   \
		pg_jw_key(w, key);                                             \
		pg_jw_arr_begin(w);                                            \
		for (size_t i_ = 0; i_ < (n); i_++)                            \
			writer(w, (arr)[i_].field);                            \
		pg_jw_arr_end(w);                                              \
	} while (0)

/* The profile's members, inside an object the caller opened. */
static void write_members(const struct pg_profile *p, struct pg_jw *w)
{
	pg_jw_key(w, "mechanism");
	pg_jw_str(w, p->mechanism);
	pg_jw_key(w, "timer");
	pg_jw_str(w, p->timer);
	pg_jw_key(w, "event_cost_ns");
	pg_jw_double(w, p->event_cost_ns);
	pg_jw_key(w, "python");
	pg_jw_str(w, p->python);

	pg_jw_key(w, "functions");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct pg_func *f = &p->funcs[i];
		pg_jw_obj_begin(w);
		pg_jw_key(w, "id");
		pg_jw_str(w, f->id);
		pg_jw_key(w, "file");
		pg_jw_str(w, f->file);
		pg_jw_key(w, "line");
		pg_jw_int(w, f->line);
		pg_jw_key(w, "flags");
		pg_jw_uint(w, f->flags);
		if (f->code[0]) {
			pg_jw_key(w, "code");
			pg_jw_str(w, f->code);
		}
		if (f->raised || f->handled) {
			pg_jw_key(w, "raised");
			pg_jw_uint(w, f->raised);
			pg_jw_key(w, "handled");
			pg_jw_uint(w, f->handled);
		}
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);

	pg_jw_key(w, "trials");
	pg_jw_arr_begin(w);
	for (size_t t = 0; t < p->ntrials; t++)
		write_trial(w, &p->trials[t], p->nfuncs);
	pg_jw_arr_end(w);

	pg_jw_key(w, "edges");
	pg_jw_obj_begin(w);
	WRITE_FIELD_ARRAY(w, "caller", p->edges, p->nedges, caller, pg_jw_uint);
	WRITE_FIELD_ARRAY(w, "callee", p->edges, p->nedges, callee, pg_jw_uint);
	WRITE_FIELD_ARRAY(w, "calls", p->edges, p->nedges, calls, pg_jw_uint);
	WRITE_FIELD_ARRAY(w, "pcalls", p->edges, p->nedges, pcalls, pg_jw_uint);
	WRITE_FIELD_ARRAY(w, "self_ns", p->edges, p->nedges, self_ns,
			  pg_jw_int);
	WRITE_FIELD_ARRAY(w, "incl_ns", p->edges, p->nedges, incl_ns,
			  pg_jw_int);
	pg_jw_obj_end(w);

	/* The root's func (PG_NO_FUNC) is written as -1. */
	pg_jw_key(w, "nodes");
	pg_jw_obj_begin(w);
	WRITE_FIELD_ARRAY(w, "parent", p->nodes, p->nnodes, parent, pg_jw_uint);
	pg_jw_key(w, "func");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nnodes; i++)
		pg_jw_int(w, p->nodes[i].func == PG_NO_FUNC
				 ? -1
				 : (int64_t)p->nodes[i].func);
	pg_jw_arr_end(w);
	WRITE_FIELD_ARRAY(w, "calls", p->nodes, p->nnodes, calls, pg_jw_uint);
	WRITE_FIELD_ARRAY(w, "self_ns", p->nodes, p->nnodes, self_ns,
			  pg_jw_int);
	WRITE_FIELD_ARRAY(w, "incl_ns", p->nodes, p->nnodes, incl_ns,
			  pg_jw_int);
	pg_jw_obj_end(w);
}

void pg_profile_write_json(const struct pg_profile *p, struct pg_jw *w)
{
	pg_jw_obj_begin(w);
	write_members(p, w);
	pg_jw_obj_end(w);
}

int pg_profile_export_json(const struct pg_profile *p, struct pg_buf *out)
{
	/* Built unbounded, then appended whole: out's cap applies atomically
	 * (the writer cannot report a cap hit midway). */
	struct pg_buf tmp;
	struct pg_jw w;
	pg_buf_init(&tmp, 0);
	pg_jw_init(&w, &tmp, false);
	/* A file of its own says what it is, as every JSON output does; the
	 * profile inside a results set is identified by the set. */
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "schema");
	pg_jw_int(&w, PROFILE_SCHEMA);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "perfguard-profile");
	write_members(p, &w);
	pg_jw_obj_end(&w);
	pg_buf_putc(&tmp, '\n');
	int rc = pg_buf_add(out, tmp.data, tmp.len);
	pg_buf_release(&tmp);
	return rc;
}

/* ---- reading --------------------------------------------------------- */

/* Turn the current (reader) error into PG_ECORRUPT with a prefix. */
static int corrupt(const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s", pg_error_message());
	return pg_error_set(PG_ECORRUPT, "profile: %s%s%s", what,
			    msg[0] ? ": " : "", msg);
}

static int corruptf(const struct pg_json *at, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int corruptf(const struct pg_json *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at)
		return pg_error_set(PG_ECORRUPT, "profile: %d:%d: %s", at->line,
				    at->col, msg);
	return pg_error_set(PG_ECORRUPT, "profile: %s", msg);
}

/*
 * Item i of an integer array checked by int_array: the DOM keeps it packed
 * (ints) when the reader was asked to, else as one node per item.
 */
static int64_t int_at(const struct pg_json *a, size_t i)
{
	return a->ints ? a->ints[i] : a->items[i]->integer;
}

/* Where to report item i of an array (packed items have no position). */
static const struct pg_json *item_pos(const struct pg_json *a, size_t i)
{
	return a->items ? a->items[i] : a;
}

/*
 * Member `key` of obj, an array of exactly n integers in [lo, hi]. When
 * optional and absent, returns 0 with *out NULL.
 */
static int int_array(const struct pg_json *obj, const char *key, size_t n,
		     int64_t lo, int64_t hi, bool optional,
		     const struct pg_json **out)
{
	const struct pg_json *a = pg_json_get(obj, key);
	*out = NULL;
	if (!a) {
		if (optional)
			return 0;
		return corruptf(obj, "missing array '%s'", key);
	}
	if (a->type != PG_JSON_ARRAY)
		return corruptf(a, "'%s' must be an array", key);
	if (a->len != n)
		return corruptf(a, "'%s' has %zu entries, expected %zu", key,
				a->len, n);
	for (size_t i = 0; i < n; i++) {
		bool ok;
		if (a->ints) {
			ok = a->ints[i] >= lo && a->ints[i] <= hi;
		} else {
			const struct pg_json *v = a->items[i];
			ok = v->type == PG_JSON_NUMBER && v->is_integer &&
			     v->integer >= lo && v->integer <= hi;
		}
		if (!ok)
			return corruptf(item_pos(a, i),
					"'%s'[%zu] must be an integer in "
					"[%lld, %lld]",
					key, i, (long long)lo, (long long)hi);
	}
	*out = a;
	return 0;
}

/* A scalar integer member in [lo, hi]. */
static int int_member(const struct pg_json *obj, const char *key, int64_t lo,
		      int64_t hi, int64_t *out)
{
	if (pg_json_get_i64(obj, key, out))
		return corrupt("bad value");
	if (*out < lo || *out > hi)
		return corruptf(pg_json_get(obj, key), "'%s' out of range",
				key);
	return 0;
}

static int label_member(const struct pg_json *obj, const char *key, char *dst,
			size_t cap)
{
	const char *s;
	const struct pg_json *v = pg_json_get(obj, key);
	if (pg_json_get_str(obj, key, &s))
		return corrupt("bad label");
	if (strlen(s) != v->len || v->len >= cap)
		return corruptf(v, "'%s' too long or has NUL", key);
	memcpy(dst, s, v->len + 1);
	return 0;
}

static int read_functions(struct pg_profile *p, const struct pg_json *arr)
{
	if (arr->len > PG_WIRE_MAX_FUNCS)
		return corruptf(arr, "more than %d functions",
				PG_WIRE_MAX_FUNCS);
	if (arr->len && !arr->items)
		return corruptf(arr, "function 0 is not an object");
	for (size_t i = 0; i < arr->len; i++) {
		const struct pg_json *f = arr->items[i];
		const struct pg_json *id = pg_json_get(f, "id");
		const struct pg_json *file = pg_json_get(f, "file");
		const struct pg_json *code = pg_json_get(f, "code");
		int64_t line, flags;
		if (f->type != PG_JSON_OBJECT)
			return corruptf(f, "function %zu is not an object", i);
		if (!id || id->type != PG_JSON_STRING || !id->len ||
		    strlen(id->string) != id->len)
			return corruptf(f, "function %zu: bad 'id'", i);
		if (!file || (file->type != PG_JSON_NULL &&
			      (file->type != PG_JSON_STRING ||
			       strlen(file->string) != file->len)))
			return corruptf(f, "function %zu: bad 'file'", i);
		if (code && code->type != PG_JSON_NULL &&
		    (code->type != PG_JSON_STRING ||
		     strlen(code->string) != code->len ||
		     !pg_code_valid(code->string)))
			return corruptf(code, "function %zu: bad 'code'", i);
		int rc = int_member(f, "line", 0, INT_MAX, &line);
		if (!rc)
			rc = int_member(f, "flags", 0, PG_FUNC_ALL_FLAGS,
					&flags);
		if (rc)
			return rc;
		if (pg_profile_find(p, id->string) != PG_NO_FUNC)
			return corruptf(id, "duplicate function id '%.200s'",
					id->string);
		uint32_t fi = pg_profile_intern(
		    p, id->string,
		    file->type == PG_JSON_STRING ? file->string : NULL,
		    (int)line, (unsigned)flags);
		if (code && code->type == PG_JSON_STRING)
			pg_profile_set_code(p, fi, code->string);
		int64_t raised = 0, handled = 0;
		if ((pg_json_get(f, "raised") &&
		     (rc = int_member(f, "raised", 0, INT64_MAX, &raised))) ||
		    (pg_json_get(f, "handled") &&
		     (rc = int_member(f, "handled", 0, INT64_MAX, &handled))))
			return rc;
		p->funcs[fi].raised = (uint64_t)raised;
		p->funcs[fi].handled = (uint64_t)handled;
	}
	return 0;
}

/* A trial's comp_scale: a number in [0, 1]. */
static int scale_member(const struct pg_json *t, double *out)
{
	if (pg_json_get_double(t, "comp_scale", out) || !(*out >= 0) ||
	    *out > 1)
		return corruptf(pg_json_get(t, "comp_scale"),
				"'comp_scale' is not a number in [0, 1]");
	return 0;
}

static int read_trial(struct pg_profile *p, const struct pg_json *t)
{
	size_t n = p->nfuncs;
	const struct pg_json *calls, *pcalls, *resumes, *self, *incl, *off;
	int64_t wall, cpu, total, events, unmatched, threads, lost = 0;
	int64_t clamped = 0, rate = 0, due = 0, taken = 0;
	double scale = 1;
	int rc;
	if (t->type != PG_JSON_OBJECT)
		return corruptf(t, "trial is not an object");
	if ((pg_json_get(t, "rate_hz") &&
	     (rc = int_member(t, "rate_hz", 1, 1000000, &rate))) ||
	    (pg_json_get(t, "ticks_due") &&
	     (rc = int_member(t, "ticks_due", 0, INT64_MAX, &due))) ||
	    (pg_json_get(t, "ticks_taken") &&
	     (rc = int_member(t, "ticks_taken", 0, INT64_MAX, &taken))))
		return rc;
	if ((rc = int_member(t, "wall_ns", 0, INT64_MAX, &wall)) ||
	    (rc = int_member(t, "cpu_ns", 0, INT64_MAX, &cpu)) ||
	    (rc = int_member(t, "total_ns", INT64_MIN, INT64_MAX, &total)) ||
	    (rc = int_member(t, "events", 0, INT64_MAX, &events)) ||
	    (rc = int_member(t, "unmatched", 0, INT64_MAX, &unmatched)) ||
	    (rc = int_member(t, "threads", 0, UINT32_MAX, &threads)) ||
	    (pg_json_get(t, "lost") &&
	     (rc = int_member(t, "lost", 0, INT64_MAX, &lost))) ||
	    (pg_json_get(t, "clamped_ns") &&
	     (rc = int_member(t, "clamped_ns", 0, PG_MAX_NS, &clamped))) ||
	    (pg_json_get(t, "comp_scale") && (rc = scale_member(t, &scale))) ||
	    (rc = int_array(t, "calls", n, 0, INT64_MAX, false, &calls)) ||
	    (rc = int_array(t, "pcalls", n, 0, INT64_MAX, true, &pcalls)) ||
	    (rc = int_array(t, "resumes", n, 0, INT64_MAX, true, &resumes)) ||
	    (rc = int_array(t, "self_ns", n, -PG_MAX_NS, PG_MAX_NS, false,
			    &self)) ||
	    (rc = int_array(t, "incl_ns", n, -PG_MAX_NS, PG_MAX_NS, false,
			    &incl)) ||
	    (rc = int_array(t, "off_ns", n, 0, PG_MAX_NS, true, &off)))
		return rc;
	/* Everything is valid: only now allocate the row. */
	size_t ti = pg_profile_add_trial(p);
	struct pg_trial *tr = &p->trials[ti];
	tr->wall_ns = wall;
	tr->cpu_ns = cpu;
	tr->total_ns = total;
	tr->events = (uint64_t)events;
	tr->unmatched = (uint64_t)unmatched;
	tr->lost = (uint64_t)lost;
	tr->comp_scale = scale;
	tr->clamped_ns = clamped;
	tr->threads = (uint32_t)threads;
	tr->rate_hz = (int32_t)rate;
	tr->ticks_due = (uint64_t)due;
	tr->ticks_taken = (uint64_t)taken;
	for (size_t i = 0; i < n; i++) {
		struct pg_sample *s = &tr->samples[i];
		s->calls = (uint64_t)int_at(calls, i);
		s->pcalls = pcalls ? (uint64_t)int_at(pcalls, i) : s->calls;
		s->resumes = resumes ? (uint64_t)int_at(resumes, i) : 0;
		s->self_ns = int_at(self, i);
		s->incl_ns = int_at(incl, i);
		s->off_ns = off ? int_at(off, i) : 0;
	}
	return 0;
}

static int read_edges(struct pg_profile *p, const struct pg_json *e)
{
	const struct pg_json *caller, *callee, *calls, *pcalls, *self, *incl;
	const struct pg_json *c0 = pg_json_get(e, "caller");
	if (e->type != PG_JSON_OBJECT)
		return corruptf(e, "'edges' must be an object");
	if (!c0 || c0->type != PG_JSON_ARRAY)
		return corruptf(e, "missing array 'caller'");
	size_t n = c0->len;
	int64_t fmax = (int64_t)p->nfuncs - 1;
	int rc;
	if (n > PG_WIRE_MAX_EDGES)
		return corruptf(e, "more than %d edges", PG_WIRE_MAX_EDGES);
	if ((rc = int_array(e, "caller", n, 0, fmax, false, &caller)) ||
	    (rc = int_array(e, "callee", n, 0, fmax, false, &callee)) ||
	    (rc = int_array(e, "calls", n, 0, INT64_MAX, false, &calls)) ||
	    (rc = int_array(e, "pcalls", n, 0, INT64_MAX, false, &pcalls)) ||
	    (rc = int_array(e, "self_ns", n, INT64_MIN, INT64_MAX, false,
			    &self)) ||
	    (rc = int_array(e, "incl_ns", n, INT64_MIN, INT64_MAX, false,
			    &incl)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct pg_edge ed = {
		    .caller = (uint32_t)int_at(caller, i),
		    .callee = (uint32_t)int_at(callee, i),
		    .calls = (uint64_t)int_at(calls, i),
		    .pcalls = (uint64_t)int_at(pcalls, i),
		    .self_ns = int_at(self, i),
		    .incl_ns = int_at(incl, i),
		};
		pg_profile_add_edge(p, &ed);
		if (p->nedges != i + 1)
			return corruptf(item_pos(caller, i),
					"duplicate edge %zu", i);
	}
	return 0;
}

static int read_nodes(struct pg_profile *p, const struct pg_json *nd)
{
	const struct pg_json *parent, *func, *calls, *self, *incl;
	const struct pg_json *p0 = pg_json_get(nd, "parent");
	if (nd->type != PG_JSON_OBJECT)
		return corruptf(nd, "'nodes' must be an object");
	if (!p0 || p0->type != PG_JSON_ARRAY)
		return corruptf(nd, "missing array 'parent'");
	size_t n = p0->len;
	int rc;
	if (n > PG_WIRE_MAX_NODES)
		return corruptf(nd, "more than %d nodes", PG_WIRE_MAX_NODES);
	if ((rc = int_array(nd, "parent", n, 0, (int64_t)n, false, &parent)) ||
	    (rc = int_array(nd, "func", n, -1, (int64_t)p->nfuncs - 1, false,
			    &func)) ||
	    (rc = int_array(nd, "calls", n, 0, INT64_MAX, false, &calls)) ||
	    (rc = int_array(nd, "self_ns", n, INT64_MIN, INT64_MAX, false,
			    &self)) ||
	    (rc = int_array(nd, "incl_ns", n, INT64_MIN, INT64_MAX, false,
			    &incl)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		int64_t par = int_at(parent, i);
		int64_t fn = int_at(func, i);
		uint32_t got;
		if (i == 0) {
			if (par != 0 || fn != -1)
				return corruptf(parent, "node 0 must be the "
							"root (parent 0, "
							"func -1)");
			got = pg_profile_root(p);
		} else {
			if (fn < 0 || par >= (int64_t)i)
				return corruptf(item_pos(parent, i),
						"node %zu: bad parent or "
						"function",
						i);
			got = pg_profile_child(p, (uint32_t)par, (uint32_t)fn);
			if (got != i)
				return corruptf(item_pos(parent, i),
						"duplicate node %zu", i);
		}
		p->nodes[got].calls = (uint64_t)int_at(calls, i);
		p->nodes[got].self_ns = int_at(self, i);
		p->nodes[got].incl_ns = int_at(incl, i);
	}
	return 0;
}

int pg_profile_read_json(struct pg_profile *p, const struct pg_json *j)
{
	const struct pg_json *funcs, *trials, *edges, *nodes;
	double cost;
	int rc;
	if (p->nfuncs || p->ntrials || p->nnodes || p->nedges)
		return pg_error_set(PG_EINVALID, "profile: not empty");
	if (!j || j->type != PG_JSON_OBJECT)
		return corruptf(j, "a profile must be an object");
	if ((rc = label_member(j, "mechanism", p->mechanism,
			       sizeof(p->mechanism))) ||
	    (rc = label_member(j, "timer", p->timer, sizeof(p->timer))) ||
	    (rc = label_member(j, "python", p->python, sizeof(p->python))))
		return rc;
	if (pg_json_get_double(j, "event_cost_ns", &cost))
		return corrupt("bad event cost");
	if (!isfinite(cost) || cost < 0)
		return corruptf(j, "'event_cost_ns' out of range");
	p->event_cost_ns = cost;
	if (!(funcs = pg_json_get_array(j, "functions")) ||
	    !(trials = pg_json_get_array(j, "trials")) ||
	    !(edges = pg_json_get_object(j, "edges")) ||
	    !(nodes = pg_json_get_object(j, "nodes")))
		return corrupt("bad member");
	if ((rc = read_functions(p, funcs)))
		return rc;
	if (trials->len && !trials->items)
		return corruptf(trials, "trial is not an object");
	for (size_t t = 0; t < trials->len; t++)
		if ((rc = read_trial(p, trials->items[t])))
			return rc;
	if ((rc = read_edges(p, edges)) || (rc = read_nodes(p, nodes)))
		return rc;
	return 0;
}
