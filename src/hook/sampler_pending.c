/*
 * sampler_pending.c - the looks into CPython's internal state that the
 * sampler needs. A tick reads each thread's frame chain as it is: on
 * 3.11+ the interpreter frames themselves, since the public
 * PyFrame_GetBack makes a frame object for every frame it passes (an
 * allocation each, 45% of a tick's instructions on 3.12). The rest serves
 * the process timer's signal handler. 3.9: the interpreter's count of
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
#if PY_VERSION_HEX >= 0x030B0000
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include "internal/pycore_frame.h"
#endif

#include "sampler_pending.h"

#if PY_VERSION_HEX >= 0x030B0000
typedef _PyInterpreterFrame *frame_t;

/* Thread ts's innermost interpreter frame, complete or not. */
static frame_t frame_top(PyThreadState *ts)
{
#if PY_VERSION_HEX >= 0x030D0000
	return ts->current_frame;
#else
	return ts->cframe ? ts->cframe->current_frame : NULL;
#endif
}

/* f's code field as it is, not read through (3.13: f_executable). */
static PyCodeObject *frame_raw_code(frame_t f)
{
#if PY_VERSION_HEX >= 0x030D0000
	return (PyCodeObject *)f->f_executable;
#else
	return f->f_code;
#endif
}

/* f's code when f is a complete frame of Python code, else NULL (a
 * frame being set up, or a C shim frame). */
static PyCodeObject *frame_code(frame_t f)
{
#if PY_VERSION_HEX >= 0x030C0000
	if (f->owner == FRAME_OWNED_BY_CSTACK)
		return NULL;
#endif
#if PY_VERSION_HEX >= 0x030D0000
	if (!f->f_executable || !PyCode_Check(f->f_executable))
		return NULL;
#endif
	if (_PyFrame_IsIncomplete(f))
		return NULL;
	return frame_raw_code(f);
}

#define FRAME_BACK(f) ((f)->previous)
#define FRAME_LASTI(f)                                                         \
	(_PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT))
#else
#include <frameobject.h>
typedef PyFrameObject *frame_t;
#define frame_top(ts) ((ts)->frame)
#define frame_code(f) ((f)->f_code)
#define FRAME_BACK(f) ((f)->f_back)
#if PY_VERSION_HEX >= 0x030A0000
#define FRAME_LASTI(f) ((f)->f_lasti < 0 ? -1 : (f)->f_lasti * 2)
#else
#define FRAME_LASTI(f) ((f)->f_lasti)
#endif
#endif

int pg_sampler_frames(PyThreadState *ts, struct pg_sampler_raw *out, int cap,
		      int *more)
{
	int n = 0;
	*more = 0;
	for (frame_t f = frame_top(ts); f; f = FRAME_BACK(f)) {
		PyCodeObject *code = frame_code(f);
		if (!code)
			continue;
		if (n == cap) {
			*more = 1;
			break;
		}
		out[n].frame = f;
		out[n].code = code;
		out[n].lasti = FRAME_LASTI(f);
		n++;
	}
	return n;
}

#if PY_VERSION_HEX >= 0x030B0000
/*
 * 1 when frame f lies in the used part of one of ts's data-stack chunks,
 * which stay mapped while they are linked. At every entry of the
 * evaluation loop, 3.11 and 3.12 make their new C-level frame record
 * current a few instructions before they set its innermost frame, which
 * holds whatever the C stack held until then (a signal handler there
 * read a garbage pointer's fields and crashed, 3.11); a frame being
 * popped may also be gone. A generator's or coroutine's frame lies in its
 * object, outside the chunks, and is not read either.
 */
static int in_datastack(PyThreadState *ts, frame_t f)
{
	const char *p = (const char *)f;
	for (const _PyStackChunk *c = ts->datastack_chunk; c; c = c->previous) {
		const char *base = (const char *)c->data;
		const char *top = c == ts->datastack_chunk
				      ? (const char *)ts->datastack_top
				      : (const char *)&c->data[c->top];
		if (p >= base && p + sizeof(*f) <= top)
			return 1;
	}
	return 0;
}
#endif

int pg_sampler_frame_now(PyThreadState *ts, struct pg_sampler_raw *out)
{
#if PY_VERSION_HEX >= 0x030B0000
	/* the frame's own fields only: its code is never read through */
	frame_t f = frame_top(ts);
	memset(out, 0, sizeof(*out));
	if (!f)
		return -1;
	if (!in_datastack(ts, f))
		return 0;
	out->frame = f;
	out->code = frame_raw_code(f);
	out->lasti = FRAME_LASTI(f);
	return 1;
#else
	int more;
	return pg_sampler_frames(ts, out, 1, &more) ? 1 : -1;
#endif
}

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
