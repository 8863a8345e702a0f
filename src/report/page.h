/*
 * page.h - what the HTML and SVG page writers share: escaping, the
 * embedded assets (src/report/assets, compiled in by
 * cmake/embed_assets.cmake), the skeleton of a self-contained page and
 * the JSON "data island" a page's script reads.
 *
 * Every string that came from a profile (function ids, file names,
 * benchmark names, commit subjects) reaches a page only through
 * pg_report_page_escape (HTML text, attribute values, SVG/XML) or
 * pg_report_page_data (JSON inside <script>, where "</script>" and "<!--"
 * must not appear). Pages load nothing from anywhere: CSS and JavaScript
 * are inlined.
 */
#ifndef PG_REPORT_PAGE_H
#define PG_REPORT_PAGE_H

#include "perfguard/profile.h"
#include "perfguard/util.h"

/* The embedded assets, NUL-terminated (generated report_assets.c). */
extern const char *const pg_asset_page_css;
extern const char *const pg_asset_flame_js;
extern const char *const pg_asset_profile_js;
extern const char *const pg_asset_check_js;
extern const char *const pg_asset_history_js;
extern const char *const pg_asset_svg_js;

/*
 * Append s escaped for HTML/XML text and attribute values (& < > " ' as
 * entities); bytes that are not valid UTF-8 XML characters become U+FFFD.
 * NULL appends nothing.
 */
void pg_report_page_escape(struct pg_buf *out, const char *s);

/*
 * Open a page: doctype, <meta charset>, the escaped title, the page CSS,
 * and <body class="pg-KIND"> with a header naming the page. `subtitle`
 * (escaped, may be NULL) goes under the title.
 */
void pg_report_page_begin(struct pg_buf *out, const char *kind,
			  const char *title, const char *subtitle);

/*
 * Close a page: json (a complete JSON document) as
 * <script type="application/json" id="pg-data">, with every '<', '>' and
 * '&' written as a \u escape so nothing inside can end the script element
 * or open a comment; then flame.js and the page's `script` inlined, then
 * </body></html>. Returns PG_ELIMIT if out hit its cap.
 */
int pg_report_page_end(struct pg_buf *out, const struct pg_buf *json,
		       const char *script);

/*
 * The calling-context tree, functions and edges of p as the page scripts
 * read them (per-trial means of the tree and edges, per-function medians):
 * one JSON object value at w's position, keys documented in
 * src/report/assets/profile.js.
 */
void pg_report_page_profile_json(const struct pg_profile *p, struct pg_jw *w);

/*
 * Write x as a JSON number, as an integer when it is one (most times and
 * counts: keeps 50,000-node pages small), else rounded to 2 decimals.
 */
void pg_report_page_num(struct pg_jw *w, double x);

/* Column `key`: v[0..n) as JSON numbers (null where not finite). */
void pg_report_page_column(struct pg_jw *w, const char *key, const double *v,
			   size_t n);

/* Columns "id", "file", "line", "flags" of funcs[0..n). */
void pg_report_page_func_columns(struct pg_jw *w,
				 const struct pg_func *const *funcs, size_t n);

/* The largest thread count of p's trials (at least 1 when it has trials). */
uint32_t pg_report_page_threads(const struct pg_profile *p);

#endif
