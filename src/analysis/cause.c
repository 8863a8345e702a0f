/*
 * cause.c - why each regression happened, from evidence in the two
 * results sets of a check: the code fingerprints the hook records per
 * function, call counts per caller edge, the calling-context tree, and
 * each function's time on and off the CPU (the hook records both).
 *
 * For a regressed function the first of these that the evidence shows is
 * its cause (docs/statistics.md, "Causes"): its code changed (fingerprints
 * differ); it is called more (the caller edge whose calls grew most); it
 * waits more (wall clock: its own time off the CPU grew by at least half
 * its growth, and far more in proportion than its time on the CPU; named
 * with the caller it waits in); a callee got slower (the time below it
 * grew at least twice its own growth: the callees whose time under it
 * grew most); else its code and calls are the same and it is slower per
 * call, likely because of its input, and the changed functions above it
 * on its call paths are named. A benchmark's total or wall time is
 * explained by the function below whose time grew most (callee), or
 * waiting when that function waits more. A check whose only changed
 * function regressed marks that verdict `lead` so the reports name it
 * first.
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
/* A callee is the cause when the time below a function grew this many
 * times its own self time's growth; at most MAX_CALLEES are named. */
/* Waiting: time off the CPU grew at least this many times more, in
 * proportion, than time on it, whose ratio counts this share of the base's
 * wall time in (waits_more). */
#define OFF_OVER_CPU	  2.0
#define CPU_FLOOR	  0.05
#define CALLEES_OVER_SELF 2.0
#define MAX_CALLEES	  3

/* One side of a benchmark: per function, medians over its trials. */
struct side {
	const struct pg_profile *p;
	double *self; /* self time (ns) on the suite's clock */
	double *incl; /* inclusive time (ns) on the suite's clock */
	double *cpu;  /* self time on the CPU (ns) */
	double *off;  /* self time off the CPU (ns): 0 when not measured */
};

enum side_col { COL_SELF, COL_INCL, COL_CPU, COL_OFF };

/* Median over p's trials of a column of function f; wall: the suite runs
 * on the wall clock (self time holds the time off the CPU). */
static double col_median(const struct pg_profile *p, size_t f,
			 enum side_col col, bool wall, double *buf)
{
	size_t n = p->ntrials;
	for (size_t t = 0; t < n; t++) {
		const struct pg_sample *s = &p->trials[t].samples[f];
		double off = (double)s->off_ns;
		buf[t] = col == COL_SELF   ? (double)s->self_ns
			 : col == COL_INCL ? (double)s->incl_ns
			 : col == COL_OFF  ? off
			 : wall		   ? (double)s->self_ns - off
					   : (double)s->self_ns;
	}
	return n ? pg_stats_median(buf, n) : 0;
}

static void side_init(struct side *s, const struct pg_profile *p, bool wall)
{
	s->p = p;
	size_t nf = p->nfuncs ? p->nfuncs : 1;
	double *buf = pg_malloc((p->ntrials ? p->ntrials : 1) * sizeof(double));
	double **cols[] = {&s->self, &s->incl, &s->cpu, &s->off};
	for (int c = COL_SELF; c <= COL_OFF; c++) {
		*cols[c] = pg_malloc(nf * sizeof(double));
		for (size_t f = 0; f < p->nfuncs; f++)
			(*cols[c])[f] =
			    col_median(p, f, (enum side_col)c, wall, buf);
	}
	free(buf);
}

struct bench_ctx {
	const struct pg_bench_result *rb, *rh;
	struct side b, h;
	uint32_t *to_base; /* head function -> base function (or NO_FUNC) */
	bool *changed;	   /* per head function: code changed (or new) */
	bool *listed;	   /* per head function: changed, for naming */
	bool wall_clock;
};

static void side_release(struct side *s)
{
	free(s->self);
	free(s->incl);
	free(s->cpu);
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
	c->wall_clock = !clock || strcmp(clock, "cpu") != 0;
	side_init(&c->b, &rb->profile, c->wall_clock);
	side_init(&c->h, &rh->profile, c->wall_clock);
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

/* What of an edge (caller -> callee) is compared between the sides. */
enum edge_field { EDGE_CALLS, EDGE_SELF, EDGE_INCL };

/* Field k of edge e per trial of p. */
static double edge_value(const struct pg_profile *p, const struct pg_edge *e,
			 enum edge_field k)
{
	double v = k == EDGE_CALLS  ? (double)e->calls
		   : k == EDGE_SELF ? (double)e->self_ns
				    : (double)e->incl_ns;
	return p->ntrials ? v / (double)p->ntrials : 0;
}

/* Field k per trial of edge caller -> callee of a side (by id; 0: none). */
static double edge_of(const struct pg_profile *p, const char *caller,
		      const char *callee, enum edge_field k)
{
	uint32_t a = pg_profile_find(p, caller), b = pg_profile_find(p, callee);
	if (a == PG_NO_FUNC || b == PG_NO_FUNC)
		return 0;
	for (size_t e = 0; e < p->nedges; e++)
		if (p->edges[e].caller == a && p->edges[e].callee == b)
			return edge_value(p, &p->edges[e], k);
	return 0;
}

/* The caller of head function f whose edge to f grew most in field k,
 * with its base and head values; PG_NO_FUNC when none grew. */
static uint32_t grown_caller(const struct bench_ctx *c, uint32_t f,
			     enum edge_field k, double *base, double *head)
{
	const struct pg_profile *ph = c->h.p;
	double best = 0;
	uint32_t who = PG_NO_FUNC;
	for (size_t e = 0; e < ph->nedges; e++) {
		const struct pg_edge *ed = &ph->edges[e];
		if (ed->callee != f)
			continue;
		double h = edge_value(ph, ed, k);
		double b = edge_of(c->b.p, ph->funcs[ed->caller].id,
				   ph->funcs[f].id, k);
		if (h - b > best) {
			best = h - b;
			who = ed->caller;
			*base = b;
			*head = h;
		}
	}
	return who;
}

/* The caller of head function f whose calls of f grew most. */
static void biggest_caller(const struct bench_ctx *c, uint32_t f,
			   struct pg_cause *cause)
{
	uint32_t who = grown_caller(c, f, EDGE_CALLS, &cause->other_base,
				    &cause->other_head);
	if (who != PG_NO_FUNC) {
		cause->other = c->h.p->funcs[who].id;
		cause->other_changed = c->changed[who];
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

/*
 * Did head function f (base g) wait more? Its time off the CPU grew by at
 * least half of its wall time's growth, and in proportion at least
 * OFF_OVER_CPU times as much as its time on the CPU: the same work
 * preempted as often (a busy machine) grows both alike. The CPU ratio
 * counts CPU_FLOOR of the base's wall time in, so that a function that
 * barely runs (a sleep, a read) is not judged on the noise of microseconds.
 */
static bool waits_more(const struct bench_ctx *c, uint32_t f, uint32_t g)
{
	double ob = c->b.off[g], oh = c->h.off[f];
	double cb = c->b.cpu[g], ch = c->h.cpu[f];
	double grew = (ch + oh) - (cb + ob);
	if (!(grew > 0) || oh - ob < EXPLAINS * grew)
		return false;
	double pad = CPU_FLOOR * fmax(cb + ob, 0);
	double rcpu = cb + pad > 0 ? (fmax(ch, 0) + pad) / (cb + pad) : 1;
	double roff = ob > 0 ? oh / ob : INFINITY;
	return roff >= OFF_OVER_CPU * fmax(rcpu, 1);
}

/* " (off the CPU a → b per run, on it c → d)" of head f (base g). */
static void put_off_cpu(struct pg_buf *t, const struct bench_ctx *c, uint32_t f,
			uint32_t g, struct pg_cause *cause)
{
	char a[48], b[48], x[48], y[48];
	cause->off_base = c->b.off[g];
	cause->off_head = c->h.off[f];
	cause->cpu_base = c->b.cpu[g];
	cause->cpu_head = c->h.cpu[f];
	fmt_ns(a, sizeof(a), cause->off_base);
	fmt_ns(b, sizeof(b), cause->off_head);
	fmt_ns(x, sizeof(x), cause->cpu_base);
	fmt_ns(y, sizeof(y), cause->cpu_head);
	pg_buf_printf(t, "off the CPU %s → %s per run, on it %s → %s", a, b, x,
		      y);
}

/* Point the annotation at the nearest changed function above, if any. */
static void at_changed(struct pg_cause *cause, const struct pg_profile *ph)
{
	if (cause->nchanged)
		set_at(cause,
		       &ph->funcs[pg_profile_find(ph, cause->changed[0])]);
}

/* The facts explain_function's rules read, for one regressed function. */
struct fn_case {
	struct bench_ctx *c;
	const struct pg_verdict *v;
	struct pg_cause *cause;
	uint32_t f, g; /* head and base indexes */
	struct pg_buf *t;
};

static void cause_code(struct fn_case *k, bool more_calls)
{
	char a[48], b[48];
	k->cause->kind = PG_CAUSE_CODE;
	set_at(k->cause, &k->c->h.p->funcs[k->f]);
	pg_buf_puts(k->t, "its code changed");
	if (more_calls) {
		fmt_count(a, sizeof(a), (double)k->v->base_calls);
		fmt_count(b, sizeof(b), (double)k->v->head_calls);
		pg_buf_printf(k->t,
			      ", and it is called more (%s → %s calls per "
			      "run)",
			      a, b);
	}
}

static void cause_calls(struct fn_case *k)
{
	struct pg_cause *cause = k->cause;
	const struct pg_profile *ph = k->c->h.p;
	char a[48], b[48];
	cause->kind = PG_CAUSE_CALLS;
	biggest_caller(k->c, k->f, cause);
	fmt_count(a, sizeof(a), (double)k->v->base_calls);
	fmt_count(b, sizeof(b), (double)k->v->head_calls);
	pg_buf_printf(k->t, "called more: %s → %s calls per run", a, b);
	if (cause->other) {
		fmt_count(a, sizeof(a), cause->other_base);
		fmt_count(b, sizeof(b), cause->other_head);
		pg_buf_printf(k->t, ", from %s (%s → %s)%s", cause->other, a, b,
			      cause->other_changed ? ", whose code changed"
						   : "");
		if (cause->other_changed)
			set_at(cause,
			       &ph->funcs[pg_profile_find(ph, cause->other)]);
	} else {
		pg_buf_puts(k->t, ", from the top level");
	}
	if (!cause->other_changed) {
		put_changed(k->t, cause, "above it");
		at_changed(cause, ph);
	}
}

static void cause_waiting(struct fn_case *k)
{
	struct pg_cause *cause = k->cause;
	const struct pg_profile *ph = k->c->h.p;
	cause->kind = PG_CAUSE_WAITING;
	pg_buf_puts(k->t, "it waits more: ");
	put_off_cpu(k->t, k->c, k->f, k->g, cause);
	uint32_t in = grown_caller(k->c, k->f, EDGE_SELF, &cause->other_base,
				   &cause->other_head);
	if (in != PG_NO_FUNC) {
		cause->other = ph->funcs[in].id;
		cause->other_changed = k->c->changed[in];
		pg_buf_printf(k->t, ", called from %s", cause->other);
	}
	put_changed(k->t, cause, "above it");
	at_changed(cause, ph);
}

struct grown {
	double base, head;
	uint32_t callee;
};

static int cmp_grown(const void *a, const void *b)
{
	const struct grown *x = a, *y = b;
	double gx = x->head - x->base, gy = y->head - y->base;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	return (x->callee > y->callee) - (x->callee < y->callee);
}

/*
 * A callee got slower: the time below the function (inclusive minus self)
 * grew at least CALLEES_OVER_SELF times its own self time's growth. Names
 * the callees (caller -> callee edges of the call tree) whose time under
 * it grew most. False when the rule does not hold.
 */
static bool cause_callee(struct fn_case *k)
{
	const struct bench_ctx *c = k->c;
	const struct pg_profile *ph = c->h.p, *pb = c->b.p;
	double below = (c->h.incl[k->f] - c->h.self[k->f]) -
		       (c->b.incl[k->g] - c->b.self[k->g]);
	double own = k->v->head_value - k->v->base_value;
	if (k->v->metric != PG_METRIC_SELF || !(below > 0) ||
	    below < CALLEES_OVER_SELF * fmax(own, 0) || !ph->ntrials)
		return false;
	struct grown *gr =
	    pg_malloc((ph->nedges ? ph->nedges : 1) * sizeof(*gr));
	size_t n = 0;
	for (size_t e = 0; e < ph->nedges; e++) {
		const struct pg_edge *ed = &ph->edges[e];
		if (ed->caller != k->f || ed->callee == k->f)
			continue;
		double head = edge_value(ph, ed, EDGE_INCL);
		double base = edge_of(pb, ph->funcs[k->f].id,
				      ph->funcs[ed->callee].id, EDGE_INCL);
		if (head > base)
			gr[n++] = (struct grown){base, head, ed->callee};
	}
	if (n)
		qsort(gr, n, sizeof(*gr), cmp_grown);
	struct pg_cause *cause = k->cause;
	if (n) {
		cause->kind = PG_CAUSE_CALLEE;
		cause->other = ph->funcs[gr[0].callee].id;
		cause->other_base = gr[0].base;
		cause->other_head = gr[0].head;
		cause->other_changed = c->changed[gr[0].callee];
		pg_buf_puts(k->t, "a callee got slower: ");
		for (size_t i = 0; i < n && i < MAX_CALLEES; i++) {
			char a[48], b[48];
			fmt_ns(a, sizeof(a), gr[i].base);
			fmt_ns(b, sizeof(b), gr[i].head);
			pg_buf_printf(
			    k->t, "%s%s %s → %s per run%s", i ? ", " : "",
			    ph->funcs[gr[i].callee].id, a, b,
			    c->changed[gr[i].callee] ? " (its code changed)"
						     : "");
		}
		char a[48];
		fmt_ns(a, sizeof(a), fmax(own, 0));
		pg_buf_printf(k->t, " under it; its own self time grew %s", a);
		if (cause->other_changed)
			set_at(cause, &ph->funcs[gr[0].callee]);
		put_changed(k->t, cause, "above it");
		if (!cause->at_file)
			at_changed(cause, ph);
	}
	free(gr);
	return n > 0;
}

static void cause_input(struct fn_case *k, bool has_code)
{
	struct pg_cause *cause = k->cause;
	cause->kind = PG_CAUSE_INPUT;
	if (cause->code_unknown)
		pg_buf_puts(k->t, "slower per call with the same calls "
				  "(whether its code changed is unknown: no "
				  "code fingerprint on one side)");
	else
		pg_buf_printf(k->t,
			      "%s, same calls, slower per call: likely its "
			      "input",
			      has_code ? "same code" : "a C function");
	put_changed(k->t, cause, "above it");
	at_changed(cause, k->c->h.p);
}

/* The first rule that holds: code, calls, waiting, callee, input. */
static void explain_function(struct bench_ctx *c, struct pg_verdict *v,
			     struct pg_cause *cause)
{
	const struct pg_profile *ph = c->h.p, *pb = c->b.p;
	struct pg_buf t;
	pg_buf_init(&t, 0);
	struct fn_case k = {c,
			    v,
			    cause,
			    pg_profile_find(ph, v->func_id),
			    pg_profile_find(pb, v->func_id),
			    &t};
	if (k.f == PG_NO_FUNC || k.g == PG_NO_FUNC) {
		cause->kind = PG_CAUSE_INPUT;
		pg_buf_puts(&t, "not on both sides");
		cause->text = pg_buf_detach(&t, NULL);
		return;
	}
	const struct pg_func *fh = &ph->funcs[k.f], *fb = &pb->funcs[k.g];
	bool has_code = !(fh->flags & PG_FUNC_BUILTIN) && fh->id[0] != '<';
	cause->code_unknown = has_code && (!fh->code[0] || !fb->code[0]);
	changed_above(c, k.f, cause);

	double bc = (double)v->base_calls, hc = (double)v->head_calls;
	double rc = bc > 0 ? hc / bc : INFINITY;
	double rt = v->base_value > 0 ? v->head_value / v->base_value : NAN;
	bool more_calls = hc > bc && (rc - 1 >= CALLS_MIN_GROWTH) &&
			  (v->metric == PG_METRIC_CALLS || !isfinite(rt) ||
			   rc - 1 >= EXPLAINS * (rt - 1));
	if (c->changed[k.f])
		cause_code(&k, more_calls);
	else if (more_calls)
		cause_calls(&k);
	else if (c->wall_clock && v->metric == PG_METRIC_SELF &&
		 waits_more(c, k.f, k.g))
		cause_waiting(&k);
	else if (!cause_callee(&k))
		cause_input(&k, has_code);
	cause->text = pg_buf_detach(&t, NULL);
}

/* The function whose time on the verdict's clock grew most (wall: self
 * time with its time off the CPU), or PG_NO_FUNC. */
static uint32_t top_growth(const struct bench_ctx *c, bool wall,
			   double *base_out, double *head_out)
{
	const struct pg_profile *ph = c->h.p;
	double best = 0;
	uint32_t top = PG_NO_FUNC;
	for (size_t f = 0; f < ph->nfuncs; f++) {
		uint32_t g = c->to_base[f];
		double head = wall ? c->h.cpu[f] + c->h.off[f] : c->h.self[f];
		double base = g == PG_NO_FUNC ? 0
			      : wall	      ? c->b.cpu[g] + c->b.off[g]
					      : c->b.self[g];
		if (head - base > best) {
			best = head - base;
			top = (uint32_t)f;
			*base_out = base;
			*head_out = head;
		}
	}
	return top;
}

/* A total or wall verdict: the function whose time grew most (callee),
 * or, when that function waits more, waiting. */
static void explain_whole(struct bench_ctx *c, const struct pg_verdict *v,
			  struct pg_cause *cause)
{
	const struct pg_profile *ph = c->h.p;
	bool wall = c->wall_clock || v->metric == PG_METRIC_WALL;
	uint32_t top =
	    top_growth(c, wall, &cause->other_base, &cause->other_head);
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
		uint32_t g = c->to_base[top];
		if (wall && g != PG_NO_FUNC && !c->changed[top] &&
		    waits_more(c, top, g)) {
			cause->kind = PG_CAUSE_WAITING;
			pg_buf_printf(&t, "%s waits more: ", cause->other);
			put_off_cpu(&t, c, top, g, cause);
		} else {
			fmt_ns(a, sizeof(a), cause->other_base);
			fmt_ns(b, sizeof(b), cause->other_head);
			pg_buf_printf(
			    &t, "%s got slower (self %s → %s per run)%s",
			    cause->other, a, b,
			    c->changed[top] ? ", its code changed" : "");
		}
		if (c->changed[top])
			set_at(cause, &ph->funcs[top]);
	}
	put_changed(&t, cause, "in the benchmark");
	if (!cause->at_file)
		at_changed(cause, ph);
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
			cause->off_base = cause->off_head = NAN;
			cause->cpu_base = cause->cpu_head = NAN;
			if (vk->func_id)
				explain_function(&c, vk, cause);
			else
				explain_whole(&c, vk, cause);
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
