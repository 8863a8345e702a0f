/*
 * sampler_walk.c - one tick of the production sampler (GIL held): for
 * every thread state of the interpreter but the sampler's own, the
 * thread's CPU clock (pthread_getcpuclockid) decides whether it counts
 * (cpu mode: it ran at least 5% of the interval, its CPU time is the
 * value; wall mode: every thread, the wall interval as value, idle ones
 * marked), and then its frame chain is read as it is (pg_sampler_frames,
 * 3.9-3.13) into the live window. A leaf frame stopped on a call instruction is in
 * a C function: the sample stays with that Python frame and is marked.
 *
 * No Python code runs during the walk (the GC is paused, names are
 * resolved after it): running Python mid-walk would let other threads
 * run and free the thread states being walked. The walk makes no
 * objects (no frame objects either: see sampler_pending.c).
 */
#include "sampler_int.h"

#include <string.h>

/* Does slot t need no name lookup (named, ended, or given up on)? */
static int named(const struct pg_sampler_thread *t)
{
	return t->name || t->ended || t->tries >= 8;
}

/*
 * A thread seen at this tick, in turn, is looked up again (after the
 * walk): one renamed (Thread.name set) gets a new slot under its new
 * name, so that its samples before and after are each under the name it
 * had. A thread whose name is gone from threading's (it is ending) keeps
 * its last samples under its name and is not looked at again.
 */
static void find_rename(struct pg_sampler_window *w)
{
	for (uint32_t n = 0; n < pg_sampler.ncpu; n++) {
		const struct pg_sampler_cpu *c =
		    &pg_sampler.cpu[pg_sampler.rename_next++ % pg_sampler.ncpu];
		uint32_t slot = c->seen_tick == pg_sampler.tick_no
				    ? pg_sampler_thread_find(w, c->ident)
				    : UINT32_MAX;
		if (slot == UINT32_MAX)
			continue;
		struct pg_sampler_thread *t = &w->threads[slot];
		if (t->gone || !t->name)
			continue;
		char *name = pg_sampler_thread_name(t->ident);
		if (!name) {
			t->gone = 1;
			continue;
		}
		if (strcmp(name, t->name)) {
			pg_sampler_thread_ended(w, t->ident);
			uint32_t to = pg_sampler_thread_slot(w, t->ident);
			if (to != UINT32_MAX) {
				w->threads[to].name = name;
				name = NULL;
			}
		}
		free(name);
		return;
	}
}

/*
 * Name the threads of w that have no name yet (after the walk, which
 * must not let the interpreter switch threads; a name lookup may
 * allocate). A thread seen while starting is found on a later try.
 * Then look for a rename (find_rename).
 */
static void name_threads(struct pg_sampler_window *w)
{
	for (uint32_t i = w->named; i < w->nthreads; i++) {
		struct pg_sampler_thread *t = &w->threads[i];
		if (named(t))
			continue;
		t->tries++;
		t->name = pg_sampler_thread_name(t->ident);
	}
	while (w->named < w->nthreads && named(&w->threads[w->named]))
		w->named++;
	find_rename(w);
}

/* Thread ident's CPU clock reading (-1: unreadable) and, in *clock, the
 * clock's id, which names the kernel's thread (an ident, the address of
 * the thread's pthread struct, is reused by later threads). */
static int64_t thread_cpu_ns(unsigned long ident, clockid_t *clock)
{
	if (pthread_getcpuclockid((pthread_t)ident, clock))
		return -1;
	return clock_ns(*clock);
}

void pg_sampler_pre_read(void)
{
	/* before the clocks: a tick after this makes the readings stale */
	pg_sampler.pre_tick_no =
	    __atomic_load_n(&pg_sampler.tick_no, __ATOMIC_ACQUIRE);
	pg_sampler.pre_process_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (uint32_t i = 0; i < pg_sampler.npre; i++)
		pg_sampler.pre[i].ns = clock_ns(pg_sampler.pre[i].clock);
	pg_sampler.pre_read = 1;
}

/*
 * Thread ident's CPU clock now: in a tick of the sampler thread or one
 * it asked for (use_pre), the reading it took before (pre[hint] is tried
 * first: threads come in the same order at every tick); read here for
 * threads it did not know, in ticks of the main thread, and when the
 * reading failed (a thread gone, and a new one with its ident); the
 * clock's id in *clock.
 */
static int64_t thread_clock(unsigned long ident, int use_pre, uint32_t hint,
			    clockid_t *clock)
{
	if (use_pre && pg_sampler.pre_read) {
		const struct pg_sampler_pre *p = pg_sampler.pre;
		uint32_t n = pg_sampler.npre, i = hint;
		if (i >= n || p[i].ident != ident)
			for (i = 0; i < n && p[i].ident != ident; i++)
				;
		/* ... of the same kernel thread: one that ended after the
		 * reading may have left its ident to a new one */
		clockid_t cid;
		if (i < n && p[i].ns >= 0 &&
		    !pthread_getcpuclockid((pthread_t)ident, &cid) &&
		    cid == p[i].clock) {
			*clock = cid;
			return p[i].ns;
		}
	}
	return thread_cpu_ns(ident, clock);
}

/* After a tick that used pre: the clocks of the threads it saw, for
 * pg_sampler_pre_read (pthread_getcpuclockid reads no clock). */
static void keep_clocks(PyInterpreterState *interp, const PyThreadState *self)
{
	uint32_t n = 0;
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp);
	     ts && n < PG_SAMPLER_MAX_THREADS; ts = PyThreadState_Next(ts)) {
		struct pg_sampler_pre *p = &pg_sampler.pre[n];
		p->ident = ts->thread_id;
		if (ts != self && p->ident &&
		    !pthread_getcpuclockid((pthread_t)p->ident, &p->clock))
			n++;
	}
	pg_sampler.npre = n;
	pg_sampler.pre_read = 0;
}

/*
 * CPU time thread ident used since the previous tick (-1: unknown), from
 * its clock's reading now (-1: unreadable) and the clock's id. A thread
 * first seen began after the previous tick (the threads there at start
 * are known, pg_sampler_seed_clocks): its clock, which starts at 0, is
 * what it used; leaving it out dropped most of the CPU of short threads
 * (a thread per request), which tick at most once. So is a thread known
 * by its ident but not seen at the previous tick, or with another clock
 * (another kernel thread), or whose clock went back: a new thread with
 * an ended one's ident. *fresh says it is such a new thread. An ident
 * met twice in one tick (3.9-3.11 give a thread state the ident of the
 * thread that creates it, until the new thread starts) is counted once:
 * read as new, the second one put its thread's whole CPU time in one
 * sample.
 */
static int64_t cpu_used(unsigned long ident, clockid_t clock, int64_t now,
			int *fresh)
{
	struct pg_sampler_cpu *t = NULL;
	*fresh = 0;
	for (uint32_t i = 0; i < pg_sampler.ncpu; i++)
		if (pg_sampler.cpu[i].ident == ident) {
			t = &pg_sampler.cpu[i];
			break;
		}
	if (!t) {
		if (pg_sampler.ncpu == PG_SAMPLER_MAX_THREADS) {
			/* forget threads not seen for a while */
			uint32_t k = 0;
			for (uint32_t i = 0; i < pg_sampler.ncpu; i++)
				if (pg_sampler.cpu[i].seen_tick + 2 >=
				    pg_sampler.tick_no)
					pg_sampler.cpu[k++] = pg_sampler.cpu[i];
			pg_sampler.ncpu = k;
			if (pg_sampler.ncpu == PG_SAMPLER_MAX_THREADS)
				return -1;
		}
		t = &pg_sampler.cpu[pg_sampler.ncpu++];
		t->ident = ident;
		t->clock = clock;
		t->last_cpu_ns = 0; /* new: its clock began at 0 */
		t->seen_tick = pg_sampler.tick_no - 1;
		*fresh = 1;
	}
	if (t->seen_tick == pg_sampler.tick_no)
		return -1; /* seen in this tick already: see below */
	int64_t used = now - t->last_cpu_ns;
	if (t->seen_tick + 1 != pg_sampler.tick_no || used < 0 ||
	    (now >= 0 && t->clock != clock)) {
		used = now;
		*fresh = 1;
	}
	if (now >= 0)
		t->clock = clock;
	t->last_cpu_ns = now;
	t->seen_tick = pg_sampler.tick_no;
	return now < 0 ? -1 : used;
}

void pg_sampler_seed_clocks(void)
{
	pg_sampler.ncpu = 0;
	pg_sampler.process_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	pg_sampler.others_ns = 0;
	pg_sampler.own_cpu_ns = 0; /* the sampler thread is started after */
	PyInterpreterState *interp =
	    PyThreadState_GetInterpreter(PyThreadState_Get());
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp);
	     ts && pg_sampler.ncpu < PG_SAMPLER_MAX_THREADS;
	     ts = PyThreadState_Next(ts)) {
		clockid_t clock;
		int64_t now =
		    ts->thread_id ? thread_cpu_ns(ts->thread_id, &clock) : -1;
		if (now < 0)
			continue;
		struct pg_sampler_cpu *t = &pg_sampler.cpu[pg_sampler.ncpu++];
		t->ident = ts->thread_id;
		t->clock = clock;
		t->last_cpu_ns = now;
		t->seen_tick = pg_sampler.tick_no;
	}
}

/* code's bytecode size in bytes. */
static Py_ssize_t code_size(const PyCodeObject *code)
{
#if PY_VERSION_HEX >= 0x030B0000
	return Py_SIZE(code) * 2;
#else
	return PyBytes_GET_SIZE(code->co_code);
#endif
}

/* Is a frame of code at byte offset off stopped on a call instruction? */
static int in_call(const PyCodeObject *code, int off)
{
	if (off < 0 || off >= code_size(code))
		return 0;
#if PY_VERSION_HEX >= 0x030B0000
	const unsigned char *bytes =
	    (const unsigned char *)code->co_code_adaptive;
#else
	const unsigned char *bytes =
	    (const unsigned char *)PyBytes_AS_STRING(code->co_code);
#endif
	return pg_sampler.call_ops[bytes[off]];
}

/* Attribute name of obj from its instance dict, else (no dict) through
 * the type's C-level lookup; new reference or NULL. Neither runs the
 * program's __getattr__ or __getattribute__. */
static PyObject *plain_attr(PyObject *obj, PyObject *name)
{
	PyObject *dict = PyObject_GenericGetDict(obj, NULL);
	if (!dict) {
		PyErr_Clear();
		return PyObject_GenericGetAttr(obj, name);
	}
	PyObject *v =
	    PyDict_Check(dict) ? PyDict_GetItemWithError(dict, name) : NULL;
	Py_XINCREF(v);
	Py_DECREF(dict);
	return v;
}

/* Task's name: the C Task's own get_name (an override is not called),
 * else its _name (the pure-Python Task); new reference or NULL. */
static PyObject *task_name(PyObject *task, PyObject *get_name)
{
	if (get_name && PyObject_TypeCheck(task, PyDescr_TYPE(get_name)))
		return PyObject_CallOneArg(get_name, task);
	return plain_attr(task, pg_sampler.str_name);
}

/* Attribute attr of module mod if it is imported; new reference or
 * NULL (an error may be set). */
static PyObject *imported_attr(PyObject *mod, PyObject *attr)
{
	PyObject *mods = PyImport_GetModuleDict();
	PyObject *m = mods && PyDict_Check(mods)
			  ? PyDict_GetItemWithError(mods, mod)
			  : NULL;
	return m ? PyObject_GetAttr(m, attr) : NULL;
}

char *pg_sampler_thread_name(unsigned long ident)
{
	PyObject *key = PyLong_FromUnsignedLong(ident), *t = NULL;
	PyObject *active =
	    key ? imported_attr(pg_sampler.str_threading, pg_sampler.str_active)
		: NULL;
	if (active && PyDict_Check(active))
		t = PyDict_GetItemWithError(active, key);
	Py_XINCREF(t);
	PyObject *limbo =
	    t ? NULL
	      : imported_attr(pg_sampler.str_threading, pg_sampler.str_limbo);
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	/* starting: still in _limbo ({Thread: Thread}), its _ident set */
	while (!t && limbo && PyDict_Check(limbo) &&
	       PyDict_Next(limbo, &pos, &k, &v)) {
		PyObject *id = plain_attr(k, pg_sampler.str_ident);
		if (id && PyLong_Check(id) &&
		    PyLong_AsUnsignedLong(id) == ident) {
			t = k;
			Py_INCREF(t);
		}
		Py_XDECREF(id);
	}
	PyObject *name = t ? plain_attr(t, pg_sampler.str_name) : NULL;
	char *c =
	    name && PyUnicode_Check(name) ? pg_sampler_dup_utf8(name) : NULL;
	Py_XDECREF(name);
	Py_XDECREF(t);
	Py_XDECREF(limbo);
	Py_XDECREF(active);
	Py_XDECREF(key);
	PyErr_Clear();
	return c;
}

/*
 * The {thread ident: task name} of the asyncio tasks running now, or
 * NULL, read from asyncio.tasks._current_tasks ({loop: task}) and each
 * loop's _thread_id in C: a tick must not run Python code, where the
 * program's signal handlers would run too and what they raise would be
 * lost with the tick's own errors.
 */
static PyObject *task_names(void)
{
	if (!pg_sampler.str_tasks_mod)
		return NULL;
	PyObject *out = NULL;
	PyObject *cur = imported_attr(pg_sampler.str_tasks_mod,
				      pg_sampler.str_current_tasks);
	if (!cur || !PyDict_Check(cur) || PyDict_GET_SIZE(cur) == 0) {
		Py_XDECREF(cur); /* most ticks: no task runs */
		PyErr_Clear();
		return NULL;
	}
	PyObject *ctask =
	    imported_attr(pg_sampler.str_asyncio_c, pg_sampler.str_task);
	PyObject *get_name =
	    ctask && PyType_Check(ctask)
		? PyDict_GetItemWithError(((PyTypeObject *)ctask)->tp_dict,
					  pg_sampler.str_get_name)
		: NULL;
	if (get_name && !PyObject_TypeCheck(get_name, &PyMethodDescr_Type))
		get_name = NULL;
	PyErr_Clear();
	Py_ssize_t pos = 0;
	PyObject *loop, *task;
	while (PyDict_Next(cur, &pos, &loop, &task)) {
		PyObject *ident = plain_attr(loop, pg_sampler.str_thread_id);
		PyObject *name = ident && PyLong_Check(ident)
				     ? task_name(task, get_name)
				     : NULL;
		if (name && PyUnicode_Check(name) &&
		    (out || (out = PyDict_New())))
			PyDict_SetItem(out, ident, name);
		Py_XDECREF(name);
		Py_XDECREF(ident);
		PyErr_Clear();
	}
	Py_XDECREF(ctask);
	Py_DECREF(cur);
	return out;
}

/*
 * The stack raw[0..depth) of the thread whose process-timer signal
 * armed this tick (3.9-3.11), started where the signal found it: from the
 * frame it found, when that is still on the stack (same frame and code),
 * at the position it found. Returns the new depth.
 */
static int from_site(struct pg_sampler_raw *raw, int depth)
{
	const struct pg_sampler_raw *site = &pg_sampler.site;
	for (int i = 0; i < depth; i++) {
		if (raw[i].frame != site->frame || raw[i].code != site->code)
			continue;
		memmove(raw, raw + i, (size_t)(depth - i) * sizeof(*raw));
		/* read by a signal handler: an offset in the code or none */
		if (site->lasti >= 0 && site->lasti < code_size(raw[0].code))
			raw[0].lasti = site->lasti;
		return depth - i;
	}
	return depth;
}

/*
 * Walk thread state ts's stack into fr (leaf first, at most PG_SAMPLER_MAX_DEPTH
 * frames), adding PG_SAMPLE_NATIVE / PG_SAMPLE_TRUNCATED to *flags. Returns
 * the depth, or -1 when a function did not fit in w.
 */
static int walk_stack(struct pg_sampler_window *w, PyThreadState *ts,
		      struct pg_sampler_frame *fr, uint32_t *flags)
{
	struct pg_sampler_raw raw[PG_SAMPLER_MAX_DEPTH];
	int more = 0, full = 0;
	int depth = pg_sampler_frames(ts, raw, PG_SAMPLER_MAX_DEPTH, &more);
	if (more)
		*flags |= PG_SAMPLE_TRUNCATED;
	if (ts == pg_sampler.site_ts)
		depth = from_site(raw, depth);
	if (depth > 0 && in_call(raw[0].code, raw[0].lasti))
		*flags |= PG_SAMPLE_NATIVE;
	for (int i = 0; i < depth; i++) {
		uint32_t fi =
		    pg_sampler_func_intern(w, (PyObject *)raw[i].code);
		full |= fi == UINT32_MAX;
		fr[i].func = fi;
		fr[i].line = pg_sampler_line_of(w, raw[i].code, raw[i].lasti,
						fi != UINT32_MAX);
	}
	return full ? -1 : depth;
}

/* The task slot of thread ident in w from tasks (see task_names), -1. */
static int32_t task_of(struct pg_sampler_window *w, PyObject *tasks,
		       unsigned long ident)
{
	if (!tasks)
		return -1;
	int32_t task = -1;
	PyObject *key = PyLong_FromUnsignedLong(ident);
	PyObject *name = key ? PyDict_GetItemWithError(tasks, key) : NULL;
	if (name)
		task = pg_sampler_task_slot(w, name);
	Py_XDECREF(key);
	PyErr_Clear();
	return task;
}

/*
 * cpu mode, a tick of the process timer: the CPU time the process used
 * since the previous tick (process_ns, its clock now) that no thread the
 * tick saw used (known_ns, their sum and the sampler thread's own), held
 * over from earlier ticks, for the thread the timer found running: the
 * threads that ended since the previous tick took it with them (a thread
 * per request lives a few ms, a tick of 100 Hz comes every 10 ms of CPU
 * time), as did threads that are not Python's. A profiler whose signal
 * (SIGPROF) takes a sample every period of the process's CPU time puts
 * all of each period on the thread running at its end; so does this, for
 * what the per-thread clocks cannot place. 0 for other ticks (it is kept).
 */
static int64_t cpu_of_others(int64_t process_ns, int64_t known_ns, int how)
{
	int64_t prev = pg_sampler.process_cpu_ns;
	pg_sampler.process_cpu_ns = process_ns;
	if (prev < 0 || process_ns < 0 || known_ns < 0)
		return 0;
	int64_t rest = process_ns - prev - known_ns;
	if (rest > 0)
		pg_sampler.others_ns += rest;
	if (!(how & PG_TICK_PTIMER))
		return 0;
	rest = pg_sampler.others_ns;
	pg_sampler.others_ns = 0;
	return rest;
}

/*
 * cpu mode, at a tick: the process's CPU clock (*process_ns, -1 unknown)
 * and the CPU time the sampler thread used since the previous tick (the
 * first part of cpu_of_others' known_ns; -1 unknown). Both as of the
 * readings of pg_sampler_pre_read with PG_TICK_PRE.
 */
static int64_t tick_clocks(const PyThreadState *self, int how,
			   int64_t *process_ns)
{
	int use_pre = how & PG_TICK_PRE;
	*process_ns = use_pre && pg_sampler.pre_read
			  ? pg_sampler.pre_process_ns
			  : clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	clockid_t clock;
	int64_t now =
	    self ? thread_clock(self->thread_id, use_pre, 0, &clock) : -1;
	if (now < 0)
		return -1;
	int64_t was = pg_sampler.own_cpu_ns;
	pg_sampler.own_cpu_ns = now;
	return now >= was ? now - was : now; /* a new thread began at 0 */
}

/* The readings of pg_sampler_pre_read, if no tick ran since: older ones
 * (the sampler thread waited for the GIL meanwhile) would read as a
 * clock that went back, a new thread's whole CPU time. */
static int pre_fresh(void)
{
	return pg_sampler.pre_read &&
	       pg_sampler.pre_tick_no == pg_sampler.tick_no;
}

/*
 * A thread's sample value from the CPU time it used since the previous
 * tick (used, -1 unknown) and the time since then (elapsed_ns): cpu mode,
 * its CPU time (at most twice elapsed), or -1 (no sample) below 5% of
 * min(elapsed, period); wall mode, elapsed, marked idle in *flags below
 * a quarter of it.
 */
static int64_t sample_value(int64_t used, int64_t elapsed_ns, uint32_t *flags)
{
	int64_t base = elapsed_ns < pg_sampler.period_ns ? elapsed_ns
							 : pg_sampler.period_ns;
	if (pg_sampler.cpu_mode)
		return used < 0 || used * 20 < base ? -1
		       : used < 2 * elapsed_ns	    ? used
						    : 2 * elapsed_ns;
	if (used >= 0 && used * 4 < elapsed_ns)
		*flags |= PG_SAMPLE_IDLE;
	return elapsed_ns;
}

/*
 * One tick (GIL held): a sample of every thread but the sampler's own.
 * elapsed_ns is the time since the previous tick; in cpu mode a thread
 * counts when it used at least 5% of min(elapsed, period) (periods in
 * which nobody ran were skipped without a tick, see decide()), before
 * any frame object is made for it, and the thread that runs a tick of
 * the process timer also gets the CPU time of threads not seen
 * (cpu_of_others).
 */
void pg_sampler_tick(const PyThreadState *self, int64_t elapsed_ns, int how)
{
	struct pg_sampler_frame fr[PG_SAMPLER_MAX_DEPTH];
	struct pg_sampler_frame mine[PG_SAMPLER_MAX_DEPTH];
	int owns_pre = how & PG_TICK_PRE;
	int use_pre = owns_pre && pre_fresh();
	how = use_pre ? how : how & ~PG_TICK_PRE;
	PyObject *tasks = task_names(); /* Python code: before the walk */
	struct pg_sampler_window *w = pg_sampler.live;
	__atomic_store_n(&pg_sampler.tick_no, pg_sampler.tick_no + 1,
			 __ATOMIC_RELEASE);
	w->ticks++;
#if PY_VERSION_HEX >= 0x030A0000
	/* What the tick allocates (a task lookup's key) must not start a
	 * collection: finalizers would run Python code mid-walk. */
	int gc_was = PyGC_Disable();
#endif
	PyThreadState *running = PyThreadState_Get();
	PyInterpreterState *interp = PyThreadState_GetInterpreter(running);
	int64_t process = -1;
	int64_t known =
	    pg_sampler.cpu_mode ? tick_clocks(self, how, &process) : -1;
	struct {
		int depth;
		uint32_t slot, flags;
		int32_t task;
		int64_t value;
	} me = {0};
	uint32_t k = 0;
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
	     ts = PyThreadState_Next(ts)) {
		unsigned long ident = ts->thread_id;
		if (ts == self || !ident) /* !ident: starting or ending */
			continue;
		clockid_t clock = 0;
		int fresh;
		int64_t now = thread_clock(ident, use_pre, k++, &clock);
		int64_t used = cpu_used(ident, clock, now, &fresh);
		if (fresh) /* its samples go under its own name */
			pg_sampler_thread_ended(w, ident);
		if (known >= 0 && used > 0) /* unreadable: it ended */
			known += used;
		uint32_t flags = 0;
		int64_t value = sample_value(used, elapsed_ns, &flags);
		if (value < 0)
			continue;
		struct pg_sampler_frame *out = ts == running ? mine : fr;
		int depth = walk_stack(w, ts, out, &flags);
		if (depth == 0)
			continue;
		uint32_t slot =
		    depth > 0 ? pg_sampler_thread_slot(w, ident) : UINT32_MAX;
		if (slot == UINT32_MAX) {
			w->samples++;
			w->overflow++;
			continue;
		}
		int32_t task = task_of(w, tasks, ident);
		if (ts == running) /* added last, with cpu_of_others */
			me = (__typeof__(me)){depth, slot, flags, task, value};
		else
			pg_sampler_add_sample(w, fr, (uint32_t)depth, slot,
					      task, flags, value);
	}
	int64_t others =
	    pg_sampler.cpu_mode ? cpu_of_others(process, known, how) : 0;
	if (me.depth > 0)
		pg_sampler_add_sample(w, mine, (uint32_t)me.depth, me.slot,
				      me.task, me.flags, me.value + others);
	else
		pg_sampler.others_ns += others; /* kept for the next */
#if PY_VERSION_HEX >= 0x030A0000
	if (gc_was)
		PyGC_Enable();
#endif
	if (owns_pre)
		keep_clocks(interp, self);
	Py_XDECREF(tasks);
	name_threads(w);
}
