/*
 * suite_fuzz.c - libFuzzer target for the suite parser (pg_suite_parse).
 *
 * Any input must either load into a complete suite or fail with
 * PG_EINVALID and a "name:line:col: " message; never crash, leak or trip
 * a sanitizer. Scripts are not checked (pg_suite_parse never touches the
 * file system), so the target is pure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_suite s;
	int rc = pg_suite_parse("fuzz.yml", (const char *)data, size, NULL, &s);
	if (rc) {
		/* a failure is always a positioned configuration error */
		if (rc != PG_EINVALID ||
		    !pg_str_starts(pg_error_message(), "fuzz.yml:"))
			abort();
		return 0;
	}
	/* a loaded suite is complete: check the invariants consumers rely on */
	if (s.nbenches == 0 || s.trials < 1 || s.max_trials < s.trials ||
	    s.warmup < 0 || s.timeout_ms < 1 || !s.python || !s.store_ref ||
	    !s.store_path || !s.hash || !(s.thresholds.fdr > 0) ||
	    !(s.thresholds.fdr < 1))
		abort();
	for (size_t i = 0; i < s.nbenches; i++) {
		const struct pg_bench *b = &s.benches[i];
		if (!b->name || !b->script || pg_suite_find(&s, b->name) != b)
			abort();
		(void)pg_suite_tracks(b, "myapp/render.py:Template.render");
	}
	pg_suite_release(&s);
	return 0;
}
