/*
 * hook.h - what the files of the perfguard._hook extension share: its one
 * state struct, the interface an event mechanism implements, and the hot
 * path both mechanisms run (inline, so that a callback stays one function).
 *
 * Files: hook.c (the module: start, stop, run, info, write, measure(),
 * scope, and the Profiler type behind perfguard.Profile),
 * track.c (threads and functions: the rare slow paths of a callback),
 * calibrate.c (per-event costs), and the mechanism chosen by CMake from the
 * interpreter's version: monitoring.c (sys.monitoring, 3.12+), or on
 * 3.9-3.11 setprofile.c (PyEval_SetProfile) with evalframe.c (a PEP 523
 * frame-evaluation function, used instead when C functions are not timed).
 *
 * Hot path: a callback reads the clock once, finds its thread
 * (thread_get), its node (code_node / c_node: one-entry cache hit) and
 * pushes or pops a frame (core.h). Everything else is a slow path: it sets
 * state.slow_path so that callback_done excludes the callback's own time,
 * and saves any pending exception around Python API calls (exc_save /
 * exc_restore), as CPython's _lsprof.c does.
 *
 * Invariants: callbacks never raise and never leave an exception set; all
 * state is guarded by the GIL; functions are keyed by their code object
 * (held with a reference until exit) or PyMethodDef, and described (id,
 * file, line) only once, at write time, by a Python helper.
 *
 * It deliberately does not compute ids in callbacks, support free-threaded
 * builds, or profile code run by the boot module itself.
 */
#ifndef PERFGUARD_HOOK_HOOK_H
#define PERFGUARD_HOOK_HOOK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include <stdint.h>
#include <sys/types.h>

#include "core.h"
#include "timer.h"

#define PG_HIDDEN     __attribute__((visibility("hidden")))
#define GEN_FLAGS     (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)
#define PG_MECH_SLOTS 2 /* mechanisms an interpreter may choose between */

/*
 * The extension's whole state (one instance: the module is single-phase
 * and the interpreter single). Mutated under the GIL only.
 */
struct pg_hook_state {
	struct pg_hook_core core;   /* calling-context tree, threads, costs */
	struct pg_hook_timer timer; /* the clock all ticks are read from */
	int core_ready;		    /* core, timer and mechanism initialised */
	pid_t owner_pid;	    /* the initialising process (a forked
				       child writes no wire file) */

	/* Lifecycle. */
	int active;	   /* events are being delivered */
	int started;	   /* between start and stop of the script */
	int narrowed;	   /* a measure() block was entered */
	int measure_depth; /* nesting of measure() blocks */
	int64_t wall_mark_ns, wall_total_ns; /* wall time while active */

	/* Set by the rare expensive paths of a callback (a new thread or
	 * epoch, a new node, an off-CPU clock check): only then is the
	 * callback's own time measured and excluded. The common path reads
	 * the clock once and its cost is part of the calibrated costs. 2: a
	 * cpu-mode check alone (its checkpoint stands). */
	int slow_path;

	/* An interval between two events longer than cpu_gap_ticks triggers
	 * a thread-CPU-clock check, and so does an event cpu_period_ticks
	 * after the last check (it measures the not-running time of short
	 * intervals): the time off the CPU is recorded per node, and in cpu
	 * mode (PERFGUARD_CLOCK=cpu) excluded. */
	int cpu_mode;
	int64_t cpu_gap_ticks, cpu_period_ticks;
	uint64_t cpu_checks;	/* thread-CPU-clock reads (info()) */
	int64_t cpu_lost_ticks; /* time excluded as not running (info()) */

	/* Calibration, per mechanism slot (pg_mech_slot): costs in ns as
	 * measured or given, and in fixed-point ticks as the core uses them
	 * (loaded into the core when a recording starts); and the untimed
	 * events it counts. */
	uint64_t cheap_events; /* events charged without a clock read */
	struct pg_hook_costs {
		double pair_ns[PG_HOOK_NKINDS], inner_ns[PG_HOOK_NKINDS];
		double cheap_ns, spread_ns;
		int64_t enter_fp[PG_HOOK_NKINDS], leave_fp[PG_HOOK_NKINDS];
		int64_t call_event_fp;
	} cal[PG_MECH_SLOTS];
	int mech_used; /* slot of the last recording (the wire's mechanism) */

	/* Scope: in_scope(obj, cls, builtin) -> bool, asked once per function
	 * at first sight (PG_HOOK_OUTSIDE caches a no); NULL when every
	 * function is in scope. builtins_on: C functions are timed as
	 * functions of their own (else their time is their caller's). */
	PyObject *scope_pred;
	int builtins_on;
	/* The predicate says no builtin is in scope (its builtins_out
	 * attribute): call sites need no CALL event once they call code out
	 * of scope (monitoring.c). */
	int scope_c_out;
	/* C functions are not timed in recordings with the current settings
	 * (builtins off, or scope_c_out): 3.9-3.11 then use evalframe.c.
	 * Kept apart from builtins_on and scope_pred, which calibration
	 * overrides while it measures the mechanism these settings choose. */
	int c_untimed;
	/* The reference loop's and target's code while run() times them
	 * (borrowed): always in scope, whatever the predicate says. */
	PyObject *ref_code[2];
	/* The Profiler (perfguard.Profile) holding the recording, or NULL. */
	PyObject *profiler_owner;

	/* Mechanism (monitoring.c): sys.monitoring and the tool id taken. */
	PyObject *monitoring;
	int tool_id;
	PyObject *disable; /* sys.monitoring.DISABLE */
};

extern struct pg_hook_state pg_hook PG_HIDDEN;

/* The calling thread's record: initial-exec TLS is one instruction, where
 * the default (global-dynamic) model calls __tls_get_addr per event. */
extern __thread struct pg_hook_thread *pg_hook_tls
    __attribute__((tls_model("initial-exec"))) PG_HIDDEN;

/* The module's own methods (hook.c): C calls of them stay invisible. */
#define PG_N_HOOK_METHODS     10
#define PG_N_MEASURE_METHODS  2
#define PG_N_PROFILER_METHODS 6
extern PyMethodDef pg_hook_methods[PG_N_HOOK_METHODS + 1] PG_HIDDEN;
extern PyMethodDef pg_measure_methods[PG_N_MEASURE_METHODS + 1] PG_HIDDEN;
extern PyMethodDef pg_profiler_methods[PG_N_PROFILER_METHODS + 1] PG_HIDDEN;

/* A node value of the slow paths: the callable is out of scope and is not
 * timed (never pushed). */
#define PG_HOOK_NODE_OUT (PG_HOOK_DETACHED - 1)

/* ---- the mechanism (monitoring.c, or setprofile.c with evalframe.c) ----- */

/* The mechanism slot of a recording: while active the one in use, else the
 * one a recording would use with the current settings (c_untimed, and
 * whether the frame-evaluation function can be installed). 0: the
 * callback mechanism (monitoring or setprofile); 1: evalframe. */
int pg_mech_slot(void) PG_HIDDEN;

/* The name of a slot's mechanism, as written in the wire: "monitoring",
 * "setprofile" or "evalframe" (a static string). */
const char *pg_mech_name(int slot) PG_HIDDEN;

/* Why the last pg_mech_on did not use evalframe.c although C functions
 * were not timed (a static string), or NULL. */
const char *pg_mech_fallback(void) PG_HIDDEN;

/* Once, at first use: claim what the mechanism needs (events stay off).
 * Returns 0, or -1 with a Python exception set. */
int pg_mech_init(void) PG_HIDDEN;

/* Deliver events on every thread, present and future; restart asks the
 * interpreter to re-instrument code already running. 0 or -1 (exception). */
int pg_mech_on(int restart) PG_HIDDEN;

/* Stop delivering events. 0 or -1 (exception). */
int pg_mech_off(void) PG_HIDDEN;

/* evalframe.c (3.9-3.11): install the frame-evaluation function on the
 * interpreter. 0; or -1 with *why set (a static string, no exception)
 * when another frame-evaluation function is installed. */
int pg_evalframe_on(const char **why) PG_HIDDEN;

/* evalframe.c: uninstall it (frames in flight still leave through it). */
void pg_evalframe_off(void) PG_HIDDEN;

/* evalframe.c: whether pg_evalframe_on would succeed now. */
int pg_evalframe_usable(void) PG_HIDDEN;

/* For generator code: the position a frame not yet started is at, that
 * the mechanism compares against to tell a first call from a resumption;
 * -1 when the mechanism reports resumptions itself. */
int32_t pg_mech_gen_start(PyCodeObject *code) PG_HIDDEN;

/* ---- slow paths (track.c) ------------------------------------------------ */

/* The calling thread's record at the first event of an epoch (made on
 * first use); NULL when out of memory (counted in core.errors). */
struct pg_hook_thread *pg_hook_thread_slow(void) PG_HIDDEN;

/* A check is due at t0 (pg_hook_core_cpu_due): record the time the thread
 * did not run in the interval that ended (when long; cpu mode also
 * excludes it) and take the checkpoint. Sets slow_path (2): callback_done
 * excludes the check. */
void pg_hook_cpu_adjust(struct pg_hook_thread *th, int64_t t0) PG_HIDDEN;

/* The end of a slow path that started at t0: exclude its time and take the
 * off-CPU checkpoint after it (unless slow_path is 2: a check alone, which
 * took its own). */
void pg_hook_slow_done(struct pg_hook_thread *th, int64_t t0) PG_HIDDEN;

/* The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), ns. */
int64_t pg_hook_thread_cpu_ns(void) PG_HIDDEN;

/* Start th's cpu-mode checkpoint at clock time t0. */
void pg_hook_cpu_checkpoint(struct pg_hook_thread *th, int64_t t0) PG_HIDDEN;

/* The function index of a code object, added on first sight; frame (may be
 * NULL) is the running frame, used on old Pythons to remember the class.
 * PG_HOOK_NONE on failure (counted). */
uint32_t pg_hook_code_func(PyObject *code, PyFrameObject *frame) PG_HIDDEN;

/* Make the node of a call of code (or of the C callable keyed by its
 * PyMethodDef or its type) below parent. PG_HOOK_DETACHED when none can be
 * made, PG_HOOK_NODE_OUT when the callable is out of scope (cheap once
 * known). */
uint32_t pg_hook_code_node_new(uint32_t parent, PyObject *code,
			       PyFrameObject *frame, uint32_t kind) PG_HIDDEN;
uint32_t pg_hook_c_node_new(uint32_t parent, PyObject *callable,
			    const void *key) PG_HIDDEN;

/* Add the hook's gc.callbacks entry: collections become calls of "<gc>"
 * below the running frame. 0 or -1 (exception set). */
int pg_hook_gc_init(void) PG_HIDDEN;

/* The thread record of the current thread if it has one this epoch. */
struct pg_hook_thread *pg_hook_current_thread(void) PG_HIDDEN;

/* Ask the scope predicate whether a function (what the core keeps for it:
 * obj, cls, builtin) is in scope: 1, or 0. Runs Python code; a pending
 * exception is set aside and a failing predicate counts as in scope. */
int pg_hook_in_scope(PyObject *obj, PyObject *cls, int builtin) PG_HIDDEN;

/* Whether the code running a call site is out of scope; code not seen yet
 * (a frame entered before recording started) is classified now. */
int pg_hook_site_outside(PyObject *code) PG_HIDDEN;

/* ---- module (hook.c) and calibration (calibrate.c) ---------------------- */

/* Initialise core, timer and mechanism once. 0 or -1 (exception set). */
int pg_hook_ensure_core(void) PG_HIDDEN;

/* Start delivering events in a new epoch; 0 or -1 (exception set). */
int pg_hook_enable(int restart) PG_HIDDEN;

/* Stop delivering events and close every thread's open frames. */
void pg_hook_disable(void) PG_HIDDEN;

/* Discard all measurements and the wall time. */
void pg_hook_reset_all(void) PG_HIDDEN;

/* info(): a dict of mechanism, timer, costs and counters. */
PyObject *pg_hook_info(PyObject *self, PyObject *unused) PG_HIDDEN;

/* calibrate(...), probe(...) and set_costs(...) as documented in the
 * method table. */
PyObject *pg_hook_calibrate(PyObject *self, PyObject *args) PG_HIDDEN;
PyObject *pg_hook_probe(PyObject *self, PyObject *args) PG_HIDDEN;
PyObject *pg_hook_set_costs(PyObject *self, PyObject *args) PG_HIDDEN;

/*
 * The reference of the running recording (core.h, comp_ref): loop(n)
 * called once from C on this thread, with events on (switched on for it
 * when a measure() narrowing has them off); loop is a Python loop making n
 * calls of target, an empty Python function, from Python code; both must
 * be Python functions. Its evidence is taken and its nodes emptied by
 * pg_hook_core_take_reference; its events are not counted (nor calls a
 * full tree had no room for as lost). Returns the wall time it took, ns
 * (for the caller to leave out of the recording's), or -1 with an
 * exception set.
 */
int64_t pg_hook_reference(PyObject *loop, PyObject *target, long n) PG_HIDDEN;

/* ---- pending exceptions around slow paths --------------------------------- */

/* A pending exception set aside while a slow path calls the C API. */
struct pg_hook_exc {
#if PY_VERSION_HEX >= 0x030C0000
	PyObject *exc;
#else
	PyObject *type, *value, *tb;
#endif
};

static inline void exc_save(struct pg_hook_exc *e)
{
#if PY_VERSION_HEX >= 0x030C0000
	e->exc = PyErr_GetRaisedException();
#else
	PyErr_Fetch(&e->type, &e->value, &e->tb);
#endif
}

/* Drop whatever the slow path raised and put the saved exception back. */
static inline void exc_restore(struct pg_hook_exc *e)
{
	PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(e->exc);
#else
	PyErr_Restore(e->type, e->value, e->tb);
#endif
}

/* ---- the hot path ---------------------------------------------------------- */

static inline struct pg_hook_thread *thread_get(void)
{
	struct pg_hook_thread *th = pg_hook_tls;
	if (__builtin_expect(th && th->epoch == pg_hook.core.epoch, 1))
		return th;
	return pg_hook_thread_slow();
}

/* Per timed event: check long intervals for time off the CPU (both
 * clocks: it is recorded per function; cpu mode also excludes it). */
static inline void clock_check(struct pg_hook_thread *th, int64_t t0)
{
	if (pg_hook_core_cpu_due(th, t0, pg_hook.cpu_gap_ticks,
				 pg_hook.cpu_period_ticks))
		pg_hook_cpu_adjust(th, t0);
	th->last_ticks = t0;
}

/* End of a callback that started at t0 on th: a slow path's time is
 * excluded. */
static inline void callback_done(struct pg_hook_thread *th, int64_t t0)
{
	if (__builtin_expect(pg_hook.slow_path, 0)) {
		pg_hook_slow_done(th, t0);
		pg_hook.slow_path = 0;
	}
}

static inline int own_method(const PyMethodDef *ml)
{
	return (ml >= pg_hook_methods &&
		ml < pg_hook_methods + PG_N_HOOK_METHODS) ||
	       (ml >= pg_measure_methods &&
		ml < pg_measure_methods + PG_N_MEASURE_METHODS) ||
	       (ml >= pg_profiler_methods &&
		ml < pg_profiler_methods + PG_N_PROFILER_METHODS);
}

/* ---- scope on the hot path ------------------------------------------------- */

/* The events of a call of kind that is not timed (out of scope) still cost
 * what a timed pair costs, roughly: charged to the current frame as
 * overhead, so that they do not inflate its self time. */
static inline void charge_untimed_pair(struct pg_hook_thread *th, uint32_t kind)
{
	th->ovh_fp += pg_hook.core.enter_fp[kind] + pg_hook.core.leave_fp[kind];
}

/* Whether the known function of key is out of scope. */
static inline int known_outside(const void *key)
{
	uint32_t f = pg_hook_core_find(&pg_hook.core, key);
	return f != PG_HOOK_NONE &&
	       (pg_hook.core.funcs[f].flags & PG_HOOK_OUTSIDE);
}

/* Whether an event of key on th needs a scope check: a scope is set and
 * key is not the top frame's (the top frame is always in scope). */
static inline int scope_check(const struct pg_hook_thread *th, const void *key)
{
	return pg_hook.scope_pred &&
	       (!th->depth || th->stack[th->depth - 1].key != key);
}

/* Out-of-scope code ran below th's top frame: its time is that frame's
 * self time, which reports mark as folded. */
static inline void fold_into_top(const struct pg_hook_thread *th)
{
	uint32_t n = pg_hook_core_top(th);
	if (n && n < PG_HOOK_DETACHED)
		pg_hook.core.funcs[pg_hook.core.nodes[n].func].flags |=
		    PG_HOOK_FOLDED;
}

/* The node of a call of code below th's current node. */
static inline uint32_t code_node(struct pg_hook_thread *th, PyObject *code,
				 PyFrameObject *frame, uint32_t kind)
{
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&pg_hook.core, parent, code);
	if (__builtin_expect(n != PG_HOOK_NONE, 1))
		return n;
	return pg_hook_code_node_new(parent, code, frame, kind);
}

/* A call of a C callable (keyed by its PyMethodDef or its type) at t0:
 * push its node. */
static inline void c_enter(struct pg_hook_thread *th, PyObject *callable,
			   const void *key, int64_t t0)
{
	clock_check(th, t0);
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&pg_hook.core, parent, key);
	if (__builtin_expect(n == PG_HOOK_NONE, 0))
		n = pg_hook_c_node_new(parent, callable, key);
	if (__builtin_expect(n == PG_HOOK_NODE_OUT, 0)) {
		fold_into_top(th); /* out of scope: not timed */
		charge_untimed_pair(th, PG_HOOK_KIND_C);
	} else {
		pg_hook_core_push(&pg_hook.core, th, n, key, PG_HOOK_KIND_C, 0,
				  t0);
	}
	callback_done(th, t0);
}

/* A return (or suspension) of key at t0. */
static inline void leave(struct pg_hook_thread *th, const void *key, int64_t t0)
{
	clock_check(th, t0);
	pg_hook_core_pop(&pg_hook.core, th, key, t0);
	callback_done(th, t0);
}

#endif
