/*
 * html_profile.c - `perfguard profile --format html`: one self-contained
 * page with an interactive flame graph of the calling-context tree, the
 * function table and callers/callees (src/report/assets/profile.js draws
 * them from the profile's JSON).
 *
 * The page holds the whole tree (per-trial means) and every function
 * (medians); the script aggregates what is narrower than a pixel, so the
 * file grows linearly with the tree and never needs a server.
 */
#include "page.h"

#include <stdio.h>

#include "perfguard/report.h"

int pg_report_profile_html(const struct pg_profile *p, const char *title,
			   struct pg_buf *out)
{
	char subtitle[256];
	snprintf(subtitle, sizeof(subtitle),
		 "perfguard profile · Python %s · %zu trial%s · %u thread%s",
		 p->python[0] ? p->python : "?", p->ntrials,
		 p->ntrials == 1 ? "" : "s", pg_report_page_threads(p),
		 pg_report_page_threads(p) == 1 ? "" : "s");
	pg_report_page_begin(out, "profile", title, subtitle);
	struct pg_buf json;
	pg_buf_init(&json, 0);
	struct pg_jw w;
	pg_jw_init(&w, &json, false);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "profile");
	pg_jw_key(&w, "title");
	pg_jw_str(&w, title);
	pg_jw_key(&w, "profile");
	pg_report_page_profile_json(p, &w);
	pg_jw_obj_end(&w);
	int rc = pg_report_page_end(out, &json, pg_asset_profile_js);
	pg_buf_release(&json);
	return rc;
}
