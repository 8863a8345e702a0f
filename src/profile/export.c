/*
 * export.c - profile exports for other tools: pstats (Python marshal of
 * the dict pstats.Stats loads), collapsed stacks (flamegraph.pl) and
 * speedscope's JSON file format.
 *
 * Values: functions use per-trial medians (like the table); edges and tree
 * nodes, which are summed over trials, are divided by the trial count, so
 * a multi-trial export reads as "one typical trial". A single-trial
 * profile exports exactly. Every export is built in a private buffer and
 * appended to `out` in one piece, so a capped `out` is never left holding
 * half a file.
 *
 * The marshal writer uses only types every CPython 3.x loads: dict '{',
 * tuple '(', str 'u' (UTF-8; invalid bytes become U+FFFD), int 'i' and
 * long 'l', binary float 'g'; no references.
 *
 * Collapsed stacks and speedscope walk the calling-context tree once,
 * iteratively: speedscope's evented form opens and closes each node once,
 * so its size is linear in the tree; collapsed stacks repeat each path by
 * nature, so lines are cut at PG_COLLAPSED_MAX_DEPTH frames. Neither can
 * show a negative self time (compensation leaves a few on tiny nodes):
 * collapsed stacks leave such a node's own line out, speedscope's events
 * spend 0 ns in it, so their clock never runs backwards.
 *
 * Deliberately not here: reading any of these formats.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

/* ---- marshal ------------------------------------------------------- */

static void put_u32(struct pg_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8),
			      (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	pg_buf_add(b, x, 4);
}

static void m_int(struct pg_buf *b, int64_t v)
{
	if (v >= INT32_MIN && v <= INT32_MAX) {
		pg_buf_putc(b, 'i');
		put_u32(b, (uint32_t)(int32_t)v);
		return;
	}
	/* TYPE_LONG: signed digit count, then 15-bit digits, little end. */
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint16_t digits[5];
	int n = 0;
	while (mag) {
		digits[n++] = (uint16_t)(mag & 0x7fff);
		mag >>= 15;
	}
	pg_buf_putc(b, 'l');
	put_u32(b, (uint32_t)(int32_t)(v < 0 ? -n : n));
	for (int i = 0; i < n; i++) {
		unsigned char x[2] = {(unsigned char)digits[i],
				      (unsigned char)(digits[i] >> 8)};
		pg_buf_add(b, x, 2);
	}
}

static void m_float(struct pg_buf *b, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	pg_buf_putc(b, 'g');
	put_u32(b, (uint32_t)bits);
	put_u32(b, (uint32_t)(bits >> 32));
}

static void m_tuple(struct pg_buf *b, uint32_t n)
{
	pg_buf_putc(b, '(');
	put_u32(b, n);
}

/* Append s with invalid UTF-8 replaced by U+FFFD (marshal would refuse). */
static void utf8_clean(struct pg_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (*u) {
		size_t len = 0;
		uint32_t cp = 0, min = 0;
		if (*u < 0x80)
			len = 1;
		else if (*u >= 0xc2 && *u <= 0xdf)
			len = 2, cp = *u & 0x1f, min = 0x80;
		else if (*u >= 0xe0 && *u <= 0xef)
			len = 3, cp = *u & 0x0f, min = 0x800;
		else if (*u >= 0xf0 && *u <= 0xf4)
			len = 4, cp = *u & 0x07, min = 0x10000;
		bool ok = len > 0;
		for (size_t i = 1; ok && i < len; i++) {
			ok = (u[i] & 0xc0) == 0x80;
			cp = (cp << 6) | (u[i] & 0x3f);
		}
		if (ok && len > 1 &&
		    (cp < min || cp > 0x10ffff ||
		     (cp >= 0xd800 && cp <= 0xdfff)))
			ok = false;
		if (ok) {
			pg_buf_add(b, u, len);
			u += len;
		} else {
			pg_buf_add(b, "\xef\xbf\xbd", 3);
			u++;
		}
	}
}

static void m_str(struct pg_buf *b, const char *s)
{
	struct pg_buf tmp;
	pg_buf_init(&tmp, 0);
	utf8_clean(&tmp, s);
	pg_buf_putc(b, 'u');
	put_u32(b, (uint32_t)tmp.len);
	pg_buf_add(b, tmp.data, tmp.len);
	pg_buf_release(&tmp);
}

/* pstats key of a function: (filename, lineno, funcname). */
struct pkey {
	char *file, *name;
	int line;
};

static void make_keys(const struct pg_profile *p, struct pkey *keys)
{
	struct pg_map seen;
	pg_map_init(&seen);
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct pg_func *f = &p->funcs[i];
		struct pkey *k = &keys[i];
		const char *colon = strrchr(f->id, ':');
		if ((f->flags & PG_FUNC_BUILTIN) ||
		    pg_str_starts(f->id, "<builtin>:")) {
			const char *name = pg_str_starts(f->id, "<builtin>:")
					       ? f->id + 10
					       : f->id;
			k->file = pg_strdup("~");
			k->line = 0;
			k->name = pg_asprintf("<built-in method %s>", name);
		} else if (colon) {
			k->file = pg_strndup(f->id, (size_t)(colon - f->id));
			k->line = f->line;
			k->name = pg_strdup(colon + 1);
		} else {
			k->file = pg_strdup(f->file ? f->file : "");
			k->line = f->line;
			k->name = pg_strdup(f->id);
		}
		/* Keys must be unique or the dict silently loses functions. */
		char *flat =
		    pg_asprintf("%s\n%d\n%s", k->file, k->line, k->name);
		size_t dummy;
		if (pg_map_get(&seen, flat, &dummy)) {
			char *name = pg_asprintf("%s [%s]", k->name, f->id);
			free(k->name);
			k->name = name;
			free(flat);
			flat = pg_asprintf("%s\n%d\n%s", k->file, k->line,
					   k->name);
		}
		pg_map_put(&seen, flat, i);
		free(flat);
	}
	pg_map_release(&seen);
}

static void m_key(struct pg_buf *b, const struct pkey *k)
{
	m_tuple(b, 3);
	m_str(b, k->file);
	m_int(b, k->line);
	m_str(b, k->name);
}

int pg_profile_export_pstats(const struct pg_profile *p, struct pg_buf *out)
{
	size_t n = p->nfuncs;
	double nt = p->ntrials ? (double)p->ntrials : 1;
	struct pkey *keys = pg_calloc(n ? n : 1, sizeof(*keys));
	struct pg_func_summary *s;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	make_keys(p, keys);
	pg_profile_summarise(p, PG_SORT_NAME, &s);

	/* Incoming edges grouped by callee (counting sort). */
	size_t *start = pg_calloc(n + 1, sizeof(*start));
	size_t *order = pg_malloc((p->nedges ? p->nedges : 1) * sizeof(*order));
	for (size_t e = 0; e < p->nedges; e++)
		start[p->edges[e].callee + 1]++;
	for (size_t f = 0; f < n; f++)
		start[f + 1] += start[f];
	size_t *fill = pg_malloc((n ? n : 1) * sizeof(*fill));
	memcpy(fill, start, n * sizeof(*fill));
	for (size_t e = 0; e < p->nedges; e++)
		order[fill[p->edges[e].callee]++] = e;
	free(fill);

	pg_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		const struct pg_func_summary *fs = &s[i];
		uint32_t f = fs->func;
		m_key(&b, &keys[f]);
		/* (cc, nc, tt, ct, callers) */
		m_tuple(&b, 5);
		m_int(&b, (int64_t)llround(fs->pcalls));
		m_int(&b, (int64_t)llround(fs->calls));
		m_float(&b, fs->self_ns / 1e9);
		m_float(&b, fs->incl_ns / 1e9);
		pg_buf_putc(&b, '{');
		for (size_t k = start[f]; k < start[f + 1]; k++) {
			const struct pg_edge *e = &p->edges[order[k]];
			m_key(&b, &keys[e->caller]);
			/* As cProfile writes them: (nc, cc, tt, ct). */
			m_tuple(&b, 4);
			m_int(&b, (int64_t)llround((double)e->calls / nt));
			m_int(&b, (int64_t)llround((double)e->pcalls / nt));
			m_float(&b, (double)e->self_ns / nt / 1e9);
			m_float(&b, (double)e->incl_ns / nt / 1e9);
		}
		pg_buf_putc(&b, '0');
	}
	pg_buf_putc(&b, '0');

	for (size_t i = 0; i < n; i++) {
		free(keys[i].file);
		free(keys[i].name);
	}
	free(keys);
	free(s);
	free(start);
	free(order);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}

/* ---- walking the calling-context tree --------------------------------- */

#define NO_NODE UINT32_MAX

/*
 * The tree as child lists: first[n] is n's first child, next[c] the next
 * sibling of c (NO_NODE ends a list), children in index order. Nodes
 * whose parent is out of range are left out, so a walk from the root
 * visits every reachable node exactly once (each node has one parent).
 */
struct tree {
	uint32_t *first, *next;
	uint32_t *path; /* the walk's current path, root excluded */
	size_t depth;
};

static void tree_init(struct tree *t, const struct pg_profile *p)
{
	size_t n = p->nnodes ? p->nnodes : 1;
	t->first = pg_malloc(n * sizeof(uint32_t));
	t->next = pg_malloc(n * sizeof(uint32_t));
	t->path = pg_malloc(n * sizeof(uint32_t));
	t->depth = 0;
	for (size_t i = 0; i < n; i++)
		t->first[i] = t->next[i] = NO_NODE;
	for (size_t i = p->nnodes; i-- > 1;) {
		uint32_t parent = p->nodes[i].parent;
		if (parent >= p->nnodes || parent == i)
			continue;
		t->next[i] = t->first[parent];
		t->first[parent] = (uint32_t)i;
	}
}

static void tree_release(struct tree *t)
{
	free(t->first);
	free(t->next);
	free(t->path);
}

/*
 * Depth-first walk from the root without recursion (trees can be
 * thousands deep): enter(node) before its children, leave(node) after;
 * t->path[0..t->depth) is the path to the node, itself last.
 */
static void tree_walk(struct tree *t, const struct pg_profile *p,
		      void (*enter)(void *ctx, struct tree *t, uint32_t node),
		      void (*leave)(void *ctx, struct tree *t, uint32_t node),
		      void *ctx)
{
	if (!p->nnodes)
		return;
	t->depth = 0;
	uint32_t node = t->first[0];
	while (node != NO_NODE) {
		t->path[t->depth++] = node;
		if (enter)
			enter(ctx, t, node);
		if (t->first[node] != NO_NODE) {
			node = t->first[node];
			continue;
		}
		/* Leave nodes until one has a next sibling. */
		for (;;) {
			uint32_t done = t->path[t->depth - 1];
			if (leave)
				leave(ctx, t, done);
			t->depth--;
			if (t->next[done] != NO_NODE) {
				node = t->next[done];
				break;
			}
			if (!t->depth) {
				node = NO_NODE;
				break;
			}
		}
	}
}

/* A node's self time in one typical trial, rounded to units of `unit`. */
static int64_t node_self(const struct pg_profile *p, uint32_t node, double unit)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	return llround((double)p->nodes[node].self_ns / nt / unit);
}

/* ---- collapsed stacks ------------------------------------------------ */

/* A frame name for collapsed stacks: ';' separates frames, so replace it. */
static void put_frame(struct pg_buf *b, const char *id)
{
	for (const char *c = id; *c; c++)
		pg_buf_putc(b, *c == ';' ? ',' : (*c == '\n' ? ' ' : *c));
}

struct collapsed_ctx {
	const struct pg_profile *p;
	struct pg_buf *b;
};

static void collapsed_line(void *ctx, struct tree *t, uint32_t node)
{
	struct collapsed_ctx *c = ctx;
	int64_t us = node_self(c->p, node, 1e3);
	if (us <= 0)
		return;
	size_t shown = t->depth;
	if (shown > PG_COLLAPSED_MAX_DEPTH)
		shown = PG_COLLAPSED_MAX_DEPTH - 1;
	for (size_t i = 0; i < shown; i++) {
		if (i)
			pg_buf_putc(c->b, ';');
		put_frame(c->b, c->p->funcs[c->p->nodes[t->path[i]].func].id);
	}
	if (shown < t->depth)
		pg_buf_puts(c->b, ";[deeper frames]");
	pg_buf_printf(c->b, " %" PRId64 "\n", us);
}

int pg_profile_export_collapsed(const struct pg_profile *p, struct pg_buf *out)
{
	struct pg_buf b;
	pg_buf_init(&b, 0);
	struct tree t;
	tree_init(&t, p);
	struct collapsed_ctx c = {p, &b};
	tree_walk(&t, p, collapsed_line, NULL, &c);
	tree_release(&t);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}

/* ---- speedscope ------------------------------------------------------ */

struct speedscope_ctx {
	const struct pg_profile *p;
	struct pg_jw *w;
	int64_t *incl; /* per node: self plus children, rounded ns, >= 0 */
	int64_t at;    /* the evented profile's clock */
	uint32_t skip; /* depth at which an all-zero subtree began, or 0 */
};

/*
 * A node's self time as the evented profile spends it: never below 0. The
 * hook's compensated times may be slightly negative for a node (an empty
 * body, docs/hook-protocol.md), and an event clock that runs backwards is
 * a file speedscope refuses ("Samples must be provided in increasing
 * order of cumulative value").
 */
static int64_t evented_self(const struct speedscope_ctx *c, uint32_t node)
{
	int64_t self = node_self(c->p, node, 1);
	return self > 0 ? self : 0;
}

static void add_to_parent(void *ctx, struct tree *t, uint32_t node)
{
	struct speedscope_ctx *c = ctx;
	c->incl[node] = pg_sat_add_ns(c->incl[node], evented_self(c, node));
	if (t->depth > 1) {
		uint32_t parent = t->path[t->depth - 2];
		c->incl[parent] = pg_sat_add_ns(c->incl[parent], c->incl[node]);
	}
}

static void event(struct speedscope_ctx *c, const char *type, uint32_t node)
{
	pg_jw_obj_begin(c->w);
	pg_jw_key(c->w, "type");
	pg_jw_str(c->w, type);
	pg_jw_key(c->w, "frame");
	pg_jw_uint(c->w, c->p->nodes[node].func);
	pg_jw_key(c->w, "at");
	pg_jw_int(c->w, c->at);
	pg_jw_obj_end(c->w);
}

/* Open a frame, then spend its self time before its children run. */
static void open_frame(void *ctx, struct tree *t, uint32_t node)
{
	struct speedscope_ctx *c = ctx;
	if (c->skip)
		return;
	if (c->incl[node] <= 0) {
		c->skip = (uint32_t)t->depth;
		return;
	}
	event(c, "O", node);
	c->at = pg_sat_add_ns(c->at, evented_self(c, node));
}

static void close_frame(void *ctx, struct tree *t, uint32_t node)
{
	struct speedscope_ctx *c = ctx;
	if (c->skip) {
		if (c->skip == t->depth)
			c->skip = 0;
		return;
	}
	event(c, "C", node);
}

/* speedscope's shared frame table: one frame per function, same index. */
static void write_speedscope_frames(const struct pg_profile *p, struct pg_jw *w)
{
	pg_jw_key(w, "shared");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "frames");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct pg_func *f = &p->funcs[i];
		pg_jw_obj_begin(w);
		pg_jw_key(w, "name");
		pg_jw_str(w, f->id);
		if (f->file) {
			pg_jw_key(w, "file");
			pg_jw_str(w, f->file);
		}
		if (f->line > 0) {
			pg_jw_key(w, "line");
			pg_jw_int(w, f->line);
		}
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

/*
 * One evented profile: each tree node opens and closes once, so the file
 * grows with the tree, not with the tree's depth squared.
 */
static void write_speedscope_profile(const struct pg_profile *p,
				     const char *title, struct pg_jw *w)
{
	struct tree t;
	tree_init(&t, p);
	struct speedscope_ctx c = {
	    .p = p,
	    .w = w,
	    .incl = pg_calloc(p->nnodes ? p->nnodes : 1, sizeof(int64_t)),
	};
	tree_walk(&t, p, NULL, add_to_parent, &c);
	pg_jw_obj_begin(w);
	pg_jw_key(w, "type");
	pg_jw_str(w, "evented");
	pg_jw_key(w, "name");
	pg_jw_str(w, title);
	pg_jw_key(w, "unit");
	pg_jw_str(w, "nanoseconds");
	pg_jw_key(w, "startValue");
	pg_jw_int(w, 0);
	pg_jw_key(w, "events");
	pg_jw_arr_begin(w);
	tree_walk(&t, p, open_frame, close_frame, &c);
	pg_jw_arr_end(w);
	pg_jw_key(w, "endValue");
	pg_jw_int(w, c.at);
	pg_jw_obj_end(w);
	free(c.incl);
	tree_release(&t);
}

int pg_profile_export_speedscope(const struct pg_profile *p, const char *name,
				 struct pg_buf *out)
{
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, false);
	const char *title = name ? name : "perfguard profile";

	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "$schema");
	pg_jw_str(&w, "https://www.speedscope.app/file-format-schema.json");
	write_speedscope_frames(p, &w);
	pg_jw_key(&w, "profiles");
	pg_jw_arr_begin(&w);
	write_speedscope_profile(p, title, &w);
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "name");
	pg_jw_str(&w, title);
	pg_jw_key(&w, "activeProfileIndex");
	pg_jw_int(&w, 0);
	pg_jw_key(&w, "exporter");
	pg_jw_str(&w, "perfguard " PG_VERSION);
	pg_jw_obj_end(&w);
	pg_buf_putc(&b, '\n');

	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}
