/*
 * core.c - accounting for the profiling hook: the calling-context tree,
 * per-thread stacks, the derivation of per-function figures and edges from
 * the tree, and the wire writer.
 *
 * The per-event work is in core.h (inline); this file has the slow paths
 * (hash probe, node creation, stack growth, unmatched leaves) and the
 * write-time work. Compensated times may be slightly negative for a single
 * node (calibration error on an empty body); they are never clamped per
 * node or per frame (that would bias them upwards), only the totals written
 * are clamped at 0, and a function's inclusive time is written as at least
 * its self time.
 *
 * It does not know about Python, clocks, or files beyond the FILE * given.
 *
 * The file is over 900 lines: the tree, the summary and the writer share
 * private helpers (the map, grow) and the node layout, and it is tested
 * as one unit without Python (tests/hook/hook_core_test.c). The wire
 * writer (assign_outputs to pg_hook_core_write) is the part to move to a
 * file of its own when it grows further.
 */
#include "core.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- map ---------------------------------------------------------------- */

static uint32_t map_slot(uint64_t key, uint32_t mask)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> 32 ^ h) & mask;
}

static int map_init(struct pg_hook_map *m, uint32_t cap)
{
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		m->keys = NULL;
		m->vals = NULL;
		return -1;
	}
	memset(m->vals, 0xff, cap * sizeof(*m->vals));
	m->mask = cap - 1;
	m->count = 0;
	return 0;
}

static void map_release(struct pg_hook_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
}

static uint32_t map_get(const struct pg_hook_map *m, uint64_t key)
{
	uint32_t i = map_slot(key, m->mask);
	while (m->vals[i] != PG_HOOK_NONE) {
		if (m->keys[i] == key)
			return m->vals[i];
		i = (i + 1) & m->mask;
	}
	return PG_HOOK_NONE;
}

static void map_put_fresh(struct pg_hook_map *m, uint64_t key, uint32_t val)
{
	uint32_t i = map_slot(key, m->mask);
	while (m->vals[i] != PG_HOOK_NONE)
		i = (i + 1) & m->mask;
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
}

/* Insert a key known to be absent; grows at 50% load. Returns 0 or -1. */
static int map_put(struct pg_hook_map *m, uint64_t key, uint32_t val)
{
	if ((m->count + 1) * 2 > m->mask + 1) {
		struct pg_hook_map bigger;
		if (map_init(&bigger, (m->mask + 1) * 2))
			return -1;
		for (uint32_t i = 0; i <= m->mask; i++)
			if (m->vals[i] != PG_HOOK_NONE)
				map_put_fresh(&bigger, m->keys[i], m->vals[i]);
		map_release(m);
		*m = bigger;
	}
	map_put_fresh(m, key, val);
	return 0;
}

/* ---- growth helpers ---------------------------------------------------- */

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	uint32_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -1;
	memset((char *)p + (size_t)*cap * elem, 0,
	       (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void root_init(struct pg_hook_core *core)
{
	core->nodes[0] = (struct pg_hook_node){
	    .parent = 0, .func = PG_HOOK_NONE, .last_child = PG_HOOK_NONE};
	core->nnodes = 1;
}

int pg_hook_core_init(struct pg_hook_core *core)
{
	memset(core, 0, sizeof(*core));
	if (map_init(&core->func_map, 1024))
		goto fail;
	if (grow((void **)&core->nodes, &core->nodes_cap, 1024,
		 sizeof(*core->nodes)))
		goto fail;
	core->node_slots = malloc(2048 * sizeof(*core->node_slots));
	if (!core->node_slots)
		goto fail;
	memset(core->node_slots, 0xff, 2048 * sizeof(*core->node_slots));
	core->node_mask = 2047;
	core->max_nodes = PG_HOOK_MAX_NODES;
	root_init(core);
	return 0;
fail:
	pg_hook_core_release(core);
	return -1;
}

void pg_hook_core_release(struct pg_hook_core *core)
{
	map_release(&core->func_map);
	free(core->funcs);
	free(core->nodes);
	free(core->node_slots);
	free(core->off_fp);
	struct pg_hook_thread *th = core->threads;
	while (th) {
		struct pg_hook_thread *next = th->next;
		free(th->stack);
		free(th);
		th = next;
	}
	memset(core, 0, sizeof(*core));
}

uint32_t pg_hook_core_find(const struct pg_hook_core *core, const void *key)
{
	return map_get(&core->func_map, (uint64_t)(uintptr_t)key);
}

int pg_hook_core_add(struct pg_hook_core *core, const void *key, void *obj,
		     void *obj2, uint32_t flags, uint32_t *out)
{
	if (core->nfuncs == PG_HOOK_NONE - 1 ||
	    grow((void **)&core->funcs, &core->funcs_cap, core->nfuncs + 1,
		 sizeof(*core->funcs)))
		return -1;
	if (map_put(&core->func_map, (uint64_t)(uintptr_t)key, core->nfuncs))
		return -1;
	struct pg_hook_func *f = &core->funcs[core->nfuncs];
	memset(f, 0, sizeof(*f));
	f->key = key;
	f->obj = obj;
	f->obj2 = obj2;
	f->flags = flags;
	f->start_lasti = -1;
	*out = core->nfuncs++;
	return 0;
}

struct pg_hook_thread *pg_hook_core_thread_new(struct pg_hook_core *core)
{
	struct pg_hook_thread *th = calloc(1, sizeof(*th));
	if (!th)
		return NULL;
	th->rq_ns = -1;
	th->vcsw = -1;
	th->next = core->threads;
	core->threads = th;
	return th;
}

/* ---- the tree ------------------------------------------------------------ */

static uint32_t node_slot(uint32_t parent, const void *key, uint32_t mask)
{
	uint64_t h = ((uint64_t)(uintptr_t)key ^ (uint64_t)parent << 40) *
		     0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> 32) & mask;
}

uint32_t pg_hook_core_lookup(struct pg_hook_core *core, uint32_t parent,
			     const void *key)
{
	uint32_t i = node_slot(parent, key, core->node_mask);
	uint32_t n;
	while ((n = core->node_slots[i]) != PG_HOOK_NONE) {
		const struct pg_hook_node *nd = &core->nodes[n];
		if (nd->key == key && nd->parent == parent) {
			core->nodes[parent].last_child = n;
			return n;
		}
		i = (i + 1) & core->node_mask;
	}
	return PG_HOOK_NONE;
}

static void slot_put(uint32_t *slots, uint32_t mask, uint32_t parent,
		     const void *key, uint32_t n)
{
	uint32_t i = node_slot(parent, key, mask);
	while (slots[i] != PG_HOOK_NONE)
		i = (i + 1) & mask;
	slots[i] = n;
}

/* Double the slot table (kept at most half full). Returns 0 or -1. */
static int grow_slots(struct pg_hook_core *core)
{
	uint32_t cap = (core->node_mask + 1) * 2;
	uint32_t *slots = malloc((size_t)cap * sizeof(*slots));
	if (!slots)
		return -1;
	memset(slots, 0xff, (size_t)cap * sizeof(*slots));
	for (uint32_t n = 1; n < core->nnodes; n++)
		slot_put(slots, cap - 1, core->nodes[n].parent,
			 core->nodes[n].key, n);
	free(core->node_slots);
	core->node_slots = slots;
	core->node_mask = cap - 1;
	return 0;
}

uint32_t pg_hook_core_new_child(struct pg_hook_core *core, uint32_t parent,
				const void *key, uint32_t func, uint32_t kind)
{
	if (core->nnodes >= core->max_nodes)
		return PG_HOOK_NONE; /* the push counts the dropped call */
	if ((core->nnodes + 1) * 2 > core->node_mask + 1 && grow_slots(core))
		goto oom;
	if (grow((void **)&core->nodes, &core->nodes_cap, core->nnodes + 1,
		 sizeof(*core->nodes)))
		goto oom;
	uint32_t n = core->nnodes++;
	core->nodes[n] = (struct pg_hook_node){
	    .key = key,
	    .parent = parent,
	    .func = func,
	    .last_child = PG_HOOK_NONE,
	    .kind = kind,
	};
	slot_put(core->node_slots, core->node_mask, parent, key, n);
	core->nodes[parent].last_child = n;
	return n;
oom:
	core->errors++;
	return PG_HOOK_NONE;
}

/* ---- events -------------------------------------------------------------- */

void pg_hook_core_off(struct pg_hook_core *core,
		      const struct pg_hook_thread *th, int64_t off_ticks)
{
	uint32_t n = pg_hook_core_top(th);
	if (n >= core->nnodes || off_ticks <= 0)
		return; /* a frame below a full tree: charged to no one */
	if (grow((void **)&core->off_fp, &core->off_cap, core->nnodes,
		 sizeof(*core->off_fp))) {
		core->errors++;
		return;
	}
	core->off_fp[n] += off_ticks << PG_HOOK_FP;
}

int pg_hook_core_grow_stack(struct pg_hook_thread *th)
{
	return grow((void **)&th->stack, &th->cap, th->depth + 1,
		    sizeof(*th->stack));
}

/* Pop the top frame of th at now_ticks and charge it. */
static void pop_top(struct pg_hook_core *core, struct pg_hook_thread *th,
		    int64_t now_ticks)
{
	struct pg_hook_frame *fr = &th->stack[--th->depth];
	int64_t v = ((int64_t)now_ticks << PG_HOOK_FP) - th->ovh_fp;
	th->ovh_fp += core->leave_fp[fr->kind];
	if (fr->node != PG_HOOK_NONE)
		core->nodes[fr->node].incl_fp += v - fr->enter_fp;
}

void pg_hook_core_pop_slow(struct pg_hook_core *core, struct pg_hook_thread *th,
			   const void *key, int64_t now_ticks)
{
	uint32_t i = th->depth;
	while (i > 0 && th->stack[i - 1].key != key)
		i--;
	if (i == 0) {
		if (th->allowance > 0)
			th->allowance--;
		else
			core->unmatched++;
		return;
	}
	/* Frames above the match lost their exit: close them here. */
	while (th->depth > i) {
		core->unmatched++;
		pop_top(core, th, now_ticks);
	}
	pop_top(core, th, now_ticks);
}

/* ---- cpu mode -------------------------------------------------------------- */

/* Weight of a periodic window's not-running fraction in bg_rate. */
#define CPU_BG_WEIGHT 0.25

int64_t pg_hook_core_cpu_check(struct pg_hook_thread *th, int64_t start,
			       int64_t end, int64_t t1, int64_t cpu_ns,
			       double ns_per_tick, int long_interval)
{
	int64_t cpu_ticks =
	    (int64_t)((double)(cpu_ns - th->ckpt_cpu_ns) / ns_per_tick);
	/* Not running from the checkpoint to end. The check's own span
	 * [end, t1] is its caller's to exclude: counted here as if it had
	 * all been lost, so that a preemption within it is never charged
	 * twice (otherwise its CPU time, a fraction of a microsecond, is
	 * charged to the interval). */
	int64_t lost = (t1 - th->ckpt_ticks) - cpu_ticks - (t1 - end);
	if (lost < 0)
		lost = 0;
	if (!long_interval) {
		int64_t window = end - th->ckpt_ticks;
		if (window > 0) {
			double f = (double)lost / (double)window;
			if (f > 1)
				f = 1;
			th->bg_rate += CPU_BG_WEIGHT * (f - th->bg_rate);
		}
		return 0;
	}
	int64_t before = start - th->ckpt_ticks;
	if (before > 0)
		lost -= (int64_t)(th->bg_rate * (double)before);
	if (lost > end - start)
		lost = end - start;
	return lost > 0 ? lost : 0;
}

int64_t pg_hook_core_blocked(struct pg_hook_thread *th, int64_t lost_ticks,
			     int64_t t1, int64_t cpu_ns, int64_t rq_ns,
			     double ns_per_tick)
{
	int64_t prev = th->rq_ns;
	double off_ns = (double)(t1 - th->rq_ticks) * ns_per_tick -
			(double)(cpu_ns - th->rq_cpu_ns);
	th->rq_ns = rq_ns;
	th->rq_ticks = t1;
	th->rq_cpu_ns = cpu_ns;
	if (rq_ns < 0 || prev < 0 || rq_ns < prev)
		return lost_ticks;
	double blocked = (off_ns - (double)(rq_ns - prev)) / ns_per_tick;
	if (blocked <= 0)
		return 0;
	return blocked < (double)lost_ticks ? (int64_t)blocked : lost_ticks;
}

void pg_hook_core_close_thread(struct pg_hook_core *core,
			       struct pg_hook_thread *th, int64_t now_ticks)
{
	while (th->depth > 0)
		pop_top(core, th, now_ticks);
}

void pg_hook_core_reset(struct pg_hook_core *core)
{
	memset(core->node_slots, 0xff,
	       ((size_t)core->node_mask + 1) * sizeof(*core->node_slots));
	root_init(core);
	core->unmatched = 0;
	core->ref_events = 0;
	core->dropped_nodes = 0;
	core->errors = 0;
	if (core->off_fp)
		memset(core->off_fp, 0, core->off_cap * sizeof(*core->off_fp));
	for (uint32_t i = 0; i < core->nfuncs; i++)
		core->funcs[i].flags &= ~(uint32_t)PG_HOOK_FOLDED;
	for (struct pg_hook_thread *th = core->threads; th; th = th->next) {
		th->allowance += th->depth;
		th->depth = 0;
		th->events = 0;
	}
}

uint32_t pg_hook_core_threads_ran(const struct pg_hook_core *core)
{
	uint32_t n = 0;
	for (const struct pg_hook_thread *th = core->threads; th; th = th->next)
		n += th->events != 0;
	return n;
}

uint64_t pg_hook_core_lost_events(const struct pg_hook_core *core)
{
	return core->errors + core->dropped_nodes;
}

uint64_t pg_hook_core_events(const struct pg_hook_core *core)
{
	uint64_t n = 0;
	for (const struct pg_hook_thread *th = core->threads; th; th = th->next)
		n += th->events;
	return n > core->ref_events ? n - core->ref_events : 0;
}

/* ---- derivation from the tree -------------------------------------------- */

void pg_hook_core_summary_free(struct pg_hook_summary *s)
{
	free(s->funcs);
	free(s->edges);
	free(s->node_self_fp);
	free(s->node_incl_fp);
	memset(s, 0, sizeof(*s));
}

/* What a node's pairs were compensated: inside it (its entries' inner
 * costs), and in its parent (their outer costs, with the untimed CALL
 * event before a Python callee). */
static void pair_charges(const struct pg_hook_core *core,
			 const struct pg_hook_node *nd, int64_t *own,
			 int64_t *parent)
{
	int64_t pushes = (int64_t)(nd->calls + nd->resumes);
	*own = pushes * core->enter_fp[nd->kind];
	*parent = pushes * core->leave_fp[nd->kind];
	if (nd->kind == PG_HOOK_KIND_PY)
		*parent += (int64_t)nd->calls * core->call_event_fp;
}

/* The compensation each node's self time got: its own pairs' inner part
 * and its children's outer part. */
static void node_compensation(const struct pg_hook_core *core, int64_t *comp)
{
	for (uint32_t n = 1; n < core->nnodes; n++) {
		const struct pg_hook_node *nd = &core->nodes[n];
		int64_t own, parent;
		pair_charges(core, nd, &own, &parent);
		comp[n] += own;
		comp[nd->parent] += parent;
	}
}

/* Lower comp_ref to measured / compensation (measured = compensated time
 * + compensation, as comp_supported reads a node) when there is enough. */
static void ref_evidence(struct pg_hook_core *core, uint64_t pushes,
			 int64_t self, int64_t comp)
{
	if (pushes < PG_HOOK_COMP_MIN_PUSHES || comp <= 0)
		return;
	double r = (double)(self + comp) / (double)comp;
	r = r > 1e-6 ? r : 1e-6; /* 0 means none */
	if (!(core->comp_ref > 0) || r < core->comp_ref)
		core->comp_ref = r;
}

/* Empty node n (a function without calls is not written). */
static void empty_node(struct pg_hook_core *core, uint32_t n)
{
	core->nodes[n].calls = core->nodes[n].resumes = 0;
	core->nodes[n].incl_fp = 0;
	if (core->off_fp && n < core->off_cap)
		core->off_fp[n] = 0;
}

void pg_hook_core_take_reference(struct pg_hook_core *core, uint32_t loop,
				 uint32_t target)
{
	uint64_t target_pushes = 0;
	int64_t target_incl = 0, target_comp = 0, loop_incl = 0, loop_comp = 0;
	for (uint32_t n = 1; n < core->nnodes; n++) {
		const struct pg_hook_node *nd = &core->nodes[n];
		if (nd->func != loop && nd->func != target)
			continue;
		int64_t own, parent;
		pair_charges(core, nd, &own, &parent);
		if (nd->func == target) {
			target_pushes += nd->calls + nd->resumes;
			target_incl += nd->incl_fp;
			target_comp += own;
			loop_comp += parent; /* its parent is the loop */
		} else {
			loop_incl += nd->incl_fp;
			loop_comp += own;
		}
		empty_node(core, n);
	}
	ref_evidence(core, target_pushes, target_incl, target_comp);
	ref_evidence(core, target_pushes, loop_incl - target_incl, loop_comp);
}

/* A node's measured-over-compensation ratio and its weight. */
struct comp_ratio {
	double r, w;
};

static int cmp_ratio(const void *a, const void *b)
{
	double x = ((const struct comp_ratio *)a)->r;
	double y = ((const struct comp_ratio *)b)->r;
	return x < y ? -1 : x > y;
}

/*
 * The scale the measured self times support (core.h): from the
 * PG_HOOK_COMP_QUANTILE quantile, weighted by compensation, of measured
 * self time over compensation among the nodes that can show it, or from
 * the lowest node alone when it is below PG_HOOK_COMP_ALONE; 1 when none
 * can show it. -1 when out of memory.
 */
static double comp_supported(const struct pg_hook_core *core,
			     const int64_t *self, const int64_t *comp)
{
	struct comp_ratio *v = malloc(core->nnodes * sizeof(*v));
	if (!v)
		return -1;
	uint32_t m = 0;
	double total = 0;
	for (uint32_t n = 1; n < core->nnodes; n++) {
		const struct pg_hook_node *nd = &core->nodes[n];
		if (nd->calls + nd->resumes < PG_HOOK_COMP_MIN_PUSHES ||
		    comp[n] <= 0 ||
		    (core->funcs[nd->func].flags & PG_HOOK_FOLDED))
			continue;
		double r = (double)(self[n] + comp[n]) / (double)comp[n];
		v[m++] = (struct comp_ratio){r > 0 ? r : 0, (double)comp[n]};
		total += (double)comp[n];
	}
	qsort(v, m, sizeof(*v), cmp_ratio);
	double q = 1, seen = 0;
	for (uint32_t i = 0; i < m; i++) {
		seen += v[i].w;
		if (seen >= PG_HOOK_COMP_QUANTILE * total) {
			q = v[i].r;
			break;
		}
	}
	if (m && v[0].r < PG_HOOK_COMP_ALONE)
		q = v[0].r;
	free(v);
	return fmin(1, q / PG_HOOK_COMP_MARGIN);
}

/*
 * Check compensation against what was measured (core.h): scale it down
 * when the nodes that can show it measured less than their compensation
 * (or by comp_fixed), and when the reference did (comp_ref); then derive
 * the inclusive times again and count what remains below zero. Returns 0
 * or -1 (ENOMEM).
 */
static int check_compensation(const struct pg_hook_core *core,
			      struct pg_hook_summary *out)
{
	uint32_t nn = core->nnodes;
	int64_t *comp = calloc(nn, sizeof(*comp));
	if (!comp)
		return -1;
	node_compensation(core, comp);
	double k = core->comp_fixed;
	if (!(k > 0))
		k = comp_supported(core, out->node_self_fp, comp);
	if (k < 0) {
		free(comp);
		return -1;
	}
	if (core->comp_ref > 0)
		k = fmin(k, core->comp_ref / PG_HOOK_COMP_REF_MARGIN);
	k = fmin(1, k);
	out->comp_scale = k;
	for (uint32_t n = 0; n < nn; n++) {
		if (k < 1 && n)
			out->node_self_fp[n] +=
			    (int64_t)llround((1 - k) * (double)comp[n]);
		out->node_incl_fp[n] = n ? out->node_self_fp[n] : 0;
	}
	/* Parents precede their children. */
	for (uint32_t n = nn; n-- > 1;) {
		if (core->nodes[n].parent)
			out->node_incl_fp[core->nodes[n].parent] +=
			    out->node_incl_fp[n];
		if (out->node_self_fp[n] < 0)
			out->clamped_fp -= out->node_self_fp[n];
	}
	free(comp);
	return 0;
}

/* Scratch of one summary, nn nodes and nf functions long. */
struct summary_scratch {
	uint32_t *first, *next; /* first child, next sibling (creation order) */
	uint32_t *edge_of;	/* node's edge, PG_HOOK_NONE under the root */
	uint32_t *fdepth;	/* per function: its nodes on the path */
	uint32_t *edepth;	/* per edge: its nodes on the path */
	uint32_t *stack;	/* the walk's: node, top bit once closed */
};

static int scratch_init(struct summary_scratch *s, uint32_t nn, uint32_t nf)
{
	s->first = malloc(nn * sizeof(*s->first));
	s->next = malloc(nn * sizeof(*s->next));
	s->edge_of = malloc(nn * sizeof(*s->edge_of));
	s->fdepth = calloc(nf ? nf : 1, sizeof(*s->fdepth));
	s->edepth = calloc(nn, sizeof(*s->edepth));
	s->stack = malloc(nn * sizeof(*s->stack));
	return s->first && s->next && s->edge_of && s->fdepth && s->edepth &&
		       s->stack
		   ? 0
		   : -1;
}

static void scratch_release(struct summary_scratch *s)
{
	free(s->first);
	free(s->next);
	free(s->edge_of);
	free(s->fdepth);
	free(s->edepth);
	free(s->stack);
}

/* Children lists (in creation order) and node self times. */
static void link_children(const struct pg_hook_core *core,
			  struct summary_scratch *s,
			  struct pg_hook_summary *out)
{
	uint32_t nn = core->nnodes;
	for (uint32_t n = 0; n < nn; n++)
		s->first[n] = s->next[n] = PG_HOOK_NONE;
	for (uint32_t n = nn; n-- > 1;) {
		uint32_t p = core->nodes[n].parent;
		s->next[n] = s->first[p];
		s->first[p] = n;
	}
	for (uint32_t n = 1; n < nn; n++) {
		out->node_self_fp[n] += core->nodes[n].incl_fp;
		if (core->nodes[n].parent)
			out->node_self_fp[core->nodes[n].parent] -=
			    core->nodes[n].incl_fp;
	}
}

/* Edges: one per (caller function, callee function); -1 out of memory. */
static int find_edges(const struct pg_hook_core *core,
		      struct summary_scratch *s, struct pg_hook_summary *out)
{
	struct pg_hook_map emap = {0};
	if (map_init(&emap, 64))
		return -1;
	int rc = 0;
	for (uint32_t n = 1; n < core->nnodes && !rc; n++) {
		uint32_t p = core->nodes[n].parent;
		s->edge_of[n] = PG_HOOK_NONE;
		if (p == 0)
			continue;
		uint32_t a = core->nodes[p].func, b = core->nodes[n].func;
		uint64_t key = (uint64_t)a << 32 | b;
		uint32_t e = map_get(&emap, key);
		if (e == PG_HOOK_NONE) {
			e = out->nedges++;
			rc = map_put(&emap, key, e);
			out->edges[e].caller = a;
			out->edges[e].callee = b;
		}
		s->edge_of[n] = e;
	}
	map_release(&emap);
	return rc ? -1 : 0;
}

/* Node n's figures added to its function and edge, the inclusive ones
 * only where it is the outermost of them on its path. */
static void open_node(const struct pg_hook_core *core,
		      struct summary_scratch *s, uint32_t n,
		      struct pg_hook_summary *out)
{
	const struct pg_hook_node *nd = &core->nodes[n];
	struct pg_hook_fstat *f = &out->funcs[nd->func];
	f->calls += nd->calls;
	f->resumes += nd->resumes;
	f->self_fp += out->node_self_fp[n];
	if (n < core->off_cap)
		f->off_fp += core->off_fp[n];
	if (s->fdepth[nd->func]++ == 0) {
		f->pcalls += nd->calls;
		f->incl_fp += out->node_incl_fp[n];
	}
	uint32_t e = s->edge_of[n];
	if (e != PG_HOOK_NONE) {
		struct pg_hook_edge *ed = &out->edges[e];
		ed->calls += nd->calls;
		ed->self_fp += out->node_self_fp[n];
		if (s->edepth[e]++ == 0) {
			ed->pcalls += nd->calls;
			ed->incl_fp += out->node_incl_fp[n];
		}
	}
}

/* Depth-first walk; stack entries: node, with the top bit set once its
 * children are done (then its counters are released). */
static void walk_tree(const struct pg_hook_core *core,
		      struct summary_scratch *s, struct pg_hook_summary *out)
{
	uint32_t sp = 0;
	for (uint32_t c = s->first[0]; c != PG_HOOK_NONE; c = s->next[c])
		s->stack[sp++] = c;
	while (sp) {
		uint32_t n = s->stack[--sp];
		if (n & 0x80000000u) {
			n &= 0x7fffffffu;
			s->fdepth[core->nodes[n].func]--;
			if (s->edge_of[n] != PG_HOOK_NONE)
				s->edepth[s->edge_of[n]]--;
			continue;
		}
		open_node(core, s, n, out);
		/* The closing marker sits below the children; the stack holds
		 * at most one marker per ancestor plus their pending siblings,
		 * which is at most nn entries overall. */
		s->stack[sp++] = n | 0x80000000u;
		for (uint32_t c = s->first[n]; c != PG_HOOK_NONE;
		     c = s->next[c])
			s->stack[sp++] = c;
	}
}

/*
 * One depth-first walk of the tree keeps, per function and per edge, how
 * many nodes of it are on the current path: a node whose function (edge)
 * is not already on its path is the outermost one, and only those add
 * pcalls and inclusive time (recursion counted once), exactly as a stack
 * would have seen it at call time.
 */
int pg_hook_core_summarize(const struct pg_hook_core *core,
			   struct pg_hook_summary *out)
{
	uint32_t nn = core->nnodes, nf = core->nfuncs;
	memset(out, 0, sizeof(*out));
	out->funcs = calloc(nf ? nf : 1, sizeof(*out->funcs));
	out->edges = calloc(nn, sizeof(*out->edges));
	out->node_self_fp = calloc(nn, sizeof(*out->node_self_fp));
	out->node_incl_fp = calloc(nn, sizeof(*out->node_incl_fp));
	struct summary_scratch s;
	int rc = -1;
	if (!scratch_init(&s, nn, nf) && out->funcs && out->edges &&
	    out->node_self_fp && out->node_incl_fp) {
		link_children(core, &s, out);
		rc = check_compensation(core, out);
		if (!rc)
			rc = find_edges(core, &s, out);
		if (!rc)
			walk_tree(core, &s, out);
	}
	scratch_release(&s);
	if (rc)
		pg_hook_core_summary_free(out);
	return rc;
}

/* ---- writer -------------------------------------------------------------- */

struct out_func {
	uint64_t calls, pcalls, resumes;
	uint64_t raised, handled; /* exceptions, when counted */
	int64_t self_fp, incl_fp, off_fp;
	uint32_t flags, first; /* first: function index that named it */
};

static const char *const *sort_ids;
static const int *sort_lines;

/* By id, then by first line (definition order), then by first call. */
static int cmp_by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(sort_ids[x] ? sort_ids[x] : "",
		       sort_ids[y] ? sort_ids[y] : "");
	if (c)
		return c;
	if (sort_lines && sort_lines[x] != sort_lines[y])
		return sort_lines[x] < sort_lines[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Print s with TAB, CR and LF replaced by spaces. */
static void put_clean(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

static int64_t ns_of(int64_t fp, double ns_per_tick)
{
	int64_t ns = (int64_t)llround((double)fp * ns_per_tick /
				      (double)(1 << PG_HOOK_FP));
	return ns < 0 ? 0 : ns;
}

/*
 * Assign output indexes: builtins with equal ids share one, other equal ids
 * (the boot module numbers those of one file by definition already) are
 * numbered by first line, then first appearance.
 */
static int assign_outputs(const struct pg_hook_core *core,
			  const struct pg_hook_fstat *fs,
			  const struct pg_hook_wire_info *info, uint32_t *map,
			  uint32_t *nout, int *dup)
{
	uint32_t n = core->nfuncs;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_ids = info->ids;
	sort_lines = info->lines;
	qsort(order, n, sizeof(*order), cmp_by_id);
	/* Within a run of equal ids (sorted by index), decide merges. */
	for (uint32_t i = 0; i < n; i++)
		map[i] = PG_HOOK_NONE, dup[i] = 1;
	/* Functions without calls or resumes (seen before a reset) are left
	 * out; nothing refers to them. */
	uint32_t live = 0;
	for (uint32_t i = 0; i < n; i++)
		if (fs[order[i]].calls || fs[order[i]].resumes)
			order[live++] = order[i];
	n = live;
	for (uint32_t a = 0; a < n;) {
		uint32_t b = a + 1;
		const char *id = info->ids[order[a]] ? info->ids[order[a]] : "";
		while (
		    b < n &&
		    !strcmp(id, info->ids[order[b]] ? info->ids[order[b]] : ""))
			b++;
		int k = 0;
		uint32_t builtin_rep = PG_HOOK_NONE;
		for (uint32_t j = a; j < b; j++) {
			uint32_t fi = order[j];
			if (core->funcs[fi].flags & PG_HOOK_BUILTIN) {
				if (builtin_rep == PG_HOOK_NONE) {
					builtin_rep = fi;
					dup[fi] = ++k;
				} else {
					map[fi] = builtin_rep; /* merged */
				}
			} else {
				dup[fi] = ++k;
			}
		}
		a = b;
	}
	free(order);
	/* Number outputs in function order; merged ones follow their rep. */
	uint32_t next = 0;
	n = core->nfuncs;
	for (uint32_t i = 0; i < n; i++)
		if (map[i] == PG_HOOK_NONE && (fs[i].calls || fs[i].resumes))
			map[i] = next++ | 0x80000000u;
	for (uint32_t i = 0; i < n; i++)
		if (map[i] != PG_HOOK_NONE && !(map[i] & 0x80000000u))
			map[i] = map[map[i]];
	for (uint32_t i = 0; i < n; i++)
		if (map[i] != PG_HOOK_NONE)
			map[i] &= 0x7fffffffu;
	*nout = next;
	return 0;
}

/*
 * Index of the pair (a, b) among the *n merged so far, adding it as index
 * *n (and setting *fresh) when new; PG_HOOK_NONE when out of memory. For
 * the write-time merging of edges and tree nodes whose functions share an
 * output id.
 */
static uint32_t pair_index(struct pg_hook_map *m, uint32_t a, uint32_t b,
			   uint32_t *n, int *fresh)
{
	uint64_t key = (uint64_t)a << 32 | b;
	uint32_t j = map_get(m, key);
	*fresh = j == PG_HOOK_NONE;
	if (!*fresh)
		return j;
	if (map_put(m, key, *n))
		return PG_HOOK_NONE;
	return (*n)++;
}

static int write_edges(const struct pg_hook_summary *sum, const uint32_t *map,
		       double npt, FILE *out)
{
	struct pg_hook_map m;
	struct pg_hook_edge *merged =
	    calloc(sum->nedges ? sum->nedges : 1, sizeof(*merged));
	uint32_t nm = 0;
	if (!merged || map_init(&m, 64)) {
		free(merged);
		return -1;
	}
	int rc = 0;
	for (uint32_t i = 0; i < sum->nedges; i++) {
		const struct pg_hook_edge *e = &sum->edges[i];
		uint32_t c = map[e->caller], d = map[e->callee];
		if (c == PG_HOOK_NONE || d == PG_HOOK_NONE)
			continue; /* a function left out (the reference) */
		int fresh;
		uint32_t j = pair_index(&m, c, d, &nm, &fresh);
		if (j == PG_HOOK_NONE) {
			rc = -1;
			goto done;
		}
		if (fresh) {
			merged[j].caller = c;
			merged[j].callee = d;
		}
		merged[j].calls += e->calls;
		merged[j].pcalls += e->pcalls;
		merged[j].self_fp += e->self_fp;
		merged[j].incl_fp += e->incl_fp;
	}
	for (uint32_t j = 0; j < nm; j++)
		fprintf(out,
			"E\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64
			"\t%" PRId64 "\n",
			merged[j].caller, merged[j].callee, merged[j].calls,
			merged[j].pcalls, ns_of(merged[j].self_fp, npt),
			ns_of(merged[j].incl_fp, npt));
done:
	map_release(&m);
	free(merged);
	return rc;
}

struct out_node {
	uint32_t parent, func;
	uint64_t calls;
	int64_t self_fp, incl_fp;
};

static int write_nodes(const struct pg_hook_core *core,
		       const struct pg_hook_summary *sum, const uint32_t *map,
		       double npt, FILE *out)
{
	struct pg_hook_map m;
	uint32_t *to = malloc(core->nnodes * sizeof(*to));
	struct out_node *merged = calloc(core->nnodes, sizeof(*merged));
	uint32_t nm = 1; /* output node 0 is the root */
	if (!to || !merged || map_init(&m, 64)) {
		free(to);
		free(merged);
		return -1;
	}
	int rc = 0;
	to[0] = 0;
	/* Parents precede children in core->nodes, so to[parent] is known.
	 * Nodes of functions left out (the emptied reference: no calls) are
	 * left out with their subtrees. */
	for (uint32_t i = 1; i < core->nnodes; i++) {
		const struct pg_hook_node *n = &core->nodes[i];
		uint32_t p = to[n->parent], f = map[n->func];
		if (p == PG_HOOK_NONE || f == PG_HOOK_NONE) {
			to[i] = PG_HOOK_NONE;
			continue;
		}
		int fresh;
		uint32_t j = pair_index(&m, p, f, &nm, &fresh);
		if (j == PG_HOOK_NONE) {
			rc = -1;
			goto done;
		}
		if (fresh) {
			merged[j].parent = p;
			merged[j].func = f;
		}
		to[i] = j;
		merged[j].calls += n->calls;
		merged[j].self_fp += sum->node_self_fp[i];
		merged[j].incl_fp += sum->node_incl_fp[i];
	}
	for (uint32_t j = 1; j < nm; j++)
		fprintf(out,
			"N\t%u\t%u\t%u\t%" PRIu64 "\t%" PRId64 "\t%" PRId64
			"\n",
			j, merged[j].parent, merged[j].func, merged[j].calls,
			ns_of(merged[j].self_fp, npt),
			ns_of(merged[j].incl_fp, npt));
done:
	map_release(&m);
	free(to);
	free(merged);
	return rc;
}

/* The per-function figures added up per output (map: function → output,
 * PG_HOOK_NONE when left out). */
static void merge_outputs(const struct pg_hook_core *core,
			  const struct pg_hook_summary *sum,
			  const struct pg_hook_wire_info *info,
			  const uint32_t *map, struct out_func *of)
{
	uint32_t n = core->nfuncs;
	for (uint32_t i = n; i-- > 0;)
		if (map[i] != PG_HOOK_NONE)
			of[map[i]].first = i; /* ends at the lowest index */
	for (uint32_t i = 0; i < n; i++) {
		const struct pg_hook_fstat *f = &sum->funcs[i];
		if (map[i] == PG_HOOK_NONE)
			continue;
		struct out_func *o = &of[map[i]];
		o->calls += f->calls;
		o->pcalls += f->pcalls;
		o->resumes += f->resumes;
		o->self_fp += f->self_fp;
		o->incl_fp += f->incl_fp;
		o->off_fp += f->off_fp;
		if (info->raised)
			o->raised += info->raised[i];
		if (info->handled)
			o->handled += info->handled[i];
		o->flags |=
		    core->funcs[i].flags &
		    (PG_HOOK_BUILTIN | PG_HOOK_GENERATOR | PG_HOOK_FOLDED);
	}
}

/* The wire's header lines: format, mechanism, timer, counters, and how
 * compensation fared. */
static void write_header(const struct pg_hook_core *core,
			 const struct pg_hook_summary *sum,
			 const struct pg_hook_wire_info *info, FILE *out)
{
	fprintf(out, "perfguard-wire\t1\n");
	fprintf(out, "mechanism\t%s\n", info->mechanism);
	fprintf(out, "timer\t%s\n", info->timer);
	fputs("python\t", out);
	put_clean(out, info->python);
	fprintf(out, "\nevent_cost_ns\t%.3f\n", info->event_cost_ns);
	fprintf(out, "wall_ns\t%" PRId64 "\n", info->wall_ns);
	fprintf(out, "threads\t%u\n", pg_hook_core_threads_ran(core));
	fprintf(out, "events\t%" PRIu64 "\n", pg_hook_core_events(core));
	fprintf(out, "unmatched\t%" PRIu64 "\n", core->unmatched);
	fprintf(out, "lost\t%" PRIu64 "\n", pg_hook_core_lost_events(core));
	fprintf(out, "comp_scale\t%.4f\n", sum->comp_scale);
	fprintf(out, "clamped_ns\t%" PRId64 "\n",
		ns_of(sum->clamped_fp, info->ns_per_tick));
	if (info->fallback && *info->fallback) {
		fputs("fallback\t", out);
		put_clean(out, info->fallback);
		fputc('\n', out);
	}
}

/* Output o's F line: flags (TINY set here), line, id, file, code and the
 * exception counts when any. */
static void write_func(const struct pg_hook_wire_info *info, uint32_t o,
		       struct out_func *of, const int *dup, FILE *out)
{
	uint32_t i = of->first;
	uint64_t count = of->calls + of->resumes;
	double mean_ns = count ? (double)of->self_fp * info->ns_per_tick /
				     (double)(1 << PG_HOOK_FP) / (double)count
			       : 0;
	if (count && mean_ns < info->tiny_ns)
		of->flags |= PG_HOOK_TINY;
	fprintf(out, "F\t%u\t%u\t%d\t", o, of->flags,
		info->lines ? info->lines[i] : 0);
	put_clean(out, info->ids[i] ? info->ids[i] : "?");
	if (dup[i] > 1)
		fprintf(out, "#%d", dup[i]);
	fputc('\t', out);
	put_clean(out, info->files ? info->files[i] : NULL);
	uint64_t raised = info->raised ? of->raised : 0;
	uint64_t handled = info->handled ? of->handled : 0;
	if ((info->codes && info->codes[i] && *info->codes[i]) || raised ||
	    handled) {
		fputc('\t', out);
		put_clean(out, info->codes ? info->codes[i] : NULL);
	}
	if (raised || handled)
		fprintf(out, "\t%" PRIu64 "\t%" PRIu64, raised, handled);
	fputc('\n', out);
}

/* Output o's S line: calls, primitive calls, resumes, self and inclusive
 * ns (inclusive at least self), and the time off the CPU when any. */
static void write_stat(const struct out_func *of, uint32_t o, double npt,
		       FILE *out)
{
	int64_t self = ns_of(of->self_fp, npt);
	int64_t incl = ns_of(of->incl_fp, npt);
	int64_t off = ns_of(of->off_fp, npt);
	fprintf(out,
		"S\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64
		"\t%" PRId64,
		o, of->calls, of->pcalls, of->resumes, self,
		incl < self ? self : incl);
	if (off > 0)
		fprintf(out, "\t%" PRId64, off);
	fputc('\n', out);
}

int pg_hook_core_write(const struct pg_hook_core *core,
		       const struct pg_hook_wire_info *info, FILE *out)
{
	uint32_t n = core->nfuncs, nout = 0;
	struct pg_hook_summary sum;
	if (pg_hook_core_summarize(core, &sum))
		return -1;
	uint32_t *map = malloc((n ? n : 1) * sizeof(*map));
	int *dup = malloc((n ? n : 1) * sizeof(*dup));
	struct out_func *of = calloc(n ? n : 1, sizeof(*of));
	int rc = -1;
	if (!map || !dup || !of)
		goto done;
	if (assign_outputs(core, sum.funcs, info, map, &nout, dup))
		goto done;
	merge_outputs(core, &sum, info, map, of);
	write_header(core, &sum, info, out);
	for (uint32_t o = 0; o < nout; o++)
		write_func(info, o, &of[o], dup, out);
	for (uint32_t o = 0; o < nout; o++)
		write_stat(&of[o], o, info->ns_per_tick, out);
	if (write_edges(&sum, map, info->ns_per_tick, out) ||
	    write_nodes(core, &sum, map, info->ns_per_tick, out))
		goto done;
	fprintf(out, "end\t%u\n", nout);
	rc = ferror(out) ? -1 : 0;
done:
	free(map);
	free(dup);
	free(of);
	pg_hook_core_summary_free(&sum);
	return rc;
}
