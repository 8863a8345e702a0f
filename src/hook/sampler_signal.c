/*
 * sampler_signal.c - ticks on the main thread, and fork. The Python-level
 * handler of the sampler's signal (SIGRTMAX-1 by default, installed by
 * perfguard/sampler.py with SA_RESTART) is the tick: Python runs it on
 * the main thread at its next eval-breaker check, so a busy program is
 * sampled where it is, not where it next releases the GIL. In cpu mode a
 * POSIX timer on the main thread's own CPU clock sends that signal every
 * period of its CPU time: a main thread that does not run is never
 * woken, and no other thread is involved in its ticks.
 *
 * Ticks on the thread that holds the GIL (3.12+, pg_sampler_ask_holder):
 * the sampler thread queues a pending call instead of taking the GIL
 * from a running thread, which would cost two thread switches a tick.
 *
 * The process timer (cpu mode): a POSIX timer on the process's CPU
 * clock, every period of CPU time used by any of its threads. Since Linux
 * 6.3 its signal goes to the thread that was running (older kernels send it
 * to the main thread, waking it if it waits), and that thread's C handler
 * queues the tick on itself (queue_tick: a pending call on 3.12+, a
 * one-shot trace function on 3.9-3.11): nobody is woken,
 * where the sampler thread had to wake, preempt the thread that ran and
 * ask, every period. That wake, not the tick, was most of the sampler's
 * cost: a thread that only woke 1000 times a second cost the demo service
 * 4.4% of its requests (3.12, in-process A/B, benches/production); before
 * 3.12 it also had to take the GIL. The sampler thread then wakes only
 * every few periods, to count the program's CPU time and end windows, and
 * ticks itself only while the timer's ticks do not come (sampler.c,
 * ptimer_behind). The kernel fires CPU timers at its clock tick (CONFIG_HZ):
 * a rate above it gives one tick per clock tick of CPU time, each weighing
 * the time since the last (the window states the rate achieved); a sampler
 * thread that woke at the rate asked would sample more often, at the cost
 * above. The signal interrupts system calls of the thread that runs
 * (restarted, SA_RESTART), as any CPU profiler's SIGPROF does.
 *
 * Fork: os.register_at_fork stops the thread before fork (pause), goes
 * on in the parent (resume) and starts a fresh thread, window and timer
 * in the child (after_fork); pthread_atfork resets the mutex for forks
 * from C.
 */
#include "sampler_int.h"
#include "sampler_pending.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * One tick, in whichever thread holds the GIL first (GIL held). 0 when a
 * tick ran less than half a period ago (the main thread's timer and the
 * sampler thread do not both sample one period).
 */
int pg_sampler_tick_now(int how)
{
	static int in_tick; /* Python code in a tick may run a nested one */
	int64_t now = mono_ns();
	if (in_tick || pg_sampler.describing ||
	    now - pg_sampler.last_tick_mono_ns < pg_sampler.period_ns / 2)
		return 0;
	in_tick = 1;
	uint64_t idle =
	    __atomic_exchange_n(&pg_sampler.idle_ticks, 0, __ATOMIC_RELAXED);
	pg_sampler.live->ticks += idle;
	pg_sampler.live->idle += idle;
	pg_sampler_tick(pg_sampler.tstate, now - pg_sampler.last_tick_mono_ns,
			how);
	__atomic_store_n(&pg_sampler.last_tick_mono_ns, now, __ATOMIC_RELAXED);
	/* wall time with the GIL held (a thread's CPU clock costs a system
	 * call, the monotonic clock does not) */
	pg_sampler.tick_ns += mono_ns() - now;
	in_tick = 0;
	return 1;
}

/*
 * Ticks on the main thread. The Python-level handler of the sampler's
 * signal (installed with SA_RESTART by sampler.py) is the tick: Python
 * runs it on the main thread at its next eval-breaker check, so a busy
 * program is sampled where it is, not where it next releases the GIL (an asyncio loop would otherwise be seen
 * in select() only). In cpu mode the signal comes from a timer on the
 * main thread's own CPU clock, every period of its CPU time: a main
 * thread that does not run is never woken, no other thread is involved,
 * and the samples are uniform over its CPU time. The kernel checks CPU
 * timers at its clock tick (CONFIG_HZ, 250 Hz on Debian), which bounds
 * the rate. In wall mode (or without the timer) the sampler thread sends
 * the signal to a main thread that runs; on a loaded machine the sampler
 * thread tends to get a CPU when the main thread yields in a system
 * call, so those samples lean towards system calls (the timer's do not).
 */
PyObject *pg_sampler_py_nudged(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	__atomic_store_n(
	    &pg_sampler.kicks_served,
	    __atomic_load_n(&pg_sampler.kicks_sent, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
	if (pg_sampler.running && !pg_sampler.stop && pg_sampler_tick_now(0)) {
		pg_sampler.ticks_main++;
		pg_sampler.live->main_ticks++;
	}
	Py_RETURN_NONE;
}

/* A tick from a pending call (GIL held), unless the sampler stopped or
 * the interpreter is finalizing: whether it ticked. A forked child has
 * running 0 (pg_sampler_atfork_child), so no getpid() here or in
 * ptimer_signal: two system calls a tick were 10% of a tick's cost (perf,
 * the demo service, 3.12). how: see pg_sampler_tick. */
static int queued_tick(int how)
{
	return pg_sampler.running && !pg_sampler.stop &&
	       !pg_sampler_finalizing() && pg_sampler_tick_now(how);
}

/* The pending call: a tick on whichever thread runs it (GIL held). It
 * never fails (a failure would raise into that thread). */
static int pending_tick(void *arg)
{
	(void)arg;
	if (queued_tick(PG_TICK_PRE))
		pg_sampler.ticks_asked++;
	__atomic_store_n(&pg_sampler.asked_ns, 0, __ATOMIC_RELEASE);
	return 0;
}

int pg_sampler_ask_holder(int64_t now_ns)
{
	if (!pg_sampler.add_pending)
		return 0;
	int64_t asked = __atomic_load_n(&pg_sampler.asked_ns, __ATOMIC_ACQUIRE);
	if (asked)
		return now_ns - asked < pg_sampler.period_ns;
	/* pre is the sampler thread's until the call has run */
	pg_sampler_pre_read();
	/* set before the call can run (it clears it) */
	__atomic_store_n(&pg_sampler.asked_ns, now_ns, __ATOMIC_RELEASE);
	if (pg_sampler.add_pending(pg_sampler.interp, pending_tick, NULL, 0)) {
		__atomic_store_n(&pg_sampler.asked_ns, 0, __ATOMIC_RELEASE);
		return 0;
	}
	pg_sampler.asks++;
	return 1;
}

void pg_sampler_find_ask(void)
{
	pg_sampler.add_pending = NULL;
	pg_sampler.interp = PyThreadState_GetInterpreter(PyThreadState_Get());
	__atomic_store_n(&pg_sampler.asked_ns, 0, __ATOMIC_RELEASE);
	const char *hurry = getenv("PERFGUARD_SAMPLE_HURRY");
	pg_sampler.hurry =
	    PY_VERSION_HEX < 0x030C0000 && (!hurry || strcmp(hurry, "0"));
	/* a number of microseconds sets the shortened interval (A/B) */
	long us = hurry ? strtol(hurry, NULL, 10) : 0;
	pg_sampler.hurry_us =
	    us > 1 && us <= 1000000 ? (unsigned long)us : PG_SAMPLER_HURRY_US;
#if PY_VERSION_HEX >= 0x030C0000
	/* Before 3.12 only the main thread runs pending calls. The function
	 * is CPython's internal one (Py_AddPendingCall targets the main
	 * thread); looked up, so that an interpreter without it still loads
	 * the hook. 3.12: (interp, func, arg, mainthreadonly), 3.13: (interp,
	 * func, arg, flags); 0 for either is "any thread", 0 returned is
	 * success. */
	const char *env = getenv("PERFGUARD_SAMPLE_ASK");
	if (!env || strcmp(env, "0"))
		*(void **)&pg_sampler.add_pending =
		    dlsym(RTLD_DEFAULT, "_PyEval_AddPendingCall");
#endif
}

/*
 * The process timer's tick through a trace function (3.9-3.11). 3.11's
 * specialized instructions dispatch without reading the thread's tracing
 * flag, but every loop iteration calls out of the evaluation loop (an
 * iterator's next, an int's add), after which the flag is read again: the
 * tick lands within an iteration. On a worker thread running a function
 * of two loops and then one of one loop (true share of the first 66.4%,
 * its own thread's CPU clock unprofiled), 1000 Hz read 64.5% and 65.1%
 * (924 and 730 samples); with a while loop as one of the two (true
 * 71.5-73.0%), 72.4%.
 */
#define PG_TRACE_TICK (PY_VERSION_HEX < 0x030C0000)

#if PY_VERSION_HEX >= 0x030C0000 || PG_TRACE_TICK
/* The process timer's pending call: a tick on the thread that runs it
 * (GIL held); never fails. */
static int ptimer_tick(void *arg)
{
	(void)arg;
	if (queued_tick(PG_TICK_PTIMER)) {
		pg_sampler.ticks_timer++;
		pg_sampler.live->timer_ticks++;
	}
	__atomic_store_n(&pg_sampler.ptimer_asked, 0, __ATOMIC_RELEASE);
	return 0;
}
#endif

#if PG_TRACE_TICK
/* The thread whose trace_tick is armed, where pg_sampler.site was read
 * (see queue_tick). */
static const PyThreadState *site_armed;

/* 3.9-3.11: the process timer's tick as a one-shot trace function of
 * the thread that holds the GIL (see queue_tick): it takes itself off
 * (CPython recomputes the thread's tracing flag when it returns) and
 * ticks. */
static int trace_tick(PyObject *obj, PyFrameObject *frame, int what,
		      PyObject *arg)
{
	(void)obj;
	(void)frame;
	(void)what;
	(void)arg;
	PyThreadState *ts = PyThreadState_Get();
	if (ts->c_tracefunc == trace_tick) {
		ts->c_tracefunc = NULL;
		pg_sampler_trace_count(ts->interp, -1);
	}
	pg_sampler.site_ts = site_armed; /* for this tick only */
	ptimer_tick(NULL);
	pg_sampler.site_ts = NULL;
	return 0;
}
#endif

/*
 * Queue a tick on the thread this signal handler interrupted: 1 when
 * queued. 3.12+: a pending call, unless queueing could wait for this very
 * thread (sampler_pending.c). 3.9-3.11, where only the main thread runs
 * pending calls: when this thread holds the GIL, runs a Python frame
 * (whose return at the latest is traced) and has no trace or profile
 * function, trace_tick becomes its trace function, which CPython calls at
 * the thread's next traced event (a new line or a backward jump). That
 * comes after a C function the signal found running has returned, and may
 * be a call made after it: the frame the signal found and its position
 * are kept (pg_sampler.site), and the thread's sample starts there when
 * that frame is still on its stack (a C function's time stays on the line
 * that called it, marked native, as on 3.12+; 3.11: not when the frame is
 * a generator's or coroutine's, which the handler cannot read safely,
 * see pg_sampler_frame_now). Only threads of the
 * sampled interpreter: a subinterpreter's thread is not sampled. Both
 * threads are this one: nothing else reads or writes the fields
 * meanwhile, and a program that sets its own trace function replaces
 * trace_tick, whose tick is then let go (the sampler thread sees it
 * behind). 3.9 also counts the threads with a trace function, and its
 * PyEval_SetTrace takes trace_tick for one: the count goes up with it and
 * down when it takes itself off, so a program's own function replacing
 * it gets line events (the count left alone, it got none). A trace_tick
 * still in place is armed again: 3.10 keeps the flag per run of the
 * evaluation loop, copied from the caller's at entry and back at return,
 * so a signal between the copy and the switch to the new run sets the
 * caller's copy, which the return overwrites, and the function stays
 * without the flag.
 */
static int queue_tick(void)
{
#if PY_VERSION_HEX >= 0x030C0000
	return pg_sampler.add_pending &&
	       pg_sampler_pending_free(pg_sampler.interp) &&
	       pg_sampler.add_pending(pg_sampler.interp, ptimer_tick, NULL,
				      0) == 0;
#elif PG_TRACE_TICK
	PyThreadState *ts = _PyThreadState_UncheckedGet();
	if (!ts || ts != PyGILState_GetThisThreadState() ||
	    ts->interp != pg_sampler.interp ||
	    (ts->c_tracefunc && ts->c_tracefunc != trace_tick) ||
	    ts->c_profilefunc || ts->tracing ||
	    pg_sampler_frame_now(ts, &pg_sampler.site) < 0)
		return 0;
	site_armed = ts;
	if (!ts->c_tracefunc)
		pg_sampler_trace_count(ts->interp, 1);
	ts->c_tracefunc = trace_tick;
#if PY_VERSION_HEX >= 0x030B0000
	ts->cframe->use_tracing = 255; /* or'ed into the opcode */
#elif PY_VERSION_HEX >= 0x030A0000
	ts->cframe->use_tracing = 1;
#else
	ts->use_tracing = 1;
#endif
	return 1;
#else
	return 0;
#endif
}

/*
 * The process timer's signal handler, on whichever thread ran (any
 * thread, with or without the GIL; async-signal-safe): queue the tick
 * (queue_tick) unless one is queued already or the sampler is not running
 * in this process; a tick that cannot be queued is let go, not waited
 * for.
 */
static void ptimer_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	(void)ctx;
	int saved = errno;
	if (pg_sampler.ptimer_ok && pg_sampler.running && !pg_sampler.stop &&
	    !__atomic_exchange_n(&pg_sampler.ptimer_asked, 1,
				 __ATOMIC_ACQ_REL) &&
	    !queue_tick())
		__atomic_store_n(&pg_sampler.ptimer_asked, 0, __ATOMIC_RELEASE);
	errno = saved;
}

/* The process timer's signal: SIGRTMAX-2, PERFGUARD_SAMPLE_CPU_SIGNAL
 * (0: none), given ptimer_signal when nobody handles it yet; else 0. */
static int ptimer_signo(void)
{
	const char *env = getenv("PERFGUARD_SAMPLE_CPU_SIGNAL");
	int sig = env ? atoi(env) : SIGRTMAX - 2;
	if (sig < SIGRTMIN || sig > SIGRTMAX)
		return 0;
	struct sigaction old, sa;
	if (sigaction(sig, NULL, &old))
		return 0;
	if (old.sa_flags & SA_SIGINFO ? old.sa_sigaction == ptimer_signal
				      : old.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = ptimer_signal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&sa.sa_mask);
		/* kept after stop: a signal still queued then finds the
		 * sampler stopped (the default action would kill) */
		if (sigaction(sig, &sa, NULL) == 0)
			return sig;
	}
	return 0;
}

/* Create a timer on clock that sends ev every period, in *t: 1, or 0
 * (nothing left behind). */
static int start_timer(clockid_t clock, struct sigevent *ev, timer_t *t)
{
	if (timer_create(clock, ev, t))
		return 0;
	struct itimerspec it = {
	    .it_interval = {.tv_sec = pg_sampler.period_ns / 1000000000,
			    .tv_nsec = pg_sampler.period_ns % 1000000000},
	};
	it.it_value = it.it_interval;
	if (timer_settime(*t, 0, &it, NULL)) {
		timer_delete(*t);
		return 0;
	}
	return 1;
}

/* Arm the process timer (see the top of this file): 1 when armed. */
static int arm_ptimer(void)
{
	if (!pg_sampler.cpu_mode ||
	    (!PG_TRACE_TICK && PY_VERSION_HEX < 0x030C0000) ||
	    (PY_VERSION_HEX >= 0x030C0000 &&
	     (!pg_sampler.add_pending ||
	      !pg_sampler_pending_sane(pg_sampler.interp))))
		return 0;
	int sig = ptimer_signo();
	if (!sig)
		return 0;
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = sig;
	__atomic_store_n(&pg_sampler.ptimer_asked, 0, __ATOMIC_RELEASE);
	pg_sampler.ptimer_signal = sig;
	pg_sampler.ptimer_ok =
	    start_timer(CLOCK_PROCESS_CPUTIME_ID, &ev, &pg_sampler.ptimer);
	return pg_sampler.ptimer_ok;
}

void pg_sampler_arm_timer(void)
{
	pg_sampler.timer_ok = 0;
	pg_sampler.ptimer_ok = 0;
	if (arm_ptimer())
		return;
	if (!pg_sampler.cpu_mode || pg_sampler.nudge_signal <= 0 ||
	    !pg_sampler.main_clock_ok ||
	    !pthread_equal(pthread_self(), pg_sampler.main_thread))
		return;
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = pg_sampler.nudge_signal;
#ifdef sigev_notify_thread_id
	ev.sigev_notify_thread_id = pg_sampler.main_tid;
#else /* glibc < 2.35 names it only inside the union */
	ev._sigev_un._tid = pg_sampler.main_tid;
#endif
	pg_sampler.timer_ok =
	    start_timer(CLOCK_THREAD_CPUTIME_ID, &ev, &pg_sampler.timer);
}

/* _sampler_signal_taken(signum): the program is about to handle signum
 * (signal.signal): if the sampler uses it, stop using it (its timer
 * deleted: the program's handler would get every tick; the sampler
 * thread ticks without it). True when it did. */
PyObject *pg_sampler_py_signal_taken(PyObject *self, PyObject *args)
{
	int sig, taken = 0;
	(void)self;
	if (!PyArg_ParseTuple(args, "i", &sig))
		return NULL;
	if (sig > 0 && sig == pg_sampler.nudge_signal) {
		if (pg_sampler.timer_ok)
			timer_delete(pg_sampler.timer);
		pg_sampler.timer_ok = 0;
		pg_sampler.nudge_signal = 0;
		taken = 1;
	}
	if (sig > 0 && sig == pg_sampler.ptimer_signal &&
	    pg_sampler.ptimer_ok) {
		pg_sampler.ptimer_ok = 0;
		timer_delete(pg_sampler.ptimer);
		taken = 1;
	}
	return PyBool_FromLong(taken);
}

void pg_sampler_disarm_timer(void)
{
	if (pg_sampler.timer_ok)
		timer_delete(pg_sampler.timer);
	pg_sampler.timer_ok = 0;
	if (pg_sampler.ptimer_ok) {
		pg_sampler.ptimer_ok = 0;
		timer_delete(pg_sampler.ptimer);
	}
}

void pg_sampler_atfork_child(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pg_sampler.mu = m;
	pg_sampler.timer_ok = 0; /* timers are not inherited */
	pg_sampler.ptimer_ok = 0;
	pg_sampler.ptimer_asked = 0; /* the parent's call is the parent's */
	pg_sampler.asked_ns = 0;     /* the parent's call is the parent's */
	pg_sampler.die_signal = 0;   /* ... and so is a stop signal */
	pg_sampler.holds = 0;	     /* the parent's pause holds, not ours */
	pg_sampler.thread_alive = 0;
#if PY_VERSION_HEX < 0x030C0000
	/* forked (from C) while the sampler thread waited for the GIL: the
	 * program's switch interval, not the shortened one */
	unsigned long saved =
	    __atomic_load_n(&pg_sampler.hurry_saved_us, __ATOMIC_RELAXED);
	if (saved)
		_PyEval_SetSwitchInterval(saved);
	pg_sampler.hurry_saved_us = 0;
#endif
	/* The thread does not exist in the child; after_fork re-arms it. */
	if (pg_sampler.running) {
		pg_sampler.running = 0;
		pg_sampler.pid = -1;
	}
}

/* _sampler_after_fork(): in a forked child, start a fresh sampler. */
PyObject *pg_sampler_py_after_fork(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!pg_sampler.live || (pg_sampler.pid != -1 && !pg_sampler.paused))
		Py_RETURN_FALSE;
	pg_sampler.paused = 0;
	if (!pg_sampler.spare && !(pg_sampler.spare = pg_sampler_window_new()))
		Py_RETURN_FALSE;
	/* The forking thread is the child's main thread. */
	pg_sampler.main_thread = pthread_self();
	/* The parent's window is the parent's to write. */
	pg_sampler_fresh_window();
	if (pg_sampler_spawn_thread())
		Py_RETURN_FALSE;
	pg_sampler_arm_timer();
	Py_RETURN_TRUE;
}

/* _sampler_pause(): before os.fork(), stop the thread, keep the window
 * (so the fork happens in a process with one thread). */
PyObject *pg_sampler_py_pause(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!pg_sampler.running || pg_sampler.pid != getpid())
		Py_RETURN_FALSE;
	pg_sampler_hold(); /* until resume, or in the child, gone */
	pg_sampler_join_thread();
	pg_sampler.paused = 1;
	Py_RETURN_TRUE;
}

/* _sampler_resume(): after os.fork() in the parent, go on sampling. */
PyObject *pg_sampler_py_resume(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!pg_sampler.paused || pg_sampler.running)
		Py_RETURN_FALSE;
	pg_sampler.paused = 0;
	int rc = pg_sampler_spawn_thread();
	pg_sampler_release();
	return PyBool_FromLong(rc == 0);
}
