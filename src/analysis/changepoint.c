/*
 * changepoint.c - change points of a series by E-Divisive means with a
 * permutation test (Matteson & James, "A Nonparametric Approach for
 * Multiple Change Point Analysis of Multivariate Data", JASA 2014, with
 * alpha = 1 - the method Apache Otava / Hunter run over performance
 * histories).
 *
 * In a segment, X = [start, tau) and Y = [tau, kappa) for kappa up to the
 * segment's end (m and n points):
 *   E = 2/(mn) sum|x-y| - sum_{i<k}|x_i-x_k| / C(m,2)
 *                       - sum_{j<k}|y_j-y_k| / C(n,2)
 *   Q(tau, kappa) = mn/(m+n) * E
 * and the same with the roles mirrored (Y = [tau, end), X = [kappa, tau)
 * for every kappa from the segment's start). The candidate is the tau of
 * the largest Q; letting the far end vary makes a step that is later
 * undone as visible as one that lasts, and mirroring makes the search
 * treat a step near the newest commits like one near the oldest. Its significance is the share of random permutations of the
 * segment whose own largest Q is at least as large. The most significant
 * candidate over all segments is accepted while its p <= alpha; each
 * accepted split makes two new segments, searched again. One search costs
 * O(len^2) time and memory: a triangular table of partial row sums of the
 * distance matrix makes every (tau, kappa) O(1).
 *
 * Invariant: the result depends only on the input and the options (the
 * RNG is splitmix64 from o->seed, consumed in a fixed order).
 * Deliberately not done: multivariate series, alpha != 1, a minimum
 * magnitude (the caller filters by change_pct if it wants one).
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"

void pg_cp_options_default(struct pg_cp_options *o)
{
	o->alpha = 0.01;
	o->permutations = 199;
	o->min_size = 2;
	o->window = 64;
	o->seed = 0x5eed5eedULL;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform integer in [0, bound) (bound > 0), without modulo bias. */
static size_t uniform(uint64_t *state, size_t bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t r;
	do
		r = splitmix64(state);
	while (r >= limit);
	return (size_t)(r % bound);
}

/* Scratch and tables of one pg_analysis_change_points call. */
struct search {
	size_t min_size;
	double *perm, *rev; /* n each */
	double *tri;	    /* n(n+1)/2: see best_split */
	double *inv;	    /* inv[k] = 1/k, k <= n (inv[0] unused) */
	double *inv_pairs;  /* 1/C(k,2) for k >= 2, else 0 */
};

/*
 * Largest Q over the admissible splits of v[0..m): X = v[0..tau) and
 * Y = v[tau..kappa) for every kappa; *tau_out gets the best tau (the left
 * size). Fills S->tri: tri[j(j+1)/2 + t] = sum_{i<t} |v_i - v_j| for
 * t <= j. Returns -1 when no split is admissible. The inner loop only
 * multiplies (reciprocals come from tables): it runs m^2/2 times per
 * search, and a segment's test searches 2 * (1 + permutations) times.
 */
static double best_split(const struct search *S, const double *v, size_t m,
			 size_t *tau_out)
{
	size_t min_size = S->min_size;
	if (m < 2 * min_size)
		return -1;
	double *tri = S->tri;
	for (size_t j = 0; j < m; j++) {
		double *row = tri + j * (j + 1) / 2, sum = 0, vj = v[j];
		row[0] = 0;
		for (size_t i = 0; i < j; i++) {
			sum += fabs(v[i] - vj);
			row[i + 1] = sum;
		}
	}
	double wx = 0, best = -1;
	size_t best_tau = 0;
	for (size_t tau = 1; tau + min_size <= m; tau++) {
		/* X = [0, tau): add point tau-1's distances to the others */
		wx += tri[(tau - 1) * tau / 2 + tau - 1];
		if (tau < min_size)
			continue;
		double nx = (double)tau;
		double within_x = wx * S->inv_pairs[tau];
		double two_over_nx = 2 * S->inv[tau];
		double wy = 0, cross = 0;
		size_t k = tau;
		/* Y = [tau, k]: grow it to min_size points first */
		for (; k < tau + min_size - 1; k++) {
			const double *row = tri + k * (k + 1) / 2;
			cross += row[tau];
			wy += row[k] - row[tau];
		}
		for (; k < m; k++) {
			const double *row = tri + k * (k + 1) / 2;
			cross += row[tau];
			wy += row[k] - row[tau];
			size_t ny = k - tau + 1;
			double e = two_over_nx * cross * S->inv[ny] - within_x -
				   wy * S->inv_pairs[ny];
			/* mn/(m+n) * E; inv has room: tau + ny <= m */
			double q = nx * (double)ny * S->inv[tau + ny] * e;
			if (q > best) {
				best = q;
				best_tau = tau;
			}
		}
	}
	*tau_out = best_tau;
	return best;
}

/*
 * best_split in both directions: also with Y = [tau, end) and X =
 * [kappa, tau) for every kappa (the reversed series), so that a step near
 * the end of the segment is as visible as one near its start.
 */
static double best_split_both(const struct search *S, const double *v, size_t m,
			      size_t *tau_out)
{
	size_t fwd_tau = 0, rev_tau = 0;
	double fwd = best_split(S, v, m, &fwd_tau);
	if (fwd < 0)
		return fwd;
	for (size_t i = 0; i < m; i++)
		S->rev[i] = v[m - 1 - i];
	double back = best_split(S, S->rev, m, &rev_tau);
	if (back > fwd) {
		*tau_out = m - rev_tau;
		return back;
	}
	*tau_out = fwd_tau;
	return fwd;
}

struct segment {
	size_t start, end; /* [start, end) of the series */
	size_t tau;	   /* best split, absolute index of its first right
			      point; 0 when none */
	double p;	   /* its permutation p-value (> 1: none) */
};

/* Find the best split of s and its p-value. */
static void test_segment(const struct search *S, const double *x,
			 const struct pg_cp_options *o, struct segment *s,
			 uint64_t *rng)
{
	size_t m = s->end - s->start;
	double *perm = S->perm;
	s->tau = 0;
	s->p = 2;
	size_t tau;
	double q = best_split_both(S, x + s->start, m, &tau);
	if (q < 0)
		return;
	s->tau = s->start + tau;
	if (q <= 0) { /* a constant segment: nothing to find */
		s->p = 1;
		return;
	}
	memcpy(perm, x + s->start, m * sizeof(*perm));
	/* Once this many permutations reach q, p > alpha whatever follows. */
	double limit = o->alpha * (o->permutations + 1.0) - 1;
	unsigned reach = 0, done = 0;
	for (; done < o->permutations; done++) {
		for (size_t i = m - 1; i > 0; i--) {
			size_t j = uniform(rng, i + 1);
			double t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		size_t unused;
		/* relative tolerance: equal splits of a permuted copy may
		 * differ from q in the last bits */
		if (best_split_both(S, perm, m, &unused) >= q * (1 - 1e-12))
			reach++;
		if (reach > limit) {
			done++;
			break;
		}
	}
	/* stopped early, this still exceeds alpha: (1 + reach) > alpha *
	 * (1 + permutations) >= alpha * (1 + done) */
	s->p = (1.0 + reach) / (1.0 + done);
}

/* A change point found in a window, before merging. */
struct cut {
	size_t at;
	double p;
};

/*
 * E-Divisive on x[0..n) alone: append its cuts (absolute index base + i)
 * to cuts. segs has room for n segments.
 */
static void divide(const struct search *S, const double *x, size_t n,
		   size_t base, const struct pg_cp_options *o, uint64_t *rng,
		   struct segment *segs, struct cut *cuts, size_t *ncuts)
{
	size_t nsegs = 1;
	segs[0] = (struct segment){0, n, 0, 2};
	test_segment(S, x, o, &segs[0], rng);
	for (;;) {
		size_t best = nsegs;
		for (size_t i = 0; i < nsegs; i++)
			if (segs[i].tau && segs[i].p <= o->alpha &&
			    (best == nsegs || segs[i].p < segs[best].p))
				best = i;
		if (best == nsegs)
			break;
		struct segment left = {segs[best].start, segs[best].tau, 0, 2};
		struct segment right = {segs[best].tau, segs[best].end, 0, 2};
		cuts[(*ncuts)++] =
		    (struct cut){base + segs[best].tau, segs[best].p};
		/* left takes the old slot, right goes last; test in order */
		segs[best] = left;
		segs[nsegs++] = right;
		test_segment(S, x, o, &segs[best], rng);
		test_segment(S, x, o, &segs[nsegs - 1], rng);
	}
}

static int cmp_cut(const void *a, const void *b)
{
	const struct cut *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

/* The search's scratch for series of up to w points. */
static void search_init(struct search *S, size_t w, size_t min_size)
{
	S->min_size = min_size;
	S->perm = pg_malloc(w * sizeof(double));
	S->rev = pg_malloc(w * sizeof(double));
	S->tri = pg_malloc(w * (w + 1) / 2 * sizeof(double));
	S->inv = pg_malloc((w + 1) * sizeof(double));
	S->inv_pairs = pg_malloc((w + 1) * sizeof(double));
	for (size_t k = 0; k <= w; k++) {
		S->inv[k] = k ? 1.0 / (double)k : 0;
		S->inv_pairs[k] =
		    k >= 2 ? 2.0 / ((double)k * (double)(k - 1)) : 0;
	}
}

static void search_release(struct search *S)
{
	free(S->perm);
	free(S->rev);
	free(S->tri);
	free(S->inv);
	free(S->inv_pairs);
}

/* Options and points a search can work with, or PG_EINVALID. */
static int check_input(const double *x, size_t n, const struct pg_cp_options *o)
{
	if (!(o->alpha > 0 && o->alpha < 1) || o->min_size == 0 ||
	    (o->window && o->window < 4 * o->min_size))
		return pg_error_set(PG_EINVALID,
				    "change points need 0 < alpha < 1, a "
				    "minimum segment of at least 1 point and "
				    "a window of at least 4 segments");
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return pg_error_set(PG_EINVALID,
					    "point %zu of the series is not a "
					    "finite number",
					    i);
	return 0;
}

/*
 * E-Divisive over windows of w points every w/2 (w < n); each keeps the
 * cuts in its middle half (the first from 0, the last to n), so every
 * index belongs to one window with >= w/4 points around it. Appends to
 * cuts (room for n).
 */
static void divide_windows(const struct search *S, const double *x, size_t n,
			   size_t w, const struct pg_cp_options *o,
			   uint64_t *rng, struct segment *segs,
			   struct cut *cuts, size_t *ncuts)
{
	struct cut *found = pg_malloc(w * sizeof(*found));
	size_t step = w / 2;
	for (size_t start = 0;; start += step) {
		size_t end = start + w < n ? start + w : n;
		size_t from = start ? start + w / 4 : 0;
		size_t to = end < n ? start + w / 4 + step : n;
		size_t nfound = 0;
		divide(S, x + start, end - start, start, o, rng, segs, found,
		       &nfound);
		for (size_t i = 0; i < nfound; i++)
			if (found[i].at >= from && found[i].at < to)
				cuts[(*ncuts)++] = found[i];
		if (end == n)
			break;
	}
	free(found);
}

/* The cuts in order as change points, each with the medians of the
 * segments either side of it. */
static struct pg_change_point *describe_cuts(const double *x, size_t n,
					     struct cut *cuts, size_t ncuts)
{
	qsort(cuts, ncuts, sizeof(*cuts), cmp_cut);
	struct pg_change_point *cp = pg_calloc(ncuts, sizeof(*cp));
	for (size_t i = 0; i < ncuts; i++) {
		size_t at = cuts[i].at;
		size_t lo = i ? cuts[i - 1].at : 0;
		size_t hi = i + 1 < ncuts ? cuts[i + 1].at : n;
		cp[i].index = at;
		cp[i].p = cuts[i].p;
		cp[i].before = pg_stats_median(x + lo, at - lo);
		cp[i].after = pg_stats_median(x + at, hi - at);
		cp[i].change_pct = cp[i].before != 0
				       ? (cp[i].after / cp[i].before - 1) * 100
				       : NAN;
	}
	return cp;
}

int pg_analysis_change_points(const double *x, size_t n,
			      const struct pg_cp_options *o,
			      struct pg_change_point **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	int rc = check_input(x, n, o);
	if (rc || n < 2)
		return rc;
	size_t w = o->window && o->window < n ? o->window : n;
	uint64_t rng = o->seed;
	struct search S;
	search_init(&S, w, o->min_size);
	struct segment *segs = pg_malloc(w * sizeof(*segs));
	struct cut *cuts = pg_malloc(n * sizeof(*cuts));
	size_t ncuts = 0;
	if (w == n)
		divide(&S, x, n, 0, o, &rng, segs, cuts, &ncuts);
	else
		divide_windows(&S, x, n, w, o, &rng, segs, cuts, &ncuts);
	if (ncuts) {
		*out = describe_cuts(x, n, cuts, ncuts);
		*n_out = ncuts;
	}
	free(cuts);
	free(segs);
	search_release(&S);
	return 0;
}
