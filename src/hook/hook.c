/*
 * hook.c - the perfguard._hook CPython extension module: start, stop and
 * run the profiled script, narrow it with measure() blocks, report info()
 * and write the wire file; the scope (set_scope, set_builtins) and the
 * Profiler type behind perfguard.Profile (enable/disable from Python,
 * one recording per process, taken over by the next Profile enabled). The mechanism that delivers events
 * (monitoring.c or setprofile.c), the slow paths of its callbacks
 * (track.c) and calibration (calibrate.c) are beside it; hook.h says how
 * they fit together.
 *
 * A callback reads the clock once (rdtsc costs ~20 ns on some VMs, so a
 * second read would cost more than it measures); its own typical cost is
 * part of the per-event cost calibrated at start-up and compensated by the
 * core. Rare expensive paths (a function seen for the first time, a new
 * thread) read the clock again and exclude their time.
 *
 * It deliberately does not compute ids (the boot module's describe does,
 * at write time) nor write anything from a forked child.
 */
#include "hook.h"
#include "sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- enabling ---------------------------------------------------------- */

/* A duration in us from the environment (def when unset or not > 0), in
 * ticks. */
static int64_t env_us_ticks(const char *name, double def)
{
	const char *v = getenv(name);
	double us = v ? atof(v) : def;
	if (!(us > 0))
		us = def;
	return (int64_t)(us * 1000.0 / pg_hook.timer.ns_per_tick);
}

/* PERFGUARD_CLOCK=cpu selects cpu mode; anything else is wall. The gap
 * that triggers a check: PERFGUARD_CPU_GAP_US (default 30 us); the
 * period of checks within short intervals: PERFGUARD_CPU_PERIOD_US
 * (default 250 us: a thread-CPU-clock read, a system call, per period).
 * The periodic checks keep the background rate of short intervals and a
 * recent checkpoint for the next long interval. In cpu mode that
 * interval's time is excluded by it; on the wall clock only its off-CPU
 * figure (off_ns) needs it, and the period is WALL_PERIOD_FACTOR times
 * longer: 8x fewer system calls, and a long interval's off-CPU time
 * then carries the background-rate error of up to 2 ms of short
 * intervals before it instead of 250 us. PERFGUARD_COMP_SCALE (0..1], when set, is the
 * compensation scale to use instead of deciding it from the run (the
 * runner decides it once per benchmark of a check, core.h). */
#define WALL_PERIOD_FACTOR 8
static void read_clock_mode(void)
{
	const char *scale = getenv("PERFGUARD_COMP_SCALE");
	double k = scale ? atof(scale) : 0;
	pg_hook.core.comp_fixed = k > 0 && k <= 1 ? k : 0;
	const char *c = getenv("PERFGUARD_CLOCK");
	pg_hook.cpu_mode = c && !strcmp(c, "cpu");
	pg_hook.cpu_gap_ticks = env_us_ticks("PERFGUARD_CPU_GAP_US", 30.0);
	pg_hook.cpu_period_ticks =
	    env_us_ticks("PERFGUARD_CPU_PERIOD_US", 250.0);
	if (!pg_hook.cpu_mode)
		pg_hook.cpu_period_ticks *= WALL_PERIOD_FACTOR;
}

int pg_hook_ensure_core(void)
{
	if (pg_hook.core_ready)
		return 0;
	if (pg_hook_core_init(&pg_hook.core)) {
		PyErr_NoMemory();
		return -1;
	}
	pg_hook_timer_init(&pg_hook.timer);
	read_clock_mode();
	/* Tests lower the tree's capacity to make the hook lose events. */
	const char *cap = getenv("PERFGUARD_MAX_NODES");
	if (cap && atol(cap) > 1 && atol(cap) < PG_HOOK_MAX_NODES)
		pg_hook.core.max_nodes = (uint32_t)atol(cap);
	if (pg_mech_init() || pg_hook_gc_init()) {
		pg_hook_core_release(&pg_hook.core);
		return -1;
	}
	pg_hook.core_ready = 1;
	pg_hook.owner_pid = getpid();
	return 0;
}

/* The core compensates with the costs of the mechanism in use. */
static void load_costs(int slot)
{
	const struct pg_hook_costs *c = &pg_hook.cal[slot];
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		pg_hook.core.enter_fp[k] = c->enter_fp[k];
		pg_hook.core.leave_fp[k] = c->leave_fp[k];
	}
	pg_hook.core.call_event_fp = c->call_event_fp;
}

int pg_hook_enable(int restart)
{
	pg_hook.core.epoch++;
	pg_hook.active = 1;
	if (pg_mech_on(restart)) {
		pg_hook.active = 0;
		return -1;
	}
	pg_hook.mech_used = pg_mech_slot();
	load_costs(pg_hook.mech_used);
	pg_hook.wall_mark_ns = pg_hook_mono_ns();
	return 0;
}

/* Stop delivering events and close every thread's open frames. */
void pg_hook_disable(void)
{
	if (!pg_hook.active)
		return;
	int64_t now = pg_hook_ticks(&pg_hook.timer);
	pg_hook.active = 0;
	if (pg_mech_off())
		PyErr_Clear();
	for (struct pg_hook_thread *th = pg_hook.core.threads; th;
	     th = th->next)
		pg_hook_core_close_thread(&pg_hook.core, th, now);
	pg_hook.wall_total_ns += pg_hook_mono_ns() - pg_hook.wall_mark_ns;
}

void pg_hook_reset_all(void)
{
	pg_hook_core_reset(&pg_hook.core);
	pg_hook.wall_total_ns = 0;
	pg_hook.wall_mark_ns = pg_hook_mono_ns();
}

static PyObject *m_start(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (pg_hook_ensure_core())
		return NULL;
	if (pg_hook.started || pg_hook.profiler_owner) {
		PyErr_SetString(PyExc_RuntimeError,
				pg_hook.started
				    ? "perfguard: already started"
				    : "perfguard: a Profile is recording");
		return NULL;
	}
	pg_hook_reset_all();
	pg_hook.narrowed = 0;
	pg_hook.measure_depth = 0;
	pg_hook.started = 1;
	if (pg_hook_enable(1)) {
		pg_hook.started = 0;
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *m_stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (pg_hook.started) {
		pg_hook_disable();
		pg_hook.started = 0;
		pg_hook_timer_calibrate(&pg_hook.timer);
	}
	Py_RETURN_NONE;
}

/* Calls of the reference target before and after the script: a few
 * hundred microseconds each. */
#define REFERENCE_CALLS 2000

static void set_ref_codes(PyObject *loop, PyObject *target)
{
	pg_hook.ref_code[0] = loop ? PyFunction_GetCode(loop) : NULL;
	pg_hook.ref_code[1] = target ? PyFunction_GetCode(target) : NULL;
}

/* run(code, globals[, loop, target]): start, evaluate the script's code,
 * stop. Only the script's own frames are seen: no Python-level call sits
 * in between. loop(n), a Python loop of n calls of target (an empty
 * Python function of one argument), is timed before and after the script
 * (pg_hook_reference); its time is not the recording's. */
static PyObject *m_run(PyObject *self, PyObject *args)
{
	PyObject *code, *globals, *loop = Py_None, *target = Py_None;
	if (!PyArg_ParseTuple(args, "O!O!|OO", &PyCode_Type, &code,
			      &PyDict_Type, &globals, &loop, &target))
		return NULL;
	int ref = loop != Py_None;
	if (ref && !(PyFunction_Check(loop) && PyFunction_Check(target))) {
		PyErr_SetString(
		    PyExc_TypeError,
		    "perfguard: the reference must be two functions");
		return NULL;
	}
	PyObject *r = m_start(self, NULL);
	if (!r)
		return NULL;
	Py_DECREF(r);
	pg_hook.core.comp_ref = 0;
	int64_t end_ns = 0;
	if (ref) {
		set_ref_codes(loop, target);
		if (pg_hook_reference(loop, target, REFERENCE_CALLS) < 0) {
			set_ref_codes(NULL, NULL);
			Py_XDECREF(m_stop(self, NULL));
			return NULL;
		}
		/* Nothing of the first loop stays: not its nodes (a small
		 * tree's room), its time nor its events. */
		pg_hook_reset_all();
	}
	r = PyEval_EvalCode(code, globals, globals);
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	if (ref) {
		end_ns = pg_hook_reference(loop, target, REFERENCE_CALLS);
		if (end_ns < 0) {
			PyErr_Clear(); /* the script's outcome comes first */
			end_ns = 0;
		}
		set_ref_codes(NULL, NULL);
	}
	Py_XDECREF(m_stop(self, NULL));
	pg_hook.wall_total_ns -= end_ns;
	if (pg_hook.wall_total_ns < 0)
		pg_hook.wall_total_ns = 0;
	PyErr_Restore(type, value, tb);
	return r;
}

static const char *timer_name(void)
{
	if (pg_hook.timer.use_tsc)
		return pg_hook.cpu_mode ? "tsc+cpu" : "tsc";
	return pg_hook.cpu_mode ? "clock_gettime+cpu" : "clock_gettime";
}

/* The TINY threshold: a mean self time per call within the calibration's
 * uncertainty (spread of the per-pair cost over rounds) of the mechanism
 * slot, at least the clock's resolution. */
static double tiny_ns(int slot)
{
	double t = pg_hook.cal[slot].spread_ns;
	return t > pg_hook.timer.resolution_ns ? t
					       : pg_hook.timer.resolution_ns;
}

PyObject *pg_hook_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (pg_hook_ensure_core())
		return NULL;
	double npt = pg_hook.timer.ns_per_tick;
	int slot = pg_mech_slot();
	const struct pg_hook_costs *c = &pg_hook.cal[slot];
	return Py_BuildValue(
	    "{s:s,s:z,s:s,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:K,s:K,s:K,"
	    "s:K,s:d,s:i}",
	    "mechanism", pg_mech_name(slot), "fallback", pg_mech_fallback(),
	    "timer", timer_name(), "py_pair_ns", c->pair_ns[0], "c_pair_ns",
	    c->pair_ns[1], "gen_pair_ns", c->pair_ns[2], "py_inner_ns",
	    c->inner_ns[0], "c_inner_ns", c->inner_ns[1], "gen_inner_ns",
	    c->inner_ns[2], "cheap_ns", c->cheap_ns, "spread_ns", c->spread_ns,
	    "tiny_ns", tiny_ns(slot), "ns_per_tick", npt, "events",
	    (unsigned long long)pg_hook_core_events(&pg_hook.core), "unmatched",
	    (unsigned long long)pg_hook.core.unmatched, "errors",
	    (unsigned long long)pg_hook.core.errors, "cpu_checks",
	    (unsigned long long)pg_hook.cpu_checks, "cpu_lost_ns",
	    (double)pg_hook.cpu_lost_ticks * npt, "trial", pg_hook.started);
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

/* What describe is given: a list of (obj, cls, builtin), one per function.
 * A function out of scope that has no node (never timed: it is not
 * written) is given as a pseudo-function, so that describe neither names
 * nor fingerprints the hundreds of library functions a scoped run sees,
 * nor compiles their files to rank same-named ones. */
static PyObject *func_list(void)
{
	uint32_t n = pg_hook.core.nfuncs;
	unsigned char *timed = calloc(n ? n : 1, 1);
	if (!timed)
		return PyErr_NoMemory();
	for (uint32_t i = 1; i < pg_hook.core.nnodes; i++)
		if (pg_hook.core.nodes[i].func < n)
			timed[pg_hook.core.nodes[i].func] = 1;
	PyObject *list = PyList_New(n);
	for (uint32_t i = 0; list && i < n; i++) {
		struct pg_hook_func *f = &pg_hook.core.funcs[i];
		PyObject *t =
		    (f->flags & PG_HOOK_OUTSIDE) && !timed[i]
			? Py_BuildValue("(sOi)", "<outside>", Py_None, 1)
			: Py_BuildValue("(OOi)", (PyObject *)f->obj,
					f->obj2 ? (PyObject *)f->obj2 : Py_None,
					(f->flags & PG_HOOK_BUILTIN) != 0);
		if (!t) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, t);
	}
	free(timed);
	return list;
}

/* What describe said of each of the n functions, the wire's columns. */
struct descriptions {
	uint32_t n;
	char **ids, **files, **codes;
	int *lines;
	uint64_t *raised, *handled;
};

/* Fill out's columns (ids, files, lines, code fingerprints, exceptions)
 * from describe's answer; a
 * function it could not describe keeps NULL (the core writes "?"). */
static void describe_all(PyObject *describe, struct descriptions *out)
{
	uint32_t n = out->n;
	PyObject *list = func_list();
	PyObject *d = list ? PyObject_CallOneArg(describe, list) : NULL;
	Py_XDECREF(list);
	if (d && (!PyList_Check(d) || PyList_GET_SIZE(d) != (Py_ssize_t)n)) {
		PyErr_SetString(PyExc_TypeError, "describe: wrong answer");
		Py_CLEAR(d);
	}
	for (uint32_t i = 0; d && i < n; i++) {
		PyObject *t = PyList_GET_ITEM(d, i);
		Py_ssize_t size = PyTuple_Check(t) ? PyTuple_GET_SIZE(t) : 0;
		if (size >= 3 && size <= 6) {
			out->ids[i] = dup_str(PyTuple_GET_ITEM(t, 0));
			out->files[i] = dup_str(PyTuple_GET_ITEM(t, 1));
			out->lines[i] =
			    (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 2));
		}
		if (size >= 4)
			out->codes[i] = dup_str(PyTuple_GET_ITEM(t, 3));
		if (size == 6) {
			out->raised[i] =
			    PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 4));
			out->handled[i] =
			    PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 5));
		}
	}
	if (!d || PyErr_Occurred()) {
		PyErr_WriteUnraisable(describe);
		PyErr_Clear();
	}
	Py_XDECREF(d);
}

/* -1 with MemoryError set when out of memory (then release it). */
static int descriptions_alloc(struct descriptions *d, uint32_t n)
{
	d->n = n;
	d->ids = calloc(n + 1, sizeof(*d->ids));
	d->files = calloc(n + 1, sizeof(*d->files));
	d->lines = calloc(n + 1, sizeof(*d->lines));
	d->codes = calloc(n + 1, sizeof(*d->codes));
	d->raised = calloc(n + 1, sizeof(*d->raised));
	d->handled = calloc(n + 1, sizeof(*d->handled));
	if (d->ids && d->files && d->lines && d->codes && d->raised &&
	    d->handled)
		return 0;
	PyErr_NoMemory();
	return -1;
}

static void descriptions_release(struct descriptions *d)
{
	for (uint32_t i = 0; d->ids && d->files && d->codes && i < d->n; i++) {
		free(d->ids[i]);
		free(d->files[i]);
		free(d->codes[i]);
	}
	free(d->ids);
	free(d->files);
	free(d->lines);
	free(d->codes);
	free(d->raised);
	free(d->handled);
}

/* The interpreter's version up to its first space ("3.12.1"). */
static void python_version(char *ver, size_t size)
{
	const char *pyver = Py_GetVersion();
	size_t k = 0;
	while (pyver[k] && pyver[k] != ' ' && k + 1 < size) {
		ver[k] = pyver[k];
		k++;
	}
	ver[k] = '\0';
}

/*
 * The wire written to dst: a regular file is replaced atomically (through
 * dst.tmpPID); anything else that exists (a pipe, /dev/null) is written in
 * place, never renamed over. -1 with OSError set on failure.
 */
static int write_wire(const char *dst, const struct pg_hook_wire_info *info)
{
	size_t len = strlen(dst);
	char *tmp = malloc(len + 16);
	if (!tmp) {
		PyErr_NoMemory();
		return -1;
	}
	snprintf(tmp, len + 16, "%s.tmp%ld", dst, (long)getpid());
	struct stat st;
	int in_place = stat(dst, &st) == 0 && !S_ISREG(st.st_mode);
	FILE *fp = fopen(in_place ? dst : tmp, "w");
	int rc = fp ? pg_hook_core_write(&pg_hook.core, info, fp) : -1;
	if (fp && fclose(fp))
		rc = -1;
	if (rc == 0 && !in_place && rename(tmp, dst))
		rc = -1;
	if (rc) {
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, dst);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* write(path, describe): describe([(obj, cls, builtin), ...]) -> [(id,
 * file, line[, code fingerprint[, raised, handled]]), ...], one per
 * function the hook saw. */
static PyObject *m_write(PyObject *self, PyObject *args)
{
	PyObject *path, *describe;
	(void)self;
	if (!PyArg_ParseTuple(args, "O&O", PyUnicode_FSConverter, &path,
			      &describe))
		return NULL;
	if (pg_hook_ensure_core()) {
		Py_DECREF(path);
		return NULL;
	}
	if (getpid() != pg_hook.owner_pid) { /* a forked child writes nothing */
		Py_DECREF(path);
		Py_RETURN_NONE;
	}
	struct descriptions d = {0};
	PyObject *ret = NULL;
	if (!descriptions_alloc(&d, pg_hook.core.nfuncs)) {
		describe_all(describe, &d);
		char ver[32];
		python_version(ver, sizeof(ver));
		struct pg_hook_wire_info info = {
		    .mechanism = pg_mech_name(pg_hook.mech_used),
		    .fallback = pg_mech_fallback(),
		    .timer = timer_name(),
		    .python = ver,
		    .ns_per_tick = pg_hook.timer.ns_per_tick,
		    .event_cost_ns = pg_hook.cal[pg_hook.mech_used]
					 .pair_ns[PG_HOOK_KIND_PY] /
				     2,
		    .tiny_ns = tiny_ns(pg_hook.mech_used),
		    .wall_ns = pg_hook.wall_total_ns,
		    .ids = (const char *const *)d.ids,
		    .files = (const char *const *)d.files,
		    .lines = d.lines,
		    .codes = (const char *const *)d.codes,
		    .raised = d.raised,
		    .handled = d.handled,
		};
		if (!write_wire(PyBytes_AS_STRING(path), &info)) {
			ret = Py_None;
			Py_INCREF(ret);
		}
	}
	descriptions_release(&d);
	Py_DECREF(path);
	return ret;
}

/* ---- scope ------------------------------------------------------------- */

/* Whether recordings with the current settings time no C function. */
static void update_c_untimed(void)
{
	pg_hook.c_untimed =
	    !pg_hook.builtins_on || (pg_hook.scope_pred && pg_hook.scope_c_out);
}

/* Use pred (NULL: everything in scope) and classify every known function
 * again. Events must be off. */
static void apply_scope(PyObject *pred)
{
	Py_XINCREF(pred);
	Py_XSETREF(pg_hook.scope_pred, pred);
	pg_hook.scope_c_out = 0;
	if (pred) {
		PyObject *v = PyObject_GetAttrString(pred, "builtins_out");
		pg_hook.scope_c_out = v && PyObject_IsTrue(v) == 1;
		Py_XDECREF(v);
		PyErr_Clear();
	}
	for (uint32_t i = 0; i < pg_hook.core.nfuncs; i++) {
		struct pg_hook_func *f = &pg_hook.core.funcs[i];
		f->flags &= ~(uint32_t)PG_HOOK_OUTSIDE;
		if (pred &&
		    !pg_hook_in_scope((PyObject *)f->obj, (PyObject *)f->obj2,
				      (f->flags & PG_HOOK_BUILTIN) != 0))
			f->flags |= PG_HOOK_OUTSIDE;
	}
	update_c_untimed();
}

static int refuse_while_active(const char *what)
{
	if (!pg_hook.active)
		return 0;
	PyErr_Format(PyExc_RuntimeError, "perfguard: %s while recording", what);
	return -1;
}

/* set_scope(pred): pred(obj, cls, builtin) -> bool decides once per
 * function whether it is timed; None times everything. */
static PyObject *m_set_scope(PyObject *self, PyObject *pred)
{
	(void)self;
	if (pg_hook_ensure_core() || refuse_while_active("set_scope"))
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
	if (on < 0 || pg_hook_ensure_core() ||
	    refuse_while_active("set_builtins"))
		return NULL;
	pg_hook.builtins_on = on;
	update_c_untimed();
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
	/* Not the type: Profiler is static, and the heap subtype's own
	 * traverse (subtype_traverse) visits it. */
	Py_VISIT(((struct profiler *)self)->scope);
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
	/* No Py_DECREF of the type: Profiler is static, and a heap subtype's
	 * subtype_dealloc drops its reference after this returns. */
	Py_TYPE(self)->tp_free(self);
}

/* _configure(pg_hook.scope_pred_or_None, builtins): settings used when this
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
	if (pg_hook_ensure_core())
		return NULL;
	if (pg_hook.started) {
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
	if (pg_hook.profiler_owner == self) {
		if (!pg_hook.active && pg_hook_enable(0))
			return NULL;
		Py_RETURN_NONE;
	}
	if (pg_hook.profiler_owner) {
		if (pg_hook.active) {
			PyErr_SetString(
			    PyExc_RuntimeError,
			    "perfguard: another Profile is enabled");
			return NULL;
		}
		PyObject *r = PyObject_CallMethod(pg_hook.profiler_owner,
						  "_taken_over", NULL);
		if (!r)
			return NULL;
		Py_DECREF(r);
		((struct profiler *)pg_hook.profiler_owner)->state = PROF_TAKEN;
		Py_CLEAR(pg_hook.profiler_owner);
	}
	pg_hook.builtins_on = p->builtins;
	apply_scope(p->scope);
	pg_hook_reset_all();
	pg_hook.profiler_owner = new_ref(self);
	p->state = PROF_OWNER;
	if (pg_hook_enable(1))
		return NULL;
	Py_RETURN_NONE;
}

/* disable(): stop recording (enable() resumes it). */
static PyObject *profiler_disable(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (pg_hook.profiler_owner == self && pg_hook.active)
		pg_hook_disable();
	Py_RETURN_NONE;
}

static PyObject *profiler_exit(PyObject *self, PyObject *const *args,
			       Py_ssize_t nargs)
{
	(void)args;
	(void)nargs;
	if (pg_hook.profiler_owner == self && pg_hook.active)
		pg_hook_disable();
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
	return PyBool_FromLong(pg_hook.profiler_owner == self);
}

PyMethodDef pg_profiler_methods[PG_N_PROFILER_METHODS + 1] = {
    {"enable", profiler_enable, METH_NOARGS,
     "Start or resume recording (every thread)."},
    {"disable", profiler_disable, METH_NOARGS, "Stop recording."},
    {"__enter__", profiler_enter, METH_NOARGS, "enable() and return self."},
    {"__exit__", (PyCFunction)(void (*)(void))profiler_exit, METH_FASTCALL,
     "disable()."},
    {"_configure", profiler_configure, METH_VARARGS,
     "_configure(pg_hook.scope_pred, builtins)."},
    {"_owns", profiler_owns, METH_NOARGS, "Whether it holds the recording."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject profiler_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "perfguard._hook.Profiler",
    .tp_basicsize = sizeof(struct profiler),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The hook's recording, controlled from Python "
	      "(perfguard.Profile).",
    .tp_methods = pg_profiler_methods,
    .tp_new = profiler_new,
    .tp_traverse = profiler_traverse,
    .tp_clear = profiler_clear,
    .tp_dealloc = profiler_dealloc,
};

/* ---- measure() ----------------------------------------------------------- */

static PyObject *measure_enter(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (pg_hook.started && pg_hook.measure_depth++ == 0) {
		if (!pg_hook.narrowed) {
			/* First block: forget everything recorded so far. */
			pg_hook.narrowed = 1;
			if (!pg_hook.active && pg_hook_enable(0))
				return NULL;
			pg_hook_reset_all();
		} else if (pg_hook_enable(0)) {
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
	if (pg_hook.started && pg_hook.measure_depth > 0 &&
	    --pg_hook.measure_depth == 0)
		pg_hook_disable();
	Py_RETURN_FALSE;
}

PyMethodDef pg_measure_methods[PG_N_MEASURE_METHODS + 1] = {
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
    .tp_methods = pg_measure_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- module ---------------------------------------------------------- */

PyMethodDef pg_hook_methods[PG_N_HOOK_METHODS + 1] = {
    {"calibrate", pg_hook_calibrate, METH_VARARGS,
     "calibrate(py_loop, c_loop, n): measure per-event costs (ns)."},
    {"set_costs", pg_hook_set_costs, METH_VARARGS,
     "set_costs((py, c, gen), (py, c, gen), cheap): per-pair costs (ns)."},
    {"start", m_start, METH_NOARGS, "Start profiling."},
    {"stop", m_stop, METH_NOARGS, "Stop profiling."},
    {"run", m_run, METH_VARARGS,
     "run(code, globals[, loop, target]): profile the evaluation of code."},
    {"info", pg_hook_info, METH_NOARGS, "Mechanism, timer and counters."},
    {"write", m_write, METH_VARARGS,
     "write(path, describe): write the wire format v1."},
    {"probe", pg_hook_probe, METH_VARARGS,
     "probe(py_loop, n): quick Python pair cost (ns), untimed events in."},
    {"set_scope", m_set_scope, METH_O,
     "set_scope(pred): pred(obj, cls, builtin) -> in scope; None: all."},
    {"set_builtins", m_set_builtins, METH_O,
     "set_builtins(flag): time C functions separately."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hook_module = {
    PyModuleDef_HEAD_INIT,
    "perfguard._hook",
    "perfguard's C profiling hook.",
    -1,
    pg_hook_methods,
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
	    PyModule_AddStringConstant(m, "mechanism", pg_mech_name(0)) < 0 ||
	    pg_sampler_add_to_module(m) < 0) {
		Py_DECREF(&measure_type);
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
