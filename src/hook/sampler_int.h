/*
 * sampler_int.h - what the production sampler's files share; not an
 * interface of the hook (sampler.h is). The sampler is one global state
 * (pg_sampler) and a pair of windows of bounded tables, split by purpose:
 *
 *   sampler.c         the sampler thread (when to tick, who ticks), start,
 *                     stop, flush and info for Python
 *   sampler_signal.c  ticks on the main thread (signal handler, CPU-time
 *                     timer), on the GIL's holder (a pending call, 3.12+;
 *                     the process timer's one-shot trace function, 3.9-3.11)
 *                     and fork handling
 *   sampler_walk.c    one tick: every thread's CPU clock and stack
 *   sampler_table.c   a window's tables: functions, stacks, threads,
 *                     tasks, line cache
 *   sampler_export.c  ending a window: describing it and writing its file
 *   sampler_stop.c    SIGTERM, SIGHUP...: the window written, then death
 *   sampler_pending.c CPython's internal state: a thread's frame chain,
 *                     pending calls, 3.9's count of traced threads
 *
 * Locking: the live window and the tick state are touched only with the
 * GIL held; pg_sampler.mu guards the spare window; fields read by the
 * sampler thread without the GIL are marked atomic, and the thread
 * sleeps on a semaphore (wake), which a signal handler may post.
 */
#ifndef PERFGUARD_HOOK_SAMPLER_INT_H
#define PERFGUARD_HOOK_SAMPLER_INT_H

#include "sampler.h"
#include "sampler_pending.h"

#include <frameobject.h>

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#define PG_SAMPLER_MAX_DEPTH   128
#define PG_SAMPLER_MAX_FUNCS   16384
#define PG_SAMPLER_FUNC_SLOTS  (PG_SAMPLER_MAX_FUNCS * 2)
#define PG_SAMPLER_MAX_STACKS  8192
#define PG_SAMPLER_STACK_SLOTS (PG_SAMPLER_MAX_STACKS * 2)
#define PG_SAMPLER_MAX_FRAMES  (1u << 18)
#define PG_SAMPLER_LINE_SLOTS  8192
#define PG_SAMPLER_MAX_THREADS 512 /* running at once */
/* threads a window names: a thread per request ends and another takes
 * its ident all the time (a slot each, sampler_table.c) */
#define PG_SAMPLER_WINDOW_THREADS 8192
#define PG_SAMPLER_THREAD_SLOTS	  (PG_SAMPLER_WINDOW_THREADS * 2)
#define PG_SAMPLER_MAX_TASKS	  1024
#define PG_SAMPLER_MAX_LABEL	  256
/* 3.9-3.11: the GIL's switch interval while the sampler thread waits
 * for it (sampler.c, hurry_begin), microseconds */
#define PG_SAMPLER_HURRY_US 100
/* ... and at most this many of its waits a second are hurried: the
 * default rate, at which hurrying cost nothing measurable; above it the
 * handovers it forces would cost the program per tick (sampler.c) */
#define PG_SAMPLER_HURRY_MAX_HZ 100
/* ... and only while behind: after an unhurried wait of more than half a
 * period, this many waits are hurried, then one is not (a probe) */
#define PG_SAMPLER_HURRY_RUN 8
/* The kernel checks CPU timers at its clock tick (CONFIG_HZ, 100 at the
 * lowest): the longest gap between two ticks of a CPU-time timer that
 * runs, ns; the process timer is behind only past twice this (sampler.c,
 * ptimer_behind) */
#define PG_SAMPLER_KERNEL_TICK_MAX_NS 10000000

enum {
	PG_SAMPLE_IDLE = 1u << 0,      /* wall mode: the thread did not run */
	PG_SAMPLE_NATIVE = 1u << 1,    /* the leaf frame is in a C function */
	PG_SAMPLE_TRUNCATED = 1u << 2, /* deeper than PG_SAMPLER_MAX_DEPTH */
};

struct pg_sampler_frame {
	uint32_t func;
	int32_t line;
};

struct pg_sampler_stack {
	uint64_t hash;
	uint32_t first, depth; /* frames[first .. first+depth), root first */
	uint32_t thread;       /* thread slot */
	int32_t task;	       /* task slot, -1 for none */
	uint32_t flags;
	uint64_t count;
	int64_t value_ns;
};

struct pg_sampler_line { /* a line number cache entry */
	const void *code;
	int32_t lasti, line;
};

struct pg_sampler_thread {
	unsigned long ident;
	char *name;
	int tries; /* name lookups that found none */
	int ended; /* its thread ended or was renamed: the slot is kept for
		    * its samples, and a later thread with its ident gets a
		    * new one */
	int gone;  /* its name is gone from threading's (it is ending): not
		    * looked up again for a rename */
};

struct pg_sampler_window {
	int64_t start_ns, end_ns; /* unix time */
	PyObject **codes;	  /* nfuncs strong references */
	char **ids, **files;	  /* descriptions (after describe) */
	int *lines;
	uint32_t nfuncs;
	const void *
	    *fkeys; /* PG_SAMPLER_FUNC_SLOTS: code pointer, NULL = empty */
	uint32_t *fvals;
	struct pg_sampler_frame *frames;
	uint32_t nframes;
	struct pg_sampler_stack *stacks;
	uint32_t nstacks;
	uint32_t
	    *sslots; /* PG_SAMPLER_STACK_SLOTS: stack index + 1, 0 = empty */
	struct pg_sampler_line
	    *line_cache; /* PG_SAMPLER_LINE_SLOTS, direct-mapped */
	struct pg_sampler_thread *threads; /* PG_SAMPLER_WINDOW_THREADS */
	/* PG_SAMPLER_THREAD_SLOTS, open addressing by ident: 1 + the newest
	 * slot of an ident (the only one not ended), 0 empty */
	uint32_t *tslots;
	uint32_t nthreads;
	uint32_t named; /* threads[0..named) need no name lookup */
	char *tasks[PG_SAMPLER_MAX_TASKS];
	uint32_t ntasks;
	uint64_t ticks, samples, overflow, errors;
	/* of ticks: cpu mode's empty ones (nobody ran), those the main
	 * thread's signal handler ran, and those the process timer queued */
	uint64_t idle, main_ticks, timer_ticks;
	int64_t gil_wait_ns; /* the sampler thread's wait for the GIL */
	int64_t busy_ns;     /* cpu mode: time the program ran (see busy) */
};

/* A thread's CPU clock as the sampler thread last saw it, and its
 * reading taken before the sampler thread took the GIL (see
 * pg_sampler_pre_read). Touched by the sampler thread only. */
struct pg_sampler_pre {
	unsigned long ident;
	clockid_t clock;
	int64_t ns; /* -1: not read */
};

/* Per-thread CPU clock readings, across windows. */
struct pg_sampler_cpu {
	unsigned long ident;
	clockid_t clock; /* names the kernel's thread */
	int64_t last_cpu_ns;
	uint64_t seen_tick;
};

struct pg_sampler_state {
	int running;
	int paused; /* stopped around os.fork() */
	int stop;   /* atomic: the thread is asked to end */
	pthread_t thread;
	pthread_mutex_t mu;
	sem_t wake; /* posted to wake the sampler thread */
	/* atomic (sampler_stop.c): the stop signal to die by once the
	 * window is written, 0; calls under way that hold it off; whether
	 * the sampler thread runs its loop */
	int die_signal, holds, thread_alive;
	pid_t pid;
	/* configuration */
	int rate_hz;
	int cpu_mode;
	int64_t period_ns, window_ns;
	char *out_dir;
	char *labels; /* "label k v\n" lines for the window header */
	char host[256];
	char python[32];  /* "3.12.1" */
	int nudge_signal; /* see pg_sampler_py_nudged(); 0 = none */
	pid_t main_tid;	  /* when nudge_signal > 0 */
	timer_t timer;	  /* cpu mode: on the main thread's CPU clock */
	int timer_ok;
	/* cpu mode: the process timer (on the process's CPU clock,
	 * its signal taken by the thread that runs), and whether the tick
	 * it asked for is pending (atomic) */
	timer_t ptimer;
	int ptimer_ok, ptimer_asked;
	int ptimer_signal; /* its signal, once armed */
	/* 3.9-3.11: where the process timer's signal found the thread whose
	 * trace_tick it armed (see queue_tick); while trace_tick's own tick
	 * runs, site_ts is that thread (else NULL), and its sample starts
	 * at site */
	const PyThreadState *site_ts;
	struct pg_sampler_raw site;
	uint64_t ticks_timer; /* ticks the process timer asked for */
	pthread_t main_thread;
	PyObject
	    *describe; /* describe(code, None, False) -> (id, file, line) */
	/* interned names the tick looks threads and asyncio's running tasks
	 * up by */
	PyObject *str_tasks_mod, *str_current_tasks, *str_asyncio_c, *str_task,
	    *str_get_name, *str_thread_id, *str_name, *str_threading,
	    *str_active, *str_limbo, *str_ident;
	unsigned char call_ops[256]; /* opcodes that call */
	/* state */
	struct pg_sampler_window *live, *spare;
	struct pg_sampler_cpu cpu[PG_SAMPLER_MAX_THREADS];
	uint32_t ncpu;
	uint64_t tick_no;
	uint32_t rename_next;	   /* the cpu[] name_threads looks up again */
	int64_t last_tick_mono_ns; /* atomic: read by the sampler thread */
	uint64_t windows_written, write_errors;
	int64_t gil_wait_ns;   /* time spent waiting for the GIL */
	int64_t tick_ns;       /* wall time ticks held the GIL */
	int64_t thread_cpu_ns; /* CPU time of the sampler thread */
	uint64_t idle_ticks;   /* cpu mode: periods nobody ran (atomic) */
	/* atomic: the sampler thread's sum, over its wakes, of the CPU time
	 * the program's threads used (its own left out), each wake's at
	 * most the wall time since the last: the time the program ran,
	 * during which cpu mode owes a tick every period */
	int64_t busy_ns;
	uint64_t ticks_main, ticks_thread, ticks_idle; /* since start */
	uint64_t ticks_asked, asks; /* see pg_sampler_ask_holder */
	/* 3.9-3.11: shorten the switch interval to hurry_us while the
	 * sampler thread waits for the GIL (sampler.c, hurry_begin); the
	 * program's interval while it is shortened, else 0 (atomic: read
	 * at fork) */
	int hurry;
	unsigned long hurry_us, hurry_saved_us;
	int64_t hurry_last_ns; /* when the last hurried wait began */
	int hurry_left;	       /* waits still to hurry before a probe */
	/* 3.12+: _PyEval_AddPendingCall when the interpreter exports it,
	 * else NULL; the interpreter the sampler was started in */
	int (*add_pending)(PyInterpreterState *, int (*)(void *), void *, int);
	PyInterpreterState *interp;
	int64_t asked_ns;     /* atomic: when the pending tick was asked, 0 */
	clockid_t main_clock; /* the main thread's CPU clock */
	int main_clock_ok;
	int64_t window_end_mono_ns;
	int describing; /* a window's functions are being described */
	uint64_t kicks_sent, kicks_served; /* signals to the main thread */
	PyThreadState *tstate;		   /* the sampler thread's own */
	struct pg_sampler_pre pre[PG_SAMPLER_MAX_THREADS];
	uint32_t npre;
	int pre_read;		/* pre[].ns were read for the coming tick */
	int64_t pre_process_ns; /* ... and the process's CPU clock then */
	uint64_t pre_tick_no;	/* ... and tick_no then */
	/* cpu mode: the process's CPU clock at the last tick, the CPU time
	 * no thread seen used since (sampler_walk.c, cpu_of_others), and
	 * the sampler thread's CPU clock at the last tick */
	int64_t process_cpu_ns, others_ns, own_cpu_ns;
};

extern struct pg_sampler_state pg_sampler;

static inline int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Clock c in ns, -1 when it cannot be read. */
static inline int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int pg_sampler_finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
	return Py_IsFinalizing();
#else
	return _Py_IsFinalizing();
#endif
}

static inline int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- sampler_table.c ------------------------------------------------- */

/* A new empty window with all its tables, or NULL (out of memory). */
struct pg_sampler_window *pg_sampler_window_new(void);
/* Free w and its strings (its code references must be dropped). */
void pg_sampler_window_free(struct pg_sampler_window *w);
/* Empty w for a window starting at start_ns (unix ns). */
void pg_sampler_window_reset(struct pg_sampler_window *w, int64_t start_ns);
/* Drop w's code references (GIL held). */
void pg_sampler_window_drop_codes(struct pg_sampler_window *w);
/* The function index of code in w (a reference taken when new), or
 * UINT32_MAX when the table is full. */
uint32_t pg_sampler_func_intern(struct pg_sampler_window *w, PyObject *code);
/* The line of code at byte offset lasti (-1: its first line), cached per
 * window when held (w holds a reference to code). */
int32_t pg_sampler_line_of(struct pg_sampler_window *w, PyCodeObject *code,
			   int lasti, int held);
/* A malloc'd copy (at most PG_SAMPLER_MAX_LABEL bytes) of str s, NULL. */
char *pg_sampler_dup_utf8(PyObject *s);
/* The name of thread ident (threading's Thread, read in C: no Python
 * code runs), malloc'd, or NULL (GIL held; errors cleared). */
char *pg_sampler_thread_name(unsigned long ident);
/* fn(Py_BuildValue(fmt, ...)), errors cleared: a new reference or NULL. */
PyObject *pg_sampler_call_quiet(PyObject *fn, const char *fmt, ...);
/* The slot of thread ident in w (added, unnamed, when new), UINT32_MAX
 * when the table is full (its samples are then overflow). */
uint32_t pg_sampler_thread_slot(struct pg_sampler_window *w,
				unsigned long ident);
/* The slot of ident in w that is not ended, UINT32_MAX. */
uint32_t pg_sampler_thread_find(const struct pg_sampler_window *w,
				unsigned long ident);
/* The thread of ident's slot in w ended (a new thread has its ident) or
 * was renamed: the slot keeps its samples and name, and ident's next
 * samples go to a new slot. */
void pg_sampler_thread_ended(struct pg_sampler_window *w, unsigned long ident);
/* The slot of task name (a str) in w, or -1. */
int32_t pg_sampler_task_slot(struct pg_sampler_window *w, PyObject *name);
/* Add one sample of stack fr[0..depth) (leaf first) to w; counted as
 * overflow when the stack table is full. */
void pg_sampler_add_sample(struct pg_sampler_window *w,
			   const struct pg_sampler_frame *fr, uint32_t depth,
			   uint32_t thread, int32_t task, uint32_t flags,
			   int64_t value_ns);

/* ---- sampler_walk.c -------------------------------------------------- */

/* How a tick came (pg_sampler_tick's how, bits). */
enum {
	/* the sampler thread runs or asked for it, and owns pg_sampler.pre */
	PG_TICK_PRE = 1,
	/* the process timer's: the thread that runs it was running */
	PG_TICK_PTIMER = 2,
};

/* One tick into the live window (GIL held): a sample of every thread but
 * self; elapsed_ns since the previous tick. With PG_TICK_PRE it uses the
 * CPU clock readings of pg_sampler_pre_read where it has them, and keeps
 * the threads' clocks for the next one; with PG_TICK_PTIMER (cpu mode)
 * the running thread's sample also gets the CPU time of the threads not
 * seen (ended since the previous tick, or not Python's). */
void pg_sampler_tick(const PyThreadState *self, int64_t elapsed_ns, int how);
/* Sampler thread, without the GIL, while no asked tick is pending: read
 * the CPU clocks of the threads the last tick saw (a few µs each, a
 * system call), so that the tick it runs or asks for next does not read
 * them with the GIL held. */
void pg_sampler_pre_read(void);

/* Note the CPU clocks of the threads there now (GIL held; at start and
 * in a forked child): the threads a tick meets for the first time began
 * after it, their whole CPU time since the previous tick. */
void pg_sampler_seed_clocks(void);

/* ---- sampler_export.c ------------------------------------------------ */

/*
 * The rate w achieved (GIL held, or w ended): *due, the ticks the asked
 * rate owed over the window (its length in wall mode, the time the
 * program ran in cpu mode, in periods); *taken, the ticks that sampled
 * (cpu mode's empty ticks left out); returns rate_hz * taken / due, at
 * most rate_hz, and rate_hz when nothing was due. end_ns: the window's
 * end (unix ns), or now for the live window.
 */
double pg_sampler_achieved_hz(const struct pg_sampler_window *w, int64_t end_ns,
			      uint64_t *due, uint64_t *taken);

/* End the live window now (GIL held): the ended window, described, for
 * pg_sampler_finish_window; NULL when out of memory (it goes on). */
struct pg_sampler_window *pg_sampler_end_window(void);
/* Write an ended window and keep it as the spare (no GIL needed). */
void pg_sampler_finish_window(struct pg_sampler_window *w);

/* ---- sampler_signal.c ------------------------------------------------ */

/* One tick now unless one ran less than half a period ago (GIL held);
 * returns whether it ticked. how: see pg_sampler_tick. */
int pg_sampler_tick_now(int how);
/*
 * cpu mode: the timer that ticks. On 3.9, 3.10 and 3.12+ unless
 * PERFGUARD_SAMPLE_CPU_SIGNAL=0: the process timer, on the
 * process's CPU clock, whose signal the thread that runs takes; else, on
 * the main thread, the timer on its CPU clock that sends the tick signal
 * every period of its CPU time.
 */
void pg_sampler_arm_timer(void);
void pg_sampler_disarm_timer(void);
/*
 * Sampler thread, without the GIL (3.12+): instead of taking the GIL,
 * ask the thread that holds it to tick at its next eval-breaker check, a
 * pending call that any thread of the interpreter may run; no thread
 * switch. 1 when asked, or asked less than a period ago and not yet
 * served (nothing to do); 0 when the sampler thread should take the GIL
 * itself: before 3.12 (pending calls run on the main thread only), when
 * the interpreter does not export the call, when the queue is full, and
 * when nobody served the call within a period (every thread blocked, or
 * running C code without the GIL).
 */
int pg_sampler_ask_holder(int64_t now_ns);
/* Look up _PyEval_AddPendingCall (3.12+; PERFGUARD_SAMPLE_ASK=0: do not
 * use it) for the current interpreter, and on 3.9-3.11 whether to hurry
 * the GIL's handover (PERFGUARD_SAMPLE_HURRY=0: not) (GIL held). */
void pg_sampler_find_ask(void);
/* pthread_atfork child handler: the thread and timer are gone. */
void pg_sampler_atfork_child(void);
/* The Python functions _sampler_nudged (the signal's handler),
 * _sampler_after_fork, _sampler_pause, _sampler_resume and
 * _sampler_signal_taken. */
PyObject *pg_sampler_py_nudged(PyObject *self, PyObject *args);
PyObject *pg_sampler_py_after_fork(PyObject *self, PyObject *unused);
PyObject *pg_sampler_py_pause(PyObject *self, PyObject *unused);
PyObject *pg_sampler_py_resume(PyObject *self, PyObject *unused);
PyObject *pg_sampler_py_signal_taken(PyObject *self, PyObject *args);

/* ---- sampler_stop.c -------------------------------------------------- */

/* Kill the process by sig at its default action (any thread; also from
 * a signal handler). */
void pg_sampler_die_by(int sig);
/* Hold off a stop signal: stop, flush and the pause around fork, which
 * write the window or restart the thread, call these around it (GIL
 * held); a signal that came meanwhile is acted on at the last release
 * (the thread, if it runs, writes the rest; else the process dies). */
void pg_sampler_hold(void);
void pg_sampler_release(void);
/* The sampler thread, leaving its loop: not alive any more (a stop
 * signal that came with nobody to write kills now). */
void pg_sampler_thread_leaves(void);
/* The sampler thread, woken by a stop signal (no GIL): take the GIL,
 * end and write the window, die by the signal; never returns. */
void pg_sampler_serve_stop(PyThreadState *self);
/* _sampler_catch_stop(signum): give signum (SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 or SIGALRM; ValueError else) the stop handler when it
 * has its default action; True when the handler is in place. */
PyObject *pg_sampler_py_catch_stop(PyObject *self, PyObject *args);

/* ---- sampler.c ------------------------------------------------------- */

/* Start a new, empty live window now (GIL held, thread not running). */
void pg_sampler_fresh_window(void);
/* Start the sampler thread: 0, or -1. */
int pg_sampler_spawn_thread(void);
/* Stop and join the thread (GIL held; released while joining). */
void pg_sampler_join_thread(void);

#endif
