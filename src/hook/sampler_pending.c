/*
 * sampler_pending.c - the looks into CPython's internal state that the
 * process timer's signal handler needs. 3.9: the interpreter's count of
 * threads with a trace function, which PyEval_SetTrace keeps by adding
 * one when a thread gets one and taking one off when it loses it. 3.12+:
 * whether
 * _PyEval_AddPendingCall, called now on this thread, could wait for this
 * very thread. It takes the interpreter's pending-call lock (3.12, 3.13)
 * and then the GIL's own mutex (3.13), and a handler that interrupted the
 * holder of either would wait for itself forever (seen on 3.13: a thread
 * interrupted in take_gil). A lock seen free is not held by the
 * interrupted thread, and other threads hold these only for a few
 * instructions. On 3.13, where a contended pending-call lock parks the
 * waiter (code a handler must not re-enter), the thread must also hold
 * the GIL: then nobody else runs pending calls. This file alone
 * is built with CPython's internal headers (Py_BUILD_CORE must precede
 * Python.h), from the interpreter the hook is built for, whose layout it
 * therefore matches.
 */
#include <patchlevel.h>

#if PY_VERSION_HEX >= 0x030C0000 || PY_VERSION_HEX < 0x030A0000
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_interp.h"
#include <pthread.h>
#include <semaphore.h>
#else
#include <Python.h>
#endif

#include "sampler_pending.h"

void pg_sampler_trace_count(PyInterpreterState *interp, int delta)
{
#if PY_VERSION_HEX < 0x030A0000
	interp->ceval.tracing_possible += delta;
#else
	(void)interp;
	(void)delta;
#endif
}

int pg_sampler_pending_free(PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030D0000
	PyThreadState *ts = PyThreadState_GetUnchecked();
	struct _gil_runtime_state *gil = interp->ceval.gil;
	if (!ts || ts->interp != interp || !gil ||
	    __atomic_load_n(&interp->ceval.pending.mutex._bits,
			    __ATOMIC_RELAXED) != 0 ||
	    pthread_mutex_trylock(&gil->mutex))
		return 0;
	pthread_mutex_unlock(&gil->mutex);
	return 1;
#elif PY_VERSION_HEX >= 0x030C0000
	/* PyThread_type_lock is a sem_t * on Linux: 1 free, 0 held */
	int v = 0;
	return interp->ceval.pending.lock &&
	       sem_getvalue((sem_t *)interp->ceval.pending.lock, &v) == 0 &&
	       v > 0;
#else
	(void)interp;
	return 0;
#endif
}

int pg_sampler_pending_sane(PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030D0000
	const struct _pending_calls *p = &interp->ceval.pending;
	return __atomic_load_n(&p->mutex._bits, __ATOMIC_RELAXED) <= 3 &&
	       p->max > 0 && p->max <= PENDINGCALLSARRAYSIZE && p->first >= 0 &&
	       p->first < PENDINGCALLSARRAYSIZE;
#elif PY_VERSION_HEX >= 0x030C0000
	const struct _pending_calls *p = &interp->ceval.pending;
	int v = -1;
	return p->lock && sem_getvalue((sem_t *)p->lock, &v) == 0 &&
	       (v == 0 || v == 1) && p->first >= 0 &&
	       p->first < NPENDINGCALLS && p->last >= 0 &&
	       p->last < NPENDINGCALLS;
#else
	(void)interp;
	return 0;
#endif
}
