/*
 * hook_core_test.c - unit tests of the hook's pure-C accounting core with a
 * fake clock: times are passed in explicitly, so every expectation is exact.
 */
#include <math.h>
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
	struct pg_hook_summary sum;
	int have_sum;
	uint64_t ops, sum_ops; /* events delivered; at the last summary */
};

#define FP(ticks) ((int64_t)(ticks) * (1 << PG_HOOK_FP))

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
	if (fx->have_sum)
		pg_hook_core_summary_free(&fx->sum);
	pg_hook_core_release(&fx->core);
	free(fx);
	return 0;
}

/* An event as the glue delivers it: find or make the node, push. */
static void enter(struct fixture *fx, int func, int resume, int64_t t)
{
	uint32_t kind = fx->core.funcs[fx->f[func]].flags & PG_HOOK_BUILTIN
			    ? PG_HOOK_KIND_C
			: resume ? PG_HOOK_KIND_GEN
				 : PG_HOOK_KIND_PY;
	fx->th->events++;
	fx->ops++;
	uint32_t parent = pg_hook_core_top(fx->th);
	uint32_t n = pg_hook_core_child(&fx->core, parent, &keys[func]);
	if (n == PG_HOOK_NONE)
		n = pg_hook_core_new_child(&fx->core, parent, &keys[func],
					   fx->f[func], kind);
	pg_hook_core_push(&fx->core, fx->th, n, &keys[func], kind, resume, t);
}

static void call(struct fixture *fx, int func, int64_t t)
{
	enter(fx, func, 0, t);
}

static void resume(struct fixture *fx, int func, int64_t t)
{
	enter(fx, func, 1, t);
}

static void ret(struct fixture *fx, int func, int64_t t)
{
	fx->th->events++;
	fx->ops++;
	pg_hook_core_pop(&fx->core, fx->th, &keys[func], t);
}

/* The derived figures, recomputed from the tree after new events. */
static const struct pg_hook_summary *summary(struct fixture *fx)
{
	if (fx->have_sum && fx->sum_ops == fx->ops)
		return &fx->sum;
	if (fx->have_sum)
		pg_hook_core_summary_free(&fx->sum);
	fx->sum_ops = fx->ops;
	assert_int_equal(pg_hook_core_summarize(&fx->core, &fx->sum), 0);
	fx->have_sum = 1;
	return &fx->sum;
}

static const struct pg_hook_fstat *fstat_of(struct fixture *fx, int func)
{
	return &summary(fx)->funcs[fx->f[func]];
}

static const struct pg_hook_edge *edge(struct fixture *fx, int a, int b)
{
	const struct pg_hook_summary *s = summary(fx);
	for (uint32_t i = 0; i < s->nedges; i++)
		if (s->edges[i].caller == fx->f[a] &&
		    s->edges[i].callee == fx->f[b])
			return &s->edges[i];
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
	const struct pg_hook_fstat *a = fstat_of(fx, 0);
	const struct pg_hook_fstat *b = fstat_of(fx, 1);
	const struct pg_hook_fstat *c = fstat_of(fx, 2);
	assert_int_equal(a->calls, 1);
	assert_int_equal(a->incl_fp, FP(50));
	assert_int_equal(a->self_fp, FP(25));
	assert_int_equal(b->calls, 2);
	assert_int_equal(b->pcalls, 2);
	assert_int_equal(b->incl_fp, FP(25));
	assert_int_equal(b->self_fp, FP(22));
	assert_int_equal(c->incl_fp, FP(3));
	const struct pg_hook_edge *ab = edge(fx, 0, 1);
	assert_non_null(ab);
	assert_int_equal(ab->calls, 2);
	assert_int_equal(ab->incl_fp, FP(25));
	assert_null(edge(fx, 0, 2));
	/* Tree: root -> a -> b -> c; a's node holds both calls of b. */
	assert_int_equal(fx->core.nnodes, 4);
	assert_int_equal(fx->core.nodes[2].func, fx->f[1]);
	assert_int_equal(fx->core.nodes[2].calls, 2);
	assert_int_equal(fx->core.nodes[2].incl_fp, FP(25));
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
	const struct pg_hook_fstat *f = fstat_of(fx, 0);
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->pcalls, 1);
	assert_int_equal(f->incl_fp, FP(100));
	assert_int_equal(f->self_fp, FP(100));
	const struct pg_hook_edge *ff = edge(fx, 0, 0);
	assert_int_equal(ff->calls, 2);
	assert_int_equal(ff->pcalls, 1);
	assert_int_equal(ff->incl_fp, FP(30));
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
	assert_int_equal(fstat_of(fx, 0)->pcalls, 1);
	assert_int_equal(fstat_of(fx, 1)->pcalls, 1);
	assert_int_equal(fstat_of(fx, 0)->incl_fp, FP(7));
	assert_int_equal(fstat_of(fx, 1)->incl_fp, FP(5));
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
	const struct pg_hook_fstat *g = fstat_of(fx, 3);
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->resumes, 2);
	assert_int_equal(g->self_fp, FP(8));
	assert_int_equal(g->incl_fp, FP(8));
	assert_int_equal(fstat_of(fx, 0)->self_fp, FP(92));
	assert_int_equal(edge(fx, 0, 3)->calls, 1);
}

static void edges_count_their_own_recursion_once(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0); /* a */
	call(fx, 1, 1); /* b */
	call(fx, 0, 10);
	call(fx, 1, 12);
	ret(fx, 1, 14);
	ret(fx, 0, 20);
	ret(fx, 1, 30);
	ret(fx, 0, 40);
	const struct pg_hook_edge *ab = edge(fx, 0, 1);
	assert_int_equal(ab->calls, 2);
	assert_int_equal(ab->pcalls, 1);
	assert_int_equal(ab->incl_fp, FP(29));
	assert_int_equal(ab->self_fp, FP(19 + 2));
	const struct pg_hook_edge *ba = edge(fx, 1, 0);
	assert_int_equal(ba->calls, 1);
	assert_int_equal(ba->incl_fp, FP(10));
	/* Per function: nodes summed, outermost frames only for incl. */
	assert_int_equal(fstat_of(fx, 1)->calls, 2);
	assert_int_equal(fstat_of(fx, 1)->pcalls, 1);
	assert_int_equal(fstat_of(fx, 1)->incl_fp, FP(29));
	assert_int_equal(fstat_of(fx, 0)->self_fp, FP(11 + 8));
}

static void a_function_under_two_callers_sums_its_nodes(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 2, 5);
	ret(fx, 2, 7);
	ret(fx, 0, 10);
	call(fx, 1, 20);
	call(fx, 2, 21);
	ret(fx, 2, 25);
	call(fx, 2, 26);
	ret(fx, 2, 27);
	ret(fx, 1, 30);
	const struct pg_hook_fstat *c = fstat_of(fx, 2);
	assert_int_equal(c->calls, 3);
	assert_int_equal(c->pcalls, 3);
	assert_int_equal(c->incl_fp, FP(7));
	assert_int_equal(edge(fx, 0, 2)->calls, 1);
	assert_int_equal(edge(fx, 1, 2)->calls, 2);
	assert_int_equal(edge(fx, 1, 2)->incl_fp, FP(5));
	/* root -> a -> c, root -> b -> c: two nodes of c; the one-entry
	 * cache and the hash agree on the second call of c under b. */
	assert_int_equal(fx->core.nnodes, 5);
}

static void lost_time_is_excluded_from_the_running_frame(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 10);
	pg_hook_core_lost(fx->th, 50); /* not running for 50 of the ticks */
	ret(fx, 1, 80);
	ret(fx, 0, 100);
	assert_int_equal(fstat_of(fx, 1)->incl_fp, FP(20));
	assert_int_equal(fstat_of(fx, 0)->incl_fp, FP(50));
	assert_int_equal(fstat_of(fx, 0)->self_fp, FP(30));
}

static void a_full_tree_keeps_matching_without_charging(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	/* Pretend the tree is full: frames below get no node. */
	pg_hook_core_push(&fx->core, fx->th, PG_HOOK_DETACHED, &keys[1],
			  PG_HOOK_KIND_PY, 0, 10);
	assert_int_equal(
	    pg_hook_core_child(&fx->core, pg_hook_core_top(fx->th), &keys[2]),
	    PG_HOOK_DETACHED);
	ret(fx, 1, 20);
	ret(fx, 0, 30);
	assert_int_equal(fx->core.unmatched, 0);
	assert_int_equal(fx->th->depth, 0);
	assert_int_equal(fstat_of(fx, 0)->self_fp, FP(30));
}

static void
compensation_subtracts_inner_part_from_callee_and_pair_cost_from_caller(
    void **state)
{
	struct fixture *fx = *state;
	/* Python pairs cost 4 ticks, 1 inside the callee's bracket; C pairs
	 * cost 6, 2 inside. */
	fx->core.enter_fp[PG_HOOK_KIND_PY] = FP(1);
	fx->core.leave_fp[PG_HOOK_KIND_PY] = FP(3);
	fx->core.enter_fp[PG_HOOK_KIND_C] = FP(2);
	fx->core.leave_fp[PG_HOOK_KIND_C] = FP(4);
	call(fx, 0, 0);	 /* a */
	call(fx, 1, 20); /* b */
	ret(fx, 1, 30);	 /* b raw 10: 10 - 1 = 9 */
	call(fx, 6, 40); /* builtin */
	ret(fx, 6, 50);	 /* raw 10: 10 - 2 = 8 */
	ret(fx, 0, 100);
	/* a: raw 100, its own inner 1, a Python pair 4 and a C pair 6 inside:
	 * 100 - 1 - 4 - 6 = 89 */
	const struct pg_hook_fstat *a = fstat_of(fx, 0);
	assert_int_equal(fstat_of(fx, 1)->incl_fp, FP(9));
	assert_int_equal(fstat_of(fx, 6)->incl_fp, FP(8));
	assert_int_equal(a->incl_fp, FP(89));
	assert_int_equal(a->self_fp, FP(89 - 9 - 8));
}

static void
compensation_above_what_was_measured_is_scaled_down_not_zeroed(void **state)
{
	struct fixture *fx = *state;
	/* Calibrated in a slow spell: Python pairs cost 40 ticks, 20 inside
	 * the callee; truly they cost 20, 10 inside. */
	fx->core.enter_fp[PG_HOOK_KIND_PY] = FP(20);
	fx->core.leave_fp[PG_HOOK_KIND_PY] = FP(20);
	call(fx, 0, 0);
	int64_t t = 100;
	for (int i = 0; i < 200; i++) {
		call(fx, 1, t); /* an empty function: 10 ticks, its pair's */
		ret(fx, 1, t + 10);
		call(fx, 2, t + 35); /* 60 ticks of work */
		ret(fx, 2, t + 105);
		t += 115; /* the caller: 15 ticks of work per round */
	}
	ret(fx, 0, t);
	const struct pg_hook_summary *s = summary(fx);
	/* The empty function measured half its compensation: scaled to
	 * 0.5 / 0.8, so costs stay 1.25x the truth (inner 12.5, outer 12.5). */
	assert_true(s->comp_scale > 0.62 && s->comp_scale < 0.63);
	/* Before, f[2] read 200 x 50 and f[0] below zero (written as 0). */
	assert_int_equal(fstat_of(fx, 2)->self_fp, FP(200 * 57.5));
	int64_t caller = fstat_of(fx, 0)->self_fp;
	assert_true(caller > FP(200 * 10 - 20) && caller < FP(200 * 10 + 120));
	assert_int_equal(fstat_of(fx, 0)->incl_fp,
			 caller + FP(200 * 57.5) + fstat_of(fx, 1)->self_fp);
	/* The empty function, 2.5 ticks below zero per call, is clamped. */
	assert_int_equal(fstat_of(fx, 1)->self_fp, -FP(200 * 2.5));
	assert_int_equal(s->clamped_fp, FP(200 * 2.5));
}

static void compensation_as_measured_is_kept(void **state)
{
	struct fixture *fx = *state;
	fx->core.enter_fp[PG_HOOK_KIND_PY] = FP(10);
	fx->core.leave_fp[PG_HOOK_KIND_PY] = FP(10);
	call(fx, 0, 0);
	for (int i = 0; i < 200; i++) {
		call(fx, 1, 100 + 30 * i);
		ret(fx, 1, 100 + 30 * i + 12);
	}
	ret(fx, 0, 100 + 30 * 200);
	assert_true(summary(fx)->comp_scale == 1);
	assert_int_equal(fstat_of(fx, 1)->self_fp, FP(200 * 2));
	assert_int_equal(summary(fx)->clamped_fp, 0);
}

/* Rounds of one thin call (measured `thin` ticks) and ten calls of 30
 * ticks each, all at calibrated costs of 10 inside and 10 outside. */
static void thin_and_thick_rounds(struct fixture *fx, int64_t thin)
{
	fx->core.enter_fp[PG_HOOK_KIND_PY] = FP(10);
	fx->core.leave_fp[PG_HOOK_KIND_PY] = FP(10);
	call(fx, 0, 0);
	int64_t t = 100;
	for (int i = 0; i < 200; i++) {
		call(fx, 1, t);
		ret(fx, 1, t + thin);
		t += thin + 20;
		for (int j = 0; j < 10; j++, t += 50) {
			call(fx, 2, t);
			ret(fx, 2, t + 30);
		}
	}
	ret(fx, 0, t);
}

static void one_thin_node_below_its_compensation_scales_nothing(void **state)
{
	struct fixture *fx = *state;
	/* f1 measured 6 ticks a call against 10 of compensation (a call shape
	 * cheaper than the calibration's), f2 three times its own: the costs
	 * are right for most of what was compensated. The old check scaled
	 * everything to 0.6 / 0.8 on f1 alone. */
	thin_and_thick_rounds(fx, 6);
	const struct pg_hook_summary *s = summary(fx);
	assert_true(s->comp_scale == 1);
	assert_int_equal(fstat_of(fx, 2)->self_fp, FP(2000 * 20));
	assert_int_equal(fstat_of(fx, 1)->self_fp, -FP(200 * 4));
	assert_int_equal(s->clamped_fp, FP(200 * 4));
}

static void a_given_compensation_scale_is_used_as_is(void **state)
{
	struct fixture *fx = *state;
	/* The runner's scale for every trial of a benchmark: used even when
	 * this run alone would keep its compensation whole. */
	fx->core.comp_fixed = 0.5;
	thin_and_thick_rounds(fx, 12);
	const struct pg_hook_summary *s = summary(fx);
	assert_true(s->comp_scale == 0.5);
	assert_int_equal(fstat_of(fx, 2)->self_fp, FP(2000 * 25));
	assert_int_equal(fstat_of(fx, 1)->self_fp, FP(200 * 7));
}

static void a_reference_below_its_compensation_scales_it_down(void **state)
{
	struct fixture *fx = *state;
	/* The rounds alone keep the compensation whole (f1 measures 12 a
	 * call against 10), but the run's empty reference measured 0.55 of
	 * its compensation, where right costs read 1.1: the costs come from
	 * a slower spell, and f1's 2 ticks of work a call are really 7. */
	fx->core.comp_ref = 0.55;
	thin_and_thick_rounds(fx, 12);
	const struct pg_hook_summary *s = summary(fx);
	assert_true(fabs(s->comp_scale - 0.5) < 1e-9);
	assert_int_equal(fstat_of(fx, 1)->self_fp, FP(200 * 7));
	assert_int_equal(s->clamped_fp, 0);
	/* A reference at or above what right costs read changes nothing. */
	fx->core.comp_ref = 1.3;
	fx->ops++;
	assert_true(summary(fx)->comp_scale == 1);
	/* The runner's scale from warm-ups in a slower spell than this run
	 * is lowered to the reference's too. */
	fx->core.comp_fixed = 0.8;
	fx->core.comp_ref = 0.55;
	fx->ops++;
	assert_true(fabs(summary(fx)->comp_scale - 0.5) < 1e-9);
}

/* A reference loop (f1) of n calls of an empty target (f2): each call
 * measured `inner` ticks inside and `gap` ticks of the loop's own before
 * it (and one after the last), at costs of 10 inside and 10 outside (the
 * CALL event's charge is the glue's, not the core's: 0 here). */
static void reference_loop(struct fixture *fx, int n, int64_t inner,
			   int64_t gap)
{
	fx->core.enter_fp[PG_HOOK_KIND_PY] = FP(10);
	fx->core.leave_fp[PG_HOOK_KIND_PY] = FP(10);
	int64_t t = 1000;
	call(fx, 1, t);
	for (int i = 0; i < n; i++) {
		t += gap;
		call(fx, 2, t);
		ret(fx, 2, t += inner);
	}
	ret(fx, 1, t += gap);
	pg_hook_core_take_reference(&fx->core, fx->f[1], fx->f[2]);
}

static void a_reference_loop_shows_either_part_of_a_pair(void **state)
{
	struct fixture *fx = *state;
	/* Both parts measured above their costs (inside 13 of 10; outside
	 * the loop's 201 x 30 of 200 x 10 + 10): the lower reads 1.3. */
	reference_loop(fx, 200, 13, 30);
	assert_true(fabs(fx->core.comp_ref - 1.3) < 1e-9);
	/* Nothing of it is left to write. */
	assert_int_equal(fstat_of(fx, 1)->calls, 0);
	assert_int_equal(fstat_of(fx, 2)->calls, 0);
	assert_int_equal(fstat_of(fx, 1)->self_fp, 0);
	assert_int_equal(fstat_of(fx, 2)->incl_fp, 0);
	/* The inner part measured half its cost. */
	fx->core.comp_ref = 0;
	reference_loop(fx, 200, 5, 30);
	assert_true(fabs(fx->core.comp_ref - 0.5) < 1e-9);
	/* The outer part measured 6 a call: the loop reads its 201 x 6
	 * against 200 x 10 + 10, below the inner part's 1.3. */
	fx->core.comp_ref = 0;
	reference_loop(fx, 200, 13, 6);
	assert_true(fabs(fx->core.comp_ref - 201.0 * 6 / 2010) < 1e-9);
	/* Fewer calls than PG_HOOK_COMP_MIN_PUSHES are no evidence: the
	 * earlier reading stays. */
	reference_loop(fx, 50, 1, 1);
	assert_true(fabs(fx->core.comp_ref - 201.0 * 6 / 2010) < 1e-9);
}

static void unmatched_returns_are_counted_and_never_charged(void **state)
{
	struct fixture *fx = *state;
	ret(fx, 0, 5);
	assert_int_equal(fx->core.unmatched, 1);
	assert_int_equal(fstat_of(fx, 0)->self_fp, FP(0));
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
	assert_int_equal(fstat_of(fx, 0)->incl_fp, FP(30));
	assert_int_equal(fstat_of(fx, 2)->incl_fp, FP(10));
}

static void reset_discards_data_and_allows_open_frames_to_return(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 1);
	ret(fx, 1, 2);
	pg_hook_core_reset(&fx->core);
	fx->ops++;
	assert_int_equal(fstat_of(fx, 1)->calls, 0);
	assert_int_equal(summary(fx)->nedges, 0);
	assert_int_equal(fx->core.nnodes, 1);
	assert_int_equal(fx->th->allowance, 1);
	call(fx, 2, 10);
	ret(fx, 2, 13);
	ret(fx, 0, 20); /* entered before the reset */
	assert_int_equal(fx->core.unmatched, 0);
	assert_int_equal(fstat_of(fx, 0)->calls, 0);
	assert_int_equal(fstat_of(fx, 2)->incl_fp, FP(3));
	assert_int_equal(pg_hook_core_threads_ran(&fx->core), 1);
}

static void close_thread_charges_open_frames(void **state)
{
	struct fixture *fx = *state;
	call(fx, 0, 0);
	call(fx, 1, 10);
	pg_hook_core_close_thread(&fx->core, fx->th, 25);
	assert_int_equal(fx->th->depth, 0);
	assert_int_equal(fstat_of(fx, 0)->incl_fp, FP(25));
	assert_int_equal(fstat_of(fx, 1)->self_fp, FP(15));
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
			   "lost\t0\n"
			   "comp_scale\t1.0000\n"
			   "clamped_ns\t0\n"
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

/* ---- cpu mode: a simulated thread with a clock and a CPU clock ---------- */

/* Clock ticks (1 ns each) and the thread's CPU time, driven as the glue
 * does: a check when due (pg_hook_core_cpu_due), whose own time (cost
 * ticks, plus any time the thread was descheduled during it) is excluded
 * like a slow path's, and a new checkpoint after it. */
struct cpu_sim {
	int64_t tick, cpu;
	int64_t gap, period, cost;
	int64_t stall_in_check; /* not running during the next check */
};

static void sim_run(struct cpu_sim *s, int64_t ticks)
{
	s->tick += ticks;
	s->cpu += ticks;
}

static void sim_stall(struct cpu_sim *s, int64_t ticks)
{
	s->tick += ticks;
}

/* Before an event at t0 = s->tick: clock_check; 1 when a check ran (then
 * sim_done follows the event). */
static int sim_check(struct fixture *fx, struct cpu_sim *s)
{
	struct pg_hook_thread *th = fx->th;
	int64_t t0 = s->tick;
	if (!pg_hook_core_cpu_due(th, t0, s->gap, s->period)) {
		th->last_ticks = t0;
		return 0;
	}
	sim_run(s, s->cost / 2);
	sim_stall(s, s->stall_in_check);
	s->stall_in_check = 0;
	int64_t cpu = s->cpu;
	sim_run(s, s->cost / 4);
	pg_hook_core_lost(
	    th, pg_hook_core_cpu_check(th, th->last_ticks, t0, s->tick, cpu,
				       1.0, t0 - th->last_ticks > s->gap));
	pg_hook_core_cpu_mark(th, s->tick, cpu);
	sim_run(s, s->cost - s->cost / 2 - s->cost / 4); /* the check's tail */
	return 1;
}

/* After the event at t0: callback_done's slow path after a check alone
 * (its checkpoint stands). */
static void sim_done(struct fixture *fx, struct cpu_sim *s, int64_t t0)
{
	pg_hook_core_lost(fx->th, s->tick - t0);
	fx->th->last_ticks = s->tick;
}

static void sim_call(struct fixture *fx, struct cpu_sim *s, int func)
{
	int64_t t0 = s->tick;
	int slow = sim_check(fx, s);
	call(fx, func, t0);
	if (slow)
		sim_done(fx, s, t0);
}

static void sim_ret(struct fixture *fx, struct cpu_sim *s, int func)
{
	int64_t t0 = s->tick;
	int slow = sim_check(fx, s);
	ret(fx, func, t0);
	if (slow)
		sim_done(fx, s, t0);
}

static struct cpu_sim sim_start(struct fixture *fx)
{
	struct cpu_sim s = {.tick = 1000000,
			    .cpu = 5000,
			    .gap = 30000,
			    .period = 250000,
			    .cost = 300};
	fx->th->last_ticks = s.tick;
	pg_hook_core_cpu_mark(fx->th, s.tick, s.cpu);
	return s;
}

/* Many short calls of f[1], each 10 us of CPU and 3 us not running (an
 * interrupt, a hypervisor's steal, a brief preemption: too short to make
 * the interval long), under f[0]. */
static void sim_short_calls(struct fixture *fx, struct cpu_sim *s, int n)
{
	for (int i = 0; i < n; i++) {
		sim_call(fx, s, 1);
		sim_run(s, 5000);
		sim_stall(s, 3000);
		sim_run(s, 5000);
		sim_ret(fx, s, 1);
	}
}

/* A call of func running ticks of CPU, with a stall of not running
 * (another process took the CPU) after the first `at` of them. */
static void sim_long_call(struct fixture *fx, struct cpu_sim *s, int func,
			  int64_t ticks, int64_t at, int64_t stall)
{
	sim_call(fx, s, func);
	sim_run(s, at);
	sim_stall(s, stall);
	sim_run(s, ticks - at);
	sim_ret(fx, s, func);
}

static double self_us(struct fixture *fx, int func)
{
	return (double)(fstat_of(fx, func)->self_fp >> PG_HOOK_FP) / 1000.0;
}

static void
cpu_not_running_in_short_intervals_is_not_charged_to_a_long_one(void **state)
{
	struct fixture *fx = *state;
	struct cpu_sim s = sim_start(fx);
	sim_call(fx, &s, 0);
	sim_short_calls(fx, &s, 2000); /* 20 ms of CPU, 6 ms not running */
	sim_long_call(fx, &s, 2, 1000000, 0, 0); /* one interval, 1 ms */
	sim_short_calls(fx, &s, 10);
	sim_long_call(fx, &s, 2, 1000000, 0, 0);
	sim_ret(fx, &s, 0);
	/* Before, the 6 ms lost during the short calls were all charged to
	 * the next long interval, capped at it: f[2] read 0 of its 2 ms. */
	assert_true(self_us(fx, 2) > 1950 && self_us(fx, 2) < 2050);
	/* The short calls keep their not-running time (no check sees it
	 * within them), never more. */
	assert_true(self_us(fx, 1) >= 2010 * 10 &&
		    self_us(fx, 1) <= 2010 * 13 + 1);
}

static void cpu_a_preemption_within_a_long_interval_is_excluded(void **state)
{
	struct fixture *fx = *state;
	struct cpu_sim s = sim_start(fx);
	sim_call(fx, &s, 0);
	sim_short_calls(fx, &s, 100);
	/* Another process ran for 5 ms within f[2]'s 1 ms. */
	sim_long_call(fx, &s, 2, 1000000, 400000, 5000000);
	sim_ret(fx, &s, 0);
	assert_true(self_us(fx, 2) > 990 && self_us(fx, 2) < 1040);
}

static void cpu_a_preemption_during_a_check_is_excluded_once(void **state)
{
	struct fixture *fx = *state;
	struct cpu_sim s = sim_start(fx);
	sim_call(fx, &s, 0);
	sim_short_calls(fx, &s, 100);
	sim_call(fx, &s, 2);
	sim_run(&s, 1000000);
	s.stall_in_check = 5000000; /* preempted inside the check at return */
	sim_ret(fx, &s, 2);
	sim_long_call(fx, &s, 3, 1000000, 0, 0);
	sim_ret(fx, &s, 0);
	/* Before, the check charged the stall to f[2] (all of its 1 ms)
	 * while also excluding it as the check's own time. */
	assert_true(self_us(fx, 2) > 990 && self_us(fx, 2) < 1010);
	assert_true(self_us(fx, 3) > 990 && self_us(fx, 3) < 1010);
}

/* Off the CPU is the part blocked: run-queue wait (a preempted
 * computation) is not, and an unknown run queue keeps all of it. */
static void blocked_time_leaves_out_run_queue_wait(void **state)
{
	struct fixture *fx = *state;
	struct pg_hook_thread *th = fx->th;
	/* Unknown at first: all lost time counts. */
	assert_int_equal(pg_hook_core_blocked(th, 700, 1000, 300, -1, 1.0),
			 700);
	/* First reading at tick 1000, CPU 300, run queue 50. */
	assert_int_equal(pg_hook_core_blocked(th, 0, 1000, 300, 50, 1.0), 0);
	/* 10,000 ticks later, 2,000 on the CPU: 8,000 not running, all of
	 * it in the run queue (preempted). */
	assert_int_equal(pg_hook_core_blocked(th, 7000, 11000, 2300, 8050, 1.0),
			 0);
	/* Then 5,000 ticks, 1,000 on the CPU, 500 in the run queue: 3,500
	 * blocked, at most the 3,000 this interval lost. */
	assert_int_equal(pg_hook_core_blocked(th, 3000, 16000, 3300, 8550, 1.0),
			 3000);
	/* 2 ns per tick: 1,000 ticks (2,000 ns), 400 ns on the CPU, 600 in
	 * the run queue: 1,000 ns = 500 ticks blocked. */
	assert_int_equal(pg_hook_core_blocked(th, 800, 17000, 3700, 9150, 2.0),
			 500);
	/* A counter that went back (a new task after fork): all of it. */
	assert_int_equal(pg_hook_core_blocked(th, 400, 18000, 3800, 10, 1.0),
			 400);
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
	    T(edges_count_their_own_recursion_once),
	    T(a_function_under_two_callers_sums_its_nodes),
	    T(lost_time_is_excluded_from_the_running_frame),
	    T(a_full_tree_keeps_matching_without_charging),
	    T(compensation_subtracts_inner_part_from_callee_and_pair_cost_from_caller),
	    T(compensation_above_what_was_measured_is_scaled_down_not_zeroed),
	    T(compensation_as_measured_is_kept),
	    T(one_thin_node_below_its_compensation_scales_nothing),
	    T(a_given_compensation_scale_is_used_as_is),
	    T(a_reference_below_its_compensation_scales_it_down),
	    T(a_reference_loop_shows_either_part_of_a_pair),
	    T(unmatched_returns_are_counted_and_never_charged),
	    T(reset_discards_data_and_allows_open_frames_to_return),
	    T(close_thread_charges_open_frames),
	    T(write_emits_version_records_and_end),
	    T(write_numbers_duplicate_ids_in_order_of_appearance),
	    T(write_flags_functions_below_resolution_as_tiny),
	    T(cpu_not_running_in_short_intervals_is_not_charged_to_a_long_one),
	    T(cpu_a_preemption_within_a_long_interval_is_excluded),
	    T(cpu_a_preemption_during_a_check_is_excluded_once),
	    T(blocked_time_leaves_out_run_queue_wait),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
