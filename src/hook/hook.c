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

#include <stdio.h>
#include <string.h>
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
static __thread struct pg_hook_thread *tls_thread;
/* Set by the rare expensive paths of a callback (a new thread or epoch, a
 * function seen for the first time): only then is the callback's own time
 * measured and excluded. The common path reads the clock once and its
 * cost is part of the calibrated per-event cost. */
static int slow_path;

/* End of a callback that started at t0 on th. */
static inline void callback_done(struct pg_hook_thread *th, int64_t t0)
{
	if (slow_path) {
		th->paused_ticks += pg_hook_ticks(&timer) - t0;
		slow_path = 0;
	}
}

#define N_HOOK_METHODS	  7
#define N_MEASURE_METHODS 2
static PyMethodDef hook_methods[N_HOOK_METHODS + 1];
static PyMethodDef measure_methods[N_MEASURE_METHODS + 1];

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
static struct pg_hook_thread *thread_get(void)
{
	struct pg_hook_thread *th = tls_thread;
	if (th && th->epoch == core.epoch)
		return th;
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
	slow_path = 1;
	return th;
}

static int own_method(const PyMethodDef *ml)
{
	return (ml >= hook_methods && ml < hook_methods + N_HOOK_METHODS) ||
	       (ml >= measure_methods &&
		ml < measure_methods + N_MEASURE_METHODS);
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

/* The PyMethodDef of a C callable we profile, else NULL. */
static PyMethodDef *cfunc_def(PyObject *callable)
{
	PyMethodDef *ml = NULL;
	if (PyCFunction_Check(callable))
		ml = ((PyCFunctionObject *)callable)->m_ml;
	else if (Py_IS_TYPE(callable, &PyMethodDescr_Type))
		ml = ((PyMethodDescrObject *)callable)->d_method;
	return ml && !own_method(ml) ? ml : NULL;
}

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
	if (pg_hook_core_add(&core, ml, obj, NULL, PG_HOOK_BUILTIN, &f)) {
		Py_DECREF(obj);
		core.errors++;
		return PG_HOOK_NONE;
	}
	return f;
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
#define EV_MASK                                                                \
	(EV_PY_START | EV_PY_RESUME | EV_PY_RETURN | EV_PY_YIELD | EV_CALL |   \
	 EV_PY_UNWIND | EV_PY_THROW | EV_C_RETURN | EV_C_RAISE)

static void py_event(PyObject *const *args, Py_ssize_t nargs, int enter,
		     int resume)
{
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th;
	if (!active || nargs < 1 || !PyCode_Check(args[0]) ||
	    !(th = thread_get()))
		return;
	uint32_t f = code_func(args[0], NULL);
	th->events++;
	if (f != PG_HOOK_NONE) {
		if (enter)
			pg_hook_core_enter(&core, th, f, resume,
					   t0 - th->paused_ticks);
		else
			pg_hook_core_leave(&core, th, f, t0 - th->paused_ticks);
	}
	callback_done(th, t0);
}

static PyObject *cb_py_start(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	py_event(a, n, 1, 0);
	Py_RETURN_NONE;
}

static PyObject *cb_py_resume(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	py_event(a, n, 1, 1);
	Py_RETURN_NONE;
}

static PyObject *cb_py_leave(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	py_event(a, n, 0, 0);
	Py_RETURN_NONE;
}

/* CALL fires for every call; only C callables are pushed (Python ones get
 * PY_START). The others still count as events: their dispatch is part of
 * the calibrated per-event cost. */
static void c_event(PyObject *const *args, Py_ssize_t nargs, int enter)
{
	struct pg_hook_thread *th;
	if (!active || nargs < 3)
		return;
	PyObject *callable = args[2];
	PyMethodDef *ml = cfunc_def(callable);
	if (!ml) {
		if ((PyCFunction_Check(callable) ||
		     Py_IS_TYPE(callable, &PyMethodDescr_Type)))
			return; /* our own functions are invisible */
		if ((th = thread_get()))
			th->events++;
		return;
	}
	int64_t t0 = pg_hook_ticks(&timer);
	if (!(th = thread_get()))
		return;
	uint32_t f = cfunc_func(callable, ml);
	th->events++;
	th->c_events++;
	if (f != PG_HOOK_NONE) {
		if (enter)
			pg_hook_core_enter(&core, th, f, 0,
					   t0 - th->paused_ticks);
		else
			pg_hook_core_leave(&core, th, f, t0 - th->paused_ticks);
	}
	callback_done(th, t0);
}

static PyObject *cb_call(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	c_event(a, n, 1);
	Py_RETURN_NONE;
}

static PyObject *cb_c_leave(PyObject *m, PyObject *const *a, Py_ssize_t n)
{
	(void)m;
	c_event(a, n, 0);
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
	if (register_one(EV_PY_START, 0) || register_one(EV_PY_RESUME, 1) ||
	    register_one(EV_PY_THROW, 1) || register_one(EV_PY_RETURN, 2) ||
	    register_one(EV_PY_YIELD, 2) || register_one(EV_PY_UNWIND, 2) ||
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
	if (set_events(EV_MASK))
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

static int profile_cb(PyObject *obj, PyFrameObject *frame, int what,
		      PyObject *arg)
{
	int64_t t0 = pg_hook_ticks(&timer);
	struct pg_hook_thread *th;
	(void)obj;
	if (!active || !(th = thread_get()))
		return 0;
	uint32_t f = PG_HOOK_NONE;
	int enter = 0, resume = 0;
	switch (what) {
	case PyTrace_CALL:
	case PyTrace_RETURN: {
		PyCodeObject *code = PyFrame_GetCode(frame);
		f = code_func((PyObject *)code, frame);
		Py_DECREF(code);
		enter = what == PyTrace_CALL;
		if (enter && f != PG_HOOK_NONE &&
		    (core.funcs[f].flags & PG_HOOK_GENERATOR))
			resume =
			    frame_lasti(frame) != core.funcs[f].start_lasti;
		break;
	}
	case PyTrace_C_CALL:
	case PyTrace_C_RETURN:
	case PyTrace_C_EXCEPTION: {
		PyMethodDef *ml = cfunc_def(arg);
		if (!ml)
			return 0;
		f = cfunc_func(arg, ml);
		enter = what == PyTrace_C_CALL;
		th->c_events++;
		break;
	}
	default:
		return 0;
	}
	th->events++;
	if (f != PG_HOOK_NONE) {
		if (enter)
			pg_hook_core_enter(&core, th, f, resume,
					   t0 - th->paused_ticks);
		else
			pg_hook_core_leave(&core, th, f, t0 - th->paused_ticks);
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

static int ensure_core(void)
{
	if (core_ready)
		return 0;
	if (pg_hook_core_init(&core)) {
		PyErr_NoMemory();
		return -1;
	}
	pg_hook_timer_init(&timer);
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
		pg_hook_core_close_thread(&core, th, now - th->paused_ticks);
	wall_total_ns += pg_hook_mono_ns() - wall_mark_ns;
}

static void reset_all(void)
{
	pg_hook_core_reset(&core);
	wall_total_ns = 0;
	wall_mark_ns = pg_hook_mono_ns();
}

/* ---- module functions ------------------------------------------------ */

struct cal_round {
	int64_t off, on_unpaused; /* ticks without events; with, minus hook */
	uint64_t py_events, c_events;
	double inner; /* raw inclusive ticks per call of the loop's callee */
};

/* One calibration measurement: fn(n) timed without and with events. */
static int calibrate_once(PyObject *fn, PyObject *n, struct cal_round *out)
{
	pg_hook_core_reset(&core);
	int64_t t = pg_hook_ticks(&timer);
	PyObject *res = PyObject_CallOneArg(fn, n);
	out->off = pg_hook_ticks(&timer) - t;
	if (!res)
		return -1;
	Py_DECREF(res);
	int64_t p0 = 0, p1 = 0;
	for (struct pg_hook_thread *th = core.threads; th; th = th->next)
		p0 += th->paused_ticks;
	if (enable(0))
		return -1;
	t = pg_hook_ticks(&timer);
	res = PyObject_CallOneArg(fn, n);
	int64_t on = pg_hook_ticks(&timer) - t;
	disable();
	if (!res)
		return -1;
	Py_DECREF(res);
	for (struct pg_hook_thread *th = core.threads; th; th = th->next)
		p1 += th->paused_ticks;
	out->on_unpaused = on - (p1 - p0);
	out->c_events = 0;
	out->py_events = 0;
	for (struct pg_hook_thread *th = core.threads; th; th = th->next) {
		out->c_events += th->c_events;
		out->py_events += th->events - th->c_events;
	}
	/* The loop's callee: its raw inclusive time per call is the part of
	 * the per-call cost inside a frame (plus its empty body). */
	const struct pg_hook_func *best = NULL;
	for (uint32_t i = 0; i < core.nfuncs; i++)
		if (!best || core.funcs[i].calls > best->calls)
			best = &core.funcs[i];
	out->inner = best && best->calls
			 ? (double)best->incl_ticks / (double)best->calls
			 : 0;
	return 0;
}

/*
 * Per-event cost of fn's events from ROUNDS measurements (after a warm-up):
 * minima of each quantity, which other processes can only inflate. Python
 * events are charged py_cost first; the rest is spread over C events when
 * there are any (else over Python events).
 */
static int calibrate_min(PyObject *fn, PyObject *n, double py_cost, double *out,
			 double *inner)
{
	enum { ROUNDS = 9 };
	struct cal_round r, best = {0};
	for (int i = -1; i < ROUNDS; i++) {
		if (calibrate_once(fn, n, &r))
			return -1;
		if (i < 0)
			continue;
		if (i == 0 || r.off < best.off)
			best.off = r.off;
		if (i == 0 || r.on_unpaused < best.on_unpaused)
			best.on_unpaused = r.on_unpaused;
		if (i == 0 || r.inner < best.inner)
			best.inner = r.inner;
		best.py_events = r.py_events;
		best.c_events = r.c_events;
	}
	double extra = (double)(best.on_unpaused - best.off);
	if (best.c_events)
		*out = (extra - (double)best.py_events * py_cost) /
		       (double)best.c_events;
	else
		*out = best.py_events ? extra / (double)best.py_events : 0;
	if (*out < 0)
		*out = 0;
	*inner = best.inner;
	if (*inner > 2 * *out) /* the inner part is part of two events */
		*inner = 2 * *out;
	return 0;
}

/*
 * calibrate(py_loop, c_loop, n): py_loop(n) makes n calls of a trivial
 * Python function, c_loop(n) n calls of a trivial builtin. Keeps both
 * per-event costs for compensation; returns (py_ns, c_ns).
 */
static PyObject *m_calibrate(PyObject *self, PyObject *args)
{
	PyObject *py_loop, *c_loop, *n;
	(void)self;
	if (!PyArg_ParseTuple(args, "OOO", &py_loop, &c_loop, &n) ||
	    ensure_core())
		return NULL;
	if (active || started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double py = 0, c = 0, py_in = 0, c_in = 0;
	core.event_cost_ticks = core.c_event_cost_ticks = 0;
	core.inner_cost_ticks = core.c_inner_cost_ticks = 0;
	if (calibrate_min(py_loop, n, 0, &py, &py_in) ||
	    calibrate_min(c_loop, n, py, &c, &c_in))
		return NULL;
	core.event_cost_ticks = py;
	core.c_event_cost_ticks = c;
	core.inner_cost_ticks = py_in;
	core.c_inner_cost_ticks = c_in;
	reset_all();
	pg_hook_timer_calibrate(&timer);
	double k = timer.ns_per_tick;
	return Py_BuildValue("(dddd)", py * k, c * k, py_in * k, c_in * k);
}

static PyObject *m_start(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (ensure_core())
		return NULL;
	if (started) {
		PyErr_SetString(PyExc_RuntimeError,
				"perfguard: already started");
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

static PyObject *m_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (ensure_core())
		return NULL;
	return Py_BuildValue(
	    "{s:s,s:s,s:d,s:d,s:d,s:d,s:d,s:K,s:K,s:K}", "mechanism",
	    mechanism_name, "timer", timer.use_tsc ? "tsc" : "clock_gettime",
	    "event_cost_ns", core.event_cost_ticks * timer.ns_per_tick,
	    "c_event_cost_ns", core.c_event_cost_ticks * timer.ns_per_tick,
	    "inner_cost_ns", core.inner_cost_ticks * timer.ns_per_tick,
	    "c_inner_cost_ns", core.c_inner_cost_ticks * timer.ns_per_tick,
	    "ns_per_tick", timer.ns_per_tick, "events",
	    (unsigned long long)pg_hook_core_events(&core), "unmatched",
	    (unsigned long long)core.unmatched, "errors",
	    (unsigned long long)core.errors);
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
		if (!f->calls && !f->resumes)
			continue;
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
	double event_ns = core.event_cost_ticks * timer.ns_per_tick;
	struct pg_hook_wire_info info = {
	    .mechanism = mechanism_name,
	    .timer = timer.use_tsc ? "tsc" : "clock_gettime",
	    .python = ver,
	    .ns_per_tick = timer.ns_per_tick,
	    .tiny_ns =
		event_ns > timer.resolution_ns ? event_ns : timer.resolution_ns,
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
	FILE *fp = fopen(tmp, "w");
	int rc = fp ? pg_hook_core_write(&core, &info, fp) : -1;
	if (fp && fclose(fp))
		rc = -1;
	if (rc == 0 && rename(tmp, dst))
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
    {"start", m_start, METH_NOARGS, "Start profiling."},
    {"stop", m_stop, METH_NOARGS, "Stop profiling."},
    {"run", m_run, METH_VARARGS,
     "run(code, globals): profile the evaluation of code."},
    {"info", m_info, METH_NOARGS, "Mechanism, timer and counters."},
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
	if (PyType_Ready(&measure_type) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&hook_module);
	if (!m)
		return NULL;
	Py_INCREF(&measure_type);
	if (PyModule_AddObject(m, "Measure", (PyObject *)&measure_type) < 0 ||
	    PyModule_AddStringConstant(m, "mechanism", mechanism_name) < 0) {
		Py_DECREF(&measure_type);
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
