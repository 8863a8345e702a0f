/*
 * profile.c - the profile data model: function table, trial rows, edges,
 * calling-context tree, and merging single-trial profiles.
 *
 * Invariant: functions 0..nfuncs-1 have unique ids (func_index maps each
 * id to its index); every trial row is allocated with room for funcs_cap
 * samples and holds exactly nfuncs meaningful ones, so interning a new
 * function only has to grow rows when funcs_cap grows, and the new column
 * is zero in every existing trial. Tree node 0, when present, is the root
 * (func PG_NO_FUNC) and every node's parent has a smaller index.
 *
 * Deliberately not here: statistics (stats), serialisation (profile_json.c,
 * wire.c) and exports (export.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

void pg_profile_init(struct pg_profile *p)
{
	memset(p, 0, sizeof(*p));
	pg_map_init(&p->func_index);
	pg_map_init(&p->edge_index);
	pg_map_init(&p->node_index);
}

void pg_profile_release(struct pg_profile *p)
{
	for (size_t i = 0; i < p->nfuncs; i++) {
		free(p->funcs[i].id);
		free(p->funcs[i].file);
	}
	free(p->funcs);
	for (size_t i = 0; i < p->ntrials; i++)
		free(p->trials[i].samples);
	free(p->trials);
	free(p->edges);
	free(p->nodes);
	pg_map_release(&p->func_index);
	pg_map_release(&p->edge_index);
	pg_map_release(&p->node_index);
	pg_profile_init(p);
}

/* Grow every trial row from old_cap to new_cap samples, zeroing the tail. */
static void grow_rows(struct pg_profile *p, size_t old_cap, size_t new_cap)
{
	for (size_t t = 0; t < p->ntrials; t++) {
		struct pg_trial *tr = &p->trials[t];
		tr->samples =
		    pg_realloc(tr->samples, new_cap * sizeof(*tr->samples));
		memset(tr->samples + old_cap, 0,
		       (new_cap - old_cap) * sizeof(*tr->samples));
	}
}

bool pg_code_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= PG_CODE_MAX || !((s[n] >= '0' && s[n] <= '9') ||
					  (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n > 0;
}

void pg_profile_set_code(struct pg_profile *p, uint32_t f, const char *code)
{
	snprintf(p->funcs[f].code, sizeof(p->funcs[f].code), "%s", code);
}

uint32_t pg_profile_intern(struct pg_profile *p, const char *id,
			   const char *file, int line, unsigned flags)
{
	size_t idx;
	if (pg_map_get(&p->func_index, id, &idx))
		return (uint32_t)idx;
	size_t old_cap = p->funcs_cap;
	pg_grow((void **)&p->funcs, &p->funcs_cap, p->nfuncs + 1,
		sizeof(*p->funcs));
	if (p->funcs_cap > old_cap)
		grow_rows(p, old_cap, p->funcs_cap);
	idx = p->nfuncs++;
	p->funcs[idx] = (struct pg_func){
	    .id = pg_strdup(id),
	    .file = pg_strdup(file),
	    .line = line,
	    .flags = flags,
	};
	/* Rows are zero past nfuncs already; this keeps it so if a caller
	 * scribbled there. */
	for (size_t t = 0; t < p->ntrials; t++)
		memset(&p->trials[t].samples[idx], 0,
		       sizeof(p->trials[t].samples[idx]));
	pg_map_put(&p->func_index, id, idx);
	return (uint32_t)idx;
}

uint32_t pg_profile_find(const struct pg_profile *p, const char *id)
{
	size_t idx;
	if (!id || !pg_map_get(&p->func_index, id, &idx))
		return PG_NO_FUNC;
	return (uint32_t)idx;
}

size_t pg_profile_add_trial(struct pg_profile *p)
{
	pg_grow((void **)&p->trials, &p->trials_cap, p->ntrials + 1,
		sizeof(*p->trials));
	struct pg_trial *tr = &p->trials[p->ntrials];
	memset(tr, 0, sizeof(*tr));
	tr->comp_scale = 1;
	tr->samples =
	    pg_calloc(p->funcs_cap ? p->funcs_cap : 1, sizeof(*tr->samples));
	return p->ntrials++;
}

static void pair_key(char key[32], uint32_t a, uint32_t b)
{
	snprintf(key, 32, "%" PRIu32 "\n%" PRIu32, a, b);
}

void pg_profile_add_edge(struct pg_profile *p, const struct pg_edge *e)
{
	char key[32];
	size_t idx;
	pair_key(key, e->caller, e->callee);
	if (!pg_map_get(&p->edge_index, key, &idx)) {
		pg_grow((void **)&p->edges, &p->edges_cap, p->nedges + 1,
			sizeof(*p->edges));
		idx = p->nedges++;
		p->edges[idx] =
		    (struct pg_edge){.caller = e->caller, .callee = e->callee};
		pg_map_put(&p->edge_index, key, idx);
	}
	struct pg_edge *d = &p->edges[idx];
	d->calls += e->calls;
	d->pcalls += e->pcalls;
	d->self_ns = pg_sat_add_ns(d->self_ns, e->self_ns);
	d->incl_ns = pg_sat_add_ns(d->incl_ns, e->incl_ns);
}

uint32_t pg_profile_root(struct pg_profile *p)
{
	if (p->nnodes)
		return 0;
	pg_grow((void **)&p->nodes, &p->nodes_cap, 1, sizeof(*p->nodes));
	p->nodes[0] = (struct pg_node){.parent = 0, .func = PG_NO_FUNC};
	p->nnodes = 1;
	return 0;
}

uint32_t pg_profile_child(struct pg_profile *p, uint32_t parent, uint32_t func)
{
	pg_profile_root(p);
	if (parent >= p->nnodes || func == PG_NO_FUNC)
		return PG_NO_FUNC;
	char key[32];
	size_t idx;
	pair_key(key, parent, func);
	if (pg_map_get(&p->node_index, key, &idx))
		return (uint32_t)idx;
	pg_grow((void **)&p->nodes, &p->nodes_cap, p->nnodes + 1,
		sizeof(*p->nodes));
	idx = p->nnodes++;
	p->nodes[idx] = (struct pg_node){.parent = parent, .func = func};
	pg_map_put(&p->node_index, key, idx);
	return (uint32_t)idx;
}

static void copy_label(char *dst, size_t cap, const char *src)
{
	if (dst[0] || !src[0])
		return;
	snprintf(dst, cap, "%s", src);
}

void pg_profile_merge(struct pg_profile *dst, const struct pg_profile *src)
{
	if (dst == src)
		return;
	uint32_t *fmap =
	    pg_malloc((src->nfuncs ? src->nfuncs : 1) * sizeof(*fmap));
	for (size_t i = 0; i < src->nfuncs; i++) {
		const struct pg_func *f = &src->funcs[i];
		fmap[i] =
		    pg_profile_intern(dst, f->id, f->file, f->line, f->flags);
		/* A flag seen in any trial (e.g. TINY) sticks. */
		dst->funcs[fmap[i]].flags |= f->flags;
		if (!dst->funcs[fmap[i]].file && f->file)
			dst->funcs[fmap[i]].file = pg_strdup(f->file);
		if (!dst->funcs[fmap[i]].line)
			dst->funcs[fmap[i]].line = f->line;
		if (!dst->funcs[fmap[i]].code[0])
			pg_profile_set_code(dst, fmap[i], f->code);
		dst->funcs[fmap[i]].raised += f->raised;
		dst->funcs[fmap[i]].handled += f->handled;
	}

	for (size_t t = 0; t < src->ntrials; t++) {
		const struct pg_trial *st = &src->trials[t];
		size_t ti = pg_profile_add_trial(dst);
		struct pg_trial *dt = &dst->trials[ti];
		struct pg_sample *row = dt->samples;
		*dt = *st;
		dt->samples = row;
		for (size_t i = 0; i < src->nfuncs; i++)
			row[fmap[i]] = st->samples[i];
	}

	for (size_t i = 0; i < src->nedges; i++) {
		struct pg_edge e = src->edges[i];
		e.caller = fmap[e.caller];
		e.callee = fmap[e.callee];
		pg_profile_add_edge(dst, &e);
	}

	if (src->nnodes) {
		uint32_t *nmap = pg_malloc(src->nnodes * sizeof(*nmap));
		pg_profile_root(dst);
		nmap[0] = 0;
		for (size_t i = 0; i < src->nnodes; i++) {
			const struct pg_node *sn = &src->nodes[i];
			if (i > 0)
				nmap[i] = pg_profile_child(
				    dst, nmap[sn->parent], fmap[sn->func]);
			struct pg_node *dn = &dst->nodes[nmap[i]];
			dn->calls += sn->calls;
			dn->self_ns = pg_sat_add_ns(dn->self_ns, sn->self_ns);
			dn->incl_ns = pg_sat_add_ns(dn->incl_ns, sn->incl_ns);
		}
		free(nmap);
	}

	copy_label(dst->mechanism, sizeof(dst->mechanism), src->mechanism);
	copy_label(dst->timer, sizeof(dst->timer), src->timer);
	copy_label(dst->python, sizeof(dst->python), src->python);
	if (dst->event_cost_ns == 0)
		dst->event_cost_ns = src->event_cost_ns;
	free(fmap);
}
