/*
 * sampler.c - perfguard's production sampler: a C background thread of
 * the hook extension that records every Python thread's stack at a fixed
 * rate (100 Hz by default) and writes one window file per window
 * (docs/sampler-format.md), which `perfguard record` turns into pprof and
 * a results set.
 *
 * At each tick the thread takes the GIL (with its own thread state, made
 * once), walks the interpreter's thread states with public APIs
 * (PyThreadState_GetFrame, PyFrame_GetBack/GetCode/GetLineNumber, 3.9 to
 * 3.13), and releases it; nothing else runs with the GIL except, once per
 * window, describing the window's functions (the same Python helper that
 * names functions for the tracing hook) and the thread names. Each
 * thread's CPU clock (pthread_getcpuclockid) decides whether it ran since
 * the previous tick: in cpu mode a sample counts only for threads that
 * ran (its time value is the CPU time used), in wall mode every thread
 * counts (its value is the wall time since the previous tick) and idle
 * ones are marked. A leaf frame stopped on a call instruction is in a C
 * function: the sample stays with that Python frame and is marked.
 *
 * Invariants: the live window is only touched with the GIL held; the file
 * is formatted and written without it; code objects in a window are held
 * by a reference until the window is described. Memory is bounded: fixed
 * caps on functions, distinct stacks and frames per window (a sample that
 * does not fit is counted as overflow, never stored); a stack deeper than
 * MAX_DEPTH keeps its innermost frames and is marked truncated.
 *
 * It deliberately never raises into the program (errors are counted and
 * written in the window), never samples its own thread, and does not run
 * during interpreter finalization: the Python side stops it at exit, and
 * after fork() the child re-arms a fresh thread and window.
 */
#include "sampler.h"

#include <frameobject.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH   128
#define MAX_FUNCS   16384
#define FUNC_SLOTS  (MAX_FUNCS * 2)
#define MAX_STACKS  8192
#define STACK_SLOTS (MAX_STACKS * 2)
#define MAX_FRAMES  (1u << 18)
#define LINE_SLOTS  8192
#define MAX_THREADS 512
#define MAX_TASKS   1024
#define MAX_LABEL   256

enum {
	SAMPLE_IDLE = 1u << 0,	    /* wall mode: the thread did not run */
	SAMPLE_NATIVE = 1u << 1,    /* the leaf frame is in a C function */
	SAMPLE_TRUNCATED = 1u << 2, /* deeper than MAX_DEPTH */
};

struct frame {
	uint32_t func;
	int32_t line;
};

struct stack {
	uint64_t hash;
	uint32_t first, depth; /* frames[first .. first+depth), root first */
	uint32_t thread;       /* thread slot */
	int32_t task;	       /* task slot, -1 for none */
	uint32_t flags;
	uint64_t count;
	int64_t value_ns;
};

struct line_slot { /* a line number cache entry */
	const void *code;
	int32_t lasti, line;
};

struct thread_label {
	unsigned long ident;
	char *name;
	int tries; /* name lookups that found none */
};

struct window {
	int64_t start_ns, end_ns; /* unix time */
	PyObject **codes;	  /* nfuncs strong references */
	char **ids, **files;	  /* descriptions (after describe) */
	int *lines;
	uint32_t nfuncs;
	const void **fkeys; /* FUNC_SLOTS: code pointer, NULL = empty */
	uint32_t *fvals;
	struct frame *frames;
	uint32_t nframes;
	struct stack *stacks;
	uint32_t nstacks;
	uint32_t *sslots; /* STACK_SLOTS: stack index + 1, 0 = empty */
	struct line_slot *line_cache; /* LINE_SLOTS, direct-mapped */
	struct thread_label threads[MAX_THREADS];
	uint32_t nthreads;
	char *tasks[MAX_TASKS];
	uint32_t ntasks;
	uint64_t ticks, samples, overflow, errors;
};

/* Per-thread CPU clock readings, across windows. */
struct thread_cpu {
	unsigned long ident;
	int64_t last_cpu_ns;
	uint64_t seen_tick;
};

static struct {
	int running;
	int paused; /* stopped around os.fork() */
	volatile int stop;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pid_t pid;
	/* configuration */
	int rate_hz;
	int cpu_mode;
	int64_t period_ns, window_ns;
	char *out_dir;
	char *labels; /* "label k v\n" lines for the window header */
	char host[256];
	char python[32];  /* "3.12.1" */
	int nudge_signal; /* see m_nudged(); 0 = none */
	pid_t main_tid;	  /* when nudge_signal > 0 */
	timer_t timer;	  /* cpu mode: on the main thread's CPU clock */
	int timer_ok;
	pthread_t main_thread;
	PyObject
	    *describe;	 /* describe(code, None, False) -> (id, file, line) */
	PyObject *names; /* names(ident) -> str or None */
	PyObject *tasks; /* tasks() -> {ident: task name} or None */
	PyObject *str_tasks_mod, *str_current_tasks; /* interned names */
	unsigned char call_ops[256];		     /* opcodes that call */
	/* state */
	struct window *live, *spare;
	struct thread_cpu cpu[MAX_THREADS];
	uint32_t ncpu;
	uint64_t tick_no;
	int64_t last_tick_mono_ns; /* atomic: read by the sampler thread */
	uint64_t windows_written, write_errors;
	int64_t gil_wait_ns;   /* time spent waiting for the GIL */
	int64_t tick_ns;       /* time spent in ticks (GIL held) */
	int64_t thread_cpu_ns; /* CPU time of the sampler thread */
	uint64_t idle_ticks;   /* cpu mode: periods nobody ran (atomic) */
	uint64_t ticks_main, ticks_thread, ticks_late,
	    ticks_idle;	      /* since start */
	clockid_t main_clock; /* the main thread's CPU clock */
	int main_clock_ok;
	int64_t window_end_mono_ns;
	PyThreadState *tstate; /* the sampler thread's own */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Clock c in ns, -1 when it cannot be read. */
static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- windows --------------------------------------------------------- */

static void window_clear_strings(struct window *w);

static void window_free(struct window *w)
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
	free(w);
}

static struct window *window_new(void)
{
	struct window *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->codes = calloc(MAX_FUNCS, sizeof(*w->codes));
	w->ids = calloc(MAX_FUNCS, sizeof(*w->ids));
	w->files = calloc(MAX_FUNCS, sizeof(*w->files));
	w->lines = calloc(MAX_FUNCS, sizeof(*w->lines));
	w->fkeys = calloc(FUNC_SLOTS, sizeof(*w->fkeys));
	w->fvals = calloc(FUNC_SLOTS, sizeof(*w->fvals));
	w->frames = calloc(MAX_FRAMES, sizeof(*w->frames));
	w->stacks = calloc(MAX_STACKS, sizeof(*w->stacks));
	w->sslots = calloc(STACK_SLOTS, sizeof(*w->sslots));
	w->line_cache = calloc(LINE_SLOTS, sizeof(*w->line_cache));
	if (!w->line_cache || !w->codes || !w->ids || !w->files || !w->lines ||
	    !w->fkeys || !w->fvals || !w->frames || !w->stacks || !w->sslots) {
		window_free(w);
		return NULL;
	}
	return w;
}

/* Forget the strings of a described window (no GIL needed). */
static void window_clear_strings(struct window *w)
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
static void window_reset(struct window *w, int64_t start_ns)
{
	window_clear_strings(w);
	memset(w->fkeys, 0, FUNC_SLOTS * sizeof(*w->fkeys));
	memset(w->sslots, 0, STACK_SLOTS * sizeof(*w->sslots));
	memset(w->line_cache, 0, LINE_SLOTS * sizeof(*w->line_cache));
	w->nfuncs = w->nframes = w->nstacks = w->nthreads = w->ntasks = 0;
	w->ticks = w->samples = w->overflow = w->errors = 0;
	w->start_ns = start_ns;
	w->end_ns = 0;
}

/* Drop the window's code references (GIL held). */
static void window_drop_codes(struct window *w)
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
static uint32_t func_intern(struct window *w, PyObject *code)
{
	uint32_t i = hash_ptr(code) & (FUNC_SLOTS - 1);
	while (w->fkeys[i]) {
		if (w->fkeys[i] == code)
			return w->fvals[i];
		i = (i + 1) & (FUNC_SLOTS - 1);
	}
	if (w->nfuncs == MAX_FUNCS)
		return UINT32_MAX;
	w->fkeys[i] = code;
	w->fvals[i] = w->nfuncs;
	Py_INCREF(code);
	w->codes[w->nfuncs] = code;
	return w->nfuncs++;
}

static char *dup_utf8(PyObject *s)
{
	if (!s || !PyUnicode_Check(s))
		return NULL;
	const char *c = PyUnicode_AsUTF8(s);
	if (!c) {
		PyErr_Clear();
		return NULL;
	}
	return strndup(c, MAX_LABEL);
}

/* Call fn(args) ignoring failures: the program never sees them. */
static PyObject *call_quiet(PyObject *fn, const char *fmt, ...)
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

/*
 * The slot of thread ident in w, added (without a name) when new. No
 * Python code runs here: the walk over thread states must not let the
 * interpreter switch threads (a thread state could be freed under it).
 */
static uint32_t thread_slot(struct window *w, unsigned long ident)
{
	for (uint32_t i = 0; i < w->nthreads; i++)
		if (w->threads[i].ident == ident)
			return i;
	if (w->nthreads == MAX_THREADS)
		return UINT32_MAX;
	struct thread_label *t = &w->threads[w->nthreads];
	t->ident = ident;
	t->tries = 0;
	t->name = NULL;
	return w->nthreads++;
}

/*
 * Name the threads of w that have no name yet (after the walk: Python
 * code may run other threads, or a nested tick, which only appends
 * slots). A thread seen while starting is found on a later try.
 */
static void name_threads(struct window *w)
{
	for (uint32_t i = 0; i < w->nthreads; i++) {
		struct thread_label *t = &w->threads[i];
		if (t->name || t->tries >= 8)
			continue;
		t->tries++;
		PyObject *n = call_quiet(S.names, "(k)", t->ident);
		char *name = dup_utf8(n);
		Py_XDECREF(n);
		if (name && !t->name)
			t->name = name;
		else
			free(name);
	}
}

static int32_t task_slot(struct window *w, PyObject *name)
{
	const char *c = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
	if (!c) {
		PyErr_Clear();
		return -1;
	}
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (strncmp(w->tasks[i], c, MAX_LABEL) == 0)
			return (int32_t)i;
	if (w->ntasks == MAX_TASKS)
		return -1;
	char *d = strndup(c, MAX_LABEL);
	if (!d)
		return -1;
	w->tasks[w->ntasks] = d;
	return (int32_t)w->ntasks++;
}

/* Add one sample of stack fr[0..depth) (leaf first) to w. */
static void add_sample(struct window *w, const struct frame *fr, uint32_t depth,
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
	uint32_t i = (uint32_t)(h ^ (h >> 32)) & (STACK_SLOTS - 1);
	while (w->sslots[i]) {
		struct stack *s = &w->stacks[w->sslots[i] - 1];
		if (s->hash == h && s->depth == depth && s->thread == thread &&
		    s->task == task && s->flags == flags) {
			int same = 1;
			for (uint32_t k = 0; k < depth && same; k++) {
				const struct frame *a =
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
		i = (i + 1) & (STACK_SLOTS - 1);
	}
	if (w->nstacks == MAX_STACKS || w->nframes + depth > MAX_FRAMES) {
		w->overflow++;
		return;
	}
	struct stack *s = &w->stacks[w->nstacks];
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

/* ---- one tick (GIL held) --------------------------------------------- */

static int64_t thread_cpu_ns(unsigned long ident)
{
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid((pthread_t)ident, &cid) ||
	    clock_gettime(cid, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time thread ident used since the previous tick (-1: unknown). */
static int64_t cpu_used(unsigned long ident)
{
	int64_t now = thread_cpu_ns(ident);
	struct thread_cpu *t = NULL;
	for (uint32_t i = 0; i < S.ncpu; i++)
		if (S.cpu[i].ident == ident) {
			t = &S.cpu[i];
			break;
		}
	if (!t) {
		if (S.ncpu == MAX_THREADS) {
			/* forget threads not seen for a while */
			uint32_t k = 0;
			for (uint32_t i = 0; i < S.ncpu; i++)
				if (S.cpu[i].seen_tick + 2 >= S.tick_no)
					S.cpu[k++] = S.cpu[i];
			S.ncpu = k;
			if (S.ncpu == MAX_THREADS)
				return -1;
		}
		t = &S.cpu[S.ncpu++];
		t->ident = ident;
		t->last_cpu_ns = now;
		t->seen_tick = S.tick_no;
		return -1; /* first sight: no interval yet */
	}
	int64_t used = now - t->last_cpu_ns;
	if (t->seen_tick + 1 != S.tick_no || used < 0)
		used = -1; /* a gap, or a new thread with a reused ident */
	t->last_cpu_ns = now;
	t->seen_tick = S.tick_no;
	return now < 0 ? -1 : used;
}

static int frame_lasti_bytes(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
	return PyFrame_GetLasti(f);
#elif PY_VERSION_HEX >= 0x030A0000
	return f->f_lasti * 2;
#else
	return f->f_lasti;
#endif
}

/* Is a frame of code at byte offset off stopped on a call instruction? */
static int in_call(PyCodeObject *code, int off)
{
	if (off < 0)
		return 0;
#if PY_VERSION_HEX >= 0x030B0000
	Py_ssize_t len = Py_SIZE(code) * 2;
	const unsigned char *bytes =
	    (const unsigned char *)code->co_code_adaptive;
#else
	Py_ssize_t len = PyBytes_GET_SIZE(code->co_code);
	const unsigned char *bytes =
	    (const unsigned char *)PyBytes_AS_STRING(code->co_code);
#endif
	return off < len && S.call_ops[bytes[off]];
}

/*
 * The {thread ident: task name} of the asyncio tasks running now, or
 * NULL. Most ticks see no task running (asyncio not imported, or the
 * loop between tasks): that is checked in C, without calling Python.
 */
static PyObject *task_names(void)
{
	if (!S.tasks || !S.str_tasks_mod || !S.str_current_tasks)
		return NULL;
	PyObject *mods = PyImport_GetModuleDict();
	PyObject *mod = mods && PyDict_Check(mods)
			    ? PyDict_GetItemWithError(mods, S.str_tasks_mod)
			    : NULL;
	PyObject *cur = mod ? PyObject_GetAttr(mod, S.str_current_tasks) : NULL;
	int none = !cur || (PyDict_Check(cur) && PyDict_GET_SIZE(cur) == 0);
	Py_XDECREF(cur);
	PyErr_Clear();
	if (none)
		return NULL;
	PyObject *r = call_quiet(S.tasks, "()");
	if (r && !PyDict_Check(r))
		Py_CLEAR(r);
	return r;
}

/* The line of frame f (at byte offset lasti of code), cached per window
 * by (code, offset): computing it walks the code's line table. */
static int32_t line_of(struct window *w, PyFrameObject *f,
		       const PyCodeObject *code, int lasti, int held)
{
	if (lasti < 0 || !held) { /* held: w has a reference to code */
		int line = PyFrame_GetLineNumber(f);
		return line > 0 ? line : 0;
	}
	uint32_t h = (hash_ptr(code) ^ ((uint32_t)lasti * 0x9E3779B1u)) &
		     (LINE_SLOTS - 1);
	struct line_slot *e = &w->line_cache[h];
	if (e->code == code && e->lasti == lasti)
		return e->line;
	int line = PyFrame_GetLineNumber(f);
	e->code = code;
	e->lasti = lasti;
	e->line = line > 0 ? line : 0;
	return e->line;
}

/*
 * Walk thread state ts's stack into fr (leaf first, at most MAX_DEPTH
 * frames), adding SAMPLE_NATIVE / SAMPLE_TRUNCATED to *flags. Returns
 * the depth, or -1 when a function did not fit in w.
 */
static int walk_stack(struct window *w, PyThreadState *ts, struct frame *fr,
		      uint32_t *flags)
{
	PyFrameObject *f = PyThreadState_GetFrame(ts);
	int depth = 0, full = 0;
	while (f) {
		PyCodeObject *code = PyFrame_GetCode(f);
		int lasti = frame_lasti_bytes(f);
		if (depth == 0 && in_call(code, lasti))
			*flags |= SAMPLE_NATIVE;
		if (depth < MAX_DEPTH) {
			uint32_t fi = func_intern(w, (PyObject *)code);
			full |= fi == UINT32_MAX;
			fr[depth].func = fi;
			fr[depth].line =
			    line_of(w, f, code, lasti, fi != UINT32_MAX);
			depth++;
		} else {
			*flags |= SAMPLE_TRUNCATED;
		}
		Py_DECREF(code);
		PyFrameObject *back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
	}
	return full ? -1 : depth;
}

/* The task slot of thread ident in w from tasks (see task_names), -1. */
static int32_t task_of(struct window *w, PyObject *tasks, unsigned long ident)
{
	if (!tasks)
		return -1;
	int32_t task = -1;
	PyObject *key = PyLong_FromUnsignedLong(ident);
	PyObject *name = key ? PyDict_GetItemWithError(tasks, key) : NULL;
	if (name)
		task = task_slot(w, name);
	Py_XDECREF(key);
	PyErr_Clear();
	return task;
}

/*
 * One tick (GIL held): a sample of every thread but the sampler's own.
 * elapsed_ns is the time since the previous tick; in cpu mode a thread
 * counts when it used at least 5% of min(elapsed, period) (periods in
 * which nobody ran were skipped without a tick, see decide()), before
 * any frame object is made for it.
 */
static void tick(const PyThreadState *self, int64_t elapsed_ns)
{
	struct frame fr[MAX_DEPTH];
	PyObject *tasks = task_names(); /* Python code: before the walk */
	struct window *w = S.live;
	S.tick_no++;
	w->ticks++;
	int64_t base = elapsed_ns < S.period_ns ? elapsed_ns : S.period_ns;
#if PY_VERSION_HEX >= 0x030A0000
	/* Frame objects made for the walk (3.11+) must not start a
	 * collection: finalizers would run Python code mid-walk. */
	int gc_was = PyGC_Disable();
#endif
	PyInterpreterState *interp =
	    PyThreadState_GetInterpreter(PyThreadState_Get());
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
	     ts = PyThreadState_Next(ts)) {
		unsigned long ident = ts->thread_id;
		if (ts == self || !ident) /* !ident: starting or ending */
			continue;
		int64_t used = cpu_used(ident);
		uint32_t flags = 0;
		int64_t value = elapsed_ns;
		if (S.cpu_mode) {
			if (used < 0 || used * 20 < base)
				continue;
			value = used < 2 * elapsed_ns ? used : 2 * elapsed_ns;
		} else if (used >= 0 && used * 4 < elapsed_ns) {
			flags |= SAMPLE_IDLE;
		}
		int depth = walk_stack(w, ts, fr, &flags);
		if (depth == 0)
			continue;
		uint32_t slot = depth > 0 ? thread_slot(w, ident) : UINT32_MAX;
		if (slot == UINT32_MAX) {
			w->samples++;
			w->overflow++;
			continue;
		}
		add_sample(w, fr, (uint32_t)depth, slot,
			   task_of(w, tasks, ident), flags, value);
	}
#if PY_VERSION_HEX >= 0x030A0000
	if (gc_was)
		PyGC_Enable();
#endif
	Py_XDECREF(tasks);
	name_threads(w);
}

/* ---- writing a window -------------------------------------------------- */

/* Describe w's functions and threads with Python (GIL held), then drop
 * its code references. */
static void describe_window(struct window *w)
{
	for (uint32_t i = 0; i < w->nfuncs; i++) {
		PyObject *d =
		    call_quiet(S.describe, "(OOi)", w->codes[i], Py_None, 0);
		if (d && PyTuple_Check(d) && PyTuple_GET_SIZE(d) == 3) {
			w->ids[i] = dup_utf8(PyTuple_GET_ITEM(d, 0));
			w->files[i] = dup_utf8(PyTuple_GET_ITEM(d, 1));
			w->lines[i] =
			    (int)PyLong_AsLong(PyTuple_GET_ITEM(d, 2));
			if (PyErr_Occurred()) {
				PyErr_Clear();
				w->lines[i] = 0;
			}
		} else {
			w->errors++;
		}
		Py_XDECREF(d);
	}
	window_drop_codes(w);
	for (uint32_t i = 0; i < w->nthreads; i++) {
		PyObject *n = call_quiet(S.names, "(k)", w->threads[i].ident);
		char *name = dup_utf8(n);
		Py_XDECREF(n);
		if (name) {
			free(w->threads[i].name);
			w->threads[i].name = name;
		}
	}
}

/* Write s with control characters (and, when tab_ok is 0, tabs) as '?'. */
static void put_clean(FILE *fp, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 ? '?' : *s, fp);
}

/* Write a described window to its file, atomically (no GIL needed). */
static int write_window(const struct window *w)
{
	if (!S.out_dir || !w->ticks)
		return 0;
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%lld-%ld.samples", S.out_dir,
		 (long long)(w->start_ns / 1000000), (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s/.%lld-%ld.samples.tmp", S.out_dir,
		 (long long)(w->start_ns / 1000000), (long)getpid());
	FILE *fp = fopen(tmp, "w");
	if (!fp)
		return -1;
	fprintf(fp, "perfguard-samples 1\n");
	fprintf(fp, "pid %ld\n", (long)getpid());
	fprintf(fp, "host ");
	put_clean(fp, S.host);
	fprintf(fp, "\npython %s", S.python);
	fprintf(fp, "\nstart_ns %lld\nend_ns %lld\n", (long long)w->start_ns,
		(long long)w->end_ns);
	fprintf(fp, "rate_hz %d\nmode %s\nperiod_ns %lld\n", S.rate_hz,
		S.cpu_mode ? "cpu" : "wall", (long long)S.period_ns);
	fprintf(fp, "ticks %llu\nsamples %llu\noverflow %llu\nerrors %llu\n",
		(unsigned long long)w->ticks, (unsigned long long)w->samples,
		(unsigned long long)w->overflow, (unsigned long long)w->errors);
	if (S.labels)
		fputs(S.labels, fp);
	for (uint32_t i = 0; i < w->nthreads; i++) {
		fprintf(fp, "thread %u %lu ", i, w->threads[i].ident);
		put_clean(fp, w->threads[i].name ? w->threads[i].name : "?");
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->ntasks; i++) {
		fprintf(fp, "task %u ", i);
		put_clean(fp, w->tasks[i]);
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->nfuncs; i++) {
		fprintf(fp, "func %u %d ", i, w->lines[i]);
		put_clean(fp, w->ids[i] ? w->ids[i] : "?");
		fputc('\t', fp);
		put_clean(fp, w->files[i]);
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->nstacks; i++) {
		const struct stack *s = &w->stacks[i];
		fprintf(fp, "stack %llu %lld %u %d %u",
			(unsigned long long)s->count, (long long)s->value_ns,
			s->thread, s->task, s->flags);
		for (uint32_t k = 0; k < s->depth; k++)
			fprintf(fp, " %u:%d", w->frames[s->first + k].func,
				w->frames[s->first + k].line);
		fputc('\n', fp);
	}
	fprintf(fp, "end\n");
	int rc = ferror(fp) ? -1 : 0;
	if (fclose(fp))
		rc = -1;
	if (rc == 0 && rename(tmp, path))
		rc = -1;
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * End the live window now (GIL held): swap in the spare, describe the
 * ended one. The caller writes it (without the GIL when it can) with
 * finish_window.
 */
static struct window *end_window(void)
{
	pthread_mutex_lock(&S.mu);
	struct window *next = S.spare;
	S.spare = NULL;
	pthread_mutex_unlock(&S.mu);
	if (!next && !(next = window_new()))
		return NULL; /* out of memory: the live window goes on */
	struct window *w = S.live;
	int64_t now = unix_ns();
	w->end_ns = now;
	S.live = next;
	window_reset(S.live, now);
	__atomic_store_n(&S.window_end_mono_ns, mono_ns() + S.window_ns,
			 __ATOMIC_RELAXED);
	w->ticks += __atomic_exchange_n(&S.idle_ticks, 0, __ATOMIC_RELAXED);
	describe_window(w);
	return w;
}

/* Write an ended window and keep it as the spare (no GIL needed). */
static void finish_window(struct window *w)
{
	int rc = write_window(w);
	pthread_mutex_lock(&S.mu);
	if (rc)
		S.write_errors++;
	else if (w->ticks)
		S.windows_written++;
	if (!S.spare) {
		S.spare = w;
		w = NULL;
	}
	pthread_mutex_unlock(&S.mu);
	window_free(w);
}

/* ---- the thread ---------------------------------------------------------- */

static int finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
	return Py_IsFinalizing();
#else
	return _Py_IsFinalizing();
#endif
}

/*
 * One tick, in whichever thread holds the GIL first (GIL held). 0 when a
 * tick ran less than half a period ago (the main thread's timer and the
 * sampler thread do not both sample one period).
 */
static int tick_now(void)
{
	static int in_tick; /* Python code in a tick may run a nested one */
	int64_t now = mono_ns();
	if (in_tick || now - S.last_tick_mono_ns < S.period_ns / 2)
		return 0;
	in_tick = 1;
	int64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t idle = __atomic_exchange_n(&S.idle_ticks, 0, __ATOMIC_RELAXED);
	S.live->ticks += idle;
	tick(S.tstate, now - S.last_tick_mono_ns);
	__atomic_store_n(&S.last_tick_mono_ns, now, __ATOMIC_RELAXED);
	S.tick_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	in_tick = 0;
	return 1;
}

/*
 * Ticks on the main thread. The Python-level handler of S.nudge_signal
 * (a no-op for Python's sake, installed with SA_RESTART by sampler.py)
 * is the tick: Python runs it on the main thread at its next
 * eval-breaker check, so a busy program is sampled where it is, not
 * where it next releases the GIL (an asyncio loop would otherwise be seen
 * in select() only). In cpu mode the signal comes from a timer on the
 * main thread's own CPU clock, every period of its CPU time: a main
 * thread that does not run is never woken, no other thread is involved,
 * and the kernel checks CPU timers at its clock tick (CONFIG_HZ, 250 Hz
 * on Debian), which bounds the rate. In wall mode (or without the timer)
 * the sampler thread sends the signal to a main thread that runs.
 */
static PyObject *m_nudged(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (S.running && !S.stop && tick_now())
		S.ticks_main++;
	Py_RETURN_NONE;
}

static void arm_timer(void)
{
	S.timer_ok = 0;
	if (!S.cpu_mode || S.nudge_signal <= 0 || !S.main_clock_ok ||
	    !pthread_equal(pthread_self(), S.main_thread))
		return;
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = S.nudge_signal;
#ifdef sigev_notify_thread_id
	ev.sigev_notify_thread_id = S.main_tid;
#else /* glibc < 2.35 names it only inside the union */
	ev._sigev_un._tid = S.main_tid;
#endif
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &S.timer))
		return;
	struct itimerspec it = {
	    .it_interval = {.tv_sec = S.period_ns / 1000000000,
			    .tv_nsec = S.period_ns % 1000000000},
	};
	it.it_value = it.it_interval;
	if (timer_settime(S.timer, 0, &it, NULL)) {
		timer_delete(S.timer);
		return;
	}
	S.timer_ok = 1;
}

static void disarm_timer(void)
{
	if (S.timer_ok)
		timer_delete(S.timer);
	S.timer_ok = 0;
}

/* CPU clocks read by the sampler thread at each wake, without the GIL. */
struct clocks {
	int64_t mono, process, self, main;
};

static void read_clocks(struct clocks *c)
{
	c->mono = mono_ns();
	c->process = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	c->self = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	c->main = S.main_clock_ok ? clock_ns(S.main_clock) : -1;
}

/* Used at least 5% of interval_ns (unknown readings count as used). */
static int ran(int64_t used_ns, int64_t interval_ns)
{
	return used_ns < 0 || used_ns * 20 >= interval_ns;
}

/* What the sampler thread does when it wakes. */
enum step {
	STEP_NONE, /* the main thread runs: its timer ticks */
	STEP_IDLE, /* cpu mode: nobody ran; a tick without a sample */
	STEP_KICK, /* signal the running main thread to tick */
	STEP_TAKE, /* take the GIL and tick here */
};

/*
 * Decide from the CPU the process (minus the sampler) and the main
 * thread used since the previous wake. A main thread that runs is asked
 * to tick (its timer does it in cpu mode); a blocked one is left alone:
 * waking it would make it take the GIL from the threads that run. In cpu
 * mode a period in which nobody ran costs no GIL and wakes nobody: a
 * sleeping service stays asleep.
 */
static enum step decide(const struct clocks *now, const struct clocks *last)
{
	int64_t interval = now->mono - last->mono;
	int64_t main_used =
	    now->main >= 0 && last->main >= 0 ? now->main - last->main : -1;
	int64_t busy =
	    now->process >= 0 && last->process >= 0
		? (now->process - last->process) - (now->self - last->self)
		: -1;
	int main_runs = S.nudge_signal > 0 && ran(main_used, interval);
	if (S.timer_ok && main_runs)
		return STEP_NONE;
	if (S.cpu_mode && !ran(busy, interval))
		return STEP_IDLE;
	return main_runs ? STEP_KICK : STEP_TAKE;
}

/* Sleep until next_ns (mu held; returns early when stopped). */
static void sleep_until(int64_t next_ns)
{
	struct timespec ts = {.tv_sec = next_ns / 1000000000,
			      .tv_nsec = next_ns % 1000000000};
	while (!S.stop && mono_ns() < next_ns)
		pthread_cond_timedwait(&S.cv, &S.mu, &ts);
}

/* Take the GIL, tick when asked (and end the window when due); returns
 * the ended window for the caller to write without the GIL. */
static struct window *take_and_tick(PyThreadState *self, int do_tick)
{
	int64_t now = mono_ns();
	struct window *ended = NULL;
	PyEval_RestoreThread(self);
	S.gil_wait_ns += mono_ns() - now;
	if (!S.stop) {
		if (do_tick && tick_now())
			S.ticks_thread++;
		if (now >= S.window_end_mono_ns)
			ended = end_window();
	}
	PyEval_SaveThread();
	return ended;
}

/*
 * The next wake: one period on, or, while the sampler thread has had
 * nothing to do, up to 8 periods (at least 50 ms) on, doubling; never
 * past the window's end.
 */
static int64_t next_wake(int64_t now_ns, int64_t *sleep_ns, enum step step)
{
	int64_t cap = 8 * S.period_ns > 50000000 ? 8 * S.period_ns : 50000000;
	if (step == STEP_NONE || step == STEP_IDLE)
		*sleep_ns = 2 * *sleep_ns < cap ? 2 * *sleep_ns : cap;
	else
		*sleep_ns = S.period_ns;
	int64_t next = now_ns + *sleep_ns;
	int64_t end = __atomic_load_n(&S.window_end_mono_ns, __ATOMIC_RELAXED);
	return next > end && end > now_ns ? end : next;
}

static void *sampler_main(void *arg)
{
	(void)arg;
	PyGILState_STATE g = PyGILState_Ensure();
	S.tstate = PyThreadState_Get();
	PyThreadState *self = PyEval_SaveThread();
	struct clocks last, now;
	read_clocks(&last);
	int64_t sleep_ns = S.period_ns, next = last.mono + sleep_ns;
	pthread_mutex_lock(&S.mu);
	for (;;) {
		sleep_until(next);
		if (S.stop)
			break;
		pthread_mutex_unlock(&S.mu);
		if (finalizing()) {
			pthread_mutex_lock(&S.mu);
			break;
		}
		read_clocks(&now);
		enum step step = decide(&now, &last);
		int64_t last_mono = last.mono;
		last = now;
		if (step == STEP_IDLE) {
			/* the periods slept through, in ticks */
			int64_t n = (now.mono - last_mono) / S.period_ns;
			n = n > 0 ? n : 1;
			__atomic_add_fetch(&S.idle_ticks, (uint64_t)n,
					   __ATOMIC_RELAXED);
			S.ticks_idle += (uint64_t)n;
		} else if (step == STEP_KICK) {
			syscall(SYS_tgkill, S.pid, S.main_tid, S.nudge_signal);
		}
		struct window *ended = NULL;
		if (step == STEP_TAKE ||
		    now.mono >= __atomic_load_n(&S.window_end_mono_ns,
						__ATOMIC_RELAXED))
			ended = take_and_tick(self, step == STEP_TAKE);
		if (ended)
			finish_window(ended);
		S.thread_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		next = next_wake(mono_ns(), &sleep_ns, step);
		pthread_mutex_lock(&S.mu);
	}
	pthread_mutex_unlock(&S.mu);
	PyEval_RestoreThread(self);
	S.tstate = NULL;
	PyGILState_Release(g);
	return NULL;
}

static int spawn_thread(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&S.cv, &ca);
	pthread_condattr_destroy(&ca);
	S.stop = 0;
	sigset_t all, old;
	sigfillset(&all);
	/* The sampler thread never takes the program's signals. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&S.thread, NULL, sampler_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -1;
	S.running = 1;
	S.pid = getpid();
	return 0;
}

/* Stop and join the thread (GIL held; released while joining). */
static void join_thread(void)
{
	if (!S.running)
		return;
	pthread_mutex_lock(&S.mu);
	S.stop = 1;
	pthread_cond_signal(&S.cv);
	pthread_mutex_unlock(&S.mu);
	Py_BEGIN_ALLOW_THREADS pthread_join(S.thread, NULL);
	Py_END_ALLOW_THREADS S.running = 0;
}

static void atfork_child(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	S.mu = m;
	S.timer_ok = 0; /* timers are not inherited */
	/* The thread does not exist in the child; after_fork re-arms it. */
	if (S.running) {
		S.running = 0;
		S.pid = -1;
	}
}

/* ---- Python functions ------------------------------------------------- */

/* Start a new, empty live window now (GIL held, thread not running). */
static void fresh_window(void)
{
	window_drop_codes(S.live);
	window_reset(S.live, unix_ns());
	S.ncpu = 0;
	__atomic_store_n(&S.idle_ticks, 0, __ATOMIC_RELAXED);
	S.main_clock_ok =
	    pthread_getcpuclockid(S.main_thread, &S.main_clock) == 0;
	S.main_tid = pthread_equal(pthread_self(), S.main_thread)
			 ? (pid_t)syscall(SYS_gettid)
			 : 0;
	if (!S.main_tid) /* the signal is sent to the main thread only */
		S.nudge_signal = 0;
	S.last_tick_mono_ns = mono_ns();
	S.window_end_mono_ns = S.last_tick_mono_ns + S.window_ns;
}

/*
 * _sampler_start(out_dir, rate_hz, cpu_mode, window_s, labels, describe,
 * names, tasks, call_ops, nudge_signal): labels is a str of "label KEY
 * VALUE" lines; call_ops a 256-byte bytes (1 where the opcode calls);
 * nudge_signal a signal number with a no-op Python handler, or 0.
 */
static PyObject *m_start(PyObject *self, PyObject *args)
{
	PyObject *out, *describe, *names, *tasks;
	const char *labels;
	int rate, cpu, nudge_signal;
	unsigned long main_ident = 0;
	double window_s;
	Py_buffer ops;
	(void)self;
	if (!PyArg_ParseTuple(args, "O&ipdsOOOy*i|k", PyUnicode_FSConverter,
			      &out, &rate, &cpu, &window_s, &labels, &describe,
			      &names, &tasks, &ops, &nudge_signal, &main_ident))
		return NULL;
	PyObject *ret = NULL;
	if (S.running && S.pid == getpid()) {
		PyErr_SetString(PyExc_RuntimeError,
				"the sampler is already running");
		goto out;
	}
	if (rate < 1 || rate > 10000 || !(window_s >= 0.01) || ops.len != 256) {
		PyErr_SetString(PyExc_ValueError,
				"rate must be 1..10000 Hz, window >= 10 ms");
		goto out;
	}
	static int atfork_done;
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, atfork_child);
		atfork_done = 1;
	}
	free(S.out_dir);
	free(S.labels);
	S.out_dir = strdup(PyBytes_AS_STRING(out));
	S.labels = strdup(labels);
	Py_XINCREF(describe);
	Py_XSETREF(S.describe, describe);
	Py_XINCREF(names);
	Py_XSETREF(S.names, names);
	Py_XINCREF(tasks);
	Py_XSETREF(S.tasks, tasks == Py_None ? NULL : tasks);
	if (tasks == Py_None)
		Py_DECREF(tasks);
	memcpy(S.call_ops, ops.buf, 256);
	if (!S.str_tasks_mod)
		S.str_tasks_mod = PyUnicode_InternFromString("asyncio.tasks");
	if (!S.str_current_tasks)
		S.str_current_tasks =
		    PyUnicode_InternFromString("_current_tasks");
	PyErr_Clear();
	S.rate_hz = rate;
	S.cpu_mode = cpu;
	S.nudge_signal = nudge_signal;
	/* the main thread's ident (threading.main_thread().ident) */
	S.main_thread = main_ident ? (pthread_t)main_ident : pthread_self();
	S.period_ns = 1000000000LL / rate;
	S.window_ns = (int64_t)(window_s * 1e9);
	if (gethostname(S.host, sizeof(S.host) - 1))
		strcpy(S.host, "?");
	snprintf(S.python, sizeof(S.python), "%.*s",
		 (int)strcspn(Py_GetVersion(), " "), Py_GetVersion());
	if (!S.live)
		S.live = window_new();
	if (!S.spare)
		S.spare = window_new();
	if (!S.out_dir || !S.labels || !S.live || !S.spare) {
		PyErr_NoMemory();
		goto out;
	}
	fresh_window();
	if (spawn_thread()) {
		PyErr_SetString(PyExc_OSError,
				"cannot start the sampler thread");
		goto out;
	}
	arm_timer();
	ret = Py_None;
	Py_INCREF(ret);
out:
	PyBuffer_Release(&ops);
	Py_DECREF(out);
	return ret;
}

/* _sampler_stop(): stop the thread and write the last window. */
static PyObject *m_stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!S.running || S.pid != getpid())
		Py_RETURN_FALSE;
	disarm_timer();
	join_thread();
	struct window *w = end_window();
	if (w)
		finish_window(w);
	Py_RETURN_TRUE;
}

/* _sampler_flush(): end the current window now and write it. */
static PyObject *m_flush(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!S.running || S.pid != getpid())
		Py_RETURN_FALSE;
	struct window *w = end_window();
	if (!w)
		Py_RETURN_FALSE;
	finish_window(w);
	Py_RETURN_TRUE;
}

/* _sampler_after_fork(): in a forked child, start a fresh sampler. */
static PyObject *m_after_fork(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!S.live || (S.pid != -1 && !S.paused))
		Py_RETURN_FALSE;
	S.paused = 0;
	if (!S.spare && !(S.spare = window_new()))
		Py_RETURN_FALSE;
	/* The forking thread is the child's main thread. */
	S.main_thread = pthread_self();
	/* The parent's window is the parent's to write. */
	fresh_window();
	if (spawn_thread())
		Py_RETURN_FALSE;
	arm_timer();
	Py_RETURN_TRUE;
}

/* _sampler_pause(): before os.fork(), stop the thread, keep the window
 * (so the fork happens in a process with one thread). */
static PyObject *m_pause(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!S.running || S.pid != getpid())
		Py_RETURN_FALSE;
	join_thread();
	S.paused = 1;
	Py_RETURN_TRUE;
}

/* _sampler_resume(): after os.fork() in the parent, go on sampling. */
static PyObject *m_resume(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!S.paused || S.running)
		Py_RETURN_FALSE;
	S.paused = 0;
	if (spawn_thread())
		Py_RETURN_FALSE;
	Py_RETURN_TRUE;
}

/* _sampler_info(): the live window's counters and the sampler's own
 * costs (ns) and tick counts since start. */
static PyObject *m_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	struct window *w = S.live;
	PyObject *d = PyDict_New();
	if (!d)
		return NULL;
	struct {
		const char *key;
		unsigned long long v;
	} u[] = {
	    {"ticks",
	     w ? w->ticks + __atomic_load_n(&S.idle_ticks, __ATOMIC_RELAXED)
	       : 0},
	    {"samples", w ? w->samples : 0},
	    {"overflow", w ? w->overflow : 0},
	    {"windows_written", S.windows_written},
	    {"write_errors", S.write_errors},
	    {"stacks", w ? w->nstacks : 0},
	    {"functions", w ? w->nfuncs : 0},
	    {"gil_wait_ns", (unsigned long long)S.gil_wait_ns},
	    {"tick_ns", (unsigned long long)S.tick_ns},
	    {"thread_cpu_ns", (unsigned long long)S.thread_cpu_ns},
	    {"ticks_main", S.ticks_main},
	    {"ticks_thread", S.ticks_thread},
	    {"ticks_late", S.ticks_late},
	    {"ticks_idle", S.ticks_idle},
	};
	int rc = PyDict_SetItemString(
	    d, "running", S.running && S.pid == getpid() ? Py_True : Py_False);
	for (size_t i = 0; rc == 0 && i < sizeof(u) / sizeof(u[0]); i++) {
		PyObject *v = PyLong_FromUnsignedLongLong(u[i].v);
		rc = v ? PyDict_SetItemString(d, u[i].key, v) : -1;
		Py_XDECREF(v);
	}
	if (rc) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

static PyMethodDef sampler_methods[] = {
    {"_sampler_nudged", m_nudged, METH_VARARGS,
     "The handler of the sampler's signal: a tick on the main thread."},
    {"_sampler_start", m_start, METH_VARARGS,
     "Start the sampler thread (perfguard.sampler.start)."},
    {"_sampler_stop", m_stop, METH_NOARGS,
     "Stop the sampler and write the last window."},
    {"_sampler_after_fork", m_after_fork, METH_NOARGS,
     "Re-arm the sampler in a forked child."},
    {"_sampler_flush", m_flush, METH_NOARGS,
     "End the current window now and write it."},
    {"_sampler_pause", m_pause, METH_NOARGS,
     "Stop the thread before fork, keeping the window."},
    {"_sampler_resume", m_resume, METH_NOARGS,
     "Restart the thread after fork in the parent."},
    {"_sampler_info", m_info, METH_NOARGS, "The sampler's counters."},
    {NULL, NULL, 0, NULL},
};

int pg_sampler_add_to_module(PyObject *m)
{
	return PyModule_AddFunctions(m, sampler_methods);
}
