/*
 * pages_test.c - the HTML and SVG page writers of src/report (page.c,
 * html_profile.c, html_check.c, html_history.c, svg_flame.c): hostile
 * function names stay inert (the SVG parses as XML, the HTML's data
 * island cannot end its script element and reads back as the same
 * names), the differential tree is the union of both sides' trees, and
 * history points are medians with distribution-free intervals.
 * tests/browser opens the same pages in Chromium.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "perfguard/report.h"

static const char *const hostile[] = {
    "app.py:</script><script>alert(1)</script>",
    "app.py:<!-- ]]> & \"quoted\" 'single'",
    "app.py:bad \xff\xfe utf8 \x01 control",
};

/* root -> main -> hostile[k] (k = 0..2), one trial, self times given. */
static void make_profile(struct pg_profile *p, const int64_t *self_ns)
{
	pg_profile_init(p);
	uint32_t f_main = pg_profile_intern(p, "app.py:main", "app.py", 1, 0);
	uint32_t f[3];
	for (int k = 0; k < 3; k++)
		f[k] = pg_profile_intern(p, hostile[k], "app.py", 2 + k,
					 k == 1 ? PG_FUNC_GENERATOR : 0);
	size_t t = pg_profile_add_trial(p);
	p->trials[t].threads = 2;
	uint32_t root = pg_profile_root(p);
	uint32_t m = pg_profile_child(p, root, f_main);
	p->nodes[m].calls = 1;
	for (int k = 0; k < 3; k++) {
		uint32_t c = pg_profile_child(p, m, f[k]);
		p->nodes[c].calls = 10;
		p->nodes[c].self_ns = self_ns[k];
		p->trials[t].samples[f[k]].calls = 10;
		p->trials[t].samples[f[k]].self_ns = self_ns[k];
		p->trials[t].total_ns += self_ns[k];
	}
}

/* The JSON between <script type="application/json" id="pg-data"> and
 * the next "</script>" (new string), or NULL. */
static char *data_island(const char *html)
{
	const char *open = "<script type=\"application/json\" id=\"pg-data\">";
	const char *s = strstr(html, open);
	if (!s)
		return NULL;
	s += strlen(open);
	const char *e = strstr(s, "</script>");
	return e ? pg_strndup(s, (size_t)(e - s)) : NULL;
}

static void svg_parses_as_xml_with_hostile_names(void **state)
{
	(void)state;
	struct pg_profile p;
	int64_t self[3] = {1000000, 2000000, 3000000};
	make_profile(&p, self);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_profile_svg(&p, "t <&> \"x\"", &out), 0);
	xmlDocPtr doc = xmlReadMemory(out.data, (int)out.len, "t.svg", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_non_null(strstr(out.data, "&lt;/script&gt;&lt;script&gt;"));
	assert_null(strstr(out.data, "<script>alert"));
	pg_buf_release(&out);
	pg_profile_release(&p);
}

static void html_data_island_cannot_end_its_script(void **state)
{
	(void)state;
	struct pg_profile p;
	int64_t self[3] = {1000000, 2000000, 3000000};
	make_profile(&p, self);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_profile_html(&p, "</title>x", &out), 0);
	assert_null(strstr(out.data, "</title>x"));
	char *json = data_island(out.data);
	assert_non_null(json);
	assert_null(strchr(json, '<'));
	assert_null(strchr(json, '>'));
	struct pg_json *j = NULL;
	assert_int_equal(pg_json_parse(json, strlen(json), &j), 0);
	const struct pg_json *funcs =
	    pg_json_get_object(pg_json_get_object(j, "profile"), "funcs");
	const struct pg_json *ids = pg_json_get_array(funcs, "id");
	assert_non_null(ids);
	assert_int_equal(ids->len, 4);
	/* The names read back as written (invalid UTF-8 replaced). */
	assert_string_equal(ids->items[1]->string, hostile[0]);
	assert_string_equal(ids->items[2]->string, hostile[1]);
	const struct pg_json *meta =
	    pg_json_get_object(pg_json_get_object(j, "profile"), "meta");
	int64_t threads = 0;
	assert_int_equal(pg_json_get_i64(meta, "threads", &threads), 0);
	assert_int_equal(threads, 2);
	pg_json_free(j);
	free(json);
	pg_buf_release(&out);
	pg_profile_release(&p);
}

static void check_page_tree_is_the_union_of_both_sides(void **state)
{
	(void)state;
	struct pg_results base, head;
	pg_results_init(&base);
	pg_results_init(&head);
	int64_t bs[3] = {1000000, 2000000, 3000000};
	int64_t hs[3] = {4000000, 2000000, 3000000};
	struct pg_bench_result *b = pg_results_add_bench(&base, "work");
	struct pg_bench_result *h = pg_results_add_bench(&head, "work");
	pg_profile_release(&b->profile);
	pg_profile_release(&h->profile);
	make_profile(&b->profile, bs);
	make_profile(&h->profile, hs);
	/* head gains a call main -> extra that base never made */
	uint32_t fx =
	    pg_profile_intern(&h->profile, "app.py:extra", "app.py", 9, 0);
	uint32_t cx = pg_profile_child(&h->profile, 1, fx);
	h->profile.nodes[cx].self_ns = 500;
	struct pg_verdicts v = {0};
	struct pg_check_report r = {
	    .base = &base,
	    .head = &head,
	    .verdicts = &v,
	    .base_label = "main",
	    .head_label = "<b>head</b>",
	    .mode = "files",
	};
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_check_html(&r, &out), 0);
	assert_null(strstr(out.data, "<b>head</b>"));
	char *json = data_island(out.data);
	struct pg_json *j = NULL;
	assert_int_equal(pg_json_parse(json, strlen(json), &j), 0);
	const struct pg_json *benches = pg_json_get_array(j, "benches");
	assert_int_equal(benches->len, 1);
	const struct pg_json *tree =
	    pg_json_get_object(benches->items[0], "tree");
	const struct pg_json *side = pg_json_get_array(tree, "side");
	/* root, main, three hostile frames, extra */
	assert_int_equal(side->len, 6);
	int head_only = 0, both = 0;
	for (size_t i = 0; i < side->len; i++) {
		int64_t s =
		    side->ints ? side->ints[i] : side->items[i]->integer;
		head_only += s == 1;
		both += s == 3;
	}
	assert_int_equal(head_only, 1);
	assert_int_equal(both, 5);
	pg_json_free(j);
	free(json);
	pg_buf_release(&out);
	pg_results_release(&base);
	pg_results_release(&head);
}

static void history_points_are_medians_with_intervals(void **state)
{
	(void)state;
	struct pg_results r[2];
	struct pg_report_commit c[2];
	for (int k = 0; k < 2; k++) {
		pg_results_init(&r[k]);
		struct pg_bench_result *b = pg_results_add_bench(&r[k], "w");
		pg_profile_intern(&b->profile, "app.py:f", "app.py", 1, 0);
		/* 5 trials: totals 1..5 ms (+ 10 ms on the second commit) */
		for (int t = 0; t < 5; t++) {
			size_t i = pg_profile_add_trial(&b->profile);
			int64_t ns = (t + 1) * 1000000 + k * 10000000;
			b->profile.trials[i].total_ns = ns;
			b->profile.trials[i].samples[0].self_ns = ns;
			b->profile.trials[i].samples[0].calls = 1;
		}
		c[k] = (struct pg_report_commit){.commit = k ? "bb" : "aa",
						 .subject = "s",
						 .results = &r[k]};
	}
	struct pg_report_history h;
	pg_report_history_build(&h, c, 2, 3);
	assert_int_equal(h.nseries, 2); /* the total and app.py:f */
	assert_null(h.series[0].function);
	assert_string_equal(h.series[1].function, "app.py:f");
	assert_float_equal(h.series[0].median_ns[0], 3e6, 1);
	/* 5 trials are too few for 95%: the interval is the range */
	assert_float_equal(h.series[0].low_ns[0], 1e6, 1);
	assert_float_equal(h.series[0].high_ns[0], 5e6, 1);
	assert_float_equal(h.series[1].median_ns[1], 13e6, 1);
	pg_report_series_add_change_point(&h.series[0], 1, 333.0);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_history_html(&h, "h", &out), 0);
	assert_non_null(strstr(out.data, "\"change_points\":[{\"index\":1"));
	pg_buf_release(&out);
	pg_report_history_release(&h);
	pg_results_release(&r[0]);
	pg_results_release(&r[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(svg_parses_as_xml_with_hostile_names),
	    cmocka_unit_test(html_data_island_cannot_end_its_script),
	    cmocka_unit_test(check_page_tree_is_the_union_of_both_sides),
	    cmocka_unit_test(history_points_are_medians_with_intervals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
