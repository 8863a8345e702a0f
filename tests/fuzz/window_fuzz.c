/*
 * window_fuzz.c - fuzz target for pg_window_parse (the sampler's window
 * files, read by record, ingest and compare from disk).
 *
 * Any input either fails with PG_EINVALID or yields a window whose every
 * index is in range (checked here, abort on violation), which then turns
 * into a one-trial profile and a pprof file without error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pg_window *w)
{
	for (size_t s = 0; s < w->nstacks; s++) {
		const struct pg_window_stack *st = &w->stacks[s];
		if (st->thread >= w->nthreads ||
		    st->task >= (int32_t)w->tasks.n || st->task < -1 ||
		    !st->depth || st->first + st->depth > w->nframes)
			abort();
	}
	for (size_t i = 0; i < w->nframes; i++)
		if (w->frames[i].func >= w->nfuncs)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_window w;
	pg_window_init(&w);
	int rc = pg_window_parse(&w, (const char *)data, size);
	if (rc == 0) {
		check(&w);
		struct pg_profile p;
		pg_profile_init(&p);
		pg_window_add_trial(&w, &p);
		if (p.ntrials != 1)
			abort();
		pg_profile_release(&p);
		struct pg_buf out;
		pg_buf_init(&out, 0);
		if (pg_window_export_pprof(&w, &out) || out.len < 18)
			abort();
		pg_buf_release(&out);
	} else if (rc != PG_EINVALID) {
		abort();
	}
	pg_window_release(&w);
	return 0;
}
