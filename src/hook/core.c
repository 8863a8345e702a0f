/*
 * core.c - accounting for the profiling hook: stacks, function table,
 * edges, calling-context tree, compensation, and the wire writer.
 *
 * Hot path: pg_hook_core_enter/leave do a one-entry cache check on the
 * parent node (usually a hit in loops), else one hash probe, and touch a
 * handful of counters. Compensation: a frame that saw n events (its own
 * pair plus everything inside) loses the calibrated cost that falls
 * inside a frame for its own pair (inner_cost_ticks) plus the average
 * per-event cost for every event strictly inside it; its self time is
 * what remains after its children's compensated inclusive times, so each
 * frame pays for the part of its children's call overhead that falls
 * outside their own brackets (e.g. frame objects made before the call
 * event and freed after the return event). Values are not clamped per
 * frame (that would bias them upwards); totals are clamped at 0 on output.
 *
 * It does not know about Python, clocks, or files beyond the FILE * given.
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

static void map_clear(struct pg_hook_map *m)
{
	memset(m->vals, 0xff, (m->mask + 1) * sizeof(*m->vals));
	m->count = 0;
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

int pg_hook_core_init(struct pg_hook_core *core)
{
	memset(core, 0, sizeof(*core));
	if (map_init(&core->func_map, 1024) ||
	    map_init(&core->edge_map, 1024) || map_init(&core->node_map, 1024))
		goto fail;
	if (grow((void **)&core->nodes, &core->nodes_cap, 1,
		 sizeof(*core->nodes)))
		goto fail;
	core->nodes[0] = (struct pg_hook_node){.parent = 0,
					       .func = PG_HOOK_NONE,
					       .edge = PG_HOOK_NONE,
					       .last_func = PG_HOOK_NONE,
					       .last_child = PG_HOOK_NONE};
	core->nnodes = 1;
	return 0;
fail:
	pg_hook_core_release(core);
	return -1;
}

void pg_hook_core_release(struct pg_hook_core *core)
{
	map_release(&core->func_map);
	map_release(&core->edge_map);
	map_release(&core->node_map);
	free(core->funcs);
	free(core->edges);
	free(core->nodes);
	struct pg_hook_thread *th = core->threads;
	while (th) {
		struct pg_hook_thread *next = th->next;
		free(th->stack);
		free(th->func_depth);
		free(th->edge_depth);
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
	th->next = core->threads;
	core->threads = th;
	return th;
}

/* ---- events -------------------------------------------------------------- */

static uint32_t edge_for(struct pg_hook_core *core, uint32_t caller,
			 uint32_t callee)
{
	uint64_t key = (uint64_t)caller << 32 | callee;
	uint32_t e = map_get(&core->edge_map, key);
	if (e != PG_HOOK_NONE)
		return e;
	if (grow((void **)&core->edges, &core->edges_cap, core->nedges + 1,
		 sizeof(*core->edges)) ||
	    map_put(&core->edge_map, key, core->nedges))
		return PG_HOOK_NONE;
	e = core->nedges++;
	core->edges[e] =
	    (struct pg_hook_edge){.caller = caller, .callee = callee};
	return e;
}

/* The child of node pnode for func (created on first use), or NONE. */
static uint32_t child_for(struct pg_hook_core *core, uint32_t pnode,
			  uint32_t func)
{
	struct pg_hook_node *p = &core->nodes[pnode];
	if (p->last_func == func)
		return p->last_child;
	uint64_t key = (uint64_t)pnode << 32 | func;
	uint32_t n = map_get(&core->node_map, key);
	if (n == PG_HOOK_NONE) {
		if (core->nnodes >= PG_HOOK_MAX_NODES) {
			core->dropped_nodes++;
			return PG_HOOK_NONE;
		}
		uint32_t edge = PG_HOOK_NONE;
		if (pnode != 0) {
			edge = edge_for(core, p->func, func);
			if (edge == PG_HOOK_NONE)
				return PG_HOOK_NONE;
		}
		if (grow((void **)&core->nodes, &core->nodes_cap,
			 core->nnodes + 1, sizeof(*core->nodes)) ||
		    map_put(&core->node_map, key, core->nnodes))
			return PG_HOOK_NONE;
		n = core->nnodes++;
		core->nodes[n] = (struct pg_hook_node){
		    .parent = pnode,
		    .func = func,
		    .edge = edge,
		    .last_func = PG_HOOK_NONE,
		    .last_child = PG_HOOK_NONE,
		};
		p = &core->nodes[pnode]; /* nodes may have moved */
	}
	p->last_func = func;
	p->last_child = n;
	return n;
}

void pg_hook_core_enter(struct pg_hook_core *core, struct pg_hook_thread *th,
			uint32_t func, int resume, int64_t now_ticks)
{
	if (grow((void **)&th->stack, &th->cap, th->depth + 1,
		 sizeof(*th->stack)) ||
	    grow((void **)&th->func_depth, &th->func_depth_cap, func + 1,
		 sizeof(*th->func_depth))) {
		core->errors++;
		return;
	}
	th->ran = 1;
	struct pg_hook_frame *parent =
	    th->depth ? &th->stack[th->depth - 1] : NULL;
	uint32_t node = PG_HOOK_NONE, edge = PG_HOOK_NONE;
	if (!parent) {
		node = child_for(core, 0, func);
	} else if (parent->node != PG_HOOK_NONE) {
		node = child_for(core, parent->node, func);
		if (node != PG_HOOK_NONE)
			edge = core->nodes[node].edge;
	}
	if (parent && node == PG_HOOK_NONE)
		edge = edge_for(core, parent->func, func);
	if (edge != PG_HOOK_NONE &&
	    grow((void **)&th->edge_depth, &th->edge_depth_cap, edge + 1,
		 sizeof(*th->edge_depth)))
		edge = PG_HOOK_NONE, core->errors++;

	struct pg_hook_frame *fr = &th->stack[th->depth++];
	fr->func = func;
	fr->node = node;
	fr->edge = edge;
	fr->start_ticks = now_ticks;
	fr->child_ticks = 0;
	fr->events = th->events;
	fr->c_events = th->c_events;

	struct pg_hook_func *f = &core->funcs[func];
	uint32_t fd = th->func_depth[func]++;
	uint32_t ed = edge != PG_HOOK_NONE ? th->edge_depth[edge]++ : 0;
	if (resume) {
		f->resumes++;
		return;
	}
	f->calls++;
	if (fd == 0)
		f->pcalls++;
	if (node != PG_HOOK_NONE)
		core->nodes[node].calls++;
	if (edge != PG_HOOK_NONE) {
		core->edges[edge].calls++;
		if (ed == 0)
			core->edges[edge].pcalls++;
	}
}

/* Pop the top frame of th at now_ticks and charge it. */
static void pop(struct pg_hook_core *core, struct pg_hook_thread *th,
		int64_t now_ticks)
{
	struct pg_hook_frame *fr = &th->stack[--th->depth];
	int is_c = (core->funcs[fr->func].flags & PG_HOOK_BUILTIN) != 0;
	/* Events strictly inside the frame (its own exit is counted). */
	uint64_t c_events = th->c_events - fr->c_events - (uint64_t)is_c;
	uint64_t py_events = th->events - fr->events - 1 - c_events;
	double comp =
	    (is_c ? core->c_inner_cost_ticks : core->inner_cost_ticks) +
	    (double)py_events * core->event_cost_ticks +
	    (double)c_events * core->c_event_cost_ticks;
	int64_t incl = now_ticks - fr->start_ticks - (int64_t)llround(comp);
	int64_t self = incl - fr->child_ticks;
	if (th->depth)
		th->stack[th->depth - 1].child_ticks += incl;

	struct pg_hook_func *f = &core->funcs[fr->func];
	f->self_ticks += self;
	if (--th->func_depth[fr->func] == 0)
		f->incl_ticks += incl;
	if (fr->node != PG_HOOK_NONE) {
		core->nodes[fr->node].self_ticks += self;
		core->nodes[fr->node].incl_ticks += incl;
	}
	if (fr->edge != PG_HOOK_NONE) {
		struct pg_hook_edge *e = &core->edges[fr->edge];
		e->self_ticks += self;
		if (--th->edge_depth[fr->edge] == 0)
			e->incl_ticks += incl;
	}
}

void pg_hook_core_leave(struct pg_hook_core *core, struct pg_hook_thread *th,
			uint32_t func, int64_t now_ticks)
{
	uint32_t i = th->depth;
	while (i > 0 && th->stack[i - 1].func != func)
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
		pop(core, th, now_ticks);
	}
	pop(core, th, now_ticks);
}

void pg_hook_core_close_thread(struct pg_hook_core *core,
			       struct pg_hook_thread *th, int64_t now_ticks)
{
	while (th->depth > 0)
		pop(core, th, now_ticks);
}

void pg_hook_core_reset(struct pg_hook_core *core)
{
	for (uint32_t i = 0; i < core->nfuncs; i++) {
		struct pg_hook_func *f = &core->funcs[i];
		f->calls = f->pcalls = f->resumes = 0;
		f->self_ticks = f->incl_ticks = 0;
	}
	core->nedges = 0;
	map_clear(&core->edge_map);
	core->nnodes = 1;
	map_clear(&core->node_map);
	core->nodes[0].last_func = PG_HOOK_NONE;
	core->nodes[0].last_child = PG_HOOK_NONE;
	core->unmatched = 0;
	core->dropped_nodes = 0;
	for (struct pg_hook_thread *th = core->threads; th; th = th->next) {
		th->allowance += th->depth;
		th->depth = 0;
		if (th->func_depth)
			memset(th->func_depth, 0,
			       th->func_depth_cap * sizeof(*th->func_depth));
		if (th->edge_depth)
			memset(th->edge_depth, 0,
			       th->edge_depth_cap * sizeof(*th->edge_depth));
		th->events = 0;
		th->c_events = 0;
		th->ran = 0;
	}
}

uint32_t pg_hook_core_threads_ran(const struct pg_hook_core *core)
{
	uint32_t n = 0;
	for (const struct pg_hook_thread *th = core->threads; th; th = th->next)
		n += th->ran != 0;
	return n;
}

uint64_t pg_hook_core_events(const struct pg_hook_core *core)
{
	uint64_t n = 0;
	for (const struct pg_hook_thread *th = core->threads; th; th = th->next)
		n += th->events;
	return n;
}

/* ---- writer -------------------------------------------------------------- */

struct out_func {
	uint64_t calls, pcalls, resumes;
	int64_t self_ticks, incl_ticks;
	uint32_t flags, first; /* first: function index that named it */
	int dup;	       /* 1 for the first of an id, 2, 3... after */
};

static const char *const *sort_ids;

static int cmp_by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(sort_ids[x] ? sort_ids[x] : "",
		       sort_ids[y] ? sort_ids[y] : "");
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Print s with TAB, CR and LF replaced by spaces. */
static void put_clean(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

static int64_t ns_of(int64_t ticks, double ns_per_tick)
{
	int64_t ns = (int64_t)llround((double)ticks * ns_per_tick);
	return ns < 0 ? 0 : ns;
}

/*
 * Assign output indexes: builtins with equal ids share one, other equal ids
 * are numbered in order of first appearance (function index order).
 */
static int assign_outputs(const struct pg_hook_core *core,
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
	qsort(order, n, sizeof(*order), cmp_by_id);
	/* Within a run of equal ids (sorted by index), decide merges. */
	for (uint32_t i = 0; i < n; i++)
		map[i] = PG_HOOK_NONE, dup[i] = 1;
	/* Functions without calls or resumes (seen before a reset) are left
	 * out; nothing refers to them. */
	uint32_t live = 0;
	for (uint32_t i = 0; i < n; i++)
		if (core->funcs[order[i]].calls ||
		    core->funcs[order[i]].resumes)
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
		if (map[i] == PG_HOOK_NONE &&
		    (core->funcs[i].calls || core->funcs[i].resumes))
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

static int write_edges(const struct pg_hook_core *core, const uint32_t *map,
		       double npt, FILE *out)
{
	struct pg_hook_map m;
	struct pg_hook_edge *merged =
	    calloc(core->nedges ? core->nedges : 1, sizeof(*merged));
	uint32_t nm = 0;
	if (!merged || map_init(&m, 64)) {
		free(merged);
		return -1;
	}
	int rc = 0;
	for (uint32_t i = 0; i < core->nedges; i++) {
		const struct pg_hook_edge *e = &core->edges[i];
		uint32_t c = map[e->caller], d = map[e->callee];
		uint64_t key = (uint64_t)c << 32 | d;
		uint32_t j = map_get(&m, key);
		if (j == PG_HOOK_NONE) {
			if (map_put(&m, key, nm)) {
				rc = -1;
				goto done;
			}
			j = nm++;
			merged[j].caller = c;
			merged[j].callee = d;
		}
		merged[j].calls += e->calls;
		merged[j].pcalls += e->pcalls;
		merged[j].self_ticks += e->self_ticks;
		merged[j].incl_ticks += e->incl_ticks;
	}
	for (uint32_t j = 0; j < nm; j++)
		fprintf(out,
			"E\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64
			"\t%" PRId64 "\n",
			merged[j].caller, merged[j].callee, merged[j].calls,
			merged[j].pcalls, ns_of(merged[j].self_ticks, npt),
			ns_of(merged[j].incl_ticks, npt));
done:
	map_release(&m);
	free(merged);
	return rc;
}

static int write_nodes(const struct pg_hook_core *core, const uint32_t *map,
		       double npt, FILE *out)
{
	struct pg_hook_map m;
	uint32_t *to = malloc(core->nnodes * sizeof(*to));
	struct pg_hook_node *merged = calloc(core->nnodes, sizeof(*merged));
	uint32_t nm = 1; /* output node 0 is the root */
	if (!to || !merged || map_init(&m, 64)) {
		free(to);
		free(merged);
		return -1;
	}
	int rc = 0;
	to[0] = 0;
	/* Parents precede children in core->nodes, so to[parent] is known. */
	for (uint32_t i = 1; i < core->nnodes; i++) {
		const struct pg_hook_node *n = &core->nodes[i];
		uint32_t p = to[n->parent], f = map[n->func];
		uint64_t key = (uint64_t)p << 32 | f;
		uint32_t j = map_get(&m, key);
		if (j == PG_HOOK_NONE) {
			if (map_put(&m, key, nm)) {
				rc = -1;
				goto done;
			}
			j = nm++;
			merged[j].parent = p;
			merged[j].func = f;
		}
		to[i] = j;
		merged[j].calls += n->calls;
		merged[j].self_ticks += n->self_ticks;
		merged[j].incl_ticks += n->incl_ticks;
	}
	for (uint32_t j = 1; j < nm; j++)
		fprintf(out,
			"N\t%u\t%u\t%u\t%" PRIu64 "\t%" PRId64 "\t%" PRId64
			"\n",
			j, merged[j].parent, merged[j].func, merged[j].calls,
			ns_of(merged[j].self_ticks, npt),
			ns_of(merged[j].incl_ticks, npt));
done:
	map_release(&m);
	free(to);
	free(merged);
	return rc;
}

int pg_hook_core_write(const struct pg_hook_core *core,
		       const struct pg_hook_wire_info *info, FILE *out)
{
	uint32_t n = core->nfuncs, nout = 0;
	uint32_t *map = malloc((n ? n : 1) * sizeof(*map));
	int *dup = malloc((n ? n : 1) * sizeof(*dup));
	struct out_func *of = calloc(n ? n : 1, sizeof(*of));
	int rc = -1;
	if (!map || !dup || !of)
		goto done;
	if (assign_outputs(core, info, map, &nout, dup))
		goto done;
	for (uint32_t i = n; i-- > 0;)
		if (map[i] != PG_HOOK_NONE)
			of[map[i]].first = i; /* ends at the lowest index */
	for (uint32_t i = 0; i < n; i++) {
		const struct pg_hook_func *f = &core->funcs[i];
		if (map[i] == PG_HOOK_NONE)
			continue;
		struct out_func *o = &of[map[i]];
		o->calls += f->calls;
		o->pcalls += f->pcalls;
		o->resumes += f->resumes;
		o->self_ticks += f->self_ticks;
		o->incl_ticks += f->incl_ticks;
		o->flags |= f->flags & (PG_HOOK_BUILTIN | PG_HOOK_GENERATOR);
	}
	double npt = info->ns_per_tick;
	fprintf(out, "perfguard-wire\t1\n");
	fprintf(out, "mechanism\t%s\n", info->mechanism);
	fprintf(out, "timer\t%s\n", info->timer);
	fputs("python\t", out);
	put_clean(out, info->python);
	fprintf(out, "\nevent_cost_ns\t%.3f\n", core->event_cost_ticks * npt);
	fprintf(out, "wall_ns\t%" PRId64 "\n", info->wall_ns);
	fprintf(out, "threads\t%u\n", pg_hook_core_threads_ran(core));
	fprintf(out, "events\t%" PRIu64 "\n", pg_hook_core_events(core));
	fprintf(out, "unmatched\t%" PRIu64 "\n", core->unmatched);
	for (uint32_t o = 0; o < nout; o++) {
		uint32_t i = of[o].first;
		uint64_t count = of[o].calls ? of[o].calls : of[o].resumes;
		double mean_ns =
		    count ? (double)of[o].incl_ticks * npt / (double)count : 0;
		if (count && mean_ns < info->tiny_ns)
			of[o].flags |= PG_HOOK_TINY;
		fprintf(out, "F\t%u\t%u\t%d\t", o, of[o].flags,
			info->lines ? info->lines[i] : 0);
		put_clean(out, info->ids[i] ? info->ids[i] : "?");
		if (dup[i] > 1)
			fprintf(out, "#%d", dup[i]);
		fputc('\t', out);
		put_clean(out, info->files ? info->files[i] : NULL);
		fputc('\n', out);
	}
	for (uint32_t o = 0; o < nout; o++)
		fprintf(out,
			"S\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64
			"\t%" PRId64 "\n",
			o, of[o].calls, of[o].pcalls, of[o].resumes,
			ns_of(of[o].self_ticks, npt),
			ns_of(of[o].incl_ticks, npt));
	if (write_edges(core, map, npt, out) ||
	    write_nodes(core, map, npt, out))
		goto done;
	fprintf(out, "end\t%u\n", nout);
	rc = ferror(out) ? -1 : 0;
done:
	free(map);
	free(dup);
	free(of);
	return rc;
}
