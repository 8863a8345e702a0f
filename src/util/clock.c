/*
 * clock.c - monotonic nanoseconds and UTC timestamps.
 *
 * The cli and runner measure elapsed time with CLOCK_MONOTONIC; only the
 * hook (a separate extension) uses raw TSC reads.
 */
#include "perfguard/util.h"

#include <time.h>

int64_t pg_clock_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void pg_clock_iso8601(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
