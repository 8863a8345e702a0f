/*
 * findings.c - what to do about a profile: ranked findings with the
 * measured evidence and the usual remedy.
 *
 * Every rule reads sums over the profile's trials (functions, edges and
 * the calling-context tree are all summed the same way), so shares are
 * exact ratios of measured times; evidence is reported per trial. The
 * rules and thresholds are documented in docs/analysis.md; each is
 * deliberately conservative (a finding must hold a visible share of the
 * time), because a false finding costs the reader more than a missed one.
 *
 * Not done here: exceptions (the hook does not record them yet) and
 * anything that needs the source code.
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thresholds (shares are of the profile's total). */
#define HOT_PATH_MIN_SHARE	0.15  /* a path's end holds this much */
#define HOT_PATH_SPLIT		0.6   /* no child holds this much of it */
#define HOT_PATH_MAX		3     /* paths reported */
#define OVERHEAD_MIN_CALLS	10000 /* per trial */
#define OVERHEAD_MAX_CALL_COSTS 5     /* per-call time within this many */
#define OVERHEAD_MIN_SHARE	0.05
#define WAIT_MIN_SHARE		0.10 /* of the wall total, off-CPU */
#define WAIT_RATIO		4.0 /* wall >= this x CPU x the machine ratio */
#define REPEAT_MIN_PER_CALL	20  /* callee calls per caller call */
#define REPEAT_MIN_SHARE	0.10
#define RECURSION_MIN_RATIO	5 /* calls / primitive calls */
#define RECURSION_MIN_SHARE	0.10
#define BUILTIN_MIN_SHARE	0.10
#define BUILTIN_ONE_SITE	0.8 /* of its time from one caller */
#define GC_MIN_SHARE		0.05
#define IMPORT_MIN_SHARE	0.10
#define EXC_MIN_PER_RUN		1000 /* exceptions raised per run */
#define EXC_MIN_SHARE		0.05 /* inclusive share of the raiser */

static const char *const kind_names[] = {
    [PG_FINDING_HOT_PATH] = "hot-path",
    [PG_FINDING_CALL_OVERHEAD] = "call-overhead",
    [PG_FINDING_WAITING] = "waiting",
    [PG_FINDING_REPEATED_WORK] = "repeated-work",
    [PG_FINDING_RECURSION] = "recursion",
    [PG_FINDING_BUILTIN_HOTSPOT] = "builtin-hotspot",
    [PG_FINDING_EXCEPTIONS] = "exceptions",
    [PG_FINDING_GC] = "gc",
    [PG_FINDING_IMPORT] = "import",
};

const char *pg_finding_kind_name(enum pg_finding_kind k)
{
	return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0])
		   ? kind_names[k]
		   : "?";
}

/* Per-function sums over the trials. */
struct fsum {
	double calls, pcalls, self_ns, incl_ns;
};

struct ctx {
	const struct pg_analysis_input *in;
	const struct pg_profile *p;
	double n;     /* trials */
	double total; /* sum of the trials' totals */
	struct fsum *f;
	struct fsum *cf; /* CPU-clock sums per function of p, scaled to p's
			    trial count; NULL without a CPU profile */
	double ratio;	 /* typical wall / CPU ratio (preemption) */
	uint32_t main;	 /* the script's module code, or PG_NO_FUNC */
	struct pg_findings *out;
};

/* The script's own module code: named, or the top-level module code with
 * the most time. */
static uint32_t main_module(const struct pg_analysis_input *in)
{
	const struct pg_profile *p = in->p;
	if (in->main_module)
		return pg_profile_find(p, in->main_module);
	uint32_t best = PG_NO_FUNC;
	int64_t best_t = -1;
	for (size_t i = 1; i < p->nnodes; i++) {
		const struct pg_node *nd = &p->nodes[i];
		if (nd->parent == 0 &&
		    pg_str_ends(p->funcs[nd->func].id, ":<module>") &&
		    nd->incl_ns > best_t) {
			best_t = nd->incl_ns;
			best = nd->func;
		}
	}
	return best;
}

static void sums(const struct pg_profile *p, struct fsum *f)
{
	for (size_t t = 0; t < p->ntrials; t++)
		for (size_t i = 0; i < p->nfuncs; i++) {
			const struct pg_sample *s = &p->trials[t].samples[i];
			f[i].calls += (double)s->calls;
			f[i].pcalls += (double)s->pcalls;
			f[i].self_ns += (double)s->self_ns;
			f[i].incl_ns += (double)s->incl_ns;
		}
}

static int by_ratio(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/*
 * The CPU profile's sums mapped onto p's functions, and the typical ratio
 * of wall to CPU self time (the CPU-weighted median over functions): on a
 * busy machine every function's wall time exceeds its CPU time by about
 * that ratio, which is preemption, not waiting.
 */
static void cpu_sums(struct ctx *c)
{
	const struct pg_profile *p = c->p, *cpu = c->in->cpu;
	if (!cpu || !cpu->ntrials)
		return;
	struct fsum *raw = pg_calloc(cpu->nfuncs + 1, sizeof(*raw));
	sums(cpu, raw);
	c->cf = pg_calloc(p->nfuncs + 1, sizeof(*c->cf));
	double scale = c->n / (double)cpu->ntrials, cpu_total = 0;
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		uint32_t j = pg_profile_find(cpu, p->funcs[i].id);
		if (j == PG_NO_FUNC)
			continue;
		c->cf[i] = raw[j];
		c->cf[i].calls *= scale;
		c->cf[i].pcalls *= scale;
		c->cf[i].self_ns *= scale;
		c->cf[i].incl_ns *= scale;
		cpu_total += fmax(0, c->cf[i].self_ns);
	}
	free(raw);
	double(*pairs)[2] = pg_calloc(p->nfuncs + 1, sizeof(*pairs));
	size_t n = 0;
	double weight = 0;
	for (uint32_t i = 0; i < p->nfuncs; i++)
		if (c->cf[i].self_ns > 0.01 * cpu_total &&
		    c->f[i].self_ns > 0) {
			pairs[n][0] = c->f[i].self_ns / c->cf[i].self_ns;
			pairs[n++][1] = c->cf[i].self_ns;
			weight += c->cf[i].self_ns;
		}
	qsort(pairs, n, sizeof(*pairs), by_ratio);
	double acc = 0;
	for (size_t k = 0; k < n; k++) {
		acc += pairs[k][1];
		if (acc >= weight / 2) {
			c->ratio = fmax(1, pairs[k][0]);
			break;
		}
	}
	free(pairs);
}

/* Time per call of i, on the CPU clock when there is one (wall time per
 * call is inflated by preemption on a busy machine). */
static double per_call_ns(const struct ctx *c, uint32_t i)
{
	const struct fsum *s =
	    c->cf && c->cf[i].calls > 0 ? &c->cf[i] : &c->f[i];
	return s->incl_ns / fmax(1, s->calls);
}

static struct pg_finding *add(struct ctx *c, enum pg_finding_kind kind,
			      uint32_t func, double share, const char *remedy)
{
	struct pg_findings *o = c->out;
	pg_grow((void **)&o->v, &o->cap, o->n + 1, sizeof(*o->v));
	struct pg_finding *f = &o->v[o->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->func = func;
	f->share = share;
	f->remedy = remedy;
	return f;
}

static void num(struct pg_finding *f, const char *key, double value)
{
	if (f->nevidence < PG_EVIDENCE_MAX)
		f->evidence[f->nevidence++] =
		    (struct pg_evidence){key, value, NULL};
}

static void text(struct pg_finding *f, const char *key, const char *value)
{
	if (f->nevidence < PG_EVIDENCE_MAX)
		f->evidence[f->nevidence++] =
		    (struct pg_evidence){key, 0, pg_strdup(value)};
}

/* The caller whose edge brings f the most time (self or inclusive). */
static uint32_t top_caller(const struct pg_profile *p, uint32_t f, bool by_self,
			   double *time_out, double *calls_out)
{
	uint32_t best = PG_NO_FUNC;
	double best_t = -1;
	for (size_t e = 0; e < p->nedges; e++) {
		const struct pg_edge *ed = &p->edges[e];
		double t = (double)(by_self ? ed->self_ns : ed->incl_ns);
		if (ed->callee == f && ed->caller != f && t > best_t) {
			best_t = t;
			best = ed->caller;
			if (calls_out)
				*calls_out = (double)ed->calls;
		}
	}
	if (time_out)
		*time_out = best_t;
	return best;
}

static bool is_builtin(const struct pg_profile *p, uint32_t f)
{
	return p->funcs[f].flags & PG_FUNC_BUILTIN;
}

static bool is_module(const struct pg_profile *p, uint32_t f)
{
	return pg_str_ends(p->funcs[f].id, ":<module>");
}

/*
 * The import system's own work: its frozen modules, and what they call
 * for it (exec of a module's code, reading .pyc files, loading extension
 * modules). Nested imports look like recursion and reading files like
 * waiting; all of it is import time, which the import rule charges to the
 * module whose top level was run, so the other rules skip it.
 */
static bool is_import_system(const struct pg_profile *p, uint32_t f)
{
	if (!strncmp(p->funcs[f].id, "<frozen ", 8))
		return true;
	uint32_t caller = top_caller(p, f, false, NULL, NULL);
	return caller != PG_NO_FUNC &&
	       !strncmp(p->funcs[caller].id, "<frozen importlib", 17);
}

/*
 * Marks pick[i] for the nodes that end a hot path: at depth 2 or more,
 * holding HOT_PATH_MIN_SHARE of total, no child holding HOT_PATH_SPLIT of
 * them, outermost in a recursion, and not the prefix of another path.
 * depth[i]: node i's depth (the root 0).
 */
static void mark_hot_paths(const struct pg_profile *p, double total,
			   size_t *depth, bool *pick)
{
	double *max_child = pg_calloc(p->nnodes, sizeof(double));
	for (size_t i = 1; i < p->nnodes; i++) {
		const struct pg_node *nd = &p->nodes[i];
		depth[i] = depth[nd->parent] + 1;
		/* a recursive call continues its caller's path */
		if ((double)nd->incl_ns > max_child[nd->parent] &&
		    (nd->parent == 0 || p->nodes[nd->parent].func != nd->func))
			max_child[nd->parent] = (double)nd->incl_ns;
	}
	for (size_t i = 1; i < p->nnodes; i++) {
		double incl = (double)p->nodes[i].incl_ns;
		pick[i] = depth[i] >= 2 && incl >= HOT_PATH_MIN_SHARE * total &&
			  max_child[i] < HOT_PATH_SPLIT * incl;
		/* inside a recursion, the outermost call stands for it */
		for (uint32_t a = p->nodes[i].parent; pick[i] && a != 0;
		     a = p->nodes[a].parent)
			if (p->nodes[a].func == p->nodes[i].func)
				pick[i] = false;
	}
	/* a path's prefix is not a path of its own */
	for (size_t i = 1; i < p->nnodes; i++)
		if (pick[i])
			for (uint32_t a = p->nodes[i].parent; a != 0;
			     a = p->nodes[a].parent)
				pick[a] = false;
	free(max_child);
}

/* "a > b > c": the functions from the root's child down to node. */
static void path_text(const struct pg_profile *p, size_t node,
		      struct pg_buf *path)
{
	uint32_t chain[64];
	size_t len = 0;
	for (uint32_t a = (uint32_t)node; a != 0 && len < 64;
	     a = p->nodes[a].parent)
		chain[len++] = a;
	for (size_t j = len; j-- > 0;)
		pg_buf_printf(path, "%s%s", j + 1 < len ? " > " : "",
			      p->funcs[p->nodes[chain[j]].func].id);
}

/* The finding for the path ending at node of p (the wall or CPU profile;
 * n trials, total time), charged to its function in the wall profile. */
static void add_hot_path(struct ctx *c, const struct pg_profile *p, size_t node,
			 size_t depth, double total, double n)
{
	const struct pg_node *nd = &p->nodes[node];
	uint32_t func =
	    p == c->p ? nd->func : pg_profile_find(c->p, p->funcs[nd->func].id);
	if (func == PG_NO_FUNC)
		return;
	struct pg_buf path;
	pg_buf_init(&path, 0);
	path_text(p, node, &path);
	struct pg_finding *f =
	    add(c, PG_FINDING_HOT_PATH, func, (double)nd->incl_ns / total,
		"start here: this call path holds the time; make its last "
		"function cheaper or call it less often on this path");
	text(f, "path", path.data ? path.data : "");
	num(f, "depth", (double)depth);
	num(f, "calls", (double)nd->calls / n);
	num(f, "incl_ns", (double)nd->incl_ns / n);
	num(f, "self_ns", (double)nd->self_ns / n);
	pg_buf_release(&path);
}

/* Hot paths: nodes holding much time where no child takes most of it. */
static void hot_paths(struct ctx *c)
{
	/* CPU-clock shares when there are some: a burst of preemption
	 * during one call must not make its path look hot */
	const struct pg_profile *p = c->p, *cpu = c->in->cpu;
	double total = c->total, n = c->n;
	if (cpu && cpu->ntrials && cpu->nnodes >= 2) {
		p = cpu;
		total = 0;
		for (size_t t = 0; t < cpu->ntrials; t++)
			total += (double)cpu->trials[t].total_ns;
		n = (double)cpu->ntrials;
	}
	if (p->nnodes < 2 || total <= 0)
		return;
	size_t *depth = pg_calloc(p->nnodes, sizeof(size_t));
	bool *pick = pg_calloc(p->nnodes, sizeof(bool));
	mark_hot_paths(p, total, depth, pick);
	/* the HOT_PATH_MAX paths holding the most time, most first */
	for (int k = 0; k < HOT_PATH_MAX; k++) {
		size_t best = 0;
		for (size_t i = 1; i < p->nnodes; i++)
			if (pick[i] && (!best || p->nodes[i].incl_ns >
						     p->nodes[best].incl_ns))
				best = i;
		if (!best)
			break;
		pick[best] = false;
		add_hot_path(c, p, best, depth[best], total, n);
	}
	free(depth);
	free(pick);
}

static void call_overhead(struct ctx *c, uint32_t i, bool *tiny)
{
	double cost = c->in->call_cost_ns;
	const struct fsum *s = &c->f[i];
	/* recursive functions are the recursion rule's */
	if (cost <= 0 || is_builtin(c->p, i) ||
	    s->calls / c->n < OVERHEAD_MIN_CALLS || s->calls >= 2 * s->pcalls)
		return;
	double per_call = per_call_ns(c, i);
	double share = s->incl_ns / c->total;
	if (per_call > OVERHEAD_MAX_CALL_COSTS * cost ||
	    share < OVERHEAD_MIN_SHARE)
		return;
	tiny[i] = true;
	struct pg_finding *f = add(
	    c, PG_FINDING_CALL_OVERHEAD, i, share,
	    "inline it into its caller, or batch or vectorise the work so "
	    "that it is called far less often (a comprehension, map, numpy)");
	num(f, "calls", s->calls / c->n);
	num(f, "per_call_ns", per_call);
	num(f, "call_cost_ns", cost);
	num(f, "overhead_share", fmin(1, cost / per_call) * share);
	uint32_t caller = top_caller(c->p, i, false, NULL, NULL);
	if (caller != PG_NO_FUNC)
		text(f, "caller", c->p->funcs[caller].id);
}

static void waiting(struct ctx *c, uint32_t i, bool *waits)
{
	if (!c->cf || is_import_system(c->p, i) ||
	    !strcmp(c->p->funcs[i].id, "<gc>"))
		return;
	double cpu_self = c->cf[i].self_ns, wall_self = c->f[i].self_ns;
	double off = wall_self - c->ratio * fmax(0, cpu_self);
	if (off < WAIT_MIN_SHARE * c->total ||
	    wall_self < WAIT_RATIO * c->ratio * cpu_self)
		return;
	waits[i] = true;
	struct pg_finding *f =
	    add(c, PG_FINDING_WAITING, i, off / c->total,
		"it waits (I/O, sleep, lock) rather than computes: overlap the "
		"waits (threads, asyncio), batch the requests, or cache the "
		"results");
	num(f, "wall_ns", wall_self / c->n);
	num(f, "cpu_ns", cpu_self / c->n);
	num(f, "calls", c->f[i].calls / c->n);
	num(f, "machine_wall_per_cpu", c->ratio);
	uint32_t caller = top_caller(c->p, i, true, NULL, NULL);
	if (caller != PG_NO_FUNC)
		text(f, "caller", c->p->funcs[caller].id);
}

static const char *builtin_remedy(const char *id)
{
	if (strstr(id, "re.Pattern.") || strstr(id, "_sre.SRE_Pattern."))
		return "the pattern is compiled already: call it less often "
		       "(one combined pattern, or match whole lines at once), "
		       "or use str methods for fixed strings";
	if (strstr(id, ":re.") || strstr(id, "_sre."))
		return "compile the pattern once (re.compile) outside the "
		       "loop, or use str methods for fixed strings";
	if (strstr(id, "sort"))
		return "sort once outside the loop, or keep the data ordered "
		       "(bisect.insort, heapq)";
	if (strstr(id, "join") || strstr(id, "format"))
		return "build the string once: collect the parts and join "
		       "them at the end";
	return "it is called from one place: call it less often there "
	       "(hoist it out of the loop, batch the calls, cache results)";
}

static void repeated_work(struct ctx *c, const bool *tiny)
{
	const struct pg_profile *p = c->p;
	for (size_t e = 0; e < p->nedges; e++) {
		const struct pg_edge *ed = &p->edges[e];
		/* tiny callees are call overhead, not repeated work */
		if (ed->caller == ed->callee || is_builtin(p, ed->callee) ||
		    tiny[ed->callee])
			continue;
		double caller_calls = c->f[ed->caller].calls;
		double per_caller = (double)ed->calls / fmax(1, caller_calls);
		double share = (double)ed->incl_ns / c->total;
		double per_call =
		    (double)ed->incl_ns / fmax(1, (double)ed->calls);
		/* tiny callees are call overhead, not repeated work */
		if (per_caller < REPEAT_MIN_PER_CALL ||
		    share < REPEAT_MIN_SHARE ||
		    (c->in->call_cost_ns > 0 &&
		     per_call <= OVERHEAD_MAX_CALL_COSTS * c->in->call_cost_ns))
			continue;
		const char *id = p->funcs[ed->callee].id;
		struct pg_finding *f = add(
		    c, PG_FINDING_REPEATED_WORK, ed->callee, share,
		    strstr(id, "/re/") || strstr(id, "/re.py")
			? builtin_remedy(":re.")
			: "called many times per call of its caller: hoist the "
			  "work out of the loop, or cache it "
			  "(functools.lru_cache) when the arguments repeat");
		text(f, "caller", p->funcs[ed->caller].id);
		num(f, "calls_per_caller_call", per_caller);
		num(f, "calls", (double)ed->calls / c->n);
		num(f, "per_call_ns", per_call);
	}
}

static void recursion(struct ctx *c, uint32_t i)
{
	const struct fsum *s = &c->f[i];
	double share = s->incl_ns / c->total;
	if (s->pcalls <= 0 || s->calls < RECURSION_MIN_RATIO * s->pcalls ||
	    share < RECURSION_MIN_SHARE || is_module(c->p, i) ||
	    is_import_system(c->p, i))
		return;
	struct pg_finding *f =
	    add(c, PG_FINDING_RECURSION, i, share,
		"memoise it (functools.cache) if the same subproblems recur, "
		"or rewrite the recursion as a loop");
	num(f, "calls", s->calls / c->n);
	num(f, "outer_calls", s->pcalls / c->n);
	num(f, "calls_per_outer_call", s->calls / s->pcalls);
}

static void builtin_hotspot(struct ctx *c, uint32_t i, const bool *waits)
{
	const struct fsum *s = &c->f[i];
	double share = s->self_ns / c->total;
	if (!is_builtin(c->p, i) || waits[i] || share < BUILTIN_MIN_SHARE)
		return;
	double from = 0, calls = 0;
	uint32_t caller = top_caller(c->p, i, true, &from, &calls);
	if (caller == PG_NO_FUNC || from < BUILTIN_ONE_SITE * s->self_ns)
		return;
	if (is_import_system(c->p, i))
		return;
	const char *id = c->p->funcs[i].id;
	struct pg_finding *f =
	    add(c, PG_FINDING_BUILTIN_HOTSPOT, i, share, builtin_remedy(id));
	text(f, "caller", c->p->funcs[caller].id);
	num(f, "calls", calls / c->n);
	num(f, "per_call_ns", s->self_ns / fmax(1, s->calls));
	num(f, "from_caller_share", from / s->self_ns);
}

static void gc_and_import(struct ctx *c, uint32_t i)
{
	const struct pg_profile *p = c->p;
	const char *id = p->funcs[i].id;
	const struct fsum *s = &c->f[i];
	if (!strcmp(id, "<gc>") && s->self_ns >= GC_MIN_SHARE * c->total) {
		struct pg_finding *f = add(
		    c, PG_FINDING_GC, i, s->self_ns / c->total,
		    "create fewer short-lived cyclic objects, call gc.freeze() "
		    "after start-up, or raise the collection threshold");
		num(f, "collections", s->calls / c->n);
		num(f, "pause_ns", s->self_ns / c->n);
		uint32_t caller = top_caller(p, i, true, NULL, NULL);
		if (caller != PG_NO_FUNC)
			text(f, "where", p->funcs[caller].id);
		return;
	}
	if (!is_module(p, i) || s->incl_ns < IMPORT_MIN_SHARE * c->total ||
	    i == c->main)
		return;
	struct pg_finding *f =
	    add(c, PG_FINDING_IMPORT, i, s->incl_ns / c->total,
		"import it lazily where it is used, or move work out of its "
		"module top level");
	num(f, "incl_ns", s->incl_ns / c->n);
	num(f, "self_ns", s->self_ns / c->n);
}

static int by_share(const void *a, const void *b)
{
	const struct pg_finding *x = a, *y = b;
	return (x->share < y->share) - (x->share > y->share);
}

/*
 * Exceptions raised often on a hot path: a function raising at least
 * EXC_MIN_PER_RUN per run (in the run that counted them) whose inclusive
 * time holds EXC_MIN_SHARE of p's total. Where they were handled is the
 * function that handled most (known from 3.12 on).
 */
static void exceptions(struct ctx *c)
{
	const struct pg_profile *x =
	    c->in->exceptions ? c->in->exceptions : c->p;
	double runs = x->ntrials ? (double)x->ntrials : 1;
	uint32_t handler = PG_NO_FUNC;
	for (uint32_t g = 0; g < x->nfuncs; g++)
		if (x->funcs[g].handled &&
		    (handler == PG_NO_FUNC ||
		     x->funcs[g].handled > x->funcs[handler].handled))
			handler = g;
	for (uint32_t g = 0; g < x->nfuncs; g++) {
		const struct pg_func *fx = &x->funcs[g];
		if ((double)fx->raised / runs < EXC_MIN_PER_RUN)
			continue;
		uint32_t i = pg_profile_find(c->p, fx->id);
		if (i == PG_NO_FUNC)
			continue;
		double share = c->f[i].incl_ns / c->total;
		if (share < EXC_MIN_SHARE)
			continue;
		struct pg_finding *f = add(
		    c, PG_FINDING_EXCEPTIONS, i, share,
		    "exceptions as control flow on a hot path cost a traceback "
		    "each: test first (`in`, dict.get, str.isdigit) or move "
		    "the "
		    "try out of the loop");
		num(f, "raised", (double)fx->raised / runs);
		num(f, "handled", (double)fx->handled / runs);
		num(f, "raised_per_call",
		    (double)fx->raised / runs / fmax(1, c->f[i].calls / c->n));
		if (handler != PG_NO_FUNC)
			text(f, "handled_in", x->funcs[handler].id);
	}
}

void pg_analysis_findings(const struct pg_analysis_input *in,
			  struct pg_findings *out)
{
	memset(out, 0, sizeof(*out));
	const struct pg_profile *p = in->p;
	struct ctx c = {.in = in,
			.p = p,
			.n = (double)p->ntrials,
			.ratio = 1,
			.main = PG_NO_FUNC,
			.out = out};
	for (size_t t = 0; t < p->ntrials; t++)
		c.total += (double)p->trials[t].total_ns;
	if (!p->ntrials || c.total <= 0)
		return;
	c.main = main_module(in);
	c.f = pg_calloc(p->nfuncs + 1, sizeof(*c.f));
	bool *waits = pg_calloc(p->nfuncs + 1, sizeof(bool));
	bool *tiny = pg_calloc(p->nfuncs + 1, sizeof(bool));
	sums(p, c.f);
	cpu_sums(&c);
	hot_paths(&c);
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		waiting(&c, i, waits);
		call_overhead(&c, i, tiny);
		recursion(&c, i);
		builtin_hotspot(&c, i, waits);
		gc_and_import(&c, i);
	}
	repeated_work(&c, tiny);
	exceptions(&c);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_share);
	free(waits);
	free(tiny);
	free(c.f);
	free(c.cf);
}

void pg_findings_release(struct pg_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		for (size_t k = 0; k < f->v[i].nevidence; k++)
			free(f->v[i].evidence[k].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void pg_findings_write_json(const struct pg_findings *f,
			    const struct pg_profile *p, const char *bench,
			    struct pg_jw *w)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct pg_finding *x = &f->v[i];
		const struct pg_func *fn = &p->funcs[x->func];
		pg_jw_obj_begin(w);
		if (bench) {
			pg_jw_key(w, "bench");
			pg_jw_str(w, bench);
		}
		pg_jw_key(w, "kind");
		pg_jw_str(w, pg_finding_kind_name(x->kind));
		pg_jw_key(w, "function");
		pg_jw_str(w, fn->id);
		pg_jw_key(w, "file");
		pg_jw_str(w, fn->file);
		pg_jw_key(w, "line");
		pg_jw_int(w, fn->line);
		pg_jw_key(w, "share");
		pg_jw_double(w, x->share);
		pg_jw_key(w, "evidence");
		pg_jw_obj_begin(w);
		for (size_t k = 0; k < x->nevidence; k++) {
			pg_jw_key(w, x->evidence[k].key);
			if (x->evidence[k].text)
				pg_jw_str(w, x->evidence[k].text);
			else
				pg_jw_double(w, x->evidence[k].value);
		}
		pg_jw_obj_end(w);
		pg_jw_key(w, "remedy");
		pg_jw_str(w, x->remedy);
		pg_jw_obj_end(w);
	}
}

void pg_finding_format(const struct pg_finding *f, const struct pg_profile *p,
		       struct pg_buf *out)
{
	const struct pg_func *fn = &p->funcs[f->func];
	pg_buf_printf(out, "%-15s %5.1f%%  %s", pg_finding_kind_name(f->kind),
		      f->share * 100, fn->id);
	if (fn->file && fn->line)
		pg_buf_printf(out, " (%s:%d)", fn->file, fn->line);
	pg_buf_puts(out, "\n                        ");
	for (size_t k = 0; k < f->nevidence; k++) {
		const struct pg_evidence *e = &f->evidence[k];
		pg_buf_printf(out, "%s%s ", k ? ", " : "", e->key);
		if (e->text)
			pg_buf_puts(out, e->text);
		else if (e->value == floor(e->value) && fabs(e->value) < 1e15)
			pg_buf_printf(out, "%.0f", e->value);
		else
			pg_buf_printf(out, "%.3g", e->value);
	}
	pg_buf_printf(out, "\n                        -> %s", f->remedy);
}
