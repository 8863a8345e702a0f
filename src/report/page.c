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

void pg_report_page_data(struct pg_buf *out, const char *json, size_t len)
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
		/* Only possible inside JSON strings, where \u escapes are
		 * the same characters to JSON.parse. */
		pg_buf_printf(out, "\\u%04x", (unsigned)json[run]);
		i = run + 1;
	}
	pg_buf_puts(out, "</script>\n");
}

int pg_report_page_end(struct pg_buf *out, const char *const *scripts)
{
	for (size_t i = 0; scripts[i]; i++) {
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

static void put_funcs(const struct pg_profile *p, struct pg_jw *w)
{
	struct pg_func_summary *s = NULL;
	pg_profile_summarise(p, PG_SORT_TOTTIME, &s);
	/* Summaries come sorted; the page wants them by function index. */
	struct pg_func_summary *by = pg_calloc(p->nfuncs + 1, sizeof(*by));
	for (size_t i = 0; i < p->nfuncs; i++)
		by[s[i].func] = s[i];
	free(s);
	pg_jw_key(w, "funcs");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "id");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++)
		pg_jw_str(w, p->funcs[i].id);
	pg_jw_arr_end(w);
	pg_jw_key(w, "file");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++)
		pg_jw_str(w, p->funcs[i].file);
	pg_jw_arr_end(w);
	pg_jw_key(w, "line");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++)
		pg_jw_int(w, p->funcs[i].line);
	pg_jw_arr_end(w);
	pg_jw_key(w, "flags");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nfuncs; i++)
		pg_jw_uint(w, p->funcs[i].flags);
	pg_jw_arr_end(w);
	static const char *const cols[] = {"calls", "pcalls", "resumes",
					   "self",  "incl",   "self_mad"};
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		pg_jw_key(w, cols[c]);
		pg_jw_arr_begin(w);
		for (size_t i = 0; i < p->nfuncs; i++) {
			const struct pg_func_summary *f = &by[i];
			double x = c == 0   ? f->calls
				   : c == 1 ? f->pcalls
				   : c == 2 ? f->resumes
				   : c == 3 ? f->self_ns
				   : c == 4 ? f->incl_ns
					    : f->self_mad_ns;
			pg_report_page_num(w, x);
		}
		pg_jw_arr_end(w);
	}
	pg_jw_obj_end(w);
	free(by);
}

static void put_nodes(const struct pg_profile *p, struct pg_jw *w)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	pg_jw_key(w, "nodes");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "parent");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nnodes; i++)
		pg_jw_uint(w, p->nodes[i].parent);
	pg_jw_arr_end(w);
	pg_jw_key(w, "func");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nnodes; i++)
		pg_jw_int(w, p->nodes[i].func == PG_NO_FUNC
				 ? -1
				 : (int64_t)p->nodes[i].func);
	pg_jw_arr_end(w);
	pg_jw_key(w, "calls");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nnodes; i++)
		pg_report_page_num(w, (double)p->nodes[i].calls / nt);
	pg_jw_arr_end(w);
	pg_jw_key(w, "self");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nnodes; i++)
		pg_report_page_num(w,
				   nearbyint((double)p->nodes[i].self_ns / nt));
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

static void put_edges(const struct pg_profile *p, struct pg_jw *w)
{
	double nt = p->ntrials ? (double)p->ntrials : 1;
	pg_jw_key(w, "edges");
	pg_jw_obj_begin(w);
	pg_jw_key(w, "caller");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nedges; i++)
		pg_jw_uint(w, p->edges[i].caller);
	pg_jw_arr_end(w);
	pg_jw_key(w, "callee");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nedges; i++)
		pg_jw_uint(w, p->edges[i].callee);
	pg_jw_arr_end(w);
	pg_jw_key(w, "calls");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nedges; i++)
		pg_report_page_num(w, (double)p->edges[i].calls / nt);
	pg_jw_arr_end(w);
	pg_jw_key(w, "incl");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < p->nedges; i++)
		pg_report_page_num(w,
				   nearbyint((double)p->edges[i].incl_ns / nt));
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

void pg_report_page_profile_json(const struct pg_profile *p, struct pg_jw *w)
{
	pg_jw_obj_begin(w);
	put_meta(p, w);
	put_funcs(p, w);
	put_nodes(p, w);
	put_edges(p, w);
	pg_jw_obj_end(w);
}
