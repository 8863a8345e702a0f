/*
 * clock.c - monotonic nanoseconds, UTC timestamps, and the unpredictable
 * bytes that tell runs apart (session tags, tokens).
 *
 * The cli and runner measure elapsed time with CLOCK_MONOTONIC; only the
 * hook (a separate extension) uses raw TSC reads.
 */
#include "perfguard/util.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

void pg_random_bytes(void *out, size_t n)
{
	unsigned char *p = out;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return;
	uint64_t t =
	    (uint64_t)pg_clock_monotonic_ns() ^ ((uint64_t)getpid() << 32);
	for (size_t i = 0; i < n; i++)
		p[i] =
		    (unsigned char)(t >> (i % 8 * 8)) ^ (unsigned char)(i * 37);
}
