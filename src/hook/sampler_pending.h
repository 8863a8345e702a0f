/*
 * sampler_pending.h - CPython's pending-call state as the process timer's
 * signal handler sees it (sampler_pending.c). Both functions are
 * async-signal-safe and change nothing (a lock tried is let go at once);
 * before 3.12 both return 0.
 */
#ifndef PG_SAMPLER_PENDING_H
#define PG_SAMPLER_PENDING_H

/* 1 when _PyEval_AddPendingCall(interp, ...) called now, on this thread,
 * cannot wait for this thread (see sampler_pending.c), else 0. */
int pg_sampler_pending_free(PyInterpreterState *interp);
/* 1 when interp's pending-call state has the layout this hook was built
 * for (a lock that reads free or held, queue indexes in range): checked
 * once before the process timer is armed. */
int pg_sampler_pending_sane(PyInterpreterState *interp);

#endif
