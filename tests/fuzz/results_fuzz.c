/*
 * results_fuzz.c - libFuzzer target for the results-set JSON reader.
 *
 * Any input must either be refused with PG_ECORRUPT or read into a results
 * set that writes back to JSON which reads again into the very same text
 * (write/read is a fixed point after one read). Crashes, sanitizer reports
 * and aborts are the findings; there is no other verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_results r;
	int rc = pg_results_read_json(&r, (const char *)data, size);
	if (rc < 0) {
		if (rc != PG_ECORRUPT)
			abort();
		pg_results_release(&r);
		return 0;
	}
	struct pg_buf a, b;
	pg_buf_init(&a, 0);
	pg_buf_init(&b, 0);
	pg_results_write_json(&r, &a);
	struct pg_results again;
	if (pg_results_read_json(&again, a.data, a.len) != 0)
		abort();
	pg_results_write_json(&again, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	pg_results_release(&again);
	pg_results_release(&r);
	pg_buf_release(&a);
	pg_buf_release(&b);
	pg_error_clear();
	return 0;
}
