/*
 * hook.c - the perfguard._hook CPython extension: turns interpreter events
 * into core.c calls, starts and stops profiling, and writes the wire file.
 *
 * Mechanism: sys.monitoring with C callbacks (builtin function objects) on
 * Python 3.12+, PyEval_SetProfile on every thread before that (existing
 * threads directly, new ones through a threading.setprofile trampoline).
 * A callback reads the clock once (rdtsc costs ~20 ns on some VMs, so a
 * second read would cost more than it measures); its own typical cost is
 * part of the per-event cost calibrated at start-up and compensated by the
 * core. Rare expensive paths (a function seen for the first time, a new
 * thread) read the clock again and exclude their time.
 *
 * Invariants: callbacks never raise and never leave an exception set; all
 * state is guarded by the GIL; functions are keyed by their code object
 * (held with a reference until exit) or PyMethodDef, and described (id,
 * file, line) only once, at write time, by a Python helper.
 *
 * It deliberately does not compute ids in callbacks, support free-threaded
 * builds, or profile code run by the boot module itself.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "timer.h"

#if PY_VERSION_HEX >= 0x030C0000
#define USE_MONITORING 1
#else
#define USE_MONITORING 0
#endif

#define GEN_FLAGS  (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)
#define RESUME_311 151 /* opcode of RESUME in 3.11 */

static struct pg_hook_core core;
static struct pg_hook_timer timer;
static int core_ready;
static int active;	  /* events are being delivered */
static int started;	  /* between start and stop of the script */
static int narrowed;	  /* a measure() block was entered */
static int measure_depth; /* nesting of measure() blocks */
static int64_t wall_mark_ns, wall_total_ns;
static pid_t owner_pid;
/* Scope: in_scope(obj, cls, builtin) -> bool, asked once per function at
 * first sight (PG_HOOK_OUTSIDE caches a no); NULL when everything is in
 * scope. builtins_on: C functions are timed separately. */
static PyObject *scope_pred;
static int builtins_on = 1;
/* The Profiler (perfguard.Profile) that owns the recording, if any. */
static PyObject *profiler_owner;
/* A node value meaning "out of scope: not timed" (never pushed). */
#define NODE_OUT (PG_HOOK_DETACHED - 1)
/* The calling thread's record: initial-exec TLS is one instruction, where
 * the default (global-dynamic) model calls __tls_get_addr per event. */
static __thread struct pg_hook_thread *tls_thread
    __attribute__((tls_model("initial-exec")));
/* Set by the rare expensive paths of a callback (a new thread or epoch, a
 * new node, a cpu-mode clock check): only then is the callback's own time
 * measured and excluded. The common path reads the clock once and its
 * cost is part of the calibrated per-event costs. */
static int slow_path;
/* cpu mode (PERFGUARD_CLOCK=cpu): an interval between two events longer
 * than cpu_gap_ticks triggers a thread-CPU-clock check. */
static int cpu_mode;
static int64_t cpu_gap_ticks;
static uint64_t cheap_events;  /* untimed events (calibration reads it) */
static uint64_t cpu_checks;    /* thread-CPU-clock reads (info()) */
static int64_t cpu_lost_ticks; /* time excluded as not running (info()) */

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Start the thread's cpu-mode checkpoint at clock time t0. */
static void cpu_checkpoint(struct pg_hook_thread *th, int64_t t0)
{
	th->last_ticks = t0;
	th->ckpt_wall_ns = pg_hook_mono_ns();
	th->ckpt_cpu_ns = thread_cpu_ns();
}

/*
 * A long interval ended at t0: exclude the time the thread did not run
 * since the checkpoint (wall minus thread CPU time), at most the interval
 * itself, and move the checkpoint.
 */
static void __attribute__((noinline))
cpu_adjust(struct pg_hook_thread *th, int64_t t0)
{
	int64_t wall = pg_hook_mono_ns(), cpu = thread_cpu_ns();
	int64_t lost_ns = (wall - th->ckpt_wall_ns) - (cpu - th->ckpt_cpu_ns);
	int64_t gap = t0 - th->last_ticks;
	int64_t lost = (int64_t)((double)lost_ns / timer.ns_per_tick);
	if (lost > gap)
		lost = gap;
	if (lost > 0) {
		pg_hook_core_lost(th, lost);
		cpu_lost_ticks += lost;
	}
	th->ckpt_wall_ns = wall;
	th->ckpt_cpu_ns = cpu;
	cpu_checks++;
	slow_path = 1;
}

/* Per timed event: in cpu mode, check long intervals. */
static inline void clock_check(struct pg_hook_thread *th, int64_t t0)
{
	if (cpu_mode) {
		if (t0 - th->last_ticks > cpu_gap_ticks)
			cpu_adjust(th, t0);
		th->last_ticks = t0;
	}
}

/* End of a callback that started at t0 on th. */
static inline void callback_done(struct pg_hook_thread *th, int64_t t0)
{
	if (__builtin_expect(slow_path, 0)) {
		int64_t now = pg_hook_ticks(&timer);
		pg_hook_core_lost(th, now - t0);
		if (cpu_mode)
			th->last_ticks = now;
		slow_path = 0;
	}
}

#define N_HOOK_METHODS	   11
#define N_MEASURE_METHODS  2
#define N_PROFILER_METHODS 6
static PyMethodDef hook_methods[N_HOOK_METHODS + 1];
static PyObject *m_info(PyObject *self, PyObject *unused);
static PyMethodDef measure_methods[N_MEASURE_METHODS + 1];
static PyMethodDef profiler_methods[N_PROFILER_METHODS + 1];

/* ---- threads and functions ------------------------------------------- */

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
 * The calling thread's record, made on first use. At the first event of an
 * enable epoch the thread may be deep in frames entered before profiling;
 * their returns (and those of C calls in flight) are allowed for.
 */
static struct pg_hook_thread *__attribute__((noinline)) thread_slow(void)
{
	struct pg_hook_thread *th = tls_thread;
	if (!th) {
		th = pg_hook_core_thread_new(&core);
		if (!th) {
			core.errors++;
			return NULL;
		}
		tls_thread = th;
	}
	th->epoch = core.epoch;
	th->allowance = 2 * frame_depth();
	if (cpu_mode)
		cpu_checkpoint(th, pg_hook_ticks(&timer));
	slow_path = 1;
	return th;
}

static inline struct pg_hook_thread *thread_get(void)
{
	struct pg_hook_thread *th = tls_thread;
	if (__builtin_expect(th && th->epoch == core.epoch, 1))
		return th;
	return thread_slow();
}

static int own_method(const PyMethodDef *ml)
{
	return (ml >= hook_methods && ml < hook_methods + N_HOOK_METHODS) ||
	       (ml >= measure_methods &&
		ml < measure_methods + N_MEASURE_METHODS) ||
	       (ml >= profiler_methods &&
		ml < profiler_methods + N_PROFILER_METHODS);
}

/*
 * Ask the scope predicate whether a function is in scope (1) or not (0).
 * Runs Python code: the interpreter delivers no events meanwhile (it is
 * inside a callback, or events are off); a pending exception is set aside
 * and a failing predicate counts as "in scope".
 */
static int in_scope(PyObject *obj, PyObject *cls, int builtin)
{
	if (!scope_pred)
		return 1;
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyObject *r = PyObject_CallFunction(scope_pred, "OOi", obj,
					    cls ? cls : Py_None, builtin);
	int in = 1;
	if (r) {
		in = PyObject_IsTrue(r);
		Py_DECREF(r);
	}
	if (PyErr_Occurred())
		PyErr_WriteUnraisable(scope_pred);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
	return in != 0;
}

/* Whether the known function of key is out of scope. */
static inline int known_outside(const void *key)
{
	uint32_t f = pg_hook_core_find(&core, key);
	return f != PG_HOOK_NONE && (core.funcs[f].flags & PG_HOOK_OUTSIDE);
}

/* Whether an event of key on th needs a scope check: scoped, and key is
 * not the top frame's (the top frame is always in scope). */
static inline int scope_check(const struct pg_hook_thread *th, const void *key)
{
	return scope_pred &&
	       (!th->depth || th->stack[th->depth - 1].key != key);
}

/* Out-of-scope code ran below th's top frame: its time is that frame's
 * self time, which reports mark as folded. */
static inline void fold_into_top(const struct pg_hook_thread *th)
{
	uint32_t n = pg_hook_core_top(th);
	if (n && n < PG_HOOK_DETACHED)
		core.funcs[core.nodes[n].func].flags |= PG_HOOK_FOLDED;
}

#if PY_VERSION_HEX >= 0x030B0000 && !USE_MONITORING
/* Offset of the first RESUME: where a generator frame not yet started is. */
static int32_t first_resume(PyCodeObject *code)
{
	int32_t off = -1;
	PyObject *bytes = PyCode_GetCode(code);
	if (!bytes) {
		PyErr_Clear();
		return -1;
	}
	const unsigned char *p =
	    (const unsigned char *)PyBytes_AS_STRING(bytes);
	Py_ssize_t n = PyBytes_GET_SIZE(bytes);
	for (Py_ssize_t i = 0; i + 1 < n; i += 2)
		if (p[i] == RESUME_311 && p[i + 1] == 0) {
			off = (int32_t)i;
			break;
		}
	Py_DECREF(bytes);
	return off;
}
#endif

/* The function for a code object; frame (old Pythons) names its class. */
static uint32_t code_func(PyObject *code, PyFrameObject *frame)
{
	uint32_t f = pg_hook_core_find(&core, code);
	if (f != PG_HOOK_NONE)
		return f;
	PyCodeObject *co = (PyCodeObject *)code;
	uint32_t flags = (co->co_flags & GEN_FLAGS) ? PG_HOOK_GENERATOR : 0;
	slow_path = 1;
	PyObject *cls = NULL;
#if PY_VERSION_HEX < 0x030B0000
	/* No co_qualname: remember the first argument's class. */
	if (frame && co->co_argcount > 0 && frame->f_localsplus[0]) {
		PyObject *first = frame->f_localsplus[0];
		cls = PyType_Check(first) ? first : (PyObject *)Py_TYPE(first);
		Py_INCREF(cls);
	}
#else
	(void)frame;
#endif
	if (scope_pred && !in_scope(code, cls, 0))
		flags |= PG_HOOK_OUTSIDE;
	Py_INCREF(code);
	if (pg_hook_core_add(&core, code, code, cls, flags, &f)) {
		Py_DECREF(code);
		Py_XDECREF(cls);
		core.errors++;
		return PG_HOOK_NONE;
	}
#if PY_VERSION_HEX >= 0x030B0000 && !USE_MONITORING
	if (flags & PG_HOOK_GENERATOR)
		core.funcs[f].start_lasti = first_resume(co);
#endif
	return f;
}

#if !USE_MONITORING
/* The PyMethodDef of a C callable we profile, else NULL. */
static inline PyMethodDef *cfunc_def(PyObject *callable)
{
	PyMethodDef *ml = NULL;
	if (PyCFunction_Check(callable))
		ml = ((PyCFunctionObject *)callable)->m_ml;
	else if (Py_IS_TYPE(callable, &PyMethodDescr_Type))
		ml = ((PyMethodDescrObject *)callable)->d_method;
	return ml && !own_method(ml) ? ml : NULL;
}
#endif

/*
 * The function for a C callable with method def ml. What is kept to name
 * it later: the callable itself for module functions and descriptors, else
 * (class of self, name) so that no instance is kept alive.
 */
static uint32_t cfunc_func(PyObject *callable, PyMethodDef *ml)
{
	uint32_t f = pg_hook_core_find(&core, ml);
	if (f != PG_HOOK_NONE)
		return f;
	PyObject *obj = NULL;
	slow_path = 1;
	if (PyCFunction_Check(callable)) {
		PyObject *self = ((PyCFunctionObject *)callable)->m_self;
		if (self && !PyModule_Check(self)) {
			PyObject *cls = PyType_Check(self)
					    ? self
					    : (PyObject *)Py_TYPE(self);
			obj = Py_BuildValue("(Os)", cls, ml->ml_name);
		}
	}
	if (!obj && !PyErr_Occurred()) {
		obj = callable;
		Py_INCREF(obj);
	}
	if (!obj) {
		PyErr_Clear();
		core.errors++;
		return PG_HOOK_NONE;
	}
	uint32_t flags = PG_HOOK_BUILTIN;
	if (scope_pred && !in_scope(obj, NULL, 1))
		flags |= PG_HOOK_OUTSIDE;
	if (pg_hook_core_add(&core, ml, obj, NULL, flags, &f)) {
		Py_DECREF(obj);
		core.errors++;
		return PG_HOOK_NONE;
	}
	return f;
}

/* Slow path of code_node: describe the function, make the node; NODE_OUT
 * for code out of scope (cheap once it is known). */
static uint32_t __attribute__((noinline))
code_node_new(uint32_t parent, PyObject *code, PyFrameObject *frame,
	      uint32_t kind)
{
	uint32_t f = pg_hook_core_find(&core, code);
	if (f != PG_HOOK_NONE && (core.funcs[f].flags & PG_HOOK_OUTSIDE))
		return NODE_OUT;
	slow_path = 1;
	if (f == PG_HOOK_NONE)
		f = code_func(code, frame);
	if (f == PG_HOOK_NONE)
		return PG_HOOK_DETACHED;
	if (core.funcs[f].flags & PG_HOOK_OUTSIDE)
		return NODE_OUT;
	uint32_t n = pg_hook_core_new_child(&core, parent, code, f, kind);
	return n == PG_HOOK_NONE ? PG_HOOK_DETACHED : n;
}

/* The node of a call of code below th's current node. */
static inline uint32_t code_node(struct pg_hook_thread *th, PyObject *code,
				 PyFrameObject *frame, uint32_t kind)
{
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&core, parent, code);
	if (__builtin_expect(n != PG_HOOK_NONE, 1))
		return n;
	return code_node_new(parent, code, frame, kind);
}

/* Slow path of c_node; NODE_OUT for a C function out of scope. */
static uint32_t __attribute__((noinline))
c_node_new(uint32_t parent, PyObject *callable, PyMethodDef *ml)
{
	uint32_t f = pg_hook_core_find(&core, ml);
	if (f != PG_HOOK_NONE && (core.funcs[f].flags & PG_HOOK_OUTSIDE))
		return NODE_OUT;
	slow_path = 1;
	if (f == PG_HOOK_NONE)
		f = cfunc_func(callable, ml);
	if (f == PG_HOOK_NONE)
		return PG_HOOK_DETACHED;
	if (core.funcs[f].flags & PG_HOOK_OUTSIDE)
		return NODE_OUT;
	uint32_t n =
	    pg_hook_core_new_child(&core, parent, ml, f, PG_HOOK_KIND_C);
	return n == PG_HOOK_NONE ? PG_HOOK_DETACHED : n;
}

/* A C function call: push its node. */
static inline void c_enter(struct pg_hook_thread *th, PyObject *callable,
			   PyMethodDef *ml, int64_t t0)
{
	clock_check(th, t0);
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&core, parent, ml);
	if (__builtin_expect(n == PG_HOOK_NONE, 0))
		n = c_node_new(parent, callable, ml);
	if (__builtin_expect(n == NODE_OUT, 0))
		fold_into_top(th);
	else
		pg_hook_core_push(&core, th, n, ml, PG_HOOK_KIND_C, 0, t0);
	callback_done(th, t0);
}

/* ---- sys.monitoring callbacks (3.12+) ---------------------------------- */

#if USE_MONITORING
static PyObject *monitoring; /* sys.monitoring */
static int tool_id = -1;

#define EV_PY_START  (1 << 0)
#define EV_PY_RESUME (1 << 1)
#define EV_PY_RETURN (1 << 2)
#define EV_PY_YIELD  (1 << 3)
#define EV_CALL	     (1 << 4)
#define EV_PY_UNWIND (1 << 12)
#define EV_PY_THROW  (1 << 13)
#define EV_C_RETURN  (1 << 15)
#define EV_C_RAISE   (1 << 16)
#define EV_PY_MASK                                                             \
	(EV_PY_START | EV_PY_RESUME | EV_PY_RETURN | EV_PY_YIELD |             \
	 EV_PY_UNWIND | EV_PY_THROW)
#define EV_MASK (EV_PY_MASK | EV_CALL | EV_C_RETURN | EV_C_RAISE)

static PyObject *disable_obj; /* sys.monitoring.DISABLE */

/* What a callback of a local event returns: DISABLE when the code (or
 * call site) is out of scope, so that the interpreter stops reporting it. */
static inline PyObject *local_result(int out)
{
	if (__builtin_expect(out, 0)) {
		Py_INCREF(disable_obj);
		return disable_obj;
	}
	Py_RETURN_NONE;
}

/* PY_START (resume = 0) or PY_RESUME / PY_THROW (resume = 1). The
 * interpreter passes the code object as the first argument. Returns 1 for
 * code out of scope (not timed; its time is the caller's). */
static inline int py_enter(PyObject *const *args, Py_ssize_t nargs, int resume)
{
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th;
	if (!active || nargs < 1 || !(th = thread_get()))
		return 0;
	th->events++;
	clock_check(th, t0);
	uint32_t kind = resume ? PG_HOOK_KIND_GEN : PG_HOOK_KIND_PY;
	uint32_t n = code_node(th, args[0], NULL, kind);
	int out = n == NODE_OUT;
	if (__builtin_expect(out, 0))
		fold_into_top(th);
	else
		pg_hook_core_push(&core, th, n, args[0], kind, resume, t0);
	callback_done(th, t0);
	return out;
}

static PyObject *cb_py_start(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	return local_result(py_enter(a, n, 0));
}

static PyObject *cb_py_resume(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	return local_result(py_enter(a, n, 1));
}

/* PY_THROW is not a local event: it cannot be disabled. */
static PyObject *cb_py_throw(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	py_enter(a, n, 1);
	Py_RETURN_NONE;
}

/* PY_RETURN, PY_YIELD, PY_UNWIND: leave the code's frame. Returns 1 for
 * code out of scope. */
static inline int py_leave(PyObject *const *a, Py_ssize_t n)
{
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th;
	if (!active || n < 1 || !(th = thread_get()))
		return 0;
	if (__builtin_expect(scope_check(th, a[0]), 0) && known_outside(a[0]))
		return 1;
	th->events++;
	clock_check(th, t0);
	pg_hook_core_pop(&core, th, a[0], t0);
	callback_done(th, t0);
	return 0;
}

static PyObject *cb_py_leave(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	return local_result(py_leave(a, n));
}

/* PY_UNWIND is not a local event: it cannot be disabled. */
static PyObject *cb_py_unwind(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	py_leave(a, n);
	Py_RETURN_NONE;
}

/* Whether the code running a call site is out of scope; code not seen yet
 * (a frame entered before profiling started) is classified now. */
static int __attribute__((noinline)) site_outside(PyObject *code)
{
	uint32_t f = pg_hook_core_find(&core, code);
	if (f == PG_HOOK_NONE && PyCode_Check(code)) {
		f = code_func(code, NULL);
		slow_path = 0; /* no clock read follows: nothing to exclude */
	}
	return f != PG_HOOK_NONE && (core.funcs[f].flags & PG_HOOK_OUTSIDE);
}

/* A call of a Python function from in-scope code: when the callee is out
 * of scope (known from its first call) the caller carries its time. */
static void __attribute__((noinline))
fold_python_callee(const struct pg_hook_thread *th, PyObject *callable)
{
	if (Py_IS_TYPE(callable, &PyMethod_Type))
		callable = PyMethod_GET_FUNCTION(callable);
	if (Py_IS_TYPE(callable, &PyFunction_Type) &&
	    known_outside(PyFunction_GET_CODE(callable)))
		fold_into_top(th);
}

/* The PyMethodDef of a C callable we profile; NULL for anything else
 * (*own set for our own functions, which stay invisible). */
static inline PyMethodDef *call_def(PyObject *callable, int *own)
{
	PyMethodDef *ml;
	PyTypeObject *tp = Py_TYPE(callable);
	if (tp == &PyFunction_Type)
		return NULL;
	if (tp == &PyCFunction_Type)
		ml = ((PyCFunctionObject *)callable)->m_ml;
	else if (tp == &PyMethodDescr_Type)
		ml = ((PyMethodDescrObject *)callable)->d_method;
	else if (PyCFunction_Check(callable))
		ml = ((PyCFunctionObject *)callable)->m_ml;
	else
		return NULL;
	if (__builtin_expect(own_method(ml), 0)) {
		*own = 1;
		return NULL;
	}
	return ml;
}

/* An event we do not time (a CALL or C_RETURN of something that is not a
 * C function): its calibrated cost is charged to the current frame. */
static inline void cheap_event(void)
{
	struct pg_hook_thread *th = thread_get();
	if (th) {
		th->events++;
		th->ovh_fp += core.call_event_fp;
		cheap_events++;
	}
}

/* CALL fires for every call; only C callables are pushed (Python ones get
 * PY_START). */
static PyObject *cb_call(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	int own = 0;
	(void)m;
	if (!active || n < 3)
		Py_RETURN_NONE;
	if (__builtin_expect(scope_pred != NULL, 0)) {
		/* A call site in code out of scope: never again. */
		struct pg_hook_thread *th = thread_get();
		if (!th)
			Py_RETURN_NONE;
		if (scope_check(th, a[0]) && site_outside(a[0]))
			return local_result(1);
		if (!call_def(a[2], &own) && !own)
			fold_python_callee(th, a[2]);
	}
	PyMethodDef *ml = call_def(a[2], &own);
	if (!ml) {
		/* A Python callee (it gets PY_START): no clock read here, the
		 * commonest event on call-heavy code. */
		if (!own)
			cheap_event();
		Py_RETURN_NONE;
	}
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th = thread_get();
	if (th) {
		th->events++;
		c_enter(th, a[2], ml, t0);
	}
	Py_RETURN_NONE;
}

static PyObject *cb_c_leave(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	int64_t t0 = pg_hook_ticks(&timer);
	int own = 0;
	(void)m;
	if (!active || n < 3)
		Py_RETURN_NONE;
	PyMethodDef *ml = call_def(a[2], &own);
	if (!ml) {
		if (!own)
			cheap_event();
		Py_RETURN_NONE;
	}
	struct pg_hook_thread *th = thread_get();
	if (th && scope_check(th, ml) &&
	    (known_outside(ml) || known_outside(a[0])))
		Py_RETURN_NONE; /* not pushed: out of scope */
	if (th) {
		th->events++;
		clock_check(th, t0);
		pg_hook_core_pop(&core, th, ml, t0);
		callback_done(th, t0);
	}
	Py_RETURN_NONE;
}

static PyMethodDef callback_defs[] = {
    {"_py_start", (PyCFunction)(void (*)(void))cb_py_start, METH_FASTCALL,
     NULL},
    {"_py_resume", (PyCFunction)(void (*)(void))cb_py_resume, METH_FASTCALL,
     NULL},
    {"_py_leave", (PyCFunction)(void (*)(void))cb_py_leave, METH_FASTCALL,
     NULL},
    {"_call", (PyCFunction)(void (*)(void))cb_call, METH_FASTCALL, NULL},
    {"_c_leave", (PyCFunction)(void (*)(void))cb_c_leave, METH_FASTCALL, NULL},
    {"_py_throw", (PyCFunction)(void (*)(void))cb_py_throw, METH_FASTCALL,
     NULL},
    {"_py_unwind", (PyCFunction)(void (*)(void))cb_py_unwind, METH_FASTCALL,
     NULL},
};

static int register_one(int event, int which)
{
	PyObject *fn = PyCFunction_New(&callback_defs[which], NULL);
	if (!fn)
		return -1;
	PyObject *r = PyObject_CallMethod(monitoring, "register_callback",
					  "iiO", tool_id, event, fn);
	Py_DECREF(fn);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

/* Claim a tool id and register the callbacks (events stay off). */
static int mechanism_init(void)
{
	monitoring = PyImport_ImportModule("sys.monitoring");
	if (!monitoring) {
		PyErr_Clear();
		PyObject *sys = PyImport_ImportModule("sys");
		if (!sys)
			return -1;
		monitoring = PyObject_GetAttrString(sys, "monitoring");
		Py_DECREF(sys);
		if (!monitoring)
			return -1;
	}
	static const int ids[] = {2, 3, 4, 1, 5};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		PyObject *r = PyObject_CallMethod(monitoring, "use_tool_id",
						  "is", ids[i], "perfguard");
		if (r) {
			Py_DECREF(r);
			tool_id = ids[i];
			break;
		}
		PyErr_Clear();
	}
	if (tool_id < 0) {
		PyErr_SetString(PyExc_RuntimeError,
				"perfguard: no free sys.monitoring tool id");
		return -1;
	}
	disable_obj = PyObject_GetAttrString(monitoring, "DISABLE");
	if (!disable_obj)
		return -1;
	if (register_one(EV_PY_START, 0) || register_one(EV_PY_RESUME, 1) ||
	    register_one(EV_PY_THROW, 5) || register_one(EV_PY_RETURN, 2) ||
	    register_one(EV_PY_YIELD, 2) || register_one(EV_PY_UNWIND, 6) ||
	    register_one(EV_CALL, 3) || register_one(EV_C_RETURN, 4) ||
	    register_one(EV_C_RAISE, 4))
		return -1;
	return 0;
}

static int set_events(int mask)
{
	PyObject *r =
	    PyObject_CallMethod(monitoring, "set_events", "ii", tool_id, mask);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

static int events_on(int restart)
{
	if (set_events(builtins_on ? EV_MASK : EV_PY_MASK))
		return -1;
	if (restart) {
		PyObject *r =
		    PyObject_CallMethod(monitoring, "restart_events", NULL);
		if (!r)
			return -1;
		Py_DECREF(r);
	}
	return 0;
}

static int events_off(void)
{
	return set_events(0);
}

static const char *mechanism_name = "monitoring";

#else /* ---- PyEval_SetProfile (3.9 - 3.11) ---------------------------- */

static int frame_lasti(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
	return PyFrame_GetLasti(frame);
#else
	return frame->f_lasti;
#endif
}

/* The code object of frame: borrowed (it lives as long as the frame). */
static inline PyObject *frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyCodeObject *code = PyFrame_GetCode(frame);
	Py_DECREF(code);
	return (PyObject *)code;
#else
	return (PyObject *)frame->f_code;
#endif
}

/* Whether a call event of generator code is a resumption. */
static int __attribute__((noinline))
gen_resumed(PyObject *code, PyFrameObject *frame, uint32_t n)
{
	uint32_t f =
	    n < PG_HOOK_DETACHED ? core.nodes[n].func : code_func(code, frame);
	return f != PG_HOOK_NONE &&
	       frame_lasti(frame) != core.funcs[f].start_lasti;
}

static int profile_cb(PyObject *obj, PyFrameObject *frame, int what,
		      PyObject *arg)
{
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th;
	(void)obj;
	if (!active || !(th = thread_get()))
		return 0;
	switch (what) {
	case PyTrace_CALL: {
		PyObject *code = frame_code(frame);
		th->events++;
		clock_check(th, t0);
		uint32_t n = code_node(th, code, frame, PG_HOOK_KIND_PY);
		if (__builtin_expect(n == NODE_OUT, 0)) {
			fold_into_top(th); /* out of scope: not timed */
			break;
		}
		int resume = 0;
		if (((PyCodeObject *)code)->co_flags & GEN_FLAGS)
			resume = gen_resumed(code, frame, n);
		pg_hook_core_push(&core, th, n, code,
				  resume ? PG_HOOK_KIND_GEN : PG_HOOK_KIND_PY,
				  resume, t0);
		break;
	}
	case PyTrace_RETURN: {
		PyObject *code = frame_code(frame);
		if (scope_check(th, code) && known_outside(code))
			return 0;
		th->events++;
		clock_check(th, t0);
		pg_hook_core_pop(&core, th, code, t0);
		break;
	}
	case PyTrace_C_CALL: {
		PyMethodDef *ml = builtins_on ? cfunc_def(arg) : NULL;
		if (!ml)
			return 0;
		if (scope_pred) {
			/* A call made by code out of scope is not timed. */
			PyObject *code = frame_code(frame);
			if (scope_check(th, code) && known_outside(code))
				return 0;
		}
		th->events++;
		c_enter(th, arg, ml, t0);
		return 0;
	}
	case PyTrace_C_RETURN:
	case PyTrace_C_EXCEPTION: {
		PyMethodDef *ml = builtins_on ? cfunc_def(arg) : NULL;
		if (!ml)
			return 0;
		if (scope_check(th, ml) &&
		    (known_outside(ml) || known_outside(frame_code(frame))))
			return 0;
		th->events++;
		clock_check(th, t0);
		pg_hook_core_pop(&core, th, ml, t0);
		break;
	}
	default:
		return 0;
	}
	callback_done(th, t0);
	return 0;
}

static int mechanism_init(void)
{
	return 0;
}

/* threading.setprofile target: installs the C function on a new thread. */
static PyObject *m_thread_profile(PyObject *self, PyObject *args)
{
	PyObject *frame, *event, *arg;
	(void)self;
	if (!PyArg_ParseTuple(args, "OUO", &frame, &event, &arg))
		return NULL;
	if (!active) {
		PyEval_SetProfile(NULL, NULL);
		Py_RETURN_NONE;
	}
	PyEval_SetProfile(profile_cb, NULL);
	static const struct {
		const char *name;
		int what;
	} kinds[] = {{"call", PyTrace_CALL},
		     {"return", PyTrace_RETURN},
		     {"c_call", PyTrace_C_CALL},
		     {"c_return", PyTrace_C_RETURN},
		     {"c_exception", PyTrace_C_EXCEPTION}};
	const char *ev = PyUnicode_AsUTF8(event);
	if (!ev)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(ev, kinds[i].name) && PyFrame_Check(frame))
			profile_cb(NULL, (PyFrameObject *)frame, kinds[i].what,
				   arg);
	Py_RETURN_NONE;
}

static int set_threading_profile(PyObject *fn)
{
	PyObject *threading = PyImport_ImportModule("threading");
	if (!threading)
		return -1;
	PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", fn);
	Py_DECREF(threading);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

static int all_threads(Py_tracefunc func)
{
	PyThreadState *ts = PyInterpreterState_ThreadHead(
	    PyThreadState_GetInterpreter(PyThreadState_Get()));
	for (; ts; ts = PyThreadState_Next(ts))
		if (_PyEval_SetProfile(ts, func, NULL) < 0)
			PyErr_Clear();
	return 0;
}

static int events_on(int restart)
{
	(void)restart;
	PyObject *fn = PyCFunction_New(&hook_methods[N_HOOK_METHODS - 1], NULL);
	if (!fn)
		return -1;
	int rc = set_threading_profile(fn);
	Py_DECREF(fn);
	if (rc)
		return -1;
	return all_threads(profile_cb);
}

static int events_off(void)
{
	all_threads(NULL);
	return set_threading_profile(Py_None);
}

static const char *mechanism_name = "setprofile";
#endif

/* ---- enabling ---------------------------------------------------------- */

/* PERFGUARD_CLOCK=cpu selects cpu mode; anything else is wall. The gap
 * that triggers a check: PERFGUARD_CPU_GAP_US (default 30 us). */
static void read_clock_mode(void)
{
	const char *c = getenv("PERFGUARD_CLOCK");
	cpu_mode = c && !strcmp(c, "cpu");
	const char *g = getenv("PERFGUARD_CPU_GAP_US");
	double gap_us = g ? atof(g) : 30.0;
	if (gap_us <= 0)
		gap_us = 30.0;
	cpu_gap_ticks = (int64_t)(gap_us * 1000.0 / timer.ns_per_tick);
}

static int ensure_core(void)
{
	if (core_ready)
		return 0;
	if (pg_hook_core_init(&core)) {
		PyErr_NoMemory();
		return -1;
	}
	pg_hook_timer_init(&timer);
	read_clock_mode();
	if (mechanism_init()) {
		pg_hook_core_release(&core);
		return -1;
	}
	core_ready = 1;
	owner_pid = getpid();
	return 0;
}

static int enable(int restart)
{
	core.epoch++;
	active = 1;
	if (events_on(restart)) {
		active = 0;
		return -1;
	}
	wall_mark_ns = pg_hook_mono_ns();
	return 0;
}

/* Stop delivering events and close every thread's open frames. */
static void disable(void)
{
	if (!active)
		return;
	int64_t now = pg_hook_ticks(&timer);
	active = 0;
	if (events_off())
		PyErr_Clear();
	for (struct pg_hook_thread *th = core.threads; th; th = th->next)
		pg_hook_core_close_thread(&core, th, now);
	wall_total_ns += pg_hook_mono_ns() - wall_mark_ns;
}

static void reset_all(void)
{
	pg_hook_core_reset(&core);
	wall_total_ns = 0;
	wall_mark_ns = pg_hook_mono_ns();
}

/* ---- calibration ----------------------------------------------------- */

/*
 * Per-pair costs, in ticks, measured with all compensation off: for each
 * kind, P = the whole cost a pair adds (to the enclosing frames) and I =
 * the part inside the callee's own bracket (after the entry's clock read,
 * before the exit's); plus the cost of one untimed event. The tails of
 * the calibration functions are empty, so their raw inclusive time per
 * call is I (plus one or two bytecodes).
 */
struct cal_kind {
	double pair[16], inner[16]; /* per round */
};

struct cal_run {
	int64_t off, on; /* loop ticks: events off; on, minus slow paths */
	uint64_t cheap;	 /* untimed events during the "on" run */
	uint64_t pairs;	 /* calls + resumes of the loop's target */
	double inner;	 /* raw inclusive ticks per call of the target */
};

static struct pg_hook_thread *current_thread(void)
{
	struct pg_hook_thread *th = tls_thread;
	return th && th->epoch == core.epoch ? th : NULL;
}

/* One measurement: fn(n) timed without and with events. The target is
 * the node below the loop with the most calls + resumes. */
static int calibrate_once(PyObject *fn, PyObject *n, struct cal_run *out)
{
	pg_hook_core_reset(&core);
	int64_t t = pg_hook_ticks(&timer);
	PyObject *res = PyObject_CallOneArg(fn, n);
	out->off = pg_hook_ticks(&timer) - t;
	if (!res)
		return -1;
	Py_DECREF(res);
	uint64_t cheap0 = cheap_events;
	if (enable(0))
		return -1;
	/* Make this thread's record now so that its slow path is outside. */
	struct pg_hook_thread *th = thread_get();
	slow_path = 0;
	int64_t ovh0 = th ? th->ovh_fp : 0;
	t = pg_hook_ticks(&timer);
	res = PyObject_CallOneArg(fn, n);
	int64_t on = pg_hook_ticks(&timer) - t;
	disable();
	if (!res)
		return -1;
	Py_DECREF(res);
	th = current_thread();
	int64_t slow = th ? (th->ovh_fp - ovh0) >> PG_HOOK_FP : 0;
	out->on = on - slow;
	out->cheap = cheap_events - cheap0;
	const struct pg_hook_node *best = NULL;
	for (uint32_t i = 1; i < core.nnodes; i++) {
		const struct pg_hook_node *nd = &core.nodes[i];
		if (!best ||
		    nd->calls + nd->resumes > best->calls + best->resumes)
			best = nd;
	}
	out->pairs = best ? best->calls + best->resumes : 0;
	out->inner = out->pairs ? (double)(best->incl_fp >> PG_HOOK_FP) /
				      (double)out->pairs
				: 0;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define CAL_ROUNDS 9

/*
 * Calibrate one loop: per round, the added cost per pair (the cheap events
 * charged at cheap_cost each) and the inner part. The "off" time is the
 * minimum over rounds (other processes can only inflate it), the "on"
 * estimates are medians (robust both ways). *spread receives the
 * interquartile range of the per-round pair cost.
 */
static int calibrate_loop(PyObject *fn, PyObject *n, double cheap_cost,
			  int cheap_only, double *pair, double *inner,
			  double *spread)
{
	struct cal_run r[CAL_ROUNDS];
	double p[CAL_ROUNDS], in[CAL_ROUNDS];
	int64_t off = INT64_MAX;
	for (int i = -1; i < CAL_ROUNDS; i++) {
		struct cal_run x;
		if (calibrate_once(fn, n, &x))
			return -1;
		if (i < 0)
			continue; /* warm-up: instrumentation, caches */
		r[i] = x;
		if (x.off < off)
			off = x.off;
	}
	for (int i = 0; i < CAL_ROUNDS; i++) {
		double extra = (double)(r[i].on - off);
		if (cheap_only) {
			p[i] = r[i].cheap ? extra / (double)r[i].cheap : 0;
		} else {
			extra -= (double)r[i].cheap * cheap_cost;
			p[i] = r[i].pairs ? extra / (double)r[i].pairs : 0;
		}
		in[i] = r[i].inner;
	}
	*pair = median(p, CAL_ROUNDS);
	*inner = median(in, CAL_ROUNDS);
	*spread = p[CAL_ROUNDS * 3 / 4] - p[CAL_ROUNDS / 4];
	if (*pair < 0)
		*pair = 0;
	if (*inner > *pair)
		*inner = *pair;
	if (*inner < 0)
		*inner = 0;
	return 0;
}

static double cal_pair_ns[PG_HOOK_NKINDS], cal_inner_ns[PG_HOOK_NKINDS];
static double cal_cheap_ns, cal_spread_ns;

static void set_costs(const double *pair, const double *inner, double cheap)
{
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		core.enter_fp[k] = llround(inner[k] * (1 << PG_HOOK_FP));
		core.leave_fp[k] =
		    llround((pair[k] - inner[k]) * (1 << PG_HOOK_FP));
	}
	core.call_event_fp = llround(cheap * (1 << PG_HOOK_FP));
}

/*
 * calibrate(py_loop, c_loop, gen_loop, cheap_loop, n): py_loop(n) makes n
 * calls of an empty Python function, c_loop(n) n calls of a trivial
 * builtin, gen_loop(n) n resumptions of a generator, cheap_loop(n) n calls
 * of a type (events that are not timed; None on 3.9-3.11). Keeps the costs
 * for compensation; returns a dict of them in ns.
 */
static PyObject *m_calibrate(PyObject *self, PyObject *args)
{
	PyObject *loops[PG_HOOK_NKINDS], *cheap_loop, *n;
	(void)self;
	if (!PyArg_ParseTuple(args, "OOOOO", &loops[PG_HOOK_KIND_PY],
			      &loops[PG_HOOK_KIND_C], &loops[PG_HOOK_KIND_GEN],
			      &cheap_loop, &n) ||
	    ensure_core())
		return NULL;
	if (active || started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double pair[PG_HOOK_NKINDS] = {0}, inner[PG_HOOK_NKINDS] = {0};
	double cheap = 0, in, spread = 0, s;
	int saved_cpu = cpu_mode, saved_builtins = builtins_on;
	PyObject *saved_scope = scope_pred;
	cpu_mode = 0;
	builtins_on = 1;
	scope_pred = NULL; /* the loops' functions must be timed */
	set_costs(pair, inner, 0);
	int rc = 0;
	if (cheap_loop != Py_None)
		rc = calibrate_loop(cheap_loop, n, 0, 1, &cheap, &in, &s);
	for (int k = 0; !rc && k < PG_HOOK_NKINDS; k++) {
		rc = calibrate_loop(loops[k], n, cheap, 0, &pair[k], &inner[k],
				    &s);
		if (k == PG_HOOK_KIND_PY)
			spread = s;
	}
	cpu_mode = saved_cpu;
	builtins_on = saved_builtins;
	scope_pred = saved_scope;
	if (rc)
		return NULL;
	pg_hook_timer_calibrate(&timer);
	double npt = timer.ns_per_tick;
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		cal_pair_ns[k] = pair[k] * npt;
		cal_inner_ns[k] = inner[k] * npt;
	}
	cal_cheap_ns = cheap * npt;
	cal_spread_ns = spread * npt;
	set_costs(pair, inner, cheap);
	reset_all();
	return m_info(self, NULL);
}

/*
 * probe(py_loop, n): a quick estimate of what one Python call pair adds,
 * in ns, untimed events included (on 3.12+ the CALL of a Python callee):
 * the fastest of three runs with events on against the fastest without.
 * Cheap enough for every start (a few ms) to tell whether cached costs
 * still fit; resets the compensation costs to zero (set them after).
 */
static PyObject *m_probe(PyObject *self, PyObject *args)
{
	PyObject *fn, *n;
	(void)self;
	if (!PyArg_ParseTuple(args, "OO", &fn, &n) || ensure_core())
		return NULL;
	if (active || started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double zero[PG_HOOK_NKINDS] = {0};
	int saved_cpu = cpu_mode, saved_builtins = builtins_on;
	PyObject *saved_scope = scope_pred;
	cpu_mode = 0;
	builtins_on = 1;
	scope_pred = NULL;
	set_costs(zero, zero, 0);
	int64_t off = INT64_MAX, on = INT64_MAX;
	uint64_t pairs = 0;
	int rc = 0;
	for (int i = 0; i < 4 && !rc; i++) {
		struct cal_run r;
		rc = calibrate_once(fn, n, &r);
		if (rc || i == 0)
			continue; /* the first run warms up */
		if (r.off < off)
			off = r.off;
		if (r.on < on)
			on = r.on;
		pairs = r.pairs;
	}
	cpu_mode = saved_cpu;
	builtins_on = saved_builtins;
	scope_pred = saved_scope;
	reset_all();
	if (rc)
		return NULL;
	double pair = pairs ? (double)(on - off) / (double)pairs : 0;
	return PyFloat_FromDouble(pair * timer.ns_per_tick);
}

/* set_costs(pair_ns, inner_ns, cheap_ns[, spread_ns]): use costs measured
 * elsewhere instead of calibrating (the runner calibrates once per check so
 * that every trial, base and head, shares them); sequences of 3 (py, c,
 * gen). */
static PyObject *m_set_costs(PyObject *self, PyObject *args)
{
	double pair[3], inner[3], cheap, spread = 0;
	(void)self;
	if (!PyArg_ParseTuple(args, "(ddd)(ddd)d|d", &pair[0], &pair[1],
			      &pair[2], &inner[0], &inner[1], &inner[2], &cheap,
			      &spread) ||
	    ensure_core())
		return NULL;
	cal_spread_ns = spread;
	double npt = timer.ns_per_tick;
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		cal_pair_ns[k] = pair[k];
		cal_inner_ns[k] = inner[k];
		pair[k] /= npt;
		inner[k] /= npt;
	}
	cal_cheap_ns = cheap;
	set_costs(pair, inner, cheap / npt);
	Py_RETURN_NONE;
}

static PyObject *m_start(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (ensure_core())
		return NULL;
	if (started || profiler_owner) {
		PyErr_SetString(PyExc_RuntimeError,
				started ? "perfguard: already started"
					: "perfguard: a Profile is recording");
		return NULL;
	}
	reset_all();
	narrowed = 0;
	measure_depth = 0;
	started = 1;
	if (enable(1)) {
		started = 0;
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *m_stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (started) {
		disable();
		started = 0;
		pg_hook_timer_calibrate(&timer);
	}
	Py_RETURN_NONE;
}

/* run(code, globals): start, evaluate the script's code, stop. Only the
 * script's own frames are seen: no Python-level call sits in between. */
static PyObject *m_run(PyObject *self, PyObject *args)
{
	PyObject *code, *globals;
	if (!PyArg_ParseTuple(args, "O!O!", &PyCode_Type, &code, &PyDict_Type,
			      &globals))
		return NULL;
	PyObject *r = m_start(self, NULL);
	if (!r)
		return NULL;
	Py_DECREF(r);
	r = PyEval_EvalCode(code, globals, globals);
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	Py_XDECREF(m_stop(self, NULL));
	PyErr_Restore(type, value, tb);
	return r;
}

static const char *timer_name(void)
{
	if (timer.use_tsc)
		return cpu_mode ? "tsc+cpu" : "tsc";
	return cpu_mode ? "clock_gettime+cpu" : "clock_gettime";
}

/* The TINY threshold: a mean self time per call within the calibration's
 * uncertainty (spread of the per-pair cost over rounds), at least the
 * clock's resolution. */
static double tiny_ns(void)
{
	double t = cal_spread_ns;
	return t > timer.resolution_ns ? t : timer.resolution_ns;
}

static PyObject *m_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (ensure_core())
		return NULL;
	double npt = timer.ns_per_tick;
	return Py_BuildValue(
	    "{s:s,s:s,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:K,s:K,s:K,s:K,"
	    "s:d,s:i}",
	    "mechanism", mechanism_name, "timer", timer_name(), "py_pair_ns",
	    cal_pair_ns[0], "c_pair_ns", cal_pair_ns[1], "gen_pair_ns",
	    cal_pair_ns[2], "py_inner_ns", cal_inner_ns[0], "c_inner_ns",
	    cal_inner_ns[1], "gen_inner_ns", cal_inner_ns[2], "cheap_ns",
	    cal_cheap_ns, "spread_ns", cal_spread_ns, "tiny_ns", tiny_ns(),
	    "ns_per_tick", npt, "events",
	    (unsigned long long)pg_hook_core_events(&core), "unmatched",
	    (unsigned long long)core.unmatched, "errors",
	    (unsigned long long)core.errors, "cpu_checks",
	    (unsigned long long)cpu_checks, "cpu_lost_ns",
	    (double)cpu_lost_ticks * npt, "trial", started);
}

/* Copy a str as UTF-8 (surrogates replaced); NULL when not a str. */
static char *dup_str(PyObject *s)
{
	if (!s || !PyUnicode_Check(s))
		return NULL;
	PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "replace");
	if (!b) {
		PyErr_Clear();
		return NULL;
	}
	char *c = strdup(PyBytes_AS_STRING(b));
	Py_DECREF(b);
	return c;
}

/* write(path, describe): describe(obj, cls, builtin) -> (id, file, line). */
static PyObject *m_write(PyObject *self, PyObject *args)
{
	PyObject *path, *describe;
	(void)self;
	if (!PyArg_ParseTuple(args, "O&O", PyUnicode_FSConverter, &path,
			      &describe))
		return NULL;
	if (ensure_core()) {
		Py_DECREF(path);
		return NULL;
	}
	if (getpid() != owner_pid) /* a forked child writes nothing */
		goto none;
	uint32_t n = core.nfuncs;
	char **ids = calloc(n + 1, sizeof(*ids));
	char **files = calloc(n + 1, sizeof(*files));
	int *lines = calloc(n + 1, sizeof(*lines));
	PyObject *ret = NULL;
	if (!ids || !files || !lines) {
		PyErr_NoMemory();
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pg_hook_func *f = &core.funcs[i];
		PyObject *d = PyObject_CallFunction(
		    describe, "OOi", (PyObject *)f->obj,
		    f->obj2 ? (PyObject *)f->obj2 : Py_None,
		    (f->flags & PG_HOOK_BUILTIN) != 0);
		if (d && PyTuple_Check(d) && PyTuple_GET_SIZE(d) == 3) {
			ids[i] = dup_str(PyTuple_GET_ITEM(d, 0));
			files[i] = dup_str(PyTuple_GET_ITEM(d, 1));
			lines[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(d, 2));
		}
		if (!d || PyErr_Occurred()) {
			PyErr_WriteUnraisable(describe);
			PyErr_Clear();
		}
		Py_XDECREF(d);
	}
	const char *pyver = Py_GetVersion();
	char ver[32];
	size_t k = 0;
	while (pyver[k] && pyver[k] != ' ' && k + 1 < sizeof(ver)) {
		ver[k] = pyver[k];
		k++;
	}
	ver[k] = '\0';
	struct pg_hook_wire_info info = {
	    .mechanism = mechanism_name,
	    .timer = timer_name(),
	    .python = ver,
	    .ns_per_tick = timer.ns_per_tick,
	    .event_cost_ns = cal_pair_ns[PG_HOOK_KIND_PY] / 2,
	    .tiny_ns = tiny_ns(),
	    .wall_ns = wall_total_ns,
	    .ids = (const char *const *)ids,
	    .files = (const char *const *)files,
	    .lines = lines,
	};
	const char *dst = PyBytes_AS_STRING(path);
	size_t len = strlen(dst);
	char *tmp = malloc(len + 16);
	if (!tmp) {
		PyErr_NoMemory();
		goto out;
	}
	snprintf(tmp, len + 16, "%s.tmp%ld", dst, (long)getpid());
	/* A regular file is replaced atomically; anything else that exists
	 * (a pipe, /dev/null) is written in place, never renamed over. */
	struct stat st;
	int in_place = stat(dst, &st) == 0 && !S_ISREG(st.st_mode);
	FILE *fp = fopen(in_place ? dst : tmp, "w");
	int rc = fp ? pg_hook_core_write(&core, &info, fp) : -1;
	if (fp && fclose(fp))
		rc = -1;
	if (rc == 0 && !in_place && rename(tmp, dst))
		rc = -1;
	if (rc) {
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, dst);
		unlink(tmp);
	} else {
		ret = Py_None;
		Py_INCREF(ret);
	}
	free(tmp);
out:
	for (uint32_t i = 0; ids && files && i < n; i++) {
		free(ids[i]);
		free(files[i]);
	}
	free(ids);
	free(files);
	free(lines);
	Py_DECREF(path);
	return ret;
none:
	Py_DECREF(path);
	Py_RETURN_NONE;
}

/* ---- scope ------------------------------------------------------------- */

/* Use pred (NULL: everything in scope) and classify every known function
 * again. Events must be off. */
static void apply_scope(PyObject *pred)
{
	Py_XINCREF(pred);
	Py_XSETREF(scope_pred, pred);
	for (uint32_t i = 0; i < core.nfuncs; i++) {
		struct pg_hook_func *f = &core.funcs[i];
		f->flags &= ~(uint32_t)PG_HOOK_OUTSIDE;
		if (pred && !in_scope((PyObject *)f->obj, (PyObject *)f->obj2,
				      (f->flags & PG_HOOK_BUILTIN) != 0))
			f->flags |= PG_HOOK_OUTSIDE;
	}
}

static int refuse_while_active(const char *what)
{
	if (!active)
		return 0;
	PyErr_Format(PyExc_RuntimeError, "perfguard: %s while recording", what);
	return -1;
}

/* set_scope(pred): pred(obj, cls, builtin) -> bool decides once per
 * function whether it is timed; None times everything. */
static PyObject *m_set_scope(PyObject *self, PyObject *pred)
{
	(void)self;
	if (ensure_core() || refuse_while_active("set_scope"))
		return NULL;
	if (pred != Py_None && !PyCallable_Check(pred)) {
		PyErr_SetString(PyExc_TypeError,
				"set_scope takes a callable or None");
		return NULL;
	}
	apply_scope(pred == Py_None ? NULL : pred);
	Py_RETURN_NONE;
}

/* set_builtins(flag): time C functions separately (the default) or not. */
static PyObject *m_set_builtins(PyObject *self, PyObject *flag)
{
	(void)self;
	int on = PyObject_IsTrue(flag);
	if (on < 0 || ensure_core() || refuse_while_active("set_builtins"))
		return NULL;
	builtins_on = on;
	Py_RETURN_NONE;
}

/* ---- Profiler (perfguard.Profile's base) ------------------------------- */

/* Py_NewRef, which 3.9 lacks. */
static inline PyObject *new_ref(PyObject *o)
{
	Py_INCREF(o);
	return o;
}

enum { PROF_NEW, PROF_OWNER, PROF_TAKEN };

struct profiler {
	PyObject_HEAD PyObject *scope; /* predicate or NULL */
	int builtins;
	int state;
};

static PyObject *profiler_new(PyTypeObject *type, PyObject *args,
			      PyObject *kwds)
{
	(void)args;
	(void)kwds;
	struct profiler *p = (struct profiler *)type->tp_alloc(type, 0);
	if (p)
		p->builtins = 1;
	return (PyObject *)p;
}

static int profiler_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(((struct profiler *)self)->scope);
	Py_VISIT(Py_TYPE(self));
	return 0;
}

static int profiler_clear(PyObject *self)
{
	Py_CLEAR(((struct profiler *)self)->scope);
	return 0;
}

static void profiler_dealloc(PyObject *self)
{
	PyObject_GC_UnTrack(self);
	profiler_clear(self);
	PyTypeObject *tp = Py_TYPE(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

/* _configure(scope_pred_or_None, builtins): settings used when this
 * profiler starts recording. */
static PyObject *profiler_configure(PyObject *self, PyObject *args)
{
	struct profiler *p = (struct profiler *)self;
	PyObject *pred;
	int builtins;
	if (!PyArg_ParseTuple(args, "Op", &pred, &builtins))
		return NULL;
	if (p->state != PROF_NEW) {
		PyErr_SetString(
		    PyExc_RuntimeError,
		    "perfguard: configure a Profile before enabling");
		return NULL;
	}
	Py_XSETREF(p->scope, pred == Py_None ? NULL : new_ref(pred));
	p->builtins = builtins;
	Py_RETURN_NONE;
}

/*
 * enable(): start (or resume) recording into this profiler. The first
 * enable takes the hook over from a previous profiler, whose
 * _taken_over() is called first to keep what it recorded.
 */
static PyObject *profiler_enable(PyObject *self, PyObject *unused)
{
	struct profiler *p = (struct profiler *)self;
	(void)unused;
	if (ensure_core())
		return NULL;
	if (started) {
		PyErr_SetString(PyExc_RuntimeError,
				"perfguard: a perfguard trial is already "
				"recording this program; use "
				"perfguard.measure() to narrow it");
		return NULL;
	}
	if (p->state == PROF_TAKEN) {
		PyErr_SetString(PyExc_RuntimeError,
				"perfguard: this Profile's recording was taken "
				"over by another Profile; make a new one");
		return NULL;
	}
	if (profiler_owner == self) {
		if (!active && enable(0))
			return NULL;
		Py_RETURN_NONE;
	}
	if (profiler_owner) {
		if (active) {
			PyErr_SetString(
			    PyExc_RuntimeError,
			    "perfguard: another Profile is enabled");
			return NULL;
		}
		PyObject *r =
		    PyObject_CallMethod(profiler_owner, "_taken_over", NULL);
		if (!r)
			return NULL;
		Py_DECREF(r);
		((struct profiler *)profiler_owner)->state = PROF_TAKEN;
		Py_CLEAR(profiler_owner);
	}
	apply_scope(p->scope);
	builtins_on = p->builtins;
	reset_all();
	profiler_owner = new_ref(self);
	p->state = PROF_OWNER;
	if (enable(1))
		return NULL;
	Py_RETURN_NONE;
}

/* disable(): stop recording (enable() resumes it). */
static PyObject *profiler_disable(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (profiler_owner == self && active)
		disable();
	Py_RETURN_NONE;
}

static PyObject *profiler_exit(PyObject *self, PyObject *const *args,
			       Py_ssize_t nargs)
{
	(void)args;
	(void)nargs;
	if (profiler_owner == self && active)
		disable();
	Py_RETURN_FALSE;
}

static PyObject *profiler_enter(PyObject *self, PyObject *unused)
{
	PyObject *r = profiler_enable(self, unused);
	if (!r)
		return NULL;
	Py_DECREF(r);
	return new_ref(self);
}

/* _owns(): whether the hook holds this profiler's recording. */
static PyObject *profiler_owns(PyObject *self, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(profiler_owner == self);
}

static PyMethodDef profiler_methods[N_PROFILER_METHODS + 1] = {
    {"enable", profiler_enable, METH_NOARGS,
     "Start or resume recording (every thread)."},
    {"disable", profiler_disable, METH_NOARGS, "Stop recording."},
    {"__enter__", profiler_enter, METH_NOARGS, "enable() and return self."},
    {"__exit__", (PyCFunction)(void (*)(void))profiler_exit, METH_FASTCALL,
     "disable()."},
    {"_configure", profiler_configure, METH_VARARGS,
     "_configure(scope_pred, builtins)."},
    {"_owns", profiler_owns, METH_NOARGS, "Whether it holds the recording."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject profiler_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "perfguard._hook.Profiler",
    .tp_basicsize = sizeof(struct profiler),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The hook's recording, controlled from Python "
	      "(perfguard.Profile).",
    .tp_methods = profiler_methods,
    .tp_new = profiler_new,
    .tp_traverse = profiler_traverse,
    .tp_clear = profiler_clear,
    .tp_dealloc = profiler_dealloc,
};

/* ---- measure() ----------------------------------------------------------- */

static PyObject *measure_enter(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (started && measure_depth++ == 0) {
		if (!narrowed) {
			/* First block: forget everything recorded so far. */
			narrowed = 1;
			if (!active && enable(0))
				return NULL;
			reset_all();
		} else if (enable(0)) {
			return NULL;
		}
	}
	Py_INCREF(self);
	return self;
}

static PyObject *measure_exit(PyObject *self, PyObject *const *args,
			      Py_ssize_t nargs)
{
	(void)self;
	(void)args;
	(void)nargs;
	if (started && measure_depth > 0 && --measure_depth == 0)
		disable();
	Py_RETURN_FALSE;
}

static PyMethodDef measure_methods[N_MEASURE_METHODS + 1] = {
    {"__enter__", measure_enter, METH_NOARGS, "Start measuring."},
    {"__exit__", (PyCFunction)(void (*)(void))measure_exit, METH_FASTCALL,
     "Stop measuring when the outermost block ends."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject measure_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "perfguard._hook.Measure",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Context manager narrowing profiling to its blocks.",
    .tp_methods = measure_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- module ---------------------------------------------------------- */

static PyMethodDef hook_methods[N_HOOK_METHODS + 1] = {
    {"calibrate", m_calibrate, METH_VARARGS,
     "calibrate(py_loop, c_loop, n): measure per-event costs (ns)."},
    {"set_costs", m_set_costs, METH_VARARGS,
     "set_costs((py, c, gen), (py, c, gen), cheap): per-pair costs (ns)."},
    {"start", m_start, METH_NOARGS, "Start profiling."},
    {"stop", m_stop, METH_NOARGS, "Stop profiling."},
    {"run", m_run, METH_VARARGS,
     "run(code, globals): profile the evaluation of code."},
    {"info", m_info, METH_NOARGS, "Mechanism, timer and counters."},
    {"probe", m_probe, METH_VARARGS,
     "probe(py_loop, n): quick Python pair cost (ns), untimed events in."},
    {"set_scope", m_set_scope, METH_O,
     "set_scope(pred): pred(obj, cls, builtin) -> in scope; None: all."},
    {"set_builtins", m_set_builtins, METH_O,
     "set_builtins(flag): time C functions separately."},
    {"write", m_write, METH_VARARGS,
     "write(path, describe): write the wire format v1."},
#if USE_MONITORING
    {"_thread_profile", m_info, METH_NOARGS, NULL},
#else
    {"_thread_profile", m_thread_profile, METH_VARARGS,
     "threading.setprofile trampoline."},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hook_module = {
    PyModuleDef_HEAD_INIT,
    "perfguard._hook",
    "perfguard's C profiling hook.",
    -1,
    hook_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__hook(void);
PyMODINIT_FUNC PyInit__hook(void)
{
	if (PyType_Ready(&measure_type) < 0 || PyType_Ready(&profiler_type) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&hook_module);
	if (!m)
		return NULL;
	Py_INCREF(&measure_type);
	Py_INCREF(&profiler_type);
	if (PyModule_AddObject(m, "Profiler", (PyObject *)&profiler_type) < 0 ||
	    PyModule_AddObject(m, "Measure", (PyObject *)&measure_type) < 0 ||
	    PyModule_AddStringConstant(m, "mechanism", mechanism_name) < 0) {
		Py_DECREF(&measure_type);
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
