/*
 * monitoring.c - the event mechanism on Python 3.12+: sys.monitoring with
 * C callbacks (builtin function objects), compiled instead of setprofile.c
 * by CMake for those interpreters.
 *
 * PY_START / PY_RESUME / PY_THROW enter a code object's frame, PY_RETURN /
 * PY_YIELD / PY_UNWIND leave it; CALL fires for every call and pushes only
 * C callables (Python callees get PY_START), C_RETURN / C_RAISE pop them.
 * A CALL or C_RETURN of anything else is not timed: its calibrated cost is
 * charged to the current frame (cheap_event).
 *
 * Scope: for code out of scope the local events (PY_START, PY_RESUME,
 * PY_RETURN, PY_YIELD, and CALL at call sites inside it) return
 * sys.monitoring.DISABLE, so the interpreter stops reporting them and that
 * code runs unprofiled after its first call; PY_THROW, PY_UNWIND and
 * C_RETURN / C_RAISE cannot be disabled and return at once. When no
 * builtin can be in scope, a CALL at an in-scope site that calls code out
 * of scope (a C function, a class, an out-of-scope Python function) marks
 * the caller folded and DISABLEs the site too. Without builtins, CALL /
 * C_RETURN / C_RAISE are not requested at all.
 *
 * It deliberately does not return DISABLE at other in-scope call sites (a
 * site may call a Python function now and a timed C function later) nor
 * use LINE or branch events.
 */
#include "hook.h"

#include <stddef.h>

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

/* ---- callbacks: the hot path --------------------------------------------- */

/* What a callback of a local event returns: DISABLE when the code (or
 * call site) is out of scope, so that the interpreter stops reporting it. */
static inline PyObject *local_result(int out)
{
	if (__builtin_expect(out, 0)) {
		Py_INCREF(pg_hook.disable);
		return pg_hook.disable;
	}
	Py_RETURN_NONE;
}

/* PY_START (resume = 0) or PY_RESUME / PY_THROW (resume = 1). The
 * interpreter passes the code object as the first argument. Returns 1 for
 * code out of scope (not timed: its time is its caller's). */
static inline int py_enter(PyObject *const *args, Py_ssize_t nargs, int resume)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th;
	if (!pg_hook.active || nargs < 1 || !(th = thread_get()))
		return 0;
	th->events++;
	clock_check(th, t0);
	uint32_t kind = resume ? PG_HOOK_KIND_GEN : PG_HOOK_KIND_PY;
	uint32_t n = code_node(th, args[0], NULL, kind);
	int out = n == PG_HOOK_NODE_OUT;
	if (__builtin_expect(out, 0)) {
		fold_into_top(th);
		charge_untimed_pair(th, kind);
	} else
		pg_hook_core_push(&pg_hook.core, th, n, args[0], kind, resume,
				  t0);
	callback_done(th, t0);
	return out;
}

/*
 * The callbacks are vectorcall objects (CALLBACK below): the interpreter
 * calls them directly, where a builtin function object would add
 * cfunction_vectorcall_FASTCALL's recursion check and thread-state
 * lookups (~30 instructions of the ~300 an event costs).
 */
#define CALLBACK(name)                                                         \
	static PyObject *name(PyObject *self, PyObject *const *a,              \
			      size_t nargsf, PyObject *kwnames)
#define UNUSED_CALLBACK_ARGS                                                   \
	(void)self;                                                            \
	(void)kwnames
#define NARGS PyVectorcall_NARGS(nargsf)

CALLBACK(cb_py_start)
{
	UNUSED_CALLBACK_ARGS;
	return local_result(py_enter(a, NARGS, 0));
}

CALLBACK(cb_py_resume)
{
	UNUSED_CALLBACK_ARGS;
	return local_result(py_enter(a, NARGS, 1));
}

/* PY_THROW is not a local event: it cannot be disabled. */
CALLBACK(cb_py_throw)
{
	UNUSED_CALLBACK_ARGS;
	py_enter(a, NARGS, 1);
	Py_RETURN_NONE;
}

/* PY_RETURN, PY_YIELD, PY_UNWIND: leave the code's frame. Returns 1 for
 * code out of scope. */
static inline int py_leave(PyObject *const *a, Py_ssize_t n)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th;
	if (!pg_hook.active || n < 1 || !(th = thread_get()))
		return 0;
	if (__builtin_expect(scope_check(th, a[0]), 0) && known_outside(a[0]))
		return 1;
	th->events++;
	leave(th, a[0], t0);
	return 0;
}

CALLBACK(cb_py_leave)
{
	UNUSED_CALLBACK_ARGS;
	return local_result(py_leave(a, NARGS));
}

/* PY_UNWIND is not a local event: it cannot be disabled. */
CALLBACK(cb_py_unwind)
{
	UNUSED_CALLBACK_ARGS;
	py_leave(a, NARGS);
	Py_RETURN_NONE;
}

/*
 * The C callable a CALL is about, for callables that are neither functions
 * nor builtins, found from the type's __call__: a C slot (the instances of
 * operator.methodcaller, functools.partial...) is keyed by the type; a
 * builtin or method descriptor (a class with __call__ = len) is that
 * builtin. NULL for the rest (Python callees get PY_START, classes are
 * instantiated).
 */
static PyObject *__attribute__((noinline))
other_callable(PyObject *callable, const void **key)
{
	PyTypeObject *tp = Py_TYPE(callable);
	static PyObject *name;
	if (!tp->tp_call || tp == &PyMethod_Type || PyType_Check(callable))
		return NULL;
	if (!name && !(name = PyUnicode_InternFromString("__call__"))) {
		PyErr_Clear();
		return NULL;
	}
	PyObject *f = _PyType_Lookup(tp, name); /* borrowed, never raises */
	if (!f)
		return NULL;
	if (Py_IS_TYPE(f, &PyWrapperDescr_Type)) {
		*key = tp;
		return (PyObject *)tp;
	}
	if (PyCFunction_Check(f))
		*key = ((PyCFunctionObject *)f)->m_ml;
	else if (Py_IS_TYPE(f, &PyMethodDescr_Type))
		*key = ((PyMethodDescrObject *)f)->d_method;
	else
		return NULL;
	return own_method(*key) ? NULL : f;
}

/* The C callable a CALL or C_RETURN is about (*key set: its PyMethodDef or
 * type); NULL for anything else (*own set for our own functions, which
 * stay invisible). */
static inline PyObject *call_target(PyObject *callable, const void **key,
				    int *own)
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
		return other_callable(callable, key);
	if (__builtin_expect(own_method(ml), 0)) {
		*own = 1;
		return NULL;
	}
	*key = ml;
	return callable;
}

/* An event we do not time (a CALL or C_RETURN of something that is not a
 * C function): its calibrated cost is charged to the current frame. */
static inline void cheap_event(void)
{
	struct pg_hook_thread *th = thread_get();
	if (th) {
		th->events++;
		th->ovh_fp += pg_hook.core.call_event_fp;
		pg_hook.cheap_events++;
	}
}

/* The C callable a CALL / C_RETURN / C_RAISE event is about (*key set),
 * or NULL when the event is not timed (then charged as a cheap event,
 * unless it is about one of our own functions). */
static inline PyObject *c_event_target(PyObject *const *a, Py_ssize_t n,
				       const void **key)
{
	int own = 0;
	if (!pg_hook.active || n < 3)
		return NULL;
	PyObject *target = call_target(a[2], key, &own);
	if (!target && !own)
		cheap_event();
	return target;
}

/* A call from in-scope code: 1 when the callee is a Python function (or
 * a method of one) out of scope (known from its first call), and then the
 * caller carries its time; 0 for an in-scope Python callee; -1 when the
 * callee is not a Python function. */
static int __attribute__((noinline))
fold_python_callee(const struct pg_hook_thread *th, PyObject *callable)
{
	if (Py_IS_TYPE(callable, &PyMethod_Type))
		callable = PyMethod_GET_FUNCTION(callable);
	if (!Py_IS_TYPE(callable, &PyFunction_Type))
		return -1;
	if (!known_outside(PyFunction_GET_CODE(callable)))
		return 0;
	fold_into_top(th);
	return 1;
}

/*
 * Scope checks of a CALL: 1 when the call site needs no more CALL events
 * (DISABLE it): the site is in code out of scope, or (no builtin in
 * scope) it calls code out of scope: an out-of-scope Python function, a
 * C function or a class, whose time is the caller's either way. The
 * caller is marked folded first. A site calling an in-scope Python
 * function keeps its events (it may call out-of-scope code later, which
 * marks the caller); PY_START times in-scope callees at any site, so
 * counts stay exact.
 */
static int __attribute__((noinline))
call_scope(PyObject *const *a, Py_ssize_t n)
{
	struct pg_hook_thread *th;
	if (!pg_hook.active || n < 3 || !(th = thread_get()))
		return 0;
	if (scope_check(th, a[0]) && pg_hook_site_outside(a[0]))
		return 1;
	int py = fold_python_callee(th, a[2]);
	if (py > 0)
		return pg_hook.scope_c_out;
	if (pg_hook.scope_c_out && py < 0) {
		const void *key;
		int own = 0;
		call_target(a[2], &key, &own);
		if (!own) {
			fold_into_top(th);
			th->ovh_fp += pg_hook.core.call_event_fp;
			return 1;
		}
	}
	return 0;
}

/* CALL(code, offset, callable, arg0). A Python callee (it gets PY_START)
 * reads no clock here: the commonest event on call-heavy code. */
CALLBACK(cb_call)
{
	const void *key;
	Py_ssize_t n = NARGS;
	UNUSED_CALLBACK_ARGS;
	if (__builtin_expect(pg_hook.scope_pred != NULL, 0) && call_scope(a, n))
		return local_result(1);
	PyObject *target = c_event_target(a, n, &key);
	if (!target)
		Py_RETURN_NONE;
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th = thread_get();
	if (th) {
		th->events++;
		c_enter(th, target, key, t0);
	}
	Py_RETURN_NONE;
}

/* C_RETURN / C_RAISE(code, offset, callable, arg0). */
CALLBACK(cb_c_leave)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	const void *key;
	Py_ssize_t n = NARGS;
	UNUSED_CALLBACK_ARGS;
	struct pg_hook_thread *th;
	if (pg_hook.scope_c_out)
		Py_RETURN_NONE; /* no builtin is in scope: none was pushed */
	if (c_event_target(a, n, &key) && (th = thread_get())) {
		if (scope_check(th, key) &&
		    (known_outside(key) || known_outside(a[0])))
			Py_RETURN_NONE; /* out of scope: never pushed */
		th->events++;
		leave(th, key, t0);
	}
	Py_RETURN_NONE;
}

/* ---- registration ---------------------------------------------------------- */

/* A callback: an object the interpreter calls through vectorcall. */
struct callback {
	PyObject_HEAD vectorcallfunc vectorcall;
};

static PyTypeObject callback_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "perfguard._hook.callback",
    .tp_basicsize = sizeof(struct callback),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(struct callback, vectorcall),
    .tp_doc = "A sys.monitoring callback of perfguard's hook.",
};

static int register_one(int event, vectorcallfunc fn)
{
	struct callback *cb = PyObject_New(struct callback, &callback_type);
	if (!cb)
		return -1;
	cb->vectorcall = fn;
	PyObject *r =
	    PyObject_CallMethod(pg_hook.monitoring, "register_callback", "iiO",
				pg_hook.tool_id, event, (PyObject *)cb);
	Py_DECREF(cb);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

static PyObject *import_monitoring(void)
{
	PyObject *mon = PyImport_ImportModule("sys.monitoring");
	if (mon)
		return mon;
	PyErr_Clear();
	PyObject *sys = PyImport_ImportModule("sys");
	if (!sys)
		return NULL;
	mon = PyObject_GetAttrString(sys, "monitoring");
	Py_DECREF(sys);
	return mon;
}

/* Claim a tool id and register the callbacks (events stay off). */
int pg_mech_init(void)
{
	pg_hook.monitoring = import_monitoring();
	if (!pg_hook.monitoring)
		return -1;
	/* The ids sys.monitoring leaves unnamed first: 2 is PROFILER_ID,
	 * which cProfile takes (a benchmark that uses cProfile must still
	 * run), 1 coverage, 0 the debugger, 5 the optimizer. */
	static const int ids[] = {4, 3, 5, 1, 2, 0};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		PyObject *r =
		    PyObject_CallMethod(pg_hook.monitoring, "use_tool_id", "is",
					ids[i], "perfguard");
		if (r) {
			Py_DECREF(r);
			pg_hook.tool_id = ids[i];
			break;
		}
		PyErr_Clear();
	}
	if (pg_hook.tool_id < 0) {
		PyErr_SetString(PyExc_RuntimeError,
				"perfguard: no free sys.monitoring tool id");
		return -1;
	}
	pg_hook.disable = PyObject_GetAttrString(pg_hook.monitoring, "DISABLE");
	if (!pg_hook.disable)
		return -1;
	if (PyType_Ready(&callback_type) < 0 ||
	    register_one(EV_PY_START, cb_py_start) ||
	    register_one(EV_PY_RESUME, cb_py_resume) ||
	    register_one(EV_PY_THROW, cb_py_throw) ||
	    register_one(EV_PY_RETURN, cb_py_leave) ||
	    register_one(EV_PY_YIELD, cb_py_leave) ||
	    register_one(EV_PY_UNWIND, cb_py_unwind) ||
	    register_one(EV_CALL, cb_call) ||
	    register_one(EV_C_RETURN, cb_c_leave) ||
	    register_one(EV_C_RAISE, cb_c_leave))
		return -1;
	return 0;
}

static int set_events(int mask)
{
	PyObject *r = PyObject_CallMethod(pg_hook.monitoring, "set_events",
					  "ii", pg_hook.tool_id, mask);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

int pg_mech_on(int restart)
{
	if (set_events(pg_hook.builtins_on ? EV_MASK : EV_PY_MASK))
		return -1;
	if (restart) {
		PyObject *r = PyObject_CallMethod(pg_hook.monitoring,
						  "restart_events", NULL);
		if (!r)
			return -1;
		Py_DECREF(r);
	}
	return 0;
}

int pg_mech_off(void)
{
	return set_events(0);
}

int pg_mech_slot(void)
{
	return 0;
}

const char *pg_mech_name(int slot)
{
	(void)slot;
	return "monitoring";
}

const char *pg_mech_fallback(void)
{
	return NULL;
}

int32_t pg_mech_gen_start(PyCodeObject *code)
{
	(void)code; /* PY_RESUME tells resumptions apart */
	return -1;
}
