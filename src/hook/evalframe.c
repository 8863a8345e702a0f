/*
 * evalframe.c - the event mechanism on Python 3.9-3.11 when C functions
 * are not timed (builtins off, or a scope no builtin can match): a PEP 523
 * frame-evaluation function (_PyInterpreterState_SetEvalFrameFunc) that
 * brackets the interpreter's own _PyEval_EvalFrameDefault. Compiled beside
 * setprofile.c, which decides per recording which of the two it uses
 * (pg_mech_on) and keeps the profile function whenever builtins are timed.
 *
 * Why: any profile function switches the interpreter's tracing dispatch on,
 * so every bytecode runs slower (3.11 also undoes specialisation), in
 * profiled and out-of-scope code alike; a frame-evaluation function only
 * costs a C call around each frame evaluation, and bytecodes run at full
 * speed. On 3.11 it also makes the interpreter stop inlining Python calls
 * (CALL checks that no frame-evaluation function is set), so that every
 * Python call is seen here.
 *
 * One evaluation is a call of a function, a generator's first start or a
 * resumption (next, send, throw): the frame's position tells them apart as
 * setprofile.c's call events do (3.9/3.10: f_lasti -1 before the start;
 * 3.11: before the first RESUME, pg_mech_gen_start). On 3.11 calling a
 * generator function evaluates its frame up to RETURN_GENERATOR, which
 * makes the generator: that evaluation is not a call (setprofile sees
 * nothing of it either) and is passed through untimed.
 *
 * Pairing: the entry and exit of an evaluation are one C call, so an exit
 * is only ever that of a frame entered here: it pops the frame pushed at
 * entry when that frame is still on the thread's stack at the same place
 * (a reset, or disabling and enabling again, dropped it otherwise: then
 * nothing is popped). Frames entered before enabling never exit through
 * this function. The function is per interpreter: every thread's frames
 * arrive here, including threads started by _thread.start_new_thread.
 *
 * Scope: code out of scope is passed through after one compare (out_code:
 * no clock read, no tree lookup), its time left to the nearest in-scope
 * caller (marked folded).
 *
 * Coexistence: the script's own sys.setprofile / cProfile no longer
 * displace the hook (they set a thread's profile function, not the
 * interpreter's frame evaluation); their own cost is then part of the
 * times measured. If another frame-evaluation function is installed
 * (a debugger, a JIT), the hook falls back to the profile function and
 * says why (pg_evalframe_on's reason, info() and the wire's fallback).
 *
 * It deliberately does not chain another frame-evaluation function, nor
 * look at C calls (setprofile.c does, when builtins are timed).
 */
#include "hook.h"

#include <string.h>

#if PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE
typedef struct _PyInterpreterFrame *frame_t;
#else
typedef PyFrameObject *frame_t;
#endif

/* Set while a slow path of this thread runs Python code (the scope
 * predicate): frames it evaluates are not the script's. */
static __thread int busy __attribute__((tls_model("initial-exec")));

static int installed;

/* Code objects found out of scope in this recording, direct-mapped by
 * address: their evaluations pass through without a clock read or a tree
 * lookup. Entries are functions the core knows (it holds a reference to
 * their code, so an address is never reused by other code); cleared when
 * a recording starts, after which the scope may have changed. */
#define OUT_SLOTS 4096
static const void *out_code[OUT_SLOTS];

static inline const void **out_slot(const void *code)
{
	return &out_code[((uintptr_t)code >> 4) & (OUT_SLOTS - 1)];
}

static inline PyObject *frame_code(frame_t f)
{
	return (PyObject *)f->f_code;
}

/* The frame as the slow paths take it (3.9/3.10 read the class of the
 * first argument from it; 3.11 names methods by co_qualname). */
static inline PyFrameObject *frame_object(frame_t f)
{
#if PY_VERSION_HEX >= 0x030B0000
	(void)f;
	return NULL;
#else
	return f;
#endif
}

/* Position of the last instruction run in f: -1 (3.9/3.10) or before the
 * first RESUME (3.11) when the frame has not started. */
static inline int frame_lasti(frame_t f)
{
#if PY_VERSION_HEX >= 0x030B0000
	return _PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT);
#else
	return f->f_lasti;
#endif
}

/* 3.11: the evaluation of a generator function's call, which only makes
 * the generator (RETURN_GENERATOR): its frame is not yet the generator's. */
static inline int makes_generator(frame_t f)
{
#if PY_VERSION_HEX >= 0x030B0000
	return f->owner != FRAME_OWNED_BY_GENERATOR;
#else
	(void)f;
	return 0;
#endif
}

/* Whether an evaluation of generator code is a resumption: anything but a
 * first start (3.11: a throw into a generator not started is reported as a
 * resumption by the profile function too, and stays one). */
static int __attribute__((noinline))
gen_resumed(PyObject *code, frame_t f, uint32_t n, int throwflag)
{
	uint32_t fi = n < PG_HOOK_DETACHED
			  ? pg_hook.core.nodes[n].func
			  : pg_hook_core_find(&pg_hook.core, code);
	if (fi == PG_HOOK_NONE)
		return 0;
	int32_t start = pg_hook.core.funcs[fi].start_lasti;
#if PY_VERSION_HEX >= 0x030B0000
	return throwflag || frame_lasti(f) >= start;
#else
	(void)throwflag;
	return frame_lasti(f) != start;
#endif
}

/* The node of an evaluation of code below th's top frame; the slow path
 * (first sight: the scope predicate may run Python code) is marked busy. */
static inline uint32_t eval_node(struct pg_hook_thread *th, PyObject *code,
				 frame_t f)
{
	uint32_t parent = pg_hook_core_top(th);
	uint32_t n = pg_hook_core_child(&pg_hook.core, parent, code);
	if (__builtin_expect(n != PG_HOOK_NONE, 1))
		return n;
	busy = 1;
	n = pg_hook_code_node_new(parent, code, frame_object(f),
				  PG_HOOK_KIND_PY);
	busy = 0;
	return n;
}

/* The frame-evaluation function: the hot path. Code out of scope seen
 * before costs a thread lookup and one compare, and its evaluation the
 * C call around it (3.11: the interpreter no longer inlines the call):
 * calibrated as the "cheap" cost and charged to the current frame. */
static PyObject *eval_frame(PyThreadState *ts, frame_t f, int throwflag)
{
	struct pg_hook_thread *th;
	if (__builtin_expect(busy, 0) || !pg_hook.active ||
	    !(th = thread_get()))
		return _PyEval_EvalFrameDefault(ts, f, throwflag);
	PyObject *code = frame_code(f);
	if (__builtin_expect(*out_slot(code) == code, 0)) {
		fold_into_top(th);
		th->ovh_fp += pg_hook.core.call_event_fp;
		return _PyEval_EvalFrameDefault(ts, f, throwflag);
	}
	int gen = ((PyCodeObject *)code)->co_flags & GEN_FLAGS;
	if (__builtin_expect(gen, 0) && makes_generator(f))
		return _PyEval_EvalFrameDefault(ts, f, throwflag);
	int64_t t0 = pg_hook_ticks(&pg_hook.timer);
	th->events++;
	clock_check(th, t0);
	uint32_t n = eval_node(th, code, f);
	if (__builtin_expect(n == PG_HOOK_NODE_OUT, 0)) {
		*out_slot(code) = code; /* out of scope: not timed */
		fold_into_top(th);
		th->ovh_fp += pg_hook.core.call_event_fp;
		callback_done(th, t0);
		return _PyEval_EvalFrameDefault(ts, f, throwflag);
	}
	int resume = gen ? gen_resumed(code, f, n, throwflag) : 0;
	uint32_t d = th->depth;
	pg_hook_core_push(&pg_hook.core, th, n, code,
			  resume ? PG_HOOK_KIND_GEN : PG_HOOK_KIND_PY, resume,
			  t0);
	callback_done(th, t0);
	PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
	int64_t t1 = pg_hook_ticks(&pg_hook.timer);
	if (__builtin_expect(pg_hook.active && th->depth > d &&
				 th->stack[d].key == code,
			     1)) {
		th->events++;
		leave(th, code, t1);
	}
	return r;
}

/* ---- installing it --------------------------------------------------------- */

int pg_evalframe_usable(void)
{
	_PyFrameEvalFunction cur =
	    _PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get());
	return cur == _PyEval_EvalFrameDefault || cur == eval_frame;
}

int pg_evalframe_on(const char **why)
{
	PyInterpreterState *interp = PyInterpreterState_Get();
	if (!pg_evalframe_usable()) {
		*why = "another frame-evaluation function is installed";
		return -1;
	}
	memset(out_code, 0, sizeof(out_code));
	_PyInterpreterState_SetEvalFrameFunc(interp, eval_frame);
	installed = 1;
	return 0;
}

void pg_evalframe_off(void)
{
	if (!installed)
		return;
	PyInterpreterState *interp = PyInterpreterState_Get();
	if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_frame)
		_PyInterpreterState_SetEvalFrameFunc(interp,
						     _PyEval_EvalFrameDefault);
	installed = 0;
}
