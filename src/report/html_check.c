/*
 * html_check.c - `perfguard check --html` and `compare --html`: the
 * verdicts of a check as one self-contained page, with a differential
 * flame graph per benchmark and the per-trial values every judged
 * verdict was decided on (src/report/assets/check.js draws them).
 *
 * The differential tree is the union of base's and head's calling-context
 * trees, matched by the path of function ids from the root; each node
 * keeps both sides' per-trial mean self time and calls, and which sides
 * have it. Colours are the script's business; it takes the verdict kinds
 * from the same verdicts the terminal and JUnit reports print, so the
 * page cannot disagree with the gate.
 */
#include "internal.h"
#include "page.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The union of two profiles' trees (either may be NULL). */
struct merged {
	/* functions: borrowed ids/files from whichever side had them */
	const struct pg_func **funcs;
	size_t nfuncs, funcs_cap;
	struct pg_map func_index;
	/* nodes */
	uint32_t *parent, *func;
	double *hself, *bself, *hcalls, *bcalls;
	unsigned char *side; /* 1 head, 2 base, 3 both */
	size_t n, cap;
	struct pg_map node_index;
};

static uint32_t merged_func(struct merged *m, const struct pg_func *f)
{
	size_t i;
	if (pg_map_get(&m->func_index, f->id, &i))
		return (uint32_t)i;
	PG_VEC_PUSH(m->funcs, m->nfuncs, m->funcs_cap, f);
	pg_map_put(&m->func_index, f->id, m->nfuncs - 1);
	return (uint32_t)(m->nfuncs - 1);
}

static uint32_t merged_node(struct merged *m, uint32_t parent, uint32_t func)
{
	char key[32];
	size_t i;
	snprintf(key, sizeof(key), "%" PRIu32 "\n%" PRIu32, parent, func);
	if (pg_map_get(&m->node_index, key, &i))
		return (uint32_t)i;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->parent = pg_realloc(m->parent, m->cap * sizeof(*m->parent));
		m->func = pg_realloc(m->func, m->cap * sizeof(*m->func));
		m->hself = pg_realloc(m->hself, m->cap * sizeof(*m->hself));
		m->bself = pg_realloc(m->bself, m->cap * sizeof(*m->bself));
		m->hcalls = pg_realloc(m->hcalls, m->cap * sizeof(*m->hcalls));
		m->bcalls = pg_realloc(m->bcalls, m->cap * sizeof(*m->bcalls));
		m->side = pg_realloc(m->side, m->cap * sizeof(*m->side));
	}
	size_t k = m->n++;
	m->parent[k] = parent;
	m->func[k] = func;
	m->hself[k] = m->bself[k] = m->hcalls[k] = m->bcalls[k] = 0;
	m->side[k] = 0;
	pg_map_put(&m->node_index, key, k);
	return (uint32_t)k;
}

static void merge_side(struct merged *m, const struct pg_profile *p, bool head)
{
	if (!p || !p->nnodes)
		return;
	double nt = p->ntrials ? (double)p->ntrials : 1;
	uint32_t *fmap = pg_malloc((p->nfuncs + 1) * sizeof(*fmap));
	uint32_t *nmap = pg_malloc(p->nnodes * sizeof(*nmap));
	for (size_t i = 0; i < p->nfuncs; i++)
		fmap[i] = merged_func(m, &p->funcs[i]);
	nmap[0] = 0; /* roots meet */
	for (size_t i = 0; i < p->nnodes; i++) {
		const struct pg_node *nd = &p->nodes[i];
		uint32_t k = 0;
		if (i > 0)
			k = merged_node(m, nmap[nd->parent], fmap[nd->func]);
		nmap[i] = k;
		double self = (double)(nd->self_ns > 0 ? nd->self_ns : 0) / nt;
		if (head) {
			m->hself[k] += self;
			m->hcalls[k] += (double)nd->calls / nt;
		} else {
			m->bself[k] += self;
			m->bcalls[k] += (double)nd->calls / nt;
		}
		m->side[k] |= head ? 1 : 2;
	}
	free(fmap);
	free(nmap);
}

static void merged_build(struct merged *m, const struct pg_profile *base,
			 const struct pg_profile *head)
{
	memset(m, 0, sizeof(*m));
	pg_map_init(&m->func_index);
	pg_map_init(&m->node_index);
	/* The root, keyed apart from every real node. */
	merged_node(m, UINT32_MAX, UINT32_MAX);
	merge_side(m, head, true);
	merge_side(m, base, false);
}

static void merged_release(struct merged *m)
{
	free(m->funcs);
	free(m->parent);
	free(m->func);
	free(m->hself);
	free(m->bself);
	free(m->hcalls);
	free(m->bcalls);
	free(m->side);
	pg_map_release(&m->func_index);
	pg_map_release(&m->node_index);
}

static void put_tree(struct pg_jw *w, const struct merged *m)
{
	pg_jw_key(w, "funcs");
	pg_jw_obj_begin(w);
	pg_report_page_func_columns(w, m->funcs, m->nfuncs);
	pg_jw_obj_end(w);

	pg_jw_key(w, "tree");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "parent");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < m->n; i++)
		pg_jw_uint(w, i ? m->parent[i] : 0);
	pg_jw_arr_end(w);
	pg_jw_key(w, "func");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < m->n; i++)
		pg_jw_int(w, i ? (int64_t)m->func[i] : -1);
	pg_jw_arr_end(w);
	pg_jw_key(w, "side");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < m->n; i++)
		pg_jw_uint(w, i ? m->side[i] : 3);
	pg_jw_arr_end(w);
	pg_report_page_column(w, "hself", m->hself, m->n);
	pg_report_page_column(w, "bself", m->bself, m->n);
	pg_report_page_column(w, "hcalls", m->hcalls, m->n);
	pg_report_page_column(w, "bcalls", m->bcalls, m->n);
	pg_jw_obj_end(w);
}

/* The per-trial values a verdict was judged on (raw, before the speed
 * normalisation of docs/statistics.md). */
static void put_trials(struct pg_jw *w, const struct pg_verdict *v,
		       const struct pg_bench_result *b)
{
	pg_jw_arr_begin(w);
	if (!b) {
		pg_jw_arr_end(w);
		return;
	}
	const struct pg_profile *p = &b->profile;
	if (v->metric == PG_METRIC_WALL) {
		for (size_t i = 0; b->has_wall && i < b->wall.ntimes; i++)
			pg_report_page_num(w, b->wall.times_s[i] * 1e9);
	} else if (v->metric == PG_METRIC_TOTAL) {
		for (size_t t = 0; t < p->ntrials; t++)
			pg_jw_int(w, p->trials[t].total_ns);
	} else {
		uint32_t f =
		    v->func_id ? pg_profile_find(p, v->func_id) : PG_NO_FUNC;
		for (size_t t = 0; f != PG_NO_FUNC && t < p->ntrials; t++) {
			const struct pg_sample *s = &p->trials[t].samples[f];
			if (v->metric == PG_METRIC_CALLS)
				pg_jw_uint(w, s->calls);
			else if (v->metric == PG_METRIC_INCL)
				pg_jw_int(w, s->incl_ns);
			else
				pg_jw_int(w, s->self_ns);
		}
	}
	pg_jw_arr_end(w);
}

/*
 * A verdict: the check report's fields (json.c), then what the page adds:
 * the change it ranks and colours by (calls: growth in calls) and the
 * per-trial values of a judged verdict.
 */
static void put_verdict(struct pg_jw *w, const struct pg_verdict *v,
			const struct pg_report_bench *b, struct pg_buf *line)
{
	pg_jw_obj_begin(w);
	pg_report_json_verdict_fields(w, v, line);
	pg_jw_key(w, "change");
	pg_jw_double(w, pg_report_change(v));
	if (pg_verdict_judged(v)) {
		pg_jw_key(w, "base_trials");
		put_trials(w, v, b->base);
		pg_jw_key(w, "head_trials");
		put_trials(w, v, b->head);
	}
	pg_jw_obj_end(w);
}

static void put_bench(struct pg_jw *w, const struct pg_report_bench *b,
		      struct pg_buf *line)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "name");
	pg_jw_str(w, b->name);
	const char *side = NULL;
	const struct pg_bench_result *failure =
	    pg_report_bench_failure(b, &side);
	bool not_compared = pg_report_bench_not_compared(b);
	pg_jw_key(w, "status");
	pg_jw_str(w, failure	    ? pg_report_status_token(failure->status)
		     : not_compared ? "not-compared"
		     : b->base && b->head ? "ok"
					  : "one-sided");
	if (not_compared) {
		failure = b->base;
		side = "base";
	}
	if (failure) {
		pg_jw_key(w, "failed_side");
		pg_jw_str(w, side);
		pg_jw_key(w, "error");
		pg_jw_str(w, failure->error);
		pg_report_json_output(w, failure);
	}
	pg_jw_key(w, "base_trials");
	pg_jw_uint(w, b->base ? b->base->profile.ntrials : 0);
	pg_jw_key(w, "head_trials");
	pg_jw_uint(w, b->head ? b->head->profile.ntrials : 0);
	struct merged m;
	merged_build(&m, b->base ? &b->base->profile : NULL,
		     b->head ? &b->head->profile : NULL);
	put_tree(w, &m);
	merged_release(&m);
	pg_jw_key(w, "verdicts");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < b->nverdicts; i++) {
		const struct pg_verdict *v = b->verdicts[i];
		if (v->kind == PG_VERDICT_NOT_JUDGED)
			continue;
		put_verdict(w, v, b, line);
	}
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

int pg_report_check_html(const struct pg_check_report *r, struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	char title[256];
	if (!r->regressions && r->inconclusive)
		snprintf(title, sizeof(title), "perfguard: inconclusive");
	else
		snprintf(title, sizeof(title), "perfguard: %zu regression%s",
			 r->regressions, r->regressions == 1 ? "" : "s");
	char *subtitle = pg_asprintf(
	    "%s → %s (%s)", r->base_label ? r->base_label : "base",
	    r->head_label ? r->head_label : "head", r->mode ? r->mode : "");
	pg_report_page_begin(out, "check", title, subtitle);
	free(subtitle);

	struct pg_buf json, line;
	pg_buf_init(&json, 0);
	pg_buf_init(&line, 0);
	struct pg_jw w;
	pg_jw_init(&w, &json, false);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "check");
	pg_jw_key(&w, "base_label");
	pg_jw_str(&w, r->base_label);
	pg_jw_key(&w, "head_label");
	pg_jw_str(&w, r->head_label);
	pg_jw_key(&w, "mode");
	pg_jw_str(&w, r->mode);
	pg_jw_key(&w, "base_commit");
	pg_jw_str(&w, r->base ? r->base->commit : NULL);
	pg_jw_key(&w, "head_commit");
	pg_jw_str(&w, r->head ? r->head->commit : NULL);
	pg_jw_key(&w, "mismatch");
	if (r->fingerprint_mismatch)
		pg_jw_str(&w, r->mismatch_what ? r->mismatch_what : "?");
	else
		pg_jw_null(&w);
	pg_jw_key(&w, "regressions");
	pg_jw_uint(&w, r->regressions);
	pg_jw_key(&w, "failed");
	pg_jw_bool(&w, r->failed);
	pg_jw_key(&w, "inconclusive");
	pg_jw_uint(&w, r->inconclusive);
	pg_jw_key(&w, "benches");
	pg_jw_arr_begin(&w);
	for (size_t i = 0; i < view.nbenches; i++)
		put_bench(&w, &view.benches[i], &line);
	pg_jw_arr_end(&w);
	pg_jw_obj_end(&w);
	int rc = pg_report_page_end(out, &json, pg_asset_check_js);
	pg_buf_release(&json);
	pg_buf_release(&line);
	pg_report_view_release(&view);
	return rc;
}
