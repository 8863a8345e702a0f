/*
 * sampler_pending.h - CPython's internal state as the process timer's
 * signal handler sees it (sampler_pending.c): the pending calls (3.12+)
 * and the count of traced threads (3.9). All are async-signal-safe; the
 * pending-call checks change nothing (a lock tried is let go at once) and
 * return 0 before 3.12.
 */
#ifndef PG_SAMPLER_PENDING_H
#define PG_SAMPLER_PENDING_H

/* 3.9: adds delta (+1 or -1) to interp's count of threads with a trace
 * function, as PyEval_SetTrace does when a thread gets or loses one; the
 * caller holds the GIL. Elsewhere nothing. */
void pg_sampler_trace_count(PyInterpreterState *interp, int delta);

/* 1 when _PyEval_AddPendingCall(interp, ...) called now, on this thread,
 * cannot wait for this thread (see sampler_pending.c), else 0. */
int pg_sampler_pending_free(PyInterpreterState *interp);
/* 1 when interp's pending-call state has the layout this hook was built
 * for (a lock that reads free or held, queue indexes in range): checked
 * once before the process timer is armed. */
int pg_sampler_pending_sane(PyInterpreterState *interp);

#endif
