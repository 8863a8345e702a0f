/*
 * timer.c - clock selection and tick-rate calibration for the hook.
 *
 * The TSC is used only when /proc/cpuinfo lists both constant_tsc and
 * nonstop_tsc and the kernel's current clocksource is "tsc" (so the kernel
 * found it stable across cores). The rate is measured, never assumed.
 */
#include "timer.h"

#include <stdio.h>
#include <string.h>

int64_t pg_hook_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * 1 when cpuinfo's first flags line has constant_tsc and nonstop_tsc and
 * the kernel's clocksource is the TSC.
 */
static int tsc_trusted(void)
{
	char line[4096];
	int constant = 0, nonstop = 0, source = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "flags", 5))
				continue;
			constant = strstr(line, " constant_tsc") != NULL;
			nonstop = strstr(line, " nonstop_tsc") != NULL;
			break;
		}
		fclose(f);
	}
	f = fopen("/sys/devices/system/clocksource/clocksource0/"
		  "current_clocksource",
		  "r");
	if (f) {
		if (fgets(line, sizeof(line), f))
			source = strncmp(line, "tsc", 3) == 0 &&
				 (line[3] == '\n' || line[3] == '\0');
		fclose(f);
	}
	return constant && nonstop && source;
}

void pg_hook_timer_init(struct pg_hook_timer *t)
{
	memset(t, 0, sizeof(*t));
#ifdef PG_HOOK_HAVE_TSC
	t->use_tsc = tsc_trusted();
#endif
	t->ns_per_tick = 1.0;
	t->mono0_ns = pg_hook_mono_ns();
	t->tick0 = pg_hook_ticks(t);
	if (t->use_tsc) {
		/* A first rate over ~2 ms so that early conversions work. */
		while (pg_hook_mono_ns() - t->mono0_ns < 2000000)
			;
		pg_hook_timer_calibrate(t);
		t->resolution_ns = t->ns_per_tick;
	} else {
		struct timespec res;
		clock_getres(CLOCK_MONOTONIC, &res);
		t->resolution_ns =
		    (double)res.tv_sec * 1e9 + (double)res.tv_nsec;
	}
}

void pg_hook_timer_calibrate(struct pg_hook_timer *t)
{
	if (!t->use_tsc)
		return;
	int64_t mono = pg_hook_mono_ns();
	int64_t tick = pg_hook_ticks(t);
	if (mono - t->mono0_ns < 1000000 || tick <= t->tick0)
		return;
	t->ns_per_tick =
	    (double)(mono - t->mono0_ns) / (double)(tick - t->tick0);
}
