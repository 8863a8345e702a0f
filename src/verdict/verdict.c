/*
 * verdict.c - the verdict rules of SPEC §6 on top of the numerics.
 *
 * pg_stats_judge compares the per-trial samples of one benchmark's base
 * and head profiles. When at least 8 reference functions (the judged one
 * left out) agree on how much faster or slower the machine was, function
 * times are divided by a per-trial speed factor built from them, which
 * cancels what the machine did to a trial or a side without diluting a
 * slowdown in a dominant function; otherwise raw times are compared, so a
 * real change is never divided away. The rank test and the Hodges-Lehmann
 * interval then work on the logarithm of these values, so estimates are
 * ratios. Each function verdict carries the hook's per-call resolution
 * (from the calibrated event cost), its callers' shadow (what a change
 * of the work between its calls does to it) and, for self time, its
 * callees' shadow (what their change does to its time), below which a
 * change is not attributed. Totals and wall times are tested raw. Call counts are
 * compared exactly. Production windows (sampled, no calls) are judged on
 * each function's pooled sample counts instead, with a quasi-binomial
 * test whose dispersion the windows give (pg_stats_odds_test). pg_stats_finish applies Benjamini-Hochberg over the
 * check (function times and totals as two families) and sets the final
 * kinds. docs/statistics.md explains and measures the method.
 *
 * Verdict strings are borrowed from the suite and the profiles, which
 * must outlive the verdicts. Nothing here prints.
 *
 * The file is over 900 lines: every step above works on one judge_ctx
 * (the two sides' columns, reference functions and speed factors) that
 * nothing outside needs. The production windows' count test is the part
 * that could move out (with a context header) if it grows further.
 */
#include "perfguard/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Median self time per trial below which self time is not trusted. */
#define RESOLUTION_NS 1000.0
/* Per-call time resolution when a profile does not state its event cost. */
#define DEFAULT_EVENT_COST_NS 50.0
/* Share (both sides) a function needs to serve as a speed reference. */
#define REF_MIN_SHARE 0.005
/*
 * Normalisation by a speed factor is applied only with at least
 * REF_MIN_COUNT reference functions (the judged one left out) that agree
 * on the factor between the sides: their head/base ratios of medians
 * spread (1.4826 MAD of the logs) by at most SHIFT_MAX_SPREAD, and the
 * factor itself within SHIFT_MAX. Otherwise raw times are compared: a
 * real change is never divided away, and a factor that corrects only
 * within each side (leaving the sides' difference in) would make the test
 * overconfident.
 */
#define REF_MIN_COUNT	 8
#define SHIFT_MAX_SPREAD 0.15
#define SHIFT_MAX	 0.25
/*
 * Per-call resolution: the compensation subtracts the calibrated cost of
 * every hook event, and the real cost of an event differs from it by a
 * part of itself between processes (caches, code layout) and with what
 * runs between the calls: a caller that does more work between two calls
 * of an unchanged one-line helper leaves the hook's and the helper's code
 * and data colder, and the helper read +39 ns per call (0.4 event costs)
 * beside a 4x slower caller, once +125 ns (over one event cost) on a busy
 * machine. A change of a function's time per call is attributed only
 * when it exceeds RES_EVENT_FRACTION of the calibrated event cost per
 * event of the call (its own call and return: base and head share one
 * calibration, so only the real cost's drift matters, and it does not add
 * up over callees): two event costs per call.
 */
#define RES_EVENT_FRACTION 1.0
/*
 * A caller's self time is the intervals between its callees' events, and
 * each runs after a callee: a longer callee leaves the caller's code and
 * data colder (on a shared machine, evicted by neighbours meanwhile), so
 * the caller reads slower without doing more. An unchanged driver loop
 * (`for _ in range(300): checksum(v)`, base and head with the same
 * calibration and compensation scale) read 0.2 to 4 us more per call of
 * its callee, whose time per call grew by 120 to 200 us: 0.6% to 2.7% of
 * that growth, the per-call figure varying with the machine's state even
 * within one process. So a change of a caller's self time is attributed
 * only beyond its callees' shadow: for each callee, the smaller of
 * SHADOW_FRACTION of the change of its inclusive time under the caller
 * and SHADOW_COLD_NS per call of it (a cold start of the caller's code
 * after each return; the callee's change bounds what it can cause, and a
 * callee that did not change casts none), signed as the change and
 * summed (noise in many callees cancels; summed as sizes it made a
 * dispatcher's resolution 10.9%).
 *
 * The same holds the other way round: a caller that does more of its own
 * work before each call leaves the callee's code and data, and the
 * hook's, colder. Beside a caller made 4x slower in its own body (6.8 us
 * more per call), the unchanged one-line has_tag read +143 ns per call
 * (+77%, over four event costs) on a loaded CI runner. So a change of
 * f's time is attributed only beyond its callers' shadow: for each
 * caller, SHADOW_FRACTION of the change of the caller's self time per
 * call it makes, at most SHADOW_COLD_NS, per call of f, signed and
 * summed.
 */
#define SHADOW_FRACTION 0.1
#define SHADOW_COLD_NS	10000.0
/* Level of the displayed confidence intervals. */
#define CI_LEVEL 0.95
/*
 * A verdict is unclear (worth more rounds) when its interval reaches
 * above the threshold, its estimate is a slowdown and its q is at most
 * min(UNCLEAR_Q_MAX, UNCLEAR_Q_FACTOR * fdr): suggestive, not yet
 * conclusive. An estimate above the threshold is unclear whatever its q:
 * with an interval as wide as [-28%, +34%] the data cannot say the
 * function is unchanged (a +10% change was once reported so after 10
 * noisy rounds, and no extra round was run). An estimate of 0 (a profile
 * compared with itself: p = 0.5, and q = 0.5 meets the bound) suggests
 * nothing: unchanged.
 */
#define UNCLEAR_Q_FACTOR 50
#define UNCLEAR_Q_MAX	 0.5

enum column { COL_SELF, COL_INCL, COL_CALLS };

/* One side of the comparison: a profile and its per-trial totals. */
struct side {
	const struct pg_profile *p;
	size_t n;
	double *total_ns; /* n */
	double *speed;	  /* n, scratch: per-trial speed factor */
};

struct judge_ctx {
	struct side base, head;
	/* Reference functions: (base index, head index), each side's median
	 * self time, and log(head median / base median). */
	uint32_t *ref_b, *ref_h;
	double *ref_med_b, *ref_med_h, *ref_shift;
	size_t nref;
	double *scratch; /* max(nref, n) */
	/* The factor between the sides applied to the function judged last
	 * (speed_factors), 1 when none was. */
	double shift;
};

static void column(const struct side *s, uint32_t f, enum column what,
		   double *out)
{
	for (size_t t = 0; t < s->n; t++) {
		if (f == PG_NO_FUNC) {
			out[t] = 0;
			continue;
		}
		const struct pg_sample *x = &s->p->trials[t].samples[f];
		out[t] = what == COL_SELF   ? (double)x->self_ns
			 : what == COL_INCL ? (double)x->incl_ns
					    : (double)x->calls;
	}
}

static double column_median(const struct side *s, uint32_t f, enum column what,
			    double *buf)
{
	if (f == PG_NO_FUNC)
		return 0;
	column(s, f, what, buf);
	return pg_stats_median(buf, s->n);
}

static void side_init(struct side *s, const struct pg_profile *p)
{
	s->p = p;
	s->n = p->ntrials;
	s->total_ns = pg_malloc((s->n ? s->n : 1) * sizeof(double));
	s->speed = pg_malloc((s->n ? s->n : 1) * sizeof(double));
	for (size_t t = 0; t < s->n; t++) {
		const struct pg_trial *tr = &p->trials[t];
		double total = (double)tr->total_ns;
		if (total <= 0) {
			total = 0;
			for (size_t f = 0; f < p->nfuncs; f++)
				total += (double)tr->samples[f].self_ns;
		}
		s->total_ns[t] = total;
	}
}

static void side_release(struct side *s)
{
	free(s->total_ns);
	free(s->speed);
}

static bool present(const struct side *s, uint32_t f)
{
	if (f == PG_NO_FUNC)
		return false;
	for (size_t t = 0; t < s->n; t++) {
		const struct pg_sample *x = &s->p->trials[t].samples[f];
		if (x->calls > 0 || x->self_ns > 0 || x->incl_ns > 0)
			return true;
	}
	return false;
}

static unsigned func_flags(const struct side *s, uint32_t f)
{
	return f == PG_NO_FUNC ? 0 : s->p->funcs[f].flags;
}

/*
 * A reference function must be comparable on both sides: present in
 * every trial, above resolution, a meaningful share on both sides, and
 * the same call count (a function whose calls changed did change).
 */
static bool is_reference(const struct judge_ctx *c, uint32_t fb, uint32_t fh,
			 double *buf)
{
	if (fb == PG_NO_FUNC || fh == PG_NO_FUNC)
		return false;
	if ((func_flags(&c->base, fb) | func_flags(&c->head, fh)) &
	    PG_FUNC_TINY)
		return false;
	const struct side *sides[2] = {&c->base, &c->head};
	uint32_t fs[2] = {fb, fh};
	double calls[2];
	for (int k = 0; k < 2; k++) {
		const struct side *s = sides[k];
		column(s, fs[k], COL_SELF, buf);
		for (size_t t = 0; t < s->n; t++)
			if (buf[t] <= 0)
				return false;
		double med = pg_stats_median(buf, s->n);
		double tot = pg_stats_median(s->total_ns, s->n);
		if (med < RESOLUTION_NS || !(tot > 0) ||
		    med / tot < REF_MIN_SHARE)
			return false;
		calls[k] = column_median(s, fs[k], COL_CALLS, buf);
	}
	return calls[0] == calls[1];
}

static void find_references(struct judge_ctx *c)
{
	const struct pg_profile *bp = c->base.p, *hp = c->head.p;
	size_t n = c->base.n + c->head.n;
	size_t cap = bp->nfuncs ? bp->nfuncs : 1;
	double *buf = pg_malloc(n * sizeof(*buf));
	c->ref_b = pg_malloc(cap * sizeof(uint32_t));
	c->ref_h = pg_malloc(cap * sizeof(uint32_t));
	c->ref_med_b = pg_malloc(cap * sizeof(double));
	c->ref_med_h = pg_malloc(cap * sizeof(double));
	c->ref_shift = pg_malloc(cap * sizeof(double));
	c->nref = 0;
	for (uint32_t fb = 0; fb < bp->nfuncs; fb++) {
		uint32_t fh = pg_profile_find(hp, bp->funcs[fb].id);
		if (!is_reference(c, fb, fh, buf))
			continue;
		size_t g = c->nref++;
		c->ref_b[g] = fb;
		c->ref_h[g] = fh;
		c->ref_med_b[g] = column_median(&c->base, fb, COL_SELF, buf);
		c->ref_med_h[g] = column_median(&c->head, fh, COL_SELF, buf);
		c->ref_shift[g] = log(c->ref_med_h[g] / c->ref_med_b[g]);
	}
	free(buf);
	size_t scratch = c->nref > n ? c->nref : n;
	c->scratch = pg_malloc((scratch ? scratch : 1) * sizeof(double));
}

/*
 * The factor between the sides: exp(median of the references' log
 * ratios of medians), reference `skip` left out; false when the
 * references are too few, disagree, or the factor is implausibly large
 * for a machine (REF_MIN_COUNT, SHIFT_*).
 */
static bool side_shift(struct judge_ctx *c, size_t skip, double *shift)
{
	size_t m = 0;
	for (size_t g = 0; g < c->nref; g++)
		if (g != skip)
			c->scratch[m++] = c->ref_shift[g];
	if (m < REF_MIN_COUNT)
		return false;
	double med = pg_stats_median(c->scratch, m);
	double spread = 1.4826 * pg_stats_mad(c->scratch, m);
	if (!(spread <= SHIFT_MAX_SPREAD) || !(fabs(med) <= SHIFT_MAX))
		return false;
	*shift = exp(med);
	return true;
}

/*
 * Production windows (mechanism "sampler", each function's time relative
 * to the rest of the window: cli_production_shares) are judged on their
 * sample counts (compare_counts), which are relative already: the
 * references' few samples per window would only add their noise to
 * every function. No speed factors for them.
 */
static bool production_windows(const struct judge_ctx *c)
{
	return strcmp(c->base.p->mechanism, "sampler") == 0 &&
	       strcmp(c->head.p->mechanism, "sampler") == 0;
}

/*
 * Production windows: the quasi-binomial test of the function's sample
 * counts (pg_stats_odds_test, docs/statistics.md). After
 * cli_production_shares a window's value x of a function is its odds
 * share / (1 - share) in ns per total_ns of the rest, so its share is
 * x / (total + x); the window's sample count is the trial's events. The
 * verdict's values are the pooled odds in the same unit (ns per second of
 * the rest), its estimate and interval the odds ratio's. Returns the
 * pooled shares in *share_b, *share_h.
 */
static void compare_counts(const struct judge_ctx *c, uint32_t fb, uint32_t fh,
			   enum column col, struct pg_verdict *v,
			   double *share_b, double *share_h)
{
	const struct side *sides[2] = {&c->base, &c->head};
	uint32_t fs[2] = {fb, fh};
	size_t nb = c->base.n, nh = c->head.n;
	double *k = pg_malloc((nb + nh + 1) * 2 * sizeof(double));
	double *n = k + nb + nh + 1;
	size_t off[2] = {0, nb};
	for (int s = 0; s < 2; s++) {
		const struct side *sd = sides[s];
		double *ks = k + off[s], *ns = n + off[s];
		column(sd, fs[s], col, ks);
		for (size_t t = 0; t < sd->n; t++) {
			double x = fmax(ks[t], 0), tot = sd->total_ns[t];
			ns[t] = (double)sd->p->trials[t].events;
			ks[t] = tot > 0 ? ns[t] * x / (tot + x) : 0;
		}
	}
	struct pg_odds_test r;
	pg_stats_odds_test(k, n, nb, k + nb, n + nb, nh, CI_LEVEL, &r);
	v->p = r.p;
	v->p_faster = r.p_lower;
	v->change_pct = expm1(r.log_odds) * 100;
	v->ci_lo_pct = expm1(r.lo) * 100;
	v->ci_hi_pct = expm1(r.hi) * 100;
	*share_b = r.share_base;
	*share_h = r.share_head;
	v->base_value = 1e9 * r.share_base / (1 - r.share_base);
	v->head_value = 1e9 * r.share_head / (1 - r.share_head);
	free(k);
}

/*
 * Per-trial speed factors of both sides, leaving reference `skip` out
 * (SIZE_MAX: none), so a function's own change does not move the factor
 * it is divided by. Within a side the factor is the median over the
 * references of their time in the trial relative to their median on that
 * side (1 for a typical trial: it cancels what the machine did to one
 * trial); the head's factors are then multiplied by the agreed factor
 * between the sides. All factors are 1 when side_shift finds no agreed
 * factor. Returns whether normalisation applies.
 */
static bool speed_factors(struct judge_ctx *c, size_t skip)
{
	struct side *sides[2] = {&c->base, &c->head};
	double shift = 1;
	bool apply = !production_windows(c) && side_shift(c, skip, &shift);
	c->shift = apply ? shift : 1;
	for (int k = 0; k < 2; k++) {
		struct side *s = sides[k];
		const uint32_t *idx = k == 0 ? c->ref_b : c->ref_h;
		const double *med = k == 0 ? c->ref_med_b : c->ref_med_h;
		for (size_t t = 0; t < s->n; t++) {
			s->speed[t] = 1;
			if (!apply)
				continue;
			size_t m = 0;
			for (size_t g = 0; g < c->nref; g++) {
				if (g == skip)
					continue;
				double x = (double)s->p->trials[t]
					       .samples[idx[g]]
					       .self_ns;
				c->scratch[m++] = x / med[g];
			}
			s->speed[t] = pg_stats_median(c->scratch, m) *
				      (k == 1 ? shift : 1);
		}
	}
	return apply;
}

/*
 * Test head against base on log values and fill the verdict's p-values,
 * estimate and interval (as percentages of change).
 */
static void compare_logs(const double *lb, size_t nb, const double *lh,
			 size_t nh, struct pg_verdict *v)
{
	v->p = pg_stats_mann_whitney(lb, nb, lh, nh, false, PG_MWU_PREFER_EXACT,
				     NULL);
	v->p_faster = pg_stats_mann_whitney(lh, nh, lb, nb, false,
					    PG_MWU_PREFER_EXACT, NULL);
	double est, lo, hi;
	pg_stats_hodges_lehmann(lb, nb, lh, nh, CI_LEVEL, &est, &lo, &hi);
	v->change_pct = expm1(est) * 100;
	v->ci_lo_pct = expm1(lo) * 100;
	v->ci_hi_pct = expm1(hi) * 100;
}

static double safe_log(double x)
{
	return log(x > 1e-300 ? x : 1e-300);
}

/* Raw values (ns) of both sides, tested without normalisation. */
static void compare_raw(const double *b, size_t nb, const double *h, size_t nh,
			struct pg_verdict *v)
{
	double *lb = pg_malloc((nb + nh + 1) * sizeof(double));
	double *lh = lb + nb;
	for (size_t i = 0; i < nb; i++)
		lb[i] = safe_log(b[i]);
	for (size_t i = 0; i < nh; i++)
		lh[i] = safe_log(h[i]);
	compare_logs(lb, nb, lh, nh, v);
	v->base_value = pg_stats_median(b, nb);
	v->head_value = pg_stats_median(h, nh);
	free(lb);
}

static struct pg_verdict *push(struct pg_verdicts *out)
{
	pg_grow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
	struct pg_verdict *v = &out->v[out->n++];
	memset(v, 0, sizeof(*v));
	v->p = v->q = v->p_faster = v->q_faster = NAN;
	v->change_pct = v->ci_lo_pct = v->ci_hi_pct = NAN;
	return v;
}

static uint64_t median_calls(const struct side *s, uint32_t f, double *buf)
{
	double m = column_median(s, f, COL_CALLS, buf);
	return m > 0 ? (uint64_t)llround(m) : 0;
}

/* Does every head trial call f more often than every base trial? */
static bool calls_grew(const struct judge_ctx *c, uint32_t fb, uint32_t fh,
		       double calls_pct, double *buf)
{
	if (calls_pct < 0)
		return false;
	column(&c->base, fb, COL_CALLS, buf);
	double max_b = 0, med_b = pg_stats_median(buf, c->base.n);
	for (size_t t = 0; t < c->base.n; t++)
		max_b = fmax(max_b, buf[t]);
	column(&c->head, fh, COL_CALLS, buf);
	double min_h = INFINITY, med_h = pg_stats_median(buf, c->head.n);
	for (size_t t = 0; t < c->head.n; t++)
		min_h = fmin(min_h, buf[t]);
	if (!(min_h > max_b) || !(med_b > 0))
		return false;
	return (med_h - med_b) / med_b * 100 > calls_pct;
}

/* Does f call anything (an edge from f on this side)? */
static bool has_callees(const struct side *s, uint32_t f)
{
	if (f == PG_NO_FUNC)
		return false;
	for (size_t e = 0; e < s->p->nedges; e++)
		if (s->p->edges[e].caller == f && s->p->edges[e].calls > 0)
			return true;
	return false;
}

/* A function's medians on both sides, and what they make of it. */
struct fn_figures {
	double self_b, self_h, incl_b, incl_h; /* median ns per trial */
	double share_b, share_h;	       /* self / total */
	double ishare_b, ishare_h;	       /* inclusive / total */
	bool tiny; /* flagged tiny by the hook on a side */
	bool incl; /* judged on inclusive time */
};

static void function_figures(const struct judge_ctx *c, uint32_t fb,
			     uint32_t fh, double *buf, struct fn_figures *g)
{
	const struct side *sb = &c->base, *sh = &c->head;
	g->tiny = (func_flags(sb, fb) | func_flags(sh, fh)) & PG_FUNC_TINY;
	g->self_b = column_median(sb, fb, COL_SELF, buf);
	g->self_h = column_median(sh, fh, COL_SELF, buf);
	g->incl_b = column_median(sb, fb, COL_INCL, buf);
	g->incl_h = column_median(sh, fh, COL_INCL, buf);
	double tot_b = pg_stats_median(sb->total_ns, sb->n);
	double tot_h = pg_stats_median(sh->total_ns, sh->n);
	g->share_b = tot_b > 0 ? g->self_b / tot_b : 0;
	g->share_h = tot_h > 0 ? g->self_h / tot_h : 0;
	g->ishare_b = tot_b > 0 ? g->incl_b / tot_b : 0;
	g->ishare_h = tot_h > 0 ? g->incl_h / tot_h : 0;
	/* Self time below resolution, or flagged tiny: inclusive time. */
	g->incl =
	    g->tiny || (g->self_b < RESOLUTION_NS && g->self_h < RESOLUTION_NS);
}

/* What one side's function f passed to callee g per trial: calls and
 * inclusive time (edges are summed over the profile's trials). */
struct edge_per_trial {
	uint32_t callee;
	double calls, incl_ns;
};

/* The edges from f to other functions on side s, per trial, into out (at
 * most cap). A call of f itself is f's own time, no shadow on it. */
static size_t edges_from(const struct side *s, uint32_t f,
			 struct edge_per_trial *out, size_t cap)
{
	size_t n = 0;
	double trials = s->p->ntrials ? (double)s->p->ntrials : 1;
	for (size_t e = 0; e < s->p->nedges && f != PG_NO_FUNC; e++) {
		const struct pg_edge *x = &s->p->edges[e];
		if (x->caller != f || x->callee == f || n == cap)
			continue;
		out[n++] = (struct edge_per_trial){x->callee,
						   (double)x->calls / trials,
						   (double)x->incl_ns / trials};
	}
	return n;
}

/*
 * One callee's shadow (SHADOW_*) from its figures on both sides, signed
 * as its change: head's time divided by the factor between the sides
 * (shift), so that a machine that ran one side's trials slower casts
 * none.
 */
static double shadow_of(const struct edge_per_trial *b,
			const struct edge_per_trial *h, double shift)
{
	double calls = fmax(b ? b->calls : 0, h ? h->calls : 0);
	double change = (h ? h->incl_ns / (shift > 0 ? shift : 1) : 0) -
			(b ? b->incl_ns : 0);
	double size =
	    fmin(SHADOW_FRACTION * fabs(change), SHADOW_COLD_NS * calls);
	return change < 0 ? -size : size;
}

/*
 * The part of a change of f's self time (ns per trial) that its callees'
 * changes can explain (SHADOW_*): the size of the sum of the callees'
 * signed shadows, callees matched by id between the sides.
 */
static double callee_shadow_ns(const struct judge_ctx *c, uint32_t fb,
			       uint32_t fh)
{
	const struct side *sb = &c->base, *sh = &c->head;
	size_t cb = sb->p->nedges + 1, ch = sh->p->nedges + 1;
	struct edge_per_trial *eb = pg_calloc(cb, sizeof(*eb));
	struct edge_per_trial *eh = pg_calloc(ch, sizeof(*eh));
	size_t nb = edges_from(sb, fb, eb, cb), nh = edges_from(sh, fh, eh, ch);
	bool *matched = pg_calloc(nh + 1, sizeof(*matched));
	double sum = 0;
	for (size_t i = 0; i < nb; i++) {
		uint32_t g =
		    pg_profile_find(sh->p, sb->p->funcs[eb[i].callee].id);
		const struct edge_per_trial *h = NULL;
		for (size_t k = 0; k < nh && g != PG_NO_FUNC && !h; k++)
			if (eh[k].callee == g) {
				h = &eh[k];
				matched[k] = true;
			}
		sum += shadow_of(&eb[i], h, c->shift);
	}
	for (size_t k = 0; k < nh; k++)
		if (!matched[k])
			sum += shadow_of(NULL, &eh[k], c->shift);
	free(matched);
	free(eb);
	free(eh);
	/* Callees that got slower and faster cast opposite shadows. */
	return fabs(sum);
}

/* Side s's calls per trial from p to f (f == PG_NO_FUNC: to anything
 * but p itself). */
static double calls_from(const struct side *s, uint32_t p, uint32_t f)
{
	double calls = 0;
	for (size_t e = 0; e < s->p->nedges && p != PG_NO_FUNC; e++) {
		const struct pg_edge *x = &s->p->edges[e];
		if (x->caller == p && x->callee != p &&
		    (f == PG_NO_FUNC || x->callee == f))
			calls += (double)x->calls;
	}
	return calls / (s->p->ntrials ? (double)s->p->ntrials : 1);
}

/* Side s's median self time of its function p before each call it
 * makes (ns; 0 when it makes none). */
static double gap_per_call(const struct side *s, uint32_t p, double *buf)
{
	double calls = calls_from(s, p, PG_NO_FUNC);
	return calls > 0 ? column_median(s, p, COL_SELF, buf) / calls : 0;
}

/*
 * The part of a change of f's time (ns per trial) that its callers'
 * changes can explain (SHADOW_*, the other way round): for each caller
 * p, the change of p's self time per call p makes, times p's calls of f,
 * signed and summed over the callers, callers matched by id.
 */
static double caller_shadow_ns(const struct judge_ctx *c, uint32_t fb,
			       uint32_t fh, double *buf)
{
	const struct side *sb = &c->base, *sh = &c->head;
	double shift = c->shift > 0 ? c->shift : 1, sum = 0;
	for (size_t e = 0; e < sb->p->nedges; e++) {
		uint32_t pb = sb->p->edges[e].caller;
		if (sb->p->edges[e].callee != fb || pb == fb)
			continue;
		uint32_t ph = pg_profile_find(sh->p, sb->p->funcs[pb].id);
		if (ph == PG_NO_FUNC || ph == fh)
			continue;
		double calls =
		    fmax(calls_from(sb, pb, fb), calls_from(sh, ph, fh));
		double change = gap_per_call(sh, ph, buf) / shift -
				gap_per_call(sb, pb, buf);
		double size = fmin(SHADOW_FRACTION * fabs(change) * calls,
				   SHADOW_COLD_NS * calls);
		sum += change < 0 ? -size : size;
	}
	return fabs(sum);
}

/*
 * The smallest change of v's time, in percent, that the hook can
 * attribute: RES_EVENT_FRACTION of the calibrated event cost for each of
 * the call's two events, relative to the smaller side's time per call,
 * and for self time its callees' shadow relative to the smaller side's
 * self time (g's medians; docs/statistics.md).
 */
static double resolution_pct(const struct judge_ctx *c, uint32_t fb,
			     uint32_t fh, const struct pg_verdict *v,
			     const struct fn_figures *g, double *buf)
{
	double cost = fmax(c->base.p->event_cost_ns, c->head.p->event_cost_ns);
	if (!(cost > 0))
		cost = DEFAULT_EVENT_COST_NS;
	double per_call_b =
	    v->base_calls ? v->base_value / (double)v->base_calls : 0;
	double per_call_h =
	    v->head_calls ? v->head_value / (double)v->head_calls : 0;
	double per_call = fmin(per_call_b, per_call_h);
	if (!(per_call > 0))
		per_call = fmax(per_call_b, per_call_h);
	if (!(per_call > 0))
		return 0;
	/* Its own call and return: two events per call. */
	double res = RES_EVENT_FRACTION * cost * 2 / per_call * 100;
	if (production_windows(c))
		return res;
	double self = fmin(g->self_b, g->self_h);
	if (v->metric == PG_METRIC_SELF && self > 0)
		res = fmax(res, callee_shadow_ns(c, fb, fh) / self * 100);
	double time = fmin(v->base_value, v->head_value);
	if (time > 0)
		res = fmax(res, caller_shadow_ns(c, fb, fh, buf) / time * 100);
	return res;
}

/* A new verdict of fn in b with its figures, not judged yet. */
static struct pg_verdict *start_verdict(const struct judge_ctx *c,
					const struct pg_bench *b,
					const struct pg_func *fn, uint32_t fb,
					uint32_t fh, const struct fn_figures *g,
					double *buf, struct pg_verdicts *out)
{
	struct pg_verdict *v = push(out);
	v->bench = b->name;
	v->func_id = fn->id;
	v->file = fn->file;
	v->line = fn->line;
	v->metric = g->incl ? PG_METRIC_INCL : PG_METRIC_SELF;
	v->threshold_pct = b->thresholds.function_pct;
	v->share_pct = fmax(g->share_b, g->share_h) * 100;
	v->base_value = g->incl ? g->incl_b : g->self_b;
	v->head_value = g->incl ? g->incl_h : g->self_h;
	v->base_calls = median_calls(&c->base, fb, buf);
	v->head_calls = median_calls(&c->head, fh, buf);
	v->base_n = c->base.n;
	v->head_n = c->head.n;
	return v;
}

/* The change of the judged time: production windows as counts, else
 * normalised by the speed factors, leaving f itself out of them. */
static void compare_times(struct judge_ctx *c, uint32_t fb, uint32_t fh,
			  struct fn_figures *g, double *buf,
			  struct pg_verdict *v)
{
	const struct side *sb = &c->base, *sh = &c->head;
	enum column col = g->incl ? COL_INCL : COL_SELF;
	if (production_windows(c)) {
		compare_counts(c, fb, fh, col, v, &g->share_b, &g->share_h);
		v->share_pct = fmax(g->share_b, g->share_h) * 100;
		return;
	}
	size_t skip = SIZE_MAX;
	for (size_t k = 0; k < c->nref; k++)
		if (c->ref_b[k] == fb)
			skip = k;
	speed_factors(c, skip);
	double *lb = buf + sb->n + sh->n, *lh = lb + sb->n;
	column(sb, fb, col, buf);
	for (size_t t = 0; t < sb->n; t++)
		lb[t] = safe_log(fmax(buf[t], 1) / sb->speed[t]);
	column(sh, fh, col, buf);
	for (size_t t = 0; t < sh->n; t++)
		lh[t] = safe_log(fmax(buf[t], 1) / sh->speed[t]);
	compare_logs(lb, sb->n, lh, sh->n, v);
}

/* Judged (UNCHANGED until the check-wide FDR), calls only (a calls
 * regression) or not judged. */
static void decide(const struct judge_ctx *c, const struct pg_bench *b,
		   uint32_t fb, uint32_t fh, const struct fn_figures *g,
		   double *buf, struct pg_verdict *v)
{
	const struct side *sb = &c->base, *sh = &c->head;
	double min_share = b->thresholds.min_share_pct / 100;
	/*
	 * The share that admits a function is its self time, except for
	 * tiny functions judged on inclusive time. Calls are checked also
	 * when only the inclusive share is large (an extra call to a cheap
	 * helper that does real work underneath).
	 */
	double judged_share = g->incl && g->tiny
				  ? fmax(g->ishare_b, g->ishare_h)
				  : fmax(g->share_b, g->share_h);
	/*
	 * A function whose time per call is below the cost of one hook event
	 * is measured mostly as compensation error (the calibrated cost moves
	 * by tens of ns between processes): judge its calls only.
	 */
	double res = fmax(sb->p->event_cost_ns, sh->p->event_cost_ns);
	if (!(res > 0))
		res = DEFAULT_EVENT_COST_NS;
	bool resolvable = v->base_value >= res * (double)v->base_calls ||
			  v->head_value >= res * (double)v->head_calls;
	/*
	 * Inclusive time holds the callees' time: a caller judged on it would
	 * be blamed for a callee's change (which is judged itself). Only a
	 * leaf is judged on inclusive time; a tiny function that calls others
	 * has no time of its own the hook can resolve: calls only.
	 */
	bool leaf = !has_callees(sb, fb) && !has_callees(sh, fh);
	bool judged =
	    judged_share >= min_share && resolvable && (!g->incl || leaf);
	bool calls_checked =
	    judged || fmax(g->ishare_b, g->ishare_h) >= min_share;
	if (calls_checked &&
	    calls_grew(c, fb, fh, b->thresholds.calls_pct, buf)) {
		v->metric = PG_METRIC_CALLS;
		v->kind = PG_VERDICT_REGRESSED;
		v->p = v->q = 0;
		return;
	}
	v->kind = judged ? PG_VERDICT_UNCHANGED : PG_VERDICT_NOT_JUDGED;
}

static void judge_function(struct judge_ctx *c, const struct pg_bench *b,
			   uint32_t fb, uint32_t fh, struct pg_verdicts *out)
{
	const struct side *sb = &c->base, *sh = &c->head;
	const struct pg_func *fn =
	    fb != PG_NO_FUNC ? &sb->p->funcs[fb] : &sh->p->funcs[fh];
	double *buf = pg_malloc((sb->n + sh->n) * 2 * sizeof(double));
	struct fn_figures g;
	function_figures(c, fb, fh, buf, &g);
	struct pg_verdict *v = start_verdict(c, b, fn, fb, fh, &g, buf, out);
	bool in_b = present(sb, fb), in_h = present(sh, fh);
	if (!pg_suite_tracks(b, fn->id))
		v->kind = PG_VERDICT_NOT_JUDGED;
	else if (!in_b || !in_h)
		v->kind = in_h	 ? PG_VERDICT_NEW
			  : in_b ? PG_VERDICT_GONE
				 : PG_VERDICT_NOT_JUDGED;
	else {
		compare_times(c, fb, fh, &g, buf, v);
		v->resolution_pct = resolution_pct(c, fb, fh, v, &g, buf);
		decide(c, b, fb, fh, &g, buf, v);
	}
	free(buf);
}

/*
 * Values of both sides measured in the same rounds (value i of each side
 * in round i, side by side): each round's log ratio head / base, tested
 * with Wilcoxon's signed-rank test and estimated by the paired
 * Hodges-Lehmann estimate, so that what a round's machine did to both
 * sides alike (load, frequency) leaves the comparison.
 */
static void compare_paired(const double *b, const double *h, size_t n,
			   struct pg_verdict *v)
{
	double *d = pg_malloc((2 * n + 1) * sizeof(double));
	double *neg = d + n;
	for (size_t i = 0; i < n; i++) {
		d[i] = safe_log(h[i]) - safe_log(b[i]);
		neg[i] = -d[i];
	}
	v->p = pg_stats_signed_rank(d, n);
	v->p_faster = pg_stats_signed_rank(neg, n);
	double est, lo, hi;
	pg_stats_hodges_lehmann_paired(d, n, CI_LEVEL, &est, &lo, &hi);
	v->change_pct = expm1(est) * 100;
	v->ci_lo_pct = expm1(lo) * 100;
	v->ci_hi_pct = expm1(hi) * 100;
	v->base_value = pg_stats_median(b, n);
	v->head_value = pg_stats_median(h, n);
	free(d);
}

/* A whole-benchmark verdict (total or wall time): paired when the sides
 * ran in the same rounds (compare_paired), else as two samples. */
static void judge_whole(const struct pg_bench *b, enum pg_metric metric,
			const double *base, size_t nb, const double *head,
			size_t nh, bool paired, struct pg_verdicts *out)
{
	struct pg_verdict *v = push(out);
	v->bench = b->name;
	v->metric = metric;
	v->kind = PG_VERDICT_UNCHANGED;
	v->threshold_pct = b->thresholds.total_pct;
	v->share_pct = 100;
	v->base_n = nb;
	v->head_n = nh;
	v->paired = paired && nb == nh && nb > 0;
	if (v->paired)
		compare_paired(base, head, nb, v);
	else
		compare_raw(base, nb, head, nh, v);
}

void pg_stats_judge(const struct pg_bench *b,
		    const struct pg_bench_result *base,
		    const struct pg_bench_result *head, struct pg_verdicts *out)
{
	if (base->profile.ntrials == 0 || head->profile.ntrials == 0)
		return;
	struct judge_ctx c = {0};
	c.shift = 1;
	side_init(&c.base, &base->profile);
	side_init(&c.head, &head->profile);
	find_references(&c);

	const struct pg_profile *bp = &base->profile, *hp = &head->profile;
	for (uint32_t fb = 0; fb < bp->nfuncs; fb++)
		judge_function(&c, b, fb, pg_profile_find(hp, bp->funcs[fb].id),
			       out);
	for (uint32_t fh = 0; fh < hp->nfuncs; fh++)
		if (pg_profile_find(bp, hp->funcs[fh].id) == PG_NO_FUNC)
			judge_function(&c, b, PG_NO_FUNC, fh, out);

	bool paired = pg_bench_results_paired(base, head);
	judge_whole(b, PG_METRIC_TOTAL, c.base.total_ns, c.base.n,
		    c.head.total_ns, c.head.n, paired, out);

	if (base->has_wall && head->has_wall && base->wall.ntimes > 0 &&
	    head->wall.ntimes > 0) {
		size_t nb = base->wall.ntimes, nh = head->wall.ntimes;
		double *w = pg_malloc((nb + nh) * sizeof(double));
		for (size_t i = 0; i < nb; i++)
			w[i] = base->wall.times_s[i] * 1e9;
		for (size_t i = 0; i < nh; i++)
			w[nb + i] = head->wall.times_s[i] * 1e9;
		judge_whole(b, PG_METRIC_WALL, w, nb, w + nb, nh, paired, out);
		free(w);
	}

	free(c.ref_b);
	free(c.ref_h);
	free(c.ref_med_b);
	free(c.ref_med_h);
	free(c.ref_shift);
	free(c.scratch);
	side_release(&c.base);
	side_release(&c.head);
}

bool pg_verdict_judged(const struct pg_verdict *v)
{
	switch (v->kind) {
	case PG_VERDICT_UNCHANGED:
	case PG_VERDICT_REGRESSED:
	case PG_VERDICT_IMPROVED:
	case PG_VERDICT_UNCLEAR:
		break;
	default:
		return false;
	}
	if (v->metric == PG_METRIC_CALLS)
		return true;
	return !isnan(v->p) && !isnan(v->p_faster);
}

/* Does v take part in the false-discovery control (a judged time)? */
static bool tested(const struct pg_verdict *v)
{
	return v->metric != PG_METRIC_CALLS && pg_verdict_judged(v);
}

/* The BH family of a judged verdict: 0 function times, 1 totals/wall. */
static int family(const struct pg_verdict *v)
{
	return v->func_id ? 0 : 1;
}

size_t pg_stats_finish(struct pg_verdicts *vs, double fdr)
{
	return pg_stats_finish_part(vs, fdr, 1.0, 0, 1.0);
}

/* How many verdicts of family fam pg_stats_finish tests. */
static size_t family_size(const struct pg_verdicts *vs, int fam)
{
	size_t m = 0;
	for (size_t i = 0; i < vs->n; i++)
		m += tested(&vs->v[i]) && family(&vs->v[i]) == fam;
	return m;
}

size_t pg_stats_finish_part(struct pg_verdicts *vs, double fdr, double fn_scale,
			    size_t extra_totals, double pad_p)
{
	size_t regressions = 0;
	size_t pad[2] = {0, extra_totals};
	if (fn_scale > 1)
		pad[0] =
		    (size_t)ceil((double)family_size(vs, 0) * (fn_scale - 1));
	size_t cap = vs->n + (pad[0] > pad[1] ? pad[0] : pad[1]);
	double *p = pg_malloc((cap ? cap : 1) * 4 * sizeof(double));
	double *pf = p + cap, *q = pf + cap, *qf = q + cap;
	for (int fam = 0; fam < 2; fam++) {
		size_t m = 0;
		for (size_t i = 0; i < vs->n; i++) {
			const struct pg_verdict *v = &vs->v[i];
			if (!tested(v) || family(v) != fam)
				continue;
			p[m] = v->p;
			pf[m] = v->p_faster;
			m++;
		}
		/* Verdicts judged elsewhere: all without evidence (pad_p 1),
		 * or all as significant as can be (pad_p 0). */
		for (size_t k = 0; m && k < pad[fam]; k++, m++)
			p[m] = pf[m] = pad_p;
		pg_stats_bh(p, m, q);
		pg_stats_bh(pf, m, qf);
		size_t k = 0;
		for (size_t i = 0; i < vs->n; i++) {
			struct pg_verdict *v = &vs->v[i];
			if (!tested(v) || family(v) != fam)
				continue;
			v->q = q[k];
			v->q_faster = qf[k];
			k++;
		}
	}
	free(p);
	double unclear_q = fmin(UNCLEAR_Q_MAX, UNCLEAR_Q_FACTOR * fdr);
	for (size_t i = 0; i < vs->n; i++) {
		struct pg_verdict *v = &vs->v[i];
		if (!tested(v)) {
			if (v->kind == PG_VERDICT_REGRESSED)
				regressions++;
			continue;
		}
		/* Each family gets half of fdr, so the check as a whole keeps
		 * it (Bonferroni over the two families). */
		bool slower = v->q <= fdr / 2, faster = v->q_faster <= fdr / 2;
		double limit = fmax(v->threshold_pct, v->resolution_pct);
		if (slower && v->change_pct > limit)
			v->kind = PG_VERDICT_REGRESSED;
		else if (faster && v->change_pct < -limit)
			v->kind = PG_VERDICT_IMPROVED;
		else if (v->change_pct > limit ||
			 (v->q <= unclear_q && v->change_pct > 0 &&
			  v->ci_hi_pct > limit))
			v->kind = PG_VERDICT_UNCLEAR;
		else if (v->q_faster <= unclear_q && v->change_pct < 0 &&
			 v->ci_lo_pct < -limit)
			v->kind =
			    PG_VERDICT_UNCLEAR; /* an improvement, maybe */
		else
			v->kind = PG_VERDICT_UNCHANGED;
		regressions += v->kind == PG_VERDICT_REGRESSED;
	}
	return regressions;
}

int pg_stats_min_trials(double fdr, size_t ntotals, bool paired)
{
	if (!(fdr > 0 && fdr <= 1) || ntotals == 0)
		return 0;
	for (int n = 1; n < 1000; n++)
		if ((double)ntotals * pg_stats_smallest_p(n, paired) <= fdr / 2)
			return n;
	return 1000;
}

bool pg_verdict_needs_rounds(const struct pg_verdict *x, double fdr)
{
	if (x->kind == PG_VERDICT_UNCLEAR)
		return true;
	return !x->func_id &&
	       (x->kind == PG_VERDICT_REGRESSED ||
		x->kind == PG_VERDICT_IMPROVED) &&
	       !(x->q <= fdr / 2 * PG_STATS_EARLY_SHARE);
}

bool pg_stats_bench_needs_rounds(const struct pg_verdicts *v, const char *name,
				 double fdr)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].bench && strcmp(v->v[i].bench, name) == 0 &&
		    pg_verdict_needs_rounds(&v->v[i], fdr))
			return true;
	return false;
}

bool pg_stats_bench_unclear(const struct pg_verdicts *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].kind == PG_VERDICT_UNCLEAR && v->v[i].bench &&
		    strcmp(v->v[i].bench, name) == 0)
			return true;
	return false;
}

bool pg_stats_bench_unclear_slower(const struct pg_verdicts *v,
				   const char *name)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct pg_verdict *x = &v->v[i];
		if (x->kind == PG_VERDICT_UNCLEAR && x->bench &&
		    strcmp(x->bench, name) == 0 &&
		    x->ci_hi_pct > fmax(x->threshold_pct, x->resolution_pct))
			return true;
	}
	return false;
}

void pg_verdicts_release(struct pg_verdicts *v)
{
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

const char *pg_metric_name(enum pg_metric m)
{
	switch (m) {
	case PG_METRIC_SELF:
		return "self time";
	case PG_METRIC_INCL:
		return "inclusive time";
	case PG_METRIC_CALLS:
		return "calls";
	case PG_METRIC_TOTAL:
		return "total";
	case PG_METRIC_WALL:
		return "wall time";
	}
	return "?";
}

const char *pg_verdict_kind_name(enum pg_verdict_kind k)
{
	switch (k) {
	case PG_VERDICT_UNCHANGED:
		return "unchanged";
	case PG_VERDICT_REGRESSED:
		return "regressed";
	case PG_VERDICT_IMPROVED:
		return "improved";
	case PG_VERDICT_UNCLEAR:
		return "unclear";
	case PG_VERDICT_NOT_JUDGED:
		return "not judged";
	case PG_VERDICT_NEW:
		return "new";
	case PG_VERDICT_GONE:
		return "gone";
	}
	return "?";
}

/* ---- the one-line statement ----------------------------------------- */

/* A duration in ns with 3 significant digits and a unit by magnitude. */
static void put_duration(struct pg_buf *out, double ns)
{
	static const char *units[] = {"ns", "µs", "ms", "s"};
	if (isnan(ns)) {
		pg_buf_puts(out, "?");
		return;
	}
	size_t u = 0;
	double x = ns;
	/* 999.96 would print as "1e+03" in the smaller unit: move up. */
	while (u < 3 && fabs(x) >= 999.5) {
		x /= 1000;
		u++;
	}
	pg_buf_printf(out, "%.3g %s", x, units[u]);
}

static void put_pct(struct pg_buf *out, double pct)
{
	if (isnan(pct))
		pg_buf_puts(out, "?");
	else
		pg_buf_printf(out, "%+.1f%%", pct);
}

static void put_estimate(struct pg_buf *out, const struct pg_verdict *v)
{
	put_pct(out, v->change_pct);
	pg_buf_puts(out, " [");
	put_pct(out, v->ci_lo_pct);
	pg_buf_puts(out, ", ");
	put_pct(out, v->ci_hi_pct);
	pg_buf_puts(out, "]");
}

/* "pkg/mod.py:Class.meth" -> "Class.meth", as SPEC §6 shows it. */
static const char *display_name(const struct pg_verdict *v)
{
	if (!v->func_id)
		return v->bench ? v->bench : "?";
	const char *colon = strrchr(v->func_id, ':');
	return colon && colon[1] ? colon + 1 : v->func_id;
}

void pg_verdict_format(const struct pg_verdict *v, struct pg_buf *out)
{
	const char *name = display_name(v);
	if (v->kind == PG_VERDICT_NEW || v->kind == PG_VERDICT_GONE) {
		bool is_new = v->kind == PG_VERDICT_NEW;
		pg_buf_printf(out, "%s %s, %s ", name, is_new ? "new" : "gone",
			      pg_metric_name(v->metric));
		put_duration(out, is_new ? v->head_value : v->base_value);
		pg_buf_printf(out, ", calls %llu",
			      (unsigned long long)(is_new ? v->head_calls
							  : v->base_calls));
		return;
	}
	if (v->metric == PG_METRIC_CALLS) {
		double pct =
		    v->base_calls
			? ((double)v->head_calls - (double)v->base_calls) /
			      (double)v->base_calls * 100
			: NAN;
		pg_buf_printf(out, "%s calls %llu → %llu (", name,
			      (unsigned long long)v->base_calls,
			      (unsigned long long)v->head_calls);
		put_pct(out, pct);
		pg_buf_puts(out, "), self time ");
		put_estimate(out, v);
		pg_buf_puts(out, ", ");
		put_duration(out, v->base_value);
		pg_buf_puts(out, " → ");
		put_duration(out, v->head_value);
		return;
	}
	pg_buf_printf(out, "%s %s ", name, pg_metric_name(v->metric));
	put_estimate(out, v);
	/* An improvement is stated with the test that found it. */
	bool faster = v->kind == PG_VERDICT_IMPROVED;
	pg_buf_printf(out, ", p=%.1g", faster ? v->p_faster : v->p);
	double q = faster ? v->q_faster : v->q;
	if (!isnan(q))
		pg_buf_printf(out, " (q=%.1g)", q);
	pg_buf_puts(out, ", ");
	put_duration(out, v->base_value);
	pg_buf_puts(out, " → ");
	put_duration(out, v->head_value);
	if (v->func_id)
		pg_buf_printf(out, ", calls %llu → %llu",
			      (unsigned long long)v->base_calls,
			      (unsigned long long)v->head_calls);
}
