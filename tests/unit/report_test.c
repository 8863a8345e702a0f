/*
 * report_test.c - unit tests of the report writers: JUnit (parsed and
 * validated against Jenkins' junit-10.xsd with libxml2), Markdown,
 * JSON (parsed back with pg_json_parse), GitHub annotations and the
 * terminal table, over synthetic check reports built by hand.
 *
 * Run with `--write-samples DIR` it instead writes sample JUnit files
 * (strict, annotated, hostile output, empty) for tests/report, which
 * validates them with the real xmllint.
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
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

#include "perfguard/report.h"

/* ---- fixtures ------------------------------------------------------- */

/* What a benchmark printed before it crashed: everything XML hates. */
static char *hostile_output(size_t size)
{
	static const char chunk[] = "line \x01\x02\x1b[2J ]]> <tag a=\"&\"> "
				    "\xff\xfe\xc3\x28 \xed\xa0\x80 ok é\n";
	char *s = malloc(size + 1);
	for (size_t i = 0; i < size; i++)
		s[i] = chunk[i % (sizeof(chunk) - 1)];
	s[size] = '\0';
	return s;
}

struct fixture {
	struct pg_results base, head;
	struct pg_verdicts verdicts;
	struct pg_check_report r;
};

static void add_trials(struct pg_bench_result *b, int n, int64_t total_ns)
{
	pg_profile_intern(&b->profile, "m.py:f", "m.py", 1, 0);
	for (int i = 0; i < n; i++) {
		size_t t = pg_profile_add_trial(&b->profile);
		b->profile.trials[t].total_ns = total_ns + i * 1000;
		b->profile.trials[t].wall_ns = total_ns + i * 1000 + 500;
	}
	b->rounds = n;
}

static struct pg_verdict *push(struct fixture *f, const char *bench,
			       const char *func, enum pg_metric metric,
			       enum pg_verdict_kind kind, double change)
{
	struct pg_verdict v = {
	    .bench = bench,
	    .func_id = func,
	    .metric = metric,
	    .kind = kind,
	    .base_value = 3.1e6,
	    .head_value = 3.1e6 * (1 + change / 100),
	    .change_pct = change,
	    .ci_lo_pct = change - 2.5,
	    .ci_hi_pct = change + 2.5,
	    .p = 3e-5,
	    .q = 0.01,
	    .threshold_pct = 10,
	    .share_pct = 12.5,
	    .base_calls = 400,
	    .head_calls = 400,
	    .base_n = 10,
	    .head_n = 10,
	};
	PG_VEC_PUSH(f->verdicts.v, f->verdicts.n, f->verdicts.cap, v);
	return &f->verdicts.v[f->verdicts.n - 1];
}

/*
 * Two benchmarks: render_page with three regressions (one in calls), an
 * improvement, an unchanged and an unjudged function; parse_json clean.
 */
static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	pg_results_init(&f->base);
	pg_results_init(&f->head);
	f->head.created = pg_strdup("2024-05-01T12:00:00Z");
	const char *names[] = {"render_page", "parse_json"};
	for (int i = 0; i < 2; i++) {
		add_trials(pg_results_add_bench(&f->base, names[i]), 10,
			   45000000);
		add_trials(pg_results_add_bench(&f->head, names[i]), 10,
			   46000000);
	}
	struct pg_verdict *v;
	push(f, "render_page", NULL, PG_METRIC_TOTAL, PG_VERDICT_UNCHANGED,
	     1.2);
	v = push(f, "render_page", "myapp/render.py:Template.render",
		 PG_METRIC_SELF, PG_VERDICT_REGRESSED, 12.4);
	v->file = "myapp/render.py";
	v->line = 42;
	v = push(f, "render_page", "myapp/render.py:Template.__init__",
		 PG_METRIC_SELF, PG_VERDICT_REGRESSED, 30.0);
	v->file = "myapp/render.py";
	v->line = 12;
	v = push(f, "render_page", "<builtin>:len", PG_METRIC_CALLS,
		 PG_VERDICT_REGRESSED, 0.5);
	v->head_calls = 800;
	v->p = v->q = 0;
	push(f, "render_page", "myapp/util.py:fast|path`x", PG_METRIC_SELF,
	     PG_VERDICT_IMPROVED, -20.0);
	push(f, "render_page", "myapp/util.py:steady", PG_METRIC_INCL,
	     PG_VERDICT_UNCHANGED, 0.3);
	push(f, "render_page", "myapp/util.py:tiny_unjudged", PG_METRIC_SELF,
	     PG_VERDICT_NOT_JUDGED, 50.0);
	push(f, "parse_json", NULL, PG_METRIC_TOTAL, PG_VERDICT_UNCHANGED,
	     -0.4);
	v = push(f, "parse_json", NULL, PG_METRIC_WALL, PG_VERDICT_UNCHANGED,
		 0.1);
	v->p = v->q = NAN;
	push(f, "parse_json", "<stdlib>/json/decoder.py:JSONDecoder.decode",
	     PG_METRIC_SELF, PG_VERDICT_UNCHANGED, 0.0);

	f->r = (struct pg_check_report){
	    .base = &f->base,
	    .head = &f->head,
	    .verdicts = &f->verdicts,
	    .base_label = "main @ 1a2b3c4",
	    .head_label = "HEAD @ 5d6e7f8 (dirty)",
	    .mode = "rerun",
	    .regressions = 3,
	};
	return f;
}

/* Make head's parse_json crash with a huge hostile output. */
static void fixture_crash(struct fixture *f, size_t output_bytes)
{
	struct pg_bench_result *b = pg_results_find(&f->head, "parse_json");
	b->status = PG_BENCH_FAILED;
	b->error = pg_strdup("exit status 1 (Traceback \x01 in \"x\")");
	b->output = hostile_output(output_bytes);
	b->output_len = strlen(b->output);
	f->r.failed = true;
}

static void fixture_free(struct fixture *f)
{
	pg_results_release(&f->base);
	pg_results_release(&f->head);
	free(f->verdicts.v);
	free(f);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- xml helpers ---------------------------------------------------- */

static char *schema_path(void)
{
	/* PG_TEST_DATA is <source>/tests/data; the schema is beside it. */
	const char *data = PG_TEST_DATA;
	const char *cut = strstr(data, "/tests/data");
	size_t n = cut ? (size_t)(cut - data) : strlen(data);
	return pg_asprintf("%.*s/../shared/schemas/junit-10.xsd", (int)n, data);
}

static xmlDocPtr parse_xml(const struct pg_buf *b)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, "junit.xml", NULL,
				      XML_PARSE_NONET);
	assert_non_null(doc);
	return doc;
}

/*
 * 0 when doc validates. Without the schema only validation is left out
 * (the test's other checks still run): skipping the whole test here would
 * leak its fixtures, which AddressSanitizer reports as a failure.
 */
static int validate(xmlDocPtr doc)
{
	char *path = schema_path();
	if (!pg_path_exists(path)) {
		print_message("schema %s not found: skipping validation\n",
			      path);
		free(path);
		return 0;
	}
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	xmlSchemaPtr schema = xmlSchemaParse(pc);
	assert_non_null(schema);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	free(path);
	return rc;
}

static double xpath_number(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	assert_non_null(o);
	double v = xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return v;
}

/* string(expr), newly allocated. */
static char *xpath_string(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	assert_non_null(o);
	xmlChar *s = xmlXPathCastToString(o);
	char *copy = pg_strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return copy;
}

static void junit(const struct fixture *f, enum pg_junit_flavor flavor,
		  struct pg_buf *out)
{
	pg_buf_init(out, 0);
	assert_int_equal(pg_report_junit(&f->r, flavor, out), 0);
}

/* ---- sanitising ----------------------------------------------------- */

static void sanitise_replaces_invalid_bytes_and_forbidden_chars(void **state)
{
	(void)state;
	/* NUL, 0x01, lone 0xff, truncated é, surrogate, U+FFFE, ESC. */
	static const char in[] = "a\0b\x01"
				 "c\xff"
				 "d\xc3"
				 "e\xed\xa0\x80"
				 "f\xef\xbf\xbe"
				 "g\x1b";
	char *out = pg_report_xml_sanitise(in, sizeof(in) - 1);
	assert_string_equal(out, "a\xEF\xBF\xBD"
				 "b\xEF\xBF\xBD"
				 "c\xEF\xBF\xBD"
				 "d\xEF\xBF\xBD"
				 "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
				 "f\xEF\xBF\xBD"
				 "g\xEF\xBF\xBD");
	free(out);
}

static void sanitise_keeps_valid_text_byte_for_byte(void **state)
{
	(void)state;
	static const char in[] = "tab\there\nCR\r é ü € 😀 ]]> <&>";
	char *out = pg_report_xml_sanitise(in, sizeof(in) - 1);
	assert_string_equal(out, in);
	free(out);
	out = pg_report_xml_sanitise(NULL, 0);
	assert_string_equal(out, "");
	free(out);
}

/* ---- junit ---------------------------------------------------------- */

static void junit_strict_validates_against_jenkins_schema(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	junit(f, PG_JUNIT_STRICT, &out);
	xmlDocPtr doc = parse_xml(&out);
	int rc = validate(doc);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
	assert_int_equal(rc, 0);
}

static void
junit_has_one_suite_per_benchmark_and_case_per_judged_function(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	junit(f, PG_JUNIT_STRICT, &out);
	xmlDocPtr doc = parse_xml(&out);
	assert_int_equal(xpath_number(doc, "count(/testsuites/testsuite)"), 2);
	/* total + 5 judged functions; the unjudged one is absent. */
	assert_int_equal(xpath_number(doc,
				      "count(//testsuite[@name='render_page']"
				      "/testcase)"),
			 6);
	assert_int_equal(xpath_number(doc,
				      "count(//testcase[@name='myapp/util.py:"
				      "tiny_unjudged'])"),
			 0);
	/* total + wall + one function. */
	assert_int_equal(xpath_number(doc,
				      "count(//testsuite[@name='parse_json']"
				      "/testcase)"),
			 3);
	assert_int_equal(
	    xpath_number(doc, "count(//testcase[@classname='render_page'])"),
	    6);
	assert_int_equal(
	    xpath_number(doc, "//testsuite[@name='render_page']/@tests"), 6);
	assert_int_equal(xpath_number(doc, "/testsuites/@tests"), 9);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_failure_message_is_the_verdict_line(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out, line;
	junit(f, PG_JUNIT_STRICT, &out);
	xmlDocPtr doc = parse_xml(&out);
	assert_int_equal(xpath_number(doc, "count(//failure)"), 3);
	assert_int_equal(
	    xpath_number(doc, "count(//failure[@type='regression'])"), 3);
	assert_int_equal(
	    xpath_number(doc, "//testsuite[@name='render_page']/@failures"), 3);
	assert_int_equal(xpath_number(doc, "/testsuites/@failures"), 3);

	pg_buf_init(&line, 0);
	pg_verdict_format(&f->verdicts.v[1], &line);
	char *msg = xpath_string(
	    doc, "//testcase[@name='myapp/render.py:Template.render']"
		 "/failure/@message");
	assert_string_equal(msg, line.data);
	char *body = xpath_string(
	    doc, "//testcase[@name='myapp/render.py:Template.render']"
		 "/failure");
	assert_non_null(strstr(body, "threshold +10.0%"));
	assert_non_null(strstr(body, "source: myapp/render.py:42"));
	free(msg);
	free(body);
	pg_buf_release(&line);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_times_have_at_most_three_decimals(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	junit(f, PG_JUNIT_STRICT, &out);
	size_t seen = 0;
	for (const char *p = out.data; (p = strstr(p, " time=\"")); seen++) {
		p += 7;
		size_t digits = strspn(p, "0123456789");
		assert_true(digits > 0);
		p += digits;
		if (*p == '.') {
			size_t dec = strspn(p + 1, "0123456789");
			assert_in_range(dec, 1, 3);
			p += 1 + dec;
		}
		assert_int_equal(*p, '"');
	}
	assert_true(seen >= 10);
	/* Template.render's head median 3.1 ms * 1.124 = 0.003 s. */
	xmlDocPtr doc = parse_xml(&out);
	char *t = xpath_string(
	    doc, "//testcase[@name='myapp/render.py:Template.render']/@time");
	assert_string_equal(t, "0.003");
	free(t);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_annotated_adds_file_and_line_strict_does_not(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	junit(f, PG_JUNIT_ANNOTATED, &out);
	xmlDocPtr doc = parse_xml(&out);
	char *file = xpath_string(
	    doc, "//testcase[@name='myapp/render.py:Template.render']/@file");
	char *line = xpath_string(
	    doc, "//testcase[@name='myapp/render.py:Template.render']/@line");
	assert_string_equal(file, "myapp/render.py");
	assert_string_equal(line, "42");
	free(file);
	free(line);
	xmlFreeDoc(doc);
	pg_buf_release(&out);

	junit(f, PG_JUNIT_STRICT, &out);
	assert_null(strstr(out.data, " file=\""));
	assert_null(strstr(out.data, " line=\""));
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_crash_is_an_error_with_bounded_sanitised_output(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	fixture_crash(f, 300 * 1024);
	struct pg_buf out;
	junit(f, PG_JUNIT_STRICT, &out);
	xmlDocPtr doc = parse_xml(&out);
	assert_int_equal(xpath_number(doc, "count(//error)"), 1);
	assert_int_equal(
	    xpath_number(doc, "//testsuite[@name='parse_json']/@errors"), 1);
	assert_int_equal(xpath_number(doc, "/testsuites/@errors"), 1);
	char *type = xpath_string(doc, "//error/@type");
	char *msg = xpath_string(doc, "//error/@message");
	char *body = xpath_string(doc, "//error");
	assert_string_equal(type, "crash");
	assert_non_null(strstr(msg, "head: benchmark failed: exit status 1"));
	/* The text survives as text: "]]>" and markup are data. */
	assert_non_null(strstr(body, "]]> <tag a=\"&\">"));
	assert_non_null(strstr(body, "\xEF\xBF\xBD"));
	assert_non_null(strstr(body, "earlier bytes of output not shown"));
	assert_null(strchr(body, '\x01'));
	/* 64 KiB of input at most, each byte at most 3 after sanitising. */
	assert_true(strlen(body) < 3 * 64 * 1024 + 200);
	assert_true(strlen(body) > 64 * 1024);
	assert_int_equal(validate(doc), 0);
	free(type);
	free(msg);
	free(body);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_timeout_and_skip_are_typed(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	pg_results_find(&f->base, "parse_json")->status = PG_BENCH_TIMEOUT;
	pg_results_find(&f->head, "render_page")->status = PG_BENCH_SKIPPED;
	struct pg_buf out;
	junit(f, PG_JUNIT_STRICT, &out);
	xmlDocPtr doc = parse_xml(&out);
	char *type = xpath_string(doc, "//error/@type");
	assert_string_equal(type, "timeout");
	free(type);
	assert_int_equal(xpath_number(doc, "count(//skipped)"), 1);
	assert_int_equal(
	    xpath_number(doc, "//testsuite[@name='render_page']/@skipped"), 1);
	assert_int_equal(validate(doc), 0);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_escapes_hostile_ids_and_labels(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	f->verdicts.v[1].func_id = "m.py:<evil>\"&'\x01\xff]]>";
	f->r.base_label = "main\x02 <x>";
	struct pg_buf out;
	junit(f, PG_JUNIT_ANNOTATED, &out);
	xmlDocPtr doc = parse_xml(&out);
	assert_int_equal(xpath_number(doc,
				      "count(//testcase[starts-with(@name, "
				      "'m.py:<evil>\"&')])"),
			 1);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
	fixture_free(f);
}

static void junit_of_an_empty_check_validates(void **state)
{
	(void)state;
	struct pg_verdicts none = {0};
	struct pg_check_report r = {.verdicts = &none};
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_junit(&r, PG_JUNIT_STRICT, &out), 0);
	xmlDocPtr doc = parse_xml(&out);
	assert_int_equal(xpath_number(doc, "count(//testsuite)"), 0);
	assert_int_equal(validate(doc), 0);
	xmlFreeDoc(doc);
	pg_buf_release(&out);
}

/* ---- markdown ------------------------------------------------------- */

static void
markdown_lists_regressions_worst_first_then_improvements(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_markdown(&f->r, &out), 0);
	const char *s = out.data;
	assert_true(pg_str_starts(s, "## ❌ perfguard: 3 regressions"));
	const char *reg = strstr(s, "### Regressions (3)");
	const char *len = strstr(s, "| render\\_page | &lt;builtin&gt;:len |");
	const char *init =
	    strstr(s, "Template.\\_\\_init\\_\\_ | self | +30.0%");
	const char *render = strstr(s, "Template.render | self | +12.4%");
	const char *imp = strstr(s, "### Improvements (1)");
	const char *fast = strstr(s, "fast\\|path\\`x | self | -20.0%");
	const char *details = strstr(s, "<details><summary><b>render_page");
	assert_non_null(reg);
	assert_non_null(len);
	assert_non_null(init);
	assert_non_null(render);
	assert_non_null(imp);
	assert_non_null(fast);
	assert_non_null(details);
	/* Calls +100% ranks above +30% above +12.4%. */
	assert_true(reg < len && len < init && init < render);
	assert_true(render < imp && imp < fast && fast < details);
	assert_int_equal(count(s, "<details>"), count(s, "</details>"));
	assert_null(strstr(s, "tiny\\_unjudged"));
	assert_non_null(strstr(s, "400 → 800 calls"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void markdown_escapes_pipes_and_backticks_in_ids(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_markdown(&f->r, &out), 0);
	assert_non_null(strstr(out.data, "fast\\|path\\`x"));
	assert_null(strstr(out.data, "fast|path"));
	assert_null(strstr(out.data, "path`x"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void markdown_headline_is_green_without_regressions(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	for (size_t i = 0; i < f->verdicts.n; i++)
		if (f->verdicts.v[i].kind == PG_VERDICT_REGRESSED)
			f->verdicts.v[i].kind = PG_VERDICT_UNCHANGED;
	f->r.regressions = 0;
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_markdown(&f->r, &out), 0);
	assert_true(pg_str_starts(out.data, "## ✅ perfguard: no regressions"));
	assert_null(strstr(out.data, "### Regressions"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void markdown_warns_about_mismatch_and_shows_crash_output(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	fixture_crash(f, 100 * 1024);
	f->r.fingerprint_mismatch = true;
	f->r.mismatch_what = "python";
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_markdown(&f->r, &out), 0);
	const char *s = out.data;
	assert_non_null(strstr(s, "[!WARNING]"));
	assert_non_null(strstr(s, "(python differs)"));
	assert_non_null(strstr(s, "### Failed benchmarks (1)"));
	assert_non_null(strstr(s, "- **parse\\_json** (head): failed"));
	assert_non_null(strstr(s, "]]&gt; &lt;tag a=\"&amp;\"&gt;"));
	assert_null(strchr(s, '\x01'));
	assert_null(strstr(s, "<tag"));
	assert_int_equal(count(s, "<pre>"), 1);
	assert_int_equal(count(s, "</pre>"), 1);
	assert_int_equal(count(s, "<details>"), count(s, "</details>"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void markdown_is_capped_below_the_summary_limit_with_a_note(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	/* ~20000 rows of ~300 bytes: far beyond 1 MB. */
	char id[256];
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	memcpy(id, "pkg/mod.py:f", 12);
	for (int i = 0; i < 20000; i++)
		push(f, "render_page", id, PG_METRIC_SELF,
		     i % 2 ? PG_VERDICT_REGRESSED : PG_VERDICT_UNCHANGED,
		     11.0 + i % 7);
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_markdown(&f->r, &out), 0);
	assert_true(out.len < PG_SUMMARY_MAX_BYTES);
	assert_true(out.len > PG_SUMMARY_MAX_BYTES / 2);
	assert_non_null(strstr(out.data, "Summary truncated"));
	assert_non_null(strstr(out.data, "more entries not shown"));
	assert_int_equal(count(out.data, "<details>"),
			 count(out.data, "</details>"));
	/* Whole rows only: the text before the note ends a line. */
	const char *note = strstr(out.data, "\n> [!NOTE]");
	assert_non_null(note);
	assert_int_equal(note[-1], '\n');
	pg_buf_release(&out);
	fixture_free(f);
}

/* ---- annotations ---------------------------------------------------- */

static void annotations_point_at_the_source_line(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_annotations(&f->r, &out), 0);
	assert_int_equal(count(out.data, "::error "), 3);
	assert_non_null(strstr(out.data,
			       "::error file=myapp/render.py,line=42,title="
			       "perfguard%3A myapp/render.py%3ATemplate."
			       "render self time +12.4%25 in render_page::"));
	/* Worst first: __init__ (+30%) before render (+12.4%). */
	assert_true(strstr(out.data, "Template.__init__") <
		    strstr(out.data, "Template.render"));
	assert_null(strstr(out.data, "::warning"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void annotations_escape_github_special_characters(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	f->verdicts.v[1].func_id = "m.py:a,b%c\r\n::error ::pwned";
	f->verdicts.v[1].file = "dir,x/a:b.py";
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_annotations(&f->r, &out), 0);
	assert_non_null(strstr(out.data, "file=dir%2Cx/a%3Ab.py,line=42,"));
	assert_non_null(strstr(out.data, "title=perfguard%3A m.py%3Aa%2Cb%25c"
					 "%0D%0A%3A%3Aerror %3A%3Apwned"));
	/* Every line is one command; nothing was injected. */
	size_t lines = 0;
	for (const char *p = out.data; *p; lines++) {
		assert_true(pg_str_starts(p, "::error ") ||
			    pg_str_starts(p, "::warning ") ||
			    pg_str_starts(p, "::notice "));
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		p = nl + 1;
	}
	assert_int_equal(lines, 3);
	assert_null(strchr(out.data, '\r'));
	pg_buf_release(&out);
	fixture_free(f);
}

static void annotations_cap_at_ten_per_benchmark_worst_first(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	static char ids[15][32];
	for (int i = 0; i < 15; i++) {
		snprintf(ids[i], sizeof(ids[i]), "m.py:f%02d", i);
		push(f, "parse_json", ids[i], PG_METRIC_SELF,
		     PG_VERDICT_REGRESSED, 11.0 + i);
	}
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_annotations(&f->r, &out), 0);
	/* 3 for render_page, 10 for parse_json, and one notice. */
	assert_int_equal(count(out.data, "::error "), 13);
	assert_int_equal(count(out.data, "::notice "), 1);
	assert_non_null(strstr(out.data, "5 more regressions in parse_json"));
	assert_non_null(strstr(out.data, "m.py%3Af14"));
	assert_non_null(strstr(out.data, "m.py%3Af05"));
	assert_null(strstr(out.data, "m.py%3Af04"));
	assert_true(strstr(out.data, "m.py%3Af14") <
		    strstr(out.data, "m.py%3Af13"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void annotations_warn_about_mismatch_and_failed_benchmarks(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	fixture_crash(f, 10000);
	f->r.fingerprint_mismatch = true;
	f->r.mismatch_what = "cpu";
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_annotations(&f->r, &out), 0);
	assert_int_equal(count(out.data, "::warning "), 2);
	assert_non_null(strstr(out.data, "environment mismatch::"));
	assert_non_null(strstr(out.data, "(cpu differs)"));
	assert_non_null(strstr(out.data, "benchmark parse_json failed on "
					 "head::"));
	assert_non_null(strstr(out.data, "%0A--- last 2048 bytes of output"));
	pg_buf_release(&out);
	fixture_free(f);
}

/* ---- json ----------------------------------------------------------- */

static void json_parses_back_with_every_verdict_and_field(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_json(&f->r, &out), 0);
	struct pg_json *j = NULL;
	assert_int_equal(pg_json_parse(out.data, out.len, &j), 0);
	int64_t i64;
	const char *s;
	bool b;
	assert_int_equal(pg_json_get_i64(j, "schema", &i64), 0);
	assert_int_equal(i64, 1);
	assert_int_equal(pg_json_get_str(j, "status", &s), 0);
	assert_string_equal(s, "regressed");
	assert_int_equal(pg_json_get_i64(j, "exit_code", &i64), 0);
	assert_int_equal(i64, 1);
	assert_int_equal(pg_json_get_i64(j, "regressions", &i64), 0);
	assert_int_equal(i64, 3);
	assert_int_equal(pg_json_get_str(j, "mode", &s), 0);
	assert_string_equal(s, "rerun");
	assert_int_equal(pg_json_get_bool(j, "fingerprint_mismatch", &b), 0);
	assert_false(b);
	const struct pg_json *base = pg_json_get_object(j, "base");
	assert_non_null(base);
	assert_int_equal(pg_json_get_str(base, "label", &s), 0);
	assert_string_equal(s, "main @ 1a2b3c4");

	const struct pg_json *vs = pg_json_get_array(j, "verdicts");
	assert_non_null(vs);
	assert_int_equal(vs->len, f->verdicts.n);
	const struct pg_json *v = vs->items[1];
	assert_int_equal(pg_json_get_str(v, "function", &s), 0);
	assert_string_equal(s, "myapp/render.py:Template.render");
	assert_int_equal(pg_json_get_str(v, "kind", &s), 0);
	assert_string_equal(s, "regressed");
	assert_int_equal(pg_json_get_str(v, "metric", &s), 0);
	assert_string_equal(s, "self");
	assert_int_equal(pg_json_get_i64(v, "line", &i64), 0);
	assert_int_equal(i64, 42);
	double d;
	assert_int_equal(pg_json_get_double(v, "change_pct", &d), 0);
	assert_true(d == 12.4);
	assert_int_equal(pg_json_get_double(v, "ci_hi_pct", &d), 0);
	assert_true(d == 12.4 + 2.5);
	assert_int_equal(pg_json_get_double(v, "q", &d), 0);
	assert_true(d == 0.01);
	const char *fields[] = {
	    "bench",  "file",	   "base_value",    "head_value", "ci_lo_pct",
	    "p",      "share_pct", "threshold_pct", "base_calls", "head_calls",
	    "base_n", "head_n",	   "statement"};
	for (size_t k = 0; k < sizeof(fields) / sizeof(*fields); k++)
		assert_non_null(pg_json_get(v, fields[k]));
	struct pg_buf line;
	pg_buf_init(&line, 0);
	pg_verdict_format(&f->verdicts.v[1], &line);
	assert_int_equal(pg_json_get_str(v, "statement", &s), 0);
	assert_string_equal(s, line.data);
	pg_buf_release(&line);
	/* The total has no function, the wall verdict's NaN p is null. */
	assert_int_equal(pg_json_get(vs->items[0], "function")->type,
			 PG_JSON_NULL);
	assert_int_equal(pg_json_get(vs->items[8], "p")->type, PG_JSON_NULL);
	/* "regressed" indexes the verdicts, worst first. */
	const struct pg_json *reg = pg_json_get_array(j, "regressed");
	assert_non_null(reg);
	assert_int_equal(reg->len, 3);
	assert_int_equal(reg->items[0]->integer, 3);
	assert_int_equal(reg->items[1]->integer, 2);
	assert_int_equal(reg->items[2]->integer, 1);
	pg_json_free(j);
	pg_buf_release(&out);
	fixture_free(f);
}

static void json_reports_failed_benchmarks_and_mismatch(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	fixture_crash(f, 200 * 1024);
	f->r.fingerprint_mismatch = true;
	f->r.mismatch_what = "python";
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_json(&f->r, &out), 0);
	struct pg_json *j = NULL;
	assert_int_equal(pg_json_parse(out.data, out.len, &j), 0);
	const char *s;
	int64_t i64;
	assert_int_equal(pg_json_get_str(j, "status", &s), 0);
	assert_string_equal(s, "error");
	assert_int_equal(pg_json_get_i64(j, "exit_code", &i64), 0);
	assert_int_equal(i64, 3);
	assert_int_equal(pg_json_get_str(j, "mismatch", &s), 0);
	assert_string_equal(s, "python");
	const struct pg_json *benches = pg_json_get_array(j, "benchmarks");
	assert_non_null(benches);
	assert_int_equal(benches->len, 2);
	const struct pg_json *head =
	    pg_json_get_object(benches->items[1], "head");
	assert_non_null(head);
	assert_int_equal(pg_json_get_str(head, "status", &s), 0);
	assert_string_equal(s, "failed");
	const struct pg_json *output = pg_json_get(head, "output");
	assert_non_null(output);
	assert_int_equal(output->type, PG_JSON_STRING);
	assert_true(output->len <= 3 * 64 * 1024);
	assert_int_equal(pg_json_get_i64(head, "output_dropped_bytes", &i64),
			 0);
	assert_true(i64 >= 200 * 1024 - 64 * 1024);
	pg_json_free(j);
	pg_buf_release(&out);
	fixture_free(f);
}

/* ---- terminal ------------------------------------------------------- */

static void terminal_fits_in_100_columns_without_color(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	fixture_crash(f, 50000);
	f->verdicts.v[2].func_id =
	    "some/very/long/package/path/that/goes/on/module.py:"
	    "Outer.Inner.method_with_a_long_name";
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_terminal(&f->r, false, &out), 0);
	assert_null(strchr(out.data, '\033'));
	assert_null(strchr(out.data, '\x01'));
	for (const char *p = out.data; *p;) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		size_t cols = 0;
		for (const char *q = p; q < nl; q++)
			if (((unsigned char)*q & 0xC0) != 0x80)
				cols++;
		if (cols > 100)
			fail_msg("line wider than 100: %.*s", (int)(nl - p), p);
		p = nl + 1;
	}
	const char *reg = strstr(out.data, "Regressions (3)");
	const char *imp = strstr(out.data, "Improvements (1)");
	const char *noise = strstr(out.data, "\nNoise\n");
	const char *failed = strstr(out.data, "Failed benchmarks (1)");
	const char *status = strstr(out.data, "ERROR: 1 benchmark failed to "
					      "run; 3 regressions found");
	assert_non_null(reg);
	assert_non_null(imp);
	assert_non_null(noise);
	assert_non_null(failed);
	assert_non_null(status);
	assert_true(reg < imp && imp < noise && noise < failed &&
		    failed < status);
	assert_non_null(strstr(out.data, "Inner.method_with_a_long_name"));
	assert_null(strstr(out.data, "some/very/long"));
	assert_non_null(strstr(out.data, "    …"));
	assert_non_null(strstr(out.data, "rounds 10/10"));
	assert_non_null(strstr(out.data, "total CI ±2.5%"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void terminal_never_cuts_a_figure(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_verdict *v = &f->verdicts.v[1];
	v->change_pct = 887.2;
	v->ci_lo_pct = 700.4;
	v->ci_hi_pct = 1175.3;
	v->head_value = v->base_value * 9.872;
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_terminal(&f->r, false, &out), 0);
	assert_non_null(strstr(out.data, "+887.2% [+700.4%, +1175.3%]"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void terminal_uses_color_only_when_asked(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_terminal(&f->r, true, &out), 0);
	assert_non_null(strstr(out.data, "\033[31m"));
	assert_non_null(strstr(out.data, "FAIL: 3 regressions"));
	pg_buf_release(&out);
	fixture_free(f);
}

static void terminal_says_ok_for_an_empty_check(void **state)
{
	(void)state;
	struct pg_verdicts none = {0};
	struct pg_check_report r = {.verdicts = &none};
	struct pg_buf out;
	pg_buf_init(&out, 0);
	assert_int_equal(pg_report_terminal(&r, false, &out), 0);
	assert_non_null(strstr(out.data, "OK: no regressions"));
	pg_buf_release(&out);
}

/* ---- caps ----------------------------------------------------------- */

static void writers_fail_with_limit_on_a_small_capped_buffer(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct pg_buf out;
	pg_buf_init(&out, 64);
	pg_buf_puts(&out, "keep");
	assert_int_equal(pg_report_junit(&f->r, PG_JUNIT_STRICT, &out),
			 PG_ELIMIT);
	assert_int_equal(pg_report_json(&f->r, &out), PG_ELIMIT);
	assert_int_equal(pg_report_annotations(&f->r, &out), PG_ELIMIT);
	assert_int_equal(pg_report_terminal(&f->r, false, &out), PG_ELIMIT);
	assert_string_equal(out.data, "keep");
	pg_buf_release(&out);
	fixture_free(f);
}

/* ---- samples for tests/report --------------------------------------- */

static int write_sample(const char *dir, const char *name,
			const struct pg_check_report *r,
			enum pg_junit_flavor flavor)
{
	struct pg_buf out;
	pg_buf_init(&out, 0);
	int rc = pg_report_junit(r, flavor, &out);
	char *path = pg_path_join(dir, name);
	if (!rc)
		rc = pg_file_write_atomic(path, out.data, out.len);
	if (rc)
		fprintf(stderr, "report_test: %s: %s\n", path,
			pg_error_message());
	free(path);
	pg_buf_release(&out);
	return rc;
}

/* The other formats of r, for people and for consumers' own parsers. */
static int write_others(const char *dir, const char *stem,
			const struct pg_check_report *r)
{
	static const char *ext[] = {"txt", "md", "json", "annotations"};
	int rc = 0;
	for (int k = 0; !rc && k < 4; k++) {
		struct pg_buf out;
		pg_buf_init(&out, 0);
		rc = k == 0   ? pg_report_terminal(r, false, &out)
		     : k == 1 ? pg_report_markdown(r, &out)
		     : k == 2 ? pg_report_json(r, &out)
			      : pg_report_annotations(r, &out);
		char *name = pg_asprintf("%s/%s.%s", dir, stem, ext[k]);
		if (!rc)
			rc = pg_file_write_atomic(name, out.data, out.len);
		if (rc)
			fprintf(stderr, "report_test: %s: %s\n", name,
				pg_error_message());
		free(name);
		pg_buf_release(&out);
	}
	return rc;
}

static int write_samples(const char *dir)
{
	int rc = pg_mkdirs(dir, 0755);
	struct fixture *f = fixture_new();
	if (!rc)
		rc = write_others(dir, "regressions", &f->r);
	if (!rc)
		rc = write_sample(dir, "strict-regressions.xml", &f->r,
				  PG_JUNIT_STRICT);
	if (!rc)
		rc = write_sample(dir, "annotated-regressions.xml", &f->r,
				  PG_JUNIT_ANNOTATED);
	fixture_crash(f, 1024 * 1024);
	pg_results_find(&f->base, "render_page")->status = PG_BENCH_TIMEOUT;
	f->verdicts.v[1].func_id = "m.py:<evil>\"&'\x01\xff]]>";
	f->r.fingerprint_mismatch = true;
	f->r.mismatch_what = "python";
	if (!rc)
		rc = write_others(dir, "hostile", &f->r);
	if (!rc)
		rc = write_sample(dir, "strict-hostile.xml", &f->r,
				  PG_JUNIT_STRICT);
	if (!rc)
		rc = write_sample(dir, "annotated-hostile.xml", &f->r,
				  PG_JUNIT_ANNOTATED);
	fixture_free(f);
	struct pg_verdicts none = {0};
	struct pg_check_report empty = {.verdicts = &none};
	if (!rc)
		rc = write_sample(dir, "strict-empty.xml", &empty,
				  PG_JUNIT_STRICT);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-samples") == 0)
		return write_samples(argv[2]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		sanitise_replaces_invalid_bytes_and_forbidden_chars),
	    cmocka_unit_test(sanitise_keeps_valid_text_byte_for_byte),
	    cmocka_unit_test(junit_strict_validates_against_jenkins_schema),
	    cmocka_unit_test(
		junit_has_one_suite_per_benchmark_and_case_per_judged_function),
	    cmocka_unit_test(junit_failure_message_is_the_verdict_line),
	    cmocka_unit_test(junit_times_have_at_most_three_decimals),
	    cmocka_unit_test(
		junit_annotated_adds_file_and_line_strict_does_not),
	    cmocka_unit_test(
		junit_crash_is_an_error_with_bounded_sanitised_output),
	    cmocka_unit_test(junit_timeout_and_skip_are_typed),
	    cmocka_unit_test(junit_escapes_hostile_ids_and_labels),
	    cmocka_unit_test(junit_of_an_empty_check_validates),
	    cmocka_unit_test(
		markdown_lists_regressions_worst_first_then_improvements),
	    cmocka_unit_test(markdown_escapes_pipes_and_backticks_in_ids),
	    cmocka_unit_test(markdown_headline_is_green_without_regressions),
	    cmocka_unit_test(
		markdown_warns_about_mismatch_and_shows_crash_output),
	    cmocka_unit_test(
		markdown_is_capped_below_the_summary_limit_with_a_note),
	    cmocka_unit_test(annotations_point_at_the_source_line),
	    cmocka_unit_test(annotations_escape_github_special_characters),
	    cmocka_unit_test(annotations_cap_at_ten_per_benchmark_worst_first),
	    cmocka_unit_test(
		annotations_warn_about_mismatch_and_failed_benchmarks),
	    cmocka_unit_test(json_parses_back_with_every_verdict_and_field),
	    cmocka_unit_test(json_reports_failed_benchmarks_and_mismatch),
	    cmocka_unit_test(terminal_fits_in_100_columns_without_color),
	    cmocka_unit_test(terminal_never_cuts_a_figure),
	    cmocka_unit_test(terminal_uses_color_only_when_asked),
	    cmocka_unit_test(terminal_says_ok_for_an_empty_check),
	    cmocka_unit_test(writers_fail_with_limit_on_a_small_capped_buffer),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
