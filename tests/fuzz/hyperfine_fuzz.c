/*
 * hyperfine_fuzz.c - libFuzzer target for the reader of hyperfine's JSON
 * export (pg_hyperfine_parse).
 *
 * Any input either parses into a wall-time record whose every run time
 * is finite and non-negative, or fails with PG_EINVALID; it never
 * crashes, leaks or trips a sanitizer.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "perfguard/runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_wall w;
	int rc = pg_hyperfine_parse((const char *)data, size, &w);
	if (rc) {
		if (rc != PG_EINVALID)
			abort();
		return 0;
	}
	if (w.ntimes == 0 || !w.times_s)
		abort();
	for (size_t i = 0; i < w.ntimes; i++)
		if (!isfinite(w.times_s[i]) || w.times_s[i] < 0)
			abort();
	pg_wall_release(&w);
	return 0;
}
