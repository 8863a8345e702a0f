/*
 * interrupt.c - Ctrl-C (SIGINT), SIGTERM and SIGHUP as a flag, and the
 * named fault-injection points of the tests.
 *
 * perfguard never dies in the middle of a write on these signals: the
 * handlers only set pg_interrupted, and every step that records
 * something (the store's ref move, an atomic file's rename, a push)
 * checks the flag first, so an interrupted command exits 130 having
 * recorded nothing it had not finished. SIGPIPE is ignored so that a
 * closed reader shows as an EPIPE write error (exit 3), not a silent
 * death.
 *
 * A fault point is where a test may stop perfguard dead: when the
 * environment variable PERFGUARD_FAULT names the point, the process
 * announces it on stderr ("perfguard: fault point NAME reached") and
 * waits. SIGKILL then models a crash exactly there; SIGINT (or SIGTERM)
 * makes the point return, so the caller's interrupt check runs at that
 * very step. Unset, a point costs one getenv.
 */
#include "perfguard/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t pg_interrupted;

static void on_signal(int sig)
{
	pg_interrupted = sig;
}

/* Of SIGINT, SIGTERM, SIGHUP and SIGPIPE: those ignored when perfguard
 * started (nohup, a shell's background job, a service manager). */
static sigset_t ignored_at_start;

static bool ignored_now(int sig)
{
	struct sigaction old;
	return sigaction(sig, NULL, &old) == 0 &&
	       !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN;
}

void pg_signals_install(void)
{
	static const int stop[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ignored_at_start);
	for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
		if (ignored_now(stop[i]))
			sigaddset(&ignored_at_start, stop[i]);
		else
			sigaction(stop[i], &sa, NULL);
	}
	if (ignored_now(SIGPIPE))
		sigaddset(&ignored_at_start, SIGPIPE);
	signal(SIGPIPE, SIG_IGN);
}

/* Was sig (SIGINT, SIGTERM, SIGHUP or SIGPIPE) ignored at start? */
static bool ignored_at(int sig)
{
	return sigismember(&ignored_at_start, sig) == 1;
}

void pg_signals_inherited(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], ignored_at(sigs[i]) ? SIG_IGN : SIG_DFL);
}

int pg_interrupt_check(void)
{
	if (!pg_interrupted)
		return 0;
	return pg_error_set(PG_EINTR, "interrupted by %s",
			    pg_interrupted == SIGINT
				? "Ctrl-C (SIGINT)"
				: strsignal(pg_interrupted));
}

void pg_fault_point(const char *name)
{
	const char *want = getenv("PERFGUARD_FAULT");
	if (!want || strcmp(want, name) != 0)
		return;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	fprintf(stderr, "perfguard: fault point %s reached\n", name);
	fflush(stderr);
	/* Blocked while testing the flag: a signal cannot slip in between
	 * the test and the wait. */
	while (!pg_interrupted)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}
