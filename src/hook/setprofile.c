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
 * It deliberately does not use sys.settrace (line events) or Python-level
 * profile functions on the hot path.
 */
#include "hook.h"

#include <string.h>

#define RESUME_311 151 /* opcode of RESUME in 3.11 */

const char pg_mech_name[] = "setprofile";

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

/* The profile function: the hot path. */
static int profile_cb(PyObject *obj, PyFrameObject *frame, int what,
		      PyObject *arg)
{
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	struct pg_hook_thread *th;
	PyMethodDef *ml;
	(void)obj;
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

int pg_mech_init(void)
{
	return 0;
}

/* threading.setprofile target: installs the C function on a new thread
 * and passes it the event it was called for. */
static PyObject *thread_profile(PyObject *self, PyObject *args)
{
	PyObject *frame, *event, *arg;
	(void)self;
	if (!PyArg_ParseTuple(args, "OUO", &frame, &event, &arg))
		return NULL;
	if (!pg_hook.active) {
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

static void all_threads(Py_tracefunc func)
{
	PyThreadState *ts = PyInterpreterState_ThreadHead(
	    PyThreadState_GetInterpreter(PyThreadState_Get()));
	for (; ts; ts = PyThreadState_Next(ts))
		if (_PyEval_SetProfile(ts, func, NULL) < 0)
			PyErr_Clear();
}

int pg_mech_on(int restart)
{
	(void)restart;
	PyObject *fn = PyCFunction_New(&thread_profile_def, NULL);
	if (!fn)
		return -1;
	int rc = set_threading_profile(fn);
	Py_DECREF(fn);
	if (rc)
		return -1;
	all_threads(profile_cb);
	return 0;
}

int pg_mech_off(void)
{
	all_threads(NULL);
	return set_threading_profile(Py_None);
}
