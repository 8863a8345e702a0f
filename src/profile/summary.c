/*
 * summary.c - per-function summaries across trials (medians, MAD, share)
 * and the cProfile-style text table built from them.
 *
 * Medians make one noisy trial harmless; the spread (MAD relative to the
 * median self time) tells how much to trust a row. Ordering is total:
 * ties fall back to the function id, so output is deterministic.
 *
 * Deliberately not here: statistics tests (stats), other export formats
 * (export.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of v[0..n-1]; reorders v. 0 for n == 0. */
static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct sort_ctx {
	const struct pg_profile *p;
	enum pg_sort_key key;
};

static int cmp_summary(const void *a, const void *b, void *arg)
{
	const struct pg_func_summary *x = a, *y = b;
	const struct sort_ctx *c = arg;
	double dx = 0, dy = 0;
	switch (c->key) {
	case PG_SORT_TOTTIME:
		dx = x->self_ns;
		dy = y->self_ns;
		break;
	case PG_SORT_CUMTIME:
		dx = x->incl_ns;
		dy = y->incl_ns;
		break;
	case PG_SORT_CALLS:
		dx = x->calls;
		dy = y->calls;
		break;
	case PG_SORT_NAME:
		break;
	}
	if (dx != dy)
		return dx < dy ? 1 : -1; /* descending */
	return strcmp(c->p->funcs[x->func].id, c->p->funcs[y->func].id);
}

void pg_profile_summarise(const struct pg_profile *p, enum pg_sort_key key,
			  struct pg_func_summary **out)
{
	size_t n = p->nfuncs, nt = p->ntrials;
	struct pg_func_summary *s = pg_calloc(n ? n : 1, sizeof(*s));
	double *col = pg_malloc((nt ? nt : 1) * sizeof(*col));

	for (size_t t = 0; t < nt; t++)
		col[t] = (double)p->trials[t].total_ns;
	double total = median(col, nt);

	for (size_t f = 0; f < n; f++) {
		struct pg_func_summary *fs = &s[f];
		fs->func = (uint32_t)f;
#define MEDIAN_OF(field)                                                       \
	do {                                                                   \
		for (size_t t = 0; t < nt; t++)                                \
			col[t] = (double)p->trials[t].samples[f].field;        \
		fs->field = median(col, nt);                                   \
	} while (0)
		MEDIAN_OF(calls);
		MEDIAN_OF(pcalls);
		MEDIAN_OF(resumes);
		MEDIAN_OF(incl_ns);
		MEDIAN_OF(self_ns);
#undef MEDIAN_OF
		for (size_t t = 0; t < nt; t++)
			col[t] = fabs((double)p->trials[t].samples[f].self_ns -
				      fs->self_ns);
		fs->self_mad_ns = median(col, nt);
		fs->self_share = total > 0 ? fs->self_ns / total : 0;
	}
	free(col);
	struct sort_ctx ctx = {p, key};
	qsort_r(s, n, sizeof(*s), cmp_summary, &ctx);
	*out = s;
}

static const char *order_name(enum pg_sort_key key)
{
	switch (key) {
	case PG_SORT_TOTTIME:
		return "internal time";
	case PG_SORT_CUMTIME:
		return "cumulative time";
	case PG_SORT_CALLS:
		return "call count";
	case PG_SORT_NAME:
		return "function name";
	}
	return "?";
}

/* cProfile's f8: seconds with 3 decimals in 8 columns. */
static void f8(struct pg_buf *b, double ns)
{
	pg_buf_printf(b, "%8.3f ", ns / 1e9);
}

/* The lines above the rows: calls, time, order, the header. */
static void put_table_head(struct pg_buf *b, const struct pg_profile *p,
			   const struct pg_func_summary *s,
			   enum pg_sort_key key, size_t rows, size_t limit)
{
	bool spread = p->ntrials > 1;
	double calls = 0, pcalls = 0;
	for (size_t i = 0; i < p->nfuncs; i++) {
		calls += round(s[i].calls);
		pcalls += round(s[i].pcalls);
	}
	double *tot = pg_malloc((p->ntrials ? p->ntrials : 1) * sizeof(*tot));
	for (size_t t = 0; t < p->ntrials; t++)
		tot[t] = (double)p->trials[t].total_ns;
	double total_ns = median(tot, p->ntrials);
	free(tot);

	pg_buf_printf(b, "        %.0f function calls", calls);
	if (pcalls != calls)
		pg_buf_printf(b, " (%.0f primitive calls)", pcalls);
	pg_buf_printf(b, " in %.3f seconds", total_ns / 1e9);
	if (spread)
		pg_buf_printf(b, " (median of %zu trials)", p->ntrials);
	pg_buf_printf(b, "\n\n   Ordered by: %s\n", order_name(key));
	if (rows < p->nfuncs)
		pg_buf_printf(b,
			      "   List reduced from %zu to %zu due to "
			      "restriction <%zu>\n",
			      p->nfuncs, rows, limit);
	pg_buf_puts(b, "\n   ncalls  tottime  percall  cumtime  percall ");
	if (spread)
		pg_buf_puts(b, "  spread ");
	pg_buf_puts(b, "function\n");
}

/* One function's row; returns whether it is folded. */
static bool put_table_row(struct pg_buf *b, const struct pg_profile *p,
			  const struct pg_func_summary *r)
{
	char ncalls[64];
	double nc = round(r->calls), cc = round(r->pcalls);
	if (nc != cc)
		snprintf(ncalls, sizeof(ncalls), "%.0f/%.0f", nc, cc);
	else
		snprintf(ncalls, sizeof(ncalls), "%.0f", nc);
	pg_buf_printf(b, "%9s ", ncalls);
	f8(b, r->self_ns);
	if (nc > 0)
		f8(b, r->self_ns / nc);
	else
		pg_buf_puts(b, "         ");
	f8(b, r->incl_ns);
	if (cc > 0)
		f8(b, r->incl_ns / cc);
	else
		pg_buf_puts(b, "         ");
	if (p->ntrials > 1) {
		if (r->self_ns > 0)
			pg_buf_printf(b, "%7.1f%% ",
				      100 * r->self_mad_ns / r->self_ns);
		else
			pg_buf_puts(b, "       - ");
	}
	bool folded = p->funcs[r->func].flags & PG_FUNC_FOLDED;
	pg_buf_printf(b, "%s%s\n", p->funcs[r->func].id,
		      folded ? " [+folded]" : "");
	return folded;
}

int pg_profile_export_table(const struct pg_profile *p, enum pg_sort_key key,
			    size_t limit, struct pg_buf *out)
{
	struct pg_func_summary *s;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_profile_summarise(p, key, &s);
	size_t rows = limit && limit < p->nfuncs ? limit : p->nfuncs;
	put_table_head(&b, p, s, key, rows, limit);
	bool any_folded = false;
	for (size_t i = 0; i < rows; i++)
		any_folded |= put_table_row(&b, p, &s[i]);
	if (any_folded)
		pg_buf_puts(&b,
			    "\n   [+folded]: its time includes code outside "
			    "the profile's scope that it called\n");
	free(s);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}
