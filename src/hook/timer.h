/*
 * timer.h - the hook's clock: rdtsc when the TSC is invariant and the
 * kernel itself trusts it, else CLOCK_MONOTONIC in nanoseconds.
 *
 * Ticks are converted to ns with a rate measured against CLOCK_MONOTONIC
 * over the whole run (pg_hook_timer_init ... pg_hook_timer_calibrate), so
 * no nominal frequency is trusted. Pure C; no Python.
 */
#ifndef PERFGUARD_HOOK_TIMER_H
#define PERFGUARD_HOOK_TIMER_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PG_HOOK_HAVE_TSC 1
#endif

struct pg_hook_timer {
	int use_tsc;		 /* 1: ticks are TSC cycles; 0: ns */
	int64_t mono0_ns, tick0; /* readings at begin */
	double ns_per_tick;	 /* 1.0 for clock_gettime */
	double resolution_ns;	 /* one tick, or clock_getres's step */
};

/* Current monotonic time in ns. */
int64_t pg_hook_mono_ns(void);

/* Decide the clock (tsc or clock_gettime) and take the start readings. */
void pg_hook_timer_init(struct pg_hook_timer *t);

/*
 * Re-measure the tick rate from the start readings to now (needs a few ms
 * between them to be precise; a shorter interval keeps the last rate).
 */
void pg_hook_timer_calibrate(struct pg_hook_timer *t);

/* The current tick count of the chosen clock. */
static inline int64_t pg_hook_ticks(const struct pg_hook_timer *t)
{
#ifdef PG_HOOK_HAVE_TSC
	if (t->use_tsc)
		return (int64_t)__rdtsc();
#endif
	struct timespec ts;
	(void)t;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
