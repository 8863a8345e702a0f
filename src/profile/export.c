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

/* ---- collapsed stacks ------------------------------------------------ */

/* A frame name for collapsed stacks: ';' separates frames, so replace it. */
static void put_frame(struct pg_buf *b, const char *id)
{
	for (const char *c = id; *c; c++)
		pg_buf_putc(b, *c == ';' ? ',' : (*c == '\n' ? ' ' : *c));
}

static void put_path(struct pg_buf *b, const struct pg_profile *p,
		     uint32_t node, uint32_t *stack)
{
	size_t depth = 0;
	for (uint32_t x = node; x != 0; x = p->nodes[x].parent)
		stack[depth++] = x;
	while (depth--) {
		put_frame(b, p->funcs[p->nodes[stack[depth]].func].id);
		if (depth)
			pg_buf_putc(b, ';');
	}
}

int pg_profile_export_collapsed(const struct pg_profile *p, struct pg_buf *out)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	uint32_t *stack =
	    pg_malloc((p->nnodes ? p->nnodes : 1) * sizeof(*stack));
	struct pg_buf b;
	pg_buf_init(&b, 0);
	for (size_t i = 1; i < p->nnodes; i++) {
		int64_t us = llround((double)p->nodes[i].self_ns / nt / 1e3);
		if (us <= 0)
			continue;
		put_path(&b, p, (uint32_t)i, stack);
		pg_buf_printf(&b, " %" PRId64 "\n", us);
	}
	free(stack);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}

/* ---- speedscope ------------------------------------------------------ */

int pg_profile_export_speedscope(const struct pg_profile *p, const char *name,
				 struct pg_buf *out)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	uint32_t *stack =
	    pg_malloc((p->nnodes ? p->nnodes : 1) * sizeof(*stack));
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, false);
	const char *title = name ? name : "perfguard profile";

	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "$schema");
	pg_jw_str(&w, "https://www.speedscope.app/file-format-schema.json");
	pg_jw_key(&w, "shared");
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "frames");
	pg_jw_arr_begin(&w);
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct pg_func *f = &p->funcs[i];
		pg_jw_obj_begin(&w);
		pg_jw_key(&w, "name");
		pg_jw_str(&w, f->id);
		if (f->file) {
			pg_jw_key(&w, "file");
			pg_jw_str(&w, f->file);
		}
		if (f->line > 0) {
			pg_jw_key(&w, "line");
			pg_jw_int(&w, f->line);
		}
		pg_jw_obj_end(&w);
	}
	pg_jw_arr_end(&w);
	pg_jw_obj_end(&w);

	/* One sample per tree node with self time, weighted in ns. */
	int64_t total = 0;
	pg_jw_key(&w, "profiles");
	pg_jw_arr_begin(&w);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "type");
	pg_jw_str(&w, "sampled");
	pg_jw_key(&w, "name");
	pg_jw_str(&w, title);
	pg_jw_key(&w, "unit");
	pg_jw_str(&w, "nanoseconds");
	pg_jw_key(&w, "startValue");
	pg_jw_int(&w, 0);
	pg_jw_key(&w, "samples");
	pg_jw_arr_begin(&w);
	for (size_t i = 1; i < p->nnodes; i++) {
		int64_t ns = llround((double)p->nodes[i].self_ns / nt);
		if (ns <= 0)
			continue;
		size_t depth = 0;
		for (uint32_t x = (uint32_t)i; x != 0; x = p->nodes[x].parent)
			stack[depth++] = x;
		pg_jw_arr_begin(&w);
		while (depth--)
			pg_jw_uint(&w, p->nodes[stack[depth]].func);
		pg_jw_arr_end(&w);
	}
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "weights");
	pg_jw_arr_begin(&w);
	for (size_t i = 1; i < p->nnodes; i++) {
		int64_t ns = llround((double)p->nodes[i].self_ns / nt);
		if (ns <= 0)
			continue;
		pg_jw_int(&w, ns);
		total = pg_sat_add_ns(total, ns);
	}
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "endValue");
	pg_jw_int(&w, total);
	pg_jw_obj_end(&w);
	pg_jw_arr_end(&w);

	pg_jw_key(&w, "name");
	pg_jw_str(&w, title);
	pg_jw_key(&w, "activeProfileIndex");
	pg_jw_int(&w, 0);
	pg_jw_key(&w, "exporter");
	pg_jw_str(&w, "perfguard " PG_VERSION);
	pg_jw_obj_end(&w);
	pg_buf_putc(&b, '\n');

	free(stack);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}
