/*
 * wire_fuzz.c - fuzz target for pg_profile_parse_wire (the hook's output).
 *
 * Any input either fails with PG_EINVALID or yields a profile that keeps
 * every invariant of profile.h (checked here, abort on violation) and can
 * be merged twice into another profile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pg_profile *p)
{
	if (p->ntrials != 1)
		abort();
	for (size_t i = 0; i < p->nfuncs; i++)
		if (pg_profile_find(p, p->funcs[i].id) != i)
			abort();
	for (size_t i = 0; i < p->nedges; i++)
		if (p->edges[i].caller >= p->nfuncs ||
		    p->edges[i].callee >= p->nfuncs)
			abort();
	if (p->nnodes && p->nodes[0].func != PG_NO_FUNC)
		abort();
	for (size_t i = 1; i < p->nnodes; i++)
		if (p->nodes[i].parent >= i || p->nodes[i].func >= p->nfuncs)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_profile p, m;
	pg_profile_init(&p);
	int rc = pg_profile_parse_wire(&p, (const char *)data, size);
	if (rc == 0) {
		check(&p);
		pg_profile_init(&m);
		pg_profile_merge(&m, &p);
		pg_profile_merge(&m, &p);
		if (m.ntrials != 2 || m.nfuncs != p.nfuncs ||
		    m.nnodes != p.nnodes || m.nedges != p.nedges)
			abort();
		pg_profile_release(&m);
	} else if (rc != PG_EINVALID) {
		abort();
	}
	pg_profile_release(&p);
	return 0;
}
