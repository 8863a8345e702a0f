/*
 * sampler_pending.h - CPython's internal state as the sampler sees it
 * (sampler_pending.c): a thread's frame chain for a tick, and for the
 * process timer's signal handler the pending calls (3.12+) and the count
 * of traced threads (3.9). The handler's functions are async-signal-safe;
 * the pending-call checks change nothing (a lock tried is let go at once)
 * and return 0 before 3.12.
 */
#ifndef PG_SAMPLER_PENDING_H
#define PG_SAMPLER_PENDING_H

/* One frame of a thread's stack: its code (borrowed: valid while the GIL
 * is held and no Python code runs) and the byte offset of its last
 * instruction (-1 before its first). */
struct pg_sampler_raw {
	const void *frame; /* identity only, never read through */
	PyCodeObject *code;
	int lasti;
};

/* Thread ts's complete Python frames, innermost first, into out (at most
 * cap); *more is set to 1 when frames were left out. The caller holds the
 * GIL. Makes no object and runs no Python code. Returns the count. */
int pg_sampler_frames(PyThreadState *ts, struct pg_sampler_raw *out, int cap,
		      int *more);
/* Thread ts's innermost Python frame into *out (frame, code and offset,
 * read from the frame's own fields; its code is not read through): 1;
 * 0 with *out zeroed when that frame cannot be read safely now (3.11+:
 * it is not in the thread's data stack: a generator's frame, or the
 * thread is between frames); -1 when the thread has no Python frame.
 * Reads only: async-signal-safe on the thread ts runs on. */
int pg_sampler_frame_now(PyThreadState *ts, struct pg_sampler_raw *out);

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
