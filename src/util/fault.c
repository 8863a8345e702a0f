/*
 * fault.c - named fault-injection points for the tests.
 *
 * A writer that must survive being killed at any moment calls
 * pg_fault_point("name") between its steps. When the environment variable
 * PERFGUARD_FAULT names that point, the process announces it on stderr
 * ("perfguard: fault point NAME reached") and stops dead until it is
 * killed, so a test can kill it exactly there by waiting for that line
 * instead of guessing with a clock. Unset, a point costs one getenv.
 * Deliberately not done: any other behaviour (fail, exit) at a point; a
 * killed process is the fault that matters for crash consistency.
 */
#include "perfguard/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pg_fault_point(const char *name)
{
	const char *want = getenv("PERFGUARD_FAULT");
	if (!want || strcmp(want, name) != 0)
		return;
	fprintf(stderr, "perfguard: fault point %s reached\n", name);
	fflush(stderr);
	for (;;)
		pause();
}
