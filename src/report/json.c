/*
 * json.c - the check report as versioned JSON ("schema": 1), the form
 * machines read; the shape is documented in docs/check-format.md.
 *
 * Invariant: every verdict appears with every field, in the report's
 * order, so the JSON is a lossless view of struct pg_check_report's
 * verdicts; numbers that do not exist (NaN, infinities) are null. Names
 * of metrics, kinds and statuses are the stable tokens of internal.h,
 * never display strings. Captured output is cut to its last 64 KiB.
 * Adding fields is compatible; renaming or removing one needs schema 2.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CHECK_SCHEMA 1

static void side_info(struct pg_jw *w, const char *label,
		      const struct pg_results *res)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "label");
	pg_jw_str(w, label);
	pg_jw_key(w, "commit");
	pg_jw_str(w, res ? res->commit : NULL);
	pg_jw_key(w, "dirty");
	pg_jw_bool(w, res ? res->dirty : false);
	pg_jw_key(w, "created");
	pg_jw_str(w, res ? res->created : NULL);
	pg_jw_key(w, "clock");
	pg_jw_str(w, res ? res->clock : NULL);
	pg_jw_obj_end(w);
}

size_t pg_report_json_output(struct pg_jw *w, const struct pg_bench_result *b)
{
	size_t len = 0, dropped = 0;
	const char *tail =
	    b->output
		? pg_report_tail(b, PG_REPORT_OUTPUT_MAX_BYTES, &len, &dropped)
		: NULL;
	pg_jw_key(w, "output");
	if (tail)
		pg_jw_strn(w, tail, len);
	else
		pg_jw_null(w);
	return dropped;
}

static void bench_side(struct pg_jw *w, const struct pg_bench_result *b)
{
	if (!b) {
		pg_jw_null(w);
		return;
	}
	pg_jw_obj_begin(w);
	pg_jw_key(w, "status");
	pg_jw_str(w, pg_report_status_token(b->status));
	pg_jw_key(w, "rounds");
	pg_jw_int(w, b->rounds);
	pg_jw_key(w, "error");
	pg_jw_str(w, b->error);
	size_t dropped = pg_report_json_output(w, b);
	pg_jw_key(w, "output_dropped_bytes");
	pg_jw_uint(w, dropped);
	pg_jw_key(w, "total_cv");
	pg_jw_double(w, pg_report_total_cv(b));
	/* Trials (numbered from 1 in the order measured) whose hook lost
	 * events or saw unmatched returns: their figures are incomplete. */
	pg_jw_key(w, "lossy_trials");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < b->profile.ntrials; i++)
		if (b->profile.trials[i].lost || b->profile.trials[i].unmatched)
			pg_jw_uint(w, i + 1);
	pg_jw_arr_end(w);
	/* Production windows sampled far below the rate asked. */
	pg_jw_key(w, "undersampled_trials");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < b->profile.ntrials; i++)
		if (pg_trial_undersampled(&b->profile.trials[i]))
			pg_jw_uint(w, i + 1);
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

void pg_report_json_verdict_fields(struct pg_jw *w, const struct pg_verdict *v,
				   struct pg_buf *scratch)
{
	pg_jw_key(w, "bench");
	pg_jw_str(w, v->bench);
	pg_jw_key(w, "function");
	pg_jw_str(w, v->func_id);
	pg_jw_key(w, "file");
	pg_jw_str(w, v->file);
	pg_jw_key(w, "line");
	if (v->line > 0)
		pg_jw_int(w, v->line);
	else
		pg_jw_null(w);
	pg_jw_key(w, "metric");
	pg_jw_str(w, pg_report_metric_token(v->metric));
	pg_jw_key(w, "kind");
	pg_jw_str(w, pg_report_kind_token(v->kind));
	pg_jw_key(w, "base_value");
	pg_jw_double(w, v->base_value);
	pg_jw_key(w, "head_value");
	pg_jw_double(w, v->head_value);
	pg_jw_key(w, "change_pct");
	pg_jw_double(w, v->change_pct);
	pg_jw_key(w, "ci_lo_pct");
	pg_jw_double(w, v->ci_lo_pct);
	pg_jw_key(w, "ci_hi_pct");
	pg_jw_double(w, v->ci_hi_pct);
	pg_jw_key(w, "p");
	pg_jw_double(w, v->p);
	pg_jw_key(w, "q");
	pg_jw_double(w, v->q);
	pg_jw_key(w, "p_faster");
	pg_jw_double(w, v->p_faster);
	pg_jw_key(w, "q_faster");
	pg_jw_double(w, v->q_faster);
	pg_jw_key(w, "threshold_pct");
	pg_jw_double(w, v->threshold_pct);
	pg_jw_key(w, "resolution_pct");
	pg_jw_double(w, v->resolution_pct);
	if (v->metric == PG_METRIC_TOTAL || v->metric == PG_METRIC_WALL) {
		pg_jw_key(w, "paired");
		pg_jw_bool(w, v->paired);
	}
	pg_jw_key(w, "share_pct");
	pg_jw_double(w, v->share_pct);
	pg_jw_key(w, "base_calls");
	pg_jw_uint(w, v->base_calls);
	pg_jw_key(w, "head_calls");
	pg_jw_uint(w, v->head_calls);
	pg_jw_key(w, "base_n");
	pg_jw_uint(w, v->base_n);
	pg_jw_key(w, "head_n");
	pg_jw_uint(w, v->head_n);
	pg_buf_reset(scratch);
	pg_verdict_format(v, scratch);
	pg_jw_key(w, "statement");
	pg_jw_strn(w, scratch->data, scratch->len);
	pg_jw_key(w, "cause");
	pg_report_cause_json(w, v->cause);
}

static void counts(struct pg_jw *w, const struct pg_report_view *view)
{
	size_t by_kind[PG_VERDICT_GONE + 1] = {0};
	size_t nv = view->r->verdicts ? view->r->verdicts->n : 0;
	for (size_t i = 0; i < nv; i++) {
		enum pg_verdict_kind k = view->r->verdicts->v[i].kind;
		if ((unsigned)k <= PG_VERDICT_GONE)
			by_kind[k]++;
	}
	pg_jw_obj_begin(w);
	pg_jw_key(w, "benchmarks");
	pg_jw_uint(w, view->nbenches);
	pg_jw_key(w, "failed_benchmarks");
	pg_jw_uint(w, view->failed_benches);
	pg_jw_key(w, "not_compared");
	pg_jw_uint(w, view->not_compared);
	pg_jw_key(w, "verdicts");
	pg_jw_uint(w, nv);
	pg_jw_key(w, "judged");
	pg_jw_uint(w, view->judged);
	for (int k = 0; k <= PG_VERDICT_GONE; k++) {
		pg_jw_key(w, pg_report_kind_token((enum pg_verdict_kind)k));
		pg_jw_uint(w, by_kind[k]);
	}
	pg_jw_obj_end(w);
}

/* The check as a whole: what was compared, the outcome, the counts. */
static void put_outcome(struct pg_jw *w, const struct pg_report_view *view)
{
	const struct pg_check_report *r = view->r;
	bool failed = r->failed || view->failed_benches > 0;
	size_t nreg = view->nregressions;
	pg_jw_key(w, "schema");
	pg_jw_int(w, CHECK_SCHEMA);
	pg_jw_key(w, "kind");
	pg_jw_str(w, "perfguard-check");
	pg_jw_key(w, "perfguard");
	pg_jw_str(w, PG_VERSION);
	pg_jw_key(w, "status");
	pg_jw_str(w, failed	       ? "error"
		     : nreg	       ? "regressed"
		     : r->inconclusive ? "inconclusive"
				       : "ok");
	pg_jw_key(w, "exit_code");
	pg_jw_int(w, failed ? 3 : nreg ? 1 : r->inconclusive ? 2 : 0);
	pg_jw_key(w, "mode");
	pg_jw_str(w, r->mode);
	pg_jw_key(w, "base");
	side_info(w, r->base_label, r->base);
	pg_jw_key(w, "head");
	side_info(w, r->head_label, r->head);
	pg_jw_key(w, "fingerprint_mismatch");
	pg_jw_bool(w, r->fingerprint_mismatch);
	pg_jw_key(w, "mismatch");
	pg_jw_str(w, r->fingerprint_mismatch ? r->mismatch_what : NULL);
	pg_jw_key(w, "regressions");
	pg_jw_uint(w, nreg);
	pg_jw_key(w, "failed");
	pg_jw_bool(w, failed);
	pg_jw_key(w, "counts");
	counts(w, view);
}

/* Per benchmark: its counts and how each side ran. */
static void put_benchmarks(struct pg_jw *w, const struct pg_report_view *view)
{
	pg_jw_key(w, "benchmarks");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *bench = &view->benches[i];
		pg_jw_obj_begin(w);
		pg_jw_key(w, "name");
		pg_jw_str(w, bench->name);
		pg_jw_key(w, "judged");
		pg_jw_uint(w, bench->judged);
		pg_jw_key(w, "regressed");
		pg_jw_uint(w, bench->regressed);
		pg_jw_key(w, "improved");
		pg_jw_uint(w, bench->improved);
		pg_jw_key(w, "unclear");
		pg_jw_uint(w, bench->unclear);
		pg_jw_key(w, "not_compared");
		pg_jw_bool(w, pg_report_bench_not_compared(bench));
		pg_jw_key(w, "base");
		bench_side(w, bench->base);
		pg_jw_key(w, "head");
		bench_side(w, bench->head);
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);
}

/* Every verdict in the report's order, and the regressions among them. */
static void put_verdicts(struct pg_jw *w, const struct pg_report_view *view,
			 struct pg_buf *scratch)
{
	const struct pg_check_report *r = view->r;
	/* Indexes into "verdicts", worst first within each benchmark. */
	pg_jw_key(w, "regressed");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < view->nregressions; i++)
		pg_jw_uint(w, view->regressions[i].order);
	pg_jw_arr_end(w);

	pg_jw_key(w, "verdicts");
	pg_jw_arr_begin(w);
	size_t nv = r->verdicts ? r->verdicts->n : 0;
	for (size_t i = 0; i < nv; i++) {
		pg_jw_obj_begin(w);
		pg_report_json_verdict_fields(w, &r->verdicts->v[i], scratch);
		pg_jw_obj_end(w);
	}
	pg_jw_arr_end(w);
}

int pg_report_json(const struct pg_check_report *r, struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	struct pg_buf b, scratch;
	pg_buf_init(&b, 0);
	pg_buf_init(&scratch, 0);
	struct pg_jw w;
	pg_jw_init(&w, &b, true);

	pg_jw_obj_begin(&w);
	put_outcome(&w, &view);
	put_benchmarks(&w, &view);
	put_verdicts(&w, &view, &scratch);
	if (r->json_extra)
		r->json_extra(&w, r->json_extra_ctx);
	pg_jw_obj_end(&w);
	pg_buf_putc(&b, '\n');

	int rc = pg_buf_add(out, b.data, b.len);
	if (rc)
		pg_error_wrap("JSON check report");
	pg_buf_release(&b);
	pg_buf_release(&scratch);
	pg_report_view_release(&view);
	return rc;
}
