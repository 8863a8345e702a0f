/*
 * sampler_stop.c - a service stopped by SIGTERM or SIGHUP keeps its last
 * window, and so does one killed by a signal it does not handle that
 * record passes on (SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM: a reload signal
 * it does not know). `perfguard record` gives these signals, where the
 * program
 * leaves them at their default action (death), a C handler
 * (_sampler_catch_stop). The handler only notes the signal and wakes the
 * sampler thread (both async-signal-safe), which takes the GIL, ends and
 * writes the window, and then kills the process by the same signal, so
 * its parent sees the death it would have seen. A Python-level handler
 * could not do this: Python runs one only when the main thread's blocking
 * C call returns, and an idle worker blocked in sem_wait() held its
 * process (and its parent's waitpid) for good.
 *
 * Calls that write the window or restart the sampler thread themselves
 * (stop, flush, the pause around fork) hold the signal off
 * (pg_sampler_hold): one that comes during them is acted on when the
 * last of them ends, so a signal during exit's write (Pool.terminate()
 * ending workers that are exiting) waits for that write. With nobody to
 * write (the sampler stopped), the signal kills at once. A program that
 * sets its own handler replaces this one; Python's signal.getsignal()
 * still reads SIG_DFL, which is what the program set.
 *
 * A main thread that holds the GIL in a C call that does not return
 * would keep the sampler thread waiting: a watchdog thread kills the
 * process PG_SAMPLER_STOP_WAIT_S seconds after the signal, saying that
 * the window in progress was lost.
 */
#include "sampler_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Seconds the sampler thread may take to write the window after a stop
 * signal before the watchdog kills the process without it. */
#define PG_SAMPLER_STOP_WAIT_S 5

void pg_sampler_die_by(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	kill(getpid(), sig);
	/* the sampler thread and the watchdog block every signal */
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

/* Act on stop signal sig when nothing holds it off: the sampler thread,
 * if it runs, writes the window and dies; else die now
 * (async-signal-safe). */
static void act_on(int sig)
{
	if (__atomic_load_n(&pg_sampler.holds, __ATOMIC_SEQ_CST))
		return; /* the last hold's end acts on it */
	if (__atomic_load_n(&pg_sampler.thread_alive, __ATOMIC_SEQ_CST))
		sem_post(&pg_sampler.wake);
	else
		pg_sampler_die_by(sig);
}

/* The stop signal: noted, and acted on by whoever can write the window
 * (async-signal-safe; see the top of this file). */
static void stop_signal(int sig)
{
	int saved = errno;
	int none = 0;
	__atomic_compare_exchange_n(&pg_sampler.die_signal, &none, sig, 0,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	act_on(sig);
	errno = saved;
}

void pg_sampler_hold(void)
{
	__atomic_add_fetch(&pg_sampler.holds, 1, __ATOMIC_SEQ_CST);
}

void pg_sampler_release(void)
{
	__atomic_sub_fetch(&pg_sampler.holds, 1, __ATOMIC_SEQ_CST);
	int sig = __atomic_load_n(&pg_sampler.die_signal, __ATOMIC_SEQ_CST);
	if (sig)
		act_on(sig);
}

void pg_sampler_thread_leaves(void)
{
	__atomic_store_n(&pg_sampler.thread_alive, 0, __ATOMIC_SEQ_CST);
	int sig = __atomic_load_n(&pg_sampler.die_signal, __ATOMIC_SEQ_CST);
	if (sig)
		act_on(sig);
}

/* Kill the process PG_SAMPLER_STOP_WAIT_S after the stop signal arg,
 * unless the write ended it first. */
static void *watchdog(void *arg)
{
	int sig = (int)(intptr_t)arg;
	struct timespec left = {.tv_sec = PG_SAMPLER_STOP_WAIT_S};
	while (nanosleep(&left, &left) && errno == EINTR)
		;
	char msg[256];
	int n = snprintf(msg, sizeof(msg),
			 "perfguard sampler: pid %d: the window in progress is "
			 "lost: the GIL was not free within %d s of signal "
			 "%d\n",
			 (int)getpid(), PG_SAMPLER_STOP_WAIT_S, sig);
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		n = 0;
	pg_sampler_die_by(sig);
	return NULL;
}

void pg_sampler_serve_stop(PyThreadState *self)
{
	int sig = __atomic_load_n(&pg_sampler.die_signal, __ATOMIC_SEQ_CST);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* created with this thread's mask: every signal blocked */
	(void)pthread_create(&t, &attr, watchdog, (void *)(intptr_t)sig);
	pthread_attr_destroy(&attr);
	struct pg_sampler_window *w = NULL;
	if (!pg_sampler_finalizing()) { /* else the GIL never comes back */
		PyEval_RestoreThread(self);
		w = pg_sampler_end_window();
		PyEval_SaveThread();
	}
	if (w)
		pg_sampler_finish_window(w);
	pg_sampler_die_by(sig);
	for (;;) /* the signal kills the process */
		pause();
}

PyObject *pg_sampler_py_catch_stop(PyObject *self, PyObject *args)
{
	int sig;
	(void)self;
	if (!PyArg_ParseTuple(args, "i", &sig))
		return NULL;
	struct sigaction old, sa;
	if (sig != SIGTERM && sig != SIGHUP && sig != SIGQUIT &&
	    sig != SIGUSR1 && sig != SIGUSR2 && sig != SIGALRM) {
		PyErr_SetString(PyExc_ValueError,
				"SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 "
				"or SIGALRM only");
		return NULL;
	}
	if (sigaction(sig, NULL, &old))
		return PyErr_SetFromErrno(PyExc_OSError);
	if (old.sa_flags & SA_SIGINFO || old.sa_handler != SIG_DFL)
		return PyBool_FromLong(old.sa_handler == stop_signal);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		return PyErr_SetFromErrno(PyExc_OSError);
	Py_RETURN_TRUE;
}
