/*
 * setprofile.c - the event mechanism on Python 3.9-3.11: a C profile
 * function (PyEval_SetProfile) on every thread, compiled instead of
 * monitoring.c by CMake for those interpreters. Existing threads get it
 * directly, threads started later through a threading.setprofile
 * trampoline (_thread_profile) that installs it on their first event.
 *
 * The interpreter reports a generator's resumption as a "call" of its
 * frame: a call of generator code whose frame is past its start position
 * (pg_mech_gen_start) is a resumption.
 *
 * Scope: every event still arrives; for code out of scope (and C calls
 * it makes) the profile function returns at once after one lookup. Without
 * builtins the C events return at once.
 *
 * Coexistence: a thread has one profile function, and the script may set
 * its own (sys.setprofile, cProfile). An audit hook sees every change
 * ("sys.setprofile") and schedules take_threads, which puts the hook back
 * on every thread and chains the script's function behind it: the script's
 * (func, obj) is kept, obj stays the thread's profile object (so
 * sys.getprofile() answers as without perfguard) and every event is passed
 * on to func, its time excluded. Between the change and the retake (a few
 * bytecodes) events are missed; the C call that made the change is closed
 * at the retake. Threads started with _thread.start_new_thread (which
 * threading.setprofile does not reach) get the hook through a wrapper.
 *
 * It deliberately does not use sys.settrace (line events) or Python-level
 * profile functions on the hot path.
 */
#include "hook.h"

#include <stdlib.h>
#include <string.h>

#define RESUME_311 151 /* opcode of RESUME in 3.11 */

/* Which of the two mechanisms of 3.9-3.11 a recording uses. */
static int use_evalframe;    /* the last pg_mech_on chose evalframe.c */
static const char *fallback; /* why it could not, or NULL */

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

/* Offset of the first RESUME (3.11), where a generator frame not yet
 * started is; -1 before 3.11 (f_lasti is -1 there). */
int32_t pg_mech_gen_start(PyCodeObject *code)
{
#if PY_VERSION_HEX >= 0x030B0000
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
#else
	(void)code;
	return -1;
#endif
}

/* The PyMethodDef of a C callable we profile, else NULL. The interpreter
 * reports a method descriptor's call as one of a bound builtin method (it
 * binds it to report it), so PyCFunction_Check's exact-type test is the
 * one that hits. */
static inline PyMethodDef *cfunc_def(PyObject *callable)
{
	PyMethodDef *ml = NULL;
	if (PyCFunction_Check(callable))
		ml = ((PyCFunctionObject *)callable)->m_ml;
	else if (Py_IS_TYPE(callable, &PyMethodDescr_Type))
		ml = ((PyMethodDescrObject *)callable)->d_method;
	return ml && !own_method(ml) ? ml : NULL;
}

/* Whether a call event of generator code is a resumption. */
static int __attribute__((noinline))
gen_resumed(PyObject *code, PyFrameObject *frame, uint32_t n)
{
	uint32_t f = n < PG_HOOK_DETACHED ? pg_hook.core.nodes[n].func
					  : pg_hook_code_func(code, frame);
	return f != PG_HOOK_NONE &&
	       frame_lasti(frame) != pg_hook.core.funcs[f].start_lasti;
}

/* A call of frame's code (or a generator's resumption) at t0. */
static inline void py_enter(struct pg_hook_thread *th, PyFrameObject *frame,
			    int64_t t0)
{
	PyObject *code = frame_code(frame);
	clock_check(th, t0);
	uint32_t n = code_node(th, code, frame, PG_HOOK_KIND_PY);
	if (__builtin_expect(n == PG_HOOK_NODE_OUT, 0)) {
		fold_into_top(th); /* out of scope: not timed */
		charge_untimed_pair(th, PG_HOOK_KIND_PY);
		callback_done(th, t0);
		return;
	}
	int resume = 0;
	if (((PyCodeObject *)code)->co_flags & GEN_FLAGS)
		resume = gen_resumed(code, frame, n);
	pg_hook_core_push(&pg_hook.core, th, n, code,
			  resume ? PG_HOOK_KIND_GEN : PG_HOOK_KIND_PY, resume,
			  t0);
	callback_done(th, t0);
}

static int chained(PyObject *obj, PyFrameObject *frame, int what,
		   PyObject *arg);

/* The profile function: the hot path. obj is the script's own profile
 * object when one is chained behind the hook, else NULL. */
static int profile_cb(PyObject *obj, PyFrameObject *frame, int what,
		      PyObject *arg)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th;
	PyMethodDef *ml;
	if (__builtin_expect(obj != NULL, 0))
		return chained(obj, frame, what, arg);
	if (!pg_hook.active || !(th = thread_get()))
		return 0;
	switch (what) {
	case PyTrace_CALL:
		th->events++;
		py_enter(th, frame, t0);
		break;
	case PyTrace_RETURN: {
		PyObject *code = frame_code(frame);
		if (scope_check(th, code) && known_outside(code))
			break; /* out of scope: never pushed */
		th->events++;
		leave(th, code, t0);
		break;
	}
	case PyTrace_C_CALL:
		if (pg_hook.builtins_on && (ml = cfunc_def(arg))) {
			/* A C call made by code out of scope is not timed. */
			PyObject *code = frame_code(frame);
			if (scope_check(th, code) && known_outside(code)) {
				charge_untimed_pair(th, PG_HOOK_KIND_C);
				break;
			}
			th->events++;
			c_enter(th, arg, ml, t0);
		}
		break;
	case PyTrace_C_RETURN:
	case PyTrace_C_EXCEPTION:
		if (pg_hook.builtins_on && (ml = cfunc_def(arg))) {
			if (scope_check(th, ml) &&
			    (known_outside(ml) ||
			     known_outside(frame_code(frame))))
				break;
			th->events++;
			leave(th, ml, t0);
		}
		break;
	}
	return 0;
}

/* ---- coexistence with the script's own profilers ------------------------ */

/* The script's profile functions chained behind the hook, per thread
 * state (their objects are the thread states' profile objects). */
#define MAX_CHAINS 64
static struct chain {
	PyThreadState *ts;
	Py_tracefunc func;
} chains[MAX_CHAINS];

/* The C calls that displaced the hook (their returns went elsewhere). */
#define MAX_DISPLACED 16
static struct displaced {
	struct pg_hook_thread *th;
	const void *key;
} displaced[MAX_DISPLACED];
static int ndisplaced;

static int own_change;	 /* the hook itself is setting profile functions */
static int take_pending; /* take_threads is scheduled */

static struct chain *chain_find(PyThreadState *ts)
{
	for (int i = 0; i < MAX_CHAINS; i++)
		if (chains[i].ts == ts)
			return &chains[i];
	return NULL;
}

static int chain_set(PyThreadState *ts, Py_tracefunc func)
{
	struct chain *c = chain_find(ts);
	if (!c)
		c = chain_find(NULL);
	if (!c)
		return -1;
	c->ts = ts;
	c->func = func;
	return 0;
}

/* Set ts's profile function without scheduling a retake. */
static void set_profile(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
	own_change++;
	Py_XINCREF(obj); /* _PyEval_SetProfile drops the old one first */
	if (_PyEval_SetProfile(ts, func, obj) < 0)
		PyErr_Clear();
	Py_XDECREF(obj);
	own_change--;
}

static PyMethodDef thread_profile_def;

/* Put the hook on ts, chaining what the script installed there (not the
 * hook's own threading.setprofile trampoline). */
static void take_thread(PyThreadState *ts)
{
	Py_tracefunc func = ts->c_profilefunc;
	PyObject *obj = ts->c_profileobj;
	if (func == profile_cb)
		return;
	if (obj && PyCFunction_Check(obj) &&
	    ((PyCFunctionObject *)obj)->m_ml == &thread_profile_def)
		func = NULL;
	struct chain *old = chain_find(ts);
	if (old)
		old->ts = NULL;
	if (func && chain_set(ts, func)) {
		pg_hook.core.errors++; /* more chains than room: theirs wins */
		return;
	}
	set_profile(ts, profile_cb, func ? obj : NULL);
}

/* Take the hook off ts, leaving the script's chained function in place. */
static void release_thread(PyThreadState *ts)
{
	if (ts->c_profilefunc != profile_cb)
		return;
	struct chain *c = ts->c_profileobj ? chain_find(ts) : NULL;
	if (c) {
		set_profile(ts, c->func, ts->c_profileobj);
		c->ts = NULL;
	} else {
		set_profile(ts, NULL, NULL);
	}
}

/* Close the C calls that displaced the hook (their returns were missed). */
static void close_displaced(void)
{
	int64_t now = pg_hook_ticks(&pg_hook.timer);
	for (int i = 0; i < ndisplaced; i++) {
		struct pg_hook_thread *th = displaced[i].th;
		if (th->depth &&
		    th->stack[th->depth - 1].key == displaced[i].key)
			pg_hook_core_pop(&pg_hook.core, th, displaced[i].key,
					 now);
	}
	ndisplaced = 0;
}

static void each_thread(void (*fn)(PyThreadState *))
{
	PyThreadState *ts = PyInterpreterState_ThreadHead(
	    PyThreadState_GetInterpreter(PyThreadState_Get()));
	for (; ts; ts = PyThreadState_Next(ts))
		fn(ts);
}

/* Pending call: after the script changed a profile function. */
static int take_threads(void *unused)
{
	(void)unused;
	take_pending = 0;
	if (pg_hook.active) {
		each_thread(take_thread);
		close_displaced();
	}
	ndisplaced = 0;
	return 0;
}

/* Audit hook: someone other than the hook is about to set a thread's
 * profile function. The C call doing it (on top of this thread's stack)
 * will not return to the hook. */
static int audit(const char *event, PyObject *args, void *unused)
{
	(void)args;
	(void)unused;
	if (own_change || !pg_hook.active || use_evalframe ||
	    strcmp(event, "sys.setprofile"))
		return 0;
	struct pg_hook_thread *th = pg_hook_current_thread();
	if (th && th->depth &&
	    th->stack[th->depth - 1].kind == PG_HOOK_KIND_C &&
	    ndisplaced < MAX_DISPLACED) {
		displaced[ndisplaced].th = th;
		displaced[ndisplaced].key = th->stack[th->depth - 1].key;
		ndisplaced++;
	}
	if (!take_pending && Py_AddPendingCall(take_threads, NULL) == 0)
		take_pending = 1;
	return 0;
}

/* An event for a thread whose script profiler is chained: the hook's own
 * accounting, then the script's function, its time excluded. */
static int __attribute__((noinline))
chained(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
	profile_cb(NULL, frame, what, arg);
	struct chain *c = chain_find(PyThreadState_Get());
	if (!c)
		return 0;
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	int rc = c->func(obj, frame, what, arg);
	struct pg_hook_thread *th = pg_hook_current_thread();
	if (th && pg_hook.active)
		pg_hook_slow_done(th, t0);
	return rc;
}

/* ---- threads ----------------------------------------------------------- */

static PyObject *orig_start_new_thread;

/* A thread started by _thread.start_new_thread: (function, args, kwargs). */
static PyObject *thread_boot(PyObject *packed, PyObject *unused)
{
	(void)unused;
	if (pg_hook.active && !use_evalframe)
		take_thread(PyThreadState_Get());
	PyObject *kw = PyTuple_GET_ITEM(packed, 2);
	return PyObject_Call(PyTuple_GET_ITEM(packed, 0),
			     PyTuple_GET_ITEM(packed, 1),
			     kw == Py_None ? NULL : kw);
}

static PyMethodDef thread_boot_def = {"_thread_boot", thread_boot, METH_NOARGS,
				      NULL};

/* _thread.start_new_thread(function, args[, kwargs]) with the hook on the
 * new thread from its first event. */
static PyObject *start_new_thread(PyObject *self, PyObject *args)
{
	PyObject *fn, *fargs, *kwargs = Py_None;
	(void)self;
	if (!PyArg_UnpackTuple(args, "start_new_thread", 2, 3, &fn, &fargs,
			       &kwargs))
		return NULL;
	PyObject *packed = PyTuple_Pack(3, fn, fargs, kwargs);
	if (!packed)
		return NULL;
	PyObject *boot = PyCFunction_New(&thread_boot_def, packed);
	Py_DECREF(packed);
	if (!boot)
		return NULL;
	PyObject *r = PyObject_CallFunction(orig_start_new_thread, "O()", boot);
	Py_DECREF(boot);
	return r;
}

static PyMethodDef start_new_thread_def = {
    "start_new_thread", start_new_thread, METH_VARARGS,
    "_thread.start_new_thread, with perfguard's hook on the new thread."};

/* Replace _thread.start_new_thread (and its alias start_new). */
static int wrap_start_new_thread(void)
{
	PyObject *mod = PyImport_ImportModule("_thread");
	if (!mod)
		return -1;
	int rc = -1;
	PyObject *name = PyModule_GetNameObject(mod), *fn = NULL;
	orig_start_new_thread = PyObject_GetAttrString(mod, "start_new_thread");
	if (name && orig_start_new_thread &&
	    (fn = PyCFunction_NewEx(&start_new_thread_def, NULL, name)) &&
	    PyObject_SetAttrString(mod, "start_new_thread", fn) == 0 &&
	    PyObject_SetAttrString(mod, "start_new", fn) == 0)
		rc = 0;
	Py_XDECREF(fn);
	Py_XDECREF(name);
	Py_DECREF(mod);
	return rc;
}

/* ---- the mechanism's interface -------------------------------------------- */

int pg_mech_init(void)
{
	if (PySys_AddAuditHook(audit, NULL) < 0)
		return -1;
	return wrap_start_new_thread();
}

/* threading.setprofile target: installs the C function on a new thread
 * and passes it the event it was called for. */
static PyObject *thread_profile(PyObject *self, PyObject *args)
{
	PyObject *frame, *event, *arg;
	(void)self;
	if (!PyArg_ParseTuple(args, "OUO", &frame, &event, &arg))
		return NULL;
	PyThreadState *ts = PyThreadState_Get();
	if (!pg_hook.active) {
		set_profile(ts, NULL, NULL);
		Py_RETURN_NONE;
	}
	set_profile(ts, profile_cb, NULL);
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

static PyMethodDef thread_profile_def = {"_thread_profile", thread_profile,
					 METH_VARARGS,
					 "threading.setprofile trampoline."};

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

/* Whether a recording with the current settings would use evalframe.c:
 * C functions are not timed and PERFGUARD_EVALFRAME is not 0. */
static int evalframe_wanted(void)
{
	const char *env = getenv("PERFGUARD_EVALFRAME");
	return pg_hook.c_untimed && !(env && !strcmp(env, "0"));
}

/* The profile function on every thread, present and future. */
static int setprofile_on(void)
{
	PyObject *fn = PyCFunction_New(&thread_profile_def, NULL);
	if (!fn)
		return -1;
	int rc = set_threading_profile(fn);
	Py_DECREF(fn);
	if (rc)
		return -1;
	each_thread(take_thread);
	return 0;
}

int pg_mech_on(int restart)
{
	(void)restart;
	fallback = NULL;
	use_evalframe = evalframe_wanted() && pg_evalframe_on(&fallback) == 0;
	return use_evalframe ? 0 : setprofile_on();
}

int pg_mech_off(void)
{
	if (use_evalframe) {
		pg_evalframe_off();
		return 0;
	}
	each_thread(release_thread);
	return set_threading_profile(Py_None);
}

int pg_mech_slot(void)
{
	if (pg_hook.active)
		return use_evalframe;
	return evalframe_wanted() && pg_evalframe_usable();
}

const char *pg_mech_name(int slot)
{
	return slot ? "evalframe" : "setprofile";
}

const char *pg_mech_fallback(void)
{
	return fallback;
}
