/*
 * results_partial_fuzz.c - libFuzzer target for the partial results
 * reader (pg_results_read_json_partial, what `perfguard history` uses).
 *
 * Any input must be refused with PG_ECORRUPT or read. Whenever the full
 * reader accepts the input, the partial one must too, for the whole set
 * and for its first benchmark and function, and agree with it on every
 * value it keeps. Crashes, sanitizer reports and aborts are the findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The partial read of (bench, func) must match the full read. */
static void agree(const struct pg_results *full, const char *text, size_t size,
		  const char *bench, const char *func)
{
	struct pg_results part;
	if (pg_results_read_json_partial(&part, text, size, bench, func) != 0)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < full->nbenches; i++) {
		const struct pg_bench_result *fb = &full->benches[i];
		if (bench && strcmp(fb->name, bench) != 0)
			continue;
		if (k >= part.nbenches)
			abort();
		const struct pg_bench_result *pb = &part.benches[k++];
		const struct pg_profile *fp = &fb->profile, *pp = &pb->profile;
		if (strcmp(fb->name, pb->name) != 0 ||
		    fb->status != pb->status || fp->ntrials != pp->ntrials)
			abort();
		uint32_t f = func ? pg_profile_find(fp, func) : PG_NO_FUNC;
		if ((f == PG_NO_FUNC) != (pp->nfuncs == 0))
			abort();
		for (size_t t = 0; t < fp->ntrials; t++) {
			if (fp->trials[t].total_ns != pp->trials[t].total_ns)
				abort();
			if (f != PG_NO_FUNC &&
			    (fp->trials[t].samples[f].self_ns !=
				 pp->trials[t].samples[0].self_ns ||
			     fp->trials[t].samples[f].incl_ns !=
				 pp->trials[t].samples[0].incl_ns))
				abort();
		}
	}
	if (k != part.nbenches)
		abort();
	pg_results_release(&part);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pg_results part, full;
	int rc = pg_results_read_json_partial(&part, text, size, NULL, NULL);
	if (rc < 0 && rc != PG_ECORRUPT)
		abort();
	pg_results_release(&part);
	if (pg_results_read_json(&full, text, size) == 0) {
		agree(&full, text, size, NULL, NULL);
		if (full.nbenches) {
			const struct pg_bench_result *b = &full.benches[0];
			const char *func = b->profile.nfuncs
					       ? b->profile.funcs[0].id
					       : "none.py:f";
			agree(&full, text, size, b->name, func);
			agree(&full, text, size, NULL, func);
		}
	}
	pg_results_release(&full);
	pg_error_clear();
	return 0;
}
