/*
 * sampler.c - perfguard's production sampler: records every Python
 * thread's stack at a fixed rate (100 Hz by default) and writes one window
 * file per window (docs/sampler-format.md), which `perfguard record` turns
 * into pprof and a results set. This file holds the sampler thread and
 * the functions Python calls (start, stop, flush, info); sampler_int.h
 * lists the other files.
 *
 * Who ticks: the main thread, in the handler of the sampler's signal
 * (sampler_signal.c), when it runs Python; in cpu mode a timer on its CPU
 * clock sends the signal, in wall mode the sampler thread does. The
 * sampler thread (a C pthread with its own thread state) wakes every
 * period (up to 8 periods while the process timer of sampler_signal.c
 * ticks) and, from CPU clocks read without the GIL, acts only when other
 * threads run while the main thread does not (a server whose main thread
 * waits in accept()): on 3.12+ it asks the GIL's holder to tick (a
 * pending call, sampler_signal.c), else it takes the GIL and ticks
 * itself, its threads' clocks read before, the switch interval shortened
 * while it waits (3.9-3.11, hurry_begin); when nobody ran
 * (cpu mode) it counts an empty tick and wakes nobody, and while it has
 * nothing to do it sleeps up to 8 periods. It also ends windows.
 *
 * It deliberately never raises into the program (errors are counted and
 * written in the window), never samples its own thread, and does not run
 * during interpreter finalization: the Python side stops it at exit. A
 * stop signal wakes it to write the window and die (sampler_stop.c).
 */
#include "sampler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pg_sampler_state pg_sampler = {.mu = PTHREAD_MUTEX_INITIALIZER};

/*
 * CPU clocks read by the sampler thread at each wake, without the GIL.
 * The main thread's clock is read before the process's (main) and after
 * it (main_after): the sampler thread can be preempted between two
 * readings while the main thread runs, and the main thread's CPU time
 * of such a gap, counted in the process's difference but not in the
 * main thread's, read as another thread's (an idle program blocked in
 * select() was then woken to take the GIL). The main thread's time
 * between one wake's main and the next's main_after holds all of it.
 */
struct clocks {
	int64_t mono, process, self, main, main_after;
};

static int64_t main_clock(void)
{
	return pg_sampler.main_clock_ok ? clock_ns(pg_sampler.main_clock) : -1;
}

static void read_clocks(struct clocks *c)
{
	c->mono = mono_ns();
	c->main = main_clock();
	c->process = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	c->self = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	c->main_after = main_clock();
}

/* Used at least 5% of interval_ns (unknown readings count as used). */
static int ran(int64_t used_ns, int64_t interval_ns)
{
	return used_ns < 0 || used_ns * 20 >= interval_ns;
}

/* What the sampler thread does when it wakes. */
enum step {
	STEP_NONE, /* the main thread ticks (its timer, a signal sent) */
	STEP_IDLE, /* cpu mode: nobody ran; a tick without a sample */
	STEP_KICK, /* signal the running main thread to tick */
	STEP_ASK,  /* others ran: ask the GIL's holder to tick (3.12+) */
	STEP_TAKE, /* take the GIL and tick here */
};

/* b - a of two clock readings, -1 when either could not be read; never
 * below 0 (the process clock can lag a thread's own by a few µs). */
static int64_t clock_delta(int64_t a, int64_t b)
{
	if (a < 0 || b < 0)
		return -1;
	return b > a ? b - a : 0;
}

/*
 * Has the program used two periods of CPU time since a tick last came
 * (this wake's or earlier ones'), and two of the kernel's clock ticks at
 * the longest (at which CPU timers fire: a period shorter than that is
 * not behind, only coarse)? Called once a wake. On 3.13 the process
 * timer's signal is let go on a thread that runs without the GIL
 * (sampler_pending.c), so a program that runs C code without it is
 * ticked by the sampler thread meanwhile; a main thread that blocks the
 * timers' signals (or the nudge) is ticked so too.
 */
static int ptimer_behind(const struct clocks *now, const struct clocks *last)
{
	static uint64_t seen;	 /* tick_no at the last wake */
	static int64_t unticked; /* CPU time since a tick last came */
	uint64_t tick_no =
	    __atomic_load_n(&pg_sampler.tick_no, __ATOMIC_RELAXED);
	int64_t used = clock_delta(last->process, now->process);
	unticked = tick_no != seen ? 0 : unticked + (used > 0 ? used : 0);
	seen = tick_no;
	int64_t gap = pg_sampler.period_ns > PG_SAMPLER_KERNEL_TICK_MAX_NS
			  ? pg_sampler.period_ns
			  : PG_SAMPLER_KERNEL_TICK_MAX_NS;
	return unticked > 2 * gap;
}

/*
 * Decide from the CPU the main thread and the other threads (the process
 * minus the main thread and the sampler) used since the previous wake
 * (with the process timer armed, which ticks whoever runs, only whether
 * anybody ran, unless it is behind: ptimer_behind):
 *  - other threads ran (whether or not the main thread did): ask the
 *    thread that holds the GIL to tick (3.12+), else take the GIL here
 *    (the main thread's timer ticks only per period of its own CPU time,
 *    so a main thread that runs a little, an event loop beside busy
 *    workers, left every tick to it; and signalling a blocked main
 *    thread would wake it to take the GIL from the threads that run);
 *  - only the main thread ran: its timer ticks (cpu mode), else it is
 *    signalled (its handler ticks at its next bytecode boundary); with
 *    neither (the program handles their signals, or they are off), as
 *    when others ran;
 *  - in cpu mode, a main thread that ran at all is left to its timer,
 *    which counts its CPU time however it was preempted;
 *  - nobody ran: cpu mode counts an empty tick and wakes nobody (a
 *    sleeping service stays asleep); wall mode takes the GIL.
 * A signal not yet handled is not sent again (real-time signals queue),
 * and the GIL is not taken when a tick ran less than half a period ago
 * (the tick would be skipped: pg_sampler_tick_now).
 */
static enum step decide(const struct clocks *now, const struct clocks *last)
{
	int64_t interval = now->mono - last->mono;
	int64_t main_used = clock_delta(last->main, now->main);
	int64_t main_most = clock_delta(last->main, now->main_after);
	int64_t others = clock_delta(last->process, now->process);
	int64_t self = clock_delta(last->self, now->self);
	if (others >= 0 && self >= 0 && main_most >= 0)
		others =
		    others > self + main_most ? others - self - main_most : 0;
	int pending =
	    __atomic_load_n(&pg_sampler.kicks_sent, __ATOMIC_RELAXED) !=
	    __atomic_load_n(&pg_sampler.kicks_served, __ATOMIC_RELAXED);
	int others_ran = ran(others, interval);
	int behind = ptimer_behind(now, last);
	if (pg_sampler.ptimer_ok) {
		if (!behind)
			return others_ran || ran(main_used, interval)
				   ? STEP_NONE
				   : STEP_IDLE;
		/* 3.9-3.11: a trace_tick the program replaced with its own
		 * trace function never runs (sampler_signal.c); the timer
		 * may queue again */
		if (PY_VERSION_HEX < 0x030C0000)
			__atomic_store_n(&pg_sampler.ptimer_asked, 0,
					 __ATOMIC_RELEASE);
	}
	int64_t since =
	    now->mono -
	    __atomic_load_n(&pg_sampler.last_tick_mono_ns, __ATOMIC_RELAXED);
	/* the main thread's timer or nudge: unless ticks stopped coming
	 * (its signals blocked, the GIL held in C code) */
	int waiting = pg_sampler.timer_ok || pending;
	if (!others_ran && pg_sampler.nudge_signal > 0 &&
	    ran(main_used, interval) && !(waiting && behind))
		return waiting ? STEP_NONE : STEP_KICK;
	if (!others_ran && pg_sampler.timer_ok && main_used != 0 && !behind)
		return STEP_NONE;
	/* a main thread with neither its timer nor its signal (the
	 * program took them, or they are off) ticks like the others */
	int unticked = !pg_sampler.timer_ok && pg_sampler.nudge_signal <= 0 &&
		       ran(main_used, interval);
	enum step step = others_ran || unticked	    ? STEP_ASK
			 : behind && main_used != 0 ? STEP_TAKE
			 : pg_sampler.cpu_mode	    ? STEP_IDLE
						    : STEP_TAKE;
	return step >= STEP_ASK && since < pg_sampler.period_ns / 2 ? STEP_NONE
								    : step;
}

/* Add the CPU time the program used since the last wake (the sampler
 * thread's own left out), at most the wall time between, to busy_ns. */
static void add_busy(const struct clocks *now, const struct clocks *last)
{
	int64_t used = clock_delta(last->process, now->process);
	int64_t own = clock_delta(last->self, now->self);
	int64_t interval = now->mono - last->mono;
	if (used < 0 || own < 0 || interval <= 0)
		return;
	used = used > own ? used - own : 0;
	__atomic_add_fetch(&pg_sampler.busy_ns,
			   used < interval ? used : interval, __ATOMIC_RELAXED);
}

/* A stop signal came and nothing holds it off (sampler_stop.c). */
static int stop_asked(void)
{
	return __atomic_load_n(&pg_sampler.die_signal, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&pg_sampler.holds, __ATOMIC_SEQ_CST);
}

/* Sleep until next_ns; returns early when stopped or a stop signal came. */
static void sleep_until(int64_t next_ns)
{
	struct timespec ts = {.tv_sec = next_ns / 1000000000,
			      .tv_nsec = next_ns % 1000000000};
	while (!__atomic_load_n(&pg_sampler.stop, __ATOMIC_ACQUIRE) &&
	       !stop_asked() && mono_ns() < next_ns)
		sem_clockwait(&pg_sampler.wake, CLOCK_MONOTONIC, &ts);
}

/*
 * 3.9-3.11: the sampler thread, waiting for the GIL to tick, is one of
 * every thread waiting for it; each waiter asks the holder to drop it
 * after a switch interval (5 ms by default) and the GIL then goes to any
 * waiter, so with N busy threads it waited about N intervals (4 threads
 * spinning on bytecode, 1000 Hz asked: 26 ticks a second). While it
 * waits, the switch interval is PG_SAMPLER_HURRY_US: it asks the holder
 * every 100 us, the holder hands over at its next bytecode boundary
 * (CPython's own protocol: nothing is read or written but the interval,
 * through _PyEval_SetSwitchInterval, which needs no GIL), and it wins
 * after about N handoffs (the same: 200 ticks a second). Other waiters
 * that wake meanwhile use it too; the program's own interval comes back
 * as soon as the sampler has the GIL, unless the program set another
 * meanwhile (then that one stays; one set between this thread's read and
 * write of the interval, a few instructions, is lost). The interval is
 * global before 3.12, where the sampler thread asks the holder to tick
 * instead (sampler_signal.c). PERFGUARD_SAMPLE_HURRY=0 turns this off,
 * a number sets the interval in microseconds (A/B runs).
 *
 * Each tick won that way costs the program about N handovers, so at most
 * PG_SAMPLER_HURRY_MAX_HZ waits a second are hurried (at 1000 Hz with 4
 * busy threads the program did ~10% less work per CPU-second when every
 * wait was), and only while the sampler is behind: a wait is hurried
 * only among the PG_SAMPLER_HURRY_RUN after an unhurried one that took
 * more than half a period (hurry_end). A threaded service whose workers
 * mostly wait for I/O hands the GIL over within a period anyway; hurrying
 * every wait there cost it 2.0% of its requests at 100 Hz for 2% more
 * ticks (3.11, benches/production, against 0.9-1.2% unhurried). The
 * waits between wait as CPython has them wait.
 *
 * hurry_begin: shorten the interval for a wait; the one to restore, 0.
 */
static unsigned long hurry_begin(int64_t now_ns)
{
#if PY_VERSION_HEX < 0x030C0000
	unsigned long old = _PyEval_GetSwitchInterval();
	if (!pg_sampler.hurry || old <= pg_sampler.hurry_us ||
	    pg_sampler.hurry_left <= 0 ||
	    now_ns - pg_sampler.hurry_last_ns <
		1000000000 / PG_SAMPLER_HURRY_MAX_HZ)
		return 0;
	pg_sampler.hurry_left--;
	pg_sampler.hurry_last_ns = now_ns;
	__atomic_store_n(&pg_sampler.hurry_saved_us, old, __ATOMIC_RELAXED);
	_PyEval_SetSwitchInterval(pg_sampler.hurry_us);
	return old;
#else
	(void)now_ns;
	return 0;
#endif
}

/* After a wait of waited_ns: the program's interval back (see
 * hurry_begin); an unhurried wait longer than half a period starts a run
 * of hurried ones. */
static void hurry_end(unsigned long old_us, int64_t waited_ns)
{
#if PY_VERSION_HEX < 0x030C0000
	if (old_us && _PyEval_GetSwitchInterval() == pg_sampler.hurry_us)
		_PyEval_SetSwitchInterval(old_us);
	__atomic_store_n(&pg_sampler.hurry_saved_us, 0, __ATOMIC_RELAXED);
	if (!old_us && waited_ns > pg_sampler.period_ns / 2)
		pg_sampler.hurry_left = PG_SAMPLER_HURRY_RUN;
#else
	(void)old_us;
	(void)waited_ns;
#endif
}

/* Take the GIL, tick when asked (and end the window when due); returns
 * the ended window for the caller to write without the GIL. */
static struct pg_sampler_window *take_and_tick(PyThreadState *self, int do_tick)
{
	/* no clock is read with the GIL held; an asked tick still pending
	 * owns pre (its readings, if it has not run, are used here) */
	if (do_tick && !__atomic_load_n(&pg_sampler.asked_ns, __ATOMIC_ACQUIRE))
		pg_sampler_pre_read();
	int64_t now = mono_ns();
	struct pg_sampler_window *ended = NULL;
	unsigned long old_us = do_tick ? hurry_begin(now) : 0;
	PyEval_RestoreThread(self);
	int64_t waited = mono_ns() - now;
	hurry_end(old_us, waited);
	pg_sampler.gil_wait_ns += waited;
	pg_sampler.live->gil_wait_ns += waited;
	if (!pg_sampler.stop) {
		if (do_tick && pg_sampler_tick_now(PG_TICK_PRE))
			pg_sampler.ticks_thread++;
		if (now >= pg_sampler.window_end_mono_ns)
			ended = pg_sampler_end_window();
	}
	pg_sampler.pre_read = 0;
	PyEval_SaveThread();
	return ended;
}

/*
 * The next wake: one period on, or, while the sampler thread has had
 * nothing to do, up to 8 periods (at least 50 ms) on, doubling; never
 * past the window's end.
 */
static int64_t next_wake(int64_t now_ns, int64_t *sleep_ns, enum step step)
{
	int64_t cap = 8 * pg_sampler.period_ns > 50000000
			  ? 8 * pg_sampler.period_ns
			  : 50000000;
	if (step == STEP_NONE || step == STEP_IDLE)
		*sleep_ns = 2 * *sleep_ns < cap ? 2 * *sleep_ns : cap;
	else
		*sleep_ns = pg_sampler.period_ns;
	int64_t next = now_ns + *sleep_ns;
	int64_t end =
	    __atomic_load_n(&pg_sampler.window_end_mono_ns, __ATOMIC_RELAXED);
	return next > end && end > now_ns ? end : next;
}

static void *sampler_main(void *arg)
{
	(void)arg;
	PyGILState_STATE g = PyGILState_Ensure();
	pg_sampler.tstate = PyThreadState_Get();
	PyThreadState *self = PyEval_SaveThread();
	struct clocks last, now;
	read_clocks(&last);
	int64_t sleep_ns = pg_sampler.period_ns, next = last.mono + sleep_ns;
	for (;;) {
		sleep_until(next);
		if (__atomic_load_n(&pg_sampler.stop, __ATOMIC_ACQUIRE))
			break;
		if (stop_asked())
			pg_sampler_serve_stop(self);
		if (pg_sampler_finalizing())
			break;
		read_clocks(&now);
		enum step step = decide(&now, &last);
		add_busy(&now, &last);
		int64_t last_mono = last.mono;
		last = now;
		if (step == STEP_IDLE) {
			/* the periods slept through, in ticks */
			int64_t n =
			    (now.mono - last_mono) / pg_sampler.period_ns;
			n = n > 0 ? n : 1;
			__atomic_add_fetch(&pg_sampler.idle_ticks, (uint64_t)n,
					   __ATOMIC_RELAXED);
			pg_sampler.ticks_idle += (uint64_t)n;
		} else if (step == STEP_KICK) {
			__atomic_add_fetch(&pg_sampler.kicks_sent, 1,
					   __ATOMIC_RELAXED);
			if (syscall(SYS_tgkill, pg_sampler.pid,
				    pg_sampler.main_tid,
				    pg_sampler.nudge_signal))
				__atomic_add_fetch(&pg_sampler.kicks_served, 1,
						   __ATOMIC_RELAXED);
		}
		if (step == STEP_ASK && !pg_sampler_ask_holder(now.mono))
			step = STEP_TAKE;
		struct pg_sampler_window *ended = NULL;
		if (step == STEP_TAKE ||
		    now.mono >= __atomic_load_n(&pg_sampler.window_end_mono_ns,
						__ATOMIC_RELAXED))
			ended = take_and_tick(self, step == STEP_TAKE);
		if (ended)
			pg_sampler_finish_window(ended);
		/* as of this wake (one clock read a wake, not two) */
		pg_sampler.thread_cpu_ns = now.self;
		next = next_wake(mono_ns(), &sleep_ns, step);
	}
	pg_sampler_thread_leaves();
	pg_sampler.thread_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	PyEval_RestoreThread(self);
	pg_sampler.tstate = NULL;
	PyGILState_Release(g);
	return NULL;
}

int pg_sampler_spawn_thread(void)
{
	sem_init(&pg_sampler.wake, 0, 0);
	pg_sampler.stop = 0;
	__atomic_store_n(&pg_sampler.thread_alive, 1, __ATOMIC_SEQ_CST);
	sigset_t all, old;
	sigfillset(&all);
	/* The sampler thread never takes the program's signals. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&pg_sampler.thread, NULL, sampler_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pg_sampler_thread_leaves();
		return -1;
	}
	pg_sampler.running = 1;
	pg_sampler.pid = getpid();
	return 0;
}

/* Stop and join the thread (GIL held; released while joining). */
void pg_sampler_join_thread(void)
{
	if (!pg_sampler.running)
		return;
	__atomic_store_n(&pg_sampler.stop, 1, __ATOMIC_RELEASE);
	sem_post(&pg_sampler.wake);
	Py_BEGIN_ALLOW_THREADS pthread_join(pg_sampler.thread, NULL);
	Py_END_ALLOW_THREADS pg_sampler.running = 0;
}

/* Start a new, empty live window now (GIL held, thread not running). */
void pg_sampler_fresh_window(void)
{
	pg_sampler_window_drop_codes(pg_sampler.live);
	pg_sampler_window_reset(pg_sampler.live, unix_ns());
	pg_sampler_seed_clocks();
	__atomic_store_n(&pg_sampler.idle_ticks, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&pg_sampler.busy_ns, 0, __ATOMIC_RELAXED);
	pg_sampler.main_clock_ok =
	    pthread_getcpuclockid(pg_sampler.main_thread,
				  &pg_sampler.main_clock) == 0;
	pg_sampler.main_tid =
	    pthread_equal(pthread_self(), pg_sampler.main_thread)
		? (pid_t)syscall(SYS_gettid)
		: 0;
	if (!pg_sampler
		 .main_tid) /* the signal is sent to the main thread only */
		pg_sampler.nudge_signal = 0;
	pg_sampler.last_tick_mono_ns = mono_ns();
	pg_sampler.window_end_mono_ns =
	    pg_sampler.last_tick_mono_ns + pg_sampler.window_ns;
}

/* Intern *slot from c once (GIL held; a failure leaves it NULL). */
static void intern_once(PyObject **slot, const char *c)
{
	if (!*slot)
		*slot = PyUnicode_InternFromString(c);
}

/* Keep start()'s describe and the names the tick looks threads and
 * asyncio's tasks up by (GIL held). */
static void keep_callables(PyObject *describe)
{
	Py_XINCREF(describe);
	Py_XSETREF(pg_sampler.describe, describe);
	intern_once(&pg_sampler.str_threading, "threading");
	intern_once(&pg_sampler.str_active, "_active");
	intern_once(&pg_sampler.str_limbo, "_limbo");
	intern_once(&pg_sampler.str_ident, "_ident");
	intern_once(&pg_sampler.str_tasks_mod, "asyncio.tasks");
	intern_once(&pg_sampler.str_current_tasks, "_current_tasks");
	intern_once(&pg_sampler.str_asyncio_c, "_asyncio");
	intern_once(&pg_sampler.str_task, "Task");
	intern_once(&pg_sampler.str_get_name, "get_name");
	intern_once(&pg_sampler.str_thread_id, "_thread_id");
	intern_once(&pg_sampler.str_name, "_name");
	PyErr_Clear();
}

/*
 * _sampler_start(out_dir, rate_hz, cpu_mode, window_s, labels, describe,
 * call_ops, nudge_signal[, main_ident]): labels is a str of "label KEY
 * VALUE" lines; call_ops a 256-byte bytes (1 where the opcode calls);
 * nudge_signal a signal number with a no-op Python handler, or 0.
 */
static PyObject *m_start(PyObject *self, PyObject *args)
{
	PyObject *out, *describe;
	const char *labels;
	int rate, cpu, nudge_signal;
	unsigned long main_ident = 0;
	double window_s;
	Py_buffer ops;
	(void)self;
	if (!PyArg_ParseTuple(args, "O&ipdsOy*i|k", PyUnicode_FSConverter, &out,
			      &rate, &cpu, &window_s, &labels, &describe, &ops,
			      &nudge_signal, &main_ident))
		return NULL;
	PyObject *ret = NULL;
	if (pg_sampler.running && pg_sampler.pid == getpid()) {
		PyErr_SetString(PyExc_RuntimeError,
				"the sampler is already running");
		goto out;
	}
	if (rate < 1 || rate > 10000 || !(window_s >= 0.01) || ops.len != 256) {
		PyErr_SetString(PyExc_ValueError,
				"rate must be 1..10000 Hz, window >= 10 ms");
		goto out;
	}
	static int atfork_done;
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, pg_sampler_atfork_child);
		atfork_done = 1;
	}
	free(pg_sampler.out_dir);
	free(pg_sampler.labels);
	pg_sampler.out_dir = strdup(PyBytes_AS_STRING(out));
	pg_sampler.labels = strdup(labels);
	keep_callables(describe);
	memcpy(pg_sampler.call_ops, ops.buf, 256);
	pg_sampler.rate_hz = rate;
	pg_sampler.cpu_mode = cpu;
	pg_sampler.nudge_signal = nudge_signal;
	/* the main thread's ident (threading.main_thread().ident) */
	pg_sampler.main_thread =
	    main_ident ? (pthread_t)main_ident : pthread_self();
	pg_sampler.period_ns = 1000000000LL / rate;
	pg_sampler.window_ns = (int64_t)(window_s * 1e9);
	if (gethostname(pg_sampler.host, sizeof(pg_sampler.host) - 1))
		strcpy(pg_sampler.host, "?");
	snprintf(pg_sampler.python, sizeof(pg_sampler.python), "%.*s",
		 (int)strcspn(Py_GetVersion(), " "), Py_GetVersion());
	if (!pg_sampler.live)
		pg_sampler.live = pg_sampler_window_new();
	if (!pg_sampler.spare)
		pg_sampler.spare = pg_sampler_window_new();
	if (!pg_sampler.out_dir || !pg_sampler.labels || !pg_sampler.live ||
	    !pg_sampler.spare) {
		PyErr_NoMemory();
		goto out;
	}
	pg_sampler_fresh_window();
	pg_sampler_find_ask();
	if (pg_sampler_spawn_thread()) {
		PyErr_SetString(PyExc_OSError,
				"cannot start the sampler thread");
		goto out;
	}
	pg_sampler_arm_timer();
	ret = Py_None;
	Py_INCREF(ret);
out:
	PyBuffer_Release(&ops);
	Py_DECREF(out);
	return ret;
}

/* _sampler_stop(): stop the thread and write the last window. */
static PyObject *m_stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!pg_sampler.running || pg_sampler.pid != getpid())
		Py_RETURN_FALSE;
	pg_sampler_hold();
	pg_sampler_disarm_timer();
	pg_sampler_join_thread();
	struct pg_sampler_window *w = pg_sampler_end_window();
	if (w)
		pg_sampler_finish_window(w);
	pg_sampler_release();
	Py_RETURN_TRUE;
}

/* _sampler_flush(): end the current window now and write it. */
static PyObject *m_flush(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (!pg_sampler.running || pg_sampler.pid != getpid())
		Py_RETURN_FALSE;
	pg_sampler_hold();
	struct pg_sampler_window *w = pg_sampler_end_window();
	if (w)
		pg_sampler_finish_window(w);
	pg_sampler_release();
	return PyBool_FromLong(w != NULL);
}

/* _sampler_info(): the live window's counters and the sampler's own
 * costs (ns) and tick counts since start. */
static PyObject *m_info(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	struct pg_sampler_window *w = pg_sampler.live;
	PyObject *d = PyDict_New();
	if (!d)
		return NULL;
	uint64_t due = 0, taken = 0;
	if (w)
		pg_sampler_achieved_hz(w, unix_ns(), &due, &taken);
	struct {
		const char *key;
		unsigned long long v;
	} u[] = {
	    {"ticks", w ? w->ticks + __atomic_load_n(&pg_sampler.idle_ticks,
						     __ATOMIC_RELAXED)
			: 0},
	    {"samples", w ? w->samples : 0},
	    {"overflow", w ? w->overflow : 0},
	    {"windows_written", pg_sampler.windows_written},
	    {"write_errors", pg_sampler.write_errors},
	    {"stacks", w ? w->nstacks : 0},
	    {"functions", w ? w->nfuncs : 0},
	    {"gil_wait_ns", (unsigned long long)pg_sampler.gil_wait_ns},
	    {"tick_ns", (unsigned long long)pg_sampler.tick_ns},
	    {"thread_cpu_ns", (unsigned long long)pg_sampler.thread_cpu_ns},
	    {"ticks_main", pg_sampler.ticks_main},
	    {"ticks_thread", pg_sampler.ticks_thread},
	    {"ticks_idle", pg_sampler.ticks_idle},
	    {"ticks_asked", pg_sampler.ticks_asked},
	    {"ticks_timer", pg_sampler.ticks_timer},
	    {"asks", pg_sampler.asks},
	    {"signals_sent", pg_sampler.kicks_sent},
	    {"ticks_due", due},
	    {"ticks_taken", taken},
	};
	int rc = PyDict_SetItemString(
	    d, "running",
	    pg_sampler.running && pg_sampler.pid == getpid() ? Py_True
							     : Py_False);
	for (size_t i = 0; rc == 0 && i < sizeof(u) / sizeof(u[0]); i++) {
		PyObject *v = PyLong_FromUnsignedLongLong(u[i].v);
		rc = v ? PyDict_SetItemString(d, u[i].key, v) : -1;
		Py_XDECREF(v);
	}
	if (rc) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

static PyMethodDef sampler_methods[] = {
    {"_sampler_nudged", pg_sampler_py_nudged, METH_VARARGS,
     "The handler of the sampler's signal: a tick on the main thread."},
    {"_sampler_start", m_start, METH_VARARGS,
     "Start the sampler thread (perfguard.sampler.start)."},
    {"_sampler_stop", m_stop, METH_NOARGS,
     "Stop the sampler and write the last window."},
    {"_sampler_after_fork", pg_sampler_py_after_fork, METH_NOARGS,
     "Re-arm the sampler in a forked child."},
    {"_sampler_flush", m_flush, METH_NOARGS,
     "End the current window now and write it."},
    {"_sampler_pause", pg_sampler_py_pause, METH_NOARGS,
     "Stop the thread before fork, keeping the window."},
    {"_sampler_resume", pg_sampler_py_resume, METH_NOARGS,
     "Restart the thread after fork in the parent."},
    {"_sampler_info", m_info, METH_NOARGS, "The sampler's counters."},
    {"_sampler_signal_taken", pg_sampler_py_signal_taken, METH_VARARGS,
     "The program handles a signal: the sampler stops using it."},
    {"_sampler_catch_stop", pg_sampler_py_catch_stop, METH_VARARGS,
     "Write the window, then die, on a stop signal left at default."},
    {NULL, NULL, 0, NULL},
};

int pg_sampler_add_to_module(PyObject *m)
{
	return PyModule_AddFunctions(m, sampler_methods);
}
