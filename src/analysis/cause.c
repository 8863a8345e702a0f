/*
 * cause.c - why each regression happened, from evidence in the two
 * results sets of a check: the code fingerprints the hook records per
 * function, call counts per caller edge, the calling-context tree, and
 * each trial's wall and CPU time.
 *
 * For a regressed function the first of these that the evidence shows is
 * its cause (docs/statistics.md, "Causes"): its code changed (fingerprints
 * differ); it is called more (the caller edge whose calls grew most); it
 * waits more (wall clock: the trials' off-CPU time grew by at least half
 * its growth); else its code and calls are the same and it is slower per
 * call, likely because of its input, and the changed functions above it
 * on its call paths are named. A benchmark's total or wall time is
 * explained by the function below whose self time grew most (callee).
 * A check whose only changed function regressed marks that verdict `lead`
 * so the reports name it first.
 *
 * "Changed" for naming: present on both sides with different
 * fingerprints, or new on head; a function whose change may be only that
 * of code nested in it (a.py:<module> around a.py:f, C around C.m, f
 * around f.<locals>.g) is left out when the nested one changed too.
 *
 * It does not judge (verdict.c does), print or read files; it only fills
 * struct pg_cause and points verdicts at them.
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"

/* A calls growth counts as the cause when it explains half the change. */
#define CALLS_MIN_GROWTH 0.05
#define EXPLAINS	 0.5
#define MAX_CHANGED	 8

/* One side of a benchmark, with per-function medians per trial. */
struct side {
	const struct pg_profile *p;
	double *self; /* median self ns per trial, per function */
	double *off;  /* per trial: wall - cpu (ns); NULL when not measured */
	double off_median;
};

struct bench_ctx {
	const struct pg_bench_result *rb, *rh;
	struct side b, h;
	uint32_t *to_base; /* head function -> base function (or NO_FUNC) */
	bool *changed;	   /* per head function: code changed (or new) */
	bool *listed;	   /* per head function: changed, for naming */
	bool wall_clock;
};

static void side_init(struct side *s, const struct pg_profile *p)
{
	s->p = p;
	size_t n = p->ntrials;
	double *buf = pg_malloc((n ? n : 1) * sizeof(double));
	s->self = pg_malloc((p->nfuncs ? p->nfuncs : 1) * sizeof(double));
	for (size_t f = 0; f < p->nfuncs; f++) {
		for (size_t t = 0; t < n; t++)
			buf[t] = (double)p->trials[t].samples[f].self_ns;
		s->self[f] = n ? pg_stats_median(buf, n) : 0;
	}
	s->off = NULL;
	s->off_median = NAN;
	bool measured = n > 0;
	for (size_t t = 0; t < n; t++)
		if (p->trials[t].cpu_ns <= 0)
			measured = false;
	if (measured) {
		s->off = pg_malloc(n * sizeof(double));
		for (size_t t = 0; t < n; t++)
			s->off[t] = (double)p->trials[t].wall_ns -
				    (double)p->trials[t].cpu_ns;
		s->off_median = pg_stats_median(s->off, n);
	}
	free(buf);
}

static void side_release(struct side *s)
{
	free(s->self);
	free(s->off);
}

/* "file:qual" -> length of the file part (up to the last ':' before the
 * qualified name), or 0 when id has none. */
static size_t file_part(const char *id)
{
	const char *c = strrchr(id, ':');
	return c ? (size_t)(c - id) : 0;
}

/* Might a's code hold b's (a.py:<module> holds a.py:f, C holds C.m,
 * f holds f.<locals>.g)? */
static bool encloses(const char *a, const char *b)
{
	size_t fa = file_part(a), fb = file_part(b);
	if (!fa || fa != fb || strncmp(a, b, fa) != 0)
		return false;
	const char *qa = a + fa + 1, *qb = b + fb + 1;
	if (!strcmp(qa, "<module>"))
		return strcmp(qb, "<module>") != 0;
	size_t n = strlen(qa);
	return !strncmp(qa, qb, n) && qb[n] == '.';
}

static bool code_differs(const struct pg_func *fb, const struct pg_func *fh)
{
	return fb->code[0] && fh->code[0] && strcmp(fb->code, fh->code) != 0;
}

static void bench_init(struct bench_ctx *c, const struct pg_bench_result *rb,
		       const struct pg_bench_result *rh, const char *clock)
{
	memset(c, 0, sizeof(*c));
	c->rb = rb;
	c->rh = rh;
	side_init(&c->b, &rb->profile);
	side_init(&c->h, &rh->profile);
	c->wall_clock = !clock || strcmp(clock, "cpu") != 0;
	size_t nh = rh->profile.nfuncs ? rh->profile.nfuncs : 1;
	c->to_base = pg_malloc(nh * sizeof(uint32_t));
	c->changed = pg_calloc(nh, sizeof(bool));
	c->listed = pg_calloc(nh, sizeof(bool));
	const struct pg_profile *ph = &rh->profile, *pb = &rb->profile;
	for (size_t f = 0; f < ph->nfuncs; f++) {
		const struct pg_func *fh = &ph->funcs[f];
		uint32_t g = pg_profile_find(pb, fh->id);
		c->to_base[f] = g;
		if (fh->flags & PG_FUNC_BUILTIN || fh->id[0] == '<')
			continue; /* C functions and <gc> have no code */
		c->changed[f] = g == PG_NO_FUNC
				    ? fh->code[0] != 0
				    : code_differs(&pb->funcs[g], fh);
	}
	for (size_t f = 0; f < ph->nfuncs; f++) {
		c->listed[f] = c->changed[f];
		for (size_t k = 0; c->listed[f] && k < ph->nfuncs; k++)
			if (k != f && c->changed[k] &&
			    encloses(ph->funcs[f].id, ph->funcs[k].id))
				c->listed[f] = false;
	}
}

static void bench_release(struct bench_ctx *c)
{
	side_release(&c->b);
	side_release(&c->h);
	free(c->to_base);
	free(c->changed);
	free(c->listed);
}

struct ranked {
	size_t dist;
	uint32_t func;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return (x->func > y->func) - (x->func < y->func);
}

/* Listed changed functions above head function f on its call paths,
 * nearest first (at most MAX_CHANGED). */
static void changed_above(const struct bench_ctx *c, uint32_t f,
			  struct pg_cause *out)
{
	const struct pg_profile *p = c->h.p;
	size_t nf = p->nfuncs;
	size_t *dist = pg_malloc((nf ? nf : 1) * sizeof(size_t));
	for (size_t k = 0; k < nf; k++)
		dist[k] = SIZE_MAX;
	for (size_t n = 1; n < p->nnodes; n++) {
		if (p->nodes[n].func != f)
			continue;
		size_t d = 1;
		for (uint32_t a = p->nodes[n].parent; a != 0 && a < p->nnodes;
		     a = p->nodes[a].parent, d++) {
			uint32_t g = p->nodes[a].func;
			if (g < nf && g != f && c->listed[g] && d < dist[g])
				dist[g] = d;
		}
	}
	struct ranked *r = pg_malloc((nf ? nf : 1) * sizeof(*r));
	size_t nr = 0;
	for (size_t k = 0; k < nf; k++)
		if (dist[k] != SIZE_MAX)
			r[nr++] = (struct ranked){dist[k], (uint32_t)k};
	if (nr)
		qsort(r, nr, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < nr && out->nchanged < MAX_CHANGED; i++)
		out->changed[out->nchanged++] = p->funcs[r[i].func].id;
	free(r);
	free(dist);
}

static void set_at(struct pg_cause *cause, const struct pg_func *f)
{
	if (f && f->file) {
		cause->at_file = f->file;
		cause->at_line = f->line;
	}
}

/* Per-trial calls on edge caller -> callee of a side (by id; 0: none). */
static double edge_calls(const struct pg_profile *p, const char *caller,
			 const char *callee)
{
	uint32_t a = pg_profile_find(p, caller), b = pg_profile_find(p, callee);
	if (a == PG_NO_FUNC || b == PG_NO_FUNC || !p->ntrials)
		return 0;
	for (size_t e = 0; e < p->nedges; e++)
		if (p->edges[e].caller == a && p->edges[e].callee == b)
			return (double)p->edges[e].calls / (double)p->ntrials;
	return 0;
}

/* The caller of head function f whose calls of f grew most. */
static void biggest_caller(const struct bench_ctx *c, uint32_t f,
			   struct pg_cause *cause)
{
	const struct pg_profile *ph = c->h.p, *pb = c->b.p;
	double best = 0;
	for (size_t e = 0; e < ph->nedges; e++) {
		const struct pg_edge *ed = &ph->edges[e];
		if (ed->callee != f || !ph->ntrials)
			continue;
		const char *caller = ph->funcs[ed->caller].id;
		double head = (double)ed->calls / (double)ph->ntrials;
		double base = edge_calls(pb, caller, ph->funcs[f].id);
		if (head - base > best) {
			best = head - base;
			cause->other = caller;
			cause->other_base = base;
			cause->other_head = head;
			cause->other_changed = c->changed[ed->caller];
		}
	}
}

static void fmt_ns(char *out, size_t n, double ns)
{
	static const char *units[] = {"ns", "µs", "ms", "s"};
	int u = 0;
	double v = ns;
	while (fabs(v) >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(out, n, "%.3g %s", v, units[u]);
}

static void fmt_count(char *out, size_t n, double x)
{
	if (x == floor(x) || x >= 100)
		snprintf(out, n, "%.0f", x);
	else
		snprintf(out, n, "%.1f", x);
}

/* Append "; changed above it: a, b" or "; no changed function above it". */
static void put_changed(struct pg_buf *t, const struct pg_cause *cause,
			const char *what)
{
	if (!cause->nchanged) {
		pg_buf_printf(t, "; no changed function %s", what);
		return;
	}
	pg_buf_printf(t, "; changed %s: ", what);
	for (size_t i = 0; i < cause->nchanged; i++)
		pg_buf_printf(t, "%s%s", i ? ", " : "", cause->changed[i]);
}

static void explain_function(struct bench_ctx *c, struct pg_verdict *v,
			     struct pg_cause *cause)
{
	const struct pg_profile *ph = c->h.p, *pb = c->b.p;
	uint32_t f = pg_profile_find(ph, v->func_id);
	uint32_t g = pg_profile_find(pb, v->func_id);
	struct pg_buf t;
	pg_buf_init(&t, 0);
	if (f == PG_NO_FUNC || g == PG_NO_FUNC) {
		cause->kind = PG_CAUSE_INPUT;
		pg_buf_puts(&t, "not on both sides");
		goto done;
	}
	const struct pg_func *fh = &ph->funcs[f], *fb = &pb->funcs[g];
	bool has_code = !(fh->flags & PG_FUNC_BUILTIN) && fh->id[0] != '<';
	cause->code_unknown = has_code && (!fh->code[0] || !fb->code[0]);
	changed_above(c, f, cause);

	double bc = (double)v->base_calls, hc = (double)v->head_calls;
	double rc = bc > 0 ? hc / bc : INFINITY;
	double rt = v->base_value > 0 ? v->head_value / v->base_value : NAN;
	bool more_calls = hc > bc && (rc - 1 >= CALLS_MIN_GROWTH) &&
			  (v->metric == PG_METRIC_CALLS || !isfinite(rt) ||
			   rc - 1 >= EXPLAINS * (rt - 1));
	char a[48], b[48];

	if (c->changed[f]) {
		cause->kind = PG_CAUSE_CODE;
		set_at(cause, fh);
		pg_buf_puts(&t, "its code changed");
		if (more_calls) {
			fmt_count(a, sizeof(a), bc);
			fmt_count(b, sizeof(b), hc);
			pg_buf_printf(&t,
				      ", and it is called more (%s → %s "
				      "calls per run)",
				      a, b);
		}
		goto done;
	}
	if (more_calls) {
		cause->kind = PG_CAUSE_CALLS;
		biggest_caller(c, f, cause);
		fmt_count(a, sizeof(a), bc);
		fmt_count(b, sizeof(b), hc);
		pg_buf_printf(&t, "called more: %s → %s calls per run", a, b);
		if (cause->other) {
			char ea[48], eb[48];
			fmt_count(ea, sizeof(ea), cause->other_base);
			fmt_count(eb, sizeof(eb), cause->other_head);
			pg_buf_printf(
			    &t, ", from %s (%s → %s)%s", cause->other, ea, eb,
			    cause->other_changed ? ", whose code changed" : "");
			if (cause->other_changed)
				set_at(cause, &ph->funcs[pg_profile_find(
						  ph, cause->other)]);
		} else {
			pg_buf_puts(&t, ", from the top level");
		}
		if (!cause->other_changed) {
			put_changed(&t, cause, "above it");
			if (cause->nchanged)
				set_at(cause, &ph->funcs[pg_profile_find(
						  ph, cause->changed[0])]);
		}
		goto done;
	}
	double grew = v->head_value - v->base_value;
	double off_grew = c->h.off_median - c->b.off_median;
	if (c->wall_clock && c->b.off && c->h.off && grew > 0 &&
	    off_grew >= EXPLAINS * grew) {
		cause->kind = PG_CAUSE_WAITING;
		fmt_ns(a, sizeof(a), c->b.off_median);
		fmt_ns(b, sizeof(b), c->h.off_median);
		pg_buf_printf(&t,
			      "it waits more: the run's time off the CPU "
			      "(wall - CPU) grew %s → %s per run, its own "
			      "code and calls did not change",
			      a, b);
		put_changed(&t, cause, "above it");
		if (cause->nchanged)
			set_at(
			    cause,
			    &ph->funcs[pg_profile_find(ph, cause->changed[0])]);
		goto done;
	}
	cause->kind = PG_CAUSE_INPUT;
	if (cause->code_unknown)
		pg_buf_puts(&t, "slower per call with the same calls (whether "
				"its code changed is unknown: no code "
				"fingerprint on one side)");
	else
		pg_buf_printf(&t,
			      "%s, same calls, slower per call: likely its "
			      "input",
			      has_code ? "same code" : "a C function");
	put_changed(&t, cause, "above it");
	if (cause->nchanged)
		set_at(cause,
		       &ph->funcs[pg_profile_find(ph, cause->changed[0])]);
done:
	cause->text = pg_buf_detach(&t, NULL);
}

/* A total or wall verdict: the function whose self time grew most. */
static void explain_whole(struct bench_ctx *c, struct pg_cause *cause)
{
	const struct pg_profile *ph = c->h.p;
	double best = 0;
	uint32_t top = PG_NO_FUNC;
	for (size_t f = 0; f < ph->nfuncs; f++) {
		double base =
		    c->to_base[f] != PG_NO_FUNC ? c->b.self[c->to_base[f]] : 0;
		if (c->h.self[f] - base > best) {
			best = c->h.self[f] - base;
			top = (uint32_t)f;
			cause->other_base = base;
			cause->other_head = c->h.self[f];
		}
	}
	cause->kind = PG_CAUSE_CALLEE;
	struct pg_buf t;
	pg_buf_init(&t, 0);
	for (size_t f = 0; f < ph->nfuncs && cause->nchanged < MAX_CHANGED; f++)
		if (c->listed[f])
			cause->changed[cause->nchanged++] = ph->funcs[f].id;
	if (top == PG_NO_FUNC) {
		pg_buf_puts(&t, "no function's self time grew");
	} else {
		char a[48], b[48];
		cause->other = ph->funcs[top].id;
		cause->other_changed = c->changed[top];
		fmt_ns(a, sizeof(a), cause->other_base);
		fmt_ns(b, sizeof(b), cause->other_head);
		pg_buf_printf(&t, "%s got slower (self %s → %s per run)%s",
			      cause->other, a, b,
			      c->changed[top] ? ", its code changed" : "");
		if (c->changed[top])
			set_at(cause, &ph->funcs[top]);
	}
	put_changed(&t, cause, "in the benchmark");
	if (!cause->at_file && cause->nchanged)
		set_at(cause,
		       &ph->funcs[pg_profile_find(ph, cause->changed[0])]);
	cause->text = pg_buf_detach(&t, NULL);
}

void pg_analysis_causes(const struct pg_results *base,
			const struct pg_results *head, struct pg_verdicts *v,
			struct pg_causes *out)
{
	memset(out, 0, sizeof(*out));
	out->c = pg_calloc(v->n ? v->n : 1, sizeof(*out->c));
	out->n = v->n;
	/* Changed functions over the whole check (by id), for `lead`. */
	struct pg_map seen;
	pg_map_init(&seen);
	const char *only = NULL;
	size_t nchanged = 0;
	const char *clock = head->clock ? head->clock : base->clock;
	for (size_t i = 0; i < head->nbenches; i++) {
		const struct pg_bench_result *rh = &head->benches[i];
		const struct pg_bench_result *rb =
		    pg_results_find(base, rh->name);
		if (!rb || rb->status != PG_BENCH_OK ||
		    rh->status != PG_BENCH_OK || !rb->profile.ntrials ||
		    !rh->profile.ntrials)
			continue;
		struct bench_ctx c;
		bench_init(&c, rb, rh, clock);
		for (size_t f = 0; f < rh->profile.nfuncs; f++) {
			const char *id = rh->profile.funcs[f].id;
			if (c.listed[f] && !pg_map_get(&seen, id, NULL)) {
				pg_map_put(&seen, id, 1);
				nchanged++;
				only = id;
			}
		}
		for (size_t k = 0; k < v->n; k++) {
			struct pg_verdict *vk = &v->v[k];
			if (vk->kind != PG_VERDICT_REGRESSED || !vk->bench ||
			    strcmp(vk->bench, rh->name) != 0)
				continue;
			struct pg_cause *cause = &out->c[k];
			cause->changed =
			    pg_calloc(MAX_CHANGED, sizeof(*cause->changed));
			if (vk->func_id)
				explain_function(&c, vk, cause);
			else
				explain_whole(&c, cause);
			vk->cause = cause;
		}
		bench_release(&c);
	}
	if (nchanged == 1) {
		for (size_t k = 0; k < v->n; k++)
			if (v->v[k].cause && v->v[k].func_id &&
			    !strcmp(v->v[k].func_id, only)) {
				out->c[k].lead = true;
				break;
			}
	}
	pg_map_release(&seen);
}

void pg_causes_release(struct pg_causes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->c[i].text);
		free(c->c[i].changed);
	}
	free(c->c);
	memset(c, 0, sizeof(*c));
}
