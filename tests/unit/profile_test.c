/*
 * profile_test.c - unit tests of the profile model, results sets,
 * fingerprints, the wire parser, profile JSON and the exports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perfguard/profile.h"

/* ---- model ---------------------------------------------------------- */

static void intern_returns_same_index_for_same_id(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	uint32_t a = pg_profile_intern(&p, "m.py:f", "m.py", 3, 0);
	uint32_t b = pg_profile_intern(&p, "m.py:g", "m.py", 9, 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(pg_profile_intern(&p, "m.py:f", NULL, 0, 0), 0);
	assert_int_equal(p.nfuncs, 2);
	assert_int_equal(pg_profile_find(&p, "m.py:g"), 1);
	assert_int_equal(pg_profile_find(&p, "m.py:nope"), PG_NO_FUNC);
	assert_string_equal(p.funcs[1].file, "m.py");
	assert_int_equal(p.funcs[1].line, 9);
	pg_profile_release(&p);
}

static void intern_grows_every_trial_row_with_zeros(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	pg_profile_intern(&p, "a", NULL, 0, 0);
	size_t t0 = pg_profile_add_trial(&p);
	size_t t1 = pg_profile_add_trial(&p);
	p.trials[t0].samples[0].calls = 7;
	p.trials[t1].samples[0].calls = 8;
	/* Enough new functions to force several reallocations. */
	char id[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		uint32_t f = pg_profile_intern(&p, id, NULL, 0, 0);
		p.trials[t1].samples[f].self_ns = i + 1;
	}
	assert_int_equal(p.nfuncs, 1001);
	assert_int_equal(p.trials[t0].samples[0].calls, 7);
	assert_int_equal(p.trials[t1].samples[0].calls, 8);
	for (size_t i = 1; i < p.nfuncs; i++) {
		assert_int_equal(p.trials[t0].samples[i].calls, 0);
		assert_int_equal(p.trials[t0].samples[i].self_ns, 0);
		assert_int_equal(p.trials[t1].samples[i].self_ns, (int64_t)i);
	}
	/* A trial added later has a full zero row. */
	size_t t2 = pg_profile_add_trial(&p);
	for (size_t i = 0; i < p.nfuncs; i++)
		assert_int_equal(p.trials[t2].samples[i].calls, 0);
	pg_profile_release(&p);
}

static void add_edge_sums_repeated_pairs(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	pg_profile_intern(&p, "a", NULL, 0, 0);
	pg_profile_intern(&p, "b", NULL, 0, 0);
	struct pg_edge e = {.caller = 0,
			    .callee = 1,
			    .calls = 2,
			    .pcalls = 1,
			    .self_ns = 10,
			    .incl_ns = 20};
	pg_profile_add_edge(&p, &e);
	pg_profile_add_edge(&p, &e);
	e.caller = 1;
	e.callee = 0;
	pg_profile_add_edge(&p, &e);
	assert_int_equal(p.nedges, 2);
	assert_int_equal(p.edges[0].calls, 4);
	assert_int_equal(p.edges[0].pcalls, 2);
	assert_int_equal(p.edges[0].self_ns, 20);
	assert_int_equal(p.edges[0].incl_ns, 40);
	assert_int_equal(p.edges[1].caller, 1);
	pg_profile_release(&p);
}

static void child_creates_root_and_reuses_nodes(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	uint32_t a = pg_profile_intern(&p, "a", NULL, 0, 0);
	uint32_t b = pg_profile_intern(&p, "b", NULL, 0, 0);
	uint32_t na = pg_profile_child(&p, 0, a);
	uint32_t nab = pg_profile_child(&p, na, b);
	uint32_t nb = pg_profile_child(&p, 0, b);
	assert_int_equal(p.nodes[0].func, PG_NO_FUNC);
	assert_int_equal(na, 1);
	assert_int_equal(nab, 2);
	assert_int_equal(nb, 3);
	assert_int_equal(pg_profile_child(&p, na, b), nab);
	assert_int_equal(p.nodes[nab].parent, na);
	assert_int_equal(p.nnodes, 4);
	assert_int_equal(pg_profile_child(&p, 99, a), PG_NO_FUNC);
	pg_profile_release(&p);
}

/* A one-trial profile with functions named by ids, in that order. */
static void one_trial(struct pg_profile *p, const char *const *ids, size_t n,
		      int64_t base)
{
	pg_profile_init(p);
	for (size_t i = 0; i < n; i++)
		pg_profile_intern(p, ids[i], "x.py", (int)i + 1, 0);
	size_t t = pg_profile_add_trial(p);
	p->trials[t].wall_ns = base * 100;
	for (size_t i = 0; i < n; i++) {
		p->trials[t].samples[i].calls = (uint64_t)(i + 1);
		p->trials[t].samples[i].pcalls = (uint64_t)(i + 1);
		p->trials[t].samples[i].self_ns = base + (int64_t)i;
		p->trials[t].samples[i].incl_ns = 2 * base + (int64_t)i;
	}
}

static void merge_remaps_functions_by_id(void **state)
{
	(void)state;
	const char *ids1[] = {"a", "b"};
	const char *ids2[] = {"c", "b", "a"};
	struct pg_profile p1, p2, m;
	one_trial(&p1, ids1, 2, 100);
	one_trial(&p2, ids2, 3, 1000);
	struct pg_edge e = {.caller = 0, .callee = 1, .calls = 1, .self_ns = 5};
	pg_profile_add_edge(&p1, &e); /* a->b */
	e.caller = 2;		      /* a->b in p2's numbering */
	e.callee = 1;
	pg_profile_add_edge(&p2, &e);
	pg_profile_child(&p1, pg_profile_child(&p1, 0, 0), 1);
	p1.nodes[2].calls = 3;
	pg_profile_child(&p2, pg_profile_child(&p2, 0, 2), 1);
	p2.nodes[2].calls = 4;
	snprintf(p2.mechanism, sizeof(p2.mechanism), "monitoring");

	pg_profile_init(&m);
	pg_profile_merge(&m, &p1);
	pg_profile_merge(&m, &p2);
	assert_int_equal(m.nfuncs, 3);
	assert_int_equal(m.ntrials, 2);
	uint32_t a = pg_profile_find(&m, "a"), b = pg_profile_find(&m, "b"),
		 c = pg_profile_find(&m, "c");
	assert_int_equal(m.trials[0].samples[a].self_ns, 100);
	assert_int_equal(m.trials[0].samples[b].self_ns, 101);
	assert_int_equal(m.trials[0].samples[c].calls, 0);
	assert_int_equal(m.trials[1].samples[c].self_ns, 1000);
	assert_int_equal(m.trials[1].samples[b].self_ns, 1001);
	assert_int_equal(m.trials[1].samples[a].self_ns, 1002);
	assert_int_equal(m.trials[1].wall_ns, 100000);
	assert_int_equal(m.nedges, 1);
	assert_int_equal(m.edges[0].caller, a);
	assert_int_equal(m.edges[0].callee, b);
	assert_int_equal(m.edges[0].self_ns, 10);
	assert_int_equal(m.nnodes, 3);
	assert_int_equal(m.nodes[2].calls, 7);
	assert_string_equal(m.mechanism, "monitoring");
	/* Sources are unchanged. */
	assert_int_equal(p2.trials[0].samples[0].self_ns, 1000);
	assert_int_equal(p2.nfuncs, 3);
	pg_profile_release(&p1);
	pg_profile_release(&p2);
	pg_profile_release(&m);
}

/* ---- results sets ------------------------------------------------- */

static void results_find_returns_added_benchmarks(void **state)
{
	(void)state;
	struct pg_results r;
	pg_results_init(&r);
	assert_int_equal(r.schema, 1);
	char name[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "bench%d", i);
		struct pg_bench_result *b = pg_results_add_bench(&r, name);
		pg_profile_intern(&b->profile, name, NULL, 0, 0);
		pg_profile_add_trial(&b->profile);
	}
	r.commit = pg_strdup("abc");
	assert_int_equal(r.nbenches, 40);
	struct pg_bench_result *b = pg_results_find(&r, "bench17");
	assert_non_null(b);
	assert_string_equal(b->name, "bench17");
	assert_int_equal(pg_profile_find(&b->profile, "bench17"), 0);
	assert_null(pg_results_find(&r, "bench40"));
	assert_null(pg_results_find(&r, NULL));
	pg_results_release(&r);
	assert_int_equal(r.nbenches, 0);
}

static void fingerprint_detect_fills_machine_fields(void **state)
{
	(void)state;
	struct pg_fingerprint fp = {0};
	pg_fingerprint_detect(&fp);
	assert_non_null(fp.cpu);
	assert_true(strlen(fp.cpu) > 0);
	assert_true(fp.cores >= 1);
	assert_non_null(fp.os);
	assert_true(strncmp(fp.os, "Linux ", 6) == 0);
	assert_null(fp.python);
	/* Detecting again replaces (no leak under ASan). */
	pg_fingerprint_detect(&fp);
	pg_fingerprint_release(&fp);
}

static void fingerprint_equal_names_first_difference(void **state)
{
	(void)state;
	struct pg_fingerprint a = {0}, b = {0};
	const char *what = "x";
	pg_fingerprint_detect(&a);
	pg_fingerprint_detect(&b);
	a.python = pg_strdup("3.12.1");
	b.python = pg_strdup("3.12.1");
	assert_true(pg_fingerprint_equal(&a, &b, &what));
	assert_null(what);
	b.cores++;
	assert_false(pg_fingerprint_equal(&a, &b, &what));
	assert_string_equal(what, "cores");
	b.cores--;
	free(b.python);
	b.python = NULL;
	assert_false(pg_fingerprint_equal(&a, &b, &what));
	assert_string_equal(what, "python");
	pg_fingerprint_release(&a);
	pg_fingerprint_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(intern_returns_same_index_for_same_id),
	    cmocka_unit_test(intern_grows_every_trial_row_with_zeros),
	    cmocka_unit_test(add_edge_sums_repeated_pairs),
	    cmocka_unit_test(child_creates_root_and_reuses_nodes),
	    cmocka_unit_test(merge_remaps_functions_by_id),
	    cmocka_unit_test(results_find_returns_added_benchmarks),
	    cmocka_unit_test(fingerprint_detect_fills_machine_fields),
	    cmocka_unit_test(fingerprint_equal_names_first_difference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
