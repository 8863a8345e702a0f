/*
 * sampler_table.c - the production sampler's window: bounded tables of
 * the functions (code objects, held by a reference until the window is
 * described), distinct stacks (hashed, frames stored root first),
 * threads, asyncio task names, and a direct-mapped cache of line numbers
 * by (code, offset). Fixed caps: a sample that does not fit is counted
 * as overflow, never stored. No Python code runs here except reading
 * strings; the live window is touched only with the GIL held.
 */
#include "sampler_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void window_clear_strings(struct pg_sampler_window *w);

void pg_sampler_window_free(struct pg_sampler_window *w)
{
	if (!w)
		return;
	window_clear_strings(w);
	free(w->codes);
	free(w->ids);
	free(w->files);
	free(w->lines);
	free(w->fkeys);
	free(w->fvals);
	free(w->frames);
	free(w->stacks);
	free(w->sslots);
	free(w->line_cache);
	free(w->threads);
	free(w->tslots);
	free(w);
}

struct pg_sampler_window *pg_sampler_window_new(void)
{
	struct pg_sampler_window *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->codes = calloc(PG_SAMPLER_MAX_FUNCS, sizeof(*w->codes));
	w->ids = calloc(PG_SAMPLER_MAX_FUNCS, sizeof(*w->ids));
	w->files = calloc(PG_SAMPLER_MAX_FUNCS, sizeof(*w->files));
	w->lines = calloc(PG_SAMPLER_MAX_FUNCS, sizeof(*w->lines));
	w->fkeys = calloc(PG_SAMPLER_FUNC_SLOTS, sizeof(*w->fkeys));
	w->fvals = calloc(PG_SAMPLER_FUNC_SLOTS, sizeof(*w->fvals));
	w->frames = calloc(PG_SAMPLER_MAX_FRAMES, sizeof(*w->frames));
	w->stacks = calloc(PG_SAMPLER_MAX_STACKS, sizeof(*w->stacks));
	w->sslots = calloc(PG_SAMPLER_STACK_SLOTS, sizeof(*w->sslots));
	w->line_cache = calloc(PG_SAMPLER_LINE_SLOTS, sizeof(*w->line_cache));
	w->threads = calloc(PG_SAMPLER_WINDOW_THREADS, sizeof(*w->threads));
	w->tslots = calloc(PG_SAMPLER_THREAD_SLOTS, sizeof(*w->tslots));
	if (!w->line_cache || !w->threads || !w->tslots || !w->codes ||
	    !w->ids || !w->files || !w->lines || !w->fkeys || !w->fvals ||
	    !w->frames || !w->stacks || !w->sslots) {
		pg_sampler_window_free(w);
		return NULL;
	}
	return w;
}

/* Forget the strings of a described window (no GIL needed). */
static void window_clear_strings(struct pg_sampler_window *w)
{
	for (uint32_t i = 0; i < w->nfuncs; i++) {
		free(w->ids[i]);
		free(w->files[i]);
		w->ids[i] = w->files[i] = NULL;
	}
	for (uint32_t i = 0; i < w->nthreads; i++)
		free(w->threads[i].name);
	for (uint32_t i = 0; i < w->ntasks; i++)
		free(w->tasks[i]);
}

/* Empty w for a window starting at start_ns (its code references must
 * already have been dropped). */
void pg_sampler_window_reset(struct pg_sampler_window *w, int64_t start_ns)
{
	window_clear_strings(w);
	memset(w->fkeys, 0, PG_SAMPLER_FUNC_SLOTS * sizeof(*w->fkeys));
	memset(w->sslots, 0, PG_SAMPLER_STACK_SLOTS * sizeof(*w->sslots));
	memset(w->line_cache, 0,
	       PG_SAMPLER_LINE_SLOTS * sizeof(*w->line_cache));
	memset(w->tslots, 0, PG_SAMPLER_THREAD_SLOTS * sizeof(*w->tslots));
	w->nfuncs = w->nframes = w->nstacks = w->nthreads = w->ntasks = 0;
	w->named = 0;
	w->ticks = w->samples = w->overflow = w->errors = 0;
	w->idle = w->main_ticks = w->timer_ticks = 0;
	w->gil_wait_ns = w->busy_ns = 0;
	w->start_ns = start_ns;
	w->end_ns = 0;
}

/* Drop the window's code references (GIL held). */
void pg_sampler_window_drop_codes(struct pg_sampler_window *w)
{
	for (uint32_t i = 0; i < w->nfuncs; i++)
		Py_CLEAR(w->codes[i]);
}

static uint32_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* The function index of code in w, added (with a reference) when new;
 * UINT32_MAX when the table is full. */
uint32_t pg_sampler_func_intern(struct pg_sampler_window *w, PyObject *code)
{
	uint32_t i = hash_ptr(code) & (PG_SAMPLER_FUNC_SLOTS - 1);
	while (w->fkeys[i]) {
		if (w->fkeys[i] == code)
			return w->fvals[i];
		i = (i + 1) & (PG_SAMPLER_FUNC_SLOTS - 1);
	}
	if (w->nfuncs == PG_SAMPLER_MAX_FUNCS)
		return UINT32_MAX;
	w->fkeys[i] = code;
	w->fvals[i] = w->nfuncs;
	Py_INCREF(code);
	w->codes[w->nfuncs] = code;
	return w->nfuncs++;
}

/* The line of code at byte offset lasti, cached per window by (code,
 * offset): computing it walks the code's line table. */
int32_t pg_sampler_line_of(struct pg_sampler_window *w, PyCodeObject *code,
			   int lasti, int held)
{
	if (lasti < 0 || !held) { /* held: w has a reference to code */
		int line = PyCode_Addr2Line(code, lasti);
		return line > 0 ? line : 0;
	}
	uint32_t h = (hash_ptr(code) ^ ((uint32_t)lasti * 0x9E3779B1u)) &
		     (PG_SAMPLER_LINE_SLOTS - 1);
	struct pg_sampler_line *e = &w->line_cache[h];
	if (e->code == code && e->lasti == lasti)
		return e->line;
	int line = PyCode_Addr2Line(code, lasti);
	e->code = code;
	e->lasti = lasti;
	e->line = line > 0 ? line : 0;
	return e->line;
}

char *pg_sampler_dup_utf8(PyObject *s)
{
	if (!s || !PyUnicode_Check(s))
		return NULL;
	const char *c = PyUnicode_AsUTF8(s);
	if (!c) {
		PyErr_Clear();
		return NULL;
	}
	return strndup(c, PG_SAMPLER_MAX_LABEL);
}

/* Call fn(args) ignoring failures: the program never sees them. */
PyObject *pg_sampler_call_quiet(PyObject *fn, const char *fmt, ...)
{
	if (!fn)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	PyObject *args = Py_VaBuildValue(fmt, ap);
	va_end(ap);
	PyObject *r = args ? PyObject_CallObject(fn, args) : NULL;
	Py_XDECREF(args);
	if (!r)
		PyErr_Clear();
	return r;
}

/* Where ident is, or goes, in w->tslots. */
static uint32_t *tslot_of(const struct pg_sampler_window *w,
			  unsigned long ident)
{
	uint32_t i =
	    hash_ptr((const void *)ident) & (PG_SAMPLER_THREAD_SLOTS - 1);
	while (w->tslots[i] && w->threads[w->tslots[i] - 1].ident != ident)
		i = (i + 1) & (PG_SAMPLER_THREAD_SLOTS - 1);
	return &w->tslots[i];
}

uint32_t pg_sampler_thread_find(const struct pg_sampler_window *w,
				unsigned long ident)
{
	uint32_t s = *tslot_of(w, ident);
	return s && !w->threads[s - 1].ended ? s - 1 : UINT32_MAX;
}

/*
 * The slot of thread ident in w, added (without a name) when new. No
 * Python code runs here: the walk over thread states must not let the
 * interpreter switch threads (a thread state could be freed under it).
 */
uint32_t pg_sampler_thread_slot(struct pg_sampler_window *w,
				unsigned long ident)
{
	uint32_t *s = tslot_of(w, ident);
	if (*s && !w->threads[*s - 1].ended)
		return *s - 1;
	if (w->nthreads == PG_SAMPLER_WINDOW_THREADS)
		return UINT32_MAX;
	w->threads[w->nthreads] = (struct pg_sampler_thread){.ident = ident};
	*s = ++w->nthreads;
	return *s - 1;
}

void pg_sampler_thread_ended(struct pg_sampler_window *w, unsigned long ident)
{
	uint32_t s = *tslot_of(w, ident);
	if (s)
		w->threads[s - 1].ended = 1;
}

int32_t pg_sampler_task_slot(struct pg_sampler_window *w, PyObject *name)
{
	const char *c = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
	if (!c) {
		PyErr_Clear();
		return -1;
	}
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (strncmp(w->tasks[i], c, PG_SAMPLER_MAX_LABEL) == 0)
			return (int32_t)i;
	if (w->ntasks == PG_SAMPLER_MAX_TASKS)
		return -1;
	char *d = strndup(c, PG_SAMPLER_MAX_LABEL);
	if (!d)
		return -1;
	w->tasks[w->ntasks] = d;
	return (int32_t)w->ntasks++;
}

/* Add one sample of stack fr[0..depth) (leaf first) to w. */
void pg_sampler_add_sample(struct pg_sampler_window *w,
			   const struct pg_sampler_frame *fr, uint32_t depth,
			   uint32_t thread, int32_t task, uint32_t flags,
			   int64_t value_ns)
{
	uint64_t h = 1469598103934665603ULL ^ thread ^ ((uint64_t)task << 20) ^
		     ((uint64_t)flags << 40);
	for (uint32_t i = 0; i < depth; i++) {
		h = (h ^ fr[i].func) * 1099511628211ULL;
		h = (h ^ (uint32_t)fr[i].line) * 1099511628211ULL;
	}
	w->samples++;
	uint32_t i = (uint32_t)(h ^ (h >> 32)) & (PG_SAMPLER_STACK_SLOTS - 1);
	while (w->sslots[i]) {
		struct pg_sampler_stack *s = &w->stacks[w->sslots[i] - 1];
		if (s->hash == h && s->depth == depth && s->thread == thread &&
		    s->task == task && s->flags == flags) {
			int same = 1;
			for (uint32_t k = 0; k < depth && same; k++) {
				const struct pg_sampler_frame *a =
				    &w->frames[s->first + depth - 1 - k];
				same = a->func == fr[k].func &&
				       a->line == fr[k].line;
			}
			if (same) {
				s->count++;
				s->value_ns += value_ns;
				return;
			}
		}
		i = (i + 1) & (PG_SAMPLER_STACK_SLOTS - 1);
	}
	if (w->nstacks == PG_SAMPLER_MAX_STACKS ||
	    w->nframes + depth > PG_SAMPLER_MAX_FRAMES) {
		w->overflow++;
		return;
	}
	struct pg_sampler_stack *s = &w->stacks[w->nstacks];
	s->hash = h;
	s->first = w->nframes;
	s->depth = depth;
	s->thread = thread;
	s->task = task;
	s->flags = flags;
	s->count = 1;
	s->value_ns = value_ns;
	for (uint32_t k = 0; k < depth; k++) /* stored root first */
		w->frames[w->nframes + k] = fr[depth - 1 - k];
	w->nframes += depth;
	w->sslots[i] = ++w->nstacks;
}
