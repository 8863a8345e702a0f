/*
 * wire_fuzz.c - fuzz target for pg_profile_parse_wire (the hook's output).
 *
 * Any input either fails with PG_EINVALID or yields a profile that keeps
 * every invariant of profile.h (checked here, abort on violation), can
 * be merged twice into another profile, and exports a speedscope file
 * whose events are balanced and whose clock never runs backwards (what
 * speedscope's importer requires; negative compensated times are valid
 * input).
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

static void check_speedscope(const struct pg_profile *p)
{
	struct pg_buf b;
	struct pg_json *j = NULL;
	pg_buf_init(&b, 0);
	if (pg_profile_export_speedscope(p, "fuzz", &b) ||
	    pg_json_parse(b.data, b.len, &j))
		abort();
	const struct pg_json *profs = pg_json_get_array(j, "profiles");
	const struct pg_json *events =
	    profs && profs->len ? pg_json_get_array(profs->items[0], "events")
				: NULL;
	if (!events)
		abort();
	int64_t at = 0, last = 0, depth = 0;
	for (size_t i = 0; i < events->len; i++) {
		const char *type;
		if (pg_json_get_str(events->items[i], "type", &type) ||
		    pg_json_get_i64(events->items[i], "at", &at) || at < last)
			abort();
		depth += strcmp(type, "O") ? -1 : 1;
		if (depth < 0)
			abort();
		last = at;
	}
	if (depth)
		abort();
	pg_json_free(j);
	pg_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_profile p, m;
	pg_profile_init(&p);
	int rc = pg_profile_parse_wire(&p, (const char *)data, size);
	if (rc == 0) {
		check(&p);
		check_speedscope(&p);
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
