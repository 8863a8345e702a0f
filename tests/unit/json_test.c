/*
 * json_test.c - unit tests of the JSON writer and the strict reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perfguard/util.h"

static struct pg_json *parse_ok(const char *text)
{
	struct pg_json *j = NULL;
	int rc = pg_json_parse(text, strlen(text), &j);
	if (rc)
		fail_msg("parse of %s failed: %s", text, pg_error_message());
	return j;
}

static void assert_parse_fails(const char *text, size_t len, const char *where)
{
	struct pg_json *j = (struct pg_json *)1;
	int rc = pg_json_parse(text, len, &j);
	if (rc != PG_EINVALID)
		fail_msg("'%.*s' parsed but must not", (int)len, text);
	assert_null(j);
	if (where && !pg_str_starts(pg_error_message(), where))
		fail_msg("'%.*s': error '%s' does not start with '%s'",
			 (int)len, text, pg_error_message(), where);
}

/* ---- writer ---------------------------------------------------------- */

static void writer_separates_items_with_commas(void **state)
{
	(void)state;
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, false);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "a");
	pg_jw_int(&w, -3);
	pg_jw_key(&w, "b");
	pg_jw_arr_begin(&w);
	pg_jw_uint(&w, UINT64_MAX);
	pg_jw_bool(&w, true);
	pg_jw_null(&w);
	pg_jw_str(&w, NULL);
	pg_jw_obj_begin(&w);
	pg_jw_obj_end(&w);
	pg_jw_arr_begin(&w);
	pg_jw_arr_end(&w);
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "c");
	pg_jw_str(&w, "x");
	pg_jw_obj_end(&w);
	assert_string_equal(b.data, "{\"a\":-3,\"b\":[18446744073709551615,"
				    "true,null,null,{},[]],\"c\":\"x\"}");
	pg_buf_release(&b);
}

static void pretty_writer_output_parses_to_same_tree(void **state)
{
	(void)state;
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, true);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "list");
	pg_jw_arr_begin(&w);
	pg_jw_int(&w, 1);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "k");
	pg_jw_str(&w, "v:");
	pg_jw_obj_end(&w);
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "empty");
	pg_jw_obj_begin(&w);
	pg_jw_obj_end(&w);
	pg_jw_obj_end(&w);
	assert_non_null(strchr(b.data, '\n'));
	struct pg_json *j = parse_ok(b.data);
	const struct pg_json *list = pg_json_get_array(j, "list");
	assert_non_null(list);
	assert_int_equal(list->len, 2);
	assert_int_equal(list->items[0]->integer, 1);
	const char *v;
	assert_int_equal(pg_json_get_str(list->items[1], "k", &v), 0);
	assert_string_equal(v, "v:");
	assert_non_null(pg_json_get_object(j, "empty"));
	pg_json_free(j);
	pg_buf_release(&b);
}

static void escape_handles_controls_quotes_and_bad_utf8(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	const char in[] = "a\"\\\n\t\x01\x7f\xc3\xa9\xff\xed\xa0\x80z\0y";
	pg_json_escape(&b, in, sizeof(in) - 1);
	assert_string_equal(b.data,
			    "\"a\\\"\\\\\\n\\t\\u0001\x7f\xc3\xa9"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "z\\u0000y\"");
	/* And the result is valid JSON decoding to the replaced text. */
	struct pg_json *j = parse_ok(b.data);
	assert_int_equal(j->type, PG_JSON_STRING);
	assert_int_equal(j->len, sizeof(in) - 1 - 4 + 4 * 3);
	assert_memory_equal(j->string + j->len - 3, "z\0y", 3);
	pg_json_free(j);
	pg_buf_release(&b);
}

static void doubles_round_trip_exactly_and_nonfinite_is_null(void **state)
{
	(void)state;
	const double values[] = {0.1,	    1.0 / 3.0,
				 -2.5e-300, 1.7976931348623157e308,
				 4.9e-324,  123456789.0};
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, false);
	pg_jw_arr_begin(&w);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		pg_jw_double(&w, values[i]);
	pg_jw_double(&w, NAN);
	pg_jw_double(&w, -INFINITY);
	pg_jw_arr_end(&w);
	struct pg_json *j = parse_ok(b.data);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_true(j->items[i]->number == values[i]);
	assert_int_equal(j->items[6]->type, PG_JSON_NULL);
	assert_int_equal(j->items[7]->type, PG_JSON_NULL);
	pg_json_free(j);
	pg_buf_release(&b);
}

/* ---- reader ---------------------------------------------------------- */

static void parse_keeps_int64_literals_exact(void **state)
{
	(void)state;
	struct pg_json *j = parse_ok("[9223372036854775807,"
				     "-9223372036854775808,9007199254740993,"
				     "9223372036854775808,-0,1.0,1e2]");
	assert_true(j->items[0]->is_integer);
	assert_true(j->items[0]->integer == INT64_MAX);
	assert_true(j->items[1]->integer == INT64_MIN);
	assert_true(j->items[2]->integer == 9007199254740993LL);
	assert_false(j->items[3]->is_integer);
	assert_true(j->items[3]->number == 9223372036854775808.0);
	assert_true(j->items[4]->is_integer);
	assert_int_equal(j->items[4]->integer, 0);
	assert_false(j->items[5]->is_integer);
	assert_false(j->items[6]->is_integer);
	assert_true(j->items[6]->number == 100.0);
	pg_json_free(j);
}

static void parse_decodes_escapes_and_surrogate_pairs(void **state)
{
	(void)state;
	struct pg_json *j =
	    parse_ok("\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\r\\u0041\"");
	assert_string_equal(j->string, "\xc3\xa9\xf0\x9f\x98\x80/\b\f\rA");
	pg_json_free(j);
}

static void parse_reports_line_and_column(void **state)
{
	(void)state;
	const char doc[] = "{\n  \"a\": 1,\n  \"b\": tru\n}";
	assert_parse_fails(doc, strlen(doc), "3:8:");
	assert_parse_fails("[1,\n2,]", 7, "2:3:");
}

static void parse_rejects_what_rfc_8259_forbids(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    " ",
	    "[1,]",
	    "{\"a\":1,}",
	    "01",
	    "1.",
	    ".5",
	    "1e",
	    "+1",
	    "-",
	    "NaN",
	    "Infinity",
	    "'x'",
	    "[1 2]",
	    "{\"a\" 1}",
	    "{1:2}",
	    "tru",
	    "nul",
	    "[",
	    "{",
	    "\"abc",
	    "\"\\x\"",
	    "\"\\u12\"",
	    "\"\\ud800\"",
	    "\"\\udc00\"",
	    "\"\\ud800\\u0041\"",
	    "1 2",
	    "// c\n1",
	    "\xef\xbb\xbf{}",
	    "{\"a\":1,\"a\":2}",
	    "\"\\u0000\":1",
	    "{\"a\\u0000\":1}",
	    "[1]x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_parse_fails(bad[i], strlen(bad[i]), NULL);
	/* Raw control characters and NUL inside strings. */
	assert_parse_fails("\"a\tb\"", 5, "1:3:");
	assert_parse_fails("\"a\0b\"", 5, "1:3:");
}

static void parse_rejects_invalid_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "\"\xff\"",
	    "\"\xc0\xaf\"",	    /* overlong '/' */
	    "\"\xed\xa0\x80\"",	    /* encoded surrogate */
	    "\"\xf4\x90\x80\x80\"", /* beyond U+10FFFF */
	    "\"\xe2\x82\"",	    /* truncated */
	    "\"\x80\"",		    /* stray continuation */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_parse_fails(bad[i], strlen(bad[i]), "1:2:");
	struct pg_json *j = parse_ok("\"\xf0\x9f\x98\x80\xe2\x82\xac\"");
	assert_int_equal(j->len, 7);
	pg_json_free(j);
}

static void parse_caps_nesting_at_256(void **state)
{
	(void)state;
	char doc[600];
	for (int depth = 256; depth <= 257; depth++) {
		memset(doc, '[', (size_t)depth);
		memset(doc + depth, ']', (size_t)depth);
		struct pg_json *j = NULL;
		int rc = pg_json_parse(doc, 2 * (size_t)depth, &j);
		if (depth == 256) {
			assert_int_equal(rc, 0);
			pg_json_free(j);
		} else {
			assert_int_equal(rc, PG_EINVALID);
			assert_non_null(strstr(pg_error_message(), "256"));
		}
	}
}

static void typed_getters_name_the_key_on_mismatch(void **state)
{
	(void)state;
	struct pg_json *j = parse_ok("{\"s\":\"x\",\"n\":-1,\"d\":2.5,"
				     "\"b\":false,\"big\":1e300}");
	const char *s;
	int64_t i;
	uint64_t u;
	double d;
	bool b;
	assert_int_equal(pg_json_get_str(j, "s", &s), 0);
	assert_int_equal(pg_json_get_i64(j, "n", &i), 0);
	assert_int_equal(i, -1);
	assert_int_equal(pg_json_get_u64(j, "n", &u), PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "'n'"));
	assert_int_equal(pg_json_get_double(j, "d", &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(pg_json_get_i64(j, "d", &i), PG_EINVALID);
	assert_int_equal(pg_json_get_bool(j, "b", &b), 0);
	assert_false(b);
	assert_int_equal(pg_json_get_str(j, "n", &s), PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "must be a string"));
	assert_int_equal(pg_json_get_i64(j, "big", &i), PG_EINVALID);
	assert_int_equal(pg_json_get_bool(j, "missing", &b), PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "missing key 'missing'"));
	assert_null(pg_json_get_array(j, "s"));
	assert_null(pg_json_get(j->items[0], "s"));
	pg_json_free(j);
}

static void large_objects_detect_duplicate_keys(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_buf_putc(&b, '{');
	for (int i = 0; i < 100; i++)
		pg_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	pg_buf_puts(&b, ",\"k42\":0}");
	assert_parse_fails(b.data, b.len, "1:1:");
	b.data[b.len - 5] = '9'; /* "k49" -> still a duplicate */
	assert_parse_fails(b.data, b.len, NULL);
	memcpy(b.data + b.len - 7, "z42", 3); /* "z42" is new */
	struct pg_json *j = parse_ok(b.data);
	assert_int_equal(j->len, 101);
	pg_json_free(j);
	pg_buf_release(&b);
}

/* ---- packed integer arrays and the arena ----------------------------- */

static struct pg_json *parse_packed_ok(const char *text)
{
	struct pg_json *j = NULL;
	int rc = pg_json_parse_opts(text, strlen(text), PG_JSON_PACK_INTS, &j);
	if (rc)
		fail_msg("packed parse of %s failed: %s", text,
			 pg_error_message());
	return j;
}

static void packed_parse_stores_integer_arrays_as_int64(void **state)
{
	(void)state;
	const char *doc = "{\"c\":[1,-2,9223372036854775807,"
			  "-9223372036854775808,0,-0,123456789012345678]}";
	struct pg_json *j = parse_packed_ok(doc);
	const struct pg_json *c = pg_json_get_array(j, "c");
	assert_non_null(c);
	assert_int_equal(c->len, 7);
	assert_null(c->items);
	assert_non_null(c->ints);
	assert_true(c->ints[0] == 1);
	assert_true(c->ints[1] == -2);
	assert_true(c->ints[2] == INT64_MAX);
	assert_true(c->ints[3] == INT64_MIN);
	assert_true(c->ints[4] == 0 && c->ints[5] == 0);
	assert_true(c->ints[6] == 123456789012345678LL);
	pg_json_free(j);
	/* Without the flag the same array has one node per item. */
	j = parse_ok(doc);
	c = pg_json_get_array(j, "c");
	assert_null(c->ints);
	assert_non_null(c->items);
	assert_true(c->items[3]->integer == INT64_MIN);
	pg_json_free(j);
}

static void packed_parse_keeps_nodes_for_mixed_arrays(void **state)
{
	(void)state;
	struct pg_json *j =
	    parse_packed_ok("[[1,2,2.5,3],[4,\"x\"],[5,18446744073709551616],"
			    "[],[[6]],[7,\n 8, null]]");
	assert_null(j->ints);
	assert_int_equal(j->len, 6);
	const struct pg_json *a = j->items[0];
	assert_null(a->ints);
	assert_int_equal(a->len, 4);
	assert_true(a->items[0]->is_integer && a->items[0]->integer == 1);
	assert_true(a->items[1]->is_integer && a->items[1]->integer == 2);
	assert_false(a->items[2]->is_integer);
	assert_true(a->items[2]->number == 2.5);
	assert_true(a->items[3]->integer == 3 && a->items[3]->number == 3.0);
	/* Items that were packed before the switch keep their position. */
	assert_int_equal(a->items[1]->line, 1);
	assert_int_equal(a->items[1]->col, 5);
	assert_string_equal(j->items[1]->items[1]->string, "x");
	/* Beyond int64: a double, so the array is not packed. */
	assert_false(j->items[2]->items[1]->is_integer);
	assert_true(j->items[2]->items[1]->number == 18446744073709551616.0);
	assert_int_equal(j->items[3]->len, 0);
	assert_null(j->items[3]->items);
	assert_null(j->items[3]->ints);
	assert_non_null(j->items[4]->items[0]->ints);
	const struct pg_json *n = j->items[5];
	assert_int_equal(n->items[1]->line, 2);
	assert_int_equal(n->items[1]->col, 2);
	assert_int_equal(n->items[2]->type, PG_JSON_NULL);
	pg_json_free(j);
}

static void packed_parse_is_as_strict_as_the_plain_one(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "[1,]",	"[01]",	   "[-]",
	    "[1.]",	"[1e]",	   "[1 2]",
	    "[1",	"[1,2",	   "[-01]",
	    "[1,x]",	"[1,\"a]", "[1]]",
	    "[1,[2,]]", "[00]",	   "[1e+]",
	    "[--1]",	"[1,-]",   "[1.e5]",
	    "[1,2]x",	"[1,{}",   "{\"a\":[1,2],\"a\":[3]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pg_json *j = NULL;
		assert_int_equal(pg_json_parse(bad[i], strlen(bad[i]), &j),
				 PG_EINVALID);
		char *plain = strdup(pg_error_message());
		j = (struct pg_json *)1;
		int rc = pg_json_parse_opts(bad[i], strlen(bad[i]),
					    PG_JSON_PACK_INTS, &j);
		if (rc != PG_EINVALID || strcmp(plain, pg_error_message()))
			fail_msg("'%s': packed gives '%s', plain '%s'", bad[i],
				 pg_error_message(), plain);
		assert_null(j);
		free(plain);
	}
	/* Depth counts packed items too: 256 arrays may hold no number. */
	char doc[600];
	memset(doc, '[', 256);
	doc[256] = '1';
	memset(doc + 257, ']', 256);
	struct pg_json *j = NULL;
	assert_int_equal(pg_json_parse_opts(doc, 513, PG_JSON_PACK_INTS, &j),
			 PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "256"));
	assert_int_equal(
	    pg_json_parse_opts(doc + 1, 511, PG_JSON_PACK_INTS, &j), 0);
	pg_json_free(j);
}

static void duplicate_keys_are_found_across_nested_objects(void **state)
{
	(void)state;
	/* Inner objects reuse the outer keys without being duplicates. */
	struct pg_json *j = parse_ok("{\"a\":{\"a\":1,\"b\":{\"a\":2}},"
				     "\"b\":{\"b\":3,\"a\":4}}");
	assert_int_equal(pg_json_get(pg_json_get(j, "b"), "a")->integer, 4);
	pg_json_free(j);
	assert_parse_fails("{\"a\":{\"a\":1,\"b\":2},\"b\":{\"a\":1},\"a\":3}",
			   strlen("{\"a\":{\"a\":1,\"b\":2},\"b\":{\"a\":1},"
				  "\"a\":3}"),
			   "1:1: duplicate");
	/* An escaped key equals its plain spelling. */
	assert_parse_fails("[{\"a\":1,\"\\u0061\":2}]", 21, "1:2: duplicate");
}

static void large_documents_parse_across_arena_blocks(void **state)
{
	(void)state;
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, false);
	/* A string far larger than an arena block, then many small values
	 * after it, and a long integer column. */
	size_t big = 3u << 20;
	char *s = malloc(big);
	for (size_t i = 0; i < big; i++)
		s[i] = (char)('a' + i % 26);
	pg_jw_arr_begin(&w);
	pg_jw_strn(&w, s, big);
	for (int i = 0; i < 50000; i++) {
		pg_jw_obj_begin(&w);
		pg_jw_key(&w, i % 2 ? "odd" : "even\n");
		pg_jw_int(&w, i);
		pg_jw_obj_end(&w);
	}
	pg_jw_arr_begin(&w);
	for (int i = 0; i < 300000; i++)
		pg_jw_int(&w, (int64_t)i * -1000003);
	pg_jw_arr_end(&w);
	pg_jw_arr_end(&w);
	for (unsigned flags = 0; flags <= PG_JSON_PACK_INTS; flags++) {
		struct pg_json *j = NULL;
		assert_int_equal(pg_json_parse_opts(b.data, b.len, flags, &j),
				 0);
		assert_int_equal(j->len, 50002);
		assert_int_equal(j->items[0]->len, big);
		assert_memory_equal(j->items[0]->string, s, big);
		assert_int_equal(pg_json_get(j->items[50000], "odd")->integer,
				 49999);
		assert_int_equal(pg_json_get(j->items[1], "even\n")->integer,
				 0);
		const struct pg_json *col = j->items[50001];
		assert_int_equal(col->len, 300000);
		for (size_t i = 0; i < col->len; i++) {
			int64_t v =
			    flags ? col->ints[i] : col->items[i]->integer;
			if (v != (int64_t)i * -1000003)
				fail_msg("item %zu is %lld", i, (long long)v);
		}
		pg_json_free(j);
	}
	free(s);
	pg_buf_release(&b);
}

static void writer_formats_integer_extremes(void **state)
{
	(void)state;
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, true);
	pg_jw_arr_begin(&w);
	pg_jw_int(&w, INT64_MIN);
	pg_jw_int(&w, INT64_MAX);
	pg_jw_int(&w, 0);
	pg_jw_uint(&w, 0);
	pg_jw_uint(&w, UINT64_MAX);
	pg_jw_int(&w, -7);
	pg_jw_arr_end(&w);
	assert_string_equal(b.data, "[\n  -9223372036854775808,\n"
				    "  9223372036854775807,\n  0,\n  0,\n"
				    "  18446744073709551615,\n  -7\n]");
	pg_buf_reset(&b);
	pg_jw_init(&w, &b, false);
	pg_jw_int(&w, -1);
	assert_string_equal(b.data, "-1");
	pg_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(writer_separates_items_with_commas),
	    cmocka_unit_test(pretty_writer_output_parses_to_same_tree),
	    cmocka_unit_test(escape_handles_controls_quotes_and_bad_utf8),
	    cmocka_unit_test(doubles_round_trip_exactly_and_nonfinite_is_null),
	    cmocka_unit_test(parse_keeps_int64_literals_exact),
	    cmocka_unit_test(parse_decodes_escapes_and_surrogate_pairs),
	    cmocka_unit_test(parse_reports_line_and_column),
	    cmocka_unit_test(parse_rejects_what_rfc_8259_forbids),
	    cmocka_unit_test(parse_rejects_invalid_utf8),
	    cmocka_unit_test(parse_caps_nesting_at_256),
	    cmocka_unit_test(typed_getters_name_the_key_on_mismatch),
	    cmocka_unit_test(large_objects_detect_duplicate_keys),
	    cmocka_unit_test(packed_parse_stores_integer_arrays_as_int64),
	    cmocka_unit_test(packed_parse_keeps_nodes_for_mixed_arrays),
	    cmocka_unit_test(packed_parse_is_as_strict_as_the_plain_one),
	    cmocka_unit_test(duplicate_keys_are_found_across_nested_objects),
	    cmocka_unit_test(large_documents_parse_across_arena_blocks),
	    cmocka_unit_test(writer_formats_integer_extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
