/*
 * track.c - the slow paths of a callback, shared by both mechanisms: a
 * thread's first event in an epoch, a function or node seen for the first
 * time, and the off-CPU check of long intervals (both clocks).
 *
 * Each sets pg_hook.slow_path so that the callback's own time is measured
 * and excluded (callback_done in hook.h), and sets any pending exception
 * aside while it calls the C API (an event may arrive while an exception
 * propagates: PY_UNWIND, PY_THROW, C_RAISE). Failures are counted in
 * core.errors, never raised.
 *
 * It deliberately does not name functions: it keeps a reference to what
 * names them (code object, callable, or class and method name) and the
 * boot module describes them at write time.
 */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct pg_hook_state pg_hook = {.tool_id = -1, .builtins_on = 1};
__thread struct pg_hook_thread *pg_hook_tls
    __attribute__((tls_model("initial-exec")));

/* ---- cpu mode -------------------------------------------------------------- */

int64_t pg_hook_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Set when the kernel has no per-thread schedstat: not asked again. */
static int rq_unknown;

/*
 * The calling thread's time waiting in the run queue so far (ns): the
 * second field of Linux's /proc/thread-self/schedstat ("on-CPU ns,
 * run-queue ns, timeslices"); -1 when there is none. errno is kept.
 */
static int64_t run_queue_ns(void)
{
	if (rq_unknown)
		return -1;
	int saved = errno;
	char buf[96];
	ssize_t n = -1;
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	int64_t rq = -1;
	if (n > 0) {
		buf[n] = '\0';
		char *end;
		strtoull(buf, &end, 10);
		char *p = end;
		unsigned long long v = strtoull(p, &end, 10);
		if (end != p)
			rq = (int64_t)v;
	}
	if (rq < 0)
		rq_unknown = 1;
	errno = saved;
	return rq;
}

/* The calling thread's voluntary context switches so far (each time it
 * blocked: a sleep, I/O, a lock, the GIL), -1 when unknown. */
static int64_t voluntary_switches(void)
{
	struct rusage ru;
	int saved = errno;
	int64_t n =
	    getrusage(RUSAGE_THREAD, &ru) == 0 ? (int64_t)ru.ru_nvcsw : -1;
	errno = saved;
	return n;
}

/*
 * The blocked part of lost_ticks (pg_hook_core_blocked), and none when
 * the thread made no voluntary switch since the last reading: time lost
 * without blocking was preemption or, on a virtual machine, the
 * hypervisor's steal, which the run-queue wait does not hold (a CPU-bound
 * recursion on a busy VM was reported "waiting" 89% of its time).
 */
static int64_t blocked_part(struct pg_hook_thread *th, int64_t lost_ticks,
			    int64_t t1, int64_t cpu)
{
	int64_t off = pg_hook_core_blocked(
	    th, lost_ticks, t1, cpu, run_queue_ns(), pg_hook.timer.ns_per_tick);
	int64_t vcsw = voluntary_switches();
	if (vcsw >= 0 && th->vcsw >= 0 && vcsw == th->vcsw)
		off = 0;
	th->vcsw = vcsw;
	return off;
}

void pg_hook_cpu_checkpoint(struct pg_hook_thread *th, int64_t t0)
{
	th->last_ticks = t0;
	th->bg_rate = 0;
	int64_t cpu = pg_hook_thread_cpu_ns();
	int64_t t1 = pg_hook_ticks(&pg_hook.timer);
	pg_hook_core_cpu_mark(th, t1, cpu);
	blocked_part(th, 0, t1, cpu);
}

/*
 * The time the thread did not run in the interval that ended at t0
 * (pg_hook_core_cpu_check) is the current frame's off-CPU time (both
 * modes) and, in cpu mode, excluded from its time; the check takes the
 * checkpoint.
 */
void __attribute__((noinline))
pg_hook_cpu_adjust(struct pg_hook_thread *th, int64_t t0)
{
	int64_t cpu = pg_hook_thread_cpu_ns();
	int64_t t1 = pg_hook_ticks(&pg_hook.timer);
	int64_t lost = pg_hook_core_cpu_check(
	    th, th->last_ticks, t0, t1, cpu, pg_hook.timer.ns_per_tick,
	    t0 - th->last_ticks > pg_hook.cpu_gap_ticks);
	pg_hook_core_cpu_mark(th, t1, cpu);
	if (lost > 0) {
		/* Off the CPU is the part blocked, not waiting to run: a busy
		 * machine preempts a long computation, which is no wait of
		 * its own. The run queue is read (three system calls) only
		 * when more than a gap was lost. */
		int64_t off = lost;
		if (lost > pg_hook.cpu_gap_ticks)
			off = blocked_part(th, lost, t1, cpu);
		pg_hook_core_off(&pg_hook.core, th, off);
		if (pg_hook.cpu_mode) {
			pg_hook_core_lost(th, lost);
			pg_hook.cpu_lost_ticks += lost;
		}
	}
	pg_hook.cpu_checks++;
	/* The checkpoint is taken: unless a later slow path of this callback
	 * sets 1, its end need not read the CPU clock again. */
	pg_hook.slow_path = 2;
}

void __attribute__((noinline))
pg_hook_slow_done(struct pg_hook_thread *th, int64_t t0)
{
	/* The checkpoint moves past a slow path only when the path was long
	 * enough to hold time off the CPU (longer than the gap, as for an
	 * interval): that time is excluded with the path, and must not be
	 * charged again from the next check's window. A shorter path ran on
	 * the CPU, in the window's clock and CPU time alike, so it changes
	 * nothing there: no system call. After a check alone (slow_path 2)
	 * the check's own checkpoint stands. CPU time first: the checkpoint's
	 * clock reading is the later one, so the next window holds none of
	 * this path's time. */
	int64_t now = pg_hook_ticks(&pg_hook.timer);
	if (pg_hook.slow_path != 2 && now - t0 > pg_hook.cpu_gap_ticks) {
		int64_t cpu = pg_hook_thread_cpu_ns();
		now = pg_hook_ticks(&pg_hook.timer);
		pg_hook_core_cpu_mark(th, now, cpu);
	}
	pg_hook_core_lost(th, now - t0);
	th->last_ticks = now;
}

/* ---- threads ------------------------------------------------------------- */

/* Python frames on the current thread's stack. */
static uint64_t frame_depth(void)
{
	uint64_t n = 0;
	PyFrameObject *f = PyEval_GetFrame();
	Py_XINCREF(f);
	while (f) {
		PyFrameObject *back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
		n++;
	}
	return n;
}

/*
 * At the first event of an enable epoch the thread may be deep in frames
 * entered before profiling; their returns (and those of C calls in flight)
 * are allowed for.
 */
struct pg_hook_thread *__attribute__((noinline)) pg_hook_thread_slow(void)
{
	struct pg_hook_thread *th = pg_hook_tls;
	if (!th) {
		th = pg_hook_core_thread_new(&pg_hook.core);
		if (!th) {
			pg_hook.core.errors++;
			return NULL;
		}
		pg_hook_tls = th;
	}
	th->epoch = pg_hook.core.epoch;
	th->allowance = 2 * frame_depth();
	pg_hook_cpu_checkpoint(th, pg_hook_ticks(&pg_hook.timer));
	pg_hook.slow_path = 1;
	return th;
}

struct pg_hook_thread *pg_hook_current_thread(void)
{
	struct pg_hook_thread *th = pg_hook_tls;
	return th && th->epoch == pg_hook.core.epoch ? th : NULL;
}

/* ---- functions ------------------------------------------------------------- */

int pg_hook_in_scope(PyObject *obj, PyObject *cls, int builtin)
{
	if (!pg_hook.scope_pred ||
	    (obj && (obj == pg_hook.ref_code[0] || obj == pg_hook.ref_code[1])))
		return 1;
	/* The interpreter delivers no events while a callback runs, nor
	 * while events are off: the predicate is not profiled. */
	struct pg_hook_exc exc;
	exc_save(&exc);
	PyObject *r = PyObject_CallFunction(pg_hook.scope_pred, "OOi", obj,
					    cls ? cls : Py_None, builtin);
	int in = 1;
	if (r) {
		in = PyObject_IsTrue(r);
		Py_DECREF(r);
	}
	if (PyErr_Occurred())
		PyErr_WriteUnraisable(pg_hook.scope_pred);
	exc_restore(&exc);
	return in != 0;
}

/* The class of frame's first argument (3.9/3.10 lack co_qualname), or
 * NULL; a new reference. */
static PyObject *first_arg_class(PyCodeObject *co, PyFrameObject *frame)
{
#if PY_VERSION_HEX < 0x030B0000
	if (frame && co->co_argcount > 0 && frame->f_localsplus[0]) {
		PyObject *first = frame->f_localsplus[0];
		PyObject *cls =
		    PyType_Check(first) ? first : (PyObject *)Py_TYPE(first);
		Py_INCREF(cls);
		return cls;
	}
#else
	(void)co;
	(void)frame;
#endif
	return NULL;
}

uint32_t pg_hook_code_func(PyObject *code, PyFrameObject *frame)
{
	struct pg_hook_core *core = &pg_hook.core;
	uint32_t f = pg_hook_core_find(core, code);
	if (f != PG_HOOK_NONE)
		return f;
	PyCodeObject *co = (PyCodeObject *)code;
	uint32_t flags = (co->co_flags & GEN_FLAGS) ? PG_HOOK_GENERATOR : 0;
	pg_hook.slow_path = 1;
	struct pg_hook_exc exc;
	exc_save(&exc);
	PyObject *cls = first_arg_class(co, frame);
	if (pg_hook.scope_pred && !pg_hook_in_scope(code, cls, 0))
		flags |= PG_HOOK_OUTSIDE;
	Py_INCREF(code);
	if (pg_hook_core_add(core, code, code, cls, flags, &f)) {
		Py_DECREF(code);
		Py_XDECREF(cls);
		core->errors++;
		f = PG_HOOK_NONE;
	} else if (flags & PG_HOOK_GENERATOR) {
		core->funcs[f].start_lasti = pg_mech_gen_start(co);
	}
	exc_restore(&exc);
	return f;
}

/*
 * What is kept to name a C callable later: the callable itself for module
 * functions, descriptors and callable types, else (class of self, name) so
 * that no instance is kept alive. A new reference, or NULL.
 */
static PyObject *cfunc_obj(PyObject *callable)
{
	if (PyCFunction_Check(callable)) {
		PyCFunctionObject *fn = (PyCFunctionObject *)callable;
		PyObject *self = fn->m_self;
		if (self && !PyModule_Check(self)) {
			PyObject *cls = PyType_Check(self)
					    ? self
					    : (PyObject *)Py_TYPE(self);
			return Py_BuildValue("(Os)", cls, fn->m_ml->ml_name);
		}
	}
	Py_INCREF(callable);
	return callable;
}

/* The function for a C callable with key (its PyMethodDef or type). */
static uint32_t cfunc_func(PyObject *callable, const void *key)
{
	struct pg_hook_core *core = &pg_hook.core;
	uint32_t f = pg_hook_core_find(core, key);
	if (f != PG_HOOK_NONE)
		return f;
	pg_hook.slow_path = 1;
	struct pg_hook_exc exc;
	exc_save(&exc);
	PyObject *obj = cfunc_obj(callable);
	uint32_t flags = PG_HOOK_BUILTIN;
	if (obj && pg_hook.scope_pred && !pg_hook_in_scope(obj, NULL, 1))
		flags |= PG_HOOK_OUTSIDE;
	if (!obj || pg_hook_core_add(core, key, obj, NULL, flags, &f)) {
		Py_XDECREF(obj);
		core->errors++;
		f = PG_HOOK_NONE;
	}
	exc_restore(&exc);
	return f;
}

/* ---- nodes --------------------------------------------------------------- */

/* Whether key's function is known and out of scope: no slow path for the
 * common case of out-of-scope code on 3.9-3.11. */
static int out_of_scope_known(const void *key)
{
	return pg_hook.scope_pred && known_outside(key);
}

uint32_t __attribute__((noinline))
pg_hook_code_node_new(uint32_t parent, PyObject *code, PyFrameObject *frame,
		      uint32_t kind)
{
	if (out_of_scope_known(code))
		return PG_HOOK_NODE_OUT;
	pg_hook.slow_path = 1;
	uint32_t f = pg_hook_code_func(code, frame);
	if (f == PG_HOOK_NONE)
		return PG_HOOK_DETACHED;
	if (pg_hook.core.funcs[f].flags & PG_HOOK_OUTSIDE)
		return PG_HOOK_NODE_OUT;
	uint32_t n =
	    pg_hook_core_new_child(&pg_hook.core, parent, code, f, kind);
	return n == PG_HOOK_NONE ? PG_HOOK_DETACHED : n;
}

uint32_t __attribute__((noinline))
pg_hook_c_node_new(uint32_t parent, PyObject *callable, const void *key)
{
	if (out_of_scope_known(key))
		return PG_HOOK_NODE_OUT;
	pg_hook.slow_path = 1;
	uint32_t f = cfunc_func(callable, key);
	if (f == PG_HOOK_NONE)
		return PG_HOOK_DETACHED;
	if (pg_hook.core.funcs[f].flags & PG_HOOK_OUTSIDE)
		return PG_HOOK_NODE_OUT;
	uint32_t n = pg_hook_core_new_child(&pg_hook.core, parent, key, f,
					    PG_HOOK_KIND_C);
	return n == PG_HOOK_NONE ? PG_HOOK_DETACHED : n;
}

int __attribute__((noinline)) pg_hook_site_outside(PyObject *code)
{
	uint32_t f = pg_hook_core_find(&pg_hook.core, code);
	if (f == PG_HOOK_NONE && PyCode_Check(code)) {
		f = pg_hook_code_func(code, NULL);
		pg_hook.slow_path = 0; /* no clock read follows */
	}
	return f != PG_HOOK_NONE &&
	       (pg_hook.core.funcs[f].flags & PG_HOOK_OUTSIDE);
}

/* ---- garbage collection -------------------------------------------------- */

/* The key of the "<gc>" function: a collection is a call of it below the
 * frame that triggered it, so its pause is never that frame's self time. */
static const char gc_key[] = "<gc>";

static uint32_t gc_node(struct pg_hook_thread *th)
{
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&pg_hook.core, parent, gc_key);
	if (n != PG_HOOK_NONE)
		return n;
	pg_hook.slow_path = 1;
	uint32_t f = pg_hook_core_find(&pg_hook.core, gc_key);
	if (f == PG_HOOK_NONE) {
		PyObject *name = PyUnicode_FromString(gc_key);
		if (!name || pg_hook_core_add(&pg_hook.core, gc_key, name, NULL,
					      PG_HOOK_BUILTIN, &f)) {
			Py_XDECREF(name);
			PyErr_Clear();
			pg_hook.core.errors++;
			return PG_HOOK_DETACHED;
		}
	}
	n = pg_hook_core_new_child(&pg_hook.core, parent, gc_key, f,
				   PG_HOOK_KIND_C);
	return n == PG_HOOK_NONE ? PG_HOOK_DETACHED : n;
}

/* gc.callbacks entry: (phase, info). A collection that starts inside one
 * of the hook's own slow paths is left to that path. */
static PyObject *gc_callback(PyObject *self, PyObject *const *args,
			     Py_ssize_t nargs)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th;
	(void)self;
	if (!pg_hook.active || pg_hook.slow_path || nargs < 1 ||
	    !PyUnicode_Check(args[0]) || !(th = thread_get()))
		Py_RETURN_NONE;
	const char *phase = PyUnicode_AsUTF8(args[0]);
	if (!phase) {
		PyErr_Clear();
		Py_RETURN_NONE;
	}
	th->events++;
	if (!strcmp(phase, "start")) {
		clock_check(th, t0);
		pg_hook_core_push(&pg_hook.core, th, gc_node(th), gc_key,
				  PG_HOOK_KIND_C, 0, t0);
		callback_done(th, t0);
	} else if (th->depth && th->stack[th->depth - 1].key == gc_key) {
		leave(th, gc_key, t0);
	}
	Py_RETURN_NONE;
}

static PyMethodDef gc_callback_def = {
    "_gc_callback", (PyCFunction)(void (*)(void))gc_callback, METH_FASTCALL,
    "gc.callbacks entry of perfguard's hook."};

int pg_hook_gc_init(void)
{
	PyObject *gc = PyImport_ImportModule("gc");
	PyObject *list = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
	PyObject *fn = list ? PyCFunction_New(&gc_callback_def, NULL) : NULL;
	int rc = fn && PyList_Check(list) ? PyList_Append(list, fn) : -1;
	Py_XDECREF(fn);
	Py_XDECREF(list);
	Py_XDECREF(gc);
	return rc;
}
