/*
 * page.c - the skeleton every HTML page shares, the escaping that keeps
 * hostile function names inert, and the profile data the flame graph
 * script reads.
 *
 * Invariant: nothing from a profile is written to a page except through
 * pg_report_page_escape (markup) or pg_report_page_data (JSON in a
 * script element). This file knows nothing about what a page shows.
 */
#include "page.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/report.h"
#include "perfguard/stats.h"

void pg_report_page_escape(struct pg_buf *out, const char *s)
{
	if (!s)
		return;
	char *clean = pg_report_xml_sanitise(s, strlen(s));
	const char *p = clean;
	while (*p) {
		size_t run = strcspn(p, "&<>\"'");
		pg_buf_add(out, p, run);
		p += run;
		switch (*p) {
		case '&':
			pg_buf_puts(out, "&amp;");
			break;
		case '<':
			pg_buf_puts(out, "&lt;");
			break;
		case '>':
			pg_buf_puts(out, "&gt;");
			break;
		case '"':
			pg_buf_puts(out, "&quot;");
			break;
		case '\'':
			pg_buf_puts(out, "&#39;");
			break;
		default:
			continue; /* the terminating NUL */
		}
		p++;
	}
	free(clean);
}

void pg_report_page_begin(struct pg_buf *out, const char *kind,
			  const char *title, const char *subtitle)
{
	pg_buf_puts(out,
		    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		    "<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, "
		    "initial-scale=1\">\n"
		    "<meta name=\"generator\" content=\"perfguard " PG_VERSION
		    "\">\n<title>");
	pg_report_page_escape(out, title);
	pg_buf_puts(out, "</title>\n<style>\n");
	pg_buf_puts(out, pg_asset_page_css);
	pg_buf_printf(out, "</style>\n</head>\n<body class=\"pg-%s\">\n", kind);
	pg_buf_puts(out, "<header class=\"pg-header\"><h1>");
	pg_report_page_escape(out, title);
	pg_buf_puts(out, "</h1>");
	if (subtitle) {
		pg_buf_puts(out, "<p class=\"pg-subtitle\">");
		pg_report_page_escape(out, subtitle);
		pg_buf_puts(out, "</p>");
	}
	pg_buf_puts(out, "</header>\n<noscript><p>This page draws its charts "
			 "with JavaScript; please enable it.</p></noscript>\n"
			 "<main id=\"pg-main\"></main>\n");
}

/* The data island: '<', '>' and '&' only occur inside JSON strings, where
 * \u escapes are the same characters to JSON.parse. */
static void put_data(struct pg_buf *out, const char *json, size_t len)
{
	pg_buf_puts(out, "<script type=\"application/json\" id=\"pg-data\">");
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		while (run < len && json[run] != '<' && json[run] != '>' &&
		       json[run] != '&')
			run++;
		pg_buf_add(out, json + i, run - i);
		if (run == len)
			break;
		pg_buf_printf(out, "\\u%04x", (unsigned)json[run]);
		i = run + 1;
	}
	pg_buf_puts(out, "</script>\n");
}

int pg_report_page_end(struct pg_buf *out, const struct pg_buf *json,
		       const char *script)
{
	put_data(out, json->data ? json->data : "{}", json->len);
	const char *const scripts[] = {pg_asset_flame_js, script};
	for (size_t i = 0; i < 2; i++) {
		pg_buf_puts(out, "<script>\n");
		pg_buf_puts(out, scripts[i]);
		pg_buf_puts(out, "</script>\n");
	}
	return pg_buf_puts(out, "</body>\n</html>\n");
}

uint32_t pg_report_page_threads(const struct pg_profile *p)
{
	uint32_t threads = p->ntrials ? 1 : 0;
	for (size_t t = 0; t < p->ntrials; t++)
		if (p->trials[t].threads > threads)
			threads = p->trials[t].threads;
	return threads;
}

void pg_report_page_num(struct pg_jw *w, double x)
{
	double r = nearbyint(x);
	if (fabs(x - r) < 1e-9 && fabs(r) < 9e15)
		pg_jw_int(w, (int64_t)r);
	else
		pg_jw_double(w, nearbyint(x * 100) / 100);
}

/* Median over trials of the wall time (wall) or the profiled total. */
static double median_trial(const struct pg_profile *p, bool wall)
{
	if (!p->ntrials)
		return 0;
	double *v = pg_malloc(p->ntrials * sizeof(*v));
	for (size_t t = 0; t < p->ntrials; t++)
		v[t] = (double)(wall ? p->trials[t].wall_ns
				     : p->trials[t].total_ns);
	double m = pg_stats_median(v, p->ntrials);
	free(v);
	return m;
}

static void put_meta(const struct pg_profile *p, struct pg_jw *w)
{
	pg_jw_key(w, "meta");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "python");
	pg_jw_str(w, p->python);
	pg_jw_key(w, "mechanism");
	pg_jw_str(w, p->mechanism);
	pg_jw_key(w, "timer");
	pg_jw_str(w, p->timer);
	pg_jw_key(w, "event_cost_ns");
	pg_jw_double(w, p->event_cost_ns);
	pg_jw_key(w, "trials");
	pg_jw_uint(w, p->ntrials);
	pg_jw_key(w, "threads");
	pg_jw_uint(w, pg_report_page_threads(p));
	pg_jw_key(w, "wall_ns");
	pg_report_page_num(w, median_trial(p, true));
	pg_jw_key(w, "total_ns");
	pg_report_page_num(w, median_trial(p, false));
	pg_jw_obj_end(w);
}

void pg_report_page_column(struct pg_jw *w, const char *key, const double *v,
			   size_t n)
{
	pg_jw_key(w, key);
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		if (isfinite(v[i]))
			pg_report_page_num(w, v[i]);
		else
			pg_jw_null(w);
	}
	pg_jw_arr_end(w);
}

void pg_report_page_func_columns(struct pg_jw *w,
				 const struct pg_func *const *funcs, size_t n)
{
	pg_jw_key(w, "id");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		pg_jw_str(w, funcs[i]->id);
	pg_jw_arr_end(w);
	pg_jw_key(w, "file");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		pg_jw_str(w, funcs[i]->file);
	pg_jw_arr_end(w);
	pg_jw_key(w, "line");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		pg_jw_int(w, funcs[i]->line);
	pg_jw_arr_end(w);
	pg_jw_key(w, "flags");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		pg_jw_uint(w, funcs[i]->flags);
	pg_jw_arr_end(w);
}

/* The columns the profile page reads, one scratch array at a time. */
enum column {
	FUNC_CALLS,
	FUNC_PCALLS,
	FUNC_RESUMES,
	FUNC_SELF,
	FUNC_INCL,
	FUNC_SELF_MAD,
	NODE_PARENT,
	NODE_FUNC,
	NODE_CALLS,
	NODE_SELF,
	EDGE_CALLER,
	EDGE_CALLEE,
	EDGE_CALLS,
	EDGE_INCL,
};

static double value(const struct pg_profile *p,
		    const struct pg_func_summary *by, enum column c, size_t i)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	switch (c) {
	case FUNC_CALLS:
		return by[i].calls;
	case FUNC_PCALLS:
		return by[i].pcalls;
	case FUNC_RESUMES:
		return by[i].resumes;
	case FUNC_SELF:
		return by[i].self_ns;
	case FUNC_INCL:
		return by[i].incl_ns;
	case FUNC_SELF_MAD:
		return by[i].self_mad_ns;
	case NODE_PARENT:
		return p->nodes[i].parent;
	case NODE_FUNC:
		return p->nodes[i].func == PG_NO_FUNC
			   ? -1.0
			   : (double)p->nodes[i].func;
	case NODE_CALLS:
		return (double)p->nodes[i].calls / nt;
	case NODE_SELF:
		return nearbyint((double)p->nodes[i].self_ns / nt);
	case EDGE_CALLER:
		return p->edges[i].caller;
	case EDGE_CALLEE:
		return p->edges[i].callee;
	case EDGE_CALLS:
		return (double)p->edges[i].calls / nt;
	case EDGE_INCL:
		return nearbyint((double)p->edges[i].incl_ns / nt);
	}
	return NAN;
}

/* Object `object` with columns keys[0..n) = value(first + k) over count. */
static void put_object(struct pg_jw *w, const struct pg_profile *p,
		       const struct pg_func_summary *by, const char *object,
		       const char *const *keys, size_t nkeys, enum column first,
		       size_t count)
{
	double *v = pg_malloc((count ? count : 1) * sizeof(*v));
	pg_jw_key(w, object);
	pg_jw_obj_begin(w);
	if (first == FUNC_CALLS) {
		const struct pg_func **f =
		    pg_malloc((count ? count : 1) * sizeof(*f));
		for (size_t i = 0; i < count; i++)
			f[i] = &p->funcs[i];
		pg_report_page_func_columns(w, f, count);
		free(f);
	}
	for (size_t k = 0; k < nkeys; k++) {
		for (size_t i = 0; i < count; i++)
			v[i] = value(p, by, (enum column)(first + k), i);
		pg_report_page_column(w, keys[k], v, count);
	}
	pg_jw_obj_end(w);
	free(v);
}

void pg_report_page_profile_json(const struct pg_profile *p, struct pg_jw *w)
{
	static const char *const func_keys[] = {"calls", "pcalls", "resumes",
						"self",	 "incl",   "self_mad"};
	static const char *const node_keys[] = {"parent", "func", "calls",
						"self"};
	static const char *const edge_keys[] = {"caller", "callee", "calls",
						"incl"};
	struct pg_func_summary *s = NULL;
	pg_profile_summarise(p, PG_SORT_TOTTIME, &s);
	/* Summaries come sorted; the page wants them by function index. */
	struct pg_func_summary *by = pg_calloc(p->nfuncs + 1, sizeof(*by));
	for (size_t i = 0; i < p->nfuncs; i++)
		by[s[i].func] = s[i];
	free(s);
	pg_jw_obj_begin(w);
	put_meta(p, w);
	put_object(w, p, by, "funcs", func_keys, 6, FUNC_CALLS, p->nfuncs);
	put_object(w, p, by, "nodes", node_keys, 4, NODE_PARENT, p->nnodes);
	put_object(w, p, by, "edges", edge_keys, 4, EDGE_CALLER, p->nedges);
	pg_jw_obj_end(w);
	free(by);
}
