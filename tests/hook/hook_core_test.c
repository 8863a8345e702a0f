/*
 * hook_core_test.c - unit tests of the hook's pure-C accounting core with a
 * fake clock: times are passed in explicitly, so every expectation is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"

static int keys[16]; /* addresses serve as function keys */

struct fixture {
	struct pg_hook_core core;
	struct pg_hook_thread *th;
	uint32_t f[8];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	assert_int_equal(pg_hook_core_init(&fx->core), 0);
	fx->th = pg_hook_core_thread_new(&fx->core);
	assert_non_null(fx->th);
	for (int i = 0; i < 8; i++)
		assert_int_equal(
		    pg_hook_core_add(&fx->core, &keys[i], NULL, NULL,
				     i >= 6 ? PG_HOOK_BUILTIN : 0, &fx->f[i]),
		    0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pg_hook_core_release(&fx->core);
	free(fx);
	return 0;
}

/* An event as the glue delivers it: count, then enter or leave. */
static void call(struct fixture *fx, int func, int64_t t)
{
	fx->th->events++;
	if (fx->core.funcs[fx->f[func]].flags & PG_HOOK_BUILTIN)
		fx->th->c_events++;
	pg_hook_core_enter(&fx->core, fx->th, fx->f[func], 0, t);
}

static void resume(struct fixture *fx, int func, int64_t t)
{
	fx->th->events++;
	pg_hook_core_enter(&fx->core, fx->th, fx->f[func], 1, t);
}

static void ret(struct fixture *fx, int func, int64_t t)
{
	fx->th->events++;
	if (fx->core.funcs[fx->f[func]].flags & PG_HOOK_BUILTIN)
		fx->th->c_events++;
	pg_hook_core_leave(&fx->core, fx->th, fx->f[func], t);
}

static const struct pg_hook_edge *edge(struct fixture *fx, int a, int b)
{
	for (uint32_t i = 0; i < fx->core.nedges; i++)
		if (fx->core.edges[i].caller == fx->f[a] &&
		    fx->core.edges[i].callee == fx->f[b])
			return &fx->core.edges[i];
	return NULL;
}

static void find_returns_added_functions_and_none_for_unknown(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(pg_hook_core_find(&fx->core, &keys[3]), fx->f[3]);
	assert_int_equal(pg_hook_core_find(&fx->core, &keys[9]), PG_HOOK_NONE);
	/* Growth past the initial map keeps every key findable. */
	static int many[3000];
	for (int i = 0; i < 3000; i++) {
		uint32_t out;
		assert_int_equal(
		    pg_hook_core_add(&fx->core, &many[i], NULL, NULL, 0, &out),
		    0);
	}
	for (int i = 0; i < 3000; i++)
		assert_int_equal(pg_hook_core_find(&fx->core, &many[i]),
				 8 + (uint32_t)i);
}

static void nested_calls_split_self_and_inclusive_exactly(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 10);
	call(fx, 2, 12);
	ret(fx, 2, 15);
	ret(fx, 1, 30);
	call(fx, 1, 40);
	ret(fx, 1, 45);
	ret(fx, 0, 50);
	const struct pg_hook_func *a = &fx->core.funcs[fx->f[0]];
	const struct pg_hook_func *b = &fx->core.funcs[fx->f[1]];
	const struct pg_hook_func *c = &fx->core.funcs[fx->f[2]];
	assert_int_equal(a->calls, 1);
	assert_int_equal(a->incl_ticks, 50);
	assert_int_equal(a->self_ticks, 25);
	assert_int_equal(b->calls, 2);
	assert_int_equal(b->pcalls, 2);
	assert_int_equal(b->incl_ticks, 25);
	assert_int_equal(b->self_ticks, 22);
	assert_int_equal(c->incl_ticks, 3);
	const struct pg_hook_edge *ab = edge(fx, 0, 1);
	assert_non_null(ab);
	assert_int_equal(ab->calls, 2);
	assert_int_equal(ab->incl_ticks, 25);
	assert_null(edge(fx, 0, 2));
	/* Tree: root -> a -> b -> c; a's node holds both calls of b. */
	assert_int_equal(fx->core.nnodes, 4);
	assert_int_equal(fx->core.nodes[2].func, fx->f[1]);
	assert_int_equal(fx->core.nodes[2].calls, 2);
	assert_int_equal(fx->core.nodes[2].incl_ticks, 25);
	assert_int_equal(fx->core.unmatched, 0);
}

static void recursion_counts_inclusive_time_once(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);	 /* f */
	call(fx, 0, 10); /* f */
	call(fx, 0, 20); /* f */
	ret(fx, 0, 25);	 /* 5 */
	ret(fx, 0, 40);	 /* 30 */
	ret(fx, 0, 100); /* 100 */
	const struct pg_hook_func *f = &fx->core.funcs[fx->f[0]];
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->pcalls, 1);
	assert_int_equal(f->incl_ticks, 100);
	assert_int_equal(f->self_ticks, 100);
	const struct pg_hook_edge *ff = edge(fx, 0, 0);
	assert_int_equal(ff->calls, 2);
	assert_int_equal(ff->pcalls, 1);
	assert_int_equal(ff->incl_ticks, 30);
	/* Each recursion level is its own context node. */
	assert_int_equal(fx->core.nnodes, 4);
}

static void mutual_recursion_keeps_pcalls_per_function(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 1);
	call(fx, 0, 2);
	call(fx, 1, 3);
	ret(fx, 1, 4);
	ret(fx, 0, 5);
	ret(fx, 1, 6);
	ret(fx, 0, 7);
	assert_int_equal(fx->core.funcs[fx->f[0]].pcalls, 1);
	assert_int_equal(fx->core.funcs[fx->f[1]].pcalls, 1);
	assert_int_equal(fx->core.funcs[fx->f[0]].incl_ticks, 7);
	assert_int_equal(fx->core.funcs[fx->f[1]].incl_ticks, 5);
}

static void generator_counts_one_call_and_excludes_suspended_time(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);	   /* consumer */
	call(fx, 3, 10);   /* generator starts */
	ret(fx, 3, 14);	   /* yields: 4 */
	resume(fx, 3, 50); /* resumed */
	ret(fx, 3, 53);	   /* yields: 3 */
	resume(fx, 3, 70);
	ret(fx, 3, 71); /* finishes: 1 */
	ret(fx, 0, 100);
	const struct pg_hook_func *g = &fx->core.funcs[fx->f[3]];
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->resumes, 2);
	assert_int_equal(g->self_ticks, 8);
	assert_int_equal(g->incl_ticks, 8);
	assert_int_equal(fx->core.funcs[fx->f[0]].self_ticks, 92);
	assert_int_equal(edge(fx, 0, 3)->calls, 1);
}

static void compensation_subtracts_calibrated_cost_per_event(void **state)
{
	struct fixture *fx = *state;
	fx->core.event_cost_ticks = 2;
	fx->core.inner_cost_ticks = 1;
	fx->core.c_event_cost_ticks = 3;
	fx->core.c_inner_cost_ticks = 2;
	call(fx, 0, 0);	 /* a */
	call(fx, 1, 20); /* b */
	ret(fx, 1, 30);	 /* b raw 10: 10 - 1 = 9 */
	call(fx, 6, 40); /* builtin */
	ret(fx, 6, 50);	 /* raw 10: 10 - 2 = 8 */
	ret(fx, 0, 100);
	/* a: raw 100, inner 1, inside 2 Python + 2 C events: 100-1-4-6 = 89 */
	const struct pg_hook_func *a = &fx->core.funcs[fx->f[0]];
	assert_int_equal(fx->core.funcs[fx->f[1]].incl_ticks, 9);
	assert_int_equal(fx->core.funcs[fx->f[6]].incl_ticks, 8);
	assert_int_equal(a->incl_ticks, 89);
	assert_int_equal(a->self_ticks, 89 - 9 - 8);
}

static void unmatched_returns_are_counted_and_never_charged(void **state)
{
	struct fixture *fx = *state;
	ret(fx, 0, 5);
	assert_int_equal(fx->core.unmatched, 1);
	assert_int_equal(fx->core.funcs[fx->f[0]].self_ticks, 0);
	/* A return of a frame entered before enabling is allowed for. */
	fx->th->allowance = 1;
	ret(fx, 1, 6);
	assert_int_equal(fx->core.unmatched, 1);
	assert_int_equal(fx->th->allowance, 0);
	/* A return that skips frames closes them and counts each. */
	call(fx, 0, 10);
	call(fx, 1, 20);
	call(fx, 2, 30);
	ret(fx, 0, 40);
	assert_int_equal(fx->th->depth, 0);
	assert_int_equal(fx->core.unmatched, 3);
	assert_int_equal(fx->core.funcs[fx->f[0]].incl_ticks, 30);
	assert_int_equal(fx->core.funcs[fx->f[2]].incl_ticks, 10);
}

static void reset_discards_data_and_allows_open_frames_to_return(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 1);
	ret(fx, 1, 2);
	pg_hook_core_reset(&fx->core);
	assert_int_equal(fx->core.funcs[fx->f[1]].calls, 0);
	assert_int_equal(fx->core.nedges, 0);
	assert_int_equal(fx->core.nnodes, 1);
	assert_int_equal(fx->th->allowance, 1);
	call(fx, 2, 10);
	ret(fx, 2, 13);
	ret(fx, 0, 20); /* entered before the reset */
	assert_int_equal(fx->core.unmatched, 0);
	assert_int_equal(fx->core.funcs[fx->f[0]].calls, 0);
	assert_int_equal(fx->core.funcs[fx->f[2]].incl_ticks, 3);
	assert_int_equal(pg_hook_core_threads_ran(&fx->core), 1);
}

static void close_thread_charges_open_frames(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 10);
	pg_hook_core_close_thread(&fx->core, fx->th, 25);
	assert_int_equal(fx->th->depth, 0);
	assert_int_equal(fx->core.funcs[fx->f[0]].incl_ticks, 25);
	assert_int_equal(fx->core.funcs[fx->f[1]].self_ticks, 15);
	assert_int_equal(fx->core.unmatched, 0);
}

static char *write_wire(struct fixture *fx, const char *const *ids)
{
	static const char *files[8] = {"/r/a.py", "/r/a.py", "/r/a.py",
				       "/r/a.py", "/r/a.py", "/r/a.py"};
	static const int lines[8] = {1, 2, 3, 4, 5, 6, 0, 0};
	struct pg_hook_wire_info info = {
	    .mechanism = "monitoring",
	    .timer = "tsc",
	    .python = "3.12.1",
	    .ns_per_tick = 0.5,
	    .tiny_ns = 1,
	    .wall_ns = 1234,
	    .ids = ids,
	    .files = files,
	    .lines = lines,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(pg_hook_core_write(&fx->core, &info, f), 0);
	fclose(f);
	return buf;
}

static void write_emits_version_records_and_end(void **state)
{
	struct fixture *fx = *state;
	static const char *ids[8] = {"a.py:main",     "a.py:f\tx",    "a.py:g",
				     "a.py:h",	      "a.py:i",	      "a.py:j",
				     "<builtin>:len", "<builtin>:len"};
	call(fx, 0, 0);
	call(fx, 1, 10);
	call(fx, 6, 12);
	ret(fx, 6, 14);
	ret(fx, 1, 20);
	call(fx, 7, 30);
	ret(fx, 7, 34);
	ret(fx, 0, 40);
	char *text = write_wire(fx, ids);
	const char *want = "perfguard-wire\t1\n"
			   "mechanism\tmonitoring\n"
			   "timer\ttsc\n"
			   "python\t3.12.1\n"
			   "event_cost_ns\t0.000\n"
			   "wall_ns\t1234\n"
			   "threads\t1\n"
			   "events\t8\n"
			   "unmatched\t0\n"
			   "F\t0\t0\t1\ta.py:main\t/r/a.py\n"
			   "F\t1\t0\t2\ta.py:f x\t/r/a.py\n"
			   "F\t2\t1\t0\t<builtin>:len\t\n"
			   "S\t0\t1\t1\t0\t13\t20\n"
			   "S\t1\t1\t1\t0\t4\t5\n"
			   "S\t2\t2\t2\t0\t3\t3\n"
			   "E\t0\t1\t1\t1\t4\t5\n"
			   "E\t1\t2\t1\t1\t1\t1\n"
			   "E\t0\t2\t1\t1\t2\t2\n"
			   "N\t1\t0\t0\t1\t13\t20\n"
			   "N\t2\t1\t1\t1\t4\t5\n"
			   "N\t3\t2\t2\t1\t1\t1\n"
			   "N\t4\t1\t2\t1\t2\t2\n"
			   "end\t3\n";
	assert_string_equal(text, want);
	free(text);
}

static void write_numbers_duplicate_ids_in_order_of_appearance(void **state)
{
	struct fixture *fx = *state;
	static const char *ids[8] = {"a.py:<lambda>",
				     "a.py:<lambda>",
				     "a.py:x",
				     "a.py:<lambda>",
				     "",
				     "",
				     "",
				     ""};
	call(fx, 3, 0);
	ret(fx, 3, 10);
	call(fx, 0, 20);
	ret(fx, 0, 30);
	call(fx, 1, 40);
	ret(fx, 1, 50);
	char *text = write_wire(fx, ids);
	assert_non_null(strstr(text, "F\t0\t0\t1\ta.py:<lambda>\t"));
	assert_non_null(strstr(text, "F\t1\t0\t2\ta.py:<lambda>#2\t"));
	assert_non_null(strstr(text, "F\t2\t0\t4\ta.py:<lambda>#3\t"));
	assert_null(strstr(text, "a.py:x"));
	assert_non_null(strstr(text, "end\t3\n"));
	free(text);
}

static void write_flags_functions_below_resolution_as_tiny(void **state)
{
	struct fixture *fx = *state;
	static const char *ids[8] = {"a.py:big", "a.py:small", "", "",
				     "",	 "",	       "", ""};
	call(fx, 0, 0);
	call(fx, 1, 10);
	ret(fx, 1, 11); /* 0.5 ns */
	ret(fx, 0, 100);
	char *text = write_wire(fx, ids);
	assert_non_null(strstr(text, "F\t0\t0\t1\ta.py:big\t"));
	assert_non_null(strstr(text, "F\t1\t4\t2\ta.py:small\t"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(find_returns_added_functions_and_none_for_unknown),
	    T(nested_calls_split_self_and_inclusive_exactly),
	    T(recursion_counts_inclusive_time_once),
	    T(mutual_recursion_keeps_pcalls_per_function),
	    T(generator_counts_one_call_and_excludes_suspended_time),
	    T(compensation_subtracts_calibrated_cost_per_event),
	    T(unmatched_returns_are_counted_and_never_charged),
	    T(reset_discards_data_and_allows_open_frames_to_return),
	    T(close_thread_charges_open_frames),
	    T(write_emits_version_records_and_end),
	    T(write_numbers_duplicate_ids_in_order_of_appearance),
	    T(write_flags_functions_below_resolution_as_tiny),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
