/*
 * calibrate.c - the per-event costs the core compensates: measured by
 * running small loops with events off and on (calibrate), or taken as
 * measured elsewhere (set_costs: the runner calibrates once per check so
 * that every trial, base and head, shares the same costs).
 *
 * Invariant: costs are never negative and a pair's inner part never exceeds
 * the pair. It deliberately does not calibrate while the script runs; the
 * reference loops before and after the script (pg_hook_reference) only
 * check the costs against the speed the machine runs at then.
 */
#include "hook.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per-pair costs, in ticks, measured with all compensation off: for each
 * kind, P = the whole cost a pair adds (to the enclosing frames) and I =
 * the part inside the callee's own bracket (after the entry's clock read,
 * before the exit's); plus the cost of one untimed event. The tails of
 * the calibration functions are empty, so their raw inclusive time per
 * call is I (plus one or two bytecodes).
 */
struct cal_run {
	int64_t off, on; /* loop ticks: events off; on, minus slow paths */
	uint64_t cheap;	 /* untimed events during the "on" run */
	uint64_t pairs;	 /* calls + resumes of the loop's target */
	double inner;	 /* raw inclusive ticks per call of the target */
};

/* The thread's CPU time in ticks: loop times exclude the time another
 * process held the CPU. */
static int64_t cpu_ticks(void)
{
	return (int64_t)((double)pg_hook_thread_cpu_ns() /
			 pg_hook.timer.ns_per_tick);
}

/* One measurement: fn(n) timed without and with events. The target is
 * the node below the loop with the most calls + resumes. */
static int calibrate_once(PyObject *fn, PyObject *n, struct cal_run *out)
{
	pg_hook_core_reset(&pg_hook.core);
	int64_t t = cpu_ticks();
	PyObject *res = PyObject_CallOneArg(fn, n);
	out->off = cpu_ticks() - t;
	if (!res)
		return -1;
	Py_DECREF(res);
	uint64_t cheap0 = pg_hook.cheap_events;
	if (pg_hook_enable(0))
		return -1;
	/* Make this thread's record now so that its slow path is outside. */
	struct pg_hook_thread *th = thread_get();
	pg_hook.slow_path = 0;
	int64_t ovh0 = th ? th->ovh_fp : 0;
	t = cpu_ticks();
	res = PyObject_CallOneArg(fn, n);
	int64_t on = cpu_ticks() - t;
	pg_hook_disable();
	if (!res)
		return -1;
	Py_DECREF(res);
	th = pg_hook_current_thread();
	int64_t slow = th ? (th->ovh_fp - ovh0) >> PG_HOOK_FP : 0;
	out->on = on - slow;
	out->cheap = pg_hook.cheap_events - cheap0;
	const struct pg_hook_node *best = NULL;
	for (uint32_t i = 1; i < pg_hook.core.nnodes; i++) {
		const struct pg_hook_node *nd = &pg_hook.core.nodes[i];
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

/* What calibration and the probe change while they run: no cpu mode, every
 * function timed, and no off-CPU checks (a check is a system call, where
 * the thread is often descheduled under load: its excluded wall time then
 * exceeded the CPU time it took, and a round's cost could read 0). */
struct cal_saved {
	int cpu_mode, builtins_on;
	PyObject *scope_pred;
	int64_t gap, period;
};

static void cal_enter(struct cal_saved *s)
{
	s->cpu_mode = pg_hook.cpu_mode;
	s->builtins_on = pg_hook.builtins_on;
	s->scope_pred = pg_hook.scope_pred;
	s->gap = pg_hook.cpu_gap_ticks;
	s->period = pg_hook.cpu_period_ticks;
	pg_hook.cpu_mode = 0;
	pg_hook.builtins_on = 1;
	pg_hook.scope_pred = NULL; /* the loops' functions must be timed */
	pg_hook.cpu_gap_ticks = pg_hook.cpu_period_ticks = INT64_MAX;
}

static void cal_leave(const struct cal_saved *s)
{
	pg_hook.cpu_mode = s->cpu_mode;
	pg_hook.builtins_on = s->builtins_on;
	pg_hook.scope_pred = s->scope_pred;
	pg_hook.cpu_gap_ticks = s->gap;
	pg_hook.cpu_period_ticks = s->period;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n-1], sorting v. */
static double quantile(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	double x = q * (n - 1);
	int i = (int)x;
	return i + 1 < n ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[n - 1];
}

/*
 * Rounds, each running every loop once (n / CAL_SPLIT calls each, a
 * fraction of a millisecond), timed in thread CPU time; per loop its
 * fast rounds are kept (pair_cost). On a loaded machine another process takes the
 * CPU for milliseconds at a time and leaves the caches cold behind it, and
 * whole spells of a second run at half speed (a busy sibling thread or
 * host): rounds are mostly inflated, seldom deflated. The rounds interleave the
 * loops so that every kind's fast rounds come from the same quiet
 * moments: measured loop after loop, one kind could be measured in a slow
 * spell and another outside it, and compensation then favoured one kind
 * of call over another (a generator expression read 49% where it took
 * 40%, against a map() of a Python function).
 */
#define CAL_ROUNDS 56
#define CAL_SPLIT  8
#define CAL_LOOPS  (PG_HOOK_NKINDS + 1) /* the kinds, then the call loop */

/* Per loop: the fastest "off" run and the per-round added ticks per pair
 * (untimed events included). */
struct cal_series {
	int64_t off;
	double extra[CAL_ROUNDS]; /* (on - off) / pairs */
	double cheap[CAL_ROUNDS]; /* untimed events per pair */
	double inner[CAL_ROUNDS];
};

static int run_rounds(PyObject *const *fns, PyObject *arg, struct cal_series *s)
{
	static struct cal_run r[CAL_LOOPS][CAL_ROUNDS];
	for (int j = 0; j < CAL_LOOPS; j++)
		s[j].off = INT64_MAX;
	for (int i = -1; i < CAL_ROUNDS; i++) {
		for (int j = 0; j < CAL_LOOPS; j++) {
			struct cal_run x;
			if (!fns[j])
				continue;
			if (calibrate_once(fns[j], arg, &x))
				return -1;
			if (i < 0)
				continue; /* warm-up: instrumentation, caches */
			r[j][i] = x;
			if (x.off < s[j].off)
				s[j].off = x.off;
		}
	}
	for (int j = 0; j < CAL_LOOPS; j++) {
		for (int i = 0; fns[j] && i < CAL_ROUNDS; i++) {
			double pairs =
			    r[j][i].pairs ? (double)r[j][i].pairs : 1;
			s[j].extra[i] = (double)(r[j][i].on - s[j].off) / pairs;
			s[j].cheap[i] = (double)r[j][i].cheap / pairs;
			s[j].inner[i] = r[j][i].inner;
		}
	}
	return 0;
}

/*
 * The added cost per pair of s in its fast rounds (the CAL_Q quantile), its
 * untimed events charged at cheap each. Not the fastest round itself: under
 * load a round now and then reads near zero (a hook-on run as fast as the
 * fastest hook-off one), and the minimum then switched compensation off.
 */
#define CAL_Q 0.1
static double pair_cost(const struct cal_series *s, double cheap)
{
	double p[CAL_ROUNDS];
	for (int i = 0; i < CAL_ROUNDS; i++)
		p[i] = s->extra[i] - s->cheap[i] * cheap;
	double q = quantile(p, CAL_ROUNDS, CAL_Q);
	return q > 0 ? q : 0;
}

/* Keep costs in ticks for a mechanism slot: the core takes them when a
 * recording with that mechanism starts (pg_hook_enable). */
static void set_costs_slot(int slot, const double *pair, const double *inner,
			   double cheap)
{
	struct pg_hook_costs *c = &pg_hook.cal[slot];
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		c->enter_fp[k] = llround(inner[k] * (1 << PG_HOOK_FP));
		c->leave_fp[k] =
		    llround((pair[k] - inner[k]) * (1 << PG_HOOK_FP));
	}
	c->call_event_fp = llround(cheap * (1 << PG_HOOK_FP));
}

/* ... for the mechanism recordings with the current settings use. */
static void set_costs(const double *pair, const double *inner, double cheap)
{
	set_costs_slot(pg_mech_slot(), pair, inner, cheap);
}

/*
 * The cost of one untimed event from call_loop's series s[PG_HOOK_NKINDS]
 * (fastest rounds): with out (evalframe) an out-of-scope call, whose
 * target makes no node (the series' one pair is the loop's own call: its
 * added ticks are for per calls); else a call from Python minus a call
 * from C.
 */
static double cheap_cost(const struct cal_series *s, int out, long per)
{
	double c = out ? pair_cost(&s[PG_HOOK_NKINDS], 0) / (double)per
		       : pair_cost(&s[PG_HOOK_NKINDS], 0) -
			     pair_cost(&s[PG_HOOK_KIND_PY], 0);
	return c > 0 ? c : 0;
}

/*
 * calibrate(py_loop, c_loop, gen_loop, call_loop, n[, out_pred]): py_loop(n) makes n
 * calls of an empty Python function, c_loop(n) n calls of a trivial
 * builtin (None when the mechanism sees no C call: evalframe; its costs are
 * then 0), gen_loop(n) n resumptions of a generator; call_loop(n) (None on
 * 3.9-3.11) makes n calls of an empty Python function from Python code,
 * where py_loop makes them from C: its extra cost per call is the untimed
 * CALL event of a Python callee (the event itself and the call site it
 * keeps from being specialised), charged per untimed event. With out_pred
 * (evalframe: a scope predicate that puts only call_loop's target out of
 * scope) call_loop(n) makes n calls of that target instead, and the cost
 * of one out-of-scope call is "cheap" (charged per such call). Measures the
 * mechanism the current settings choose (pg_mech_slot) and keeps the
 * costs for its recordings; returns a dict of them in ns (info()).
 */
PyObject *pg_hook_calibrate(PyObject *self, PyObject *args)
{
	PyObject *fns[CAL_LOOPS];
	long n;
	(void)self;
	PyObject *out_pred = NULL;
	if (!PyArg_ParseTuple(args, "OOOOl|O", &fns[PG_HOOK_KIND_PY],
			      &fns[PG_HOOK_KIND_C], &fns[PG_HOOK_KIND_GEN],
			      &fns[PG_HOOK_NKINDS], &n, &out_pred) ||
	    pg_hook_ensure_core())
		return NULL;
	if (out_pred == Py_None)
		out_pred = NULL;
	if (fns[PG_HOOK_NKINDS] == Py_None)
		fns[PG_HOOK_NKINDS] = NULL;
	if (fns[PG_HOOK_KIND_C] == Py_None)
		fns[PG_HOOK_KIND_C] = NULL;
	if (pg_hook.active || pg_hook.started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double pair[PG_HOOK_NKINDS] = {0}, inner[PG_HOOK_NKINDS] = {0};
	double cheap = 0, spread = 0;
	struct cal_saved saved;
	cal_enter(&saved);
	pg_hook.scope_pred = out_pred; /* only call_loop's target is out */
	set_costs(pair, inner, 0);
	static struct cal_series s[CAL_LOOPS];
	long per = n / CAL_SPLIT > 100 ? n / CAL_SPLIT : 100;
	PyObject *arg = PyLong_FromLong(per);
	int rc = arg ? run_rounds(fns, arg, s) : -1;
	Py_XDECREF(arg);
	cal_leave(&saved);
	if (rc)
		return NULL;
	if (fns[PG_HOOK_NKINDS])
		cheap = cheap_cost(s, out_pred != NULL, per);
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		if (!fns[k])
			continue; /* not measured: 0 */
		pair[k] = pair_cost(&s[k], cheap);
		inner[k] = quantile(s[k].inner, CAL_ROUNDS, CAL_Q);
		if (inner[k] > pair[k])
			inner[k] = pair[k];
		if (inner[k] < 0)
			inner[k] = 0;
	}
	spread = quantile(s[PG_HOOK_KIND_PY].extra, CAL_ROUNDS, 0.5) -
		 pair[PG_HOOK_KIND_PY];
	/* A pair of almost no cost (the frame-evaluation function on 3.9:
	 * ~10 ns) has rounds below zero under load, and a clamped pair over a
	 * negative median gave a negative spread, which PERFGUARD_COSTS
	 * refuses (exit 2 of every trial). */
	if (spread < 0)
		spread = 0;
	pg_hook_timer_calibrate(&pg_hook.timer);
	double npt = pg_hook.timer.ns_per_tick;
	struct pg_hook_costs *c = &pg_hook.cal[pg_mech_slot()];
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		c->pair_ns[k] = pair[k] * npt;
		c->inner_ns[k] = inner[k] * npt;
	}
	c->cheap_ns = cheap * npt;
	c->spread_ns = spread * npt;
	set_costs(pair, inner, cheap);
	pg_hook_reset_all();
	return pg_hook_info(self, NULL);
}

/*
 * probe(py_loop, n): a quick estimate of what one Python call pair adds,
 * in ns, untimed events included (on 3.12+ the CALL of a Python callee):
 * the fastest of three runs with events on against the fastest without.
 * Cheap enough for every start (a few ms) to tell whether cached costs
 * still fit; resets the compensation costs to zero (set them after).
 */
PyObject *pg_hook_probe(PyObject *self, PyObject *args)
{
	PyObject *fn, *n;
	(void)self;
	if (!PyArg_ParseTuple(args, "OO", &fn, &n) || pg_hook_ensure_core())
		return NULL;
	if (pg_hook.active || pg_hook.started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double zero[PG_HOOK_NKINDS] = {0};
	struct cal_saved saved;
	cal_enter(&saved);
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
	cal_leave(&saved);
	pg_hook_reset_all();
	if (rc)
		return NULL;
	double pair = pairs ? (double)(on - off) / (double)pairs : 0;
	return PyFloat_FromDouble(pair * pg_hook.timer.ns_per_tick);
}

/* set_costs(pair_ns, inner_ns, cheap_ns[, spread_ns[, mechanism]]): use
 * costs measured elsewhere instead of calibrating (the runner calibrates
 * once per check so that every trial, base and head, shares them);
 * sequences of 3 (py, c, gen). They are the costs of the named mechanism
 * (info()'s "mechanism"), by default of the one the current settings
 * choose; a name this interpreter has no such mechanism for is refused. */
PyObject *pg_hook_set_costs(PyObject *self, PyObject *args)
{
	double pair[3], inner[3], cheap, spread = 0;
	const char *mech = NULL;
	(void)self;
	if (!PyArg_ParseTuple(args, "(ddd)(ddd)d|dz", &pair[0], &pair[1],
			      &pair[2], &inner[0], &inner[1], &inner[2], &cheap,
			      &spread, &mech) ||
	    pg_hook_ensure_core())
		return NULL;
	int slot = pg_mech_slot();
	if (mech) {
		for (slot = 0; slot < PG_MECH_SLOTS; slot++)
			if (!strcmp(mech, pg_mech_name(slot)))
				break;
		if (slot == PG_MECH_SLOTS) {
			PyErr_Format(PyExc_ValueError,
				     "perfguard: no mechanism %s here", mech);
			return NULL;
		}
	}
	struct pg_hook_costs *c = &pg_hook.cal[slot];
	c->spread_ns = spread;
	double npt = pg_hook.timer.ns_per_tick;
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		c->pair_ns[k] = pair[k];
		c->inner_ns[k] = inner[k];
		pair[k] /= npt;
		inner[k] /= npt;
	}
	c->cheap_ns = cheap;
	set_costs_slot(slot, pair, inner, cheap / npt);
	Py_RETURN_NONE;
}

static uint32_t func_of(struct pg_hook_core *core, PyObject *fn)
{
	return pg_hook_core_find(core, PyFunction_GetCode(fn));
}

int64_t pg_hook_reference(PyObject *loop, PyObject *target, long n)
{
	struct pg_hook_core *core = &pg_hook.core;
	int64_t t0 = pg_hook_mono_ns();
	int was_active = pg_hook.active;
	if (!was_active && pg_hook_enable(0))
		return -1;
	/* Calls the tree has no room for are not the recording's losses. */
	uint64_t events = pg_hook_core_events(core);
	uint64_t dropped = core->dropped_nodes, errors = core->errors;
	PyObject *arg = PyLong_FromLong(n);
	PyObject *r = arg ? PyObject_CallOneArg(loop, arg) : NULL;
	Py_XDECREF(arg);
	Py_XDECREF(r);
	if (!was_active)
		pg_hook_disable();
	core->ref_events += pg_hook_core_events(core) - events;
	core->dropped_nodes = dropped;
	core->errors = errors;
	if (!r)
		return -1;
	pg_hook_core_take_reference(core, func_of(core, loop),
				    func_of(core, target));
	return pg_hook_mono_ns() - t0;
}
