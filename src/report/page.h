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
 * Append json (a complete JSON document) as
 * <script type="application/json" id="pg-data">, with every '<', '>' and
 * '&' written as a \u escape so nothing inside can end the script element
 * (JSON.parse reads the escapes back as the same characters).
 */
void pg_report_page_data(struct pg_buf *out, const char *json, size_t len);

/*
 * Close a page: each script of `scripts` (NULL-terminated) inlined in
 * order, then </body></html>. Returns PG_ELIMIT if out hit its cap.
 */
int pg_report_page_end(struct pg_buf *out, const char *const *scripts);

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

/* The largest thread count of p's trials (at least 1 when it has trials). */
uint32_t pg_report_page_threads(const struct pg_profile *p);

#endif
