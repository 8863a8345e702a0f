/*
 * history.c - the points of a history series: per commit, the median of
 * a benchmark's total or of one function's self time over the trials of
 * its stored baseline, with a distribution-free interval.
 *
 * The interval of the median is the pair of order statistics
 * (x_(l), x_(n+1-l)) with the largest l such that P(Bin(n, 1/2) < l) <=
 * (1 - conf) / 2; its coverage is at least conf whatever the distribution.
 * With too few trials for conf (n < 6 at 95%) it widens to the range.
 */
#include "perfguard/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void pg_analysis_median_interval(const double *x, size_t n, double conf,
				 double *median_out, double *low_out,
				 double *high_out)
{
	if (n == 0) {
		*median_out = *low_out = *high_out = NAN;
		return;
	}
	double *s = pg_malloc(n * sizeof(*s));
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*median_out = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	/* l = 1-based rank of the lower bound: the largest l with
	 * P(B <= l - 1) <= (1 - conf) / 2, B ~ Bin(n, 1/2) */
	double tail = (1 - conf) / 2, cdf = 0, term = pow(0.5, (double)n);
	size_t l = 1;
	for (size_t k = 0; k < n / 2; k++) {
		cdf += term; /* P(B <= k) */
		if (cdf > tail)
			break;
		l = k + 1;
		term *= (double)(n - k) / (double)(k + 1);
	}
	if (l > (n + 1) / 2)
		l = (n + 1) / 2;
	*low_out = s[l - 1];
	*high_out = s[n - l];
	free(s);
}

int pg_analysis_trial_values(const struct pg_bench_result *b,
			     const char *func_id, double **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	const struct pg_profile *p = &b->profile;
	if (!p->ntrials)
		return pg_error_set(PG_ENOTFOUND, "%s has no trials", b->name);
	uint32_t f = PG_NO_FUNC;
	if (func_id && (f = pg_profile_find(p, func_id)) == PG_NO_FUNC)
		return pg_error_set(PG_ENOTFOUND, "%s: no function %s", b->name,
				    func_id);
	double *v = pg_malloc(p->ntrials * sizeof(*v));
	for (size_t t = 0; t < p->ntrials; t++)
		v[t] = f == PG_NO_FUNC
			   ? (double)p->trials[t].total_ns
			   : (double)p->trials[t].samples[f].self_ns;
	*out = v;
	*n_out = p->ntrials;
	return 0;
}
