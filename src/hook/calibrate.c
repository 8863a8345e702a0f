/*
 * calibrate.c - the per-event costs the core compensates: measured by
 * running small loops with events off and on (calibrate), or taken as
 * measured elsewhere (set_costs: the runner calibrates once per check so
 * that every trial, base and head, shares the same costs).
 *
 * Invariant: costs are never negative and a pair's inner part never exceeds
 * the pair. It deliberately does not calibrate while the script runs.
 */
#include "hook.h"

#include <math.h>
#include <stdlib.h>

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
 * Rounds per loop, and the quantile of the per-round estimates kept. Many
 * short rounds (n / CAL_SPLIT calls each, a fraction of a millisecond),
 * timed in thread CPU time, rather than a few long wall-clock ones: on a
 * loaded machine another process takes the CPU for milliseconds at a time
 * and leaves the caches cold behind it, so rounds are inflated, never
 * deflated. The minimum keeps the undisturbed ones where a median of long
 * rounds did not (~180 ns per event instead of ~17 with three busy
 * processes, and real work compensated to zero).
 */
#define CAL_ROUNDS 31
#define CAL_SPLIT  8
#define CAL_Q	   0.0
#define CAL_PASSES 2

/*
 * Calibrate one loop: per round, the added cost per pair (the cheap events
 * charged at cheap_cost each) and the inner part. The "off" time is the
 * minimum over rounds (other processes can only inflate it), the "on"
 * estimates the CAL_Q quantile over rounds. *spread receives the
 * distance from that to the median of the per-round pair cost.
 */
static int calibrate_loop(PyObject *fn, long n, double cheap_cost,
			  int cheap_only, double *pair, double *inner,
			  double *spread)
{
	struct cal_run r[CAL_ROUNDS];
	double p[CAL_ROUNDS], in[CAL_ROUNDS];
	int64_t off = INT64_MAX;
	long per = n / CAL_SPLIT > 100 ? n / CAL_SPLIT : 100;
	PyObject *arg = PyLong_FromLong(per);
	if (!arg)
		return -1;
	for (int i = -1; i < CAL_ROUNDS; i++) {
		struct cal_run x;
		if (calibrate_once(fn, arg, &x)) {
			Py_DECREF(arg);
			return -1;
		}
		if (i < 0)
			continue; /* warm-up: instrumentation, caches */
		r[i] = x;
		if (x.off < off)
			off = x.off;
	}
	Py_DECREF(arg);
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
	*pair = quantile(p, CAL_ROUNDS, CAL_Q);
	*spread = quantile(p, CAL_ROUNDS, 0.5) - *pair;
	*inner = quantile(in, CAL_ROUNDS, CAL_Q);
	if (*pair < 0)
		*pair = 0;
	if (*inner > *pair)
		*inner = *pair;
	if (*inner < 0)
		*inner = 0;
	return 0;
}

static void set_costs(const double *pair, const double *inner, double cheap)
{
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		pg_hook.core.enter_fp[k] =
		    llround(inner[k] * (1 << PG_HOOK_FP));
		pg_hook.core.leave_fp[k] =
		    llround((pair[k] - inner[k]) * (1 << PG_HOOK_FP));
	}
	pg_hook.core.call_event_fp = llround(cheap * (1 << PG_HOOK_FP));
}

/*
 * calibrate(py_loop, c_loop, gen_loop, cheap_loop, n): py_loop(n) makes n
 * calls of an empty Python function, c_loop(n) n calls of a trivial
 * builtin, gen_loop(n) n resumptions of a generator, cheap_loop(n) n calls
 * of a type (events that are not timed; None on 3.9-3.11). Keeps the costs
 * for compensation; returns a dict of them in ns.
 */
PyObject *pg_hook_calibrate(PyObject *self, PyObject *args)
{
	PyObject *loops[PG_HOOK_NKINDS], *cheap_loop;
	long n;
	(void)self;
	if (!PyArg_ParseTuple(args, "OOOOl", &loops[PG_HOOK_KIND_PY],
			      &loops[PG_HOOK_KIND_C], &loops[PG_HOOK_KIND_GEN],
			      &cheap_loop, &n) ||
	    pg_hook_ensure_core())
		return NULL;
	if (pg_hook.active || pg_hook.started) {
		PyErr_SetString(PyExc_RuntimeError, "perfguard: hook running");
		return NULL;
	}
	double pair[PG_HOOK_NKINDS] = {0}, inner[PG_HOOK_NKINDS] = {0};
	double cheap = 0, spread = 0;
	int saved_cpu = pg_hook.cpu_mode, saved_builtins = pg_hook.builtins_on;
	PyObject *saved_scope = pg_hook.scope_pred;
	pg_hook.cpu_mode = 0;
	pg_hook.builtins_on = 1;
	pg_hook.scope_pred = NULL; /* the loops' functions must be timed */
	set_costs(pair, inner, 0);
	int rc = 0;
	/* Two passes apart in time, the smaller costs kept: a slow spell of
	 * the machine (another guest taking the host's CPU) lasts longer
	 * than a round and inflates every round of one pass. */
	for (int pass = 0; !rc && pass < CAL_PASSES; pass++) {
		double c = 0, in, s, pr, inr;
		if (cheap_loop != Py_None)
			rc = calibrate_loop(cheap_loop, n, 0, 1, &c, &in, &s);
		if (!rc && (pass == 0 || c < cheap))
			cheap = c;
		for (int k = 0; !rc && k < PG_HOOK_NKINDS; k++) {
			rc = calibrate_loop(loops[k], n, cheap, 0, &pr, &inr,
					    &s);
			if (pass == 0 || pr < pair[k]) {
				pair[k] = pr;
				inner[k] = inr;
				if (k == PG_HOOK_KIND_PY)
					spread = s;
			}
		}
	}
	pg_hook.cpu_mode = saved_cpu;
	pg_hook.builtins_on = saved_builtins;
	pg_hook.scope_pred = saved_scope;
	if (rc)
		return NULL;
	pg_hook_timer_calibrate(&pg_hook.timer);
	double npt = pg_hook.timer.ns_per_tick;
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		pg_hook.cal_pair_ns[k] = pair[k] * npt;
		pg_hook.cal_inner_ns[k] = inner[k] * npt;
	}
	pg_hook.cal_cheap_ns = cheap * npt;
	pg_hook.cal_spread_ns = spread * npt;
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
	int saved_cpu = pg_hook.cpu_mode, saved_builtins = pg_hook.builtins_on;
	PyObject *saved_scope = pg_hook.scope_pred;
	pg_hook.cpu_mode = 0;
	pg_hook.builtins_on = 1;
	pg_hook.scope_pred = NULL;
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
	pg_hook.cpu_mode = saved_cpu;
	pg_hook.builtins_on = saved_builtins;
	pg_hook.scope_pred = saved_scope;
	pg_hook_reset_all();
	if (rc)
		return NULL;
	double pair = pairs ? (double)(on - off) / (double)pairs : 0;
	return PyFloat_FromDouble(pair * pg_hook.timer.ns_per_tick);
}

/* set_costs(pair_ns, inner_ns, cheap_ns[, spread_ns]): use costs measured
 * elsewhere instead of calibrating (the runner calibrates once per check so
 * that every trial, base and head, shares them); sequences of 3 (py, c,
 * gen). */
PyObject *pg_hook_set_costs(PyObject *self, PyObject *args)
{
	double pair[3], inner[3], cheap, spread = 0;
	(void)self;
	if (!PyArg_ParseTuple(args, "(ddd)(ddd)d|d", &pair[0], &pair[1],
			      &pair[2], &inner[0], &inner[1], &inner[2], &cheap,
			      &spread) ||
	    pg_hook_ensure_core())
		return NULL;
	pg_hook.cal_spread_ns = spread;
	double npt = pg_hook.timer.ns_per_tick;
	for (int k = 0; k < PG_HOOK_NKINDS; k++) {
		pg_hook.cal_pair_ns[k] = pair[k];
		pg_hook.cal_inner_ns[k] = inner[k];
		pair[k] /= npt;
		inner[k] /= npt;
	}
	pg_hook.cal_cheap_ns = cheap;
	set_costs(pair, inner, cheap / npt);
	Py_RETURN_NONE;
}
